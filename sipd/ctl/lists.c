/*
 * The listings of the configuration's tables: "account show", kept
 * outside the table engine, and the listeners, the forwarding rules, the
 * domains and accounts (rows made of the snapshot) and the workarounds
 * (both tables in one list, and "workaround test"), listed by it
 * (table.c).  Each map's keys are the fields proto/tables.def
 * declares listed (tests/integration/ctl/tables checks the replies, the
 * man/tables test the pages).  Owns nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/table.h"
#include "sipd/acct/acct.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/wk/wk.h"

int
ctl_h_listener_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_LISTENER], c->listeners,
	    c->nlisteners, sizeof(c->listeners[0]));
}

static void
pack_strs(msgpack_packer *pk, const char *key, const char *const *v,
    size_t n)
{
	proto_str(pk, key);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		proto_str(pk, v[i]);
	}
}

int
ctl_h_domain_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct acct *a = r->ctl->conf->acct;
	struct acct_domain_info di;
	struct conf_domain *row = malloc(sizeof(*row));
	size_t n = acct_domain_count(a);

	if (row == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		acct_domain_get(a, i, &di);
		conf_domain_row(&di, row);
		ctl_table_pack_row(pk, &tbl_table[TBL_DOMAIN], row, (int)i + 1,
		    r->conn->writer);
	}
	free(row);
	return 0;
}

/*
 * One account as "account show" gives it: what it is, never its digests
 * (only whether it has them), its parts and which digests it and its
 * aliases have.
 */
static void
pack_account(msgpack_packer *pk, const struct acct_account_info *ai)
{
	char addr[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	const char *algs[ACCT__ALG_COUNT];
	size_t nalg = 0, nauth = 0;
	const char *auth[ACCT_MAX_ALIASES];

	snprintf(addr, sizeof(addr), "%s@%s", ai->user, ai->domain);
	msgpack_pack_map(pk, 9);
	proto_kv_str(pk, "account", addr);
	proto_kv_bool(pk, "enabled", ai->enabled);
	pack_strs(pk, "aliases", ai->aliases, ai->naliases);
	proto_kv_str(pk, "forward", ai->forward != NULL ? ai->forward : "");
	proto_kv_bool(pk, "password", ai->ha1[ACCT_MD5][0] != '\0' ||
	    ai->ha1[ACCT_SHA256][0] != '\0');
	proto_kv_str(pk, "user", ai->user);
	proto_kv_str(pk, "domain", ai->domain);
	for (int k = 0; k < ACCT__ALG_COUNT; k++) {
		if (ai->ha1[k][0] != '\0') {
			algs[nalg++] = acct_alg_name((enum acct_alg)k);
		}
	}
	for (size_t i = 0; i < ai->naliases; i++) {
		if (ai->alias_ha1[i][ACCT_MD5][0] != '\0' ||
		    ai->alias_ha1[i][ACCT_SHA256][0] != '\0') {
			auth[nauth++] = ai->aliases[i];
		}
	}
	pack_strs(pk, "digests", algs, nalg);
	/* the aliases a client may authenticate as */
	pack_strs(pk, "alias-digests", auth, nauth);
}

int
ctl_h_account_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct acct *a = r->ctl->conf->acct;
	const char *domain = cmd_arg_str(r->args, "domain");
	struct acct_account_info *ai;
	struct conf_account *row;
	struct acct_domain_info di;
	size_t n = 0, from = 0, to = acct_domain_count(a);
	int place = 0;

	if (domain != NULL) {
		int i = acct_domain_find(a, domain);

		if (i < 0) {
			return ctl_fail(r, -ENOENT, "no domain %s", domain);
		}
		from = (size_t)i;
		to = from + 1;
	}
	ai = malloc(sizeof(*ai));
	row = malloc(sizeof(*row));
	if (ai == NULL || row == NULL) {
		free(ai);
		free(row);
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	for (size_t i = from; i < to; i++) {
		acct_domain_get(a, i, &di);
		n += di.naccounts;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, n);
	for (size_t i = from; i < to; i++) {
		acct_domain_get(a, i, &di);
		for (size_t j = 0; j < di.naccounts; j++) {
			acct_account_get(a, i, j, ai);
			conf_account_row(ai, row);
			ctl_table_pack_row(pk, &tbl_table[TBL_ACCOUNT], row,
			    ++place, r->conn->writer);
		}
	}
	explicit_bzero(row, sizeof(*row));
	free(row);
	free(ai);
	return 0;
}

int
ctl_h_account_show(struct ctl_req *r)
{
	const char *account = cmd_arg_str(r->args, "account");
	struct acct_account_info *ai;

	ai = malloc(sizeof(*ai));
	if (ai == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	if (account == NULL ||
	    acct_account_find(r->ctl->conf->acct, account, ai) < 0) {
		free(ai);
		return ctl_fail(r, -ENOENT, "no account %s",
		    account != NULL ? account : "");
	}
	proto_begin_reply(r->out, r->id);
	pack_account(&r->out->pk, ai);
	free(ai);
	return 0;
}

int
ctl_h_route_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_ROUTE], c->routes, c->nroutes,
	    sizeof(c->routes[0]));
}

/* The rows of both workaround tables, products first. */
static void
wk_parts(const struct wk *w, struct ctl_rows parts[2])
{
	parts[0] = (struct ctl_rows){ &tbl_table[TBL_WK_PRODUCT], w->product,
		w->nproduct, sizeof(w->product[0]) };
	parts[1] = (struct ctl_rows){ &tbl_table[TBL_WK_SITE], w->site,
		w->nsite, sizeof(w->site[0]) };
}

int
ctl_h_workaround_list(struct ctl_req *r)
{
	struct ctl_rows parts[2];

	wk_parts(&r->ctl->conf->wk, parts);
	return ctl_table_list_shared(r, parts, 2);
}

/* The entries matching a product string and a domain, and their union. */
int
ctl_h_workaround_test(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct wk *w = &r->ctl->conf->wk;
	const char *ua = cmd_arg_str(r->args, "ua");
	const char *dom = cmd_arg_str(r->args, "domain");
	bool pm[WK_MAX_ENTRIES], sm[WK_MAX_ENTRIES];
	unsigned m = 0;
	size_t n = 0;
	char buf[128];

	if (ua == NULL && dom == NULL) {
		return ctl_fail(r, -EINVAL, "give ua STRING, domain NAME or "
		    "both");
	}
	m |= wk_lookup(w, WK_PRODUCT, ua, ua != NULL ? strlen(ua) : 0, pm);
	m |= wk_lookup(w, WK_SITE, dom, dom != NULL ? strlen(dom) : 0, sm);
	for (int i = 0; i < w->nproduct; i++) {
		n += pm[i];
	}
	for (int i = 0; i < w->nsite; i++) {
		n += sm[i];
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 2);
	proto_kv_str(pk, "methods", wk_methods_text(m, buf, sizeof(buf)));
	proto_str(pk, "matches");
	msgpack_pack_array(pk, n);
	for (int i = 0; i < w->nproduct; i++) {
		if (pm[i]) {
			ctl_table_pack_row(pk, &tbl_table[TBL_WK_PRODUCT],
			    &w->product[i], i + 1, r->conn->writer);
		}
	}
	for (int i = 0; i < w->nsite; i++) {
		if (sm[i]) {
			ctl_table_pack_row(pk, &tbl_table[TBL_WK_SITE],
			    &w->site[i], i + 1, r->conn->writer);
		}
	}
	return 0;
}
