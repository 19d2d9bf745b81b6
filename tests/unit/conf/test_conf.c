/*
 * Unit tests of the configuration: the settings table (defaults, apply,
 * text, what is listed), and saving into a commented file (conf_render():
 * unchanged lines byte for byte, a change in place with its comment, a
 * removal, an addition after its kind, passwords turned into digests,
 * a key spread over several lines, a name written as a uid, no file or a
 * broken one) and conf_diff().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipd/conf.h"

static char dir[] = "/tmp/test_conf.XXXXXX";
static char path[256];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load the file at path, run the commands of edits, one a line. */
static struct conf *
load_edit(const char *edits)
{
	struct conf *c = malloc(sizeof(*c));
	char err[512];
	const char *p = edits;

	assert_non_null(c);
	if (conf_load(c, path, err, sizeof(err)) < 0) {
		fail_msg("load: %s", err);
	}
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (conf_exec(c, p, n, err, sizeof(err)) < 0) {
			fail_msg("'%.*s': %s", (int)n, p, err);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return c;
}

static void
free_conf(struct conf *c)
{
	conf_fini(c);
	free(c);
}

/* conf_render() of the file after edits must be want. */
static void
expect_render(const char *file, const char *edits, const char *want)
{
	struct conf *c;
	char *out = NULL, err[512];

	write_file(file);
	c = load_edit(edits);
	if (conf_render(c, path, &out, err, sizeof(err)) < 0) {
		fail_msg("render: %s", err);
	}
	if (strcmp(out, want) != 0) {
		fail_msg("edits:\n%s\ngot:\n%s\nwant:\n%s", edits, out, want);
	}
	free(out);
	free_conf(c);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	snprintf(path, sizeof(path), "%s/sipd.conf", dir);
	return 0;
}

static int
teardown(void **state)
{
	char bak[300];

	(void)state;
	snprintf(bak, sizeof(bak), "%s.bak", path);
	unlink(path);
	unlink(bak);
	rmdir(dir);
	return 0;
}

static void
test_defaults(void **state)
{
	struct conf c;
	char buf[64], dflt[64];

	(void)state;
	conf_init(&c);
	assert_true(conf_nsettings > 30);
	for (int i = 0; i < conf_nsettings; i++) {
		const struct conf_setting *s = &conf_settings[i];

		assert_false(conf_setting_changed(&c, s));
		assert_string_equal(conf_setting_text(&c, s, buf, sizeof(buf)),
		    conf_setting_default_text(s, dflt, sizeof(dflt)));
		assert_ptr_equal(conf_setting_of(s->cmd), s);
	}
	/* the table's defaults are the RFC's and the documented ones */
	assert_int_equal(c.txn.t1_ms, 500);
	assert_int_equal(c.txn.timer_b_ms, 64 * 500);
	assert_int_equal(c.relay_non_clients, CONF_RELAY_CLIENTS);
	assert_true(c.tls_client_verify);
	assert_true(c.autosave);
	assert_int_equal(c.processors, 1);
	assert_null(conf_setting_of(CMD_LISTENER_ADD));
	conf_fini(&c);
}

static void
test_apply(void **state)
{
	struct conf c;
	char err[256], buf[300];
	const struct conf_setting *s;

	(void)state;
	conf_init(&c);
	assert_int_equal(conf_exec(&c, "set t1 600", 10, err, sizeof(err)), 0);
	assert_int_equal(c.txn.t1_ms, 600);
	s = conf_setting_of(CMD_SET_T1);
	assert_true(conf_setting_changed(&c, s));
	assert_string_equal(conf_setting_text(&c, s, buf, sizeof(buf)), "600");

	assert_int_equal(conf_exec(&c, "set force-rr on", 15, err,
			     sizeof(err)),
	    0);
	assert_true(c.force_rr);
	assert_int_equal(conf_exec(&c, "relay to-non-clients nob", 24, err,
			     sizeof(err)),
	    0);
	assert_int_equal(c.relay_non_clients, CONF_RELAY_NOBODY);
	s = conf_setting_of(CMD_RELAY_TO_NON_CLIENTS);
	assert_string_equal(conf_setting_text(&c, s, buf, sizeof(buf)),
	    "nobody");

	/* a path: absolute, or default; a refusal changes nothing */
	assert_int_equal(conf_exec(&c, "set reg-store /var/x.db", 23, err,
			     sizeof(err)),
	    0);
	assert_string_equal(c.reg.store, "/var/x.db");
	assert_int_equal(conf_exec(&c, "set reg-store x.db", 18, err,
			     sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "must be absolute"));
	assert_string_equal(c.reg.store, "/var/x.db");
	assert_int_equal(conf_exec(&c, "set reg-store default", 21, err,
			     sizeof(err)),
	    0);
	assert_string_equal(c.reg.store, "");
	s = conf_setting_of(CMD_SET_REG_STORE);
	assert_false(conf_setting_changed(&c, s));
	assert_string_equal(conf_setting_text(&c, s, buf, sizeof(buf)),
	    "default");
	conf_fini(&c);
}

static void
test_dump(void **state)
{
	struct conf c;
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	conf_init(&c);
	assert_int_equal(conf_exec(&c, "set t2 4500", 11, err, sizeof(err)),
	    0);
	f = open_memstream(&text, &len);
	conf_settings_dump(&c, f, false);
	fclose(f);
	assert_string_equal(text, "set t2 4500\n");
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	conf_settings_dump(&c, f, true);
	fclose(f);
	assert_non_null(strstr(text, "set t1 500\n"));
	assert_non_null(strstr(text, "set t2 4500\n"));
	assert_non_null(strstr(text, "relay to-non-clients clients\n"));
	assert_non_null(strstr(text, "set reg-store default\n"));
	free(text);
	conf_fini(&c);
}

#define FILE_A                                                              \
	"# listeners\n"                                                     \
	"listener add udp 127.0.0.1:5060\n"                                 \
	"listener add tcp 127.0.0.1:5060\n"                                 \
	"\n"                                                                \
	"# timers\n"                                                        \
	"set t1 500    # the RFC's\n"                                       \
	"set t2 4000\n"                                                     \
	"client-ip add 10.0.0.0/8\n"                                        \
	"log level all problems\n"

/*
 * The Network Address List lines: what each form reads as (its canonical
 * text and comment), and what each bad one gets.  Then membership, built
 * top to bottom: the last line that holds an address decides.
 */
static void
test_net(void **state)
{
	static const struct {
		const char *in, *text, *comment; /* text NULL: refused */
		const char *why;
	} rows[] = {
		{ "192.0.2.7", "192.0.2.7", "", NULL },
		{ " 192.0.2.7 ", "192.0.2.7", "", NULL },
		{ "2001:DB8:0::1", "2001:db8::1", "", NULL },
		{ "10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9", "", NULL },
		{ "10.0.0.1 - 10.0.0.9", "10.0.0.1-10.0.0.9", "", NULL },
		{ "10.0.0.5-10.0.0.5", "10.0.0.5-10.0.0.5", "", NULL },
		{ "fd00::1-fd00::ff", "fd00::1-fd00::ff", "", NULL },
		{ "10.0.0.0/8", "10.0.0.0/8", "", NULL },
		{ "0.0.0.0/0", "0.0.0.0/0", "", NULL },
		{ "::1/128", "::1/128", "", NULL },
		{ "!10.1.0.0/16", "!10.1.0.0/16", "", NULL },
		{ "! 10.1.0.0/16", "!10.1.0.0/16", "", NULL },
		{ "10.0.0.0/8;office", "10.0.0.0/8", "office", NULL },
		{ "10.0.0.0/8 ;  the   office ", "10.0.0.0/8", "the office",
		    NULL },
		{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", "", NULL },
		/* bad lines */
		{ "10.0.0.1/8", NULL, NULL, "host bits set" },
		{ "fd00::1/8", NULL, NULL, "host bits set" },
		{ "10.0.0.0/33", NULL, NULL, "0 to 32" },
		{ "fd00::/129", NULL, NULL, "0 to 128" },
		{ "::ffff:10.0.0.0/8", NULL, NULL, "96 to 128" },
		{ "10.0.0.9-10.0.0.1", NULL, NULL, "comes first" },
		{ "10.0.0.1-fd00::1", NULL, NULL, "one family" },
		{ "10.0.0.0/8-10.0.0.9", NULL, NULL, "bad range" },
		{ "10.0.0.0/", NULL, NULL, "bad range" },
		{ "10.0.0.0/x", NULL, NULL, "bad range" },
		{ "10.0.0.0/0008", NULL, NULL, "bad range" },
		{ "example.com", NULL, NULL, "bad range" },
		{ "256.0.0.1", NULL, NULL, "bad range" },
		{ "!", NULL, NULL, "bad range" },
		{ "", NULL, NULL, "bad range" },
		{ "; only a comment", NULL, NULL, "bad range" },
		{ "10.0.0.1-", NULL, NULL, "bad range" },
	};
	struct conf_net e;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = conf_net_parse(rows[i].in, &e, err, sizeof(err));

		if (rows[i].text == NULL) {
			if (rc != -EINVAL || strstr(err, rows[i].why) == NULL) {
				fail_msg("'%s': %d '%s', want '%s'", rows[i].in,
				    rc, rc < 0 ? err : "", rows[i].why);
			}
			continue;
		}
		if (rc != 0 || strcmp(e.text, rows[i].text) != 0 ||
		    strcmp(e.comment, rows[i].comment) != 0) {
			fail_msg("'%s': %d '%s' '%s' '%s'", rows[i].in, rc,
			    rc < 0 ? err : "", rc == 0 ? e.text : "",
			    rc == 0 ? e.comment : "");
		}
	}
	/* membership: the last line that holds the address decides */
	{
		static const char *const lines[] = { "10.0.0.0/8",
			"!10.1.0.0/16", "10.1.2.3", "10.1.9.1-10.1.9.3",
			"!10.1.9.2", "::ffff:192.0.2.0/120" };
		static const struct {
			const char *a;
			bool in;
		} probes[] = {
			{ "10.200.0.1", true }, { "10.1.0.1", false },
			{ "10.1.2.3", true }, { "10.1.2.4", false },
			{ "10.1.9.1", true }, { "10.1.9.2", false },
			{ "10.1.9.3", true }, { "10.1.9.4", false },
			{ "11.0.0.1", false }, { "::ffff:10.2.0.1", true },
			{ "::ffff:10.1.0.1", false }, { "192.0.2.77", true },
			{ "fd00::1", false },
		};
		struct tp_net v[6];

		for (size_t i = 0; i < 6; i++) {
			assert_int_equal(conf_net_parse(lines[i], &e, err,
					     sizeof(err)),
			    0);
			v[i] = e.net;
		}
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]);
		     i++) {
			struct sockaddr_storage ss;

			memset(&ss, 0, sizeof(ss));
			if (strchr(probes[i].a, ':') != NULL) {
				ss.ss_family = AF_INET6;
				assert_int_equal(inet_pton(AF_INET6,
						     probes[i].a,
						     &((struct sockaddr_in6 *)
							     &ss)
							  ->sin6_addr),
				    1);
			} else {
				ss.ss_family = AF_INET;
				assert_int_equal(inet_pton(AF_INET,
						     probes[i].a,
						     &((struct sockaddr_in *)
							     &ss)
							  ->sin_addr),
				    1);
			}
			if (tp_net_match(v, 6, (struct sockaddr *)&ss) !=
			    probes[i].in) {
				fail_msg("%s: want %s", probes[i].a,
				    probes[i].in ? "in" : "out");
			}
		}
	}
}

static void
test_render_keep(void **state)
{
	(void)state;
	/* nothing changed: the file, byte for byte */
	expect_render(FILE_A, "", FILE_A);
	/* a change in place, its comment kept; another line untouched */
	expect_render(FILE_A, "set t1 600",
	    "# listeners\n"
	    "listener add udp 127.0.0.1:5060\n"
	    "listener add tcp 127.0.0.1:5060\n"
	    "\n"
	    "# timers\n"
	    "set t1 600    # the RFC's\n"
	    "set t2 4000\n"
	    "client-ip add 10.0.0.0/8\n"
	    "log level all problems\n");
}

static void
test_render_add_remove(void **state)
{
	(void)state;
	expect_render(FILE_A,
	    "listener add udp 127.0.0.1:5062\n"
	    "listener remove tcp 127.0.0.1:5060\n"
	    "set t4 6000\n"
	    "client-ip add 10.1.0.0/16\n"
	    "lan add 192.168.0.0/16\n"
	    "log level server low-level",
	    "# listeners\n"
	    "listener add udp 127.0.0.1:5060\n"
	    "listener add udp 127.0.0.1:5062\n"
	    "\n"
	    "# timers\n"
	    "set t1 500    # the RFC's\n"
	    "set t2 4000\n"
	    "set t4 6000\n"
	    "client-ip add 10.0.0.0/8\n"
	    "client-ip add 10.1.0.0/16\n"
	    "log level all problems\n"
	    "log level server low-level\n"
	    "lan add 192.168.0.0/16\n");
	/* the same entry written another way names the same key */
	expect_render("client-ip add 2001:DB8:0::/32   # odd\n", "",
	    "client-ip add 2001:DB8:0::/32   # odd\n");
	expect_render("client-ip add 2001:DB8:0::/32   # odd\n",
	    "client-ip remove 2001:db8::/32", "");
	/* a line's comment after ";" is part of it; the order is kept */
	expect_render("lan add 10.0.0.0/8 ; office\n",
	    "lan add !10.9.0.0/16 ; lab\nlan add 10.9.9.1-10.9.9.9",
	    "lan add 10.0.0.0/8 ; office\n"
	    "lan add !10.9.0.0/16 ; lab\n"
	    "lan add 10.9.9.1-10.9.9.9\n");
	/* no listener in the file: the default stays implied, until a
	 * second one is added, when both are written */
	expect_render("set t1 600\n", "set t1 700", "set t1 700\n");
	expect_render("set t1 600\n", "listener add tcp 127.0.0.1:5070",
	    "set t1 600\n"
	    "listener add udp 127.0.0.1:5060\n"
	    "listener add tcp 127.0.0.1:5070\n");
}

static void
test_render_secrets(void **state)
{
	(void)state;
	/* the last password wins, as digests, on the first line of the
	 * key, with its comment */
	expect_render(
	    "domain add example.com\n"
	    "account add a@example.com password one  # a\n"
	    "account password a@example.com two\n",
	    "",
	    "domain add example.com\n"
	    "account add a@example.com ha1-md5 "
	    "4453cafd819deb326b1dc3a415e92cac ha1-sha256 "
	    "9a6408edd0247eb3dd09083dd13553de"
	    "eef687b084922918251d703de73c826a  # a\n");
}

/* An account's alias added and removed lands in the file as its own
 * line, after the account's lines, and goes with its comment; the rest
 * stays byte for byte, and the file saved loads as what was saved. */
#define FILE_ALIAS                                                         \
	"# the accounts\n"                                                 \
	"domain add example.com\n"                                         \
	"account add a@example.com ha1-md5 "                               \
	"4453cafd819deb326b1dc3a415e92cac  # a\n"                          \
	"account alias add a@example.com desk  # the front desk\n"          \
	"\n"                                                               \
	"# the end\n"

static void
test_render_alias(void **state)
{
	struct conf *a, *b;
	char *one = NULL, *two = NULL, *out = NULL, err[256];
	size_t n1 = 0, n2 = 0;
	FILE *f;

	(void)state;
	expect_render(FILE_ALIAS, "", FILE_ALIAS);
	expect_render(FILE_ALIAS, "account alias add a@example.com bob",
	    "# the accounts\n"
	    "domain add example.com\n"
	    "account add a@example.com ha1-md5 "
	    "4453cafd819deb326b1dc3a415e92cac  # a\n"
	    "account alias add a@example.com desk  # the front desk\n"
	    "account alias add a@example.com bob\n"
	    "\n"
	    "# the end\n");
	expect_render(FILE_ALIAS, "account alias remove a@example.com desk",
	    "# the accounts\n"
	    "domain add example.com\n"
	    "account add a@example.com ha1-md5 "
	    "4453cafd819deb326b1dc3a415e92cac  # a\n"
	    "\n"
	    "# the end\n");
	/* both, saved, and loaded again: the same accounts */
	write_file(FILE_ALIAS);
	a = load_edit("account alias add a@example.com bob\n"
		      "account alias remove a@example.com desk");
	assert_int_equal(conf_render(a, path, &out, err, sizeof(err)), 0);
	write_file(out);
	b = load_edit("");
	f = open_memstream(&one, &n1);
	assert_int_equal(conf_dump(a, f, true), 0);
	fclose(f);
	f = open_memstream(&two, &n2);
	assert_int_equal(conf_dump(b, f, true), 0);
	fclose(f);
	assert_string_equal(one, two);
	assert_non_null(strstr(two, "account alias add a@example.com bob\n"));
	assert_null(strstr(two, "desk"));
	free(one);
	free(two);
	free(out);
	free_conf(a);
	free_conf(b);
}

static void
test_render_new(void **state)
{
	struct conf c;
	char *out = NULL, err[256];

	(void)state;
	conf_init(&c);
	unlink(path);
	assert_int_equal(conf_render(&c, path, &out, err, sizeof(err)), 0);
	assert_true(strncmp(out, "# sipd configuration, written by sipd",
			37) == 0);
	free(out);
	/* a file that no longer loads is written anew */
	write_file("set t1 frog\n");
	assert_int_equal(conf_render(&c, path, &out, err, sizeof(err)), 0);
	assert_null(strstr(out, "frog"));
	assert_true(strncmp(out, "# sipd configuration", 20) == 0);
	free(out);
	conf_fini(&c);
}

static void
test_diff(void **state)
{
	struct conf *c;
	char *out = NULL, err[256];

	(void)state;
	write_file(FILE_A);
	c = load_edit("set t2 4500\nclient-ip remove 10.0.0.0/8");
	assert_int_equal(conf_diff(c, path, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "@@ line 7\n-set t2 4000\n-client-ip add "
				 "10.0.0.0/8\n+set t2 4500\n");
	free(out);
	free_conf(c);
	c = load_edit("");
	assert_int_equal(conf_diff(c, path, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);
	free_conf(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_render_keep),
		cmocka_unit_test(test_render_add_remove),
		cmocka_unit_test(test_render_secrets),
		cmocka_unit_test(test_render_alias),
		cmocka_unit_test(test_render_new),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
