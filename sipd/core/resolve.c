/*
 * Destinations named by a host name (RFC 3263): the request's next hop
 * (its first Route once sipd's own are gone, else its Request-URI), or
 * the host name "set relay-via" names, is looked up with the worker's
 * resolver once the relay policy has allowed the request, never before.
 * An answer from the cache is used at once; otherwise the request waits
 * in its server transaction (which absorbs retransmissions) until the
 * lookup ends, and the lookup is cancelled if the transaction ends
 * first.  A UDP target the URI did not ask for is subject to the size
 * limit (RFC 3261 18.1.1) like any other.  The list of targets it gives
 * is the retry order of the whole transaction (4.3): proxy.c takes the
 * next one after a transport error, Timer B or F, or a 503.  Owns the
 * lookup and the list of one response context (struct proxy_dns).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

#define DNS_NAME_BUF 256

struct proxy_dns {
	struct dns_query *q;           /* on its way, NULL once ended */
	struct dns_targets *ts;        /* the list, once resolved */
	const struct dns_target *cur;  /* the one tried now, in ts */
	bool tp_explicit;              /* the URI named its transport */
	/* RFC 5922 4: the domain a TLS server's certificate must name, the
	 * URI's host (the targets' client transactions hold p, so it lives
	 * as long as they do) */
	char host[DNS_NAME_BUF];
};

/* The next hop's URI of req, as route_target() reads it. */
static const struct uri *
next_hop(struct msg *req)
{
	const struct msg_naddr *routes;

	if (msg_naddrs(req, HDR_ROUTE, &routes) > 0) {
		return &routes[0].uri;
	}
	return msg_ruri(req);
}

static void
resolved(void *arg, int rc, struct dns_targets *ts)
{
	struct pctx *p = arg;
	struct core *c = p->c;

	p->dns->q = NULL;
	p->dns->ts = ts;
	if (c->loop != NULL) {
		c->loop(c->loop_arg, false);
	}
	proxy_resolved(p, rc); /* may free p */
	if (c->loop != NULL) {
		c->loop(c->loop_arg, true);
	}
}

/* RFC 3263 4: what to resolve for the next hop u of m. */
static void
fill_req(struct core *c, const char *base, const struct uri *u,
    struct dns_req *rq)
{
	struct sv maddr, t;

	memset(rq, 0, sizeof(*rq));
	/* the TARGET is maddr when there is one */
	if (uri_param(base, u, "maddr", &maddr) && maddr.len > 0) {
		rq->host = maddr.p;
		rq->host_len = maddr.len;
	} else {
		rq->host = base + u->host.off;
		rq->host_len = u->host.len;
	}
	rq->port = u->port;
	if (uri_param(base, u, "transport", &t)) {
		rq->transport = t.p;
		rq->transport_len = t.len;
	}
	rq->sips = u->scheme == URI_SIPS;
	rq->tps = c->dns_tps;
	rq->families = c->dns_families;
}

/* Target d as a destination. */
static void
target_dst(const struct dns_target *d, struct tp_src *dst)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(&dst->addr, &d->addr, d->addr_len);
	dst->addrlen = d->addr_len;
	/* enum dns_tp has enum tp_proto's order (dns.h) */
	dst->proto = (enum tp_proto)d->tp;
}

int
resolve_begin(struct core *c, struct pctx *p, struct msg *req, bool via)
{
	/* relay-via: the outbound proxy's name, the request's own next hop
	 * left for that proxy to route (the certificate names the proxy) */
	const struct uri *u = via ? &c->relay_via_uri : next_hop(req);
	const char *base = via ? c->relay_via_text : msg_buf(req);
	struct dns_req rq;
	int rc;

	if (c->dns == NULL || u == NULL) {
		return -ENOENT;
	}
	p->dns = calloc(1, sizeof(*p->dns));
	if (p->dns == NULL) {
		return -ENOMEM;
	}
	fill_req(c, base, u, &rq);
	p->dns->tp_explicit = rq.sips || rq.transport_len > 0;
	if (u->host.len < sizeof(p->dns->host)) {
		memcpy(p->dns->host, base + u->host.off, u->host.len);
		p->dns->host[u->host.len] = '\0';
	}
	rc = dns_resolve(c->dns, &rq, resolved, p, &p->dns->ts, &p->dns->q);
	if (rc == 1) {
		p->refs++; /* the lookup's, dropped by proxy_resolved() */
	}
	return rc;
}

int
resolve_cached(struct core *c, struct msg *m, struct tp_src *dst)
{
	const struct uri *u = next_hop(m);
	struct dns_targets *ts = NULL;
	const struct dns_target *d;
	struct dns_req rq;
	int rc;

	if (c->dns == NULL || u == NULL) {
		return -ENOENT;
	}
	fill_req(c, msg_buf(m), u, &rq);
	rc = dns_resolve(c->dns, &rq, NULL, NULL, &ts, NULL);
	if (rc == 0) {
		d = dns_targets_next(ts);
		if (d != NULL) {
			target_dst(d, dst);
		}
		rc = d != NULL ? 0 : -ENODATA;
	}
	dns_targets_free(ts);
	return rc;
}

bool
resolve_next(struct pctx *p, struct proxy_target *t)
{
	char text[DNS_TARGET_TEXT];
	const struct dns_target *d;

	if (p->dns == NULL || p->dns->ts == NULL ||
	    (d = dns_targets_next(p->dns->ts)) == NULL) {
		return false;
	}
	p->dns->cur = d;
	target_dst(d, &t->dst);
	/* RFC 3261 18.1.1: UDP that DNS chose (NAPTR, SRV or the default of
	 * RFC 3263 4.1), not the URI, gives way to TCP on the same address
	 * for a request over the size limit, as an IP literal's does; the
	 * noTCP workaround may still hold it to UDP */
	t->proto_set = p->dns->tp_explicit || d->tp != DNS_TP_UDP;
	if (d->tp == DNS_TP_TLS && p->dns->host[0] != '\0') {
		t->dst.host = p->dns->host;
	}
	log_info(LOG_CLIENT, "dns, trying %s",
	    dns_target_format(d, text, sizeof(text)));
	return true;
}

void
resolve_failed(struct pctx *p)
{
	char text[DNS_TARGET_TEXT];

	if (p->dns == NULL || p->dns->cur == NULL) {
		return;
	}
	log_notice(LOG_CLIENT, "dns, target %s failed, avoided for a while",
	    dns_target_format(p->dns->cur, text, sizeof(text)));
	dns_target_failed(p->c->dns, p->dns->cur);
	p->dns->cur = NULL;
}

bool
resolve_cancel(struct pctx *p)
{
	if (p->dns == NULL || p->dns->q == NULL) {
		return false;
	}
	dns_cancel(p->dns->q);
	p->dns->q = NULL;
	return true;
}

void
resolve_free(struct pctx *p)
{
	if (p->dns != NULL) {
		dns_cancel(p->dns->q);
		dns_targets_free(p->dns->ts);
		free(p->dns);
		p->dns = NULL;
	}
}

int
resolve_status(int err, const char **reason)
{
	switch (err) {
	case -ETIMEDOUT:
		*reason = "Service Unavailable (DNS timeout)";
		return 503;
	case -EIO:
		*reason = "Service Unavailable (DNS server failure)";
		return 503;
	case -ENOMEM:
		*reason = NULL;
		return 500;
	case -EPROTONOSUPPORT:
		/* sips: with no TLS, or a transport sipd cannot send on */
		*reason = "Unsupported URI Scheme (no usable transport)";
		return 416;
	case -ENOENT:
		/* RFC 3263 does not make it a 604: the domain, not the user,
		 * is unknown, and only here */
		*reason = "Not Found (no such domain)";
		return 404;
	default:
		*reason = "Not Found (no SIP server for the domain)";
		return 404;
	}
}
