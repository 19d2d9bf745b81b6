/*
 * Unit tests for the relay engine (sipd/media/relay.c) over real UDP
 * sockets on loopback, with an injected clock and no thread: each test
 * sends from its endpoints' sockets, runs media_poll() and reads what
 * the other endpoint's socket received.
 *
 * What each bad input gets: a packet from a source other than the
 * latched one is dropped and counted, unless it carries a new SSRC (then
 * the latch moves, and the old stream's late packets do not move it
 * back); with re-latching off it is always dropped; a relay asked of a
 * full pool gets -ENOSPC and leaves nothing open; a range with no pair is
 * refused; a freed relay's id finds nothing and its ports bind again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipd/media/media.h"

static uint64_t clock_now;
static uint32_t expired_id;
static unsigned expired_count;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

static void
on_expired(void *arg, uint32_t id)
{
	(void)arg;
	expired_id = id;
	expired_count++;
}

/* A range of its own per process, so that ctest -j does not collide,
 * below the kernel's ephemeral ports (32768 and up) and below the
 * range of integration/media/relay (26000-31999). */
static uint16_t
base_port(void)
{
	return (uint16_t)(20000 + (getpid() % 150) * 40);
}

static struct media *
engine(uint16_t min, uint16_t max, bool relatch)
{
	struct media_settings s;
	char err[256];
	struct media *m;

	media_settings_default(&s);
	s.port_min = min;
	s.port_max = max;
	s.relatch_ssrc = relatch;
	s.clock_ms = fake_clock;
	s.expired = on_expired;
	clock_now = 1000000;
	expired_count = 0;
	m = media_new(&s, err, sizeof(err));
	assert_non_null(m);
	return m;
}

static struct sockaddr_in
v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* An endpoint: a UDP socket on ip, any port. */
static int
endpoint(const char *ip, struct sockaddr_in *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = v4(ip, 0);
	socklen_t len = sizeof(a);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (bound != NULL) {
		*bound = a;
	}
	return fd;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6
	    ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
	    : ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* An RTP packet of stream ssrc, sequence seq, to the relay's port. */
static void
send_rtp(int fd, const struct sockaddr_storage *to, uint16_t port_add,
    uint32_t ssrc, uint16_t seq)
{
	uint8_t p[172] = { 0x80, 0x00 };
	struct sockaddr_storage dst = *to;

	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	if (dst.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;
		s6->sin6_port = htons((uint16_t)(ntohs(s6->sin6_port) +
		    port_add));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&dst;
		s4->sin_port = htons((uint16_t)(ntohs(s4->sin_port) +
		    port_add));
	}
	assert_int_equal(sendto(fd, p, sizeof(p), 0, (struct sockaddr *)&dst,
	    dst.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	    : sizeof(struct sockaddr_in)), (ssize_t)sizeof(p));
}

/* Packets waiting on fd, read and counted; *seq gets the last one's. */
static int
drain(int fd, uint16_t *seq, struct sockaddr_storage *from)
{
	uint8_t p[2048];
	int n = 0;

	for (;;) {
		socklen_t len = sizeof(*from);
		struct sockaddr_storage f;
		ssize_t r = recvfrom(fd, p, sizeof(p), MSG_DONTWAIT,
		    (struct sockaddr *)&f, &len);

		if (r < 0) {
			return n;
		}
		if (seq != NULL && r >= 4) {
			*seq = (uint16_t)(p[2] << 8 | p[3]);
		}
		if (from != NULL) {
			*from = f;
		}
		n++;
	}
}

static struct media_alloc
relay_v4(struct media *m, const struct sockaddr_in *peer_b)
{
	struct sockaddr_in la = v4("127.0.0.1", 0);
	struct media_leg_conf a = { (struct sockaddr *)&la, NULL, NULL };
	struct media_leg_conf b = { (struct sockaddr *)&la,
	    (const struct sockaddr *)peer_b, NULL };
	struct media_alloc al;

	assert_int_equal(media_relay_new(m, &a, &b, &al), 0);
	assert_true(al.id != 0);
	assert_int_equal(port_of(&al.local[0]) % 2, 0);
	assert_int_equal(port_of(&al.local[1]) % 2, 0);
	return al;
}

/* Whether port (UDP, 127.0.0.1) can be bound: nobody holds it. */
static bool
port_free(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = v4("127.0.0.1", port);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static void
latch_both_ways(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	struct sockaddr_in ea_addr;
	int ea = endpoint("127.0.0.2", &ea_addr);
	int eb = endpoint("127.0.0.3", NULL);
	struct media_alloc al = relay_v4(m, NULL);
	struct media_relay_info info;
	uint16_t seq = 0;

	(void)state;
	/* B has said nothing and has no SDP address: A's packet has no
	 * destination and is dropped */
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 1);
	assert_int_equal(media_poll(m, 100), 0);
	assert_int_equal(drain(eb, NULL, NULL), 0);
	/* B's first packet latches B and goes to A's latch */
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 7);
	assert_int_equal(media_poll(m, 100), 1);
	struct sockaddr_storage from;
	assert_int_equal(drain(ea, &seq, &from), 1);
	assert_int_equal(seq, 7);
	/* ... out of leg A's port: the one A's SDP was given */
	assert_int_equal(port_of(&from), port_of(&al.local[0]));
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 2);
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 3);
	assert_int_equal(media_poll(m, 100), 2);
	assert_int_equal(drain(eb, &seq, &from), 2);
	assert_int_equal(seq, 3);
	assert_int_equal(port_of(&from), port_of(&al.local[1]));
	assert_int_equal(media_relay_get(m, al.id, &info), 0);
	assert_true(info.leg[0].latched && info.leg[1].latched);
	assert_int_equal(info.leg[0].ssrc, 0xaaaa);
	/* relayed, and the first one that had nowhere to go */
	assert_int_equal(info.leg[0].packets, 2);
	assert_int_equal(info.leg[0].ignored, 1);
	assert_int_equal(info.leg[0].bytes, 2 * 172);
	assert_int_equal(info.leg[1].packets, 1);
	assert_int_equal(((struct sockaddr_in *)&info.leg[0].peer)->sin_port,
	    ea_addr.sin_port);
	close(ea);
	close(eb);
	media_free(m);
}

static void
other_source_and_relatch(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	int ea = endpoint("127.0.0.2", NULL);
	int eb = endpoint("127.0.0.3", NULL);
	int ex = endpoint("127.0.0.4", NULL);
	struct media_alloc al = relay_v4(m, NULL);
	struct media_relay_info info;
	uint16_t seq = 0;

	(void)state;
	/* B latches (its packet has nowhere to go yet), then A */
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 1);
	media_poll(m, 100);
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 1);
	media_poll(m, 100);
	assert_int_equal(drain(ea, NULL, NULL), 0);
	assert_int_equal(drain(eb, NULL, NULL), 1);
	/* another source, same SSRC: dropped (a spoofed copy) */
	send_rtp(ex, &al.local[0], 0, 0xaaaa, 50);
	assert_int_equal(media_poll(m, 100), 0);
	assert_int_equal(drain(eb, NULL, NULL), 0);
	/* another source, a new SSRC: the latch moves to it */
	send_rtp(ex, &al.local[0], 0, 0xcccc, 60);
	assert_int_equal(media_poll(m, 100), 1);
	assert_int_equal(drain(eb, &seq, NULL), 1);
	assert_int_equal(seq, 60);
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 2);
	media_poll(m, 100);
	assert_int_equal(drain(ex, NULL, NULL), 1);
	assert_int_equal(drain(ea, NULL, NULL), 0);
	/* the old stream's late packet does not move it back */
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 3);
	assert_int_equal(media_poll(m, 100), 0);
	assert_int_equal(drain(eb, NULL, NULL), 0);
	assert_int_equal(media_relay_get(m, al.id, &info), 0);
	assert_int_equal(info.leg[0].ssrc, 0xcccc);
	assert_int_equal(info.leg[0].ignored, 2);
	close(ea);
	close(eb);
	close(ex);
	media_free(m);
}

static void
relatch_off(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, false);
	int ea = endpoint("127.0.0.2", NULL);
	int eb = endpoint("127.0.0.3", NULL);
	int ex = endpoint("127.0.0.4", NULL);
	struct media_alloc al = relay_v4(m, NULL);

	(void)state;
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 1);
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 1);
	media_poll(m, 100);
	media_poll(m, 0);
	drain(ea, NULL, NULL);
	drain(eb, NULL, NULL);
	send_rtp(ex, &al.local[0], 0, 0xcccc, 60);
	assert_int_equal(media_poll(m, 100), 0);
	assert_int_equal(drain(eb, NULL, NULL), 0);
	close(ea);
	close(eb);
	close(ex);
	media_free(m);
}

static void
sdp_peer_then_update(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	struct sockaddr_in eb_addr, eb2_addr;
	int ea = endpoint("127.0.0.2", NULL);
	int eb = endpoint("127.0.0.3", &eb_addr);
	int eb2 = endpoint("127.0.0.5", &eb2_addr);
	struct media_alloc al = relay_v4(m, &eb_addr);
	struct media_leg_conf moved = { NULL,
	    (struct sockaddr *)&eb2_addr, NULL };
	struct media_relay_info info;

	(void)state;
	/* B's SDP address serves before B sends anything */
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 1);
	assert_int_equal(media_poll(m, 100), 1);
	assert_int_equal(drain(eb, NULL, NULL), 1);
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 1);
	media_poll(m, 100);
	assert_int_equal(drain(ea, NULL, NULL), 1);
	/* a re-INVITE moves B: the latch is forgotten */
	assert_int_equal(media_relay_update(m, al.id, MEDIA_LEG_B, &moved),
	    0);
	assert_int_equal(media_relay_get(m, al.id, &info), 0);
	assert_false(info.leg[1].latched);
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 2);
	media_poll(m, 100);
	assert_int_equal(drain(eb2, NULL, NULL), 1);
	assert_int_equal(drain(eb, NULL, NULL), 0);
	assert_int_equal(media_relay_update(m, al.id + 1, MEDIA_LEG_B,
	    &moved), -ENOENT);
	/* a leg on IPv4 cannot send to an IPv6 endpoint */
	struct sockaddr_in6 p6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(4000), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct media_leg_conf wrong = { NULL, (struct sockaddr *)&p6, NULL };
	assert_int_equal(media_relay_update(m, al.id, MEDIA_LEG_B, &wrong),
	    -EAFNOSUPPORT);
	struct sockaddr_in la = v4("127.0.0.1", 0);
	wrong.local = (struct sockaddr *)&la;
	struct media_alloc al2;
	assert_int_equal(media_relay_new(m, &wrong, &wrong, &al2),
	    -EAFNOSUPPORT);
	close(ea);
	close(eb);
	close(eb2);
	media_free(m);
}

static void
rtcp_follows(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	int ea = endpoint("127.0.0.2", NULL);
	int eb = endpoint("127.0.0.3", NULL);
	int eb_rtcp = endpoint("127.0.0.3", NULL);
	struct media_alloc al = relay_v4(m, NULL);
	struct sockaddr_storage from;

	(void)state;
	/* B's RTCP latches its own socket; A's RTCP goes there from leg B's
	 * RTCP port */
	send_rtp(eb_rtcp, &al.local[1], 1, 0xbbbb, 0);
	media_poll(m, 100);
	send_rtp(ea, &al.local[0], 1, 0xaaaa, 0);
	assert_int_equal(media_poll(m, 100), 1);
	assert_int_equal(drain(eb_rtcp, NULL, &from), 1);
	assert_int_equal(port_of(&from), port_of(&al.local[1]) + 1);
	close(ea);
	close(eb);
	close(eb_rtcp);
	media_free(m);
}

static void
timeout_frees(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	int ea = endpoint("127.0.0.2", NULL);
	struct media_alloc al = relay_v4(m, NULL);
	struct media_relay_info info;
	uint16_t pa = port_of(&al.local[0]), pb = port_of(&al.local[1]);

	(void)state;
	assert_false(port_free(pa));
	clock_now += 59 * 1000;
	media_poll(m, 0);
	assert_int_equal(media_relay_get(m, al.id, &info), 0);
	assert_int_equal(info.idle_ms, 59 * 1000);
	/* a packet (even one with nowhere to go) keeps it */
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 1);
	media_poll(m, 100);
	clock_now += 59 * 1000;
	media_poll(m, 0);
	assert_int_equal(expired_count, 0);
	clock_now += 1000;
	media_poll(m, 0);
	assert_int_equal(expired_count, 1);
	assert_int_equal(expired_id, al.id);
	assert_int_equal(media_relay_get(m, al.id, &info), -ENOENT);
	assert_int_equal(media_relay_free(m, al.id), -ENOENT);
	/* its four ports are closed */
	assert_true(port_free(pa) && port_free(pa + 1));
	assert_true(port_free(pb) && port_free(pb + 1));
	close(ea);
	media_free(m);
}

static void
pool_exhausted(void **state)
{
	uint16_t base = base_port() + 20; /* even */
	/* an odd first port: the pool starts at the next even one; 5 ports
	 * hold 2 pairs: one relay */
	struct media *m = engine(base - 1, base + 3, true);
	struct sockaddr_in la = v4("127.0.0.1", 0);
	struct media_leg_conf c = { (struct sockaddr *)&la, NULL, NULL };
	struct media_alloc al, al2;
	struct media_stats st;

	(void)state;
	assert_int_equal(media_relay_new(m, &c, &c, &al), 0);
	assert_int_equal(port_of(&al.local[0]), base);
	assert_int_equal(port_of(&al.local[1]), base + 2);
	assert_int_equal(media_relay_new(m, &c, &c, &al2), -ENOSPC);
	media_stats(m, &st);
	assert_int_equal(st.relays, 1);
	assert_int_equal(st.ports_free, 0);
	assert_int_equal(st.exhausted, 1);
	assert_int_equal(media_relay_free(m, al.id), 0);
	assert_true(port_free(base) && port_free(base + 3));
	assert_int_equal(media_relay_new(m, &c, &c, &al2), 0);
	/* the same slot, another id: the old one finds nothing */
	assert_true(al2.id != al.id);
	assert_int_equal(media_relay_free(m, al.id), -ENOENT);
	media_stats(m, &st);
	assert_int_equal(st.ports_free, 0);
	media_free(m);
	assert_true(port_free(base) && port_free(base + 2));
}

static void
half_exhausted_leaves_nothing(void **state)
{
	uint16_t base = base_port() + 30;
	/* 3 pairs: one relay, then a second gets leg A but not leg B */
	struct media *m = engine(base, base + 5, true);
	struct sockaddr_in la = v4("127.0.0.1", 0);
	struct media_leg_conf c = { (struct sockaddr *)&la, NULL, NULL };
	struct media_alloc al, al2;
	struct media_stats st;

	(void)state;
	assert_int_equal(media_relay_new(m, &c, &c, &al), 0);
	assert_int_equal(media_relay_new(m, &c, &c, &al2), -ENOSPC);
	assert_true(port_free(base + 4) && port_free(base + 5));
	media_stats(m, &st);
	assert_int_equal(st.ports_free, 1);
	media_free(m);
}

static void
bad_settings(void **state)
{
	struct media_settings s;
	struct media *m;
	char err[256];

	(void)state;
	media_settings_default(&s);
	s.port_min = 20001;
	s.port_max = 20002; /* no even port with its next one */
	assert_null(media_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "20001-20002"));
	media_settings_default(&s);
	m = media_new(&s, err, sizeof(err));
	assert_non_null(m);
	s.port_min = 30000;
	s.port_max = 20000;
	assert_int_equal(media_configure(m, &s, err, sizeof(err)), -EINVAL);
	media_free(m);
	media_free(NULL);
}

static void
ipv4_to_ipv6(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	struct sockaddr_in la = v4("127.0.0.1", 0);
	struct sockaddr_in6 l6 = { .sin6_family = AF_INET6,
	    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct media_leg_conf a = { (struct sockaddr *)&la, NULL, NULL };
	struct media_leg_conf b = { (struct sockaddr *)&l6, NULL, NULL };
	struct media_alloc al;
	int ea = endpoint("127.0.0.2", NULL);
	int eb = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 b6 = l6;

	(void)state;
	if (bind(eb, (struct sockaddr *)&b6, sizeof(b6)) < 0) {
		close(eb);
		close(ea);
		media_free(m);
		skip(); /* no IPv6 loopback here */
	}
	assert_int_equal(media_relay_new(m, &a, &b, &al), 0);
	assert_int_equal(al.local[1].ss_family, AF_INET6);
	send_rtp(eb, &al.local[1], 0, 0xbbbb, 1);
	media_poll(m, 100);
	send_rtp(ea, &al.local[0], 0, 0xaaaa, 9);
	assert_int_equal(media_poll(m, 100), 1);
	uint16_t seq = 0;
	assert_int_equal(drain(eb, &seq, NULL), 1);
	assert_int_equal(seq, 9);
	close(ea);
	close(eb);
	media_free(m);
}

static void
list_and_bad_local(void **state)
{
	struct media *m = engine(base_port(), base_port() + 39, true);
	struct media_relay_info *v = NULL;
	struct sockaddr_un_like { sa_family_t f; char p[30]; } bad = { AF_UNIX,
	    "x" };
	struct media_leg_conf c = { (struct sockaddr *)&bad, NULL, NULL };
	struct media_alloc al;

	(void)state;
	relay_v4(m, NULL);
	clock_now += 5;
	relay_v4(m, NULL);
	assert_int_equal(media_relay_list(m, 100, &v), 2);
	assert_true(v[0].age_ms >= v[1].age_ms);
	free(v);
	assert_int_equal(media_relay_list(m, 1, &v), 1);
	free(v);
	assert_int_equal(media_relay_new(m, &c, &c, &al), -EAFNOSUPPORT);
	media_free(m);
}

/* Lookups by call across the end of the table: a relay opened before
 * the slots came round, one after, both found by their calls, and
 * found again when the other goes. */
static void
lookups_round_the_table(void **state)
{
	uint16_t base = base_port() + 30; /* even; two relays' pairs */
	struct media *m = engine(base, base + 7, true);
	struct sockaddr_in la = v4("127.0.0.1", 0);
	struct media_leg_conf c = { (struct sockaddr *)&la, NULL, NULL };
	struct media_call ca = { "round-a", 7, "ta", 2, "", 0 };
	struct media_call cb = { "round-b", 7, "tb", 2, "", 0 };
	/* the dialogs, once answered (RFC 3261 12.1: the To tag) */
	struct media_call da = { "round-a", 7, "ta", 2, "ua", 2 };
	struct media_alloc al, old, young;
	struct media_ref refs[4];

	(void)state;
	/* open and free until the next slot is near the end */
	for (unsigned i = 0; i < MEDIA_MAX_RELAYS - 3; i++) {
		assert_int_equal(media_relay_new(m, &c, &c, &al), 0);
		assert_int_equal(media_relay_free(m, al.id), 0);
	}
	assert_int_equal(media_relay_new(m, &c, &c, &old), 0);
	assert_int_equal(media_relay_bind(m, old.id, &ca, old.id, 0), 0);
	/* on past the end of the table, old held */
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(media_relay_new(m, &c, &c, &al), 0);
		assert_int_equal(media_relay_free(m, al.id), 0);
	}
	assert_int_equal(media_relay_new(m, &c, &c, &young), 0);
	assert_int_equal(media_relay_bind(m, young.id, &cb, young.id, 0), 0);
	assert_true((young.id & (MEDIA_MAX_RELAYS - 1)) <
	    (old.id & (MEDIA_MAX_RELAYS - 1)));
	assert_int_equal(media_call_confirm(m, &da, old.id), 1);
	assert_int_equal(media_call_find(m, &da, 0, refs, 4), 1);
	assert_int_equal(refs[0].id, old.id);
	assert_int_equal(media_call_find(m, NULL, young.id, refs, 4), 1);
	assert_int_equal(refs[0].id, young.id);
	assert_int_equal(media_call_free(m, &da, 0), 1);
	assert_int_equal(media_call_find(m, &da, 0, refs, 4), 0);
	assert_int_equal(media_call_find(m, NULL, young.id, refs, 4), 1);
	assert_int_equal(refs[0].id, young.id);
	assert_int_equal(media_call_free(m, NULL, young.id), 1);
	assert_int_equal(media_call_find(m, NULL, young.id, refs, 4), 0);
	media_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(latch_both_ways),
		cmocka_unit_test(other_source_and_relatch),
		cmocka_unit_test(relatch_off),
		cmocka_unit_test(sdp_peer_then_update),
		cmocka_unit_test(rtcp_follows),
		cmocka_unit_test(timeout_frees),
		cmocka_unit_test(pool_exhausted),
		cmocka_unit_test(half_exhausted_leaves_nothing),
		cmocka_unit_test(bad_settings),
		cmocka_unit_test(ipv4_to_ipv6),
		cmocka_unit_test(list_and_bad_local),
		cmocka_unit_test(lookups_round_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
