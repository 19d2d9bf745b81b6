/*
 * Unit tests for msg_frame(), the stream framer (RFC 3261 18.3, RFC 5626
 * 3.5.1): messages delimited by Content-Length, arriving whole, byte by
 * byte or in random chunks, several per buffer, with CRLF keep-alives
 * between them, and the faults that must close a stream.
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

#define HDRS                                                                   \
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"                        \
	"Via: SIP/2.0/TCP "                                                    \
	"pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"                 \
	"Max-Forwards: 70\r\n"                                                 \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                             \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"                 \
	"CSeq: 314159 INVITE\r\n"

/* with a body */
static const char m1[] = HDRS "Content-Type: text/plain\r\n"
                              "Content-Length: 12\r\n\r\nhello\r\nworld";
/* no body, compact form */
static const char m2[] = "SIP/2.0 180 Ringing\r\n"
                         "v: SIP/2.0/TCP pc33.atlanta.example.com"
                         ";branch=z9hG4bK776asdhds\r\n"
                         "t: <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
                         "f: <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                         "i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
                         "CSeq: 314159 INVITE\r\n"
                         "l: 0\r\n\r\n";
/* odd case, spaces before the colon, a decoy header, CRLFs in the body */
static const char m3[] = "BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
                         "X-Content-Length: 999\r\n"
                         "Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
                         "content-LENGTH  :  8\r\n"
                         "CSeq: 231 BYE\r\n\r\n"
                         "\r\n\r\n\r\n\r\n";

struct frame {
	enum msg_frame_kind kind;
	uint32_t len;
};

static enum msg_frame_kind
frame(struct msg_framer *f, const char *buf, size_t len,
      const struct msg_limits *lim, uint32_t *out_len, struct msg_err *err)
{
	memset(err, 0, sizeof(*err));
	*out_len = 0;
	return msg_frame(f, buf, len, lim, out_len, err);
}

static void
test_one_piece(void **state)
{
	struct msg_framer f;
	struct msg_err err;
	uint32_t n;
	char buf[1024];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, m1, sizeof(m1) - 1, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m1) - 1);

	/* with the start of the next message behind it */
	memcpy(buf, m1, sizeof(m1) - 1);
	memcpy(buf + sizeof(m1) - 1, "INVITE sip:", 11);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, buf, sizeof(m1) - 1 + 11, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m1) - 1);

	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, m2, sizeof(m2) - 1, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m2) - 1);

	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, m3, sizeof(m3) - 1, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m3) - 1);

	/* nothing yet */
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, m1, 0, NULL, &n, &err), MSG_FRAME_MORE);
}

static void
feed_bytewise(const char *msg, size_t len)
{
	struct msg_framer f;
	struct msg_err err;
	uint32_t n;
	size_t i;
	const char *hdr_end = strstr(msg, "\r\n\r\n");
	size_t hlen;

	assert_non_null(hdr_end);
	hlen = (size_t)(hdr_end - msg) + 4;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < len; i++) {
		enum msg_frame_kind k = frame(&f, msg, i, NULL, &n, &err);

		if (k != MSG_FRAME_MORE) {
			fail_msg("kind %d after %zu of %zu bytes", (int)k, i,
			         len);
		}
		if (i >= hlen) {
			/* the end of headers is remembered */
			assert_int_not_equal(f.hdr_end, 0);
		}
	}
	assert_int_equal(frame(&f, msg, len, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, len);
}

static void
test_byte_by_byte(void **state)
{
	(void)state;
	feed_bytewise(m1, sizeof(m1) - 1);
	feed_bytewise(m2, sizeof(m2) - 1);
	feed_bytewise(m3, sizeof(m3) - 1);
}

/* Deterministic generator: xorshift32. */
static uint32_t
rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/*
 * Push stream through the framer in chunks of 1..maxchunk bytes, consuming
 * frames as a connection would.  Returns the number of frames seen.
 */
static int
run_stream(const char *stream, size_t slen, uint32_t seed, size_t maxchunk,
           struct frame *got, int maxgot)
{
	char *rb = malloc(slen + 1);
	size_t have = 0, fed = 0;
	struct msg_framer f;
	int ngot = 0;

	assert_non_null(rb);
	memset(&f, 0, sizeof(f));
	while (fed < slen || have > 0) {
		size_t chunk = 1 + rnd(&seed) % maxchunk;
		enum msg_frame_kind k = MSG_FRAME_MORE;

		if (chunk > slen - fed) {
			chunk = slen - fed;
		}
		memcpy(rb + have, stream + fed, chunk);
		have += chunk;
		fed += chunk;
		for (;;) {
			struct msg_err err;
			uint32_t n;

			k = frame(&f, rb, have, NULL, &n, &err);
			if (k == MSG_FRAME_MORE) {
				break;
			}
			if (k == MSG_FRAME_ERROR) {
				fail_msg("framing error %s at byte %zu",
				         err.reason != NULL ? err.reason : "?",
				         fed - have);
			}
			assert_true(n > 0 && n <= have);
			assert_true(ngot < maxgot);
			got[ngot].kind = k;
			got[ngot].len = n;
			ngot++;
			memmove(rb, rb + n, have - n);
			have -= n;
			memset(&f, 0, sizeof(f));
		}
		if (fed == slen && k == MSG_FRAME_MORE) {
			break;
		}
	}
	assert_int_equal(have, 0);
	free(rb);
	return ngot;
}

/* m1 CRLF m2 CRLFCRLF m3 m1 */
static size_t
build_stream(char *out, size_t cap, struct frame *want, int *nwant)
{
	size_t off = 0;
	int w = 0;

#define PUT(s_, len_, kind_)                                                   \
	do {                                                                   \
		assert_true(off + (len_) <= cap);                              \
		memcpy(out + off, (s_), (len_));                               \
		off += (len_);                                                 \
		want[w].kind = (kind_);                                        \
		want[w].len = (uint32_t)(len_);                                \
		w++;                                                           \
	} while (0)
	PUT(m1, sizeof(m1) - 1, MSG_FRAME_MESSAGE);
	PUT("\r\n", 2, MSG_FRAME_KEEPALIVE);
	PUT(m2, sizeof(m2) - 1, MSG_FRAME_MESSAGE);
	PUT("\r\n\r\n", 4, MSG_FRAME_PING);
	PUT(m3, sizeof(m3) - 1, MSG_FRAME_MESSAGE);
	PUT(m1, sizeof(m1) - 1, MSG_FRAME_MESSAGE);
#undef PUT
	*nwant = w;
	return off;
}

static void
check_frames(const struct frame *got, int ngot, const struct frame *want,
             int nwant)
{
	int i;

	assert_int_equal(ngot, nwant);
	for (i = 0; i < nwant; i++) {
		if (got[i].kind != want[i].kind || got[i].len != want[i].len) {
			fail_msg(
			    "frame %d: kind %d len %u, want kind %d len %u", i,
			    (int)got[i].kind, got[i].len, (int)want[i].kind,
			    want[i].len);
		}
	}
}

static void
test_several_in_one_buffer(void **state)
{
	char stream[4096];
	struct frame want[16], got[16];
	int nwant, ngot;
	size_t slen;

	(void)state;
	slen = build_stream(stream, sizeof(stream), want, &nwant);
	ngot = run_stream(stream, slen, 1, slen, got, 16);
	check_frames(got, ngot, want, nwant);
}

static void
test_random_chunks(void **state)
{
	static const uint32_t seeds[] = {1, 42, 4475, 3261, 0xdeadbeef};
	static const size_t chunks[] = {1, 3, 17, 64, 200};
	char stream[4096];
	struct frame want[16], got[16];
	int nwant, ngot;
	size_t slen, i, j;

	(void)state;
	slen = build_stream(stream, sizeof(stream), want, &nwant);
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		for (j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			ngot = run_stream(stream, slen, seeds[i], chunks[j],
			                  got, 16);
			check_frames(got, ngot, want, nwant);
		}
	}
}

static void
test_keepalives(void **state)
{
	struct msg_framer f;
	struct msg_err err;
	uint32_t n;
	enum msg_frame_kind k;
	char buf[1024];

	(void)state;
	/* RFC 5626 3.5.1: a double CRLF is a ping */
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, "\r\n\r\n", 4, NULL, &n, &err),
	                 MSG_FRAME_PING);
	assert_int_equal(n, 4);

	/* a lone CRLF before a message is skipped */
	memcpy(buf, "\r\n", 2);
	memcpy(buf + 2, m2, sizeof(m2) - 1);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, buf, sizeof(m2) + 1, NULL, &n, &err),
	                 MSG_FRAME_KEEPALIVE);
	assert_int_equal(n, 2);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, buf + 2, sizeof(m2) - 1, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m2) - 1);

	/* a ping followed by a message */
	memcpy(buf, "\r\n\r\n", 4);
	memcpy(buf + 4, m2, sizeof(m2) - 1);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, buf, sizeof(m2) + 3, NULL, &n, &err),
	                 MSG_FRAME_PING);
	assert_int_equal(n, 4);

	/* a CRLF alone may be the first half of a ping split across two
	 * segments: wait for the next byte */
	memset(&f, 0, sizeof(f));
	k = frame(&f, "\r", 1, NULL, &n, &err);
	assert_int_equal(k, MSG_FRAME_MORE);
	memset(&f, 0, sizeof(f));
	k = frame(&f, "\r\n", 2, NULL, &n, &err);
	assert_int_equal(k, MSG_FRAME_MORE);
	memset(&f, 0, sizeof(f));
	k = frame(&f, "\r\n\r", 3, NULL, &n, &err);
	assert_int_equal(k, MSG_FRAME_MORE);
	memset(&f, 0, sizeof(f));
	k = frame(&f, "\r\nO", 3, NULL, &n, &err);
	assert_int_equal(k, MSG_FRAME_KEEPALIVE);
	assert_int_equal(n, 2);
}

static void
test_body_split(void **state)
{
	struct msg_framer f;
	struct msg_err err;
	uint32_t n;
	size_t hlen = sizeof(m1) - 1 - 12;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame(&f, m1, hlen - 1, NULL, &n, &err),
	                 MSG_FRAME_MORE);
	assert_int_equal(frame(&f, m1, hlen, NULL, &n, &err), MSG_FRAME_MORE);
	assert_int_not_equal(f.hdr_end, 0);
	assert_int_equal(frame(&f, m1, hlen + 5, NULL, &n, &err),
	                 MSG_FRAME_MORE);
	assert_int_equal(frame(&f, m1, hlen + 11, NULL, &n, &err),
	                 MSG_FRAME_MORE);
	assert_int_equal(frame(&f, m1, hlen + 12, NULL, &n, &err),
	                 MSG_FRAME_MESSAGE);
	assert_int_equal(n, sizeof(m1) - 1);
}

static void
expect_error(const char *msg, size_t len, const struct msg_limits *lim,
             const char *reason_part, const char *file, int line)
{
	struct msg_framer f;
	struct msg_err err;
	uint32_t n;
	enum msg_frame_kind k;

	memset(&f, 0, sizeof(f));
	k = frame(&f, msg, len, lim, &n, &err);
	if (k != MSG_FRAME_ERROR) {
		print_error("kind %d (len %u) for:\n%.*s\n", (int)k, n,
		            (int)len, msg);
		_fail(file, line);
	}
	_assert_true(err.reason != NULL, "err.reason", file, line);
	if (reason_part != NULL && strstr(err.reason, reason_part) == NULL) {
		print_error("reason \"%s\" lacks \"%s\"\n", err.reason,
		            reason_part);
		_fail(file, line);
	}
}

#define assert_frame_error(msg, len, lim, part)                                \
	expect_error((msg), (len), (lim), (part), __FILE__, __LINE__)

static void
test_missing_content_length(void **state)
{
	static const char msg[] = HDRS "\r\n";

	(void)state;
	/* RFC 3261 18.3: on a stream, Content-Length MUST be used */
	assert_frame_error(msg, sizeof(msg) - 1, NULL, "Content-Length");
}

static void
test_bad_content_length(void **state)
{
	static const char *bad[] = {
	    "Content-Length: abc\r\n",
	    "Content-Length: -1\r\n",
	    "Content-Length: 99999999999999999999\r\n",
	    "Content-Length: 4294967296\r\n",
	    "Content-Length: 4x\r\n",
	    "Content-Length:\r\n",
	    "l: 1 2\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[1024];
		int len;

		len = snprintf(buf, sizeof(buf), "%s%s\r\n", HDRS, bad[i]);
		assert_true(len > 0);
		assert_frame_error(buf, (size_t)len, NULL, "Content-Length");
	}
}

static void
test_over_max_size(void **state)
{
	struct msg_limits lim;
	char buf[1024];
	int len;

	(void)state;
	msg_limits_init(&lim);
	lim.max_size = 100;
	/* a complete message larger than the limit */
	assert_frame_error(m1, sizeof(m1) - 1, &lim, NULL);
	/* headers over the limit and not yet ended */
	assert_frame_error(m1, 150, &lim, NULL);

	/* a Content-Length that promises more than the limit: refused
	 * before the body arrives */
	len = snprintf(buf, sizeof(buf), "%sContent-Length: 70000\r\n\r\nab",
	               HDRS);
	assert_true(len > 0);
	assert_frame_error(buf, (size_t)len, NULL, NULL);

	/* exactly at the limit is fine */
	{
		struct msg_framer f;
		struct msg_err err;
		uint32_t n;

		lim.max_size = sizeof(m1) - 1;
		memset(&f, 0, sizeof(f));
		assert_int_equal(frame(&f, m1, sizeof(m1) - 1, &lim, &n, &err),
		                 MSG_FRAME_MESSAGE);
		assert_int_equal(n, sizeof(m1) - 1);
	}
}

static void
test_over_max_line(void **state)
{
	struct msg_limits lim;
	char buf[1024];
	size_t off;

	(void)state;
	msg_limits_init(&lim);
	lim.max_line = 64;
	off = (size_t)snprintf(
	    buf, sizeof(buf),
	    "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\nX-Long: ");
	memset(buf + off, 'a', 200);
	off += 200;
	/* no line end yet: the framer must not wait for one forever */
	assert_frame_error(buf, off, &lim, NULL);

	/* a start line over the limit */
	off = (size_t)snprintf(buf, sizeof(buf), "OPTIONS sip:");
	memset(buf + off, 'b', 100);
	off += 100;
	assert_frame_error(buf, off, &lim, NULL);

	/* the same bytes are fine under the default limit */
	{
		struct msg_framer f;
		struct msg_err err;
		uint32_t n;

		memset(&f, 0, sizeof(f));
		assert_int_equal(frame(&f, buf, off, NULL, &n, &err),
		                 MSG_FRAME_MORE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_piece),
	    cmocka_unit_test(test_byte_by_byte),
	    cmocka_unit_test(test_several_in_one_buffer),
	    cmocka_unit_test(test_random_chunks),
	    cmocka_unit_test(test_keepalives),
	    cmocka_unit_test(test_body_split),
	    cmocka_unit_test(test_missing_content_length),
	    cmocka_unit_test(test_bad_content_length),
	    cmocka_unit_test(test_over_max_size),
	    cmocka_unit_test(test_over_max_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
