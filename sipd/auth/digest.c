/*
 * digest: the cryptography of sipd/auth.  HA1 and the request-digest of
 * RFC 7616 3.4 (MD5 and SHA-256, RFC 8760), the stateless nonces (issue
 * time, salt and a SipHash-2-4-128 MAC over them, the source address and
 * the realm, in base64url) and the constant-time comparison.  OpenSSL
 * does the Digest hashing, sipd/msg/siphash.c the nonces' MAC; nothing
 * here keeps state beyond what the caller passes.
 *
 * The hashes go through OpenSSL's one-algorithm calls (MD5_Init,
 * SHA256_Init), not EVP: EVP allocates a context and looks the algorithm
 * up in its provider on every init, which cost more than the hashing of
 * a few dozen bytes (two thirds of a Digest check's MD5).  OpenSSL 3
 * marks those calls deprecated but keeps them; they hash in place.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include "sipd/auth/auth_int.h"

static const char hexdig[] = "0123456789abcdef";

size_t
auth_alg_hexlen(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5:
		return 32;
	case AUTH_ALG_SHA256:
		return 64;
	default:
		return 0;
	}
}

const char *
auth_alg_name(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5:
		return "MD5";
	case AUTH_ALG_SHA256:
		return "SHA-256";
	default:
		return "?";
	}
}

int64_t
auth_now(const struct auth *a)
{
	struct timespec ts;

	if (a->set.clock != NULL) {
		return a->set.clock(a->set.clock_arg);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* auth_hash_hex() a part at a time: for inputs longer than its buffer */
static int
hash_hex_parts(enum auth_alg alg, const struct sv *parts, size_t n,
    char *out)
{
	uint8_t dig[SHA256_DIGEST_LENGTH];
	size_t i;

	switch (alg) {
	case AUTH_ALG_MD5: {
		MD5_CTX c;

		MD5_Init(&c);
		for (i = 0; i < n; i++) {
			if (i > 0) {
				MD5_Update(&c, ":", 1);
			}
			MD5_Update(&c, parts[i].p, parts[i].len);
		}
		MD5_Final(dig, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		to_hex(dig, MD5_DIGEST_LENGTH, out);
		return 0;
	}
	case AUTH_ALG_SHA256: {
		SHA256_CTX c;

		SHA256_Init(&c);
		for (i = 0; i < n; i++) {
			if (i > 0) {
				SHA256_Update(&c, ":", 1);
			}
			SHA256_Update(&c, parts[i].p, parts[i].len);
		}
		SHA256_Final(dig, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		to_hex(dig, SHA256_DIGEST_LENGTH, out);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* Room for a hash's input put together in one piece: a request-digest's
 * (RFC 7616 3.4.1) with the longest cnonce auth.c takes */
#define AUTH_HASH_JOIN 640

/*
 * H(parts[0] ":" parts[1] ":" ...) in lower-case hex (RFC 7616 3.4: the
 * hash's output as lower-case hex digits).  Returns 0 or -EINVAL (an
 * algorithm sipd does not know).
 *
 * The parts are put together first and hashed in one call: a call per
 * part and per colon cost a third of the hashing of a request-digest's
 * three blocks.  The joined copy holds secrets (HA1) and is wiped.
 */
int
auth_hash_hex(enum auth_alg alg, const struct sv *parts, size_t n, char *out)
{
	uint8_t dig[SHA256_DIGEST_LENGTH];
	char join[AUTH_HASH_JOIN];
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		len += parts[i].len + (i > 0);
	}
	if (len > sizeof(join)) {
		return hash_hex_parts(alg, parts, n, out);
	}
	len = 0;
	for (i = 0; i < n; i++) {
		if (i > 0) {
			join[len++] = ':';
		}
		if (parts[i].len > 0) {
			memcpy(join + len, parts[i].p, parts[i].len);
		}
		len += parts[i].len;
	}
	/* the one-shot MD5() and SHA256() go through EVP in OpenSSL 3 */
	switch (alg) {
	case AUTH_ALG_MD5: {
		MD5_CTX c;

		MD5_Init(&c);
		MD5_Update(&c, join, len);
		MD5_Final(dig, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		to_hex(dig, MD5_DIGEST_LENGTH, out);
		break;
	}
	case AUTH_ALG_SHA256: {
		SHA256_CTX c;

		SHA256_Init(&c);
		SHA256_Update(&c, join, len);
		SHA256_Final(dig, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		to_hex(dig, SHA256_DIGEST_LENGTH, out);
		break;
	}
	default:
		return -EINVAL;
	}
	OPENSSL_cleanse(join, len);
	return 0;
}

int
auth_ha1(enum auth_alg alg, const char *user, const char *realm,
    const char *password, char *out)
{
	struct sv parts[3];

	if (user == NULL || realm == NULL || password == NULL) {
		return -EINVAL;
	}
	/* RFC 7616 3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd */
	parts[0] = (struct sv){ user, strlen(user) };
	parts[1] = (struct sv){ realm, strlen(realm) };
	parts[2] = (struct sv){ password, strlen(password) };
	return auth_hash_hex(alg, parts, 3, out);
}

/* 1 for a hex digit of either case (RFC 7616 3.4: LHEX; sipd takes
 * upper case too), else 0 */
static const uint8_t hex_digit[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
	['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
	['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

bool
auth_is_hex(struct sv s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s.p;
	unsigned ok = 1;

	if (s.len != len) {
		return false;
	}
	/* a load per character, no branch: a response and an HA1 are 32
	 * or 64 digits */
	for (size_t i = 0; i < len; i++) {
		ok &= hex_digit[p[i]];
	}
	return ok != 0;
}

/* Lower-case copy of a hex string already checked by auth_is_hex(). */
static void
hex_lower(struct sv s, char *out)
{
	size_t i;

	/* the digits have bit 0x20 set already: setting it lowers the
	 * letters alone */
	for (i = 0; i < s.len; i++) {
		out[i] = (char)(s.p[i] | 0x20);
	}
	out[s.len] = '\0';
}

/* The request-digest from HA1 (ha1, checked) and HA2 (h2, hl digits). */
static int
digest_from_h2(enum auth_alg alg, bool sess, struct sv ha1, struct sv nonce,
    struct sv nc, struct sv cnonce, struct sv qop, const char *h2,
    char *out)
{
	char h1[AUTH_HEX_SIZE], h1s[AUTH_HEX_SIZE];
	size_t hl = auth_alg_hexlen(alg);
	struct sv p[6];
	int rc;

	hex_lower(ha1, h1);
	if (sess) {
		/* RFC 7616 3.4.2: A1 = H(...) ":" unq(nonce) ":" unq(cnonce) */
		p[0] = (struct sv){ h1, hl };
		p[1] = nonce;
		p[2] = cnonce;
		rc = auth_hash_hex(alg, p, 3, h1s);
		if (rc != 0) {
			OPENSSL_cleanse(h1, sizeof(h1));
			return rc;
		}
		memcpy(h1, h1s, hl + 1);
	}
	/* RFC 7616 3.4.1: KD(secret, data) = H(concat(secret, ":", data)) */
	p[0] = (struct sv){ h1, hl };
	p[1] = nonce;
	if (qop.len > 0) {
		p[2] = nc;
		p[3] = cnonce;
		p[4] = qop;
		p[5] = (struct sv){ h2, hl };
		rc = auth_hash_hex(alg, p, 6, out);
	} else {
		/* RFC 2069 3.2.1, kept by RFC 3261 22.4 for old clients */
		p[2] = (struct sv){ h2, hl };
		rc = auth_hash_hex(alg, p, 3, out);
	}
	OPENSSL_cleanse(h1, sizeof(h1));
	OPENSSL_cleanse(h1s, sizeof(h1s));
	return rc;
}

int
auth_digest_response(enum auth_alg alg, bool sess, struct sv ha1,
    struct sv nonce, struct sv nc, struct sv cnonce, struct sv qop,
    struct sv method, struct sv uri, char *out)
{
	char h2[AUTH_HEX_SIZE];
	size_t hl = auth_alg_hexlen(alg);
	struct sv p[2] = { method, uri };
	int rc;

	if (hl == 0 || !auth_is_hex(ha1, hl)) {
		return -EINVAL;
	}
	/* RFC 7616 3.4.3: A2 = Method ":" request-uri (qop=auth) */
	rc = auth_hash_hex(alg, p, 2, h2);
	if (rc != 0) {
		return rc;
	}
	return digest_from_h2(alg, sess, ha1, nonce, nc, cnonce, qop, h2, out);
}

int
auth_digest_response_kept(struct auth *a, enum auth_alg alg, bool sess,
    struct sv ha1, struct sv nonce, struct sv nc, struct sv cnonce,
    struct sv qop, struct sv method, struct sv uri, char *out)
{
	size_t hl = auth_alg_hexlen(alg);
	struct sv p[2] = { method, uri };
	int rc;

	/* ha1 checked by the caller (auth_check_alt()) */
	if (hl == 0 || ha1.len != hl) {
		return -EINVAL;
	}
	if (!a->ha2.valid || a->ha2.alg != alg || a->ha2.mlen != method.len ||
	    a->ha2.ulen != uri.len ||
	    memcmp(a->ha2.text, method.p, method.len) != 0 ||
	    memcmp(a->ha2.text + method.len, uri.p, uri.len) != 0) {
		/* RFC 7616 3.4.3: A2 = Method ":" request-uri (qop=auth) */
		a->ha2.valid = false;
		rc = auth_hash_hex(alg, p, 2, a->ha2.hex);
		if (rc != 0) {
			return rc;
		}
		if (method.len + uri.len <= sizeof(a->ha2.text)) {
			memcpy(a->ha2.text, method.p, method.len);
			memcpy(a->ha2.text + method.len, uri.p, uri.len);
			a->ha2.alg = alg;
			a->ha2.mlen = (uint16_t)method.len;
			a->ha2.ulen = (uint16_t)uri.len;
			a->ha2.valid = true;
		}
	}
	return digest_from_h2(alg, sess, ha1, nonce, nc, cnonce, qop,
	    a->ha2.hex, out);
}

bool
auth_equal(const void *x, const void *y, size_t n)
{
	return CRYPTO_memcmp(x, y, n) == 0;
}

/*
 * The HA1 an unknown user is checked against, so that a wrong password
 * and an unknown user cost the same (the result is discarded).  Derived
 * from the key, so it is no constant anyone could aim at; so is the key
 * of the nonces' MAC.
 */
void
auth_derive_dummy(struct auth *a)
{
	static const char label[] = "sipd auth dummy ha1";
	static const char nlabel[] = "sipd auth nonce key";
	uint8_t mac[32];
	unsigned mlen = 0;
	int i;

	memset(mac, 0x5a, sizeof(mac));
	HMAC(EVP_sha256(), a->secret, (int)a->secret_len,
	    (const unsigned char *)label, sizeof(label) - 1, mac, &mlen);
	for (i = 0; i < AUTH__ALG_COUNT; i++) {
		to_hex(mac, auth_alg_hexlen((enum auth_alg)i) / 2,
		    a->dummy_ha1[i]);
	}
	memset(mac, 0, sizeof(mac));
	mlen = 0;
	HMAC(EVP_sha256(), a->secret, (int)a->secret_len,
	    (const unsigned char *)nlabel, sizeof(nlabel) - 1, mac, &mlen);
	memcpy(a->nonce_key, mac, sizeof(a->nonce_key));
	OPENSSL_cleanse(mac, sizeof(mac));
}

/* ------------------------------------------------------------ addresses */

/*
 * The address of sa as a key: a family byte (4, 6, or 0 for none) and the
 * address bytes; an IPv4-mapped IPv6 address counts as IPv4, and prefix64
 * keeps only an IPv6 address's /64.  The port is left out: a client's
 * next request may come from another port (a new TCP connection).
 * Returns the length used; the rest of key is zero.
 */
size_t
auth_addr_key(const struct sockaddr *sa, bool prefix64,
    uint8_t key[AUTH_ADDR_KEY])
{
	memset(key, 0, AUTH_ADDR_KEY);
	if (sa == NULL) {
		return 1;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
		return 5;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
			return 5;
		}
		key[0] = 6;
		memcpy(key + 1, s6->sin6_addr.s6_addr, prefix64 ? 8 : 16);
		return 17;
	}
	return 1;
}

/* ----------------------------------------------------------- base64url */

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* RFC 4648 5 without padding; out needs 4 * ceil(n / 3) + 1 bytes. */
static size_t
b64u_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/* The value in b64u[] of each ASCII character, 255 (bit 7 set) for
 * none: a load per character where comparisons took a dozen */
static const uint8_t b64u_rev[128] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255,
	255, 255, 255, 255, 255,   0,   1,   2,   3,   4,   5,   6,
	  7,   8,   9,  10,  11,  12,  13,  14,  15,  16,  17,  18,
	 19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,
	 37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,
	 49,  50,  51, 255, 255, 255, 255, 255,
};

/*
 * Decode exactly AUTH_NONCE_LEN characters into AUTH_NONCE_RAW bytes.
 * Strict: the unused low bits of the last character must be zero, so one
 * nonce has one spelling.  Returns 0 or -EINVAL.
 */
static int
b64u_decode_nonce(struct sv s, uint8_t out[AUTH_NONCE_RAW])
{
	const unsigned char *p = (const unsigned char *)s.p;
	uint32_t bad = 0, v;
	size_t i, o = 0;

	/* 10 groups of four characters (three bytes each), then three
	 * characters for the last two bytes and two zero bits */
	_Static_assert(AUTH_NONCE_RAW == 32 && AUTH_NONCE_LEN == 43,
	    "the nonce's groups");
	if (s.len != AUTH_NONCE_LEN) {
		return -EINVAL;
	}
	for (i = 0; i < 40; i += 4) {
		uint32_t a = b64u_rev[p[i] & 127] | (p[i] & 128);
		uint32_t b = b64u_rev[p[i + 1] & 127] | (p[i + 1] & 128);
		uint32_t c = b64u_rev[p[i + 2] & 127] | (p[i + 2] & 128);
		uint32_t d = b64u_rev[p[i + 3] & 127] | (p[i + 3] & 128);

		/* a character that is none has its value's bit 7 set */
		bad |= a | b | c | d;
		v = (a << 18) | (b << 12) | (c << 6) | d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	{
		uint32_t a = b64u_rev[p[40] & 127] | (p[40] & 128);
		uint32_t b = b64u_rev[p[41] & 127] | (p[41] & 128);
		uint32_t c = b64u_rev[p[42] & 127] | (p[42] & 128);

		bad |= a | b | c;
		v = (a << 12) | (b << 6) | c;
		out[o++] = (uint8_t)(v >> 10);
		out[o++] = (uint8_t)(v >> 2);
	}
	return (bad & 128) == 0 && (v & 3) == 0 ? 0 : -EINVAL;
}

/* -------------------------------------------------------------- nonces */

#define AUTH_REALM_MAC_MAX 256

/*
 * The MAC over id (time and salt), the source address and the realm:
 * SipHash-2-4-128 under a key derived from the secret.  A nonce is short
 * and made twice per registration (issued, then checked): SipHash, a PRF
 * made for short inputs, costs a few hundred instructions where
 * OpenSSL's HMAC-SHA256 took some twenty thousand.
 */
static int
nonce_mac(const struct auth *a, const uint8_t id[AUTH_NONCE_ID],
    const struct sockaddr *src, struct sv realm,
    uint8_t mac[AUTH_NONCE_MAC])
{
	uint8_t buf[AUTH_NONCE_ID + AUTH_ADDR_KEY + AUTH_REALM_MAC_MAX];
	size_t n = AUTH_NONCE_ID;

	if (realm.len > AUTH_REALM_MAC_MAX) {
		return -EINVAL;
	}
	memcpy(buf, id, AUTH_NONCE_ID);
	/* The family byte fixes the address length: no ambiguity. */
	n += auth_addr_key(src, false, buf + n);
	if (realm.len > 0) {
		memcpy(buf + n, realm.p, realm.len);
	}
	n += realm.len;
	msg_siphash(a->nonce_key, buf, n, mac, AUTH_NONCE_MAC);
	return 0;
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
auth_nonce_make(struct auth *a, int64_t now, const struct sockaddr *src,
    const char *realm, char out[AUTH_NONCE_LEN + 1])
{
	uint8_t raw[AUTH_NONCE_RAW];

	put_be(raw, (uint64_t)now, AUTH_NONCE_TS);
	put_be(raw + AUTH_NONCE_TS, a->instance, 4);
	put_be(raw + AUTH_NONCE_TS + 4, a->counter++, 4);
	if (nonce_mac(a, raw, src, (struct sv){ realm, strlen(realm) },
	        raw + AUTH_NONCE_ID) != 0) {
		/* The caller checked the realm's length: unreachable. */
		memset(raw + AUTH_NONCE_ID, 0, AUTH_NONCE_MAC);
	}
	b64u_encode(raw, sizeof(raw), out);
}

int
auth_nonce_verify(const struct auth *a, struct sv nonce,
    const struct sockaddr *src, struct sv realm, int64_t *issued,
    uint8_t id[AUTH_NONCE_ID])
{
	uint8_t raw[AUTH_NONCE_RAW], mac[AUTH_NONCE_MAC];
	uint64_t ts = 0;
	int i;

	if (b64u_decode_nonce(nonce, raw) != 0 ||
	    nonce_mac(a, raw, src, realm, mac) != 0 ||
	    !auth_equal(mac, raw + AUTH_NONCE_ID, AUTH_NONCE_MAC)) {
		return -EINVAL;
	}
	for (i = 0; i < AUTH_NONCE_TS; i++) {
		ts = (ts << 8) | raw[i];
	}
	*issued = (int64_t)ts;
	memcpy(id, raw, AUTH_NONCE_ID);
	return 0;
}
