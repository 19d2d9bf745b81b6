/*
 * The location service's pure parts (sipd/core/location.c): where a
 * binding's Path sends a request (its first URI, RFC 3327), and when a
 * binding's Contact is reached directly rather than where the
 * registration came from (the same address over UDP, only the port may
 * differ; anything else, a NAT or a connection, goes to the source).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>

#include "sipd/core/core_int.h"

/* An address as sipd stores it, v4 or v6 by the text. */
static void
addr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		*len = sizeof(*s4);
	}
}

static void
expect_dst(const struct tp_src *d, const char *ip, uint16_t port,
    enum tp_proto proto)
{
	struct sockaddr_storage want;
	socklen_t len;

	addr_of(ip, port, &want, &len);
	assert_int_equal(d->proto, proto);
	assert_int_equal(d->addr.ss_family, want.ss_family);
	assert_int_equal(tp_addr_port((const struct sockaddr *)&d->addr),
	    port);
	assert_memory_equal(&d->addr, &want, len);
}

static void
test_path(void **state)
{
	struct tp_src d;
	bool ps;

	(void)state;
	/* the first URI of the list, whatever follows */
	assert_int_equal(core_location_path("<sip:192.0.2.1:5070;lr>,"
					    "<sip:192.0.2.9;lr>",
			     &d, &ps),
	    0);
	expect_dst(&d, "192.0.2.1", 5070, TP_UDP);
	assert_false(ps);
	/* its transport, and the default port of sips */
	assert_int_equal(core_location_path("<sip:192.0.2.2;transport=tcp;lr>",
			     &d, &ps),
	    0);
	expect_dst(&d, "192.0.2.2", 5060, TP_TCP);
	assert_true(ps);
	assert_int_equal(core_location_path("<sips:[2001:db8::1];lr>", &d, &ps),
	    0);
	expect_dst(&d, "2001:db8::1", 5061, TP_TLS);
	assert_true(ps);
	/* a host name is for DNS, which the location service leaves alone */
	assert_int_equal(core_location_path("<sip:edge.example;lr>", &d, &ps),
	    ROUTE_NAME);
	/* not a Path sipd can follow: no <>, an unclosed <, not a SIP
	 * URI, a transport it does not know */
	assert_int_equal(core_location_path("sip:192.0.2.1;lr", &d, &ps),
	    -EINVAL);
	assert_int_equal(core_location_path("<sip:192.0.2.1;lr", &d, &ps),
	    -EINVAL);
	assert_int_equal(core_location_path("<>", &d, &ps), -EINVAL);
	assert_int_not_equal(core_location_path("<tel:+15551234>", &d, &ps),
	    0);
	assert_int_not_equal(core_location_path("<sip:192.0.2.1;"
						"transport=sctp>",
				 &d, &ps),
	    0);
}

static void
binding(struct reg_binding *b, const char *contact, int proto,
    const char *ip, uint16_t port)
{
	memset(b, 0, sizeof(*b));
	b->contact = contact;
	b->proto = proto;
	addr_of(ip, port, &b->addr, &b->addrlen);
}

static void
test_direct(void **state)
{
	struct reg_binding b;
	struct tp_src d;
	bool ps;

	(void)state;
	/* the Contact names the source: the Contact, its own port */
	binding(&b, "sip:alice@192.0.2.5:5070", TP_UDP, "192.0.2.5", 5060);
	assert_true(core_location_direct(&b, &d, &ps));
	expect_dst(&d, "192.0.2.5", 5070, TP_UDP);
	binding(&b, "sip:alice@[2001:db8::5]:5080", TP_UDP, "2001:db8::5",
	    40000);
	assert_true(core_location_direct(&b, &d, &ps));
	expect_dst(&d, "2001:db8::5", 5080, TP_UDP);
	/* another address: behind a NAT, reached at the source */
	binding(&b, "sip:alice@10.0.0.5:5060", TP_UDP, "192.0.2.5", 5060);
	memset(&d, 0xa5, sizeof(d));
	assert_false(core_location_direct(&b, &d, &ps));
	/* dst untouched when the answer is no */
	assert_int_equal(((const unsigned char *)&d)[0], 0xa5);
	/* another family: the source */
	binding(&b, "sip:alice@[2001:db8::5]", TP_UDP, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
	/* over a connection: the flow it opened, whatever the Contact */
	binding(&b, "sip:alice@192.0.2.5:5070", TP_TCP, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
	binding(&b, "sip:alice@192.0.2.5:5070", TP_TLS, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
	/* a Contact sipd cannot read, or a host name: the source */
	binding(&b, "sip:alice@host.example", TP_UDP, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
	binding(&b, "<sip:alice@192.0.2.5", TP_UDP, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
	binding(&b, "tel:+15551234", TP_UDP, "192.0.2.5", 5060);
	assert_false(core_location_direct(&b, &d, &ps));
}

/* The account of uri under acct (a core with no Router seeds). */
static enum acct_kind
acct_of(struct acct *acct, const char *uri, struct acct_target *t)
{
	struct core c;
	struct uri u;

	memset(&c, 0, sizeof(c));
	c.acct = acct;
	memset(&u, 0, sizeof(u));
	assert_int_equal(uri_parse(uri, (struct span){ 0,
	    (uint32_t)strlen(uri) }, &u), 0);
	return core_acct_id(&c, uri, &u, t);
}

/*
 * The user part of a To names its account unescaped (RFC 3261 19.1.4),
 * whether anything in it is escaped or not, up to the longest user name
 * an account has; a longer one is no account of ours.
 */
static void
test_acct_id(void **state)
{
	struct acct *a = NULL;
	struct acct_target t;
	char err[256], u64[65], uri[200];

	(void)state;
	memset(u64, 'u', 64);
	u64[64] = '\0';
	assert_int_equal(acct_domain_add(&a, "example.com", err, sizeof(err)),
	    0);
	assert_int_equal(acct_account_add(&a, "alice@example.com", "pw", NULL,
	    err, sizeof(err)), 0);
	snprintf(uri, sizeof(uri), "%s@example.com", u64);
	assert_int_equal(acct_account_add(&a, uri, "pw", NULL, err,
	    sizeof(err)), 0);

	assert_int_equal(acct_of(a, "sip:alice@example.com", &t), ACCT_LOCAL);
	assert_string_equal(t.user, "alice");
	assert_int_equal(acct_of(a, "sip:%61lice@Example.COM", &t),
	    ACCT_LOCAL);
	assert_string_equal(t.user, "alice");
	assert_int_equal(acct_of(a, "sips:alic%65@example.com", &t),
	    ACCT_LOCAL);
	assert_int_equal(acct_of(a, "sip:bob@example.com", &t), ACCT_UNKNOWN);
	assert_int_equal(acct_of(a, "sip:alice@example.org", &t),
	    ACCT_FOREIGN);
	assert_int_equal(acct_of(a, "tel:+15551234", &t), ACCT_FOREIGN);
	snprintf(uri, sizeof(uri), "sip:%s@example.com", u64);
	assert_int_equal(acct_of(a, uri, &t), ACCT_LOCAL);
	assert_string_equal(t.user, u64);
	snprintf(uri, sizeof(uri), "sip:%%75%s@example.com", u64 + 1);
	assert_int_equal(acct_of(a, uri, &t), ACCT_LOCAL);
	snprintf(uri, sizeof(uri), "sip:u%s@example.com", u64);
	assert_int_equal(acct_of(a, uri, &t), ACCT_UNKNOWN);
	snprintf(uri, sizeof(uri), "sip:%%75%s@example.com", u64);
	assert_int_equal(acct_of(a, uri, &t), ACCT_UNKNOWN);
	acct_unref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_direct),
		cmocka_unit_test(test_acct_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
