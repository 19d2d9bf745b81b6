/*
 * Unit tests for sipd/reg: REGISTER processing by RFC 3261 10.3 (adding,
 * refreshing and removing bindings, "*", Expires precedence, 423, the
 * maximum, out-of-order CSeqs, the 200's listing) and RFC 3327 Path;
 * lookups ordered by q; limits; malformed requests; the SQLite store
 * (persistence across a reopen, purge, file mode 0600, all-or-nothing on
 * a store failure, writes outside the lock with one commit for changes
 * that wait together); administration; several threads at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sipd/reg/reg.h"
#include "sipd/reg/reg_int.h"

#define AOR "alice@example.com"
#define T0 ((time_t)1700000000)
#define TAG SV_LIT("regtag1")

/* ------------------------------------------------------------ the rig */

static struct msg *
mkreq(const char *callid, unsigned cseq, const char *extra)
{
	char buf[4096];
	struct msg_err err;
	struct msg *m;
	int n;

	n = snprintf(buf, sizeof(buf),
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%s-%u\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@example.com>;tag=f1\r\n"
	    "To: <sip:alice@example.com>\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %u REGISTER\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    callid, cseq, callid, cseq, extra);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	m = msg_parse(buf, (size_t)n, NULL, &err);
	assert_non_null(m);
	return m;
}

static struct reg_src
mksrc(void)
{
	struct reg_src s;
	struct sockaddr_in *in = (struct sockaddr_in *)&s.addr;

	memset(&s, 0, sizeof(s));
	in->sin_family = AF_INET;
	in->sin_port = htons(5060);
	inet_pton(AF_INET, "192.0.2.10", &in->sin_addr);
	s.addrlen = sizeof(*in);
	s.proto = 1; /* TP_TCP */
	s.conn_id = 42;
	s.path_trusted = true; /* an edge proxy the core trusts */
	return s;
}

/* REGISTER for AOR; returns the status and keeps the response in *resp. */
static int
do_reg(struct reg *r, const char *callid, unsigned cseq, const char *extra,
    time_t now, struct msg **resp)
{
	struct reg_src src = mksrc();
	struct msg *req = mkreq(callid, cseq, extra);
	struct msg *out = NULL;
	int st;

	assert_int_equal(reg_register(r, req, AOR, &src, now, TAG, &out), 0);
	assert_non_null(out);
	st = msg_status(out);
	msg_free(req);
	if (resp != NULL) {
		*resp = out;
	} else {
		msg_free(out);
	}
	return st;
}

static int
reg_status(struct reg *r, const char *callid, unsigned cseq,
    const char *extra, time_t now)
{
	return do_reg(r, callid, cseq, extra, now, NULL);
}

static int
nlive(struct reg *r, time_t now)
{
	struct reg_snap *s = NULL;
	int n = reg_lookup(r, AOR, now, &s);

	assert_true(n >= 0);
	reg_snap_free(s);
	return n;
}

/* The 200's Contact for uri: its expires parameter, or -1. */
static int
resp_expires(struct msg *resp, const char *uri)
{
	const struct msg_naddr *c;
	int n = msg_naddrs(resp, HDR_CONTACT, &c);

	for (int i = 0; i < n; i++) {
		struct sv u = msg_sv(resp, c[i].uri_s);
		if (u.len == strlen(uri) && memcmp(u.p, uri, u.len) == 0) {
			return c[i].expires;
		}
	}
	return -1;
}

static bool
hdr_is(struct msg *m, enum hdr_id id, const char *want)
{
	struct sv v = msg_hdr_value(m, id);

	return v.len == strlen(want) && memcmp(v.p, want, v.len) == 0;
}

static struct reg *
mem_reg(const struct reg_settings *set)
{
	int err = 0;
	struct reg *r = reg_new(set, NULL, NULL, T0, &err);

	assert_non_null(r);
	return r;
}

static char *
tmp_path(void)
{
	char tmpl[] = "/tmp/sipd-reg-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *p;

	assert_non_null(dir);
	p = malloc(strlen(dir) + 16);
	assert_non_null(p);
	sprintf(p, "%s/reg.db", dir);
	return p;
}

static void
rm_store(char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* --------------------------------------------------------------- tests */

static void
test_add_refresh_remove(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct reg_snap *s = NULL;
	struct msg *resp;

	(void)state;
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:alice@192.0.2.10:5060>\r\n"
			     "Expires: 3600\r\n"
			     "User-Agent: phone/1.0\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:alice@192.0.2.10:5060"),
	    3600);
	assert_true(msg_hdr_count(resp, HDR_DATE) == 1);
	assert_true(hdr_is(resp, HDR_SUPPORTED, "path"));
	assert_int_equal(msg_hdr_count(resp, HDR_PATH), 0);
	msg_free(resp);

	assert_int_equal(reg_lookup(r, AOR, T0, &s), 1);
	assert_string_equal(s->b[0].aor, AOR);
	assert_string_equal(s->b[0].contact, "sip:alice@192.0.2.10:5060");
	assert_string_equal(s->b[0].callid, "c1");
	assert_string_equal(s->b[0].user_agent, "phone/1.0");
	assert_null(s->b[0].path);
	assert_int_equal(s->b[0].cseq, 1);
	assert_int_equal(s->b[0].q, 1000);
	assert_int_equal(s->b[0].expires, T0 + 3600);
	assert_int_equal(s->b[0].registered, T0);
	assert_int_equal(s->b[0].proto, 1);
	assert_int_equal(s->b[0].conn_id, 42);
	assert_int_equal(s->b[0].addrlen, sizeof(struct sockaddr_in));
	reg_snap_free(s);

	/* refresh: same Call-ID, higher CSeq; URI equal by 19.1.4 */
	assert_int_equal(do_reg(r, "c1", 2,
			     "Contact: <sip:alice@192.0.2.10:5060;"
			     "ob>;expires=1800\r\n",
			     T0 + 100, &resp),
	    200);
	msg_free(resp);
	assert_int_equal(reg_lookup(r, AOR, T0 + 100, &s), 1);
	assert_int_equal(s->b[0].expires, T0 + 100 + 1800);
	assert_int_equal(s->b[0].registered, T0);
	assert_int_equal(s->b[0].cseq, 2);
	reg_snap_free(s);

	/* a second contact, then removal of the first with expires=0 */
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:alice@198.51.100.1>\r\n",
			     T0 + 200),
	    200);
	assert_int_equal(nlive(r, T0 + 200), 2);
	assert_int_equal(do_reg(r, "c1", 4,
			     "Contact: <sip:alice@192.0.2.10:5060>;"
			     "expires=0\r\n",
			     T0 + 300, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:alice@192.0.2.10:5060"), -1);
	assert_int_equal(resp_expires(resp, "sip:alice@198.51.100.1"), 3600 -
	    100);
	msg_free(resp);
	assert_int_equal(nlive(r, T0 + 300), 1);

	/* a query (no Contact) lists without changing */
	assert_int_equal(do_reg(r, "c9", 1, "", T0 + 400, &resp), 200);
	assert_int_equal(resp_expires(resp, "sip:alice@198.51.100.1"), 3600 -
	    200);
	msg_free(resp);
	reg_free(r);
}

static void
test_star(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct msg *resp;

	(void)state;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:c@192.0.2.3>\r\n", T0),
	    200);
	assert_int_equal(nlive(r, T0), 3);

	/* RFC 3261 10.3 step 6: "*" needs Expires: 0 and no other Contact */
	assert_int_equal(reg_status(r, "c1", 2, "Contact: *\r\n", T0), 400);
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: *\r\nExpires: 5\r\n", T0),
	    400);
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: *\r\nContact: <sip:d@192.0.2.4>\r\n"
			     "Expires: 0\r\n",
			     T0),
	    400);
	assert_int_equal(nlive(r, T0), 3);

	/* out of order for one binding: nothing is removed */
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: *\r\nExpires: 0\r\n", T0),
	    500);
	assert_int_equal(nlive(r, T0), 3);

	assert_int_equal(do_reg(r, "c1", 2, "Contact: *\r\nExpires: 0\r\n",
			     T0 + 1, &resp),
	    200);
	assert_int_equal(msg_hdr_count(resp, HDR_CONTACT), 0);
	msg_free(resp);
	assert_int_equal(nlive(r, T0), 0);
	reg_free(r);
}

static void
test_expires_precedence(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct msg *resp;

	(void)state;
	/* the parameter beats the header, the header beats the default */
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=120, "
			     "<sip:b@192.0.2.2>\r\n"
			     "Expires: 600\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:a@192.0.2.1"), 120);
	assert_int_equal(resp_expires(resp, "sip:b@192.0.2.2"), 600);
	msg_free(resp);
	assert_int_equal(do_reg(r, "c2", 1, "Contact: <sip:c@192.0.2.3>\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:c@192.0.2.3"),
	    REG_DEFAULT_EXPIRES);
	msg_free(resp);
	/* Expires: 0 with a parameter: the parameter wins */
	assert_int_equal(do_reg(r, "c3", 1,
			     "Contact: <sip:d@192.0.2.4>;expires=300\r\n"
			     "Expires: 0\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:d@192.0.2.4"), 300);
	msg_free(resp);
	reg_free(r);
}

static void
test_interval_too_brief(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct msg *resp;

	(void)state;
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>, "
			     "<sip:b@192.0.2.2>;expires=30\r\n",
			     T0, &resp),
	    423);
	assert_true(hdr_is(resp, HDR_MIN_EXPIRES, "60"));
	assert_int_equal(msg_hdr_count(resp, HDR_CONTACT), 0);
	msg_free(resp);
	assert_int_equal(nlive(r, T0), 0);
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>\r\nExpires: 1\r\n",
			     T0),
	    423);
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:a@192.0.2.1>\r\nExpires: 60\r\n",
			     T0),
	    200);
	assert_int_equal(nlive(r, T0), 1);
	reg_free(r);
}

static void
test_max_capped(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct msg *resp;

	(void)state;
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=4000000000\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:a@192.0.2.1"),
	    REG_DEFAULT_MAX_EXPIRES);
	msg_free(resp);
	assert_int_equal(do_reg(r, "c2", 1,
			     "Contact: <sip:b@192.0.2.1>\r\n"
			     "Expires: 4294967295\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(resp_expires(resp, "sip:b@192.0.2.1"),
	    REG_DEFAULT_MAX_EXPIRES);
	msg_free(resp);
	reg_free(r);
}

static void
test_out_of_order(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct reg_snap *s = NULL;

	(void)state;
	assert_int_equal(reg_status(r, "c1", 5,
			     "Contact: <sip:a@192.0.2.1>;expires=600\r\n",
			     T0),
	    200);
	/* RFC 3261 10.3 step 7: same Call-ID, CSeq not higher: fails */
	assert_int_equal(reg_status(r, "c1", 5,
			     "Contact: <sip:a@192.0.2.1>;expires=0\r\n", T0),
	    500);
	assert_int_equal(reg_status(r, "c1", 4,
			     "Contact: <sip:a@192.0.2.1>;expires=900, "
			     "<sip:z@192.0.2.9>\r\n",
			     T0),
	    500);
	/* the whole request failed: the new contact was not added */
	assert_int_equal(reg_lookup(r, AOR, T0, &s), 1);
	assert_int_equal(s->b[0].expires, T0 + 600);
	reg_snap_free(s);
	/* another Call-ID updates whatever its CSeq */
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=900\r\n",
			     T0),
	    200);
	assert_int_equal(reg_lookup(r, AOR, T0, &s), 1);
	assert_int_equal(s->b[0].expires, T0 + 900);
	assert_string_equal(s->b[0].callid, "c2");
	reg_snap_free(s);
	reg_free(r);
}

static void
test_q_order(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct reg_snap *s = NULL;
	struct msg *resp;

	(void)state;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:low@192.0.2.1>;q=0.1, "
			     "<sip:mid1@192.0.2.2>;q=0.5\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:top@192.0.2.3>\r\n", T0 + 1),
	    200);
	assert_int_equal(do_reg(r, "c3", 1,
			     "Contact: <sip:mid0@192.0.2.4>;q=0.500\r\n",
			     T0 - 5, &resp),
	    200);
	/* its 200 (the Contact lines written from the index, under the
	 * lock) lists them in the order of reg_lookup() below */
	{
		static const char *const order[] = { "sip:top@192.0.2.3",
			"sip:mid0@192.0.2.4", "sip:mid1@192.0.2.2",
			"sip:low@192.0.2.1" };
		const struct msg_naddr *c;
		int n = msg_naddrs(resp, HDR_CONTACT, &c);

		assert_int_equal(n, 4);
		for (int i = 0; i < n; i++) {
			struct sv u = msg_sv(resp, c[i].uri_s);

			assert_int_equal(u.len, strlen(order[i]));
			assert_memory_equal(u.p, order[i], u.len);
		}
	}
	msg_free(resp);
	assert_int_equal(reg_lookup(r, AOR, T0 + 2, &s), 4);
	assert_string_equal(s->b[0].contact, "sip:top@192.0.2.3");
	/* equal q: the older registration first */
	assert_string_equal(s->b[1].contact, "sip:mid0@192.0.2.4");
	assert_string_equal(s->b[2].contact, "sip:mid1@192.0.2.2");
	assert_string_equal(s->b[3].contact, "sip:low@192.0.2.1");
	assert_int_equal(s->b[3].q, 100);
	reg_snap_free(s);

	/* the 200 carries q when it is not 1 */
	assert_int_equal(do_reg(r, "c9", 1, "", T0 + 2, &resp), 200);
	{
		const struct msg_naddr *c;
		int n = msg_naddrs(resp, HDR_CONTACT, &c);
		int seen = 0;
		assert_int_equal(n, 4);
		for (int i = 0; i < n; i++) {
			struct sv u = msg_sv(resp, c[i].uri_s);
			if (sv_eq(u, SV_LIT("sip:low@192.0.2.1"))) {
				assert_int_equal(c[i].q, 100);
				seen++;
			} else if (sv_eq(u, SV_LIT("sip:top@192.0.2.3"))) {
				assert_int_equal(c[i].q, -1);
				seen++;
			}
		}
		assert_int_equal(seen, 2);
	}
	msg_free(resp);
	reg_free(r);
}

static void
test_path(void **state)
{
	struct reg_settings set;
	struct reg *r = mem_reg(NULL);
	struct reg_snap *s = NULL;
	struct msg *resp;

	(void)state;
	/* RFC 3327 5.3: stored and echoed with Supported: path */
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:a@10.0.0.1>\r\n"
			     "Path: <sip:edge1.example.net;lr>\r\n"
			     "Path: <sip:edge2.example.net;lr>\r\n"
			     "Supported: timer, path\r\n",
			     T0, &resp),
	    200);
	assert_true(hdr_is(resp, HDR_PATH,
	    "<sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>"));
	assert_true(hdr_is(resp, HDR_SUPPORTED, "path"));
	msg_free(resp);
	assert_int_equal(reg_lookup(r, AOR, T0, &s), 1);
	assert_string_equal(s->b[0].path,
	    "<sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>");
	reg_snap_free(s);

	/* RFC 3327 5.3: from a source not trusted with a Path, 403 and
	 * nothing stored (else it would choose where the AOR's calls go) */
	{
		struct reg_src src = mksrc();
		struct msg *req = mkreq("c9", 1,
		    "Contact: <sip:z@10.0.0.9>\r\n"
		    "Path: <sip:victim.example.net;lr>\r\n"
		    "Supported: path\r\n");
		src.path_trusted = false;
		assert_int_equal(reg_register(r, req, AOR, &src, T0, TAG,
				     &resp),
		    0);
		assert_int_equal(msg_status(resp), 403);
		assert_int_equal(msg_hdr_count(resp, HDR_PATH), 0);
		msg_free(resp);
		msg_free(req);
		assert_int_equal(nlive(r, T0), 1);
	}

	/* without Supported: path, refused with 420 and nothing stored */
	assert_int_equal(do_reg(r, "c2", 1,
			     "Contact: <sip:b@10.0.0.2>\r\n"
			     "Path: <sip:edge1.example.net;lr>\r\n",
			     T0, &resp),
	    420);
	assert_true(hdr_is(resp, HDR_UNSUPPORTED, "path"));
	msg_free(resp);
	assert_int_equal(nlive(r, T0), 1);

	/* not strict: the Path is ignored, neither stored nor echoed */
	reg_get_settings(r, &set);
	set.path_strict = false;
	reg_set_settings(r, &set);
	assert_int_equal(do_reg(r, "c2", 1,
			     "Contact: <sip:b@10.0.0.2>\r\n"
			     "Path: <sip:edge1.example.net;lr>\r\n",
			     T0, &resp),
	    200);
	assert_int_equal(msg_hdr_count(resp, HDR_PATH), 0);
	msg_free(resp);
	assert_int_equal(reg_lookup(r, AOR, T0, &s), 2);
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->b[i].contact, "sip:b@10.0.0.2") == 0) {
			assert_null(s->b[i].path);
		}
	}
	reg_snap_free(s);

	/* a malformed Path: 400 */
	assert_int_equal(reg_status(r, "c3", 1,
			     "Contact: <sip:c@10.0.0.3>\r\n"
			     "Path: <sip:edge1.example.net;lr\r\n"
			     "Supported: path\r\n",
			     T0),
	    400);
	reg_free(r);
}

static void
test_ok_lists_all(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct msg *resp;

	(void)state;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=1000\r\n", T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:b@192.0.2.2>;expires=2000\r\n",
			     T0 + 10),
	    200);
	assert_int_equal(do_reg(r, "c3", 1,
			     "Contact: <sip:c@192.0.2.3>;expires=3000\r\n",
			     T0 + 400, &resp),
	    200);
	assert_int_equal(msg_hdr_count(resp, HDR_CONTACT), 3);
	assert_int_equal(resp_expires(resp, "sip:a@192.0.2.1"), 600);
	assert_int_equal(resp_expires(resp, "sip:b@192.0.2.2"), 1610);
	assert_int_equal(resp_expires(resp, "sip:c@192.0.2.3"), 3000);
	/* the response carries the To tag the caller gave */
	assert_non_null(msg_to(resp));
	assert_true(sv_eq(msg_sv(resp, msg_to(resp)->tag), TAG));
	msg_free(resp);
	/* an expired binding is not listed */
	assert_int_equal(do_reg(r, "c9", 1, "", T0 + 1000, &resp), 200);
	assert_int_equal(msg_hdr_count(resp, HDR_CONTACT), 2);
	msg_free(resp);
	reg_free(r);
}

/*
 * The 200's Date (RFC 3261 20.17, RFC 1123 form in GMT) and its Contact
 * values, put together without printf: the same text as before.
 */
static void
test_ok_date(void **state)
{
	struct msg *resp = NULL;
	const struct msg_naddr *c;
	struct reg *r = mem_reg(NULL);
	char out[2048];
	struct sv v;
	int len, n;

	(void)state;
	assert_int_equal(do_reg(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;q=0.25;expires=90, "
			     "<sip:b@192.0.2.2>;expires=3600\r\n",
			     T0, &resp),
	    200);
	v = msg_hdr_value(resp, HDR_DATE);
	assert_int_equal(v.len, 29);
	assert_memory_equal(v.p, "Tue, 14 Nov 2023 22:13:20 GMT", 29);
	n = msg_naddrs(resp, HDR_CONTACT, &c);
	assert_int_equal(n, 2);
	assert_int_equal(resp_expires(resp, "sip:a@192.0.2.1"), 90);
	assert_int_equal(resp_expires(resp, "sip:b@192.0.2.2"), 3600);
	len = msg_write(resp, out, sizeof(out) - 1);
	assert_true(len > 0 && (size_t)len < sizeof(out));
	out[len] = '\0';
	assert_non_null(strstr(out,
	    "Contact: <sip:a@192.0.2.1>;expires=90;q=0.25\r\n"));
	msg_free(resp);
	reg_free(r);
}

static void
test_persistence(void **state)
{
	char *path = tmp_path();
	struct reg_settings set;
	struct reg *r;
	struct reg_snap *s = NULL;
	int err = 0;

	(void)state;
	reg_settings_init(&set);
	set.sync = REG_SYNC_NORMAL;
	r = reg_new(&set, NULL, path, T0, &err);
	assert_non_null(r);
	assert_int_equal(reg_status(r, "c1", 7,
			     "Contact: <sip:a@192.0.2.1>;q=0.7;expires=60\r\n"
			     "Path: <sip:edge.example.net;lr>\r\n"
			     "Supported: path\r\n"
			     "User-Agent: ua-one\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:b@192.0.2.2>, <sip:c@192.0.2.3>\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 2,
			     "Contact: <sip:c@192.0.2.3>;expires=0\r\n", T0),
	    200);
	reg_free(r);

	/* reopen: everything back, conn_id dropped */
	r = reg_new(&set, NULL, path, T0 + 1, &err);
	assert_non_null(r);
	assert_int_equal(reg_lookup(r, AOR, T0 + 1, &s), 2);
	assert_string_equal(s->b[0].contact, "sip:b@192.0.2.2");
	assert_string_equal(s->b[1].contact, "sip:a@192.0.2.1");
	assert_int_equal(s->b[1].q, 700);
	assert_int_equal(s->b[1].cseq, 7);
	assert_int_equal(s->b[1].expires, T0 + 60);
	assert_int_equal(s->b[1].registered, T0);
	assert_string_equal(s->b[1].callid, "c1");
	assert_string_equal(s->b[1].path, "<sip:edge.example.net;lr>");
	assert_string_equal(s->b[1].user_agent, "ua-one");
	assert_int_equal(s->b[1].proto, 1);
	assert_int_equal(s->b[1].conn_id, 0);
	assert_int_equal(s->b[1].addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(
	    ((struct sockaddr_in *)&s->b[1].addr)->sin_port, htons(5060));
	reg_snap_free(s);
	/* the out-of-order rule survives the restart */
	assert_int_equal(reg_status(r, "c1", 7,
			     "Contact: <sip:a@192.0.2.1>\r\n", T0 + 1),
	    500);

	/* purge: the expired binding leaves memory and the file */
	assert_int_equal(reg_purge(r, T0 + 30), 0);
	assert_int_equal(reg_purge(r, T0 + 61), 1);
	assert_int_equal(nlive(r, T0 + 61), 1);
	reg_free(r);
	r = reg_new(&set, NULL, path, T0 + 1, &err);
	assert_non_null(r);
	assert_int_equal(nlive(r, T0 + 1), 1);
	reg_free(r);

	/* opened after an expiry: the expired bindings are not loaded */
	r = reg_new(&set, NULL, path, T0 + 4000, &err);
	assert_non_null(r);
	assert_int_equal(nlive(r, T0 + 1), 0);
	reg_free(r);
	rm_store(path);
}

/*
 * A file written before the column nat existed (a binding of the old
 * schema): it loads, its binding not behind a NAT, and a binding from
 * behind one is stored and read back as such.  Opened again after an
 * older sipd set user_version back: still read right.
 */
static void
test_old_file(void **state)
{
	char *path = tmp_path();
	struct reg_snap *s = NULL;
	struct reg *r;
	sqlite3 *db;
	int err = 0;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "CREATE TABLE binding (aor TEXT NOT NULL,"
			     " contact TEXT NOT NULL, expires INTEGER NOT NULL,"
			     " registered INTEGER NOT NULL, q INTEGER NOT NULL,"
			     " callid TEXT NOT NULL, cseq INTEGER NOT NULL,"
			     " path TEXT, user_agent TEXT,"
			     " proto INTEGER NOT NULL, conn_id INTEGER NOT NULL,"
			     " addr BLOB, PRIMARY KEY (aor, contact))"
			     " WITHOUT ROWID;"
			     "INSERT INTO binding VALUES ('alice@example.com',"
			     " 'sip:a@192.0.2.1', 999999999999, 1, 1000, 'c0',"
			     " 1, NULL, NULL, 0, 0, NULL);"
			     "PRAGMA user_version = 1;",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	for (int round = 0; round < 2; round++) {
		r = reg_new(NULL, NULL, path, T0, &err);
		assert_non_null(r);
		assert_int_equal(reg_list(r, NULL, T0, &s), 1);
		assert_false(s->b[0].nat);
		reg_snap_free(s);
		reg_free(r);
		/* an older sipd's schema sets user_version 1 again */
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1",
				     NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	rm_store(path);
}

static void
test_file_mode(void **state)
{
	char *path = tmp_path();
	char wal[512];
	struct stat sb;
	struct reg *r;
	mode_t old = umask(022);
	int fd, err = 0;

	(void)state;
	r = reg_new(NULL, NULL, path, T0, &err);
	assert_non_null(r);
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>\r\n", T0),
	    200);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0) {
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	reg_free(r);
	rm_store(path);

	/* an existing file with a wider mode is narrowed */
	path = tmp_path();
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	r = reg_new(NULL, NULL, path, T0, &err);
	assert_non_null(r);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	reg_free(r);
	rm_store(path);
	umask(old);
}

static void
test_limits(void **state)
{
	struct reg_settings set;
	struct reg *r;
	struct msg *resp;
	struct reg_src src = mksrc();
	struct msg *req;

	(void)state;
	reg_settings_init(&set);
	set.max_per_aor = 2;
	set.max_total = 3;
	r = mem_reg(&set);
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c2", 1,
			     "Contact: <sip:c@192.0.2.3>\r\n", T0),
	    403);
	assert_int_equal(nlive(r, T0), 2);
	/* refreshes and replacements within the limit pass */
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>, "
			     "<sip:b@192.0.2.2>;expires=0, "
			     "<sip:c@192.0.2.3>\r\n",
			     T0),
	    200);
	assert_int_equal(nlive(r, T0), 2);
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:d@192.0.2.4>, <sip:e@192.0.2.5>, "
			     "<sip:f@192.0.2.6>, <sip:g@192.0.2.7>, "
			     "<sip:h@192.0.2.8>\r\n",
			     T0),
	    403);
	assert_int_equal(nlive(r, T0), 2);

	/* the total: another AOR fills it, the next one gets 503 */
	req = mkreq("d1", 1, "Contact: <sip:bob@192.0.2.5>\r\n");
	assert_int_equal(reg_register(r, req, "bob@example.com", &src, T0,
			     TAG, &resp),
	    0);
	assert_int_equal(msg_status(resp), 200);
	msg_free(resp);
	msg_free(req);
	req = mkreq("e1", 1, "Contact: <sip:carol@192.0.2.6>\r\n");
	assert_int_equal(reg_register(r, req, "carol@example.com", &src, T0,
			     TAG, &resp),
	    0);
	assert_int_equal(msg_status(resp), 503);
	assert_true(hdr_is(resp, HDR_RETRY_AFTER, "60"));
	msg_free(resp);
	msg_free(req);
	reg_free(r);
}

static void
test_malformed(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct reg_src src = mksrc();
	struct msg *resp = NULL, *req;

	(void)state;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1\r\n", T0),
	    400);
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>;expires=soon\r\n", T0),
	    400);
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:a@192.0.2.1>;q=2\r\n", T0),
	    400);
	assert_int_equal(reg_status(r, "c1", 4,
			     "Contact: <sip:a@192.0.2.1>\r\nExpires: soon\r\n",
			     T0),
	    400);
	assert_int_equal(reg_status(r, "c1", 5,
			     "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n"
			     "Contact: <:::>\r\n",
			     T0),
	    400);
	assert_int_equal(nlive(r, T0), 0);

	/* not a REGISTER, or an unusable AOR: the caller answers */
	req = mkreq("c1", 6, "Contact: <sip:a@192.0.2.1>\r\n");
	assert_int_equal(reg_register(r, req, "", &src, T0, TAG, &resp),
	    -EINVAL);
	assert_null(resp);
	assert_int_equal(reg_register(r, req, "a b@x", &src, T0, TAG, &resp),
	    -EINVAL);
	msg_free(req);
	assert_int_equal(nlive(r, T0), 0);
	reg_free(r);
}

static void
test_admin(void **state)
{
	struct reg *r = mem_reg(NULL);
	struct reg_snap *s = NULL;
	struct reg_src src = mksrc();
	struct msg *req, *resp;
	char aor[REG_AOR_MAX + 1];
	struct uri u;
	const char *t = "sip:Alice%40Home@EXAMPLE.com:5070;transport=tcp";

	(void)state;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n",
			     T0),
	    200);
	req = mkreq("d1", 1, "Contact: <sip:bob@192.0.2.5>\r\n");
	assert_int_equal(reg_register(r, req, "bob@EXAMPLE.com", &src, T0,
			     TAG, &resp),
	    0);
	msg_free(resp);
	msg_free(req);

	/* the domain compares without case */
	assert_int_equal(reg_lookup(r, "bob@example.COM", T0, &s), 1);
	assert_string_equal(s->b[0].aor, "bob@example.com");
	reg_snap_free(s);
	assert_int_equal(reg_lookup(r, "BOB@example.com", T0, &s), 0);
	assert_null(s);

	assert_int_equal(reg_list(r, NULL, T0, &s), 3);
	assert_string_equal(s->b[0].aor, AOR);
	assert_string_equal(s->b[2].aor, "bob@example.com");
	reg_snap_free(s);

	assert_int_equal(reg_remove(r, AOR, "sip:a@192.0.2.1;ob"),
	    1);
	assert_int_equal(reg_remove(r, AOR, "sip:zz@192.0.2.1"), -ENOENT);
	assert_int_equal(nlive(r, T0), 1);
	assert_int_equal(reg_remove(r, "bob@example.com", NULL), 1);
	assert_int_equal(reg_remove(r, "bob@example.com", NULL), -ENOENT);
	assert_int_equal(reg_list(r, NULL, T0, &s), 1);
	reg_snap_free(s);

	/* the canonical AOR of a URI */
	assert_int_equal(uri_parse(t, (struct span){ 0, (uint32_t)strlen(t) },
			     &u),
	    0);
	assert_int_equal(reg_aor(t, &u, aor, sizeof(aor)),
	    (int)strlen("Alice@Home@example.com"));
	assert_string_equal(aor, "Alice@Home@example.com");
	reg_free(r);
}

/* A store whose commit fails on demand, over an empty memory. */
static bool fail_commit;

static int
fk_open(const char *w, const struct reg_settings *s, struct reg_store **o)
{
	(void)w;
	(void)s;
	*o = (struct reg_store *)&fail_commit;
	return 0;
}

static void
fk_close(struct reg_store *st)
{
	(void)st;
}

static int
fk_ok(struct reg_store *st)
{
	(void)st;
	return 0;
}

static int
fk_commit(struct reg_store *st)
{
	(void)st;
	return fail_commit ? -EIO : 0;
}

static int
fk_put(struct reg_store *st, const struct reg_binding *b)
{
	(void)st;
	(void)b;
	return 0;
}

static int
fk_del(struct reg_store *st, const char *aor, const char *c)
{
	(void)st;
	(void)aor;
	(void)c;
	return 0;
}

static int
fk_del_aor(struct reg_store *st, const char *aor)
{
	(void)st;
	(void)aor;
	return 0;
}

static int
fk_load(struct reg_store *st, reg_load_fn *fn, void *arg)
{
	(void)st;
	(void)fn;
	(void)arg;
	return 0;
}

static int
fk_purge(struct reg_store *st, time_t now)
{
	(void)st;
	(void)now;
	return 0;
}

static const struct reg_store_ops fake_ops = {
	.name = "fake",
	.open = fk_open,
	.close = fk_close,
	.begin = fk_ok,
	.commit = fk_commit,
	.rollback = fk_ok,
	.put = fk_put,
	.del = fk_del,
	.del_aor = fk_del_aor,
	.load = fk_load,
	.purge = fk_purge,
};

/*
 * A binding loaded from the store keeps every field as the store gave
 * it, even a transport number this sipd does not know (a newer sipd's,
 * or a damaged file): the index's small fields neither cut it nor refuse
 * the load.  The addresses come back as they went in.
 */
static int
odd_load(struct reg_store *st, reg_load_fn *fn, void *arg)
{
	struct reg_binding b;
	struct sockaddr_in *in = (struct sockaddr_in *)&b.addr;

	(void)st;
	memset(&b, 0, sizeof(b));
	b.aor = "alice@example.com";
	b.callid = "c1";
	b.expires = T0 + 600;
	b.registered = T0;
	b.cseq = 7;
	b.q = 500;
	b.contact = "sip:alice@192.0.2.1";
	b.proto = 300;
	b.nat = true;
	in->sin_family = AF_INET;
	in->sin_port = htons(5062);
	in->sin_addr.s_addr = htonl(0xc0000201);
	b.addrlen = sizeof(*in);
	(void)fn(arg, &b);
	return 0;
}

static void
test_load_keeps_fields(void **state)
{
	struct reg_store_ops ops = fake_ops;
	struct reg_snap *s = NULL;
	const struct sockaddr_in *in;
	struct reg *r;
	int err = 0;

	(void)state;
	ops.load = odd_load;
	r = reg_new(NULL, &ops, "fake", T0, &err);
	assert_non_null(r);
	assert_int_equal(reg_lookup(r, "alice@example.com", T0, &s), 1);
	assert_string_equal(s->b[0].contact, "sip:alice@192.0.2.1");
	assert_int_equal(s->b[0].proto, 300);
	assert_int_equal(s->b[0].cseq, 7);
	assert_int_equal(s->b[0].q, 500);
	assert_true(s->b[0].nat);
	assert_int_equal(s->b[0].addrlen, sizeof(*in));
	in = (const struct sockaddr_in *)&s->b[0].addr;
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 5062);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0xc0000201);
	assert_null(s->b[0].path);
	assert_null(s->b[0].user_agent);
	reg_snap_free(s);
	reg_free(r);
}

/*
 * A refresh (same contact, Call-ID, User-Agent, source; a later CSeq)
 * reaches the store as a refresh of the expiry, the registration time
 * and the CSeq, not as the binding written anew; anything else changed
 * is a put.  With the SQLite store the row has the refreshed values
 * after a restart, and a row the file lost is written whole again.
 */
static int refresh_puts, refresh_refreshes;

static int
count_put(struct reg_store *st, const struct reg_binding *b)
{
	(void)st;
	(void)b;
	refresh_puts++;
	return 0;
}

static int
count_refresh(struct reg_store *st, const struct reg_binding *b)
{
	(void)st;
	assert_string_equal(b->contact, "sip:a@192.0.2.1");
	assert_string_equal(b->callid, "c1");
	refresh_refreshes++;
	return 0;
}

static void
test_refresh_in_place(void **state)
{
	struct reg_store_ops ops = fake_ops;
	struct reg_settings set;
	struct reg_snap *s = NULL;
	char *path = tmp_path();
	sqlite3_stmt *st;
	sqlite3 *db;
	struct reg *r;
	int err = 0;

	(void)state;
	ops.put = count_put;
	ops.refresh = count_refresh;
	r = reg_new(NULL, &ops, "fake", T0, &err);
	assert_non_null(r);
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=600\r\n"
			     "User-Agent: ua-one\r\n", T0),
	    200);
	assert_int_equal(refresh_puts, 1);
	assert_int_equal(refresh_refreshes, 0);
	/* the old code wrote a refresh as a put: 2 puts, 0 refreshes */
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>;expires=900\r\n"
			     "User-Agent: ua-one\r\n", T0 + 100),
	    200);
	assert_int_equal(refresh_puts, 1);
	assert_int_equal(refresh_refreshes, 1);
	/* a new User-Agent, a new Call-ID, a new q: written whole */
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:a@192.0.2.1>;expires=900\r\n"
			     "User-Agent: ua-two\r\n", T0 + 200),
	    200);
	assert_int_equal(reg_status(r, "c9", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=900\r\n"
			     "User-Agent: ua-two\r\n", T0 + 300),
	    200);
	assert_int_equal(reg_status(r, "c9", 2,
			     "Contact: <sip:a@192.0.2.1>;q=0.5\r\n"
			     "User-Agent: ua-two\r\n", T0 + 400),
	    200);
	assert_int_equal(refresh_puts, 4);
	assert_int_equal(refresh_refreshes, 1);
	reg_free(r);

	/* SQLite: the refreshed row, read back after a restart */
	reg_settings_init(&set);
	set.sync = REG_SYNC_NORMAL;
	r = reg_new(&set, NULL, path, T0, &err);
	assert_non_null(r);
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=600\r\n",
			     T0),
	    200);
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>;expires=900\r\n",
			     T0 + 100),
	    200);
	/* the row holds the refresh */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT expires, cseq, "
			     "registered FROM binding", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), T0 + 100 + 900);
	assert_int_equal(sqlite3_column_int64(st, 1), 2);
	assert_int_equal(sqlite3_column_int64(st, 2), T0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* a new file's pages are 2 KiB (what a commit writes and sums) */
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st,
			     NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2048);
	sqlite3_finalize(st);
	/* the row deleted behind sipd's back: the refresh writes it whole */
	assert_int_equal(sqlite3_exec(db, "DELETE FROM binding", NULL, NULL,
			     NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:a@192.0.2.1>;expires=1200\r\n",
			     T0 + 200),
	    200);
	reg_free(r);
	r = reg_new(&set, NULL, path, T0 + 300, &err);
	assert_non_null(r);
	assert_int_equal(reg_lookup(r, AOR, T0 + 300, &s), 1);
	assert_int_equal(s->b[0].expires, T0 + 200 + 1200);
	assert_int_equal(s->b[0].registered, T0);
	assert_int_equal(s->b[0].cseq, 3);
	assert_string_equal(s->b[0].callid, "c1");
	assert_int_equal(s->b[0].proto, 1);
	reg_snap_free(s);
	/* the out-of-order rule holds against the refreshed CSeq */
	assert_int_equal(reg_status(r, "c1", 3,
			     "Contact: <sip:a@192.0.2.1>\r\n", T0 + 300),
	    500);
	reg_free(r);
	rm_store(path);
}

static void
test_store_failure(void **state)
{
	struct reg *r;
	struct reg_snap *s = NULL;
	int err = 0;

	(void)state;
	r = reg_new(NULL, &fake_ops, "fake", T0, &err);
	assert_non_null(r);
	fail_commit = false;
	assert_int_equal(reg_status(r, "c1", 1,
			     "Contact: <sip:a@192.0.2.1>;expires=600\r\n", T0),
	    200);
	/* RFC 3261 10.3 step 7: the commit fails, nothing changes, 500 */
	fail_commit = true;
	assert_int_equal(reg_status(r, "c1", 2,
			     "Contact: <sip:a@192.0.2.1>;expires=0, "
			     "<sip:b@192.0.2.2>\r\n",
			     T0),
	    500);
	assert_int_equal(reg_lookup(r, AOR, T0, &s), 1);
	assert_string_equal(s->b[0].contact, "sip:a@192.0.2.1");
	assert_int_equal(s->b[0].cseq, 1);
	reg_snap_free(s);
	assert_true(reg_remove(r, AOR, NULL) < 0);
	assert_int_equal(nlive(r, T0), 1);
	fail_commit = false;
	assert_int_equal(reg_remove(r, AOR, NULL), 1);
	reg_free(r);
}

/*
 * A store whose commit can be held: the store is written outside the
 * registrar's lock (a lookup, and other REGISTERs, go on while a commit
 * waits for the disk), and changes that wait together share one commit.
 */
static pthread_mutex_t slow_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cv = PTHREAD_COND_INITIALIZER;
static bool slow_hold, slow_in_commit;
static int slow_commits, slow_puts;

static int
slow_commit(struct reg_store *st)
{
	(void)st;
	pthread_mutex_lock(&slow_mu);
	slow_in_commit = true;
	while (slow_hold) {
		pthread_cond_wait(&slow_cv, &slow_mu);
	}
	slow_commits++;
	pthread_mutex_unlock(&slow_mu);
	return 0;
}

static int
slow_put(struct reg_store *st, const struct reg_binding *b)
{
	(void)st;
	(void)b;
	pthread_mutex_lock(&slow_mu);
	slow_puts++;
	pthread_mutex_unlock(&slow_mu);
	return 0;
}

static const struct reg_store_ops slow_ops = {
	.name = "slow",
	.open = fk_open,
	.close = fk_close,
	.begin = fk_ok,
	.commit = slow_commit,
	.rollback = fk_ok,
	.put = slow_put,
	.del = fk_del,
	.del_aor = fk_del_aor,
	.load = fk_load,
	.purge = fk_purge,
};

struct slow_arg {
	struct reg *r;
	int id;
	int status;
	bool done;
};

static void *
slow_register(void *p)
{
	struct slow_arg *a = p;
	struct reg_src src = mksrc();
	struct msg *req, *resp = NULL;
	char aor[64], extra[128], callid[32];

	snprintf(aor, sizeof(aor), "s%d@example.com", a->id);
	snprintf(callid, sizeof(callid), "slow-%d", a->id);
	snprintf(extra, sizeof(extra), "Contact: <sip:s@192.0.2.%d>\r\n",
	    a->id);
	req = mkreq(callid, 1, extra);
	if (reg_register(a->r, req, aor, &src, T0, TAG, &resp) == 0 &&
	    resp != NULL) {
		a->status = msg_status(resp);
	}
	msg_free(resp);
	msg_free(req);
	pthread_mutex_lock(&slow_mu);
	a->done = true;
	pthread_mutex_unlock(&slow_mu);
	return NULL;
}

static void *
slow_lookup(void *p)
{
	struct slow_arg *a = p;
	struct reg_snap *s = NULL;

	a->status = reg_lookup(a->r, "s0@example.com", T0, &s);
	reg_snap_free(s);
	pthread_mutex_lock(&slow_mu);
	a->done = true;
	pthread_mutex_unlock(&slow_mu);
	return NULL;
}

/* Until 9 REGISTERs were taken (at most 1 s): done when they were. */
static void *
slow_count(void *p)
{
	struct slow_arg *a = p;
	struct reg_stats st = { 0 };

	for (int i = 0; i < 200; i++) {
		reg_get_stats(a->r, &st);
		if (st.registers == 9) {
			pthread_mutex_lock(&slow_mu);
			a->done = true;
			pthread_mutex_unlock(&slow_mu);
			break;
		}
		usleep(5000);
	}
	return NULL;
}

/* Poll *flag under slow_mu for up to ms milliseconds. */
static bool
slow_wait(const bool *flag, int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		bool v;

		pthread_mutex_lock(&slow_mu);
		v = *flag;
		pthread_mutex_unlock(&slow_mu);
		if (v) {
			return true;
		}
		usleep(5000);
	}
	return false;
}

static void
test_store_off_lock(void **state)
{
	struct slow_arg first = { 0 }, look = { 0 }, count = { 0 }, more[8];
	pthread_t t0, tl, tc, tm[8];
	struct reg *r;
	bool looked, queued;
	int err = 0;

	(void)state;
	fail_commit = false;
	r = reg_new(NULL, &slow_ops, "slow", T0, &err);
	assert_non_null(r);
	slow_hold = true;
	slow_in_commit = false;
	slow_commits = slow_puts = 0;
	first.r = r;
	first.id = 0;
	assert_int_equal(pthread_create(&t0, NULL, slow_register, &first), 0);
	assert_true(slow_wait(&slow_in_commit, 5000));

	/* the commit waits for the disk: a lookup does not wait for it */
	look.r = r;
	assert_int_equal(pthread_create(&tl, NULL, slow_lookup, &look), 0);
	looked = slow_wait(&look.done, 1000);
	/* nor do other REGISTERs: each is decided and queued */
	for (int i = 0; i < 8; i++) {
		more[i] = (struct slow_arg){ .r = r, .id = i + 1 };
		assert_int_equal(pthread_create(&tm[i], NULL, slow_register,
				     &more[i]),
		    0);
	}
	count.r = r;
	assert_int_equal(pthread_create(&tc, NULL, slow_count, &count), 0);
	queued = slow_wait(&count.done, 1500);
	/* and none is answered before its commit */
	pthread_mutex_lock(&slow_mu);
	assert_false(first.done);
	for (int i = 0; i < 8; i++) {
		assert_false(more[i].done);
	}
	slow_hold = false;
	pthread_cond_broadcast(&slow_cv);
	pthread_mutex_unlock(&slow_mu);
	pthread_join(t0, NULL);
	pthread_join(tl, NULL);
	pthread_join(tc, NULL);
	for (int i = 0; i < 8; i++) {
		pthread_join(tm[i], NULL);
		assert_int_equal(more[i].status, 200);
	}
	assert_true(looked);
	assert_true(queued);
	assert_int_equal(first.status, 200);
	/* the first REGISTER's commit, then one for the eight */
	assert_int_equal(slow_puts, 9);
	assert_int_equal(slow_commits, 2);
	{
		struct reg_snap *sn = NULL;

		assert_int_equal(reg_lookup(r, "s8@example.com", T0, &sn), 1);
		reg_snap_free(sn);
	}
	reg_free(r);
}

/* Several workers at once on one registrar. */
struct worker_arg {
	struct reg *r;
	int id;
};

static void *
worker(void *p)
{
	struct worker_arg *w = p;
	struct reg_src src = mksrc();
	char aor[64], extra[128], callid[32];

	for (int i = 0; i < 200; i++) {
		struct msg *req, *resp = NULL;
		struct reg_snap *s = NULL;
		snprintf(aor, sizeof(aor), "u%d@example.com", i % 20);
		snprintf(callid, sizeof(callid), "w%d-%d", w->id, i);
		snprintf(extra, sizeof(extra),
		    "Contact: <sip:u@192.0.2.%d:%d>\r\n", w->id, 5000 + i / 20 % 5);
		req = mkreq(callid, 1, extra);
		if (reg_register(w->r, req, aor, &src, T0, TAG, &resp) != 0 ||
		    resp == NULL) {
			return (void *)1;
		}
		msg_free(resp);
		msg_free(req);
		if (reg_lookup(w->r, aor, T0, &s) < 0) {
			return (void *)1;
		}
		reg_snap_free(s);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct reg_settings set;
	struct reg *r;
	pthread_t t[4];
	struct worker_arg a[4];
	struct reg_stats st;

	(void)state;
	reg_settings_init(&set);
	set.max_per_aor = 100;
	r = mem_reg(&set);
	for (int i = 0; i < 4; i++) {
		a[i].r = r;
		a[i].id = i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	reg_get_stats(r, &st);
	/* 20 AORs x 4 workers x 5 ports */
	assert_int_equal(st.bindings, 400);
	assert_int_equal(st.aors, 20);
	assert_int_equal(st.registers, 800);
	assert_int_equal(st.refused, 0);
	reg_free(r);
}

/* What reg_http_date() must write: gmtime_r() and strftime() in the C
 * locale (the test runs in it), or "" outside years 0 to 9999. */
static void
want_date(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999) {
		out[0] = '\0';
		return;
	}
	strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (tm.tm_year + 1900 < 1000) {
		/* strftime's %Y has no leading zeros */
		snprintf(out + 12, cap - 12, "%04d %02d:%02d:%02d GMT",
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
}

/*
 * The 200's Date, computed without gmtime_r(), against it: every day
 * (and a time of day moving through each) from before 1970 to past 2100,
 * the ends of leap years and centuries, the years 0 and 9999 and beyond.
 */
static void
test_http_date(void **state)
{
	static const int64_t edges[] = { 0, -1, 1, 86399, 86400, -86400,
		-86401, 951782400, 951868799, 4107542400, 4107628799,
		-62167219200, -62167219201, 253402300799, 253402300800,
		1700000000, -2208988800, 32503680000 };
	char got[64], want[64];

	(void)state;
	for (int64_t t = -2208988800; t < 4200000000; t += 86400 + 3607) {
		reg_http_date((time_t)t, got, sizeof(got));
		want_date((time_t)t, want, sizeof(want));
		assert_string_equal(got, want);
	}
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		reg_http_date((time_t)edges[i], got, sizeof(got));
		want_date((time_t)edges[i], want, sizeof(want));
		assert_string_equal(got, want);
	}
	reg_http_date(1700000000, got, 29);
	assert_string_equal(got, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_refresh_remove),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_expires_precedence),
		cmocka_unit_test(test_interval_too_brief),
		cmocka_unit_test(test_max_capped),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_q_order),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_ok_lists_all),
		cmocka_unit_test(test_ok_date),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_old_file),
		cmocka_unit_test(test_file_mode),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_load_keeps_fields),
		cmocka_unit_test(test_store_failure),
		cmocka_unit_test(test_refresh_in_place),
		cmocka_unit_test(test_store_off_lock),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_http_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
