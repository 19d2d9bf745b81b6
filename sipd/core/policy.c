/*
 * The policy: whether sipd may send a request where it is about to send
 * it, and why.  Every path that sends a request on (a proxy target, a
 * registered device, its Path, an account's forwarder, a 2xx ACK relayed
 * statelessly, a response relayed by its Via) asks core_policy() first,
 * before any lookup or send, and acts on its verdict: send, challenge the
 * sender (407), or refuse.
 *
 * The rules, in order (sipd.conf(5), "Relay policy"):
 *  1. a request from a non-client whose From names a local domain must
 *     authenticate (set auth-local-from, on by default): such a From is
 *     a claim only an account can back;
 *  2. an authenticated sender must be the From's account when the From
 *     is local;
 *  3. a request in a dialog sipd Record-Routed goes on to the dialog's
 *     remote target (not to a local account or a forwarder: a request
 *     that ends there starts a dialog, whatever Route it carries);
 *  4. a client (client-ip source, or authenticated) may relay anywhere;
 *  5. anyone reaches the local accounts: their registered devices, and
 *     a Path only through a client (the registrar took it from one);
 *  6. to a destination outside the local domains, a non-client goes as
 *     "relay to-non-clients" says: anybody, clients (a client-ip
 *     destination) or nobody.  A route rule naming the request's domain
 *     counts as the administrator's leave; the "*" rule does not.
 * A request for an External Gateway (by the Router, or naming its host
 * or address) goes from clients only, whatever rule 6 says.
 * A request sipd originates itself (a REGISTER to a gateway, a NOTIFY)
 * has no sender to judge: it goes, as the seed's third condition of
 * relaying says, and the log says so like any other decision.
 *
 * A response relayed by its Via is judged before all of these, on one
 * fact: the branch sipd signed for the next Via verifies.
 * Owns the client-ip membership test as well: the policy's one input that
 * is about addresses.
 */
#include <netinet/in.h>
#include <string.h>

#include "sipd/core/core_int.h"

static const char *const kind_names[] = {
	[CORE_SEND_LOCAL] = "local",
	[CORE_SEND_BINDING] = "device",
	[CORE_SEND_PATH] = "path",
	[CORE_SEND_FORWARD] = "forwarder",
	[CORE_SEND_RELAY] = "relay",
	[CORE_SEND_ACK] = "ack",
	[CORE_SEND_OWN] = "own",
	[CORE_SEND_RESPONSE] = "response",
	[CORE_SEND_GATEWAY] = "gateway",
};

/* -------------------------------------------------------------- ranges */

bool
core_client_ip(const struct core *c, const struct sockaddr_storage *ss)
{
	return tp_net_match(c->client_ip, (size_t)c->nclient_ip,
	    (const struct sockaddr *)ss);
}

/* ------------------------------------------------------------ decision */

enum core_verdict
core_policy_decide(const struct core_policy_set *set,
    const struct core_policy_in *in, const char **why)
{
	/* a dialog's requests go to the remote target: a request that
	 * ends at a local account, or goes on to a forwarder, starts one */
	bool dialog = in->in_dialog &&
	    (in->kind == CORE_SEND_RELAY || in->kind == CORE_SEND_ACK ||
		in->kind == CORE_SEND_GATEWAY);

	/* no peer sent it: the administrator configured it */
	if (in->kind == CORE_SEND_OWN) {
		*why = "sipd's own request";
		return CORE_V_ALLOW;
	}
	/* RFC 3261 16.7, 18.2.1: a response no server transaction takes goes
	 * on by the Via below sipd's only when sipd's signature says sipd
	 * sent the request with that Via below its own; whoever sends it,
	 * a client included, the peer's word counts for nothing */
	if (in->kind == CORE_SEND_RESPONSE) {
		switch (in->branch) {
		case CORE_BRANCH_SIGNED:
			*why = "branch signed by sipd for its next Via";
			return CORE_V_ALLOW;
		case CORE_BRANCH_UNSIGNED:
			*why = "no client transaction, branch not signed by "
			       "sipd for its next Via";
			return CORE_V_DENY;
		case CORE_BRANCH_FOREIGN:
			*why = "no client transaction, branch not sipd's";
			return CORE_V_DENY;
		default:
			*why = "no client transaction, top Via not sipd's";
			return CORE_V_DENY;
		}
	}

	/* rule 1: a local From is a claim only an account can back (the
	 * rule of the Kamailio and OpenSIPS default configurations) */
	if (set->auth_local_from && in->from_local && !in->src_client &&
	    !in->authenticated && !dialog) {
		*why = "from a local domain, sender not authenticated";
		return in->kind == CORE_SEND_ACK ? CORE_V_DENY : CORE_V_CHALLENGE;
	}
	/* rule 2 */
	if (in->from_other_user && !in->src_client) {
		*why = "from names another account than the one authenticated";
		return CORE_V_DENY;
	}
	/* rule 3: only a Route entry sipd signed sets in_dialog */
	if (dialog) {
		*why = "in a dialog sipd record-routed";
		return CORE_V_ALLOW;
	}
	switch (in->kind) {
	case CORE_SEND_LOCAL:
	case CORE_SEND_BINDING:
		/* rule 5: a local account is reached by anyone */
		*why = "to a local account";
		return CORE_V_ALLOW;
	case CORE_SEND_GATEWAY:
		/* a gateway is paid for: clients only, whatever "relay
		 * to-non-clients" says; a stranger may prove an account */
		if (in->src_client || in->authenticated) {
			*why = in->src_client ? "to a gateway, sender is a "
						"client-ip"
					      : "to a gateway, sender "
						"authenticated";
			return CORE_V_ALLOW;
		}
		*why = "to a gateway, sender not a client";
		return CORE_V_CHALLENGE;
	case CORE_SEND_PATH:
		/* RFC 3327 5.3: the registrar took the Path from a client;
		 * a first hop that is no longer one is not trusted */
		if (in->dst_client) {
			*why = "to a local account through a client's path";
			return CORE_V_ALLOW;
		}
		*why = "path's first hop is not a client-ip";
		return CORE_V_DENY;
	default:
		break;
	}
	/* rule 4 */
	if (in->src_client) {
		*why = "sender is a client-ip";
		return CORE_V_ALLOW;
	}
	if (in->authenticated) {
		*why = "sender authenticated";
		return CORE_V_ALLOW;
	}
	/* rule 6 */
	if (in->by_rule) {
		*why = "a route rule names the domain";
		return CORE_V_ALLOW;
	}
	switch (set->relay) {
	case CONF_RELAY_ANYBODY:
		*why = "relay to-non-clients anybody";
		return CORE_V_ALLOW;
	case CONF_RELAY_CLIENTS:
		if (in->dst_known && in->dst_client) {
			*why = "destination is a client-ip";
			return CORE_V_ALLOW;
		}
		*why = in->dst_known ? "sender not a client, destination not a "
				       "client-ip"
				     : "sender not a client, no route";
		break;
	default:
		*why = "sender not a client, relay to-non-clients nobody";
		break;
	}
	/* a sender that authenticates becomes a client; an ACK cannot */
	return in->kind == CORE_SEND_ACK ? CORE_V_DENY : CORE_V_CHALLENGE;
}

/* Is the From's host one of the local domains (or an alias of one)? */
static bool
from_local(struct core *c, struct msg *req)
{
	const struct msg_naddr *from = msg_from(req);
	struct sv h;

	if (c->acct == NULL || from == NULL ||
	    (from->uri.scheme != URI_SIP && from->uri.scheme != URI_SIPS)) {
		return false;
	}
	h = msg_sv(req, from->uri.host);
	return acct_domain_is_local(c->acct, h.p, h.len);
}

/* Does a route rule name the Request-URI's domain (not "*")? */
static bool
named_rule(struct core *c, struct msg *req)
{
	const struct uri *ruri = msg_ruri(req);
	struct sv host;

	if (ruri == NULL) {
		return false;
	}
	host = msg_sv(req, ruri->host);
	for (int i = 0; i < c->nroutes; i++) {
		if (strcmp(c->routes[i].domain, "*") != 0 &&
		    sv_caseeq_str(host, c->routes[i].domain)) {
			return true;
		}
	}
	return false;
}

void
core_policy_init(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in)
{
	memset(in, 0, sizeof(*in));
	in->src_client = core_client_ip(c, &src->addr);
	in->from_local = from_local(c, req);
}

void
core_policy_dst(struct core *c, struct msg *req, struct core_policy_in *in,
    enum core_send kind, const struct tp_src *dst, bool by_rule)
{
	/* naming a gateway's host is reaching the gateway */
	if (kind == CORE_SEND_RELAY && core_gw_host(c, req, dst)) {
		kind = CORE_SEND_GATEWAY;
	}
	in->kind = kind;
	in->dst_known = dst != NULL;
	in->dst_client = dst != NULL && core_client_ip(c, &dst->addr);
	in->by_rule = by_rule && named_rule(c, req);
}

/* The source for the log: sipd for its own requests. */
static const char *
sender(const struct tp_src *src, char *buf, size_t cap)
{
	return src != NULL ? core_peer(src, buf, cap) : "sipd";
}

enum core_verdict
core_policy(struct core *c, const struct core_policy_in *in,
    const struct tp_src *src, const struct tp_src *dst, const char **why)
{
	struct core_policy_set set = { .relay = c->relay,
		.auth_local_from = c->auth_local_from };
	char from[TP_ADDRSTRLEN], to[TP_ADDRSTRLEN];
	enum core_verdict v = core_policy_decide(&set, in, why);

	/* one fixed form, documented in sipd.8 for log watchers */
	switch (v) {
	case CORE_V_ALLOW:
		log_debug(LOG_SERVER, "policy, allowed %s src=%s dst=%s (%s)",
		    kind_names[in->kind], sender(src, from, sizeof(from)),
		    dst ? core_peer(dst, to, sizeof(to)) : "-", *why);
		break;
	case CORE_V_CHALLENGE:
		log_info(LOG_SERVER, "policy, challenged %s src=%s dst=%s (%s)",
		    kind_names[in->kind], sender(src, from, sizeof(from)),
		    dst ? core_peer(dst, to, sizeof(to)) : "-", *why);
		break;
	default:
		log_notice(LOG_SERVER, "policy, denied %s src=%s dst=%s (%s)",
		    kind_names[in->kind], sender(src, from, sizeof(from)),
		    dst ? core_peer(dst, to, sizeof(to)) : "-", *why);
		break;
	}
	return v;
}

bool
core_policy_apply(struct core *c, struct msg *req, const struct tp_src *src,
    const struct tp_src *dst, struct core_policy_in *in)
{
	const char *why;
	enum core_verdict v = core_policy(c, in, src, dst, &why);

	if (v == CORE_V_CHALLENGE) {
		/* the sender may prove an account: then it is a client */
		int rc = core_auth_relay(c, req, src, in);
		if (rc <= 0) {
			return false; /* answered: a challenge, 400, 403 */
		}
		v = core_policy(c, in, src, dst, &why);
	}
	if (v == CORE_V_ALLOW) {
		return true;
	}
	if (v == CORE_V_DENY && in->kind != CORE_SEND_ACK &&
	    in->kind != CORE_SEND_RESPONSE) {
		core_answer(c, src, req, 403, NULL, why);
	}
	return false;
}
