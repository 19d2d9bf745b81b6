/*
 * The core's entry: a parsed message in, the decision what to do with it.
 * Requests are validated (RFC 3261 8.2, 16.3), retransmissions absorbed
 * by the transaction layer, requests addressed to sipd answered here (an
 * OPTIONS with its capabilities, 11.2), and the rest handed to the proxy
 * (proxy.c).  Responses go to their client transaction or are relayed by
 * Via.  This file also owns what the others share: the To tags, the send
 * path and stateless answers, and the counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sipd/core/core_int.h"

#define CORE_MAX_REQUIRE 16

/* The transport lost bytes it had queued for dst: the transactions
 * sending there hear of it. */
static void
on_tp_error(void *arg, const struct tp_src *dst, int err)
{
	struct core *c = arg;

	txn_transport_error(c->txn, dst, err);
}

struct core *
core_new(const struct conf *conf, struct tp *tp, unsigned shard,
    struct reg *reg, const uint8_t secret[CORE_SECRET_LEN],
    struct auth_state *auth_state)
{
	struct core *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	c->tp = tp;
	c->shard = shard;
	c->reg = reg;
	/* tags must be unique (RFC 3261 19.3), not secret */
	if (getrandom(&c->rand, sizeof(c->rand), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->rand)) {
		c->rand = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	c->rand ^= (uint64_t)shard << 56;
	if (c->rand == 0) {
		c->rand = 0x9e3779b97f4a7c15ULL;
	}
	c->txn = txn_table_new(&conf->txn, &core_txn_ops, c, shard);
	/* one replay, failure and rate state for every worker */
	c->auth = auth_new_shared(NULL, auth_state);
	c->mac = core_mac_new(secret, CORE_SECRET_LEN);
	c->rr_made = calloc(CORE_RR_MADE, sizeof(*c->rr_made));
	/* the first worker registers with the gateways */
	c->gws = shard == 0 ? core_gws_new() : NULL;
	if (c->txn == NULL || c->auth == NULL || c->mac == NULL ||
	    c->rr_made == NULL ||
	    (shard == 0 && c->gws == NULL) ||
	    auth_set_secret(c->auth, secret, CORE_SECRET_LEN) != 0) {
		core_free(c);
		return NULL;
	}
	tp_set_error_fn(tp, on_tp_error, c);
	core_configure(c, conf);
	return c;
}

void
core_free(struct core *c)
{
	if (c == NULL) {
		return;
	}
	core_nat_fini(c);
	core_gws_free(c);
	txn_table_free(c->txn);
	core_uac_fini(c);
	auth_free(c->auth);
	core_mac_free(c->mac);
	free(c->rr_made);
	acct_unref(c->acct);
	free(c);
}

void
core_configure(struct core *c, const struct conf *conf)
{
	struct auth_settings as;

	c->limits = conf->limits;
	c->force_rr = conf->force_rr;
	c->server_len = (size_t)snprintf(c->server, sizeof(c->server), "%s",
	    conf->server_header);
	txn_table_configure(c->txn, &conf->txn);
	route_configure(c, conf);
	c->wk = conf->wk;
	core_router_configure(c, conf);
	core_media_configure(c, conf);
	/* the accounts snapshot is immutable: hold a reference to it */
	acct_unref(c->acct);
	c->acct = acct_ref(conf->acct);
	c->relay = conf->relay_non_clients;
	c->auth_local_from = conf->auth_local_from;
	c->nclient_ip = conf->nclient_ip;
	for (int i = 0; i < conf->nclient_ip; i++) {
		c->client_ip[i] = conf->client_ip[i].net;
	}
	core_nat_configure(c, conf);
	auth_settings_init(&as);
	as.nonce_lifetime = conf->auth.nonce_lifetime_s;
	/* SHA-256 only when asked: some user agents give up on a response
	 * that holds a challenge they cannot compute, wherever it is */
	as.algs = AUTH_ALG_BIT(AUTH_ALG_MD5) |
	    (conf->auth.sha256 ? AUTH_ALG_BIT(AUTH_ALG_SHA256) : 0);
	as.advertise_digest = conf->auth.advertise_digest;
	as.advertise_auth = true;
	as.advertise_ntlm = conf->auth.advertise_ntlm;
	as.sha256_first = conf->auth.sha256_first;
	as.rfc2069 = conf->auth.rfc2069;
	as.fail_limit = conf->auth.fail_limit;
	as.fail_window = conf->auth.fail_window_s;
	as.fail_penalty = conf->auth.fail_penalty_s;
	as.challenge_rate = conf->auth.challenge_rate;
	auth_configure(c->auth, &as);
	core_gws_configure(c, conf);
}

void
core_set_dns(struct core *c, struct dns *d,
    void (*loop)(void *arg, bool done), void *arg)
{
	c->dns = d;
	c->loop = loop;
	c->loop_arg = arg;
}

struct auth *
core_auth(struct core *c)
{
	return c->auth;
}

const struct msg_limits *
core_limits(const struct core *c)
{
	return &c->limits;
}

struct txn_table *
core_txn(struct core *c)
{
	return c->txn;
}

const struct core_stats *
core_stats(const struct core *c)
{
	return &c->stats;
}

void
core_count_handoff(struct core *c)
{
	c->stats.handed_off++;
}

/* Whether req belongs to a dialog: its To has a tag (RFC 3261 12.2). */
static bool
core_in_dialog(struct msg *req)
{
	const struct msg_naddr *to = msg_to(req);

	return to != NULL && to->tag.len > 0;
}

void
core_refuse_busy(struct core *c, struct msg *m, const struct tp_src *src)
{
	uint64_t now = txn_table_now(c->txn);

	c->stats.busy_refused++;
	/* one line a second at most: a line per refusal would cost what
	 * the refusals save */
	if (now - c->behind_logged_ms >= 1000) {
		c->behind_logged_ms = now;
		log_notice(LOG_SERVER, "overloaded, new requests refused with "
		    "503 (%llu so far)",
		    (unsigned long long)c->stats.busy_refused);
	}
	if (msg_is_request(m) && msg_method(m) != MSG_ACK) {
		core_answer(c, src, m, 503, NULL, NULL);
	}
}

void
core_drain(struct core *c)
{
	if (!c->draining) {
		core_gws_drain(c);
	}
	c->draining = true;
}

void
core_tick(struct core *c)
{
	core_gws_tick(c);
}

uint64_t
core_random(struct core *c)
{
	/* xorshift64* */
	c->rand ^= c->rand >> 12;
	c->rand ^= c->rand << 25;
	c->rand ^= c->rand >> 27;
	return c->rand * 0x2545f4914f6cdd1dULL;
}

/* out[0..n): random hex digits, sixteen from each core_random() */
static void
random_hex(struct core *c, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0) {
			r = core_random(c);
		}
		out[i] = hex[r & 0xf];
		r >>= 4;
	}
}

void
core_tag(struct core *c, char tag[CORE_TAG_LEN + 1])
{
	char sig[CORE_MAC_HEX];
	size_t n = sizeof(CORE_TAG_MARK) - 1;

	/* the mark, random hex, then a signature of both: the ACK of a
	 * final response sipd sent itself is recognised by it and absorbed,
	 * and no peer's tag passes for one (a mark alone is two hex
	 * digits: one peer tag in 256 had it) */
	memcpy(tag, CORE_TAG_MARK, n);
	random_hex(c, tag + n, CORE_TAG_LEN - CORE_TAG_SIG - n);
	if (core_mac_sign(c->mac, 't',
		&(struct sv){ tag, CORE_TAG_LEN - CORE_TAG_SIG }, 1, sig) < 0) {
		memset(sig, '0', sizeof(sig));
	}
	memcpy(tag + CORE_TAG_LEN - CORE_TAG_SIG, sig, CORE_TAG_SIG);
	tag[CORE_TAG_LEN] = '\0';
}

void
core_tag_plain(struct core *c, char tag[CORE_TAG_LEN + 1])
{
	random_hex(c, tag, CORE_TAG_LEN);
	tag[CORE_TAG_LEN] = '\0';
}

bool
core_own_tag(struct core *c, struct sv tag)
{
	char sig[CORE_MAC_HEX];

	if (tag.len != CORE_TAG_LEN ||
	    memcmp(tag.p, CORE_TAG_MARK, sizeof(CORE_TAG_MARK) - 1) != 0 ||
	    core_mac_sign(c->mac, 't',
		&(struct sv){ tag.p, CORE_TAG_LEN - CORE_TAG_SIG }, 1, sig) < 0) {
		return false;
	}
	return CRYPTO_memcmp(sig, tag.p + CORE_TAG_LEN - CORE_TAG_SIG,
	    CORE_TAG_SIG) == 0;
}

const char *
core_peer(const struct tp_src *src, char *buf, size_t cap)
{
	return tp_addr_str((const struct sockaddr *)&src->addr, buf, cap);
}

static unsigned
status_class(int status)
{
	return status >= 100 && status < 700 ? (unsigned)(status / 100) : 0;
}

void
core_count_out(struct core *c, struct msg *m)
{
	if (msg_is_request(m)) {
		c->stats.req_out[msg_method(m)]++;
	} else {
		c->stats.resp_out[status_class(msg_status(m))]++;
	}
}

int
core_send(struct core *c, const struct tp_src *dst, const char *buf,
    size_t len)
{
	/* the transport writes the SIPDATA line */
	return tp_send(c->tp, dst, buf, len);
}

int
core_send_msg(struct core *c, const struct tp_src *dst, struct msg *m)
{
	char out[CORE_OUT_SIZE];
	int n = msg_write(m, out, sizeof(out));

	if (n < 0) {
		return n;
	}
	core_count_out(c, m);
	return core_send(c, dst, out, (size_t)n);
}

struct msg *
core_response(struct core *c, struct msg *req, int status, const char *reason)
{
	char tag[CORE_TAG_LEN + 1];
	struct msg *resp;
	struct sv to_tag = { tag, 0 };

	/* RFC 3261 8.2.6.2: a 100 carries no To tag sipd adds (msg_response()
	 * adds none): not made, nor signed, for the 100 of every INVITE */
	if (status > 100) {
		core_tag(c, tag);
		to_tag.len = CORE_TAG_LEN;
	}
	resp = msg_response(req, status, reason, to_tag);
	if (resp != NULL &&
	    core_server_hdr(c, resp) < 0) {
		msg_free(resp);
		return NULL;
	}
	return resp;
}

/* Headers an OPTIONS answer carries (RFC 3261 11.2). */
static int
add_capabilities(struct msg *resp)
{
	if (msg_hdr_append(resp, "Allow", SV_LIT(CORE_ALLOW)) < 0 ||
	    msg_hdr_append(resp, "Accept", SV_LIT(CORE_ACCEPT)) < 0 ||
	    msg_hdr_append(resp, "Supported", SV_LIT("")) < 0) {
		return -ENOMEM;
	}
	return 0;
}


void
core_answer_msg(struct core *c, const struct tp_src *src, struct msg *req,
    struct msg *resp)
{
	struct tp_src dst;

	txn_response_dst(req, src, &dst);
	core_send_msg(c, &dst, resp);
	msg_free(resp);
}

void
core_answer_txn(struct core *c, const struct tp_src *src, struct msg *req,
    struct msg *resp)
{
	struct txn *st = txn_server_new(c->txn, req, src, NULL);

	if (st == NULL) {
		core_answer_msg(c, src, req, resp);
		return;
	}
	core_count_out(c, resp);
	txn_server_respond(st, resp);
	msg_free(resp);
}

void
core_answer(struct core *c, const struct tp_src *src, struct msg *req,
    int status, const char *reason, const char *why)
{
	char peer[TP_ADDRSTRLEN];
	struct sv method = msg_method_name(req);
	int mlen = (int)(method.len < 32 ? method.len : 32);
	struct tp_src dst;
	struct msg *resp;

	core_peer(src, peer, sizeof(peer));
	resp = core_response(c, req, status, reason);
	if (resp == NULL) {
		log_notice(LOG_SERVER, "dropped %.*s from %s (%s, and no "
		    "response possible)", mlen, method.p, peer,
		    why ? why : "cannot build a response");
		return;
	}
	if (status == 200 && msg_method(req) == MSG_OPTIONS &&
	    add_capabilities(resp) < 0) {
		msg_free(resp);
		return;
	}
	if (status == 503 &&
	    msg_hdr_append(resp, "Retry-After", SV_LIT("5")) < 0) {
		msg_free(resp);
		return;
	}
	txn_response_dst(req, src, &dst);
	if (core_send_msg(c, &dst, resp) == 0) {
		if (why != NULL) {
			log_notice(LOG_SERVER, "refused %.*s from %s with %d (%s)",
			    mlen, method.p, peer, status, why);
		} else {
			log_info(LOG_SERVER, "answered %.*s from %s with %d",
			    mlen, method.p, peer, status);
		}
	}
	msg_free(resp);
}

/* True for bytes of white space only: a keep-alive, not a message. */
static bool
blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\r' && data[i] != '\n' && data[i] != ' ' &&
		    data[i] != '\t') {
			return false;
		}
	}
	return true;
}

struct msg *
core_parse(struct core *c, const struct tp_src *src, const char *data,
    size_t len, struct msg_err *err)
{
	char peer[TP_ADDRSTRLEN], clip[LOG_CLIP_SIZE];
	struct msg *m;

	/* the peer's address is formatted only for a log line */
	if (blank(data, len)) {
		log_debug(LOG_TRANSPORT, "keep-alive from %s (%zu bytes)",
		    core_peer(src, peer, sizeof(peer)), len);
		return NULL;
	}
	m = msg_parse(data, len, &c->limits, err);
	if (m == NULL) {
		c->stats.parse_errors++;
		log_notice(LOG_TRANSPORT, "dropped datagram from %s (%s): %s",
		    core_peer(src, peer, sizeof(peer)),
		    err->reason ? err->reason : "not a SIP message",
		    log_clip(clip, sizeof(clip), data, len));
	}
	return m;
}

/*
 * RFC 3261 8.2.2.3 and 16.3 step 5: sipd supports no extension, so any
 * option tag in Require (for requests to sipd) or Proxy-Require (for
 * requests it forwards) is unsupported.  Answers 420 and returns true.
 */
bool
core_refuse_extensions(struct core *c, struct msg *req, const struct tp_src *src,
    enum hdr_id id)
{
	struct span tags[CORE_MAX_REQUIRE];
	char peer[TP_ADDRSTRLEN];
	struct msg *resp;
	struct tp_src dst;
	int n;

	if (msg_hdr_first(req, id) < 0 || msg_method(req) == MSG_ACK ||
	    msg_method(req) == MSG_CANCEL) {
		return false;
	}
	n = msg_hdr_values(req, id, tags, CORE_MAX_REQUIRE);
	if (n <= 0) {
		return false;
	}
	resp = core_response(c, req, 420, NULL);
	if (resp == NULL) {
		return true;
	}
	for (int i = 0; i < n && i < CORE_MAX_REQUIRE; i++) {
		if (msg_hdr_append(resp, "Unsupported", msg_sv(req, tags[i])) <
		    0) {
			break;
		}
	}
	txn_response_dst(req, src, &dst);
	core_send_msg(c, &dst, resp);
	msg_free(resp);
	log_notice(LOG_SERVER, "refused request from %s with 420 (unsupported "
	    "extension)", core_peer(src, peer, sizeof(peer)));
	return true;
}

/* A request addressed to sipd itself. */
static void
local_request(struct core *c, struct msg *req, const struct tp_src *src)
{
	if (core_refuse_extensions(c, req, src, HDR_REQUIRE)) {
		return;
	}
	switch (msg_method(req)) {
	case MSG_OPTIONS:
		core_answer(c, src, req, 200, NULL, NULL);
		break;
	case MSG_ACK:
		break;
	default:
		core_answer(c, src, req, 501, NULL, NULL);
		break;
	}
}

/* Returns true when req was taken (forwarded as it is). */
static bool
handle_request(struct core *c, struct msg *req, const struct tp_src *src)
{
	char peer[TP_ADDRSTRLEN], host[INET6_ADDRSTRLEN];
	struct msg_err err = { 0 };
	enum msg_method method = msg_method(req);
	uint32_t mf;
	int rc;

	c->stats.req_in[method]++;
	if (msg_check(req, &err) < 0) {
		core_peer(src, peer, sizeof(peer));
		if (method == MSG_ACK || err.status == 0) {
			/* RFC 3261 17.1.1.3: an ACK is never answered */
			log_notice(LOG_SERVER, "dropped malformed request from "
			    "%s (%s)", peer, err.reason ? err.reason : "invalid");
			return false;
		}
		if (msg_via_top(req) != NULL) {
			tp_addr_host((const struct sockaddr *)&src->addr, host,
			    sizeof(host));
			msg_via_set_received(req, (struct sv){ host, strlen(host) },
			    tp_addr_port((const struct sockaddr *)&src->addr));
		}
		core_answer(c, src, req, err.status, err.reason,
		    err.reason ? err.reason : "invalid");
		return false;
	}
	/* RFC 3261 18.2.1, RFC 3581 4: record where it really came from */
	tp_addr_host((const struct sockaddr *)&src->addr, host, sizeof(host));
	rc = msg_via_set_received(req, (struct sv){ host, strlen(host) },
	    tp_addr_port((const struct sockaddr *)&src->addr));
	if (rc < 0) {
		log_notice(LOG_SERVER, "dropped request from %s (cannot set "
		    "received: %s)", core_peer(src, peer, sizeof(peer)),
		    strerror(-rc));
		return false;
	}

	/* retransmissions, and the ACK of a non-2xx final response */
	if (txn_server_absorb(c->txn, req, src)) {
		return false;
	}
	if (method == MSG_ACK) {
		/* the ACK of a final response sipd answered itself (16.3:
		 * sipd was the UAS) ends here; others go on */
		const struct msg_naddr *to = msg_to(req);
		if (to != NULL && core_own_tag(c, msg_sv(req, to->tag))) {
			log_info(LOG_SERVER, "absorbed ACK from %s (sipd's own "
			    "answer)", core_peer(src, peer, sizeof(peer)));
			return false;
		}
		proxy_relay_ack(c, req, src);
		return false;
	}
	/* stopping: a new dialog or transaction gets 503 and Retry-After
	 * (RFC 3261 21.5.4; RFC 3263 4.3 sends it to the next server), a
	 * request within a dialog or a CANCEL still ends what runs */
	if (c->draining && method != MSG_CANCEL &&
	    (msg_to(req) == NULL || msg_to(req)->tag.len == 0)) {
		core_answer(c, src, req, 503, NULL, "shutting down");
		return false;
	}
	if (method == MSG_CANCEL) {
		proxy_cancel(c, req, src);
		return false;
	}
	/* RFC 3261 16.3 step 3: Max-Forwards; an OPTIONS with 0 is for us
	 * (11) */
	if (msg_max_forwards(req, &mf) == 0 && mf == 0) {
		if (method == MSG_OPTIONS) {
			local_request(c, req, src);
		} else {
			core_answer(c, src, req, 483, NULL, "Max-Forwards 0");
		}
		return false;
	}
	if (src->behind && method != MSG_OPTIONS && !core_in_dialog(req)) {
		/* the socket's buffer fills faster than this worker reads
		 * it: refuse what would start new work at once (RFC 3261
		 * 21.5.4) instead of letting the kernel drop it unanswered;
		 * requests in a dialog, OPTIONS (the peers' keep-alives),
		 * CANCEL, ACK and retransmissions still go through */
		core_refuse_busy(c, req, src);
		return false;
	}
	return proxy_request(c, req, src);
}

static void
handle_response(struct core *c, struct msg *resp, const struct tp_src *src)
{
	char peer[TP_ADDRSTRLEN];
	struct msg_err err = { 0 };

	c->stats.resp_in[status_class(msg_status(resp))]++;
	if (msg_check(resp, &err) < 0) {
		log_notice(LOG_CLIENT, "dropped malformed response from %s (%s)",
		    core_peer(src, peer, sizeof(peer)),
		    err.reason ? err.reason : "invalid");
		return;
	}
	if (core_nat_ka_response(c, resp, src) ||
	    txn_client_absorb(c->txn, resp, src)) {
		return;
	}
	proxy_relay_response(c, resp, src);
}

void
core_handle(struct core *c, struct msg *m, const struct tp_src *src)
{
	if (msg_is_request(m)) {
		if (handle_request(c, m, src)) {
			return; /* forwarded: a client transaction has it */
		}
	} else {
		handle_response(c, m, src);
	}
	msg_free(m);
}

void
core_local_request(struct core *c, struct msg *req, const struct tp_src *src)
{
	local_request(c, req, src);
}
