/*
 * fuzz_frame: stream framing as a TCP or TLS connection sees it.  The first
 * byte says how many of the following bytes are piece sizes; the rest is the
 * stream, handed to msg_frame() in pieces of those sizes, in turn.  The
 * unconsumed bytes live in a buffer of exactly their size, so the sanitizer
 * catches a read past the bytes given.  A frame is never longer than those
 * bytes, each MESSAGE frame goes through msg_parse(), and the frames found
 * must not depend on how the stream was cut: the same stream given in one
 * piece must yield the same messages and the same verdict.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#define FUZZ_FRAME_MAX_SIZES 8
#define FUZZ_FRAME_MAX_LOG 256

/* What a run over the stream found. */
struct frame_log {
	uint32_t off[FUZZ_FRAME_MAX_LOG]; /* stream offset of each message */
	uint32_t len[FUZZ_FRAME_MAX_LOG];
	size_t n;
	bool error;
};

static size_t
piece_size(const uint8_t *sizes, size_t nsizes, size_t k)
{
	uint8_t b;

	if (nsizes == 0) {
		return SIZE_MAX;
	}
	b = sizes[k % nsizes];
	/* mostly small pieces, now and then a large one */
	return b >= 0xf0 ? 1024 : (size_t)(b % 64) + 1;
}

static void
parse_frame(const char *p, uint32_t len)
{
	struct msg_err err;
	struct msg *m;
	char *copy;

	copy = malloc(len);
	if (copy == NULL) {
		return;
	}
	memcpy(copy, p, len);
	m = msg_parse(copy, len, NULL, &err);
	if (m != NULL) {
		(void)msg_check(m, &err);
		msg_free(m);
	}
	free(copy);
}

/* Frame the stream given in pieces (nsizes 0: in one piece). */
static void
run(const char *stream, size_t len, const uint8_t *sizes, size_t nsizes,
    struct frame_log *log)
{
	struct msg_limits lim;
	struct msg_framer f;
	struct msg_err err;
	char *win = NULL, *tmp;
	size_t have = 0, pos = 0, consumed = 0, k = 0, piece;
	uint32_t flen;

	msg_limits_init(&lim);
	memset(&f, 0, sizeof(f));
	memset(log, 0, sizeof(*log));
	while (pos < len) {
		piece = piece_size(sizes, nsizes, k++);
		if (piece > len - pos) {
			piece = len - pos;
		}
		tmp = realloc(win, have + piece);
		if (tmp == NULL) {
			break;
		}
		win = tmp;
		memcpy(win + have, stream + pos, piece);
		have += piece;
		pos += piece;

		while (have > 0) {
			enum msg_frame_kind kind;

			flen = 0;
			memset(&err, 0, sizeof(err));
			kind = msg_frame(&f, win, have, &lim, &flen, &err);
			if (kind == MSG_FRAME_MORE) {
				FUZZ_CHECK(f.scanned <= have);
				break;
			}
			if (kind == MSG_FRAME_ERROR) {
				FUZZ_CHECK(err.reason != NULL);
				log->error = true;
				goto done;
			}
			FUZZ_CHECK(kind == MSG_FRAME_MESSAGE ||
			           kind == MSG_FRAME_PING ||
			           kind == MSG_FRAME_KEEPALIVE);
			FUZZ_CHECK(flen > 0 && flen <= have);
			if (kind == MSG_FRAME_MESSAGE) {
				parse_frame(win, flen);
				if (log->n < FUZZ_FRAME_MAX_LOG) {
					log->off[log->n] = (uint32_t)consumed;
					log->len[log->n] = flen;
				}
				log->n++;
			}
			/* consume the frame; the rest moves to a buffer of
			 * exactly its size */
			memmove(win, win + flen, have - flen);
			have -= flen;
			consumed += flen;
			if (have == 0) {
				free(win);
				win = NULL;
			} else {
				tmp = realloc(win, have);
				if (tmp != NULL) {
					win = tmp;
				}
			}
			memset(&f, 0, sizeof(f));
		}
	}
done:
	free(win);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_log *cut, *whole;
	size_t nsizes, i, n;

	if (size < 1) {
		return 0;
	}
	nsizes = (size_t)(data[0] % FUZZ_FRAME_MAX_SIZES) + 1;
	if (size < 1 + nsizes) {
		return 0;
	}
	cut = malloc(sizeof(*cut));
	whole = malloc(sizeof(*whole));
	if (cut == NULL || whole == NULL) {
		goto out;
	}
	run((const char *)data + 1 + nsizes, size - 1 - nsizes, data + 1,
	    nsizes, cut);
	run((const char *)data + 1 + nsizes, size - 1 - nsizes, NULL, 0, whole);
	FUZZ_CHECK(cut->n == whole->n);
	FUZZ_CHECK(cut->error == whole->error);
	n = cut->n < FUZZ_FRAME_MAX_LOG ? cut->n : FUZZ_FRAME_MAX_LOG;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(cut->off[i] == whole->off[i]);
		FUZZ_CHECK(cut->len[i] == whole->len[i]);
	}
out:
	free(cut);
	free(whole);
	return 0;
}
