/*
 * Server transactions (RFC 3261 17.2, RFC 6026 7.1): absorbing request
 * retransmissions, sending and retransmitting responses, the ACK of a
 * non-2xx final response, and Timers G, H, I, J and L.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

static uint16_t
tp_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		return ntohs(((const struct sockaddr_in *)(const void *)ss)
				 ->sin_port);
	}
	if (ss->ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
				 ->sin6_port);
	}
	return 0;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	} else if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
	}
}

void
txn_response_dst(struct msg *req, const struct tp_src *src,
    struct tp_src *out)
{
	const struct msg_via *v = msg_via_top(req);

	*out = *src;
	if (src->proto == TP_UDP && v != NULL && !v->rport) {
		/* the source address (received), and the sent-by port */
		set_port(&out->addr, v->port ? v->port : 5060);
	}
}

/* Where a response of x goes (txn_response_dst(), kept as a port: the
 * one it puts in the source address, 0 when that is the source's). */
static void
response_dst(struct txn *x, struct msg *req, const struct tp_src *src)
{
	const struct msg_via *v = msg_via_top(req);
	uint16_t sport = tp_port_of(&src->addr), dport = sport;

	if (src->proto == TP_UDP && v != NULL && !v->rport &&
	    (src->addr.ss_family == AF_INET ||
		src->addr.ss_family == AF_INET6)) {
		dport = v->port ? v->port : 5060;
	}
	x->resp_port = dport == sport ? 0 : dport;
}

static void
resp_dst(const struct txn *x, struct tp_src *d)
{
	txn_peer(x, d);
	if (x->resp_port != 0) {
		set_port(&d->addr, x->resp_port);
	}
}

/* Send a response; a transport error ends the transaction (17.2.4). */
static int
send_or_fail(struct txn *x, const char *buf, size_t len)
{
	struct tp_src d;
	int rc;

	resp_dst(x, &d);
	rc = txn_send(x, &d, buf, len);

	if (rc != 0) {
		if (x->tbl->ops.error != NULL) {
			x->tbl->ops.error(x->tbl->arg, x, rc);
		}
		txn_terminate(x);
	}
	return rc;
}

/* Send the last response again (17.2.1, 17.2.2). */
static void
resend(struct txn *x)
{
	char *tmp;
	const char *b = txn_text_bytes(x->rs, &tmp);

	if (b != NULL) {
		send_or_fail(x, b, x->rs->len);
		free(tmp);
	}
}

bool
txn_server_absorb(struct txn_table *t, struct msg *req,
    const struct tp_src *src)
{
	char key[TXN_KEY_MAX];
	size_t n = txn_server_key(req, msg_method(req), key);
	struct txn *x;
	bool absorbed = false;

	if (n == 0 || (x = txn_lookup(t, key, n)) == NULL ||
	    !txn_server_to_tag_ok(x, req)) {
		return false;
	}
	txn_enter(t);
	if (msg_method(req) == MSG_ACK) {
		if (x->method != MSG_INVITE) {
			goto out;
		}
		if (x->state == TXN_COMPLETED) {
			/* 17.2.1: ACK of our non-2xx final response */
			txn_set_state(x, TXN_CONFIRMED);
			wheel_cancel(&t->wheel, &x->retx);
			txn_arm(x, &x->end, x->reliable ? 0 : t->set.t4_ms);
			txn_wait(x);
			absorbed = true;
		} else if (x->state == TXN_CONFIRMED) {
			absorbed = true;
		}
		/* in Accepted the ACK is for a 2xx: the TU relays it */
		goto out;
	}
	absorbed = true;
	t->stats.absorbed++;
	switch (x->state) {
	case TXN_PROCEEDING:
	case TXN_COMPLETED:
		/* 17.2.1, 17.2.2: resend the last response */
		if (x->rs != NULL) {
			t->stats.retransmissions++;
			x->retx_count++;
			resend(x);
		}
		break;
	default:
		/* Trying, Confirmed, Accepted: nothing to send */
		break;
	}
	(void)src;
out:
	txn_leave(t);
	return absorbed;
}

struct txn *
txn_server_new(struct txn_table *t, struct msg *req, const struct tp_src *src,
    void *tu)
{
	char key[TXN_KEY_MAX];
	enum msg_method m = msg_method(req);
	size_t n;
	struct txn *x;

	if (m == MSG_ACK) {
		errno = EINVAL;
		return NULL;
	}
	n = txn_server_key(req, m, key);
	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	x = txn_alloc(t, TXN_SERVER, key, n, txn_hash(t, key, n), req);
	if (x == NULL) {
		return NULL;
	}
	if (txn_addr_set(&x->peer, src) != 0) {
		txn_enter(t);
		txn_discard(x);
		txn_leave(t);
		errno = EAFNOSUPPORT;
		return NULL;
	}
	x->method = (uint8_t)m;
	txn_set_state(x, m == MSG_INVITE ? TXN_PROCEEDING : TXN_TRYING);
	x->reliable = src->proto != TP_UDP;
	x->tu = tu;
	response_dst(x, req, src);
	if (txn_key_2543(x)) {
		/* its matching reads the request: kept parsed */
		x->req = msg_compact(req);
	} else {
		/* kept as the bytes received (edits applied), parsed again on
		 * demand (txn_request()) when a response is built from it: a
		 * ringing call's least memory.  Written from the caller's
		 * message: no copy of it is made first */
		x->rq = txn_text_new(req);
	}
	if (x->req == NULL && x->rq == NULL) {
		txn_enter(t);
		txn_discard(x);
		txn_leave(t);
		errno = ENOMEM;
		return NULL;
	}
	return x;
}

/* The time from x's request to its final response, in its bucket. */
static void
final_count(struct txn_table *t, const struct txn *x)
{
	static const uint32_t bounds[] = TXN_FINAL_BOUNDS_MS;
	uint64_t ms = t->now > x->created_ms ? t->now - x->created_ms : 0;
	size_t i = 0;

	_Static_assert(sizeof(bounds) / sizeof(bounds[0]) + 1 ==
	    TXN_FINAL_BUCKETS, "a bucket per bound and +Inf");
	while (i < sizeof(bounds) / sizeof(bounds[0]) && ms > bounds[i]) {
		i++;
	}
	t->stats.final_ms[i]++;
	t->stats.final_sum_ms += ms;
}

/* The response of status, resp or the bytes p (len), as a new text. */
static struct txn_text *
response_text(struct msg *resp, const char *p, size_t len)
{
	return resp != NULL ? txn_text_new(resp) : txn_text_copy(p, len);
}

/*
 * The text a provisional response of INVITE transaction x keeps: a
 * script over the request when it is smaller; *bytes and *tmp as
 * txn_text_over() sets them.
 */
static struct txn_text *
provisional_text(struct txn *x, struct msg *resp, const char *p, size_t len,
    char *buf, size_t cap, const char **bytes, char **tmp)
{
	struct txn_text *b;

	*tmp = NULL;
	if (resp != NULL) {
		return txn_text_over(x->rq, resp, buf, cap, bytes, tmp);
	}
	b = x->rq != NULL && len <= UINT32_MAX
	    ? txn_text_delta(x->rq, p, (uint32_t)len)
	    : NULL;
	if (b == NULL) {
		b = txn_text_copy(p, len);
	}
	*bytes = b != NULL ? p : NULL;
	return b;
}

static int
respond(struct txn *x, int status, struct msg *resp, const char *p,
    size_t len)
{
	struct txn_table *t = x->tbl;
	char buf[TXN_TEXT_BUF];
	struct txn_text *b;
	const char *bytes;
	char *tmp = NULL;
	int rc = 0, w;

	if (x->dead || status < 100 || status > 699) {
		return -EINVAL;
	}
	if (x->state == TXN_ACCEPTED && status >= 200 && status < 300) {
		/* RFC 6026 7.1: a retransmitted 2xx from the TU goes out */
		b = response_text(resp, p, len);
		if (b == NULL) {
			return -ENOMEM;
		}
		txn_enter(t);
		rc = send_or_fail(x, b->d, b->len);
		txn_leave(t);
		txn_text_unref(b);
		return rc;
	}
	if (x->state != TXN_TRYING && x->state != TXN_PROCEEDING) {
		return -EINVAL;
	}
	if (x->method == MSG_INVITE && status > 100 && status < 200) {
		/* a ringing INVITE's provisional response is resent while
		 * the request is kept: as a script over it, it costs its own
		 * lines alone (its Via, From, Call-ID and CSeq are the
		 * request's).  A 100 gives way soon, as does a non-INVITE's
		 * provisional: not worth the work */
		b = provisional_text(x, resp, p, len, buf, sizeof(buf), &bytes,
		    &tmp);
	} else if (resp != NULL && x->method == MSG_INVITE && status >= 200 &&
	    status < 300 && (w = msg_write(resp, buf, sizeof(buf))) >= 0) {
		/* a 2xx ends the INVITE's resends (RFC 6026 7.1): sent from
		 * here, never kept */
		b = NULL;
		bytes = buf;
		len = (size_t)w;
	} else {
		b = response_text(resp, p, len);
		bytes = b != NULL ? b->d : NULL;
	}
	if (bytes == NULL) {
		return -ENOMEM;
	}
	if (b != NULL) {
		len = b->len;
	}
	txn_text_unref(x->rs);
	x->rs = b;
	/* the highest provisional, then the final; x->rs keeps the most
	 * recent, which is what a retransmission gets (17.2.1) */
	if (status >= 200 || status > x->status) {
		x->status = (uint16_t)status;
	}

	if (status >= 200) {
		final_count(t, x);
	}
	txn_enter(t);
	if (status < 200) {
		txn_set_state(x, TXN_PROCEEDING);
	} else if (x->method == MSG_INVITE && status < 300) {
		/* RFC 6026 7.1: Accepted absorbs INVITE retransmissions and
		 * lets the TU send 2xx retransmissions for Timer L */
		txn_set_state(x, TXN_ACCEPTED);
		txn_arm(x, &x->end, 64 * t->set.t1_ms);
	} else if (x->method == MSG_INVITE) {
		/* 17.2.1: Timer G retransmits, Timer H waits for the ACK */
		txn_set_state(x, TXN_COMPLETED);
		if (!x->reliable) {
			x->retx_ms = t->set.t1_ms;
			txn_arm(x, &x->retx, x->retx_ms);
		}
		txn_arm(x, &x->end, 64 * t->set.t1_ms);
	} else {
		/* 17.2.2: Timer J absorbs request retransmissions */
		txn_set_state(x, TXN_COMPLETED);
		txn_arm(x, &x->end, x->reliable ? 0 : 64 * t->set.t1_ms);
	}
	rc = send_or_fail(x, bytes, len);
	free(tmp);
	if (status >= 200) {
		txn_shed(x);
		/* an INVITE's non-2xx still retransmits until the ACK */
		if (x->method != MSG_INVITE || status < 300) {
			txn_wait(x);
		}
	}
	txn_leave(t);
	return rc;
}

int
txn_server_respond(struct txn *x, struct msg *resp)
{
	return respond(x, msg_status(resp), resp, NULL, 0);
}

int
txn_server_respond_bytes(struct txn *x, int status, const char *p, size_t len)
{
	return respond(x, status, NULL, p, len);
}

static bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* A line named Via ("v" compact, RFC 3261 7.3.3): where its value
 * starts, or NULL. */
static const char *
via_name(const char *p, const char *e)
{
	if (p == e || (*p | 0x20) != 'v') {
		return NULL;
	}
	p++;
	if (e - p >= 2 && (p[0] | 0x20) == 'i' && (p[1] | 0x20) == 'a') {
		p += 2;
	}
	while (p < e && is_ws(*p)) {
		p++;
	}
	return p < e && *p == ':' ? p + 1 : NULL;
}

struct sv
txn_server_via(const struct txn *x)
{
	struct sv none = { NULL, 0 };
	const char *p, *e, *nl;

	if (x->kind != TXN_SERVER || x->rq == NULL || x->rq->base != NULL) {
		return none;
	}
	p = x->rq->d;
	e = p + x->rq->len;
	/* the request line, then the header lines up to the empty one */
	nl = memchr(p, '\n', (size_t)(e - p));
	while (nl != NULL) {
		const char *s, *t;

		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL) {
			break;
		}
		t = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (t == p) {
			break; /* the end of the headers: no Via */
		}
		s = via_name(p, t);
		if (s == NULL) {
			continue;
		}
		while (s < t && is_ws(*s)) {
			s++;
		}
		while (t > s && is_ws(t[-1])) {
			t--;
		}
		if (t == s || (nl + 1 < e && is_ws(nl[1]))) {
			break; /* folded: its value goes on */
		}
		return (struct sv){ s, (size_t)(t - s) };
	}
	return none;
}

void
txn_server_fire(struct txn *x, enum txn_timer_id which)
{
	struct txn_table *t = x->tbl;

	if (which == TM_RETX) {
		/* Timer G: resend the final response, doubling up to T2 */
		if (x->state != TXN_COMPLETED || x->rs == NULL) {
			return;
		}
		x->retx_count++;
		t->stats.retransmissions++;
		x->retx_ms = x->retx_ms * 2 < t->set.t2_ms ? x->retx_ms * 2
							   : t->set.t2_ms;
		txn_arm(x, &x->retx, x->retx_ms);
		resend(x);
		return;
	}
	if (x->state == TXN_COMPLETED && x->method == MSG_INVITE) {
		/* Timer H: the ACK never came */
		t->stats.timeouts++;
		if (t->ops.timeout != NULL) {
			t->ops.timeout(t->arg, x);
		}
	}
	/* Timer H, I, J or L */
	txn_terminate(x);
}

struct txn *
txn_server_find_invite(struct txn_table *t, struct msg *cancel,
    const struct tp_src *src)
{
	char key[TXN_KEY_MAX];
	size_t n = txn_server_key(cancel, MSG_INVITE, key);

	(void)src;
	if (n == 0) {
		return NULL;
	}
	struct txn *x = txn_lookup(t, key, n);
	if (x == NULL || x->method != MSG_INVITE ||
	    !txn_server_to_tag_ok(x, cancel)) {
		return NULL;
	}
	return x;
}
