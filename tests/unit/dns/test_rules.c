/*
 * Unit tests for the pure rules of sipd/dns (rules.c): RFC 2782 SRV
 * ordering (priority, then weighted random selection, with a scripted
 * random source and a distribution over many draws), RFC 3263 4.1 NAPTR
 * filtering and ordering, and the transport rules of 4.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sipd/dns/dns_int.h"

/* A scripted random source: returns vals[] in turn. */
struct script {
	const uint32_t *vals;
	size_t n, i;
};

static uint32_t
scripted(void *arg)
{
	struct script *s = arg;

	return s->n == 0 ? 0 : s->vals[s->i++ % s->n];
}

static uint32_t
lcg(void *arg)
{
	uint64_t *st = arg;

	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

static void
srv_priority_first(void **state)
{
	struct dns_srv v[] = {
		{ 20, 0, 1, "c" }, { 10, 0, 2, "a" }, { 30, 0, 3, "d" },
		{ 10, 0, 4, "b" },
	};
	struct script s = { NULL, 0, 0 };

	(void)state;
	dns_srv_order(v, 4, scripted, &s);
	/* priority ascending; equal weights 0 keep their order */
	assert_string_equal(v[0].target, "a");
	assert_string_equal(v[1].target, "b");
	assert_string_equal(v[2].target, "c");
	assert_string_equal(v[3].target, "d");
}

static void
srv_weighted_scripted(void **state)
{
	/* weights 10, 20, 30: running sums 10, 30, 60 */
	struct dns_srv v[] = {
		{ 10, 10, 1, "a" }, { 10, 20, 2, "b" }, { 10, 30, 3, "c" },
	};
	/* first draw 59 % 61 = 59 > 30: c; then sums a 10, b 30 over
	 * [0, 30]: 11 picks b; a remains */
	const uint32_t vals[] = { 59, 11 };
	struct script s = { vals, 2, 0 };

	(void)state;
	dns_srv_order(v, 3, scripted, &s);
	assert_string_equal(v[0].target, "c");
	assert_string_equal(v[1].target, "b");
	assert_string_equal(v[2].target, "a");
	assert_int_equal(s.i, 2); /* the last one needs no draw */
}

static void
srv_zero_weight_first_in_list(void **state)
{
	/* RFC 2782: weight-0 records go first in the list, so a draw of 0
	 * picks them; any other draw passes them by */
	struct dns_srv v[] = {
		{ 10, 50, 1, "heavy" }, { 10, 0, 2, "zero" },
	};
	const uint32_t zero[] = { 0 };
	struct script s = { zero, 1, 0 };

	(void)state;
	dns_srv_order(v, 2, scripted, &s);
	assert_string_equal(v[0].target, "zero");

	struct dns_srv w[] = {
		{ 10, 50, 1, "heavy" }, { 10, 0, 2, "zero" },
	};
	const uint32_t one[] = { 1 };
	struct script t = { one, 1, 0 };
	dns_srv_order(w, 2, scripted, &t);
	assert_string_equal(w[0].target, "heavy");
	assert_string_equal(w[1].target, "zero");
}

static void
srv_weight_distribution(void **state)
{
	/* 60/30/10 within a priority, a lower priority apart: over 20000
	 * orderings the first pick follows the weights within 2 points,
	 * and the lower priority is never first */
	unsigned first[3] = { 0, 0, 0 };
	uint64_t st = 42;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct dns_srv v[] = {
			{ 5, 60, 0, "a" }, { 9, 100, 3, "low" },
			{ 5, 30, 1, "b" }, { 5, 10, 2, "c" },
		};
		dns_srv_order(v, 4, lcg, &st);
		assert_true(v[0].port < 3);
		assert_int_equal(v[3].port, 3);
		first[v[0].port]++;
	}
	assert_in_range(first[0], 11600, 12400);
	assert_in_range(first[1], 5600, 6400);
	assert_in_range(first[2], 1600, 2400);
}

static void
srv_any_values(void **state)
{
	/* untrusted: extreme weights and priorities order without fault */
	struct dns_srv v[DNS_MAX_SRV];
	uint64_t st = 7;

	(void)state;
	for (int i = 0; i < DNS_MAX_SRV; i++) {
		v[i].prio = (uint16_t)(i % 2 ? 65535 : 0);
		v[i].weight = 65535;
		v[i].port = (uint16_t)i;
		v[i].target = "x";
	}
	dns_srv_order(v, DNS_MAX_SRV, lcg, &st);
	unsigned seen = 0;
	for (int i = 0; i < DNS_MAX_SRV; i++) {
		seen |= 1u << v[i].port;
		if (i > 0) {
			assert_true(v[i - 1].prio <= v[i].prio);
		}
	}
	assert_int_equal(seen, (1u << DNS_MAX_SRV) - 1);
}

static struct dns_rr
naptr(unsigned order, unsigned pref, const char *flags, const char *svc,
    const char *re, const char *repl)
{
	struct dns_rr r;

	memset(&r, 0, sizeof(r));
	r.u.naptr.order = (uint16_t)order;
	r.u.naptr.pref = (uint16_t)pref;
	r.u.naptr.flags = flags;
	r.u.naptr.service = svc;
	r.u.naptr.regexp = re;
	r.u.naptr.repl = repl;
	return r;
}

static void
naptr_order_and_filter(void **state)
{
	struct dns_rr rr[] = {
		naptr(10, 20, "s", "SIP+D2T", "", "_sip._tcp.x"),
		naptr(10, 10, "S", "sip+d2u", "", "_sip._udp.x"),
		naptr(10, 30, "s", "SIPS+D2T", "", "_sips._tcp.x"),
		/* a higher order: not considered once order 10 matched */
		naptr(20, 0, "s", "SIP+D2U", "", "_sip._udp.other"),
		/* unusable: ENUM service, A flag, a regexp, no replacement,
		 * SCTP */
		naptr(10, 1, "u", "E2U+sip", "!^.*$!sip:a@b!", ""),
		naptr(10, 2, "a", "SIP+D2U", "", "host.x"),
		naptr(10, 3, "s", "SIP+D2U", "!x!y!", "_sip._udp.y"),
		naptr(10, 4, "s", "SIP+D2U", "", ""),
		naptr(10, 5, "s", "SIP+D2S", "", "_sip._sctp.x"),
	};
	struct dns_naptr_pick p[DNS_MAX_NAPTR];

	(void)state;
	size_t n = dns_naptr_select(rr, 9, false, DNS_TP_ALL, p,
	    DNS_MAX_NAPTR);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].tp, DNS_TP_UDP);
	assert_string_equal(p[0].repl, "_sip._udp.x");
	assert_int_equal(p[1].tp, DNS_TP_TCP);
	assert_int_equal(p[2].tp, DNS_TP_TLS);

	/* no UDP listener: UDP records are dropped */
	n = dns_naptr_select(rr, 9, false, DNS_TP_BIT(DNS_TP_TCP) |
	    DNS_TP_BIT(DNS_TP_TLS), p, DNS_MAX_NAPTR);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].tp, DNS_TP_TCP);

	/* sips: only SIPS+D2T */
	n = dns_naptr_select(rr, 9, true, DNS_TP_ALL, p, DNS_MAX_NAPTR);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].tp, DNS_TP_TLS);

	/* only TCP: the first usable order is 10 (TCP) */
	n = dns_naptr_select(rr, 9, false, DNS_TP_BIT(DNS_TP_TCP), p,
	    DNS_MAX_NAPTR);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].repl, "_sip._tcp.x");
}

static void
naptr_lowest_usable_order(void **state)
{
	/* order 10 has only TLS; without TLS, order 20 is the first one
	 * that matches and is used */
	struct dns_rr rr[] = {
		naptr(10, 10, "s", "SIPS+D2T", "", "_sips._tcp.x"),
		naptr(20, 10, "s", "SIP+D2U", "", "_sip._udp.x"),
	};
	struct dns_naptr_pick p[DNS_MAX_NAPTR];

	(void)state;
	size_t n = dns_naptr_select(rr, 2, false, DNS_TP_BIT(DNS_TP_UDP), p,
	    DNS_MAX_NAPTR);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].repl, "_sip._udp.x");
	/* and nothing usable at all: none */
	n = dns_naptr_select(rr, 2, true, DNS_TP_BIT(DNS_TP_UDP), p,
	    DNS_MAX_NAPTR);
	assert_int_equal(n, 0);
}

static struct dns_req
req(const char *tp, uint16_t port, bool sips, unsigned tps)
{
	struct dns_req r;

	memset(&r, 0, sizeof(r));
	r.host = "example.test";
	r.host_len = strlen(r.host);
	r.transport = tp;
	r.transport_len = tp != NULL ? strlen(tp) : 0;
	r.port = port;
	r.sips = sips;
	r.tps = tps;
	return r;
}

static void
transport_rules(void **state)
{
	enum dns_tp tp = DNS__TP_COUNT;
	struct dns_req r;

	(void)state;
	/* explicit transport parameter */
	r = req("TCP", 0, false, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), 0);
	assert_int_equal(tp, DNS_TP_TCP);
	/* sips: with transport=tcp is TLS; over UDP it does not exist */
	r = req("tcp", 0, true, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), 0);
	assert_int_equal(tp, DNS_TP_TLS);
	r = req("udp", 0, true, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), -EPROTONOSUPPORT);
	/* a transport we have no listener for, or do not know */
	r = req("tls", 0, false, DNS_TP_BIT(DNS_TP_UDP));
	assert_int_equal(dns_tp_fixed(&r, false, &tp), -EPROTONOSUPPORT);
	r = req("sctp", 0, false, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), -EPROTONOSUPPORT);
	/* numeric IP: UDP for sip:, TLS for sips: */
	r = req(NULL, 0, false, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, true, &tp), 0);
	assert_int_equal(tp, DNS_TP_UDP);
	r = req(NULL, 0, true, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, true, &tp), 0);
	assert_int_equal(tp, DNS_TP_TLS);
	/* an explicit port: the default transport, no NAPTR/SRV */
	r = req(NULL, 5080, false, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), 0);
	assert_int_equal(tp, DNS_TP_UDP);
	/* no UDP listener: TCP */
	r = req(NULL, 5080, false, DNS_TP_BIT(DNS_TP_TCP));
	assert_int_equal(dns_tp_fixed(&r, false, &tp), 0);
	assert_int_equal(tp, DNS_TP_TCP);
	/* a name without port or parameter: NAPTR and SRV decide */
	r = req(NULL, 0, false, DNS_TP_ALL);
	assert_int_equal(dns_tp_fixed(&r, false, &tp), 1);
	/* the default once nothing was found */
	assert_int_equal(dns_tp_default(false, DNS_TP_ALL, &tp), 0);
	assert_int_equal(tp, DNS_TP_UDP);
	assert_int_equal(dns_tp_default(true, DNS_TP_BIT(DNS_TP_UDP), &tp),
	    -EPROTONOSUPPORT);
	assert_string_equal(dns_srv_prefix(DNS_TP_TLS), "_sips._tcp");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(srv_priority_first),
		cmocka_unit_test(srv_weighted_scripted),
		cmocka_unit_test(srv_zero_weight_first_in_list),
		cmocka_unit_test(srv_weight_distribution),
		cmocka_unit_test(srv_any_values),
		cmocka_unit_test(naptr_order_and_filter),
		cmocka_unit_test(naptr_lowest_usable_order),
		cmocka_unit_test(transport_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
