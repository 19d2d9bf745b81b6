/*
 * sipd's Record-Route (RFC 3261 16.4, 16.6 step 4): the signed entries it
 * writes into the requests it forwards, and on the way back the Route
 * entries naming sipd taken off a request (the strict-router fix-up
 * included) with the first signature they carried, which counts once the
 * next hop is known (route_rr_signed()).  The Route edits that take
 * entries off, whole lines or one element of a line, are here too.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

/* -------------------------------------------------------- Route edits */

/*
 * Write header line hdr again with the elements of list[from..n) that
 * stand on it, but for element skip (-1: none), ", " between them.
 */
static int
rewrite_line(struct msg *req, const struct msg_naddr *list, int n, int from,
    int hdr, int skip)
{
	size_t cap = 0, len = 0;
	char *buf;
	int rc;

	for (int i = from; i < n && list[i].hdr == hdr; i++) {
		cap += list[i].value.len + 2;
	}
	buf = malloc(cap + 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	for (int i = from; i < n && list[i].hdr == hdr; i++) {
		struct sv v = msg_sv(req, list[i].value);

		if (i == skip) {
			continue;
		}
		if (len > 0) {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
		memcpy(buf + len, v.p, v.len);
		len += v.len;
	}
	rc = msg_hdr_replace(req, hdr, (struct sv){ buf, len });
	free(buf);
	return rc;
}

/*
 * Remove element k of the list header id (Route, Record-Route): its whole
 * line when it stands alone, else the line written again without it,
 * keeping the others of the header line it shares with others.
 */
static int
remove_element(struct msg *req, enum hdr_id id, int k)
{
	const struct msg_naddr *list;
	int n = msg_naddrs(req, id, &list);
	int first = -1, count = 0;

	if (k < 0 || k >= n) {
		return -ENOENT;
	}
	for (int i = 0; i < n; i++) {
		if (list[i].hdr == list[k].hdr) {
			count++;
			if (first < 0) {
				first = i;
			}
		}
	}
	if (count == 1) {
		return msg_hdr_remove(req, list[k].hdr);
	}
	return rewrite_line(req, list, n, first, list[k].hdr, k);
}

/*
 * Remove the first k elements of the Route list (16.4) in one edit: whole
 * lines go, and only the line element k shares with those before it is
 * written again.  list (n elements) is req's parse, taken before the edit.
 */
static int
remove_top(struct msg *req, const struct msg_naddr *list, int n, int k)
{
	int keep = k < n && list[k].hdr == list[k - 1].hdr ? list[k].hdr : -1;
	int rc;

	if (keep >= 0) {
		rc = rewrite_line(req, list, n, k, keep, -1);
		if (rc != 0) {
			return rc;
		}
	}
	for (int i = 0; i < k; i++) {
		if (list[i].hdr != keep &&
		    (i == 0 || list[i].hdr != list[i - 1].hdr)) {
			rc = msg_hdr_remove(req, list[i].hdr);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

/* ------------------------------------------- signed Record-Route */

/*
 * sipd's Record-Route URI carries sig, a MAC (mac.c) over the Call-ID and
 * the From tag of the request it Record-Routed and the IP addresses of the
 * two hops it joined: where the request came from and where it went.  The
 * route set is the same both ways (RFC 3261 12.1.1, 12.1.2); the tag comes
 * back as the From tag of the caller's in-dialog requests and as the To
 * tag of the callee's (12.2.1.1), and each side's requests come from one
 * of the two addresses and go to the other, so the pair is taken in
 * either order.  Whoever sees the signature (any party to a dialog sipd
 * Record-Routed, a stranger who called a local user included) can reuse
 * it only between the same two addresses, not to reach a third.
 */
#define RR_SIG "sig"
#define RR_LABEL 'R'

/* An address as 17 bytes (family, then 16), IPv4-mapped as IPv4. */
static void
rr_addr(const struct sockaddr_storage *ss, uint8_t out[17])
{
	memset(out, 0, 17);
	if (ss->ss_family == AF_INET) {
		out[0] = 4;
		memcpy(out + 1,
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			out[0] = 4;
			memcpy(out + 1, a->s6_addr + 12, 4);
		} else {
			out[0] = 6;
			memcpy(out + 1, a->s6_addr, 16);
		}
	}
}

/* The two hops' addresses as signed: the lower first, so that either
 * direction gives the same bytes. */
static void
rr_pair(const struct tp_src *a, const struct tp_src *b, uint8_t pair[34])
{
	uint8_t x[17], y[17];

	rr_addr(&a->addr, x);
	rr_addr(&b->addr, y);
	bool swap = memcmp(x, y, sizeof(x)) > 0;
	memcpy(pair, swap ? y : x, 17);
	memcpy(pair + 17, swap ? x : y, 17);
}

static int
rr_sign(struct core *c, struct sv callid, struct sv tag,
    const uint8_t pair[34], char out[CORE_MAC_HEX])
{
	const struct sv parts[4] = {
		callid,
		tag,
		{ (const char *)pair, 17 },
		{ (const char *)pair + 17, 17 },
	};
	return core_mac_sign(c->mac, RR_LABEL, parts, 4, out);
}

/* The slot of the table of signatures made for sig: its first eight
 * digits, a MAC's, spread. */
static struct core_rr_made *
rr_slot(struct core *c, const char *sig)
{
	uint64_t w;

	memcpy(&w, sig, sizeof(w));
	return &c->rr_made[(w * 0x9e3779b97f4a7c15ULL) >>
	    (64 - CORE_RR_MADE_BITS)];
}

/* Note that sig is sipd's signature of callid, tag and pair. */
static void
rr_remember(struct core *c, struct sv callid, struct sv tag,
    const uint8_t pair[34], const char sig[CORE_MAC_HEX])
{
	struct core_rr_made *e;

	if (c->rr_made == NULL || callid.len == 0 ||
	    callid.len + tag.len > CORE_RR_MADE_TEXT) {
		return;
	}
	e = rr_slot(c, sig);
	memcpy(e->sig, sig, CORE_MAC_HEX);
	memcpy(e->pair, pair, sizeof(e->pair));
	e->clen = (uint8_t)callid.len;
	e->tlen = (uint8_t)tag.len;
	memcpy(e->text, callid.p, callid.len);
	memcpy(e->text + callid.len, tag.p, tag.len);
}

/* The same digits, compared in constant time; upper case hex, which
 * core_mac_equal() takes, is left to it. */
static bool
same_digits(const char a[CORE_MAC_HEX], const char *b)
{
	uint64_t x = 0, u, v;

	for (size_t i = 0; i < CORE_MAC_HEX; i += sizeof(u)) {
		memcpy(&u, a + i, sizeof(u));
		memcpy(&v, b + i, sizeof(v));
		x |= u ^ v;
	}
	return x == 0;
}

/* Did sipd make given as the signature of callid, tag and pair, lately?
 * False when it does not know (the caller signs them to see). */
static bool
rr_made(struct core *c, struct sv callid, struct sv tag,
    const uint8_t pair[34], struct sv given)
{
	const struct core_rr_made *e;

	if (c->rr_made == NULL || given.len != CORE_MAC_HEX) {
		return false;
	}
	e = rr_slot(c, given.p);
	return e->clen != 0 && e->clen == callid.len && e->tlen == tag.len &&
	    same_digits(e->sig, given.p) &&
	    memcmp(e->pair, pair, sizeof(e->pair)) == 0 &&
	    memcmp(e->text, callid.p, callid.len) == 0 &&
	    memcmp(e->text + callid.len, tag.p, tag.len) == 0;
}

/* Keep what route_rr_signed() signed with the From tag in seen. */
static void
rr_keep(struct route_seen *seen, struct sv callid, struct sv tag,
    const uint8_t pair[34], const char sig[CORE_MAC_HEX])
{
	seen->made = callid.len <= sizeof(seen->made_callid) &&
	    tag.len <= sizeof(seen->made_tag);
	if (!seen->made) {
		return;
	}
	memcpy(seen->made_pair, pair, sizeof(seen->made_pair));
	memcpy(seen->made_callid, callid.p, callid.len);
	seen->made_clen = callid.len;
	memcpy(seen->made_tag, tag.p, tag.len);
	seen->made_tlen = tag.len;
	memcpy(seen->made_sig, sig, CORE_MAC_HEX);
}

/* Did route_rr_signed() sign these very bytes?  Then its signature. */
static bool
rr_kept(const struct route_seen *seen, struct sv callid, struct sv tag,
    const uint8_t pair[34], char out[CORE_MAC_HEX])
{
	if (seen == NULL || !seen->made || callid.len != seen->made_clen ||
	    tag.len != seen->made_tlen ||
	    memcmp(pair, seen->made_pair, sizeof(seen->made_pair)) != 0 ||
	    memcmp(callid.p, seen->made_callid, callid.len) != 0 ||
	    memcmp(tag.p, seen->made_tag, tag.len) != 0) {
		return false;
	}
	memcpy(out, seen->made_sig, CORE_MAC_HEX);
	return true;
}

static void
rr_note(struct route_seen *seen, const char *base, const struct uri *u)
{
	struct sv sig;

	if (!seen->any && uri_param(base, u, RR_SIG, &sig) &&
	    sig.len == CORE_MAC_HEX) {
		memcpy(seen->sig, sig.p, CORE_MAC_HEX);
		seen->any = true;
		seen->bare = false;
		/* its gateway dialog parameter is read only for a request
		 * the signature lets in (route_seen_gwd()) */
		seen->entry = *u;
	}
}

/*
 * Are the 24 bytes at p lower case hex digits?  Eight at a time: for bytes
 * below 0x80, b + (0x80 - k) has its top bit set exactly when b >= k, and
 * no byte carries into the next.
 */
static bool
lower_hex24(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, top = ones * 0x80;

	for (int i = 0; i < CORE_MAC_HEX; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, sizeof(x));
		if ((x & top) != 0) {
			return false;
		}
		uint64_t digit = (x + ones * (0x80 - '0')) &
		    ~(x + ones * (0x80 - '9' - 1));
		uint64_t af = (x + ones * (0x80 - 'a')) &
		    ~(x + ones * (0x80 - 'f' - 1));
		if (((digit | af) & top) != top) {
			return false;
		}
	}
	return true;
}

bool
route_own_entry(const struct core *c, struct sv v, char sig[CORE_MAC_HEX])
{
	static const char tail[] = ";lr;" RR_SIG "=";
	const size_t tlen = sizeof(tail) - 1;

	/* "<sip:" ADDR ";lr;sig=" HEX ">": the shape route_record_route()
	 * gives an entry over UDP with no gateway parameter */
	if (v.len < 5 + tlen + CORE_MAC_HEX + 1 ||
	    memcmp(v.p, "<sip:", 5) != 0 || v.p[v.len - 1] != '>') {
		return false;
	}
	size_t alen = v.len - 5 - tlen - CORE_MAC_HEX - 1;
	const char *hex = v.p + 5 + alen + tlen;
	for (int i = 0; i < c->nlisteners; i++) {
		if (c->listener_rr[i] != alen ||
		    memcmp(c->listener_text[i], v.p + 5, alen) != 0) {
			continue;
		}
		if (memcmp(v.p + 5 + alen, tail, tlen) != 0) {
			return false;
		}
		if (!lower_hex24(hex)) {
			return false;
		}
		memcpy(sig, hex, CORE_MAC_HEX);
		return true;
	}
	return false;
}

size_t
route_seen_gwd(struct msg *req, const struct route_seen *seen,
    char out[CORE_GWD_PARAM_MAX])
{
	struct sv v;

	if (!seen->any || seen->bare ||
	    !uri_param(msg_buf(req), &seen->entry, CORE_GWD_PARAM, &v) ||
	    v.len > CORE_GWD_PARAM_MAX) {
		return 0;
	}
	memcpy(out, v.p, v.len);
	return v.len;
}

/*
 * Did sipd sign the Route entries it just removed from req, for a request
 * from src to dst?  Only a request inside a dialog, with a To tag, carries
 * sipd's Record-Route back.
 */
bool
route_rr_signed(struct core *c, struct msg *req, struct route_seen *seen,
    const struct tp_src *src, const struct tp_src *dst)
{
	const struct msg_naddr *f, *t;
	char want[CORE_MAC_HEX];
	struct sv sig = { seen->sig, CORE_MAC_HEX }, callid, tag;
	uint8_t pair[34];

	seen->made = false;
	if (!seen->any) {
		return false;
	}
	f = msg_from(req);
	t = msg_to(req);
	if (f == NULL || t == NULL || t->tag.len == 0) {
		return false;
	}
	callid = msg_callid(req);
	tag = msg_sv(req, f->tag);
	rr_pair(src, dst, pair);
	/* the same bytes sipd signed for the INVITE: no need to sign them
	 * again to know (the digits matched in constant time) */
	if (rr_made(c, callid, tag, pair, sig)) {
		rr_keep(seen, callid, tag, pair, seen->sig);
		return true;
	}
	if (rr_made(c, callid, msg_sv(req, t->tag), pair, sig)) {
		return true;
	}
	/* the caller's requests carry the tag as From tag; the callee's,
	 * one MAC more, as To tag */
	if (rr_sign(c, callid, tag, pair, want) != 0) {
		return false;
	}
	/* the From tag's is the one sipd's Record-Route on this request
	 * would carry, matched or not */
	rr_keep(seen, callid, tag, pair, want);
	if (core_mac_equal(want, sig)) {
		rr_remember(c, callid, tag, pair, want);
		return true;
	}
	return rr_sign(c, callid, msg_sv(req, t->tag), pair, want) == 0 &&
	    core_mac_equal(want, sig);
}

const struct route_look *
route_ruri_look(struct msg *req, const struct route_seen *seen)
{
	struct span s = msg_ruri_span(req);

	return seen->ruri_foreign && s.off == seen->ruri.off &&
	    s.len == seen->ruri.len ? &seen->ruri_look : NULL;
}

/* Is the Request-URI ruri of req sipd's?  Looked at once: when it is
 * not, route_target_from() takes what was found (route_ruri_look()). */
static bool
ruri_local(struct core *c, struct msg *req, const struct uri *ruri,
    struct route_seen *seen)
{
	if (ruri->scheme != URI_SIP && ruri->scheme != URI_SIPS) {
		return false;
	}
	route_look(msg_buf(req), ruri, &seen->ruri_look);
	if (route_look_local(c, &seen->ruri_look)) {
		return true;
	}
	seen->ruri_foreign = true;
	seen->ruri = msg_ruri_span(req);
	return false;
}

/*
 * RFC 3261 16.4: if the Request-URI is sipd's (a strict router before us
 * put our Record-Route there), the last Route entry becomes the
 * Request-URI; then every entry of sipd's on top of the Route set goes,
 * however many there are, in one edit.  Returns how many entries of
 * sipd's went, with the first signature they carried in seen: an entry
 * naming sipd proves nothing unless sipd signed it (route_rr_signed(),
 * once the next hop is known), and the caller judges the request as if
 * unsigned ones had never been.  A negative errno on failure.
 */
int
route_preprocess(struct core *c, struct msg *req, struct route_seen *seen)
{
	const struct msg_naddr *routes;
	const struct uri *ruri = msg_ruri(req);
	int first = msg_hdr_first(req, HDR_ROUTE);
	int n, rc, own = 0, strip = 0;
	bool ruri_own = false;

	seen->any = false;
	seen->ruri_foreign = false;
	seen->made = false;
	seen->flow = false;
	if (first < 0) {
		return 0;
	}
	if (ruri != NULL) {
		ruri_own = ruri_local(c, req, ruri, seen);
	}
	/* the common case in a dialog sipd Record-Routed: the one Route
	 * line is sipd's entry as sipd wrote it, taken off unparsed */
	if (!ruri_own && msg_hdr_next(req, first) < 0 &&
	    route_own_entry(c, msg_sv(req, msg_hdr_at(req, first)->value),
		seen->sig)) {
		seen->any = true;
		seen->bare = true;
		return msg_hdr_remove(req, first) == 0 ? 1 : -EINVAL;
	}
	n = msg_naddrs(req, HDR_ROUTE, &routes);
	if (n < 0) {
		return -EINVAL;
	}
	if (n > 0 && ruri_own) {
		rr_note(seen, msg_buf(req), ruri);
		struct sv last = msg_sv(req, routes[n - 1].uri_s);
		char *copy = malloc(last.len ? last.len : 1);
		if (copy == NULL) {
			return -ENOMEM;
		}
		memcpy(copy, last.p, last.len);
		rc = msg_set_ruri(req, (struct sv){ copy, last.len });
		free(copy);
		if (rc == 0) {
			rc = remove_element(req, HDR_ROUTE, n - 1);
		}
		if (rc != 0) {
			return rc;
		}
		own++;
		n = msg_naddrs(req, HDR_ROUTE, &routes);
		if (n < 0) {
			return -EINVAL;
		}
	}
	/* one pass, not one forward to ourselves per entry: a request with
	 * a thousand entries naming sipd costs one edit */
	while (strip < n &&
	    route_uri_local(c, msg_buf(req), &routes[strip].uri)) {
		rr_note(seen, msg_buf(req), &routes[strip].uri);
		if (!seen->flow) {
			seen->flow = core_path_flow(c, msg_buf(req),
			    &routes[strip].uri, &seen->to) == 0;
		}
		strip++;
	}
	if (strip > 0) {
		rc = remove_top(req, routes, n, strip);
		if (rc != 0) {
			return rc;
		}
	}
	return own + strip;
}

static const char *
transport_param(enum tp_proto p)
{
	return p == TP_TCP ? ";transport=tcp" : p == TP_TLS ? ";transport=tls"
							   : "";
}

/*
 * 16.6 step 4: Record-Route, so in-dialog requests come through sipd,
 * signed so that sipd knows them when they do.  Over a transport change,
 * or between the LAN and the WAN when sipd has an address for each, two
 * entries, one per side (RFC 5658), the one facing the next hop on top.
 */
int
route_record_route(struct core *c, struct msg *fwd, const struct tp_src *in,
    const struct tp_src *out, bool no_tp, const char *extra,
    const struct route_seen *seen)
{
	char addr[TP_ADDRSTRLEN];
	char val[TP_ADDRSTRLEN + CORE_MAC_HEX + CORE_GWD_PARAM_MAX + 64];
	size_t xlen = strlen(extra);
	char sig[CORE_MAC_HEX];
	const struct tp_src *sides[2] = { in, out };
	const struct msg_naddr *from = msg_from(fwd);
	int nsides = in->proto == out->proto &&
		in->addr.ss_family == out->addr.ss_family &&
		!core_nat_two_faces(c, &in->addr, &out->addr) &&
		!route_two_sides(in, out)
	    ? 1
	    : 2;

	uint8_t pair[34];

	/* both entries signed alike: whichever side a request comes from;
	 * a request in a dialog had it made when its Route was checked */
	if (from == NULL) {
		return -EINVAL;
	}
	rr_pair(in, out, pair);
	if (!rr_kept(seen, msg_callid(fwd), msg_sv(fwd, from->tag), pair,
		sig)) {
		if (rr_sign(c, msg_callid(fwd), msg_sv(fwd, from->tag), pair,
			sig) != 0) {
			return -EINVAL;
		}
		rr_remember(c, msg_callid(fwd), msg_sv(fwd, from->tag), pair,
		    sig);
	}
	for (int i = 0; i < nsides; i++) {
		const struct tp_src *s = sides[i];
		if (route_local_addr_src(c, s, addr,
			sizeof(addr)) != 0) {
			return -EADDRNOTAVAIL;
		}
		/* "<sip:addr;transport=tcp;lr;sig=...>", without printf */
		const char *tp = no_tp ? "" : transport_param(s->proto);
		size_t alen = strlen(addr), tlen = strlen(tp), n = 0;
		memcpy(val, "<sip:", 5);
		n = 5;
		memcpy(val + n, addr, alen);
		n += alen;
		memcpy(val + n, tp, tlen);
		n += tlen;
		memcpy(val + n, ";lr;" RR_SIG "=", sizeof(RR_SIG) + 4);
		n += sizeof(RR_SIG) + 4;
		memcpy(val + n, sig, CORE_MAC_HEX);
		n += CORE_MAC_HEX;
		if (xlen > CORE_GWD_PARAM_MAX + 8) {
			return -EINVAL;
		}
		memcpy(val + n, extra, xlen);
		n += xlen;
		val[n++] = '>';
		int at = msg_hdr_first(fwd, HDR_RECORD_ROUTE);
		if (msg_hdr_insert_id(fwd, at, HDR_RECORD_ROUTE,
			(struct sv){ val, n }) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

