/*
 * rules: the choices of RFC 3263 and RFC 2782 that need no lookup: which
 * transport a URI fixes by itself, which NAPTR records a client may
 * follow and in what order, and the order of SRV records.  Pure functions
 * over data already parsed (the NAPTR and SRV fields come from the wire
 * and are untrusted: any value is ordered or refused, never trusted).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sipd/dns/dns_int.h"

const char *
dns_tp_name(enum dns_tp tp)
{
	switch (tp) {
	case DNS_TP_UDP:
		return "udp";
	case DNS_TP_TCP:
		return "tcp";
	case DNS_TP_TLS:
		return "tls";
	default:
		return "?";
	}
}

const char *
dns_srv_prefix(enum dns_tp tp)
{
	switch (tp) {
	case DNS_TP_UDP:
		return "_sip._udp";
	case DNS_TP_TCP:
		return "_sip._tcp";
	default:
		return "_sips._tcp";
	}
}

int
dns_tp_param(const char *s, size_t len)
{
	static const char *const names[] = { "udp", "tcp", "tls" };

	for (int i = 0; i < DNS__TP_COUNT; i++) {
		if (len == 3 && strncasecmp(s, names[i], 3) == 0) {
			return i;
		}
	}
	return -1;
}

int
dns_tp_default(bool sips, unsigned tps, enum dns_tp *tp)
{
	/* RFC 3263 4.1: UDP for sip:, TCP (TLS) for sips: */
	static const enum dns_tp sip_order[] = { DNS_TP_UDP, DNS_TP_TCP,
		DNS_TP_TLS };

	if (sips) {
		if (!(tps & DNS_TP_BIT(DNS_TP_TLS))) {
			return -EPROTONOSUPPORT;
		}
		*tp = DNS_TP_TLS;
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		if (tps & DNS_TP_BIT(sip_order[i])) {
			*tp = sip_order[i];
			return 0;
		}
	}
	return -EPROTONOSUPPORT;
}

int
dns_tp_fixed(const struct dns_req *rq, bool is_ip, enum dns_tp *tp)
{
	if (rq->transport != NULL) {
		int t = dns_tp_param(rq->transport, rq->transport_len);

		if (t < 0) {
			return -EPROTONOSUPPORT; /* sctp, ws, ...: not ours */
		}
		/* RFC 3261 26.2: sips: runs over TLS; transport=tcp names
		 * the TCP under it, and there is no sips: over UDP */
		if (rq->sips) {
			if (t == DNS_TP_UDP) {
				return -EPROTONOSUPPORT;
			}
			t = DNS_TP_TLS;
		}
		if (!(rq->tps & DNS_TP_BIT(t))) {
			return -EPROTONOSUPPORT;
		}
		*tp = (enum dns_tp)t;
		return 0;
	}
	/* RFC 3263 4.1: a numeric IP, or an explicit port, takes the
	 * default transport of the scheme */
	if (is_ip || rq->port != 0) {
		if (rq->sips) {
			if (!(rq->tps & DNS_TP_BIT(DNS_TP_TLS))) {
				return -EPROTONOSUPPORT;
			}
			*tp = DNS_TP_TLS;
			return 0;
		}
		if (!(rq->tps & DNS_TP_BIT(DNS_TP_UDP))) {
			/* the RFC's default is UDP; with no UDP listener TCP
			 * is the one that can reach the same port */
			if (!(rq->tps & DNS_TP_BIT(DNS_TP_TCP))) {
				return -EPROTONOSUPPORT;
			}
			*tp = DNS_TP_TCP;
			return 0;
		}
		*tp = DNS_TP_UDP;
		return 0;
	}
	return 1;
}

size_t
dns_naptr_select(const struct dns_rr *rr, size_t n, bool sips,
    unsigned tps, struct dns_naptr_pick *out, size_t cap)
{
	static const struct {
		const char *service;
		enum dns_tp tp;
	} services[] = {
		{ "SIP+D2U", DNS_TP_UDP },
		{ "SIP+D2T", DNS_TP_TCP },
		{ "SIPS+D2T", DNS_TP_TLS },
	};
	/* indices of the usable records, sorted by (order, preference) */
	size_t idx[DNS_MAX_RRS];
	enum dns_tp tpof[DNS_MAX_RRS];
	size_t k = 0;

	for (size_t i = 0; i < n && k < DNS_MAX_RRS; i++) {
		const struct dns_naptr *r = &rr[i].u.naptr;
		int tp = -1;

		/* RFC 3263 4.1: the flags "s" lead to SRV; a regexp is
		 * not used by SIP, and the replacement must name a domain */
		if (strcasecmp(r->flags, "s") != 0 || r->regexp[0] != '\0' ||
		    r->repl[0] == '\0') {
			continue;
		}
		for (size_t s = 0; s < 3; s++) {
			if (strcasecmp(r->service, services[s].service) == 0) {
				tp = (int)services[s].tp;
			}
		}
		if (tp < 0 || !(tps & DNS_TP_BIT(tp))) {
			continue;
		}
		/* RFC 3263 4.1: a sips: URI only follows SIPS+D2T */
		if (sips && tp != DNS_TP_TLS) {
			continue;
		}
		/* insertion sort, stable */
		size_t j = k;
		while (j > 0) {
			const struct dns_naptr *p = &rr[idx[j - 1]].u.naptr;
			if (p->order < r->order || (p->order == r->order &&
			    p->pref <= r->pref)) {
				break;
			}
			idx[j] = idx[j - 1];
			tpof[j] = tpof[j - 1];
			j--;
		}
		idx[j] = i;
		tpof[j] = (enum dns_tp)tp;
		k++;
	}
	size_t m = 0;
	for (size_t i = 0; i < k && m < cap; i++) {
		/* RFC 3403 4.1: once a record of one order matched, records
		 * of a higher order are not considered */
		if (rr[idx[i]].u.naptr.order != rr[idx[0]].u.naptr.order) {
			break;
		}
		/* one name per transport: a repeat adds nothing */
		bool dup = false;
		for (size_t j = 0; j < m; j++) {
			if (out[j].tp == tpof[i] &&
			    strcmp(out[j].repl, rr[idx[i]].u.naptr.repl) == 0) {
				dup = true;
			}
		}
		if (dup) {
			continue;
		}
		out[m].tp = tpof[i];
		out[m].repl = rr[idx[i]].u.naptr.repl;
		m++;
	}
	return m;
}

void
dns_srv_order(struct dns_srv *v, size_t n, uint32_t (*rnd)(void *),
    void *arg)
{
	/* by priority, ascending (insertion sort: stable, n is small) */
	for (size_t i = 1; i < n; i++) {
		struct dns_srv x = v[i];
		size_t j = i;

		while (j > 0 && v[j - 1].prio > x.prio) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	for (size_t lo = 0; lo < n;) {
		size_t hi = lo;

		while (hi < n && v[hi].prio == v[lo].prio) {
			hi++;
		}
		/* RFC 2782: within a priority, records of weight 0 first,
		 * then repeatedly: sum the remaining weights, draw r in
		 * [0, sum], take the first whose running sum reaches r */
		size_t z = lo;
		for (size_t i = lo; i < hi; i++) {
			if (v[i].weight == 0) {
				struct dns_srv x = v[i];
				memmove(&v[z + 1], &v[z],
				    (i - z) * sizeof(v[0]));
				v[z++] = x;
			}
		}
		for (size_t pos = lo; pos + 1 < hi; pos++) {
			uint32_t sum = 0, run = 0;

			for (size_t i = pos; i < hi; i++) {
				sum += v[i].weight;
			}
			uint32_t r = rnd(arg) % (sum + 1);
			size_t pick = pos;
			for (size_t i = pos; i < hi; i++) {
				run += v[i].weight;
				if (run >= r) {
					pick = i;
					break;
				}
			}
			struct dns_srv x = v[pick];
			memmove(&v[pos + 1], &v[pos],
			    (pick - pos) * sizeof(v[0]));
			v[pos] = x;
		}
		lo = hi;
	}
}
