/*
 * Unit tests for sipd/txn: every state machine of RFC 3261 section 17 and
 * RFC 6026 driven with a clock of the test's own, one millisecond at a
 * time, so each retransmission and each timer is checked at its exact
 * time.  Also matching (17.1.3, 17.2.3 and the RFC 2543 fallback), the
 * ACK and CANCEL the client side builds (17.1.1.3, 9.1), transport errors
 * (17.1.4, 17.2.4), limits, branches and the live view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn.h"
#include "sipd/txn/txn_int.h"
#include "tests/unit/sv_assert.h"

/*
 * tp.h has only TP_UDP so far.  txn treats every other protocol as
 * reliable (no retransmissions, Timers D, I, J and K zero), so this
 * stands for TCP until the transport adds TP_TCP and TP_TLS.
 */
#define TP_RELIABLE ((enum tp_proto)1)

#define RURI "sip:bob@biloxi.example.com"
#define TO_V "Bob <sip:bob@biloxi.example.com>"
#define FROM_V "Alice <sip:alice@atlanta.example.com>;tag=1928301774"
#define CALLID "a84b4c76e66710@pc33.atlanta.example.com"
#define UAC_BRANCH "z9hG4bK776asdhds"
#define UAC_VIA "SIP/2.0/UDP pc33.atlanta.example.com:5070"
#define RESP_TAG "8321234356"
#define NEXT_HOP_URI "sip:bob@192.0.2.4"
#define OUR_VIA "SIP/2.0/UDP proxy.example.com"

#define MAX_SENT 1024
#define MAX_EV 256

/* ------------------------------------------------------------ the rig */

struct sent {
	uint64_t at;
	struct tp_src dst;
	char *buf;
	size_t len;
	int rc;
};

enum ev_kind {
	EV_RESPONSE = 1,
	EV_TIMEOUT,
	EV_ERROR,
	EV_TERMINATED,
};

struct ev {
	enum ev_kind kind;
	uint64_t at;
	uint64_t id;
	enum txn_kind tkind;
	enum txn_state state; /* of the transaction during the callback */
	int status;           /* the response's, or txn_status() */
	int err;
	void *tu;
	bool has_req;
};

struct env {
	struct txn_table *tbl;
	struct txn_settings set;
	struct sent sent[MAX_SENT];
	size_t nsent;
	struct ev ev[MAX_EV];
	size_t nev;
	size_t fail_from; /* sends from this index on fail with -EIO */
	/* TU behaviour: on Timer C, CANCEL the INVITE (RFC 3261 16.8) */
	bool cancel_on_timeout;
	struct txn *cancel_ct;
	bool count_only; /* only count events (more than MAX_EV) */
	size_t ncounted;
	struct ev scratch;
	/* the send callback looks at the live view of the clients */
	bool view_in_send;
	size_t view_n;
	char view_method[16];
	enum txn_state view_state;
	/* each transaction's request as created: a transaction drops its
	 * own once the final response is through (txn_shed()) */
	struct kept { const struct txn *t; struct msg *m; } *kept;
	size_t nkept, capkept;
	bool freeing; /* in txn_table_free(): no live view to check */
};

static void keep_req(struct env *e, const struct txn *t, struct msg *req);

static int
view_last(void *arg, const struct txn_info *info)
{
	struct env *e = arg;

	e->view_n++;
	memcpy(e->view_method, info->method, sizeof(e->view_method));
	e->view_state = info->state;
	return 0;
}

static int
walk_pending(void *arg, const struct txn_info *info)
{
	uint32_t *n = arg;

	*n += info->state == TXN_CALLING || info->state == TXN_TRYING ||
	    info->state == TXN_PROCEEDING;
	return 0;
}

/* The table's count of transactions without a final response is what a
 * walk of the live view finds, for each kind. */
static void
check_pending(struct txn_table *t)
{
	for (int k = TXN_SERVER; k <= TXN_CLIENT; k++) {
		uint32_t n = 0;

		txn_foreach(t, (enum txn_kind)k, walk_pending, &n);
		assert_int_equal(txn_table_pending(t, (enum txn_kind)k), n);
	}
}

static int
rig_send(void *arg, const struct tp_src *dst, const char *buf, size_t len)
{
	struct env *e = arg;
	struct sent *s;

	assert_true(e->nsent < MAX_SENT);
	s = &e->sent[e->nsent];
	s->at = txn_table_now(e->tbl);
	s->dst = *dst;
	s->buf = malloc(len + 1);
	assert_non_null(s->buf);
	memcpy(s->buf, buf, len);
	s->buf[len] = '\0';
	s->len = len;
	s->rc = e->nsent >= e->fail_from ? -EIO : 0;
	e->nsent++;
	check_pending(e->tbl);
	if (e->view_in_send) {
		e->view_n = 0;
		txn_foreach(e->tbl, TXN_CLIENT, view_last, e);
	}
	return s->rc;
}

static struct ev *
rig_ev(struct env *e, enum ev_kind kind, struct txn *t)
{
	struct ev *v;

	if (e->count_only) {
		e->ncounted++;
		v = &e->scratch;
	} else {
		assert_true(e->nev < MAX_EV);
		v = &e->ev[e->nev++];
	}
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->at = txn_table_now(e->tbl);
	v->id = txn_id(t);
	v->tkind = txn_kind(t);
	v->state = txn_state(t);
	v->status = txn_status(t);
	v->tu = txn_tu(t);
	v->has_req = txn_request(t) != NULL;
	if (!e->freeing) {
		check_pending(e->tbl);
	}
	return v;
}

static void
rig_response(void *arg, struct txn *ct, struct msg *resp)
{
	rig_ev(arg, EV_RESPONSE, ct)->status = msg_status(resp);
}

static void
rig_timeout(void *arg, struct txn *t)
{
	struct env *e = arg;
	struct msg *cancel;
	int err = 0;

	rig_ev(e, EV_TIMEOUT, t);
	if (!e->cancel_on_timeout || txn_kind(t) != TXN_CLIENT ||
	    txn_state(t) != TXN_PROCEEDING) {
		return;
	}
	/* a TU calling back into the table from inside a timer */
	cancel = txn_client_cancel_new(t);
	assert_non_null(cancel);
	e->cancel_ct = txn_client_new(e->tbl, cancel,
	    txn_peer(t, &(struct tp_src){ 0 }), e, &err);
	if (e->cancel_ct != NULL) {
		keep_req(e, e->cancel_ct, txn_request(e->cancel_ct));
	}
	assert_non_null(e->cancel_ct);
	assert_int_equal(err, 0);
}

static void
rig_error(void *arg, struct txn *t, int err)
{
	rig_ev(arg, EV_ERROR, t)->err = err;
}

static void
rig_terminated(void *arg, struct txn *t)
{
	struct env *e = arg;

	rig_ev(e, EV_TERMINATED, t);
	if (e->cancel_ct == t) {
		e->cancel_ct = NULL;
	}
}

static const struct txn_ops rig_ops = {
    .send = rig_send,
    .response = rig_response,
    .timeout = rig_timeout,
    .error = rig_error,
    .terminated = rig_terminated,
};

static struct env *srv_env; /* the current test's, for srv_respond() */

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		return -1;
	}
	srv_env = e;
	txn_settings_init(&e->set);
	e->fail_from = SIZE_MAX;
	e->tbl = txn_table_new(&e->set, &rig_ops, e, 3);
	if (e->tbl == NULL) {
		free(e);
		return -1;
	}
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	check_pending(e->tbl);
	e->freeing = true;
	txn_table_free(e->tbl);
	for (size_t i = 0; i < e->nsent; i++) {
		free(e->sent[i].buf);
	}
	for (size_t i = 0; i < e->nkept; i++) {
		msg_free(e->kept[i].m);
	}
	free(e->kept);
	free(e);
	return 0;
}

/* Apply e->set (before the transactions that should see it). */
static void
configure(struct env *e)
{
	txn_table_configure(e->tbl, &e->set);
}

/* Advance the clock one millisecond at a time up to until. */
static void
run_to(struct env *e, uint64_t until)
{
	for (uint64_t t = txn_table_now(e->tbl) + 1; t <= until; t++) {
		txn_table_advance(e->tbl, t);
		check_pending(e->tbl);
	}
	assert_int_equal(txn_table_now(e->tbl), until);
}

static size_t
count_ev(const struct env *e, enum ev_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nev; i++) {
		n += e->ev[i].kind == kind;
	}
	return n;
}

/* The nth (from 0) event of this kind; fails the test when absent. */
static const struct ev *
nth_ev(const struct env *e, enum ev_kind kind, size_t nth)
{
	for (size_t i = 0; i < e->nev; i++) {
		if (e->ev[i].kind == kind && nth-- == 0) {
			return &e->ev[i];
		}
	}
	fail_msg("no event %d", kind);
	return NULL;
}

static void
check_times(const struct env *e, size_t first, const uint64_t *want, size_t n,
            const char *file, int line)
{
	if (e->nsent - first != n) {
		print_error("sent %zu, want %zu; times:", e->nsent - first, n);
		for (size_t i = first; i < e->nsent; i++) {
			print_error(" %llu", (unsigned long long)e->sent[i].at);
		}
		print_error("\n");
		_fail(file, line);
	}
	for (size_t i = 0; i < n; i++) {
		_assert_int_equal(e->sent[first + i].at, want[i], file, line);
	}
}

/* The sends from index first on happened exactly at these times. */
#define assert_sent_at(e, first, ...)                                          \
	do {                                                                   \
		const uint64_t want_[] = {__VA_ARGS__};                        \
		check_times((e), (first), want_,                               \
		            sizeof(want_) / sizeof(want_[0]), __FILE__,        \
		            __LINE__);                                         \
	} while (0)

/* ------------------------------------------------------------ messages */

static struct msg *
parse_ok(const char *s, size_t len)
{
	struct msg_err err;
	struct msg *m;

	memset(&err, 0, sizeof(err));
	m = msg_parse(s, len, NULL, &err);
	if (m == NULL) {
		fail_msg("msg_parse refused (%d %s): %.*s", err.status,
		         err.reason != NULL ? err.reason : "(null)", (int)len,
		         s);
	}
	return m;
}

static struct msg *fmt_msg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static struct msg *
fmt_msg(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return parse_ok(buf, (size_t)n);
}

/* A request as a UAC sends it; NULL fields take the defaults. */
struct rq {
	const char *method;
	const char *ruri;
	const char *via;    /* the top Via value */
	const char *to_tag; /* NULL: no tag */
	const char *from_tag;
	const char *callid;
	uint32_t cseq; /* 0: 314159 */
	const char *cseq_method;
};

static struct msg *
uac_req(const struct rq *r)
{
	char to_tag[128] = "";

	if (r->to_tag != NULL) {
		snprintf(to_tag, sizeof(to_tag), ";tag=%s", r->to_tag);
	}
	return fmt_msg("%s %s SIP/2.0\r\n"
	               "Via: %s\r\n"
	               "Max-Forwards: 70\r\n"
	               "To: " TO_V "%s\r\n"
	               "From: Alice <sip:alice@atlanta.example.com>;tag=%s\r\n"
	               "Call-ID: %s\r\n"
	               "CSeq: %u %s\r\n"
	               "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	               "Content-Length: 0\r\n\r\n",
	               r->method, r->ruri != NULL ? r->ruri : RURI,
	               r->via != NULL ? r->via : UAC_VIA ";branch=" UAC_BRANCH,
	               to_tag, r->from_tag != NULL ? r->from_tag : "1928301774",
	               r->callid != NULL ? r->callid : CALLID,
	               r->cseq != 0 ? r->cseq : 314159,
	               r->cseq_method != NULL ? r->cseq_method : r->method);
}

#define REQ(...) uac_req(&(struct rq){__VA_ARGS__})

static struct tp_src
src4(const char *ip, uint16_t port, enum tp_proto proto)
{
	struct tp_src s;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&s.addr;

	memset(&s, 0, sizeof(s));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	s.addrlen = sizeof(*sin);
	s.proto = proto;
	return s;
}

static uint16_t
dst_port(const struct tp_src *s)
{
	return ntohs(
	    ((const struct sockaddr_in *)(const void *)&s->addr)->sin_port);
}

static const char *
dst_ip(const struct tp_src *s, char *buf)
{
	return inet_ntop(
	    AF_INET,
	    &((const struct sockaddr_in *)(const void *)&s->addr)->sin_addr,
	    buf, INET_ADDRSTRLEN);
}

/* The UAC at 192.0.2.10, sending from port 5070 (its sent-by port). */
static struct tp_src
uac_src(enum tp_proto proto)
{
	return src4("192.0.2.10", 5070, proto);
}

/* The next hop the client side sends to. */
static struct tp_src
next_hop(enum tp_proto proto)
{
	return src4("192.0.2.4", 5060, proto);
}

/* Parse sent message i (freed by the caller). */
static struct msg *
sent_msg(const struct env *e, size_t i)
{
	assert_true(i < e->nsent);
	return parse_ok(e->sent[i].buf, e->sent[i].len);
}

static int
sent_status(const struct env *e, size_t i)
{
	struct msg *m = sent_msg(e, i);
	int st = msg_status(m);

	msg_free(m);
	return st;
}

static void
assert_same_bytes(const struct env *e, size_t a, size_t b)
{
	assert_int_equal(e->sent[a].len, e->sent[b].len);
	assert_memory_equal(e->sent[a].buf, e->sent[b].buf, e->sent[a].len);
}

/* Remember t's request (a copy of req) for building its responses. */
static void
keep_req(struct env *e, const struct txn *t, struct msg *req)
{
	if (e->nkept == e->capkept) {
		e->capkept = e->capkept ? 2 * e->capkept : 16;
		e->kept = realloc(e->kept, e->capkept * sizeof(*e->kept));
		assert_non_null(e->kept);
	}
	e->kept[e->nkept].t = t;
	e->kept[e->nkept].m = msg_compact(req);
	assert_non_null(e->kept[e->nkept].m);
	e->nkept++;
}

/* t's request: its own while it keeps it, else the copy kept above. */
static struct msg *
req_of(struct env *e, struct txn *t)
{
	if (txn_request(t) != NULL) {
		return txn_request(t);
	}
	for (size_t i = e->nkept; i-- > 0;) {
		if (e->kept[i].t == t) {
			return e->kept[i].m;
		}
	}
	fail_msg("no request kept for the transaction");
	return NULL;
}

/* -------------------------------------------------------- server side */

/* txn_server_new(), the request freed after: the transaction borrows it
 * and keeps its bytes. */
static struct txn *
srv_take(struct txn_table *t, struct msg *req, const struct tp_src *src,
    void *tu)
{
	struct txn *x = txn_server_new(t, req, src, tu);

	msg_free(req);
	return x;
}

static struct txn *
srv_new(struct env *e, struct msg *req, enum tp_proto proto)
{
	struct tp_src src = uac_src(proto);
	struct txn *st = srv_take(e->tbl, req, &src, e);

	/* the transaction kept req's bytes, and reads them again for
	 * txn_request() */
	assert_non_null(st);
	assert_int_equal(txn_kind(st), TXN_SERVER);
	assert_non_null(txn_request(st));
	keep_req(e, st, txn_request(st));
	return st;
}

static int
srv_respond(struct txn *st, int status)
{
	struct msg *r =
	    msg_response(req_of(srv_env, st), status, NULL, SV_LIT(RESP_TAG));
	int rc;

	assert_non_null(r);
	rc = txn_server_respond(st, r);
	msg_free(r);
	return rc;
}

/* Offer req (freed here) to the server transactions. */
static bool
srv_absorb(struct env *e, struct msg *req)
{
	struct tp_src src = uac_src(TP_UDP);
	bool ok = txn_server_absorb(e->tbl, req, &src);

	msg_free(req);
	return ok;
}

/* The ACK of a non-2xx final response: same branch, our To tag. */
static struct msg *
ack_for_final(void)
{
	return REQ(.method = "ACK", .to_tag = RESP_TAG);
}

/* -------------------------------------------------------- client side */

/*
 * A request as the proxy forwards it: our Via with branch on top and the
 * UAC's after it, in one folded Via line; a Route set over two lines.
 */
static struct msg *
fwd_req_branch(const char *method, const char *branch)
{
	return fmt_msg(
	    "%s " NEXT_HOP_URI " SIP/2.0\r\n"
	    "Via: " OUR_VIA ";branch=%s,\r\n"
	    " " UAC_VIA ";branch=" UAC_BRANCH ";received=192.0.2.10\r\n"
	    "Max-Forwards: 69\r\n"
	    "Route: <sip:p1.example.com;lr>\r\n"
	    "Route: <sip:p2.example.com;lr>,<sip:p3.example.com;lr>\r\n"
	    "To: " TO_V "\r\n"
	    "From: " FROM_V "\r\n"
	    "Call-ID: " CALLID "\r\n"
	    "CSeq: 314159 %s\r\n"
	    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	    "Content-Length: 0\r\n\r\n",
	    method, branch, method);
}

/* The same with a fresh branch, copied to branch when not NULL. */
static struct msg *
fwd_req(struct env *e, const char *method, char *branch)
{
	char b[TXN_BRANCH_MAX];

	txn_branch_new(e->tbl, b);
	if (branch != NULL) {
		memcpy(branch, b, sizeof(b));
	}
	return fwd_req_branch(method, b);
}

static struct txn *
cli_new(struct env *e, const char *method, enum tp_proto proto)
{
	struct tp_src dst = next_hop(proto);
	struct msg *req = fwd_req(e, method, NULL);
	int err = 12345;
	struct txn *ct = txn_client_new(e->tbl, req, &dst, e, &err);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}

	assert_non_null(ct);
	assert_int_equal(err, 12345); /* untouched on success */
	assert_int_equal(txn_kind(ct), TXN_CLIENT);
	/* kept as bytes, parsed again on demand: the same request */
	assert_non_null(txn_request(ct));
	assert_int_equal(msg_method(txn_request(ct)), msg_method_lookup(
	    method, strlen(method)));
	keep_req(e, ct, txn_request(ct));
	return ct;
}

/* A response from the next hop to ct; returns txn_client_absorb(). */
static bool
cli_resp(struct env *e, struct txn *ct, int status)
{
	struct tp_src src = next_hop(TP_UDP);
	struct msg *r =
	    msg_response(req_of(e, ct), status, NULL, SV_LIT(RESP_TAG));
	bool ok;

	assert_non_null(r);
	ok = txn_client_absorb(e->tbl, r, &src);
	msg_free(r);
	return ok;
}

/* ================================================= INVITE server (17.2.1) */

static void
test_ist_retransmission_before_response(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *st;

	run_to(e, 10);
	st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);
	assert_string_equal(txn_state_str(txn_state(st)), "Proceeding");
	assert_int_equal(txn_status(st), 0);
	assert_int_equal(txn_table_timers(e->tbl), 0);

	/* absorbed, and nothing to resend yet */
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, 0);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.absorbed, 2);
	assert_int_equal(s.retransmissions, 0);
	assert_int_equal(s.server_created, 1);
	assert_int_equal(s.server_live, 1);

	/* Proceeding has no timer: nothing happens however long we wait */
	run_to(e, 200000);
	assert_int_equal(e->nsent, 0);
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);
}

static void
test_ist_retransmission_after_180(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	char ip[INET_ADDRSTRLEN];
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);

	run_to(e, 20);
	assert_int_equal(srv_respond(st, 100), 0);
	assert_int_equal(srv_respond(st, 180), 0);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);
	assert_int_equal(txn_status(st), 180);
	assert_int_equal(e->nsent, 2);
	assert_int_equal(sent_status(e, 0), 100);
	assert_int_equal(sent_status(e, 1), 180);
	/* RFC 3261 18.2.2: the source address, the sent-by port */
	assert_string_equal(dst_ip(&e->sent[1].dst, ip), "192.0.2.10");
	assert_int_equal(dst_port(&e->sent[1].dst), 5070);

	run_to(e, 300);
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, 3);
	assert_int_equal(e->sent[2].at, 300);
	assert_same_bytes(e, 1, 2); /* the last provisional, resent */
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.retransmissions, 1);
	assert_int_equal(s.absorbed, 1);
	/* no timer retransmits a provisional */
	run_to(e, 40000);
	assert_int_equal(e->nsent, 3);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);

	/* the most recent provisional is the one resent; the status shown
	 * stays the highest */
	assert_int_equal(srv_respond(st, 100), 0);
	assert_int_equal(txn_status(st), 180);
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, 5);
	assert_same_bytes(e, 0, 4);
}

static void
test_ist_2xx_accepted_timer_l(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);

	run_to(e, 10);
	assert_int_equal(srv_respond(st, 180), 0);
	assert_int_equal(srv_respond(st, 200), 0);
	assert_int_equal(txn_state(st), TXN_ACCEPTED);
	assert_string_equal(txn_state_str(TXN_ACCEPTED), "Accepted");
	assert_int_equal(txn_status(st), 200);
	assert_int_equal(e->nsent, 2);
	assert_int_equal(sent_status(e, 1), 200);

	/* RFC 6026 7.1: INVITE retransmissions are absorbed silently */
	run_to(e, 500);
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, 2);
	/* the ACK of a 2xx goes to the TU: never absorbed */
	assert_false(
	    srv_absorb(e, REQ(.method = "ACK", .to_tag = RESP_TAG,
	                      .via = UAC_VIA ";branch=z9hG4bKnewbranch")));
	assert_false(srv_absorb(e, ack_for_final()));
	assert_int_equal(txn_state(st), TXN_ACCEPTED);

	/* the TU retransmits its 2xx through the transaction */
	run_to(e, 1000);
	assert_int_equal(srv_respond(st, 200), 0);
	assert_int_equal(e->nsent, 3);
	assert_int_equal(e->sent[2].at, 1000);
	assert_same_bytes(e, 1, 2);
	/* but no other response */
	assert_int_equal(srv_respond(st, 486), -EINVAL);
	assert_int_equal(srv_respond(st, 180), -EINVAL);
	assert_int_equal(e->nsent, 3);

	/* Timer L = 64*T1 from the 2xx, no retransmissions meanwhile */
	run_to(e, 10 + 32000 - 1);
	assert_int_equal(e->nsent, 3);
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_ACCEPTED);
	run_to(e, 10 + 32000);
	assert_int_equal(e->nev, 1);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 32010);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->state, TXN_TERMINATED);
	/* the request went with the 2xx (txn_shed()): Accepted needs none */
	assert_false(nth_ev(e, EV_TERMINATED, 0)->has_req);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 0);
	assert_int_equal(txn_table_timers(e->tbl), 0);
	/* gone: a retransmission now is a new request */
	assert_false(srv_absorb(e, REQ(.method = "INVITE")));
}

static void
test_ist_completed_timer_g_h(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);

	run_to(e, 100);
	assert_int_equal(srv_respond(st, 486), 0);
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	assert_string_equal(txn_state_str(TXN_COMPLETED), "Completed");
	assert_int_equal(txn_status(st), 486);
	assert_int_equal(txn_table_timers(e->tbl), 2); /* G and H */

	/* Timer G: T1, 2T1, 4T1, then T2 (4 s) until Timer H at 64*T1 */
	run_to(e, 100 + 32000 - 1);
	assert_sent_at(e, 0, 100, 600, 1600, 3600, 7600, 11600, 15600, 19600,
	               23600, 27600, 31600);
	for (size_t i = 1; i < e->nsent; i++) {
		assert_same_bytes(e, 0, i);
		assert_int_equal(dst_port(&e->sent[i].dst), 5070);
	}
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_COMPLETED);

	/* Timer H: the ACK never came */
	run_to(e, 100 + 32000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[0].at, 32100);
	assert_int_equal(e->ev[0].state, TXN_COMPLETED);
	assert_int_equal(e->ev[0].status, 486);
	assert_ptr_equal(e->ev[0].tu, e);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 32100);
	assert_int_equal(e->nsent, 11);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.timeouts, 1);
	assert_int_equal(s.retransmissions, 10);
	assert_int_equal(s.server_live, 0);
	run_to(e, 40000);
	assert_int_equal(e->nsent, 11);
	assert_int_equal(txn_table_timers(e->tbl), 0);
}

static void
test_ist_timer_g_settings(void **state)
{
	struct env *e = *state;
	uint64_t want[64], at = 0, iv = 100;
	size_t n = 0;
	struct txn *st;

	/* T1 100 ms, T2 400 ms: G is 100, 200, 400, 400, ... until 6.4 s */
	e->set.t1_ms = 100;
	e->set.t2_ms = 400;
	configure(e);
	st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_int_equal(srv_respond(st, 603), 0);
	want[n++] = 0;
	for (;;) {
		at += iv;
		if (at >= 6400) {
			break;
		}
		want[n++] = at;
		iv = iv * 2 < 400 ? iv * 2 : 400;
	}
	assert_int_equal(n, 1 + 3 + 14); /* 0; 100 300 700; 1100 .. 6300 */
	run_to(e, 6399);
	check_times(e, 0, want, n, __FILE__, __LINE__);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 0);
	run_to(e, 6400);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 6400);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 6400);
}

static void
test_ist_ack_confirmed_timer_i(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);

	assert_int_equal(srv_respond(st, 302), 0);
	run_to(e, 2000);
	assert_sent_at(e, 0, 0, 500, 1500);

	/* a retransmitted INVITE gets the final response again */
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_sent_at(e, 0, 0, 500, 1500, 2000);
	assert_same_bytes(e, 0, 3);

	/* ACK: Confirmed, retransmissions stop, Timer I = T4 */
	assert_true(srv_absorb(e, ack_for_final()));
	assert_int_equal(txn_state(st), TXN_CONFIRMED);
	assert_string_equal(txn_state_str(TXN_CONFIRMED), "Confirmed");
	assert_int_equal(txn_table_timers(e->tbl), 1);
	/* further ACKs and INVITEs are absorbed without a sound */
	run_to(e, 3000);
	assert_true(srv_absorb(e, ack_for_final()));
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, 4);

	run_to(e, 2000 + 5000 - 1);
	assert_int_equal(e->nsent, 4);
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_CONFIRMED);
	run_to(e, 2000 + 5000);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_TERMINATED);
	assert_int_equal(e->ev[0].at, 7000);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.timeouts, 0);
	assert_int_equal(s.server_live, 0);
	run_to(e, 40000);
	assert_int_equal(e->nsent, 4);
	assert_int_equal(e->nev, 1);
}

static void
test_ist_reliable(void **state)
{
	struct env *e = *state;
	struct txn *a, *b;
	uint64_t id_b;

	a = srv_new(e, REQ(.method = "INVITE"), TP_RELIABLE);
	b = srv_new(
	    e, REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKbbb"),
	    TP_RELIABLE);
	id_b = txn_id(b);
	assert_int_equal(srv_respond(a, 486), 0);
	assert_int_equal(srv_respond(b, 500), 0);
	/* over a reliable transport: the connection it came on, no G */
	assert_int_equal(dst_port(&e->sent[0].dst), 5070);
	assert_int_equal(e->sent[0].dst.proto, TP_RELIABLE);
	assert_int_equal(txn_table_timers(e->tbl), 2); /* two Timer H */
	run_to(e, 1000);
	assert_int_equal(e->nsent, 2);

	/* ACK: Confirmed, and Timer I is zero */
	assert_true(srv_absorb(e, ack_for_final()));
	assert_int_equal(txn_state(a), TXN_CONFIRMED);
	run_to(e, 1001);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_TERMINATED);
	assert_int_equal(e->ev[0].at, 1001);

	/* b: no ACK, Timer H is still 64*T1 */
	run_to(e, 31999);
	assert_int_equal(e->nsent, 2);
	assert_int_equal(e->nev, 1);
	run_to(e, 32000);
	assert_int_equal(e->nev, 3);
	assert_int_equal(e->ev[1].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[1].id, id_b);
	assert_int_equal(e->ev[2].kind, EV_TERMINATED);
	assert_int_equal(e->ev[2].id, id_b);
}

static void
test_ist_response_destination(void **state)
{
	struct env *e = *state;
	struct tp_src from = src4("198.51.100.7", 40000, TP_UDP);
	char ip[INET_ADDRSTRLEN];
	struct txn *a, *b, *c;

	/* behind a NAT: the source address with the sent-by port */
	a = srv_take(e->tbl, REQ(.method = "INVITE"), &from, NULL);
	if (a != NULL) {
		keep_req(e, a, txn_request(a));
	}
	assert_non_null(a);
	/* RFC 3581: rport asks for the source port too */
	b = srv_take(e->tbl,
	                   REQ(.method = "INVITE",
	                       .via = UAC_VIA ";rport;branch=z9hG4bKrport"),
	                   &from, NULL);
	if (b != NULL) {
		keep_req(e, b, txn_request(b));
	}
	assert_non_null(b);
	/* no port in sent-by: 5060 */
	c = srv_take(
	    e->tbl,
	    REQ(.method = "INVITE",
	        .via = "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKc"),
	    &from, NULL);
	assert_non_null(c);
	assert_ptr_equal(txn_tu(a), NULL);
	assert_int_equal(txn_peer(a, &(struct tp_src){ 0 })->proto,
	    TP_UDP);
	assert_int_equal(dst_port(txn_peer(a, &(struct tp_src){ 0 })),
	    40000);

	assert_int_equal(srv_respond(a, 180), 0);
	assert_int_equal(srv_respond(b, 180), 0);
	assert_int_equal(srv_respond(c, 180), 0);
	assert_string_equal(dst_ip(&e->sent[0].dst, ip), "198.51.100.7");
	assert_int_equal(dst_port(&e->sent[0].dst), 5070);
	assert_string_equal(dst_ip(&e->sent[1].dst, ip), "198.51.100.7");
	assert_int_equal(dst_port(&e->sent[1].dst), 40000);
	assert_int_equal(dst_port(&e->sent[2].dst), 5060);
}

static void
test_ist_bad_respond(void **state)
{
	struct env *e = *state;
	struct tp_src src = uac_src(TP_UDP);
	struct msg *ack = ack_for_final();
	struct msg *novia = fmt_msg("OPTIONS " RURI " SIP/2.0\r\n"
	                            "To: " TO_V "\r\n"
	                            "From: " FROM_V "\r\n"
	                            "Call-ID: " CALLID "\r\n"
	                            "CSeq: 1 OPTIONS\r\n"
	                            "Content-Length: 0\r\n\r\n");
	struct txn *st;

	/* ACK never makes a server transaction; nor a request without Via */
	errno = 0;
	assert_null(txn_server_new(e->tbl, ack, &src, e));
	assert_int_equal(errno, EINVAL);
	assert_null(txn_server_new(e->tbl, novia, &src, e));
	assert_false(txn_server_absorb(e->tbl, novia, &src));
	msg_free(ack);
	msg_free(novia);

	st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_int_equal(srv_respond(st, 486), 0);
	/* no second final response */
	assert_int_equal(srv_respond(st, 200), -EINVAL);
	assert_int_equal(srv_respond(st, 180), -EINVAL);
	assert_int_equal(e->nsent, 1);
	assert_int_equal(txn_status(st), 486);
}

/* ============================================= non-INVITE server (17.2.2) */

static void
test_nist_trying_absorbs(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "REGISTER"), TP_UDP);

	assert_int_equal(txn_state(st), TXN_TRYING);
	assert_string_equal(txn_state_str(TXN_TRYING), "Trying");
	run_to(e, 500);
	assert_true(srv_absorb(e, REQ(.method = "REGISTER")));
	assert_true(srv_absorb(e, REQ(.method = "REGISTER")));
	assert_int_equal(e->nsent, 0);
	assert_int_equal(txn_state(st), TXN_TRYING);
	run_to(e, 100000);
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_TRYING);
}

static void
test_nist_proceeding_resends_1xx(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "OPTIONS"), TP_UDP);

	run_to(e, 50);
	assert_int_equal(srv_respond(st, 100), 0);
	assert_int_equal(txn_state(st), TXN_PROCEEDING);
	run_to(e, 550);
	assert_true(srv_absorb(e, REQ(.method = "OPTIONS")));
	assert_sent_at(e, 0, 50, 550);
	assert_same_bytes(e, 0, 1);
	assert_int_equal(sent_status(e, 1), 100);
	/* a provisional is not retransmitted by a timer */
	run_to(e, 10000);
	assert_int_equal(e->nsent, 2);
}

static void
test_nist_completed_timer_j(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "OPTIONS"), TP_UDP);

	run_to(e, 50);
	assert_int_equal(srv_respond(st, 100), 0);
	run_to(e, 60);
	assert_int_equal(srv_respond(st, 200), 0);
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	assert_int_equal(txn_status(st), 200);
	assert_int_equal(srv_respond(st, 200), -EINVAL);
	assert_int_equal(srv_respond(st, 180), -EINVAL);

	/* no timer retransmits; a request retransmission gets the final */
	run_to(e, 1000);
	assert_true(srv_absorb(e, REQ(.method = "OPTIONS")));
	assert_sent_at(e, 0, 50, 60, 1000);
	assert_same_bytes(e, 1, 2);
	assert_int_equal(sent_status(e, 2), 200);

	/* Timer J: 64*T1 */
	run_to(e, 60 + 32000 - 1);
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	run_to(e, 60 + 32000);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_TERMINATED);
	assert_int_equal(e->ev[0].at, 32060);
	assert_int_equal(e->nsent, 3);
	assert_false(srv_absorb(e, REQ(.method = "OPTIONS")));
}

static void
test_nist_reliable_timer_j_zero(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "BYE"), TP_RELIABLE);

	run_to(e, 100);
	assert_int_equal(srv_respond(st, 200), 0);
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	run_to(e, 101);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_TERMINATED);
	assert_int_equal(e->ev[0].at, 101);
	assert_int_equal(e->nsent, 1);
}

/* ================================================= INVITE client (17.1.1) */

static void
test_ict_timer_a_b(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);
	char ip[INET_ADDRSTRLEN];

	assert_int_equal(txn_state(ct), TXN_CALLING);
	assert_string_equal(txn_state_str(TXN_CALLING), "Calling");
	assert_int_equal(txn_table_timers(e->tbl), 2); /* A and B */
	assert_int_equal(e->nsent, 1);
	assert_string_equal(dst_ip(&e->sent[0].dst, ip), "192.0.2.4");
	assert_int_equal(dst_port(&e->sent[0].dst), 5060);

	/* Timer A doubles: T1, 2T1, 4T1, ... until Timer B = 64*T1 */
	run_to(e, 31999);
	assert_sent_at(e, 0, 0, 500, 1500, 3500, 7500, 15500, 31500);
	for (size_t i = 1; i < e->nsent; i++) {
		assert_same_bytes(e, 0, i);
	}
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(ct), TXN_CALLING);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.retransmissions, 6);

	run_to(e, 32000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[0].at, 32000);
	assert_int_equal(e->ev[0].state, TXN_CALLING);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 32000);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.timeouts, 1);
	assert_int_equal(s.client_live, 0);
	assert_int_equal(txn_table_timers(e->tbl), 0);
	run_to(e, 70000);
	assert_int_equal(e->nsent, 7);
}

static void
test_ict_timer_b_setting(void **state)
{
	struct env *e = *state;

	/* Timer A keeps doubling past T2: it has no cap (17.1.1.2) */
	e->set.timer_b_ms = 200000;
	configure(e);
	(void)cli_new(e, "INVITE", TP_UDP);
	run_to(e, 199999);
	assert_sent_at(e, 0, 0, 500, 1500, 3500, 7500, 15500, 31500, 63500,
	               127500);
	assert_int_equal(e->nev, 0);
	run_to(e, 200000);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 200000);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 200000);

	/* and a short Timer B */
	e->set.timer_b_ms = 5000;
	configure(e);
	(void)cli_new(e, "INVITE", TP_UDP);
	run_to(e, 200000 + 4999);
	assert_sent_at(e, 9, 200000, 200500, 201500, 203500);
	assert_int_equal(e->nev, 2);
	run_to(e, 205000);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 1)->at, 205000);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 1)->at, 205000);
}

static void
test_ict_proceeding_timer_c(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);
	uint64_t id = txn_id(ct);

	run_to(e, 1000);
	assert_true(cli_resp(e, ct, 180));
	assert_int_equal(txn_state(ct), TXN_PROCEEDING);
	assert_int_equal(txn_status(ct), 180);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_RESPONSE);
	assert_int_equal(e->ev[0].status, 180);
	assert_int_equal(e->ev[0].state, TXN_PROCEEDING);
	assert_int_equal(e->ev[0].id, id);
	/* retransmissions stop; Timer B is gone, Timer C runs */
	assert_int_equal(txn_table_timers(e->tbl), 1);

	/* Timer C: 3 minutes after the 180 (16.7 step 2) */
	run_to(e, 181000 - 1);
	assert_sent_at(e, 0, 0, 500);
	assert_int_equal(e->nev, 1);
	run_to(e, 181000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[1].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[1].at, 181000);
	assert_int_equal(e->ev[1].state, TXN_PROCEEDING);
	assert_int_equal(txn_state(ct), TXN_PROCEEDING);

	/* no final response: given up 64*T1 later, without a second
	 * timeout */
	run_to(e, 181000 + 32000 - 1);
	assert_int_equal(e->nev, 2);
	run_to(e, 181000 + 32000);
	assert_int_equal(e->nev, 3);
	assert_int_equal(e->ev[2].kind, EV_TERMINATED);
	assert_int_equal(e->ev[2].at, 213000);
	assert_int_equal(e->nsent, 2);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.timeouts, 1);
}

static void
test_ict_timer_c_100_does_not_reset(void **state)
{
	struct env *e = *state;
	struct txn *a, *b;

	e->set.timer_c_ms = 100000;
	configure(e);
	/* a: only a 100: Timer C runs from the request (16.6 step 11) */
	a = cli_new(e, "INVITE", TP_UDP);
	run_to(e, 1000);
	assert_true(cli_resp(e, a, 100));
	assert_int_equal(txn_state(a), TXN_PROCEEDING);

	/* b: a 180 resets Timer C, a later 100 does not (16.7 step 2) */
	b = cli_new(e, "INVITE", TP_UDP);
	run_to(e, 2000);
	assert_true(cli_resp(e, b, 180));
	run_to(e, 3000);
	assert_true(cli_resp(e, b, 100));
	assert_int_equal(txn_status(b), 180);

	run_to(e, 99999);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 0);
	run_to(e, 100000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->id, txn_id(a));
	run_to(e, 101999);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	run_to(e, 102000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 2);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 1)->id, txn_id(b));
}

static void
test_ict_timer_c_tu_cancels(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);
	struct txn *cancel;
	uint64_t id = txn_id(ct);
	struct msg *m;

	e->cancel_on_timeout = true;
	e->set.timer_c_ms = 181000;
	configure(e);
	run_to(e, 1000);
	assert_true(cli_resp(e, ct, 183));
	/* Timer C armed with the value when the 183 came */
	run_to(e, 182000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	cancel = e->cancel_ct;
	assert_non_null(cancel);
	assert_int_equal(txn_state(cancel), TXN_TRYING);
	/* the CANCEL went out from inside the callback, at once */
	assert_sent_at(e, 0, 0, 500, 182000);
	m = sent_msg(e, 2);
	assert_int_equal(msg_method(m), MSG_CANCEL);
	msg_free(m);

	/* the CANCEL is retransmitted by its own Timer E */
	run_to(e, 182600);
	assert_sent_at(e, 2, 182000, 182500);
	assert_true(cli_resp(e, cancel, 200));
	assert_int_equal(txn_state(cancel), TXN_COMPLETED);
	assert_true(cli_resp(e, ct, 487));
	assert_int_equal(txn_state(ct), TXN_COMPLETED);
	assert_int_equal(txn_status(ct), 487);
	/* the 487 was ACKed, and both responses reached the TU */
	assert_int_equal(e->nsent, 5);
	m = sent_msg(e, 4);
	assert_int_equal(msg_method(m), MSG_ACK);
	msg_free(m);
	assert_int_equal(count_ev(e, EV_RESPONSE), 3);
	assert_int_equal(nth_ev(e, EV_RESPONSE, 2)->status, 487);
	assert_int_equal(nth_ev(e, EV_RESPONSE, 2)->id, id);

	/* Timer K (T4) ends the CANCEL, Timer D (32 s) the INVITE */
	run_to(e, 182600 + 5000);
	assert_null(e->cancel_ct);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	run_to(e, 182600 + 32000 - 1);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	run_to(e, 182600 + 32000);
	assert_int_equal(count_ev(e, EV_TERMINATED), 2);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 1)->id, id);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
}

static void
test_ict_timer_c_late_1xx(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);

	run_to(e, 1000);
	assert_true(cli_resp(e, ct, 180));
	run_to(e, 181000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	/* a provisional after the CANCEL does not stretch the 64*T1 wait
	 * for the final response (RFC 3261 9.1, 16.8) */
	run_to(e, 200000);
	assert_true(cli_resp(e, ct, 180));
	assert_int_equal(count_ev(e, EV_RESPONSE), 2);
	run_to(e, 212999);
	assert_int_equal(count_ev(e, EV_TERMINATED), 0);
	run_to(e, 213000);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
}

static void
test_ict_2xx_accepted_timer_m(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);
	struct tp_src src = next_hop(TP_UDP);
	struct msg *late =
	    msg_response(txn_request(ct), 200, NULL, SV_LIT(RESP_TAG));

	assert_non_null(late);
	run_to(e, 700);
	assert_true(cli_resp(e, ct, 200));
	assert_int_equal(txn_state(ct), TXN_ACCEPTED);
	assert_int_equal(txn_status(ct), 200);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_RESPONSE);
	assert_int_equal(e->ev[0].status, 200);
	assert_int_equal(e->ev[0].state, TXN_ACCEPTED);

	/* RFC 6026 7.2: 2xx retransmissions reach the TU (it ACKs them) */
	run_to(e, 1000);
	assert_true(cli_resp(e, ct, 200));
	assert_int_equal(count_ev(e, EV_RESPONSE), 2);
	assert_int_equal(nth_ev(e, EV_RESPONSE, 1)->status, 200);
	/* anything else is dropped */
	assert_true(cli_resp(e, ct, 486));
	assert_true(cli_resp(e, ct, 180));
	assert_int_equal(count_ev(e, EV_RESPONSE), 2);
	assert_int_equal(txn_state(ct), TXN_ACCEPTED);
	assert_int_equal(txn_status(ct), 200);

	/* no ACK from the transaction, no retransmission after the 2xx;
	 * Timer M = 64*T1 */
	run_to(e, 700 + 32000 - 1);
	assert_sent_at(e, 0, 0, 500);
	assert_int_equal(count_ev(e, EV_TERMINATED), 0);
	run_to(e, 700 + 32000);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 32700);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 0);
	/* a 2xx after Timer M matches nothing: the TU relays it */
	assert_false(txn_client_absorb(e->tbl, late, &src));
	assert_int_equal(count_ev(e, EV_RESPONSE), 2);
	msg_free(late);
}

static void
check_ack_or_cancel(struct msg *m, enum msg_method method, const char *branch,
                    const char *to, uint32_t cseq)
{
	struct msg_err err;
	const struct msg_via *vias;
	const struct msg_naddr *routes;
	const struct msg_cseq *cs;
	char via[256];
	uint32_t mf;

	memset(&err, 0, sizeof(err));
	assert_int_equal(msg_check(m, &err), 0);
	assert_true(msg_is_request(m));
	assert_int_equal(msg_method(m), method);
	assert_sv_equal(msg_sv(m, msg_ruri_span(m)), NEXT_HOP_URI);
	/* one Via: the request's top one, branch included */
	assert_int_equal(msg_hdr_count(m, HDR_VIA), 1);
	assert_int_equal(msg_vias(m, &vias), 1);
	snprintf(via, sizeof(via), OUR_VIA ";branch=%s", branch);
	assert_sv_equal(msg_sv(m, vias[0].value), via);
	assert_sv_equal(msg_hdr_value(m, HDR_FROM), FROM_V);
	assert_sv_equal(msg_hdr_value(m, HDR_TO), to);
	assert_sv_equal(msg_callid(m), CALLID);
	cs = msg_cseq(m);
	assert_non_null(cs);
	assert_int_equal(cs->num, cseq);
	assert_int_equal(cs->method, method);
	/* the Route set, in order, every element */
	assert_int_equal(msg_naddrs(m, HDR_ROUTE, &routes), 3);
	assert_sv_equal(msg_sv(m, routes[0].value), "<sip:p1.example.com;lr>");
	assert_sv_equal(msg_sv(m, routes[1].value), "<sip:p2.example.com;lr>");
	assert_sv_equal(msg_sv(m, routes[2].value), "<sip:p3.example.com;lr>");
	assert_int_equal(msg_max_forwards(m, &mf), 0);
	assert_int_equal(msg_body(m).len, 0);
	/* nothing else of the request (Contact, its second Via) */
	assert_int_equal(msg_hdr_count(m, HDR_CONTACT), 0);
}

static void
test_ict_completed_ack_timer_d(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	char branch[TXN_BRANCH_MAX];
	struct msg *req = fwd_req(e, "INVITE", branch);
	struct txn *ct = txn_client_new(e->tbl, req, &dst, e, NULL);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}
	struct msg *ack;

	assert_non_null(ct);
	run_to(e, 700);
	assert_true(cli_resp(e, ct, 486));
	assert_int_equal(txn_state(ct), TXN_COMPLETED);
	assert_int_equal(txn_status(ct), 486);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].kind, EV_RESPONSE);
	assert_int_equal(e->ev[0].status, 486);
	assert_int_equal(e->ev[0].state, TXN_COMPLETED);

	/* RFC 3261 17.1.1.3: the ACK, at once, to the request's peer */
	assert_sent_at(e, 0, 0, 500, 700);
	assert_int_equal(dst_port(&e->sent[2].dst), 5060);
	ack = sent_msg(e, 2);
	check_ack_or_cancel(ack, MSG_ACK, branch, TO_V ";tag=" RESP_TAG,
	                    314159);
	msg_free(ack);

	/* a retransmitted final response: the same ACK again, not to the
	 * TU; a stray provisional is dropped */
	run_to(e, 900);
	assert_true(cli_resp(e, ct, 486));
	assert_true(cli_resp(e, ct, 180));
	assert_sent_at(e, 0, 0, 500, 700, 900);
	assert_same_bytes(e, 2, 3);
	assert_int_equal(e->nev, 1);
	assert_int_equal(txn_status(ct), 486);

	/* Timer D: 32 s over UDP, no request retransmission meanwhile */
	run_to(e, 700 + 32000 - 1);
	assert_int_equal(e->nsent, 4);
	assert_int_equal(e->nev, 1);
	run_to(e, 700 + 32000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 32700);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 0);
}

static void
test_ict_reliable(void **state)
{
	struct env *e = *state;
	struct txn *a = cli_new(e, "INVITE", TP_RELIABLE);
	struct txn *b;
	uint64_t id_a = txn_id(a);

	/* no Timer A over a reliable transport, Timer B still */
	assert_int_equal(txn_table_timers(e->tbl), 1);
	run_to(e, 31999);
	assert_sent_at(e, 0, 0);
	assert_int_equal(e->nev, 0);
	run_to(e, 32000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[0].id, id_a);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);

	/* a final response: ACK, and Timer D is zero */
	b = cli_new(e, "INVITE", TP_RELIABLE);
	run_to(e, 32100);
	assert_true(cli_resp(e, b, 302));
	assert_int_equal(txn_state(b), TXN_COMPLETED);
	assert_sent_at(e, 1, 32000, 32100);
	assert_int_equal(e->sent[2].dst.proto, TP_RELIABLE);
	run_to(e, 32101);
	assert_int_equal(e->nev, 4);
	assert_int_equal(e->ev[3].kind, EV_TERMINATED);
	assert_int_equal(e->ev[3].at, 32101);
}

/* ============================================= non-INVITE client (17.1.2) */

static void
test_nict_timer_e_f(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "OPTIONS", TP_UDP);

	assert_int_equal(txn_state(ct), TXN_TRYING);
	/* Timer E: T1, 2T1, 4T1, then T2 (4 s) */
	run_to(e, 31999);
	assert_sent_at(e, 0, 0, 500, 1500, 3500, 7500, 11500, 15500, 19500,
	               23500, 27500, 31500);
	assert_int_equal(e->nev, 0);
	/* Timer F = 64*T1 */
	run_to(e, 32000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_TIMEOUT);
	assert_int_equal(e->ev[0].at, 32000);
	assert_int_equal(e->ev[0].state, TXN_TRYING);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	run_to(e, 40000);
	assert_int_equal(e->nsent, 11);
}

static void
test_nict_proceeding_timer_e_is_t2(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "REGISTER", TP_UDP);

	run_to(e, 600);
	assert_true(cli_resp(e, ct, 100));
	assert_int_equal(txn_state(ct), TXN_PROCEEDING);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].status, 100);
	assert_int_equal(e->ev[0].state, TXN_PROCEEDING);
	/* further provisionals reach the TU too */
	run_to(e, 700);
	assert_true(cli_resp(e, ct, 183));
	assert_int_equal(count_ev(e, EV_RESPONSE), 2);

	/* the pending E (2T1) runs out, then every T2 */
	run_to(e, 31999);
	assert_sent_at(e, 0, 0, 500, 1500, 5500, 9500, 13500, 17500, 21500,
	               25500, 29500);
	run_to(e, 32000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->state, TXN_PROCEEDING);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 32000);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 32000);
}

static void
test_nict_completed_timer_k(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "OPTIONS", TP_UDP);
	struct txn *r;

	run_to(e, 700);
	assert_true(cli_resp(e, ct, 200));
	assert_int_equal(txn_state(ct), TXN_COMPLETED);
	assert_int_equal(txn_status(ct), 200);
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].status, 200);
	assert_int_equal(e->ev[0].state, TXN_COMPLETED);
	/* retransmissions of the final are absorbed, not passed up */
	run_to(e, 800);
	assert_true(cli_resp(e, ct, 200));
	assert_int_equal(e->nev, 1);

	/* Timer K = T4 */
	run_to(e, 700 + 5000 - 1);
	assert_sent_at(e, 0, 0, 500);
	assert_int_equal(e->nev, 1);
	run_to(e, 700 + 5000);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 5700);

	/* reliable: no Timer E, Timer K zero */
	r = cli_new(e, "OPTIONS", TP_RELIABLE);
	run_to(e, 6000);
	assert_sent_at(e, 2, 5700);
	assert_true(cli_resp(e, r, 404));
	run_to(e, 6001);
	assert_int_equal(e->nev, 4);
	assert_int_equal(e->ev[3].kind, EV_TERMINATED);
	assert_int_equal(e->ev[3].at, 6001);
	assert_int_equal(e->nsent, 3);
}

static void
test_nict_reliable_timer_f(void **state)
{
	struct env *e = *state;

	(void)cli_new(e, "BYE", TP_RELIABLE);
	run_to(e, 31999);
	assert_sent_at(e, 0, 0);
	assert_int_equal(e->nev, 0);
	run_to(e, 32000);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 32000);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->at, 32000);
}

/* ===================================================== matching (17.x.3) */

static void
test_match_server(void **state)
{
	struct env *e = *state;
	struct tp_src src = uac_src(TP_UDP);
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	struct txn *opt, *cst;
	struct msg *cancel;

	assert_int_equal(srv_respond(st, 486), 0);
	assert_int_equal(e->nsent, 1);

	/* RFC 3261 17.2.3: branch, sent-by and method must all match */
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKother")));
	assert_false(
	    srv_absorb(e, REQ(.method = "INVITE",
	                      .via = "SIP/2.0/UDP pc33.atlanta.example.com:5071"
	                             ";branch=" UAC_BRANCH)));
	assert_false(
	    srv_absorb(e, REQ(.method = "INVITE",
	                      .via = "SIP/2.0/UDP pc33.atlanta.example.com"
	                             ";branch=" UAC_BRANCH)));
	assert_false(
	    srv_absorb(e, REQ(.method = "INVITE",
	                      .via = "SIP/2.0/UDP pc34.atlanta.example.com:5070"
	                             ";branch=" UAC_BRANCH)));
	assert_false(srv_absorb(e, REQ(.method = "BYE")));
	assert_false(srv_absorb(e, REQ(.method = "OPTIONS")));
	assert_int_equal(e->nsent, 1);
	/* the host of sent-by compares without case; other fields of the
	 * request do not matter */
	assert_true(
	    srv_absorb(e, REQ(.method = "INVITE",
	                      .via = "SIP/2.0/UDP PC33.Atlanta.Example.COM:5070"
	                             ";branch=" UAC_BRANCH,
	                      .callid = "whatever")));
	assert_int_equal(e->nsent, 2);

	/* a CANCEL is a transaction of its own (9.2) ... */
	cancel = REQ(.method = "CANCEL");
	assert_false(txn_server_absorb(e->tbl, cancel, &src));
	/* ... that finds the INVITE it cancels */
	assert_ptr_equal(txn_server_find_invite(e->tbl, cancel, &src), st);
	cst = srv_take(e->tbl, cancel, &src, e);
	if (cst != NULL) {
		keep_req(e, cst, txn_request(cst));
	}
	assert_non_null(cst);
	assert_int_equal(txn_state(cst), TXN_TRYING);
	assert_true(srv_absorb(e, REQ(.method = "CANCEL")));
	assert_int_equal(e->nsent, 2);
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	/* found through the CANCEL's own fields only */
	cancel = REQ(.method = "CANCEL", .via = UAC_VIA ";branch=z9hG4bKother");
	assert_null(txn_server_find_invite(e->tbl, cancel, &src));
	msg_free(cancel);
	cancel = REQ(.method = "CANCEL",
	             .via = "SIP/2.0/UDP pc33.atlanta.example.com:5071"
	                    ";branch=" UAC_BRANCH);
	assert_null(txn_server_find_invite(e->tbl, cancel, &src));
	msg_free(cancel);

	/* not an INVITE transaction, even with the same branch */
	opt = srv_new(
	    e, REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKopt"),
	    TP_UDP);
	cancel = REQ(.method = "CANCEL", .via = UAC_VIA ";branch=z9hG4bKopt");
	assert_null(txn_server_find_invite(e->tbl, cancel, &src));
	msg_free(cancel);
	assert_int_equal(txn_state(opt), TXN_TRYING);

	/* the ACK takes INVITE's place */
	assert_true(srv_absorb(e, ack_for_final()));
	assert_int_equal(txn_state(st), TXN_CONFIRMED);
	/* an ACK of a branch we do not know goes to the TU */
	assert_false(srv_absorb(
	    e, REQ(.method = "ACK", .via = UAC_VIA ";branch=z9hG4bKother")));
}

static void
test_match_rfc2543(void **state)
{
	struct env *e = *state;
	struct tp_src src = uac_src(TP_UDP);
	struct txn *st =
	    srv_new(e, REQ(.method = "INVITE", .via = UAC_VIA), TP_UDP);
	struct txn *opt;
	struct msg *m;

	assert_int_equal(srv_respond(st, 486), 0);
	/* RFC 3261 17.2.3: no magic cookie, so Request-URI, To tag, From
	 * tag, Call-ID, CSeq and top Via */
	assert_true(srv_absorb(e, REQ(.method = "INVITE", .via = UAC_VIA)));
	assert_int_equal(e->nsent, 2);
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA, .cseq = 314160)));
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA, .from_tag = "other")));
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA, .callid = "x@y")));
	assert_false(
	    srv_absorb(e, REQ(.method = "INVITE", .via = UAC_VIA,
	                      .ruri = "sip:carol@biloxi.example.com")));
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE",
	           .via = "SIP/2.0/UDP pc33.atlanta.example.com:5071")));
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA, .to_tag = "other")));
	assert_int_equal(e->nsent, 2);

	/* CANCEL: the same fields, with the method INVITE */
	m = REQ(.method = "CANCEL", .via = UAC_VIA);
	assert_ptr_equal(txn_server_find_invite(e->tbl, m, &src), st);
	msg_free(m);
	m = REQ(.method = "CANCEL", .via = UAC_VIA, .cseq = 314160);
	assert_null(txn_server_find_invite(e->tbl, m, &src));
	msg_free(m);

	/* the ACK matches by CSeq number only, and must carry the To tag
	 * of the response it acknowledges */
	assert_false(srv_absorb(
	    e, REQ(.method = "ACK", .via = UAC_VIA, .to_tag = "wrongtag")));
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	assert_false(srv_absorb(e, REQ(.method = "ACK", .via = UAC_VIA,
	                               .to_tag = RESP_TAG, .cseq = 314160)));
	assert_int_equal(txn_state(st), TXN_COMPLETED);
	assert_true(srv_absorb(
	    e, REQ(.method = "ACK", .via = UAC_VIA, .to_tag = RESP_TAG)));
	assert_int_equal(txn_state(st), TXN_CONFIRMED);
	assert_int_equal(e->nsent, 2);

	/* a branch without the cookie is RFC 2543 too */
	opt = srv_new(
	    e, REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=1234abcd"),
	    TP_UDP);
	assert_int_equal(srv_respond(opt, 200), 0);
	assert_true(srv_absorb(
	    e, REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=1234abcd")));
	assert_int_equal(e->nsent, 4);
	assert_same_bytes(e, 2, 3);
	/* the To tag of a request that is not an ACK must match too */
	assert_false(srv_absorb(e, REQ(.method = "OPTIONS",
	                               .via = UAC_VIA ";branch=1234abcd",
	                               .to_tag = "x")));
	assert_int_equal(e->nsent, 4);
}

static void
test_match_rfc2543_accepted(void **state)
{
	struct env *e = *state;
	struct txn *st =
	    srv_new(e, REQ(.method = "INVITE", .via = UAC_VIA), TP_UDP);

	assert_int_equal(srv_respond(st, 200), 0);
	assert_true(srv_absorb(e, REQ(.method = "INVITE", .via = UAC_VIA)));
	/* the ACK of a 2xx is the TU's */
	assert_false(srv_absorb(
	    e, REQ(.method = "ACK", .via = UAC_VIA, .to_tag = RESP_TAG)));
	assert_int_equal(txn_state(st), TXN_ACCEPTED);
	assert_int_equal(e->nsent, 1);
}

static struct msg *
resp_fmt(int status, const char *branch, const char *cseq_method)
{
	return fmt_msg("SIP/2.0 %d Whatever\r\n"
	               "Via: " OUR_VIA ";branch=%s\r\n"
	               "Via: " UAC_VIA ";branch=" UAC_BRANCH "\r\n"
	               "To: " TO_V ";tag=" RESP_TAG "\r\n"
	               "From: " FROM_V "\r\n"
	               "Call-ID: " CALLID "\r\n"
	               "CSeq: 314159 %s\r\n"
	               "Content-Length: 0\r\n\r\n",
	               status, branch, cseq_method);
}

static bool
cli_absorb(struct env *e, struct msg *resp)
{
	struct tp_src src = next_hop(TP_UDP);
	bool ok = txn_client_absorb(e->tbl, resp, &src);

	msg_free(resp);
	return ok;
}

static void
test_match_client(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	char branch[TXN_BRANCH_MAX], other[TXN_BRANCH_MAX];
	struct msg *req = fwd_req(e, "INVITE", branch);
	struct txn *ct = txn_client_new(e->tbl, req, &dst, e, NULL);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}
	struct txn *cancel_ct;
	struct msg *cancel;
	int err;

	assert_non_null(ct);
	txn_branch_new(e->tbl, other);
	/* RFC 3261 17.1.3: the branch of the top Via and CSeq method */
	assert_false(cli_absorb(e, resp_fmt(180, other, "INVITE")));
	assert_false(cli_absorb(e, resp_fmt(180, "z9hG4bKunknown", "INVITE")));
	assert_false(cli_absorb(e, resp_fmt(200, branch, "CANCEL")));
	assert_false(cli_absorb(e, resp_fmt(200, branch, "BYE")));
	assert_false(cli_absorb(e, fmt_msg("SIP/2.0 180 Ringing\r\n"
	                                   "To: " TO_V "\r\n"
	                                   "From: " FROM_V "\r\n"
	                                   "Call-ID: " CALLID "\r\n"
	                                   "CSeq: 314159 INVITE\r\n"
	                                   "Content-Length: 0\r\n\r\n")));
	assert_int_equal(e->nev, 0);
	assert_int_equal(txn_state(ct), TXN_CALLING);

	/* the CANCEL shares the INVITE's branch; its responses are its own */
	cancel = txn_client_cancel_new(ct);
	assert_non_null(cancel);
	cancel_ct = txn_client_new(e->tbl, cancel, &dst, e, NULL);
	if (cancel_ct != NULL) {
		keep_req(e, cancel_ct, txn_request(cancel_ct));
	}
	assert_non_null(cancel_ct);
	assert_true(cli_absorb(e, resp_fmt(200, branch, "CANCEL")));
	assert_int_equal(e->nev, 1);
	assert_int_equal(e->ev[0].id, txn_id(cancel_ct));
	assert_int_equal(txn_state(cancel_ct), TXN_COMPLETED);
	assert_int_equal(txn_state(ct), TXN_CALLING);
	assert_true(cli_absorb(e, resp_fmt(180, branch, "INVITE")));
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[1].id, txn_id(ct));
	assert_int_equal(e->ev[1].status, 180);
	assert_int_equal(txn_state(ct), TXN_PROCEEDING);

	/* a second transaction with a branch in use is refused, and an ACK
	 * makes no client transaction */
	req = fwd_req_branch("INVITE", branch);
	err = 0;
	assert_null(txn_client_new(e->tbl, req, &dst, e, &err));
	assert_int_equal(err, -EINVAL);
	msg_free(req);
	req = fwd_req_branch("ACK", other);
	err = 0;
	assert_null(txn_client_new(e->tbl, req, &dst, e, &err));
	assert_int_equal(err, -EINVAL);
	msg_free(req);
	assert_int_equal(e->nsent, 2);
}

/* ============================================================ CANCEL 9.1 */

static void
test_cancel_new(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	char branch[TXN_BRANCH_MAX];
	struct msg *req = fwd_req(e, "INVITE", branch);
	struct txn *ct = txn_client_new(e->tbl, req, &dst, e, NULL);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}
	struct txn *opt, *st;
	struct msg *cancel;

	assert_non_null(ct);
	run_to(e, 100);
	/* after a provisional with a To tag: the CANCEL keeps the request's
	 * To (RFC 3261 9.1: identical to the request being cancelled) */
	assert_true(cli_resp(e, ct, 180));
	cancel = txn_client_cancel_new(ct);
	assert_non_null(cancel);
	check_ack_or_cancel(cancel, MSG_CANCEL, branch, TO_V, 314159);
	msg_free(cancel);
	/* building it sends nothing and leaves ct alone */
	assert_int_equal(e->nsent, 1);
	assert_int_equal(txn_state(ct), TXN_PROCEEDING);

	/* only an INVITE client transaction is cancelled */
	opt = cli_new(e, "OPTIONS", TP_UDP);
	assert_null(txn_client_cancel_new(opt));
	st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_null(txn_client_cancel_new(st));
}

/*
 * A proxy's forwarded request is kept as its edits over the server
 * transaction's request (txn_client_forward()): resent, parsed, cancelled
 * and ACKed as the bytes sent, also once the server transaction has let
 * its request go.
 */
static void
test_forward_kept_as_edits(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_RELIABLE);
	struct msg *fwd = msg_compact(txn_request(st));
	char branch[TXN_BRANCH_MAX], via[256], buf[4096];
	struct msg *m;
	struct txn *ct;
	size_t first = e->nsent;
	int n;

	assert_non_null(fwd);
	txn_branch_new(e->tbl, branch);
	snprintf(via, sizeof(via), OUR_VIA ";branch=%s", branch);
	assert_true(msg_via_push(fwd, (struct sv){ via, strlen(via) }) >= 0);
	assert_true(msg_hdr_append(fwd, "Record-Route",
	    SV_LIT("<sip:proxy.example.com;lr>")) >= 0);
	ct = txn_client_forward(e->tbl, st, fwd, (struct sv){ "", 0 }, &dst,
	    e, NULL);
	assert_non_null(ct);
	keep_req(e, ct, txn_request(ct));
	/* parsed again, it is the request sent */
	n = msg_write(txn_request(ct), buf, sizeof(buf));
	assert_int_equal(n, e->sent[first].len);
	assert_memory_equal(buf, e->sent[first].buf, (size_t)n);
	/* Timer A resends the same bytes */
	run_to(e, 500);
	assert_int_equal(e->nsent, first + 2);
	assert_same_bytes(e, first, first + 1);
	/* the server transaction answers and lets its request go; the
	 * client transaction's still stands */
	assert_int_equal(srv_respond(st, 486), 0);
	assert_null(txn_request(st));
	run_to(e, 1500);
	assert_int_equal(sent_status(e, first + 2), 486);
	assert_int_equal(e->nsent, first + 4);
	assert_same_bytes(e, first, first + 3);
	/* the CANCEL and the ACK are built from it (9.1, 17.1.1.3) */
	assert_true(cli_resp(e, ct, 180));
	m = txn_client_cancel_new(ct);
	assert_non_null(m);
	assert_sv_equal(msg_hdr_value(m, HDR_VIA), via);
	assert_sv_equal(msg_callid(m), CALLID);
	msg_free(m);
	assert_true(cli_resp(e, ct, 486));
	m = sent_msg(e, e->nsent - 1);
	assert_int_equal(msg_method(m), MSG_ACK);
	assert_sv_equal(msg_hdr_value(m, HDR_VIA), via);
	msg_free(m);
}

/* ================================================ transport errors 17.x.4 */

static void
test_err_server_respond(void **state)
{
	struct env *e = *state;
	struct txn_stats s;
	struct txn *st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	uint64_t id = txn_id(st);

	e->fail_from = 0;
	assert_int_equal(srv_respond(st, 486), -EIO);
	/* the TU heard of it, and the transaction is gone */
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_ERROR);
	assert_int_equal(e->ev[0].err, -EIO);
	assert_int_equal(e->ev[0].id, id);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].id, id);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_live, 0);
	assert_int_equal(txn_table_timers(e->tbl), 0);
	assert_false(srv_absorb(e, REQ(.method = "INVITE")));
	run_to(e, 40000);
	assert_int_equal(e->nsent, 1);
	assert_int_equal(e->nev, 2);
}

static void
test_err_server_retransmissions(void **state)
{
	struct env *e = *state;
	struct txn *g = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	struct txn *a, *l;

	/* Timer G's send fails */
	assert_int_equal(srv_respond(g, 500), 0);
	e->fail_from = 1;
	run_to(e, 500);
	assert_sent_at(e, 0, 0, 500);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_ERROR);
	assert_int_equal(e->ev[0].err, -EIO);
	assert_int_equal(e->ev[0].at, 500);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 500);
	run_to(e, 5000);
	assert_int_equal(e->nsent, 2);

	/* the resend of a provisional for a retransmitted request fails */
	e->fail_from = SIZE_MAX;
	a = srv_new(e,
	            REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKa"),
	            TP_UDP);
	assert_int_equal(srv_respond(a, 180), 0);
	e->fail_from = e->nsent;
	assert_true(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKa")));
	assert_int_equal(e->nev, 4);
	assert_int_equal(e->ev[2].kind, EV_ERROR);
	assert_int_equal(e->ev[3].kind, EV_TERMINATED);
	assert_false(srv_absorb(
	    e, REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKa")));

	/* the TU's 2xx retransmission in Accepted fails */
	e->fail_from = SIZE_MAX;
	l = srv_new(e,
	            REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKl"),
	            TP_UDP);
	assert_int_equal(srv_respond(l, 200), 0);
	e->fail_from = e->nsent;
	assert_int_equal(srv_respond(l, 200), -EIO);
	assert_int_equal(e->nev, 6);
	assert_int_equal(e->ev[4].kind, EV_ERROR);
	assert_int_equal(e->ev[5].kind, EV_TERMINATED);
	assert_int_equal(txn_table_timers(e->tbl), 0);
}

static void
test_err_client_new(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	struct txn_stats s;
	struct msg *req = fwd_req(e, "INVITE", NULL);
	struct txn *ct;
	int err = 0;

	e->fail_from = 0;
	ct = txn_client_new(e->tbl, req, &dst, e, &err);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}
	assert_null(ct);
	assert_int_equal(err, -EIO);
	assert_int_equal(e->nsent, 1);
	/* the TU never had the transaction: no callback names it */
	assert_int_equal(e->nev, 0);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.client_live, 0);
	assert_int_equal(txn_table_timers(e->tbl), 0);

	/* req is still ours: try again once the network is back */
	e->fail_from = SIZE_MAX;
	ct = txn_client_new(e->tbl, req, &dst, e, &err);
	if (ct != NULL) {
		keep_req(e, ct, txn_request(ct));
	}
	assert_non_null(ct);
	assert_int_equal(txn_state(ct), TXN_CALLING);
	assert_int_equal(e->nsent, 2);
}

static void
test_err_client_retransmissions(void **state)
{
	struct env *e = *state;
	struct txn *inv = cli_new(e, "INVITE", TP_UDP);
	struct txn *opt;
	uint64_t id = txn_id(inv);

	/* Timer A's send fails */
	e->fail_from = 1;
	run_to(e, 500);
	assert_int_equal(e->nev, 2);
	assert_int_equal(e->ev[0].kind, EV_ERROR);
	assert_int_equal(e->ev[0].err, -EIO);
	assert_int_equal(e->ev[0].id, id);
	assert_int_equal(e->ev[0].at, 500);
	assert_int_equal(e->ev[1].kind, EV_TERMINATED);
	assert_int_equal(e->ev[1].at, 500);
	run_to(e, 40000);
	assert_sent_at(e, 0, 0, 500);
	assert_int_equal(e->nev, 2);

	/* Timer E's */
	e->fail_from = SIZE_MAX;
	opt = cli_new(e, "OPTIONS", TP_UDP);
	id = txn_id(opt);
	e->fail_from = e->nsent;
	run_to(e, 40500);
	assert_int_equal(e->nev, 4);
	assert_int_equal(e->ev[2].kind, EV_ERROR);
	assert_int_equal(e->ev[2].id, id);
	assert_int_equal(e->ev[2].at, 40500);
	assert_int_equal(e->ev[3].kind, EV_TERMINATED);
	assert_int_equal(txn_table_timers(e->tbl), 0);
}

static void
test_err_client_ack(void **state)
{
	struct env *e = *state;
	struct txn *a = cli_new(e, "INVITE", TP_UDP);
	struct txn *b;
	uint64_t id = txn_id(a);

	/* the first ACK cannot go out: a transport error (17.1.4) */
	run_to(e, 100);
	e->fail_from = 1;
	assert_true(cli_resp(e, a, 486));
	assert_int_equal(e->nsent, 2);
	assert_int_equal(count_ev(e, EV_ERROR), 1);
	assert_int_equal(nth_ev(e, EV_ERROR, 0)->id, id);
	assert_int_equal(nth_ev(e, EV_ERROR, 0)->err, -EIO);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->id, id);
	assert_int_equal(count_ev(e, EV_RESPONSE), 0);

	/* the ACK of a retransmitted final response cannot go out */
	e->fail_from = SIZE_MAX;
	b = cli_new(e, "INVITE", TP_UDP);
	id = txn_id(b);
	assert_true(cli_resp(e, b, 603));
	assert_int_equal(count_ev(e, EV_RESPONSE), 1);
	e->fail_from = e->nsent;
	assert_true(cli_resp(e, b, 603));
	assert_int_equal(count_ev(e, EV_ERROR), 2);
	assert_int_equal(nth_ev(e, EV_ERROR, 1)->id, id);
	assert_int_equal(count_ev(e, EV_TERMINATED), 2);
	assert_int_equal(count_ev(e, EV_RESPONSE), 1);
}

/* ================================================================ limits */

static void
test_limit_server(void **state)
{
	struct env *e = *state;
	struct tp_src src = uac_src(TP_RELIABLE);
	struct txn_stats s;
	struct txn *b;
	struct msg *m;

	e->set.max_server = 2;
	configure(e);
	(void)srv_new(e, REQ(.method = "INVITE"), TP_RELIABLE);
	b = srv_new(e,
	            REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKb"),
	            TP_RELIABLE);
	m = REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKc");
	errno = 0;
	assert_null(txn_server_new(e->tbl, m, &src, e));
	assert_int_equal(errno, EBUSY);
	errno = 0;
	assert_null(txn_server_new(e->tbl, m, &src, e));
	assert_int_equal(errno, EBUSY);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.refused, 2);
	assert_int_equal(s.server_live, 2);
	assert_int_equal(s.server_created, 2);
	/* the client side has its own limit */
	(void)cli_new(e, "OPTIONS", TP_RELIABLE);

	/* b ends (Timer J is 0 over TCP): room again; m was still ours */
	assert_int_equal(srv_respond(b, 200), 0);
	run_to(e, 1);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_live, 1);
	assert_non_null(txn_server_new(e->tbl, m, &src, e));
	msg_free(m);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_live, 2);
	assert_int_equal(s.server_created, 3);
	assert_int_equal(s.refused, 2);
}

static void
test_limit_client(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_RELIABLE);
	struct txn_stats s;
	struct txn *a;
	struct msg *m;
	int err = 0;

	e->set.max_client = 1;
	configure(e);
	a = cli_new(e, "OPTIONS", TP_RELIABLE);
	m = fwd_req(e, "INVITE", NULL);
	assert_null(txn_client_new(e->tbl, m, &dst, e, &err));
	assert_int_equal(err, -EBUSY);
	assert_null(txn_client_new(e->tbl, m, &dst, e, NULL));
	assert_int_equal(e->nsent, 1); /* nothing sent for the refused */
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.refused, 2);
	assert_int_equal(s.client_live, 1);
	assert_int_equal(s.client_created, 1);
	/* the server side is not affected */
	(void)srv_new(e, REQ(.method = "INVITE"), TP_UDP);

	assert_true(cli_resp(e, a, 200));
	run_to(e, 1);
	err = 0;
	assert_non_null(txn_client_new(e->tbl, m, &dst, e, &err));
	assert_int_equal(err, 0);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.client_live, 1);
	assert_int_equal(s.client_created, 2);
	assert_int_equal(s.refused, 2);
}

/*
 * At the limit, a transaction that only waits for retransmissions gives
 * way, the one waiting longest first; one still at work (an INVITE's
 * non-2xx retransmitted until its ACK, a request not answered) does not,
 * and then the new request is refused.
 */
static void
test_limit_reclaim_server(void **state)
{
	struct env *e = *state;
	struct tp_src src = uac_src(TP_UDP);
	struct txn_stats s;
	struct txn *a, *b;
	struct msg *m;
	uint64_t aid, bid;
	size_t sent;

	e->set.max_server = 2;
	configure(e);
	/* a: an OPTIONS answered; Timer J would keep it 64*T1 */
	a = srv_new(e,
	            REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKa"),
	            TP_UDP);
	assert_int_equal(srv_respond(a, 200), 0);
	aid = txn_id(a);
	/* b: an INVITE refused, its 486 resent until the ACK */
	b = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_int_equal(srv_respond(b, 486), 0);
	bid = txn_id(b);

	/* a gives way to c */
	(void)srv_new(e,
	              REQ(.method = "INVITE", .via = UAC_VIA ";branch=z9hG4bKc"),
	              TP_UDP);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.reclaimed, 1);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.server_live, 2);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 0)->id, aid);
	/* a retransmission of a's request is no longer absorbed */
	assert_false(srv_absorb(
	    e, REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKa")));

	/* neither b nor c gives way */
	m = REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKd");
	errno = 0;
	assert_null(txn_server_new(e->tbl, m, &src, e));
	assert_int_equal(errno, EBUSY);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.reclaimed, 1);

	/* b's ACK: it only waits now (Timer I), and gives way to d */
	assert_true(srv_absorb(e, ack_for_final()));
	assert_non_null(txn_server_new(e->tbl, m, &src, e));
	msg_free(m);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.reclaimed, 2);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.server_live, 2);
	assert_int_equal(count_ev(e, EV_TERMINATED), 2);
	assert_int_equal(nth_ev(e, EV_TERMINATED, 1)->id, bid);
	/* the reclaimed ones' timers went with them: nothing is resent */
	sent = e->nsent;
	run_to(e, 64 * 500 + 1000);
	assert_int_equal(e->nsent, sent);
}

/* The client side: a transaction waiting out Timer K gives way. */
static void
test_limit_reclaim_client(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	struct txn_stats s;
	struct txn *a;
	struct msg *m;
	int err = 0;

	e->set.max_client = 1;
	configure(e);
	a = cli_new(e, "OPTIONS", TP_UDP);
	m = fwd_req(e, "INVITE", NULL);
	/* a at work: refused */
	assert_null(txn_client_new(e->tbl, m, &dst, e, &err));
	assert_int_equal(err, -EBUSY);
	/* a answered: it waits (Timer K) and gives way */
	assert_true(cli_resp(e, a, 200));
	err = 0;
	assert_non_null(txn_client_new(e->tbl, m, &dst, e, &err));
	assert_int_equal(err, 0);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.client_live, 1);
	assert_int_equal(s.reclaimed, 1);
	assert_int_equal(s.refused, 1);
}

/* ============================================================== branches */

static int
cmp_branch(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_branch_new_unique(void **state)
{
	enum { N = 100000 };
	struct env *e = *state;
	char(*b)[TXN_BRANCH_MAX] = malloc(N * sizeof(*b));

	assert_non_null(b);
	for (size_t i = 0; i < N; i++) {
		size_t n = txn_branch_new(e->tbl, b[i]);
		assert_true(n > 7 && n < TXN_BRANCH_MAX);
		assert_int_equal(strlen(b[i]), n);
		/* RFC 3261 8.1.1.7: the magic cookie first */
		assert_memory_equal(b[i], "z9hG4bK", 7);
		assert_int_equal(txn_branch_shard((struct sv){b[i], n}), 3);
		/* then the shard and sixteen lower-case hex digits */
		assert_int_equal(n, 10 + 16);
		assert_memory_equal(b[i], "z9hG4bKs3.", 10);
		assert_int_equal(strspn(b[i] + 10, "0123456789abcdef"), 16);
	}
	qsort(b, N, sizeof(*b), cmp_branch);
	for (size_t i = 1; i < N; i++) {
		if (strcmp(b[i - 1], b[i]) == 0) {
			fail_msg("duplicate branch %s", b[i]);
		}
	}
	free(b);
}

static void
test_branch_shard(void **state)
{
	static const unsigned shards[] = {0, 1, 15, 200};
	static const char *const bad[] = {
	    "",
	    "z9hG4bK",
	    "z9hG4bKs",
	    "z9hG4bKs.",
	    "z9hG4bKs.abc",
	    "z9hG4bKs3",
	    "z9hG4bKs3abc",
	    "z9hG4bKsg.abc",
	    "z9hG4bKs-1.abc",
	    "z9hG4bKs12345.abc",
	    "z9hG4bKx3.abc",
	    "z9hg4bks3.abc",
	    "Z9HG4BKs3.abc",
	    "776asdhds",
	    "s3.abc",
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(shards) / sizeof(*shards); i++) {
		struct txn_table *t =
		    txn_table_new(&e->set, &rig_ops, e, shards[i]);
		char b[TXN_BRANCH_MAX];

		assert_non_null(t);
		for (int k = 0; k < 100; k++) {
			size_t n = txn_branch_new(t, b);
			assert_int_equal(txn_branch_shard((struct sv){b, n}),
			                 (int)shards[i]);
		}
		txn_table_free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (txn_branch_shard((struct sv){bad[i], strlen(bad[i])}) !=
		    -1) {
			fail_msg("shard of '%s' is not -1", bad[i]);
		}
	}
	/* only the bytes of the span count */
	assert_int_equal(txn_branch_shard(SV_LIT("z9hG4bKs1f.x")), 31);
	assert_int_equal(txn_branch_shard((struct sv){"z9hG4bKs1f.x", 10}), -1);
}

/* ============================================================= live view */

struct seen {
	struct txn_info info[8];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int
collect(void *arg, const struct txn_info *info)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->info[s->n++] = *info;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

static void
test_foreach_and_stats(void **state)
{
	struct env *e = *state;
	struct seen seen;
	struct txn_stats s;
	struct txn *inv, *opt, *ct;

	run_to(e, 1000);
	inv = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	run_to(e, 2000);
	opt =
	    srv_new(e,
	            REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKo",
	                .callid = "opt-call"),
	            TP_UDP);
	assert_int_equal(srv_respond(opt, 100), 0);
	run_to(e, 3000);
	ct = cli_new(e, "INVITE", TP_UDP);
	assert_int_equal(srv_respond(inv, 180), 0);
	run_to(e, 3200);
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	run_to(e, 4000);
	assert_true(txn_id(inv) != txn_id(opt));
	assert_true(txn_id(opt) != txn_id(ct));
	assert_true(txn_id(inv) != txn_id(ct));

	memset(&seen, 0, sizeof(seen));
	txn_foreach(e->tbl, TXN_SERVER, collect, &seen);
	assert_int_equal(seen.n, 2);
	/* oldest first */
	assert_int_equal(seen.info[0].id, txn_id(inv));
	assert_int_equal(seen.info[0].kind, TXN_SERVER);
	assert_string_equal(seen.info[0].method, "INVITE");
	assert_int_equal(seen.info[0].state, TXN_PROCEEDING);
	assert_string_equal(seen.info[0].callid, CALLID);
	assert_int_equal(seen.info[0].age_ms, 3000);
	assert_int_equal(seen.info[0].retransmissions, 1);
	assert_int_equal(seen.info[0].status, 180);
	assert_int_equal(dst_port(&seen.info[0].peer), 5070);
	assert_int_equal(seen.info[1].id, txn_id(opt));
	assert_string_equal(seen.info[1].method, "OPTIONS");
	assert_int_equal(seen.info[1].state, TXN_PROCEEDING);
	assert_string_equal(seen.info[1].callid, "opt-call");
	assert_int_equal(seen.info[1].age_ms, 2000);
	assert_int_equal(seen.info[1].retransmissions, 0);
	assert_int_equal(seen.info[1].status, 100);

	memset(&seen, 0, sizeof(seen));
	txn_foreach(e->tbl, TXN_CLIENT, collect, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.info[0].id, txn_id(ct));
	assert_int_equal(seen.info[0].kind, TXN_CLIENT);
	assert_string_equal(seen.info[0].method, "INVITE");
	assert_int_equal(seen.info[0].state, TXN_CALLING);
	assert_string_equal(seen.info[0].callid, CALLID);
	assert_int_equal(seen.info[0].age_ms, 1000);
	assert_int_equal(seen.info[0].retransmissions, 1); /* at 3500 */
	assert_int_equal(seen.info[0].status, 0);
	assert_int_equal(dst_port(&seen.info[0].peer), 5060);

	/* fn stops the walk */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	txn_foreach(e->tbl, TXN_SERVER, collect, &seen);
	assert_int_equal(seen.n, 1);

	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_created, 2);
	assert_int_equal(s.client_created, 1);
	assert_int_equal(s.server_live, 2);
	assert_int_equal(s.client_live, 1);
	assert_int_equal(s.retransmissions, 2);
	assert_int_equal(s.absorbed, 1);
	assert_int_equal(s.timeouts, 0);
	assert_int_equal(s.refused, 0);

	/* a finished transaction leaves the view; the counters stay */
	assert_int_equal(srv_respond(opt, 200), 0);
	run_to(e, 2000 + 32000 + 10000);
	memset(&seen, 0, sizeof(seen));
	txn_foreach(e->tbl, TXN_SERVER, collect, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.info[0].id, txn_id(inv));
	assert_int_equal(seen.info[0].age_ms, 43000);
	memset(&seen, 0, sizeof(seen));
	txn_foreach(e->tbl, TXN_CLIENT, collect, &seen);
	assert_int_equal(seen.n, 0); /* Timer B at 35000 */
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_created, 2);
	assert_int_equal(s.server_live, 1);
	assert_int_equal(s.client_live, 0);
	assert_int_equal(s.timeouts, 1);
}


/* The drain at shutdown waits for the transactions without a final
 * response; the table counts them as they change state, so the count is
 * read, not walked.  It follows every kind of transition: a provisional,
 * a 2xx, a non-2xx and its ACK, a timeout, a failed send. */
static void
test_pending_counts(void **state)
{
	struct env *e = *state;
	struct txn *inv, *opt, *ict, *nict;

	assert_int_equal(txn_table_pending(e->tbl, TXN_SERVER), 0);
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 0);
	inv = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	opt = srv_new(e,
	    REQ(.method = "OPTIONS", .via = UAC_VIA ";branch=z9hG4bKo",
	        .callid = "opt-call"),
	    TP_UDP);
	ict = cli_new(e, "INVITE", TP_UDP);
	nict = cli_new(e, "OPTIONS", TP_UDP);
	assert_int_equal(txn_table_pending(e->tbl, TXN_SERVER), 2);
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 2);

	/* provisionals keep them pending */
	assert_int_equal(srv_respond(inv, 180), 0);
	assert_true(cli_resp(e, ict, 180));
	assert_int_equal(txn_table_pending(e->tbl, TXN_SERVER), 2);
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 2);
	check_pending(e->tbl);

	/* finals do not: a 486 waiting for its ACK, a 200 in Completed */
	assert_int_equal(srv_respond(inv, 486), 0);
	assert_int_equal(txn_state(inv), TXN_COMPLETED);
	assert_int_equal(srv_respond(opt, 200), 0);
	assert_int_equal(txn_table_pending(e->tbl, TXN_SERVER), 0);
	assert_true(srv_absorb(e, ack_for_final()));
	assert_int_equal(txn_state(inv), TXN_CONFIRMED);
	assert_int_equal(txn_table_pending(e->tbl, TXN_SERVER), 0);
	assert_true(cli_resp(e, ict, 200));
	assert_int_equal(txn_state(ict), TXN_ACCEPTED);
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 1);
	check_pending(e->tbl);

	/* Timer F ends the OPTIONS without a response */
	run_to(e, 64 * 500);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 0);
	(void)nict;

	/* a request whose first send fails never counts */
	e->fail_from = e->nsent;
	{
		struct tp_src dst = next_hop(TP_UDP);
		struct msg *req = fwd_req(e, "INVITE", NULL);
		int err = 0;

		assert_null(txn_client_new(e->tbl, req, &dst, e, &err));
		assert_int_equal(err, -EIO);
		msg_free(req);
	}
	assert_int_equal(txn_table_pending(e->tbl, TXN_CLIENT), 0);
	check_pending(e->tbl);
}


/* The lines of a message over 4 KiB: padding headers. */
static size_t
pad_lines(char *out, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < 100; i++) {
		int w = snprintf(out + n, cap - n,
		    "X-Pad-%03d: %s\r\n", i,
		    "0123456789012345678901234567890123456789012345");
		assert_true(w > 0 && (size_t)w < cap - n);
		n += (size_t)w;
	}
	return n;
}

/*
 * A forwarded INVITE and a ringing response larger than the buffer
 * they are written to for the send: still kept as scripts over the
 * received request, and resent as sent.
 */
static void
test_large_kept_as_edits(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	size_t cap = 16384, n, pn;
	char *s = malloc(cap), *pad = malloc(cap);
	char branch[TXN_BRANCH_MAX], via[256];
	struct msg *req, *fwd, *r;
	struct txn *st, *ct;
	size_t first;

	assert_non_null(s);
	assert_non_null(pad);
	pn = pad_lines(pad, cap);
	assert_true(pn > TXN_TEXT_BUF);
	n = (size_t)snprintf(s, cap,
	    "INVITE " RURI " SIP/2.0\r\n"
	    "Via: " UAC_VIA ";branch=" UAC_BRANCH "\r\n"
	    "Max-Forwards: 70\r\n"
	    "To: " TO_V "\r\n"
	    "From: " FROM_V "\r\n"
	    "Call-ID: " CALLID "\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n", pad);
	req = parse_ok(s, n);
	st = srv_new(e, req, TP_UDP);

	/* the INVITE forwarded with a Via of ours on top */
	fwd = msg_compact(txn_request(st));
	assert_non_null(fwd);
	txn_branch_new(e->tbl, branch);
	snprintf(via, sizeof(via), OUR_VIA ";branch=%s", branch);
	assert_true(msg_via_push(fwd, (struct sv){ via, strlen(via) }) >= 0);
	first = e->nsent;
	ct = txn_client_forward(e->tbl, st, fwd, (struct sv){ "", 0 }, &dst,
	    e, NULL);
	assert_non_null(ct);
	keep_req(e, ct, txn_request(ct));
	assert_true(e->sent[first].len > TXN_TEXT_BUF);
	assert_ptr_equal(ct->rq->base, st->rq);
	/* Timer A resends the bytes sent */
	run_to(e, 500);
	assert_int_equal(e->nsent, first + 2);
	assert_same_bytes(e, first, first + 1);

	/* a 180 as large, its Via, From, Call-ID and CSeq the request's */
	n = (size_t)snprintf(s, cap,
	    "SIP/2.0 180 Ringing\r\n"
	    "Via: " UAC_VIA ";branch=" UAC_BRANCH "\r\n"
	    "To: " TO_V ";tag=" RESP_TAG "\r\n"
	    "From: " FROM_V "\r\n"
	    "Call-ID: " CALLID "\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n", pad);
	r = parse_ok(s, n);
	first = e->nsent;
	assert_int_equal(txn_server_respond(st, r), 0);
	msg_free(r);
	assert_int_equal(e->sent[first].len, n);
	assert_memory_equal(e->sent[first].buf, s, n);
	assert_ptr_equal(st->rs->base, st->rq);
	/* a retransmitted INVITE gets the same 180 (17.2.1) */
	assert_true(srv_absorb(e, REQ(.method = "INVITE")));
	assert_int_equal(e->nsent, first + 2);
	assert_same_bytes(e, first, first + 1);
	free(pad);
	free(s);
}

/* ================================================================ misc */

static void
test_settings_and_names(void **state)
{
	struct txn_settings set;
	static const char *const names[] = {
	    "Calling",   "Trying",   "Proceeding", "Completed",
	    "Confirmed", "Accepted", "Terminated"};

	(void)state;
	memset(&set, 0xff, sizeof(set));
	txn_settings_init(&set);
	assert_int_equal(set.t1_ms, 500);
	assert_int_equal(set.t2_ms, 4000);
	assert_int_equal(set.t4_ms, 5000);
	assert_int_equal(set.timer_b_ms, 32000);
	assert_int_equal(set.timer_c_ms, 180000);
	assert_int_equal(set.max_server, TXN_DEFAULT_MAX);
	assert_int_equal(set.max_client, TXN_DEFAULT_MAX);
	for (int i = TXN_CALLING; i <= TXN_TERMINATED; i++) {
		assert_string_equal(txn_state_str((enum txn_state)i), names[i]);
	}
	assert_string_equal(txn_state_str((enum txn_state)(TXN_TERMINATED + 1)),
	                    "?");
	txn_table_free(NULL);
}

static void
test_accessors_and_clock(void **state)
{
	struct env *e = *state;
	struct txn *st;
	int tu = 0;

	/* the clock never goes back */
	txn_table_set_now(e->tbl, 5000);
	assert_int_equal(txn_table_now(e->tbl), 5000);
	txn_table_set_now(e->tbl, 4000);
	assert_int_equal(txn_table_now(e->tbl), 5000);
	txn_table_advance(e->tbl, 100);
	assert_int_equal(txn_table_now(e->tbl), 5000);

	st = srv_new(e, REQ(.method = "INVITE"), TP_UDP);
	assert_ptr_equal(txn_tu(st), e);
	txn_set_tu(st, &tu);
	assert_ptr_equal(txn_tu(st), &tu);
	assert_int_equal(dst_port(txn_peer(st, &(struct tp_src){ 0 })),
	    5070);
	assert_int_equal(txn_peer(st, &(struct tp_src){ 0 })->proto,
	    TP_UDP);
	assert_int_equal(msg_method(txn_request(st)), MSG_INVITE);
	assert_true(txn_id(st) > 0);

	/* timers count from the clock as set, not from the last advance */
	assert_int_equal(srv_respond(st, 486), 0);
	run_to(e, 5499);
	assert_sent_at(e, 0, 5000);
	run_to(e, 5500);
	assert_sent_at(e, 0, 5000, 5500);
	run_to(e, 5000 + 32000);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->tu, &tu);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 37000);
}

static void
test_many_transactions(void **state)
{
	enum { N = 5000 }; /* several times the initial hash size */
	struct env *e = *state;
	struct txn **st = calloc(N, sizeof(*st));
	struct txn_stats s;
	char via[128];

	assert_non_null(st);
	e->count_only = true;
	for (int i = 0; i < N; i++) {
		snprintf(via, sizeof(via), UAC_VIA ";branch=z9hG4bKm%d", i);
		st[i] = srv_new(e, REQ(.method = "MESSAGE", .via = via),
		                TP_RELIABLE);
	}
	/* every retransmission finds its own transaction */
	for (int i = 0; i < N; i += 7) {
		snprintf(via, sizeof(via), UAC_VIA ";branch=z9hG4bKm%d", i);
		assert_int_equal(srv_respond(st[i], 100), 0);
		assert_true(
		    srv_absorb(e, REQ(.method = "MESSAGE", .via = via)));
		assert_int_equal(sent_status(e, e->nsent - 1), 100);
		assert_same_bytes(e, e->nsent - 2, e->nsent - 1);
		free(e->sent[e->nsent - 2].buf);
		free(e->sent[e->nsent - 1].buf);
		e->nsent -= 2;
	}
	snprintf(via, sizeof(via), UAC_VIA ";branch=z9hG4bKm%d", N);
	assert_false(srv_absorb(e, REQ(.method = "MESSAGE", .via = via)));
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_live, N);

	/* half end (Timer J is 0 over TCP), the others still match */
	for (int i = 0; i < N; i += 2) {
		assert_int_equal(srv_respond(st[i], 200), 0);
		free(e->sent[e->nsent - 1].buf);
		e->nsent--;
	}
	run_to(e, 1);
	txn_table_stats(e->tbl, &s);
	assert_int_equal(s.server_live, N / 2);
	assert_int_equal(e->ncounted, N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(via, sizeof(via), UAC_VIA ";branch=z9hG4bKm%d", i);
		assert_int_equal(
		    srv_absorb(e, REQ(.method = "MESSAGE", .via = via)),
		    i % 2 == 1);
	}
	free(st);
}

static void
test_view_during_first_send(void **state)
{
	struct env *e = *state;
	struct tp_src dst = next_hop(TP_UDP);
	struct msg *req = fwd_req(e, "OPTIONS", NULL);
	int err = 0;

	/* callbacks may call into the table: the send of a new client
	 * transaction already sees it whole */
	e->view_in_send = true;
	assert_non_null(txn_client_new(e->tbl, req, &dst, e, &err));
	assert_int_equal(e->view_n, 1);
	assert_string_equal(e->view_method, "OPTIONS");
	assert_int_equal(e->view_state, TXN_TRYING);

	/* and a failing one too, which then leaves no trace */
	e->fail_from = e->nsent;
	req = fwd_req(e, "INVITE", NULL);
	assert_null(txn_client_new(e->tbl, req, &dst, e, &err));
	assert_int_equal(err, -EIO);
	assert_int_equal(e->view_n, 2);
	assert_string_equal(e->view_method, "INVITE");
	assert_int_equal(e->view_state, TXN_CALLING);
	e->view_n = 0;
	txn_foreach(e->tbl, TXN_CLIENT, view_last, e);
	assert_int_equal(e->view_n, 1);
	assert_int_equal(e->nev, 0);
	msg_free(req);
}

static int
view_callid(void *arg, const struct txn_info *info)
{
	char *out = arg;

	snprintf(out, 256, "%s %s %d", info->method, info->callid,
	    info->status);
	return 0;
}

static void
test_finished_keeps_little(void **state)
{
	struct env *e = *state;
	struct txn *st = srv_new(e, REQ(.method = "BYE"), TP_UDP);
	struct txn *ist = srv_new(e, REQ(.method = "INVITE",
	    .via = UAC_VIA ";branch=z9hG4bKinv2"), TP_UDP);
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);
	char line[256] = "";

	/* before the final response each keeps its request */
	assert_non_null(txn_request(st));
	assert_non_null(txn_request(ct));
	assert_int_equal(srv_respond(st, 200), 0);
	assert_int_equal(srv_respond(ist, 200), 0);
	assert_true(cli_resp(e, ct, 200));
	/* after it, none does, and the live view still names them */
	assert_null(txn_request(st));
	assert_null(txn_request(ist));
	assert_null(txn_request(ct));
	txn_foreach(e->tbl, TXN_SERVER, view_callid, line);
	assert_string_equal(line, "INVITE " CALLID " 200");
	txn_foreach(e->tbl, TXN_CLIENT, view_callid, line);
	assert_string_equal(line, "INVITE " CALLID " 200");
	/* the non-INVITE server still answers a retransmission with its
	 * 200 (17.2.2), byte for byte */
	size_t n = e->nsent;
	assert_true(srv_absorb(e, REQ(.method = "BYE")));
	assert_int_equal(e->nsent, n + 1);
	assert_int_equal(sent_status(e, n), 200);
	/* the Accepted INVITE server absorbs its retransmission silently */
	assert_true(srv_absorb(e, REQ(.method = "INVITE",
	    .via = UAC_VIA ";branch=z9hG4bKinv2")));
	assert_int_equal(e->nsent, n + 1);
}

static void
test_clock_jump(void **state)
{
	struct env *e = *state;
	struct txn *ct = cli_new(e, "INVITE", TP_UDP);

	(void)ct;
	/* a clock that jumps far ahead: every due timer fires once, in one
	 * advance, and the transaction ends by Timer B */
	txn_table_advance(e->tbl, 100000);
	assert_int_equal(count_ev(e, EV_TIMEOUT), 1);
	assert_int_equal(count_ev(e, EV_TERMINATED), 1);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->at, 100000);
	assert_int_equal(nth_ev(e, EV_TIMEOUT, 0)->state, TXN_CALLING);
	/* the request, and at most one catch-up retransmission (timers due
	 * in one advance fire in no particular order) */
	assert_true(e->nsent == 1 || e->nsent == 2);
	assert_int_equal(txn_table_timers(e->tbl), 0);
}

/* A text kept as a script over another (text.c) writes out the bytes it
 * was made from: lines kept, inserted and changed, with starts and ends
 * shared over every length around a word of eight bytes. */
static void
test_text_delta_round_trip(void **state)
{
	static const char base_s[] =
	    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK77\r\n"
	    "Max-Forwards: 70\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Contact: <sip:alice@pc33.atlanta.example.com>;expires=3600\r\n"
	    "Content-Length: 0\r\n\r\n";
	static const char *const edits[] = {
	    /* a Via on top, Max-Forwards changed, a Record-Route */
	    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsipd1\r\n"
	    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK77\r\n"
	    "Max-Forwards: 69\r\n"
	    "Record-Route: <sip:192.0.2.1;lr>\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Contact: <sip:alice@pc33.atlanta.example.com>;expires=3600\r\n"
	    "Content-Length: 0\r\n\r\n",
	    /* a response: a status line, a To tag, a Contact changed in its
	     * middle only */
	    "SIP/2.0 180 Ringing\r\n"
	    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK77\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Contact: <sip:alice@pc34.atlanta.example.com>;expires=3600\r\n"
	    "Content-Length: 0\r\n\r\n",
	    /* changes at the first and the last byte of a line */
	    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK78\r\n"
	    "Max-Forwards: 70\r\n"
	    "to: Bob <sip:bob@biloxi.example.com>\r\n"
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301775\r\n"
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	    "CSeq: 314159 INVITE\r\n"
	    "Contact: <sip:alice@pc33.atlanta.example.com>;expires=3601\r\n"
	    "Content-Length: 0\r\n\r\n",
	};
	struct msg *m = parse_ok(base_s, sizeof(base_s) - 1);
	struct txn_text *base = txn_text_new(m);
	char line[160], text[2048];

	(void)state;
	assert_non_null(base);
	assert_memory_equal(base->d, base_s, sizeof(base_s) - 1);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct txn_text *x = txn_text_delta(base, edits[i],
		    (uint32_t)strlen(edits[i]));
		char *tmp;
		const char *b;

		assert_non_null(x);
		assert_ptr_equal(x->base, base);
		b = txn_text_bytes(x, &tmp);
		assert_non_null(b);
		assert_int_equal(x->len, strlen(edits[i]));
		assert_memory_equal(b, edits[i], x->len);
		free(tmp);
		txn_text_unref(x);
	}
	/* a long line changed at each offset in turn: the word compares
	 * stop at the right byte from either side */
	for (int k = 0; k < 36; k++) {
		struct txn_text *x;
		char *tmp;
		const char *b;
		int n;

		snprintf(line, sizeof(line), "%s",
		    "Contact: <sip:alice@pc33.atlanta.example.com>");
		line[9 + k] = '#';
		n = snprintf(text, sizeof(text), "%.*s%s;expires=3600\r\n%s",
		    (int)(strstr(base_s, "Contact:") - base_s), base_s, line,
		    strstr(base_s, "Content-Length:"));
		assert_true(n > 0 && (size_t)n < sizeof(text));
		x = txn_text_delta(base, text, (uint32_t)n);
		assert_non_null(x);
		b = txn_text_bytes(x, &tmp);
		assert_non_null(b);
		assert_memory_equal(b, text, (size_t)n);
		free(tmp);
		txn_text_unref(x);
	}
	/* a byte put in at every offset, a line's end included: the runs
	 * of lines copied at once stop at the line it falls in */
	for (size_t k = 0; k < sizeof(base_s); k++) {
		struct txn_text *x;
		char *tmp;
		const char *b;
		int n = snprintf(text, sizeof(text), "%.*s#%s", (int)k, base_s,
		    base_s + k);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		x = txn_text_delta(base, text, (uint32_t)n);
		assert_non_null(x);
		b = txn_text_bytes(x, &tmp);
		assert_non_null(b);
		assert_memory_equal(b, text, (size_t)n);
		free(tmp);
		txn_text_unref(x);
	}
	assert_int_equal(base->refs, 1);
	txn_text_unref(base);
	msg_free(m);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_delta_round_trip),
	    T(test_ist_retransmission_before_response),
	    T(test_ist_retransmission_after_180),
	    T(test_ist_2xx_accepted_timer_l),
	    T(test_ist_completed_timer_g_h),
	    T(test_ist_timer_g_settings),
	    T(test_ist_ack_confirmed_timer_i),
	    T(test_ist_reliable),
	    T(test_ist_response_destination),
	    T(test_ist_bad_respond),
	    T(test_nist_trying_absorbs),
	    T(test_nist_proceeding_resends_1xx),
	    T(test_nist_completed_timer_j),
	    T(test_nist_reliable_timer_j_zero),
	    T(test_ict_timer_a_b),
	    T(test_ict_timer_b_setting),
	    T(test_ict_proceeding_timer_c),
	    T(test_ict_timer_c_100_does_not_reset),
	    T(test_ict_timer_c_tu_cancels),
	    T(test_ict_timer_c_late_1xx),
	    T(test_ict_2xx_accepted_timer_m),
	    T(test_ict_completed_ack_timer_d),
	    T(test_ict_reliable),
	    T(test_nict_timer_e_f),
	    T(test_nict_proceeding_timer_e_is_t2),
	    T(test_nict_completed_timer_k),
	    T(test_nict_reliable_timer_f),
	    T(test_match_server),
	    T(test_match_rfc2543),
	    T(test_match_rfc2543_accepted),
	    T(test_match_client),
	    T(test_cancel_new),
	    T(test_forward_kept_as_edits),
	    T(test_err_server_respond),
	    T(test_err_server_retransmissions),
	    T(test_err_client_new),
	    T(test_err_client_retransmissions),
	    T(test_err_client_ack),
	    T(test_limit_server),
	    T(test_limit_client),
	    T(test_limit_reclaim_server),
	    T(test_limit_reclaim_client),
	    T(test_branch_new_unique),
	    T(test_branch_shard),
	    T(test_foreach_and_stats),
	    T(test_pending_counts),
	    T(test_large_kept_as_edits),
	    T(test_settings_and_names),
	    T(test_accessors_and_clock),
	    T(test_many_transactions),
	    T(test_view_during_first_send),
	    T(test_finished_keeps_little),
	    T(test_clock_jump),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
