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
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sipd/core/core_int.h"

/* The key is derived, so the nonce key and this one never meet. */
#define MAC_LABEL "sipd signed route and branch key"

struct core_mac {
	uint64_t k0, k1;
};

/* SipHash's state while a message goes through: bytes gather in buf and
 * go in whole words (a part's 4-byte length costs a copy, not a word) */
struct mac_state {
	uint64_t v0, v1, v2, v3;
	size_t len;  /* bytes so far */
	size_t nbuf; /* bytes in buf */
	uint8_t buf[128];
};

static uint64_t
mac_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline uint64_t
mac_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
mac_round(struct mac_state *s)
{
	s->v0 += s->v1;
	s->v1 = mac_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = mac_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = mac_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = mac_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = mac_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = mac_rotl(s->v2, 32);
}

/* SipHash-2-4: two rounds per word */
static inline void
mac_word(struct mac_state *s, uint64_t m)
{
	s->v3 ^= m;
	mac_round(s);
	mac_round(s);
	s->v0 ^= m;
}

static void
mac_start(const struct core_mac *m, struct mac_state *s)
{
	s->v0 = 0x736f6d6570736575ULL ^ m->k0;
	/* the 128-bit output marks the start and the finish */
	s->v1 = 0x646f72616e646f6dULL ^ m->k1 ^ 0xee;
	s->v2 = 0x6c7967656e657261ULL ^ m->k0;
	s->v3 = 0x7465646279746573ULL ^ m->k1;
	s->len = 0;
	s->nbuf = 0;
}

/* The whole words of buf; what is left of one moves to the front. */
static void
mac_flush(struct mac_state *s)
{
	size_t i;

	for (i = 0; i + 8 <= s->nbuf; i += 8) {
		mac_word(s, mac_load64(s->buf + i));
	}
	for (size_t k = 0; i + k < s->nbuf; k++) {
		s->buf[k] = s->buf[i + k];
	}
	s->nbuf -= i;
}

static void
mac_update(struct mac_state *s, const uint8_t *p, size_t n)
{
	s->len += n;
	while (n > 0) {
		size_t k = sizeof(s->buf) - s->nbuf;

		if (k > n) {
			k = n;
		}
		memcpy(s->buf + s->nbuf, p, k);
		s->nbuf += k;
		p += k;
		n -= k;
		if (s->nbuf == sizeof(s->buf)) {
			mac_flush(s);
		}
	}
}

/* A part's length, 4 bytes big-endian: copied by hand, it is that short */
static void
mac_update_len(struct mac_state *s, size_t len)
{
	if (s->nbuf + 4 > sizeof(s->buf)) {
		mac_flush(s);
	}
	s->buf[s->nbuf] = (uint8_t)(len >> 24);
	s->buf[s->nbuf + 1] = (uint8_t)(len >> 16);
	s->buf[s->nbuf + 2] = (uint8_t)(len >> 8);
	s->buf[s->nbuf + 3] = (uint8_t)len;
	s->nbuf += 4;
	s->len += 4;
}

static void
mac_final(struct mac_state *s, uint8_t out[16])
{
	uint64_t h[2];
	uint64_t last = (uint64_t)(s->len & 0xff) << 56;

	mac_flush(s);
	/* the last word: what is left, and the length modulo 256 on top */
	for (size_t i = 0; i < s->nbuf; i++) {
		last |= (uint64_t)s->buf[i] << (8 * i);
	}
	mac_word(s, last);
	s->v2 ^= 0xee;
	mac_round(s);
	mac_round(s);
	mac_round(s);
	mac_round(s);
	h[0] = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
	s->v1 ^= 0xdd;
	mac_round(s);
	mac_round(s);
	mac_round(s);
	mac_round(s);
	h[1] = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
	h[0] = htole64(h[0]);
	h[1] = htole64(h[1]);
	memcpy(out, h, 16);
}

struct core_mac *
core_mac_new_key(const uint8_t key[CORE_MAC_KEY])
{
	struct core_mac *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		return NULL;
	}
	m->k0 = mac_load64(key);
	m->k1 = mac_load64(key + 8);
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

int
core_mac_sign(struct core_mac *m, char label, const struct sv *parts,
    int n, char out[CORE_MAC_HEX])
{
	static const char hex[] = "0123456789abcdef";
	struct mac_state s;
	uint8_t full[16];

	mac_start(m, &s);
	s.buf[0] = (uint8_t)label;
	s.nbuf = s.len = 1;
	for (int i = 0; i < n; i++) {
		/* each part with its length: no two lists hash alike */
		mac_update_len(&s, parts[i].len);
		if (parts[i].len > 0) {
			mac_update(&s, (const uint8_t *)parts[i].p,
			    parts[i].len);
		}
	}
	mac_final(&s, full);
	for (size_t i = 0; i < CORE_MAC_HEX / 2; i++) {
		out[2 * i] = hex[full[i] >> 4];
		out[2 * i + 1] = hex[full[i] & 0xf];
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
