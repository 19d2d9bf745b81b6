/*
 * acct: the local domains and their accounts, the whole public face of
 * sipd/acct.  A domain has a name, aliases (other names of the same
 * domain) and a "SIP enabled" flag; an account lives in one domain and
 * has a user name, its password as HA1 digests only (RFC 7616 3.4.2:
 * hex of H(user:realm:password), MD5 and SHA-256, the realm being the
 * domain's name), aliases (other user names of the account), an optional
 * forwarder (a SIP URI where requests for the account go) and a "SIP
 * enabled" flag.  A disabled domain or account is treated as unknown.
 * Domain names compare without regard to ASCII case and are kept in lower
 * case; user names compare exactly.
 *
 * Threads: a struct acct is a snapshot, counted by references
 * (acct_ref(), acct_unref(), atomic).  Readers (the workers) only look up
 * and never change it, so any number of threads may read one snapshot
 * without a lock.  The editing functions below never change a snapshot
 * that someone else holds: when *ap has more than one reference they
 * copy it, change the copy and put the copy in *ap (dropping the caller's
 * reference to the old one), so the old snapshot stays intact for those
 * still reading it; a snapshot held once (being built, as by the
 * configuration file) is changed in place.  sipd's choice (conf.h): struct
 * conf holds one reference; the control plane edits a copy of the
 * configuration, workers_configure() hands the new snapshot to every
 * core on its own thread (core_configure()), and the old one is freed
 * when its last reference goes.  A core that keeps the pointer past
 * core_configure() takes its own reference (acct_ref()) and drops it at
 * the next core_configure() or core_free().
 *
 * The lookups are allocation-free and take their keys as (pointer,
 * length), unterminated (slices of a received message).  Every function
 * taking a const struct acct * accepts NULL as the empty set.
 */
#ifndef SIPD_ACCT_H
#define SIPD_ACCT_H

#include <stdbool.h>
#include <stddef.h>

struct acct;

/* Digest algorithms of the stored HA1 (RFC 7616 3.4.2). */
enum acct_alg { ACCT_MD5, ACCT_SHA256, ACCT__ALG_COUNT };

/* Longest HA1 in hex (SHA-256), without the NUL. */
#define ACCT_HA1_MAX 64
#define ACCT_DOMAIN_MAX 253 /* longest domain name */
#define ACCT_USER_MAX 64    /* longest user name */
#define ACCT_PASSWORD_MAX 128
#define ACCT_URI_MAX 256    /* longest forwarder URI */
#define ACCT_MAX_ALIASES 32 /* per domain and per account */

/* What acct_resolve() found. */
enum acct_kind {
	ACCT_FOREIGN, /* the host is not a local domain (or it is disabled) */
	ACCT_UNKNOWN, /* a local domain, but no such (enabled) account */
	ACCT_LOCAL,   /* an account: user and domain are its canonical names */
	ACCT_FORWARD, /* an account with a forwarder: requests go to forward */
};

/*
 * The result of acct_resolve().  The strings are NUL-terminated and live
 * in the snapshot: valid while the caller holds its reference.
 */
struct acct_target {
	enum acct_kind kind;
	const char *domain;  /* the domain's name (not ACCT_FOREIGN) */
	const char *user;    /* the account's user name (LOCAL, FORWARD) */
	const char *forward; /* the forwarder's SIP URI (FORWARD), else NULL */
	/* the account's own HA1 per algorithm over domain (LOCAL, FORWARD;
	 * "" when not set), as acct_ha1() gives it for user in domain */
	const char (*ha1)[ACCT_HA1_MAX + 1];
};

/* The result of acct_ha1(); strings in the snapshot as above. */
struct acct_cred {
	const char *ha1;   /* lower-case hex, 32 (MD5) or 64 (SHA-256) */
	const char *user;  /* the account's user name */
	const char *realm; /* the domain's name: the realm ha1 is over */
};

/* ------------------------------------------------------------ lifetime */

/* An empty snapshot with one reference, or NULL (out of memory). */
struct acct *acct_new(void);

/* Take one more reference; returns a.  Accepts NULL. */
struct acct *acct_ref(struct acct *a);

/* Drop a reference; the last one frees the snapshot.  Accepts NULL. */
void acct_unref(struct acct *a);

/* ------------------------------------------------------------- lookups */

/* Is host[0..len) the name or an alias of an enabled local domain? */
bool acct_domain_is_local(const struct acct *a, const char *host, size_t len);

/*
 * Who is user[0..ulen)@host[0..hlen)?  The host may be a domain alias and
 * the user an account alias: "bob@alias.example" gives the account
 * bob@example.com.  Fills *out and returns its kind.
 */
enum acct_kind acct_resolve(const struct acct *a, const char *user, size_t ulen,
                            const char *host, size_t hlen,
                            struct acct_target *out);

/*
 * The HA1 of algorithm alg for the authentication user name user[0..ulen)
 * in realm[0..rlen): the realm names the domain (its name or an alias),
 * the user the account (its name or an alias).  The HA1 is over the name
 * the client used (the account's or an alias's) and the domain's name, so
 * a challenge must carry the domain's name as its realm.  An alias has
 * digests only when the password was set while the alias existed.
 * Returns 0 with *out filled, or -ENOENT (no such enabled domain or
 * account, or no digest of that algorithm).
 */
int acct_ha1(const struct acct *a, const char *user, size_t ulen,
             const char *realm, size_t rlen, enum acct_alg alg,
             struct acct_cred *out);

/*
 * Compute the hex HA1 of H(user:realm:password) into out (at least
 * ACCT_HA1_MAX + 1 bytes).  Returns 0 or -EIO (the digest failed).
 */
int acct_ha1_compute(enum acct_alg alg, const char *user, const char *realm,
                     const char *password, char *out, size_t cap);

/* "md5" or "sha256". */
const char *acct_alg_name(enum acct_alg alg);

/* ------------------------------------------------------------- listing */

/* A domain as listed; pointers into the snapshot. */
struct acct_domain_info {
	const char *name;
	bool enabled;
	size_t naliases;
	const char *aliases[ACCT_MAX_ALIASES];
	size_t naccounts;
};

/* An account as listed; pointers into the snapshot. */
struct acct_account_info {
	const char *user;
	const char *domain;
	bool enabled;
	const char *ha1[ACCT__ALG_COUNT]; /* "" when not set */
	size_t naliases;
	const char *aliases[ACCT_MAX_ALIASES];
	const char *alias_ha1[ACCT_MAX_ALIASES][ACCT__ALG_COUNT];
	const char *forward; /* NULL: none */
};

/* The number of domains; domain i (0 <= i < count) in name order. */
size_t acct_domain_count(const struct acct *a);
void acct_domain_get(const struct acct *a, size_t i,
                     struct acct_domain_info *out);

/* Account j of domain i, in user name order (j < the domain's naccounts). */
void acct_account_get(const struct acct *a, size_t i, size_t j,
                      struct acct_account_info *out);

/*
 * The domain named (or aliased) name, enabled or not: its index, or -1.
 * The account "user@domain" (canonical names or aliases), enabled or not:
 * 0 with *out filled, or -ENOENT.
 */
int acct_domain_find(const struct acct *a, const char *name);
int acct_account_find(const struct acct *a, const char *addr,
                      struct acct_account_info *out);

/* Has a any account (so a file holding it holds secrets)? */
bool acct_has_accounts(const struct acct *a);

/* ------------------------------------------------------------- editing */

/*
 * Each edit below changes the snapshot in *ap (NULL: an empty one is
 * made), copying it first when it is shared (see above).  Names are
 * checked: a domain is a host name (letters, digits, '-', '.'), a user a
 * SIP user part without '@' or ':', an account "user@domain" of an
 * existing domain (its name or an alias).  Returns 0, or a negative
 * errno with a message in err[0..cap) and *ap unchanged: -EINVAL (a bad
 * name or value), -EEXIST, -ENOENT, -EBUSY (a limit, or a domain that
 * still has accounts), -ENOMEM.  Messages never contain a password.
 */
int acct_domain_add(struct acct **ap, const char *name, char *err, size_t cap);
int acct_domain_remove(struct acct **ap, const char *name, char *err,
                       size_t cap);
int acct_domain_alias(struct acct **ap, const char *domain, const char *alias,
                      bool add, char *err, size_t cap);
int acct_domain_enable(struct acct **ap, const char *name, bool on, char *err,
                       size_t cap);

/*
 * Add the account addr ("user@domain"): with password (its digests are
 * computed, the password itself is not kept), or with the digests
 * ha1[ACCT_MD5] and ha1[ACCT_SHA256] (hex; either may be NULL), not both.
 */
int acct_account_add(struct acct **ap, const char *addr, const char *password,
                     const char *const ha1[ACCT__ALG_COUNT], char *err,
                     size_t cap);
int acct_account_remove(struct acct **ap, const char *addr, char *err,
                        size_t cap);
/* New digests from password, for the account and each of its aliases. */
int acct_account_password(struct acct **ap, const char *addr,
                          const char *password, char *err, size_t cap);
/* Add (with optional digests, as saved by conf_dump()) or remove an
 * alias; ha1 may be NULL. */
int acct_account_alias(struct acct **ap, const char *addr, const char *alias,
                       bool add, const char *const ha1[ACCT__ALG_COUNT],
                       char *err, size_t cap);
/* Set the forwarder to uri ("sip:..." or "sips:..."), or none (NULL). */
int acct_account_forward(struct acct **ap, const char *addr, const char *uri,
                         char *err, size_t cap);
int acct_account_enable(struct acct **ap, const char *addr, bool on, char *err,
                        size_t cap);

#endif
