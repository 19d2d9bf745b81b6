/*
 * fuzz_dns: the resolver's reading of untrusted DNS answers.  The first
 * byte picks the query type (bits 0-1: A, AAAA, SRV, NAPTR), the URI
 * scheme (bit 2: sips) and the transports at hand (bits 3-5); the rest is
 * the answer, whose question names the query.  It goes through
 * dns_wire_parse(), then into a cache entry (dns_entry_complete()), and
 * its NAPTR and SRV records through the RFC 3263 selection and the
 * RFC 2782 ordering.
 *
 * Checked besides the sanitizers: a record count within the bound, every
 * string NUL-terminated inside the answer's block, NAPTR picks only of
 * the transports offered (TLS only for sips), the SRV order a permutation
 * by ascending priority, an entry that is "ok" only with records.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "fuzz_check.h"
#include "sipd/dns/dns_int.h"

static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_SRV,
	DNS_T_NAPTR };

static uint32_t
fixed_rng(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
check_str(const char *s)
{
	FUZZ_CHECK(s != NULL);
	fuzz_touch(s, strlen(s) + 1);
}

static void
check_answer(const struct dns_answer *a, uint16_t type, bool sips,
    unsigned tps)
{
	FUZZ_CHECK(a->n <= DNS_MAX_RRS);
	if (type == DNS_T_NAPTR) {
		struct dns_naptr_pick p[DNS_MAX_NAPTR];

		for (size_t i = 0; i < a->n; i++) {
			check_str(a->rr[i].u.naptr.flags);
			check_str(a->rr[i].u.naptr.service);
			check_str(a->rr[i].u.naptr.regexp);
			check_str(a->rr[i].u.naptr.repl);
		}
		size_t n = dns_naptr_select(a->rr, a->n, sips, tps, p,
		    DNS_MAX_NAPTR);
		FUZZ_CHECK(n <= DNS_MAX_NAPTR);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(tps & DNS_TP_BIT(p[i].tp));
			FUZZ_CHECK(!sips || p[i].tp == DNS_TP_TLS);
			FUZZ_CHECK(p[i].repl[0] != '\0');
		}
	}
	if (type == DNS_T_SRV) {
		struct dns_srv v[DNS_MAX_SRV];
		uint32_t seed = 1;
		size_t n = a->n < DNS_MAX_SRV ? a->n : DNS_MAX_SRV;
		unsigned seen = 0;

		for (size_t i = 0; i < n; i++) {
			check_str(a->rr[i].u.srv.target);
			v[i] = a->rr[i].u.srv;
			v[i].port = (uint16_t)i; /* to follow each record */
		}
		dns_srv_order(v, n, fixed_rng, &seed);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(v[i].port < n);
			FUZZ_CHECK(!(seen & (1u << v[i].port)));
			seen |= 1u << v[i].port;
			FUZZ_CHECK(i == 0 || v[i - 1].prio <= v[i].prio);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[DNS_NAME_MAX + 1] = "example.test";
	struct dns_answer a;
	struct dns_cache c;

	if (size < 1 || size > 65536) {
		return 0;
	}
	uint16_t type = types[data[0] & 3];
	bool sips = (data[0] & 4) != 0;
	unsigned tps = (data[0] >> 3) & DNS_TP_ALL;
	const uint8_t *buf = data + 1;
	size_t len = size - 1;

	/* the question's name is the query's */
	if (len > 12) {
		char *s = NULL;
		long enclen;

		if (ares_expand_name(buf + 12, buf, (int)len, &s, &enclen) ==
		    ARES_SUCCESS) {
			dns_name_norm(qname, s, strlen(s));
			ares_free_string(s);
		}
	}

	if (dns_wire_parse(buf, len, qname, type, &a) == 0) {
		check_answer(&a, type, sips, tps);
		dns_answer_fini(&a);
	}

	if (dns_cache_init(&c, 4) == 0) {
		struct dns_entry *e = dns_cache_add(&c, NULL, qname,
		    strlen(qname), type);
		if (e != NULL) {
			dns_entry_complete(e, buf, len, 0, 1000, 86400, 300);
			FUZZ_CHECK(e->state != DNS_E_PENDING);
			FUZZ_CHECK(e->state != DNS_E_OK || e->ans.n > 0);
			FUZZ_CHECK(e->state == DNS_E_FAILED ||
			    e->expires >= 1000);
			if (e->state == DNS_E_OK) {
				check_answer(&e->ans, type, sips, tps);
			}
		}
		dns_cache_fini(&c);
	}
	return 0;
}
