/*
 * table: the tables of the configuration (tables.def) as sipd, sipctl
 * and the tests read them: each table's words, the command listing it,
 * its fields in order with their type, flags, default and help, and the
 * argument spec its "add" command must have (tbl_add_args()), which a
 * unit test compares with commands.def.
 */
#ifndef SIPD_PROTO_TABLE_H
#define SIPD_PROTO_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/cmd.h"

/* Field flags (tables.def). */
#define TF_KEY 0x01    /* positional, names the row */
#define TF_POS 0x02    /* positional after the keys */
#define TF_REQ 0x04    /* an add needs it */
#define TF_SECRET 0x08 /* readers never see it */
#define TF_ADD 0x10    /* given to add, never listed */
#define TF_LIST 0x20   /* listed, never given */

enum tbl_id {
#define TABLE(id, words, list, summary) TBL_##id,
#define FIELD(...)
#include "proto/tables.def"
#undef TABLE
#undef FIELD
	TBL__COUNT
};

struct tbl_field {
	enum tbl_id table;
	const char *name;
	const char *arg;     /* its type, in the grammar of cmd.h */
	unsigned flags;
	const char *dflt;    /* "" for none */
	const char *summary;
};

struct tbl {
	enum tbl_id id;
	const char *words;
	const char *list;    /* "" when shared */
	const char *summary;
};

extern const struct tbl tbl_table[TBL__COUNT];
extern const struct tbl_field tbl_fields[];
extern const int tbl_nfields;

/* The table called words, or NULL. */
const struct tbl *tbl_by_words(const char *words);

/* The table a command adds to, removes from or changes ("T add",
 * "T remove", "T set"), or NULL. */
const struct tbl *tbl_of_cmd(const struct cmd *c);

/* The one-line help of field name of the table c works on, or NULL. */
const char *tbl_field_help(const struct cmd *c, const char *name);

/* Field name of t, or NULL. */
const struct tbl_field *tbl_field(const struct tbl *t, const char *name);

/* The field of t after f, its first for f NULL; NULL after its last:
 * for (f = tbl_next(t, NULL); f != NULL; f = tbl_next(t, f)). */
const struct tbl_field *tbl_next(const struct tbl *t,
    const struct tbl_field *f);

/* Is f given to "T add" (not TF_LIST)?  Is it a positional argument? */
static inline bool
tbl_field_given(const struct tbl_field *f)
{
	return (f->flags & TF_LIST) == 0;
}

static inline bool
tbl_field_positional(const struct tbl_field *f)
{
	return (f->flags & (TF_KEY | TF_POS)) != 0;
}

/* Is f one of "T list"'s keys? */
static inline bool
tbl_field_listed(const struct tbl_field *f)
{
	return (f->flags & TF_ADD) == 0;
}

/*
 * The argument spec "T add" has, from the declaration, into buf: the
 * keys "<name:arg>", the other positional fields ("[<name:arg>]" when
 * optional), then each optional "[name <name:arg>]".  Returns buf, or
 * NULL when it does not fit.
 */
const char *tbl_add_args(const struct tbl *t, char *buf, size_t cap);

/* The names of t's given fields that are not keys, "a|b|c", into buf
 * (the choices of a "T set" command's field).  Returns buf or NULL. */
const char *tbl_field_names(const struct tbl *t, char *buf, size_t cap);

#endif
