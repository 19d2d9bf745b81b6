/*
 * Unit tests for sipd/txn/text.c: a forwarded request kept as an edit
 * script over the request received, made from where its bytes come from
 * (txn_text_edited(), msg_write_runs()).  Over many random edit sets, the
 * script expands to exactly what msg_write() writes, and it is no longer
 * than the one the matching of the two texts' lines makes
 * (txn_text_delta()) for the edits a proxy makes.
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
#include "sipd/msg/msg_int.h"
#include "sipd/txn/txn_int.h"

static const char invite[] =
    "INVITE sip:bob@192.0.2.4:5070;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-3-1-0;rport\r\n"
    "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK77ef4c2312983.1\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"alice\" <sip:alice@192.0.2.1:5062>;tag=3-1\r\n"
    "To: <sip:bob@192.0.2.4:5070>\r\n"
    "Call-ID: 3-1@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1:5062>\r\n"
    "Record-Route: <sip:192.0.2.9;lr>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 62\r\n"
    "\r\n"
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

/* A small generator of its own: the same sets on every run. */
static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static struct msg *
parse(const char *p, size_t n)
{
	struct msg *m = msg_parse(p, n, NULL, NULL);

	assert_non_null(m);
	return m;
}

/* The index of a random live header line of m, or -1 when it has none. */
static int
live_hdr(const struct msg *m, uint64_t *s)
{
	int n = 0, k;

	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		n++;
	}
	if (n == 0) {
		return -1;
	}
	k = (int)(rnd(s) % (uint32_t)n);
	for (int32_t i = m->ohead; i >= 0; i = m->onext[i]) {
		if (k-- == 0) {
			return i;
		}
	}
	return -1;
}

static const char *const values[] = {
	"SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKs0.1a2b3c4d5e6f7a8b",
	"<sip:192.0.2.7;lr;sig=0123456789abcdef>",
	"69",
	"<sip:carol@192.0.2.8>",
	"x",
	"",
	"application/sdp",
};

/* One random edit of m, of the kinds a proxy makes and some it does
 * not. */
static void
edit(struct msg *m, uint64_t *s)
{
	const char *v = values[rnd(s) % (sizeof(values) / sizeof(*values))];
	struct sv sv = { v, strlen(v) };
	char buf[512];
	int i;

	switch (rnd(s) % 8) {
	case 0:
		(void)msg_via_push(m, sv);
		break;
	case 1:
		i = live_hdr(m, s);
		(void)msg_hdr_insert(m, i, rnd(s) % 2 ? "Record-Route"
						      : "X-Extra", sv);
		break;
	case 2:
		/* a line changed a little: its value with more at the end,
		 * or with less */
		i = live_hdr(m, s);
		if (i >= 0) {
			struct sv old = msg_sv(m, m->hdrs[i].value);
			size_t keep = old.len > 0 ? rnd(s) % (old.len + 1) : 0;

			if (keep > 200) {
				keep = 200;
			}
			memcpy(buf, old.p, keep);
			memcpy(buf + keep, ";received=192.0.2.3", 19);
			(void)msg_hdr_replace(m, i,
			    (struct sv){ buf, keep + (rnd(s) % 2 ? 19 : 0) });
		}
		break;
	case 3:
		i = live_hdr(m, s);
		if (i >= 0) {
			(void)msg_hdr_replace(m, i, sv);
		}
		break;
	case 4:
		i = live_hdr(m, s);
		if (i >= 0) {
			(void)msg_hdr_remove(m, i);
		}
		break;
	case 5:
		(void)msg_set_ruri(m, (struct sv){ "sip:bob@192.0.2.8", 17 });
		break;
	case 6:
		(void)msg_via_set_received(m, (struct sv){ "192.0.2.3", 9 },
		    5062);
		break;
	default:
		if (rnd(s) % 4 == 0) {
			(void)msg_set_body(m, NULL, (struct sv){ "v=0\r\n", 5 });
		} else {
			(void)msg_via_pop(m);
		}
		break;
	}
}

/* The bytes a script takes: its operations until they make len bytes. */
static size_t
script_len(const struct txn_text *x)
{
	const uint8_t *p = (const uint8_t *)x->d, *p0 = p;
	uint32_t n = 0;

	while (n < x->len) {
		uint32_t v = 0, l;
		int shift = 0;

		do {
			v |= (uint32_t)(*p & 0x7f) << shift;
			shift += 7;
		} while (*p++ & 0x80);
		l = v >> 1;
		if (v & 1) {
			while (*p++ & 0x80) {
				/* the offset */
			}
		} else {
			p += l;
		}
		n += l;
	}
	return (size_t)(p - p0);
}

struct tally {
	unsigned sets, scripts, longer;
	size_t worst, sum_new, sum_old;
};

/*
 * m, base's message after its edits, as txn_text_edited() keeps it:
 * the same bytes as msg_write()'s; its script's length beside the line
 * matching's noted in t.
 */
static void
check_edited(struct txn_text *base, struct msg *m, struct tally *t,
    bool proxy)
{
	char want[4096], buf[TXN_TEXT_BUF], *tmp, *tmp2;
	const char *bytes, *got;
	int w = msg_write(m, want, sizeof(want));
	struct txn_text *x, *old;

	assert_true(w > 0);
	x = txn_text_edited(base, m, buf, sizeof(buf), &bytes, &tmp);
	assert_non_null(x);
	assert_int_equal(x->len, (uint32_t)w);
	assert_memory_equal(bytes, want, (size_t)w);
	got = txn_text_bytes(x, &tmp2);
	assert_non_null(got);
	assert_memory_equal(got, want, (size_t)w);
	free(tmp2);
	free(tmp);
	t->sets++;
	old = txn_text_delta(base, want, (uint32_t)w);
	if (x->base != NULL) {
		size_t n = script_len(x);
		size_t o = old != NULL ? script_len(old) : (size_t)w;

		t->scripts++;
		t->sum_new += n;
		t->sum_old += o;
		if (n > o) {
			t->longer++;
			t->worst = n - o > t->worst ? n - o : t->worst;
			/* what a proxy does to a request is never longer */
			assert_false(proxy);
		}
	} else {
		/* kept whole only where the matching finds nothing shorter */
		assert_null(old);
	}
	txn_text_unref(old);
	txn_text_unref(x);
}

/* Random edit sets over the received request, as the first branch
 * forwards it (its own message) and as a later one does (a copy parsed
 * from the text kept), and over a text written after an edit. */
static void
test_edited_random(void **state)
{
	struct tally t = { 0 };
	uint64_t s = 1;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct msg *rx = parse(invite, sizeof(invite) - 1);
		struct msg *m = rx;
		struct txn_text *base;
		int kind = round % 3, n = 1 + (int)(rnd(&s) % 6);

		if (kind == 2) {
			/* the text written after an edit: the runs are not
			 * its bytes, and the lines are matched instead */
			edit(rx, &s);
		}
		base = txn_text_new(rx);
		assert_non_null(base);
		if (kind == 1) {
			m = msg_compact(rx);
			assert_non_null(m);
			msg_free(rx);
		}
		for (int i = 0; i < n; i++) {
			edit(m, &s);
		}
		check_edited(base, m, &t, false);
		msg_free(m);
		txn_text_unref(base);
	}
	print_message("%u sets, %u scripts, %u longer than the line "
		      "matching's (by %zu bytes at most); %zu bytes against "
		      "%zu\n",
	    t.sets, t.scripts, t.longer, t.worst, t.sum_new, t.sum_old);
}

/* What a proxy does: received and rport on the top Via (before the
 * request is kept, or after), Max-Forwards
 * less one, a Record-Route and its Via on top, and sometimes a new
 * Request-URI or a Route. */
static void
test_edited_proxy(void **state)
{
	struct tally t = { 0 };
	uint64_t s = 7;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct msg *m = parse(invite, sizeof(invite) - 1);
		struct txn_text *base;
		int mf = msg_hdr_first(m, HDR_MAX_FORWARDS);

		/* received and rport before the server transaction keeps
		 * the request, as sipd does, or after */
		bool before = rnd(&s) % 2;
		if (before) {
			assert_int_equal(msg_via_set_received(m,
			    (struct sv){ "192.0.2.3", 9 }, 5062), 0);
		}
		base = txn_text_new(m);
		assert_non_null(base);
		if (!before && rnd(&s) % 2) {
			assert_int_equal(msg_via_set_received(m,
			    (struct sv){ "192.0.2.3", 9 }, 5062), 0);
		}
		assert_int_equal(msg_hdr_replace(m, mf,
		    (struct sv){ "69", 2 }), 0);
		if (rnd(&s) % 2) {
			assert_int_equal(msg_set_ruri(m,
			    (struct sv){ "sip:bob@192.0.2.8:5080", 22 }), 0);
		}
		if (rnd(&s) % 2) {
			assert_true(msg_hdr_insert(m, msg_hdr_first(m,
			    HDR_ROUTE), "Route", (struct sv){
			    "<sip:192.0.2.10;lr>", 19 }) >= 0);
		}
		assert_true(msg_hdr_insert(m, msg_hdr_first(m,
		    HDR_RECORD_ROUTE), "Record-Route",
		    (struct sv){ values[1], strlen(values[1]) }) >= 0);
		assert_true(msg_via_push(m,
		    (struct sv){ values[0], strlen(values[0]) }) >= 0);
		check_edited(base, m, &t, true);
		msg_free(m);
		txn_text_unref(base);
	}
	assert_int_equal(t.scripts, 200);
	print_message("proxy: %zu bytes of script against %zu\n", t.sum_new,
	    t.sum_old);
}


/*
 * Texts of random lines (short and long, up to 300 of them, with and
 * without a final line feed) and the same with some lines changed,
 * added or removed: txn_text_delta()'s script expands to the bytes.
 */
static void
test_delta_random(void **state)
{
	static char a[16384], b[16384];
	uint64_t s = 3;
	unsigned scripts = 0;
	size_t sum = 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint32_t na = 0, nbytes = 0;
		int lines = 1 + (int)(rnd(&s) % (round % 10 == 0 ? 300 : 30));

		for (int i = 0; i < lines; i++) {
			/* one draw a statement: the same texts whatever order
			 * a compiler evaluates operands in */
			uint32_t lmax = rnd(&s) % 4 == 0 ? 60 : 12;
			uint32_t ll = rnd(&s) % lmax, start = na;

			for (uint32_t k = 0; k < ll; k++) {
				a[na++] = (char)('a' + rnd(&s) % 3);
			}
			if (i + 1 < lines || rnd(&s) % 2) {
				a[na++] = '\n';
			}
			/* b: the line kept, changed, dropped, or one added */
			switch (rnd(&s) % 6) {
			case 0:
				break;
			case 1:
				memcpy(b + nbytes, "Via: x\n", 7);
				nbytes += 7;
				/* fall through */
			default:
				memcpy(b + nbytes, a + start, na - start);
				nbytes += na - start;
				break;
			case 2:
				memcpy(b + nbytes, a + start, na - start);
				b[nbytes + (na - start) / 2] = 'z';
				nbytes += na - start;
				break;
			}
		}
		struct txn_text *base = txn_text_copy(a, na);
		struct txn_text *x = txn_text_delta(base, b, nbytes);

		assert_non_null(base);
		if (x != NULL) {
			char *tmp;
			const char *got = txn_text_bytes(x, &tmp);

			assert_non_null(got);
			assert_memory_equal(got, b, nbytes);
			free(tmp);
			scripts++;
			sum += script_len(x);
		}
		txn_text_unref(x);
		txn_text_unref(base);
	}
	/* what the line matching made when it found a base's lines with
	 * a memchr() a line: the same scripts */
	assert_int_equal(scripts, 1751);
	assert_int_equal(sum, 175573);
}

/*
 * Provisional responses to the INVITE (with its body), as a UAS writes
 * them, with lines of its own (a Contact, a Record-Route, lines that
 * share their start with the INVITE's body): a script over the INVITE's
 * text expands to the bytes, and their total length is what it was when
 * the INVITE's body was looked through line by line.
 */
static void
test_delta_responses(void **state)
{
	static const char *const names[] = {
		"Contact", "Record-Route", "Allow", "v", "o", "Content-Type",
		"Via",
	};
	static const char *const vals[] = {
		"<sip:bob@192.0.2.4:5070>", "<sip:192.0.2.7;lr>", "0",
		"- 1 1 IN IP4 192.0.2.1", "application/sdp", "INVITE, ACK",
		"SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK77ef4c2312983.1",
	};
	struct msg *req = parse(invite, sizeof(invite) - 1);
	struct txn_text *base = txn_text_new(req);
	size_t sum = 0;
	unsigned scripts = 0;
	uint64_t s = 5;

	(void)state;
	assert_non_null(base);
	for (int round = 0; round < 500; round++) {
		char buf[4096], tag[16];
		struct msg_line x[4];
		size_t nx = rnd(&s) % 5;
		int n;

		for (size_t i = 0; i < nx; i++) {
			const char *v = vals[rnd(&s) % 7];

			x[i] = (struct msg_line){ names[rnd(&s) % 7],
				{ v, strlen(v) } };
		}
		snprintf(tag, sizeof(tag), "%u", rnd(&s));
		n = msg_response_write(req, 180 + (int)(rnd(&s) % 4), NULL,
		    (struct sv){ tag, strlen(tag) }, NULL, (struct sv){ 0 },
		    buf, sizeof(buf));
		assert_true(n > 0);
		n = msg_response_add_lines(buf, (size_t)n, sizeof(buf), x, nx);
		assert_true(n > 0);

		struct txn_text *t = txn_text_delta(base, buf, (uint32_t)n);
		if (t != NULL) {
			char *tmp;
			const char *got = txn_text_bytes(t, &tmp);

			assert_non_null(got);
			assert_memory_equal(got, buf, (size_t)n);
			free(tmp);
			scripts++;
			sum += script_len(t);
		}
		txn_text_unref(t);
	}
	/* what the matching made when it looked through the INVITE's
	 * body line by line: no longer */
	assert_int_equal(scripts, 500);
	assert_int_equal(sum, 59342);
	txn_text_unref(base);
	msg_free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edited_random),
		cmocka_unit_test(test_edited_proxy),
		cmocka_unit_test(test_delta_random),
		cmocka_unit_test(test_delta_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
