/*
 * Stream listeners, TCP and TLS (RFC 3261 18): the listening socket and
 * its libevent evconnlistener.  Each accepted socket is handed to the
 * connection table (conn.c), which applies Input Channels, frames what
 * arrives and owns the connection from then on; a TLS listener also owns
 * the SSL_CTX its connections are created from (tls.c builds it).  Like
 * UDP sockets, listening sockets use SO_REUSEPORT so that every worker
 * listens on the same address and the kernel spreads the connections, and
 * the first worker refuses an address another process listens on.
 */
#include "sipd/transport/tp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "sipd/log.h"

/* Pending connections the kernel holds for accept(). */
#define TP_TCP_BACKLOG 1024
/* Pause after accept() fails for want of descriptors or memory, ms. */
#define TP_ACCEPT_RETRY_MS 1000

void
tp_stream_listener_fini(struct tp_listener *l)
{
	if (l->retry != NULL) {
		event_free(l->retry);
		l->retry = NULL;
	}
	if (l->lev != NULL) {
		evconnlistener_free(l->lev); /* closes fd */
		l->lev = NULL;
		l->fd = -1;
	}
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	SSL_CTX_free(l->ssl_ctx); /* live sessions hold their own ref */
	l->ssl_ctx = NULL;
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)lev;
	tp_conn_accept(arg, fd, sa, (socklen_t)socklen);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct tp_listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();

	log_err(LOG_TRANSPORT, "accept on %s failed (%s)", l->name,
	    strerror(e));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* the socket stays readable: pause instead of spinning */
		struct timeval tv = { 0, TP_ACCEPT_RETRY_MS * 1000 };

		evconnlistener_disable(lev);
		evtimer_add(l->retry, &tv);
	}
}

static void
accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct tp_listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->lev);
}

int
tp_stream_listen(struct tp *tp, enum tp_proto proto,
    const struct sockaddr *addr, socklen_t len, SSL_CTX *ctx,
    struct tp_listener **out)
{
	struct tp_listener *l;
	int one = 1;
	int rc;

	if (tp_addr_len(addr) == 0 || len < tp_addr_len(addr) ||
	    len > sizeof(l->addr)) {
		SSL_CTX_free(ctx);
		return -EAFNOSUPPORT;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		SSL_CTX_free(ctx);
		return -ENOMEM;
	}
	l->tp = tp;
	l->proto = proto;
	l->ssl_ctx = ctx;
	memcpy(&l->addr, addr, len);
	l->addrlen = len;
	if ((rc = tp_listen_probe(tp, proto, addr, len)) < 0) {
		l->fd = -1;
		goto fail;
	}
	l->fd = socket(addr->sa_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((addr->sa_family == AF_INET6 &&
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one)) < 0) ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
		0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) <
		0) {
		rc = -errno;
		goto fail;
	}
	if (bind(l->fd, addr, len) < 0 || listen(l->fd, TP_TCP_BACKLOG) < 0) {
		rc = -errno;
		goto fail;
	}
	tp_listener_set_name(l);
	l->retry = evtimer_new(tp->base, accept_retry, l);
	if (l->retry == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* backlog 0: the socket is listening already */
	l->lev = evconnlistener_new(tp->base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
	if (l->lev == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	evconnlistener_set_error_cb(l->lev, accept_error_cb);
	tp_listener_link(tp, l);
	if (tp->index == 0) {
		/* once, not once a worker */
		log_warn(LOG_TRANSPORT, "listening on %s", l->name);
	}
	if (out != NULL) {
		*out = l;
	}
	return 0;
fail:
	tp_stream_listener_fini(l);
	free(l);
	return rc;
}

int
tp_tcp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out)
{
	return tp_stream_listen(tp, TP_TCP, addr, len, NULL, out);
}
