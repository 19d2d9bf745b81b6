/*
 * Workers in a group (tp_group_link()): two tp on two event_bases in two
 * threads.  A connection accepted by worker A is written by a tp_send() on
 * worker B, through A's inbox and on A's thread; a send that fails on A is
 * reported back to B's error callback on B's thread; and UDP from B leaves
 * by B's own socket bound to the same address as A's (SO_REUSEPORT),
 * without touching A's listener.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "harness.h"

struct worker {
	struct event_base *base;
	struct tp *tp;
	pthread_t th;
	pthread_mutex_t mu;
	unsigned nrx;
	struct tp_src src;
	pthread_t rx_on;
	unsigned nerr;
	int err;
	pthread_t err_on;
};

static void
w_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct worker *w = arg;

	(void)data;
	(void)len;
	pthread_mutex_lock(&w->mu);
	w->nrx++;
	w->src = *src;
	w->rx_on = pthread_self();
	pthread_mutex_unlock(&w->mu);
}

static void
w_error(void *arg, const struct tp_src *dst, int err)
{
	struct worker *w = arg;

	(void)dst;
	pthread_mutex_lock(&w->mu);
	w->nerr++;
	w->err = err;
	w->err_on = pthread_self();
	pthread_mutex_unlock(&w->mu);
}

static void *
w_run(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
w_init(struct worker *w, unsigned idx)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	w->base = event_base_new();
	assert_non_null(w->base);
	w->tp = tp_new(w->base, 65535, w_recv, w);
	assert_non_null(w->tp);
	tp_set_index(w->tp, idx);
	tp_set_error_fn(w->tp, w_error, w);
}

/* Wait (at most 5 s) until *counter under w->mu reaches n. */
static bool
w_wait(struct worker *w, const unsigned *counter, unsigned n)
{
	for (int i = 0; i < 1000; i++) {
		unsigned v;

		pthread_mutex_lock(&w->mu);
		v = *counter;
		pthread_mutex_unlock(&w->mu);
		if (v >= n) {
			return true;
		}
		usleep(5000);
	}
	return false;
}

/* A tp_send() run on a worker's own thread. */
struct job {
	struct worker *w;
	struct tp_src dst;
	const char *bytes;
	size_t len;
	int rc;
	pthread_t ran_on;
	atomic_bool done;
};

static void
job_run(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	j->ran_on = pthread_self();
	j->rc = tp_send(j->w->tp, &j->dst, j->bytes, j->len);
	atomic_store(&j->done, true);
}

static void
job_do(struct job *j)
{
	struct timeval now = { 0, 0 };

	atomic_store(&j->done, false);
	assert_int_equal(event_base_once(j->w->base, -1, EV_TIMEOUT, job_run,
			     j, &now),
	    0);
	for (int i = 0; i < 1000 && !atomic_load(&j->done); i++) {
		usleep(5000);
	}
	assert_true(atomic_load(&j->done));
}

static void
test_cross_worker(void **state)
{
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct worker a, b;
	struct tp *all[2];
	struct tp_listener *la = NULL, *ua = NULL, *ub = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv = { 5, 0 };
	char m[1024], buf[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	struct job j;
	struct tp_stats st;
	int fd, ufd;

	(void)state;
	assert_int_equal(evthread_use_pthreads(), 0);
	w_init(&a, 0);
	w_init(&b, 1);
	h_addr4(&ss, &len, 0);
	assert_int_equal(tp_tcp_listen(a.tp, (struct sockaddr *)&ss, len, &la),
	    0);
	/* UDP: both workers on one address */
	assert_int_equal(tp_udp_listen(a.tp, (struct sockaddr *)&ss, len, &ua),
	    0);
	h_addr4(&ss, &len, h_port(ua));
	assert_int_equal(tp_udp_listen(b.tp, (struct sockaddr *)&ss, len, &ub),
	    0);
	all[0] = a.tp;
	all[1] = b.tp;
	assert_int_equal(tp_group_link(all, 2), 0);
	assert_int_equal(tp_group_link(all, 2), -EINVAL);
	assert_int_equal(pthread_create(&a.th, NULL, w_run, &a), 0);
	assert_int_equal(pthread_create(&b.th, NULL, w_run, &b), 0);

	/* a client of A */
	fd = cli_connect(h_port(la));
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cli_send(fd, m, n);
	assert_true(w_wait(&a, &a.nrx, 1));
	pthread_mutex_lock(&a.mu);
	assert_true(pthread_equal(a.rx_on, a.th));
	assert_int_equal(a.src.proto, TP_TCP);
	assert_int_equal(a.src.conn_id >> 56, 0);
	memset(&j, 0, sizeof(j));
	j.dst = a.src;
	pthread_mutex_unlock(&a.mu);

	/* B answers over A's connection */
	j.w = &b;
	j.bytes = reply;
	j.len = sizeof(reply) - 1;
	job_do(&j);
	assert_int_equal(j.rc, 0);
	assert_true(pthread_equal(j.ran_on, b.th));
	assert_int_equal(cli_recv(NULL, fd, buf, j.len, 5000), j.len);
	assert_memory_equal(buf, reply, j.len);

	/* a send A refuses comes back to B's error callback, on B */
	j.dst.proto = TP_TLS;
	job_do(&j);
	assert_int_equal(j.rc, 0);
	assert_true(w_wait(&b, &b.nerr, 1));
	pthread_mutex_lock(&b.mu);
	assert_int_equal(b.err, -EPROTO);
	assert_true(pthread_equal(b.err_on, b.th));
	pthread_mutex_unlock(&b.mu);

	/* UDP from B with A's listener as the hint: B's own socket */
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(ufd >= 0);
	h_addr4(&ss, &len, 0);
	assert_int_equal(bind(ufd, (struct sockaddr *)&ss, len), 0);
	setsockopt(ufd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&j.dst, 0, sizeof(j.dst));
	len = sizeof(j.dst.addr);
	assert_int_equal(getsockname(ufd, (struct sockaddr *)&j.dst.addr, &len),
	    0);
	j.dst.addrlen = len;
	j.dst.proto = TP_UDP;
	j.dst.listener = ua;
	job_do(&j);
	assert_int_equal(j.rc, 0);
	{
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);

		assert_true(recvfrom(ufd, buf, sizeof(buf), 0,
				(struct sockaddr *)&from, &fl) ==
		    (ssize_t)j.len);
		assert_int_equal(tp_addr_port((struct sockaddr *)&from),
		    h_port(ua));
	}

	event_base_loopbreak(a.base);
	event_base_loopbreak(b.base);
	pthread_join(a.th, NULL);
	pthread_join(b.th, NULL);
	tp_stats(b.tp, &st);
	assert_int_equal(st.conns_out, 0);
	assert_int_equal(st.connected, 0);
	tp_stats(a.tp, &st);
	assert_int_equal(st.conns_in, 1);
	assert_true(st.bytes_out >= sizeof(reply) - 1);
	close(fd);
	close(ufd);
	tp_free(a.tp);
	tp_free(b.tp);
	event_base_free(a.base);
	event_base_free(b.base);
	pthread_mutex_destroy(&a.mu);
	pthread_mutex_destroy(&b.mu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_worker),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
