/*
 * The device workarounds of the configuration: the checks and codec of
 * the fields of their two tables (proto/tables.def: products and sites,
 * each a table of struct wk, sipd/wk), "workaround product|site add" and
 * "remove" by the table engine, and their saved lines.  Owns nothing:
 * the tables live in struct conf.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "proto/table.h"
#include "sipd/conf.h"
#include "sipd/wk/wk.h"

int
conf_wk_check_pattern(const char *v, char *err, size_t cap)
{
	return wk_key_check(WK_PRODUCT, v, err, cap);
}

int
conf_wk_check_site(const char *v, char *err, size_t cap)
{
	return wk_key_check(WK_SITE, v, err, cap);
}

static int
parse_methods(enum wk_table t, void *row, const char *v, char *err,
    size_t cap)
{
	unsigned m;
	int rc;

	if ((rc = wk_methods_parse(v, &m, err, cap)) < 0 ||
	    (rc = wk_methods_check(t, m, err, cap)) < 0) {
		char why[256];

		/* the field named, as the table engine names it */
		snprintf(why, sizeof(why), "%s",
		    err != NULL && cap > 0 ? err : "");
		return err_fmt(err, cap, rc, "bad methods: %s", why);
	}
	((struct wk_entry *)row)->methods = m;
	return 0;
}

int
conf_wk_parse_product(void *row, const char *v, char *err, size_t cap)
{
	return parse_methods(WK_PRODUCT, row, v, err, cap);
}

int
conf_wk_parse_site(void *row, const char *v, char *err, size_t cap)
{
	return parse_methods(WK_SITE, row, v, err, cap);
}

void
conf_wk_text_methods(const void *row, char *buf, size_t cap)
{
	wk_methods_text(((const struct wk_entry *)row)->methods, buf, cap);
}

int
conf_wk_cmd(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	enum cmd_id id = a->cmd->id;
	bool product = id == CMD_WORKAROUND_PRODUCT_ADD ||
	    id == CMD_WORKAROUND_PRODUCT_REMOVE;
	const struct tbl *t = &tbl_table[product ? TBL_WK_PRODUCT
						 : TBL_WK_SITE];
	struct wk_entry *e = product ? c->wk.product : c->wk.site;
	int *n = product ? &c->wk.nproduct : &c->wk.nsite;
	const char *what = product ? "product" : "site";
	const char *key = cmd_arg_str(a, product ? "pattern" : "domain");
	int rc;

	if (id == CMD_WORKAROUND_PRODUCT_ADD ||
	    id == CMD_WORKAROUND_SITE_ADD) {
		rc = conf_rows_add(t, e, n, WK_MAX_ENTRIES, sizeof(*e), a,
		    err, cap);
	} else {
		rc = conf_rows_remove(t, e, n, sizeof(*e), a, err, cap);
	}
	/* the tables' own words, which scripts have seen */
	if (rc == -EEXIST) {
		return err_fmt(err, cap, rc, "%s '%.64s' has workarounds "
		    "already", what, key != NULL ? key : "");
	}
	if (rc == -ENOENT) {
		return err_fmt(err, cap, rc, "no %s '%.64s'", what,
		    key != NULL ? key : "");
	}
	return rc;
}

void
conf_wk_dump(const struct conf *c, FILE *f)
{
	for (int i = 0; i < c->wk.nproduct; i++) {
		conf_row_dump(&tbl_table[TBL_WK_PRODUCT], &c->wk.product[i],
		    false, f);
	}
	for (int i = 0; i < c->wk.nsite; i++) {
		conf_row_dump(&tbl_table[TBL_WK_SITE], &c->wk.site[i], false,
		    f);
	}
}
