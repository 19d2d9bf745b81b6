/*
 * man/settings: sipd.conf(5) documents every setting of
 * proto/settings.def as the table declares it, and no other: each has an
 * ".It Ic WORDS" entry whose text (mdoc macros dropped) gives its range
 * ("MIN to MAX" for a number), its default ("Default X", or "The default
 * is X"; a path's default is the word default), and, for a setting that
 * applies at the next start, says so.  An ".It Ic set ..." entry that is
 * no setting fails too.  Reads the table itself (sipd/settings.c).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/conf.h"

#define MAX_ENTRIES 256
#define TEXT_MAX 4096

struct entry {
	char words[128]; /* the command words of the .It Ic line */
	char text[TEXT_MAX]; /* the paragraph, plain text, one line */
	bool used;
};

/* The leading lower-case words after ".It Ic". */
static void
entry_words(const char *line, char *out, size_t cap)
{
	const char *p = line + strlen(".It Ic");
	size_t o = 0;

	out[0] = '\0';
	for (;;) {
		const char *end;
		size_t len;

		while (*p == ' ') {
			p++;
		}
		end = p;
		while (*end != '\0' && *end != ' ' && *end != '\n') {
			end++;
		}
		len = (size_t)(end - p);
		if (len == 0 || !islower((unsigned char)p[0]) ||
		    o + len + 2 > cap) {
			break;
		}
		if (o > 0) {
			out[o++] = ' ';
		}
		memcpy(out + o, p, len);
		o += len;
		out[o] = '\0';
		p = end;
	}
}

/* A line of text, its macro names dropped, appended to e->text. */
static void
entry_add(struct entry *e, const char *line)
{
	size_t o = strlen(e->text);
	const char *p = line;

	if (p[0] == '.') {
		/* ".Cm clients ." -> "clients ."; ".Pc" -> "" */
		while (*p != '\0' && *p != ' ' && *p != '\n') {
			p++;
		}
	}
	if (o + 1 < sizeof(e->text) && o > 0) {
		e->text[o++] = ' ';
	}
	for (; *p != '\0' && *p != '\n' && o + 1 < sizeof(e->text); p++) {
		if (*p == ' ' && o > 0 && e->text[o - 1] == ' ') {
			continue;
		}
		e->text[o++] = *p;
	}
	e->text[o] = '\0';
	/* "clients ." -> "clients." */
	for (char *q = e->text; (q = strstr(q, " .")) != NULL;) {
		memmove(q, q + 1, strlen(q + 1) + 1);
	}
}

static bool
has_default(const char *text, const char *want)
{
	char pat[2][192];

	snprintf(pat[0], sizeof(pat[0]), "Default %s", want);
	snprintf(pat[1], sizeof(pat[1]), "default is %s", want);
	for (int i = 0; i < 2; i++) {
		const char *p = strstr(text, pat[i]);

		/* the default is the whole word: "Default 10" is not 100 */
		if (p != NULL && !isalnum((unsigned char)p[strlen(pat[i])])) {
			return true;
		}
	}
	return false;
}

int
main(int argc, char **argv)
{
	static struct entry e[MAX_ENTRIES];
	char line[1024];
	int n = 0, bad = 0, cur = -1;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: check_settings sipd.conf.5\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".It Ic ", 7) == 0 && n < MAX_ENTRIES) {
			cur = n++;
			entry_words(line, e[cur].words, sizeof(e[cur].words));
		} else if (strncmp(line, ".It", 3) == 0 ||
		    strncmp(line, ".El", 3) == 0 ||
		    strncmp(line, ".Sh ", 4) == 0 ||
		    strncmp(line, ".Ss ", 4) == 0) {
			cur = -1;
		} else if (cur >= 0) {
			entry_add(&e[cur], line);
		}
	}
	fclose(f);

	for (int i = 0; i < conf_nsettings; i++) {
		const struct conf_setting *s = &conf_settings[i];
		const struct cmd *c = &cmd_table[s->cmd];
		struct entry *d = NULL;
		struct cmd_argspec spec;
		char want[64], range[64];

		for (int k = 0; k < n; k++) {
			if (strcmp(e[k].words, c->name) == 0) {
				d = &e[k];
			}
		}
		if (d == NULL) {
			printf("sipd.conf.5: no entry for '%s'\n", c->name);
			bad++;
			continue;
		}
		d->used = true;
		conf_setting_default_text(s, want, sizeof(want));
		if (s->type == CONF_SET_PATH) {
			if (strstr(d->text, "default") == NULL) {
				printf("sipd.conf.5: '%s' does not say what "
				    "default means\n", c->name);
				bad++;
			}
		} else if (!has_default(d->text, want)) {
			printf("sipd.conf.5: '%s' does not give its default "
			    "'%s': %s\n", c->name, want, d->text);
			bad++;
		}
		if (s->type == CONF_SET_U32 && cmd_spec(c, &spec, 1) == 1) {
			snprintf(range, sizeof(range), "%llu to %llu",
			    (unsigned long long)spec.min,
			    (unsigned long long)spec.max);
			if (strstr(d->text, range) == NULL) {
				printf("sipd.conf.5: '%s' does not give its "
				    "range '%s': %s\n", c->name, range,
				    d->text);
				bad++;
			}
		}
		if (s->next_start && strstr(d->text, "next start") == NULL) {
			printf("sipd.conf.5: '%s' applies at the next start "
			    "but does not say so\n", c->name);
			bad++;
		}
	}
	for (int k = 0; k < n; k++) {
		if (!e[k].used && (strncmp(e[k].words, "set ", 4) == 0 ||
				      strncmp(e[k].words, "limits ", 7) == 0)) {
			printf("sipd.conf.5: '%s' is no setting of "
			    "proto/settings.def\n", e[k].words);
			bad++;
		}
	}
	if (bad > 0) {
		return 1;
	}
	printf("%d settings documented as declared\n", conf_nsettings);
	return 0;
}
