/*
 * reg.c: the registrar's index of bindings and everything around it but
 * REGISTER itself (register.c): creation (opening the store and loading
 * it), lookups and listings as snapshots, removal by the administrator,
 * the purge of expired bindings, settings and counters.
 *
 * The index is a hash table of AOR records, each with a short list of
 * bindings in arrival order (at most max_per_aor, 10 by default, so lists
 * are scanned).  The table doubles when it holds more AORs than buckets.
 * struct reg's mutex guards the index and the counters; it is taken for
 * the length of one call and never held across calls.  The store belongs
 * to the writer thread (writer.c) once it is loaded: changes are queued
 * to it under the mutex, in the index's order, and written outside it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sipd/log.h"
#include "sipd/reg/reg_int.h"

#define REG_INITIAL_BUCKETS 1024

void
reg_settings_init(struct reg_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->default_expires = REG_DEFAULT_EXPIRES;
	s->min_expires = REG_DEFAULT_MIN_EXPIRES;
	s->max_expires = REG_DEFAULT_MAX_EXPIRES;
	s->max_per_aor = REG_DEFAULT_MAX_PER_AOR;
	s->max_total = REG_DEFAULT_MAX_TOTAL;
	s->retry_after = REG_DEFAULT_RETRY_AFTER;
	s->path_strict = true;
	s->sync = REG_SYNC_FULL;
}

void
reg_snap_free(struct reg_snap *s)
{
	free(s);
}

/* ---------------------------------------------------------------- names */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int
reg_aor_norm(const char *in, char *out)
{
	size_t len, at;
	const char *a;

	if (in == NULL) {
		return -EINVAL;
	}
	len = strlen(in);
	if (len == 0 || len > REG_AOR_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= ' ' || c == 0x7f) {
			return -EINVAL;
		}
	}
	/* RFC 3261 19.1.4: the host compares without case, the user with */
	a = strrchr(in, '@');
	at = a == NULL ? 0 : (size_t)(a - in) + 1;
	if (at == len) {
		return -EINVAL;
	}
	memcpy(out, in, at);
	for (size_t i = at; i < len; i++) {
		out[i] = lower(in[i]);
	}
	out[len] = '\0';
	return (int)len;
}

int
reg_aor(const char *base, const struct uri *u, char *out, size_t cap)
{
	size_t n = 0;
	struct sv user, host;
	int k;

	if (u->scheme != URI_SIP && u->scheme != URI_SIPS) {
		return -EINVAL;
	}
	user = (struct sv){ base + u->user.off, u->user.len };
	host = (struct sv){ base + u->host.off, u->host.len };
	if (host.len == 0) {
		return -EINVAL;
	}
	if (cap > REG_AOR_MAX + 1) {
		cap = REG_AOR_MAX + 1;
	}
	if (user.len > 0) {
		k = uri_unescape(user, out, cap);
		if (k < 0) {
			return k;
		}
		n = (size_t)k;
		for (size_t i = 0; i < n; i++) {
			/* no controls or blanks: an AOR goes into log lines */
			if ((unsigned char)out[i] <= ' ' || out[i] == 0x7f) {
				return -EINVAL;
			}
		}
		if (n + 1 >= cap) {
			return -ENOSPC;
		}
		out[n++] = '@';
	}
	if (n + host.len >= cap) {
		return -ENOSPC;
	}
	for (size_t i = 0; i < host.len; i++) {
		out[n++] = lower(host.p[i]);
	}
	out[n] = '\0';
	return (int)n;
}

bool
reg_contact_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	struct uri ua, ub;

	if (alen == blen && memcmp(a, b, alen) == 0) {
		return true;
	}
	if (alen > UINT32_MAX || blen > UINT32_MAX ||
	    uri_parse(a, (struct span){ 0, (uint32_t)alen }, &ua) != 0 ||
	    uri_parse(b, (struct span){ 0, (uint32_t)blen }, &ub) != 0) {
		return false;
	}
	return uri_equal(a, &ua, b, &ub);
}

void
reg_qvalue(uint16_t q, char *out)
{
	/* RFC 3261 25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" ... ) */
	if (q >= 1000) {
		memcpy(out, "1", 2);
		return;
	}
	if (q == 0) {
		memcpy(out, "0", 2);
		return;
	}
	out[0] = '0';
	out[1] = '.';
	out[2] = (char)('0' + q / 100);
	out[3] = (char)('0' + q / 10 % 10);
	out[4] = (char)('0' + q % 10);
	out[5] = '\0';
	for (int i = 4; i > 2 && out[i] == '0'; i--) {
		out[i] = '\0';
	}
}

/* ---------------------------------------------------------------- index */

static uint32_t
aor_hash(const struct reg *r, const char *s)
{
	/* seeded per registrar: the names are the peers' */
	uint64_t h = msg_fnv1a(MSG_FNV_INIT ^ r->seed, s, strlen(s));

	return (uint32_t)(h ^ (h >> 32));
}

struct reg_aor *
reg_aor_lookup(struct reg *r, const char *name, uint32_t *hash)
{
	uint32_t h = aor_hash(r, name);

	*hash = h;
	for (struct reg_aor *a = r->tab[h & (r->nbuckets - 1)]; a != NULL;
	     a = a->next) {
		if (a->hash == h && strcmp(a->name, name) == 0) {
			return a;
		}
	}
	return NULL;
}

struct reg_aor *
reg_aor_find(struct reg *r, const char *name)
{
	uint32_t h;

	return reg_aor_lookup(r, name, &h);
}

static void
grow(struct reg *r)
{
	size_t nb = r->nbuckets * 2;
	struct reg_aor **t = calloc(nb, sizeof(*t));

	if (t == NULL) {
		return; /* longer chains, still correct */
	}
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct reg_aor *a = r->tab[i], *next;
		for (; a != NULL; a = next) {
			next = a->next;
			a->next = t[a->hash & (nb - 1)];
			t[a->hash & (nb - 1)] = a;
		}
	}
	free(r->tab);
	r->tab = t;
	r->nbuckets = nb;
}

struct reg_aor *
reg_aor_get(struct reg *r, const char *name)
{
	uint32_t h;
	struct reg_aor *a = reg_aor_lookup(r, name, &h);

	return a != NULL ? a : reg_aor_insert(r, name, h);
}

struct reg_aor *
reg_aor_insert(struct reg *r, const char *name, uint32_t hash)
{
	struct reg_aor *a;
	size_t len;

	if (r->naors >= r->nbuckets) {
		grow(r);
	}
	len = strlen(name);
	a = calloc(1, sizeof(*a) + len + 1);
	if (a == NULL) {
		return NULL;
	}
	memcpy(a->name, name, len + 1);
	a->hash = hash;
	a->next = r->tab[a->hash & (r->nbuckets - 1)];
	r->tab[a->hash & (r->nbuckets - 1)] = a;
	r->naors++;
	return a;
}

void
reg_aor_drop(struct reg *r, struct reg_aor *a)
{
	struct reg_aor **pp = &r->tab[a->hash & (r->nbuckets - 1)];

	if (a->binds != NULL || a->inflight > 0) {
		return;
	}
	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			r->naors--;
			free(a);
			return;
		}
	}
}

static uint32_t
put_str(char *base, size_t *off, struct sv s)
{
	uint32_t at = (uint32_t)*off;

	memcpy(base + at, s.p, s.len);
	base[at + s.len] = '\0';
	*off += s.len + 1;
	return at;
}

/* A sockaddr into a binding's compact form; 0 when it does not fit. */
static uint8_t
sa_put(union reg_sa *to, const struct sockaddr_storage *from, size_t len)
{
	memset(to, 0, sizeof(*to));
	if ((from->ss_family != AF_INET && from->ss_family != AF_INET6) ||
	    len > sizeof(*to)) {
		return 0;
	}
	if (len == 0) {
		len = from->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6);
	}
	memcpy(to, from, len);
	return (uint8_t)len;
}

static void
sa_get(struct sockaddr_storage *to, const union reg_sa *from)
{
	memset(to, 0, sizeof(*to));
	if (from->sa.sa_family == AF_INET) {
		memcpy(to, &from->in, sizeof(from->in));
	} else if (from->sa.sa_family == AF_INET6) {
		memcpy(to, &from->in6, sizeof(from->in6));
	}
}

struct reg_bind *
reg_bind_new(struct reg *r, struct reg_aor *a, const struct reg_binding *vals,
    struct sv contact, struct sv callid, struct sv path, struct sv ua)
{
	size_t need = contact.len + 1 + callid.len + 1 +
	    (path.len ? path.len + 1 : 0) + (ua.len ? ua.len + 1 : 0);
	struct reg_bind *b;
	size_t off = 0;

	if (need > UINT32_MAX) {
		return NULL;
	}
	b = malloc(sizeof(*b) + need);
	if (b == NULL) {
		return NULL;
	}
	b->next = NULL;
	b->aor = a->name;
	b->seq = r->seq++;
	b->conn_id = vals->conn_id;
	b->expires = vals->expires;
	b->registered = vals->registered;
	b->ka_pending = vals->ka_pending;
	b->cseq = vals->cseq;
	b->ka_fails = vals->ka_fails;
	b->q = vals->q;
	b->proto = vals->proto;
	b->nat = vals->nat;
	b->addrlen = vals->addrlen > sizeof(vals->addr) ? 0 :
	    sa_put(&b->addr, &vals->addr, vals->addrlen);
	if (b->addrlen == 0) {
		memset(&b->addr, 0, sizeof(b->addr));
	}
	(void)sa_put(&b->local, &vals->local, 0);
	(void)put_str(b->data, &off, contact);
	b->callid_off = put_str(b->data, &off, callid);
	b->path_off = path.len ? put_str(b->data, &off, path) : 0;
	b->ua_off = ua.len ? put_str(b->data, &off, ua) : 0;
	return b;
}

void
reg_bind_get(const struct reg_bind *b, struct reg_binding *out)
{
	memset(out, 0, sizeof(*out));
	out->aor = b->aor;
	out->contact = reg_bind_contact(b);
	out->callid = reg_bind_callid(b);
	out->path = b->path_off != 0 ? b->data + b->path_off : NULL;
	out->user_agent = b->ua_off != 0 ? b->data + b->ua_off : NULL;
	out->expires = b->expires;
	out->registered = b->registered;
	out->cseq = b->cseq;
	out->q = b->q;
	out->proto = b->proto;
	out->conn_id = b->conn_id;
	out->addrlen = b->addrlen;
	sa_get(&out->addr, &b->addr);
	out->nat = b->nat;
	out->ka_fails = b->ka_fails;
	out->ka_pending = b->ka_pending;
	sa_get(&out->local, &b->local);
}

void
reg_bind_link(struct reg *r, struct reg_aor *a, struct reg_bind *b)
{
	struct reg_bind **pp = &a->binds;

	while (*pp != NULL) {
		pp = &(*pp)->next;
	}
	b->next = NULL;
	*pp = b;
	a->n++;
	r->nbinds++;
	if (b->expires < r->next_expiry) {
		r->next_expiry = b->expires;
	}
}

void
reg_bind_unlink(struct reg *r, struct reg_aor *a, struct reg_bind *b)
{
	for (struct reg_bind **pp = &a->binds; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			a->n--;
			r->nbinds--;
			free(b);
			return;
		}
	}
}

/* Log "registrar, <what> aor -> contact<why>" and unlink b. */
static void
reg_bind_drop(struct reg *r, struct reg_aor *a, struct reg_bind *b,
    const char *what, const char *why)
{
	char cbuf[LOG_CLIP_SIZE];

	log_info(LOG_SERVER, "registrar, %s %s -> %s%s", what, a->name,
	    log_clip(cbuf, sizeof(cbuf), reg_bind_contact(b),
		strlen(reg_bind_contact(b))),
	    why);
	reg_bind_unlink(r, a, b);
}

/* ------------------------------------------------------------ snapshots */

static size_t
bind_strlen(const struct reg_binding *b)
{
	return strlen(b->aor) + 1 + strlen(b->contact) + 1 +
	    strlen(b->callid) + 1 + (b->path ? strlen(b->path) + 1 : 0) +
	    (b->user_agent ? strlen(b->user_agent) + 1 : 0);
}

static const char *
copy_str(char **p, const char *s)
{
	size_t n;

	if (s == NULL) {
		return NULL;
	}
	n = strlen(s) + 1;
	memcpy(*p, s, n);
	*p += n;
	return *p - n;
}

/* RFC 3261 16.6: higher q first; then first registered, then arrival. */
static int
bind_cmp(const void *x, const void *y)
{
	const struct reg_bind *a = *(const struct reg_bind *const *)x;
	const struct reg_bind *b = *(const struct reg_bind *const *)y;
	int c = strcmp(a->aor, b->aor);

	if (c != 0) {
		return c;
	}
	if (a->q != b->q) {
		return a->q > b->q ? -1 : 1;
	}
	if (a->registered != b->registered) {
		return a->registered < b->registered ? -1 : 1;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Build a snapshot of the n bindings in v (sorted here).  Returns n or
 * -ENOMEM.
 */
static int
snap_build(struct reg_bind **v, size_t n, struct reg_snap **out)
{
	size_t strs = 0;
	struct reg_snap *s;
	char *p;

	*out = NULL;
	if (n == 0) {
		return 0;
	}
	if (n > INT32_MAX) {
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), bind_cmp);
	for (size_t i = 0; i < n; i++) {
		struct reg_binding tmp;

		reg_bind_get(v[i], &tmp);
		strs += bind_strlen(&tmp);
	}
	s = malloc(sizeof(*s) + n * sizeof(s->b[0]) + strs);
	if (s == NULL) {
		return -ENOMEM;
	}
	s->n = n;
	p = (char *)&s->b[n];
	for (size_t i = 0; i < n; i++) {
		struct reg_binding *d = &s->b[i];

		reg_bind_get(v[i], d);
		d->aor = copy_str(&p, d->aor);
		d->contact = copy_str(&p, d->contact);
		d->callid = copy_str(&p, d->callid);
		d->path = copy_str(&p, d->path);
		d->user_agent = copy_str(&p, d->user_agent);
	}
	*out = s;
	return (int)n;
}

/* A's bindings unexpired at now, in v when they fit (cap of them), else
 * in an array the caller frees when *vp is not v.  Their count, or
 * -ENOMEM. */
#define LIVE_INLINE 64
static int
live_binds(const struct reg_aor *a, time_t now, struct reg_bind **v,
    struct reg_bind ***vp)
{
	int n = 0;

	*vp = v;
	if (a->n > LIVE_INLINE) {
		*vp = malloc(a->n * sizeof(**vp));
		if (*vp == NULL) {
			return -ENOMEM;
		}
	}
	for (struct reg_bind *b = a->binds; b != NULL; b = b->next) {
		if (b->expires > now) {
			(*vp)[n++] = b;
		}
	}
	return n;
}

int
reg_snap_aor(struct reg_aor *a, time_t now, struct reg_snap **out)
{
	struct reg_bind *v[LIVE_INLINE], **vp;
	int n, rc;

	*out = NULL;
	if (a == NULL) {
		return 0;
	}
	n = live_binds(a, now, v, &vp);
	if (n < 0) {
		return n;
	}
	rc = snap_build(vp, (size_t)n, out);
	if (vp != v) {
		free(vp);
	}
	return rc;
}

int
reg_aor_walk(struct reg_aor *a, time_t now,
    int (*fn)(void *arg, const struct reg_bind *b), void *arg)
{
	struct reg_bind *v[LIVE_INLINE], **vp;
	int n, rc = 0;

	if (a == NULL) {
		return 0;
	}
	n = live_binds(a, now, v, &vp);
	if (n < 0) {
		return n;
	}
	if (n > 1) {
		qsort(vp, (size_t)n, sizeof(*vp), bind_cmp);
	}
	for (int i = 0; i < n && rc >= 0; i++) {
		rc = fn(arg, vp[i]);
	}
	if (vp != v) {
		free(vp);
	}
	return rc < 0 ? rc : 0;
}

int
reg_lookup(struct reg *r, const char *aor, time_t now, struct reg_snap **out)
{
	char name[REG_AOR_MAX + 1];
	int rc;

	*out = NULL;
	if (reg_aor_norm(aor, name) < 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	rc = reg_snap_aor(reg_aor_find(r, name), now, out);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
reg_keepalive_sent(struct reg *r, const char *aor, const char *contact,
    time_t now, uint32_t *fails)
{
	char name[REG_AOR_MAX + 1];
	struct reg_aor *a;
	int rc = -ENOENT;

	if (reg_aor_norm(aor, name) < 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	a = reg_aor_find(r, name);
	for (struct reg_bind *b = a != NULL ? a->binds : NULL; b != NULL;
	     b = b->next) {
		if (b->expires <= now ||
		    strcmp(reg_bind_contact(b), contact) != 0) {
			continue;
		}
		if (b->ka_pending != 0) {
			b->ka_fails++;
		}
		b->ka_pending = now;
		*fails = b->ka_fails;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Same address and port? */
static bool
same_addr(const union reg_sa *a, const struct sockaddr_storage *b)
{
	if (a->sa.sa_family != b->ss_family) {
		return false;
	}
	if (a->sa.sa_family == AF_INET) {
		const struct sockaddr_in *y = (const void *)b;
		return a->in.sin_port == y->sin_port &&
		    a->in.sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa.sa_family == AF_INET6) {
		const struct sockaddr_in6 *y = (const void *)b;
		return a->in6.sin6_port == y->sin6_port &&
		    memcmp(&a->in6.sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

int
reg_keepalive_answered(struct reg *r, const char *aor,
    const struct sockaddr_storage *addr)
{
	char name[REG_AOR_MAX + 1];
	struct reg_aor *a;
	int n = 0;

	if (reg_aor_norm(aor, name) < 0) {
		return 0;
	}
	pthread_mutex_lock(&r->lock);
	a = reg_aor_find(r, name);
	for (struct reg_bind *b = a != NULL ? a->binds : NULL; b != NULL;
	     b = b->next) {
		if (same_addr(&b->addr, addr)) {
			b->ka_pending = 0;
			b->ka_fails = 0;
			n++;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

int
reg_list(struct reg *r, const char *aor, time_t now, struct reg_snap **out)
{
	struct reg_bind **v = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (aor != NULL) {
		return reg_lookup(r, aor, now, out);
	}
	pthread_mutex_lock(&r->lock);
	if (r->nbinds > 0) {
		v = malloc(r->nbinds * sizeof(*v));
		if (v == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < r->nbuckets; i++) {
		for (struct reg_aor *a = r->tab[i]; a != NULL; a = a->next) {
			for (struct reg_bind *b = a->binds; b != NULL;
			     b = b->next) {
				if (b->expires > now) {
					v[n++] = b;
				}
			}
		}
	}
	rc = snap_build(v, n, out);
out:
	pthread_mutex_unlock(&r->lock);
	free(v);
	return rc;
}

/* ------------------------------------------------------------- changes */

int
reg_remove(struct reg *r, const char *aor, const char *contact)
{
	char name[REG_AOR_MAX + 1];
	struct reg_aor *a;
	struct reg_bind *b, *next;
	struct reg_wait w = { 0 };
	int n = 0, rc = 0;

	if (reg_aor_norm(aor, name) < 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	while ((a = reg_aor_find(r, name)) != NULL && a->inflight > 0) {
		pthread_cond_wait(&r->settled, &r->lock);
	}
	if (a == NULL) {
		rc = -ENOENT;
		goto out;
	}
	for (b = a->binds; b != NULL; b = b->next) {
		if (contact == NULL ||
		    reg_contact_equal(reg_bind_contact(b),
			strlen(reg_bind_contact(b)),
			contact, strlen(contact))) {
			n++;
		}
	}
	if (n == 0) {
		rc = -ENOENT;
		goto out;
	}
	if (r->wq != NULL) {
		/* the store matches contacts exactly: one record per
		 * binding, with the contact as stored */
		struct reg_rec *head = NULL, *tail = NULL, *rec;

		for (b = a->binds; b != NULL; b = b->next) {
			if (contact != NULL &&
			    !reg_contact_equal(reg_bind_contact(b),
				strlen(reg_bind_contact(b)), contact,
				strlen(contact))) {
				continue;
			}
			rec = reg_rec_new(contact != NULL ? REG_REC_DEL :
			    REG_REC_DEL_AOR, NULL, name, reg_bind_contact(b),
			    0);
			if (rec == NULL) {
				reg_rec_free_list(head);
				rc = -ENOMEM;
				goto out;
			}
			reg_rec_append(&head, &tail, rec);
			if (contact == NULL) {
				break;
			}
		}
		/* the index changes once the store has it */
		a->inflight++;
		reg_wq_push(r, head, &w);
		pthread_mutex_unlock(&r->lock);
		rc = reg_wq_wait(r, &w);
		pthread_mutex_lock(&r->lock);
		a->inflight--;
		pthread_cond_broadcast(&r->settled);
		if (rc < 0) {
			log_err(LOG_SERVER, "registrar, store %s failed "
			    "removing %s (%s)", r->ops->name, name,
			    strerror(-rc));
			reg_aor_drop(r, a);
			goto out;
		}
	}
	n = 0;
	for (b = a->binds; b != NULL; b = next) {
		next = b->next;
		if (contact == NULL ||
		    reg_contact_equal(reg_bind_contact(b),
			strlen(reg_bind_contact(b)),
			contact, strlen(contact))) {
			reg_bind_drop(r, a, b, "removed", " (administrator)");
			n++;
		}
	}
	reg_aor_drop(r, a);
	rc = n;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
reg_purge(struct reg *r, time_t now)
{
	time_t next = (time_t)INT64_MAX;
	int n = 0, rc = 0;

	pthread_mutex_lock(&r->lock);
	if (now < r->next_expiry && !r->purge_pending) {
		goto out;
	}
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct reg_aor *a = r->tab[i], *anext;
		for (; a != NULL; a = anext) {
			struct reg_bind *b = a->binds, *bnext;
			anext = a->next;
			if (a->inflight > 0) {
				/* its change settles first; next time */
				next = now + 1;
				continue;
			}
			for (; b != NULL; b = bnext) {
				bnext = b->next;
				if (b->expires > now) {
					if (b->expires < next) {
						next = b->expires;
					}
					continue;
				}
				reg_bind_drop(r, a, b, "expired", "");
				n++;
			}
			reg_aor_drop(r, a);
		}
	}
	r->next_expiry = next;
	if (r->wq != NULL && (n > 0 || r->purge_pending)) {
		struct reg_rec *rec = reg_rec_new(REG_REC_PURGE, NULL, NULL,
		    NULL, now);

		/* the writer writes it again until it works */
		r->purge_pending = rec == NULL;
		if (rec != NULL) {
			reg_wq_push(r, rec, NULL);
		}
	}
out:
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? rc : n;
}

/* ------------------------------------------------------ life and settings */

struct load_ctx {
	struct reg *r;
	time_t now;
	size_t expired;
	int err;
};

static int
load_one(void *arg, const struct reg_binding *in)
{
	struct load_ctx *c = arg;
	char name[REG_AOR_MAX + 1];
	struct reg_binding vals = *in;
	struct reg_aor *a;
	struct reg_bind *b;

	if (in->expires <= c->now) {
		c->expired++;
		return 0;
	}
	if (reg_aor_norm(in->aor, name) < 0 || in->contact == NULL ||
	    in->callid == NULL) {
		return 0; /* not ours: skip it */
	}
	a = reg_aor_get(c->r, name);
	if (a == NULL) {
		c->err = -ENOMEM;
		return 1;
	}
	vals.conn_id = 0; /* connections do not survive a restart */
	b = reg_bind_new(c->r, a, &vals,
	    (struct sv){ in->contact, strlen(in->contact) },
	    (struct sv){ in->callid, strlen(in->callid) },
	    (struct sv){ in->path, in->path ? strlen(in->path) : 0 },
	    (struct sv){ in->user_agent,
		in->user_agent ? strlen(in->user_agent) : 0 });
	if (b == NULL) {
		reg_aor_drop(c->r, a);
		c->err = -ENOMEM;
		return 1;
	}
	reg_bind_link(c->r, a, b);
	return 0;
}

struct reg *
reg_new(const struct reg_settings *set, const struct reg_store_ops *ops,
    const char *where, time_t now, int *err)
{
	struct reg *r = calloc(1, sizeof(*r));
	struct load_ctx lc = { .now = now };
	int rc = -ENOMEM;

	if (r == NULL) {
		goto fail;
	}
	if (set != NULL) {
		r->set = *set;
	} else {
		reg_settings_init(&r->set);
	}
	r->ops = ops != NULL ? ops : &reg_store_sqlite;
	r->next_expiry = (time_t)INT64_MAX;
	r->nbuckets = REG_INITIAL_BUCKETS;
	r->tab = calloc(r->nbuckets, sizeof(*r->tab));
	if (r->tab == NULL) {
		goto fail_tab;
	}
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(r->seed)) {
		r->seed = (uint32_t)now ^ (uint32_t)(uintptr_t)r;
	}
	if ((rc = -pthread_mutex_init(&r->lock, NULL)) < 0) {
		goto fail_lock;
	}
	pthread_cond_init(&r->settled, NULL);
	if (where != NULL) {
		if ((r->where = strdup(where)) == NULL) {
			rc = -ENOMEM;
			goto fail_store;
		}
		rc = r->ops->open(where, &r->set, &r->st);
		if (rc < 0) {
			log_err(LOG_SERVER, "registrar, cannot open store %s "
			    "%s (%s)", r->ops->name, where, strerror(-rc));
			goto fail_store;
		}
		reg_store_note(r);
		lc.r = r;
		rc = r->ops->load(r->st, load_one, &lc);
		if (rc == 0) {
			rc = lc.err;
		}
		if (rc < 0) {
			log_err(LOG_SERVER, "registrar, cannot load store %s "
			    "%s (%s)", r->ops->name, where, strerror(-rc));
			goto fail_load;
		}
		if (lc.expired > 0 && (rc = r->ops->purge(r->st, now)) < 0) {
			r->purge_pending = true;
		}
		log_warn(LOG_SERVER, "registrar, loaded %zu bindings of %zu "
		    "aors from %s (%zu expired)", r->nbinds, r->naors, where,
		    lc.expired);
		if ((rc = reg_wq_start(r)) < 0) {
			log_err(LOG_SERVER, "registrar, cannot start the store "
			    "writer (%s)", strerror(-rc));
			goto fail_load;
		}
	}
	return r;

fail_load:
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct reg_aor *a = r->tab[i], *anext;
		for (; a != NULL; a = anext) {
			anext = a->next;
			while (a->binds != NULL) {
				reg_bind_unlink(r, a, a->binds);
			}
			free(a);
		}
	}
	r->ops->close(r->st);
fail_store:
	free(r->where);
	pthread_cond_destroy(&r->settled);
	pthread_mutex_destroy(&r->lock);
fail_lock:
	free(r->tab);
fail_tab:
	free(r);
fail:
	if (err != NULL) {
		*err = rc;
	}
	return NULL;
}

void
reg_free(struct reg *r)
{
	if (r == NULL) {
		return;
	}
	reg_wq_stop(r); /* writes what is queued */
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct reg_aor *a = r->tab[i], *anext;
		for (; a != NULL; a = anext) {
			struct reg_bind *b = a->binds, *bnext;
			anext = a->next;
			for (; b != NULL; b = bnext) {
				bnext = b->next;
				free(b);
			}
			free(a);
		}
	}
	free(r->tab);
	if (r->st != NULL) {
		r->ops->close(r->st);
	}
	free(r->where);
	pthread_cond_destroy(&r->settled);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const char *
reg_store_where(const struct reg *r)
{
	return r->where;
}

void
reg_set_settings(struct reg *r, const struct reg_settings *set)
{
	pthread_mutex_lock(&r->lock);
	r->set = *set;
	pthread_mutex_unlock(&r->lock);
}

void
reg_get_settings(struct reg *r, struct reg_settings *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->set;
	pthread_mutex_unlock(&r->lock);
}

void
reg_get_stats(struct reg *r, struct reg_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->stats;
	out->aors = r->naors;
	out->bindings = r->nbinds;
	pthread_mutex_unlock(&r->lock);
}
