/*
 * The policy's decision table (sipd/core/policy.c): for each setting of
 * "relay to-non-clients" and "set auth-local-from", what a request gets
 * for each kind of target and each thing sipd verified about it, and
 * that every verdict comes with its reason; a response relayed by its
 * Via, on what sipd verified of its branch alone.  Also the client-ip
 * range test the policy reads.
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

#define ANY CONF_RELAY_ANYBODY
#define CLI CONF_RELAY_CLIENTS
#define NOB CONF_RELAY_NOBODY

enum { ALLOW = CORE_V_ALLOW, CHAL = CORE_V_CHALLENGE, DENY = CORE_V_DENY };

/* The facts, one letter each: c client-ip source, a authenticated, o From
 * names another account, f local From, d in a signed dialog, r named
 * route rule, k destination known, t destination a client-ip; and of a
 * response's top Via: v sipd's, b a branch of sipd's shape, s signed for
 * its next Via (each implies the ones before). */
struct row {
	int line;
	enum conf_relay relay;
	bool alf;
	enum core_send kind;
	const char *facts;
	int want;
	const char *why; /* a word the reason holds */
};

static const struct row rows[] = {
	/* a client relays anywhere, whatever the setting */
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "ck", ALLOW, "client-ip" },
	{ __LINE__, CLI, true, CORE_SEND_RELAY, "ck", ALLOW, "client-ip" },
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "ak", ALLOW, "authenticated" },
	{ __LINE__, NOB, true, CORE_SEND_FORWARD, "ck", ALLOW, "client-ip" },
	/* a non-client, by setting */
	{ __LINE__, ANY, true, CORE_SEND_RELAY, "k", ALLOW, "anybody" },
	{ __LINE__, CLI, true, CORE_SEND_RELAY, "k", CHAL, "not a client" },
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "k", CHAL, "nobody" },
	{ __LINE__, ANY, true, CORE_SEND_RELAY, "kt", ALLOW, "anybody" },
	{ __LINE__, CLI, true, CORE_SEND_RELAY, "kt", ALLOW, "client-ip" },
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "kt", CHAL, "nobody" },
	/* no route: nothing learnt before the sender is a client */
	{ __LINE__, CLI, true, CORE_SEND_RELAY, "", CHAL, "no route" },
	{ __LINE__, ANY, true, CORE_SEND_RELAY, "", ALLOW, "anybody" },
	/* a rule naming the domain is the administrator's leave */
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "rk", ALLOW, "rule" },
	/* forwarders outside the domains are relays */
	{ __LINE__, CLI, true, CORE_SEND_FORWARD, "k", CHAL, "not a client" },
	{ __LINE__, CLI, true, CORE_SEND_FORWARD, "kt", ALLOW, "client-ip" },
	{ __LINE__, NOB, true, CORE_SEND_FORWARD, "kt", CHAL, "nobody" },
	{ __LINE__, ANY, true, CORE_SEND_FORWARD, "k", ALLOW, "anybody" },
	/* local accounts are reached by anyone... */
	{ __LINE__, NOB, true, CORE_SEND_LOCAL, "", ALLOW, "local" },
	{ __LINE__, NOB, true, CORE_SEND_BINDING, "k", ALLOW, "local" },
	/* ... but a local From must be backed by an account */
	{ __LINE__, ANY, true, CORE_SEND_LOCAL, "f", CHAL, "local domain" },
	{ __LINE__, ANY, true, CORE_SEND_BINDING, "fk", CHAL, "local domain" },
	{ __LINE__, ANY, true, CORE_SEND_RELAY, "fk", CHAL, "local domain" },
	{ __LINE__, ANY, false, CORE_SEND_LOCAL, "f", ALLOW, "local" },
	{ __LINE__, NOB, true, CORE_SEND_LOCAL, "cf", ALLOW, "local" },
	{ __LINE__, NOB, true, CORE_SEND_LOCAL, "af", ALLOW, "local" },
	{ __LINE__, ANY, true, CORE_SEND_LOCAL, "afo", DENY, "another" },
	{ __LINE__, ANY, true, CORE_SEND_LOCAL, "cafo", ALLOW, "local" },
	/* a Path only through a client-ip first hop */
	{ __LINE__, ANY, true, CORE_SEND_PATH, "kt", ALLOW, "path" },
	{ __LINE__, ANY, true, CORE_SEND_PATH, "k", DENY, "path" },
	{ __LINE__, ANY, true, CORE_SEND_PATH, "ck", DENY, "path" },
	/* a signed dialog goes on, local From or not */
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "dk", ALLOW, "dialog" },
	{ __LINE__, NOB, true, CORE_SEND_RELAY, "dfk", ALLOW, "dialog" },
	{ __LINE__, NOB, true, CORE_SEND_ACK, "dfk", ALLOW, "dialog" },
	/* ... but a request that ends at a local account starts one */
	{ __LINE__, NOB, true, CORE_SEND_LOCAL, "df", CHAL, "local domain" },
	{ __LINE__, NOB, true, CORE_SEND_FORWARD, "dk", CHAL, "nobody" },
	/* an ACK cannot be challenged: allowed or absorbed */
	{ __LINE__, CLI, true, CORE_SEND_ACK, "k", DENY, "not a client" },
	{ __LINE__, ANY, true, CORE_SEND_ACK, "fk", DENY, "local domain" },
	{ __LINE__, NOB, true, CORE_SEND_ACK, "ck", ALLOW, "client-ip" },
	{ __LINE__, CLI, true, CORE_SEND_ACK, "kt", ALLOW, "client-ip" },
	/* a response goes on by its next Via on sipd's signature alone */
	{ __LINE__, NOB, true, CORE_SEND_RESPONSE, "vbsk", ALLOW, "signed" },
	{ __LINE__, NOB, true, CORE_SEND_RESPONSE, "fvbsk", ALLOW, "signed" },
	{ __LINE__, ANY, true, CORE_SEND_RESPONSE, "vbk", DENY,
	    "not signed by sipd for its next Via" },
	{ __LINE__, ANY, true, CORE_SEND_RESPONSE, "v", DENY,
	    "branch not sipd's" },
	{ __LINE__, ANY, true, CORE_SEND_RESPONSE, "k", DENY,
	    "top Via not sipd's" },
	/* ... and not on anything else: a client, an authenticated sender,
	 * a client-ip destination, a dialog, a rule, relaying to anybody */
	{ __LINE__, ANY, false, CORE_SEND_RESPONSE, "cadrkt", DENY,
	    "top Via not sipd's" },
	{ __LINE__, ANY, false, CORE_SEND_RESPONSE, "cadrktvb", DENY,
	    "not signed" },
};

static struct core_policy_in
facts(enum core_send kind, const char *f)
{
	struct core_policy_in in;

	memset(&in, 0, sizeof(in));
	in.kind = kind;
	in.src_client = strchr(f, 'c') != NULL;
	in.authenticated = strchr(f, 'a') != NULL;
	in.from_other_user = strchr(f, 'o') != NULL;
	in.from_local = strchr(f, 'f') != NULL;
	in.in_dialog = strchr(f, 'd') != NULL;
	in.by_rule = strchr(f, 'r') != NULL;
	in.dst_known = strchr(f, 'k') != NULL;
	in.dst_client = strchr(f, 't') != NULL;
	in.branch = CORE_BRANCH_NONE;
	if (strchr(f, 's') != NULL) {
		in.branch = CORE_BRANCH_SIGNED;
	} else if (strchr(f, 'b') != NULL) {
		in.branch = CORE_BRANCH_UNSIGNED;
	} else if (strchr(f, 'v') != NULL) {
		in.branch = CORE_BRANCH_FOREIGN;
	}
	return in;
}

static void
test_table(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct core_policy_set set = { .relay = r->relay,
			.auth_local_from = r->alf };
		struct core_policy_in in = facts(r->kind, r->facts);
		const char *why = NULL;
		enum core_verdict v = core_policy_decide(&set, &in, &why);

		if ((int)v != r->want || why == NULL ||
		    strstr(why, r->why) == NULL) {
			print_error("line %d: verdict %d (%s), want %d (%s)\n",
			    r->line, (int)v, why ? why : "no reason", r->want,
			    r->why);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Every combination of facts, kinds and settings has a reason, and no
 * non-client gets through to a foreign host but as the table says. */
static void
test_exhaustive(void **state)
{
	(void)state;
	for (int kind = CORE_SEND_LOCAL; kind <= CORE_SEND_RESPONSE; kind++) {
		for (unsigned bits = 0; bits < 1024; bits++) {
			for (int relay = ANY; relay <= NOB; relay++) {
				for (int alf = 0; alf < 2; alf++) {
					struct core_policy_set set = {
						.relay = (enum conf_relay)relay,
						.auth_local_from = alf };
					struct core_policy_in in = {
						.kind = (enum core_send)kind,
						.src_client = bits & 1,
						.authenticated = bits & 2,
						.from_other_user = bits & 4,
						.from_local = bits & 8,
						.in_dialog = bits & 16,
						.by_rule = bits & 32,
						.dst_known = bits & 64,
						.dst_client = bits & 128,
						.branch = (enum core_branch)(
						    bits >> 8) };
					const char *why = NULL;
					enum core_verdict v =
					    core_policy_decide(&set, &in, &why);
					assert_non_null(why);
					if (kind == CORE_SEND_ACK ||
					    kind == CORE_SEND_RESPONSE) {
						assert_int_not_equal(v,
						    CORE_V_CHALLENGE);
					}
					/* sipd's own request: no peer to
					 * judge, it always goes */
					if (kind == CORE_SEND_OWN) {
						assert_int_equal(v,
						    CORE_V_ALLOW);
						continue;
					}
					/* a response: the signature decides,
					 * nothing else */
					if (kind == CORE_SEND_RESPONSE) {
						assert_int_equal(
						    v == CORE_V_ALLOW,
						    in.branch ==
							CORE_BRANCH_SIGNED);
						continue;
					}
					if (v == CORE_V_ALLOW &&
					    (kind == CORE_SEND_RELAY ||
						kind == CORE_SEND_FORWARD) &&
					    !in.src_client &&
					    !in.authenticated &&
					    !(in.in_dialog &&
						kind == CORE_SEND_RELAY) &&
					    !in.by_rule) {
						assert_true(relay == ANY ||
						    (relay == CLI &&
							in.dst_known &&
							in.dst_client));
					}
					if (v == CORE_V_ALLOW && alf &&
					    in.from_local &&
					    !in.src_client &&
					    (!in.in_dialog ||
						(kind != CORE_SEND_RELAY &&
						    kind != CORE_SEND_ACK &&
						    kind != CORE_SEND_GATEWAY))) {
						assert_true(in.authenticated);
					}
					/* a gateway is paid for: outside a
					 * dialog sipd sent it into, clients
					 * only, whatever the relay setting */
					if (v == CORE_V_ALLOW &&
					    kind == CORE_SEND_GATEWAY &&
					    !in.in_dialog) {
						assert_true(in.src_client ||
						    in.authenticated);
					}
				}
			}
		}
	}
}

static struct sockaddr_storage
addr(const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(a, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, a, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, a, &s4->sin_addr);
	}
	return ss;
}

static struct tp_net
range(const char *a, unsigned prefix)
{
	struct sockaddr_storage ss = addr(a);
	struct tp_net r;

	assert_int_equal(tp_net_prefix(&r, (struct sockaddr *)&ss, prefix), 0);
	return r;
}

/* Is ss in the one-line list r? */
static bool
core_in_range(const struct tp_net *r, const struct sockaddr_storage *ss)
{
	return tp_net_match(r, 1, (const struct sockaddr *)ss);
}

static void
test_ranges(void **state)
{
	struct tp_net r = range("192.0.2.0", 24);
	struct tp_net one = range("127.0.0.5", 32);
	struct tp_net v6 = range("2001:db8::", 32);
	struct sockaddr_storage ss;

	(void)state;
	ss = addr("192.0.2.77");
	assert_true(core_in_range(&r, &ss));
	ss = addr("192.0.3.1");
	assert_false(core_in_range(&r, &ss));
	ss = addr("127.0.0.5");
	assert_true(core_in_range(&one, &ss));
	ss = addr("127.0.0.6");
	assert_false(core_in_range(&one, &ss));
	ss = addr("2001:db8:1::9");
	assert_true(core_in_range(&v6, &ss));
	ss = addr("2001:db9::1");
	assert_false(core_in_range(&v6, &ss));
	/* one rule for every address list (tp_net_match()): an
	 * IPv4-mapped address is its IPv4 address, on either side, as the
	 * LAN list and the check for sipd's own addresses have it */
	ss = addr("::ffff:192.0.2.77");
	assert_true(core_in_range(&r, &ss));
	ss = addr("::ffff:192.0.3.77");
	assert_false(core_in_range(&r, &ss));
	{
		struct tp_net m = range("::ffff:192.0.2.0", 120);

		ss = addr("192.0.2.9");
		assert_true(core_in_range(&m, &ss));
		ss = addr("192.0.3.9");
		assert_false(core_in_range(&m, &ss));
	}
	/* otherwise families never mix */
	ss = addr("192.0.2.77");
	assert_false(core_in_range(&v6, &ss));
	ss = addr("2001:db8::1");
	assert_false(core_in_range(&r, &ss));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
