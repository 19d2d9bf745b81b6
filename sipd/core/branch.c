/*
 * sipd's signed branch (RFC 3261 8.1.1.7, 16.6 step 8) and what it is
 * for: a response that no transaction takes is relayed statelessly by
 * the Via below sipd's (16.7, 18.2.1) only when that branch says sipd
 * sent the request with that Via below its own.  The policy function
 * decides (policy.c, CORE_SEND_RESPONSE); this file finds the facts.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "sipd/core/core_int.h"

/*
 * sipd's branch: "z9hG4bKs<shard>.<unique>" from the transaction layer,
 * ".<loop hash>", and ".<signature>" over all that and the address the
 * Via below it sends responses to.  Split b into the signed part and the
 * signature; false when b is not of that shape.
 */
bool
core_branch_split(struct sv b, struct sv *body, struct sv *sig)
{
	if (b.len < sizeof(CORE_BRANCH_PREFIX) + 10 + CORE_MAC_HEX ||
	    b.len > CORE_BRANCH_MAX ||
	    memcmp(b.p, CORE_BRANCH_PREFIX,
		sizeof(CORE_BRANCH_PREFIX) - 1) != 0 ||
	    b.p[b.len - CORE_MAC_HEX - 1] != '.') {
		return false;
	}
	*body = (struct sv){ b.p, b.len - CORE_MAC_HEX - 1 };
	*sig = (struct sv){ b.p + body->len + 1, CORE_MAC_HEX };
	return true;
}

/*
 * Where a response to m goes once sipd's Via is off, the way core_via_target()
 * reads it, as bytes to sign: the transport, family, port and address.
 * Empty when the Via names no address (nothing could be relayed there).
 */
static size_t
branch_hop(struct msg *m, uint8_t out[20])
{
	struct tp_src dst;
	const struct sockaddr_storage *ss = &dst.addr;
	uint16_t port;

	if (core_via_target(m, &dst) != 0) {
		return 0;
	}
	port = tp_addr_port((const struct sockaddr *)ss);
	memset(out, 0, 20);
	out[0] = (uint8_t)dst.proto;
	out[1] = (uint8_t)ss->ss_family;
	out[2] = (uint8_t)(port >> 8);
	out[3] = (uint8_t)port;
	if (ss->ss_family == AF_INET) {
		memcpy(out + 4,
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
	} else {
		memcpy(out + 4,
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr,
		    16);
	}
	return 20;
}

/*
 * The signature of sipd's branch body for m, whose top Via is still the
 * one below sipd's (the request's sender, or after the pop, the
 * response's next hop): a response with this branch can go back there
 * and nowhere else.
 */
int
core_branch_sign(struct core *c, struct msg *m, struct sv body,
    char out[CORE_MAC_HEX])
{
	uint8_t hop[20];
	size_t hlen = branch_hop(m, hop);
	const struct sv parts[2] = { body, { (const char *)hop, hlen } };

	return core_mac_sign(c->mac, CORE_BRANCH_LABEL, parts, 2, out);
}

/* RFC 3261 18.2.2 / RFC 3581: where a response goes by its top Via. */
int
core_via_target(struct msg *resp, struct tp_src *dst)
{
	const struct msg_via *v = msg_via_top(resp);
	struct sv t, host;
	uint16_t port;

	if (v == NULL) {
		return -EINVAL;
	}
	memset(dst, 0, sizeof(*dst));
	t = msg_sv(resp, v->transport);
	dst->proto = sv_caseeq_str(t, "TCP") ? TP_TCP
	    : sv_caseeq_str(t, "TLS")	    ? TP_TLS
					    : TP_UDP;
	host = v->received.len ? msg_sv(resp, v->received)
			       : msg_sv(resp, v->host);
	if (v->rport_value > 0) {
		port = (uint16_t)v->rport_value;
	} else if (v->port != 0) {
		port = v->port;
	} else {
		port = dst->proto == TP_TLS ? 5061 : 5060;
	}
	return route_addr(host, port, &dst->addr, &dst->addrlen) == 0
	    ? 0
	    : -EHOSTUNREACH;
}

/*
 * RFC 3261 16.7, 18.2.1: relay resp, which no server transaction takes,
 * statelessly by the Via below sipd's, when the policy says so: what it
 * judges is whether the top Via is sipd's with a branch sipd signed for
 * that next Via (anything else would make sipd send whatever a peer
 * likes wherever it likes).  src: where resp came from; stray: no client
 * transaction took it either (its SDP is rewritten as its dialog's was).
 */
void
core_relay_by_via(struct core *c, struct msg *resp, const struct tp_src *src,
    bool stray)
{
	const struct msg_via *v = msg_via_top(resp);
	char peer[TP_ADDRSTRLEN], branch[CORE_BRANCH_MAX], want[CORE_MAC_HEX];
	struct core_policy_in in;
	struct tp_src dst;
	struct sv body, sig;
	const char *why;

	memset(&in, 0, sizeof(in));
	in.kind = CORE_SEND_RESPONSE;
	in.branch = CORE_BRANCH_NONE;
	if (v != NULL &&
	    route_is_local(c, msg_sv(resp, v->host), v->port, false)) {
		in.branch = CORE_BRANCH_FOREIGN;
	}
	if (in.branch == CORE_BRANCH_FOREIGN &&
	    core_branch_split(msg_sv(resp, v->branch), &body, &sig)) {
		/* the pop below may move the bytes */
		memcpy(branch, body.p, body.len + 1 + CORE_MAC_HEX);
		body.p = branch;
		sig.p = branch + body.len + 1;
		if (msg_via_pop(resp) != 0 || msg_via_top(resp) == NULL) {
			log_notice(LOG_CLIENT, "dropped %d response from %s (no "
			    "Via to relay it by)", msg_status(resp),
			    core_peer(src, peer, sizeof(peer)));
			return;
		}
		in.branch = CORE_BRANCH_UNSIGNED;
		if (core_branch_sign(c, resp, body, want) == 0 &&
		    core_mac_equal(want, sig)) {
			in.branch = CORE_BRANCH_SIGNED;
		}
		in.dst_known = core_via_target(resp, &dst) == 0;
	}
	if (core_policy(c, &in, src, in.dst_known ? &dst : NULL, &why) !=
	    CORE_V_ALLOW) {
		log_info(LOG_CLIENT, "dropped %d response from %s (relay "
		    "denied)", msg_status(resp),
		    core_peer(src, peer, sizeof(peer)));
		return;
	}
	if (!in.dst_known) {
		log_notice(LOG_CLIENT, "dropped %d response (no Via to relay "
		    "it by)", msg_status(resp));
		return;
	}
	if (stray) {
		/* no client transaction: a 2xx retransmitted after Timer M */
		core_media_stray(c, resp);
	}
	c->stats.relayed_stateless++;
	if (core_send_msg(c, &dst, resp) == 0) {
		log_info(LOG_CLIENT, "relayed %d response to %s by Via",
		    msg_status(resp), core_peer(&dst, peer, sizeof(peer)));
	}
}

void
proxy_relay_response(struct core *c, struct msg *resp,
    const struct tp_src *src)
{
	/* 16.11 / 18.1.2: only a response to a request sipd sent is ours */
	core_relay_by_via(c, resp, src, true);
}
