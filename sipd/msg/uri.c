/*
 * uri: the SIP, SIPS and tel URI library of sipd/msg.  uri_parse() checks
 * a URI against the RFC 3261 25.1 grammar (RFC 3966 for tel) and records
 * where its parts are as spans into the caller's buffer, which is never
 * written to; nothing is allocated and nothing is decoded in place.
 * uri_param() finds a uri-parameter, uri_equal() applies the RFC 3261
 * 19.1.4 comparison rules (RFC 3966 4 for tel, RFC 5954 4 for IP address
 * literals) and uri_unescape() decodes %HH escapes into caller storage.
 * The module owns no state.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sipd/msg/chars.h"
#include "sipd/msg/msg.h"

/* Largest number of digits accepted in a port (RFC 3261 25.1: 1*DIGIT). */
#define URI_PORT_DIGITS 5

/*
 * Codes returned by unit_next(): a byte, or a reserved byte that was
 * written as an escape, which RFC 3261 19.1.4 keeps distinct from the same
 * byte written literally.
 */
#define URI_UNIT_ESCAPED 0x100

static struct span
mkspan(uint32_t off, size_t from, size_t len)
{
	return (struct span){ (uint32_t)(off + from), (uint32_t)len };
}

static struct sv
span_sv(const char *base, struct span s)
{
	return (struct sv){ base + s.off, s.len };
}

/* True when p[i..] starts with a well-formed %HH escape. */
static bool
is_escape(const char *p, size_t n, size_t i)
{
	return i + 2 < n && p[i] == '%' &&
	    ch_hexval((unsigned char)p[i + 1]) >= 0 &&
	    ch_hexval((unsigned char)p[i + 2]) >= 0;
}

/* The byte a well-formed escape "%HH" at p stands for. */
static unsigned char
escape_val(const char *p)
{
	return (unsigned char)(ch_hexval((unsigned char)p[1]) * 16 +
	    ch_hexval((unsigned char)p[2]));
}

/* RFC 3261 25.1 user: unreserved / escaped / user-unreserved */
#define URI_USERC (CH_UNRESERVED | CH_USER)
/* RFC 3261 25.1 paramchar: param-unreserved / unreserved / escaped */
#define URI_PARAMC (CH_UNRESERVED | CH_PARAM)

/* RFC 3261 25.1 password: unreserved / escaped / "&" "=" "+" "$" "," */
static bool
is_passc(unsigned char c)
{
	return ch_is(c, CH_UNRESERVED) || c == '&' || c == '=' || c == '+' ||
	    c == '$' || c == ',';
}

/* RFC 3261 25.1 hname, hvalue: hnv-unreserved / unreserved / escaped */
static bool
is_hnvc(unsigned char c)
{
	return ch_is(c, CH_UNRESERVED) || c == '[' || c == ']' || c == '/' ||
	    c == '?' || c == ':' || c == '+' || c == '$';
}

/* RFC 3966 3 pname: 1*( alphanum / "-" ) */
static bool
is_telpnamec(unsigned char c)
{
	return ch_is(c, CH_ALPHA | CH_DIGIT) || c == '-';
}

/* RFC 3966 3 visual-separator */
static bool
is_visual(unsigned char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * Bytes of an opaque URI of another scheme: every printable byte (the
 * caller has refused the rest); only escapes are checked.
 */
static bool
is_opaquec(unsigned char c)
{
	(void)c;
	return true;
}

/* RFC 2396 2.2 reserved, with "[" "]" added by RFC 2732 */
static bool
is_reserved(unsigned char c)
{
	return c == ';' || c == '/' || c == '?' || c == ':' || c == '@' ||
	    c == '&' || c == '=' || c == '+' || c == '$' || c == ',' ||
	    c == '[' || c == ']';
}

/*
 * True when every byte of p[0..n) is accepted by ok or is part of a
 * well-formed %HH escape.  A '%' not followed by two hex digits fails.
 */
static bool
seg_ok(const char *p, size_t n, bool (*ok)(unsigned char))
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == '%') {
			if (!is_escape(p, n, i)) {
				return false;
			}
			i += 3;
		} else if (ok((unsigned char)p[i])) {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

/*
 * seg_ok() for a class of chars.h, without a call per byte: for the
 * user part and the parameters, which every URI of a message may carry.
 * seg_span_cls() gives the length of the good run at p, escapes included,
 * so that one pass finds where a part ends and checks it.
 */
static inline size_t
seg_span_cls(const char *p, size_t n, uint8_t cls)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == '%') {
			if (!is_escape(p, n, i)) {
				return i;
			}
			i += 3;
		} else if (ch_is((unsigned char)p[i], cls)) {
			i++;
		} else {
			return i;
		}
	}
	return n;
}

static bool
seg_ok_cls(const char *p, size_t n, uint8_t cls)
{
	return seg_span_cls(p, n, cls) == n;
}

/*
 * Next comparison unit of an escaped string at p[*i]: the byte itself, or
 * the byte an escape stands for.  RFC 3261 19.1.4: characters outside the
 * reserved set are equivalent to their escapes, so only an escaped
 * reserved byte is marked URI_UNIT_ESCAPED.  fold lower-cases letters.
 */
static int
unit_next(const char *p, size_t n, size_t *i, bool fold)
{
	unsigned char c = (unsigned char)p[*i];

	if (c == '%' && is_escape(p, n, *i)) {
		c = escape_val(p + *i);
		*i += 3;
		if (is_reserved(c)) {
			return URI_UNIT_ESCAPED | c;
		}
	} else {
		(*i)++;
	}
	return fold ? ch_lower(c) : c;
}

/* Equality of two escaped strings, unit by unit (see unit_next()). */
static bool
esc_eq(struct sv a, struct sv b, bool fold)
{
	size_t i = 0, j = 0;

	while (i < a.len && j < b.len) {
		if (unit_next(a.p, a.len, &i, fold) !=
		    unit_next(b.p, b.len, &j, fold)) {
			return false;
		}
	}
	return i == a.len && j == b.len;
}

/*
 * Split the next element of a list separated by sep ("a=1;b;c=2"),
 * starting at *pos.  name and val receive the parts around the first '=';
 * *has_val tells "b=" from "b".  Returns false at the end of the list.
 */
static bool
list_next(struct sv list, char sep, size_t *pos, struct sv *name,
    struct sv *val, bool *has_val)
{
	const char *e, *eq;
	size_t start = *pos, len;

	if (start > list.len || list.len == 0) {
		return false;
	}
	e = memchr(list.p + start, sep, list.len - start);
	len = e != NULL ? (size_t)(e - (list.p + start)) : list.len - start;
	*pos = start + len + 1;
	eq = memchr(list.p + start, '=', len);
	if (eq != NULL) {
		name->p = list.p + start;
		name->len = (size_t)(eq - name->p);
		val->p = eq + 1;
		val->len = len - name->len - 1;
		*has_val = true;
	} else {
		name->p = list.p + start;
		name->len = len;
		val->p = list.p + start + len;
		val->len = 0;
		*has_val = false;
	}
	return true;
}

/*
 * First element of list named name (compared case-insensitively after
 * unescaping).  Returns false when there is none.
 */
static bool
list_find(struct sv list, char sep, struct sv name, struct sv *val,
    bool *has_val)
{
	struct sv n;
	size_t pos = 0;

	while (list_next(list, sep, &pos, &n, val, has_val)) {
		if (esc_eq(n, name, true)) {
			return true;
		}
	}
	return false;
}

/*
 * RFC 3966 3 par, a tel URI's parameters: each element is a non-empty
 * name of namec and, after '=', a non-empty value of paramchar.  With
 * unique, a name may appear only once.  A sip URI's take
 * sip_params_scan().
 */
static bool
params_ok(struct sv list, bool (*namec)(unsigned char), bool unique)
{
	struct sv name, val, prev;
	size_t pos = 0;
	bool has_val, prev_val;

	if (list.len == 0) {
		return false;
	}
	while (list_next(list, ';', &pos, &name, &val, &has_val)) {
		struct sv before = { list.p, (size_t)(name.p - list.p) };

		if (name.len == 0 || !seg_ok(name.p, name.len, namec)) {
			return false;
		}
		if (unique && list_find(before, ';', name, &prev, &prev_val)) {
			return false;
		}
		if (has_val &&
		    (val.len == 0 || !seg_ok_cls(val.p, val.len, URI_PARAMC))) {
			return false;
		}
	}
	return true;
}

/* RFC 3261 25.1 headers: hname "=" hvalue *( "&" hname "=" hvalue ) */
static bool
headers_ok(struct sv list)
{
	struct sv name, val;
	size_t pos = 0;
	bool has_val;

	if (list.len == 0) {
		return false;
	}
	while (list_next(list, '&', &pos, &name, &val, &has_val)) {
		if (!has_val || name.len == 0 ||
		    !seg_ok(name.p, name.len, is_hnvc) ||
		    !seg_ok(val.p, val.len, is_hnvc)) {
			return false;
		}
	}
	return true;
}

bool
uri_ipv4(const char *p, size_t n, bool strict, uint8_t out[4])
{
	const char *end;

	return ch_ipv4_quad(p, p + n, strict, &end, out) && end == p + n;
}

/*
 * RFC 3261 25.1 IPv6address (corrected by RFC 5954 3), the text between
 * the brackets: groups of 1-4 hex digits, "::" at most once, optionally an
 * IPv4 address in place of the last two groups.  Without "::" there are
 * exactly eight groups; with it at most seven.  Fills the 16 bytes.
 */
bool
uri_ipv6(const char *p, size_t n, uint8_t out[16])
{
	unsigned words[8];
	int nw = 0, gap = -1, k;
	size_t i = 0;

	if (n >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n == 0 || p[0] == ':') {
		return false;
	}
	while (i < n) {
		size_t start = i, digits = 0;
		unsigned v = 0;
		int h;

		while (i < n && digits <= 4 &&
		    (h = ch_hexval((unsigned char)p[i])) >= 0) {
			v = v * 16 + (unsigned)h;
			digits++;
			i++;
		}
		if (i < n && p[i] == '.') {
			uint8_t b4[4];

			/* the embedded IPv4 address ends the literal */
			if (nw > 6 ||
			    !uri_ipv4(p + start, n - start, false, b4)) {
				return false;
			}
			words[nw++] = (unsigned)(b4[0] << 8 | b4[1]);
			words[nw++] = (unsigned)(b4[2] << 8 | b4[3]);
			break;
		}
		if (digits == 0 || digits > 4 || nw == 8) {
			return false;
		}
		words[nw++] = v;
		if (i == n) {
			break;
		}
		if (p[i] != ':') {
			return false;
		}
		i++;
		if (i < n && p[i] == ':') {
			if (gap >= 0) {
				return false;
			}
			gap = nw;
			i++;
		} else if (i == n) {
			/* a single trailing colon */
			return false;
		}
	}
	if (gap < 0 ? nw != 8 : nw > 7) {
		return false;
	}
	memset(out, 0, 16);
	for (k = 0; k < nw; k++) {
		int at = (gap < 0 || k < gap) ? k : 8 - (nw - k);

		out[2 * at] = (uint8_t)(words[k] >> 8);
		out[2 * at + 1] = (uint8_t)(words[k] & 0xff);
	}
	return true;
}

/*
 * RFC 3261 25.1 hostname at r[*pos..n): domainlabels of alphanum and
 * inner '-', separated by dots, an optional final dot; the toplabel
 * starts with a letter.  Scans alphanum, '-' and '.' and judges the
 * labels in the same pass; leaves *pos where the scan stopped.
 */
static bool
hostname_scan(const char *r, size_t n, size_t *pos)
{
	size_t i = *pos, label = i, top = i;
	bool ok = true;

#ifdef __SSE2__
	/* up to 31 bytes as three masks of 32 bits, the labels judged on
	 * the masks (bit j is byte i + j); a longer name, or a text under
	 * sixteen bytes, is scanned below */
	if (n >= 16) {
		unsigned g0, s0, d0, g1, s1, d1;

		ch_host_masks_at(r, n, i, &g0, &s0, &d0);
		ch_host_masks_at(r, n, i + 16, &g1, &s1, &d1);
		uint32_t good = g0 | g1 << 16, sep = s0 | s1 << 16;
		uint32_t dot = d0 | d1 << 16;
		if (good != UINT32_MAX) {
			unsigned len = (unsigned)__builtin_ctz(~good);
			uint32_t keep = ((uint32_t)1 << len) - 1, hy, bad, inner;

			sep &= keep;
			dot &= keep;
			hy = sep & ~dot;
			/* a label neither empty nor starting or ending
			 * with '-': no separator first, no '.' after a
			 * separator, no '-' after a '.' */
			bad = (sep & 1) | (dot & (sep << 1)) | (hy & (dot << 1));
			*pos = i + len;
			if (len == 0 || bad != 0 || (hy >> (len - 1) & 1)) {
				return false;
			}
			/* the toplabel follows the last dot but a final one */
			inner = dot & ~((uint32_t)1 << (len - 1));
			top = inner != 0 ? 32 - (size_t)__builtin_clz(inner) : 0;
			return top < len && ch_is((unsigned char)r[i + top],
			    CH_ALPHA);
		}
	}
#endif

	for (; i < n; i++) {
		unsigned char c = (unsigned char)r[i];

		if (ch_is(c, CH_ALPHA | CH_DIGIT)) {
			continue;
		}
		if (c == '-') {
			/* not the first of a label */
			ok &= i != label;
			continue;
		}
		if (c != '.') {
			break;
		}
		/* a label ends: not empty, not with '-' */
		ok &= i != label && r[i - 1] != '-';
		top = label;
		label = i + 1;
	}
	*pos = i;
	if (label < i) {
		/* the last label is the toplabel; otherwise a final dot
		 * follows it */
		ok &= r[i - 1] != '-';
		top = label;
	}
	return ok && i > top && ch_is((unsigned char)r[top], CH_ALPHA);
}

/*
 * host [ ":" port ] at r[*pos..n), RFC 3261 25.1 hostport.  off is the
 * offset of r in the caller's buffer.  Leaves *pos after the port.
 */
static int
parse_hostport(const char *r, size_t n, size_t *pos, uint32_t off,
    struct uri *u)
{
	size_t i = *pos, start = i, digits = 0;
	uint8_t addr[16];
	unsigned port = 0;

	if (i < n && r[i] == '[') {
		const char *close = memchr(r + i, ']', n - i);

		if (close == NULL) {
			return -EINVAL;
		}
		i = (size_t)(close - r);
		if (!uri_ipv6(r + start + 1, i - start - 1, addr)) {
			return -EINVAL;
		}
		i++;
		u->host_type = URI_HOST_IPV6;
	} else {
		bool dotted_digits, quad;

		/* digits and dots first, judged as an IPv4 address as they
		 * are read; a name is scanned and judged from its start */
		i = (size_t)(ch_ipv4_run(r + i, r + n, false, &quad) - r);
		dotted_digits = i == n ||
		    !(ch_is((unsigned char)r[i], CH_ALPHA) || r[i] == '-');
		/*
		 * A toplabel cannot start with a digit, so digits and dots
		 * alone can only be an IPv4 address.
		 */
		if (dotted_digits) {
			if (i == start || !quad) {
				return -EINVAL;
			}
			u->host_type = URI_HOST_IPV4;
		} else {
			i = start;
			if (!hostname_scan(r, n, &i)) {
				return -EINVAL;
			}
			u->host_type = URI_HOST_NAME;
		}
	}
	u->host = mkspan(off, start, i - start);
	if (i < n && r[i] == ':') {
		i++;
		while (i < n && ch_is((unsigned char)r[i], CH_DIGIT)) {
			if (++digits > URI_PORT_DIGITS) {
				return -EINVAL;
			}
			port = port * 10 + (unsigned)(r[i] - '0');
			i++;
		}
		if (digits == 0 || port > UINT16_MAX) {
			return -EINVAL;
		}
		u->port = (uint16_t)port;
	}
	*pos = i;
	return 0;
}

/*
 * RFC 3261 25.1 uri-parameters at p[0..n), after their first ';': each
 * pname [ "=" pvalue ], both non-empty runs of paramchar, separated by
 * ';'.  None of ';', '=' and '?' is a paramchar, so one scan finds each
 * part's end and checks it; *end is where the parameters end, at n or at
 * the '?' of the headers.  params_ok() of the same text, in one pass.
 */
static bool
sip_params_scan(const char *p, size_t n, size_t *end)
{
	size_t i = 0, k;

	for (;;) {
		k = seg_span_cls(p + i, n - i, URI_PARAMC);
		if (k == 0) {
			return false;
		}
		i += k;
		if (i < n && p[i] == '=') {
			i++;
			k = seg_span_cls(p + i, n - i, URI_PARAMC);
			if (k == 0) {
				return false;
			}
			i += k;
		}
		if (i == n || p[i] == '?') {
			*end = i;
			return true;
		}
		if (p[i] != ';') {
			return false;
		}
		i++;
	}
}

/*
 * The part of a sip or sips URI after the colon, RFC 3261 25.1:
 * [ userinfo "@" ] hostport uri-parameters [ headers ].
 *
 * '@' is legal in no part of the grammar but as the end of userinfo
 * (user, password, paramchar and hnv-unreserved all exclude it), so the
 * first '@' anywhere is the userinfo delimiter and a second one makes the
 * URI invalid.  The search must cover the whole text: ';' and '?' are
 * user-unreserved, so "sip:a;b?c@host" has the user "a;b?c".
 */
static int
parse_sip(const char *r, size_t n, uint32_t off, struct uri *u)
{
	const char *at;
	size_t pos = 0, end;
	int rc;

	if (n == 0) {
		return -EINVAL;
	}
	at = memchr(r, '@', n);
	if (at != NULL) {
		size_t ui = (size_t)(at - r);
		/* ':' is no user character: the user's run ends at the
		 * password's colon, or at the '@', or is bad */
		size_t ulen = seg_span_cls(r, ui, URI_USERC);

		if (ulen == 0 || (ulen < ui && r[ulen] != ':')) {
			return -EINVAL;
		}
		u->user = mkspan(off, 0, ulen);
		if (ulen < ui) {
			size_t plen = ui - ulen - 1;

			if (!seg_ok(r + ulen + 1, plen, is_passc)) {
				return -EINVAL;
			}
			u->password = mkspan(off, ulen + 1, plen);
		}
		pos = ui + 1;
	}
	rc = parse_hostport(r, n, &pos, off, u);
	if (rc < 0) {
		return rc;
	}
	if (pos < n && r[pos] == ';') {
		pos++;
		if (!sip_params_scan(r + pos, n - pos, &end)) {
			return -EINVAL;
		}
		u->params = mkspan(off, pos, end);
		pos += end;
	}
	if (pos < n && r[pos] == '?') {
		pos++;
		if (!headers_ok((struct sv){ r + pos, n - pos })) {
			return -EINVAL;
		}
		u->headers = mkspan(off, pos, n - pos);
		pos = n;
	}
	/* anything else after the host, such as a '/' or a second '@' */
	return pos == n ? 0 : -EINVAL;
}

/*
 * RFC 3966 3 telephone-subscriber: a global number ("+" digits and
 * visual separators) or a local number (hex digits, "*", "#", visual
 * separators) that needs a phone-context parameter; parameters follow.
 */
static int
parse_tel(const char *base, const char *r, size_t n, uint32_t off,
    struct uri *u)
{
	const char *semi = memchr(r, ';', n);
	size_t len = semi != NULL ? (size_t)(semi - r) : n, i;
	bool global = len > 0 && r[0] == '+';
	bool digit = false;

	for (i = global ? 1 : 0; i < len; i++) {
		unsigned char c = (unsigned char)r[i];

		if (ch_is(c, CH_DIGIT) ||
		    (!global && (ch_is(c, CH_HEX) || c == '*' || c == '#'))) {
			digit = true;
		} else if (!is_visual(c)) {
			return -EINVAL;
		}
	}
	if (!digit) {
		return -EINVAL;
	}
	u->user = mkspan(off, 0, len);
	if (semi != NULL) {
		struct sv list = { semi + 1, n - len - 1 };

		if (!params_ok(list, is_telpnamec, true)) {
			return -EINVAL;
		}
		u->params = mkspan(off, len + 1, list.len);
	}
	if (!global && !uri_param(base, u, "phone-context", NULL)) {
		return -EINVAL;
	}
	return 0;
}

/* "sip:" as the word memcpy() reads from the bytes, in any byte order */
static inline uint32_t
sip_colon_word(void)
{
	uint32_t w;

	memcpy(&w, "sip:", 4);
	return w;
}

/*
 * uri_parse() of a URI not starting "sip:": its scheme read and judged,
 * u cleared already.  Out of line, so that the common case takes no
 * stack frame for it.
 */
static __attribute__((noinline)) int
uri_parse_scheme(const char *base, struct span s, struct uri *u)
{
	const char *p = base + s.off;
	struct sv name;
	size_t i, slen, rlen;
	uint32_t roff;

	/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
	 * ended by the colon, which is no scheme character */
	if (!ch_is((unsigned char)p[0], CH_ALPHA)) {
		return -EINVAL;
	}
	for (i = 1; i < s.len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!ch_is(c, CH_ALPHA | CH_DIGIT) && c != '+' && c != '-' &&
		    c != '.') {
			break;
		}
	}
	if (i == s.len || p[i] != ':') {
		return -EINVAL;
	}
	slen = i;
	u->scheme_s = mkspan(s.off, 0, slen);
	name = span_sv(base, u->scheme_s);
	/* what follows the colon, and its offset in base */
	p += slen + 1;
	rlen = s.len - slen - 1;
	roff = s.off + (uint32_t)slen + 1;
	/* the scheme holds letters, digits and "+-.": of those, only an
	 * 's' in either case folds with 0x20 to 's', and so for 'i', 'p' */
	if (slen == 3 && (name.p[0] | 0x20) == 's' &&
	    (name.p[1] | 0x20) == 'i' && (name.p[2] | 0x20) == 'p') {
		u->scheme = URI_SIP;
		return parse_sip(p, rlen, roff, u);
	}
	if (slen == 4 && (name.p[0] | 0x20) == 's' &&
	    (name.p[1] | 0x20) == 'i' && (name.p[2] | 0x20) == 'p' &&
	    (name.p[3] | 0x20) == 's') {
		u->scheme = URI_SIPS;
		return parse_sip(p, rlen, roff, u);
	}
	if (sv_caseeq_str(name, "tel")) {
		u->scheme = URI_TEL;
		return parse_tel(base, p, rlen, roff, u);
	}
	/* RFC 3261 19.1.1 absoluteURI: kept opaque, printable, escapes
	 * checked */
	if (rlen == 0 || !ch_graph_span(p, rlen) ||
	    !seg_ok(p, rlen, is_opaquec)) {
		return -EINVAL;
	}
	u->opaque = mkspan(roff, 0, rlen);
	return 0;
}

int
uri_parse(const char *base, struct span s, struct uri *u)
{
	const char *p = base + s.off;

	memset(u, 0, sizeof(*u));
	u->scheme = URI_OTHER;
	u->all = s;
	if (s.len == 0) {
		return -EINVAL;
	}
	/*
	 * RFC 3261 19.1.1, 25.1: a URI is printable US-ASCII; white space
	 * (folding included) and controls end it, they are never inside.
	 * The grammar of the scheme and of sip, sips and tel URIs admits
	 * only such bytes (every class of chars.h but CH_WS, the escapes'
	 * '%' and hex digits), so their parse refuses any other byte as it
	 * reads it: only an opaque URI, whose bytes no class judges, is
	 * tested for them (uri_parse_scheme()).
	 */
	/* most URIs are "sip:" in some case: one compare.  Setting 0x20
	 * turns only 'S' and 's' into 's' (and so for 'i', 'p'), but a
	 * control (0x1a) as well as ':' into ':': the colon is compared
	 * as it is */
	if (s.len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		if ((w | 0x20202020u) == sip_colon_word() && p[3] == ':') {
			u->scheme_s = mkspan(s.off, 0, 3);
			u->scheme = URI_SIP;
			return parse_sip(p + 4, s.len - 4, s.off + 4, u);
		}
	}
	return uri_parse_scheme(base, s, u);
}

bool
uri_param(const char *base, const struct uri *u, const char *name,
    struct sv *val)
{
	const char *p = base + u->params.off, *e = p + u->params.len;

	/*
	 * list_next()'s elements: each name ends at its first '=' or at
	 * the ';' ending it, its value runs from that '=' to the ';'.
	 * Names are matched as written (an escaped name is not decoded),
	 * case-insensitively, with name as they are read: most differ at
	 * their first byte, and an element that is not name is passed by
	 * its ';' alone (no paramchar is one), its value unread.
	 */
	while (u->params.len > 0) {
		const char *q = p, *n = name;

		while (*n != '\0' && q < e && *q != ';' && *q != '=' &&
		    ch_lower((unsigned char)*q) == ch_lower((unsigned char)*n)) {
			q++;
			n++;
		}
		if (*n == '\0' && (q == e || *q == ';' || *q == '=')) {
			if (val != NULL) {
				const char *end = q;

				if (q < e && *q == '=') {
					end = memchr(q + 1, ';', (size_t)(e - q - 1));
					end = end != NULL ? end : e;
				}
				*val = end > q ? (struct sv){ q + 1,
						     (size_t)(end - q - 1) }
					       : (struct sv){ q, 0 };
			}
			return true;
		}
		p = memchr(q, ';', (size_t)(e - q));
		if (p == NULL) {
			break;
		}
		p++;
	}
	if (val != NULL) {
		*val = (struct sv){ NULL, 0 };
	}
	return false;
}

/*
 * RFC 3261 19.1.4: the parameters that must be in both URIs or in
 * neither.  transport is among them: the section's examples make
 * "sip:bob@biloxi.com" differ from "sip:bob@biloxi.com;transport=udp".
 */
static bool
param_must_match(struct sv name)
{
	return esc_eq(name, SV_LIT("user"), true) ||
	    esc_eq(name, SV_LIT("ttl"), true) ||
	    esc_eq(name, SV_LIT("method"), true) ||
	    esc_eq(name, SV_LIT("maddr"), true) ||
	    esc_eq(name, SV_LIT("transport"), true);
}

/*
 * One direction of the parameter comparison: every parameter of x that is
 * in y has the same value there (case-insensitive after unescaping, a
 * flag equal only to a flag); a parameter of x missing from y is ignored
 * unless strict (tel, RFC 3966 4) or it is one of param_must_match().
 * A repeated name (allowed in sip, not in tel) is looked at once.
 */
static bool
params_cover(struct sv x, struct sv y, bool strict)
{
	struct sv n, v, w;
	size_t pos = 0;
	bool xv, yv;

	while (list_next(x, ';', &pos, &n, &v, &xv)) {
		struct sv before = { x.p, (size_t)(n.p - x.p) };

		/* only the first of equal names counts, as in uri_param() */
		if (list_find(before, ';', n, &w, &yv)) {
			continue;
		}
		if (!list_find(y, ';', n, &w, &yv)) {
			if (strict || param_must_match(n)) {
				return false;
			}
			continue;
		}
		if (xv != yv || !esc_eq(v, w, true)) {
			return false;
		}
	}
	return true;
}

/*
 * One direction of the header comparison: every header of x is in y with
 * the same name (case-insensitive) and value (case-sensitive), both after
 * unescaping.  Compact header names are not expanded.
 */
static bool
headers_cover(struct sv x, struct sv y)
{
	struct sv n, v, m, w;
	size_t pos = 0;
	bool hv;

	while (list_next(x, '&', &pos, &n, &v, &hv)) {
		size_t ypos = 0;
		bool found = false;

		while (!found && list_next(y, '&', &ypos, &m, &w, &hv)) {
			found = esc_eq(n, m, true) && esc_eq(v, w, false);
		}
		if (!found) {
			return false;
		}
	}
	return true;
}

static size_t
list_count(struct sv list, char sep)
{
	struct sv n, v;
	size_t pos = 0, count = 0;
	bool hv;

	while (list_next(list, sep, &pos, &n, &v, &hv)) {
		count++;
	}
	return count;
}

/* An explicit port follows the host, even ":5060" or ":0". */
static bool
has_port(const char *base, const struct uri *u)
{
	uint32_t end = u->host.off + u->host.len;

	return end < u->all.off + u->all.len && base[end] == ':';
}

/*
 * RFC 3261 19.1.4: host names compare case-insensitively.  RFC 5954 4:
 * IP address literals compare as addresses, so "[::1]" equals
 * "[0:0::1]".  A name never equals an address.
 */
static bool
host_equal(struct sv a, struct sv b, int type)
{
	uint8_t x[16], y[16];

	if (type == URI_HOST_NAME) {
		return sv_caseeq(a, b);
	}
	if (type == URI_HOST_IPV4) {
		return uri_ipv4(a.p, a.len, false, x) &&
		    uri_ipv4(b.p, b.len, false, y) &&
		    memcmp(x, y, 4) == 0;
	}
	/* the brackets are part of the span */
	return a.len >= 2 && b.len >= 2 && uri_ipv6(a.p + 1, a.len - 2, x) &&
	    uri_ipv6(b.p + 1, b.len - 2, y) && memcmp(x, y, 16) == 0;
}

/*
 * RFC 3261 19.1.4 for sip and sips: userinfo case-sensitive, host
 * case-insensitive, a port present in one only differs, parameters and
 * headers as params_cover() and headers_cover() say.
 */
static bool
sip_equal(const char *abase, const struct uri *a, const char *bbase,
    const struct uri *b)
{
	struct sv ap = span_sv(abase, a->params);
	struct sv bp = span_sv(bbase, b->params);
	struct sv ah = span_sv(abase, a->headers);
	struct sv bh = span_sv(bbase, b->headers);

	if (!esc_eq(span_sv(abase, a->user), span_sv(bbase, b->user), false) ||
	    !esc_eq(span_sv(abase, a->password), span_sv(bbase, b->password),
		false)) {
		return false;
	}
	if (a->host_type != b->host_type ||
	    !host_equal(span_sv(abase, a->host), span_sv(bbase, b->host),
		a->host_type)) {
		return false;
	}
	if (has_port(abase, a) != has_port(bbase, b) || a->port != b->port) {
		return false;
	}
	if (!params_cover(ap, bp, false) || !params_cover(bp, ap, false)) {
		return false;
	}
	return list_count(ah, '&') == list_count(bh, '&') &&
	    headers_cover(ah, bh) && headers_cover(bh, ah);
}

/*
 * RFC 3966 4: both numbers global or both local, equal digit for digit
 * once visual separators are removed; the same parameters in any order,
 * compared case-insensitively.
 */
static bool
tel_equal(const char *abase, const struct uri *a, const char *bbase,
    const struct uri *b)
{
	struct sv x = span_sv(abase, a->user), y = span_sv(bbase, b->user);
	struct sv ap = span_sv(abase, a->params);
	struct sv bp = span_sv(bbase, b->params);
	size_t i = 0, j = 0;

	for (;;) {
		while (i < x.len && is_visual((unsigned char)x.p[i])) {
			i++;
		}
		while (j < y.len && is_visual((unsigned char)y.p[j])) {
			j++;
		}
		if (i == x.len || j == y.len) {
			break;
		}
		if (ch_lower((unsigned char)x.p[i]) !=
		    ch_lower((unsigned char)y.p[j])) {
			return false;
		}
		i++;
		j++;
	}
	if (i != x.len || j != y.len) {
		return false;
	}
	return params_cover(ap, bp, true) && params_cover(bp, ap, true);
}

bool
uri_equal(const char *abase, const struct uri *a, const char *bbase,
    const struct uri *b)
{
	/* RFC 3261 19.1.4: a sip and a sips URI are never equal */
	if (a->scheme != b->scheme) {
		return false;
	}
	switch (a->scheme) {
	case URI_SIP:
	case URI_SIPS:
		return sip_equal(abase, a, bbase, b);
	case URI_TEL:
		return tel_equal(abase, a, bbase, b);
	default:
		/* RFC 3986 3.1: the scheme name is case-insensitive */
		return sv_caseeq(span_sv(abase, a->scheme_s),
			   span_sv(bbase, b->scheme_s)) &&
		    sv_eq(span_sv(abase, a->opaque), span_sv(bbase, b->opaque));
	}
}

int
uri_unescape(struct sv in, char *out, size_t cap)
{
	size_t i = 0, len = 0;
	bool full = false;

	while (i < in.len) {
		unsigned char c = (unsigned char)in.p[i];

		if (c == '%') {
			if (!is_escape(in.p, in.len, i)) {
				return -EINVAL;
			}
			c = escape_val(in.p + i);
			i += 3;
		} else {
			i++;
		}
		/* keep scanning when full: a bad escape takes precedence */
		if (len >= cap || len >= INT_MAX) {
			full = true;
		} else {
			out[len] = (char)c;
		}
		len++;
	}
	return full ? -ENOSPC : (int)len;
}
