/*
 * The bytes a transaction keeps: its request, and the response or ACK it
 * resends.  A text is the bytes themselves, or an edit script over
 * another text it holds a reference to.  A proxy forwards the request it
 * received with a few lines added or changed (its Via, Record-Route,
 * Max-Forwards), and a provisional response repeats the request's Via,
 * From, Call-ID and CSeq lines: kept as scripts over the server
 * transaction's request, a ringing call holds the INVITE once.
 *
 * A script is a run of operations, each a varint (length << 1 | copy),
 * then for a copy a varint offset into the base, for an insert the bytes.
 * Lines are matched whole, in order, so a script is found in one pass
 * over each side's lines.
 */
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

/* Lines of a base looked at; the rest of a longer one counts as one. */
#define TEXT_LINES_MAX 256
/* A script longer than this is not worth it: the text stays whole. */
#define TEXT_SCRIPT_MAX 1024

struct txn_text *
txn_text_new(struct msg *m)
{
	size_t n = msg_size(m);
	struct txn_text *x;
	int w;

	if (n > UINT32_MAX - sizeof(*x)) {
		return NULL;
	}
	x = malloc(sizeof(*x) + (n ? n : 1));
	if (x == NULL) {
		return NULL;
	}
	w = msg_write(m, x->d, n);
	if (w < 0) {
		free(x);
		return NULL;
	}
	x->base = NULL;
	x->refs = 1;
	x->len = (uint32_t)w;
	x->nd = (uint32_t)w;
	return x;
}

void
txn_text_unref(struct txn_text *x)
{
	while (x != NULL && --x->refs == 0) {
		struct txn_text *b = x->base;

		free(x);
		x = b;
	}
}

/* A varint, 7 bits a byte, low first. */
static size_t
put_varint(uint8_t *out, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static bool
get_varint(const uint8_t **p, const uint8_t *e, uint32_t *v)
{
	uint32_t r = 0;

	for (int shift = 0; *p < e && shift < 35; shift += 7) {
		uint8_t b = *(*p)++;

		r |= (uint32_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = r;
			return true;
		}
	}
	return false;
}

struct script {
	uint8_t b[TEXT_SCRIPT_MAX];
	size_t n;
	bool full;
};

static void
emit_copy(struct script *s, uint32_t off, uint32_t len)
{
	if (len == 0 || s->full) {
		return;
	}
	if (s->n + 10 > sizeof(s->b)) {
		s->full = true;
		return;
	}
	s->n += put_varint(s->b + s->n, len << 1 | 1);
	s->n += put_varint(s->b + s->n, off);
}

static void
emit_insert(struct script *s, const char *p, uint32_t len)
{
	if (len == 0 || s->full) {
		return;
	}
	if (s->n + 5 + len > sizeof(s->b)) {
		s->full = true;
		return;
	}
	s->n += put_varint(s->b + s->n, len << 1);
	memcpy(s->b + s->n, p, len);
	s->n += len;
}

/* The end of the line starting at p (after its LF), or e. */
static const char *
line_end(const char *p, const char *e)
{
	const char *lf = memchr(p, '\n', (size_t)(e - p));

	return lf != NULL ? lf + 1 : e;
}

struct txn_text *
txn_text_delta(struct txn_text *base, const char *p, uint32_t len)
{
	uint32_t bl[TEXT_LINES_MAX + 1];
	struct script s;
	const char *bp, *be, *q = p, *e = p + len;
	uint32_t coff = 0, clen = 0, ioff = 0, ilen = 0;
	int nb = 0, cur = 0;
	struct txn_text *x;

	if (base == NULL || base->base != NULL || len >= UINT32_MAX >> 1) {
		return NULL;
	}
	bp = base->d;
	be = bp + base->len;
	for (const char *l = bp; l < be && nb < TEXT_LINES_MAX; nb++) {
		bl[nb] = (uint32_t)(l - bp);
		l = nb + 1 < TEXT_LINES_MAX ? line_end(l, be) : be;
	}
	bl[nb] = base->len;
	s.n = 0;
	s.full = false;
	while (q < e && !s.full) {
		const char *le = line_end(q, e);
		uint32_t ll = (uint32_t)(le - q);
		int j = cur;

		/* the next line of the base that is the same, if any: the
		 * lines an edit kept stay in their order */
		while (j < nb && (bl[j + 1] - bl[j] != ll ||
		    memcmp(bp + bl[j], q, ll) != 0)) {
			j++;
		}
		if (j < nb) {
			emit_insert(&s, p + ioff, ilen);
			ilen = 0;
			if (clen > 0 && coff + clen == bl[j]) {
				clen += ll;
			} else {
				emit_copy(&s, coff, clen);
				coff = bl[j];
				clen = ll;
			}
			cur = j + 1;
		} else {
			emit_copy(&s, coff, clen);
			clen = 0;
			if (ilen == 0) {
				ioff = (uint32_t)(q - p);
			}
			ilen += ll;
		}
		q = le;
	}
	emit_copy(&s, coff, clen);
	emit_insert(&s, p + ioff, ilen);
	if (s.full || s.n + sizeof(*base) >= len) {
		return NULL; /* no smaller than the bytes */
	}
	x = malloc(sizeof(*x) + s.n);
	if (x == NULL) {
		return NULL;
	}
	memcpy(x->d, s.b, s.n);
	x->base = base;
	base->refs++;
	x->refs = 1;
	x->len = len;
	x->nd = (uint32_t)s.n;
	return x;
}

/* Write x's bytes to out (x->len bytes); false for a bad script. */
static bool
expand(const struct txn_text *x, char *out)
{
	const uint8_t *p = (const uint8_t *)x->d, *e = p + x->nd;
	const struct txn_text *b = x->base;
	uint32_t n = 0, v, off;

	while (p < e) {
		if (!get_varint(&p, e, &v)) {
			return false;
		}
		uint32_t l = v >> 1;
		if (l > x->len - n) {
			return false;
		}
		if (v & 1) {
			if (!get_varint(&p, e, &off) || off > b->len ||
			    l > b->len - off) {
				return false;
			}
			memcpy(out + n, b->d + off, l);
		} else {
			if (l > (size_t)(e - p)) {
				return false;
			}
			memcpy(out + n, p, l);
			p += l;
		}
		n += l;
	}
	return n == x->len;
}

const char *
txn_text_bytes(const struct txn_text *x, char **tmp)
{
	*tmp = NULL;
	if (x->base == NULL) {
		return x->d;
	}
	*tmp = malloc(x->len ? x->len : 1);
	if (*tmp == NULL) {
		return NULL;
	}
	if (!expand(x, *tmp)) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return *tmp;
}
