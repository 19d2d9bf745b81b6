/*
 * The External Gateways at run time: registration with each provider as
 * a user agent (RFC 3261 10.2), on the first worker only.  A gateway with
 * "register-every" registers its Contact (a local account, at sipd's
 * address toward the provider) with a stable Call-ID and an increasing
 * CSeq, refreshes every "register-every" seconds or before the granted
 * expiry, whichever is sooner, and answers Digest challenges through
 * uac.c.  423 raises the interval to Min-Expires (10.2.8); 401 after
 * credentials, 403 and 404 stop with the state saying why; 5xx, 6xx,
 * other failures and timeouts back off exponentially with jitter up to a
 * cap, or as long as Retry-After says.  Removing a gateway, "gateway
 * unregister" and shutting down send Expires 0 (bounded by the client
 * transaction's timeout).  Every change of state is one line at major
 * (SIPC) with the gateway's name and the reason.
 *
 * Owns struct core_gws: the gateways' settings copied from the
 * configuration and their registration state; and struct
 * core_gw_shared, what every worker reads of them under its lock (the
 * last challenge, for calls that carry credentials; the counters; the
 * addresses each gateway was reached at).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sipd/core/core_int.h"

/* Backoff after a failure: "set gateway-backoff" doubled each time, at
 * most "set gateway-backoff-max"; Retry-After at most a day. */
#define GW_RETRY_AFTER_MAX 86400u
/* 423s in a row before giving up (a registrar raising forever) */
#define GW_MAX_423 3

enum gw_state {
	GW_UNREGISTERED,
	GW_REGISTERING,
	GW_REGISTERED,
	GW_FAILED,
	GW_BACKOFF,
	GW_UNREGISTERING,
};

static const char *const state_names[] = {
	[GW_UNREGISTERED] = "unregistered",
	[GW_REGISTERING] = "registering",
	[GW_REGISTERED] = "registered",
	[GW_FAILED] = "failed",
	[GW_BACKOFF] = "backing-off",
	[GW_UNREGISTERING] = "unregistering",
};

struct gw {
	struct conf_gw conf;
	bool used;
	bool gone;           /* removed from the configuration: leaving */
	bool want;           /* registration wanted (not unregistered) */
	enum gw_state state;
	struct core_uac *u;  /* the REGISTER on its way */
	bool u_unreg;        /* ... with Expires 0 */
	char callid[64];
	uint32_t cseq;
	struct core_uac_auth auth;
	uint64_t next_ms;    /* the next REGISTER, 0: none planned */
	int64_t until;       /* wall clock: registered or backing off until */
	uint32_t expires;    /* asked for: register-every, or Min-Expires */
	unsigned failures;   /* in a row, for the backoff */
	unsigned n423;
	int last_status;
	char last_reason[96];
	int64_t nonce_at;    /* wall clock of the last challenge, 0 none */
	char nonce_seen[CORE_UAC_STR];
	uint64_t calls, calls_failed;
	char target[DNS_TARGET_TEXT];
	struct tp_src dst;
	bool have_dst;
	struct core *c;
};

#define GW_ADDRS 4

struct gw_shared_one {
	char name[CONF_GW_NAME_MAX];
	struct core_uac_auth auth;
	uint64_t calls, calls_failed;
	struct sockaddr_storage addr[GW_ADDRS];
	int naddr;
};

struct core_gw_shared {
	pthread_mutex_t lock;
	struct gw_shared_one g[2 * CONF_MAX_GW];
	/* the addresses learnt, all gateways together, changed under the
	 * lock: with none, a request's lookup takes no lock */
	atomic_int naddr;
};

struct core_gws {
	struct gw g[2 * CONF_MAX_GW]; /* room for those leaving */
	char main_domain[CONF_HOST_MAX];
	uint64_t backoff_ms, backoff_cap_ms;
	int nused; /* the slots used: with none, a tick has nothing to do */
};

/* g's slot free again, once its unregistration is done. */
static void
gw_release(struct gw *g)
{
	if (g->used) {
		g->used = false;
		g->c->gws->nused--;
	}
}

static uint64_t
mono_ms(struct core *c)
{
	return txn_table_now(c->txn);
}

static void
set_state(struct gw *g, enum gw_state s, const char *why)
{
	char until[64] = "";

	if (g->until != 0 && (s == GW_REGISTERED || s == GW_BACKOFF)) {
		struct tm tm;
		time_t t = (time_t)g->until;
		gmtime_r(&t, &tm);
		strftime(until, sizeof(until), " until %Y-%m-%dT%H:%M:%SZ",
		    &tm);
	}
	if (g->state != s) {
		log_warn(LOG_CLIENT, "gateway %s, %s%s (%s)", g->conf.name,
		    state_names[s], until, why);
	}
	g->state = s;
}

static void
gw_reset_dialog(struct gw *g)
{
	snprintf(g->callid, sizeof(g->callid), "%016llx@gw.sipd",
	    (unsigned long long)core_random(g->c));
	g->cseq = 0;
	memset(&g->auth, 0, sizeof(g->auth));
	g->nonce_at = 0;
	g->nonce_seen[0] = '\0';
}

/* The contact's user part (core_gw_contact_user()). */
static void
contact_user(const struct core_gws *gs, const struct gw *g, char *out,
    size_t cap)
{
	core_gw_contact_user(&g->conf, gs->main_domain, out, cap);
}

void
core_gw_contact_user(const struct conf_gw *g, const char *main_domain,
    char *out, size_t cap)
{
	const char *at = strchr(g->contact, '@');

	if (g->contact[0] == '\0') {
		snprintf(out, cap, "%s", g->name);
	} else if (at == NULL || (main_domain != NULL &&
				     strcasecmp(at + 1, main_domain) == 0)) {
		snprintf(out, cap, "%.*s",
		    at ? (int)(at - g->contact) : (int)strlen(g->contact),
		    g->contact);
	} else {
		/* "user%domain", escaped: the Router reads it back */
		snprintf(out, cap, "%.*s%%25%s", (int)(at - g->contact),
		    g->contact, at + 1);
	}
}

static void on_register(void *arg, const struct core_uac_result *r);
static void shared_sync(struct gw *g);
static void shared_publish(struct gw *g);
static void shared_forget(struct core *c, const char *name);
static struct gw_shared_one *shared_of(struct core_gw_shared *sh,
    const char *name, bool make);

/* Send a REGISTER for g (expires 0: remove the binding). */
static int
send_register(struct gw *g, uint32_t expires)
{
	struct core *c = g->c;
	char user[CONF_GW_STR + CONF_HOST_MAX], aor[sizeof(user) + 8];
	char ruri[CONF_HOST_MAX + 8], dest[CONF_GW_STR + 8];
	char cuser[CONF_GW_STR + CONF_HOST_MAX], hdrs[64];
	struct core_uac_req rq = { 0 };
	int rc;

	conf_gw_user(&g->conf, user, sizeof(user));
	if (user[0] == '\0') {
		return -EINVAL;
	}
	snprintf(aor, sizeof(aor), "<sip:%s>", user);
	/* RFC 3261 10.2: the Request-URI names the registrar's domain */
	snprintf(ruri, sizeof(ruri), "sip:%s", g->conf.domain);
	conf_gw_target(&g->conf, dest, sizeof(dest));
	contact_user(c->gws, g, cuser, sizeof(cuser));
	snprintf(hdrs, sizeof(hdrs), "Expires: %u\r\n", expires);
	conf_gw_authuser(&g->conf, g->auth.user, sizeof(g->auth.user));
	snprintf(g->auth.password, sizeof(g->auth.password), "%s",
	    g->conf.password);
	rq.method_name = "REGISTER";
	rq.ruri = ruri;
	rq.dest = strcmp(dest + 4, g->conf.domain) != 0 ? dest : NULL;
	rq.from = aor;
	rq.to = aor;
	rq.callid = g->callid;
	/* RFC 3261 10.2: the same Call-ID, a higher CSeq each time */
	rq.cseq = ++g->cseq;
	rq.contact_user = cuser;
	rq.headers = hdrs;
	shared_sync(g);
	rq.auth = &g->auth;
	rq.auth_first = g->auth.have;
	g->u_unreg = expires == 0;
	rc = core_uac_send(c, &rq, on_register, g, &g->u);
	if (rc < 0) {
		g->u = NULL;
	}
	return rc;
}

static uint32_t
backoff_ms(struct gw *g)
{
	const struct core_gws *gs = g->c->gws;
	uint64_t d = gs->backoff_ms << (g->failures < 20 ? g->failures : 20);

	if (d > gs->backoff_cap_ms) {
		d = gs->backoff_cap_ms;
	}
	/* jitter: up to a quarter less, so gateways failing together do
	 * not retry together */
	d -= core_random(g->c) % (d / 4 + 1);
	return (uint32_t)d;
}

/* The failure path: back off (Retry-After when given). */
static void
back_off(struct gw *g, struct msg *resp, const char *why)
{
	uint64_t d = backoff_ms(g);
	uint32_t ra;

	if (resp != NULL && msg_hdr_first(resp, HDR_RETRY_AFTER) >= 0) {
		struct sv v = msg_hdr_value(resp, HDR_RETRY_AFTER);
		char num[16];
		size_t n = 0;
		while (n < v.len && n < sizeof(num) - 1 && v.p[n] >= '0' &&
		    v.p[n] <= '9') {
			num[n] = v.p[n];
			n++;
		}
		num[n] = '\0';
		if (n > 0) {
			ra = (uint32_t)strtoul(num, NULL, 10);
			if (ra > GW_RETRY_AFTER_MAX) {
				ra = GW_RETRY_AFTER_MAX;
			}
			/* RFC 3261 20.33: not before that many seconds */
			d = (uint64_t)ra * 1000;
		}
	}
	g->failures++;
	g->next_ms = mono_ms(g->c) + d;
	g->until = (int64_t)time(NULL) + (int64_t)((d + 999) / 1000);
	set_state(g, GW_BACKOFF, why);
}

/* The granted expiry of a 2xx for our contact (10.2.4). */
static uint32_t
granted(struct gw *g, struct msg *resp, const char *cuser)
{
	const struct msg_naddr *cs;
	int n = msg_naddrs(resp, HDR_CONTACT, &cs);
	uint32_t e;

	for (int i = 0; i < n; i++) {
		struct sv u = msg_sv(resp, cs[i].uri.user);
		if (cs[i].expires >= 0 && u.len == strlen(cuser) &&
		    strncmp(u.p, cuser, u.len) == 0) {
			return (uint32_t)cs[i].expires;
		}
	}
	if (msg_expires(resp, &e) == 0) {
		return e;
	}
	return g->expires;
}

static void
on_register(void *arg, const struct core_uac_result *r)
{
	struct gw *g = arg;
	struct core *c = g->c;
	char why[160], cuser[CONF_GW_STR + CONF_HOST_MAX];
	struct sv reason = r->resp ? msg_reason(r->resp) : (struct sv){ 0 };
	uint32_t e;

	g->u = NULL;
	/* a challenge answered took CSeq numbers too */
	if (r->cseq > g->cseq) {
		g->cseq = r->cseq;
	}
	g->last_status = r->status;
	snprintf(g->last_reason, sizeof(g->last_reason), "%.*s",
	    r->resp ? (int)(reason.len < 80 ? reason.len : 80)
		    : (int)strlen(r->why ? r->why : ""),
	    r->resp ? reason.p : (r->why ? r->why : ""));
	snprintf(why, sizeof(why), "%d %s", r->status, g->last_reason);
	if (r->dst != NULL) {
		struct dns_target d = { 0 };
		g->dst = *r->dst;
		g->have_dst = true;
		memcpy(&d.addr, &r->dst->addr, r->dst->addrlen);
		d.addr_len = r->dst->addrlen;
		d.tp = (enum dns_tp)r->dst->proto;
		dns_target_format(&d, g->target, sizeof(g->target));
	}
	shared_publish(g);
	if (g->auth.have && strcmp(g->nonce_seen, g->auth.nonce) != 0) {
		/* a new challenge was answered: its age starts now */
		snprintf(g->nonce_seen, sizeof(g->nonce_seen), "%s",
		    g->auth.nonce);
		g->nonce_at = (int64_t)time(NULL);
	}
	if (g->u_unreg) {
		g->until = 0;
		g->next_ms = 0;
		set_state(g, GW_UNREGISTERED, r->status >= 200 &&
			r->status < 300 ? "unregistered" : why);
		if (g->gone) {
			gw_release(g);
		} else if (g->want && g->conf.register_every > 0) {
			/* settings changed while leaving: register again */
			g->next_ms = mono_ms(c) + 1;
		}
		return;
	}
	if (g->gone || !g->want) {
		return;
	}
	if (r->status >= 200 && r->status < 300) {
		contact_user(c->gws, g, cuser, sizeof(cuser));
		e = granted(g, r->resp, cuser);
		if (e == 0) {
			/* the registrar kept nothing: try again later */
			back_off(g, NULL, "registrar granted 0 seconds");
			return;
		}
		g->failures = 0;
		g->n423 = 0;
		g->until = (int64_t)time(NULL) + e;
		/* before the granted expiry, or every register-every
		 * seconds, whichever is sooner */
		uint32_t margin = e / 10 > 5 ? e / 10 : 5;
		uint32_t in = e > 10 ? e - margin : e / 2 + 1;
		if (g->conf.register_every < in) {
			in = g->conf.register_every;
		}
		g->next_ms = mono_ms(c) + (uint64_t)in * 1000;
		if (g->state == GW_REGISTERED) {
			log_info(LOG_CLIENT, "gateway %s, refreshed for %u s",
			    g->conf.name, e);
		}
		set_state(g, GW_REGISTERED, why);
		return;
	}
	if (r->status == 423 && r->resp != NULL && g->n423 < GW_MAX_423) {
		struct sv v = msg_hdr_value(r->resp, HDR_MIN_EXPIRES);
		unsigned long me = 0;
		for (size_t i = 0; i < v.len && v.p[i] >= '0' &&
		     v.p[i] <= '9' && me < 10000000; i++) {
			me = me * 10 + (unsigned long)(v.p[i] - '0');
		}
		if (me > g->expires && me <= 10000000) {
			/* RFC 3261 10.2.8: ask again with at least that */
			g->n423++;
			g->expires = (uint32_t)me;
			log_warn(LOG_CLIENT, "gateway %s, interval raised to "
			    "%lu s (423 Min-Expires)", g->conf.name, me);
			g->next_ms = mono_ms(c) + 1;
			return;
		}
	}
	if (r->status == 403 || r->status == 404 || r->status == 401 ||
	    r->status == 407) {
		/* refused for good: retrying would not change the answer */
		g->next_ms = 0;
		g->until = 0;
		set_state(g, GW_FAILED, r->status == 401 || r->status == 407
			? (r->why ? r->why : "credentials refused")
			: why);
		return;
	}
	back_off(g, r->resp, why);
}

/* ------------------------------------------------------- configuration */

struct core_gws *
core_gws_new(void)
{
	struct core_gws *gs = calloc(1, sizeof(*gs));

	if (gs != NULL) {
		gs->backoff_ms = CONF_DEFAULT_GW_BACKOFF * 1000u;
		gs->backoff_cap_ms = CONF_DEFAULT_GW_BACKOFF_MAX * 1000u;
	}
	return gs;
}

void
core_gws_free(struct core *c)
{
	struct core_gws *gs = c->gws;

	if (gs == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		core_uac_cancel(gs->g[i].u);
	}
	free(gs);
	c->gws = NULL;
}

static struct gw *
find(struct core_gws *gs, const char *name, bool gone)
{
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		struct gw *g = &gs->g[i];
		if (g->used && g->gone == gone &&
		    strcasecmp(g->conf.name, name) == 0) {
			return g;
		}
	}
	return NULL;
}

/* Do a and b register differently? */
static bool
reg_changed(const struct conf_gw *a, const struct conf_gw *b)
{
	return strcasecmp(a->domain, b->domain) != 0 ||
	    strcmp(a->via, b->via) != 0 || strcmp(a->username, b->username) ||
	    strcmp(a->password, b->password) ||
	    strcmp(a->authname, b->authname) ||
	    strcmp(a->contact, b->contact) ||
	    a->register_every != b->register_every;
}

/* Leave: Expires 0 when registered (or on its way), else forget. */
static void
leave(struct gw *g, const char *why)
{
	core_uac_cancel(g->u);
	g->u = NULL;
	if (g->state == GW_REGISTERED || g->state == GW_REGISTERING ||
	    g->state == GW_UNREGISTERING) {
		set_state(g, GW_UNREGISTERING, why);
		g->next_ms = 0;
		if (send_register(g, 0) == 0) {
			return;
		}
	}
	g->until = 0;
	g->next_ms = 0;
	if (g->state != GW_UNREGISTERED) {
		set_state(g, GW_UNREGISTERED, why);
	}
	if (g->gone) {
		gw_release(g);
	}
}

/* The Contact must name something local: say so once when it does
 * not (the accounts may come later in the file, so it is no error). */
static void
contact_check(struct core *c, const struct gw *g, const struct conf *conf)
{
	const char *md = core_main_domain(conf->acct, conf->main_domain);
	const char *user = g->conf.contact[0] ? g->conf.contact : g->conf.name;
	const char *at = strchr(user, '@');
	const char *dom = at ? at + 1 : md;
	struct acct_target t;
	enum acct_kind k;

	(void)c;
	if (dom == NULL) {
		k = ACCT_FOREIGN;
	} else {
		k = acct_resolve(conf->acct, user,
		    at ? (size_t)(at - user) : strlen(user), dom, strlen(dom),
		    &t);
	}
	if (k != ACCT_LOCAL && k != ACCT_FORWARD) {
		log_warn(LOG_CLIENT, "gateway %s, contact %.*s@%s is no local "
		    "account: calls from the gateway will not find it",
		    g->conf.name, at ? (int)(at - user) : (int)strlen(user),
		    user, dom ? dom : "(no main domain)");
	}
}

void
core_gws_configure(struct core *c, const struct conf *conf)
{
	struct core_gws *gs = c->gws;
	const char *md = core_main_domain(conf->acct, conf->main_domain);

	c->ngwc = conf->ngw;
	memcpy(c->gwc, conf->gw, (size_t)conf->ngw * sizeof(conf->gw[0]));
	core_gw_via_parse(c);
	if (gs == NULL) {
		return;
	}
	snprintf(gs->main_domain, sizeof(gs->main_domain), "%s",
	    md ? md : "");
	/* a cap below the first wait is the first wait */
	gs->backoff_ms = (uint64_t)conf->gw_backoff_s * 1000;
	gs->backoff_cap_ms = (uint64_t)conf->gw_backoff_max_s * 1000;
	if (gs->backoff_cap_ms < gs->backoff_ms) {
		gs->backoff_cap_ms = gs->backoff_ms;
	}
	/* removed ones leave */
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		struct gw *g = &gs->g[i];
		if (g->used && !g->gone &&
		    conf_gw_find(conf, g->conf.name) == NULL) {
			g->gone = true;
			g->want = false;
			shared_forget(c, g->conf.name);
			leave(g, "removed");
		}
	}
	for (int k = 0; k < conf->ngw; k++) {
		const struct conf_gw *cg = &conf->gw[k];
		struct gw *g = find(gs, cg->name, false);
		bool fresh = g == NULL;

		if (g == NULL) {
			for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]);
			     i++) {
				if (!gs->g[i].used) {
					g = &gs->g[i];
					break;
				}
			}
			if (g == NULL) {
				continue; /* every slot leaving: next time */
			}
			memset(g, 0, sizeof(*g));
			g->used = true;
			gs->nused++;
			g->c = c;
			g->want = true;
			g->conf = *cg;
			gw_reset_dialog(g);
		}
		bool changed = !fresh && reg_changed(&g->conf, cg);
		bool new_aor = !fresh &&
		    (strcasecmp(g->conf.domain, cg->domain) != 0 ||
			strcmp(g->conf.username, cg->username) != 0);
		if (changed && (g->state == GW_REGISTERED ||
				   g->state == GW_REGISTERING)) {
			/* the old binding goes first */
			leave(g, "settings changed");
		}
		g->conf = *cg;
		if (new_aor && g->u == NULL) {
			gw_reset_dialog(g);
		}
		if ((fresh || changed) && cg->register_every > 0) {
			contact_check(c, g, conf);
		}
		if (fresh || changed) {
			g->expires = cg->register_every;
			g->failures = 0;
			g->n423 = 0;
			if (cg->register_every > 0 && g->want && g->u == NULL) {
				g->next_ms = mono_ms(c) + 1;
			} else if (cg->register_every == 0 && g->u == NULL) {
				g->next_ms = 0;
			}
		}
	}
}

void
core_gws_tick(struct core *c)
{
	struct core_gws *gs = c->gws;
	uint64_t now;

	if (gs == NULL || gs->nused == 0 || c->draining) {
		return;
	}
	now = mono_ms(c);
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		struct gw *g = &gs->g[i];
		int rc;

		if (!g->used || g->gone || g->u != NULL || g->next_ms == 0 ||
		    now < g->next_ms || !g->want ||
		    g->conf.register_every == 0) {
			continue;
		}
		g->next_ms = 0;
		if (g->state != GW_REGISTERED) {
			set_state(g, GW_REGISTERING, "sending REGISTER");
		}
		rc = send_register(g, g->expires);
		if (rc < 0) {
			snprintf(g->last_reason, sizeof(g->last_reason),
			    "cannot send (%s)", strerror(-rc));
			g->last_status = 0;
			back_off(g, NULL, g->last_reason);
		}
	}
}

void
core_gws_drain(struct core *c)
{
	struct core_gws *gs = c->gws;

	if (gs == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		struct gw *g = &gs->g[i];
		if (g->used && g->want && !g->gone &&
		    g->state != GW_UNREGISTERING) {
			g->want = false;
			leave(g, "shutting down");
		}
	}
}

int
core_gw_register(struct core *c, const char *name, bool on)
{
	struct core_gws *gs = c->gws;
	struct gw *g = gs ? find(gs, name, false) : NULL;

	if (g == NULL) {
		return -ENOENT;
	}
	if (on) {
		char user[CONF_GW_STR + CONF_HOST_MAX];
		conf_gw_user(&g->conf, user, sizeof(user));
		if (user[0] == '\0') {
			return -EINVAL;
		}
		g->want = true;
		g->failures = 0;
		g->n423 = 0;
		if (g->expires == 0) {
			g->expires = g->conf.register_every > 0
			    ? g->conf.register_every
			    : 3600;
		}
		if (g->conf.register_every == 0) {
			/* once, by hand: register-every 0 means no
			 * automatic registration */
			if (g->u == NULL) {
				set_state(g, GW_REGISTERING, "by command");
				if (send_register(g, g->expires) < 0) {
					back_off(g, NULL, "cannot send");
				}
			}
			return 0;
		}
		if (g->u == NULL) {
			g->next_ms = mono_ms(c) + 1;
			core_gws_tick(c);
		}
		return 0;
	}
	g->want = false;
	leave(g, "by command");
	return 0;
}

void
core_gw_foreach(struct core *c,
    void (*fn)(void *arg, const struct core_gw_info *gi), void *arg)
{
	struct core_gws *gs = c->gws;
	int64_t now = (int64_t)time(NULL);

	if (gs == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(gs->g) / sizeof(gs->g[0]); i++) {
		struct gw *g = &gs->g[i];
		struct core_gw_info gi = { 0 };

		if (!g->used || g->gone) {
			continue;
		}
		gi.name = g->conf.name;
		gi.state = state_names[g->state];
		gi.until = g->state == GW_REGISTERED || g->state == GW_BACKOFF
		    ? g->until
		    : 0;
		gi.last_status = g->last_status;
		gi.last_reason = g->last_reason;
		gi.nonce_age = g->auth.have && g->nonce_at != 0
		    ? now - g->nonce_at
		    : -1;
		gi.calls = g->calls;
		gi.calls_failed = g->calls_failed;
		if (c->gwsh != NULL) {
			struct gw_shared_one *o;
			pthread_mutex_lock(&c->gwsh->lock);
			o = shared_of(c->gwsh, g->conf.name, false);
			if (o != NULL) {
				gi.calls = o->calls;
				gi.calls_failed = o->calls_failed;
			}
			pthread_mutex_unlock(&c->gwsh->lock);
		}
		gi.target = g->target;
		gi.expires = g->expires;
		gi.cseq = g->cseq;
		fn(arg, &gi);
	}
}

/* ------------------------------------------------------------- shared */

struct core_gw_shared *
core_gw_shared_new(void)
{
	struct core_gw_shared *sh = calloc(1, sizeof(*sh));

	if (sh != NULL) {
		pthread_mutex_init(&sh->lock, NULL);
	}
	return sh;
}

void
core_gw_shared_free(struct core_gw_shared *sh)
{
	if (sh != NULL) {
		pthread_mutex_destroy(&sh->lock);
		free(sh);
	}
}

void
core_set_gw_shared(struct core *c, struct core_gw_shared *sh)
{
	c->gwsh = sh;
}

/* The entry of name (made when make); the lock held. */
static struct gw_shared_one *
shared_of(struct core_gw_shared *sh, const char *name, bool make)
{
	struct gw_shared_one *free_one = NULL;

	for (size_t i = 0; i < sizeof(sh->g) / sizeof(sh->g[0]); i++) {
		if (sh->g[i].name[0] == '\0') {
			free_one = free_one ? free_one : &sh->g[i];
		} else if (strcasecmp(sh->g[i].name, name) == 0) {
			return &sh->g[i];
		}
	}
	if (make && free_one != NULL) {
		memset(free_one, 0, sizeof(*free_one));
		snprintf(free_one->name, sizeof(free_one->name), "%s", name);
		return free_one;
	}
	return NULL;
}

/* Is addr one of o's addresses (whatever port the gateway sends from)?
 * The lock held. */
static bool
shared_has_addr(const struct gw_shared_one *o,
    const struct sockaddr_storage *addr)
{
	bool found = false;

	for (int i = 0; i < o->naddr; i++) {
		found |= tp_addr_in_prefix((const struct sockaddr *)addr,
		    (const struct sockaddr *)&o->addr[i],
		    addr->ss_family == AF_INET ? 32 : 128);
	}
	return found;
}

/* After a REGISTER: its challenge and the address it reached. */
static void
shared_publish(struct gw *g)
{
	struct core_gw_shared *sh = g->c->gwsh;
	struct gw_shared_one *o;

	if (sh == NULL) {
		return;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, g->conf.name, true);
	if (o != NULL) {
		/* a new nonce restarts the count; the same one keeps the
		 * higher count, calls having used it meanwhile */
		if (strcmp(o->auth.nonce, g->auth.nonce) != 0 ||
		    o->auth.nc < g->auth.nc) {
			o->auth = g->auth;
		} else {
			g->auth.nc = o->auth.nc;
		}
		if (g->have_dst) {
			bool seen = false;
			for (int i = 0; i < o->naddr; i++) {
				seen |= memcmp(&o->addr[i], &g->dst.addr,
				    sizeof(o->addr[i])) == 0;
			}
			if (!seen && o->naddr < GW_ADDRS) {
				atomic_fetch_add(&sh->naddr, 1);
				o->addr[o->naddr++] = g->dst.addr;
			} else if (!seen) {
				o->addr[GW_ADDRS - 1] = g->dst.addr;
			}
		}
	}
	pthread_mutex_unlock(&sh->lock);
}

/* Before a REGISTER: the nonce count calls took meanwhile. */
static void
shared_sync(struct gw *g)
{
	struct core_gw_shared *sh = g->c->gwsh;
	struct gw_shared_one *o;

	if (sh == NULL) {
		return;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, g->conf.name, false);
	if (o != NULL && strcmp(o->auth.nonce, g->auth.nonce) == 0 &&
	    o->auth.nc > g->auth.nc) {
		g->auth.nc = o->auth.nc;
	}
	pthread_mutex_unlock(&sh->lock);
}

static void
shared_forget(struct core *c, const char *name)
{
	struct core_gw_shared *sh = c->gwsh;
	struct gw_shared_one *o;

	if (sh == NULL) {
		return;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, name, false);
	if (o != NULL) {
		atomic_fetch_sub(&sh->naddr, o->naddr);
		memset(o, 0, sizeof(*o));
	}
	pthread_mutex_unlock(&sh->lock);
}

int
core_gw_shared_authorize(struct core *c, const char *name,
    const char *method, const char *uri, char *out, size_t cap,
    const char **hdr)
{
	struct core_gw_shared *sh = c->gwsh;
	struct gw_shared_one *o;
	int rc = -ENOENT;

	if (sh == NULL) {
		return -ENOENT;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, name, false);
	if (o != NULL && o->auth.have) {
		/* RFC 7616 3.4.5: the nonce of the last REGISTER, the next
		 * count, whichever worker sends it */
		rc = core_uac_authorize(c, &o->auth, method, uri, out, cap);
		*hdr = o->auth.hdr == HDR_PROXY_AUTHORIZATION
		    ? "Proxy-Authorization"
		    : "Authorization";
	}
	pthread_mutex_unlock(&sh->lock);
	return rc < 0 ? rc : 0;
}

void
core_gw_shared_count(struct core *c, const char *name, bool failed)
{
	struct core_gw_shared *sh = c->gwsh;
	struct gw_shared_one *o;

	if (sh == NULL) {
		return;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, name, true);
	if (o != NULL) {
		if (failed) {
			o->calls_failed++;
		} else {
			o->calls++;
		}
	}
	pthread_mutex_unlock(&sh->lock);
}

bool
core_gw_shared_addr(struct core *c, const char *name,
    const struct sockaddr_storage *addr)
{
	struct core_gw_shared *sh = c->gwsh;
	struct gw_shared_one *o;
	bool found = false;

	if (sh == NULL || atomic_load(&sh->naddr) == 0) {
		return false;
	}
	pthread_mutex_lock(&sh->lock);
	o = shared_of(sh, name, false);
	found = o != NULL && shared_has_addr(o, addr);
	pthread_mutex_unlock(&sh->lock);
	return found;
}

int
core_gw_shared_which(struct core *c, const struct conf_gw *gwc, int n,
    const struct sockaddr_storage *addr)
{
	struct core_gw_shared *sh = c->gwsh;
	int which = 0;

	if (sh == NULL || n == 0 || atomic_load(&sh->naddr) == 0) {
		return 0;
	}
	/* one lock for all: the address first, the name only when it
	 * matches; the first gateway of gwc wins, as one lookup each
	 * in gwc's order would find */
	pthread_mutex_lock(&sh->lock);
	for (size_t k = 0; k < sizeof(sh->g) / sizeof(sh->g[0]); k++) {
		const struct gw_shared_one *o = &sh->g[k];

		if (o->name[0] == '\0' || o->naddr == 0 ||
		    !shared_has_addr(o, addr)) {
			continue;
		}
		for (int i = 0; i < n && (which == 0 || i + 1 < which); i++) {
			if (strcasecmp(gwc[i].name, o->name) == 0) {
				which = i + 1;
				break;
			}
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return which;
}
