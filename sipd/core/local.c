/*
 * What sipd does for its local domains and who may use it: the registrar
 * (RFC 3261 10.3, with Digest authentication of RFC 7616), the location
 * service that turns a request for a local user into targets (16.5), and
 * the relay policy that decides whether a request may go to a destination
 * that is not local.  The accounts come from the configuration's snapshot
 * (sipd/acct), the bindings from the shared registrar (sipd/reg), the
 * challenges and checks from this worker's authentication state
 * (sipd/auth).
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
	bool proxy = id == HDR_PROXY_AUTHORIZATION;
	int rc;

	rc = auth_check(c->auth, req, id, NULL,
	    (const struct sockaddr *)&src->addr, realm, ha1_lookup, c, &res);
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
		core_answer(c, src, req, 400, res.phrase, "bad credentials");
		return V_ANSWERED;
	case AUTH_BLOCKED:
		core_answer(c, src, req, 403, NULL, "too many failures");
		return V_ANSWERED;
	default:
		challenge(c, req, src, realm, false, proxy);
		return V_ANSWERED;
	}
}

/* -------------------------------------------------------------- ranges */

static bool
in_range(const struct conf_range *r, const struct sockaddr_storage *ss)
{
	const uint8_t *a, *b;
	size_t len;

	if (r->addr.ss_family != ss->ss_family) {
		return false;
	}
	if (ss->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)
				ss)->sin_addr;
		b = (const uint8_t *)&((const struct sockaddr_in *)(const void *)
				&r->addr)->sin_addr;
		len = 4;
	} else {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)
				ss)->sin6_addr;
		b = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)
				&r->addr)->sin6_addr;
		len = 16;
	}
	unsigned bits = r->prefix;
	for (size_t i = 0; i < len && bits > 0; i++) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((a[i] & mask) != (b[i] & mask)) {
			return false;
		}
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

static bool
client_ip(const struct core *c, const struct sockaddr_storage *ss)
{
	for (int i = 0; i < c->nclient_ip; i++) {
		if (in_range(&c->client_ip[i], ss)) {
			return true;
		}
	}
	return false;
}

/* The realm to challenge a relay with: the From domain if it is ours,
 * else the first local domain; NULL when there is none. */
static const char *
relay_realm(struct core *c, struct msg *req)
{
	const struct msg_naddr *from = msg_from(req);
	struct acct_target t;
	struct acct_domain_info info;

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
	acct_domain_get(c->acct, 0, &info);
	return info.name;
}

/*
 * The relay policy ("Relay to Non-Clients"): may req, from src, go to
 * dst, which is not local?  Answers it (a challenge, 403) and returns
 * false when not.
 */
bool
local_relay_allowed(struct core *c, struct msg *req, const struct tp_src *src,
    const struct tp_src *dst, bool answer)
{
	char user[AUTH_USER_MAX + 1];
	const char *realm;

	if (c->relay == CONF_RELAY_ANYBODY ||
	    (dst != NULL && client_ip(c, &dst->addr)) ||
	    (c->relay == CONF_RELAY_CLIENTS && client_ip(c, &src->addr))) {
		return true;
	}
	if (!answer) {
		return false;
	}
	realm = relay_realm(c, req);
	if (realm == NULL) {
		core_answer(c, src, req, 403, "Relaying Denied", "relay denied");
		return false;
	}
	/* the sender must authenticate: a challenge it can answer */
	return authenticate(c, req, src, realm, HDR_PROXY_AUTHORIZATION, user,
		   sizeof(user)) == V_OK;
}

/* ----------------------------------------------------------- registrar */

/* The canonical account of a To or Request-URI: "user@domain". */
static enum acct_kind
resolve_uri(struct core *c, struct msg *m, const struct uri *u,
    struct acct_target *t)
{
	struct sv user = msg_sv(m, u->user), host = msg_sv(m, u->host);
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

/* RFC 3261 10.3: REGISTER for a local domain. */
static void
local_register(struct core *c, struct msg *req, const struct tp_src *src)
{
	const struct msg_naddr *to = msg_to(req);
	char user[AUTH_USER_MAX + 1], aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char tag[CORE_TAG_LEN + 1];
	struct acct_target t, who;
	enum acct_kind k;
	struct msg *resp = NULL;
	struct reg_src rs;

	/* step 1: the domain; steps 2 and 3: Require (done by the caller) */
	k = to ? resolve_uri(c, req, &to->uri, &t) : ACCT_FOREIGN;
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
	core_tag(c, tag);
	if (reg_register(c->reg, req, aor, &rs, time(NULL),
		(struct sv){ tag, CORE_TAG_LEN }, &resp) != 0 ||
	    resp == NULL) {
		core_answer(c, src, req, 500, NULL, "registrar failed");
		return;
	}
	msg_hdr_append(resp, "Server", SV_LIT(CORE_SERVER));
	log_info(LOG_SERVER, "register %s: %d", aor, msg_status(resp));
	respond(c, req, src, resp);
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
 * NAT is reached over the flow it opened), or through its Path.  Returns
 * the number of targets (0: none).
 */
static int
binding_targets(struct core *c, const char *aor, struct proxy_target *tg,
    int max)
{
	struct reg_snap *snap = NULL;
	int n = reg_lookup(c->reg, aor, time(NULL), &snap);
	int k = 0;

	for (int i = 0; i < n && k < max; i++) {
		const struct reg_binding *b = &snap->b[i];
		struct proxy_target *t = &tg[k];

		memset(t, 0, sizeof(*t));
		t->q = (int16_t)b->q;
		if (b->path != NULL) {
			if (path_target(b->path, &t->dst, &t->proto_set) != 0) {
				continue;
			}
		} else if (!contact_direct(b, &t->dst, &t->proto_set)) {
			/* behind NAT, or a flow it keeps open: where the
			 * registration came from */
			t->dst.addr = b->addr;
			t->dst.addrlen = b->addrlen;
			t->dst.proto = (enum tp_proto)b->proto;
			t->dst.conn_id = b->conn_id;
			t->proto_set = true;
		}
		t->ruri = dup_str(b->contact);
		t->route = b->path ? dup_str(b->path) : NULL;
		if (t->ruri == NULL || (b->path != NULL && t->route == NULL)) {
			free(t->ruri);
			free(t->route);
			continue;
		}
		k++;
	}
	reg_snap_free(snap);
	return k;
}

/*
 * A request for a user of a local domain (16.5): the user's bindings, or
 * a forwarder's target.  Fills the targets and returns their number, or
 * answers the request (404, 480, a challenge) and returns 0.
 */
int
local_targets(struct core *c, struct msg *req, const struct tp_src *src,
    struct proxy_target *tg, int max)
{
	const struct uri *ruri = msg_ruri(req);
	char aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char user[AUTH_USER_MAX + 1];
	struct acct_target t;
	enum acct_kind k = resolve_uri(c, req, ruri, &t);
	int n = 0;

	if (k == ACCT_FORWARD) {
		/* a forwarder: the configured address, as a Request-URI */
		struct uri u;
		if (uri_parse(t.forward, (struct span){ 0,
					     (uint32_t)strlen(t.forward) },
			&u) == 0 &&
		    route_uri_target(t.forward, &u, &tg[0].dst,
			&tg[0].proto_set) == 0) {
			tg[0].q = 1000;
			tg[0].ruri = dup_str(t.forward);
			return tg[0].ruri ? 1 : 0;
		}
		core_answer(c, src, req, 480, NULL, "forwarder unreachable");
		return 0;
	}
	if (k == ACCT_LOCAL) {
		snprintf(aor, sizeof(aor), "%s@%s", t.user, t.domain);
		n = binding_targets(c, aor, tg, max);
		if (n > 0) {
			return n;
		}
	}
	/* anti-enumeration: a stranger learns nothing of who exists or is
	 * registered before it authenticates */
	if (!client_ip(c, &src->addr) &&
	    authenticate(c, req, src, t.domain, HDR_PROXY_AUTHORIZATION, user,
		sizeof(user)) != V_OK) {
		return 0;
	}
	if (k == ACCT_LOCAL) {
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
