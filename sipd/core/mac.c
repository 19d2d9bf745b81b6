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

/* The bytes signed, gathered in one buffer: the label, then each part
 * with its length, 4 bytes big-endian, so no two lists hash alike.  The
 * inputs are short (a branch, a Call-ID and a tag, addresses): one call
 * of SipHash over them costs less than one a part.  0 when they do not
 * fit in cap. */
static size_t
mac_gather(char label, const struct sv *parts, int n, uint8_t *out,
    size_t cap)
{
	size_t len = 1;

	out[0] = (uint8_t)label;
	for (int i = 0; i < n; i++) {
		size_t l = parts[i].len;

		if (cap - len < 4 || l > cap - len - 4) {
			return 0;
		}
		out[len] = (uint8_t)(l >> 24);
		out[len + 1] = (uint8_t)(l >> 16);
		out[len + 2] = (uint8_t)(l >> 8);
		out[len + 3] = (uint8_t)l;
		if (l > 0) {
			memcpy(out + len + 4, parts[i].p, l);
		}
		len += 4 + l;
	}
	return len;
}

int
core_mac_sign(struct core_mac *m, char label, const struct sv *parts,
    int n, char out[CORE_MAC_HEX])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t buf[256], full[16];
	size_t len = mac_gather(label, parts, n, buf, sizeof(buf));

	if (len > 0) {
		msg_siphash(m->key, buf, len, full, sizeof(full));
	} else {
		/* longer than the buffer: the same bytes, a part at a time */
		struct msg_siphash s;

		msg_siphash_start(&s, m->key, sizeof(full));
		msg_siphash_update(&s, &label, 1);
		for (int i = 0; i < n; i++) {
			uint8_t l[4] = { (uint8_t)(parts[i].len >> 24),
				(uint8_t)(parts[i].len >> 16),
				(uint8_t)(parts[i].len >> 8),
				(uint8_t)parts[i].len };

			msg_siphash_update(&s, l, sizeof(l));
			if (parts[i].len > 0) {
				msg_siphash_update(&s, parts[i].p,
				    parts[i].len);
			}
		}
		msg_siphash_final(&s, full);
	}
	for (size_t i = 0; i < CORE_MAC_HEX / 2; i++) {
		out[2 * i] = hex[full[i] >> 4];
		out[2 * i + 1] = hex[full[i] & 0xf];
	}
	return 0;
}

uint64_t
core_mac_hash64(struct core_mac *m, char label, const struct sv *parts, int n)
{
	uint8_t buf[256];
	size_t len = mac_gather(label, parts, n, buf, sizeof(buf));

	return len > 0 ? msg_siphash64(m->key, buf, len) : 0;
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
