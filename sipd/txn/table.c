/*
 * The transaction table of one worker: a hash of transactions keyed as
 * RFC 3261 17.1.3 and 17.2.3 say, a list per kind for the live view, the
 * timing wheel, branch generation, limits and counters.  Transactions are
 * freed only when control leaves the table, so a TU callback never sees
 * one vanish under it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sipd/txn/txn_int.h"

#define TXN_BUCKETS_MIN 1024

static const char *const state_names[] = {
	[TXN_CALLING] = "Calling",
	[TXN_TRYING] = "Trying",
	[TXN_PROCEEDING] = "Proceeding",
	[TXN_COMPLETED] = "Completed",
	[TXN_CONFIRMED] = "Confirmed",
	[TXN_ACCEPTED] = "Accepted",
	[TXN_TERMINATED] = "Terminated",
};

const char *
txn_state_str(enum txn_state s)
{
	if ((size_t)s >= sizeof(state_names) / sizeof(*state_names)) {
		return "?";
	}
	return state_names[s];
}

void
txn_settings_init(struct txn_settings *s)
{
	s->t1_ms = TXN_DEFAULT_T1_MS;
	s->t2_ms = TXN_DEFAULT_T2_MS;
	s->t4_ms = TXN_DEFAULT_T4_MS;
	s->timer_b_ms = TXN_DEFAULT_TIMER_B_MS;
	s->timer_c_ms = TXN_DEFAULT_TIMER_C_MS;
	s->max_server = TXN_DEFAULT_MAX;
	s->max_client = TXN_DEFAULT_MAX;
}

uint64_t
txn_hash(const struct txn_table *t, const char *key, size_t len)
{
	/* FNV-1a over the key from a secret start, then mixed: the key holds
	 * peer-chosen bytes, so the bucket must not be predictable */
	return msg_mix64(msg_fnv1a(t->seed, key, len));
}

/* The start of every branch of shard: RFC 3261 8.1.1.7's magic cookie,
 * then the shard first, so responses find their worker. */
static void
branch_prefix(struct txn_table *t)
{
	char *p = t->bprefix;
	int shift = 28;

	memcpy(p, "z9hG4bKs", 8);
	p += 8;
	while (shift > 0 && ((t->shard >> shift) & 0xf) == 0) {
		shift -= 4;
	}
	for (; shift >= 0; shift -= 4) {
		*p++ = "0123456789abcdef"[(t->shard >> shift) & 0xf];
	}
	*p++ = '.';
	t->bprefix_len = (uint8_t)(p - t->bprefix);
}

struct txn_table *
txn_table_new(const struct txn_settings *s, const struct txn_ops *ops,
    void *arg, unsigned shard)
{
	struct txn_table *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		return NULL;
	}
	t->nbuckets = TXN_BUCKETS_MIN;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return NULL;
	}
	t->set = *s;
	t->ops = *ops;
	t->arg = arg;
	t->shard = shard;
	branch_prefix(t);
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		t->seed = msg_mix64((uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)t);
	}
	t->branch_ctr = msg_mix64(t->seed ^ 0x5bd1e995);
	t->next_id = 1;
	wheel_init(&t->wheel, 0);
	return t;
}

static void
txn_release(struct txn *x)
{
	msg_free(x->req);
	txn_text_unref(x->rq);
	txn_text_unref(x->rs);
	free(x);
}

void
txn_table_free(struct txn_table *t)
{
	if (t == NULL) {
		return;
	}
	for (int k = 0; k < 2; k++) {
		struct txn *x = t->lists[k].head;
		while (x != NULL) {
			struct txn *n = x->all.next;
			/* the TU frees what it keeps for x */
			if (t->ops.terminated != NULL) {
				t->ops.terminated(t->arg, x);
			}
			txn_release(x);
			x = n;
		}
	}
	while (t->dead != NULL) {
		struct txn *x = t->dead;
		t->dead = x->hnext;
		txn_release(x);
	}
	if (t->group != NULL && t->group[0] == t) {
		free(t->group);
	}
	free(t->buckets);
	free(t);
}

void
txn_table_configure(struct txn_table *t, const struct txn_settings *s)
{
	t->set = *s;
}

void
txn_table_set_now(struct txn_table *t, uint64_t now_ms)
{
	if (now_ms > t->now) {
		t->now = now_ms;
	}
}

uint64_t
txn_table_now(const struct txn_table *t)
{
	return t->now;
}

size_t
txn_table_timers(const struct txn_table *t)
{
	return t->wheel.count;
}

uint64_t
txn_table_next_due(const struct txn_table *t, uint64_t limit)
{
	return wheel_next(&t->wheel, limit);
}

static void
fire(void *arg, struct txn_timer *tm)
{
	struct txn *x;

	(void)arg;
	if (tm->which == TM_RETX) {
		x = (struct txn *)(void *)((char *)tm - offsetof(struct txn, retx));
	} else {
		x = (struct txn *)(void *)((char *)tm - offsetof(struct txn, end));
	}
	if (x->dead) {
		return;
	}
	if (x->kind == TXN_SERVER) {
		txn_server_fire(x, (enum txn_timer_id)tm->which);
	} else {
		txn_client_fire(x, (enum txn_timer_id)tm->which);
	}
}

void
txn_table_advance(struct txn_table *t, uint64_t now_ms)
{
	txn_table_set_now(t, now_ms);
	txn_enter(t);
	wheel_advance(&t->wheel, t->now, fire, t);
	txn_leave(t);
}

size_t
txn_branch_new(struct txn_table *t, char *buf)
{
	/* two hex digits a byte */
	static const char hex2[256][2] = {
#define H2(n) { "0123456789abcdef"[(n) >> 4], "0123456789abcdef"[(n) & 15] }
#define H2x4(n) H2(n), H2((n) + 1), H2((n) + 2), H2((n) + 3)
#define H2x16(n) H2x4(n), H2x4((n) + 4), H2x4((n) + 8), H2x4((n) + 12)
		H2x16(0), H2x16(16), H2x16(32), H2x16(48), H2x16(64),
		H2x16(80), H2x16(96), H2x16(112), H2x16(128), H2x16(144),
		H2x16(160), H2x16(176), H2x16(192), H2x16(208), H2x16(224),
		H2x16(240),
#undef H2x16
#undef H2x4
#undef H2
	};
	/* RFC 3261 8.1.1.7: after the prefix, a part unique in space and
	 * time */
	uint64_t v = msg_mix64(++t->branch_ctr ^ t->seed);
	char *p = buf + t->bprefix_len;

	memcpy(buf, t->bprefix, t->bprefix_len);
	for (int i = 56; i >= 0; i -= 8) {
		memcpy(p, hex2[(v >> i) & 0xff], 2);
		p += 2;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

int
txn_branch_shard(struct sv b)
{
	int shard = 0;
	size_t i = 8;

	if (b.len < 10 || memcmp(b.p, "z9hG4bKs", 8) != 0) {
		return -1;
	}
	for (; i < b.len && i < 12 && b.p[i] != '.'; i++) {
		int d = (b.p[i] >= '0' && b.p[i] <= '9') ? b.p[i] - '0'
		    : (b.p[i] >= 'a' && b.p[i] <= 'f') ? b.p[i] - 'a' + 10
							: -1;
		if (d < 0) {
			return -1;
		}
		shard = shard * 16 + d;
	}
	if (i == 8 || i >= b.len || b.p[i] != '.') {
		return -1;
	}
	return shard;
}

struct txn *
txn_lookup(struct txn_table *t, const char *key, size_t len)
{
	return txn_lookup_hash(t, key, len, txn_hash(t, key, len));
}

struct txn *
txn_lookup_hash(struct txn_table *t, const char *key, size_t len,
    uint64_t h)
{
	for (struct txn *x = t->buckets[h & (t->nbuckets - 1)]; x != NULL;
	    x = x->hnext) {
		if (x->hash == (uint32_t)h && x->keylen == len &&
		    memcmp(x->key, key, len) == 0 && !x->dead) {
			return x;
		}
	}
	return NULL;
}

static void
grow(struct txn_table *t)
{
	size_t n = t->nbuckets * 2;
	struct txn **b = calloc(n, sizeof(*b));

	if (b == NULL) {
		return; /* longer chains, still correct */
	}
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct txn *x = t->buckets[i];
		while (x != NULL) {
			struct txn *next = x->hnext;
			x->hnext = b[x->hash & (n - 1)];
			b[x->hash & (n - 1)] = x;
			x = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* A transaction is on two lists, each through its own struct txn_link
 * at offset off: every one of its kind (all), and the waiting ones. */
static struct txn_link *
link_at(struct txn *x, size_t off)
{
	return (struct txn_link *)(void *)((char *)x + off);
}

static void
list_append(struct txn_list *l, struct txn *x, size_t off)
{
	link_at(x, off)->prev = l->tail;
	link_at(x, off)->next = NULL;
	if (l->tail != NULL) {
		link_at(l->tail, off)->next = x;
	} else {
		l->head = x;
	}
	l->tail = x;
	l->count++;
}

static void
list_remove(struct txn_list *l, struct txn *x, size_t off)
{
	struct txn_link *k = link_at(x, off);

	if (k->prev != NULL) {
		link_at(k->prev, off)->next = k->next;
	} else {
		l->head = k->next;
	}
	if (k->next != NULL) {
		link_at(k->next, off)->prev = k->prev;
	} else {
		l->tail = k->prev;
	}
	l->count--;
}

/* Live transactions of kind in the whole group (every worker's table),
 * or of those, the ones that only wait. */
static uint32_t
group_live(const struct txn_table *t, enum txn_kind kind, bool waiting)
{
	uint32_t sum = 0;

	if (t->group == NULL) {
		return atomic_load(waiting ? &t->nwaiting[kind] : &t->live[kind]);
	}
	for (unsigned i = 0; i < t->ngroup; i++) {
		const struct txn_table *g = t->group[i];

		sum += atomic_load(waiting ? &g->nwaiting[kind] : &g->live[kind]);
	}
	return sum;
}

int
txn_table_group(struct txn_table **all, unsigned n)
{
	struct txn_table **g = calloc(n, sizeof(*g));

	if (g == NULL) {
		return -ENOMEM;
	}
	memcpy(g, all, n * sizeof(*g));
	for (unsigned i = 0; i < n; i++) {
		all[i]->group = g;
		all[i]->ngroup = n;
	}
	/* the first table owns the shared array */
	return 0;
}

struct txn *
txn_alloc(struct txn_table *t, enum txn_kind kind, const char *key,
    size_t len, uint64_t hash, struct msg *req)
{
	struct sv meth = msg_method_name(req), cid = msg_callid(req);
	struct txn_list *l = &t->lists[kind];
	uint32_t max = kind == TXN_SERVER ? t->set.max_server
					  : t->set.max_client;
	uint32_t live = group_live(t, kind, false);
	struct txn *x;

	/* the limit bounds memory: this table's transactions that only
	 * wait give way first.  Another worker's make room when that worker
	 * next reaches the limit, so a request is refused only when those
	 * at work fill it. */
	while (live >= max && t->waiting[kind].head != NULL) {
		t->stats.reclaimed++;
		txn_terminate(t->waiting[kind].head);
		live = group_live(t, kind, false);
	}
	if (live >= max) {
		uint32_t waiting = group_live(t, kind, true);

		/* read apart while other workers run: waiting may pass
		 * live */
		if (live > waiting && live - waiting >= max) {
			t->stats.refused++;
			errno = EBUSY;
			return NULL;
		}
	}
	if (msg_method(req) != MSG_METHOD_OTHER) {
		meth.len = 0; /* named by x->method */
	}
	if (meth.len >= sizeof(((struct txn_info *)0)->method)) {
		meth.len = sizeof(((struct txn_info *)0)->method) - 1;
	}
	if (cid.len >= sizeof(((struct txn_info *)0)->callid)) {
		cid.len = sizeof(((struct txn_info *)0)->callid) - 1;
	}
	/* the key and the labels are written below: only the structure
	 * starts at zero */
	x = malloc(sizeof(*x) + len + meth.len + cid.len);
	if (x == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(x, 0, sizeof(*x));
	if (t->nlive >= t->nbuckets) {
		grow(t);
	}
	x->tbl = t;
	x->kind = (uint8_t)kind;
	x->id = t->next_id++;
	x->created_ms = t->now;
	x->retx.which = TM_RETX;
	x->end.which = TM_END;
	x->keylen = (uint16_t)len;
	memcpy(x->key, key, len);
	x->mlen = (uint8_t)meth.len;
	x->clen = (uint8_t)cid.len;
	if (meth.len > 0) {
		memcpy(x->key + len, meth.p, meth.len);
	}
	if (cid.len > 0) {
		memcpy(x->key + len + meth.len, cid.p, cid.len);
	}
	x->hash = (uint32_t)hash;
	x->hnext = t->buckets[x->hash & (t->nbuckets - 1)];
	t->buckets[x->hash & (t->nbuckets - 1)] = x;
	t->nlive++;
	list_append(l, x, offsetof(struct txn, all));
	atomic_fetch_add(&t->live[kind], 1);
	/* calloc made it Calling: pending until its final response */
	t->pending[kind]++;
	if (kind == TXN_SERVER) {
		t->stats.server_created++;
	} else {
		t->stats.client_created++;
	}
	return x;
}

void
txn_wait(struct txn *x)
{
	struct txn_table *t = x->tbl;
	struct txn_list *w = &t->waiting[x->kind];

	if (x->waiting || x->dead) {
		return;
	}
	x->waiting = true;
	list_append(w, x, offsetof(struct txn, wait));
	atomic_fetch_add(&t->nwaiting[x->kind], 1);
}

static void
unlink_waiting(struct txn_table *t, struct txn *x)
{
	struct txn_list *w = &t->waiting[x->kind];

	if (!x->waiting) {
		return;
	}
	x->waiting = false;
	list_remove(w, x, offsetof(struct txn, wait));
	atomic_fetch_sub(&t->nwaiting[x->kind], 1);
}

static void
unlink_txn(struct txn_table *t, struct txn *x)
{
	struct txn **pp = &t->buckets[x->hash & (t->nbuckets - 1)];
	struct txn_list *l = &t->lists[x->kind];

	unlink_waiting(t, x);

	while (*pp != NULL && *pp != x) {
		pp = &(*pp)->hnext;
	}
	if (*pp == x) {
		*pp = x->hnext;
	}
	t->nlive--;
	list_remove(l, x, offsetof(struct txn, all));
	atomic_fetch_sub(&t->live[x->kind], 1);
}

static void
retire(struct txn *x, bool tell)
{
	struct txn_table *t = x->tbl;

	if (x->dead) {
		return;
	}
	x->dead = true;
	txn_set_state(x, TXN_TERMINATED);
	wheel_cancel(&t->wheel, &x->retx);
	wheel_cancel(&t->wheel, &x->end);
	unlink_txn(t, x);
	if (tell && t->ops.terminated != NULL) {
		t->ops.terminated(t->arg, x);
	}
	x->hnext = t->dead;
	t->dead = x;
	if (t->depth == 0) {
		txn_enter(t);
		txn_leave(t);
	}
}

void
txn_terminate(struct txn *x)
{
	retire(x, true);
}

void
txn_discard(struct txn *x)
{
	retire(x, false);
}

uint32_t
txn_table_pending(const struct txn_table *t, enum txn_kind kind)
{
	return t->pending[kind];
}

void
txn_enter(struct txn_table *t)
{
	t->depth++;
}

void
txn_leave(struct txn_table *t)
{
	if (--t->depth > 0) {
		return;
	}
	/* the parses made for the event just handled: first, as a dead
	 * transaction below may be one of them */
	for (unsigned i = 0; i < t->ntmp; i++) {
		struct txn *x = t->tmp[i];

		if (x->rq != NULL) {
			msg_free(x->req);
			x->req = NULL;
		}
	}
	t->ntmp = 0;
	while (t->dead != NULL) {
		struct txn *x = t->dead;
		t->dead = x->hnext;
		txn_release(x);
	}
}

void
txn_arm(struct txn *x, struct txn_timer *tm, uint32_t ms)
{
	wheel_arm(&x->tbl->wheel, tm, x->tbl->now + ms);
}

int
txn_send(struct txn *x, const struct tp_src *dst, const char *buf,
    size_t len)
{
	return x->tbl->ops.send(x->tbl->arg, dst, buf, len);
}

int
txn_send_text(struct txn *x, const struct tp_src *dst,
    const struct txn_text *text)
{
	char *tmp;
	const char *b = txn_text_bytes(text, &tmp);
	int rc;

	if (b == NULL) {
		return -ENOMEM;
	}
	rc = txn_send(x, dst, b, text->len);
	free(tmp);
	return rc;
}

enum txn_kind
txn_kind(const struct txn *x)
{
	return (enum txn_kind)x->kind;
}

enum txn_state
txn_state(const struct txn *x)
{
	return (enum txn_state)x->state;
}

struct msg *
txn_request(const struct txn *cx)
{
	struct txn *x = (struct txn *)(uintptr_t)cx;
	struct txn_table *t = x->tbl;
	/* the bytes met the limits once, or were built here: no others */
	struct msg_limits lim = { .max_size = x->rq ? x->rq->len : 0,
		.max_headers = UINT32_MAX,
		.max_line = x->rq ? x->rq->len : 0 };
	const char *b;
	char *tmp;

	/* a transaction keeps its request as bytes: parse on demand, for
	 * the current entry into the table (a TU callback), else until the
	 * transaction ends */
	if (x->req == NULL && x->rq != NULL &&
	    (b = txn_text_bytes(x->rq, &tmp)) != NULL) {
		x->req = msg_parse(b, x->rq->len, &lim, NULL);
		free(tmp);
		if (x->req != NULL && t->depth > 0 && t->ntmp < TXN_TMP_MAX) {
			t->tmp[t->ntmp++] = x;
		}
	}
	return x->req;
}

enum msg_method
txn_method(const struct txn *x)
{
	return (enum msg_method)x->method;
}

int
txn_addr_set(struct txn_addr *a, const struct tp_src *s)
{
	if (s->addrlen > sizeof(a->addr)) {
		return -EAFNOSUPPORT;
	}
	memset(&a->addr, 0, sizeof(a->addr));
	memcpy(&a->addr, &s->addr, s->addrlen);
	a->addrlen = (uint8_t)s->addrlen;
	a->proto = (uint8_t)s->proto;
	a->behind = s->behind;
	a->listener = s->listener;
	a->conn_id = s->conn_id;
	a->host = s->host;
	return 0;
}

struct tp_src *
txn_addr_get(const struct txn_addr *a, struct tp_src *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(&out->addr, &a->addr, a->addrlen);
	out->addrlen = a->addrlen;
	out->proto = (enum tp_proto)a->proto;
	out->behind = a->behind;
	out->listener = a->listener;
	out->conn_id = a->conn_id;
	out->host = a->host;
	return out;
}

const struct tp_src *
txn_peer(const struct txn *x, struct tp_src *buf)
{
	return txn_addr_get(&x->peer, buf);
}

void *
txn_tu(const struct txn *x)
{
	return x->tu;
}

void
txn_set_tu(struct txn *x, void *tu)
{
	x->tu = tu;
}

int
txn_status(const struct txn *x)
{
	return x->status;
}

uint64_t
txn_id(const struct txn *x)
{
	return x->id;
}

void
txn_foreach(struct txn_table *t, enum txn_kind kind,
    int (*fn)(void *arg, const struct txn_info *info), void *arg)
{
	struct txn_info info;

	for (struct txn *x = t->lists[kind].head; x != NULL; x = x->all.next) {
		const char *label = x->key + x->keylen;

		memset(&info, 0, sizeof(info));
		info.id = x->id;
		info.kind = (enum txn_kind)x->kind;
		info.state = (enum txn_state)x->state;
		if (x->mlen > 0) {
			memcpy(info.method, label, x->mlen);
		} else {
			snprintf(info.method, sizeof(info.method), "%s",
			    msg_method_str((enum msg_method)x->method));
		}
		memcpy(info.callid, label + x->mlen, x->clen);
		txn_addr_get(&x->peer, &info.peer);
		info.age_ms = t->now - x->created_ms;
		info.retransmissions = x->retx_count;
		info.status = x->status;
		if (fn(arg, &info) != 0) {
			break;
		}
	}
}

void
txn_shed(struct txn *x)
{
	if (x->kind == TXN_CLIENT || !txn_key_2543(x)) {
		msg_free(x->req);
		x->req = NULL;
		txn_text_unref(x->rq);
		x->rq = NULL;
	}
	/* an INVITE server transaction's non-2xx final is resent until the
	 * ACK; a client's ACK for one is kept for the final's resends */
	if (x->kind == TXN_SERVER && x->state != TXN_COMPLETED) {
		txn_text_unref(x->rs);
		x->rs = NULL;
	}
}

static bool
same_peer(const struct txn_addr *a, const struct tp_src *b)
{
	return a->proto == b->proto && a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

void
txn_transport_error(struct txn_table *t, const struct tp_src *dst, int err)
{
	txn_enter(t);
	for (int k = 0; k < 2; k++) {
		struct txn *x = t->lists[k].head;
		while (x != NULL) {
			struct txn *next = x->all.next;
			const struct txn_addr *p = &x->peer;
			if (!x->dead && x->state != TXN_TERMINATED &&
			    same_peer(p, dst)) {
				if (t->ops.error != NULL) {
					t->ops.error(t->arg, x, err);
				}
				txn_terminate(x);
			}
			x = next;
		}
	}
	txn_leave(t);
}

void
txn_table_stats(const struct txn_table *t, struct txn_stats *out)
{
	*out = t->stats;
	out->server_live = t->lists[TXN_SERVER].count;
	out->client_live = t->lists[TXN_CLIENT].count;
}
