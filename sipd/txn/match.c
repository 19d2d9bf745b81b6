/*
 * Transaction keys.  A server transaction is found by the top Via's
 * branch, sent-by and the method (RFC 3261 17.2.3), or, for a request
 * whose branch lacks the magic cookie, by the RFC 2543 fields.  A client
 * transaction is found by the branch it put in its Via and the CSeq
 * method of the response (17.1.3).  ACK takes INVITE's place in both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

#define COOKIE "z9hG4bK"
/* The first byte of a server key: RFC 3261 branch, or RFC 2543 fields. */
#define KEY_3261 's'
#define KEY_2543 'o'

struct keybuf {
	char *p;
	size_t len;
	bool over;
};

static void
put(struct keybuf *k, const char *p, size_t len)
{
	if (k->over || len > TXN_KEY_MAX - k->len) {
		k->over = true;
		return;
	}
	memcpy(k->p + k->len, p, len);
	k->len += len;
}

static void
put_sv(struct keybuf *k, struct sv s)
{
	put(k, s.p, s.len);
	put(k, "|", 1);
}

static struct sv
method_sv(enum msg_method method, struct sv name)
{
	if (method == MSG_ACK) {
		method = MSG_INVITE;
	}
	if (method != MSG_METHOD_OTHER) {
		/* a known method by its id, after a byte no method name holds
		 * (names are tokens): a key a ringing call keeps, shorter */
		static const char ids[][2] = {
			{ 1, 0 }, { 1, 1 }, { 1, 2 }, { 1, 3 }, { 1, 4 },
			{ 1, 5 }, { 1, 6 }, { 1, 7 }, { 1, 8 }, { 1, 9 },
			{ 1, 10 }, { 1, 11 }, { 1, 12 }, { 1, 13 }, { 1, 14 },
			{ 1, 15 },
		};
		_Static_assert(MSG_PUBLISH < 16, "a key byte per method");
		return (struct sv){ ids[method], 2 };
	}
	return name;
}

/* The ASCII letters of the eight bytes in w in lower case, the other
 * bytes as they are: per byte, the high bit of h + 0x3f is set from 'A'
 * on and that of h + 0x25 past 'Z' (no carry between bytes, h < 0x80). */
static inline uint64_t
fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t h = w & 0x7f * ones;
	uint64_t upper = (h + (0x80 - 'A') * ones) &
	    ~(h + (0x80 - 'Z' - 1) * ones) & ~w & 0x80 * ones;

	return w | upper >> 2;
}

/* host's bytes at p, their ASCII letters in lower case (RFC 3261 19.1.4:
 * a host compares without case), eight at a time: the last eight bytes
 * as one word, which folds again what the words before it folded. */
static void
fold_host(char *p, struct sv host)
{
	size_t i = 0;
	uint64_t w;

	if (host.len < sizeof(w)) {
		for (; i < host.len; i++) {
			unsigned char c = (unsigned char)host.p[i];

			p[i] = (char)(c | (unsigned)((unsigned char)(c - 'A') <
			    26) << 5);
		}
		return;
	}
	for (; host.len - i > sizeof(w); i += sizeof(w)) {
		memcpy(&w, host.p + i, sizeof(w));
		w = fold8(w);
		memcpy(p + i, &w, sizeof(w));
	}
	memcpy(&w, host.p + host.len - sizeof(w), sizeof(w));
	w = fold8(w);
	memcpy(p + host.len - sizeof(w), &w, sizeof(w));
}

size_t
txn_server_key(struct msg *req, enum msg_method method, char *buf)
{
	const struct msg_via *v = msg_via_top(req);
	struct keybuf k = { buf, 0, false };
	struct sv m = method_sv(method, msg_method_name(req));

	if (v == NULL) {
		return 0;
	}
	struct sv br = msg_sv(req, v->branch);
	if (br.len > 7 && memcmp(br.p, COOKIE, 7) == 0) {
		/* every request looks this key up: its length is known, so it
		 * is checked once and written without a check per field */
		struct sv host = msg_sv(req, v->host);
		uint16_t port = v->port ? v->port : 5060;
		char *p = buf;

		if (2 + br.len + 1 + host.len + 1 + 3 + m.len + 1 >
		    TXN_KEY_MAX) {
			return 0;
		}
		*p++ = KEY_3261;
		*p++ = '|';
		memcpy(p, br.p, br.len);
		p += br.len;
		*p++ = '|';
		fold_host(p, host);
		p += host.len;
		*p++ = '|';
		/* the port as two bytes, not digits: fixed in length, so the
		 * fields stay apart, and not written out for each look-up */
		*p++ = (char)(port >> 8);
		*p++ = (char)(port & 0xff);
		*p++ = '|';
		memcpy(p, m.p, m.len);
		p += m.len;
		*p++ = '|';
		return (size_t)(p - buf);
	} else {
		/* RFC 3261 17.2.3, RFC 2543 fallback: Request-URI, From tag,
		 * Call-ID, CSeq number and the top Via.  The To tag is left
		 * out so the ACK, which carries the tag of our response,
		 * still finds its INVITE; txn_server_to_tag_ok() checks it
		 * after the lookup. */
		const struct msg_naddr *from = msg_from(req);
		const struct msg_cseq *cs = msg_cseq(req);
		char num[20];
		if (from == NULL || cs == NULL) {
			return 0;
		}
		put(&k, (const char[]){ KEY_2543, '|' }, 2);
		put_sv(&k, msg_sv(req, msg_ruri_span(req)));
		put_sv(&k, msg_sv(req, from->tag));
		put_sv(&k, msg_callid(req));
		put(&k, num, sv_utoa(cs->num, num));
		put(&k, "|", 1);
		put_sv(&k, m);
		put_sv(&k, msg_sv(req, v->value));
	}
	return k.over ? 0 : k.len;
}

size_t
txn_client_key(struct sv branch, enum msg_method method, char *buf)
{
	if (branch.len == 0 || branch.len > TXN_KEY_MAX - 4) {
		return 0;
	}
	if (method == MSG_ACK) {
		method = MSG_INVITE;
	}
	buf[0] = 'c';
	buf[1] = '|';
	memcpy(buf + 2, branch.p, branch.len);
	buf[2 + branch.len] = '|';
	/* the client side only sends methods it knows by id, and CANCEL's
	 * key differs from its INVITE's by the method alone: one byte,
	 * which no branch (a token) holds */
	buf[3 + branch.len] =
	    (char)(method == MSG_METHOD_OTHER ? 1 : 2 + (int)method);
	return 4 + branch.len;
}

static bool
same_to_tag(struct msg *a, struct msg *b)
{
	const struct msg_naddr *ta = msg_to(a);
	const struct msg_naddr *tb = msg_to(b);

	return ta != NULL && tb != NULL &&
	    sv_eq(msg_sv(a, ta->tag), msg_sv(b, tb->tag));
}

bool
txn_key_2543(const struct txn *x)
{
	return x->keylen > 0 && x->key[0] == KEY_2543;
}

bool
txn_server_to_tag_ok(struct txn *x, struct msg *req)
{
	struct msg *resp;
	bool ok;

	if (!txn_key_2543(x)) {
		return true;
	}
	if (msg_method(req) != MSG_ACK) {
		/* 17.2.3: the To tag of the request that made the
		 * transaction */
		return same_to_tag(req, x->req);
	}
	/* 17.2.3: "the To tag of the ACK matches the To tag of the
	 * response sent by the server transaction"; an RFC 2543 peer is
	 * rare, so the response is parsed again rather than kept */
	const char *b;
	char *tmp;

	if (x->rs == NULL || (b = txn_text_bytes(x->rs, &tmp)) == NULL) {
		return false;
	}
	resp = msg_parse(b, x->rs->len, NULL, NULL);
	free(tmp);
	if (resp == NULL) {
		return false;
	}
	ok = same_to_tag(req, resp);
	msg_free(resp);
	return ok;
}
