/*
 * fuzz_msg: the message parser and everything a server does with a parsed
 * message.  msg_parse() with the default limits, msg_check(), every typed
 * accessor, and for a request that passes the checks: a 200 response built
 * and written, received and rport set on its top Via, and the request
 * written again after a Via push and a header append; for a request the
 * checks refuse with a status, the response built from its raw headers.
 * Besides the sanitizers, it checks promises of msg.h: every span of an
 * unedited message lies inside the received bytes, msg_write() writes
 * exactly msg_size() bytes, an edited message reads back its edits, what
 * sipd writes parses again, and a refused request with a well-formed top
 * Via gets an answer by it holding only headers that parse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#define FUZZ_VIA "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz"

static void
check_uri(const struct uri *u, size_t len)
{
	fuzz_span(u->all, len);
	fuzz_span(u->scheme_s, len);
	fuzz_span(u->user, len);
	fuzz_span(u->password, len);
	fuzz_span(u->host, len);
	fuzz_span(u->params, len);
	fuzz_span(u->headers, len);
	fuzz_span(u->opaque, len);
}

static void
check_sv_in(const struct msg *m, struct sv v, size_t len)
{
	const char *buf = msg_buf(m);

	if (v.len == 0) {
		return;
	}
	FUZZ_CHECK(v.p >= buf && (size_t)(v.p - buf) + v.len <= len);
	fuzz_touch(v.p, v.len);
}

static void
check_naddrs(struct msg *m, enum hdr_id id, size_t len)
{
	const struct msg_naddr *na = NULL;
	struct sv v;
	int n, i;

	n = msg_naddrs(m, id, &na);
	FUZZ_CHECK(n >= 0 || n == -EINVAL);
	for (i = 0; i < n; i++) {
		fuzz_span(na[i].value, len);
		fuzz_span(na[i].display, len);
		fuzz_span(na[i].uri_s, len);
		fuzz_span(na[i].params, len);
		fuzz_span(na[i].tag, len);
		check_uri(&na[i].uri, len);
		fuzz_touch(msg_sv(m, na[i].value).p, na[i].value.len);
		if (msg_naddr_param(m, &na[i], "expires", &v)) {
			check_sv_in(m, v, len);
		}
		if (uri_param(msg_buf(m), &na[i].uri, "lr", &v)) {
			check_sv_in(m, v, len);
		}
	}
}

static void
check_auths(struct msg *m, enum hdr_id id, size_t len)
{
	const struct msg_auth *a = NULL;
	int n, i;

	n = msg_auths(m, id, &a);
	FUZZ_CHECK(n >= 0 || n == -EINVAL);
	for (i = 0; i < n; i++) {
		fuzz_span(a[i].scheme, len);
		fuzz_span(a[i].username, len);
		fuzz_span(a[i].realm, len);
		fuzz_span(a[i].nonce, len);
		fuzz_span(a[i].uri, len);
		fuzz_span(a[i].response, len);
		fuzz_span(a[i].algorithm, len);
		fuzz_span(a[i].cnonce, len);
		fuzz_span(a[i].opaque, len);
		fuzz_span(a[i].qop, len);
		fuzz_span(a[i].nc, len);
		fuzz_span(a[i].stale, len);
		fuzz_span(a[i].domain, len);
		fuzz_span(a[i].userhash, len);
		fuzz_span(a[i].params, len);
	}
}

static void
check_via(const struct msg_via *v, size_t len)
{
	fuzz_span(v->value, len);
	fuzz_span(v->protocol, len);
	fuzz_span(v->version, len);
	fuzz_span(v->transport, len);
	fuzz_span(v->host, len);
	fuzz_span(v->branch, len);
	fuzz_span(v->received, len);
	fuzz_span(v->maddr, len);
	fuzz_span(v->params, len);
}

/* Every accessor of an unedited message: spans inside the len bytes. */
static void
read_all(struct msg *m, size_t len)
{
	const struct msg_via *top, *vias = NULL;
	const struct msg_naddr *na;
	const struct msg_cseq *cs;
	const struct msg_ctype *ct;
	const struct uri *ruri;
	struct span vals[16];
	struct sv v;
	uint32_t num;
	unsigned i, total;
	int n, k;

	total = msg_hdr_total(m);
	for (i = 0; i < total; i++) {
		const struct msg_hdr *h = msg_hdr_at(m, (int)i);

		FUZZ_CHECK(h != NULL);
		fuzz_span(h->name, len);
		fuzz_span(h->value, len);
		fuzz_span(h->line, len);
		fuzz_touch(msg_sv(m, h->line).p, h->line.len);
		if (h->id != HDR_UNKNOWN) {
			FUZZ_CHECK(h->id < HDR__COUNT);
			FUZZ_CHECK(msg_hdr_first(m, (enum hdr_id)h->id) >= 0);
		}
	}
	check_sv_in(m, msg_body(m), len);
	check_sv_in(m, msg_method_name(m), len);
	if (msg_is_request(m)) {
		fuzz_span(msg_ruri_span(m), len);
		ruri = msg_ruri(m);
		if (ruri != NULL) {
			check_uri(ruri, len);
			if (uri_param(msg_buf(m), ruri, "transport", &v)) {
				check_sv_in(m, v, len);
			}
		}
	} else {
		(void)msg_status(m);
		check_sv_in(m, msg_reason(m), len);
	}

	top = msg_via_top(m);
	if (top != NULL) {
		check_via(top, len);
	}
	n = msg_vias(m, &vias);
	FUZZ_CHECK(n >= 0 || n == -EINVAL);
	for (k = 0; k < n; k++) {
		check_via(&vias[k], len);
	}
	na = msg_from(m);
	if (na != NULL) {
		fuzz_span(na->tag, len);
		check_uri(&na->uri, len);
	}
	na = msg_to(m);
	if (na != NULL) {
		fuzz_span(na->tag, len);
		check_uri(&na->uri, len);
	}
	check_naddrs(m, HDR_CONTACT, len);
	check_naddrs(m, HDR_ROUTE, len);
	check_naddrs(m, HDR_RECORD_ROUTE, len);
	cs = msg_cseq(m);
	if (cs != NULL) {
		fuzz_span(cs->method_s, len);
	}
	check_sv_in(m, msg_callid(m), len);
	(void)msg_max_forwards(m, &num);
	(void)msg_content_length(m, &num);
	(void)msg_expires(m, &num);
	ct = msg_content_type(m);
	if (ct != NULL) {
		fuzz_span(ct->type, len);
		fuzz_span(ct->subtype, len);
		fuzz_span(ct->params, len);
	}
	check_auths(m, HDR_AUTHORIZATION, len);
	check_auths(m, HDR_PROXY_AUTHORIZATION, len);
	check_auths(m, HDR_WWW_AUTHENTICATE, len);
	check_auths(m, HDR_PROXY_AUTHENTICATE, len);
	n = msg_hdr_values(m, HDR_SUPPORTED, vals, 16);
	FUZZ_CHECK(n >= 0 || n == -EINVAL);
	for (k = 0; k < n && k < 16; k++) {
		fuzz_span(vals[k], len);
	}
}

/*
 * Serialize m; msg_write() must produce msg_size() bytes and refuse a
 * buffer one byte short.  Returns the bytes (caller frees) or NULL.
 */
static char *
write_msg(const struct msg *m, size_t *out_len)
{
	size_t size = msg_size(m);
	char *out;
	int rc;

	out = malloc(size + 1);
	if (out == NULL) {
		return NULL;
	}
	rc = msg_write(m, out, size);
	FUZZ_CHECK(rc >= 0 && (size_t)rc == size);
	if (size > 0) {
		FUZZ_CHECK(msg_write(m, out, size - 1) == -ENOSPC);
	}
	*out_len = size;
	return out;
}

/* Parse bytes sipd wrote: they must parse and pass msg_check(). */
static struct msg *
reparse(const char *data, size_t len)
{
	struct msg_limits lim;
	struct msg_err err;
	struct msg *m;

	msg_limits_init(&lim);
	lim.max_size = (uint32_t)len + 1;
	lim.max_headers += 8;
	lim.max_line += 64; /* a To line grows by its tag */
	m = msg_parse(data, len, &lim, &err);
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(msg_check(m, &err) == 0);
	return m;
}

static void
respond(struct msg *req)
{
	const struct msg_naddr *to, *rto;
	struct msg *resp, *back;
	struct sv tag;
	size_t len;
	char *out;

	resp = msg_response(req, 200, NULL, SV_LIT("abc"));
	if (resp == NULL) {
		return;
	}
	out = write_msg(resp, &len);
	if (out != NULL) {
		back = reparse(out, len);
		FUZZ_CHECK(!msg_is_request(back) && msg_status(back) == 200);
		/* RFC 3261 8.2.6.2: a To tag is added when there was none */
		to = msg_to(req);
		rto = msg_to(back);
		FUZZ_CHECK(to != NULL && rto != NULL);
		tag = msg_sv(back, rto->tag);
		if (to->tag.len == 0) {
			FUZZ_CHECK(sv_eq(tag, SV_LIT("abc")));
		} else {
			FUZZ_CHECK(sv_eq(tag, msg_sv(req, to->tag)));
		}
		FUZZ_CHECK(sv_eq(msg_callid(back), msg_callid(req)));
		msg_free(back);
		free(out);
	}
	msg_free(resp);
}

static void
edit(struct msg *m)
{
	const struct msg_via *top;
	struct msg *back;
	size_t len;
	char *out;

	if (msg_via_push(m, SV_LIT(FUZZ_VIA)) != 0) {
		return;
	}
	top = msg_via_top(m);
	FUZZ_CHECK(top != NULL);
	FUZZ_CHECK(sv_eq(msg_sv(m, top->branch), SV_LIT("z9hG4bKfuzz")));
	FUZZ_CHECK(sv_eq(msg_sv(m, top->host), SV_LIT("192.0.2.1")));
	FUZZ_CHECK(top->port == 5060);
	if (msg_hdr_append(m, "X-Fuzz", SV_LIT("1")) < 0) {
		return;
	}
	out = write_msg(m, &len);
	if (out == NULL) {
		return;
	}
	back = reparse(out, len);
	top = msg_via_top(back);
	FUZZ_CHECK(top != NULL);
	FUZZ_CHECK(sv_eq(msg_sv(back, top->branch), SV_LIT("z9hG4bKfuzz")));
	FUZZ_CHECK(msg_hdr_find(back, SV_LIT("x-fuzz")) >= 0);
	msg_free(back);
	free(out);
}

/*
 * RFC 3261 18.2.1 / RFC 3581: received and rport on the top Via, folded
 * or not; what sipd writes then parses, checks, and keeps the branch.
 */
static void
set_received(struct msg *m)
{
	const struct msg_via *top = msg_via_top(m);
	struct msg *back;
	struct sv branch;
	char *copy;
	size_t len;
	char *out;
	int rc;

	FUZZ_CHECK(top != NULL);
	branch = msg_sv(m, top->branch);
	copy = malloc(branch.len + 1);
	if (copy == NULL) {
		return;
	}
	memcpy(copy, branch.p, branch.len);
	rc = msg_via_set_received(m, SV_LIT("192.0.2.9"), 5070);
	FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
	out = rc == 0 ? write_msg(m, &len) : NULL;
	if (out != NULL) {
		back = reparse(out, len);
		top = msg_via_top(back);
		FUZZ_CHECK(top != NULL);
		FUZZ_CHECK(sv_eq(msg_sv(back, top->branch),
		    (struct sv){ copy, branch.len }));
		msg_free(back);
		free(out);
	}
	free(copy);
}

/*
 * RFC 3261 8.2.6.1: a request msg_check() refuses with a status is
 * answered whenever its top Via parses; the answer parses, goes by the
 * same top Via, and holds only From, To, Call-ID and CSeq that parse.
 */
static void
refuse(struct msg *req, const struct msg_err *err)
{
	const struct msg_via *top = msg_via_top(req), *rtop;
	struct msg_limits lim;
	struct msg_err perr;
	struct msg *resp, *back;
	size_t len;
	char *out;

	resp = msg_response(req, err->status, err->reason, SV_LIT("abc"));
	if (top == NULL) {
		FUZZ_CHECK(resp == NULL);
		return;
	}
	if (resp == NULL) {
		return; /* out of memory */
	}
	out = write_msg(resp, &len);
	if (out != NULL) {
		msg_limits_init(&lim);
		lim.max_size = (uint32_t)len + 1;
		lim.max_headers += 8;
		lim.max_line += 64;
		back = msg_parse(out, len, &lim, &perr);
		FUZZ_CHECK(back != NULL);
		FUZZ_CHECK(msg_status(back) == err->status);
		rtop = msg_via_top(back);
		FUZZ_CHECK(rtop != NULL);
		FUZZ_CHECK(sv_eq(msg_sv(back, rtop->value),
		    msg_sv(req, top->value)));
		FUZZ_CHECK(msg_hdr_first(back, HDR_FROM) < 0 ||
		    msg_from(back) != NULL);
		FUZZ_CHECK(msg_hdr_first(back, HDR_TO) < 0 ||
		    msg_to(back) != NULL);
		FUZZ_CHECK(msg_hdr_first(back, HDR_CSEQ) < 0 ||
		    msg_cseq(back) != NULL);
		FUZZ_CHECK(msg_hdr_count(back, HDR_CALL_ID) <= 1);
		msg_free(back);
		free(out);
	}
	msg_free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_err err;
	struct msg *m;

	memset(&err, 0, sizeof(err));
	m = msg_parse((const char *)data, size, NULL, &err);
	if (m == NULL) {
		FUZZ_CHECK(err.reason != NULL);
		return 0;
	}
	read_all(m, size);
	memset(&err, 0, sizeof(err));
	if (msg_check(m, &err) != 0) {
		FUZZ_CHECK(err.reason != NULL);
		if (msg_is_request(m) && err.status != 0) {
			refuse(m, &err);
		}
	} else if (msg_is_request(m)) {
		respond(m);
		set_received(m);
		edit(m);
	}
	msg_free(m);
	return 0;
}
