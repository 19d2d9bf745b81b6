/*
 * The control commands' handlers, one per command of proto/commands.def
 * (the table at the end is generated from it).  Configuration commands
 * share one handler: the change is made on a copy of the running
 * configuration, applied to the workers, and only then made current and
 * saved to the file.  Reading handlers pack what they read; worker state
 * (transactions, counters) is read on each worker's own thread through
 * workers_call(), so nothing here takes a lock around SIP state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "proto/cmd.h"
#include "sipd/acct/acct.h"
#include "sipd/auth/auth.h"
#include "sipd/core/core.h"
#include "sipd/media/media.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/dns/dns.h"
#include "sipd/reg/reg.h"
#include "sipd/trace.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"
#include "sipd/worker.h"

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
	/* a reference of its own: an account edit replaces next->acct */
	conf_copy(next, ctl->conf);
	rc = conf_apply(next, r->args, r->err, sizeof(r->err));
	if (rc < 0) {
		goto out;
	}
	rc = ctl_conf_apply(ctl, next, r->err, sizeof(r->err));
	if (rc < 0) {
		goto out;
	}
	/* with autosave off, the file changes on "config save" only */
	rc = ctl->conf->autosave
	    ? conf_save(ctl->conf, ctl->conf_path, err, sizeof(err))
	    : 0;
	if (rc < 0) {
		log_err(LOG_TRANSPORT, "control, %s", err);
		rc = ctl_fail(r, -EIO, "applied, but not saved: %s", err);
		goto out;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
out:
	conf_fini(next);
	free(next);
	return rc;
}

static int
ctl_h_status(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct ctl *ctl = r->ctl;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 13);
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
	proto_kv_uint(pk, "tracers", ctl->ntracers);
	proto_kv_uint(pk, "trace-dropped", trace_dropped());
	proto_kv_uint(pk, "hep-lost", ctl->hep_lost);
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
	r->ctl->stop_now = cmd_arg_enum(r->args, "when") == 0;
	ctl_shutdown_after(r->conn);
	return 0;
}

static int
ctl_h_cancel(struct ctl_req *r)
{
	uint32_t id = (uint32_t)cmd_arg_uint(r->args, "request", 0);
	struct proto_out o;

	if (id == 0 || (r->conn->follow_id != id &&
	    r->conn->trace_id != id)) {
		return ctl_fail(r, -ENOENT, "no stream with id %u", id);
	}
	/* The stream's last event, then the reply to the cancel. */
	proto_out_init(&o);
	proto_begin_event(&o, id, "end");
	msgpack_pack_nil(&o.pk);
	(void)ctl_conn_send(r->conn, &o);
	proto_out_fini(&o);
	if (r->conn->trace_id == id) {
		ctl_trace_end(r->conn);
	} else {
		ctl_follow_end(r->conn);
	}
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

/* A setting's value (or default) as its own type on the wire. */
static void
ctl_setting_value(msgpack_packer *pk, const struct conf_setting *s,
    uint32_t v, const char *text)
{
	switch (s->type) {
	case CONF_SET_U32:
		msgpack_pack_uint64(pk, v);
		break;
	case CONF_SET_BOOL:
		if (v) {
			msgpack_pack_true(pk);
		} else {
			msgpack_pack_false(pk);
		}
		break;
	case CONF_SET_ENUM:
	case CONF_SET_PATH:
	case CONF_SET_STR:
		proto_str(pk, text);
		break;
	}
}

/* One row of "show settings". */
static void
ctl_setting_row(msgpack_packer *pk, const char *name, const char *value,
    const char *dflt, bool changed, bool next_start, const char *pending)
{
	msgpack_pack_map(pk, 6);
	proto_kv_str(pk, "setting", name);
	proto_kv_str(pk, "value", value);
	proto_kv_str(pk, "default", dflt);
	proto_kv_bool(pk, "changed", changed);
	proto_kv_str(pk, "applies", next_start ? "next start" : "at once");
	proto_kv_str(pk, "pending", pending);
}

/*
 * "show settings": every setting's value in force, its default, whether
 * it differs, when a change applies, and a configured value that waits
 * for the next start (pending).  Two settings read only at start have
 * their value in force elsewhere: the workers running, the store open;
 * source-channels 0 stands for a share of input-channels.
 */
static int
ctl_h_show_settings(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;
	static const char *const outs[] = { "auto", "stderr", "syslog",
		"file", "journal" };
	const char *store = reg_store_where(workers_reg(r->ctl->ws));
	char buf[CONF_PATH_MAX + 16], dbuf[64];

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk,
	    (size_t)conf_nsettings + LOG__COMP_COUNT + 2);
	for (int i = 0; i < conf_nsettings; i++) {
		const struct conf_setting *s = &conf_settings[i];
		uint32_t v = conf_setting_value(c, s);
		const char *text = conf_setting_text(c, s, buf, sizeof(buf));
		const char *pending = "";

		if (s->cmd == CMD_SET_PROCESSORS &&
		    workers_count(r->ctl->ws) != (v ? v : 1)) {
			pending = text;
			v = workers_count(r->ctl->ws);
		} else if (s->cmd == CMD_SET_REG_STORE && store != NULL &&
		    strcmp(store, c->reg.store[0] != '\0' ? c->reg.store
							 : store) != 0) {
			pending = text;
			text = store;
		} else if (s->cmd == CMD_SET_REG_STORE && store != NULL) {
			text = store;
		} else if (s->cmd == CMD_SET_REG_DURABLE &&
		    (store != NULL) != (v != 0)) {
			/* the store opened or not at the start decides */
			pending = text;
			v = store != NULL;
		} else if (s->cmd == CMD_SET_SOURCE_CHANNELS) {
			/* 0 is "automatic": the share in force */
			v = conf_source_channels(c);
		}
		msgpack_pack_map(pk, 6);
		proto_kv_str(pk, "setting", s->key);
		proto_str(pk, "value");
		ctl_setting_value(pk, s, v, text);
		proto_str(pk, "default");
		ctl_setting_value(pk, s, s->dflt,
		    conf_setting_default_text(s, dbuf, sizeof(dbuf)));
		proto_kv_bool(pk, "changed", conf_setting_changed(c, s));
		proto_kv_str(pk, "applies",
		    s->next_start ? "next start" : "at once");
		proto_kv_str(pk, "pending", pending);
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		char key[32];

		snprintf(key, sizeof(key), "log-%s",
		    log_comp_name((enum log_comp)i));
		ctl_setting_row(pk, key, log_level_name(c->levels[i]),
		    log_level_name(LOG_DEFAULT_LEVEL),
		    c->levels[i] != LOG_DEFAULT_LEVEL, false, "");
	}
	ctl_setting_row(pk, "log-output",
	    c->log_out == CONF_LOG_FILE ? c->log_file : outs[c->log_out],
	    outs[CONF_LOG_AUTO], c->log_out != CONF_LOG_AUTO, false, "");
	ctl_setting_row(pk, "control-socket", r->ctl->sock_path, "default",
	    c->ctl_socket[0] != '\0', true,
	    c->ctl_socket[0] != '\0' &&
		strcmp(c->ctl_socket, r->ctl->sock_path) != 0
	    ? c->ctl_socket
	    : "");
	return 0;
}

static int
ctl_h_show_config(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f;
	int rc;

	if (cmd_arg_enum(r->args, "view") == 0) {
		/* the file's lines hold the same digests as the listing */
		if (!r->conn->writer && conf_has_secrets(c)) {
			return ctl_fail(r, -EPERM, "the difference shows "
			    "password digests: root or sipd's user only");
		}
		rc = conf_diff(c, r->ctl->conf_path, &text, err, sizeof(err));
		if (rc < 0) {
			return ctl_fail(r, -EIO, "%s", err);
		}
		len = strlen(text);
	} else {
		f = open_memstream(&text, &len);
		if (f == NULL) {
			return ctl_fail(r, -ENOMEM, "out of memory");
		}
		/* the digests log in as their accounts: only for those who
		 * may change them anyway */
		rc = conf_dump(c, f, r->conn->writer);
		if (fclose(f) != 0 || rc < 0) {
			free(text);
			return ctl_fail(r, -EIO,
			    "cannot write the configuration");
		}
	}
	proto_begin_reply(r->out, r->id);
	proto_strn(&r->out->pk, text, len);
	free(text);
	return 0;
}

static int
ctl_h_config_save(struct ctl_req *r)
{
	char err[512];

	if (conf_save(r->ctl->conf, r->ctl->conf_path, err, sizeof(err)) < 0) {
		log_err(LOG_TRANSPORT, "control, %s", err);
		return ctl_fail(r, -EIO, "%s", err);
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
	return 0;
}

/* ------------------------------------------------------- worker state */

struct stats_sum {
	struct core_stats core;
	struct txn_stats txn;
	struct tp_stats tp;
	struct dns_stats dns;
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
	s->core.busy_refused += cs->busy_refused;
	s->core.relayed_stateless += cs->relayed_stateless;
	s->core.auth_limited += cs->auth_limited;
	txn_table_stats(w->txn, &ts);
	s->txn.server_created += ts.server_created;
	s->txn.client_created += ts.client_created;
	s->txn.retransmissions += ts.retransmissions;
	s->txn.absorbed += ts.absorbed;
	s->txn.timeouts += ts.timeouts;
	s->txn.server_live += ts.server_live;
	s->txn.client_live += ts.client_live;
	s->txn.refused += ts.refused;
	s->txn.reclaimed += ts.reclaimed;
	tp_stats(w->tp, &ps);
	s->tp.conns_in += ps.conns_in;
	s->tp.conns_out += ps.conns_out;
	s->tp.accepted += ps.accepted;
	s->tp.refused += ps.refused;
	s->tp.connected += ps.connected;
	s->tp.connect_failed += ps.connect_failed;
	s->tp.bytes_in += ps.bytes_in;
	s->tp.bytes_out += ps.bytes_out;
	if (w->dns != NULL) {
		struct dns_stats ds;

		dns_stats(w->dns, &ds);
		s->dns.resolves += ds.resolves;
		s->dns.cache_hits += ds.cache_hits;
		s->dns.queries += ds.queries;
		s->dns.failures += ds.failures;
		s->dns.cache_entries += ds.cache_entries;
	}
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
	struct ctl_svc_stats svc;
	struct stats_sum *s;
	unsigned n = workers_count(r->ctl->ws);

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < n; i++) {
		workers_call(r->ctl->ws, i, stats_one, s);
	}
	ctl_svc_stats(r->ctl, &svc);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 29 + CTL_SVC_STATS_KEYS);
	proto_kv_uint(pk, "workers", n);
	pack_methods(pk, "requests-in", s->core.req_in);
	pack_methods(pk, "requests-out", s->core.req_out);
	pack_classes(pk, "responses-in", s->core.resp_in);
	pack_classes(pk, "responses-out", s->core.resp_out);
	proto_kv_uint(pk, "parse-errors", s->core.parse_errors);
	proto_kv_uint(pk, "handed-off", s->core.handed_off);
	proto_kv_uint(pk, "busy-refused", s->core.busy_refused);
	proto_kv_uint(pk, "relayed-stateless", s->core.relayed_stateless);
	proto_kv_uint(pk, "auth-limited", s->core.auth_limited);
	proto_kv_uint(pk, "server-transactions", s->txn.server_live);
	proto_kv_uint(pk, "client-transactions", s->txn.client_live);
	proto_kv_uint(pk, "server-created", s->txn.server_created);
	proto_kv_uint(pk, "client-created", s->txn.client_created);
	proto_kv_uint(pk, "retransmissions", s->txn.retransmissions);
	proto_kv_uint(pk, "absorbed", s->txn.absorbed);
	proto_kv_uint(pk, "timeouts", s->txn.timeouts);
	proto_kv_uint(pk, "refused", s->txn.refused);
	proto_kv_uint(pk, "reclaimed", s->txn.reclaimed);
	proto_kv_uint(pk, "connections-in", s->tp.conns_in);
	proto_kv_uint(pk, "connections-out", s->tp.conns_out);
	proto_kv_uint(pk, "connections-refused", s->tp.refused);
	proto_kv_uint(pk, "bytes-in", s->tp.bytes_in);
	proto_kv_uint(pk, "bytes-out", s->tp.bytes_out);
	proto_kv_uint(pk, "dns-resolves", s->dns.resolves);
	proto_kv_uint(pk, "dns-cache-hits", s->dns.cache_hits);
	proto_kv_uint(pk, "dns-queries", s->dns.queries);
	proto_kv_uint(pk, "dns-failures", s->dns.failures);
	proto_kv_uint(pk, "dns-cache-entries", s->dns.cache_entries);
	ctl_svc_pack(pk, &svc);
	free(s);
	return 0;
}

struct txn_rows {
	enum txn_kind kind;
	unsigned worker;
	struct txn_info *row;
	size_t n, cap;
	bool truncated;
	/* the filter, as trace's (NULL matches all) and the state */
	const char *callid, *method, *address, *state;
};

/* Does the transaction pass the filter? */
static bool
txn_match(const struct txn_rows *t, const struct txn_info *x)
{
	return (t->callid == NULL || strcmp(x->callid, t->callid) == 0) &&
	    (t->method == NULL || strcasecmp(x->method, t->method) == 0) &&
	    (t->state == NULL ||
		strcasecmp(txn_state_str(x->state), t->state) == 0) &&
	    (t->address == NULL || ctl_addr_is(&x->peer.addr, t->address));
}

static int
txn_row(void *arg, const struct txn_info *info)
{
	struct txn_rows *t = arg;

	if (!txn_match(t, info)) {
		return 0;
	}
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
	t.callid = cmd_arg_str(r->args, "callid");
	t.method = cmd_arg_str(r->args, "method");
	t.address = cmd_arg_str(r->args, "address");
	t.state = cmd_arg_str(r->args, "state");
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

/* ----------------------------------------------------------- resolver */

/* Rows of "show dns": each worker's cache entries and failed targets. */
#define CTL_DNS_MAX 10000
#define CTL_DNS_RECORDS 1024

struct dns_row {
	unsigned worker;
	bool failed;            /* a failed target, not a cache entry */
	char name[DNS_TARGET_TEXT + 256];
	char type[8];
	char state[12];
	unsigned ttl_s;         /* left */
	size_t count;
	char records[CTL_DNS_RECORDS];
};

struct dns_rows {
	unsigned worker;
	struct dns_row *row;
	size_t n, cap;
	bool truncated;
	size_t flushed;
};

static struct dns_row *
dns_row_new(struct dns_rows *t)
{
	if (t->n == CTL_DNS_MAX) {
		t->truncated = true;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct dns_row *p = realloc(t->row, cap * sizeof(*p));

		if (p == NULL) {
			t->truncated = true;
			return NULL;
		}
		t->row = p;
		t->cap = cap;
	}
	memset(&t->row[t->n], 0, sizeof(t->row[0]));
	t->row[t->n].worker = t->worker;
	return &t->row[t->n++];
}

static void
dns_cache_row(void *arg, const struct dns_cache_info *ci)
{
	struct dns_row *r = dns_row_new(arg);
	char rec[DNS_RECORD_TEXT];
	size_t len = 0;

	if (r == NULL) {
		return;
	}
	snprintf(r->name, sizeof(r->name), "%s", ci->name);
	snprintf(r->type, sizeof(r->type), "%s", ci->type);
	snprintf(r->state, sizeof(r->state), "%s", ci->state);
	r->ttl_s = ci->ttl_left_s;
	r->count = ci->count;
	for (size_t i = 0; i < ci->count && len + 1 < sizeof(r->records);
	    i++) {
		int n = snprintf(r->records + len, sizeof(r->records) - len,
		    "%s%s", i > 0 ? ", " : "",
		    dns_cache_record(ci, i, rec, sizeof(rec)));
		if (n < 0) {
			break;
		}
		len += (size_t)n;
	}
}

static void
dns_failed_row(void *arg, const struct dns_target *t, unsigned ms_left)
{
	struct dns_row *r = dns_row_new(arg);

	if (r == NULL) {
		return;
	}
	r->failed = true;
	dns_target_format(t, r->name, sizeof(r->name));
	snprintf(r->type, sizeof(r->type), "-");
	snprintf(r->state, sizeof(r->state), "avoided");
	r->ttl_s = (ms_left + 999) / 1000;
}

static void
dns_collect(struct worker *w, void *arg)
{
	struct dns_rows *t = arg;

	t->worker = w->id;
	if (w->dns != NULL && !t->truncated) {
		dns_cache_foreach(w->dns, dns_cache_row, t);
		dns_failed_foreach(w->dns, dns_failed_row, t);
	}
}

static int
ctl_h_show_dns(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct dns_rows t = { 0 };
	unsigned n = workers_count(r->ctl->ws);
	bool one = cmd_arg_has(r->args, "worker");
	unsigned w = (unsigned)cmd_arg_uint(r->args, "worker", 0);

	if (one && w >= n) {
		return ctl_fail(r, -ENOENT, "no worker %u (%u running)", w, n);
	}
	for (unsigned i = one ? w : 0; i < (one ? w + 1 : n); i++) {
		workers_call(r->ctl->ws, i, dns_collect, &t);
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, t.n);
	for (size_t i = 0; i < t.n; i++) {
		const struct dns_row *x = &t.row[i];

		msgpack_pack_map(pk, 8);
		proto_kv_uint(pk, "worker", x->worker);
		proto_kv_str(pk, "kind", x->failed ? "failed" : "cache");
		proto_kv_str(pk, "name", x->name);
		proto_kv_str(pk, "type", x->type);
		proto_kv_str(pk, "state", x->state);
		proto_kv_uint(pk, "ttl", x->ttl_s);
		proto_kv_uint(pk, "count", x->count);
		proto_kv_str(pk, "records", x->records);
	}
	if (t.truncated) {
		log_notice(LOG_TRANSPORT, "control, dns list cut at %zu rows",
		    t.n);
	}
	free(t.row);
	return 0;
}

static void
dns_flush_one(struct worker *w, void *arg)
{
	struct dns_rows *t = arg;
	struct dns_stats st;

	if (w->dns != NULL) {
		dns_stats(w->dns, &st);
		t->flushed += st.cache_entries;
		dns_flush(w->dns);
	}
}

static int
ctl_h_dns_flush(struct ctl_req *r)
{
	struct dns_rows t = { 0 };
	unsigned n = workers_count(r->ctl->ws);

	for (unsigned i = 0; i < n; i++) {
		workers_call(r->ctl->ws, i, dns_flush_one, &t);
	}
	log_info(LOG_TRANSPORT, "control, %s flushed the DNS cache (%zu "
	    "entries)", r->conn->name, t.flushed);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_uint(&r->out->pk, "flushed", t.flushed);
	return 0;
}

/* ------------------------------------------------------- registrations */

/* q in thousandths as SIP writes it: "1", "0.5", "0.125". */
static const char *
q_str(unsigned q, char *buf, size_t cap)
{
	int n;

	if (q % 1000 == 0) {
		snprintf(buf, cap, "%u", q / 1000);
		return buf;
	}
	n = snprintf(buf, cap, "%u.%03u", q / 1000, q % 1000);
	while (n > 0 && buf[n - 1] == '0') {
		buf[--n] = '\0';
	}
	return buf;
}

/* The workarounds in force for a binding: its product's (the User-Agent
 * of its REGISTER) and its contact's site's. */
static const char *
binding_wk(const struct wk *w, const struct reg_binding *b, char *buf,
    size_t cap)
{
	unsigned m = 0;
	struct uri u;

	if (b->user_agent != NULL) {
		m |= wk_lookup(w, WK_PRODUCT, b->user_agent,
		    strlen(b->user_agent), NULL);
	}
	if (b->contact != NULL &&
	    uri_parse(b->contact, (struct span){ 0,
				      (uint32_t)strlen(b->contact) },
		&u) == 0) {
		m |= wk_lookup(w, WK_SITE, b->contact + u.host.off,
		    u.host.len, NULL);
	}
	return wk_methods_text(m, buf, cap);
}

static int
ctl_h_show_registrations(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const char *aor = cmd_arg_str(r->args, "aor");
	struct reg *reg = workers_reg(r->ctl->ws);
	struct reg_snap *snap = NULL;
	time_t now = time(NULL);
	size_t rows;
	int n;

	if (reg == NULL) {
		return ctl_fail(r, -ENOENT, "no registrar");
	}
	n = reg_list(reg, aor, now, &snap);
	if (n < 0) {
		return ctl_fail(r, n, n == -EINVAL ? "bad address-of-record %s"
		    : "cannot list the registrations%s",
		    n == -EINVAL && aor != NULL ? aor : "");
	}
	rows = (size_t)n < CTL_REG_MAX ? (size_t)n : CTL_REG_MAX;
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, rows);
	for (size_t i = 0; i < rows; i++) {
		const struct reg_binding *b = &snap->b[i];
		char src[TP_ADDRSTRLEN], q[16], wkm[128];

		if (b->addrlen > 0) {
			tp_addr_str((const struct sockaddr *)&b->addr, src,
			    sizeof(src));
		} else {
			src[0] = '\0';
		}
		msgpack_pack_map(pk, 14);
		proto_kv_str(pk, "aor", b->aor);
		proto_kv_str(pk, "contact", b->contact);
		proto_kv_str(pk, "source", src);
		/* behind a remote NAT: reached at source, not contact */
		proto_kv_bool(pk, "nat", b->nat);
		proto_kv_uint(pk, "keepalive-failures", b->ka_fails);
		proto_kv_str(pk, "transport",
		    tp_proto_name((enum tp_proto)b->proto));
		proto_kv_uint(pk, "expires",
		    b->expires > now ? (uint64_t)(b->expires - now) : 0);
		proto_kv_str(pk, "q", q_str(b->q, q, sizeof(q)));
		proto_kv_str(pk, "user-agent",
		    b->user_agent != NULL ? b->user_agent : "");
		proto_kv_str(pk, "path", b->path != NULL ? b->path : "");
		proto_kv_str(pk, "call-id", b->callid != NULL ? b->callid : "");
		proto_kv_uint(pk, "cseq", b->cseq);
		proto_kv_uint(pk, "age",
		    now > b->registered ? (uint64_t)(now - b->registered) : 0);
		proto_kv_str(pk, "workarounds", binding_wk(&r->ctl->conf->wk,
						     b, wkm, sizeof(wkm)));
	}
	if ((size_t)n > rows) {
		log_notice(LOG_TRANSPORT, "control, registration list cut at "
		    "%zu rows", rows);
	}
	reg_snap_free(snap);
	return 0;
}

static int
ctl_h_registration_remove(struct ctl_req *r)
{
	const char *aor = cmd_arg_str(r->args, "aor");
	const char *contact = cmd_arg_str(r->args, "contact");
	struct reg *reg = workers_reg(r->ctl->ws);
	int n;

	if (reg == NULL) {
		return ctl_fail(r, -ENOENT, "no registrar");
	}
	if (aor == NULL) {
		return ctl_fail(r, -EINVAL, "no address-of-record");
	}
	n = reg_remove(reg, aor, contact);
	if (n == -ENOENT) {
		return ctl_fail(r, n, contact != NULL
		    ? "%s has no contact %s" : "%s has no registration%s",
		    aor, contact != NULL ? contact : "");
	}
	if (n < 0) {
		return ctl_fail(r, n, "cannot remove: %s", strerror(-n));
	}
	log_info(LOG_TRANSPORT, "control, %s removed %d registration%s of "
	    "%s", r->conn->name, n, n == 1 ? "" : "s", aor);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_uint(&r->out->pk, "removed", (uint64_t)n);
	return 0;
}

/* ------------------------------------------------------- auth blocks */

/* The blocked sources of every worker, merged by address. */
struct block_rows {
	struct auth_block *row;
	size_t n, cap;
	bool truncated;
};

static bool
block_same(const struct auth_block *x, const struct auth_block *y)
{
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];

	return strcmp(auth_block_str(x, a, sizeof(a)),
	    auth_block_str(y, b, sizeof(b))) == 0;
}

static int
block_row(void *arg, const struct auth_block *b)
{
	struct block_rows *t = arg;

	for (size_t i = 0; i < t->n; i++) {
		if (block_same(&t->row[i], b)) {
			if (b->remaining > t->row[i].remaining) {
				t->row[i].remaining = b->remaining;
			}
			t->row[i].failures += b->failures;
			return 0;
		}
	}
	if (t->n == CTL_BLOCK_MAX) {
		t->truncated = true;
		return 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct auth_block *p = realloc(t->row, cap * sizeof(*p));

		if (p == NULL) {
			t->truncated = true;
			return 1;
		}
		t->row = p;
		t->cap = cap;
	}
	t->row[t->n++] = *b;
	return 0;
}

static void
block_collect(struct worker *w, void *arg)
{
	struct block_rows *t = arg;
	struct auth *a = core_auth(w->core);

	if (a != NULL && !t->truncated) {
		(void)auth_blocks(a, block_row, t);
	}
}

static int
ctl_h_show_auth_blocks(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct block_rows t = { 0 };

	/* the workers share one failed-attempt table: any of them has it */
	workers_call(r->ctl->ws, 0, block_collect, &t);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, t.n);
	for (size_t i = 0; i < t.n; i++) {
		char addr[INET6_ADDRSTRLEN + 8];

		msgpack_pack_map(pk, 3);
		proto_kv_str(pk, "address",
		    auth_block_str(&t.row[i], addr, sizeof(addr)));
		proto_kv_uint(pk, "remaining", t.row[i].remaining);
		proto_kv_uint(pk, "failures", t.row[i].failures);
	}
	if (t.truncated) {
		log_notice(LOG_TRANSPORT, "control, auth block list cut at "
		    "%zu rows", t.n);
	}
	free(t.row);
	return 0;
}

struct unblock {
	const struct sockaddr *src; /* NULL: every source */
	int forgotten;
};

static void
unblock_one(struct worker *w, void *arg)
{
	struct unblock *u = arg;
	struct auth *a = core_auth(w->core);

	if (a != NULL) {
		int n = auth_unblock(a, u->src);

		u->forgotten += n > 0 ? n : 0;
	}
}

/*
 * "198.51.100.7", "2001:db8::1", or a listed IPv6 prefix
 * "2001:db8:1:2::/64" (any address of the /64 names it) into *ss.
 */
static int
parse_block_addr(const char *text, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);

	if (len == 0 || len >= sizeof(buf)) {
		return -EINVAL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (slash == NULL || strcmp(slash, "/32") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			return 0;
		}
	}
	if (slash == NULL || strcmp(slash, "/64") == 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			return 0;
		}
	}
	return -EINVAL;
}

static int
ctl_h_auth_unblock(struct ctl_req *r)
{
	const char *text = cmd_arg_str(r->args, "address");
	struct sockaddr_storage ss;
	struct unblock u = { NULL, 0 };
	unsigned n = workers_count(r->ctl->ws);

	if (text != NULL) {
		if (parse_block_addr(text, &ss) < 0) {
			return ctl_fail(r, -EINVAL, "not an address: %s", text);
		}
		u.src = (const struct sockaddr *)&ss;
	}
	for (unsigned i = 0; i < n; i++) {
		workers_call(r->ctl->ws, i, unblock_one, &u);
	}
	if (text != NULL && u.forgotten == 0) {
		return ctl_fail(r, -ENOENT, "no failed attempts known from %s",
		    text);
	}
	log_info(LOG_TRANSPORT, "control, %s unblocked %s", r->conn->name,
	    text != NULL ? text : "every source");
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_uint(&r->out->pk, "forgotten", (uint64_t)u.forgotten);
	return 0;
}

/* -------------------------------------------------------- media relay */

static const char *
media_addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		buf[0] = '\0';
		return buf;
	}
	tp_addr_str((const struct sockaddr *)ss, buf, cap);
	return buf;
}

static void
pack_media_leg(msgpack_packer *pk, char side, const struct media_leg_info *l)
{
	char key[16], addr[TP_ADDRSTRLEN];

	snprintf(key, sizeof(key), "%c-local", side);
	proto_kv_str(pk, key, media_addr_str(&l->local, addr, sizeof(addr)));
	snprintf(key, sizeof(key), "%c-peer", side);
	proto_kv_str(pk, key, media_addr_str(&l->peer, addr, sizeof(addr)));
	snprintf(key, sizeof(key), "%c-latched", side);
	proto_kv_bool(pk, key, l->latched);
	snprintf(key, sizeof(key), "%c-packets", side);
	proto_kv_uint(pk, key, l->packets);
	snprintf(key, sizeof(key), "%c-bytes", side);
	proto_kv_uint(pk, key, l->bytes);
	snprintf(key, sizeof(key), "%c-ignored", side);
	proto_kv_uint(pk, key, l->ignored);
}

static int
ctl_h_show_media(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct media *m = workers_media(r->ctl->ws);
	struct media_relay_info *v = NULL;
	int n;

	if (m == NULL) {
		return ctl_fail(r, -ENOENT, "no media relay");
	}
	n = media_relay_list(m, CTL_MEDIA_MAX, &v);
	if (n < 0) {
		return ctl_fail(r, n, "cannot list the media relays");
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		msgpack_pack_map(pk, 5 + 12);
		proto_kv_uint(pk, "id", v[i].id);
		proto_kv_str(pk, "call-id", v[i].callid);
		proto_kv_uint(pk, "line", v[i].line);
		pack_media_leg(pk, 'a', &v[i].leg[0]);
		pack_media_leg(pk, 'b', &v[i].leg[1]);
		proto_kv_uint(pk, "age", v[i].age_ms / 1000);
		proto_kv_uint(pk, "idle", v[i].idle_ms / 1000);
	}
	free(v);
	return 0;
}

static int
ctl_h_media_close(struct ctl_req *r)
{
	struct media *m = workers_media(r->ctl->ws);
	uint64_t id = cmd_arg_uint(r->args, "id", 0);
	int rc;

	if (m == NULL) {
		return ctl_fail(r, -ENOENT, "no media relay");
	}
	rc = media_relay_free(m, (uint32_t)id);
	if (rc == -ENOENT) {
		return ctl_fail(r, rc, "no media relay %llu",
		    (unsigned long long)id);
	}
	if (rc < 0) {
		return ctl_fail(r, rc, "cannot close: %s", strerror(-rc));
	}
	log_info(LOG_TRANSPORT, "control, %s closed media relay %llu",
	    r->conn->name, (unsigned long long)id);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
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
