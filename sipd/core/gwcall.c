/*
 * Calls through the External Gateways: the Router's "number@NAME.sipgw"
 * becomes number@Domain, sent to the gateway's Via (a Route) or the
 * domain's RFC 3263 targets; only a client may place one (the policy's
 * CORE_SEND_GATEWAY: a stranger is challenged, whatever way it names
 * the gateway).  Calls: Authenticate puts credentials on the first
 * request, from the nonce of the gateway's last REGISTER; a 401 or 407
 * from the gateway is answered once by sipd with the gateway's
 * credentials and never reaches the caller.  Substitute From and To
 * rewrite those headers toward the gateway (tags and other parameters
 * kept) and the responses get the caller's values back; so do the
 * requests of the call's dialog, each side seeing the URIs of its side
 * of the INVITE, kept in a signed Record-Route parameter.  Owns nothing:
 * the proxy's response context carries the gateway's index and the
 * dialog's URIs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd/core/core_int.h"

#define GW_HDR_MAX 1024

static struct conf_gw *
gw_find(struct core *c, const char *name, int *idx)
{
	for (int i = 0; i < c->ngwc; i++) {
		if (strcasecmp(c->gwc[i].name, name) == 0) {
			*idx = i;
			return &c->gwc[i];
		}
	}
	return NULL;
}

/* Replace the value of req's header id (its first line) by
 * display <uri>;params, the params of the old value kept. */
static int
replace_naddr(struct msg *req, enum hdr_id id, const struct msg_naddr *na,
    const char *uri)
{
	char val[GW_HDR_MAX];
	struct sv disp = msg_sv(req, na->display);
	struct sv params = msg_sv(req, na->params);
	int at = msg_hdr_first(req, id);
	int n;

	if (at < 0) {
		return -EINVAL;
	}
	n = snprintf(val, sizeof(val), "%.*s%s<%s>%s%.*s", (int)disp.len,
	    disp.p, disp.len > 0 ? " " : "", uri, params.len > 0 ? ";" : "",
	    (int)params.len, params.p);
	if (n < 0 || (size_t)n >= sizeof(val)) {
		return -ENAMETOOLONG;
	}
	return msg_hdr_replace(req, at, (struct sv){ val, (size_t)n });
}

int
core_route_gateway(struct core *c, struct msg *req, const struct tp_src *src,
    const char *name, struct core_policy_in *in, struct tp_src *dst,
    bool *proto_set, int *gw1)
{
	const struct uri *u = msg_ruri(req);
	char reason[96], ruri[CONF_HOST_MAX + 200];
	char target[CONF_GW_STR + 8], route[CONF_GW_STR + 16];
	char authz[GW_HDR_MAX];
	const char *hdr = NULL;
	struct conf_gw *g;
	struct sv number;
	bool by_rule;
	int idx, rc;

	g = gw_find(c, name, &idx);
	if (g == NULL) {
		snprintf(reason, sizeof(reason), "no gateway %.64s", name);
		core_answer(c, src, req, 404, reason, "no such gateway");
		return -1;
	}
	/* a gateway costs money: clients only, whatever the relay
	 * setting and whether a Router record said NoRelay */
	core_policy_dst(c, req, in, CORE_SEND_GATEWAY, NULL, false);
	if (!core_policy_apply(c, req, src, NULL, in)) {
		return -1;
	}
	number = msg_sv(req, u->user);
	/* the number at the gateway's domain: no port, no parameters */
	rc = snprintf(ruri, sizeof(ruri), "sip:%.*s%s%s", (int)number.len,
	    number.p, number.len > 0 ? "@" : "", g->domain);
	if (rc < 0 || (size_t)rc >= sizeof(ruri) ||
	    msg_set_ruri(req, (struct sv){ ruri, (size_t)rc }) != 0) {
		core_answer(c, src, req, 500, NULL, "gateway rewrite");
		return -1;
	}
	/* the caller's credentials were for sipd: they stop here */
	msg_hdr_remove_all(req, HDR_PROXY_AUTHORIZATION);
	msg_hdr_remove_all(req, HDR_AUTHORIZATION);
	if (g->calls_auth) {
		/* RFC 3261 22.2: credentials the gateway asks for on the
		 * first request, the method and URI it is sent with */
		struct sv m = msg_method_name(req);
		char meth[32];
		snprintf(meth, sizeof(meth), "%.*s", (int)m.len, m.p);
		if (core_gw_shared_authorize(c, g->name, meth, ruri, authz,
			sizeof(authz), &hdr) == 0) {
			msg_hdr_append(req, hdr,
			    (struct sv){ authz, strlen(authz) });
		}
	}
	if (g->via[0] != '\0') {
		/* sent to the Via, the Request-URI kept: a loose route */
		conf_gw_target(g, target, sizeof(target));
		rc = snprintf(route, sizeof(route), "<%s;lr>", target);
		if (rc < 0 || (size_t)rc >= sizeof(route) ||
		    msg_hdr_insert(req, msg_hdr_first(req, HDR_ROUTE), "Route",
			(struct sv){ route, (size_t)rc }) < 0) {
			core_answer(c, src, req, 500, NULL, "gateway route");
			return -1;
		}
	}
	rc = route_target(c, req, dst, proto_set, &by_rule);
	if (rc < 0 || rc == 1) {
		snprintf(reason, sizeof(reason), "gateway %.64s unreachable",
		    g->name);
		core_answer(c, src, req, rc == 1 ? 482 : 404, reason,
		    "gateway target");
		core_gw_shared_count(c, g->name, true);
		return -1;
	}
	core_gw_shared_count(c, g->name, false);
	log_info(LOG_SERVER, "gateway %s, call to %s", g->name, ruri);
	*gw1 = idx + 1;
	return rc;
}

int
core_gw_outgoing(struct pctx *p, struct msg *fwd)
{
	struct core *c = p->c;
	char user[CONF_GW_STR * 2], ruri[CONF_GW_STR * 2];
	struct conf_gw *g;
	const struct uri *u;
	struct sv number;

	if (p->gwd != NULL) {
		return core_gwd_rewrite(c, p->gwd, fwd);
	}
	if (p->gw1 <= 0 || p->gw1 > p->c->ngwc || p->gw_dialog) {
		return 0;
	}
	g = &c->gwc[p->gw1 - 1];
	u = msg_ruri(fwd);
	if (u == NULL) {
		return -EINVAL;
	}
	number = msg_sv(fwd, u->user);
	snprintf(ruri, sizeof(ruri), "sip:%.*s%s%s", (int)number.len,
	    number.p, number.len > 0 ? "@" : "", g->domain);
	/* Substitute From: the gateway's user, the display name and the
	 * tag kept; Substitute To: the Request-URI without port and
	 * parameters.  The server transaction keeps the caller's. */
	if (g->subst_from && g->username[0] != '\0') {
		const struct msg_naddr *f = msg_from(fwd);
		char furi[sizeof(user) + 8];
		conf_gw_user(g, user, sizeof(user));
		snprintf(furi, sizeof(furi), "sip:%s", user);
		if (f == NULL || replace_naddr(fwd, HDR_FROM, f, furi) != 0) {
			return -EINVAL;
		}
	}
	if (g->subst_to) {
		const struct msg_naddr *t = msg_to(fwd);
		if (t == NULL || replace_naddr(fwd, HDR_TO, t, ruri) != 0) {
			return -EINVAL;
		}
	}
	return 0;
}

int
core_gw_response(struct pctx *p, int i, struct txn *ct, struct msg *resp)
{
	struct core *c = p->c;
	int status = msg_status(resp);
	struct conf_gw *g;
	struct core_uac_auth a;
	char authz[GW_HDR_MAX], uri[CONF_HOST_MAX + 200];
	struct msg *req, *fwd = NULL;
	struct sv m, ru;
	char meth[32];
	struct tp_src dst;
	struct txn *nct;
	int err;

	if (p->gw1 <= 0 || p->gw1 > c->ngwc) {
		return 0;
	}
	g = &c->gwc[p->gw1 - 1];
	if (status != 401 && status != 407) {
		if (!p->gw_dialog) {
			core_gw_shared_count(c, g->name, true);
		}
		return 0;
	}
	/* the gateway's challenge is for sipd, never for the caller: a
	 * second one (or one sipd cannot answer) is a refusal */
	if (p->gw_answered || g->username[0] == '\0' || p->cancelled ||
	    p->st == NULL || (req = txn_request(ct)) == NULL) {
		log_notice(LOG_CLIENT, "gateway %s, refused its credentials "
		    "(%d)", g->name, status);
		core_gw_shared_count(c, g->name, true);
		return 403;
	}
	/* RFC 3261 22.2: the same request with credentials for the
	 * gateway's challenge, answered once: a second one is the caller's
	 * to see */
	memset(&a, 0, sizeof(a));
	if (core_uac_challenge(&a, resp) != 0) {
		log_notice(LOG_CLIENT, "gateway %s, a challenge sipd cannot "
		    "answer (%d)", g->name, status);
		core_gw_shared_count(c, g->name, true);
		return 403;
	}
	conf_gw_authuser(g, a.user, sizeof(a.user));
	snprintf(a.password, sizeof(a.password), "%s", g->password);
	m = msg_method_name(req);
	ru = msg_sv(req, msg_ruri_span(req));
	snprintf(meth, sizeof(meth), "%.*s", (int)m.len, m.p);
	snprintf(uri, sizeof(uri), "%.*s", (int)ru.len, ru.p);
	if (core_uac_authorize(c, &a, meth, uri, authz, sizeof(authz)) < 0 ||
	    (fwd = msg_compact(req)) == NULL || msg_via_pop(fwd) != 0) {
		goto fail;
	}
	msg_hdr_remove_all(fwd, a.hdr);
	if (msg_hdr_append(fwd, a.hdr == HDR_PROXY_AUTHORIZATION
		    ? "Proxy-Authorization"
		    : "Authorization",
		(struct sv){ authz, strlen(authz) }) < 0 ||
	    proxy_push_via(c, fwd, txn_peer(ct, &dst), p->hash) != 0) {
		goto fail;
	}
	core_count_out(c, fwd);
	nct = txn_client_new(c->txn, fwd, &dst, p, &err);
	if (nct == NULL) {
		goto fail;
	}
	p->gw_answered = true;
	p->br[i] = (struct branch){ .ct = nct };
	p->refs++;
	log_info(LOG_CLIENT, "gateway %s, answered its %d", g->name, status);
	return -1;
fail:
	msg_free(fwd);
	core_gw_shared_count(c, g->name, true);
	return 500;
}

void
core_gw_restore(struct pctx *p, struct msg *resp)
{
	struct core *c = p->c;
	struct conf_gw *g;
	struct msg *req;
	const struct msg_naddr *ro, *rt;
	char uri[GW_HDR_MAX];
	struct sv v;

	if (p->gwd != NULL && p->st != NULL &&
	    (req = txn_request(p->st)) != NULL) {
		/* RFC 3261 8.2.6.2: a response of the dialog carries the
		 * From and To its sender wrote, both tags included */
		if ((ro = msg_from(req)) != NULL &&
		    msg_hdr_first(resp, HDR_FROM) >= 0) {
			msg_hdr_replace(resp, msg_hdr_first(resp, HDR_FROM),
			    msg_sv(req, ro->value));
		}
		if ((ro = msg_to(req)) != NULL &&
		    msg_hdr_first(resp, HDR_TO) >= 0) {
			msg_hdr_replace(resp, msg_hdr_first(resp, HDR_TO),
			    msg_sv(req, ro->value));
		}
		return;
	}
	if (p->gw1 <= 0 || p->gw1 > c->ngwc || p->st == NULL ||
	    p->gw_dialog) {
		return;
	}
	g = &c->gwc[p->gw1 - 1];
	if ((!g->subst_from && !g->subst_to) ||
	    (req = txn_request(p->st)) == NULL) {
		return;
	}
	/* RFC 3261 8.2.6.2: the response carries the request's From and
	 * To; the caller sent other values than the gateway saw */
	if (g->subst_from && (ro = msg_from(req)) != NULL &&
	    msg_hdr_first(resp, HDR_FROM) >= 0) {
		v = msg_sv(req, ro->value);
		msg_hdr_replace(resp, msg_hdr_first(resp, HDR_FROM), v);
	}
	if (g->subst_to && (ro = msg_to(req)) != NULL &&
	    (rt = msg_to(resp)) != NULL) {
		/* the caller's To, with the tag the gateway gave */
		struct sv tag = msg_sv(resp, rt->tag);
		v = msg_sv(req, ro->value);
		int n = snprintf(uri, sizeof(uri), "%.*s%s%.*s", (int)v.len,
		    v.p, tag.len > 0 && ro->tag.len == 0 ? ";tag=" : "",
		    ro->tag.len == 0 ? (int)tag.len : 0, tag.p);
		if (n > 0 && (size_t)n < sizeof(uri)) {
			msg_hdr_replace(resp, msg_hdr_first(resp, HDR_TO),
			    (struct sv){ uri, (size_t)n });
		}
	}
}

void
core_gw_via_parse(struct core *c)
{
	for (int i = 0; i < c->ngwc; i++) {
		const struct conf_gw *g = &c->gwc[i];
		struct core_gw_via *v = &c->gwvia[i];
		char t[CONF_GW_STR + 8];
		struct uri u;

		v->len = -1;
		if (g->via[0] == '\0') {
			continue;
		}
		conf_gw_target(g, t, sizeof(t));
		if (uri_parse(t, (struct span){ 0, (uint32_t)strlen(t) }, &u) ==
			0 &&
		    u.host.len < sizeof(v->host)) {
			memcpy(v->host, t + u.host.off, u.host.len);
			v->host[u.host.len] = '\0';
			v->len = (int)u.host.len;
		}
	}
}

/* The gateway whose domain or Via host is host: its index plus one, or
 * 0.  The Via host was parsed when configured (core_gw_via_parse()). */
static int
gw_named(struct core *c, struct sv host)
{
	for (int i = 0; i < c->ngwc; i++) {
		const struct core_gw_via *v = &c->gwvia[i];

		if (sv_caseeq_str(host, c->gwc[i].domain)) {
			return i + 1;
		}
		if (v->len >= 0 && (size_t)v->len == host.len &&
		    strncasecmp(v->host, host.p, host.len) == 0) {
			return i + 1;
		}
	}
	return 0;
}

int
core_gw_dialog(struct core *c, struct msg *req, const struct tp_src *dst)
{
	const struct msg_naddr *routes;
	const struct uri *u;
	const char *base = msg_buf(req);
	int i;

	if (c->ngwc == 0) {
		return 0;
	}
	if (msg_naddrs(req, HDR_ROUTE, &routes) > 0) {
		u = &routes[0].uri;
	} else {
		u = msg_ruri(req);
	}
	if (u != NULL && (i = gw_named(c, (struct sv){ base + u->host.off,
				       u->host.len })) != 0) {
		return i;
	}
	return dst != NULL
	    ? core_gw_shared_which(c, c->gwc, c->ngwc, &dst->addr)
	    : 0;
}

bool
core_gw_host(struct core *c, struct msg *req, const struct tp_src *dst)
{
	return core_gw_dialog(c, req, dst) != 0;
}

bool
core_gw_inbound(struct core *c, struct msg *req, const struct tp_src *src)
{
	const struct uri *u = msg_ruri(req);
	const char *md = core_main_domain(c->acct, c->main_domain);
	char cuser[CONF_GW_STR * 2], acct[CONF_GW_STR + CONF_HOST_MAX + 8];
	struct sv user;

	if (c->ngwc == 0 || u == NULL || u->user.len == 0 ||
	    msg_method(req) == MSG_REGISTER ||
	    (u->scheme != URI_SIP && u->scheme != URI_SIPS) ||
	    !route_is_local(c, msg_sv(req, u->host), u->port,
		u->scheme == URI_SIPS)) {
		return false;
	}
	user = msg_sv(req, u->user);
	for (int i = 0; i < c->ngwc; i++) {
		const struct conf_gw *g = &c->gwc[i];
		int n;

		if (g->register_every == 0) {
			continue;
		}
		core_gw_contact_user(g, md, cuser, sizeof(cuser));
		/* the Contact matched as RFC 3261 10.3 compares URIs (the
		 * user part case-sensitive), and the sender the gateway */
		if (user.len != strlen(cuser) ||
		    memcmp(user.p, cuser, user.len) != 0 ||
		    !core_gw_shared_addr(c, g->name, &src->addr)) {
			continue;
		}
		if (g->contact[0] == '\0') {
			n = snprintf(acct, sizeof(acct), "sip:%s@%s", g->name,
			    md ? md : "");
		} else if (strchr(g->contact, '@') != NULL) {
			n = snprintf(acct, sizeof(acct), "sip:%s", g->contact);
		} else {
			n = snprintf(acct, sizeof(acct), "sip:%s@%s",
			    g->contact, md ? md : "");
		}
		if (n < 0 || (size_t)n >= sizeof(acct) ||
		    msg_set_ruri(req, (struct sv){ acct, (size_t)n }) != 0) {
			return false;
		}
		log_info(LOG_SERVER, "gateway %s, call for its contact: %s",
		    g->name, acct);
		return true;
	}
	return false;
}

/* ------------------------------------------- the dialog of a gateway call */

/*
 * RFC 3261 12.2.1.1: every request of a dialog carries the From and To
 * URIs of its INVITE, and the gateway saw other ones than the caller.
 * sipd keeps no state per dialog: the Record-Route entry of a call whose
 * From or To it substituted carries
 *   ;gwd=NAME.W.NUMBER.FROM.TO.SIG
 * the gateway's name, what was substituted (W: CORE_GWD_FROM |
 * CORE_GWD_TO as a digit), the number, the caller's From and To URIs
 * (those three in hex: a URI parameter takes neither '@' nor ':' as
 * they are), and a signature over them, the Call-ID and the caller's
 * tag.  A peer can copy it but neither make nor change it.
 */
#define GWD_LABEL 'G'

static size_t
gwd_hex(char *out, size_t cap, struct sv v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < v.len && n + 2 < cap; i++) {
		out[n++] = hex[(unsigned char)v.p[i] >> 4];
		out[n++] = hex[(unsigned char)v.p[i] & 0xf];
	}
	out[n] = '\0';
	return n;
}

static int
gwd_nibble(char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	if (ch >= 'A' && ch <= 'F') {
		return ch - 'A' + 10;
	}
	return -1;
}

/* The hex text v into out as a string; -EINVAL when v is not hex, holds
 * a NUL or does not fit. */
static int
gwd_unhex(struct sv v, char *out, size_t cap)
{
	size_t n = 0;

	if (v.len % 2 != 0 || v.len / 2 >= cap) {
		return -EINVAL;
	}
	for (size_t i = 0; i < v.len; i += 2) {
		int hi = gwd_nibble(v.p[i]), lo = gwd_nibble(v.p[i + 1]);
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			return -EINVAL;
		}
		out[n++] = (char)(hi << 4 | lo);
	}
	out[n] = '\0';
	return 0;
}

static int
gwd_sign(struct core *c, struct msg *m, struct sv tag, struct sv text,
    char sig[CORE_MAC_HEX])
{
	const struct sv parts[3] = { msg_callid(m), tag, text };

	return core_mac_sign(c->mac, GWD_LABEL, parts, 3, sig);
}

void
core_gwd_rr_param(struct pctx *p, struct msg *fwd, char *out, size_t cap)
{
	struct core *c = p->c;
	const struct msg_naddr *from, *to, *ofrom, *oto;
	const struct conf_gw *g;
	const struct uri *u;
	struct msg *req;
	struct sv number, fu, tu;
	char sig[CORE_MAC_HEX];
	size_t n;
	unsigned what;
	int rc;

	out[0] = '\0';
	if (p->gw1 <= 0 || p->gw1 > c->ngwc || p->gw_dialog ||
	    p->st == NULL || (req = txn_request(p->st)) == NULL) {
		return;
	}
	g = &c->gwc[p->gw1 - 1];
	what = (g->subst_from && g->username[0] != '\0' ? CORE_GWD_FROM : 0) |
	    (g->subst_to ? CORE_GWD_TO : 0);
	from = msg_from(fwd);
	to = msg_to(fwd);
	if (what == 0 || msg_method(fwd) != MSG_INVITE || from == NULL ||
	    to == NULL || to->tag.len != 0 || (u = msg_ruri(fwd)) == NULL ||
	    (ofrom = msg_from(req)) == NULL || (oto = msg_to(req)) == NULL) {
		return;
	}
	number = msg_sv(fwd, u->user);
	fu = msg_sv(req, ofrom->uri_s);
	tu = msg_sv(req, oto->uri_s);
	if (number.len >= CORE_GWD_NUM_MAX || fu.len >= CORE_GWD_URI_MAX ||
	    tu.len >= CORE_GWD_URI_MAX ||
	    cap < CORE_GWD_PARAM_MAX + sizeof(CORE_GWD_PARAM) + 2) {
		log_notice(LOG_SERVER, "gateway %s, From or To too long to "
		    "keep: the dialog's requests keep their own", g->name);
		return;
	}
	rc = snprintf(out, cap, ";" CORE_GWD_PARAM "=%s.%u.", g->name, what);
	if (rc < 0 || (size_t)rc >= cap) {
		out[0] = '\0';
		return;
	}
	n = (size_t)rc;
	n += gwd_hex(out + n, cap - n, number);
	out[n++] = '.';
	n += gwd_hex(out + n, cap - n, fu);
	out[n++] = '.';
	n += gwd_hex(out + n, cap - n, tu);
	/* signed from the name on: what comes back is the same text */
	rc = (int)(sizeof(CORE_GWD_PARAM) + 1);
	if (gwd_sign(c, fwd, msg_sv(fwd, from->tag),
		(struct sv){ out + rc, n - (size_t)rc }, sig) != 0 ||
	    n + 2 + CORE_MAC_HEX > cap) {
		out[0] = '\0';
		return;
	}
	out[n++] = '.';
	memcpy(out + n, sig, CORE_MAC_HEX);
	out[n + CORE_MAC_HEX] = '\0';
}

int
core_gwd_read(struct core *c, struct msg *req, struct sv val,
    struct core_gwd *d)
{
	const struct msg_naddr *f = msg_from(req), *t = msg_to(req);
	struct sv field[6];
	char want[CORE_MAC_HEX];
	size_t at = 0;
	int nf = 0;

	memset(d, 0, sizeof(*d));
	if (f == NULL || t == NULL || t->tag.len == 0) {
		return -EINVAL;
	}
	/* NAME.W.NUMBER.FROM.TO.SIG */
	for (size_t i = 0; i <= val.len && nf < 6; i++) {
		if (i == val.len || val.p[i] == '.') {
			field[nf++] = (struct sv){ val.p + at, i - at };
			at = i + 1;
		}
	}
	if (nf != 6 || at != val.len + 1 || field[0].len == 0 ||
	    field[0].len >= sizeof(d->name) || field[1].len != 1 ||
	    field[1].p[0] < '1' || field[1].p[0] > '3') {
		return -EINVAL;
	}
	struct sv text = { val.p, (size_t)(field[5].p - 1 - val.p) };
	/* the caller's requests carry its tag as From tag, the gateway's
	 * as To tag */
	if (gwd_sign(c, req, msg_sv(req, f->tag), text, want) == 0 &&
	    core_mac_equal(want, field[5])) {
		d->to_gw = true;
	} else if (!(gwd_sign(c, req, msg_sv(req, t->tag), text, want) == 0 &&
		       core_mac_equal(want, field[5]))) {
		return -EINVAL;
	}
	memcpy(d->name, field[0].p, field[0].len);
	d->what = (unsigned)(field[1].p[0] - '0');
	if ((field[2].len > 0 &&
		gwd_unhex(field[2], d->number, sizeof(d->number)) != 0) ||
	    gwd_unhex(field[3], d->from, sizeof(d->from)) != 0 ||
	    gwd_unhex(field[4], d->to, sizeof(d->to)) != 0 ||
	    d->from[0] == '\0' || d->to[0] == '\0') {
		return -EINVAL;
	}
	return 0;
}

void
core_gw_in_dialog(struct pctx *p, struct msg *req, struct sv val)
{
	struct core *c = p->c;
	struct core_gwd *d = malloc(sizeof(*d));
	int idx;

	if (d == NULL) {
		return;
	}
	if (core_gwd_read(c, req, val, d) != 0) {
		log_notice(LOG_SERVER, "gateway dialog, a Record-Route "
		    "parameter sipd did not sign: From and To kept");
		free(d);
		return;
	}
	free(p->gwd);
	p->gwd = d;
	if (d->to_gw && p->gw1 == 0 && gw_find(c, d->name, &idx) != NULL) {
		p->gw1 = idx + 1;
		p->gw_dialog = true;
	}
}

int
core_gwd_rewrite(struct core *c, const struct core_gwd *d, struct msg *m)
{
	const struct msg_naddr *na;
	char uri[CONF_GW_STR * 2 + 8];
	const struct conf_gw *g;
	int idx, rc = 0;

	if (!d->to_gw) {
		/* from the gateway: its From is the To it was given, its
		 * To the From; the caller's own come back */
		if ((d->what & CORE_GWD_TO) != 0) {
			rc = (na = msg_from(m)) == NULL
			    ? -EINVAL
			    : replace_naddr(m, HDR_FROM, na, d->to);
		}
		if (rc == 0 && (d->what & CORE_GWD_FROM) != 0) {
			rc = (na = msg_to(m)) == NULL
			    ? -EINVAL
			    : replace_naddr(m, HDR_TO, na, d->from);
		}
		return rc;
	}
	/* toward the gateway: what its INVITE had, from its settings */
	if ((g = gw_find(c, d->name, &idx)) == NULL) {
		log_notice(LOG_SERVER, "gateway %s, gone: a request of its "
		    "dialog keeps its From and To", d->name);
		return 0;
	}
	if ((d->what & CORE_GWD_FROM) != 0 && g->username[0] != '\0') {
		char user[CONF_GW_STR * 2];
		conf_gw_user(g, user, sizeof(user));
		snprintf(uri, sizeof(uri), "sip:%s", user);
		rc = (na = msg_from(m)) == NULL
		    ? -EINVAL
		    : replace_naddr(m, HDR_FROM, na, uri);
	}
	if (rc == 0 && (d->what & CORE_GWD_TO) != 0) {
		snprintf(uri, sizeof(uri), "sip:%s%s%s", d->number,
		    d->number[0] != '\0' ? "@" : "", g->domain);
		rc = (na = msg_to(m)) == NULL
		    ? -EINVAL
		    : replace_naddr(m, HDR_TO, na, uri);
	}
	return rc;
}

int
core_gw_ack(struct core *c, struct msg *ack, struct sv val)
{
	struct core_gwd d;

	if (core_gwd_read(c, ack, val, &d) != 0) {
		log_notice(LOG_SERVER, "gateway dialog, a Record-Route "
		    "parameter sipd did not sign: From and To kept");
		return 0;
	}
	return core_gwd_rewrite(c, &d, ack);
}
