/*
 * Private to sipd/core: the core, the proxy context of a request being
 * forwarded, and the functions core.c, proxy.c and route.c share.
 */
#ifndef SIPD_CORE_INT_H
#define SIPD_CORE_INT_H

#include <stdbool.h>

#include "sipd/acct/acct.h"
#include "sipd/auth/auth.h"
#include "sipd/core/core.h"
#include "sipd/dns/dns.h"
#include "sipd/log.h"
#include "sipd/reg/reg.h"
#include "sipd/wk/wk.h"

/* Methods sipd handles as a UAS, for Allow (RFC 3261 20.5). */
#define CORE_ALLOW "OPTIONS"
#define CORE_ACCEPT "application/sdp"
/* sipd's To tags: the mark, 10 random hex digits, 12 of a signature */
#define CORE_TAG_LEN 24
#define CORE_TAG_MARK "5d"
#define CORE_TAG_SIG 12
#define CORE_MAX_BRANCHES 8
/* Largest message written: a UDP datagram, or a stream's message. */
#define CORE_OUT_SIZE 65535

/* A static forwarding rule, resolved once when configured. */
struct core_route {
	char domain[CONF_HOST_MAX];
	struct tp_src dst;
	bool proto_set;
};

struct core {
	struct msg_limits limits;
	struct tp *tp;
	struct txn_table *txn;
	unsigned shard;
	uint64_t rand;
	bool draining;
	uint64_t behind_logged_ms; /* when "overloaded" was last logged */
	bool force_rr;
	struct conf_listener listeners[CONF_MAX_LISTENERS];
	/* each listener's "address:port", for Via and Record-Route; empty
	 * for a wildcard address, found per destination */
	char listener_text[CONF_MAX_LISTENERS][TP_ADDRSTRLEN];
	int nlisteners;
	struct core_route routes[CONF_MAX_ROUTES];
	int nroutes;
	struct rtr_record router[RTR_MAX_RECORDS]; /* the Router table */
	int nrouter;
	struct tp_src relay_via; /* "set relay-via", when relay_via_set */
	bool relay_via_set;
	struct core_stats stats;
	struct auth *auth;        /* this worker's authentication state */
	struct core_mac *mac;     /* signs Record-Route and branches */
	struct reg *reg;          /* the registrar, shared by the workers */
	struct acct *acct;        /* the accounts snapshot in force */
	enum conf_relay relay;    /* "Relay to Non-Clients" */
	bool auth_local_from;     /* a local From must authenticate */
	struct conf_range client_ip[CONF_MAX_RANGES];
	int nclient_ip;
	/* whether an address is this host's, for wildcard listeners: the
	 * answer costs three syscalls, so it is kept a few seconds */
	struct host_addr_seen {
		struct sockaddr_storage addr;
		uint64_t until_ms;
		bool local;
	} seen[8];
	unsigned seen_next;
	/* the Server header's value ("set server-header"), "" for none;
	 * never the version unless configured so */
	char server[CONF_SERVER_MAX + 1];
	size_t server_len;
	struct wk wk;             /* the device workarounds */
	/* the worker's resolver (RFC 3263), NULL: names are not routed;
	 * the transports (DNS_TP_BIT) and families it may choose; the
	 * owner's hook around a DNS answer handled outside core_handle() */
	struct dns *dns;
	unsigned dns_tps;
	unsigned dns_families; /* DNS_AF_*, of the listeners */
	void (*loop)(void *arg, bool done);
	void *loop_arg;
};

/* Add the Server header (RFC 3261 20.35) to resp, unless configured
 * off.  Returns 0 or what msg_hdr_append() returns. */
static inline int
core_server_hdr(const struct core *c, struct msg *resp)
{
	if (c->server_len == 0) {
		return 0;
	}
	return msg_hdr_append(resp, "Server",
	    (struct sv){ c->server, c->server_len });
}

/* One forwarding target of a proxied request (16.5). */
struct branch {
	struct txn *ct;      /* its client transaction, NULL once ended */
	struct txn *cancel;  /* the CANCEL's client transaction */
	int status;          /* the final status it gave, 0 while pending */
	bool cancel_pending; /* cancel once a provisional arrives (9.1) */
};

/*
 * A forwarding target (16.5): where the copy goes, and what it changes in
 * it: a new Request-URI (a registered contact) and a Route set to put on
 * top (its Path), both NULL to keep the request's.
 */
struct proxy_target {
	struct tp_src dst;
	bool proto_set;
	int16_t q;   /* thousandths; equal q go in parallel, lower after */
	char *ruri;  /* owned */
	char *route; /* owned */
	unsigned wk; /* workarounds of the target's product (a binding's) */
};

struct proxy_dns;

/*
 * The response context of a request being proxied (16.2): the server
 * transaction, its targets and the branches it forked into.  Each
 * transaction that names it as its TU holds a reference.
 */
struct pctx {
	struct core *c;
	struct txn *st;
	struct tp_src src;   /* where the request came from */
	uint32_t hash;       /* loop hash, for sipd's branches */
	int ntg, next_tg;    /* targets, and the first one not tried */
	int nbr;             /* branches started (at most one a target) */
	struct branch *br;   /* in the same allocation, after tg */
	struct msg *best;    /* the best final response so far (16.7) */
	bool final_sent;
	bool cancelled;
	int refs;
	/* its one target is a host name: the lookup and the targets it gave
	 * (RFC 3263), NULL for an IP literal */
	struct proxy_dns *dns;
	/* sized to the targets: a ringing call keeps this for its length */
	struct proxy_target tg[];
};

/* core.c */
uint64_t core_random(struct core *c);
void core_tag(struct core *c, char tag[CORE_TAG_LEN + 1]);
/* Was tag made by core_tag() (its signature checked)? */
bool core_own_tag(struct core *c, struct sv tag);
const char *core_peer(const struct tp_src *src, char *buf, size_t cap);
int core_send(struct core *c, const struct tp_src *dst, const char *buf,
    size_t len);
int core_send_msg(struct core *c, const struct tp_src *dst, struct msg *m);
/*
 * Answer req statelessly with status (RFC 3261 16.2 allows it for
 * requests refused before a server transaction exists).
 */
void core_answer(struct core *c, const struct tp_src *src, struct msg *req,
    int status, const char *reason, const char *why);
/* A response to req with status, with sipd's To tag and Server header. */
struct msg *core_response(struct core *c, struct msg *req, int status,
    const char *reason);
void core_count_out(struct core *c, struct msg *m);
/* Send resp, built for req, statelessly as core_answer() does.  Takes
 * resp. */
void core_answer_msg(struct core *c, const struct tp_src *src,
    struct msg *req, struct msg *resp);
/*
 * RFC 3261 8.2.2.3 and 16.3 step 5: answer 420 when the request requires
 * an extension (id: HDR_REQUIRE or HDR_PROXY_REQUIRE).  True if it did.
 */
bool core_refuse_extensions(struct core *c, struct msg *req,
    const struct tp_src *src, enum hdr_id id);
/* Answer a request addressed to sipd itself (OPTIONS: 200). */
void core_local_request(struct core *c, struct msg *req,
    const struct tp_src *src);

/* mac.c */
/* Hex digits of a signature: HMAC-SHA256 truncated to 96 bits. */
#define CORE_MAC_HEX 24
struct core_mac;
/*
 * A signer keyed from secret (the key every worker shares), so that each
 * worker verifies what the others signed.  NULL on failure.
 */
struct core_mac *core_mac_new(const uint8_t *secret, size_t len);
/* Accepts NULL. */
void core_mac_free(struct core_mac *m);
/*
 * The signature of the n parts under label (one letter per use, so a
 * signature made for one use never passes for another), CORE_MAC_HEX
 * lower-case hex digits into out, no NUL.  0, or -EIO.
 */
int core_mac_sign(struct core_mac *m, char label, const struct sv *parts,
    int n, char out[CORE_MAC_HEX]);
/* Is given the signature want (hex in any case)?  Constant time. */
bool core_mac_equal(const char want[CORE_MAC_HEX], struct sv given);
/* Is given the signature of the parts under label (hex in any case)? */
bool core_mac_verify(struct core_mac *m, char label, const struct sv *parts,
    int n, struct sv given);

/* route.c */
/* An IP literal (IPv6 with or without brackets) and port into ss;
 * -EINVAL when host is not an address. */
int route_addr(struct sv host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len);
/* Is host:port (as in a URI or Via) one of sipd's listeners? */
bool route_is_local(struct core *c, struct sv host, uint16_t port,
    bool tls);
/*
 * Is dst one of sipd's listeners, so that sending there would loop?
 * Besides a listener's own address: any address of the host for a
 * wildcard listener, an unspecified address (0.0.0.0, ::) on a listener's
 * port, and IPv4 written as IPv6 (::ffff:a.b.c.d).
 */
bool route_dst_local(struct core *c, const struct tp_src *dst);
/* Is this name-addr's URI one of sipd's (a Route entry sipd put)? */
bool route_uri_local(struct core *c, const char *base,
    const struct uri *u);
/*
 * Where req goes: its first Route, a static rule for the Request-URI's
 * domain, or the Request-URI itself.  Returns 0 with dst filled, 1 when
 * req is addressed to sipd itself, ROUTE_NAME when the destination is a
 * host name to resolve (dst has the transport only), or a negative errno
 * (no route).
 */
#define ROUTE_NAME 2
int route_target(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set, bool *by_rule);
/* The destination a SIP URI names: 0 for an IP address, ROUTE_NAME for a
 * host name, or a negative errno. */
int route_uri_target(const char *base, const struct uri *u,
    struct tp_src *dst, bool *proto_set);
/*
 * The address and port sipd puts in Via and Record-Route for proto when
 * talking to towards (a wildcard listener gives the source address the
 * kernel would pick).
 */
int route_local_addr(struct core *c, enum tp_proto proto,
    const struct sockaddr_storage *towards, char *buf, size_t cap);
void route_configure(struct core *c, const struct conf *conf);

/* policy.c */
enum core_verdict {
	CORE_V_ALLOW,     /* send it */
	CORE_V_CHALLENGE, /* only once the sender authenticates (407) */
	CORE_V_DENY,      /* never (403; an ACK is absorbed) */
};

/* Where a request is about to go. */
enum core_send {
	CORE_SEND_LOCAL,   /* a local account, before its location lookup */
	CORE_SEND_BINDING, /* a registered device of a local account */
	CORE_SEND_PATH,    /* the same, through its Path's first hop */
	CORE_SEND_FORWARD, /* an account's forwarder, outside the domains */
	CORE_SEND_RELAY,   /* a destination outside the local domains */
	CORE_SEND_ACK,     /* a 2xx ACK relayed statelessly: no challenge */
};

/* What the policy judges: facts sipd verified, never a peer's claims. */
struct core_policy_in {
	enum core_send kind;
	bool src_client;      /* the source address is a client-ip */
	bool authenticated;   /* the sender proved a local account */
	bool from_other_user; /* ... and the From names another local one */
	bool from_local;      /* the From's host is a local domain */
	bool in_dialog;       /* a Route entry sipd signed was popped
	                       * (counts for RELAY and ACK only) */
	bool by_rule;         /* a route rule names the Request-URI's domain */
	bool dst_known;       /* a destination was found */
	bool dst_client;      /* it is a client-ip */
};

/* The settings the policy reads. */
struct core_policy_set {
	enum conf_relay relay;
	bool auth_local_from;
};

/* Is ss in range r (same family; the prefix's bits compared)? */
bool core_in_range(const struct conf_range *r,
    const struct sockaddr_storage *ss);
/* Is ss in one of the client-ip ranges? */
bool core_client_ip(const struct core *c, const struct sockaddr_storage *ss);
/*
 * The decision alone, from set and in: the verdict, and in *why a static
 * string saying why (for the log, never for the peer).
 */
enum core_verdict core_policy_decide(const struct core_policy_set *set,
    const struct core_policy_in *in, const char **why);
/* in's facts about req from src (client-ip source, local From). */
void core_policy_init(struct core *c, struct msg *req,
    const struct tp_src *src, struct core_policy_in *in);
/* in's facts about where req goes next (dst NULL: no route). */
void core_policy_dst(struct core *c, struct msg *req,
    struct core_policy_in *in, enum core_send kind, const struct tp_src *dst,
    bool by_rule);
/*
 * Every send decision: core_policy_decide() with c's settings, the
 * reason logged (allowed: debug; challenge: low-level; denied: problems).
 */
enum core_verdict core_policy(struct core *c, const struct core_policy_in *in,
    const struct tp_src *src, const struct tp_src *dst, const char **why);
/*
 * core_policy(), acted upon: true when req may go to dst.  Otherwise req
 * was answered (a 407 the sender may answer with credentials, 403) or,
 * an ACK, is to be absorbed.  Credentials are checked once: in remembers
 * them for the request's other targets.
 */
bool core_policy_apply(struct core *c, struct msg *req,
    const struct tp_src *src, const struct tp_src *dst,
    struct core_policy_in *in);

/* router.c */
/* What core_router() decided beside rewriting the Request-URI. */
struct core_router_out {
	bool gateway;     /* a name.sipgw address: gw_name's */
	char gw_name[RTR_ADDR_MAX];
	bool via;         /* "set relay-via" applies: send to dst */
	struct tp_src dst;
};
/* Copy conf's Router records and relay-via into c. */
void core_router_configure(struct core *c, const struct conf *conf);
/*
 * Apply the Router table and the SIP routing rules to req's Request-URI
 * (rewritten in place when they change it).  in: the policy's facts about
 * the sender (src_client, authenticated; a NoRelay record may prove the
 * sender).  Returns 0 with *out, or -1 when req was answered (a loop, a
 * challenge).
 */
int core_router(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct core_router_out *out);
/*
 * The External Gateway name takes req: today a 404 "no gateway NAME",
 * answered to src; the gateways take over here.
 */
void core_route_gateway(struct core *c, struct msg *req,
    const struct tp_src *src, const char *name);

/* local.c */
/*
 * Check req's Proxy-Authorization for the relay realm: 1 with
 * in->authenticated (and in->from_other_user) set, or 0 when req was
 * answered (a challenge, 400, 403, 500).
 */
int local_prove(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in);
/*
 * Targets of a request for a local user, each one passed by the policy
 * (in: the request's facts); 0 when it was answered.
 */
int local_targets(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct proxy_target *tg, int max);
/* A REGISTER for sipd: handled (true), or for another registrar. */
bool local_maybe_register(struct core *c, struct msg *req,
    const struct tp_src *src, bool ruri_is_sipd);
/* Is the Request-URI's host a local domain? */
bool local_domain(struct core *c, struct msg *req);

/* workaround.c: the methods of the device workarounds that apply to a
 * request forwarded to dst (product: those of its registered target),
 * applied to it and to dst (noTCP: UDP); returns them.  And those of the
 * device that sent req, applied to a response relayed to it at dst.  Free
 * when the tables are empty. */
unsigned core_wk_request_slow(struct core *c, struct msg *fwd,
    struct tp_src *dst, unsigned product);
void core_wk_response_slow(struct core *c, struct msg *req, struct msg *resp,
    const struct tp_src *dst);

static inline unsigned
core_wk_request(struct core *c, struct msg *fwd, struct tp_src *dst,
    unsigned product)
{
	return wk_empty(&c->wk) ? 0
				: core_wk_request_slow(c, fwd, dst, product);
}

static inline void
core_wk_response(struct core *c, struct msg *req, struct msg *resp,
    const struct tp_src *dst)
{
	if (!wk_empty(&c->wk)) {
		core_wk_response_slow(c, req, resp, dst);
	}
}

/* The badByeAuth variants (auth_check_alt()) an in-dialog BYE, NOTIFY
 * or REFER from a device with that workaround may use: true with alt
 * filled, else false. */
bool core_wk_auth_alt_slow(struct core *c, struct msg *req,
    struct auth_alt *alt);

static inline bool
core_wk_auth_alt(struct core *c, struct msg *req, struct auth_alt *alt)
{
	return !wk_empty(&c->wk) && core_wk_auth_alt_slow(c, req, alt);
}
/* resolve.c */
/*
 * Look up req's next hop (a host name, RFC 3263) for p.  Returns 0 when
 * the cache answered (resolve_next() has the targets), 1 when the lookup
 * is on its way (it holds a reference to p; proxy_resolved() follows), or
 * a negative errno (resolve_status() says the answer).
 */
int resolve_begin(struct core *c, struct pctx *p, struct msg *req);
/*
 * The first target of m's next hop from the cache alone, nothing sent
 * (a 2xx ACK, relayed statelessly): 0 with dst filled, -EAGAIN when the
 * cache does not hold it, or another negative errno.
 */
int resolve_cached(struct core *c, struct msg *m, struct tp_src *dst);
/* The next target of p's list into t (RFC 3263 4.3); false when none. */
bool resolve_next(struct pctx *p, struct proxy_target *t);
/* The target tried now failed: avoided for a while (dns blacklist). */
void resolve_failed(struct pctx *p);
/* Cancel p's lookup; true when one was on its way (drop its reference). */
bool resolve_cancel(struct pctx *p);
/* Release p's lookup and list.  Accepts a p without. */
void resolve_free(struct pctx *p);
/* The status (and reason) answering a failed lookup. */
int resolve_status(int err, const char **reason);

/* proxy.c */
extern const struct txn_ops proxy_txn_ops;
/*
 * p's lookup ended (err 0: resolve_next() has the targets): forward to
 * the first target, or answer.  Drops the lookup's reference to p.
 */
void proxy_resolved(struct pctx *p, int err);
/*
 * Handle a request to forward or for a local domain.  Returns true when
 * it took req (forwarded it: the first branch sends req itself), false
 * when req is still the caller's.
 */
bool proxy_request(struct core *c, struct msg *req, const struct tp_src *src);
void proxy_cancel(struct core *c, struct msg *req, const struct tp_src *src);
void proxy_relay_ack(struct core *c, struct msg *ack, const struct tp_src *src);
void proxy_relay_response(struct core *c, struct msg *resp,
    const struct tp_src *src);

#endif
