/*
 * Unit tests for the answer parser (wire.c), the cache (cache.c) and the
 * plan of RFC 3263 run on a cache seeded with answers (resolve.c), with an
 * injected clock and random source; no packet is sent: the resolver
 * points at a server it never reaches before each test ends.
 *
 * What each bad input gets: a truncated or looping answer is refused or
 * its bad records skipped, never read past its end; an expired entry is
 * not served; a full cache pushes out the least recently used entry that
 * nobody holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "sipd/dns/dns_int.h"
#include "wirebuild.h"

/* ---- the parser ---- */

static void
parse_cname_chain(void **state)
{
	struct wb w;
	struct dns_answer a;

	(void)state;
	wb_begin(&w, 0, "sip.example.test", DNS_T_A, 4, 0);
	wb_cname(&w, "SIP.example.test", 300, "host.example.test");
	wb_a(&w, "host.example.test", 60, 192, 0, 2, 1);
	wb_a(&w, "other.example.test", 60, 192, 0, 2, 9); /* not ours */
	wb_a(&w, "host.example.test", 120, 192, 0, 2, 2);
	assert_int_equal(dns_wire_parse(w.b, w.n, "sip.example.test",
	    DNS_T_A, &a), 0);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.ttl, 60); /* the least of the chain */
	assert_int_equal(a.rr[0].u.a.s_addr, htonl(0xc0000201));
	dns_answer_fini(&a);
}

static void
parse_srv_naptr(void **state)
{
	struct wb w;
	struct dns_answer a;

	(void)state;
	wb_begin(&w, 0, "_sip._udp.example.test", DNS_T_SRV, 1, 0);
	wb_srv(&w, "_sip._udp.example.test", 30, 10, 5, 5070,
	    "Sip1.Example.Test");
	assert_int_equal(dns_wire_parse(w.b, w.n, "_sip._udp.example.test",
	    DNS_T_SRV, &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.rr[0].u.srv.port, 5070);
	assert_string_equal(a.rr[0].u.srv.target, "sip1.example.test");
	dns_answer_fini(&a);

	wb_begin(&w, 0, "example.test", DNS_T_NAPTR, 1, 0);
	wb_naptr(&w, "example.test", 30, 10, 20, "S", "SIP+D2T", "",
	    "_sip._tcp.example.test");
	assert_int_equal(dns_wire_parse(w.b, w.n, "example.test",
	    DNS_T_NAPTR, &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.rr[0].u.naptr.order, 10);
	assert_string_equal(a.rr[0].u.naptr.service, "SIP+D2T");
	assert_string_equal(a.rr[0].u.naptr.repl, "_sip._tcp.example.test");
	dns_answer_fini(&a);
}

static void
parse_negative_soa(void **state)
{
	struct wb w;
	struct dns_answer a;

	(void)state;
	/* RFC 2308 5: the negative TTL is min(SOA TTL, SOA minimum) */
	wb_begin(&w, 3, "nx.example.test", DNS_T_A, 0, 1);
	wb_soa(&w, "example.test", 900, 45);
	assert_int_equal(dns_wire_parse(w.b, w.n, "nx.example.test",
	    DNS_T_A, &a), 0);
	assert_int_equal(a.rcode, 3);
	assert_int_equal(a.n, 0);
	assert_true(a.has_soa);
	assert_int_equal(a.neg_ttl, 45);
	dns_answer_fini(&a);

	wb_begin(&w, 0, "a.example.test", DNS_T_AAAA, 0, 1);
	wb_soa(&w, "example.test", 20, 3600);
	assert_int_equal(dns_wire_parse(w.b, w.n, "a.example.test",
	    DNS_T_AAAA, &a), 0);
	assert_int_equal(a.neg_ttl, 20);
	dns_answer_fini(&a);
}

static void
parse_bad_input(void **state)
{
	struct wb w;
	struct dns_answer a;

	(void)state;
	/* every truncation of a good answer: refused or partial, no
	 * read past the end (ASan watches) */
	wb_begin(&w, 0, "example.test", DNS_T_NAPTR, 2, 0);
	wb_naptr(&w, "example.test", 30, 10, 20, "S", "SIP+D2T", "",
	    "_sip._tcp.example.test");
	wb_naptr(&w, "example.test", 30, 10, 30, "S", "SIP+D2U", "",
	    "_sip._udp.example.test");
	for (size_t len = 0; len < w.n; len++) {
		uint8_t copy[4096];

		memcpy(copy, w.b, len);
		int rc = dns_wire_parse(copy, len, "example.test",
		    DNS_T_NAPTR, &a);
		if (rc == 0) {
			assert_true(a.n < 2);
			dns_answer_fini(&a);
		}
	}
	/* an A record of 5 bytes, a NAPTR string longer than its record:
	 * skipped */
	wb_begin(&w, 0, "x.test", DNS_T_A, 2, 0);
	wb_rr(&w, "x.test", DNS_T_A, 10);
	wb_u32(&w, 1);
	wb_u8(&w, 1);
	wb_end_rr(&w);
	wb_a(&w, "x.test", 10, 10, 0, 0, 1);
	assert_int_equal(dns_wire_parse(w.b, w.n, "x.test", DNS_T_A, &a),
	    0);
	assert_int_equal(a.n, 1);
	dns_answer_fini(&a);

	wb_begin(&w, 0, "x.test", DNS_T_NAPTR, 1, 0);
	wb_rr(&w, "x.test", DNS_T_NAPTR, 10);
	wb_u16(&w, 1);
	wb_u16(&w, 1);
	wb_u8(&w, 200); /* flags of 200 bytes in a short record */
	wb_u8(&w, 's');
	wb_end_rr(&w);
	assert_int_equal(dns_wire_parse(w.b, w.n, "x.test", DNS_T_NAPTR,
	    &a), 0);
	assert_int_equal(a.n, 0);
	dns_answer_fini(&a);

	/* a compression pointer to itself in the answer's owner */
	wb_begin(&w, 0, "x.test", DNS_T_A, 1, 0);
	size_t at = w.n;
	wb_u8(&w, 0xc0);
	wb_u8(&w, (unsigned)at);
	assert_int_equal(dns_wire_parse(w.b, w.n + 10, "x.test", DNS_T_A,
	    &a), 0);
	assert_int_equal(a.n, 0);
	dns_answer_fini(&a);

	/* a CNAME loop: a -> b -> a, bounded */
	wb_begin(&w, 0, "a.test", DNS_T_A, 2, 0);
	wb_cname(&w, "a.test", 10, "b.test");
	wb_cname(&w, "b.test", 10, "a.test");
	assert_int_equal(dns_wire_parse(w.b, w.n, "a.test", DNS_T_A, &a), 0);
	assert_int_equal(a.n, 0);
	dns_answer_fini(&a);

	/* no question */
	wb_begin(&w, 0, "x.test", DNS_T_A, 0, 0);
	w.b[5] = 0;
	assert_int_equal(dns_wire_parse(w.b, w.n, "x.test", DNS_T_A, &a),
	    -EBADMSG);
}

/* ---- the cache ---- */

static void
complete_a(struct dns_entry *e, uint32_t ttl, uint64_t now)
{
	struct wb w;

	wb_begin(&w, 0, e->name, DNS_T_A, 1, 0);
	wb_a(&w, e->name, ttl, 10, 0, 0, 1);
	dns_entry_complete(e, w.b, w.n, 0, now, 3600, 60);
}

static void
cache_ttl(void **state)
{
	struct dns_cache c;
	struct wb w;

	(void)state;
	assert_int_equal(dns_cache_init(&c, 16), 0);
	struct dns_entry *e = dns_cache_add(&c, NULL, "a.test", 6, DNS_T_A);
	complete_a(e, 30, 1000);
	assert_int_equal(e->state, DNS_E_OK);
	assert_int_equal(e->expires, 31000);
	/* capped by the positive maximum */
	e = dns_cache_add(&c, NULL, "b.test", 6, DNS_T_A);
	complete_a(e, 999999, 0);
	assert_int_equal(e->expires, 3600 * 1000);
	/* negative: SOA minimum capped by neg_max (60) */
	e = dns_cache_add(&c, NULL, "nx.test", 7, DNS_T_A);
	wb_begin(&w, 3, "nx.test", DNS_T_A, 0, 1);
	wb_soa(&w, "test", 900, 600);
	dns_entry_complete(e, w.b, w.n, 0, 0, 3600, 60);
	assert_int_equal(e->state, DNS_E_NXDOMAIN);
	assert_int_equal(e->expires, 60 * 1000);
	/* negative without SOA: not kept past now */
	e = dns_cache_add(&c, NULL, "nd.test", 7, DNS_T_A);
	wb_begin(&w, 0, "nd.test", DNS_T_A, 0, 0);
	dns_entry_complete(e, w.b, w.n, 0, 500, 3600, 60);
	assert_int_equal(e->state, DNS_E_NODATA);
	assert_int_equal(e->expires, 500);
	/* SERVFAIL: failed */
	e = dns_cache_add(&c, NULL, "sf.test", 7, DNS_T_A);
	wb_begin(&w, 2, "sf.test", DNS_T_A, 0, 0);
	dns_entry_complete(e, w.b, w.n, 0, 500, 3600, 60);
	assert_int_equal(e->state, DNS_E_FAILED);
	dns_cache_fini(&c);
}

static void
cache_lru_eviction(void **state)
{
	struct dns_cache c;
	const char *names[] = { "a.test", "b.test", "c.test" };

	(void)state;
	assert_int_equal(dns_cache_init(&c, 3), 0);
	for (int i = 0; i < 3; i++) {
		complete_a(dns_cache_add(&c, NULL, names[i], 6, DNS_T_A), 60,
		    0);
	}
	/* a used lately; b is the least recently used */
	dns_cache_touch(&c, dns_cache_find(&c, "a.test", 6, DNS_T_A));
	complete_a(dns_cache_add(&c, NULL, "d.test", 6, DNS_T_A), 60, 0);
	assert_int_equal(c.count, 3);
	assert_null(dns_cache_find(&c, "b.test", 6, DNS_T_A));
	assert_non_null(dns_cache_find(&c, "a.test", 6, DNS_T_A));
	/* c is next, but held: e pushes out a instead */
	struct dns_entry *held = dns_cache_find(&c, "c.test", 6, DNS_T_A);
	dns_entry_ref(held);
	complete_a(dns_cache_add(&c, NULL, "e.test", 6, DNS_T_A), 60, 0);
	assert_non_null(dns_cache_find(&c, "c.test", 6, DNS_T_A));
	assert_null(dns_cache_find(&c, "a.test", 6, DNS_T_A));
	/* a held entry outlives its removal */
	dns_cache_flush(&c, false);
	assert_int_equal(c.count, 0);
	assert_string_equal(held->name, "c.test");
	dns_entry_unref(held);
	/* pending entries stay through a flush, unless told */
	dns_cache_add(&c, NULL, "p.test", 6, DNS_T_A);
	dns_cache_flush(&c, false);
	assert_int_equal(c.count, 1);
	dns_cache_flush(&c, true);
	assert_int_equal(c.count, 0);
	dns_cache_fini(&c);
}

static void
conf_check(void **state)
{
	struct dns_conf c;
	char err[200];

	(void)state;
	dns_conf_default(&c);
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), 0);
	strcpy(c.servers, "127.0.0.1:5353,[::1]:53,192.0.2.1");
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), 0);
	strcpy(c.servers, "not-an-address:53");
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad server list 'not-an-address:53'"));
	dns_conf_default(&c);
	c.timeout_ms = 0;
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dns, timeout 0 ms out of range (1-60000)");
	dns_conf_default(&c);
	c.tries = 11;
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), -EINVAL);
	dns_conf_default(&c);
	c.cache_size = 0;
	assert_int_equal(dns_conf_check(&c, err, sizeof(err)), -EINVAL);
	/* dns_new() refuses what the check refuses */
	struct event_base *base = event_base_new();
	c.cache_size = 10;
	c.timeout_ms = 70000;
	assert_null(dns_new(base, &c, err, sizeof(err)));
	event_base_free(base);
}

/* ---- the plan on a seeded cache ---- */

struct rig {
	struct event_base *base;
	struct dns *d;
	uint64_t now;
	uint64_t rng;
};

static uint64_t
rig_clock(void *arg)
{
	return ((struct rig *)arg)->now;
}

static uint32_t
rig_random(void *arg)
{
	(void)arg;
	return 0; /* the first record of each priority */
}

static int
rig_setup(void **state)
{
	static struct rig r;
	struct dns_conf c;
	char err[200];

	memset(&r, 0, sizeof(r));
	r.now = 1000000;
	r.base = event_base_new();
	dns_conf_default(&c);
	/* never reached: every test either answers from the cache or
	 * cancels before the loop runs */
	strcpy(c.servers, "127.0.0.1:9");
	r.d = dns_new(r.base, &c, err, sizeof(err));
	assert_non_null(r.d);
	dns_set_clock(r.d, rig_clock, &r);
	dns_set_random(r.d, rig_random, &r);
	*state = &r;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *r = *state;

	dns_free(r->d);
	event_base_free(r->base);
	return 0;
}

/* Put the answer w into r's cache for (name, type). */
static void
seed(struct rig *r, const char *name, uint16_t type, struct wb *w)
{
	struct dns_entry *e = dns_cache_add(dns_cache_of(r->d), r->d, name,
	    strlen(name), type);

	dns_entry_complete(e, w->b, w->n, 0, r->now, 86400, 300);
}

static void
seed_a(struct rig *r, const char *name, uint32_t ttl, uint8_t last)
{
	struct wb w;

	wb_begin(&w, 0, name, DNS_T_A, 1, 0);
	wb_a(&w, name, ttl, 127, 0, 0, last);
	seed(r, name, DNS_T_A, &w);
}

static void
seed_nodata(struct rig *r, const char *name, uint16_t type, unsigned rcode)
{
	struct wb w;

	wb_begin(&w, rcode, name, type, 0, 1);
	wb_soa(&w, "example.test", 300, 300);
	seed(r, name, type, &w);
}

static struct dns_req
mkreq(const char *host, uint16_t port, bool sips)
{
	struct dns_req q;

	memset(&q, 0, sizeof(q));
	q.host = host;
	q.host_len = strlen(host);
	q.port = port;
	q.sips = sips;
	q.tps = DNS_TP_ALL;
	q.families = DNS_AF_INET;
	return q;
}

static const char *
fmt(const struct dns_targets *ts, size_t i, char *buf)
{
	return dns_target_format(dns_targets_at(ts, i), buf, DNS_TARGET_TEXT);
}

static void
unexpected(void *arg, int rc, struct dns_targets *t)
{
	(void)arg;
	(void)rc;
	(void)t;
	fail_msg("no callback expected");
}

static void
on_failed(void *arg, const struct dns_target *t, unsigned ms_left)
{
	char b[DNS_TARGET_TEXT];

	assert_string_equal(dns_target_format(t, b, sizeof(b)),
	    "tcp 127.0.0.1:5071");
	assert_int_equal(ms_left, DNS_DEFAULT_BLACKLIST_MS);
	(*(unsigned *)arg)++;
}

static void
plan_naptr_srv_a(void **state)
{
	struct rig *r = *state;
	struct wb w;
	struct dns_targets *ts;
	struct dns_query *q;
	struct dns_req rq = mkreq("Example.Test", 0, false);
	char b[DNS_TARGET_TEXT];

	wb_begin(&w, 0, "example.test", DNS_T_NAPTR, 2, 0);
	wb_naptr(&w, "example.test", 120, 10, 20, "s", "SIP+D2U", "",
	    "_sip._udp.example.test");
	wb_naptr(&w, "example.test", 120, 10, 10, "s", "SIP+D2T", "",
	    "_sip._tcp.example.test");
	seed(r, "example.test", DNS_T_NAPTR, &w);
	wb_begin(&w, 0, "_sip._tcp.example.test", DNS_T_SRV, 2, 0);
	wb_srv(&w, "_sip._tcp.example.test", 120, 20, 0, 5072,
	    "b.example.test");
	wb_srv(&w, "_sip._tcp.example.test", 120, 10, 0, 5071,
	    "a.example.test");
	seed(r, "_sip._tcp.example.test", DNS_T_SRV, &w);
	wb_begin(&w, 0, "_sip._udp.example.test", DNS_T_SRV, 1, 0);
	wb_srv(&w, "_sip._udp.example.test", 120, 10, 0, 5070,
	    "a.example.test");
	seed(r, "_sip._udp.example.test", DNS_T_SRV, &w);
	seed_a(r, "a.example.test", 120, 1);
	seed_a(r, "b.example.test", 120, 2);

	/* whole chain cached: answered at once */
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_int_equal(dns_targets_count(ts), 3);
	/* NAPTR preference: TCP (10) before UDP (20); SRV priority */
	assert_string_equal(fmt(ts, 0, b), "tcp 127.0.0.1:5071");
	assert_string_equal(fmt(ts, 1, b), "tcp 127.0.0.2:5072");
	assert_string_equal(fmt(ts, 2, b), "udp 127.0.0.1:5070");

	/* failover: next, next; the failed one goes last in new lists */
	const struct dns_target *t = dns_targets_next(ts);
	dns_target_failed(r->d, t);
	assert_string_equal(dns_target_format(dns_targets_next(ts), b,
	    sizeof(b)), "tcp 127.0.0.2:5072");
	struct dns_targets *ts2;
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts2, &q),
	    0);
	assert_string_equal(fmt(ts2, 0, b), "tcp 127.0.0.2:5072");
	assert_string_equal(fmt(ts2, 2, b), "tcp 127.0.0.1:5071");
	dns_targets_free(ts2);
	/* the failed list, as `show dns` will list it */
	unsigned failed = 0;
	dns_failed_foreach(r->d, on_failed, &failed);
	assert_int_equal(failed, 1);
	assert_non_null(dns_targets_next(ts));
	assert_null(dns_targets_next(ts));
	dns_targets_free(ts);

	/* the failed target recovers after blacklist_ms */
	r->now += DNS_DEFAULT_BLACKLIST_MS;
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "tcp 127.0.0.1:5071");
	dns_targets_free(ts);

	/* the TTL (120 s) runs out: to the wire, or nothing from the
	 * cache alone */
	r->now += DNS_DEFAULT_BLACKLIST_MS;
	assert_int_equal(dns_resolve(r->d, &rq, NULL, NULL, &ts, &q),
	    -EAGAIN);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 1);
	assert_non_null(q);
	dns_cancel(q);
}

static void
plan_srv_probe_and_a(void **state)
{
	struct rig *r = *state;
	struct wb w;
	struct dns_targets *ts;
	struct dns_query *q;
	char b[DNS_TARGET_TEXT];

	/* no NAPTR: SRV probing finds TCP only */
	seed_nodata(r, "srv.test", DNS_T_NAPTR, 0);
	seed_nodata(r, "_sip._udp.srv.test", DNS_T_SRV, 3);
	seed_nodata(r, "_sips._tcp.srv.test", DNS_T_SRV, 3);
	wb_begin(&w, 0, "_sip._tcp.srv.test", DNS_T_SRV, 1, 0);
	wb_srv(&w, "_sip._tcp.srv.test", 60, 1, 1, 6000, "h.srv.test");
	seed(r, "_sip._tcp.srv.test", DNS_T_SRV, &w);
	seed_a(r, "h.srv.test", 60, 7);
	struct dns_req rq = mkreq("srv.test", 0, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_int_equal(dns_targets_count(ts), 1);
	assert_string_equal(fmt(ts, 0, b), "tcp 127.0.0.7:6000");
	dns_targets_free(ts);

	/* no NAPTR, no SRV: A on 5060 over UDP */
	seed_nodata(r, "a.test", DNS_T_NAPTR, 0);
	seed_nodata(r, "_sip._udp.a.test", DNS_T_SRV, 3);
	seed_nodata(r, "_sip._tcp.a.test", DNS_T_SRV, 3);
	seed_nodata(r, "_sips._tcp.a.test", DNS_T_SRV, 3);
	seed_a(r, "a.test", 60, 9);
	rq = mkreq("a.test", 0, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "udp 127.0.0.9:5060");
	dns_targets_free(ts);

	/* explicit port: A only, default transport; sips: TLS 5061 */
	rq = mkreq("a.test", 5999, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "udp 127.0.0.9:5999");
	dns_targets_free(ts);
	rq = mkreq("a.test", 0, true);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "tls 127.0.0.9:5061");
	dns_targets_free(ts);

	/* numeric IPs need no cache */
	rq = mkreq("[::1]", 0, true);
	rq.families = 0;
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "tls [::1]:5061");
	dns_targets_free(ts);
	rq = mkreq("192.0.2.1", 5070, false);
	rq.transport = "tcp";
	rq.transport_len = 3;
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q), 0);
	assert_string_equal(fmt(ts, 0, b), "tcp 192.0.2.1:5070");
	dns_targets_free(ts);

	/* negative answers are cached: NXDOMAIN of the NAPTR ends it */
	seed_nodata(r, "nx.test", DNS_T_NAPTR, 3);
	rq = mkreq("nx.test", 0, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q),
	    -ENOENT);

	/* bad hosts */
	rq = mkreq("a b.test", 0, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q),
	    -EINVAL);
	rq = mkreq("[zz]", 0, false);
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q),
	    -EINVAL);
	rq = mkreq("a.test", 0, true);
	rq.transport = "udp";
	rq.transport_len = 3;
	assert_int_equal(dns_resolve(r->d, &rq, unexpected, NULL, &ts, &q),
	    -EPROTONOSUPPORT);
}

struct listing {
	unsigned entries;
	bool saw_srv;
};

static void
on_entry(void *arg, const struct dns_cache_info *ci)
{
	struct listing *l = arg;
	char buf[DNS_RECORD_TEXT];

	l->entries++;
	if (strcmp(ci->type, "SRV") == 0 && ci->count == 1) {
		dns_cache_record(ci, 0, buf, sizeof(buf));
		assert_string_equal(buf, "1 1 6000 h.srv.test.");
		assert_int_equal(ci->ttl_left_s, 60);
		l->saw_srv = true;
	}
}

static void
listing_and_flush(void **state)
{
	struct rig *r = *state;
	struct wb w;
	struct listing l = { 0, false };

	wb_begin(&w, 0, "_sip._tcp.srv.test", DNS_T_SRV, 1, 0);
	wb_srv(&w, "_sip._tcp.srv.test", 60, 1, 1, 6000, "h.srv.test");
	seed(r, "_sip._tcp.srv.test", DNS_T_SRV, &w);
	seed_a(r, "h.srv.test", 60, 7);
	dns_cache_foreach(r->d, on_entry, &l);
	assert_int_equal(l.entries, 2);
	assert_true(l.saw_srv);
	dns_flush(r->d);
	l.entries = 0;
	dns_cache_foreach(r->d, on_entry, &l);
	assert_int_equal(l.entries, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_cname_chain),
		cmocka_unit_test(parse_srv_naptr),
		cmocka_unit_test(parse_negative_soa),
		cmocka_unit_test(parse_bad_input),
		cmocka_unit_test(cache_ttl),
		cmocka_unit_test(cache_lru_eviction),
		cmocka_unit_test(conf_check),
		cmocka_unit_test_setup_teardown(plan_naptr_srv_a, rig_setup,
		    rig_teardown),
		cmocka_unit_test_setup_teardown(plan_srv_probe_and_a,
		    rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(listing_and_flush, rig_setup,
		    rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
