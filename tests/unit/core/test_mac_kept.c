/*
 * Signatures kept (sipd/core/mac.c, core_mac_sign_again()): over many
 * random lists of parts, some signed again as they were, some with one
 * byte changed, one byte moved from a part to the next (the same bytes
 * one after the other, other lengths), another label, more parts than
 * are kept or more bytes, and enough others that slots are taken over:
 * every answer is exactly core_mac_sign()'s for those parts.  A kept
 * signature given for bytes other than the ones it was made of would be
 * a signature sipd never made, accepted: that fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sipd/core/core_int.h"

static const uint8_t key[CORE_MAC_KEY] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
	10, 11, 12, 13, 14, 15 };

static uint64_t
next_rand(uint64_t *x)
{
	/* xorshift64: the same inputs on every run */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* core_mac_sign_again() of the parts equals core_mac_sign()'s */
static void
check(struct core_mac *m, char label, const struct sv *parts, int n)
{
	char want[CORE_MAC_HEX], got[CORE_MAC_HEX];

	assert_int_equal(core_mac_sign(m, label, parts, n, want), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(core_mac_sign_again(m, label, parts, n, got), 0);
	assert_memory_equal(got, want, CORE_MAC_HEX);
}

static void
test_same_as_signed(void **state)
{
	struct core_mac *m = core_mac_new_key(key);
	char buf[4][120];
	uint64_t x = 0x853c49e6748fea9bULL;

	(void)state;
	assert_non_null(m);
	for (int round = 0; round < 20000; round++) {
		struct sv parts[5];
		int n = 1 + (int)(next_rand(&x) % 5);
		char label = next_rand(&x) % 4 == 0 ? 'x' : 'R';

		for (int i = 0; i < n; i++) {
			/* few distinct parts: most lists come back */
			size_t len = (size_t)(next_rand(&x) % 70);
			uint64_t r = next_rand(&x) % 3;

			if (i >= 4) {
				parts[i] = (struct sv){ "extra", 5 };
				continue;
			}
			for (size_t k = 0; k < sizeof(buf[i]); k++) {
				buf[i][k] = (char)('a' + (r + k * (size_t)(i + 1)) % 3);
			}
			parts[i] = (struct sv){ buf[i], len };
		}
		check(m, label, parts, n);
		/* again, as it was: kept */
		check(m, label, parts, n);
		switch (next_rand(&x) % 3) {
		case 0:
			/* one byte changed */
			if (parts[0].len > 0) {
				size_t at = (size_t)(next_rand(&x) % parts[0].len);
				buf[0][at] ^= 0x20;
				check(m, label, parts, n);
				buf[0][at] ^= 0x20;
			}
			break;
		case 1:
			/* a byte moved from a part to the next: the same
			 * bytes in a row, other lengths */
			if (n >= 2 && n <= 4 && parts[0].len > 0 &&
			    parts[1].len < sizeof(buf[1])) {
				char moved[2][121];
				struct sv p2[4];

				memcpy(p2, parts, sizeof(p2[0]) * (size_t)n);
				memcpy(moved[0], parts[0].p, parts[0].len - 1);
				moved[1][0] = parts[0].p[parts[0].len - 1];
				memcpy(moved[1] + 1, parts[1].p, parts[1].len);
				p2[0] = (struct sv){ moved[0], parts[0].len - 1 };
				p2[1] = (struct sv){ moved[1], parts[1].len + 1 };
				check(m, label, p2, n);
			}
			break;
		default:
			/* the other label */
			check(m, label == 'R' ? 'x' : 'R', parts, n);
			break;
		}
	}
	core_mac_free(m);
}

/* A part as long as all that is kept, and one byte more: the same */
static void
test_limits(void **state)
{
	struct core_mac *m = core_mac_new_key(key);
	char big[201];

	(void)state;
	assert_non_null(m);
	memset(big, 'q', sizeof(big));
	for (size_t len = 195; len <= sizeof(big); len++) {
		struct sv p = { big, len };

		check(m, 'R', &p, 1);
		check(m, 'R', &p, 1);
	}
	core_mac_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_signed),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
