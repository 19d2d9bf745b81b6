/*
 * tp_choose_proto(): RFC 3261 18.1.1, UDP unless the request is over the
 * Request Size Limit of its destination, within the LAN ranges or outside
 * them; and tp_set_lan()'s checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <event2/event.h>

#include "sipd/transport/tp.h"

static void
recv_none(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	(void)arg;
	(void)src;
	(void)data;
	(void)len;
}

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static enum tp_proto
choose(struct tp *tp, const char *dst, size_t len)
{
	struct sockaddr_storage ss = addr(dst);

	return tp_choose_proto(tp, (struct sockaddr *)&ss, len);
}

static void
test_choose(void **state)
{
	struct event_base *base = event_base_new();
	struct tp *tp = tp_new(base, 65535, recv_none, NULL);
	struct tp_net r[3];

	(void)state;
	assert_non_null(tp);
	/* defaults: 1300 everywhere */
	assert_int_equal(choose(tp, "192.0.2.1", 1300), TP_UDP);
	assert_int_equal(choose(tp, "192.0.2.1", 1301), TP_TCP);

	{
		struct sockaddr_storage a = addr("10.0.0.0");
		assert_int_equal(tp_net_prefix(&r[0],
				     (struct sockaddr *)&a, 8),
		    0);
	}
	{
		struct sockaddr_storage a = addr("192.168.16.0");
		assert_int_equal(tp_net_prefix(&r[1],
				     (struct sockaddr *)&a, 20),
		    0);
	}
	{
		struct sockaddr_storage a = addr("fd00::");
		assert_int_equal(tp_net_prefix(&r[2],
				     (struct sockaddr *)&a, 8),
		    0);
	}
	assert_int_equal(tp_set_lan(tp, r, 3), 0);
	tp_set_size_limits(tp, 8000, 1300);

	/* inside the LAN: the LAN limit */
	assert_int_equal(choose(tp, "10.1.2.3", 5000), TP_UDP);
	assert_int_equal(choose(tp, "10.1.2.3", 8000), TP_UDP);
	assert_int_equal(choose(tp, "10.1.2.3", 8001), TP_TCP);
	assert_int_equal(choose(tp, "192.168.31.255", 5000), TP_UDP);
	assert_int_equal(choose(tp, "fd12::1", 5000), TP_UDP);
	/* a v4-mapped IPv6 address counts as IPv4 */
	assert_int_equal(choose(tp, "::ffff:10.9.9.9", 5000), TP_UDP);
	/* outside: the WAN limit */
	assert_int_equal(choose(tp, "192.168.32.0", 5000), TP_TCP);
	assert_int_equal(choose(tp, "192.168.15.255", 5000), TP_TCP);
	assert_int_equal(choose(tp, "11.0.0.1", 5000), TP_TCP);
	assert_int_equal(choose(tp, "11.0.0.1", 1300), TP_UDP);
	assert_int_equal(choose(tp, "fe80::1", 5000), TP_TCP);
	assert_int_equal(choose(tp, "2001:db8::1", 1000), TP_UDP);

	/* 0: no limit */
	tp_set_size_limits(tp, 0, 0);
	assert_int_equal(choose(tp, "11.0.0.1", 60000), TP_UDP);

	/* /0 takes everything of its family, /32 one address */
	{
		struct sockaddr_storage a = addr("0.0.0.0");
		assert_int_equal(tp_net_prefix(&r[0],
				     (struct sockaddr *)&a, 0),
		    0);
	}
	{
		struct sockaddr_storage a = addr("2001:db8::5");
		assert_int_equal(tp_net_prefix(&r[1],
				     (struct sockaddr *)&a, 128),
		    0);
	}
	assert_int_equal(tp_set_lan(tp, r, 2), 0);
	tp_set_size_limits(tp, 100, 10);
	assert_int_equal(choose(tp, "203.0.113.9", 50), TP_UDP);
	assert_int_equal(choose(tp, "2001:db8::5", 50), TP_UDP);
	assert_int_equal(choose(tp, "2001:db8::6", 50), TP_TCP);

	/* bad ranges are refused, the old ones kept */
	{
		struct sockaddr_storage a = addr("10.0.0.0");
		struct tp_net bad = r[0];

		assert_int_equal(tp_net_prefix(&bad, (struct sockaddr *)&a,
				     33),
		    -EINVAL);
		bad = r[0];
		bad.lo[0] = 11;
		bad.hi[0] = 10;
		assert_int_equal(tp_set_lan(tp, &bad, 1), -EINVAL);
		bad = r[0];
		bad.family = AF_UNIX;
		assert_int_equal(tp_set_lan(tp, &bad, 1), -EINVAL);
	}
	assert_int_equal(choose(tp, "203.0.113.9", 50), TP_UDP);
	/* an empty LAN */
	assert_int_equal(tp_set_lan(tp, NULL, 0), 0);
	assert_int_equal(choose(tp, "203.0.113.9", 50), TP_TCP);

	tp_free(tp);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
