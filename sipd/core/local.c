/*
 * What sipd does for its local domains: the registrar (RFC 3261 10.3,
 * with Digest authentication of RFC 7616), the location service that
 * turns a request for a local user into targets (16.5): its registered
 * devices, its Path, its forwarder followed through local accounts, and
 * the check of credentials the policy (policy.c) asks for.  The accounts
 * come from the configuration's snapshot (sipd/acct), the bindings from
 * the shared registrar (sipd/reg), the challenges and checks from this
 * worker's authentication state (sipd/auth).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipd/core/core_int.h"

/* ------------------------------------------------------- authentication */

static int
ha1_lookup(void *arg, const char *user, const char *realm, enum auth_alg alg,
    char *ha1)
{
	struct core *c = arg;
	struct acct_cred cred;
	enum acct_alg a = alg == AUTH_ALG_SHA256 ? ACCT_SHA256 : ACCT_MD5;

	if (c->acct == NULL ||
	    acct_ha1(c->acct, user, strlen(user), realm, strlen(realm), a,
		&cred) != 0) {
		return -ENOENT;
	}
	snprintf(ha1, AUTH_HEX_SIZE, "%s", cred.ha1);
	return 0;
}

/*
 * Send a response built for req in a server transaction (so
 * retransmissions of req are absorbed), or statelessly when no
 * transaction can be made.  Takes resp.
 */
static void
respond(struct core *c, struct msg *req, const struct tp_src *src,
    struct msg *resp)
{
	struct msg *kept = msg_compact(req);
	struct txn *st = kept ? txn_server_new(c->txn, kept, src, NULL) : NULL;

	if (st == NULL) {
		msg_free(kept);
		core_answer_msg(c, src, req, resp);
		return;
	}
	core_count_out(c, resp);
	txn_server_respond(st, resp);
	msg_free(resp);
}

/*
 * A 401 or 407 with the challenges for realm, sent statelessly: RFC 3261
 * 26.3.2.4 recommends that a server keep no state for a challenge, since
 * a transaction held for Timer H per unauthenticated INVITE lets one host
 * fill the transaction table.  A retransmission gets a fresh challenge,
 * and the ACK of the 401/407 is known by sipd's To tag and absorbed
 * (core.c).  A source over auth-challenge-rate gets nothing: an answer
 * would only feed a flood, or reflect it to a forged source address.
 */
static void
challenge(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, bool stale, bool proxy)
{
	char peer[TP_ADDRSTRLEN];
	struct msg *resp;

	if (!auth_challenge_allowed(c->auth,
		(const struct sockaddr *)&src->addr)) {
		c->stats.auth_limited++;
		log_info(LOG_SERVER, "dropped request from %s (over the "
		    "challenge rate)", core_peer(src, peer, sizeof(peer)));
		return;
	}
	resp = core_response(c, req, proxy ? 407 : 401, NULL);
	if (resp == NULL) {
		return;
	}
	if (auth_challenge_append(c->auth, resp, realm, stale,
		(const struct sockaddr *)&src->addr,
		proxy ? HDR_PROXY_AUTHENTICATE : HDR_WWW_AUTHENTICATE) < 0) {
		msg_free(resp);
		core_answer(c, src, req, 500, NULL, "cannot challenge");
		return;
	}
	core_answer_msg(c, src, req, resp);
}

enum verdict {
	V_OK,       /* authenticated: user filled */
	V_ANSWERED, /* a challenge, 400, 403 or 500 went out */
};

/*
 * Authenticate req for realm with the credentials of id; on anything but
 * success answer it (challenge, 400, 403) and return V_ANSWERED.
 */
static enum verdict
authenticate(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, enum hdr_id id, char *user, size_t cap)
{
	struct auth_result res;
	struct auth_alt alt;
	bool proxy = id == HDR_PROXY_AUTHORIZATION;
	int rc;

	rc = auth_check_alt(c->auth, req, id, NULL,
	    (const struct sockaddr *)&src->addr, realm, ha1_lookup, c,
	    core_wk_auth_alt(c, req, &alt) ? &alt : NULL, &res);
	if (rc < 0) {
		core_answer(c, src, req, 500, NULL, "authentication failed");
		return V_ANSWERED;
	}
	switch (res.status) {
	case AUTH_OK:
		snprintf(user, cap, "%s", res.user);
		return V_OK;
	case AUTH_STALE:
		challenge(c, req, src, realm, true, proxy);
		return V_ANSWERED;
	case AUTH_MALFORMED:
		c->stats.auth_failures++;
		core_answer(c, src, req, 400, res.phrase, "bad credentials");
		return V_ANSWERED;
	case AUTH_BLOCKED:
		c->stats.auth_failures++;
		core_answer(c, src, req, 403, NULL, "too many failures");
		return V_ANSWERED;
	case AUTH_FAILED:
		c->stats.auth_failures++;
		challenge(c, req, src, realm, false, proxy);
		return V_ANSWERED;
	default:
		challenge(c, req, src, realm, false, proxy);
		return V_ANSWERED;
	}
}

int
local_auth(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, char *user, size_t cap)
{
	return authenticate(c, req, src, realm, HDR_AUTHORIZATION, user, cap) ==
		V_OK
	    ? 1
	    : 0;
}

/* ---------------------------------------------------------- the policy */

/* The realm to challenge a relay with: the From domain if it is ours,
 * else the main domain; NULL when there is none. */
static const char *
relay_realm(struct core *c, struct msg *req)
{
	const struct msg_naddr *from = msg_from(req);
	struct acct_target t;

	if (c->acct == NULL || acct_domain_count(c->acct) == 0) {
		return NULL;
	}
	if (from != NULL && from->uri.scheme != URI_OTHER) {
		struct sv h = msg_sv(req, from->uri.host);
		if (acct_resolve(c->acct, "", 0, h.p, h.len, &t) !=
		    ACCT_FOREIGN) {
			return t.domain;
		}
	}
	return core_main_domain(c->acct, c->main_domain);
}

static enum acct_kind resolve_id(struct core *c, const char *base,
    const struct uri *u, struct acct_target *t);

/*
 * Check the sender's Proxy-Authorization for realm (NULL: the relay
 * realm), answering when it does not prove an account.  On success the
 * policy learns who: whether the From, when local, names someone else.
 */
static int
prove(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, struct core_policy_in *in)
{
	char user[AUTH_USER_MAX + 1];
	const struct msg_naddr *from = msg_from(req);
	struct acct_target who, claimed;

	if (in->authenticated) {
		return 1;
	}
	if (realm == NULL) {
		realm = relay_realm(c, req);
	}
	if (realm == NULL) {
		core_answer(c, src, req, 403, "Relaying Denied", "relay denied");
		return 0;
	}
	if (authenticate(c, req, src, realm, HDR_PROXY_AUTHORIZATION, user,
		sizeof(user)) != V_OK) {
		return 0;
	}
	in->authenticated = true;
	snprintf(in->auth_user, sizeof(in->auth_user), "%s@%s", user, realm);
	/* the account the credentials belong to, against the From's */
	if (in->from_local && from != NULL &&
	    resolve_id(c, msg_buf(req), &from->uri, &claimed) != ACCT_FOREIGN) {
		bool same = claimed.user != NULL &&
		    acct_resolve(c->acct, user, strlen(user), realm,
			strlen(realm), &who) != ACCT_UNKNOWN &&
		    who.user != NULL && strcmp(who.user, claimed.user) == 0 &&
		    strcmp(who.domain, claimed.domain) == 0;
		in->from_other_user = !same;
	}
	return 1;
}

int
local_prove(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in)
{
	return prove(c, req, src, NULL, in);
}

/* ----------------------------------------------------------- registrar */

/* The account a URI names, its spans into base. */
static enum acct_kind
resolve_at(struct core *c, const char *base, const struct uri *u,
    struct acct_target *t)
{
	struct sv user = { base + u->user.off, u->user.len };
	struct sv host = { base + u->host.off, u->host.len };
	char dec[ACCT_USER_MAX + 1];
	int n;

	if (c->acct == NULL || (u->scheme != URI_SIP && u->scheme != URI_SIPS)) {
		return ACCT_FOREIGN;
	}
	n = uri_unescape(user, dec, sizeof(dec) - 1);
	if (n < 0) {
		return ACCT_UNKNOWN;
	}
	return acct_resolve(c->acct, dec, (size_t)n, host.p, host.len, t);
}

/*
 * A REGISTER whose answer waits for the registrar's store (reg.h): its
 * server transaction absorbs retransmissions meanwhile.
 */
struct reg_pending {
	struct core *c;
	struct txn *st;
	struct msg *resp; /* NULL: the store failed */
};

/* On the worker's thread: send the answer the store released. */
static void
register_finish(void *arg, bool cancelled)
{
	struct reg_pending *rp = arg;
	struct core *c = rp->c;
	struct msg *resp = rp->resp;

	if (!cancelled) {
		if (resp == NULL) {
			resp = core_response(c, txn_request(rp->st), 500,
			    "Store Failure");
		} else if (core_server_hdr(c, resp) < 0) {
			msg_free(resp);
			resp = NULL;
		}
		if (resp != NULL) {
			/* the transaction lets its request go once answered */
			struct msg *req = msg_status(resp) == 200
			    ? msg_compact(txn_request(rp->st))
			    : NULL;

			log_info(LOG_SERVER, "register: %d", msg_status(resp));
			core_count_out(c, resp);
			txn_server_respond(rp->st, resp);
			if (req != NULL) {
				/* NoSubMWI: the device's implicit subscription */
				core_mwi_registered(c, req);
				msg_free(req);
			}
		}
	}
	msg_free(resp);
	free(rp);
}

/* On the store writer's thread: hand the answer to the worker. */
static void
register_done(void *arg, struct msg *resp)
{
	struct reg_pending *rp = arg;

	rp->resp = resp;
	if (tp_call(rp->c->tp, register_finish, rp) < 0) {
		log_err(LOG_SERVER, "register: answer lost (%s)",
		    strerror(ENOMEM));
		msg_free(resp);
		free(rp);
	}
}

/*
 * The account an address sipd authenticates names (a REGISTER's To, a
 * From the credentials must back): its own, else the one the Router
 * sends it to (the seed: aliases work in these names too).
 */
static enum acct_kind
resolve_id(struct core *c, const char *base, const struct uri *u,
    struct acct_target *t)
{
	enum acct_kind k = resolve_at(c, base, u, t);
	struct acct_target rt;
	enum acct_kind rk;

	if (k == ACCT_LOCAL || k == ACCT_FORWARD || c->nrouter == 0 ||
	    (u->scheme != URI_SIP && u->scheme != URI_SIPS)) {
		return k;
	}
	rk = core_router_account(c, (struct sv){ base + u->user.off,
					u->user.len },
	    (struct sv){ base + u->host.off, u->host.len }, &rt);
	if (rk != ACCT_LOCAL && rk != ACCT_FORWARD) {
		return k;
	}
	*t = rt;
	return rk;
}

/* The canonical account of a To or Request-URI: "user@domain". */
static enum acct_kind
resolve_uri(struct core *c, struct msg *m, const struct uri *u,
    struct acct_target *t)
{
	return resolve_at(c, msg_buf(m), u, t);
}

/* RFC 3261 10.3: REGISTER for a local domain. */
static void
local_register(struct core *c, struct msg *req, const struct tp_src *src)
{
	const struct msg_naddr *to = msg_to(req);
	char user[AUTH_USER_MAX + 1], aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char tag[CORE_TAG_LEN + 1];
	struct acct_target t, who;
	enum acct_kind k;
	struct msg *resp = NULL, *kept;
	struct reg_src rs;
	struct reg_pending *rp = NULL;
	struct txn *st;
	int rc;

	/* step 1: the domain; steps 2 and 3: Require (done by the caller) */
	k = to ? resolve_id(c, msg_buf(req), &to->uri, &t) : ACCT_FOREIGN;
	if (k == ACCT_FOREIGN) {
		core_answer(c, src, req, 404, NULL, "not a local domain");
		return;
	}
	/* step 4: authenticate, the same way for unknown users */
	if (authenticate(c, req, src, t.domain, HDR_AUTHORIZATION, user,
		sizeof(user)) != V_OK) {
		return;
	}
	/* step 5: the authenticated user may change this address only */
	if (k != ACCT_LOCAL && k != ACCT_FORWARD) {
		core_answer(c, src, req, 404, NULL, "unknown user");
		return;
	}
	if (acct_resolve(c->acct, user, strlen(user), t.domain,
		strlen(t.domain), &who) == ACCT_UNKNOWN ||
	    who.user == NULL || strcmp(who.user, t.user) != 0) {
		core_answer(c, src, req, 403, NULL, "not the user's address");
		return;
	}
	snprintf(aor, sizeof(aor), "%s@%s", t.user, t.domain);
	memset(&rs, 0, sizeof(rs));
	rs.addr = src->addr;
	rs.addrlen = src->addrlen;
	rs.proto = src->proto;
	rs.conn_id = src->conn_id;
	/* RFC 3327 5.3: a Path decides where the AOR's calls go; it is
	 * taken only from a client-ip (an edge proxy sipd trusts) */
	rs.path_trusted = core_client_ip(c, &src->addr);
	/* RFC 3581: a client behind a remote NAT is reached where its
	 * packets come from (the NAT's mapping), not at its Contact */
	rs.nat = core_nat_far(c, req, src);
	if (src->listener != NULL) {
		tp_listener_addr(src->listener, &rs.local, NULL);
	}
	core_tag(c, tag);
	/* the answer may wait for the store: the transaction first */
	kept = msg_compact(req);
	st = kept != NULL ? txn_server_new(c->txn, kept, src, NULL) : NULL;
	if (st == NULL) {
		msg_free(kept);
	} else if ((rp = calloc(1, sizeof(*rp))) != NULL) {
		rp->c = c;
		rp->st = st;
	}
	rc = reg_register_async(c->reg, req, aor, &rs, time(NULL),
	    (struct sv){ tag, CORE_TAG_LEN }, rp != NULL ? register_done : NULL,
	    rp, &resp);
	if (rc == REG_PENDING) {
		return;
	}
	free(rp);
	if (rc != 0 || resp == NULL) {
		msg_free(resp);
		resp = core_response(c, req, 500, "registrar failed");
	} else {
		core_server_hdr(c, resp);
	}
	if (resp == NULL) {
		return;
	}
	log_info(LOG_SERVER, "register %s: %d", aor, msg_status(resp));
	rc = msg_status(resp);
	if (st == NULL) {
		respond(c, req, src, resp);
	} else {
		core_count_out(c, resp);
		txn_server_respond(st, resp);
		msg_free(resp);
	}
	if (rc == 200) {
		/* NoSubMWI: the device's implicit subscription */
		core_mwi_registered(c, req);
	}
}

/* -------------------------------------------------------------- location */

static char *
dup_str(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* The first URI of a Path list (RFC 3327): where the request goes. */
static int
path_target(const char *path, struct tp_src *dst, bool *proto_set)
{
	const char *lt = strchr(path, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	struct uri u;

	if (lt == NULL || gt == NULL) {
		return -EINVAL;
	}
	if (uri_parse(path, (struct span){ (uint32_t)(lt + 1 - path),
				(uint32_t)(gt - lt - 1) },
		&u) != 0) {
		return -EINVAL;
	}
	return route_uri_target(path, &u, dst, proto_set);
}

/*
 * Is the binding's Contact directly reachable?  Over UDP, when it names
 * the address the registration came from (only the port may differ: a
 * device that sends from one socket and listens on another, or registers
 * for a third party on the same host), dst is the Contact.  A Contact
 * with another address (the device is behind NAT) or a registration over
 * a connection is reached where the registration came from.
 */
static bool
contact_direct(const struct reg_binding *b, struct tp_src *dst,
    bool *proto_set)
{
	struct tp_src d;
	struct uri u;

	if (b->proto != TP_UDP ||
	    uri_parse(b->contact, (struct span){ 0,
				       (uint32_t)strlen(b->contact) },
		&u) != 0 ||
	    route_uri_target(b->contact, &u, &d, proto_set) != 0 ||
	    d.addr.ss_family != b->addr.ss_family) {
		return false;
	}
	struct sockaddr_storage x = d.addr, y = b->addr;
	tp_addr_set_port((struct sockaddr *)&x, 0);
	tp_addr_set_port((struct sockaddr *)&y, 0);
	if (memcmp(&x, &y, tp_addr_len((struct sockaddr *)&x)) != 0) {
		return false;
	}
	*dst = d;
	return true;
}

/*
 * Targets for a request to a local account: every live binding, its
 * contact the new Request-URI, sent to the Contact when it is directly
 * reachable, else where the registration came from (so a device behind
 * NAT is reached over the flow it opened), or through its Path when the
 * policy lets it.  Returns the number of targets (0: none).
 */
static int
binding_targets(struct core *c, const char *aor, const struct tp_src *src,
    struct core_policy_in *in, struct proxy_target *tg, int max)
{
	struct reg_snap *snap = NULL;
	int n = reg_lookup(c->reg, aor, time(NULL), &snap);
	int k = 0;
	const char *why;

	for (int i = 0; i < n && k < max; i++) {
		const struct reg_binding *b = &snap->b[i];
		struct proxy_target *t = &tg[k];

		memset(t, 0, sizeof(*t));
		t->q = (int16_t)b->q;
		t->nat = b->nat;
		if (b->path != NULL) {
			if (path_target(b->path, &t->dst, &t->proto_set) != 0) {
				continue;
			}
			core_policy_dst(c, NULL, in, CORE_SEND_PATH, &t->dst,
			    false);
		} else {
			if (b->nat ||
			    !contact_direct(b, &t->dst, &t->proto_set)) {
				/* behind NAT, or a flow it keeps open:
				 * where the registration came from (RFC
				 * 5626 5.3: the flow), whatever the Contact
				 * says */
				t->dst.addr = b->addr;
				t->dst.addrlen = b->addrlen;
				t->dst.proto = (enum tp_proto)b->proto;
				t->dst.conn_id = b->conn_id;
				t->dst.listener = core_nat_listener(c, b);
				t->proto_set = true;
			}
			core_policy_dst(c, NULL, in, CORE_SEND_BINDING, &t->dst,
			    false);
		}
		if (core_policy(c, in, src, &t->dst, &why) != CORE_V_ALLOW) {
			continue;
		}
		t->ruri = dup_str(b->contact);
		t->route = b->path ? dup_str(b->path) : NULL;
		t->wk = wk_empty(&c->wk) || b->user_agent == NULL ? 0
		    : wk_lookup(&c->wk, WK_PRODUCT, b->user_agent,
			  strlen(b->user_agent), NULL);
		if (t->ruri == NULL || (b->path != NULL && t->route == NULL)) {
			free(t->ruri);
			free(t->route);
			memset(t, 0, sizeof(*t));
			continue;
		}
		k++;
	}
	reg_snap_free(snap);
	return k;
}

/* How many forwarders a request follows through local accounts before
 * the chain counts as a loop (the Router's limit). */
#define LOCAL_FORWARD_MAX 10

/*
 * The target of a forwarder outside the local domains: judged by the
 * policy as any relay is, then sent with the forwarder as Request-URI.
 * Returns 1, or 0 when req was answered.
 */
static int
forward_target(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, const char *fwd, const struct uri *u,
    struct proxy_target *t)
{
	bool found = route_uri_target(fwd, u, &t->dst, &t->proto_set) == 0;

	core_policy_dst(c, req, in, CORE_SEND_FORWARD, found ? &t->dst : NULL,
	    false);
	if (!core_policy_apply(c, req, src, found ? &t->dst : NULL, in)) {
		return 0;
	}
	if (!found) {
		core_answer(c, src, req, 480, NULL, "forwarder unreachable");
		return 0;
	}
	if (route_uri_local(c, fwd, u)) {
		/* it would come straight back: a loop, not a send */
		core_answer(c, src, req, 482, NULL, "forwarder names sipd");
		return 0;
	}
	t->q = 1000;
	t->route = NULL;
	t->ruri = dup_str(fwd);
	if (t->ruri == NULL) {
		core_answer(c, src, req, 500, NULL, "out of memory");
		return 0;
	}
	return 1;
}

int
local_targets(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in, struct proxy_target *tg, int max)
{
	const struct uri *ruri = msg_ruri(req);
	char aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char fwd[ACCT_URI_MAX + 1];
	const char *realm;
	struct acct_target t;
	enum acct_kind k = resolve_uri(c, req, ruri, &t);
	int n = 0, hops = 0;

	realm = t.domain;
	/* a forwarder: followed while it names a local account, so a
	 * chain ends at a user's devices or outside, and a loop ends */
	while (k == ACCT_FORWARD && hops++ < LOCAL_FORWARD_MAX) {
		struct uri u;
		snprintf(fwd, sizeof(fwd), "%s", t.forward);
		if (uri_parse(fwd, (struct span){ 0, (uint32_t)strlen(fwd) },
			&u) != 0 ||
		    (u.scheme != URI_SIP && u.scheme != URI_SIPS)) {
			k = ACCT_UNKNOWN;
			break;
		}
		struct sv host = { fwd + u.host.off, u.host.len };
		if (!acct_domain_is_local(c->acct, host.p, host.len)) {
			return forward_target(c, req, src, in, fwd, &u, &tg[0]);
		}
		k = resolve_at(c, fwd, &u, &t);
	}
	if (k == ACCT_LOCAL) {
		snprintf(aor, sizeof(aor), "%s@%s", t.user, t.domain);
		n = binding_targets(c, aor, src, in, tg, max);
		if (n > 0) {
			return n;
		}
	}
	/* anti-enumeration: a stranger learns nothing of who exists, is
	 * registered or forwarded before it authenticates */
	if (!in->src_client && prove(c, req, src, realm, in) == 0) {
		return 0;
	}
	if (k == ACCT_FORWARD) {
		core_answer(c, src, req, 482, NULL, "forwarder loop");
	} else if (k == ACCT_LOCAL) {
		core_answer(c, src, req, 480, NULL, "no binding");
	} else {
		core_answer(c, src, req, 404, NULL, "unknown user");
	}
	return 0;
}

/*
 * Is req a REGISTER for sipd (its Request-URI a local domain, or sipd's
 * address with a local domain in To)?  Handles it and returns true.
 */
bool
local_maybe_register(struct core *c, struct msg *req, const struct tp_src *src,
    bool ruri_is_sipd)
{
	const struct uri *ruri = msg_ruri(req);
	struct acct_target t;

	if (msg_method(req) != MSG_REGISTER || c->acct == NULL) {
		return false;
	}
	if (!ruri_is_sipd &&
	    resolve_uri(c, req, ruri, &t) == ACCT_FOREIGN) {
		return false; /* for another registrar: proxied (10.3 step 1) */
	}
	local_register(c, req, src);
	return true;
}

/* Is the Request-URI's host one of sipd's local domains? */
bool
local_domain(struct core *c, struct msg *req)
{
	const struct uri *ruri = msg_ruri(req);
	struct sv h;

	if (c->acct == NULL || ruri == NULL ||
	    (ruri->scheme != URI_SIP && ruri->scheme != URI_SIPS)) {
		return false;
	}
	h = msg_sv(req, ruri->host);
	return acct_domain_is_local(c->acct, h.p, h.len);
}
