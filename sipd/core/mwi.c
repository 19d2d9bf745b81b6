/*
 * The notifier of message waiting (RFC 3842) for the local accounts,
 * over RFC 6665: a SUBSCRIBE with "Event: message-summary" for an
 * account (its address, or sipd's with the account in To), from a
 * client-ip or authenticated as that account, makes a subscription;
 * sipd answers 200 and sends a NOTIFY at once, on every change of the
 * account's counts (core_mwi_changed(), from "mwi set"), and a last one
 * when it ends (Expires: 0).  A refresh or an unsubscribe comes in the
 * dialog, known by sipd's signed To tag; an unknown dialog gets 481.  A
 * SUBSCRIBE addressed to sipd for another package gets 489; one for
 * another package to a user goes on as any request between users.  A
 * device with NoSubMWI gets the same NOTIFYs without subscribing, in an
 * implicit subscription that lasts as long as its binding.
 * The NOTIFYs go out through uac.c.  Owns nothing: the subscriptions
 * and counts are sipd/mwi's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipd/core/core_int.h"
#include "sipd/mwi/mwi.h"

#define MWI_EVENT "message-summary"
#define MWI_CTYPE "application/simple-message-summary"
#define MWI_DEFAULT_EXPIRES 3600 /* RFC 3842 4: no default; ours */
#define MWI_MAX_EXPIRES 86400

void
core_set_mwi(struct core *c, struct mwi *m)
{
	c->mwi = m;
}

/* Copy v into out as a C string; false when it does not fit. */
static bool
sv_copy(struct sv v, char *out, size_t cap)
{
	if (v.len >= cap) {
		return false;
	}
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return true;
}

/* The account a SIP URI names (in base): its kind, aor "user@domain". */
static enum acct_kind
mwi_account(struct core *c, const char *base, const struct uri *u,
    struct acct_target *t, char *aor, size_t cap)
{
	char user[ACCT_USER_MAX + 1];
	enum acct_kind k;
	int n;

	if (c->acct == NULL || (u->scheme != URI_SIP && u->scheme != URI_SIPS)) {
		return ACCT_FOREIGN;
	}
	n = uri_unescape((struct sv){ base + u->user.off, u->user.len }, user,
	    sizeof(user) - 1);
	if (n < 0) {
		return ACCT_UNKNOWN;
	}
	k = acct_resolve(c->acct, user, (size_t)n, base + u->host.off,
	    u->host.len, t);
	if (k == ACCT_LOCAL || k == ACCT_FORWARD) {
		snprintf(aor, cap, "%s@%s", t->user, t->domain);
	}
	return k;
}

/* Is the Event header the message-summary package (RFC 6665 8.2.1:
 * the token before any parameter, case ignored)? */
static bool
mwi_event(struct msg *req)
{
	struct sv ev = msg_hdr_value(req, HDR_EVENT);
	size_t n = 0;

	while (n < ev.len && ev.p[n] != ';' && ev.p[n] != ' ' &&
	    ev.p[n] != '\t') {
		n++;
	}
	return sv_caseeq_str((struct sv){ ev.p, n }, MWI_EVENT);
}

/* "sip:ADDR:PORT;transport=x": where the NOTIFYs of s go. */
static void
mwi_dest(const struct mwi_sub *s, char *out, size_t cap)
{
	char addr[TP_ADDRSTRLEN];

	tp_addr_str((const struct sockaddr *)&s->addr, addr, sizeof(addr));
	snprintf(out, cap, "sip:%s%s", addr,
	    s->proto == TP_TCP   ? ";transport=tcp"
		: s->proto == TP_TLS ? ";transport=tls"
				     : "");
}

struct mwi_sent {
	struct core *c;
	uint64_t id;
	bool implicit;
	char aor[MWI_AOR_MAX];
	char contact[MWI_URI_MAX];
};

static void
mwi_notified(void *arg, const struct core_uac_result *r)
{
	struct mwi_sent *ms = arg;

	log_info(LOG_CLIENT, "mwi, NOTIFY for %s: %d%s%s", ms->aor, r->status,
	    r->why != NULL ? " " : "", r->why != NULL ? r->why : "");
	/* RFC 6665 4.2.2: a 481, or no answer at all, ends it */
	if ((r->status == 481 || (r->resp == NULL && r->status == 408)) &&
	    ms->c->mwi != NULL) {
		if (ms->implicit) {
			mwi_sub_drop_implicit(ms->c->mwi, ms->aor, ms->contact);
		} else {
			mwi_sub_end(ms->c->mwi, ms->id);
		}
	}
	free(ms);
}

/*
 * Send s a NOTIFY of the counts of its account (RFC 3842 5.2) with
 * Subscription-State state (RFC 6665 8.2.3); its CSeq is s->cseq.
 */
static void
mwi_notify(struct core *c, const struct mwi_sub *s, const char *state)
{
	struct mwi_counts counts;
	char body[MWI_BODY_MAX], dest[TP_ADDRSTRLEN + 32], hdrs[384];
	struct mwi_sent *ms = calloc(1, sizeof(*ms));
	size_t blen;
	int rc;

	if (ms == NULL) {
		return;
	}
	mwi_get(c->mwi, s->aor, &counts);
	blen = mwi_body(s->aor, &counts, body, sizeof(body));
	mwi_dest(s, dest, sizeof(dest));
	/* RFC 6665 8.2.1: the Event as subscribed, its id included */
	snprintf(hdrs, sizeof(hdrs), "Event: %s\r\n"
	    "Subscription-State: %s\r\n",
	    s->event[0] != '\0' ? s->event : MWI_EVENT, state);
	ms->c = c;
	ms->id = s->id;
	ms->implicit = s->implicit;
	snprintf(ms->aor, sizeof(ms->aor), "%s", s->aor);
	snprintf(ms->contact, sizeof(ms->contact), "%s", s->contact);
	struct core_uac_req r = {
		.method_name = "NOTIFY",
		.ruri = s->target,
		.dest = dest,
		.from = s->local,
		.from_tag = s->local_tag,
		.to = s->remote,
		.callid = s->callid,
		.cseq = s->cseq,
		.contact_user = "",
		.headers = hdrs,
		.ctype = MWI_CTYPE,
		.body = body,
		.body_len = blen,
	};
	rc = core_uac_send(c, &r, mwi_notified, ms, NULL);
	if (rc < 0) {
		log_notice(LOG_CLIENT, "mwi, cannot notify %s at %s (%s)",
		    s->aor, s->target, strerror(-rc));
		free(ms);
	}
}

static void
mwi_notify_state(struct core *c, const struct mwi_sub *s, time_t now)
{
	char state[64];

	if (s->expires > now) {
		snprintf(state, sizeof(state), "active;expires=%lld",
		    (long long)(s->expires - now));
	} else {
		snprintf(state, sizeof(state), "terminated;reason=timeout");
	}
	mwi_notify(c, s, state);
}

/* Answer req (a SUBSCRIBE) in a server transaction: status, with sipd's
 * tag, and for a 2xx Expires and sipd's Contact (RFC 6665 4.2.1). */
static void
mwi_answer(struct core *c, struct msg *req, const struct tp_src *src,
    int status, const char *tag, uint32_t expires)
{
	struct msg *resp = msg_response(req, status, NULL,
	    (struct sv){ tag, tag != NULL ? strlen(tag) : 0 });
	char addr[TP_ADDRSTRLEN], val[TP_ADDRSTRLEN + 32], num[20];

	if (resp == NULL || core_server_hdr(c, resp) < 0) {
		msg_free(resp);
		return;
	}
	if (status >= 200 && status < 300) {
		if (route_local_addr(c, src->proto, &src->addr, addr,
			sizeof(addr)) == 0) {
			snprintf(val, sizeof(val), "<sip:%s%s>", addr,
			    src->proto == TP_TCP   ? ";transport=tcp"
				: src->proto == TP_TLS ? ";transport=tls"
						       : "");
			msg_hdr_append(resp, "Contact",
			    (struct sv){ val, strlen(val) });
		}
		msg_hdr_append(resp, "Expires",
		    (struct sv){ num, sv_utoa(expires, num) });
	}
	core_answer_txn(c, src, req, resp);
}

/*
 * The interval asked (RFC 6665 4.2.1.1), shortened to the longest sipd
 * grants: 0 for an unsubscribe or a fetch.  A subscription costs a slot
 * and a NOTIFY per change however short it is: no floor.
 */
static uint32_t
mwi_expires(struct msg *req)
{
	uint32_t e;

	if (msg_expires(req, &e) != 0) {
		e = MWI_DEFAULT_EXPIRES;
	}
	return e > MWI_MAX_EXPIRES ? MWI_MAX_EXPIRES : e;
}

/* A SUBSCRIBE in one of sipd's subscriptions: a refresh or the end. */
/* RFC 6665 8.2.2: 489, with the package sipd knows. */
static void
mwi_bad_event(struct core *c, struct msg *req, const struct tp_src *src)
{
	struct msg *resp = core_response(c, req, 489, NULL);

	if (resp == NULL ||
	    msg_hdr_append(resp, "Allow-Events", SV_LIT(MWI_EVENT)) < 0) {
		msg_free(resp);
		return;
	}
	log_info(LOG_SERVER, "mwi, refused SUBSCRIBE (unknown event "
	    "package)");
	core_answer_msg(c, src, req, resp);
}

static void
mwi_refresh(struct core *c, struct msg *req, const struct tp_src *src)
{
	const struct msg_naddr *to = msg_to(req), *from = msg_from(req);
	char callid[MWI_CALLID_MAX], lt[MWI_TAG_MAX], rt[MWI_TAG_MAX];
	struct mwi_sub s;
	time_t now = time(NULL), until;
	uint32_t e;

	if (!sv_copy(msg_callid(req), callid, sizeof(callid)) ||
	    !sv_copy(msg_sv(req, to->tag), lt, sizeof(lt)) ||
	    !sv_copy(msg_sv(req, from->tag), rt, sizeof(rt))) {
		core_answer(c, src, req, 481, NULL, "no such subscription");
		return;
	}
	if (!mwi_event(req)) {
		mwi_bad_event(c, req, src);
		return;
	}
	e = mwi_expires(req);
	until = e > 0 ? now + e : 0;
	if (mwi_sub_dialog(c->mwi, callid, lt, rt, &until, &s) != 0) {
		/* RFC 6665 4.1.2.2: no such subscription (it expired) */
		core_answer(c, src, req, 481, NULL, "no such subscription");
		return;
	}
	log_info(LOG_SERVER, "mwi, %s of %s for %us",
	    e > 0 ? "refresh" : "unsubscribe", s.aor, e);
	mwi_answer(c, req, src, 200, NULL, e);
	mwi_notify_state(c, &s, now);
}

/* RFC 6665 4.2.1: a new subscription to an account's message summary. */
static void
mwi_subscribe(struct core *c, struct msg *req, const struct tp_src *src,
    bool for_sipd)
{
	const struct msg_naddr *to = msg_to(req), *from = msg_from(req);
	const struct msg_naddr *contact;
	const struct uri *u = for_sipd ? &to->uri : msg_ruri(req);
	char aor[MWI_AOR_MAX] = "", user[AUTH_USER_MAX + 1];
	char tag[CORE_TAG_LEN + 1];
	struct acct_target t, who;
	enum acct_kind k = mwi_account(c, msg_buf(req), u, &t, aor,
	    sizeof(aor));
	struct mwi_sub s;
	time_t now = time(NULL);
	uint32_t e;
	int n;

	if (k == ACCT_FOREIGN) {
		core_answer(c, src, req, 404, NULL, "not a local account");
		return;
	}
	/* from a client-ip, or authenticated: then as the account itself,
	 * and only then does the sender learn whether it exists */
	if (!core_client_ip(c, &src->addr)) {
		if (core_auth_uas(c, req, src, t.domain, user, sizeof(user)) ==
		    0) {
			return;
		}
		if ((k == ACCT_LOCAL || k == ACCT_FORWARD) &&
		    (acct_resolve(c->acct, user, strlen(user), t.domain,
			 strlen(t.domain), &who) == ACCT_UNKNOWN ||
			who.user == NULL || strcmp(who.user, t.user) != 0)) {
			core_answer(c, src, req, 403, NULL,
			    "not the account's subscriber");
			return;
		}
	}
	if (k != ACCT_LOCAL && k != ACCT_FORWARD) {
		core_answer(c, src, req, 404, NULL, "unknown account");
		return;
	}
	n = msg_naddrs(req, HDR_CONTACT, &contact);
	if (n != 1 || contact[0].star) {
		/* RFC 6665 3.1.1: one Contact, the remote target */
		core_answer(c, src, req, 400, "Missing Contact", "no Contact");
		return;
	}
	e = mwi_expires(req);
	memset(&s, 0, sizeof(s));
	core_tag(c, tag);
	snprintf(s.aor, sizeof(s.aor), "%s", aor);
	snprintf(s.local_tag, sizeof(s.local_tag), "%s", tag);
	if (!sv_copy(msg_callid(req), s.callid, sizeof(s.callid)) ||
	    !sv_copy(msg_sv(req, to->value), s.local, sizeof(s.local)) ||
	    !sv_copy(msg_sv(req, from->value), s.remote, sizeof(s.remote)) ||
	    !sv_copy(msg_sv(req, from->tag), s.remote_tag,
		sizeof(s.remote_tag)) ||
	    !sv_copy(msg_sv(req, contact[0].uri_s), s.target,
		sizeof(s.target)) ||
	    !sv_copy(msg_hdr_value(req, HDR_EVENT), s.event,
		sizeof(s.event))) {
		core_answer(c, src, req, 400, "Header Too Long", "too long");
		return;
	}
	s.addr = src->addr;
	s.addrlen = src->addrlen;
	s.proto = src->proto;
	s.conn_id = src->conn_id;
	s.cseq = 1;
	s.expires = e > 0 ? now + e : 0;
	if (e > 0 && mwi_sub_add(c->mwi, &s) != 0) {
		core_answer(c, src, req, 503, NULL, "too many subscriptions");
		return;
	}
	log_info(LOG_SERVER, "mwi, %s of %s for %us", e > 0 ? "subscription"
	    : "fetch", aor, e);
	mwi_answer(c, req, src, 200, tag, e);
	/* RFC 6665 4.2.1.2: the first NOTIFY at once (a fetch's is its
	 * last) */
	mwi_notify_state(c, &s, now);
}

bool
core_mwi_request(struct core *c, struct msg *req, const struct tp_src *src,
    bool for_sipd)
{
	const struct msg_naddr *to, *from;

	if (msg_method(req) != MSG_SUBSCRIBE || c->mwi == NULL) {
		return false;
	}
	to = msg_to(req);
	from = msg_from(req);
	if (to == NULL || from == NULL) {
		return false;
	}
	if (to->tag.len > 0) {
		/* in a dialog: sipd's own (its tag is signed), or between
		 * users */
		if (!core_own_tag(c, msg_sv(req, to->tag))) {
			if (!for_sipd) {
				return false;
			}
			/* RFC 6665 4.1.2.2: no dialog of sipd's */
			core_answer(c, src, req, 481, NULL,
			    "no such subscription");
			return true;
		}
		/* RFC 3261 8.2.2.3: sipd is the UAS */
		if (!core_refuse_extensions(c, req, src, HDR_REQUIRE)) {
			mwi_refresh(c, req, src);
		}
		return true;
	}
	if (!mwi_event(req)) {
		if (!for_sipd) {
			return false; /* another package, to a user: proxied */
		}
		mwi_bad_event(c, req, src);
		return true;
	}
	if (!for_sipd && !core_location_domain(c, req)) {
		return false;
	}
	if (!core_refuse_extensions(c, req, src, HDR_REQUIRE)) {
		mwi_subscribe(c, req, src, for_sipd);
	}
	return true;
}

/* ---------------------------------------------------- NoSubMWI bindings */

void
core_mwi_registered(struct core *c, struct msg *req)
{
	struct sv ua = msg_hdr_value(req, HDR_USER_AGENT);
	const struct msg_naddr *to = msg_to(req), *from = msg_from(req);
	const struct msg_cseq *cs = msg_cseq(req);
	char aor[MWI_AOR_MAX] = "", callid[MWI_CALLID_MAX];
	struct acct_target t;
	struct reg_snap *snap = NULL;
	unsigned m;
	time_t now = time(NULL);
	struct sv epid = { "", 0 };
	int n;

	if (c->mwi == NULL || wk_empty(&c->wk) || to == NULL || cs == NULL) {
		return;
	}
	m = wk_lookup(&c->wk, WK_PRODUCT, ua.p, ua.len, NULL);
	if ((m & WK_NOSUBMWI) == 0 ||
	    mwi_account(c, msg_buf(req), &to->uri, &t, aor, sizeof(aor)) !=
		ACCT_LOCAL ||
	    !sv_copy(msg_callid(req), callid, sizeof(callid))) {
		return;
	}
	if ((m & WK_NEEDSEPID) != 0 && from != NULL) {
		msg_naddr_param(req, from, "epid", &epid);
	}
	n = reg_lookup(c->reg, aor, now, &snap);
	for (int i = 0; i < n; i++) {
		const struct reg_binding *b = &snap->b[i];
		struct mwi_sub s;
		char tag[CORE_TAG_LEN + 1];
		uint64_t r = core_random(c);

		/* the bindings this REGISTER made or refreshed */
		if (b->callid == NULL || strcmp(b->callid, callid) != 0 ||
		    b->cseq != cs->num) {
			continue;
		}
		memset(&s, 0, sizeof(s));
		core_tag(c, tag);
		s.implicit = true;
		snprintf(s.aor, sizeof(s.aor), "%s", aor);
		snprintf(s.contact, sizeof(s.contact), "%s", b->contact);
		snprintf(s.target, sizeof(s.target), "%s", b->contact);
		snprintf(s.callid, sizeof(s.callid), "mwi-%016llx",
		    (unsigned long long)r);
		snprintf(s.local_tag, sizeof(s.local_tag), "%s", tag);
		snprintf(s.local, sizeof(s.local), "<sip:%s>", aor);
		/* needsEpid: the epid of its From goes into the To of what
		 * sipd sends it */
		snprintf(s.remote, sizeof(s.remote), "<sip:%s>%s%.*s", aor,
		    epid.len > 0 ? ";epid=" : "", (int)epid.len, epid.p);
		s.addr = b->addr;
		s.addrlen = b->addrlen;
		s.proto = b->proto;
		s.conn_id = b->conn_id;
		s.expires = b->expires;
		s.cseq = 1;
		if (mwi_sub_add(c->mwi, &s) != 0) {
			continue;
		}
		log_info(LOG_SERVER, "mwi, implicit subscription of %s for %s "
		    "(NoSubMWI)", aor, b->contact);
		mwi_notify_state(c, &s, now);
	}
	reg_snap_free(snap);
}

/* ----------------------------------------------------------- changes */

void
core_mwi_expire(struct core *c)
{
	struct mwi_sub *subs = NULL;
	time_t now = time(NULL);
	int n;

	if (c->mwi == NULL) {
		return;
	}
	/* RFC 6665 4.2.2: a last NOTIFY, terminated, when one expires; an
	 * implicit one ends with its binding, silently */
	n = mwi_sub_expired(c->mwi, now, &subs);
	for (int i = 0; i < n; i++) {
		log_info(LOG_SERVER, "mwi, subscription of %s expired",
		    subs[i].aor);
		mwi_notify_state(c, &subs[i], now);
	}
	free(subs);
}

/* Is the binding of aor with contact still registered? */
static bool
mwi_bound(const struct reg_snap *snap, int n, const char *contact)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(snap->b[i].contact, contact) == 0) {
			return true;
		}
	}
	return false;
}

void
core_mwi_changed(struct core *c, const char *aor)
{
	struct mwi_sub *subs = NULL;
	struct reg_snap *snap = NULL;
	time_t now = time(NULL);
	int n, nb;

	if (c->mwi == NULL) {
		return;
	}
	n = mwi_sub_take(c->mwi, aor, now, &subs);
	nb = c->reg != NULL ? reg_lookup(c->reg, aor, now, &snap) : 0;
	for (int i = 0; i < n; i++) {
		if (subs[i].implicit && !mwi_bound(snap, nb, subs[i].contact)) {
			/* the binding is gone: so is its subscription */
			mwi_sub_drop_implicit(c->mwi, aor, subs[i].contact);
			continue;
		}
		mwi_notify_state(c, &subs[i], now);
	}
	reg_snap_free(snap);
	free(subs);
}
