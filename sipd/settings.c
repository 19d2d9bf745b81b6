/*
 * The settings engine: the lines of proto/settings.def turned into a
 * table, and everything that is the same for every setting: its default,
 * applying its command, its text as the command's argument, and the
 * commands that save it.  Adding a setting is one line in settings.def
 * and the code that reads the field; nothing here changes.  Owns only the
 * constant table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/lex.h"
#include "sipd/conf.h"

#define SET_TYPE_U32 CONF_SET_U32
#define SET_TYPE_BOOL CONF_SET_BOOL
#define SET_TYPE_ENUM CONF_SET_ENUM
#define SET_TYPE_PATH CONF_SET_PATH
#define SET_TYPE_STR CONF_SET_STR
#define SET_WHEN_LIVE false
#define SET_WHEN_START true

/* The field's C type, per setting type, for the size checks below. */
#define SET_CTYPE_U32 uint32_t
#define SET_CTYPE_BOOL bool
#define SET_CTYPE_ENUM int
#define SET_CTYPE_PATH char[CONF_PATH_MAX]

/* A default is a number, or a string for STR. */
#define SET_DNUM_U32(d) (uint32_t)(d)
#define SET_DNUM_BOOL(d) (uint32_t)(d)
#define SET_DNUM_ENUM(d) (uint32_t)(d)
#define SET_DNUM_PATH(d) 0
#define SET_DNUM_STR(d) 0
#define SET_DSTR_U32(d) NULL
#define SET_DSTR_BOOL(d) NULL
#define SET_DSTR_ENUM(d) NULL
#define SET_DSTR_PATH(d) NULL
#define SET_DSTR_STR(d) d

const struct conf_setting conf_settings[] = {
#define SETTING(id, words, arg, summary, type, field, dflt, key, when,     \
    check, empty)                                                           \
	{ CMD_##id, key, SET_TYPE_##type, offsetof(struct conf, field),     \
	    sizeof(((struct conf *)0)->field), SET_DNUM_##type(dflt),       \
	    SET_DSTR_##type(dflt), SET_WHEN_##when, check, empty },
#include "proto/settings.def"
#undef SETTING
};

const int conf_nsettings = (int)(sizeof(conf_settings) /
    sizeof(conf_settings[0]));

/* Each field has the size its type says (an enum is an int; a STR is a
 * char array of any size). */
#define SET_SIZE_OK(type, field) SET_SIZE_OK_##type(field)
#define SET_SIZE_OK_U32(f) (sizeof(f) == sizeof(uint32_t))
#define SET_SIZE_OK_BOOL(f) (sizeof(f) == sizeof(bool))
#define SET_SIZE_OK_ENUM(f) (sizeof(f) == sizeof(int))
#define SET_SIZE_OK_PATH(f) (sizeof(f) == CONF_PATH_MAX)
#define SET_SIZE_OK_STR(f) (sizeof(f) > 1 && sizeof((f)[0]) == 1)
#define SETTING(id, words, arg, summary, type, field, dflt, key, when,     \
    check, empty)                                                           \
	_Static_assert(SET_SIZE_OK(type, ((struct conf *)0)->field),        \
	    "settings.def: the field of " #id " is not " #type);
#include "proto/settings.def"
#undef SETTING

const struct conf_setting *
conf_setting_of(enum cmd_id id)
{
	for (int i = 0; i < conf_nsettings; i++) {
		if (conf_settings[i].cmd == id) {
			return &conf_settings[i];
		}
	}
	return NULL;
}

static void *
field_of(struct conf *c, const struct conf_setting *s)
{
	return (char *)c + s->off;
}

static const void *
cfield_of(const struct conf *c, const struct conf_setting *s)
{
	return (const char *)c + s->off;
}

uint32_t
conf_setting_value(const struct conf *c, const struct conf_setting *s)
{
	const void *p = cfield_of(c, s);

	switch (s->type) {
	case CONF_SET_U32:
		return *(const uint32_t *)p;
	case CONF_SET_BOOL:
		return *(const bool *)p;
	case CONF_SET_ENUM:
		return (uint32_t)*(const int *)p;
	case CONF_SET_PATH:
	case CONF_SET_STR:
		break;
	}
	return 0;
}

static void
set_value(struct conf *c, const struct conf_setting *s, uint32_t v)
{
	void *p = field_of(c, s);

	switch (s->type) {
	case CONF_SET_U32:
		*(uint32_t *)p = v;
		break;
	case CONF_SET_BOOL:
		*(bool *)p = v != 0;
		break;
	case CONF_SET_ENUM:
		*(int *)p = (int)v;
		break;
	case CONF_SET_PATH:
		((char *)p)[0] = '\0';
		break;
	case CONF_SET_STR:
		snprintf(p, s->size, "%s", s->dstr);
		break;
	}
}

void
conf_settings_init(struct conf *c)
{
	for (int i = 0; i < conf_nsettings; i++) {
		set_value(c, &conf_settings[i], conf_settings[i].dflt);
	}
}

/* A STR setting: the empty word for none, else checked and kept. */
static int
apply_str(struct conf *c, const struct conf_setting *s, const char *v,
    char *err, size_t cap)
{
	if (s->empty != NULL && strcmp(v, s->empty) == 0) {
		((char *)field_of(c, s))[0] = '\0';
		return 0;
	}
	if (s->check != NULL && s->check(v, err, cap) < 0) {
		return -EINVAL;
	}
	if (strlen(v) >= s->size) {
		return err_fmt(err, cap, -EINVAL,
		    "%s: too long (at most %zu bytes)", s->key, s->size - 1);
	}
	memcpy(field_of(c, s), v, strlen(v) + 1);
	return 0;
}

int
conf_setting_apply(struct conf *c, const struct conf_setting *s,
    const struct cmd_args *a, char *err, size_t cap)
{
	const struct cmd_val *v = &a->val[0];
	char *path;

	if (a->n < 1 || !v->set) {
		return err_fmt(err, cap, -EINVAL, "missing value");
	}
	switch (s->type) {
	case CONF_SET_U32:
		set_value(c, s, (uint32_t)v->u);
		return 0;
	case CONF_SET_BOOL:
		set_value(c, s, v->b);
		return 0;
	case CONF_SET_ENUM:
		set_value(c, s, (uint32_t)v->choice);
		return 0;
	case CONF_SET_STR:
		return apply_str(c, s, v->s, err, cap);
	case CONF_SET_PATH:
		break;
	}
	/* a path: absolute, or "default" for none */
	path = field_of(c, s);
	if (strcmp(v->s, "default") == 0) {
		path[0] = '\0';
		return 0;
	}
	if (v->s[0] != '/') {
		return err_fmt(err, cap, -EINVAL,
		    "%s: the path must be absolute (or default)", s->key);
	}
	if (strlen(v->s) >= CONF_PATH_MAX) {
		return err_fmt(err, cap, -EINVAL,
		    "%s: path too long (at most %d bytes)", s->key,
		    CONF_PATH_MAX - 1);
	}
	memcpy(path, v->s, strlen(v->s) + 1);
	return 0;
}

bool
conf_setting_changed(const struct conf *c, const struct conf_setting *s)
{
	if (s->type == CONF_SET_PATH) {
		return ((const char *)cfield_of(c, s))[0] != '\0';
	}
	if (s->type == CONF_SET_STR) {
		return strcmp(cfield_of(c, s), s->dstr) != 0;
	}
	return conf_setting_value(c, s) != s->dflt;
}

/* The text of value v of s: a number, on/off, an enum's word. */
static const char *
value_text(const struct conf_setting *s, uint32_t v, char *buf, size_t cap)
{
	const struct cmd *cmd = &cmd_table[s->cmd];
	struct cmd_argspec spec;
	const char *w;
	size_t len;

	switch (s->type) {
	case CONF_SET_U32:
		snprintf(buf, cap, "%u", v);
		break;
	case CONF_SET_BOOL:
		snprintf(buf, cap, "%s", v ? "on" : "off");
		break;
	case CONF_SET_ENUM:
		w = NULL;
		if (cmd_spec(cmd, &spec, 1) == 1) {
			w = cmd_choice(&spec, (int)v, &len);
		}
		if (w == NULL) {
			snprintf(buf, cap, "%u", v);
		} else {
			snprintf(buf, cap, "%.*s", (int)len, w);
		}
		break;
	case CONF_SET_PATH:
		snprintf(buf, cap, "default");
		break;
	case CONF_SET_STR:
		snprintf(buf, cap, "%s", s->dstr);
		break;
	}
	return buf;
}

/* A STR value as its command's word: the empty word for "". */
static const char *
str_text(const struct conf_setting *s, const char *v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", v[0] == '\0' && s->empty != NULL ? s->empty
								   : v);
	return buf;
}

const char *
conf_setting_text(const struct conf *c, const struct conf_setting *s,
    char *buf, size_t cap)
{
	if (s->type == CONF_SET_PATH && conf_setting_changed(c, s)) {
		snprintf(buf, cap, "%s", (const char *)cfield_of(c, s));
		return buf;
	}
	if (s->type == CONF_SET_STR) {
		return str_text(s, cfield_of(c, s), buf, cap);
	}
	return value_text(s, conf_setting_value(c, s), buf, cap);
}

const char *
conf_setting_default_text(const struct conf_setting *s, char *buf,
    size_t cap)
{
	if (s->type == CONF_SET_STR) {
		return str_text(s, s->dstr, buf, cap);
	}
	return value_text(s, s->dflt, buf, cap);
}

void
conf_settings_dump(const struct conf *c, FILE *f, bool all)
{
	char buf[CONF_PATH_MAX + 16];

	for (int i = 0; i < conf_nsettings; i++) {
		const struct conf_setting *s = &conf_settings[i];

		if (!all && !conf_setting_changed(c, s)) {
			continue;
		}
		fprintf(f, "%s ", cmd_table[s->cmd].name);
		lex_word_out(f, conf_setting_text(c, s, buf, sizeof(buf)));
		fputc('\n', f);
	}
}
