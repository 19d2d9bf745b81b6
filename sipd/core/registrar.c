/*
 * The registrar of sipd's local domains (RFC 3261 10.3): a REGISTER for
 * a local domain is authenticated (auth_glue.c), checked against the
 * account its To names (location.c), and handed to the shared registrar
 * (sipd/reg), whose answer may wait for its store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipd/core/core_int.h"

/*
 * A REGISTER whose answer waits for the registrar's store (reg.h): its
 * server transaction absorbs retransmissions meanwhile.
 */
struct reg_pending {
	struct core *c;
	struct txn *st;
	struct reg_answer resp; /* resp.p NULL: the store failed */
	bool mwi;               /* the device wants its implicit subscription */
};

/*
 * Whether a 200 to req may start an implicit message-summary
 * subscription (the NoSubMWI workaround, core_mwi_registered()): asked
 * before the answer, while the request is parsed, so that a registrar
 * without one does not keep a copy of every request for it.
 */
static bool
mwi_wanted(struct core *c, struct msg *req)
{
	struct sv ua;

	if (c->mwi == NULL || wk_empty(&c->wk)) {
		return false;
	}
	ua = msg_hdr_value(req, HDR_USER_AGENT);
	return (wk_lookup(&c->wk, WK_PRODUCT, ua.p, ua.len, NULL) &
		   WK_NOSUBMWI) != 0;
}

/*
 * The Server line at the end of a registrar's answer, as core_server_hdr()
 * adds it to a parsed response.  Returns 0 or a negative errno (the bytes
 * as they were).
 */
static int
server_line(struct core *c, struct reg_answer *a)
{
	size_t need = a->len + sizeof("Server: \r\n") - 1 + c->server_len;
	int n;

	if (c->server_len == 0) {
		return 0;
	}
	if (need > a->cap) {
		char *p = realloc(a->p, need);

		if (p == NULL) {
			return -ENOMEM;
		}
		a->p = p;
		a->cap = need;
	}
	n = msg_response_add_lines(a->p, a->len, a->cap,
	    &(const struct msg_line){ "Server",
		{ c->server, c->server_len } },
	    1);
	if (n < 0) {
		return n;
	}
	a->len = (size_t)n;
	return 0;
}

/*
 * Send a registrar's answer in st, as core_answer_txn() sends a parsed
 * response: statelessly when no transaction can be had.
 */
static void
answer_bytes(struct core *c, const struct tp_src *src, struct msg *req,
    struct txn *st, const struct reg_answer *a)
{
	if (st == NULL) {
		st = txn_server_new(c->txn, req, src, NULL);
	}
	/* as core_count_out() counts a response */
	c->stats.resp_out[a->status / 100]++;
	if (st == NULL) {
		struct tp_src dst;

		txn_response_dst(req, src, &dst);
		core_send(c, &dst, a->p, a->len);
		return;
	}
	txn_server_respond_bytes(st, a->status, a->p, a->len);
}

/* On the worker's thread: send the answer the store released. */
static void
register_finish(void *arg, bool cancelled)
{
	struct reg_pending *rp = arg;
	struct core *c = rp->c;
	struct msg *resp = NULL;

	if (cancelled) {
		goto out;
	}
	if (rp->resp.p == NULL) {
		resp = core_response(c, txn_request(rp->st), 500,
		    "Store Failure");
		if (resp != NULL) {
			log_info(LOG_SERVER, "register: %d", msg_status(resp));
			core_count_out(c, resp);
			txn_server_respond(rp->st, resp);
		}
		goto out;
	}
	if (server_line(c, &rp->resp) == 0) {
		/* the transaction lets its request go once answered */
		struct msg *req = rp->mwi && rp->resp.status == 200
		    ? msg_compact(txn_request(rp->st))
		    : NULL;

		log_info(LOG_SERVER, "register: %d", rp->resp.status);
		c->stats.resp_out[rp->resp.status / 100]++;
		txn_server_respond_bytes(rp->st, rp->resp.status, rp->resp.p,
		    rp->resp.len);
		if (req != NULL) {
			/* NoSubMWI: the device's implicit subscription */
			core_mwi_registered(c, req);
			msg_free(req);
		}
	}
out:
	msg_free(resp);
	free(rp->resp.p);
	free(rp);
}

/* On the store writer's thread: hand the answer to the worker. */
static void
register_done(void *arg, struct reg_answer resp)
{
	struct reg_pending *rp = arg;

	rp->resp = resp;
	if (tp_call(rp->c->tp, register_finish, rp) < 0) {
		log_err(LOG_SERVER, "register: answer lost (%s)",
		    strerror(ENOMEM));
		free(resp.p);
		free(rp);
	}
}

/*
 * RFC 3261 10.3: REGISTER for a local domain, its To's account t of kind
 * k (core_acct_id()).
 */
static void
local_register(struct core *c, struct msg *req, const struct tp_src *src,
    struct acct_target t, enum acct_kind k)
{
	char user[AUTH_USER_MAX + 1], aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char tag[CORE_TAG_LEN + 1];
	struct acct_target who;
	struct reg_answer ans;
	struct msg *resp;
	struct reg_src rs;
	struct reg_pending *rp = NULL;
	struct txn *st;
	size_t ulen, dlen;
	int rc;

	/* step 1: the domain; steps 2 and 3: Require (done by the caller) */
	if (k == ACCT_FOREIGN) {
		core_answer(c, src, req, 404, NULL, "not a local domain");
		return;
	}
	/* step 4: authenticate, the same way for unknown users */
	if (core_auth_uas_for(c, req, src, &t, user, sizeof(user)) == 0) {
		return;
	}
	/* step 5: the authenticated user may change this address only */
	if (k != ACCT_LOCAL && k != ACCT_FORWARD) {
		core_answer(c, src, req, 404, NULL, "unknown user");
		return;
	}
	/*
	 * The name authenticated is the To's account itself (the common
	 * case): account and alias names are one namespace per domain, so
	 * the credentials were that account's; else resolve it (an alias)
	 */
	if (strcmp(user, t.user) != 0 &&
	    (acct_resolve(c->acct, user, strlen(user), t.domain,
		strlen(t.domain), &who) == ACCT_UNKNOWN ||
		who.user == NULL || strcmp(who.user, t.user) != 0)) {
		core_answer(c, src, req, 403, NULL, "not the user's address");
		return;
	}
	ulen = strlen(t.user);
	dlen = strlen(t.domain);
	if (ulen + 1 + dlen >= sizeof(aor)) {
		core_answer(c, src, req, 500, NULL, "address too long");
		return;
	}
	memcpy(aor, t.user, ulen);
	aor[ulen] = '@';
	memcpy(aor + ulen + 1, t.domain, dlen + 1);
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
	/* no ACK, no dialog: the tag need not be signed */
	core_tag_plain(c, tag);
	/* the answer may wait for the store: the transaction first */
	st = txn_server_new(c->txn, req, src, NULL);
	/* in memory only (reg-durable off) the answer never waits */
	if (st != NULL && reg_store_where(c->reg) != NULL &&
	    (rp = calloc(1, sizeof(*rp))) != NULL) {
		rp->c = c;
		rp->st = st;
		rp->mwi = mwi_wanted(c, req);
	}
	rc = reg_register_async(c->reg, req, aor, &rs, time(NULL),
	    (struct sv){ tag, CORE_TAG_LEN }, rp != NULL ? register_done : NULL,
	    rp, &ans);
	if (rc == REG_PENDING) {
		return;
	}
	free(rp);
	if (rc != 0 || ans.p == NULL) {
		free(ans.p);
		resp = core_response(c, req, 500, "registrar failed");
		if (resp == NULL) {
			return;
		}
		log_info(LOG_SERVER, "register %s: %d", aor, 500);
		if (st == NULL) {
			core_answer_txn(c, src, req, resp);
		} else {
			core_count_out(c, resp);
			txn_server_respond(st, resp);
			msg_free(resp);
		}
		return;
	}
	/* a Server line that cannot be added is left out */
	(void)server_line(c, &ans);
	log_info(LOG_SERVER, "register %s: %d", aor, ans.status);
	answer_bytes(c, src, req, st, &ans);
	free(ans.p);
	if (ans.status == 200 && mwi_wanted(c, req)) {
		/* NoSubMWI: the device's implicit subscription */
		core_mwi_registered(c, req);
	}
}

/*
 * Does a REGISTER's Request-URI name a local domain (RFC 3261 10.3 step
 * 1)?  It names the domain alone (10.2): then only whether the domain is
 * local counts, which core_acct_uri() would say after a user lookup.
 */
static bool
ruri_local(struct core *c, struct msg *req, const struct uri *ruri)
{
	struct acct_target t;

	if (ruri->user.len == 0 &&
	    (ruri->scheme == URI_SIP || ruri->scheme == URI_SIPS)) {
		struct sv host = msg_sv(req, ruri->host);

		return acct_domain_is_local(c->acct, host.p, host.len);
	}
	return core_acct_uri(c, req, ruri, &t) != ACCT_FOREIGN;
}

/*
 * Is req a REGISTER for sipd (its Request-URI a local domain, or sipd's
 * address with a local domain in To)?  Handles it and returns true.
 */
bool
core_registrar_request(struct core *c, struct msg *req,
    const struct tp_src *src, bool ruri_is_sipd)
{
	const struct uri *ruri = msg_ruri(req);
	const struct msg_naddr *to;
	struct acct_target t = { .kind = ACCT_FOREIGN };
	enum acct_kind k = ACCT_FOREIGN;
	bool resolved = false;

	if (msg_method(req) != MSG_REGISTER || c->acct == NULL) {
		return false;
	}
	to = msg_to(req);
	if (!ruri_is_sipd && to != NULL && ruri->user.len == 0 &&
	    (ruri->scheme == URI_SIP || ruri->scheme == URI_SIPS) &&
	    (to->uri.scheme == URI_SIP || to->uri.scheme == URI_SIPS) &&
	    sv_eq(msg_sv(req, ruri->host), msg_sv(req, to->uri.host))) {
		/*
		 * The usual REGISTER: the Request-URI the To's domain, the
		 * same bytes.  The To's own account says whether the domain
		 * is local (ACCT_FOREIGN: not), as ruri_local() would have:
		 * one look-up of the domain, not two
		 */
		k = core_acct_uri(c, req, &to->uri, &t);
		resolved = true;
		if (k == ACCT_FOREIGN) {
			return false; /* for another registrar: proxied */
		}
	} else if (!ruri_is_sipd && !ruri_local(c, req, ruri)) {
		return false; /* for another registrar: proxied (10.3 step 1) */
	}
	if (to != NULL) {
		if (!resolved) {
			k = core_acct_uri(c, req, &to->uri, &t);
		}
		k = core_acct_id_from(c, msg_buf(req), &to->uri, k, &t);
	}
	local_register(c, req, src, t, k);
	return true;
}
