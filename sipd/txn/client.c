/*
 * Client transactions (RFC 3261 17.1, RFC 6026 7.2): sending and
 * retransmitting a request, passing its responses to the TU, the ACK of a
 * non-2xx final response, CANCEL construction (9.1), and Timers A, B, C,
 * D, E, F, K and M.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

/* Transport error: the TU hears of it, the transaction ends (17.1.4). */
static void
client_failed(struct txn *x, int err)
{
	struct txn_table *t = x->tbl;

	if (t->ops.error != NULL) {
		t->ops.error(t->arg, x, err);
	}
	txn_terminate(x);
}

/*
 * txn_client_new(), and with base the text of the request req was made
 * from: req is then kept as a script over it.
 */
static struct txn *
client_new(struct txn_table *t, struct txn_text *base, struct msg *req,
    struct sv branch, const struct tp_src *dst, void *tu, int *err)
{
	char key[TXN_KEY_MAX], buf[TXN_TEXT_BUF];
	enum msg_method m = msg_method(req);
	struct txn *x = NULL;
	const char *bytes;
	char *tmp = NULL;
	uint64_t h;
	size_t n;
	int rc;

	if (branch.len == 0) {
		const struct msg_via *v = msg_via_top(req);

		if (v == NULL) {
			rc = -EINVAL;
			goto fail;
		}
		branch = msg_sv(req, v->branch);
	}
	if (m == MSG_ACK) {
		rc = -EINVAL;
		goto fail;
	}
	n = txn_client_key(branch, m, key);
	if (n == 0) {
		rc = -EINVAL;
		goto fail;
	}
	/* hashed once, for the look-up and the table */
	h = txn_hash(t, key, n);
	if (txn_lookup_hash(t, key, n, h) != NULL) {
		rc = -EINVAL;
		goto fail;
	}
	x = txn_alloc(t, TXN_CLIENT, key, n, h, req);
	if (x == NULL) {
		rc = -errno;
		goto fail;
	}
	/* a forwarded INVITE, which may ring for minutes: kept as what the
	 * proxy changed, over the request it received.  Other requests are
	 * answered soon: not worth the work */
	x->rq = txn_text_edited(base != NULL && m == MSG_INVITE ? base : NULL,
	    req, buf, sizeof(buf), &bytes, &tmp);
	if (x->rq == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = txn_addr_set(&x->peer, dst);
	if (rc != 0) {
		goto fail;
	}
	x->method = (uint8_t)m;
	x->reliable = dst->proto != TP_UDP;
	x->tu = tu;
	/* complete before the send, whose callback may look at the table;
	 * the request is kept as the bytes sent, parsed again on demand
	 * (txn_request()), which is what a ringing call costs least with */
	txn_set_state(x, m == MSG_INVITE ? TXN_CALLING : TXN_TRYING);

	txn_enter(t);
	rc = txn_send(x, dst, bytes, x->rq->len);
	free(tmp);
	tmp = NULL;
	if (rc != 0) {
		/* the TU never had it: no callback; req stays the caller's */
		txn_discard(x);
		txn_leave(t);
		x = NULL;
		goto fail;
	}
	msg_free(req);
	x->retx_ms = t->set.t1_ms;
	if (m == MSG_INVITE) {
		/* 17.1.1.2: Timer A retransmits, Timer B gives up */
		txn_arm(x, &x->end, t->set.timer_b_ms);
	} else {
		/* 17.1.2.2: Timer E retransmits, Timer F gives up */
		txn_arm(x, &x->end, 64 * t->set.t1_ms);
	}
	if (!x->reliable) {
		txn_arm(x, &x->retx, x->retx_ms);
	}
	txn_leave(t);
	return x;
fail:
	free(tmp);
	if (x != NULL) {
		txn_enter(t);
		txn_discard(x);
		txn_leave(t);
	}
	if (err != NULL) {
		*err = rc;
	}
	return NULL;
}

struct txn *
txn_client_new(struct txn_table *t, struct msg *req, const struct tp_src *dst,
    void *tu, int *err)
{
	return client_new(t, NULL, req, (struct sv){ "", 0 }, dst, tu, err);
}

struct txn *
txn_client_forward(struct txn_table *t, struct txn *st, struct msg *req,
    struct sv branch, const struct tp_src *dst, void *tu, int *err)
{
	struct txn_text *base = st != NULL && st->kind == TXN_SERVER &&
		st->tbl == t && !st->dead
	    ? st->rq
	    : NULL;

	return client_new(t, base, req, branch, dst, tu, err);
}

static void
put(char *b, size_t *n, const char *p, size_t len)
{
	memcpy(b + *n, p, len);
	*n += len;
}

#define PUT_LIT(b, n, lit) put((b), (n), (lit), sizeof(lit) - 1)

/*
 * A hop-by-hop request built from the transaction's request: the ACK of a
 * non-2xx final response (17.1.1.3, with the response's To) or a CANCEL
 * (9.1, with the request's To).  Request-URI, Call-ID, From, the CSeq
 * number, the top Via and the Route set come from the request.
 */
static char *
hop_request(struct txn *x, const char *method, struct sv to, uint32_t *len)
{
	struct msg *req = txn_request(x);
	const struct msg_cseq *cs;

	if (req == NULL) {
		return NULL;
	}
	cs = msg_cseq(req);
	const struct msg_via *v = msg_via_top(req);
	struct sv ruri = msg_sv(req, msg_ruri_span(req));
	struct sv from = msg_hdr_value(req, HDR_FROM);
	struct sv cid = msg_callid(req);
	const struct msg_naddr *routes;
	int nr = msg_naddrs(req, HDR_ROUTE, &routes);
	struct sv via;
	size_t cap, n;
	char *b;

	if (cs == NULL || v == NULL) {
		return NULL;
	}
	via = msg_sv(req, v->value);
	cap = 256 + ruri.len + via.len + from.len + to.len + cid.len;
	for (int i = 0; i < nr; i++) {
		cap += routes[i].value.len + 2;
	}
	b = malloc(cap);
	if (b == NULL) {
		return NULL;
	}
	/* copied by length, not printed: a quoted-pair may escape a NUL
	 * (RFC 3261 25.1) */
	n = 0;
	put(b, &n, method, strlen(method));
	PUT_LIT(b, &n, " ");
	put(b, &n, ruri.p, ruri.len);
	PUT_LIT(b, &n, " SIP/2.0\r\nVia: ");
	put(b, &n, via.p, via.len);
	PUT_LIT(b, &n, "\r\nMax-Forwards: 70\r\nFrom: ");
	put(b, &n, from.p, from.len);
	PUT_LIT(b, &n, "\r\nTo: ");
	put(b, &n, to.p, to.len);
	PUT_LIT(b, &n, "\r\nCall-ID: ");
	put(b, &n, cid.p, cid.len);
	n += (size_t)snprintf(b + n, cap - n, "\r\nCSeq: %u %s\r\n", cs->num,
	    method);
	for (int i = 0; i < nr; i++) {
		struct sv r = msg_sv(req, routes[i].value);
		if (i > 0) {
			PUT_LIT(b, &n, ", ");
		} else {
			PUT_LIT(b, &n, "Route: ");
		}
		put(b, &n, r.p, r.len);
		if (i == nr - 1) {
			PUT_LIT(b, &n, "\r\n");
		}
	}
	PUT_LIT(b, &n, "Content-Length: 0\r\n\r\n");
	*len = (uint32_t)n;
	return b;
}

/* b[0..len) as a text of its own. */
static struct txn_text *
text_of(const char *b, uint32_t len)
{
	struct txn_text *x = malloc(sizeof(*x) + len);

	if (x != NULL) {
		memcpy(x->d, b, len);
		x->base = NULL;
		x->refs = 1;
		x->len = len;
	}
	return x;
}

/* Pass resp, which the state machine took, to the TU. */
static void
to_response(struct txn *x, struct msg *resp, int status)
{
	/* the highest provisional, then the final */
	if (status >= 200 || status > x->status) {
		x->status = (uint16_t)status;
	}
	if (x->tbl->ops.response != NULL) {
		x->tbl->ops.response(x->tbl->arg, x, resp);
	}
}

/* Timer C, counted from the time from. */
static void
arm_timer_c(struct txn *x, uint64_t from)
{
	uint64_t due = from + x->tbl->set.timer_c_ms;
	uint64_t now = x->tbl->now;

	txn_arm(x, &x->end, due > now ? (uint32_t)(due - now) : 0);
}

static void
invite_response(struct txn *x, struct msg *resp, int status)
{
	struct txn_table *t = x->tbl;
	struct tp_src d;
	uint32_t len;
	char *ack;
	int rc;

	switch (x->state) {
	case TXN_CALLING:
	case TXN_PROCEEDING:
		if (status < 200) {
			if (x->state == TXN_CALLING) {
				/* no more retransmissions; Timer B gives way
				 * to the proxy's Timer C, which runs from the
				 * request (16.6 step 11) */
				txn_set_state(x, TXN_PROCEEDING);
				wheel_cancel(&t->wheel, &x->retx);
				arm_timer_c(x, status == 100 ? x->created_ms
							     : t->now);
			} else if (status > 100 && !x->c_fired) {
				/* 16.7 step 2: any provisional but 100 resets
				 * Timer C; once it fired and the TU cancelled,
				 * nothing stretches the wait for the final */
				arm_timer_c(x, t->now);
			}
			to_response(x, resp, status);
		} else if (status < 300) {
			/* RFC 6026 7.2: Accepted passes 2xx retransmissions
			 * up until Timer M */
			txn_set_state(x, TXN_ACCEPTED);
			wheel_cancel(&t->wheel, &x->retx);
			txn_arm(x, &x->end, 64 * t->set.t1_ms);
			to_response(x, resp, status);
			txn_shed(x);
			txn_wait(x);
		} else {
			txn_set_state(x, TXN_COMPLETED);
			wheel_cancel(&t->wheel, &x->retx);
			ack = hop_request(x, "ACK", msg_hdr_value(resp, HDR_TO),
			    &len);
			x->rs = ack != NULL ? text_of(ack, len) : NULL;
			free(ack);
			txn_arm(x, &x->end, x->reliable ? 0 : 32000);
			rc = x->rs != NULL
			    ? txn_send_text(x, txn_peer(x, &d), x->rs)
			    : 0;
			if (rc != 0) {
				client_failed(x, rc);
				return;
			}
			to_response(x, resp, status);
			txn_shed(x);
			txn_wait(x);
		}
		break;
	case TXN_COMPLETED:
		/* a retransmitted final response: ACK it again (17.1.1.2);
		 * a transport error here is one too (17.1.4) */
		if (status >= 300 && x->rs != NULL &&
		    (rc = txn_send_text(x, txn_peer(x, &d), x->rs)) != 0) {
			client_failed(x, rc);
		}
		break;
	case TXN_ACCEPTED:
		if (status >= 200 && status < 300) {
			to_response(x, resp, status);
		}
		break;
	default:
		break;
	}
}

static void
noninvite_response(struct txn *x, struct msg *resp, int status)
{
	struct txn_table *t = x->tbl;

	if (x->state != TXN_TRYING && x->state != TXN_PROCEEDING) {
		return; /* Completed absorbs retransmissions */
	}
	if (status < 200) {
		txn_set_state(x, TXN_PROCEEDING);
	} else {
		/* 17.1.2.2: Timer K absorbs response retransmissions */
		txn_set_state(x, TXN_COMPLETED);
		wheel_cancel(&t->wheel, &x->retx);
		txn_arm(x, &x->end, x->reliable ? 0 : t->set.t4_ms);
	}
	to_response(x, resp, status);
	if (status >= 200) {
		txn_shed(x);
		txn_wait(x);
	}
}

bool
txn_client_absorb(struct txn_table *t, struct msg *resp,
    const struct tp_src *src)
{
	char key[TXN_KEY_MAX];
	const struct msg_via *v = msg_via_top(resp);
	const struct msg_cseq *cs = msg_cseq(resp);
	struct txn *x;
	size_t n;
	int status = msg_status(resp);

	(void)src;
	if (v == NULL || cs == NULL) {
		return false;
	}
	n = txn_client_key(msg_sv(resp, v->branch), (enum msg_method)cs->method,
	    key);
	if (n == 0 || (x = txn_lookup(t, key, n)) == NULL) {
		return false;
	}
	txn_enter(t);
	if (x->method == MSG_INVITE) {
		invite_response(x, resp, status);
	} else {
		noninvite_response(x, resp, status);
	}
	txn_leave(t);
	return true;
}

void
txn_client_fire(struct txn *x, enum txn_timer_id which)
{
	struct txn_table *t = x->tbl;
	struct tp_src d;
	int rc;

	if (which == TM_RETX) {
		if (x->state != TXN_CALLING && x->state != TXN_TRYING &&
		    x->state != TXN_PROCEEDING) {
			return;
		}
		/* Timer A doubles without bound (17.1.1.2); Timer E doubles
		 * up to T2, and is T2 once a provisional came (17.1.2.2) */
		if (x->method == MSG_INVITE) {
			x->retx_ms *= 2;
		} else if (x->state == TXN_PROCEEDING) {
			x->retx_ms = t->set.t2_ms;
		} else {
			x->retx_ms = x->retx_ms * 2 < t->set.t2_ms
			    ? x->retx_ms * 2
			    : t->set.t2_ms;
		}
		x->retx_count++;
		t->stats.retransmissions++;
		txn_arm(x, &x->retx, x->retx_ms);
		rc = txn_send_text(x, txn_peer(x, &d), x->rq);
		if (rc != 0) {
			client_failed(x, rc);
		}
		return;
	}
	switch (x->state) {
	case TXN_CALLING:
	case TXN_TRYING:
	case TXN_PROCEEDING:
		/* Timer B, F, or the proxy's Timer C */
		if (x->c_fired) {
			break; /* no final response after the CANCEL */
		}
		t->stats.timeouts++;
		if (t->ops.timeout != NULL) {
			t->ops.timeout(t->arg, x);
		}
		if (x->state == TXN_PROCEEDING && x->method == MSG_INVITE &&
		    !x->c_fired) {
			/* Timer C: the TU cancels; wait for the 487 as long
			 * as a fresh transaction would (16.8) */
			x->c_fired = true;
			txn_arm(x, &x->end, 64 * t->set.t1_ms);
			return;
		}
		break;
	default:
		/* Timer D, K or M */
		break;
	}
	txn_terminate(x);
}

struct msg *
txn_client_cancel_new(struct txn *x)
{
	struct msg *c;
	uint32_t len;
	char *b;

	if (x->kind != TXN_CLIENT || x->method != MSG_INVITE) {
		return NULL;
	}
	/* inside the table, so the request parsed for it goes at the end */
	txn_enter(x->tbl);
	b = txn_request(x) != NULL
	    ? hop_request(x, "CANCEL", msg_hdr_value(x->req, HDR_TO), &len)
	    : NULL;
	txn_leave(x->tbl);
	if (b == NULL) {
		return NULL;
	}
	c = msg_parse(b, len, NULL, NULL);
	free(b);
	return c;
}
