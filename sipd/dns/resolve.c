/*
 * resolve: the resolver of one worker.  Owns a c-ares channel driven by
 * the worker's event_base (an event per socket c-ares opens, one timer
 * for its timeouts), the cache of answers (cache.c), the queries in
 * progress and the list of targets that failed.
 *
 * A query is a plan evaluated against the cache (eval()): RFC 3263 step
 * by step, each step reading the entries the previous ones named.  From
 * dns_resolve() the plan first runs on the cache alone; if it completes,
 * the answer is returned at once.  Otherwise the query is kept: the plan
 * runs again holding each entry it reads (a slot), starting the lookups
 * it misses, and waits; each answer that arrives marks the queries that
 * waited for it ready, and a deferred event runs their plans again, so no
 * callback ever runs inside c-ares or inside dns_resolve().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>

#include "sipd/dns/dns_int.h"
#include "sipd/log.h"

/* An entry a query reads, and its place in the entry's waiters. */
struct dns_slot {
	struct dns_entry *e;
	struct dns_query *q;
	struct dns_slot *wprev, *wnext;
	bool waiting;
};

struct dns_query {
	struct dns *d;
	dns_done_fn *fn;
	void *arg;
	struct dns_query *prev, *next;   /* every query of d */
	struct dns_query *rprev, *rnext; /* the ready list */
	bool ready;
	struct dns_req rq;
	char host[DNS_NAME_MAX + 1];
	size_t host_len;
	char tp_param[8];
	size_t nslots;
	struct dns_slot slots[DNS_QUERY_SLOTS];
};

struct dns_failed {
	struct dns_target t;
	uint64_t until;
};

struct dns {
	struct event_base *base;
	struct dns_chan *chan;     /* where lookups go */
	struct dns_chan *draining; /* replaced, finishing their lookups */
	bool closing;
	struct event *wake;
	struct dns_conf conf;
	struct dns_cache cache;
	uint64_t (*now)(void *);
	void *now_arg;
	uint32_t (*rnd)(void *);
	void *rnd_arg;
	uint64_t rng;
	struct dns_query *queries;
	struct dns_query *ready_head, *ready_tail;
	struct dns_failed failed[DNS_FAILED_MAX];
	size_t nfailed;
	struct dns_stats st;
};

struct dns_targets {
	size_t n, next;
	struct dns_target t[];
};

/* Answers a lookup stands for when it cannot be made. */
static const struct dns_entry entry_nodata = { .state = DNS_E_NODATA };
static const struct dns_entry entry_nomem = { .state = DNS_E_FAILED,
	.err = -ENOMEM };

void
dns_conf_default(struct dns_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = DNS_DEFAULT_TIMEOUT_MS;
	c->tries = DNS_DEFAULT_TRIES;
	c->cache_size = DNS_DEFAULT_CACHE_SIZE;
	c->neg_ttl_max_s = DNS_DEFAULT_NEG_TTL_MAX_S;
	c->ttl_max_s = DNS_DEFAULT_TTL_MAX_S;
	c->blacklist_ms = DNS_DEFAULT_BLACKLIST_MS;
}

static uint64_t
clock_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
xorshift(void *arg)
{
	/* xorshift64*: weights need spread, not secrecy */
	uint64_t *s = arg;

	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 2685821657736338717ull) >> 32);
}

/* Write the message to err and return -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
dns_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && cap > 0) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- queries ---- */

static void
mark_ready(struct dns_query *q)
{
	struct dns *d = q->d;

	if (q->ready) {
		return;
	}
	q->ready = true;
	q->rnext = NULL;
	q->rprev = d->ready_tail;
	if (d->ready_tail != NULL) {
		d->ready_tail->rnext = q;
	} else {
		d->ready_head = q;
	}
	d->ready_tail = q;
	event_active(d->wake, EV_TIMEOUT, 1);
}

static void
unready(struct dns_query *q)
{
	struct dns *d = q->d;

	if (!q->ready) {
		return;
	}
	if (q->rprev != NULL) {
		q->rprev->rnext = q->rnext;
	} else {
		d->ready_head = q->rnext;
	}
	if (q->rnext != NULL) {
		q->rnext->rprev = q->rprev;
	} else {
		d->ready_tail = q->rprev;
	}
	q->ready = false;
}

static void
unwait(struct dns_slot *s)
{
	if (!s->waiting) {
		return;
	}
	if (s->wprev != NULL) {
		s->wprev->wnext = s->wnext;
	} else {
		s->e->waiters = s->wnext;
	}
	if (s->wnext != NULL) {
		s->wnext->wprev = s->wprev;
	}
	s->waiting = false;
}

static void
wait_on(struct dns_slot *s)
{
	struct dns_entry *e = s->e;

	s->waiting = true;
	s->wprev = NULL;
	s->wnext = e->waiters;
	if (e->waiters != NULL) {
		e->waiters->wprev = s;
	}
	e->waiters = s;
}

static void
query_free(struct dns_query *q)
{
	struct dns *d = q->d;

	for (size_t i = 0; i < q->nslots; i++) {
		unwait(&q->slots[i]);
		dns_entry_unref(q->slots[i].e);
	}
	unready(q);
	if (q->prev != NULL) {
		q->prev->next = q->next;
	} else {
		d->queries = q->next;
	}
	if (q->next != NULL) {
		q->next->prev = q->prev;
	}
	free(q);
}

/* c-ares's answer to the lookup of entry e. */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_entry *e = arg;
	struct dns *d = e->d;
	int err;

	(void)timeouts;
	if (d->closing) {
		/* dns_free(): nobody waits any more */
		e->state = DNS_E_FAILED;
		e->err = -ECANCELED;
		dns_cache_remove(&d->cache, e);
		dns_entry_unref(e);
		return;
	}
	switch (status) {
	case ARES_ETIMEOUT:
		err = -ETIMEDOUT;
		break;
	case ARES_ENOMEM:
		err = -ENOMEM;
		break;
	default:
		err = -EIO;
		break;
	}
	uint64_t now = d->now(d->now_arg);
	if (abuf != NULL && alen > 0) {
		dns_entry_complete(e, abuf, (size_t)alen, err, now,
		    d->conf.ttl_max_s, d->conf.neg_ttl_max_s);
	} else if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		/* a negative answer c-ares did not show: no SOA, no caching */
		e->state = status == ARES_ENOTFOUND ? DNS_E_NXDOMAIN :
		    DNS_E_NODATA;
		e->expires = now;
	} else {
		dns_entry_complete(e, NULL, 0, err, now, 0, 0);
	}
	if (e->state == DNS_E_FAILED) {
		d->st.failures++;
		log_info(LOG_CLIENT, "dns, %s lookup of %s failed (%s)",
		    dns_type_name(e->type), e->name, ares_strerror(status));
		dns_cache_remove(&d->cache, e);
	}
	while (e->waiters != NULL) {
		struct dns_slot *s = e->waiters;

		unwait(s);
		mark_ready(s->q);
	}
	dns_entry_unref(e); /* the lookup's */
}

/* The state of a plan's evaluation. */
struct eval {
	struct dns *d;
	struct dns_query *q; /* NULL: the cache only, no lookup */
	const struct dns_req *rq;
	uint64_t now;
	bool pending;
	bool nxdomain;       /* the host itself does not exist */
	int fail;            /* the first lookup that failed */
	size_t n;
	struct dns_target t[DNS_MAX_TARGETS];
};

/*
 * The entry for (name, type) when known, or NULL (ev->pending set) while
 * it is not.  With a query, the entry is held in a slot, and a missing
 * one is looked up.
 */
static const struct dns_entry *
get(struct eval *ev, const char *name, size_t len, uint16_t type)
{
	struct dns *d = ev->d;
	struct dns_query *q = ev->q;
	struct dns_entry *e;

	if (q != NULL) {
		for (size_t i = 0; i < q->nslots; i++) {
			e = q->slots[i].e;
			if (e->type == type && e->name_len == len &&
			    memcmp(e->name, name, len) == 0) {
				if (e->state == DNS_E_PENDING) {
					ev->pending = true;
					return NULL;
				}
				return e;
			}
		}
	}
	e = dns_cache_find(&d->cache, name, len, type);
	if (e != NULL && e->state != DNS_E_PENDING && e->expires <= ev->now) {
		e = NULL; /* expired: a new lookup replaces it */
	}
	if (q == NULL) {
		if (e == NULL || e->state == DNS_E_PENDING) {
			ev->pending = true;
			return NULL;
		}
		dns_cache_touch(&d->cache, e);
		return e;
	}
	if (q->nslots == DNS_QUERY_SLOTS) {
		return &entry_nodata; /* a plan this wide stops here */
	}
	bool start = false;
	if (e == NULL) {
		e = dns_cache_add(&d->cache, d, name, len, type);
		if (e == NULL) {
			return &entry_nomem;
		}
		start = true;
	} else {
		dns_cache_touch(&d->cache, e);
	}
	struct dns_slot *s = &q->slots[q->nslots++];
	memset(s, 0, sizeof(*s));
	s->q = q;
	s->e = e;
	dns_entry_ref(e);
	if (e->state != DNS_E_PENDING) {
		return e;
	}
	wait_on(s);
	ev->pending = true;
	if (start) {
		dns_entry_ref(e); /* the lookup's, until on_answer() */
		d->st.queries++;
		/* may answer at once (a bad name): on_answer() then marks
		 * the query ready, as it would later */
		dns_chan_query(d->chan, e->name, type, on_answer, e);
	}
	return NULL;
}

static void
add_target(struct eval *ev, enum dns_tp tp, int family, const void *addr,
    uint16_t port)
{
	struct dns_target x;

	memset(&x, 0, sizeof(x));
	x.tp = tp;
	if (family == AF_INET) {
		x.addr.sin.sin_family = AF_INET;
		x.addr.sin.sin_port = htons(port);
		memcpy(&x.addr.sin.sin_addr, addr, 4);
		x.addr_len = sizeof(x.addr.sin);
	} else {
		x.addr.sin6.sin6_family = AF_INET6;
		x.addr.sin6.sin6_port = htons(port);
		memcpy(&x.addr.sin6.sin6_addr, addr, 16);
		x.addr_len = sizeof(x.addr.sin6);
	}
	for (size_t i = 0; i < ev->n; i++) {
		if (memcmp(&ev->t[i], &x, sizeof(x)) == 0) {
			return; /* two names for one place */
		}
	}
	if (ev->n < DNS_MAX_TARGETS) {
		ev->t[ev->n++] = x;
	}
}

static void
note_fail(struct eval *ev, const struct dns_entry *e)
{
	if (e->state == DNS_E_FAILED && ev->fail == 0) {
		ev->fail = e->err;
	}
}

/* The A and AAAA records of name, in the preferred order, as targets. */
static void
add_addrs(struct eval *ev, const char *name, uint16_t port, enum dns_tp tp,
    bool is_host)
{
	unsigned fam = ev->rq->families != 0 ? ev->rq->families :
	    DNS_AF_INET | DNS_AF_INET6;
	uint16_t types[2] = { DNS_T_A, DNS_T_AAAA };
	unsigned nx = 0;

	if (ev->rq->prefer_inet6) {
		types[0] = DNS_T_AAAA;
		types[1] = DNS_T_A;
	}
	for (int i = 0; i < 2; i++) {
		bool v6 = types[i] == DNS_T_AAAA;

		if (!(fam & (v6 ? DNS_AF_INET6 : DNS_AF_INET))) {
			nx++;
			continue;
		}
		const struct dns_entry *e = get(ev, name, strlen(name),
		    types[i]);
		if (e == NULL) {
			continue;
		}
		note_fail(ev, e);
		if (e->state == DNS_E_NXDOMAIN) {
			nx++;
		}
		if (e->state != DNS_E_OK) {
			continue;
		}
		for (size_t r = 0; r < e->ans.n; r++) {
			add_target(ev, tp, v6 ? AF_INET6 : AF_INET,
			    v6 ? (const void *)&e->ans.rr[r].u.aaaa :
			    (const void *)&e->ans.rr[r].u.a, port);
		}
	}
	if (is_host && nx == 2) {
		ev->nxdomain = true;
	}
}

/*
 * The SRV records of name, ordered (RFC 2782), and their addresses as
 * targets of transport tp.  Returns -1 while pending, 1 when the name has
 * SRV records (even "." alone: the service is not offered, RFC 2782), 0
 * when it has none.
 */
static int
srv_group(struct eval *ev, const char *name, enum dns_tp tp)
{
	struct dns_srv v[DNS_MAX_SRV];
	const struct dns_entry *e = get(ev, name, strlen(name), DNS_T_SRV);

	if (e == NULL) {
		return -1;
	}
	note_fail(ev, e);
	if (e->state != DNS_E_OK || e->ans.n == 0) {
		return 0;
	}
	size_t n = e->ans.n < DNS_MAX_SRV ? e->ans.n : DNS_MAX_SRV;
	for (size_t i = 0; i < n; i++) {
		v[i] = e->ans.rr[i].u.srv;
	}
	dns_srv_order(v, n, ev->d->rnd, ev->d->rnd_arg);
	for (size_t i = 0; i < n; i++) {
		if (v[i].target[0] != '\0') {
			add_addrs(ev, v[i].target, v[i].port, tp, false);
		}
	}
	return 1;
}

/* "_sip._udp.example.com" into buf; false when too long. */
static bool
srv_name(char *buf, size_t cap, enum dns_tp tp, const char *host)
{
	int l = snprintf(buf, cap, "%s.%s", dns_srv_prefix(tp), host);

	return l > 0 && (size_t)l <= DNS_NAME_MAX && (size_t)l < cap;
}

static uint16_t
default_port(enum dns_tp tp)
{
	return tp == DNS_TP_TLS ? DNS_PORT_SIPS : DNS_PORT_SIP;
}

/*
 * RFC 3263 4.1 and 4.2 for a host name (not a numeric IP): 0 with the
 * targets in ev, 1 while lookups are pending, or a negative errno.
 */
static int
eval(struct eval *ev, const char *host, size_t hlen)
{
	const struct dns_req *rq = ev->rq;
	char name[DNS_NAME_MAX + 32];
	enum dns_tp tp;
	bool found = false, pend = false;
	int rc, r;

	rc = dns_tp_fixed(rq, false, &tp);
	if (rc < 0) {
		return rc;
	}
	if (rc == 0 && rq->port != 0) {
		/* RFC 3263 4.2: an explicit port: A/AAAA only */
		add_addrs(ev, host, rq->port, tp, true);
		goto done;
	}
	if (rc == 0) {
		/* RFC 3263 4.2: a transport but no port: that transport's
		 * SRV records (_sips for TLS), else A/AAAA */
		if (srv_name(name, sizeof(name), tp, host)) {
			r = srv_group(ev, name, tp);
			if (r != 0) {
				goto done;
			}
		}
		if (ev->fail == 0) {
			add_addrs(ev, host, default_port(tp), tp, true);
		}
		goto done;
	}

	/* RFC 3263 4.1: the domain's NAPTR records */
	const struct dns_entry *e = get(ev, host, hlen, DNS_T_NAPTR);
	if (e == NULL) {
		goto done;
	}
	if (e->state == DNS_E_FAILED) {
		return e->err;
	}
	if (e->state == DNS_E_NXDOMAIN) {
		return -ENOENT; /* no such domain: no SRV, no A either */
	}
	if (e->state == DNS_E_OK) {
		struct dns_naptr_pick picks[DNS_MAX_NAPTR];
		size_t np = dns_naptr_select(e->ans.rr, e->ans.n, rq->sips,
		    rq->tps, picks, DNS_MAX_NAPTR);

		for (size_t i = 0; i < np; i++) {
			r = srv_group(ev, picks[i].repl, picks[i].tp);
			pend |= r < 0;
			found |= r > 0;
		}
		if (pend || found) {
			goto done;
		}
	}

	/* RFC 3263 4.1: no usable NAPTR record: probe the SRV names of
	 * the transports we have */
	for (int t = 0; t < DNS__TP_COUNT; t++) {
		if (!(rq->tps & DNS_TP_BIT(t)) ||
		    (rq->sips && t != DNS_TP_TLS)) {
			continue;
		}
		if (!srv_name(name, sizeof(name), (enum dns_tp)t, host)) {
			continue;
		}
		r = srv_group(ev, name, (enum dns_tp)t);
		pend |= r < 0;
		found |= r > 0;
	}
	if (pend || found || ev->fail != 0) {
		goto done;
	}

	/* RFC 3263 4.2: no SRV record either: A/AAAA, default port */
	rc = dns_tp_default(rq->sips, rq->tps, &tp);
	if (rc < 0) {
		return rc;
	}
	add_addrs(ev, host, default_port(tp), tp, true);
done:
	if (ev->pending) {
		return 1;
	}
	if (ev->n == 0) {
		if (ev->fail != 0) {
			return ev->fail;
		}
		return ev->nxdomain ? -ENOENT : -ENODATA;
	}
	return 0;
}

/* ---- targets and the failed list ---- */

static bool
same_target(const struct dns_target *a, const struct dns_target *b)
{
	return a->tp == b->tp && a->addr_len == b->addr_len &&
	    memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

static bool
is_failed(struct dns *d, const struct dns_target *t, uint64_t now)
{
	for (size_t i = 0; i < d->nfailed; i++) {
		if (d->failed[i].until > now && same_target(&d->failed[i].t,
		    t)) {
			return true;
		}
	}
	return false;
}

void
dns_target_failed(struct dns *d, const struct dns_target *t)
{
	uint64_t now = d->now(d->now_arg);
	size_t slot = d->nfailed;

	for (size_t i = 0; i < d->nfailed; i++) {
		if (same_target(&d->failed[i].t, t)) {
			slot = i;
			break;
		}
	}
	if (slot == d->nfailed && d->nfailed == DNS_FAILED_MAX) {
		/* full: the one that would recover first makes room */
		slot = 0;
		for (size_t i = 1; i < d->nfailed; i++) {
			if (d->failed[i].until < d->failed[slot].until) {
				slot = i;
			}
		}
	} else if (slot == d->nfailed) {
		d->nfailed++;
	}
	d->failed[slot].t = *t;
	d->failed[slot].until = now + d->conf.blacklist_ms;
}

void
dns_failed_foreach(struct dns *d,
    void (*fn)(void *arg, const struct dns_target *t, unsigned ms_left),
    void *arg)
{
	uint64_t now = d->now(d->now_arg);

	for (size_t i = 0; i < d->nfailed; i++) {
		if (d->failed[i].until > now) {
			fn(arg, &d->failed[i].t,
			    (unsigned)(d->failed[i].until - now));
		}
	}
}

/* The list of ev's targets: those that did not fail recently first. */
static struct dns_targets *
make_targets(struct dns *d, const struct dns_target *t, size_t n)
{
	struct dns_targets *ts = malloc(sizeof(*ts) + n * sizeof(ts->t[0]));

	if (ts == NULL) {
		return NULL;
	}
	ts->n = n;
	ts->next = 0;
	if (d->nfailed == 0) {
		memcpy(ts->t, t, n * sizeof(t[0]));
		return ts;
	}
	/* RFC 3263 4.3 leaves the retry order to the client: a target
	 * that failed lately is tried last, not dropped */
	uint64_t now = d->now(d->now_arg);
	bool bad[DNS_MAX_TARGETS];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bad[i] = is_failed(d, &t[i], now);
		if (!bad[i]) {
			ts->t[k++] = t[i];
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (bad[i]) {
			ts->t[k++] = t[i];
		}
	}
	return ts;
}

size_t
dns_targets_count(const struct dns_targets *ts)
{
	return ts != NULL ? ts->n : 0;
}

const struct dns_target *
dns_targets_at(const struct dns_targets *ts, size_t i)
{
	return ts != NULL && i < ts->n ? &ts->t[i] : NULL;
}

const struct dns_target *
dns_targets_next(struct dns_targets *ts)
{
	if (ts == NULL || ts->next >= ts->n) {
		return NULL;
	}
	return &ts->t[ts->next++];
}

void
dns_targets_free(struct dns_targets *ts)
{
	free(ts);
}

const char *
dns_target_format(const struct dns_target *t, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (t->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &t->addr.sin6.sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "%s [%s]:%u", dns_tp_name(t->tp), a,
		    ntohs(t->addr.sin6.sin6_port));
	} else {
		inet_ntop(AF_INET, &t->addr.sin.sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s %s:%u", dns_tp_name(t->tp), a,
		    ntohs(t->addr.sin.sin_port));
	}
	return buf;
}

/* ---- the resolver ---- */

/* A draining channel has nothing left on the wire: free it from the loop. */
static void
on_chan_idle(void *arg)
{
	struct dns *d = arg;

	event_active(d->wake, EV_TIMEOUT, 1);
}

static void
reap_channels(struct dns *d)
{
	struct dns_chan **pp = &d->draining;

	while (*pp != NULL) {
		struct dns_chan *c = *pp;

		if (dns_chan_idle(c)) {
			*pp = *dns_chan_next(c);
			dns_chan_free(c);
		} else {
			pp = dns_chan_next(c);
		}
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;
	struct dns_query *q;

	(void)fd;
	(void)what;
	while ((q = d->ready_head) != NULL) {
		struct eval ev;

		unready(q);
		memset(&ev, 0, offsetof(struct eval, t));
		ev.d = d;
		ev.q = q;
		ev.rq = &q->rq;
		ev.now = d->now(d->now_arg);
		int rc = eval(&ev, q->host, q->host_len);
		if (rc == 1) {
			continue;
		}
		struct dns_targets *ts = NULL;
		if (rc == 0) {
			ts = make_targets(d, ev.t, ev.n);
			if (ts == NULL) {
				rc = -ENOMEM;
			}
		}
		dns_done_fn *fn = q->fn;
		void *fn_arg = q->arg;
		query_free(q);
		fn(fn_arg, rc, ts);
	}
	reap_channels(d);
}

/*
 * Parse the URI's host: a numeric IP into *sa (returns 1), a name into
 * name[] lower case (returns 0), or -EINVAL.
 */
static int
parse_host(const struct dns_req *rq, char *name, size_t *len,
    struct dns_target *ip)
{
	const char *h = rq->host;
	size_t l = rq->host_len;
	char buf[DNS_NAME_MAX + 1];
	bool v6 = false;

	if (h == NULL || l == 0) {
		return -EINVAL;
	}
	if (h[0] == '[') {
		if (l < 3 || h[l - 1] != ']') {
			return -EINVAL;
		}
		h++;
		l -= 2;
		v6 = true;
	}
	if (l > DNS_NAME_MAX) {
		return -EINVAL;
	}
	memcpy(buf, h, l);
	buf[l] = '\0';
	if (v6 || memchr(buf, ':', l) != NULL) {
		if (inet_pton(AF_INET6, buf, &ip->addr.sin6.sin6_addr) != 1) {
			return -EINVAL;
		}
		ip->addr.sin6.sin6_family = AF_INET6;
		ip->addr_len = sizeof(ip->addr.sin6);
		return 1;
	}
	/* a name's last label is never all digits (RFC 1123 2.1) */
	const char *dot = memrchr(buf, '.', l);
	const char *last = dot != NULL ? dot + 1 : buf;
	if (*last >= '0' && *last <= '9' && strspn(last, "0123456789") ==
	    strlen(last)) {
		if (inet_pton(AF_INET, buf, &ip->addr.sin.sin_addr) != 1) {
			return -EINVAL;
		}
		ip->addr.sin.sin_family = AF_INET;
		ip->addr_len = sizeof(ip->addr.sin);
		return 1;
	}
	/* RFC 3261 25.1 hostname: alphanum, "-", "."; "_" is tolerated */
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_')) {
			return -EINVAL;
		}
	}
	if (strstr(buf, "..") != NULL || buf[0] == '.') {
		return -EINVAL;
	}
	if (dns_name_norm(name, buf, l) < 0) {
		return -EINVAL;
	}
	*len = strlen(name);
	return 0;
}

int
dns_resolve(struct dns *d, const struct dns_req *rq, dns_done_fn *fn,
    void *arg, struct dns_targets **out, struct dns_query **qp)
{
	struct dns_target ip;
	char host[DNS_NAME_MAX + 1];
	size_t hlen = 0;
	struct eval ev;
	int rc;

	*out = NULL;
	if (qp != NULL) {
		*qp = NULL;
	}
	d->st.resolves++;
	memset(&ip, 0, sizeof(ip));
	rc = parse_host(rq, host, &hlen, &ip);
	if (rc < 0) {
		return rc;
	}
	if (rc == 1) {
		/* RFC 3263 4.1, 4.2: a numeric IP needs no lookup */
		enum dns_tp tp;
		unsigned fam = rq->families != 0 ? rq->families :
		    DNS_AF_INET | DNS_AF_INET6;
		bool v6 = ip.addr.sa.sa_family == AF_INET6;

		rc = dns_tp_fixed(rq, true, &tp);
		if (rc < 0) {
			return rc;
		}
		if (!(fam & (v6 ? DNS_AF_INET6 : DNS_AF_INET))) {
			return -EAFNOSUPPORT;
		}
		ip.tp = tp;
		uint16_t port = htons(rq->port != 0 ? rq->port :
		    default_port(tp));
		if (v6) {
			ip.addr.sin6.sin6_port = port;
		} else {
			ip.addr.sin.sin_port = port;
		}
		*out = make_targets(d, &ip, 1);
		return *out != NULL ? 0 : -ENOMEM;
	}

	memset(&ev, 0, offsetof(struct eval, t));
	ev.d = d;
	ev.rq = rq;
	ev.now = d->now(d->now_arg);
	rc = eval(&ev, host, hlen);
	if (rc <= 0) {
		d->st.cache_hits++;
		if (rc == 0) {
			*out = make_targets(d, ev.t, ev.n);
			if (*out == NULL) {
				return -ENOMEM;
			}
		}
		return rc;
	}

	if (fn == NULL) {
		return -EAGAIN; /* from the cache only */
	}
	/* on its way: keep the request and run the plan with lookups */
	struct dns_query *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	q->d = d;
	q->fn = fn;
	q->arg = arg;
	q->rq = *rq;
	memcpy(q->host, host, hlen + 1);
	q->host_len = hlen;
	q->rq.host = q->host;
	q->rq.host_len = hlen;
	if (rq->transport != NULL) {
		size_t l = rq->transport_len < sizeof(q->tp_param) ?
		    rq->transport_len : sizeof(q->tp_param) - 1;
		memcpy(q->tp_param, rq->transport, l);
		q->rq.transport = q->tp_param;
		q->rq.transport_len = l;
	}
	q->next = d->queries;
	if (d->queries != NULL) {
		d->queries->prev = q;
	}
	d->queries = q;

	memset(&ev, 0, offsetof(struct eval, t));
	ev.d = d;
	ev.q = q;
	ev.rq = &q->rq;
	ev.now = d->now(d->now_arg);
	if (eval(&ev, q->host, q->host_len) != 1) {
		mark_ready(q); /* answered meanwhile: say so from the loop */
	}
	if (qp != NULL) {
		*qp = q;
	}
	return 1;
}

void
dns_cancel(struct dns_query *q)
{
	if (q != NULL) {
		query_free(q);
	}
}

int
dns_conf_check(const struct dns_conf *c, char *err, size_t cap)
{
	if (c->timeout_ms < 1 || c->timeout_ms > DNS_TIMEOUT_MS_MAX) {
		return dns_err(err, cap, "dns, timeout %u ms out of range "
		    "(1-%u)", c->timeout_ms, DNS_TIMEOUT_MS_MAX);
	}
	if (c->tries < 1 || c->tries > DNS_TRIES_MAX) {
		return dns_err(err, cap, "dns, tries %u out of range (1-%u)",
		    c->tries, DNS_TRIES_MAX);
	}
	if (c->cache_size < 1 || c->cache_size > DNS_CACHE_SIZE_MAX) {
		return dns_err(err, cap, "dns, cache size %u out of range "
		    "(1-%u)", c->cache_size, DNS_CACHE_SIZE_MAX);
	}
	if (c->neg_ttl_max_s > DNS_TTL_MAX_S || c->ttl_max_s >
	    DNS_TTL_MAX_S) {
		return dns_err(err, cap, "dns, TTL cap over %u s",
		    DNS_TTL_MAX_S);
	}
	if (memchr(c->servers, '\0', sizeof(c->servers)) == NULL) {
		return dns_err(err, cap, "dns, server list too long");
	}
	return dns_chan_check_servers(c->servers, err, cap);
}

struct dns *
dns_new(struct event_base *base, const struct dns_conf *c, char *err,
    size_t cap)
{
	struct dns *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		snprintf(err, cap, "dns, out of memory");
		return NULL;
	}
	d->base = base;
	d->conf = *c;
	d->now = clock_ms;
	d->rnd = xorshift;
	d->rnd_arg = &d->rng;
	if (getrandom(&d->rng, sizeof(d->rng), 0) != sizeof(d->rng) ||
	    d->rng == 0) {
		d->rng = (uint64_t)clock_ms(NULL) * 2654435761u + 1;
	}
	if (dns_conf_check(c, err, cap) < 0) {
		goto fail;
	}
	if (dns_cache_init(&d->cache, c->cache_size) < 0) {
		snprintf(err, cap, "dns, out of memory");
		goto fail;
	}
	d->wake = event_new(base, -1, 0, on_wake, d);
	if (d->wake == NULL) {
		snprintf(err, cap, "dns, out of memory");
		goto fail;
	}
	d->chan = dns_chan_new(base, c, on_chan_idle, d, err, cap);
	if (d->chan == NULL) {
		goto fail;
	}
	return d;
fail:
	dns_free(d);
	return NULL;
}

int
dns_configure(struct dns *d, const struct dns_conf *c, char *err,
    size_t cap)
{
	int rc = dns_conf_check(c, err, cap);

	if (rc < 0) {
		return rc;
	}
	if (strcmp(c->servers, d->conf.servers) != 0 ||
	    c->timeout_ms != d->conf.timeout_ms ||
	    c->tries != d->conf.tries) {
		struct dns_chan *n = dns_chan_new(d->base, c, on_chan_idle, d,
		    err, cap);
		if (n == NULL) {
			return -EINVAL;
		}
		/* the old channel finishes the lookups it has on the wire,
		 * then goes; new lookups take the new one */
		struct dns_chan *old = d->chan;
		d->chan = n;
		if (dns_chan_drain(old)) {
			dns_chan_free(old);
		} else {
			*dns_chan_next(old) = d->draining;
			d->draining = old;
		}
		/* what the old servers say is not what the new ones say:
		 * their answers, given or coming, are not kept */
		dns_cache_flush(&d->cache, true);
	}
	d->conf = *c;
	d->cache.max = c->cache_size;
	return 0;
}

void
dns_free(struct dns *d)
{
	if (d == NULL) {
		return;
	}
	d->closing = true;
	while (d->queries != NULL) {
		query_free(d->queries);
	}
	/* each lookup on the wire ends (on_answer(), closing) */
	dns_chan_free(d->chan);
	while (d->draining != NULL) {
		struct dns_chan *c = d->draining;

		d->draining = *dns_chan_next(c);
		dns_chan_free(c);
	}
	if (d->wake != NULL) {
		event_free(d->wake);
	}
	if (d->cache.buckets != NULL) {
		dns_cache_fini(&d->cache);
	}
	free(d);
}

void
dns_set_clock(struct dns *d, uint64_t (*now_ms)(void *arg), void *arg)
{
	d->now = now_ms;
	d->now_arg = arg;
}

void
dns_set_random(struct dns *d, uint32_t (*rnd)(void *arg), void *arg)
{
	d->rnd = rnd;
	d->rnd_arg = arg;
}

struct dns_cache *
dns_cache_of(struct dns *d)
{
	return &d->cache;
}

uint64_t
dns_now(struct dns *d)
{
	return d->now(d->now_arg);
}

void
dns_flush(struct dns *d)
{
	dns_cache_flush(&d->cache, false);
	d->nfailed = 0;
}

void
dns_stats(const struct dns *d, struct dns_stats *st)
{
	*st = d->st;
	st->cache_entries = d->cache.count;
}

static const char *
state_name(enum dns_estate s)
{
	switch (s) {
	case DNS_E_PENDING:
		return "pending";
	case DNS_E_OK:
		return "ok";
	case DNS_E_NXDOMAIN:
		return "nxdomain";
	case DNS_E_NODATA:
		return "nodata";
	default:
		return "failed";
	}
}

void
dns_cache_foreach(struct dns *d,
    void (*fn)(void *arg, const struct dns_cache_info *ci), void *arg)
{
	uint64_t now = d->now(d->now_arg);

	for (struct dns_entry *e = d->cache.lru_head; e != NULL;
	    e = e->lnext) {
		struct dns_cache_info ci;

		if (e->state != DNS_E_PENDING && e->expires <= now) {
			continue; /* expired: goes at its next lookup */
		}
		ci.name = e->name;
		ci.type = dns_type_name(e->type);
		ci.state = state_name(e->state);
		ci.ttl_left_s = e->state == DNS_E_PENDING ? 0 :
		    (unsigned)((e->expires - now + 999) / 1000);
		ci.count = e->state == DNS_E_OK ? e->ans.n : 0;
		ci.entry = e;
		fn(arg, &ci);
	}
}

const char *
dns_cache_record(const struct dns_cache_info *ci, size_t i, char *buf,
    size_t cap)
{
	const struct dns_entry *e = ci->entry;
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (e->state != DNS_E_OK || i >= e->ans.n) {
		return buf;
	}
	const struct dns_rr *r = &e->ans.rr[i];
	switch (e->type) {
	case DNS_T_A:
		snprintf(buf, cap, "%s", inet_ntop(AF_INET, &r->u.a, a,
		    sizeof(a)));
		break;
	case DNS_T_AAAA:
		snprintf(buf, cap, "%s", inet_ntop(AF_INET6, &r->u.aaaa, a,
		    sizeof(a)));
		break;
	case DNS_T_SRV:
		snprintf(buf, cap, "%u %u %u %s.", r->u.srv.prio,
		    r->u.srv.weight, r->u.srv.port, r->u.srv.target);
		break;
	case DNS_T_NAPTR:
		snprintf(buf, cap, "%u %u \"%.40s\" \"%.40s\" \"%.100s\" %s.",
		    r->u.naptr.order, r->u.naptr.pref, r->u.naptr.flags,
		    r->u.naptr.service, r->u.naptr.regexp, r->u.naptr.repl);
		break;
	}
	return buf;
}
