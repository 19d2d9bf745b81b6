/*
 * The local domains and accounts (acct.h).  A snapshot is a sorted array
 * of domains and, per domain, a sorted array of its accounts and a sorted
 * index of every user name (accounts and account aliases) pointing at its
 * account, with a hash table over it; one more sorted index maps every
 * domain name and alias to its domain.  Lookups hash the user name and
 * search the domain names with the key as given (a slice of a message),
 * so they neither allocate nor copy.
 *
 * A snapshot shared by several holders is never changed: an edit copies
 * it (acct_dup()), changes the copy and swaps the caller's pointer.  An
 * edit checks everything and allocates what it needs before it changes
 * anything, so a failed edit leaves the snapshot as it was.
 *
 * Owns: the snapshots and every string in them.  The clear password of
 * an account is only ever in the caller's buffer and, for the time of a
 * digest, in one local buffer that is wiped afterwards.
 */
#include "sipd/acct/acct.h"
#include "proto/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

struct acct_alias {
	char *name;
	char ha1[ACCT__ALG_COUNT][ACCT_HA1_MAX + 1]; /* "" when unknown */
};

struct acct_account {
	char *user;
	char ha1[ACCT__ALG_COUNT][ACCT_HA1_MAX + 1];
	bool enabled;
	struct acct_alias *aliases;
	size_t naliases;
	char *forward;
};

/* A user name of a domain: an account's own (alias < 0) or an alias. */
struct acct_uname {
	const char *name;
	struct acct_account *acc;
	int alias;
};

struct acct_domain {
	char *name; /* lower case */
	bool enabled;
	char *aliases[ACCT_MAX_ALIASES];
	size_t naliases;
	struct acct_account **acc; /* by user name */
	size_t nacc;
	struct acct_uname *names; /* by name */
	size_t nnames;
	/* names by hash, open addressing: index + 1, 0 for none; a power
	 * of two of them, at least twice nnames (0 without names) */
	uint32_t *slots;
	size_t nslots;
};

/* A domain name or alias and its domain. */
struct acct_dname {
	const char *name;
	struct acct_domain *d;
};

struct acct {
	atomic_uint refs;
	struct acct_domain **dom; /* by name */
	size_t ndom;
	struct acct_dname *dnames;
	size_t ndnames;
};

static const size_t acct_ha1_len[ACCT__ALG_COUNT] = {32, 64};

const char *
acct_alg_name(enum acct_alg alg)
{
	return alg == ACCT_SHA256 ? "sha256" : "md5";
}

/* ------------------------------------------------------------ compare */

/* strcmp of the NUL-terminated key against p[0..len). */
static int
acct_cmp(const char *key, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && key[i] != '\0'; i++) {
		if (key[i] != p[i]) {
			return (unsigned char)key[i] < (unsigned char)p[i] ? -1
			                                                   : 1;
		}
	}
	if (i < len) {
		return -1; /* key is shorter */
	}
	return key[i] != '\0' ? 1 : 0;
}

/* The same with p folded to lower case (keys are lower case), ASCII's
 * folding as tolower() in the C locale, inline */
static int
acct_cmp_fold(const char *key, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && key[i] != '\0'; i++) {
		unsigned char c = (unsigned char)p[i];

		c = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;

		if ((unsigned char)key[i] != c) {
			return (unsigned char)key[i] < c ? -1 : 1;
		}
	}
	if (i < len) {
		return -1;
	}
	return key[i] != '\0' ? 1 : 0;
}

static const struct acct_dname *
acct_dname_find(const struct acct *a, const char *p, size_t len)
{
	size_t lo = 0, hi;

	if (a == NULL) {
		return NULL;
	}
	/* a fully qualified name may end with a dot */
	if (len > 1 && p[len - 1] == '.') {
		len--;
	}
	hi = a->ndnames;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = acct_cmp_fold(a->dnames[mid].name, p, len);

		if (c == 0) {
			return &a->dnames[mid];
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

/*
 * FNV-1a of p[0..len): the user names are the configuration's, so the
 * table's clusters are too, whatever name a peer looks up
 */
static uint32_t
acct_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	}
	return h;
}

static const struct acct_uname *
acct_uname_find(const struct acct_domain *d, const char *p, size_t len)
{
	size_t mask = d->nslots - 1;

	if (d->nslots == 0) {
		return NULL;
	}
	/* the table is at most half full: the probe ends at a free slot */
	for (size_t i = acct_hash(p, len) & mask;; i = (i + 1) & mask) {
		const struct acct_uname *un;

		if (d->slots[i] == 0) {
			return NULL;
		}
		un = &d->names[d->slots[i] - 1];
		if (acct_cmp(un->name, p, len) == 0) {
			return un;
		}
	}
}

/* ------------------------------------------------------------ lookups */

bool
acct_domain_is_local(const struct acct *a, const char *host, size_t len)
{
	const struct acct_dname *dn = acct_dname_find(a, host, len);

	return dn != NULL && dn->d->enabled;
}

enum acct_kind
acct_resolve(const struct acct *a, const char *user, size_t ulen,
             const char *host, size_t hlen, struct acct_target *out)
{
	const struct acct_dname *dn = acct_dname_find(a, host, hlen);
	const struct acct_uname *un;

	*out = (struct acct_target){ .kind = ACCT_FOREIGN };
	if (dn == NULL || !dn->d->enabled) {
		return out->kind;
	}
	out->domain = dn->d->name;
	out->kind = ACCT_UNKNOWN;
	un = acct_uname_find(dn->d, user, ulen);
	if (un == NULL || !un->acc->enabled) {
		return out->kind;
	}
	out->user = un->acc->user;
	out->forward = un->acc->forward;
	out->ha1 = (const char (*)[ACCT_HA1_MAX + 1])un->acc->ha1;
	out->kind = un->acc->forward != NULL ? ACCT_FORWARD : ACCT_LOCAL;
	return out->kind;
}

int
acct_ha1(const struct acct *a, const char *user, size_t ulen, const char *realm,
         size_t rlen, enum acct_alg alg, struct acct_cred *out)
{
	const struct acct_dname *dn = acct_dname_find(a, realm, rlen);
	const struct acct_uname *un;
	const char *h;

	memset(out, 0, sizeof(*out));
	if (dn == NULL || !dn->d->enabled || (unsigned)alg >= ACCT__ALG_COUNT) {
		return -ENOENT;
	}
	un = acct_uname_find(dn->d, user, ulen);
	if (un == NULL || !un->acc->enabled) {
		return -ENOENT;
	}
	h = un->alias < 0 ? un->acc->ha1[alg]
	                  : un->acc->aliases[un->alias].ha1[alg];
	if (h[0] == '\0') {
		return -ENOENT;
	}
	out->ha1 = h;
	out->user = un->acc->user;
	out->realm = dn->d->name;
	return 0;
}

int
acct_ha1_compute(enum acct_alg alg, const char *user, const char *realm,
                 const char *password, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	char buf[ACCT_USER_MAX + ACCT_DOMAIN_MAX + ACCT_PASSWORD_MAX + 8];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n, ok;

	if ((unsigned)alg >= ACCT__ALG_COUNT || cap < acct_ha1_len[alg] + 1) {
		return -EINVAL;
	}
	/* RFC 7616 3.4.2: A1 = username-value ":" realm-value ":" passwd */
	n = snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	ok = EVP_Digest(buf, (size_t)n, md, &mdlen,
	                alg == ACCT_SHA256 ? EVP_sha256() : EVP_md5(), NULL);
	explicit_bzero(buf, sizeof(buf));
	if (ok != 1 || mdlen * 2 != acct_ha1_len[alg]) {
		return -EIO;
	}
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[2 * mdlen] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}

/* ------------------------------------------------------------ listing */

size_t
acct_domain_count(const struct acct *a)
{
	return a != NULL ? a->ndom : 0;
}

static void
acct_domain_info_of(const struct acct_domain *d, struct acct_domain_info *o)
{
	memset(o, 0, sizeof(*o));
	o->name = d->name;
	o->enabled = d->enabled;
	o->naliases = d->naliases;
	for (size_t i = 0; i < d->naliases; i++) {
		o->aliases[i] = d->aliases[i];
	}
	o->naccounts = d->nacc;
}

void
acct_domain_get(const struct acct *a, size_t i, struct acct_domain_info *out)
{
	acct_domain_info_of(a->dom[i], out);
}

static void
acct_account_info_of(const struct acct_domain *d, const struct acct_account *ac,
                     struct acct_account_info *o)
{
	memset(o, 0, sizeof(*o));
	o->user = ac->user;
	o->domain = d->name;
	o->enabled = ac->enabled;
	for (int k = 0; k < ACCT__ALG_COUNT; k++) {
		o->ha1[k] = ac->ha1[k];
	}
	o->naliases = ac->naliases;
	for (size_t i = 0; i < ac->naliases; i++) {
		o->aliases[i] = ac->aliases[i].name;
		for (int k = 0; k < ACCT__ALG_COUNT; k++) {
			o->alias_ha1[i][k] = ac->aliases[i].ha1[k];
		}
	}
	o->forward = ac->forward;
}

void
acct_account_get(const struct acct *a, size_t i, size_t j,
                 struct acct_account_info *out)
{
	acct_account_info_of(a->dom[i], a->dom[i]->acc[j], out);
}

int
acct_domain_find(const struct acct *a, const char *name)
{
	const struct acct_dname *dn = acct_dname_find(a, name, strlen(name));

	if (dn == NULL) {
		return -1;
	}
	for (size_t i = 0; i < a->ndom; i++) {
		if (a->dom[i] == dn->d) {
			return (int)i;
		}
	}
	return -1;
}

/* Split "user@domain" and find both, enabled or not. */
static int
acct_addr_find(const struct acct *a, const char *addr, struct acct_domain **dp,
               const struct acct_uname **up)
{
	const char *at = strchr(addr, '@');
	const struct acct_dname *dn;

	*dp = NULL;
	*up = NULL;
	if (at == NULL || at == addr) {
		return -EINVAL;
	}
	dn = acct_dname_find(a, at + 1, strlen(at + 1));
	if (dn == NULL) {
		return -ENOENT;
	}
	*dp = dn->d;
	*up = acct_uname_find(dn->d, addr, (size_t)(at - addr));
	return *up != NULL ? 0 : -ENOENT;
}

int
acct_account_find(const struct acct *a, const char *addr,
                  struct acct_account_info *out)
{
	struct acct_domain *d;
	const struct acct_uname *un;
	int rc = acct_addr_find(a, addr, &d, &un);

	if (rc < 0) {
		return -ENOENT;
	}
	acct_account_info_of(d, un->acc, out);
	return 0;
}

bool
acct_has_accounts(const struct acct *a)
{
	for (size_t i = 0; a != NULL && i < a->ndom; i++) {
		if (a->dom[i]->nacc > 0) {
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- lifetime */

static void
acct_account_free(struct acct_account *ac)
{
	if (ac == NULL) {
		return;
	}
	for (size_t i = 0; i < ac->naliases; i++) {
		free(ac->aliases[i].name);
	}
	explicit_bzero(ac->ha1, sizeof(ac->ha1));
	if (ac->aliases != NULL) {
		explicit_bzero(ac->aliases,
		               ac->naliases * sizeof(ac->aliases[0]));
	}
	free(ac->aliases);
	free(ac->user);
	free(ac->forward);
	free(ac);
}

static void
acct_domain_free(struct acct_domain *d)
{
	if (d == NULL) {
		return;
	}
	for (size_t i = 0; i < d->nacc; i++) {
		acct_account_free(d->acc[i]);
	}
	for (size_t i = 0; i < d->naliases; i++) {
		free(d->aliases[i]);
	}
	free(d->acc);
	free(d->names);
	free(d->slots);
	free(d->name);
	free(d);
}

struct acct *
acct_new(void)
{
	struct acct *a = calloc(1, sizeof(*a));

	if (a != NULL) {
		atomic_init(&a->refs, 1);
	}
	return a;
}

struct acct *
acct_ref(struct acct *a)
{
	if (a != NULL) {
		atomic_fetch_add(&a->refs, 1);
	}
	return a;
}

static void
acct_free(struct acct *a)
{
	for (size_t i = 0; i < a->ndom; i++) {
		acct_domain_free(a->dom[i]);
	}
	free(a->dom);
	free(a->dnames);
	free(a);
}

void
acct_unref(struct acct *a)
{
	if (a != NULL && atomic_fetch_sub(&a->refs, 1) == 1) {
		acct_free(a);
	}
}

/* ------------------------------------------------------------ indexes */

static int
acct_uname_order(const void *x, const void *y)
{
	return strcmp(((const struct acct_uname *)x)->name,
	              ((const struct acct_uname *)y)->name);
}

static int
acct_dname_order(const void *x, const void *y)
{
	return strcmp(((const struct acct_dname *)x)->name,
	              ((const struct acct_dname *)y)->name);
}

/* Rebuild d's index of user names.  Returns 0 or -ENOMEM (d unchanged). */
static int
acct_domain_index(struct acct_domain *d)
{
	struct acct_uname *names;
	uint32_t *slots;
	size_t n = 0, ns = 0;

	for (size_t i = 0; i < d->nacc; i++) {
		n += 1 + d->acc[i]->naliases;
	}
	while (n > 0 && ns < 2 * n) {
		ns = ns > 0 ? 2 * ns : 4;
	}
	names = calloc(n > 0 ? n : 1, sizeof(*names));
	slots = calloc(ns > 0 ? ns : 1, sizeof(*slots));
	if (names == NULL || slots == NULL || n >= UINT32_MAX) {
		free(names);
		free(slots);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < d->nacc; i++) {
		struct acct_account *ac = d->acc[i];

		names[n++] = (struct acct_uname){ac->user, ac, -1};
		for (size_t k = 0; k < ac->naliases; k++) {
			names[n++] = (struct acct_uname){ac->aliases[k].name,
			                                 ac, (int)k};
		}
	}
	qsort(names, n, sizeof(*names), acct_uname_order);
	for (size_t k = 0; k < n; k++) {
		size_t i = acct_hash(names[k].name, strlen(names[k].name)) &
		    (ns - 1);

		while (slots[i] != 0) {
			i = (i + 1) & (ns - 1);
		}
		slots[i] = (uint32_t)k + 1;
	}
	free(d->names);
	free(d->slots);
	d->names = names;
	d->nnames = n;
	d->slots = slots;
	d->nslots = ns;
	return 0;
}

/* Rebuild the index of domain names.  Returns 0 or -ENOMEM. */
static int
acct_index(struct acct *a)
{
	struct acct_dname *dn;
	size_t n = 0;

	for (size_t i = 0; i < a->ndom; i++) {
		n += 1 + a->dom[i]->naliases;
	}
	dn = calloc(n > 0 ? n : 1, sizeof(*dn));
	if (dn == NULL) {
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < a->ndom; i++) {
		struct acct_domain *d = a->dom[i];

		dn[n++] = (struct acct_dname){d->name, d};
		for (size_t k = 0; k < d->naliases; k++) {
			dn[n++] = (struct acct_dname){d->aliases[k], d};
		}
	}
	qsort(dn, n, sizeof(*dn), acct_dname_order);
	free(a->dnames);
	a->dnames = dn;
	a->ndnames = n;
	return 0;
}

/* ---------------------------------------------------------------- copy */

static struct acct_account *
acct_account_dup(const struct acct_account *s)
{
	struct acct_account *ac = calloc(1, sizeof(*ac));

	if (ac == NULL) {
		return NULL;
	}
	memcpy(ac->ha1, s->ha1, sizeof(ac->ha1));
	ac->enabled = s->enabled;
	ac->user = strdup(s->user);
	ac->forward = s->forward != NULL ? strdup(s->forward) : NULL;
	if (s->naliases > 0) {
		ac->aliases = calloc(s->naliases, sizeof(ac->aliases[0]));
	}
	if (ac->user == NULL || (s->forward != NULL && ac->forward == NULL) ||
	    (s->naliases > 0 && ac->aliases == NULL)) {
		goto fail;
	}
	for (size_t i = 0; i < s->naliases; i++) {
		ac->aliases[i] = s->aliases[i];
		ac->aliases[i].name = strdup(s->aliases[i].name);
		if (ac->aliases[i].name == NULL) {
			goto fail;
		}
		ac->naliases++;
	}
	return ac;
fail:
	acct_account_free(ac);
	return NULL;
}

static struct acct_domain *
acct_domain_dup(const struct acct_domain *s)
{
	struct acct_domain *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	d->enabled = s->enabled;
	d->name = strdup(s->name);
	d->acc = calloc(s->nacc > 0 ? s->nacc : 1, sizeof(d->acc[0]));
	if (d->name == NULL || d->acc == NULL) {
		goto fail;
	}
	for (size_t i = 0; i < s->naliases; i++) {
		d->aliases[i] = strdup(s->aliases[i]);
		if (d->aliases[i] == NULL) {
			goto fail;
		}
		d->naliases++;
	}
	for (size_t i = 0; i < s->nacc; i++) {
		d->acc[i] = acct_account_dup(s->acc[i]);
		if (d->acc[i] == NULL) {
			goto fail;
		}
		d->nacc++;
	}
	if (acct_domain_index(d) < 0) {
		goto fail;
	}
	return d;
fail:
	acct_domain_free(d);
	return NULL;
}

/* A private deep copy of s (or an empty one for NULL). */
static struct acct *
acct_dup(const struct acct *s)
{
	struct acct *a = acct_new();

	if (a == NULL || s == NULL) {
		return a;
	}
	a->dom = calloc(s->ndom > 0 ? s->ndom : 1, sizeof(a->dom[0]));
	if (a->dom == NULL) {
		goto fail;
	}
	for (size_t i = 0; i < s->ndom; i++) {
		a->dom[i] = acct_domain_dup(s->dom[i]);
		if (a->dom[i] == NULL) {
			goto fail;
		}
		a->ndom++;
	}
	if (acct_index(a) < 0) {
		goto fail;
	}
	return a;
fail:
	acct_free(a);
	return NULL;
}

/*
 * The snapshot to change for *ap: *ap itself when the caller holds its
 * only reference, else a private copy.  acct_edit_end() swaps it in on
 * success and drops it on failure.
 */
static struct acct *
acct_edit_begin(struct acct *const *ap)
{
	if (*ap != NULL && atomic_load(&(*ap)->refs) == 1) {
		return *ap;
	}
	return acct_dup(*ap);
}

static int
acct_edit_end(struct acct **ap, struct acct *w, int rc)
{
	if (w == *ap) {
		return rc;
	}
	if (rc < 0) {
		acct_unref(w);
		return rc;
	}
	acct_unref(*ap);
	*ap = w;
	return rc;
}

/* ------------------------------------------------------------- checks */

static const char *
acct_clip(char *buf, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || ch == '\\') {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o] = '\0';
	return buf;
}

#define ACCT_CLIP 80

/* A host name: labels of letters, digits and '-', dots between them. */
static bool
acct_domain_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > ACCT_DOMAIN_MAX || s[0] == '.' ||
	    s[len - 1] == '.' || strstr(s, "..") != NULL) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '-' && ch != '.') {
			return false;
		}
	}
	return true;
}

/* RFC 3261 25.1: user = 1*( unreserved / escaped / user-unreserved ). */
static bool
acct_user_ok(const char *s, size_t len)
{
	if (len == 0 || len > ACCT_USER_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && strchr("-_.!~*'()&=+$,;?/%", ch) == NULL) {
			return false;
		}
	}
	return true;
}

static char *
acct_lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p != NULL && *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	return d;
}

/* A hex digest of alg: its length, hex digits; copied in lower case. */
static int
acct_hex_copy(enum acct_alg alg, const char *s, char *out)
{
	size_t len = strlen(s);

	if (len != acct_ha1_len[alg]) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i])) {
			return -EINVAL;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[len] = '\0';
	return 0;
}

static int
acct_digests(const char *const ha1[ACCT__ALG_COUNT],
             char out[ACCT__ALG_COUNT][ACCT_HA1_MAX + 1], char *err, size_t cap)
{
	for (int k = 0; k < ACCT__ALG_COUNT; k++) {
		out[k][0] = '\0';
		if (ha1 == NULL || ha1[k] == NULL) {
			continue;
		}
		if (acct_hex_copy((enum acct_alg)k, ha1[k], out[k]) < 0) {
			return err_fmt(err, cap, -EINVAL,
			                 "bad ha1-%s (expected %zu hex digits)",
			                 acct_alg_name((enum acct_alg)k),
			                 acct_ha1_len[k]);
		}
	}
	return 0;
}

static int
acct_password_ok(const char *pw, char *err, size_t cap)
{
	size_t len = strlen(pw);

	if (len == 0 || len > ACCT_PASSWORD_MAX) {
		return err_fmt(err, cap, -EINVAL,
		                 "bad password (1 to %d bytes)",
		                 ACCT_PASSWORD_MAX);
	}
	return 0;
}

/* Both digests of user:realm:password into out. */
static int
acct_digests_of(const char *user, const char *realm, const char *pw,
                char out[ACCT__ALG_COUNT][ACCT_HA1_MAX + 1], char *err,
                size_t cap)
{
	for (int k = 0; k < ACCT__ALG_COUNT; k++) {
		if (acct_ha1_compute((enum acct_alg)k, user, realm, pw, out[k],
		                     ACCT_HA1_MAX + 1) < 0) {
			return err_fmt(err, cap, -EIO,
			                 "cannot compute the "
			                 "%s digest",
			                 acct_alg_name((enum acct_alg)k));
		}
	}
	return 0;
}

/* The domain called exactly name (not an alias), or -1. */
static int
acct_domain_exact(const struct acct *a, const char *name)
{
	for (size_t i = 0; a != NULL && i < a->ndom; i++) {
		if (strcasecmp(a->dom[i]->name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * The account named addr in w: *dp its domain, *acp the account, *up its
 * index entry (or NULL when absent, with -ENOENT and a message; -EINVAL
 * for a malformed addr).  user: the user part, copied.
 */
static int
acct_addr(struct acct *w, const char *addr, struct acct_domain **dp,
          struct acct_account **acp, char *user, char *err, size_t cap)
{
	const char *at = strchr(addr, '@');
	const struct acct_dname *dn;
	const struct acct_uname *un;
	char clip[ACCT_CLIP];
	size_t ulen;

	*dp = NULL;
	*acp = NULL;
	ulen = at != NULL ? (size_t)(at - addr) : 0;
	if (at == NULL || !acct_user_ok(addr, ulen) ||
	    !acct_domain_ok(at + 1)) {
		return err_fmt(err, cap, -EINVAL,
		                 "bad account '%s' (expected user@domain)",
		                 acct_clip(clip, sizeof(clip), addr));
	}
	memcpy(user, addr, ulen);
	user[ulen] = '\0';
	dn = acct_dname_find(w, at + 1, strlen(at + 1));
	if (dn == NULL) {
		return err_fmt(err, cap, -ENOENT, "no domain %s",
		                 acct_clip(clip, sizeof(clip), at + 1));
	}
	*dp = dn->d;
	un = acct_uname_find(dn->d, user, ulen);
	if (un == NULL) {
		return err_fmt(err, cap, -ENOENT, "no account %s@%s",
		                 acct_clip(clip, sizeof(clip), user),
		                 dn->d->name);
	}
	*acp = un->acc;
	return 0;
}

/* ------------------------------------------------------------ domains */

int
acct_domain_add(struct acct **ap, const char *name, char *err, size_t cap)
{
	struct acct *w;
	struct acct_domain *d = NULL, **dom = NULL;
	char clip[ACCT_CLIP];
	size_t pos;
	int rc;

	if (!acct_domain_ok(name)) {
		return err_fmt(err, cap, -EINVAL,
		                 "bad domain '%s' (expected a host name)",
		                 acct_clip(clip, sizeof(clip), name));
	}
	if (acct_dname_find(*ap, name, strlen(name)) != NULL) {
		return err_fmt(err, cap, -EEXIST,
		                 "domain or alias %s exists already",
		                 acct_clip(clip, sizeof(clip), name));
	}
	w = acct_edit_begin(ap);
	if (w == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	d = calloc(1, sizeof(*d));
	dom = realloc(w->dom, (w->ndom + 1) * sizeof(w->dom[0]));
	if (dom != NULL) {
		w->dom = dom;
	}
	if (d == NULL || dom == NULL ||
	    (d->name = acct_lower_dup(name)) == NULL ||
	    (d->acc = calloc(1, sizeof(d->acc[0]))) == NULL ||
	    acct_domain_index(d) < 0) {
		acct_domain_free(d);
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto out;
	}
	d->enabled = true;
	for (pos = 0; pos < w->ndom; pos++) {
		if (strcmp(w->dom[pos]->name, d->name) > 0) {
			break;
		}
	}
	memmove(&w->dom[pos + 1], &w->dom[pos],
	        (w->ndom - pos) * sizeof(w->dom[0]));
	w->dom[pos] = d;
	w->ndom++;
	if (acct_index(w) < 0) {
		memmove(&w->dom[pos], &w->dom[pos + 1],
		        (w->ndom - pos - 1) * sizeof(w->dom[0]));
		w->ndom--;
		acct_domain_free(d);
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	return acct_edit_end(ap, w, rc);
}

int
acct_domain_remove(struct acct **ap, const char *name, char *err, size_t cap)
{
	struct acct *w;
	struct acct_domain *d;
	char clip[ACCT_CLIP];
	int i, rc = 0;

	i = acct_domain_exact(*ap, name);
	if (i < 0) {
		return err_fmt(err, cap, -ENOENT, "no domain %s",
		                 acct_clip(clip, sizeof(clip), name));
	}
	if ((*ap)->dom[i]->nacc > 0) {
		return err_fmt(
		    err, cap, -EBUSY,
		    "domain %s has %zu accounts (remove them first)",
		    (*ap)->dom[i]->name, (*ap)->dom[i]->nacc);
	}
	w = acct_edit_begin(ap);
	if (w == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	d = w->dom[i];
	memmove(&w->dom[i], &w->dom[i + 1],
	        (w->ndom - (size_t)i - 1) * sizeof(w->dom[0]));
	w->ndom--;
	if (acct_index(w) < 0) {
		memmove(&w->dom[i + 1], &w->dom[i],
		        (w->ndom - (size_t)i) * sizeof(w->dom[0]));
		w->dom[i] = d;
		w->ndom++;
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
	} else {
		acct_domain_free(d);
	}
	return acct_edit_end(ap, w, rc);
}

int
acct_domain_alias(struct acct **ap, const char *domain, const char *alias,
                  bool add, char *err, size_t cap)
{
	struct acct *w;
	struct acct_domain *d;
	char clip[ACCT_CLIP], *copy = NULL, *old = NULL;
	size_t k;
	int i, rc = 0;

	i = acct_domain_exact(*ap, domain);
	if (i < 0) {
		return err_fmt(err, cap, -ENOENT, "no domain %s",
		                 acct_clip(clip, sizeof(clip), domain));
	}
	d = (*ap)->dom[i];
	for (k = 0; k < d->naliases; k++) {
		if (strcasecmp(d->aliases[k], alias) == 0) {
			break;
		}
	}
	if (add) {
		if (!acct_domain_ok(alias)) {
			return err_fmt(
			    err, cap, -EINVAL,
			    "bad alias '%s' (expected a host name)",
			    acct_clip(clip, sizeof(clip), alias));
		}
		if (acct_dname_find(*ap, alias, strlen(alias)) != NULL) {
			return err_fmt(err, cap, -EEXIST,
			                 "domain or alias %s exists already",
			                 acct_clip(clip, sizeof(clip), alias));
		}
		if (d->naliases == ACCT_MAX_ALIASES) {
			return err_fmt(err, cap, -EBUSY,
			                 "too many aliases (at most %d)",
			                 ACCT_MAX_ALIASES);
		}
	} else if (k == d->naliases) {
		return err_fmt(err, cap, -ENOENT, "domain %s has no alias %s",
		                 d->name, acct_clip(clip, sizeof(clip), alias));
	}
	w = acct_edit_begin(ap);
	if (w == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	d = w->dom[i];
	if (add) {
		copy = acct_lower_dup(alias);
		if (copy == NULL) {
			rc = err_fmt(err, cap, -ENOMEM, "out of memory");
			goto out;
		}
		d->aliases[d->naliases++] = copy;
	} else {
		old = d->aliases[k];
		memmove(&d->aliases[k], &d->aliases[k + 1],
		        (d->naliases - k - 1) * sizeof(d->aliases[0]));
		d->naliases--;
	}
	if (acct_index(w) < 0) {
		if (add) {
			d->naliases--;
			free(copy);
		} else {
			memmove(&d->aliases[k + 1], &d->aliases[k],
			        (d->naliases - k) * sizeof(d->aliases[0]));
			d->aliases[k] = old;
			d->naliases++;
			old = NULL;
		}
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	free(old);
out:
	return acct_edit_end(ap, w, rc);
}

int
acct_domain_enable(struct acct **ap, const char *name, bool on, char *err,
                   size_t cap)
{
	struct acct *w;
	char clip[ACCT_CLIP];
	int i;

	i = acct_domain_exact(*ap, name);
	if (i < 0) {
		return err_fmt(err, cap, -ENOENT, "no domain %s",
		                 acct_clip(clip, sizeof(clip), name));
	}
	w = acct_edit_begin(ap);
	if (w == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	w->dom[i]->enabled = on;
	return acct_edit_end(ap, w, 0);
}

/* ----------------------------------------------------------- accounts */

/* The index in w of domain d of the snapshot *ap (the same position). */
static struct acct_domain *
acct_same_domain(const struct acct *old, struct acct *w,
                 const struct acct_domain *d)
{
	for (size_t i = 0; i < old->ndom; i++) {
		if (old->dom[i] == d) {
			return w->dom[i];
		}
	}
	return NULL;
}

/* The account of w that is ac of the snapshot old. */
static struct acct_account *
acct_same_account(const struct acct_domain *od, struct acct_domain *wd,
                  const struct acct_account *ac)
{
	for (size_t i = 0; i < od->nacc; i++) {
		if (od->acc[i] == ac) {
			return wd->acc[i];
		}
	}
	return NULL;
}

int
acct_account_add(struct acct **ap, const char *addr, const char *password,
                 const char *const ha1[ACCT__ALG_COUNT], char *err, size_t cap)
{
	char user[ACCT_USER_MAX + 1], clip[ACCT_CLIP];
	struct acct_domain *d, *wd;
	struct acct_account *ac = NULL, **acc;
	struct acct *w = NULL;
	bool digests =
	    ha1 != NULL && (ha1[ACCT_MD5] != NULL || ha1[ACCT_SHA256] != NULL);
	size_t pos;
	int rc;

	rc = acct_addr(*ap, addr, &d, &ac, user, err, cap);
	if (rc == 0) {
		return err_fmt(err, cap, -EEXIST,
		                 "account or alias %s@%s exists already",
		                 acct_clip(clip, sizeof(clip), user), d->name);
	}
	if (d == NULL) {
		return rc;
	}
	if ((password != NULL) == digests) {
		return err_fmt(
		    err, cap, -EINVAL,
		    "an account needs a password, or ha1-md5 and ha1-sha256");
	}
	ac = calloc(1, sizeof(*ac));
	if (ac == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	ac->enabled = true;
	rc = password != NULL ? acct_password_ok(password, err, cap) < 0
	                            ? -EINVAL
	                            : acct_digests_of(user, d->name, password,
	                                              ac->ha1, err, cap)
	                      : acct_digests(ha1, ac->ha1, err, cap);
	if (rc < 0) {
		goto fail;
	}
	ac->user = strdup(user);
	w = acct_edit_begin(ap);
	if (ac->user == NULL || w == NULL) {
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto fail;
	}
	wd = w == *ap ? d : acct_same_domain(*ap, w, d);
	acc = realloc(wd->acc, (wd->nacc + 1) * sizeof(wd->acc[0]));
	if (acc == NULL) {
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto fail;
	}
	wd->acc = acc;
	for (pos = 0; pos < wd->nacc; pos++) {
		if (strcmp(wd->acc[pos]->user, user) > 0) {
			break;
		}
	}
	memmove(&wd->acc[pos + 1], &wd->acc[pos],
	        (wd->nacc - pos) * sizeof(wd->acc[0]));
	wd->acc[pos] = ac;
	wd->nacc++;
	if (acct_domain_index(wd) < 0) {
		memmove(&wd->acc[pos], &wd->acc[pos + 1],
		        (wd->nacc - pos - 1) * sizeof(wd->acc[0]));
		wd->nacc--;
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto fail;
	}
	return acct_edit_end(ap, w, 0);
fail:
	acct_account_free(ac);
	if (w != NULL) {
		(void)acct_edit_end(ap, w, rc);
	}
	return rc;
}

/*
 * Find addr in *ap, then make the writable snapshot: *wp, and in it the
 * domain *wdp and account *wacp.  Returns 0 or an error (nothing made).
 */
static int
acct_account_edit(struct acct **ap, const char *addr, struct acct **wp,
                  struct acct_domain **wdp, struct acct_account **wacp,
                  char *user, char *err, size_t cap)
{
	struct acct_domain *d;
	struct acct_account *ac;
	int rc;

	rc = acct_addr(*ap, addr, &d, &ac, user, err, cap);
	if (rc < 0) {
		return rc;
	}
	*wp = acct_edit_begin(ap);
	if (*wp == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	if (*wp == *ap) {
		*wdp = d;
		*wacp = ac;
	} else {
		*wdp = acct_same_domain(*ap, *wp, d);
		*wacp = acct_same_account(d, *wdp, ac);
	}
	return 0;
}

int
acct_account_remove(struct acct **ap, const char *addr, char *err, size_t cap)
{
	char user[ACCT_USER_MAX + 1];
	struct acct_domain *d;
	struct acct_account *ac;
	struct acct *w;
	size_t i;
	int rc;

	rc = acct_account_edit(ap, addr, &w, &d, &ac, user, err, cap);
	if (rc < 0) {
		return rc;
	}
	for (i = 0; i < d->nacc && d->acc[i] != ac; i++) {
	}
	memmove(&d->acc[i], &d->acc[i + 1],
	        (d->nacc - i - 1) * sizeof(d->acc[0]));
	d->nacc--;
	if (acct_domain_index(d) < 0) {
		memmove(&d->acc[i + 1], &d->acc[i],
		        (d->nacc - i) * sizeof(d->acc[0]));
		d->acc[i] = ac;
		d->nacc++;
		return acct_edit_end(
		    ap, w, err_fmt(err, cap, -ENOMEM, "out of memory"));
	}
	acct_account_free(ac);
	return acct_edit_end(ap, w, 0);
}

int
acct_account_password(struct acct **ap, const char *addr, const char *password,
                      char *err, size_t cap)
{
	char user[ACCT_USER_MAX + 1];
	char ha1[ACCT__ALG_COUNT][ACCT_HA1_MAX + 1];
	struct acct_alias *al = NULL;
	struct acct_domain *d;
	struct acct_account *ac;
	struct acct *w;
	int rc;

	if (acct_password_ok(password, err, cap) < 0) {
		return -EINVAL;
	}
	rc = acct_account_edit(ap, addr, &w, &d, &ac, user, err, cap);
	if (rc < 0) {
		return rc;
	}
	/* every digest first, so a failure changes nothing */
	if (ac->naliases > 0) {
		al = calloc(ac->naliases, sizeof(*al));
		if (al == NULL) {
			rc = err_fmt(err, cap, -ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = acct_digests_of(ac->user, d->name, password, ha1, err, cap);
	for (size_t i = 0; rc == 0 && i < ac->naliases; i++) {
		rc = acct_digests_of(ac->aliases[i].name, d->name, password,
		                     al[i].ha1, err, cap);
	}
	if (rc < 0) {
		goto out;
	}
	memcpy(ac->ha1, ha1, sizeof(ha1));
	for (size_t i = 0; i < ac->naliases; i++) {
		memcpy(ac->aliases[i].ha1, al[i].ha1, sizeof(al[i].ha1));
	}
out:
	explicit_bzero(ha1, sizeof(ha1));
	if (al != NULL) {
		explicit_bzero(al, ac->naliases * sizeof(*al));
		free(al);
	}
	return acct_edit_end(ap, w, rc);
}

int
acct_account_alias(struct acct **ap, const char *addr, const char *alias,
                   bool add, const char *const ha1[ACCT__ALG_COUNT], char *err,
                   size_t cap)
{
	char user[ACCT_USER_MAX + 1], clip[ACCT_CLIP];
	struct acct_alias al, *aliases;
	struct acct_domain *d;
	struct acct_account *ac;
	struct acct *w;
	size_t k;
	int rc;

	memset(&al, 0, sizeof(al));
	if (add) {
		if (!acct_user_ok(alias, strlen(alias))) {
			return err_fmt(
			    err, cap, -EINVAL,
			    "bad alias '%s' (expected a user name)",
			    acct_clip(clip, sizeof(clip), alias));
		}
		rc = acct_digests(ha1, al.ha1, err, cap);
		if (rc < 0) {
			return rc;
		}
	}
	rc = acct_account_edit(ap, addr, &w, &d, &ac, user, err, cap);
	if (rc < 0) {
		return rc;
	}
	for (k = 0; k < ac->naliases; k++) {
		if (strcmp(ac->aliases[k].name, alias) == 0) {
			break;
		}
	}
	if (!add) {
		if (k == ac->naliases) {
			rc = err_fmt(err, cap, -ENOENT,
			               "account %s@%s has no alias %s",
			               ac->user, d->name,
			               acct_clip(clip, sizeof(clip), alias));
			goto out;
		}
		al = ac->aliases[k];
		memmove(&ac->aliases[k], &ac->aliases[k + 1],
		        (ac->naliases - k - 1) * sizeof(ac->aliases[0]));
		ac->naliases--;
		if (acct_domain_index(d) < 0) {
			memmove(&ac->aliases[k + 1], &ac->aliases[k],
			        (ac->naliases - k) * sizeof(ac->aliases[0]));
			ac->aliases[k] = al;
			ac->naliases++;
			rc = err_fmt(err, cap, -ENOMEM, "out of memory");
			goto out;
		}
		free(al.name);
		goto out;
	}
	if (acct_uname_find(d, alias, strlen(alias)) != NULL) {
		rc = err_fmt(err, cap, -EEXIST,
		               "account or alias %s@%s exists already",
		               acct_clip(clip, sizeof(clip), alias), d->name);
		goto out;
	}
	if (ac->naliases == ACCT_MAX_ALIASES) {
		rc =
		    err_fmt(err, cap, -EBUSY, "too many aliases (at most %d)",
		              ACCT_MAX_ALIASES);
		goto out;
	}
	al.name = strdup(alias);
	aliases =
	    realloc(ac->aliases, (ac->naliases + 1) * sizeof(ac->aliases[0]));
	if (aliases != NULL) {
		ac->aliases = aliases;
	}
	if (al.name == NULL || aliases == NULL) {
		free(al.name);
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
		goto out;
	}
	ac->aliases[ac->naliases++] = al;
	if (acct_domain_index(d) < 0) {
		ac->naliases--;
		free(al.name);
		rc = err_fmt(err, cap, -ENOMEM, "out of memory");
	}
out:
	explicit_bzero(&al, sizeof(al));
	return acct_edit_end(ap, w, rc);
}

int
acct_account_forward(struct acct **ap, const char *addr, const char *uri,
                     char *err, size_t cap)
{
	char user[ACCT_USER_MAX + 1], clip[ACCT_CLIP];
	struct acct_domain *d;
	struct acct_account *ac;
	struct acct *w;
	char *copy = NULL;
	int rc;

	if (uri != NULL) {
		size_t len = strlen(uri);
		bool ok = len <= ACCT_URI_MAX &&
		          ((strncasecmp(uri, "sip:", 4) == 0 && len > 4) ||
		           (strncasecmp(uri, "sips:", 5) == 0 && len > 5));

		for (size_t i = 0; ok && i < len; i++) {
			unsigned char ch = (unsigned char)uri[i];

			ok = ch > 0x20 && ch < 0x7f && ch != '"' && ch != '<' &&
			     ch != '>';
		}
		if (!ok) {
			return err_fmt(
			    err, cap, -EINVAL,
			    "bad forwarder '%s' (expected a sip: or sips: URI)",
			    acct_clip(clip, sizeof(clip), uri));
		}
		copy = strdup(uri);
		if (copy == NULL) {
			return err_fmt(err, cap, -ENOMEM, "out of memory");
		}
	}
	rc = acct_account_edit(ap, addr, &w, &d, &ac, user, err, cap);
	if (rc < 0) {
		free(copy);
		return rc;
	}
	free(ac->forward);
	ac->forward = copy;
	return acct_edit_end(ap, w, 0);
}

int
acct_account_enable(struct acct **ap, const char *addr, bool on, char *err,
                    size_t cap)
{
	char user[ACCT_USER_MAX + 1];
	struct acct_domain *d;
	struct acct_account *ac;
	struct acct *w;
	int rc;

	rc = acct_account_edit(ap, addr, &w, &d, &ac, user, err, cap);
	if (rc < 0) {
		return rc;
	}
	ac->enabled = on;
	return acct_edit_end(ap, w, 0);
}
