/*
 * Stream framing (RFC 3261 18.3, RFC 5626 3.5.1): find where one message
 * ends in the bytes of a TCP or TLS stream.  The framer keeps how far it
 * has looked, so a peer that sends a byte at a time costs linear work, and
 * it enforces the size and line limits before the end of the headers is
 * seen, so an endless header is refused early.
 */
#include <strings.h>

#include "sipd/msg/msg_int.h"

static enum msg_frame_kind
frame_error(struct msg_err *err, int status, const char *reason, uint32_t off)
{
	if (err != NULL) {
		err->status = status;
		err->reason = reason;
		err->off = off;
	}
	return MSG_FRAME_ERROR;
}

/* Is buf[0..len) a prefix of CRLF CRLF? */
static bool
crlf_prefix(const char *buf, size_t len)
{
	static const char ping[4] = { '\r', '\n', '\r', '\n' };

	return len < 4 && memcmp(buf, ping, len) == 0;
}

/*
 * Content-Length of the header block buf[0..hend): the value of the
 * Content-Length (or compact "l") header.  -ENOENT when absent, -EINVAL
 * when bad or given twice with different values.
 */
static int
find_length(const char *buf, size_t hend, uint32_t *out)
{
	const char *p = buf, *e = buf + hend;
	bool found = false;
	uint64_t v = 0;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;
		const char *ne = p;
		while (ne < le && ch_is((unsigned char)*ne, CH_TOKEN)) {
			ne++;
		}
		size_t nlen = (size_t)(ne - p);
		if ((nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) ||
		    (nlen == 1 && ch_lower((unsigned char)*p) == 'l')) {
			const char *c = ne;
			while (c < le && (*c == ' ' || *c == '\t')) {
				c++;
			}
			if (c < le && *c == ':') {
				const char *vs = skip_ws(c + 1, le);
				const char *ve = rtrim_ws(vs, le);
				uint64_t x;
				if (msg_parse_uint(vs, ve, UINT32_MAX, &x) != 0 ||
				    (found && x != v)) {
					return -EINVAL;
				}
				v = x;
				found = true;
			}
		}
		p = nl ? nl + 1 : e;
	}
	if (!found) {
		return -ENOENT;
	}
	*out = (uint32_t)v;
	return 0;
}

enum msg_frame_kind
msg_frame(struct msg_framer *f, const char *buf, size_t len,
    const struct msg_limits *lim, uint32_t *out_len, struct msg_err *err)
{
	struct msg_limits dl;

	if (lim == NULL) {
		msg_limits_init(&dl);
		lim = &dl;
	}
	*out_len = 0;
	if (len == 0) {
		return MSG_FRAME_MORE;
	}
	if (f->hdr_end == 0 && f->scanned == 0 && buf[0] == '\r') {
		/* RFC 5626 3.5.1: CRLFCRLF is a ping, a lone CRLF a pong or
		 * keep-alive (RFC 3261 7.5 allows CRLF before a message) */
		if (crlf_prefix(buf, len)) {
			return MSG_FRAME_MORE;
		}
		if (len >= 4 && memcmp(buf, "\r\n\r\n", 4) == 0) {
			*out_len = 4;
			return MSG_FRAME_PING;
		}
		if (len >= 2 && buf[1] == '\n') {
			*out_len = 2;
			return MSG_FRAME_KEEPALIVE;
		}
	}
	if (f->hdr_end == 0 && f->scanned == 0 && buf[0] == '\n') {
		*out_len = 1;
		return MSG_FRAME_KEEPALIVE;
	}

	if (f->hdr_end == 0) {
		/* find the empty line, resuming at the start of the line
		 * the last call stopped in */
		size_t lim_len = len < lim->max_size ? len : lim->max_size;
		size_t line_start = f->scanned;
		for (size_t i = line_start; i < lim_len; i++) {
			/* memchr: a byte loop here was a tenth of a TCP
			 * proxy's instructions */
			const char *nl = memchr(buf + i, '\n', lim_len - i);
			if (nl == NULL) {
				break;
			}
			i = (size_t)(nl - buf);
			if (i - line_start > lim->max_line) {
				return frame_error(err, 0, "Line Too Long",
				    (uint32_t)line_start);
			}
			line_start = i + 1;
			if ((i >= 1 && buf[i - 1] == '\n') ||
			    (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')) {
				f->hdr_end = (uint32_t)(i + 1);
				break;
			}
		}
		if (f->hdr_end == 0) {
			f->scanned = (uint32_t)line_start;
			if (lim_len - line_start > lim->max_line) {
				return frame_error(err, 0, "Line Too Long",
				    (uint32_t)line_start);
			}
			if (len >= lim->max_size) {
				return frame_error(err, 513,
				    "Message Too Large", 0);
			}
			return MSG_FRAME_MORE;
		}
		uint32_t cl;
		int rc = find_length(buf, f->hdr_end, &cl);
		if (rc == -ENOENT) {
			return frame_error(err, 400, "Missing Content-Length", 0);
		}
		if (rc != 0) {
			return frame_error(err, 400, "Bad Content-Length", 0);
		}
		if ((uint64_t)f->hdr_end + cl > lim->max_size) {
			return frame_error(err, 513, "Message Too Large", 0);
		}
		f->total = f->hdr_end + cl;
	}
	if (len < f->total) {
		return MSG_FRAME_MORE;
	}
	*out_len = f->total;
	f->scanned = f->hdr_end = f->total = 0;
	return MSG_FRAME_MESSAGE;
}
