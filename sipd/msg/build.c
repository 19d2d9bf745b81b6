/*
 * Editing, serializing and building messages.  Edits never touch the
 * received bytes: a new or changed header line is appended to the message
 * buffer and the header index points at it, so serialization copies the
 * untouched lines byte for byte.  Responses are built per RFC 3261 8.2.6.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sipd/msg/msg_int.h"

void
msg_chain_rebuild(struct msg *m, enum hdr_id id)
{
	int32_t tail = -1;

	if (id == HDR_UNKNOWN) {
		return;
	}
	m->first[id] = -1;
	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		if (m->hdrs[i].id != id) {
			continue;
		}
		m->hdrs[i].next = -1;
		if (tail < 0) {
			m->first[id] = i;
		} else {
			m->hdrs[tail].next = i;
		}
		tail = i;
	}
}

/* Take line idx off its name's chain, the others kept in order, without
 * walking the message. */
static void
chain_unlink(struct msg *m, enum hdr_id id, int32_t idx)
{
	if (id == HDR_UNKNOWN) {
		return;
	}
	if (m->first[id] == idx) {
		m->first[id] = (int16_t)m->hdrs[idx].next;
		return;
	}
	for (int32_t i = m->first[id]; i >= 0; i = m->hdrs[i].next) {
		if (m->hdrs[i].next == idx) {
			m->hdrs[i].next = m->hdrs[idx].next;
			return;
		}
	}
	msg_chain_rebuild(m, id);
}

void
msg_cache_drop(struct msg *m, enum hdr_id id)
{
	if (id != HDR_UNKNOWN) {
		/* a list is cached on its name's first line, and any live line
		 * of the name may be first after an edit: the chain holds them
		 * all (a removed line is still on it when this runs) */
		for (int32_t i = m->first[id]; i >= 0; i = m->hdrs[i].next) {
			m->hdrs[i].cache = NULL;
		}
	} else {
		for (uint32_t i = 0; i < m->nhdrs; i++) {
			if (m->hdrs[i].id == id) {
				m->hdrs[i].cache = NULL;
			}
		}
	}
	if (id == HDR_VIA) {
		m->via_top_state = 0;
	} else if (id == HDR_CSEQ) {
		m->cseq_state = 0;
	}
}

static bool
name_ok(const char *name)
{
	if (*name == '\0') {
		return false;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (!ch_is((unsigned char)*p, CH_TOKEN)) {
			return false;
		}
	}
	return true;
}

/*
 * Whether v may be written as a header value: CR and LF only in folds
 * (RFC 3261 7.3.1: a line break followed by SP or HT), as a received value
 * may hold them, and NUL only as the octet of a quoted-pair (25.1).  Every
 * header sipd writes is checked: the library's scans cost less than a loop
 * over the bytes, and a value without CR, LF and NUL costs three of them.
 * VALUE_PLAIN when it may and holds no line break (line_new() then need
 * not look for folds again), VALUE_FOLDED when it may and does,
 * VALUE_BAD when it may not.
 */
enum value_kind { VALUE_BAD, VALUE_PLAIN, VALUE_FOLDED };

/*
 * Whether v holds no CR, LF or NUL, the answer for nearly every value:
 * sixteen bytes at a time, the last sixteen loaded from the end (bytes
 * seen twice), so a value costs a few compares instead of three scans.
 */
static inline bool
value_clean(struct sv v)
{
	const char *p = v.p, *e = v.p + v.len;

#ifdef __SSE2__
	if (v.len >= 16) {
		const __m128i cr = _mm_set1_epi8('\r');
		const __m128i lf = _mm_set1_epi8('\n');
		const __m128i nul = _mm_setzero_si128();
		for (;; p += 16) {
			if (e - p < 16) {
				p = e - 16;
			}
			__m128i x =
			    _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i hit = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)),
			    _mm_cmpeq_epi8(x, nul));
			if (_mm_movemask_epi8(hit) != 0) {
				return false;
			}
			if (p + 16 == e) {
				return true;
			}
		}
	}
#endif
	for (; p < e; p++) {
		if (*p == '\r' || *p == '\n' || *p == '\0') {
			return false;
		}
	}
	return true;
}

static enum value_kind
value_check(struct sv v)
{
	const char *e = v.p + v.len;
	bool lf = false, cr = false;

	if (v.len == 0 || value_clean(v)) {
		return VALUE_PLAIN;
	}
	for (const char *p = v.p; (p = memchr(p, '\n', (size_t)(e - p))) != NULL;
	    p++) {
		if (e - p == 1 || (p[1] != ' ' && p[1] != '\t')) {
			return VALUE_BAD;
		}
		lf = true;
	}
	for (const char *p = v.p; (p = memchr(p, '\r', (size_t)(e - p))) != NULL;
	    p++) {
		if (e - p == 1 || p[1] != '\n') {
			return VALUE_BAD;
		}
		cr = true;
	}
	if (memchr(v.p, '\0', v.len) != NULL && msg_stray_nul(v.p, e) != NULL) {
		return VALUE_BAD;
	}
	return lf || cr ? VALUE_FOLDED : VALUE_PLAIN;
}

/* No CR, LF or NUL in v: for what must be one line (a Request-URI). */
static bool
bytes_ok(struct sv v)
{
	return v.len == 0 || (memchr(v.p, '\r', v.len) == NULL &&
	    memchr(v.p, '\n', v.len) == NULL &&
	    memchr(v.p, '\0', v.len) == NULL);
}

/*
 * Copy a value value_check() accepts to out, each fold written as the white
 * space after its line break (RFC 3261 7.3.1: a fold is LWS), so every
 * line sipd writes is one physical line.  Returns the length written.
 */
static size_t
unfold(struct sv v, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] != '\r' && v.p[i] != '\n') {
			out[n++] = v.p[i];
		}
	}
	return n;
}

/* Bytes unfold() writes for v, which value_check() found folded. */
static size_t
unfolded_len(struct sv v)
{
	size_t n = v.len;

	for (size_t i = 0; i < v.len; i++) {
		n -= v.p[i] == '\r' || v.p[i] == '\n';
	}
	return n;
}

/*
 * Append the line "name: value CRLF" to the buffer and describe it in h;
 * the value's folds are unfolded (kind: value_check()'s word on it).
 * name and value may point into m->buf: they are copied before the
 * buffer can move.
 */
static int
line_new(struct msg *m, struct sv name, struct sv value, enum value_kind kind,
    struct msg_hdr *h)
{
	size_t vlen = kind == VALUE_FOLDED ? unfolded_len(value) : value.len;
	size_t n = name.len + 2 + vlen + 2;
	char stackbuf[512];
	char *tmp = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
	uint32_t off;
	int rc;

	if (tmp == NULL) {
		return -ENOMEM;
	}
	memcpy(tmp, name.p, name.len);
	memcpy(tmp + name.len, ": ", 2);
	if (vlen == value.len) {
		memcpy(tmp + name.len + 2, value.p, value.len);
	} else {
		unfold(value, tmp + name.len + 2);
	}
	memcpy(tmp + n - 2, "\r\n", 2);
	rc = msg_append(m, tmp, n, &off);
	if (tmp != stackbuf) {
		free(tmp);
	}
	if (rc != 0) {
		return rc;
	}
	h->name = (struct span){ off, (uint32_t)name.len };
	h->value = (struct span){ off + (uint32_t)name.len + 2, (uint32_t)vlen };
	h->line = (struct span){ off, (uint32_t)n };
	h->flags |= MSG_HDR_ADDED;
	h->cache = NULL;
	return 0;
}

/* msg_hdr_insert() for a name already checked and looked up as id. */
static int
hdr_insert(struct msg *m, int before, struct sv name, enum hdr_id id,
    struct sv value)
{
	struct msg_hdr h = { 0 };
	enum value_kind kind = value_check(value);
	int idx, rc;

	if (kind == VALUE_BAD) {
		return -EINVAL;
	}
	if (before >= 0 && ((uint32_t)before >= m->nhdrs ||
	    (m->hdrs[before].flags & MSG_HDR_REMOVED))) {
		return -ENOENT;
	}
	h.id = (uint16_t)id;
	rc = line_new(m, name, value, kind, &h);
	if (rc != 0) {
		return rc;
	}
	idx = msg_hdr_slot(m);
	if (idx < 0) {
		return idx;
	}
	m->hdrs[idx] = h;

	/* link into the order list before `before`, or at the end */
	int32_t *link = &m->ohead;
	while (*link >= 0 && *link != before) {
		link = &m->onext[*link];
	}
	m->onext[idx] = *link;
	*link = idx;
	if (id != HDR_UNKNOWN && m->first[id] < 0) {
		/* the only one of its name */
		m->hdrs[idx].next = -1;
		m->first[id] = idx;
	} else if (id != HDR_UNKNOWN && before >= 0 && before == m->first[id]) {
		/* on top of its name's lines (a Via, a Record-Route): the
		 * chain in order is this one, then the others as they were */
		m->hdrs[idx].next = m->first[id];
		m->first[id] = idx;
	} else {
		msg_chain_rebuild(m, id);
	}
	msg_cache_drop(m, id);
	return idx;
}

int
msg_hdr_insert(struct msg *m, int before, const char *name, struct sv value)
{
	size_t len;

	if (!name_ok(name)) {
		return -EINVAL;
	}
	len = strlen(name);
	return hdr_insert(m, before, (struct sv){ name, len }, hdr_lookup(name,
	    len), value);
}

int
msg_hdr_insert_id(struct msg *m, int before, enum hdr_id id, struct sv value)
{
	const char *name = hdr_name(id);

	if (id == HDR_UNKNOWN || name == NULL) {
		return -EINVAL;
	}
	return hdr_insert(m, before, (struct sv){ name, strlen(name) }, id,
	    value);
}

int
msg_hdr_append(struct msg *m, const char *name, struct sv value)
{
	return msg_hdr_insert(m, -1, name, value);
}

int
msg_hdr_remove(struct msg *m, int idx)
{
	if (idx < 0 || (uint32_t)idx >= m->nhdrs ||
	    (m->hdrs[idx].flags & MSG_HDR_REMOVED)) {
		return -ENOENT;
	}
	int32_t *link = &m->ohead;
	while (*link >= 0 && *link != idx) {
		link = &m->onext[*link];
	}
	if (*link != idx) {
		return -ENOENT;
	}
	*link = m->onext[idx];
	m->hdrs[idx].flags |= MSG_HDR_REMOVED;
	enum hdr_id id = (enum hdr_id)m->hdrs[idx].id;
	msg_cache_drop(m, id);
	chain_unlink(m, id, idx);
	if (id == HDR_CONTENT_LENGTH) {
		m->cl_present = m->first[HDR_CONTENT_LENGTH] >= 0;
	}
	return 0;
}

int
msg_hdr_remove_all(struct msg *m, enum hdr_id id)
{
	int n = 0;

	for (int i = msg_hdr_first(m, id); i >= 0; i = msg_hdr_first(m, id)) {
		if (msg_hdr_remove(m, i) != 0) {
			break;
		}
		n++;
	}
	return n;
}

int
msg_hdr_replace(struct msg *m, int idx, struct sv value)
{
	struct msg_hdr *h;
	enum value_kind kind;
	int rc;

	if (idx < 0 || (uint32_t)idx >= m->nhdrs ||
	    (m->hdrs[idx].flags & MSG_HDR_REMOVED)) {
		return -ENOENT;
	}
	kind = value_check(value);
	if (kind == VALUE_BAD) {
		return -EINVAL;
	}
	h = &m->hdrs[idx];
	if (h->name.len >= 128) {
		return -EINVAL;
	}
	/* the name as it stands in the buffer: line_new() copies it, as
	 * the value, before the buffer can move */
	rc = line_new(m, msg_sv(m, h->name), value, kind, h);
	if (rc != 0) {
		return rc;
	}
	msg_cache_drop(m, (enum hdr_id)m->hdrs[idx].id);
	return 0;
}

int
msg_via_push(struct msg *m, struct sv value)
{
	return msg_hdr_insert_id(m, m->first[HDR_VIA] >= 0 ? m->first[HDR_VIA]
							    : m->ohead,
	    HDR_VIA, value);
}

int
msg_via_pop(struct msg *m)
{
	int i = m->first[HDR_VIA];

	if (i < 0) {
		return -ENOENT;
	}
	struct sv v = msg_sv(m, m->hdrs[i].value);
	const char *c;
	if (m->via_top_state > 0) {
		/* msg_via_top() found where the top value ends */
		c = m->via_top_comma ? m->buf + m->via_top_comma : v.p + v.len;
	} else {
		c = msg_find_comma(v.p, v.p + v.len);
	}
	if (c == NULL || c == v.p + v.len) {
		return msg_hdr_remove(m, i);
	}
	/* several values on the top line: keep the rest of them */
	const char *rest = skip_ws(c + 1, v.p + v.len);
	return msg_hdr_replace(m, i,
	    (struct sv){ rest, (size_t)(v.p + v.len - rest) });
}

/* A span of the old top Via value moved to out, where the bytes of the
 * value from `from` on were copied to `to` (both relative to the value). */
static void
via_span_move(struct span *sp, uint32_t val_off, size_t from, size_t upto,
    size_t to)
{
	if (sp->off != 0 && sp->off >= val_off + from &&
	    sp->off <= val_off + upto) {
		sp->off = (uint32_t)(sp->off - val_off - from + to);
		sp->off |= 0x80000000u;
	}
}

/* Whether addr, put in a received parameter, parses back as exactly that
 * value: an address as inet_ntop() writes it, hex digits, '.' and ':'. */
static bool
received_plain(struct sv addr)
{
	if (addr.len == 0) {
		return false;
	}
	for (size_t i = 0; i < addr.len; i++) {
		unsigned char ch = (unsigned char)addr.p[i];
		unsigned char lc = ch | 0x20;

		if (!ch_is(ch, CH_DIGIT) && !(lc >= 'a' && lc <= 'f') &&
		    ch != '.' && ch != ':') {
			return false;
		}
	}
	return true;
}

int
msg_via_set_received(struct msg *m, struct sv addr, uint16_t port)
{
	const struct msg_via *v = msg_via_top(m);
	char stackbuf[512];
	char *out;
	size_t n = 0;
	int rc;

	if (v == NULL) {
		return -ENOENT;
	}
	struct sv val = msg_sv(m, v->value);
	struct sv host = msg_sv(m, v->host);
	/* RFC 3261 18.2.1: received when sent-by differs from the source;
	 * RFC 3581 4: always when rport is present, with rport's value */
	bool want_received = v->rport || !sv_caseeq(host, addr);
	if (!want_received) {
		return 0;
	}
	/* the parse of the value written, as a parse of it would find it:
	 * every span of the old one moved with its bytes (tagged by the top
	 * bit until the value's place is known), the received and rport
	 * written here; kept only when the value parses back as written */
	struct msg_via nv = *v;
	bool keep = received_plain(addr) && (!v->rport || port != 0) &&
	    m->len < 0x40000000u;
	int i = v->hdr;
	struct sv line = msg_sv(m, m->hdrs[i].value);
	/* msg_via_top() found where the top value ends */
	const char *c = m->via_top_comma ? m->buf + m->via_top_comma
					 : line.p + line.len;
	size_t rest = (size_t)(line.p + line.len - c);
	size_t need = val.len + addr.len + rest + 32;
	out = need <= sizeof(stackbuf) ? stackbuf : malloc(need);
	if (out == NULL) {
		return -ENOMEM;
	}
	/* copy sent-protocol and sent-by, then params without received and
	 * rport, then the fresh ones */
	const char *p = val.p, *e = val.p + val.len;
	const char *params = v->params.len ? m->buf + v->params.off - 1 : e;
	bool quotes = memchr(params, '"', (size_t)(e - params)) != NULL;
	memcpy(out, p, (size_t)(params - p));
	n = (size_t)(params - p);
	via_span_move(&nv.protocol, v->value.off, 0, n, 0);
	via_span_move(&nv.version, v->value.off, 0, n, 0);
	via_span_move(&nv.transport, v->value.off, 0, n, 0);
	via_span_move(&nv.host, v->value.off, 0, n, 0);
	size_t prefix = n;
	p = params;
	while (p < e) {
		const char *q = p + 1;
		/* the next ';' outside quotes ends this parameter */
		if (!quotes) {
			q = memchr(q, ';', (size_t)(e - q));
			q = q ? q : e;
		}
		while (q < e && *q != ';') {
			if (*q == '"') {
				const char *r = skip_quoted(q, e);
				q = r ? r : e;
				continue;
			}
			q++;
		}
		const char *ns = skip_ws(p + 1, q);
		const char *ne = skip_token(ns, q);
		bool drop = (ne - ns == 8 && caseeq_n(ns, "received", 8)) ||
		    (ne - ns == 5 && caseeq_n(ns, "rport", 5));
		if (!drop) {
			size_t from = (size_t)(p - val.p);
			size_t upto = (size_t)(q - val.p);
			via_span_move(&nv.branch, v->value.off, from, upto, n);
			via_span_move(&nv.maddr, v->value.off, from, upto, n);
			memcpy(out + n, p, (size_t)(q - p));
			n += (size_t)(q - p);
		}
		p = q;
	}
	memcpy(out + n, ";received=", 10);
	n += 10;
	nv.received = (struct span){ (uint32_t)n | 0x80000000u,
		(uint32_t)addr.len };
	memcpy(out + n, addr.p, addr.len);
	n += addr.len;
	if (v->rport) {
		memcpy(out + n, ";rport=", 7);
		n += 7;
		n += sv_utoa(port, out + n);
		nv.rport_value = port;
	}
	nv.value = (struct span){ 0x80000000u, (uint32_t)n };
	nv.params = (struct span){ (uint32_t)(prefix + 1) | 0x80000000u,
		(uint32_t)(n - prefix - 1) };
	size_t vlen = n;
	/* the top line may hold further values after this one */
	if (rest > 0) {
		memcpy(out + n, c, rest);
		n += rest;
	}
	rc = msg_hdr_replace(m, i, (struct sv){ out, n });
	if (out != stackbuf) {
		free(out);
	}
	/* a folded line was unfolded as written: its bytes moved */
	if (rc != 0 || !keep || m->hdrs[i].value.len != n) {
		return rc;
	}
	uint32_t off = m->hdrs[i].value.off;
	struct span *moved[] = { &nv.value, &nv.protocol, &nv.version,
		&nv.transport, &nv.host, &nv.branch, &nv.maddr, &nv.received,
		&nv.params };
	for (size_t k = 0; k < sizeof(moved) / sizeof(*moved); k++) {
		if (moved[k]->off & 0x80000000u) {
			moved[k]->off = (moved[k]->off & 0x7fffffffu) + off;
		} else if (moved[k]->off != 0) {
			/* a span that did not move with its bytes: parse */
			return 0;
		}
	}
	m->via_top = nv;
	m->via_top_comma = rest > 0 ? off + (uint32_t)vlen : 0;
	m->via_top_state = 1;
	return 0;
}

int
msg_set_ruri(struct msg *m, struct sv uri)
{
	struct sv method = msg_sv(m, m->method_s);
	size_t n = method.len + 1 + uri.len + 1 + 7 + 2;
	char *tmp;
	uint32_t off;
	struct uri u;
	int rc;

	if (!m->is_request || !bytes_ok(uri) || uri.len == 0 ||
	    memchr(uri.p, ' ', uri.len) != NULL) {
		return -EINVAL;
	}
	tmp = malloc(n);
	if (tmp == NULL) {
		return -ENOMEM;
	}
	memcpy(tmp, method.p, method.len);
	tmp[method.len] = ' ';
	memcpy(tmp + method.len + 1, uri.p, uri.len);
	memcpy(tmp + method.len + 1 + uri.len, " SIP/2.0\r\n", 10);
	rc = msg_append(m, tmp, n, &off);
	free(tmp);
	if (rc != 0) {
		return rc;
	}
	struct span rs = { off + (uint32_t)method.len + 1, (uint32_t)uri.len };
	if (uri_parse(m->buf, rs, &u) != 0) {
		m->len = off; /* drop the appended line again */
		return -EINVAL;
	}
	m->start = (struct span){ off, (uint32_t)n };
	m->method_s = (struct span){ off, (uint32_t)method.len };
	m->ruri_s = rs;
	m->version_s = (struct span){ rs.off + rs.len + 1, 7 };
	m->ruri = u;
	m->ruri_ok = true;
	m->start_bad = false;
	return 0;
}

int
msg_set_body(struct msg *m, const struct sv *ctype, struct sv body)
{
	char num[16];
	uint32_t off;
	int rc, i;

	if (ctype != NULL) {
		i = m->first[HDR_CONTENT_TYPE];
		rc = i >= 0 ? msg_hdr_replace(m, i, *ctype)
			    : msg_hdr_append(m, "Content-Type", *ctype);
		if (rc < 0) {
			return rc;
		}
	}
	rc = msg_append(m, body.p, body.len, &off);
	if (rc != 0) {
		return rc;
	}
	m->body = (struct span){ off, (uint32_t)body.len };
	struct sv nv = { num, (size_t)snprintf(num, sizeof(num), "%zu",
				  body.len) };
	msg_hdr_remove_all(m, HDR_CONTENT_LENGTH);
	rc = msg_hdr_append(m, "Content-Length", nv);
	if (rc < 0) {
		return rc;
	}
	m->cl_present = true;
	m->cl_bad = false;
	m->cl = (uint32_t)body.len;
	return 0;
}

size_t
msg_size(const struct msg *m)
{
	size_t n = m->start.len;

	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		n += m->hdrs[i].line.len;
	}
	n += m->eoh.len ? m->eoh.len : 2;
	return n + m->body.len;
}

/*
 * Copy the run of buffer bytes [off, off + len) to out at *n; false when
 * it would pass cap.  With r, the run is noted there as well (split where
 * the received bytes end); false when r is full.
 */
static inline __attribute__((always_inline)) bool
put_run(const struct msg *m, uint32_t off, uint32_t len, char *out,
    size_t *n, size_t cap, struct msg_runs *r)
{
	if (len > cap - *n) {
		return false;
	}
	memcpy(out + *n, m->buf + off, len);
	*n += len;
	if (r != NULL && len > 0) {
		uint32_t rx = off < m->rx_len ? m->rx_len - off : 0;

		if (rx > len) {
			rx = len;
		}
		if (rx > 0) {
			if (r->n == r->max) {
				return false;
			}
			r->run[r->n++] = (struct msg_run){ off, rx };
		}
		if (len > rx) {
			if (r->n == r->max) {
				return false;
			}
			r->run[r->n++] = (struct msg_run){ MSG_RUN_NEW, len - rx };
		}
	}
	return true;
}

/* msg_write(), and msg_write_runs() with r: made in each, so that
 * msg_write() has no test of r. */
static inline __attribute__((always_inline)) int
write_runs(const struct msg *m, char *out, size_t cap, struct msg_runs *r)
{
	size_t n = 0;
	uint32_t off = m->start.off, len = m->start.len;

	if (cap > INT32_MAX) {
		cap = INT32_MAX;
	}
	/* lines that follow one another in the buffer, as received ones do,
	 * go in one copy: a forwarded request is a few runs, not a copy a
	 * line; the bounds are checked per run, so msg_size()'s walk is not
	 * needed first */
	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		const struct span *l = &m->hdrs[i].line;

		if (l->off == off + len) {
			len += l->len;
			continue;
		}
		if (!put_run(m, off, len, out, &n, cap, r)) {
			return -ENOSPC;
		}
		off = l->off;
		len = l->len;
	}
	if (m->eoh.len && m->eoh.off == off + len) {
		len += m->eoh.len;
	} else {
		if (!put_run(m, off, len, out, &n, cap, r)) {
			return -ENOSPC;
		}
		off = m->eoh.off;
		len = m->eoh.len;
		if (len == 0) {
			if (cap - n < 2) {
				return -ENOSPC;
			}
			memcpy(out + n, "\r\n", 2);
			n += 2;
			if (r != NULL) {
				if (r->n == r->max) {
					return -ENOSPC;
				}
				r->run[r->n++] = (struct msg_run){ MSG_RUN_NEW, 2 };
			}
			off = m->body.off;
		}
	}
	if (m->body.len && m->body.off == off + len) {
		len += m->body.len;
	} else {
		if (!put_run(m, off, len, out, &n, cap, r)) {
			return -ENOSPC;
		}
		off = m->body.off;
		len = m->body.len;
	}
	if (!put_run(m, off, len, out, &n, cap, r)) {
		return -ENOSPC;
	}
	return (int)n;
}

int
msg_write(const struct msg *m, char *out, size_t cap)
{
	return write_runs(m, out, cap, NULL);
}

int
msg_write_runs(const struct msg *m, char *out, size_t cap,
    struct msg_runs *r)
{
	r->n = 0;
	return write_runs(m, out, cap, r);
}

/* Append a copy of every live line with this id to out. */
static size_t
copy_lines(const struct msg *m, enum hdr_id id, char *out)
{
	size_t n = 0;

	for (int i = m->first[id]; i >= 0; i = m->hdrs[i].next) {
		memcpy(out + n, m->buf + m->hdrs[i].line.off,
		    m->hdrs[i].line.len);
		n += m->hdrs[i].line.len;
	}
	return n;
}

static size_t
lines_len(const struct msg *m, enum hdr_id id)
{
	size_t n = 0;

	for (int i = m->first[id]; i >= 0; i = m->hdrs[i].next) {
		n += m->hdrs[i].line.len;
	}
	return n;
}

/*
 * The header of id, when the request has exactly one and it is usable
 * in a response (it parses); else -1.
 */
static int
usable(struct msg *req, enum hdr_id id)
{
	int i = req->first[id];
	bool ok;

	if (i < 0 || req->hdrs[i].next >= 0) {
		return -1;
	}
	switch (id) {
	case HDR_FROM:
		ok = msg_from(req) != NULL;
		break;
	case HDR_TO:
		ok = msg_to(req) != NULL;
		break;
	case HDR_CALL_ID:
		ok = msg_callid_ok(msg_sv(req, req->hdrs[i].value));
		break;
	default: /* HDR_CSEQ */
		ok = msg_cseq(req) != NULL;
		break;
	}
	return ok ? i : -1;
}

/* Append header line i of m to out, if i >= 0. */
static size_t
copy_line(const struct msg *m, int i, char *out)
{
	if (i < 0) {
		return 0;
	}
	memcpy(out, m->buf + m->hdrs[i].line.off, m->hdrs[i].line.len);
	return m->hdrs[i].line.len;
}

static size_t
line_len(const struct msg *m, int i)
{
	return i < 0 ? 0 : m->hdrs[i].line.len;
}

/* p[0..len) at out + *n, *n moved past it (room checked by the caller) */
static void
put(char *out, size_t *n, const char *p, size_t len)
{
	memcpy(out + *n, p, len);
	*n += len;
}

/*
 * msg_response()'s bytes into out (cap bytes), with the line "xname:
 * xvalue" after Content-Length when xname is not NULL.  The length
 * written, or -EINVAL (see msg_response()), -ENOSPC.
 */
static int
response_write(struct msg *req, int status, const char *reason,
    struct sv to_tag, const char *xname, struct sv xvalue, char *out,
    size_t cap)
{
	size_t need, n, reason_len, xlen = xname != NULL ? strlen(xname) : 0;
	int from, to, callid, cseq;

	/* RFC 3261 18.2.2: the top Via says where the response goes */
	if (!req->is_request || status < 100 || status > 699 ||
	    msg_via_top(req) == NULL) {
		return -EINVAL;
	}
	/* 8.2.6.2: the others are copied; of a malformed request (a 400,
	 * 8.2.6.1), those that are there once and parse */
	from = usable(req, HDR_FROM);
	to = usable(req, HDR_TO);
	callid = usable(req, HDR_CALL_ID);
	cseq = usable(req, HDR_CSEQ);
	/* the default phrases are one line each: only the caller's is
	 * checked */
	if (reason == NULL) {
		reason = msg_reason_phrase(status);
		reason_len = strlen(reason);
	} else {
		reason_len = strlen(reason);
		if (!bytes_ok((struct sv){ reason, reason_len })) {
			return -EINVAL;
		}
	}
	if (!bytes_ok(to_tag) || (xname != NULL && !bytes_ok(xvalue))) {
		return -EINVAL;
	}
	need = 32 + reason_len + lines_len(req, HDR_VIA) +
	    line_len(req, from) + line_len(req, to) + line_len(req, callid) +
	    line_len(req, cseq) + (to >= 0 ? req->hdrs[to].value.len : 0) +
	    to_tag.len + 32 + (xname != NULL ? xlen + 4 + xvalue.len : 0);
	if (need > cap) {
		return -ENOSPC;
	}
	/* "SIP/2.0 %03d %s\r\n" without printf, which costs more than the
	 * rest of the response: status has three digits (checked above) */
	memcpy(out, "SIP/2.0 ", 8);
	out[8] = (char)('0' + status / 100);
	out[9] = (char)('0' + status / 10 % 10);
	out[10] = (char)('0' + status % 10);
	out[11] = ' ';
	memcpy(out + 12, reason, reason_len);
	memcpy(out + 12 + reason_len, "\r\n", 2);
	n = 12 + reason_len + 2;
	n += copy_lines(req, HDR_VIA, out + n);
	n += copy_line(req, from, out + n);
	if (to >= 0 && status > 100 && msg_to(req)->tag.len == 0 &&
	    to_tag.len > 0) {
		/* RFC 3261 8.2.6.2: the UAS adds a tag to To */
		struct sv tv = msg_sv(req, req->hdrs[to].value);
		put(out, &n, "To: ", 4);
		put(out, &n, tv.p, tv.len);
		put(out, &n, ";tag=", 5);
		put(out, &n, to_tag.p, to_tag.len);
		put(out, &n, "\r\n", 2);
	} else {
		n += copy_line(req, to, out + n);
	}
	n += copy_line(req, callid, out + n);
	n += copy_line(req, cseq, out + n);
	put(out, &n, "Content-Length: 0\r\n", 19);
	if (xname != NULL) {
		/* as msg_hdr_append() would write it */
		put(out, &n, xname, xlen);
		put(out, &n, ": ", 2);
		put(out, &n, xvalue.p, xvalue.len);
		put(out, &n, "\r\n", 2);
	}
	put(out, &n, "\r\n", 2);
	return n > INT32_MAX ? -ENOSPC : (int)n;
}

struct msg *
msg_response(struct msg *req, int status, const char *reason,
    struct sv to_tag)
{
	struct msg_limits lim = req->lim;
	struct msg *r = NULL;
	size_t cap;
	char *buf;
	int n;

	if (!req->is_request) {
		return NULL;
	}
	/* at least what response_write() asks for: every line it may copy */
	cap = 64 + (reason != NULL ? strlen(reason)
				   : strlen(msg_reason_phrase(status))) +
	    lines_len(req, HDR_VIA) + line_len(req, req->first[HDR_FROM]) +
	    2 * line_len(req, req->first[HDR_TO]) +
	    line_len(req, req->first[HDR_CALL_ID]) +
	    line_len(req, req->first[HDR_CSEQ]) + to_tag.len;
	buf = malloc(cap);
	if (buf == NULL) {
		return NULL;
	}
	n = response_write(req, status, reason, to_tag, NULL, (struct sv){ 0 },
	    buf, cap);
	if (n > 0) {
		if (lim.max_size < (uint32_t)n) {
			lim.max_size = (uint32_t)n;
		}
		if (lim.max_headers < req->nhdrs + 2) {
			lim.max_headers = req->nhdrs + 2;
		}
		r = msg_parse(buf, (size_t)n, &lim, NULL);
	}
	free(buf);
	return r;
}

int
msg_response_write(struct msg *req, int status, const char *reason,
    struct sv to_tag, const char *xname, struct sv xvalue, char *out,
    size_t cap)
{
	if (xname != NULL && !name_ok(xname)) {
		return -EINVAL;
	}
	return response_write(req, status, reason, to_tag, xname, xvalue, out,
	    cap);
}

/* The length unfold() writes for v, or -1 when msg_hdr_append() would
 * refuse it */
static long
value_len(struct sv v)
{
	switch (value_check(v)) {
	case VALUE_PLAIN:
		return (long)v.len;
	case VALUE_FOLDED:
		return (long)unfolded_len(v);
	default:
		return -1;
	}
}

int
msg_response_add_lines(char *buf, size_t len, size_t cap,
    const struct msg_line *x, size_t n)
{
	size_t at, nl;
	long vl;
	int rc;

	if (len < 4 || len > cap ||
	    memcmp(buf + len - 4, "\r\n\r\n", 4) != 0) {
		return -EINVAL;
	}
	/* over the empty line, which comes back last */
	at = len - 2;
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(x[i].name) || (vl = value_len(x[i].value)) < 0) {
			rc = -EINVAL;
			goto fail;
		}
		nl = strlen(x[i].name);
		if (cap - at < nl + 2 + (size_t)vl + 2 + 2) {
			rc = -ENOSPC;
			goto fail;
		}
		put(buf, &at, x[i].name, nl);
		put(buf, &at, ": ", 2);
		if ((size_t)vl == x[i].value.len) {
			put(buf, &at, x[i].value.p, x[i].value.len);
		} else {
			at += unfold(x[i].value, buf + at);
		}
		put(buf, &at, "\r\n", 2);
	}
	if (cap - at < 2 || at + 2 > INT32_MAX) {
		rc = -ENOSPC;
		goto fail;
	}
	put(buf, &at, "\r\n", 2);
	return (int)at;
fail:
	/* the lines before the failed one are beyond len: only the empty
	 * line they wrote over needs to come back */
	memcpy(buf + len - 2, "\r\n", 2);
	return rc;
}
