/*
 * mac: the signatures sipd puts on what it hands to peers and must
 * recognise when it comes back: the sig parameter of its Record-Route
 * URI and the tail of the Via branches it makes.  A peer can copy them
 * but not make them, so a Route entry or a response naming sipd counts
 * only when it carries one.  The signature is SipHash-2-4 with its
 * 128-bit output (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012), truncated to 96 bits, in lower-case hex, under a 128-bit
 * key derived from the secret every worker shares, so any worker
 * verifies what another signed.  SipHash is a MAC made for inputs as
 * short as these (a Call-ID, a tag, two addresses): it signs them in a
 * few hundred instructions where HMAC-SHA256 took three compressions of
 * SHA-256, and a peer without the key forges a 96-bit tag no more often
 * than it guesses one.  The key is state enough: signing allocates
 * nothing and takes no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sipd/core/core_int.h"
#include "sipd/msg/siphash.h"

/* The key is derived, so the nonce key and this one never meet. */
#define MAC_LABEL "sipd signed route and branch key"

struct core_mac {
	uint8_t key[MSG_SIPHASH_KEY];
};

struct core_mac *
core_mac_new_key(const uint8_t key[CORE_MAC_KEY])
{
	struct core_mac *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		return NULL;
	}
	memcpy(m->key, key, sizeof(m->key));
	return m;
}

struct core_mac *
core_mac_new(const uint8_t *secret, size_t len)
{
	struct core_mac *m = NULL;
	uint8_t key[32];
	unsigned klen = 0;

	/* HMAC-SHA256 as a key derivation (RFC 5869's extract), once */
	if (HMAC(EVP_sha256(), secret, (int)len,
		(const unsigned char *)MAC_LABEL, sizeof(MAC_LABEL) - 1, key,
		&klen) != NULL &&
	    klen == sizeof(key)) {
		m = core_mac_new_key(key);
	}
	OPENSSL_cleanse(key, sizeof(key));
	return m;
}

void
core_mac_free(struct core_mac *m)
{
	if (m == NULL) {
		return;
	}
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/* The bytes signed: the label, then each part with its length, 4 bytes
 * big-endian, so no two lists hash alike (msg_siphash_update_list()).
 * Each part goes into SipHash from where it lies, copied nowhere first.
 * False for more than MAC_PARTS parts (no signature has more than
 * four). */
#define MAC_PARTS 8

static bool
mac_absorb(struct msg_siphash *s, char label, const struct sv *parts, int n)
{
	struct msg_siphash_piece pc[MAC_PARTS];

	if (n < 0 || n > MAC_PARTS) {
		return false;
	}
	for (int i = 0; i < n; i++) {
		pc[i] = (struct msg_siphash_piece){ parts[i].p, parts[i].len };
	}
	msg_siphash_update_list(s, (uint8_t)label, pc, (size_t)n);
	return true;
}

/* Each byte's two lower-case hex digits: a signature is written two
 * digits a load. */
#define MAC_HX(x) ((x) < 10 ? '0' + (x) : 'a' - 10 + (x))
#define MAC_H1(x) { MAC_HX((x) >> 4), MAC_HX((x) & 15) }
#define MAC_H4(x) MAC_H1(x), MAC_H1((x) + 1), MAC_H1((x) + 2), MAC_H1((x) + 3)
#define MAC_H16(x) MAC_H4(x), MAC_H4((x) + 4), MAC_H4((x) + 8), \
	MAC_H4((x) + 12)
#define MAC_H64(x) MAC_H16(x), MAC_H16((x) + 16), MAC_H16((x) + 32), \
	MAC_H16((x) + 48)
static const char mac_hex[256][2] = { MAC_H64(0), MAC_H64(64), MAC_H64(128),
	MAC_H64(192) };

int
core_mac_sign(struct core_mac *m, char label, const struct sv *parts,
    int n, char out[CORE_MAC_HEX])
{
	struct msg_siphash s;
	uint8_t full[16];

	msg_siphash_start(&s, m->key, sizeof(full));
	if (!mac_absorb(&s, label, parts, n)) {
		return -EIO;
	}
	msg_siphash_final(&s, full);
	for (size_t i = 0; i < CORE_MAC_HEX / 2; i++) {
		memcpy(out + 2 * i, mac_hex[full[i]], 2);
	}
	return 0;
}

bool
core_mac_equal(const char want[CORE_MAC_HEX], struct sv given)
{
	char got[CORE_MAC_HEX];

	if (given.len != CORE_MAC_HEX) {
		return false;
	}
	/* hex is hex in either case: a peer that upper-cases a parameter
	 * value does not break the dialog */
	for (size_t i = 0; i < CORE_MAC_HEX; i++) {
		char ch = given.p[i];
		got[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
	}
	return CRYPTO_memcmp(want, got, CORE_MAC_HEX) == 0;
}

bool
core_mac_verify(struct core_mac *m, char label, const struct sv *parts,
    int n, struct sv given)
{
	char want[CORE_MAC_HEX];

	return given.len == CORE_MAC_HEX &&
	    core_mac_sign(m, label, parts, n, want) == 0 &&
	    core_mac_equal(want, given);
}
