/*
 * A worker's own UDP socket beside a listener (tp_udp_own(), set
 * worker-ports): what tp_listener_advertised() names for Via and
 * Record-Route, which ports tp_listener_worker_port() counts as sipd's,
 * which socket a datagram leaves from (the own one when the destination
 * names no listener, the named one otherwise), and that the sends of one
 * read batch, queued from both sockets, reach each peer in the order
 * they were made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/transport/tp.h"

struct ctx {
	struct tp *tp;
	struct tp_listener *l;
	struct sockaddr_storage c, d; /* the two peers */
	unsigned got;
};

/* A UDP socket on 127.0.0.1 (port 0: any), with a 2 s receive timeout. */
static int
peer(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	socklen_t len = sizeof(*sin);
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			     sizeof(tv)),
	    0);
	return fd;
}

/* A port free on 127.0.0.1 now. */
static uint16_t
free_port(void)
{
	struct sockaddr_storage ss;
	int fd = peer(&ss);

	close(fd);
	return tp_addr_port((struct sockaddr *)&ss);
}

static void
send_to(struct ctx *x, const struct sockaddr_storage *to,
    struct tp_listener *from, const char *text)
{
	struct tp_src dst;

	memset(&dst, 0, sizeof(dst));
	dst.addr = *to;
	dst.addrlen = sizeof(struct sockaddr_in);
	dst.proto = TP_UDP;
	dst.listener = from;
	assert_int_equal(tp_send(x->tp, &dst, text, strlen(text)), 0);
}

/* Inside a read batch: to c, from the own socket, the listener, the own
 * socket; to d from the own socket. */
static void
on_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct ctx *x = arg;

	(void)src;
	(void)data;
	(void)len;
	x->got++;
	send_to(x, &x->c, NULL, "1");
	send_to(x, &x->c, x->l, "2");
	send_to(x, &x->c, NULL, "3");
	send_to(x, &x->d, NULL, "4");
}

/* The next datagram on fd: its first byte, and its source port. */
static char
next(int fd, uint16_t *from)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[16];
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss,
	    &len);

	assert_true(n > 0);
	*from = tp_addr_port((struct sockaddr *)&ss);
	return buf[0];
}

static void
test_own(void **state)
{
	struct event_base *base = event_base_new();
	struct ctx x = { 0 };
	struct sockaddr_storage la;
	struct tp_listener *adv;
	struct tp_src dst;
	uint16_t p, q, from;
	int c, d, cli;

	(void)state;
	assert_non_null(base);
	x.tp = tp_new(base, 65535, on_recv, &x);
	assert_non_null(x.tp);
	memset(&la, 0, sizeof(la));
	((struct sockaddr_in *)(void *)&la)->sin_family = AF_INET;
	((struct sockaddr_in *)(void *)&la)->sin_addr.s_addr =
	    htonl(INADDR_LOOPBACK);
	assert_int_equal(tp_udp_listen(x.tp, (struct sockaddr *)&la,
			     sizeof(struct sockaddr_in), &x.l),
	    0);
	tp_listener_addr(x.l, &la, NULL);
	p = tp_addr_port((struct sockaddr *)&la);

	memset(&dst, 0, sizeof(dst));
	dst.proto = TP_UDP;
	dst.addr.ss_family = AF_INET;
	/* none yet: nothing changes */
	assert_null(tp_listener_advertised(x.tp, &dst));
	dst.listener = x.l;
	assert_ptr_equal(tp_listener_advertised(x.tp, &dst), x.l);
	assert_false(tp_listener_worker_port(x.tp, TP_UDP, &la, p + 1));

	q = free_port();
	assert_int_equal(tp_udp_own(x.l, q, q, q + 1), 0);
	/* a worker socket has none of its own */
	adv = tp_listener_advertised(x.tp, &dst);
	assert_non_null(adv);
	assert_true(tp_listener_is_own(adv));
	assert_false(tp_listener_is_own(x.l));
	assert_int_equal(tp_udp_own(adv, q, q, q), -EINVAL);
	{
		struct sockaddr_storage oa;
		tp_listener_addr(adv, &oa, NULL);
		assert_int_equal(tp_addr_port((struct sockaddr *)&oa), q);
	}
	/* the listener's, a request's (no listener), the own socket's */
	dst.listener = NULL;
	assert_ptr_equal(tp_listener_advertised(x.tp, &dst), adv);
	dst.listener = adv;
	assert_ptr_equal(tp_listener_advertised(x.tp, &dst), adv);
	/* not over TCP */
	dst.proto = TP_TCP;
	dst.listener = NULL;
	assert_null(tp_listener_advertised(x.tp, &dst));
	/* the group's ports [q, q+1] beside this listener, not others */
	assert_true(tp_listener_worker_port(x.tp, TP_UDP, &la, q));
	assert_true(tp_listener_worker_port(x.tp, TP_UDP, &la, q + 1));
	assert_false(tp_listener_worker_port(x.tp, TP_UDP, &la, q + 2));
	assert_false(tp_listener_worker_port(x.tp, TP_TCP, &la, q));
	{
		struct sockaddr_storage other = la;
		((struct sockaddr_in *)(void *)&other)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK + 1);
		assert_false(
		    tp_listener_worker_port(x.tp, TP_UDP, &other, q));
	}

	/* one datagram in: the batch sends 1, 2, 3 to c and 4 to d */
	c = peer(&x.c);
	d = peer(&x.d);
	cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(cli >= 0);
	assert_int_equal(sendto(cli, "x", 1, 0, (struct sockaddr *)&la,
			     sizeof(struct sockaddr_in)),
	    1);
	for (int i = 0; i < 200 && x.got == 0; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	assert_int_equal(x.got, 1);
	assert_int_equal(next(c, &from), '1');
	assert_int_equal(from, q);
	assert_int_equal(next(c, &from), '2');
	assert_int_equal(from, p);
	assert_int_equal(next(c, &from), '3');
	assert_int_equal(from, q);
	assert_int_equal(next(d, &from), '4');
	assert_int_equal(from, q);

	/* closing the listener closes its worker socket */
	tp_listener_close(x.l);
	dst.proto = TP_UDP;
	dst.listener = NULL;
	assert_null(tp_listener_advertised(x.tp, &dst));
	assert_false(tp_listener_worker_port(x.tp, TP_UDP, &la, q));

	close(cli);
	close(c);
	close(d);
	tp_free(x.tp);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
