/*
 * Typed header values, parsed on first access and cached in the message's
 * arena: Via (RFC 3261 20.42, RFC 3581), name-addr headers (From, To,
 * Contact, Route, Record-Route, Path: 20.10, 20.20, 20.39), CSeq, the
 * numeric headers, Content-Type and the Digest credentials and challenges
 * (25.1, RFC 7616).  A malformed value is cached as malformed, so a bad
 * header costs one parse however often it is asked for.
 */
#include <arpa/inet.h>
#include <limits.h>

#include "sipd/msg/msg_int.h"

/* What inet_pton(AF_INET) accepts, without copying to terminate the text. */
static bool
ipv4_ok(const char *p, const char *e)
{
	uint8_t b[4];

	return uri_ipv4(p, (size_t)(e - p), true, b);
}

/* Host of a Via sent-by or a parameter value: type, or -1 when bad. */
static int
host_type(const char *p, const char *e)
{
	uint8_t a[16];
	size_t n = (size_t)(e - p);

	if (n == 0) {
		return -1;
	}
	if (*p == '[') {
		if (n < 4 || e[-1] != ']') {
			return -1;
		}
		return uri_ipv6(p + 1, n - 2, a) ? URI_HOST_IPV6 : -1;
	}
	bool digits_dots = true;
	for (const char *q = p; q < e; q++) {
		unsigned char c = (unsigned char)*q;
		if (!ch_is(c, CH_ALPHA | CH_DIGIT) && c != '-' && c != '.') {
			return -1;
		}
		if (!ch_is(c, CH_DIGIT) && c != '.') {
			digits_dots = false;
		}
	}
	if (digits_dots) {
		return ipv4_ok(p, e) ? URI_HOST_IPV4 : -1;
	}
	if (*p == '-' || *p == '.') {
		return -1;
	}
	return URI_HOST_NAME;
}

/*
 * skip_token() for a parameter's value, often long (a branch, a tag, an
 * address): sixteen bytes at a time while they are letters, digits, '-'
 * or '.', all token characters; the bytes from lo to e may be read (lo
 * at most p), so that the last sixteen before e are loaded from e - 16
 * and shifted when p is nearer e than that.  The byte loop goes on from
 * where the masks stop, through the rarer token characters.
 */
static inline const char *
skip_token_value(const char *lo, const char *p, const char *e)
{
#ifdef __SSE2__
	unsigned g, s, d;

	while (e - p >= 16) {
		ch_host_masks16(p, &g, &s, &d);
		if (g != 0xffff) {
			return skip_token(p + __builtin_ctz(~g), e);
		}
		p += 16;
	}
	if (p < e && e - lo >= 16) {
		ch_host_masks16(e - 16, &g, &s, &d);
		g >>= 16 - (e - p);
		p += __builtin_ctz(~g);
	}
#else
	(void)lo;
#endif
	return skip_token(p, e);
}

/*
 * skip_quoted() for a quoted value, often long and plain (a nonce, a
 * response, a URI): sixteen bytes at a time while they hold neither a
 * quote nor a backslash, then skip_quoted() itself from the first that
 * does, which it reads as it would have.  Reads only inside [p, e).
 */
const char *
msg_skip_quoted16(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i dq = _mm_set1_epi8('"');
	const __m128i bs = _mm_set1_epi8('\\');
	const char *q = p + 1;

	while (e - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		unsigned mk = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)));

		if (mk != 0) {
			q += __builtin_ctz(mk);
			break;
		}
		q += 16;
	}
	/* skip_quoted() steps over the byte it is given, as over the
	 * opening quote: every byte from p + 1 to q was plain */
	p = q - 1;
#endif
	return skip_quoted(p, e);
}

/*
 * One generic parameter: ';' already consumed.  name is a token; the value
 * is a token, a quoted string or an address (with ':' and brackets).  The
 * returned value excludes quotes.  Returns the position after it, or NULL.
 * The bytes from lo (at most p) to e may be read.
 */
static inline __attribute__((always_inline)) const char *
next_param(const char *lo, const char *p, const char *e, const char **ns,
    const char **ne, const char **vs, const char **ve)
{
	p = skip_ws(p, e);
	*ns = p;
	p = skip_token(p, e);
	*ne = p;
	*vs = *ve = NULL;
	if (*ns == p) {
		return NULL;
	}
	p = skip_ws(p, e);
	if (p < e && *p == '=') {
		p = skip_ws(p + 1, e);
		if (p < e && *p == '"') {
			const char *q = msg_skip_quoted16(p, e);
			if (q == NULL) {
				return NULL;
			}
			*vs = p + 1;
			*ve = q - 1;
			p = q;
		} else {
			const char *q = skip_token_value(lo, p, e);
			/* the bytes of an address beyond a token are rare:
			 * the token's class alone tests most bytes */
			while (q < e && (*q == ':' || *q == '[' || *q == ']')) {
				q = skip_token(q + 1, e);
			}
			if (q == p) {
				return NULL;
			}
			*vs = p;
			*ve = q;
			p = q;
		}
	}
	return skip_ws(p, e);
}

/*
 * A parameter name against a name without NUL, case-insensitively; the
 * length first, so most names cost one compare.
 */
static inline bool
name_is(const char *p, const char *e, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(e - p) != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (ch_lower((unsigned char)p[i]) !=
		    ch_lower((unsigned char)name[i])) {
			return false;
		}
	}
	return true;
}

/*
 * Whether the token p[0..n) is the name lit, of n lower-case letters (n
 * from 2 to 8, a constant where it is inlined), in any case: two words
 * loaded inside the token, overlapping when n is not a power of two.
 * Setting 0x20 turns exactly 'A'-'Z' into 'a'-'z'; the only other token
 * byte without 0x20, '_', becomes DEL, no letter.
 */
static inline bool
token_is(const char *p, size_t n, const char *lit)
{
	if (n >= 4) {
		uint32_t a, b, x, y;

		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		memcpy(&x, lit, 4);
		memcpy(&y, lit + n - 4, 4);
		return (((a | 0x20202020u) ^ x) | ((b | 0x20202020u) ^ y)) == 0;
	}
	uint16_t a, b, x, y;

	memcpy(&a, p, 2);
	memcpy(&b, p + n - 2, 2);
	memcpy(&x, lit, 2);
	memcpy(&y, lit + n - 2, 2);
	return (((a | 0x2020u) ^ x) | ((b | 0x2020u) ^ y)) == 0;
}

/* The Via parameters parse_via() keeps (RFC 3261 20.42, RFC 3581). */
enum via_pname {
	VP_OTHER,
	VP_BRANCH,
	VP_RECEIVED,
	VP_MADDR,
	VP_TTL,
	VP_RPORT,
};

/* A Via parameter's name, a token, by its length first. */
static inline enum via_pname
via_pname(const char *ns, const char *ne)
{
	switch (ne - ns) {
	case 3:
		return token_is(ns, 3, "ttl") ? VP_TTL : VP_OTHER;
	case 5:
		return token_is(ns, 5, "rport") ? VP_RPORT
		    : token_is(ns, 5, "maddr")  ? VP_MADDR
						: VP_OTHER;
	case 6:
		return token_is(ns, 6, "branch") ? VP_BRANCH : VP_OTHER;
	case 8:
		return token_is(ns, 8, "received") ? VP_RECEIVED : VP_OTHER;
	default:
		return VP_OTHER;
	}
}

static int
port_parse(const char *p, const char *e, uint16_t *port)
{
	uint64_t v;

	if (msg_parse_uint(p, e, 65535, &v) != 0 || v == 0 || e - p > 5) {
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* A token at p into *out; returns the position after it, NULL if none. */
static const char *
token_span(struct msg *m, const char *p, const char *e, struct span *out)
{
	const char *q = skip_token(p, e);

	if (q == p) {
		return NULL;
	}
	*out = mkspan(m, p, q);
	return q;
}

/* LWS, the separator c, LWS; returns the position after, NULL if no c. */
static const char *
expect_sep(const char *p, const char *e, char c)
{
	p = skip_ws(p, e);
	if (p == e || *p != c) {
		return NULL;
	}
	return skip_ws(p + 1, e);
}

/*
 * RFC 3261 20.42 via-parm, from p to e (one list element).
 *
 * With list, e is the end of a whole header value and the element ends at
 * the first ',' found where a parameter could follow, which is *end on
 * success.  A via-parm holds no ',', '<', '>' or '"' outside its quoted
 * parameter values, so when this parse succeeds that ',' is the one
 * msg_find_comma() finds, and the result is the bounded parse's: every
 * scan stops at the ',' as it would at the bound.  When it fails, the
 * caller parses again with the bound, which decides.
 */
static int
parse_via(struct msg *m, const char *p, const char *e, int hdr,
    struct msg_via *v, bool list, const char **end)
{
	const char *q, *ns, *ne, *vs, *ve, *start, *params = NULL;
	int t;

#define VIA_END(x) ((x) == e || (list && *(x) == ','))
	memset(v, 0, sizeof(*v));
	v->rport_value = -1;
	v->ttl = -1;
	v->hdr = hdr;
	p = skip_ws(p, e);
	if (!list) {
		e = rtrim_ws(p, e);
	}
	start = p;

	/* sent-protocol = protocol-name SLASH protocol-version SLASH
	 * transport, with LWS allowed around the slashes.  Nearly every
	 * Via starts "SIP/2.0/": one compare finds the two first parts
	 * where the scans below would, and the transport is scanned */
	if (e - p > 8 && memcmp(p, "SIP/2.0/", 8) == 0) {
		v->protocol = mkspan(m, p, p + 3);
		v->version = mkspan(m, p + 4, p + 7);
		q = skip_ws(p + 8, e);
		if ((q = token_span(m, q, e, &v->transport)) == NULL) {
			return -EINVAL;
		}
	} else if ((q = token_span(m, p, e, &v->protocol)) == NULL ||
	    (p = expect_sep(q, e, '/')) == NULL ||
	    (q = token_span(m, p, e, &v->version)) == NULL ||
	    (p = expect_sep(q, e, '/')) == NULL ||
	    (q = token_span(m, p, e, &v->transport)) == NULL) {
		return -EINVAL;
	}
	p = skip_ws(q, e);
	if (p == q || VIA_END(p)) {
		return -EINVAL;
	}

	/* sent-by = host [ COLON port ] */
	if (*p == '[') {
		q = memchr(p, ']', (size_t)(e - p));
		if (q == NULL) {
			return -EINVAL;
		}
		q++;
		t = host_type(p, q);
	} else {
		/* host_type() of what this scan accepts, in the same pass:
		 * digits and dots first, then the rest of a name */
		bool digits_dots, quad;
		q = ch_ipv4_run(p, e, true, &quad);
		digits_dots = q == e ||
		    !(ch_is((unsigned char)*q, CH_ALPHA) || *q == '-');
#ifdef __SSE2__
		/* a name's bytes, up to 31 of them, as one mask */
		if (!digits_dots && e - q >= 16) {
			size_t n = (size_t)(e - q);
			unsigned g0, g1, s, d;
			uint32_t good;

			ch_host_masks_at(q, n, 0, &g0, &s, &d);
			ch_host_masks_at(q, n, 16, &g1, &s, &d);
			good = g0 | g1 << 16;
			q += good != UINT32_MAX ? __builtin_ctz(~good) : 32;
		}
#endif
		while (q < e && (ch_is((unsigned char)*q, CH_ALPHA | CH_DIGIT) ||
		    *q == '-' || *q == '.')) {
			q++;
		}
		if (q == p) {
			t = -1;
		} else if (digits_dots) {
			t = quad ? URI_HOST_IPV4 : -1;
		} else {
			t = *p == '-' || *p == '.' ? -1 : URI_HOST_NAME;
		}
	}
	if (t < 0) {
		return -EINVAL;
	}
	v->host_type = (uint8_t)t;
	v->host = mkspan(m, p, q);
	p = skip_ws(q, e);
	if (p < e && *p == ':') {
		p = skip_ws(p + 1, e);
		q = p;
		while (q < e && ch_is((unsigned char)*q, CH_DIGIT)) {
			q++;
		}
		if (port_parse(p, q, &v->port) != 0) {
			return -EINVAL;
		}
		p = skip_ws(q, e);
	}

	if (!VIA_END(p)) {
		params = p + 1;
	}
	while (!VIA_END(p)) {
		if (*p != ';') {
			return -EINVAL;
		}
		p = next_param(start, p + 1, e, &ns, &ne, &vs, &ve);
		if (p == NULL) {
			return -EINVAL;
		}
		switch (via_pname(ns, ne)) {
		case VP_BRANCH:
			if (vs == NULL || ve == vs) {
				return -EINVAL;
			}
			v->branch = mkspan(m, vs, ve);
			break;
		case VP_RECEIVED:
			if (vs == NULL) {
				return -EINVAL;
			}
			v->received = mkspan(m, vs, ve);
			break;
		case VP_MADDR:
			if (vs == NULL) {
				return -EINVAL;
			}
			v->maddr = mkspan(m, vs, ve);
			break;
		case VP_TTL: {
			uint64_t ttl;
			if (vs == NULL || msg_parse_uint(vs, ve, 255, &ttl) != 0) {
				return -EINVAL;
			}
			v->ttl = (int32_t)ttl;
			break;
		}
		case VP_RPORT: {
			uint16_t port;
			v->rport = true;
			if (vs != NULL) {
				if (port_parse(vs, ve, &port) != 0) {
					return -EINVAL;
				}
				v->rport_value = port;
			}
			break;
		}
		default:
			break;
		}
	}
#undef VIA_END
	if (list) {
		*end = p;
		e = rtrim_ws(start, p);
	}
	v->value = mkspan(m, start, e);
	if (params != NULL) {
		v->params = mkspan(m, params, e);
	}
	return 0;
}

const struct msg_via *
msg_via_top(struct msg *m)
{
	if (m->via_top_state == 0) {
		int i = m->first[HDR_VIA];
		m->via_top_state = -1;
		if (i >= 0) {
			struct sv s = msg_sv(m, m->hdrs[i].value);
			const char *e = s.p + s.len, *c;
			/* one pass finds the value and its end; only a
			 * failure pays for the exact element bounds */
			if (parse_via(m, s.p, e, i, &m->via_top, true,
			    &c) != 0) {
				c = msg_find_comma(s.p, e);
				if (c == NULL || parse_via(m, s.p, c, i,
				    &m->via_top, false, NULL) != 0) {
					return NULL;
				}
			}
			m->via_top_state = 1;
			m->via_top_comma = c < e ? (uint32_t)(c - m->buf) : 0;
		}
	}
	return m->via_top_state > 0 ? &m->via_top : NULL;
}

/*
 * Where list_get() remembers the ends of the first elements while it
 * counts them, so it scans for commas once; a longer list scans again.
 */
#define LIST_ENDS 16

/*
 * Count the list elements of the headers chained from f, the first of
 * its id; -EINVAL on bad quoting.  The ends of the first LIST_ENDS
 * elements go to ends.
 */
static int
count_elements(struct msg *m, int f, bool list, const char **ends)
{
	int n = 0;

	for (int i = f; i >= 0; i = m->hdrs[i].next) {
		const char *p = m->buf + m->hdrs[i].value.off;
		const char *e = p + m->hdrs[i].value.len;
		if (!list) {
			if (n < LIST_ENDS) {
				ends[n] = e;
			}
			n++;
			continue;
		}
		do {
			const char *c = msg_find_comma(p, e);
			if (c == NULL) {
				return -EINVAL;
			}
			if (n < LIST_ENDS) {
				ends[n] = c;
			}
			n++;
			p = c + 1;
		} while (p <= e);
	}
	return n;
}

typedef int (*elem_parse_fn)(struct msg *m, const char *p, const char *e,
    int hdr, void *item);

/*
 * Parse (or return the cached parse of) every element of every header of
 * id into an arena array of items of size sz.  Returns the count or
 * -EINVAL.
 */
static int
list_get(struct msg *m, enum hdr_id id, enum list_kind kind, size_t sz,
    elem_parse_fn fn, void **out)
{
	/* the items follow the cache entry in one allocation, aligned as
	 * msg_alloc() aligns */
	const size_t lc_size = (sizeof(struct list_cache) + 15) & ~(size_t)15;
	const char *ends[LIST_ENDS];
	int f = m->first[id];
	struct list_cache *lc;
	bool list;

	*out = NULL;
	if (f < 0) {
		return 0;
	}
	lc = m->hdrs[f].cache;
	if (lc != NULL && lc->kind == kind) {
		*out = lc->items;
		return lc->state > 0 ? lc->count : -EINVAL;
	}
	list = hdr_is_list(id);
	/*
	 * One header, one element (From, To, Content-Type; a Contact or
	 * Route line without a comma): no count, no ends.  A name-addr
	 * holds a '"' only in its display name or a parameter's value,
	 * where an unterminated one fails its parse: msg_find_comma()'s
	 * verdict on quotes, NULL, adds nothing there.
	 */
	if (m->hdrs[f].next < 0 &&
	    (!list || ((kind == LK_NADDR || kind == LK_CONTACT) &&
		memchr(m->buf + m->hdrs[f].value.off, ',',
		    m->hdrs[f].value.len) == NULL))) {
		const char *p = m->buf + m->hdrs[f].value.off;

		lc = msg_alloc(m, lc_size + sz);
		if (lc == NULL) {
			return -ENOMEM;
		}
		lc->kind = (uint8_t)kind;
		lc->count = 0;
		lc->items = NULL;
		m->hdrs[f].cache = lc;
		if (fn(m, p, p + m->hdrs[f].value.len, f,
		    (char *)lc + lc_size) != 0) {
			lc->state = -1;
			return -EINVAL;
		}
		lc->items = (char *)lc + lc_size;
		lc->count = 1;
		lc->state = 1;
		*out = lc->items;
		return 1;
	}
	int n = count_elements(m, f, list, ends);
	lc = msg_alloc(m, lc_size + (n > 0 ? sz * (size_t)n : 0));
	if (lc == NULL) {
		return -ENOMEM;
	}
	/* cached as malformed until every element has parsed */
	lc->kind = (uint8_t)kind;
	lc->state = -1;
	lc->count = 0;
	lc->items = NULL;
	m->hdrs[f].cache = lc;
	if (n < 0) {
		return -EINVAL;
	}
	char *items = (char *)lc + lc_size;
	int k = 0;
	for (int i = f; i >= 0; i = m->hdrs[i].next) {
		const char *p = m->buf + m->hdrs[i].value.off;
		const char *e = p + m->hdrs[i].value.len;
		do {
			const char *c = k < LIST_ENDS ? ends[k]
			    : list ? msg_find_comma(p, e) : e;
			if (fn(m, p, c, i, items + sz * (size_t)k) != 0) {
				return -EINVAL;
			}
			k++;
			p = c + 1;
		} while (p <= e);
	}
	lc->items = items;
	lc->count = k;
	lc->state = 1;
	*out = items;
	return k;
}

static int
via_elem(struct msg *m, const char *p, const char *e, int hdr, void *item)
{
	/* the top value parses as msg_via_top() parsed it: the same bytes
	 * from the start of the first Via line to the same comma */
	if (m->via_top_state > 0 && hdr == m->via_top.hdr &&
	    p == m->buf + m->hdrs[hdr].value.off) {
		memcpy(item, &m->via_top, sizeof(m->via_top));
		return 0;
	}
	return parse_via(m, p, e, hdr, item, false, NULL);
}

/*
 * The cached list of kind on the first header of id, or NULL when there
 * is none yet.
 */
static inline const struct list_cache *
list_cached(const struct msg *m, enum hdr_id id, enum list_kind kind)
{
	int f = m->first[id];
	const struct list_cache *lc;

	if (f < 0) {
		return NULL;
	}
	lc = m->hdrs[f].cache;
	return lc != NULL && lc->kind == kind ? lc : NULL;
}

int
msg_vias(struct msg *m, const struct msg_via **out)
{
	const size_t lc_size = (sizeof(struct list_cache) + 15) & ~(size_t)15;
	int f = m->first[HDR_VIA];
	struct list_cache *lc;
	void *items;
	int n;

	/* one Via line holding one value, the top Via: the list is that
	 * parse, as list_get() would find it (msg_find_comma() finds no
	 * comma where the top Via's parse found none) */
	if (f >= 0 && m->hdrs[f].next < 0 && m->hdrs[f].cache == NULL &&
	    msg_via_top(m) != NULL && m->via_top_comma == 0) {
		lc = msg_alloc(m, lc_size + sizeof(struct msg_via));
		if (lc == NULL) {
			return -ENOMEM;
		}
		items = (char *)lc + lc_size;
		memcpy(items, &m->via_top, sizeof(m->via_top));
		lc->kind = LK_VIA;
		lc->state = 1;
		lc->count = 1;
		lc->items = items;
		m->hdrs[f].cache = lc;
		if (out != NULL) {
			*out = items;
		}
		return 1;
	}
	n = list_get(m, HDR_VIA, LK_VIA, sizeof(struct msg_via), via_elem,
	    &items);

	if (out != NULL) {
		*out = items;
	}
	return n;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int
qvalue_parse(const char *p, const char *e, int16_t *q)
{
	int v, scale = 100;

	if (p == e || (*p != '0' && *p != '1')) {
		return -EINVAL;
	}
	v = (*p - '0') * 1000;
	p++;
	if (p < e) {
		if (*p != '.' || e - p > 4) {
			return -EINVAL;
		}
		for (p++; p < e; p++, scale /= 10) {
			if (!ch_is((unsigned char)*p, CH_DIGIT)) {
				return -EINVAL;
			}
			v += (*p - '0') * scale;
		}
	}
	if (v > 1000) {
		return -EINVAL;
	}
	*q = (int16_t)v;
	return 0;
}

/* delta-seconds, saturating at max (a Contact expires parameter) */
static int
delta_parse(const char *p, const char *e, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (p == e) {
		return -EINVAL;
	}
	for (; p < e; p++) {
		if (!ch_is((unsigned char)*p, CH_DIGIT)) {
			return -EINVAL;
		}
		if (v <= max) {
			v = v * 10 + (uint64_t)(*p - '0');
		}
	}
	*out = v > max ? max : v;
	return 0;
}

/*
 * name-addr / addr-spec followed by header parameters (RFC 3261 20.10):
 *   [ display-name ] LAQUOT addr-spec RAQUOT *( SEMI param )
 *   addr-spec *( SEMI param )      -- here every ';' starts a header param
 */
static int
parse_naddr(struct msg *m, const char *p, const char *e, int hdr,
    struct msg_naddr *na, bool contact)
{
	const char *q, *ns, *ne, *vs, *ve, *na_lo;

	memset(na, 0, sizeof(*na));
	na->expires = -1;
	na->q = -1;
	na->hdr = hdr;
	p = skip_ws(p, e);
	e = rtrim_ws(p, e);
	na_lo = p;
	na->value = mkspan(m, p, e);
	if (p == e) {
		return -EINVAL;
	}
	if (contact && e - p == 1 && *p == '*') {
		na->star = true;
		return 0;
	}
	if (*p == '"') {
		q = msg_skip_quoted16(p, e);
		if (q == NULL) {
			return -EINVAL;
		}
		na->display = mkspan(m, p, q);
		p = skip_ws(q, e);
		if (p == e || *p != '<') {
			return -EINVAL;
		}
	} else {
		/* display-name as tokens: look for '<' after them */
		q = p;
		while (q < e && (ch_is((unsigned char)*q, CH_TOKEN | CH_WS))) {
			q++;
		}
		if (q < e && *q == '<') {
			na->display = mkspan(m, p, rtrim_ws(p, q));
			p = q;
		}
	}
	if (*p == '<') {
		q = memchr(p, '>', (size_t)(e - p));
		if (q == NULL) {
			return -EINVAL;
		}
		na->uri_s = mkspan(m, p + 1, q);
		p = skip_ws(q + 1, e);
	} else {
		q = p;
		while (q < e && *q != ';' && !ch_is((unsigned char)*q, CH_WS)) {
			q++;
		}
		na->uri_s = mkspan(m, p, q);
		p = skip_ws(q, e);
	}
	if (uri_parse(m->buf, na->uri_s, &na->uri) != 0) {
		return -EINVAL;
	}
	if (p < e) {
		na->params = mkspan(m, p + 1, e);
	}
	while (p < e) {
		if (*p != ';') {
			return -EINVAL;
		}
		p = next_param(na_lo, p + 1, e, &ns, &ne, &vs, &ve);
		if (p == NULL) {
			return -EINVAL;
		}
		if (ne - ns == 3 && token_is(ns, 3, "tag")) {
			if (vs == NULL || ve == vs) {
				return -EINVAL;
			}
			na->tag = mkspan(m, vs, ve);
		} else if (contact && ne - ns == 7 &&
		    token_is(ns, 7, "expires")) {
			uint64_t x;
			if (vs == NULL || delta_parse(vs, ve, INT32_MAX, &x)) {
				return -EINVAL;
			}
			na->expires = (int32_t)x;
		} else if (contact && ne - ns == 1 && (*ns | 0x20) == 'q') {
			if (vs == NULL || qvalue_parse(vs, ve, &na->q) != 0) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int
naddr_elem(struct msg *m, const char *p, const char *e, int hdr, void *item)
{
	return parse_naddr(m, p, e, hdr, item, false);
}

static int
contact_elem(struct msg *m, const char *p, const char *e, int hdr,
    void *item)
{
	return parse_naddr(m, p, e, hdr, item, true);
}

int
msg_naddrs(struct msg *m, enum hdr_id id, const struct msg_naddr **out)
{
	void *items = NULL;
	int n;

	switch (id) {
	case HDR_VIA:
	case HDR_CSEQ:
	case HDR_CONTENT_TYPE:
	case HDR_AUTHORIZATION:
	case HDR_PROXY_AUTHORIZATION:
	case HDR_WWW_AUTHENTICATE:
	case HDR_PROXY_AUTHENTICATE:
	case HDR_UNKNOWN:
		n = -EINVAL;
		break;
	case HDR_CONTACT:
		n = list_get(m, id, LK_CONTACT, sizeof(struct msg_naddr),
		    contact_elem, &items);
		break;
	default:
		if ((unsigned)id >= HDR__COUNT) {
			n = -EINVAL;
			break;
		}
		n = list_get(m, id, LK_NADDR, sizeof(struct msg_naddr),
		    naddr_elem, &items);
		break;
	}
	if (out != NULL) {
		*out = items;
	}
	return n;
}

/*
 * From or To: the cached parse when there is one, at the cost of two
 * loads and compares, as both are asked for many times a message.
 */
static inline const struct msg_naddr *
single_naddr(struct msg *m, enum hdr_id id)
{
	const size_t lc_size = (sizeof(struct list_cache) + 15) & ~(size_t)15;
	const struct msg_naddr *na;
	int f = m->first[id];
	struct list_cache *lc;

	if (f < 0) {
		return NULL;
	}
	lc = m->hdrs[f].cache;
	if (lc != NULL && lc->kind == LK_NADDR) {
		return lc->state > 0 && lc->count > 0 ? lc->items : NULL;
	}
	if (lc != NULL || m->hdrs[f].next >= 0) {
		return msg_naddrs(m, id, &na) > 0 ? na : NULL;
	}
	/* the first parse of the one header, From and To being no lists:
	 * what list_get() does for it, without its calls */
	const char *p = m->buf + m->hdrs[f].value.off;
	struct msg_naddr *item;

	lc = msg_alloc(m, lc_size + sizeof(*item));
	if (lc == NULL) {
		return NULL;
	}
	item = (struct msg_naddr *)(void *)((char *)lc + lc_size);
	lc->kind = LK_NADDR;
	lc->count = 0;
	lc->items = NULL;
	m->hdrs[f].cache = lc;
	if (parse_naddr(m, p, p + m->hdrs[f].value.len, f, item, false) != 0) {
		lc->state = -1;
		return NULL;
	}
	lc->items = item;
	lc->count = 1;
	lc->state = 1;
	return item;
}

const struct msg_naddr *
msg_from(struct msg *m)
{
	return single_naddr(m, HDR_FROM);
}

const struct msg_naddr *
msg_to(struct msg *m)
{
	return single_naddr(m, HDR_TO);
}

bool
msg_naddr_param(const struct msg *m, const struct msg_naddr *na,
    const char *name, struct sv *val)
{
	struct sv s = msg_sv(m, na->params);
	const char *p = s.p - 1, *e = s.p + s.len;
	const char *ns, *ne, *vs, *ve;

	if (na->params.len == 0) {
		return false;
	}
	while (p < e && *p == ';') {
		p = next_param(s.p, p + 1, e, &ns, &ne, &vs, &ve);
		if (p == NULL) {
			return false;
		}
		if (name_is(ns, ne, name)) {
			if (val != NULL) {
				*val = vs ? (struct sv){ vs, (size_t)(ve - vs) }
					  : (struct sv){ ne, 0 };
			}
			return true;
		}
	}
	return false;
}

const struct msg_cseq *
msg_cseq(struct msg *m)
{
	if (m->cseq_state == 0) {
		int i = m->first[HDR_CSEQ];
		const char *p, *e, *q;
		uint64_t v = 0;

		m->cseq_state = -1;
		if (i < 0) {
			return NULL;
		}
		p = m->buf + m->hdrs[i].value.off;
		e = p + m->hdrs[i].value.len;
		/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16): one to ten
		 * digits, read as they are scanned (ten stay under 2^64),
		 * at most 2^32 - 1 */
		for (q = p; q < e && ch_is((unsigned char)*q, CH_DIGIT); q++) {
			v = v * 10 + (uint64_t)(*q - '0');
			if (q - p == 10) {
				return NULL;
			}
		}
		if (q == p || v > UINT32_MAX) {
			return NULL;
		}
		p = skip_ws(q, e);
		if (p == q) {
			return NULL;
		}
		q = skip_token(p, e);
		if (q == p || q != e) {
			return NULL;
		}
		m->cseq.num = (uint32_t)v;
		m->cseq.method_s = mkspan(m, p, q);
		/* a request's CSeq names its own method (msg_check() holds
		 * it to that): the request line's lookup, when the bytes
		 * are the same */
		if (m->is_request && m->method_s.len == (uint32_t)(q - p) &&
		    memcmp(m->buf + m->method_s.off, p, (size_t)(q - p)) == 0) {
			m->cseq.method = m->method;
		} else {
			m->cseq.method =
			    (uint8_t)msg_method_lookup(p, (size_t)(q - p));
		}
		m->cseq_state = 1;
	}
	return m->cseq_state > 0 ? &m->cseq : NULL;
}

struct sv
msg_callid(struct msg *m)
{
	return msg_hdr_value(m, HDR_CALL_ID);
}

static int
number_hdr(struct msg *m, enum hdr_id id, uint64_t max, bool saturate,
    uint32_t *out)
{
	struct sv s;
	uint64_t v;
	int rc;

	if (m->first[id] < 0) {
		return -ENOENT;
	}
	s = msg_hdr_value(m, id);
	rc = saturate ? delta_parse(s.p, s.p + s.len, max, &v)
		      : msg_parse_uint(s.p, s.p + s.len, max, &v);
	if (rc != 0) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int
msg_max_forwards(struct msg *m, uint32_t *out)
{
	/* RFC 3261 20.22: 0-255 in practice; more is a malformed value */
	return number_hdr(m, HDR_MAX_FORWARDS, 255, false, out);
}

int
msg_content_length(struct msg *m, uint32_t *out)
{
	if (!m->cl_present) {
		return -ENOENT;
	}
	if (m->cl_bad) {
		return -EINVAL;
	}
	*out = m->cl;
	return 0;
}

int
msg_expires(struct msg *m, uint32_t *out)
{
	/* RFC 3261 20.19: delta-seconds from 0 to (2**32)-1 */
	return number_hdr(m, HDR_EXPIRES, UINT32_MAX, false, out);
}

static int
ctype_elem(struct msg *m, const char *p, const char *e, int hdr, void *item)
{
	struct msg_ctype *ct = item;
	const char *q, *ns, *ne, *vs, *ve, *ct_lo;

	(void)hdr;
	memset(ct, 0, sizeof(*ct));
	p = skip_ws(p, e);
	e = rtrim_ws(p, e);
	ct_lo = p;
	/* media-type = m-type SLASH m-subtype *(SEMI m-parameter) */
	if ((q = token_span(m, p, e, &ct->type)) == NULL ||
	    (p = expect_sep(q, e, '/')) == NULL ||
	    (q = token_span(m, p, e, &ct->subtype)) == NULL) {
		return -EINVAL;
	}
	p = skip_ws(q, e);
	if (p < e) {
		ct->params = mkspan(m, p + 1, e);
	}
	while (p < e) {
		if (*p != ';') {
			return -EINVAL;
		}
		p = next_param(ct_lo, p + 1, e, &ns, &ne, &vs, &ve);
		if (p == NULL || vs == NULL) {
			return -EINVAL;
		}
	}
	return 0;
}

const struct msg_ctype *
msg_content_type(struct msg *m)
{
	const struct list_cache *lc;
	void *items;

	if (m->first[HDR_CONTENT_TYPE] < 0 ||
	    m->hdrs[m->first[HDR_CONTENT_TYPE]].next >= 0) {
		return NULL;
	}
	lc = list_cached(m, HDR_CONTENT_TYPE, LK_CTYPE);
	if (lc != NULL) {
		return lc->state > 0 ? lc->items : NULL;
	}
	return list_get(m, HDR_CONTENT_TYPE, LK_CTYPE, sizeof(struct msg_ctype),
		   ctype_elem, &items) > 0
	    ? items
	    : NULL;
}

/*
 * Whether the n bytes at p spell lit, a name of lowercase letters, in
 * any case: setting 0x20 turns exactly 'A'-'Z' into 'a'-'z', and no other
 * byte into a letter.
 */
static inline bool
letters_are(const char *p, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)p[i] | 0x20) != (unsigned char)lit[i]) {
			return false;
		}
	}
	return true;
}

/*
 * The field of a for the auth-param named by [ns, ne), or NULL for a
 * parameter msg_auth does not keep (RFC 7616 3.3 and 3.4); names are
 * case-insensitive (RFC 3261 25.1, RFC 7616 3.3).  By length first, so a
 * name costs at most three compares.
 */
static struct span *
auth_field(struct msg_auth *a, const char *ns, const char *ne)
{
	switch (ne - ns) {
	case 2:
		return letters_are(ns, "nc", 2) ? &a->nc : NULL;
	case 3:
		return letters_are(ns, "uri", 3) ? &a->uri
		    : letters_are(ns, "qop", 3) ? &a->qop
						: NULL;
	case 5:
		return letters_are(ns, "realm", 5) ? &a->realm
		    : letters_are(ns, "nonce", 5) ? &a->nonce
		    : letters_are(ns, "stale", 5) ? &a->stale
						  : NULL;
	case 6:
		return letters_are(ns, "cnonce", 6) ? &a->cnonce
		    : letters_are(ns, "opaque", 6) ? &a->opaque
		    : letters_are(ns, "domain", 6) ? &a->domain
						   : NULL;
	case 8:
		return letters_are(ns, "username", 8) ? &a->username
		    : letters_are(ns, "response", 8) ? &a->response
		    : letters_are(ns, "userhash", 8) ? &a->userhash
						     : NULL;
	case 9:
		return letters_are(ns, "algorithm", 9) ? &a->algorithm : NULL;
	default:
		return NULL;
	}
}

/*
 * credentials / challenge = auth-scheme LWS auth-param *(COMMA auth-param)
 * (RFC 3261 25.1, RFC 7616 3.3 and 3.4)
 */
static int
auth_elem(struct msg *m, const char *p, const char *e, int hdr, void *item)
{
	struct msg_auth *a = item;
	const char *q, *ns, *ne, *vs, *ve, *a_lo;

	memset(a, 0, sizeof(*a));
	a->hdr = hdr;
	p = skip_ws(p, e);
	e = rtrim_ws(p, e);
	a_lo = p;
	q = skip_token(p, e);
	if (q == p) {
		return -EINVAL;
	}
	a->scheme = mkspan(m, p, q);
	p = skip_ws(q, e);
	if (p == e) {
		return 0;
	}
	if (p == q) {
		return -EINVAL;
	}
	a->params = mkspan(m, p, e);
	for (;;) {
		p = next_param(a_lo, p, e, &ns, &ne, &vs, &ve);
		if (p == NULL || vs == NULL) {
			return -EINVAL;
		}
		struct span *dst = auth_field(a, ns, ne);
		if (dst != NULL) {
			*dst = mkspan(m, vs, ve);
		}
		if (p == e) {
			return 0;
		}
		if (*p != ',') {
			return -EINVAL;
		}
		p++;
	}
}

int
msg_auths(struct msg *m, enum hdr_id id, const struct msg_auth **out)
{
	void *items = NULL;
	int n = -EINVAL;

	if (id == HDR_AUTHORIZATION || id == HDR_PROXY_AUTHORIZATION ||
	    id == HDR_WWW_AUTHENTICATE || id == HDR_PROXY_AUTHENTICATE) {
		n = list_get(m, id, LK_AUTH, sizeof(struct msg_auth), auth_elem,
		    &items);
	}
	if (out != NULL) {
		*out = items;
	}
	return n;
}
