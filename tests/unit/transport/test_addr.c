/*
 * tp_addr_host(): an IPv4 address is written by hand (the packet path
 * formats received= with it), and must read as inet_ntop() writes it, for
 * every value of every byte; an IPv6 address is inet_ntop()'s.
 * tp_net_match(): IPv4 bounds compared as numbers must decide as the
 * bytes in network order do, the last line holding the address winning,
 * a v4-mapped address counting as its IPv4 one.
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

static uint64_t
next_rand(uint64_t *x)
{
	/* xorshift64 */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The rule by bytes: the last IPv4 line whose bounds hold a decides. */
static bool
ref_match(const struct tp_net *v, size_t n, const uint8_t a[4])
{
	for (size_t i = n; i-- > 0;) {
		if (v[i].family == AF_INET && memcmp(a, v[i].lo, 4) >= 0 &&
		    memcmp(a, v[i].hi, 4) <= 0) {
			return !v[i].exclude;
		}
	}
	return false;
}

static void
test_net_match(void **state)
{
	uint64_t x = 0x2545f4914f6cdd1du;
	int hits = 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct tp_net v[6];
		size_t n = 1 + next_rand(&x) % 6;

		for (size_t i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
			struct sockaddr_in6 *s6 =
			    (struct sockaddr_in6 *)(void *)&ss;
			uint64_t r = next_rand(&x);

			memset(&ss, 0, sizeof(ss));
			if (r % 5 == 0) {
				s6->sin6_family = AF_INET6;
				memcpy(&s6->sin6_addr, &r, sizeof(r));
				assert_int_equal(tp_net_prefix(&v[i],
						     (struct sockaddr *)&ss,
						     (unsigned)(r >> 40) % 129),
				    0);
			} else {
				s4->sin_family = AF_INET;
				s4->sin_addr.s_addr = (uint32_t)(r >> 8);
				assert_int_equal(tp_net_prefix(&v[i],
						     (struct sockaddr *)&ss,
						     (unsigned)(r >> 40) % 33),
				    0);
			}
			v[i].exclude = (r >> 50) % 3 == 0;
		}
		for (int k = 0; k < 50; k++) {
			struct sockaddr_in sin;
			struct sockaddr_in6 map;
			uint64_t r = next_rand(&x);
			uint8_t a[4];
			bool want;

			/* near a bound half the time, anywhere else */
			if (r % 2 == 0) {
				const struct tp_net *b = &v[(r >> 8) % n];
				uint32_t e = (uint32_t)b->lo[0] << 24 |
				    (uint32_t)b->lo[1] << 16 |
				    (uint32_t)b->lo[2] << 8 | b->lo[3];

				if ((r >> 16) % 2 == 0) {
					e = (uint32_t)b->hi[0] << 24 |
					    (uint32_t)b->hi[1] << 16 |
					    (uint32_t)b->hi[2] << 8 | b->hi[3];
				}
				e += (uint32_t)((r >> 20) % 3) - 1;
				a[0] = (uint8_t)(e >> 24);
				a[1] = (uint8_t)(e >> 16);
				a[2] = (uint8_t)(e >> 8);
				a[3] = (uint8_t)e;
			} else {
				memcpy(a, (const char *)&r + 3, 4);
			}
			want = ref_match(v, n, a);
			hits += want;
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, a, 4);
			assert_int_equal(tp_net_match(v, n,
					     (const struct sockaddr *)&sin),
			    want);
			memset(&map, 0, sizeof(map));
			map.sin6_family = AF_INET6;
			map.sin6_addr.s6_addr[10] = 0xff;
			map.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&map.sin6_addr.s6_addr[12], a, 4);
			assert_int_equal(tp_net_match(v, n,
					     (const struct sockaddr *)&map),
			    want);
		}
	}
	/* the lists were not all misses */
	assert_true(hits > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_net_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
