/*
 * Private to sipd/ctl: the control plane's state shared by the socket
 * server (server.c) and the command handlers (handlers.c).
 */
#ifndef SIPD_CTL_INT_H
#define SIPD_CTL_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <event2/util.h>

#include "proto/proto.h"
#include "sipd/cdr/cdr.h"
#include "sipd/ctl/ctl.h"
#include "sipd/log.h"
#include "sipd/media/media.h"

struct bufferevent;
struct evconnlistener;
struct event;

/*
 * Connections at most: in all, and per uid other than root.  The last
 * CTL_ROOT_CONNS are root's alone, so that root always gets in however
 * many connections the other users hold.
 */
#define CTL_MAX_CONNS 64
#define CTL_MAX_CONNS_UID 16
#define CTL_ROOT_CONNS 8
/* Seconds a connection may keep sipd waiting: a reply it does not read,
 * or a frame it does not finish.  Then it is dropped. */
#define CTL_STUCK_S 10
/* Frames of one connection handled in a turn of the loop: then the
 * others' turn, so that one client pipelining requests without end
 * cannot keep another waiting. */
#define CTL_FRAMES_TURN 16
/* Bytes read ahead of the frames being handled: reading pauses past
 * this (or past the frame begun, when it is longer). */
#define CTL_IN_HIGH (64 * 1024)
/* Bytes a connection may leave unread before it is dropped. */
#define CTL_OUT_MAX (4 * 1024 * 1024)
/* Bytes waiting past which a follower's log lines are dropped. */
#define CTL_FOLLOW_MAX (256 * 1024)
/* Rows of "show transactions" at most. */
#define CTL_TXN_MAX 10000
/* Rows of "show registrations" and "show auth-blocks" at most. */
#define CTL_REG_MAX 10000
#define CTL_BLOCK_MAX 10000
/* Rows of "show media" at most. */
#define CTL_MEDIA_MAX 10000

struct ctl_conn {
	struct ctl *ctl;
	struct ctl_conn *next, *prev;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	bool writer;        /* root or sipd's uid: CF_WRITE commands */
	bool closing;       /* closed once the output is written */
	bool shutdown;      /* stop sipd once the output is written */
	bool dead;          /* to be freed by the reaper */
	struct event *frame_ev; /* a frame begun: its deadline */
	uint32_t follow_id; /* the "log follow" request's id, 0: none */
	unsigned long long dropped; /* follower lines dropped, unreported */
	uint32_t trace_id;  /* the "trace" request's id, 0: none */
	struct ctl_trace *trace; /* its filter (trace.c) */
	unsigned long long trace_dropped;   /* messages lost, unreported */
	unsigned long long trace_lost_seen; /* trace_dropped() last seen */
	char name[64];      /* "uid 0 pid 1234", for log lines */
};

struct ctl {
	struct event_base *base;
	struct workers *ws;
	struct conf *conf;
	char conf_path[PATH_MAX];
	char sock_path[PATH_MAX];
	struct evconnlistener *lis;
	struct event *retry;   /* re-enables accepting after EMFILE */
	struct event *log_ev;  /* the live log queue has lines */
	struct event *sighup;
	ctl_reload_fn *on_reload; /* told of SIGHUP's reloads, or NULL */
	struct evhttp *metrics;   /* the Prometheus endpoint, or NULL */
	char metrics_at[CONF_METRICS_MAX]; /* its address, "" for none */
	void *on_reload_arg;
	struct event *stop;    /* stops sipd after "shutdown" */
	bool stop_now;         /* "shutdown now" */
	ctl_stop_fn *on_stop;  /* told of "shutdown", or NULL */
	void *on_stop_arg;
	struct event *reap;    /* frees the connections marked dead */
	struct ctl_conn *conns;
	unsigned nconns;
	unsigned nfollowers;
	unsigned ntracers;
	struct event *trace_ev; /* the trace queue has messages */
	int hep_fd;             /* to the HEP collector, or -1 (hep.c) */
	uint32_t hep_id;
	unsigned long long hep_lost; /* copies the socket refused */
	char hep_at[CONF_METRICS_MAX]; /* its address, "" for none */
	enum log_out log_auto; /* what "log output auto" means */
	time_t started;
};

/* A request being answered. */
struct ctl_req {
	struct ctl_conn *conn;
	struct ctl *ctl;
	uint32_t id;
	const struct cmd_args *args;
	struct proto_out *out; /* the reply, written by the handler */
	char err[512];         /* the message of a failure */
};

/*
 * A command handler: on success, writes a whole reply into r->out
 * (proto_begin_reply() and the data) and returns 0; on failure returns a
 * negative errno with a message in r->err (the caller writes the error).
 */
typedef int ctl_handler(struct ctl_req *r);

/* "router list" and "router test" (router.c). */
int ctl_h_router_list(struct ctl_req *r);
int ctl_h_router_test(struct ctl_req *r);

/* "show calls", "show dialogs" and "cdr rotate" (calls.c). */
int ctl_h_show_calls(struct ctl_req *r);
int ctl_h_show_dialogs(struct ctl_req *r);
int ctl_h_cdr_rotate(struct ctl_req *r);
/* Reloading (reload.c): SIGHUP's callback, "reload" and "tls reload". */
void ctl_on_sighup(evutil_socket_t fd, short what, void *arg);
int ctl_h_reload(struct ctl_req *r);
int ctl_h_tls_reload(struct ctl_req *r);
/* "mwi set" and "mwi show" (mwi.c). */
int ctl_h_mwi_set(struct ctl_req *r);
int ctl_h_mwi_show(struct ctl_req *r);
/* "lan list", "client-ip list" and "nated list" (net.c). */
int ctl_h_lan_list(struct ctl_req *r);
int ctl_h_client_ip_list(struct ctl_req *r);
int ctl_h_nated_list(struct ctl_req *r);
/*
 * The tables of proto/tables.def kept as rows of one structure (table.c):
 * a row as the map its table declares (a secret "hidden" for a reader, a
 * PLACE field place),
 * and the reply of "T list": every row of rows[0..n), each size bytes.
 */
struct tbl;
void ctl_table_pack_row(msgpack_packer *pk, const struct tbl *t,
    const void *row, int place, bool writer);
int ctl_table_list(struct ctl_req *r, const struct tbl *t, const void *rows,
    int n, size_t size);
/* The reply of a list several tables share ("workaround list"): the rows
 * of each of parts[0..n) in turn, in one array. */
struct ctl_rows {
	const struct tbl *t;
	const void *rows;
	int n;
	size_t size;
};
int ctl_table_list_shared(struct ctl_req *r, const struct ctl_rows *parts,
    int n);
/* The other tables' listings (lists.c). */
int ctl_h_listener_list(struct ctl_req *r);
int ctl_h_domain_list(struct ctl_req *r);
int ctl_h_account_list(struct ctl_req *r);
int ctl_h_account_show(struct ctl_req *r);
int ctl_h_route_list(struct ctl_req *r);
int ctl_h_workaround_list(struct ctl_req *r);
int ctl_h_workaround_test(struct ctl_req *r);
/* "gateway list", "show gateways", "gateway register" and "gateway
 * unregister" (gateway.c). */
int ctl_h_gateway_list(struct ctl_req *r);
int ctl_h_show_gateways(struct ctl_req *r);
int ctl_h_gateway_register(struct ctl_req *r);
int ctl_h_gateway_unregister(struct ctl_req *r);

/*
 * A request frame decoded and checked as sipd checks every request,
 * whatever client sent it (the table is shared, trust is not).
 */
struct ctl_decoded {
	struct proto_msg m;     /* the frame, its id when one was read */
	const struct cmd *cmd;  /* the command, on success */
	struct cmd_args *args;  /* its arguments, on success; owned */
	enum err_code code;     /* on failure: the reply's error code, */
	char err[512];          /* its message, */
	char log[1024];         /* and the log line's text ("" for none) */
};

/*
 * Decode the frame body[0..len) from who (a name for the log) into d:
 * one msgpack request with an id other than 0, a command of the table
 * that is not sipctl's alone (whole words: abbreviations are sipctl's),
 * CF_WRITE only for a writer, every argument known and of its type.
 * Returns 0, or a negative errno or project code with d's code, err and
 * log filled.  ctl_decoded_fini(d) after any return.
 */
int ctl_decode(struct ctl_decoded *d, const char *body, size_t len,
    bool writer, const char *who);
void ctl_decoded_fini(struct ctl_decoded *d);

/* A handler's failure: the message from fmt in r->err, and rc returned
 * (server.c). */
int ctl_fail(struct ctl_req *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The handler of command id (handlers.c). */
ctl_handler *ctl_handler_of(enum cmd_id id);

/* Queue a finished frame on c.  Drops c (later) when its output is over
 * CTL_OUT_MAX.  Returns 0 or -ENOBUFS. */
int ctl_conn_send(struct ctl_conn *c, struct proto_out *o);

/* Start or end c's "log follow" stream. */
void ctl_follow_start(struct ctl_conn *c, uint32_t id);
void ctl_follow_end(struct ctl_conn *c);

/* The live message trace (trace.c): set up and free its event, end c's
 * "trace" stream, the command's handler. */
struct ctl_trace;
int ctl_trace_init(struct ctl *ctl);
void ctl_trace_fini(struct ctl *ctl);
void ctl_trace_end(struct ctl_conn *c);
void ctl_trace_free(struct ctl_trace *t);
int ctl_h_trace(struct ctl_req *r);
/* Whether ss is the address want names, as the filters of "trace" and
 * "show transactions" take it: "192.0.2.1", "192.0.2.1:5060",
 * "2001:db8::1", "[2001:db8::1]:5060". */
bool ctl_addr_is(const struct sockaddr_storage *ss, const char *want);
/* Copy messages into the trace queue while there are tracers or a HEP
 * collector, and only then. */
void ctl_trace_update(struct ctl *ctl);

/* HEP v3 mirroring (hep.c): send to the collector at addr ("" for none)
 * with capture agent id; a new address is connected before the old one
 * is closed.  Returns 0 or a negative errno with a message, the old
 * collector kept.  ctl_hep_send() mirrors one message. */
struct trace_ev;
int ctl_hep_set(struct ctl *ctl, const char *addr, uint32_t id, char *err,
    size_t cap);
void ctl_hep_close(struct ctl *ctl);
void ctl_hep_send(struct ctl *ctl, const struct trace_ev *ev);

/*
 * Apply next (a changed copy of ctl->conf) to the running sipd: log
 * output, workers, log levels, control settings.  On success ctl->conf
 * becomes next.  Returns 0 or a negative errno with a message, nothing
 * changed.
 */
int ctl_conf_apply(struct ctl *ctl, const struct conf *next, char *err,
    size_t cap);

/* Stop sipd once c's output is written (the shutdown command). */
void ctl_shutdown_after(struct ctl_conn *c);

/*
 * The Prometheus endpoint (metrics.c): listen on addr ("192.0.2.1:9100";
 * "" closes it), replacing the endpoint in force only once the new one
 * is bound.  Returns 0, or a negative errno with a message in err[0..cap)
 * and the old endpoint kept.
 */
struct evhttp;
int ctl_metrics_listen(struct ctl *ctl, const char *addr, char *err,
    size_t cap);
void ctl_metrics_close(struct ctl *ctl);

/*
 * The figures of the services the workers share (svcstats.c): call
 * records, message waiting, the media relay; zeros for one not running.
 * ctl_svc_stats() reads them, ctl_svc_pack() packs them as
 * CTL_SVC_STATS_KEYS pairs of "show stats", ctl_svc_metrics() writes
 * them as Prometheus families.
 */
struct ctl_svc_stats {
	struct cdr_stats cdr;
	struct media_stats media;
	unsigned mwi_subs, mwi_implicit;
};
#define CTL_SVC_STATS_KEYS 14
struct evbuffer;
void ctl_svc_stats(struct ctl *ctl, struct ctl_svc_stats *s);
void ctl_svc_pack(msgpack_packer *pk, const struct ctl_svc_stats *s);
void ctl_svc_metrics(struct evbuffer *b, const struct ctl_svc_stats *s);

#endif
