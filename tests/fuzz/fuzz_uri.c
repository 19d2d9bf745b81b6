/*
 * fuzz_uri: uri_parse() on the whole input, then the parameter lookup, the
 * unescaping of user and password, and RFC 3261 19.1.4 equality.  A sip or
 * sips URI that parses must equal itself, and equal the same text parsed
 * from another buffer at another offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#define FUZZ_URI_MAX 16384
#define FUZZ_URI_SHIFT 3

static const char *const uri_params[] = {
    "transport", "lr", "user", "maddr", "ttl", "method", "ob", "gr",
};

static void
check_uri(const struct uri *u, size_t end)
{
	fuzz_span(u->all, end);
	fuzz_span(u->scheme_s, end);
	fuzz_span(u->user, end);
	fuzz_span(u->password, end);
	fuzz_span(u->host, end);
	fuzz_span(u->params, end);
	fuzz_span(u->headers, end);
	fuzz_span(u->opaque, end);
	FUZZ_CHECK(u->scheme <= URI_OTHER);
	FUZZ_CHECK(u->host_type <= URI_HOST_IPV6);
}

static void
unescape(const char *base, struct span s)
{
	char out[64];
	int rc;

	rc = uri_unescape((struct sv){base + s.off, s.len}, out, sizeof(out));
	FUZZ_CHECK(rc <= (int)sizeof(out));
	if (rc > 0) {
		fuzz_touch(out, (size_t)rc);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *base = (const char *)data;
	struct uri u, u2;
	struct sv v;
	char *copy;
	size_t i;
	int rc, rc2;

	if (size > FUZZ_URI_MAX) {
		return 0;
	}
	memset(&u, 0, sizeof(u));
	rc = uri_parse(base, (struct span){0, (uint32_t)size}, &u);
	if (rc != 0) {
		return 0;
	}
	check_uri(&u, size);
	for (i = 0; i < sizeof(uri_params) / sizeof(uri_params[0]); i++) {
		if (uri_param(base, &u, uri_params[i], &v) && v.len > 0) {
			FUZZ_CHECK(v.p >= base && v.p + v.len <= base + size);
			fuzz_touch(v.p, v.len);
		}
	}
	unescape(base, u.user);
	unescape(base, u.password);
	if (u.scheme != URI_SIP && u.scheme != URI_SIPS) {
		return 0;
	}
	FUZZ_CHECK(uri_equal(base, &u, base, &u));

	/* The same text at another offset of another buffer. */
	copy = malloc(size + FUZZ_URI_SHIFT);
	if (copy == NULL) {
		return 0;
	}
	memset(copy, 'x', FUZZ_URI_SHIFT);
	memcpy(copy + FUZZ_URI_SHIFT, data, size);
	memset(&u2, 0, sizeof(u2));
	rc2 =
	    uri_parse(copy, (struct span){FUZZ_URI_SHIFT, (uint32_t)size}, &u2);
	FUZZ_CHECK(rc2 == 0);
	check_uri(&u2, size + FUZZ_URI_SHIFT);
	FUZZ_CHECK(u2.scheme == u.scheme && u2.port == u.port);
	FUZZ_CHECK(uri_equal(base, &u, copy, &u2));
	FUZZ_CHECK(uri_equal(copy, &u2, base, &u));
	free(copy);
	return 0;
}
