/*
 * auth: Digest authentication of requests (RFC 3261 section 22, RFC 7616,
 * RFC 8760), the whole public face of sipd/auth.
 *
 * A struct auth belongs to one worker (DESIGN.md, "Threads and
 * ownership"): its settings, its nonce key and its nonce salt are that
 * worker's.  What must be one per nonce or per source whatever worker a
 * request lands on (the nonce counts, the failed attempts and the
 * challenge budget) lives in a struct auth_state that the workers share:
 * its tables are split into shards, each under its own mutex, held only
 * for the lookup of one set.  Workers that must accept each other's
 * nonces share the nonce key through auth_set_secret().
 *
 * Nonces are stateless: base64url(issue time || salt || HMAC-SHA256(key,
 * issue time || salt || source address || realm)), so any worker holding
 * the key verifies them without an entry per challenge.  State is kept
 * only after a successful authentication (the highest nonce count seen,
 * for replay protection with qop=auth), after a failure (the count of
 * failures per source, for the failed-attempt limit) and per challenge
 * (the challenges sent to a source this second, for the challenge rate).
 * The tables are bounded.
 *
 * Accounts are given to auth_check() through a lookup callback that
 * returns the stored HA1 (RFC 7616 3.4.2); passwords are never needed.
 *
 * Time is read from the clock of struct auth_settings: whole seconds of
 * CLOCK_REALTIME by default, so that nodes sharing the nonce key agree on
 * nonce ages.  Tests give a clock of their own.
 */
#ifndef SIPD_AUTH_H
#define SIPD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sipd/msg/msg.h"

struct auth;

/* Hash algorithms (RFC 7616 3.3, RFC 8760 2). */
enum auth_alg {
	AUTH_ALG_MD5,
	AUTH_ALG_SHA256,
	AUTH__ALG_COUNT
};

#define AUTH_ALG_BIT(alg) (1u << (alg))

/* Hex digits of a hash (32, 64), and room for the longest with its NUL. */
size_t auth_alg_hexlen(enum auth_alg alg);
#define AUTH_HEX_SIZE 65
/* The algorithm's name as in a challenge: "MD5", "SHA-256". */
const char *auth_alg_name(enum auth_alg alg);

/* Longest user name auth_check() accepts (bytes, after unquoting). */
#define AUTH_USER_MAX 128
/* Room auth_challenge() needs for all challenges of one realm. */
#define AUTH_CHALLENGE_SIZE 1536
/* Most values auth_challenge() gives: a Digest one per algorithm, NTLM. */
#define AUTH_CHALLENGES_MAX 3

/* Clock: seconds since any fixed origin, the same for every call. */
typedef int64_t auth_clock_fn(void *arg);

struct auth_settings {
	uint32_t nonce_lifetime; /* seconds a nonce is fresh (300) */
	unsigned algs;           /* AUTH_ALG_BIT()s offered (MD5, SHA-256) */
	bool advertise_digest;   /* Digest challenges (true; see below) */
	bool advertise_auth;     /* offer qop="auth" (true) */
	bool advertise_ntlm;     /* add an NTLM challenge (false) */
	bool sha256_first;       /* SHA-256 challenge before MD5 (false) */
	/*
	 * Accept digests without qop (RFC 2069).  They carry no nonce count,
	 * so one can be replayed for as long as its nonce lives: false.
	 */
	bool rfc2069;
	uint32_t fail_limit;     /* failures that block a source; 0: off (10) */
	uint32_t fail_window;    /* within this many seconds (60) */
	uint32_t fail_penalty;   /* block for this many seconds (300) */
	uint32_t challenge_rate; /* challenges a source a second; 0: off (100) */
	uint32_t nc_slots;       /* nonce-count table entries (65536) */
	uint32_t fail_slots;     /* failed-attempt table entries (4096) */
	uint32_t rate_slots;     /* challenge-rate table entries (4096) */
	auth_clock_fn *clock;    /* NULL: CLOCK_REALTIME seconds */
	void *clock_arg;
};

#define AUTH_DEFAULT_NONCE_LIFETIME 300
#define AUTH_DEFAULT_FAIL_LIMIT 10
#define AUTH_DEFAULT_FAIL_WINDOW 60
#define AUTH_DEFAULT_FAIL_PENALTY 300
#define AUTH_DEFAULT_NC_SLOTS 65536
#define AUTH_DEFAULT_FAIL_SLOTS 4096
#define AUTH_DEFAULT_CHALLENGE_RATE 100
#define AUTH_DEFAULT_RATE_SLOTS 4096

/* Fill s with the defaults above. */
void auth_settings_init(struct auth_settings *s);

/*
 * The state several struct auth share: the nonce-count, failed-attempt
 * and challenge-rate tables, sized by s's *_slots (s NULL: the defaults),
 * rounded up to a power of two, and locked inside.  Returns NULL on
 * allocation failure or when no random bytes could be read.  It must
 * outlive every struct auth made on it.
 */
struct auth_state;
struct auth_state *auth_state_new(const struct auth_settings *s);
void auth_state_free(struct auth_state *st);

/*
 * A worker's authentication state, with a nonce key of 32 random bytes
 * (getrandom), keeping its tables in st (shared with the other workers;
 * not taken), or in tables of its own when st is NULL.  s NULL: the
 * defaults.  Returns NULL on allocation failure, when no random bytes
 * could be read, or when s offers no algorithm this OpenSSL provides.
 */
struct auth *auth_new_shared(const struct auth_settings *s,
    struct auth_state *st);
/* auth_new_shared(s, NULL). */
struct auth *auth_new(const struct auth_settings *s);
void auth_free(struct auth *a);

/*
 * Change the policy of a running instance: everything in s except the
 * table sizes, which stay.  Instances sharing a state should be given the
 * same settings.  Returns 0, or -EINVAL when s offers no
 * usable algorithm (a left unchanged).
 */
int auth_configure(struct auth *a, const struct auth_settings *s);

/*
 * Set the nonce key (at least 16 bytes, at most 64), so that several
 * workers or nodes accept each other's nonces.  Nonces issued under the
 * old key fail from then on.  Returns 0 or -EINVAL.
 */
int auth_set_secret(struct auth *a, const void *key, size_t len);

/*
 * HA1 = H(user ":" realm ":" password) in lower-case hex (RFC 7616 3.4.2),
 * what an account stores in place of its password.  out needs
 * AUTH_HEX_SIZE bytes; it is NUL-terminated.  Returns 0, or -EINVAL for an
 * unknown algorithm.
 */
int auth_ha1(enum auth_alg alg, const char *user, const char *realm,
    const char *password, char *out);

/*
 * The request-digest of RFC 7616 3.4.1 for a stored HA1 (hex), in
 * lower-case hex into out (AUTH_HEX_SIZE bytes):
 *   qop.len > 0:  KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *   qop.len == 0: KD(HA1, nonce ":" HA2)   (RFC 2069 compatibility)
 * with HA2 = H(method ":" uri) and, when sess, HA1 replaced by
 * H(HA1 ":" nonce ":" cnonce).  For auth_check() and for clients (outbound
 * registration).  Returns 0 or -EINVAL as auth_ha1().
 */
int auth_digest_response(enum auth_alg alg, bool sess, struct sv ha1,
    struct sv nonce, struct sv nc, struct sv cnonce, struct sv qop,
    struct sv method, struct sv uri, char *out);

/* Compare n bytes in time independent of their contents. */
bool auth_equal(const void *x, const void *y, size_t n);

/*
 * The challenge values for realm, for a 401 (id HDR_WWW_AUTHENTICATE) or
 * a 407 (HDR_PROXY_AUTHENTICATE): one Digest challenge per offered
 * algorithm, SHA-256 first when sha256_first (RFC 8760 2.4: the preferred
 * first), else MD5 first, each with a fresh nonce bound to src's address,
 * qop="auth" when offered and stale=true when stale (RFC 7616 3.3); then
 * "NTLM realm=..." when advertised.  Without advertise_digest the Digest
 * challenges are left out, unless nothing else would be offered (a 401
 * or 407 carries at least one challenge, RFC 3261 20.27, 20.44).  Each value is a
 * separate header line: they are written one after the other into out,
 * each NUL-terminated.  Returns the number of values, -ENOSPC when cap
 * is too small (AUTH_CHALLENGE_SIZE is enough for realms up to 128
 * bytes), -EINVAL for a bad id or a realm with control characters.
 */
int auth_challenge(struct auth *a, const char *realm, bool stale,
    const struct sockaddr *src, enum hdr_id id, char *out, size_t cap);

/*
 * auth_challenge(), appended to resp as header lines named after id.
 * Returns the number of header lines added or a negative errno.
 */
int auth_challenge_append(struct auth *a, struct msg *resp,
    const char *realm, bool stale, const struct sockaddr *src,
    enum hdr_id id);

/*
 * Fetch the stored HA1 (lower-case or upper-case hex of the algorithm's
 * length, NUL-terminated, into ha1: AUTH_HEX_SIZE bytes) of user in
 * realm.  Returns 0, -ENOENT for an unknown user, or another negative
 * errno, which auth_check() passes on.
 */
typedef int auth_lookup_fn(void *arg, const char *user, const char *realm,
    enum auth_alg alg, char *ha1);

enum auth_status {
	AUTH_OK,             /* authenticated: res->user */
	AUTH_NO_CREDENTIALS, /* none for this realm: challenge */
	AUTH_STALE,          /* right password, old nonce: stale=true */
	AUTH_FAILED,         /* challenge again (401/407) */
	AUTH_MALFORMED,      /* 400 with res->phrase */
	AUTH_BLOCKED,        /* over the failed-attempt limit: 403 */
};

/*
 * Why, for counters, logs and tests.  The wire must not tell the reasons
 * of AUTH_FAILED apart: answer every one with the same challenge.
 */
enum auth_reason {
	AUTH_R_NONE,
	AUTH_R_UNKNOWN_USER,
	AUTH_R_BAD_PASSWORD,
	AUTH_R_BAD_NONCE,  /* not issued by us, another source or realm */
	AUTH_R_REPLAY,     /* nonce count not above the last one seen */
	AUTH_R_ALGORITHM,  /* unknown or not offered */
	AUTH_R_QOP,        /* missing while offered, or not "auth" */
	AUTH_R_USERHASH,   /* RFC 7616 userhash, not offered */
	AUTH_R_EXPIRED,    /* AUTH_STALE: the nonce is too old */
	AUTH_R_FORGOTTEN,  /* AUTH_STALE: its count was evicted */
	AUTH_R_SYNTAX,     /* AUTH_MALFORMED */
};

struct auth_result {
	enum auth_status status;
	enum auth_reason reason;
	enum auth_alg alg;
	/*
	 * The user name, unquoted and NUL-terminated: authenticated for
	 * AUTH_OK, only claimed otherwise (empty when not parsed).
	 */
	char user[AUTH_USER_MAX + 1];
	/* AUTH_MALFORMED: a reason phrase for the 400 (static). */
	const char *phrase;
	/* AUTH_OK by a variant of struct auth_alt: its name (static), for
	 * the log; NULL when the digest was right */
	const char *variant;
};

/*
 * The wrong digests some devices compute for in-dialog non-INVITE
 * requests (the badByeAuth workaround): when the digest does not verify,
 * also the one computed with the method INVITE (invite), with the
 * dialog's initial Request-URI (uri, len 0: none; the credentials' uri
 * may then name it instead of the request's), or with both.  Nothing
 * else changes: nonce, realm, user, nonce count (replays) and the
 * failed-attempt limit are checked as for any digest.
 */
struct auth_alt {
	bool invite;
	struct sv uri;
};

/*
 * Authenticate request m with its credentials for realm in the header
 * lines of id (HDR_AUTHORIZATION or HDR_PROXY_AUTHORIZATION), received
 * from src.  method NULL takes the request's method.  lookup(arg, ...)
 * gives the stored HA1.  A failure is logged in the fixed form of sipd.8
 * and counted against src; a source over the limit is AUTH_BLOCKED
 * before anything else is looked at.  m must not be edited during the
 * call.
 *
 * Returns 0 with *res filled, or a negative errno (-ENOMEM, a lookup
 * error, -EINVAL for bad arguments or a malformed stored HA1), for which
 * the caller answers 500.
 */
int auth_check(struct auth *a, struct msg *m, enum hdr_id id,
    const char *method, const struct sockaddr *src, const char *realm,
    auth_lookup_fn *lookup, void *arg, struct auth_result *res);

/* auth_check() that also accepts the variants of alt (NULL: none). */
int auth_check_alt(struct auth *a, struct msg *m, enum hdr_id id,
    const char *method, const struct sockaddr *src, const char *realm,
    auth_lookup_fn *lookup, void *arg, const struct auth_alt *alt,
    struct auth_result *res);

/*
 * May src be sent one more challenge this second (challenge_rate)?  True
 * counts it; false: src is over the rate, and the request that would have
 * been challenged is to be dropped.
 */
bool auth_challenge_allowed(struct auth *a, const struct sockaddr *src);

/* --------------------------------------------------- failed-attempt limit */

/*
 * Sources are counted by IPv4 address or IPv6 /64 prefix (one host
 * usually holds a whole /64).  A source with fail_limit failures within
 * fail_window seconds is blocked for fail_penalty seconds.
 */

/* True when src is blocked; *remaining (may be NULL): seconds left. */
bool auth_blocked(struct auth *a, const struct sockaddr *src,
    uint32_t *remaining);

/*
 * Forget src's failures and lift its block; src NULL: every source.
 * Returns the number of sources forgotten (0 when src was not known).
 */
int auth_unblock(struct auth *a, const struct sockaddr *src);

struct auth_block {
	struct sockaddr_storage addr; /* the address, or the /64 prefix */
	unsigned prefix;              /* 32 for IPv4, 64 for IPv6 */
	uint32_t remaining;           /* seconds of block left */
	uint32_t failures;            /* failures that led to it */
};

/*
 * Call fn for each blocked source, in no particular order, until fn
 * returns non-zero.  fn must not call into a.  Returns the number of
 * calls, or fn's non-zero value.
 */
typedef int auth_block_fn(void *arg, const struct auth_block *b);
int auth_blocks(struct auth *a, auth_block_fn *fn, void *arg);

/* "198.51.100.7" or "2001:db8:1:2::/64" into out.  Returns out. */
const char *auth_block_str(const struct auth_block *b, char *out,
    size_t cap);

#endif
