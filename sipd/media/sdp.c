/*
 * sdp: what the relay needs of SDP (RFC 4566): the connection lines
 * (session and media level), the media lines' ports and protocols, a=rtcp
 * (RFC 3605), a=rtcp-mux (RFC 5761), the direction attributes and the ICE
 * attributes (RFC 8839).  The parser records offsets into the body and
 * never writes it; the rewriter copies the body into the caller's buffer
 * with the relay's address and ports in place.  Every other line is
 * copied as it is.
 *
 * It lives in media/, not msg/: SDP is not SIP syntax, the relay is its
 * only reader, and it works on a body the SIP side hands over (the SIP
 * message then gets the rewritten body as a whole).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "sipd/media/media.h"

struct line {
	uint32_t off;  /* its first byte */
	uint32_t len;  /* without the end of line */
	uint32_t next; /* the next line's first byte */
};

/* The line at off: up to LF, a CR before it not counted. */
static struct line
line_at(const char *buf, uint32_t len, uint32_t off)
{
	struct line l = { off, 0, len };
	const char *nl = memchr(buf + off, '\n', len - off);

	if (nl != NULL) {
		l.next = (uint32_t)(nl - buf) + 1;
		l.len = (uint32_t)(nl - buf) - off;
	} else {
		l.len = len - off;
	}
	if (l.len > 0 && buf[off + l.len - 1] == '\r') {
		l.len--;
	}
	return l;
}

static bool
has_prefix(const char *p, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && strncasecmp(p, word, n) == 0;
}

/* An unsigned decimal of 1-5 digits at most max, ending p..end. */
static int
parse_port(const char *p, size_t len, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 5) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	if (v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

/* The next space-separated token of p[*i..len). */
static bool
next_token(const char *p, size_t len, size_t *i, size_t *start, size_t *n)
{
	while (*i < len && p[*i] == ' ') {
		(*i)++;
	}
	if (*i == len) {
		return false;
	}
	*start = *i;
	while (*i < len && p[*i] != ' ') {
		(*i)++;
	}
	*n = *i - *start;
	return true;
}

/*
 * "IN IP4 192.0.2.1" (RFC 4566 5.7), the value of a c= line or the tail
 * of an a=rtcp line, at buf[off..off+len).
 */
static int
parse_conn(const char *buf, uint32_t off, uint32_t len, struct sdp_conn *c,
    const char **reason)
{
	const char *p = buf + off;
	size_t i = 0, st[3], n[3];
	char ip[INET6_ADDRSTRLEN];

	for (int k = 0; k < 3; k++) {
		if (!next_token(p, len, &i, &st[k], &n[k])) {
			*reason = "connection data needs IN, IP4 or IP6 and an "
			    "address";
			return -SIPD_EPARSE;
		}
	}
	while (i < len && p[i] == ' ') {
		i++;
	}
	if (i != len) {
		*reason = "connection data has words after the address";
		return -SIPD_EPARSE;
	}
	if (n[0] != 2 || strncmp(p + st[0], "IN", 2) != 0) {
		*reason = "connection data's network type is not IN";
		return -SIPD_EPARSE;
	}
	if (n[1] == 3 && strncmp(p + st[1], "IP4", 3) == 0) {
		c->family = AF_INET;
	} else if (n[1] == 3 && strncmp(p + st[1], "IP6", 3) == 0) {
		c->family = AF_INET6;
	} else {
		*reason = "connection data's address type is not IP4 or IP6";
		return -SIPD_EPARSE;
	}
	c->addr.off = off + (uint32_t)st[2];
	c->addr.len = (uint32_t)n[2];
	const char *slash = memchr(p + st[2], '/', n[2]);
	size_t alen = slash != NULL ? (size_t)(slash - (p + st[2])) : n[2];
	if (alen == 0 || alen >= sizeof(ip)) {
		c->family = 0;
		*reason = "connection address is not an IP address";
		return -SIPD_EPARSE;
	}
	memcpy(ip, p + st[2], alen);
	ip[alen] = '\0';
	if (inet_pton(c->family, ip, &c->ip) != 1) {
		c->family = 0;
		*reason = "connection address is not an IP address";
		return -SIPD_EPARSE;
	}
	c->multicast = slash != NULL ||
	    (c->family == AF_INET && (ntohl(c->ip.v4.s_addr) >> 28) == 14) ||
	    (c->family == AF_INET6 && c->ip.v6.s6_addr[0] == 0xff);
	return 0;
}

/* "m=audio 49170 RTP/AVP 0" (RFC 4566 5.14); val is after "m=". */
static int
parse_m(const char *buf, uint32_t off, uint32_t len, struct sdp_media *m,
    const char **reason)
{
	const char *p = buf + off;
	size_t i = 0, st[4], n[4];
	uint32_t port, count = 1;

	for (int k = 0; k < 4; k++) {
		if (!next_token(p, len, &i, &st[k], &n[k])) {
			*reason = "media line needs media, port, protocol and "
			    "a format";
			return -SIPD_EPARSE;
		}
	}
	const char *slash = memchr(p + st[1], '/', n[1]);
	size_t plen = slash != NULL ? (size_t)(slash - (p + st[1])) : n[1];
	if (parse_port(p + st[1], plen, 65535, &port) < 0 ||
	    (slash != NULL && (parse_port(slash + 1, n[1] - plen - 1, 65535,
		&count) < 0 || count == 0))) {
		*reason = "media line's port is not a port";
		return -SIPD_EPARSE;
	}
	m->type = (struct sdp_span){ off + (uint32_t)st[0], (uint32_t)n[0] };
	m->port = (struct sdp_span){ off + (uint32_t)st[1], (uint32_t)n[1] };
	m->proto = (struct sdp_span){ off + (uint32_t)st[2], (uint32_t)n[2] };
	m->rtp_port = (uint16_t)port;
	m->nports = (uint16_t)count;
	m->udp = !has_prefix(p + st[2], n[2], "TCP");
	return 0;
}

/* "a=rtcp:53020 [IN IP4 192.0.2.1]" (RFC 3605 2.1); p after "a=rtcp:". */
static int
parse_rtcp(const char *buf, uint32_t off, uint32_t len, struct sdp_media *m,
    const char **reason)
{
	const char *p = buf + off;
	size_t i = 0;
	uint32_t port;
	struct sdp_conn c = { 0 };

	while (i < len && p[i] >= '0' && p[i] <= '9') {
		i++;
	}
	if (parse_port(p, i, 65535, &port) < 0 ||
	    (i < len && p[i] != ' ')) {
		*reason = "a=rtcp's port is not a port";
		return -SIPD_EPARSE;
	}
	if (i < len && parse_conn(buf, off + (uint32_t)i, len - (uint32_t)i,
	    &c, reason) < 0) {
		return -SIPD_EPARSE;
	}
	m->rtcp_port = (uint16_t)port;
	return 0;
}

static bool
is_ice(const char *p, size_t len)
{
	static const char *const names[] = {
		"candidate", "remote-candidates", "end-of-candidates",
		"ice-ufrag", "ice-pwd", "ice-options", "ice-lite",
		"ice-mismatch", "ice-pacing",
	};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t n = strlen(names[k]);

		if (len >= n && strncmp(p, names[k], n) == 0 &&
		    (len == n || p[n] == ':')) {
			return true;
		}
	}
	return false;
}

static enum sdp_dir
dir_of(const char *p, size_t len)
{
	static const char *const words[] = {
		[SDP_DIR_SENDRECV] = "sendrecv", [SDP_DIR_SENDONLY] = "sendonly",
		[SDP_DIR_RECVONLY] = "recvonly", [SDP_DIR_INACTIVE] = "inactive",
	};

	for (int d = SDP_DIR_SENDRECV; d <= SDP_DIR_INACTIVE; d++) {
		if (len == strlen(words[d]) && memcmp(p, words[d], len) == 0) {
			return (enum sdp_dir)d;
		}
	}
	return SDP_DIR_NONE;
}

int
sdp_parse(struct sdp *s, const char *buf, size_t len, const char **reason,
    uint32_t *off)
{
	const char *why = NULL;
	struct sdp_media *cur = NULL;
	uint32_t pos = 0, at = 0;
	bool after_m = false;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->buf = buf;
	if (len > SDP_MAX_SIZE) {
		why = "SDP body too big";
		rc = -SIPD_ETOOBIG;
		goto fail;
	}
	s->len = (uint32_t)len;
	if (len == 0) {
		why = "empty SDP body";
		rc = -SIPD_EPARSE;
		goto fail;
	}
	while (pos < len) {
		struct line l = line_at(buf, (uint32_t)len, pos);
		const char *p = buf + l.off;
		uint32_t v = l.off + 2, vlen = l.len >= 2 ? l.len - 2 : 0;

		at = l.off;
		pos = l.next;
		if (l.len == 0 && l.off != 0) {
			continue; /* a blank line, often at the end */
		}
		if (l.off == 0 && (l.len != 3 || memcmp(p, "v=0", 3) != 0)) {
			why = "SDP does not start with v=0";
			rc = -SIPD_EPARSE;
			goto fail;
		}
		if (l.len < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
			why = "SDP line is not type=value";
			rc = -SIPD_EPARSE;
			goto fail;
		}
		switch (p[0]) {
		case 'm':
			if (s->nmedia == SDP_MAX_MEDIA) {
				why = "too many media lines";
				rc = -SIPD_ETOOBIG;
				goto fail;
			}
			cur = &s->m[s->nmedia++];
			cur->line = (struct sdp_span){ l.off, l.next - l.off };
			cur->insert = l.next;
			rc = parse_m(buf, v, vlen, cur, &why);
			if (rc < 0) {
				goto fail;
			}
			after_m = true;
			continue;
		case 'i':
			if (cur != NULL && after_m) {
				cur->insert = l.next;
			}
			break;
		case 'c': {
			struct sdp_conn *c = cur != NULL ? &cur->c : &s->c;

			if (c->family != 0) {
				why = "two c= lines in one section";
				rc = -SIPD_EPARSE;
				goto fail;
			}
			rc = parse_conn(buf, v, vlen, c, &why);
			if (rc < 0) {
				goto fail;
			}
			c->line = (struct sdp_span){ l.off, l.next - l.off };
			break;
		}
		case 'a': {
			enum sdp_dir d = dir_of(p + 2, vlen);

			if (d != SDP_DIR_NONE) {
				*(cur != NULL ? &cur->dir : &s->dir) = d;
			} else if (cur == NULL) {
				/* session-level: only the direction counts */
			} else if (vlen >= 5 && memcmp(p + 2, "rtcp:", 5) == 0) {
				if (cur->rtcp.len != 0) {
					why = "two a=rtcp lines in one media";
					rc = -SIPD_EPARSE;
					goto fail;
				}
				rc = parse_rtcp(buf, v + 5, vlen - 5, cur, &why);
				if (rc < 0) {
					goto fail;
				}
				cur->rtcp = (struct sdp_span){ l.off,
				    l.next - l.off };
			} else if (vlen == 8 && memcmp(p + 2, "rtcp-mux", 8) == 0) {
				cur->rtcp_mux = true;
			} else if (is_ice(p + 2, vlen)) {
				cur->ice++;
			}
			break;
		}
		default:
			break;
		}
		after_m = false;
	}
	for (unsigned i = 0; i < s->nmedia; i++) {
		if (s->m[i].c.family == 0 && s->c.family == 0) {
			at = s->m[i].line.off;
			why = "media line with no c= line";
			rc = -SIPD_EPARSE;
			goto fail;
		}
	}
	if (s->nmedia == 0) {
		at = (uint32_t)len;
		why = "SDP with no media line";
		rc = -SIPD_EPARSE;
		goto fail;
	}
	return 0;
fail:
	if (reason != NULL) {
		*reason = why;
	}
	if (off != NULL) {
		*off = at;
	}
	return rc;
}

const struct sdp_conn *
sdp_media_conn(const struct sdp *s, unsigned i)
{
	if (i >= s->nmedia) {
		return NULL;
	}
	return s->m[i].c.family != 0 ? &s->m[i].c : &s->c;
}

int
sdp_media_peer(const struct sdp *s, unsigned i, struct sockaddr_storage *ss)
{
	const struct sdp_conn *c = sdp_media_conn(s, i);

	memset(ss, 0, sizeof(*ss));
	if (c == NULL || c->family == 0 || c->multicast ||
	    s->m[i].rtp_port == 0) {
		return -ENOENT;
	}
	if (c->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (c->ip.v4.s_addr == INADDR_ANY) {
			return -ENOENT; /* RFC 2543 hold */
		}
		sin->sin_family = AF_INET;
		sin->sin_addr = c->ip.v4;
		sin->sin_port = htons(s->m[i].rtp_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&c->ip.v6)) {
			return -ENOENT;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = c->ip.v6;
		sin6->sin6_port = htons(s->m[i].rtp_port);
	}
	return 0;
}

struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void
put(struct out *o, const char *p, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
puts_(struct out *o, const char *p)
{
	put(o, p, strlen(p));
}

/* The end of line of the line at off: "\r\n" or "\n" ("\r\n" if none). */
static const char *
eol_of(const char *buf, uint32_t len, uint32_t off)
{
	struct line l = line_at(buf, len, off);

	return l.off + l.len < len && buf[l.off + l.len] == '\n' ? "\n"
	    : "\r\n";
}

/* Whether the line at off is an ICE attribute. */
static bool
line_is_ice(const char *buf, uint32_t len, uint32_t off)
{
	struct line l = line_at(buf, len, off);

	return l.len > 2 && buf[off] == 'a' && buf[off + 1] == '=' &&
	    is_ice(buf + off + 2, l.len - 2);
}

int
sdp_rewrite(const struct sdp *s, const struct sdp_rewrite *rw, char *out,
    size_t cap, size_t *outlen)
{
	const char *buf = s->buf;
	struct out o = { out, cap, 0, false };
	char ip[INET6_ADDRSTRLEN], conn[INET6_ADDRSTRLEN + 16], num[16];
	bool any = false;
	int cur = -1;
	uint32_t pos = 0;

	if (rw->addr == NULL) {
		return -EAFNOSUPPORT;
	}
	if (rw->addr->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)rw->addr)->
		    sin_addr, ip, sizeof(ip));
		snprintf(conn, sizeof(conn), "IN IP4 %s", ip);
	} else if (rw->addr->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)rw->addr)->
		    sin6_addr, ip, sizeof(ip));
		snprintf(conn, sizeof(conn), "IN IP6 %s", ip);
	} else {
		return -EAFNOSUPPORT;
	}
	for (unsigned i = 0; i < s->nmedia; i++) {
		any |= rw->port[i] != 0;
	}
	while (pos < s->len) {
		struct line l = line_at(buf, s->len, pos);
		const char *eol = eol_of(buf, s->len, pos);
		bool relayed;

		/* a line left alone keeps the session's old address */
		if (cur >= 0 && any && rw->port[cur] == 0 &&
		    s->m[cur].c.family == 0 && s->c.family != 0 &&
		    pos == s->m[cur].insert) {
			put(&o, buf + s->c.line.off, s->c.line.len);
			if (buf[s->c.line.off + s->c.line.len - 1] != '\n') {
				puts_(&o, "\r\n");
			}
		}
		pos = l.next;
		if ((unsigned)(cur + 1) < s->nmedia &&
		    l.off == s->m[cur + 1].line.off) {
			cur++;
		}
		relayed = cur >= 0 && rw->port[cur] != 0;
		if (any && l.off == s->c.line.off && s->c.family != 0) {
			put(&o, "c=", 2);
			puts_(&o, conn);
			puts_(&o, eol);
			continue;
		}
		if (relayed && l.off == s->m[cur].line.off) {
			const struct sdp_media *m = &s->m[cur];

			put(&o, buf + l.off, m->port.off - l.off);
			snprintf(num, sizeof(num), "%u", rw->port[cur]);
			puts_(&o, num);
			put(&o, buf + m->port.off + m->port.len,
			    l.next - (m->port.off + m->port.len));
			continue;
		}
		if (relayed && s->m[cur].c.family != 0 &&
		    l.off == s->m[cur].c.line.off) {
			put(&o, "c=", 2);
			puts_(&o, conn);
			puts_(&o, eol);
			continue;
		}
		if (relayed && s->m[cur].rtcp.len != 0 &&
		    l.off == s->m[cur].rtcp.off) {
			/* RFC 5761 5.1.3: multiplexed, a=rtcp names the RTP
			 * port, which the relay's RTP socket carries both on */
			bool mux = s->m[cur].rtcp_mux &&
			    s->m[cur].rtcp_port == s->m[cur].rtp_port;
			snprintf(num, sizeof(num), "%u",
			    (unsigned)rw->port[cur] + (mux ? 0 : 1));
			puts_(&o, "a=rtcp:");
			puts_(&o, num);
			put(&o, " ", 1);
			puts_(&o, conn);
			puts_(&o, eol);
			continue;
		}
		if (rw->drop_ice && any && (cur < 0 || relayed) &&
		    line_is_ice(buf, s->len, l.off)) {
			continue;
		}
		put(&o, buf + l.off, l.next - l.off);
	}
	/* the last media line ended the body: its c= goes after it */
	if (cur >= 0 && any && rw->port[cur] == 0 &&
	    s->m[cur].c.family == 0 && s->c.family != 0 &&
	    s->m[cur].insert == s->len) {
		if (o.len > 0 && out[o.len - 1] != '\n' && !o.full) {
			puts_(&o, "\r\n");
		}
		put(&o, buf + s->c.line.off, s->c.line.len);
	}
	if (o.full) {
		return -SIPD_ETOOBIG;
	}
	*outlen = o.len;
	return 0;
}
