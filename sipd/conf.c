/*
 * The configuration file: a script of commands, one per line, split into
 * words by proto/lex and dispatched through the command table below.
 * Each command checks its arguments and records the result in a struct
 * conf; nothing is opened or applied here, so "sipd -t" and a real start
 * read the file the same way and the worker applies the result.
 *
 * The table is the seed of proto/commands.def: when the control socket
 * arrives, the commands move there and this file keeps their handlers.
 */
#include "sipd/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/lex.h"

struct conf_cmd {
	const char *word1, *word2;
	int nargs;
	int (*fn)(struct conf *c, const struct lex_word *args, char *err,
	    size_t cap);
	const char *usage;
};

static int conf_listener_add(struct conf *c, const struct lex_word *args,
    char *err, size_t cap);
static int conf_log_level(struct conf *c, const struct lex_word *args,
    char *err, size_t cap);
static int conf_limits_size(struct conf *c, const struct lex_word *args,
    char *err, size_t cap);
static int conf_limits_headers(struct conf *c, const struct lex_word *args,
    char *err, size_t cap);
static int conf_limits_line(struct conf *c, const struct lex_word *args,
    char *err, size_t cap);

static const struct conf_cmd conf_cmds[] = {
	{ "listener", "add", 2, conf_listener_add,
	    "listener add udp ADDRESS:PORT" },
	{ "log", "level", 2, conf_log_level, "log level COMPONENT LEVEL" },
	{ "limits", "message-size", 1, conf_limits_size,
	    "limits message-size BYTES" },
	{ "limits", "headers", 1, conf_limits_headers, "limits headers COUNT" },
	{ "limits", "line", 1, conf_limits_line, "limits line BYTES" },
};

#define CONF_NCMDS (sizeof(conf_cmds) / sizeof(conf_cmds[0]))

static int
conf_errf(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
conf_errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap > 0) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		c->levels[i] = LOG_DEFAULT_LEVEL;
	}
	msg_limits_init(&c->limits);
	c->input_channels = CONF_DEFAULT_INPUT_CHANNELS;
	c->idle_timeout_s = CONF_DEFAULT_IDLE_TIMEOUT;
	c->size_limit_lan = CONF_DEFAULT_SIZE_LIMIT;
	c->size_limit_wan = CONF_DEFAULT_SIZE_LIMIT;
	txn_settings_init(&c->txn);
	c->processors = 1;
}

/* A port: 1 to 65535, decimal digits only. */
static int
conf_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5) {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535) {
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

/* "a.b.c.d:port" or "[v6]:port" into a socket address. */
static int
conf_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs;
	size_t hl;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			return -EINVAL;
		}
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			return -EINVAL;
		}
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || conf_port(colon + 1, &port) < 0) {
		return -EINVAL;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			return -EINVAL;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			return -EINVAL;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* A word for an error message: clipped, non-printables escaped. */
static const char *
conf_word(char *buf, size_t cap, const struct lex_word *w)
{
	return log_clip(buf, cap, w->text, w->len);
}

static int
conf_listener_add(struct conf *c, const struct lex_word *args, char *err,
    size_t cap)
{
	struct conf_listener l;
	char name[TP_ADDRSTRLEN], clip[LOG_CLIP_SIZE];

	memset(&l, 0, sizeof(l));
	if (strcmp(args[0].text, "udp") != 0) {
		return conf_errf(err, cap,
		    "unsupported transport '%s' (expected udp)",
		    conf_word(clip, sizeof(clip), &args[0]));
	}
	l.proto = TP_UDP;
	if (strlen(args[1].text) != args[1].len ||
	    conf_hostport(args[1].text, &l.addr, &l.addrlen) < 0) {
		return conf_errf(err, cap,
		    "bad address '%s' (expected a.b.c.d:port or "
		    "[IPv6]:port)", conf_word(clip, sizeof(clip), &args[1]));
	}
	tp_addr_str((struct sockaddr *)&l.addr, name, sizeof(name));
	for (int i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].proto == l.proto &&
		    c->listeners[i].addrlen == l.addrlen &&
		    memcmp(&c->listeners[i].addr, &l.addr, l.addrlen) == 0) {
			return conf_errf(err, cap,
			    "listener udp %s already configured", name);
		}
	}
	if (c->nlisteners == CONF_MAX_LISTENERS) {
		return conf_errf(err, cap, "too many listeners (at most %d)",
		    CONF_MAX_LISTENERS);
	}
	c->listeners[c->nlisteners++] = l;
	return 0;
}

static int
conf_log_level(struct conf *c, const struct lex_word *args, char *err,
    size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	int comp = -1, level;

	if (strcasecmp(args[0].text, "all") != 0) {
		comp = log_comp_lookup(args[0].text);
		if (comp < 0) {
			return conf_errf(err, cap,
			    "unknown log component '%s' (expected transport, "
			    "server, client or all)",
			    conf_word(clip, sizeof(clip), &args[0]));
		}
	}
	level = log_level_lookup(args[1].text);
	if (level < 0) {
		return conf_errf(err, cap,
		    "unknown log level '%s' (expected none, failure, major, "
		    "problems, low-level or all)",
		    conf_word(clip, sizeof(clip), &args[1]));
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		if (comp < 0 || comp == i) {
			c->levels[i] = (enum log_level)level;
		}
	}
	return 0;
}

/* A decimal number in [min, max] for the limit called what. */
static int
conf_number(const struct lex_word *w, const char *what, unsigned long min,
    unsigned long max, uint32_t *out, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	const char *s = w->text;
	unsigned long v = 0;

	if (w->len == 0) {
		return conf_errf(err, cap, "bad number '' for %s", what);
	}
	for (size_t i = 0; i < w->len; i++) {
		const char *p = s + i;

		if (*p < '0' || *p > '9') {
			return conf_errf(err, cap, "bad number '%s' for %s",
			    conf_word(clip, sizeof(clip), w), what);
		}
		/* Past max the value no longer matters, only the digits. */
		if (v <= max) {
			v = v * 10 + (unsigned long)(*p - '0');
		}
	}
	if (v < min || v > max) {
		return conf_errf(err, cap, "%s %s out of range (%lu to %lu)",
		    what, conf_word(clip, sizeof(clip), w), min, max);
	}
	*out = (uint32_t)v;
	return 0;
}

static int
conf_limits_size(struct conf *c, const struct lex_word *args, char *err,
    size_t cap)
{
	return conf_number(&args[0], "message-size", CONF_MESSAGE_SIZE_MIN,
	    CONF_MESSAGE_SIZE_MAX, &c->limits.max_size, err, cap);
}

static int
conf_limits_headers(struct conf *c, const struct lex_word *args, char *err,
    size_t cap)
{
	return conf_number(&args[0], "headers", CONF_HEADERS_MIN,
	    CONF_HEADERS_MAX, &c->limits.max_headers, err, cap);
}

static int
conf_limits_line(struct conf *c, const struct lex_word *args, char *err,
    size_t cap)
{
	return conf_number(&args[0], "line", CONF_LINE_MIN, CONF_LINE_MAX,
	    &c->limits.max_line, err, cap);
}

int
conf_exec(struct conf *c, const char *in, size_t len, char *err, size_t cap)
{
	const struct conf_cmd *cmd = NULL;
	struct lex_line l;
	struct lex_err lerr = { 0, NULL };
	bool known_first = false;
	int rc;

	rc = lex_split(&l, in, len, 0, &lerr);
	if (rc == -EINVAL) {
		rc = conf_errf(err, cap, "%s (column %u)", lerr.msg, lerr.col);
		goto out;
	}
	if (rc < 0 || l.count == 0) {
		goto out;
	}
	for (size_t i = 0; i < CONF_NCMDS; i++) {
		if (strcmp(l.words[0].text, conf_cmds[i].word1) != 0) {
			continue;
		}
		known_first = true;
		if (l.count > 1 &&
		    strcmp(l.words[1].text, conf_cmds[i].word2) == 0) {
			cmd = &conf_cmds[i];
			break;
		}
	}
	if (cmd == NULL) {
		char clip[LOG_CLIP_SIZE];

		if (known_first && l.count > 1) {
			rc = conf_errf(err, cap, "unknown command '%s %s'",
			    l.words[0].text,
			    conf_word(clip, sizeof(clip), &l.words[1]));
		} else if (known_first) {
			rc = conf_errf(err, cap, "incomplete command '%s'",
			    l.words[0].text);
		} else {
			rc = conf_errf(err, cap, "unknown command '%s'",
			    conf_word(clip, sizeof(clip), &l.words[0]));
		}
		goto out;
	}
	if (l.count - 2 != cmd->nargs) {
		rc = conf_errf(err, cap, "wrong number of arguments (usage: %s)",
		    cmd->usage);
		goto out;
	}
	rc = cmd->fn(c, &l.words[2], err, cap);
out:
	lex_fini(&l);
	return rc;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t cap)
{
	char msg[512];
	char *line = NULL;
	size_t linecap = 0;
	ssize_t n;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	conf_init(c);
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return rc;
	}
	while ((n = getline(&line, &linecap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n') {
			n--;
		}
		rc = conf_exec(c, line, (size_t)n, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, cap, "%s:%u: %s", path, lineno,
			    rc == -EINVAL ? msg : strerror(-rc));
			goto out;
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, cap, "%s: %s", path, strerror(EIO));
		goto out;
	}
	if (c->nlisteners == 0) {
		struct sockaddr_in *a4 =
		    (struct sockaddr_in *)(void *)&c->listeners[0].addr;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(CONF_DEFAULT_PORT);
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->listeners[0].proto = TP_UDP;
		c->listeners[0].addrlen = sizeof(*a4);
		c->nlisteners = 1;
	}
out:
	free(line);
	fclose(f);
	return rc;
}
