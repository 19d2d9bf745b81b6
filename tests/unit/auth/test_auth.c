/*
 * Unit tests for sipd/auth: the RFC 7616 3.9.1 vectors, HA1, the
 * challenges (parsed back with msg_auths()), and auth_check() on requests
 * written here: success with each algorithm, wrong password and unknown
 * user (alike on the wire, distinct in the log), stale, forged and
 * misdirected nonces, nonce-count replay, malformed credentials, digests
 * without qop (refused unless RFC 2069 compatibility is on), the
 * failed-attempt limiter, and two instances sharing one state as two
 * workers do (one nonce count, one failure count, one challenge rate).
 * Time comes from a clock the tests move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>

#include "sipd/auth/auth.h"
#include "sipd/auth/auth_int.h"
#include "sipd/log.h"
#include "sipd/msg/msg.h"

#define REALM "example.com"
#define T0 1700000000

/* ------------------------------------------------------------- helpers */

static int64_t test_now = T0;
static int lookups;

static int64_t
test_clock(void *arg)
{
	(void)arg;
	return test_now;
}

struct account {
	const char *user, *realm, *password;
};

static const struct account accounts[] = {
	{ "alice", REALM, "secret" },
	{ "bob", REALM, "hunter2" },
	{ "bob", "other.example.com", "other" },
	{ "x' src=192.0.2.66:5060 realm='y", REALM, "pw" },
};

static int
test_lookup(void *arg, const char *user, const char *realm,
    enum auth_alg alg, char *ha1)
{
	size_t i;

	(void)arg;
	lookups++;
	for (i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
		if (strcmp(accounts[i].user, user) == 0 &&
		    strcmp(accounts[i].realm, realm) == 0) {
			return auth_ha1(alg, user, realm, accounts[i].password,
			    ha1);
		}
	}
	return -ENOENT;
}

static int
broken_lookup(void *arg, const char *user, const char *realm,
    enum auth_alg alg, char *ha1)
{
	(void)arg;
	(void)user;
	(void)realm;
	(void)alg;
	strcpy(ha1, "not hex");
	return 0;
}

static int
failing_lookup(void *arg, const char *user, const char *realm,
    enum auth_alg alg, char *ha1)
{
	(void)arg;
	(void)user;
	(void)realm;
	(void)alg;
	(void)ha1;
	return -EIO;
}

static struct sockaddr_in src4, src4b, src4port;
static struct sockaddr_in6 src6a, src6b, src6c;

static void
addr4(struct sockaddr_in *s, const char *ip, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
}

static void
addr6(struct sockaddr_in6 *s, const char *ip, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
}

#define SRC ((const struct sockaddr *)&src4)
#define SRC_B ((const struct sockaddr *)&src4b)
#define SRC_PORT ((const struct sockaddr *)&src4port)
#define SRC6_A ((const struct sockaddr *)&src6a)
#define SRC6_B ((const struct sockaddr *)&src6b)
#define SRC6_C ((const struct sockaddr *)&src6c)

static int
setup(void **state)
{
	(void)state;
	test_now = T0;
	lookups = 0;
	addr4(&src4, "198.51.100.7", 5060);
	addr4(&src4b, "203.0.113.9", 5060);
	addr4(&src4port, "198.51.100.7", 40000);
	addr6(&src6a, "2001:db8:1:2::1", 5060);
	addr6(&src6b, "2001:db8:1:2:ffff::2", 5062);
	addr6(&src6c, "2001:db8:1:3::1", 5060);
	return 0;
}

static struct auth *
new_auth(void (*tweak)(struct auth_settings *))
{
	struct auth_settings s;
	struct auth *a;

	auth_settings_init(&s);
	s.clock = test_clock;
	if (tweak != NULL) {
		tweak(&s);
	}
	a = auth_new(&s);
	assert_non_null(a);
	return a;
}

static struct msg *
parse(const char *text)
{
	struct msg_err err;
	struct msg *m;

	memset(&err, 0, sizeof(err));
	m = msg_parse(text, strlen(text), NULL, &err);
	if (m == NULL) {
		fail_msg("msg_parse refused (%d %s): %s", err.status,
		    err.reason != NULL ? err.reason : "-", text);
	}
	return m;
}

/* A REGISTER (or method) to ruri carrying header hname: value. */
static struct msg *
request(const char *method, const char *ruri, const char *hname,
    const char *value)
{
	char text[8192], hdr[4096] = "";
	int n;

	if (hname != NULL) {
		n = snprintf(hdr, sizeof(hdr), "%s: %s\r\n", hname, value);
		assert_true(n > 0 && (size_t)n < sizeof(hdr));
	}
	n = snprintf(text, sizeof(text),
	    "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9\r\n"
	    "Max-Forwards: 70\r\n"
	    "To: <sip:alice@example.com>\r\n"
	    "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
	    "Call-ID: 3848276298220188511@198.51.100.7\r\n"
	    "CSeq: 2 %s\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    method, ruri, method, hdr);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	return parse(text);
}

/*
 * The challenge values of a, written into a 401 and parsed back: checks
 * each one's shape and returns the nonce of the one for alg.
 */
static void
challenge_nonce(struct auth *a, const struct sockaddr *src, bool stale,
    enum auth_alg alg, char nonce[64])
{
	char buf[AUTH_CHALLENGE_SIZE], text[4096];
	const struct msg_auth *ch;
	const char *p = buf;
	size_t off;
	struct msg *m;
	int n, i, found = 0;

	n = auth_challenge(a, REALM, stale, src, HDR_WWW_AUTHENTICATE, buf,
	    sizeof(buf));
	assert_true(n >= 1);
	off = (size_t)snprintf(text, sizeof(text),
	    "SIP/2.0 401 Unauthorized\r\n"
	    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9\r\n"
	    "To: <sip:alice@example.com>;tag=1\r\n"
	    "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
	    "Call-ID: 3848276298220188511@198.51.100.7\r\n"
	    "CSeq: 2 REGISTER\r\n");
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "WWW-Authenticate: %s\r\n", p);
		p += strlen(p) + 1;
	}
	snprintf(text + off, sizeof(text) - off, "Content-Length: 0\r\n\r\n");
	m = parse(text);
	assert_int_equal(msg_auths(m, HDR_WWW_AUTHENTICATE, &ch), n);
	for (i = 0; i < n; i++) {
		struct sv v;

		if (!sv_caseeq_str(msg_sv(m, ch[i].scheme), "Digest")) {
			continue;
		}
		assert_true(sv_eq(msg_sv(m, ch[i].realm), SV_LIT(REALM)));
		assert_int_equal(ch[i].nonce.len, 43);
		if (stale) {
			assert_true(sv_eq(msg_sv(m, ch[i].stale),
			    SV_LIT("true")));
		} else {
			assert_int_equal(ch[i].stale.len, 0);
		}
		v = msg_sv(m, ch[i].algorithm);
		if (sv_eq(v, SV_LIT("SHA-256")) ? alg == AUTH_ALG_SHA256
						: alg == AUTH_ALG_MD5) {
			v = msg_sv(m, ch[i].nonce);
			memcpy(nonce, v.p, v.len);
			nonce[v.len] = '\0';
			found++;
		}
	}
	assert_int_equal(found, 1);
	msg_free(m);
}

/* What a client sends: credentials for user/password on ruri. */
struct cred {
	enum auth_alg alg;
	const char *alg_name; /* NULL: from alg; "": left out */
	const char *user, *password, *realm, *uri, *nonce, *nc, *cnonce;
	const char *qop;   /* NULL: "auth"; "": left out */
	const char *extra; /* appended parameters */
	bool sess;
};

static void
cred_value(const struct cred *c, const char *method, char *out, size_t cap)
{
	char ha1[AUTH_HEX_SIZE], resp[AUTH_HEX_SIZE], algp[64] = "";
	const char *realm = c->realm != NULL ? c->realm : REALM;
	const char *uri = c->uri != NULL ? c->uri : "sip:example.com";
	const char *nc = c->nc != NULL ? c->nc : "00000001";
	const char *cnonce = c->cnonce != NULL ? c->cnonce : "0a4f113b";
	const char *qop = c->qop != NULL ? c->qop : "auth";
	char qopp[256] = "";

	assert_int_equal(auth_ha1(c->alg, c->user, realm, c->password, ha1),
	    0);
	assert_int_equal(auth_digest_response(c->alg, c->sess,
			     (struct sv){ ha1, strlen(ha1) },
			     (struct sv){ c->nonce, strlen(c->nonce) },
			     (struct sv){ nc, strlen(nc) },
			     (struct sv){ cnonce, strlen(cnonce) },
			     (struct sv){ qop, strlen(qop) },
			     (struct sv){ method, strlen(method) },
			     (struct sv){ uri, strlen(uri) }, resp),
	    0);
	if (c->alg_name == NULL) {
		snprintf(algp, sizeof(algp), ", algorithm=%s%s",
		    auth_alg_name(c->alg), c->sess ? "-sess" : "");
	} else if (c->alg_name[0] != '\0') {
		snprintf(algp, sizeof(algp), ", algorithm=%s", c->alg_name);
	}
	if (qop[0] != '\0') {
		snprintf(qopp, sizeof(qopp), ", qop=%s, nc=%s, cnonce=\"%s\"",
		    qop, nc, cnonce);
	}
	snprintf(out, cap,
	    "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
	    "uri=\"%s\", response=\"%s\"%s%s%s",
	    c->user, realm, c->nonce, uri, resp, algp, qopp,
	    c->extra != NULL ? c->extra : "");
}

/* auth_check() on a REGISTER carrying c; returns the status. */
static enum auth_status
check_cred(struct auth *a, const struct cred *c, const struct sockaddr *src,
    struct auth_result *res)
{
	char value[4096];
	struct msg *m;
	int rc;

	cred_value(c, "REGISTER", value, sizeof(value));
	m = request("REGISTER", "sip:example.com", "Authorization", value);
	rc = auth_check(a, m, HDR_AUTHORIZATION, NULL, src, REALM,
	    test_lookup, NULL, res);
	assert_int_equal(rc, 0);
	msg_free(m);
	return res->status;
}

/* auth_check() on a REGISTER with a raw Authorization value. */
static enum auth_status
check_raw(struct auth *a, const char *value, struct auth_result *res)
{
	struct msg *m;
	int rc;

	m = request("REGISTER", "sip:example.com",
	    value != NULL ? "Authorization" : NULL, value);
	rc = auth_check(a, m, HDR_AUTHORIZATION, NULL, SRC, REALM,
	    test_lookup, NULL, res);
	assert_int_equal(rc, 0);
	msg_free(m);
	return res->status;
}

static void
no_limit(struct auth_settings *s)
{
	s->fail_limit = 0;
}

/*
 * The nonces' MAC is SipHash-2-4-128: the reference implementation's
 * vectors (key 00 01 .. 0f, message 00 01 .. of 0, 1, 8 and 15 bytes),
 * and the 64-bit hash of the tables unchanged (its first vector).
 */
/*
 * auth_is_hex() by its table against the definition (RFC 7616 3.4 hex of
 * either case), for every byte at every position of a 32-digit string,
 * and the lengths: a table with one entry wrong fails here.
 */
static void
test_is_hex_every_byte(void **state)
{
	char s[32];

	(void)state;
	for (int b = 0; b < 256; b++) {
		bool want = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') ||
		    (b >= 'A' && b <= 'F');

		for (size_t pos = 0; pos < sizeof(s); pos++) {
			memset(s, '7', sizeof(s));
			s[pos] = (char)b;
			assert_int_equal(auth_is_hex((struct sv){ s, 32 }, 32),
			    want);
		}
	}
	memset(s, 'a', sizeof(s));
	assert_true(auth_is_hex((struct sv){ s, 8 }, 8));
	assert_false(auth_is_hex((struct sv){ s, 31 }, 32));
	assert_false(auth_is_hex((struct sv){ s, 32 }, 31));
}

static void
test_siphash_vectors(void **state)
{
	static const uint8_t want[][16] = {
		{ 0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6,
		    0x72, 0x14, 0xc7, 0x55, 0x02, 0x93 },
		{ 0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76,
		    0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45 },
		{ 0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83,
		    0xe2, 0x64, 0xf3, 0x14, 0x97, 0xb4 },
		{ 0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08,
		    0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9 },
	};
	static const size_t lens[] = { 0, 1, 8, 15 };
	uint8_t key[16], msg[16], out[16];

	(void)state;
	for (int i = 0; i < 16; i++) {
		key[i] = (uint8_t)i;
		msg[i] = (uint8_t)i;
	}
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct msg_siphash st;

		msg_siphash(key, msg, lens[i], out, 16);
		assert_memory_equal(out, want[i], 16);
		/* fed a byte at a time: the same */
		msg_siphash_start(&st, key, 16);
		for (size_t k = 0; k < lens[i]; k++) {
			msg_siphash_update(&st, msg + k, 1);
		}
		memset(out, 0, sizeof(out));
		msg_siphash_final(&st, out);
		assert_memory_equal(out, want[i], 16);
	}
	assert_true(msg_siphash64(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
}

/* --------------------------------------------------------------- tests */

static void
test_rfc7616_vectors(void **state)
{
	/* RFC 7616 3.9.1: the same request answered with SHA-256 and MD5 */
	static const char nonce[] =
	    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	static const char cnonce[] =
	    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	static const struct {
		enum auth_alg alg;
		bool sess;
		const char *qop;
		const char *ha1, *response;
	} v[] = {
		{ AUTH_ALG_MD5, false, "auth",
		    "3d78807defe7de2157e2b0b6573a855f",
		    "8ca523f5e9506fed4657c9700eebdbec" },
		{ AUTH_ALG_SHA256, false, "auth",
		    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b47"
		    "94232",
		    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db585"
		    "6cb6c1" },
		/* -sess and RFC 2069 forms of the same inputs */
		{ AUTH_ALG_MD5, true, "auth",
		    "3d78807defe7de2157e2b0b6573a855f",
		    "e783283f46242139c486a698fec7211d" },
		{ AUTH_ALG_SHA256, true, "auth",
		    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b47"
		    "94232",
		    "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1e"
		    "a3efd7" },
		{ AUTH_ALG_MD5, false, "", "3d78807defe7de2157e2b0b6573a855f",
		    "7b2cc3b30e75b4777ea31027084363fd" },
	};
	char ha1[AUTH_HEX_SIZE], out[AUTH_HEX_SIZE], upper[AUTH_HEX_SIZE];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(auth_ha1(v[i].alg, "Mufasa",
				     "http-auth@example.org", "Circle of Life",
				     ha1),
		    0);
		assert_string_equal(ha1, v[i].ha1);
		assert_int_equal(
		    auth_digest_response(v[i].alg, v[i].sess,
			(struct sv){ ha1, strlen(ha1) }, SV_LIT(nonce),
			SV_LIT("00000001"), SV_LIT(cnonce),
			(struct sv){ v[i].qop, strlen(v[i].qop) },
			SV_LIT("GET"), SV_LIT("/dir/index.html"), out),
		    0);
		assert_string_equal(out, v[i].response);
		/* A stored HA1 in upper case gives the same answer. */
		for (j = 0; ha1[j] != '\0'; j++) {
			upper[j] = (char)(ha1[j] >= 'a' ? ha1[j] - 32 : ha1[j]);
		}
		upper[j] = '\0';
		assert_int_equal(
		    auth_digest_response(v[i].alg, v[i].sess,
			(struct sv){ upper, j }, SV_LIT(nonce),
			SV_LIT("00000001"), SV_LIT(cnonce),
			(struct sv){ v[i].qop, strlen(v[i].qop) },
			SV_LIT("GET"), SV_LIT("/dir/index.html"), out),
		    0);
		assert_string_equal(out, v[i].response);
	}
	/* An HA1 of the wrong length or not hex is refused. */
	assert_int_equal(auth_digest_response(AUTH_ALG_SHA256, false,
			     SV_LIT("3d78807defe7de2157e2b0b6573a855f"),
			     SV_LIT("n"), SV_LIT("00000001"), SV_LIT("c"),
			     SV_LIT("auth"), SV_LIT("GET"), SV_LIT("/"), out),
	    -EINVAL);
	assert_int_equal(auth_digest_response(AUTH_ALG_MD5, false,
			     SV_LIT("3d78807defe7de2157e2b0b6573a855g"),
			     SV_LIT("n"), SV_LIT("00000001"), SV_LIT("c"),
			     SV_LIT("auth"), SV_LIT("GET"), SV_LIT("/"), out),
	    -EINVAL);
}

static void
test_ha1(void **state)
{
	char ha1[AUTH_HEX_SIZE];

	(void)state;
	assert_int_equal(auth_ha1(AUTH_ALG_MD5, "alice", REALM, "secret", ha1),
	    0);
	assert_string_equal(ha1, "b1726872c344b6dc8365b774f8fd6412");
	assert_int_equal(strlen(ha1), auth_alg_hexlen(AUTH_ALG_MD5));
	assert_int_equal(
	    auth_ha1(AUTH_ALG_SHA256, "alice", REALM, "secret", ha1), 0);
	assert_string_equal(ha1, "ed8925b20f9a77b8f8f8d5f8e4467fe32b866f7208ab"
				 "9e4b20595e9821a0fdee");
	assert_int_equal(strlen(ha1), auth_alg_hexlen(AUTH_ALG_SHA256));
	assert_int_equal(auth_ha1((enum auth_alg)7, "a", "b", "c", ha1),
	    -EINVAL);
	assert_int_equal(auth_ha1(AUTH_ALG_MD5, NULL, "b", "c", ha1), -EINVAL);
	assert_string_equal(auth_alg_name(AUTH_ALG_MD5), "MD5");
	assert_string_equal(auth_alg_name(AUTH_ALG_SHA256), "SHA-256");
}

/* auth_hash_hex() hashes its parts joined by colons whether they fit its
 * buffer (one piece) or not (a part at a time): the same digest as
 * OpenSSL's EVP over the joined text, at lengths around the buffer's. */
static void
test_hash_hex_join(void **state)
{
	static const size_t lens[] = { 0, 1, 600, 628, 629, 630, 640, 641,
		2000 };
	static char big[2048], joined[4096];
	char got[AUTH_HEX_SIZE], want[AUTH_HEX_SIZE];
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned dl;

	(void)state;
	memset(big, 'u', sizeof(big));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int alg = 0; alg < AUTH__ALG_COUNT; alg++) {
			struct sv p[3] = { SV_LIT("REGISTER"),
				{ big, lens[i] }, SV_LIT("x") };
			int n = snprintf(joined, sizeof(joined),
			    "REGISTER:%.*s:x", (int)lens[i], big);

			assert_int_equal(auth_hash_hex((enum auth_alg)alg, p, 3,
			    got), 0);
			assert_int_equal(EVP_Digest(joined, (size_t)n, dig, &dl,
			    alg == AUTH_ALG_MD5 ? EVP_md5() : EVP_sha256(),
			    NULL), 1);
			for (unsigned k = 0; k < dl; k++) {
				snprintf(want + 2 * k, 3, "%02x", dig[k]);
			}
			assert_string_equal(got, want);
		}
	}
	assert_int_equal(auth_hash_hex((enum auth_alg)7,
	    &(struct sv){ "a", 1 }, 1, got), -EINVAL);
	assert_int_equal(auth_hash_hex((enum auth_alg)7,
	    &(struct sv){ big, sizeof(big) }, 1, got), -EINVAL);
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(auth_equal("abcdef", "abcdef", 6));
	assert_false(auth_equal("abcdef", "abcdeF", 6));
	assert_false(auth_equal("xbcdef", "abcdef", 6));
	assert_true(auth_equal("a", "b", 0));
}

static void
md5_only(struct auth_settings *s)
{
	s->algs = AUTH_ALG_BIT(AUTH_ALG_MD5);
}

static void
sha_first(struct auth_settings *s)
{
	s->sha256_first = true;
}

static void
ntlm_only(struct auth_settings *s)
{
	s->advertise_ntlm = true;
	s->advertise_digest = false;
}

static void
ntlm_no_qop(struct auth_settings *s)
{
	s->advertise_ntlm = true;
	s->advertise_auth = false;
}

static void
test_challenge_format(void **state)
{
	char buf[AUTH_CHALLENGE_SIZE], nonce[64], copy[AUTH_CHALLENGE_SIZE];
	const char *p;
	struct auth *a = new_auth(NULL);
	struct msg *req, *resp;
	int n;

	(void)state;
	n = auth_challenge(a, REALM, false, SRC, HDR_WWW_AUTHENTICATE, buf,
	    sizeof(buf));
	assert_int_equal(n, 2);
	/* By default MD5 first: user agents that read one challenge */
	p = buf;
	assert_non_null(strstr(p, "algorithm=MD5"));
	assert_true(strncmp(p, "Digest realm=\"example.com\", nonce=\"", 35) ==
	    0);
	assert_non_null(strstr(p, ", qop=\"auth\""));
	assert_null(strstr(p, "stale"));
	p += strlen(p) + 1;
	assert_non_null(strstr(p, "algorithm=SHA-256"));
	/* Both name the same nonce. */
	assert_true(memcmp(buf + 35, p + 35, 43) == 0);

	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	challenge_nonce(a, SRC, true, AUTH_ALG_MD5, nonce);
	/* Two challenges in the same second have different nonces. */
	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_WWW_AUTHENTICATE, copy, sizeof(copy)),
	    2);
	assert_int_not_equal(memcmp(buf + 35, copy + 35, 43), 0);

	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_PROXY_AUTHENTICATE, buf, sizeof(buf)),
	    2);
	assert_int_equal(auth_challenge(a, REALM, false, SRC, HDR_VIA, buf,
			     sizeof(buf)),
	    -EINVAL);
	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, 100),
	    -ENOSPC);
	assert_int_equal(auth_challenge(a, "bad\r\nrealm", false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    -EINVAL);
	assert_int_equal(auth_challenge(a, "", false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    -EINVAL);
	/* A quote in the realm is a quoted-pair. */
	assert_int_equal(auth_challenge(a, "a\"b\\c", false, NULL,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    2);
	assert_true(strncmp(buf, "Digest realm=\"a\\\"b\\\\c\", ", 24) == 0);

	/* Appended to a response: one header line per challenge. */
	req = request("REGISTER", "sip:example.com", NULL, NULL);
	resp = msg_response(req, 407, NULL, SV_LIT("t1"));
	assert_non_null(resp);
	assert_int_equal(auth_challenge_append(a, resp, REALM, true, SRC,
			     HDR_PROXY_AUTHENTICATE),
	    2);
	assert_int_equal(msg_hdr_count(resp, HDR_PROXY_AUTHENTICATE), 2);
	msg_free(resp);
	msg_free(req);
	auth_free(a);

	a = new_auth(md5_only);
	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    1);
	assert_non_null(strstr(buf, "algorithm=MD5"));
	auth_free(a);

	/* RFC 8760 2.4: the preferred algorithm first, when asked */
	a = new_auth(sha_first);
	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    2);
	assert_non_null(strstr(buf, "algorithm=SHA-256"));
	assert_non_null(strstr(buf + strlen(buf) + 1, "algorithm=MD5"));
	auth_free(a);

	/* Digest not advertised: NTLM only, unless nothing would be left */
	a = new_auth(ntlm_only);
	assert_int_equal(auth_challenge(a, REALM, false, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    1);
	assert_string_equal(buf, "NTLM realm=\"example.com\"");
	auth_free(a);

	a = new_auth(ntlm_no_qop);
	assert_int_equal(auth_challenge(a, REALM, true, SRC,
			     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
	    3);
	p = buf;
	assert_null(strstr(p, "qop"));
	assert_non_null(strstr(p, ", stale=true"));
	p += strlen(p) + 1;
	p += strlen(p) + 1;
	assert_string_equal(p, "NTLM realm=\"example.com\"");
	auth_free(a);

	/* No algorithm offered: no instance. */
	{
		struct auth_settings s;

		auth_settings_init(&s);
		s.algs = 0;
		assert_null(auth_new(&s));
	}
}

static void
test_success(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_result res;
	char nonce[64];
	struct cred c = { .user = "alice", .password = "secret" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.alg = AUTH_ALG_SHA256;
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	assert_string_equal(res.user, "alice");
	assert_int_equal(res.alg, AUTH_ALG_SHA256);
	assert_int_equal(res.reason, AUTH_R_NONE);

	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.alg = AUTH_ALG_MD5;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	assert_int_equal(res.alg, AUTH_ALG_MD5);

	/* No algorithm parameter means MD5 (RFC 7616 3.3). */
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.alg_name = "";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.alg_name = "md5";
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.alg_name = NULL;
	c.nc = NULL;

	/* -sess forms of an offered algorithm */
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.alg = AUTH_ALG_SHA256;
	c.sess = true;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.sess = false;

	/* Same address, another port: still the nonce's source. */
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC_PORT, &res), AUTH_OK);

	/* IPv6 */
	challenge_nonce(a, SRC6_A, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC6_A, &res), AUTH_OK);
	auth_free(a);
}

/* auth_check_alt(): the badByeAuth variants, and nothing else. */
static enum auth_status
check_bye(struct auth *a, const struct cred *c, const char *digest_method,
    const struct auth_alt *alt, struct auth_result *res)
{
	char value[2048];
	struct msg *m;

	cred_value(c, digest_method, value, sizeof(value));
	m = request("BYE", "sip:bob@192.0.2.9:5070", "Proxy-Authorization",
	    value);
	assert_int_equal(auth_check_alt(a, m, HDR_PROXY_AUTHORIZATION, NULL,
			     SRC, REALM, test_lookup, NULL, alt, res),
	    0);
	msg_free(m);
	return res->status;
}

static void
test_alt(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_result res;
	char nonce[64];
	struct auth_alt both = { true, SV_LIT("sip:bob@example.com") };
	struct auth_alt inv = { true, { NULL, 0 } };
	struct cred c = { .alg = AUTH_ALG_MD5,
		.user = "bob",
		.password = "hunter2",
		.uri = "sip:bob@192.0.2.9:5070" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.nonce = nonce;
	/* right: no variant */
	c.nc = "00000001";
	assert_int_equal(check_bye(a, &c, "BYE", &both, &res), AUTH_OK);
	assert_null(res.variant);
	/* computed with INVITE: refused without alt, accepted with it */
	c.nc = "00000002";
	assert_int_equal(check_bye(a, &c, "INVITE", NULL, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_PASSWORD);
	c.nc = "00000003";
	assert_int_equal(check_bye(a, &c, "INVITE", &inv, &res), AUTH_OK);
	assert_string_equal(res.variant, "method INVITE");
	/* the same nonce count again: a replay, variant or not */
	assert_int_equal(check_bye(a, &c, "INVITE", &inv, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	/* a wrong password is wrong in every variant */
	c.nc = "00000004";
	c.password = "wrong";
	assert_int_equal(check_bye(a, &c, "INVITE", &both, &res),
	    AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_PASSWORD);
	c.password = "hunter2";
	/* the credentials name the initial Request-URI */
	c.uri = "sip:bob@example.com";
	c.nc = "00000005";
	assert_int_equal(check_bye(a, &c, "BYE", &both, &res), AUTH_OK);
	assert_string_equal(res.variant, "initial Request-URI");
	c.nc = "00000006";
	assert_int_equal(check_bye(a, &c, "INVITE", &both, &res), AUTH_OK);
	assert_string_equal(res.variant,
	    "method INVITE and initial Request-URI");
	/* without alt, or naming a third URI: 400 as before */
	c.nc = "00000007";
	assert_int_equal(check_bye(a, &c, "BYE", &inv, &res), AUTH_MALFORMED);
	c.uri = "sip:carol@example.com";
	assert_int_equal(check_bye(a, &c, "BYE", &both, &res),
	    AUTH_MALFORMED);
	auth_free(a);
}

static void
test_proxy_and_uri(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_result res;
	char nonce[64], mine[2048], other[2048], both[4200];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "bob",
		.password = "hunter2" };
	struct msg *m;

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	c.uri = "sip:bob@EXAMPLE.COM;transport=udp";
	cred_value(&c, "INVITE", mine, sizeof(mine));
	c.realm = "other.example.com";
	c.password = "other";
	cred_value(&c, "INVITE", other, sizeof(other));
	/* Credentials for another proxy first, ours second. */
	snprintf(both, sizeof(both), "%s\r\nProxy-Authorization: %s", other,
	    mine);
	/* RFC 3261 19.1.4: the uri equals the Request-URI loosely */
	m = request("INVITE", "sip:bob@example.com;transport=UDP",
	    "Proxy-Authorization", both);
	assert_int_equal(auth_check(a, m, HDR_PROXY_AUTHORIZATION, "INVITE",
			     SRC, REALM, test_lookup, NULL, &res),
	    0);
	assert_int_equal(res.status, AUTH_OK);
	assert_string_equal(res.user, "bob");
	/* The method is part of the digest (HA2). */
	assert_int_equal(auth_check(a, m, HDR_PROXY_AUTHORIZATION, "BYE", SRC,
			     REALM, test_lookup, NULL, &res),
	    0);
	assert_int_equal(res.status, AUTH_FAILED);
	/* In Authorization they are not looked at. */
	assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL, SRC, REALM,
			     test_lookup, NULL, &res),
	    0);
	assert_int_equal(res.status, AUTH_NO_CREDENTIALS);
	/* Arguments */
	assert_int_equal(auth_check(a, m, HDR_VIA, NULL, SRC, REALM,
			     test_lookup, NULL, &res),
	    -EINVAL);
	assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL, SRC, NULL,
			     test_lookup, NULL, &res),
	    -EINVAL);
	msg_free(m);

	/* A uri that is not the Request-URI: 400 */
	m = request("INVITE", "sip:carol@example.com", "Proxy-Authorization",
	    mine);
	assert_int_equal(auth_check(a, m, HDR_PROXY_AUTHORIZATION, NULL, SRC,
			     REALM, test_lookup, NULL, &res),
	    0);
	assert_int_equal(res.status, AUTH_MALFORMED);
	assert_non_null(res.phrase);
	msg_free(m);
	auth_free(a);
}

/* The challenge a, with its nonce replaced by N: the shape of it. */
static void
challenge_shape(struct auth *a, char *out, size_t cap)
{
	char *p;
	int n, i;

	n = auth_challenge(a, REALM, false, SRC, HDR_WWW_AUTHENTICATE, out,
	    cap);
	assert_int_equal(n, 2);
	for (i = 0, p = out; i < n; i++) {
		char *q = strstr(p, "nonce=\"");

		assert_non_null(q);
		memset(q + 7, 'N', 43);
		p += strlen(p) + 1;
		if (i + 1 < n) {
			p[-1] = '|';
		}
	}
}

static void
test_wrong_password_unknown_user(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_result r1, r2;
	char nonce[64], shape1[AUTH_CHALLENGE_SIZE], shape2[AUTH_CHALLENGE_SIZE];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "wrong" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	lookups = 0;
	assert_int_equal(check_cred(a, &c, SRC, &r1), AUTH_FAILED);
	assert_int_equal(r1.reason, AUTH_R_BAD_PASSWORD);
	assert_int_equal(lookups, 1);
	challenge_shape(a, shape1, sizeof(shape1));

	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.user = "mallory";
	c.password = "secret";
	assert_int_equal(check_cred(a, &c, SRC, &r2), AUTH_FAILED);
	assert_int_equal(r2.reason, AUTH_R_UNKNOWN_USER);
	/* The account was looked up and a digest computed all the same. */
	assert_int_equal(lookups, 2);
	challenge_shape(a, shape2, sizeof(shape2));

	/* Same status, same challenge: the wire tells nothing apart. */
	assert_int_equal(r1.status, r2.status);
	assert_string_equal(shape1, shape2);
	assert_string_equal(r2.user, "mallory");

	/* A lookup that fails is passed on, a broken HA1 refused. */
	{
		char value[2048];
		struct msg *m;

		challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
		c.user = "alice";
		cred_value(&c, "REGISTER", value, sizeof(value));
		m = request("REGISTER", "sip:example.com", "Authorization",
		    value);
		assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL,
				     SRC, REALM, failing_lookup, NULL, &r1),
		    -EIO);
		assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL,
				     SRC, REALM, broken_lookup, NULL, &r1),
		    -EINVAL);
		msg_free(m);
	}
	auth_free(a);
}

static void
test_stale(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_result res;
	char nonce[64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "secret" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	test_now = T0 + AUTH_DEFAULT_NONCE_LIFETIME - 1;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	test_now = T0 + AUTH_DEFAULT_NONCE_LIFETIME;
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_STALE);
	assert_int_equal(res.reason, AUTH_R_EXPIRED);
	/* RFC 7616 3.3: stale only with the right password */
	c.password = "wrong";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_PASSWORD);
	/* A nonce from well after now (the clock stepped back): stale. */
	c.password = "secret";
	test_now = T0 + 1000;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	test_now = T0;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_STALE);
	auth_free(a);
}

/*
 * method ruri carrying alice's credentials (uri=ruri) whose response was
 * computed over dmethod and duri with alg, under a fresh nonce; the
 * status of auth_check().
 */
static enum auth_status
check_over(struct auth *a, const char *method, const char *ruri,
    const char *dmethod, const char *duri, enum auth_alg alg)
{
	char ha1[AUTH_HEX_SIZE], resp[AUTH_HEX_SIZE], nonce[64], value[2048];
	struct auth_result res;
	struct msg *m;

	challenge_nonce(a, SRC, false, alg, nonce);
	assert_int_equal(auth_ha1(alg, "alice", REALM, "secret", ha1), 0);
	assert_int_equal(auth_digest_response(alg, false,
	    (struct sv){ ha1, strlen(ha1) },
	    (struct sv){ nonce, strlen(nonce) },
	    SV_LIT("00000001"), SV_LIT("0a4f113b"), SV_LIT("auth"),
	    (struct sv){ dmethod, strlen(dmethod) },
	    (struct sv){ duri, strlen(duri) }, resp), 0);
	snprintf(value, sizeof(value), "Digest username=\"alice\", "
	    "realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
	    "algorithm=%s, qop=auth, nc=00000001, cnonce=\"0a4f113b\"",
	    REALM, nonce, ruri, resp, auth_alg_name(alg));
	m = request(method, ruri, "Authorization", value);
	assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL, SRC, REALM,
	    test_lookup, NULL, &res), 0);
	msg_free(m);
	return res.status;
}

/*
 * A worker keeps the last HA2 (method and Request-URI): it is used only
 * for the same method, Request-URI and algorithm.  A response computed
 * over another method or URI than the request's fails whatever came
 * before; one over the request's passes whatever came before, and so on
 * back and forth, with a URI too long to be kept too.
 */
static void
test_ha2_kept(void **state)
{
	struct auth *a = new_auth(no_limit);
	char longuri[600];

	(void)state;
	snprintf(longuri, sizeof(longuri), "sip:%0*d@example.com", 500, 7);
	for (int round = 0; round < 2; round++) {
		for (int alg = 0; alg < AUTH__ALG_COUNT; alg++) {
			enum auth_alg g = (enum auth_alg)alg;

			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.com", "REGISTER", "sip:example.com",
			    g), AUTH_OK);
			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.org", "REGISTER", "sip:example.com",
			    g), AUTH_FAILED);
			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.org", "REGISTER", "sip:example.org",
			    g), AUTH_OK);
			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.org", "REGISTER", "sip:example.org",
			    g), AUTH_OK);
			assert_int_equal(check_over(a, "INVITE",
			    "sip:example.org", "REGISTER", "sip:example.org",
			    g), AUTH_FAILED);
			assert_int_equal(check_over(a, "INVITE",
			    "sip:example.org", "INVITE", "sip:example.org",
			    g), AUTH_OK);
			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.orgx", "REGISTER",
			    "sip:example.org", g), AUTH_FAILED);
			assert_int_equal(check_over(a, "REGISTER", longuri,
			    "REGISTER", longuri, g), AUTH_OK);
			assert_int_equal(check_over(a, "REGISTER", longuri,
			    "REGISTER", "sip:example.com", g), AUTH_FAILED);
			assert_int_equal(check_over(a, "REGISTER",
			    "sip:example.com", "REGISTER", longuri, g),
			    AUTH_FAILED);
		}
	}
	auth_free(a);
}

static void
test_forged_nonce(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
				       "mnopqrstuvwxyz0123456789-_";
	struct auth *a = new_auth(no_limit), *b;
	struct auth_result res;
	char nonce[64], forged[64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "secret" };
	size_t i;
	uint8_t key[32];

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = forged;
	/* Any one character changed, to the next one of the alphabet. */
	for (i = 0; i < strlen(nonce); i++) {
		const char *at = strchr(alphabet, nonce[i]);

		assert_non_null(at);
		strcpy(forged, nonce);
		forged[i] = at[1] != '\0' ? at[1] : alphabet[0];
		assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
		assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	}
	/* Cut, lengthened, or not base64url at all */
	strcpy(forged, nonce);
	forged[42] = '\0';
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	snprintf(forged, sizeof(forged), "%sA", nonce);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	strcpy(forged, nonce);
	forged[5] = '+';
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	strcpy(forged, "x");
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	/*
	 * One nonce, one spelling: every byte outside the alphabet, in
	 * place of every value a character takes (nonces are made until
	 * each of the places tried, the four of a group and the last
	 * three, took every value), is refused by the decoder, not read as
	 * some character's value, which the MAC would then pass
	 */
	{
		static const size_t at[] = { 28, 29, 30, 31, 40, 41, 42 };
		const size_t nat = sizeof(at) / sizeof(at[0]);
		bool seen[sizeof(at) / sizeof(at[0])][64] = { { false } };
		/* the last character's low two bits are zero */
		size_t nseen = 0, want = (nat - 1) * 64 + 16;
		uint8_t id[AUTH_NONCE_ID];
		int64_t issued;
		char made[AUTH_NONCE_LEN + 1];

		for (int tries = 0; tries < 20000 && nseen < want; tries++) {
			auth_nonce_make(a, T0, SRC, REALM, made);
			assert_int_equal(auth_nonce_verify(a,
			    (struct sv){ made, AUTH_NONCE_LEN }, SRC,
			    SV_LIT(REALM), &issued, id), 0);
			for (size_t k = 0; k < nat; k++) {
				const char *v = strchr(alphabet, made[at[k]]);

				assert_non_null(v);
				if (seen[k][v - alphabet]) {
					continue;
				}
				seen[k][v - alphabet] = true;
				nseen++;
				for (int ch = 0; ch < 256; ch++) {
					if (ch != 0 &&
					    strchr(alphabet, ch) != NULL) {
						continue;
					}
					memcpy(forged, made, sizeof(made));
					forged[at[k]] = (char)ch;
					assert_int_equal(auth_nonce_verify(a,
					    (struct sv){ forged,
						AUTH_NONCE_LEN },
					    SRC, SV_LIT(REALM), &issued, id),
					    -EINVAL);
				}
			}
		}
		assert_int_equal(nseen, want);
	}
	/* The genuine one passes. */
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);

	/* Another key: refused; a shared key: accepted. */
	b = new_auth(NULL);
	c.nc = "00000002";
	assert_int_equal(check_cred(b, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	memset(key, 0x42, sizeof(key));
	assert_int_equal(auth_set_secret(a, key, sizeof(key)), 0);
	assert_int_equal(auth_set_secret(b, key, sizeof(key)), 0);
	assert_int_equal(auth_set_secret(b, key, 8), -EINVAL);
	/* The old key's nonces fail now. */
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nc = NULL;
	assert_int_equal(check_cred(b, &c, SRC, &res), AUTH_OK);
	auth_free(b);
	auth_free(a);
}

static void
test_nonce_binding(void **state)
{
	struct auth *a = new_auth(no_limit);
	struct auth_result res;
	char nonce[64], value[2048];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "secret" };
	struct msg *m;

	(void)state;
	/* Issued to one source, used from another */
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC_B, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	assert_int_equal(check_cred(a, &c, SRC6_A, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	challenge_nonce(a, SRC6_A, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC6_B, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);

	/* Issued for one realm, used for another */
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.user = "bob";
	c.password = "other";
	c.realm = "other.example.com";
	cred_value(&c, "REGISTER", value, sizeof(value));
	m = request("REGISTER", "sip:example.com", "Authorization", value);
	assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL, SRC,
			     "other.example.com", test_lookup, NULL, &res),
	    0);
	assert_int_equal(res.status, AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	msg_free(m);
	auth_free(a);
}

static void
test_nc_replay(void **state)
{
	struct auth *a = new_auth(no_limit);
	struct auth_result res;
	char nonce[64], nonce2[64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "secret" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce2);
	c.nonce = nonce;
	c.nc = "00000001";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	/* The same request again: a replay */
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	c.nc = "00000003";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	c.nc = "0000000A";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.nc = "0000000b";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	/* Another nonce counts on its own. */
	c.nonce = nonce2;
	c.nc = "00000001";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.nc = "00000000";
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce2);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	auth_free(a);
}

static void
tiny_tables(struct auth_settings *s)
{
	s->nc_slots = 8;
	s->fail_slots = 8;
	s->fail_limit = 0;
}

static void
test_nc_eviction(void **state)
{
	struct auth *a = new_auth(tiny_tables);
	struct auth_result res;
	char nonces[10][64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "secret" };
	int i;

	(void)state;
	/* Nine nonces in a table of eight: the oldest loses its entry. */
	for (i = 0; i < 9; i++) {
		test_now = T0 + i;
		challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonces[i]);
		c.nonce = nonces[i];
		c.nc = "00000001";
		assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	}
	/* Its replay cannot be told from a first use: stale, not OK. */
	c.nonce = nonces[0];
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_STALE);
	assert_int_equal(res.reason, AUTH_R_FORGOTTEN);
	/* The others still count. */
	c.nonce = nonces[8];
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	/* A nonce issued after the eviction is trusted. */
	test_now = T0 + 20;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonces[9]);
	c.nonce = nonces[9];
	c.nc = "00000001";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	auth_free(a);
}

static void
test_malformed(void **state)
{
	static const char ok_tail[] =
	    "uri=\"sip:example.com\", response=\"" /* 64 hex */
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"";
	static const struct {
		const char *value;
		enum auth_status status;
		enum auth_reason reason;
	} cases[] = {
		/* required parameters missing */
		{ "Digest realm=\"example.com\", nonce=\"n\", uri=\"sip:"
		  "example.com\", response=\"0123456789abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "uri=\"sip:example.com\", response=\"0123\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", response=\"0123\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", uri=\"sip:example.com\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"\", realm=\"example.com\", nonce=\"n\", "
		  "uri=\"sip:example.com\", response=\"0\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		/* bad quoting */
		{ "Digest username=\"alice, realm=\"example.com\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\" realm=\"example.com\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=, realm=\"example.com\"", AUTH_MALFORMED,
		    AUTH_R_SYNTAX },
		{ "Digest username=\"al\\\"ice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"012345678"
		  "9abcdef0123456789abcdef\"",
		    AUTH_FAILED, AUTH_R_BAD_NONCE },
		/* qop=auth without nc or cnonce, a bad nc */
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, cnonce=\"c\", "
		  "uri=\"sip:example.com\", response=\"0123456789abcdef01234567"
		  "89abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=00000001, "
		  "uri=\"sip:example.com\", response=\"0123456789abcdef01234567"
		  "89abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=0000001g, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0123456789"
		  "abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=1, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0123456789"
		  "abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		/* nc without qop; -sess without qop */
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", nc=00000001, uri=\"sip:example.com\", "
		  "response=\"0123456789abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5-sess, uri=\"sip:example.com\", "
		  "response=\"0123456789abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		/* response of the wrong length for the algorithm, not hex */
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=SHA-256, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0123456789"
		  "abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0123456789"
		  "abcdef0123456789abcdeZ\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		/* uri not a SIP URI at all and not the Request-URI */
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"/dir/index.html\", response=\"0123456789"
		  "abcdef0123456789abcdef\"",
		    AUTH_MALFORMED, AUTH_R_SYNTAX },
		/* unknown algorithm; qop not offered; qop left out */
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=SHA-512-256, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0\"",
		    AUTH_FAILED, AUTH_R_ALGORITHM },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth-int, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", response=\"0123456789"
		  "abcdef0123456789abcdef\"",
		    AUTH_FAILED, AUTH_R_QOP },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, uri=\"sip:example.com\", "
		  "response=\"0123456789abcdef0123456789abcdef\"",
		    AUTH_FAILED, AUTH_R_QOP },
		{ "Digest username=\"alice\", realm=\"example.com\", "
		  "nonce=\"n\", algorithm=MD5, qop=auth, nc=00000001, "
		  "cnonce=\"c\", uri=\"sip:example.com\", userhash=true, "
		  "response=\"0123456789abcdef0123456789abcdef\"",
		    AUTH_FAILED, AUTH_R_USERHASH },
		/* nothing for this realm */
		{ "Digest username=\"alice\", realm=\"elsewhere.example\", "
		  "nonce=\"n\", uri=\"sip:example.com\", response=\"0\"",
		    AUTH_NO_CREDENTIALS, AUTH_R_NONE },
		{ "Basic realm=\"example.com\"", AUTH_NO_CREDENTIALS,
		    AUTH_R_NONE },
		/* not SIP's credentials grammar (RFC 3261 25.1) */
		{ "Basic YWxpY2U6c2VjcmV0", AUTH_MALFORMED, AUTH_R_SYNTAX },
		{ "NTLM realm=\"example.com\"", AUTH_NO_CREDENTIALS,
		    AUTH_R_NONE },
		{ "Digest", AUTH_NO_CREDENTIALS, AUTH_R_NONE },
		{ NULL, AUTH_NO_CREDENTIALS, AUTH_R_NONE },
	};
	struct auth *a = new_auth(no_limit);
	struct auth_result res;
	char big[3000], value[4000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_raw(a, cases[i].value, &res);
		if (res.status != cases[i].status ||
		    res.reason != cases[i].reason) {
			fail_msg("case %zu: status %d reason %d, want %d %d: %s",
			    i, res.status, res.reason, cases[i].status,
			    cases[i].reason,
			    cases[i].value ? cases[i].value : "(none)");
		}
		if (res.status == AUTH_MALFORMED) {
			assert_non_null(res.phrase);
		}
	}
	assert_int_equal(res.user[0], '\0');

	/* Huge values: a user name over AUTH_USER_MAX, a huge cnonce */
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(value, sizeof(value),
	    "Digest username=\"%.*s\", realm=\"example.com\", nonce=\"n\", "
	    "algorithm=SHA-256, %s",
	    AUTH_USER_MAX + 1, big, ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_MALFORMED);
	snprintf(value, sizeof(value),
	    "Digest username=\"%.*s\", realm=\"example.com\", nonce=\"n\", "
	    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c\", %s",
	    AUTH_USER_MAX, big, ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	assert_int_equal(strlen(res.user), AUTH_USER_MAX);
	snprintf(value, sizeof(value),
	    "Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", "
	    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"%.*s\", %s",
	    2000, big, ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_MALFORMED);
	snprintf(value, sizeof(value),
	    "Digest username=\"alice\", realm=\"example.com\", nonce=\"%.*s\", "
	    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c\", %s",
	    2000, big, ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_NONCE);
	snprintf(value, sizeof(value),
	    "Digest username=\"alice\", realm=\"%.*s\", nonce=\"n\", %s", 2000,
	    big, ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_NO_CREDENTIALS);
	/* A NUL cannot come in a header; an escaped quote may. */
	snprintf(value, sizeof(value),
	    "Digest username=\"a\\\\b\\\"c\", realm=\"example.com\", "
	    "nonce=\"n\", algorithm=SHA-256, qop=auth, nc=00000001, "
	    "cnonce=\"c\", %s",
	    ok_tail);
	assert_int_equal(check_raw(a, value, &res), AUTH_FAILED);
	assert_string_equal(res.user, "a\\b\"c");
	auth_free(a);
}

static void
qop_off(struct auth_settings *s)
{
	s->advertise_auth = false;
}

static void
rfc2069_on(struct auth_settings *s)
{
	s->advertise_auth = false;
	s->rfc2069 = true;
}

static void
test_no_qop(void **state)
{
	struct auth *a = new_auth(qop_off);
	struct auth_result res;
	char nonce[64];
	struct cred c = { .alg = AUTH_ALG_MD5,
		.user = "alice",
		.password = "secret",
		.qop = "" };

	(void)state;
	/*
	 * RFC 2069 credentials carry no nonce count: refused, even when
	 * qop is not offered, unless the compatibility is asked for.
	 */
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_QOP);
	auth_free(a);

	a = new_auth(rfc2069_on);
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	/* what the compatibility costs: the same digest again is taken */
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	c.password = "bad";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_BAD_PASSWORD);
	/* qop=auth is still welcome, and still counted */
	c.password = "secret";
	c.qop = NULL;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	auth_free(a);
}

/*
 * Two instances on one state, as two workers: a nonce count used on one
 * is used on the other, failures on both add up to one limit, a block
 * lifted on one is lifted for both, and the challenge rate is one.
 */
static void
test_shared_state(void **state)
{
	static const uint8_t key[32] = { 1, 2, 3 };
	struct auth_settings s;
	struct auth_state *st;
	struct auth *a, *b;
	struct auth_result res;
	char nonce[64];
	struct cred c = { .alg = AUTH_ALG_MD5,
		.user = "alice",
		.password = "secret" };
	int i;

	(void)state;
	auth_settings_init(&s);
	s.clock = test_clock;
	s.fail_limit = 4;
	s.challenge_rate = 3;
	st = auth_state_new(&s);
	assert_non_null(st);
	a = auth_new_shared(&s, st);
	b = auth_new_shared(&s, st);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(auth_set_secret(a, key, sizeof(key)), 0);
	assert_int_equal(auth_set_secret(b, key, sizeof(key)), 0);

	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nonce);
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	assert_int_equal(check_cred(b, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	c.nc = "00000002";
	assert_int_equal(check_cred(b, &c, SRC, &res), AUTH_OK);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);

	/* two replays above, two bad passwords here: four, blocked */
	c.nc = "00000003";
	c.password = "bad";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_false(auth_blocked(b, SRC, NULL));
	assert_int_equal(check_cred(b, &c, SRC, &res), AUTH_FAILED);
	assert_true(auth_blocked(a, SRC, NULL));
	assert_true(auth_blocked(b, SRC, NULL));
	c.password = "secret";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_BLOCKED);
	assert_int_equal(auth_unblock(b, SRC), 1);
	assert_int_equal(auth_unblock(a, SRC), 0);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);

	/* three challenges a second for a source, whichever instance */
	for (i = 0; i < 3; i++) {
		assert_true(auth_challenge_allowed(i % 2 ? a : b, SRC));
	}
	assert_false(auth_challenge_allowed(a, SRC));
	assert_false(auth_challenge_allowed(b, SRC));
	/* the same /64, or the same address with another port: one source */
	assert_true(auth_challenge_allowed(a, SRC_B));
	assert_false(auth_challenge_allowed(a, SRC_PORT));
	for (i = 0; i < 3; i++) {
		assert_true(auth_challenge_allowed(a, SRC6_A));
	}
	assert_false(auth_challenge_allowed(b, SRC6_B));
	assert_true(auth_challenge_allowed(b, SRC6_C));
	/* the next second starts afresh */
	test_now++;
	assert_true(auth_challenge_allowed(b, SRC));
	auth_free(a);
	auth_free(b);
	auth_state_free(st);

	/* 0: no limit */
	s.challenge_rate = 0;
	a = auth_new(&s);
	assert_non_null(a);
	for (i = 0; i < 1000; i++) {
		assert_true(auth_challenge_allowed(a, SRC));
	}
	auth_free(a);
}

static void
limit3(struct auth_settings *s)
{
	s->fail_limit = 3;
	s->fail_window = 60;
	s->fail_penalty = 300;
}

struct blocks {
	int n;
	char str[4][64];
	uint32_t remaining[4];
	uint32_t failures[4];
};

static int
collect(void *arg, const struct auth_block *b)
{
	struct blocks *bl = arg;

	if (bl->n < 4) {
		auth_block_str(b, bl->str[bl->n], sizeof(bl->str[0]));
		bl->remaining[bl->n] = b->remaining;
		bl->failures[bl->n] = b->failures;
		bl->n++;
	}
	return 0;
}

static void
test_limiter(void **state)
{
	struct auth *a = new_auth(limit3);
	struct auth_result res;
	struct blocks bl;
	char nonce[64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "wrong" };
	uint32_t left;
	int i;

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	/* Two failures, then the window passes: no block */
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	test_now += 30;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	test_now += 31;
	assert_false(auth_blocked(a, SRC, NULL));
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_false(auth_blocked(a, SRC, &left));
	assert_int_equal(left, 0);
	/* The third within the window blocks. */
	test_now += 10;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_true(auth_blocked(a, SRC, &left));
	assert_int_equal(left, 300);
	assert_true(auth_blocked(a, SRC_PORT, NULL));
	assert_false(auth_blocked(a, SRC_B, NULL));

	/* Blocked: 403 even with the right password and a fresh nonce */
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.password = "secret";
	lookups = 0;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_BLOCKED);
	assert_int_equal(lookups, 0);
	assert_int_equal(check_raw(a, NULL, &res), AUTH_BLOCKED);
	/* Others are not. */
	challenge_nonce(a, SRC_B, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC_B, &res), AUTH_OK);

	memset(&bl, 0, sizeof(bl));
	assert_int_equal(auth_blocks(a, collect, &bl), 1);
	assert_string_equal(bl.str[0], "198.51.100.7");
	assert_int_equal(bl.remaining[0], 300);
	assert_int_equal(bl.failures[0], 3);

	/* The penalty ends */
	test_now += 299;
	assert_true(auth_blocked(a, SRC, &left));
	assert_int_equal(left, 1);
	test_now += 1;
	assert_false(auth_blocked(a, SRC, NULL));
	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	memset(&bl, 0, sizeof(bl));
	assert_int_equal(auth_blocks(a, collect, &bl), 0);

	/* and starts afresh: one failure does not block again. */
	c.password = "wrong";
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_false(auth_blocked(a, SRC, NULL));

	/* IPv6 sources count by /64. */
	challenge_nonce(a, SRC6_A, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC6_A, &res), AUTH_FAILED);
	challenge_nonce(a, SRC6_B, false, AUTH_ALG_SHA256, nonce);
	assert_int_equal(check_cred(a, &c, SRC6_B, &res), AUTH_FAILED);
	assert_false(auth_blocked(a, SRC6_A, NULL));
	assert_int_equal(check_cred(a, &c, SRC6_B, &res), AUTH_FAILED);
	assert_true(auth_blocked(a, SRC6_A, NULL));
	assert_true(auth_blocked(a, SRC6_B, NULL));
	assert_false(auth_blocked(a, SRC6_C, NULL));
	memset(&bl, 0, sizeof(bl));
	assert_int_equal(auth_blocks(a, collect, &bl), 1);
	assert_string_equal(bl.str[0], "2001:db8:1:2::/64");

	/* sipctl's unblock */
	assert_int_equal(auth_unblock(a, SRC6_B), 1);
	assert_false(auth_blocked(a, SRC6_A, NULL));
	assert_int_equal(auth_unblock(a, SRC6_B), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(check_cred(a, &c, SRC_B, &res), AUTH_FAILED);
	}
	assert_true(auth_blocked(a, SRC_B, NULL));
	assert_true(auth_unblock(a, NULL) >= 1);
	assert_false(auth_blocked(a, SRC_B, NULL));
	auth_free(a);
}

static void
tiny_fail_table(struct auth_settings *s)
{
	s->fail_slots = 8;
	s->fail_limit = 2;
}

static void
test_limiter_bounded(void **state)
{
	struct auth *a = new_auth(tiny_fail_table);
	struct auth_result res;
	struct sockaddr_in s;
	struct blocks bl;
	char ip[32];
	int i;

	(void)state;
	/* Many sources in a table of eight: it evicts and never grows. */
	for (i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250 + 1);
		addr4(&s, ip, 5060);
		{
			struct msg *m = request("REGISTER", "sip:example.com",
			    "Authorization",
			    "Digest username=\"alice\", realm=\"example.com\", "
			    "nonce=\"n\", algorithm=MD5, qop=auth, "
			    "nc=00000001, cnonce=\"c\", uri=\"sip:example.com\","
			    " response=\"0123456789abcdef0123456789abcdef\"");

			assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION,
					     NULL, (struct sockaddr *)&s, REALM,
					     test_lookup, NULL, &res),
			    0);
			assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION,
					     NULL, (struct sockaddr *)&s, REALM,
					     test_lookup, NULL, &res),
			    0);
			msg_free(m);
		}
	}
	memset(&bl, 0, sizeof(bl));
	assert_true(auth_blocks(a, collect, &bl) <= 8);
	assert_true(auth_unblock(a, NULL) <= 8);
	auth_free(a);
}

/* The log: the fixed form, the reasons told apart, the user escaped. */
static void
test_log_lines(void **state)
{
	char path[] = "/tmp/sipd-test-auth-XXXXXX", text[16384];
	struct auth *a = new_auth(no_limit);
	struct auth_result res;
	char nonce[64];
	struct cred c = { .alg = AUTH_ALG_SHA256,
		.user = "alice",
		.password = "wrong" };
	size_t n;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open_file(path), 0);
	log_set_level(LOG_SERVER, LOG_LEVEL_PROBLEMS);

	challenge_nonce(a, SRC, false, AUTH_ALG_SHA256, nonce);
	c.nonce = nonce;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	c.user = "mallory";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	c.user = "x' src=192.0.2.66:5060 realm='y";
	assert_int_equal(check_cred(a, &c, SRC6_A, &res), AUTH_FAILED);
	log_open(LOG_OUT_STDERR, "test");
	log_set_level(LOG_SERVER, LOG_LEVEL_FAILURE);

	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(text,
	    "auth, failed user='alice' src=198.51.100.7:5060 "
	    "realm='example.com' (bad password)"));
	assert_non_null(strstr(text,
	    "auth, failed user='mallory' src=198.51.100.7:5060 "
	    "realm='example.com' (unknown user)"));
	assert_non_null(strstr(text,
	    "auth, failed user='x\\x27 src=192.0.2.66:5060 realm=\\x27y' "
	    "src=[2001:db8:1:2::1]:5060 realm='example.com' (bad nonce)"));
	assert_null(strstr(text, "src=192.0.2.66:5060 realm='y'"));
	auth_free(a);
}

static void
test_configure(void **state)
{
	struct auth *a = new_auth(NULL);
	struct auth_settings s;
	struct auth_result res;
	char na[64], nb[64];
	struct cred c = { .alg = AUTH_ALG_MD5,
		.user = "alice",
		.password = "secret" };

	(void)state;
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, na);
	c.nonce = na;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	test_now = T0 + 200;
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, nb);
	c.nonce = nb;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);

	/* the challenge order follows the settings in force */
	auth_settings_init(&s);
	s.clock = test_clock;
	s.sha256_first = true;
	assert_int_equal(auth_configure(a, &s), 0);
	{
		char buf[AUTH_CHALLENGE_SIZE];

		assert_int_equal(auth_challenge(a, REALM, false, SRC,
				     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
		    2);
		assert_non_null(strstr(buf, "algorithm=SHA-256"));
		s.sha256_first = false;
		assert_int_equal(auth_configure(a, &s), 0);
		assert_int_equal(auth_challenge(a, REALM, false, SRC,
				     HDR_WWW_AUTHENTICATE, buf, sizeof(buf)),
		    2);
		assert_non_null(strstr(buf, "algorithm=MD5"));
		assert_null(strstr(buf, "algorithm=SHA-256"));
	}

	/* MD5 no longer offered: refused */
	s.algs = AUTH_ALG_BIT(AUTH_ALG_SHA256);
	assert_int_equal(auth_configure(a, &s), 0);
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_ALGORITHM);
	s.algs = 0;
	assert_int_equal(auth_configure(a, &s), -EINVAL);

	/*
	 * A longer lifetime brings nonce A back to life after its count
	 * entry died: it must not start counting afresh.  B's entry lives
	 * on with the new lifetime.
	 */
	test_now = T0 + 400;
	s.algs = AUTH_ALG_BIT(AUTH_ALG_MD5);
	s.nonce_lifetime = 3600;
	assert_int_equal(auth_configure(a, &s), 0);
	c.nonce = na;
	c.nc = "00000001";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_STALE);
	assert_int_equal(res.reason, AUTH_R_FORGOTTEN);
	c.nonce = nb;
	test_now = T0 + 1000;
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_FAILED);
	assert_int_equal(res.reason, AUTH_R_REPLAY);
	c.nc = "00000002";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	/* New nonces are trusted at once. */
	challenge_nonce(a, SRC, false, AUTH_ALG_MD5, na);
	c.nonce = na;
	c.nc = "00000001";
	assert_int_equal(check_cred(a, &c, SRC, &res), AUTH_OK);
	auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_rfc7616_vectors, setup),
	    cmocka_unit_test_setup(test_ha1, setup),
	    cmocka_unit_test_setup(test_equal, setup),
	    cmocka_unit_test_setup(test_hash_hex_join, setup),
	    cmocka_unit_test_setup(test_challenge_format, setup),
	    cmocka_unit_test_setup(test_success, setup),
	    cmocka_unit_test_setup(test_proxy_and_uri, setup),
	    cmocka_unit_test_setup(test_alt, setup),
	    cmocka_unit_test_setup(test_wrong_password_unknown_user, setup),
	    cmocka_unit_test_setup(test_stale, setup),
	    cmocka_unit_test_setup(test_forged_nonce, setup),
	    cmocka_unit_test_setup(test_ha2_kept, setup),
	    cmocka_unit_test_setup(test_nonce_binding, setup),
	    cmocka_unit_test_setup(test_nc_replay, setup),
	    cmocka_unit_test_setup(test_nc_eviction, setup),
	    cmocka_unit_test_setup(test_malformed, setup),
	    cmocka_unit_test_setup(test_no_qop, setup),
	    cmocka_unit_test_setup(test_shared_state, setup),
	    cmocka_unit_test_setup(test_limiter, setup),
	    cmocka_unit_test_setup(test_limiter_bounded, setup),
	    cmocka_unit_test_setup(test_log_lines, setup),
	    cmocka_unit_test_setup(test_configure, setup),
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_is_hex_every_byte),
	};

	/* Quiet: test_log_lines turns the lines on where it reads them. */
	log_set_level(LOG_SERVER, LOG_LEVEL_FAILURE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
