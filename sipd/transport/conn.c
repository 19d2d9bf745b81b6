/*
 * The connection table: every open TCP and TLS connection of a tp,
 * inbound (accepted by a listener) and outbound (opened to send), found by
 * conn_id or by peer address and transport.  Each connection owns its
 * libevent bufferevent (an OpenSSL one for TLS), its framing state and
 * read buffer, and one timer that enforces the Idle Timeout, the time
 * allowed for one message's bytes (a peer dripping bytes is cut off), the
 * time allowed for a connect and a TLS handshake, and the time an inbound
 * connection has to send its first whole message (a peer that opens
 * connections and stays silent must not hold Input Channels).
 *
 * Inbound connections are counted per source address over the whole
 * group (struct tp_peers, under its mutex, touched only when a connection
 * is accepted or closed), so that one address cannot take every Input
 * Channel.
 *
 * What arrives is framed with msg_frame() (RFC 3261 18.3): each message
 * goes to the receive callback with its connection, a CRLFCRLF ping gets
 * its CRLF pong (RFC 5626 3.5.1), a lone CRLF is skipped, and a stream
 * that cannot be framed is closed.  Output is bounded per connection.
 *
 * A connection is never freed inside a callback: closing unlinks it, stops
 * its events and queues it for the reaper, an event that frees it on the
 * next turn of the loop.  So a receive callback may send, and a send may
 * fail, without anything vanishing under the caller.
 */
#include "sipd/transport/tp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "sipd/log.h"
#include "sipd/trace.h"

#define TP_CONN_BUCKETS_MIN 64

/* ----------------------------------------------------------------- table */

static uint64_t
addr_hash(enum tp_proto proto, const struct sockaddr *sa)
{
	uint64_t h = MSG_FNV_INIT;
	uint16_t port = tp_addr_port(sa);

	h = msg_fnv1a(h, &proto, sizeof(proto));
	h = msg_fnv1a(h, &port, sizeof(port));
	if (sa->sa_family == AF_INET) {
		h = msg_fnv1a(h,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	} else if (sa->sa_family == AF_INET6) {
		h = msg_fnv1a(h,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
	}
	return h;
}

static size_t
id_slot(const struct tp *tp, uint64_t id)
{
	uint64_t h = id * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (tp->nbuckets - 1);
}

static size_t
addr_slot(const struct tp *tp, enum tp_proto proto, const struct sockaddr *sa)
{
	return (size_t)addr_hash(proto, sa) & (tp->nbuckets - 1);
}

static bool
addr_eq(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family ||
	    tp_addr_port((const struct sockaddr *)a) != tp_addr_port(b)) {
		return false;
	}
	if (b->sa_family == AF_INET) {
		return memcmp(&((const struct sockaddr_in *)(const void *)a)
				   ->sin_addr,
			   &((const struct sockaddr_in *)(const void *)b)
				->sin_addr,
			   4) == 0;
	}
	if (b->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
				   ->sin6_addr,
			   &((const struct sockaddr_in6 *)(const void *)b)
				->sin6_addr,
			   16) == 0;
	}
	return false;
}

static void
table_insert(struct tp *tp, struct tp_conn *c)
{
	size_t a = addr_slot(tp, c->proto, (const struct sockaddr *)&c->peer);
	size_t i = id_slot(tp, c->id);

	c->next_addr = tp->by_addr[a];
	tp->by_addr[a] = c;
	c->next_id = tp->by_id[i];
	tp->by_id[i] = c;
}

/* Double the buckets when the table is full; on failure keep the old. */
static void
table_grow(struct tp *tp)
{
	struct tp_conn **oa = tp->by_addr, **oi = tp->by_id;
	size_t on = tp->nbuckets, nn = on * 2;
	struct tp_conn **na, **ni;

	na = calloc(nn, sizeof(*na));
	ni = calloc(nn, sizeof(*ni));
	if (na == NULL || ni == NULL) {
		free(na);
		free(ni);
		return;
	}
	tp->by_addr = na;
	tp->by_id = ni;
	tp->nbuckets = nn;
	for (size_t b = 0; b < on; b++) {
		struct tp_conn *c, *next;

		for (c = oi[b]; c != NULL; c = next) {
			next = c->next_id;
			table_insert(tp, c);
		}
	}
	free(oa);
	free(oi);
}

static void
table_add(struct tp *tp, struct tp_conn *c)
{
	if (tp->nconns >= tp->nbuckets) {
		table_grow(tp);
	}
	table_insert(tp, c);
	tp->nconns++;
}

static void
table_del(struct tp *tp, struct tp_conn *c)
{
	struct tp_conn **pp;

	pp = &tp->by_addr[addr_slot(tp, c->proto,
	    (const struct sockaddr *)&c->peer)];
	for (; *pp != NULL; pp = &(*pp)->next_addr) {
		if (*pp == c) {
			*pp = c->next_addr;
			break;
		}
	}
	for (pp = &tp->by_id[id_slot(tp, c->id)]; *pp != NULL;
	     pp = &(*pp)->next_id) {
		if (*pp == c) {
			*pp = c->next_id;
			break;
		}
	}
	tp->nconns--;
}

struct tp_conn *
tp_conn_find_id(struct tp *tp, uint64_t id)
{
	for (struct tp_conn *c = tp->by_id[id_slot(tp, id)]; c != NULL;
	     c = c->next_id) {
		if (c->id == id) {
			return c;
		}
	}
	return NULL;
}

static struct tp_conn *
find_addr(struct tp *tp, enum tp_proto proto, const struct sockaddr *sa)
{
	for (struct tp_conn *c = tp->by_addr[addr_slot(tp, proto, sa)];
	     c != NULL; c = c->next_addr) {
		if (c->proto == proto && addr_eq(&c->peer, sa)) {
			return c;
		}
	}
	return NULL;
}

/* ------------------------------------------------------ per source */

int
tp_peers_init(struct tp *tp)
{
	struct tp_peers *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return -ENOMEM;
	}
	tp->peers = tp->peers_own = p;
	return 0;
}

void
tp_peers_fini(struct tp *tp)
{
	struct tp_peers *p = tp->peers_own;

	if (p == NULL) {
		return;
	}
	for (size_t b = 0; b < TP_PEER_BUCKETS; b++) {
		struct tp_peer *e, *next;

		for (e = p->tab[b]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
	tp->peers = tp->peers_own = NULL;
}

/* The address bytes of sa (4 or 16) into out; the family or 0. */
static int
peer_key(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(out,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		return AF_INET6;
	}
	return 0;
}

/* The link to the entry of (fam, key) in its chain, or to the NULL that
 * ends the chain (where a new entry goes). */
static struct tp_peer **
peer_find(struct tp_peers *p, int fam, const uint8_t key[16])
{
	struct tp_peer **pp;
	uint64_t h = msg_fnv1a(UINT64_C(0xcbf29ce484222325), key, 16);

	h = msg_fnv1a(h, &fam, sizeof(fam));
	pp = &p->tab[h % TP_PEER_BUCKETS];
	for (; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->family == fam && memcmp((*pp)->addr, key, 16) == 0) {
			return pp;
		}
	}
	return pp;
}

/*
 * Count one more inbound connection from sa.  Returns 0, -EUSERS when sa
 * has tp->per_source open already, -ENOMEM.
 */
static int
peer_take(struct tp *tp, const struct sockaddr *sa)
{
	struct tp_peers *p = tp->peers;
	struct tp_peer **pp, *e;
	uint8_t key[16];
	int fam = peer_key(sa, key), rc = 0;

	pthread_mutex_lock(&p->mu);
	pp = peer_find(p, fam, key);
	e = *pp;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		e->family = fam;
		memcpy(e->addr, key, 16);
		*pp = e;
	}
	if (tp->per_source > 0 && e->n >= tp->per_source) {
		rc = -EUSERS;
		goto out;
	}
	e->n++;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Count one inbound connection from sa less. */
static void
peer_give(struct tp *tp, const struct sockaddr *sa)
{
	struct tp_peers *p = tp->peers;
	struct tp_peer **pp, *e;
	uint8_t key[16];
	int fam = peer_key(sa, key);

	pthread_mutex_lock(&p->mu);
	pp = peer_find(p, fam, key);
	e = *pp;
	if (e != NULL && e->n > 0 && --e->n == 0) {
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------ lifecycle */

static void
conn_free(struct tp_conn *c)
{
	if (c->rev != NULL) {
		event_free(c->rev);
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev); /* closes the socket (and SSL) */
	}
	if (c->timer != NULL) {
		event_free(c->timer);
	}
	free(c->rbuf);
	free(c);
}

static void
reap(evutil_socket_t fd, short what, void *arg)
{
	struct tp *tp = arg;
	struct tp_conn *c, *next;

	(void)fd;
	(void)what;
	c = tp->dead;
	tp->dead = NULL;
	for (; c != NULL; c = next) {
		next = c->next_dead;
		conn_free(c);
	}
}

static void conn_timer(evutil_socket_t fd, short what, void *arg);

static struct tp_conn *
conn_new(struct tp *tp, enum tp_proto proto, bool inbound,
    const struct sockaddr *sa, socklen_t len)
{
	struct tp_conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->timer = evtimer_new(tp->base, conn_timer, c);
	if (c->timer == NULL) {
		free(c);
		return NULL;
	}
	c->tp = tp;
	c->id = ((uint64_t)tp->index << TP_CONN_INDEX_SHIFT) |
	    (tp->next_seq++ & TP_CONN_SEQ_MASK);
	c->proto = proto;
	c->inbound = inbound;
	if (len > sizeof(c->peer)) {
		len = sizeof(c->peer);
	}
	memcpy(&c->peer, sa, len);
	c->peerlen = len;
	tp_addr_str(sa, c->peer_str, sizeof(c->peer_str));
	c->t_start = c->t_active = tp_now_ms();
	c->timer_at = UINT64_MAX;
	return c;
}

/* Where c leads, as a tp_src. */
static void
conn_src(const struct tp_conn *c, struct tp_src *src)
{
	memset(src, 0, sizeof(*src));
	memcpy(&src->addr, &c->peer, sizeof(src->addr));
	src->addrlen = c->peerlen;
	src->proto = c->proto;
	src->listener = c->listener;
	src->conn_id = c->id;
}

/*
 * Close c: take it out of the table, silence its events and hand it to
 * the reaper.  When bytes were still waiting to leave, err (a negative
 * errno) goes to the error callback.
 */
static void
conn_close(struct tp_conn *c, int err)
{
	struct tp *tp = c->tp;
	bool pending = false;

	if (c->dead) {
		return;
	}
	c->dead = true;
	table_del(tp, c);
	if (c->proto == TP_TLS) {
		tp->stats.tls_now[c->inbound ? 0 : 1]--;
	}
	if (c->inbound) {
		tp->stats.conns_in--;
		atomic_fetch_sub(&tp->in_now, 1);
		if (c->counted) {
			peer_give(tp, (const struct sockaddr *)&c->peer);
			c->counted = false;
		}
	} else {
		tp->stats.conns_out--;
	}
	if (c->bev != NULL) {
		pending = evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    0;
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	}
	if (c->rev != NULL) {
		event_del(c->rev);
	}
	evtimer_del(c->timer);
	c->next_dead = tp->dead;
	tp->dead = c;
	event_active(tp->reaper, EV_TIMEOUT, 0);
	if (pending && err != 0) {
		struct tp_src dst;

		conn_src(c, &dst);
		tp_report_error(tp, &dst, err);
	}
}

int
tp_conns_init(struct tp *tp)
{
	tp->nbuckets = TP_CONN_BUCKETS_MIN;
	tp->by_addr = calloc(tp->nbuckets, sizeof(*tp->by_addr));
	tp->by_id = calloc(tp->nbuckets, sizeof(*tp->by_id));
	tp->reaper = event_new(tp->base, -1, 0, reap, tp);
	if (tp->by_addr == NULL || tp->by_id == NULL || tp->reaper == NULL) {
		tp_conns_fini(tp);
		return -ENOMEM;
	}
	return 0;
}

void
tp_conns_fini(struct tp *tp)
{
	if (tp->by_id != NULL) {
		for (size_t b = 0; b < tp->nbuckets; b++) {
			struct tp_conn *c, *next;

			for (c = tp->by_id[b]; c != NULL; c = next) {
				next = c->next_id;
				conn_free(c);
			}
		}
	}
	reap(-1, 0, tp);
	if (tp->reaper != NULL) {
		event_free(tp->reaper);
		tp->reaper = NULL;
	}
	free(tp->by_addr);
	free(tp->by_id);
	tp->by_addr = tp->by_id = NULL;
	tp->nconns = 0;
}

void
tp_conns_listener_gone(struct tp *tp, struct tp_listener *l)
{
	for (size_t b = 0; b < tp->nbuckets; b++) {
		for (struct tp_conn *c = tp->by_id[b]; c != NULL;
		     c = c->next_id) {
			if (c->listener == l) {
				c->listener = NULL;
			}
		}
	}
	for (struct tp_conn *c = tp->dead; c != NULL; c = c->next_dead) {
		if (c->listener == l) {
			c->listener = NULL;
		}
	}
}

void
tp_report_error(struct tp *tp, const struct tp_src *dst, int err)
{
	if (tp->error != NULL) {
		tp->error(tp->error_arg, dst, err);
	}
}

/* ---------------------------------------------------------------- timers */

/* Schedule c's timer for the earliest of its deadlines. */
static void
conn_arm(struct tp_conn *c, uint64_t now)
{
	const struct tp *tp = c->tp;
	uint64_t hdr = (uint64_t)tp->header_s * 1000, due = UINT64_MAX;
	struct timeval tv;

	if (!c->ready) {
		due = c->t_start + hdr;
	}
	if (c->inbound && !c->got_msg &&
	    c->t_start + (uint64_t)tp->first_s * 1000 < due) {
		due = c->t_start + (uint64_t)tp->first_s * 1000;
	}
	if (c->t_msg != 0 && c->t_msg + hdr < due) {
		due = c->t_msg + hdr;
	}
	if (tp->idle_s > 0 && c->t_active + (uint64_t)tp->idle_s * 1000 < due) {
		due = c->t_active + (uint64_t)tp->idle_s * 1000;
	}
	c->timer_at = due;
	if (due == UINT64_MAX) {
		evtimer_del(c->timer);
		return;
	}
	due = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(due / 1000);
	tv.tv_usec = (suseconds_t)(due % 1000) * 1000 + 1000;
	evtimer_add(c->timer, &tv);
}

static void
conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tp_conn *c = arg;
	struct tp *tp = c->tp;
	uint64_t now = tp_now_ms(), hdr = (uint64_t)tp->header_s * 1000;
	const char *pn = tp_proto_name(c->proto);

	(void)fd;
	(void)what;
	if (!c->ready && now >= c->t_start + hdr) {
		if (c->inbound) {
			tp->stats.timed_out++;
			log_notice(LOG_TRANSPORT,
			    "%s, handshake with %s failed (timed out after "
			    "%u s)",
			    pn, c->peer_str, tp->header_s);
		} else {
			tp->stats.connect_failed++;
			log_err(LOG_TRANSPORT,
			    "%s, connect to %s failed (timed out after %u s)",
			    pn, c->peer_str, tp->header_s);
		}
		conn_close(c, -ETIMEDOUT);
		return;
	}
	if (c->inbound && !c->got_msg &&
	    now >= c->t_start + (uint64_t)tp->first_s * 1000) {
		tp->stats.timed_out++;
		log_notice(LOG_TRANSPORT,
		    "%s, closing connection with %s (no message within %u s)",
		    pn, c->peer_str, tp->first_s);
		conn_close(c, -ETIMEDOUT);
		return;
	}
	if (c->t_msg != 0 && now >= c->t_msg + hdr) {
		tp->stats.timed_out++;
		log_notice(LOG_TRANSPORT,
		    "%s, closing connection with %s (message incomplete "
		    "after %u s)",
		    pn, c->peer_str, tp->header_s);
		conn_close(c, -ETIMEDOUT);
		return;
	}
	if (tp->idle_s > 0 && now >= c->t_active + (uint64_t)tp->idle_s * 1000) {
		tp->stats.closed_idle++;
		log_info(LOG_TRANSPORT,
		    "%s, closing connection with %s (idle for %u s)", pn,
		    c->peer_str, tp->idle_s);
		conn_close(c, -ETIMEDOUT);
		return;
	}
	conn_arm(c, now);
}

void
tp_conns_rearm(struct tp *tp)
{
	uint64_t now = tp_now_ms();

	for (size_t b = 0; b < tp->nbuckets; b++) {
		for (struct tp_conn *c = tp->by_id[b]; c != NULL;
		     c = c->next_id) {
			conn_arm(c, now);
		}
	}
}

/* ----------------------------------------------------------------- input */

/* Queue bytes on c.  Returns 0, or -ENOBUFS (c closed) or -ENOMEM. */
static int
conn_write(struct tp_conn *c, const void *bytes, size_t len)
{
	struct tp *tp = c->tp;
	size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (queued + len > tp->out_max) {
		/* a peer that does not read must not grow our memory */
		tp->stats.overflows++;
		log_notice(LOG_TRANSPORT,
		    "%s, closing connection with %s (output over %zu bytes)",
		    tp_proto_name(c->proto), c->peer_str, tp->out_max);
		conn_close(c, -ENOBUFS);
		return -ENOBUFS;
	}
	/* Plain TCP with nothing queued goes straight to the socket: one
	 * send() per message instead of the bufferevent's write event (two
	 * epoll_ctl() and a wakeup).  What the kernel does not take now is
	 * queued behind, in order; an error is left for the bufferevent to
	 * meet on its own write, so it is reported as before. */
	size_t sent = 0;
	if (c->proto == TP_TCP && c->ready && queued == 0) {
		ssize_t n = send(bufferevent_getfd(c->bev), bytes, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			sent = (size_t)n;
		}
	}
	if (sent < len && bufferevent_write(c->bev, (const char *)bytes + sent,
	    len - sent) < 0) {
		return -ENOMEM;
	}
	tp->stats.bytes_out += len;
	c->t_active = tp_now_ms();
	return 0;
}

/* Are the unframed bytes only a CRLF keep-alive on its way? */
static bool
crlf_only(const char *p, size_t n)
{
	if (n > 3) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n') {
			return false;
		}
	}
	return true;
}

/* A copy of a message on c for the live trace (trace.h). */
static void
conn_trace(struct tp_conn *c, enum trace_dir dir, const void *data,
    size_t len)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	memset(&local, 0, sizeof(local));
	if (c->bev != NULL) {
		(void)getsockname(bufferevent_getfd(c->bev),
		    (struct sockaddr *)&local, &llen);
	}
	trace_msg(dir, tp_proto_name(c->proto), (struct sockaddr *)&local,
	    (struct sockaddr *)&c->peer, data, len);
}

static void
conn_deliver(struct tp_conn *c, const char *data, size_t len)
{
	struct tp *tp = c->tp;
	struct tp_src src;

	conn_src(c, &src);
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
		log_data("received from", c->peer_str, data, len);
	}
	if (trace_enabled()) {
		conn_trace(c, TRACE_IN, data, len);
	}
	tp->recv(tp->arg, &src, data, len);
}

/*
 * Frame and hand on what c->rbuf holds; keep the unframed rest.  Returns
 * false when c was closed.
 */
static bool
conn_frame(struct tp_conn *c, uint64_t now)
{
	struct tp *tp = c->tp;
	size_t off = 0;

	while (off < c->rlen) {
		struct msg_err err = { 0 };
		uint32_t flen = 0;
		enum msg_frame_kind k;
		char clip[LOG_CLIP_SIZE];

		k = msg_frame(&c->framer, c->rbuf + off, c->rlen - off,
		    &tp->limits, &flen, &err);
		if (k == MSG_FRAME_MORE) {
			break;
		}
		switch (k) {
		case MSG_FRAME_ERROR:
			tp->stats.framing_errors++;
			log_notice(LOG_TRANSPORT,
			    "%s, closing connection with %s (%s) %s",
			    tp_proto_name(c->proto), c->peer_str,
			    err.reason != NULL ? err.reason : "framing error",
			    log_clip(clip, sizeof(clip), c->rbuf + off,
				c->rlen - off));
			conn_close(c, -EPROTO);
			return false;
		case MSG_FRAME_PING:
			/* RFC 5626 3.5.1: answer CRLFCRLF with CRLF */
			if (conn_write(c, "\r\n", 2) < 0) {
				return false;
			}
			break;
		case MSG_FRAME_MESSAGE:
			c->got_msg = true;
			conn_deliver(c, c->rbuf + off, flen);
			if (c->dead) {
				return false;
			}
			break;
		default:
			break;
		}
		off += flen;
		/* the next message's first byte came with this read */
		c->t_msg = now;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (c->rlen == 0 || crlf_only(c->rbuf, c->rlen)) {
		c->t_msg = 0;
	} else if (c->t_msg == 0) {
		c->t_msg = now;
	}
	if (c->t_msg != 0 &&
	    c->t_msg + (uint64_t)tp->header_s * 1000 < c->timer_at) {
		conn_arm(c, now);
	}
	return true;
}

/*
 * Room for more input in c->rbuf.  At the size bound (unreachable with
 * msg_frame()'s size check, kept so that a bug cannot grow memory) c is
 * closed and false returned.
 */
static bool
conn_room(struct tp_conn *c)
{
	size_t max = c->tp->max_size > TP_CONN_RBUF_MIN ?
	    (size_t)c->tp->max_size + 1 :
	    TP_CONN_RBUF_MIN;
	size_t cap;
	char *p;

	if (c->rlen < c->rcap) {
		return true;
	}
	if (c->rcap >= max) {
		goto full;
	}
	cap = c->rcap == 0 ? TP_CONN_RBUF_MIN : c->rcap * 2;
	if (cap > max) {
		cap = max;
	}
	p = realloc(c->rbuf, cap);
	if (p == NULL) {
		goto full;
	}
	c->rbuf = p;
	c->rcap = cap;
	return true;
full:
	c->tp->stats.framing_errors++;
	log_notice(LOG_TRANSPORT, "%s, closing connection with %s (%s)",
	    tp_proto_name(c->proto), c->peer_str, "message too large");
	conn_close(c, -EPROTO);
	return false;
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint64_t now = tp_now_ms();

	c->t_active = now;
	while (!c->dead && evbuffer_get_length(in) > 0) {
		int n;

		if (!conn_room(c)) {
			return;
		}
		n = evbuffer_remove(in, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n <= 0) {
			break;
		}
		c->rlen += (size_t)n;
		c->tp->stats.bytes_in += (uint64_t)n;
		if (!conn_frame(c, now)) {
			return;
		}
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg);

/*
 * Input of a plain TCP connection, read from the socket into c->rbuf:
 * the bufferevent's read path asks FIONREAD before every read and copies
 * the bytes once more.  The end of the stream and errors go where the
 * bufferevent would have sent them.
 */
static void
tcp_read(evutil_socket_t fd, short what, void *arg)
{
	struct tp_conn *c = arg;
	uint64_t now = tp_now_ms();

	(void)what;
	c->t_active = now;
	while (!c->dead) {
		size_t room;
		ssize_t n;

		if (!conn_room(c)) {
			return;
		}
		room = c->rcap - c->rlen;
		n = recv(fd, c->rbuf + c->rlen, room, MSG_DONTWAIT);
		if (n > 0) {
			c->rlen += (size_t)n;
			c->tp->stats.bytes_in += (uint64_t)n;
			if (!conn_frame(c, now) || (size_t)n < room) {
				return; /* closed, or the socket is drained */
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			return;
		}
		conn_event(c->bev, BEV_EVENT_READING |
		    (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
		return;
	}
}

/*
 * Start c's I/O once its bufferevent exists.  Plain TCP reads by
 * tcp_read() and writes by send() in conn_write(), the bufferevent
 * keeping only what the kernel did not take (and telling when an
 * outgoing connect completes); TLS does all through the bufferevent.
 */
static int
conn_start(struct tp_conn *c)
{
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	if (c->proto != TP_TCP) {
		return bufferevent_enable(c->bev, EV_READ | EV_WRITE) < 0
		    ? -ENOMEM
		    : 0;
	}
	c->rev = event_new(c->tp->base, bufferevent_getfd(c->bev),
	    EV_READ | EV_PERSIST, tcp_read, c);
	if (c->rev == NULL || event_add(c->rev, NULL) < 0 ||
	    bufferevent_enable(c->bev, EV_WRITE) < 0) {
		return -ENOMEM;
	}
	return 0;
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct tp_conn *c = arg;
	struct tp *tp = c->tp;
	int sock_err = EVUTIL_SOCKET_ERROR();
	const char *pn = tp_proto_name(c->proto);
	char why[160];
	int err;

	if ((what & BEV_EVENT_CONNECTED) != 0) {
		c->ready = true;
		c->t_active = tp_now_ms();
		if (!c->inbound) {
			tp->stats.connected++;
			log_info(LOG_TRANSPORT, "%s, connected to %s", pn,
			    c->peer_str);
		}
		conn_arm(c, c->t_active);
		return;
	}
	if (c->proto == TP_TLS) {
		tp_tls_error(bev, (what & BEV_EVENT_ERROR) ? sock_err : 0, why,
		    sizeof(why));
	} else if ((what & BEV_EVENT_ERROR) != 0 && sock_err != 0) {
		snprintf(why, sizeof(why), "%s", strerror(sock_err));
	} else {
		snprintf(why, sizeof(why), "connection closed");
	}
	err = (what & BEV_EVENT_ERROR) != 0 && sock_err != 0 ? -sock_err :
								-ECONNRESET;
	if (!c->ready && !c->inbound) {
		tp->stats.connect_failed++;
		log_err(LOG_TRANSPORT, "%s, connect to %s failed (%s)", pn,
		    c->peer_str, why);
		if (err == -ECONNRESET && c->proto == TP_TLS) {
			err = -ECONNABORTED;
		}
	} else if (!c->ready) {
		log_notice(LOG_TRANSPORT, "%s, handshake with %s failed (%s)",
		    pn, c->peer_str, why);
	} else if ((what & BEV_EVENT_EOF) != 0) {
		log_info(LOG_TRANSPORT, "%s, connection with %s closed by peer",
		    pn, c->peer_str);
	} else {
		log_notice(LOG_TRANSPORT, "%s, connection with %s failed (%s)",
		    pn, c->peer_str, why);
	}
	conn_close(c, err);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	/* SIP messages are whole when written: do not hold them back */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
/* Open inbound connections of the whole group (every worker's). */
static unsigned
group_conns_in(const struct tp *tp)
{
	unsigned n = 0;

	if (tp->group == NULL) {
		return atomic_load(&tp->in_now);
	}
	for (unsigned i = 0; i < tp->ngroup; i++) {
		n += atomic_load(&tp->group[i]->in_now);
	}
	return n;
}


void
tp_conn_accept(struct tp_listener *l, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	struct tp *tp = l->tp;
	const char *pn = tp_proto_name(l->proto);
	char peer[TP_ADDRSTRLEN];
	struct tp_conn *c;
	int rc;

	if (tp->input_channels > 0 && group_conns_in(tp) >= tp->input_channels) {
		tp->stats.refused++;
		log_notice(LOG_TRANSPORT,
		    "%s, refused connection from %s on %s (input channels "
		    "full: %u)",
		    pn, tp_addr_str(sa, peer, sizeof(peer)), l->name,
		    tp->input_channels);
		close(fd);
		return;
	}
	rc = peer_take(tp, sa);
	if (rc == -EUSERS) {
		tp->stats.refused++;
		log_notice(LOG_TRANSPORT,
		    "%s, refused connection from %s on %s (%u connections "
		    "from its address already)",
		    pn, tp_addr_str(sa, peer, sizeof(peer)), l->name,
		    tp->per_source);
		close(fd);
		return;
	}
	c = rc < 0 ? NULL : conn_new(tp, l->proto, true, sa, len);
	if (c == NULL) {
		log_err(LOG_TRANSPORT, "%s, refused connection from %s (%s)",
		    pn, tp_addr_str(sa, peer, sizeof(peer)), strerror(ENOMEM));
		if (rc == 0) {
			peer_give(tp, sa);
		}
		close(fd);
		return;
	}
	c->counted = true;
	set_nodelay(fd);
	if (l->proto == TP_TLS) {
		SSL *ssl = SSL_new(l->ssl_ctx);

		if (ssl != NULL) {
			/* takes ssl and fd (on a failure, which only lack of
			 * memory causes, libevent may or may not have freed
			 * them: leak rather than free twice) */
			c->bev = bufferevent_openssl_socket_new(tp->base, fd,
			    ssl, BUFFEREVENT_SSL_ACCEPTING,
			    BEV_OPT_CLOSE_ON_FREE);
		} else {
			close(fd);
		}
	} else {
		c->bev = bufferevent_socket_new(tp->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			close(fd);
		}
		c->ready = true;
	}
	if (c->bev == NULL) {
		log_err(LOG_TRANSPORT, "%s, refused connection from %s (%s)",
		    pn, c->peer_str, strerror(ENOMEM));
		peer_give(tp, sa);
		conn_free(c);
		return;
	}
	if (l->proto == TP_TLS) {
		/* a peer that just closes the socket ends its own session */
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	}
	c->listener = l;
	if (conn_start(c) < 0) {
		log_err(LOG_TRANSPORT, "%s, refused connection from %s (%s)",
		    pn, c->peer_str, strerror(ENOMEM));
		peer_give(tp, sa);
		conn_free(c);
		return;
	}
	table_add(tp, c);
	tp->stats.accepted++;
	tp->stats.conns_in++;
	if (c->proto == TP_TLS) {
		tp->stats.tls_now[0]++;
	}
	atomic_fetch_add(&tp->in_now, 1);
	conn_arm(c, c->t_start);
	log_info(LOG_TRANSPORT, "%s, accepted %s on %s", pn, c->peer_str,
	    l->name);
}

/* ---------------------------------------------------------------- output */

/* A new outbound connection to dst.  Returns 0 and it in *out, or -errno. */
static int
conn_connect(struct tp *tp, const struct tp_src *dst, struct tp_conn **out)
{
	const struct sockaddr *sa = (const struct sockaddr *)&dst->addr;
	const char *pn = tp_proto_name(dst->proto);
	struct tp_conn *c;
	int fd, rc;

	if (tp_addr_len(sa) == 0 || dst->addrlen < tp_addr_len(sa)) {
		return -EAFNOSUPPORT;
	}
	c = conn_new(tp, dst->proto, false, sa, tp_addr_len(sa));
	if (c == NULL) {
		return -ENOMEM;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	set_nodelay(fd);
	if (connect(fd, sa, tp_addr_len(sa)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	if (dst->proto == TP_TLS) {
		SSL *ssl = tp_tls_client_ssl(tp, dst->host, sa);

		if (ssl == NULL) {
			close(fd);
			rc = -EINVAL;
			goto fail;
		}
		/* takes ssl and fd (see tp_conn_accept() on failure);
		 * the handshake waits for the connect to finish */
		c->bev = bufferevent_openssl_socket_new(tp->base, fd, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev != NULL) {
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		}
	} else {
		c->bev = bufferevent_socket_new(tp->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			close(fd);
		} else if (bufferevent_socket_connect(c->bev, NULL, 0) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (c->bev == NULL || conn_start(c) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	table_add(tp, c);
	tp->stats.conns_out++;
	if (c->proto == TP_TLS) {
		tp->stats.tls_now[1]++;
	}
	conn_arm(c, c->t_start);
	log_info(LOG_TRANSPORT, "%s, connecting to %s", pn, c->peer_str);
	*out = c;
	return 0;
fail:
	tp->stats.connect_failed++;
	log_err(LOG_TRANSPORT, "%s, connect to %s failed (%s)", pn,
	    c->peer_str, strerror(-rc));
	conn_free(c);
	return rc;
}

int
tp_conn_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)&dst->addr;
	struct tp_conn *c = NULL;
	int rc;

	if (dst->conn_id != 0) {
		c = tp_conn_find_id(tp, dst->conn_id);
		if (c != NULL && c->proto != dst->proto) {
			/* a sips: target must never leave over TCP */
			log_err(LOG_TRANSPORT,
			    "%s, send to %s failed (connection %llx is %s)",
			    tp_proto_name(dst->proto), c->peer_str,
			    (unsigned long long)dst->conn_id,
			    tp_proto_name(c->proto));
			return -EPROTO;
		}
	}
	if (c == NULL && dst->flow) {
		char peer[TP_ADDRSTRLEN];

		/* RFC 5626 5.3: a flow's connection is gone, and another
		 * would not reach the client (its NAT maps only that one) */
		log_notice(LOG_TRANSPORT, "%s, flow to %s failed (connection "
		    "%llx closed)", tp_proto_name(dst->proto),
		    tp_addr_str(sa, peer, sizeof(peer)),
		    (unsigned long long)dst->conn_id);
		return -ENOTCONN;
	}
	if (c == NULL && tp_addr_len(sa) != 0) {
		c = find_addr(tp, dst->proto, sa);
	}
	if (c == NULL) {
		rc = conn_connect(tp, dst, &c);
		if (rc < 0) {
			return rc;
		}
	}
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
		log_data("sent to", c->peer_str, bytes, len);
	}
	if (trace_enabled()) {
		conn_trace(c, TRACE_OUT, bytes, len);
	}
	return conn_write(c, bytes, len);
}
