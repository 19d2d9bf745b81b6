/*
 * The media relay decision (sipd/core/media.c, core_media_decide()): for
 * each mode and condition setting, which pairs of endpoints get a relay,
 * and that every answer comes with its reason.  The LAN is 10.1.0.0/16.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "sipd/core/core_int.h"

#define NEV CONF_MEDIA_RELAY_NEVER
#define AUT CONF_MEDIA_RELAY_AUTO
#define ALW CONF_MEDIA_RELAY_ALWAYS

/* conds: l LAN condition on, n NAT on, f family on.  facts: A caller
 * behind a NAT, B callee behind one, F a relay asked for by routing, X
 * one forbidden by routing. */
struct row {
	int line;
	int mode;
	const char *conds;
	const char *a, *b; /* addresses */
	const char *facts;
	bool want;
	const char *why;   /* a word the reason holds */
};

static const struct row rows[] = {
	/* LAN <-> WAN, both ways; never for two LAN or two WAN ends */
	{ __LINE__, AUT, "lnf", "10.1.2.3", "192.0.2.1", "", true, "LAN" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "10.1.2.3", "", true, "LAN" },
	{ __LINE__, AUT, "lnf", "10.1.2.3", "10.1.9.9", "", false, "LAN" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "198.51.100.1", "", false,
	    "reach" },
	{ __LINE__, AUT, "nf", "10.1.2.3", "192.0.2.1", "", false, "off" },
	/* one side behind a remote NAT; both behind the same NAT: no */
	{ __LINE__, AUT, "lnf", "192.0.2.1", "198.51.100.1", "A", true, "NAT" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "198.51.100.1", "B", true, "NAT" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "192.0.2.1", "AB", false,
	    "reach" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "192.0.2.7", "AB", true, "NAT" },
	{ __LINE__, AUT, "lf", "192.0.2.1", "198.51.100.1", "A", false,
	    "reach" },
	/* IPv4 <-> IPv6, IPv4 written as IPv6 is IPv4 */
	{ __LINE__, AUT, "lnf", "192.0.2.1", "2001:db8::1", "", true, "IPv6" },
	{ __LINE__, AUT, "lnf", "2001:db8::1", "192.0.2.1", "", true, "IPv6" },
	{ __LINE__, AUT, "lnf", "::ffff:192.0.2.1", "198.51.100.1", "", false,
	    "reach" },
	{ __LINE__, AUT, "ln", "192.0.2.1", "2001:db8::1", "", false, "reach" },
	/* the mode, and a routing decision */
	{ __LINE__, NEV, "lnf", "10.1.2.3", "192.0.2.1", "AF", false, "never" },
	{ __LINE__, ALW, "", "10.1.2.3", "10.1.2.4", "", true, "always" },
	{ __LINE__, AUT, "", "10.1.2.3", "10.1.2.4", "F", true, "routing" },
	/* a refusal outweighs every condition, media-relay always and a
	 * routing decision that asks for one; never outweighs it */
	{ __LINE__, AUT, "lnf", "10.1.2.3", "192.0.2.1", "AX", false,
	    "forbids" },
	{ __LINE__, AUT, "lnf", "192.0.2.1", "2001:db8::1", "X", false,
	    "forbids" },
	{ __LINE__, ALW, "", "10.1.2.3", "10.1.2.4", "X", false, "forbids" },
	{ __LINE__, AUT, "", "10.1.2.3", "10.1.2.4", "FX", false, "forbids" },
	{ __LINE__, NEV, "", "10.1.2.3", "10.1.2.4", "FX", false, "never" },
};

static void
addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;
		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;
		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, s, &a->sin_addr), 1);
	}
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct core_media_set s = { .mode = (enum conf_media_relay)r->mode };
		struct core_media_in in = { 0 };
		const char *why = NULL;

		s.lan = strchr(r->conds, 'l') != NULL;
		s.nat = strchr(r->conds, 'n') != NULL;
		s.family = strchr(r->conds, 'f') != NULL;
		struct sockaddr_storage lan;
		addr("10.1.0.0", &lan);
		assert_int_equal(tp_net_prefix(&s.lan_r[0],
		    (const struct sockaddr *)&lan, 16), 0);
		s.nlan = 1;
		addr(r->a, &in.a);
		addr(r->b, &in.b);
		in.a_nat = strchr(r->facts, 'A') != NULL;
		in.b_nat = strchr(r->facts, 'B') != NULL;
		in.forced = strchr(r->facts, 'F') != NULL ? "routing asks"
							  : NULL;
		in.forbidden = strchr(r->facts, 'X') != NULL
		    ? "routing forbids"
		    : NULL;
		bool got = core_media_decide(&s, &in, &why);
		if (got != r->want || why == NULL || strstr(why, r->why) == NULL) {
			fail_msg("row at line %d: %d (%s), want %d (%s)", r->line,
			    got, why ? why : "no reason", r->want, r->why);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
