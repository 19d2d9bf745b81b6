/*
 * core media: whether a call gets a media relay, and its offers and
 * answers (RFC 3264) rewritten so that both endpoints send their RTP and
 * RTCP to sipd's relay (sipd/media).  It owns the decision
 * (core_media_decide(), the one place that says why a call is relayed or
 * not) and the hooks the proxy calls: an INVITE or UPDATE sent on
 * (core_media_request()), a response with SDP (core_media_response()), a
 * branch that ended without a dialog (core_media_end()).
 *
 * Leg A of a relay faces the caller (the endpoint whose tag is the
 * INVITE's From tag), leg B the callee.  Each branch of a forked INVITE
 * gets its own relays (a group, one relay per media line), so each early
 * dialog has its own ports; a branch that ends with a final non-2xx
 * frees its group, a 2xx binds it to the dialog's tags, and the dialog's
 * BYE frees it.  The relays and their keys live in the media engine,
 * under its lock, so whichever worker sees a request of the call finds
 * them.
 *
 * Decisions documented in sipd.conf(5): SDP that sipd cannot follow
 * (sdp_parse() refuses it) leaves the call unrelayed, with a log line;
 * a port range with no free pair refuses the branch with 488; ICE
 * attributes of relayed media lines are removed (the candidates name
 * addresses the relay hides); an offer in a 2xx (an INVITE without SDP)
 * gets its relay with the 2xx and is completed by the ACK's answer; a
 * media line a re-INVITE or UPDATE adds gets a relay of its own.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipd/core/core_int.h"
#include "sipd/media/media.h"

/* Bodies sipd writes back: the SDP limit, and room for multipart. */
#define MEDIA_BODY_MAX (SDP_MAX_SIZE + 4096)

/* ------------------------------------------------------------ decision */

void
core_media_configure(struct core *c, const struct conf *conf)
{
	struct core_media_set *s = &c->media_set;

	s->mode = conf->media_relay;
	s->lan = conf->media_relay_lan;
	s->nat = conf->media_relay_nat;
	s->family = conf->media_relay_family;
	s->nlan = conf->nlan;
	for (int i = 0; i < conf->nlan; i++) {
		s->lan_r[i] = conf->lan[i].net;
	}
	/* "MIN-MAX", checked when set (conf_media.c) */
	char *end;
	unsigned long lo = strtoul(conf->media_ports, &end, 10);
	unsigned long hi = *end == '-' ? strtoul(end + 1, NULL, 10) : 0;
	if (lo == 0 || hi > 65535 || hi < lo) {
		lo = 1; /* unreadable: every port may be a relay's */
		hi = 65535;
	}
	if (s->port_hi == 0 || lo < s->port_lo) {
		s->port_lo = (uint16_t)lo;
	}
	if (hi > s->port_hi) {
		s->port_hi = (uint16_t)hi;
	}
}

void
core_set_media(struct core *c, struct media *m)
{
	c->media = m;
}

/* IPv4 written as IPv6 (::ffff:a.b.c.d) counts as IPv4. */
static int
family_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			return AF_INET;
		}
	}
	return ss->ss_family;
}

static bool
in_lan(const struct core_media_set *s, const struct sockaddr_storage *ss)
{
	return tp_net_match(s->lan_r, (size_t)s->nlan,
	    (const struct sockaddr *)ss);
}

bool
core_media_decide(const struct core_media_set *s,
    const struct core_media_in *in, const char **why)
{
	bool la, lb;

	if (s->mode == CONF_MEDIA_RELAY_NEVER) {
		*why = "media-relay never";
		return false;
	}
	/* a record or workaround that forbids a relay is about this call
	 * (a device or provider that breaks behind one): it outweighs the
	 * settings and one that asks for a relay */
	if (in->forbidden != NULL) {
		*why = in->forbidden;
		return false;
	}
	if (s->mode == CONF_MEDIA_RELAY_ALWAYS) {
		*why = "media-relay always";
		return true;
	}
	if (in->forced != NULL) {
		*why = in->forced;
		return true;
	}
	if (s->family && (family_of(&in->a) != family_of(&in->b) ||
	    (in->a_media != 0 && in->a_media != family_of(&in->b)))) {
		*why = "IPv4 and IPv6";
		return true;
	}
	/* CGP-style far-end NAT: one side behind a remote NAT, the other not
	 * behind that same NAT (the same public address) */
	if (s->nat && (in->a_nat || in->b_nat) &&
	    !(in->a_nat && in->b_nat && route_same_host(&in->a, &in->b))) {
		*why = "a side behind a remote NAT";
		return true;
	}
	la = in_lan(s, &in->a);
	lb = in_lan(s, &in->b);
	if (s->lan && la != lb) {
		*why = "between the LAN and the WAN";
		return true;
	}
	*why = la != lb ? "between the LAN and the WAN, media-relay-lan off"
	    : la	   ? "both on the LAN"
			   : "the endpoints reach each other";
	return false;
}

/* ------------------------------------------------------------- bodies */

/* Where the SDP lies in m's body: [*off, *off + *len). */
static bool
find_sdp(struct msg *m, struct sv body, size_t *off, size_t *len)
{
	const struct msg_ctype *ct;
	struct sv type, sub, params, b;
	const char *p;

	if (body.len == 0 || (ct = msg_content_type(m)) == NULL) {
		return false;
	}
	type = msg_sv(m, ct->type);
	sub = msg_sv(m, ct->subtype);
	/* the lengths first: this runs for every INVITE sipd forwards */
	if (type.len == 11 && sub.len == 3 &&
	    strncasecmp(type.p, "application", 11) == 0 &&
	    strncasecmp(sub.p, "sdp", 3) == 0) {
		*off = 0;
		*len = body.len;
		return true;
	}
	if (type.len != 9 || strncasecmp(type.p, "multipart", 9) != 0) {
		return false;
	}
	/* RFC 2046 5.1.1: the parts between "--boundary" lines */
	params = msg_sv(m, ct->params);
	p = memmem(params.p, params.len, "boundary=", 9);
	if (p == NULL) {
		return false;
	}
	b.p = p + 9;
	b.len = (size_t)(params.p + params.len - b.p);
	if (b.len > 0 && b.p[0] == '"') {
		const char *q = memchr(b.p + 1, '"', b.len - 1);
		if (q == NULL) {
			return false;
		}
		b.p++;
		b.len = (size_t)(q - b.p);
	} else {
		for (size_t i = 0; i < b.len; i++) {
			if (b.p[i] == ';' || b.p[i] == ' ' || b.p[i] == '\t') {
				b.len = i;
				break;
			}
		}
	}
	if (b.len == 0 || b.len > 70) {
		return false;
	}
	char delim[76];
	delim[0] = delim[1] = '-';
	memcpy(delim + 2, b.p, b.len);
	size_t dlen = b.len + 2;
	const char *end = body.p + body.len;
	const char *cur = memmem(body.p, body.len, delim, dlen);
	while (cur != NULL) {
		const char *hs = cur + dlen;
		if (end - hs >= 2 && hs[0] == '-' && hs[1] == '-') {
			return false; /* the close delimiter */
		}
		const char *he = memmem(hs, (size_t)(end - hs), "\r\n\r\n", 4);
		if (he == NULL) {
			return false;
		}
		const char *ps = he + 4;
		const char *next = memmem(ps, (size_t)(end - ps), delim, dlen);
		if (next == NULL) {
			return false;
		}
		/* the CRLF before a delimiter is the delimiter's */
		const char *pe = next;
		if (pe - ps >= 2 && pe[-2] == '\r' && pe[-1] == '\n') {
			pe -= 2;
		}
		/* the part's headers: is it application/sdp? */
		for (const char *h = hs; h + 12 <= he; h++) {
			if (strncasecmp(h, "content-type", 12) == 0) {
				const char *v = h + 12;
				while (v < he && (*v == ' ' || *v == '\t' ||
				    *v == ':')) {
					v++;
				}
				if (he - v >= 15 &&
				    strncasecmp(v, "application/sdp", 15) == 0) {
					*off = (size_t)(ps - body.p);
					*len = (size_t)(pe - ps);
					return true;
				}
				break;
			}
		}
		cur = next;
	}
	return false;
}

/* ---------------------------------------------------------- addresses */

/*
 * sipd's relay addresses toward ss (port 0): *bind, the one a relay leg
 * binds, is the address the kernel sends to ss from (the interface that
 * faces it: with a LAN side and a WAN side, a listener's address may be
 * one ss cannot reach), else a listener's of its family; *adv, the one
 * written into SDP for ss, is the same, or behind a NAT that forwards
 * sipd's ports the address configured for ss's side ("set lan-address",
 * "set wan-address": core_nat_public()).
 */
static int
local_toward(struct core *c, const struct sockaddr_storage *ss,
    struct sockaddr_storage *bind, struct sockaddr_storage *adv)
{
	int rc = -EADDRNOTAVAIL;

	if (route_source_for(ss, bind) == 0) {
		rc = 0;
	}
	for (int i = 0; rc != 0 && i < c->nlisteners; i++) {
		const struct sockaddr_storage *a = &c->listeners[i].addr;
		if (a->ss_family == ss->ss_family &&
		    c->listener_text[i][0] != '\0') {
			*bind = *a;
			rc = 0;
		}
	}
	if (rc != 0) {
		return rc;
	}
	tp_addr_set_port((struct sockaddr *)bind, 0);
	if (adv != NULL && !core_nat_public(c, ss, adv)) {
		*adv = *bind;
	}
	return 0;
}

/*
 * The address SDP names for relay leg l of info to its endpoint: the
 * configured public one (core_nat_public()) toward toward, where the
 * message goes (NULL: unknown), else toward the leg's peer, else the
 * leg's own.
 */
static void
leg_advertised(struct core *c, const struct media_relay_info *info, int l,
    const struct sockaddr_storage *toward, struct sockaddr_storage *out)
{
	const struct media_leg_info *leg = &info->leg[l];

	if (toward == NULL || toward->ss_family == 0) {
		toward = &leg->peer;
	}
	if (toward->ss_family == 0 || !core_nat_public(c, toward, out)) {
		*out = leg->local;
	}
}

/* Media line i's RTP and RTCP destinations from s (family 0: none). */
static void
line_peers(const struct sdp *s, unsigned i, struct sockaddr_storage *rtp,
    struct sockaddr_storage *rtcp)
{
	const struct sdp_media *md = &s->m[i];

	memset(rtcp, 0, sizeof(*rtcp));
	if (sdp_media_peer(s, i, rtp) != 0) {
		memset(rtp, 0, sizeof(*rtp));
		return;
	}
	if (md->rtcp.len != 0 && md->rtcp_port != 0) {
		/* RFC 3605: the port; its address is the RTP one's */
		*rtcp = *rtp;
		tp_addr_set_port((struct sockaddr *)rtcp, md->rtcp_port);
	}
}

/* Can line i of s go through a relay (a UDP stream, not multicast)? */
static bool
line_relayable(const struct sdp *s, unsigned i)
{
	const struct sdp_media *md = &s->m[i];
	const struct sdp_conn *cn = sdp_media_conn(s, i);

	return md->udp && md->rtp_port != 0 && cn != NULL &&
	    cn->family != 0 && !cn->multicast;
}

static struct media_call
call_of(struct msg *m, bool with_to)
{
	const struct msg_naddr *f = msg_from(m), *t = msg_to(m);
	struct sv id = msg_callid(m);
	struct sv ft = f ? msg_sv(m, f->tag) : (struct sv){ "", 0 };
	struct sv tt = with_to && t ? msg_sv(m, t->tag) : (struct sv){ "", 0 };

	return (struct media_call){ id.p, id.len, ft.p, ft.len, tt.p, tt.len };
}

static bool
has_to_tag(struct msg *m)
{
	const struct msg_naddr *t = msg_to(m);

	return t != NULL && t->tag.len > 0;
}

/* Write s changed by rw into m's body at [off, off + olen): the new SDP
 * is written in its place in one buffer with what surrounds it (a
 * multipart body's other parts), which becomes the body. */
static int
rewrite_into(struct msg *m, struct sv body, size_t off, size_t olen,
    const struct sdp *s, const struct sdp_rewrite *rw)
{
	size_t rest = body.len - off - olen, n;
	char *buf = malloc(off + MEDIA_BODY_MAX + rest);
	int rc;

	if (buf == NULL) {
		return -ENOMEM;
	}
	rc = sdp_rewrite(s, rw, buf + off, MEDIA_BODY_MAX, &n);
	if (rc == 0) {
		memcpy(buf, body.p, off);
		memcpy(buf + off + n, body.p + off + olen, rest);
		rc = msg_set_body(m, NULL, (struct sv){ buf, off + n + rest });
	}
	free(buf);
	return rc;
}

static void
log_bad_sdp(struct msg *m, const char *what, const char *reason)
{
	struct sv id = msg_callid(m);
	char clip[LOG_CLIP_SIZE];

	log_notice(LOG_CLIENT, "media, %s not relayed, call '%s' (bad SDP: "
	    "%s)", what, log_clip(clip, sizeof(clip), id.p, id.len),
	    reason != NULL ? reason : "cannot parse");
}

/*
 * Is the callee behind a remote NAT: its Request-URI (the Contact it
 * registered) an address the nated list holds, and where the request
 * goes (its NAT's public side) not?
 */
static bool
callee_nat(struct core *c, struct msg *fwd, const struct tp_src *dst)
{
	const struct uri *u = msg_ruri(fwd);
	struct sockaddr_storage own;
	socklen_t len;

	return u != NULL && route_addr(msg_sv(fwd, u->host), 0, &own,
	    &len) == 0 && core_nated(c, &own) && !core_nated(c, &dst->addr);
}

/* ---------------------------------------------------------- the offer */

/*
 * An offer that names one of sipd's relay legs came back to sipd: the
 * call left through the relay and returns.  When its first endpoint and
 * the new destination reach each other (CGP: a LAN call that leaves and
 * returns to the same LAN), the offer goes on with that endpoint's own
 * addresses, the first relay is marked looped (its answer passes
 * unchanged and frees it) and the endpoints talk directly.  True when it
 * did so.
 */
static bool
offer_looped(struct core *c, struct msg *fwd, struct sv body, size_t off,
    size_t olen, const struct sdp *s, const struct tp_src *dst)
{
	struct sdp_rewrite rw = { 0 };
	struct media_ref ref;
	struct sockaddr_storage peer, first = { 0 };
	struct core_media_in in = { 0 };
	const char *why;
	bool any = false;

	for (unsigned i = 0; i < s->nmedia; i++) {
		/* only the leg sipd offered toward the callee, of a call that
		 * is still waiting for its answer: a port a stranger names
		 * cannot undo an established call's relay */
		if (sdp_media_peer(s, i, &peer) != 0 ||
		    media_relay_by_local(c->media, (struct sockaddr *)&peer,
			false, &ref) != 0 || ref.peer.ss_family == 0 ||
		    ref.leg != MEDIA_LEG_B || ref.answered) {
			continue;
		}
		in.a = ref.peer;
		in.b = dst->addr;
		if (core_media_decide(&c->media_set, &in, &why) &&
		    c->media_set.mode != CONF_MEDIA_RELAY_ALWAYS) {
			return false;
		}
		if (first.ss_family == 0) {
			first = ref.peer;
		} else if (!route_same_host(&first, &ref.peer)) {
			return false;
		}
		rw.port[i] = tp_addr_port((struct sockaddr *)&ref.peer);
		any = true;
	}
	if (!any || c->media_set.mode == CONF_MEDIA_RELAY_ALWAYS) {
		return false;
	}
	for (unsigned i = 0; i < s->nmedia; i++) {
		if (rw.port[i] != 0 && sdp_media_peer(s, i, &peer) == 0) {
			media_relay_by_local(c->media, (struct sockaddr *)&peer,
			    true, &ref);
		}
	}
	rw.addr = (struct sockaddr *)&first;
	if (rewrite_into(fwd, body, off, olen, s, &rw) != 0) {
		return false;
	}
	log_warn(LOG_CLIENT, "media, the offer came back to sipd (a loop): "
	    "relay dropped, the endpoints talk directly");
	return true;
}

/*
 * What the decision knows of a call whose INVITE req goes from p's source
 * to dst, for target t (NULL: unknown): far-end NAT (CGP) judges the
 * caller by its request, the callee by the Request-URI (its Contact)
 * against where the request goes; a Router record (t's MediaRelay:,
 * NoMediaRelay:) or a workaround (mediaRelay, noMediaRelay of the
 * caller's product, the callee's, the site the request goes to) may ask
 * for a relay or forbid one.
 */
static void
in_of(struct core *c, struct pctx *p, struct msg *req,
    const struct tp_src *dst, const struct proxy_target *t,
    struct core_media_in *in)
{
	unsigned rtr = t != NULL ? t->media : 0;
	unsigned wk = core_wk_media(c, req, t != NULL ? t->wk : 0);
	struct tp_src src;

	pctx_src(p, &src);
	memset(in, 0, sizeof(*in));
	in->a = src.addr;
	in->b = dst->addr;
	if ((rtr & RTR_F_NOMEDIA) != 0) {
		in->forbidden = "a NoMediaRelay: Router record";
	} else if ((wk & WK_NOMEDIARELAY) != 0) {
		in->forbidden = "workaround noMediaRelay";
	}
	if ((rtr & RTR_F_MEDIA) != 0) {
		in->forced = "a MediaRelay: Router record";
	} else if ((wk & WK_MEDIARELAY) != 0) {
		in->forced = "workaround mediaRelay";
	}
	/* the NAT of either side (two addresses parsed and matched) counts
	 * only where core_media_decide() reads it: media-relay auto with
	 * media-relay-nat on, nothing forbidding or forcing a relay */
	if (c->media_set.mode == CONF_MEDIA_RELAY_AUTO && c->media_set.nat &&
	    in->forbidden == NULL && in->forced == NULL) {
		in->a_nat = core_nat_far(c, req, &src);
		in->b_nat = callee_nat(c, req, dst);
	}
}

/*
 * Can the SDP sdp[0..len) change a decision taken without it (no relay,
 * in)?  Only through the loop (an m= port in a range relays take: it
 * may name one of sipd's, offer_looped()) or the caller's media family
 * (c= of another family than the callee's address, with
 * media-relay-family on).  A scan of the text, before any parse: most
 * calls that need no relay need no parse either.  Errs toward true.
 */
static bool
sdp_may_matter(const struct core_media_set *s, const struct core_media_in *in,
    const char *sdp, size_t len)
{
	const char *p = sdp, *end = sdp + len;
	bool fam = s->family && in->forbidden == NULL;
	char own = family_of(&in->b) == AF_INET6 ? '6' : '4';

	/* line by line (memchr), looking at two kinds of line only */
	while (end - p > 2) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;

		if (p[0] == 'm' && p[1] == '=') {
			/* "m=<media> <port>[/<number>] ..." (RFC 8866 5.14) */
			const char *k = memchr(p + 2, ' ', (size_t)(le - p - 2));
			unsigned long port = 0;
			int digits = 0;

			if (k != NULL) {
				k++;
			}
			while (k != NULL && k < le && *k >= '0' && *k <= '9' &&
			    digits < 6) {
				port = port * 10 + (unsigned long)(*k++ - '0');
				digits++;
			}
			if (digits == 0 || digits == 6 ||
			    (port >= s->port_lo && port <= s->port_hi)) {
				return true;
			}
		} else if (fam && p[0] == 'c' && p[1] == '=') {
			/* "c=<nettype> <addrtype> <address>" (5.7): an addrtype
			 * other than the callee's IP4 or IP6 may matter */
			const char *q = memchr(p + 2, ' ', (size_t)(le - p - 2));

			if (q == NULL || le - q < 4 || (q[1] | 0x20) != 'i' ||
			    (q[2] | 0x20) != 'p' || q[3] != own) {
				return true;
			}
		}
		p = le + 1;
	}
	return false;
}

/* A first offer (an INVITE without To tag) going to target t (its
 * Router choice, its binding's product) at dst; sdp: it carries SDP, at
 * [off, off + olen) of its body.  An INVITE without SDP that will need
 * one sets *late.  The cheap questions come first
 * (settings, routing, addresses); the SDP is parsed only when it may
 * need a relay. */
static int
offer_new(struct core *c, struct pctx *p, struct msg *fwd,
    const struct proxy_target *t, bool sdp, size_t off, size_t olen,
    uint32_t *group, bool *late)
{
	const struct tp_src *dst = &t->dst;
	struct sv body = msg_body(fwd);
	struct sockaddr_storage rtp, rtcp, la, lb, adv;
	struct tp_src src;
	struct media_call call = call_of(fwd, false);
	struct core_media_in in = { 0 };
	struct sdp_rewrite rw = { 0 };
	struct sdp *s;
	const char *why, *reason = NULL;
	char peer[TP_ADDRSTRLEN];
	uint32_t first = 0;
	int rc = 0;

	if (c->media_set.mode == CONF_MEDIA_RELAY_NEVER) {
		return 0; /* not even a loop to look for */
	}
	if (!sdp) {
		/* RFC 3264 offer in the 2xx, answer in the ACK: no relay yet,
		 * but sipd must stay on the path to make one then */
		in_of(c, p, fwd, dst, t, &in);
		*late = core_media_decide(&c->media_set, &in, &why);
		return 0;
	}
	in_of(c, p, fwd, dst, t, &in);
	if (!core_media_decide(&c->media_set, &in, &why) &&
	    !sdp_may_matter(&c->media_set, &in, body.p + off, olen)) {
		log_debug(LOG_CLIENT, "media, call to %s not relayed (%s)",
		    core_peer(dst, peer, sizeof(peer)), why);
		return 0;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	if (sdp_parse(s, body.p + off, olen, &reason, NULL) != 0) {
		log_bad_sdp(fwd, "call", reason);
		goto done;
	}
	if (offer_looped(c, fwd, body, off, olen, s, dst)) {
		goto done;
	}
	for (unsigned i = 0; i < s->nmedia && in.a_media == 0; i++) {
		const struct sdp_conn *cn = sdp_media_conn(s, i);
		if (line_relayable(s, i) && cn != NULL) {
			in.a_media = cn->family;
		}
	}
	if (!core_media_decide(&c->media_set, &in, &why)) {
		log_debug(LOG_CLIENT, "media, call to %s not relayed (%s)",
		    core_peer(dst, peer, sizeof(peer)), why);
		goto done;
	}
	if (local_toward(c, &dst->addr, &lb, &adv) != 0) {
		log_notice(LOG_CLIENT, "media, call to %s not relayed (no "
		    "local address toward it)", core_peer(dst, peer,
		    sizeof(peer)));
		goto done;
	}
	pctx_src(p, &src);
	for (unsigned i = 0; i < s->nmedia; i++) {
		struct media_alloc al;

		if (!line_relayable(s, i)) {
			continue;
		}
		line_peers(s, i, &rtp, &rtcp);
		const struct sdp_conn *cn = sdp_media_conn(s, i);
		struct sockaddr_storage toward = rtp;
		if (toward.ss_family == 0 || (core_nated(c, &rtp) &&
		    family_of(&rtp) == family_of(&src.addr))) {
			/* on hold (0.0.0.0), or an address a NAT may hide:
			 * the side the caller's requests come from, by its
			 * family */
			toward = src.addr;
			if (family_of(&toward) != cn->family) {
				continue;
			}
		}
		if (local_toward(c, &toward, &la, NULL) != 0) {
			continue;
		}
		struct media_leg_conf a = {
			(struct sockaddr *)&la,
			rtp.ss_family ? (struct sockaddr *)&rtp : NULL,
			rtcp.ss_family ? (struct sockaddr *)&rtcp : NULL,
		};
		struct media_leg_conf b = { (struct sockaddr *)&lb, NULL, NULL };
		rc = media_relay_new(c->media, &a, &b, &al);
		if (rc == 0) {
			rc = media_relay_bind(c->media, al.id, &call, first, i);
			if (rc != 0) {
				media_relay_free(c->media, al.id);
			}
		}
		if (rc != 0) {
			break;
		}
		if (first == 0) {
			first = al.id;
		}
		rw.port[i] = tp_addr_port((struct sockaddr *)&al.local[1]);
	}
	if (rc == 0 && first != 0) {
		/* the relay binds lb; the callee is told adv */
		rw.addr = (struct sockaddr *)&adv;
		rw.drop_ice = true;
		rc = rewrite_into(fwd, body, off, olen, s, &rw);
	}
	if (rc != 0 && first != 0) {
		media_call_free(c->media, NULL, first);
		first = 0;
	}
	if (rc == 0 && first != 0) {
		log_info(LOG_CLIENT, "media, call to %s relayed (%s)",
		    core_peer(dst, peer, sizeof(peer)), why);
	}
	*group = first;
done:
	free(s);
	/* the port range exhausted: the branch is refused (488); another
	 * failure leaves the call unrelayed */
	return rc == -ENOSPC || rc == -EBUSY ? -ENOSPC : 0;
}

/* Is c the unspecified address (0.0.0.0, ::): a call put on hold? */
static bool
on_hold(const struct sdp_conn *c)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (c->family == AF_INET) {
		return c->ip.v4.s_addr == htonl(INADDR_ANY);
	}
	return c->family == AF_INET6 &&
	    memcmp(&c->ip.v6, &any6, sizeof(any6)) == 0;
}

/*
 * Rewrite m's SDP (an offer or an answer in a dialog with relays refs)
 * sent by the endpoint of leg from: that leg moves to the SDP's
 * addresses, and the other endpoint, at toward (NULL: unknown), is given
 * the other leg's (its port, and the address advertised toward it).
 */
static void
sdp_through(struct core *c, struct msg *m, const struct media_ref *refs,
    int n, const struct sockaddr_storage *toward, const char *what)
{
	struct sv body = msg_body(m);
	struct sdp_rewrite rw = { 0 };
	struct sockaddr_storage rtp, rtcp, other = { 0 };
	struct sdp *s;
	const char *reason = NULL;
	size_t off, olen;

	if (n <= 0 || !find_sdp(m, body, &off, &olen)) {
		return;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		return;
	}
	if (sdp_parse(s, body.p + off, olen, &reason, NULL) != 0) {
		log_bad_sdp(m, what, reason);
		goto done;
	}
	for (int k = 0; k < n; k++) {
		enum media_leg_id from = refs[k].swapped ? MEDIA_LEG_B
							 : MEDIA_LEG_A;
		struct media_relay_info info;
		unsigned i = refs[k].line;

		if (refs[k].leg == MEDIA_LEG_B) {
			/* an answer: from the callee's side */
			from = refs[k].swapped ? MEDIA_LEG_A : MEDIA_LEG_B;
		}
		if (i >= s->nmedia || media_relay_get(c->media, refs[k].id,
			&info) != 0) {
			continue;
		}
		if (s->m[i].rtp_port == 0) {
			/* RFC 3264 6: the stream was refused; its relay goes */
			media_relay_free(c->media, refs[k].id);
			continue;
		}
		line_peers(s, i, &rtp, &rtcp);
		struct media_leg_conf conf = { NULL,
			rtp.ss_family ? (struct sockaddr *)&rtp : NULL,
			rtcp.ss_family ? (struct sockaddr *)&rtcp : NULL };
		if (rtp.ss_family != 0 &&
		    media_relay_update(c->media, refs[k].id, from, &conf) != 0) {
			log_notice(LOG_CLIENT, "media, relay %u: %s names "
			    "another address family than its leg", refs[k].id,
			    what);
		}
		int to = from == MEDIA_LEG_A ? 1 : 0;
		rw.port[i] = tp_addr_port(
		    (const struct sockaddr *)&info.leg[to].local);
		leg_advertised(c, &info, to, toward, &other);
	}
	if (other.ss_family != 0) {
		rw.addr = (struct sockaddr *)&other;
		rw.drop_ice = true;
		if (on_hold(&s->c)) {
			/* RFC 3264 8.4, RFC 2543 hold: the other side is told
			 * not to send, as the endpoint said */
			struct sockaddr_storage none = { 0 };
			none.ss_family = s->c.family == AF_INET6 ? AF_INET6
								 : AF_INET;
			other = none;
		}
		if (rewrite_into(m, body, off, olen, s, &rw) != 0) {
			log_notice(LOG_CLIENT, "media, cannot rewrite the %s",
			    what);
		}
	}
done:
	free(s);
}

/*
 * RFC 3264 8.2: a new offer in a relayed dialog that adds media lines
 * (video to an audio call): each relayable line without a relay gets
 * one in the dialog's group, on the addresses its relays use, the
 * sender's leg given the offer's address.  refs[0..n) are the dialog's
 * relays; returns their count with the new ones.
 */
static int
add_lines(struct core *c, struct msg *fwd, const struct media_call *call,
    struct media_ref *refs, int n)
{
	struct sv body = msg_body(fwd);
	struct media_relay_info info;
	struct sockaddr_storage rtp, rtcp;
	bool have[SDP_MAX_MEDIA] = { false };
	struct media_call key = *call;
	struct sdp *s;
	size_t off, olen;

	if (!find_sdp(fwd, body, &off, &olen) ||
	    media_relay_get(c->media, refs[0].id, &info) != 0) {
		return n;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		return n;
	}
	if (sdp_parse(s, body.p + off, olen, NULL, NULL) != 0) {
		free(s);
		return n;
	}
	for (int k = 0; k < n; k++) {
		if (refs[k].line < SDP_MAX_MEDIA) {
			have[refs[k].line] = true;
		}
	}
	/* the relays' key: the caller's tag first, whoever sends this */
	if (refs[0].swapped) {
		key.tag_a = call->tag_b;
		key.tag_a_len = call->tag_b_len;
		key.tag_b = call->tag_a;
		key.tag_b_len = call->tag_a_len;
	}
	int from = refs[0].swapped ? 1 : 0;
	for (unsigned i = 0; i < s->nmedia && n < SDP_MAX_MEDIA; i++) {
		struct media_alloc al;
		struct media_leg_conf leg[2];

		if (have[i] || !line_relayable(s, i)) {
			continue;
		}
		line_peers(s, i, &rtp, &rtcp);
		for (int l = 0; l < 2; l++) {
			leg[l] = (struct media_leg_conf){
				(struct sockaddr *)&info.leg[l].local, NULL, NULL };
		}
		leg[from].peer = rtp.ss_family ? (struct sockaddr *)&rtp : NULL;
		leg[from].peer_rtcp = rtcp.ss_family ? (struct sockaddr *)&rtcp
						     : NULL;
		if (media_relay_new(c->media, &leg[0], &leg[1], &al) != 0) {
			break;
		}
		if (media_relay_bind(c->media, al.id, &key, refs[0].group,
			i) != 0) {
			media_relay_free(c->media, al.id);
			break;
		}
		refs[n++] = (struct media_ref){ .id = al.id,
			.group = refs[0].group, .line = (uint8_t)i,
			.swapped = refs[0].swapped };
	}
	free(s);
	return n;
}

int
core_media_request(struct core *c, struct pctx *p,
    const struct proxy_target *t, struct msg *fwd, uint32_t *group,
    bool *rr, uint8_t *mreq)
{
	enum msg_method mt = msg_method(fwd);
	struct media_ref refs[SDP_MAX_MEDIA];
	struct media_call call;
	size_t off = 0, olen = 0;
	int n;

	*group = 0;
	*rr = false;
	*mreq = 0;
	if (c->media == NULL) {
		return 0;
	}
	if (mt == MSG_BYE && has_to_tag(fwd)) {
		/* the dialog ends: its relays go, whoever sent the BYE (none
		 * to look for when none are open) */
		if (media_open_count(c->media) == 0) {
			return 0;
		}
		call = call_of(fwd, true);
		media_call_free(c->media, &call, 0);
		return 0;
	}
	if (mt != MSG_INVITE && mt != MSG_UPDATE) {
		return 0;
	}
	if (!has_to_tag(fwd)) {
		/* where the SDP lies: found once, for the bits and the offer */
		bool sdp = find_sdp(fwd, msg_body(fwd), &off, &olen);
		int rc;

		*mreq = CORE_MREQ_SEEN | (sdp ? CORE_MREQ_SDP : 0);
		rc = mt == MSG_INVITE
		    ? offer_new(c, p, fwd, t, sdp, off, olen, group, rr)
		    : 0;
		*rr = *rr || *group != 0;
		return rc;
	}
	/* RFC 3264 8: a new offer in the dialog (re-INVITE, UPDATE) */
	*mreq = CORE_MREQ_SEEN | CORE_MREQ_TAG;
	call = call_of(fwd, true);
	n = media_call_find(c->media, &call, 0, refs, SDP_MAX_MEDIA);
	if (n > 0) {
		n = add_lines(c, fwd, &call, refs, n);
	}
	for (int k = 0; k < n; k++) {
		refs[k].leg = MEDIA_LEG_A; /* an offer: from the sender */
	}
	sdp_through(c, fwd, refs, n, &t->dst.addr, "offer");
	return 0;
}

/* ------------------------------------------------------- the answer */

/* The target of p whose branch went to dst (its Router choice and its
 * binding's product), NULL when none matches. */
static const struct proxy_target *
target_to(const struct pctx *p, const struct tp_src *dst,
    struct proxy_target *buf)
{
	for (int k = 0; k < p->ntg; k++) {
		const struct proxy_target *t = pctx_target_get(&p->tg[k], buf);

		if (route_same_host(&t->dst.addr, &dst->addr) &&
		    tp_addr_port((const struct sockaddr *)&t->dst.addr) ==
			tp_addr_port((const struct sockaddr *)&dst->addr)) {
			return t;
		}
	}
	return NULL;
}

/*
 * The 2xx resp to an INVITE req that had no SDP carries the offer (RFC
 * 3264 5, RFC 3261 13.2.1): when the call needs a relay, make it now, leg
 * B facing the callee that offered; the ACK's answer completes it
 * (core_media_ack()).  Returns the group, or 0.
 */
static uint32_t
late_offer(struct core *c, struct pctx *p, struct txn *ct, struct msg *req,
    struct msg *resp)
{
	struct sv body = msg_body(resp), rbody = msg_body(req);
	struct media_call call = call_of(resp, true);
	struct tp_src peer, src;
	struct proxy_target tb;
	const struct tp_src *dst = txn_peer(ct, &peer);
	struct sockaddr_storage rtp, rtcp, la, lb;
	struct core_media_in in;
	struct sdp *s = NULL;
	const char *why, *reason = NULL;
	size_t off, olen;
	uint32_t first = 0;

	if (dst == NULL || find_sdp(req, rbody, &off, &olen) ||
	    !find_sdp(resp, body, &off, &olen) || call.tag_b_len == 0) {
		return 0;
	}
	in_of(c, p, req, dst, target_to(p, dst, &tb), &in);
	if (!core_media_decide(&c->media_set, &in, &why) ||
	    local_toward(c, &pctx_src(p, &src)->addr, &la, NULL) != 0 ||
	    local_toward(c, &dst->addr, &lb, NULL) != 0) {
		return 0;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		return 0;
	}
	if (sdp_parse(s, body.p + off, olen, &reason, NULL) != 0) {
		log_bad_sdp(resp, "offer in a 2xx", reason);
		free(s);
		return 0;
	}
	for (unsigned i = 0; i < s->nmedia; i++) {
		struct media_alloc al;

		if (!line_relayable(s, i)) {
			continue;
		}
		line_peers(s, i, &rtp, &rtcp);
		struct media_leg_conf a = { (struct sockaddr *)&la, NULL, NULL };
		struct media_leg_conf b = { (struct sockaddr *)&lb,
			rtp.ss_family ? (struct sockaddr *)&rtp : NULL,
			rtcp.ss_family ? (struct sockaddr *)&rtcp : NULL };
		if (media_relay_new(c->media, &a, &b, &al) != 0) {
			break;
		}
		if (media_relay_bind(c->media, al.id, &call, first, i) != 0) {
			media_relay_free(c->media, al.id);
			break;
		}
		if (first == 0) {
			first = al.id;
		}
	}
	free(s);
	if (first != 0) {
		log_info(LOG_CLIENT, "media, offer in a 2xx relayed (%s)", why);
	}
	return first;
}

void
core_media_stray(struct core *c, struct msg *resp)
{
	const struct msg_cseq *cs = msg_cseq(resp);
	struct media_ref refs[SDP_MAX_MEDIA];
	struct media_call call;
	int status = msg_status(resp), n;

	if (c->media == NULL || cs == NULL || status <= 100 || status >= 300 ||
	    (cs->method != MSG_INVITE && cs->method != MSG_UPDATE) ||
	    !has_to_tag(resp)) {
		return;
	}
	call = call_of(resp, true);
	n = media_call_find(c->media, &call, 0, refs, SDP_MAX_MEDIA);
	for (int k = 0; k < n; k++) {
		refs[k].leg = MEDIA_LEG_B; /* an answer: from the receiver */
	}
	sdp_through(c, resp, refs, n, NULL, "answer");
}

void
core_media_ack(struct core *c, struct msg *ack)
{
	struct media_ref refs[SDP_MAX_MEDIA];
	struct media_call call;
	int n;

	/* with no relay open none is the call's: the ACK goes unchanged */
	if (c->media == NULL || media_open_count(c->media) == 0 ||
	    !has_to_tag(ack)) {
		return;
	}
	call = call_of(ack, true);
	n = media_call_find(c->media, &call, 0, refs, SDP_MAX_MEDIA);
	for (int k = 0; k < n; k++) {
		refs[k].leg = MEDIA_LEG_A; /* from its sender */
	}
	sdp_through(c, ack, refs, n, NULL, "answer in an ACK");
}

void
core_media_response(struct core *c, struct pctx *p, int i, struct txn *ct,
    struct msg *resp)
{
	int status = msg_status(resp);
	enum msg_method mt = txn_method(ct);
	uint8_t mreq = i >= 0 ? p->br[i].mreq : 0;
	struct msg *req = NULL;
	struct media_ref refs[SDP_MAX_MEDIA];
	struct media_call call;
	uint32_t group = i >= 0 ? p->br[i].media : 0;
	struct tp_src src;
	int n;

	if (c->media == NULL || status <= 100 || status >= 300 ||
	    (mt != MSG_INVITE && mt != MSG_UPDATE)) {
		return;
	}
	/* the request as sent, parsed again only when what the branch
	 * noted of it (core_media_request()) does not say enough */
	if ((mreq & CORE_MREQ_SEEN) == 0 || (mreq & CORE_MREQ_TAG) != 0 ||
	    (group == 0 && status >= 200 && (mreq & CORE_MREQ_SDP) == 0)) {
		req = txn_request(ct);
		if (req == NULL) {
			return;
		}
	}
	if (req != NULL ? !has_to_tag(req) : (mreq & CORE_MREQ_TAG) == 0) {
		if (group == 0 && status >= 200 && req != NULL) {
			group = late_offer(c, p, ct, req, resp);
			p->br[i].media = group;
		}
		if (group == 0) {
			return;
		}
		n = media_call_find(c->media, NULL, group, refs,
		    SDP_MAX_MEDIA);
		if (n > 0 && refs[0].looped) {
			/* the call came back: the endpoints talk directly */
			media_call_free(c->media, NULL, group);
			return;
		}
		/* the answer names the dialog (RFC 3261 12.1): its To tag */
		call = call_of(resp, true);
		if (call.tag_b_len > 0) {
			media_call_confirm(c->media, &call, group);
		}
	} else {
		call = call_of(req, true);
		n = media_call_find(c->media, &call, 0, refs, SDP_MAX_MEDIA);
	}
	for (int k = 0; k < n; k++) {
		refs[k].leg = MEDIA_LEG_B; /* an answer: from the receiver */
	}
	sdp_through(c, resp, refs, n, &pctx_src(p, &src)->addr, "answer");
}

void
core_media_end(struct core *c, uint32_t *group)
{
	if (c->media != NULL && *group != 0) {
		media_call_free(c->media, NULL, *group);
	}
	*group = 0;
}
