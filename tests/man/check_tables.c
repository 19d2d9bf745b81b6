/*
 * man/tables: the pages document each table of proto/tables.def as it is
 * declared, field for field, and no field that is not:
 *   sipd-control(7)  the names of ".It Li "T add""'s Arguments are the
 *                    fields add takes; those of the list command's
 *                    "Reply data: an array of maps...:" the fields it
 *                    lists ("as for .Li "X"" takes X's names);
 *   sipd.conf(5)     the keywords of ".It Ic T add" ("Oo Cm kw", "Op Cm
 *                    kw", "Cm kw Ar"), with the ".It Cm kw" entries of the
 *                    list under it, are the optional "name value" fields;
 *                    each such entry says whether the field is required,
 *                    its default, its range, and that a secret is one.
 * A name documented but not declared fails, as does one declared but not
 * documented.  Reads the declaration itself (proto/table.c).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/table.h"

#define MAX_ENTRIES 512
#define TEXT_MAX 4096
#define MAX_NAMES 32

struct entry {
	char words[128]; /* "listener add": the quoted words of .It Li */
	char text[TEXT_MAX]; /* the paragraph, macros dropped, one line */
};

struct names {
	int n;
	char v[MAX_NAMES][CMD_NAME_MAX];
};

static void
names_add(struct names *s, const char *w, size_t len)
{
	if (len == 0 || len >= CMD_NAME_MAX || s->n == MAX_NAMES) {
		return;
	}
	for (int i = 0; i < s->n; i++) {
		if (strlen(s->v[i]) == len && memcmp(s->v[i], w, len) == 0) {
			return;
		}
	}
	memcpy(s->v[s->n], w, len);
	s->v[s->n++][len] = '\0';
}

static bool
names_has(const struct names *s, const char *w)
{
	for (int i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], w) == 0) {
			return true;
		}
	}
	return false;
}

/* A line of text, its macro name dropped, appended to e->text. */
static void
entry_add(struct entry *e, const char *line)
{
	size_t o = strlen(e->text);
	const char *p = line;

	if (p[0] == '.') {
		while (*p != '\0' && *p != ' ' && *p != '\n') {
			p++;
		}
		while (*p == ' ') {
			p++;
		}
	}
	if (o > 0 && o + 1 < sizeof(e->text)) {
		e->text[o++] = ' ';
	}
	for (; *p != '\0' && *p != '\n' && o + 1 < sizeof(e->text); p++) {
		e->text[o++] = *p;
	}
	e->text[o] = '\0';
}

static struct entry *
entry_of(struct entry *e, int n, const char *words)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(e[i].words, words) == 0) {
			return &e[i];
		}
	}
	return NULL;
}

/*
 * The names of the list in e's text after the first mark, then after
 * "maps" and a ':' when colon: parenthesised text dropped, items split at
 * ',', ';' and "and", up to the first '.' or the first item of several
 * words (prose).  "as for "X"" adds entry X's names under the same mark.
 */
static int
list_names(struct entry *all, int n, const struct entry *e,
    const char *mark, bool colon, struct names *out, int depth)
{
	char buf[TEXT_MAX];
	const char *p = strstr(e->text, mark);
	size_t o = 0;
	int paren = 0;

	if (p == NULL || depth > 2) {
		return -1;
	}
	p += strlen(mark);
	while (*p == ' ') {
		p++;
	}
	if (colon && strncmp(p, "as for ", 7) != 0) {
		/* "an array of maps[, ...]: names" */
		if ((p = strstr(p, "maps")) == NULL ||
		    (p = strchr(p, ':')) == NULL) {
			return -1;
		}
		p++;
	}
	/* parentheses out (they hold each name's type) */
	for (; *p != '\0' && o + 1 < sizeof(buf); p++) {
		if (*p == '(') {
			paren++;
		} else if (*p == ')' && paren > 0) {
			paren--;
		} else if (paren == 0) {
			if (*p == '.' && (p[1] == ' ' || p[1] == '\0')) {
				break;
			}
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	p = buf;
	while (*p == ' ') {
		p++;
	}
	if (strncmp(p, "as for \"", 8) == 0) {
		char other[128];
		const char *q = strchr(p + 8, '"');
		struct entry *x;

		if (q == NULL || (size_t)(q - p - 8) >= sizeof(other)) {
			return -1;
		}
		memcpy(other, p + 8, (size_t)(q - p - 8));
		other[q - p - 8] = '\0';
		if ((x = entry_of(all, n, other)) == NULL ||
		    list_names(all, n, x, mark, colon, out, depth + 1) < 0) {
			return -1;
		}
		p = q + 1;
	}
	for (;;) {
		size_t len;
		const char *end;

		while (*p == ' ' || *p == ',' || *p == ';') {
			p++;
		}
		if (strncmp(p, "and ", 4) == 0) {
			p += 4;
			continue;
		}
		if (*p == '\0') {
			break;
		}
		end = p + strcspn(p, ",;");
		len = (size_t)(end - p);
		while (len > 0 && p[len - 1] == ' ') {
			len--;
		}
		/* "a and b" */
		for (size_t i = 0; i + 5 <= len; i++) {
			if (memcmp(p + i, " and ", 5) == 0) {
				end = p + i;
				len = i;
				break;
			}
		}
		while (len > 0 && p[len - 1] == ' ') {
			len--;
		}
		if (memchr(p, ' ', len) != NULL) {
			break; /* prose after the names */
		}
		if (len == 4 && memcmp(p, "none", 4) == 0) {
			break;
		}
		names_add(out, p, len);
		p = end;
	}
	return 0;
}

/* Compare what a page documents with what is declared. */
static int
compare(const char *where, const struct names *doc, const struct names *decl)
{
	int bad = 0;

	for (int i = 0; i < decl->n; i++) {
		if (!names_has(doc, decl->v[i])) {
			printf("%s: declared field '%s' not documented\n", where,
			    decl->v[i]);
			bad++;
		}
	}
	for (int i = 0; i < doc->n; i++) {
		if (!names_has(decl, doc->v[i])) {
			printf("%s: documented field '%s' not declared in "
			       "tables.def\n",
			    where, doc->v[i]);
			bad++;
		}
	}
	return bad;
}

/* sipd-control(7): the entries ".It Li "words"". */
static int
read_control(const char *path, struct entry *e)
{
	char line[1024];
	int n = 0, cur = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".It Li \"", 8) == 0 && n < MAX_ENTRIES) {
			const char *q = strchr(line + 8, '"');
			size_t len = q != NULL ? (size_t)(q - line - 8) : 0;

			cur = n++;
			memset(&e[cur], 0, sizeof(e[cur]));
			if (len < sizeof(e[cur].words)) {
				memcpy(e[cur].words, line + 8, len);
			}
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
	return n;
}

/* The keywords of a line of mdoc: "Oo Cm kw", "Op Cm kw", "Cm kw Ar". */
static void
line_keywords(const char *line, struct names *out)
{
	char tok[64][CMD_NAME_MAX];
	int n = 0;
	const char *p = line;

	while (*p != '\0' && n < 64) {
		size_t len;

		while (*p == ' ' || *p == '\n') {
			p++;
		}
		len = strcspn(p, " \n");
		if (len == 0) {
			break;
		}
		if (len >= CMD_NAME_MAX) {
			len = CMD_NAME_MAX - 1;
		}
		memcpy(tok[n], p, len);
		tok[n++][len] = '\0';
		p += strcspn(p, " \n");
	}
	for (int i = 0; i + 1 < n; i++) {
		bool after = i > 0 && (strcmp(tok[i - 1], "Oo") == 0 ||
					  strcmp(tok[i - 1], "Op") == 0);
		bool before = i + 2 < n && strcmp(tok[i + 2], "Ar") == 0;

		if (strcmp(tok[i], "Cm") == 0 && (after || before)) {
			names_add(out, tok[i + 1], strlen(tok[i + 1]));
		}
	}
}

/* The text of the ".It Cm" entries under a table's add, by name. */
struct kwtext {
	struct names n;
	char text[MAX_NAMES][1024];
};

static void
kwtext_add(struct kwtext *k, int i, const char *line)
{
	size_t o = strlen(k->text[i]);
	const char *p = line;

	if (p[0] == '.') {
		while (*p != '\0' && *p != ' ' && *p != '\n') {
			p++;
		}
	}
	for (; *p != '\0' && *p != '\n' && o + 2 < sizeof(k->text[i]); p++) {
		k->text[i][o++] = *p;
	}
	k->text[i][o++] = ' ';
	k->text[i][o] = '\0';
}

/* sipd.conf(5): the keywords of ".It Ic words" and of the ".It Cm"
 * entries of the list right under it, with those entries' text in kt.
 * -1 when there is no entry. */
static int
conf_keywords(const char *path, const char *words, struct names *out,
    struct kwtext *kt)
{
	char line[1024], want[200];
	int depth = 0, at = -1, cur = -1;
	bool found = false;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		return -1;
	}
	snprintf(want, sizeof(want), ".It Ic %s ", words);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".Bl", 3) == 0) {
			depth++;
		} else if (strncmp(line, ".El", 3) == 0) {
			if (depth-- == at) {
				at = -1;
			}
		} else if (strncmp(line, want, strlen(want)) == 0) {
			at = depth;
			found = true;
			line_keywords(line + strlen(want), out);
		} else if (strncmp(line, ".It", 3) == 0 && depth == at) {
			at = -1;
		} else if (at >= 0 && depth == at + 1 &&
		    strncmp(line, ".It Cm ", 7) == 0) {
			size_t len = strcspn(line + 7, " \n");

			names_add(out, line + 7, len);
			names_add(&kt->n, line + 7, len);
			cur = -1;
			for (int i = 0; i < kt->n.n; i++) {
				if (strlen(kt->n.v[i]) == len &&
				    memcmp(kt->n.v[i], line + 7, len) == 0) {
					cur = i;
				}
			}
			continue;
		} else if (at >= 0 && depth == at + 1 && cur >= 0) {
			kwtext_add(kt, cur, line);
			continue;
		}
		if (strncmp(line, ".It", 3) == 0 || strncmp(line, ".El", 3) == 0) {
			cur = -1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/*
 * A field's own entry (".It Cm name" under the add) says what the
 * declaration says: "Required." for a required one, its range "MIN to
 * MAX" for a number, "Default X" for a default X (any "Default" when the
 * default is none), and that a secret is one.
 */
static int
entries(const char *where, const struct tbl *t, const struct kwtext *kt)
{
	int bad = 0;

	for (int i = 0; i < kt->n.n; i++) {
		const struct tbl_field *f = tbl_field(t, kt->n.v[i]);
		const char *text = kt->text[i];
		char want[96];

		if (f == NULL) {
			continue; /* compare() said so */
		}
		if ((f->flags & TF_REQ) != 0) {
			snprintf(want, sizeof(want), "Required.");
		} else if ((f->flags & TF_SECRET) != 0) {
			snprintf(want, sizeof(want), "secret");
		} else if (f->dflt[0] != '\0') {
			snprintf(want, sizeof(want), "Default %s.", f->dflt);
		} else {
			snprintf(want, sizeof(want), "Default ");
		}
		if (strstr(text, want) == NULL) {
			printf("%s: the entry of %s does not say '%s': %s\n",
			    where, f->name, want, text);
			bad++;
		}
		if (strncmp(f->arg, "uint(", 5) == 0) {
			unsigned long lo, hi;
			char *end;

			lo = strtoul(f->arg + 5, &end, 10);
			hi = strtoul(end + 1, NULL, 10);
			snprintf(want, sizeof(want), "%lu to %lu", lo, hi);
			if (strstr(text, want) == NULL) {
				printf("%s: the entry of %s does not give its "
				       "range '%s'\n",
				    where, f->name, want);
				bad++;
			}
		}
	}
	return bad;
}

int
main(int argc, char **argv)
{
	static struct entry e[MAX_ENTRIES];
	static struct kwtext kts;
	struct kwtext *kt = &kts;
	int n, bad = 0;

	if (argc != 3 || (n = read_control(argv[2], e)) < 0) {
		fprintf(stderr, "usage: check_tables sipd.conf.5 "
				"sipd-control.7\n");
		return 2;
	}
	for (int i = 0; i < TBL__COUNT; i++) {
		const struct tbl *t = &tbl_table[i];
		struct names add = { 0 }, listed = { 0 }, kw = { 0 };
		struct names doc_add = { 0 }, doc_list = { 0 }, doc_kw = { 0 };
		char words[160], where[200];
		const struct entry *x;

		for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
		     f = tbl_next(t, f)) {
			if (tbl_field_given(f)) {
				names_add(&add, f->name, strlen(f->name));
			}
			if (tbl_field_listed(f)) {
				names_add(&listed, f->name, strlen(f->name));
			}
			if (tbl_field_given(f) && !tbl_field_positional(f)) {
				names_add(&kw, f->name, strlen(f->name));
			}
		}
		snprintf(words, sizeof(words), "%s add", t->words);
		snprintf(where, sizeof(where), "sipd-control.7 \"%s\"", words);
		if ((x = entry_of(e, n, words)) == NULL ||
		    list_names(e, n, x, "Arguments:", false, &doc_add, 0) < 0) {
			printf("%s: no entry, or no Arguments\n", where);
			bad++;
		} else {
			bad += compare(where, &doc_add, &add);
		}
		if (t->list[0] != '\0') {
			snprintf(where, sizeof(where), "sipd-control.7 \"%s\"",
			    t->list);
			if ((x = entry_of(e, n, t->list)) == NULL ||
			    list_names(e, n, x, "Reply data:", true, &doc_list, 0) <
				0) {
				printf("%s: no entry, or no array of maps\n",
				    where);
				bad++;
			} else {
				bad += compare(where, &doc_list, &listed);
			}
		}
		snprintf(where, sizeof(where), "sipd.conf.5 \"%s\"", words);
		memset(kt, 0, sizeof(*kt));
		if (conf_keywords(argv[1], words, &doc_kw, kt) < 0) {
			printf("%s: no .It Ic entry\n", where);
			bad++;
		} else {
			bad += compare(where, &doc_kw, &kw);
			bad += entries(where, t, kt);
		}
	}
	if (bad > 0) {
		return 1;
	}
	printf("%d tables documented as declared\n", TBL__COUNT);
	return 0;
}
