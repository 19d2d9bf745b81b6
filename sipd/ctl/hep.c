/*
 * HEP v3 mirroring ("hep server", "hep id"): a copy of every SIP message
 * sipd receives and sends, as one HEP v3 packet over UDP to a collector
 * (Homer, sngrep -L).  The copies come from the live trace's queue
 * (sipd/trace.h), so the workers only queue them, and are sent from the
 * main thread on a connected, non-blocking UDP socket: a collector that
 * is slow or gone loses packets, never slows sipd.  This file owns that
 * socket.
 *
 * HEP v3 (the HEP/EEP specification of the sipcapture project): "HEP3",
 * the packet's total length, then chunks of vendor 0, a type, a length
 * (the chunk's, with its 6-byte head) and a value, all big-endian.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipd/ctl/ctl_int.h"
#include "sipd/trace.h"

/* HEP v3 chunk types (vendor 0) */
enum {
	HEP_FAMILY = 0x0001,
	HEP_PROTO = 0x0002,
	HEP_SRC4 = 0x0003,
	HEP_DST4 = 0x0004,
	HEP_SRC6 = 0x0005,
	HEP_DST6 = 0x0006,
	HEP_SPORT = 0x0007,
	HEP_DPORT = 0x0008,
	HEP_SEC = 0x0009,
	HEP_USEC = 0x000a,
	HEP_TYPE = 0x000b, /* 1: SIP */
	HEP_AGENT = 0x000c,
	HEP_PAYLOAD = 0x000f,
};

#define HEP_MAX 65535

struct hep_buf {
	uint8_t b[HEP_MAX];
	size_t len;
};

static int
hep_chunk(struct hep_buf *h, uint16_t type, const void *v, size_t len)
{
	if (h->len + 6 + len > HEP_MAX) {
		return -1;
	}
	h->b[h->len] = 0;
	h->b[h->len + 1] = 0;
	h->b[h->len + 2] = (uint8_t)(type >> 8);
	h->b[h->len + 3] = (uint8_t)type;
	h->b[h->len + 4] = (uint8_t)((6 + len) >> 8);
	h->b[h->len + 5] = (uint8_t)(6 + len);
	memcpy(h->b + h->len + 6, v, len);
	h->len += 6 + len;
	return 0;
}

static int
hep_u8(struct hep_buf *h, uint16_t type, uint8_t v)
{
	return hep_chunk(h, type, &v, 1);
}

static int
hep_u16(struct hep_buf *h, uint16_t type, uint16_t v)
{
	uint16_t n = htons(v);

	return hep_chunk(h, type, &n, 2);
}

static int
hep_u32(struct hep_buf *h, uint16_t type, uint32_t v)
{
	uint32_t n = htonl(v);

	return hep_chunk(h, type, &n, 4);
}

/* An address's bytes and port; the family of the pair decides. */
static const void *
hep_addr(const struct sockaddr_storage *ss, int family, uint16_t *port)
{
	static const uint8_t zero[16];

	*port = 0;
	if (ss->ss_family == AF_INET && family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		*port = ntohs(s->sin_port);
		return &s->sin_addr;
	}
	if (ss->ss_family == AF_INET6 && family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		*port = ntohs(s->sin6_port);
		return &s->sin6_addr;
	}
	return zero;
}

void
ctl_hep_send(struct ctl *ctl, const struct trace_ev *ev)
{
	static struct hep_buf h; /* main thread only */
	const struct sockaddr_storage *src, *dst;
	const void *sa, *da;
	uint16_t sp, dp;
	int family;
	size_t room;

	if (ctl->hep_fd < 0) {
		return;
	}
	src = ev->dir == TRACE_IN ? &ev->remote : &ev->local;
	dst = ev->dir == TRACE_IN ? &ev->local : &ev->remote;
	family = ev->remote.ss_family == AF_INET6 ? AF_INET6 : AF_INET;
	sa = hep_addr(src, family, &sp);
	da = hep_addr(dst, family, &dp);
	h.len = 6;
	memcpy(h.b, "HEP3", 4);
	if (hep_u8(&h, HEP_FAMILY, family == AF_INET6 ? 10 : 2) < 0 ||
	    hep_u8(&h, HEP_PROTO, strcmp(ev->proto, "udp") == 0 ? 17 : 6) < 0 ||
	    hep_chunk(&h, family == AF_INET6 ? HEP_SRC6 : HEP_SRC4, sa,
		family == AF_INET6 ? 16 : 4) < 0 ||
	    hep_chunk(&h, family == AF_INET6 ? HEP_DST6 : HEP_DST4, da,
		family == AF_INET6 ? 16 : 4) < 0 ||
	    hep_u16(&h, HEP_SPORT, sp) < 0 || hep_u16(&h, HEP_DPORT, dp) < 0 ||
	    hep_u32(&h, HEP_SEC, (uint32_t)(ev->us / 1000000u)) < 0 ||
	    hep_u32(&h, HEP_USEC, (uint32_t)(ev->us % 1000000u)) < 0 ||
	    hep_u8(&h, HEP_TYPE, 1) < 0 ||
	    hep_u32(&h, HEP_AGENT, ctl->hep_id) < 0) {
		return;
	}
	/* a message too big for one packet is cut (UDP carries 64 KiB) */
	room = HEP_MAX - h.len - 6;
	if (hep_chunk(&h, HEP_PAYLOAD, ev->data, ev->len < room ? ev->len :
	    room) < 0) {
		return;
	}
	h.b[4] = (uint8_t)(h.len >> 8);
	h.b[5] = (uint8_t)h.len;
	if (send(ctl->hep_fd, h.b, h.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		ctl->hep_lost++;
	}
}

void
ctl_hep_close(struct ctl *ctl)
{
	if (ctl->hep_fd >= 0) {
		close(ctl->hep_fd);
		ctl->hep_fd = -1;
	}
	ctl->hep_at[0] = '\0';
	ctl_trace_update(ctl);
}

int
ctl_hep_set(struct ctl *ctl, const char *addr, uint32_t id, char *err,
    size_t cap)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN];
	socklen_t len;
	uint16_t port;
	int fd;

	ctl->hep_id = id;
	if (strcmp(addr, ctl->hep_at) == 0 && (addr[0] == '\0' ||
	    ctl->hep_fd >= 0)) {
		return 0;
	}
	if (addr[0] == '\0') {
		ctl_hep_close(ctl);
		return 0;
	}
	memset(&ss, 0, sizeof(ss));
	if (conf_proc_hostport(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, cap, "bad HEP collector '%s'", addr);
		return -EINVAL;
	}
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		(void)inet_pton(AF_INET6, host, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		(void)inet_pton(AF_INET, host, &s4->sin_addr);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, cap, "cannot send to the HEP collector %s (%s)",
		    addr, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -errno;
	}
	if (ctl->hep_fd >= 0) {
		close(ctl->hep_fd);
	}
	ctl->hep_fd = fd;
	snprintf(ctl->hep_at, sizeof(ctl->hep_at), "%s", addr);
	ctl_trace_update(ctl);
	log_warn(LOG_TRANSPORT, "hep, copying SIP messages to %s (id %u)",
	    addr, id);
	return 0;
}
