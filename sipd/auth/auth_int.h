/*
 * auth_int: what the files of sipd/auth share and nothing outside sees:
 * the instance structure, the nonce layout, the shared state with its
 * three bounded tables (nonce counts, failed attempts, challenge rates)
 * and the hashing helpers.
 */
#ifndef SIPD_AUTH_INT_H
#define SIPD_AUTH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipd/auth/auth.h"
#include "sipd/msg/siphash.h"

/*
 * Nonce layout before base64url: issue time (8 bytes, big-endian), salt
 * (8 bytes: a random instance id and a counter, so two challenges issued
 * in the same second to hosts behind one NAT differ), and the first 16
 * bytes of the HMAC.  43 characters once encoded (no padding).
 */
#define AUTH_NONCE_TS 8
#define AUTH_NONCE_SALT 8
#define AUTH_NONCE_MAC 16
#define AUTH_NONCE_RAW (AUTH_NONCE_TS + AUTH_NONCE_SALT + AUTH_NONCE_MAC)
#define AUTH_NONCE_ID (AUTH_NONCE_TS + AUTH_NONCE_SALT)
#define AUTH_NONCE_LEN 43
/* A nonce from up to this many seconds ahead is accepted (clock steps). */
#define AUTH_NONCE_SKEW 5

#define AUTH_SECRET_MIN 16
#define AUTH_SECRET_MAX 64

/* Entries per set of the set-associative tables. */
#define AUTH_WAYS 8
/* Mutexes of a shared state: set i is under lock i % AUTH_LOCKS. */
#define AUTH_LOCKS 64

/* Longest method and uri whose HA2 struct auth keeps (bytes). */
#define AUTH_HA2_TEXT 240

/* Address key: family byte, then 4 (IPv4) or 16 (IPv6) bytes. */
#define AUTH_ADDR_KEY 17

/* One nonce that authenticated a request (RFC 7616 3.3 nonce count). */
struct auth_nc {
	uint8_t id[AUTH_NONCE_ID]; /* time and salt of the nonce */
	uint32_t nc;               /* highest count accepted */
	int64_t issued;
	int64_t expires; /* 0: free */
};

/* Failures of one source (IPv4 address, IPv6 /64). */
struct auth_fail {
	uint8_t key[AUTH_ADDR_KEY];
	bool used;
	uint32_t count;
	int64_t window_start;
	int64_t blocked_until; /* 0: not blocked */
	int64_t last;
};

/* Challenges sent to one source (IPv4 address, IPv6 /64) in a second. */
struct auth_rate {
	uint8_t key[AUTH_ADDR_KEY];
	bool used;
	uint32_t count;
	int64_t second;
};

/*
 * The tables every worker's struct auth shares, so that a nonce's count
 * and a source's failures and challenges are one whatever the worker
 * (requests are spread by Call-ID, which the peer chooses).  Each table
 * is split by set; set i of every table is under locks[i % AUTH_LOCKS],
 * held for one set's lookup and update, never across a call out.
 */
struct auth_state {
	pthread_mutex_t locks[AUTH_LOCKS];
	uint8_t hash_key[16]; /* siphash key for the table indexes */

	struct auth_nc *nc;
	uint32_t nc_sets; /* power of two */
	/*
	 * Nonces issued up to this time whose set is under lock i may have
	 * lost their entry.
	 */
	int64_t nc_forgot[AUTH_LOCKS];

	struct auth_fail *fail;
	uint32_t fail_sets; /* power of two */
	/*
	 * The latest end of a block ever set (blocked_until): from then on
	 * no source is blocked, and a look-up needs neither hash nor lock.
	 * Raised before the entry is written, under the entry's lock.
	 */
	_Atomic int64_t block_end;

	struct auth_rate *rate;
	uint32_t rate_sets; /* power of two */
};

struct auth {
	struct auth_settings set;
	uint8_t secret[AUTH_SECRET_MAX];
	size_t secret_len;
	uint32_t instance;    /* random, first half of every salt */
	uint32_t counter;     /* second half */
	char dummy_ha1[AUTH__ALG_COUNT][AUTH_HEX_SIZE];
	uint8_t nonce_key[16]; /* the nonces' MAC key, from the secret */
	struct auth_state *st;
	bool own_st;          /* st made by auth_new_shared(), freed with a */
	/*
	 * The last HA2 (RFC 7616 3.4.3: H(method ":" uri)) and what it
	 * hashed: the REGISTERs to one registrar all hash the same Method
	 * and Request-URI.  Nothing secret; this worker's own.
	 */
	struct {
		bool valid;
		enum auth_alg alg;
		uint16_t mlen, ulen;
		char text[AUTH_HA2_TEXT]; /* the method, then the uri */
		char hex[AUTH_HEX_SIZE];
	} ha2;
};

/* digest.c */
int64_t auth_now(const struct auth *a);
int auth_hash_hex(enum auth_alg alg, const struct sv *parts, size_t n,
    char *out);
/*
 * auth_digest_response() with HA2 from a's last one when method and uri
 * are the ones it hashed, else hashed and kept.  ha1 is hex the caller
 * checked (auth_is_hex()); only its length is checked again.
 */
int auth_digest_response_kept(struct auth *a, enum auth_alg alg, bool sess,
    struct sv ha1, struct sv nonce, struct sv nc, struct sv cnonce,
    struct sv qop, struct sv method, struct sv uri, char *out);
bool auth_is_hex(struct sv s, size_t len);
void auth_derive_dummy(struct auth *a);
size_t auth_addr_key(const struct sockaddr *sa, bool prefix64,
    uint8_t key[AUTH_ADDR_KEY]);
void auth_nonce_make(struct auth *a, int64_t now, const struct sockaddr *src,
    const char *realm, char out[AUTH_NONCE_LEN + 1]);
int auth_nonce_verify(const struct auth *a, struct sv nonce,
    const struct sockaddr *src, struct sv realm, int64_t *issued,
    uint8_t id[AUTH_NONCE_ID]);

/* table.c */
/*
 * Record count nc for the nonce id issued at issued.  Returns 0 when nc is
 * above the last count seen (recorded), -EALREADY for a replay, -ESTALE
 * when the nonce's entry may have been evicted.
 */
int auth_nc_use(struct auth *a, const uint8_t id[AUTH_NONCE_ID],
    int64_t issued, uint32_t nc, int64_t now);
/*
 * The nonce lifetime grows to lifetime: live entries follow it, and the
 * nonces whose entries died under the old one count as forgotten.
 */
void auth_nc_relife(struct auth *a, uint32_t lifetime, int64_t now);
/* Count a failure of src; true when it now blocks the source. */
bool auth_fail_add(struct auth *a, const struct sockaddr *src, int64_t now,
    uint32_t *count);
bool auth_fail_blocked(struct auth *a, const struct sockaddr *src,
    int64_t now, uint32_t *remaining);
/* Count a challenge to src; false when src is over the rate. */
bool auth_rate_take(struct auth *a, const struct sockaddr *src, int64_t now);

#endif
