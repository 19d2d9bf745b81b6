/*
 * The tables of tables.def made into constant arrays, and what is
 * computed from a table's declaration alone.  Owns only the arrays.
 */
#include <stdio.h>
#include <string.h>

#include "proto/table.h"

const struct tbl_field tbl_fields[] = {
/* a field's sipd-only columns are dropped here */
#define TABLE(id, words, list, summary)
#define FIELD(table, name, arg, flags, dflt, summary, ...)                 \
	{ TBL_##table, name, arg, flags, dflt, summary },
#include "proto/tables.def"
#undef TABLE
#undef FIELD
};

const int tbl_nfields = (int)(sizeof(tbl_fields) / sizeof(tbl_fields[0]));

const struct tbl tbl_table[TBL__COUNT] = {
#define TABLE(id, words, list, summary)                                    \
	[TBL_##id] = { TBL_##id, words, list, summary },
#define FIELD(...)
#include "proto/tables.def"
#undef TABLE
#undef FIELD
};

const struct tbl *
tbl_by_words(const char *words)
{
	for (int i = 0; i < TBL__COUNT; i++) {
		if (strcmp(tbl_table[i].words, words) == 0) {
			return &tbl_table[i];
		}
	}
	return NULL;
}

const struct tbl *
tbl_of_cmd(const struct cmd *c)
{
	static const char *const verbs[] = { " add", " remove", " set" };
	size_t len = strlen(c->name);

	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		size_t vl = strlen(verbs[v]);
		char words[CMD_NAME_MAX * CMD_MAX_WORDS];

		if (len <= vl || len - vl >= sizeof(words) ||
		    strcmp(c->name + len - vl, verbs[v]) != 0) {
			continue;
		}
		memcpy(words, c->name, len - vl);
		words[len - vl] = '\0';
		return tbl_by_words(words);
	}
	return NULL;
}

const char *
tbl_field_help(const struct cmd *c, const char *name)
{
	const struct tbl *t = c != NULL ? tbl_of_cmd(c) : NULL;
	const struct tbl_field *f = t != NULL ? tbl_field(t, name) : NULL;

	return f != NULL ? f->summary : NULL;
}

const struct tbl_field *
tbl_next(const struct tbl *t, const struct tbl_field *f)
{
	int i = f == NULL ? 0 : (int)(f - tbl_fields) + 1;

	for (; i < tbl_nfields; i++) {
		if (tbl_fields[i].table == t->id) {
			return &tbl_fields[i];
		}
	}
	return NULL;
}

const struct tbl_field *
tbl_field(const struct tbl *t, const char *name)
{
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if (strcmp(f->name, name) == 0) {
			return f;
		}
	}
	return NULL;
}

/* Append the printf-like text to buf[*o..cap); false when it did not
 * fit. */
static bool
put(char *buf, size_t cap, size_t *o, const char *a, const char *b,
    const char *c, const char *d, const char *e)
{
	int n = snprintf(buf + *o, cap - *o, "%s%s%s%s%s", a, b, c, d, e);

	if (n < 0 || (size_t)n >= cap - *o) {
		return false;
	}
	*o += (size_t)n;
	return true;
}

const char *
tbl_add_args(const struct tbl *t, char *buf, size_t cap)
{
	const struct tbl_field *f;
	size_t o = 0;
	/* the keys, then the other positional fields, then the keywords */
	static const unsigned pass[3] = { TF_KEY, TF_POS, 0 };

	if (cap == 0) {
		return NULL;
	}
	buf[0] = '\0';
	for (int p = 0; p < 3; p++) {
		for (f = tbl_next(t, NULL); f != NULL; f = tbl_next(t, f)) {
			const char *sp = o > 0 ? " " : "";
			bool ok = true;

			if (!tbl_field_given(f) ||
			    (p < 2 && (f->flags & pass[p]) == 0) ||
			    (p == 1 && (f->flags & TF_KEY) != 0) ||
			    (p == 2 && tbl_field_positional(f))) {
				continue;
			}
			if (p == 0 || (p == 1 && (f->flags & TF_REQ) != 0)) {
				ok = put(buf, cap, &o, sp, "<", f->name, ":",
				    f->arg) && put(buf, cap, &o, ">", "", "",
				    "", "");
			} else if (p == 1) {
				ok = put(buf, cap, &o, sp, "[<", f->name, ":",
				    f->arg) && put(buf, cap, &o, ">]", "", "",
				    "", "");
			} else {
				ok = put(buf, cap, &o, sp, "[", f->name, " <",
				    f->name) && put(buf, cap, &o, ":", f->arg,
				    ">]", "", "");
			}
			if (!ok) {
				return NULL;
			}
		}
	}
	return buf;
}

const char *
tbl_field_names(const struct tbl *t, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap == 0) {
		return NULL;
	}
	buf[0] = '\0';
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if (!tbl_field_given(f) || (f->flags & TF_KEY) != 0) {
			continue;
		}
		if (!put(buf, cap, &o, o > 0 ? "|" : "", f->name, "", "", "")) {
			return NULL;
		}
	}
	return buf;
}
