/*
 * The configuration's domains and accounts as rows of their tables
 * (proto/tables.def): "domain add", "domain remove", "account add" and
 * "account remove" are the table engine's (conf_table.c), which sets and
 * checks each field and hands the row to the storage hooks here, which
 * edit the accounts snapshot (sipd/acct); "domain list", "account list"
 * and the saved "domain add" and "account add" lines are the engine's
 * too, from the rows conf_domain_row() and conf_account_row() make of the
 * snapshot.  Aliases, forwarders and states are changed by commands of
 * their own and saved as their lines after the row's.  Owns nothing: the
 * domains and accounts live in c->acct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lex.h"
#include "proto/table.h"
#include "sipd/conf.h"

/* v[0..n) into buf, one blank between two: a host name and a user name
 * hold no blank (RFC 3261 25.1).  buf holds them all when it is sized
 * as the row's member is. */
static void
join_words(char *buf, size_t cap, const char *const *v, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t room = cap - o;
		int w = snprintf(buf + o, room, "%s%s", i > 0 ? " " : "", v[i]);

		if (w < 0 || (size_t)w >= room) {
			break;
		}
		o += (size_t)w;
	}
}

void
conf_domain_row(const struct acct_domain_info *di, struct conf_domain *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->domain, sizeof(row->domain), "%s", di->name);
	row->enabled = di->enabled;
	row->accounts = (uint32_t)di->naccounts;
	join_words(row->aliases, sizeof(row->aliases), di->aliases,
	    di->naliases);
}

int
conf_domain_put(struct conf *c, const void *row, char *err, size_t cap)
{
	const struct conf_domain *r = row;

	return acct_domain_add(&c->acct, r->domain, err, cap);
}

int
conf_domain_del(struct conf *c, const void *row, char *err, size_t cap)
{
	const struct conf_domain *r = row;

	return acct_domain_remove(&c->acct, r->domain, err, cap);
}

void
conf_account_row(const struct acct_account_info *ai,
    struct conf_account *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->account, sizeof(row->account), "%s@%s", ai->user,
	    ai->domain);
	row->enabled = ai->enabled;
	join_words(row->aliases, sizeof(row->aliases), ai->aliases,
	    ai->naliases);
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

/* Each domain's lines: its row's "domain add", its aliases and state,
 * then its accounts'. */
void
conf_acct_dump(const struct acct *a, bool secrets, FILE *f)
{
	struct acct_domain_info di;
	struct acct_account_info *ai = malloc(sizeof(*ai));
	struct conf_account *row = malloc(sizeof(*row));
	struct conf_domain *drow = malloc(sizeof(*drow));

	if (ai == NULL || row == NULL || drow == NULL) {
		goto out;
	}
	for (size_t i = 0; i < acct_domain_count(a); i++) {
		acct_domain_get(a, i, &di);
		conf_domain_row(&di, drow);
		conf_row_dump(&tbl_table[TBL_DOMAIN], drow, secrets, f);
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
	free(drow);
	free(row);
	free(ai);
}
