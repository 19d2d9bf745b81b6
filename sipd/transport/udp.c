/*
 * UDP listeners.  Each listener owns its socket, its libevent read event
 * and a receive area of TP_UDP_BATCH buffers, so one wakeup reads up to a
 * batch of datagrams with a single recvmmsg() call and hands each to the
 * transport's receive callback with its source.  The struct tp owns the
 * listeners; it belongs to one worker and runs on that worker's
 * event_base.  Replies leave by the socket the request came in on
 * (tp_send()).
 */
#include "sipd/transport/tp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/log.h"

/* Kernel receive buffer asked for: room for bursts between wakeups. */
#define TP_UDP_RCVBUF (1024 * 1024)

struct tp_listener {
	struct tp *tp;
	struct tp_listener *next;
	int fd;
	struct event *ev;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[TP_ADDRSTRLEN + 8];
	size_t bufsize; /* max_size + 1, to see an oversized datagram */
	char *bufs;     /* TP_UDP_BATCH buffers of bufsize */
	struct mmsghdr msgs[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct sockaddr_storage from[TP_UDP_BATCH];
};

struct tp {
	struct event_base *base;
	uint32_t max_size;
	tp_recv_fn *recv;
	void *arg;
	struct tp_listener *listeners;
};

static socklen_t
tp_addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

const char *
tp_addr_host(const struct sockaddr *sa, char *buf, size_t cap)
{
	const void *a;

	switch (sa->sa_family) {
	case AF_INET:
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		break;
	case AF_INET6:
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		break;
	default:
		snprintf(buf, cap, "?");
		return buf;
	}
	if (inet_ntop(sa->sa_family, a, buf, (socklen_t)cap) == NULL) {
		snprintf(buf, cap, "?");
	}
	return buf;
}

uint16_t
tp_addr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	case AF_INET6:
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	default:
		return 0;
	}
}

void
tp_addr_set_port(struct sockaddr *sa, uint16_t port)
{
	switch (sa->sa_family) {
	case AF_INET:
		((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
		break;
	case AF_INET6:
		((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
		break;
	default:
		break;
	}
}

const char *
tp_addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	tp_addr_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6) {
		snprintf(buf, cap, "[%s]:%u", host, tp_addr_port(sa));
	} else if (sa->sa_family == AF_INET) {
		snprintf(buf, cap, "%s:%u", host, tp_addr_port(sa));
	} else {
		snprintf(buf, cap, "?");
	}
	return buf;
}

const char *
tp_listener_name(const struct tp_listener *l)
{
	return l->name;
}

struct tp *
tp_new(struct event_base *base, uint32_t max_size, tp_recv_fn *recv,
    void *arg)
{
	struct tp *tp;

	tp = calloc(1, sizeof(*tp));
	if (tp == NULL) {
		return NULL;
	}
	tp->base = base;
	tp->max_size = max_size;
	tp->recv = recv;
	tp->arg = arg;
	return tp;
}

static void
tp_listener_free(struct tp_listener *l)
{
	if (l == NULL) {
		return;
	}
	if (l->ev != NULL) {
		event_free(l->ev);
	}
	if (l->fd >= 0) {
		close(l->fd);
	}
	free(l->bufs);
	free(l);
}

void
tp_free(struct tp *tp)
{
	struct tp_listener *l, *next;

	if (tp == NULL) {
		return;
	}
	for (l = tp->listeners; l != NULL; l = next) {
		next = l->next;
		tp_listener_free(l);
	}
	free(tp);
}

/* Reset the receive area before a recvmmsg() call. */
static void
udp_arm(struct tp_listener *l)
{
	for (int i = 0; i < TP_UDP_BATCH; i++) {
		l->iov[i].iov_base = l->bufs + (size_t)i * l->bufsize;
		l->iov[i].iov_len = l->bufsize;
		memset(&l->msgs[i], 0, sizeof(l->msgs[i]));
		l->msgs[i].msg_hdr.msg_name = &l->from[i];
		l->msgs[i].msg_hdr.msg_namelen = sizeof(l->from[i]);
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct tp_listener *l = arg;
	struct tp *tp = l->tp;
	int n;

	(void)what;
	udp_arm(l);
	n = recvmmsg(fd, l->msgs, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		/* ECONNREFUSED: an ICMP error for an earlier send */
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNREFUSED) {
			log_err(LOG_TRANSPORT, "receive on %s failed (%s)",
			    l->name, strerror(errno));
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		struct mmsghdr *mm = &l->msgs[i];
		struct tp_src src;

		memset(&src, 0, sizeof(src));
		memcpy(&src.addr, &l->from[i], sizeof(src.addr));
		src.addrlen = mm->msg_hdr.msg_namelen;
		src.proto = TP_UDP;
		src.listener = l;
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
		tp->recv(tp->arg, &src, l->iov[i].iov_base, mm->msg_len);
	}
}

int
tp_udp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out)
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
	memcpy(&l->addr, addr, len);
	l->addrlen = len;
	snprintf(l->name, sizeof(l->name), "udp ");
	tp_addr_str(addr, l->name + 4, sizeof(l->name) - 4);
	l->bufsize = (size_t)tp->max_size + 1;
	l->bufs = malloc(l->bufsize * TP_UDP_BATCH);
	if (l->bufs == NULL) {
		rc = -ENOMEM;
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
	/* A smaller buffer than asked for only costs drops under load. */
	(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	if (bind(l->fd, addr, len) < 0) {
		rc = -errno;
		goto fail;
	}
	l->ev = event_new(tp->base, l->fd, EV_READ | EV_PERSIST, udp_read, l);
	if (l->ev == NULL || event_add(l->ev, NULL) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	l->next = tp->listeners;
	tp->listeners = l;
	log_warn(LOG_TRANSPORT, "listening on %s", l->name);
	if (out != NULL) {
		*out = l;
	}
	return 0;
fail:
	tp_listener_free(l);
	return rc;
}

int
tp_send(struct tp_listener *l, const struct sockaddr *dest, const void *bytes,
    size_t len)
{
	char peer[TP_ADDRSTRLEN];
	socklen_t dlen = tp_addr_len(dest);
	ssize_t n;

	if (dlen == 0 || dest->sa_family != l->addr.ss_family) {
		log_err(LOG_TRANSPORT, "send to %s from %s failed (%s)",
		    tp_addr_str(dest, peer, sizeof(peer)), l->name,
		    "address family mismatch");
		return -EAFNOSUPPORT;
	}
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
		log_data("sent to", tp_addr_str(dest, peer, sizeof(peer)),
		    bytes, len);
	}
	n = sendto(l->fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL, dest, dlen);
	if (n < 0) {
		int e = errno;

		log_err(LOG_TRANSPORT, "send to %s from %s failed (%s)",
		    tp_addr_str(dest, peer, sizeof(peer)), l->name,
		    strerror(e));
		return -e;
	}
	return 0;
}
