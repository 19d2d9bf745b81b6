/*
 * Unit tests for sipd/msg parsing: the start line, the header index, the
 * parse limits and the typed header accessors (RFC 3261 sections 7, 8.2,
 * 20 and 25).  URIs have their own tests in test_uri.c.  Each test parses a
 * message written here and checks the exact values the API returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "sipd/msg/msg_int.h"
#include "sipd/msg/siphash.h"

/* ------------------------------------------------------------- helpers */

#define REQ_LINE "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
#define VIA_1                                                                  \
	"Via: SIP/2.0/UDP "                                                    \
	"pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
#define MAXF "Max-Forwards: 70\r\n"
#define TO_1 "To: Bob <sip:bob@biloxi.example.com>\r\n"
#define FROM_1 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
#define CALLID_1 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
#define CSEQ_1 "CSeq: 314159 INVITE\r\n"
#define CL_0 "Content-Length: 0\r\n"

/* A complete INVITE: 7 header lines. */
#define INVITE_MSG REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n"

static void
check_sv(struct sv got, const char *want, const char *file, int line)
{
	char buf[8192];
	size_t n = got.len < sizeof(buf) - 1 ? got.len : sizeof(buf) - 1;

	if (n > 0) {
		memcpy(buf, got.p, n);
	}
	buf[n] = '\0';
	_assert_string_equal(buf, want, file, line);
	_assert_int_equal(got.len, strlen(want), file, line);
}

#define assert_sv_equal(got, want) check_sv((got), (want), __FILE__, __LINE__)
#define assert_span_equal(m, s, want)                                          \
	check_sv(msg_sv((m), (s)), (want), __FILE__, __LINE__)

static struct msg *
parse_lim(const char *s, const struct msg_limits *lim, struct msg_err *err)
{
	struct msg_err local;

	memset(&local, 0, sizeof(local));
	return msg_parse(s, strlen(s), lim, err != NULL ? err : &local);
}

static struct msg *
parse_ok(const char *s)
{
	struct msg_err err;
	struct msg *m;

	memset(&err, 0, sizeof(err));
	m = msg_parse(s, strlen(s), NULL, &err);
	if (m == NULL) {
		fail_msg("msg_parse refused (%d %s at %u): %s", err.status,
		         err.reason != NULL ? err.reason : "(null)", err.off,
		         s);
	}
	return m;
}

/*
 * The standard INVITE with extra header lines (each ending in CRLF)
 * inserted before Content-Length.
 */
static struct msg *
invite_with(const char *extra)
{
	char buf[16384];
	int n;

	n = snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s%s%s\r\n", REQ_LINE,
	             VIA_1, MAXF, TO_1, FROM_1, CALLID_1, CSEQ_1, extra, CL_0);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return parse_ok(buf);
}

/* A request with exactly these header lines after the start line. */
static struct msg *
request_with(const char *start, const char *hdrs)
{
	char buf[16384];
	int n;

	n = snprintf(buf, sizeof(buf), "%s%s\r\n", start, hdrs);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return parse_ok(buf);
}

static void
assert_check_ok(struct msg *m)
{
	struct msg_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = msg_check(m, &err);
	if (rc != 0) {
		fail_msg("msg_check failed: %d %s", err.status,
		         err.reason != NULL ? err.reason : "(null)");
	}
}

static void
check_fails(struct msg *m, int status, const char *reason, const char *file,
            int line)
{
	struct msg_err err;

	memset(&err, 0, sizeof(err));
	_assert_int_equal(msg_check(m, &err), -EINVAL, file, line);
	_assert_int_equal(err.status, status, file, line);
	_assert_true(err.reason != NULL, "reason", file, line);
	_assert_string_equal(err.reason, reason, file, line);
}

#define assert_check_fails(m, status, reason)                                  \
	check_fails((m), (status), (reason), __FILE__, __LINE__)

static int
hdr_index_named(const struct msg *m, const char *name)
{
	unsigned i;

	for (i = 0; i < msg_hdr_total(m); i++) {
		const struct msg_hdr *h = msg_hdr_at(m, (int)i);

		if (h != NULL && sv_eq(msg_sv(m, h->name),
		                       (struct sv){name, strlen(name)})) {
			return (int)i;
		}
	}
	return -1;
}

/* --------------------------------------------------------- start line */

static void
test_request_line(void **state)
{
	struct msg *m;

	(void)state;
	m = parse_ok(INVITE_MSG);
	assert_true(msg_is_request(m));
	assert_int_equal(msg_method(m), MSG_INVITE);
	assert_sv_equal(msg_method_name(m), "INVITE");
	assert_span_equal(m, msg_ruri_span(m), "sip:bob@biloxi.example.com");
	assert_non_null(msg_ruri(m));
	assert_int_equal(msg_ruri(m)->scheme, URI_SIP);
	assert_span_equal(m, msg_ruri(m)->host, "biloxi.example.com");
	assert_int_equal(msg_body(m).len, 0);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_method_tokens(void **state)
{
	static const struct {
		const char *name;
		enum msg_method id;
	} methods[] = {
	    {"INVITE", MSG_INVITE},     {"ACK", MSG_ACK},
	    {"BYE", MSG_BYE},           {"CANCEL", MSG_CANCEL},
	    {"REGISTER", MSG_REGISTER}, {"OPTIONS", MSG_OPTIONS},
	    {"INFO", MSG_INFO},         {"PRACK", MSG_PRACK},
	    {"UPDATE", MSG_UPDATE},     {"SUBSCRIBE", MSG_SUBSCRIBE},
	    {"NOTIFY", MSG_NOTIFY},     {"REFER", MSG_REFER},
	    {"MESSAGE", MSG_MESSAGE},   {"PUBLISH", MSG_PUBLISH},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char buf[1024];
		struct msg *m;

		assert_int_equal(
		    msg_method_lookup(methods[i].name, strlen(methods[i].name)),
		    methods[i].id);
		assert_string_equal(msg_method_str(methods[i].id),
		                    methods[i].name);
		snprintf(buf, sizeof(buf),
		         "%s sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_1 MAXF
		             TO_1 FROM_1 CALLID_1 "CSeq: 7 %s\r\n" CL_0 "\r\n",
		         methods[i].name, methods[i].name);
		m = parse_ok(buf);
		assert_true(msg_is_request(m));
		assert_int_equal(msg_method(m), methods[i].id);
		assert_sv_equal(msg_method_name(m), methods[i].name);
		assert_check_ok(m);
		msg_free(m);
	}
	/* RFC 3261 7.1: the method is case-sensitive */
	assert_int_equal(msg_method_lookup("invite", 6), MSG_METHOD_OTHER);
	assert_int_equal(msg_method_lookup("Invite", 6), MSG_METHOD_OTHER);
	assert_int_equal(msg_method_lookup("INVITEX", 7), MSG_METHOD_OTHER);
	assert_int_equal(msg_method_lookup("INVIT", 5), MSG_METHOD_OTHER);
}

static void
test_method_case_sensitive(void **state)
{
	struct msg *m;

	(void)state;
	m = parse_ok("invite sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_1 MAXF
	                 TO_1 FROM_1 CALLID_1 "CSeq: 1 invite\r\n" CL_0 "\r\n");
	assert_true(msg_is_request(m));
	assert_int_equal(msg_method(m), MSG_METHOD_OTHER);
	assert_sv_equal(msg_method_name(m), "invite");
	assert_check_ok(m);
	msg_free(m);
}

static void
test_extension_method(void **state)
{
	/* RFC 3261 25.1: Method = INVITEm / ... / extension-method (token) */
	static const char tok[] = "!interesting-Method0123456789_*+`.%indeed'~";
	char buf[2048];
	struct msg *m;

	(void)state;
	snprintf(buf, sizeof(buf),
	         "%s sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_1 MAXF TO_1
	             FROM_1 CALLID_1 "CSeq: 3882340 %s\r\n" CL_0 "\r\n",
	         tok, tok);
	m = parse_ok(buf);
	assert_true(msg_is_request(m));
	assert_int_equal(msg_method(m), MSG_METHOD_OTHER);
	assert_sv_equal(msg_method_name(m), tok);
	assert_non_null(msg_cseq(m));
	assert_int_equal(msg_cseq(m)->num, 3882340);
	assert_int_equal(msg_cseq(m)->method, MSG_METHOD_OTHER);
	assert_span_equal(m, msg_cseq(m)->method_s, tok);
	assert_check_ok(m);
	msg_free(m);

	/* an extension method whose CSeq names another method */
	m = parse_ok("FOO sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_1 MAXF
	                 TO_1 FROM_1 CALLID_1 "CSeq: 1 BAR\r\n" CL_0 "\r\n");
	assert_check_fails(m, 400, "CSeq Method Mismatch");
	msg_free(m);
}

static void
test_version(void **state)
{
	struct msg *m;
	struct msg_err err;

	(void)state;
	/* RFC 3261 7.1: the SIP-Version string is case-insensitive */
	m = parse_ok("INVITE sip:bob@biloxi.example.com sip/2.0\r\n" VIA_1 MAXF
	                 TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n");
	assert_check_ok(m);
	msg_free(m);

	/* RFC 3261 21.5.6: 505 for a SIP version the server does not speak */
	m = parse_ok("INVITE sip:bob@biloxi.example.com SIP/7.0\r\n" VIA_1 MAXF
	                 TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n");
	assert_check_fails(m, 505, "Version Not Supported");
	msg_free(m);

	m = parse_ok("OPTIONS sip:bob@biloxi.example.com SIP/2.1\r\n" VIA_1 MAXF
	                 TO_1 FROM_1 CALLID_1 "CSeq: 2 OPTIONS\r\n" CL_0
	             "\r\n");
	assert_check_fails(m, 505, "Version Not Supported");
	msg_free(m);

	/* no version: refused at once, or answered 400 */
	memset(&err, 0, sizeof(err));
	m = parse_lim("INVITE sip:bob@biloxi.example.com\r\n" VIA_1 MAXF TO_1
	                  FROM_1 CALLID_1 CSEQ_1 CL_0 "\r\n",
	              NULL, &err);
	if (m != NULL) {
		assert_check_fails(m, 400, "Bad Request Line");
		msg_free(m);
	} else {
		assert_non_null(err.reason);
	}

	/* not a token where the method should be */
	memset(&err, 0, sizeof(err));
	m = parse_lim("\x16\x03\x01\x02\x00\x01\r\n" VIA_1 CL_0 "\r\n", NULL,
	              &err);
	assert_null(m);
	assert_non_null(err.reason);

	memset(&err, 0, sizeof(err));
	m = parse_lim("HELLO\r\n" VIA_1 CL_0 "\r\n", NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static struct msg *
response_with(const char *status_line)
{
	char buf[2048];
	struct msg_err err;

	snprintf(buf, sizeof(buf),
	         "%s" VIA_1
	         "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n" FROM_1
	             CALLID_1 CSEQ_1 CL_0 "\r\n",
	         status_line);
	memset(&err, 0, sizeof(err));
	return msg_parse(buf, strlen(buf), NULL, &err);
}

static void
test_status_codes(void **state)
{
	static const int good[] = {100, 180, 199, 200, 302,
	                           404, 486, 599, 600, 699};
	size_t i;
	struct msg *m;
	struct msg_err err;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char line[64];

		snprintf(line, sizeof(line), "SIP/2.0 %d Whatever\r\n",
		         good[i]);
		m = response_with(line);
		assert_non_null(m);
		assert_false(msg_is_request(m));
		assert_int_equal(msg_status(m), good[i]);
		assert_sv_equal(msg_reason(m), "Whatever");
		assert_int_equal(msg_ruri_span(m).len, 0);
		assert_check_ok(m);
		msg_free(m);
	}

	/* RFC 3261 7.2 / 21: Status-Code is 3DIGIT, classes 1xx to 6xx */
	{
		static const char *bad[] = {
		    "SIP/2.0 99 Low\r\n",    "SIP/2.0 1000 High\r\n",
		    "SIP/2.0 700 Seven\r\n", "SIP/2.0 099 Zero\r\n",
		    "SIP/2.0 2x0 Hex\r\n",   "SIP/2.0 -20 Neg\r\n"};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			m = response_with(bad[i]);
			if (m != NULL) {
				/* a broken response gets no response */
				memset(&err, 0, sizeof(err));
				if (msg_check(m, &err) != -EINVAL) {
					fail_msg("accepted: %s", bad[i]);
				}
				assert_int_equal(err.status, 0);
				msg_free(m);
			}
		}
	}
}

static void
test_reason_phrase(void **state)
{
	struct msg *m;

	(void)state;
	/* RFC 3261 25.1: Reason-Phrase allows UTF8-NONASCII, SP and HTAB */
	m = response_with("SIP/2.0 200 Tr\xc3\xa8"
	                  "s bien, \xe2\x9c\x93\tok\r\n");
	assert_non_null(m);
	assert_int_equal(msg_status(m), 200);
	assert_sv_equal(msg_reason(m), "Tr\xc3\xa8"
	                               "s bien, \xe2\x9c\x93\tok");
	assert_check_ok(m);
	msg_free(m);

	/* an empty Reason-Phrase is legal */
	m = response_with("SIP/2.0 404 \r\n");
	assert_non_null(m);
	assert_int_equal(msg_status(m), 404);
	assert_int_equal(msg_reason(m).len, 0);
	assert_check_ok(m);
	msg_free(m);
}

/* ------------------------------------------------------- header index */

struct hdr_row {
	enum hdr_id id;
	const char *name;
	char compact;
};

static const struct hdr_row hdr_rows[] = {
#define HDR(id, name, compact, flags) {HDR_##id, name, compact},
#include "sipd/msg/hdrs.def"
#undef HDR
};

#define N_HDR_ROWS (sizeof(hdr_rows) / sizeof(hdr_rows[0]))

static void
test_hdr_lookup_names(void **state)
{
	size_t i, j;

	(void)state;
	assert_int_equal(N_HDR_ROWS, HDR__COUNT - 1);
	for (i = 0; i < N_HDR_ROWS; i++) {
		const char *name = hdr_rows[i].name;
		size_t len = strlen(name);
		char up[64], low[64], alt[64];

		assert_true(len < sizeof(up));
		for (j = 0; j <= len; j++) {
			unsigned char c = (unsigned char)name[j];

			up[j] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
			low[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
			alt[j] = (char)((j % 2) ? up[j] : low[j]);
		}
		assert_int_equal(hdr_lookup(name, len), hdr_rows[i].id);
		assert_int_equal(hdr_lookup(up, len), hdr_rows[i].id);
		assert_int_equal(hdr_lookup(low, len), hdr_rows[i].id);
		assert_int_equal(hdr_lookup(alt, len), hdr_rows[i].id);
		assert_string_equal(hdr_name(hdr_rows[i].id), name);
		/* a prefix of a known name is not that name */
		if (len > 2) {
			enum hdr_id p = hdr_lookup(name, len - 1);

			assert_int_not_equal(p, hdr_rows[i].id);
		}
	}
	assert_null(hdr_name(HDR_UNKNOWN));
	assert_int_equal(hdr_lookup("X-Unknown", 9), HDR_UNKNOWN);
	assert_int_equal(hdr_lookup("Vias", 4), HDR_UNKNOWN);
	assert_int_equal(hdr_lookup("q", 1), HDR_UNKNOWN);
	assert_int_equal(hdr_lookup("", 0), HDR_UNKNOWN);
	/* the length bounds the name: "Via" inside "Viaduct" */
	assert_int_equal(hdr_lookup("Viaduct", 3), HDR_VIA);
}

/*
 * The id of the first row whose name (or compact form, for one byte) is
 * n[0..len) in any case, or HDR_UNKNOWN.
 */
static enum hdr_id
row_id(const char *n, size_t len)
{
	for (size_t i = 0; i < N_HDR_ROWS; i++) {
		if (len == 1 && hdr_rows[i].compact != 0 &&
		    (n[0] | 0x20) == hdr_rows[i].compact) {
			return hdr_rows[i].id;
		}
		if (strlen(hdr_rows[i].name) == len &&
		    strncasecmp(hdr_rows[i].name, n, len) == 0) {
			return hdr_rows[i].id;
		}
	}
	return HDR_UNKNOWN;
}

/*
 * Every known name with one byte changed, at every position, to a byte
 * of a set that folds near letters and '-' (0x20 apart, control bytes,
 * the top bit), every prefix, and with one byte glued on or the first
 * dropped: hdr_lookup() finds exactly the known name the text spells in
 * any case, whatever word of the name the change falls in.  Names longer
 * than any known one are unknown.
 */
static void
test_hdr_lookup_changed(void **state)
{
	static const char subst[] = "aZz-_0.\r\x0d\x8d\xc1\x01 :@`{";
	char n[64];

	(void)state;
	for (size_t i = 0; i < N_HDR_ROWS; i++) {
		const char *name = hdr_rows[i].name;
		size_t len = strlen(name);

		for (size_t j = 0; j < len; j++) {
			for (size_t k = 0; k < sizeof(subst) - 1; k++) {
				memcpy(n, name, len);
				n[j] = subst[k];
				assert_int_equal(hdr_lookup(n, len), row_id(n, len));
			}
		}
		for (size_t j = 1; j < len; j++) {
			assert_int_equal(hdr_lookup(name, j), row_id(name, j));
		}
		memcpy(n, name, len);
		n[len] = 's';
		assert_int_equal(hdr_lookup(n, len + 1), row_id(n, len + 1));
		assert_int_equal(hdr_lookup(name + 1, len - 1),
		                 row_id(name + 1, len - 1));
	}
	assert_int_equal(hdr_lookup("Proxy-Authorization-Extra", 25),
	                 HDR_UNKNOWN);
	assert_int_equal(hdr_lookup("Proxy-Authorization-Extra-Long", 30),
	                 HDR_UNKNOWN);
}

/* The method id whose name is exactly p[0..len), by a scan of them all. */
static enum msg_method
method_scan(const char *p, size_t len)
{
	for (int id = MSG_INVITE; id <= MSG_PUBLISH; id++) {
		const char *n = msg_method_str((enum msg_method)id);

		if (strlen(n) == len && memcmp(n, p, len) == 0) {
			return (enum msg_method)id;
		}
	}
	return MSG_METHOD_OTHER;
}

/*
 * RFC 3261 7.1: methods are case-sensitive.  Every method name, each with
 * one byte changed at every position (a letter's other case, a
 * neighbour, a digit, NUL), every prefix, one byte glued on: the lookup
 * finds exactly the method a scan of the names finds.
 */
static void
test_method_lookup_changed(void **state)
{
	static const char subst[] = "aAZ@[0\x80";
	char n[16];

	(void)state;
	for (int id = MSG_INVITE; id <= MSG_PUBLISH; id++) {
		const char *name = msg_method_str((enum msg_method)id);
		size_t len = strlen(name);

		assert_int_equal(msg_method_lookup(name, len), id);
		for (size_t j = 0; j < len; j++) {
			for (size_t k = 0; k < sizeof(subst); k++) {
				memcpy(n, name, len);
				n[j] = k < sizeof(subst) - 1
				           ? subst[k]
				           : (char)(name[j] | 0x20);
				assert_int_equal(msg_method_lookup(n, len),
				                 method_scan(n, len));
			}
			assert_int_equal(msg_method_lookup(name, j),
			                 method_scan(name, j));
		}
		memcpy(n, name, len);
		n[len] = 'S';
		assert_int_equal(msg_method_lookup(n, len + 1),
		                 method_scan(n, len + 1));
	}
	assert_int_equal(msg_method_lookup("", 0), MSG_METHOD_OTHER);
}

/* The id the parser gives the header line "NAME: x-mark" in an INVITE. */
static enum hdr_id
parsed_id(const char *name)
{
	char line[128];
	enum hdr_id id = HDR__COUNT;
	struct msg *m;
	unsigned i;

	assert_true(snprintf(line, sizeof(line), "%s: x-mark\r\n", name) <
	            (int)sizeof(line));
	m = invite_with(line);
	for (i = 0; i < msg_hdr_total(m); i++) {
		const struct msg_hdr *h = msg_hdr_at(m, (int)i);
		struct sv v = msg_sv(m, h->value);

		if (v.len == 6 && memcmp(v.p, "x-mark", 6) == 0) {
			id = (enum hdr_id)h->id;
		}
	}
	msg_free(m);
	return id;
}

/*
 * RFC 3261 7.3.1: the parser knows a header line by its name in any case,
 * as hdr_lookup() does, and a token that differs from a name in a byte
 * other than a letter's case is no known header ('_' for '-' differs from
 * it only in 0x20, as a letter's case does).
 */
static void
test_hdr_names_parsed(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_HDR_ROWS; i++) {
		const char *name = hdr_rows[i].name;
		size_t len = strlen(name);
		char up[64], low[64], alt[64], under[64];

		assert_true(len < sizeof(up));
		for (j = 0; j <= len; j++) {
			unsigned char c = (unsigned char)name[j];

			up[j] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
			low[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
			alt[j] = (char)((j % 2) ? up[j] : low[j]);
			under[j] = (char)(c == '-' ? '_' : c);
		}
		assert_int_equal(parsed_id(name), hdr_rows[i].id);
		assert_int_equal(parsed_id(up), hdr_rows[i].id);
		assert_int_equal(parsed_id(low), hdr_rows[i].id);
		assert_int_equal(parsed_id(alt), hdr_rows[i].id);
		if (strchr(name, '-') != NULL) {
			assert_int_equal(parsed_id(under), HDR_UNKNOWN);
		}
		if (len > 2) {
			low[len - 1] = '\0';
			assert_int_not_equal(parsed_id(low), hdr_rows[i].id);
		}
	}
	assert_int_equal(parsed_id("X-Unknown"), HDR_UNKNOWN);
	assert_int_equal(parsed_id("Vias"), HDR_UNKNOWN);
	assert_int_equal(parsed_id("V"), HDR_VIA);
}

static void
test_hdr_lookup_compact(void **state)
{
	size_t i;
	int found = 0;

	(void)state;
	for (i = 0; i < N_HDR_ROWS; i++) {
		char c = hdr_rows[i].compact;
		char up;

		if (c == 0) {
			continue;
		}
		found++;
		up = (char)(c - 32);
		assert_int_equal(hdr_lookup(&c, 1), hdr_rows[i].id);
		/* RFC 3261 7.3.1: field names are case-insensitive */
		assert_int_equal(hdr_lookup(&up, 1), hdr_rows[i].id);
	}
	/* RFC 3261 7.3.3 alone defines i m e l c f s k t v */
	assert_true(found >= 10);
	assert_int_equal(hdr_lookup("i", 1), HDR_CALL_ID);
	assert_int_equal(hdr_lookup("m", 1), HDR_CONTACT);
	assert_int_equal(hdr_lookup("e", 1), HDR_CONTENT_ENCODING);
	assert_int_equal(hdr_lookup("l", 1), HDR_CONTENT_LENGTH);
	assert_int_equal(hdr_lookup("c", 1), HDR_CONTENT_TYPE);
	assert_int_equal(hdr_lookup("f", 1), HDR_FROM);
	assert_int_equal(hdr_lookup("s", 1), HDR_SUBJECT);
	assert_int_equal(hdr_lookup("k", 1), HDR_SUPPORTED);
	assert_int_equal(hdr_lookup("t", 1), HDR_TO);
	assert_int_equal(hdr_lookup("v", 1), HDR_VIA);
}

/* Every compact form, written in a message, indexes as its header. */
static void
test_index_compact_forms(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_HDR_ROWS; i++) {
		char extra[64];
		struct msg *m;
		int idx;
		const struct msg_hdr *h;

		if (hdr_rows[i].compact == 0) {
			continue;
		}
		snprintf(extra, sizeof(extra), "%c: compact-%c\r\n",
		         hdr_rows[i].compact, hdr_rows[i].compact);
		m = invite_with(extra);
		snprintf(extra, sizeof(extra), "%c", hdr_rows[i].compact);
		idx = hdr_index_named(m, extra);
		assert_true(idx >= 0);
		h = msg_hdr_at(m, idx);
		assert_non_null(h);
		assert_int_equal(h->id, hdr_rows[i].id);
		snprintf(extra, sizeof(extra), "compact-%c",
		         hdr_rows[i].compact);
		assert_span_equal(m, h->value, extra);
		assert_true(msg_hdr_count(m, hdr_rows[i].id) >= 1);
		msg_free(m);
	}
}

static void
test_index_case_insensitive(void **state)
{
	struct msg *m;
	int idx;

	(void)state;
	m = request_with(
	    "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n",
	    "vIA: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK1\r\n"
	    "MAX-FORWARDS: 70\r\n"
	    "tO: <sip:bob@biloxi.example.com>\r\n"
	    "FROM: <sip:alice@atlanta.example.com>;tag=88\r\n"
	    "cAlL-Id: case@example.com\r\n"
	    "cseq: 9 OPTIONS\r\n"
	    "CONTENT-LENGTH: 0\r\n");
	assert_int_equal(msg_hdr_total(m), 7);
	assert_int_equal(msg_hdr_at(m, 0)->id, HDR_VIA);
	assert_int_equal(msg_hdr_at(m, 1)->id, HDR_MAX_FORWARDS);
	assert_int_equal(msg_hdr_at(m, 2)->id, HDR_TO);
	assert_int_equal(msg_hdr_at(m, 3)->id, HDR_FROM);
	assert_int_equal(msg_hdr_at(m, 4)->id, HDR_CALL_ID);
	assert_int_equal(msg_hdr_at(m, 5)->id, HDR_CSEQ);
	assert_int_equal(msg_hdr_at(m, 6)->id, HDR_CONTENT_LENGTH);
	assert_int_equal(msg_hdr_first(m, HDR_CALL_ID), 4);
	assert_sv_equal(msg_callid(m), "case@example.com");
	assert_span_equal(m, msg_hdr_at(m, 4)->name, "cAlL-Id");
	idx = msg_hdr_find(m, SV_LIT("CALL-ID"));
	assert_int_equal(idx, 4);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_index_spans(void **state)
{
	struct msg *m;
	const struct msg_hdr *h;

	(void)state;
	m = invite_with("Subject:    lunch?   \r\n"
	                "Organization:\t\tBoxes by Bob\t\r\n");
	h = msg_hdr_at(m, msg_hdr_first(m, HDR_SUBJECT));
	assert_non_null(h);
	assert_int_equal(h->id, HDR_SUBJECT);
	assert_span_equal(m, h->name, "Subject");
	assert_span_equal(m, h->value, "lunch?");
	assert_span_equal(m, h->line, "Subject:    lunch?   \r\n");
	assert_int_equal(h->next, -1);
	assert_int_equal(h->flags & MSG_HDR_REMOVED, 0);
	assert_sv_equal(msg_hdr_value(m, HDR_ORGANIZATION), "Boxes by Bob");
	/* absent header: empty value, -1 index, count 0 */
	assert_int_equal(msg_hdr_value(m, HDR_PRIORITY).len, 0);
	assert_int_equal(msg_hdr_first(m, HDR_PRIORITY), -1);
	assert_int_equal(msg_hdr_count(m, HDR_PRIORITY), 0);
	assert_int_equal(msg_hdr_find(m, SV_LIT("X-Nothing")), -1);
	assert_null(msg_hdr_at(m, (int)msg_hdr_total(m)));
	assert_null(msg_hdr_at(m, -1));
	msg_free(m);

	/* empty value and no space after the colon */
	m = invite_with("Subject:\r\nX-Tight:v\r\n");
	h = msg_hdr_at(m, msg_hdr_first(m, HDR_SUBJECT));
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	assert_span_equal(m, h->line, "Subject:\r\n");
	h = msg_hdr_at(m, msg_hdr_find(m, SV_LIT("x-tight")));
	assert_non_null(h);
	assert_span_equal(m, h->value, "v");
	msg_free(m);

	/* RFC 3261 7.3.1: white space before the colon */
	m = invite_with("Subject   :  spaced\r\n");
	h = msg_hdr_at(m, msg_hdr_first(m, HDR_SUBJECT));
	assert_non_null(h);
	assert_span_equal(m, h->name, "Subject");
	assert_span_equal(m, h->value, "spaced");
	msg_free(m);
}

static void
test_index_repeated(void **state)
{
	struct msg *m;
	int idx;

	(void)state;
	m = request_with(
	    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
	    "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKa\r\n"
	    "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKb\r\n" MAXF TO_1
	        FROM_1 CALLID_1 CSEQ_1
	    "Via: SIP/2.0/UDP p3.example.com;branch=z9hG4bKc\r\n" CL_0);
	assert_int_equal(msg_hdr_count(m, HDR_VIA), 3);
	idx = msg_hdr_first(m, HDR_VIA);
	assert_int_equal(idx, 0);
	assert_int_equal(msg_hdr_at(m, idx)->next, 1);
	idx = msg_hdr_next(m, idx);
	assert_int_equal(idx, 1);
	assert_span_equal(m, msg_hdr_at(m, idx)->value,
	                  "SIP/2.0/UDP p2.example.com;branch=z9hG4bKb");
	idx = msg_hdr_next(m, idx);
	assert_int_equal(idx, 7);
	assert_span_equal(m, msg_hdr_at(m, idx)->value,
	                  "SIP/2.0/UDP p3.example.com;branch=z9hG4bKc");
	assert_int_equal(msg_hdr_next(m, idx), -1);
	assert_int_equal(msg_hdr_at(m, idx)->next, -1);
	assert_sv_equal(msg_hdr_value(m, HDR_VIA),
	                "SIP/2.0/UDP p1.example.com;branch=z9hG4bKa");
	msg_free(m);
}

static void
test_hdr_values_lists(void **state)
{
	struct msg *m;
	struct span v[8];
	int n;

	(void)state;
	m = invite_with("Supported: timer, 100rel\r\n"
	                "k:path\r\n"
	                "Require:  100rel ,\tprecondition  \r\n"
	                "Proxy-Require: sec-agree\r\n"
	                "Unsupported: foo,bar,baz\r\n");
	n = msg_hdr_values(m, HDR_SUPPORTED, v, 8);
	assert_int_equal(n, 3);
	assert_span_equal(m, v[0], "timer");
	assert_span_equal(m, v[1], "100rel");
	assert_span_equal(m, v[2], "path");
	n = msg_hdr_values(m, HDR_REQUIRE, v, 8);
	assert_int_equal(n, 2);
	assert_span_equal(m, v[0], "100rel");
	assert_span_equal(m, v[1], "precondition");
	n = msg_hdr_values(m, HDR_PROXY_REQUIRE, v, 8);
	assert_int_equal(n, 1);
	assert_span_equal(m, v[0], "sec-agree");
	/* more values than room: the count, and the first max stored */
	memset(v, 0, sizeof(v));
	n = msg_hdr_values(m, HDR_UNSUPPORTED, v, 2);
	assert_int_equal(n, 3);
	assert_span_equal(m, v[0], "foo");
	assert_span_equal(m, v[1], "bar");
	assert_int_equal(v[2].len, 0);
	assert_int_equal(msg_hdr_values(m, HDR_ALLOW, v, 8), 0);
	msg_free(m);
}

static void
test_hdr_values_quotes(void **state)
{
	struct msg *m;
	struct span v[8];
	int n;

	(void)state;
	m = invite_with("Contact: \"Doe, John\" <sip:jd@example.com>, "
	                "<sip:x,y@example.com>;p=\"q,r\"\r\n"
	                "m: <sip:y@example.com>\r\n");
	n = msg_hdr_values(m, HDR_CONTACT, v, 8);
	assert_int_equal(n, 3);
	assert_span_equal(m, v[0], "\"Doe, John\" <sip:jd@example.com>");
	assert_span_equal(m, v[1], "<sip:x,y@example.com>;p=\"q,r\"");
	assert_span_equal(m, v[2], "<sip:y@example.com>");
	msg_free(m);

	m = invite_with("Contact: \"Doe, John <sip:jd@example.com>\r\n");
	assert_int_equal(msg_hdr_values(m, HDR_CONTACT, v, 8), -EINVAL);
	msg_free(m);
}

static void
test_folding(void **state)
{
	struct msg *m;
	const struct msg_via *via;
	const struct msg_hdr *h;

	(void)state;
	/* RFC 3261 7.3.1: a value may continue on lines starting with SP/HT */
	m = request_with(
	    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
	    "Via: SIP/2.0/UDP\r\n   "
	    "pc33.atlanta.example.com\r\n\t;branch=z9hG4bKf1\r\n" MAXF TO_1
	        FROM_1 CALLID_1 "CSeq: 8\r\n  INVITE\r\n"
	    "Subject: I know you're there,\r\n   pick up the phone\r\n"
	    "   and talk to me!\r\n"
	    "X-Folded: one\r\n\ttwo\r\n" CL_0);
	assert_int_equal(msg_hdr_total(m), 9);
	assert_sv_equal(msg_hdr_value(m, HDR_SUBJECT),
	                "I know you're there,\r\n   pick up the phone\r\n   "
	                "and talk to me!");
	h = msg_hdr_at(m, msg_hdr_find(m, SV_LIT("X-Folded")));
	assert_non_null(h);
	assert_span_equal(m, h->value, "one\r\n\ttwo");
	assert_span_equal(m, h->line, "X-Folded: one\r\n\ttwo\r\n");
	via = msg_via_top(m);
	assert_non_null(via);
	assert_span_equal(m, via->transport, "UDP");
	assert_span_equal(m, via->host, "pc33.atlanta.example.com");
	assert_span_equal(m, via->branch, "z9hG4bKf1");
	assert_non_null(msg_cseq(m));
	assert_int_equal(msg_cseq(m)->num, 8);
	assert_int_equal(msg_cseq(m)->method, MSG_INVITE);
	assert_check_ok(m);
	msg_free(m);
}

static void
test_unknown_headers(void **state)
{
	static const char msg[] =
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	    "NewFangledHeader:   newfangled value\r\n continued value  \r\n"
	    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
	    "X-Utf8: \xc3\xa9t\xc3\xa9 \xe2\x82\xac end\r\n" CL_0 "\r\n";
	struct msg *m;
	const struct msg_hdr *h;
	int idx;
	char out[1024];
	int n;

	(void)state;
	m = parse_ok(msg);
	idx = msg_hdr_find(m, SV_LIT("newfangledheader"));
	assert_true(idx >= 0);
	h = msg_hdr_at(m, idx);
	assert_int_equal(h->id, HDR_UNKNOWN);
	assert_span_equal(m, h->name, "NewFangledHeader");
	assert_span_equal(m, h->value, "newfangled value\r\n continued value");
	assert_span_equal(
	    m, h->line,
	    "NewFangledHeader:   newfangled value\r\n continued value  \r\n");
	h = msg_hdr_at(
	    m, msg_hdr_find(m, SV_LIT("UnknownHeaderWithUnusualValue")));
	assert_non_null(h);
	assert_int_equal(h->id, HDR_UNKNOWN);
	assert_span_equal(m, h->value, ";;,,;;,;");
	h = msg_hdr_at(m, msg_hdr_find(m, SV_LIT("X-UTF8")));
	assert_non_null(h);
	assert_span_equal(m, h->value, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac end");
	assert_check_ok(m);
	n = msg_write(m, out, sizeof(out));
	assert_int_equal(n, sizeof(msg) - 1);
	assert_memory_equal(out, msg, sizeof(msg) - 1);
	msg_free(m);
}

/* ------------------------------------------------------------- limits */

static void
test_limit_size(void **state)
{
	static const char msg[] = INVITE_MSG;
	struct msg_limits lim;
	struct msg_err err;
	struct msg *m;

	(void)state;
	msg_limits_init(&lim);
	assert_int_equal(lim.max_size, MSG_DEFAULT_MAX_SIZE);
	assert_int_equal(lim.max_headers, MSG_DEFAULT_MAX_HEADERS);
	assert_int_equal(lim.max_line, MSG_DEFAULT_MAX_LINE);

	lim.max_size = sizeof(msg) - 1;
	m = parse_lim(msg, &lim, NULL);
	assert_non_null(m);
	msg_free(m);

	lim.max_size = sizeof(msg) - 2;
	memset(&err, 0, sizeof(err));
	m = parse_lim(msg, &lim, &err);
	assert_null(m);
	assert_non_null(err.reason);

	lim.max_size = 64;
	memset(&err, 0, sizeof(err));
	m = parse_lim(msg, &lim, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static void
test_limit_headers(void **state)
{
	static const char msg[] = INVITE_MSG; /* 7 header lines */
	struct msg_limits lim;
	struct msg_err err;
	struct msg *m;

	(void)state;
	msg_limits_init(&lim);
	lim.max_headers = 7;
	m = parse_lim(msg, &lim, NULL);
	assert_non_null(m);
	assert_int_equal(msg_hdr_total(m), 7);
	msg_free(m);

	lim.max_headers = 6;
	memset(&err, 0, sizeof(err));
	m = parse_lim(msg, &lim, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static void
test_limit_default_headers(void **state)
{
	char buf[32768];
	size_t off = 0;
	int i;
	struct msg_err err;
	struct msg *m;

	(void)state;
	off += (size_t)snprintf(
	    buf, sizeof(buf), "%s",
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	for (i = 0; i < MSG_DEFAULT_MAX_HEADERS; i++) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		                        "X-H%d: %d\r\n", i, i);
	}
	snprintf(buf + off, sizeof(buf) - off, "\r\n");
	memset(&err, 0, sizeof(err));
	m = msg_parse(buf, strlen(buf), NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static void
test_limit_line(void **state)
{
	struct msg_limits lim;
	struct msg_err err;
	struct msg *m;
	char subj[256];
	char buf[1024];

	(void)state;
	msg_limits_init(&lim);
	lim.max_line = 100;

	memset(subj, 'a', 60);
	subj[60] = '\0';
	snprintf(buf, sizeof(buf), "%sSubject: %s\r\n\r\n",
	         REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0, subj);
	m = parse_lim(buf, &lim, NULL);
	assert_non_null(m);
	msg_free(m);

	memset(subj, 'a', 150);
	subj[150] = '\0';
	snprintf(buf, sizeof(buf), "%sSubject: %s\r\n\r\n",
	         REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0, subj);
	memset(&err, 0, sizeof(err));
	m = parse_lim(buf, &lim, &err);
	assert_null(m);
	assert_non_null(err.reason);

	/* the start line is a line too */
	snprintf(buf, sizeof(buf),
	         "INVITE sip:%s@biloxi.example.com SIP/2.0\r\n%s\r\n", subj,
	         VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	memset(&err, 0, sizeof(err));
	m = parse_lim(buf, &lim, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static void
test_reject_unframeable(void **state)
{
	static const char nul_hdr[] = REQ_LINE VIA_1 MAXF TO_1 FROM_1
	    "Subject: a\0b\r\n" CALLID_1 CSEQ_1 CL_0 "\r\n";
	struct msg_err err;
	struct msg *m;

	(void)state;
	memset(&err, 0, sizeof(err));
	m = msg_parse(nul_hdr, sizeof(nul_hdr) - 1, NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);

	memset(&err, 0, sizeof(err));
	m = msg_parse("", 0, NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);

	memset(&err, 0, sizeof(err));
	m = msg_parse("\r\n\r\n", 4, NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);
}

static void
test_reject_no_end_of_headers(void **state)
{
	/* RFC 3261 7: a start line, header fields, then an empty line that
	 * is there even without a body; msg.h: no end of headers, NULL.
	 * A datagram cut short must not pass for a whole message. */
	static const char no_end[] =
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0;
	static const char cut[] =
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 "CSeq: 314159 INV";
	struct msg_err err;
	struct msg *m;

	(void)state;
	memset(&err, 0, sizeof(err));
	m = msg_parse(cut, sizeof(cut) - 1, NULL, &err);
	assert_null(m);
	assert_non_null(err.reason);

	memset(&err, 0, sizeof(err));
	m = msg_parse(no_end, sizeof(no_end) - 1, NULL, &err);
	if (m != NULL) {
		msg_free(m);
		fail_msg("headers without the empty line were accepted");
	}
	assert_non_null(err.reason);
}

/* --------------------------------------------------------------- body */

static void
test_body(void **state)
{
	struct msg *m;
	uint32_t cl;

	(void)state;
	m = parse_ok(
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	    "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nabcd");
	assert_sv_equal(msg_body(m), "abcd");
	assert_int_equal(msg_content_length(m, &cl), 0);
	assert_int_equal(cl, 4);
	assert_check_ok(m);
	msg_free(m);

	/* RFC 3261 18.3: a datagram's bytes past Content-Length are dropped */
	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "Content-Type: text/plain\r\nl: 4\r\n\r\nabcdEXTRA");
	assert_sv_equal(msg_body(m), "abcd");
	assert_check_ok(m);
	msg_free(m);

	/* a datagram without Content-Length: the body is the rest */
	m = parse_ok(REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	             "Content-Type: text/plain\r\n\r\nall of it\r\n");
	assert_sv_equal(msg_body(m), "all of it\r\n");
	assert_int_equal(msg_content_length(m, &cl), -ENOENT);
	assert_check_ok(m);
	msg_free(m);

	/* Content-Length larger than the bytes present */
	m = parse_ok(
	    REQ_LINE VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1
	    "Content-Type: text/plain\r\nContent-Length: 10\r\n\r\nabcd");
	assert_check_fails(m, 400, "Bad Content-Length");
	msg_free(m);
}

/* ---------------------------------------------------------------- Via */

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

/*
 * Typed values beyond the message's inline arena (2 KiB): 40 Contact
 * and 40 Route values, about 6 KiB each list, parse into arena chunks
 * and read back whole; asked again, the same arrays.
 */
static void
test_values_past_inline_arena(void **state)
{
	char hdrs[8192], *p = hdrs;
	const struct msg_naddr *c, *r, *c2, *r2;
	struct msg *m;
	char want[64];

	(void)state;
	for (int i = 0; i < 40; i++) {
		p += sprintf(p, "Contact: <sip:u%d@h%d.example.com>;expires=%d\r\n",
		             i, i, i);
	}
	for (int i = 0; i < 40; i++) {
		p += sprintf(p, "Route: <sip:r%d.example.com;lr>\r\n", i);
	}
	sprintf(p, VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	m = request_with(REQ_LINE, hdrs);
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c), 40);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r), 40);
	for (int i = 0; i < 40; i++) {
		snprintf(want, sizeof(want), "h%d.example.com", i);
		assert_span_equal(m, c[i].uri.host, want);
		assert_int_equal(c[i].expires, i);
		snprintf(want, sizeof(want), "r%d.example.com", i);
		assert_span_equal(m, r[i].uri.host, want);
	}
	assert_int_equal(msg_naddrs(m, HDR_CONTACT, &c2), 40);
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &r2), 40);
	assert_ptr_equal(c2, c);
	assert_ptr_equal(r2, r);
	assert_check_ok(m);
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

/*
 * Sent-by names read sixteen bytes at a time: names of 1 to 70 bytes of
 * letters, digits, '-' and '.' (one letter at least, so never an
 * address), a '_' put in half of them, alone in the value or before a
 * port and parameters: accepted exactly when every byte is one of those
 * and the first is neither '-' nor '.', with the whole name as host.
 */
static void
test_via_hosts_long(void **state)
{
	static const char abc[] = "abXZ09-.";
	uint32_t seed = 777;
	char host[80], hdrs[1024];

	(void)state;
	for (int round = 0; round < 6000; round++) {
		const struct msg_via *v;
		struct msg *m;
		size_t len;
		bool ok;

		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 16) % 70;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			host[k] = abc[(seed >> 16) % 8];
		}
		seed = seed * 1103515245u + 12345u;
		host[(seed >> 16) % len] = 'q';
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) & 1) {
			host[(seed >> 17) % len] = '_';
		}
		host[len] = '\0';
		ok = strchr(host, '_') == NULL && host[0] != '-' &&
		     host[0] != '.';
		snprintf(hdrs, sizeof(hdrs),
		         "Via: SIP/2.0/UDP %s%s\r\n" MAXF TO_1 FROM_1 CALLID_1
		             CSEQ_1 CL_0,
		         host, round & 2 ? ":5060;branch=z9hG4bK1" : "");
		m = request_with(REQ_LINE, hdrs);
		v = msg_via_top(m);
		if ((v != NULL) != ok) {
			fail_msg("Via host %s: %s", host,
			         v != NULL ? "accepted" : "refused");
		}
		if (v != NULL) {
			assert_int_equal(v->host_type, URI_HOST_NAME);
			assert_span_equal(m, v->host, host);
		}
		msg_free(m);
	}
}

/*
 * Parameter values read sixteen bytes at a time: a Via branch and a From
 * tag of 1 to 60 token characters (the rarer ones among them), a '/' put
 * in some, last on their line or before another parameter: read whole
 * exactly when no '/' is in them.
 */
static void
test_param_values_long(void **state)
{
	static const char abc[] = "aZ09-.aZ09-._!%*+`'~";
	uint32_t seed = 4242;
	char val[64], hdrs[1024];

	(void)state;
	for (int round = 0; round < 8000; round++) {
		const struct msg_via *v;
		const struct msg_naddr *f;
		struct msg *m;
		size_t len;
		bool ok;

		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 16) % 60;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			val[k] = abc[(seed >> 16) % 20];
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0) {
			val[(seed >> 18) % len] = '/';
		}
		val[len] = '\0';
		ok = strchr(val, '/') == NULL;
		snprintf(hdrs, sizeof(hdrs),
		         "Via: SIP/2.0/UDP h.example.com;branch=%s%s\r\n" MAXF
		         TO_1 "From: <sip:a@b.example.com>;tag=%s%s\r\n"
		         CALLID_1 CSEQ_1 CL_0,
		         val, round & 1 ? ";rport" : "", val,
		         round & 2 ? ";x=1" : "");
		m = request_with(REQ_LINE, hdrs);
		v = msg_via_top(m);
		f = msg_from(m);
		if ((v != NULL) != ok || (f != NULL) != ok) {
			fail_msg("value %s: Via %s, From %s", val,
			         v != NULL ? "accepted" : "refused",
			         f != NULL ? "accepted" : "refused");
		}
		if (ok) {
			assert_span_equal(m, v->branch, val);
			assert_span_equal(m, f->tag, val);
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

/* RFC 3261 25.1 callid = word [ "@" word ], the verdict written plainly */
static bool
callid_ref(const char *p, size_t n)
{
	const char *at = memchr(p, '@', n);

	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f) {
			return false;
		}
	}
	return at == NULL || (at != p && at != p + n - 1 &&
	    memchr(at + 1, '@', n - (size_t)(at + 1 - p)) == NULL);
}

static void
test_callid_words(void **state)
{
	/* the check reads eight bytes a step: every place of one '@' or
	 * two, a bad byte anywhere, lengths on both sides of a word */
	static const char alpha[] = "a@~!\x7f\x80 \t";
	uint32_t seed = 12345;
	char v[40], line[80];
	struct msg_err err;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		size_t n = 1 + (size_t)(k % 24);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly letters, so that whole words stay good */
			unsigned r = (seed >> 16) % 24;
			v[i] = r < sizeof(alpha) - 1 ? alpha[r] : 'a';
		}
		/* no white space at the ends: the index trims it */
		v[0] = v[0] == ' ' || v[0] == '\t' ? 'b' : v[0];
		v[n - 1] = v[n - 1] == ' ' || v[n - 1] == '\t' ? 'c' : v[n - 1];
		snprintf(line, sizeof(line), "Call-ID: %.*s\r\n", (int)n, v);
		char hdrs[512];
		snprintf(hdrs, sizeof(hdrs), "%s%s%s%s%s%s%s", VIA_1, MAXF,
		    TO_1, FROM_1, line, CSEQ_1, CL_0);
		struct msg *m = request_with(REQ_LINE, hdrs);
		int rc = msg_check(m, &err);
		if ((rc == 0) != callid_ref(v, n)) {
			fail_msg("Call-ID '%.*s': check %d", (int)n, v, rc);
		}
		if (rc != 0) {
			assert_string_equal(err.reason, "Bad Call-ID");
		}
		msg_free(m);
	}
}

/* The parser takes a name its lookup matched for a token: the table's
 * names must hold letters and '-' only (parse_headers()). */
static void
test_hdr_names_letters(void **state)
{
	(void)state;
	for (int id = 1; id < HDR__COUNT; id++) {
		const char *n = hdr_name((enum hdr_id)id);
		assert_non_null(n);
		for (const char *c = n; *c != '\0'; c++) {
			if (!((*c >= 'A' && *c <= 'Z') ||
			    (*c >= 'a' && *c <= 'z') || *c == '-')) {
				fail_msg("header name %s: byte '%c'", n, *c);
			}
		}
	}
}

/* Names the fast lookup must not take: a control byte that folds to a
 * digit, a known name with a byte glued on, a name of sixteen bytes. */
static void
test_hdr_names_near(void **state)
{
	struct msg *m;
	struct msg_err err;

	(void)state;
	m = invite_with("Via\x10: SIP/2.0/UDP h;branch=z9hG4bKx\r\n");
	assert_int_equal(msg_hdr_count(m, HDR_VIA), 1);
	assert_check_fails(m, 400, "Bad Header Line");
	msg_free(m);

	m = invite_with("Subject@x: hi\r\n");
	assert_int_equal(msg_hdr_count(m, HDR_SUBJECT), 0);
	assert_check_fails(m, 400, "Bad Header Line");
	msg_free(m);

	m = invite_with("X-Sixteen-Bytes1: a\r\nAccept-Encoding : gzip\r\n"
	    "Content-Disposition:session\r\n");
	assert_int_equal(msg_hdr_find(m, SV_LIT("x-sixteen-bytes1")) >= 0, 1);
	assert_int_equal(msg_hdr_count(m, HDR_ACCEPT_ENCODING), 1);
	assert_sv_equal(msg_hdr_value(m, HDR_CONTENT_DISPOSITION), "session");
	assert_int_equal(msg_check(m, &err), 0);
	msg_free(m);
}

/* SipHash fed in pieces of every size equals SipHash of the whole (the
 * reference vectors are in unit/auth) */
static void
test_siphash_pieces(void **state)
{
	uint8_t key[MSG_SIPHASH_KEY], data[100], whole[16], part[16];

	(void)state;
	for (int i = 0; i < MSG_SIPHASH_KEY; i++) {
		key[i] = (uint8_t)(i * 7 + 1);
	}
	for (int i = 0; i < (int)sizeof(data); i++) {
		data[i] = (uint8_t)(i * 13 + 5);
	}
	for (size_t n = 0; n <= sizeof(data); n += 3) {
		for (size_t outlen = 8; outlen <= 16; outlen += 8) {
			msg_siphash(key, data, n, whole, outlen);
			for (size_t step = 1; step <= 19; step++) {
				struct msg_siphash st;
				msg_siphash_start(&st, key, outlen);
				for (size_t k = 0; k < n; k += step) {
					msg_siphash_update(&st, data + k,
					    n - k < step ? n - k : step);
				}
				msg_siphash_final(&st, part);
				assert_memory_equal(whole, part, outlen);
			}
		}
	}
}

static void *
free_msg(void *arg)
{
	msg_free(arg);
	return NULL;
}

static void *
parse_many(void *arg)
{
	struct msg *m[12];

	(void)arg;
	/* more messages live at once than a thread's cache keeps */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 12; i++) {
			m[i] = invite_with("");
		}
		for (int i = 0; i < 12; i++) {
			msg_free(m[i]);
		}
	}
	return NULL;
}

/* A thread's cached message blocks are freed when it exits (a leak
 * under LeakSanitizer otherwise); another thread's blocks are its own. */
static void
test_blocks_thread_exit(void **state)
{
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, parse_many, NULL), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	/* a message parsed on one thread and freed on another */
	struct msg *m = invite_with("");
	assert_int_equal(pthread_create(&t[0], NULL, free_msg, m), 0);
	assert_int_equal(pthread_join(t[0], NULL), 0);
	parse_many(NULL);
}

/* msg_fnv1a(): every byte and the length count; reads stay inside */
static void
test_hash_bytes(void **state)
{
	uint64_t seen[41];

	(void)state;
	for (size_t n = 0; n <= 40; n++) {
		/* exactly n bytes, so AddressSanitizer sees a read past them */
		unsigned char *b = malloc(n ? n : 1);
		assert_non_null(b);
		memset(b, 0, n);
		seen[n] = msg_fnv1a(MSG_FNV_INIT, b, n);
		for (size_t j = 0; j < n; j++) {
			assert_true(seen[j] != seen[n]);
		}
		for (size_t i = 0; i < n; i++) {
			b[i] = 1;
			assert_true(msg_fnv1a(MSG_FNV_INIT, b, n) != seen[n]);
			/* a different seed, a different hash */
			assert_true(msg_fnv1a(1, b, n) != msg_fnv1a(2, b, n));
			b[i] = 0;
		}
		free(b);
	}
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

/* ------------------------------------------------------ bad header lines */

/*
 * A line that is no "name: value" header leaves the message parsed and
 * indexed without it, so that a 400 can be built (RFC 3261 8.2.6.1), and
 * fails msg_check() with Bad Header Line.
 */
static void
test_bad_header_lines(void **state)
{
	static const char *const bad[] = {
		"No colon here\r\n",
		": no name\r\n",
		"Bad Name: x\r\n",
		"X-\x7fY: x\r\n",
		"Subject\r\n",
	};
	struct msg *m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char hdrs[512];

		snprintf(hdrs, sizeof(hdrs), "%s%s%s%s%s%s%s%s", VIA_1, MAXF,
		         bad[i], TO_1, FROM_1, CALLID_1, CSEQ_1, CL_0);
		m = request_with(REQ_LINE, hdrs);
		assert_int_equal(msg_hdr_total(m), 7);
		assert_non_null(msg_via_top(m));
		assert_non_null(msg_from(m));
		assert_check_fails(m, 400, "Bad Header Line");
		msg_free(m);
	}

	/* a fold before any header; and one after a bad line belongs to
	 * it: the next header is still found */
	m = request_with(REQ_LINE, " folded first\r\n" VIA_1 MAXF
	                 "garbage\r\n more garbage: x\r\n" TO_1 FROM_1
	                 CALLID_1 CSEQ_1 CL_0);
	assert_int_equal(msg_hdr_total(m), 7);
	assert_sv_equal(msg_hdr_value(m, HDR_MAX_FORWARDS), "70");
	assert_non_null(msg_to(m));
	assert_check_fails(m, 400, "Bad Header Line");
	msg_free(m);

	/* RFC 3261 7: a CR stands only before LF; a bare one, which
	 * another parser may take for a line end, makes its line bad, so
	 * no header hides behind it */
	m = request_with(REQ_LINE, VIA_1 MAXF
	                 "Subject: hi\rRoute: <sip:evil.example.com;lr>\r\n"
	                 TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_int_equal(msg_hdr_total(m), 7);
	assert_int_equal(msg_hdr_first(m, HDR_SUBJECT), -1);
	assert_int_equal(msg_hdr_first(m, HDR_ROUTE), -1);
	assert_check_fails(m, 400, "Bad Header Line");
	msg_free(m);
	m = request_with(REQ_LINE, VIA_1 MAXF TO_1 FROM_1 CALLID_1
	                 "CSeq: 314159\r\r\n INVITE\r\n" CL_0);
	assert_check_fails(m, 400, "Bad Header Line");
	msg_free(m);
	m = request_with("INVITE sip:bob@biloxi.example.com\r SIP/2.0\r\n",
	                 VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0);
	assert_check_fails(m, 400, "Bad Request Line");
	msg_free(m);
	{
		struct msg_err err;

		memset(&err, 0, sizeof(err));
		m = parse_lim("SIP/2.0 200 O\rK\r\n" VIA_1 TO_1 FROM_1 CALLID_1
		              CSEQ_1 CL_0 "\r\n", NULL, &err);
		assert_null(m);
		assert_string_equal(err.reason, "Bad Status Line");
	}

	/* the Via is checked first: no answer is possible without it */
	m = request_with(REQ_LINE, "garbage\r\n" TO_1 FROM_1 CALLID_1 CSEQ_1);
	assert_check_fails(m, 400, "Missing Via");
	msg_free(m);
}

/*
 * RFC 3261 7: a bare CR in the start line, at every offset of a request
 * URI or a reason phrase, in the LF's sixteen bytes or earlier ones,
 * makes a request's line bad and a response unparsable; the same line
 * without it is good, and so is one ending in a bare LF.
 */
static void
test_bare_cr_start_line(void **state)
{
	static const char a40[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char b20[] = "bbbbbbbbbbbbbbbbbbbb";
	char start[128], msgb[1024];
	struct msg_err err;
	struct msg *m;

	(void)state;
	for (int k = 0; k <= 40; k++) {
		for (int j = 0; j <= 20; j++) {
			snprintf(start, sizeof(start),
			         "OPTIONS sip:u%.*s\r%.*s@h.example.com SIP/2.0\r\n",
			         k, a40, j, b20);
			m = request_with(start, VIA_1 MAXF TO_1 FROM_1 CALLID_1
			                 "CSeq: 1 OPTIONS\r\n" CL_0);
			assert_check_fails(m, 400, "Bad Request Line");
			msg_free(m);
			snprintf(start, sizeof(start),
			         "OPTIONS sip:u%.*s%.*s@h.example.com SIP/2.0%s",
			         k, a40, j, b20, j & 1 ? "\n" : "\r\n");
			m = request_with(start, VIA_1 MAXF TO_1 FROM_1 CALLID_1
			                 "CSeq: 1 OPTIONS\r\n" CL_0);
			assert_check_ok(m);
			msg_free(m);

			snprintf(msgb, sizeof(msgb),
			         "SIP/2.0 200 %.*s\r%.*s\r\n" VIA_1 TO_1 FROM_1
			         CALLID_1 CSEQ_1 CL_0 "\r\n",
			         k, a40, j, b20);
			memset(&err, 0, sizeof(err));
			m = parse_lim(msgb, NULL, &err);
			assert_null(m);
			assert_string_equal(err.reason, "Bad Status Line");
			snprintf(msgb, sizeof(msgb),
			         "SIP/2.0 200 %.*s%.*s%s" VIA_1 TO_1 FROM_1
			         CALLID_1 CSEQ_1 CL_0 "\r\n",
			         k, a40, j, b20, j & 1 ? "\n" : "\r\n");
			m = parse_ok(msgb);
			assert_int_equal(msg_status(m), 200);
			assert_int_equal(msg_reason(m).len, (size_t)(k + j));
			msg_free(m);
		}
	}
}

/*
 * RFC 3261 7: a bare CR makes its line bad wherever it stands: before or
 * after the CRLF, in the same sixteen bytes as the LF or earlier ones,
 * on a line in the middle of the headers or on the last one, where
 * fewer than sixteen bytes are left.  The same lines without it are good.
 */
static void
test_bare_cr_every_offset(void **state)
{
	char line[128];
	struct msg *m;
	int k, j, last;

	(void)state;
	for (last = 0; last < 2; last++) {
		for (k = 0; k <= 40; k++) {
			for (j = 0; j <= 20; j++) {
				int n = snprintf(line, sizeof(line),
				                 "Subject: %.*s\r%.*s\r\n", k,
				                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				                 j, "bbbbbbbbbbbbbbbbbbbb");
				char hdrs[1024];

				assert_true(n > 0 && n < (int)sizeof(line));
				snprintf(hdrs, sizeof(hdrs), "%s%s%s",
				         last ? VIA_1 MAXF TO_1 FROM_1 CALLID_1
				                  CSEQ_1 CL_0
				              : "",
				         line,
				         last ? ""
				              : VIA_1 MAXF TO_1 FROM_1 CALLID_1
				                    CSEQ_1 CL_0);
				m = request_with(REQ_LINE, hdrs);
				assert_int_equal(msg_hdr_first(m, HDR_SUBJECT),
				                 -1);
				assert_check_fails(m, 400, "Bad Header Line");
				msg_free(m);

				/* the same line without its bare CR */
				memmove(line + 9 + k, line + 10 + k,
				        strlen(line + 10 + k) + 1);
				snprintf(hdrs, sizeof(hdrs), "%s%s%s",
				         last ? VIA_1 MAXF TO_1 FROM_1 CALLID_1
				                  CSEQ_1 CL_0
				              : "",
				         line,
				         last ? ""
				              : VIA_1 MAXF TO_1 FROM_1 CALLID_1
				                    CSEQ_1 CL_0);
				m = request_with(REQ_LINE, hdrs);
				assert_int_equal(
				    msg_sv(m, msg_hdr_at(m, msg_hdr_first(
				                  m, HDR_SUBJECT))->value).len,
				    (size_t)(k + j));
				assert_check_ok(m);
				msg_free(m);
			}
		}
	}
}

/*
 * RFC 3261 25.1: quoted-pair = "\\" (%x00-09 / %x0B-0C / %x0E-7F): NUL
 * may be escaped in a quoted string, CR and LF may not; a NUL anywhere
 * else in the start line or the headers is no SIP.
 */
static void
test_nul_quoted_pair(void **state)
{
	static const char from_esc[] =
	    "From: \"A\\\0B\" <sip:alice@atlanta.example.com>;tag=1\r\n";
	char buf[1024];
	size_t n;
	struct msg_err err;
	struct msg *m;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s", REQ_LINE, VIA_1,
	                     MAXF, TO_1);
	memcpy(buf + n, from_esc, sizeof(from_esc) - 1);
	n += sizeof(from_esc) - 1;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%s\r\n",
	                      CALLID_1, CSEQ_1, CL_0);
	memset(&err, 0, sizeof(err));
	m = msg_parse(buf, n, NULL, &err);
	assert_non_null(m);
	assert_check_ok(m);
	assert_non_null(msg_from(m));
	assert_int_equal(msg_from(m)->display.len, 6);
	assert_memory_equal(msg_sv(m, msg_from(m)->display).p, "\"A\\\0B\"",
	                    6);
	msg_free(m);

	/* a NUL where no quoted-pair holds it: refused by msg_parse() */
	static const char *const raw[] = {
		"From: \"A\0B\" <sip:alice@atlanta.example.com>;tag=1\r\n",
		"From: A\\\0B <sip:alice@atlanta.example.com>;tag=1\r\n",
		"From: <sip:alice@atlanta.example.com>;tag=1\0\r\n",
		"Fr\0m: <sip:alice@atlanta.example.com>;tag=1\r\n",
		/* the quote closed before: the escape is outside */
		"From: \"A\" \\\0 <sip:alice@atlanta.example.com>;tag=1\r\n",
		/* a quote left open on a line closes with it */
		"Subject: \"open\r\nFrom: \\\0 <sip:a@b.example.com>;tag=1\r\n",
	};
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		/* each literal holds exactly one NUL, before its CRLF */
		size_t len = strlen(raw[i]);
		len += 1 + strlen(raw[i] + len + 1);
		n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s", REQ_LINE,
		                     VIA_1, MAXF, TO_1);
		memcpy(buf + n, raw[i], len);
		n += len;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%s\r\n",
		                      CALLID_1, CSEQ_1, CL_0);
		memset(&err, 0, sizeof(err));
		m = msg_parse(buf, n, NULL, &err);
		assert_null(m);
		assert_string_equal(err.reason, "NUL in Headers");
	}

	/* in the body a NUL is data */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s"
	                     "Content-Length: 3\r\n\r\n",
	                     REQ_LINE, VIA_1, MAXF, TO_1, FROM_1, CALLID_1,
	                     CSEQ_1);
	memcpy(buf + n, "a\0b", 3);
	m = msg_parse(buf, n + 3, NULL, &err);
	assert_non_null(m);
	assert_check_ok(m);
	assert_int_equal(msg_body(m).len, 3);
	msg_free(m);

	/* a backslash before a fold is no quoted-pair: the quote never
	 * closes */
	m = request_with(REQ_LINE, VIA_1 MAXF TO_1
	                 "From: \"A\\\r\n B\" <sip:a@b.example.com>;tag=1\r\n"
	                 CALLID_1 CSEQ_1 CL_0);
	assert_check_fails(m, 400, "Bad From");
	msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_line),
	    cmocka_unit_test(test_method_tokens),
	    cmocka_unit_test(test_method_case_sensitive),
	    cmocka_unit_test(test_extension_method),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_status_codes),
	    cmocka_unit_test(test_reason_phrase),
	    cmocka_unit_test(test_hdr_lookup_names),
	    cmocka_unit_test(test_hdr_names_parsed),
	    cmocka_unit_test(test_hdr_lookup_changed),
	    cmocka_unit_test(test_method_lookup_changed),
	    cmocka_unit_test(test_hdr_lookup_compact),
	    cmocka_unit_test(test_index_compact_forms),
	    cmocka_unit_test(test_index_case_insensitive),
	    cmocka_unit_test(test_index_spans),
	    cmocka_unit_test(test_index_repeated),
	    cmocka_unit_test(test_hdr_values_lists),
	    cmocka_unit_test(test_hdr_values_quotes),
	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_unknown_headers),
	    cmocka_unit_test(test_limit_size),
	    cmocka_unit_test(test_limit_headers),
	    cmocka_unit_test(test_limit_default_headers),
	    cmocka_unit_test(test_limit_line),
	    cmocka_unit_test(test_reject_unframeable),
	    cmocka_unit_test(test_reject_no_end_of_headers),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_via_full),
	    cmocka_unit_test(test_via_minimal),
	    cmocka_unit_test(test_via_whitespace),
	    cmocka_unit_test(test_via_list),
	    cmocka_unit_test(test_vias_one_line),
	    cmocka_unit_test(test_values_past_inline_arena),
	    cmocka_unit_test(test_via_bad),
	    cmocka_unit_test(test_via_hosts),
	    cmocka_unit_test(test_via_hosts_long),
	    cmocka_unit_test(test_param_values_long),
	    cmocka_unit_test(test_via_missing),
	    cmocka_unit_test(test_from_to_name_addr),
	    cmocka_unit_test(test_from_to_addr_spec),
	    cmocka_unit_test(test_from_to_tricky),
	    cmocka_unit_test(test_from_to_bad),
	    cmocka_unit_test(test_from_to_cached),
	    cmocka_unit_test(test_callid),
	    cmocka_unit_test(test_callid_words),
	    cmocka_unit_test(test_hash_bytes),
	    cmocka_unit_test(test_blocks_thread_exit),
	    cmocka_unit_test(test_siphash_pieces),
	    cmocka_unit_test(test_hdr_names_letters),
	    cmocka_unit_test(test_hdr_names_near),
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
	    cmocka_unit_test(test_bad_header_lines),
	    cmocka_unit_test(test_nul_quoted_pair),
	    cmocka_unit_test(test_bare_cr_every_offset),
	    cmocka_unit_test(test_bare_cr_start_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
