/*
 * Conformance runner: parse one message file and compare the outcome with
 * its expectation.
 *
 *   run_conformance FILE EXPECTATION
 *
 * EXPECTATION is the one line of FILE's sidecar .expect:
 *   ok                   msg_parse() succeeds, msg_check() returns 0, and
 *                        msg_write() gives the input back byte for byte;
 *                        a request's response and the request with
 *                        received set on its top Via parse and check
 *   check STATUS REASON  msg_parse() succeeds, msg_check() fails with this
 *                        status and exactly this reason
 *   reject               msg_parse() returns NULL
 *
 * Exit status 0 when the outcome matches, 1 when it does not, 2 on usage or
 * I/O errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/msg/msg.h"

static char *
read_file(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "run_conformance: %s: %s\n", path,
		        strerror(errno));
		return NULL;
	}
	do {
		if (len == cap) {
			char *nb;

			cap = cap != 0 ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		goto fail;
	}
	fclose(fp);
	*lenp = len;
	return buf;
fail:
	fprintf(stderr, "run_conformance: %s: read error\n", path);
	free(buf);
	fclose(fp);
	return NULL;
}

static const char *
str_or_null(const char *s)
{
	return s != NULL ? s : "(null)";
}

/* msg_write() m and parse and check the bytes again. */
static int
reparse_ok(const struct msg *m, const char *what)
{
	struct msg_err err;
	struct msg *again;
	size_t sz = msg_size(m);
	char *out = malloc(sz + 1);
	int rc = 1;

	if (out == NULL || msg_write(m, out, sz) != (int)sz) {
		free(out);
		return 2;
	}
	memset(&err, 0, sizeof(err));
	again = msg_parse(out, sz, NULL, &err);
	if (again == NULL || msg_check(again, &err) != 0) {
		printf("FAIL: %s: %d %s\n", what, err.status,
		       str_or_null(err.reason));
	} else {
		rc = 0;
	}
	msg_free(again);
	free(out);
	return rc;
}

/*
 * What a server does to every valid request must work on it too: its
 * response (RFC 3261 8.2.6) and received/rport on its top Via (18.2.1,
 * RFC 3581), each of which must give a message that parses and checks.
 */
static int
expect_edits(struct msg *m)
{
	struct msg *resp = msg_response(m, 200, NULL, SV_LIT("t0"));
	int rc;

	if (resp == NULL) {
		printf("FAIL: msg_response refused the request\n");
		return 1;
	}
	rc = reparse_ok(resp, "its response does not parse");
	msg_free(resp);
	if (rc != 0) {
		return rc;
	}
	if (msg_via_set_received(m, SV_LIT("192.0.2.254"), 5999) != 0) {
		printf("FAIL: msg_via_set_received refused the request\n");
		return 1;
	}
	return reparse_ok(m, "with received set it does not parse");
}

static int
expect_ok(struct msg *m, const char *data, size_t len)
{
	struct msg_err err;
	size_t sz;
	char *out;
	int n, rc = 0;

	memset(&err, 0, sizeof(err));
	if (msg_check(m, &err) != 0) {
		printf("FAIL: msg_check: %d %s (offset %u), want ok\n",
		       err.status, str_or_null(err.reason), err.off);
		return 1;
	}
	sz = msg_size(m);
	out = malloc(sz + 1);
	if (out == NULL) {
		return 2;
	}
	n = msg_write(m, out, sz);
	if (n < 0 || (size_t)n != sz || sz != len ||
	    memcmp(out, data, len) != 0) {
		printf("FAIL: msg_write gave %d bytes (msg_size %zu), input %zu"
		       " bytes; not byte-identical\n",
		       n, sz, len);
		rc = 1;
	}
	free(out);
	if (rc == 0 && msg_is_request(m)) {
		rc = expect_edits(m);
	}
	if (rc == 0) {
		printf("ok: parsed, checked, serialized identically\n");
	}
	return rc;
}

static int
expect_check(struct msg *m, const char *spec)
{
	struct msg_err err;
	char *end;
	long status;
	const char *reason;
	int rc;

	status = strtol(spec, &end, 10);
	if (end == spec || *end != ' ') {
		fprintf(stderr, "run_conformance: bad expectation 'check %s'\n",
		        spec);
		return 2;
	}
	reason = end + 1;
	memset(&err, 0, sizeof(err));
	rc = msg_check(m, &err);
	if (rc == 0) {
		printf("FAIL: msg_check passed, want %ld %s\n", status, reason);
		return 1;
	}
	if (rc != -EINVAL || err.status != status || err.reason == NULL ||
	    strcmp(err.reason, reason) != 0) {
		printf("FAIL: msg_check returned %d: %d \"%s\", want %ld "
		       "\"%s\"\n",
		       rc, err.status, str_or_null(err.reason), status, reason);
		return 1;
	}
	printf("ok: msg_check %d %s\n", err.status, err.reason);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *expect;
	struct msg_err err;
	struct msg *m;
	char *data;
	size_t len;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: run_conformance FILE EXPECTATION\n");
		return 2;
	}
	expect = argv[2];
	if (strcmp(expect, "ok") != 0 && strcmp(expect, "reject") != 0 &&
	    strncmp(expect, "check ", 6) != 0) {
		fprintf(stderr, "run_conformance: bad expectation '%s'\n",
		        expect);
		return 2;
	}
	data = read_file(argv[1], &len);
	if (data == NULL) {
		return 2;
	}

	memset(&err, 0, sizeof(err));
	m = msg_parse(data, len, NULL, &err);
	if (strcmp(expect, "reject") == 0) {
		if (m != NULL) {
			printf("FAIL: msg_parse accepted the message, want "
			       "reject\n");
			rc = 1;
		} else {
			printf("ok: rejected: %d %s (offset %u)\n", err.status,
			       str_or_null(err.reason), err.off);
			rc = 0;
		}
	} else if (m == NULL) {
		printf("FAIL: msg_parse rejected: %d %s (offset %u), want %s\n",
		       err.status, str_or_null(err.reason), err.off, expect);
		rc = 1;
	} else if (strcmp(expect, "ok") == 0) {
		rc = expect_ok(m, data, len);
	} else {
		rc = expect_check(m, expect + 6);
	}
	msg_free(m);
	free(data);
	return rc;
}
