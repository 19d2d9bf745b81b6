/*
 * mac: the signatures sipd puts on what it hands to peers and must
 * recognise when it comes back: the sig parameter of its Record-Route
 * URI and the tail of the Via branches it makes.  A peer can copy them
 * but not make them, so a Route entry or a response naming sipd counts
 * only when it carries one.  The signature is HMAC-SHA256 (RFC 2104)
 * truncated to 96 bits, in lower-case hex, under a key derived from the
 * secret every worker shares, so any worker verifies what another
 * signed.  Each core keeps its own keyed context: signing costs one MAC
 * without an allocation, and no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "sipd/core/core_int.h"

/* The key is derived, so the nonce key and this one never meet. */
#define MAC_LABEL "sipd signed route and branch key"

struct core_mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

struct core_mac *
core_mac_new(const uint8_t *secret, size_t len)
{
	struct core_mac *m = calloc(1, sizeof(*m));
	uint8_t key[32];
	unsigned klen = 0;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest,
		    0),
		OSSL_PARAM_construct_end(),
	};

	if (m == NULL) {
		return NULL;
	}
	if (HMAC(EVP_sha256(), secret, (int)len,
		(const unsigned char *)MAC_LABEL, sizeof(MAC_LABEL) - 1, key,
		&klen) == NULL ||
	    klen != sizeof(key)) {
		goto fail;
	}
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac ? EVP_MAC_CTX_new(m->mac) : NULL;
	if (m->ctx == NULL || EVP_MAC_init(m->ctx, key, sizeof(key),
				  params) != 1) {
		goto fail;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return m;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	core_mac_free(m);
	return NULL;
}

void
core_mac_free(struct core_mac *m)
{
	if (m == NULL) {
		return;
	}
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	free(m);
}

int
core_mac_sign(struct core_mac *m, char label, const struct sv *parts,
    int n, char out[CORE_MAC_HEX])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t flen = 0;

	/* EVP_MAC_init() without a key starts again under the key already
	 * set: the keyed pads are not hashed again */
	if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(m->ctx, (const unsigned char *)&label, 1) != 1) {
		return -EIO;
	}
	for (int i = 0; i < n; i++) {
		/* each part with its length: no two lists hash alike */
		uint8_t len[4] = { (uint8_t)(parts[i].len >> 24),
			(uint8_t)(parts[i].len >> 16),
			(uint8_t)(parts[i].len >> 8), (uint8_t)parts[i].len };
		if (EVP_MAC_update(m->ctx, len, sizeof(len)) != 1 ||
		    (parts[i].len > 0 &&
			EVP_MAC_update(m->ctx, (const unsigned char *)parts[i].p,
			    parts[i].len) != 1)) {
			return -EIO;
		}
	}
	if (EVP_MAC_final(m->ctx, full, &flen, sizeof(full)) != 1 ||
	    flen < CORE_MAC_HEX / 2) {
		return -EIO;
	}
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
