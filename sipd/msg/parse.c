/*
 * The message parser: start line, header index and body (RFC 3261 7, 25),
 * the message's arena, the index accessors and msg_check().  A message owns
 * one buffer; everything found in it is a span, and header values are left
 * unparsed until something asks for them (values.c).
 */
#include <stddef.h>
#include <stdlib.h>

#include "sipd/msg/msg_int.h"

void
msg_limits_init(struct msg_limits *lim)
{
	lim->max_size = MSG_DEFAULT_MAX_SIZE;
	lim->max_headers = MSG_DEFAULT_MAX_HEADERS;
	lim->max_line = MSG_DEFAULT_MAX_LINE;
}

void *
msg_alloc_chunk(struct msg *m, size_t size)
{
	struct arena_chunk *c = m->chunks;
	if (c == NULL || c->used + size > c->cap) {
		size_t cap = size > MSG_CHUNK_MIN ? size : MSG_CHUNK_MIN;
		c = malloc(sizeof(*c) + cap);
		if (c == NULL) {
			return NULL;
		}
		c->cap = cap;
		c->used = 0;
		c->next = m->chunks;
		m->chunks = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

static size_t
align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/*
 * A message with room inline for nhdrs header slots, arena bytes of
 * parsed values and len + headroom bytes of buffer: one allocation.
 */
static struct msg *
msg_new(size_t len, const struct msg_limits *lim, uint32_t nhdrs,
    uint32_t arena, uint32_t headroom)
{
	size_t hdrs_sz = align16(nhdrs * sizeof(struct msg_hdr));
	size_t onext_sz = align16(nhdrs * sizeof(int32_t));
	size_t fixed = sizeof(struct msg) + hdrs_sz + onext_sz + arena;
	size_t cap = len + headroom;
	/* a received message takes a block of the usual size, which the
	 * thread's cache reuses; the block's room beyond is headroom */
	bool block = nhdrs == MSG_INLINE_HDRS && arena == MSG_INLINE_ARENA &&
	    fixed + cap <= MSG_BLOCK_BYTES;
	struct msg *m = block ? msg_block_get() : malloc(fixed + cap);

	if (m == NULL) {
		return NULL;
	}
	if (block) {
		cap = MSG_BLOCK_BYTES - fixed;
	}
	/* the inline header slots and the arena need no clearing */
	memset(m, 0, sizeof(*m));
	memset(m->first, 0xff, sizeof(m->first));
	m->hdrs = (struct msg_hdr *)(void *)m->tail;
	m->onext = (int32_t *)(void *)(m->tail + hdrs_sz);
	m->hdr_cap = nhdrs;
	m->hdrs_inline = true;
	m->arena = m->tail + hdrs_sz + onext_sz;
	m->arena_cap = arena;
	m->buf = m->arena + arena;
	m->buf_inline = true;
	m->block = block;
	m->cap = (uint32_t)cap;
	m->lim = *lim;
	m->ohead = -1;
	return m;
}

void
msg_free(struct msg *m)
{
	if (m == NULL) {
		return;
	}
	while (m->chunks != NULL) {
		struct arena_chunk *c = m->chunks;
		m->chunks = c->next;
		free(c);
	}
	if (!m->buf_inline) {
		free(m->buf);
	}
	if (!m->hdrs_inline) {
		free(m->hdrs);
		free(m->onext);
	}
	if (m->block) {
		msg_block_put(m);
	} else {
		free(m);
	}
}

int
msg_append(struct msg *m, const char *p, size_t len, uint32_t *off)
{
	if (len > UINT32_MAX - m->len) {
		return -ENOMEM;
	}
	if (m->len + len > m->cap) {
		size_t cap = (size_t)m->cap * 2 + len;
		char *nb;
		if (cap > UINT32_MAX) {
			cap = UINT32_MAX;
		}
		if (m->buf_inline) {
			nb = malloc(cap);
			if (nb != NULL) {
				memcpy(nb, m->buf, m->len);
			}
		} else {
			nb = realloc(m->buf, cap);
		}
		if (nb == NULL) {
			return -ENOMEM;
		}
		m->buf = nb;
		m->buf_inline = false;
		m->cap = (uint32_t)cap;
	}
	memcpy(m->buf + m->len, p, len);
	*off = m->len;
	m->len += (uint32_t)len;
	return 0;
}

int
msg_hdr_slot(struct msg *m)
{
	if (m->nhdrs == m->hdr_cap) {
		uint32_t cap = m->hdr_cap ? m->hdr_cap * 2 : 8;
		struct msg_hdr *h = malloc(cap * sizeof(*h));
		int32_t *o = malloc(cap * sizeof(*o));
		if (h == NULL || o == NULL) {
			free(h);
			free(o);
			return -ENOMEM;
		}
		memcpy(h, m->hdrs, m->nhdrs * sizeof(*h));
		memcpy(o, m->onext, m->nhdrs * sizeof(*o));
		if (!m->hdrs_inline) {
			free(m->hdrs);
			free(m->onext);
		}
		m->hdrs_inline = false;
		m->hdrs = h;
		m->onext = o;
		m->hdr_cap = cap;
	}
	return (int)m->nhdrs++;
}

static void
fail(struct msg_err *err, int status, const char *reason, uint32_t off)
{
	if (err != NULL) {
		err->status = status;
		err->reason = reason;
		err->off = off;
	}
}

static bool
is_sip_version(const char *p, const char *e)
{
	return e - p == 7 && caseeq_n(p, "SIP/2.0", 7);
}

/* "SIP/" 1*DIGIT "." 1*DIGIT (RFC 3261 7.1) */
static bool
is_version_shape(const char *p, const char *e)
{
	if (e - p < 7 || !caseeq_n(p, "SIP/", 4)) {
		return false;
	}
	p += 4;
	const char *d = p;
	while (p < e && ch_is((unsigned char)*p, CH_DIGIT)) {
		p++;
	}
	if (p == d || p == e || *p != '.') {
		return false;
	}
	d = ++p;
	while (p < e && ch_is((unsigned char)*p, CH_DIGIT)) {
		p++;
	}
	return p != d && p == e;
}

/*
 * The start line from b to its LF at nl; cr is the first CR ch_line_end()
 * found with it (NULL, or one past the LF's sixteen bytes, or before).
 */
static int
parse_start(struct msg *m, const char *b, const char *nl, const char *cr,
    struct msg_err *err)
{
	const char *le = (nl > b && nl[-1] == '\r') ? nl - 1 : nl;
	/* CR only before LF (RFC 3261 7): see parse_headers() */
	bool bare_cr = cr != NULL && cr < le;
	const char *p;

	m->start = mkspan(m, b, nl + 1);
	if (le - b >= 4 && caseeq_n(b, "SIP/", 4)) {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		p = memchr(b, ' ', (size_t)(le - b));
		if (bare_cr) {
			fail(err, 0, "Bad Status Line", 0);
			return -EINVAL;
		}
		if (p == NULL || !is_sip_version(b, p)) {
			fail(err, 0, "Version Not Supported", 0);
			return -EINVAL;
		}
		m->method_s = mkspan(m, b, p);
		m->version_s = m->method_s;
		p++;
		if (le - p < 3 || !ch_is((unsigned char)p[0], CH_DIGIT) ||
		    !ch_is((unsigned char)p[1], CH_DIGIT) ||
		    !ch_is((unsigned char)p[2], CH_DIGIT) ||
		    (le - p > 3 && p[3] != ' ')) {
			fail(err, 0, "Bad Status Code", (uint32_t)(p - b));
			return -EINVAL;
		}
		m->status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 +
		    (p[2] - '0'));
		if (m->status < 100 || m->status > 699) {
			fail(err, 0, "Bad Status Code", (uint32_t)(p - b));
			return -EINVAL;
		}
		p += 3;
		if (p < le) {
			p++;
		}
		m->reason_s = mkspan(m, p, le);
		return 0;
	}

	/* Request-Line = Method SP Request-URI SP SIP-Version */
	p = skip_token(b, le);
	if (p == b || p == le || *p != ' ') {
		fail(err, 0, "Bad Start Line", (uint32_t)(p - m->buf));
		return -EINVAL;
	}
	m->is_request = true;
	m->method_s = mkspan(m, b, p);
	m->method = (uint8_t)msg_method_lookup(b, (size_t)(p - b));
	p++;
	const char *v = le;
	while (v > p && v[-1] != ' ') {
		v--;
	}
	if (v == p || v - 1 == p || bare_cr) {
		/* no second SP, an empty Request-URI, or a bare CR */
		m->start_bad = true;
		m->ruri_s = mkspan(m, p, le);
		return 0;
	}
	m->ruri_s = mkspan(m, p, v - 1);
	m->version_s = mkspan(m, v, le);
	m->ruri_ok = uri_parse(m->buf, m->ruri_s, &m->ruri) == 0;
	return 0;
}

/* Link header idx at the end of the order list and of its id chain. */
static inline void
hdr_link_tail(struct msg *m, int idx, int32_t *otail, int32_t *tails)
{
	struct msg_hdr *h = &m->hdrs[idx];

	m->onext[idx] = -1;
	if (*otail < 0) {
		m->ohead = idx;
	} else {
		m->onext[*otail] = idx;
	}
	*otail = idx;
	h->next = -1;
	if (tails[h->id] < 0) {
		m->first[h->id] = idx;
	} else {
		m->hdrs[tails[h->id]].next = idx;
	}
	tails[h->id] = idx;
}

/*
 * The header lines from p to the end of the received bytes.  The loop
 * keeps the buffer, the limits, the slots and the tails in locals: the
 * spans it stores are uint32_t, as the message's counts are, and the
 * compiler would read those again after every store.
 */
static int
parse_headers(struct msg *m, const char *p, unsigned *ctl,
    struct msg_err *err)
{
	const char *const base = m->buf;
	const char *e = base + m->rx_len;
	const size_t max_line = m->lim.max_line;
	const uint32_t max_headers = m->lim.max_headers;
	struct msg_hdr *hdrs = m->hdrs;
	int32_t *onext = m->onext;
	uint32_t nhdrs = m->nhdrs, hdr_cap = m->hdr_cap;
	int32_t tails[HDR__COUNT];
	int32_t otail = -1;
	int last = -1;
	struct span bad = m->bad_line;
	unsigned nul = 0;
	int rc = 0;

	const struct hdr_names *names = hdr_names();

#define SPAN(a, b) \
	((struct span){ (uint32_t)((a) - base), (uint32_t)((b) - (a)) })
	memset(tails, 0xff, sizeof(tails));
	for (;;) {
		if (p == e) {
			/* RFC 3261 7: the empty line is required even without
			 * a body; without it the datagram may be cut short */
			fail(err, 0, "Missing End of Headers",
			    (uint32_t)(p - base));
			rc = -EINVAL;
			goto out;
		}
		/* a line starting with neither CR nor LF costs two compares */
		if (*p <= '\r') {
			if (*p == '\n') {
				m->eoh = SPAN(p, p + 1);
				p++;
				break;
			}
			if (e - p >= 2 && p[0] == '\r' && p[1] == '\n') {
				m->eoh = SPAN(p, p + 2);
				p += 2;
				break;
			}
		}
		size_t room = (size_t)(e - p);
		if (room > max_line + 1) {
			room = max_line + 1;
		}
		const char *cr;
		const char *nl = ch_line_end(p, p + room, &cr, &nul);
		if (nl == NULL) {
			if ((size_t)(e - p) > max_line) {
				fail(err, 0, "Line Too Long", (uint32_t)(p - base));
			} else {
				fail(err, 0, "Truncated Header",
				    (uint32_t)(p - base));
			}
			rc = -EINVAL;
			goto out;
		}
		const char *le = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
		if (cr != NULL && cr < le) {
			/* RFC 3261 7: CR only before LF.  A bare CR, which
			 * another parser may take for a line end, would
			 * smuggle a header past sipd: the line is bad */
			if (bad.len == 0) {
				bad = SPAN(p, nl + 1);
			}
			last = -1;
			p = nl + 1;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			/* RFC 3261 7.3.1: a line starting with white space
			 * continues the previous header's value (or the
			 * previous bad line, or makes the first one) */
			if (last < 0) {
				if (bad.len == 0) {
					bad = SPAN(p, nl + 1);
				}
				p = nl + 1;
				continue;
			}
			struct msg_hdr *h = &hdrs[last];
			const char *ve = rtrim_ws(p, le);
			if (ve > p) {
				if (h->value.len == 0) {
					h->value = SPAN(skip_ws(p, ve), ve);
				} else {
					h->value.len =
					    (uint32_t)(ve - base) - h->value.off;
				}
			}
			h->line.len = (uint32_t)(nl + 1 - base) - h->line.off;
			p = nl + 1;
			continue;
		}
		/*
		 * The name: most are known names under sixteen bytes, found
		 * up to the first ':', SP or HT and looked up at once.  A
		 * match proves the bytes a token: the table's names hold
		 * letters and '-' only (a test keeps it so), and the lookup
		 * matches a byte to those only when it is one of them or a
		 * CR (hdr_fold_word() of a token), and a CR before the line's
		 * end made the line bad above.  Any other name is scanned
		 * for its token characters.
		 */
		const char *ne = ch_name_end16(p, e);
		unsigned id = HDR_UNKNOWN;
		bool tried = ne != NULL && ne > p && ne < le;
		if (tried) {
			id = hdr_lookup_token(names, p, (size_t)(ne - p));
		}
		if (id == HDR_UNKNOWN) {
			/* the line ends with CR or LF, neither a token
			 * character nor SP or HT: the scans up to the value
			 * stop there unbounded.  A name looked up already is
			 * not looked up again */
			const char *te = p;
			while (ch_is((unsigned char)*te, CH_TOKEN)) {
				te++;
			}
			if (te > p && (!tried || te != ne)) {
				id = hdr_lookup_token(names, p, (size_t)(te - p));
			}
			ne = te;
		}
		const char *c = ne;
		while (*c == ' ' || *c == '\t') {
			c++;
		}
		if (ne == p || c == le || *c != ':') {
			/* not "name: value": the message is still indexed,
			 * so that a 400 can be built from its other headers
			 * (RFC 3261 8.2.6.1); msg_check() refuses it */
			if (bad.len == 0) {
				bad = SPAN(p, nl + 1);
			}
			last = -1;
			p = nl + 1;
			continue;
		}
		if (nhdrs >= max_headers) {
			fail(err, 0, "Too Many Headers", (uint32_t)(p - base));
			rc = -EINVAL;
			goto out;
		}
		/* the inline slots hold most messages: no call for them */
		int idx;
		if (nhdrs < hdr_cap) {
			idx = (int)nhdrs++;
		} else {
			m->nhdrs = nhdrs;
			idx = msg_hdr_slot(m);
			if (idx < 0) {
				fail(err, 0, "Out of Memory", 0);
				rc = idx;
				goto out;
			}
			hdrs = m->hdrs;
			onext = m->onext;
			nhdrs = m->nhdrs;
			hdr_cap = m->hdr_cap;
		}
		struct msg_hdr *h = &hdrs[idx];
		const char *vs = c + 1;
		while (*vs == ' ' || *vs == '\t') {
			vs++;
		}
		h->id = (uint16_t)id;
		h->flags = 0;
		h->next = -1;
		h->name = SPAN(p, ne);
		h->value = SPAN(vs, rtrim_ws(vs, le));
		h->line = SPAN(p, nl + 1);
		h->cache = NULL;
		/* at the end of the order list and of its id's chain */
		onext[idx] = -1;
		if (otail < 0) {
			m->ohead = idx;
		} else {
			onext[otail] = idx;
		}
		otail = idx;
		if (tails[id] < 0) {
			m->first[id] = (int16_t)idx;
		} else {
			hdrs[tails[id]].next = idx;
		}
		tails[id] = idx;
		last = idx;
		p = nl + 1;
	}
	m->body = SPAN(p, e);
#undef SPAN
out:
	m->nhdrs = nhdrs;
	m->bad_line = bad;
	*ctl |= nul;
	return rc;
}

/* Content-Length decides where a datagram's body ends (RFC 3261 18.3). */
static void
parse_body_length(struct msg *m)
{
	int idx = m->first[HDR_CONTENT_LENGTH];
	uint64_t v = 0, first = 0;

	if (idx < 0) {
		return;
	}
	m->cl_present = true;
	for (int n = 0; idx >= 0; idx = m->hdrs[idx].next, n++) {
		struct sv s = msg_sv(m, m->hdrs[idx].value);
		if (msg_parse_uint(s.p, s.p + s.len, UINT32_MAX, &v) != 0 ||
		    (n > 0 && v != first)) {
			m->cl_bad = true;
			return;
		}
		first = v;
	}
	m->cl = (uint32_t)v;
	if (m->cl > m->body.len) {
		m->cl_bad = true;
	} else {
		m->body.len = m->cl;
	}
}

static struct msg *
parse_sized(const char *data, size_t len, const struct msg_limits *lim,
    struct msg_err *err, uint32_t nhdrs, uint32_t arena, uint32_t headroom)
{
	struct msg_limits dl;
	struct msg *m;

	if (lim == NULL) {
		msg_limits_init(&dl);
		lim = &dl;
	}
	if (lim->max_headers > MSG_MAX_HEADERS_CAP) {
		/* header indexes are int16_t inside a message */
		dl = *lim;
		dl.max_headers = MSG_MAX_HEADERS_CAP;
		lim = &dl;
	}
	fail(err, 0, NULL, 0);
	if (len > lim->max_size) {
		fail(err, 513, "Message Too Large", 0);
		return NULL;
	}
	m = msg_new(len, lim, nhdrs, arena, headroom);
	if (m == NULL) {
		fail(err, 0, "Out of Memory", 0);
		return NULL;
	}
	memcpy(m->buf, data, len);
	m->len = m->rx_len = (uint32_t)len;

	const char *b = m->buf, *e = b + len;
	/* RFC 3261 7.5: CRLF before the start line is ignored */
	while (b < e && (*b == '\r' || *b == '\n')) {
		b++;
	}
	size_t room = (size_t)(e - b);
	if (room > (size_t)lim->max_line + 1) {
		room = (size_t)lim->max_line + 1;
	}
	const char *cr;
	unsigned nul = 0;
	const char *nl = ch_line_end(b, b + room, &cr, &nul);
	if (b == e || nl == NULL) {
		fail(err, 0, b == e ? "Empty Message" : "Bad Start Line", 0);
		goto fail;
	}
	if (parse_start(m, b, nl, cr, err) != 0 ||
	    parse_headers(m, nl + 1, &nul, err) != 0) {
		goto fail;
	}
	/* RFC 3261 25.1: a NUL only as a quoted-pair's octet.  The line
	 * scans looked at every byte up to the end of the headers (the
	 * CR and LF before the start line and the empty line are none)
	 * and said whether a NUL may be there: only then is it looked
	 * for */
	if (nul != 0 && memchr(m->buf, '\0', m->eoh.off) != NULL) {
		const char *z = msg_stray_nul(m->buf, m->buf + m->eoh.off);
		if (z != NULL) {
			fail(err, 0, "NUL in Headers", (uint32_t)(z - m->buf));
			goto fail;
		}
	}
	parse_body_length(m);
	return m;
fail:
	msg_free(m);
	return NULL;
}

struct msg *
msg_parse(const char *data, size_t len, const struct msg_limits *lim,
    struct msg_err *err)
{
	return parse_sized(data, len, lim, err, MSG_INLINE_HDRS,
	    MSG_INLINE_ARENA, MSG_HEADROOM);
}

/*
 * A span of a message moved by delta bytes in its copy.  A span never set
 * stays { 0, 0 }, as a fresh parse leaves it: every span set in a parsed
 * message lies after the first byte or has a length.
 */
static struct span
span_move(struct span s, uint32_t delta)
{
	if (s.off == 0 && s.len == 0) {
		return s;
	}
	return (struct span){ s.off + delta, s.len };
}

static void
uri_move(struct uri *u, uint32_t delta)
{
	u->all = span_move(u->all, delta);
	u->scheme_s = span_move(u->scheme_s, delta);
	u->user = span_move(u->user, delta);
	u->password = span_move(u->password, delta);
	u->host = span_move(u->host, delta);
	u->params = span_move(u->params, delta);
	u->headers = span_move(u->headers, delta);
	u->opaque = span_move(u->opaque, delta);
}

static void
via_move(struct msg_via *v, uint32_t delta)
{
	v->value = span_move(v->value, delta);
	v->protocol = span_move(v->protocol, delta);
	v->version = span_move(v->version, delta);
	v->transport = span_move(v->transport, delta);
	v->host = span_move(v->host, delta);
	v->branch = span_move(v->branch, delta);
	v->received = span_move(v->received, delta);
	v->maddr = span_move(v->maddr, delta);
	v->params = span_move(v->params, delta);
}

/*
 * Copy the cached parse of the first header of id (the top Via, CSeq)
 * from m to its copy c.  A value trimmed by the copy is parsed again
 * instead: the parse saw the untrimmed value.
 */
static void
copy_cache(const struct msg *m, struct msg *c, enum hdr_id id,
    int8_t *state, int8_t st)
{
	int oi = m->first[id], ni = c->first[id];
	uint32_t d;

	if (oi < 0 || ni < 0) {
		*state = st;
		return;
	}
	if (m->hdrs[oi].value.len != c->hdrs[ni].value.len) {
		return;
	}
	d = c->hdrs[ni].value.off - m->hdrs[oi].value.off;
	*state = st;
	if (st < 0) {
		return;
	}
	if (id == HDR_VIA) {
		c->via_top = m->via_top;
		c->via_top.hdr = ni;
		via_move(&c->via_top, d);
		c->via_top_comma = m->via_top_comma ? m->via_top_comma + d : 0;
	} else {
		c->cseq = m->cseq;
		c->cseq.method_s = span_move(m->cseq.method_s, d);
	}
}

/*
 * msg_compact() builds the copy a parse of msg_write()'s bytes would give,
 * without parsing them again: each line moves whole, so every span found
 * in it moves by the same amount.  Only a line an edit appended differs
 * from what a parse finds: its value is stored as given, and a parse
 * trims the white space around it; and a parse refuses such a line when
 * it is longer than the line limit.
 */
struct msg *
msg_compact(const struct msg *m)
{
	struct msg_limits lim = m->lim;
	size_t n = msg_size(m);
	unsigned nh = msg_hdr_total(m);
	int32_t tails[HDR__COUNT];
	int32_t otail = -1;
	struct msg *c;
	char *p;

	if (n > INT32_MAX || nh > MSG_MAX_HEADERS_CAP ||
	    m->start.len > (size_t)lim.max_line + 1) {
		return NULL;
	}
	/* what the edits made may exceed the limits the original met */
	if (lim.max_size < n) {
		lim.max_size = (uint32_t)n;
	}
	if (lim.max_headers < nh) {
		lim.max_headers = nh;
	}
	c = msg_new(n, &lim, nh, 0, 0);
	if (c == NULL) {
		return NULL;
	}
	p = c->buf;

	/* the start line, at offset 0 */
	uint32_t d = 0 - m->start.off;
	memcpy(p, m->buf + m->start.off, m->start.len);
	p += m->start.len;
	c->start = (struct span){ 0, m->start.len };
	c->is_request = m->is_request;
	c->start_bad = m->start_bad;
	c->ruri_ok = m->ruri_ok;
	c->method = m->method;
	c->status = m->status;
	c->method_s = span_move(m->method_s, d);
	c->ruri_s = span_move(m->ruri_s, d);
	c->version_s = span_move(m->version_s, d);
	c->reason_s = span_move(m->reason_s, d);
	c->ruri = m->ruri;
	uri_move(&c->ruri, d);

	/* the live header lines, in order, each moved whole */
	memset(tails, 0xff, sizeof(tails));
	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		const struct msg_hdr *oh = &m->hdrs[i];
		int idx = (int)c->nhdrs++;
		struct msg_hdr *h = &c->hdrs[idx];

		d = (uint32_t)(p - c->buf) - oh->line.off;
		memcpy(p, m->buf + oh->line.off, oh->line.len);
		h->id = oh->id;
		h->flags = 0;
		h->name = span_move(oh->name, d);
		h->value = span_move(oh->value, d);
		h->line = (struct span){ (uint32_t)(p - c->buf), oh->line.len };
		h->cache = NULL;
		if (oh->flags & MSG_HDR_ADDED) {
			/* one physical line, "name: value CRLF", its value
			 * free of CR and LF (line_new()) */
			const char *vs = c->buf + h->value.off;
			const char *ve = vs + h->value.len;
			if (oh->line.len > (size_t)lim.max_line + 1) {
				goto fail;
			}
			while (vs < ve && (*vs == ' ' || *vs == '\t')) {
				vs++;
			}
			h->value = mkspan(c, vs, rtrim_ws(vs, ve));
		}
		p += oh->line.len;
		hdr_link_tail(c, idx, &otail, tails);
	}

	if (m->eoh.len) {
		memcpy(p, m->buf + m->eoh.off, m->eoh.len);
		c->eoh = (struct span){ (uint32_t)(p - c->buf), m->eoh.len };
	} else {
		memcpy(p, "\r\n", 2);
		c->eoh = (struct span){ (uint32_t)(p - c->buf), 2 };
	}
	p += c->eoh.len;
	memcpy(p, m->buf + m->body.off, m->body.len);
	c->body = mkspan(c, p, p + m->body.len);
	c->len = c->rx_len = (uint32_t)n;
	parse_body_length(c);

	/* the top Via and CSeq are parsed from their first header's value
	 * alone: the copy's would be the same, moved with the line */
	if (m->via_top_state != 0) {
		copy_cache(m, c, HDR_VIA, &c->via_top_state, m->via_top_state);
	}
	if (m->cseq_state != 0) {
		copy_cache(m, c, HDR_CSEQ, &c->cseq_state, m->cseq_state);
	}
	return c;
fail:
	msg_free(c);
	return NULL;
}

struct sv
msg_sv(const struct msg *m, struct span s)
{
	return (struct sv){ m->buf + s.off, s.len };
}

const char *
msg_buf(const struct msg *m)
{
	return m->buf;
}

bool
msg_is_request(const struct msg *m)
{
	return m->is_request;
}

enum msg_method
msg_method(const struct msg *m)
{
	return (enum msg_method)m->method;
}

struct sv
msg_method_name(const struct msg *m)
{
	if (!m->is_request) {
		return (struct sv){ m->buf, 0 };
	}
	return msg_sv(m, m->method_s);
}

struct span
msg_ruri_span(const struct msg *m)
{
	return m->ruri_s;
}

const struct uri *
msg_ruri(const struct msg *m)
{
	return m->is_request && m->ruri_ok ? &m->ruri : NULL;
}

int
msg_status(const struct msg *m)
{
	return m->status;
}

struct sv
msg_reason(const struct msg *m)
{
	return msg_sv(m, m->reason_s);
}

struct sv
msg_body(const struct msg *m)
{
	return msg_sv(m, m->body);
}

unsigned
msg_hdr_total(const struct msg *m)
{
	unsigned n = 0;

	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		n++;
	}
	return n;
}

const struct msg_hdr *
msg_hdr_at(const struct msg *m, int idx)
{
	if (idx < 0 || (uint32_t)idx >= m->nhdrs) {
		return NULL;
	}
	return &m->hdrs[idx];
}

int
msg_hdr_first(const struct msg *m, enum hdr_id id)
{
	if ((unsigned)id >= HDR__COUNT) {
		return -1;
	}
	if (id == HDR_UNKNOWN) {
		for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
			if (m->hdrs[i].id == HDR_UNKNOWN) {
				return i;
			}
		}
		return -1;
	}
	return m->first[id];
}

int
msg_hdr_next(const struct msg *m, int idx)
{
	if (idx < 0 || (uint32_t)idx >= m->nhdrs) {
		return -1;
	}
	if (m->hdrs[idx].id == HDR_UNKNOWN) {
		for (int32_t i = m->onext[idx]; i >= 0; i = m->onext[i]) {
			if (m->hdrs[i].id == HDR_UNKNOWN) {
				return i;
			}
		}
		return -1;
	}
	return m->hdrs[idx].next;
}

int
msg_hdr_find(const struct msg *m, struct sv name)
{
	enum hdr_id id = hdr_lookup(name.p, name.len);

	if (id != HDR_UNKNOWN) {
		return m->first[id];
	}
	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		if (m->hdrs[i].id == HDR_UNKNOWN &&
		    sv_caseeq(msg_sv(m, m->hdrs[i].name), name)) {
			return i;
		}
	}
	return -1;
}

unsigned
msg_hdr_count(const struct msg *m, enum hdr_id id)
{
	unsigned n = 0;

	for (int i = msg_hdr_first(m, id); i >= 0; i = msg_hdr_next(m, i)) {
		n++;
	}
	return n;
}

struct sv
msg_hdr_value(const struct msg *m, enum hdr_id id)
{
	int i = msg_hdr_first(m, id);

	if (i < 0) {
		return (struct sv){ m->buf, 0 };
	}
	return msg_sv(m, m->hdrs[i].value);
}

/* The bytes msg_find_comma() must look at; the others are skipped. */
static const uint8_t comma_special[256] = {
	['"'] = 1, ['<'] = 1, ['>'] = 1, [','] = 1,
};

const char *
msg_find_comma(const char *p, const char *e)
{
	bool angle = false;

	/* most values hold no comma and no quote: then the answer is e,
	 * found by the library's scans instead of a loop over every byte */
	if (p < e && memchr(p, ',', (size_t)(e - p)) == NULL &&
	    memchr(p, '"', (size_t)(e - p)) == NULL) {
		return e;
	}
	while (p < e) {
		while (p < e && !comma_special[(unsigned char)*p]) {
			p++;
		}
		if (p == e) {
			break;
		}
		switch (*p) {
		case '"':
			p = msg_skip_quoted16(p, e);
			if (p == NULL) {
				return NULL;
			}
			continue;
		case '<':
			angle = true;
			break;
		case '>':
			angle = false;
			break;
		default: /* ',' */
			if (!angle) {
				return p;
			}
			break;
		}
		p++;
	}
	return e;
}

int
msg_hdr_values(const struct msg *m, enum hdr_id id, struct span *out,
    int max)
{
	int n = 0;

	for (int i = msg_hdr_first(m, id); i >= 0; i = msg_hdr_next(m, i)) {
		struct sv v = msg_sv(m, m->hdrs[i].value);
		const char *p = v.p, *e = v.p + v.len;
		while (p < e) {
			const char *c = msg_find_comma(p, e);
			if (c == NULL) {
				return -EINVAL;
			}
			const char *s = skip_ws(p, c);
			const char *t = rtrim_ws(s, c);
			if (t > s) {
				if (n < max) {
					out[n] = mkspan(m, s, t);
				}
				n++;
			}
			p = c + 1;
		}
	}
	return n;
}

const char *
msg_stray_nul(const char *p, const char *e)
{
	bool quoted = false;

	for (; p < e; p++) {
		switch (*p) {
		case '\0':
			return p;
		case '"':
			quoted = !quoted;
			break;
		case '\\':
			/* quoted-pair = "\\" (%x00-09 / %x0B-0C / %x0E-7F) */
			if (quoted && e - p > 1 && p[1] != '\r' &&
			    p[1] != '\n') {
				p++;
			}
			break;
		case '\n':
			/* a quoted string ends with its header, which ends
			 * with a line break not followed by SP or HT */
			if (e - p == 1 || (p[1] != ' ' && p[1] != '\t')) {
				quoted = false;
			}
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* One header of a kind that must appear exactly once. */
static int
single(struct msg *m, enum hdr_id id, int st, const char *missing,
    const char *bad, struct msg_err *err)
{
	int i = m->first[id];

	if (i < 0) {
		fail(err, st, missing, 0);
		return -EINVAL;
	}
	if (m->hdrs[i].next >= 0) {
		fail(err, st, bad, m->hdrs[m->hdrs[i].next].line.off);
		return -EINVAL;
	}
	return 0;
}

bool
msg_callid_ok(struct sv v)
{
	const char *at = memchr(v.p, '@', v.len);

	if (v.len == 0 || (at != NULL && (at == v.p || at == v.p + v.len - 1 ||
	    memchr(at + 1, '@', v.len - (size_t)(at + 1 - v.p)) != NULL))) {
		return false;
	}
	return ch_graph_span(v.p, v.len);
}

int
msg_check(struct msg *m, struct msg_err *err)
{
	int st = m->is_request ? 400 : 0;
	uint32_t u;

	fail(err, 0, NULL, 0);
	if (m->is_request) {
		struct sv v = msg_sv(m, m->version_s);
		if (m->start_bad) {
			fail(err, 400, "Bad Request Line", m->start.off);
			return -EINVAL;
		}
		if (!is_sip_version(v.p, v.p + v.len)) {
			if (is_version_shape(v.p, v.p + v.len)) {
				fail(err, 505, "Version Not Supported",
				    m->version_s.off);
			} else {
				fail(err, 400, "Bad Request Line",
				    m->version_s.off);
			}
			return -EINVAL;
		}
		if (!m->ruri_ok) {
			fail(err, 400, "Bad Request-URI", m->ruri_s.off);
			return -EINVAL;
		}
		if (m->ruri.scheme == URI_OTHER) {
			fail(err, 416, "Unsupported URI Scheme", m->ruri_s.off);
			return -EINVAL;
		}
	}
	if (m->first[HDR_VIA] < 0) {
		fail(err, st, "Missing Via", 0);
		return -EINVAL;
	}
	/* the top Via is what a server answers by (18.2.2); the others are
	 * read only by the hops they name */
	if (msg_via_top(m) == NULL) {
		fail(err, st, "Bad Via", m->hdrs[m->first[HDR_VIA]].line.off);
		return -EINVAL;
	}
	if (m->bad_line.len != 0) {
		fail(err, st, "Bad Header Line", m->bad_line.off);
		return -EINVAL;
	}
	if (single(m, HDR_FROM, st, "Missing From", "Bad From", err) != 0 ||
	    single(m, HDR_TO, st, "Missing To", "Bad To", err) != 0 ||
	    single(m, HDR_CALL_ID, st, "Missing Call-ID", "Bad Call-ID",
		err) != 0 ||
	    single(m, HDR_CSEQ, st, "Missing CSeq", "Bad CSeq", err) != 0) {
		return -EINVAL;
	}
	if (msg_from(m) == NULL) {
		fail(err, st, "Bad From", m->hdrs[m->first[HDR_FROM]].line.off);
		return -EINVAL;
	}
	if (msg_to(m) == NULL) {
		fail(err, st, "Bad To", m->hdrs[m->first[HDR_TO]].line.off);
		return -EINVAL;
	}
	if (!msg_callid_ok(msg_callid(m))) {
		fail(err, st, "Bad Call-ID",
		    m->hdrs[m->first[HDR_CALL_ID]].line.off);
		return -EINVAL;
	}
	const struct msg_cseq *cs = msg_cseq(m);
	if (cs == NULL) {
		fail(err, st, "Bad CSeq", m->hdrs[m->first[HDR_CSEQ]].line.off);
		return -EINVAL;
	}
	if (m->is_request &&
	    !sv_eq(msg_sv(m, cs->method_s), msg_sv(m, m->method_s))) {
		fail(err, 400, "CSeq Method Mismatch",
		    m->hdrs[m->first[HDR_CSEQ]].line.off);
		return -EINVAL;
	}
	if (m->first[HDR_MAX_FORWARDS] >= 0 &&
	    (m->hdrs[m->first[HDR_MAX_FORWARDS]].next >= 0 ||
		msg_max_forwards(m, &u) != 0)) {
		fail(err, st, "Bad Max-Forwards",
		    m->hdrs[m->first[HDR_MAX_FORWARDS]].line.off);
		return -EINVAL;
	}
	if (m->cl_bad) {
		fail(err, st, "Bad Content-Length",
		    m->hdrs[m->first[HDR_CONTENT_LENGTH]].line.off);
		return -EINVAL;
	}
	if (m->first[HDR_CONTACT] >= 0) {
		const struct msg_naddr *c;
		int n = msg_naddrs(m, HDR_CONTACT, &c);
		bool star = false;
		for (int i = 0; i < n; i++) {
			star |= c[i].star;
		}
		/* RFC 3261 10.2.2: "*" stands alone */
		if (n < 0 || (star && n > 1)) {
			fail(err, st, "Bad Contact",
			    m->hdrs[m->first[HDR_CONTACT]].line.off);
			return -EINVAL;
		}
	}
	if (m->first[HDR_EXPIRES] >= 0 && msg_expires(m, &u) != 0) {
		fail(err, st, "Bad Expires",
		    m->hdrs[m->first[HDR_EXPIRES]].line.off);
		return -EINVAL;
	}
	if (m->first[HDR_CONTENT_TYPE] >= 0 && msg_content_type(m) == NULL) {
		fail(err, st, "Bad Content-Type",
		    m->hdrs[m->first[HDR_CONTENT_TYPE]].line.off);
		return -EINVAL;
	}
	return 0;
}
