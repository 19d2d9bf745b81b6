/*
 * The messages the tests of sipd/msg parsing write, and the checks they
 * make of them: a complete INVITE line by line, that INVITE with extra
 * header lines, a request with exactly the given lines, a parse that must
 * succeed, and msg_check() verdicts.  Shared by test_parse.c,
 * test_parse_values.c and test_parse_sweep.c.
 */
#ifndef SIPD_TEST_PARSE_MSGS_H
#define SIPD_TEST_PARSE_MSGS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "tests/unit/sv_assert.h"


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

static inline struct msg *
parse_lim(const char *s, const struct msg_limits *lim, struct msg_err *err)
{
	struct msg_err local;

	memset(&local, 0, sizeof(local));
	return msg_parse(s, strlen(s), lim, err != NULL ? err : &local);
}

static inline struct msg *
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
static inline struct msg *
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
static inline struct msg *
request_with(const char *start, const char *hdrs)
{
	char buf[16384];
	int n;

	n = snprintf(buf, sizeof(buf), "%s%s\r\n", start, hdrs);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return parse_ok(buf);
}

static inline void
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

static inline void
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

#endif
