/*
 * The control commands of the External Gateways that are not
 * configuration changes: "gateway list" (the fields tables.def declares;
 * the password only for users allowed to write), "show gateways" (each
 * one's registration state, read on the first worker, which registers),
 * "gateway register" and "gateway unregister" (run there too).  Owns
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/cmd.h"
#include "proto/table.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/worker.h"

int
ctl_h_gateway_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_GATEWAY], c->gw, c->ngw,
	    sizeof(c->gw[0]));
}

/* One gateway's state, copied on the first worker. */
struct gw_row {
	char name[CONF_GW_NAME_MAX];
	char state[24];
	int64_t until;
	int last_status;
	char last_reason[96];
	int64_t nonce_age;
	uint64_t calls, calls_failed;
	char target[64];
	uint32_t expires;
};

struct gw_rows {
	struct gw_row row[CONF_MAX_GW];
	int n;
};

static void
gw_row(void *arg, const struct core_gw_info *gi)
{
	struct gw_rows *t = arg;
	struct gw_row *x;

	if (t->n == CONF_MAX_GW) {
		return;
	}
	x = &t->row[t->n++];
	snprintf(x->name, sizeof(x->name), "%s", gi->name);
	snprintf(x->state, sizeof(x->state), "%s", gi->state);
	x->until = gi->until;
	x->last_status = gi->last_status;
	snprintf(x->last_reason, sizeof(x->last_reason), "%s",
	    gi->last_reason);
	x->nonce_age = gi->nonce_age;
	x->calls = gi->calls;
	x->calls_failed = gi->calls_failed;
	snprintf(x->target, sizeof(x->target), "%s", gi->target);
	x->expires = gi->expires;
}

static void
gw_collect(struct worker *w, void *arg)
{
	core_gw_foreach(w->core, gw_row, arg);
}

static const char *
utc(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0) {
		return "";
	}
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int
ctl_h_show_gateways(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct gw_rows *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	workers_call(r->ctl->ws, 0, gw_collect, t);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)t->n);
	for (int i = 0; i < t->n; i++) {
		const struct gw_row *x = &t->row[i];
		char when[32];

		msgpack_pack_map(pk, 10);
		proto_kv_str(pk, "name", x->name);
		proto_kv_str(pk, "state", x->state);
		proto_kv_str(pk, "until", utc(x->until, when, sizeof(when)));
		proto_kv_uint(pk, "last-status", (uint64_t)x->last_status);
		proto_kv_str(pk, "last-reason", x->last_reason);
		proto_kv_int(pk, "nonce-age", x->nonce_age);
		proto_kv_uint(pk, "calls", x->calls);
		proto_kv_uint(pk, "calls-failed", x->calls_failed);
		proto_kv_str(pk, "target", x->target);
		proto_kv_uint(pk, "interval", x->expires);
	}
	free(t);
	return 0;
}

struct gw_cmd {
	const char *name;
	bool on;
	int rc;
};

static void
gw_register_one(struct worker *w, void *arg)
{
	struct gw_cmd *g = arg;

	g->rc = core_gw_register(w->core, g->name, g->on);
}

int
ctl_h_gateway_register(struct ctl_req *r)
{
	struct gw_cmd g = { cmd_arg_str(r->args, "name"),
		r->args->cmd->id == CMD_GATEWAY_REGISTER, 0 };

	if (g.name == NULL || conf_gw_find(r->ctl->conf, g.name) == NULL) {
		return ctl_fail(r, -ENOENT, "no gateway '%.64s'",
		    g.name ? g.name : "");
	}
	workers_call(r->ctl->ws, 0, gw_register_one, &g);
	if (g.rc == -EINVAL) {
		return ctl_fail(r, -EINVAL, "gateway %s has no username to "
		    "register", g.name);
	}
	if (g.rc < 0) {
		return ctl_fail(r, g.rc, "gateway %s: %s", g.name,
		    strerror(-g.rc));
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_str(&r->out->pk, "gateway", g.name);
	return 0;
}

int
ctl_h_gateway_unregister(struct ctl_req *r)
{
	return ctl_h_gateway_register(r);
}
