/*
 * Unit tests of sipd/msg parsing over many inputs: values past the
 * message's inline arena and longer than the scans' sixteen-byte steps,
 * seeded random names and values checked against the grammar written
 * plainly, a bare CR or a NUL at every offset of a line (RFC 3261
 * sections 7 and 25.1), and the hashes and the message blocks the
 * parser keeps per thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "sipd/msg/siphash.h"
#include "parse_msgs.h"

/* -------------------------------------------------------- long values */

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

/* ------------------------------------------ hashes and message blocks */

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_past_inline_arena),
	    cmocka_unit_test(test_via_hosts_long),
	    cmocka_unit_test(test_param_values_long),
	    cmocka_unit_test(test_callid_words),
	    cmocka_unit_test(test_hash_bytes),
	    cmocka_unit_test(test_blocks_thread_exit),
	    cmocka_unit_test(test_siphash_pieces),
	    cmocka_unit_test(test_bad_header_lines),
	    cmocka_unit_test(test_nul_quoted_pair),
	    cmocka_unit_test(test_bare_cr_every_offset),
	    cmocka_unit_test(test_bare_cr_start_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
