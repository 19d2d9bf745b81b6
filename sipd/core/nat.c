/*
 * Far-end NAT detection (the "nated" list).  A client sits behind a
 * remote NAT when the address it writes for itself is one that NATs hide
 * (the nated list: by default the private ranges) and the address its
 * packets come from is not: the NAT rewrote the source, not the headers.
 * Also the addresses sipd gives for itself: behind a NAT that forwards
 * its ports, peers outside the LAN must be told the NAT's address ("set
 * wan-address"), in Via, Record-Route and SDP.  Owns the worker's copy of
 * the nated list, the LAN list and those addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

const char *const core_nat_defaults[] = { CONF_NATED_DEFAULTS, NULL };

/* "addr/n" of core_nat_defaults[] into r: 0, or -EINVAL. */
static int
nat_range(const char *s, struct tp_net *r)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct sockaddr_storage ss;
	size_t hl;

	memset(&ss, 0, sizeof(ss));
	if (slash == NULL || (hl = (size_t)(slash - s)) >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host,
		&((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host,
		       &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) ==
	    1) {
		ss.ss_family = AF_INET6;
	} else {
		return -EINVAL;
	}
	return tp_net_prefix(r, (const struct sockaddr *)&ss,
	    (unsigned)atoi(slash + 1));
}

/* An address setting ("" for none) into ss (family 0 for none). */
static void
nat_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text,
		&((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, text,
		       &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
	}
}

void
core_nat_configure(struct core *c, const struct conf *conf)
{
	c->nated_defaults = conf->nated_defaults;
	c->nnated = 0;
	/* the defaults first: a "!" entry may take some of them out */
	for (int i = 0; c->nated_defaults && core_nat_defaults[i] != NULL;
	     i++) {
		if (nat_range(core_nat_defaults[i], &c->nated[c->nnated]) ==
		    0) {
			c->nnated++;
		}
	}
	for (int i = 0; i < conf->nnated; i++) {
		c->nated[c->nnated++] = conf->nated[i].net;
	}
	c->nlan = conf->nlan;
	for (int i = 0; i < conf->nlan; i++) {
		c->lan[i] = conf->lan[i].net;
	}
	nat_addr(conf->lan_address, &c->lan_addr);
	nat_addr(conf->wan_address, &c->wan_addr);
	c->nat_ka_method = conf->nat_keepalive_method;
	c->nat_ka_drop = conf->nat_keepalive_drop;
	if (conf->nat_keepalive_s != c->nat_keepalive_s) {
		c->nat_keepalive_s = conf->nat_keepalive_s;
		c->nat_next = 0; /* a new interval starts now */
	}
}

/* The mark of sipd's keep-alive branches, and the signature's label. */
#define NAT_KA_BRANCH "z9hG4bKk."
#define NAT_KA_LABEL 'K'

/* The signature of a keep-alive to aor at addr, CORE_MAC_HEX digits. */
static int
nat_ka_sign(struct core *c, const char *aor, size_t aor_len,
    const struct sockaddr_storage *addr, char sig[CORE_MAC_HEX])
{
	char where[TP_ADDRSTRLEN];
	struct sv parts[2];

	tp_addr_str((const struct sockaddr *)addr, where, sizeof(where));
	parts[0] = (struct sv){ aor, aor_len };
	parts[1] = (struct sv){ where, strlen(where) };
	return core_mac_sign(c->mac, NAT_KA_LABEL, parts, 2, sig);
}

/*
 * An OPTIONS to binding b (RFC 3261 11: any UA answers it), out of any
 * transaction: its answer is matched by its signed branch, and the next
 * keep-alive finds out whether one came.
 */
static int
nat_ka_options(struct core *c, const struct reg_binding *b,
    const struct tp_src *dst)
{
	char via[TP_ADDRSTRLEN], sig[CORE_MAC_HEX + 1], out[3 * 1024];
	uint64_t r = core_random(c);
	int n;

	if (route_local_addr(c, TP_UDP, &b->addr, via, sizeof(via)) != 0 ||
	    nat_ka_sign(c, b->aor, strlen(b->aor), &b->addr, sig) != 0) {
		return -EADDRNOTAVAIL;
	}
	sig[CORE_MAC_HEX] = '\0';
	n = snprintf(out, sizeof(out),
	    "OPTIONS %s SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s;branch=" NAT_KA_BRANCH "%s.%08x;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:keepalive@%s>;tag=%08x\r\n"
	    "To: <sip:%s>\r\n"
	    "Call-ID: ka.%016llx\r\n"
	    "CSeq: 1 OPTIONS\r\n"
	    "Content-Length: 0\r\n\r\n",
	    b->contact, via, sig, (unsigned)(r >> 32), via, (unsigned)r,
	    b->aor, (unsigned long long)r);
	if (n < 0 || (size_t)n >= sizeof(out)) {
		return -ENOSPC;
	}
	return core_send(c, dst, out, (size_t)n);
}

/* The round's snapshot goes. */
static void
nat_round_end(struct core *c)
{
	reg_snap_free(c->nat_snap);
	c->nat_snap = NULL;
	c->nat_pos = 0;
}

void
core_nat_fini(struct core *c)
{
	nat_round_end(c);
}

/* Keep-alives to the round's bindings [c->nat_pos, upto); how many. */
static unsigned
nat_ka_send(struct core *c, time_t now, size_t upto)
{
	static const char ping[] = "\r\n\r\n";
	unsigned sent = 0;

	for (; c->nat_pos < upto; c->nat_pos++) {
		const struct reg_binding *b = &c->nat_snap->b[c->nat_pos];
		struct tp_src dst;
		uint32_t fails = 0;

		memset(&dst, 0, sizeof(dst));
		dst.addr = b->addr;
		dst.addrlen = b->addrlen;
		dst.proto = TP_UDP;
		dst.listener = core_nat_listener(c, b);
		if (c->nat_ka_method == CONF_NAT_KA_CRLF) {
			if (tp_send(c->tp, &dst, ping, sizeof(ping) - 1) == 0) {
				sent++;
			}
			continue;
		}
		if (reg_keepalive_sent(c->reg, b->aor, b->contact, now,
			&fails) != 0) {
			continue; /* gone meanwhile */
		}
		if (c->nat_ka_drop > 0 && fails >= c->nat_ka_drop) {
			char peer[TP_ADDRSTRLEN];

			log_warn(LOG_SERVER, "nat, dropped %s at %s (%u "
			    "keep-alives unanswered)", b->aor,
			    core_peer(&dst, peer, sizeof(peer)), fails);
			reg_remove(c->reg, b->aor, b->contact);
			continue;
		}
		sent += nat_ka_options(c, b, &dst) == 0;
	}
	return sent;
}

/*
 * Each interval a round: the NATed UDP bindings of that moment, sent
 * their keep-alives spread over the interval (a share each second, the
 * whole by its last second) rather than all at once, which would load
 * sipd and the network in bursts.  What a round has not sent when the
 * next one starts goes first.
 */
void
core_nat_tick(struct core *c, time_t now)
{
	uint64_t iv = c->nat_keepalive_s, e, upto;
	unsigned sent = 0;

	if (c->reg == NULL || iv == 0) {
		nat_round_end(c);
		return;
	}
	if (c->nat_next == 0) {
		/* the first round one interval after start or a change: a
		 * binding just registered needs none yet */
		c->nat_next = now + (time_t)iv;
		return;
	}
	if (now >= c->nat_next) {
		struct reg_snap *snap = NULL;
		int n;

		if (c->nat_snap != NULL) {
			sent += nat_ka_send(c, now, c->nat_snap->n);
		}
		nat_round_end(c);
		c->nat_start = now;
		c->nat_next = now + (time_t)iv;
		n = reg_list(c->reg, NULL, now, &snap);
		if (n > 0) {
			/* over TCP and TLS the client keeps its flow (RFC 5626
			 * 4.4.1): sipd answers its pings */
			size_t k = 0;
			for (int i = 0; i < n; i++) {
				const struct reg_binding *b = &snap->b[i];
				if (b->nat && b->proto == TP_UDP &&
				    b->addrlen != 0) {
					snap->b[k++] = *b;
				}
			}
			snap->n = k;
			c->nat_snap = snap;
		} else {
			reg_snap_free(snap);
		}
	}
	if (c->nat_snap != NULL) {
		e = now > c->nat_start ? (uint64_t)(now - c->nat_start) : 0;
		upto = (c->nat_snap->n * (e + 1) + iv - 1) / iv;
		sent += nat_ka_send(c, now, upto < c->nat_snap->n
			? (size_t)upto : c->nat_snap->n);
		if (c->nat_pos >= c->nat_snap->n) {
			nat_round_end(c);
		}
	}
	if (sent > 0) {
		log_debug(LOG_SERVER, "nat, %u keep-alives sent", sent);
	}
}

bool
core_nat_ka_response(struct core *c, struct msg *resp,
    const struct tp_src *src)
{
	static const size_t mark = sizeof(NAT_KA_BRANCH) - 1;
	const struct msg_via *v = msg_via_top(resp);
	const struct msg_naddr *to;
	char aor[REG_AOR_MAX + 1];
	struct sv br;
	int n;

	if (v == NULL) {
		return false;
	}
	br = msg_sv(resp, v->branch);
	/* every response comes here: the length decides first, then a
	 * memcmp() of the mark (its bytes are there) */
	if (br.len < mark + CORE_MAC_HEX ||
	    memcmp(br.p, NAT_KA_BRANCH, mark) != 0) {
		return false;
	}
	/* sipd's mark: never relayed on, whatever the signature says */
	to = msg_to(resp);
	if (c->reg == NULL || to == NULL ||
	    (n = reg_aor(msg_buf(resp), &to->uri, aor, sizeof(aor))) < 0) {
		return true;
	}
	{
		char want[CORE_MAC_HEX];

		if (nat_ka_sign(c, aor, (size_t)n, &src->addr, want) != 0 ||
		    !core_mac_equal(want,
			(struct sv){ br.p + mark, CORE_MAC_HEX })) {
			return true; /* not for this AOR from there */
		}
	}
	reg_keepalive_answered(c->reg, aor, &src->addr);
	return true;
}

struct tp_listener *
core_nat_listener(struct core *c, const struct reg_binding *b)
{
	if (b->local.ss_family == 0) {
		return NULL;
	}
	return tp_listener_find(c->tp, (enum tp_proto)b->proto, &b->local);
}

/* Does the SIP URI text contact name host:port (port 0: 5060)? */
static bool
nat_same_hostport(const char *contact, const char *base, const struct uri *u)
{
	struct sockaddr_storage a, b;
	struct uri cu;
	socklen_t len;

	if (uri_parse(contact, (struct span){ 0, (uint32_t)strlen(contact) },
		&cu) != 0 ||
	    route_addr((struct sv){ contact + cu.host.off, cu.host.len },
		cu.port != 0 ? cu.port : 5060, &a, &len) != 0 ||
	    route_addr((struct sv){ base + u->host.off, u->host.len },
		u->port != 0 ? u->port : 5060, &b, &len) != 0) {
		return false;
	}
	return tp_addr_len((const struct sockaddr *)&a) ==
	    tp_addr_len((const struct sockaddr *)&b) &&
	    memcmp(&a, &b, tp_addr_len((const struct sockaddr *)&a)) == 0;
}

bool
core_nat_redirect(struct core *c, struct msg *m, struct tp_src *dst,
    const struct route_look *look)
{
	const struct uri *ru = msg_ruri(m);
	const struct msg_naddr *to;
	char aor[REG_AOR_MAX + 1];
	struct reg_snap *snap = NULL;
	struct sockaddr_storage ss;
	const struct sockaddr_storage *own = &ss;
	socklen_t len;
	bool found = false;
	int n;

	if (c->reg == NULL || ru == NULL) {
		return false;
	}
	/* the common case costs a look at the Request-URI's host, taken
	 * from route_preprocess() when it looked (the port does not count
	 * in the nated list) */
	if (look != NULL) {
		if (!look->addr_ok) {
			return false;
		}
		own = &look->ss;
	} else if (route_addr(msg_sv(m, ru->host), 0, &ss, &len) != 0) {
		return false;
	}
	if (!core_nated(c, own) || (to = msg_to(m)) == NULL ||
	    reg_aor(msg_buf(m), &to->uri, aor, sizeof(aor)) < 0) {
		return false;
	}
	n = reg_lookup(c->reg, aor, time(NULL), &snap);
	for (int i = 0; i < n && !found; i++) {
		const struct reg_binding *b = &snap->b[i];

		if (!b->nat || b->addrlen == 0 || b->path != NULL ||
		    !nat_same_hostport(b->contact, msg_buf(m), ru)) {
			continue;
		}
		memset(dst, 0, sizeof(*dst));
		dst->addr = b->addr;
		dst->addrlen = b->addrlen;
		dst->proto = (enum tp_proto)b->proto;
		dst->conn_id = b->conn_id;
		dst->listener = core_nat_listener(c, b);
		found = true;
	}
	reg_snap_free(snap);
	return found;
}

bool
core_nat_lan(const struct core *c, const struct sockaddr_storage *ss)
{
	return tp_net_match(c->lan, (size_t)c->nlan,
	    (const struct sockaddr *)ss);
}

/* The family ss counts as: a v4-mapped IPv6 address is IPv4. */
static int
nat_family(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(
		&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr)) {
		return AF_INET;
	}
	return ss->ss_family;
}

bool
core_nat_public(const struct core *c, const struct sockaddr_storage *peer,
    struct sockaddr_storage *out)
{
	const struct sockaddr_storage *a;

	/* the common case, nothing configured, costs two tests */
	if (c->lan_addr.ss_family == 0 && c->wan_addr.ss_family == 0) {
		return false;
	}
	a = core_nat_lan(c, peer) ? &c->lan_addr : &c->wan_addr;
	if (a->ss_family == 0 || a->ss_family != nat_family(peer)) {
		return false;
	}
	*out = *a;
	return true;
}

int
core_nat_advertise(struct core *c, const struct sockaddr_storage *peer,
    char *buf, size_t cap)
{
	struct sockaddr_storage a;

	if (!core_nat_public(c, peer, &a) && route_source_for(peer, &a) != 0) {
		return -EADDRNOTAVAIL;
	}
	tp_addr_host((const struct sockaddr *)&a, buf, cap);
	return 0;
}

bool
core_nat_two_faces(const struct core *c, const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	struct sockaddr_storage pa, pb;
	bool ha, hb;

	if (c->lan_addr.ss_family == 0 && c->wan_addr.ss_family == 0) {
		return false;
	}
	ha = core_nat_public(c, a, &pa);
	hb = core_nat_public(c, b, &pb);
	return ha != hb || (ha && !route_same_host(&pa, &pb));
}

bool
core_nat_own(const struct core *c, const struct sockaddr_storage *ss)
{
	return route_same_host(&c->lan_addr, ss) ||
	    route_same_host(&c->wan_addr, ss);
}

bool
core_nated(const struct core *c, const struct sockaddr_storage *ss)
{
	return tp_net_match(c->nated, (size_t)c->nnated,
	    (const struct sockaddr *)ss);
}

/* The address req's sender writes for itself into ss: 0, or -EINVAL. */
static int
nat_own_addr(struct msg *req, struct sockaddr_storage *ss)
{
	const struct msg_via *via = msg_via_top(req);
	const struct msg_naddr *ct;
	socklen_t len;

	if (via != NULL && route_addr(msg_sv(req, via->host), 0, ss,
			       &len) == 0) {
		return 0;
	}
	/* a name in the Via: the Contact may still give the address */
	if (msg_naddrs(req, HDR_CONTACT, &ct) > 0 && !ct[0].star &&
	    (ct[0].uri.scheme == URI_SIP || ct[0].uri.scheme == URI_SIPS) &&
	    route_addr(msg_sv(req, ct[0].uri.host), 0, ss, &len) == 0) {
		return 0;
	}
	return -EINVAL;
}

bool
core_nat_far(struct core *c, struct msg *req, const struct tp_src *src)
{
	struct sockaddr_storage own;

	if (nat_own_addr(req, &own) < 0 || !core_nated(c, &own)) {
		return false;
	}
	return !core_nated(c, &src->addr);
}
