/*
 * Unit tests of sipd/msg/uri.c: parsing of sip, sips, tel and other URIs
 * (RFC 3261 19.1 and 25.1, RFC 3966, the URI cases of RFC 4475 and
 * RFC 5118), uri_param(), uri_unescape() and the RFC 3261 19.1.4
 * comparison rules with every example of that section.  Each URI is
 * copied into a heap buffer of its exact length, without a terminator, so
 * AddressSanitizer catches a read past the span.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "sipd/msg/chars.h"
#include "sipd/msg/msg.h"

struct turi {
	char *buf;
	size_t len;
	int rc;
	struct uri u;
};

static void
tparse(struct turi *t, const char *s)
{
	t->len = strlen(s);
	t->buf = malloc(t->len > 0 ? t->len : 1);
	assert_non_null(t->buf);
	memcpy(t->buf, s, t->len);
	t->rc = uri_parse(t->buf, (struct span){ 0, (uint32_t)t->len },
	    &t->u);
}

static void
tfree(struct turi *t)
{
	free(t->buf);
	t->buf = NULL;
}

static void
assert_span(const char *base, struct span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	if (sp.len > 0) {
		assert_memory_equal(base + sp.off, want, sp.len);
	}
}

static void
assert_sv(struct sv v, const char *want)
{
	assert_int_equal(v.len, strlen(want));
	if (v.len > 0) {
		assert_memory_equal(v.p, want, v.len);
	}
}

static void
assert_bad(const char *s)
{
	struct turi t;

	tparse(&t, s);
	if (t.rc != -EINVAL) {
		fail_msg("accepted: \"%s\"", s);
	}
	tfree(&t);
}

static void
assert_good(const char *s)
{
	struct turi t;

	tparse(&t, s);
	if (t.rc != 0) {
		fail_msg("refused: \"%s\"", s);
	}
	tfree(&t);
}

/* uri_equal() of two URIs that parse, checked in both directions. */
static bool
tequal(const char *a, const char *b)
{
	struct turi x, y;
	bool ab, ba;

	tparse(&x, a);
	tparse(&y, b);
	assert_int_equal(x.rc, 0);
	assert_int_equal(y.rc, 0);
	ab = uri_equal(x.buf, &x.u, y.buf, &y.u);
	ba = uri_equal(y.buf, &y.u, x.buf, &x.u);
	assert_true(ab == ba);
	tfree(&x);
	tfree(&y);
	return ab;
}

static void
assert_uri_eq(const char *a, const char *b)
{
	if (!tequal(a, b)) {
		fail_msg("not equal: \"%s\" \"%s\"", a, b);
	}
}

static void
assert_uri_ne(const char *a, const char *b)
{
	if (tequal(a, b)) {
		fail_msg("equal: \"%s\" \"%s\"", a, b);
	}
}

static void
test_parse_basic(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:alice@atlanta.com");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_SIP);
	assert_int_equal(t.u.host_type, URI_HOST_NAME);
	assert_int_equal(t.u.port, 0);
	assert_span(t.buf, t.u.all, "sip:alice@atlanta.com");
	assert_span(t.buf, t.u.scheme_s, "sip");
	assert_span(t.buf, t.u.user, "alice");
	assert_span(t.buf, t.u.password, "");
	assert_span(t.buf, t.u.host, "atlanta.com");
	assert_int_equal(t.u.params.len, 0);
	assert_int_equal(t.u.headers.len, 0);
	assert_int_equal(t.u.opaque.len, 0);
	tfree(&t);
}

static void
test_parse_full(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sips:alice:secretword@atlanta.com:5061;transport=tcp;lr"
		   "?subject=project%20x&priority=urgent");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_SIPS);
	assert_span(t.buf, t.u.scheme_s, "sips");
	assert_span(t.buf, t.u.user, "alice");
	assert_span(t.buf, t.u.password, "secretword");
	assert_span(t.buf, t.u.host, "atlanta.com");
	assert_int_equal(t.u.port, 5061);
	assert_span(t.buf, t.u.params, "transport=tcp;lr");
	assert_span(t.buf, t.u.headers, "subject=project%20x&priority=urgent");
	tfree(&t);

	/* password characters: unreserved, escaped, &=+$, and empty */
	tparse(&t, "sip:a:p&=+$,%41-_.!~*'()@h");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.password, "p&=+$,%41-_.!~*'()");
	tfree(&t);
	tparse(&t, "sip:a:@h");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "a");
	assert_span(t.buf, t.u.password, "");
	assert_span(t.buf, t.u.host, "h");
	tfree(&t);
}

static void
test_parse_scheme_case(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "SIP:ALICE@AtLanTa.CoM;Transport=udp");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_SIP);
	assert_span(t.buf, t.u.scheme_s, "SIP");
	assert_span(t.buf, t.u.user, "ALICE");
	assert_span(t.buf, t.u.host, "AtLanTa.CoM");
	assert_span(t.buf, t.u.params, "Transport=udp");
	tfree(&t);
	tparse(&t, "SiPs:h");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_SIPS);
	tfree(&t);
	/* the bytes that fold to "sip:" and are no scheme: refused */
	tparse(&t, "sip\x1a" "alice@h");
	assert_int_not_equal(t.rc, 0);
	tfree(&t);
	tparse(&t, "sip:");
	assert_int_not_equal(t.rc, 0);
	tfree(&t);
	tparse(&t, "sIp:h:5070");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_SIP);
	assert_span(t.buf, t.u.scheme_s, "sIp");
	assert_span(t.buf, t.u.host, "h");
	assert_int_equal(t.u.port, 5070);
	tfree(&t);
	tparse(&t, "TEL:+1");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_TEL);
	tfree(&t);
}

/* Spans are relative to base, and nothing past the span is looked at. */
static void
test_parse_offset(void **state)
{
	static const char hdr[] = "To: <sip:bob@biloxi.com:5070;lr>;tag=1";
	static const char longer[] = "sip:h:50601";
	struct uri u;
	struct sv v;

	(void)state;
	assert_int_equal(uri_parse(hdr, (struct span){ 5, 26 }, &u), 0);
	assert_int_equal(u.all.off, 5);
	assert_int_equal(u.all.len, 26);
	assert_int_equal(u.scheme_s.off, 5);
	assert_int_equal(u.user.off, 9);
	assert_span(hdr, u.user, "bob");
	assert_int_equal(u.host.off, 13);
	assert_span(hdr, u.host, "biloxi.com");
	assert_int_equal(u.port, 5070);
	assert_span(hdr, u.params, "lr");
	assert_true(uri_param(hdr, &u, "lr", &v));
	assert_int_equal(v.len, 0);
	assert_false(uri_param(hdr, &u, "tag", NULL));

	/* the span ends inside the port: the digits after it are not read */
	assert_int_equal(uri_parse(longer, (struct span){ 0, 9 }, &u), 0);
	assert_int_equal(u.port, 506);
	assert_int_equal(uri_parse(longer, (struct span){ 0, 6 }, &u),
	    -EINVAL);

	/* an empty span */
	assert_int_equal(uri_parse(longer, (struct span){ 3, 0 }, &u),
	    -EINVAL);
}

/* RFC 4475 3.1.1.6 (esc01): an escaped user part, kept escaped. */
static void
test_parse_escaped_user(void **state)
{
	struct turi t;
	char out[16];

	(void)state;
	tparse(&t, "sip:%61lice@atlanta.com");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "%61lice");
	assert_int_equal(uri_unescape((struct sv){ t.buf + t.u.user.off,
				 t.u.user.len },
			     out, sizeof(out)),
	    5);
	assert_memory_equal(out, "alice", 5);
	tfree(&t);

	tparse(&t, "sip:sips%3Auser%40example.com@example.net");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "sips%3Auser%40example.com");
	assert_span(t.buf, t.u.host, "example.net");
	tfree(&t);

	assert_bad("sip:%6Glice@atlanta.com");
	assert_bad("sip:%6@atlanta.com");
	assert_bad("sip:alice%@atlanta.com");
	assert_bad("sip:alice@atlanta.com;a=%");
}

/* user-unreserved ';' '?' '/' belong to the user when an '@' follows. */
static void
test_parse_user_reserved(void **state)
{
	struct turi t;

	(void)state;
	/* RFC 4475 3.1.1.11 (mpart01)-style user with a parameter */
	tparse(&t, "sip:user;par=u%40example.net@example.com");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "user;par=u%40example.net");
	assert_span(t.buf, t.u.host, "example.com");
	assert_int_equal(t.u.params.len, 0);
	tfree(&t);

	tparse(&t, "sip:a?b@host;lr");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "a?b");
	assert_span(t.buf, t.u.host, "host");
	assert_span(t.buf, t.u.params, "lr");
	assert_int_equal(t.u.headers.len, 0);
	tfree(&t);

	tparse(&t, "sip:&=+$,;?/-_.!~*'()@h");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "&=+$,;?/-_.!~*'()");
	tfree(&t);

	/* a telephone-subscriber user part */
	tparse(&t, "sip:+1-212-555-1212:1234@gateway.com;user=phone");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "+1-212-555-1212");
	assert_span(t.buf, t.u.password, "1234");
	assert_span(t.buf, t.u.host, "gateway.com");
	tfree(&t);

	/*
	 * '@' is legal nowhere else, so the first one ends the userinfo
	 * even after a '?': this is user "h?a=b" at host "c".
	 */
	tparse(&t, "sip:h?a=b@c");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "h?a=b");
	assert_span(t.buf, t.u.host, "c");
	assert_int_equal(t.u.headers.len, 0);
	tfree(&t);

	assert_bad("sip:a@b@c");
	assert_bad("sip:a@h?x=b@c");
	assert_bad("sip:a:b:c@h");
	assert_bad("sip:a:p;@h");
	assert_bad("sip:a\"b@h");
	assert_bad("sip:a<b@h");
}

static void
test_parse_no_user(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:biloxi.com;transport=tcp;method=REGISTER"
		   "?to=sip:bob%40biloxi.com");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.user.len, 0);
	assert_int_equal(t.u.password.len, 0);
	assert_span(t.buf, t.u.host, "biloxi.com");
	assert_span(t.buf, t.u.params, "transport=tcp;method=REGISTER");
	assert_span(t.buf, t.u.headers, "to=sip:bob%40biloxi.com");
	tfree(&t);

	tparse(&t, "sip:h");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.host, "h");
	tfree(&t);
}

static void
test_parse_ipv4(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:bob@192.0.2.4:5060");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.host_type, URI_HOST_IPV4);
	assert_span(t.buf, t.u.host, "192.0.2.4");
	assert_int_equal(t.u.port, 5060);
	tfree(&t);

	tparse(&t, "sip:0.0.0.0;lr");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.host_type, URI_HOST_IPV4);
	assert_span(t.buf, t.u.host, "0.0.0.0");
	tfree(&t);

	assert_good("sip:255.255.255.255");
	assert_good("sip:010.001.0.1");
	assert_bad("sip:bob@256.0.0.1");
	assert_bad("sip:bob@192.0.2.300");
	assert_bad("sip:bob@1.2.3");
	assert_bad("sip:bob@1.2.3.4.5");
	assert_bad("sip:bob@1.2.3.");
	assert_bad("sip:bob@1..2.3");
	assert_bad("sip:bob@1234.1.1.1");
	assert_bad("sip:bob@0001.1.1.1");
	assert_bad("sip:bob@12");
	assert_bad("sip:bob@1.2.3.4a");
	assert_bad("sip:bob@1.2.3.-4");
	assert_bad("sip:bob@.1.2.3");
	assert_good("sip:bob@1.2.3.4:5060;lr");
	assert_good("sip:bob@123abc.example.com");
	assert_good("sip:bob@1.2.3.example.com");
	assert_good("sip:bob@1-2.example.com");
}

static void
test_parse_ipv6(void **state)
{
	struct turi t;

	(void)state;
	/* RFC 5118 4.4: port unambiguous */
	tparse(&t, "sip:[2001:db8::10]:5070");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.host_type, URI_HOST_IPV6);
	assert_span(t.buf, t.u.host, "[2001:db8::10]");
	assert_int_equal(t.u.port, 5070);
	tfree(&t);

	/* RFC 5118 4.3: the ":5070" is the last group, not a port */
	tparse(&t, "sip:[2001:db8::10:5070]");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.host, "[2001:db8::10:5070]");
	assert_int_equal(t.u.port, 0);
	tfree(&t);

	tparse(&t, "sip:[::1]");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.host_type, URI_HOST_IPV6);
	assert_span(t.buf, t.u.host, "[::1]");
	tfree(&t);

	/* RFC 5118 4.9: IPv4-mapped, and an embedded IPv4 tail */
	tparse(&t, "sip:alice@[::ffff:192.0.2.128];transport=udp");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.host, "[::ffff:192.0.2.128]");
	assert_span(t.buf, t.u.params, "transport=udp");
	tfree(&t);

	assert_good("sip:[2001:db8::9:255.255.255.255]");
	assert_good("sip:[2001:0DB8:0000:0000:0000:0000:0000:0001]");
	assert_good("sip:[1:2:3:4:5:6:1.2.3.4]");
	assert_good("sip:[::]");
	assert_good("sip:[1::]");
	assert_good("sip:[1:2:3:4:5:6:7::]");
	assert_good("sip:[::2:3:4:5:6:7:8]");

	/* RFC 5118 4.2: no closing bracket */
	assert_bad("sip:[2001:db8::10");
	assert_bad("sip:[2001:db8::10]x");
	assert_bad("sip:[2001:db8::10]:");
	assert_bad("sip:2001:db8::10");
	assert_bad("sip:[]");
	assert_bad("sip:[1:2:3:4:5:6:7]");
	assert_bad("sip:[1:2:3:4:5:6:7:8:9]");
	assert_bad("sip:[1:2:3:4:5:6:7:8::]");
	assert_bad("sip:[1::2::3]");
	assert_bad("sip:[12345::1]");
	assert_bad("sip:[:1::2]");
	assert_bad("sip:[1::2:]");
	assert_bad("sip:[1:]");
	assert_bad("sip:[:::1]");
	assert_bad("sip:[g::1]");
	assert_bad("sip:[::1.2.3]");
	assert_bad("sip:[::1.2.3.4:5]");
	assert_bad("sip:[1:2:3:4:5:6:7:1.2.3.4]");
	assert_bad("sip:[1.2.3.4]");
	assert_bad("sip:[fe80::1%25eth0]");
}

static void
test_parse_port(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:h:0");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.port, 0);
	assert_span(t.buf, t.u.host, "h");
	tfree(&t);

	tparse(&t, "sip:h:65535;lr");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.port, 65535);
	assert_span(t.buf, t.u.params, "lr");
	tfree(&t);

	tparse(&t, "sip:a@h:05060?x=y");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.port, 5060);
	assert_span(t.buf, t.u.headers, "x=y");
	tfree(&t);

	assert_bad("sip:alice@atlanta.com:65536");
	assert_bad("sip:alice@atlanta.com:99999");
	assert_bad("sip:alice@atlanta.com:");
	assert_bad("sip:alice@atlanta.com:;lr");
	assert_bad("sip:alice@atlanta.com:123456");
	assert_bad("sip:alice@atlanta.com:005060");
	assert_bad("sip:alice@atlanta.com:5060a");
	assert_bad("sip:alice@atlanta.com:-1");
	assert_bad("sip:alice@atlanta.com:5060:5061");
}

static void
test_parse_hostname(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:a-b.c0m");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.host_type, URI_HOST_NAME);
	assert_span(t.buf, t.u.host, "a-b.c0m");
	tfree(&t);

	tparse(&t, "sip:alice@atlanta.com.:5060");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.host, "atlanta.com.");
	assert_int_equal(t.u.port, 5060);
	tfree(&t);

	assert_good("sip:x");
	assert_good("sip:1a.example.com");
	assert_good("sip:192.0.2.4.example.com");
	assert_good("sip:a--b.example.com");

	assert_bad("sip:-a.com");
	assert_bad("sip:a-.com");
	assert_bad("sip:a.-com");
	assert_bad("sip:a..com");
	assert_bad("sip:.com");
	assert_bad("sip:.");
	assert_bad("sip:example.123");
	assert_bad("sip:example.1com");
	assert_bad("sip:a_b.com");
	assert_bad("sip:alice@");
	assert_bad("sip:alice@;lr");
	assert_bad("sip:alice@:5060");
	assert_bad("sip:@atlanta.com");
	assert_bad("sip:bob@h/path");
	assert_bad("sip:bob@h#frag");
}

static void
test_parse_params(void **state)
{
	struct turi t;
	struct sv v;

	(void)state;
	tparse(&t, "sip:h;transport=tcp;LR;maddr=239.255.255.1;ttl=15;"
		   "x=[a]/b:c&d+$;esc=%41");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.params,
	    "transport=tcp;LR;maddr=239.255.255.1;ttl=15;x=[a]/b:c&d+$;"
	    "esc=%41");
	assert_true(uri_param(t.buf, &t.u, "transport", &v));
	assert_sv(v, "tcp");
	assert_true(uri_param(t.buf, &t.u, "TRANSPORT", &v));
	assert_sv(v, "tcp");
	assert_true(uri_param(t.buf, &t.u, "lr", &v));
	assert_int_equal(v.len, 0);
	assert_true(uri_param(t.buf, &t.u, "maddr", &v));
	assert_sv(v, "239.255.255.1");
	assert_true(uri_param(t.buf, &t.u, "ttl", &v));
	assert_sv(v, "15");
	assert_true(uri_param(t.buf, &t.u, "x", &v));
	assert_sv(v, "[a]/b:c&d+$");
	assert_true(uri_param(t.buf, &t.u, "esc", &v));
	assert_sv(v, "%41");
	assert_true(uri_param(t.buf, &t.u, "ttl", NULL));
	v = SV_LIT("junk");
	assert_false(uri_param(t.buf, &t.u, "user", &v));
	assert_null(v.p);
	assert_int_equal(v.len, 0);
	/* whole names only */
	assert_false(uri_param(t.buf, &t.u, "transp", &v));
	assert_false(uri_param(t.buf, &t.u, "transports", &v));
	tfree(&t);

	/* the first of two equal names wins */
	tparse(&t, "sip:h;t=1;transport=udp;transport=tcp");
	assert_int_equal(t.rc, 0);
	assert_true(uri_param(t.buf, &t.u, "transport", &v));
	assert_sv(v, "udp");
	assert_true(uri_param(t.buf, &t.u, "t", &v));
	assert_sv(v, "1");
	tfree(&t);

	/* no parameters at all */
	tparse(&t, "sip:alice@atlanta.com?lr=1");
	assert_int_equal(t.rc, 0);
	assert_false(uri_param(t.buf, &t.u, "lr", &v));
	tfree(&t);

	assert_bad("sip:h;");
	assert_bad("sip:h;;lr");
	assert_bad("sip:h;lr;");
	assert_bad("sip:h;=x");
	assert_bad("sip:h;a=");
	assert_bad("sip:h;a=b=c");
	assert_bad("sip:h;a=%zz");
	assert_bad("sip:h;a=b c");
	assert_bad("sip:h;a=\"b\"");
	assert_bad("sip:h;a=<b>");
}

static void
test_parse_headers(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "sip:h?a=1&b=&Subject=x%20y&to=sip:[::1]/$+?");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.params.len, 0);
	assert_span(t.buf, t.u.headers,
	    "a=1&b=&Subject=x%20y&to=sip:[::1]/$+?");
	tfree(&t);

	/* RFC 4475 3.1.1.10 (escnull)-like escaped header values */
	tparse(&t, "sip:user@example.com;lr?Route=%3Csip:example.com%3E");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.params, "lr");
	assert_span(t.buf, t.u.headers, "Route=%3Csip:example.com%3E");
	tfree(&t);

	assert_bad("sip:h?");
	assert_bad("sip:h?a");
	assert_bad("sip:h?a=1&");
	assert_bad("sip:h?a=1&&b=2");
	assert_bad("sip:h?=1");
	assert_bad("sip:h?a=1;b=2");
	assert_bad("sip:h?a=%2");
	assert_bad("sip:h?Route=<sip:example.com>");
}

static void
test_parse_reject(void **state)
{
	(void)state;
	assert_bad("");
	assert_bad("sip:");
	assert_bad("sips:");
	assert_bad("sip");
	assert_bad("alice@atlanta.com");
	assert_bad(":foo");
	assert_bad("1sip:a");
	assert_bad("s_p:x");
	assert_bad("si p:x");
	/* white space is never inside a URI, not even folded */
	assert_bad("sip:alice@atlanta .com");
	assert_bad(" sip:alice@atlanta.com");
	assert_bad("sip:alice@atlanta.com ");
	assert_bad("sip:alice@atlanta.com\t");
	assert_bad("sip:alice@atlanta.com\r\n ;lr");
	assert_bad("sip:alice@atl\x01nta.com");
	assert_bad("sip:alice@atlanta.com;a=\x7f");
	assert_bad("sip:al\xc3\xa9@atlanta.com");
	assert_bad("mailto:a\x01");
	assert_bad("sip:al%6ice@atlanta.com");
}

/*
 * RFC 3261 25.1: a URI is printable US-ASCII.  Every byte that is not
 * (SP, the controls, DEL, 0x80 and up), put in place of each byte of
 * URIs of every scheme and part, or added at either end, is refused;
 * the URIs themselves parse.  The sip, sips and tel parses judge every
 * byte by the grammar alone, with no pass for printable bytes first.
 */
static void
test_parse_nongraph_anywhere(void **state)
{
	static const char *const good[] = {
		"sip:alice@atlanta.example.com",
		"SIPS:al%41ce:pw&=+$,@[2001:db8::1]:5061;lr;maddr=10.0.0.1"
		    "?subject=x&h=%20",
		"sip:10.0.0.1:5060;transport=udp;a=[x]/:&+$",
		"sip:a;b?c@h.example.",
		"sip:host-1.example.com",
		"tel:+1-201-555-0123;ext=1;isub=x",
		"tel:7042;phone-context=example.com",
		"mailto:a%20b@example.com",
		"urn:service:sos",
	};
	char buf[96];

	(void)state;
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		size_t n = strlen(good[k]);

		assert_true(n + 1 < sizeof(buf));
		assert_good(good[k]);
		for (unsigned c = 0; c < 256; c++) {
			if (c > ' ' && c < 0x7f) {
				continue;
			}
			for (size_t i = 0; i <= n; i++) {
				struct uri u;

				/* in place of byte i, or after the last */
				memcpy(buf, good[k], n);
				buf[i] = (char)c;
				if (uri_parse(buf, (struct span){ 0,
				    (uint32_t)(i < n ? n : n + 1) }, &u) !=
				    -EINVAL) {
					fail_msg("accepted 0x%02x at %zu of "
					         "\"%s\"", c, i, good[k]);
				}
				/* before the first */
				buf[0] = (char)c;
				memcpy(buf + 1, good[k], n);
				if (uri_parse(buf, (struct span){ 0,
				    (uint32_t)(n + 1) }, &u) != -EINVAL) {
					fail_msg("accepted 0x%02x before "
					         "\"%s\"", c, good[k]);
				}
			}
		}
	}
}

/* RFC 3966 */
static void
test_parse_tel(void **state)
{
	struct turi t;
	struct sv v;

	(void)state;
	tparse(&t, "tel:+1-201-555-0123");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_TEL);
	assert_int_equal(t.u.host_type, URI_HOST_NONE);
	assert_span(t.buf, t.u.scheme_s, "tel");
	assert_span(t.buf, t.u.user, "+1-201-555-0123");
	assert_int_equal(t.u.host.len, 0);
	assert_int_equal(t.u.params.len, 0);
	assert_int_equal(t.u.port, 0);
	tfree(&t);

	tparse(&t, "tel:7042;phone-context=example.com");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "7042");
	assert_span(t.buf, t.u.params, "phone-context=example.com");
	assert_true(uri_param(t.buf, &t.u, "Phone-Context", &v));
	assert_sv(v, "example.com");
	tfree(&t);

	tparse(&t, "tel:+358-555-1234567;postd=pp22;isub=1411;ext=12");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "+358-555-1234567");
	assert_true(uri_param(t.buf, &t.u, "postd", &v));
	assert_sv(v, "pp22");
	assert_true(uri_param(t.buf, &t.u, "ext", &v));
	assert_sv(v, "12");
	tfree(&t);

	tparse(&t, "tel:*61#;phone-context=+1-201");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.user, "*61#");
	tfree(&t);

	assert_good("tel:+1(201)555.0123");
	assert_good("tel:863-1234;phone-context=+1-914-555");
	assert_good("tel:aB12;phone-context=x.com");

	assert_bad("tel:");
	assert_bad("tel:+");
	assert_bad("tel:+-.()");
	assert_bad("tel:+1a");
	assert_bad("tel:+1 2");
	assert_bad("tel:7042");
	assert_bad("tel:7042;ext=1");
	assert_bad("tel:;phone-context=x.com");
	assert_bad("tel:+1;");
	assert_bad("tel:+1;a_b=1");
	assert_bad("tel:+1;a=");
	/* RFC 3966 3: a parameter name appears at most once */
	assert_bad("tel:+1;a;a=b");
	assert_bad("tel:+1;ext=1;EXT=2");
	assert_bad("tel:+1?x=y");
	assert_bad("tel:+1@h");
}

static void
test_parse_other(void **state)
{
	struct turi t;

	(void)state;
	tparse(&t, "mailto:a@b");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_OTHER);
	assert_int_equal(t.u.host_type, URI_HOST_NONE);
	assert_span(t.buf, t.u.scheme_s, "mailto");
	assert_span(t.buf, t.u.opaque, "a@b");
	assert_int_equal(t.u.user.len, 0);
	assert_int_equal(t.u.host.len, 0);
	tfree(&t);

	tparse(&t, "http://www.example.com/a%20b?c=d#e");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_OTHER);
	assert_span(t.buf, t.u.scheme_s, "http");
	assert_span(t.buf, t.u.opaque, "//www.example.com/a%20b?c=d#e");
	tfree(&t);

	tparse(&t, "urn:service:sos");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_OTHER);
	assert_span(t.buf, t.u.scheme_s, "urn");
	assert_span(t.buf, t.u.opaque, "service:sos");
	tfree(&t);

	/* "sipx" and "tels" are other schemes, not sip or tel */
	tparse(&t, "x-y.z+1:q");
	assert_int_equal(t.rc, 0);
	assert_span(t.buf, t.u.scheme_s, "x-y.z+1");
	tfree(&t);
	tparse(&t, "sipx:alice@atlanta.com");
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.u.scheme, URI_OTHER);
	tfree(&t);

	assert_bad("mailto:");
	assert_bad("ht_tp://x");
	assert_bad("mailto:a%2");
	assert_bad("mailto:a b");
}

static void
test_unescape(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(uri_unescape(SV_LIT("%61lice"), out, sizeof(out)), 5);
	assert_memory_equal(out, "alice", 5);
	assert_int_equal(uri_unescape(SV_LIT("%41%2a%3B"), out, sizeof(out)),
	    3);
	assert_memory_equal(out, "A*;", 3);
	assert_int_equal(uri_unescape(SV_LIT("a%00b"), out, sizeof(out)), 3);
	assert_memory_equal(out, "a\0b", 3);
	assert_int_equal(uri_unescape(SV_LIT("abc"), out, 3), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(uri_unescape(SV_LIT(""), out, sizeof(out)), 0);
	assert_int_equal(uri_unescape(SV_LIT(""), NULL, 0), 0);
	assert_int_equal(uri_unescape(SV_LIT("abc"), out, 2), -ENOSPC);
	assert_int_equal(uri_unescape(SV_LIT("%61%62"), out, 1), -ENOSPC);
	assert_int_equal(uri_unescape(SV_LIT("abc"), NULL, 0), -ENOSPC);
	assert_int_equal(uri_unescape(SV_LIT("%4"), out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(uri_unescape(SV_LIT("%"), out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(uri_unescape(SV_LIT("%zz"), out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(uri_unescape(SV_LIT("a%4g"), out, sizeof(out)),
	    -EINVAL);
	/* a bad escape counts even once out is full */
	assert_int_equal(uri_unescape(SV_LIT("abc%z"), out, 1), -EINVAL);
}

/* Every "equivalent" example of RFC 3261 19.1.4, in both directions. */
static void
test_equal_rfc3261(void **state)
{
	(void)state;
	assert_uri_eq("sip:%61lice@atlanta.com;transport=TCP",
	    "sip:alice@AtLanTa.CoM;Transport=tcp");
	assert_uri_eq("sip:carol@chicago.com",
	    "sip:carol@chicago.com;newparam=5");
	assert_uri_eq("sip:carol@chicago.com",
	    "sip:carol@chicago.com;security=on");
	assert_uri_eq("sip:carol@chicago.com;newparam=5",
	    "sip:carol@chicago.com;security=on");
	assert_uri_eq("sip:biloxi.com;transport=tcp;method=REGISTER"
		      "?to=sip:bob%40biloxi.com",
	    "sip:biloxi.com;method=REGISTER;transport=tcp"
	    "?to=sip:bob%40biloxi.com");
	assert_uri_eq("sip:alice@atlanta.com?subject=project%20x"
		      "&priority=urgent",
	    "sip:alice@atlanta.com?priority=urgent&subject=project%20x");
}

/* Every "not equivalent" example of RFC 3261 19.1.4. */
static void
test_unequal_rfc3261(void **state)
{
	(void)state;
	/* different usernames */
	assert_uri_ne("SIP:ALICE@AtLanTa.CoM;Transport=udp",
	    "sip:alice@AtLanTa.CoM;Transport=UDP");
	/* can resolve to different ports */
	assert_uri_ne("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
	/* can resolve to different transports */
	assert_uri_ne("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
	/* can resolve to different port and transports */
	assert_uri_ne("sip:bob@biloxi.com",
	    "sip:bob@biloxi.com:6000;transport=tcp");
	/* different header component */
	assert_uri_ne("sip:carol@chicago.com",
	    "sip:carol@chicago.com?Subject=next%20meeting");
	/* even though that is what phone21.boxesbybob.com resolves to */
	assert_uri_ne("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
}

static void
test_equal_userinfo(void **state)
{
	(void)state;
	assert_uri_ne("sip:alice@h", "sips:alice@h");
	assert_uri_ne("sip:Alice@h", "sip:alice@h");
	assert_uri_ne("sip:alice@h", "sip:h");
	assert_uri_ne("sip:alice@h", "sip:alicf@h");
	assert_uri_ne("sip:alice@h", "sip:alic@h");
	assert_uri_eq("sip:%41lice@h", "sip:Alice@h");
	assert_uri_ne("sip:%41lice@h", "sip:alice@h");
	/* an escaped reserved character differs from the literal one */
	assert_uri_ne("sip:a%3Bb@h", "sip:a;b@h");
	assert_uri_ne("sip:a%2B1@h", "sip:a+1@h");
	assert_uri_eq("sip:a%3bb@h", "sip:a%3Bb@h");
	assert_uri_eq("sip:a:secret@h", "sip:a:%73ecret@h");
	assert_uri_ne("sip:a:secret@h", "sip:a:Secret@h");
	assert_uri_ne("sip:a:secret@h", "sip:a@h");
	assert_uri_ne("sip:a:x@h", "sip:a:y@h");
}

static void
test_equal_hostport(void **state)
{
	(void)state;
	assert_uri_eq("sip:a@EXAMPLE.com", "sip:a@example.COM");
	assert_uri_ne("sip:a@example.com", "sip:a@example.org");
	assert_uri_ne("sip:a@example.com.", "sip:a@example.com");
	/* RFC 5954 4: address literals compare as addresses */
	assert_uri_eq("sip:a@192.0.2.4", "sip:a@192.0.2.004");
	assert_uri_ne("sip:a@192.0.2.4", "sip:a@192.0.2.5");
	assert_uri_eq("sip:a@[2001:DB8::1]", "sip:a@[2001:db8:0:0::0001]");
	assert_uri_eq("sip:[::ffff:192.0.2.1]", "sip:[::FFFF:c000:201]");
	assert_uri_eq("sip:[::1]:5060", "sip:[0:0:0:0:0:0:0:1]:5060");
	assert_uri_ne("sip:a@[2001:db8::1]", "sip:a@[2001:db8::2]");
	assert_uri_ne("sip:a@[2001:db8::1]", "sip:a@[2001:db8:1::]");
	assert_uri_ne("sip:a@[::c000:204]", "sip:a@192.0.2.4");
	/* ports: numeric, and present in both or neither */
	assert_uri_eq("sip:a@h:5060", "sip:a@h:05060");
	assert_uri_ne("sip:a@h:5060", "sip:a@h:5061");
	assert_uri_ne("sip:a@h:0", "sip:a@h");
	assert_uri_ne("sips:a@h:5061", "sips:a@h");
	assert_uri_eq("sip:a@h:0", "sip:a@h:0");
}

static void
test_equal_params(void **state)
{
	(void)state;
	assert_uri_eq("sip:h;lr", "sip:h");
	assert_uri_eq("sip:h;LR", "sip:h;lr");
	assert_uri_ne("sip:h;lr", "sip:h;lr=on");
	assert_uri_ne("sip:h;foo=1", "sip:h;foo=2");
	assert_uri_eq("sip:h;foo=AbC", "sip:h;FOO=aBc");
	assert_uri_eq("sip:h;foo=%41", "sip:h;foo=a");
	assert_uri_eq("sip:h;a=1;b=2", "sip:h;b=2;c=3");
	/* a repeated name: the first counts, as for uri_param() */
	assert_uri_eq("sip:h;a;a=b", "sip:h;a;a=b");
	assert_uri_eq("sip:h;a=1;a=2", "sip:h;a=1");
	assert_uri_ne("sip:h;a=1;a=2", "sip:h;a=2");
	/* user, ttl, method and maddr must be in both or neither */
	assert_uri_ne("sip:a@h;user=phone", "sip:a@h");
	assert_uri_ne("sip:h;ttl=1", "sip:h");
	assert_uri_ne("sip:h;method=INVITE", "sip:h");
	assert_uri_ne("sip:h;maddr=239.255.255.1", "sip:h");
	assert_uri_ne("sip:h;transport=tcp", "sip:h");
	assert_uri_ne("sip:h;transport=tcp", "sip:h;transport=udp");
	assert_uri_ne("sip:h;ttl=1", "sip:h;ttl=2");
	assert_uri_eq("sip:h;user=phone;ttl=1;method=BYE;maddr=x.com;"
		      "transport=udp",
	    "sip:h;transport=UDP;maddr=X.com;method=bye;ttl=1;user=PHONE");
}

static void
test_equal_headers(void **state)
{
	(void)state;
	assert_uri_eq("sip:h?Subject=x", "sip:h?subject=x");
	assert_uri_ne("sip:h?subject=X", "sip:h?subject=x");
	assert_uri_eq("sip:h?subject=%41", "sip:h?subject=A");
	assert_uri_eq("sip:h?a=1&b=2", "sip:h?b=2&a=1");
	assert_uri_ne("sip:h?a=1&b=2", "sip:h?a=1");
	assert_uri_ne("sip:h?a=1&a=1", "sip:h?a=1");
	assert_uri_ne("sip:h?a=1&a=1", "sip:h?a=1&b=2");
	assert_uri_ne("sip:h?a=1&b=2", "sip:h?a=1&c=2");
	assert_uri_ne("sip:h?a=", "sip:h?a=1");
	assert_uri_eq("sip:h?a=", "sip:h?a=");
	assert_uri_ne("sip:h?to=sip:bob%40b.com", "sip:h?to=sip:bob%40c.com");
}

/* RFC 3966 4 */
static void
test_equal_tel(void **state)
{
	(void)state;
	assert_uri_eq("tel:+1-201-555-0123", "tel:+12015550123");
	assert_uri_eq("tel:+1(201)555.0123", "tel:+1-201-555-0123");
	assert_uri_ne("tel:+12015550123", "tel:+12015550124");
	assert_uri_ne("tel:+12015550123", "tel:+120155501234");
	assert_uri_ne("tel:2015550123;phone-context=+1", "tel:+12015550123");
	assert_uri_eq("tel:7042;phone-context=Example.COM",
	    "tel:7042;PHONE-CONTEXT=example.com");
	assert_uri_ne("tel:7042;phone-context=a.com",
	    "tel:7042;phone-context=b.com");
	assert_uri_eq("tel:ab12;phone-context=x.com",
	    "tel:AB12;phone-context=x.com");
	assert_uri_eq("tel:+1;a=1;b=2", "tel:+1;b=2;a=1");
	assert_uri_ne("tel:+1;a=1", "tel:+1");
	assert_uri_ne("tel:+1;a", "tel:+1;a=1");
	assert_uri_ne("tel:+1", "sip:+1@h;user=phone");
}

/* ch_ipv4_run(), the host scans' one-pass check, judges a run of digits
 * and dots as uri_ipv4() does, strict or not: every string of up to nine
 * bytes over "0256.", then random runs of up to 17 digits and dots. */
/*
 * The plain reading of a dotted quad: four parts split at the dots, each
 * one to three digits and at most 255, without a leading zero when
 * strict (as inet_pton() reads one).
 */
static bool
ref_quad(const char *s, size_t n, bool strict, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t st = i;
		unsigned v = 0;

		if (part > 0) {
			if (i == n || s[i] != '.') {
				return false;
			}
			st = ++i;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (i - st == 3) {
				return false;
			}
			i++;
		}
		if (i == st || v > 255 || (strict && i - st > 1 && s[st] == '0')) {
			return false;
		}
		out[part] = (uint8_t)v;
	}
	return i == n;
}

static void
check_run(const char *s, size_t n)
{
	uint8_t b[4], r[4];
	bool ok;

	for (int strict = 0; strict < 2; strict++) {
		const char *end = ch_ipv4_run(s, s + n, strict, &ok);
		bool want = ref_quad(s, n, strict, r);

		assert_ptr_equal(end, s + n);
		assert_int_equal(ok, want);
		assert_int_equal(uri_ipv4(s, n, strict, b), want);
		if (want) {
			assert_memory_equal(b, r, 4);
		}
	}
}

static void
test_ipv4_run(void **state)
{
	static const char abc[] = "0256.";
	static const char *const more[] = { "255.255.255.255",
		"256.255.255.255", "255.255.255.256", "1.2.3.4.5", "001.2.3.4",
		"1.2.3.0400", "192.168.100.199", "0.0.0.0", "10.0.0.255" };
	const char *hp = "1.2.3.4:5060";
	char s[18];
	bool ok;
	unsigned seed = 12345;

	(void)state;
	for (size_t n = 1; n <= 9; n++) {
		size_t total = 1;
		for (size_t i = 0; i < n; i++) {
			total *= 5;
		}
		for (size_t k = 0; k < total; k++) {
			size_t x = k;
			for (size_t i = 0; i < n; i++, x /= 5) {
				s[i] = abc[x % 5];
			}
			check_run(s, n);
		}
	}
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		check_run(more[i], strlen(more[i]));
	}
	for (int k = 0; k < 200000; k++) {
		size_t n;
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 17;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = "0123456789...."[(seed >> 16) % 14];
		}
		check_run(s, n);
	}
	/* the run stops at the first other byte */
	assert_ptr_equal(ch_ipv4_run(hp, hp + strlen(hp), false, &ok), hp + 7);
	assert_true(ok);
}

static void
test_equal_other(void **state)
{
	(void)state;
	assert_uri_eq("mailto:a@b", "MAILTO:a@b");
	assert_uri_ne("mailto:a@b", "mailto:A@b");
	assert_uri_ne("mailto:a@b", "http:a@b");
	assert_uri_ne("mailto:a@b", "mailto:a@b.c");
	assert_uri_ne("mailto:a@b", "sip:a@b");
}

/* RFC 3261 25.1, written plainly: the reference for the scans below. */
static bool
ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT */
static bool
ref_ipv4(const char *h, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t d = 0;
		unsigned v = 0;

		while (i < n && h[i] >= '0' && h[i] <= '9') {
			v = v * 10 + (unsigned)(h[i] - '0');
			i++;
			d++;
		}
		if (d == 0 || d > 3 || v > 255) {
			return false;
		}
		if (part < 3) {
			if (i == n || h[i] != '.') {
				return false;
			}
			i++;
		}
	}
	return i == n;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ] */
static bool
ref_hostname(const char *h, size_t n)
{
	size_t start = 0, top = 0;

	if (n > 0 && h[n - 1] == '.') {
		n--;
	}
	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != '.') {
			if (!ref_alnum(h[i]) && h[i] != '-') {
				return false;
			}
			continue;
		}
		if (i == start || !ref_alnum(h[start]) || !ref_alnum(h[i - 1])) {
			return false;
		}
		top = start;
		start = i + 1;
	}
	return (h[top] >= 'a' && h[top] <= 'z') ||
	       (h[top] >= 'A' && h[top] <= 'Z');
}

/*
 * Every host of up to seven bytes over "a1-." parses as a sip URI's host
 * exactly when it is an IPv4 address or a hostname by the grammar, with
 * the type it is: the scan that reads a name judges its labels as it goes.
 */
static void
test_hostname_every_short(void **state)
{
	static const char abc[] = "a1-.";
	char host[8], uri[16];
	size_t len, k, total = 0;

	(void)state;
	for (len = 0; len <= 7; len++) {
		size_t count = 1;

		for (k = 0; k < len; k++) {
			count *= 4;
		}
		for (size_t c = 0; c < count; c++) {
			struct turi t;
			size_t x = c;
			bool v4, name;

			for (k = 0; k < len; k++) {
				host[k] = abc[x % 4];
				x /= 4;
			}
			host[len] = '\0';
			snprintf(uri, sizeof(uri), "sip:%s", host);
			v4 = ref_ipv4(host, len);
			name = !v4 && ref_hostname(host, len);
			tparse(&t, uri);
			if ((t.rc == 0) != (v4 || name)) {
				fail_msg("host '%s': parse %d, grammar %s", host,
				         t.rc, v4 ? "IPv4" : name ? "name" : "none");
			}
			if (t.rc == 0) {
				assert_int_equal(t.u.host_type, v4 ? URI_HOST_IPV4
				                                   : URI_HOST_NAME);
				assert_span(t.buf, t.u.host, host);
			}
			tfree(&t);
			total++;
		}
	}
	assert_int_equal(total, 21845);
}

/* One host in a URI as prefix host suffix, judged against the grammar. */
static void
check_host_in(const char *pre, const char *host, const char *suf)
{
	char uri[160];
	size_t len = strlen(host);
	struct turi t;
	bool v4 = ref_ipv4(host, len);
	bool name = !v4 && ref_hostname(host, len);

	snprintf(uri, sizeof(uri), "%s%s%s", pre, host, suf);
	tparse(&t, uri);
	if ((t.rc == 0) != (v4 || name)) {
		fail_msg("uri '%s': parse %d, grammar %s", uri, t.rc,
		         v4 ? "IPv4" : name ? "name" : "none");
	}
	if (t.rc == 0) {
		assert_int_equal(t.u.host_type,
		                 v4 ? URI_HOST_IPV4 : URI_HOST_NAME);
		assert_span(t.buf, t.u.host, host);
	}
	tfree(&t);
}

/*
 * Hosts judged sixteen bytes at a time: every host of up to six bytes
 * over "a1-." and long ones made of labels, one byte changed in half of
 * them, at offsets that put them across the sixteen-byte loads and the
 * end of the text, parse exactly when the grammar says (the URI buffer
 * is allocated to measure, so a read past it is caught under ASan).
 */
static void
test_hostname_long(void **state)
{
	static const char *const pre[] = { "sip:", "sip:alice@",
		                           "sip:a-rather-long-user@" };
	static const char *const suf[] = { "", ";lr", ":5060;transport=udp",
		                           ";maddr=x" };
	static const char abc[] = "a1-.";
	static const char lab[] = "abzAZ019-";
	static const char mut[] = "a1-.Z";
	uint32_t seed = 12345;
	char host[100];

	(void)state;
	for (size_t len = 1; len <= 6; len++) {
		size_t count = (size_t)1 << (2 * len);

		for (size_t c = 0; c < count; c++) {
			size_t x = c;

			for (size_t k = 0; k < len; k++) {
				host[k] = abc[x % 4];
				x /= 4;
			}
			host[len] = '\0';
			for (size_t a = 0; a < 3; a++) {
				for (size_t b = 0; b < 4; b++) {
					check_host_in(pre[a], host, suf[b]);
				}
			}
		}
	}
	for (int round = 0; round < 20000; round++) {
		size_t want, len = 0;

		seed = seed * 1103515245u + 12345u;
		want = 1 + (seed >> 16) % 90;
		while (len < want) {
			size_t l;

			seed = seed * 1103515245u + 12345u;
			l = 1 + (seed >> 16) % 12;
			if (len + l + 1 > want) {
				l = want - len;
			}
			for (size_t k = 0; k < l; k++) {
				seed = seed * 1103515245u + 12345u;
				host[len + k] = lab[(seed >> 16) % 9];
			}
			if (host[len] == '-') {
				host[len] = 'q';
			}
			if (host[len + l - 1] == '-') {
				host[len + l - 1] = '7';
			}
			len += l;
			if (len < want) {
				host[len++] = '.';
			}
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) & 1) {
			seed = seed * 1103515245u + 12345u;
			host[(seed >> 16) % len] = mut[(seed >> 8) % 5];
		}
		host[len] = '\0';
		check_host_in(pre[round % 3], host, suf[(round / 3) % 4]);
	}
}

/* An escape is "%" HEXDIG HEXDIG; other bytes pass the class. */
static bool
ref_seg(const char *p, size_t n, bool (*cls)(char))
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%') {
			if (i + 2 >= n || !strchr("0123456789abcdefABCDEF", p[i + 1]) ||
			    !strchr("0123456789abcdefABCDEF", p[i + 2]) ||
			    p[i + 1] == '\0' || p[i + 2] == '\0') {
				return false;
			}
			i += 2;
		} else if (!cls(p[i])) {
			return false;
		}
	}
	return true;
}

/* unreserved = alphanum / mark */
static bool
ref_unreserved(char c)
{
	return ref_alnum(c) || (c != '\0' && strchr("-_.!~*'()", c) != NULL);
}

/* user = 1*( unreserved / escaped / user-unreserved ) */
static bool
ref_userc(char c)
{
	return ref_unreserved(c) || (c != '\0' && strchr("&=+$,;?/", c) != NULL);
}

/* password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
static bool
ref_passc(char c)
{
	return ref_unreserved(c) || (c != '\0' && strchr("&=+$,", c) != NULL);
}

/*
 * Every userinfo of up to six bytes over "a:%4[;" before "@h.example"
 * parses exactly when it is user [ ":" password ] by the grammar, with
 * that user and password: the user's scan finds the password's colon.
 */
static void
test_userinfo_every_short(void **state)
{
	static const char abc[] = "a:%4[;";
	char ui[8], uri[32];
	size_t len, k;

	(void)state;
	for (len = 0; len <= 6; len++) {
		size_t count = 1;

		for (k = 0; k < len; k++) {
			count *= 6;
		}
		for (size_t c = 0; c < count; c++) {
			struct turi t;
			size_t x = c, ulen;
			const char *colon;
			bool good;

			for (k = 0; k < len; k++) {
				ui[k] = abc[x % 6];
				x /= 6;
			}
			ui[len] = '\0';
			colon = strchr(ui, ':');
			ulen = colon != NULL ? (size_t)(colon - ui) : len;
			good = ulen > 0 && ref_seg(ui, ulen, ref_userc) &&
			       (colon == NULL ||
			        ref_seg(colon + 1, len - ulen - 1, ref_passc));
			snprintf(uri, sizeof(uri), "sip:%s@h.example", ui);
			tparse(&t, uri);
			if ((t.rc == 0) != good) {
				fail_msg("userinfo '%s': parse %d, grammar %s", ui,
				         t.rc, good ? "good" : "bad");
			}
			if (t.rc == 0) {
				char user[8];

				memcpy(user, ui, ulen);
				user[ulen] = '\0';
				assert_span(t.buf, t.u.user, user);
				assert_span(t.buf, t.u.password,
				            colon != NULL ? colon + 1 : "");
			}
			tfree(&t);
		}
	}
}

/* paramchar = param-unreserved / unreserved / escaped */
static bool
ref_paramc(char c)
{
	return ref_unreserved(c) || (c != '\0' && strchr("[]/:&+$", c) != NULL);
}

/* uri-parameters after the first ';': pname [ "=" pvalue ] by ';' */
static bool
ref_params(const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != ';') {
			continue;
		}
		const char *eq = memchr(p + start, '=', i - start);
		size_t nl = eq != NULL ? (size_t)(eq - (p + start)) : i - start;

		if (nl == 0 || !ref_seg(p + start, nl, ref_paramc)) {
			return false;
		}
		if (eq != NULL && (i - start - nl - 1 == 0 ||
		                   !ref_seg(eq + 1, i - start - nl - 1,
		                            ref_paramc))) {
			return false;
		}
		start = i + 1;
	}
	return true;
}

/*
 * Every parameter list of up to six bytes over "a=;%4[" after a sip
 * URI's host parses exactly when it is uri-parameters by the grammar,
 * with those parameters; and the '?' of the headers ends them.
 */
static void
test_params_every_short(void **state)
{
	static const char abc[] = "a=;%4[";
	char pl[8], uri[40];
	size_t len, k;
	struct turi t;

	(void)state;
	for (len = 0; len <= 6; len++) {
		size_t count = 1;

		for (k = 0; k < len; k++) {
			count *= 6;
		}
		for (size_t c = 0; c < count; c++) {
			size_t x = c;
			bool good;

			for (k = 0; k < len; k++) {
				pl[k] = abc[x % 6];
				x /= 6;
			}
			pl[len] = '\0';
			good = ref_params(pl, len);
			snprintf(uri, sizeof(uri), "sip:h.example;%s", pl);
			tparse(&t, uri);
			if ((t.rc == 0) != good) {
				fail_msg("params '%s': parse %d, grammar %s", pl,
				         t.rc, good ? "good" : "bad");
			}
			if (t.rc == 0) {
				assert_span(t.buf, t.u.params, pl);
			}
			tfree(&t);
			/* the same before headers */
			snprintf(uri, sizeof(uri), "sip:h.example;%s?a=b", pl);
			tparse(&t, uri);
			assert_int_equal(t.rc == 0, good);
			if (t.rc == 0) {
				assert_span(t.buf, t.u.params, pl);
				assert_span(t.buf, t.u.headers, "a=b");
			}
			tfree(&t);
		}
	}
	tparse(&t, "sip:h.example;a?");
	assert_int_not_equal(t.rc, 0);
	tfree(&t);
	tparse(&t, "sip:h.example;a=?b=c");
	assert_int_not_equal(t.rc, 0);
	tfree(&t);
	tparse(&t, "sip:h.example;?b=c");
	assert_int_not_equal(t.rc, 0);
	tfree(&t);
}

/* uri_param() as the grammar's list reads, written plainly. */
static bool
ref_param(const char *p, size_t n, const char *name, struct sv *val)
{
	size_t start = 0;

	if (n == 0) {
		return false;
	}
	while (start <= n) {
		size_t end = start, eq;

		while (end < n && p[end] != ';') {
			end++;
		}
		for (eq = start; eq < end && p[eq] != '='; eq++) {
		}
		if (eq - start == strlen(name) &&
		    strncasecmp(p + start, name, eq - start) == 0) {
			*val = eq < end ? (struct sv){ p + eq + 1, end - eq - 1 }
			                : (struct sv){ p + end, 0 };
			return true;
		}
		start = end + 1;
	}
	return false;
}

/*
 * uri_param() over every parameter text of up to six bytes over "a=;A"
 * (empty names and values, flags, a name twice, '=' in a value), for
 * names that match by case, by length only or not at all: found exactly
 * when the plain reading finds it, with the same value, at the same
 * place.  The text is allocated to measure.
 */
static void
test_param_every_short(void **state)
{
	static const char abc[] = "a=;A";
	static const char *const names[] = { "a", "A", "aa", "aAa", "b", "",
		"a=", "a;" };
	size_t total = 0;

	(void)state;
	for (size_t len = 0; len <= 6; len++) {
		size_t count = (size_t)1 << (2 * len);

		for (size_t c = 0; c < count; c++) {
			char *buf = malloc(len > 0 ? len : 1);
			struct uri u;
			size_t x = c;

			assert_non_null(buf);
			for (size_t k = 0; k < len; k++) {
				buf[k] = abc[x % 4];
				x /= 4;
			}
			memset(&u, 0, sizeof(u));
			u.params = (struct span){ 0, (uint32_t)len };
			for (size_t k = 0; k < sizeof(names) / sizeof(*names);
			     k++) {
				struct sv got, want;
				bool g = uri_param(buf, &u, names[k], &got);
				bool w = ref_param(buf, len, names[k], &want);

				if (g != w || (g && (got.p != want.p ||
				                     got.len != want.len))) {
					fail_msg("params '%.*s' name '%s': %d, "
					         "want %d",
					         (int)len, buf, names[k], g, w);
				}
				if (!g) {
					assert_null(got.p);
				}
				total++;
			}
			free(buf);
		}
	}
	assert_int_equal(total, 5461 * 8);
}

/*
 * sv_caseeq_str() over every pair of texts of up to three bytes over
 * letters of both cases and the bytes 0x20 away from non-letters ('@'
 * and '`', '[' and '{', '\x01' and '!'): equal exactly when they are of
 * one length and strncasecmp() says so.
 */
static void
test_caseeq_str_every_short(void **state)
{
	static const char abc[] = "aAzZ@`[{\x01!";
	const size_t na = sizeof(abc) - 1;
	char a[4], b[4];

	(void)state;
	for (size_t la = 0; la <= 3; la++) {
		for (size_t lb = 0; lb <= 3; lb++) {
			size_t ca = 1, cb = 1;

			for (size_t k = 0; k < la; k++) {
				ca *= na;
			}
			for (size_t k = 0; k < lb; k++) {
				cb *= na;
			}
			for (size_t i = 0; i < ca; i++) {
				for (size_t j = 0; j < cb; j++) {
					size_t x = i, y = j;
					bool want;

					for (size_t k = 0; k < la; k++) {
						a[k] = abc[x % na];
						x /= na;
					}
					for (size_t k = 0; k < lb; k++) {
						b[k] = abc[y % na];
						y /= na;
					}
					a[la] = b[lb] = '\0';
					want = la == lb &&
					       strncasecmp(a, b, la) == 0;
					if (sv_caseeq_str((struct sv){ a, la },
					                  b) != want) {
						fail_msg("'%s' '%s': want %d", a, b,
						         want);
					}
				}
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_scheme_case),
		cmocka_unit_test(test_parse_offset),
		cmocka_unit_test(test_parse_escaped_user),
		cmocka_unit_test(test_parse_user_reserved),
		cmocka_unit_test(test_parse_no_user),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_ipv4_run),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_parse_hostname),
		cmocka_unit_test(test_hostname_every_short),
		cmocka_unit_test(test_hostname_long),
		cmocka_unit_test(test_userinfo_every_short),
		cmocka_unit_test(test_params_every_short),
		cmocka_unit_test(test_parse_params),
		cmocka_unit_test(test_param_every_short),
		cmocka_unit_test(test_caseeq_str_every_short),
		cmocka_unit_test(test_parse_headers),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_parse_nongraph_anywhere),
		cmocka_unit_test(test_parse_tel),
		cmocka_unit_test(test_parse_other),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_equal_rfc3261),
		cmocka_unit_test(test_unequal_rfc3261),
		cmocka_unit_test(test_equal_userinfo),
		cmocka_unit_test(test_equal_hostport),
		cmocka_unit_test(test_equal_params),
		cmocka_unit_test(test_equal_headers),
		cmocka_unit_test(test_equal_tel),
		cmocka_unit_test(test_equal_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
