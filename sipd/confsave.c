/*
 * Saving the configuration into the administrator's file.  The file is a
 * script the administrator wrote and commented; sipctl's changes must
 * not cost its comments, blank lines or order.  Each command line of the
 * file and of the configuration's listings gets a key naming what it
 * sets ("set t1", "listener add udp 127.0.0.1:5060", "account add
 * alice@example.com"); the listing of the configuration as the file left
 * it is compared with the running one, key by key, and only the lines of
 * the keys that changed are touched, and those that hold a password in
 * the clear, which are written as digests.  Owns nothing between calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "proto/lex.h"
#include "proto/table.h"
#include "sipd/conf.h"

#define KEY_MAX 600

/* A line of text and its key ("" for a blank, comment or bad line). */
struct cline {
	const char *text;
	size_t len;
	char key[KEY_MAX];
	size_t code_end; /* where its last word ends: a comment follows */
	bool secret;     /* it holds a password in the clear */
	bool done;       /* a new line: written already */
};

struct clines {
	struct cline *v;
	int n, cap;
};

static void
clines_free(struct clines *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* The words of a key: what the command sets, canonical, lower case. */
static void
key_add(char *key, size_t cap, const char *word)
{
	size_t o = strlen(key);

	snprintf(key + o, cap - o, "%s%s", o > 0 ? " " : "", word);
	for (char *p = key + o; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
		}
	}
}

/*
 * The key of a parsed command: a setting is its command's name; a row of
 * a table of tables.def is "T add" and the values of its keys, whatever
 * the command (add, remove, set) that touches it; the other entries
 * (alias, user, and an account's password and state) the name of the
 * command that adds them and the values that name them.
 */
static void
key_of(const struct cmd_args *a, char *key, size_t cap)
{
	const struct tbl *t = tbl_of_cmd(a->cmd);
	const char *name = a->cmd->name;
	char canon[CMD_VALUE_MAX + 8], add[CMD_NAME_MAX * CMD_MAX_WORDS];
	int npos = 0, take;

	key[0] = '\0';
	switch (a->cmd->id) {
	case CMD_ACCOUNT_PASSWORD:
		name = "account add";
		break;
	case CMD_ACCOUNT_ENABLE:
	case CMD_ACCOUNT_DISABLE:
		name = "account state";
		break;
	case CMD_DOMAIN_ENABLE:
	case CMD_DOMAIN_DISABLE:
		name = "domain state";
		break;
	case CMD_DOMAIN_ALIAS_REMOVE:
		name = "domain alias add";
		break;
	case CMD_ACCOUNT_ALIAS_REMOVE:
		name = "account alias add";
		break;
	case CMD_CONTROL_DISALLOW:
		name = "control allow";
		break;
	default:
		break;
	}
	if (t != NULL) {
		snprintf(add, sizeof(add), "%s add", t->words);
		name = add;
	}
	key_add(key, cap, name);
	if (conf_setting_of(a->cmd->id) != NULL ||
	    a->cmd->id == CMD_LOG_OUTPUT || a->cmd->id == CMD_CONTROL_SOCKET) {
		return;
	}
	for (int i = 0; i < a->n; i++) {
		if (a->spec[i].kw[0] == '\0' && !a->spec[i].optional) {
			npos++;
		}
	}
	/* the last word of these is the value, not the name */
	take = npos;
	if (a->cmd->id == CMD_LOG_LEVEL || a->cmd->id == CMD_ACCOUNT_FORWARD ||
	    a->cmd->id == CMD_ACCOUNT_PASSWORD) {
		take--;
	}
	if (t != NULL) {
		/* a row is named by its keys, the first positional words */
		take = 0;
		for (const struct tbl_field *f = tbl_next(t, NULL); f != NULL;
		     f = tbl_next(t, f)) {
			take += (f->flags & TF_KEY) != 0;
		}
	}
	for (int i = 0; i < a->n && take > 0; i++) {
		const char *v = a->val[i].s;

		if (a->spec[i].kw[0] != '\0' || a->spec[i].optional ||
		    v == NULL) {
			continue;
		}
		/* "[::1]:5060" and "10.0.0.0/8" whatever way they were
		 * written */
		conf_canon_arg(CMD_T_HOSTPORT, v, canon, sizeof(canon));
		if (strcmp(canon, v) == 0) {
			conf_canon_arg(CMD_T_RANGE, v, canon, sizeof(canon));
		}
		if (a->cmd->id == CMD_ROUTER_ADD ||
		    a->cmd->id == CMD_ROUTER_REMOVE) {
			/* a record is its canonical text, whatever its
			 * blanks and comment */
			struct rtr_record r;
			if (rtr_parse(v, &r, NULL, 0) == 0) {
				snprintf(canon, sizeof(canon), "%s", r.text);
			}
		}
		key_add(key, cap, canon);
		take--;
	}
}

int
conf_line_key(const char *line, size_t len, char *key, size_t cap)
{
	struct cmd_args *a = malloc(sizeof(*a));
	struct lex_line lx;
	int rc = -EINVAL;

	if (a == NULL) {
		return -ENOMEM;
	}
	key[0] = '\0';
	if (lex_split(&lx, line, len, 0, NULL) == 0 && lx.count > 0 &&
	    cmd_parse(a, lx.words, lx.count, CF_LOCAL, NULL, 0) == 0) {
		key_of(a, key, cap);
		rc = 0;
	}
	lex_fini(&lx);
	free(a);
	return rc;
}

/* Split text into lines and key each one. */
static int
clines_split(struct clines *l, const char *text, size_t len)
{
	struct cmd_args *a = malloc(sizeof(*a));
	const char *p = text, *end = text + len;

	if (a == NULL) {
		return -ENOMEM;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct cline *c;
		struct lex_line lx;

		if (l->n == l->cap) {
			int cap = l->cap > 0 ? l->cap * 2 : 64;
			struct cline *v = realloc(l->v, (size_t)cap *
			    sizeof(*v));

			if (v == NULL) {
				free(a);
				return -ENOMEM;
			}
			l->v = v;
			l->cap = cap;
		}
		c = &l->v[l->n++];
		memset(c, 0, sizeof(*c));
		c->text = p;
		c->len = n;
		c->code_end = n;
		if (lex_split(&lx, p, n, 0, NULL) == 0 && lx.count > 0) {
			c->code_end = lx.words[lx.count - 1].end;
			if (cmd_parse(a, lx.words, lx.count, CF_LOCAL, NULL,
				0) == 0) {
				key_of(a, c->key, sizeof(c->key));
				c->secret = cmd_arg_has(a, "password");
			}
		}
		lex_fini(&lx);
		p += n + (nl != NULL ? 1 : 0);
	}
	free(a);
	return 0;
}

/* The line of l with key, or NULL. */
static struct cline *
clines_find(struct clines *l, const char *key)
{
	for (int i = 0; i < l->n; i++) {
		if (l->v[i].key[0] != '\0' && strcmp(l->v[i].key, key) == 0) {
			return &l->v[i];
		}
	}
	return NULL;
}

/*
 * Does another line of the file share l's key?  Then no single line
 * says what the key holds ("account add" and later "account password"):
 * the key's first line is written from the listing, the others dropped.
 */
static bool
repeated(const struct clines *file, const struct cline *l)
{
	for (int i = 0; i < file->n; i++) {
		if (&file->v[i] != l && strcmp(file->v[i].key, l->key) == 0) {
			return true;
		}
	}
	return false;
}

/* Did key's line change between the file's configuration and c's? */
static bool
changed(struct clines *was, struct clines *now, const char *key)
{
	struct cline *a = clines_find(was, key), *b = clines_find(now, key);

	return a == NULL || b == NULL || a->len != b->len ||
	    memcmp(a->text, b->text, a->len) != 0;
}

/* How many listeners a listing holds. */
static int
listeners(const struct clines *l)
{
	int n = 0;

	for (int i = 0; i < l->n; i++) {
		n += strncmp(l->v[i].key, "listener add ", 13) == 0;
	}
	return n;
}

/* The configuration c as its listing in memory (all: every setting,
 * defaults too). */
static int
listing(const struct conf *c, bool all, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	int rc;

	if (f == NULL) {
		return -errno;
	}
	rc = conf_dump_all(c, f, all, true);
	if (fclose(f) != 0 && rc == 0) {
		rc = -EIO;
	}
	return rc;
}

/* The first word of a key: its kind ("set", "listener", "account"). */
static size_t
kind_len(const char *key)
{
	const char *sp = strchr(key, ' ');

	return sp != NULL ? (size_t)(sp - key) : strlen(key);
}

/* Output: an array of (text, len) pieces, each a line without '\n'. */
struct outl {
	struct {
		const char *text;
		size_t len;
		const char *tail; /* a kept comment, appended */
		size_t tail_len;
		const char *key;
	} *v;
	int n, cap;
};

static int
outl_insert(struct outl *o, int at, const char *text, size_t len,
    const char *tail, size_t tail_len, const char *key)
{
	if (o->n == o->cap) {
		int cap = o->cap > 0 ? o->cap * 2 : 64;
		void *v = realloc(o->v, (size_t)cap * sizeof(o->v[0]));

		if (v == NULL) {
			return -ENOMEM;
		}
		o->v = v;
		o->cap = cap;
	}
	memmove(&o->v[at + 1], &o->v[at], (size_t)(o->n - at) *
	    sizeof(o->v[0]));
	o->v[at].text = text;
	o->v[at].len = len;
	o->v[at].tail = tail;
	o->v[at].tail_len = tail_len;
	o->v[at].key = key;
	o->n++;
	return 0;
}

/* The file's text, or -ENOENT. */
static int
read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	char buf[8192];
	FILE *m;
	size_t n;
	int rc = 0;

	if (f == NULL) {
		return -errno;
	}
	m = open_memstream(text, len);
	if (m == NULL) {
		rc = -errno;
		fclose(f);
		return rc;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, m);
	}
	if (ferror(f)) {
		rc = -EIO;
	}
	fclose(f);
	if (fclose(m) != 0 && rc == 0) {
		rc = -EIO;
	}
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/* A new file: a header, then the configuration's short listing. */
static int
render_new(const struct conf *c, char **out)
{
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t len;
	FILE *f = open_memstream(out, &len);
	int rc;

	if (f == NULL) {
		return -errno;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "# sipd configuration, written by sipd at %s.\n"
		   "# Changes made with sipctl are saved here; see "
		   "sipd.conf(5).\n",
	    stamp);
	rc = conf_dump(c, f, true);
	if (fclose(f) != 0 && rc == 0) {
		rc = -EIO;
	}
	return rc;
}

int
conf_render(const struct conf *c, const char *path, char **out, char *err,
    size_t cap)
{
	struct clines file = { 0 }, was = { 0 }, now = { 0 }, need = { 0 };
	struct outl o = { 0 };
	struct conf *old = NULL;
	char *ftext = NULL, *wtext = NULL, *ntext = NULL, *stext = NULL;
	char msg[512];
	size_t flen = 0, wlen = 0, nlen = 0, slen = 0;
	FILE *f = NULL;
	size_t olen;
	int rc;

	*out = NULL;
	rc = read_file(path, &ftext, &flen);
	old = malloc(sizeof(*old));
	if (old == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* no file, or one that no longer loads: write it anew */
	if (rc < 0 || conf_load(old, path, msg, sizeof(msg)) < 0) {
		free(old);
		old = NULL;
		rc = render_new(c, out);
		goto out;
	}
	if ((rc = listing(old, true, &wtext, &wlen)) < 0 ||
	    (rc = listing(c, true, &ntext, &nlen)) < 0 ||
	    (rc = listing(c, false, &stext, &slen)) < 0 ||
	    (rc = clines_split(&need, stext, slen)) < 0 ||
	    (rc = clines_split(&file, ftext, flen)) < 0 ||
	    (rc = clines_split(&was, wtext, wlen)) < 0 ||
	    (rc = clines_split(&now, ntext, nlen)) < 0) {
		goto out;
	}
	/* the file's lines: kept, rewritten or dropped */
	for (int i = 0; i < file.n; i++) {
		struct cline *l = &file.v[i];
		struct cline *n;

		if (l->key[0] == '\0') {
			rc = outl_insert(&o, o.n, l->text, l->len, NULL, 0,
			    NULL);
		} else if ((n = clines_find(&now, l->key)) == NULL) {
			continue; /* removed */
		} else if (!changed(&was, &now, l->key) && !l->secret &&
		    !repeated(&file, l)) {
			rc = outl_insert(&o, o.n, l->text, l->len, NULL, 0,
			    l->key);
		} else if (!n->done) {
			/* rewritten where it stood, its comment kept */
			n->done = true;
			rc = outl_insert(&o, o.n, n->text, n->len,
			    l->text + l->code_end, l->len - l->code_end,
			    n->key);
		} else {
			continue; /* a second line of a key rewritten */
		}
		if (rc < 0) {
			goto out;
		}
	}
	/*
	 * What the short listing holds must be in the file: a new entry, a
	 * setting moved off its default, or a line the file wrote in a way
	 * that names it differently ("control allow nobody" for uid 65534).
	 * It goes after the last line of its kind, or at the end.
	 */
	for (int i = 0; i < need.n; i++) {
		struct cline *n = clines_find(&now, need.v[i].key);
		int at = o.n;
		bool present = false;

		if (n == NULL || n->done) {
			continue;
		}
		/* the default listener a file without listeners implies
		 * stays implied while it is the only listener */
		if (old->listener_implied && listeners(&need) == 1 &&
		    strncmp(n->key, "listener add ", 13) == 0 &&
		    clines_find(&was, n->key) != NULL) {
			continue;
		}
		for (int k = 0; k < o.n && !present; k++) {
			present = o.v[k].key != NULL &&
			    strcmp(o.v[k].key, n->key) == 0;
		}
		if (present) {
			continue;
		}
		for (int k = o.n - 1; k >= 0; k--) {
			if (o.v[k].key != NULL &&
			    kind_len(o.v[k].key) == kind_len(n->key) &&
			    strncmp(o.v[k].key, n->key, kind_len(n->key)) ==
				0) {
				at = k + 1;
				break;
			}
		}
		n->done = true;
		rc = outl_insert(&o, at, n->text, n->len, NULL, 0, n->key);
		if (rc < 0) {
			goto out;
		}
	}
	f = open_memstream(out, &olen);
	if (f == NULL) {
		rc = -errno;
		goto out;
	}
	for (int i = 0; i < o.n; i++) {
		fwrite(o.v[i].text, 1, o.v[i].len, f);
		if (o.v[i].tail_len > 0) {
			fwrite(o.v[i].tail, 1, o.v[i].tail_len, f);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		rc = -EIO;
	}
out:
	if (old != NULL) {
		conf_fini(old);
		free(old);
	}
	free(o.v);
	clines_free(&file);
	clines_free(&was);
	clines_free(&now);
	clines_free(&need);
	free(ftext);
	free(wtext);
	free(ntext);
	free(stext);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		return err_fmt(err, cap, rc, "cannot write %s (%s)", path,
		    strerror(-rc));
	}
	return 0;
}

int
conf_save(const struct conf *c, const char *path, char *err, size_t cap)
{
	char tmp[PATH_MAX], bak[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	mode_t mode = 0600;
	FILE *f = NULL;
	int fd = -1, rc, n;
	char *slash, *text = NULL;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", path) >= (int)sizeof(bak)) {
		return err_fmt(err, cap, -ENAMETOOLONG, "%s: %s", path,
		    strerror(ENAMETOOLONG));
	}
	rc = conf_render(c, path, &text, err, cap);
	if (rc < 0) {
		return rc;
	}
	if (stat(path, &st) == 0) {
		mode = st.st_mode & 07777;
	}
	/* DESIGN.md: password digests live in files only their owner reads */
	if (conf_has_secrets(c)) {
		mode = (mode & 0700) | 0600;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(text);
		return err_fmt(err, cap, rc, "%s: %s", tmp, strerror(-rc));
	}
	if (fchmod(fd, mode) < 0) {
		rc = -errno;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		rc = -errno;
		goto fail;
	}
	fd = -1;
	fputs(text, f);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = -errno;
		goto fail;
	}
	f = NULL;
	/* Keep the previous file: a second name for it, then the swap. */
	if (unlink(bak) < 0 && errno != ENOENT) {
		rc = -errno;
		goto fail;
	}
	if (link(path, bak) < 0 && errno != ENOENT) {
		rc = -errno;
		goto fail;
	}
	/* the previous file may hold digests too: owner only (this is its
	 * inode, which the rename below takes off path) */
	if (chmod(bak, 0600) < 0 && errno != ENOENT) {
		rc = -errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir) {
		slash[1] = '\0';
	} else if (slash != NULL) {
		*slash = '\0';
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(text);
	return 0;
fail:
	if (f != NULL) {
		fclose(f);
	}
	if (fd >= 0) {
		close(fd);
	}
	(void)unlink(tmp);
	free(text);
	return err_fmt(err, cap, rc, "cannot save %s (%s)", path,
	    strerror(-rc));
}

/* Lines of text as (start, length) pairs. */
static int
split_plain(const char *text, const char ***line, size_t **len, int *n)
{
	const char *p = text;
	int cap = 64;

	*n = 0;
	*line = malloc((size_t)cap * sizeof(**line));
	*len = malloc((size_t)cap * sizeof(**len));
	if (*line == NULL || *len == NULL) {
		return -ENOMEM;
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (*n == cap) {
			const char **nv;
			size_t *lv;

			cap *= 2;
			nv = realloc(*line, (size_t)cap * sizeof(**line));
			if (nv == NULL) {
				return -ENOMEM;
			}
			*line = nv;
			lv = realloc(*len, (size_t)cap * sizeof(**len));
			if (lv == NULL) {
				return -ENOMEM;
			}
			*len = lv;
		}
		(*line)[*n] = p;
		(*len)[*n] = l;
		(*n)++;
		p += l + (nl != NULL ? 1 : 0);
	}
	return 0;
}

/* Files past this many lines (each side) are shown whole, not diffed. */
#define DIFF_MAX_LINES 4000

int
conf_diff(const struct conf *c, const char *path, char **out, char *err,
    size_t cap)
{
	char *disk = NULL, *want = NULL;
	const char **a = NULL, **b = NULL;
	size_t *al = NULL, *bl = NULL, dlen = 0, olen;
	int na = 0, nb = 0, rc, *lcs = NULL;
	FILE *f = NULL;

	*out = NULL;
	rc = conf_render(c, path, &want, err, cap);
	if (rc < 0) {
		return rc;
	}
	rc = read_file(path, &disk, &dlen);
	if (rc == -ENOENT) {
		disk = strdup("");
		rc = disk != NULL ? 0 : -ENOMEM;
	}
	if (rc < 0 || (rc = split_plain(disk, &a, &al, &na)) < 0 ||
	    (rc = split_plain(want, &b, &bl, &nb)) < 0) {
		goto out;
	}
	f = open_memstream(out, &olen);
	if (f == NULL) {
		rc = -errno;
		goto out;
	}
	if (na > DIFF_MAX_LINES || nb > DIFF_MAX_LINES) {
		fprintf(f, "@@ the whole file (%d lines, %d saved)\n", na, nb);
		goto out;
	}
	/* lcs[i][j]: the longest common run of a[i..] and b[j..] */
	lcs = calloc((size_t)(na + 1) * (size_t)(nb + 1), sizeof(*lcs));
	if (lcs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
#define L(i, j) lcs[(size_t)(i) * (size_t)(nb + 1) + (size_t)(j)]
	for (int i = na - 1; i >= 0; i--) {
		for (int j = nb - 1; j >= 0; j--) {
			if (al[i] == bl[j] && memcmp(a[i], b[j], al[i]) == 0) {
				L(i, j) = L(i + 1, j + 1) + 1;
			} else {
				L(i, j) = L(i + 1, j) > L(i, j + 1)
				    ? L(i + 1, j)
				    : L(i, j + 1);
			}
		}
	}
	for (int i = 0, j = 0, hunk = 0; i < na || j < nb;) {
		if (i < na && j < nb && al[i] == bl[j] &&
		    memcmp(a[i], b[j], al[i]) == 0) {
			i++;
			j++;
			hunk = 0;
			continue;
		}
		if (!hunk) {
			fprintf(f, "@@ line %d\n", i + 1);
			hunk = 1;
		}
		if (j >= nb || (i < na && L(i + 1, j) >= L(i, j + 1))) {
			fprintf(f, "-%.*s\n", (int)al[i], a[i]);
			i++;
		} else {
			fprintf(f, "+%.*s\n", (int)bl[j], b[j]);
			j++;
		}
	}
#undef L
out:
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		rc = -EIO;
	}
	free(lcs);
	free(a);
	free(b);
	free(al);
	free(bl);
	free(disk);
	free(want);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		return err_fmt(err, cap, rc, "cannot compare with %s (%s)",
		    path, strerror(-rc));
	}
	return 0;
}
