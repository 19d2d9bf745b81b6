/*
 * The Digest glue of the core (RFC 3261 22, RFC 7616): challenges, the
 * check of a request's credentials against the accounts of the
 * configuration's snapshot (sipd/acct), and the proof of an account the
 * policy (policy.c) asks of a sender before it relays.  The nonces, the
 * failure counts and the challenge rate are this worker's authentication
 * state (sipd/auth); nothing here is kept between requests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipd/core/core_int.h"

/* What ha1_lookup() is given: the core, and the account the request is
 * for when the caller resolved it already (NULL: none) */
struct ha1_arg {
	struct core *c;
	const struct acct_target *who;
};

static int
ha1_lookup(void *arg, const char *user, const char *realm, enum auth_alg alg,
    char *ha1)
{
	const struct ha1_arg *h = arg;
	const struct acct_target *w = h->who;
	struct acct_cred cred;
	enum acct_alg a = alg == AUTH_ALG_SHA256 ? ACCT_SHA256 : ACCT_MD5;
	const char *got;
	size_t n;

	if (h->c->acct == NULL) {
		return -ENOENT;
	}
	if (w != NULL && w->ha1 != NULL && w->user != NULL &&
	    w->domain != NULL && strcmp(user, w->user) == 0 &&
	    strcmp(realm, w->domain) == 0) {
		/*
		 * The credentials name the account the request is for, by its
		 * own name in its domain: account and alias names are one
		 * namespace per domain, so acct_ha1() would find this very
		 * account; its HA1 is at hand, not looked up again
		 */
		got = w->ha1[a];
		if (got[0] == '\0') {
			return -ENOENT;
		}
	} else if (acct_ha1(h->c->acct, user, strlen(user), realm,
		       strlen(realm), a, &cred) == 0) {
		got = cred.ha1;
	} else {
		return -ENOENT;
	}
	/* a copy without printf: this runs for every authenticated request */
	n = strnlen(got, AUTH_HEX_SIZE - 1);
	memcpy(ha1, got, n);
	ha1[n] = '\0';
	return 0;
}

/*
 * challenge() as a parsed response, then written: for what its bytes
 * cannot hold (msg_response_add_lines() refuses it, or it is too long).
 */
static void
challenge_msg(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, bool stale, enum hdr_id id)
{
	struct msg *resp;

	resp = core_response(c, req, id == HDR_PROXY_AUTHENTICATE ? 407 : 401,
	    NULL);
	if (resp == NULL) {
		return;
	}
	if (auth_challenge_append(c->auth, resp, realm, stale,
		(const struct sockaddr *)&src->addr, id) < 0) {
		msg_free(resp);
		core_answer(c, src, req, 500, NULL, "cannot challenge");
		return;
	}
	core_answer_msg(c, src, req, resp);
}

/*
 * Add the line "name: v" before the empty line that ends out[0..*len) (as
 * msg_response_add_lines() would), for a value sipd wrote itself and
 * knows to hold no CR, LF or NUL: auth_challenge()'s (a realm realm_ok()
 * passed, quoted; a base64url nonce; tokens).  Returns 0 or -ENOSPC.
 */
static int
own_line(char *out, size_t *len, size_t cap, const char *name, const char *v,
    size_t vl)
{
	size_t nl = strlen(name), at = *len - 2;

	if (cap - at < nl + 2 + vl + 4) {
		return -ENOSPC;
	}
	memcpy(out + at, name, nl);
	memcpy(out + at + nl, ": ", 2);
	memcpy(out + at + nl + 2, v, vl);
	memcpy(out + at + nl + 2 + vl, "\r\n\r\n", 4);
	*len = at + nl + 2 + vl + 4;
	return 0;
}

/* Room for a challenge written as bytes; a longer one goes the parsed way */
#define CHALLENGE_OUT 4096

/*
 * A 401 or 407 with the challenges for realm, sent statelessly: RFC 3261
 * 26.3.2.4 recommends that a server keep no state for a challenge, since
 * a transaction held for Timer H per unauthenticated INVITE lets one host
 * fill the transaction table.  A retransmission gets a fresh challenge,
 * and the ACK of the 401/407 is known by sipd's To tag and absorbed
 * (core.c).  A source over auth-challenge-rate gets nothing: an answer
 * would only feed a flood, or reflect it to a forged source address.
 *
 * Nothing reads the response back: it is written as the bytes
 * core_response(), auth_challenge_append() and msg_write() would give
 * (Server, then one line per challenge), without parsing them as a
 * message.
 */
static void
challenge(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, bool stale, bool proxy)
{
	enum hdr_id id = proxy ? HDR_PROXY_AUTHENTICATE : HDR_WWW_AUTHENTICATE;
	char peer[TP_ADDRSTRLEN], tag[CORE_TAG_LEN + 1];
	char vals[AUTH_CHALLENGE_SIZE], out[CHALLENGE_OUT];
	const char *v = vals;
	struct tp_src dst;
	size_t at;
	int n, len, status = proxy ? 407 : 401;

	if (!auth_challenge_allowed(c->auth,
		(const struct sockaddr *)&src->addr)) {
		c->stats.auth_limited++;
		log_info(LOG_SERVER, "dropped request from %s (over the "
		    "challenge rate)", core_peer(src, peer, sizeof(peer)));
		return;
	}
	/*
	 * as core_response(): a To tag of sipd's, then the copied lines.
	 * Only the 407 or 401 to an INVITE is acknowledged (RFC 3261
	 * 17.2.1), by an ACK that sipd knows by its signed tag and absorbs;
	 * nothing names the tag of any other challenge again
	 */
	if (msg_method(req) == MSG_INVITE) {
		core_tag(c, tag);
	} else {
		core_tag_plain(c, tag);
	}
	len = msg_response_write(req, status, NULL,
	    (struct sv){ tag, CORE_TAG_LEN }, NULL, (struct sv){ 0 }, out,
	    sizeof(out));
	if (len == -EINVAL) {
		return; /* no response possible, as core_response() says */
	}
	if (len < 0) {
		challenge_msg(c, req, src, realm, stale, id);
		return;
	}
	n = auth_challenge(c->auth, realm, stale,
	    (const struct sockaddr *)&src->addr, id, vals, sizeof(vals));
	if (n < 0) {
		core_answer(c, src, req, 500, NULL, "cannot challenge");
		return;
	}
	if (c->server_len > 0) {
		len = msg_response_add_lines(out, (size_t)len, sizeof(out),
		    &(const struct msg_line){ "Server",
			{ c->server, c->server_len } },
		    1);
		if (len < 0) {
			challenge_msg(c, req, src, realm, stale, id);
			return;
		}
	}
	/* the challenges are sipd's own bytes: no value to check */
	at = (size_t)len;
	for (int i = 0; i < n && i < AUTH_CHALLENGES_MAX; i++) {
		size_t vl = strlen(v);

		if (own_line(out, &at, sizeof(out), hdr_name(id), v, vl) < 0) {
			challenge_msg(c, req, src, realm, stale, id);
			return;
		}
		v += vl + 1;
	}
	txn_response_dst(req, src, &dst);
	c->stats.resp_out[4]++; /* as core_count_out() counts a 4xx */
	core_send(c, &dst, out, at);
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
    const char *realm, const struct acct_target *who, enum hdr_id id,
    char *user, size_t cap)
{
	struct ha1_arg h = { c, who };
	struct auth_result res;
	struct auth_alt alt;
	bool proxy = id == HDR_PROXY_AUTHORIZATION;
	int rc;

	rc = auth_check_alt(c->auth, req, id, NULL,
	    (const struct sockaddr *)&src->addr, realm, ha1_lookup, &h,
	    core_wk_auth_alt(c, req, &alt) ? &alt : NULL, &res);
	if (rc < 0) {
		core_answer(c, src, req, 500, NULL, "authentication failed");
		return V_ANSWERED;
	}
	switch (res.status) {
	case AUTH_OK: {
		size_t n = cap > 0 ? strnlen(res.user, cap - 1) : 0;

		if (cap > 0) {
			memcpy(user, res.user, n);
			user[n] = '\0';
		}
		return V_OK;
	}
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
core_auth_uas(struct core *c, struct msg *req, const struct tp_src *src,
    const char *realm, char *user, size_t cap)
{
	return authenticate(c, req, src, realm, NULL, HDR_AUTHORIZATION, user,
		   cap) == V_OK
	    ? 1
	    : 0;
}

int
core_auth_uas_for(struct core *c, struct msg *req, const struct tp_src *src,
    const struct acct_target *t, char *user, size_t cap)
{
	return authenticate(c, req, src, t->domain, t, HDR_AUTHORIZATION, user,
		   cap) == V_OK
	    ? 1
	    : 0;
}


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


/*
 * Check the sender's Proxy-Authorization for realm (NULL: the relay
 * realm), answering when it does not prove an account.  On success the
 * policy learns who: whether the From, when local, names someone else.
 */
int
core_auth_prove(struct core *c, struct msg *req, const struct tp_src *src,
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
	if (authenticate(c, req, src, realm, NULL, HDR_PROXY_AUTHORIZATION,
		user, sizeof(user)) != V_OK) {
		return 0;
	}
	in->authenticated = true;
	snprintf(in->auth_user, sizeof(in->auth_user), "%s@%s", user, realm);
	/* the account the credentials belong to, against the From's */
	if (in->from_local && from != NULL &&
	    core_acct_id(c, msg_buf(req), &from->uri, &claimed) !=
	    ACCT_FOREIGN) {
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
core_auth_relay(struct core *c, struct msg *req, const struct tp_src *src,
    struct core_policy_in *in)
{
	return core_auth_prove(c, req, src, NULL, in);
}
