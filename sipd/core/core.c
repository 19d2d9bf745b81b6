/*
 * Request processing.  For now sipd answers as a stateless user agent
 * server (RFC 3261 8.2): OPTIONS gets 200 with what sipd supports (11.2),
 * other requests 501, a request with an unsupported Require 420
 * (8.2.2.3), a malformed request the 4xx/5xx msg_check() names, and an
 * ACK nothing (17.2.1).  Responses are dropped: there are no client
 * transactions to match them yet.  Every request gets RFC 3581 handling,
 * and responses go where RFC 3261 18.2.2 and RFC 3581 4 say.
 *
 * A struct core owns the parsing limits and the random state that makes
 * To tags; it belongs to one worker.
 */
#include "sipd/core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sipd/log.h"

/* Methods sipd handles, for Allow (RFC 3261 20.5): only what is true. */
#define CORE_ALLOW "OPTIONS"
/* Body types accepted (RFC 3261 11.2 asks an OPTIONS answer to list them). */
#define CORE_ACCEPT "application/sdp"
#define CORE_SERVER "sipd/" SIPD_VERSION
/* Largest response written: a UDP datagram. */
#define CORE_OUT_SIZE 65535
#define CORE_TAG_LEN 16
/* Option tags listed in one Unsupported header. */
#define CORE_MAX_REQUIRE 16

struct core {
	struct msg_limits limits;
	uint64_t rand; /* xorshift64* state for To tags */
};

struct core *
core_new(const struct msg_limits *lim)
{
	struct core *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	if (lim != NULL) {
		c->limits = *lim;
	} else {
		msg_limits_init(&c->limits);
	}
	/*
	 * Tags need to be unique (RFC 3261 19.3), not secret; a weak seed
	 * still gives distinct tags per process.
	 */
	if (getrandom(&c->rand, sizeof(c->rand), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->rand)) {
		c->rand = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	if (c->rand == 0) {
		c->rand = 0x9e3779b97f4a7c15ULL;
	}
	return c;
}

void
core_free(struct core *c)
{
	free(c);
}

static uint64_t
core_random(struct core *c)
{
	c->rand ^= c->rand >> 12;
	c->rand ^= c->rand << 25;
	c->rand ^= c->rand >> 27;
	return c->rand * 0x2545f4914f6cdd1dULL;
}

/* A fresh To tag of CORE_TAG_LEN hex digits into tag. */
static void
core_tag(struct core *c, char tag[CORE_TAG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = core_random(c);

	for (int i = 0; i < CORE_TAG_LEN; i++) {
		tag[i] = hex[r & 0xf];
		r >>= 4;
	}
	tag[CORE_TAG_LEN] = '\0';
}

static struct sv
sv_str(const char *s)
{
	return (struct sv){ s, strlen(s) };
}

/* True for a datagram of white space only: a keep-alive, not a message. */
static bool
core_blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\r' && data[i] != '\n' && data[i] != ' ' &&
		    data[i] != '\t') {
			return false;
		}
	}
	return true;
}

/* The request's method, escaped for a log line. */
static const char *
core_method(const struct msg *m, char *buf, size_t cap)
{
	struct sv name = msg_method_name(m);

	return log_clip(buf, cap, name.p, name.len < 32 ? name.len : 32);
}

/* Headers an OPTIONS answer carries (RFC 3261 11.2). */
static int
core_add_capabilities(struct msg *resp)
{
	int rc;

	rc = msg_hdr_append(resp, "Allow", SV_LIT(CORE_ALLOW));
	if (rc < 0) {
		return rc;
	}
	rc = msg_hdr_append(resp, "Accept", SV_LIT(CORE_ACCEPT));
	if (rc < 0) {
		return rc;
	}
	/* No option tag is supported yet: an empty list says so. */
	rc = msg_hdr_append(resp, "Supported", SV_LIT(""));
	return rc < 0 ? rc : 0;
}

/*
 * RFC 3261 8.2.2.3: sipd supports no extension, so every option tag in
 * Require is unsupported.  Returns the number found (0: none).
 */
static int
core_unsupported(struct msg *m, struct span *tags, int max)
{
	int n;

	if (msg_hdr_first(m, HDR_REQUIRE) < 0) {
		return 0;
	}
	n = msg_hdr_values(m, HDR_REQUIRE, tags, max);
	if (n < 0) {
		return 0;
	}
	return n < max ? n : max;
}

/*
 * Answer req from src with status.  Applies RFC 3581 to the top Via,
 * builds the response, adds the headers the status needs and sends it
 * where RFC 3261 18.2.2 says.  Drops with a log line when no response can
 * be built.  why, when set, says why the request is refused: the answer
 * is then logged as a problem rather than routine.
 */
static void
core_answer(struct core *c, const struct tp_src *src, const char *peer,
    struct msg *req, int status, const char *reason, const char *why,
    const struct span *tags, int ntags)
{
	const struct sockaddr *sa = (const struct sockaddr *)&src->addr;
	const struct msg_via *via;
	char host[INET6_ADDRSTRLEN], tag[CORE_TAG_LEN + 1], method[160];
	char out[CORE_OUT_SIZE];
	struct sockaddr_storage dest;
	struct msg *resp = NULL;
	uint16_t port;
	bool rport;
	int n, rc;

	core_method(req, method, sizeof(method));
	via = msg_via_top(req);
	if (via == NULL) {
		log_notice(LOG_SERVER, "dropped %s from %s (%s, and no Via to "
		    "answer by)", method, peer, why != NULL ? why : "bad Via");
		return;
	}
	rport = via->rport;
	/* RFC 3261 18.2.2: the sent-by port, else the transport default. */
	port = via->port != 0 ? via->port : 5060;
	tp_addr_host(sa, host, sizeof(host));
	/* RFC 3261 18.2.1, RFC 3581 4: record where it really came from */
	rc = msg_via_set_received(req, sv_str(host), tp_addr_port(sa));
	if (rc < 0) {
		log_notice(LOG_SERVER, "dropped %s from %s (cannot set received: "
		    "%s)", method, peer, strerror(-rc));
		return;
	}
	core_tag(c, tag);
	resp = msg_response(req, status, reason,
	    (struct sv){ tag, CORE_TAG_LEN });
	if (resp == NULL) {
		log_notice(LOG_SERVER, "dropped %s from %s (%s, and no "
		    "response possible)", method, peer,
		    why != NULL ? why : "cannot build a response");
		return;
	}
	if (status == 200 && msg_method(req) == MSG_OPTIONS) {
		rc = core_add_capabilities(resp);
		if (rc < 0) {
			goto fail;
		}
	}
	for (int i = 0; i < ntags; i++) {
		rc = msg_hdr_append(resp, "Unsupported", msg_sv(req, tags[i]));
		if (rc < 0) {
			goto fail;
		}
	}
	rc = msg_hdr_append(resp, "Server", SV_LIT(CORE_SERVER));
	if (rc < 0) {
		goto fail;
	}
	n = msg_write(resp, out, sizeof(out));
	if (n < 0) {
		rc = n;
		goto fail;
	}
	/*
	 * RFC 3581 4: with rport, back to the source address and port;
	 * RFC 3261 18.2.2: else to received (the source address, which
	 * msg_via_set_received() just recorded) at the sent-by port.
	 */
	memcpy(&dest, &src->addr, sizeof(dest));
	tp_addr_set_port((struct sockaddr *)&dest,
	    rport ? tp_addr_port(sa) : port);
	if (tp_send(src->listener, (const struct sockaddr *)&dest, out,
		(size_t)n) == 0) {
		if (why != NULL) {
			log_notice(LOG_SERVER, "refused %s from %s with %d (%s)",
			    method, peer, status, why);
		} else {
			log_info(LOG_SERVER, "answered %s from %s with %d",
			    method, peer, status);
		}
	}
	msg_free(resp);
	return;
fail:
	log_err(LOG_SERVER, "cannot answer %s from %s with %d (%s)", method,
	    peer, status, strerror(-rc));
	msg_free(resp);
}

static void
core_request(struct core *c, const struct tp_src *src, const char *peer,
    struct msg *m)
{
	struct span tags[CORE_MAX_REQUIRE];
	struct msg_err err = { 0 };
	enum msg_method method = msg_method(m);
	const struct uri *ruri;
	char name[160];
	int ntags;

	if (msg_check(m, &err) < 0) {
		core_method(m, name, sizeof(name));
		if (method == MSG_ACK || err.status == 0) {
			/* RFC 3261 17.1.1.3: an ACK is never answered */
			log_notice(LOG_SERVER, "dropped malformed %s from %s (%s)",
			    name, peer, err.reason ? err.reason : "invalid");
			return;
		}
		core_answer(c, src, peer, m, err.status, err.reason,
		    err.reason ? err.reason : "invalid", NULL, 0);
		return;
	}
	/* msg_check() covers these; they are checked again as they decide */
	ruri = msg_ruri(m);
	if (ruri == NULL || ruri->scheme == URI_OTHER) {
		int status = ruri == NULL ? 400 : 416;
		const char *why = ruri == NULL ? "Bad Request-URI"
					       : "Unsupported URI Scheme";

		if (method == MSG_ACK) {
			return;
		}
		core_answer(c, src, peer, m, status, why, why, NULL, 0);
		return;
	}
	switch (method) {
	case MSG_ACK:
		/* Nothing to acknowledge: no INVITE was ever answered 2xx. */
		log_info(LOG_SERVER, "absorbed ACK from %s (no transaction)",
		    peer);
		return;
	case MSG_CANCEL:
		/* RFC 3261 8.2.2.3: Require does not apply to CANCEL */
		ntags = 0;
		break;
	default:
		ntags = core_unsupported(m, tags, CORE_MAX_REQUIRE);
		break;
	}
	if (ntags > 0) {
		core_answer(c, src, peer, m, 420, NULL, "unsupported extension",
		    tags, ntags);
	} else if (method == MSG_OPTIONS) {
		core_answer(c, src, peer, m, 200, NULL, NULL, NULL, 0);
	} else {
		core_answer(c, src, peer, m, 501, NULL, NULL, NULL, 0);
	}
}

static void
core_response(const char *peer, struct msg *m)
{
	struct msg_err err = { 0 };

	if (msg_check(m, &err) < 0) {
		log_notice(LOG_CLIENT, "dropped malformed response from %s (%s)",
		    peer, err.reason ? err.reason : "invalid");
		return;
	}
	log_info(LOG_CLIENT, "dropped %d response from %s (no client "
	    "transaction)", msg_status(m), peer);
}

void
core_receive(struct core *c, const struct tp_src *src, const char *data,
    size_t len)
{
	char peer[TP_ADDRSTRLEN], clip[LOG_CLIP_SIZE];
	struct msg_err err = { 0 };
	struct msg *m;

	tp_addr_str((const struct sockaddr *)&src->addr, peer, sizeof(peer));
	if (core_blank(data, len)) {
		log_debug(LOG_TRANSPORT, "keep-alive from %s (%zu bytes)", peer,
		    len);
		return;
	}
	m = msg_parse(data, len, &c->limits, &err);
	if (m == NULL) {
		log_notice(LOG_TRANSPORT, "dropped datagram from %s (%s): %s",
		    peer, err.reason ? err.reason : "not a SIP message",
		    log_clip(clip, sizeof(clip), data, len));
		return;
	}
	if (msg_is_request(m)) {
		core_request(c, src, peer, m);
	} else {
		core_response(peer, m);
	}
	msg_free(m);
}
