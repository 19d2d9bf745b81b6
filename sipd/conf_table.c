/*
 * The table engine: the tables of proto/tables.def whose rows are one
 * structure (the AT column) parsed, checked, found, added, removed and
 * saved from their declaration alone.  A field's type is its argument
 * type: str or path (a char array; "" for none), uint(MIN-MAX) (a
 * uint32_t), bool (a bool); a str field's check function refuses what its
 * type cannot.
 * A field kept in several members, or not as its text, has a codec that
 * parses its text into the row and writes it back.  A PLACE field is
 * the row's place in the table, from 1: listed, never stored, and remove
 * and set take it for the first key.  A KIND field is the last of the
 * table's words, listed: which of the tables behind one list a row is
 * of.  A table's rules across its fields are its hooks (thooks[]: a
 * whole row checked after add or set, a remove allowed or not) and, for
 * a table kept outside struct conf's arrays (the domains and accounts),
 * its storage: a row checked here, then put or deleted by the table's
 * code.  Every error names the field.  Owns only the constant tables.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"
#include "proto/lex.h"
#include "proto/table.h"
#include "sipd/conf.h"

#define AT_AS(type, member, list_)                                         \
	.off = offsetof(struct type, member),                                  \
	.size = sizeof(((struct type *)0)->member), .list = list_
#define AT(type, member) AT_AS(type, member, CONF_TL_TEXT)
#define AT_WORDS(type, member) AT_AS(type, member, CONF_TL_WORDS)
#define AT_SET(type, member) AT_AS(type, member, CONF_TL_SET)
#define CODEC(parse_, text_) .parse = parse_, .text = text_
#define PLACE .place = true
#define KIND .kind = true

/* Index for index with tbl_fields[]: the same lines, the same order. */
static const struct conf_tfield tfields[] = {
#define TABLE(id, words, list, summary)
#define FIELD(table, name, arg, flags, dflt, summary, at, check_, view_)   \
	{ at, .check = check_, .view = view_ },
#include "proto/tables.def"
#undef TABLE
#undef FIELD
};

const struct conf_tfield *
conf_tfield(const struct tbl_field *f)
{
	return &tfields[f - tbl_fields];
}

/* Each table's own rules beyond its fields' (conf.h, struct
 * conf_thooks): one line a table, none for most. */
static const struct conf_thooks thooks[TBL__COUNT] = {
	[TBL_LISTENER] = { conf_listener_check, conf_listener_removable },
	[TBL_DOMAIN] = { .size = sizeof(struct conf_domain),
	    .put = conf_domain_put, .del = conf_domain_del },
	[TBL_ACCOUNT] = { .size = sizeof(struct conf_account),
	    .put = conf_account_put, .del = conf_account_del },
};

static const struct conf_thooks *
hooks(const struct tbl *t)
{
	return &thooks[t->id];
}

/* The table's check of a whole row, after its fields are set. */
static int
row_check(const struct tbl *t, const void *row, char *err, size_t cap)
{
	return hooks(t)->check != NULL ? hooks(t)->check(row, err, cap) : 0;
}

/* The field's type: its codec's, else from its argument type. */
enum ftype { FT_STR, FT_U32, FT_BOOL, FT_CODEC, FT_PLACE, FT_OTHER,
	FT_KIND };

static enum ftype
ftype(const struct tbl_field *f)
{
	if (conf_tfield(f)->parse != NULL) {
		return FT_CODEC;
	}
	if (conf_tfield(f)->place) {
		return FT_PLACE;
	}
	if (conf_tfield(f)->kind) {
		return FT_KIND;
	}
	if (strcmp(f->arg, "str") == 0 || strcmp(f->arg, "path") == 0) {
		return FT_STR;
	}
	if (strncmp(f->arg, "uint(", 5) == 0) {
		return FT_U32;
	}
	if (strcmp(f->arg, "bool") == 0) {
		return FT_BOOL;
	}
	return FT_OTHER;
}

/* A uint field's range, from "uint(MIN-MAX)". */
static void
urange(const struct tbl_field *f, unsigned long *lo, unsigned long *hi)
{
	char *end;

	*lo = strtoul(f->arg + 5, &end, 10);
	*hi = *end == '-' ? strtoul(end + 1, NULL, 10) : *lo;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const on[] = { "on", "yes", "true", "1" };
	static const char *const off[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, on[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, off[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
conf_tfield_stored(const struct tbl_field *f)
{
	const struct conf_tfield *x = conf_tfield(f);

	switch (ftype(f)) {
	case FT_STR:
		return x->size > 0;
	case FT_U32:
		return x->size == sizeof(uint32_t);
	case FT_BOOL:
		return x->size == sizeof(bool);
	case FT_CODEC:
		return x->text != NULL;
	case FT_PLACE:
	case FT_KIND:
		return true;
	default:
		return false;
	}
}

/* Make sure the message of a refused value names the field. */
static int
named(const struct tbl_field *f, int rc, char *err, size_t cap)
{
	if (err != NULL && cap > 0 && strstr(err, f->name) == NULL) {
		char was[256];

		snprintf(was, sizeof(was), "%s", err);
		err_fmt(err, cap, rc, "bad %s %s", f->name, was);
	}
	return rc;
}

/* Set f of row from its text v, checked, given or not. */
static int
field_set(const struct tbl_field *f, void *row, const char *v, char *err,
    size_t cap)
{
	const struct conf_tfield *x = conf_tfield(f);
	char *at = (char *)row + x->off;

	switch (ftype(f)) {
	case FT_STR: {
		size_t n = strlen(v);
		int rc;

		if (n >= x->size) {
			return err_fmt(err, cap, -EINVAL,
			    "bad %s (too long: at most %zu bytes)", f->name,
			    x->size - 1);
		}
		if (x->check != NULL && (rc = x->check(v, err, cap)) < 0) {
			return named(f, rc, err, cap);
		}
		memcpy(at, v, n + 1);
		return 0;
	}
	case FT_U32: {
		unsigned long lo, hi, u;
		char *end;

		urange(f, &lo, &hi);
		u = strtoul(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || u < lo ||
		    u > hi) {
			return err_fmt(err, cap, -EINVAL,
			    "bad %s '%.100s' (%s; %lu to %lu)", f->name, v,
			    f->summary, lo, hi);
		}
		*(uint32_t *)(void *)at = (uint32_t)u;
		return 0;
	}
	case FT_BOOL: {
		bool b;

		if (parse_bool(v, &b) < 0) {
			return err_fmt(err, cap, -EINVAL,
			    "bad %s '%.100s' (expected on or off)", f->name, v);
		}
		*(bool *)(void *)at = b;
		return 0;
	}
	case FT_CODEC: {
		int rc = x->parse(row, v, err, cap);

		return rc < 0 ? named(f, rc, err, cap) : 0;
	}
	default:
		return err_fmt(err, cap, -EINVAL, "unknown field '%.60s'",
		    f->name);
	}
}

int
conf_row_set(const struct tbl *t, void *row, const char *name,
    const char *v, char *err, size_t cap)
{
	const struct tbl_field *f = tbl_field(t, name);

	if (f == NULL || !tbl_field_given(f) || !conf_tfield_stored(f)) {
		char names[256];

		return err_fmt(err, cap, -EINVAL,
		    "unknown field '%.60s' (one of %s)", name,
		    tbl_field_names(t, names, sizeof(names)) != NULL ? names
								     : "?");
	}
	return field_set(f, row, v, err, cap);
}

void
conf_row_text(const struct tbl_field *f, const void *row, char *buf,
    size_t cap)
{
	const struct conf_tfield *x = conf_tfield(f);
	const char *at = (const char *)row + x->off;

	switch (ftype(f)) {
	case FT_STR:
		snprintf(buf, cap, "%s", at);
		break;
	case FT_U32:
		snprintf(buf, cap, "%u", *(const uint32_t *)(const void *)at);
		break;
	case FT_BOOL:
		snprintf(buf, cap, "%s",
		    *(const bool *)(const void *)at ? "on" : "off");
		break;
	case FT_CODEC:
		x->text(row, buf, cap);
		break;
	case FT_KIND: {
		const char *w = strrchr(tbl_table[f->table].words, ' ');

		snprintf(buf, cap, "%s",
		    w != NULL ? w + 1 : tbl_table[f->table].words);
		break;
	}
	default:
		snprintf(buf, cap, "%s", "");
		break;
	}
}

int
conf_row_init(const struct tbl *t, void *row, size_t size)
{
	char err[8];

	memset(row, 0, size);
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if (conf_tfield_stored(f) && f->dflt[0] != '\0' &&
		    !conf_tfield(f)->place &&
		    field_set(f, row, f->dflt, err, sizeof(err)) < 0) {
			return -EINVAL;
		}
	}
	return 0;
}

/* The place field of t, or NULL. */
static const struct tbl_field *
place_field(const struct tbl *t)
{
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if (conf_tfield(f)->place) {
			return f;
		}
	}
	return NULL;
}

/* The first key's value in a, when a place: 1 and up, else 0. */
static long
key_place(const struct tbl *t, const struct cmd_args *a)
{
	const char *v = NULL;
	char *end;
	long n;

	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if ((f->flags & TF_KEY) != 0) {
			v = cmd_arg_str(a, f->name);
			break;
		}
	}
	if (place_field(t) == NULL || v == NULL || v[0] < '1' || v[0] > '9') {
		return 0;
	}
	n = strtol(v, &end, 10);
	return *end == '\0' && n <= 1000000 ? n : 0;
}

/* Key value v of f as the row would keep it (a codec's text), into buf;
 * 0, or the codec's error. */
static int
key_canon(const struct tbl *t, const struct tbl_field *f, const char *v,
    size_t size, char *buf, size_t bcap, char *err, size_t cap)
{
	const struct conf_tfield *x = conf_tfield(f);
	void *tmp;
	int rc;

	if (x->parse == NULL) {
		snprintf(buf, bcap, "%s", v);
		return 0;
	}
	if ((tmp = calloc(1, size)) == NULL) {
		return -ENOMEM;
	}
	if ((rc = x->parse(tmp, v, err, cap)) < 0) {
		rc = named(f, rc, err, cap);
	} else {
		x->text(tmp, buf, bcap);
	}
	free(tmp);
	(void)t;
	return rc;
}

static int
find_rows(const struct tbl *t, const void *rows, int n, size_t size,
    const struct cmd_args *a, bool by_place)
{
	long place = by_place ? key_place(t, a) : 0;

	if (place > 0) {
		return place <= n ? (int)place - 1 : -1;
	}
	for (int i = 0; i < n; i++) {
		const char *row = (const char *)rows + (size_t)i * size;
		bool same = true;

		for (const struct tbl_field *f = tbl_next(t, NULL);
		     f != NULL && same; f = tbl_next(t, f)) {
			const char *v = cmd_arg_str(a, f->name);
			char text[CMD_VALUE_MAX], want[CMD_VALUE_MAX];

			if ((f->flags & TF_KEY) == 0) {
				continue;
			}
			conf_row_text(f, row, text, sizeof(text));
			/* names are compared in any case */
			same = v != NULL && key_canon(t, f, v, size, want,
						sizeof(want), NULL, 0) == 0 &&
			    strcasecmp(want, text) == 0;
		}
		if (same) {
			return i;
		}
	}
	return -1;
}

int
conf_rows_find(const struct tbl *t, const void *rows, int n, size_t size,
    const struct cmd_args *a)
{
	return find_rows(t, rows, n, size, a, true);
}

/* The first key's name. */
static const char *
key_name(const struct tbl *t)
{
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if ((f->flags & TF_KEY) != 0) {
			return f->name;
		}
	}
	return "";
}

/* s in upper case into buf, for usage in messages ("NAME"). */
static const char *
upper(const char *s, char *buf, size_t cap)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < cap; i++) {
		buf[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A')
						       : s[i];
	}
	buf[i] = '\0';
	return buf;
}

/* The keys' values in a, for messages: "udp 127.0.0.1:5060". */
static const char *
key_text(const struct tbl *t, const struct cmd_args *a, char *buf,
    size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		const char *v = cmd_arg_str(a, f->name);

		if ((f->flags & TF_KEY) != 0 && v != NULL && o < cap) {
			o += (size_t)snprintf(buf + o, cap - o, "%s%s",
			    o > 0 ? " " : "", v);
		}
	}
	return buf;
}

/* The number of keys of t. */
static int
nkeys(const struct tbl *t)
{
	int n = 0;

	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		n += (f->flags & TF_KEY) != 0;
	}
	return n;
}

/* The row of a for set and remove, or -ENOENT or a key's error with a
 * message: a place past the last, a key its codec refuses, no such
 * row. */
static int
find_named(const struct tbl *t, const void *rows, int n, size_t size,
    const struct cmd_args *a, char *err, size_t cap)
{
	long place = key_place(t, a);
	int i = find_rows(t, rows, n, size, a, true);
	char buf[CMD_VALUE_MAX];

	if (i >= 0) {
		return i;
	}
	if (place > 0) {
		return err_fmt(err, cap, -ENOENT, "no %s %ld (%d in the table)",
		    key_name(t), place, n);
	}
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		const char *v = cmd_arg_str(a, f->name);
		int rc;

		if ((f->flags & TF_KEY) != 0 && v != NULL &&
		    (rc = key_canon(t, f, v, size, buf, sizeof(buf), err,
			 cap)) < 0) {
			return rc;
		}
	}
	/* one key quoted (a name); several as the words they are */
	return err_fmt(err, cap, -ENOENT,
	    nkeys(t) > 1 ? "no %s %.100s" : "no %s '%.64s'", t->words,
	    key_text(t, a, buf, sizeof(buf)));
}

/* Set the keys (keys) or the other given fields of row from a: a key or
 * required field missing, or a value refused, is an error naming it. */
static int
row_fill(const struct tbl *t, void *row, const struct cmd_args *a,
    bool keys, char *err, size_t cap)
{
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		const char *v = cmd_arg_str(a, f->name);
		int rc;

		if (((f->flags & TF_KEY) != 0) != keys || !tbl_field_given(f)) {
			continue;
		}
		if (v == NULL && (f->flags & (TF_KEY | TF_REQ)) != 0) {
			char kn[CMD_NAME_MAX], fn[CMD_NAME_MAX];
			char kt[CMD_VALUE_MAX];

			return err_fmt(err, cap, -EINVAL,
			    "%s %s: missing %s (%s add %s %s %s ...)",
			    t->words, key_text(t, a, kt, sizeof(kt)), f->name,
			    t->words, upper(key_name(t), kn, sizeof(kn)),
			    f->name, upper(f->name, fn, sizeof(fn)));
		}
		if (v != NULL &&
		    (rc = conf_row_set(t, row, f->name, v, err, cap)) < 0) {
			return rc;
		}
	}
	return 0;
}

int
conf_rows_add(const struct tbl *t, void *rows, int *n, int max,
    size_t size, const struct cmd_args *a, char *err, size_t cap)
{
	char *row = (char *)rows + (size_t)*n * size;
	char *tmp = malloc(size);
	int rc = 0;

	if (tmp == NULL) {
		return -ENOMEM;
	}
	if (conf_row_init(t, tmp, size) < 0) {
		rc = err_fmt(err, cap, -EINVAL, "%s: bad default", t->words);
		goto out;
	}
	/* every value checked before anything changes: the keys first */
	for (int pass = 0; pass < 2; pass++) {
		if ((rc = row_fill(t, tmp, a, pass == 0, err, cap)) < 0) {
			goto out;
		}
		if (pass == 0 &&
		    find_rows(t, rows, *n, size, a, false) >= 0) {
			char keys[CMD_VALUE_MAX];

			rc = err_fmt(err, cap, -EEXIST,
			    "%s %s already configured", t->words,
			    key_text(t, a, keys, sizeof(keys)));
			goto out;
		}
	}
	if ((rc = row_check(t, tmp, err, cap)) < 0) {
		goto out;
	}
	if (*n >= max) {
		rc = err_fmt(err, cap, -EBUSY,
		    "too many in the %s table (at most %d)", t->words, max);
		goto out;
	}
	memcpy(row, tmp, size);
	(*n)++;
out:
	free(tmp);
	return rc;
}

int
conf_rows_set(const struct tbl *t, void *rows, int n, size_t size,
    const struct cmd_args *a, char *err, size_t cap)
{
	const char *f = cmd_arg_str(a, "field");
	const char *v = cmd_arg_str(a, "value");
	const struct tbl_field *tf;
	int i = find_named(t, rows, n, size, a, err, cap), rc;
	char *tmp;

	if (i < 0) {
		return i;
	}
	if (f == NULL || v == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing field or value");
	}
	tf = tbl_field(t, f);
	if (tf != NULL && (tf->flags & (TF_KEY | TF_REQ)) != 0 &&
	    v[0] == '\0') {
		return err_fmt(err, cap, -EINVAL, "a %s needs a %s", t->words,
		    f);
	}
	if (tf != NULL && (tf->flags & TF_KEY) != 0) {
		return err_fmt(err, cap, -EINVAL,
		    "%s names the %s: remove and add it again", f, t->words);
	}
	if ((tmp = malloc(size)) == NULL) {
		return -ENOMEM;
	}
	memcpy(tmp, (char *)rows + (size_t)i * size, size);
	if ((rc = conf_row_set(t, tmp, f, v, err, cap)) == 0 &&
	    (rc = row_check(t, tmp, err, cap)) == 0) {
		memcpy((char *)rows + (size_t)i * size, tmp, size);
	}
	free(tmp);
	return rc;
}

int
conf_rows_remove(const struct tbl *t, void *rows, int *n, size_t size,
    const struct cmd_args *a, char *err, size_t cap)
{
	int i = find_named(t, rows, *n, size, a, err, cap), rc;
	char *at;

	if (i < 0) {
		return i;
	}
	if (hooks(t)->remove != NULL &&
	    (rc = hooks(t)->remove(rows, *n, i, err, cap)) < 0) {
		return rc;
	}
	at = (char *)rows + (size_t)i * size;
	memmove(at, at + size, (size_t)(*n - i - 1) * size);
	(*n)--;
	return 0;
}

void
conf_row_dump(const struct tbl *t, const void *row, bool secrets, FILE *f)
{
	char text[CMD_VALUE_MAX];

	fputs(t->words, f);
	fputs(" add", f);
	/* the keys and positional fields in order, then what differs from
	 * the default, by name */
	for (int pass = 0; pass < 2; pass++) {
		for (const struct tbl_field *x = tbl_next(t, NULL);
		     x != NULL; x = tbl_next(t, x)) {
			if (!conf_tfield_stored(x) || !tbl_field_given(x) ||
			    tbl_field_positional(x) != (pass == 0)) {
				continue;
			}
			conf_row_text(x, row, text, sizeof(text));
			if (pass == 1 && (strcmp(text, x->dflt) == 0 ||
					     text[0] == '\0')) {
				continue;
			}
			/* an optional positional field left empty: the last */
			if (text[0] == '\0' &&
			    (x->flags & (TF_KEY | TF_REQ)) == 0) {
				continue;
			}
			if ((x->flags & TF_SECRET) != 0 && !secrets) {
				snprintf(text, sizeof(text), "%s", CONF_HIDDEN);
			}
			fputc(' ', f);
			if (pass == 1) {
				fprintf(f, "%s ", x->name);
			}
			if (strncmp(x->arg, "words", 5) == 0 &&
			    conf_tfield(x)->parse != NULL) {
				/* the rest of the line, as its codec writes
				 * it: blanks single, no quote, '#' or ';' */
				fputs(text, f);
			} else {
				lex_word_out(f, text);
			}
		}
	}
	fputc('\n', f);
}

bool
conf_row_has_secrets(const struct tbl *t, const void *row)
{
	char text[CMD_VALUE_MAX];

	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		if ((f->flags & TF_SECRET) != 0 && conf_tfield_stored(f)) {
			conf_row_text(f, row, text, sizeof(text));
			if (text[0] != '\0') {
				return true;
			}
		}
	}
	return false;
}

/* A row of t from a (keys alone, or every given field), checked: 0 with
 * *out (freed by row_free()), or an error naming the field. */
static int
row_of_args(const struct tbl *t, const struct cmd_args *a, bool all,
    void **out, char *err, size_t cap)
{
	size_t size = hooks(t)->size;
	void *row = malloc(size);
	int rc;

	*out = NULL;
	if (row == NULL) {
		return err_fmt(err, cap, -ENOMEM, "out of memory");
	}
	if (conf_row_init(t, row, size) < 0) {
		rc = err_fmt(err, cap, -EINVAL, "%s: bad default", t->words);
	} else if ((rc = row_fill(t, row, a, true, err, cap)) == 0 && all &&
	    (rc = row_fill(t, row, a, false, err, cap)) == 0) {
		rc = row_check(t, row, err, cap);
	}
	if (rc < 0) {
		explicit_bzero(row, size);
		free(row);
		return rc;
	}
	*out = row;
	return 0;
}

/* A row may hold a secret (a password): wiped before it goes. */
static void
row_free(const struct tbl *t, void *row)
{
	if (row != NULL) {
		explicit_bzero(row, hooks(t)->size);
		free(row);
	}
}

int
conf_table_add(const struct tbl *t, struct conf *c,
    const struct cmd_args *a, char *err, size_t cap)
{
	void *row;
	int rc;

	if (hooks(t)->put == NULL) {
		return err_fmt(err, cap, -ENOTSUP, "%s: not stored", t->words);
	}
	if ((rc = row_of_args(t, a, true, &row, err, cap)) == 0) {
		rc = hooks(t)->put(c, row, err, cap);
	}
	row_free(t, row);
	return rc;
}

int
conf_table_remove(const struct tbl *t, struct conf *c,
    const struct cmd_args *a, char *err, size_t cap)
{
	void *row;
	int rc;

	if (hooks(t)->del == NULL) {
		return err_fmt(err, cap, -ENOTSUP, "%s: not stored", t->words);
	}
	if ((rc = row_of_args(t, a, false, &row, err, cap)) == 0) {
		rc = hooks(t)->del(c, row, err, cap);
	}
	row_free(t, row);
	return rc;
}
