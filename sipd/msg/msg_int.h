/*
 * Private to sipd/msg: the message structure, its arena and the scanning
 * helpers shared by the parser, the typed accessors and the builder.
 */
#ifndef SIPD_MSG_INT_H
#define SIPD_MSG_INT_H

#include <errno.h>
#include <string.h>

#include "sipd/msg/chars.h"
#include "sipd/msg/msg.h"

/* Room made inline for a received message: header slots, arena bytes
 * and buffer bytes for edits.  msg_compact() sizes them to fit instead. */
#define MSG_INLINE_HDRS 32
#define MSG_INLINE_ARENA 2048
#define MSG_HEADROOM 512
#define MSG_CHUNK_MIN 512
/* The size of a cached message block (blocks.c): msg_parse()'s inline
 * parts and a buffer for a message of up to about 1,700 bytes with its
 * headroom.  A larger message is allocated to measure. */
#define MSG_BLOCK_BYTES 6144
/* Header lines a message may index: its indexes are int16_t, and edits
 * may add a few. */
#define MSG_MAX_HEADERS_CAP 32000

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(max_align_t) char data[];
};

/*
 * A lazily parsed list of typed values for one header id, kept on the
 * first header of that id.  kind tells which type items holds.
 */
enum list_kind {
	LK_VIA = 1,
	LK_NADDR,
	LK_CONTACT,
	LK_AUTH,
	LK_CTYPE,
};

struct list_cache {
	uint8_t kind;  /* enum list_kind */
	int8_t state;  /* 1 parsed, -1 malformed */
	int count;
	void *items;
};

struct msg {
	char *buf;        /* received bytes, then appended bytes */
	uint32_t len;     /* bytes used in buf */
	uint32_t cap;     /* bytes allocated for buf */
	uint32_t rx_len;  /* received bytes: buf[0..rx_len) is never written */
	bool buf_inline;  /* buf lives in the same allocation as the msg */
	bool is_request;
	bool start_bad;   /* request line not "Method SP URI SP Version" */
	bool ruri_ok;
	bool cl_bad;      /* Content-Length malformed or over the bytes given */
	bool cl_present;
	struct span bad_line; /* the first line that is no header, len 0 if
			       * none (fails msg_check(): Bad Header Line) */
	uint8_t method;   /* enum msg_method */
	uint16_t status;
	uint32_t cl;      /* Content-Length value when present and good */
	struct msg_limits lim;

	struct span start;    /* start line including its line ending */
	struct span method_s; /* request method, or the response version */
	struct span ruri_s;
	struct span version_s;
	struct span reason_s;
	struct span eoh;      /* the empty line ending the headers */
	struct span body;
	struct uri ruri;

	struct msg_hdr *hdrs; /* storage; order is the ohead/onext list */
	uint32_t nhdrs, hdr_cap;
	int32_t ohead;        /* first header in serialization order */
	int32_t *onext;       /* order links, parallel to hdrs */
	int16_t first[HDR__COUNT]; /* max_headers is at most CONF_HEADERS_MAX */

	/* typed caches */
	int8_t via_top_state;
	struct msg_via via_top;
	uint32_t via_top_comma; /* the comma after the top Via value, or 0
				 * when it ends its line; set with via_top */
	int8_t cseq_state;
	struct msg_cseq cseq;

	struct arena_chunk *chunks; /* overflow arena chunks */
	char *arena;                /* inline arena */
	uint32_t arena_used, arena_cap;
	bool hdrs_inline;           /* hdrs and onext live in tail */
	bool block;                 /* allocated by msg_block_get() */
	/* inline header slots, arena and buffer, sized at creation */
	_Alignas(max_align_t) char tail[];
};

#define HDR_SLOTS 256 /* a power of two, over twice the table */
#define HDR_WORDS 3
#define HDR_NAME_MAX 24 /* HDR_WORDS words */

/*
 * The header names' index (hdr.c): an open-addressing table over a hash
 * of each name's first folded word and length, each entry's length and
 * name as folded words, and the compact forms.  hdr_names() builds it
 * once (pthread_once()) and returns it, read-only from then on; the
 * parser asks once a message and looks each line's name up inline with
 * hdr_lookup_token().
 */
struct hdr_names {
	uint8_t slots[HDR_SLOTS];     /* enum hdr_id, 0 for none */
	uint8_t compact[256];         /* by lower-case letter */
	uint8_t lens[HDR__COUNT];     /* each name's length */
	uint64_t words[HDR__COUNT][HDR_WORDS]; /* lower case, see hdr.c */
};

const struct hdr_names *hdr_names(void);

/* The slot of a name by its first folded word and its length. */
static inline unsigned
hdr_slot_of(uint64_t w0, size_t len)
{
	return (unsigned)(((w0 + len) * 0x9e3779b97f4a7c15u) >> 56) &
	    (HDR_SLOTS - 1);
}

/*
 * Eight bytes with 'A'-'Z' turned to lower case and every other byte
 * kept, as ch_lower() does one byte at a time.  On the low seven bits of
 * each byte, adding 0x3f sets the top bit from 'A' up and adding 0x25
 * from past 'Z'; neither carries out of the byte.
 */
static inline uint64_t
hdr_fold8(uint64_t x)
{
	const uint64_t k01 = 0x0101010101010101u;
	const uint64_t k80 = 0x8080808080808080u;
	uint64_t t = x & ~k80;
	uint64_t upper = (t + 0x3f * k01) & ~(t + 0x25 * k01) & ~x & k80;

	return x | (upper >> 2);
}

/*
 * A word of n bytes (4 or 8) of a name, folded as hdr.c's name_words()
 * folds the table's names.  Any text takes hdr_fold8().  For a token
 * (token true: what the parser takes for a name) one OR does: the
 * table's names hold only letters, digits and '-', and setting 0x20 in
 * every byte turns 'A'-'Z' to lower case and keeps '-', digits and the
 * lower-case letters.  The only other byte it turns into one of those is
 * CR, into '-', and CR is no token character: so a token equals a name
 * this way exactly when it does case-insensitively.
 */
static inline uint64_t
hdr_fold_word(uint64_t x, unsigned n, bool token)
{
	if (token) {
		return x | 0x2020202020202020u >> (64 - 8 * n);
	}
	return hdr_fold8(x);
}

/*
 * The first word of the name p[0..len), 2 to HDR_NAME_MAX bytes, as
 * name_words() lays it out: a short name as two overlapping halves of
 * one word, else its first eight bytes; token as for hdr_fold_word().
 */
static inline uint64_t
hdr_first_word(const char *p, size_t len, bool token)
{
	uint64_t x;
	uint32_t a, b;
	uint16_t c, d;

	if (len < 4) {
		memcpy(&c, p, 2);
		memcpy(&d, p + len - 2, 2);
		return hdr_fold_word((uint64_t)c | (uint64_t)d << 16, 4, token);
	}
	if (len < 8) {
		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		return hdr_fold_word((uint64_t)a | (uint64_t)b << 32, 8, token);
	}
	memcpy(&x, p, 8);
	return hdr_fold_word(x, 8, token);
}

/*
 * The words after the first of a name of more than eight bytes against
 * an entry's (whole words, then one overlapping the end).
 */
static inline bool
hdr_words_eq_rest(const char *p, size_t len, const uint64_t *w, bool token)
{
	uint64_t x;
	size_t off;

	for (off = 8, w++; off + 8 <= len; off += 8, w++) {
		memcpy(&x, p + off, 8);
		if (hdr_fold_word(x, 8, token) != *w) {
			return false;
		}
	}
	if (off < len) {
		memcpy(&x, p + len - 8, 8);
		return hdr_fold_word(x, 8, token) == *w;
	}
	return true;
}

/*
 * The id of the name p[0..len) in the index t, HDR_UNKNOWN when none;
 * token as for hdr_fold_word().  RFC 3261 7.3.1: field names are
 * case-insensitive.  One hash of the first word, which is also the
 * first compare.
 */
static inline __attribute__((always_inline)) enum hdr_id
hdr_lookup_in(const struct hdr_names *t, const char *p, size_t len,
    bool token)
{
	uint64_t w0;

	if (len < 2) {
		return len == 1 ? (enum hdr_id)t->compact[ch_lower(
				      (unsigned char)p[0])]
				: HDR_UNKNOWN;
	}
	if (len > HDR_NAME_MAX) {
		return HDR_UNKNOWN;
	}
	w0 = hdr_first_word(p, len, token);
	for (unsigned k = hdr_slot_of(w0, len);; k = (k + 1) & (HDR_SLOTS - 1)) {
		unsigned i = t->slots[k];

		if (i == 0) {
			return HDR_UNKNOWN;
		}
		if (t->words[i][0] == w0 && t->lens[i] == len &&
		    (len <= 8 || hdr_words_eq_rest(p, len, t->words[i], token))) {
			return (enum hdr_id)i;
		}
	}
}

/*
 * hdr_lookup() of an RFC 3261 token, what the parser takes for a name,
 * with the index from hdr_names(); inline, as it runs once a line.
 */
static inline __attribute__((always_inline)) enum hdr_id
hdr_lookup_token(const struct hdr_names *t, const char *name, size_t len)
{
	return hdr_lookup_in(t, name, len, true);
}

/* Whether values of this header id form a comma-separated list. */
bool hdr_is_list(enum hdr_id id);

/*
 * A block of MSG_BLOCK_BYTES from the calling thread's cache, or malloc()
 * (NULL when that fails); and a block back to the cache, or free() when
 * the cache is full.
 */
void *msg_block_get(void);
void msg_block_put(void *p);

/* A new header slot (index), growing the index; -ENOMEM. */
int msg_hdr_slot(struct msg *m);

/* msg_alloc() past the inline arena: size rounded already. */
void *msg_alloc_chunk(struct msg *m, size_t size);

/*
 * Bump allocation in the message arena, sixteen-byte aligned; freed with
 * the message.  Inline: the values' caches take it a few times a
 * message, nearly always from the inline arena.
 */
static inline void *
msg_alloc(struct msg *m, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (m->arena_used + size <= m->arena_cap) {
		void *p = m->arena + m->arena_used;
		m->arena_used += (uint32_t)size;
		return p;
	}
	return msg_alloc_chunk(m, size);
}

/* Drop every cached typed value that depends on headers of this id. */
void msg_cache_drop(struct msg *m, enum hdr_id id);

/* Rebuild first[]/next for one id by walking the header order. */
void msg_chain_rebuild(struct msg *m, enum hdr_id id);

/* Append bytes to buf (never into the received region); returns offset. */
int msg_append(struct msg *m, const char *p, size_t len, uint32_t *off);

/*
 * The next comma outside quotes and <> in [p, e), e when none, NULL for an
 * unterminated quoted string.
 */
const char *msg_find_comma(const char *p, const char *e);

/*
 * skip_quoted() (below), the same answer for every input, sixteen bytes
 * at a time over the bytes that are neither a quote nor a backslash.
 */
const char *msg_skip_quoted16(const char *p, const char *e);

/*
 * The first NUL in [p, e) that is not the escaped octet of a quoted-pair
 * inside a quoted string (RFC 3261 25.1), or NULL when there is none.
 * Quoted strings end with their line unless a fold continues it.
 */
const char *msg_stray_nul(const char *p, const char *e);

/* RFC 3261 25.1: callid = word [ "@" word ]; no white space. */
bool msg_callid_ok(struct sv v);

/*
 * The decimal digits p[0..e) as a number of at most max: -EINVAL when
 * empty or not all digits, -ERANGE when over max.  Inline: the numbers a
 * message carries (Content-Length, ports, Max-Forwards) are short.
 */
static inline int
msg_parse_uint(const char *p, const char *e, uint64_t max, uint64_t *out)
{
	size_t n = (size_t)(e - p);
	uint64_t v = 0;

	if (p == e) {
		return -EINVAL;
	}
	if (n <= 19) {
		/* nineteen digits stay under 2^64: the limit is tested once,
		 * after the digits (a value both bad and over the limit
		 * fails either way) */
		for (size_t i = 0; i < n; i++) {
			unsigned d = (unsigned)(unsigned char)p[i] - '0';

			if (d > 9) {
				return -EINVAL;
			}
			v = v * 10 + d;
		}
		if (v > max) {
			return -ERANGE;
		}
		*out = v;
		return 0;
	}
	for (; p < e; p++) {
		if (!ch_is((unsigned char)*p, CH_DIGIT)) {
			return -EINVAL;
		}
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max) {
			return -ERANGE;
		}
	}
	*out = v;
	return 0;
}

/* Skip SP, HT, CR, LF (LWS and folds inside a value). */
static inline const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && ch_is((unsigned char)*p, CH_WS)) {
		p++;
	}
	return p;
}

static inline const char *
rtrim_ws(const char *b, const char *e)
{
	while (e > b && ch_is((unsigned char)e[-1], CH_WS)) {
		e--;
	}
	return e;
}

static inline const char *
skip_token(const char *p, const char *e)
{
	while (p < e && ch_is((unsigned char)*p, CH_TOKEN)) {
		p++;
	}
	return p;
}

/*
 * Skip a quoted string starting at the opening quote.  Returns the position
 * after the closing quote, or NULL when unterminated.  RFC 3261 25.1: a
 * quoted-pair escapes any octet but CR and LF, NUL included; a backslash
 * before a line break (a fold) is no quoted-pair and fails.
 */
static inline const char *
skip_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (++p == e || *p == '\r' || *p == '\n') {
				return NULL;
			}
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/*
 * strncasecmp() over n bytes, inline: the spans compared are short, and
 * the call costs more than the compare.  Like strncasecmp(), it stops
 * equal at a NUL both sides share.
 */
static inline bool
caseeq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = ch_lower((unsigned char)a[i]);

		if (x != ch_lower((unsigned char)b[i])) {
			return false;
		}
		if (x == '\0') {
			return true;
		}
	}
	return true;
}

static inline struct span
mkspan(const struct msg *m, const char *p, const char *e)
{
	return (struct span){ (uint32_t)(p - m->buf), (uint32_t)(e - p) };
}

#endif
