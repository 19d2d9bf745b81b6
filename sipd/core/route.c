/*
 * Where a request goes (RFC 3261 16.5, 16.6 step 6): its first Route
 * entry, else the static forwarding rule for its Request-URI's domain,
 * else the Request-URI itself; and which addresses are sipd's own, to
 * recognise requests addressed to sipd and Route and Via entries sipd put
 * there.  This is the one place that decides; the Router table and DNS
 * (RFC 3263) will plug in here.  A destination named by a host name is
 * handed to the resolver by the caller (proxy.c), which keeps the IP
 * literal path free of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipd/core/core_int.h"

int
route_addr(struct sv host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	uint8_t quad[4];

	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (host.len == 0) {
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	/* a dotted quad as inet_pton(AF_INET) takes it, without the copy:
	 * every forwarded request asks this of its Route and Request-URI
	 * hosts */
	if (uri_ipv4(host.p, host.len, true, quad)) {
		memcpy(&s4->sin_addr, quad, sizeof(quad));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (uri_ipv6(host.p, host.len, s6->sin6_addr.s6_addr)) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

bool
route_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		return ((const struct sockaddr_in *)(const void *)a)
			   ->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	}
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		   &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		   sizeof(struct in6_addr)) == 0;
}

/* How long an answer of host_address() is kept: an address added to or
 * taken from the host is seen within this time. */
#define HOST_ADDR_TTL_MS 10000

/* Is addr one of this host's addresses (it can be bound)? */
static bool
host_address(struct core *c, const struct sockaddr_storage *addr)
{
	uint64_t now = txn_table_now(c->txn);
	struct sockaddr_storage a = *addr;
	int fd;
	bool local;

	for (size_t i = 0; i < sizeof(c->seen) / sizeof(c->seen[0]); i++) {
		if (c->seen[i].until_ms > now &&
		    route_same_host(&c->seen[i].addr, addr)) {
			return c->seen[i].local;
		}
	}
	fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return false;
	}
	tp_addr_set_port((struct sockaddr *)&a, 0);
	local = bind(fd, (const struct sockaddr *)&a,
		    tp_addr_len((const struct sockaddr *)&a)) == 0;
	close(fd);
	struct host_addr_seen *e = &c->seen[c->seen_next++ %
	    (sizeof(c->seen) / sizeof(c->seen[0]))];
	e->addr = a;
	e->until_ms = now + HOST_ADDR_TTL_MS;
	e->local = local;
	return local;
}

static bool is_wildcard(const struct sockaddr_storage *ss);

/* Is ss (port port) one of sipd's listeners? */
static bool
addr_is_local(struct core *c, const struct sockaddr_storage *ss,
    uint16_t port)
{
	for (int i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *l = &c->listeners[i];
		/* or a worker's own port beside it (set worker-ports) */
		if (tp_addr_port((const struct sockaddr *)&l->addr) != port &&
		    !tp_listener_worker_port(c->tp, l->proto, &l->addr, port)) {
			continue;
		}
		if (route_same_host(&l->addr, ss) || core_nat_own(c, ss)) {
			return true;
		}
		/* a wildcard listener: any address of this host */
		if (l->addr.ss_family == ss->ss_family && is_wildcard(&l->addr) &&
		    host_address(c, ss)) {
			return true;
		}
	}
	return false;
}

bool
route_is_local(struct core *c, struct sv host, uint16_t port, bool tls)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (route_addr(host, 0, &ss, &len) != 0) {
		return false;
	}
	if (port == 0) {
		port = tls ? 5061 : 5060;
	}
	return addr_is_local(c, &ss, port);
}

bool
route_dst_local(struct core *c, const struct tp_src *dst)
{
	struct sockaddr_storage ss = dst->addr;
	uint16_t port = tp_addr_port((const struct sockaddr *)&ss);

	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)(const void *)&dst->addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
			memset(&ss, 0, sizeof(ss));
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
			s4->sin_port = htons(port);
		}
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		return false;
	}
	/* a datagram to the unspecified address reaches this host */
	if (is_wildcard(&ss)) {
		for (int i = 0; i < c->nlisteners; i++) {
			if (tp_addr_port((const struct sockaddr *)&c->listeners[i]
				    .addr) == port) {
				return true;
			}
		}
		return false;
	}
	return addr_is_local(c, &ss, port);
}

#define TP3(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)

void
route_look(const char *base, const struct uri *u, struct route_look *l)
{
	struct sv t;

	l->sips = u->scheme == URI_SIPS;
	l->tls = l->sips;
	l->proto = l->sips ? TP_TLS : TP_UDP;
	l->proto_set = l->sips;
	l->proto_ok = true;
	if (uri_param(base, u, "transport", &t)) {
		/* three letters folded as strncasecmp() folds them: OR 0x20
		 * makes a letter lower case and no other byte one */
		uint32_t w = t.len == 3
		    ? ((uint32_t)(uint8_t)t.p[0] | (uint32_t)(uint8_t)t.p[1] << 8 |
			  (uint32_t)(uint8_t)t.p[2] << 16) | 0x202020u
		    : 0;
		l->proto_set = true;
		if (w == TP3('t', 'c', 'p')) {
			l->proto = l->sips ? TP_TLS : TP_TCP;
		} else if (w == TP3('t', 'l', 's')) {
			l->proto = TP_TLS;
			l->tls = true;
		} else if (w == TP3('u', 'd', 'p') && !l->sips) {
			l->proto = TP_UDP;
		} else {
			l->proto_ok = false;
		}
	}
	l->port = u->port ? u->port : (l->tls ? 5061 : 5060);
	l->addr_ok = route_addr((struct sv){ base + u->host.off, u->host.len },
	    l->port, &l->ss, &l->len) == 0;
}

bool
route_look_local(struct core *c, const struct route_look *l)
{
	return l->addr_ok && addr_is_local(c, &l->ss, l->port);
}

/* route_uri_target() from what route_look() found. */
static int
look_target(const char *base, const struct uri *u, const struct route_look *l,
    struct tp_src *dst, bool *proto_set)
{
	memset(dst, 0, sizeof(*dst));
	if (!l->proto_ok) {
		dst->proto = l->sips ? TP_TLS : TP_UDP;
		*proto_set = l->sips;
		return -EPROTONOSUPPORT;
	}
	dst->proto = l->proto;
	*proto_set = l->proto_set;
	if (l->addr_ok) {
		dst->addr = l->ss;
		dst->addrlen = l->len;
		return 0;
	}
	/* RFC 3263: a host name (or an maddr) is resolved, by the caller */
	return u->host.len > 0 && base[u->host.off] != '[' ? ROUTE_NAME
							   : -EHOSTUNREACH;
}

bool
route_uri_local(struct core *c, const char *base, const struct uri *u)
{
	struct route_look l;

	if (u->scheme != URI_SIP && u->scheme != URI_SIPS) {
		return false;
	}
	route_look(base, u, &l);
	return route_look_local(c, &l);
}

/*
 * The destination a SIP URI names (RFC 3261 16.6 step 6, RFC 3263 without
 * DNS for now): an IP literal host, the port or the transport's default,
 * the transport parameter or TLS for sips.
 */
int
route_uri_target(const char *base, const struct uri *u, struct tp_src *dst,
    bool *proto_set)
{
	struct route_look l;

	if (u->scheme != URI_SIP && u->scheme != URI_SIPS) {
		return -EPROTONOSUPPORT;
	}
	route_look(base, u, &l);
	return look_target(base, u, &l, dst, proto_set);
}

int
route_target(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set, bool *by_rule)
{
	return route_target_from(c, req, dst, proto_set, by_rule, NULL);
}

int
route_target_from(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set, bool *by_rule, const struct route_look *looked)
{
	struct route_look l;
	const struct msg_naddr *routes;
	const struct uri *ruri = msg_ruri(req);
	const char *base = msg_buf(req);

	*by_rule = false;
	/* 16.6 step 6 / 16.12: loose routing sends to the first Route */
	if (msg_hdr_first(req, HDR_ROUTE) >= 0 &&
	    msg_naddrs(req, HDR_ROUTE, &routes) > 0) {
		return route_uri_target(base, &routes[0].uri, dst, proto_set);
	}
	if (ruri == NULL) {
		return -EINVAL;
	}
	struct sv host = msg_sv(req, ruri->host);
	const struct core_route *any = NULL;
	for (int i = 0; i < c->nroutes; i++) {
		const struct core_route *r = &c->routes[i];
		if (strcmp(r->domain, "*") == 0) {
			if (any == NULL) {
				any = r;
			}
		} else if (sv_caseeq_str(host, r->domain)) {
			*dst = r->dst;
			*proto_set = r->proto_set;
			*by_rule = true;
			return 0;
		}
	}
	if (ruri->scheme != URI_SIP && ruri->scheme != URI_SIPS) {
		if (any != NULL) {
			*dst = any->dst;
			*proto_set = any->proto_set;
			*by_rule = true;
			return 0;
		}
		return -EPROTONOSUPPORT;
	}
	/* the Request-URI looked at once, for sipd's and for the target:
	 * route_preprocess() may have, and found it not sipd's */
	if (looked == NULL) {
		route_look(base, ruri, &l);
		if (route_look_local(c, &l)) {
			return 1;
		}
		looked = &l;
	}
	if (any != NULL) {
		*dst = any->dst;
		*proto_set = any->proto_set;
		*by_rule = true;
		return 0;
	}
	return look_target(base, ruri, looked, dst, proto_set);
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET) {
		return ((const struct sockaddr_in *)(const void *)ss)
			   ->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr,
		   &any6, sizeof(any6)) == 0;
}

/*
 * The source address the kernel picks towards dst: what a listener bound
 * to the wildcard address puts in Via and Record-Route.
 */
int
route_source_for(const struct sockaddr_storage *dst,
    struct sockaddr_storage *out)
{
	socklen_t len = sizeof(*out);
	int fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0) {
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)dst,
		tp_addr_len((const struct sockaddr *)dst)) == 0 &&
	    getsockname(fd, (struct sockaddr *)out, &len) == 0) {
		rc = 0;
	}
	close(fd);
	return rc;
}

int
route_local_addr(struct core *c, enum tp_proto proto,
    const struct sockaddr_storage *towards, char *buf, size_t cap)
{
	const struct conf_listener *pick = NULL;
	int family = towards->ss_family;

	for (int i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *l = &c->listeners[i];
		if (l->addr.ss_family != family) {
			continue;
		}
		if (l->proto == proto) {
			pick = l;
			break;
		}
		if (pick == NULL) {
			pick = l;
		}
	}
	if (pick == NULL) {
		return -EADDRNOTAVAIL;
	}
	const char *text = c->listener_text[pick - c->listeners];
	struct sockaddr_storage pub;
	/* behind a NAT that forwards sipd's ports: the address peers on
	 * that side reach it at, with the listener's port */
	if (core_nat_public(c, towards, &pub)) {
		tp_addr_set_port((struct sockaddr *)&pub,
		    tp_addr_port((const struct sockaddr *)&pick->addr));
		tp_addr_str((const struct sockaddr *)&pub, buf, cap);
		return 0;
	}
	if (text[0] == '\0') {
		struct sockaddr_storage src;
		if (route_source_for(towards, &src) != 0) {
			return -EADDRNOTAVAIL;
		}
		tp_addr_set_port((struct sockaddr *)&src,
		    tp_addr_port((const struct sockaddr *)&pick->addr));
		tp_addr_str((const struct sockaddr *)&src, buf, cap);
		return 0;
	}
	/* runs for every Via and Record-Route sipd writes: no printf */
	size_t n = strnlen(text, cap - 1);
	memcpy(buf, text, n);
	buf[n] = '\0';
	return 0;
}

int
route_local_addr_src(struct core *c, const struct tp_src *dst, char *buf,
    size_t cap)
{
	struct sockaddr_storage a;
	/* over UDP, the worker's own socket (set worker-ports) */
	struct tp_listener *from = tp_listener_advertised(c->tp, dst);

	if (from == NULL || tp_listener_proto(from) != dst->proto) {
		return route_local_addr(c, dst->proto, &dst->addr, buf, cap);
	}
	tp_listener_addr(from, &a, NULL);
	if (a.ss_family != dst->addr.ss_family ||
	    (is_wildcard(&a) && from == dst->listener)) {
		return route_local_addr(c, dst->proto, &dst->addr, buf, cap);
	}
	if (is_wildcard(&a)) {
		/* a worker's socket beside a wildcard listener: the source
		 * address towards dst, with the worker's port */
		struct sockaddr_storage s;
		if (route_source_for(&dst->addr, &s) != 0) {
			return -EADDRNOTAVAIL;
		}
		tp_addr_set_port((struct sockaddr *)&s,
		    tp_addr_port((const struct sockaddr *)&a));
		a = s;
	}
	{
		/* behind a NAT that forwards sipd's ports: as above */
		struct sockaddr_storage pub;
		if (core_nat_public(c, &dst->addr, &pub)) {
			tp_addr_set_port((struct sockaddr *)&pub,
			    tp_addr_port((const struct sockaddr *)&a));
			tp_addr_str((const struct sockaddr *)&pub, buf, cap);
			return 0;
		}
	}
	/* runs for every Via and Record-Route sipd writes: the listener's
	 * text made at configuration, no printf */
	for (int i = 0; i < c->nlisteners; i++) {
		const struct sockaddr_storage *l = &c->listeners[i].addr;
		if (c->listener_text[i][0] != '\0' && route_same_host(l, &a) &&
		    tp_addr_port((const struct sockaddr *)l) ==
			tp_addr_port((const struct sockaddr *)&a)) {
			size_t n = strnlen(c->listener_text[i], cap - 1);
			memcpy(buf, c->listener_text[i], n);
			buf[n] = '\0';
			return 0;
		}
	}
	tp_addr_str((const struct sockaddr *)&a, buf, cap);
	return 0;
}

bool
route_two_sides(const struct tp_src *a, const struct tp_src *b)
{
	struct sockaddr_storage x, y;

	if (a->listener == NULL || b->listener == NULL ||
	    a->listener == b->listener) {
		return false;
	}
	tp_listener_addr(a->listener, &x, NULL);
	tp_listener_addr(b->listener, &y, NULL);
	return !route_same_host(&x, &y);
}

/*
 * Does "sip:text" parse as a URI with no user, parameter or header whose
 * host and port are a's, no transport chosen: so that route_uri_local()
 * finds a Record-Route entry sipd writes with text sipd's own
 * (route_own_entry() relies on it)?
 */
static bool
names_listener(const char *text, const struct sockaddr_storage *a)
{
	char uri[TP_ADDRSTRLEN + 8];
	struct route_look l;
	struct uri u;
	int n = snprintf(uri, sizeof(uri), "sip:%s", text);

	if (n < 0 || (size_t)n >= sizeof(uri) ||
	    uri_parse(uri, (struct span){ 0, (uint32_t)n }, &u) != 0 ||
	    u.scheme != URI_SIP || u.user.len != 0 || u.password.len != 0 ||
	    u.params.len != 0 || u.headers.len != 0) {
		return false;
	}
	route_look(uri, &u, &l);
	return l.addr_ok && l.proto_ok && !l.proto_set &&
	    l.port == tp_addr_port((const struct sockaddr *)a) &&
	    route_same_host(&l.ss, a);
}

void
route_configure(struct core *c, const struct conf *conf)
{
	c->nlisteners = conf->nlisteners;
	memcpy(c->listeners, conf->listeners,
	    (size_t)conf->nlisteners * sizeof(conf->listeners[0]));
	for (int i = 0; i < c->nlisteners; i++) {
		const struct sockaddr_storage *a = &c->listeners[i].addr;
		c->listener_text[i][0] = '\0';
		c->listener_rr[i] = 0;
		if (!is_wildcard(a)) {
			tp_addr_str((const struct sockaddr *)a,
			    c->listener_text[i], sizeof(c->listener_text[i]));
			if (names_listener(c->listener_text[i], a)) {
				c->listener_rr[i] =
				    (uint8_t)strlen(c->listener_text[i]);
			}
		}
	}
	/* RFC 3263 4.1: only transports, and address families, sipd can
	 * send on */
	c->dns_tps = 0;
	c->dns_families = 0;
	for (int i = 0; i < c->nlisteners; i++) {
		c->dns_tps |= DNS_TP_BIT((enum dns_tp)c->listeners[i].proto);
		c->dns_families |= c->listeners[i].addr.ss_family == AF_INET6
		    ? DNS_AF_INET6
		    : DNS_AF_INET;
	}
	c->nroutes = 0;
	for (int i = 0; i < conf->nroutes; i++) {
		const struct conf_route *cr = &conf->routes[i];
		struct core_route *r = &c->routes[c->nroutes];
		uint16_t port = cr->port ? cr->port
		    : (cr->proto_set && cr->proto == TP_TLS ? 5061 : 5060);

		memset(r, 0, sizeof(*r));
		if (route_addr((struct sv){ cr->host, strlen(cr->host) }, port,
			&r->dst.addr, &r->dst.addrlen) != 0) {
			log_warn(LOG_TRANSPORT, "route for %s skipped (%s is not "
			    "an IP address)", cr->domain, cr->host);
			continue;
		}
		snprintf(r->domain, sizeof(r->domain), "%s", cr->domain);
		r->dst.proto = cr->proto_set ? cr->proto : TP_UDP;
		r->proto_set = cr->proto_set;
		c->nroutes++;
	}
}
