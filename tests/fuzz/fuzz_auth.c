/*
 * fuzz_auth: sipd/auth's credential parsing and checking.  The first byte
 * chooses the setting (bit 0: Proxy-Authorization, bit 1: an IPv6 source,
 * bit 2: a stale challenge, bits 3-4: how far the clock moves before the
 * check, bit 5: qop not offered); the rest is a SIP request.  Before it is
 * parsed, "@NONCE@" becomes a nonce the instance just issued, and
 * "@RESP@" the right response for the first Digest credentials (user
 * alice, password secret), so valid, stale and replayed credentials are
 * reached as well as broken ones.  The request is checked twice (the
 * second time is a replay).  Checks: auth_check() returns 0 or a negative
 * errno, a known status, a user name that fits, a phrase for a 400, and
 * OK only for alice; the challenges parse back with msg_auths().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz_check.h"
#include "sipd/auth/auth.h"
#include "sipd/log.h"

#define FUZZ_AUTH_MAX 16384
#define FUZZ_REALM "example.com"
#define FUZZ_T0 1700000000

static int64_t fuzz_now;

static int64_t
fuzz_clock(void *arg)
{
	(void)arg;
	return fuzz_now;
}

static int
fuzz_lookup(void *arg, const char *user, const char *realm,
    enum auth_alg alg, char *ha1)
{
	(void)arg;
	if (strcmp(user, "alice") == 0) {
		return auth_ha1(alg, user, realm, "secret", ha1);
	}
	if (strcmp(user, "error") == 0) {
		return -EIO;
	}
	return -ENOENT;
}

/* buf with every pat replaced by rep; NULL on allocation failure. */
static char *
replace(const char *buf, size_t len, const char *pat, const char *rep,
    size_t *out_len)
{
	size_t pl = strlen(pat), rl = strlen(rep), n = 0, i, o = 0;
	char *out;

	for (i = 0; i + pl <= len; i++) {
		if (memcmp(buf + i, pat, pl) == 0) {
			n++;
			i += pl - 1;
		}
	}
	out = malloc(len + n * rl + 1);
	if (out == NULL) {
		return NULL;
	}
	for (i = 0; i < len;) {
		if (i + pl <= len && memcmp(buf + i, pat, pl) == 0) {
			memcpy(out + o, rep, rl);
			o += rl;
			i += pl;
		} else {
			out[o++] = buf[i++];
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static struct sv
sv_of(struct msg *m, struct span s)
{
	return msg_sv(m, s);
}

/*
 * The right response for the first Digest credentials of m, as a client
 * with alice's password computes it, into out ("0" when there is none).
 */
static void
right_response(struct msg *m, enum hdr_id id, char *out)
{
	const struct msg_auth *cr;
	char ha1[AUTH_HEX_SIZE];
	enum auth_alg alg = AUTH_ALG_MD5;
	bool sess = false;
	struct sv a;
	int n, i;

	strcpy(out, "0");
	n = msg_auths(m, id, &cr);
	for (i = 0; i < n; i++) {
		if (sv_caseeq_str(sv_of(m, cr[i].scheme), "Digest")) {
			break;
		}
	}
	if (n <= 0 || i == n) {
		return;
	}
	a = sv_of(m, cr[i].algorithm);
	if (sv_caseeq_str(a, "SHA-256") || sv_caseeq_str(a, "SHA-256-sess")) {
		alg = AUTH_ALG_SHA256;
	}
	sess = a.len > 5 && sv_caseeq_str((struct sv){ a.p + a.len - 5, 5 },
				"-sess");
	if (auth_ha1(alg, "alice", FUZZ_REALM, "secret", ha1) != 0 ||
	    auth_digest_response(alg, sess, (struct sv){ ha1, strlen(ha1) },
		sv_of(m, cr[i].nonce), sv_of(m, cr[i].nc),
		sv_of(m, cr[i].cnonce), sv_of(m, cr[i].qop),
		msg_method_name(m), sv_of(m, cr[i].uri), out) != 0) {
		strcpy(out, "0");
	}
}

/* The challenges, checked to parse back; the nonce of the first. */
static void
challenge(struct auth *a, const struct sockaddr *src, bool stale,
    enum hdr_id id, char nonce[64])
{
	char buf[AUTH_CHALLENGE_SIZE], text[4096];
	const struct msg_auth *ch;
	const char *p = buf, *q;
	struct msg_err err;
	struct msg *m;
	size_t off;
	int n, i;

	strcpy(nonce, "none");
	n = auth_challenge(a, FUZZ_REALM, stale, src, id, buf, sizeof(buf));
	FUZZ_CHECK(n >= 1 && n <= 3);
	off = (size_t)snprintf(text, sizeof(text),
	    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1"
	    "\r\nTo: <sip:a@h>;tag=1\r\nFrom: <sip:a@h>;tag=2\r\n"
	    "Call-ID: c\r\nCSeq: 1 REGISTER\r\n");
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "%s: %s\r\n", hdr_name(id), p);
		p += strlen(p) + 1;
	}
	snprintf(text + off, sizeof(text) - off, "Content-Length: 0\r\n\r\n");
	m = msg_parse(text, strlen(text), NULL, &err);
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(msg_auths(m, id, &ch) == n);
	q = strstr(buf, "nonce=\"");
	FUZZ_CHECK(q != NULL && strlen(q) > 7 + 43);
	memcpy(nonce, q + 7, 43);
	nonce[43] = '\0';
	msg_free(m);
}

static void
check_once(struct auth *a, struct msg *m, enum hdr_id id,
    const struct sockaddr *src)
{
	struct auth_result res;
	int rc;

	memset(&res, 0x5a, sizeof(res));
	rc = auth_check(a, m, id, NULL, src, FUZZ_REALM, fuzz_lookup, NULL,
	    &res);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0);
		return;
	}
	FUZZ_CHECK(res.status <= AUTH_BLOCKED);
	FUZZ_CHECK(memchr(res.user, '\0', sizeof(res.user)) != NULL);
	fuzz_touch(res.user, strlen(res.user));
	if (res.status == AUTH_MALFORMED) {
		FUZZ_CHECK(res.phrase != NULL && res.phrase[0] != '\0');
	}
	if (res.status == AUTH_OK) {
		FUZZ_CHECK(strcmp(res.user, "alice") == 0);
		FUZZ_CHECK(res.alg < AUTH__ALG_COUNT);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t advance[] = { 0, 100, 299, 301 };
	struct auth_settings s;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const struct sockaddr *src;
	char nonce[64], resp[AUTH_HEX_SIZE];
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;
	struct msg_err err;
	struct msg *m = NULL;
	struct auth *a = NULL;
	enum hdr_id id;
	uint8_t flags;
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	if (size < 1 || size > FUZZ_AUTH_MAX) {
		return 0;
	}
	log_set_level(LOG_SERVER, LOG_LEVEL_NONE);
	flags = data[0];
	id = (flags & 1) ? HDR_PROXY_AUTHORIZATION : HDR_AUTHORIZATION;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(5060);
	s4.sin_addr.s_addr = htonl(0xc6336407); /* 198.51.100.7 */
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(5060);
	s6.sin6_addr.s6_addr[0] = 0x20;
	s6.sin6_addr.s6_addr[1] = 0x01;
	s6.sin6_addr.s6_addr[15] = 1;
	src = (flags & 2) ? (const struct sockaddr *)&s6
			  : (const struct sockaddr *)&s4;

	auth_settings_init(&s);
	s.nc_slots = 64;
	s.fail_slots = 64;
	s.fail_limit = 3;
	s.advertise_auth = (flags & 32) == 0;
	s.clock = fuzz_clock;
	fuzz_now = FUZZ_T0;
	a = auth_new(&s);
	if (a == NULL) {
		return 0;
	}
	FUZZ_CHECK(auth_set_secret(a, key, sizeof(key)) == 0);
	challenge(a, src, (flags & 4) != 0,
	    (flags & 1) ? HDR_PROXY_AUTHENTICATE : HDR_WWW_AUTHENTICATE,
	    nonce);

	t1 = replace((const char *)data + 1, size - 1, "@NONCE@", nonce, &l1);
	if (t1 == NULL) {
		goto out;
	}
	if (strstr(t1, "@RESP@") != NULL) {
		m = msg_parse(t1, l1, NULL, &err);
		if (m == NULL || !msg_is_request(m)) {
			goto out;
		}
		right_response(m, id, resp);
		msg_free(m);
		m = NULL;
		t2 = replace(t1, l1, "@RESP@", resp, &l2);
		if (t2 == NULL) {
			goto out;
		}
		free(t1);
		t1 = t2;
		l1 = l2;
		t2 = NULL;
	}
	m = msg_parse(t1, l1, NULL, &err);
	if (m == NULL || !msg_is_request(m)) {
		goto out;
	}
	fuzz_now += advance[(flags >> 3) & 3];
	check_once(a, m, id, src);
	check_once(a, m, id, src);
	check_once(a, m, id, src);
	/* After three failures the source may be blocked; lift it. */
	FUZZ_CHECK(auth_unblock(a, NULL) >= 0);
out:
	msg_free(m);
	free(t1);
	free(t2);
	auth_free(a);
	return 0;
}
