/*
 * The Prometheus endpoint ("metrics listen ADDR:PORT", off by default):
 * an HTTP server (libevent's evhttp) on the main thread's event_base that
 * answers GET /metrics with sipd's counters in the text exposition format
 * 0.0.4.  It owns the evhttp and its socket; the figures are read at each
 * scrape, on each worker's own thread (workers_call()), as "show stats"
 * reads them.  Names follow Prometheus's conventions: sipd_ first, the
 * unit in the name, _total for counters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/reg/reg.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"
#include "sipd/worker.h"

/* A scrape's request is small; its answer takes what it takes. */
#define METRICS_MAX_HEADERS 8192
#define METRICS_TIMEOUT_S 10

#define METRICS_NSTATES (TXN_TERMINATED + 1)

/* One worker's figures, read on its thread. */
struct metrics_one {
	struct core_stats core;
	struct txn_stats txn;
	struct tp_stats tp;
	uint64_t states[2][METRICS_NSTATES]; /* [kind][state] */
};

static int
metrics_state(void *arg, const struct txn_info *info)
{
	struct metrics_one *m = arg;

	if ((unsigned)info->state < METRICS_NSTATES) {
		m->states[info->kind == TXN_CLIENT][info->state]++;
	}
	return 0;
}

static void
metrics_read(struct worker *w, void *arg)
{
	struct metrics_one *m = arg;

	m->core = *core_stats(w->core);
	txn_table_stats(w->txn, &m->txn);
	tp_stats(w->tp, &m->tp);
	txn_foreach(w->txn, TXN_SERVER, metrics_state, m);
	txn_foreach(w->txn, TXN_CLIENT, metrics_state, m);
}

static void metrics_put(struct evbuffer *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
metrics_put(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
}

/* The HELP and TYPE lines of a family. */
static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	metrics_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_one_value(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long long v)
{
	metrics_head(b, name, type, help);
	metrics_put(b, "%s %llu\n", name, v);
}

static void
metrics_methods(struct evbuffer *b, const char *name, const char *help,
    const uint64_t *v)
{
	metrics_head(b, name, "counter", help);
	for (int i = 0; i <= MSG_PUBLISH; i++) {
		metrics_put(b, "%s{method=\"%s\"} %llu\n", name,
		    i == MSG_METHOD_OTHER ? "other"
					  : msg_method_str((enum msg_method)i),
		    (unsigned long long)v[i]);
	}
}

static void
metrics_classes(struct evbuffer *b, const char *name, const char *help,
    const uint64_t *v)
{
	metrics_head(b, name, "counter", help);
	for (int i = 1; i <= 6; i++) {
		metrics_put(b, "%s{class=\"%dxx\"} %llu\n", name, i,
		    (unsigned long long)v[i]);
	}
}

/* The histogram of the time from a request to its final response. */
static void
metrics_final(struct evbuffer *b, const struct txn_stats *t)
{
	static const uint32_t bounds[] = TXN_FINAL_BOUNDS_MS;
	const char *name = "sipd_request_final_response_seconds";
	unsigned long long cum = 0;

	metrics_head(b, name, "histogram", "Time from a request to the final "
	    "response of its server transaction");
	for (size_t i = 0; i < TXN_FINAL_BUCKETS; i++) {
		cum += t->final_ms[i];
		if (i < sizeof(bounds) / sizeof(bounds[0])) {
			metrics_put(b, "%s_bucket{le=\"%u.%03u\"} %llu\n", name,
			    bounds[i] / 1000, bounds[i] % 1000, cum);
		} else {
			metrics_put(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
			    cum);
		}
	}
	metrics_put(b, "%s_sum %llu.%03llu\n", name,
	    (unsigned long long)(t->final_sum_ms / 1000),
	    (unsigned long long)(t->final_sum_ms % 1000));
	metrics_put(b, "%s_count %llu\n", name, cum);
}

/* The whole exposition into b. */
static int
metrics_write(struct ctl *ctl, struct evbuffer *b)
{
	unsigned n = workers_count(ctl->ws);
	struct metrics_one *w, sum;
	struct ctl_svc_stats svc;
	struct reg_stats rs = { 0 };
	struct reg *reg = workers_reg(ctl->ws);

	w = calloc(n, sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < n; i++) {
		workers_call(ctl->ws, i, metrics_read, &w[i]);
		for (int k = 0; k <= MSG_PUBLISH; k++) {
			sum.core.req_in[k] += w[i].core.req_in[k];
			sum.core.req_out[k] += w[i].core.req_out[k];
		}
		for (int k = 0; k < 7; k++) {
			sum.core.resp_in[k] += w[i].core.resp_in[k];
			sum.core.resp_out[k] += w[i].core.resp_out[k];
		}
		sum.core.parse_errors += w[i].core.parse_errors;
		sum.core.handed_off += w[i].core.handed_off;
		sum.core.busy_refused += w[i].core.busy_refused;
		sum.core.relayed_stateless += w[i].core.relayed_stateless;
		sum.core.auth_limited += w[i].core.auth_limited;
		sum.core.auth_failures += w[i].core.auth_failures;
		sum.txn.server_created += w[i].txn.server_created;
		sum.txn.client_created += w[i].txn.client_created;
		sum.txn.retransmissions += w[i].txn.retransmissions;
		sum.txn.absorbed += w[i].txn.absorbed;
		sum.txn.timeouts += w[i].txn.timeouts;
		sum.txn.server_live += w[i].txn.server_live;
		sum.txn.client_live += w[i].txn.client_live;
		sum.txn.refused += w[i].txn.refused;
		sum.txn.reclaimed += w[i].txn.reclaimed;
		for (int k = 0; k < TXN_FINAL_BUCKETS; k++) {
			sum.txn.final_ms[k] += w[i].txn.final_ms[k];
		}
		sum.txn.final_sum_ms += w[i].txn.final_sum_ms;
		sum.tp.conns_in += w[i].tp.conns_in;
		sum.tp.conns_out += w[i].tp.conns_out;
		sum.tp.tls_now[0] += w[i].tp.tls_now[0];
		sum.tp.tls_now[1] += w[i].tp.tls_now[1];
		sum.tp.accepted += w[i].tp.accepted;
		sum.tp.refused += w[i].tp.refused;
		sum.tp.connected += w[i].tp.connected;
		sum.tp.connect_failed += w[i].tp.connect_failed;
		sum.tp.bytes_in += w[i].tp.bytes_in;
		sum.tp.bytes_out += w[i].tp.bytes_out;
		for (int k = 0; k < 2; k++) {
			for (int s = 0; s < METRICS_NSTATES; s++) {
				sum.states[k][s] += w[i].states[k][s];
			}
		}
	}
	if (reg != NULL) {
		reg_get_stats(reg, &rs);
	}

	metrics_one_value(b, "sipd_start_time_seconds", "gauge",
	    "When sipd started, in seconds since the Epoch",
	    (unsigned long long)ctl->started);
	metrics_one_value(b, "sipd_workers", "gauge", "Worker threads", n);
	metrics_methods(b, "sipd_requests_received_total",
	    "SIP requests received, by method", sum.core.req_in);
	metrics_methods(b, "sipd_requests_sent_total",
	    "SIP requests sent, by method", sum.core.req_out);
	metrics_classes(b, "sipd_responses_received_total",
	    "SIP responses received, by class", sum.core.resp_in);
	metrics_classes(b, "sipd_responses_sent_total",
	    "SIP responses sent, by class", sum.core.resp_out);
	metrics_one_value(b, "sipd_parse_errors_total", "counter",
	    "Messages that could not be parsed", sum.core.parse_errors);
	metrics_one_value(b, "sipd_handed_off_total", "counter",
	    "Messages passed to the worker of their shard",
	    sum.core.handed_off);
	metrics_one_value(b, "sipd_busy_refused_total", "counter",
	    "Requests refused 503 while sipd was behind",
	    sum.core.busy_refused);
	metrics_one_value(b, "sipd_relayed_stateless_total", "counter",
	    "Responses relayed by Via and 2xx ACKs, without a transaction",
	    sum.core.relayed_stateless);
	metrics_one_value(b, "sipd_auth_limited_total", "counter",
	    "Requests dropped over auth-challenge-rate",
	    sum.core.auth_limited);
	metrics_one_value(b, "sipd_auth_failures_total", "counter",
	    "Credentials refused: wrong, malformed or from a blocked source",
	    sum.core.auth_failures);

	metrics_head(b, "sipd_transactions", "gauge", "Live transactions");
	metrics_put(b, "sipd_transactions{kind=\"server\"} %llu\n",
	    (unsigned long long)sum.txn.server_live);
	metrics_put(b, "sipd_transactions{kind=\"client\"} %llu\n",
	    (unsigned long long)sum.txn.client_live);
	metrics_head(b, "sipd_transactions_by_state", "gauge",
	    "Live transactions by kind and state");
	for (int k = 0; k < 2; k++) {
		for (int s = 0; s < METRICS_NSTATES; s++) {
			metrics_put(b, "sipd_transactions_by_state{kind=\"%s\","
			    "state=\"%s\"} %llu\n", k ? "client" : "server",
			    txn_state_str((enum txn_state)s),
			    (unsigned long long)sum.states[k][s]);
		}
	}
	metrics_head(b, "sipd_transactions_created_total", "counter",
	    "Transactions created");
	metrics_put(b, "sipd_transactions_created_total{kind=\"server\"} "
	    "%llu\n", (unsigned long long)sum.txn.server_created);
	metrics_put(b, "sipd_transactions_created_total{kind=\"client\"} "
	    "%llu\n", (unsigned long long)sum.txn.client_created);
	metrics_one_value(b, "sipd_retransmissions_total", "counter",
	    "Requests and responses sent again", sum.txn.retransmissions);
	metrics_one_value(b, "sipd_retransmissions_absorbed_total", "counter",
	    "Retransmissions received and absorbed", sum.txn.absorbed);
	metrics_one_value(b, "sipd_transaction_timeouts_total", "counter",
	    "Transactions ended by a timer", sum.txn.timeouts);
	metrics_one_value(b, "sipd_transactions_refused_total", "counter",
	    "Transactions refused over a limit", sum.txn.refused);
	metrics_one_value(b, "sipd_transactions_reclaimed_total", "counter",
	    "Waiting transactions ended early at a limit",
	    sum.txn.reclaimed);
	metrics_final(b, &sum.txn);

	metrics_head(b, "sipd_connections", "gauge",
	    "Open TCP and TLS connections");
	for (int d = 0; d < 2; d++) {
		uint64_t all = d == 0 ? sum.tp.conns_in : sum.tp.conns_out;
		const char *dir = d == 0 ? "in" : "out";

		metrics_put(b, "sipd_connections{transport=\"tcp\","
		    "direction=\"%s\"} %llu\n", dir,
		    (unsigned long long)(all - sum.tp.tls_now[d]));
		metrics_put(b, "sipd_connections{transport=\"tls\","
		    "direction=\"%s\"} %llu\n", dir,
		    (unsigned long long)sum.tp.tls_now[d]);
	}
	metrics_one_value(b, "sipd_connections_accepted_total", "counter",
	    "Inbound TCP and TLS connections accepted", sum.tp.accepted);
	metrics_one_value(b, "sipd_connections_refused_total", "counter",
	    "Inbound connections refused over input-channels or "
	    "source-channels", sum.tp.refused);
	metrics_one_value(b, "sipd_connections_opened_total", "counter",
	    "Outbound TCP and TLS connections opened", sum.tp.connected);
	metrics_one_value(b, "sipd_connections_failed_total", "counter",
	    "Outbound connects or handshakes that failed",
	    sum.tp.connect_failed);
	metrics_one_value(b, "sipd_received_bytes_total", "counter",
	    "SIP bytes received", sum.tp.bytes_in);
	metrics_one_value(b, "sipd_sent_bytes_total", "counter",
	    "SIP bytes sent", sum.tp.bytes_out);

	metrics_one_value(b, "sipd_registrations", "gauge",
	    "Registered contacts (bindings)", rs.bindings);
	metrics_one_value(b, "sipd_registered_aors", "gauge",
	    "Addresses-of-record with a binding", rs.aors);
	metrics_one_value(b, "sipd_register_requests_total", "counter",
	    "REGISTER requests the registrar processed (once "
	    "authenticated)", rs.registers);
	metrics_one_value(b, "sipd_register_refused_total", "counter",
	    "REGISTER requests not answered 200", rs.refused);
	metrics_one_value(b, "sipd_registration_store_errors_total", "counter",
	    "Registration store errors", rs.store_errors);

	metrics_head(b, "sipd_worker_requests_received_total", "counter",
	    "SIP requests received, by worker");
	for (unsigned i = 0; i < n; i++) {
		unsigned long long r = 0;

		for (int k = 0; k <= MSG_PUBLISH; k++) {
			r += w[i].core.req_in[k];
		}
		metrics_put(b, "sipd_worker_requests_received_total{worker="
		    "\"%u\"} %llu\n", i, r);
	}
	metrics_head(b, "sipd_worker_transactions", "gauge",
	    "Live transactions, by worker");
	for (unsigned i = 0; i < n; i++) {
		metrics_put(b, "sipd_worker_transactions{worker=\"%u\"} %llu\n",
		    i, (unsigned long long)w[i].txn.server_live +
			w[i].txn.client_live);
	}
	metrics_one_value(b, "sipd_control_connections", "gauge",
	    "Open control socket connections", ctl->nconns);
	ctl_svc_stats(ctl, &svc);
	ctl_svc_metrics(b, &svc);
	free(w);
	return 0;
}

static void
metrics_on_request(struct evhttp_request *req, void *arg)
{
	struct ctl *ctl = arg;
	const char *path;
	struct evbuffer *b;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	b = evbuffer_new();
	if (b == NULL || metrics_write(ctl, b) < 0) {
		evbuffer_free(b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

void
ctl_metrics_close(struct ctl *ctl)
{
	if (ctl->metrics != NULL) {
		evhttp_free(ctl->metrics);
		ctl->metrics = NULL;
		log_warn(LOG_TRANSPORT, "metrics, closed %s", ctl->metrics_at);
		ctl->metrics_at[0] = '\0';
	}
}

int
ctl_metrics_listen(struct ctl *ctl, const char *addr, char *err, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	struct evhttp *http;
	uint16_t port;

	if (strcmp(addr, ctl->metrics_at) == 0) {
		return 0;
	}
	if (addr[0] == '\0') {
		ctl_metrics_close(ctl);
		return 0;
	}
	if (conf_proc_hostport(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, cap, "bad metrics address '%s'", addr);
		return -EINVAL;
	}
	http = evhttp_new(ctl->base);
	if (http == NULL) {
		snprintf(err, cap, "metrics: out of memory");
		return -ENOMEM;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_timeout(http, METRICS_TIMEOUT_S);
	evhttp_set_gencb(http, metrics_on_request, ctl);
	if (evhttp_bind_socket(http, host, port) < 0) {
		snprintf(err, cap, "cannot listen for metrics on %s (%s)", addr,
		    strerror(errno));
		evhttp_free(http);
		return -EADDRINUSE;
	}
	ctl_metrics_close(ctl);
	ctl->metrics = http;
	snprintf(ctl->metrics_at, sizeof(ctl->metrics_at), "%s", addr);
	log_warn(LOG_TRANSPORT, "metrics, listening on http://%s/metrics",
	    addr);
	return 0;
}
