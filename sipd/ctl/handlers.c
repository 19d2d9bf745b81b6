/*
 * The control commands' handlers, one per command of proto/commands.def
 * (the table at the end is generated from it).  Configuration commands
 * share one handler: the change is made on a copy of the running
 * configuration, applied to the workers, and only then made current and
 * saved to the file.  Reading handlers pack what they read; worker state
 * (transactions, counters) is read on each worker's own thread through
 * workers_call(), so nothing here takes a lock around SIP state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/cmd.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"
#include "sipd/worker.h"

static int
ctl_fail(struct ctl_req *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ctl_fail(struct ctl_req *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* Commands of sipctl alone never reach a handler (server.c refuses). */
static int
ctl_h_local(struct ctl_req *r)
{
	return ctl_fail(r, -EINVAL, "'%s' is a sipctl command",
	    r->args->cmd->name);
}

/* Every configuration command: change a copy, apply it, save it. */
static int
ctl_h_conf(struct ctl_req *r)
{
	struct ctl *ctl = r->ctl;
	struct conf *next;
	char err[512];
	int rc;

	next = malloc(sizeof(*next));
	if (next == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	*next = *ctl->conf;
	rc = conf_apply(next, r->args, r->err, sizeof(r->err));
	if (rc < 0) {
		goto out;
	}
	rc = ctl_conf_apply(ctl, next, r->err, sizeof(r->err));
	if (rc < 0) {
		goto out;
	}
	rc = conf_save(ctl->conf, ctl->conf_path, err, sizeof(err));
	if (rc < 0) {
		log_err(LOG_TRANSPORT, "control, %s", err);
		rc = ctl_fail(r, -EIO, "applied, but not saved: %s", err);
		goto out;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
out:
	free(next);
	return rc;
}

static int
ctl_h_status(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct ctl *ctl = r->ctl;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 10);
	proto_kv_str(pk, "version", SIPD_VERSION);
	proto_kv_uint(pk, "proto", PROTO_VERSION);
	proto_kv_uint(pk, "pid", (uint64_t)getpid());
	proto_kv_uint(pk, "uptime", (uint64_t)(time(NULL) - ctl->started));
	proto_kv_uint(pk, "workers", workers_count(ctl->ws));
	proto_kv_uint(pk, "listeners", (uint64_t)ctl->conf->nlisteners);
	proto_kv_str(pk, "config", ctl->conf_path);
	proto_kv_str(pk, "socket", ctl->sock_path);
	proto_kv_uint(pk, "connections", ctl->nconns);
	proto_kv_uint(pk, "followers", ctl->nfollowers);
	return 0;
}

static int
ctl_h_version(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 2);
	proto_kv_str(pk, "version", SIPD_VERSION);
	proto_kv_uint(pk, "proto", PROTO_VERSION);
	return 0;
}

static int
ctl_h_shutdown(struct ctl_req *r)
{
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
	ctl_shutdown_after(r->conn);
	return 0;
}

static int
ctl_h_cancel(struct ctl_req *r)
{
	uint32_t id = (uint32_t)cmd_arg_uint(r->args, "request", 0);
	struct proto_out o;

	if (r->conn->follow_id == 0 || r->conn->follow_id != id) {
		return ctl_fail(r, -ENOENT, "no stream with id %u", id);
	}
	/* The stream's last event, then the reply to the cancel. */
	proto_out_init(&o);
	proto_begin_event(&o, id, "end");
	msgpack_pack_nil(&o.pk);
	(void)ctl_conn_send(r->conn, &o);
	proto_out_fini(&o);
	ctl_follow_end(r->conn);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
	return 0;
}

static int
ctl_h_log_follow(struct ctl_req *r)
{
	if (r->conn->follow_id != 0) {
		return ctl_fail(r, -EBUSY, "this connection follows the log "
		    "already (request %u)", r->conn->follow_id);
	}
	ctl_follow_start(r->conn, r->id);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_bool(&r->out->pk, "stream", true);
	return 0;
}

static int
ctl_h_listener_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)c->nlisteners);
	for (int i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *l = &c->listeners[i];
		char addr[TP_ADDRSTRLEN];
		bool tls = l->proto == TP_TLS;

		msgpack_pack_map(pk, tls ? 6 : 2);
		proto_kv_str(pk, "transport", tp_proto_name(l->proto));
		proto_kv_str(pk, "address",
		    tp_addr_str((const struct sockaddr *)&l->addr, addr,
			sizeof(addr)));
		if (tls) {
			proto_kv_str(pk, "cert", l->cert);
			proto_kv_str(pk, "key", l->key);
			proto_kv_str(pk, "ca", l->ca);
			proto_kv_bool(pk, "verify", l->verify);
		}
	}
	return 0;
}

static int
ctl_h_lan_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)c->nlan);
	for (int i = 0; i < c->nlan; i++) {
		char buf[INET6_ADDRSTRLEN + 8];

		msgpack_pack_map(pk, 1);
		proto_kv_str(pk, "range",
		    conf_range_str(&c->lan[i], buf, sizeof(buf)));
	}
	return 0;
}

static int
ctl_h_route_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)c->nroutes);
	for (int i = 0; i < c->nroutes; i++) {
		const struct conf_route *rt = &c->routes[i];
		char buf[CONF_HOST_MAX + 16];

		msgpack_pack_map(pk, 3);
		proto_kv_str(pk, "domain", rt->domain);
		proto_kv_str(pk, "target",
		    conf_route_target(rt, buf, sizeof(buf)));
		proto_kv_str(pk, "transport",
		    rt->proto_set ? tp_proto_name(rt->proto) : "auto");
	}
	return 0;
}

static int
ctl_h_show_settings(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;
	static const char *const outs[] = { "auto", "stderr", "syslog",
		"file" };

	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 21 + LOG__COMP_COUNT);
	proto_kv_uint(pk, "udp-tos", (uint64_t)c->udp_tos);
	proto_kv_uint(pk, "input-channels", c->input_channels);
	proto_kv_uint(pk, "idle-timeout", c->idle_timeout_s);
	proto_kv_uint(pk, "size-limit-lan", c->size_limit_lan);
	proto_kv_uint(pk, "size-limit-wan", c->size_limit_wan);
	proto_kv_uint(pk, "t1", c->txn.t1_ms);
	proto_kv_uint(pk, "t2", c->txn.t2_ms);
	proto_kv_uint(pk, "t4", c->txn.t4_ms);
	proto_kv_uint(pk, "timer-b", c->txn.timer_b_ms);
	proto_kv_uint(pk, "timer-c", c->txn.timer_c_ms);
	proto_kv_uint(pk, "max-server", c->txn.max_server);
	proto_kv_uint(pk, "max-client", c->txn.max_client);
	proto_kv_uint(pk, "processors", c->processors);
	proto_kv_bool(pk, "force-rr", c->force_rr);
	proto_kv_uint(pk, "message-size", c->limits.max_size);
	proto_kv_uint(pk, "headers", c->limits.max_headers);
	proto_kv_uint(pk, "line", c->limits.max_line);
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		char key[32];

		snprintf(key, sizeof(key), "log-%s",
		    log_comp_name((enum log_comp)i));
		proto_kv_str(pk, key, log_level_name(c->levels[i]));
	}
	proto_kv_str(pk, "log-output",
	    c->log_out == CONF_LOG_FILE ? c->log_file : outs[c->log_out]);
	proto_kv_str(pk, "control-socket", r->ctl->sock_path);
	proto_kv_uint(pk, "control-max-frame", c->ctl_max_frame);
	proto_str(pk, "control-allow");
	msgpack_pack_array(pk, (size_t)c->nctl_allow);
	for (int i = 0; i < c->nctl_allow; i++) {
		msgpack_pack_uint64(pk, (uint64_t)c->ctl_allow[i]);
	}
	return 0;
}

static int
ctl_h_show_config(struct ctl_req *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (f == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	rc = conf_dump(r->ctl->conf, f);
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return ctl_fail(r, -EIO, "cannot write the configuration");
	}
	proto_begin_reply(r->out, r->id);
	proto_strn(&r->out->pk, text, len);
	free(text);
	return 0;
}

/* ------------------------------------------------------- worker state */

struct stats_sum {
	struct core_stats core;
	struct txn_stats txn;
	struct tp_stats tp;
};

static void
stats_one(struct worker *w, void *arg)
{
	struct stats_sum *s = arg;
	const struct core_stats *cs = core_stats(w->core);
	struct txn_stats ts;
	struct tp_stats ps;

	for (size_t i = 0; i <= MSG_PUBLISH; i++) {
		s->core.req_in[i] += cs->req_in[i];
		s->core.req_out[i] += cs->req_out[i];
	}
	for (size_t i = 0; i < 7; i++) {
		s->core.resp_in[i] += cs->resp_in[i];
		s->core.resp_out[i] += cs->resp_out[i];
	}
	s->core.parse_errors += cs->parse_errors;
	s->core.handed_off += cs->handed_off;
	s->core.relayed_stateless += cs->relayed_stateless;
	txn_table_stats(w->txn, &ts);
	s->txn.server_created += ts.server_created;
	s->txn.client_created += ts.client_created;
	s->txn.retransmissions += ts.retransmissions;
	s->txn.absorbed += ts.absorbed;
	s->txn.timeouts += ts.timeouts;
	s->txn.server_live += ts.server_live;
	s->txn.client_live += ts.client_live;
	s->txn.refused += ts.refused;
	tp_stats(w->tp, &ps);
	s->tp.conns_in += ps.conns_in;
	s->tp.conns_out += ps.conns_out;
	s->tp.accepted += ps.accepted;
	s->tp.refused += ps.refused;
	s->tp.connected += ps.connected;
	s->tp.connect_failed += ps.connect_failed;
	s->tp.bytes_in += ps.bytes_in;
	s->tp.bytes_out += ps.bytes_out;
}

static void
pack_methods(msgpack_packer *pk, const char *key, const uint64_t *v)
{
	uint32_t n = 0;

	for (int i = 0; i <= MSG_PUBLISH; i++) {
		n += v[i] != 0 ? 1 : 0;
	}
	proto_str(pk, key);
	msgpack_pack_map(pk, n);
	for (int i = 0; i <= MSG_PUBLISH; i++) {
		if (v[i] != 0) {
			proto_kv_uint(pk, i == MSG_METHOD_OTHER ? "other"
			    : msg_method_str((enum msg_method)i), v[i]);
		}
	}
}

static void
pack_classes(msgpack_packer *pk, const char *key, const uint64_t *v)
{
	proto_str(pk, key);
	msgpack_pack_map(pk, 6);
	for (int i = 1; i <= 6; i++) {
		char k[4] = { (char)('0' + i), 'x', 'x', '\0' };

		proto_kv_uint(pk, k, v[i]);
	}
}

static int
ctl_h_show_stats(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct stats_sum *s;
	unsigned n = workers_count(r->ctl->ws);

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < n; i++) {
		workers_call(r->ctl->ws, i, stats_one, s);
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 21);
	proto_kv_uint(pk, "workers", n);
	pack_methods(pk, "requests-in", s->core.req_in);
	pack_methods(pk, "requests-out", s->core.req_out);
	pack_classes(pk, "responses-in", s->core.resp_in);
	pack_classes(pk, "responses-out", s->core.resp_out);
	proto_kv_uint(pk, "parse-errors", s->core.parse_errors);
	proto_kv_uint(pk, "handed-off", s->core.handed_off);
	proto_kv_uint(pk, "relayed-stateless", s->core.relayed_stateless);
	proto_kv_uint(pk, "server-transactions", s->txn.server_live);
	proto_kv_uint(pk, "client-transactions", s->txn.client_live);
	proto_kv_uint(pk, "server-created", s->txn.server_created);
	proto_kv_uint(pk, "client-created", s->txn.client_created);
	proto_kv_uint(pk, "retransmissions", s->txn.retransmissions);
	proto_kv_uint(pk, "absorbed", s->txn.absorbed);
	proto_kv_uint(pk, "timeouts", s->txn.timeouts);
	proto_kv_uint(pk, "refused", s->txn.refused);
	proto_kv_uint(pk, "connections-in", s->tp.conns_in);
	proto_kv_uint(pk, "connections-out", s->tp.conns_out);
	proto_kv_uint(pk, "connections-refused", s->tp.refused);
	proto_kv_uint(pk, "bytes-in", s->tp.bytes_in);
	proto_kv_uint(pk, "bytes-out", s->tp.bytes_out);
	free(s);
	return 0;
}

struct txn_rows {
	enum txn_kind kind;
	unsigned worker;
	struct txn_info *row;
	size_t n, cap;
	bool truncated;
};

static int
txn_row(void *arg, const struct txn_info *info)
{
	struct txn_rows *t = arg;

	if (t->n == CTL_TXN_MAX) {
		t->truncated = true;
		return 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct txn_info *p = realloc(t->row, cap * sizeof(*p));

		if (p == NULL) {
			t->truncated = true;
			return 1;
		}
		t->row = p;
		t->cap = cap;
	}
	t->row[t->n++] = *info;
	return 0;
}

static void
txn_collect(struct worker *w, void *arg)
{
	struct txn_rows *t = arg;

	if (!t->truncated) {
		txn_foreach(w->txn, t->kind, txn_row, t);
	}
}

static int
ctl_h_show_txn(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct txn_rows t = { 0 };
	unsigned n = workers_count(r->ctl->ws);

	t.kind = r->args->cmd->id == CMD_SHOW_TXN_SERVER ? TXN_SERVER
							  : TXN_CLIENT;
	for (unsigned i = 0; i < n; i++) {
		workers_call(r->ctl->ws, i, txn_collect, &t);
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, t.n);
	for (size_t i = 0; i < t.n; i++) {
		const struct txn_info *x = &t.row[i];
		char peer[TP_ADDRSTRLEN];

		msgpack_pack_map(pk, 9);
		proto_kv_uint(pk, "id", x->id);
		proto_kv_str(pk, "method", x->method);
		proto_kv_str(pk, "state", txn_state_str(x->state));
		proto_kv_str(pk, "peer",
		    tp_addr_str((const struct sockaddr *)&x->peer.addr, peer,
			sizeof(peer)));
		proto_kv_str(pk, "transport", tp_proto_name(x->peer.proto));
		proto_kv_str(pk, "call-id", x->callid);
		proto_kv_uint(pk, "age-ms", x->age_ms);
		proto_kv_uint(pk, "retransmissions", x->retransmissions);
		proto_kv_int(pk, "status", x->status);
	}
	if (t.truncated) {
		log_notice(LOG_TRANSPORT, "control, transaction list cut at "
		    "%zu rows", t.n);
	}
	free(t.row);
	return 0;
}

static ctl_handler *const ctl_handlers[CMD__COUNT] = {
#define CMD(id, handler, words, args, flags, summary)                      \
	[CMD_##id] = ctl_h_##handler,
#include "proto/commands.def"
#undef CMD
};

ctl_handler *
ctl_handler_of(enum cmd_id id)
{
	if ((unsigned)id >= CMD__COUNT || ctl_handlers[id] == NULL) {
		return ctl_h_local;
	}
	return ctl_handlers[id];
}
