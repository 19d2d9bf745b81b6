/*
 * Unit tests for sipd/txn/match.c: a server transaction's key holds the
 * top Via's host in lower case (its letters folded eight at a time),
 * the same for every host as a fold byte by byte; the top Via line of
 * the bytes a server transaction keeps is found as a parse finds it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/msg/msg.h"
#include "sipd/txn/txn_int.h"

static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* Hostnames of one to six labels of letters of both cases (those at
 * the ends of the alphabet among them), digits and '-': the key's host
 * is the host with 'A'..'Z' made 'a'..'z', and nothing else changed. */
static void
test_server_key_host_folded(void **state)
{
	static const char alnum[] = "AZazbYyMmQq09";
	char host[90], want[90], text[512], key[TXN_KEY_MAX];
	uint64_t s = 11;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		int labels = 1 + (int)(rnd(&s) % 6), n;
		size_t hl = 0;

		for (int l = 0; l < labels; l++) {
			size_t ll = 1 + rnd(&s) % 12;

			if (l > 0) {
				host[hl++] = '.';
			}
			for (size_t i = 0; i < ll; i++) {
				/* a label ends in a letter or digit; the last
				 * one starts with a letter (RFC 3261 25.1) */
				bool edge = i == 0 || i + 1 == ll;
				host[hl++] = l + 1 == labels && i == 0
				    ? alnum[rnd(&s) % 11]
				    : edge || rnd(&s) % 4
				    ? alnum[rnd(&s) % 13]
				    : '-';
			}
		}
		for (size_t i = 0; i < hl; i++) {
			want[i] = host[i] >= 'A' && host[i] <= 'Z'
			    ? (char)(host[i] + 32)
			    : host[i];
		}
		n = snprintf(text, sizeof(text),
		    "OPTIONS sip:x@example.com SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %.*s:5070;branch=z9hG4bKabc\r\n"
		    "From: <sip:a@example.com>;tag=1\r\n"
		    "To: <sip:x@example.com>\r\n"
		    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
		    "Content-Length: 0\r\n\r\n",
		    (int)hl, host);
		struct msg *m = msg_parse(text, (size_t)n, NULL, NULL);
		assert_non_null(m);
		size_t kl = txn_server_key(m, MSG_OPTIONS, key);
		/* "s|z9hG4bKabc|" host "|" port "|" method "|" */
		assert_true(kl > 13 + hl);
		assert_memory_equal(key, "s|z9hG4bKabc|", 13);
		assert_memory_equal(key + 13, want, hl);
		assert_int_equal(key[13 + hl], '|');
		msg_free(m);
	}
}

/* txn_server_via() gives the value of the first Via line of the bytes a
 * server transaction keeps, as a parse of them finds it (msg_hdr_value()),
 * whatever the name's case, form and spacing, and nothing for a folded
 * line: a response's next Via is compared with it byte for byte. */
static void
test_server_via_as_parsed(void **state)
{
	static const struct {
		const char *lines; /* the header lines before From */
		bool found;
	} cases[] = {
		{ "Via: SIP/2.0/UDP h.example:5070;branch=z9hG4bKa;rport\r\n",
		    true },
		{ "v:SIP/2.0/UDP h;branch=z9hG4bKa\r\n", true },
		{ "vIA \t:  SIP/2.0/TCP h;branch=z9hG4bKa;received=1.2.3.4 \t\r\n",
		    true },
		{ "Vary: v\r\nVia-X: SIP/2.0/UDP x\r\nV: SIP/2.0/UDP h\r\n",
		    true },
		{ "Via: SIP/2.0/UDP a;branch=z9hG4bKa, SIP/2.0/UDP b\r\n"
		  "Via: SIP/2.0/UDP c\r\n", true },
		{ "Via: SIP/2.0/UDP a;branch=z9hG4bKa\n", true },
		{ "Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bKa\r\n", false },
		{ "Via:\r\n SIP/2.0/UDP h;branch=z9hG4bKa\r\n", false },
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text),
		    "OPTIONS sip:x@example.com SIP/2.0\r\n%s"
		    "From: <sip:a@example.com>;tag=1\r\n"
		    "To: <sip:x@example.com>\r\n"
		    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
		    "Content-Length: 0\r\n\r\n", cases[i].lines);
		struct msg *m = msg_parse(text, (size_t)n, NULL, NULL);
		struct txn *x = calloc(1, sizeof(*x));
		assert_non_null(m);
		assert_non_null(x);
		x->kind = TXN_SERVER;
		x->rq = txn_text_new(m);
		assert_non_null(x->rq);
		/* what a parse of the kept bytes finds */
		struct msg *k = msg_parse(x->rq->d, x->rq->len, NULL, NULL);
		assert_non_null(k);
		struct sv want = msg_hdr_value(k, HDR_VIA);
		struct sv got = txn_server_via(x);
		if (cases[i].found) {
			assert_int_equal(got.len, want.len);
			assert_memory_equal(got.p, want.p, want.len);
		} else {
			assert_int_equal(got.len, 0);
		}
		msg_free(k);
		msg_free(m);
		txn_text_unref(x->rq);
		free(x);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_key_host_folded),
		cmocka_unit_test(test_server_via_as_parsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
