/*
 * unit/router/rtr: the Router table (sipd/router/rtr.h): parsing records
 * and the errors that name a column, the seed's Sample 1 table, the
 * examples of the routing reference (main domain example.com), NoRelay for
 * clients and strangers, the loop limit, and the SIP routing rules on the
 * final address (IP literals, .sipgw, %, transport suffixes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sipd/router/rtr.h"

static char err[256];

static const char *sample1[] = {
	"NoRelay:Signal:<1*> = *@Provider1.sipgw",
	"NoRelay:Signal:<+*> = 011*@IntlProvider.sipgw",
	"Signal:<help> = alice",
	"oldco.com = example.com",
};

static int
table(struct rtr_record *tab, const char **recs, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(rtr_parse(recs[i], &tab[i], err,
				     sizeof(err)), 0);
	}
	return n;
}

static struct rtr_result res;

static int
route(const struct rtr_record *tab, int n, bool client, const char *local,
    const char *domain)
{
	struct rtr_in in = { .main_domain = "example.com", .client = client };

	return rtr_route(tab, n, &in, local, domain, &res);
}

static void
test_parse(void **state)
{
	struct rtr_record r;

	(void)state;
	assert_int_equal(rtr_parse("NoRelay:Signal:<1*> = *@Provider1.sipgw",
			     &r, err, sizeof(err)), 0);
	assert_int_equal(r.flags, RTR_F_NORELAY | RTR_F_SIGNAL);
	assert_int_equal(r.left_kind, RTR_L_MAIN);
	assert_string_equal(r.left, "1*");
	assert_string_equal(r.right, "*@Provider1.sipgw");
	assert_string_equal(r.text, "NoRelay:Signal:<1*> = *@Provider1.sipgw");
	/* blanks, case of prefixes and a comment */
	assert_int_equal(rtr_parse("  signal:norelay:<1*>=*@p.sipgw ; paid",
			     &r, err, sizeof(err)), 0);
	assert_string_equal(r.text, "Signal:NoRelay:<1*> = *@p.sipgw");
	assert_int_equal(rtr_parse("bob@x.org = carol", &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.left_kind, RTR_L_ADDR);
	assert_int_equal(rtr_parse("oldco.com = example.com", &r, err,
			     sizeof(err)), 0);
	assert_int_equal(r.left_kind, RTR_L_DOMAIN);
	assert_int_equal(r.flags, 0);
	assert_true(rtr_applies_sip(&r));
	assert_int_equal(rtr_parse("Mail:<x> = y", &r, err, sizeof(err)), 0);
	assert_false(rtr_applies_sip(&r));
	assert_int_equal(rtr_parse("Access:<x> = y", &r, err, sizeof(err)), 0);
	assert_false(rtr_applies_sip(&r));
	assert_int_equal(rtr_parse("Mail:Signal:<x> = y", &r, err, sizeof(err)),
	    0);
	assert_true(rtr_applies_sip(&r));
	/* the media relay a record asks for or forbids */
	assert_int_equal(rtr_parse("mediarelay:Signal:<1*> = *@p.sipgw", &r,
			     err, sizeof(err)), 0);
	assert_int_equal(r.flags, RTR_F_MEDIA | RTR_F_SIGNAL);
	assert_string_equal(r.text, "MediaRelay:Signal:<1*> = *@p.sipgw");
	assert_true(rtr_applies_sip(&r));
	assert_int_equal(rtr_parse("NoMediaRelay:x.org = y.org", &r, err,
			     sizeof(err)), 0);
	assert_int_equal(r.flags, RTR_F_NOMEDIA);
}

/* A record's media choice goes into the result of the routes it
 * applied to, and a NoRelay record skipped for a stranger gives none. */
static void
test_media(void **state)
{
	static const char *recs[] = {
		"NoRelay:MediaRelay:<1*> = *@Provider1.sipgw",
		"NoMediaRelay:<help> = alice",
		"MediaRelay:<alice> = bob",
		"<carol> = dave",
	};
	struct rtr_record tab[4];
	int n = table(tab, recs, 4);

	(void)state;
	assert_int_equal(route(tab, n, true, "12125551234", "example.com"), 0);
	assert_int_equal(res.media, RTR_F_MEDIA);
	assert_int_equal(route(tab, n, false, "12125551234", "example.com"),
	    0);
	assert_int_equal(res.media, 0);
	/* both along the way: both kept (the core lets the refusal win) */
	assert_int_equal(route(tab, n, true, "help", "example.com"), 0);
	assert_int_equal(res.media, RTR_F_MEDIA | RTR_F_NOMEDIA);
	assert_string_equal(res.local, "bob");
	assert_int_equal(route(tab, n, true, "carol", "example.com"), 0);
	assert_int_equal(res.media, 0);
	assert_int_equal(route(tab, n, true, "erin", "example.com"), 0);
	assert_int_equal(res.media, 0);
}

static void
bad(const char *rec, const char *msg)
{
	struct rtr_record r;

	assert_int_equal(rtr_parse(rec, &r, err, sizeof(err)), -EINVAL);
	if (strstr(err, msg) == NULL) {
		fail_msg("'%s': got '%s', want '%s'", rec, err, msg);
	}
}

static void
test_parse_errors(void **state)
{
	(void)state;
	bad("Call:<1*> = x", "column 1: unknown prefix 'Call:'");
	bad("Signal:Foo:<1*> = x", "column 8: unknown prefix 'Foo:'");
	bad("Signal:Signal:<1> = x", "column 8: prefix given twice");
	bad("MediaRelay:NoMediaRelay:<1> = x",
	    "column 1: MediaRelay: and NoMediaRelay: together");
	bad("<1**> = x", "column 4: a second '*'");
	bad("<1*> x", "column 7: missing '= target'");
	bad("<1*> = ", "column 7: empty target");
	bad(" = x", "column 2: empty address");
	bad("<1* = x", "column 3: '<' without its '>'");
	bad("<> = x", "empty");
	bad("a b = x", "column 2: unexpected blank in the address");
	bad("a = b c", "column 6: unexpected blank in the target");
	bad("a@b@c = x", "column 4: a second '@'");
	bad("<a@b> = x", "column 2: '@' inside '<>'");
	bad("", "column 1: empty record");
	bad("; a comment", "column 1: empty record");
}

/* The seed's Sample 1, from a client and from a stranger. */
static void
test_sample1(void **state)
{
	struct rtr_record tab[4];
	int n = table(tab, sample1, 4);

	(void)state;
	assert_int_equal(route(tab, n, true, "12125551234", "example.com"), 0);
	assert_int_equal(res.kind, RTR_GATEWAY);
	assert_string_equal(res.gateway, "Provider1");
	/* the leading 1 is literal: dropped */
	assert_string_equal(res.local, "2125551234");
	assert_int_equal(res.nsteps, 1);
	assert_int_equal(res.steps[0].record, 0);
	assert_string_equal(res.steps[0].addr, "2125551234@Provider1.sipgw");

	assert_int_equal(route(tab, n, true, "+441234567", "example.com"), 0);
	assert_int_equal(res.kind, RTR_GATEWAY);
	assert_string_equal(res.gateway, "IntlProvider");
	assert_string_equal(res.local, "011441234567");

	/* "1" alone: the '*' takes the empty string */
	assert_int_equal(route(tab, n, true, "1", "example.com"), 0);
	assert_string_equal(res.local, "");
	assert_string_equal(res.gateway, "Provider1");

	/* a stranger: the NoRelay records are skipped, the address stays */
	assert_int_equal(route(tab, n, false, "12125551234", "example.com"),
	    0);
	assert_int_equal(res.kind, RTR_HOST);
	assert_true(res.norelay_skipped);
	assert_false(res.changed);
	assert_string_equal(res.local, "12125551234");
	assert_string_equal(res.domain, "example.com");

	/* <name> is in the main domain only */
	assert_int_equal(route(tab, n, true, "12125551234", "other.org"), 0);
	assert_int_equal(res.nsteps, 0);
	assert_false(res.norelay_skipped);

	/* help: alice in the main domain, for anybody */
	assert_int_equal(route(tab, n, false, "help", "example.com"), 0);
	assert_int_equal(res.kind, RTR_HOST);
	assert_string_equal(res.local, "alice");
	assert_string_equal(res.domain, "example.com");
	assert_true(res.changed);
	assert_false(res.by_record);

	/* a domain moves, the local part stays; "help" there is routed again
	 * from the start: oldco.com -> example.com, then help -> alice */
	assert_int_equal(route(tab, n, false, "bob", "OldCo.com"), 0);
	assert_string_equal(res.local, "bob");
	assert_string_equal(res.domain, "example.com");
	assert_int_equal(route(tab, n, false, "help", "oldco.com"), 0);
	assert_string_equal(res.local, "alice");
	assert_int_equal(res.nsteps, 2);
	assert_int_equal(res.steps[0].record, 3);
	assert_int_equal(res.steps[1].record, 2);
}

/* The examples of the routing reference. */
static void
test_reference_examples(void **state)
{
	struct rtr_record tab[4];
	int n = table(tab, sample1, 4);

	(void)state;
	/* Mail: only: unchanged for SIP */
	struct rtr_record m;
	assert_int_equal(rtr_parse("Mail:<help> = alice", &m, err,
			     sizeof(err)), 0);
	assert_int_equal(route(&m, 1, true, "help", "example.com"), 0);
	assert_string_equal(res.local, "help");

	assert_int_equal(route(tab, n, true, "bob%partner.net", "example.com"),
	    0);
	assert_string_equal(res.local, "bob");
	assert_string_equal(res.domain, "partner.net");
	assert_int_equal(res.kind, RTR_HOST);
	assert_true(res.dotted);

	assert_int_equal(route(tab, n, true, "bob", "[192.0.2.7]"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "192.0.2.7");
	assert_int_equal(route(tab, n, true, "bob", "2001:db8::1"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "[2001:db8::1]");

	/* a port with an IP literal */
	assert_int_equal(route(tab, n, true, "bob", "127.0.0.9:5070"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "127.0.0.9:5070");
	assert_int_equal(route(tab, n, true, "bob", "[::1]:5070"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "[::1]:5070");
	assert_int_equal(route(tab, n, true, "bob", "host.net:5070"), 0);
	assert_int_equal(res.kind, RTR_HOST);

	assert_int_equal(route(tab, n, true, "bob", "partner.net.tcp"), 0);
	assert_int_equal(res.proto, RTR_PROTO_TCP);
	assert_string_equal(res.domain, "partner.net");
	assert_true(res.changed);
	assert_int_equal(route(tab, n, true, "bob", "127.0.0.2.TLS"), 0);
	assert_int_equal(res.proto, RTR_PROTO_TLS);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "127.0.0.2");
	/* a suffix alone is a name */
	assert_int_equal(route(tab, n, true, "bob", "udp"), 0);
	assert_int_equal(res.proto, RTR_PROTO_ANY);
	assert_false(res.dotted);
	assert_int_equal(route(tab, n, true, "bob", ".udp"), 0);
	assert_int_equal(res.proto, RTR_PROTO_ANY);
	assert_string_equal(res.domain, ".udp");
	/* a suffix in any case, then the gateway's */
	assert_int_equal(route(tab, n, true, "bob", "Prov.SipGW.Udp"), 0);
	assert_int_equal(res.proto, RTR_PROTO_UDP);
	assert_int_equal(res.kind, RTR_GATEWAY);
	assert_string_equal(res.gateway, "Prov");
	assert_int_equal(route(tab, n, true, "bob", "[2001:db8::1]"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "[2001:db8::1]");
	assert_int_equal(route(tab, n, true, "bob", "[192.0.2.7]:5070"), 0);
	assert_int_equal(res.kind, RTR_IP);
	assert_string_equal(res.domain, "192.0.2.7:5070");

	/* no '@' but '%': the rightmost '%' becomes '@' */
	assert_int_equal(route(tab, n, true, "bob%x%partner.net", NULL), 0);
	assert_string_equal(res.local, "bob%x");
	assert_string_equal(res.domain, "partner.net");
}

static void
test_star_and_addr(void **state)
{
	static const char *recs[] = {
		"*@old.org = *@new.org",
		"bob@x.org = carol@y.org",
		"<a*z> = [*]*",
		"Signal:sales.* = *.example.net",
		"<gw*> = *@192.0.2.9.tcp",
	};
	struct rtr_record tab[5];
	int n = table(tab, recs, 5);

	(void)state;
	assert_int_equal(route(tab, n, true, "dan", "OLD.org"), 0);
	assert_string_equal(res.local, "dan");
	assert_string_equal(res.domain, "new.org");
	assert_true(res.by_record);
	assert_int_equal(route(tab, n, true, "BOB", "x.org"), 0);
	assert_string_equal(res.local, "carol");
	assert_string_equal(res.domain, "y.org");
	/* anchored literal text: "az" matches with an empty '*', "abz" too,
	 * "ab" does not */
	assert_int_equal(route(tab, n, true, "abcz", "example.com"), 0);
	assert_string_equal(res.local, "[bc]bc");
	assert_int_equal(route(tab, n, true, "ab", "example.com"), 0);
	assert_int_equal(res.nsteps, 0);
	assert_int_equal(route(tab, n, true, "x", "sales.eu"), 0);
	assert_string_equal(res.domain, "eu.example.net");
	assert_int_equal(route(tab, n, true, "gw77", "example.com"), 0);
	assert_string_equal(res.local, "77");
	assert_int_equal(res.kind, RTR_IP);
	assert_int_equal(res.proto, RTR_PROTO_TCP);
	assert_true(res.by_record);
}

static void
test_loop_limit(void **state)
{
	static const char *loop[] = { "<a> = b", "<b> = a" };
	static const char *chain[] = { "<a*> = *b" };
	struct rtr_record tab[2];

	(void)state;
	table(tab, loop, 2);
	assert_int_equal(route(tab, 2, true, "a", "example.com"), -ELOOP);
	/* ten rewrites pass, the eleventh fails */
	table(tab, chain, 1);
	assert_int_equal(route(tab, 1, true, "aaaaaaaaaa", "example.com"), 0);
	assert_string_equal(res.local, "bbbbbbbbbb");
	assert_int_equal(res.nsteps, RTR_LOOP_LIMIT);
	assert_int_equal(route(tab, 1, true, "aaaaaaaaaaa", "example.com"),
	    -ELOOP);
	/* a record that grows its address until it overflows */
	static const char *grow[] = { "<x*> = x**" };
	table(tab, grow, 1);
	assert_true(route(tab, 1, true, "xyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
			"example.com") < 0);
}

static void
test_no_main_domain(void **state)
{
	struct rtr_record tab[4];
	struct rtr_in in = { .main_domain = NULL, .client = true };
	int n = table(tab, sample1, 4);

	(void)state;
	assert_int_equal(rtr_route(tab, n, &in, "12125551234", "example.com",
			     &res), 0);
	assert_int_equal(res.nsteps, 0);
	assert_int_equal(res.kind, RTR_HOST);
}

/*
 * rtr_route() does not clear the whole result (its steps and the bytes
 * after each string's NUL are left as they were): a result full of
 * another's leftovers reads as a fresh one, for records that apply, a
 * gateway, suffixes, IP literals and names.
 */
static void
test_result_reused(void **state)
{
	static const char *recs[] = {
		"<1*> = *@Provider1.sipgw",
		"<alias> = bob@example.com",
		"other.net = 192.0.2.5.tcp",
	};
	static const char *addrs[][2] = {
		{ "12125551234", "example.com" },
		{ "alias", "example.com" },
		{ "carol", "other.net" },
		{ "dave", "192.0.2.9:5070" },
		{ "erin", "[2001:db8::1]" },
		{ "frank", "host.example.org.tls" },
		{ "gina", "intranet" },
	};
	static struct rtr_result fresh, dirty;
	struct rtr_record tab[3];
	struct rtr_in in = { .main_domain = "example.com", .client = true };
	int n = table(tab, recs, 3);

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		memset(&fresh, 0, sizeof(fresh));
		memset(&dirty, 0xa5, sizeof(dirty));
		assert_int_equal(rtr_route(tab, n, &in, addrs[i][0], addrs[i][1],
				     &fresh), 0);
		assert_int_equal(rtr_route(tab, n, &in, addrs[i][0], addrs[i][1],
				     &dirty), 0);
		assert_string_equal(dirty.local, fresh.local);
		assert_string_equal(dirty.domain, fresh.domain);
		assert_string_equal(dirty.gateway, fresh.gateway);
		assert_int_equal(dirty.kind, fresh.kind);
		assert_int_equal(dirty.proto, fresh.proto);
		assert_int_equal(dirty.changed, fresh.changed);
		assert_int_equal(dirty.by_record, fresh.by_record);
		assert_int_equal(dirty.dotted, fresh.dotted);
		assert_int_equal(dirty.norelay_skipped, fresh.norelay_skipped);
		assert_int_equal(dirty.media, fresh.media);
		assert_int_equal(dirty.nsteps, fresh.nsteps);
		for (int k = 0; k < fresh.nsteps; k++) {
			assert_int_equal(dirty.steps[k].record,
			    fresh.steps[k].record);
			assert_string_equal(dirty.steps[k].addr,
			    fresh.steps[k].addr);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_media),
		cmocka_unit_test(test_sample1),
		cmocka_unit_test(test_reference_examples),
		cmocka_unit_test(test_star_and_addr),
		cmocka_unit_test(test_loop_limit),
		cmocka_unit_test(test_no_main_domain),
		cmocka_unit_test(test_result_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
