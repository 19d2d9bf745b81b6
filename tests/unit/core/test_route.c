/*
 * Where a SIP URI sends a request (sipd/core/route.c, route_uri_target()):
 * the transport from the scheme and the transport parameter, the port or
 * the transport's default, the IP literal host, a host name left to the
 * resolver.  The URI's transport and host are looked at once for both
 * questions route.c asks of a URI (is it sipd's, where does it go); this
 * pins the answers for every kind of URI.
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

#include "sipd/core/core_int.h"

struct want {
	const char *uri;
	int rc;
	enum tp_proto proto;
	bool proto_set;
	const char *ip;     /* NULL: no address */
	uint16_t port;
};

static const struct want table[] = {
	{ "sip:bob@192.0.2.1", 0, TP_UDP, false, "192.0.2.1", 5060 },
	{ "sip:192.0.2.1:5070", 0, TP_UDP, false, "192.0.2.1", 5070 },
	{ "sip:192.0.2.1;transport=tcp", 0, TP_TCP, true, "192.0.2.1", 5060 },
	{ "sip:192.0.2.1;transport=TCP", 0, TP_TCP, true, "192.0.2.1", 5060 },
	{ "sip:192.0.2.1;transport=tls", 0, TP_TLS, true, "192.0.2.1", 5061 },
	{ "sip:192.0.2.1;transport=udp", 0, TP_UDP, true, "192.0.2.1", 5060 },
	{ "sips:192.0.2.1", 0, TP_TLS, true, "192.0.2.1", 5061 },
	{ "sips:192.0.2.1;transport=tcp", 0, TP_TLS, true, "192.0.2.1", 5061 },
	{ "sips:192.0.2.1:5062;transport=tls", 0, TP_TLS, true, "192.0.2.1",
	    5062 },
	/* sips over UDP, and transports sipd does not know */
	{ "sips:192.0.2.1;transport=udp", -EPROTONOSUPPORT, TP_TLS, true,
	    NULL, 0 },
	{ "sip:192.0.2.1;transport=sctp", -EPROTONOSUPPORT, TP_UDP, false,
	    NULL, 0 },
	{ "sip:192.0.2.1;transport=tc", -EPROTONOSUPPORT, TP_UDP, false,
	    NULL, 0 },
	{ "sip:[2001:db8::1]:5080;lr", 0, TP_UDP, false, "2001:db8::1", 5080 },
	{ "sips:[2001:db8::2]", 0, TP_TLS, true, "2001:db8::2", 5061 },
	/* names go to the resolver with the transport known so far */
	{ "sip:bob@example.com", ROUTE_NAME, TP_UDP, false, NULL, 0 },
	{ "sip:example.com;transport=tcp", ROUTE_NAME, TP_TCP, true, NULL, 0 },
	{ "sips:example.com", ROUTE_NAME, TP_TLS, true, NULL, 0 },
	{ "tel:+15551234", -EPROTONOSUPPORT, TP_UDP, false, NULL, 0 },
};

static void
test_uri_target(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct want *w = &table[i];
		struct uri u;
		struct tp_src d;
		struct span all = { 0, (uint32_t)strlen(w->uri) };
		bool ps = false;
		int rc;

		print_message("%s\n", w->uri);
		assert_int_equal(uri_parse(w->uri, all, &u), 0);
		memset(&d, 0x55, sizeof(d));
		rc = route_uri_target(w->uri, &u, &d, &ps);
		assert_int_equal(rc, w->rc);
		if (u.scheme != URI_SIP && u.scheme != URI_SIPS) {
			continue; /* dst untouched */
		}
		assert_int_equal(d.proto, w->proto);
		assert_int_equal(ps, w->proto_set);
		if (w->ip == NULL) {
			assert_int_equal(d.addr.ss_family, 0);
			continue;
		}
		if (strchr(w->ip, ':') != NULL) {
			struct in6_addr a;
			const struct sockaddr_in6 *s6 =
			    (const struct sockaddr_in6 *)(const void *)&d.addr;

			assert_int_equal(inet_pton(AF_INET6, w->ip, &a), 1);
			assert_int_equal(d.addr.ss_family, AF_INET6);
			assert_int_equal(d.addrlen, sizeof(*s6));
			assert_memory_equal(&s6->sin6_addr, &a, sizeof(a));
		} else {
			struct in_addr a;
			const struct sockaddr_in *s4 =
			    (const struct sockaddr_in *)(const void *)&d.addr;

			assert_int_equal(inet_pton(AF_INET, w->ip, &a), 1);
			assert_int_equal(d.addr.ss_family, AF_INET);
			assert_int_equal(d.addrlen, sizeof(*s4));
			assert_memory_equal(&s4->sin_addr, &a, sizeof(a));
		}
		assert_int_equal(tp_addr_port((const struct sockaddr *)&d.addr),
		    w->port);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
