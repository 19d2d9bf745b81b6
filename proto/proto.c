/*
 * The control protocol's codec: frame headers, writing requests, replies
 * and events with msgpack-c into a growing buffer, and reading one frame
 * body back, checked before msgpack-c sees it (proto_scan()) so that no
 * declared length makes it allocate beyond the frame's size.  It owns the
 * buffers of struct proto_out and the unpacked objects of struct
 * proto_msg, nothing else.
 */
#include "proto/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t
proto_hdr_get(const void *hdr)
{
	const unsigned char *p = hdr;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
proto_hdr_put(void *hdr, uint32_t len)
{
	unsigned char *p = hdr;

	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
}

int
proto_hdr_check(const void *hdr, uint32_t max, uint32_t *len)
{
	*len = proto_hdr_get(hdr);
	if (*len > max) {
		return -SIPD_ETOOBIG;
	}
	if (*len == 0) {
		return -SIPD_EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------ writing */

static int
proto_out_write(void *data, const char *buf, size_t len)
{
	struct proto_out *o = data;

	if (o->failed) {
		return -1;
	}
	if (len > o->cap - o->len) {
		size_t cap = o->cap > 0 ? o->cap : 256;
		char *p;

		while (cap - o->len < len) {
			if (cap > SIZE_MAX / 2) {
				o->failed = true;
				return -1;
			}
			cap *= 2;
		}
		p = realloc(o->data, cap);
		if (p == NULL) {
			o->failed = true;
			return -1;
		}
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, buf, len);
	o->len += len;
	return 0;
}

void
proto_out_init(struct proto_out *o)
{
	static const char zero[PROTO_HDR];

	memset(o, 0, sizeof(*o));
	msgpack_packer_init(&o->pk, o, proto_out_write);
	(void)proto_out_write(o, zero, sizeof(zero));
}

void
proto_out_fini(struct proto_out *o)
{
	free(o->data);
	o->data = NULL;
	o->len = o->cap = 0;
}

void
proto_out_reset(struct proto_out *o)
{
	static const char zero[PROTO_HDR];

	o->failed = false;
	o->len = 0;
	(void)proto_out_write(o, zero, sizeof(zero));
}

const char *
proto_out_frame(struct proto_out *o, size_t *len)
{
	if (o->failed || o->len < PROTO_HDR ||
	    o->len - PROTO_HDR > UINT32_MAX) {
		return NULL;
	}
	proto_hdr_put(o->data, (uint32_t)(o->len - PROTO_HDR));
	*len = o->len;
	return o->data;
}

void
proto_strn(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
proto_str(msgpack_packer *pk, const char *s)
{
	proto_strn(pk, s, strlen(s));
}

void
proto_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	proto_str(pk, key);
	proto_str(pk, val);
}

void
proto_kv_uint(msgpack_packer *pk, const char *key, uint64_t val)
{
	proto_str(pk, key);
	msgpack_pack_uint64(pk, val);
}

void
proto_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
	proto_str(pk, key);
	msgpack_pack_int64(pk, val);
}

void
proto_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
	proto_str(pk, key);
	if (val) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
}

void
proto_begin_request(struct proto_out *o, uint32_t id, const char *cmd)
{
	msgpack_pack_map(&o->pk, 3);
	proto_kv_uint(&o->pk, "id", id);
	proto_kv_str(&o->pk, "cmd", cmd);
	proto_str(&o->pk, "args");
}

void
proto_begin_reply(struct proto_out *o, uint32_t id)
{
	msgpack_pack_map(&o->pk, 3);
	proto_kv_uint(&o->pk, "id", id);
	proto_kv_bool(&o->pk, "ok", true);
	proto_str(&o->pk, "data");
}

void
proto_begin_event(struct proto_out *o, uint32_t id, const char *ev)
{
	msgpack_pack_map(&o->pk, 3);
	proto_kv_uint(&o->pk, "id", id);
	proto_kv_str(&o->pk, "ev", ev);
	proto_str(&o->pk, "data");
}

void
proto_error(struct proto_out *o, uint32_t id, enum err_code code,
    const char *msg)
{
	msgpack_pack_map(&o->pk, 3);
	proto_kv_uint(&o->pk, "id", id);
	proto_kv_bool(&o->pk, "ok", false);
	proto_str(&o->pk, "err");
	msgpack_pack_map(&o->pk, 2);
	proto_kv_str(&o->pk, "code", err_code_name(code));
	proto_kv_str(&o->pk, "msg", msg);
}

void
proto_pack_args(msgpack_packer *pk, const struct cmd_args *a)
{
	uint32_t n = 0;

	for (int i = 0; i < a->n; i++) {
		n += a->val[i].set ? 1 : 0;
	}
	msgpack_pack_map(pk, n);
	for (int i = 0; i < a->n; i++) {
		const struct cmd_val *v = &a->val[i];

		if (!v->set) {
			continue;
		}
		switch (a->spec[i].type) {
		case CMD_T_UINT:
			proto_kv_uint(pk, a->spec[i].name, v->u);
			break;
		case CMD_T_BOOL:
			proto_kv_bool(pk, a->spec[i].name, v->b);
			break;
		default:
			proto_kv_str(pk, a->spec[i].name, v->s);
			break;
		}
	}
}

/* ------------------------------------------------------------ reading */

/* Read a big-endian unsigned of n bytes at p. */
static uint64_t
proto_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

int
proto_scan(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t pos = 0;
	uint64_t pending = 1; /* objects still to read */

	while (pending > 0) {
		uint64_t skip = 0, items = 0;
		unsigned char b;
		int lb = 0; /* bytes of a length field */

		if (pos >= len) {
			return -SIPD_EPROTO;
		}
		b = p[pos++];
		pending--;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			/* fixint, nil, bool */
		} else if (b >= 0x80 && b <= 0x8f) {
			items = (uint64_t)(b & 0x0f) * 2;
		} else if (b >= 0x90 && b <= 0x9f) {
			items = b & 0x0f;
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9:
				lb = 1;
				break;
			case 0xc5: case 0xda:
				lb = 2;
				break;
			case 0xc6: case 0xdb:
				lb = 4;
				break;
			case 0xc7:
				lb = 1;
				skip = 1;
				break;
			case 0xc8:
				lb = 2;
				skip = 1;
				break;
			case 0xc9:
				lb = 4;
				skip = 1;
				break;
			case 0xca: case 0xce: case 0xd2:
				skip = 4;
				break;
			case 0xcb: case 0xcf: case 0xd3:
				skip = 8;
				break;
			case 0xcc: case 0xd0:
				skip = 1;
				break;
			case 0xcd: case 0xd1:
				skip = 2;
				break;
			case 0xd4:
				skip = 2;
				break;
			case 0xd5:
				skip = 3;
				break;
			case 0xd6:
				skip = 5;
				break;
			case 0xd7:
				skip = 9;
				break;
			case 0xd8:
				skip = 17;
				break;
			case 0xdc:
				if (len - pos < 2) {
					return -SIPD_EPROTO;
				}
				items = proto_be(p + pos, 2);
				pos += 2;
				break;
			case 0xdd:
				if (len - pos < 4) {
					return -SIPD_EPROTO;
				}
				items = proto_be(p + pos, 4);
				pos += 4;
				break;
			case 0xde:
				if (len - pos < 2) {
					return -SIPD_EPROTO;
				}
				items = proto_be(p + pos, 2) * 2;
				pos += 2;
				break;
			case 0xdf:
				if (len - pos < 4) {
					return -SIPD_EPROTO;
				}
				items = proto_be(p + pos, 4) * 2;
				pos += 4;
				break;
			default: /* 0xc1: never used */
				return -SIPD_EPROTO;
			}
		}
		if (lb > 0) {
			if (len - pos < (size_t)lb) {
				return -SIPD_EPROTO;
			}
			skip += proto_be(p + pos, lb);
			pos += (size_t)lb;
		}
		if (skip > len - pos) {
			return -SIPD_EPROTO;
		}
		pos += (size_t)skip;
		/* Every object takes at least one byte. */
		pending += items;
		if (pending > len - pos) {
			return -SIPD_EPROTO;
		}
	}
	return pos == len ? 0 : -SIPD_EPROTO;
}

static bool
proto_key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	    memcmp(k->via.str.ptr, name, n) == 0;
}

const msgpack_object *
proto_get(const msgpack_object *map, const char *key)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		if (proto_key_is(&map->via.map.ptr[i].key, key)) {
			return &map->via.map.ptr[i].val;
		}
	}
	return NULL;
}

int
proto_decode(struct proto_msg *m, const char *buf, size_t len, char *err,
    size_t cap)
{
	const msgpack_object *root, *id, *v;
	size_t off = 0;
	int kinds = 0;

	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->up);
	if (proto_scan(buf, len) < 0) {
		return err_fmt(err, cap, -SIPD_EPROTO,
		    "not one msgpack object");
	}
	if (msgpack_unpack_next(&m->up, buf, len, &off) !=
		MSGPACK_UNPACK_SUCCESS ||
	    off != len) {
		return err_fmt(err, cap, -SIPD_EPROTO,
		    "not one msgpack object");
	}
	root = &m->up.data;
	if (root->type != MSGPACK_OBJECT_MAP) {
		return err_fmt(err, cap, -SIPD_EPROTO, "not a map");
	}
	if (root->via.map.size > PROTO_MAX_KEYS) {
		return err_fmt(err, cap, -SIPD_EPROTO, "too many keys");
	}
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object *k = &root->via.map.ptr[i].key;

		if (k->type != MSGPACK_OBJECT_STR) {
			return err_fmt(err, cap, -SIPD_EPROTO,
			    "a key is not a string");
		}
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *k2 = &root->via.map.ptr[j].key;

			if (k2->via.str.size == k->via.str.size &&
			    memcmp(k2->via.str.ptr, k->via.str.ptr,
				k->via.str.size) == 0) {
				return err_fmt(err, cap, -SIPD_EPROTO,
				    "duplicate key");
			}
		}
	}
	id = proto_get(root, "id");
	if (id == NULL) {
		return err_fmt(err, cap, -SIPD_EPROTO, "no id");
	}
	if (id->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    id->via.u64 > UINT32_MAX) {
		return err_fmt(err, cap, -SIPD_EPROTO,
		    "id is not an unsigned 32-bit "
		    "integer");
	}
	m->id = (uint32_t)id->via.u64;
	if ((v = proto_get(root, "cmd")) != NULL) {
		if (v->type != MSGPACK_OBJECT_STR) {
			return err_fmt(err, cap, -SIPD_EPROTO,
			    "cmd is not a string");
		}
		m->kind = PROTO_REQUEST;
		m->cmd = v->via.str.ptr;
		m->cmd_len = v->via.str.size;
		kinds++;
		v = proto_get(root, "args");
		if (v != NULL && v->type != MSGPACK_OBJECT_MAP &&
		    v->type != MSGPACK_OBJECT_NIL) {
			return err_fmt(err, cap, -SIPD_EPROTO,
			    "args is not a map");
		}
		m->args = v != NULL && v->type == MSGPACK_OBJECT_MAP ? v : NULL;
	}
	if ((v = proto_get(root, "ok")) != NULL) {
		if (v->type != MSGPACK_OBJECT_BOOLEAN) {
			return err_fmt(err, cap, -SIPD_EPROTO,
			    "ok is not a boolean");
		}
		m->kind = PROTO_REPLY;
		m->ok = v->via.boolean;
		kinds++;
		if (!m->ok) {
			const msgpack_object *e = proto_get(root, "err");
			const msgpack_object *code = proto_get(e, "code");
			const msgpack_object *msg = proto_get(e, "msg");

			if (code == NULL || code->type != MSGPACK_OBJECT_STR ||
			    msg == NULL || msg->type != MSGPACK_OBJECT_STR) {
				return err_fmt(err, cap, -SIPD_EPROTO,
				    "err lacks a code or a msg string");
			}
			m->code = code->via.str.ptr;
			m->code_len = code->via.str.size;
			m->msg = msg->via.str.ptr;
			m->msg_len = msg->via.str.size;
		}
		v = proto_get(root, "more");
		if (v != NULL) {
			if (v->type != MSGPACK_OBJECT_BOOLEAN) {
				return err_fmt(err, cap, -SIPD_EPROTO,
				    "more is not a boolean");
			}
			m->more = v->via.boolean;
		}
	}
	if ((v = proto_get(root, "ev")) != NULL) {
		if (v->type != MSGPACK_OBJECT_STR) {
			return err_fmt(err, cap, -SIPD_EPROTO,
			    "ev is not a string");
		}
		m->kind = PROTO_EVENT;
		m->ev = v->via.str.ptr;
		m->ev_len = v->via.str.size;
		kinds++;
	}
	if (kinds != 1) {
		return err_fmt(err, cap, -SIPD_EPROTO,
		    kinds == 0 ? "neither cmd, ok nor ev"
			       : "more than one of cmd, ok and ev");
	}
	m->data = proto_get(root, "data");
	return 0;
}

void
proto_msg_fini(struct proto_msg *m)
{
	if (m == NULL) {
		return;
	}
	msgpack_unpacked_destroy(&m->up);
	msgpack_unpacked_init(&m->up);
}

int
proto_args(const msgpack_object *args, struct cmd_args *a, char *err,
    size_t cap)
{
	char clip[64];

	if (args != NULL) {
		if (args->type != MSGPACK_OBJECT_MAP) {
			snprintf(err, cap, "args is not a map");
			return -EINVAL;
		}
		for (uint32_t i = 0; i < args->via.map.size; i++) {
			const msgpack_object *k = &args->via.map.ptr[i].key;
			const msgpack_object *v = &args->via.map.ptr[i].val;
			int idx, rc;

			if (k->type != MSGPACK_OBJECT_STR) {
				snprintf(err, cap, "an argument name is not a "
				    "string");
				return -EINVAL;
			}
			idx = cmd_args_index(a, k->via.str.ptr,
			    k->via.str.size);
			if (idx < 0) {
				size_t n = k->via.str.size;

				if (n > 40) {
					n = 40;
				}
				for (size_t j = 0; j < n; j++) {
					char c = k->via.str.ptr[j];

					clip[j] = c >= 0x20 && c < 0x7f ? c
									: '?';
				}
				clip[n] = '\0';
				snprintf(err, cap, "unknown argument '%s' for %s",
				    clip, a->cmd->name);
				return -EINVAL;
			}
			switch (a->spec[idx].type) {
			case CMD_T_UINT:
				if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
					snprintf(err, cap, "%s is not an "
					    "unsigned integer",
					    a->spec[idx].name);
					return -EINVAL;
				}
				rc = cmd_args_set_uint(a, idx, v->via.u64, err,
				    cap);
				break;
			case CMD_T_BOOL:
				if (v->type != MSGPACK_OBJECT_BOOLEAN) {
					snprintf(err, cap, "%s is not a boolean",
					    a->spec[idx].name);
					return -EINVAL;
				}
				rc = cmd_args_set_bool(a, idx, v->via.boolean,
				    err, cap);
				break;
			default:
				if (v->type != MSGPACK_OBJECT_STR) {
					snprintf(err, cap, "%s is not a string",
					    a->spec[idx].name);
					return -EINVAL;
				}
				rc = cmd_args_set(a, idx, v->via.str.ptr,
				    v->via.str.size, err, cap);
				break;
			}
			if (rc < 0) {
				return rc == -SIPD_ETOOBIG ? rc : -EINVAL;
			}
		}
	}
	return cmd_args_check(a, err, cap);
}
