/*
 * integration/media/relay: the relay engine with its own thread, as sipd
 * runs it, between real UDP endpoints on 127.0.0.2 and 127.0.0.3 (and
 * ::1).  Nothing in sipd makes a relay yet (the proxy will, on an offer),
 * so this program links the media library and plays the SIP side: it
 * makes relays, pumps RTP both ways, and reads what each endpoint's own
 * socket received.
 *
 * Checked: every packet sent after both legs latched reaches the other
 * endpoint, from the port its SDP would name; a stranger (127.0.0.4)
 * sending the latched stream's SSRC reaches nobody; a relay whose
 * endpoints stop is freed by the timeout; a full pool refuses a relay and
 * the others keep relaying; after each relay is freed none of its ports
 * is left in /proc/net/udp or /proc/net/udp6 (under io_uring, once the
 * engine's thread has run); and a free does not wait for that thread,
 * while a relay that needs the pool's last pairs, still held by it,
 * waits for it instead of being refused.
 *
 * Exit status: 0 passed, 1 failed (with the reason on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sipd/media/media.h"

#define RELAYS 20
#define PACKETS 50   /* per endpoint and relay */
#define PKT_LEN 172  /* 20 ms of G.711 and the RTP header */

static int failures;
static atomic_uint expired;
/* set: the timeout's callback holds the engine's thread until cleared */
static atomic_bool stall;
static atomic_bool stalled;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

struct ep {
	int fd;
	struct sockaddr_storage addr;
};

static void
on_expired(void *arg, uint32_t id)
{
	(void)arg;
	(void)id;
	atomic_fetch_add(&expired, 1);
	atomic_store(&stalled, true);
	for (int i = 0; i < 500 && atomic_load(&stall); i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	    : sizeof(struct sockaddr_in);
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6
	    ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
	    : ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static struct sockaddr_storage
addr_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return ss;
}

static struct ep
ep_open(const char *ip)
{
	struct ep e;
	socklen_t len = sizeof(e.addr);
	int rcvbuf = 1 << 20;

	e.addr = addr_of(ip);
	e.fd = socket(e.addr.ss_family, SOCK_DGRAM, 0);
	setsockopt(e.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (e.fd < 0 || bind(e.fd, (struct sockaddr *)&e.addr,
	    sa_len(&e.addr)) < 0 ||
	    getsockname(e.fd, (struct sockaddr *)&e.addr, &len) < 0) {
		fprintf(stderr, "cannot bind an endpoint on %s: %s\n", ip,
		    strerror(errno));
		exit(1);
	}
	return e;
}

static void
rtp_send(const struct ep *e, const struct sockaddr_storage *to,
    uint32_t ssrc, uint16_t seq)
{
	uint8_t p[PKT_LEN] = { 0x80, 0x00 };

	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	if (sendto(e->fd, p, sizeof(p), 0, (const struct sockaddr *)to,
	    sa_len(to)) != (ssize_t)sizeof(p)) {
		fprintf(stderr, "send: %s\n", strerror(errno));
		failures++;
	}
}

/*
 * Read what e received within wait_ms of quiet: count the packets of
 * stream ssrc, and check they came from port from_port.
 */
static int
rtp_count(const struct ep *e, uint32_t ssrc, uint16_t from_port,
    int wait_ms)
{
	uint8_t p[2048];
	int n = 0;

	for (;;) {
		struct pollfd pfd = { e->fd, POLLIN, 0 };
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		ssize_t r;

		if (poll(&pfd, 1, wait_ms) <= 0) {
			return n;
		}
		r = recvfrom(e->fd, p, sizeof(p), 0, (struct sockaddr *)&from,
		    &len);
		if (r < 12) {
			continue;
		}
		uint32_t s = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		    (uint32_t)p[10] << 8 | p[11];
		CHECK(port_of(&from) == from_port, "packet from port %u, not "
		    "the relay's %u", port_of(&from), from_port);
		if (s == ssrc) {
			n++;
		}
	}
}

/* Whether /proc/net/udp or udp6 lists a socket bound to port. */
static bool
port_open(uint16_t port)
{
	static const char *const files[] = { "/proc/net/udp",
	    "/proc/net/udp6" };

	for (size_t f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];

		if (fp == NULL) {
			fprintf(stderr, "cannot read %s\n", files[f]);
			exit(1);
		}
		while (fgets(line, sizeof(line), fp) != NULL) {
			char local[128];
			unsigned p;
			char *colon;

			if (sscanf(line, "%*s %127s", local) != 1) {
				continue;
			}
			colon = strrchr(local, ':');
			if (colon != NULL && sscanf(colon + 1, "%x", &p) == 1 &&
			    p == port) {
				fclose(fp);
				return true;
			}
		}
		fclose(fp);
	}
	return false;
}

static bool
relay_ports_open(const struct media_alloc *al, bool want)
{
	for (int l = 0; l < 2; l++) {
		uint16_t p = port_of(&al->local[l]);

		if (port_open(p) != want || port_open((uint16_t)(p + 1)) !=
		    want) {
			return false;
		}
	}
	return true;
}

/*
 * Whether a freed relay's ports close within CLOSE_MS: at once with the
 * epoll loop; with io_uring at the engine thread's next round, which
 * media_relay_free() does not wait for.
 */
#define CLOSE_MS 10000
static bool
relay_ports_closed(const struct media_alloc *al)
{
	for (int i = 0; i < CLOSE_MS / 10; i++) {
		if (relay_ports_open(al, false)) {
			return true;
		}
		sleep_ms(10);
	}
	return relay_ports_open(al, false);
}

/* Relays both ways: every packet after the latch gets through. */
static void
both_ways(struct media *m, const char *ipa, const char *ipb,
    const char *local_a, const char *local_b, bool sdp_peer)
{
	struct ep a[RELAYS], b[RELAYS], stranger = ep_open(ipa[0] == ':'
	    ? "::1" : "127.0.0.4");
	struct media_alloc al[RELAYS];
	struct sockaddr_storage la = addr_of(local_a), lb = addr_of(local_b);

	for (int i = 0; i < RELAYS; i++) {
		a[i] = ep_open(ipa);
		b[i] = ep_open(ipb);
		struct media_leg_conf ca = { (struct sockaddr *)&la, NULL,
		    NULL };
		struct media_leg_conf cb = { (struct sockaddr *)&lb,
		    sdp_peer ? (struct sockaddr *)&b[i].addr : NULL, NULL };
		int rc = media_relay_new(m, &ca, &cb, &al[i]);
		if (rc < 0) {
			fprintf(stderr, "media_relay_new: %s\n",
			    strerror(-rc));
			exit(1);
		}
		CHECK(relay_ports_open(&al[i], true), "relay %u's ports are "
		    "not in /proc/net/udp", al[i].id);
	}
	/* without an SDP address B must speak first to be latched */
	if (!sdp_peer) {
		for (int i = 0; i < RELAYS; i++) {
			rtp_send(&b[i], &al[i].local[1], 0xb0000 + (uint32_t)i,
			    0);
		}
		sleep_ms(50);
		for (int i = 0; i < RELAYS; i++) {
			rtp_count(&a[i], 0xb0000 + (uint32_t)i,
			    port_of(&al[i].local[0]), 0);
		}
	}
	for (int k = 1; k <= PACKETS; k++) {
		for (int i = 0; i < RELAYS; i++) {
			rtp_send(&a[i], &al[i].local[0], 0xa0000 + (uint32_t)i,
			    (uint16_t)k);
			rtp_send(&b[i], &al[i].local[1], 0xb0000 + (uint32_t)i,
			    (uint16_t)k);
		}
		if (k % 10 == 0) {
			sleep_ms(5);
		}
	}
	/* a stranger with A's stream's SSRC reaches nobody */
	for (int i = 0; i < RELAYS; i++) {
		rtp_send(&stranger, &al[i].local[0], 0xa0000 + (uint32_t)i,
		    999);
	}
	unsigned long got_a = 0, got_b = 0;
	for (int i = 0; i < RELAYS; i++) {
		int nb = rtp_count(&b[i], 0xa0000 + (uint32_t)i,
		    port_of(&al[i].local[1]), 100);
		int na = rtp_count(&a[i], 0xb0000 + (uint32_t)i,
		    port_of(&al[i].local[0]), 20);
		CHECK(nb == PACKETS, "relay %u: B got %d of A's %d packets",
		    al[i].id, nb, PACKETS);
		CHECK(na == PACKETS, "relay %u: A got %d of B's %d packets",
		    al[i].id, na, PACKETS);
		got_a += (unsigned long)na;
		got_b += (unsigned long)nb;
		struct media_relay_info info;
		CHECK(media_relay_get(m, al[i].id, &info) == 0, "relay %u "
		    "gone", al[i].id);
		CHECK(info.leg[0].latched && info.leg[1].latched,
		    "relay %u not latched", al[i].id);
		CHECK(info.leg[0].packets == PACKETS, "relay %u counted %llu "
		    "from A", al[i].id,
		    (unsigned long long)info.leg[0].packets);
		CHECK(info.leg[0].ignored == 1, "relay %u ignored %llu from "
		    "A's side, not the stranger's 1", al[i].id,
		    (unsigned long long)info.leg[0].ignored);
	}
	printf("%s <-> %s%s: %d relays, A received %lu, B received %lu "
	    "of %d each\n", ipa, ipb, sdp_peer ? " (B's SDP address)" : "",
	    RELAYS, got_a, got_b, RELAYS * PACKETS);
	for (int i = 0; i < RELAYS; i++) {
		CHECK(media_relay_free(m, al[i].id) == 0, "free %u", al[i].id);
	}
	for (int i = 0; i < RELAYS; i++) {
		CHECK(relay_ports_closed(&al[i]), "relay %u freed, its "
		    "ports still open", al[i].id);
		close(a[i].fd);
		close(b[i].fd);
	}
	close(stranger.fd);
}

static void
timeout_frees(struct media *m, uint16_t base)
{
	struct sockaddr_storage l = addr_of("127.0.0.1");
	struct media_leg_conf c = { (struct sockaddr *)&l, NULL, NULL };
	struct media_alloc al;
	struct media_relay_info info;
	unsigned before = atomic_load(&expired);
	struct media_settings s;
	char err[256];

	media_settings_default(&s);
	s.port_min = base;
	s.port_max = (uint16_t)(base + 95);
	s.timeout_s = 1;
	s.expired = on_expired;
	CHECK(media_configure(m, &s, err, sizeof(err)) == 0, "%s", err);
	CHECK(media_relay_new(m, &c, &c, &al) == 0, "relay for the timeout");
	CHECK(relay_ports_open(&al, true), "ports not open");
	/* timeout 1 s, checked each second: gone within 2.5 s */
	for (int i = 0; i < 50 && media_relay_get(m, al.id, &info) == 0;
	    i++) {
		sleep_ms(100);
	}
	CHECK(media_relay_get(m, al.id, &info) == -ENOENT, "relay %u still "
	    "there after its timeout", al.id);
	CHECK(atomic_load(&expired) == before + 1, "expired not told");
	CHECK(relay_ports_closed(&al), "expired relay's ports open");
	printf("timeout: relay %u freed, its ports closed\n", al.id);
}

static void
exhausted(struct media *m, uint16_t base)
{
	struct media_settings s;
	struct sockaddr_storage l = addr_of("127.0.0.1");
	struct media_leg_conf c = { (struct sockaddr *)&l, NULL, NULL };
	struct media_alloc al, al2;
	char err[256];

	media_settings_default(&s);
	s.port_min = base;
	s.port_max = (uint16_t)(base + 3);
	s.timeout_s = 1;
	s.expired = on_expired;
	CHECK(media_configure(m, &s, err, sizeof(err)) == 0, "%s", err);
	CHECK(media_relay_new(m, &c, &c, &al) == 0, "first relay");
	CHECK(media_relay_new(m, &c, &c, &al2) == -ENOSPC, "a full pool "
	    "must refuse");
	/* the relay that was made still relays */
	struct ep a = ep_open("127.0.0.2"), b = ep_open("127.0.0.3");
	rtp_send(&b, &al.local[1], 0xbb, 1);
	sleep_ms(20);
	rtp_send(&a, &al.local[0], 0xaa, 1);
	CHECK(rtp_count(&b, 0xaa, port_of(&al.local[1]), 200) == 1,
	    "the relay made before the pool filled does not relay");
	/* freed, the pool's only two pairs make a relay again at once,
	 * while their sockets may still be draining (io_uring) */
	CHECK(media_relay_free(m, al.id) == 0, "free");
	CHECK(media_relay_new(m, &c, &c, &al2) == 0, "a relay on the pairs "
	    "freed just before");
	CHECK(media_relay_free(m, al2.id) == 0, "free");
	CHECK(relay_ports_closed(&al2), "ports open after free");
	close(a.fd);
	close(b.fd);
	printf("exhausted: a pool of %u-%u refuses its second relay, the "
	    "first relays\n", base, base + 3);
}

static void *
unstall(void *arg)
{
	(void)arg;
	sleep_ms(300);
	atomic_store(&stall, false);
	return NULL;
}

/*
 * A relay freed while the engine's thread is held (here in a timeout's
 * callback) leaves its ports to that thread's next round under io_uring:
 * the free does not wait for it, and a relay that needs those ports, the
 * pool's last, waits for that round instead of being refused.  With the
 * thread held 0.3 s: freed at once, the next relay made in about 0.3 s.
 */
static void
freed_while_held(struct media *m, uint16_t base)
{
	struct media_settings s;
	struct sockaddr_storage l = addr_of("127.0.0.1");
	struct media_leg_conf c = { (struct sockaddr *)&l, NULL, NULL };
	struct media_alloc x, y, z;
	pthread_t t;
	char err[256];

	media_settings_default(&s);
	s.port_min = base;
	s.port_max = (uint16_t)(base + 7);
	s.timeout_s = 1;
	s.expired = on_expired;
	CHECK(media_configure(m, &s, err, sizeof(err)) == 0, "%s", err);
	atomic_store(&stalled, false);
	atomic_store(&stall, true);
	CHECK(media_relay_new(m, &c, &c, &x) == 0, "relay to time out");
	CHECK(media_relay_new(m, &c, &c, &y) == 0, "relay to free");
	/* y's endpoint speaks, so only x times out; y's sockets are read */
	struct ep a = ep_open("127.0.0.2");
	for (int i = 0; i < 300 && !atomic_load(&stalled); i++) {
		if (i % 10 == 0) {
			rtp_send(&a, &y.local[0], 0xcc, (uint16_t)i);
		}
		sleep_ms(10);
	}
	close(a.fd);
	CHECK(atomic_load(&stalled), "relay %u not timed out", x.id);
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(media_relay_free(m, y.id) == 0, "free %u", y.id);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(pthread_create(&t, NULL, unstall, NULL) == 0, "thread");
	int rc = media_relay_new(m, &c, &c, &z);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	CHECK(rc == 0, "no relay on the pairs freed while the engine was "
	    "held: %s", strerror(-rc));
	pthread_join(t, NULL);
	long free_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	long new_ms = (t2.tv_sec - t1.tv_sec) * 1000 +
	    (t2.tv_nsec - t1.tv_nsec) / 1000000;
	CHECK(free_ms < 100, "the free waited %ld ms for the engine",
	    free_ms);
	if (rc == 0) {
		CHECK(media_relay_free(m, z.id) == 0, "free %u", z.id);
		CHECK(relay_ports_closed(&z), "ports open after free");
	}
	CHECK(relay_ports_closed(&x) && relay_ports_closed(&y),
	    "ports open after free");
	printf("freed while the engine was held: free %ld ms, next relay "
	    "%ld ms\n", free_ms, new_ms);
}

int
main(void)
{
	struct media_settings s;
	struct media *m;
	char err[256];
	/* below the ephemeral ports (32768 and up), above unit/media/relay's */
	uint16_t base = (uint16_t)(26000 + (getpid() % 59) * 100);

	media_settings_default(&s);
	s.port_min = base;
	s.port_max = (uint16_t)(base + 95);
	s.timeout_s = 60;
	s.expired = on_expired;
	m = media_new(&s, err, sizeof(err));
	if (m == NULL || media_start(m) < 0) {
		fprintf(stderr, "no engine: %s\n", err);
		return 1;
	}
	both_ways(m, "127.0.0.2", "127.0.0.3", "127.0.0.1", "127.0.0.1",
	    false);
	both_ways(m, "127.0.0.2", "127.0.0.3", "127.0.0.1", "127.0.0.1",
	    true);
	struct ep probe = ep_open("::1");
	close(probe.fd);
	both_ways(m, "::1", "127.0.0.3", "::1", "127.0.0.1", false);
	timeout_frees(m, base);
	exhausted(m, (uint16_t)(base + 96));
	freed_while_held(m, base);
	media_free(m);
	if (failures > 0) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("passed\n");
	return 0;
}
