/*
 * Requests sipd originates itself, as a user agent client (RFC 3261 8.1):
 * a REGISTER to a provider, a NOTIFY to a subscriber.  The caller names
 * the Request-URI, From, To, Call-ID, CSeq, Contact, extra headers and
 * body; this file writes the request with sipd's From tag, Max-Forwards
 * and a Via whose branch is signed as the proxy signs its own, asks the
 * relay policy (as sipd's own request), finds the destination by RFC
 * 3263 with the worker's resolver, and sends it in a client transaction
 * of the worker's table (17.1).  A 401 or 407 is answered with Digest
 * (RFC 7616, RFC 8760: MD5 or SHA-256, qop=auth with nonce counts;
 * auth-int is refused) from the caller's credentials; a 503, a timeout or
 * a transport error moves on to the next DNS target (RFC 3263 4.3).  The
 * caller hears of the final response once, or of the local failure.
 *
 * Owns struct core_uac (one request and its retries) and the dispatch of
 * transaction events between these requests and the proxy's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd/core/core_int.h"

/* Challenges answered for one request: one, and once more when the
 * server says the nonce was stale (RFC 7616 3.3). */
#define UAC_MAX_ANSWERS 2
#define UAC_HDR_MAX 1024

struct core_uac {
	struct core *c;
	struct core_uac *next;  /* in c->uacs */
	core_uac_done_fn *fn;   /* NULL once cancelled */
	void *arg;
	struct txn *ct;         /* the attempt on its way, NULL between */
	struct dns_query *q;    /* the lookup on its way */
	struct dns_targets *ts; /* the targets, once resolved */
	struct tp_src dst;      /* the target tried now */
	const struct dns_target *cur; /* its entry in ts */
	bool have_dst;
	bool one;               /* dst is the one target (no resolver) */
	bool in_send;           /* inside core_uac_send(): not freed */
	bool done;              /* the caller was told */
	int answers;            /* challenges answered */
	struct core_uac_auth *auth;
	bool auth_first;
	enum msg_method method;
	uint32_t cseq;
	char *method_name, *ruri, *dest, *from, *to, *callid, *contact;
	char *headers, *ctype, *body;
	size_t body_len;
	char tag[CORE_TAG_LEN + 1];
	char host[256];         /* the TLS server name to check */
	char contact_sent[TP_ADDRSTRLEN + 200];
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Free u, already out of the list. */
static void
uac_release(struct core_uac *u)
{
	dns_cancel(u->q);
	dns_targets_free(u->ts);
	free(u->method_name);
	free(u->ruri);
	free(u->dest);
	free(u->from);
	free(u->to);
	free(u->callid);
	free(u->contact);
	free(u->headers);
	free(u->ctype);
	free(u->body);
	free(u);
}

static void
uac_free(struct core_uac *u)
{
	struct core_uac **pp;

	if (u == NULL) {
		return;
	}
	for (pp = &u->c->uacs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	uac_release(u);
}

/* Tell the caller once; the request is freed when nothing holds it. */
static void
finish(struct core_uac *u, int status, struct msg *resp, const char *why)
{
	struct core_uac_result r = { 0 };

	if (!u->done) {
		u->done = true;
		if (u->fn != NULL) {
			r.status = status;
			r.resp = resp;
			r.why = why;
			r.dst = u->have_dst ? &u->dst : NULL;
			r.cseq = u->cseq;
			r.contact = u->contact_sent;
			u->fn(u->arg, &r);
		}
	}
	if (u->ct == NULL && u->q == NULL && !u->in_send) {
		uac_free(u);
	}
}

/* ------------------------------------------------------------ digest */

/* Copy a challenge's span (quotes already off) into out; false when too
 * long. */
static bool
copy_span(struct msg *m, struct span s, char *out, size_t cap)
{
	if (s.len >= cap) {
		return false;
	}
	memcpy(out, msg_buf(m) + s.off, s.len);
	out[s.len] = '\0';
	return true;
}

/* Does the comma-separated list l hold the token want? */
static bool
list_has(struct sv l, const char *want)
{
	size_t n = strlen(want), i = 0;

	while (i < l.len) {
		size_t j = i;
		while (j < l.len && l.p[j] != ',') {
			j++;
		}
		size_t a = i, b = j;
		while (a < b && (l.p[a] == ' ' || l.p[a] == '\t')) {
			a++;
		}
		while (b > a && (l.p[b - 1] == ' ' || l.p[b - 1] == '\t')) {
			b--;
		}
		if (b - a == n && strncasecmp(l.p + a, want, n) == 0) {
			return true;
		}
		i = j + 1;
	}
	return false;
}

int
core_uac_challenge(struct core_uac_auth *a, struct msg *resp)
{
	int status = msg_status(resp);
	enum hdr_id id = status == 407 ? HDR_PROXY_AUTHENTICATE
				       : HDR_WWW_AUTHENTICATE;
	const struct msg_auth *ch;
	int n = msg_auths(resp, id, &ch);
	int rc = -ENOENT;

	if (status != 401 && status != 407) {
		return -EINVAL;
	}
	/* RFC 8760 2.4: the server lists its preferred challenge first;
	 * take the first one sipd can answer */
	for (int i = 0; i < n; i++) {
		struct sv scheme = msg_sv(resp, ch[i].scheme);
		struct sv alg = msg_sv(resp, ch[i].algorithm);
		struct sv qop = msg_sv(resp, ch[i].qop);
		enum auth_alg which;
		bool sess = false;

		if (!sv_caseeq_str(scheme, "Digest")) {
			continue;
		}
		if (alg.len == 0 || sv_caseeq_str(alg, "MD5")) {
			which = AUTH_ALG_MD5;
		} else if (sv_caseeq_str(alg, "MD5-sess")) {
			which = AUTH_ALG_MD5;
			sess = true;
		} else if (sv_caseeq_str(alg, "SHA-256")) {
			which = AUTH_ALG_SHA256;
		} else if (sv_caseeq_str(alg, "SHA-256-sess")) {
			which = AUTH_ALG_SHA256;
			sess = true;
		} else {
			continue;
		}
		/* RFC 7616 3.3: with a qop list, "auth" must be in it; a
		 * server offering only auth-int is refused (sipd does not
		 * hash bodies it sends in a challenge's answer) */
		if (ch[i].qop.len > 0 && !list_has(qop, "auth")) {
			rc = -ENOTSUP;
			continue;
		}
		if (!copy_span(resp, ch[i].realm, a->realm, sizeof(a->realm)) ||
		    !copy_span(resp, ch[i].nonce, a->nonce, sizeof(a->nonce)) ||
		    !copy_span(resp, ch[i].opaque, a->opaque,
			sizeof(a->opaque)) ||
		    ch[i].nonce.len == 0) {
			rc = -EINVAL;
			continue;
		}
		a->has_opaque = ch[i].opaque.len > 0;
		a->alg = which;
		a->sess = sess;
		a->qop = ch[i].qop.len > 0;
		a->hdr = status == 407 ? HDR_PROXY_AUTHORIZATION
				       : HDR_AUTHORIZATION;
		a->nc = 0;
		a->have = true;
		a->stale = sv_caseeq_str(msg_sv(resp, ch[i].stale), "true");
		return 0;
	}
	return rc;
}

/* Is s free of what would break a quoted-string? */
static bool
quotable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) {
			return false;
		}
	}
	return true;
}

int
core_uac_authorize(struct core *c, struct core_uac_auth *a,
    const char *method, const char *uri, char *out, size_t cap)
{
	char ha1[AUTH_HEX_SIZE], resp[AUTH_HEX_SIZE];
	char nc[9], cnonce[17];
	uint64_t r = core_random(c);
	int n, rc;

	if (!a->have) {
		return -ENOENT;
	}
	if (!quotable(a->user) || !quotable(uri) || !quotable(a->realm)) {
		return -EINVAL;
	}
	snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)r);
	/* RFC 7616 3.4: the nonce count goes up with every request sent
	 * with this nonce */
	snprintf(nc, sizeof(nc), "%08x", ++a->nc);
	rc = auth_ha1(a->alg, a->user, a->realm, a->password, ha1);
	if (rc != 0) {
		return rc;
	}
	rc = auth_digest_response(a->alg, a->sess,
	    (struct sv){ ha1, strlen(ha1) },
	    (struct sv){ a->nonce, strlen(a->nonce) }, (struct sv){ nc, 8 },
	    (struct sv){ cnonce, 16 },
	    a->qop ? SV_LIT("auth") : (struct sv){ "", 0 },
	    (struct sv){ method, strlen(method) },
	    (struct sv){ uri, strlen(uri) }, resp);
	if (rc != 0) {
		return rc;
	}
	n = snprintf(out, cap,
	    "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	    "response=\"%s\", algorithm=%s%s",
	    a->user, a->realm, a->nonce, uri, resp, auth_alg_name(a->alg),
	    a->sess ? "-sess" : "");
	if (n > 0 && (size_t)n < cap && a->qop) {
		n += snprintf(out + n, cap - (size_t)n,
		    ", cnonce=\"%s\", qop=auth, nc=%s", cnonce, nc);
	}
	if (n > 0 && (size_t)n < cap && a->has_opaque) {
		n += snprintf(out + n, cap - (size_t)n, ", opaque=\"%s\"",
		    a->opaque);
	}
	return n > 0 && (size_t)n < cap ? n : -ENOSPC;
}

/* ------------------------------------------------------------- sending */

/* The request for the target u->dst, with a fresh branch.  NULL on
 * failure. */
static struct msg *
build(struct core_uac *u, int *err)
{
	struct core *c = u->c;
	char addr[TP_ADDRSTRLEN], authz[UAC_HDR_MAX];
	const char *hauth = NULL;
	size_t cap = 2048 + strlen(u->ruri) + strlen(u->from) + strlen(u->to) +
	    strlen(u->callid) + (u->headers ? strlen(u->headers) : 0) +
	    u->body_len + c->server_len;
	char *text = malloc(cap);
	struct msg_err merr;
	struct msg *m = NULL;
	int n;

	*err = -ENOMEM;
	if (text == NULL) {
		return NULL;
	}
	u->contact_sent[0] = '\0';
	if (u->contact != NULL) {
		*err = route_local_addr(c, u->dst.proto, &u->dst.addr, addr,
		    sizeof(addr));
		if (*err != 0) {
			goto fail;
		}
		snprintf(u->contact_sent, sizeof(u->contact_sent),
		    "<sip:%s%s%s%s>", u->contact, u->contact[0] ? "@" : "",
		    addr,
		    u->dst.proto == TP_TCP ? ";transport=tcp"
		    : u->dst.proto == TP_TLS ? ";transport=tls"
					     : "");
	}
	if (u->auth != NULL && u->auth->have &&
	    (u->auth_first || u->answers > 0)) {
		if (core_uac_authorize(c, u->auth, u->method_name, u->ruri,
			authz, sizeof(authz)) > 0) {
			hauth = u->auth->hdr == HDR_PROXY_AUTHORIZATION
			    ? "Proxy-Authorization"
			    : "Authorization";
		}
	}
	n = snprintf(text, cap,
	    "%s %s SIP/2.0\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: %s;tag=%s\r\n"
	    "To: %s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %u %s\r\n"
	    "%s%s%s"
	    "%s%s%s%s"
	    "%s%s%s"
	    "%s"
	    "%s%s%s"
	    "Content-Length: %zu\r\n\r\n",
	    u->method_name, u->ruri, u->from, u->tag, u->to, u->callid,
	    u->cseq, u->method_name,
	    u->contact ? "Contact: " : "", u->contact ? u->contact_sent : "",
	    u->contact ? "\r\n" : "",
	    hauth ? hauth : "", hauth ? ": " : "", hauth ? authz : "",
	    hauth ? "\r\n" : "",
	    c->server_len ? "User-Agent: " : "", c->server_len ? c->server : "",
	    c->server_len ? "\r\n" : "",
	    u->headers ? u->headers : "",
	    u->ctype ? "Content-Type: " : "", u->ctype ? u->ctype : "",
	    u->ctype ? "\r\n" : "", u->body_len);
	if (n < 0 || (size_t)n + u->body_len >= cap) {
		*err = -ENOSPC;
		goto fail;
	}
	if (u->body_len > 0) {
		memcpy(text + n, u->body, u->body_len);
	}
	m = msg_parse(text, (size_t)n + u->body_len, &c->limits, &merr);
	if (m == NULL) {
		*err = -EINVAL;
		goto fail;
	}
	*err = proxy_push_via(c, m, &u->dst, (uint32_t)core_random(c));
	if (*err != 0) {
		goto fail;
	}
	/* what the caller gave must make a valid request (8.1.1) */
	if (msg_check(m, &merr) < 0) {
		log_notice(LOG_CLIENT, "uac, %s not sent (%s)", u->method_name,
		    merr.reason ? merr.reason : "invalid");
		*err = -EINVAL;
		goto fail;
	}
	free(text);
	return m;
fail:
	msg_free(m);
	free(text);
	return NULL;
}

/* Send to u->dst: 0, or a negative errno (the target failed). */
static int
attempt(struct core_uac *u)
{
	struct core *c = u->c;
	struct core_policy_in in = { .kind = CORE_SEND_OWN };
	const char *why;
	struct msg *m;
	struct txn *ct;
	int err;

	in.dst_known = true;
	in.dst_client = core_client_ip(c, &u->dst.addr);
	/* sipd's own request passes the policy like any other, and the
	 * log says why it went */
	if (core_policy(c, &in, NULL, &u->dst, &why) != CORE_V_ALLOW) {
		return -EACCES;
	}
	if (route_dst_local(c, &u->dst)) {
		return -ELOOP;
	}
	m = build(u, &err);
	if (m == NULL) {
		return err;
	}
	core_count_out(c, m);
	/* no TU pointer: the proxy's callbacks ignore a transaction
	 * without one, so an attempt left behind is harmless */
	ct = txn_client_new(c->txn, m, &u->dst, NULL, &err);
	if (ct == NULL) {
		msg_free(m);
		return err != 0 ? err : -ENOMEM;
	}
	u->ct = ct;
	return 0;
}

/* The next DNS target, or the one IP target once; false when none. */
static bool
next_target(struct core_uac *u)
{
	const struct dns_target *d;

	if (u->one) {
		u->one = false;
		return true;
	}
	if (u->ts == NULL || (d = dns_targets_next(u->ts)) == NULL) {
		return false;
	}
	u->cur = d;
	memset(&u->dst, 0, sizeof(u->dst));
	memcpy(&u->dst.addr, &d->addr, d->addr_len);
	u->dst.addrlen = d->addr_len;
	u->dst.proto = (enum tp_proto)d->tp;
	if (d->tp == DNS_TP_TLS && u->host[0] != '\0') {
		u->dst.host = u->host;
	}
	u->have_dst = true;
	return true;
}

/* RFC 3263 4.3: the target tried failed; avoided for a while. */
static void
target_failed(struct core_uac *u)
{
	if (u->cur != NULL && u->c->dns != NULL) {
		dns_target_failed(u->c->dns, u->cur);
	}
	u->cur = NULL;
}

/* Try targets until one takes the request; else finish with status. */
static void
send_next(struct core_uac *u, int status, const char *why)
{
	char peer[TP_ADDRSTRLEN];
	int err;

	while (next_target(u)) {
		err = attempt(u);
		if (err == 0) {
			return;
		}
		if (err == -EACCES) {
			finish(u, 403, NULL, "refused by the relay policy");
			return;
		}
		target_failed(u);
		log_notice(LOG_CLIENT, "uac, cannot send %s to %s (%s)",
		    u->method_name, core_peer(&u->dst, peer, sizeof(peer)),
		    err == -ELOOP ? "sipd itself" : strerror(-err));
		why = err == -ELOOP ? "the target is sipd itself"
				    : "cannot send";
		status = 503;
	}
	finish(u, status, NULL, why);
}

static void
resolved(void *arg, int rc, struct dns_targets *ts)
{
	struct core_uac *u = arg;
	struct core *c = u->c;
	const char *reason;

	u->q = NULL;
	u->ts = ts;
	if (c->loop != NULL) {
		c->loop(c->loop_arg, false);
	}
	if (rc < 0) {
		finish(u, resolve_status(rc, &reason), NULL,
		    reason ? reason : "DNS failed");
	} else {
		send_next(u, 503, "no target answered");
	}
	if (c->loop != NULL) {
		c->loop(c->loop_arg, true);
	}
}

/* RFC 3263 4: what to resolve for the URI text s. */
static int
lookup(struct core_uac *u, const char *s)
{
	struct core *c = u->c;
	struct span sp = { 0, (uint32_t)strlen(s) };
	struct dns_req rq = { 0 };
	struct uri uri;
	struct sv maddr, t;
	int rc;

	if (uri_parse(s, sp, &uri) != 0 ||
	    (uri.scheme != URI_SIP && uri.scheme != URI_SIPS) ||
	    uri.host.len == 0) {
		return -EINVAL;
	}
	if (c->dns == NULL) {
		/* no resolver: IP literals only */
		struct tp_src dst;
		bool proto_set;
		if (route_uri_target(s, &uri, &dst, &proto_set) != 0) {
			return -ENOENT;
		}
		u->dst = dst;
		u->have_dst = true;
		u->one = true;
		return 0;
	}
	if (uri_param(s, &uri, "maddr", &maddr) && maddr.len > 0) {
		rq.host = maddr.p;
		rq.host_len = maddr.len;
	} else {
		rq.host = s + uri.host.off;
		rq.host_len = uri.host.len;
	}
	if (rq.host_len < sizeof(u->host)) {
		memcpy(u->host, rq.host, rq.host_len);
		u->host[rq.host_len] = '\0';
	}
	rq.port = uri.port;
	if (uri_param(s, &uri, "transport", &t)) {
		rq.transport = t.p;
		rq.transport_len = t.len;
	}
	rq.sips = uri.scheme == URI_SIPS;
	rq.tps = c->dns_tps;
	rq.families = c->dns_families;
	rc = dns_resolve(c->dns, &rq, resolved, u, &u->ts, &u->q);
	return rc;
}

int
core_uac_send(struct core *c, const struct core_uac_req *r,
    core_uac_done_fn *fn, void *arg, struct core_uac **out)
{
	struct core_uac *u;
	char callid[40];
	int rc;

	if (out != NULL) {
		*out = NULL;
	}
	if (r->method_name == NULL || r->ruri == NULL || r->from == NULL ||
	    r->to == NULL || fn == NULL ||
	    (r->body_len > 0 && r->body == NULL)) {
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return -ENOMEM;
	}
	u->c = c;
	u->fn = fn;
	u->arg = arg;
	u->auth = r->auth;
	u->auth_first = r->auth_first;
	u->cseq = r->cseq != 0 ? r->cseq : 1;
	u->method = msg_method_lookup(r->method_name, strlen(r->method_name));
	if (r->callid == NULL) {
		snprintf(callid, sizeof(callid), "%016llx%08x@sipd",
		    (unsigned long long)core_random(c),
		    (unsigned)core_random(c));
	}
	if (r->from_tag != NULL && strlen(r->from_tag) <= CORE_TAG_LEN) {
		snprintf(u->tag, sizeof(u->tag), "%s", r->from_tag);
	} else {
		core_tag(c, u->tag);
	}
	u->method_name = strdup(r->method_name);
	u->ruri = strdup(r->ruri);
	u->dest = dup_or_null(r->dest);
	u->from = strdup(r->from);
	u->to = strdup(r->to);
	u->callid = strdup(r->callid != NULL ? r->callid : callid);
	u->contact = dup_or_null(r->contact_user);
	u->headers = dup_or_null(r->headers);
	u->ctype = dup_or_null(r->ctype);
	u->body_len = r->body_len;
	if (r->body_len > 0 && (u->body = malloc(r->body_len)) != NULL) {
		memcpy(u->body, r->body, r->body_len);
	}
	u->next = c->uacs;
	c->uacs = u;
	if (u->method_name == NULL || u->ruri == NULL || u->from == NULL ||
	    u->to == NULL || u->callid == NULL ||
	    (r->dest != NULL && u->dest == NULL) ||
	    (r->body_len > 0 && u->body == NULL) || u->method == MSG_ACK ||
	    u->method == MSG_INVITE || u->method == MSG_CANCEL) {
		/* an INVITE needs a dialog and its ACK: not a UAC's job here */
		rc = u->method == MSG_ACK || u->method == MSG_INVITE ||
			u->method == MSG_CANCEL
		    ? -ENOTSUP
		    : -ENOMEM;
		uac_free(u);
		return rc;
	}
	rc = lookup(u, u->dest != NULL ? u->dest : u->ruri);
	if (rc == 1) {
		if (out != NULL) {
			*out = u;
		}
		return 0; /* resolved() follows */
	}
	if (rc < 0) {
		uac_free(u);
		return rc;
	}
	/* from the cache (or an IP literal): send at once; the caller may
	 * hear of the end before this returns */
	u->in_send = true;
	send_next(u, 503, "no target answered");
	u->in_send = false;
	if (u->done) {
		if (u->ct == NULL) {
			uac_free(u);
		}
		return 0;
	}
	if (out != NULL) {
		*out = u;
	}
	return 0;
}

void
core_uac_cancel(struct core_uac *u)
{
	if (u == NULL) {
		return;
	}
	u->fn = NULL;
	u->done = true;
	if (u->q != NULL) {
		dns_cancel(u->q);
		u->q = NULL;
	}
	if (u->ct == NULL) {
		uac_free(u);
	}
	/* else freed when its transaction ends */
}

void
core_uac_fini(struct core *c)
{
	while (c->uacs != NULL) {
		struct core_uac *u = c->uacs;
		c->uacs = u->next;
		uac_release(u);
	}
}

/* ------------------------------------------------------------ dispatch */

static struct core_uac *
uac_of(struct core *c, struct txn *t)
{
	for (struct core_uac *u = c->uacs; u != NULL; u = u->next) {
		if (u->ct == t) {
			return u;
		}
	}
	return NULL;
}

static void
on_response(void *arg, struct txn *ct, struct msg *resp)
{
	struct core *c = arg;
	struct core_uac *u = c->uacs != NULL ? uac_of(c, ct) : NULL;
	int status = msg_status(resp);
	int rc;

	if (u == NULL) {
		proxy_txn_ops.response(arg, ct, resp);
		return;
	}
	if (status < 200 || u->done) {
		return;
	}
	if ((status == 401 || status == 407) && u->auth != NULL &&
	    u->answers < UAC_MAX_ANSWERS) {
		bool had = u->auth->have && u->answers > 0;
		rc = core_uac_challenge(u->auth, resp);
		/* a second challenge is answered only when the first
		 * answer's nonce was stale: else the password is wrong */
		if (rc == 0 && (!had || u->auth->stale)) {
			u->answers++;
			u->cseq++; /* RFC 3261 22.2: a new CSeq */
			u->ct = NULL;
			if (attempt(u) == 0) {
				return;
			}
			finish(u, status, resp, "cannot send the credentials");
			return;
		}
		if (rc == -ENOTSUP) {
			finish(u, status, resp, "auth-int only, refused");
			return;
		}
	}
	if (status == 503 && u->ts != NULL) {
		/* RFC 3263 4.3: a 503 moves on to the next target */
		target_failed(u);
		u->ct = NULL;
		while (next_target(u)) {
			if (attempt(u) == 0) {
				return;
			}
			target_failed(u);
		}
	}
	finish(u, status, resp, NULL);
}

static void
on_timeout(void *arg, struct txn *t)
{
	struct core *c = arg;
	struct core_uac *u = c->uacs != NULL ? uac_of(c, t) : NULL;

	if (u == NULL) {
		proxy_txn_ops.timeout(arg, t);
		return;
	}
	/* RFC 3261 17.1.2.2: Timer F is a 408; the next target, if any */
	u->ct = NULL;
	if (!u->done) {
		target_failed(u);
		send_next(u, 408, "no answer");
	} else if (u->q == NULL) {
		uac_free(u);
	}
}

static void
on_error(void *arg, struct txn *t, int err)
{
	struct core *c = arg;
	struct core_uac *u = c->uacs != NULL ? uac_of(c, t) : NULL;

	if (u == NULL) {
		proxy_txn_ops.error(arg, t, err);
		return;
	}
	u->ct = NULL;
	if (!u->done) {
		/* RFC 3261 8.1.3.1: a transport error is a 503 */
		target_failed(u);
		send_next(u, 503, "transport error");
	} else if (u->q == NULL) {
		uac_free(u);
	}
}

static void
on_terminated(void *arg, struct txn *t)
{
	struct core *c = arg;
	struct core_uac *u = c->uacs != NULL ? uac_of(c, t) : NULL;

	if (u == NULL) {
		proxy_txn_ops.terminated(arg, t);
		return;
	}
	u->ct = NULL;
	if (!u->done) {
		/* ended with nothing said (the table is going away) */
		finish(u, 503, NULL, "transaction ended");
		return;
	}
	if (u->q == NULL) {
		uac_free(u);
	}
}

static int
on_send(void *arg, const struct tp_src *dst, const char *buf, size_t len)
{
	return proxy_txn_ops.send(arg, dst, buf, len);
}

const struct txn_ops core_txn_ops = {
	.send = on_send,
	.response = on_response,
	.timeout = on_timeout,
	.error = on_error,
	.terminated = on_terminated,
};
