/*
 * TCP transport and connection table, driven by real loopback sockets:
 * framing (one message, many per segment, a byte at a time), CRLF ping and
 * keep-alive (RFC 5626 3.5.1), framing faults that close the stream, the
 * slow-drip timeout while another peer is served, Input Channels, the Idle
 * Timeout, replies over the request's connection (RFC 3261 18.2.2),
 * outbound connects and their reuse, connect failures, listeners added
 * and removed at run time, the output bound, UDP sends and TOS, and IPv6.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static int
setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return -1;
	}
	h_init(h);
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	struct h *h = *state;

	h_fini(h);
	free(h);
	return 0;
}

static struct tp_listener *
listen_tcp(struct h *h)
{
	struct sockaddr_storage ss;
	struct tp_listener *l = NULL;
	socklen_t len;

	h_addr4(&ss, &len, 0);
	assert_int_equal(tp_tcp_listen(h->tp, (struct sockaddr *)&ss, len, &l),
	    0);
	assert_non_null(l);
	assert_int_equal(tp_listener_proto(l), TP_TCP);
	assert_int_not_equal(h_port(l), 0);
	return l;
}

static void
test_one_segment(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "hello");
	int fd = cli_connect(h_port(l));
	struct tp_stats st;

	assert_true(fd >= 0);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_len[0], n);
	assert_memory_equal(h->rx_data[0], m, n);
	assert_int_equal(h->rx_src[0].proto, TP_TCP);
	assert_true(h->rx_src[0].conn_id != 0);
	assert_ptr_equal(h->rx_src[0].listener, l);
	assert_int_equal(h->rx_src[0].addr.ss_family, AF_INET);
	tp_stats(h->tp, &st);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.conns_in, 1);
	assert_int_equal(st.bytes_in, n);
	close(fd);
}

static void
test_many_in_one_segment(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char all[8192], m[5][1024];
	size_t lens[5], n = 0;
	int fd = cli_connect(h_port(l));

	assert_true(fd >= 0);
	for (int i = 0; i < 5; i++) {
		lens[i] = mk_msg(m[i], sizeof(m[i]), i + 1, i % 2 ? "" : "body");
		memcpy(all + n, m[i], lens[i]);
		n += lens[i];
		if (i == 2) {
			/* RFC 3261 7.5: CRLF before a message is skipped */
			memcpy(all + n, "\r\n", 2);
			n += 2;
		}
	}
	cli_send(fd, all, n);
	assert_true(h_wait_rx(h, 5, 3000));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(h->rx_len[i], lens[i]);
		assert_memory_equal(h->rx_data[i], m[i], lens[i]);
		assert_true(h->rx_src[i].conn_id == h->rx_src[0].conn_id);
	}
	h_pump(h, 20);
	assert_int_equal(h->nrx, 5);
	close(fd);
}

static void
test_byte_pieces(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 7, "a body\r\n\r\nwith blank lines");
	int fd = cli_connect(h_port(l));

	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		cli_send(fd, m + i, 1);
		h_pump(h, 0);
		if (i + 1 < n) {
			assert_int_equal(h->nrx, 0);
		}
	}
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_len[0], n);
	assert_memory_equal(h->rx_data[0], m, n);
	close(fd);
}

static void
test_ping_pong(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char m[1024], buf[16];
	size_t n = mk_msg(m, sizeof(m), 3, "");
	int fd = cli_connect(h_port(l));

	assert_true(fd >= 0);
	cli_send(fd, "\r\n\r\n", 4);
	assert_int_equal(cli_recv(h, fd, buf, 2, 3000), 2);
	assert_memory_equal(buf, "\r\n", 2);
	/* a lone CRLF is skipped, nothing answered */
	cli_send(fd, "\r\n", 2);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_memory_equal(h->rx_data[0], m, n);
	assert_int_equal(cli_recv(h, fd, buf, 1, 100), 0);
	/* a ping in two pieces */
	cli_send(fd, "\r\n", 2);
	h_pump(h, 10);
	cli_send(fd, "\r\n", 2);
	assert_int_equal(cli_recv(h, fd, buf, 2, 3000), 2);
	assert_memory_equal(buf, "\r\n", 2);
	close(fd);
}

static void
framing_fault(struct h *h, const char *bytes, size_t len)
{
	struct tp_listener *l = listen_tcp(h);
	int fd = cli_connect(h_port(l));
	struct tp_stats st;

	assert_true(fd >= 0);
	cli_send(fd, bytes, len);
	assert_true(cli_wait_closed(h, fd, 3000));
	assert_int_equal(h->nrx, 0);
	tp_stats(h->tp, &st);
	assert_int_equal(st.framing_errors, 1);
	assert_int_equal(st.conns_in, 0);
	close(fd);
}

static void
test_missing_content_length(void **state)
{
	static const char m[] = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
				"Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKx\r\n"
				"CSeq: 1 OPTIONS\r\n\r\n";

	framing_fault(*state, m, sizeof(m) - 1);
}

static void
test_bad_content_length(void **state)
{
	static const char m[] = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
				"Content-Length: twelve\r\n\r\n";

	framing_fault(*state, m, sizeof(m) - 1);
}

static void
test_endless_header(void **state)
{
	struct h *h = *state;
	static const char head[] = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
				   "X-Long: ";
	static char junk[20000];

	memcpy(junk, head, sizeof(head) - 1);
	memset(junk + sizeof(head) - 1, 'a', sizeof(junk) - sizeof(head) + 1);
	framing_fault(h, junk, sizeof(junk));
}

static void
test_too_many_lines(void **state)
{
	struct h *h = *state;
	static char junk[80000];

	/* short lines, never an empty one: the size limit ends it */
	for (size_t i = 0; i + 10 <= sizeof(junk); i += 10) {
		memcpy(junk + i, "X-A: 123\r\n", 10);
	}
	framing_fault(h, junk, sizeof(junk));
}

static void
test_slow_drip(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char slow[1024], fast[1024];
	size_t sn = mk_msg(slow, sizeof(slow), 100, "drip");
	size_t fn = mk_msg(fast, sizeof(fast), 200, "");
	int sfd, ffd;
	size_t sent = 0;
	unsigned fast_sent = 0;
	bool closed = false;
	struct tp_stats st;

	tp_set_header_timeout(h->tp, 1);
	sfd = cli_connect(h_port(l));
	ffd = cli_connect(h_port(l));
	assert_true(sfd >= 0 && ffd >= 0);
	/* 1 byte per 100 ms: 30 bytes in 3 s, far from a whole message;
	 * meanwhile the other peer is served */
	for (int i = 0; i < 30 && !closed; i++) {
		char b;

		cli_send(sfd, slow + sent++, 1);
		cli_send(ffd, fast, fn);
		fast_sent++;
		h_pump(h, 100);
		closed = recv(sfd, &b, 1, MSG_DONTWAIT) == 0;
	}
	assert_true(closed || cli_wait_closed(h, sfd, 1000));
	assert_true(sent < sn);
	/* every message of the fast peer arrived; how many rounds fit in
	 * the slow one's second depends on the machine's load */
	assert_true(fast_sent >= 2);
	assert_true(h_wait_rx(h, fast_sent, 3000));
	assert_int_equal(h->nrx, fast_sent);
	for (unsigned i = 0; i < h->nrx; i++) {
		assert_int_equal(h->rx_len[i], fn);
		assert_memory_equal(h->rx_data[i], fast, fn);
	}
	tp_stats(h->tp, &st);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.conns_in, 1);
	/* the fast peer is still served after the slow one is gone */
	{
		unsigned before = h->nrx;

		cli_send(ffd, fast, fn);
		assert_true(h_wait_rx(h, before + 1, 3000));
	}
	close(sfd);
	close(ffd);
}

static void
test_input_channels(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	int fd[3];
	struct tp_stats st;

	tp_set_input_channels(h->tp, 2);
	for (int i = 0; i < 3; i++) {
		fd[i] = cli_connect(h_port(l));
		assert_true(fd[i] >= 0);
		h_pump(h, 20);
	}
	assert_true(cli_wait_closed(h, fd[2], 3000));
	tp_stats(h->tp, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.conns_in, 2);
	cli_send(fd[0], m, n);
	cli_send(fd[1], m, n);
	assert_true(h_wait_rx(h, 2, 3000));
	/* a slot freed is a slot reused */
	close(fd[0]);
	h_pump(h, 50);
	fd[0] = cli_connect(h_port(l));
	assert_true(fd[0] >= 0);
	cli_send(fd[0], m, n);
	assert_true(h_wait_rx(h, 3, 3000));
	for (int i = 0; i < 3; i++) {
		close(fd[i]);
	}
}

static void
test_idle_timeout(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	int quiet, busy;
	struct tp_stats st;

	tp_set_idle_timeout(h->tp, 2);
	quiet = cli_connect(h_port(l));
	busy = cli_connect(h_port(l));
	assert_true(quiet >= 0 && busy >= 0);
	cli_send(quiet, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	/* busy keeps talking every 300 ms, well inside the 2 s timeout
	 * even when a pump runs late on a loaded machine; quiet says
	 * nothing for 3 s */
	for (int i = 0; i < 10; i++) {
		cli_send(busy, "\r\n\r\n", 4);
		h_pump(h, 300);
	}
	assert_true(cli_wait_closed(h, quiet, 2000));
	tp_stats(h->tp, &st);
	assert_int_equal(st.closed_idle, 1);
	assert_int_equal(st.conns_in, 1);
	close(quiet);
	close(busy);
}

static void
test_reply_same_connection(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	char m[1024], buf[128];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	int other = cli_connect(h_port(l));
	int fd = cli_connect(h_port(l));
	struct tp_src dst;

	assert_true(fd >= 0 && other >= 0);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(tp_send(h->tp, &h->rx_src[0], reply,
			     sizeof(reply) - 1),
	    0);
	assert_int_equal(cli_recv(h, fd, buf, sizeof(reply) - 1, 3000),
	    sizeof(reply) - 1);
	assert_memory_equal(buf, reply, sizeof(reply) - 1);
	assert_int_equal(cli_recv(h, other, buf, 1, 50), 0);
	/* from inside the receive callback too */
	h->echo = reply;
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 2, 3000));
	assert_int_equal(h->echo_rc, 0);
	assert_int_equal(cli_recv(h, fd, buf, sizeof(reply) - 1, 3000),
	    sizeof(reply) - 1);
	h->echo = NULL;
	/* a conn_id of another transport is refused: TLS never goes over
	 * TCP */
	dst = h->rx_src[0];
	dst.proto = TP_TLS;
	assert_int_equal(tp_send(h->tp, &dst, reply, sizeof(reply) - 1),
	    -EPROTO);
	close(fd);
	close(other);
}

/* A plain listening socket standing for a remote SIP server. */
static int
raw_listen(uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	h_addr4(&ss, &len, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 8), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = tp_addr_port((struct sockaddr *)&ss);
	return fd;
}

static void
test_outbound_connect_reuse(void **state)
{
	struct h *h = *state;
	char m1[1024], m2[1024], buf[2048];
	size_t n1 = mk_msg(m1, sizeof(m1), 1, "first");
	size_t n2 = mk_msg(m2, sizeof(m2), 2, "second");
	uint16_t port;
	int lfd = raw_listen(&port), afd;
	struct tp_src dst;
	struct tp_stats st;

	memset(&dst, 0, sizeof(dst));
	h_addr4(&dst.addr, &dst.addrlen, port);
	dst.proto = TP_TCP;
	assert_int_equal(tp_send(h->tp, &dst, m1, n1), 0);
	h_pump(h, 20);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(cli_recv(h, afd, buf, n1, 3000), n1);
	assert_memory_equal(buf, m1, n1);
	/* the same peer again: the open connection is reused */
	assert_int_equal(tp_send(h->tp, &dst, m2, n2), 0);
	assert_int_equal(cli_recv(h, afd, buf, n2, 3000), n2);
	assert_memory_equal(buf, m2, n2);
	{
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		/* no second connection waits to be accepted */
		assert_int_equal(poll(&pfd, 1, 0), 0);
	}
	tp_stats(h->tp, &st);
	assert_int_equal(st.conns_out, 1);
	assert_int_equal(st.connected, 1);
	/* what the peer sends back arrives with that connection's id */
	cli_send(afd, m2, n2);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_src[0].proto, TP_TCP);
	assert_true(h->rx_src[0].conn_id != 0);
	assert_null(h->rx_src[0].listener);
	/* and a send by that id uses it */
	assert_int_equal(tp_send(h->tp, &h->rx_src[0], m1, n1), 0);
	assert_int_equal(cli_recv(h, afd, buf, n1, 3000), n1);
	/* the peer closes: the connection leaves the table, the next send
	 * connects again */
	close(afd);
	h_pump(h, 50);
	tp_stats(h->tp, &st);
	assert_int_equal(st.conns_out, 0);
	assert_int_equal(tp_send(h->tp, &h->rx_src[0], m1, n1), 0);
	h_pump(h, 20);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(cli_recv(h, afd, buf, n1, 3000), n1);
	close(afd);
	close(lfd);
}

static void
test_connect_refused(void **state)
{
	struct h *h = *state;
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	uint16_t port;
	int lfd = raw_listen(&port), rc;
	struct tp_src dst;
	struct tp_stats st;

	close(lfd); /* nothing listens on port now */
	memset(&dst, 0, sizeof(dst));
	h_addr4(&dst.addr, &dst.addrlen, port);
	dst.proto = TP_TCP;
	rc = tp_send(h->tp, &dst, m, n);
	if (rc == 0) {
		assert_true(h_wait_err(h, 1, 3000));
		assert_int_equal(h->err, -ECONNREFUSED);
		assert_int_equal(h->err_dst.proto, TP_TCP);
		assert_int_equal(tp_addr_port((struct sockaddr *)&h->err_dst.addr),
		    port);
	} else {
		assert_int_equal(rc, -ECONNREFUSED);
	}
	h_pump(h, 20);
	tp_stats(h->tp, &st);
	assert_int_equal(st.connect_failed, 1);
	assert_int_equal(st.conns_out, 0);
}

static void
test_listener_runtime(void **state)
{
	struct h *h = *state;
	struct tp_listener *l1 = listen_tcp(h), *l2 = listen_tcp(h);
	uint16_t p1 = h_port(l1), p2 = h_port(l2);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	int old = cli_connect(p1), fd;

	assert_true(old >= 0);
	h_pump(h, 20);
	tp_listener_close(l1);
	/* nothing accepts on p1 any more */
	assert_int_equal(cli_connect(p1), -1);
	/* p2 is untouched */
	fd = cli_connect(p2);
	assert_true(fd >= 0);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_ptr_equal(h->rx_src[0].listener, l2);
	/* the connection l1 accepted lives on, without its listener */
	cli_send(old, m, n);
	assert_true(h_wait_rx(h, 2, 3000));
	assert_null(h->rx_src[1].listener);
	/* and a new listener joins while the others run */
	{
		struct tp_listener *l3 = listen_tcp(h);
		int fd3 = cli_connect(h_port(l3));

		assert_true(fd3 >= 0);
		cli_send(fd3, m, n);
		assert_true(h_wait_rx(h, 3, 3000));
		assert_ptr_equal(h->rx_src[2].listener, l3);
		close(fd3);
	}
	close(fd);
	close(old);
}

/*
 * A client of l with a 4 KiB receive window that has sent one message,
 * received: the server can now send to h->rx_src[0].
 */
static int
small_window_client(struct h *h, struct tp_listener *l)
{
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	int fd, rcvbuf = 4096;
	struct sockaddr_storage ss;
	socklen_t len;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	h_addr4(&ss, &len, h_port(l));
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	return fd;
}

static void
test_output_bound(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	static char big[32768];
	int fd = -1, rc = 0;
	struct tp_stats st;

	tp_set_output_limit(h->tp, 65536);
	/* a client with a small window that never reads */
	fd = small_window_client(h, l);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 2000 && rc == 0; i++) {
		rc = tp_send(h->tp, &h->rx_src[0], big, sizeof(big));
		h_pump(h, 0);
	}
	assert_int_equal(rc, -ENOBUFS);
	tp_stats(h->tp, &st);
	assert_int_equal(st.overflows, 1);
	assert_int_equal(st.conns_in, 0);
	close(fd);
}

/*
 * Writes the kernel takes only in part: sipd sends what it can at once
 * and queues the rest, and whatever the split, the peer reads every
 * byte once and in order.
 */
static void
test_partial_writes_in_order(void **state)
{
	enum { NMSG = 64, SZ = 7000 };
	struct h *h = *state;
	struct tp_listener *l = listen_tcp(h);
	static char out[NMSG * SZ], in[NMSG * SZ];
	int fd;
	struct tp_stats st;

	tp_set_output_limit(h->tp, sizeof(out) + 4096);
	fd = small_window_client(h, l);
	/* messages of different sizes, each byte telling its place */
	for (size_t i = 0; i < sizeof(out); i++) {
		out[i] = (char)('a' + (i * 7 + i / SZ) % 26);
	}
	size_t off = 0;
	for (int i = 0; i < NMSG; i++) {
		size_t sz = (i % 3 == 0) ? SZ / 2 : (i % 3 == 1) ? SZ : SZ * 3 / 2;
		if (off + sz > sizeof(out)) {
			sz = sizeof(out) - off;
		}
		assert_int_equal(tp_send(h->tp, &h->rx_src[0], out + off, sz),
		    0);
		off += sz;
	}
	assert_true(off > sizeof(out) / 2);
	assert_int_equal(cli_recv(h, fd, in, off, 5000), off);
	assert_memory_equal(in, out, off);
	/* and nothing more */
	assert_int_equal(cli_recv(h, fd, in, 1, 100), 0);
	tp_stats(h->tp, &st);
	assert_int_equal(st.overflows, 0);
	assert_int_equal(st.conns_in, 1);
	close(fd);
}

/* Receive a datagram on fd; returns the TOS it carried, or -1. */
static int
recv_tos(int fd, char *buf, size_t cap)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	int tos = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	if (recvmsg(fd, &mh, 0) < 0) {
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			unsigned char t;

			memcpy(&t, CMSG_DATA(c), 1);
			tos = t;
		}
	}
	return tos;
}

static void
test_udp(void **state)
{
	struct h *h = *state;
	struct sockaddr_storage ss, local;
	struct tp_listener *l = NULL;
	socklen_t len;
	struct tp_src dst;
	char m[1024], buf[2048];
	size_t n = mk_msg(m, sizeof(m), 1, "udp");
	int fd, one = 1;

	h_addr4(&ss, &len, 0);
	assert_int_equal(tp_udp_listen(h->tp, (struct sockaddr *)&ss, len, &l),
	    0);
	assert_int_equal(tp_set_udp_tos(h->tp, 0x28), 0);
	assert_int_equal(tp_local_addr(h->tp, TP_UDP, AF_INET, &local), 0);
	assert_int_equal(tp_addr_port((struct sockaddr *)&local), h_port(l));
	assert_int_equal(tp_local_addr(h->tp, TP_TLS, AF_INET6, &local),
	    -ENOENT);

	/* a peer sends a datagram, the reply goes back by the listener */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one,
			     sizeof(one)),
	    0);
	local = ss;
	tp_addr_set_port((struct sockaddr *)&local, h_port(l));
	assert_true(sendto(fd, m, n, 0, (struct sockaddr *)&local, len) ==
	    (ssize_t)n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_src[0].proto, TP_UDP);
	assert_true(h->rx_src[0].conn_id == 0);
	assert_int_equal(tp_send(h->tp, &h->rx_src[0], m, n), 0);
	assert_true(recv(fd, buf, sizeof(buf), 0) == (ssize_t)n);
	/* without a listener: one of the family is picked */
	dst = h->rx_src[0];
	dst.listener = NULL;
	assert_int_equal(tp_send(h->tp, &dst, m, n), 0);
	assert_int_equal(recv_tos(fd, buf, sizeof(buf)), 0x28);
	assert_memory_equal(buf, m, n);
	/* no IPv6 UDP listener: refused */
	memset(&dst, 0, sizeof(dst));
	dst.addr.ss_family = AF_INET6;
	((struct sockaddr_in6 *)(void *)&dst.addr)->sin6_addr = in6addr_loopback;
	dst.addrlen = sizeof(struct sockaddr_in6);
	tp_addr_set_port((struct sockaddr *)&dst.addr, 5060);
	assert_int_equal(tp_send(h->tp, &dst, m, n), -ENOENT);
	/* the TOS of a later listener too: the only UDP listener of the
	 * family once l is gone */
	{
		struct tp_listener *l2 = NULL;

		tp_listener_close(l);
		l = NULL;
		assert_int_equal(tp_udp_listen(h->tp, (struct sockaddr *)&ss,
				     len, &l2),
		    0);
		dst = h->rx_src[0];
		dst.listener = NULL;
		assert_int_equal(tp_send(h->tp, &dst, m, n), 0);
		assert_int_equal(recv_tos(fd, buf, sizeof(buf)), 0x28);
	}
	tp_listener_close(l);
	close(fd);
}

static void
test_ipv6(void **state)
{
	struct h *h = *state;
	struct sockaddr_in6 sin6;
	struct tp_listener *l = NULL;
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "v6");
	int fd, rc;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	rc = tp_tcp_listen(h->tp, (struct sockaddr *)&sin6, sizeof(sin6), &l);
	if ((rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) &&
	    (getenv("CI") == NULL || strcmp(getenv("CI"), "true") != 0)) {
		skip(); /* no ::1 here; under CI=true a failure */
	}
	assert_int_equal(rc, 0);
	sin6.sin6_port = htons(h_port(l));
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)),
	    0);
	cli_send(fd, m, n);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_src[0].addr.ss_family, AF_INET6);
	assert_int_equal(tp_send(h->tp, &h->rx_src[0], m, n), 0);
	{
		char buf[1024];

		assert_int_equal(cli_recv(h, fd, buf, n, 3000), n);
	}
	close(fd);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_segment, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_in_one_segment, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_byte_pieces, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ping_pong, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_content_length,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_content_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_endless_header, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_many_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_drip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_input_channels, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reply_same_connection,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbound_connect_reuse,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_listener_runtime, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_partial_writes_in_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
