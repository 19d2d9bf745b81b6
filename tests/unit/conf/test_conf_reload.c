/*
 * Unit tests of what a reload changes (sipd/conf_reload.c): the
 * difference of two configurations as commands (entries that go as
 * their remove or undoing commands, last first; new and changed lines in
 * the listing's order; digests hidden), the file line behind a command
 * (the last one with its key, comments and blank lines counted), and the
 * line an error message names.
 */
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

static char dir[] = "/tmp/test_conf_reload.XXXXXX";
static char path[256];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct conf *
load(const char *text)
{
	struct conf *c = malloc(sizeof(*c));
	char err[512];

	assert_non_null(c);
	write_file(text);
	if (conf_load(c, path, err, sizeof(err)) < 0) {
		fail_msg("load: %s", err);
	}
	return c;
}

static void
free_conf(struct conf *c)
{
	conf_fini(c);
	free(c);
}

static void
test_diff(void **state)
{
	struct conf *cur, *next;
	char *out = NULL;

	(void)state;
	cur = load("listener add udp 127.0.0.1:5060\n"
		   "lan add 10.0.0.0/8\n"
		   "domain add example.com\n"
		   "account add bob@example.com password one\n"
		   "account disable bob@example.com\n"
		   "log level server all\n"
		   "set t1 600\n");
	next = load("listener add udp 127.0.0.1:5060\n"
		    "listener add tcp 127.0.0.1:5061\n"
		    "domain add example.com\n"
		    "account add bob@example.com password two\n"
		    "set t1 700\n");
	assert_int_equal(conf_reload_diff(cur, next, &out), 0);
	assert_non_null(out);
	assert_string_equal(out,
	    "account enable bob@example.com\n"
	    "lan remove 10.0.0.0/8\n"
	    "log level server problems\n"
	    "set t1 700\n"
	    "listener add tcp 127.0.0.1:5061\n"
	    "account add bob@example.com ha1-md5 hidden ha1-sha256 hidden\n");
	free(out);
	/* the same configuration: nothing */
	assert_int_equal(conf_reload_diff(next, next, &out), 0);
	assert_string_equal(out, "");
	free(out);
	free_conf(cur);
	free_conf(next);
}

static void
test_line(void **state)
{
	static const char cmd[] = "listener add tcp 127.0.0.1:5061";

	(void)state;
	write_file("# a comment\n"
		   "set t1 600\n"
		   "\n"
		   "listener add tcp   127.0.0.1:5061  # the TCP one\n"
		   "set t1 700\n");
	assert_int_equal(conf_reload_line(path, "set t1 700", 10), 5);
	assert_int_equal(conf_reload_line(path, "set t1 900", 10), 5);
	assert_int_equal(conf_reload_line(path, cmd, strlen(cmd)), 4);
	assert_int_equal(conf_reload_line(path, "set t2 900", 10), 0);
	assert_int_equal(conf_reload_blame(path,
	    "set t1 700\nlistener add tcp 127.0.0.1:5061\n",
	    "cannot listen on tcp 127.0.0.1:5061 (Address already in use)"),
	    4);
	assert_int_equal(conf_reload_blame(path, "set t1 700\n",
	    "cannot open /nowhere (No such file or directory)"), 0);
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
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
