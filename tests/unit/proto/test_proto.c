/*
 * Unit tests of proto/proto: frame headers and the size limit, writing
 * and reading back requests, replies, errors and events, and refusing bad
 * bodies: not msgpack, trailing bytes, not a map, no id, wrong types,
 * counts larger than the bytes (so msgpack-c never allocates for them),
 * arguments of the wrong type or unknown name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

static void
test_header(void **state)
{
	unsigned char h[4];
	uint32_t len;

	(void)state;
	proto_hdr_put(h, 0x01020304);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[3], 4);
	assert_int_equal(proto_hdr_get(h), 0x01020304);
	proto_hdr_put(h, PROTO_MAX_FRAME_DEFAULT);
	assert_int_equal(proto_hdr_check(h, PROTO_MAX_FRAME_DEFAULT, &len), 0);
	proto_hdr_put(h, PROTO_MAX_FRAME_DEFAULT + 1);
	assert_int_equal(proto_hdr_check(h, PROTO_MAX_FRAME_DEFAULT, &len),
	    -SIPD_ETOOBIG);
	memset(h, 0xff, sizeof(h));
	assert_int_equal(proto_hdr_check(h, PROTO_MAX_FRAME_DEFAULT, &len),
	    -SIPD_ETOOBIG);
	proto_hdr_put(h, 0);
	assert_int_equal(proto_hdr_check(h, PROTO_MAX_FRAME_DEFAULT, &len),
	    -SIPD_EPROTO);
}

/* Decode the frame o holds into m. */
static int
decode_out(struct proto_out *o, struct proto_msg *m)
{
	const char *f;
	size_t len;
	char err[128];

	f = proto_out_frame(o, &len);
	assert_non_null(f);
	assert_int_equal(proto_hdr_get(f), len - PROTO_HDR);
	return proto_decode(m, f + PROTO_HDR, len - PROTO_HDR, err,
	    sizeof(err));
}

static void
test_request_roundtrip(void **state)
{
	struct proto_out o;
	struct proto_msg m;
	struct cmd_args a, b;
	char err[256];

	(void)state;
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_LISTENER_ADD]), 0);
	assert_int_equal(cmd_args_set(&a, 0, "udp", 3, err, sizeof(err)), 0);
	assert_int_equal(cmd_args_set(&a, 1, "1.2.3.4:5", 9, err,
			     sizeof(err)),
	    0);
	assert_int_equal(cmd_args_set_bool(&a, 5, true, err, sizeof(err)), 0);
	proto_out_init(&o);
	proto_begin_request(&o, 42, a.cmd->name);
	proto_pack_args(&o.pk, &a);
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(m.kind, PROTO_REQUEST);
	assert_int_equal(m.id, 42);
	assert_int_equal(m.cmd_len, strlen("listener add"));
	assert_memory_equal(m.cmd, "listener add", m.cmd_len);
	assert_int_equal(cmd_args_init(&b, &cmd_table[CMD_LISTENER_ADD]), 0);
	assert_int_equal(proto_args(m.args, &b, err, sizeof(err)), 0);
	assert_string_equal(cmd_arg_str(&b, "address"), "1.2.3.4:5");
	assert_true(cmd_arg_bool(&b, "verify", false));
	proto_msg_fini(&m);
	proto_out_fini(&o);
}

static void
test_reply_error_event(void **state)
{
	struct proto_out o;
	struct proto_msg m;

	(void)state;
	proto_out_init(&o);
	proto_begin_reply(&o, 3);
	msgpack_pack_map(&o.pk, 1);
	proto_kv_uint(&o.pk, "n", 9);
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(m.kind, PROTO_REPLY);
	assert_true(m.ok);
	assert_non_null(proto_get(m.data, "n"));
	assert_int_equal(proto_get(m.data, "n")->via.u64, 9);
	proto_msg_fini(&m);

	proto_out_reset(&o);
	proto_error(&o, 4, ERR_NOT_FOUND, "no listener");
	assert_int_equal(decode_out(&o, &m), 0);
	assert_false(m.ok);
	assert_int_equal(m.code_len, 9);
	assert_memory_equal(m.code, "not-found", 9);
	assert_memory_equal(m.msg, "no listener", m.msg_len);
	proto_msg_fini(&m);

	proto_out_reset(&o);
	proto_begin_event(&o, 0, "hello");
	msgpack_pack_nil(&o.pk);
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(m.kind, PROTO_EVENT);
	assert_memory_equal(m.ev, "hello", 5);
	proto_msg_fini(&m);
	proto_out_fini(&o);
}

static void
expect_bad(const void *body, size_t len, const char *want)
{
	struct proto_msg m;
	char err[128] = "";

	assert_int_equal(proto_decode(&m, body, len, err, sizeof(err)),
	    -SIPD_EPROTO);
	if (strstr(err, want) == NULL) {
		fail_msg("got '%s', want '%s'", err, want);
	}
	proto_msg_fini(&m);
}

static void
test_bad_bodies(void **state)
{
	(void)state;
	expect_bad("\xc1", 1, "not one msgpack object");
	expect_bad("", 0, "not one msgpack object");
	/* {"id": 1} and a trailing byte */
	expect_bad("\x81\xa2id\x01\x00", 6, "not one msgpack object");
	expect_bad("\x93\x01\x02\x03", 4, "not a map");
	expect_bad("\x81\xa3" "cmd\xa1x", 7, "no id");
	expect_bad("\x81\xa2id\xa1x", 6, "id is not");
	expect_bad("\x82\xa2id\x01\xa3" "cmd\x05", 10, "cmd is not a string");
	expect_bad("\x81\xa2id\x01", 5, "neither cmd, ok nor ev");
	expect_bad("\x81\x01\x01", 3, "a key is not a string");
	expect_bad("\x82\xa2id\x01\xa2id\x02", 9, "duplicate key");
	/* an array32 and a map32 claiming 4 G entries in a few bytes */
	expect_bad("\xdd\xff\xff\xff\xff\x00", 6, "not one msgpack object");
	expect_bad("\xdf\xff\xff\xff\xff\x00\x00", 7, "not one msgpack object");
	/* a str32 longer than the body */
	expect_bad("\xdb\x7f\xff\xff\xff" "ab", 7, "not one msgpack object");
}

static void
test_scan(void **state)
{
	(void)state;
	assert_int_equal(proto_scan("\x00", 1), 0);
	assert_int_equal(proto_scan("\xcb" "12345678", 9), 0);
	assert_int_equal(proto_scan("\xcb" "1234567", 8), -SIPD_EPROTO);
	assert_int_equal(proto_scan("\x92\xc0\xc3", 3), 0);
	assert_int_equal(proto_scan("\x92\xc0", 2), -SIPD_EPROTO);
	assert_int_equal(proto_scan("\xc4\x02" "ab", 4), 0);
	assert_int_equal(proto_scan("\xd4\x01\x02", 3), 0);
	assert_int_equal(proto_scan("\x80\x80", 2), -SIPD_EPROTO);
}

static void
test_bad_args(void **state)
{
	struct proto_out o;
	struct proto_msg m;
	struct cmd_args a;
	char err[256];

	(void)state;
	proto_out_init(&o);
	proto_begin_request(&o, 1, "set t1");
	msgpack_pack_map(&o.pk, 1);
	proto_kv_str(&o.pk, "ms", "600");
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_SET_T1]), 0);
	assert_int_equal(proto_args(m.args, &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ms is not an unsigned integer");
	proto_msg_fini(&m);

	proto_out_reset(&o);
	proto_begin_request(&o, 1, "set t1");
	msgpack_pack_map(&o.pk, 1);
	proto_kv_uint(&o.pk, "bogus", 1);
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_SET_T1]), 0);
	assert_int_equal(proto_args(m.args, &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown argument 'bogus' for set t1");
	proto_msg_fini(&m);

	proto_out_reset(&o);
	proto_begin_request(&o, 1, "set t1");
	msgpack_pack_nil(&o.pk);
	assert_int_equal(decode_out(&o, &m), 0);
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_SET_T1]), 0);
	assert_int_equal(proto_args(m.args, &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing ms (usage: set t1 <ms>)");
	proto_msg_fini(&m);
	proto_out_fini(&o);
}

static void
test_err_codes(void **state)
{
	(void)state;
	for (int i = 0; i < ERR__COUNT; i++) {
		const char *name = err_code_name((enum err_code)i);

		assert_int_equal(err_code_lookup(name, strlen(name)), i);
		assert_int_equal(err_code_of(err_code_rc((enum err_code)i)), i);
	}
	assert_int_equal(err_code_of(-EINVAL), ERR_INVALID);
	assert_int_equal(err_code_of(-ENOENT), ERR_NOT_FOUND);
	assert_int_equal(err_code_of(-ENOMEM), ERR_INTERNAL);
	assert_string_equal(err_code_name(ERR__COUNT), "internal");
	assert_string_equal(sipd_strerror(-SIPD_ETOOBIG), "too big");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_reply_error_event),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_err_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
