/*
 * Unit tests for the typed header values sipd/msg parses: Via, From and
 * To, Call-ID, CSeq, the numeric headers, Content-Type, Contact and the
 * route lists, the credentials and challenges, and what msg_check()
 * makes of them (RFC 3261 sections 8.2, 20 and 25).  Each test parses a
 * message written here and checks the exact values the API returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "sipd/msg/msg_int.h"
#include "parse_msgs.h"

/* ---------------------------------------------------------------- Via */

/*
 * The parameter names the Via and name-addr parses keep, against every
 * spelling of their length: each in every mix of cases is kept, and one
 * byte changed to any other token byte at any place makes another
 * parameter, kept by no field (RFC 3261 7.3.1, 25.1: case-insensitive).
 */
static const char param_token_bytes[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "-.!%*_+`'~";

/* What one spelling of a parameter gets: 1 kept, 0 not. */
static int
param_kept(const char *name, const char *pname, const char *value)
{
	char hdrs[512];
	struct msg *m;
	int kept = -1;

	if (strcmp(name, "tag") == 0 || strcmp(name, "expires") == 0 ||
	    strcmp(name, "q") == 0) {
		const struct msg_naddr *c;

		snprintf(hdrs, sizeof(hdrs),
		    VIA_1 MAXF TO_1 CALLID_1 CSEQ_1 CL_0
		    "From: <sip:a@h>;x=1;%s=%s\r\n"
		    "Contact: <sip:a@h>;%s=%s;y\r\n", pname, value, pname,
		    value);
		m = request_with(REQ_LINE, hdrs);
		if (strcmp(name, "tag") == 0) {
			assert_non_null(msg_from(m));
			kept = msg_from(m)->tag.len > 0;
		} else {
			assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), 1);
			kept = strcmp(name, "q") == 0 ? c[0].q >= 0
			    : c[0].expires >= 0;
		}
	} else {
		const struct msg_via *v;

		snprintf(hdrs, sizeof(hdrs),
		    "Via: SIP/2.0/UDP h.example;x;%s=%s;y=2\r\n" MAXF TO_1
		    FROM_1 CALLID_1 CSEQ_1 CL_0, pname, value);
		m = request_with(REQ_LINE, hdrs);
		v = msg_via_top(m);
		assert_non_null(v);
		kept = strcmp(name, "branch") == 0 ? v->branch.len > 0
		    : strcmp(name, "received") == 0 ? v->received.len > 0
		    : strcmp(name, "maddr") == 0    ? v->maddr.len > 0
		    : strcmp(name, "ttl") == 0      ? v->ttl >= 0
						    : v->rport_value >= 0;
	}
	msg_free(m);
	return kept;
}

static void
test_param_names_every_spelling(void **state)
{
	static const struct {
		const char *name, *value;
	} names[] = {
		{ "branch", "z9hG4bK1" }, { "received", "192.0.2.1" },
		{ "maddr", "192.0.2.2" }, { "ttl", "5" }, { "rport", "5062" },
		{ "tag", "t1" }, { "expires", "60" }, { "q", "0.5" },
	};
	char pname[16];

	(void)state;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const char *nm = names[k].name;
		size_t n = strlen(nm);

		for (unsigned cases = 0; cases < 1u << n; cases++) {
			for (size_t i = 0; i < n; i++) {
				pname[i] = (char)(cases >> i & 1
				    ? nm[i] - 'a' + 'A' : nm[i]);
			}
			pname[n] = '\0';
			if (param_kept(nm, pname, names[k].value) != 1) {
				fail_msg("%s not kept", pname);
			}
		}
		for (size_t i = 0; i < n; i++) {
			for (const char *b = param_token_bytes; *b; b++) {
				if ((*b | 0x20) == nm[i]) {
					continue;
				}
				memcpy(pname, nm, n + 1);
				pname[i] = *b;
				if (param_kept(nm, pname, names[k].value) != 0) {
					fail_msg("%s kept as %s", pname, nm);
				}
			}
		}
	}
}

static void
test_via_full(void **state)
{
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	m = request_with(
	    REQ_LINE,
	    "Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKabc;"
	    "received=192.0.2.9;rport=5071;maddr=224.2.0.1;ttl=16;x=y\r\n" MAXF
	        TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->protocol, "SIP");
	assert_span_equal(m, v->version, "2.0");
	assert_span_equal(m, v->transport, "TCP");
	assert_span_equal(m, v->host, "[2001:db8::1]");
	assert_int_equal(v->host_type, URI_HOST_IPV6);
	assert_int_equal(v->port, 5070);
	assert_span_equal(m, v->branch, "z9hG4bKabc");
	assert_span_equal(m, v->received, "192.0.2.9");
	assert_true(v->rport);
	assert_int_equal(v->rport_value, 5071);
	assert_span_equal(m, v->maddr, "224.2.0.1");
	assert_int_equal(v->ttl, 16);
	assert_span_equal(m, v->params,
	                  "branch=z9hG4bKabc;received=192.0.2.9;"
	                  "rport=5071;maddr=224.2.0.1;ttl=16;x=y");
	assert_span_equal(
	    m, v->value,
	    "SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKabc;"
	    "received=192.0.2.9;rport=5071;maddr=224.2.0.1;ttl=16;x=y");
	assert_int_equal(v->hdr, 0);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_via_minimal(void **state)
{
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	m = request_with(
	    REQ_LINE,
	    "Via: SIP/2.0/UDP host.example.com;rport;branch=z9hG4bK1\r\n" MAXF
	        TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->transport, "UDP");
	assert_span_equal(m, v->host, "host.example.com");
	assert_int_equal(v->host_type, URI_HOST_NAME);
	assert_int_equal(v->port, 0);
	assert_true(v->rport);
	assert_int_equal(v->rport_value, -1);
	assert_int_equal(v->ttl, -1);
	assert_int_equal(v->received.len, 0);
	assert_int_equal(v->maddr.len, 0);
	assert_span_equal(m, v->branch, "z9hG4bK1");
	assert_span_equal(m, v->params, "rport;branch=z9hG4bK1");
	msg_free(m);

	/* IPv4 sent-by with port, no rport, IPv6 received */
	m = request_with(
	    REQ_LINE,
	    "Via: SIP/2.0/TLS 192.0.2.4:5061;received=2001:db8::9;"
	    "branch=z9hG4bK2\r\n" MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->transport, "TLS");
	assert_span_equal(m, v->host, "192.0.2.4");
	assert_int_equal(v->host_type, URI_HOST_IPV4);
	assert_int_equal(v->port, 5061);
	assert_false(v->rport);
	assert_span_equal(m, v->received, "2001:db8::9");
	msg_free(m);

	/* extension transport, IPv6 without port */
	m = request_with(
	    REQ_LINE,
	    "Via: SIP/2.0/WSS [2001:db8::a];branch=z9hG4bK3\r\n" MAXF TO_1
	        FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->transport, "WSS");
	assert_span_equal(m, v->host, "[2001:db8::a]");
	assert_int_equal(v->host_type, URI_HOST_IPV6);
	assert_int_equal(v->port, 0);
	msg_free(m);
}

static void
test_via_whitespace(void **state)
{
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	/* RFC 3261 25.1: SLASH, COLON, SEMI and EQUAL allow SWS around them */
	m = request_with(
	    REQ_LINE, "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2 : 5062 ;"
	              "  branch  =  z9hG4bK390skdjuw ; rport\r\n" MAXF TO_1
	                  FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->protocol, "SIP");
	assert_span_equal(m, v->version, "2.0");
	assert_span_equal(m, v->transport, "UDP");
	assert_span_equal(m, v->host, "192.0.2.2");
	assert_int_equal(v->port, 5062);
	assert_span_equal(m, v->branch, "z9hG4bK390skdjuw");
	assert_true(v->rport);
	assert_check_ok(m);
	msg_free(m);

	/* the common "SIP/2.0/" start, white space after its last slash */
	m = request_with(
	    REQ_LINE, "Via: SIP/2.0/\r\n  TCP 192.0.2.2;branch=z9hG4bK7\r\n"
	              MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->protocol, "SIP");
	assert_span_equal(m, v->version, "2.0");
	assert_span_equal(m, v->transport, "TCP");
	assert_span_equal(m, v->host, "192.0.2.2");
	assert_check_ok(m);
	msg_free(m);

	/* ... and with no transport after it: Bad Via */
	m = request_with(
	    REQ_LINE, "Via: SIP/2.0/ ;branch=z9hG4bK7\r\n"
	              MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_null(msg_via_top(m));
	assert_check_fails(m, 400, "Bad Via");
	msg_free(m);
}

static void
test_via_list(void **state)
{
	struct msg *m;
	const struct msg_via *v;
	int n;

	(void)state;
	m = request_with(
	    REQ_LINE,
	    "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , "
	    "SIP/2.0/TCP b.example.com:5061;branch=z9hG4bK2\r\n" MAXF TO_1
	        FROM_1
	    "v: SIP/2.0/SCTP c.example.com;branch=z9hG4bK3\r\n" CALLID_1 CSEQ_1
	        CL_0);
	n = msg_vias(m, &v);
	assert_int_equal(n, 3);
	assert_span_equal(m, v[0].host, "a.example.com");
	assert_span_equal(m, v[0].branch, "z9hG4bK1");
	assert_span_equal(m, v[0].value,
	                  "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
	assert_int_equal(v[0].hdr, 0);
	assert_span_equal(m, v[1].host, "b.example.com");
	assert_span_equal(m, v[1].transport, "TCP");
	assert_int_equal(v[1].port, 5061);
	assert_int_equal(v[1].hdr, 0);
	assert_span_equal(m, v[2].transport, "SCTP");
	assert_span_equal(m, v[2].host, "c.example.com");
	assert_int_equal(v[2].hdr, 4);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "a.example.com");
	assert_check_ok(m);
	msg_free(m);
}

/*
 * A message with one Via line holding one value: msg_vias() gives one
 * element equal, byte for byte, to msg_via_top()'s parse, whether asked
 * before or after it, and the same array again; a comma inside a quoted
 * parameter value is no second value.  Two values on the line, or two
 * lines, are two elements; a bad second value fails the list, not the
 * top Via.
 */
static void
test_vias_one_line(void **state)
{
	static const char *const one[] = {
	    "Via: SIP/2.0/UDP h.example.com:5060;branch=z9hG4bK1\r\n",
	    "Via:  SIP/2.0/TCP 192.0.2.1;rport;received=192.0.2.9;"
	    "branch=z9hG4bK2 \r\n",
	    "Via: SIP/2.0/UDP h.example.com;x=\"a, b\";branch=z9hG4bK3\r\n",
	    "Via: SIP/2.0/UDP h.example.com\r\n ;branch=z9hG4bK4\r\n",
	};
	const struct msg_via *v, *w, *top;
	struct msg *m;
	char hdrs[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(one) / sizeof(*one); i++) {
		for (int first = 0; first < 2; first++) {
			snprintf(hdrs, sizeof(hdrs),
			         "%s" MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0,
			         one[i]);
			m = request_with(REQ_LINE, hdrs);
			top = first ? msg_via_top(m) : NULL;
			assert_int_equal(msg_vias(m, &v), 1);
			if (!first) {
				top = msg_via_top(m);
			}
			assert_non_null(top);
			assert_memory_equal(v, top, sizeof(*v));
			assert_int_equal(msg_vias(m, &w), 1);
			assert_ptr_equal(w, v);
			assert_check_ok(m);
			msg_free(m);
		}
	}

	m = request_with(REQ_LINE,
	                 "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,"
	                 "SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n" MAXF
	                 TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_int_equal(msg_vias(m, &v), 2);
	assert_span_equal(m, v[1].host, "b.example.com");
	msg_free(m);

	m = request_with(REQ_LINE,
	                 "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
	                 "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n"
	                 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_non_null(msg_via_top(m));
	assert_int_equal(msg_vias(m, &v), 2);
	assert_span_equal(m, v[1].host, "b.example.com");
	msg_free(m);

	m = request_with(REQ_LINE,
	                 "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, "
	                 "SIP/2.0/UDP ;branch=z9hG4bK2\r\n" MAXF TO_1 FROM_1
	                 CALLID_1 CSEQ_1 CL_0);
	assert_non_null(msg_via_top(m));
	assert_int_equal(msg_vias(m, &v), -EINVAL);
	assert_int_equal(msg_vias(m, &v), -EINVAL);
	msg_free(m);
}

static void
test_via_bad(void **state)
{
	static const char *bad[] = {
	    "Via: SIP/2.0 pc33.atlanta.example.com;branch=z9hG4bK1\r\n",
	    "Via: SIP/2.0/UDP ;branch=z9hG4bK1\r\n",
	    "Via: SIP/2.0/UDP\r\n",
	    "Via: pc33.atlanta.example.com\r\n",
	    "Via: SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1\r\n",
	    "Via: SIP/2.0/UDP host.example.com:50x0;branch=z9hG4bK1\r\n",
	    "Via: SIP/2.0/UDP host.example.com;rport=abc\r\n",
	    "Via: SIP/2.0/UDP host.example.com;ttl=256\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct msg *m;
		char hdrs[1024];

		snprintf(hdrs, sizeof(hdrs),
		         "%s" MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0, bad[i]);
		m = request_with(REQ_LINE, hdrs);
		if (msg_via_top(m) != NULL) {
			fail_msg("Via accepted: %s", bad[i]);
		}
		assert_check_fails(m, 400, "Bad Via");
		msg_free(m);
	}
}

/*
 * Sent-by hosts: an IPv4 address as inet_pton() takes it (no leading
 * zeros, octets up to 255), else a name; digits and dots alone are an
 * address or nothing.
 */
static void
test_via_hosts(void **state)
{
	static const struct {
		const char *host;
		int type; /* enum uri_host_type, -1: refused */
	} cases[] = {
	    {"192.0.2.1", URI_HOST_IPV4},
	    {"0.0.0.0", URI_HOST_IPV4},
	    {"255.255.255.255", URI_HOST_IPV4},
	    {"10.0.100.9", URI_HOST_IPV4},
	    {"256.0.0.1", -1},
	    {"1.2.3.256", -1},
	    {"1.2.3.1000", -1},
	    {"01.2.3.4", -1},
	    {"1.2.3.04", -1},
	    {"1.2.00.4", -1},
	    {"1.2.3", -1},
	    {"1.2.3.4.5", -1},
	    {"1.2.3.", -1},
	    {"1..2.3", -1},
	    {".1.2.3", -1},
	    {"1234", -1},
	    {"1.2.3.4a", URI_HOST_NAME},
	    {"1.2.3.4-", URI_HOST_NAME},
	    {"123abc.example.com", URI_HOST_NAME},
	    {"a.b-c.example.com", URI_HOST_NAME},
	    {"-a.example.com", -1},
	    {".a.example.com", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct msg_via *v;
		struct msg *m;
		char hdrs[1024];

		snprintf(hdrs, sizeof(hdrs),
		         "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK1\r\n"
		         MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0, cases[i].host);
		m = request_with(REQ_LINE, hdrs);
		v = msg_via_top(m);
		if ((v != NULL) != (cases[i].type >= 0)) {
			fail_msg("Via host %s: %s", cases[i].host,
			         v != NULL ? "accepted" : "refused");
		}
		if (v != NULL) {
			assert_int_equal(v->host_type, cases[i].type);
			assert_span_equal(m, v->host, cases[i].host);
			assert_int_equal(v->port, 5060);
		}
		msg_free(m);
	}
}

static void
test_via_missing(void **state)
{
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	m = request_with(REQ_LINE, MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_null(msg_via_top(m));
	assert_int_equal(msg_vias(m, &v), 0);
	assert_check_fails(m, 400, "Missing Via");
	msg_free(m);
}

/* ------------------------------------------------------------ From/To */

static void
test_from_to_name_addr(void **state)
{
	struct msg *m;
	const struct msg_naddr *f, *t;
	struct sv val;

	(void)state;
	m = request_with(
	    REQ_LINE, VIA_1 MAXF
	    "To: Bob Smith <sip:bob@biloxi.example.com>\r\n"
	    "From: \"Alice \\\"Al\\\" Smith\" "
	    "<sip:alice@atlanta.example.com;transport=tcp>;tag=1928301774;x-p=1"
	    "\r\n" CALLID_1 CSEQ_1 CL_0);
	f = msg_from(m);
	assert_non_null(f);
	assert_span_equal(m, f->display, "\"Alice \\\"Al\\\" Smith\"");
	assert_span_equal(m, f->uri_s,
	                  "sip:alice@atlanta.example.com;transport=tcp");
	assert_int_equal(f->uri.scheme, URI_SIP);
	assert_span_equal(m, f->uri.host, "atlanta.example.com");
	assert_span_equal(m, f->uri.params, "transport=tcp");
	assert_span_equal(m, f->tag, "1928301774");
	assert_span_equal(m, f->params, "tag=1928301774;x-p=1");
	assert_true(msg_naddr_param(m, f, "x-p", &val));
	assert_sv_equal(val, "1");
	assert_true(msg_naddr_param(m, f, "TAG", &val));
	assert_sv_equal(val, "1928301774");
	assert_false(msg_naddr_param(m, f, "transport", &val));
	assert_int_equal(f->hdr, msg_hdr_first(m, HDR_FROM));

	t = msg_to(m);
	assert_non_null(t);
	assert_span_equal(m, t->display, "Bob Smith");
	assert_span_equal(m, t->uri_s, "sip:bob@biloxi.example.com");
	assert_span_equal(m, t->uri.user, "bob");
	assert_int_equal(t->tag.len, 0);
	assert_int_equal(t->params.len, 0);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_from_to_addr_spec(void **state)
{
	struct msg *m;
	const struct msg_naddr *f, *t;
	struct sv val;

	(void)state;
	/* RFC 3261 20.10: without <>, ;params belong to the header */
	m = request_with(
	    REQ_LINE, VIA_1 MAXF
	    "t: sip:bob@biloxi.example.com;tag=abc;x=1\r\n"
	    "f: sip:alice@atlanta.example.com;tag=88\r\n" CALLID_1 CSEQ_1 CL_0);
	f = msg_from(m);
	assert_non_null(f);
	assert_int_equal(f->display.len, 0);
	assert_span_equal(m, f->uri_s, "sip:alice@atlanta.example.com");
	assert_int_equal(f->uri.params.len, 0);
	assert_span_equal(m, f->tag, "88");
	assert_span_equal(m, f->params, "tag=88");
	t = msg_to(m);
	assert_non_null(t);
	assert_span_equal(m, t->uri_s, "sip:bob@biloxi.example.com");
	assert_span_equal(m, t->uri.host, "biloxi.example.com");
	assert_span_equal(m, t->tag, "abc");
	assert_true(msg_naddr_param(m, t, "x", &val));
	assert_sv_equal(val, "1");
	assert_check_ok(m);
	msg_free(m);
}

static void
test_from_to_tricky(void **state)
{
	struct msg *m;
	const struct msg_naddr *f, *t;

	(void)state;
	/* white space around the parts, UTF-8 in the quoted display name,
	 * a URI of an unknown scheme inside <> (RFC 3261 25.1 absoluteURI) */
	m = request_with(
	    REQ_LINE, VIA_1 MAXF
	    "To :\r\n <sip:bob@biloxi.example.com> ;   tag    = 1918181833n\r\n"
	    "from   : \"J\xc3\xb6rg \\\\\"   <sip:j@example.com>\r\n"
	    "  ;\r\n  tag = 98asjd8\r\n" CALLID_1 CSEQ_1 CL_0);
	f = msg_from(m);
	assert_non_null(f);
	assert_span_equal(m, f->display, "\"J\xc3\xb6rg \\\\\"");
	assert_span_equal(m, f->uri_s, "sip:j@example.com");
	assert_span_equal(m, f->tag, "98asjd8");
	t = msg_to(m);
	assert_non_null(t);
	assert_span_equal(m, t->uri_s, "sip:bob@biloxi.example.com");
	assert_span_equal(m, t->tag, "1918181833n");
	assert_check_ok(m);
	msg_free(m);

	m = request_with(
	    REQ_LINE, VIA_1 MAXF
	    "To: <nobodyknowsthisscheme:totallyopaquecontent>\r\n" FROM_1
	        CALLID_1 CSEQ_1 CL_0);
	t = msg_to(m);
	assert_non_null(t);
	assert_int_equal(t->uri.scheme, URI_OTHER);
	assert_span_equal(m, t->uri_s,
	                  "nobodyknowsthisscheme:totallyopaquecontent");
	assert_check_ok(m);
	msg_free(m);
}

static void
test_from_to_bad(void **state)
{
	struct msg *m;

	(void)state;
	m = request_with(
	    REQ_LINE, VIA_1 MAXF TO_1
	    "From: \"Alice <sip:alice@atlanta.example.com>;tag=1\r\n" CALLID_1
	        CSEQ_1 CL_0);
	assert_null(msg_from(m));
	assert_check_fails(m, 400, "Bad From");
	msg_free(m);

	m = request_with(
	    REQ_LINE,
	    VIA_1 MAXF "To: Bob <sip:bob@biloxi.example.com\r\n" FROM_1 CALLID_1
	        CSEQ_1 CL_0);
	assert_null(msg_to(m));
	assert_check_fails(m, 400, "Bad To");
	msg_free(m);

	m = request_with(REQ_LINE, VIA_1 MAXF TO_1 CALLID_1 CSEQ_1 CL_0);
	assert_null(msg_from(m));
	assert_check_fails(m, 400, "Missing From");
	msg_free(m);

	m = request_with(REQ_LINE, VIA_1 MAXF FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_null(msg_to(m));
	assert_check_fails(m, 400, "Missing To");
	msg_free(m);
}

/*
 * msg_from() and msg_to() answer from their first parse: the same
 * element every time, equal to msg_naddrs()' of the header, malformed
 * every time once malformed, and parsed again after an edit of the
 * header.  Two From lines: the first, and NULL once either is bad.
 */
/*
 * msg_from() and msg_to() parse their header at first asking without
 * list_get(): what they give, and what is cached, equals what
 * msg_naddrs() gives from the same bytes, good or bad.
 */
static void
test_from_to_direct_same(void **state)
{
	static const char *const vals[] = {
		"<sip:a@example.com>;tag=1",
		"\"A \\\" B\" <sip:a@example.com:5060;lr>;tag=x;q=1",
		"Alice Smith <sips:a@[2001:db8::1]>;expires=5;TAG=z",
		"sip:a@example.com;tag=2",
		"sip:a@example.com",
		"  <tel:+1-555>  ;  tag = 3 ",
		"<urn:x:y>",
		"<sip:a@example.com",
		"sip:a@example.com;tag=",
		"<sip:a@exa mple.com>;tag=1",
		"\"open <sip:a@example.com>",
		"<sip:a@example.com>;tag=1;",
		"<sip:a@example.com> x",
		"",
		"*",
	};
	char hdrs[512];

	(void)state;
	for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		for (int to = 0; to < 2; to++) {
			enum hdr_id id = to ? HDR_TO : HDR_FROM;
			const struct msg_naddr *a, *b;
			struct msg *m1, *m2;
			int n;

			snprintf(hdrs, sizeof(hdrs), "%s%s: %s\r\n%s" CALLID_1
			    CSEQ_1 CL_0, VIA_1 MAXF, to ? "To" : "From",
			    vals[k], to ? FROM_1 : TO_1);
			m1 = request_with(REQ_LINE, hdrs);
			m2 = request_with(REQ_LINE, hdrs);
			a = to ? msg_to(m1) : msg_from(m1);
			n = msg_naddrs(m2, id, &b);
			if ((a != NULL) != (n == 1)) {
				fail_msg("\"%s\": direct %s, list %d", vals[k],
				         a != NULL ? "good" : "bad", n);
			}
			if (a != NULL) {
				assert_memory_equal(a, b, sizeof(*a));
			}
			/* asked again, and through the list, the same */
			assert_ptr_equal(to ? msg_to(m1) : msg_from(m1), a);
			assert_int_equal(msg_naddrs(m1, id, &b), n);
			if (a != NULL) {
				assert_ptr_equal(b, a);
			}
			msg_free(m1);
			msg_free(m2);
		}
	}
}

/*
 * A Contact or Route line without a comma is parsed as its one element
 * without the list's count: the same elements, good or bad, as when a
 * second line makes it a longer list.
 */
static void
test_naddr_list_one_same(void **state)
{
	static const char *const vals[] = {
		"<sip:a@example.com>;expires=5",
		"\"A \\\" B\" <sip:a@example.com:5060;lr>;q=0.5",
		"\"A\" <sip:a@example.com>;x=\"y\"",
		"sip:a@example.com;transport=udp",
		"*",
		"\"open <sip:a@example.com>",
		"<sip:a@example.com>;x=\"open",
		"<sip:a@example.com>\"",
		"Bob\"x <sip:a@example.com>",
		"<sip:a@exa\"mple.com>",
		"<sip:a@example.com",
		"<sip:a@example.com>;q=2",
		"\"Smith, Bob\" <sip:a@example.com>",
		"<sip:a@example.com>, <sip:b@example.com>;lr",
		"<sip:a@example.com>,",
	};
	static const char *const names[] = { "Contact", "Route" };
	char hdrs[512];

	(void)state;
	for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		for (size_t j = 0; j < 2; j++) {
			enum hdr_id id = j ? HDR_ROUTE : HDR_CONTACT;
			const struct msg_naddr *a, *b;
			struct msg *m1, *m2;
			int n1, n2;

			snprintf(hdrs, sizeof(hdrs), "%s%s: %s\r\n",
			    VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0,
			    names[j], vals[k]);
			m1 = request_with(REQ_LINE, hdrs);
			snprintf(hdrs, sizeof(hdrs), "%s%s: %s\r\n%s: <sip:x@y>\r\n",
			    VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0,
			    names[j], vals[k], names[j]);
			m2 = request_with(REQ_LINE, hdrs);
			n1 = msg_naddrs(m1, id, &a);
			n2 = msg_naddrs(m2, id, &b);
			if (n1 >= 0 ? n2 != n1 + 1 : n2 != n1) {
				fail_msg("%s: \"%s\": one line %d, two %d",
				         names[j], vals[k], n1, n2);
			}
			for (int i = 0; i < n1; i++) {
				assert_memory_equal(&a[i], &b[i], sizeof(a[i]));
			}
			assert_int_equal(msg_naddrs(m1, id, &b), n1);
			msg_free(m1);
			msg_free(m2);
		}
	}
}

static void
test_from_to_cached(void **state)
{
	struct msg *m;
	const struct msg_naddr *f, *t, *na;
	int idx;

	(void)state;
	m = request_with(REQ_LINE, VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	f = msg_from(m);
	t = msg_to(m);
	assert_non_null(f);
	assert_non_null(t);
	assert_ptr_equal(msg_from(m), f);
	assert_ptr_equal(msg_to(m), t);
	assert_int_equal(msg_naddrs(m, HDR_FROM, &na), 1);
	assert_ptr_equal(na, f);
	assert_int_equal(msg_naddrs(m, HDR_TO, &na), 1);
	assert_ptr_equal(na, t);
	assert_span_equal(m, f->tag, "1928301774");
	assert_span_equal(m, f->uri.host, "atlanta.example.com");
	idx = msg_hdr_first(m, HDR_FROM);
	assert_int_equal(msg_hdr_replace(m, idx,
	                                 SV_LIT("<sip:carol@chicago.example.com>"
	                                        ";tag=55")),
	                 0);
	f = msg_from(m);
	assert_non_null(f);
	assert_span_equal(m, f->tag, "55");
	assert_span_equal(m, f->uri.host, "chicago.example.com");
	assert_ptr_equal(msg_from(m), f);
	idx = msg_hdr_first(m, HDR_TO);
	assert_int_equal(msg_hdr_replace(m, idx, SV_LIT("<sip:bob@b")), 0);
	assert_null(msg_to(m));
	assert_null(msg_to(m));
	assert_int_equal(msg_naddrs(m, HDR_TO, &na), -EINVAL);
	msg_free(m);

	m = request_with(REQ_LINE, VIA_1 MAXF TO_1
	                 "From: <sip:a@example.com>;tag=1\r\n"
	                 "From: <sip:b@example.com>;tag=2\r\n" CALLID_1
	                     CSEQ_1 CL_0);
	f = msg_from(m);
	assert_non_null(f);
	assert_span_equal(m, f->tag, "1");
	assert_ptr_equal(msg_from(m), f);
	assert_int_equal(msg_naddrs(m, HDR_FROM, &na), 2);
	assert_ptr_equal(na, f);
	assert_span_equal(m, na[1].tag, "2");
	msg_free(m);

	m = request_with(REQ_LINE, VIA_1 MAXF TO_1
	                 "From: <sip:a@example.com>;tag=1\r\n"
	                 "From: <sip:b@example.com;tag=2\r\n" CALLID_1
	                     CSEQ_1 CL_0);
	assert_null(msg_from(m));
	assert_null(msg_from(m));
	msg_free(m);
}

/* ------------------------------------------------------ Call-ID, CSeq */

static void
test_callid(void **state)
{
	struct msg *m;

	(void)state;
	m = request_with(
	    REQ_LINE, VIA_1 MAXF TO_1 FROM_1
	    "i:   f81d4fae-7dec-11d0-a765-00a0c91e6bf6@[2001:db8::1]  "
	    "\r\n" CSEQ_1 CL_0);
	assert_sv_equal(msg_callid(m),
	                "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@[2001:db8::1]");
	assert_check_ok(m);
	msg_free(m);

	m = request_with(REQ_LINE, VIA_1 MAXF TO_1 FROM_1 CSEQ_1 CL_0);
	assert_int_equal(msg_callid(m).len, 0);
	assert_check_fails(m, 400, "Missing Call-ID");
	msg_free(m);
}

static struct msg *
invite_cseq(const char *cseq_line)
{
	char hdrs[1024];

	snprintf(hdrs, sizeof(hdrs), "%s%s%s%s%s%s%s", VIA_1, MAXF, TO_1,
	         FROM_1, CALLID_1, cseq_line, CL_0);
	return request_with(REQ_LINE, hdrs);
}

/*
 * The CSeq number read as its digits are scanned: one to ten digits
 * (leading zeros count), at most 2^32 - 1, else no CSeq; and its method
 * id, taken from the request line when the bytes are the request's
 * method, else looked up (case-sensitive), as a response's is.
 */
static void
test_cseq_digits_methods(void **state)
{
	static const struct {
		const char *num;
		bool ok;
		uint32_t v;
	} nums[] = {
	    {"", false, 0},
	    {"0", true, 0},
	    {"7", true, 7},
	    {"0000000001", true, 1},
	    {"00000000001", false, 0},
	    {"4294967295", true, 4294967295u},
	    {"4294967296", false, 0},
	    {"9999999999", false, 0},
	    {"12345678901", false, 0},
	    {"123456789012", false, 0},
	    {"1a", false, 0},
	};
	char line[128], buf[1024];
	const struct msg_cseq *c;
	struct msg *m;

	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
		snprintf(line, sizeof(line), "CSeq: %s INVITE\r\n", nums[i].num);
		m = invite_cseq(line);
		c = msg_cseq(m);
		if ((c != NULL) != nums[i].ok) {
			fail_msg("CSeq '%s': %s", nums[i].num,
			         c != NULL ? "accepted" : "refused");
		}
		if (c != NULL) {
			assert_int_equal(c->num, nums[i].v);
			assert_int_equal(c->method, MSG_INVITE);
		}
		msg_free(m);
	}

	m = invite_cseq("CSeq: 1 invite\r\n");
	assert_int_equal(msg_cseq(m)->method, MSG_METHOD_OTHER);
	assert_check_fails(m, 400, "CSeq Method Mismatch");
	msg_free(m);
	m = invite_cseq("CSeq: 1 BYE\r\n");
	assert_int_equal(msg_cseq(m)->method, MSG_BYE);
	msg_free(m);
	m = request_with("FOO sip:bob@biloxi.example.com SIP/2.0\r\n",
	                 VIA_1 MAXF TO_1 FROM_1 CALLID_1 "CSeq: 2 FOO\r\n" CL_0);
	assert_int_equal(msg_cseq(m)->method, MSG_METHOD_OTHER);
	assert_span_equal(m, msg_cseq(m)->method_s, "FOO");
	assert_check_ok(m);
	msg_free(m);
	m = request_with("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n",
	                 VIA_1 MAXF TO_1 FROM_1 CALLID_1
	                 "CSeq: 2 OPTIONS\r\n" CL_0);
	assert_int_equal(msg_cseq(m)->method, MSG_OPTIONS);
	msg_free(m);
	snprintf(buf, sizeof(buf), "SIP/2.0 200 OK\r\n" VIA_1 TO_1 FROM_1
	         CALLID_1 "CSeq: 3 CANCEL\r\n" CL_0 "\r\n");
	m = parse_ok(buf);
	assert_int_equal(msg_cseq(m)->method, MSG_CANCEL);
	msg_free(m);
}

static void
test_cseq(void **state)
{
	struct msg *m;
	const struct msg_cseq *c;

	(void)state;
	m = invite_cseq("CSeq: 4294967295 INVITE\r\n");
	c = msg_cseq(m);
	assert_non_null(c);
	assert_int_equal(c->num, 4294967295u);
	assert_int_equal(c->method, MSG_INVITE);
	assert_span_equal(m, c->method_s, "INVITE");
	assert_check_ok(m);
	msg_free(m);

	m = invite_cseq("CSeq:   0009   \t INVITE  \r\n");
	c = msg_cseq(m);
	assert_non_null(c);
	assert_int_equal(c->num, 9);
	assert_span_equal(m, c->method_s, "INVITE");
	assert_check_ok(m);
	msg_free(m);

	m = invite_cseq("CSeq: 0 INVITE\r\n");
	c = msg_cseq(m);
	assert_non_null(c);
	assert_int_equal(c->num, 0);
	msg_free(m);
}

static void
test_cseq_bad(void **state)
{
	static const char *bad[] = {
	    "CSeq: 4294967296 INVITE\r\n",
	    "CSeq: 36893488147419103232 INVITE\r\n",
	    "CSeq: -1 INVITE\r\n",
	    "CSeq: abc INVITE\r\n",
	    "CSeq: 1\r\n",
	    "CSeq: INVITE\r\n",
	    "CSeq: 1 INVITE extra\r\n",
	};
	size_t i;
	struct msg *m;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = invite_cseq(bad[i]);
		if (msg_cseq(m) != NULL) {
			fail_msg("CSeq accepted: %s", bad[i]);
		}
		assert_check_fails(m, 400, "Bad CSeq");
		msg_free(m);
	}

	m = invite_cseq("");
	assert_null(msg_cseq(m));
	assert_check_fails(m, 400, "Missing CSeq");
	msg_free(m);

	/* RFC 3261 8.1.1.5: the CSeq method MUST match the request's */
	m = invite_cseq("CSeq: 1 BYE\r\n");
	assert_non_null(msg_cseq(m));
	assert_int_equal(msg_cseq(m)->method, MSG_BYE);
	assert_check_fails(m, 400, "CSeq Method Mismatch");
	msg_free(m);

	m = invite_cseq("CSeq: 1 invite\r\n");
	assert_non_null(msg_cseq(m));
	assert_int_equal(msg_cseq(m)->method, MSG_METHOD_OTHER);
	assert_check_fails(m, 400, "CSeq Method Mismatch");
	msg_free(m);
}

static void
test_cseq_response_any_method(void **state)
{
	struct msg *m;

	(void)state;
	m = parse_ok(
	    "SIP/2.0 200 OK\r\n" VIA_1
	    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n" FROM_1
	        CALLID_1 "CSeq: 2 REGISTER\r\n" CL_0 "\r\n");
	assert_non_null(msg_cseq(m));
	assert_int_equal(msg_cseq(m)->method, MSG_REGISTER);
	assert_int_equal(msg_cseq(m)->num, 2);
	assert_check_ok(m);
	msg_free(m);
}

/* ------------------------------------------------------- numeric headers */

static void
test_max_forwards(void **state)
{
	static const struct {
		const char *line;
		int rc;
		uint32_t val;
	} cases[] = {
	    {"Max-Forwards: 0\r\n", 0, 0},
	    {"Max-Forwards: 70\r\n", 0, 70},
	    {"Max-Forwards: 0068\r\n", 0, 68},
	    {"Max-Forwards: 255\r\n", 0, 255},
	    /* RFC 3261 20.22: an integer in the range 0-255 */
	    {"Max-Forwards: 256\r\n", -EINVAL, 0},
	    {"Max-Forwards: 300\r\n", -EINVAL, 0},
	    {"Max-Forwards: -1\r\n", -EINVAL, 0},
	    {"Max-Forwards: ten\r\n", -EINVAL, 0},
	    {"Max-Forwards: 7 0\r\n", -EINVAL, 0},
	    {"Max-Forwards:\r\n", -EINVAL, 0},
	    {"Max-Forwards: 99999999999999999999\r\n", -EINVAL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hdrs[1024];
		struct msg *m;
		uint32_t v = 12345;
		int rc;

		snprintf(hdrs, sizeof(hdrs), "%s%s%s%s%s%s%s", VIA_1,
		         cases[i].line, TO_1, FROM_1, CALLID_1, CSEQ_1, CL_0);
		m = request_with(REQ_LINE, hdrs);
		rc = msg_max_forwards(m, &v);
		if (rc != cases[i].rc) {
			msg_free(m);
			fail_msg("%s: rc %d, want %d", cases[i].line, rc,
			         cases[i].rc);
		}
		if (rc == 0) {
			assert_int_equal(v, cases[i].val);
			assert_check_ok(m);
		} else {
			assert_check_fails(m, 400, "Bad Max-Forwards");
		}
		msg_free(m);
	}

	{
		struct msg *m;
		uint32_t v;

		m = request_with(REQ_LINE,
		                 VIA_1 TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
		assert_int_equal(msg_max_forwards(m, &v), -ENOENT);
		/* Max-Forwards is checked only when present */
		assert_check_ok(m);
		msg_free(m);
	}
}

static void
test_content_length(void **state)
{
	struct msg *m;
	uint32_t v = 0;

	(void)state;
	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "l:   3  \r\n\r\nxyz");
	assert_int_equal(msg_content_length(m, &v), 0);
	assert_int_equal(v, 3);
	assert_check_ok(m);
	msg_free(m);

	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "Content-Length: abc\r\n\r\n");
	assert_int_equal(msg_content_length(m, &v), -EINVAL);
	assert_check_fails(m, 400, "Bad Content-Length");
	msg_free(m);

	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "Content-Length: -1\r\n\r\n");
	assert_int_equal(msg_content_length(m, &v), -EINVAL);
	assert_check_fails(m, 400, "Bad Content-Length");
	msg_free(m);

	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "Content-Length: 99999999999999999999\r\n\r\n");
	assert_int_equal(msg_content_length(m, &v), -EINVAL);
	assert_check_fails(m, 400, "Bad Content-Length");
	msg_free(m);
}

static void
test_content_type(void **state)
{
	struct msg *m;
	const struct msg_ctype *ct;

	(void)state;
	m = invite_with("c: application/sdp;charset=utf-8\r\n");
	ct = msg_content_type(m);
	assert_non_null(ct);
	assert_span_equal(m, ct->type, "application");
	assert_span_equal(m, ct->subtype, "sdp");
	assert_span_equal(m, ct->params, "charset=utf-8");
	msg_free(m);

	m = invite_with("Content-Type: multipart/mixed ; "
	                "boundary=\"unique-boundary-1\"\r\n");
	ct = msg_content_type(m);
	assert_non_null(ct);
	assert_span_equal(m, ct->type, "multipart");
	assert_span_equal(m, ct->subtype, "mixed");
	/* SEMI = SWS ";" SWS: the white space is the separator's */
	{
		struct sv p = msg_sv(m, ct->params);

		while (p.len > 0 && (*p.p == ' ' || *p.p == '\t')) {
			p.p++;
			p.len--;
		}
		assert_sv_equal(p, "boundary=\"unique-boundary-1\"");
	}
	msg_free(m);

	m = invite_with("Content-Type: text/plain\r\n");
	ct = msg_content_type(m);
	assert_non_null(ct);
	assert_span_equal(m, ct->type, "text");
	assert_span_equal(m, ct->subtype, "plain");
	assert_int_equal(ct->params.len, 0);
	msg_free(m);

	m = invite_with("");
	assert_null(msg_content_type(m));
	msg_free(m);

	m = invite_with("Content-Type: application\r\n");
	assert_null(msg_content_type(m));
	msg_free(m);
}

static void
test_expires(void **state)
{
	static const struct {
		const char *line;
		int rc;
		uint32_t val;
	} cases[] = {
	    {"Expires: 0\r\n", 0, 0},
	    {"Expires: 3600\r\n", 0, 3600},
	    /* RFC 3261 20.19: 0 to (2**32)-1 */
	    {"Expires: 4294967295\r\n", 0, 4294967295u},
	    {"Expires: soon\r\n", -EINVAL, 0},
	    {"Expires: -5\r\n", -EINVAL, 0},
	    {"Expires: 12 34\r\n", -EINVAL, 0},
	    /* out of range last: msg.h says -EINVAL, RFC 3261 20.19 says
	     * "between 0 and (2**32)-1" */
	    {"Expires: 4294967296\r\n", -EINVAL, 0},
	    {"Expires: 10000000000000\r\n", -EINVAL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg *m;
		uint32_t v = 7;
		int rc;

		m = invite_with(cases[i].line);
		rc = msg_expires(m, &v);
		if (rc != cases[i].rc) {
			msg_free(m);
			fail_msg("%s: rc %d (value %u), want %d", cases[i].line,
			         rc, v, cases[i].rc);
		}
		if (rc == 0) {
			assert_int_equal(v, cases[i].val);
			assert_check_ok(m);
		} else {
			assert_check_fails(m, 400, "Bad Expires");
		}
		msg_free(m);
	}
	{
		struct msg *m = invite_with("");
		uint32_t v;

		assert_int_equal(msg_expires(m, &v), -ENOENT);
		msg_free(m);
	}
}

/* -------------------------------------------------- Contact and routes */

static void
test_contact_list(void **state)
{
	struct msg *m;
	const struct msg_naddr *c;
	int n;

	(void)state;
	m = request_with(
	    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n", VIA_1 MAXF
	    "To: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n" CALLID_1
	    "CSeq: 1826 REGISTER\r\n"
	    "Contact: <sip:bob@192.0.2.4>;expires=3600;q=0.5, "
	    "\"Bob, mobile\" <sip:bob@[2001:db8::2]:5080;transport=tcp>\r\n"
	    "m: sip:bob@phone.example.com;q=1;expires=60\r\n"
	    "Contact: <sip:bob@h.example.com>;q=0.001\r\n" CL_0);
	n = msg_naddrs(m, HDR_CONTACT, &c);
	assert_int_equal(n, 4);
	assert_span_equal(m, c[0].uri_s, "sip:bob@192.0.2.4");
	assert_int_equal(c[0].uri.host_type, URI_HOST_IPV4);
	assert_int_equal(c[0].expires, 3600);
	assert_int_equal(c[0].q, 500);
	assert_false(c[0].star);
	assert_span_equal(m, c[0].params, "expires=3600;q=0.5");
	assert_span_equal(m, c[1].display, "\"Bob, mobile\"");
	assert_span_equal(m, c[1].uri_s,
	                  "sip:bob@[2001:db8::2]:5080;transport=tcp");
	assert_int_equal(c[1].uri.host_type, URI_HOST_IPV6);
	assert_span_equal(m, c[1].uri.host, "[2001:db8::2]");
	assert_int_equal(c[1].uri.port, 5080);
	assert_int_equal(c[1].expires, -1);
	assert_int_equal(c[1].q, -1);
	assert_int_equal(c[1].hdr, c[0].hdr);
	/* addr-spec: q and expires are header parameters */
	assert_span_equal(m, c[2].uri_s, "sip:bob@phone.example.com");
	assert_int_equal(c[2].q, 1000);
	assert_int_equal(c[2].expires, 60);
	assert_int_not_equal(c[2].hdr, c[0].hdr);
	assert_int_equal(c[3].q, 1);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_contact_star(void **state)
{
	struct msg *m;
	const struct msg_naddr *c;

	(void)state;
	m = request_with(
	    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n",
	    VIA_1 MAXF "To: <sip:bob@biloxi.example.com>\r\n"
	               "From: <sip:bob@biloxi.example.com>;tag=1\r\n" CALLID_1
	               "CSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\n" CL_0);
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), 1);
	assert_true(c[0].star);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_contact_bad(void **state)
{
	struct msg *m;
	const struct msg_naddr *c;

	(void)state;
	m = invite_with("Contact: <sip:alice@pc33.atlanta.example.com\r\n");
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), -EINVAL);
	assert_check_fails(m, 400, "Bad Contact");
	msg_free(m);

	m = invite_with("");
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), 0);
	msg_free(m);

	/* RFC 3261 25.1: qvalue = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3("0")])
	 */
	m = invite_with(
	    "Contact: <sip:alice@pc33.atlanta.example.com>;q=2\r\n");
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), -EINVAL);
	assert_check_fails(m, 400, "Bad Contact");
	msg_free(m);

	m = invite_with("Contact: <sip:alice@pc33.atlanta.example.com>"
	                ";q=0.1234\r\n");
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), -EINVAL);
	msg_free(m);

	/* RFC 3261 10.2.2: "*" only alone */
	m = invite_with("Contact: *, <sip:alice@pc33.atlanta.example.com>\r\n");
	assert_check_fails(m, 400, "Bad Contact");
	msg_free(m);
}

static void
test_check_duplicates(void **state)
{
	struct msg *m;

	(void)state;
	/* RFC 3261 7.3.1: only list headers may appear more than once */
	m = invite_with("Call-ID: another@example.com\r\n");
	assert_check_fails(m, 400, "Bad Call-ID");
	msg_free(m);

	m = invite_with("f: <sip:eve@example.com>;tag=2\r\n");
	assert_check_fails(m, 400, "Bad From");
	msg_free(m);

	m = invite_with("To: <sip:carol@example.com>\r\n");
	assert_check_fails(m, 400, "Bad To");
	msg_free(m);

	m = invite_with("CSeq: 2 INVITE\r\n");
	assert_check_fails(m, 400, "Bad CSeq");
	msg_free(m);

	/* two Content-Lengths that disagree */
	m = invite_with("l: 5\r\n");
	assert_check_fails(m, 400, "Bad Content-Length");
	msg_free(m);

	/* RFC 3261 25.1: callid = word [ "@" word ], no white space */
	m = request_with(REQ_LINE, VIA_1 MAXF TO_1 FROM_1
	                 "Call-ID: two words@example.com\r\n" CSEQ_1 CL_0);
	assert_check_fails(m, 400, "Bad Call-ID");
	msg_free(m);
}

static void
test_route_lists(void **state)
{
	struct msg *m;
	const struct msg_naddr *r;
	struct sv val;
	int n;

	(void)state;
	m = invite_with(
	    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"
	    "\r\nRoute: <sip:[2001:db8::7]:5070;lr;x=1>\r\n"
	    "Record-Route: <sip:rr1.example.com;lr>\r\n"
	    "Record-Route: <sip:rr2.example.com;lr>,"
	    "<sip:rr3.example.com;lr>\r\n");
	n = msg_naddrs(m, HDR_ROUTE, &r);
	assert_int_equal(n, 3);
	assert_span_equal(m, r[0].uri_s, "sip:p1.example.com;lr");
	assert_span_equal(m, r[0].uri.host, "p1.example.com");
	assert_true(uri_param(msg_buf(m), &r[0].uri, "lr", &val));
	assert_int_equal(val.len, 0);
	assert_span_equal(m, r[1].uri_s, "sip:p2.example.com;lr");
	assert_span_equal(m, r[2].uri.host, "[2001:db8::7]");
	assert_int_equal(r[2].uri.port, 5070);
	assert_true(uri_param(msg_buf(m), &r[2].uri, "x", &val));
	assert_sv_equal(val, "1");
	n = msg_naddrs(m, HDR_RECORD_ROUTE, &r);
	assert_int_equal(n, 3);
	assert_span_equal(m, r[0].uri_s, "sip:rr1.example.com;lr");
	assert_span_equal(m, r[1].uri_s, "sip:rr2.example.com;lr");
	assert_span_equal(m, r[2].uri_s, "sip:rr3.example.com;lr");
	assert_int_equal(r[1].hdr, r[2].hdr);
	assert_int_not_equal(r[0].hdr, r[1].hdr);
	msg_free(m);
}

/* -------------------------------------------------------------- auth */

static void
test_auth_authorization(void **state)
{
	struct msg *m;
	const struct msg_auth *a;
	int n;

	(void)state;
	m = invite_with(
	    "Authorization: Digest username=\"bob\", realm=\"biloxi.com\", "
	    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, "
	    "cnonce=\"0a4f113b\", "
	    "response=\"6629fae49393a05397450978507c4ef1\", "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5\r\n");
	n = msg_auths(m, HDR_AUTHORIZATION, &a);
	assert_int_equal(n, 1);
	assert_span_equal(m, a[0].scheme, "Digest");
	assert_span_equal(m, a[0].username, "bob");
	assert_span_equal(m, a[0].realm, "biloxi.com");
	assert_span_equal(m, a[0].nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_span_equal(m, a[0].uri, "sip:bob@biloxi.com");
	assert_span_equal(m, a[0].qop, "auth");
	assert_span_equal(m, a[0].nc, "00000001");
	assert_span_equal(m, a[0].cnonce, "0a4f113b");
	assert_span_equal(m, a[0].response, "6629fae49393a05397450978507c4ef1");
	assert_span_equal(m, a[0].opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_span_equal(m, a[0].algorithm, "MD5");
	assert_int_equal(a[0].stale.len, 0);
	assert_int_equal(a[0].hdr, msg_hdr_first(m, HDR_AUTHORIZATION));
	assert_true(a[0].params.len > 0);
	assert_non_null(memmem(msg_sv(m, a[0].params).p, a[0].params.len,
	                       "username=\"bob\"", 14));
	msg_free(m);
}

static void
test_auth_escapes(void **state)
{
	struct msg *m;
	const struct msg_auth *a;

	(void)state;
	/* RFC 3261 25.1 quoted-pair; white space around EQUAL and COMMA */
	m = invite_with(
	    "Proxy-Authorization: digest  username = \"al\\\"ice\\\\\" ,"
	    "realm=\"a, b; c\",nonce=\"n\",\r\n uri=\"sip:x@y\",response="
	    "\"00\",algorithm=\"MD5\"\r\n");
	assert_int_equal(msg_auths(m, HDR_PROXY_AUTHORIZATION, &a), 1);
	assert_span_equal(m, a[0].scheme, "digest");
	assert_span_equal(m, a[0].username, "al\\\"ice\\\\");
	assert_span_equal(m, a[0].realm, "a, b; c");
	assert_span_equal(m, a[0].nonce, "n");
	assert_span_equal(m, a[0].uri, "sip:x@y");
	assert_span_equal(m, a[0].response, "00");
	assert_span_equal(m, a[0].algorithm, "MD5");
	assert_int_equal(msg_auths(m, HDR_AUTHORIZATION, &a), 0);
	msg_free(m);

	m = invite_with("Authorization: Digest username=\"bob, realm=x\r\n");
	assert_int_equal(msg_auths(m, HDR_AUTHORIZATION, &a), -EINVAL);
	msg_free(m);
}

static void
test_auth_challenges(void **state)
{
	struct msg *m;
	const struct msg_auth *a;

	(void)state;
	m = parse_ok(
	    "SIP/2.0 401 Unauthorized\r\n" VIA_1
	    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n" FROM_1
	        CALLID_1 CSEQ_1
	    "WWW-Authenticate: Digest realm=\"atlanta.example.com\", "
	    "domain=\"sip:boxesbybob.example.com\", qop=\"auth,auth-int\", "
	    "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", "
	    "stale=FALSE, algorithm=SHA-256, userhash=true\r\n"
	    "WWW-Authenticate: Digest realm=\"atlanta.example.com\", "
	    "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", algorithm=MD5\r\n"
	    "Proxy-Authenticate: Digest realm=\"proxy.example.com\", "
	    "nonce=\"abc\", stale=true\r\n" CL_0 "\r\n");
	assert_int_equal(msg_auths(m, HDR_WWW_AUTHENTICATE, &a), 2);
	assert_span_equal(m, a[0].scheme, "Digest");
	assert_span_equal(m, a[0].realm, "atlanta.example.com");
	assert_span_equal(m, a[0].domain, "sip:boxesbybob.example.com");
	assert_span_equal(m, a[0].qop, "auth,auth-int");
	assert_span_equal(m, a[0].nonce, "f84f1cec41e6cbe5aea9c8e88d359");
	assert_int_equal(a[0].opaque.len, 0);
	assert_span_equal(m, a[0].stale, "FALSE");
	assert_span_equal(m, a[0].algorithm, "SHA-256");
	assert_span_equal(m, a[0].userhash, "true");
	assert_span_equal(m, a[1].algorithm, "MD5");
	assert_int_equal(a[1].stale.len, 0);
	assert_int_not_equal(a[0].hdr, a[1].hdr);
	assert_int_equal(msg_auths(m, HDR_PROXY_AUTHENTICATE, &a), 1);
	assert_span_equal(m, a[0].realm, "proxy.example.com");
	assert_span_equal(m, a[0].stale, "true");
	assert_check_ok(m);
	msg_free(m);
}

/*
 * msg_skip_quoted16() against skip_quoted(), byte by byte: every string of
 * up to 70 bytes drawn from plain bytes, quotes, backslashes, CR, LF and
 * NUL at every offset, so each sixteen-byte step meets every stop byte.
 */
static void
test_skip_quoted16(void **state)
{
	static const char alpha[] = "aZ0 \"\\\r\n\0;,";
	char buf[96];
	uint32_t x = 0x9e3779b9;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + (size_t)(round % 70);
		buf[0] = '"';
		for (size_t i = 1; i < n; i++) {
			x = x * 1103515245 + 12345;
			/* mostly plain bytes, so long plain runs occur */
			unsigned r = (x >> 16) % 64;
			buf[i] = r < 52 ? (char)('a' + r % 26)
				: alpha[r % (sizeof(alpha) - 1)];
		}
		for (size_t at = 0; at < n; at++) {
			if (buf[at] != '"') {
				continue;
			}
			assert_ptr_equal(msg_skip_quoted16(buf + at, buf + n),
			    skip_quoted(buf + at, buf + n));
		}
	}
}

/*
 * The Digest parameter names msg_auths() keeps, matched without regard
 * to case, against strncasecmp(): every name in two cases, each with one
 * byte changed to a byte 0x20 away or a neighbour, which must match no
 * field, and a value for each that lands in its own field only.
 */
static void
test_auth_names(void **state)
{
	static const char *const names[] = { "username", "realm", "nonce",
		"uri", "response", "algorithm", "cnonce", "opaque", "qop", "nc",
		"stale", "domain", "userhash" };
	static const char bump[] = { 0x20, 0x01, 0x1f, 0x21 };
	const size_t nn = sizeof(names) / sizeof(*names);

	(void)state;
	for (size_t k = 0; k < nn; k++) {
		size_t len = strlen(names[k]);
		for (size_t pos = 0; pos <= len; pos++) {
			for (size_t b = 0; b < (pos == len ? 2 : 5); b++) {
				char name[16], hdr[128];
				const struct msg_auth *a;
				struct msg *m;

				memcpy(name, names[k], len + 1);
				if (pos == len) {
					/* the whole name in capitals, or
					 * mixed */
					for (size_t i = 0; i < len; i++) {
						if (b == 0 || i % 2) {
							name[i] ^= 0x20;
						}
					}
				} else if (b == 4) {
					name[pos] ^= 0x20;
				} else {
					name[pos] ^= bump[b];
					/* a byte outside a token cannot
					 * make a parameter name */
					if (!ch_is((unsigned char)name[pos],
					    CH_TOKEN)) {
						continue;
					}
				}
				snprintf(hdr, sizeof(hdr),
				    "Authorization: Digest %s=\"v\"\r\n", name);
				m = invite_with(hdr);
				assert_int_equal(msg_auths(m, HDR_AUTHORIZATION,
				    &a), 1);
				const struct span *f[] = { &a->username,
					&a->realm, &a->nonce, &a->uri,
					&a->response, &a->algorithm,
					&a->cnonce, &a->opaque, &a->qop,
					&a->nc, &a->stale, &a->domain,
					&a->userhash };
				for (size_t j = 0; j < nn; j++) {
					bool want = strlen(name) ==
					    strlen(names[j]) &&
					    strncasecmp(name, names[j],
						strlen(name)) == 0;
					assert_int_equal(f[j]->len,
					    want ? 1 : 0);
				}
				msg_free(m);
			}
		}
	}
}


static void
test_user_agent_server(void **state)
{
	struct msg *m;

	(void)state;
	m = invite_with("User-Agent: Softphone/Beta1.5 (comment; with "
	                "(nested) parens) libfoo/2\r\n"
	                "Server:   sipd/0.1   \r\n");
	assert_sv_equal(
	    msg_hdr_value(m, HDR_USER_AGENT),
	    "Softphone/Beta1.5 (comment; with (nested) parens) libfoo/2");
	assert_sv_equal(msg_hdr_value(m, HDR_SERVER), "sipd/0.1");
	msg_free(m);
}

/* ------------------------------------------------------- msg_check misc */

static void
test_check_ruri(void **state)
{
	struct msg *m;

	(void)state;
	/* RFC 3261 8.2.2.1: an unknown Request-URI scheme gets 416 */
	m = parse_ok("INVITE isbn:2983792873 SIP/2.0\r\n" VIA_1 MAXF TO_1 FROM_1
	                 CALLID_1 CSEQ_1 CL_0 "\r\n");
	assert_non_null(msg_ruri(m));
	assert_int_equal(msg_ruri(m)->scheme, URI_OTHER);
	assert_check_fails(m, 416, "Unsupported URI Scheme");
	msg_free(m);

	m = parse_ok(
	    "INVITE sips:bob@[2001:db8::10]:5061 SIP/2.0\r\n" VIA_1 MAXF TO_1
	        FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n");
	assert_non_null(msg_ruri(m));
	assert_int_equal(msg_ruri(m)->scheme, URI_SIPS);
	assert_int_equal(msg_ruri(m)->host_type, URI_HOST_IPV6);
	assert_check_ok(m);
	msg_free(m);

	m = parse_ok("INVITE sip:bob@[2001:db8::10 SIP/2.0\r\n" VIA_1 MAXF TO_1
	                 FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n");
	assert_null(msg_ruri(m));
	assert_check_fails(m, 400, "Bad Request-URI");
	msg_free(m);
}

static void
test_check_max_forwards_zero(void **state)
{
	struct msg *m;
	uint32_t v = 9;

	(void)state;
	/* Max-Forwards 0 is a valid message; 483 is the proxy's decision */
	m = parse_ok("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_1
	             "Max-Forwards: 0\r\n" TO_1 FROM_1 CALLID_1
	             "CSeq: 1 OPTIONS\r\n" CL_0 "\r\n");
	assert_int_equal(msg_max_forwards(m, &v), 0);
	assert_int_equal(v, 0);
	assert_check_ok(m);
	msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_param_names_every_spelling),
	    cmocka_unit_test(test_via_full),
	    cmocka_unit_test(test_via_minimal),
	    cmocka_unit_test(test_via_whitespace),
	    cmocka_unit_test(test_via_list),
	    cmocka_unit_test(test_vias_one_line),
	    cmocka_unit_test(test_via_bad),
	    cmocka_unit_test(test_via_hosts),
	    cmocka_unit_test(test_via_missing),
	    cmocka_unit_test(test_from_to_name_addr),
	    cmocka_unit_test(test_from_to_addr_spec),
	    cmocka_unit_test(test_from_to_tricky),
	    cmocka_unit_test(test_from_to_bad),
	    cmocka_unit_test(test_from_to_cached),
	    cmocka_unit_test(test_from_to_direct_same),
	    cmocka_unit_test(test_naddr_list_one_same),
	    cmocka_unit_test(test_callid),
	    cmocka_unit_test(test_cseq),
	    cmocka_unit_test(test_cseq_digits_methods),
	    cmocka_unit_test(test_cseq_bad),
	    cmocka_unit_test(test_cseq_response_any_method),
	    cmocka_unit_test(test_max_forwards),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_expires),
	    cmocka_unit_test(test_contact_list),
	    cmocka_unit_test(test_contact_star),
	    cmocka_unit_test(test_contact_bad),
	    cmocka_unit_test(test_check_duplicates),
	    cmocka_unit_test(test_route_lists),
	    cmocka_unit_test(test_auth_authorization),
	    cmocka_unit_test(test_auth_escapes),
	    cmocka_unit_test(test_auth_challenges),
	    cmocka_unit_test(test_auth_names),
	    cmocka_unit_test(test_skip_quoted16),
	    cmocka_unit_test(test_user_agent_server),
	    cmocka_unit_test(test_check_ruri),
	    cmocka_unit_test(test_check_max_forwards_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
