/*
 * The location service of the local domains (RFC 3261 10.3, 16.5): the
 * account a URI names, through the Router's aliases where sipd
 * authenticates it, and the targets of a request for a local user: its
 * registered devices, its Path (RFC 3327), its forwarder followed through
 * local accounts.  Each target is judged by the policy (policy.c).  The
 * accounts come from the configuration's snapshot (sipd/acct), the
 * bindings from the shared registrar (sipd/reg).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipd/core/core_int.h"

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
	if (user.len < sizeof(dec) && memchr(user.p, '%', user.len) == NULL) {
		/* nothing escaped: the user part is its own unescaped form */
		return acct_resolve(c->acct, user.p, user.len, host.p, host.len,
		    t);
	}
	n = uri_unescape(user, dec, sizeof(dec) - 1);
	if (n < 0) {
		/* no account has such a name (a bad escape, or longer than
		 * any): the domain's answer for a user it does not know, t
		 * filled as for one (the realm of a challenge) */
		return acct_resolve(c->acct, "", 0, host.p, host.len, t) ==
			ACCT_FOREIGN
		    ? ACCT_FOREIGN
		    : ACCT_UNKNOWN;
	}
	return acct_resolve(c->acct, dec, (size_t)n, host.p, host.len, t);
}

/*
 * The account an address sipd authenticates names (a REGISTER's To, a
 * From the credentials must back): its own, else the one the Router
 * sends it to (the seed: aliases work in these names too).
 */
enum acct_kind
core_acct_id(struct core *c, const char *base, const struct uri *u,
    struct acct_target *t)
{
	return core_acct_id_from(c, base, u, resolve_at(c, base, u, t), t);
}

enum acct_kind
core_acct_id_from(struct core *c, const char *base, const struct uri *u,
    enum acct_kind k, struct acct_target *t)
{
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
enum acct_kind
core_acct_uri(struct core *c, struct msg *m, const struct uri *u,
    struct acct_target *t)
{
	return resolve_at(c, msg_buf(m), u, t);
}

static char *
dup_str(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
core_location_path(const char *path, struct tp_src *dst, bool *proto_set)
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

bool
core_location_direct(const struct reg_binding *b, struct tp_src *dst,
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
			if (core_location_path(b->path, &t->dst,
				&t->proto_set) != 0) {
				continue;
			}
			core_policy_dst(c, NULL, in, CORE_SEND_PATH, &t->dst,
			    false);
		} else {
			if (b->nat ||
			    !core_location_direct(b, &t->dst, &t->proto_set)) {
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
core_location_targets(struct core *c, struct msg *req,
    const struct tp_src *src, struct core_policy_in *in,
    struct proxy_target *tg, int max)
{
	const struct uri *ruri = msg_ruri(req);
	char aor[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	char fwd[ACCT_URI_MAX + 1];
	const char *realm;
	struct acct_target t;
	enum acct_kind k = core_acct_uri(c, req, ruri, &t);
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
	if (!in->src_client && core_auth_prove(c, req, src, realm, in) == 0) {
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

/* Is the Request-URI's host one of sipd's local domains? */
bool
core_location_domain(struct core *c, struct msg *req)
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
