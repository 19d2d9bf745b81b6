/*
 * Private to sipd/core: the core, the proxy context of a request being
 * forwarded, and the functions core.c, proxy.c and route.c share.
 */
#ifndef SIPD_CORE_INT_H
#define SIPD_CORE_INT_H

#include <stdbool.h>
#include <string.h>

#include "sipd/acct/acct.h"
#include "sipd/auth/auth.h"
#include "sipd/cdr/cdr.h"
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

/* Which calls get a media relay (media.c; set media-relay...). */
struct core_media_set {
	enum conf_media_relay mode;
	bool lan, nat, family;        /* the conditions that call for one */
	struct tp_net lan_r[CONF_MAX_RANGES]; /* the LAN (lan add) */
	int nlan;
	/* every media-ports range since start, widened (a relay keeps its
	 * ports across a change): an offer naming none of these ports
	 * cannot name a relay of sipd's */
	uint16_t port_lo, port_hi;
};

struct media;

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
	/* the text's length when "sip:" and that text names the listener,
	 * as route_uri_local() judges a Route entry, else 0:
	 * route_own_entry() may take sipd's own Record-Route back by its
	 * bytes */
	uint8_t listener_rr[CONF_MAX_LISTENERS];
	int nlisteners;
	struct core_route routes[CONF_MAX_ROUTES];
	int nroutes;
	struct rtr_record router[RTR_MAX_RECORDS]; /* the Router table */
	int nrouter;
	struct tp_src relay_via; /* "set relay-via", when relay_via_set */
	bool relay_via_set;
	/* ... a host name: resolved by RFC 3263 as the URI "sip:name[:port]"
	 * (its spans into relay_via_text) instead of the request's */
	bool relay_via_name;
	char relay_via_text[CONF_HOST_MAX + 16];
	struct uri relay_via_uri;
	char main_domain[CONF_HOST_MAX]; /* "set main-domain", "" for none */
	struct core_stats stats;
	struct auth *auth;        /* this worker's authentication state */
	struct core_mac *mac;     /* signs Record-Route and branches */
	struct reg *reg;          /* the registrar, shared by the workers */
	struct acct *acct;        /* the accounts snapshot in force */
	enum conf_relay relay;    /* "Relay to Non-Clients" */
	bool auth_local_from;     /* a local From must authenticate */
	struct tp_net client_ip[CONF_MAX_RANGES];
	int nclient_ip;
	/* the nated list: the private ranges first while nated_defaults */
	struct tp_net nated[CONF_MAX_RANGES + 8];
	int nnated;
	bool nated_defaults;
	/* the LAN, and the addresses sipd gives for itself inside it and
	 * outside it ("set lan-address", "set wan-address"; family 0: its
	 * own) */
	struct tp_net lan[CONF_MAX_RANGES];
	int nlan;
	struct sockaddr_storage lan_addr, wan_addr;
	uint32_t nat_keepalive_s; /* "set nat-keepalive", 0: none */
	enum conf_nat_ka nat_ka_method;
	uint32_t nat_ka_drop;     /* unanswered OPTIONS that drop, 0: never */
	time_t nat_next;          /* when the next keep-alives go */
	time_t nat_start;         /* when the round started */
	struct reg_snap *nat_snap; /* the round's bindings, NULL: none */
	size_t nat_pos;           /* the next one to send to */
	/* whether an address is this host's, for wildcard listeners: the
	 * answer costs three syscalls, so it is kept a few seconds */
	struct host_addr_seen {
		struct sockaddr_storage addr;
		uint64_t until_ms;
		bool local;
	} seen[8];
	unsigned seen_next;
	/* Record-Route signatures made lately (rroute.c), NULL: none kept */
	struct core_rr_made *rr_made;
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
	struct cdr *cdr; /* the call table, shared; NULL: none */
	struct core_uac *uacs; /* the requests sipd originated, in flight */
	struct mwi *mwi;       /* message waiting, shared; NULL: none */
	/* the media relay engine, shared by the workers (NULL: none), and
	 * when a call gets a relay */
	struct media *media;
	struct core_media_set media_set;
	struct core_gws *gws;  /* the gateways' registrations (shard 0) */
	/* every worker's copy of the gateways, and what the workers share
	 * of them (nonces, counters, addresses) */
	struct conf_gw gwc[CONF_MAX_GW];
	int ngwc;
	/* the host of each gateway's Via, parsed when configured: len -1
	 * for none (no Via, or one that is no URI) */
	struct core_gw_via {
		char host[CONF_GW_STR + 8];
		int len;
	} gwvia[CONF_MAX_GW];
	struct core_gw_shared *gwsh;
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
	int16_t status;      /* the final status it gave, 0 while pending */
	bool cancel_pending; /* cancel once a provisional arrives (9.1) */
	uint8_t mreq;        /* CORE_MREQ_*: its request, as media.c saw it */
	uint32_t media;      /* its offer's media relays (a group), or 0 */
};

/* What core_media_request() saw of a branch's INVITE or UPDATE, so that
 * core_media_response() need not parse the request the client
 * transaction keeps as bytes (txn_request()) for each 18x and 2xx. */
#define CORE_MREQ_SEEN 0x1 /* the bits below are known */
#define CORE_MREQ_TAG 0x2  /* it had a To tag: inside a dialog */
#define CORE_MREQ_SDP 0x4  /* it carried SDP: no offer in the 2xx */

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
	/* a Router record's choice of a media relay (media.c): RTR_F_MEDIA,
	 * RTR_F_NOMEDIA, or 0 for the settings' */
	unsigned media;
	bool nat;    /* a binding behind a remote NAT: Record-Route */
};

/* A target as the response context keeps it, in less room: it lasts as
 * long as the call rings (pctx_target_get() and _set() convert). */
struct pctx_target {
	struct txn_addr dst;
	bool flow;   /* dst's: a flow (RFC 5626 5.3) */
	bool proto_set;
	bool nat;
	int16_t q;
	unsigned wk;
	unsigned media;
	char *ruri;  /* owned */
	char *route; /* owned */
};

static inline void
pctx_target_set(struct pctx_target *k, const struct proxy_target *t)
{
	if (txn_addr_set(&k->dst, &t->dst) != 0) {
		/* no such address comes from the transports or DNS: one that
		 * did would find no one at family 0 */
		memset(&k->dst, 0, sizeof(k->dst));
	}
	k->flow = t->dst.flow;
	k->proto_set = t->proto_set;
	k->nat = t->nat;
	k->q = t->q;
	k->wk = t->wk;
	k->media = t->media;
	k->ruri = t->ruri;
	k->route = t->route;
}

static inline struct proxy_target *
pctx_target_get(const struct pctx_target *k, struct proxy_target *t)
{
	txn_addr_get(&k->dst, &t->dst);
	t->dst.flow = k->flow;
	t->proto_set = k->proto_set;
	t->nat = k->nat;
	t->q = k->q;
	t->wk = k->wk;
	t->media = k->media;
	t->ruri = k->ruri;
	t->route = k->route;
	return t;
}

struct proxy_dns;

/*
 * The response context of a request being proxied (16.2): the server
 * transaction, its targets and the branches it forked into.  Each
 * transaction that names it as its TU holds a reference.
 */
struct pctx {
	struct core *c;
	struct txn *st;
	struct txn_addr src; /* where the request came from (pctx_src()) */
	uint32_t hash;       /* loop hash, for sipd's branches */
	/* targets, the first one not tried, and the branches started (at
	 * most one a target): at most CORE_MAX_BRANCHES; small fields, as a
	 * ringing call holds this */
	int16_t ntg, next_tg;
	int16_t nbr;
	/* a call through an External Gateway: its index in c->gwc plus one
	 * (0: none), and whether its challenge was answered (gwcall.c) */
	int16_t gw1;
	bool gw_answered;
	bool gw_dialog; /* a request inside a gateway call's dialog */
	/* the request's top Via parsed, alone on its line, which the server
	 * transaction keeps (txn_server_via()): a response whose next Via
	 * line is those bytes has a well-formed Via */
	bool via_ok;
	struct branch *br;   /* in the same allocation, after tg */
	struct msg *best;    /* the best final response so far (16.7) */
	bool final_sent;
	bool cancelled;
	bool cdr; /* an INVITE dialog in the call table: Record-Routed */
	bool listed; /* in the call table for a transport change alone */
	int refs;
	/* its entry's id in the call table (cdr_invite_id()), 0 for none:
	 * the final response names its call by it, neither by its own
	 * Call-ID and From tag nor by the request parsed again.  Held in
	 * the 8 bytes struct branch gave up, as a ringing call keeps this */
	uint64_t cdr_id;
	/* its one target is a host name: the lookup and the targets it gave
	 * (RFC 3263), NULL for an IP literal */
	struct proxy_dns *dns;
	/* its From and To as the dialog's INVITE had them on each side
	 * (Substitute From/To, gwcall.c), NULL when nothing changes */
	struct core_gwd *gwd;
	/* sized to the targets: a ringing call keeps this for its length */
	struct pctx_target tg[];
};

/* Where p's request came from, written to buf, which is returned. */
static inline const struct tp_src *
pctx_src(const struct pctx *p, struct tp_src *buf)
{
	return txn_addr_get(&p->src, buf);
}

/* uac.c: requests sipd originates (RFC 3261 8.1), sent in client
 * transactions of the worker's table. */

/* Credentials for a server, and the last challenge answered with them
 * (kept by the caller across requests: a next request may reuse the
 * nonce with the next nonce count, RFC 7616 3.4.5). */
#define CORE_UAC_STR 256
struct core_uac_auth {
	char user[CORE_UAC_STR];     /* the name authenticated (username=) */
	char password[CORE_UAC_STR];
	bool have;                   /* a challenge below is known */
	bool stale;                  /* the last one said stale=true */
	enum hdr_id hdr;  /* HDR_AUTHORIZATION or HDR_PROXY_AUTHORIZATION */
	enum auth_alg alg;
	bool sess, qop, has_opaque;
	uint32_t nc;                 /* the last nonce count sent */
	char realm[CORE_UAC_STR], nonce[CORE_UAC_STR], opaque[CORE_UAC_STR];
};

/* What to send.  Strings are copied; NULL where optional. */
struct core_uac_req {
	const char *method_name; /* "REGISTER", "NOTIFY"; not INVITE/ACK */
	const char *ruri;        /* the Request-URI */
	const char *dest;        /* a URI to resolve instead (outbound) */
	const char *from;        /* name-addr, without tag */
	const char *from_tag;    /* NULL: a new one of sipd's */
	const char *to;          /* name-addr, with a tag in a dialog */
	const char *callid;      /* NULL: a new one */
	uint32_t cseq;           /* 0: 1 */
	/* the Contact's user part: "<sip:USER@sipd's address toward the
	 * target>" is written (""; no user); NULL: no Contact */
	const char *contact_user;
	const char *headers;     /* more lines, each "Name: value\r\n" */
	const char *ctype;       /* the body's Content-Type */
	const char *body;
	size_t body_len;
	struct core_uac_auth *auth; /* answers 401/407 with it; NULL none */
	bool auth_first;         /* send credentials from auth's last
	                          * challenge with the first request */
};

/* How it ended: status (a local 408 for no answer, 503 for a transport
 * or DNS failure, with why), the response (NULL when local; borrowed),
 * the target tried last (NULL if none), the last CSeq sent and the
 * Contact value sent. */
struct core_uac_result {
	int status;
	struct msg *resp;
	const char *why;
	const struct tp_src *dst;
	uint32_t cseq;
	const char *contact;
};
typedef void core_uac_done_fn(void *arg, const struct core_uac_result *r);
struct core_uac;

/*
 * Send r: resolved by RFC 3263 (r->dest or the Request-URI), allowed by
 * core_policy() as CORE_SEND_OWN, in a client transaction; a challenge is
 * answered from r->auth (once, and again when stale), and a 503, timeout
 * or transport error moves to the next target.  fn(arg) runs once with
 * the final result, from the worker's loop (possibly before this
 * returns; *out is then NULL).  Returns 0 with *out (for
 * core_uac_cancel(); out may be NULL), or a negative errno and fn never
 * runs: -EINVAL (bad arguments, not a SIP URI), -ENOTSUP (INVITE, ACK,
 * CANCEL), -ENOENT/-ENODATA (no such domain, cached), -ENOMEM.
 */
int core_uac_send(struct core *c, const struct core_uac_req *r,
    core_uac_done_fn *fn, void *arg, struct core_uac **out);
/* The caller is no longer interested: fn will not run.  Accepts NULL. */
void core_uac_cancel(struct core_uac *u);
/* Free what is left (the core is going away, after its table). */
void core_uac_fini(struct core *c);
/*
 * Take the first Digest challenge of a 401 or 407 that sipd can answer
 * into a (its nonce count restarts).  0, -ENOTSUP (auth-int only),
 * -ENOENT (none usable), -EINVAL (not a challenge, or too long).
 */
int core_uac_challenge(struct core_uac_auth *a, struct msg *resp);
/*
 * The credentials answering a's challenge for method and uri, with the
 * next nonce count, into out (the value of a->hdr).  Returns the length,
 * -ENOENT (no challenge known), -ENOSPC, -EINVAL (a value that cannot be
 * quoted).
 */
int core_uac_authorize(struct core *c, struct core_uac_auth *a,
    const char *method, const char *uri, char *out, size_t cap);
/* gateway.c: the gateways' registrations, on the first worker. */
struct core_gws;
struct core_gws *core_gws_new(void);
void core_gws_free(struct core *c);
void core_gws_configure(struct core *c, const struct conf *conf);
void core_gws_tick(struct core *c);
/* Shutting down: every registration removed (Expires 0). */
void core_gws_drain(struct core *c);

/* Every transaction event: the UAC's own, else the proxy's. */
extern const struct txn_ops core_txn_ops;

/* core.c */
uint64_t core_random(struct core *c);
void core_tag(struct core *c, char tag[CORE_TAG_LEN + 1]);
/*
 * A To tag for sipd's answer to a request that is not an INVITE: random
 * hex, unsigned (core_own_tag() refuses it), as no ACK and no dialog of
 * sipd's ever names it again.
 */
void core_tag_plain(struct core *c, char tag[CORE_TAG_LEN + 1]);
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
 * Send resp, built for req, in a server transaction, so that
 * retransmissions of req get it again; statelessly when no transaction
 * can be made.  Takes resp.
 */
void core_answer_txn(struct core *c, const struct tp_src *src,
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
/* Hex digits of a signature: SipHash-2-4-128 truncated to 96 bits. */
#define CORE_MAC_HEX 24
/* Bytes of its key. */
#define CORE_MAC_KEY 16
struct core_mac;
/*
 * A signer keyed from secret (the key every worker shares), so that each
 * worker verifies what the others signed.  NULL on failure.
 */
struct core_mac *core_mac_new(const uint8_t *secret, size_t len);
/* A signer with that key itself (for tests: known vectors).  NULL on
 * failure. */
struct core_mac *core_mac_new_key(const uint8_t key[CORE_MAC_KEY]);
/* Accepts NULL. */
void core_mac_free(struct core_mac *m);
/*
 * The signature of the n parts under label (one letter per use, so a
 * signature made for one use never passes for another), CORE_MAC_HEX
 * lower-case hex digits into out, no NUL.  0, or -EIO (more than 8
 * parts).
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
/* Do a and b name the same IP address (any port)?  False for different
 * families; the one such comparison of the core. */
bool route_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);
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
 * A SIP or SIPS URI's transport and host, as both route_uri_local() and
 * route_uri_target() read them, looked at once: the transport parameter
 * found and the host turned into an address one time each, however many
 * of the two questions are asked.
 */
struct route_look {
	bool sips;
	bool tls;            /* sips:, or transport=tls: 5061 by default */
	bool proto_ok;       /* no transport, or one sipd sends on */
	bool proto_set;      /* the URI chose the transport */
	enum tp_proto proto;
	uint16_t port;       /* the URI's, or the transport's default */
	bool addr_ok;        /* the host is an IP literal: in ss */
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Look at u, whose scheme is sip or sips. */
void route_look(const char *base, const struct uri *u, struct route_look *l);
/* Is the URI l looked at sipd's, as route_uri_local() says? */
bool route_look_local(struct core *c, const struct route_look *l);
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
/* The same, with the Request-URI as route_preprocess() looked at it and
 * found it not sipd's (route_ruri_look(); NULL: not looked at), so it is
 * not looked at again. */
int route_target_from(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set, bool *by_rule, const struct route_look *looked);
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
/*
 * route_local_addr() for dst, but from dst->listener when it names one
 * bound to an address (the socket the request leaves from).
 */
int route_local_addr_src(struct core *c, const struct tp_src *dst,
    char *buf, size_t cap);
/* Do a and b come to or leave from listeners bound to different
 * addresses (a LAN side and a WAN side: RFC 5658, two Record-Routes)? */
bool route_two_sides(const struct tp_src *a, const struct tp_src *b);
/* The source address the kernel picks towards dst: 0, or -1. */
int route_source_for(const struct sockaddr_storage *dst,
    struct sockaddr_storage *out);
void route_configure(struct core *c, const struct conf *conf);

/* policy.c */
enum core_verdict {
	CORE_V_ALLOW,     /* send it */
	CORE_V_CHALLENGE, /* only once the sender authenticates (407) */
	CORE_V_DENY,      /* never (403; an ACK is absorbed) */
};

/* Where a request, or a response relayed by Via, is about to go. */
enum core_send {
	CORE_SEND_LOCAL,    /* a local account, before its location lookup */
	CORE_SEND_BINDING,  /* a registered device of a local account */
	CORE_SEND_PATH,     /* the same, through its Path's first hop */
	CORE_SEND_FORWARD,  /* an account's forwarder, outside the domains */
	CORE_SEND_RELAY,    /* a destination outside the local domains */
	CORE_SEND_ACK,      /* a 2xx ACK relayed statelessly: no challenge */
	CORE_SEND_OWN,      /* a request sipd originates (uac.c) */
	CORE_SEND_GATEWAY,  /* an External Gateway: clients only */
	CORE_SEND_RESPONSE, /* a response relayed by its Via (16.7, 18.2.1) */
};

/* What sipd verified of the top Via of a response it is to relay by its
 * next Via (CORE_SEND_RESPONSE). */
enum core_branch {
	CORE_BRANCH_NONE,     /* the top Via is not sipd's */
	CORE_BRANCH_FOREIGN,  /* sipd's, but the branch is not of its shape */
	CORE_BRANCH_UNSIGNED, /* of its shape, not signed for the next Via */
	CORE_BRANCH_SIGNED,   /* the branch sipd signed for the next Via */
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
	/* the account proved, "user@realm", for the call records */
	char auth_user[CDR_FIELD_MAX];
	enum core_branch branch; /* RESPONSE: what its top Via's branch is */
};

/* The settings the policy reads. */
struct core_policy_set {
	enum conf_relay relay;
	bool auth_local_from;
};

/* Is ss in the client-ip list? */
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
/* What core_router() decided beside rewriting the address. */
struct core_router_out {
	bool gateway;     /* a name.sipgw address: gw_name's */
	char gw_name[RTR_ADDR_MAX];
	bool via;         /* "set relay-via" applies: send to dst */
	bool via_name;    /* ... a host name: resolve it (dst: UDP alone) */
	struct tp_src dst;
	unsigned media;   /* RTR_F_MEDIA, RTR_F_NOMEDIA of the records */
};
/* Copy conf's Router records, relay-via and main-domain into c. */
void core_router_configure(struct core *c, const struct conf *conf);
/*
 * Apply the Router table and the SIP routing rules to the address req is
 * for: its first Route entry (sipd's own removed) outside a dialog, else
 * its Request-URI, rewritten in place when they change it; a REGISTER's
 * Request-URI is left alone.  in: the policy's facts about
 * the sender (src_client, authenticated; a NoRelay record may prove the
 * sender).  Returns 0 with *out, or -1 when req was answered (a loop, a
 * challenge).
 */
int core_router(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct core_router_out *out);
/*
 * The account the Router sends user@host to (user as in a URI, escaped):
 * the address through the records for SIP (NoRelay ones skipped) and the
 * SIP routing rules, then the accounts.  What acct_resolve() says of the
 * address it ends at, with *t filled; ACCT_FOREIGN when no record applies
 * or it ends at a gateway or an IP address.  The seed: aliases work in
 * the addresses sipd authenticates (a REGISTER's To, a From the
 * credentials must back).
 */
enum acct_kind core_router_account(struct core *c, struct sv user,
    struct sv host, struct acct_target *t);
/*
 * The External Gateway name takes req (gwcall.c): only from a client
 * (in: the policy's facts; a stranger is challenged), its Request-URI
 * becomes number@Domain, a Route to its Via when it has one, its
 * credentials, From and To as its settings say.  Returns what
 * route_target() returns for the result (0 with *dst, ROUTE_NAME), with
 * *gw1 the gateway's index plus one, or -1 when req was answered (no
 * such gateway: 404).
 */
int core_route_gateway(struct core *c, struct msg *req,
    const struct tp_src *src, const char *name, struct core_policy_in *in,
    struct tp_src *dst, bool *proto_set, int *gw1);
/*
 * A final response >= 300 on branch i of a gateway call: the gateway's
 * own 401 or 407 is answered once with its credentials (the same
 * request, a new branch, in the slot): -1.  A challenge it cannot answer
 * (a second one, no credentials) never reaches the caller: the status to
 * end the branch with locally (403, 500).  Else 0: the proxy goes on
 * with resp (a failed call, counted).
 */
int core_gw_response(struct pctx *p, int i, struct txn *ct,
    struct msg *resp);
/* The copy of a gateway call about to be sent: From and To substituted
 * as the gateway says.  0 or -EINVAL. */
int core_gw_outgoing(struct pctx *p, struct msg *fwd);
/* A response of a gateway call about to go back to the caller: the From
 * and To the caller sent, the To tag kept (Substitute From/To). */
void core_gw_restore(struct pctx *p, struct msg *resp);
/*
 * The dialog of a gateway call with Substitute From or To: the
 * Record-Route parameter CORE_GWD_PARAM says, signed, what the INVITE
 * changed (RFC 3261 12.2.1.1: each side's requests carry the From and
 * To URIs its side of the INVITE had).
 */
#define CORE_GWD_PARAM "gwd"
#define CORE_GWD_URI_MAX 256
#define CORE_GWD_NUM_MAX 64
#define CORE_GWD_PARAM_MAX                                             \
	(CONF_GW_NAME_MAX + 2 * (CORE_GWD_NUM_MAX + 2 * CORE_GWD_URI_MAX) + \
	    CORE_MAC_HEX + 16)
struct core_gwd {
	bool to_gw;      /* from the caller, toward the gateway */
	unsigned what;   /* CORE_GWD_FROM | CORE_GWD_TO: substituted */
	char name[CONF_GW_NAME_MAX];
	char number[CORE_GWD_NUM_MAX];  /* the To's user toward the gateway */
	char from[CORE_GWD_URI_MAX];    /* the caller's From URI */
	char to[CORE_GWD_URI_MAX];      /* the caller's To URI */
};
#define CORE_GWD_FROM 1U
#define CORE_GWD_TO 2U

/* The first signature on sipd's own entries of a request, if any. */
/*
 * A Record-Route signature sipd made and the bytes it signed, in a table
 * of CORE_RR_MADE slots picked by the signature: the ACK and the BYE that
 * bring it back are checked against those bytes instead of signing them
 * again (route_rr_signed()).  A later signature of the same slot takes
 * its place; then the request is signed again, as without the table.
 */
#define CORE_RR_MADE_BITS 8
#define CORE_RR_MADE (1u << CORE_RR_MADE_BITS)
#define CORE_RR_MADE_TEXT 112
struct core_rr_made {
	char sig[CORE_MAC_HEX];
	uint8_t pair[34];
	uint8_t clen, tlen;       /* 0, 0: an empty slot */
	char text[CORE_RR_MADE_TEXT]; /* the Call-ID, then the tag */
};

struct route_seen {
	bool any;
	char sig[CORE_MAC_HEX];
	struct uri entry;    /* that entry's URI, in the request's buffer */
	bool bare;           /* none kept: the entry had no parameter but
				sig (route_own_entry()) */
	bool flow;           /* sipd's Path entry for a NATed client */
	struct tp_src to;    /* its flow */
	/* the Request-URI as it was looked at and found not sipd's, and
	 * where it stood then */
	bool ruri_foreign;
	struct span ruri;
	struct route_look ruri_look;
	/* the signature route_rr_signed() made with the From tag, and what
	 * it signed: route_record_route() on the same request between the
	 * same hops need not make it again */
	bool made;
	uint8_t made_pair[34];
	size_t made_clen, made_tlen;
	char made_callid[256];
	char made_tag[128];
	char made_sig[CORE_MAC_HEX];
};
/*
 * RFC 3261 16.4: take the Route entries naming sipd off the top of req
 * (and put the last entry back as the Request-URI when a strict router
 * put sipd's there), noting in seen the first signature they carried.
 * Returns how many went, or a negative errno (a Route that does not
 * parse).
 */
int route_preprocess(struct core *c, struct msg *req, struct route_seen *seen);
/*
 * Is v, a Route header line's whole value, byte for byte the entry sipd's
 * Record-Route writes for one of its listeners, "<sip:ADDR;lr;sig=HEX>"?
 * Then it is one element, naming sipd, whose signature goes into sig:
 * what the parse and route_uri_local() would find, without them.
 */
bool route_own_entry(const struct core *c, struct sv v,
    char sig[CORE_MAC_HEX]);
/* The gateway dialog parameter (gwcall.c) of the entry whose signature
 * seen holds, copied to out: its length, 0 when there is none. */
size_t route_seen_gwd(struct msg *req, const struct route_seen *seen,
    char out[CORE_GWD_PARAM_MAX]);
/* What route_preprocess() found of req's Request-URI, looking at it and
 * finding it not sipd's, when it is unchanged since; else NULL. */
const struct route_look *route_ruri_look(struct msg *req,
    const struct route_seen *seen);
/* Did sipd sign the entries route_preprocess() took off req, for a
 * request in a dialog from src to dst? */
bool route_rr_signed(struct core *c, struct msg *req,
    struct route_seen *seen, const struct tp_src *src,
    const struct tp_src *dst);
/* 16.6 step 4: sipd's signed Record-Route on fwd, going from in to out
 * (two entries across transports or sides); extra: parameters to add
 * (a gateway dialog's); seen, when not NULL, what route_rr_signed() made
 * for fwd.  0, or a negative errno. */
int route_record_route(struct core *c, struct msg *fwd,
    const struct tp_src *in, const struct tp_src *out, bool no_tp,
    const char *extra, const struct route_seen *seen);

/* Into out (cap bytes): ";gwd=..." for the Record-Route of fwd, the
 * initial INVITE of p's gateway call, when its From or To was
 * substituted; "" otherwise or when it does not fit (logged). */
void core_gwd_rr_param(struct pctx *p, struct msg *fwd, char *out,
    size_t cap);
/* Read val, the CORE_GWD_PARAM value of the signed Route entry req
 * carried, into *d: 0 when sipd signed it for req's dialog (d->to_gw
 * from the caller's tag being req's From tag), else -EINVAL. */
int core_gwd_read(struct core *c, struct msg *req, struct sv val,
    struct core_gwd *d);
/* A request of a gateway call's dialog, with val its CORE_GWD_PARAM:
 * p keeps what to substitute (p->gwd), and toward the gateway p->gw1
 * names it. */
void core_gw_in_dialog(struct pctx *p, struct msg *req, struct sv val);
/* The From and To URIs of m, a request of the dialog d, as the side it
 * goes to saw them in the INVITE.  0 or a negative errno. */
int core_gwd_rewrite(struct core *c, const struct core_gwd *d,
    struct msg *m);
/* The same for ack, an ACK of a gateway call's dialog with val its
 * CORE_GWD_PARAM: 0 (kept as it is when sipd did not sign val), or a
 * negative errno when it cannot be rewritten (dropped). */
int core_gw_ack(struct core *c, struct msg *ack, struct sv val);

/* The gateway (its index plus one, 0: none) an in-dialog request goes
 * to: its next hop names the gateway's host, or dst is an address the
 * gateway was reached at. */
int core_gw_dialog(struct core *c, struct msg *req,
    const struct tp_src *dst);
/* Is req's next hop (its first Route, else its Request-URI) one of the
 * gateways' hosts (domain or Via), or dst one of their addresses? */
bool core_gw_host(struct core *c, struct msg *req, const struct tp_src *dst);

/* The user part of the Contact sipd registers for g: the account's
 * name, "user%25domain" outside the main domain, the gateway's name by
 * default. */
void core_gw_contact_user(const struct conf_gw *g, const char *main_domain,
    char *out, size_t cap);
/*
 * RFC 3261 10: a request to a Contact a gateway registered, from one of
 * the addresses that gateway was reached at, is for the Contact's local
 * account: the Request-URI becomes that account (true).  From anywhere
 * else nothing changes (false).
 */
bool core_gw_inbound(struct core *c, struct msg *req,
    const struct tp_src *src);

/* gateway.c: what the workers share of the gateways, under a lock: the
 * last challenge of each one's REGISTER, its counters, the addresses it
 * was reached at. */
struct core_gw_shared;
/* Credentials for a request to gateway name with its last nonce (the
 * next count) into out; the header's name in *hdr.  0 or -ENOENT. */
int core_gw_shared_authorize(struct core *c, const char *name,
    const char *method, const char *uri, char *out, size_t cap,
    const char **hdr);
void core_gw_shared_count(struct core *c, const char *name, bool failed);
/* Is addr one of the addresses gateway name was reached at? */
bool core_gw_shared_addr(struct core *c, const char *name,
    const struct sockaddr_storage *addr);
/* gwcall.c: c->gwvia from c->gwc, after each change of c->gwc. */
void core_gw_via_parse(struct core *c);
/* Which of the n gateways of gwc was reached at addr: its index plus
 * one (the first of gwc when several were), or 0. */
int core_gw_shared_which(struct core *c, const struct conf_gw *gwc, int n,
    const struct sockaddr_storage *addr);

/* auth_glue.c */
/*
 * Check req's Proxy-Authorization for the relay realm: 1 with
 * in->authenticated (and in->from_other_user) set, or 0 when req was
 * answered (a challenge, 400, 403, 500).
 */
int core_auth_relay(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in);
/*
 * The same for realm (NULL: the relay realm, the From's domain when it
 * is local, else the main domain; a 403 when there is none).
 */
int core_auth_prove(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, struct core_policy_in *in);
/*
 * Authenticate req as a UAS for realm (401, RFC 3261 22.2): 1 with the
 * user name in user, or 0 when req was answered (a challenge, 400, 403).
 */
int core_auth_uas(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, char *user, size_t cap);
/*
 * core_auth_uas() for the realm of t, the account (or unknown user of a
 * local domain) the request is for, as acct_resolve() found it: when the
 * credentials name that account, its HA1 is taken from t.
 */
int core_auth_uas_for(struct core *c, struct msg *req,
    const struct tp_src *src, const struct acct_target *t, char *user,
    size_t cap);

/* location.c */
/*
 * The account an address sipd authenticates names (a REGISTER's To, a
 * From the credentials must back): its own, else the one the Router
 * sends it to.  u's spans are into base.
 */
enum acct_kind core_acct_id(struct core *c, const char *base,
    const struct uri *u, struct acct_target *t);
/*
 * core_acct_id() from what core_acct_uri() said of u already (k, with t
 * filled): the Router's account when u names none of its own.
 */
enum acct_kind core_acct_id_from(struct core *c, const char *base,
    const struct uri *u, enum acct_kind k, struct acct_target *t);
/* The account a URI of m names (a To, a Request-URI): its own. */
enum acct_kind core_acct_uri(struct core *c, struct msg *m,
    const struct uri *u, struct acct_target *t);
/*
 * Targets of a request for a local user, each one passed by the policy
 * (in: the request's facts); 0 when it was answered.
 */
int core_location_targets(struct core *c, struct msg *req,
    const struct tp_src *src, struct core_policy_in *in,
    struct proxy_target *tg, int max);
/* Is the Request-URI's host a local domain? */
bool core_location_domain(struct core *c, struct msg *req);
/*
 * The first URI of a Path list (RFC 3327), where a request for its
 * binding goes: as route_uri_target() for that URI (0 with dst for an
 * IP address, ROUTE_NAME for a host name, which the location service
 * does not resolve), or -EINVAL when path holds no URI in <>.
 */
int core_location_path(const char *path, struct tp_src *dst,
    bool *proto_set);
/*
 * Is the binding's Contact directly reachable?  Over UDP, when it names
 * the address the registration came from (only the port may differ: a
 * device that sends from one socket and listens on another, or registers
 * for a third party on the same host), dst is the Contact.  A Contact
 * with another address (the device is behind NAT) or a registration over
 * a connection is reached where the registration came from: false, dst
 * untouched (*proto_set may have changed).
 */
bool core_location_direct(const struct reg_binding *b, struct tp_src *dst,
    bool *proto_set);

/* registrar.c */
/* A REGISTER for sipd: handled (true), or for another registrar. */
bool core_registrar_request(struct core *c, struct msg *req,
    const struct tp_src *src, bool ruri_is_sipd);

/* mwi.c: sipd the notifier of message-summary (RFC 3842).  A SUBSCRIBE
 * for it (to an account, or to sipd when for_sipd) is handled: true.
 * After a REGISTER sipd answered 200: a NoSubMWI device's implicit
 * subscription and its first NOTIFY. */
bool core_mwi_request(struct core *c, struct msg *req,
    const struct tp_src *src, bool for_sipd);
void core_mwi_registered(struct core *c, struct msg *req);

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

/* The media methods (WK_MEDIARELAY, WK_NOMEDIARELAY) of a request fwd
 * sipd forwards: its caller's product (User-Agent), the callee's
 * (product: a binding's methods), the sites of its Request-URI and top
 * Route. */
unsigned core_wk_media_slow(struct core *c, struct msg *fwd,
    unsigned product);
static inline unsigned
core_wk_media(struct core *c, struct msg *fwd, unsigned product)
{
	return wk_empty(&c->wk) ? 0 : core_wk_media_slow(c, fwd, product);
}

/* nopath.c: Path on a REGISTER forwarded to dst (from src) while sipd
 * stays on the path, or with noPath among wk the Contacts written as
 * sipd's own, signed; 0 or a negative errno.  The registrar's answer
 * with the Contacts restored.  A request for such a Contact: 0 with the
 * Request-URI restored and dst the device, 1 when it is not one,
 * negative when sipd did not sign it. */
int core_path_add(struct core *c, struct msg *fwd, const struct tp_src *src,
    const struct tp_src *dst, unsigned wk);
void core_path_restore(struct core *c, struct msg *resp);
int core_path_request(struct core *c, struct msg *req, struct tp_src *dst,
    bool *proto_set);
/* A Route entry u (in base) that is sipd's Path for a client behind a
 * NAT: 0 with dst its flow (address, transport, listener; over TCP and
 * TLS its connection, dst->flow set: that one or none), 1 when it is
 * not one, negative when sipd did not sign it. */
int core_path_flow(struct core *c, const char *base, const struct uri *u,
    struct tp_src *dst);

/* resp, to p's request, goes back to where it came from; p's request
 * is parsed again only when a workaround may apply. */
static inline void
core_wk_response(struct core *c, struct pctx *p, struct msg *resp)
{
	const struct msg_cseq *cs = msg_cseq(resp);
	struct tp_src src;

	/* by the response's CSeq: the request may be gone (RFC 6026) */
	if (cs != NULL && cs->method == MSG_REGISTER) {
		core_path_restore(c, resp);
	}
	if (!wk_empty(&c->wk)) {
		core_wk_response_slow(c, p->st != NULL ? txn_request(p->st)
							: NULL,
		    resp, pctx_src(p, &src));
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
 * Look up req's next hop (a host name, RFC 3263) for p, or with via the
 * "set relay-via" host name instead.  Returns 0 when
 * the cache answered (resolve_next() has the targets), 1 when the lookup
 * is on its way (it holds a reference to p; proxy_resolved() follows), or
 * a negative errno (resolve_status() says the answer).
 */
int resolve_begin(struct core *c, struct pctx *p, struct msg *req,
    bool via);
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

/* calls.c: the call table's view of the proxy (sipd/cdr) */
/* p forwards req, an initial INVITE from src (in: its policy facts):
 * into the table when it tracks calls, p->cdr set (Record-Route it). */
void calls_invite(struct core *c, struct pctx *p, struct msg *req,
    const struct tp_src *src, const struct core_policy_in *in);
/* A branch of p goes to dst: when sipd Record-Routed an initial INVITE
 * only because the transport changes, the dialog is listed too. */
void calls_routed(struct core *c, struct pctx *p, const struct tp_src *dst);
/* p's final response upstream (resp NULL: made by sipd). */
void calls_final_slow(struct pctx *p, int status, struct msg *resp);
static inline void
calls_final(struct pctx *p, int status, struct msg *resp)
{
	if ((p->cdr || p->listed) && status >= 200) {
		calls_final_slow(p, status, resp);
	}
}
/* req, a request inside a dialog sipd Record-Routed, is forwarded. */
void calls_in_dialog(struct core *c, struct msg *req);
/* media.c */
/* The two endpoints of a call, as sipd knows them. */
struct core_media_in {
	struct sockaddr_storage a, b; /* caller's source, callee's address */
	int a_media;                  /* the family of the caller's SDP */
	bool a_nat, b_nat;            /* behind a remote NAT */
	/* a Router record or a workaround asks for one, or forbids one: why,
	 * or NULL */
	const char *forced, *forbidden;
};
/*
 * Does a call between in's endpoints get a media relay under s?  The
 * answer, and in *why a static string saying why (for the log).  Never
 * with media-relay never, or when in->forbidden says so (which outweighs
 * media-relay always and in->forced); never for two endpoints that reach
 * each other directly (both on the LAN, both outside it, both behind the
 * same NAT) unless media-relay always or in->forced says so.
 */
bool core_media_decide(const struct core_media_set *s,
    const struct core_media_in *in, const char **why);
void core_media_configure(struct core *c, const struct conf *conf);
/*
 * fwd is about to go to target t on a new branch of p: an INVITE offer that
 * needs a relay gets one (its group into *group; *rr: Record-Route, also
 * for an INVITE without SDP whose call will need one),
 * a re-INVITE or UPDATE offer in a relayed dialog is rewritten, a BYE
 * frees the dialog's relays; *mreq gets the CORE_MREQ_* bits of an INVITE
 * or UPDATE (0 for others, and with the relay off).  Returns 0, or
 * -ENOSPC when the port range is exhausted (the branch is refused with
 * 488).
 */
int core_media_request(struct core *c, struct pctx *p,
    const struct proxy_target *t, struct msg *fwd, uint32_t *group,
    bool *rr, uint8_t *mreq);
/* A 2xx ACK relayed statelessly: its SDP (the answer to an offer in the
 * 2xx) completes the dialog's relays and is rewritten. */
void core_media_ack(struct core *c, struct msg *ack);
/* A 2xx or 18x relayed by its Via with no client transaction left (a
 * 2xx retransmitted after Timer M): its SDP is rewritten as the dialog's
 * answer was. */
void core_media_stray(struct core *c, struct msg *resp);
/* A response resp to ct, branch i of p, before it goes upstream: the
 * answer (18x, 2xx) of a relayed offer is rewritten. */
void core_media_response(struct core *c, struct pctx *p, int i,
    struct txn *ct, struct msg *resp);
/* A branch ended without a dialog: its relays (*group) go; 0 after. */
void core_media_end(struct core *c, uint32_t *group);

/* proxy.c */
extern const struct txn_ops proxy_txn_ops;
/* Push sipd's Via on m for dst, its branch signed as the proxy's are
 * (hash: the loop hash part).  0 or a negative errno. */
int proxy_push_via(struct core *c, struct msg *m, const struct tp_src *dst,
    uint32_t hash);
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

/* branch.c */
/*
 * sipd's branch: "z9hG4bKs<shard>.<unique>" from the transaction layer,
 * ".<loop hash>", and ".<signature>" (CORE_MAC_HEX) over all that and the
 * address the Via below it sends responses to.
 */
#define CORE_BRANCH_PREFIX "z9hG4bKs"
/* The longest branch sipd makes: with its loop hash and signature. */
#define CORE_BRANCH_MAX (TXN_BRANCH_MAX + 10 + CORE_MAC_HEX)
#define CORE_BRANCH_LABEL 'B'
/* Split b into the signed part and the signature; false when b is not of
 * sipd's shape. */
bool core_branch_split(struct sv b, struct sv *body, struct sv *sig);
/* The signature of sipd's branch body for m, whose top Via is the one
 * below sipd's.  0 or a negative errno. */
int core_branch_sign(struct core *c, struct msg *m, struct sv body,
    char out[CORE_MAC_HEX]);
/* RFC 3261 18.2.2 / RFC 3581: where a response goes by its top Via: 0
 * with *dst, or -EINVAL (no Via), -EHOSTUNREACH (not an address). */
int core_via_target(struct msg *resp, struct tp_src *dst);
/* Relay resp, which no server transaction takes, by the Via below sipd's
 * when the policy says so (src: where it came from; stray: no client
 * transaction took it either). */
void core_relay_by_via(struct core *c, struct msg *resp,
    const struct tp_src *src, bool stray);
void proxy_relay_response(struct core *c, struct msg *resp,
    const struct tp_src *src);

/* nat.c */
/*
 * Far-end NAT (RFC 3581): is req's sender behind a NAT?  True when the
 * address it writes for itself (the top Via's sent-by, or when that is
 * a name, its first Contact's host) is in the nated list and src's
 * address is not.  Reads req's top Via and Contact; a malformed one, or
 * a host name in both, counts as no NAT.
 */
bool core_nat_far(struct core *c, struct msg *req, const struct tp_src *src);
/* Is ss in the nated list (the defaults, then the entries)? */
bool core_nated(const struct core *c, const struct sockaddr_storage *ss);
/* Copy conf's nated list, LAN and LAN and WAN addresses into c. */
void core_nat_configure(struct core *c, const struct conf *conf);
/* Is ss in the LAN list? */
bool core_nat_lan(const struct core *c, const struct sockaddr_storage *ss);
/*
 * The address sipd gives peer for itself, when one is configured: the
 * LAN address for a peer in the LAN, the WAN address for any other, if
 * set and of the peer's family (a v4-mapped peer counts as IPv4).  True
 * with *out filled (port 0), false to use sipd's own address.
 */
bool core_nat_public(const struct core *c, const struct sockaddr_storage *peer,
    struct sockaddr_storage *out);
/*
 * The address to advertise toward peer (an SDP c= line, a Via host): the
 * configured one of core_nat_public(), else the address the kernel sends
 * from toward peer.  Bare text (IPv6 without brackets) into buf, at
 * least INET6_ADDRSTRLEN bytes.  Returns 0 or -EADDRNOTAVAIL.
 */
int core_nat_advertise(struct core *c, const struct sockaddr_storage *peer,
    char *buf, size_t cap);
/*
 * Does sipd give a and b different addresses for itself (one in the LAN,
 * the other not, with a LAN or WAN address set)?  Then its Record-Route
 * takes two entries, one for each side (RFC 5658).
 */
bool core_nat_two_faces(const struct core *c,
    const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/*
 * Is resp the answer to one of sipd's OPTIONS keep-alives (its branch
 * signed by sipd for the To's AOR and src)?  Then it is counted (the
 * binding is alive) and true is returned: nothing else is to be done with
 * it.  False for any other response.
 */
/* Frees what the keep-alive rounds hold (at core_free()). */
void core_nat_fini(struct core *c);

bool core_nat_ka_response(struct core *c, struct msg *resp,
    const struct tp_src *src);
/*
 * A request whose Request-URI names a NATed client's own address (an
 * in-dialog request to the Contact of a phone behind a NAT, which sipd
 * cannot reach): when the To's AOR has a binding from behind a remote NAT
 * with that host and port, dst becomes where that binding is reached (its
 * source, transport, connection, listener) and true is returned.  look:
 * the Request-URI as route_ruri_look() gives it (NULL: looked at here).
 */
bool core_nat_redirect(struct core *c, struct msg *m, struct tp_src *dst,
    const struct route_look *look);
/*
 * This worker's listener that binding b's REGISTER came to, to send to
 * it from (NULL: the transport's choice).
 */
struct tp_listener *core_nat_listener(struct core *c,
    const struct reg_binding *b);
/* Is ss (any port) the LAN or WAN address? */
bool core_nat_own(const struct core *c, const struct sockaddr_storage *ss);

#endif
