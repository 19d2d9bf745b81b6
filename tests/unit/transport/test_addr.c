/*
 * tp_addr_host(): an IPv4 address is written by hand (the packet path
 * formats received= with it), and must read as inet_ntop() writes it, for
 * every value of every byte; an IPv6 address is inet_ntop()'s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "sipd/transport/tp.h"

/* tp_addr_host() of a against inet_ntop(), in a buffer of cap bytes
 * filled with 'x' first: nothing past the terminating NUL is written. */
static void
check4(uint32_t a, size_t cap)
{
	struct sockaddr_in sin;
	char want[INET_ADDRSTRLEN], got[64];
	const char *r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(a);
	assert_non_null(inet_ntop(AF_INET, &sin.sin_addr, want, sizeof(want)));
	memset(got, 'x', sizeof(got));
	r = tp_addr_host((const struct sockaddr *)&sin, got, cap);
	assert_ptr_equal(r, got);
	assert_string_equal(got, want);
	for (size_t i = cap; i < sizeof(got); i++) {
		assert_int_equal(got[i], 'x');
	}
}

static void
test_every_byte(void **state)
{
	(void)state;
	/* each byte position through 0..255, the others at the edges of
	 * one, two and three digits */
	static const uint8_t others[] = { 0, 9, 10, 99, 100, 199, 200, 255 };

	for (int pos = 0; pos < 4; pos++) {
		for (size_t o = 0; o < sizeof(others); o++) {
			for (uint32_t v = 0; v < 256; v++) {
				uint32_t a = 0;

				for (int k = 0; k < 4; k++) {
					uint32_t b = k == pos ? v : others[o];
					a |= b << (8 * (3 - k));
				}
				check4(a, INET_ADDRSTRLEN);
			}
		}
	}
	check4(0xffffffffu, INET_ADDRSTRLEN);
	check4(0, INET_ADDRSTRLEN);
}

static void
test_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check4((uint32_t)x, INET_ADDRSTRLEN);
	}
}

static void
test_v6(void **state)
{
	struct sockaddr_in6 s6;
	char got[INET6_ADDRSTRLEN];

	(void)state;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr), 1);
	assert_string_equal(tp_addr_host((const struct sockaddr *)&s6, got,
				sizeof(got)),
	    "2001:db8::1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
