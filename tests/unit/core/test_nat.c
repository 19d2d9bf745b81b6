/*
 * Far-end NAT detection (sipd/core/nat.c): which senders core_nat_far()
 * says are behind a remote NAT, for the default nated list, with it off,
 * and with entries added.  Each row: the top Via's sent-by (or none), the
 * Contact's host, the packet's source, and the answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

struct row {
	int line;
	const char *via;     /* sent-by host */
	const char *contact; /* Contact host, NULL: no Contact */
	const char *src;
	bool want;
};

static const struct row rows[] = {
	/* a private address seen from a public source: behind a NAT */
	{ __LINE__, "192.168.1.20", "192.168.1.20", "198.51.100.7", true },
	{ __LINE__, "10.1.2.3", NULL, "203.0.113.9", true },
	{ __LINE__, "172.16.0.5", NULL, "203.0.113.9", true },
	{ __LINE__, "172.31.255.5", NULL, "203.0.113.9", true },
	{ __LINE__, "100.64.0.1", NULL, "203.0.113.9", true },
	{ __LINE__, "100.127.255.254", NULL, "203.0.113.9", true },
	{ __LINE__, "[fd12::5]", NULL, "2001:db8::7", true },
	/* the same address as the source: no NAT on the way */
	{ __LINE__, "192.168.1.20", NULL, "192.168.1.20", false },
	/* a source in the nated list: a LAN peer, not a remote NAT */
	{ __LINE__, "192.168.1.20", NULL, "10.0.0.1", false },
	/* a public own address: not behind a NAT, whatever the source */
	{ __LINE__, "198.51.100.7", "192.168.1.2", "203.0.113.9", false },
	/* just outside the defaults */
	{ __LINE__, "172.32.0.1", NULL, "203.0.113.9", false },
	{ __LINE__, "100.128.0.1", NULL, "203.0.113.9", false },
	{ __LINE__, "[fc00::1]", NULL, "2001:db8::7", false },
	/* a name in the Via: the Contact decides */
	{ __LINE__, "phone.example.com", "192.168.7.7", "198.51.100.7", true },
	{ __LINE__, "phone.example.com", "198.51.100.7", "198.51.100.9",
	    false },
	{ __LINE__, "phone.example.com", "phone.example.com", "198.51.100.9",
	    false },
	{ __LINE__, "phone.example.com", NULL, "198.51.100.9", false },
	/* an IPv4 source on a dual-stack socket */
	{ __LINE__, "192.168.1.20", NULL, "::ffff:198.51.100.7", true },
	{ __LINE__, "192.168.1.20", NULL, "::ffff:192.168.1.1", false },
};

static void
addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s,
		&((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s,
			     &((struct sockaddr_in6 *)(void *)ss)->sin6_addr),
	    1);
	ss->ss_family = AF_INET6;
}

/* The LAN: 10.0.0.0/8. */
static int
conf_net_parse_stub(struct conf *conf)
{
	struct sockaddr_storage net;

	addr("10.0.0.0", &net);
	conf->nlan = 1;
	return tp_net_prefix(&conf->lan[0].net, (struct sockaddr *)&net, 8);
}

static bool
far(struct core *c, const struct row *r)
{
	char text[1024], ct[256] = "";
	struct msg_err err;
	struct tp_src src;
	struct msg *m;
	bool v;

	if (r->contact != NULL) {
		bool v6 = strchr(r->contact, ':') != NULL;
		snprintf(ct, sizeof(ct), "Contact: <sip:alice@%s%s%s:5060>\r\n",
		    v6 ? "[" : "", r->contact, v6 ? "]" : "");
	}
	snprintf(text, sizeof(text),
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-1;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@example.com>;tag=1\r\n"
	    "To: <sip:alice@example.com>\r\n"
	    "Call-ID: nat-1\r\n"
	    "CSeq: 1 REGISTER\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    r->via, ct);
	m = msg_parse(text, strlen(text), NULL, &err);
	assert_non_null(m);
	memset(&src, 0, sizeof(src));
	addr(r->src, &src.addr);
	v = core_nat_far(c, m, &src);
	msg_free(m);
	return v;
}

static void
test_defaults(void **state)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	struct core *c = calloc(1, sizeof(*c));

	(void)state;
	conf->nated_defaults = true;
	core_nat_configure(c, conf);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (far(c, &rows[i]) != rows[i].want) {
			fail_msg("line %d: want %s", rows[i].line,
			    rows[i].want ? "far-end NAT" : "no NAT");
		}
	}
	free(c);
	free(conf);
}

/* With the defaults off and nothing added, nobody is behind a NAT; an
 * entry added counts like a default. */
static void
test_configured(void **state)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	struct core *c = calloc(1, sizeof(*c));
	struct row r = { __LINE__, "192.168.1.20", NULL, "198.51.100.7",
		false };
	struct row pub = { __LINE__, "192.0.2.5", NULL, "198.51.100.7",
		true };

	(void)state;
	conf->nated_defaults = false;
	core_nat_configure(c, conf);
	assert_false(far(c, &r));
	assert_false(far(c, &pub));
	{
		struct sockaddr_storage net;

		addr("192.0.2.0", &net);
		assert_int_equal(tp_net_prefix(&conf->nated[0].net,
				     (struct sockaddr *)&net, 24),
		    0);
	}
	conf->nnated = 1;
	core_nat_configure(c, conf);
	assert_true(far(c, &pub));
	assert_false(far(c, &r));
	conf->nated_defaults = true;
	core_nat_configure(c, conf);
	assert_true(far(c, &pub));
	r.want = true;
	assert_true(far(c, &r));
	/* a "!" line after the defaults takes its addresses out */
	{
		struct sockaddr_storage net;

		addr("192.168.1.0", &net);
		assert_int_equal(tp_net_prefix(&conf->nated[1].net,
				     (struct sockaddr *)&net, 24),
		    0);
		conf->nated[1].net.exclude = true;
		conf->nnated = 2;
	}
	core_nat_configure(c, conf);
	assert_false(far(c, &r));
	r.via = "192.168.2.20";
	assert_true(far(c, &r));
	free(c);
	free(conf);
}

/* The address sipd gives a peer for itself: the LAN address inside the
 * LAN, the WAN address outside it, each only for its own family. */
static void
test_advertise(void **state)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	struct core *c = calloc(1, sizeof(*c));
	struct sockaddr_storage peer, out;
	char buf[64];

	(void)state;
	assert_int_equal(conf_net_parse_stub(conf), 0);
	snprintf(conf->wan_address, sizeof(conf->wan_address), "198.51.100.1");
	snprintf(conf->lan_address, sizeof(conf->lan_address), "10.0.0.1");
	core_nat_configure(c, conf);
	addr("203.0.113.9", &peer);
	assert_true(core_nat_public(c, &peer, &out));
	assert_int_equal(core_nat_advertise(c, &peer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.100.1");
	addr("10.9.9.9", &peer);
	assert_int_equal(core_nat_advertise(c, &peer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.1");
	addr("::ffff:10.9.9.9", &peer);
	assert_int_equal(core_nat_advertise(c, &peer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.1");
	/* no IPv6 address set: the host's own, found by the kernel */
	addr("::1", &peer);
	assert_false(core_nat_public(c, &peer, &out));
	assert_int_equal(core_nat_advertise(c, &peer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::1");
	/* two faces: LAN against WAN; WAN against WAN is one */
	{
		struct sockaddr_storage a, b;

		addr("10.1.1.1", &a);
		addr("203.0.113.9", &b);
		assert_true(core_nat_two_faces(c, &a, &b));
		addr("203.0.113.10", &a);
		assert_false(core_nat_two_faces(c, &a, &b));
	}
	/* the addresses are sipd's own */
	addr("198.51.100.1", &peer);
	assert_true(core_nat_own(c, &peer));
	addr("198.51.100.2", &peer);
	assert_false(core_nat_own(c, &peer));
	/* nothing set: sipd's own address toward everyone */
	conf->wan_address[0] = conf->lan_address[0] = '\0';
	core_nat_configure(c, conf);
	addr("127.0.0.1", &peer);
	assert_false(core_nat_public(c, &peer, &out));
	assert_int_equal(core_nat_advertise(c, &peer, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "127.0.0.1");
	free(c);
	free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_advertise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
