/*
 * relay: the media relay engine.  It owns the port pool (a bitmap of the
 * ports its relays hold), the relays (a table of slots; a relay's id is
 * its slot and the slot's generation, so a stale id or a stale epoll
 * event finds nothing), one epoll set with every relay socket, and the
 * thread that moves packets.  One mutex guards all of it: the thread
 * holds it while it relays one batch of events, the SIP side while it
 * creates, moves, frees or reads a relay.
 *
 * Packets: a readable socket is drained with recvmmsg() in batches of
 * MEDIA_BATCH; each packet is checked against the socket's latch
 * (media_packet()) and sent on with one sendmmsg() per batch out of the
 * other leg's socket of the same kind (RTP to RTP, RTCP to RTCP), so the
 * far endpoint sees the relay's port it was given in its SDP.  Where
 * io_uring serves (uring.c, chosen when the thread starts), it reads and
 * sends instead, and this file's epoll set stays empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "sipd/log.h"
#include "sipd/media/media_int.h"

#define MEDIA_EVENTS 256
/* Rounds of recvmmsg() per readable socket before the next one's turn. */
#define MEDIA_ROUNDS 4
/* How often the timeouts are checked. */
#define MEDIA_CHECK_MS 1000
/* How long a relay that finds the pool full waits for the io_uring loop
 * to release the ports of relays freed just before. */
#define MEDIA_DRAIN_MS 2000
/* Relays freed by timeout whose owners one round tells at most. */
#define MEDIA_EXPIRE_MAX 256

static uint64_t
media_now(const struct media *m)
{
	struct timespec ts;

	if (m->set.clock_ms != NULL) {
		return m->set.clock_ms(m->set.clock_arg);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
media_settings_default(struct media_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->port_min = MEDIA_DEFAULT_PORT_MIN;
	s->port_max = MEDIA_DEFAULT_PORT_MAX;
	s->timeout_s = MEDIA_DEFAULT_TIMEOUT_S;
	s->relatch_ssrc = true;
}

/* The first even port of the range, or 0 when no pair fits in it. */
static uint32_t
range_first(const struct media_settings *s)
{
	uint32_t first = (s->port_min + 1u) & ~1u;

	if (first == 0) {
		first = 2;
	}
	return first + 1 <= s->port_max ? first : 0;
}

static int
check_settings(const struct media_settings *s, char *err, size_t cap)
{
	if (range_first(s) == 0) {
		snprintf(err, cap, "media ports %u-%u hold no even RTP port "
		    "with its RTCP port", s->port_min, s->port_max);
		return -EINVAL;
	}
	if (s->timeout_s == 0) {
		snprintf(err, cap, "media timeout 0");
		return -EINVAL;
	}
	return 0;
}

struct media *
media_new(const struct media_settings *s, char *err, size_t cap)
{
	struct media *m;

	if (check_settings(s, err, cap) < 0) {
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		return NULL;
	}
	m->set = *s;
	m->cursor = (uint16_t)range_first(s);
	m->wakefd = -1;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0) {
		snprintf(err, cap, "media, epoll (%s)", strerror(errno));
		goto fail;
	}
	m->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wakefd < 0) {
		snprintf(err, cap, "media, eventfd (%s)", strerror(errno));
		goto fail;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->wakefd, &ev) < 0) {
		snprintf(err, cap, "media, epoll (%s)", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->drained, NULL);
	atomic_init(&m->stopping, false);
	atomic_init(&m->open, 0);
	m->next_check_ms = media_now(m) + MEDIA_CHECK_MS;
	for (size_t i = 0; i < MEDIA_BATCH; i++) {
		m->rxiov[i].iov_base = m->rxbuf[i];
		m->rxiov[i].iov_len = sizeof(m->rxbuf[i]);
		m->rx[i].msg_hdr.msg_iov = &m->rxiov[i];
		m->rx[i].msg_hdr.msg_iovlen = 1;
		m->rx[i].msg_hdr.msg_name = &m->rxaddr[i];
		m->tx[i].msg_hdr.msg_iov = &m->txiov[i];
		m->tx[i].msg_hdr.msg_iovlen = 1;
		m->tx[i].msg_hdr.msg_name = &m->txaddr[i];
	}
	return m;
fail:
	if (m->wakefd >= 0) {
		close(m->wakefd);
	}
	if (m->epfd >= 0) {
		close(m->epfd);
	}
	free(m);
	return NULL;
}

static void *
media_main(void *arg)
{
	struct media *m = arg;

	/* "top -H" and the benchmark tell it apart */
	pthread_setname_np(pthread_self(), "media");
	while (!atomic_load(&m->stopping)) {
		if (media_poll(m, MEDIA_CHECK_MS) < 0) {
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int
media_start(struct media *m)
{
	int rc;

	if (m->running) {
		return 0;
	}
	atomic_store(&m->stopping, false);
#ifdef SIPD_HAVE_URING
	/* the thread's loop: io_uring, where there is one (not an old
	 * kernel, not a sandbox that forbids it), else epoll; relays made
	 * before stay on epoll */
	pthread_mutex_lock(&m->lock);
	if (m->ur == NULL && m->nrelays == 0 && !m->set.epoll_only) {
		(void)media_uring_new(m);
	}
	pthread_mutex_unlock(&m->lock);
#endif
	rc = pthread_create(&m->thread, NULL, media_main, m);
	if (rc != 0) {
		return -rc;
	}
	m->running = true;
	return 0;
}

const char *
media_io(const struct media *m)
{
	return m->ur != NULL ? "io_uring" : "epoll";
}

void
media_stop(struct media *m)
{
	uint64_t one = 1;

	if (m == NULL || !m->running) {
		return;
	}
	atomic_store(&m->stopping, true);
	if (write(m->wakefd, &one, sizeof(one)) < 0) {
		/* the thread wakes by its poll timeout instead */
	}
	pthread_join(m->thread, NULL);
	m->running = false;
}

/* Wake the thread: the io_uring loop has sockets to start or stop. */
static void
engine_kick(struct media *m)
{
	uint64_t one = 1;

	if (m->ur != NULL && write(m->wakefd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is woken already */
	}
}

/*
 * Close relay r's sockets and give their ports back to the pool.  Under
 * io_uring a closed socket stays bound until the engine's thread has
 * cancelled its read (at its next round, woken here): nobody waits for
 * that, and until then a new relay's bind() of the port fails and it
 * takes the next pair (leg_open()).
 */
static void
relay_close(struct media *m, struct media_relay *r)
{
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < 2; k++) {
			int fd = r->leg[l].s[k].fd;

			if (fd >= 0) {
#ifdef SIPD_HAVE_URING
				if (m->ur != NULL) {
					media_uring_close(m, r->id, l, k);
					m->draining++;
					engine_kick(m);
				}
#endif
				if (m->ur == NULL) {
					epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd,
					    NULL);
				}
				close(fd);
				r->leg[l].s[k].fd = -1;
			}
		}
		uint16_t port = ntohs(r->leg[l].local.ss_family == AF_INET6
		    ? ((struct sockaddr_in6 *)&r->leg[l].local)->sin6_port
		    : ((struct sockaddr_in *)&r->leg[l].local)->sin_port);
		if (port != 0) {
			m->used[port / 8] &= (uint8_t)~(1u << (port % 8));
			m->used[(port + 1) / 8] &=
			    (uint8_t)~(1u << ((port + 1) % 8));
		}
	}
}

/* Take relay r out of the table and close it.  Under the lock. */
static void
relay_drop(struct media *m, struct media_relay *r)
{
	uint32_t slot = r->id & MEDIA_SLOT_MASK;

	relay_close(m, r);
	m->slot[slot] = NULL;
	m->nrelays--;
	atomic_store_explicit(&m->open, m->nrelays, memory_order_release);
	m->freed++;
	if (m->nrelays == 0) {
		m->win_len = 0;
	}
	while (m->win_len > 0 && m->slot[m->win_start] == NULL) {
		m->win_start = (m->win_start + 1) & MEDIA_SLOT_MASK;
		m->win_len--;
	}
	while (m->win_len > 0 && m->slot[(m->win_start + m->win_len - 1) &
				      MEDIA_SLOT_MASK] == NULL) {
		m->win_len--;
	}
	free(r->key);
	free(r);
}

void
media_free(struct media *m)
{
	if (m == NULL) {
		return;
	}
	media_stop(m);
	for (uint32_t i = 0; i < MEDIA_MAX_RELAYS; i++) {
		if (m->slot[i] != NULL) {
			relay_drop(m, m->slot[i]);
		}
	}
#ifdef SIPD_HAVE_URING
	media_uring_free(m);
#endif
	close(m->wakefd);
	close(m->epfd);
	pthread_cond_destroy(&m->drained);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int
media_configure(struct media *m, const struct media_settings *s, char *err,
    size_t cap)
{
	int rc = check_settings(s, err, cap);

	if (rc < 0) {
		return rc;
	}
	pthread_mutex_lock(&m->lock);
	if (s->port_min != m->set.port_min || s->port_max != m->set.port_max) {
		m->cursor = (uint16_t)range_first(s);
	}
	m->set = *s;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

struct media_relay *
media_relay_find(struct media *m, uint32_t id)
{
	struct media_relay *r = m->slot[id & MEDIA_SLOT_MASK];

	return r != NULL && r->id == id ? r : NULL;
}

static uint16_t
sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	if (ss->ss_family == AF_INET) {
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	return 0;
}

static void
sa_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	} else if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	}
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	    : sizeof(struct sockaddr_in);
}

static bool
sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* Same address, whatever the ports; false for family 0. */
static bool
sa_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
		    *y = (const void *)b;

		return memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* Copy sa (IPv4 or IPv6) into *ss, or family 0 for NULL or port 0. */
static void
peer_copy(struct sockaddr_storage *ss, const struct sockaddr *sa)
{
	memset(ss, 0, sizeof(*ss));
	if (sa == NULL) {
		return;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
	}
	if (sa_port(ss) == 0) {
		ss->ss_family = 0;
	}
}

static int
open_one(const struct sockaddr_storage *local, uint16_t port, int *fd)
{
	struct sockaddr_storage a = *local;
	int one = 1;
	int s;

	s = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return -errno;
	}
	if (a.ss_family == AF_INET6 &&
	    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		int rc = -errno;
		close(s);
		return rc;
	}
	sa_set_port(&a, port);
	if (bind(s, (struct sockaddr *)&a, sa_len(&a)) < 0) {
		int rc = -errno;
		close(s);
		return rc;
	}
	*fd = s;
	return 0;
}

/*
 * Open leg l's RTP and RTCP sockets on a free pair of the range and add
 * them to the epoll set.  Under the lock.  -ENOSPC when no pair is free.
 */
static int
leg_open(struct media *m, struct media_relay *r, int l)
{
	struct media_leg *leg = &r->leg[l];
	uint32_t first = range_first(&m->set);
	uint32_t pairs = (m->set.port_max - first + 1) / 2;
	int rc;

	for (uint32_t tries = 0; tries < pairs; tries++) {
		uint32_t p = m->cursor;

		if (p < first || p + 1 > m->set.port_max) {
			p = first;
		}
		m->cursor = (uint16_t)(p + 2 + 1 > m->set.port_max
		    ? first : p + 2);
		if ((m->used[p / 8] & (1u << (p % 8))) != 0 ||
		    (m->used[(p + 1) / 8] & (1u << ((p + 1) % 8))) != 0) {
			continue;
		}
		rc = open_one(&leg->local, (uint16_t)p, &leg->s[SOCK_RTP].fd);
		if (rc == 0) {
			rc = open_one(&leg->local, (uint16_t)(p + 1),
			    &leg->s[SOCK_RTCP].fd);
			if (rc < 0) {
				close(leg->s[SOCK_RTP].fd);
				leg->s[SOCK_RTP].fd = -1;
			}
		}
		if (rc == -EADDRINUSE) {
			continue; /* another program's port: the next pair */
		}
		if (rc < 0) {
			return rc;
		}
		sa_set_port(&leg->local, (uint16_t)p);
		m->used[p / 8] |= (uint8_t)(1u << (p % 8));
		m->used[(p + 1) / 8] |= (uint8_t)(1u << ((p + 1) % 8));
		for (int k = 0; k < 2 && m->ur != NULL; k++) {
#ifdef SIPD_HAVE_URING
			media_uring_open(m, r->id, l, k);
#endif
		}
		for (int k = 0; k < 2 && m->ur == NULL; k++) {
			struct epoll_event ev = {
				.events = EPOLLIN,
				.data.u64 = (uint64_t)r->id << 2 |
				    (uint64_t)(l * 2 + k),
			};
			if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, leg->s[k].fd,
			    &ev) < 0) {
				return -errno; /* relay_close() releases */
			}
		}
		return 0;
	}
	return -ENOSPC;
}

static const char *
addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	const void *src = ss->ss_family == AF_INET6
	    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
	    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		snprintf(buf, cap, "-");
		return buf;
	}
	inet_ntop(ss->ss_family, src, ip, sizeof(ip));
	snprintf(buf, cap, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    ip, sa_port(ss));
	return buf;
}

/* A leg sends from its local address: its peers must be of its family. */
static bool
peer_fits(sa_family_t family, const struct media_leg_conf *c)
{
	return (c->peer == NULL || c->peer->sa_family == family) &&
	    (c->peer_rtcp == NULL || c->peer_rtcp->sa_family == family);
}

/*
 * The pool had no free pair, and sockets of relays freed since the
 * io_uring loop's last round may hold some (bound until it cancels their
 * reads): wait for that round, at most MEDIA_DRAIN_MS.  Under the lock,
 * which the wait lets go.  True when they are released.  Only the pool's
 * last pairs wait: the end of a call never does.
 */
static bool
drain_wait(struct media *m)
{
	struct timespec ts;

	if (m->ur == NULL || m->draining == 0 || !m->running ||
	    pthread_equal(pthread_self(), m->thread)) {
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += MEDIA_DRAIN_MS / 1000;
	ts.tv_nsec += (MEDIA_DRAIN_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	engine_kick(m);
	for (int i = 0; i < 100 && m->draining > 0; i++) {
		if (pthread_cond_timedwait(&m->drained, &m->lock, &ts) ==
		    ETIMEDOUT) {
			break;
		}
	}
	return m->draining == 0;
}

int
media_relay_new(struct media *m, const struct media_leg_conf *a,
    const struct media_leg_conf *b, struct media_alloc *out)
{
	const struct media_leg_conf *conf[2] = { a, b };
	struct media_relay *r;
	uint32_t slot = 0;
	unsigned lo, hi;
	bool waited = false;
	int rc;

	for (int l = 0; l < 2; l++) {
		if (conf[l] == NULL || conf[l]->local == NULL ||
		    (conf[l]->local->sa_family != AF_INET &&
		    conf[l]->local->sa_family != AF_INET6) ||
		    !peer_fits(conf[l]->local->sa_family, conf[l])) {
			return -EAFNOSUPPORT;
		}
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < 2; k++) {
			r->leg[l].s[k].fd = -1;
		}
		peer_copy(&r->leg[l].local, conf[l]->local);
		r->leg[l].local.ss_family = conf[l]->local->sa_family;
		sa_set_port(&r->leg[l].local, 0);
		peer_copy(&r->leg[l].peer[SOCK_RTP], conf[l]->peer);
		peer_copy(&r->leg[l].peer[SOCK_RTCP], conf[l]->peer_rtcp);
	}
	pthread_mutex_lock(&m->lock);
again:
	if (m->nrelays >= MEDIA_MAX_RELAYS) {
		rc = -EBUSY;
		goto fail;
	}
	for (uint32_t i = 0; i < MEDIA_MAX_RELAYS; i++) {
		slot = (m->next_slot + i) & MEDIA_SLOT_MASK;
		if (m->slot[slot] == NULL) {
			break;
		}
	}
	m->next_slot = (slot + 1) & MEDIA_SLOT_MASK;
	/* a generation of 0 would make slot 0's first id 0: none */
	if (++m->gen[slot] >= 1u << (32 - MEDIA_SLOT_BITS)) {
		m->gen[slot] = 1;
	}
	r->id = m->gen[slot] << MEDIA_SLOT_BITS | slot;
	for (int l = 0; l < 2; l++) {
		rc = leg_open(m, r, l);
		if (rc < 0) {
			relay_close(m, r);
			if (rc == -ENOSPC && !waited && drain_wait(m)) {
				/* the ports of relays freed just before are
				 * free now: once more, from the start */
				waited = true;
				sa_set_port(&r->leg[0].local, 0);
				sa_set_port(&r->leg[1].local, 0);
				goto again;
			}
			if (rc == -ENOSPC) {
				m->exhausted++;
			}
			goto fail;
		}
	}
	r->created_ms = r->last_ms = media_now(m);
	m->slot[slot] = r;
	if (m->nrelays == 0) {
		m->win_start = slot;
		m->win_len = 1;
	} else if (((slot - m->win_start) & MEDIA_SLOT_MASK) >= m->win_len) {
		m->win_len = ((slot - m->win_start) & MEDIA_SLOT_MASK) + 1;
	}
	m->nrelays++;
	atomic_store_explicit(&m->open, m->nrelays, memory_order_release);
	m->created++;
	out->id = r->id;
	out->local[0] = r->leg[0].local;
	out->local[1] = r->leg[1].local;
	engine_kick(m);
	pthread_mutex_unlock(&m->lock);
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_MAJOR)) {
		char x[64], y[64];

		log_warn(LOG_TRANSPORT, "media, relay %u created on %s and %s",
		    out->id, addr_str(&out->local[0], x, sizeof(x)),
		    addr_str(&out->local[1], y, sizeof(y)));
	}
	return 0;
fail:
	lo = m->set.port_min;
	hi = m->set.port_max;
	pthread_mutex_unlock(&m->lock);
	free(r);
	if (rc == -ENOSPC) {
		log_err(LOG_TRANSPORT, "media, no relay (media ports %u-%u "
		    "exhausted)", lo, hi);
	}
	return rc;
}

int
media_relay_update(struct media *m, uint32_t id, enum media_leg_id leg,
    const struct media_leg_conf *conf)
{
	struct media_relay *r;

	if ((unsigned)leg > MEDIA_LEG_B || conf == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	r = media_relay_find(m, id);
	if (r == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOENT;
	}
	if (!peer_fits(r->leg[leg].local.ss_family, conf)) {
		pthread_mutex_unlock(&m->lock);
		return -EAFNOSUPPORT;
	}
	struct sockaddr_storage rtp, rtcp;
	peer_copy(&rtp, conf->peer);
	peer_copy(&rtcp, conf->peer_rtcp);
	if (sa_same(&rtp, &r->leg[leg].peer[SOCK_RTP]) &&
	    sa_same(&rtcp, &r->leg[leg].peer[SOCK_RTCP])) {
		/* the same SDP again (a 200 after a 183, a retransmission, a
		 * session refresh): the latch stays */
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	r->leg[leg].peer[SOCK_RTP] = rtp;
	r->leg[leg].peer[SOCK_RTCP] = rtcp;
	for (int k = 0; k < 2; k++) {
		struct media_sock *s = &r->leg[leg].s[k];

		s->latched = s->have_ssrc = s->have_prev = false;
	}
	pthread_mutex_unlock(&m->lock);
	log_info(LOG_TRANSPORT, "media, relay %u leg %c moved", id,
	    leg == MEDIA_LEG_A ? 'A' : 'B');
	return 0;
}

int
media_relay_free(struct media *m, uint32_t id)
{
	struct media_relay *r;

	pthread_mutex_lock(&m->lock);
	r = media_relay_find(m, id);
	if (r == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOENT;
	}
	relay_drop(m, r);
	pthread_mutex_unlock(&m->lock);
	log_warn(LOG_TRANSPORT, "media, relay %u freed", id);
	return 0;
}

static void
info_of(const struct media *m, const struct media_relay *r, uint64_t now,
    struct media_relay_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = r->id;
	info->age_ms = now > r->created_ms ? now - r->created_ms : 0;
	info->idle_ms = now > r->last_ms ? now - r->last_ms : 0;
	(void)m;
	if (r->key != NULL) {
		size_t n = r->callid_len < sizeof(info->callid) - 1
		    ? r->callid_len
		    : sizeof(info->callid) - 1;
		memcpy(info->callid, r->key, n);
		info->callid[n] = '\0';
		info->line = r->line;
	}
	for (int l = 0; l < 2; l++) {
		const struct media_leg *leg = &r->leg[l];
		const struct media_sock *s = &leg->s[SOCK_RTP];
		struct media_leg_info *li = &info->leg[l];

		li->local = leg->local;
		li->latched = s->latched;
		li->peer = s->latched ? s->latch : leg->peer[SOCK_RTP];
		li->ssrc = s->have_ssrc ? s->ssrc : 0;
		li->packets = leg->packets;
		li->bytes = leg->bytes;
		li->ignored = leg->ignored;
	}
}

int
media_relay_get(struct media *m, uint32_t id, struct media_relay_info *info)
{
	struct media_relay *r;

	pthread_mutex_lock(&m->lock);
	r = media_relay_find(m, id);
	if (r != NULL) {
		info_of(m, r, media_now(m), info);
	}
	pthread_mutex_unlock(&m->lock);
	return r != NULL ? 0 : -ENOENT;
}

static int
info_cmp(const void *x, const void *y)
{
	const struct media_relay_info *a = x, *b = y;

	/* oldest first: the one with the longest age */
	if (a->age_ms != b->age_ms) {
		return a->age_ms > b->age_ms ? -1 : 1;
	}
	return a->id < b->id ? -1 : a->id > b->id;
}

int
media_relay_list(struct media *m, size_t max, struct media_relay_info **out)
{
	struct media_relay_info *v;
	size_t n = 0;
	uint64_t now;

	pthread_mutex_lock(&m->lock);
	size_t cap = m->nrelays < max ? m->nrelays : max;
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOMEM;
	}
	now = media_now(m);
	for (uint32_t i = 0; i < MEDIA_MAX_RELAYS && n < cap; i++) {
		if (m->slot[i] != NULL) {
			info_of(m, m->slot[i], now, &v[n++]);
		}
	}
	pthread_mutex_unlock(&m->lock);
	qsort(v, n, sizeof(*v), info_cmp);
	*out = v;
	return (int)n;
}

void
media_stats(struct media *m, struct media_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&m->lock);
	uint32_t first = range_first(&m->set);
	for (uint32_t p = first; p + 1 <= m->set.port_max; p += 2) {
		if ((m->used[p / 8] & (1u << (p % 8))) == 0 &&
		    (m->used[(p + 1) / 8] & (1u << ((p + 1) % 8))) == 0) {
			st->ports_free++;
		}
	}
	st->relays = m->nrelays;
	st->created = m->created;
	st->freed = m->freed;
	st->expired = m->expired;
	st->exhausted = m->exhausted;
	st->packets = m->packets;
	st->bytes = m->bytes;
	pthread_mutex_unlock(&m->lock);
}

/*
 * The SSRC of an RTP packet (RFC 3550 5.1), or of an RTCP packet's
 * sender (6.4; told apart by its packet type, RFC 5761 4).  False for
 * what is neither.
 */
static bool
pkt_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc)
{
	size_t off;

	if (len < 8 || p[0] >> 6 != 2) {
		return false;
	}
	off = (p[1] & 0x7f) >= 64 && (p[1] & 0x7f) <= 95 ? 4 : 8;
	if (len < off + 4) {
		return false;
	}
	*ssrc = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
	    (uint32_t)p[off + 2] << 8 | p[off + 3];
	return true;
}

/*
 * Whether socket s takes a packet from src: the first source latches;
 * a packet of another source is taken (and moves the latch) only when it
 * carries another SSRC than the latched stream and than the one before
 * it, so late packets of the old stream do not move it back.  With
 * strict latching a source latches only at sdp's address (the leg's
 * SDP address for this socket's kind; family 0: none yet).
 */
static bool
latch_accept(struct media *m, struct media_relay *r, struct media_sock *s,
    const struct sockaddr_storage *sdp, const struct sockaddr_storage *src,
    const uint8_t *p, size_t len)
{
	uint32_t ssrc = 0;
	bool valid = pkt_ssrc(p, len, &ssrc);

	/* strict: only the SDP's address latches, and moves a latch; a leg
	 * whose endpoint gave no address yet latches nothing */
	if (m->set.strict_latch && !sa_same_host(src, sdp)) {
		return false;
	}
	if (!s->latched) {
		s->latch = *src;
		s->latched = true;
		s->have_ssrc = valid;
		s->ssrc = ssrc;
		return true;
	}
	if (sa_same(src, &s->latch)) {
		if (valid && (!s->have_ssrc || ssrc != s->ssrc)) {
			s->ssrc = ssrc;
			s->have_ssrc = true;
		}
		return true;
	}
	if (!m->set.relatch_ssrc || !valid ||
	    (s->have_ssrc && ssrc == s->ssrc) ||
	    (s->have_prev && ssrc == s->prev_ssrc)) {
		return false;
	}
	if (log_enabled(LOG_TRANSPORT, LOG_LEVEL_LOWLEVEL)) {
		char x[64], y[64];

		log_info(LOG_TRANSPORT, "media, relay %u latch moved from %s "
		    "to %s (ssrc %08x)", r->id, addr_str(&s->latch, x,
		    sizeof(x)), addr_str(src, y, sizeof(y)), ssrc);
	}
	s->prev_ssrc = s->ssrc;
	s->have_prev = s->have_ssrc;
	s->latch = *src;
	s->ssrc = ssrc;
	s->have_ssrc = true;
	return true;
}

/*
 * Where a packet of kind k leaving through leg o goes: the latch, else
 * the SDP's address; RTCP falls back on the RTP address's port + 1
 * (RFC 3550 11).  strict: the latch only (RTCP: or the RTP latch's port
 * + 1).  False: nowhere yet.
 */
static bool
leg_dest(const struct media_leg *o, int k, bool strict,
    struct sockaddr_storage *dst)
{
	if (o->s[k].latched) {
		*dst = o->s[k].latch;
		return true;
	}
	if (strict) {
		/* RTCP may follow the latched RTP source (RFC 3550 11): its
		 * address is proven */
		if (k == SOCK_RTCP && o->s[SOCK_RTP].latched) {
			*dst = o->s[SOCK_RTP].latch;
			sa_set_port(dst, (uint16_t)(sa_port(dst) + 1));
			return true;
		}
		return false;
	}
	if (o->peer[k].ss_family != 0) {
		*dst = o->peer[k];
		return true;
	}
	if (k == SOCK_RTCP) {
		if (o->s[SOCK_RTP].latched) {
			*dst = o->s[SOCK_RTP].latch;
		} else if (o->peer[SOCK_RTP].ss_family != 0) {
			*dst = o->peer[SOCK_RTP];
		} else {
			return false;
		}
		sa_set_port(dst, (uint16_t)(sa_port(dst) + 1));
		return true;
	}
	return false;
}

bool
media_packet(struct media *m, struct media_relay *r, int l, int k,
    const struct sockaddr_storage *src, const uint8_t *p, size_t len,
    bool trunc, uint64_t now, struct sockaddr_storage *dst)
{
	struct media_leg *in = &r->leg[l];
	/* the address this socket's endpoint gave: RTCP's own, else RTP's */
	const struct sockaddr_storage *sdp =
	    in->peer[k].ss_family != 0 ? &in->peer[k] : &in->peer[SOCK_RTP];

	if (trunc || !latch_accept(m, r, &in->s[k], sdp, src, p, len)) {
		in->ignored++;
		return false;
	}
	/* the endpoint is there, even with nowhere to send yet: the relay
	 * is not idle */
	r->last_ms = now;
	if (!leg_dest(&r->leg[l ^ 1], k, m->set.strict_latch, dst)) {
		in->ignored++;
		return false;
	}
	in->packets++;
	in->bytes += len;
	m->packets++;
	m->bytes += len;
	return true;
}

void
media_packet_lost(struct media *m, uint32_t id, int l, size_t len)
{
	struct media_relay *r = media_relay_find(m, id);

	/* what the kernel would not take is lost, as on a congested link:
	 * RTP does not wait */
	m->packets--;
	m->bytes -= len;
	if (r != NULL) {
		r->leg[l].packets--;
		r->leg[l].bytes -= len;
		r->leg[l].ignored++;
	}
}

/* Drain socket k of leg l and relay what it read.  Under the lock. */
static int
relay_sock(struct media *m, struct media_relay *r, int l, int k,
    uint64_t now)
{
	int fd = r->leg[l].s[k].fd, out = r->leg[l ^ 1].s[k].fd;
	int total = 0;

	for (int round = 0; round < MEDIA_ROUNDS; round++) {
		int n, ntx = 0;

		for (int i = 0; i < MEDIA_BATCH; i++) {
			m->rx[i].msg_hdr.msg_namelen = sizeof(m->rxaddr[i]);
			m->rx[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(fd, m->rx, MEDIA_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			break;
		}
		for (int i = 0; i < n; i++) {
			size_t len = m->rx[i].msg_len;

			if (!media_packet(m, r, l, k, &m->rxaddr[i],
			    m->rxbuf[i], len,
			    (m->rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, now,
			    &m->txaddr[ntx])) {
				continue;
			}
			m->txiov[ntx].iov_base = m->rxbuf[i];
			m->txiov[ntx].iov_len = len;
			m->tx[ntx].msg_hdr.msg_namelen =
			    sa_len(&m->txaddr[ntx]);
			ntx++;
		}
		int sent = 0;
		while (sent < ntx) {
			int rc = sendmmsg(out, m->tx + sent,
			    (unsigned)(ntx - sent), MSG_DONTWAIT);
			if (rc <= 0) {
				break;
			}
			sent += rc;
		}
		for (int i = sent; i < ntx; i++) {
			media_packet_lost(m, r->id, l, m->txiov[i].iov_len);
		}
		total += sent;
		if (n < MEDIA_BATCH) {
			break;
		}
	}
	return total;
}

/* Free the relays idle past the timeout; their ids into ids[]. */
static size_t
expire(struct media *m, uint64_t now, uint32_t *ids, size_t max)
{
	uint64_t limit = (uint64_t)m->set.timeout_s * 1000;
	size_t n = 0;

	/* only the window holds relays: with none open the check is free,
	 * not a pass over every slot each second; relay_drop() may shrink
	 * the window, never past a relay not yet seen */
	for (uint32_t k = 0, w = m->win_start, len = m->win_len;
	     k < len && n < max && m->nrelays > 0; k++) {
		struct media_relay *r = m->slot[(w + k) & MEDIA_SLOT_MASK];

		if (r != NULL && now >= r->last_ms &&
		    now - r->last_ms >= limit) {
			ids[n++] = r->id;
			relay_drop(m, r);
			m->expired++;
		}
	}
	return n;
}

int
media_poll(struct media *m, int timeout_ms)
{
	struct epoll_event ev[MEDIA_EVENTS];
	uint32_t ids[MEDIA_EXPIRE_MAX];
	size_t nexp = 0;
	int n, total = 0;
	uint64_t now;

#ifdef SIPD_HAVE_URING
	if (m->ur != NULL) {
		n = media_uring_wait(m, timeout_ms);
		if (n < 0) {
			return n;
		}
		pthread_mutex_lock(&m->lock);
		now = media_now(m);
		total = media_uring_run(m, now);
		n = 0;
		goto expire;
	}
#endif
	n = epoll_wait(m->epfd, ev, MEDIA_EVENTS, timeout_ms);
	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	pthread_mutex_lock(&m->lock);
	now = media_now(m);
	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		struct media_relay *r;

		if (d == UINT64_MAX) {
			uint64_t v;

			if (read(m->wakefd, &v, sizeof(v)) < 0) {
				/* nothing to read: woken already */
			}
			continue;
		}
		/* a relay freed since epoll_wait() returned is not found */
		r = media_relay_find(m, (uint32_t)(d >> 2));
		if (r != NULL) {
			total += relay_sock(m, r, (int)(d >> 1 & 1),
			    (int)(d & 1), now);
		}
	}
#ifdef SIPD_HAVE_URING
expire:
#endif
	if (now >= m->next_check_ms) {
		nexp = expire(m, now, ids, MEDIA_EXPIRE_MAX);
		/* more to free: check again at once */
		m->next_check_ms = nexp == MEDIA_EXPIRE_MAX ? now
		    : now + MEDIA_CHECK_MS;
	}
	void (*cb)(void *, uint32_t) = m->set.expired;
	void *cb_arg = m->set.expired_arg;
	uint32_t timeout_s = m->set.timeout_s;
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < nexp; i++) {
		log_warn(LOG_TRANSPORT, "media, relay %u freed (no packet "
		    "for %u s)", ids[i], timeout_s);
		if (cb != NULL) {
			cb(cb_arg, ids[i]);
		}
	}
	return total;
}

/* ------------------------------------------------------------ calls */

static bool
key_eq(const char *k, uint32_t klen, const char *p, size_t len)
{
	return klen == len && (len == 0 || memcmp(k, p, len) == 0);
}

static bool
call_is(const struct media_relay *r, const struct media_call *c)
{
	return r->key != NULL &&
	    key_eq(r->key, r->callid_len, c->callid, c->callid_len);
}

/*
 * Does r belong to what c and group name: group's relays, or with group
 * 0 the dialog of c's two tags, in either order (*swapped: c's tag_a is
 * the relay's leg B tag)?
 */
static bool
call_match(const struct media_relay *r, const struct media_call *c,
    uint32_t group, bool *swapped)
{
	const char *a, *b;

	*swapped = false;
	if (group != 0) {
		/* a group's id is a relay id: unique, the call not needed */
		return r->key != NULL && r->group == group;
	}
	if (!call_is(r, c)) {
		return false;
	}
	if (r->tag_b_len == 0 || c->tag_b_len == 0) {
		return false;
	}
	a = r->key + r->callid_len;
	b = a + r->tag_a_len;
	if (key_eq(a, r->tag_a_len, c->tag_a, c->tag_a_len) &&
	    key_eq(b, r->tag_b_len, c->tag_b, c->tag_b_len)) {
		return true;
	}
	if (key_eq(a, r->tag_a_len, c->tag_b, c->tag_b_len) &&
	    key_eq(b, r->tag_b_len, c->tag_a, c->tag_a_len)) {
		*swapped = true;
		return true;
	}
	return false;
}

/* r's key: c's Call-ID and tags (tag_b empty while early). */
static int
key_set(struct media_relay *r, const struct media_call *c)
{
	size_t n = c->callid_len + c->tag_a_len + c->tag_b_len;
	char *k;

	if (c->callid_len > MEDIA_KEY_MAX || c->tag_a_len > MEDIA_KEY_MAX ||
	    c->tag_b_len > MEDIA_KEY_MAX) {
		return -EINVAL;
	}
	k = malloc(n ? n : 1);
	if (k == NULL) {
		return -ENOMEM;
	}
	memcpy(k, c->callid, c->callid_len);
	memcpy(k + c->callid_len, c->tag_a, c->tag_a_len);
	memcpy(k + c->callid_len + c->tag_a_len, c->tag_b, c->tag_b_len);
	free(r->key);
	r->key = k;
	r->callid_len = (uint32_t)c->callid_len;
	r->tag_a_len = (uint32_t)c->tag_a_len;
	r->tag_b_len = (uint32_t)c->tag_b_len;
	return 0;
}

int
media_relay_bind(struct media *m, uint32_t id, const struct media_call *c,
    uint32_t group, unsigned line)
{
	struct media_relay *r;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->lock);
	r = media_relay_find(m, id);
	if (r != NULL) {
		rc = key_set(r, c);
		if (rc == 0) {
			r->group = group != 0 ? group : id;
			r->line = (uint8_t)line;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int
media_call_find(struct media *m, const struct media_call *c, uint32_t group,
    struct media_ref *out, size_t max)
{
	size_t n = 0;
	bool swapped;

	/* no relay open: nothing to find, without the lock (a relay opened
	 * meanwhile is one opened after the lookup) */
	if (media_open_count(m) == 0) {
		return 0;
	}
	pthread_mutex_lock(&m->lock);
	/* the scan ends at the last relay there is: a BYE of a call sipd
	 * does not relay costs nothing when none are open */
	for (uint32_t k = 0, w = m->win_start, len = m->win_len, seen = 0;
	     k < len && n < max && seen < m->nrelays; k++) {
		const struct media_relay *r = m->slot[(w + k) & MEDIA_SLOT_MASK];

		seen += r != NULL;
		if (r != NULL && call_match(r, c, group, &swapped)) {
			out[n++] = (struct media_ref){ .id = r->id,
				.group = r->group, .line = r->line,
				.swapped = swapped, .looped = r->looped };
		}
	}
	pthread_mutex_unlock(&m->lock);
	return (int)n;
}

int
media_call_confirm(struct media *m, const struct media_call *c,
    uint32_t group)
{
	bool swapped;
	int n = 0;

	pthread_mutex_lock(&m->lock);
	for (uint32_t k = 0, w = m->win_start, len = m->win_len, seen = 0;
	     k < len && seen < m->nrelays; k++) {
		struct media_relay *r = m->slot[(w + k) & MEDIA_SLOT_MASK];

		seen += r != NULL;
		if (r != NULL && group != 0 && call_match(r, NULL, group,
			&swapped) && key_set(r, c) == 0) {
			n++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

unsigned
media_open_count(struct media *m)
{
	return atomic_load_explicit(&m->open, memory_order_acquire);
}

int
media_call_free(struct media *m, const struct media_call *c, uint32_t group)
{
	uint32_t ids[SDP_MAX_MEDIA * 8];
	bool swapped;
	size_t n = 0;

	if (media_open_count(m) == 0) {
		return 0; /* as media_call_find() */
	}
	pthread_mutex_lock(&m->lock);
	/* relays freed here leave nrelays: count the slots still to see */
	uint32_t left = m->nrelays;
	for (uint32_t k = 0, w = m->win_start, len = m->win_len;
	     k < len && left > 0; k++) {
		struct media_relay *r = m->slot[(w + k) & MEDIA_SLOT_MASK];

		left -= r != NULL;
		if (r != NULL && call_match(r, c, group, &swapped)) {
			if (n < sizeof(ids) / sizeof(ids[0])) {
				ids[n] = r->id;
			}
			n++;
			relay_drop(m, r);
		}
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < n && i < sizeof(ids) / sizeof(ids[0]); i++) {
		log_warn(LOG_TRANSPORT, "media, relay %u freed (%s)", ids[i],
		    group != 0 ? "the branch ended" : "the dialog ended");
	}
	return (int)n;
}

int
media_relay_by_local(struct media *m, const struct sockaddr *sa, bool mark,
    struct media_ref *out)
{
	struct sockaddr_storage want;
	int rc = -ENOENT;

	peer_copy(&want, sa);
	if (want.ss_family == 0) {
		return -ENOENT;
	}
	pthread_mutex_lock(&m->lock);
	for (uint32_t k = 0, w = m->win_start, len = m->win_len, seen = 0;
	     k < len && rc != 0 && seen < m->nrelays; k++) {
		struct media_relay *r = m->slot[(w + k) & MEDIA_SLOT_MASK];

		seen += r != NULL;
		for (int l = 0; r != NULL && l < 2; l++) {
			if (!sa_same(&r->leg[l].local, &want)) {
				continue;
			}
			if (mark) {
				r->looped = true;
			}
			*out = (struct media_ref){ .id = r->id,
				.group = r->group, .line = r->line,
				.leg = l == 0 ? MEDIA_LEG_A : MEDIA_LEG_B,
				.looped = r->looped,
				.answered =
				    r->leg[1].peer[SOCK_RTP].ss_family != 0 };
			out->peer = r->leg[1 - l].peer[SOCK_RTP];
			out->peer_rtcp = r->leg[1 - l].peer[SOCK_RTCP];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
