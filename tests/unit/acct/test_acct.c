/*
 * unit/acct/acct: domains and accounts (sipd/acct/acct.h): lookups through
 * domain and account aliases, forwarders, disabled = unknown, case rules,
 * HA1 digests (expected values computed with Python's hashlib, e.g.
 * hashlib.md5(b"bob:example.com:s3cret pw").hexdigest()), copy-on-write
 * of shared snapshots, and the checks of every edit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sipd/acct/acct.h"

#define BOB_MD5 "511ae493cd8b1d12ca19c2a99cb138ac"
#define BOB_SHA256                                                             \
	"072512209d10d3329ccff6174a0ac635e9e595787734c93ad13a46b0bbef438d"

static char err[256];

/* example.com (alias alias.example) with bob ("s3cret pw", alias robert)
 * and alice (a forwarder); other.org with carol (disabled). */
static struct acct *
fixture(void)
{
	struct acct *a = NULL;

	assert_int_equal(acct_domain_add(&a, "Example.COM", err, sizeof(err)),
	                 0);
	assert_int_equal(acct_domain_alias(&a, "example.com", "Alias.Example",
	                                   true, err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_add(&a, "bob@example.com", "s3cret pw",
	                                  NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_alias(&a, "bob@example.com", "robert",
	                                    true, NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_add(&a, "alice@alias.example", "pw", NULL,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_forward(&a, "alice@example.com",
	                                      "sip:alice@elsewhere.example",
	                                      err, sizeof(err)),
	                 0);
	assert_int_equal(acct_domain_add(&a, "other.org", err, sizeof(err)), 0);
	assert_int_equal(acct_account_add(&a, "carol@other.org", "pw", NULL,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(
	    acct_account_enable(&a, "carol@other.org", false, err, sizeof(err)),
	    0);
	return a;
}

static enum acct_kind
resolve(const struct acct *a, const char *user, const char *host,
        struct acct_target *t)
{
	return acct_resolve(a, user, strlen(user), host, strlen(host), t);
}

static void
test_ha1_vectors(void **state)
{
	char out[ACCT_HA1_MAX + 1];

	(void)state;
	assert_int_equal(acct_ha1_compute(ACCT_MD5, "bob", "example.com",
	                                  "s3cret pw", out, sizeof(out)),
	                 0);
	assert_string_equal(out, BOB_MD5);
	assert_int_equal(acct_ha1_compute(ACCT_SHA256, "bob", "example.com",
	                                  "s3cret pw", out, sizeof(out)),
	                 0);
	assert_string_equal(out, BOB_SHA256);
	/* the user and realm of RFC 7616 3.9.1 */
	assert_int_equal(acct_ha1_compute(ACCT_MD5, "Mufasa",
	                                  "http-auth@example.org",
	                                  "Circle of Life", out, sizeof(out)),
	                 0);
	assert_string_equal(out, "3d78807defe7de2157e2b0b6573a855f");
	assert_int_equal(acct_ha1_compute(ACCT_SHA256, "Mufasa",
	                                  "http-auth@example.org",
	                                  "Circle of Life", out, sizeof(out)),
	                 0);
	assert_string_equal(out, "7987c64c30e25f1b74be53f966b49b90"
	                         "f2808aa92faf9a00262392d7b4794232");
	/* too small a buffer */
	assert_int_equal(acct_ha1_compute(ACCT_SHA256, "a", "b", "c", out, 33),
	                 -EINVAL);
}

static void
test_domains(void **state)
{
	struct acct *a = fixture();

	(void)state;
	assert_true(acct_domain_is_local(a, "example.com", 11));
	assert_true(acct_domain_is_local(a, "EXAMPLE.com", 11));
	assert_true(acct_domain_is_local(a, "alias.EXAMPLE", 13));
	assert_true(acct_domain_is_local(a, "example.com.", 12));
	assert_true(acct_domain_is_local(a, "other.org", 9));
	/* a slice: only the first len bytes count */
	assert_true(acct_domain_is_local(a, "example.comXYZ", 11));
	assert_false(acct_domain_is_local(a, "example.co", 10));
	assert_false(acct_domain_is_local(a, "example.comm", 12));
	assert_false(acct_domain_is_local(a, "", 0));
	assert_false(acct_domain_is_local(NULL, "example.com", 11));
	assert_int_equal(
	    acct_domain_enable(&a, "other.org", false, err, sizeof(err)), 0);
	assert_false(acct_domain_is_local(a, "other.org", 9));
	acct_unref(a);
}

static void
test_resolve(void **state)
{
	struct acct *a = fixture();
	struct acct_target t;

	(void)state;
	assert_int_equal(resolve(a, "bob", "example.com", &t), ACCT_LOCAL);
	assert_string_equal(t.user, "bob");
	assert_string_equal(t.domain, "example.com");
	assert_null(t.forward);
	/* through the account alias and the domain alias */
	assert_int_equal(resolve(a, "robert", "Alias.Example", &t), ACCT_LOCAL);
	assert_string_equal(t.user, "bob");
	assert_string_equal(t.domain, "example.com");
	/* users are case-sensitive */
	assert_int_equal(resolve(a, "Bob", "example.com", &t), ACCT_UNKNOWN);
	assert_string_equal(t.domain, "example.com");
	assert_null(t.user);
	assert_int_equal(resolve(a, "nobody", "example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(resolve(a, "bob", "example.net", &t), ACCT_FOREIGN);
	assert_null(t.domain);
	/* a forwarder */
	assert_int_equal(resolve(a, "alice", "alias.example", &t),
	                 ACCT_FORWARD);
	assert_string_equal(t.user, "alice");
	assert_string_equal(t.forward, "sip:alice@elsewhere.example");
	assert_int_equal(acct_account_forward(&a, "alice@example.com", NULL,
	                                      err, sizeof(err)),
	                 0);
	assert_int_equal(resolve(a, "alice", "example.com", &t), ACCT_LOCAL);
	/* disabled account, disabled domain: unknown */
	assert_int_equal(resolve(a, "carol", "other.org", &t), ACCT_UNKNOWN);
	assert_int_equal(
	    acct_account_enable(&a, "carol@other.org", true, err, sizeof(err)),
	    0);
	assert_int_equal(resolve(a, "carol", "other.org", &t), ACCT_LOCAL);
	assert_int_equal(
	    acct_domain_enable(&a, "other.org", false, err, sizeof(err)), 0);
	assert_int_equal(resolve(a, "carol", "other.org", &t), ACCT_FOREIGN);
	assert_int_equal(resolve(a, "bob", "example.com", &t), ACCT_LOCAL);
	assert_int_equal(resolve(NULL, "bob", "example.com", &t), ACCT_FOREIGN);
	acct_unref(a);
}

/*
 * The HA1s acct_resolve() gives with an account are the ones acct_ha1()
 * finds for the account's own name in its domain, whatever name found it
 * (its own, an alias, a domain alias): the registrar takes them from the
 * target when the credentials name the To's account.
 */
static void
test_target_ha1(void **state)
{
	static const struct {
		const char *user, *host;
	} names[] = {
		{"bob", "example.com"},   {"robert", "example.com"},
		{"bob", "ALIAS.example"}, {"alice", "example.com"},
		{"alice", "alias.example"},
	};
	struct acct *a = fixture();
	struct acct_target t;
	struct acct_cred c;

	(void)state;
	/* once with the alias without digests, once with them */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			enum acct_kind k = resolve(a, names[i].user,
			                           names[i].host, &t);

			assert_true(k == ACCT_LOCAL || k == ACCT_FORWARD);
			assert_non_null(t.ha1);
			for (int alg = 0; alg < ACCT__ALG_COUNT; alg++) {
				int rc = acct_ha1(a, t.user, strlen(t.user),
				                  t.domain, strlen(t.domain),
				                  (enum acct_alg)alg, &c);

				assert_string_equal(t.ha1[alg],
				                    rc == 0 ? c.ha1 : "");
			}
		}
		assert_int_equal(acct_account_password(&a, "bob@example.com",
		                                       "pw2", err, sizeof(err)),
		                 0);
	}
	assert_int_equal(resolve(a, "nobody", "example.com", &t), ACCT_UNKNOWN);
	assert_null(t.ha1);
	assert_int_equal(resolve(a, "bob", "example.net", &t), ACCT_FOREIGN);
	assert_null(t.ha1);
	acct_unref(a);
}

static void
test_ha1_lookup(void **state)
{
	struct acct *a = fixture();
	struct acct_cred c;

	(void)state;
	assert_int_equal(acct_ha1(a, "bob", 3, "example.com", 11, ACCT_MD5, &c),
	                 0);
	assert_string_equal(c.ha1, BOB_MD5);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.realm, "example.com");
	assert_int_equal(
	    acct_ha1(a, "bob", 3, "ALIAS.example", 13, ACCT_SHA256, &c), 0);
	assert_string_equal(c.ha1, BOB_SHA256);
	assert_string_equal(c.realm, "example.com");
	/* the alias was added after the password: no digest of its own */
	assert_int_equal(
	    acct_ha1(a, "robert", 6, "example.com", 11, ACCT_MD5, &c), -ENOENT);
	/* a new password gives every alias its digests */
	assert_int_equal(acct_account_password(&a, "robert@example.com", "pw2",
	                                       err, sizeof(err)),
	                 0);
	assert_int_equal(
	    acct_ha1(a, "robert", 6, "example.com", 11, ACCT_MD5, &c), 0);
	assert_string_equal(c.ha1, "e93280edc1a589ca6bb3e5a535770b0d");
	assert_string_equal(c.user, "bob");
	assert_int_equal(
	    acct_ha1(a, "robert", 6, "example.com", 11, ACCT_SHA256, &c), 0);
	assert_string_equal(c.ha1, "d4513b33c544ae354b96fe1fafbf9d11"
	                           "304b84bf591bac7a9baa11efbbd8a735");
	assert_int_equal(acct_ha1(a, "bob", 3, "example.com", 11, ACCT_MD5, &c),
	                 0);
	assert_string_equal(c.ha1, "84a42c967a9c1f167a3fd3c43b274c5d");
	/* case, unknown and disabled */
	assert_int_equal(acct_ha1(a, "Bob", 3, "example.com", 11, ACCT_MD5, &c),
	                 -ENOENT);
	assert_null(c.ha1);
	assert_int_equal(acct_ha1(a, "carol", 5, "other.org", 9, ACCT_MD5, &c),
	                 -ENOENT);
	assert_int_equal(acct_ha1(a, "bob", 3, "example.net", 11, ACCT_MD5, &c),
	                 -ENOENT);
	assert_int_equal(
	    acct_account_enable(&a, "bob@example.com", false, err, sizeof(err)),
	    0);
	assert_int_equal(acct_ha1(a, "bob", 3, "example.com", 11, ACCT_MD5, &c),
	                 -ENOENT);
	acct_unref(a);
}

static void
test_digests_given(void **state)
{
	struct acct *a = NULL;
	struct acct_cred c;
	const char *both[ACCT__ALG_COUNT] = {"511AE493CD8B1D12CA19C2A99CB138AC",
	                                     BOB_SHA256};
	const char *md5only[ACCT__ALG_COUNT] = {BOB_MD5, NULL};
	const char *bad[ACCT__ALG_COUNT] = {"511ae493", NULL};
	const char *nothex[ACCT__ALG_COUNT] = {
	    "511ae493cd8b1d12ca19c2a99cb138ag", NULL};

	(void)state;
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_add(&a, "bob@example.com", NULL, both,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(acct_ha1(a, "bob", 3, "example.com", 11, ACCT_MD5, &c),
	                 0);
	assert_string_equal(c.ha1, BOB_MD5); /* kept in lower case */
	assert_int_equal(acct_account_add(&a, "al@example.com", NULL, md5only,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(
	    acct_ha1(a, "al", 2, "example.com", 11, ACCT_SHA256, &c), -ENOENT);
	assert_int_equal(
	    acct_account_add(&a, "x@example.com", NULL, bad, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(acct_account_add(&a, "x@example.com", NULL, nothex,
	                                  err, sizeof(err)),
	                 -EINVAL);
	/* a password and digests, or neither: refused */
	assert_int_equal(
	    acct_account_add(&a, "x@example.com", "pw", both, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(
	    acct_account_add(&a, "x@example.com", NULL, NULL, err, sizeof(err)),
	    -EINVAL);
	/* alias digests as saved */
	assert_int_equal(acct_account_alias(&a, "bob@example.com", "robert",
	                                    true, both, err, sizeof(err)),
	                 0);
	assert_int_equal(
	    acct_ha1(a, "robert", 6, "example.com", 11, ACCT_SHA256, &c), 0);
	assert_string_equal(c.ha1, BOB_SHA256);
	acct_unref(a);
}

static void
test_errors(void **state)
{
	struct acct *a = fixture();
	struct acct_account_info ai;
	struct acct_domain_info di;

	(void)state;
	/* names */
	assert_int_equal(acct_domain_add(&a, "bad domain", err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(acct_domain_add(&a, "a..b", err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(acct_domain_add(&a, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(acct_domain_add(&a, "EXAMPLE.com", err, sizeof(err)),
	                 -EEXIST);
	assert_int_equal(acct_domain_add(&a, "alias.example", err, sizeof(err)),
	                 -EEXIST);
	assert_int_equal(acct_domain_alias(&a, "other.org", "example.com", true,
	                                   err, sizeof(err)),
	                 -EEXIST);
	assert_int_equal(
	    acct_domain_alias(&a, "nope.org", "x.org", true, err, sizeof(err)),
	    -ENOENT);
	assert_int_equal(acct_domain_alias(&a, "other.org", "x.org", false, err,
	                                   sizeof(err)),
	                 -ENOENT);
	assert_int_equal(
	    acct_account_add(&a, "bob", "pw", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(acct_account_add(&a, "b:ob@example.com", "pw", NULL,
	                                  err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(acct_account_add(&a, "bob@nowhere.org", "pw", NULL,
	                                  err, sizeof(err)),
	                 -ENOENT);
	assert_int_equal(acct_account_add(&a, "bob@alias.example", "pw", NULL,
	                                  err, sizeof(err)),
	                 -EEXIST);
	/* an account name taken by an alias, and the other way round */
	assert_int_equal(acct_account_add(&a, "robert@example.com", "pw", NULL,
	                                  err, sizeof(err)),
	                 -EEXIST);
	assert_int_equal(acct_account_alias(&a, "alice@example.com", "bob",
	                                    true, NULL, err, sizeof(err)),
	                 -EEXIST);
	/* but a name differing in case is another user */
	assert_int_equal(acct_account_add(&a, "Bob@example.com", "pw", NULL,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(
	    acct_account_add(&a, "x@example.com", "", NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(acct_account_forward(&a, "bob@example.com", "http://x",
	                                      err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(acct_account_forward(&a, "bob@example.com", "sip:a b",
	                                      err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	    acct_account_remove(&a, "nobody@example.com", err, sizeof(err)),
	    -ENOENT);
	assert_int_equal(acct_account_alias(&a, "bob@example.com", "nope",
	                                    false, NULL, err, sizeof(err)),
	                 -ENOENT);
	/* a domain with accounts stays */
	assert_int_equal(acct_domain_remove(&a, "other.org", err, sizeof(err)),
	                 -EBUSY);
	assert_non_null(strstr(err, "other.org"));
	assert_int_equal(
	    acct_account_remove(&a, "carol@other.org", err, sizeof(err)), 0);
	assert_int_equal(acct_domain_remove(&a, "other.org", err, sizeof(err)),
	                 0);
	assert_int_equal(acct_domain_count(a), 1);
	/* alias removal */
	assert_int_equal(acct_account_alias(&a, "bob@example.com", "robert",
	                                    false, NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_find(a, "robert@example.com", &ai),
	                 -ENOENT);
	assert_int_equal(acct_domain_alias(&a, "example.com", "alias.example",
	                                   false, err, sizeof(err)),
	                 0);
	assert_false(acct_domain_is_local(a, "alias.example", 13));
	acct_domain_get(a, 0, &di);
	assert_string_equal(di.name, "example.com");
	assert_int_equal(di.naliases, 0);
	assert_int_equal(di.naccounts, 3);
	/* in user name order */
	acct_account_get(a, 0, 0, &ai);
	assert_string_equal(ai.user, "Bob");
	acct_account_get(a, 0, 1, &ai);
	assert_string_equal(ai.user, "alice");
	acct_unref(a);
}

static void
test_no_password_in_messages(void **state)
{
	struct acct *a = NULL;

	(void)state;
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	                 0);
	assert_int_equal(acct_account_add(&a, "bob@example.com",
	                                  "hunter2-very-secret", NULL, err,
	                                  sizeof(err)),
	                 0);
	assert_int_equal(acct_account_add(&a, "bob@example.com",
	                                  "hunter2-very-secret", NULL, err,
	                                  sizeof(err)),
	                 -EEXIST);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(acct_account_password(&a, "x@example.com",
	                                       "hunter2-very-secret", err,
	                                       sizeof(err)),
	                 -ENOENT);
	assert_null(strstr(err, "hunter2"));
	acct_unref(a);
}

/* An edit of a shared snapshot leaves it as it was for its readers. */
static void
test_copy_on_write(void **state)
{
	struct acct *a = fixture();
	struct acct *reader = acct_ref(a);
	struct acct *before = a;
	struct acct_target t;

	(void)state;
	assert_int_equal(
	    acct_account_remove(&a, "bob@example.com", err, sizeof(err)), 0);
	assert_ptr_not_equal(a, before);
	assert_int_equal(resolve(reader, "bob", "example.com", &t), ACCT_LOCAL);
	assert_int_equal(resolve(a, "bob", "example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(resolve(a, "alice", "alias.example", &t),
	                 ACCT_FORWARD);
	/* a failed edit of a shared snapshot keeps the pointer */
	before = a;
	acct_ref(a);
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	                 -EEXIST);
	assert_ptr_equal(a, before);
	acct_unref(a);
	/* held once: changed in place */
	assert_int_equal(acct_domain_add(&a, "new.example", err, sizeof(err)),
	                 0);
	assert_ptr_equal(a, before);
	acct_unref(reader);
	acct_unref(a);
	acct_unref(NULL);
}

/* Many accounts: the indexes stay sorted and found. */
static void
test_many(void **state)
{
	struct acct *a = NULL;
	struct acct_target t;
	char name[64];

	(void)state;
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	                 0);
	for (int i = 0; i < 500; i++) {
		const char *ha1[ACCT__ALG_COUNT] = {BOB_MD5, NULL};

		snprintf(name, sizeof(name), "u%d@example.com",
		         (i * 7919) % 500);
		assert_int_equal(
		    acct_account_add(&a, name, NULL, ha1, err, sizeof(err)), 0);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(resolve(a, name, "example.com", &t),
		                 ACCT_LOCAL);
		assert_string_equal(t.user, name);
	}
	assert_int_equal(resolve(a, "u500", "example.com", &t), ACCT_UNKNOWN);
	acct_unref(a);
}

/*
 * The user names' hash table against every size it goes through: each
 * account and alias added so far is found, with its HA1, and nothing
 * else is: a prefix, a longer name, another case, a NUL inside; then the
 * same after half the accounts are removed.
 */
static void
test_lookup_every_size(void **state)
{
	struct acct *a = NULL;
	struct acct_target t;
	struct acct_cred cred;
	char name[64], alias[64];
	const int n = 300;

	(void)state;
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	                 0);
	assert_int_equal(resolve(a, "u1", "example.com", &t), ACCT_UNKNOWN);
	for (int i = 0; i < n; i++) {
		const char *ha1[ACCT__ALG_COUNT] = {BOB_MD5, NULL};

		snprintf(name, sizeof(name), "u%d@example.com", i);
		assert_int_equal(
		    acct_account_add(&a, name, NULL, ha1, err, sizeof(err)), 0);
		if (i % 3 == 0) {
			snprintf(alias, sizeof(alias), "alias%d", i);
			assert_int_equal(acct_account_alias(&a, name, alias,
			                 true, ha1, err, sizeof(err)), 0);
		}
		if (i % 29 != 0 && i != n - 1) {
			continue;
		}
		for (int k = 0; k <= i; k++) {
			snprintf(name, sizeof(name), "u%d", k);
			assert_int_equal(resolve(a, name, "example.com", &t),
			                 ACCT_LOCAL);
			assert_string_equal(t.user, name);
			assert_int_equal(acct_ha1(a, name, strlen(name),
			                 "example.com", 11, ACCT_MD5, &cred),
			                 0);
			assert_string_equal(cred.ha1, BOB_MD5);
			snprintf(alias, sizeof(alias), "alias%d", k);
			assert_int_equal(resolve(a, alias, "example.com", &t),
			                 k % 3 == 0 ? ACCT_LOCAL
			                            : ACCT_UNKNOWN);
			if (k % 3 == 0) {
				assert_string_equal(t.user, name);
			}
		}
		snprintf(name, sizeof(name), "u%d", i + 1);
		assert_int_equal(resolve(a, name, "example.com", &t),
		                 ACCT_UNKNOWN);
	}
	assert_int_equal(resolve(a, "u", "example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(resolve(a, "u10x", "example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(resolve(a, "U10", "example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(acct_resolve(a, "u1\0", 3, "example.com", 11, &t),
	                 ACCT_UNKNOWN);
	assert_int_equal(acct_resolve(a, "u1", 1, "example.com", 11, &t),
	                 ACCT_UNKNOWN);
	assert_int_equal(acct_resolve(a, "u12", 2, "example.com", 11, &t),
	                 ACCT_LOCAL);
	assert_string_equal(t.user, "u1");
	assert_int_equal(resolve(a, "u10", "EXAMPLE.com", &t), ACCT_LOCAL);
	for (int i = 0; i < n; i += 2) {
		snprintf(name, sizeof(name), "u%d@example.com", i);
		assert_int_equal(acct_account_remove(&a, name, err,
		                 sizeof(err)), 0);
	}
	for (int k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "u%d", k);
		assert_int_equal(resolve(a, name, "example.com", &t),
		                 k % 2 == 0 ? ACCT_UNKNOWN : ACCT_LOCAL);
		snprintf(alias, sizeof(alias), "alias%d", k);
		assert_int_equal(resolve(a, alias, "example.com", &t),
		                 k % 6 == 3 ? ACCT_LOCAL : ACCT_UNKNOWN);
	}
	acct_unref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ha1_vectors),
	    cmocka_unit_test(test_domains),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_ha1_lookup),
	    cmocka_unit_test(test_digests_given),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_no_password_in_messages),
	    cmocka_unit_test(test_copy_on_write),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_lookup_every_size),
	    cmocka_unit_test(test_target_ha1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
