/*
 * uring: the relay's loop over io_uring, where the kernel has it.  Each
 * relay socket has one multishot recvmsg that takes its buffers from a
 * ring of buffers the kernel picks from (a provided buffer ring), so a
 * packet costs no system call to read; each packet relayed is a sendmsg
 * of that buffer out of the other leg's socket, and a round submits all
 * of them with one io_uring_enter().  The epoll loop (relay.c) pays a
 * recvmmsg() and a sendmmsg() for each packet when, as at 50 packets a
 * second per socket, each socket has one packet waiting per wake-up.
 *
 * Only the engine's thread touches the ring: the SIP side, which opens
 * and closes sockets, queues them here under the engine's lock and
 * wakes the thread (the ring watches the engine's eventfd).  A closed
 * socket's read is cancelled by its user data (the relay id and the
 * socket), never by fd: the fd may be another socket's by then.  Until
 * the cancel the read holds the socket, so its port stays bound until
 * the thread's next round after media_relay_free(), which does not wait
 * for it: a new relay that finds the port bound takes the next pair,
 * and one that finds none waits for that round (relay.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <liburing.h>

#include "sipd/media/media_int.h"

/* Buffers the kernel reads into: a power of 2. */
#define UR_BUFS 2048
/* One buffer: io_uring_recvmsg_out, the source address, the packet. */
#define UR_NAME ((unsigned)sizeof(struct sockaddr_in6))
#define UR_BUF (MEDIA_PKT_MAX + 64)
#define UR_BGID 7
#define UR_ENTRIES 1024
#define UR_CQ (UR_ENTRIES * 16)
/* Sockets waiting to be started or stopped: every socket there is. */
#define UR_QUEUE (MEDIA_MAX_RELAYS * 4)

/* The user data's two top bits: what completed. */
enum {
	UR_RECV = 1, /* id << 2 | leg << 1 | kind */
	UR_SEND = 2, /* the buffer */
	UR_CTL = 3,  /* the eventfd's poll (0), a cancel (1) */
};
#define UR_TAG(t) ((uint64_t)(t) << 62)
#define UR_TAG_OF(u) ((int)((u) >> 62))
#define UR_SOCK(id, l, k) ((uint64_t)(id) << 2 | (uint64_t)((l) * 2 + (k)))

struct ur_tx {
	struct msghdr h;
	struct iovec iov;
	struct sockaddr_storage dst;
	uint32_t id;    /* the relay and leg it came in by */
	uint8_t leg;
};

struct media_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned recycled;           /* buffers given back this round */
	struct msghdr rxhdr;         /* what each read fills: its layout */
	struct ur_tx tx[UR_BUFS];
	/* sockets to start reading, and to stop (user data) */
	uint64_t open[UR_QUEUE], close[UR_QUEUE];
	uint32_t nopen, nclose;
};

static struct io_uring_sqe *
ur_sqe(struct media_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe == NULL) {
		/* the queue is full: hand it to the kernel and go on */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void
ur_recycle(struct media_uring *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * UR_BUF, UR_BUF,
	    (unsigned short)bid, io_uring_buf_ring_mask(UR_BUFS),
	    (int)u->recycled++);
}

/* Watch the engine's eventfd (a multishot poll: one event per wake). */
static void
ur_arm_wake(struct media *m)
{
	struct io_uring_sqe *sqe = ur_sqe(m->ur);

	if (sqe != NULL) {
		io_uring_prep_poll_multishot(sqe, m->wakefd, POLLIN);
		io_uring_sqe_set_data64(sqe, UR_TAG(UR_CTL));
	}
}

int
media_uring_new(struct media *m)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	struct media_uring *u;
	int rc;

	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return -ENOMEM;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = UR_CQ;
	rc = io_uring_queue_init_params(UR_ENTRIES, &u->ring, &p);
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->br = mmap(NULL, UR_BUFS * sizeof(struct io_uring_buf),
	    PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	u->bufs = malloc((size_t)UR_BUFS * UR_BUF);
	if (u->br == MAP_FAILED || u->bufs == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	io_uring_buf_ring_init(u->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)u->br;
	reg.ring_entries = UR_BUFS;
	reg.bgid = UR_BGID;
	rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (rc < 0) {
		goto fail;
	}
	for (unsigned i = 0; i < UR_BUFS; i++) {
		ur_recycle(u, i);
	}
	io_uring_buf_ring_advance(u->br, (int)u->recycled);
	u->recycled = 0;
	u->rxhdr.msg_namelen = UR_NAME;
	for (unsigned i = 0; i < UR_BUFS; i++) {
		u->tx[i].h.msg_iov = &u->tx[i].iov;
		u->tx[i].h.msg_iovlen = 1;
		u->tx[i].h.msg_name = &u->tx[i].dst;
	}
	m->ur = u;
	ur_arm_wake(m);
	io_uring_submit(&u->ring);
	return 0;
fail:
	if (u->br != MAP_FAILED && u->br != NULL) {
		munmap(u->br, UR_BUFS * sizeof(struct io_uring_buf));
	}
	free(u->bufs);
	io_uring_queue_exit(&u->ring);
	free(u);
	return rc;
}

void
media_uring_free(struct media *m)
{
	struct media_uring *u = m->ur;

	if (u == NULL) {
		return;
	}
	/* cancels every read, which releases the sockets closed already */
	io_uring_queue_exit(&u->ring);
	munmap(u->br, UR_BUFS * sizeof(struct io_uring_buf));
	free(u->bufs);
	free(u);
	m->ur = NULL;
}

void
media_uring_open(struct media *m, uint32_t id, int l, int k)
{
	struct media_uring *u = m->ur;

	if (u->nopen < UR_QUEUE) {
		u->open[u->nopen++] = UR_SOCK(id, l, k);
	}
}

void
media_uring_close(struct media *m, uint32_t id, int l, int k)
{
	struct media_uring *u = m->ur;

	if (u->nclose < UR_QUEUE) {
		u->close[u->nclose++] = UR_SOCK(id, l, k);
	}
}

int
media_uring_wait(struct media *m, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int rc = io_uring_wait_cqe_timeout(&m->ur->ring, &cqe, &ts);

	return rc == -ETIME || rc == -EINTR ? 0 : rc;
}

/* Start reading socket sock (user data): its relay may be gone. */
static void
ur_read(struct media *m, uint64_t sock)
{
	struct media_uring *u = m->ur;
	struct media_relay *r = media_relay_find(m, (uint32_t)(sock >> 2));
	struct io_uring_sqe *sqe;
	int fd;

	if (r == NULL) {
		return;
	}
	fd = r->leg[sock >> 1 & 1].s[sock & 1].fd;
	sqe = fd >= 0 ? ur_sqe(u) : NULL;
	if (sqe == NULL) {
		return;
	}
	io_uring_prep_recvmsg_multishot(sqe, fd, &u->rxhdr, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UR_BGID;
	io_uring_sqe_set_data64(sqe, UR_TAG(UR_RECV) | sock);
}

/* A read completed: relay its packet; true when its buffer went out. */
static bool
ur_recv(struct media *m, struct io_uring_cqe *cqe, uint64_t now)
{
	struct media_uring *u = m->ur;
	uint64_t sock = cqe->user_data & ~UR_TAG(3);
	uint32_t id = (uint32_t)(sock >> 2);
	int l = (int)(sock >> 1 & 1), k = (int)(sock & 1);
	struct media_relay *r = media_relay_find(m, id);
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
	bool sent = false;

	if (r != NULL && cqe->res >= 0 &&
	    (cqe->flags & IORING_CQE_F_BUFFER) != 0) {
		uint8_t *buf = u->bufs + (size_t)bid * UR_BUF;
		struct io_uring_recvmsg_out *o =
		    io_uring_recvmsg_validate(buf, cqe->res, &u->rxhdr);
		struct sockaddr_storage src;
		struct ur_tx *tx = &u->tx[bid];
		struct io_uring_sqe *sqe;

		if (o == NULL) {
			goto done;
		}
		uint8_t *pkt = io_uring_recvmsg_payload(o, &u->rxhdr);
		size_t len = io_uring_recvmsg_payload_length(o, cqe->res,
		    &u->rxhdr);
		memset(&src, 0, sizeof(src));
		memcpy(&src, io_uring_recvmsg_name(o),
		    o->namelen < UR_NAME ? o->namelen : UR_NAME);
		if (!media_packet(m, r, l, k, &src, pkt, len,
		    (o->flags & MSG_TRUNC) != 0, now, &tx->dst)) {
			goto done;
		}
		sqe = ur_sqe(u);
		if (sqe == NULL) {
			media_packet_lost(m, id, l, len);
			goto done;
		}
		tx->iov.iov_base = pkt;
		tx->iov.iov_len = len;
		tx->h.msg_namelen = tx->dst.ss_family == AF_INET6
		    ? sizeof(struct sockaddr_in6)
		    : sizeof(struct sockaddr_in);
		tx->id = id;
		tx->leg = (uint8_t)l;
		/* MSG_DONTWAIT: a full send queue fails the send (the packet
		 * is lost, as on a congested link) rather than parking it */
		io_uring_prep_sendmsg(sqe, r->leg[l ^ 1].s[k].fd, &tx->h,
		    MSG_DONTWAIT);
		io_uring_sqe_set_data64(sqe, UR_TAG(UR_SEND) | bid);
		sent = true;
	}
done:
	if ((cqe->flags & IORING_CQE_F_BUFFER) != 0 && !sent) {
		ur_recycle(u, bid);
	}
	/* a read that ended (no buffer was free, an error) starts again at
	 * the end of the round, its buffers given back; a cancelled one not */
	if (!more && r != NULL && cqe->res != -ECANCELED &&
	    u->nopen < UR_QUEUE) {
		u->open[u->nopen++] = sock;
	}
	return sent;
}

int
media_uring_run(struct media *m, uint64_t now)
{
	struct media_uring *u = m->ur;
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	bool woken = false;
	int total = 0;

	for (uint32_t i = 0; i < u->nclose; i++) {
		struct io_uring_sqe *sqe = ur_sqe(u);

		if (sqe != NULL) {
			io_uring_prep_cancel64(sqe, UR_TAG(UR_RECV) | u->close[i],
			    IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, UR_TAG(UR_CTL) | 1);
		}
	}
	u->nclose = 0;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t d = cqe->user_data;

		seen++;
		switch (UR_TAG_OF(d)) {
		case UR_RECV:
			total += ur_recv(m, cqe, now);
			break;
		case UR_SEND: {
			unsigned bid = (unsigned)(d & (UR_BUFS - 1));

			if (cqe->res < 0) {
				media_packet_lost(m, u->tx[bid].id,
				    u->tx[bid].leg, u->tx[bid].iov.iov_len);
				total--;
			}
			ur_recycle(u, bid);
			break;
		}
		default:
			if (d != UR_TAG(UR_CTL)) {
				break; /* a cancel's */
			}
			/* once a round: events posted before the read
			 * find it read */
			uint64_t v;
			if (!woken && read(m->wakefd, &v, sizeof(v)) < 0) {
				/* read by an earlier round */
			}
			woken = true;
			if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
				ur_arm_wake(m);
			}
			break;
		}
	}
	io_uring_cq_advance(&u->ring, seen);
	if (u->recycled > 0) {
		io_uring_buf_ring_advance(u->br, (int)u->recycled);
		u->recycled = 0;
	}
	/* the sockets opened since the last round, and those whose read
	 * ended (no buffer was free: there are some now) */
	for (uint32_t i = 0; i < u->nopen; i++) {
		ur_read(m, u->open[i]);
	}
	u->nopen = 0;
	/* under the lock: no fd of a send can close before the kernel has
	 * taken it */
	io_uring_submit(&u->ring);
	/* the cancels ran in that call, and the sockets they released
	 * closed on its way back (task work, before it returned) */
	if (m->draining > 0) {
		m->draining = 0;
		pthread_cond_broadcast(&m->drained);
	}
	return total > 0 ? total : 0;
}
