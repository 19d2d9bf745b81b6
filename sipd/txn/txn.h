/*
 * txn: RFC 3261 section 17 transactions, the whole public face of
 * sipd/txn.  Server and client transactions for INVITE and non-INVITE
 * requests, their matching (17.1.3, 17.2.3, with the RFC 2543 fallback),
 * retransmissions over unreliable transports, every timer (A to K, and L
 * and M of RFC 6026), and a live view for monitoring.
 *
 * A struct txn_table belongs to one worker (DESIGN.md, "Threads and
 * ownership") and holds that worker's shard of transactions.  It does no
 * I/O of its own: it sends through the send callback its owner gives, and
 * it reads time only from txn_table_set_now(), so tests drive it with a
 * clock of their own.  Timers live in a timing wheel inside the table;
 * the owner calls txn_table_advance() as time passes.
 *
 * The transaction user (core) is told of events through struct txn_ops.
 * Every callback runs inside a txn_* call; a callback may call back into
 * the table (send a response, create a client transaction) but must not
 * free the transaction it was given (it is freed after terminated()).
 */
#ifndef SIPD_TXN_H
#define SIPD_TXN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipd/msg/msg.h"
#include "sipd/transport/tp.h"

struct txn;
struct txn_table;

enum txn_kind {
	TXN_SERVER,
	TXN_CLIENT,
};

enum txn_state {
	TXN_CALLING,    /* INVITE client: request sent */
	TXN_TRYING,     /* non-INVITE client and server */
	TXN_PROCEEDING, /* a provisional response seen or sent */
	TXN_COMPLETED,  /* a final non-2xx response (or any, non-INVITE) */
	TXN_CONFIRMED,  /* INVITE server: ACK received */
	TXN_ACCEPTED,   /* INVITE, after a 2xx (RFC 6026) */
	TXN_TERMINATED,
};

const char *txn_state_str(enum txn_state s);

/* RFC 3261 timer values and table limits; txn_settings_init() fills the
 * RFC defaults. */
struct txn_settings {
	uint32_t t1_ms;      /* RTT estimate, 500 */
	uint32_t t2_ms;      /* maximum non-INVITE retransmit interval, 4000 */
	uint32_t t4_ms;      /* maximum time a message stays in the net, 5000 */
	uint32_t timer_b_ms; /* INVITE client timeout, 64*T1 = 32000 */
	uint32_t timer_c_ms; /* proxy INVITE timeout once ringing (16.6), 180000 */
	uint32_t max_server; /* concurrent server transactions */
	uint32_t max_client; /* concurrent client transactions */
};

#define TXN_DEFAULT_MAX 100000
/* RFC 3261 17.1.1.1 and table 4; Timer B is 64*T1; Timer C (16.6 step
 * 11) more than 3 minutes */
#define TXN_DEFAULT_T1_MS 500
#define TXN_DEFAULT_T2_MS 4000
#define TXN_DEFAULT_T4_MS 5000
#define TXN_DEFAULT_TIMER_B_MS (64 * TXN_DEFAULT_T1_MS)
#define TXN_DEFAULT_TIMER_C_MS 180000

void txn_settings_init(struct txn_settings *s);

struct txn_ops {
	/*
	 * Send bytes to dst.  Returns 0 or a negative errno; a failure on a
	 * request or response the transaction sends is reported to the TU
	 * through error() (RFC 3261 17.1.4, 17.2.4).
	 */
	int (*send)(void *arg, const struct tp_src *dst, const char *buf,
	    size_t len);
	/*
	 * A response for client transaction ct (provisional or final, after
	 * the state machine has seen it).  resp is borrowed for the call;
	 * the TU may edit it (pop its Via) before forwarding.
	 */
	void (*response)(void *arg, struct txn *ct, struct msg *resp);
	/*
	 * Timer B or F fired: the TU acts as on a 408 (RFC 3261 17.1.1.2);
	 * or Timer C fired on a ringing INVITE (the TU cancels it, 16.8); or
	 * Timer H fired on an INVITE server transaction (no ACK came).
	 */
	void (*timeout)(void *arg, struct txn *t);
	/* A transport error sending for t: the TU acts as on a 503. */
	void (*error)(void *arg, struct txn *t, int err);
	/* t is about to be freed: drop every reference to it. */
	void (*terminated)(void *arg, struct txn *t);
};

/*
 * A table for shard number shard (encoded in every branch it makes).
 * Returns NULL on allocation failure.
 */
struct txn_table *txn_table_new(const struct txn_settings *s,
    const struct txn_ops *ops, void *arg, unsigned shard);
/*
 * Frees every transaction, calling terminated() for each so the TU can
 * release what it keeps, but no other callback.  Accepts NULL.
 */
void txn_table_free(struct txn_table *t);
/*
 * Make n tables (one per worker) share their limits: max_server and
 * max_client then cap the total of live transactions over all of them.
 * Call once, before the tables are used from several threads; free the
 * tables only after every thread has stopped (the first one frees what
 * they share, so free it last).
 */
int txn_table_group(struct txn_table **all, unsigned n);

/* Apply new settings; running transactions keep their timers. */
void txn_table_configure(struct txn_table *t, const struct txn_settings *s);

/* The current time in milliseconds, from any monotonic origin. */
void txn_table_set_now(struct txn_table *t, uint64_t now_ms);
uint64_t txn_table_now(const struct txn_table *t);
/* Set now and fire every timer due by then. */
void txn_table_advance(struct txn_table *t, uint64_t now_ms);
/* Number of armed timers (the owner ticks only while there are some). */
size_t txn_table_timers(const struct txn_table *t);
/*
 * A time (ms, as txn_table_now()) before which no timer is due, at most
 * limit: how long an owner with nothing else to do may sleep.
 */
uint64_t txn_table_next_due(const struct txn_table *t, uint64_t limit);

/*
 * A fresh branch "z9hG4bK" + the shard + a unique part, written with a NUL
 * into buf (at least TXN_BRANCH_MAX bytes).  Returns the length.
 */
#define TXN_BRANCH_MAX 48
size_t txn_branch_new(struct txn_table *t, char *buf);
/* The shard a branch made by txn_branch_new() names, or -1. */
int txn_branch_shard(struct sv branch);

/* --------------------------------------------------------- server side */

/*
 * Offer a received request to the existing server transactions.  Returns
 * true when it matched one and was absorbed (a retransmission answered
 * with the last response, or the ACK of a non-2xx final response); the
 * caller still owns and frees req.  False: no transaction matched (a new
 * request, or an ACK for a 2xx, which the TU relays).
 */
bool txn_server_absorb(struct txn_table *t, struct msg *req,
    const struct tp_src *src);

/*
 * A server transaction for req, received from src.  req is borrowed: the
 * transaction keeps its bytes (edits applied), written from it directly,
 * and the caller goes on with req (to forward it).  tu is the TU's
 * context, kept with the transaction.  Returns NULL with errno EBUSY when
 * the server limit is reached (the caller answers 503), or on allocation
 * failure.  Not for ACK.
 */
struct txn *txn_server_new(struct txn_table *t, struct msg *req,
    const struct tp_src *src, void *tu);

/*
 * Send resp (borrowed) in server transaction st, to the address RFC 3261
 * 18.2.2 and RFC 3581 give (or over the connection the request came on),
 * and move the state machine.  Returns 0, -EINVAL when the state allows no
 * response (already final), or a send error.
 */
int txn_server_respond(struct txn *st, struct msg *resp);
/* The same for a response of status already written as the len bytes at p
 * (borrowed): one sipd built and sends as it is (msg_response_write()). */
int txn_server_respond_bytes(struct txn *st, int status, const char *p,
    size_t len);

/*
 * The value of the top Via line of the request st keeps as bytes: as
 * received, with the received and rport sipd wrote in it, trimmed as a
 * parse trims it; what the next hop's responses carry as their Via once
 * sipd's own is taken off.  len 0 when st keeps no bytes (RFC 2543
 * matching) or the line is folded.
 */
struct sv txn_server_via(const struct txn *st);

/*
 * Where responses to req, received from src, go (RFC 3261 18.2.2, RFC
 * 3581 4): back over the connection, to the source address and port with
 * rport, else to the source address at the sent-by port.  For stateless
 * answers too.
 */
void txn_response_dst(struct msg *req, const struct tp_src *src,
    struct tp_src *out);

/*
 * The INVITE server transaction a CANCEL cancels (RFC 3261 9.2: the same
 * matching as 17.2.3 with the method INVITE), or NULL.
 */
struct txn *txn_server_find_invite(struct txn_table *t, struct msg *cancel,
    const struct tp_src *src);

/* --------------------------------------------------------- client side */

/*
 * A client transaction sending req (taking ownership) to dst.  req's top
 * Via must carry a branch from txn_branch_new().  Returns NULL with *err
 * set (err may be NULL) when the client limit is reached (-EBUSY), on
 * allocation failure, or when the first send fails (the TU then acts as
 * on a 503); req is then still the caller's.
 */
struct txn *txn_client_new(struct txn_table *t, struct msg *req,
    const struct tp_src *dst, void *tu, int *err);

/*
 * The same for a proxy: req is a copy of server transaction st's request
 * with the proxy's edits (16.6), and is kept as what changed against
 * st's, whose bytes it shares: the forwarded INVITE of a ringing call
 * costs its new lines alone.  st NULL (or a transaction without the
 * request's bytes): as txn_client_new().  branch: the branch of req's top
 * Via when the caller has just written it, so that it is not parsed
 * again for the key; len 0: read from req.
 */
struct txn *txn_client_forward(struct txn_table *t, struct txn *st,
    struct msg *req, struct sv branch, const struct tp_src *dst, void *tu,
    int *err);

/*
 * Offer a received response to the client transactions.  Returns true
 * when one matched (branch and CSeq method, 17.1.3); the TU's response()
 * ran.  False: no match; the caller relays it statelessly or drops it.
 * The caller still owns resp.
 */
bool txn_client_absorb(struct txn_table *t, struct msg *resp,
    const struct tp_src *src);

/*
 * A CANCEL for INVITE client transaction ct (RFC 3261 9.1): same
 * Request-URI, Call-ID, From, To, CSeq number and top Via, Route copied.
 * Returns NULL when ct is not an INVITE or on allocation failure.
 */
struct msg *txn_client_cancel_new(struct txn *ct);

/*
 * The transport could not deliver what it had accepted for dst (a failed
 * connect or a broken connection, RFC 3261 17.1.4, 17.2.4): every live
 * transaction sending to that address and transport reports error() and
 * ends.
 */
void txn_transport_error(struct txn_table *t, const struct tp_src *dst,
    int err);

/* ------------------------------------------------------------- access */

/*
 * A peer in less room than struct tp_src, whose sockaddr_storage is 128
 * bytes: the transports give IPv4 and IPv6 addresses.  What a
 * transaction keeps of its peer, and a TU of an address it keeps long.
 */
struct txn_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} addr;
	uint8_t addrlen;
	uint8_t proto;  /* enum tp_proto */
	bool behind;
	struct tp_listener *listener;
	uint64_t conn_id;
	const char *host;
};

/* Keep s in a; -EAFNOSUPPORT for an address that does not fit. */
int txn_addr_set(struct txn_addr *a, const struct tp_src *s);
/* a as a struct tp_src (flow false), written to out, which is
 * returned. */
struct tp_src *txn_addr_get(const struct txn_addr *a, struct tp_src *out);

enum txn_kind txn_kind(const struct txn *t);
enum txn_state txn_state(const struct txn *t);
enum msg_method txn_method(const struct txn *t);
/*
 * The transaction's request.  A transaction keeps only the request's
 * bytes (sent, or received; a server transaction matched by the RFC 2543
 * fields keeps its parse) and parses them again here on first use.
 * Inside a txn_* call (a TU callback) the result lasts until that call
 * returns, so a ringing call holds bytes only; outside one, until the
 * transaction ends.  NULL when that fails, and once the final response
 * has gone through (the request is then dropped).
 */
struct msg *txn_request(const struct txn *t);
/* Where t's request came from (server) or went (client), written to buf,
 * which is returned. */
const struct tp_src *txn_peer(const struct txn *t, struct tp_src *buf);
void *txn_tu(const struct txn *t);
void txn_set_tu(struct txn *t, void *tu);
/* Highest final (or provisional) status sent or received so far, 0 if
 * none. */
int txn_status(const struct txn *t);
uint64_t txn_id(const struct txn *t);

/* A snapshot of one transaction for the live view. */
struct txn_info {
	uint64_t id;
	enum txn_kind kind;
	enum txn_state state;
	char method[16];
	struct tp_src peer;
	char callid[128];
	uint64_t age_ms;
	uint32_t retransmissions;
	int status;
};

/*
 * Call fn for each live transaction of kind, oldest first.  fn returns
 * non-zero to stop.
 */
void txn_foreach(struct txn_table *t, enum txn_kind kind,
    int (*fn)(void *arg, const struct txn_info *info), void *arg);

/*
 * The upper bounds, in ms, of the buckets of the time from a request to
 * its final response (server transactions); the last bucket is +Inf.
 */
#define TXN_FINAL_BOUNDS_MS \
	{ 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 32000 }
#define TXN_FINAL_BUCKETS 13

struct txn_stats {
	uint64_t server_created, client_created;
	/* server transactions by the time to their final response: counts
	 * per bucket (not cumulative), their sum in ms */
	uint64_t final_ms[TXN_FINAL_BUCKETS];
	uint64_t final_sum_ms;
	uint64_t retransmissions;   /* requests or responses we resent */
	uint64_t absorbed;          /* received retransmissions absorbed */
	uint64_t timeouts;
	uint32_t server_live, client_live;
	uint64_t refused;           /* over a limit */
	uint64_t reclaimed;         /* waiting ones ended early at a limit */
};

void txn_table_stats(const struct txn_table *t, struct txn_stats *out);

/*
 * Live transactions of kind still waiting for their final response
 * (Calling, Trying or Proceeding), counted as they change state: what
 * txn_foreach() would find in those states, without the walk.
 */
uint32_t txn_table_pending(const struct txn_table *t, enum txn_kind kind);

#endif
