/*
 * Unit tests of proto/cmd: every spec of the table parses, no command's
 * words prefix another's; abbreviation (unique prefixes, exact words,
 * later words resolving an earlier ambiguity), ambiguity and wrong words
 * with the valid ones listed; argument types, ranges, keywords, enum
 * prefixes; usage text; and what may come next (completion).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/cmd.h"

/* Parse line into a (heap) and return the result; err gets the text. */
static int
parse(const char *line, struct cmd_args *a, char *err, size_t cap)
{
	struct lex_line l;
	int rc;

	assert_int_equal(lex_split(&l, line, strlen(line), 0, NULL), 0);
	err[0] = '\0';
	rc = cmd_parse(a, l.words, l.count, 0, err, cap);
	lex_fini(&l);
	return rc;
}

static void
expect_cmd(const char *line, enum cmd_id id)
{
	struct cmd_args *a = malloc(sizeof(*a));
	char err[512];

	assert_non_null(a);
	if (parse(line, a, err, sizeof(err)) != 0) {
		fail_msg("'%s': %s", line, err);
	}
	assert_int_equal(a->cmd->id, id);
	free(a);
}

static void
expect_err(const char *line, const char *want)
{
	struct cmd_args *a = malloc(sizeof(*a));
	char err[512];

	assert_non_null(a);
	assert_int_not_equal(parse(line, a, err, sizeof(err)), 0);
	if (strstr(err, want) == NULL) {
		fail_msg("'%s': got '%s', want '%s'", line, err, want);
	}
	free(a);
}

static void
test_table(void **state)
{
	(void)state;
	for (int i = 0; i < CMD__COUNT; i++) {
		struct cmd_argspec spec[CMD_MAX_ARGS];
		const struct cmd *c = &cmd_table[i];

		assert_int_equal(c->id, i);
		if (cmd_spec(c, spec, CMD_MAX_ARGS) < 0) {
			fail_msg("bad spec for '%s': %s", c->name, c->args);
		}
		assert_true(cmd_nwords(c) <= CMD_MAX_WORDS);
		assert_ptr_equal(cmd_by_name(c->name, strlen(c->name)), c);
		for (int j = 0; j < CMD__COUNT; j++) {
			size_t n = strlen(c->name);

			if (i != j && strncmp(cmd_table[j].name, c->name, n) ==
				0 &&
			    cmd_table[j].name[n] == ' ') {
				fail_msg("'%s' prefixes '%s'", c->name,
				    cmd_table[j].name);
			}
		}
		/* CF_WRITE and CF_READ exclude each other; local ones
		 * are neither. */
		assert_false((c->flags & CF_READ) && (c->flags & CF_WRITE));
	}
	assert_null(cmd_by_name("show", 4));
}

static void
test_abbrev(void **state)
{
	(void)state;
	expect_cmd("show transactions server", CMD_SHOW_TXN_SERVER);
	expect_cmd("sh tr s", CMD_SHOW_TXN_SERVER);
	expect_cmd("sh tr c", CMD_SHOW_TXN_CLIENT);
	expect_cmd("SHOW CONFIG", CMD_SHOW_CONFIG);
	expect_cmd("shutdown", CMD_SHUTDOWN);
	expect_cmd("shu", CMD_SHUTDOWN);
	expect_cmd("lis l", CMD_LISTENER_LIST);
	expect_cmd("set t1 500", CMD_SET_T1);
	expect_cmd("se max-s 1000", CMD_SET_MAX_SERVER);
	expect_cmd("lo le s a", CMD_LOG_LEVEL);
	/* "s" is ambiguous alone, resolved by the next word */
	expect_cmd("s t1 500", CMD_SET_T1);
	expect_cmd("st", CMD_STATUS);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_err("sh", "ambiguous command 'sh' (show or shutdown)");
	expect_err("l", "ambiguous command 'l' (lan, limits, listener or "
			"log)");
	expect_err("li l", "ambiguous command 'li' (limits or listener)");
	expect_err("listener frob", "unknown command 'listener frob' "
				    "(expected add, list or remove) at column "
				    "10");
	expect_err("frob", "unknown command 'frob' (expected account, ");
	expect_err("show", "incomplete command 'show' (expected auth-blocks, "
			   "calls, config, dialogs, dns, gateways, media, "
			   "registrations, settings, stats or "
			   "transactions)");
	expect_err("set t 5", "ambiguous command 't'");
	expect_err("show transactions", "incomplete command 'show "
					"transactions' (expected client or "
					"server)");
	/* the word at fault, its column, and the nearest valid word */
	expect_err("lsitener list", "unknown command 'lsitener' at column 1; "
				    "did you mean 'listener'?");
	expect_err("show  sttaus", "unknown command 'show sttaus' at column "
				   "7; did you mean 'stats'?");
	expect_err("SHWO config", "unknown command 'SHWO' at column 1; did "
				  "you mean 'show'?");
	expect_err("  l", "ambiguous command 'l' (lan, limits, listener or "
			  "log) at column 3");
}

static void
test_suggest(void **state)
{
	(void)state;
	/* arguments: a keyword, an enum choice, a number */
	expect_err("listener add udp 1.2.3.4:5 cret /c",
	    "at column 28; did you mean 'cert'?");
	expect_err("listener add xdp 1.2.3.4:5",
	    "unknown transport 'xdp' (expected udp, tcp or tls) at column "
	    "14; did you mean 'udp'?");
	expect_err("set t1 abc", "bad number 'abc' for ms at column 8");
	/* too far from every word: the list, no guess */
	expect_err("frobnicate", "unknown command 'frobnicate' (expected "
				 "account, ");
	expect_err("qzx", "at column 1");
	{
		struct cmd_args *a = malloc(sizeof(*a));
		char err[512];

		assert_non_null(a);
		assert_int_not_equal(parse("qzx", a, err, sizeof(err)), 0);
		assert_null(strstr(err, "did you mean"));
		free(a);
	}
}

static void
test_words(void **state)
{
	struct cmd_args *a = malloc(sizeof(*a));
	char err[512];

	(void)state;
	assert_non_null(a);
	/* help takes the rest of the line, unquoted */
	assert_int_equal(parse("help listener add", a, err, sizeof(err)), 0);
	assert_int_equal(a->cmd->id, CMD_HELP);
	assert_string_equal(cmd_arg_str(a, "command"), "listener add");
	assert_int_equal(parse("help \"show  settings\"", a, err,
			     sizeof(err)),
	    0);
	assert_string_equal(cmd_arg_str(a, "command"), "show  settings");
	assert_int_equal(parse("help", a, err, sizeof(err)), 0);
	assert_false(cmd_arg_has(a, "command"));
	free(a);
}

static void
test_args(void **state)
{
	struct cmd_args *a = malloc(sizeof(*a));
	char err[512];

	(void)state;
	assert_non_null(a);
	assert_int_equal(parse("listener add t 1.2.3.4:5", a, err,
			     sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "ambiguous transport 't' (expected udp, tcp "
				 "or tls) at column 14");
	assert_int_equal(parse("listener add tl 1.2.3.4:5 ve on k /k ce /c", a,
			     err, sizeof(err)),
	    0);
	assert_string_equal(cmd_arg_str(a, "transport"), "tls");
	assert_int_equal(cmd_arg_enum(a, "transport"), 2);
	assert_string_equal(cmd_arg_str(a, "address"), "1.2.3.4:5");
	assert_true(cmd_arg_bool(a, "verify", false));
	assert_string_equal(cmd_arg_str(a, "key"), "/k");
	assert_string_equal(cmd_arg_str(a, "cert"), "/c");
	assert_false(cmd_arg_has(a, "ca"));

	assert_int_equal(parse("set t1 600", a, err, sizeof(err)), 0);
	assert_int_equal(cmd_arg_uint(a, "ms", 0), 600);

	expect_err("set t1 9", "ms 9 out of range (10 to 60000)");
	expect_err("set t1 99999999999999999999999", "out of range");
	expect_err("set t1 -1", "bad number '-1' for ms");
	expect_err("set t1", "missing ms (usage: set t1 <ms>)");
	expect_err("set t1 50 6", "unexpected argument '6'");
	expect_err("set force-rr maybe", "bad value 'maybe' (expected on or "
					 "off)");
	expect_err("listener add udp 1.2.3.4:5 cert", "missing value for cert");
	expect_err("listener add udp 1.2.3.4:5 cert a cert b",
	    "cert given twice");
	expect_err("log level kernel all", "unknown component 'kernel' "
					   "(expected transport, server, "
					   "client or all)");
	expect_err("route add \"\" x", "empty domain");

	/* optional positional, then none left */
	assert_int_equal(parse("log output file /var/log/sipd", a, err,
			     sizeof(err)),
	    0);
	assert_string_equal(cmd_arg_str(a, "file"), "/var/log/sipd");
	assert_int_equal(parse("route add * gw transport udp", a, err,
			     sizeof(err)),
	    0);
	assert_string_equal(cmd_arg_str(a, "domain"), "*");
	free(a);
}

static void
test_set_typed(void **state)
{
	struct cmd_args a;
	char err[256];

	(void)state;
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_SET_T1]), 0);
	assert_int_equal(cmd_args_set_uint(&a, 0, 5, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(cmd_args_set_uint(&a, 0, 700, err, sizeof(err)), 0);
	assert_int_equal(cmd_args_check(&a, err, sizeof(err)), 0);
	assert_int_not_equal(cmd_args_set_bool(&a, 0, true, err, sizeof(err)),
	    0);
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_SET_FORCE_RR]), 0);
	assert_int_equal(cmd_args_check(&a, err, sizeof(err)), -EINVAL);
	assert_int_equal(cmd_args_set_bool(&a, 0, true, err, sizeof(err)), 0);
	assert_string_equal(a.val[0].s, "on");
	/* a NUL inside a value is refused */
	assert_int_equal(cmd_args_init(&a, &cmd_table[CMD_LAN_ADD]), 0);
	assert_int_equal(cmd_args_set(&a, 0, "a\0b", 3, err, sizeof(err)),
	    -EINVAL);
}

static void
test_usage(void **state)
{
	char buf[512];

	(void)state;
	assert_string_equal(cmd_usage(&cmd_table[CMD_LISTENER_ADD], buf,
				sizeof(buf)),
	    "listener add udp|tcp|tls <address> [cert <cert>] [key <key>] "
	    "[ca <ca>] [verify on|off]");
	assert_string_equal(cmd_usage(&cmd_table[CMD_LOG_OUTPUT], buf,
				sizeof(buf)),
	    "log output auto|stderr|syslog|file|journal [<file>]");
	assert_string_equal(cmd_usage(&cmd_table[CMD_STATUS], buf,
				sizeof(buf)),
	    "status");
}

/* The next words after line, as "a b c". */
static void
expect_next(const char *line, const char *want, bool value)
{
	struct cmd_next *n = malloc(sizeof(*n));
	struct lex_line l;
	char got[1024] = "";

	assert_non_null(n);
	assert_int_equal(lex_split(&l, line, strlen(line), 0, NULL), 0);
	assert_int_equal(cmd_next(l.words, l.count, 0, n), 0);
	for (int i = 0; i < n->n; i++) {
		strcat(got, i > 0 ? " " : "");
		strcat(got, n->word[i].text);
	}
	if (strcmp(got, want) != 0) {
		fail_msg("after '%s': got '%s', want '%s'", line, got, want);
	}
	assert_int_equal(n->value, value);
	lex_fini(&l);
	free(n);
}

static void
test_next(void **state)
{
	struct cmd_next *n = malloc(sizeof(*n));
	struct lex_line l;

	(void)state;
	expect_next("sh tr", "server client", false);
	expect_next("listener", "list add remove", false);
	expect_next("listener add", "udp tcp tls", false);
	expect_next("listener add udp", "", true);
	expect_next("listener add udp 1.2.3.4:5", "cert key ca verify", false);
	expect_next("listener add udp 1.2.3.4:5 verify", "on off", false);
	expect_next("listener add udp 1.2.3.4:5 cert", "", true);
	expect_next("status", "", false);
	/* words(a|b): the values again after each one */
	expect_next("workaround product add Acme*",
	    "noTCP noMaddr badByeAuth needsEpid NoSubMWI mediaRelay "
	    "noMediaRelay", false);
	expect_next("workaround product add Acme* notcp",
	    "noTCP noMaddr badByeAuth needsEpid NoSubMWI mediaRelay "
	    "noMediaRelay", false);

	assert_non_null(n);
	assert_int_equal(lex_split(&l, "listener remove udp", 19, 0, NULL), 0);
	assert_int_equal(cmd_next(l.words, l.count, 0, n), 0);
	assert_true(n->value);
	assert_int_equal(n->spec.type, CMD_T_REF);
	assert_string_equal(n->spec.ref, "listener");
	assert_ptr_equal(n->cmd, &cmd_table[CMD_LISTENER_REMOVE]);
	lex_fini(&l);
	assert_int_equal(lex_split(&l, "frob", 4, 0, NULL), 0);
	assert_int_equal(cmd_next(l.words, l.count, 0, n), -EINVAL);
	lex_fini(&l);
	free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_abbrev),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_set_typed),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
