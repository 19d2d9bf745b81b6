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
 * A forwarded request's script is made from what the message layer
 * knows of its lines (msg_write_runs()): each run of received lines is
 * a copy of the base at its offset, checked to be the same bytes, and
 * only the lines the proxy made are looked at.  Other texts (a
 * provisional response) are matched line by line: lines are matched
 * whole, in order, so a script is found in one pass over each side's
 * lines.  A line matched by none copies its start and its end from a
 * line just ahead in the base when they are long enough.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

/* Lines of a base looked at; the rest of a longer one counts as one. */
#define TEXT_LINES_MAX 256
/* A script longer than this is not worth it: the text stays whole. */
#define TEXT_SCRIPT_MAX 1024
/* A changed line copies its start, and then its end, from one of the
 * next TEXT_NEAR lines of the base when they share this much: a copy
 * costs some 4 bytes of script. */
#define TEXT_PREFIX_MIN 8
#define TEXT_NEAR 8

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
	return x;
}

struct txn_text *
txn_text_copy(const char *p, size_t n)
{
	struct txn_text *x;

	if (n > UINT32_MAX - sizeof(*x)) {
		return NULL;
	}
	x = malloc(sizeof(*x) + (n ? n : 1));
	if (x == NULL) {
		return NULL;
	}
	memcpy(x->d, p, n);
	x->base = NULL;
	x->refs = 1;
	x->len = (uint32_t)n;
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

/* A varint written by put_varint(): at most 5 bytes. */
static void
get_varint(const uint8_t **p, uint32_t *v)
{
	uint32_t r = 0;

	for (int shift = 0; shift < 35; shift += 7) {
		uint8_t b = *(*p)++;

		r |= (uint32_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			break;
		}
	}
	*v = r;
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

/* The first of the eight bytes loaded into x and y (little-endian
 * words) that differ, x != y: counted from the first byte, or from the
 * last. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_FIRST_DIFF(x, y) ((uint32_t)__builtin_ctzll((x) ^ (y)) / 8)
#define WORD_LAST_DIFF(x, y) ((uint32_t)__builtin_clzll((x) ^ (y)) / 8)
#endif

/* How many bytes a and b share from their start, at most m: eight at a
 * time, the word that differs told apart by its lowest differing bit,
 * the last bytes by one word ending at m. */
static uint32_t
same_start(const char *a, const char *b, uint32_t m)
{
	uint32_t i = 0;
	uint64_t x, y;

	for (; m - i >= 8; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
#ifdef WORD_FIRST_DIFF
			return i + WORD_FIRST_DIFF(x, y);
#else
			break;
#endif
		}
	}
#ifdef WORD_FIRST_DIFF
	if (i < m && m >= 8) {
		/* the word ending at m: its bytes before i are known equal */
		memcpy(&x, a + m - 8, 8);
		memcpy(&y, b + m - 8, 8);
		return x == y ? m : m - 8 + WORD_FIRST_DIFF(x, y);
	}
#endif
	while (i < m && a[i] == b[i]) {
		i++;
	}
	return i;
}

/* How many bytes the m bytes ending at a and at b share from their end,
 * the same way from the other side. */
static uint32_t
same_end(const char *a, const char *b, uint32_t m)
{
	uint32_t f = 0;
	uint64_t x, y;

	for (; m - f >= 8; f += 8) {
		memcpy(&x, a - f - 8, 8);
		memcpy(&y, b - f - 8, 8);
		if (x != y) {
#ifdef WORD_LAST_DIFF
			return f + WORD_LAST_DIFF(x, y);
#else
			break;
#endif
		}
	}
#ifdef WORD_LAST_DIFF
	if (f < m && m >= 8) {
		/* the word starting m bytes back: its last f bytes equal */
		memcpy(&x, a - m, 8);
		memcpy(&y, b - m, 8);
		return x == y ? m : m - 8 + WORD_LAST_DIFF(x, y);
	}
#endif
	while (f < m && a[-1 - (ptrdiff_t)f] == b[-1 - (ptrdiff_t)f]) {
		f++;
	}
	return f;
}

/* The script being written: a copy or an insert waits to be merged
 * with the next one of its kind that continues it. */
struct delta {
	struct script s;
	const char *p;
	uint32_t coff, clen, ioff, ilen;
};

static void
add_copy(struct delta *d, uint32_t off, uint32_t len)
{
	emit_insert(&d->s, d->p + d->ioff, d->ilen);
	d->ilen = 0;
	if (d->clen > 0 && d->coff + d->clen == off) {
		d->clen += len;
		return;
	}
	emit_copy(&d->s, d->coff, d->clen);
	d->coff = off;
	d->clen = len;
}

static void
add_insert(struct delta *d, uint32_t off, uint32_t len)
{
	emit_copy(&d->s, d->coff, d->clen);
	d->clen = 0;
	if (d->ilen > 0 && d->ioff + d->ilen == off) {
		d->ilen += len;
		return;
	}
	emit_insert(&d->s, d->p + d->ioff, d->ilen);
	d->ioff = off;
	d->ilen = len;
}

/* The script d wrote as a text of len bytes over base; NULL when it is
 * no smaller than the bytes, or on allocation failure. */
static struct txn_text *
finish(struct delta *d, struct txn_text *base, uint32_t len)
{
	struct txn_text *x;

	/* at most one of them waits */
	emit_copy(&d->s, d->coff, d->clen);
	emit_insert(&d->s, d->p + d->ioff, d->ilen);
	if (d->s.full || d->s.n + sizeof(*base) >= len) {
		return NULL; /* no smaller than the bytes */
	}
	x = malloc(sizeof(*x) + d->s.n);
	if (x == NULL) {
		return NULL;
	}
	memcpy(x->d, d->s.b, d->s.n);
	x->base = base;
	base->refs++;
	x->refs = 1;
	x->len = len;
	return x;
}

static void
delta_init(struct delta *d, const char *p)
{
	/* the script's bytes are written before they are read: only its
	 * state starts at zero */
	d->s.n = 0;
	d->s.full = false;
	d->p = p;
	d->coff = d->clen = d->ioff = d->ilen = 0;
}

struct txn_text *
txn_text_delta(struct txn_text *base, const char *p, uint32_t len)
{
	/* the base's lines: where each starts, and its length (one more
	 * slot, where a search puts what it looks for), and the first word
	 * of those a word long */
	uint32_t bl[TEXT_LINES_MAX + 1], bn[TEXT_LINES_MAX + 1];
	uint64_t bw[TEXT_LINES_MAX];
	struct delta d;
	const char *bp, *be, *q = p, *e = p + len;
	int nb = 0, cur = 0;

	if (base == NULL || base->base != NULL || len >= UINT32_MAX >> 1) {
		return NULL;
	}
	delta_init(&d, p);
	bp = base->d;
	be = bp + base->len;
	/* a text without a body (a provisional response) has nothing to
	 * copy from the base's: past its empty line, the base is one line,
	 * not a line of its body each to find and look through */
	bool rest = false, bodiless = len >= 4 &&
	    memcmp(p + len - 4, "\r\n\r\n", 4) == 0;
	for (const char *l = bp; l < be && nb < TEXT_LINES_MAX; nb++) {
		bl[nb] = (uint32_t)(l - bp);
		l = nb + 1 < TEXT_LINES_MAX && !rest ? line_end(l, be) : be;
		bn[nb] = (uint32_t)(l - bp) - bl[nb];
		bw[nb] = 0;
		if (bn[nb] >= sizeof(bw[nb])) {
			memcpy(&bw[nb], bp + bl[nb], sizeof(bw[nb]));
		}
		rest = bodiless && ((bn[nb] == 1 && bp[bl[nb]] == '\n') ||
		    (bn[nb] == 2 && bp[bl[nb]] == '\r'));
	}
	bl[nb] = base->len;
	while (q < e && !d.s.full) {
		if (cur < nb) {
			/* the lines an edit kept come in runs: the bytes shared
			 * with the base from its next line on, compared eight
			 * at a time, and every whole line of the base in them
			 * copied at once, as the loop below would one by one */
			uint32_t room = (uint32_t)(e - q), same;
			int j = cur;

			if (room > base->len - bl[cur]) {
				room = base->len - bl[cur];
			}
			same = same_start(bp + bl[cur], q, room);
			while (j < nb && bl[j + 1] - bl[cur] <= same &&
			    bp[bl[j + 1] - 1] == '\n') {
				j++;
			}
			if (j > cur) {
				add_copy(&d, bl[cur], bl[j] - bl[cur]);
				q += bl[j] - bl[cur];
				cur = j;
				continue;
			}
		}
		const char *le = line_end(q, e);
		uint32_t ll = (uint32_t)(le - q), best = 0, bend = 0;
		uint32_t boff = 0, bfoff = 0;
		uint64_t qw = 0;
		int j = cur;

		/* the next line of the base that is the same, if any: the
		 * lines an edit kept stay in their order.  By length first,
		 * the slot after the last line holding it, so that the loop
		 * stops there without a test of its own */
		bn[nb] = ll;
		for (;; j++) {
			while (bn[j] != ll) {
				j++;
			}
			if (j == nb || memcmp(bp + bl[j], q, ll) == 0) {
				break;
			}
		}
		if (j < nb) {
			add_copy(&d, bl[j], ll);
			cur = j + 1;
			q = le;
			continue;
		}
		/* a new or changed line: the start it shares with one of the
		 * next lines of the base (a header's name, a Via's protocol
		 * and host, a To before its tag), and then the end (a
		 * Contact's parameters) */
		_Static_assert(TEXT_PREFIX_MIN == sizeof(qw),
		    "a start worth copying is one word");
		if (ll >= sizeof(qw)) {
			memcpy(&qw, q, sizeof(qw));
		}
		for (int k = cur, kn = nb < cur + TEXT_NEAR ? nb : cur + TEXT_NEAR;
		    ll >= sizeof(qw) && k < kn; k++) {
			const char *b = bp + bl[k];
			uint32_t m, i, f;

			/* no start worth a copy unless the first word is the
			 * same: one compare rejects most lines */
			if (bw[k] != qw) {
				continue;
			}
			m = bn[k] < ll ? bn[k] : ll;
			if (m <= best + bend || m < sizeof(qw) ||
			    (i = same_start(b, q, m)) < TEXT_PREFIX_MIN) {
				continue; /* no better at best, or no start */
			}
			f = same_end(b + bn[k], q + ll, m - i);
			f = f >= TEXT_PREFIX_MIN ? f : 0;
			if (i + f > best + bend) {
				best = i;
				bend = f;
				boff = bl[k];
				bfoff = bl[k + 1] - f;
			}
		}
		if (best > 0) {
			add_copy(&d, boff, best);
		}
		add_insert(&d, (uint32_t)(q - p) + best, ll - best - bend);
		if (bend > 0) {
			add_copy(&d, bfoff, bend);
		}
		q = le;
	}
	return finish(&d, base, len);
}

/*
 * A line an edit made, q[0..ll) at offset q - d->p: as txn_text_delta()
 * treats a changed line, the start it shares with a line of base where it
 * may have been before the edit, and then its end.  The candidates are
 * the lines of base from a, the end of the last copy, to b, the start
 * of the next received run (what the edits changed or removed there),
 * and the line at b (a line added on top of it: a Via, a
 * Record-Route), at most TEXT_NEAR of them.  Returns where the line
 * ends in base when it is one of base's lines whole, else 0.
 */
static uint32_t
new_line(struct delta *d, const struct txn_text *base, const char *q,
    uint32_t ll, uint32_t a, uint32_t b)
{
	const char *bp = base->d, *be = bp + base->len;
	uint32_t best = 0, bend = 0, boff = 0, bfoff = 0;
	uint64_t qw, bw;

	if (ll >= sizeof(qw)) {
		memcpy(&qw, q, sizeof(qw));
		for (uint32_t s = a < b ? a : b, k = 0;
		    s < base->len && k < TEXT_NEAR; k++) {
			uint32_t se = (uint32_t)(line_end(bp + s, be) - bp);
			uint32_t bl = se - s, m, i, f;

			if (bl >= sizeof(bw)) {
				memcpy(&bw, bp + s, sizeof(bw));
			}
			/* no start worth a copy unless the first word is the
			 * same: one compare rejects most lines */
			m = bl < ll ? bl : ll;
			if (bl >= sizeof(bw) && bw == qw && m > best + bend &&
			    m >= sizeof(qw) &&
			    (i = same_start(bp + s, q, m)) >= TEXT_PREFIX_MIN) {
				f = same_end(bp + se, q + ll, m - i);
				f = f >= TEXT_PREFIX_MIN ? f : 0;
				if (i + f > best + bend) {
					best = i;
					bend = f;
					boff = s;
					bfoff = se - f;
				}
			}
			if (s >= b) {
				break; /* the line at b was the last */
			}
			s = se;
		}
	}
	if (best > 0) {
		add_copy(d, boff, best);
	}
	if (best == ll) {
		return boff + ll; /* the line as it was */
	}
	add_insert(d, (uint32_t)(q - d->p) + best, ll - best - bend);
	if (bend > 0) {
		add_copy(d, bfoff, bend);
	}
	return 0;
}

/* Whether p[0..len) are base's bytes at offset at. */
static bool
base_same(const struct txn_text *base, uint32_t at, const char *p,
    uint32_t len)
{
	return at <= base->len && len <= base->len - at &&
	    memcmp(base->d + at, p, len) == 0;
}

/*
 * The script of p[0..len) over base from where msg_write_runs() found
 * its bytes: a received run is a copy of base's bytes, checked to be the
 * same, a new line is new_line()'s.  Nothing is matched: the kept lines
 * are known.  A received run stands in base at its offset in the
 * received bytes, moved by what the edits made before base was written
 * (a Via given its received parameter) added or took away: by the same
 * as the run before it, else just after the last line copied.  False
 * when it is at neither (base is not what m was written from): d is then
 * to be thrown away.
 */
static bool
script_runs(struct delta *d, const struct txn_text *base, const char *p,
    const struct msg_run *run, size_t nrun)
{
	uint32_t pos = 0, a = 0, shift = 0, at;

	for (size_t i = 0; i < nrun && !d->s.full; i++) {
		const struct msg_run *r = &run[i];

		if (r->off != MSG_RUN_NEW) {
			/* offsets modulo 2^32: a shift may be negative */
			at = r->off + shift;
			if (!base_same(base, at, p + pos, r->len)) {
				at = a;
				if (!base_same(base, at, p + pos, r->len)) {
					return false;
				}
				shift = a - r->off;
			}
			add_copy(d, at, r->len);
			a = at + r->len;
			pos += r->len;
			continue;
		}
		uint32_t b = base->len;
		for (size_t j = i + 1; j < nrun; j++) {
			if (run[j].off != MSG_RUN_NEW) {
				b = run[j].off + shift;
				break;
			}
		}
		if (b > base->len) {
			b = base->len;
		}
		for (const char *q = p + pos, *e = q + r->len; q < e;) {
			const char *le = line_end(q, e);
			uint32_t end = new_line(d, base, q, (uint32_t)(le - q),
			    a, b);

			a = end != 0 ? end : a;
			q = le;
		}
		pos += r->len;
	}
	return true;
}

/* Runs of a message looked at; one with more is scripted by its lines. */
#define TEXT_RUNS_MAX 32

/* txn_text_over() and txn_text_edited(); with runs, m is base's message
 * edited. */
static struct txn_text *
over(struct txn_text *base, struct msg *m, char *buf, size_t cap,
    const char **bytes, char **tmp, bool runs)
{
	struct msg_run run[TEXT_RUNS_MAX];
	struct msg_runs r = { run, 0, TEXT_RUNS_MAX };
	struct txn_text *x = NULL;
	struct delta d;
	char *out = buf;
	int w;

	*tmp = NULL;
	*bytes = NULL;
	if (base == NULL) {
		x = txn_text_new(m);
		*bytes = x != NULL ? x->d : NULL;
		return x;
	}
	runs = runs && base->base == NULL;
	w = runs ? msg_write_runs(m, out, cap, &r) : msg_write(m, out, cap);
	if (w == -ENOSPC) {
		/* larger than the buffer (written once all the same), or of
		 * more runs than are looked at */
		size_t n = msg_size(m);

		runs = false;
		if (n > cap) {
			*tmp = malloc(n ? n : 1);
			if (*tmp == NULL) {
				return NULL;
			}
			out = *tmp;
			cap = n;
		}
		w = msg_write(m, out, cap);
	}
	if (w < 0) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	if (runs && (uint32_t)w < UINT32_MAX >> 1) {
		delta_init(&d, out);
		if (script_runs(&d, base, out, r.run, r.n)) {
			x = finish(&d, base, (uint32_t)w);
		}
	}
	if (x == NULL) {
		/* by its lines, as the runs could not say (or, seldom, gave
		 * a script too long) */
		x = txn_text_delta(base, out, (uint32_t)w);
	}
	if (x == NULL) {
		x = txn_text_copy(out, (size_t)w);
	}
	if (x == NULL) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	*bytes = out;
	return x;
}

struct txn_text *
txn_text_over(struct txn_text *base, struct msg *m, char *buf, size_t cap,
    const char **bytes, char **tmp)
{
	return over(base, m, buf, cap, bytes, tmp, false);
}

struct txn_text *
txn_text_edited(struct txn_text *base, struct msg *m, char *buf, size_t cap,
    const char **bytes, char **tmp)
{
	return over(base, m, buf, cap, bytes, tmp, true);
}

/* Write x's bytes to out (x->len bytes); false for a bad script.  A
 * script ends where its bytes are complete. */
static bool
expand(const struct txn_text *x, char *out)
{
	const uint8_t *p = (const uint8_t *)x->d;
	const struct txn_text *b = x->base;
	uint32_t n = 0, v, off;

	while (n < x->len) {
		get_varint(&p, &v);
		uint32_t l = v >> 1;
		if (l == 0 || l > x->len - n) {
			return false;
		}
		if (v & 1) {
			get_varint(&p, &off);
			if (off > b->len || l > b->len - off) {
				return false;
			}
			memcpy(out + n, b->d + off, l);
		} else {
			memcpy(out + n, p, l);
			p += l;
		}
		n += l;
	}
	return true;
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
