/*
 * The device workarounds on the way out (sipd/wk/wk.h): which methods
 * apply to a request sipd forwards (the sites of its Request-URI and of
 * its top Route, the product of a registered target) or to a response
 * sipd relays back (the product in the request's User-Agent), and what
 * they change in the message: the transport it goes over, and the URI
 * parameters of its Contact, Record-Route and Path (and its
 * Request-URI's maddr); whether its call gets a media relay (mediaRelay,
 * noMediaRelay, for media.c); and which wrong
 * digests an in-dialog request may carry (badByeAuth).  With empty tables
 * the proxy calls none of this (core_wk_request(), core_wk_response(),
 * core_wk_auth_alt()).
 * Owns nothing: the tables are the core's copy of the configuration's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipd/core/core_int.h"

static const enum hdr_id wk_hdrs[] = { HDR_CONTACT, HDR_RECORD_ROUTE,
	HDR_PATH };

/* The sites of the host of a URI at base[s]. */
static unsigned
wk_uri_site(const struct core *c, const char *base, struct span s)
{
	struct uri u;

	if (s.len == 0 || uri_parse(base, s, &u) != 0 || u.host.len == 0) {
		return 0;
	}
	return wk_lookup(&c->wk, WK_SITE, base + u.host.off, u.host.len,
	    NULL);
}

/*
 * Remove the parameters the methods m drop from every Contact,
 * Record-Route and Path of msg; what was changed goes into what (for
 * the log line).
 */
static void
wk_strip(struct msg *m, unsigned methods, char *what, size_t cap)
{
	char val[2048];
	size_t o = strlen(what);

	if ((methods & (WK_NOTCP | WK_NOMADDR)) == 0) {
		return;
	}
	for (size_t k = 0; k < sizeof(wk_hdrs) / sizeof(wk_hdrs[0]); k++) {
		for (int i = msg_hdr_first(m, wk_hdrs[k]); i >= 0;
		     i = msg_hdr_next(m, i)) {
			const struct msg_hdr *h = msg_hdr_at(m, i);
			struct sv v = msg_sv(m, h->value);
			bool changed;
			int n = wk_strip_params(v.p, v.len, methods, val,
			    sizeof(val), &changed);

			if (n < 0 || !changed ||
			    msg_hdr_replace(m, i, (struct sv){ val,
						      (size_t)n }) != 0) {
				continue;
			}
			if (o + 1 < cap) {
				o += (size_t)snprintf(what + o, cap - o,
				    "%s%s", o > 0 ? ", " : "",
				    hdr_name(wk_hdrs[k]));
			}
		}
	}
}

static void
wk_log(const struct tp_src *dst, const char *dir, unsigned methods,
    const char *what)
{
	char peer[TP_ADDRSTRLEN], names[128];

	if (what[0] != '\0') {
		log_info(LOG_CLIENT, "workaround, %s %s %s: %s without %s%s%s",
		    wk_methods_text(methods & (WK_NOTCP | WK_NOMADDR), names,
			sizeof(names)),
		    dir, core_peer(dst, peer, sizeof(peer)), what,
		    (methods & WK_NOTCP) != 0 ? "transport=" : "",
		    (methods & (WK_NOTCP | WK_NOMADDR)) ==
			    (WK_NOTCP | WK_NOMADDR)
			? " and "
			: "",
		    (methods & WK_NOMADDR) != 0 ? "maddr=" : "");
	}
}

unsigned
core_wk_request_slow(struct core *c, struct msg *fwd, struct tp_src *dst,
    unsigned product)
{
	unsigned m = product;
	char what[256] = "", peer[TP_ADDRSTRLEN];
	int r;

	m |= wk_uri_site(c, msg_buf(fwd), msg_ruri_span(fwd));
	r = msg_hdr_first(fwd, HDR_ROUTE);
	if (r >= 0) {
		const struct msg_naddr *routes;

		if (msg_naddrs(fwd, HDR_ROUTE, &routes) > 0) {
			m |= wk_uri_site(c, msg_buf(fwd), routes[0].uri_s);
		}
	}
	if ((m & WK_NOTCP) != 0 && dst->proto == TP_TCP) {
		/* the device cannot be reached over TCP: UDP, whatever the
		 * size (RFC 3261 18.1.1 would have chosen TCP) */
		log_notice(LOG_CLIENT, "workaround, noTCP: %zu bytes to %s "
		    "over UDP instead of TCP", msg_size(fwd),
		    core_peer(dst, peer, sizeof(peer)));
		dst->proto = TP_UDP;
		dst->conn_id = 0;
	}
	wk_strip(fwd, m, what, sizeof(what));
	if ((m & WK_NOMADDR) != 0) {
		/* noMaddr: the Request-URI's too (routing is done) */
		struct sv ru = msg_sv(fwd, msg_ruri_span(fwd));
		char val[1024];
		bool changed;
		int n = wk_strip_uri(ru.p, ru.len, WK_NOMADDR, val,
		    sizeof(val), &changed);

		if (n > 0 && changed &&
		    msg_set_ruri(fwd, (struct sv){ val, (size_t)n }) == 0) {
			size_t o = strlen(what);

			snprintf(what + o, sizeof(what) - o, "%sRequest-URI",
			    o > 0 ? ", " : "");
		}
	}
	wk_log(dst, "to", m, what);
	return m;
}

unsigned
core_wk_media_slow(struct core *c, struct msg *fwd, unsigned product)
{
	struct sv ua = msg_hdr_value(fwd, HDR_USER_AGENT);
	const struct msg_naddr *routes;
	unsigned m = product;

	/* the caller's device, the callee's, and where the call goes */
	m |= wk_lookup(&c->wk, WK_PRODUCT, ua.p, ua.len, NULL);
	m |= wk_uri_site(c, msg_buf(fwd), msg_ruri_span(fwd));
	if (msg_naddrs(fwd, HDR_ROUTE, &routes) > 0) {
		m |= wk_uri_site(c, msg_buf(fwd), routes[0].uri_s);
	}
	return m & (WK_MEDIARELAY | WK_NOMEDIARELAY);
}

void
core_wk_response_slow(struct core *c, struct msg *req, struct msg *resp,
    const struct tp_src *dst)
{
	struct sv ua;
	unsigned m;
	char what[256] = "";

	if (req == NULL) {
		return; /* the request is gone (RFC 6026): no product known */
	}
	ua = msg_hdr_value(req, HDR_USER_AGENT);
	m = wk_lookup(&c->wk, WK_PRODUCT, ua.p, ua.len, NULL);
	wk_strip(resp, m, what, sizeof(what));
	wk_log(dst, "response to", m, what);
}

bool
core_wk_auth_alt_slow(struct core *c, struct msg *req, struct auth_alt *alt)
{
	enum msg_method mt = msg_method(req);
	const struct msg_naddr *to;
	struct sv ua;

	/* in-dialog BYE, NOTIFY and REFER only (a To tag: RFC 3261 12.2) */
	if (mt != MSG_BYE && mt != MSG_NOTIFY && mt != MSG_REFER) {
		return false;
	}
	to = msg_to(req);
	if (to == NULL || to->tag.len == 0) {
		return false;
	}
	ua = msg_hdr_value(req, HDR_USER_AGENT);
	if ((wk_lookup(&c->wk, WK_PRODUCT, ua.p, ua.len, NULL) &
		WK_BADBYEAUTH) == 0) {
		return false;
	}
	/* the dialog's initial Request-URI, as the To of its requests
	 * carries it (RFC 3261 8.1.1.2, 12.2.1.1) */
	alt->invite = true;
	alt->uri = msg_sv(req, to->uri_s);
	return true;
}
