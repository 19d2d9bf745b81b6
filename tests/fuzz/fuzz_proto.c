/*
 * fuzz_proto: the control protocol's decoder as sipd meets it.  The input
 * is a byte stream cut into frames by their 4-byte lengths (at most 64
 * KiB here), each body decoded by proto_decode() and, for a request of a
 * known command, its arguments checked by proto_args().  What decodes is
 * written back (proto_pack_args()) and must decode to the same values.
 * Arguments refused have a message and one of the documented error codes
 * (what sipd/ctl replies).  A first byte of 'L' makes the rest one command
 * line instead: lexed, parsed against the table, and asked what may come
 * next.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "proto/cmd.h"
#include "proto/err.h"
#include "proto/proto.h"

#define FUZZ_PROTO_MAX (64 * 1024)

/* Pack a's values and read them back: the same values. */
static void
roundtrip(const struct cmd_args *a)
{
	struct proto_out o;
	struct proto_msg m;
	struct cmd_args *b;
	const char *frame;
	size_t len;
	char err[256];

	b = malloc(sizeof(*b));
	if (b == NULL) {
		return;
	}
	proto_out_init(&o);
	proto_begin_request(&o, 1, a->cmd->name);
	proto_pack_args(&o.pk, a);
	frame = proto_out_frame(&o, &len);
	FUZZ_CHECK(frame != NULL);
	FUZZ_CHECK(proto_decode(&m, frame + PROTO_HDR, len - PROTO_HDR, err,
		       sizeof(err)) == 0);
	FUZZ_CHECK(m.kind == PROTO_REQUEST);
	FUZZ_CHECK(cmd_by_name(m.cmd, m.cmd_len) == a->cmd);
	FUZZ_CHECK(cmd_args_init(b, a->cmd) == 0);
	FUZZ_CHECK(proto_args(m.args, b, err, sizeof(err)) == 0);
	for (int i = 0; i < a->n; i++) {
		FUZZ_CHECK(a->val[i].set == b->val[i].set);
		if (a->val[i].set) {
			FUZZ_CHECK(strcmp(a->val[i].s, b->val[i].s) == 0);
			FUZZ_CHECK(a->val[i].u == b->val[i].u);
			FUZZ_CHECK(a->val[i].b == b->val[i].b);
		}
	}
	proto_msg_fini(&m);
	proto_out_fini(&o);
	free(b);
}

static void
one_frame(const char *body, size_t len)
{
	struct proto_msg m;
	struct cmd_args *a;
	const struct cmd *c;
	char err[256];

	if (proto_decode(&m, body, len, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		proto_msg_fini(&m);
		return;
	}
	if (m.kind == PROTO_REQUEST &&
	    (c = cmd_by_name(m.cmd, m.cmd_len)) != NULL) {
		a = malloc(sizeof(*a));
		if (a != NULL && cmd_args_init(a, c) == 0) {
			int rc;

			err[0] = '\0';
			rc = proto_args(m.args, a, err, sizeof(err));
			if (rc == 0) {
				roundtrip(a);
			} else {
				/* what sipd/ctl replies: a documented code and
				 * a message (ctl_request()) */
				FUZZ_CHECK(rc < 0);
				FUZZ_CHECK(err[0] != '\0');
				FUZZ_CHECK(err_code_of(rc) < ERR__COUNT);
				FUZZ_CHECK(err_code_name(err_code_of(rc)) !=
				    NULL);
			}
		}
		free(a);
	}
	if (m.kind == PROTO_REPLY && !m.ok) {
		fuzz_touch(m.code, m.code_len);
		fuzz_touch(m.msg, m.msg_len);
	}
	proto_msg_fini(&m);
}

static void
one_line(const char *p, size_t len)
{
	struct lex_line l;
	struct cmd_args *a;
	struct cmd_next *next;
	char err[512];

	if (lex_split(&l, p, len, LEX_PARTIAL, NULL) == 0) {
		next = malloc(sizeof(*next));
		if (next != NULL) {
			(void)cmd_next(l.words, l.count, 0, next);
			for (int i = 0; i < next->n; i++) {
				FUZZ_CHECK(strlen(next->word[i].text) ==
				    next->word[i].len);
			}
		}
		free(next);
	}
	lex_fini(&l);
	if (lex_split(&l, p, len, 0, NULL) == 0 && l.count > 0) {
		a = malloc(sizeof(*a));
		if (a != NULL && cmd_parse(a, l.words, l.count, 0, err,
				     sizeof(err)) == 0) {
			FUZZ_CHECK(cmd_args_check(a, err, sizeof(err)) == 0);
			roundtrip(a);
		}
		free(a);
	}
	lex_fini(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	if (size > 0 && data[0] == 'L') {
		one_line((const char *)data + 1, size - 1);
		return 0;
	}
	while (size - pos >= PROTO_HDR) {
		uint32_t len;
		char *body;

		if (proto_hdr_check(data + pos, FUZZ_PROTO_MAX, &len) < 0) {
			return 0;
		}
		pos += PROTO_HDR;
		if (len > size - pos) {
			return 0;
		}
		/* an exact-size copy, so a read past the frame is caught */
		body = malloc(len);
		if (body == NULL) {
			return 0;
		}
		memcpy(body, data + pos, len);
		one_frame(body, len);
		free(body);
		pos += len;
	}
	return 0;
}
