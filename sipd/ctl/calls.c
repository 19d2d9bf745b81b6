/*
 * The control commands of the call table (sipd/cdr): "show calls" (the
 * calls in progress), "show dialogs" (those answered: the dialogs sipd
 * Record-Routed) and "cdr rotate".  Owns nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/cdr/cdr.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/worker.h"

/* Calls one reply lists at most, the oldest first: a frame stays well
 * under the control protocol's limit (CTL_FRAME_MAX). */
#define CTL_CALLS_MAX 1000

static int
list(struct ctl_req *r, bool dialogs)
{
	msgpack_packer *pk = &r->out->pk;
	struct cdr *d = workers_cdr(r->ctl->ws);
	struct cdr_info *v = NULL;
	uint64_t now = cdr_now_ms();
	int n;

	if (d == NULL) {
		snprintf(r->err, sizeof(r->err), "no call table");
		return -ENOENT;
	}
	n = cdr_list(d, dialogs, CTL_CALLS_MAX, &v);
	if (n < 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return n;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		const struct cdr_info *c = &v[i];
		uint64_t age = now > c->invite_ms ? now - c->invite_ms : 0;
		uint64_t up = c->answered && now > c->answer_ms
		    ? now - c->answer_ms
		    : 0;
		uint64_t idle = now > c->last_ms ? now - c->last_ms : 0;
		if (dialogs) {
			msgpack_pack_map(pk, 7);
			proto_kv_str(pk, "call-id", c->call_id);
			proto_kv_str(pk, "from-tag", c->from_tag);
			proto_kv_str(pk, "to-tag", c->to_tag);
			proto_kv_str(pk, "from", c->from);
			proto_kv_str(pk, "to", c->to);
			proto_kv_uint(pk, "duration", up / 1000);
			proto_kv_uint(pk, "idle", idle / 1000);
			continue;
		}
		msgpack_pack_map(pk, 9);
		proto_kv_str(pk, "call-id", c->call_id);
		proto_kv_str(pk, "state", c->answered ? "answered" : "ringing");
		proto_kv_str(pk, "from", c->from);
		proto_kv_str(pk, "to", c->to);
		proto_kv_str(pk, "request-uri", c->ruri);
		proto_kv_str(pk, "source", c->source);
		proto_kv_str(pk, "user", c->user);
		proto_kv_uint(pk, "age", age / 1000);
		proto_kv_uint(pk, "duration", up / 1000);
	}
	free(v);
	return 0;
}

int
ctl_h_show_calls(struct ctl_req *r)
{
	return list(r, false);
}

int
ctl_h_show_dialogs(struct ctl_req *r)
{
	return list(r, true);
}

int
ctl_h_cdr_rotate(struct ctl_req *r)
{
	struct cdr *d = workers_cdr(r->ctl->ws);
	int rc;

	if (d == NULL) {
		snprintf(r->err, sizeof(r->err), "no call table");
		return -ENOENT;
	}
	rc = cdr_rotate(d, r->err, sizeof(r->err));
	if (rc < 0) {
		return rc;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
	return 0;
}
