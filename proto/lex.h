/*
 * lex: the command-line grammar shared by the configuration file, sipctl's
 * shell and scripts, and completion.  One line in, a list of words out.
 *
 *   - words are separated by blanks (space, tab; a CR is a blank too, so
 *     files with CRLF line ends read the same);
 *   - "double quotes" group a word; inside them a backslash escapes the
 *     next character: \" \\ give the character, \n \t \r give LF, HT, CR,
 *     any other escape is an error;
 *   - 'single quotes' group a word literally, with no escapes;
 *   - outside quotes a backslash takes the next character literally
 *     (\# is a '#', "\ " a blank inside the word);
 *   - quoted and unquoted parts that touch form one word: a"b c"d is
 *     the word "ab cd";
 *   - '#' outside quotes starts a comment that runs to the end of the line.
 *
 * Errors carry the 1-based column (in bytes) where the fault begins.
 */
#ifndef SIPD_PROTO_LEX_H
#define SIPD_PROTO_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LEX_MAX_WORDS 64

/* Flags for lex_split(). */
#define LEX_PARTIAL 0x1 /* input may end inside a quote (completion) */

struct lex_word {
	const char *text; /* unquoted, NUL-terminated, owned by the line */
	size_t len;
	uint32_t start;   /* byte offset of the word's first byte in the input */
	uint32_t end;     /* byte offset just past its last byte */
	bool quoted;      /* some part of it was quoted */
};

struct lex_line {
	int count;
	struct lex_word words[LEX_MAX_WORDS];
	/*
	 * LEX_PARTIAL only: the input ended inside a quote (open) or after
	 * a blank (a new, empty word is under the cursor: trailing_blank).
	 */
	bool open;
	bool trailing_blank;
	char *buf; /* storage for the words' text */
};

struct lex_err {
	uint32_t col;    /* 1-based column of the fault */
	const char *msg; /* static text: "unterminated double quote" */
};

/*
 * Split in[0..len) into words.  The words live in l until lex_fini().
 * Returns 0 (l->count may be 0 for a blank or comment line), -EINVAL with
 * *err filled for a syntax error (l is then empty), or -ENOMEM.
 * l needs no initialisation; call lex_fini() after any return.
 */
int lex_split(struct lex_line *l, const char *in, size_t len, unsigned flags,
    struct lex_err *err);

/* Release the words of l.  Accepts a line lex_split() failed on. */
void lex_fini(struct lex_line *l);

/*
 * Write s to f as one word that lex_split() reads back as s: as it is
 * when it can be, else in double quotes with \" \\ \n \t \r escapes.
 */
void lex_word_out(FILE *f, const char *s);

#endif
