/*
 * sipd's decoder of control requests (sipd/ctl/decode.c, ctl_decode()):
 * what every frame gets before a handler runs, whatever client sent it.
 * A good request gives its command and typed arguments; each bad one
 * gets the reply's error code and message and a log line naming the
 * sender: a frame that is not msgpack, a reply, id 0, a command not in
 * the table, abbreviated (whole words on the wire), or sipctl's alone,
 * a write by a reader, an unknown argument, a value of the wrong type or
 * out of range, a required argument missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "proto/err.h"
#include "sipd/ctl/ctl_int.h"

#define WHO "uid 1000 pid 42"

/* An argument of a request: a string, or an unsigned when s is NULL. */
struct kv {
	const char *k, *s;
	uint64_t u;
};

/* Decode the request {id, cmd, args: kv[0..n)} as writer (or not). */
static int
decode(struct ctl_decoded *d, uint32_t id, const char *cmd,
    const struct kv *kv, int n, bool writer)
{
	struct proto_out o;
	const char *f;
	size_t len;
	int rc;

	proto_out_init(&o);
	proto_begin_request(&o, id, cmd);
	msgpack_pack_map(&o.pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		if (kv[i].s != NULL) {
			proto_kv_str(&o.pk, kv[i].k, kv[i].s);
		} else {
			proto_kv_uint(&o.pk, kv[i].k, kv[i].u);
		}
	}
	f = proto_out_frame(&o, &len);
	assert_non_null(f);
	rc = ctl_decode(d, f + PROTO_HDR, len - PROTO_HDR, writer, WHO);
	proto_out_fini(&o);
	return rc;
}

/* A refusal: its code, a word of its message and of its log line. */
static void
expect_refused(struct ctl_decoded *d, int rc, enum err_code code,
    const char *err, const char *log)
{
	assert_true(rc < 0);
	assert_null(d->args);
	assert_int_equal(d->code, code);
	if (strstr(d->err, err) == NULL) {
		fail_msg("error '%s' lacks '%s'", d->err, err);
	}
	if (strstr(d->log, log) == NULL || strstr(d->log, WHO) == NULL) {
		fail_msg("log '%s' lacks '%s' or the sender", d->log, log);
	}
	ctl_decoded_fini(d);
}

static void
test_good(void **state)
{
	struct ctl_decoded d;
	const struct kv add[] = {
		{ "transport", "tcp", 0 },
		{ "address", "127.0.0.1:5070", 0 },
	};
	const struct kv t1[] = { { "ms", NULL, 750 } };

	(void)state;
	/* a read, by anyone */
	assert_int_equal(decode(&d, 7, "listener list", NULL, 0, false), 0);
	assert_int_equal(d.m.id, 7);
	assert_int_equal(d.cmd->id, CMD_LISTENER_LIST);
	assert_non_null(d.args);
	ctl_decoded_fini(&d);
	/* a write, by a writer, its arguments typed */
	assert_int_equal(decode(&d, 8, "listener add", add, 2, true), 0);
	assert_int_equal(d.cmd->id, CMD_LISTENER_ADD);
	assert_string_equal(cmd_arg_str(d.args, "address"), "127.0.0.1:5070");
	assert_string_equal(cmd_arg_str(d.args, "transport"), "tcp");
	assert_false(cmd_arg_has(d.args, "cert"));
	ctl_decoded_fini(&d);
	assert_int_equal(decode(&d, 9, "set t1", t1, 1, true), 0);
	assert_int_equal(d.cmd->id, CMD_SET_T1);
	assert_int_equal(cmd_arg_uint(d.args, "ms", 0), 750);
	ctl_decoded_fini(&d);
}

static void
test_frames(void **state)
{
	struct ctl_decoded d;
	struct proto_out o;
	const char *f;
	size_t len;
	static const char junk[] = "\xc1\xff\x00garbage";

	(void)state;
	/* not msgpack at all: invalid, id 0 in the reply */
	expect_refused(&d, ctl_decode(&d, junk, sizeof(junk) - 1, true, WHO),
	    ERR_INVALID, "", "bad frame from");
	/* a reply where a request belongs */
	proto_out_init(&o);
	proto_begin_reply(&o, 5);
	msgpack_pack_nil(&o.pk);
	f = proto_out_frame(&o, &len);
	assert_non_null(f);
	expect_refused(&d,
	    ctl_decode(&d, f + PROTO_HDR, len - PROTO_HDR, true, WHO),
	    ERR_INVALID, "not a request", "(not a request)");
	proto_out_fini(&o);
	/* id 0 is the greeting's */
	expect_refused(&d, decode(&d, 0, "listener list", NULL, 0, true),
	    ERR_INVALID, "id 0 is reserved", "(id 0)");
}

static void
test_commands(void **state)
{
	struct ctl_decoded d;

	(void)state;
	expect_refused(&d, decode(&d, 1, "frob", NULL, 0, true), ERR_INVALID,
	    "unknown command 'frob'", "unknown command 'frob' from");
	/* abbreviations are sipctl's: the wire takes the table's words */
	expect_refused(&d, decode(&d, 1, "lis l", NULL, 0, true), ERR_INVALID,
	    "unknown command 'lis l'", "unknown command");
	expect_refused(&d, decode(&d, 1, "Listener list", NULL, 0, true),
	    ERR_INVALID, "unknown command", "unknown command");
	expect_refused(&d, decode(&d, 1, "listener  list", NULL, 0, true),
	    ERR_INVALID, "unknown command", "unknown command");
	/* sipctl's own commands do not reach sipd */
	expect_refused(&d, decode(&d, 1, "quit", NULL, 0, true), ERR_INVALID,
	    "unknown command 'quit'", "unknown command");
	expect_refused(&d, decode(&d, 1, "help", NULL, 0, true), ERR_INVALID,
	    "unknown command 'help'", "unknown command");
	/* a write by a reader, whatever its arguments */
	expect_refused(&d, decode(&d, 3, "shutdown", NULL, 0, false),
	    ERR_DENIED, "'shutdown' needs root or sipd's user",
	    "refused 'shutdown' to");
	assert_int_equal(decode(&d, 3, "shutdown", NULL, 0, true), 0);
	ctl_decoded_fini(&d);
}

static void
test_args(void **state)
{
	struct ctl_decoded d;
	const struct kv unknown[] = {
		{ "transport", "udp", 0 },
		{ "address", "127.0.0.1:5070", 0 },
		{ "colour", "red", 0 },
	};
	const struct kv badenum[] = {
		{ "transport", "xdp", 0 },
		{ "address", "127.0.0.1:5070", 0 },
	};
	const struct kv missing[] = { { "transport", "udp", 0 } };
	const struct kv str_for_uint[] = { { "ms", "750", 0 } };
	const struct kv range[] = { { "ms", NULL, 5 } };

	(void)state;
	expect_refused(&d, decode(&d, 2, "listener add", unknown, 3, true),
	    ERR_INVALID, "unknown argument 'colour' for listener add",
	    "bad arguments for 'listener add' from");
	expect_refused(&d, decode(&d, 2, "listener add", badenum, 2, true),
	    ERR_INVALID, "xdp", "bad arguments");
	expect_refused(&d, decode(&d, 2, "listener add", missing, 1, true),
	    ERR_INVALID, "address", "bad arguments");
	expect_refused(&d, decode(&d, 2, "set t1", str_for_uint, 1, true),
	    ERR_INVALID, "ms is not an unsigned integer", "bad arguments");
	/* T1 is 10 to 60000 ms */
	expect_refused(&d, decode(&d, 2, "set t1", range, 1, true),
	    ERR_INVALID, "", "bad arguments for 'set t1'");
	/* a reader's bad write is refused as a write, before its
	 * arguments are looked at */
	expect_refused(&d, decode(&d, 2, "listener add", unknown, 3, false),
	    ERR_DENIED, "needs root", "refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
