/*
 * fuzz_conf: the configuration file as sipd reads it.  The input is a
 * script; each line goes through conf_exec() (the lexer, the command
 * table's parser and the configuration's handlers) against one
 * configuration, as conf_load() does, errors and all.  Checks: a failed
 * line has a message and leaves the configuration as it was (its listing
 * unchanged); and the listing of what was built (conf_dump(), secrets
 * included) runs again line by line without an error into a fresh
 * configuration whose listing is the same (DESIGN.md: a listing of the
 * running configuration reloads to the same state).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sipd/conf.h"
#include "sipd/log.h"

#define FUZZ_CONF_MAX 8192
#define FUZZ_CONF_LINES 64

/* c's full listing, malloc'ed (NULL when memory runs out). */
static char *
listing(const struct conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f;

	f = open_memstream(&text, len);
	if (f == NULL) {
		return NULL;
	}
	if (conf_dump_all(c, f, true, true) != 0) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Run every line of text into c; every one must pass. */
static void
replay(struct conf *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	char err[512];
	int rc;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			nl = end;
		}
		err[0] = '\0';
		rc = conf_exec(c, p, (size_t)(nl - p), err, sizeof(err));
		if (rc != 0 && rc != -ENOMEM) {
			fprintf(stderr, "listing line does not load: "
			    "%.*s (%s)\n", (int)(nl - p), p, err);
		}
		FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct conf *c, *d;
	char *before = NULL, *after = NULL, *again = NULL;
	size_t blen = 0, alen = 0, glen = 0;
	char err[512];
	unsigned lines = 0;
	int rc;

	if (size > FUZZ_CONF_MAX) {
		return 0;
	}
	log_set_level(LOG_SERVER, LOG_LEVEL_NONE);
	log_set_level(LOG_CLIENT, LOG_LEVEL_NONE);
	log_set_level(LOG_TRANSPORT, LOG_LEVEL_NONE);
	c = malloc(sizeof(*c));
	d = malloc(sizeof(*d));
	if (c == NULL || d == NULL) {
		free(c);
		free(d);
		return 0;
	}
	conf_init(c);
	conf_init(d);
	while (p < end && lines++ < FUZZ_CONF_LINES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			nl = end;
		}
		before = listing(c, &blen);
		err[0] = '\0';
		rc = conf_exec(c, p, (size_t)(nl - p), err, sizeof(err));
		if (rc < 0 && rc != -ENOMEM) {
			FUZZ_CHECK(err[0] != '\0');
			fuzz_touch(err, strlen(err));
			/* a refused line changes nothing */
			after = listing(c, &alen);
			if (before != NULL && after != NULL) {
				FUZZ_CHECK(alen == blen &&
				    memcmp(after, before, blen) == 0);
			}
			free(after);
			after = NULL;
		}
		FUZZ_CHECK(rc <= 0);
		free(before);
		before = NULL;
		p = nl + 1;
	}

	after = listing(c, &alen);
	if (after != NULL) {
		replay(d, after, alen);
		again = listing(d, &glen);
		if (again != NULL && (glen != alen ||
					 memcmp(again, after, alen) != 0)) {
			fprintf(stderr, "--- built\n%.*s--- reloaded\n%.*s",
			    (int)alen, after, (int)glen, again);
			FUZZ_CHECK(!"the listing reloads to another state");
		}
	}
	free(after);
	free(again);
	conf_fini(c);
	conf_fini(d);
	free(c);
	free(d);
	return 0;
}
