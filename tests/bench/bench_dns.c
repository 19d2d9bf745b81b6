/*
 * bench_dns: what resolving a destination from the resolver's cache costs.
 * The cache is seeded with the answers a SIP domain gives (NAPTR for UDP
 * and TCP, two SRV records each, their A records), then dns_resolve() runs
 * N times on it, each time building and freeing the ordered target list,
 * as the proxy would per request.  Printed: nanoseconds per resolution for
 * the full NAPTR -> SRV -> A chain, for SRV probing with a negative NAPTR,
 * for an A lookup with an explicit port, and for an IP literal (no cache),
 * the floor.
 *
 * Usage: bench_dns [N]    (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "sipd/dns/dns_int.h"
#include "../unit/dns/wirebuild.h"

static uint64_t
ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
seed(struct dns *d, const char *name, uint16_t type, struct wb *w)
{
	struct dns_entry *e = dns_cache_add(dns_cache_of(d), d, name,
	    strlen(name), type);

	dns_entry_complete(e, w->b, w->n, 0, dns_now(d), 86400, 300);
}

static void
seed_a(struct dns *d, const char *name, uint8_t last)
{
	struct wb w;

	wb_begin(&w, 0, name, DNS_T_A, 1, 0);
	wb_a(&w, name, 3600, 127, 0, 0, last);
	seed(d, name, DNS_T_A, &w);
}

static void
seed_none(struct dns *d, const char *name, uint16_t type, unsigned rcode)
{
	struct wb w;

	wb_begin(&w, rcode, name, type, 0, 1);
	wb_soa(&w, "test", 3600, 3600);
	seed(d, name, type, &w);
}

static double
run(struct dns *d, const struct dns_req *rq, long n, size_t want)
{
	struct dns_targets *ts;
	struct dns_query *q;

	uint64_t t0 = ns_now();
	for (long i = 0; i < n; i++) {
		if (dns_resolve(d, rq, NULL, NULL, &ts, &q) != 0 ||
		    dns_targets_count(ts) != want) {
			fprintf(stderr, "bench_dns: not answered from the "
			    "cache\n");
			exit(1);
		}
		dns_targets_free(ts);
	}
	return (double)(ns_now() - t0) / (double)n;
}

static struct dns_req
req(const char *host, uint16_t port)
{
	struct dns_req r;

	memset(&r, 0, sizeof(r));
	r.host = host;
	r.host_len = strlen(host);
	r.port = port;
	r.tps = DNS_TP_ALL;
	r.families = DNS_AF_INET;
	return r;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct event_base *base = event_base_new();
	struct dns_conf c;
	char err[200];
	struct wb w;

	dns_conf_default(&c);
	strcpy(c.servers, "127.0.0.1:9"); /* never asked: all cached */
	struct dns *d = dns_new(base, &c, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	/* example.test: NAPTR UDP and TCP, two SRV targets each */
	wb_begin(&w, 0, "example.test", DNS_T_NAPTR, 2, 0);
	wb_naptr(&w, "example.test", 3600, 10, 10, "s", "SIP+D2U", "",
	    "_sip._udp.example.test");
	wb_naptr(&w, "example.test", 3600, 10, 20, "s", "SIP+D2T", "",
	    "_sip._tcp.example.test");
	seed(d, "example.test", DNS_T_NAPTR, &w);
	wb_begin(&w, 0, "_sip._udp.example.test", DNS_T_SRV, 2, 0);
	wb_srv(&w, "_sip._udp.example.test", 3600, 10, 60, 5060,
	    "a.example.test");
	wb_srv(&w, "_sip._udp.example.test", 3600, 10, 40, 5060,
	    "b.example.test");
	seed(d, "_sip._udp.example.test", DNS_T_SRV, &w);
	wb_begin(&w, 0, "_sip._tcp.example.test", DNS_T_SRV, 2, 0);
	wb_srv(&w, "_sip._tcp.example.test", 3600, 10, 60, 5060,
	    "a.example.test");
	wb_srv(&w, "_sip._tcp.example.test", 3600, 20, 0, 5060,
	    "b.example.test");
	seed(d, "_sip._tcp.example.test", DNS_T_SRV, &w);
	seed_a(d, "a.example.test", 1);
	seed_a(d, "b.example.test", 2);

	/* srv.test: no NAPTR, _sip._udp only */
	seed_none(d, "srv.test", DNS_T_NAPTR, 0);
	wb_begin(&w, 0, "_sip._udp.srv.test", DNS_T_SRV, 1, 0);
	wb_srv(&w, "_sip._udp.srv.test", 3600, 10, 0, 5060,
	    "a.example.test");
	seed(d, "_sip._udp.srv.test", DNS_T_SRV, &w);
	seed_none(d, "_sip._tcp.srv.test", DNS_T_SRV, 3);
	seed_none(d, "_sips._tcp.srv.test", DNS_T_SRV, 3);

	struct dns_req naptr = req("example.test", 0);
	struct dns_req srv = req("srv.test", 0);
	struct dns_req port = req("a.example.test", 5080);
	struct dns_req ip = req("192.0.2.1", 0);

	run(d, &naptr, n / 10 + 1, 4); /* warm up */
	printf("bench_dns: %ld resolutions each, from the cache\n", n);
	printf("  NAPTR -> SRV -> A (4 targets)   %7.1f ns\n",
	    run(d, &naptr, n, 4));
	printf("  SRV probe -> A (1 target)       %7.1f ns\n",
	    run(d, &srv, n, 1));
	printf("  A, explicit port (1 target)     %7.1f ns\n",
	    run(d, &port, n, 1));
	printf("  IP literal, no cache (floor)    %7.1f ns\n",
	    run(d, &ip, n, 1));
	dns_free(d);
	event_base_free(base);
	return 0;
}
