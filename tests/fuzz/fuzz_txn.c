/*
 * fuzz_txn: sipd/txn as a stateful machine.  The input is a program of
 * operations run against one transaction table with a clock of the
 * target's own and a transport that only records: requests received
 * (INVITE, OPTIONS, BYE, REGISTER, CANCEL, ACK, from UDP or stream
 * sources, with or without the magic cookie, retransmitted), responses
 * received for the client transactions (provisional, 2xx, failures,
 * again and again), responses the TU sends, time passing, transport
 * errors, limits and timers changed live, and raw messages from the
 * input.  A small TU stands for core: it forwards each new request
 * through a client transaction, passes responses back, answers 408 on a
 * timeout and 503 on an error, and answers a CANCEL as RFC 3261 9.2 says.
 *
 * Checks: the table's live counts are always the transactions the TU was
 * told of and not yet told ended; the live view lists as many, in valid
 * states; no callback names a transaction already ended; and once the TU
 * has answered everything, every transaction ends by its own timers
 * within fifteen minutes and no timer stays armed.  The sanitizers and
 * LeakSanitizer see the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sipd/txn/txn.h"

#define FZ_MAX_TXN 64
#define FZ_MAX_OPS 512
#define FZ_BUF 8192
#define FZ_SRCS 4
#define FZ_DRAIN_MS (15u * 60 * 1000)

struct fz {
	struct txn_table *t;
	uint64_t now;
	struct txn *srv[FZ_MAX_TXN];
	size_t nsrv;
	struct txn *cli[FZ_MAX_TXN];
	size_t ncli;
	struct tp_src src[FZ_SRCS];
	struct tp_src dst[2];
	char last[FZ_BUF]; /* the last request delivered, for a resend */
	size_t last_len;
	int last_src;
	unsigned depth; /* callbacks nested */
};

struct rd {
	const uint8_t *p;
	size_t n;
};

static unsigned
rd_u8(struct rd *r)
{
	if (r->n == 0) {
		return 0;
	}
	r->n--;
	return *r->p++;
}

static bool
fz_has(struct txn *const *v, size_t n, const struct txn *x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x) {
			return true;
		}
	}
	return false;
}

static void
fz_drop(struct txn **v, size_t *n, const struct txn *x)
{
	for (size_t i = 0; i < *n; i++) {
		if (v[i] == x) {
			v[i] = v[--*n];
			return;
		}
	}
}

static bool
fz_live(const struct fz *f, const struct txn *x)
{
	return fz_has(f->srv, f->nsrv, x) || fz_has(f->cli, f->ncli, x);
}

static int
fz_send(void *arg, const struct tp_src *dst, const char *buf, size_t len)
{
	(void)arg;
	(void)dst;
	fuzz_touch(buf, len);
	return 0;
}

/* The TU answers server transaction st with status (when it still can). */
static void
fz_answer(struct fz *f, struct txn *st, int status)
{
	struct msg *req, *resp;

	if (st == NULL || !fz_has(f->srv, f->nsrv, st)) {
		return;
	}
	req = txn_request(st);
	if (req == NULL) {
		return;
	}
	resp = msg_response(req, status, NULL, SV_LIT("fz"));
	if (resp == NULL) {
		return;
	}
	(void)txn_server_respond(st, resp);
	msg_free(resp);
}

static void
fz_response(void *arg, struct txn *ct, struct msg *resp)
{
	struct fz *f = arg;
	int status = msg_status(resp);

	FUZZ_CHECK(fz_has(f->cli, f->ncli, ct));
	FUZZ_CHECK(status >= 100 && status <= 699);
	/* 100 is hop by hop (RFC 3261 16.7 step 3) */
	if (status > 100) {
		fz_answer(f, txn_tu(ct), status);
	}
}

static void
fz_timeout(void *arg, struct txn *x)
{
	struct fz *f = arg;
	struct msg *cancel;
	struct txn *cx;

	FUZZ_CHECK(fz_live(f, x));
	if (txn_kind(x) != TXN_CLIENT) {
		return;
	}
	if (txn_state(x) == TXN_PROCEEDING && txn_method(x) == MSG_INVITE) {
		/* Timer C: RFC 3261 16.8, the proxy cancels */
		cancel = txn_client_cancel_new(x);
		if (cancel == NULL) {
			return;
		}
		if (f->ncli >= FZ_MAX_TXN) {
			msg_free(cancel);
			return;
		}
		cx = txn_client_new(f->t, cancel,
		    txn_peer(x, &(struct tp_src){ 0 }), NULL, NULL);
		if (cx == NULL) {
			msg_free(cancel);
			return;
		}
		f->cli[f->ncli++] = cx;
		return;
	}
	/* RFC 3261 16.7 step 6: a timeout is a 408 */
	fz_answer(f, txn_tu(x), 408);
}

static void
fz_error(void *arg, struct txn *x, int err)
{
	struct fz *f = arg;

	FUZZ_CHECK(fz_live(f, x));
	FUZZ_CHECK(err < 0);
	if (txn_kind(x) == TXN_CLIENT) {
		fz_answer(f, txn_tu(x), 503);
	}
}

static void
fz_terminated(void *arg, struct txn *x)
{
	struct fz *f = arg;

	FUZZ_CHECK(fz_live(f, x));
	if (txn_kind(x) == TXN_SERVER) {
		fz_drop(f->srv, &f->nsrv, x);
		/* the clients it waited for forget it */
		for (size_t i = 0; i < f->ncli; i++) {
			if (txn_tu(f->cli[i]) == x) {
				txn_set_tu(f->cli[i], NULL);
			}
		}
	} else {
		fz_drop(f->cli, &f->ncli, x);
	}
}

static const struct txn_ops fz_ops = {
	.send = fz_send,
	.response = fz_response,
	.timeout = fz_timeout,
	.error = fz_error,
	.terminated = fz_terminated,
};

/* Forward req (borrowed) for server transaction st on a new branch. */
static void
fz_forward(struct fz *f, struct msg *req, struct txn *st, unsigned which)
{
	char branch[TXN_BRANCH_MAX], via[128];
	struct msg *fwd;
	struct txn *ct;
	size_t blen;

	if (f->ncli >= FZ_MAX_TXN) {
		return;
	}
	fwd = msg_compact(req);
	if (fwd == NULL) {
		return;
	}
	blen = txn_branch_new(f->t, branch);
	snprintf(via, sizeof(via), "SIP/2.0/%s 192.0.2.100;branch=%s",
	    f->dst[which & 1].proto == TP_UDP ? "UDP" : "TCP", branch);
	if (msg_via_push(fwd, (struct sv){ via, strlen(via) }) < 0) {
		msg_free(fwd);
		return;
	}
	/* forwarded as a proxy does: kept as a script over st's request */
	/* the branch given, as a proxy that just wrote it, or read back */
	ct = txn_client_forward(f->t, st, fwd,
	    (struct sv){ branch, which & 2 ? blen : 0 }, &f->dst[which & 1], st,
	    NULL);
	if (ct == NULL) {
		msg_free(fwd);
		return;
	}
	f->cli[f->ncli++] = ct;
}

/* A request received from source s, as core would take it. */
static void
fz_request(struct fz *f, const char *buf, size_t len, int s, unsigned how)
{
	const struct tp_src *src = &f->src[s % FZ_SRCS];
	struct msg_err err;
	struct msg *req;
	struct txn *st, *inv;

	if (len <= sizeof(f->last)) {
		memcpy(f->last, buf, len);
		f->last_len = len;
		f->last_src = s;
	}
	req = msg_parse(buf, len, NULL, &err);
	if (req == NULL) {
		return;
	}
	if (!msg_is_request(req) || msg_check(req, &err) != 0) {
		msg_free(req);
		return;
	}
	if (txn_server_absorb(f->t, req, src)) {
		msg_free(req);
		return;
	}
	if (msg_method(req) == MSG_ACK) {
		msg_free(req); /* a 2xx ACK: the TU relays it */
		return;
	}
	inv = NULL;
	if (msg_method(req) == MSG_CANCEL) {
		inv = txn_server_find_invite(f->t, req, src);
		FUZZ_CHECK(inv == NULL || fz_has(f->srv, f->nsrv, inv));
	}
	if (f->nsrv >= FZ_MAX_TXN) {
		msg_free(req);
		return;
	}
	/* the transaction keeps req's bytes; req stays ours */
	st = txn_server_new(f->t, req, src, NULL);
	msg_free(req);
	if (st == NULL) {
		return; /* at the limit: core answers 503 */
	}
	f->srv[f->nsrv++] = st;
	if (msg_method(txn_request(st)) == MSG_CANCEL) {
		/* RFC 3261 9.2: 200 to the CANCEL, 487 to the INVITE */
		fz_answer(f, st, inv != NULL ? 200 : 481);
		if (inv != NULL && (how & 1) != 0) {
			fz_answer(f, inv, 487);
		}
		return;
	}
	if ((how & 6) == 6) {
		fz_answer(f, st, 100 + (int)(how >> 3) * 4);
		return;
	}
	fz_forward(f, txn_request(st), st, how >> 1);
}

static const char *const fz_methods[] = { "INVITE", "OPTIONS", "BYE",
	"REGISTER", "CANCEL", "ACK", "INFO", "INVITE" };

/* A request from a template: the bytes say method, call, branch. */
static void
fz_op_request(struct fz *f, struct rd *r)
{
	char buf[1024], branch[32], totag[24];
	unsigned b0 = rd_u8(r), b1 = rd_u8(r), b2 = rd_u8(r);
	const char *method = fz_methods[b0 & 7];
	unsigned call = (b0 >> 3) & 3, br = b1 & 7, cseq = 1 + ((b1 >> 3) & 3);
	int s = (int)(b2 & 3), n;
	bool stream = (s & 2) != 0;

	switch ((b1 >> 5) & 3) {
	case 0:
	case 1:
		snprintf(branch, sizeof(branch), ";branch=z9hG4bKfz%u", br);
		break;
	case 2:
		snprintf(branch, sizeof(branch), ";branch=old%u", br);
		break;
	default:
		branch[0] = '\0'; /* RFC 2543 */
	}
	if ((b2 & 4) != 0) {
		snprintf(totag, sizeof(totag), ";tag=t%u", (b2 >> 3) & 3);
	} else {
		totag[0] = '\0';
	}
	n = snprintf(buf, sizeof(buf),
	    "%s sip:bob@sipd.invalid SIP/2.0\r\n"
	    "Via: SIP/2.0/%s 192.0.2.%d:5060%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@example.com>;tag=f%u\r\n"
	    "To: <sip:bob@example.com>%s\r\n"
	    "Call-ID: c%u@fz\r\n"
	    "CSeq: %u %s\r\n"
	    "Content-Length: 0\r\n\r\n",
	    method, stream ? "TCP" : "UDP", s + 1, branch, call, totag, call,
	    (b1 & 0x80) ? cseq + 1 : cseq,
	    strcmp(method, "ACK") == 0 && (b2 & 0x20) ? "INVITE" : method);
	fz_request(f, buf, (size_t)n, s, b2 >> 5);
}

/* A response to client transaction k as its next hop sends it. */
static void
fz_op_response(struct fz *f, struct rd *r)
{
	static const int status[] = { 100, 180, 183, 200, 202, 300, 404, 408,
		486, 487, 500, 503, 600, 603, 199, 299 };
	unsigned k = rd_u8(r), b = rd_u8(r);
	char tag[8], buf[FZ_BUF];
	struct msg *req, *resp, *in;
	struct msg_err err;
	struct txn *ct;
	int len;

	if (f->ncli == 0) {
		return;
	}
	ct = f->cli[k % f->ncli];
	req = txn_request(ct);
	if (req == NULL) {
		return;
	}
	snprintf(tag, sizeof(tag), "d%u", (b >> 4) & 3);
	resp = msg_response(req, status[b & 15], NULL,
	    (struct sv){ tag, strlen(tag) });
	if (resp == NULL) {
		return;
	}
	len = msg_write(resp, buf, sizeof(buf));
	msg_free(resp);
	if (len < 0) {
		return;
	}
	/* once or twice: a retransmission */
	for (unsigned i = 0; i < 1 + ((b >> 6) & 1); i++) {
		in = msg_parse(buf, (size_t)len, NULL, &err);
		if (in == NULL) {
			return;
		}
		if (msg_check(in, &err) == 0) {
			(void)txn_client_absorb(f->t, in,
			    txn_peer(ct, &(struct tp_src){ 0 }));
		}
		msg_free(in);
		if (f->ncli == 0) {
			break;
		}
	}
}

/*
 * Raw bytes from the input: a request, or a response where "@B@" is the
 * branch of a client transaction.
 */
static void
fz_op_raw(struct fz *f, struct rd *r)
{
	size_t len = rd_u8(r) * 4 + rd_u8(r) % 4, o = 0, i;
	unsigned k = rd_u8(r);
	char buf[FZ_BUF], branch[TXN_BRANCH_MAX + 8] = "z9hG4bKnone";
	struct msg_err err;
	struct msg *m;

	if (len > r->n) {
		len = r->n;
	}
	if (f->ncli > 0) {
		struct msg *req = txn_request(f->cli[k % f->ncli]);
		const struct msg_via *v = req ? msg_via_top(req) : NULL;

		if (v != NULL) {
			struct sv b = msg_sv(req, v->branch);

			if (b.len < sizeof(branch)) {
				memcpy(branch, b.p, b.len);
				branch[b.len] = '\0';
			}
		}
	}
	for (i = 0; i < len && o + sizeof(branch) < sizeof(buf);) {
		if (i + 3 <= len && memcmp(r->p + i, "@B@", 3) == 0) {
			memcpy(buf + o, branch, strlen(branch));
			o += strlen(branch);
			i += 3;
		} else {
			buf[o++] = (char)r->p[i++];
		}
	}
	r->p += len;
	r->n -= len;
	m = msg_parse(buf, o, NULL, &err);
	if (m == NULL) {
		return;
	}
	if (msg_is_request(m)) {
		msg_free(m);
		fz_request(f, buf, o, (int)(k >> 6), k >> 3);
		return;
	}
	if (msg_check(m, &err) == 0) {
		(void)txn_client_absorb(f->t, m, &f->dst[k & 1]);
	}
	msg_free(m);
}

static void
fz_advance(struct fz *f, uint64_t ms)
{
	f->now += ms;
	txn_table_advance(f->t, f->now);
}

static int
fz_count(void *arg, const struct txn_info *info)
{
	size_t *n = arg;

	FUZZ_CHECK(info->state <= TXN_TERMINATED);
	FUZZ_CHECK(info->state != TXN_TERMINATED);
	FUZZ_CHECK(memchr(info->method, '\0', sizeof(info->method)) != NULL);
	FUZZ_CHECK(memchr(info->callid, '\0', sizeof(info->callid)) != NULL);
	(*n)++;
	return 0;
}

/* The table holds exactly what the TU was told of. */
static void
fz_consistent(struct fz *f)
{
	struct txn_stats st;
	size_t ns = 0, nc = 0;

	txn_table_stats(f->t, &st);
	FUZZ_CHECK(st.server_live == f->nsrv);
	FUZZ_CHECK(st.client_live == f->ncli);
	txn_foreach(f->t, TXN_SERVER, fz_count, &ns);
	txn_foreach(f->t, TXN_CLIENT, fz_count, &nc);
	FUZZ_CHECK(ns == f->nsrv);
	FUZZ_CHECK(nc == f->ncli);
}

static void
fz_init_src(struct tp_src *s, uint32_t ip, uint16_t port, enum tp_proto p,
    uint64_t conn)
{
	struct sockaddr_in *a = (struct sockaddr_in *)(void *)&s->addr;

	memset(s, 0, sizeof(*s));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(ip);
	a->sin_port = htons(port);
	s->addrlen = sizeof(*a);
	s->proto = p;
	s->conn_id = conn;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t scale[] = { 1, 8, 100, 1000 };
	struct txn_settings set;
	struct rd r = { data, size };
	struct fz *f;
	unsigned ops = 0;

	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return 0;
	}
	txn_settings_init(&set);
	set.max_server = 32;
	set.max_client = 32;
	fz_init_src(&f->src[0], 0xc0000201, 5060, TP_UDP, 0);
	fz_init_src(&f->src[1], 0xc0000202, 5062, TP_UDP, 0);
	fz_init_src(&f->src[2], 0xc0000203, 40001, TP_TCP, 1);
	fz_init_src(&f->src[3], 0xc0000204, 40002, TP_TCP, 2);
	fz_init_src(&f->dst[0], 0xc0000204, 5060, TP_UDP, 0);
	fz_init_src(&f->dst[1], 0xc0000205, 5060, TP_TCP, 3);
	f->now = 1000;
	f->t = txn_table_new(&set, &fz_ops, f, 1);
	if (f->t == NULL) {
		free(f);
		return 0;
	}
	txn_table_set_now(f->t, f->now);

	while (r.n > 0 && ops++ < FZ_MAX_OPS) {
		unsigned op = rd_u8(&r), b;

		switch (op & 15) {
		case 0:
		case 1:
		case 2:
			fz_op_request(f, &r);
			break;
		case 3: /* the last request again */
			if (f->last_len > 0) {
				char copy[FZ_BUF];

				memcpy(copy, f->last, f->last_len);
				fz_request(f, copy, f->last_len, f->last_src,
				    op >> 4);
			}
			break;
		case 4:
		case 5:
		case 6:
			fz_op_response(f, &r);
			break;
		case 7: /* the TU answers a server transaction */
			b = rd_u8(&r);
			if (f->nsrv > 0) {
				static const int st[] = { 100, 180, 200, 486 };

				fz_answer(f, f->srv[b % f->nsrv],
				    st[(b >> 6) & 3]);
			}
			break;
		case 8:
		case 9:
			fz_advance(f, rd_u8(&r) * scale[(op >> 4) & 3]);
			break;
		case 10: /* the transport lost a peer */
			b = rd_u8(&r);
			txn_transport_error(f->t, (b & 4) ? &f->dst[b & 1]
							  : &f->src[b & 3],
			    -ECONNRESET);
			break;
		case 11: /* the TU cancels an INVITE it forwarded */
			b = rd_u8(&r);
			if (f->ncli > 0 && f->ncli < FZ_MAX_TXN) {
				struct txn *x = f->cli[b % f->ncli], *cx;
				struct msg *c = txn_client_cancel_new(x);

				if (c != NULL) {
					struct tp_src d;

					cx = txn_client_new(f->t, c,
					    txn_peer(x, &d), NULL, NULL);
					if (cx != NULL) {
						f->cli[f->ncli++] = cx;
					} else {
						msg_free(c);
					}
				}
			}
			break;
		case 12: /* new limits and timers, live */
			b = rd_u8(&r);
			set.max_server = 1 + (b & 31);
			set.max_client = 1 + ((b >> 3) & 31);
			set.t1_ms = (b & 0x80) ? 50 : TXN_DEFAULT_T1_MS;
			set.timer_b_ms = 64 * set.t1_ms;
			set.timer_c_ms = (b & 0x40) ? 1000
						    : TXN_DEFAULT_TIMER_C_MS;
			txn_table_configure(f->t, &set);
			break;
		case 13:
			fz_op_raw(f, &r);
			break;
		default:
			fz_consistent(f);
			break;
		}
		fz_consistent(f);
	}

	/* The TU answers what waits; every transaction then ends alone. */
	while (f->nsrv > 0) {
		size_t before = f->nsrv;

		for (size_t i = 0; i < f->nsrv; i++) {
			if (txn_status(f->srv[i]) < 200) {
				fz_answer(f, f->srv[i], 500);
			}
		}
		fz_advance(f, 1000);
		if (f->nsrv == before && f->now > FZ_DRAIN_MS * 2) {
			break;
		}
		if (f->now > FZ_DRAIN_MS * 4) {
			break;
		}
	}
	for (uint64_t end = f->now + FZ_DRAIN_MS; f->now < end;) {
		fz_advance(f, 1000);
	}
	fz_consistent(f);
	FUZZ_CHECK(f->nsrv == 0);
	FUZZ_CHECK(f->ncli == 0);
	FUZZ_CHECK(txn_table_timers(f->t) == 0);
	txn_table_free(f->t);
	free(f);
	return 0;
}
