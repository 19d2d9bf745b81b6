/*
 * The command table and its grammar.  This file owns the table built from
 * commands.def and every rule about command lines: abbreviation (a unique
 * prefix per word, an exact word first, later words resolving an earlier
 * ambiguity), argument specs and values, usage text, and what may come
 * next (completion).  It keeps no state: every function works on the
 * constant table and the caller's storage, so sipd and sipctl share it
 * without locks.
 */
#include "proto/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"

const struct cmd cmd_table[CMD__COUNT] = {
#define CMD(id, handler, words, args, flags, summary)                      \
	[CMD_##id] = { CMD_##id, words, #handler, args, flags, summary },
#include "proto/commands.def"
#undef CMD
};

/* Bytes of a user's word shown in an error. */
#define CMD_CLIP 60

/* A user's word for a message: clipped, non-printables as \xNN. */
static const char *
cmd_clip(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < len && i < CMD_CLIP && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	if (i < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

bool
cmd_prefix(const char *in, size_t inlen, const char *word, size_t wlen)
{
	if (inlen > wlen) {
		return false;
	}
	return strncasecmp(in, word, inlen) == 0;
}

static bool
cmd_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

const struct cmd *
cmd_by_name(const char *name, size_t len)
{
	for (int i = 0; i < CMD__COUNT; i++) {
		if (strlen(cmd_table[i].name) == len &&
		    memcmp(cmd_table[i].name, name, len) == 0) {
			return &cmd_table[i];
		}
	}
	return NULL;
}

int
cmd_nwords(const struct cmd *c)
{
	int n = 1;

	for (const char *p = c->name; *p != '\0'; p++) {
		if (*p == ' ') {
			n++;
		}
	}
	return n;
}

const char *
cmd_word(const struct cmd *c, int i, size_t *len)
{
	const char *p = c->name, *end;

	for (; i > 0; i--) {
		p = strchr(p, ' ');
		if (p == NULL) {
			*len = 0;
			return NULL;
		}
		p++;
	}
	end = strchr(p, ' ');
	*len = end != NULL ? (size_t)(end - p) : strlen(p);
	return p;
}

/* ------------------------------------------------------------- specs */

/* Read "name:type" from s[0..len) into sp. */
static int
cmd_spec_one(const char *s, size_t len, struct cmd_argspec *sp)
{
	const char *colon = memchr(s, ':', len), *t, *par;
	size_t nl, tl, il = 0;
	const char *inner = NULL;

	if (colon == NULL) {
		return -EINVAL;
	}
	nl = (size_t)(colon - s);
	if (nl == 0 || nl >= sizeof(sp->name)) {
		return -EINVAL;
	}
	memcpy(sp->name, s, nl);
	sp->name[nl] = '\0';
	t = colon + 1;
	tl = len - nl - 1;
	par = memchr(t, '(', tl);
	if (par != NULL) {
		if (t[tl - 1] != ')') {
			return -EINVAL;
		}
		inner = par + 1;
		il = (size_t)(t + tl - 1 - inner);
		tl = (size_t)(par - t);
	}
#define TYPE_IS(str) (tl == sizeof(str) - 1 && memcmp(t, str, tl) == 0)
	if (TYPE_IS("str")) {
		sp->type = CMD_T_STR;
	} else if (TYPE_IS("words")) {
		/* words(a|b): the words' usual values, for completion */
		sp->type = CMD_T_WORDS;
		if (inner != NULL) {
			sp->choices = inner;
			sp->choices_len = il;
			inner = NULL;
		}
	} else if (TYPE_IS("path")) {
		sp->type = CMD_T_PATH;
	} else if (TYPE_IS("bool")) {
		sp->type = CMD_T_BOOL;
	} else if (TYPE_IS("hostport")) {
		sp->type = CMD_T_HOSTPORT;
	} else if (TYPE_IS("host")) {
		sp->type = CMD_T_HOST;
	} else if (TYPE_IS("range")) {
		sp->type = CMD_T_RANGE;
	} else if (TYPE_IS("uint")) {
		char buf[48], *end;

		sp->type = CMD_T_UINT;
		sp->min = 0;
		sp->max = UINT32_MAX;
		if (inner != NULL) {
			if (il == 0 || il >= sizeof(buf)) {
				return -EINVAL;
			}
			memcpy(buf, inner, il);
			buf[il] = '\0';
			sp->min = strtoull(buf, &end, 10);
			if (*end != '-') {
				return -EINVAL;
			}
			sp->max = strtoull(end + 1, &end, 10);
			if (*end != '\0' || sp->min > sp->max) {
				return -EINVAL;
			}
		}
		inner = NULL;
	} else if (TYPE_IS("enum")) {
		sp->type = CMD_T_ENUM;
		if (inner == NULL || il == 0) {
			return -EINVAL;
		}
		sp->choices = inner;
		sp->choices_len = il;
		inner = NULL;
	} else if (TYPE_IS("ref")) {
		sp->type = CMD_T_REF;
		if (inner == NULL || il == 0 || il >= sizeof(sp->ref)) {
			return -EINVAL;
		}
		memcpy(sp->ref, inner, il);
		sp->ref[il] = '\0';
		inner = NULL;
	} else {
		return -EINVAL;
	}
#undef TYPE_IS
	return inner == NULL ? 0 : -EINVAL;
}

int
cmd_spec(const struct cmd *c, struct cmd_argspec *out, int cap)
{
	const char *p = c->args;
	bool seen_optional = false;
	int n = 0;

	while (*p != '\0') {
		struct cmd_argspec *sp;
		const char *end;

		while (*p == ' ') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		if (n == cap) {
			return -EINVAL;
		}
		sp = &out[n];
		memset(sp, 0, sizeof(*sp));
		if (*p == '<') {
			end = strchr(p, '>');
			if (end == NULL || seen_optional ||
			    cmd_spec_one(p + 1, (size_t)(end - p - 1), sp) <
				0) {
				return -EINVAL;
			}
			p = end + 1;
		} else if (*p == '[') {
			const char *close = strchr(p, ']'), *lt;

			if (close == NULL) {
				return -EINVAL;
			}
			sp->optional = true;
			seen_optional = true;
			lt = memchr(p, '<', (size_t)(close - p));
			if (lt == NULL || close[-1] != '>') {
				return -EINVAL;
			}
			if (lt > p + 1) {
				size_t kl = (size_t)(lt - p - 1);

				while (kl > 0 && p[kl] == ' ') {
					kl--;
				}
				if (kl == 0 || kl >= sizeof(sp->kw)) {
					return -EINVAL;
				}
				memcpy(sp->kw, p + 1, kl);
				sp->kw[kl] = '\0';
			}
			if (cmd_spec_one(lt + 1, (size_t)(close - lt - 2), sp) <
			    0) {
				return -EINVAL;
			}
			p = close + 1;
		} else {
			return -EINVAL;
		}
		for (int i = 0; i < n; i++) {
			if (strcmp(out[i].name, sp->name) == 0) {
				return -EINVAL;
			}
		}
		n++;
	}
	return n;
}

const char *
cmd_choice(const struct cmd_argspec *s, int i, size_t *len)
{
	const char *p = s->choices, *end = s->choices + s->choices_len;

	if ((s->type != CMD_T_ENUM && s->type != CMD_T_WORDS) || p == NULL) {
		return NULL;
	}
	for (; i > 0; i--) {
		p = memchr(p, '|', (size_t)(end - p));
		if (p == NULL) {
			return NULL;
		}
		p++;
	}
	{
		const char *bar = memchr(p, '|', (size_t)(end - p));

		*len = (size_t)((bar != NULL ? bar : end) - p);
	}
	return p;
}

/* "a, b or c" from the choices of an enum. */
static const char *
cmd_choices_text(const struct cmd_argspec *s, char *buf, size_t cap)
{
	size_t o = 0, len;
	const char *c;
	int count = 0;

	while (cmd_choice(s, count, &len) != NULL) {
		count++;
	}
	buf[0] = '\0';
	for (int i = 0; i < count && o < cap; i++) {
		c = cmd_choice(s, i, &len);
		o += (size_t)snprintf(buf + o, cap - o, "%s%.*s",
		    i == 0 ? "" : i == count - 1 ? " or " : ", ", (int)len, c);
	}
	return buf;
}

/* ------------------------------------------------------ suggestions */

/* Words longer than this are not compared for a suggestion. */
#define CMD_SUGGEST_MAX 32

/*
 * The edit distance between a and b, case-insensitive: insertions,
 * deletions, substitutions and swaps of two neighbours each count one
 * (the optimal string alignment distance), so "lsitener" is 1 from
 * "listener".  Past CMD_SUGGEST_MAX bytes the words are too far apart.
 */
static int
cmd_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	int d[CMD_SUGGEST_MAX + 1][CMD_SUGGEST_MAX + 1];

	if (alen > CMD_SUGGEST_MAX || blen > CMD_SUGGEST_MAX) {
		return CMD_SUGGEST_MAX;
	}
	for (size_t i = 0; i <= alen; i++) {
		d[i][0] = (int)i;
	}
	for (size_t j = 0; j <= blen; j++) {
		d[0][j] = (int)j;
	}
	for (size_t i = 1; i <= alen; i++) {
		for (size_t j = 1; j <= blen; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			int v = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < v) {
				v = d[i - 1][j] + 1;
			}
			if (d[i][j - 1] + 1 < v) {
				v = d[i][j - 1] + 1;
			}
			if (i > 1 && j > 1 && ca == tolower((unsigned char)
							b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < v) {
				v = d[i - 2][j - 2] + 1;
			}
			d[i][j] = v;
		}
	}
	return d[alen][blen];
}

/*
 * The closest valid word to a mistyped one, for "did you mean": one
 * candidate at a time through cmd_suggest_try(), the nearest kept.  A
 * word is close when at most a third of it (at least one byte, at most
 * two) must change; ties keep the first.
 */
struct cmd_suggest {
	const char *in;
	size_t inlen;
	const char *best;
	size_t bestlen;
	int dist;
};

static void
cmd_suggest_init(struct cmd_suggest *s, const char *in, size_t inlen)
{
	int limit = (int)(inlen / 3);

	s->in = in;
	s->inlen = inlen;
	s->best = NULL;
	s->bestlen = 0;
	s->dist = (limit < 1 ? 1 : limit > 2 ? 2 : limit) + 1;
}

static void
cmd_suggest_try(struct cmd_suggest *s, const char *w, size_t len)
{
	int d = cmd_distance(s->in, s->inlen, w, len);

	if (d < s->dist) {
		s->dist = d;
		s->best = w;
		s->bestlen = len;
	}
}

/*
 * Where a word stands, appended to err: " at column N" (1-based, in the
 * line as typed), then "; did you mean 'X'?" when s found a close word.
 */
static int
cmd_where(char *err, size_t cap, int rc, const struct lex_word *w,
    const struct cmd_suggest *s)
{
	size_t o;

	if (err == NULL || cap == 0) {
		return rc;
	}
	o = strlen(err);
	if (o < cap) {
		o += (size_t)snprintf(err + o, cap - o, " at column %u",
		    (unsigned)w->start + 1);
	}
	if (s != NULL && s->best != NULL && o < cap) {
		snprintf(err + o, cap - o, "; did you mean '%.*s'?",
		    (int)s->bestlen, s->best);
	}
	return rc;
}

/* ---------------------------------------------------------- finding */

/* A sorted list of distinct words, for messages. */
struct wordset {
	int n;
	const char *w[CMD__COUNT];
	size_t len[CMD__COUNT];
};

static void
wordset_add(struct wordset *ws, const char *w, size_t len)
{
	int i, j;

	for (i = 0; i < ws->n; i++) {
		int c = strncmp(w, ws->w[i], len < ws->len[i] ? len : ws->len[i]);

		if (c == 0 && len == ws->len[i]) {
			return;
		}
		if (c < 0 || (c == 0 && len < ws->len[i])) {
			break;
		}
	}
	for (j = ws->n; j > i; j--) {
		ws->w[j] = ws->w[j - 1];
		ws->len[j] = ws->len[j - 1];
	}
	ws->w[i] = w;
	ws->len[i] = len;
	ws->n++;
}

static const char *
wordset_text(const struct wordset *ws, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < ws->n && o < cap; i++) {
		o += (size_t)snprintf(buf + o, cap - o, "%s%.*s",
		    i == 0 ? "" : i == ws->n - 1 ? " or " : ", ",
		    (int)ws->len[i], ws->w[i]);
	}
	return buf;
}

/* The canonical words 0..depth of c, as "listener add". */
static const char *
cmd_words_text(const struct cmd *c, int depth, char *buf, size_t cap)
{
	size_t len;
	const char *w;

	buf[0] = '\0';
	if (depth <= 0) {
		return buf;
	}
	w = cmd_word(c, depth - 1, &len);
	snprintf(buf, cap, "%.*s", (int)(w + len - c->name), c->name);
	return buf;
}

/*
 * The first position below depth where the candidates' words differ, or
 * -1 (they all agree).
 */
static int
cmd_first_split(const bool *cand, int depth)
{
	for (int j = 0; j < depth; j++) {
		const char *first = NULL;
		size_t flen = 0;

		for (int i = 0; i < CMD__COUNT; i++) {
			size_t len;
			const char *w;

			if (!cand[i] || cmd_nwords(&cmd_table[i]) <= j) {
				continue;
			}
			w = cmd_word(&cmd_table[i], j, &len);
			if (first == NULL) {
				first = w;
				flen = len;
			} else if (!cmd_eq(first, flen, w, len)) {
				return j;
			}
		}
	}
	return -1;
}

/* The distinct words at position pos of the candidates, as text. */
static const char *
cmd_words_at(const bool *cand, int pos, char *buf, size_t cap)
{
	struct wordset ws = { 0 };

	for (int i = 0; i < CMD__COUNT; i++) {
		size_t len;
		const char *word;

		if (!cand[i] || cmd_nwords(&cmd_table[i]) <= pos) {
			continue;
		}
		word = cmd_word(&cmd_table[i], pos, &len);
		wordset_add(&ws, word, len);
	}
	return wordset_text(&ws, buf, cap);
}

static int
cmd_ambiguous(const bool *cand, int pos, const struct lex_word *w, char *err,
    size_t cap)
{
	struct wordset ws = { 0 };
	char list[512], clip[CMD_CLIP * 4 + 8];

	for (int i = 0; i < CMD__COUNT; i++) {
		size_t len;
		const char *word;

		if (!cand[i] || cmd_nwords(&cmd_table[i]) <= pos) {
			continue;
		}
		word = cmd_word(&cmd_table[i], pos, &len);
		wordset_add(&ws, word, len);
	}
	err_fmt(err, cap, -EINVAL, "ambiguous command '%s' (%s)",
	    cmd_clip(clip, sizeof(clip), w[pos].text, w[pos].len),
	    wordset_text(&ws, list, sizeof(list)));
	return cmd_where(err, cap, -EINVAL, &w[pos], NULL);
}

/* Offer s the distinct words at position pos of the candidates. */
static void
cmd_suggest_words(struct cmd_suggest *s, const bool *cand, int pos)
{
	for (int i = 0; i < CMD__COUNT; i++) {
		size_t len;
		const char *word;

		if (!cand[i] || cmd_nwords(&cmd_table[i]) <= pos) {
			continue;
		}
		word = cmd_word(&cmd_table[i], pos, &len);
		cmd_suggest_try(s, word, len);
	}
}

/*
 * "unknown command 'WORDS'" for the word at pos that matches none of
 * the candidates: with the nearest word when one is close, else with the
 * list of valid words.
 */
static int
cmd_unknown(const bool *cand, int pos, const char *before,
    const struct lex_word *w, char *err, size_t cap)
{
	struct cmd_suggest sg;
	char list[512], clip[CMD_CLIP * 4 + 8];

	cmd_suggest_init(&sg, w[pos].text, w[pos].len);
	cmd_suggest_words(&sg, cand, pos);
	cmd_clip(clip, sizeof(clip), w[pos].text, w[pos].len);
	if (sg.best != NULL) {
		err_fmt(err, cap, -EINVAL, "unknown command '%s%s%s'",
		    before, before[0] != '\0' ? " " : "", clip);
	} else {
		err_fmt(err, cap, -EINVAL,
		    "unknown command '%s%s%s' (expected %s)", before,
		    before[0] != '\0' ? " " : "", clip,
		    cmd_words_at(cand, pos, list, sizeof(list)));
	}
	return cmd_where(err, cap, -EINVAL, &w[pos], &sg);
}

/*
 * Narrow cand by w[0..n) as far as the words go.  Returns the number of
 * words matched (the depth); cand holds the commands still matching.
 */
static int
cmd_narrow(const struct lex_word *w, int n, bool *cand)
{
	int j;

	for (j = 0; j < n; j++) {
		bool next[CMD__COUNT], any = false, exact = false;

		for (int i = 0; i < CMD__COUNT; i++) {
			size_t len;
			const char *word;

			next[i] = false;
			if (!cand[i] || cmd_nwords(&cmd_table[i]) <= j) {
				continue;
			}
			word = cmd_word(&cmd_table[i], j, &len);
			if (cmd_prefix(w[j].text, w[j].len, word, len)) {
				next[i] = true;
				any = true;
				if (cmd_eq(w[j].text, w[j].len, word, len)) {
					exact = true;
				}
			}
		}
		if (!any) {
			break;
		}
		for (int i = 0; i < CMD__COUNT; i++) {
			size_t len;
			const char *word;

			if (next[i] && exact) {
				word = cmd_word(&cmd_table[i], j, &len);
				next[i] = cmd_eq(w[j].text, w[j].len, word,
				    len);
			}
		}
		/* Commands complete at depth j are dropped here: a longer
		 * command goes on matching the word (the longest match). */
		memcpy(cand, next, sizeof(next));
	}
	return j;
}

int
cmd_find(const struct lex_word *w, int n, unsigned exclude,
    const struct cmd **out, int *used, char *err, size_t cap)
{
	bool cand[CMD__COUNT], done[CMD__COUNT];
	const struct cmd *found = NULL;
	char words[256], list[512];
	int depth, count = 0, split;

	if (n <= 0) {
		return err_fmt(err, cap, -EINVAL, "empty command");
	}
	for (int i = 0; i < CMD__COUNT; i++) {
		cand[i] = (cmd_table[i].flags & exclude) == 0;
	}
	depth = cmd_narrow(w, n, cand);
	if (depth == 0) {
		return cmd_unknown(cand, 0, "", w, err, cap);
	}
	/* The commands whose words are all matched. */
	for (int i = 0; i < CMD__COUNT; i++) {
		done[i] = cand[i] && cmd_nwords(&cmd_table[i]) == depth;
		if (done[i]) {
			found = &cmd_table[i];
			count++;
		}
	}
	/* At the end of the words every candidate counts; a word that
	 * stopped the match leaves only the commands it completed. */
	split = cmd_first_split(depth == n || count == 0 ? cand : done, depth);
	if (split >= 0) {
		return cmd_ambiguous(depth == n || count == 0 ? cand : done,
		    split, w, err, cap);
	}
	if (count == 1) {
		*out = found;
		*used = depth;
		return 0;
	}
	for (int i = 0; i < CMD__COUNT; i++) {
		if (cand[i]) {
			found = &cmd_table[i];
			break;
		}
	}
	cmd_words_text(found, depth, words, sizeof(words));
	if (depth < n) {
		return cmd_unknown(cand, depth, words, w, err, cap);
	}
	return err_fmt(err, cap, -EINVAL,
	    "incomplete command '%s' (expected %s)",
	    words, cmd_words_at(cand, depth, list, sizeof(list)));
}

/* --------------------------------------------------------- arguments */

int
cmd_args_init(struct cmd_args *a, const struct cmd *c)
{
	int n;

	a->cmd = c;
	a->n = 0;
	a->used = 0;
	n = cmd_spec(c, a->spec, CMD_MAX_ARGS);
	if (n < 0) {
		return n;
	}
	a->n = n;
	memset(a->val, 0, sizeof(a->val));
	return 0;
}

int
cmd_args_index(const struct cmd_args *a, const char *name, size_t len)
{
	for (int i = 0; i < a->n; i++) {
		if (strlen(a->spec[i].name) == len &&
		    memcmp(a->spec[i].name, name, len) == 0) {
			return i;
		}
	}
	return -1;
}

/* Copy text into the store; returns the copy or NULL when full. */
static const char *
cmd_store(struct cmd_args *a, const char *text, size_t len)
{
	char *p;

	if (len + 1 > sizeof(a->store) - a->used) {
		return NULL;
	}
	p = a->store + a->used;
	memcpy(p, text, len);
	p[len] = '\0';
	a->used += len + 1;
	return p;
}

static int
cmd_parse_uint(const struct cmd_argspec *sp, const char *text, size_t len,
    uint64_t *out, char *err, size_t cap)
{
	char clip[CMD_CLIP * 4 + 8];
	uint64_t v = 0;

	if (len == 0) {
		return err_fmt(err, cap, -EINVAL,
		    "bad number '' for %s", sp->name);
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			return err_fmt(err, cap, -EINVAL,
			    "bad number '%s' for %s",
			    cmd_clip(clip, sizeof(clip), text, len), sp->name);
		}
		/* Past max the value no longer matters, only the digits. */
		if (v <= sp->max) {
			v = v * 10 + (uint64_t)(text[i] - '0');
		}
	}
	if (v < sp->min || v > sp->max) {
		return err_fmt(err, cap, -EINVAL,
		    "%s %s out of range (%llu to %llu)", sp->name,
		    cmd_clip(clip, sizeof(clip), text, len),
		    (unsigned long long)sp->min, (unsigned long long)sp->max);
	}
	*out = v;
	return 0;
}

int
cmd_args_set(struct cmd_args *a, int i, const char *text, size_t len,
    char *err, size_t cap)
{
	const struct cmd_argspec *sp;
	struct cmd_val *v;
	char clip[CMD_CLIP * 4 + 8], list[256], num[24];
	int rc;

	if (i < 0 || i >= a->n) {
		return err_fmt(err, cap, -EINVAL, "no such argument");
	}
	sp = &a->spec[i];
	v = &a->val[i];
	if (v->set) {
		return err_fmt(err, cap, -EINVAL, "%s given twice", sp->name);
	}
	if (len > CMD_VALUE_MAX) {
		err_fmt(err, cap, -EINVAL,
		    "%s too long (at most %d bytes)", sp->name,
		    CMD_VALUE_MAX);
		return -SIPD_ETOOBIG;
	}
	if (memchr(text, '\0', len) != NULL) {
		return err_fmt(err, cap, -EINVAL, "NUL byte in %s", sp->name);
	}
	switch (sp->type) {
	case CMD_T_UINT:
		rc = cmd_parse_uint(sp, text, len, &v->u, err, cap);
		if (rc < 0) {
			return rc;
		}
		/* canonical text, as for bool: "007" is kept as "7", so the
		 * value reads the same after a trip over the wire */
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v->u);
		text = num;
		len = strlen(num);
		break;
	case CMD_T_BOOL:
		if (cmd_eq(text, len, "on", 2) || cmd_eq(text, len, "yes", 3) ||
		    cmd_eq(text, len, "true", 4) || cmd_eq(text, len, "1", 1)) {
			v->b = true;
		} else if (cmd_eq(text, len, "off", 3) ||
		    cmd_eq(text, len, "no", 2) ||
		    cmd_eq(text, len, "false", 5) ||
		    cmd_eq(text, len, "0", 1)) {
			v->b = false;
		} else {
			return err_fmt(err, cap, -EINVAL,
			    "bad %s '%s' (expected on or off)", sp->name,
			    cmd_clip(clip, sizeof(clip), text, len));
		}
		text = v->b ? "on" : "off";
		len = strlen(text);
		break;
	case CMD_T_ENUM: {
		int match = -1, count = 0;
		size_t cl;
		const char *c;

		for (int k = 0; (c = cmd_choice(sp, k, &cl)) != NULL; k++) {
			if (cmd_eq(text, len, c, cl)) {
				match = k;
				count = 1;
				break;
			}
			if (len > 0 && cmd_prefix(text, len, c, cl)) {
				match = k;
				count++;
			}
		}
		if (count == 0) {
			return err_fmt(err, cap, -EINVAL,
			    "unknown %s '%s' (expected %s)", sp->name,
			    cmd_clip(clip, sizeof(clip), text, len),
			    cmd_choices_text(sp, list, sizeof(list)));
		}
		if (count > 1) {
			return err_fmt(err, cap, -EINVAL,
			    "ambiguous %s '%s' (expected %s)", sp->name,
			    cmd_clip(clip, sizeof(clip), text, len),
			    cmd_choices_text(sp, list, sizeof(list)));
		}
		v->choice = match;
		text = cmd_choice(sp, match, &len);
		break;
	}
	default:
		if (len == 0) {
			return err_fmt(err, cap, -EINVAL, "empty %s", sp->name);
		}
		break;
	}
	v->s = cmd_store(a, text, len);
	if (v->s == NULL) {
		err_fmt(err, cap, -EINVAL, "arguments too long");
		return -SIPD_ETOOBIG;
	}
	v->set = true;
	return 0;
}

int
cmd_args_set_uint(struct cmd_args *a, int i, uint64_t u, char *err,
    size_t cap)
{
	char buf[24];
	int n;

	if (i < 0 || i >= a->n || a->spec[i].type != CMD_T_UINT) {
		return err_fmt(err, cap, -EINVAL, "not a number argument");
	}
	n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
	return cmd_args_set(a, i, buf, (size_t)n, err, cap);
}

int
cmd_args_set_bool(struct cmd_args *a, int i, bool b, char *err, size_t cap)
{
	if (i < 0 || i >= a->n || a->spec[i].type != CMD_T_BOOL) {
		return err_fmt(err, cap, -EINVAL, "not a boolean argument");
	}
	return cmd_args_set(a, i, b ? "on" : "off", b ? 2 : 3, err, cap);
}

int
cmd_args_check(const struct cmd_args *a, char *err, size_t cap)
{
	char usage[512];

	for (int i = 0; i < a->n; i++) {
		if (!a->spec[i].optional && !a->val[i].set) {
			return err_fmt(err, cap, -EINVAL,
			    "missing %s (usage: %s)",
			    a->spec[i].name,
			    cmd_usage(a->cmd, usage, sizeof(usage)));
		}
	}
	return 0;
}

/*
 * A value w that argument k refused: say where it stands and, for an
 * enum, the nearest choice.
 */
static int
cmd_where_value(const struct cmd_args *a, int k, char *err, size_t cap,
    int rc, const struct lex_word *w)
{
	struct cmd_suggest sg;
	const char *c;
	size_t len;

	cmd_suggest_init(&sg, w->text, w->len);
	if (k >= 0 && k < a->n && a->spec[k].type == CMD_T_ENUM) {
		for (int i = 0; (c = cmd_choice(&a->spec[k], i, &len)) != NULL;
		    i++) {
			cmd_suggest_try(&sg, c, len);
		}
	}
	return cmd_where(err, cap, rc, w, &sg);
}

/* The keyword spec that w names (exactly or by a unique prefix). */
static int
cmd_keyword(const struct cmd_args *a, const struct lex_word *w, int *which)
{
	int count = 0;

	*which = -1;
	for (int i = 0; i < a->n; i++) {
		size_t kl = strlen(a->spec[i].kw);

		if (kl == 0 || w->len == 0) {
			continue;
		}
		if (cmd_eq(w->text, w->len, a->spec[i].kw, kl)) {
			*which = i;
			return 1;
		}
		if (cmd_prefix(w->text, w->len, a->spec[i].kw, kl)) {
			*which = i;
			count++;
		}
	}
	return count;
}

/*
 * The first unset argument that a bare word fills: a required one, or
 * with optional an optional one that takes no keyword.  -1 when none.
 */
static int
cmd_free_slot(const struct cmd_args *a, bool optional)
{
	for (int k = 0; k < a->n; k++) {
		const struct cmd_argspec *sp = &a->spec[k];
		bool fits = optional ? sp->optional && sp->kw[0] == '\0'
				     : !sp->optional;

		if (fits && !a->val[k].set) {
			return k;
		}
	}
	return -1;
}

/* A words argument takes w[0..n), the rest of the line, a blank apart. */
static int
cmd_place_words(struct cmd_args *a, int k, const struct lex_word *w, int n,
    char *err, size_t cap)
{
	char buf[CMD_VALUE_MAX + 1];
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		if (o + w[i].len + 1 > sizeof(buf)) {
			err_fmt(err, cap, -EINVAL, "%s too long",
			    a->spec[k].name);
			return cmd_where(err, cap, -EINVAL, &w[i], NULL);
		}
		if (i > 0) {
			buf[o++] = ' ';
		}
		memcpy(buf + o, w[i].text, w[i].len);
		o += w[i].len;
	}
	return cmd_args_set(a, k, buf, o, err, cap);
}

/*
 * Assign the words w[0..n) to a's arguments: the required ones in order,
 * then keywords and optional values.  *stop gets the index of the first
 * word that could not be placed (n when all were).
 */
static int
cmd_place(struct cmd_args *a, const struct lex_word *w, int n, char *err,
    size_t cap, int *kw_pending)
{
	char usage[512], clip[CMD_CLIP * 4 + 8];
	int i = 0, rc;

	*kw_pending = -1;
	while (i < n) {
		int k = cmd_free_slot(a, false), which = -1, count = 0;

		if (k < 0) {
			count = cmd_keyword(a, &w[i], &which);
		}
		if (count > 1) {
			err_fmt(err, cap, -EINVAL, "ambiguous keyword '%s'",
			    cmd_clip(clip, sizeof(clip), w[i].text, w[i].len));
			return cmd_where(err, cap, -EINVAL, &w[i], NULL);
		}
		if (count == 1) {
			if (i + 1 >= n) {
				*kw_pending = which;
				err_fmt(err, cap, -EINVAL,
				    "missing value for %s", a->spec[which].kw);
				return cmd_where(err, cap, -EINVAL, &w[i],
				    NULL);
			}
			rc = cmd_args_set(a, which, w[i + 1].text,
			    w[i + 1].len, err, cap);
			if (rc < 0) {
				return cmd_where_value(a, which, err, cap, rc,
				    &w[i + 1]);
			}
			i += 2;
			continue;
		}
		if (k < 0) {
			k = cmd_free_slot(a, true);
		}
		if (k < 0) {
			struct cmd_suggest sg;

			cmd_suggest_init(&sg, w[i].text, w[i].len);
			for (int j = 0; j < a->n; j++) {
				if (a->spec[j].kw[0] != '\0' &&
				    !a->val[j].set) {
					cmd_suggest_try(&sg, a->spec[j].kw,
					    strlen(a->spec[j].kw));
				}
			}
			err_fmt(err, cap, -EINVAL,
			    "unexpected argument '%s' (usage: %s)",
			    cmd_clip(clip, sizeof(clip), w[i].text, w[i].len),
			    cmd_usage(a->cmd, usage, sizeof(usage)));
			return cmd_where(err, cap, -EINVAL, &w[i], &sg);
		}
		if (a->spec[k].type == CMD_T_WORDS) {
			return cmd_place_words(a, k, w + i, n - i, err, cap);
		}
		rc = cmd_args_set(a, k, w[i].text, w[i].len, err, cap);
		if (rc < 0) {
			return cmd_where_value(a, k, err, cap, rc, &w[i]);
		}
		i++;
	}
	return 0;
}

int
cmd_parse(struct cmd_args *a, const struct lex_word *w, int n,
    unsigned exclude, char *err, size_t cap)
{
	const struct cmd *c;
	int used, rc, pending;

	rc = cmd_find(w, n, exclude, &c, &used, err, cap);
	if (rc < 0) {
		return rc;
	}
	if (cmd_args_init(a, c) < 0) {
		return err_fmt(err, cap, -EINVAL,
		    "bad argument spec for '%s'", c->name);
	}
	rc = cmd_place(a, w + used, n - used, err, cap, &pending);
	if (rc < 0) {
		return rc;
	}
	return cmd_args_check(a, err, cap);
}

static const struct cmd_val *
cmd_arg(const struct cmd_args *a, const char *name)
{
	int i = cmd_args_index(a, name, strlen(name));

	if (i < 0 || !a->val[i].set) {
		return NULL;
	}
	return &a->val[i];
}

bool
cmd_arg_has(const struct cmd_args *a, const char *name)
{
	return cmd_arg(a, name) != NULL;
}

const char *
cmd_arg_str(const struct cmd_args *a, const char *name)
{
	const struct cmd_val *v = cmd_arg(a, name);

	return v != NULL ? v->s : NULL;
}

uint64_t
cmd_arg_uint(const struct cmd_args *a, const char *name, uint64_t dflt)
{
	const struct cmd_val *v = cmd_arg(a, name);

	return v != NULL ? v->u : dflt;
}

bool
cmd_arg_bool(const struct cmd_args *a, const char *name, bool dflt)
{
	const struct cmd_val *v = cmd_arg(a, name);

	return v != NULL ? v->b : dflt;
}

int
cmd_arg_enum(const struct cmd_args *a, const char *name)
{
	const struct cmd_val *v = cmd_arg(a, name);

	return v != NULL ? v->choice : -1;
}

/* ------------------------------------------------------------- usage */

const char *
cmd_usage(const struct cmd *c, char *buf, size_t cap)
{
	struct cmd_argspec spec[CMD_MAX_ARGS];
	size_t o;
	int n;

	o = (size_t)snprintf(buf, cap, "%s", c->name);
	n = cmd_spec(c, spec, CMD_MAX_ARGS);
	for (int i = 0; i < n && o < cap; i++) {
		const struct cmd_argspec *s = &spec[i];
		char val[160];

		if (s->type == CMD_T_ENUM) {
			snprintf(val, sizeof(val), "%.*s", (int)s->choices_len,
			    s->choices);
		} else if (s->type == CMD_T_BOOL) {
			snprintf(val, sizeof(val), "on|off");
		} else {
			snprintf(val, sizeof(val), "<%s>", s->name);
		}
		if (s->kw[0] != '\0') {
			o += (size_t)snprintf(buf + o, cap - o, " [%s %s]", s->kw,
			    val);
		} else if (s->optional) {
			o += (size_t)snprintf(buf + o, cap - o, " [%s]", val);
		} else {
			o += (size_t)snprintf(buf + o, cap - o, " %s", val);
		}
	}
	return buf;
}

/* -------------------------------------------------------- completion */

static void
cmd_next_add(struct cmd_next *out, const char *text, size_t len,
    const char *help)
{
	for (int i = 0; i < out->n; i++) {
		if (cmd_eq(out->word[i].text, out->word[i].len, text, len)) {
			return;
		}
	}
	if (out->n < CMD_NEXT_MAX && len + 1 <= sizeof(out->store) - out->used) {
		memcpy(out->store + out->used, text, len);
		out->store[out->used + len] = '\0';
		text = out->store + out->used;
		out->used += len + 1;
		out->word[out->n].text = text;
		out->word[out->n].len = len;
		out->word[out->n].help = help;
		out->n++;
	}
}

/* A value for spec s is expected: enum choices are words, else a value. */
static void
cmd_next_value(struct cmd_next *out, const struct cmd_argspec *s)
{
	size_t len;
	const char *c;

	if (s->type == CMD_T_ENUM ||
	    (s->type == CMD_T_WORDS && s->choices != NULL)) {
		for (int k = 0; (c = cmd_choice(s, k, &len)) != NULL; k++) {
			cmd_next_add(out, c, len, NULL);
		}
		return;
	}
	if (s->type == CMD_T_BOOL) {
		cmd_next_add(out, "on", 2, NULL);
		cmd_next_add(out, "off", 3, NULL);
		return;
	}
	out->value = true;
	out->spec = *s;
}

int
cmd_next(const struct lex_word *w, int n, unsigned exclude,
    struct cmd_next *out)
{
	bool cand[CMD__COUNT], done[CMD__COUNT];
	struct cmd_args *a;
	const struct cmd *c = NULL;
	int depth, count = 0, pending, rc = 0, k;
	char err[256];

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < CMD__COUNT; i++) {
		cand[i] = (cmd_table[i].flags & exclude) == 0;
	}
	depth = cmd_narrow(w, n, cand);
	for (int i = 0; i < CMD__COUNT; i++) {
		done[i] = cand[i] && cmd_nwords(&cmd_table[i]) == depth &&
		    depth > 0;
		if (done[i]) {
			c = &cmd_table[i];
			count++;
		}
	}
	if (depth == n) {
		/* More command words may follow. */
		for (int i = 0; i < CMD__COUNT; i++) {
			size_t len;
			const char *word;

			if (!cand[i] || cmd_nwords(&cmd_table[i]) <= depth) {
				continue;
			}
			word = cmd_word(&cmd_table[i], depth, &len);
			cmd_next_add(out, word, len,
			    cmd_nwords(&cmd_table[i]) == depth + 1
				? cmd_table[i].summary
				: NULL);
		}
		if (out->n > 0 || count != 1) {
			return out->n > 0 ? 0 : -EINVAL;
		}
	}
	if (count != 1 || cmd_first_split(depth == n ? cand : done,
			      depth) >= 0) {
		return -EINVAL;
	}
	/* The words name c: what may its next argument be? */
	out->cmd = c;
	a = malloc(sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	if (cmd_args_init(a, c) < 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = cmd_place(a, w + depth, n - depth, err, sizeof(err), &pending);
	if (rc < 0 && pending < 0) {
		goto out;
	}
	rc = 0;
	if (pending >= 0) {
		cmd_next_value(out, &a->spec[pending]);
		goto out;
	}
	for (k = 0; k < a->n; k++) {
		if (!a->spec[k].optional && !a->val[k].set) {
			cmd_next_value(out, &a->spec[k]);
			goto out;
		}
	}
	for (k = 0; k < a->n; k++) {
		if (a->val[k].set) {
			/* words(a|b) take any number of their values */
			if (a->spec[k].type == CMD_T_WORDS &&
			    a->spec[k].choices != NULL) {
				cmd_next_value(out, &a->spec[k]);
			}
			continue;
		}
		if (a->spec[k].kw[0] != '\0') {
			cmd_next_add(out, a->spec[k].kw, strlen(a->spec[k].kw),
			    NULL);
		} else {
			cmd_next_value(out, &a->spec[k]);
		}
	}
out:
	free(a);
	return rc;
}
