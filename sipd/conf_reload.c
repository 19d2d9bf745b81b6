/*
 * What a reload changes: the difference between the running
 * configuration and the one the file gives now, written as the commands
 * that turn one into the other (the lines of the new listing that the old
 * one lacks; for an entry the file no longer holds, the command that
 * removes it), and the file's line behind each, so that an error met
 * while applying them is reported as FILE:LINE like one met while
 * reading.  The keys are confsave.c's (conf_line_key()).  Owns nothing
 * between calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/lex.h"
#include "sipd/conf.h"

#define RKEY_MAX 600
/* values shorter than this name nothing in an error message ("udp") */
#define BLAME_MIN 4

/* One line of a listing or of the file, and its key. */
struct rline {
	const char *text;
	size_t len;
	char key[RKEY_MAX];
};

struct rlines {
	char *buf;
	size_t size;
	struct rline *v;
	int n;
};

static void
rlines_free(struct rlines *l)
{
	free(l->v);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Split l->buf into keyed lines. */
static int
rlines_split(struct rlines *l)
{
	const char *p = l->buf, *end = l->buf + l->size;
	int cap = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (l->n == cap) {
			int ncap = cap > 0 ? cap * 2 : 64;
			struct rline *v = realloc(l->v, (size_t)ncap *
			    sizeof(*v));

			if (v == NULL) {
				return -ENOMEM;
			}
			l->v = v;
			cap = ncap;
		}
		l->v[l->n].text = p;
		l->v[l->n].len = n;
		if (conf_line_key(p, n, l->v[l->n].key, RKEY_MAX) == -ENOMEM) {
			return -ENOMEM;
		}
		l->n++;
		p += n + (nl != NULL ? 1 : 0);
	}
	return 0;
}

/* c's whole listing (every setting, defaults too), keyed. */
static int
rlines_listing(struct rlines *l, const struct conf *c, bool secrets)
{
	FILE *f = open_memstream(&l->buf, &l->size);
	int rc;

	if (f == NULL) {
		return -errno;
	}
	rc = conf_dump_all(c, f, true, secrets);
	if (fclose(f) != 0 && rc == 0) {
		rc = -EIO;
	}
	return rc < 0 ? rc : rlines_split(l);
}

static const struct rline *
rlines_key(const struct rlines *l, const char *key)
{
	for (int i = 0; i < l->n; i++) {
		if (l->v[i].key[0] != '\0' && strcmp(l->v[i].key, key) == 0) {
			return &l->v[i];
		}
	}
	return NULL;
}

static bool
rlines_has(const struct rlines *l, const struct rline *x)
{
	const struct rline *y = rlines_key(l, x->key);

	return y != NULL && y->len == x->len &&
	    memcmp(y->text, x->text, x->len) == 0;
}

/*
 * The command that takes the entry of line text[0..len) away, next
 * being the configuration it goes to, into f; nothing for a line that
 * has no such command (a setting: next's listing sets it).
 */
static void
undo_line(const char *text, size_t len, const struct conf *next, FILE *f)
{
	struct cmd_args *a = malloc(sizeof(*a));
	const struct cmd *rm = NULL;
	const char *name, *tail = NULL;
	struct lex_line lx;
	char words[CMD_NAME_MAX * CMD_MAX_WORDS];
	int take = 0, comp;

	if (a == NULL) {
		return;
	}
	if (lex_split(&lx, text, len, 0, NULL) < 0 || lx.count == 0 ||
	    cmd_parse(a, lx.words, lx.count, CF_LOCAL, NULL, 0) < 0) {
		goto out;
	}
	name = a->cmd->name;
	switch (a->cmd->id) {
	case CMD_LOG_LEVEL:
		comp = log_comp_lookup(cmd_arg_str(a, "component"));
		if (comp >= 0) {
			fprintf(f, "log level %s %s\n", cmd_arg_str(a,
			    "component"), log_level_name(next->levels[comp]));
		}
		goto out;
	case CMD_DOMAIN_DISABLE:
		rm = cmd_by_name("domain enable", strlen("domain enable"));
		break;
	case CMD_ACCOUNT_DISABLE:
		rm = cmd_by_name("account enable", strlen("account enable"));
		break;
	case CMD_CONTROL_ALLOW:
		rm = cmd_by_name("control disallow",
		    strlen("control disallow"));
		break;
	case CMD_ACCOUNT_FORWARD:
		rm = a->cmd;
		take = 1;
		tail = "none";
		break;
	default:
		/* "X add" is undone by "X remove" */
		if (strlen(name) > 4 &&
		    strcmp(name + strlen(name) - 4, " add") == 0) {
			snprintf(words, sizeof(words), "%.*s remove",
			    (int)(strlen(name) - 4), name);
			rm = cmd_by_name(words, strlen(words));
		}
		break;
	}
	if (rm == NULL) {
		goto out;
	}
	if (take == 0) {
		struct cmd_argspec spec[CMD_MAX_ARGS];
		int n = cmd_spec(rm, spec, CMD_MAX_ARGS);

		for (int i = 0; i < n; i++) {
			take += spec[i].kw[0] == '\0' && !spec[i].optional;
		}
	}
	fputs(rm->name, f);
	for (int i = 0; i < a->n && take > 0; i++) {
		if (a->spec[i].kw[0] != '\0' || a->val[i].s == NULL) {
			continue;
		}
		fputc(' ', f);
		lex_word_out(f, a->val[i].s);
		take--;
	}
	if (tail != NULL) {
		fprintf(f, " %s", tail);
	}
	fputc('\n', f);
out:
	lex_fini(&lx);
	free(a);
}

int
conf_reload_diff(const struct conf *cur, const struct conf *next,
    char **out)
{
	struct rlines was = { 0 }, now = { 0 }, shown = { 0 };
	size_t olen = 0;
	FILE *f = NULL;
	int rc;

	*out = NULL;
	/* compared with their digests, shown without */
	if ((rc = rlines_listing(&was, cur, true)) < 0 ||
	    (rc = rlines_listing(&now, next, true)) < 0 ||
	    (rc = rlines_listing(&shown, next, false)) < 0) {
		goto out;
	}
	if (shown.n != now.n) {
		rc = -EIO;
		goto out;
	}
	f = open_memstream(out, &olen);
	if (f == NULL) {
		rc = -errno;
		goto out;
	}
	/* what goes, last first (an account before its domain) */
	for (int i = was.n; i-- > 0;) {
		if (was.v[i].key[0] != '\0' &&
		    rlines_key(&now, was.v[i].key) == NULL) {
			undo_line(was.v[i].text, was.v[i].len, next, f);
		}
	}
	/* then what comes or changes, in the listing's order */
	for (int i = 0; i < now.n; i++) {
		if (now.v[i].key[0] != '\0' && !rlines_has(&was, &now.v[i])) {
			fprintf(f, "%.*s\n", (int)shown.v[i].len,
			    shown.v[i].text);
		}
	}
	if (fclose(f) != 0) {
		rc = -ENOMEM;
	}
	f = NULL;
out:
	if (f != NULL) {
		fclose(f);
	}
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	rlines_free(&was);
	rlines_free(&now);
	rlines_free(&shown);
	return rc;
}

unsigned
conf_reload_line(const char *path, const char *cmd, size_t len)
{
	struct rlines file = { 0 };
	char key[RKEY_MAX];
	unsigned line = 0;
	FILE *f;

	if (conf_line_key(cmd, len, key, sizeof(key)) < 0) {
		return 0;
	}
	f = fopen(path, "re");
	if (f == NULL) {
		return 0;
	}
	file.buf = malloc(1);
	file.size = 0;
	{
		char chunk[4096];
		size_t n;

		while (file.buf != NULL &&
		    (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *b = realloc(file.buf, file.size + n);

			if (b == NULL) {
				free(file.buf);
				file.buf = NULL;
				break;
			}
			file.buf = b;
			memcpy(file.buf + file.size, chunk, n);
			file.size += n;
		}
	}
	fclose(f);
	if (file.buf == NULL || rlines_split(&file) < 0) {
		goto out;
	}
	/* the last line that sets it is the one in force */
	for (int i = 0; i < file.n; i++) {
		if (strcmp(file.v[i].key, key) == 0) {
			line = (unsigned)i + 1;
		}
	}
out:
	rlines_free(&file);
	return line;
}

/* Does a value of the command line[0..len) appear in msg? */
static bool
named_in(const char *line, size_t len, const char *msg)
{
	struct cmd_args *a = malloc(sizeof(*a));
	struct lex_line lx;
	bool hit = false;

	if (a == NULL) {
		return false;
	}
	if (lex_split(&lx, line, len, 0, NULL) == 0 && lx.count > 0 &&
	    cmd_parse(a, lx.words, lx.count, CF_LOCAL, NULL, 0) == 0) {
		for (int i = 0; i < a->n && !hit; i++) {
			const char *v = a->val[i].s;

			hit = v != NULL && strlen(v) >= BLAME_MIN &&
			    strstr(msg, v) != NULL;
		}
	}
	lex_fini(&lx);
	free(a);
	return hit;
}

unsigned
conf_reload_blame(const char *path, const char *changes, const char *msg)
{
	const char *p = changes;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (named_in(p, n, msg)) {
			return conf_reload_line(path, p, n);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}
