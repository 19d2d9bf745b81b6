/*
 * Unit tests for the SDP parser and rewriter (sipd/media/sdp.c).
 *
 * What each bad input gets: a body that does not start with v=0, a line
 * that is not type=value, a c= line that is not "IN IP4|IP6 address", an
 * m= line without port, protocol or format, a media line with no c= at
 * either level, two c= lines in one section: -SIPD_EPARSE with a reason
 * and the offending line's offset.  A body over SDP_MAX_SIZE or with more
 * than SDP_MAX_MEDIA media lines (the 100-line case): -SIPD_ETOOBIG.  A
 * rewrite into a buffer too small: -SIPD_ETOOBIG, never a write past it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "sipd/media/media.h"

static const char offer[] =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "t=0 0\r\n"
    "a=ice-ufrag:F7gI\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=rtcp:49171 IN IP4 10.0.0.5\r\n"
    "a=candidate:1 1 UDP 2130706431 10.0.0.5 49170 typ host\r\n"
    "a=sendrecv\r\n"
    "m=video 51372 RTP/AVPF 99\r\n"
    "i=camera\r\n"
    "a=rtcp-mux\r\n"
    "a=recvonly\r\n"
    "m=message 7394 TCP/MSRP *\r\n"
    "c=IN IP6 2001:db8::5\r\n";

static struct sdp s;

static int
parse(const char *text, const char **why, uint32_t *off)
{
	return sdp_parse(&s, text, strlen(text), why, off);
}

static void
parse_offer(void **state)
{
	const char *why = NULL;
	struct sockaddr_storage ss;

	(void)state;
	assert_int_equal(parse(offer, &why, NULL), 0);
	assert_int_equal(s.nmedia, 3);
	assert_int_equal(s.c.family, AF_INET);
	assert_int_equal(s.m[0].rtp_port, 49170);
	assert_int_equal(s.m[0].rtcp_port, 49171);
	assert_true(s.m[0].udp);
	assert_int_equal(s.m[0].dir, SDP_DIR_SENDRECV);
	assert_int_equal(s.m[0].ice, 1);
	assert_int_equal(s.m[1].dir, SDP_DIR_RECVONLY);
	assert_true(s.m[1].rtcp_mux);
	assert_false(s.m[2].udp);
	assert_int_equal(s.m[2].c.family, AF_INET6);
	assert_int_equal(sdp_media_conn(&s, 0), &s.c);
	assert_int_equal(sdp_media_peer(&s, 0, &ss), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 49170);
	assert_int_equal(sdp_media_peer(&s, 2, &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(sdp_media_peer(&s, 3, &ss), -ENOENT);
}

static void
rewrite_offer(void **state)
{
	struct sockaddr_in relay = { .sin_family = AF_INET };
	struct sdp_rewrite rw = { (struct sockaddr *)&relay, { 20000, 20002 },
	    true };
	char out[2048];
	size_t len = 0;
	struct sdp again;

	(void)state;
	inet_pton(AF_INET, "203.0.113.9", &relay.sin_addr);
	assert_int_equal(parse(offer, NULL, NULL), 0);
	assert_int_equal(sdp_rewrite(&s, &rw, out, sizeof(out), &len), 0);
	out[len] = '\0';
	assert_non_null(strstr(out, "\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n"));
	assert_non_null(strstr(out, "m=audio 20000 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(out, "a=rtcp:20001 IN IP4 203.0.113.9\r\n"));
	assert_non_null(strstr(out, "m=video 20002 RTP/AVPF 99\r\n"));
	/* the origin is kept; ICE of relayed lines is gone */
	assert_non_null(strstr(out, "o=alice 2890844526 2890844526 IN IP4 "
	    "10.0.0.5\r\n"));
	assert_null(strstr(out, "candidate"));
	assert_null(strstr(out, "ice-ufrag"));
	/* the TCP line is left alone, with its own c= */
	assert_non_null(strstr(out, "m=message 7394 TCP/MSRP *\r\n"
	    "c=IN IP6 2001:db8::5\r\n"));
	assert_non_null(strstr(out, "a=rtpmap:101 telephone-event/8000\r\n"));
	/* what it writes parses, with the relay's address and ports */
	assert_int_equal(sdp_parse(&again, out, len, NULL, NULL), 0);
	assert_int_equal(again.m[0].rtp_port, 20000);
	assert_int_equal(again.m[0].rtcp_port, 20001);
	assert_int_equal(again.c.ip.v4.s_addr, relay.sin_addr.s_addr);
	/* one byte too few: refused, nothing past the end */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(sdp_rewrite(&s, &rw, out, len - 1, &len),
	    -SIPD_ETOOBIG);
}

static void
rewrite_keeps_unrelayed(void **state)
{
	static const char two[] =
	    "v=0\n"
	    "o=- 1 1 IN IP4 10.0.0.5\n"
	    "s=-\n"
	    "c=IN IP4 10.0.0.5\n"
	    "t=0 0\n"
	    "m=audio 4000 RTP/AVP 0\n"
	    "m=image 4002 udptl t38\n"
	    "i=fax\n"
	    "a=T38FaxVersion:0";
	struct sockaddr_in6 relay = { .sin6_family = AF_INET6 };
	struct sdp_rewrite rw = { (struct sockaddr *)&relay, { 30000, 0 },
	    false };
	char out[1024];
	size_t len = 0;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", &relay.sin6_addr);
	assert_int_equal(parse(two, NULL, NULL), 0);
	assert_int_equal(sdp_rewrite(&s, &rw, out, sizeof(out), &len), 0);
	out[len] = '\0';
	/* LF line ends stay LF; the fax line keeps the old address, on a
	 * c= line of its own after its i= line */
	assert_string_equal(out,
	    "v=0\n"
	    "o=- 1 1 IN IP4 10.0.0.5\n"
	    "s=-\n"
	    "c=IN IP6 2001:db8::1\n"
	    "t=0 0\n"
	    "m=audio 30000 RTP/AVP 0\n"
	    "m=image 4002 udptl t38\n"
	    "i=fax\n"
	    "c=IN IP4 10.0.0.5\n"
	    "a=T38FaxVersion:0");
	/* nothing relayed: the body as it was */
	rw.port[0] = 0;
	assert_int_equal(sdp_rewrite(&s, &rw, out, sizeof(out), &len), 0);
	assert_int_equal(len, strlen(two));
	assert_memory_equal(out, two, len);
}

static void
rewrite_last_line_alone(void **state)
{
	static const char two[] =
	    "v=0\r\n"
	    "c=IN IP4 10.0.0.5\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n"
	    "m=audio 4002 RTP/AVP 0";
	struct sockaddr_in relay = { .sin_family = AF_INET };
	struct sdp_rewrite rw = { (struct sockaddr *)&relay, { 30000, 0 },
	    false };
	char out[1024];
	size_t len = 0;
	struct sdp again;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &relay.sin_addr);
	assert_int_equal(parse(two, NULL, NULL), 0);
	assert_int_equal(sdp_rewrite(&s, &rw, out, sizeof(out), &len), 0);
	out[len] = '\0';
	assert_string_equal(out,
	    "v=0\r\n"
	    "c=IN IP4 192.0.2.1\r\n"
	    "m=audio 30000 RTP/AVP 0\r\n"
	    "m=audio 4002 RTP/AVP 0\r\n"
	    "c=IN IP4 10.0.0.5\r\n");
	assert_int_equal(sdp_parse(&again, out, len, NULL, NULL), 0);
	assert_int_equal(again.m[1].c.ip.v4.s_addr, htonl(0x0a000005));
}

struct bad {
	const char *text;
	int rc;
	const char *reason;
	uint32_t off;
};

static void
bad_bodies(void **state)
{
	static const struct bad cases[] = {
		{ "", -SIPD_EPARSE, "empty SDP body", 0 },
		{ "v=1\r\n", -SIPD_EPARSE, "SDP does not start with v=0", 0 },
		{ "o=- 1 1 IN IP4 1.2.3.4\r\n", -SIPD_EPARSE,
		    "SDP does not start with v=0", 0 },
		{ "v=0\r\nhello\r\n", -SIPD_EPARSE,
		    "SDP line is not type=value", 5 },
		{ "v=0\r\nc=IN IP4\r\nm=audio 1 RTP/AVP 0\r\n", -SIPD_EPARSE,
		    "connection data needs IN, IP4 or IP6 and an address", 5 },
		{ "v=0\r\nc=IN IP4 bogus.example\r\nm=audio 1 RTP/AVP 0\r\n",
		    -SIPD_EPARSE, "connection address is not an IP address", 5 },
		{ "v=0\r\nc=IN IP5 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		    -SIPD_EPARSE,
		    "connection data's address type is not IP4 or IP6", 5 },
		{ "v=0\r\nc=ATM IP4 1.2.3.4\r\n", -SIPD_EPARSE,
		    "connection data's network type is not IN", 5 },
		{ "v=0\r\nc=IN IP4 1.2.3.4 x\r\n", -SIPD_EPARSE,
		    "connection data has words after the address", 5 },
		{ "v=0\r\nc=IN IP6 1.2.3.4\r\n", -SIPD_EPARSE,
		    "connection address is not an IP address", 5 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n",
		    -SIPD_EPARSE, "two c= lines in one section", 23 },
		{ "v=0\r\nm=audio 1 RTP/AVP 0\r\n", -SIPD_EPARSE,
		    "media line with no c= line", 5 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP\r\n",
		    -SIPD_EPARSE,
		    "media line needs media, port, protocol and a format", 23 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
		    -SIPD_EPARSE, "media line's port is not a port", 23 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5/0 RTP/AVP 0\r\n",
		    -SIPD_EPARSE, "media line's port is not a port", 23 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n",
		    -SIPD_EPARSE, "media line's port is not a port", 23 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n"
		    "a=rtcp:x\r\n", -SIPD_EPARSE,
		    "a=rtcp's port is not a port", 44 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n"
		    "a=rtcp:7 IN IP4 nope\r\n", -SIPD_EPARSE,
		    "connection address is not an IP address", 44 },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\n", -SIPD_EPARSE,
		    "SDP with no media line", 23 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		uint32_t off = 9999;
		int rc = parse(cases[i].text, &why, &off);

		if (rc != cases[i].rc || why == NULL ||
		    strcmp(why, cases[i].reason) != 0 || off != cases[i].off) {
			fail_msg("case %zu: rc %d reason '%s' off %u", i, rc,
			    why != NULL ? why : "(none)", off);
		}
	}
}

static void
hundred_media_lines(void **state)
{
	char *body = malloc(8192);
	size_t n;
	const char *why = NULL;

	(void)state;
	n = (size_t)snprintf(body, 8192, "v=0\r\nc=IN IP4 10.0.0.1\r\n");
	for (int i = 0; i < 100; i++) {
		n += (size_t)snprintf(body + n, 8192 - n,
		    "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * i);
	}
	assert_int_equal(sdp_parse(&s, body, n, &why, NULL), -SIPD_ETOOBIG);
	assert_string_equal(why, "too many media lines");
	free(body);
}

static void
huge_body(void **state)
{
	size_t n = SDP_MAX_SIZE + 1;
	char *body = malloc(n);
	const char *why = NULL;

	(void)state;
	memset(body, 'a', n);
	memcpy(body, "v=0\r\n", 5);
	assert_int_equal(sdp_parse(&s, body, n, &why, NULL), -SIPD_ETOOBIG);
	assert_string_equal(why, "SDP body too big");
	free(body);
}

static void
hold_and_multicast(void **state)
{
	struct sockaddr_storage ss;

	(void)state;
	assert_int_equal(parse("v=0\r\nc=IN IP4 0.0.0.0\r\n"
	    "m=audio 5000 RTP/AVP 0\r\n", NULL, NULL), 0);
	assert_int_equal(sdp_media_peer(&s, 0, &ss), -ENOENT);
	assert_int_equal(parse("v=0\r\nc=IN IP4 224.2.1.1/127\r\n"
	    "m=audio 5000 RTP/AVP 0\r\n", NULL, NULL), 0);
	assert_true(s.c.multicast);
	assert_int_equal(sdp_media_peer(&s, 0, &ss), -ENOENT);
	assert_int_equal(parse("v=0\r\nc=IN IP4 10.0.0.1\r\n"
	    "m=audio 0 RTP/AVP 0\r\n", NULL, NULL), 0);
	assert_int_equal(sdp_media_peer(&s, 0, &ss), -ENOENT);
	assert_int_equal(parse("v=0\r\nc=IN IP4 10.0.0.1\r\n"
	    "m=audio 5000/2 RTP/AVP 0\r\n", NULL, NULL), 0);
	assert_int_equal(s.m[0].nports, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_offer),
		cmocka_unit_test(rewrite_offer),
		cmocka_unit_test(rewrite_keeps_unrelayed),
		cmocka_unit_test(rewrite_last_line_alone),
		cmocka_unit_test(bad_bodies),
		cmocka_unit_test(hundred_media_lines),
		cmocka_unit_test(huge_body),
		cmocka_unit_test(hold_and_multicast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
