/*
 * Where a SIP URI sends a request (sipd/core/route.c, route_uri_target()):
 * the transport from the scheme and the transport parameter, the port or
 * the transport's default, the IP literal host, a host name left to the
 * resolver.  The URI's transport and host are looked at once for both
 * questions route.c asks of a URI (is it sipd's, where does it go); this
 * pins the answers for every kind of URI.
 *
 * A Route line that is byte for byte sipd's own Record-Route entry is
 * taken back without a parse (route_own_entry()): over random edits of
 * such entries, whatever it takes is what the parse and route_uri_local()
 * find (one element, sipd's, that signature, no gateway or flow), and
 * sipd's own entries are taken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/conf.h"

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

#define SIG24 "0123456789abcdef01234567"

static const char *const own_bases[] = {
	"<sip:127.0.0.1:5060;lr;sig=" SIG24 ">",
	"<sip:[::1]:5070;lr;sig=" SIG24 ">",
	"<sip:192.0.2.7:6000;lr;sig=" SIG24 ">", /* not a listener */
	"<sip:127.0.0.1:5060;transport=tcp;lr;sig=" SIG24 ">",
	"<sip:127.0.0.1:5060;lr;sig=" SIG24 ";gwd=ab>",
	"<sip:127.0.0.1:5060;lr;sig=" SIG24 ">, <sip:127.0.0.1:5060;lr>",
};

/* Listeners the tests know (TCP: no worker ports to ask the transport). */
static struct core *
own_core(void)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	struct core *c = calloc(1, sizeof(*c));
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	assert_non_null(conf);
	assert_non_null(c);
	conf->nlisteners = 2;
	conf->listeners[0].proto = TP_TCP;
	s4 = (struct sockaddr_in *)(void *)&conf->listeners[0].addr;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(5060);
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conf->listeners[1].proto = TP_TCP;
	s6 = (struct sockaddr_in6 *)(void *)&conf->listeners[1].addr;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(5070);
	s6->sin6_addr = in6addr_loopback;
	route_configure(c, conf);
	free(conf);
	assert_true(c->listener_rr[0]);
	assert_true(c->listener_rr[1]);
	return c;
}

/* What the parse finds of Route value v: true when it is one element,
 * a SIP URI naming sipd with a signature of the right length (into sig),
 * no gateway parameter and no flow.  *parsed: the message parsed. */
static bool
own_by_parse(struct core *c, const char *v, char sig[CORE_MAC_HEX],
    struct sv *line, struct msg **mp)
{
	static char text[1024];
	struct msg_limits lim;
	struct msg_err err = { 0 };
	const struct msg_naddr *r;
	struct tp_src to;
	struct sv val;
	struct msg *m;
	int n;

	msg_limits_init(&lim);
	n = snprintf(text, sizeof(text),
	    "ACK sip:bob@192.0.2.9 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n"
	    "Route: %s\r\n"
	    "From: <sip:a@192.0.2.9>;tag=1\r\n"
	    "To: <sip:b@192.0.2.10>;tag=2\r\n"
	    "Call-ID: x\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
	    "Content-Length: 0\r\n\r\n", v);
	m = msg_parse(text, (size_t)n, &lim, &err);
	*mp = m;
	if (m == NULL || msg_hdr_first(m, HDR_ROUTE) < 0) {
		return false;
	}
	*line = msg_hdr_value(m, HDR_ROUTE);
	n = msg_naddrs(m, HDR_ROUTE, &r);
	if (n != 1 || !route_uri_local(c, msg_buf(m), &r[0].uri) ||
	    !uri_param(msg_buf(m), &r[0].uri, "sig", &val) ||
	    val.len != CORE_MAC_HEX ||
	    uri_param(msg_buf(m), &r[0].uri, CORE_GWD_PARAM, &(struct sv){ 0 }) ||
	    core_path_flow(c, msg_buf(m), &r[0].uri, &to) == 0) {
		return false;
	}
	memcpy(sig, val.p, CORE_MAC_HEX);
	return true;
}

static void
test_own_entry(void **state)
{
	static const char alpha[] =
	    "<>:;=,. \"@[]sipSIPlrgwdtT0123456789abcdefABF%?&`/g~";
	struct core *c = own_core();
	unsigned long seed = 12345, taken = 0, parsed = 0;

	(void)state;
	for (int i = 0; i < 40000; i++) {
		const char *base = own_bases[i % 6];
		char v[256], fsig[CORE_MAC_HEX], ssig[CORE_MAC_HEX];
		size_t len = strlen(base);
		struct msg *m = NULL;
		struct sv line;
		bool slow, fast;

		memcpy(v, base, len + 1);
		/* a third unchanged; the others one to three random edits */
		int edits = (i / 6) % 3 == 0 ? 0 : (i / 6) % 3 + (int)(seed % 2);

		for (int k = edits; k > 0; k--) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)(seed >> 33) % (len + 1);
			char ch = alpha[(seed >> 20) % (sizeof(alpha) - 1)];
			switch ((seed >> 12) % 3) {
			case 0:
				if (at < len) {
					v[at] = ch;
				}
				break;
			case 1:
				if (len + 2 < sizeof(v)) {
					memmove(v + at + 1, v + at, len + 1 - at);
					v[at] = ch;
					len++;
				}
				break;
			default:
				if (at < len) {
					memmove(v + at, v + at + 1, len - at);
					len--;
				}
				break;
			}
		}
		slow = own_by_parse(c, v, ssig, &line, &m);
		if (m == NULL || msg_hdr_first(m, HDR_ROUTE) < 0) {
			msg_free(m);
			continue;
		}
		parsed++;
		fast = route_own_entry(c, line, fsig);
		if (fast) {
			assert_true(slow);
			assert_memory_equal(fsig, ssig, CORE_MAC_HEX);
			taken++;
		}
		if (edits == 0) {
			/* sipd's own, unchanged, and the shapes it leaves to
			 * the parse: another host, a transport, a gateway
			 * parameter, a second entry */
			assert_int_equal(fast, i % 6 < 2);
			assert_true(slow || i % 6 >= 2);
		}
		msg_free(m);
	}
	assert_true(parsed > 30000);
	assert_true(taken > 10000 / 3);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_target),
		cmocka_unit_test(test_own_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
