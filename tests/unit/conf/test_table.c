/*
 * Unit tests of the tables of proto/tables.def and of the code derived
 * from them (proto/table.c, sipd/conf_table.c): each "T add" command of
 * commands.def takes exactly the fields declared, in the declared way,
 * and each "T remove" the keys; each field a row keeps is of its
 * declared type's size; a bad value of each field of each such table is
 * refused with a message naming the field, adding nothing; a remove or
 * change of a missing key says there is none; a domain's and an
 * account's row is made of the accounts snapshot, put and taken out
 * through the engine's storage hooks; every table, saved
 * (conf_dump()) and loaded again, comes back the same; and a row's add,
 * remove and set lines have one key when saved into the administrator's
 * file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/lex.h"
#include "proto/table.h"
#include "sipd/conf.h"

/* words with their blanks as one space, for comparing specs */
static void
squeeze(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < cap; s++) {
		if (*s == ' ' && (o == 0 || out[o - 1] == ' ')) {
			continue;
		}
		out[o++] = *s;
	}
	while (o > 0 && out[o - 1] == ' ') {
		o--;
	}
	out[o] = '\0';
}

static const struct cmd *
cmd_of(const struct tbl *t, const char *verb)
{
	char name[64];

	snprintf(name, sizeof(name), "%s %s", t->words, verb);
	return cmd_by_name(name, strlen(name));
}

/* "T add" takes what the table declares, and nothing else. */
static void
test_add_args(void **state)
{
	(void)state;
	for (int i = 0; i < TBL__COUNT; i++) {
		const struct tbl *t = &tbl_table[i];
		const struct cmd *add = cmd_of(t, "add");
		char want[1024], got[1024];

		if (add == NULL) {
			fail_msg("no command '%s add'", t->words);
		}
		assert_non_null(tbl_add_args(t, want, sizeof(want)));
		squeeze(add->args, got, sizeof(got));
		if (strcmp(want, got) != 0) {
			fail_msg("'%s add' takes '%s'; tables.def declares "
				 "'%s'",
			    t->words, got, want);
		}
		if (t->list[0] != '\0' &&
		    cmd_by_name(t->list, strlen(t->list)) == NULL) {
			fail_msg("no command '%s'", t->list);
		}
	}
}

/* "T remove" takes the keys, by name, in order. */
static void
test_remove_keys(void **state)
{
	(void)state;
	for (int i = 0; i < TBL__COUNT; i++) {
		const struct tbl *t = &tbl_table[i];
		const struct cmd *rm = cmd_of(t, "remove");
		struct cmd_argspec spec[CMD_MAX_ARGS];
		const struct tbl_field *f = tbl_next(t, NULL);
		int n, k = 0;

		if (rm == NULL) {
			fail_msg("no command '%s remove'", t->words);
		}
		n = cmd_spec(rm, spec, CMD_MAX_ARGS);
		for (; f != NULL; f = tbl_next(t, f)) {
			if ((f->flags & TF_KEY) == 0) {
				continue;
			}
			if (k >= n || strcmp(spec[k].name, f->name) != 0) {
				fail_msg("'%s remove': argument %d is not the "
					 "key %s",
				    t->words, k + 1, f->name);
			}
			k++;
		}
		if (k != n) {
			fail_msg("'%s remove' takes %d arguments, %d keys", t->words,
			    n, k);
		}
	}
}

/* "gateway set" changes any field but the name. */
static void
test_set_fields(void **state)
{
	const struct tbl *t = &tbl_table[TBL_GATEWAY];
	const struct cmd *set = cmd_of(t, "set");
	struct cmd_argspec spec[CMD_MAX_ARGS];
	char want[512];
	int n;

	(void)state;
	assert_non_null(set);
	n = cmd_spec(set, spec, CMD_MAX_ARGS);
	assert_true(n >= 2);
	assert_string_equal(spec[1].name, "field");
	assert_non_null(tbl_field_names(t, want, sizeof(want)));
	assert_int_equal(spec[1].choices_len, strlen(want));
	assert_memory_equal(spec[1].choices, want, strlen(want));
}

/* A field a row keeps has its type's size. */
static void
test_stored(void **state)
{
	(void)state;
	for (int i = 0; i < tbl_nfields; i++) {
		const struct tbl_field *f = &tbl_fields[i];

		if (conf_tfield(f)->size != 0 && !conf_tfield_stored(f)) {
			fail_msg("%s %s: the member is not a %s",
			    tbl_table[f->table].words, f->name, f->arg);
		}
	}
}

/* Values of the keys and required fields that are good. */
static const char *
good(const struct tbl_field *f)
{
	if (f->table == TBL_GATEWAY && strcmp(f->name, "name") == 0) {
		return "P1";
	}
	if (f->table == TBL_GATEWAY && strcmp(f->name, "domain") == 0) {
		return "prov.test";
	}
	if (f->table == TBL_ROUTE && strcmp(f->name, "domain") == 0) {
		return "example.org";
	}
	if (f->table == TBL_ROUTE && strcmp(f->name, "target") == 0) {
		return "192.0.2.7:5080";
	}
	if (f->table == TBL_LISTENER && strcmp(f->name, "transport") == 0) {
		return "udp";
	}
	if (f->table == TBL_LISTENER && strcmp(f->name, "address") == 0) {
		return "127.0.0.1:5070";
	}
	if (f->table == TBL_ROUTER && strcmp(f->name, "record") == 0) {
		return "Signal:<1*> = *@P1.sipgw";
	}
	if (strcmp(f->name, "range") == 0) {
		return "!10.0.0.0/8";
	}
	if (f->table == TBL_WK_PRODUCT && strcmp(f->name, "pattern") == 0) {
		return "Acme*";
	}
	if (f->table == TBL_WK_SITE && strcmp(f->name, "domain") == 0) {
		return "=example.net";
	}
	if (strcmp(f->name, "methods") == 0) {
		return "noTCP";
	}
	if (f->table == TBL_ACCOUNT && strcmp(f->name, "account") == 0) {
		return "alice@example.com";
	}
	if (f->table == TBL_DOMAIN && strcmp(f->name, "domain") == 0) {
		return "example.com";
	}
	fail_msg("no good value of %s %s", tbl_table[f->table].words, f->name);
	return NULL;
}

/* The rows of table t in c. */
static int
rows_of(const struct conf *c, enum tbl_id t)
{
	switch (t) {
	case TBL_GATEWAY:
		return c->ngw;
	case TBL_LISTENER:
		return c->nlisteners;
	case TBL_ROUTE:
		return c->nroutes;
	case TBL_ROUTER:
		return c->nrouter;
	case TBL_LAN:
		return c->nlan;
	case TBL_CLIENT_IP:
		return c->nclient_ip;
	case TBL_NATED:
		return c->nnated;
	case TBL_WK_PRODUCT:
		return c->wk.nproduct;
	case TBL_WK_SITE:
		return c->wk.nsite;
	case TBL_DOMAIN:
		return (int)acct_domain_count(c->acct);
	case TBL_ACCOUNT: {
		struct acct_domain_info di;
		int n = 0;

		for (size_t i = 0; i < acct_domain_count(c->acct); i++) {
			acct_domain_get(c->acct, i, &di);
			n += (int)di.naccounts;
		}
		return n;
	}
	default:
		fail_msg("no count of table %d", (int)t);
		return -1;
	}
}

/* Run "T add" on c with good keys and required fields, and field bad set
 * to v. */
static int
add_with(struct conf *c, const struct tbl *t, const struct tbl_field *bad,
    const char *v, char *err, size_t cap)
{
	struct cmd_args *a = malloc(sizeof(*a));
	int rc;

	assert_non_null(a);
	assert_int_equal(cmd_args_init(a, cmd_of(t, "add")), 0);
	for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
	     f = tbl_next(t, f)) {
		const char *x = f == bad ? v
		    : (f->flags & (TF_KEY | TF_REQ)) != 0 ? good(f)
							  : NULL;

		/* an account needs its domain, and a password or digests:
		 * the password when no digest is at fault */
		if (t->id == TBL_ACCOUNT && f == tbl_field(t, "password") &&
		    x == NULL && (bad == NULL ||
				     strncmp(bad->name, "ha1-", 4) != 0)) {
			x = "pw";
		}
		int i = cmd_args_index(a, f->name, strlen(f->name));

		if (x == NULL) {
			continue;
		}
		assert_true(i >= 0);
		/* the text as sipd gets it; the grammar's own checks are
		 * cmd's, tested in tests/unit/proto */
		a->val[i].set = true;
		a->val[i].s = x;
	}
	rc = conf_apply(c, a, err, cap);
	free(a);
	return rc;
}

/* Each field of each table kept in rows: bad values of its type are
 * refused naming it, and add nothing. */
static void
test_bad_values(void **state)
{
	char err[512], *longstr = malloc(CMD_VALUE_MAX);

	(void)state;
	assert_non_null(longstr);
	for (int i = 0; i < tbl_nfields; i++) {
		const struct tbl_field *f = &tbl_fields[i];
		const struct tbl *t = &tbl_table[f->table];
		const char *bad[3] = { NULL, NULL, NULL };
		struct conf *c;

		if (!conf_tfield_stored(f) || !tbl_field_given(f)) {
			continue;
		}
		if (conf_tfield(f)->parse != NULL) {
			/* a codec: a quote is in no address or name, and
			 * nothing is no value */
			bad[0] = "a\"b";
			bad[1] = "";
		} else if (strcmp(f->arg, "str") == 0 ||
		    strcmp(f->arg, "path") == 0) {
			size_t n = conf_tfield(f)->size;

			assert_true(n < CMD_VALUE_MAX);
			memset(longstr, 'a', n);
			longstr[n] = '\0';
			bad[0] = longstr;
			/* a quote and a control character: in no name,
			 * address, password or product pattern */
			bad[1] = conf_tfield(f)->check != NULL ? "a\"\x01b"
							       : NULL;
		} else if (strncmp(f->arg, "uint(", 5) == 0) {
			bad[0] = "x";
			bad[1] = "-1";
			bad[2] = "99999999999";
		} else if (strcmp(f->arg, "bool") == 0) {
			bad[0] = "maybe";
		} else {
			fail_msg("%s %s: a type the engine has no check of",
			    t->words, f->name);
		}
		c = malloc(sizeof(*c));
		assert_non_null(c);
		conf_init(c);
		if (t->id == TBL_ACCOUNT) {
			assert_int_equal(acct_domain_add(&c->acct,
					     "example.com", err, sizeof(err)),
			    0);
		}
		for (int k = 0; k < 3 && bad[k] != NULL; k++) {
			int rc = add_with(c, t, f, bad[k], err, sizeof(err));

			if (rc != -EINVAL || strstr(err, f->name) == NULL) {
				fail_msg("%s add, %s '%.20s': %d '%s'", t->words,
				    f->name, bad[k], rc, rc < 0 ? err : "");
			}
		}
		assert_int_equal(rows_of(c, t->id), 0);
		/* and good values are taken */
		if (add_with(c, t, NULL, NULL, err, sizeof(err)) != 0) {
			fail_msg("%s add: %s", t->words, err);
		}
		assert_int_equal(rows_of(c, t->id), 1);
		conf_fini(c);
		free(c);
	}
	free(longstr);
}

static int
exec(struct conf *c, const char *line, char *err, size_t cap)
{
	return conf_exec(c, line, strlen(line), err, cap);
}

/* A remove or change of a key that is not there says so. */
static void
test_missing(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	conf_init(&c);
	assert_int_equal(exec(&c, "gateway remove Nope", err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no gateway 'Nope'"));
	assert_int_equal(exec(&c, "gateway set Nope via x.test", err,
			     sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no gateway 'Nope'"));
	assert_int_equal(exec(&c, "gateway add P1 domain a.test", err,
			     sizeof(err)),
	    0);
	assert_int_equal(exec(&c, "gateway add p1 domain b.test", err,
			     sizeof(err)),
	    -EEXIST);
	assert_int_equal(exec(&c, "gateway add P2", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "missing domain"));
	assert_int_equal(exec(&c, "gateway set P1 domain ''", err,
			     sizeof(err)),
	    -EINVAL);
	assert_int_equal(exec(&c, "gateway remove p1", err, sizeof(err)), 0);
	assert_int_equal(c.ngw, 0);
	assert_int_equal(exec(&c, "gateway remove P1", err, sizeof(err)),
	    -ENOENT);
	assert_int_equal(exec(&c, "route remove example.org", err,
			     sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no route 'example.org'"));
	/* a Router record by its number or its text, whatever its blanks */
	assert_int_equal(exec(&c, "router add '<a> = b'", err, sizeof(err)),
	    0);
	assert_int_equal(exec(&c, "router add '<b>  =  c ; x'", err,
			     sizeof(err)),
	    0);
	assert_int_equal(exec(&c, "router add '<a>=b'", err, sizeof(err)),
	    -EEXIST);
	assert_int_equal(exec(&c, "router remove 3", err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no record 3 (2 in the table)"));
	assert_int_equal(exec(&c, "router remove '<c> ='", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "bad record"));
	assert_int_equal(exec(&c, "router remove '<c> = d'", err,
			     sizeof(err)),
	    -ENOENT);
	assert_int_equal(exec(&c, "router remove 1", err, sizeof(err)), 0);
	assert_int_equal(c.nrouter, 1);
	assert_string_equal(c.router[0].text, "<b> = c");
	assert_int_equal(exec(&c, "router remove '<B> = c'", err,
			     sizeof(err)),
	    0);
	assert_int_equal(c.nrouter, 0);
	conf_fini(&c);
}

/* A listener's own rules (conf_listener.c, through the engine's hooks):
 * a TLS field on a udp or tcp listener is refused naming the field, a
 * tls listener without its key is refused naming the key, the last
 * listener is not removed; each refusal changes nothing. */
static void
test_listener_rules(void **state)
{
	struct conf *c = malloc(sizeof(*c));
	char err[512];

	(void)state;
	assert_non_null(c);
	conf_init(c);
	assert_int_equal(exec(c, "listener add udp 127.0.0.1:5070 cert "
				 "/etc/c.pem",
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "cert is for tls listeners only"));
	assert_int_equal(exec(c, "listener add tcp 127.0.0.1:5070 verify on",
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "verify is for tls listeners only"));
	assert_int_equal(exec(c, "listener add tls 127.0.0.1:5071 cert "
				 "/etc/c.pem",
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "a tls listener needs cert and key "
				    "(no key)"));
	assert_int_equal(c->nlisteners, 0);
	assert_int_equal(exec(c, "listener add tls 127.0.0.1:5071 cert "
				 "/etc/c.pem key /etc/k.pem",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "listener add udp 127.0.0.1:5070", err,
			     sizeof(err)),
	    0);
	/* the same socket, however written, is there already */
	assert_int_equal(exec(c, "listener add UDP 127.0.0.1:5070", err,
			     sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "already configured"));
	assert_int_equal(exec(c, "listener remove udp 127.0.0.2:5070", err,
			     sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no listener udp 127.0.0.2:5070"));
	assert_int_equal(exec(c, "listener remove tls 127.0.0.1:5071", err,
			     sizeof(err)),
	    0);
	assert_int_equal(exec(c, "listener remove udp 127.0.0.1:5070", err,
			     sizeof(err)),
	    -EBUSY);
	assert_non_null(strstr(err, "last listener"));
	assert_int_equal(c->nlisteners, 1);
	assert_int_equal(c->listeners[0].proto, TP_UDP);
	conf_fini(c);
	free(c);
}

/* A line adding a row of each table, each field given that may be. */
static const struct sample {
	enum tbl_id t;
	const char *line;
} samples[] = {
	{ TBL_LISTENER, "listener add tcp 127.0.0.1:5070" },
	{ TBL_LAN, "lan add 10.0.0.0/8 ; the office" },
	{ TBL_CLIENT_IP, "client-ip add !192.0.2.1-192.0.2.9 ; a b" },
	{ TBL_NATED, "nated add 198.51.100.0/24" },
	{ TBL_ROUTE, "route add example.org 192.0.2.7:5080 transport tcp" },
	{ TBL_ROUTER, "router add 'NoRelay:<1*> = *@P1.sipgw'" },
	{ TBL_GATEWAY, "gateway add P1 domain prov.test via "
		       "'sip:192.0.2.9:5070;transport=tcp' username 4930 "
		       "password 'a secret' authname auth1 register-every "
		       "600 contact alice calls-authenticate on "
		       "substitute-from on substitute-to on" },
	{ TBL_DOMAIN, "domain add example.com" },
	{ TBL_ACCOUNT, "account add alice@example.com password pw" },
	{ TBL_WK_PRODUCT, "workaround product add 'Acme*' noTCP noMaddr" },
	{ TBL_WK_SITE, "workaround site add example.net noPath" },
};

static char *
dump(const struct conf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(conf_dump(c, f, true), 0);
	fclose(f);
	return text;
}

/* An account goes through the engine: its row made of the snapshot
 * holds what the commands left, its add line is the row's, with the
 * other commands' lines after it; a bad value is refused naming the
 * field; remove takes it out once. */
static void
test_account_rows(void **state)
{
	struct conf *c = malloc(sizeof(*c));
	struct acct_account_info *ai = malloc(sizeof(*ai));
	struct conf_account *row = malloc(sizeof(*row));
	char err[512], view[16], *text;

	(void)state;
	assert_non_null(c);
	assert_non_null(ai);
	assert_non_null(row);
	conf_init(c);
	assert_int_equal(exec(c, "domain add example.com", err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account add alice@example.com password pw",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account alias add alice@example.com al1",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account alias add alice@example.com al2",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account forward alice@example.com "
				 "sip:a@192.0.2.5",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account disable alice@example.com", err,
			     sizeof(err)),
	    0);
	assert_int_equal(acct_account_find(c->acct, "al2@example.com", ai), 0);
	conf_account_row(ai, row);
	assert_string_equal(row->account, "alice@example.com");
	assert_string_equal(row->aliases, "al1 al2");
	assert_string_equal(row->forward, "sip:a@192.0.2.5");
	assert_false(row->enabled);
	/* never the password: whether it is set, from the digests */
	assert_string_equal(row->password, "");
	assert_int_equal(strlen(row->ha1_md5), 32);
	assert_int_equal(strlen(row->ha1_sha256), 64);
	conf_account_view_password(row, view, sizeof(view));
	assert_string_not_equal(view, "");
	text = dump(c);
	assert_non_null(strstr(text, "\naccount add alice@example.com "
				     "ha1-md5 "));
	assert_non_null(strstr(text, "\naccount alias add alice@example.com "
				     "al1\naccount alias add "
				     "alice@example.com al2\naccount forward "
				     "alice@example.com sip:a@192.0.2.5\n"
				     "account disable alice@example.com\n"));
	assert_null(strstr(text, " pw"));
	free(text);
	/* bad values, each named; nothing added */
	assert_int_equal(exec(c, "account add bob@example.com ha1-md5 xyz",
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "ha1-md5"));
	assert_int_equal(exec(c, "account add bob@example.com ha1-md5 "
				 "00000000000000000000000000000000000000000000"
				 "000000000000000000000",
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "bad ha1-md5"));
	assert_int_equal(exec(c, "account add bob@example.com", err,
			     sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "password"));
	assert_int_equal(exec(c, "account add bob@example.com password pw",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account add bob@example.com password pw",
			     err, sizeof(err)),
	    -EEXIST);
	assert_int_equal(exec(c, "account remove bob@example.com", err,
			     sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account remove bob@example.com", err,
			     sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "bob"));
	assert_int_equal(acct_account_find(c->acct, "bob@example.com", ai),
	    -ENOENT);
	explicit_bzero(row, sizeof(*row));
	free(row);
	free(ai);
	conf_fini(c);
	free(c);
}

/* A domain goes through the engine: its row made of the snapshot holds
 * what the commands left (its aliases, state and number of accounts),
 * its add line is the row's, with its aliases' and state's lines after
 * it; a bad name is refused naming the field; one with accounts is not
 * removed; remove takes it out once. */
static void
test_domain_rows(void **state)
{
	struct conf *c = malloc(sizeof(*c));
	struct conf_domain *row = malloc(sizeof(*row));
	struct acct_domain_info di;
	char err[512], *text, *longname = malloc(ACCT_DOMAIN_MAX + 8);

	(void)state;
	assert_non_null(c);
	assert_non_null(row);
	assert_non_null(longname);
	conf_init(c);
	assert_int_equal(exec(c, "domain add Example.COM", err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "domain alias add example.com a1.example",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "domain alias add example.com a2.example",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "account add bob@a2.example password pw",
			     err, sizeof(err)),
	    0);
	assert_int_equal(exec(c, "domain disable example.com", err,
			     sizeof(err)),
	    0);
	assert_int_equal(acct_domain_count(c->acct), 1);
	acct_domain_get(c->acct, 0, &di);
	conf_domain_row(&di, row);
	assert_string_equal(row->domain, "example.com");
	assert_string_equal(row->aliases, "a1.example a2.example");
	assert_false(row->enabled);
	assert_int_equal(row->accounts, 1);
	text = dump(c);
	assert_non_null(strstr(text, "domain add example.com\n"
				     "domain alias add example.com a1.example\n"
				     "domain alias add example.com a2.example\n"
				     "domain disable example.com\n"
				     "account add bob@example.com ha1-md5 "));
	free(text);
	/* bad names, each named; nothing added */
	memset(longname, 'a', ACCT_DOMAIN_MAX + 1);
	snprintf(longname + ACCT_DOMAIN_MAX + 1, 7, ".test");
	{
		const char *bad[] = { "domain add 'bad name'",
			"domain add bad_name.test" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int rc = exec(c, bad[i], err, sizeof(err));

			if (rc != -EINVAL || strstr(err, "bad domain") == NULL) {
				fail_msg("'%s': %d '%s'", bad[i], rc, err);
			}
		}
	}
	{
		char line[ACCT_DOMAIN_MAX + 32];

		snprintf(line, sizeof(line), "domain add %s", longname);
		assert_int_equal(exec(c, line, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "bad domain (too long"));
	}
	assert_int_equal(exec(c, "domain add A1.example", err, sizeof(err)),
	    -EEXIST);
	assert_int_equal(acct_domain_count(c->acct), 1);
	/* its accounts go first */
	assert_int_equal(exec(c, "domain remove example.com", err,
			     sizeof(err)),
	    -EBUSY);
	assert_non_null(strstr(err, "remove them first"));
	assert_int_equal(exec(c, "account remove bob@example.com", err,
			     sizeof(err)),
	    0);
	assert_int_equal(exec(c, "domain remove EXAMPLE.com", err,
			     sizeof(err)),
	    0);
	assert_int_equal(acct_domain_count(c->acct), 0);
	assert_int_equal(exec(c, "domain remove example.com", err,
			     sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "no domain example.com"));
	free(longname);
	free(row);
	conf_fini(c);
	free(c);
}

/* Every table saved and loaded again comes back the same. */
static void
test_round_trip(void **state)
{
	struct conf *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	char err[512], *one, *two;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	conf_init(a);
	conf_init(b);
	for (int t = 0; t < TBL__COUNT; t++) {
		bool have = false;

		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]);
		     i++) {
			have = have || samples[i].t == (enum tbl_id)t;
		}
		if (!have) {
			fail_msg("no sample line of the %s table",
			    tbl_table[t].words);
		}
	}
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		if (exec(a, samples[i].line, err, sizeof(err)) < 0) {
			fail_msg("'%s': %s", samples[i].line, err);
		}
	}
	one = dump(a);
	for (char *p = one, *nl; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (conf_exec(b, p, (size_t)(nl - p), err, sizeof(err)) < 0) {
			fail_msg("'%.*s': %s", (int)(nl - p), p, err);
		}
	}
	two = dump(b);
	assert_string_equal(one, two);
	/* and each table's row is in it, as its add line */
	for (int t = 0; t < TBL__COUNT; t++) {
		char want[64];

		snprintf(want, sizeof(want), "\n%s add ", tbl_table[t].words);
		if (strncmp(one, want + 1, strlen(want + 1)) != 0 &&
		    strstr(one, want) == NULL) {
			fail_msg("the %s table is not saved:\n%s",
			    tbl_table[t].words, one);
		}
	}
	assert_non_null(strstr(one, "gateway add P1 domain prov.test via "
				    "sip:192.0.2.9:5070;transport=tcp "
				    "username 4930 password \"a secret\" "
				    "authname auth1 register-every 600 contact "
				    "alice calls-authenticate on substitute-from "
				    "on substitute-to on\n"));
	/* an exclusion and its comment's words; the two workaround tables
	 * each their own lines */
	assert_non_null(strstr(one, "\nclient-ip add !192.0.2.1-192.0.2.9 ; a "
				    "b\n"));
	assert_non_null(strstr(one, "\nworkaround product add Acme* noTCP "
				    "noMaddr\nworkaround site add example.net "
				    "noPath\n"));
	/* a record as the rest of the line, canonical, unquoted */
	assert_non_null(strstr(one, "\nrouter add NoRelay:<1*> = *@P1.sipgw\n"));
	free(one);
	free(two);
	conf_fini(a);
	conf_fini(b);
	free(a);
	free(b);
}

/* A row's add line and the remove and set of it share one key, so that
 * saving changes the administrator's line in place (confsave.c). */
static void
test_save_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct tbl *t = &tbl_table[samples[i].t];
		const char *line = samples[i].line;
		char key[600], other[600], rm[512];
		struct lex_line lx;
		int nkeys = 0, w = cmd_nwords(cmd_of(t, "add"));

		for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
		     f = tbl_next(t, f)) {
			nkeys += (f->flags & TF_KEY) != 0;
		}
		assert_int_equal(conf_line_key(line, strlen(line), key,
				     sizeof(key)),
		    0);
		/* "T remove" and the words of the keys, as written */
		assert_int_equal(lex_split(&lx, line, strlen(line), 0, NULL),
		    0);
		snprintf(rm, sizeof(rm), "%s remove", t->words);
		for (int k = 0; k < nkeys; k++) {
			size_t o = strlen(rm);

			snprintf(rm + o, sizeof(rm) - o, " '%s'",
			    lx.words[w + k].text);
		}
		lex_fini(&lx);
		assert_int_equal(conf_line_key(rm, strlen(rm), other,
				     sizeof(other)),
		    0);
		if (strcmp(key, other) != 0) {
			fail_msg("'%s' is '%s', '%s' is '%s'", line, key, rm,
			    other);
		}
	}
	{
		const char *set = "gateway set P1 via x.test";
		char key[600];

		assert_int_equal(conf_line_key(set, strlen(set), key,
				     sizeof(key)),
		    0);
		assert_string_equal(key, "gateway add p1");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_args),
		cmocka_unit_test(test_remove_keys),
		cmocka_unit_test(test_set_fields),
		cmocka_unit_test(test_stored),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_listener_rules),
		cmocka_unit_test(test_domain_rows),
		cmocka_unit_test(test_account_rows),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_save_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
