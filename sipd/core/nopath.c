/*
 * Path on REGISTERs sipd forwards to another registrar (RFC 3327), and
 * its stand-in for registrars that lack it (the noPath workaround).
 * When sipd stays in the dialogs of the requests it forwards (it would
 * Record-Route them: force-rr, or a change of transport), it stays on
 * the path of the registrations too: a REGISTER with "Supported: path"
 * gets sipd's Path entry, for a client behind a remote NAT with the
 * client's flow signed in its user part (flow_user()).  A registrar under
 * a noPath site gets no Path; instead each Contact becomes an address of
 * sipd's whose user part carries the original Contact and where the
 * REGISTER came from (over TCP and TLS with its connection: the flow,
 * RFC 5626 5.3), signed (mac.c), so that no peer can make one:
 *
 *   sip:np<base64url(hop, [connection,] contact)>.<signature>@<address>
 *
 * The registrar's answer gets the original Contacts back before it goes
 * to the device, and a request that arrives for such an address goes to
 * the device with the original Contact as its Request-URI.  Owns
 * nothing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

#define NP_PREFIX "np"
#define NP_LABEL 'N'
#define NP_HOP 20          /* proto, family, port, address */
/* in a noPath hop's family byte: 8 bytes of connection follow the hop
 * (a device on TCP or TLS: its flow, RFC 5626 5.3) */
#define NP_CONN 0x80
#define NP_URI_MAX 512     /* the longest Contact URI carried */
#define NP_VALUE_MAX 8192  /* the Contact header value written */
#define FLOW_PREFIX "fl"
#define FLOW_LABEL 'F'
/* a flow: where the REGISTER came from, the listener it came to, and
 * over TCP and TLS its connection (8 bytes; a token without them, made
 * before, is a UDP flow) */
#define FLOW_BLOB (2 * NP_HOP + 8)
#define FLOW_USER_MAX 160  /* "fl", 64 base64url, ".", the signature */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding (RFC 4648 5): its characters are all
 * unreserved in a SIP user part (RFC 3261 25.1). */
static size_t
b64_enc(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
		out[o++] = b64[v >> 10];
		out[o++] = b64[(v >> 4) & 63];
		out[o++] = b64[(v & 15) << 2];
	}
	return o;
}

static int
b64_val(char ch)
{
	const char *p = ch != '\0' ? strchr(b64, ch) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* Decode; -EINVAL on a character outside the alphabet or a bad length. */
static int
b64_dec(struct sv in, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (in.len % 4 == 1) {
		return -EINVAL;
	}
	for (size_t i = 0; i < in.len; i++) {
		int v = b64_val(in.p[i]);

		if (v < 0) {
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap) {
				return -ENOSPC;
			}
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}

/* Where the REGISTER came from, as NP_HOP bytes. */
/* A connection id in 8 bytes, big-endian (a flow's, RFC 5626 5.3). */
static void
conn_pack(uint64_t id, uint8_t out[8])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(id >> (56 - 8 * i));
	}
}

static uint64_t
conn_unpack(const uint8_t in[8])
{
	uint64_t id = 0;

	for (int i = 0; i < 8; i++) {
		id = id << 8 | in[i];
	}
	return id;
}

static void
hop_pack(const struct tp_src *src, uint8_t out[NP_HOP])
{
	uint16_t port = tp_addr_port((const struct sockaddr *)&src->addr);

	memset(out, 0, NP_HOP);
	out[0] = (uint8_t)src->proto;
	out[1] = src->addr.ss_family == AF_INET6 ? 6 : 4;
	out[2] = (uint8_t)(port >> 8);
	out[3] = (uint8_t)port;
	if (src->addr.ss_family == AF_INET6) {
		memcpy(out + 4,
		    &((const struct sockaddr_in6 *)(const void *)&src->addr)
			 ->sin6_addr,
		    16);
	} else {
		memcpy(out + 4,
		    &((const struct sockaddr_in *)(const void *)&src->addr)
			 ->sin_addr,
		    4);
	}
}

static int
hop_unpack(const uint8_t in[NP_HOP], struct tp_src *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (in[0] > TP_TLS) {
		return -EINVAL;
	}
	dst->proto = (enum tp_proto)in[0];
	if ((in[1] & ~NP_CONN) == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&dst->addr;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, in + 4, 16);
		dst->addrlen = sizeof(*s6);
	} else if ((in[1] & ~NP_CONN) == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&dst->addr;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, in + 4, 4);
		dst->addrlen = sizeof(*s4);
	} else {
		return -EINVAL;
	}
	tp_addr_set_port((struct sockaddr *)&dst->addr,
	    (uint16_t)(in[2] << 8 | in[3]));
	return 0;
}

/*
 * sipd's address for a Contact carrying uri for a device at src, written
 * to the registrar at dst, into out: "sip:np...@addr[;transport=x]".
 * Returns its length, or a negative errno.
 */
static int
np_encode(struct core *c, struct sv uri, const struct tp_src *src,
    const struct tp_src *dst, char *out, size_t cap)
{
	uint8_t blob[NP_HOP + 8 + NP_URI_MAX];
	char addr[TP_ADDRSTRLEN], sig[CORE_MAC_HEX];
	size_t n, o;

	if (uri.len > NP_URI_MAX ||
	    cap < 16 + (NP_HOP + 8 + uri.len) * 4 / 3 + CORE_MAC_HEX +
		    sizeof(addr)) {
		return -ENOSPC;
	}
	hop_pack(src, blob);
	n = NP_HOP;
	if (src->proto != TP_UDP && src->conn_id != 0) {
		blob[1] |= NP_CONN;
		conn_pack(src->conn_id, blob + n);
		n += 8;
	}
	memcpy(blob + n, uri.p, uri.len);
	n += uri.len;
	const struct sv parts[1] = { { (const char *)blob, n } };
	if (core_mac_sign(c->mac, NP_LABEL, parts, 1, sig) != 0 ||
	    route_local_addr(c, dst->proto, &dst->addr, addr, sizeof(addr)) !=
		0) {
		return -EIO;
	}
	o = (size_t)snprintf(out, cap, "sip:" NP_PREFIX);
	o += b64_enc(blob, n, out + o);
	out[o++] = '.';
	memcpy(out + o, sig, CORE_MAC_HEX);
	o += CORE_MAC_HEX;
	o += (size_t)snprintf(out + o, cap - o, "@%s%s", addr,
	    dst->proto == TP_TCP   ? ";transport=tcp"
		: dst->proto == TP_TLS ? ";transport=tls"
				       : "");
	return (int)o;
}

/*
 * Is the URI u (in base) one sipd wrote?  Then its Contact goes into uri
 * (cap bytes, NUL-terminated) and the device's address into hop (over
 * TCP and TLS its connection, a flow); 0.
 * 1 when it is not of that shape, -EPERM when the signature fails.
 */
static int
np_decode(struct core *c, const char *base, const struct uri *u, char *uri,
    size_t cap, struct tp_src *hop)
{
	uint8_t blob[NP_HOP + 8 + NP_URI_MAX];
	struct sv user = { base + u->user.off, u->user.len }, enc, sig;
	const char *dot;
	size_t h = NP_HOP;
	uint64_t conn = 0;
	int n;

	if (user.len < sizeof(NP_PREFIX) + CORE_MAC_HEX ||
	    memcmp(user.p, NP_PREFIX, sizeof(NP_PREFIX) - 1) != 0 ||
	    !route_uri_local(c, base, u)) {
		return 1;
	}
	dot = memchr(user.p, '.', user.len);
	if (dot == NULL) {
		return 1;
	}
	enc = (struct sv){ user.p + 2, (size_t)(dot - user.p) - 2 };
	sig = (struct sv){ dot + 1, user.len - (size_t)(dot + 1 - user.p) };
	n = b64_dec(enc, blob, sizeof(blob));
	if (n < NP_HOP + 4) {
		return 1;
	}
	const struct sv parts[1] = { { (const char *)blob, (size_t)n } };
	if (!core_mac_verify(c->mac, NP_LABEL, parts, 1, sig)) {
		return -EPERM;
	}
	if ((blob[1] & NP_CONN) != 0) {
		if ((size_t)n < h + 8) {
			return -EINVAL;
		}
		conn = conn_unpack(blob + h);
		h += 8;
	}
	if ((size_t)n < h + 4 || (size_t)n - h >= cap ||
	    hop_unpack(blob, hop) != 0) {
		return -EINVAL;
	}
	if (conn != 0 && hop->proto != TP_UDP) {
		/* RFC 5626 5.3: that connection, or none (430) */
		hop->conn_id = conn;
		hop->flow = true;
	}
	memcpy(uri, blob + h, (size_t)n - h);
	uri[n - h] = '\0';
	return 0;
}

/*
 * Write m's Contact list again as one header line, each element's URI
 * given by fn (which writes the new URI into out and returns its length,
 * 0 to keep the element as it is, or a negative errno).  Returns how
 * many were changed, or a negative errno (m unchanged).
 */
typedef int np_map_fn(struct core *c, const char *base, const struct uri *u,
    void *arg, char *out, size_t cap);

static int
np_rewrite(struct core *c, struct msg *m, np_map_fn *fn, void *arg)
{
	const struct msg_naddr *list;
	int n = msg_naddrs(m, HDR_CONTACT, &list);
	char *val = NULL, uri[NP_VALUE_MAX / 2];
	size_t o = 0;
	int changed = 0, rc = 0, first;

	if (n <= 0 || list[0].star) {
		return n < 0 ? -EINVAL : 0;
	}
	val = malloc(NP_VALUE_MAX);
	if (val == NULL) {
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct sv v = msg_sv(m, list[i].value);
		size_t pre = list[i].uri_s.off - list[i].value.off;
		size_t post = pre + list[i].uri_s.len;
		int k = fn(c, msg_buf(m), &list[i].uri, arg, uri, sizeof(uri));
		bool wrap = memchr(v.p, '<', v.len) == NULL;

		if (k < 0) {
			rc = k;
			goto done;
		}
		if (o + v.len + (size_t)k + 8 > NP_VALUE_MAX) {
			rc = -ENOSPC;
			goto done;
		}
		if (o > 0) {
			memcpy(val + o, ", ", 2);
			o += 2;
		}
		if (k == 0) {
			memcpy(val + o, v.p, v.len);
			o += v.len;
			continue;
		}
		changed++;
		memcpy(val + o, v.p, pre);
		o += pre;
		if (wrap) {
			val[o++] = '<';
		}
		memcpy(val + o, uri, (size_t)k);
		o += (size_t)k;
		if (wrap) {
			val[o++] = '>';
		}
		memcpy(val + o, v.p + post, v.len - post);
		o += v.len - post;
	}
	if (changed == 0) {
		goto done;
	}
	/* the first line takes the list, the others go */
	first = msg_hdr_first(m, HDR_CONTACT);
	rc = msg_hdr_replace(m, first, (struct sv){ val, o });
	for (int i = msg_hdr_next(m, first); rc == 0 && i >= 0;
	     i = msg_hdr_next(m, first)) {
		rc = msg_hdr_remove(m, i);
	}
	if (rc == 0) {
		rc = changed;
	}
done:
	free(val);
	return rc;
}

struct np_out {
	const struct tp_src *src, *dst;
};

static int
np_map_out(struct core *c, const char *base, const struct uri *u, void *arg,
    char *out, size_t cap)
{
	const struct np_out *w = arg;

	if (u->scheme != URI_SIP && u->scheme != URI_SIPS) {
		return 0; /* a tel: or other Contact: nothing to route by */
	}
	return np_encode(c, (struct sv){ base + u->all.off, u->all.len },
	    w->src, w->dst, out, cap);
}

static int
np_map_back(struct core *c, const char *base, const struct uri *u,
    void *arg, char *out, size_t cap)
{
	struct tp_src hop;
	int rc = np_decode(c, base, u, out, cap, &hop);

	(void)arg;
	return rc == 0 ? (int)strlen(out) : 0;
}

/* RFC 3327 4.1: does the REGISTER's sender support Path? */
static bool
np_supports_path(struct msg *req)
{
	struct span tags[32];
	int n = msg_hdr_values(req, HDR_SUPPORTED, tags, 32);

	for (int i = 0; i < n; i++) {
		if (sv_caseeq_str(msg_sv(req, tags[i]), "path")) {
			return true;
		}
	}
	return false;
}

/*
 * A client behind a remote NAT is reached only where its NAT maps it: its
 * Contact names an address nobody else reaches.  So sipd's Path entry
 * for its REGISTER carries that flow in its user part (RFC 5626 5.2 does
 * the same with a flow token), signed, with the listener it came to and
 * over TCP and TLS the connection:
 *
 *   sip:fl<base64url(source hop, listener hop, conn)>.<signature>@<sipd>;lr
 *
 * and a request that comes back through that Path goes to the flow
 * (core_path_flow()).  user gets "" for a client that is not behind a
 * NAT; 0, or a negative errno.
 */
static int
flow_user(struct core *c, struct msg *req, const struct tp_src *src,
    char user[FLOW_USER_MAX])
{
	uint8_t blob[FLOW_BLOB];
	struct tp_src local;
	char sig[CORE_MAC_HEX];
	size_t o;

	user[0] = '\0';
	if (!core_nat_far(c, req, src) || src->listener == NULL) {
		return 0;
	}
	memset(&local, 0, sizeof(local));
	local.proto = src->proto;
	tp_listener_addr(src->listener, &local.addr, NULL);
	hop_pack(src, blob);
	hop_pack(&local, blob + NP_HOP);
	conn_pack(src->proto == TP_UDP ? 0 : src->conn_id, blob + 2 * NP_HOP);
	const struct sv parts[1] = { { (const char *)blob, sizeof(blob) } };
	if (core_mac_sign(c->mac, FLOW_LABEL, parts, 1, sig) != 0) {
		return -EIO;
	}
	o = (size_t)snprintf(user, FLOW_USER_MAX, FLOW_PREFIX);
	o += b64_enc(blob, sizeof(blob), user + o);
	user[o++] = '.';
	memcpy(user + o, sig, CORE_MAC_HEX);
	user[o + CORE_MAC_HEX] = '\0';
	return 0;
}

int
core_path_flow(struct core *c, const char *base, const struct uri *u,
    struct tp_src *dst)
{
	uint8_t blob[FLOW_BLOB + 3];
	struct sv user = { base + u->user.off, u->user.len }, enc, sig;
	struct tp_src local;
	const char *dot;
	uint64_t conn = 0;
	int n;

	if (user.len < sizeof(FLOW_PREFIX) + CORE_MAC_HEX ||
	    memcmp(user.p, FLOW_PREFIX, sizeof(FLOW_PREFIX) - 1) != 0 ||
	    (dot = memchr(user.p, '.', user.len)) == NULL) {
		return 1;
	}
	enc = (struct sv){ user.p + 2, (size_t)(dot - user.p) - 2 };
	sig = (struct sv){ dot + 1, user.len - (size_t)(dot + 1 - user.p) };
	n = b64_dec(enc, blob, sizeof(blob));
	if (n != FLOW_BLOB && n != 2 * NP_HOP) {
		return 1;
	}
	const struct sv parts[1] = { { (const char *)blob, (size_t)n } };
	if (!core_mac_verify(c->mac, FLOW_LABEL, parts, 1, sig)) {
		return -EPERM;
	}
	if (hop_unpack(blob, dst) != 0 ||
	    hop_unpack(blob + NP_HOP, &local) != 0) {
		return -EINVAL;
	}
	if (n == FLOW_BLOB) {
		conn = conn_unpack(blob + 2 * NP_HOP);
	}
	if (dst->proto != TP_UDP && n == FLOW_BLOB) {
		/* RFC 5626 5.3: over the client's own connection, or not at
		 * all (430); a shorter token, made before connections were
		 * carried, leaves the transport its choice as it did */
		if (conn == 0) {
			return -EINVAL;
		}
		dst->conn_id = conn;
		dst->flow = true;
	}
	/* RFC 3261 18.2.2 and 5626 5.3: from the socket the flow uses */
	dst->listener = tp_listener_find(c->tp, dst->proto, &local.addr);
	return 0;
}

int
core_path_add(struct core *c, struct msg *fwd, const struct tp_src *src,
    const struct tp_src *dst, unsigned wk)
{
	char addr[TP_ADDRSTRLEN], val[TP_ADDRSTRLEN + FLOW_USER_MAX + 32];
	char peer[TP_ADDRSTRLEN], user[FLOW_USER_MAX];
	int rc;

	if ((wk & WK_NOPATH) != 0) {
		struct np_out w = { src, dst };

		rc = np_rewrite(c, fwd, np_map_out, &w);
		if (rc > 0) {
			log_info(LOG_CLIENT, "workaround, noPath to %s: "
			    "Contact written as sipd's, no Path",
			    core_peer(dst, peer, sizeof(peer)));
		}
		return rc < 0 ? rc : 0;
	}
	if (!np_supports_path(fwd)) {
		return 0; /* RFC 3327 5.1: not without the UA's support */
	}
	if (route_local_addr(c, dst->proto, &dst->addr, addr, sizeof(addr)) !=
	    0 ||
	    flow_user(c, fwd, src, user) != 0) {
		return -EADDRNOTAVAIL;
	}
	/* RFC 3327 4.3: sipd's entry on top of the Path list */
	rc = snprintf(val, sizeof(val), "<sip:%s%s%s%s;lr>", user,
	    user[0] != '\0' ? "@" : "", addr,
	    (wk & WK_NOTCP) != 0 ? ""
		: dst->proto == TP_TCP ? ";transport=tcp"
		: dst->proto == TP_TLS ? ";transport=tls"
				       : "");
	return msg_hdr_insert(fwd, msg_hdr_first(fwd, HDR_PATH), "Path",
		   (struct sv){ val, (size_t)rc }) < 0
	    ? -ENOMEM
	    : 0;
}

void
core_path_restore(struct core *c, struct msg *resp)
{
	if (np_rewrite(c, resp, np_map_back, NULL) > 0) {
		log_info(LOG_CLIENT, "workaround, noPath: %d response with "
		    "the device's Contact again", msg_status(resp));
	}
}

int
core_path_request(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set)
{
	const struct uri *ru = msg_ruri(req);
	char uri[NP_URI_MAX + 1], peer[TP_ADDRSTRLEN];
	struct tp_src hop, d;
	struct uri u;
	bool ps = false;
	int rc;

	if (ru == NULL || ru->user.len == 0) {
		return 1;
	}
	rc = np_decode(c, msg_buf(req), ru, uri, sizeof(uri), &hop);
	if (rc != 0) {
		if (rc < 0) {
			log_notice(LOG_SERVER, "workaround, noPath: a "
			    "Request-URI of sipd's not signed by it (%s)",
			    rc == -EPERM ? "bad signature" : "bad content");
		}
		return rc;
	}
	if (uri_parse(uri, (struct span){ 0, (uint32_t)strlen(uri) }, &u) !=
		0 ||
	    msg_set_ruri(req, (struct sv){ uri, strlen(uri) }) != 0) {
		return -EINVAL;
	}
	/* the device as for a binding of sipd's own (location.c): its Contact
	 * when it names the address the REGISTER came from, over UDP;
	 * otherwise that address (a NAT, or a connection it opened) */
	*dst = hop;
	*proto_set = true;
	if (hop.proto == TP_UDP && route_uri_target(uri, &u, &d, &ps) == 0 &&
	    d.addr.ss_family == hop.addr.ss_family) {
		struct sockaddr_storage x = d.addr, y = hop.addr;

		tp_addr_set_port((struct sockaddr *)&x, 0);
		tp_addr_set_port((struct sockaddr *)&y, 0);
		if (memcmp(&x, &y, tp_addr_len((struct sockaddr *)&x)) == 0) {
			*dst = d;
			*proto_set = ps;
		}
	}
	log_info(LOG_SERVER, "workaround, noPath: request for %s",
	    core_peer(dst, peer, sizeof(peer)));
	return 0;
}
