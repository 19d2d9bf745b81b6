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
	/* inline header slots, arena and buffer, sized at creation */
	_Alignas(max_align_t) char tail[];
};

/*
 * hdr_lookup() in two steps, for the parser: hdr_tables_init() once per
 * message, then hdr_lookup_token() for each header line, which spares
 * every line a pthread_once() call.  hdr_lookup_token() takes only an
 * RFC 3261 token (what the parser takes for a name), which it folds to
 * lower case with one OR a word.
 */
void hdr_tables_init(void);
enum hdr_id hdr_lookup_token(const char *name, size_t len);

/* Whether values of this header id form a comma-separated list. */
bool hdr_is_list(enum hdr_id id);

/* A new header slot (index), growing the index; -ENOMEM. */
int msg_hdr_slot(struct msg *m);

/* Bump allocation in the message arena; freed with the message. */
void *msg_alloc(struct msg *m, size_t size);

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
 * The first NUL in [p, e) that is not the escaped octet of a quoted-pair
 * inside a quoted string (RFC 3261 25.1), or NULL when there is none.
 * Quoted strings end with their line unless a fold continues it.
 */
const char *msg_stray_nul(const char *p, const char *e);

/* RFC 3261 25.1: callid = word [ "@" word ]; no white space. */
bool msg_callid_ok(struct sv v);

/* Parse the Content-Length digits of value; -EINVAL when bad. */
int msg_parse_uint(const char *p, const char *e, uint64_t max, uint64_t *out);

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
