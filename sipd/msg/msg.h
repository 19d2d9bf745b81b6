/*
 * msg: SIP syntax (RFC 3261 sections 7, 19, 20 and 25), the whole public face
 * of sipd/msg.  No I/O: bytes in, parsed messages and bytes out.
 *
 * A parsed message owns one buffer holding the received bytes, which are
 * never written to, followed by room for bytes that edits append.  Every
 * parsed item is a span (offset, length) into that buffer, so a reallocation
 * moves nothing that matters.  msg_sv() turns a span into a pointer and a
 * length that stay valid until the next edit of the same message.
 *
 * Parsing is in two steps.  msg_parse() reads the start line and builds the
 * header index; header values are parsed lazily, on first access, and the
 * result is cached in the message's arena.  msg_check() then applies the
 * RFC 3261 section 8.2 / 16.3 checks a server makes before it acts.
 *
 * Nothing here uses global mutable state: several threads may parse and edit
 * different messages at once.
 */
#ifndef SIPD_MSG_H
#define SIPD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
	uint32_t off, len;
};

struct sv {
	const char *p;
	size_t len;
};

#define SV_LIT(lit) ((struct sv){ (lit), sizeof(lit) - 1 })

/*
 * Decimal digits of v into out (at least 20 bytes), and exactly eight
 * lower-case hex digits of v; no NUL.  Return the length.  For the
 * packet path, where snprintf() costs more than the rest of a header.
 */
size_t sv_utoa(uint64_t v, char *out);
size_t sv_hex32(uint32_t v, char *out);

/* Byte-wise equality, and ASCII case-insensitive equality. */
bool sv_eq(struct sv a, struct sv b);
bool sv_caseeq(struct sv a, struct sv b);
bool sv_caseeq_str(struct sv a, const char *s);

enum hdr_id {
	HDR_UNKNOWN = 0,
#define HDR(id, name, compact, flags) HDR_##id,
#include "sipd/msg/hdrs.def"
#undef HDR
	HDR__COUNT
};

/* Canonical name of a known header ("Call-ID"), NULL for HDR_UNKNOWN. */
const char *hdr_name(enum hdr_id id);
/* Header id for a name as written (any case, compact forms too). */
enum hdr_id hdr_lookup(const char *name, size_t len);

enum msg_method {
	MSG_METHOD_OTHER = 0, /* an extension method: see msg_method_name() */
	MSG_INVITE,
	MSG_ACK,
	MSG_BYE,
	MSG_CANCEL,
	MSG_REGISTER,
	MSG_OPTIONS,
	MSG_INFO,
	MSG_PRACK,
	MSG_UPDATE,
	MSG_SUBSCRIBE,
	MSG_NOTIFY,
	MSG_REFER,
	MSG_MESSAGE,
	MSG_PUBLISH,
};

/* Method id for a method token (methods are case-sensitive, 7.1). */
enum msg_method msg_method_lookup(const char *p, size_t len);
const char *msg_method_str(enum msg_method m);

/*
 * Limits applied while parsing and framing.  msg_limits_init() fills the
 * defaults below; the daemon may change them.
 */
struct msg_limits {
	uint32_t max_size;    /* whole message, bytes */
	uint32_t max_headers; /* header lines */
	uint32_t max_line;    /* one physical line, bytes */
};

#define MSG_DEFAULT_MAX_SIZE 65535
#define MSG_DEFAULT_MAX_HEADERS 256
#define MSG_DEFAULT_MAX_LINE 8192

void msg_limits_init(struct msg_limits *lim);

/*
 * Why a message was refused.  status is the response a server sends (400,
 * 416, 505, 513) or 0 when none is possible (a broken response, or bytes
 * that cannot be framed).  reason is a short static string fit for a reason
 * phrase: "Bad CSeq", "Missing Call-ID".  off is the byte offset of the
 * fault, for logs.
 */
struct msg_err {
	int status;
	const char *reason;
	uint32_t off;
};

/* ---------------------------------------------------------------- URIs */

enum uri_scheme {
	URI_SIP,
	URI_SIPS,
	URI_TEL,
	URI_OTHER, /* kept opaque; a server answers 416 */
};

enum uri_host_type {
	URI_HOST_NONE,
	URI_HOST_NAME,
	URI_HOST_IPV4,
	URI_HOST_IPV6, /* host span includes the brackets */
};

/*
 * A parsed URI.  Spans are relative to the buffer passed to uri_parse();
 * for URIs inside a message that is the message buffer (msg_sv()).
 * For tel: the number is in user, its parameters in params.  For other
 * schemes only scheme and opaque (everything after the colon) are set.
 */
struct uri {
	uint8_t scheme;    /* enum uri_scheme */
	uint8_t host_type; /* enum uri_host_type */
	uint16_t port;     /* 0 when absent */
	struct span all;
	struct span scheme_s;
	struct span user;     /* still %-escaped */
	struct span password; /* still %-escaped */
	struct span host;
	struct span params;  /* after the first ';', without it */
	struct span headers; /* after '?', without it */
	struct span opaque;
};

/*
 * Parse the URI at base[s.off .. s.off+s.len).  Returns 0, or -EINVAL with
 * u partly filled.
 */
int uri_parse(const char *base, struct span s, struct uri *u);

/*
 * Look up a uri-parameter by name (case-insensitive).  Returns true when it
 * is present; *val is its value (len 0 for a flag such as ";lr").
 */
bool uri_param(const char *base, const struct uri *u, const char *name,
    struct sv *val);

/*
 * RFC 3261 19.1.4 URI equality.  Returns true when equal.  Other schemes
 * compare byte for byte.
 */
bool uri_equal(const char *abase, const struct uri *a, const char *bbase,
    const struct uri *b);

/*
 * Four dotted decimal octets of at most 255, the whole of [p, p+n), into
 * out (network order).  strict: as inet_pton() takes them, no leading
 * zeros; else RFC 3261 25.1 dec-octets of 1 to 3 digits ("010" too).
 */
bool uri_ipv4(const char *p, size_t n, bool strict, uint8_t out[4]);
/*
 * An IPv6 address as RFC 3261 25.1 writes it (corrected by RFC 5954 3),
 * the text between the brackets, into out: the one parser of IPv6
 * literals in URIs, Vias and routes.
 */
bool uri_ipv6(const char *p, size_t n, uint8_t out[16]);

/*
 * The one hash of the tables keyed by peer-chosen bytes (shards,
 * transactions, registrations, loop detection): bytes p[0..n) folded into
 * h, which starts as MSG_FNV_INIT or a seed.  A table whose keys a peer
 * chooses starts from a secret seed and mixes the result.
 *
 * It keeps FNV-1a's name and interface, but reads eight bytes a step:
 * each word is folded in by FNV-1a's xor and a multiply by an odd
 * constant, and the high half of the product is folded back into the low
 * so that every input bit reaches the low bits a modulo takes.  A tail of
 * one to seven bytes is one more word, read with loads inside [p, p+n),
 * its length in the top byte so "a" and "a\0" differ.  Each step is a
 * bijection of the state: keys of one word never collide, and which keys
 * of more collide depends on the seed.
 */
#define MSG_FNV_INIT 0xcbf29ce484222325ULL
static inline uint64_t
msg_fnv_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

static inline uint64_t
msg_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t w;
	uint32_t lo, hi;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = msg_fnv_step(h, w);
	}
	if (n == 0) {
		return h;
	}
	if (n >= 4) {
		memcpy(&lo, b, 4);
		memcpy(&hi, b + n - 4, 4);
		w = (uint64_t)lo | (uint64_t)(hi >> 8) << 32;
	} else {
		w = (uint64_t)b[0] | (uint64_t)b[n / 2] << 8 |
		    (uint64_t)b[n - 1] << 16;
	}
	return msg_fnv_step(h, w ^ (uint64_t)n << 56);
}

/* The splitmix64 finalizer: every bit of x moves every bit of the result
 * (a seeded FNV-1a's low bits, taken modulo a table size, need it). */
static inline uint64_t
msg_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * Decode %-escapes of in into out (at most cap bytes).  Returns the decoded
 * length, or -EINVAL for a bad escape, -ENOSPC when out is too small.
 */
int uri_unescape(struct sv in, char *out, size_t cap);

/* ------------------------------------------------------------ messages */

struct msg;

/*
 * Header line as indexed.  value is trimmed of surrounding white space and
 * may contain folded line breaks (CRLF followed by SP or HT), which the
 * typed parsers treat as white space.  line covers the name through the
 * line's final CRLF, so untouched headers serialize byte for byte.
 */
struct msg_hdr {
	uint16_t id;    /* enum hdr_id */
	uint16_t flags; /* MSG_HDR_* */
	int32_t next;   /* index of the next header with the same id, or -1 */
	struct span name;
	struct span value;
	struct span line;
	void *cache; /* typed value, parsed on first access */
};

#define MSG_HDR_REMOVED 0x1 /* skipped by lookups and serialization */
#define MSG_HDR_ADDED 0x2   /* bytes live after the received data */

/*
 * Parse len bytes.  The bytes are copied into the message, so data may be
 * reused at once.  Returns NULL when the bytes cannot be a SIP message at
 * all (no start line, no end of headers, over a limit, a NUL in the start
 * line or headers other than a quoted-pair's octet): *err says why.
 * Otherwise returns a message that may still fail msg_check().  A line
 * that is no header ("name: value", or a fold with no header before it)
 * is left out of the index and fails msg_check() with "Bad Header Line",
 * so that the other headers can still build the 400.  lim may be NULL for
 * the defaults.
 *
 * A datagram's body is what follows the headers; with a Content-Length the
 * body is cut to it (RFC 3261 18.3), and a Content-Length larger than the
 * bytes present fails msg_check() with "Bad Content-Length".
 */
struct msg *msg_parse(const char *data, size_t len,
    const struct msg_limits *lim, struct msg_err *err);

void msg_free(struct msg *m);

/*
 * A copy of m as it would be sent (edits applied), in the least memory:
 * for messages kept for a long time, such as a transaction's request.
 * It is what msg_parse() would make of msg_write()'s bytes, built without
 * parsing them again.  The top Via and CSeq, when m has parsed them, come
 * along; other typed values are parsed again on access.  Returns NULL on
 * allocation failure.
 */
struct msg *msg_compact(const struct msg *m);

/*
 * Validate what a server relies on before acting: start line (version 505,
 * scheme 416), one well-formed Via, From, To, Call-ID, CSeq (and for a
 * request, CSeq method equal to the request method), Max-Forwards when
 * present, Content-Length when present, Contact and Expires when present.
 * Returns 0, or -EINVAL with *err filled.
 */
int msg_check(struct msg *m, struct msg_err *err);

/* The span's bytes.  Valid until the next edit of m. */
struct sv msg_sv(const struct msg *m, struct span s);
/* Whole message buffer (received bytes and appended bytes). */
const char *msg_buf(const struct msg *m);

bool msg_is_request(const struct msg *m);
enum msg_method msg_method(const struct msg *m);
struct sv msg_method_name(const struct msg *m);
/* Request-URI span, and parsed (NULL when it failed to parse). */
struct span msg_ruri_span(const struct msg *m);
const struct uri *msg_ruri(const struct msg *m);
int msg_status(const struct msg *m);
struct sv msg_reason(const struct msg *m);
struct sv msg_body(const struct msg *m);

/* Header index access; indexes are stable across edits. */
unsigned msg_hdr_total(const struct msg *m);
const struct msg_hdr *msg_hdr_at(const struct msg *m, int idx);
/* First header with this id, or -1. */
int msg_hdr_first(const struct msg *m, enum hdr_id id);
/* Next header with the same id as idx, or -1. */
int msg_hdr_next(const struct msg *m, int idx);
/* First header with this name (unknown headers too), or -1. */
int msg_hdr_find(const struct msg *m, struct sv name);
/* Number of live header lines with this id. */
unsigned msg_hdr_count(const struct msg *m, enum hdr_id id);
/* Value of the first header with this id (len 0 when absent). */
struct sv msg_hdr_value(const struct msg *m, enum hdr_id id);

/*
 * Split the comma-separated values of every header with this id (quotes and
 * <> respected) into out.  Returns the number of values (which may exceed
 * max: only max are stored), or -EINVAL for an unterminated quote.
 */
int msg_hdr_values(const struct msg *m, enum hdr_id id, struct span *out,
    int max);

/* ----------------------------------------------------- typed header values */

struct msg_via {
	struct span value;     /* this via-parm */
	struct span protocol;  /* "SIP" */
	struct span version;   /* "2.0" */
	struct span transport; /* "UDP", "TCP", "TLS", "SCTP", "WS", ... */
	struct span host;      /* sent-by host; IPv6 with brackets */
	uint16_t port;         /* 0 when absent */
	uint8_t host_type;     /* enum uri_host_type */
	bool rport;            /* rport parameter present */
	int32_t rport_value;   /* -1 when rport has no value */
	int32_t ttl;           /* -1 when absent */
	struct span branch;
	struct span received;
	struct span maddr;
	struct span params; /* after the first ';' */
	int hdr;            /* index of the header line */
};

/* Top Via, or NULL when absent or malformed.  Parses only the top value. */
const struct msg_via *msg_via_top(struct msg *m);
/* All Via values, top first.  Returns the count, or -EINVAL. */
int msg_vias(struct msg *m, const struct msg_via **out);

/* name-addr / addr-spec with header parameters (From, To, Contact, Route) */
struct msg_naddr {
	struct span value;   /* the whole element */
	struct span display; /* as written, quotes included; len 0 if none */
	struct span uri_s;   /* the URI text, without <> */
	struct uri uri;
	struct span params; /* header parameters after the first ';' */
	struct span tag;    /* tag parameter value */
	int32_t expires;    /* Contact expires parameter; -1 when absent */
	int16_t q;          /* Contact q in thousandths; -1 when absent */
	bool star;          /* Contact: * */
	int hdr;
};

/* From and To, or NULL when absent or malformed. */
const struct msg_naddr *msg_from(struct msg *m);
const struct msg_naddr *msg_to(struct msg *m);
/*
 * Every element of every header with this id (Contact, Route, Record-Route,
 * Path, Reply-To, Refer-To, ...), in order.  Returns the count (0 when
 * absent) or -EINVAL when one is malformed.
 */
int msg_naddrs(struct msg *m, enum hdr_id id, const struct msg_naddr **out);
/* Header parameter by name on a name-addr (true when present). */
bool msg_naddr_param(const struct msg *m, const struct msg_naddr *na,
    const char *name, struct sv *val);

struct msg_cseq {
	uint32_t num;
	uint8_t method; /* enum msg_method */
	struct span method_s;
};

const struct msg_cseq *msg_cseq(struct msg *m);
/* Call-ID value; len 0 when absent. */
struct sv msg_callid(struct msg *m);
/*
 * Numeric headers.  Return 0 and the value, -ENOENT when absent, -EINVAL
 * when malformed or out of range.
 */
int msg_max_forwards(struct msg *m, uint32_t *out);
int msg_content_length(struct msg *m, uint32_t *out);
int msg_expires(struct msg *m, uint32_t *out);

struct msg_ctype {
	struct span type, subtype, params;
};

const struct msg_ctype *msg_content_type(struct msg *m);

/* Credentials and challenges (RFC 3261 25.1, RFC 7616). */
struct msg_auth {
	struct span scheme; /* "Digest" */
	struct span username, realm, nonce, uri, response, algorithm;
	struct span cnonce, opaque, qop, nc, stale, domain, userhash;
	struct span params; /* every parameter, as written */
	int hdr;
};

/*
 * One entry per header line of id (HDR_AUTHORIZATION,
 * HDR_PROXY_AUTHORIZATION, HDR_WWW_AUTHENTICATE, HDR_PROXY_AUTHENTICATE).
 * Quoted values are given without their quotes, escapes still in.  Returns
 * the count or -EINVAL.
 */
int msg_auths(struct msg *m, enum hdr_id id, const struct msg_auth **out);

/* ----------------------------------------------------------------- edits */

/*
 * Append a header line "name: value" after the last header.  value may
 * hold folds (CRLF followed by SP or HT) as received values do: the line
 * is written unfolded.  Returns the new header's index, or -ENOMEM /
 * -EINVAL (name not a token, CR or LF in value other than in a fold, NUL
 * other than a quoted-pair's).
 */
int msg_hdr_append(struct msg *m, const char *name, struct sv value);
/* Insert before header index before (-1: append).  Returns the index. */
int msg_hdr_insert(struct msg *m, int before, const char *name,
    struct sv value);
/* The same for a known header id, written with hdr_name(id): no name to
 * check or look up, for the lines sipd adds to every forwarded request. */
int msg_hdr_insert_id(struct msg *m, int before, enum hdr_id id,
    struct sv value);
/* Remove one header line.  Returns 0 or -ENOENT. */
int msg_hdr_remove(struct msg *m, int idx);
/* Remove every header with this id.  Returns how many were removed. */
int msg_hdr_remove_all(struct msg *m, enum hdr_id id);
/* Replace a header line's value, keeping its name and place. */
int msg_hdr_replace(struct msg *m, int idx, struct sv value);

/* Add a Via value on top (a header line before the first Via). */
int msg_via_push(struct msg *m, struct sv value);
/* Remove the top Via value.  Returns 0 or -ENOENT. */
int msg_via_pop(struct msg *m);
/*
 * RFC 3581 / RFC 3261 18.2.1 on a received request: set received=addr on
 * the top Via when addr differs from its sent-by host or rport is present,
 * and fill rport's value with port when rport is present.
 */
int msg_via_set_received(struct msg *m, struct sv addr, uint16_t port);
/* Replace the Request-URI. */
int msg_set_ruri(struct msg *m, struct sv uri);
/* Replace the body; Content-Length follows.  ctype NULL: keep it. */
int msg_set_body(struct msg *m, const struct sv *ctype, struct sv body);

/* --------------------------------------------------------- serialization */

/* Bytes msg_write() will produce. */
size_t msg_size(const struct msg *m);
/*
 * Serialize into out.  Untouched header lines come out byte for byte.
 * Returns the length written, or -ENOSPC when cap is too small.
 */
int msg_write(const struct msg *m, char *out, size_t cap);
/*
 * Where msg_write()'s bytes come from, run by run in the order written:
 * received bytes as their offset in the received buffer (lines no edit
 * touched; of a message written before any edit, that is also where
 * they stand in what it wrote), or MSG_RUN_NEW for bytes an edit made.
 * The caller's storage: run[0..max), n set by msg_write_runs().
 */
#define MSG_RUN_NEW UINT32_MAX
struct msg_run {
	uint32_t off, len;
};
struct msg_runs {
	struct msg_run *run;
	size_t n, max;
};
/* msg_write(), with its runs noted in r; -ENOSPC also when r is full. */
int msg_write_runs(const struct msg *m, char *out, size_t cap,
    struct msg_runs *r);

/* --------------------------------------------------------------- building */

/* Default reason phrase for a status code ("Not Found"). */
const char *msg_reason_phrase(int status);

/*
 * A response to req per RFC 3261 8.2.6: the Via lines, From, To (with
 * to_tag added when the status is over 100 and To has no tag; to_tag may
 * have len 0), Call-ID and CSeq copied, Content-Length 0.  Of a request
 * that failed msg_check() (a 400, 8.2.6.1), only those of From, To,
 * Call-ID and CSeq that it holds once and that parse are copied.  reason
 * NULL takes the default phrase.  Further headers may then be appended.
 * Returns NULL on allocation failure or when req has no well-formed top
 * Via to answer by.
 */
struct msg *msg_response(struct msg *req, int status, const char *reason,
    struct sv to_tag);
/*
 * The bytes msg_response() would parse, into out (cap bytes), with the
 * line "xname: xvalue" after Content-Length when xname is not NULL (as
 * msg_hdr_append() would add it): for a response sent as it is built.
 * The length written, -EINVAL (as msg_response() gives NULL, or a bad
 * xname or xvalue) or -ENOSPC.
 */
int msg_response_write(struct msg *req, int status, const char *reason,
    struct sv to_tag, const char *xname, struct sv xvalue, char *out,
    size_t cap);

/* A header line of a response written as bytes: "name: value". */
struct msg_line {
	const char *name;
	struct sv value;
};

/*
 * Add the lines x[0..n) to a response's bytes: buf holds len bytes
 * ending with the empty line (as msg_response_write() writes them) and
 * has room for cap.  The lines go in order before the empty line, each as
 * msg_hdr_append() would add it (folds unfolded), so the bytes are those
 * msg_write() gives for msg_response() and n msg_hdr_append() calls.
 * Returns the new length, -EINVAL (bytes without the empty line, a name
 * not a token, a value msg_hdr_append() refuses) or -ENOSPC; buf is left
 * as it was on error.  The values must not point into buf.
 */
int msg_response_add_lines(char *buf, size_t len, size_t cap,
    const struct msg_line *x, size_t n);

/* ---------------------------------------------------------------- framing */

enum msg_frame_kind {
	MSG_FRAME_MORE,      /* need more bytes */
	MSG_FRAME_MESSAGE,   /* a complete message of len bytes */
	MSG_FRAME_PING,      /* CRLFCRLF keep-alive (RFC 5626 3.5.1): pong */
	MSG_FRAME_KEEPALIVE, /* a lone CRLF between messages: skip it */
	MSG_FRAME_ERROR,     /* unframeable: close the stream */
};

/*
 * Stream framing state: zero it for a new stream.  The framer remembers
 * where the line it stopped in began, so bytes arriving a few at a time are
 * not rescanned, and it resets itself when it returns a frame.
 */
struct msg_framer {
	uint32_t scanned;
	uint32_t hdr_end; /* 0 until the end of headers was found */
	uint32_t total;
};

/*
 * Find the first frame in buf[0..len), the unconsumed bytes of a stream.
 * A message on a stream must carry Content-Length (RFC 3261 18.3).
 * Returns the frame kind; out_len is the frame length for MESSAGE, PING and
 * KEEPALIVE; *err is filled for ERROR.
 */
enum msg_frame_kind msg_frame(struct msg_framer *f, const char *buf,
    size_t len, const struct msg_limits *lim, uint32_t *out_len,
    struct msg_err *err);

#endif
