/*
 * Unit tests for sipd/msg building, editing and serialization: responses
 * built per RFC 3261 8.2.6, header edits, Via push/pop and received/rport
 * (RFC 3261 18.2.1, RFC 3581), Request-URI and body replacement, and the
 * byte-for-byte serialization of what was not touched.
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

#include "sipd/msg/msg.h"
#include "sipd/msg/msg_int.h"
#include "tests/unit/sv_assert.h"

#define START "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
#define VIA_A                                                                  \
	"Via: SIP/2.0/UDP server10.biloxi.example.com"                         \
	";branch=z9hG4bK4b43c2ff8.1\r\n"
#define VIA_B                                                                  \
	"Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com"                   \
	";branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2, "                  \
	"SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
#define REST_HDRS                                                              \
	"Max-Forwards: 68\r\n"                                                 \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                             \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"                 \
	"CSeq: 314159 INVITE\r\n"                                              \
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"                    \
	"Record-Route: <sip:server10.biloxi.example.com;lr>\r\n"               \
	"Content-Type: application/sdp\r\n"                                    \
	"Content-Length: 4\r\n"
#define BODY "\r\nv=0\n"

/* 11 header lines: 0 Via, 1 Via, 2 Max-Forwards, 3 To, 4 From, 5 Call-ID,
 * 6 CSeq, 7 Contact, 8 Record-Route, 9 Content-Type, 10 Content-Length */
static const char req_text[] = START VIA_A VIA_B REST_HDRS BODY;

/* ------------------------------------------------------------- helpers */

static struct msg *
parse_ok(const char *s, size_t len)
{
	struct msg_err err;
	struct msg *m;

	memset(&err, 0, sizeof(err));
	m = msg_parse(s, len, NULL, &err);
	if (m == NULL) {
		fail_msg("msg_parse refused (%d %s at %u): %.*s", err.status,
		         err.reason != NULL ? err.reason : "(null)", err.off,
		         (int)len, s);
	}
	return m;
}

static struct msg *
parse_str(const char *s)
{
	return parse_ok(s, strlen(s));
}

static void
assert_check_ok(struct msg *m)
{
	struct msg_err err;

	memset(&err, 0, sizeof(err));
	if (msg_check(m, &err) != 0) {
		fail_msg("msg_check failed: %d %s", err.status,
		         err.reason != NULL ? err.reason : "(null)");
	}
}

/*
 * Serialize m; check msg_size() agrees with msg_write() and that the output
 * is NUL-terminated for the caller.  Returns a malloc'd copy.
 */
static char *
write_all(const struct msg *m, size_t *lenp)
{
	size_t sz = msg_size(m);
	char *out = malloc(sz + 1);
	int n;

	assert_non_null(out);
	n = msg_write(m, out, sz);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, sz);
	out[sz] = '\0';
	if (lenp != NULL) {
		*lenp = sz;
	}
	return out;
}

static void
written_is(const struct msg *m, const char *want, size_t wlen, const char *file,
           int line)
{
	size_t len;
	char *out = write_all(m, &len);

	if (len != wlen || memcmp(out, want, len) != 0) {
		print_error("got:\n%s\nwant:\n%.*s\n", out, (int)wlen, want);
		free(out);
		_fail(file, line);
		return;
	}
	free(out);
}

#define assert_written(m, want)                                                \
	written_is((m), (want), strlen(want), __FILE__, __LINE__)

/* Serialize m and parse the bytes again. */
static struct msg *
reparse(const struct msg *m)
{
	size_t len;
	char *out = write_all(m, &len);
	struct msg *r = parse_ok(out, len);

	free(out);
	return r;
}

static bool
written_contains(const struct msg *m, const char *needle)
{
	size_t len;
	char *out = write_all(m, &len);
	bool found = memmem(out, len, needle, strlen(needle)) != NULL;

	free(out);
	return found;
}

/* ---------------------------------------------------------- responses */

static void
test_response_vias_in_order(void **state)
{
	struct msg *req, *resp, *again;
	const struct msg_via *rv, *pv;
	int n, i;

	(void)state;
	req = parse_str(req_text);
	resp = msg_response(req, 180, NULL, SV_LIT("a6c85cf"));
	assert_non_null(resp);
	/* RFC 3261 8.2.6.2: the Via values, equal and in the same order */
	n = msg_vias(req, &rv);
	assert_int_equal(n, 3);
	assert_int_equal(msg_vias(resp, &pv), 3);
	for (i = 0; i < n; i++) {
		assert_true(
		    sv_eq(msg_sv(resp, pv[i].value), msg_sv(req, rv[i].value)));
	}
	assert_span_equal(resp, pv[0].branch, "z9hG4bK4b43c2ff8.1");
	assert_span_equal(resp, pv[1].received, "192.0.2.2");
	assert_span_equal(resp, pv[2].host, "pc33.atlanta.example.com");

	again = reparse(resp);
	assert_int_equal(msg_vias(again, &pv), 3);
	assert_span_equal(again, pv[0].branch, "z9hG4bK4b43c2ff8.1");
	assert_span_equal(again, pv[1].branch, "z9hG4bK77ef4c2312983.1");
	assert_span_equal(again, pv[2].branch, "z9hG4bK776asdhds");
	msg_free(again);
	msg_free(resp);
	msg_free(req);
}

static void
test_response_copies(void **state)
{
	struct msg *req, *resp, *again;
	const struct msg_naddr *to;
	uint32_t cl = 99;
	size_t len;
	char *out;

	(void)state;
	req = parse_str(req_text);
	resp = msg_response(req, 180, NULL, SV_LIT("a6c85cf"));
	assert_non_null(resp);
	assert_false(msg_is_request(resp));
	assert_int_equal(msg_status(resp), 180);
	assert_sv_equal(msg_reason(resp), "Ringing");
	assert_sv_equal(msg_hdr_value(resp, HDR_FROM),
	                "Alice <sip:alice@atlanta.example.com>;tag=1928301774");
	assert_sv_equal(msg_callid(resp),
	                "a84b4c76e66710@pc33.atlanta.example.com");
	assert_non_null(msg_cseq(resp));
	assert_int_equal(msg_cseq(resp)->num, 314159);
	assert_int_equal(msg_cseq(resp)->method, MSG_INVITE);
	to = msg_to(resp);
	assert_non_null(to);
	assert_span_equal(resp, to->tag, "a6c85cf");
	assert_span_equal(resp, to->display, "Bob");
	assert_span_equal(resp, to->uri_s, "sip:bob@biloxi.example.com");
	assert_int_equal(msg_content_length(resp, &cl), 0);
	assert_int_equal(cl, 0);
	assert_int_equal(msg_body(resp).len, 0);
	/* what the request said of itself stays out of the response */
	assert_int_equal(msg_hdr_count(resp, HDR_CONTACT), 0);
	assert_int_equal(msg_hdr_count(resp, HDR_CONTENT_TYPE), 0);
	assert_int_equal(msg_hdr_count(resp, HDR_CONTENT_LENGTH), 1);
	assert_check_ok(resp);

	out = write_all(resp, &len);
	assert_true(len > 21);
	assert_memory_equal(out, "SIP/2.0 180 Ringing\r\n", 21);
	assert_memory_equal(out + len - 4, "\r\n\r\n", 4);
	free(out);

	again = reparse(resp);
	assert_int_equal(msg_status(again), 180);
	assert_non_null(msg_to(again));
	assert_span_equal(again, msg_to(again)->tag, "a6c85cf");
	assert_check_ok(again);
	msg_free(again);
	msg_free(resp);
	msg_free(req);
}

static void
test_response_to_tag(void **state)
{
	struct msg *req, *resp;
	const struct msg_naddr *to;

	(void)state;
	req = parse_str(req_text);

	/* 100 Trying: no To tag even when one is offered (8.2.6.2) */
	resp = msg_response(req, 100, NULL, SV_LIT("a6c85cf"));
	assert_non_null(resp);
	assert_sv_equal(msg_reason(resp), "Trying");
	to = msg_to(resp);
	assert_non_null(to);
	assert_int_equal(to->tag.len, 0);
	assert_sv_equal(msg_hdr_value(resp, HDR_TO),
	                "Bob <sip:bob@biloxi.example.com>");
	msg_free(resp);

	/* an empty to_tag adds nothing */
	resp = msg_response(req, 404, NULL, (struct sv){"", 0});
	assert_non_null(resp);
	to = msg_to(resp);
	assert_non_null(to);
	assert_int_equal(to->tag.len, 0);
	msg_free(resp);

	/* 101 is over 100: the tag is added */
	resp = msg_response(req, 101, NULL, SV_LIT("t101"));
	assert_non_null(resp);
	to = msg_to(resp);
	assert_non_null(to);
	assert_span_equal(resp, to->tag, "t101");
	msg_free(resp);
	msg_free(req);

	/* To already tagged (in-dialog request): kept, not replaced */
	req =
	    parse_str("BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
	              "Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
	              "Max-Forwards: 70\r\n"
	              "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
	              "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774"
	              "\r\n"
	              "Call-ID: a84b4c76e66710\r\n"
	              "CSeq: 231 BYE\r\n"
	              "Content-Length: 0\r\n\r\n");
	resp = msg_response(req, 200, NULL, SV_LIT("other"));
	assert_non_null(resp);
	assert_sv_equal(msg_reason(resp), "OK");
	to = msg_to(resp);
	assert_non_null(to);
	assert_span_equal(resp, to->tag, "1928301774");
	assert_sv_equal(msg_hdr_value(resp, HDR_TO),
	                "Alice <sip:alice@atlanta.example.com>;tag=1928301774");
	assert_non_null(msg_cseq(resp));
	assert_int_equal(msg_cseq(resp)->method, MSG_BYE);
	assert_int_equal(msg_cseq(resp)->num, 231);
	assert_check_ok(resp);
	msg_free(resp);
	msg_free(req);
}

static void
test_response_reason(void **state)
{
	static const struct {
		int status;
		const char *phrase;
	} phrases[] = {
	    /* RFC 3261 21 */
	    {100, "Trying"},
	    {180, "Ringing"},
	    {181, "Call Is Being Forwarded"},
	    {182, "Queued"},
	    {183, "Session Progress"},
	    {200, "OK"},
	    {300, "Multiple Choices"},
	    {301, "Moved Permanently"},
	    {302, "Moved Temporarily"},
	    {305, "Use Proxy"},
	    {380, "Alternative Service"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {407, "Proxy Authentication Required"},
	    {408, "Request Timeout"},
	    {410, "Gone"},
	    {413, "Request Entity Too Large"},
	    {414, "Request-URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {416, "Unsupported URI Scheme"},
	    {420, "Bad Extension"},
	    {421, "Extension Required"},
	    {423, "Interval Too Brief"},
	    {480, "Temporarily Unavailable"},
	    {481, "Call/Transaction Does Not Exist"},
	    {482, "Loop Detected"},
	    {483, "Too Many Hops"},
	    {484, "Address Incomplete"},
	    {485, "Ambiguous"},
	    {486, "Busy Here"},
	    {487, "Request Terminated"},
	    {488, "Not Acceptable Here"},
	    {491, "Request Pending"},
	    {493, "Undecipherable"},
	    {500, "Server Internal Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Server Time-out"},
	    {505, "Version Not Supported"},
	    {513, "Message Too Large"},
	    {600, "Busy Everywhere"},
	    {603, "Decline"},
	    {604, "Does Not Exist Anywhere"},
	    {606, "Not Acceptable"},
	};
	struct msg *req, *resp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
		const char *p = msg_reason_phrase(phrases[i].status);

		if (p == NULL || strcmp(p, phrases[i].phrase) != 0) {
			fail_msg("msg_reason_phrase(%d) = \"%s\", want \"%s\"",
			         phrases[i].status, p != NULL ? p : "(null)",
			         phrases[i].phrase);
		}
	}

	req = parse_str(req_text);
	resp = msg_response(req, 486, NULL, SV_LIT("x1"));
	assert_non_null(resp);
	assert_int_equal(msg_status(resp), 486);
	assert_sv_equal(msg_reason(resp), "Busy Here");
	msg_free(resp);

	resp = msg_response(req, 404, "Nobody H\xc3\xb6me", SV_LIT("x2"));
	assert_non_null(resp);
	assert_int_equal(msg_status(resp), 404);
	assert_sv_equal(msg_reason(resp), "Nobody H\xc3\xb6me");
	assert_true(
	    written_contains(resp, "SIP/2.0 404 Nobody H\xc3\xb6me\r\n"));
	msg_free(resp);
	msg_free(req);
}

static void
test_response_needs(void **state)
{
	struct msg *req;

	(void)state;
	/* RFC 3261 18.2.2: without a top Via nothing says where to answer */
	req = parse_str("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	                "Max-Forwards: 70\r\n"
	                "To: <sip:bob@biloxi.example.com>\r\n"
	                "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	                "Call-ID: nv@example.com\r\n"
	                "CSeq: 1 OPTIONS\r\n\r\n");
	assert_null(msg_response(req, 400, "Missing Via", SV_LIT("x")));
	msg_free(req);

	req = parse_str("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	                "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1;"
	                "branch\r\n"
	                "To: <sip:bob@biloxi.example.com>\r\n"
	                "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	                "Call-ID: nv@example.com\r\n"
	                "CSeq: 1 OPTIONS\r\n\r\n");
	assert_null(msg_response(req, 400, "Bad Via", SV_LIT("x")));
	msg_free(req);
}

/*
 * A response to a request msg_check() refused (RFC 3261 8.2.6.1): the
 * Vias, and each of From, To, Call-ID and CSeq that is there once and
 * parses; the rest is left out, so the 400 itself parses.
 */
static void
test_response_malformed(void **state)
{
	static const char via[] =
	    "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n";
	static const struct {
		const char *hdrs;   /* after the Via line */
		const char *reason; /* msg_check()'s */
		const char *want;   /* the response's headers after Via */
	} cases[] = {
	    /* nothing missing: everything copied, To tagged */
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      NULL,
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "CSeq: 1 OPTIONS\r\n",
	      "Missing Call-ID",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "CSeq: 1 OPTIONS\r\n" },
	    { "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Missing To",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Missing From",
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\n",
	      "Missing CSeq",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\n" },
	    /* an unterminated quote in the display name */
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: \"Alice <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Bad From",
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    /* a display name with characters no token holds, unquoted */
	    { "To: Bob (home) <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Bad To",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "From: <sip:carol@atlanta.example.com>;tag=2\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Bad From",
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Bad Call-ID",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "CSeq: 1 OPTIONS\r\n" },
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: one OPTIONS\r\n",
	      "Bad CSeq",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\n" },
	    /* a line without a colon: the index holds everything else */
	    { "To: <sip:bob@biloxi.example.com>\r\n"
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "No colon here\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n",
	      "Bad Header Line",
	      "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	      "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	      "Call-ID: nv@example.com\r\nCSeq: 1 OPTIONS\r\n" },
	};
	char in[1024], want[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg_err err;
		struct msg *req, *resp;
		int rc;

		snprintf(in, sizeof(in),
		         "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n%s%s\r\n",
		         via, cases[i].hdrs);
		req = parse_str(in);
		memset(&err, 0, sizeof(err));
		rc = msg_check(req, &err);
		if (cases[i].reason == NULL) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(err.status, 400);
			assert_string_equal(err.reason, cases[i].reason);
		}
		resp = msg_response(req, 400, err.reason, SV_LIT("x"));
		assert_non_null(resp);
		snprintf(want, sizeof(want), "SIP/2.0 400 %s\r\n%s%s"
		         "Content-Length: 0\r\n\r\n",
		         err.reason != NULL ? err.reason : "Bad Request", via,
		         cases[i].want);
		assert_written(resp, want);
		msg_free(resp);
		msg_free(req);
	}
}

/* msg_response_write() writes the bytes of msg_response() with the extra
 * line msg_hdr_append() would add, for every status class, with and
 * without a To tag, of well-formed and malformed requests; it refuses
 * what msg_response() refuses, a value that is no single line, and a
 * buffer too small. */
static void
test_response_write_same_bytes(void **state)
{
	static const char *const reqs[] = {
	    req_text,
	    "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	    "To: <sip:bob@biloxi.example.com>;tag=9\r\n"
	    "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	    "From: <sip:carol@atlanta.example.com>;tag=2\r\n"
	    "Call-ID: nv example.com\r\nCSeq: 1 OPTIONS\r\n\r\n",
	    "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	    "To: Bob\r\n <sip:bob@biloxi.example.com>\r\n"
	    "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	    "Call-ID: nv@example.com\r\n\r\n",
	};
	static const int statuses[] = { 100, 180, 200, 404, 699 };
	const size_t nk = sizeof(statuses) / sizeof(statuses[0]) * 4;
	char got[2048], want[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct msg *req = parse_str(reqs[i]);

		for (size_t k = 0; k < nk; k++) {
			int status = statuses[k / 4];
			struct sv tag = k & 1 ? SV_LIT("t1")
					      : (struct sv){ "", 0 };
			bool extra = (k & 2) != 0;
			struct msg *resp = msg_response(req, status,
			    k & 1 ? "Why Not" : NULL, tag);
			int n, w;

			assert_non_null(resp);
			if (extra) {
				assert_true(msg_hdr_append(resp, "Server",
				    SV_LIT("sipd 0.1")) >= 0);
			}
			w = msg_write(resp, want, sizeof(want));
			assert_true(w > 0);
			n = msg_response_write(req, status,
			    k & 1 ? "Why Not" : NULL, tag,
			    extra ? "Server" : NULL, SV_LIT("sipd 0.1"), got,
			    sizeof(got));
			assert_int_equal(n, w);
			assert_memory_equal(got, want, (size_t)w);
			/* one byte short of what it checks for: refused */
			assert_int_equal(msg_response_write(req, status, NULL,
			    tag, NULL, (struct sv){ "", 0 }, got, 16), -ENOSPC);
			msg_free(resp);
		}
		assert_int_equal(msg_response_write(req, 100, NULL,
		    (struct sv){ "", 0 }, "Server", SV_LIT("a\r\nb"), got,
		    sizeof(got)), -EINVAL);
		assert_int_equal(msg_response_write(req, 100, NULL,
		    (struct sv){ "", 0 }, "Ser ver", SV_LIT("a"), got,
		    sizeof(got)), -EINVAL);
		assert_int_equal(msg_response_write(req, 99, NULL,
		    (struct sv){ "", 0 }, NULL, (struct sv){ "", 0 }, got,
		    sizeof(got)), -EINVAL);
		msg_free(req);
	}
}

/* msg_response_add_lines() gives the bytes of msg_response() and one
 * msg_hdr_append() per line, in order, a folded value unfolded; it
 * refuses what msg_hdr_append() refuses and a buffer too small, and then
 * leaves the bytes as they were. */
static void
test_response_add_lines_same_bytes(void **state)
{
	const struct msg_line lines[] = {
		{ "Server", SV_LIT("sipd 0.1") },
		{ "WWW-Authenticate",
		    SV_LIT("Digest realm=\"a\", nonce=\"n\"") },
		{ "Contact", SV_LIT("<sip:a@h>;expires=60") },
		{ "X-Folded", SV_LIT("one,\r\n two") },
		{ "Date", SV_LIT("") },
	};
	const size_t nl = sizeof(lines) / sizeof(lines[0]);
	struct msg *req = parse_str(req_text);
	char got[2048], want[2048], keep[2048];
	int n, w, base;

	(void)state;
	for (size_t k = 0; k <= nl; k++) {
		struct msg *resp = msg_response(req, 401, NULL, SV_LIT("t1"));

		assert_non_null(resp);
		for (size_t i = 0; i < k; i++) {
			assert_true(msg_hdr_append(resp, lines[i].name,
			    lines[i].value) >= 0);
		}
		w = msg_write(resp, want, sizeof(want));
		assert_true(w > 0);
		base = msg_response_write(req, 401, NULL, SV_LIT("t1"), NULL,
		    (struct sv)SV_LIT(""), got, sizeof(got));
		assert_true(base > 0);
		n = msg_response_add_lines(got, (size_t)base, sizeof(got),
		    lines, k);
		assert_int_equal(n, w);
		assert_memory_equal(got, want, (size_t)w);
		/* one byte short: refused, the bytes as they were */
		base = msg_response_write(req, 401, NULL, SV_LIT("t1"), NULL,
		    (struct sv)SV_LIT(""), got, sizeof(got));
		memcpy(keep, got, (size_t)base);
		if (k > 0) {
			assert_int_equal(msg_response_add_lines(got,
			    (size_t)base, (size_t)w - 1, lines, k), -ENOSPC);
			assert_memory_equal(got, keep, (size_t)base);
		}
		msg_free(resp);
	}
	base = msg_response_write(req, 401, NULL, SV_LIT("t1"), NULL,
	    (struct sv)SV_LIT(""), got, sizeof(got));
	memcpy(keep, got, (size_t)base);
	{
		/* a good line, then one msg_hdr_append() refuses */
		const struct msg_line bad[][2] = {
			{ lines[0], { "Server", SV_LIT("a\r\nb") } },
			{ lines[0], { "Ser ver", SV_LIT("a") } },
			{ lines[0], { "X", SV_LIT("a\rb") } },
			{ lines[0], { "X", SV_LIT("a\0b") } },
			{ lines[0], { "", SV_LIT("a") } },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(msg_response_add_lines(got,
			    (size_t)base, sizeof(got), bad[i], 2), -EINVAL);
			assert_memory_equal(got, keep, (size_t)base);
		}
	}
	/* the default phrases, which response_write() does not check, are
	 * one line each */
	for (int st = 100; st <= 699; st++) {
		const char *r = msg_reason_phrase(st);

		assert_true(r[0] != '\0');
		assert_null(strpbrk(r, "\r\n"));
	}
	/* bytes that do not end with the empty line */
	assert_int_equal(msg_response_add_lines(got, (size_t)base - 2,
	    sizeof(got), lines, 1), -EINVAL);
	assert_int_equal(msg_response_add_lines(got, (size_t)base,
	    (size_t)base - 1, lines, 1), -EINVAL);
	msg_free(req);
}

/* -------------------------------------------------------- header edits */

static void
test_hdr_append(void **state)
{
	static const char want[] = START VIA_A VIA_B REST_HDRS
	    "X-Test: 1\r\n"
	    "Record-Route: <sip:p2.example.com;lr>\r\n" BODY;
	struct msg *m;
	const struct msg_hdr *h;
	const struct msg_naddr *rr;
	int idx, idx2;

	(void)state;
	m = parse_str(req_text);
	assert_int_equal(msg_hdr_total(m), 11);
	idx = msg_hdr_append(m, "X-Test", SV_LIT("1"));
	assert_int_equal(idx, 11);
	h = msg_hdr_at(m, idx);
	assert_non_null(h);
	assert_int_equal(h->id, HDR_UNKNOWN);
	assert_true(h->flags & MSG_HDR_ADDED);
	assert_span_equal(m, h->name, "X-Test");
	assert_span_equal(m, h->value, "1");
	assert_int_equal(msg_hdr_find(m, SV_LIT("x-test")), idx);

	idx2 = msg_hdr_append(m, "Record-Route",
	                      SV_LIT("<sip:p2.example.com;lr>"));
	assert_int_equal(idx2, 12);
	assert_int_equal(msg_hdr_at(m, idx2)->id, HDR_RECORD_ROUTE);
	assert_int_equal(msg_hdr_count(m, HDR_RECORD_ROUTE), 2);
	assert_int_equal(msg_hdr_next(m, msg_hdr_first(m, HDR_RECORD_ROUTE)),
	                 idx2);
	assert_int_equal(msg_naddrs(m, HDR_RECORD_ROUTE, &rr), 2);
	assert_span_equal(m, rr[1].uri_s, "sip:p2.example.com;lr");
	/* untouched indexes do not move */
	assert_span_equal(m, msg_hdr_at(m, 5)->value,
	                  "a84b4c76e66710@pc33.atlanta.example.com");
	assert_written(m, want);
	assert_sv_equal(msg_body(m), "v=0\n");

	assert_int_equal(msg_hdr_append(m, "Bad Name", SV_LIT("x")), -EINVAL);
	assert_int_equal(msg_hdr_append(m, "", SV_LIT("x")), -EINVAL);
	assert_int_equal(msg_hdr_append(m, "X-Colon:", SV_LIT("x")), -EINVAL);
	assert_int_equal(msg_hdr_append(m, "X-A", SV_LIT("a\r\nb")), -EINVAL);
	assert_int_equal(msg_hdr_append(m, "X-A", SV_LIT("a\nb")), -EINVAL);
	assert_int_equal(msg_hdr_append(m, "X-A", SV_LIT("a\rb")), -EINVAL);
	/* CR, LF or NUL at every place of a long value refuse it; other
	 * control bytes and bytes over 0x7f do not */
	for (size_t at = 0; at < 40; at++) {
		static const char bad[] = { '\r', '\n', '\0' };
		static const char good[] = { 0x0b, 0x0e, 0x01, (char)0x8a,
			(char)0x8d, (char)0x80 };
		char v[40];

		for (size_t k = 0; k < sizeof(bad); k++) {
			memset(v, 'x', sizeof(v));
			v[at] = bad[k];
			assert_int_equal(msg_hdr_append(m, "X-A",
			                     (struct sv){ v, sizeof(v) }),
			                 -EINVAL);
		}
		for (size_t k = 0; k < sizeof(good); k++) {
			int at_idx;

			memset(v, 'x', sizeof(v));
			v[at] = good[k];
			at_idx = msg_hdr_append(m, "X-A",
			    (struct sv){ v, sizeof(v) });
			assert_true(at_idx >= 0);
			assert_int_equal(msg_hdr_remove(m, at_idx), 0);
		}
	}
	assert_int_equal(msg_hdr_total(m), 13);
	assert_written(m, want);
	msg_free(m);
}

static void
test_hdr_insert(void **state)
{
	static const char want[] = START
	    "Record-Route: <sip:p1.example.com;lr>\r\n" VIA_A VIA_B REST_HDRS
	    "X-Last: z\r\n" BODY;
	struct msg *m;
	const struct msg_naddr *rr;
	int idx, last;

	(void)state;
	m = parse_str(req_text);
	idx = msg_hdr_insert(m, 0, "Record-Route",
	                     SV_LIT("<sip:p1.example.com;lr>"));
	assert_true(idx >= 11);
	assert_int_equal(msg_hdr_at(m, idx)->id, HDR_RECORD_ROUTE);
	/* indexes are stable: 0 is still the first Via */
	assert_int_equal(msg_hdr_at(m, 0)->id, HDR_VIA);
	assert_int_equal(msg_hdr_first(m, HDR_VIA), 0);
	/* lookups follow message order */
	assert_int_equal(msg_hdr_first(m, HDR_RECORD_ROUTE), idx);
	assert_int_equal(msg_hdr_next(m, idx), 8);
	assert_int_equal(msg_naddrs(m, HDR_RECORD_ROUTE, &rr), 2);
	assert_span_equal(m, rr[0].uri_s, "sip:p1.example.com;lr");
	assert_span_equal(m, rr[1].uri_s, "sip:server10.biloxi.example.com;lr");

	last = msg_hdr_insert(m, -1, "X-Last", SV_LIT("z"));
	assert_true(last >= 0);
	assert_int_not_equal(last, idx);
	assert_written(m, want);
	assert_int_equal(msg_hdr_insert(m, 0, "Bad:Name", SV_LIT("x")),
	                 -EINVAL);
	assert_written(m, want);
	msg_free(m);
}

static void
test_hdr_remove(void **state)
{
	static const char want[] = START VIA_A VIA_B
	    "Max-Forwards: 68\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Record-Route: <sip:server10.biloxi.example.com;lr>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: 4\r\n" BODY;
	struct msg *m;
	const struct msg_naddr *c;

	(void)state;
	m = parse_str(req_text);
	assert_int_equal(msg_hdr_first(m, HDR_CONTACT), 7);
	assert_int_equal(msg_hdr_remove(m, 7), 0);
	assert_true(msg_hdr_at(m, 7) == NULL ||
	            (msg_hdr_at(m, 7)->flags & MSG_HDR_REMOVED));
	assert_int_equal(msg_hdr_first(m, HDR_CONTACT), -1);
	assert_int_equal(msg_hdr_count(m, HDR_CONTACT), 0);
	assert_int_equal(msg_hdr_value(m, HDR_CONTACT).len, 0);
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), 0);
	assert_int_equal(msg_hdr_find(m, SV_LIT("Contact")), -1);
	/* neighbours keep their indexes */
	assert_int_equal(msg_hdr_at(m, 8)->id, HDR_RECORD_ROUTE);
	assert_int_equal(msg_hdr_at(m, 6)->id, HDR_CSEQ);
	assert_written(m, want);

	assert_int_equal(msg_hdr_remove(m, 7), -ENOENT);
	assert_int_equal(msg_hdr_remove(m, 999), -ENOENT);
	assert_int_equal(msg_hdr_remove(m, -1), -ENOENT);
	assert_written(m, want);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_hdr_remove_all(void **state)
{
	static const char want[] = START REST_HDRS BODY;
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	m = parse_str(req_text);
	assert_int_equal(msg_hdr_remove_all(m, HDR_VIA), 2);
	assert_int_equal(msg_hdr_count(m, HDR_VIA), 0);
	assert_int_equal(msg_hdr_first(m, HDR_VIA), -1);
	assert_null(msg_via_top(m));
	assert_int_equal(msg_vias(m, &v), 0);
	assert_written(m, want);
	assert_int_equal(msg_hdr_remove_all(m, HDR_VIA), 0);
	assert_int_equal(msg_hdr_remove_all(m, HDR_PRIORITY), 0);
	assert_written(m, want);
	msg_free(m);
}

static void
test_hdr_replace(void **state)
{
	static const char want[] = START VIA_A VIA_B
	    "Max-Forwards: 67\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	    "Record-Route: <sip:server10.biloxi.example.com;lr>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: 4\r\n" BODY;
	struct msg *m, *again;
	uint32_t mf = 0;
	int idx;

	(void)state;
	m = parse_str(req_text);
	/* a parsed value is cached; the replacement must be seen */
	assert_int_equal(msg_max_forwards(m, &mf), 0);
	assert_int_equal(mf, 68);
	idx = msg_hdr_first(m, HDR_MAX_FORWARDS);
	assert_int_equal(idx, 2);
	assert_int_equal(msg_hdr_replace(m, idx, SV_LIT("67")), 0);
	assert_int_equal(msg_hdr_first(m, HDR_MAX_FORWARDS), 2);
	assert_sv_equal(msg_hdr_value(m, HDR_MAX_FORWARDS), "67");
	assert_int_equal(msg_max_forwards(m, &mf), 0);
	assert_int_equal(mf, 67);
	assert_written(m, want);
	assert_int_equal(msg_hdr_replace(m, idx, SV_LIT("6\r\n7")), -EINVAL);
	assert_written(m, want);
	msg_free(m);

	/* compact form and a cached From */
	m = parse_str("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	              "v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	              "t: <sip:bob@biloxi.example.com>\r\n"
	              "f: <sip:alice@atlanta.example.com>;tag=1\r\n"
	              "i: old-call-id\r\n"
	              "CSeq: 1 OPTIONS\r\n\r\n");
	assert_non_null(msg_from(m));
	assert_span_equal(m, msg_from(m)->tag, "1");
	assert_int_equal(
	    msg_hdr_replace(m, 2,
	                    SV_LIT("<sip:carol@chicago.example.com>;tag=2")),
	    0);
	assert_non_null(msg_from(m));
	assert_span_equal(m, msg_from(m)->tag, "2");
	assert_span_equal(m, msg_from(m)->uri_s,
	                  "sip:carol@chicago.example.com");
	assert_int_equal(msg_hdr_replace(m, 3, SV_LIT("new-call-id")), 0);
	assert_sv_equal(msg_callid(m), "new-call-id");
	again = reparse(m);
	assert_sv_equal(msg_callid(again), "new-call-id");
	assert_non_null(msg_from(again));
	assert_span_equal(again, msg_from(again)->tag, "2");
	assert_int_equal(msg_hdr_total(again), 5);
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);
}

/* ---------------------------------------------------------------- Via */

static void
test_via_push_pop(void **state)
{
	static const char pushed[] = START
	    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\n" VIA_A
	        VIA_B REST_HDRS BODY;
	struct msg *m;
	const struct msg_via *v;

	(void)state;
	m = parse_str(req_text);
	/* cache the old top first: the push must replace it */
	assert_non_null(msg_via_top(m));
	/* msg.h leaves the success value open: 0 or the new line's index */
	assert_true(
	    msg_via_push(
	        m, SV_LIT("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1")) >=
	    0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "proxy.example.com");
	assert_span_equal(m, v->branch, "z9hG4bKp1");
	assert_int_equal(msg_vias(m, &v), 4);
	assert_span_equal(m, v[1].host, "server10.biloxi.example.com");
	assert_written(m, pushed);

	assert_int_equal(msg_via_pop(m), 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "server10.biloxi.example.com");
	assert_int_equal(msg_vias(m, &v), 3);
	/* RFC 3261 16.7 step 3 / 18.1.2: popping our own Via restores the
	 * message exactly */
	assert_written(m, req_text);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_via_pop_comma(void **state)
{
	struct msg *m, *again;
	const struct msg_via *v;

	(void)state;
	m = parse_str(req_text);
	/* first line: one value */
	assert_int_equal(msg_via_pop(m), 0);
	assert_int_equal(msg_vias(m, &v), 2);
	assert_span_equal(m, v[0].host, "bigbox3.site3.atlanta.example.com");
	assert_written(m, START VIA_B REST_HDRS BODY);

	/* second line holds two values: pop only the first of them */
	assert_int_equal(msg_via_pop(m), 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "pc33.atlanta.example.com");
	assert_span_equal(m, v->branch, "z9hG4bK776asdhds");
	assert_int_equal(msg_vias(m, &v), 1);
	assert_false(written_contains(m, "bigbox3"));
	assert_true(written_contains(
	    m, "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"));
	again = reparse(m);
	assert_int_equal(msg_vias(again, &v), 1);
	assert_span_equal(again, v[0].host, "pc33.atlanta.example.com");
	assert_check_ok(again);
	msg_free(again);

	assert_int_equal(msg_via_pop(m), 0);
	assert_null(msg_via_top(m));
	assert_int_equal(msg_vias(m, &v), 0);
	assert_int_equal(msg_via_pop(m), -ENOENT);
	assert_written(m, START REST_HDRS BODY);
	msg_free(m);
}

static struct msg *
request_with_via(const char *via_line)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
	         "REGISTER sip:registrar.example.com SIP/2.0\r\n%s"
	         "Max-Forwards: 70\r\n"
	         "To: <sip:bob@example.com>\r\n"
	         "From: <sip:bob@example.com>;tag=456248\r\n"
	         "Call-ID: 843817637684230@998sdasdh09\r\n"
	         "CSeq: 1826 REGISTER\r\n"
	         "Content-Length: 0\r\n\r\n",
	         via_line);
	return parse_str(buf);
}

/*
 * msg_via_set_received() keeps the top Via's parse, moved with the bytes
 * it wrote: the same as parsing the new line, field by field, for Vias
 * with and without rport, received, params, quotes, folds, several values
 * on the line, and addresses that do and do not parse back.
 */
/*
 * Whether a value may be written, as every edit judged it before the
 * sixteen-byte prefilter: LF only before SP or HT, CR only before LF, NUL
 * only as a quoted-pair's octet (RFC 3261 7.3.1, 25.1).
 */
static bool
value_ok_bytewise(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i + 1 == n ||
		    (p[i + 1] != ' ' && p[i + 1] != '\t'))) {
			return false;
		}
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')) {
			return false;
		}
	}
	return memchr(p, '\0', n) == NULL || msg_stray_nul(p, p + n) == NULL;
}

/*
 * msg_hdr_append() refuses exactly the values the byte rules refuse, for
 * values of 1 to 70 bytes with CR, LF, NUL, quotes and backslashes at
 * every place, on both sides of each sixteen-byte boundary.
 */
static void
test_value_check_prefilter(void **state)
{
	static const char odd[] = "\r\n\0\"\\ \t";
	char buf[80];
	uint32_t x = 0x2545f491;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		size_t n = 1 + (size_t)(round % 70);
		for (size_t i = 0; i < n; i++) {
			buf[i] = (char)('a' + i % 26);
		}
		/* one to three odd bytes, anywhere */
		for (int k = 0; k <= round % 3; k++) {
			x = x * 1103515245 + 12345;
			size_t at = (x >> 8) % n;
			buf[at] = odd[(x >> 20) % (sizeof(odd) - 1)];
		}
		struct msg *m = request_with_via(
		    "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n");
		int rc = msg_hdr_append(m, "X-V", (struct sv){ buf, n });
		if (value_ok_bytewise(buf, n)) {
			assert_true(rc >= 0);
		} else {
			assert_int_equal(rc, -EINVAL);
		}
		msg_free(m);
	}
}

static void
test_via_set_received_cache(void **state)
{
	static const char *const vias[] = {
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n",
		"Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1\r\n",
		"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n",
		"Via: SIP/2.0/UDP 10.0.0.1\r\n",
		"Via: SIP/2.0/UDP 10.0.0.1;rport\r\n",
		"Via: SIP/2.0/TCP [2001:db8::1]:5061;received=1.2.3.4;"
		"branch=z9hG4bKx;maddr=\"\";rport=77;ttl=5\r\n",
		"Via: SIP/2.0/UDP a.example.com ; branch = z9hG4bKa ; "
		"x=\"q;u,o\\\"te\" ;RPORT ;Received=9.9.9.9 ;maddr=1.1.1.1\r\n",
		"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;rport, "
		"SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n",
		"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;rport ,"
		"SIP/2.0/UDP b.example.com\r\n",
		"Via: SIP / 2.0 / UDP a.example.com:1;branch=b1;branch=b2;"
		"maddr=m1;rport;maddr=m2\r\n",
		"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;\r\n rport\r\n",
		"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;rport\r\n"
		"Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n",
	};
	static const struct {
		const char *addr;
		uint16_t port;
	} srcs[] = { { "192.0.2.33", 5099 }, { "2001:db8::5", 5060 },
		{ "10.0.0.1", 5060 }, { "192.0.2.33", 0 },
		{ "host.example", 5060 }, { "1.2.3.4;x", 9 } };

	(void)state;
	for (size_t i = 0; i < sizeof(vias) / sizeof(*vias); i++) {
		for (size_t j = 0; j < sizeof(srcs) / sizeof(*srcs); j++) {
			struct msg *m = request_with_via(vias[i]);
			struct msg_via kept;
			uint32_t comma;
			int8_t st;

			assert_non_null(msg_via_top(m));
			assert_int_equal(msg_via_set_received(m,
			    (struct sv){ srcs[j].addr, strlen(srcs[j].addr) },
			    srcs[j].port), 0);
			st = m->via_top_state;
			memcpy(&kept, &m->via_top, sizeof(kept));
			comma = m->via_top_comma;
			msg_cache_drop(m, HDR_VIA);
			const struct msg_via *v = msg_via_top(m);
			if (st > 0) {
				/* what was kept is what a parse finds */
				assert_non_null(v);
				assert_memory_equal(&kept, v, sizeof(kept));
				assert_int_equal(comma, m->via_top_comma);
			}
			msg_free(m);
		}
	}
}

static void
test_via_set_received(void **state)
{
	struct msg *m, *again;
	const struct msg_via *v;
	size_t len;
	char *orig;

	(void)state;
	/* sent-by is a name: received added, no rport */
	m = request_with_via(
	    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n");
	assert_non_null(msg_via_top(m));
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5099),
	                 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->received, "192.0.2.33");
	assert_false(v->rport);
	again = reparse(m);
	v = msg_via_top(again);
	assert_non_null(v);
	assert_span_equal(again, v->host, "host.example.com");
	assert_span_equal(again, v->branch, "z9hG4bK1");
	assert_span_equal(again, v->received, "192.0.2.33");
	assert_false(v->rport);
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);

	/* RFC 3261 18.2.1: same address, no rport: nothing changes */
	m = request_with_via(
	    "Via: SIP/2.0/UDP 192.0.2.33:5060;branch=z9hG4bK1\r\n");
	orig = write_all(m, &len);
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5099),
	                 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_int_equal(v->received.len, 0);
	written_is(m, orig, len, __FILE__, __LINE__);
	free(orig);
	msg_free(m);

	/* RFC 3581 4: rport gets the source port, received is added */
	m = request_with_via(
	    "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1\r\n");
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5099),
	                 0);
	again = reparse(m);
	v = msg_via_top(again);
	assert_non_null(v);
	assert_span_equal(again, v->host, "10.0.0.1");
	assert_int_equal(v->port, 5060);
	assert_true(v->rport);
	assert_int_equal(v->rport_value, 5099);
	assert_span_equal(again, v->received, "192.0.2.33");
	assert_span_equal(again, v->branch, "z9hG4bK1");
	msg_free(again);
	msg_free(m);

	/* RFC 3581 4: with rport, received is added even when it matches */
	m = request_with_via(
	    "Via: SIP/2.0/UDP 192.0.2.33:5060;branch=z9hG4bK1;rport\r\n");
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5060),
	                 0);
	again = reparse(m);
	v = msg_via_top(again);
	assert_non_null(v);
	assert_true(v->rport);
	assert_int_equal(v->rport_value, 5060);
	assert_span_equal(again, v->received, "192.0.2.33");
	msg_free(again);
	msg_free(m);

	/* only the top value of a comma-separated line changes */
	m = request_with_via("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, "
	                     "SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n");
	assert_int_equal(msg_via_set_received(m, SV_LIT("2001:db8::5"), 5060),
	                 0);
	again = reparse(m);
	assert_int_equal(msg_vias(again, &v), 2);
	assert_span_equal(again, v[0].received, "2001:db8::5");
	assert_span_equal(again, v[0].branch, "z9hG4bKa");
	assert_int_equal(v[1].received.len, 0);
	assert_span_equal(again, v[1].value,
	                  "SIP/2.0/UDP b.example.com;branch=z9hG4bKb");
	msg_free(again);
	msg_free(m);
}

/*
 * RFC 3261 7.3.1: a folded value is LWS wherever it is; edits that copy
 * it write it unfolded, one physical line, and never write a bare line
 * break.
 */
static void
test_edit_folded(void **state)
{
	struct msg *m, *again, *resp;
	const struct msg_via *v;

	(void)state;
	/* received and rport on a top Via folded three times */
	m = request_with_via("Via: SIP/2.0/UDP\r\n 10.0.0.1:5060\r\n"
	                     "\t;branch=z9hG4bK1\r\n ;rport\r\n");
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "10.0.0.1");
	assert_true(v->rport);
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5099),
	                 0);
	assert_true(written_contains(
	    m, "Via: SIP/2.0/UDP 10.0.0.1:5060\t;branch=z9hG4bK1 "
	       ";received=192.0.2.33;rport=5099\r\nMax-Forwards"));
	again = reparse(m);
	v = msg_via_top(again);
	assert_non_null(v);
	assert_span_equal(again, v->host, "10.0.0.1");
	assert_int_equal(v->port, 5060);
	assert_span_equal(again, v->branch, "z9hG4bK1");
	assert_span_equal(again, v->received, "192.0.2.33");
	assert_int_equal(v->rport_value, 5099);
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);

	/* a fold between two values of the top line: set and pop */
	m = request_with_via("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa,"
	                     "\r\n SIP/2.0/UDP\r\n b.example.com;branch=z9hG4bKb"
	                     "\r\n");
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.1"), 5060),
	                 0);
	assert_true(written_contains(
	    m, "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received="
	       "192.0.2.1, SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n"));
	assert_int_equal(msg_via_pop(m), 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->host, "b.example.com");
	assert_true(written_contains(
	    m, "\r\nVia: SIP/2.0/UDP b.example.com;branch=z9hG4bKb\r\n"));
	msg_free(m);

	m = request_with_via("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa,"
	                     "\r\n\tSIP/2.0/UDP b.example.com;branch=z9hG4bKb"
	                     "\r\n");
	assert_int_equal(msg_via_pop(m), 0);
	v = msg_via_top(m);
	assert_non_null(v);
	assert_span_equal(m, v->branch, "z9hG4bKb");
	again = reparse(m);
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);

	/* a folded value replaced and appended as it stands */
	m = request_with_via("Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1"
	                     "\r\n");
	assert_true(msg_hdr_append(m, "Subject", SV_LIT("one\r\n two")) >= 0);
	assert_true(written_contains(m, "\r\nSubject: one two\r\n"));
	assert_sv_equal(msg_hdr_value(m, HDR_SUBJECT), "one two");
	/* a line break that is no fold would start a header: refused */
	assert_int_equal(msg_hdr_append(m, "Subject", SV_LIT("one\r\nX: 1")),
	                 -EINVAL);
	assert_int_equal(msg_hdr_append(m, "Subject", SV_LIT("one\r\n")),
	                 -EINVAL);
	assert_int_equal(msg_hdr_append(m, "Subject", SV_LIT("one\r two")),
	                 -EINVAL);
	assert_int_equal(msg_hdr_append(m, "Subject", SV_LIT("one\n\n two")),
	                 -EINVAL);
	assert_int_equal(
	    msg_hdr_append(m, "Subject", (struct sv){ "a\0b", 3 }), -EINVAL);
	assert_true(msg_hdr_append(m, "Subject",
	                           (struct sv){ "\"a\\\0b\"", 6 }) >= 0);
	msg_free(m);

	/* a folded To gets its tag in the response */
	m = parse_str("OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
	              "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	              "To: Bob\r\n <sip:bob@biloxi.example.com>\r\n"
	              "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	              "Call-ID: nv@example.com\r\n"
	              "CSeq: 1\r\n OPTIONS\r\n\r\n");
	assert_check_ok(m);
	resp = msg_response(m, 200, NULL, SV_LIT("x"));
	assert_non_null(resp);
	assert_non_null(msg_to(resp));
	assert_span_equal(resp, msg_to(resp)->tag, "x");
	assert_span_equal(resp, msg_to(resp)->uri_s,
	                  "sip:bob@biloxi.example.com");
	assert_check_ok(resp);
	msg_free(resp);
	msg_free(m);
}

static void
test_via_set_received_long(void **state)
{
	/* RFC 3261 18.2.1 puts no bound on a Via value, and the received
	 * parameter MUST be added whatever its length */
	char via[1400];
	struct msg *m, *again;
	const struct msg_via *v;
	int n;

	(void)state;
	n = snprintf(via, sizeof(via),
	             "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK");
	memset(via + n, 'x', 1100);
	snprintf(via + n + 1100, sizeof(via) - (size_t)n - 1100, "\r\n");
	m = request_with_via(via);
	assert_non_null(msg_via_top(m));
	assert_int_equal(msg_via_set_received(m, SV_LIT("192.0.2.33"), 5099),
	                 0);
	again = reparse(m);
	v = msg_via_top(again);
	assert_non_null(v);
	assert_span_equal(again, v->received, "192.0.2.33");
	assert_int_equal(v->branch.len, 7 + 1100);
	msg_free(again);
	msg_free(m);
}

/* ---------------------------------------------------- Request-URI, body */

static void
test_set_ruri(void **state)
{
	static const char want[] = "INVITE sip:carol@chicago.example.com;lr "
	                           "SIP/2.0\r\n" VIA_A VIA_B REST_HDRS BODY;
	struct msg *m;
	const struct uri *u;

	(void)state;
	m = parse_str(req_text);
	assert_non_null(msg_ruri(m));
	assert_int_equal(
	    msg_set_ruri(m, SV_LIT("sip:carol@chicago.example.com;lr")), 0);
	assert_sv_equal(msg_sv(m, msg_ruri_span(m)),
	                "sip:carol@chicago.example.com;lr");
	u = msg_ruri(m);
	assert_non_null(u);
	assert_span_equal(m, u->user, "carol");
	assert_span_equal(m, u->host, "chicago.example.com");
	assert_int_equal(msg_method(m), MSG_INVITE);
	assert_written(m, want);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_set_body(void **state)
{
	static const char sdp[] = "v=0\r\no=alice 2890844526 2890844526 IN IP4 "
	                          "pc33.atlanta.example.com\r\ns=-\r\n";
	struct msg *m, *again;
	uint32_t cl = 0;
	const struct sv ct = SV_LIT("application/sdp");
	const struct sv txt = SV_LIT("text/plain;charset=utf-8");
	const struct msg_ctype *c;

	(void)state;
	m = parse_str(req_text);
	assert_int_equal(msg_set_body(m, &txt, SV_LIT("hello")), 0);
	assert_sv_equal(msg_body(m), "hello");
	assert_int_equal(msg_content_length(m, &cl), 0);
	assert_int_equal(cl, 5);
	assert_sv_equal(msg_hdr_value(m, HDR_CONTENT_TYPE),
	                "text/plain;charset=utf-8");
	assert_int_equal(msg_hdr_count(m, HDR_CONTENT_LENGTH), 1);
	assert_int_equal(msg_hdr_count(m, HDR_CONTENT_TYPE), 1);
	again = reparse(m);
	assert_sv_equal(msg_body(again), "hello");
	assert_int_equal(msg_content_length(again, &cl), 0);
	assert_int_equal(cl, 5);
	c = msg_content_type(again);
	assert_non_null(c);
	assert_span_equal(again, c->subtype, "plain");
	assert_check_ok(again);
	msg_free(again);

	/* ctype NULL keeps the Content-Type */
	assert_int_equal(
	    msg_set_body(m, NULL, (struct sv){sdp, sizeof(sdp) - 1}), 0);
	assert_sv_equal(msg_body(m), sdp);
	assert_int_equal(msg_content_length(m, &cl), 0);
	assert_int_equal(cl, sizeof(sdp) - 1);
	assert_sv_equal(msg_hdr_value(m, HDR_CONTENT_TYPE),
	                "text/plain;charset=utf-8");

	/* an empty body: Content-Length 0 */
	assert_int_equal(msg_set_body(m, &ct, (struct sv){"", 0}), 0);
	assert_int_equal(msg_body(m).len, 0);
	again = reparse(m);
	assert_int_equal(msg_content_length(again, &cl), 0);
	assert_int_equal(cl, 0);
	assert_int_equal(msg_body(again).len, 0);
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);

	/* a message without Content-Length gains one */
	m = parse_str("MESSAGE sip:bob@biloxi.example.com SIP/2.0\r\n"
	              "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	              "Max-Forwards: 70\r\n"
	              "To: <sip:bob@biloxi.example.com>\r\n"
	              "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	              "Call-ID: m1@example.com\r\n"
	              "CSeq: 1 MESSAGE\r\n\r\n");
	assert_int_equal(msg_content_length(m, &cl), -ENOENT);
	assert_int_equal(msg_set_body(m, &txt, SV_LIT("Watson, come here.")),
	                 0);
	again = reparse(m);
	assert_int_equal(msg_content_length(again, &cl), 0);
	assert_int_equal(cl, 18);
	assert_sv_equal(msg_body(again), "Watson, come here.");
	assert_sv_equal(msg_hdr_value(again, HDR_CONTENT_TYPE),
	                "text/plain;charset=utf-8");
	assert_check_ok(again);
	msg_free(again);
	msg_free(m);
}

/* ------------------------------------------------------- serialization */

static void
test_write_identity(void **state)
{
	static const char *msgs[] = {
	    req_text,
	    /* compact forms, odd case, folding, unknown headers */
	    "OPTIONS sip:bob@[2001:db8::10]:5070;transport=tcp SIP/2.0\r\n"
	    "v: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK1;rport\r\n"
	    "MAX-forwards:   0070\r\n"
	    "t:\r\n <sip:bob@biloxi.example.com>\r\n"
	    "f: \"A \\\"q\\\"\" <sip:a@example.com>\r\n\t;tag=1\r\n"
	    "i:x@y\r\n"
	    "cseq: 1 OPTIONS\r\n"
	    "X-Weird :  ;;,,  \r\n"
	    "l: 0\r\n\r\n",
	    /* a response with an empty reason phrase and a body */
	    "SIP/2.0 200 \r\n"
	    "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
	    "To: <sip:bob@biloxi.example.com>;tag=x\r\n"
	    "From: <sip:a@example.com>;tag=1\r\n"
	    "Call-ID: x@y\r\n"
	    "CSeq: 1 MESSAGE\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 6\r\n\r\nhello\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct msg *m = parse_str(msgs[i]);

		/* lazily parsed values must not change the bytes */
		(void)msg_via_top(m);
		(void)msg_from(m);
		(void)msg_to(m);
		(void)msg_cseq(m);
		assert_int_equal(msg_size(m), strlen(msgs[i]));
		assert_written(m, msgs[i]);
		msg_free(m);
	}
}

static void
test_write_enospc(void **state)
{
	struct msg *m;
	char *buf;
	size_t sz;

	(void)state;
	m = parse_str(req_text);
	sz = msg_size(m);
	assert_int_equal(sz, sizeof(req_text) - 1);
	buf = malloc(sz);
	assert_non_null(buf);
	assert_int_equal(msg_write(m, buf, sz - 1), -ENOSPC);
	assert_int_equal(msg_write(m, buf, 10), -ENOSPC);
	assert_int_equal(msg_write(m, buf, 0), -ENOSPC);
	assert_int_equal(msg_write(m, buf, sz), (int)sz);
	assert_memory_equal(buf, req_text, sz);

	/* after an edit too */
	assert_true(msg_hdr_append(m, "X-More", SV_LIT("bytes")) >= 0);
	assert_int_equal(msg_size(m), sz + strlen("X-More: bytes\r\n"));
	assert_int_equal(msg_write(m, buf, sz), -ENOSPC);
	free(buf);
	msg_free(m);
}

/*
 * msg_write() copies lines that follow one another in the buffer as one
 * run: after edits in the middle, at the top and at the end, and with a
 * Request-URI rewritten, every cap below the size is refused without a
 * byte written past it, and the size itself gives the lines in order.
 */
static void
test_write_runs(void **state)
{
	struct msg *m;
	char *buf, *want;
	size_t sz;

	(void)state;
	m = parse_str(req_text);
	assert_true(msg_via_push(m,
	    SV_LIT("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx")) >= 0);
	assert_int_equal(msg_hdr_remove(m, msg_hdr_first(m, HDR_CALL_ID)), 0);
	assert_true(msg_hdr_insert(m, msg_hdr_first(m, HDR_CSEQ), "X-Mid",
	    SV_LIT("1")) >= 0);
	assert_int_equal(msg_set_ruri(m, SV_LIT("sip:carol@192.0.2.7")), 0);
	assert_true(msg_hdr_append(m, "X-End", SV_LIT("2")) >= 0);
	want = write_all(m, &sz);
	assert_non_null(strstr(want, "INVITE sip:carol@192.0.2.7 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\n"));
	assert_null(strstr(want, "Call-ID:"));
	assert_non_null(strstr(want, "X-Mid: 1\r\nCSeq:"));
	assert_non_null(strstr(want, "X-End: 2\r\n\r\n"));
	buf = malloc(sz + 16);
	assert_non_null(buf);
	for (size_t cap = 0; cap < sz; cap++) {
		memset(buf, 'Z', sz + 16);
		assert_int_equal(msg_write(m, buf, cap), -ENOSPC);
		for (size_t k = cap; k < sz + 16; k++) {
			assert_int_equal(buf[k], 'Z');
		}
	}
	assert_int_equal(msg_write(m, buf, sz), (int)sz);
	assert_memory_equal(buf, want, sz);
	free(buf);
	free(want);
	msg_free(m);
}

/* The values of id's chain, in its order, joined by '|'. */
static void
chain_is(const struct msg *m, enum hdr_id id, const char *want)
{
	char got[512];
	size_t n = 0;

	got[0] = '\0';
	for (int i = msg_hdr_first(m, id); i >= 0; i = msg_hdr_next(m, i)) {
		struct sv v = msg_sv(m, msg_hdr_at(m, i)->value);

		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.*s",
		    n > 0 ? "|" : "", (int)v.len, v.p);
	}
	assert_string_equal(got, want);
}

/*
 * msg_hdr_insert_id() writes the canonical name and links the new line
 * into its name's chain without walking the message when it goes on top
 * of the others or is the only one: the chains must be those a full
 * rebuild gives, for each way in.
 */
static void
test_insert_id(void **state)
{
	struct msg *m;
	char *out;

	(void)state;
	m = parse_str(req_text);
	/* on top of two Via lines */
	assert_true(msg_via_push(m,
	    SV_LIT("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa")) >= 0);
	chain_is(m, HDR_VIA, "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa|"
	    "SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1|"
	    "SIP/2.0/UDP bigbox3.site3.atlanta.example.com"
	    ";branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2, "
	    "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds");
	/* on top of the one Record-Route */
	assert_true(msg_hdr_insert_id(m, msg_hdr_first(m, HDR_RECORD_ROUTE),
	    HDR_RECORD_ROUTE, SV_LIT("<sip:192.0.2.9;lr>")) >= 0);
	chain_is(m, HDR_RECORD_ROUTE,
	    "<sip:192.0.2.9;lr>|<sip:server10.biloxi.example.com;lr>");
	/* the first Route, at the end */
	assert_true(msg_hdr_insert_id(m, -1, HDR_ROUTE,
	    SV_LIT("<sip:192.0.2.1;lr>")) >= 0);
	chain_is(m, HDR_ROUTE, "<sip:192.0.2.1;lr>");
	/* below the top one: the full rebuild */
	assert_true(msg_hdr_insert_id(m, -1, HDR_ROUTE,
	    SV_LIT("<sip:192.0.2.2;lr>")) >= 0);
	assert_true(msg_hdr_insert_id(m, msg_hdr_first(m, HDR_ROUTE),
	    HDR_ROUTE, SV_LIT("<sip:192.0.2.3;lr>")) >= 0);
	chain_is(m, HDR_ROUTE, "<sip:192.0.2.3;lr>|<sip:192.0.2.1;lr>|"
	    "<sip:192.0.2.2;lr>");
	assert_int_equal(msg_hdr_insert_id(m, -1, HDR_UNKNOWN, SV_LIT("x")),
	    -EINVAL);
	assert_int_equal(msg_hdr_insert_id(m, -1, HDR_ROUTE,
	    SV_LIT("<sip:a>\r\nX: y")), -EINVAL);
	out = write_all(m, NULL);
	assert_non_null(strstr(out, "SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;"));
	assert_non_null(strstr(out, "Record-Route: <sip:192.0.2.9;lr>\r\n"
	    "Record-Route: <sip:server10"));
	assert_non_null(strstr(out, "Route: <sip:192.0.2.3;lr>\r\n"
	    "Route: <sip:192.0.2.1;lr>\r\nRoute: <sip:192.0.2.2;lr>\r\n\r\n"));
	free(out);
	msg_free(m);
}

/*
 * A removed line leaves its name's chain without a walk of the message,
 * and an edit clears the list cached on the name's first line by walking
 * that chain: after each remove and insert the chain and the parsed list
 * are those of the lines left, whichever was first.
 */
static void
test_remove_chain(void **state)
{
	static const char text[] = "OPTIONS sip:b@192.0.2.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n"
	    "Route: <sip:192.0.2.10;lr>\r\n"
	    "From: <sip:a@192.0.2.2>;tag=1\r\n"
	    "Route: <sip:192.0.2.11;lr>, <sip:192.0.2.12;lr>\r\n"
	    "To: <sip:b@192.0.2.1>\r\n"
	    "Route: <sip:192.0.2.13;lr>\r\n"
	    "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	const struct msg_naddr *r;
	struct msg *m = parse_str(text);
	int first, second, third;

	(void)state;
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 4);
	first = msg_hdr_first(m, HDR_ROUTE);
	second = msg_hdr_next(m, first);
	third = msg_hdr_next(m, second);
	/* the middle line */
	assert_int_equal(msg_hdr_remove(m, second), 0);
	chain_is(m, HDR_ROUTE, "<sip:192.0.2.10;lr>|<sip:192.0.2.13;lr>");
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 2);
	assert_int_equal(msg_sv(m, r[1].value).len,
	    strlen("<sip:192.0.2.13;lr>"));
	/* one on top, then the first of the received ones */
	assert_true(msg_hdr_insert_id(m, first, HDR_ROUTE,
	    SV_LIT("<sip:192.0.2.9;lr>")) >= 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 3);
	assert_int_equal(msg_hdr_remove(m, first), 0);
	chain_is(m, HDR_ROUTE, "<sip:192.0.2.9;lr>|<sip:192.0.2.13;lr>");
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 2);
	/* the top one: the received last line is first again, its list
	 * parsed afresh */
	assert_int_equal(msg_hdr_remove(m, msg_hdr_first(m, HDR_ROUTE)), 0);
	assert_int_equal(msg_hdr_first(m, HDR_ROUTE), third);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 1);
	assert_int_equal(msg_sv(m, r[0].value).len,
	    strlen("<sip:192.0.2.13;lr>"));
	assert_int_equal(msg_hdr_remove(m, third), 0);
	assert_int_equal(msg_hdr_first(m, HDR_ROUTE), -1);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 0);
	chain_is(m, HDR_VIA, "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1");
	msg_free(m);
}

/* -------------------------------------------------------------- compact */

static void
same_span(const struct msg *a, struct span x, const struct msg *b,
          struct span y)
{
	assert_int_equal(x.off, y.off);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(msg_buf(a) + x.off, msg_buf(b) + y.off, x.len);
}

static void
same_uri(const struct uri *x, const struct uri *y)
{
	assert_int_equal(x->scheme, y->scheme);
	assert_int_equal(x->host_type, y->host_type);
	assert_int_equal(x->port, y->port);
	assert_memory_equal(&x->all, &y->all, sizeof(struct span));
	assert_memory_equal(&x->scheme_s, &y->scheme_s, sizeof(struct span));
	assert_memory_equal(&x->user, &y->user, sizeof(struct span));
	assert_memory_equal(&x->password, &y->password, sizeof(struct span));
	assert_memory_equal(&x->host, &y->host, sizeof(struct span));
	assert_memory_equal(&x->params, &y->params, sizeof(struct span));
	assert_memory_equal(&x->headers, &y->headers, sizeof(struct span));
	assert_memory_equal(&x->opaque, &y->opaque, sizeof(struct span));
}

static void
same_via(const struct msg *a, const struct msg_via *x, const struct msg *b,
         const struct msg_via *y)
{
	same_span(a, x->value, b, y->value);
	same_span(a, x->protocol, b, y->protocol);
	same_span(a, x->version, b, y->version);
	same_span(a, x->transport, b, y->transport);
	same_span(a, x->host, b, y->host);
	same_span(a, x->branch, b, y->branch);
	same_span(a, x->received, b, y->received);
	same_span(a, x->maddr, b, y->maddr);
	same_span(a, x->params, b, y->params);
	assert_int_equal(x->port, y->port);
	assert_int_equal(x->host_type, y->host_type);
	assert_int_equal(x->rport, y->rport);
	assert_int_equal(x->rport_value, y->rport_value);
	assert_int_equal(x->ttl, y->ttl);
	assert_int_equal(x->hdr, y->hdr);
}

/*
 * msg_compact() builds its copy without parsing again: it must give what
 * a parse of the serialized bytes gives, span for span and cache for
 * cache.  Typed values are read from c first, so those it copied are the
 * ones compared.
 */
/*
 * c, a message sipd made without parsing it, is what msg_parse() makes
 * of its bytes, r: the same spans at the same offsets, the same typed
 * values and the same verdict of msg_check().
 */
static void
assert_same_as_parse(struct msg *c, struct msg *r)
{
	const struct msg_via *vc, *vr;
	const struct msg_naddr *nc, *nr;
	const struct msg_cseq *cc, *cr;
	struct msg_err ec, er;
	uint32_t lc = 0, lr = 0;
	size_t lenc, lenr;
	char *bc, *br;
	int n;

	assert_non_null(c);
	assert_non_null(r);
	bc = write_all(c, &lenc);
	br = write_all(r, &lenr);
	assert_int_equal(lenc, lenr);
	assert_memory_equal(bc, br, lenc);
	free(bc);
	free(br);
	assert_int_equal(msg_is_request(c), msg_is_request(r));
	assert_int_equal(msg_method(c), msg_method(r));
	assert_int_equal(msg_status(c), msg_status(r));
	assert_ptr_equal(msg_method_name(c).p - msg_buf(c),
	                 msg_method_name(r).p - msg_buf(r));
	assert_int_equal(msg_method_name(c).len, msg_method_name(r).len);
	assert_ptr_equal(msg_reason(c).p - msg_buf(c),
	                 msg_reason(r).p - msg_buf(r));
	assert_int_equal(msg_reason(c).len, msg_reason(r).len);
	assert_ptr_equal(msg_body(c).p - msg_buf(c),
	                 msg_body(r).p - msg_buf(r));
	assert_int_equal(msg_body(c).len, msg_body(r).len);
	same_span(c, msg_ruri_span(c), r, msg_ruri_span(r));
	assert_int_equal(msg_ruri(c) == NULL, msg_ruri(r) == NULL);
	if (msg_ruri(c) != NULL) {
		same_uri(msg_ruri(c), msg_ruri(r));
	}
	assert_int_equal(msg_content_length(c, &lc),
	                 msg_content_length(r, &lr));
	assert_int_equal(lc, lr);

	assert_int_equal(msg_hdr_total(c), msg_hdr_total(r));
	for (int i = 0; i < (int)msg_hdr_total(r); i++) {
		const struct msg_hdr *x = msg_hdr_at(c, i);
		const struct msg_hdr *y = msg_hdr_at(r, i);
		assert_non_null(x);
		assert_non_null(y);
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->next, y->next);
		same_span(c, x->name, r, y->name);
		same_span(c, x->value, r, y->value);
		same_span(c, x->line, r, y->line);
	}
	for (int id = 0; id < HDR__COUNT; id++) {
		assert_int_equal(msg_hdr_first(c, id), msg_hdr_first(r, id));
	}

	vc = msg_via_top(c);
	vr = msg_via_top(r);
	assert_int_equal(vc == NULL, vr == NULL);
	if (vr != NULL) {
		same_via(c, vc, r, vr);
	}
	cc = msg_cseq(c);
	cr = msg_cseq(r);
	assert_int_equal(cc == NULL, cr == NULL);
	if (cr != NULL) {
		assert_int_equal(cc->num, cr->num);
		assert_int_equal(cc->method, cr->method);
		same_span(c, cc->method_s, r, cr->method_s);
	}
	n = msg_vias(c, &vc);
	assert_int_equal(n, msg_vias(r, &vr));
	for (int i = 0; i < n; i++) {
		same_via(c, &vc[i], r, &vr[i]);
	}
	nc = msg_from(c);
	nr = msg_from(r);
	assert_int_equal(nc == NULL, nr == NULL);
	if (nr != NULL) {
		same_span(c, nc->tag, r, nr->tag);
		same_uri(&nc->uri, &nr->uri);
	}
	nc = msg_to(c);
	nr = msg_to(r);
	assert_int_equal(nc == NULL, nr == NULL);
	if (nr != NULL) {
		same_span(c, nc->value, r, nr->value);
		same_span(c, nc->tag, r, nr->tag);
		same_uri(&nc->uri, &nr->uri);
	}
	memset(&ec, 0, sizeof(ec));
	memset(&er, 0, sizeof(er));
	assert_int_equal(msg_check(c, &ec), msg_check(r, &er));
	assert_int_equal(ec.status, er.status);
	assert_int_equal(ec.off, er.off);
	assert_int_equal(ec.reason == NULL, er.reason == NULL);
	if (er.reason != NULL) {
		assert_string_equal(ec.reason, er.reason);
	}
}

static void
assert_compact_is_reparse(struct msg *m)
{
	struct msg *c = msg_compact(m), *r = reparse(m);

	assert_same_as_parse(c, r);
	/* the copy of a copy is the same again */
	if (msg_hdr_total(c) > 0) {
		struct msg *cc2 = msg_compact(c);
		assert_non_null(cc2);
		assert_int_equal(msg_size(cc2), msg_size(r));
		msg_free(cc2);
	}
	msg_free(c);
	msg_free(r);
}

static void
test_compact_is_reparse(void **state)
{
	struct msg *m;

	(void)state;
	/* untouched, and with the top Via and CSeq cached */
	m = parse_str(req_text);
	assert_compact_is_reparse(m);
	assert_non_null(msg_via_top(m));
	assert_non_null(msg_cseq(m));
	assert_compact_is_reparse(m);

	/* edits: a pushed Via, values with white space around them, a
	 * removed line, a new Request-URI and body */
	assert_true(msg_via_push(m, SV_LIT("SIP/2.0/UDP 192.0.2.9:5070"
	                                   ";branch=z9hG4bKp1;rport")) >= 0);
	assert_non_null(msg_via_top(m));
	assert_true(msg_hdr_append(m, "X-Pad", SV_LIT(" \t padded \t ")) >= 0);
	assert_true(msg_hdr_append(m, "X-Empty", SV_LIT("")) >= 0);
	assert_true(msg_hdr_append(m, "X-Blank", SV_LIT("   ")) >= 0);
	assert_int_equal(msg_hdr_remove(m, msg_hdr_first(m, HDR_CONTACT)), 0);
	assert_int_equal(msg_set_ruri(m, SV_LIT("sip:carol@[2001:db8::1]:5080"
	                                        ";transport=tcp?x=y")),
	                 0);
	assert_compact_is_reparse(m);
	assert_int_equal(msg_set_body(m, NULL, SV_LIT("v=0\r\no=x\r\n")), 0);
	assert_compact_is_reparse(m);
	assert_int_equal(msg_via_pop(m), 0);
	assert_compact_is_reparse(m);

	/* a CSeq cached as malformed that the copy's trimming repairs */
	assert_int_equal(msg_hdr_remove_all(m, HDR_CSEQ), 1);
	assert_true(msg_hdr_append(m, "CSeq", SV_LIT(" 7 INVITE")) >= 0);
	assert_null(msg_cseq(m));
	assert_compact_is_reparse(m);
	/* and a top Via cached as malformed */
	assert_true(msg_via_push(m, SV_LIT("SIP/2.0/UDP bad host")) >= 0);
	assert_null(msg_via_top(m));
	assert_compact_is_reparse(m);
	msg_free(m);

	/* CRLF before the start line, bare LF, folding, compact forms,
	 * several Via values on one line, Content-Length short of the body */
	m = parse_str("\r\n\r\nSIP/2.0 180\n"
	              "v: SIP/2.0/UDP a.example.com;branch=z9hG4bKa ,\n"
	              " SIP/2.0/TCP [2001:db8::2]:5061;branch=z9hG4bKb\n"
	              "f: <sip:alice@atlanta.example.com>;tag=1\n"
	              "t: Bob <sip:bob@biloxi.example.com>;tag=2\n"
	              "i: abc@def\n"
	              "CSeq: 9 INVITE\n"
	              "l: 2\n"
	              "\nxyz");
	assert_compact_is_reparse(m);
	assert_non_null(msg_via_top(m));
	assert_compact_is_reparse(m);
	assert_int_equal(msg_via_pop(m), 0);
	assert_compact_is_reparse(m);
	assert_non_null(msg_via_top(m));
	assert_compact_is_reparse(m);
	assert_int_equal(msg_via_pop(m), 0);
	assert_compact_is_reparse(m);
	msg_free(m);

	/* a Content-Length over the bytes given, a bad Request-URI */
	m = parse_str("INVITE sip:@@ SIP/2.0\r\n"
	              "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	              "Content-Length: 10\r\n\r\nab");
	assert_compact_is_reparse(m);
	msg_free(m);
	m = parse_str("INVITE sip:x SIP/2.0 extra\r\n\r\n");
	assert_compact_is_reparse(m);
	msg_free(m);
}

/*
 * The parsed list of a header id is kept on its first line: every edit of
 * that id drops it, whichever line it touches, and a list malformed once
 * is malformed until an edit.  More elements than list_get() remembers
 * the ends of are parsed too.
 */
static void
test_list_cache_edits(void **state)
{
	struct msg *m;
	const struct msg_naddr *r;
	char many[40 * 32], *p;
	int first;

	(void)state;
	m = parse_str("OPTIONS sip:bob@example.com SIP/2.0\r\n"
	              "Route: <sip:a.example.com;lr>, <sip:b.example.com;lr>\r\n"
	              "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	              "Route: <sip:c.example.com;lr>\r\n"
	              "Content-Length: 0\r\n\r\n");
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 3);
	assert_span_equal(m, r[2].uri.host, "c.example.com");
	first = msg_hdr_first(m, HDR_ROUTE);

	/* a line before the first: the list starts with it */
	assert_true(msg_hdr_insert(m, first, "Route",
	                           SV_LIT("<sip:z.example.com;lr>")) >= 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 4);
	assert_span_equal(m, r[0].uri.host, "z.example.com");
	assert_span_equal(m, r[1].uri.host, "a.example.com");

	/* the new first line removed: the old first is first again, and
	 * its list is not the one it had */
	assert_int_equal(msg_hdr_remove(m, msg_hdr_first(m, HDR_ROUTE)), 0);
	assert_int_equal(msg_hdr_replace(m, first,
	                                 SV_LIT("<sip:y.example.com;lr>")),
	                 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 2);
	assert_span_equal(m, r[0].uri.host, "y.example.com");
	assert_span_equal(m, r[1].uri.host, "c.example.com");

	/* a later line made malformed, then good again */
	assert_int_equal(msg_hdr_replace(m, msg_hdr_next(m, first),
	                                 SV_LIT("<sip:c.example.com;lr")),
	                 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), -EINVAL);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), -EINVAL);
	assert_int_equal(msg_hdr_replace(m, msg_hdr_next(m, first),
	                                 SV_LIT("<sip:x.example.com;lr>")),
	                 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 2);
	assert_span_equal(m, r[1].uri.host, "x.example.com");

	/* 40 elements on one line, then one line more */
	p = many;
	for (int i = 0; i < 40; i++) {
		p += sprintf(p, "%s<sip:h%d.example.com;lr>", i ? "," : "", i);
	}
	assert_int_equal(msg_hdr_replace(m, first,
	                                 (struct sv){ many,
	                                              (size_t)(p - many) }),
	                 0);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 41);
	assert_span_equal(m, r[0].uri.host, "h0.example.com");
	assert_span_equal(m, r[16].uri.host, "h16.example.com");
	assert_span_equal(m, r[39].uri.host, "h39.example.com");
	assert_span_equal(m, r[40].uri.host, "x.example.com");
	assert_int_equal(r[39].hdr, first);
	assert_int_equal(r[40].hdr, msg_hdr_next(m, first));
	msg_free(m);
}

/* An appended line over the line limit fails a parse, and the copy. */
static void
test_compact_line_limit(void **state)
{
	static const char small[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
	                            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                            "CSeq: 1 OPTIONS\r\n\r\n";
	struct msg_limits lim;
	struct msg *m, *c;
	char big[200], *out;
	size_t len;

	(void)state;
	msg_limits_init(&lim);
	lim.max_line = 100;
	m = msg_parse(small, sizeof(small) - 1, &lim, NULL);
	assert_non_null(m);
	memset(big, 'a', sizeof(big));
	/* "X-Big: " and CRLF around 92 bytes: 101 bytes, the line limit
	 * with its LF */
	assert_true(msg_hdr_append(m, "X-Big", (struct sv){ big, 92 }) >= 0);
	c = msg_compact(m);
	assert_non_null(c);
	msg_free(c);
	out = write_all(m, &len);
	c = msg_parse(out, len, &lim, NULL);
	assert_non_null(c);
	msg_free(c);
	free(out);
	assert_true(msg_hdr_append(m, "X-Big", (struct sv){ big, 93 }) >= 0);
	assert_null(msg_compact(m));
	out = write_all(m, &len);
	assert_null(msg_parse(out, len, &lim, NULL));
	free(out);
	msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_response_vias_in_order),
	    cmocka_unit_test(test_response_copies),
	    cmocka_unit_test(test_response_to_tag),
	    cmocka_unit_test(test_response_reason),
	    cmocka_unit_test(test_response_needs),
	    cmocka_unit_test(test_response_malformed),
	    cmocka_unit_test(test_response_write_same_bytes),
	    cmocka_unit_test(test_edit_folded),
	    cmocka_unit_test(test_list_cache_edits),
	    cmocka_unit_test(test_hdr_append),
	    cmocka_unit_test(test_hdr_insert),
	    cmocka_unit_test(test_hdr_remove),
	    cmocka_unit_test(test_hdr_remove_all),
	    cmocka_unit_test(test_hdr_replace),
	    cmocka_unit_test(test_via_push_pop),
	    cmocka_unit_test(test_via_pop_comma),
	    cmocka_unit_test(test_via_set_received),
	    cmocka_unit_test(test_via_set_received_cache),
	    cmocka_unit_test(test_value_check_prefilter),
	    cmocka_unit_test(test_via_set_received_long),
	    cmocka_unit_test(test_set_ruri),
	    cmocka_unit_test(test_set_body),
	    cmocka_unit_test(test_write_identity),
	    cmocka_unit_test(test_response_add_lines_same_bytes),
	    cmocka_unit_test(test_write_enospc),
	    cmocka_unit_test(test_write_runs),
	    cmocka_unit_test(test_insert_id),
	    cmocka_unit_test(test_remove_chain),
	    cmocka_unit_test(test_compact_is_reparse),
	    cmocka_unit_test(test_compact_line_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
