/*
 * proto: the control protocol's frames (sipd-control(7)).  A frame is a
 * 4-byte big-endian length, then exactly one msgpack map of that length:
 *
 *   request  {id, cmd, args}
 *   reply    {id, ok: true, data} or {id, ok: false, err: {code, msg}}
 *   event    {id, ev, data}           (streams; id 0 for the greeting)
 *
 * The length comes first so that an oversized frame is refused before
 * anything is allocated.  Decoding first walks the bytes to check that
 * they hold exactly one msgpack object whose every declared count fits in
 * the bytes given, so msgpack-c never allocates more than a small multiple
 * of the frame's size.
 */
#ifndef SIPD_PROTO_PROTO_H
#define SIPD_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "proto/cmd.h"
#include "proto/err.h"

#define PROTO_VERSION 1
#define PROTO_HDR 4
#define PROTO_MAX_FRAME_DEFAULT (1024 * 1024)
#define PROTO_MIN_FRAME 4096
/* Keys of a frame's top map, at most. */
#define PROTO_MAX_KEYS 16

/* The length in a frame header (4 bytes). */
uint32_t proto_hdr_get(const void *hdr);
void proto_hdr_put(void *hdr, uint32_t len);

/*
 * Check a frame header: 0 with the body's length in *len, or -SIPD_ETOOBIG
 * when it exceeds max, or -SIPD_EPROTO for an empty body.
 */
int proto_hdr_check(const void *hdr, uint32_t max, uint32_t *len);

/* ------------------------------------------------------------ writing */

/* A frame being written: header room, then the msgpack body. */
struct proto_out {
	char *data;
	size_t len, cap;
	bool failed; /* an allocation failed: the frame is lost */
	msgpack_packer pk;
};

/* Start a frame (header room reserved).  proto_out_fini() after use. */
void proto_out_init(struct proto_out *o);
void proto_out_fini(struct proto_out *o);
/* Drop what was written; start a new frame. */
void proto_out_reset(struct proto_out *o);
/*
 * Finish the frame: fill in its length.  Returns the whole frame (header
 * included) with its size in *len, or NULL when an allocation failed.
 */
const char *proto_out_frame(struct proto_out *o, size_t *len);

/* Frame starters.  Each opens the top map; the caller packs the value of
 * the last key (args or data) as one object. */
void proto_begin_request(struct proto_out *o, uint32_t id, const char *cmd);
void proto_begin_reply(struct proto_out *o, uint32_t id);
void proto_begin_event(struct proto_out *o, uint32_t id, const char *ev);
/* A whole error reply. */
void proto_error(struct proto_out *o, uint32_t id, enum err_code code,
    const char *msg);

/* Packing helpers. */
void proto_str(msgpack_packer *pk, const char *s);
void proto_strn(msgpack_packer *pk, const char *s, size_t len);
void proto_kv_str(msgpack_packer *pk, const char *key, const char *val);
void proto_kv_uint(msgpack_packer *pk, const char *key, uint64_t val);
void proto_kv_int(msgpack_packer *pk, const char *key, int64_t val);
void proto_kv_bool(msgpack_packer *pk, const char *key, bool val);

/* Pack the set arguments of a as the args map. */
void proto_pack_args(msgpack_packer *pk, const struct cmd_args *a);

/* ------------------------------------------------------------ reading */

enum proto_kind {
	PROTO_REQUEST, /* has cmd */
	PROTO_REPLY,   /* has ok */
	PROTO_EVENT,   /* has ev */
};

struct proto_msg {
	msgpack_unpacked up; /* owns every object below */
	enum proto_kind kind;
	uint32_t id;
	/* request */
	const char *cmd;
	size_t cmd_len;
	const msgpack_object *args; /* a map, or NULL */
	/* reply */
	bool ok;
	bool more;
	const char *code, *msg; /* error code and text */
	size_t code_len, msg_len;
	/* reply and event */
	const msgpack_object *data; /* or NULL */
	const char *ev;
	size_t ev_len;
};

/*
 * Check that buf[0..len) is exactly one msgpack object and that every
 * count in it fits in the bytes given.  Returns 0 or -SIPD_EPROTO.
 */
int proto_scan(const char *buf, size_t len);

/*
 * Decode a frame body into m: one map, with an unsigned 32-bit id and
 * exactly one of cmd, ok or ev, each key of its expected type.  Returns 0,
 * or -SIPD_EPROTO with a message in err[0..cap) (m->id is then the id
 * when one could be read, else 0).  Call proto_msg_fini() after any
 * return.
 */
int proto_decode(struct proto_msg *m, const char *buf, size_t len, char *err,
    size_t cap);
void proto_msg_fini(struct proto_msg *m);

/*
 * Fill a (already cmd_args_init()ed) from a request's args map: every key
 * a known argument, every value of its type.  Returns 0 or -EINVAL with a
 * message in err (cmd_args_check() is included).
 */
int proto_args(const msgpack_object *args, struct cmd_args *a, char *err,
    size_t cap);

/* A map's value for key (NULL when absent or not a map). */
const msgpack_object *proto_get(const msgpack_object *map, const char *key);

#endif
