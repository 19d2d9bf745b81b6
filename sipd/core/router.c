/*
 * The Router table applied to requests (sipd/router/rtr.h): before the
 * local-account lookup and before a destination is chosen, the
 * Request-URI of an out-of-dialog request without a Route goes through the
 * records and the SIP routing rules; a rewritten address replaces the
 * Request-URI, so the account lookup and route_target() see the result.
 * Also the hand-over points of what comes after the rules: the External
 * Gateways (core_route_gateway(), in gwcall.c) and "set relay-via".  Owns
 * the worker's copy of the records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd/core/core_int.h"

void
core_router_configure(struct core *c, const struct conf *conf)
{
	c->nrouter = conf->nrouter;
	memcpy(c->router, conf->router,
	    (size_t)conf->nrouter * sizeof(conf->router[0]));
	c->relay_via_set = false;
	if (conf->relay_via[0] != '\0') {
		/* checked when set: "address", "address:port", "[v6]:port" */
		const char *v = conf->relay_via, *end = strrchr(v, ']');
		const char *colon = strrchr(end != NULL ? end : v, ':');
		unsigned port = 5060;

		if (colon != NULL && (end != NULL || strchr(v, ':') == colon)) {
			port = (unsigned)strtoul(colon + 1, NULL, 10);
		} else {
			colon = v + strlen(v);
		}
		if (port > 0 && port < 65536 &&
		    route_addr((struct sv){ v, (size_t)(colon - v) },
			(uint16_t)port, &c->relay_via.addr,
			&c->relay_via.addrlen) == 0) {
			c->relay_via.proto = TP_UDP;
			c->relay_via_set = true;
		}
	}
}

const char *
core_main_domain(const struct acct *a)
{
	struct acct_domain_info d;

	if (a == NULL || acct_domain_count(a) == 0) {
		return NULL;
	}
	acct_domain_get(a, 0, &d);
	return d.name;
}

static const char *const proto_params[] = {
	[RTR_PROTO_UDP] = "udp",
	[RTR_PROTO_TCP] = "tcp",
	[RTR_PROTO_TLS] = "tls",
};

/* The Request-URI rebuilt for res: the scheme and the parameters kept
 * (but a transport the suffix replaced), the port while the host is the
 * same. */
static int
rewrite(struct msg *req, const struct uri *u, const struct rtr_result *res,
    bool same_host)
{
	struct sv scheme = msg_sv(req, u->scheme_s);
	struct sv params = msg_sv(req, u->params);
	char out[1024];
	size_t o;

	o = (size_t)snprintf(out, sizeof(out), "%.*s:", (int)scheme.len,
	    scheme.p);
	/* RFC 3261 25.1: the user part's own characters, the others
	 * escaped */
	for (const char *p = res->local; *p != '\0' && o + 3 < sizeof(out);
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("-_.!~*'()&=+$,;?/", *p) != NULL) {
			out[o++] = *p;
		} else {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%%%02X",
			    (unsigned char)*p);
		}
	}
	if (o < sizeof(out)) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
		    res->local[0] != '\0' ? "@" : "", res->domain);
	}
	if (same_host && u->port != 0 && o < sizeof(out)) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, ":%u", u->port);
	}
	/* each parameter but a transport the suffix set */
	for (size_t i = 0; i < params.len && o < sizeof(out);) {
		size_t j = i;
		while (j < params.len && params.p[j] != ';') {
			j++;
		}
		bool is_tp = j - i >= 9 &&
		    strncasecmp(params.p + i, "transport", 9) == 0 &&
		    (j - i == 9 || params.p[i + 9] == '=');
		if (j > i && !(is_tp && res->proto != RTR_PROTO_ANY)) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, ";%.*s",
			    (int)(j - i), params.p + i);
		}
		i = j + 1;
	}
	if (res->proto != RTR_PROTO_ANY && o < sizeof(out)) {
		o += (size_t)snprintf(out + o, sizeof(out) - o,
		    ";transport=%s", proto_params[res->proto]);
	}
	if (o >= sizeof(out)) {
		return -ENAMETOOLONG;
	}
	return msg_set_ruri(req, (struct sv){ out, o });
}

int
core_router(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct core_router_out *out)
{
	const struct uri *u = msg_ruri(req);
	char local[RTR_ADDR_MAX], domain[RTR_ADDR_MAX];
	struct rtr_result res;
	struct rtr_in rin;
	struct sv user, host;
	int rc;

	memset(out, 0, sizeof(*out));
	/* a gateway calling the Contact it registered: that account */
	core_gw_inbound(c, req, src);
	u = msg_ruri(req);
	/* a REGISTER names the registrar, not a user (RFC 3261 10.2) */
	if (u == NULL || (u->scheme != URI_SIP && u->scheme != URI_SIPS) ||
	    msg_method(req) == MSG_REGISTER) {
		return 0;
	}
	user = msg_sv(req, u->user);
	host = msg_sv(req, u->host);
	/* the Router sees the user part unescaped: "bob%25partner.net" is
	 * the address bob%partner.net */
	rc = uri_unescape(user, local, sizeof(local) - 1);
	if (rc < 0 || memchr(local, '\0', (size_t)rc) != NULL ||
	    host.len >= sizeof(domain)) {
		return 0;
	}
	local[rc] = '\0';
	memcpy(domain, host.p, host.len);
	domain[host.len] = '\0';
	rin.main_domain = core_main_domain(c->acct);
	rin.client = in->src_client || in->authenticated;
again:
	rc = rtr_route(c->router, c->nrouter, &rin, local, domain, &res);
	if (rc == -ELOOP) {
		core_answer(c, src, req, 482, "Router loop",
		    "more than 10 Router records applied");
		return -1;
	}
	if (rc < 0) {
		core_answer(c, src, req, 404, "Router address too long",
		    "Router rewrite too long");
		return -1;
	}
	if (res.norelay_skipped && !rin.client) {
		/* a NoRelay record is for clients: the sender may prove it
		 * is one (a 407 it answers with credentials); a stranger
		 * never gets past it */
		if (local_prove(c, req, src, in) <= 0) {
			return -1;
		}
		rin.client = true;
		goto again;
	}
	for (int i = 0; i < res.nsteps; i++) {
		log_info(LOG_SERVER, "router, record %d '%s' made %s",
		    res.steps[i].record + 1, c->router[res.steps[i].record].text,
		    res.steps[i].addr);
	}
	/* an address of sipd's with the name of an account of the main
	 * domain names that account; other names stay sipd's own */
	if (res.kind == RTR_IP && res.nsteps == 0 && res.local[0] != '\0' &&
	    rin.main_domain != NULL &&
	    route_is_local(c, (struct sv){ res.domain, strlen(res.domain) },
		u->port, u->scheme == URI_SIPS)) {
		struct acct_target t;
		enum acct_kind k = acct_resolve(c->acct, res.local,
		    strlen(res.local), rin.main_domain,
		    strlen(rin.main_domain), &t);

		if (k == ACCT_LOCAL || k == ACCT_FORWARD) {
			snprintf(res.domain, sizeof(res.domain), "%s",
			    rin.main_domain);
			res.changed = true;
		}
	}
	if (res.changed) {
		/* the port stays with its host, suffix or not */
		size_t dl = strlen(domain), rl = strlen(res.domain);
		bool same = rl <= dl &&
		    strncasecmp(res.domain, domain, rl) == 0 &&
		    (rl == dl || (res.proto != RTR_PROTO_ANY && rl + 4 == dl));
		if (rewrite(req, u, &res, same) < 0) {
			core_answer(c, src, req, 500, NULL,
			    "Request-URI rewrite failed");
			return -1;
		}
	}
	if (res.kind == RTR_GATEWAY) {
		/* the Request-URI says "number@Name.sipgw": the gateway
		 * takes the number from it */
		out->gateway = true;
		snprintf(out->gw_name, sizeof(out->gw_name), "%s", res.gateway);
		return 0;
	}
	/* Relay via: host names sent on by DNS go through it, but not what
	 * was routed explicitly (IP literals, gateways, a record's host) */
	if (c->relay_via_set && res.kind == RTR_HOST && res.dotted &&
	    !res.by_record && res.proto == RTR_PROTO_ANY &&
	    !acct_domain_is_local(c->acct, res.domain, strlen(res.domain))) {
		out->via = true;
		out->dst = c->relay_via;
	}
	return 0;
}
