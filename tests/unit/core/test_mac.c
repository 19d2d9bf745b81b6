/*
 * Signatures (sipd/core/mac.c): core_mac_sign() is SipHash-2-4 with the
 * 128-bit output, truncated to 96 bits, over the label and each part
 * with its length.  Checked against the published vectors (key 00..0f,
 * message 00..n-1) and against OpenSSL's SipHash over the same bytes for
 * parts of every length that splits an 8-byte word; a signature with
 * any digit changed, a part changed, another label or another key is
 * refused, and one in upper case is accepted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sipd/core/core_int.h"

static const uint8_t key[CORE_MAC_KEY] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	10, 11, 12, 13, 14, 15 };

/* OpenSSL's SipHash-2-4, 16 bytes out, as the lower-case hex of 12 */
static void
ref_sign(const uint8_t *k, const uint8_t *msg, size_t len,
    char out[CORE_MAC_HEX])
{
	static const char hex[] = "0123456789abcdef";
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx;
	size_t size = 16, flen = 0;
	uint8_t full[16];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};

	assert_non_null(mac);
	ctx = EVP_MAC_CTX_new(mac);
	assert_non_null(ctx);
	assert_int_equal(EVP_MAC_CTX_set_params(ctx, params), 1);
	assert_int_equal(EVP_MAC_init(ctx, k, CORE_MAC_KEY, NULL), 1);
	assert_int_equal(EVP_MAC_update(ctx, msg, len), 1);
	assert_int_equal(EVP_MAC_final(ctx, full, &flen, sizeof(full)), 1);
	assert_int_equal(flen, 16);
	for (size_t i = 0; i < CORE_MAC_HEX / 2; i++) {
		out[2 * i] = hex[full[i] >> 4];
		out[2 * i + 1] = hex[full[i] & 0xf];
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* the reference's vectors_sip128 (veorq/SipHash vectors.h): what the
 * parts are checked against is SipHash-2-4-128 itself */
static void
test_vectors(void **state)
{
	/* SipHash-2-4-128, key 00..0f: empty message, and 00..0e */
	static const char *const want[] = {
		"a3817f04ba25a8e66df67214",
		"5493e99933b0a8117e08ec0f",
	};
	struct core_mac *m = core_mac_new_key(key);
	char ref[CORE_MAC_HEX];
	uint8_t msg[15];

	(void)state;
	assert_non_null(m);
	ref_sign(key, msg, 0, ref);
	assert_memory_equal(ref, want[0], CORE_MAC_HEX);
	for (size_t i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)i;
	}
	ref_sign(key, msg, sizeof(msg), ref);
	assert_memory_equal(ref, want[1], CORE_MAC_HEX);
	core_mac_free(m);
}

/* every split of parts across 8-byte words against OpenSSL */
static void
test_parts(void **state)
{
	struct core_mac *m = core_mac_new_key(key);
	uint8_t data[64], msg[1 + 4 * (4 + 64)];
	char got[CORE_MAC_HEX], ref[CORE_MAC_HEX];

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 37 + 11);
	}
	for (int n = 0; n <= 4; n++) {
		for (size_t a = 0; a <= 24; a++) {
			for (size_t b = 0; b <= 17; b++) {
				struct sv parts[4];
				size_t len = 0;
				msg[len++] = 'x';
				for (int i = 0; i < n; i++) {
					size_t l = (i % 2 ? b : a) + (size_t)i;
					parts[i] = (struct sv){
						(const char *)data + i, l };
					msg[len++] = (uint8_t)(l >> 24);
					msg[len++] = (uint8_t)(l >> 16);
					msg[len++] = (uint8_t)(l >> 8);
					msg[len++] = (uint8_t)l;
					memcpy(msg + len, data + i, l);
					len += l;
				}
				assert_int_equal(
				    core_mac_sign(m, 'x', parts, n, got), 0);
				ref_sign(key, msg, len, ref);
				assert_memory_equal(got, ref, CORE_MAC_HEX);
			}
		}
	}
	core_mac_free(m);
}

/* parts longer than the state's buffer, and lists that fill it at
 * every offset */
static void
test_long(void **state)
{
	struct core_mac *m = core_mac_new_key(key);
	uint8_t data[402], msg[1 + 3 * (4 + 400)];
	char got[CORE_MAC_HEX], ref[CORE_MAC_HEX];

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 101 + 3);
	}
	for (size_t a = 100; a <= 400; a += 7) {
		for (size_t b = 0; b <= 140; b += 3) {
			const struct sv parts[3] = {
				{ (const char *)data, a },
				{ (const char *)data + 1, b },
				{ (const char *)data + 2, (a + b) % 400 },
			};
			size_t len = 0;
			msg[len++] = 'y';
			for (int i = 0; i < 3; i++) {
				size_t l = parts[i].len;
				msg[len++] = (uint8_t)(l >> 24);
				msg[len++] = (uint8_t)(l >> 16);
				msg[len++] = (uint8_t)(l >> 8);
				msg[len++] = (uint8_t)l;
				memcpy(msg + len, parts[i].p, l);
				len += l;
			}
			assert_int_equal(core_mac_sign(m, 'y', parts, 3, got),
			    0);
			ref_sign(key, msg, len, ref);
			assert_memory_equal(got, ref, CORE_MAC_HEX);
		}
	}
	core_mac_free(m);
}

static void
test_refused(void **state)
{
	uint8_t other[CORE_MAC_KEY];
	struct core_mac *m = core_mac_new_key(key), *o;
	const struct sv parts[2] = { { "a84b4c76e66710", 14 },
		{ "1928301774", 10 } };
	struct sv moved[2] = { { "a84b4c76e66710", 13 },
		{ "41928301774", 11 } };
	char sig[CORE_MAC_HEX], bad[CORE_MAC_HEX], x[CORE_MAC_HEX];

	(void)state;
	memcpy(other, key, sizeof(other));
	other[15] ^= 1;
	o = core_mac_new_key(other);
	assert_non_null(m);
	assert_non_null(o);
	assert_int_equal(core_mac_sign(m, 'r', parts, 2, sig), 0);
	assert_true(core_mac_verify(m, 'r', parts, 2,
	    (struct sv){ sig, CORE_MAC_HEX }));
	/* upper case: the same signature */
	for (size_t i = 0; i < CORE_MAC_HEX; i++) {
		bad[i] = sig[i] >= 'a' ? (char)(sig[i] - 'a' + 'A') : sig[i];
	}
	assert_true(core_mac_verify(m, 'r', parts, 2,
	    (struct sv){ bad, CORE_MAC_HEX }));
	/* any digit changed */
	for (size_t i = 0; i < CORE_MAC_HEX; i++) {
		memcpy(bad, sig, sizeof(bad));
		bad[i] = bad[i] == '0' ? '1' : '0';
		assert_false(core_mac_verify(m, 'r', parts, 2,
		    (struct sv){ bad, CORE_MAC_HEX }));
	}
	/* too short, too long */
	assert_false(core_mac_verify(m, 'r', parts, 2,
	    (struct sv){ sig, CORE_MAC_HEX - 1 }));
	/* another label, a byte moved from one part to the next, one
	 * part fewer, another key */
	assert_false(core_mac_verify(m, 'b', parts, 2,
	    (struct sv){ sig, CORE_MAC_HEX }));
	assert_false(core_mac_verify(m, 'r', moved, 2,
	    (struct sv){ sig, CORE_MAC_HEX }));
	assert_false(core_mac_verify(m, 'r', parts, 1,
	    (struct sv){ sig, CORE_MAC_HEX }));
	assert_int_equal(core_mac_sign(o, 'r', parts, 2, x), 0);
	assert_memory_not_equal(x, sig, CORE_MAC_HEX);
	core_mac_free(o);
	core_mac_free(m);
}

/* the key drawn at start: two secrets, two keys */
static void
test_derived(void **state)
{
	uint8_t s1[32] = { 1 }, s2[32] = { 2 };
	struct core_mac *a = core_mac_new(s1, sizeof(s1));
	struct core_mac *b = core_mac_new(s2, sizeof(s2));
	struct core_mac *r = core_mac_new_key(key);
	const struct sv part = { "z9hG4bKs0.1.2", 13 };
	char x[CORE_MAC_HEX], y[CORE_MAC_HEX], z[CORE_MAC_HEX];

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(r);
	assert_int_equal(core_mac_sign(a, 'b', &part, 1, x), 0);
	assert_int_equal(core_mac_sign(b, 'b', &part, 1, y), 0);
	assert_int_equal(core_mac_sign(r, 'b', &part, 1, z), 0);
	assert_memory_not_equal(x, y, CORE_MAC_HEX);
	assert_memory_not_equal(x, z, CORE_MAC_HEX);
	core_mac_free(a);
	core_mac_free(b);
	core_mac_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_derived),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
