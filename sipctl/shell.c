/*
 * The shell: the connection to sipd, running one command (a request, its
 * reply, and for streams the events until the stream ends or Ctrl-C),
 * scripts (stopping at the first error with "sipctl: FILE:LINE:
 * message"), and the interactive libedit loop with its history in
 * ~/.sipctl_history.  It owns the socket and the editor state.
 */
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/logline.h"
#include "sipctl/sipctl.h"

#define SH_REPLY_TIMEOUT_MS 60000
#define SH_HISTORY_SIZE 1000

volatile sig_atomic_t sh_interrupted;

void
sh_default_socket(char *buf, size_t cap)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || dir == NULL || dir[0] != '/') {
		snprintf(buf, cap, "/run/sipd/sipd.sock");
	} else {
		snprintf(buf, cap, "%s/sipd.sock", dir);
	}
}

/*
 * Read exactly len bytes; -1 on EOF, error or timeout; -2 interrupted
 * (only when intr is set: the rest of a frame is always read whole).
 */
static int
sh_read_all(struct sh *sh, void *buf, size_t len, int timeout_ms, bool intr)
{
	char *p = buf;

	while (len > 0) {
		struct pollfd pfd = { sh->fd, POLLIN, 0 };
		ssize_t n;
		int rc;

		/* a Ctrl-C that came between polls must not be lost: look at
		 * the flag before each wait, and wait in slices when waiting
		 * without end */
		if (intr && sh_interrupted) {
			return -2;
		}
		rc = poll(&pfd, 1, timeout_ms < 0 ? 200 : timeout_ms);
		if (rc == 0 && timeout_ms < 0) {
			continue;
		}
		if (rc < 0 && errno == EINTR) {
			if (intr && sh_interrupted) {
				return -2;
			}
			continue;
		}
		if (rc <= 0) {
			return -1;
		}
		n = read(sh->fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one frame into m.  timeout_ms < 0: wait for ever.  Returns 0, -1
 * (connection or protocol failure, printed), -2 (interrupted before a
 * frame began).
 */
static int
sh_recv(struct sh *sh, struct proto_msg *m, int timeout_ms)
{
	unsigned char hdr[PROTO_HDR];
	char err[256], *body;
	uint32_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->up);
	rc = sh_read_all(sh, hdr, sizeof(hdr), timeout_ms, true);
	if (rc == -2) {
		return -2;
	}
	if (rc < 0) {
		fprintf(stderr, "sipctl: connection to sipd lost\n");
		return -1;
	}
	if (proto_hdr_check(hdr, SH_MAX_FRAME, &len) < 0) {
		fprintf(stderr, "sipctl: bad frame from sipd\n");
		return -1;
	}
	body = malloc(len);
	if (body == NULL) {
		fprintf(stderr, "sipctl: out of memory\n");
		return -1;
	}
	rc = sh_read_all(sh, body, len, SH_REPLY_TIMEOUT_MS, false);
	if (rc < 0) {
		free(body);
		fprintf(stderr, "sipctl: connection to sipd lost\n");
		return -1;
	}
	rc = proto_decode(m, body, len, err, sizeof(err));
	if (rc < 0) {
		free(body);
		fprintf(stderr, "sipctl: bad frame from sipd (%s)\n", err);
		return -1;
	}
	/* The objects point into body: keep it with the zone. */
	if (msgpack_zone_push_finalizer(m->up.zone, free,
		body) == false) {
		free(body);
		fprintf(stderr, "sipctl: out of memory\n");
		return -1;
	}
	return 0;
}

static int
sh_send(struct sh *sh, struct proto_out *o)
{
	const char *frame;
	size_t len;

	frame = proto_out_frame(o, &len);
	if (frame == NULL) {
		return -1;
	}
	while (len > 0) {
		ssize_t n = send(sh->fd, frame, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		frame += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sh_connect(struct sh *sh)
{
	struct sockaddr_un sun;
	struct proto_msg m;
	const msgpack_object *v;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sh->sock_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sipctl: socket path too long\n");
		return SH_UNREACH;
	}
	memcpy(sun.sun_path, sh->sock_path, strlen(sh->sock_path));
	sh->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sh->fd < 0 ||
	    connect(sh->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "sipctl: cannot connect to %s (%s)\n",
		    sh->sock_path, strerror(errno));
		sh_close(sh);
		return SH_UNREACH;
	}
	if (sh_recv(sh, &m, SH_REPLY_TIMEOUT_MS) < 0) {
		proto_msg_fini(&m);
		sh_close(sh);
		return SH_UNREACH;
	}
	if (m.kind == PROTO_REPLY && !m.ok) {
		fprintf(stderr, "sipctl: refused by sipd: %.*s (%.*s)\n",
		    (int)m.msg_len, m.msg, (int)m.code_len, m.code);
		proto_msg_fini(&m);
		sh_close(sh);
		return SH_UNREACH;
	}
	if (m.kind != PROTO_EVENT || m.ev_len != 5 ||
	    memcmp(m.ev, "hello", 5) != 0 ||
	    (v = proto_get(m.data, "proto")) == NULL ||
	    v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v->via.u64 != PROTO_VERSION) {
		fprintf(stderr, "sipctl: sipd speaks another protocol\n");
		proto_msg_fini(&m);
		sh_close(sh);
		return SH_UNREACH;
	}
	if ((v = proto_get(m.data, "version")) != NULL &&
	    v->type == MSGPACK_OBJECT_STR) {
		snprintf(sh->version, sizeof(sh->version), "%.*s",
		    (int)v->via.str.size, v->via.str.ptr);
	}
	if ((v = proto_get(m.data, "pid")) != NULL &&
	    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		sh->pid = (long)v->via.u64;
	}
	proto_msg_fini(&m);
	return SH_OK;
}

void
sh_close(struct sh *sh)
{
	if (sh->fd >= 0) {
		close(sh->fd);
	}
	sh->fd = -1;
}

static uint32_t
sh_new_id(struct sh *sh)
{
	if (++sh->next_id == 0) {
		sh->next_id = 1;
	}
	return sh->next_id;
}

static int
sh_request(struct sh *sh, const struct cmd_args *a, uint32_t *id)
{
	struct proto_out o;
	int rc;

	*id = sh_new_id(sh);
	proto_out_init(&o);
	proto_begin_request(&o, *id, a->cmd->name);
	proto_pack_args(&o.pk, a);
	rc = sh_send(sh, &o);
	proto_out_fini(&o);
	return rc;
}

int
sh_query(struct sh *sh, enum cmd_id id, struct proto_msg *m)
{
	struct cmd_args a;
	uint32_t rid;

	if (sh->fd < 0 || cmd_args_init(&a, &cmd_table[id]) < 0 ||
	    sh_request(sh, &a, &rid) < 0) {
		return -1;
	}
	for (;;) {
		if (sh_recv(sh, m, SH_REPLY_TIMEOUT_MS) < 0) {
			proto_msg_fini(m);
			return -1;
		}
		if (m->kind == PROTO_REPLY && m->id == rid) {
			return m->ok ? 0 : -1;
		}
		proto_msg_fini(m);
	}
}

/* Print one frame: JSON, or for people. */
static void
sh_print(struct sh *sh, const struct proto_msg *m)
{
	if (m->kind == PROTO_EVENT && sh_trace_event(sh, m)) {
		return;
	}
	if (sh->json) {
		out_json(stdout, &m->up.data);
		return;
	}
	if (m->kind == PROTO_EVENT) {
		const msgpack_object *v;

		if (m->ev_len == 3 && memcmp(m->ev, "log", 3) == 0 &&
		    (v = proto_get(m->data, "line")) != NULL &&
		    v->type == MSGPACK_OBJECT_STR) {
			proto_log_line(stdout, v->via.str.ptr, v->via.str.size);
			fflush(stdout);
		} else if (m->ev_len == 7 && memcmp(m->ev, "dropped", 7) == 0) {
			v = proto_get(m->data, "lines");
			fprintf(stderr, "sipctl: %llu log lines dropped "
			    "(output too slow)\n",
			    v != NULL && v->type ==
				    MSGPACK_OBJECT_POSITIVE_INTEGER
				? (unsigned long long)v->via.u64
				: 0ULL);
		}
		return;
	}
	if (m->ok) {
		out_data(stdout, m->data);
	}
}

/* Follow a stream until it ends, the connection ends or Ctrl-C. */
static int
sh_stream(struct sh *sh, uint32_t id)
{
	struct proto_msg m;
	uint32_t cancel_id = 0;
	int rc;

	for (;;) {
		rc = sh_recv(sh, &m, -1);
		if (rc == -2) {
			struct cmd_args a;
			char err[128];

			proto_msg_fini(&m);
			sh_interrupted = 0;
			if (cancel_id != 0) {
				return SH_OK;
			}
			cmd_args_init(&a, &cmd_table[CMD_CANCEL]);
			cmd_args_set_uint(&a, 0, id, err, sizeof(err));
			if (sh_request(sh, &a, &cancel_id) < 0) {
				return SH_UNREACH;
			}
			continue;
		}
		if (rc < 0) {
			proto_msg_fini(&m);
			return SH_UNREACH;
		}
		if (m.id == id && m.kind == PROTO_EVENT && m.ev_len == 3 &&
		    memcmp(m.ev, "end", 3) == 0) {
			if (sh->json) {
				sh_print(sh, &m);
			}
			proto_msg_fini(&m);
			if (cancel_id == 0) {
				return SH_OK;
			}
			continue;
		}
		if (cancel_id != 0 && m.id == cancel_id &&
		    m.kind == PROTO_REPLY) {
			proto_msg_fini(&m);
			return SH_OK;
		}
		if (m.id == id) {
			sh_print(sh, &m);
		}
		proto_msg_fini(&m);
	}
}

static int sh_run1(struct sh *sh, const struct cmd_args *a, char *err,
    size_t cap);

int
sh_run(struct sh *sh, const struct cmd_args *a, char *err, size_t cap)
{
	int rc;

	if (a->cmd->id != CMD_TRACE) {
		return sh_run1(sh, a, err, cap);
	}
	/* the pcap file opens before the stream starts */
	err[0] = '\0';
	rc = sh_trace_begin(sh, a, err, cap);
	if (rc == SH_OK) {
		rc = sh_run1(sh, a, err, cap);
	}
	sh_trace_end(sh);
	return rc;
}

static int
sh_run1(struct sh *sh, const struct cmd_args *a, char *err, size_t cap)
{
	struct proto_msg m;
	uint32_t id;
	int rc;

	err[0] = '\0';
	if (a->cmd->id == CMD_HELP) {
		struct lex_line l;
		const char *topic = cmd_arg_str(a, "command");

		if (topic == NULL) {
			return sh_help(stdout, NULL, 0);
		}
		if (lex_split(&l, topic, strlen(topic), 0, NULL) < 0) {
			lex_fini(&l);
			snprintf(err, cap, "bad help topic");
			return SH_USAGE;
		}
		rc = sh_help(stdout, l.words, l.count);
		lex_fini(&l);
		if (rc != SH_OK) {
			snprintf(err, cap, "no command '%s'", topic);
		}
		return rc;
	}
	if (a->cmd->id == CMD_QUIT) {
		sh->quit = true;
		return SH_OK;
	}
	if (sh->fd < 0) {
		snprintf(err, cap, "not connected to sipd");
		return SH_UNREACH;
	}
	if (sh_request(sh, a, &id) < 0) {
		snprintf(err, cap, "cannot send to sipd");
		sh_close(sh);
		return SH_UNREACH;
	}
	for (;;) {
		rc = sh_recv(sh, &m, SH_REPLY_TIMEOUT_MS);
		if (rc == -2) {
			proto_msg_fini(&m);
			continue;
		}
		if (rc < 0) {
			proto_msg_fini(&m);
			sh_close(sh);
			return SH_UNREACH;
		}
		if (m.kind == PROTO_REPLY && (m.id == id || m.id == 0)) {
			break;
		}
		proto_msg_fini(&m);
	}
	if (!m.ok) {
		if (sh->json) {
			out_json(stdout, &m.up.data);
		}
		snprintf(err, cap, "%.*s (%.*s)", (int)m.msg_len, m.msg,
		    (int)m.code_len, m.code);
		proto_msg_fini(&m);
		return m.id == 0 ? SH_UNREACH : SH_FAILED;
	}
	/* A stream's first reply only says it started: people see the
	 * events, scripts with -j the reply too. */
	if ((a->cmd->flags & CF_STREAM) == 0 || sh->json) {
		sh_print(sh, &m);
	}
	proto_msg_fini(&m);
	if (a->cmd->flags & CF_STREAM) {
		return sh_stream(sh, id);
	}
	return SH_OK;
}

int
sh_run_words(struct sh *sh, const struct lex_word *w, int n, char *err,
    size_t cap)
{
	struct cmd_args *a;
	int rc;

	a = malloc(sizeof(*a));
	if (a == NULL) {
		snprintf(err, cap, "out of memory");
		return SH_FAILED;
	}
	rc = cmd_parse(a, w, n, 0, err, cap);
	if (rc < 0) {
		free(a);
		return SH_USAGE;
	}
	rc = sh_run(sh, a, err, cap);
	free(a);
	return rc;
}

int
sh_help(FILE *f, const struct lex_word *w, int n)
{
	char usage[512];
	int shown = 0;

	if (n > 0) {
		const struct cmd *c;
		int used;

		if (cmd_find(w, n, 0, &c, &used, NULL, 0) == 0) {
			fprintf(f, "%s\n    %s\n", cmd_usage(c, usage,
						       sizeof(usage)),
			    c->summary);
			if (c->flags & CF_CONF) {
				fprintf(f, "    (also in the configuration "
				    "file)\n");
			}
			return SH_OK;
		}
	}
	for (int i = 0; i < CMD__COUNT; i++) {
		const struct cmd *c = &cmd_table[i];
		bool match = true;

		for (int j = 0; j < n && match; j++) {
			size_t len;
			const char *word = cmd_word(c, j, &len);

			match = word != NULL &&
			    cmd_prefix(w[j].text, w[j].len, word, len);
		}
		if (!match) {
			continue;
		}
		fprintf(f, "  %-28s %s\n", c->name, c->summary);
		shown++;
	}
	if (n == 0) {
		fprintf(f, "Any unique prefix of each word will do "
		    "(sh tr s = show transactions server);\n"
		    "Tab completes, ? lists what may come next, "
		    "help COMMAND shows its usage.\n");
	}
	return shown > 0 ? SH_OK : SH_USAGE;
}

/* Run a line; reports a failure as "sipctl: name:line: message". */
static int
sh_line(struct sh *sh, const char *line, size_t len, const char *name,
    unsigned lineno, bool *quit)
{
	struct lex_line l;
	struct lex_err lerr = { 0, NULL };
	char err[1024], where[300];
	int rc;

	if (name != NULL) {
		snprintf(where, sizeof(where), "%s:%u: ", name, lineno);
	} else {
		where[0] = '\0';
	}
	rc = lex_split(&l, line, len, 0, &lerr);
	if (rc < 0) {
		fprintf(stderr, "sipctl: %s%s (column %u)\n", where,
		    rc == -EINVAL ? lerr.msg : strerror(-rc), lerr.col);
		lex_fini(&l);
		return SH_USAGE;
	}
	if (l.count == 0) {
		lex_fini(&l);
		return SH_OK;
	}
	rc = sh_run_words(sh, l.words, l.count, err, sizeof(err));
	*quit = sh->quit;
	lex_fini(&l);
	if (rc != SH_OK && err[0] != '\0') {
		fprintf(stderr, "sipctl: %s%s\n", where, err);
	}
	return rc;
}

int
sh_script(struct sh *sh, FILE *f, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	bool quit = false;
	int rc = SH_OK;

	while (!quit && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n') {
			n--;
		}
		rc = sh_line(sh, line, (size_t)n, name, lineno, &quit);
		if (rc != SH_OK) {
			break;
		}
	}
	free(line);
	return rc;
}

/* ------------------------------------------------------- interactive */

static struct sh *sh_current;

static const char *
sh_prompt(EditLine *el)
{
	(void)el;
	return "sipctl> ";
}

/* Write the candidates in columns below the line. */
static void
sh_list(char **cand, int n)
{
	size_t w = 0;
	int cols, i;

	for (i = 0; i < n; i++) {
		size_t len = strlen(cand[i]);

		w = len > w ? len : w;
	}
	cols = (int)(78 / (w + 2));
	if (cols < 1) {
		cols = 1;
	}
	fputc('\n', stdout);
	for (i = 0; i < n; i++) {
		printf("%-*s%s", (int)w + 2, cand[i],
		    (i + 1) % cols == 0 || i + 1 == n ? "\n" : "");
	}
	fflush(stdout);
}

static unsigned char
sh_el_complete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	char *cand[CMD_NEXT_MAX * 4];
	size_t plen, common;
	int n, i;
	unsigned char ret = CC_ERROR;

	(void)ch;
	n = sh_candidates(sh_current, li->buffer,
	    (size_t)(li->cursor - li->buffer), cand,
	    (int)(sizeof(cand) / sizeof(cand[0])), &plen);
	if (n <= 0) {
		return CC_ERROR;
	}
	common = strlen(cand[0]);
	for (i = 1; i < n; i++) {
		size_t k = 0;

		while (k < common && cand[i][k] == cand[0][k]) {
			k++;
		}
		common = k;
	}
	if (n == 1) {
		size_t len = strlen(cand[0]);
		bool dir = len > 0 && cand[0][len - 1] == '/';

		if (len > plen) {
			el_insertstr(el, cand[0] + plen);
		}
		if (!dir) {
			el_insertstr(el, " ");
		}
		ret = CC_REFRESH;
	} else if (common > plen) {
		char save = cand[0][common];

		cand[0][common] = '\0';
		el_insertstr(el, cand[0] + plen);
		cand[0][common] = save;
		ret = CC_REFRESH;
	} else {
		sh_list(cand, n);
		ret = CC_REDISPLAY;
	}
	for (i = 0; i < n; i++) {
		free(cand[i]);
	}
	return ret;
}

static unsigned char
sh_el_help(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	struct lex_line l;
	size_t len = (size_t)(li->cursor - li->buffer);

	(void)ch;
	/* Inside quotes "?" is just a character. */
	if (lex_split(&l, li->buffer, len, LEX_PARTIAL, NULL) == 0 && l.open) {
		lex_fini(&l);
		el_insertstr(el, "?");
		return CC_REFRESH;
	}
	lex_fini(&l);
	fputc('\n', stdout);
	sh_describe(sh_current, li->buffer, len, stdout);
	fflush(stdout);
	return CC_REDISPLAY;
}

static void
sh_history_path(char *buf, size_t cap)
{
	const char *home = getenv("HOME");

	if (home == NULL || home[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());

		home = pw != NULL ? pw->pw_dir : "/";
	}
	snprintf(buf, cap, "%s/.sipctl_history", home);
}

int
sh_interactive(struct sh *sh)
{
	char hpath[4096];
	EditLine *el;
	History *hist;
	HistEvent ev;
	bool quit = false;

	sh_current = sh;
	sh_history_path(hpath, sizeof(hpath));
	el = el_init("sipctl", stdin, stdout, stderr);
	hist = history_init();
	if (el == NULL || hist == NULL) {
		fprintf(stderr, "sipctl: cannot start the line editor\n");
		return SH_FAILED;
	}
	history(hist, &ev, H_SETSIZE, SH_HISTORY_SIZE);
	history(hist, &ev, H_SETUNIQUE, 1);
	(void)history(hist, &ev, H_LOAD, hpath);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, sh_prompt);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_ADDFN, "sipctl-complete", "Complete a word",
	    sh_el_complete);
	el_set(el, EL_BIND, "^I", "sipctl-complete", NULL);
	el_set(el, EL_ADDFN, "sipctl-help", "Show what may come next",
	    sh_el_help);
	el_set(el, EL_BIND, "?", "sipctl-help", NULL);
	el_source(el, NULL);
	printf("sipctl: connected to sipd %s (pid %ld); help lists the "
	    "commands\n", sh->version, sh->pid);
	while (!quit) {
		const char *line;
		int count = 0;
		struct lex_line l;
		bool secret = false;
		size_t len;

		sh_interrupted = 0;
		line = el_gets(el, &count);
		if (line == NULL) {
			if (count < 0 && errno == EINTR) {
				fputc('\n', stdout);
				continue;
			}
			fputc('\n', stdout);
			break;
		}
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
				      line[len - 1] == '\r')) {
			len--;
		}
		if (lex_split(&l, line, len, 0, NULL) == 0 && l.count > 0) {
			const struct cmd *c;
			int used;

			if (cmd_find(l.words, l.count, 0, &c, &used, NULL, 0) ==
				0 &&
			    (c->flags & CF_SECRET) != 0) {
				secret = true;
			}
		}
		lex_fini(&l);
		if (len > 0 && !secret) {
			history(hist, &ev, H_ENTER, line);
			(void)history(hist, &ev, H_SAVE, hpath);
		}
		(void)sh_line(sh, line, len, NULL, 0, &quit);
		if (sh->fd < 0 && sh_connect(sh) != SH_OK) {
			break;
		}
	}
	history_end(hist);
	el_end(el);
	return SH_OK;
}
