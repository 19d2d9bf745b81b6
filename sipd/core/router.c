/*
 * The Router table applied to requests (sipd/router/rtr.h): before the
 * local-account lookup and before a destination is chosen, the address a
 * request is for goes through the records and the SIP routing rules: its
 * first Route entry once sipd's own are gone (out of a dialog), else its
 * Request-URI.  A rewritten address replaces that entry or the
 * Request-URI, so the account lookup and route_target() see the result.
 * Also the hand-over points of what comes after the rules: the External
 * Gateways (core_route_gateway(), in gwcall.c), "set relay-via", and
 * the media relay a record asks for or forbids (media.c).  Owns
 * the worker's copy of the records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd/core/core_int.h"

/*
 * "set relay-via" naming a host: the URI "sip:name[:port]" resolved by
 * RFC 3263 (SRV without a port, 4.2), as an outbound proxy's is.  True
 * when v parses as one.
 */
static bool
relay_via_name(struct core *c, const char *v)
{
	int n = snprintf(c->relay_via_text, sizeof(c->relay_via_text),
	    "sip:%s", v);

	c->relay_via_name = false;
	if (n < 0 || (size_t)n >= sizeof(c->relay_via_text) ||
	    uri_parse(c->relay_via_text, (struct span){ 0, (uint32_t)n },
		&c->relay_via_uri) != 0 ||
	    c->relay_via_uri.host.len == 0 ||
	    c->relay_via_text[c->relay_via_uri.host.off] == '[') {
		return false;
	}
	memset(&c->relay_via, 0, sizeof(c->relay_via));
	c->relay_via.proto = TP_UDP;
	c->relay_via_name = true;
	return true;
}

void
core_router_configure(struct core *c, const struct conf *conf)
{
	c->nrouter = conf->nrouter;
	memcpy(c->router, conf->router,
	    (size_t)conf->nrouter * sizeof(conf->router[0]));
	snprintf(c->main_domain, sizeof(c->main_domain), "%s",
	    conf->main_domain);
	c->relay_via_set = false;
	c->relay_via_name = false;
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
		} else if (relay_via_name(c, v)) {
			c->relay_via_set = true;
		}
	}
}

const char *
core_main_domain(const struct acct *a, const char *main)
{
	struct acct_domain_info d;
	struct acct_target t;

	if (a == NULL || acct_domain_count(a) == 0) {
		return NULL;
	}
	/* a domain set that is not (or no longer) local gives way to the
	 * first, as with none set */
	if (main != NULL && main[0] != '\0' &&
	    acct_resolve(a, "", 0, main, strlen(main), &t) != ACCT_FOREIGN) {
		return t.domain;
	}
	acct_domain_get(a, 0, &d);
	return d.name;
}

static const char *const proto_params[] = {
	[RTR_PROTO_UDP] = "udp",
	[RTR_PROTO_TCP] = "tcp",
	[RTR_PROTO_TLS] = "tls",
};

/* The URI u of req rebuilt for res into out: the scheme and the
 * parameters kept (but a transport the suffix replaced), the port while
 * the host is the same.  Its length, or -ENAMETOOLONG. */
static int
rewrite(struct msg *req, const struct uri *u, const struct rtr_result *res,
    bool same_host, char *out, size_t cap)
{
	struct sv scheme = msg_sv(req, u->scheme_s);
	struct sv params = msg_sv(req, u->params);
	size_t o;

	o = (size_t)snprintf(out, cap, "%.*s:", (int)scheme.len,
	    scheme.p);
	/* RFC 3261 25.1: the user part's own characters, the others
	 * escaped */
	for (const char *p = res->local; *p != '\0' && o + 3 < cap;
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("-_.!~*'()&=+$,;?/", *p) != NULL) {
			out[o++] = *p;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "%%%02X",
			    (unsigned char)*p);
		}
	}
	if (o < cap) {
		o += (size_t)snprintf(out + o, cap - o, "%s%s",
		    res->local[0] != '\0' ? "@" : "", res->domain);
	}
	if (same_host && u->port != 0 && o < cap) {
		o += (size_t)snprintf(out + o, cap - o, ":%u", u->port);
	}
	/* each parameter but a transport the suffix set */
	for (size_t i = 0; i < params.len && o < cap;) {
		size_t j = i;
		while (j < params.len && params.p[j] != ';') {
			j++;
		}
		bool is_tp = j - i >= 9 &&
		    strncasecmp(params.p + i, "transport", 9) == 0 &&
		    (j - i == 9 || params.p[i + 9] == '=');
		if (j > i && !(is_tp && res->proto != RTR_PROTO_ANY)) {
			o += (size_t)snprintf(out + o, cap - o, ";%.*s",
			    (int)(j - i), params.p + i);
		}
		i = j + 1;
	}
	if (res->proto != RTR_PROTO_ANY && o < cap) {
		o += (size_t)snprintf(out + o, cap - o,
		    ";transport=%s", proto_params[res->proto]);
	}
	if (o >= cap) {
		return -ENAMETOOLONG;
	}
	return (int)o;
}

/*
 * Replace the URI of the first Route entry of req by uri, keeping its
 * display name and header parameters and the other entries of its
 * header line as written.
 */
static int
set_first_route(struct msg *req, struct sv uri)
{
	const struct msg_naddr *routes;
	int n = msg_naddrs(req, HDR_ROUTE, &routes);
	size_t cap = uri.len + 8, len = 0;
	char *buf;
	int rc;

	if (n <= 0) {
		return -EINVAL;
	}
	for (int i = 0; i < n && routes[i].hdr == routes[0].hdr; i++) {
		cap += routes[i].value.len + 2;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		return -ENOMEM;
	}
	for (int i = 0; i < n && routes[i].hdr == routes[0].hdr; i++) {
		struct sv v = msg_sv(req, routes[i].value);

		if (i > 0) {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
		if (i == 0) {
			struct sv d = msg_sv(req, routes[0].display);
			struct sv hp = msg_sv(req, routes[0].params);

			len += (size_t)snprintf(buf + len, cap - len,
			    "%.*s%s<%.*s>%s%.*s", (int)d.len, d.p,
			    d.len ? " " : "", (int)uri.len, uri.p,
			    hp.len ? ";" : "", (int)hp.len, hp.p);
			continue;
		}
		memcpy(buf + len, v.p, v.len);
		len += v.len;
	}
	rc = msg_hdr_replace(req, routes[0].hdr, (struct sv){ buf, len });
	free(buf);
	return rc;
}

enum acct_kind
core_router_account(struct core *c, struct sv user, struct sv host,
    struct acct_target *t)
{
	char local[RTR_ADDR_MAX], domain[RTR_ADDR_MAX];
	struct rtr_result res;
	struct rtr_in rin;
	int n;

	if (c->acct == NULL || c->nrouter == 0 || host.len >= sizeof(domain)) {
		return ACCT_FOREIGN;
	}
	n = uri_unescape(user, local, sizeof(local) - 1);
	if (n < 0 || memchr(local, '\0', (size_t)n) != NULL) {
		return ACCT_FOREIGN;
	}
	local[n] = '\0';
	memcpy(domain, host.p, host.len);
	domain[host.len] = '\0';
	memset(&rin, 0, sizeof(rin));
	rin.main_domain = core_main_domain(c->acct, c->main_domain);
	/* a NoRelay record is about relaying, not about who one is */
	rin.client = false;
	if (rtr_route(c->router, c->nrouter, &rin, local, domain, &res) != 0 ||
	    res.nsteps == 0 || res.kind != RTR_HOST) {
		return ACCT_FOREIGN;
	}
	return acct_resolve(c->acct, res.local, strlen(res.local), res.domain,
	    strlen(res.domain), t);
}

int
core_router(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct core_router_out *out)
{
	const struct uri *u = msg_ruri(req);
	const struct msg_naddr *routes, *to;
	char local[RTR_ADDR_MAX], domain[RTR_ADDR_MAX];
	struct rtr_result res;
	struct rtr_in rin;
	struct sv user, host;
	bool route;
	int rc;

	memset(out, 0, sizeof(*out));
	/* a gateway calling the Contact it registered: that account */
	core_gw_inbound(c, req, src);
	u = msg_ruri(req);
	/* the address of the request is its first Route, sipd's own gone,
	 * when there is one (RFC 3261 16.6 step 6, loose routing); not in
	 * a dialog, whose route set is fixed (12.2.1.1) */
	route = msg_hdr_first(req, HDR_ROUTE) >= 0 &&
	    msg_naddrs(req, HDR_ROUTE, &routes) > 0;
	if (route) {
		to = msg_to(req);
		if (to == NULL || to->tag.len > 0) {
			return 0;
		}
		u = &routes[0].uri;
	}
	/* a REGISTER names the registrar, not a user (RFC 3261 10.2) */
	if (u == NULL || (u->scheme != URI_SIP && u->scheme != URI_SIPS) ||
	    msg_method(req) == MSG_REGISTER) {
		return 0;
	}
	user = msg_sv(req, u->user);
	host = msg_sv(req, u->host);
	/* the Router sees the user part unescaped: "bob%25partner.net" is
	 * the address bob%partner.net */
	if (user.len < sizeof(local) && memchr(user.p, '%', user.len) == NULL) {
		/* nothing escaped: the bytes as uri_unescape() copies them */
		memcpy(local, user.p, user.len);
		rc = (int)user.len;
	} else {
		rc = uri_unescape(user, local, sizeof(local) - 1);
	}
	if (rc < 0 || memchr(local, '\0', (size_t)rc) != NULL ||
	    host.len >= sizeof(domain)) {
		return 0;
	}
	local[rc] = '\0';
	memcpy(domain, host.p, host.len);
	domain[host.len] = '\0';
	rin.main_domain = core_main_domain(c->acct, c->main_domain);
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
		if (core_auth_relay(c, req, src, in) <= 0) {
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
	/* MediaRelay:, NoMediaRelay: the call's media relay (media.c) */
	out->media = res.media;
	/* an address of sipd's with the name of an account of the main
	 * domain names that account; other names stay sipd's own (a Route
	 * entry of sipd's is gone by now) */
	if (!route && res.kind == RTR_IP && res.nsteps == 0 &&
	    res.local[0] != '\0' &&
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
		char text[1024];

		rc = rewrite(req, u, &res, same, text, sizeof(text));
		if (rc >= 0) {
			struct sv t = { text, (size_t)rc };
			rc = route ? set_first_route(req, t)
				   : msg_set_ruri(req, t);
		}
		if (rc < 0) {
			core_answer(c, src, req, 500, NULL,
			    route ? "Route rewrite failed"
				  : "Request-URI rewrite failed");
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
		out->via_name = c->relay_via_name;
		out->dst = c->relay_via;
	}
	return 0;
}
