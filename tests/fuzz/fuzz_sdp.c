/*
 * fuzz_sdp: sdp_parse() on the whole input; for a body that parses,
 * sdp_rewrite() with an IPv4 and an IPv6 relay address, every other
 * media line relayed.  Every span lies in the body; what the rewriter
 * writes parses again, with as many media lines, the relayed ones on the
 * relay's ports and address; one byte less room is refused, never
 * overrun.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "proto/err.h"
#include "sipd/media/media.h"

static void
check_in(struct sdp_span s, size_t len)
{
	FUZZ_CHECK(s.off <= len && s.len <= len - s.off);
}

static void
rewrite(const struct sdp *s, const struct sockaddr *addr, unsigned odd)
{
	struct sdp_rewrite rw = { addr, { 0 }, odd != 0 };
	size_t cap = (size_t)s->len * (SDP_MAX_MEDIA + 1) + 4096, len = 0;
	char *out = malloc(cap);
	struct sdp *again = malloc(sizeof(*again));
	int rc;

	for (unsigned i = 0; i < s->nmedia; i++) {
		rw.port[i] = i % 2 == odd ? (uint16_t)(40000 + 2 * i) : 0;
	}
	rc = sdp_rewrite(s, &rw, out, cap, &len);
	FUZZ_CHECK(rc == 0 && len <= cap);
	rc = sdp_parse(again, out, len, NULL, NULL);
	/* what sipd writes is at most as big as the limit allows to read */
	FUZZ_CHECK(rc == 0 || (rc == -SIPD_ETOOBIG && len > SDP_MAX_SIZE));
	if (rc == 0) {
		FUZZ_CHECK(again->nmedia == s->nmedia);
		for (unsigned i = 0; i < s->nmedia; i++) {
			const struct sdp_conn *c = sdp_media_conn(again, i);

			if (rw.port[i] == 0) {
				FUZZ_CHECK(again->m[i].rtp_port ==
				    s->m[i].rtp_port);
				continue;
			}
			FUZZ_CHECK(again->m[i].rtp_port == rw.port[i]);
			FUZZ_CHECK(c->family == addr->sa_family);
			/* RFC 5761 5.1.3: multiplexed on the RTP port, a=rtcp
			 * names that port; else the one above it */
			if (s->m[i].rtcp.len != 0) {
				bool mux = s->m[i].rtcp_mux &&
				    s->m[i].rtcp_port == s->m[i].rtp_port;
				FUZZ_CHECK(again->m[i].rtcp_port ==
				    rw.port[i] + (mux ? 0 : 1));
			}
		}
	}
	if (len > 0) {
		rc = sdp_rewrite(s, &rw, out, len - 1, &len);
		FUZZ_CHECK(rc == -SIPD_ETOOBIG);
	}
	free(again);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp *s = malloc(sizeof(*s));
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	const char *why = NULL;
	uint32_t off = 0;
	/* a copy of exactly size bytes: ASan sees a read past the end */
	char *body = malloc(size ? size : 1);

	memcpy(body, data, size);
	if (sdp_parse(s, body, size, &why, &off) != 0) {
		FUZZ_CHECK(why != NULL && off <= size);
		goto out;
	}
	FUZZ_CHECK(s->nmedia >= 1 && s->nmedia <= SDP_MAX_MEDIA);
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->m[i];

		check_in(m->line, size);
		check_in(m->type, size);
		check_in(m->port, size);
		check_in(m->proto, size);
		check_in(m->c.line, size);
		check_in(m->c.addr, size);
		check_in(m->rtcp, size);
		FUZZ_CHECK(m->insert <= size);
		FUZZ_CHECK(sdp_media_conn(s, i)->family != 0);
		fuzz_touch(body + m->proto.off, m->proto.len);
	}
	inet_pton(AF_INET, "203.0.113.9", &v4.sin_addr);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	    &v6.sin6_addr);
	rewrite(s, (struct sockaddr *)&v4, 0);
	rewrite(s, (struct sockaddr *)&v6, 1);
out:
	free(body);
	free(s);
	return 0;
}
