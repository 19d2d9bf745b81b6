/*
 * The command-line lexer: splits one line of the configuration file, of a
 * sipctl script or of the interactive shell into words, with the quoting
 * rules described in lex.h.  It owns nothing but the text of the words it
 * returns, kept in one allocation per line (the unquoted text is never
 * longer than the input, so one buffer of the input's size is enough).
 */
#include "proto/lex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool
lex_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value of the escape "\c" inside double quotes, or -1. */
static int
lex_escape(char c)
{
	switch (c) {
	case '"':
	case '\\':
		return c;
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	default:
		return -1;
	}
}

static int
lex_fail(struct lex_line *l, struct lex_err *err, size_t at, const char *msg)
{
	l->count = 0;
	l->open = false;
	l->trailing_blank = false;
	if (err != NULL) {
		err->col = (uint32_t)at + 1;
		err->msg = msg;
	}
	return -EINVAL;
}

int
lex_split(struct lex_line *l, const char *in, size_t len, unsigned flags,
    struct lex_err *err)
{
	bool partial = (flags & LEX_PARTIAL) != 0;
	size_t i = 0, o = 0;

	memset(l, 0, sizeof(*l));
	if (len >= UINT32_MAX) {
		return lex_fail(l, err, 0, "line too long");
	}
	l->buf = malloc(len + 1);
	if (l->buf == NULL) {
		return -ENOMEM;
	}
	while (i < len && !l->open) {
		struct lex_word *w;

		while (i < len && lex_blank(in[i])) {
			i++;
		}
		if (i >= len || in[i] == '#') {
			break;
		}
		if (l->count == LEX_MAX_WORDS) {
			return lex_fail(l, err, i, "too many words");
		}
		w = &l->words[l->count];
		w->start = (uint32_t)i;
		w->text = l->buf + o;
		w->quoted = false;
		while (i < len && !lex_blank(in[i]) && in[i] != '#') {
			char c = in[i];

			if (c == '\0') {
				return lex_fail(l, err, i, "NUL byte");
			}
			if (c == '\\') {
				if (i + 1 >= len) {
					return lex_fail(l, err, i,
					    "backslash at end of line");
				}
				if (in[i + 1] == '\0') {
					return lex_fail(l, err, i + 1,
					    "NUL byte");
				}
				l->buf[o++] = in[i + 1];
				i += 2;
			} else if (c == '\'') {
				size_t q = i++;

				w->quoted = true;
				while (i < len && in[i] != '\'') {
					if (in[i] == '\0') {
						return lex_fail(l, err, i,
						    "NUL byte");
					}
					l->buf[o++] = in[i++];
				}
				if (i >= len) {
					if (!partial) {
						return lex_fail(l, err, q,
						    "unterminated single "
						    "quote");
					}
					l->open = true;
					break;
				}
				i++;
			} else if (c == '"') {
				size_t q = i++;

				w->quoted = true;
				while (i < len && in[i] != '"') {
					int e;

					if (in[i] == '\0') {
						return lex_fail(l, err, i,
						    "NUL byte");
					}
					if (in[i] != '\\') {
						l->buf[o++] = in[i++];
						continue;
					}
					if (i + 1 >= len) {
						i++;
						break;
					}
					e = lex_escape(in[i + 1]);
					if (e < 0) {
						return lex_fail(l, err, i,
						    "unknown escape in "
						    "double quotes");
					}
					l->buf[o++] = (char)e;
					i += 2;
				}
				if (i >= len) {
					if (!partial) {
						return lex_fail(l, err, q,
						    "unterminated double "
						    "quote");
					}
					l->open = true;
					break;
				}
				i++;
			} else {
				l->buf[o++] = c;
				i++;
			}
		}
		w->end = (uint32_t)i;
		w->len = (size_t)(l->buf + o - w->text);
		l->buf[o++] = '\0';
		l->count++;
	}
	if (partial && !l->open && len > 0 && lex_blank(in[len - 1])) {
		l->trailing_blank = true;
	}
	return 0;
}

void
lex_fini(struct lex_line *l)
{
	if (l == NULL) {
		return;
	}
	free(l->buf);
	l->buf = NULL;
	l->count = 0;
}

void
lex_word_out(FILE *f, const char *s)
{
	bool plain = s[0] != '\0';

	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= ' ' || ch == '"' || ch == '\'' || ch == '\\' ||
		    ch == '#' || ch >= 0x7f) {
			plain = false;
		}
	}
	if (plain) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const char *p = s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
		case '\\':
			fputc('\\', f);
			fputc(*p, f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			fputc(*p, f);
		}
	}
	fputc('"', f);
}
