/*
 * The transaction-stateful proxy (RFC 3261 16): request validation that
 * needs routing (loop detection, Proxy-Require), forwarding in a client
 * transaction with Max-Forwards, Record-Route and sipd's Via, the
 * response context that picks the best final response, CANCEL
 * propagation, and the ACK of a 2xx relayed statelessly by Route and
 * Request-URI (sipd's Route entries taken off and its signed
 * Record-Route are in rroute.c; responses relayed by Via, and sipd's
 * signed branch, in branch.c).  It is the transaction layer's user:
 * proxy_txn_ops receives every transaction event.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

static const char *const proto_names[] = {
	[TP_UDP] = "UDP",
	[TP_TCP] = "TCP",
	[TP_TLS] = "TLS",
};

static void fork_next(struct pctx *p, struct msg *own,
    const struct route_seen *seen);
static int forward(struct core *c, struct pctx *p, struct proxy_target *t,
    struct msg *own, const struct route_seen *seen);

/* ----------------------------------------------------- loop detection */

/*
 * One part into the loop hash h, eight bytes a step, its length last so
 * that no two lists of parts run together alike; a multiply and a shift
 * a word where FNV-1a took a multiply a byte.  Peers choose these bytes,
 * but a collision only makes a request of theirs look like a loop.
 */
/* Of w, eight bytes loaded from memory, the last n (0 < n < 8) as the
 * low bytes of a little-endian word, as the loop below assembles them. */
static inline uint64_t
le_low(uint64_t w, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w >> (8 * (8 - n));
#else
	uint64_t r = 0;
	const uint8_t *b = (const uint8_t *)&w;

	for (size_t i = 0; i < n; i++) {
		r |= (uint64_t)b[8 - n + i] << (8 * i);
	}
	return r;
#endif
}

static uint64_t
loop_mix(uint64_t h, struct sv v)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	const char *p = v.p;
	size_t n = v.len;
	uint64_t w = 0;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	/* the last 1-7 bytes as the low bytes of a word: from the part's
	 * last eight when it has them, not a copy of variable length */
	w = 0;
	if (n > 0 && v.len >= 8) {
		memcpy(&w, p + n - 8, 8);
		w = le_low(w, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			w |= (uint64_t)(uint8_t)p[i] << (8 * i);
		}
	}
	h = (h ^ w) * k;
	h ^= h >> 29;
	h = (h ^ v.len) * k;
	return h ^ (h >> 32);
}

/*
 * RFC 3261 16.6 step 8: the part of sipd's branch that stays the same for
 * the same request, so a request that comes back unchanged is seen as a
 * loop (16.3 step 4) and one retargeted in between as a spiral.
 */
static uint32_t
loop_hash(struct msg *req)
{
	const struct msg_naddr *f = msg_from(req), *t = msg_to(req);
	const struct msg_cseq *cs = msg_cseq(req);
	const struct msg_naddr *routes;
	struct sv parts[6];
	uint64_t h = MSG_FNV_INIT;
	int n = 0;

	parts[n++] = msg_sv(req, msg_ruri_span(req));
	parts[n++] = f ? msg_sv(req, f->tag) : (struct sv){ "", 0 };
	parts[n++] = t ? msg_sv(req, t->tag) : (struct sv){ "", 0 };
	parts[n++] = msg_callid(req);
	parts[n++] = (struct sv){ (const char *)&cs->num, sizeof(cs->num) };
	parts[n++] = msg_hdr_first(req, HDR_ROUTE) >= 0 &&
		msg_naddrs(req, HDR_ROUTE, &routes) > 0
	    ? msg_sv(req, routes[0].value)
	    : (struct sv){ "", 0 };
	for (int i = 0; i < n; i++) {
		h = loop_mix(h, parts[i]);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static bool
looped(struct core *c, struct msg *req, uint32_t hash)
{
	const struct msg_via *vias;
	char want[9];
	int n = msg_vias(req, &vias);

	want[0] = '.';
	sv_hex32(hash, want + 1);
	for (int i = 0; i < n; i++) {
		struct sv body, sig;
		if (!core_branch_split(msg_sv(req, vias[i].branch), &body, &sig) ||
		    memcmp(body.p + body.len - sizeof(want), want,
			sizeof(want)) != 0) {
			continue;
		}
		if (route_is_local(c, msg_sv(req, vias[i].host), vias[i].port,
			false)) {
			return true;
		}
	}
	return false;
}

/* -------------------------------------------------------- forwarding */


/* Max-Forwards decremented, or 70 when absent (16.6 step 3). */
static int
max_forwards(struct msg *fwd)
{
	uint32_t mf;
	char num[20];
	int i = msg_hdr_first(fwd, HDR_MAX_FORWARDS);

	if (i < 0) {
		return msg_hdr_append(fwd, "Max-Forwards", SV_LIT("70")) < 0
		    ? -ENOMEM
		    : 0;
	}
	if (msg_max_forwards(fwd, &mf) != 0 || mf == 0) {
		return -EINVAL;
	}
	return msg_hdr_replace(fwd, i, (struct sv){ num, sv_utoa(mf - 1, num) });
}

/* 16.6 step 8: sipd's Via, with a branch naming the shard and the loop
 * hash, signed; the branch also into branch (CORE_BRANCH_MAX bytes, its
 * length in *blen) when it is not NULL, for the client transaction's
 * key. */
static int
push_via(struct core *c, struct msg *fwd, const struct tp_src *dst,
    uint32_t hash, char *branch, size_t *blen)
{
	char addr[TP_ADDRSTRLEN];
	char val[TP_ADDRSTRLEN + CORE_BRANCH_MAX + 32];
	const char *proto = proto_names[dst->proto];
	size_t n = 0, alen, b;

	if (route_local_addr_src(c, dst, addr,
		sizeof(addr)) != 0) {
		return -EADDRNOTAVAIL;
	}
	/* "SIP/2.0/UDP addr;branch=z9hG4bKs<shard>.<unique>.<loop hash>.
	 * <signature>", written without printf: this runs for every
	 * forwarded request */
	alen = strlen(addr);
	memcpy(val, "SIP/2.0/", 8);
	n = 8;
	memcpy(val + n, proto, 3);
	n += 3;
	val[n++] = ' ';
	memcpy(val + n, addr, alen);
	n += alen;
	memcpy(val + n, ";branch=", 8);
	n += 8;
	b = n;
	n += txn_branch_new(c->txn, val + n);
	val[n++] = '.';
	n += sv_hex32(hash, val + n);
	if (core_branch_sign(c, fwd, (struct sv){ val + b, n - b }, val + n + 1) !=
	    0) {
		return -EIO;
	}
	val[n] = '.';
	n += 1 + CORE_MAC_HEX;
	if (branch != NULL) {
		memcpy(branch, val + b, n - b);
		*blen = n - b;
	}
	return msg_via_push(fwd, (struct sv){ val, n }) < 0 ? -ENOMEM : 0;
}

int
proxy_push_via(struct core *c, struct msg *m, const struct tp_src *dst,
    uint32_t hash)
{
	return push_via(c, m, dst, hash, NULL, NULL);
}

/* ------------------------------------------------- response context */

/* A response context for n targets (n may be 0: a CANCEL's). */
static struct pctx *
pctx_new(struct core *c, int n)
{
	struct pctx *p = calloc(1, sizeof(*p) +
		(size_t)n * (sizeof(p->tg[0]) + sizeof(struct branch)));

	if (p != NULL) {
		p->c = c;
		p->br = (struct branch *)(void *)&p->tg[n];
	}
	return p;
}

static void
pctx_unref(struct pctx *p)
{
	if (p != NULL && --p->refs == 0) {
		for (int i = 0; i < p->nbr; i++) {
			if (p->br[i].status / 100 != 2) {
				core_media_end(p->c, &p->br[i].media);
			}
		}
		for (int i = 0; i < p->ntg; i++) {
			free(p->tg[i].ruri);
			free(p->tg[i].route);
		}
		msg_free(p->best);
		resolve_free(p);
		free(p->gwd);
		free(p);
	}
}

static int
branch_of(struct pctx *p, struct txn *t)
{
	for (int i = 0; i < p->nbr; i++) {
		if (p->br[i].ct == t) {
			return i;
		}
	}
	return -1;
}

static void respond_from(struct pctx *p, struct msg *req, int status,
    const char *reason);

/* Send a response built by sipd in the server transaction. */
static void
respond_local(struct pctx *p, int status, const char *reason)
{
	if (p->st != NULL) {
		respond_from(p, txn_request(p->st), status, reason);
	}
}

/*
 * The same, built from req: the received request when it is still at
 * hand, so the transaction's compact copy is not parsed for it.
 */
static void
respond_from(struct pctx *p, struct msg *req, int status, const char *reason)
{
	struct msg *resp;

	if (p->st == NULL || p->final_sent) {
		return;
	}
	resp = core_response(p->c, req, status, reason);
	if (resp == NULL) {
		return;
	}
	if (status == 503) {
		msg_hdr_append(resp, "Retry-After", SV_LIT("5"));
	}
	if (status >= 200) {
		p->final_sent = true;
	}
	calls_final(p, status, resp);
	core_count_out(p->c, resp);
	txn_server_respond(p->st, resp);
	msg_free(resp);
}

/*
 * 16.2: the 100 to an INVITE, sent as it is written: nothing reads it
 * back, so it is not parsed as a message (the way respond_from() takes,
 * and this one when the bytes do not fit).  The same bytes: the request's
 * Via, From, To, Call-ID and CSeq, no To tag (8.2.6.2), Content-Length,
 * then Server.
 */
static void
respond_trying(struct pctx *p, struct msg *req)
{
	struct core *c = p->c;
	char out[2048];
	int n;

	if (p->st == NULL || p->final_sent) {
		return;
	}
	n = msg_response_write(req, 100, NULL, (struct sv){ "", 0 },
	    c->server_len > 0 ? "Server" : NULL,
	    (struct sv){ c->server, c->server_len }, out, sizeof(out));
	if (n < 0) {
		respond_from(p, req, 100, NULL);
		return;
	}
	c->stats.resp_out[1]++; /* as core_count_out() counts a 1xx */
	txn_server_respond_bytes(p->st, 100, out, (size_t)n);
}

/* Forward a response received on a branch (our Via already popped). */
static void
respond_forward(struct pctx *p, struct msg *resp)
{
	int status = msg_status(resp);

	if (p->st == NULL) {
		return;
	}
	if (status >= 200) {
		p->final_sent = true;
	}
	if (p->gw1 != 0 || p->gwd != NULL) {
		core_gw_restore(p, resp);
	}
	calls_final(p, status, resp);
	core_wk_response(p->c, p, resp);
	core_count_out(p->c, resp);
	txn_server_respond(p->st, resp);
}

static void
cancel_branch(struct pctx *p, int i)
{
	struct branch *b = &p->br[i];
	struct msg *cm;
	struct txn *ct;
	int err;

	if (b->ct == NULL || b->status != 0 || b->cancel != NULL) {
		return;
	}
	if (txn_state(b->ct) == TXN_CALLING) {
		/* RFC 3261 9.1: not before a provisional response */
		b->cancel_pending = true;
		return;
	}
	b->cancel_pending = false;
	cm = txn_client_cancel_new(b->ct);
	if (cm == NULL) {
		return;
	}
	/* counted first: the transaction takes cm and frees it */
	core_count_out(p->c, cm);
	ct = txn_client_new(p->c->txn, cm, txn_peer(b->ct, &(struct tp_src){ 0 }),
	    p, &err);
	if (ct == NULL) {
		msg_free(cm);
		return;
	}
	b->cancel = ct;
	p->refs++;
}

static void
cancel_others(struct pctx *p, int except)
{
	for (int i = 0; i < p->nbr; i++) {
		if (i != except) {
			cancel_branch(p, i);
		}
	}
}

/* 16.7 step 6: 6xx first, else the lowest class; ties keep the first. */
static int
rank(int status)
{
	return status >= 600 ? 0 : status / 100;
}

/* Keep status (resp NULL: local) when it is the best so far (16.7). */
static void
keep_best(struct pctx *p, int status, struct msg *resp)
{
	int best = p->best ? msg_status(p->best) : 0;

	if (best == 0 || rank(status) < rank(best)) {
		msg_free(p->best);
		p->best = resp ? msg_compact(resp) : NULL;
		if (p->best == NULL) {
			/* keep the status alone: answered locally below */
			p->best = core_response(p->c, txn_request(p->st), status,
			    NULL);
		}
	}
}

/* The next target DNS gave for p's one target, into t and p's. */
static bool
next_by_dns(struct pctx *p, struct proxy_target *t)
{
	pctx_target_get(&p->tg[0], t);
	if (!resolve_next(p, t)) {
		return false;
	}
	pctx_target_set(&p->tg[0], t);
	return true;
}

/*
 * RFC 3263 4.3: a target found in DNS that failed (a transport error,
 * Timer B or F: a local 503 or 408; a 503 received) gives way to the next
 * one of its list, the same request in a new client transaction with a
 * new branch, in the same slot.  True when one started.
 */
static bool
failover(struct pctx *p, int i, int status, struct msg *resp)
{
	struct txn *ct = i >= 0 ? p->br[i].ct : NULL;
	struct proxy_target t;

	if (p->dns == NULL || i < 0 || i != p->nbr - 1 || p->cancelled ||
	    !(status == 503 || (status == 408 && resp == NULL))) {
		return false;
	}
	/* a target that rang has alerted its user: not called twice */
	if (resp == NULL && ct != NULL && txn_status(ct) > 100) {
		return false;
	}
	resolve_failed(p);
	keep_best(p, status, resp);
	while (next_by_dns(p, &t)) {
		p->nbr = i;
		if (forward(p->c, p, &t, NULL, NULL) == 0) {
			return true;
		}
		resolve_failed(p);
	}
	p->nbr = i + 1;
	return false;
}

/* A branch ended with a final non-2xx status (resp NULL: local). */
static void
branch_final(struct pctx *p, int i, int status, struct msg *resp)
{
	if (i >= 0) {
		p->br[i].status = status;
		core_media_end(p->c, &p->br[i].media);
	}
	if (p->st == NULL || p->final_sent) {
		/* a late branch after the answer: nothing left to choose */
		return;
	}
	if (failover(p, i, status, resp)) {
		return;
	}
	keep_best(p, status, resp);
	if (status >= 600) {
		cancel_others(p, i);
	}
	for (int k = 0; k < p->nbr; k++) {
		if (p->br[k].status == 0 && p->br[k].ct != NULL) {
			return; /* still waiting on a branch */
		}
	}
	if (p->final_sent || p->best == NULL) {
		return;
	}
	/* 16.6, 16.7 step 4: serial forking goes on to the next q, unless
	 * a 6xx or a CANCEL ended the search */
	if (p->next_tg < p->ntg && !p->cancelled &&
	    msg_status(p->best) < 600) {
		fork_next(p, NULL, NULL);
		return;
	}
	if (msg_status(p->best) == 503) {
		/* 16.7 step 6: a 503 is not passed on as such */
		respond_local(p, 500, NULL);
		return;
	}
	respond_forward(p, p->best);
}

/* Is resp one core_media_response() reads: a provisional or 2xx to an
 * INVITE or UPDATE, with the media relay running?  Asked first because
 * it reads the request a client transaction keeps as bytes, parsed on
 * demand (txn_request()). */
static bool
media_reads(const struct core *c, const struct txn *ct, int status)
{
	enum msg_method mt = txn_method(ct);

	return c->media != NULL && status > 100 && status < 300 &&
	    (mt == MSG_INVITE || mt == MSG_UPDATE);
}

/*
 * Whether resp's next Via line (its top one, sipd's own taken off) is, byte
 * for byte, the top Via line of the request sipd received, which parsed
 * and held that one value (via_alone()), as sipd forwarded it below its
 * own: those bytes parse as they did, so what an honest next hop sends
 * back is not parsed again to be found well-formed (RFC 3261 16.7 step
 * 3).  Anything else is parsed (msg_via_top()) and dropped when
 * malformed, as ever.
 */
static bool
via_known(const struct pctx *p, struct msg *resp)
{
	struct sv r, v;

	if (!p->via_ok) {
		return false;
	}
	r = msg_hdr_value(resp, HDR_VIA);
	v = txn_server_via(p->st);
	return v.len != 0 && r.len == v.len && memcmp(r.p, v.p, v.len) == 0;
}

/* Whether req's top Via parsed, the one value of its line (via_known()). */
static bool
via_alone(struct msg *req)
{
	const struct msg_via *v = msg_via_top(req);
	struct sv line = msg_hdr_value(req, HDR_VIA);

	return v != NULL && msg_sv(req, v->value).p == line.p &&
	    v->value.len == line.len;
}

static void
on_response(void *arg, struct txn *ct, struct msg *resp)
{
	struct core *c = arg;
	struct pctx *p = txn_tu(ct);
	int status = msg_status(resp);
	int i;

	if (p == NULL) {
		return;
	}
	i = branch_of(p, ct);
	if (i < 0) {
		return; /* the answer to our CANCEL: hop by hop */
	}
	if (status < 200 && p->br[i].cancel_pending) {
		cancel_branch(p, i);
	}
	if (status == 100) {
		return; /* 16.7 step 5: 100 is not forwarded */
	}
	if (p->st == NULL) {
		/* the server transaction is gone: 2xx go on by Via, as an
		 * orphan would (the next Via is the peer's word too) */
		if (status >= 200 && status < 300) {
			if (media_reads(c, ct, status)) {
				core_media_response(c, p, i, ct, resp);
			}
			core_relay_by_via(c, resp,
			    txn_peer(ct, &(struct tp_src){ 0 }), false);
		}
		return;
	}
	if (msg_via_pop(resp) != 0 ||
	    (!via_known(p, resp) && msg_via_top(resp) == NULL)) {
		return;
	}
	if (media_reads(c, ct, status)) {
		core_media_response(c, p, i, ct, resp);
	}
	if (status < 200) {
		respond_forward(p, resp);
	} else if (status < 300) {
		/* 16.7 step 5: every 2xx goes up at once */
		p->br[i].status = status;
		respond_forward(p, resp);
		if (txn_method(ct) == MSG_INVITE) {
			cancel_others(p, i);
		}
	} else {
		/* a gateway's challenge is sipd's to answer (gwcall.c) */
		int gs = p->gw1 != 0 ? core_gw_response(p, i, ct, resp) : 0;
		if (gs >= 0) {
			branch_final(p, i, gs > 0 ? gs : status,
			    gs > 0 ? NULL : resp);
		}
	}
}

static void
on_timeout(void *arg, struct txn *t)
{
	struct pctx *p = txn_tu(t);
	int i;

	(void)arg;
	if (p == NULL || txn_kind(t) == TXN_SERVER) {
		return; /* Timer H: the ACK never came; nothing to do */
	}
	i = branch_of(p, t);
	if (i < 0) {
		return;
	}
	if (txn_state(t) == TXN_PROCEEDING) {
		/* Timer C (16.8): give up on the ringing branch */
		cancel_branch(p, i);
		return;
	}
	/* Timer B or F: the branch answers 408 (16.7 step 2) */
	branch_final(p, i, 408, NULL);
}

static void
on_error(void *arg, struct txn *t, int err)
{
	struct pctx *p = txn_tu(t);
	char peer[TP_ADDRSTRLEN];
	int i;

	(void)arg;
	log_notice(txn_kind(t) == TXN_SERVER ? LOG_SERVER : LOG_CLIENT,
	    "transport error with %s (%s)",
	    core_peer(txn_peer(t, &(struct tp_src){ 0 }), peer, sizeof(peer)),
	    strerror(-err));
	if (p == NULL || txn_kind(t) == TXN_SERVER) {
		return;
	}
	i = branch_of(p, t);
	if (i >= 0 && p->br[i].status == 0) {
		/* RFC 3261 8.1.3.1: a transport error is a 503; RFC 5626 5.3:
		 * a flow whose connection is gone, 430 */
		branch_final(p, i, err == -ENOTCONN ? 430 : 503, NULL);
	}
}

static void
on_terminated(void *arg, struct txn *t)
{
	struct pctx *p = txn_tu(t);

	(void)arg;
	if (p == NULL) {
		return;
	}
	if (t == p->st) {
		p->st = NULL;
		if (resolve_cancel(p)) {
			pctx_unref(p); /* the lookup's reference */
		}
	} else {
		for (int i = 0; i < p->nbr; i++) {
			if (p->br[i].ct == t) {
				p->br[i].ct = NULL;
			}
			if (p->br[i].cancel == t) {
				p->br[i].cancel = NULL;
			}
		}
	}
	pctx_unref(p);
}

static int
on_send(void *arg, const struct tp_src *dst, const char *buf, size_t len)
{
	return core_send(arg, dst, buf, len);
}

const struct txn_ops proxy_txn_ops = {
	.send = on_send,
	.response = on_response,
	.timeout = on_timeout,
	.error = on_error,
	.terminated = on_terminated,
};

/* Put a binding's Path on top of the Route set (RFC 3327 5.3). */
static int
push_route(struct msg *fwd, const char *route)
{
	int at = msg_hdr_first(fwd, HDR_ROUTE);

	return msg_hdr_insert_id(fwd, at, HDR_ROUTE,
		   (struct sv){ route, strlen(route) }) < 0
	    ? -ENOMEM
	    : 0;
}

/*
 * Forward to target t (16.6) own, the received request, when given (it is
 * taken), else a copy of the server transaction's; seen, when not NULL,
 * what route_preprocess() and route_rr_signed() found of own.  Returns 0,
 * or a negative errno when the branch could not start (the caller counts
 * it as a 503 branch).
 */
static int
forward(struct core *c, struct pctx *p, struct proxy_target *t,
    struct msg *own, const struct route_seen *seen)
{
	struct msg *fwd = own ? own : msg_compact(txn_request(p->st));
	struct tp_src *dst = &t->dst, src;
	char peer[TP_ADDRSTRLEN];
	struct txn *ct;
	unsigned wk;
	uint32_t media = 0;
	uint8_t mreq = 0;
	char gwd[CORE_GWD_PARAM_MAX + 8];
	char branch[CORE_BRANCH_MAX];
	size_t blen = 0;
	bool media_rr;
	int err = -ENOMEM;

	gwd[0] = '\0';

	if (route_dst_local(c, dst)) {
		/* 16.3 step 4: whatever the Route set or the rules say, a
		 * request sent to sipd itself would only come back */
		msg_free(fwd);
		log_notice(LOG_CLIENT, "refused to forward to %s (sipd itself, "
		    "a loop)", core_peer(dst, peer, sizeof(peer)));
		return -ELOOP;
	}
	if (fwd == NULL || max_forwards(fwd) != 0) {
		goto fail;
	}
	if (t->ruri != NULL &&
	    msg_set_ruri(fwd, (struct sv){ t->ruri, strlen(t->ruri) }) != 0) {
		goto fail;
	}
	if (t->route != NULL && push_route(fwd, t->route) != 0) {
		goto fail;
	}
	if ((p->gw1 != 0 || p->gwd != NULL) &&
	    core_gw_outgoing(p, fwd) != 0) {
		goto fail;
	}
	if (p->gw1 != 0) {
		core_gwd_rr_param(p, fwd, gwd, sizeof(gwd));
	}
	if (!t->proto_set) {
		/* RFC 3261 18.1.1: UDP unless it is too big for it */
		dst->proto = tp_choose_proto(c->tp,
		    (const struct sockaddr *)&dst->addr, msg_size(fwd) + 128);
	}
	wk = core_wk_request(c, fwd, dst, t->wk);
	/* a relayed call: sipd must see its re-INVITE and BYE */
	err = core_media_request(c, p, t, fwd, &media, &media_rr, &mreq);
	if (err != 0) {
		goto fail;
	}
	err = -ENOMEM;
	/* a gateway call: its dialog stays with sipd, the gateway's door;
	 * a client behind a remote NAT is reached only through sipd: its
	 * dialogs must stay on sipd's path; a REGISTER records the path
	 * instead (RFC 3327, nopath.c) */
	pctx_src(p, &src);
	if ((c->force_rr || p->cdr || media_rr ||
		p->gw1 != 0 || dst->proto != src.proto || t->nat ||
		core_nat_far(c, fwd, &src)) &&
	    (msg_method(fwd) == MSG_REGISTER
		    ? core_path_add(c, fwd, &src, dst, wk)
		    : route_record_route(c, fwd, &src, dst,
			  (wk & WK_NOTCP) != 0, gwd, seen)) != 0) {
		goto fail;
	}
	calls_routed(c, p, dst);
	if (push_via(c, fwd, dst, p->hash, branch, &blen) != 0) {
		goto fail;
	}
	/* counted first: the transaction takes fwd and frees it */
	core_count_out(c, fwd);
	/* its key from the branch just written: the Via not parsed back */
	ct = txn_client_forward(c->txn, p->st, fwd, (struct sv){ branch, blen },
	    dst, p, &err);
	if (ct == NULL) {
		goto fail;
	}
	p->br[p->nbr++] =
	    (struct branch){ .ct = ct, .media = media, .mreq = mreq };
	p->refs++;
	return 0;
fail:
	core_media_end(c, &media);
	msg_free(fwd);
	log_notice(LOG_CLIENT, "cannot forward to %s (%s)",
	    core_peer(dst, peer, sizeof(peer)), strerror(-err));
	return err;
}

/*
 * Start the next group of targets: every target of the highest q not
 * tried yet, in parallel (16.6; RFC 3261 16.7 step 4 for serial search).
 * own, when given, is the received request: the first branch takes it,
 * which saves a copy in the common case of one target (and seen with it).
 */
static void
fork_next(struct pctx *p, struct msg *own, const struct route_seen *seen)
{
	int q = p->tg[p->next_tg].q;

	while (p->next_tg < p->ntg && p->tg[p->next_tg].q == q) {
		struct proxy_target t;
		int rc = forward(p->c, p,
		    pctx_target_get(&p->tg[p->next_tg++], &t), own, seen);
		own = NULL;
		seen = NULL;
		if (rc != 0) {
			/* a branch that cannot start is a 503 branch, or a 482
			 * when it would have looped */
			int st = rc == -ELOOP ? 482 : rc == -ENOSPC ? 488
			    : rc == -ENOTCONN ? 430 : 503;
			p->br[p->nbr++] = (struct branch){ .status = st };
			branch_final(p, p->nbr - 1, st, NULL);
			if (p->final_sent) {
				return;
			}
		}
	}
}

/* Order targets by q, highest first, keeping the given order in a tie. */
static void
sort_targets(struct proxy_target *tg, int n)
{
	for (int i = 1; i < n; i++) {
		struct proxy_target t = tg[i];
		int j = i;
		while (j > 0 && tg[j - 1].q < t.q) {
			tg[j] = tg[j - 1];
			j--;
		}
		tg[j] = t;
	}
}

static void
free_targets(struct proxy_target *tg, int n)
{
	for (int i = 0; i < n; i++) {
		free(tg[i].ruri);
		free(tg[i].route);
	}
}

/*
 * RFC 3263: p's one target is a host name; the policy has allowed it.
 * From the cache the request goes at once (the first branch takes req);
 * otherwise it waits in its server transaction for proxy_resolved().
 */
static bool
forward_by_name(struct core *c, struct pctx *p, struct msg *req, bool via)
{
	const char *reason;
	struct proxy_target t;
	int rc = resolve_begin(c, p, req, via);

	if (rc == 0 && next_by_dns(p, &t)) {
		fork_next(p, req, NULL);
		return true;
	}
	if (rc != 1) {
		int status = resolve_status(rc == 0 ? -ENODATA : rc, &reason);
		respond_from(p, req, status, reason);
	}
	return false;
}

void
proxy_resolved(struct pctx *p, int err)
{
	const char *reason;
	struct proxy_target t;

	if (p->st != NULL && !p->final_sent) {
		if (err == 0 && next_by_dns(p, &t)) {
			fork_next(p, NULL, NULL);
		} else {
			int status = resolve_status(err == 0 ? -ENODATA : err,
			    &reason);
			respond_local(p, status, reason);
		}
	}
	pctx_unref(p);
}

bool
proxy_request(struct core *c, struct msg *req, const struct tp_src *src)
{
	struct proxy_target tg[CORE_MAX_BRANCHES];
	struct core_policy_in in;
	struct core_router_out rt; /* core_router() clears it */
	char peer[TP_ADDRSTRLEN];
	struct tp_src dst;
	bool proto_set = false, by_rule = false, routed, lookup, by_name;
	bool np = false;
	struct pctx *p;
	struct route_seen seen;
	char gwd[CORE_GWD_PARAM_MAX];
	size_t n;
	uint32_t hash;
	int rc, ntg = 0, gw1 = 0;
	bool own;

	/* tg[0, ntg) are set (free_targets() frees what is set): the
	 * location service's cleared first, the one target written whole */
	if (route_preprocess(c, req, &seen) < 0) {
		core_answer(c, src, req, 400, "Bad Route", "bad Route");
		return false;
	}
	routed = msg_hdr_first(req, HDR_ROUTE) >= 0;
	core_policy_init(c, req, src, &in);
	/* the Router table, before the account lookup and the target: to
	 * the first Route entry left, else the Request-URI */
	if (core_router(c, req, src, &in, &rt) < 0) {
		return false;
	}
	rc = rt.gateway ? -EHOSTUNREACH
			: route_target_from(c, req, &dst, &proto_set, &by_rule,
			      route_ruri_look(req, &seen));
	if (rt.via && rc != 1 && !by_rule) {
		/* set relay-via: a host name goes to the outbound proxy (a
		 * name of its own resolved in its stead) */
		dst = rt.dst;
		proto_set = false;
		rc = rt.via_name ? ROUTE_NAME : 0;
	}
	/* a Contact sipd wrote for a device (noPath): to the device */
	if (rc == 1 && !routed && core_path_request(c, req, &dst,
				      &proto_set) == 0) {
		np = true;
		rc = 0;
	}
	/* the Contact of a phone behind a NAT: where its NAT reaches it,
	 * for a registrar of sipd's or another's through sipd's Path */
	if (rc == 0 && core_nat_redirect(c, req, &dst,
		route_ruri_look(req, &seen))) {
		proto_set = true;
	} else if (rc == 0 && seen.flow && !routed) {
		dst = seen.to;
		proto_set = true;
	}
	/* a request in a dialog sipd Record-Routed: sipd signed the entry
	 * for these two hops */
	own = rc == 0 && route_rr_signed(c, req, &seen, src, &dst);
	if (!routed && core_registrar_request(c, req, src, rc == 1)) {
		return false;
	}
	if (!routed && core_mwi_request(c, req, src, rc == 1)) {
		return false;
	}
	/* 16.3 step 5 comes before routing: a request sipd forwards, or
	 * looks up in the location service, and that needs an extension
	 * sipd lacks, gets 420 before anything is looked up, challenged or
	 * sent; a request to sipd itself checks Require instead (8.2.2.3) */
	lookup = !routed && !rt.gateway && core_location_domain(c, req);
	if ((rc != 1 || lookup) &&
	    core_refuse_extensions(c, req, src, HDR_PROXY_REQUIRE)) {
		return false;
	}
	in.in_dialog = own;
	if (lookup) {
		/* 16.5: a user of a local domain: the policy before the
		 * location service, which asks it again for each target */
		core_policy_dst(c, req, &in, CORE_SEND_LOCAL, NULL, false);
		if (!core_policy_apply(c, req, src, NULL, &in)) {
			return false;
		}
		memset(tg, 0, sizeof(tg));
		ntg = core_location_targets(c, req, src, &in, tg,
		    CORE_MAX_BRANCHES);
		if (ntg == 0) {
			return false;
		}
	} else {
		if (rc == 1) {
			core_local_request(c, req, src);
			return false;
		}
		/* the policy, before anything is sent or looked up in DNS,
		 * and before a stranger learns which destinations sipd can
		 * reach: a host name is not known yet */
		core_policy_dst(c, req, &in,
		    np ? CORE_SEND_BINDING : CORE_SEND_RELAY,
		    rc != 0 ? NULL : &dst, by_rule);
		if (!core_policy_apply(c, req, src, rc != 0 ? NULL : &dst,
			&in)) {
			return false;
		}
		if (rt.gateway) {
			rc = core_route_gateway(c, req, src, rt.gw_name, &in,
			    &dst, &proto_set, &gw1);
			if (rc < 0) {
				return false; /* answered */
			}
		}
		if (rc < 0) {
			core_answer(c, src, req,
			    rc == -EPROTONOSUPPORT ? 416 : 404, NULL, "no route");
			return false;
		}
		tg[0] = (struct proxy_target){ .dst = dst,
			.proto_set = proto_set, .q = 1000 };
		ntg = 1;
	}
	if (own) {
		calls_in_dialog(c, req);
	}
	by_name = !lookup && rc == ROUTE_NAME;
	hash = loop_hash(req);
	if (looped(c, req, hash)) {
		core_answer(c, src, req, 482, NULL, "loop");
		goto drop;
	}
	p = pctx_new(c, ntg);
	if (p == NULL) {
		core_answer(c, src, req, 500, NULL, "out of memory");
		goto drop;
	}
	/* the transaction keeps req's bytes; req stays the caller's */
	p->st = txn_server_new(c->txn, req, src, p);
	if (p->st == NULL) {
		int e = errno;
		free(p);
		core_answer(c, src, req, 503, NULL,
		    e == EBUSY ? "server transaction limit" : "no memory");
		goto drop;
	}
	p->refs = 1;
	p->via_ok = via_alone(req);
	if (txn_addr_set(&p->src, src) != 0) {
		memset(&p->src, 0, sizeof(p->src)); /* the transaction's failed */
	}
	p->hash = hash;
	p->gw1 = gw1;
	if (gw1 == 0 && own) {
		/* a request of a gateway call's dialog: its challenge too is
		 * sipd's to answer */
		p->gw1 = core_gw_dialog(c, req, &dst);
		p->gw_dialog = p->gw1 != 0;
	}
	if (own && (n = route_seen_gwd(req, &seen, gwd)) > 0) {
		core_gw_in_dialog(p, req, (struct sv){ gwd, n });
	}
	for (int k = 0; k < ntg; k++) {
		tg[k].media = rt.media; /* a Router record's, for media.c */
	}
	sort_targets(tg, ntg);
	for (int k = 0; k < ntg; k++) {
		pctx_target_set(&p->tg[k], &tg[k]);
	}
	p->ntg = ntg;
	calls_invite(c, p, req, src, &in);
	log_info(LOG_SERVER, "request %.*s from %s", (int)msg_method_name(req).len,
	    msg_method_name(req).p, core_peer(src, peer, sizeof(peer)));
	if (msg_method(req) == MSG_INVITE) {
		/* 16.2: a stateful proxy answers an INVITE with 100 at once */
		respond_trying(p, req);
	}
	if (by_name) {
		return forward_by_name(c, p, req, rt.via_name);
	}
	/* the first branch takes req: no copy for one target */
	fork_next(p, req, &seen);
	return true;
drop:
	free_targets(tg, ntg);
	return false;
}

void
proxy_cancel(struct core *c, struct msg *req, const struct tp_src *src)
{
	struct txn *ist = txn_server_find_invite(c->txn, req, src);
	struct pctx *ip, *cp;
	struct msg *resp;

	if (ist == NULL) {
		/* 16.10: no transaction to cancel */
		core_answer(c, src, req, 481, NULL, "no INVITE to cancel");
		return;
	}
	cp = pctx_new(c, 0);
	if (cp == NULL) {
		return;
	}
	cp->st = txn_server_new(c->txn, req, src, cp);
	if (cp->st == NULL) {
		free(cp);
		core_answer(c, src, req, 503, NULL, "server transaction limit");
		return;
	}
	cp->refs = 1;
	resp = core_response(c, req, 200, NULL);
	if (resp != NULL) {
		core_count_out(c, resp);
		txn_server_respond(cp->st, resp);
		msg_free(resp);
	}
	ip = txn_tu(ist);
	if (ip != NULL && !ip->final_sent) {
		ip->cancelled = true;
		cancel_others(ip, -1);
		if (resolve_cancel(ip)) {
			/* still in DNS: no branch will answer 487 (9.2) */
			respond_local(ip, 487, NULL);
			pctx_unref(ip);
		}
	}
}

void
proxy_relay_ack(struct core *c, struct msg *ack, const struct tp_src *src)
{
	char peer[TP_ADDRSTRLEN];
	struct route_seen seen;
	char gwd[CORE_GWD_PARAM_MAX];
	size_t n;
	struct tp_src dst;
	bool proto_set, by_rule, own, dst_named = false;
	int rc;

	if (route_preprocess(c, ack, &seen) < 0) {
		return;
	}
	rc = route_target_from(c, ack, &dst, &proto_set, &by_rule,
	    route_ruri_look(ack, &seen));
	if (rc == ROUTE_NAME) {
		/* RFC 3263: its INVITE went there a moment ago, so the cache
		 * holds the name; an ACK waits for no lookup.  The policy
		 * judges it below as for a name: before the address counts */
		dst_named = true;
		rc = resolve_cached(c, ack, &dst) == 0 ? 0 : -EHOSTUNREACH;
		proto_set = true;
	}
	/* the Contact of a phone behind a NAT: where its NAT reaches it */
	if (rc == 0 && !dst_named && core_nat_redirect(c, ack, &dst,
		route_ruri_look(ack, &seen))) {
		proto_set = true;
	}
	own = rc == 0 && !dst_named &&
	    route_rr_signed(c, ack, &seen, src, &dst);
	if (rc == 0 && route_dst_local(c, &dst)) {
		log_notice(LOG_SERVER, "absorbed ACK from %s (next hop is sipd "
		    "itself, a loop)", core_peer(src, peer, sizeof(peer)));
		return;
	}
	if (rc == 0) {
		/* an ACK cannot be challenged: allowed, or absorbed */
		struct core_policy_in in;

		core_policy_init(c, ack, src, &in);
		in.in_dialog = own;
		core_policy_dst(c, ack, &in, CORE_SEND_ACK,
		    dst_named ? NULL : &dst, by_rule);
		if (!core_policy_apply(c, ack, src, &dst, &in)) {
			log_info(LOG_SERVER, "absorbed ACK from %s (relay "
			    "denied)", core_peer(src, peer, sizeof(peer)));
			return;
		}
	}
	if (rc != 0) {
		log_info(LOG_SERVER, "absorbed ACK from %s (%s)",
		    core_peer(src, peer, sizeof(peer)),
		    rc == 1 ? "for sipd" : "no route");
		return;
	}
	if (max_forwards(ack) != 0) {
		return;
	}
	core_media_ack(c, ack);
	if (own && (n = route_seen_gwd(ack, &seen, gwd)) > 0 &&
	    core_gw_ack(c, ack, (struct sv){ gwd, n }) != 0) {
		return;
	}
	if (!proto_set) {
		dst.proto = tp_choose_proto(c->tp,
		    (const struct sockaddr *)&dst.addr, msg_size(ack) + 128);
	}
	if (push_via(c, ack, &dst, loop_hash(ack), NULL, NULL) != 0) {
		return;
	}
	c->stats.relayed_stateless++;
	if (core_send_msg(c, &dst, ack) == 0) {
		log_info(LOG_SERVER, "relayed ACK to %s",
		    core_peer(&dst, peer, sizeof(peer)));
	}
}
