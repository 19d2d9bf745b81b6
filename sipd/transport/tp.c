/*
 * The transport object: struct tp's life, its settings and counters, the
 * list of listeners of every transport, the choice of transport by size
 * (RFC 3261 18.1.1) and the address helpers.  The listeners themselves
 * live in udp.c and tcp.c, the connections in conn.c, the send path and
 * the hand-off between workers in send.c.
 */
#include "sipd/transport/tp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/log.h"

uint64_t
tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
tp_proto_name(enum tp_proto proto)
{
	switch (proto) {
	case TP_UDP:
		return "udp";
	case TP_TCP:
		return "tcp";
	case TP_TLS:
		return "tls";
	}
	return "?";
}

socklen_t
tp_addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

/* "00" to "99": the two last digits of an address byte, for
 * tp_addr_host() */
static const char tp_digits2[] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

const char *
tp_addr_host(const struct sockaddr *sa, char *buf, size_t cap)
{
	const void *a;

	switch (sa->sa_family) {
	case AF_INET:
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		if (cap >= INET_ADDRSTRLEN) {
			/* dotted quad by hand: inet_ntop() is slow for the
			 * packet path (received= on every request) */
			const uint8_t *b = a;
			char *p = buf;
			for (int i = 0; i < 4; i++) {
				unsigned v = b[i];

				if (v >= 100) {
					unsigned h = v >= 200 ? 2 : 1;
					*p++ = (char)('0' + h);
					v -= 100 * h;
					memcpy(p, tp_digits2 + 2 * v, 2);
					p += 2;
				} else if (v >= 10) {
					memcpy(p, tp_digits2 + 2 * v, 2);
					p += 2;
				} else {
					*p++ = (char)('0' + v);
				}
				*p++ = '.';
			}
			p[-1] = '\0';
			return buf;
		}
		break;
	case AF_INET6:
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		break;
	default:
		snprintf(buf, cap, "?");
		return buf;
	}
	if (inet_ntop(sa->sa_family, a, buf, (socklen_t)cap) == NULL) {
		snprintf(buf, cap, "?");
	}
	return buf;
}

uint16_t
tp_addr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	case AF_INET6:
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	default:
		return 0;
	}
}

void
tp_addr_set_port(struct sockaddr *sa, uint16_t port)
{
	switch (sa->sa_family) {
	case AF_INET:
		((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
		break;
	case AF_INET6:
		((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
		break;
	default:
		break;
	}
}

const char *
tp_addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	tp_addr_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6) {
		snprintf(buf, cap, "[%s]:%u", host, tp_addr_port(sa));
	} else if (sa->sa_family == AF_INET) {
		snprintf(buf, cap, "%s:%u", host, tp_addr_port(sa));
	} else {
		snprintf(buf, cap, "?");
	}
	return buf;
}

/* ------------------------------------------------------------- listeners */

const char *
tp_listener_name(const struct tp_listener *l)
{
	return l->name;
}

enum tp_proto
tp_listener_proto(const struct tp_listener *l)
{
	return l->proto;
}

void
tp_listener_addr(const struct tp_listener *l, struct sockaddr_storage *out,
    socklen_t *len)
{
	memcpy(out, &l->addr, sizeof(*out));
	if (len != NULL) {
		*len = l->addrlen;
	}
}

struct tp_listener *
tp_listener_find(struct tp *tp, enum tp_proto proto,
    const struct sockaddr_storage *addr)
{
	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto == proto && l->addrlen > 0 &&
		    l->addr.ss_family == addr->ss_family &&
		    memcmp(&l->addr, addr, l->addrlen) == 0) {
			return l;
		}
	}
	return NULL;
}

void
tp_listener_set_name(struct tp_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *p = tp_proto_name(l->proto);
	size_t n;

	if (l->fd >= 0 && getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    sl <= sizeof(l->addr)) {
		memcpy(&l->addr, &ss, sizeof(ss));
		l->addrlen = sl;
	}
	n = strlen(p);
	memcpy(l->name, p, n);
	l->name[n++] = ' ';
	tp_addr_str((const struct sockaddr *)&l->addr, l->name + n,
	    sizeof(l->name) - n);
}

/*
 * SO_REUSEPORT lets any socket of the same user join a port, so a second
 * sipd started on the same address would silently take half the traffic.
 * The first worker of a group (index 0), before it binds, binds a socket
 * without SO_REUSEPORT: that fails while anybody holds the address, or an
 * overlapping one (a wildcard, a specific address).  The other workers
 * join afterwards.  Port 0 asks for a fresh port: nothing to check.
 */
int
tp_listen_probe(const struct tp *tp, enum tp_proto proto,
    const struct sockaddr *addr, socklen_t len)
{
	char name[TP_ADDRSTRLEN];
	int type = proto == TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int one = 1, fd, rc = 0;

	if (tp->index != 0 || tp_addr_port(addr) == 0) {
		return 0;
	}
	fd = socket(addr->sa_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	/* SO_REUSEADDR on a stream socket passes over TIME_WAIT and our own
	 * accepted connections, never over another listening socket */
	if ((addr->sa_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) <
		    0) ||
	    (type == SOCK_STREAM &&
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
		    0)) {
		rc = -errno;
	} else if (bind(fd, addr, len) < 0) {
		rc = -errno;
		if (rc == -EADDRINUSE) {
			log_err(LOG_TRANSPORT, "cannot listen on %s %s (in "
			    "use by another socket: another sipd?)",
			    tp_proto_name(proto),
			    tp_addr_str(addr, name, sizeof(name)));
		}
	}
	close(fd);
	return rc;
}

void
tp_listener_link(struct tp *tp, struct tp_listener *l)
{
	l->next = tp->listeners;
	tp->listeners = l;
}

static void
tp_listener_free(struct tp_listener *l)
{
	if (l->proto == TP_UDP) {
		tp_udp_listener_fini(l);
	} else {
		tp_conns_listener_gone(l->tp, l);
		tp_stream_listener_fini(l);
	}
	free(l);
}

void
tp_listener_close(struct tp_listener *l)
{
	struct tp_listener **pp;

	if (l == NULL) {
		return;
	}
	if (l->own != NULL) {
		tp_listener_close(l->own);
	}
	if (l->parent != NULL) {
		l->parent->own = NULL;
	}
	for (pp = &l->tp->listeners; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	if (l->tp->index == 0 && l->parent == NULL) {
		log_warn(LOG_TRANSPORT, "stopped listening on %s", l->name);
	}
	tp_listener_free(l);
}

int
tp_local_addr(struct tp *tp, enum tp_proto proto, int family,
    struct sockaddr_storage *out)
{
	const struct tp_listener *found = NULL;

	/* the list is newest first: the oldest listener is the stable one */
	for (const struct tp_listener *l = tp->listeners; l != NULL;
	     l = l->next) {
		if (l->proto == proto && l->addr.ss_family == family &&
		    l->parent == NULL) {
			found = l;
		}
	}
	if (found == NULL) {
		return -ENOENT;
	}
	memcpy(out, &found->addr, sizeof(*out));
	return 0;
}

/* ------------------------------------------------------------- lifetime */

struct tp *
tp_new(struct event_base *base, uint32_t max_size, tp_recv_fn *recv,
    void *arg)
{
	struct tp *tp;

	tp = calloc(1, sizeof(*tp));
	if (tp == NULL) {
		return NULL;
	}
	tp->base = base;
	tp->max_size = max_size;
	msg_limits_init(&tp->limits);
	tp->limits.max_size = max_size;
	tp->recv = recv;
	tp->arg = arg;
	tp->idle_s = TP_DEFAULT_IDLE_TIMEOUT;
	tp->header_s = TP_DEFAULT_HEADER_TIMEOUT;
	tp->input_channels = TP_DEFAULT_INPUT_CHANNELS;
	tp->per_source = TP_DEFAULT_INPUT_CHANNELS / 16;
	tp->first_s = TP_DEFAULT_FIRST_MESSAGE;
	tp->out_max = TP_DEFAULT_OUTPUT_LIMIT;
	tp->udp_tos = -1;
	tp->size_lan = TP_DEFAULT_SIZE_LIMIT;
	tp->size_wan = TP_DEFAULT_SIZE_LIMIT;
	tp->next_seq = 1;
	if (pthread_mutex_init(&tp->inbox_mu, NULL) != 0) {
		free(tp);
		return NULL;
	}
	if (tp_peers_init(tp) < 0) {
		pthread_mutex_destroy(&tp->inbox_mu);
		free(tp);
		return NULL;
	}
	if (tp_conns_init(tp) < 0) {
		tp_peers_fini(tp);
		pthread_mutex_destroy(&tp->inbox_mu);
		free(tp);
		return NULL;
	}
	return tp;
}

void
tp_free(struct tp *tp)
{
	struct tp_listener *l, *next;

	if (tp == NULL) {
		return;
	}
	for (l = tp->listeners; l != NULL; l = next) {
		next = l->next;
		tp_listener_free(l);
	}
	tp->listeners = NULL;
	tp_conns_fini(tp);
	tp_group_fini(tp);
	tp_peers_fini(tp);
	tp_udp_out_free(tp);
	pthread_mutex_destroy(&tp->inbox_mu);
	SSL_CTX_free(tp->client_ctx);
	free(tp->lan);
	free(tp);
}

void
tp_set_error_fn(struct tp *tp, tp_error_fn *fn, void *arg)
{
	tp->error = fn;
	tp->error_arg = arg;
}

/* -------------------------------------------------------------- settings */

void
tp_set_idle_timeout(struct tp *tp, unsigned s)
{
	tp->idle_s = s;
	tp_conns_rearm(tp);
}

void
tp_set_header_timeout(struct tp *tp, unsigned s)
{
	tp->header_s = s > 0 ? s : 1;
	tp_conns_rearm(tp);
}

void
tp_set_input_channels(struct tp *tp, unsigned n)
{
	tp->input_channels = n;
}

void
tp_set_per_source(struct tp *tp, unsigned n)
{
	tp->per_source = n;
}

void
tp_set_first_message(struct tp *tp, unsigned s)
{
	tp->first_s = s > 0 ? s : 1;
	tp_conns_rearm(tp);
}

void
tp_set_limits(struct tp *tp, const struct msg_limits *lim)
{
	tp->limits = *lim;
	tp->max_size = lim->max_size;
	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto == TP_UDP) {
			tp_udp_resize(l, tp->max_size);
		}
	}
}

void
tp_set_output_limit(struct tp *tp, size_t bytes)
{
	tp->out_max = bytes < 4096 ? 4096 : bytes;
}

int
tp_set_udp_tos(struct tp *tp, int tos)
{
	int rc = 0;

	if (tos < -1 || tos > 255) {
		return -EINVAL;
	}
	tp->udp_tos = tos;
	if (tos < 0) {
		return 0;
	}
	for (struct tp_listener *l = tp->listeners; l != NULL; l = l->next) {
		if (l->proto == TP_UDP) {
			int r = tp_udp_apply_tos(l, tos);
			if (r < 0 && rc == 0) {
				rc = r;
			}
		}
	}
	return rc;
}

void
tp_set_size_limits(struct tp *tp, uint32_t lan, uint32_t wan)
{
	tp->size_lan = lan;
	tp->size_wan = wan;
}

int
tp_set_lan(struct tp *tp, const struct tp_net *v, size_t n)
{
	struct tp_net *copy = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t len = v[i].family == AF_INET ? 4 : 16;

		if ((v[i].family != AF_INET && v[i].family != AF_INET6) ||
		    memcmp(v[i].lo, v[i].hi, len) > 0) {
			return -EINVAL;
		}
	}
	if (n > 0) {
		copy = calloc(n, sizeof(*copy));
		if (copy == NULL) {
			return -ENOMEM;
		}
		memcpy(copy, v, n * sizeof(*copy));
	}
	free(tp->lan);
	tp->lan = copy;
	tp->nlan = n;
	return 0;
}

int
tp_set_tls_client(struct tp *tp, const struct tp_tls_conf *tls)
{
	SSL_CTX *ctx = NULL;

	if (tls != NULL) {
		ctx = tp_tls_ctx_client(tls);
		if (ctx == NULL) {
			return -EINVAL;
		}
	}
	SSL_CTX_free(tp->client_ctx);
	tp->client_ctx = ctx;
	tp->client_custom = ctx != NULL;
	return 0;
}

void
tp_stats(const struct tp *tp, struct tp_stats *out)
{
	*out = tp->stats;
}

/* ------------------------------------------------ choice of the transport */

/*
 * The address bytes of sa (4 or 16) into out; a v4-mapped IPv6 address
 * counts as IPv4.  Returns the family, or 0.
 */
static int
addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, &a->s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(out, a->s6_addr, 16);
		return AF_INET6;
	}
	return 0;
}

bool
tp_addr_in_prefix(const struct sockaddr *sa, const struct sockaddr *net,
    unsigned prefix)
{
	uint8_t a[16], b[16];
	int fa = addr_bytes(sa, a);
	int fb = addr_bytes(net, b);
	unsigned bits = prefix, i;

	/* a v4-mapped network counts as IPv4: its prefix loses the 96 bits
	 * of the mapping */
	if (fb == AF_INET && net->sa_family == AF_INET6) {
		if (bits < 96) {
			return false;
		}
		bits -= 96;
	}
	if (fa == 0 || fa != fb || bits > (fa == AF_INET ? 32u : 128u)) {
		return false;
	}
	for (i = 0; bits >= 8; i++, bits -= 8) {
		if (a[i] != b[i]) {
			return false;
		}
	}
	if (bits > 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));
		if ((a[i] & mask) != (b[i] & mask)) {
			return false;
		}
	}
	return true;
}

/* memcmp() of two addresses in network order, inline: a range's bounds
 * mostly differ from an address in the first byte, and the lists are
 * asked on every request */
static int
net_cmp(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (a[i] != b[i]) {
			return a[i] < b[i] ? -1 : 1;
		}
	}
	return 0;
}

/* Four bytes in network order as a number, for comparing IPv4 bounds. */
static uint32_t
net_u32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

bool
tp_net_match(const struct tp_net *v, size_t n, const struct sockaddr *sa)
{
	uint8_t a[16];
	int fa = addr_bytes(sa, a);

	if (fa == 0) {
		return false;
	}
	/* the last line that holds the address decides */
	if (fa == AF_INET) {
		/* one comparison of numbers a bound, not bytes */
		uint32_t x = net_u32(a);

		for (size_t i = n; i-- > 0;) {
			if (v[i].family == AF_INET && x >= net_u32(v[i].lo) &&
			    x <= net_u32(v[i].hi)) {
				return !v[i].exclude;
			}
		}
		return false;
	}
	for (size_t i = n; i-- > 0;) {
		if (v[i].family == fa && net_cmp(a, v[i].lo, 16) >= 0 &&
		    net_cmp(a, v[i].hi, 16) <= 0) {
			return !v[i].exclude;
		}
	}
	return false;
}

int
tp_net_prefix(struct tp_net *out, const struct sockaddr *net,
    unsigned prefix)
{
	uint8_t b[16];
	int fb = addr_bytes(net, b);
	unsigned bits = prefix;
	size_t len;

	memset(out, 0, sizeof(*out));
	/* a v4-mapped network counts as IPv4: its prefix loses the 96 bits
	 * of the mapping */
	if (fb == AF_INET && net->sa_family == AF_INET6) {
		if (bits < 96) {
			return -EINVAL;
		}
		bits -= 96;
	}
	if (fb == 0 || bits > (fb == AF_INET ? 32u : 128u)) {
		return -EINVAL;
	}
	len = fb == AF_INET ? 4 : 16;
	out->family = (uint8_t)fb;
	for (size_t i = 0; i < len; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8
		    : bits > i * 8		 ? bits - (unsigned)i * 8
						 : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		out->lo[i] = b[i] & mask;
		out->hi[i] = (uint8_t)(b[i] | (uint8_t)~mask);
	}
	return 0;
}

enum tp_proto
tp_choose_proto(const struct tp *tp, const struct sockaddr *dst, size_t len)
{
	uint32_t limit = tp->size_wan;

	if (tp_net_match(tp->lan, tp->nlan, dst)) {
		limit = tp->size_lan;
	}
	return limit > 0 && len > limit ? TP_TCP : TP_UDP;
}
