/*
 * core: what sipd does with a message, the whole public face of
 * sipd/core.  sipd is a transaction-stateful proxy (RFC 3261 16): a
 * request not addressed to sipd is checked (16.3), its Route set
 * processed (16.4), its target chosen by core_route() and it is
 * forwarded in a client transaction (16.6); responses come back through
 * the client transaction and the best one goes upstream (16.7); CANCEL is
 * answered and propagated (16.10).  A response no client transaction
 * knows is relayed statelessly by its Via, and an ACK no server
 * transaction knows (the ACK of a 2xx) by its Route set and Request-URI.
 * Requests addressed to sipd itself are answered here: OPTIONS with 200.
 *
 * A struct core belongs to one worker: it is that worker's transaction
 * user, owns its transaction table and keeps no global state.
 */
#ifndef SIPD_CORE_H
#define SIPD_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sipd/conf.h"
#include "sipd/msg/msg.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"

struct core;

/* Counters of one core, read on its worker's thread. */
struct core_stats {
	uint64_t req_in[MSG_PUBLISH + 1]; /* by enum msg_method */
	uint64_t req_out[MSG_PUBLISH + 1];
	uint64_t resp_in[7];              /* by status class, 1..6 */
	uint64_t resp_out[7];
	uint64_t parse_errors;
	uint64_t handed_off;              /* messages passed to another shard */
	uint64_t busy_refused;            /* refused as sipd was behind: the
	                                   * shard's inbox full, or the UDP
	                                   * socket's buffer 90% full */
	uint64_t relayed_stateless;       /* responses by Via, 2xx ACKs */
	uint64_t auth_limited;            /* dropped over auth-challenge-rate */
	uint64_t auth_failures;           /* credentials refused: a wrong
	                                   * digest, malformed, or blocked */
};

struct reg;
struct auth;

/*
 * A core for shard number shard, sending through tp, configured from c,
 * with the registrar reg (shared by the workers; may be NULL), the key
 * secret (CORE_SECRET_LEN bytes, the same for every worker so each
 * accepts the others' nonces and signatures: the nonce key, and the
 * Record-Route and branch key derived from it) and the authentication
 * tables auth_state (shared by the workers, so a nonce count or a
 * source's failures are one whatever worker a request lands on; not
 * taken; NULL: the core's own).  Returns NULL on allocation failure.
 */
#define CORE_SECRET_LEN 32
struct auth_state;
struct core *core_new(const struct conf *c, struct tp *tp, unsigned shard,
    struct reg *reg, const uint8_t secret[CORE_SECRET_LEN],
    struct auth_state *auth_state);

struct dns;
/*
 * The resolver that turns a destination's host name into addresses (RFC
 * 3263): the worker's, not taken, freed after the core.  loop(arg, false)
 * runs before and loop(arg, true) after the work the core does outside
 * core_handle() (a DNS answer that sends a held request), so that the
 * owner sets the transactions' clock and arms its tick.  Without a
 * resolver a name is not routed (404).
 */
void core_set_dns(struct core *c, struct dns *d,
    void (*loop)(void *arg, bool done), void *arg);

struct cdr;
/* The call table (sipd/cdr), shared by the workers; not taken. */
void core_set_cdr(struct core *c, struct cdr *d);
struct media;
/* The media relay engine the core's calls use (shared by the workers,
 * not taken; NULL: calls are never relayed). */
void core_set_media(struct core *c, struct media *m);

/* This worker's authentication state (failed-attempt blocks). */
struct auth *core_auth(struct core *c);

/* Frees the core and its transaction table.  Accepts NULL. */
void core_free(struct core *c);

/* Apply a changed configuration (settings only; listeners are the
 * worker's). */
void core_configure(struct core *c, const struct conf *conf);

/* The parsing limits in force. */
const struct msg_limits *core_limits(const struct core *c);

/* The core's transaction table. */
struct txn_table *core_txn(struct core *c);

const struct core_stats *core_stats(const struct core *c);
void core_count_handoff(struct core *c);
/*
 * sipd is behind (m's shard has its inbox full, or m came from a UDP
 * socket whose buffer is 90% full): m (borrowed), received from src, is
 * answered 503 with Retry-After when it is a request other than ACK, and
 * dropped otherwise; counted in busy_refused, logged once a second.
 */
void core_refuse_busy(struct core *c, struct msg *m,
    const struct tp_src *src);

/* From now on refuse new requests with 503 (a graceful stop). */
void core_drain(struct core *c);

/*
 * Parse data[0..len) received from src.  Returns the message, or NULL
 * when it is a keep-alive or cannot be parsed (logged and counted here).
 */
struct msg *core_parse(struct core *c, const struct tp_src *src,
    const char *data, size_t len, struct msg_err *err);

/*
 * Handle a parsed message received from src; takes ownership of m.  Never
 * fails: bad input is answered or logged, not returned.
 */
void core_handle(struct core *c, struct msg *m, const struct tp_src *src);

struct mwi;
/* The message-waiting state the workers share (not taken; NULL: sipd
 * is no notifier). */
void core_set_mwi(struct core *c, struct mwi *m);
/* The counts of aor ("user@domain") changed: NOTIFY every live
 * subscription of it, explicit or implicit, from this core. */
void core_mwi_changed(struct core *c, const char *aor);
/* End the subscriptions expired by now, each with a last NOTIFY; from
 * one worker's tick, once a second. */
void core_mwi_expire(struct core *c);

/*
 * The main domain ("set main-domain", given as main; "" for none set):
 * the name of the local domain main names (its name or an alias), else
 * the first local domain in name order, NULL when there is none.  Used by
 * the Router's "<name>" records and as the realm of relay challenges.
 * Lives in a's snapshot.
 */
const char *core_main_domain(const struct acct *a, const char *main);

/*
 * The ranges that head the nated list while "set nated-defaults" is on,
 * NULL-terminated: RFC 1918, RFC 6598 (shared address space) and the
 * RFC 4193 local addresses in use (fd00::/8).
 */
extern const char *const core_nat_defaults[];

/*
 * Send the keep-alives that are due (RFC 5626 4.4.1 sends them from the
 * client; a NAT's mapping stays open when either side talks): a CRLF
 * CRLF datagram to every UDP binding registered from behind a remote
 * NAT, every "set nat-keepalive" seconds, spread over the interval.
 * Call it about once a second from one worker.
 */
void core_nat_tick(struct core *c, time_t now);

/* What the workers share of the gateways: one for the process, made
 * before the workers and freed after them; each core is given it. */
struct core_gw_shared;
struct core_gw_shared *core_gw_shared_new(void);
void core_gw_shared_free(struct core_gw_shared *sh);
void core_set_gw_shared(struct core *c, struct core_gw_shared *sh);

/* Work done on the worker's tick (about once a second or more often):
 * the gateways' registrations. */
void core_tick(struct core *c);

/* The External Gateways' state (core/gateway.c, the first worker's). */
struct core_gw_info {
	const char *name;
	const char *state;       /* unregistered, registering, registered,
	                          * failed, backing-off, unregistering */
	int64_t until;           /* registered or backing off until (Unix
	                          * seconds), 0 */
	int last_status;         /* the last REGISTER's, 0 none */
	const char *last_reason; /* its reason phrase, or why it failed */
	int64_t nonce_age;       /* seconds, -1: no nonce */
	uint64_t calls, calls_failed;
	const char *target;      /* "udp 192.0.2.1:5060", "" */
	uint32_t expires;        /* the interval asked */
	uint32_t cseq;
};
void core_gw_foreach(struct core *c,
    void (*fn)(void *arg, const struct core_gw_info *gi), void *arg);
/* "gateway register" (on) or "gateway unregister" NAME: 0, -ENOENT,
 * -EINVAL (no username). */
int core_gw_register(struct core *c, const char *name, bool on);

#endif
