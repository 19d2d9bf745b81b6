/*
 * Unit tests for sipd/msg parsing: the start line, the header index and
 * the header name table, the parse limits and the body (RFC 3261
 * sections 7, 7.3 and 20).  The typed header values are in
 * test_parse_values.c, long values, bad bytes at every offset and the
 * hashes in test_parse_sweep.c, URIs in test_uri.c.  Each test parses a
 * message written here and checks the exact values the API returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "parse_msgs.h"

/* ------------------------------------------------------------- helpers */

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

/*
 * RFC 3261 25.1: a NUL only as a quoted-pair's octet.  A NUL at each
 * byte of a header value, whatever its length and place (the line
 * scans look at sixteen bytes at a time, and the last bytes of a
 * message one at a time), is refused; a NUL in the body is not looked
 * at, nor an HT among the header bytes.
 */
static void
test_nul_every_place(void **state)
{
	char buf[512];
	struct msg_err err;
	struct msg *m;

	(void)state;
	/* last: 0 for Subject first, else last after a line of last - 1
	 * more bytes, so that its bytes are scanned from each place of
	 * the previous line's sixteen-byte steps */
	for (int last = 0; last < 18; last++) {
		for (int pad = 0; pad < 40; pad++) {
			int n, vs, ve;

			/* Subject first or last, a body of pad bytes when
			 * first and none when last */
			n = snprintf(buf, sizeof(buf), "%s%s", REQ_LINE,
			    last ? "" : "Subject: ");
			if (!last) {
				vs = n;
				memset(buf + n, 'x', (size_t)pad);
				n += pad;
				ve = n;
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				    "\r\n" VIA_1 MAXF TO_1 FROM_1 CALLID_1
				    CSEQ_1 "Content-Length: %d\r\n\r\n", pad);
				memset(buf + n, 'b', (size_t)pad);
				n += pad;
			} else {
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				    VIA_1 MAXF TO_1 FROM_1 CALLID_1 CSEQ_1 CL_0
				    "X: %.*s\r\nSubject:\t", last - 1,
				    "yyyyyyyyyyyyyyyyy");
				vs = n;
				memset(buf + n, 'x', (size_t)pad);
				n += pad;
				ve = n;
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				    "\r\n\r\n");
			}
			assert_true(n < (int)sizeof(buf));
			m = msg_parse(buf, (size_t)n, NULL, &err);
			assert_non_null(m);
			msg_free(m);
			for (int i = vs; i < ve; i++) {
				buf[i] = '\0';
				memset(&err, 0, sizeof(err));
				m = msg_parse(buf, (size_t)n, NULL, &err);
				if (m != NULL || err.reason == NULL ||
				    strcmp(err.reason, "NUL in Headers") != 0 ||
				    err.off != (uint32_t)i) {
					fail_msg("NUL at %d of a %d-byte value "
					         "(%s) not refused", i - vs, pad,
					         last ? "last" : "first");
				}
				buf[i] = '\t';
				m = msg_parse(buf, (size_t)n, NULL, &err);
				assert_non_null(m);
				msg_free(m);
				buf[i] = 'x';
			}
			/* the body: the last pad bytes when first */
			for (int i = n - pad; !last && i < n; i++) {
				buf[i] = '\0';
				m = msg_parse(buf, (size_t)n, NULL, &err);
				assert_non_null(m);
				msg_free(m);
				buf[i] = 'b';
			}
		}
	}
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
	    cmocka_unit_test(test_nul_every_place),
	    cmocka_unit_test(test_reject_no_end_of_headers),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_hdr_names_letters),
	    cmocka_unit_test(test_hdr_names_near),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
