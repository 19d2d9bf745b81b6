/*
 * The configuration's accounts as rows of their table (proto/tables.def):
 * "account add" and "account remove" are the table engine's
 * (conf_table.c), which sets and checks each field and hands the row to
 * the storage hooks here, which edit the accounts snapshot (sipd/acct);
 * "account list" and the saved "account add" lines are the engine's too,
 * from the rows conf_account_row() makes of the snapshot.  An account's
 * aliases, forwarder and state are changed by commands of their own and
 * saved as their lines after the account's.  Owns nothing: the accounts
 * live in c->acct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lex.h"
#include "proto/table.h"
#include "sipd/conf.h"

void
conf_account_row(const struct acct_account_info *ai,
    struct conf_account *row)
{
	size_t o = 0;

	memset(row, 0, sizeof(*row));
	snprintf(row->account, sizeof(row->account), "%s@%s", ai->user,
	    ai->domain);
	row->enabled = ai->enabled;
	/* a user name holds no blank (RFC 3261 25.1): one between two */
	for (size_t i = 0; i < ai->naliases; i++) {
		size_t room = sizeof(row->aliases) - o;
		int w = snprintf(row->aliases + o, room, "%s%s",
		    i > 0 ? " " : "", ai->aliases[i]);

		if (w < 0 || (size_t)w >= room) {
			break;
		}
		o += (size_t)w;
	}
	snprintf(row->forward, sizeof(row->forward), "%s",
	    ai->forward != NULL ? ai->forward : "");
	snprintf(row->ha1_md5, sizeof(row->ha1_md5), "%s", ai->ha1[ACCT_MD5]);
	snprintf(row->ha1_sha256, sizeof(row->ha1_sha256), "%s",
	    ai->ha1[ACCT_SHA256]);
}

int
conf_account_put(struct conf *c, const void *row, char *err, size_t cap)
{
	const struct conf_account *r = row;
	const char *ha1[ACCT__ALG_COUNT] = {
		r->ha1_md5[0] != '\0' ? r->ha1_md5 : NULL,
		r->ha1_sha256[0] != '\0' ? r->ha1_sha256 : NULL,
	};

	return acct_account_add(&c->acct, r->account,
	    r->password[0] != '\0' ? r->password : NULL, ha1, err, cap);
}

int
conf_account_del(struct conf *c, const void *row, char *err, size_t cap)
{
	const struct conf_account *r = row;

	return acct_account_remove(&c->acct, r->account, err, cap);
}

/* The password is never kept: it is set when the account has digests. */
void
conf_account_view_password(const void *row, char *buf, size_t cap)
{
	const struct conf_account *r = row;

	snprintf(buf, cap, "%s",
	    r->ha1_md5[0] != '\0' || r->ha1_sha256[0] != '\0' ? "set" : "");
}

/* " ha1-md5 HEX ha1-sha256 HEX" for the digests that are set. */
static void
dump_ha1(const char *const ha1[ACCT__ALG_COUNT], bool secrets, FILE *f)
{
	for (int k = 0; k < ACCT__ALG_COUNT; k++) {
		if (ha1[k] != NULL && ha1[k][0] != '\0') {
			fprintf(f, " ha1-%s %s", acct_alg_name((enum acct_alg)k),
			    secrets ? ha1[k] : CONF_HIDDEN);
		}
	}
}

/* An account's lines: its row's "account add", then its aliases (with
 * their own digests), forwarder and state. */
static void
dump_account(const struct acct_account_info *ai, struct conf_account *row,
    bool secrets, FILE *f)
{
	conf_account_row(ai, row);
	conf_row_dump(&tbl_table[TBL_ACCOUNT], row, secrets, f);
	for (size_t k = 0; k < ai->naliases; k++) {
		fputs("account alias add ", f);
		lex_word_out(f, row->account);
		fputc(' ', f);
		lex_word_out(f, ai->aliases[k]);
		dump_ha1(ai->alias_ha1[k], secrets, f);
		fputc('\n', f);
	}
	if (ai->forward != NULL) {
		fputs("account forward ", f);
		lex_word_out(f, row->account);
		fputc(' ', f);
		lex_word_out(f, ai->forward);
		fputc('\n', f);
	}
	if (!ai->enabled) {
		fputs("account disable ", f);
		lex_word_out(f, row->account);
		fputc('\n', f);
	}
}

void
conf_acct_dump(const struct acct *a, bool secrets, FILE *f)
{
	struct acct_domain_info di;
	struct acct_account_info *ai = malloc(sizeof(*ai));
	struct conf_account *row = malloc(sizeof(*row));

	if (ai == NULL || row == NULL) {
		goto out;
	}
	for (size_t i = 0; i < acct_domain_count(a); i++) {
		acct_domain_get(a, i, &di);
		fprintf(f, "domain add %s\n", di.name);
		for (size_t k = 0; k < di.naliases; k++) {
			fprintf(f, "domain alias add %s %s\n", di.name,
			    di.aliases[k]);
		}
		if (!di.enabled) {
			fprintf(f, "domain disable %s\n", di.name);
		}
		for (size_t j = 0; j < di.naccounts; j++) {
			acct_account_get(a, i, j, ai);
			dump_account(ai, row, secrets, f);
		}
	}
out:
	if (row != NULL) {
		explicit_bzero(row, sizeof(*row));
	}
	if (ai != NULL) {
		explicit_bzero(ai, sizeof(*ai));
	}
	free(row);
	free(ai);
}
