/*
 * unit/wk/wk: the workaround tables (sipd/wk/wk.h): method names in any
 * case, unknown and reserved names refused with the valid ones listed,
 * product patterns ('*' anywhere, case ignored, no runaway on many stars),
 * sites with and without their subdomains, bad keys, and the methods a
 * table may take (duplicates, removal, a full table and the saved lines
 * are the table engine's: tests/unit/conf/test_table.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/cmd.h"
#include "sipd/wk/wk.h"

static char err[256];

static bool
pm(const char *pattern, const char *s)
{
	return wk_pattern_match(pattern, s, strlen(s));
}

static bool
sm(const char *domain, const char *host)
{
	return wk_site_match(domain, host, strlen(host));
}

static void
test_methods(void **state)
{
	unsigned m = 0;
	char buf[128];

	(void)state;
	assert_int_equal(wk_methods_parse("notcp NOMADDR", &m, err,
				 sizeof(err)), 0);
	assert_int_equal(m, WK_NOTCP | WK_NOMADDR);
	assert_string_equal(wk_methods_text(m, buf, sizeof(buf)),
	    "noTCP noMaddr");
	assert_int_equal(wk_methods_parse("  badByeAuth\tnomaddr ", &m, err,
				 sizeof(err)), 0);
	assert_int_equal(m, WK_BADBYEAUTH | WK_NOMADDR);
	assert_int_equal(wk_methods_parse("needsepid NOSUBMWI", &m, err,
				 sizeof(err)), 0);
	assert_int_equal(m, WK_NEEDSEPID | WK_NOSUBMWI);
	assert_int_equal(wk_methods_parse("noPath", &m, err, sizeof(err)),
	    0);
	assert_int_equal(m, WK_NOPATH);
	assert_int_equal(wk_methods_parse("MediaRelay", &m, err, sizeof(err)),
	    0);
	assert_int_equal(m, WK_MEDIARELAY);
	assert_int_equal(wk_methods_parse("nomediarelay notcp", &m, err,
				 sizeof(err)), 0);
	assert_int_equal(m, WK_NOMEDIARELAY | WK_NOTCP);
	assert_string_equal(wk_methods_text(m, buf, sizeof(buf)),
	    "noTCP noMediaRelay");
	/* asking for a relay and forbidding one: a contradiction */
	assert_int_equal(wk_methods_parse("mediaRelay noMediaRelay", &m, err,
				 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "together"));
	/* an unknown name: the valid ones listed */
	assert_int_equal(wk_methods_parse("noTCP noUDP", &m, err,
				 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown method 'noUDP'"));
	assert_non_null(strstr(err, "noTCP, noMaddr"));
	/* a prefix is not a name */
	assert_int_equal(wk_methods_parse("noT", &m, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(wk_methods_parse("", &m, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "no method"));
	assert_int_equal(wk_methods_parse(NULL, &m, err, sizeof(err)),
	    -EINVAL);
	/* reserved names say why */
	assert_int_equal(wk_methods_parse("microsoft", &m, err, sizeof(err)),
	    -ENOTSUP);
	assert_non_null(strstr(err, "presence"));
	assert_int_equal(wk_methods_parse("SubPresence", &m, err,
				 sizeof(err)), -ENOTSUP);
	assert_string_equal(wk_method_name(0), "noTCP");
	assert_string_equal(wk_methods_text(0, buf, sizeof(buf)), "");
}

static void
test_patterns(void **state)
{
	char big[2048];

	(void)state;
	assert_true(pm("Acme Phone*", "Acme Phone 1.0"));
	assert_true(pm("acme phone*", "ACME PHONE"));
	assert_true(pm("*phone*", "Big Acme Phone 2"));
	assert_true(pm("*", ""));
	assert_true(pm("a*b*c", "aXXbYYc"));
	assert_true(pm("a*b*c", "abcbc"));
	assert_false(pm("a*b*c", "aXXbYYcd"));
	assert_false(pm("Acme Phone", "Acme Phone 1.0"));
	assert_false(pm("Acme*", "The Acme"));
	assert_false(pm("x", ""));
	/* many stars against a long near-miss stays linear enough */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(pm("*a*a*a*a*a*a*a*a*a*a*b", big));
	/* not NUL-terminated: only len bytes are read */
	assert_true(wk_pattern_match("ab", "abc", 2));
}

static void
test_sites(void **state)
{
	(void)state;
	assert_true(sm("example.com", "example.com"));
	assert_true(sm("example.com", "PBX.Example.COM"));
	assert_true(sm("example.com", "example.com."));
	assert_false(sm("example.com", "badexample.com"));
	assert_false(sm("example.com", "example.co"));
	assert_false(sm("example.com", "com"));
	assert_true(sm("=example.com", "example.com"));
	assert_false(sm("=example.com", "pbx.example.com"));
	assert_true(sm("127.0.0.2", "127.0.0.2"));
	assert_false(sm("127.0.0.2", "127.0.0.20"));
}

/* An entry into table t, as the configuration's table engine puts one
 * after the checks: 0, or the checks' error. */
static int
put(struct wk *w, enum wk_table t, const char *key, unsigned m)
{
	struct wk_entry *e = t == WK_PRODUCT ? w->product : w->site;
	int *n = t == WK_PRODUCT ? &w->nproduct : &w->nsite;
	int rc;

	if ((rc = wk_key_check(t, key, err, sizeof(err))) < 0 ||
	    (rc = wk_methods_check(t, m, err, sizeof(err))) < 0) {
		return rc;
	}
	snprintf(e[*n].key, sizeof(e[*n].key), "%s", key);
	e[*n].methods = m;
	(*n)++;
	return 0;
}

static void
test_table(void **state)
{
	struct wk *w = malloc(sizeof(*w));
	bool match[WK_MAX_ENTRIES];

	(void)state;
	assert_non_null(w);
	wk_init(w);
	assert_true(wk_empty(w));
	assert_int_equal(put(w, WK_PRODUCT, "Acme*", WK_NOTCP), 0);
	assert_int_equal(put(w, WK_PRODUCT, "*Phone 1.0", WK_NOMADDR), 0);
	assert_int_equal(put(w, WK_PRODUCT, "", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_PRODUCT, "   ", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_PRODUCT, "a\x01", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_PRODUCT, "x", 0), -EINVAL);
	assert_int_equal(put(w, WK_SITE, "example.com", WK_NOMADDR), 0);
	assert_int_equal(put(w, WK_SITE, "=pbx.other.org", WK_NOTCP), 0);
	assert_int_equal(put(w, WK_SITE, "bad..name", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_SITE, "a b", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_SITE, "=", WK_NOTCP), -EINVAL);
	assert_int_equal(put(w, WK_SITE, "[::1]", WK_NOTCP), 0);
	/* badByeAuth is about what a device sends: products only */
	assert_int_equal(put(w, WK_SITE, "b.org", WK_NOTCP | WK_BADBYEAUTH),
	    -EINVAL);
	assert_non_null(strstr(err, "badByeAuth: a product's"));
	/* noPath is about a registrar: sites only */
	assert_int_equal(put(w, WK_PRODUCT, "Reg*", WK_NOPATH), -EINVAL);
	assert_non_null(strstr(err, "noPath: a site's"));
	/* a media relay: a device's need, or a provider's */
	assert_int_equal(wk_methods_check(WK_SITE, WK_MEDIARELAY, err,
			     sizeof(err)), 0);
	assert_int_equal(wk_methods_check(WK_PRODUCT, WK_NOMEDIARELAY, err,
			     sizeof(err)), 0);
	assert_false(wk_empty(w));

	assert_int_equal(wk_lookup(w, WK_PRODUCT, "acme phone 1.0", 14,
				 match), WK_NOTCP | WK_NOMADDR);
	assert_true(match[0] && match[1]);
	assert_int_equal(wk_lookup(w, WK_PRODUCT, "Other", 5, match), 0);
	assert_int_equal(wk_lookup(w, WK_PRODUCT, NULL, 0, NULL), 0);
	assert_int_equal(wk_lookup(w, WK_SITE, "a.example.com", 13, NULL),
	    WK_NOMADDR);
	assert_int_equal(wk_lookup(w, WK_SITE, "x.pbx.other.org", 15, NULL),
	    0);
	free(w);
}

static void
expect_strip(const char *in, unsigned m, const char *want)
{
	char out[256];
	bool changed;
	int n = wk_strip_params(in, strlen(in), m, out, sizeof(out),
	    &changed);

	assert_true(n >= 0);
	out[n] = '\0';
	assert_string_equal(out, want);
	assert_int_equal(changed, strcmp(in, want) != 0);
}

static void
test_strip(void **state)
{
	char small[8];
	bool changed;

	(void)state;
	expect_strip("<sip:a@h;transport=tcp>;expires=60", WK_NOTCP,
	    "<sip:a@h>;expires=60");
	expect_strip("<sip:h;Transport=TCP;lr;maddr=1.2.3.4>, <sip:x;maddr=y>",
	    WK_NOTCP | WK_NOMADDR, "<sip:h;lr>, <sip:x>");
	expect_strip("<sip:h;transport=tcp;maddr=m>", WK_NOMADDR,
	    "<sip:h;transport=tcp>");
	/* a header parameter, and a name that only starts the same */
	expect_strip("sip:a@h;transport=tcp", WK_NOTCP,
	    "sip:a@h;transport=tcp");
	expect_strip("<sip:h;transports=x;maddrx>", WK_NOTCP | WK_NOMADDR,
	    "<sip:h;transports=x;maddrx>");
	/* URI headers end a parameter; display names are left alone */
	expect_strip("<sip:h;transport=tcp?subject=x>", WK_NOTCP,
	    "<sip:h?subject=x>");
	expect_strip("\"<;transport=x>\" <sip:h;transport=udp>", WK_NOTCP,
	    "\"<;transport=x>\" <sip:h>");
	expect_strip("\"a\\\"<\" <sip:h;maddr=x>", WK_NOMADDR,
	    "\"a\\\"<\" <sip:h>");
	expect_strip("<sip:h;transport=tcp", WK_NOTCP, "<sip:h");
	assert_int_equal(wk_strip_params("<sip:abcdefghij>", 16, WK_NOTCP,
				 small, sizeof(small), &changed), -ENOSPC);
	{
		const char *ruri = "sip:a@h;maddr=10.0.0.1;user=phone?x=y";
		char out[64];
		int n = wk_strip_uri(ruri, strlen(ruri), WK_NOMADDR, out,
		    sizeof(out), &changed);

		assert_true(n > 0 && changed);
		assert_memory_equal(out, "sip:a@h;user=phone?x=y", (size_t)n);
	}
}

/* The completion of the commands offers exactly the methods accepted. */
static void
test_grammar(void **state)
{
	enum cmd_id ids[] = { CMD_WORKAROUND_PRODUCT_ADD,
		CMD_WORKAROUND_SITE_ADD };

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct cmd_argspec spec[CMD_MAX_ARGS];
		int n = cmd_spec(&cmd_table[ids[i]], spec, CMD_MAX_ARGS);
		const char *c, *name;
		size_t len;
		int k = 0;

		assert_int_equal(n, 2);
		assert_int_equal(spec[1].type, CMD_T_WORDS);
		/* products: WK_PRODUCT_METHODS; sites: WK_SITE_METHODS */
		c = cmd_choice(&spec[1], 0, &len);
		for (int j = 0; (name = wk_method_name(j)) != NULL; j++) {
			unsigned m;

			assert_int_equal(wk_methods_parse(name, &m, err,
						 sizeof(err)), 0);
			if ((ids[i] == CMD_WORKAROUND_SITE_ADD &&
				(m & WK_SITE_METHODS) == 0) ||
			    (ids[i] == CMD_WORKAROUND_PRODUCT_ADD &&
				(m & WK_PRODUCT_METHODS) == 0)) {
				continue;
			}
			assert_non_null(c);
			assert_int_equal(strlen(name), len);
			assert_memory_equal(name, c, len);
			c = cmd_choice(&spec[1], ++k, &len);
		}
		assert_null(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_sites),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_strip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
