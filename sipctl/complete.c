/*
 * Completion and "?" help.  The line up to the cursor is split by the
 * shared lexer in its partial mode; the command table says what may come
 * next (command words, keywords, enum choices); a value of type ref(KIND)
 * is completed from live names asked of sipd (listener addresses, LAN
 * ranges, route domains, allowed users, client ranges, domains, accounts,
 * registered addresses-of-record, blocked sources, workaround patterns
 * and domains, Router record numbers, gateway names) and a path from the file system.
 * Owns nothing beyond the candidate strings it returns.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/table.h"
#include "sipctl/sipctl.h"

/* Where live names come from when they are no table's keys: a listing
 * command, the field to take and, for a list two tables share (the
 * workarounds'), the value of the rows' "table" field (tables.def's KIND)
 * to take them from, NULL for every row.  A table's (proto/tables.def)
 * come from its list command, by the field the argument is named
 * after. */
static const struct {
	const char *ref;
	enum cmd_id cmd;
	const char *field;
	const char *table;
} sh_refs[] = {
	{ "user", CMD_SHOW_SETTINGS, "control-allow", NULL },
	{ "registration", CMD_SHOW_REGISTRATIONS, "aor", NULL },
	{ "auth-block", CMD_SHOW_AUTH_BLOCKS, "address", NULL },
	{ "wk-product", CMD_WORKAROUND_LIST, "entry", "product" },
	{ "wk-site", CMD_WORKAROUND_LIST, "entry", "site" },
	{ "router", CMD_ROUTER_LIST, "number", NULL },
};

/*
 * The listing and field that give the names of kind ref for the argument
 * called arg, and the "table" of the rows to take them from (NULL: all):
 * an entry of sh_refs, or a table's list and its listed field of that
 * name (else its first key).  0 or -1.
 */
static int
sh_ref_source(const char *ref, const char *arg, enum cmd_id *cmd,
    const char **field, const char **table)
{
	const struct tbl *t = tbl_by_words(ref);
	const struct tbl_field *f;
	const struct cmd *c;

	*table = NULL;
	for (size_t i = 0; i < sizeof(sh_refs) / sizeof(sh_refs[0]); i++) {
		if (strcmp(sh_refs[i].ref, ref) == 0) {
			*cmd = sh_refs[i].cmd;
			*field = sh_refs[i].field;
			*table = sh_refs[i].table;
			return 0;
		}
	}
	if (t == NULL || t->list[0] == '\0' ||
	    (c = cmd_by_name(t->list, strlen(t->list))) == NULL) {
		return -1;
	}
	f = tbl_field(t, arg);
	if (f == NULL || !tbl_field_listed(f)) {
		for (f = tbl_next(t, NULL);
		     f != NULL && (f->flags & TF_KEY) == 0; f = tbl_next(t, f)) {
		}
	}
	if (f == NULL) {
		return -1;
	}
	*cmd = c->id;
	*field = f->name;
	return 0;
}

static int
sh_add(char **out, int n, int cap, const char *text, size_t len,
    const char *partial, size_t plen)
{
	if (n >= cap || len < plen || strncmp(text, partial, plen) != 0) {
		return n;
	}
	for (int i = 0; i < n; i++) {
		if (strlen(out[i]) == len && memcmp(out[i], text, len) == 0) {
			return n;
		}
	}
	out[n] = strndup(text, len);
	return out[n] != NULL ? n + 1 : n;
}

/* Is row of a table's list one of table's rows (NULL: any)? */
static bool
sh_row_of(const msgpack_object *row, const char *table)
{
	const msgpack_object *v;

	if (table == NULL) {
		return true;
	}
	v = proto_get(row, "table");
	return v != NULL && v->type == MSGPACK_OBJECT_STR &&
	    v->via.str.size == strlen(table) &&
	    memcmp(v->via.str.ptr, table, v->via.str.size) == 0;
}

/* Live names of kind ref from sipd, for the argument called arg. */
static int
sh_live(struct sh *sh, const char *ref, const char *arg, char **out, int n,
    int cap, const char *partial, size_t plen)
{
	struct proto_msg m;
	enum cmd_id cmd;
	const char *field, *table;

	if (sh_ref_source(ref, arg, &cmd, &field, &table) == 0) {
		const msgpack_object *d, *v;

		if (sh_query(sh, cmd, &m) < 0) {
			proto_msg_fini(&m);
			return n;
		}
		d = m.data;
		if (d != NULL && d->type == MSGPACK_OBJECT_MAP) {
			v = proto_get(d, field);
			for (uint32_t k = 0; v != NULL &&
			     v->type == MSGPACK_OBJECT_ARRAY &&
			     k < v->via.array.size;
			     k++) {
				char num[24];
				int len = snprintf(num, sizeof(num), "%llu",
				    (unsigned long long)v->via.array.ptr[k]
					.via.u64);

				n = sh_add(out, n, cap, num, (size_t)len,
				    partial, plen);
			}
		} else if (d != NULL && d->type == MSGPACK_OBJECT_ARRAY) {
			for (uint32_t k = 0; k < d->via.array.size; k++) {
				if (!sh_row_of(&d->via.array.ptr[k], table)) {
					continue;
				}
				v = proto_get(&d->via.array.ptr[k],
				    field);
				if (v != NULL && v->type == MSGPACK_OBJECT_STR) {
					n = sh_add(out, n, cap, v->via.str.ptr,
					    v->via.str.size, partial, plen);
				} else if (v != NULL && v->type ==
					   MSGPACK_OBJECT_POSITIVE_INTEGER) {
					char num[24];
					int len = snprintf(num, sizeof(num),
					    "%llu", (unsigned long long)
					    v->via.u64);

					n = sh_add(out, n, cap, num,
					    (size_t)len, partial, plen);
				}
			}
		}
		proto_msg_fini(&m);
	}
	return n;
}

/* File names completing partial. */
static int
sh_paths(char **out, int n, int cap, const char *partial, size_t plen)
{
	char dir[4096];
	const char *slash = strrchr(partial, '/');
	const char *base = slash != NULL ? slash + 1 : partial;
	size_t blen = plen - (size_t)(base - partial);
	struct dirent *de;
	DIR *d;

	if (slash == partial) {
		snprintf(dir, sizeof(dir), "/");
	} else if (slash != NULL) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - partial),
		    partial);
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	d = opendir(dir);
	if (d == NULL) {
		return n;
	}
	while (n < cap && (de = readdir(d)) != NULL) {
		char full[4096 + 260];
		int len;

		if (strncmp(de->d_name, base, blen) != 0 ||
		    strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		len = snprintf(full, sizeof(full), "%.*s%s%s",
		    (int)(base - partial), partial, de->d_name,
		    de->d_type == DT_DIR ? "/" : "");
		if (len > 0 && (size_t)len < sizeof(full)) {
			n = sh_add(out, n, cap, full, (size_t)len, partial,
			    plen);
		}
	}
	closedir(d);
	return n;
}

/*
 * After "help" the words name a command: complete and describe them as
 * if "help" were not there.  Returns how many words to skip, 0 or 1.
 */
static int
sh_help_words(const struct lex_line *l, int ncomplete)
{
	const struct cmd *c;
	int used;

	if (ncomplete < 1 ||
	    cmd_find(l->words, 1, 0, &c, &used, NULL, 0) < 0 ||
	    c->id != CMD_HELP) {
		return 0;
	}
	return 1;
}

int
sh_candidates(struct sh *sh, const char *line, size_t len, char **out,
    int cap, size_t *partial_len)
{
	struct lex_line l;
	struct cmd_next *next;
	const char *partial = "";
	size_t plen = 0;
	int ncomplete, n = 0, skip;

	if (lex_split(&l, line, len, LEX_PARTIAL, NULL) < 0) {
		lex_fini(&l);
		return -1;
	}
	ncomplete = l.count;
	if (l.count > 0 && !l.trailing_blank) {
		ncomplete = l.count - 1;
		partial = l.words[l.count - 1].text;
		plen = l.words[l.count - 1].len;
	}
	skip = sh_help_words(&l, ncomplete);
	next = malloc(sizeof(*next));
	if (next == NULL ||
	    cmd_next(l.words + skip, ncomplete - skip, 0, next) < 0) {
		free(next);
		lex_fini(&l);
		return -1;
	}
	for (int i = 0; i < next->n; i++) {
		n = sh_add(out, n, cap, next->word[i].text, next->word[i].len,
		    partial, plen);
	}
	if (next->value && next->spec.type == CMD_T_REF) {
		n = sh_live(sh, next->spec.ref, next->spec.name, out, n,
		    cap, partial, plen);
	} else if (next->value && next->spec.type == CMD_T_PATH) {
		n = sh_paths(out, n, cap, partial, plen);
	} else if (next->value && next->cmd != NULL &&
	    next->cmd->id == CMD_ROUTER_REMOVE &&
	    ncomplete - skip == cmd_nwords(next->cmd)) {
		/* a record's number, the first word of the rest */
		n = sh_live(sh, "router", "number", out, n, cap, partial,
		    plen);
	}
	*partial_len = plen;
	free(next);
	lex_fini(&l);
	return n;
}

void
sh_describe(struct sh *sh, const char *line, size_t len, FILE *f)
{
	struct lex_line l;
	struct cmd_next *next;
	char usage[512];
	const char *partial = "", *help;
	size_t plen = 0;
	int ncomplete, shown = 0, skip;

	(void)sh;
	if (lex_split(&l, line, len, LEX_PARTIAL, NULL) < 0) {
		lex_fini(&l);
		return;
	}
	ncomplete = l.count;
	if (l.count > 0 && !l.trailing_blank) {
		/* "set t?" lists only what starts with "t" */
		ncomplete = l.count - 1;
		partial = l.words[l.count - 1].text;
		plen = l.words[l.count - 1].len;
	}
	skip = sh_help_words(&l, ncomplete);
	next = malloc(sizeof(*next));
	if (next == NULL ||
	    cmd_next(l.words + skip, ncomplete - skip, 0, next) < 0) {
		fprintf(f, "  (no command matches)\n");
		free(next);
		lex_fini(&l);
		return;
	}
	if (next->cmd != NULL && plen == 0) {
		fprintf(f, "  %s\n      %s\n",
		    cmd_usage(next->cmd, usage, sizeof(usage)),
		    next->cmd->summary);
	}
	for (int i = 0; i < next->n; i++) {
		if (!cmd_prefix(partial, plen, next->word[i].text,
			next->word[i].len)) {
			continue;
		}
		/* a table's field: its help from tables.def */
		help = next->word[i].help != NULL ? next->word[i].help
		    : tbl_field_help(next->cmd, next->word[i].text);
		fprintf(f, "  %-24s %s\n", next->word[i].text,
		    help != NULL ? help : "");
		shown++;
	}
	if (next->value) {
		char name[CMD_NAME_MAX + 2];

		help = tbl_field_help(next->cmd, next->spec.name);
		snprintf(name, sizeof(name), "<%s>", next->spec.name);
		if (help != NULL) {
			fprintf(f, "  %-24s %s\n", name, help);
		} else {
			fprintf(f, "  %s\n", name);
		}
		shown++;
	}
	if (next->cmd != NULL && next->n == 0 && !next->value && plen == 0) {
		fprintf(f, "  <Enter>\n");
		shown++;
	}
	if (shown == 0 && plen > 0) {
		fprintf(f, "  (nothing starts with '%.*s')\n", (int)plen,
		    partial);
	}
	free(next);
	lex_fini(&l);
}
