/*
 * The listing of the tables of proto/tables.def whose rows are one
 * structure: each row a map of its listed fields, in their declared
 * order, typed as declared (str a string, uint an integer, bool a
 * boolean; a PLACE field the row's place, from 1; a KIND field the
 * table's last word; an AT_WORDS field an array of its words; an AT_SET
 * field a boolean, whether it is set); any other secret is "" when unset,
 * else itself for a writer and "hidden" for a reader.  Several tables may
 * share one list.  Owns nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/table.h"
#include "sipd/conf.h"
#include "sipd/ctl/ctl_int.h"

/* text's blank-separated words as an array under key. */
static void
pack_words(msgpack_packer *pk, const char *key, const char *text)
{
	size_t n = 0;

	for (const char *p = text + strspn(text, " "); *p != '\0';
	     p += strspn(p, " ")) {
		n++;
		p += strcspn(p, " ");
	}
	proto_str(pk, key);
	msgpack_pack_array(pk, n);
	for (const char *p = text + strspn(text, " "); *p != '\0';
	     p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");

		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, p, len);
		p += len;
	}
}

void
ctl_table_pack_row(msgpack_packer *pk, const struct tbl *t, const void *row,
    int place, bool writer)
{
	const struct tbl_field *f;
	size_t n = 0;

	for (f = tbl_next(t, NULL); f != NULL; f = tbl_next(t, f)) {
		n += tbl_field_listed(f) && conf_tfield_stored(f);
	}
	msgpack_pack_map(pk, n);
	for (f = tbl_next(t, NULL); f != NULL; f = tbl_next(t, f)) {
		const struct conf_tfield *x = conf_tfield(f);
		char text[CMD_VALUE_MAX];

		if (!tbl_field_listed(f) || !conf_tfield_stored(f)) {
			continue;
		}
		if (x->list == CONF_TL_WORDS && x->view == NULL) {
			/* in place: longer than any one value (a domain's
			 * 32 aliases of 253 bytes) */
			pack_words(pk, f->name, (const char *)row + x->off);
			continue;
		}
		if (x->place) {
			snprintf(text, sizeof(text), "%d", place);
		} else if (x->view != NULL) {
			x->view(row, text, sizeof(text));
		} else {
			conf_row_text(f, row, text, sizeof(text));
		}
		if (x->list == CONF_TL_SET) {
			proto_kv_bool(pk, f->name, text[0] != '\0');
		} else if (x->list == CONF_TL_WORDS) {
			pack_words(pk, f->name, text); /* a view's words */
		} else if (strncmp(f->arg, "uint(", 5) == 0) {
			proto_kv_uint(pk, f->name, strtoull(text, NULL, 10));
		} else if (strcmp(f->arg, "bool") == 0) {
			proto_kv_bool(pk, f->name, strcmp(text, "on") == 0);
		} else if ((f->flags & TF_SECRET) != 0 && text[0] != '\0' &&
		    !writer) {
			/* a secret: for those allowed to change it only */
			proto_kv_str(pk, f->name, CONF_HIDDEN);
		} else {
			proto_kv_str(pk, f->name, text);
		}
	}
}

int
ctl_table_list(struct ctl_req *r, const struct tbl *t, const void *rows,
    int n, size_t size)
{
	const struct ctl_rows one = { t, rows, n, size };

	return ctl_table_list_shared(r, &one, 1);
}

int
ctl_table_list_shared(struct ctl_req *r, const struct ctl_rows *parts,
    int n)
{
	msgpack_packer *pk = &r->out->pk;
	size_t all = 0;

	for (int k = 0; k < n; k++) {
		all += (size_t)parts[k].n;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, all);
	for (int k = 0; k < n; k++) {
		for (int i = 0; i < parts[k].n; i++) {
			ctl_table_pack_row(pk, parts[k].t,
			    (const char *)parts[k].rows +
				(size_t)i * parts[k].size,
			    i + 1, r->conn->writer);
		}
	}
	return 0;
}
