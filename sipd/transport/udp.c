/*
 * UDP listeners.  Each listener owns its socket, its libevent read event
 * and a receive area of TP_UDP_BATCH buffers, so one wakeup reads up to a
 * batch of datagrams with a single recvmmsg() call and hands each to the
 * transport's receive callback with its source.  The struct tp owns the
 * listeners; it belongs to one worker and runs on that worker's
 * event_base.  Replies leave by the socket the request came in on
 * (tp_udp_send(), reached through tp_send()); every socket carries the
 * UDP TOS Tag when one is set.  What the handling of a read batch sends
 * is queued and leaves with one sendmmsg() when the batch is done, so a
 * wakeup costs one receive and one send however many datagrams it moves;
 * a send that fails there is reported as a transport error, as an ICMP
 * error for an earlier datagram is.  Sockets use SO_REUSEPORT so that each
 * worker binds the same address and the kernel spreads the load; the
 * first worker checks that no other process holds the address
 * (tp_listen_probe()), since SO_REUSEPORT would let it share.  A worker
 * may also have a socket of its own beside a listener (tp_udp_own(),
 * set worker-ports): the requests it sends leave from there and name
 * its port, so their answers come back to it, not to whichever worker
 * the kernel picks.
 */
#include "sipd/transport/tp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/log.h"
#include "sipd/trace.h"

static void udp_flush(struct tp *tp);

/* Kernel receive buffer asked for: room for bursts between wakeups. */
#define TP_UDP_RCVBUF (1024 * 1024)
/*
 * Datagrams handled before what they queued is sent: the first reply of a
 * batch waits for the work of at most this many (some 0.2 ms at the
 * rates one worker sustains), where a whole batch could take a
 * millisecond or more.
 */
#define TP_UDP_FLUSH_EVERY 8
/* Bytes of queued sends; a larger datagram leaves at once. */
#define TP_UDP_OUT_BYTES (64 * 1024)

/* The sends queued while a read batch is handled, flushed at its end. */
struct tp_udp_out {
	int n;
	size_t used;
	struct tp_listener *l[TP_UDP_BATCH];
	struct mmsghdr msgs[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct sockaddr_storage to[TP_UDP_BATCH];
	char buf[TP_UDP_OUT_BYTES];
};

void
tp_udp_out_free(struct tp *tp)
{
	free(tp->out);
	tp->out = NULL;
}

void
tp_udp_listener_fini(struct tp_listener *l)
{
	if (l->ev != NULL) {
		event_free(l->ev);
		l->ev = NULL;
	}
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	free(l->bufs);
	free(l->msgs);
	free(l->iov);
	free(l->from);
}

int
tp_udp_apply_tos(struct tp_listener *l, int tos)
{
	int r;

	if (l->addr.ss_family == AF_INET6) {
		r = setsockopt(l->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
		    sizeof(tos));
	} else {
		r = setsockopt(l->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	}
	if (r < 0) {
		int e = errno;

		log_err(LOG_TRANSPORT, "cannot set tos %d on %s (%s)", tos,
		    l->name, strerror(e));
		return -e;
	}
	return 0;
}

/* Reset entries [0, n) of the receive area for the next recvmmsg(): the
 * kernel writes only the lengths, so the rest stays as it was set. */
static void
udp_arm(struct tp_listener *l, int n)
{
	for (int i = 0; i < n; i++) {
		l->msgs[i].msg_hdr.msg_namelen = sizeof(l->from[i]);
		l->msgs[i].msg_hdr.msg_flags = 0;
		l->msgs[i].msg_len = 0;
	}
}

/* Point every entry of the receive area at its buffer, once. */
static void
udp_area_init(struct tp_listener *l)
{
	for (int i = 0; i < TP_UDP_BATCH; i++) {
		l->iov[i].iov_base = l->bufs + (size_t)i * l->bufsize;
		l->iov[i].iov_len = l->bufsize;
		memset(&l->msgs[i], 0, sizeof(l->msgs[i]));
		l->msgs[i].msg_hdr.msg_name = &l->from[i];
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	udp_arm(l, TP_UDP_BATCH);
}

void
tp_udp_resize(struct tp_listener *l, uint32_t max_size)
{
	size_t size = (size_t)max_size + 1;
	char *bufs;

	if (size == l->bufsize) {
		return;
	}
	bufs = malloc(size * TP_UDP_BATCH);
	if (bufs == NULL) {
		log_err(LOG_TRANSPORT, "cannot resize the buffers of %s (%s)",
		    l->name, strerror(ENOMEM));
		return;
	}
	/* not inside udp_read(): settings change between wakeups */
	free(l->bufs);
	l->bufs = bufs;
	l->bufsize = size;
	udp_area_init(l);
}

/* An ICMP error that means the destination is gone, not a PMTU update. */
static bool
udp_fatal_icmp(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH;
}

/*
 * The ICMP errors queued for datagrams sent (IP_RECVERR): a port or host
 * unreachable is a transport error for the transactions sending there
 * (RFC 3261 17.1.4, RFC 3263 4.3), given to the error callback with the
 * destination the datagram had.  At most a batch a wakeup.
 */
static void
udp_errors(struct tp_listener *l)
{
	struct tp *tp = l->tp;

	for (int i = 0; i < TP_UDP_BATCH; i++) {
		struct sockaddr_storage ss;
		union {
			char buf[512];
			struct cmsghdr align;
		} ctrl;
		char byte;
		struct iovec iov = { &byte, 1 };
		struct msghdr mh = {
			.msg_name = &ss,
			.msg_namelen = sizeof(ss),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};

		if (recvmsg(l->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			return;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			const struct sock_extended_err *ee;
			struct tp_src dst;
			char peer[TP_ADDRSTRLEN];

			if (!((cm->cmsg_level == SOL_IP &&
				  cm->cmsg_type == IP_RECVERR) ||
				(cm->cmsg_level == SOL_IPV6 &&
				    cm->cmsg_type == IPV6_RECVERR))) {
				continue;
			}
			ee = (const struct sock_extended_err *)(const void *)
			    CMSG_DATA(cm);
			if ((ee->ee_origin != SO_EE_ORIGIN_ICMP &&
				ee->ee_origin != SO_EE_ORIGIN_ICMP6) ||
			    !udp_fatal_icmp((int)ee->ee_errno) ||
			    mh.msg_namelen > sizeof(ss)) {
				continue;
			}
			memset(&dst, 0, sizeof(dst));
			memcpy(&dst.addr, &ss, mh.msg_namelen);
			dst.addrlen = mh.msg_namelen;
			dst.proto = TP_UDP;
			log_notice(LOG_TRANSPORT, "send to %s from %s failed (%s)",
			    tp_addr_str((struct sockaddr *)&dst.addr, peer,
				sizeof(peer)),
			    l->name, strerror((int)ee->ee_errno));
			if (tp->error != NULL) {
				tp->error(tp->error_arg, &dst, -(int)ee->ee_errno);
			}
		}
	}
}

/*
 * Whether the receive buffer of fd is at least TP_UDP_BUSY_PERCENT full
 * after a full batch was read: datagrams wait, and past the buffer the
 * kernel drops them unanswered, so new requests are better refused 503
 * while it lasts (RFC 3261 21.5.4).
 */
static bool
udp_behind(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
	    len < sizeof(uint32_t) * (SK_MEMINFO_RCVBUF + 1) ||
	    mem[SK_MEMINFO_RCVBUF] == 0) {
		return false;
	}
	return (uint64_t)mem[SK_MEMINFO_RMEM_ALLOC] * 100 >=
	    (uint64_t)mem[SK_MEMINFO_RCVBUF] * TP_UDP_BUSY_PERCENT;
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct tp_listener *l = arg;
	struct tp *tp = l->tp;
	struct tp_src src;
	bool behind;
	int n;

	(void)what;
	n = recvmmsg(fd, l->msgs, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		/* an ICMP error for an earlier send, or a wakeup for one
		 * whose error was taken by a send: its queue says where */
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && !udp_fatal_icmp(errno)) {
			log_err(LOG_TRANSPORT, "receive on %s failed (%s)",
			    l->name, strerror(errno));
		}
		udp_errors(l);
		return;
	}
	behind = n == TP_UDP_BATCH && udp_behind(fd);
	/* the source as the batch's datagrams share it: only the address
	 * (its namelen bytes, the rest staying zero) changes */
	memset(&src, 0, sizeof(src));
	src.proto = TP_UDP;
	src.listener = l;
	src.behind = behind;
	tp->udp_queue = true;
	for (int i = 0; i < n; i++) {
		struct mmsghdr *mm = &l->msgs[i];
		socklen_t alen = mm->msg_hdr.msg_namelen;

		if (alen > sizeof(src.addr)) {
			alen = sizeof(src.addr);
		}
		if (alen < src.addrlen) {
			memset((char *)&src.addr + alen, 0, src.addrlen - alen);
		}
		if (alen == sizeof(struct sockaddr_in)) {
			memcpy(&src.addr, &l->from[i],
			    sizeof(struct sockaddr_in));
		} else {
			memcpy(&src.addr, &l->from[i], alen);
		}
		src.addrlen = alen;
		if (mm->msg_len > tp->max_size ||
		    (mm->msg_hdr.msg_flags & MSG_TRUNC) != 0) {
			char peer[TP_ADDRSTRLEN];

			log_notice(LOG_TRANSPORT,
			    "dropped datagram from %s on %s (over %u bytes)",
			    tp_addr_str((struct sockaddr *)&src.addr, peer,
				sizeof(peer)),
			    l->name, tp->max_size);
			continue;
		}
		if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
			char peer[TP_ADDRSTRLEN];

			log_data("received from",
			    tp_addr_str((struct sockaddr *)&src.addr, peer,
				sizeof(peer)),
			    l->iov[i].iov_base, mm->msg_len);
		}
		if (trace_enabled()) {
			trace_msg(TRACE_IN, "udp", (struct sockaddr *)&l->addr,
			    (struct sockaddr *)&src.addr, l->iov[i].iov_base,
			    mm->msg_len);
		}
		tp->stats.bytes_in += mm->msg_len;
		tp->recv(tp->arg, &src, l->iov[i].iov_base, mm->msg_len);
		if ((i + 1) % TP_UDP_FLUSH_EVERY == 0 && tp->out != NULL &&
		    tp->out->n > 0) {
			udp_flush(tp);
		}
	}
	tp->udp_queue = false;
	if (tp->out != NULL && tp->out->n > 0) {
		udp_flush(tp);
	}
	udp_arm(l, n);
}

/*
 * Open a UDP socket on addr and read it: shared, the listener every
 * worker binds with SO_REUSEPORT (the first checks that no other process
 * holds addr); else a worker's own socket, bound alone.
 */
static int
udp_open(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    bool shared, struct tp_listener **out)
{
	struct tp_listener *l;
	int one = 1, rcvbuf = TP_UDP_RCVBUF;
	int rc;

	if (tp_addr_len(addr) == 0 || len < tp_addr_len(addr) ||
	    len > sizeof(l->addr)) {
		return -EAFNOSUPPORT;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	l->fd = -1;
	l->tp = tp;
	l->proto = TP_UDP;
	memcpy(&l->addr, addr, len);
	l->addrlen = len;
	tp_listener_set_name(l);
	l->bufsize = (size_t)tp->max_size + 1;
	l->bufs = malloc(l->bufsize * TP_UDP_BATCH);
	l->msgs = calloc(TP_UDP_BATCH, sizeof(*l->msgs));
	l->iov = calloc(TP_UDP_BATCH, sizeof(*l->iov));
	l->from = calloc(TP_UDP_BATCH, sizeof(*l->from));
	if (l->bufs == NULL || l->msgs == NULL || l->iov == NULL ||
	    l->from == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	udp_area_init(l);
	if (shared && (rc = tp_listen_probe(tp, TP_UDP, addr, len)) < 0) {
		goto fail;
	}
	l->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (l->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (addr->sa_family == AF_INET6 &&
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) <
		0) {
		rc = -errno;
		goto fail;
	}
	/* every worker binds the same address; the kernel spreads the
	 * datagrams over their sockets */
	if (shared &&
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) <
		0) {
		rc = -errno;
		goto fail;
	}
	/* ICMP errors for what is sent from it, read by udp_errors() */
	(void)setsockopt(l->fd, addr->sa_family == AF_INET6 ? SOL_IPV6
							   : SOL_IP,
	    addr->sa_family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR, &one,
	    sizeof(one));
	/* A smaller buffer than asked for only costs drops under load. */
	(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	if (tp->udp_tos >= 0) {
		(void)tp_udp_apply_tos(l, tp->udp_tos);
	}
	if (bind(l->fd, addr, len) < 0) {
		rc = -errno;
		goto fail;
	}
	tp_listener_set_name(l);
	l->ev = event_new(tp->base, l->fd, EV_READ | EV_PERSIST, udp_read, l);
	if (l->ev == NULL || event_add(l->ev, NULL) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	tp_listener_link(tp, l);
	if (!shared) {
		log_notice(LOG_TRANSPORT, "listening on %s (worker %u)", l->name,
		    tp->index);
	} else if (tp->index == 0) {
		/* once, not once a worker */
		log_warn(LOG_TRANSPORT, "listening on %s", l->name);
	}
	if (out != NULL) {
		*out = l;
	}
	return 0;
fail:
	tp_udp_listener_fini(l);
	free(l);
	return rc;
}

int
tp_udp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out)
{
	return udp_open(tp, addr, len, true, out);
}

int
tp_udp_own(struct tp_listener *l, uint16_t port, uint16_t lo, uint16_t hi)
{
	struct sockaddr_storage a;
	struct tp_listener *own;
	int rc;

	if (l->proto != TP_UDP || l->parent != NULL) {
		return -EINVAL;
	}
	if (l->own != NULL) {
		tp_listener_close(l->own); /* clears l->own */
	}
	l->own_lo = l->own_hi = 0;
	if (port == 0) {
		return 0;
	}
	memcpy(&a, &l->addr, sizeof(a));
	tp_addr_set_port((struct sockaddr *)&a, port);
	rc = udp_open(l->tp, (struct sockaddr *)&a, l->addrlen, false, &own);
	if (rc < 0) {
		return rc;
	}
	own->parent = l;
	l->own = own;
	l->own_lo = lo;
	l->own_hi = hi;
	return 0;
}

bool
tp_listener_is_own(const struct tp_listener *l)
{
	return l->parent != NULL;
}

struct tp_listener *
tp_listener_advertised(struct tp *tp, const struct tp_src *dst)
{
	struct tp_listener *any = NULL;

	if (dst->proto != TP_UDP) {
		return dst->listener;
	}
	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto != TP_UDP) {
			continue;
		}
		if (l == dst->listener) {
			return l->own != NULL ? l->own : l;
		}
		/* the list is newest first: keep the oldest, as udp_pick() */
		if (l->parent == NULL &&
		    l->addr.ss_family == dst->addr.ss_family) {
			any = l;
		}
	}
	if (dst->listener != NULL || any == NULL) {
		return dst->listener;
	}
	return any->own;
}

/* Same family, address and port. */
static bool
udp_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family ||
	    tp_addr_port((const struct sockaddr *)a) !=
		tp_addr_port((const struct sockaddr *)b)) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		return ((const struct sockaddr_in *)(const void *)a)
			   ->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)
			->sin_addr.s_addr;
	}
	return a->ss_family == AF_INET6 &&
	    memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		&((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		sizeof(struct in6_addr)) == 0;
}

bool
tp_listener_worker_port(struct tp *tp, enum tp_proto proto,
    const struct sockaddr_storage *addr, uint16_t port)
{
	if (proto != TP_UDP) {
		return false;
	}
	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto == TP_UDP && l->own_hi != 0 && port >= l->own_lo &&
		    port <= l->own_hi && udp_same_addr(&l->addr, addr)) {
			return true;
		}
	}
	return false;
}

/*
 * The socket to send to dst from: dst's listener when it is one of ours
 * of dst's family, else our first of that family.  A listener of another
 * worker is never dereferenced (it may be gone): that worker's twin on the
 * same address is ours only when tp has a single listener of the family.
 */
static struct tp_listener *
udp_pick(struct tp *tp, const struct tp_src *dst)
{
	struct tp_listener *any = NULL;
	int fam = dst->addr.ss_family;

	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto != TP_UDP || l->addr.ss_family != fam) {
			continue;
		}
		if (l == dst->listener) {
			return l;
		}
		/* the list is newest first: keep the oldest */
		if (l->parent == NULL) {
			any = l;
		}
	}
	/* a request of this worker's (no listener named): from its own
	 * socket, whose port its Via names (tp_listener_advertised()) */
	if (dst->listener == NULL && any != NULL && any->own != NULL) {
		return any->own;
	}
	return any;
}

/* Send one datagram from l; 0 or a negative errno. */
static int
udp_sendto(struct tp_listener *l, const void *bytes, size_t len,
    const struct sockaddr *dest, socklen_t dlen)
{
	ssize_t n;

	n = sendto(l->fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL, dest, dlen);
	if (n < 0 && udp_fatal_icmp(errno)) {
		/* the socket's pending error, an ICMP for another datagram
		 * (IP_RECVERR): this one was not sent; its queue keeps the
		 * error for udp_errors() */
		n = sendto(l->fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL, dest,
		    dlen);
	}
	if (n < 0) {
		int e = errno;
		char peer[TP_ADDRSTRLEN];

		log_err(LOG_TRANSPORT, "send to %s from %s failed (%s)",
		    tp_addr_str(dest, peer, sizeof(peer)), l->name,
		    strerror(e));
		return -e;
	}
	l->tp->stats.bytes_out += len;
	return 0;
}

/* Whether queued datagrams a and b go to the same address and port. */
static bool
udp_out_same_dest(const struct tp_udp_out *o, int a, int b)
{
	return o->msgs[a].msg_hdr.msg_namelen ==
		o->msgs[b].msg_hdr.msg_namelen &&
	    memcmp(&o->to[a], &o->to[b], o->msgs[a].msg_hdr.msg_namelen) == 0;
}

/*
 * Send what the batch queued, with one sendmmsg() for each socket: a
 * worker with a socket of its own (tp_udp_own()) answers from the
 * listener and forwards from its own, and the two alternate in the
 * queue.  A datagram is sent ahead of one queued before it on another
 * socket only when they go to different peers, so that a peer gets what
 * sipd sends it in order.  A datagram the kernel refuses is sent again
 * alone (udp_sendto()), and when that fails too, its destination has a
 * transport error (RFC 3261 17.1.4, 18.4), the same report an ICMP error
 * gives.
 */
static void
udp_flush(struct tp *tp)
{
	struct tp_udp_out *o = tp->out;
	bool queue = tp->udp_queue;
	bool done[TP_UDP_BATCH];
	struct mmsghdr run[TP_UDP_BATCH];
	int pick[TP_UDP_BATCH];
	bool one = true;
	int first = 0;

	/* what the error callback sends leaves at once, not into the
	 * queue being sent */
	tp->udp_queue = false;
	for (int k = 0; k < o->n; k++) {
		done[k] = false;
		one = one && o->l[k] == o->l[0];
	}
	while (first < o->n) {
		struct tp_listener *l = o->l[first];
		struct mmsghdr *batch = run;
		int n = 0, sent, k, rc;

		if (one) {
			/* one socket (the common case): what is left of the
			 * queue, in order, as it stands */
			for (k = first; k < o->n; k++) {
				pick[n++] = k;
			}
			batch = &o->msgs[first];
		}
		for (k = first; k < o->n && !one; k++) {
			bool held = false;

			if (done[k] || o->l[k] != l) {
				continue;
			}
			for (int j = first; j < k && !held; j++) {
				held = !done[j] && o->l[j] != l &&
				    udp_out_same_dest(o, j, k);
			}
			if (!held) {
				pick[n] = k;
				run[n++] = o->msgs[k];
			}
		}
		sent = sendmmsg(l->fd, batch, (unsigned)n,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		for (k = 0; k < sent; k++) {
			tp->stats.bytes_out += o->iov[pick[k]].iov_len;
			done[pick[k]] = true;
		}
		if (sent < 0) {
			sent = 0;
		}
		if (sent < n) {
			/* the first one refused: alone, then the rest */
			int i = pick[sent];

			rc = udp_sendto(l, o->iov[i].iov_base, o->iov[i].iov_len,
			    (struct sockaddr *)&o->to[i],
			    o->msgs[i].msg_hdr.msg_namelen);
			done[i] = true;
			if (rc < 0 && tp->error != NULL) {
				struct tp_src dst;

				memset(&dst, 0, sizeof(dst));
				memcpy(&dst.addr, &o->to[i], sizeof(dst.addr));
				dst.addrlen = o->msgs[i].msg_hdr.msg_namelen;
				dst.proto = TP_UDP;
				tp->error(tp->error_arg, &dst, rc);
			}
		}
		while (first < o->n && done[first]) {
			first++;
		}
	}
	o->n = 0;
	o->used = 0;
	tp->udp_queue = queue;
}

void
tp_udp_batch(struct tp *tp, bool on)
{
	tp->udp_queue = on;
	if (!on && tp->out != NULL && tp->out->n > 0) {
		udp_flush(tp);
	}
}

/* Queue a datagram for udp_flush(); false when it must leave now. */
static bool
udp_queue(struct tp *tp, struct tp_listener *l, const void *bytes,
    size_t len, const struct sockaddr *dest, socklen_t dlen)
{
	struct tp_udp_out *o = tp->out;
	struct mmsghdr *mm;

	if (len > TP_UDP_OUT_BYTES) {
		return false;
	}
	if (o == NULL) {
		o = tp->out = calloc(1, sizeof(*o));
		if (o == NULL) {
			return false;
		}
	}
	if (o->n == TP_UDP_BATCH || TP_UDP_OUT_BYTES - o->used < len) {
		udp_flush(tp);
	}
	memcpy(o->buf + o->used, bytes, len);
	memcpy(&o->to[o->n], dest, dlen);
	o->iov[o->n].iov_base = o->buf + o->used;
	o->iov[o->n].iov_len = len;
	mm = &o->msgs[o->n];
	memset(mm, 0, sizeof(*mm));
	mm->msg_hdr.msg_name = &o->to[o->n];
	mm->msg_hdr.msg_namelen = dlen;
	mm->msg_hdr.msg_iov = &o->iov[o->n];
	mm->msg_hdr.msg_iovlen = 1;
	o->l[o->n] = l;
	o->used += len;
	o->n++;
	return true;
}

int
tp_udp_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len)
{
	char peer[TP_ADDRSTRLEN];
	const struct sockaddr *dest = (const struct sockaddr *)&dst->addr;
	socklen_t dlen = tp_addr_len(dest);
	struct tp_listener *l;

	if (dlen == 0) {
		log_err(LOG_TRANSPORT, "send to %s failed (%s)",
		    tp_addr_str(dest, peer, sizeof(peer)),
		    "unknown address family");
		return -EAFNOSUPPORT;
	}
	l = udp_pick(tp, dst);
	if (l == NULL) {
		log_err(LOG_TRANSPORT, "send to %s failed (%s)",
		    tp_addr_str(dest, peer, sizeof(peer)),
		    "no udp listener of its family");
		return -ENOENT;
	}
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
		log_data("sent to", tp_addr_str(dest, peer, sizeof(peer)),
		    bytes, len);
	}
	if (trace_enabled()) {
		trace_msg(TRACE_OUT, "udp", (struct sockaddr *)&l->addr, dest,
		    bytes, len);
	}
	/* inside a read batch: one sendmmsg() at its end (udp_read()) */
	if (tp->udp_queue && udp_queue(tp, l, bytes, len, dest, dlen)) {
		return 0;
	}
	return udp_sendto(l, bytes, len, dest, dlen);
}
