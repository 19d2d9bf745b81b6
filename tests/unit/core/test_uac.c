/*
 * The client side of Digest in sipd/core/uac.c, checked against sipd's
 * own server side (sipd/auth): a challenge made by auth_challenge() is
 * taken by core_uac_challenge(), answered by core_uac_authorize(), and
 * the answer passes auth_check() for MD5 and SHA-256, with the nonce
 * count going up on each use; a server offering only auth-int is
 * refused; a wrong password fails.  And the policy lets sipd's own
 * requests go, saying so, and lets only clients reach a gateway.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sipd/core/core_int.h"

#define REALM "provider.example"
#define USER "alice"
#define PASS "s3cret"

static int
lookup(void *arg, const char *user, const char *realm, enum auth_alg alg,
    char *ha1)
{
	(void)arg;
	if (strcmp(user, USER) != 0) {
		return -ENOENT;
	}
	return auth_ha1(alg, user, realm, PASS, ha1);
}

static struct sockaddr_in
src_addr(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons(5060);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	return sin;
}

static struct msg *
parse(const char *text)
{
	struct msg_err err;
	struct msg *m = msg_parse(text, strlen(text), NULL, &err);

	assert_non_null(m);
	return m;
}

/* A 401 carrying the challenge lines chal (each "WWW-Authenticate: ..."). */
static struct msg *
challenge_401(const char *chal)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "SIP/2.0 401 Unauthorized\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
	    "From: <sip:alice@" REALM ">;tag=1\r\n"
	    "To: <sip:alice@" REALM ">;tag=2\r\n"
	    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\n%s"
	    "Content-Length: 0\r\n\r\n", chal);
	return parse(text);
}

/* auth_check() on a REGISTER carrying Authorization value v. */
static enum auth_status
check(struct auth *a, const char *v)
{
	struct sockaddr_in sin = src_addr();
	struct auth_result res;
	char text[4096];
	struct msg *m;

	snprintf(text, sizeof(text),
	    "REGISTER sip:" REALM " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2\r\n"
	    "From: <sip:alice@" REALM ">;tag=1\r\n"
	    "To: <sip:alice@" REALM ">\r\n"
	    "Call-ID: c1\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\n"
	    "Authorization: %s\r\nContent-Length: 0\r\n\r\n", v);
	m = parse(text);
	assert_int_equal(auth_check(a, m, HDR_AUTHORIZATION, NULL,
			     (struct sockaddr *)&sin, REALM, lookup, NULL,
			     &res),
	    0);
	msg_free(m);
	return res.status;
}

static void
round_trip(enum auth_alg alg)
{
	struct auth_settings s;
	struct sockaddr_in sin = src_addr();
	struct core c = { .rand = 0x1234567 };
	struct core_uac_auth ua = { 0 };
	char chal[AUTH_CHALLENGE_SIZE], lines[AUTH_CHALLENGE_SIZE * 2];
	char v[1024];
	struct auth *a;
	struct msg *resp;
	int n;
	size_t off = 0, len = 0;

	auth_settings_init(&s);
	s.algs = AUTH_ALG_BIT(alg);
	a = auth_new(&s);
	assert_non_null(a);
	n = auth_challenge(a, REALM, false, (struct sockaddr *)&sin,
	    HDR_WWW_AUTHENTICATE, chal, sizeof(chal));
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(lines + len, sizeof(lines) - len,
		    "WWW-Authenticate: %s\r\n", chal + off);
		off += strlen(chal + off) + 1;
	}
	resp = challenge_401(lines);
	assert_int_equal(core_uac_challenge(&ua, resp), 0);
	msg_free(resp);
	assert_int_equal(ua.alg, alg);
	assert_int_equal(ua.hdr, HDR_AUTHORIZATION);
	assert_string_equal(ua.realm, REALM);
	snprintf(ua.user, sizeof(ua.user), USER);
	snprintf(ua.password, sizeof(ua.password), PASS);

	/* the first use, and the nonce used again with the next count */
	assert_true(core_uac_authorize(&c, &ua, "REGISTER", "sip:" REALM, v,
			sizeof(v)) > 0);
	assert_non_null(strstr(v, "nc=00000001"));
	assert_non_null(strstr(v, "qop=auth"));
	assert_int_equal(check(a, v), AUTH_OK);
	assert_true(core_uac_authorize(&c, &ua, "REGISTER", "sip:" REALM, v,
			sizeof(v)) > 0);
	assert_non_null(strstr(v, "nc=00000002"));
	assert_int_equal(check(a, v), AUTH_OK);

	/* a wrong password is refused by the server */
	snprintf(ua.password, sizeof(ua.password), "wrong");
	assert_true(core_uac_authorize(&c, &ua, "REGISTER", "sip:" REALM, v,
			sizeof(v)) > 0);
	assert_int_equal(check(a, v), AUTH_FAILED);
	auth_free(a);
}

static void
test_md5(void **state)
{
	(void)state;
	round_trip(AUTH_ALG_MD5);
}

static void
test_sha256(void **state)
{
	(void)state;
	round_trip(AUTH_ALG_SHA256);
}

/* The first challenge sipd can answer wins: SHA-256 listed first. */
static void
test_order(void **state)
{
	struct core_uac_auth ua = { 0 };
	struct msg *resp = challenge_401(
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", "
	    "algorithm=SHA-256, qop=\"auth\"\r\n"
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\", "
	    "algorithm=MD5, qop=\"auth\"\r\n");

	(void)state;
	assert_int_equal(core_uac_challenge(&ua, resp), 0);
	assert_int_equal(ua.alg, AUTH_ALG_SHA256);
	assert_string_equal(ua.nonce, "n1");
	msg_free(resp);
}

/* auth-int alone is refused; auth-int beside auth takes auth; an unknown
 * algorithm or scheme is skipped; a 200 is no challenge. */
static void
test_refused(void **state)
{
	struct core_uac_auth ua = { 0 };
	struct msg *resp;

	(void)state;
	resp = challenge_401("WWW-Authenticate: Digest realm=\"r\", "
			     "nonce=\"n\", qop=\"auth-int\"\r\n");
	assert_int_equal(core_uac_challenge(&ua, resp), -ENOTSUP);
	assert_false(ua.have);
	msg_free(resp);
	resp = challenge_401("WWW-Authenticate: Digest realm=\"r\", "
			     "nonce=\"n\", qop=\"auth-int,auth\"\r\n");
	assert_int_equal(core_uac_challenge(&ua, resp), 0);
	assert_true(ua.qop);
	msg_free(resp);
	memset(&ua, 0, sizeof(ua));
	resp = challenge_401("WWW-Authenticate: Digest realm=\"r\", "
			     "nonce=\"n\", algorithm=SHA-512-256\r\n"
			     "WWW-Authenticate: Basic realm=\"r\"\r\n");
	assert_int_equal(core_uac_challenge(&ua, resp), -ENOENT);
	msg_free(resp);
	resp = parse("SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1"
		     "\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x"
		     "\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(core_uac_challenge(&ua, resp), -EINVAL);
	msg_free(resp);
	/* no challenge known: nothing to answer with */
	struct core c = { .rand = 1 };
	char v[256];
	assert_int_equal(core_uac_authorize(&c, &ua, "REGISTER", "sip:r", v,
			     sizeof(v)),
	    -ENOENT);
}

/* RFC 2069 style (no qop): no cnonce, no nonce count. */
static void
test_no_qop(void **state)
{
	struct core_uac_auth ua = { 0 };
	struct core c = { .rand = 7 };
	char v[1024];
	struct msg *resp = challenge_401("WWW-Authenticate: Digest "
					 "realm=\"r\", nonce=\"n\", "
					 "opaque=\"o\"\r\n");

	(void)state;
	assert_int_equal(core_uac_challenge(&ua, resp), 0);
	msg_free(resp);
	snprintf(ua.user, sizeof(ua.user), "u");
	assert_true(core_uac_authorize(&c, &ua, "REGISTER", "sip:r", v,
			sizeof(v)) > 0);
	assert_null(strstr(v, "nc="));
	assert_non_null(strstr(v, "opaque=\"o\""));
}

/* sipd's own requests pass the policy, whatever the settings. */
static void
test_policy_own(void **state)
{
	struct core_policy_set set = { .relay = CONF_RELAY_NOBODY,
		.auth_local_from = true };
	struct core_policy_in in = { .kind = CORE_SEND_OWN,
		.from_local = true, .dst_known = true };
	const char *why = NULL;

	(void)state;
	assert_int_equal(core_policy_decide(&set, &in, &why), CORE_V_ALLOW);
	assert_non_null(strstr(why, "own"));
}

/* A gateway is for clients only, even with relaying open to anybody;
 * a dialog sipd record-routed goes on. */
static void
test_policy_gateway(void **state)
{
	struct core_policy_set set = { .relay = CONF_RELAY_ANYBODY };
	struct core_policy_in in = { .kind = CORE_SEND_GATEWAY };
	const char *why = NULL;

	(void)state;
	assert_int_equal(core_policy_decide(&set, &in, &why),
	    CORE_V_CHALLENGE);
	assert_non_null(strstr(why, "gateway"));
	in.src_client = true;
	assert_int_equal(core_policy_decide(&set, &in, &why), CORE_V_ALLOW);
	in.src_client = false;
	in.authenticated = true;
	assert_int_equal(core_policy_decide(&set, &in, &why), CORE_V_ALLOW);
	in.authenticated = false;
	in.in_dialog = true;
	assert_int_equal(core_policy_decide(&set, &in, &why), CORE_V_ALLOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_qop),
		cmocka_unit_test(test_policy_own),
		cmocka_unit_test(test_policy_gateway),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
