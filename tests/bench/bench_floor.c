/*
 * bench_floor: the cheapest UDP "proxy" the benchmark's call flow allows,
 * to show how much of a proxy's CPU per call the kernel takes before any
 * SIP work is done.  It is not a SIP server.  It relays datagrams between
 * one UAC and one UAS on loopback: everything from the UAS goes to the
 * last address that was not the UAS, everything else goes to the UAS.  To
 * send the datagrams a stateful proxy sends, it answers each INVITE with a
 * 100 Trying and each OPTIONS with a 200 (bench_proxy.py's readiness
 * check), made by copying the request's Via, From, To, Call-ID and CSeq
 * lines.  Nothing is parsed beyond finding those lines; no state is kept.
 *
 * By default the I/O model is the one with the fewest system calls a
 * socket server can have: a blocking recvmmsg() (MSG_WAITFORONE, so a
 * wakeup takes what has queued) and one sendmmsg() for everything that
 * batch produced.  At a low rate that is one receive and one send per
 * wakeup, like a blocking recvfrom() server; under load the batches grow.
 * With -e it waits in epoll_wait() first and then reads without blocking,
 * as an event-loop server (sipd, with libevent) does.  With -u (built
 * with -DFLOOR_URING and -luring: Debian's liburing-dev) it uses io_uring:
 * one multishot recvmsg with provided buffers keeps receiving, every
 * datagram a batch produces is one sendmsg entry, and one
 * io_uring_enter() submits them all and waits for the next datagram, so
 * a wakeup costs one system call instead of two.  With -p US (blocking
 * or -e) it busy-polls: after a batch it keeps reading without blocking
 * for up to US microseconds from the last datagram before it sleeps
 * again, trading CPU for fewer wakeups.
 *
 *	bench_floor [-e | -u] [-p US] ADDR PORT UAS_PORT
 *
 * Runs until killed.  bench_proxy.py builds it with cc; with SIPD_BENCH
 * CMake builds it too, with the project's warnings.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef FLOOR_URING
#include <liburing.h>
#include <sys/mman.h>
#endif

#define FLOOR_BATCH 32
#define FLOOR_MAX 65536
#define FLOOR_RCVBUF (1024 * 1024)
/* room for a 100 or 200 built from a request's five copied lines */
#define FLOOR_REPLY_MAX 8192

struct floor {
	int fd;
	struct sockaddr_in uas;
	struct sockaddr_in uac;
	int have_uac;
	/* receive side */
	struct mmsghdr in[FLOOR_BATCH];
	struct iovec in_iov[FLOOR_BATCH];
	struct sockaddr_in from[FLOOR_BATCH];
	char *bufs;
	/* send side: at most two datagrams per received one */
	struct mmsghdr out[2 * FLOOR_BATCH];
	struct iovec out_iov[2 * FLOOR_BATCH];
	char *replies;
};

static int
has_prefix(const char *p, size_t n, const char *pre)
{
	size_t l = strlen(pre);

	return n >= l && strncasecmp(p, pre, l) == 0;
}

/* A response to the request in req: status line, then the request's Via,
 * From, To, Call-ID and CSeq lines as they are (long or compact form). */
static size_t
floor_reply(const char *req, size_t n, const char *status, char *out)
{
	static const char *const keep[] = { "Via:", "v:", "From:", "f:",
		"To:", "t:", "Call-ID:", "i:", "CSeq:" };
	const char *p = req, *end = req + n;
	size_t o, room = FLOOR_REPLY_MAX - 32;

	o = (size_t)snprintf(out, room, "SIP/2.0 %s\r\n", status);
	/* skip the request line */
	p = memchr(p, '\n', n);
	p = p != NULL ? p + 1 : end;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t len;

		if (e == NULL || e - p <= 1) {
			break; /* the empty line: end of headers */
		}
		len = (size_t)(e + 1 - p);
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			if (has_prefix(p, len, keep[k]) && o + len < room) {
				memcpy(out + o, p, len);
				o += len;
				break;
			}
		}
		p = e + 1;
	}
	memcpy(out + o, "Content-Length: 0\r\n\r\n", 21);
	return o + 21;
}

static void
floor_queue(struct floor *f, int *nout, void *bytes, size_t len,
    struct sockaddr_in *to)
{
	int i = (*nout)++;

	f->out_iov[i].iov_base = bytes;
	f->out_iov[i].iov_len = len;
	memset(&f->out[i], 0, sizeof(f->out[i]));
	f->out[i].msg_hdr.msg_name = to;
	f->out[i].msg_hdr.msg_namelen = sizeof(*to);
	f->out[i].msg_hdr.msg_iov = &f->out_iov[i];
	f->out[i].msg_hdr.msg_iovlen = 1;
}

static void
floor_batch(struct floor *f, int n)
{
	int nout = 0, nrep = 0;

	for (int i = 0; i < n; i++) {
		char *b = f->in_iov[i].iov_base;
		size_t len = f->in[i].msg_len;
		const char *status = NULL;

		if (f->from[i].sin_port == f->uas.sin_port &&
		    f->from[i].sin_addr.s_addr == f->uas.sin_addr.s_addr) {
			if (f->have_uac) {
				floor_queue(f, &nout, b, len, &f->uac);
			}
			continue;
		}
		if (has_prefix(b, len, "INVITE ")) {
			status = "100 Trying";
		} else if (has_prefix(b, len, "OPTIONS ")) {
			status = "200 OK";
		}
		if (status != NULL) {
			char *r = f->replies + (size_t)nrep++ * FLOOR_REPLY_MAX;

			floor_queue(f, &nout, r, floor_reply(b, len, status, r),
			    &f->from[i]);
			if (status[0] == '2') {
				continue; /* OPTIONS: answered, not relayed */
			}
		}
		f->uac = f->from[i];
		f->have_uac = 1;
		floor_queue(f, &nout, b, len, &f->uas);
	}
	for (int sent = 0; sent < nout;) {
		int r = sendmmsg(f->fd, f->out + sent, (unsigned)(nout - sent),
		    0);

		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			sent++; /* that datagram is lost, as UDP may */
			continue;
		}
		sent += r > 0 ? r : 1;
	}
}

#ifdef FLOOR_URING
/* provided receive buffers: a datagram, its source and io_uring's header */
#define FU_NBUF 512
#define FU_BUFSZ 4096
#define FU_BGID 1
/* send slots: header, address and reply storage, reused in turn */
#define FU_NSEND 1024
#define FU_RECV_UD 1u

struct fu_send {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_in to;
	char reply[FLOOR_REPLY_MAX];
};

struct fu {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	struct msghdr tmpl; /* what the multishot receive fills */
	struct fu_send *sends;
	unsigned next_send;
};

static void
fu_give(struct fu *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * FU_BUFSZ,
	    FU_BUFSZ, (unsigned short)bid, io_uring_buf_ring_mask(FU_NBUF), 0);
	io_uring_buf_ring_advance(u->br, 1);
}

static void
fu_arm(struct fu *u, int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	io_uring_prep_recvmsg_multishot(sqe, fd, &u->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = FU_BGID;
	io_uring_sqe_set_data64(sqe, FU_RECV_UD);
}

/* Queue one datagram; the buffer bid (or none, -1) returns when sent. */
static void
fu_send(struct fu *u, int fd, const void *bytes, size_t len,
    const struct sockaddr_in *to, int bid, int copy)
{
	struct fu_send *s = &u->sends[u->next_send++ % FU_NSEND];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe == NULL) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	s->to = *to;
	s->iov.iov_base = copy ? s->reply : (void *)(uintptr_t)bytes;
	if (copy) {
		memcpy(s->reply, bytes, len);
	}
	s->iov.iov_len = len;
	memset(&s->mh, 0, sizeof(s->mh));
	s->mh.msg_name = &s->to;
	s->mh.msg_namelen = sizeof(s->to);
	s->mh.msg_iov = &s->iov;
	s->mh.msg_iovlen = 1;
	io_uring_prep_sendmsg(sqe, fd, &s->mh, 0);
	io_uring_sqe_set_data64(sqe, 2u | ((uint64_t)(bid + 1) << 8));
}

static int
floor_uring(struct floor *f)
{
	static struct fu u;
	struct io_uring_params p = { 0 };
	int rc;

	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	rc = io_uring_queue_init_params(2048, &u.ring, &p);
	if (rc < 0) {
		fprintf(stderr, "bench_floor: io_uring (%s)\n", strerror(-rc));
		return 1;
	}
	u.br = mmap(NULL, FU_NBUF * sizeof(struct io_uring_buf),
	    PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	u.bufs = malloc((size_t)FU_NBUF * FU_BUFSZ);
	u.sends = calloc(FU_NSEND, sizeof(*u.sends));
	if (u.br == MAP_FAILED || u.bufs == NULL || u.sends == NULL) {
		perror("bench_floor");
		return 1;
	}
	struct io_uring_buf_reg reg = {
		.ring_addr = (unsigned long)u.br,
		.ring_entries = FU_NBUF,
		.bgid = FU_BGID,
	};
	rc = io_uring_register_buf_ring(&u.ring, &reg, 0);
	if (rc < 0) {
		fprintf(stderr, "bench_floor: provided buffers (%s)\n",
		    strerror(-rc));
		return 1;
	}
	io_uring_buf_ring_init(u.br);
	for (unsigned i = 0; i < FU_NBUF; i++) {
		fu_give(&u, i);
	}
	u.tmpl.msg_namelen = sizeof(struct sockaddr_in);
	fu_arm(&u, f->fd);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		rc = io_uring_submit_and_wait(&u.ring, 1);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "bench_floor: io_uring_enter (%s)\n",
			    strerror(-rc));
			return 1;
		}
		io_uring_for_each_cqe(&u.ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);

			seen++;
			if (ud != FU_RECV_UD) {
				if ((ud >> 8) != 0) {
					fu_give(&u, (unsigned)(ud >> 8) - 1);
				}
				continue;
			}
			if (!(cqe->flags & IORING_CQE_F_MORE)) {
				fu_arm(&u, f->fd); /* ended: buffers ran out */
			}
			if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) {
				continue;
			}
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			char *buf = u.bufs + (size_t)bid * FU_BUFSZ;
			struct io_uring_recvmsg_out *o =
			    io_uring_recvmsg_validate(buf, cqe->res, &u.tmpl);
			if (o == NULL) {
				fu_give(&u, bid);
				continue;
			}
			struct sockaddr_in *from = io_uring_recvmsg_name(o);
			char *b = io_uring_recvmsg_payload(o, &u.tmpl);
			size_t len = io_uring_recvmsg_payload_length(o, cqe->res,
			    &u.tmpl);
			const char *status = NULL;

			if (from->sin_port == f->uas.sin_port &&
			    from->sin_addr.s_addr == f->uas.sin_addr.s_addr) {
				if (f->have_uac) {
					fu_send(&u, f->fd, b, len, &f->uac,
					    (int)bid, 0);
				} else {
					fu_give(&u, bid);
				}
				continue;
			}
			if (has_prefix(b, len, "INVITE ")) {
				status = "100 Trying";
			} else if (has_prefix(b, len, "OPTIONS ")) {
				status = "200 OK";
			}
			if (status != NULL) {
				char r[FLOOR_REPLY_MAX];

				fu_send(&u, f->fd, r,
				    floor_reply(b, len, status, r), from, -1,
				    1);
				if (status[0] == '2') {
					fu_give(&u, bid);
					continue;
				}
			}
			f->uac = *from;
			f->have_uac = 1;
			fu_send(&u, f->fd, b, len, &f->uas, (int)bid, 0);
		}
		io_uring_cq_advance(&u.ring, seen);
	}
}
#endif

int
main(int argc, char **argv)
{
	static struct floor f;
	struct sockaddr_in me;
	int ep = -1, flags = MSG_WAITFORONE, uring = 0;
	long poll_us = 0;

	if (argc >= 6 && strcmp(argv[argc - 5], "-p") == 0) {
		poll_us = atol(argv[argc - 4]);
		memmove(&argv[argc - 5], &argv[argc - 3], 4 * sizeof(*argv));
		argc -= 2;
	}
	if (argc == 5 && strcmp(argv[1], "-u") == 0) {
#ifndef FLOOR_URING
		fprintf(stderr, "bench_floor: built without io_uring "
		    "(-DFLOOR_URING -luring)\n");
		return 2;
#endif
		uring = 1;
		argc--;
		argv++;
	} else if (argc == 5 && strcmp(argv[1], "-e") == 0) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0) {
			perror("bench_floor: epoll");
			return 1;
		}
		flags = MSG_DONTWAIT;
		argc--;
		argv++;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: bench_floor [-e | -u] [-p US] ADDR PORT "
		    "UAS_PORT\n");
		return 2;
	}
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &me.sin_addr) != 1) {
		fprintf(stderr, "bench_floor: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	f.uas = me;
	f.uas.sin_port = htons((unsigned short)atoi(argv[3]));
	f.bufs = malloc((size_t)FLOOR_BATCH * FLOOR_MAX);
	f.replies = malloc((size_t)FLOOR_BATCH * FLOOR_REPLY_MAX);
	f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* the receive buffer bench_proxy.py's servers get (SERVER_RCVBUF) */
	if (f.fd >= 0) {
		int rcvbuf = FLOOR_RCVBUF;

		(void)setsockopt(f.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	}
	if (f.bufs == NULL || f.replies == NULL || f.fd < 0 ||
	    bind(f.fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("bench_floor");
		return 1;
	}
#ifdef FLOOR_URING
	if (uring) {
		return floor_uring(&f);
	}
#endif
	(void)uring;
	if (ep >= 0) {
		struct epoll_event ev = { .events = EPOLLIN };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, f.fd, &ev) < 0) {
			perror("bench_floor: epoll");
			return 1;
		}
	}
	for (int i = 0; i < FLOOR_BATCH; i++) {
		f.in_iov[i].iov_base = f.bufs + (size_t)i * FLOOR_MAX;
		f.in_iov[i].iov_len = FLOOR_MAX;
		f.in[i].msg_hdr.msg_iov = &f.in_iov[i];
		f.in[i].msg_hdr.msg_iovlen = 1;
		f.in[i].msg_hdr.msg_name = &f.from[i];
	}
	for (;;) {
		struct epoll_event ev;
		int n;

		if (ep >= 0 && epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR) {
			perror("bench_floor: epoll_wait");
			return 1;
		}
		for (int i = 0; i < FLOOR_BATCH; i++) {
			f.in[i].msg_hdr.msg_namelen = sizeof(f.from[i]);
		}
		n = recvmmsg(f.fd, f.in, FLOOR_BATCH, flags, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED ||
			    errno == EAGAIN) {
				continue;
			}
			perror("bench_floor: recvmmsg");
			return 1;
		}
		floor_batch(&f, n);
		/* -p: read on without sleeping while datagrams keep coming */
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (poll_us > 0) {
			for (int i = 0; i < FLOOR_BATCH; i++) {
				f.in[i].msg_hdr.msg_namelen = sizeof(f.from[i]);
			}
			n = recvmmsg(f.fd, f.in, FLOOR_BATCH, MSG_DONTWAIT, NULL);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (n > 0) {
				floor_batch(&f, n);
				t0 = t1;
			} else if ((t1.tv_sec - t0.tv_sec) * 1000000L +
			    (t1.tv_nsec - t0.tv_nsec) / 1000 >= poll_us) {
				break;
			}
		}
	}
}
