/*
 * Character classes of the SIP grammar (RFC 3261 25.1), private to sipd/msg.
 * One constant table, so classification is a load and a mask.
 */
#ifndef SIPD_MSG_CHARS_H
#define SIPD_MSG_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CH_TOKEN 0x01    /* token: alphanum and -.!%*_+`'~ */
#define CH_WS 0x02       /* SP HT CR LF: white space inside a value */
#define CH_DIGIT 0x04
#define CH_ALPHA 0x08
#define CH_HEX 0x10
#define CH_UNRESERVED 0x20 /* alphanum mark: -_.!~*'() */
#define CH_USER 0x40     /* user-unreserved: &=+$,;?/ */
#define CH_PARAM 0x80    /* param-unreserved: []/:&+$ */

extern const uint8_t msg_chars[256];

static inline int
ch_is(unsigned char c, uint8_t cls)
{
	return (msg_chars[c] & cls) != 0;
}

static inline unsigned char
ch_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/*
 * p[0..n) against the C string s, case-insensitively: s of exactly n
 * bytes, each equal or the same letter in the other case.  One pass, no
 * strlen(): a NUL of s before n bytes ends it unequal.
 */
static inline bool
ch_caseeq_cstr(const char *p, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)p[i], b = (unsigned char)s[i];

		if (b == '\0') {
			return false;
		}
		/* equal, or 0x20 apart and a letter */
		if (a != b && ((a ^ b) != 0x20 ||
		    (unsigned)((b | 0x20) - 'a') > 'z' - 'a')) {
			return false;
		}
	}
	return s[n] == '\0';
}

static inline int
ch_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = ch_lower(c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/*
 * True when every byte of p[0..n) is printable US-ASCII other than SP
 * (0x21-0x7e), eight bytes at a time.  In a word of good bytes, b - 0x21,
 * b + 1 and b all keep the top bit clear; a bad byte sets it in one of
 * them.  Borrows and carries only cross from a bad byte, so a word of
 * good bytes is never taken for bad.
 */
static inline bool
ch_graph_span(const char *p, size_t n)
{
	const uint64_t k01 = 0x0101010101010101u;
	const uint64_t k21 = 0x2121212121212121u;
	const uint64_t k80 = 0x8080808080808080u;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (((w - k21) | (w + k01) | w) & k80) {
			return false;
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c >= 0x7f) {
			return false;
		}
	}
	return true;
}

/*
 * The run of digits and dots at p (before e), judged as an IPv4 dotted
 * quad in the same pass: returns where the run ends; *ok is true when it
 * is four parts of one to three digits, each at most 255, and, when
 * strict, without a leading zero (what uri_ipv4() accepts).  For hosts,
 * whose scan would otherwise read the digits twice.
 */
/*
 * A dotted quad at p (before e) as uri_ipv4() reads one: four parts of
 * one to three digits, each at most 255, without a leading zero when
 * strict, separated by dots.  On success *end is after it and out holds
 * its bytes; false at the first byte that breaks it.  A part at a time,
 * its digits unrolled: the quads in messages are short and many.
 */
static inline bool
ch_ipv4_quad(const char *p, const char *e, bool strict, const char **end,
    uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned v, d;

		if (part > 0) {
			if (p == e || *p != '.') {
				return false;
			}
			p++;
		}
		if (p == e || (v = (unsigned)(unsigned char)*p - '0') > 9) {
			return false;
		}
		p++;
		if (p < e && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
			if (strict && v == 0) {
				return false;
			}
			v = v * 10 + d;
			p++;
			if (p < e && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255) {
					return false;
				}
			}
		}
		out[part] = (uint8_t)v;
	}
	*end = p;
	return true;
}

static inline const char *
ch_ipv4_run(const char *p, const char *e, bool strict, bool *ok)
{
	unsigned v = 0, nd = 0, dots = 0;
	bool good = true;
	const char *q;
	uint8_t b[4];

	/* a quad the run ends with, as nearly every one does: the loop
	 * below would find it so too */
	if (ch_ipv4_quad(p, e, strict, &q, b) &&
	    (q == e || ((unsigned)(unsigned char)*q - '0' > 9 && *q != '.'))) {
		*ok = true;
		return q;
	}

	for (; p < e; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';

		if (d <= 9) {
			if (nd == 3 || (strict && nd > 0 && v == 0)) {
				good = false;
			}
			v = v * 10 + d;
			nd++;
		} else if (*p == '.') {
			if (nd == 0 || v > 255) {
				good = false;
			}
			dots++;
			nd = 0;
			v = 0;
		} else {
			break;
		}
	}
	*ok = good && dots == 3 && nd > 0 && v <= 255;
	return p;
}

#ifdef __SSE2__
/*
 * The classes a host name is judged by, for the sixteen bytes at p: bit
 * j of *good is set when p[j] is a letter, a digit, '-' or '.', of *sep
 * when it is '-' or '.', of *dot when it is '.'.  Signed compares: a
 * byte from 0x80 up is below every bound, and setting 0x20 turns exactly
 * 'A'-'Z' into 'a'-'z'.
 */
static inline void
ch_host_masks16(const char *p, unsigned *good, unsigned *sep, unsigned *dot)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i w = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i d = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
	    _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
	__m128i a = _mm_and_si128(_mm_cmpgt_epi8(w, _mm_set1_epi8('a' - 1)),
	    _mm_cmplt_epi8(w, _mm_set1_epi8('z' + 1)));
	__m128i t = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
	__m128i s = _mm_or_si128(t, _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));

	*good = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, d), s));
	*sep = (unsigned)_mm_movemask_epi8(s);
	*dot = (unsigned)_mm_movemask_epi8(t);
}

/*
 * ch_host_masks16() of the bytes from p + at to p + n, at most sixteen,
 * for n of at least sixteen: the last sixteen bytes are loaded from
 * p + n - 16 and shifted, so nothing outside p[0..n) is read; bits past
 * n are clear.
 */
static inline void
ch_host_masks_at(const char *p, size_t n, size_t at, unsigned *good,
    unsigned *sep, unsigned *dot)
{
	size_t from = at + 16 <= n ? at : n - 16;
	unsigned sh = (unsigned)(at - from);

	if (at >= n) {
		*good = *sep = *dot = 0;
		return;
	}
	ch_host_masks16(p + from, good, sep, dot);
	*good >>= sh;
	*sep >>= sh;
	*dot >>= sh;
}
#endif

/*
 * Where a header name at p ends, for a name under sixteen bytes: the
 * first ':', SP or HT among the sixteen bytes from p, or NULL when none
 * is there or fewer than sixteen bytes are left before e.  Only a guess
 * at the name: the caller proves it (see parse_headers()).
 */
static inline const char *
ch_name_end16(const char *p, const char *e)
{
#ifdef __SSE2__
	if (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i x = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
			_mm_cmpeq_epi8(v, _mm_set1_epi8(' '))),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')));
		unsigned mask = (unsigned)_mm_movemask_epi8(x);

		if (mask != 0) {
			return p + __builtin_ctz(mask);
		}
	}
#else
	(void)p;
	(void)e;
#endif
	return NULL;
}

/*
 * The first LF in [p, e), or NULL; *cr is the first CR before it, or NULL,
 * or one past it in the same sixteen bytes (the caller compares).
 * One pass for the two bytes a header line's end is judged by, sixteen
 * bytes at a time where SSE2 is there (x86-64 always): memchr() twice a
 * line cost more in calls than in bytes, the lines being short.  The
 * same pass looks for a NUL: *ctl gets bits set (never cleared) when a
 * NUL is among the bytes before the LF, and may when one is after it in
 * the same sixteen or another byte under 14 but CR and LF is there (HT,
 * a control): then the caller looks where.  Reads only inside [p, e).
 */
static inline const char *
ch_line_end(const char *p, const char *e, const char **cr, unsigned *ctl)
{
	const char *fcr = NULL;

#ifdef __SSE2__
	const __m128i vlf = _mm_set1_epi8('\n');
	const __m128i vcr = _mm_set1_epi8('\r');

	/* counted down: one compare a step */
	for (size_t k = (size_t)(e - p) / 16; k > 0; k--, p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* NUL, LF and CR are bytes up to 13: one unsigned compare
		 * (the minimum equals the byte) for the three; most sixteen
		 * bytes hold none */
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_min_epu8(v, vcr), v));

		if (m == 0) {
			continue;
		}
		unsigned ml = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vlf));
		unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vcr));

		*ctl |= m & ~(ml | mc);
		/* a CR past the LF is the next line's: the caller compares */
		if (mc != 0 && fcr == NULL) {
			fcr = p + __builtin_ctz(mc);
		}
		if (ml != 0) {
			*cr = fcr;
			return p + __builtin_ctz(ml);
		}
	}
#endif
	for (; p < e; p++) {
		if (*p == '\n') {
			*cr = fcr;
			return p;
		}
		if (*p == '\r' && fcr == NULL) {
			fcr = p;
		}
		*ctl |= *p == '\0';
	}
	*cr = fcr;
	return NULL;
}

#endif
