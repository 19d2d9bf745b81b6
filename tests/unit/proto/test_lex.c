/*
 * Unit tests of proto/lex: words, blanks, both kinds of quotes, escapes,
 * comments, the partial mode used by completion, and errors with their
 * column.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/lex.h"

/* Split s (NUL-terminated) with flags; returns lex_split()'s result. */
static int
split(struct lex_line *l, const char *s, unsigned flags, struct lex_err *err)
{
	return lex_split(l, s, strlen(s), flags, err);
}

static void
expect_words(const char *in, const char *const *want, int n)
{
	struct lex_line l;
	struct lex_err err = { 0, NULL };

	assert_int_equal(split(&l, in, 0, &err), 0);
	assert_int_equal(l.count, n);
	for (int i = 0; i < n; i++) {
		assert_string_equal(l.words[i].text, want[i]);
		assert_int_equal(l.words[i].len, strlen(want[i]));
	}
	lex_fini(&l);
}

static void
expect_error(const char *in, const char *msg, uint32_t col)
{
	struct lex_line l;
	struct lex_err err = { 0, NULL };

	assert_int_equal(split(&l, in, 0, &err), -EINVAL);
	assert_int_equal(l.count, 0);
	assert_non_null(err.msg);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.col, col);
	lex_fini(&l);
}

static void
test_words(void **state)
{
	static const char *const w1[] = { "listener", "add", "udp",
		"127.0.0.1:5060" };
	static const char *const w2[] = { "a", "b" };

	(void)state;
	expect_words("listener add udp 127.0.0.1:5060", w1, 4);
	expect_words("  \tlistener   add\tudp 127.0.0.1:5060  \r\n", w1, 4);
	expect_words("a b\n", w2, 2);
	expect_words("", NULL, 0);
	expect_words("   \t ", NULL, 0);
}

static void
test_offsets(void **state)
{
	struct lex_line l;

	(void)state;
	assert_int_equal(split(&l, "  ab \"c d\"", 0, NULL), 0);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.words[0].start, 2);
	assert_int_equal(l.words[0].end, 4);
	assert_false(l.words[0].quoted);
	assert_int_equal(l.words[1].start, 5);
	assert_int_equal(l.words[1].end, 10);
	assert_true(l.words[1].quoted);
	lex_fini(&l);
}

static void
test_quotes(void **state)
{
	static const char *const w1[] = { "say", "hello world", "x" };
	static const char *const w2[] = { "it's", "a \\n b" };
	static const char *const w3[] = { "ab cd" };
	static const char *const w4[] = { "", "" };
	static const char *const w5[] = { "a#b", "c" };

	(void)state;
	expect_words("say \"hello world\" x", w1, 3);
	expect_words("\"it's\" 'a \\n b'", w2, 2);
	expect_words("a\"b c\"d", w3, 1);
	expect_words("\"\" ''", w4, 2);
	expect_words("'a#b' c # comment", w5, 2);
}

static void
test_escapes(void **state)
{
	static const char *const w1[] = { "q\"b\\s" };
	static const char *const w2[] = { "l\nt\tr\r" };
	static const char *const w3[] = { "a b", "#x" };

	(void)state;
	expect_words("\"q\\\"b\\\\s\"", w1, 1);
	expect_words("\"l\\nt\\tr\\r\"", w2, 1);
	/* outside quotes a backslash takes the next character literally */
	expect_words("a\\ b \\#x", w3, 2);
}

static void
test_comments(void **state)
{
	static const char *const w1[] = { "log", "level" };
	static const char *const w2[] = { "a", "# not a comment" };

	(void)state;
	expect_words("# a comment line", NULL, 0);
	expect_words("   # indented comment", NULL, 0);
	expect_words("log level# all", w1, 2);
	expect_words("log level # all \"unterminated", w1, 2);
	expect_words("a \"# not a comment\"", w2, 2);
}

static void
test_errors(void **state)
{
	static const char nul[] = "ab\0cd";
	struct lex_line l;
	struct lex_err err = { 0, NULL };

	(void)state;
	expect_error("say \"hello", "unterminated double quote", 5);
	expect_error("x 'abc", "unterminated single quote", 3);
	expect_error("\"a\\qb\"", "unknown escape in double quotes", 3);
	expect_error("abc\\", "backslash at end of line", 4);
	expect_error("\"abc\\", "unterminated double quote", 1);

	assert_int_equal(lex_split(&l, nul, sizeof(nul) - 1, 0, &err),
	    -EINVAL);
	assert_string_equal(err.msg, "NUL byte");
	assert_int_equal(err.col, 3);
	lex_fini(&l);
}

static void
test_too_many(void **state)
{
	char in[LEX_MAX_WORDS * 2 + 8];
	size_t o = 0;

	(void)state;
	for (int i = 0; i <= LEX_MAX_WORDS; i++) {
		in[o++] = 'w';
		in[o++] = ' ';
	}
	in[o] = '\0';
	expect_error(in, "too many words", LEX_MAX_WORDS * 2 + 1);
}

static void
test_partial(void **state)
{
	struct lex_line l;
	struct lex_err err = { 0, NULL };

	(void)state;
	assert_int_equal(split(&l, "listener add \"12", LEX_PARTIAL, &err),
	    0);
	assert_int_equal(l.count, 3);
	assert_true(l.open);
	assert_false(l.trailing_blank);
	assert_string_equal(l.words[2].text, "12");
	lex_fini(&l);

	assert_int_equal(split(&l, "listener ", LEX_PARTIAL, &err), 0);
	assert_int_equal(l.count, 1);
	assert_false(l.open);
	assert_true(l.trailing_blank);
	lex_fini(&l);

	assert_int_equal(split(&l, "listener", LEX_PARTIAL, &err), 0);
	assert_false(l.trailing_blank);
	lex_fini(&l);
}

static void
test_fini_null(void **state)
{
	(void)state;
	lex_fini(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_fini_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
