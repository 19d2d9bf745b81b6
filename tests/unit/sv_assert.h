/*
 * cmocka checks of a span of a message: its bytes and its length equal a
 * string's.  Include after <cmocka.h> and "sipd/msg/msg.h".
 */
#ifndef SIPD_TEST_SV_ASSERT_H
#define SIPD_TEST_SV_ASSERT_H

#include <string.h>

static inline void
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

#endif
