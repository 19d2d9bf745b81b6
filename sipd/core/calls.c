/*
 * The proxy's side of the call table (sipd/cdr): what an initial INVITE,
 * its final response and the requests inside its dialog tell the table.
 * While the table tracks calls ("set cdr on", "set force-rr on") every
 * INVITE dialog sipd forwards is Record-Routed (RFC 3261 16.6 step 4),
 * so that its BYE comes through sipd whichever side sends it; a dialog
 * Record-Routed only because the transport changes (RFC 5658) is listed
 * as well, never recorded.  Owns nothing: the table is the workers',
 * shared (cdr.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include "sipd/core/core_int.h"

static const char *const proto_names[] = {
	[TP_UDP] = "udp",
	[TP_TCP] = "tcp",
	[TP_TLS] = "tls",
};

void
core_set_cdr(struct core *c, struct cdr *d)
{
	c->cdr = d;
}

static struct cdr_sv
csv_of(struct sv v)
{
	return (struct cdr_sv){ v.p, v.len };
}

static struct cdr_sv
span_of(struct msg *m, struct span s)
{
	return csv_of(msg_sv(m, s));
}

/* "proto:address" of src into out (TP_ADDRSTRLEN + 8 bytes), as
 * tp_addr_str() writes the address, built by hand: once per INVITE while
 * the table tracks calls. */
static void
source_of(const struct tp_src *src, char *out)
{
	const struct sockaddr *sa = (const struct sockaddr *)&src->addr;
	const char *proto =
	    (unsigned)src->proto < 3 ? proto_names[src->proto] : "?";
	char host[INET6_ADDRSTRLEN], digits[8];
	size_t n = strlen(proto), hl, dl = 0;
	unsigned port;

	memcpy(out, proto, n);
	out[n++] = ':';
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		memcpy(out + n, "?", 2);
		return;
	}
	tp_addr_host(sa, host, sizeof(host));
	hl = strlen(host);
	if (sa->sa_family == AF_INET6) {
		out[n++] = '[';
	}
	memcpy(out + n, host, hl);
	n += hl;
	if (sa->sa_family == AF_INET6) {
		out[n++] = ']';
	}
	out[n++] = ':';
	port = tp_addr_port(sa);
	do {
		digits[dl++] = (char)('0' + port % 10);
		port /= 10;
	} while (port != 0 && dl < sizeof(digits));
	while (dl > 0) {
		out[n++] = digits[--dl];
	}
	out[n] = '\0';
}

/* Into the table: req, p's initial INVITE from src (user: who proved
 * it, "" for none; gateway: the External Gateway it goes through, "" for
 * none; routed: taken even while the table does not track calls), its
 * entry's id into *id (0: none).  False when req starts no dialog. */
static bool
add(struct core *c, struct msg *req, const struct tp_src *src,
    const char *user, const char *gateway, bool routed, uint64_t *id)
{
	char source[TP_ADDRSTRLEN + 8];
	const struct msg_naddr *from, *to;
	struct cdr_start s;

	if (msg_method(req) != MSG_INVITE) {
		return false;
	}
	from = msg_from(req);
	to = msg_to(req);
	/* RFC 3261 12.1: an INVITE without a To tag starts a dialog */
	if (from == NULL || to == NULL || to->tag.len != 0) {
		return false;
	}
	source_of(src, source);
	s = (struct cdr_start){
		.call_id = csv_of(msg_callid(req)),
		.from_tag = span_of(req, from->tag),
		.from = csv_of(msg_hdr_value(req, HDR_FROM)),
		.to = csv_of(msg_hdr_value(req, HDR_TO)),
		.ruri = span_of(req, msg_ruri_span(req)),
		.source = source,
		.user = user,
		.gateway = gateway,
		.routed = routed,
	};
	(void)cdr_invite_id(c->cdr, &s, cdr_now_ms(), id);
	return true;
}

void
calls_invite(struct core *c, struct pctx *p, struct msg *req,
    const struct tp_src *src, const struct core_policy_in *in)
{
	if (cdr_tracking(c->cdr)) {
		const char *gw = p->gw1 > 0 && p->gw1 <= c->ngwc
		    ? c->gwc[p->gw1 - 1].name
		    : "";
		p->cdr = add(c, req, src, in->authenticated ? in->auth_user : "",
		    gw, false, &p->cdr_id);
	}
}

void
calls_routed(struct core *c, struct pctx *p, const struct tp_src *dst)
{
	struct tp_src src;

	/* with records or force-rr on, calls_invite() took it already */
	if (p->cdr || p->listed || c->cdr == NULL || p->st == NULL ||
	    dst->proto == p->src.proto) {
		return;
	}
	struct msg *req = txn_request(p->st);

	p->listed = add(c, req, pctx_src(p, &src), "", "", true, &p->cdr_id);
}

/*
 * The final response names its call by the entry its INVITE made, not by
 * its own Call-ID and From tag: a UAS copies them (RFC 3261 8.2.6.2),
 * but one that changed them could name another call.  Only a 2xx's To
 * tag is read.
 */
void
calls_final_slow(struct pctx *p, int status, struct msg *resp)
{
	const struct msg_naddr *to =
	    resp != NULL && status < 300 ? msg_to(resp) : NULL;

	cdr_final_id(p->c->cdr, p->cdr_id,
	    to != NULL ? span_of(resp, to->tag) : (struct cdr_sv){ "", 0 },
	    status, p->cancelled, cdr_now_ms());
}

void
calls_in_dialog(struct core *c, struct msg *req)
{
	const struct msg_naddr *from, *to;

	if (c->cdr == NULL) {
		return;
	}
	from = msg_from(req);
	to = msg_to(req);
	if (from == NULL || to == NULL || to->tag.len == 0) {
		return;
	}
	cdr_in_dialog(c->cdr, csv_of(msg_callid(req)), span_of(req, from->tag),
	    span_of(req, to->tag), msg_method(req) == MSG_BYE, cdr_now_ms());
}
