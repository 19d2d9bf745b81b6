/*
 * Log lines for every part of sipd.  This file owns the per-process log
 * state: the level of each component and where lines go (stderr in the
 * foreground, syslog as a daemon).  Logging is not a SIP layer, so that
 * state is a static table here; it is written at start-up (and later by
 * control commands) and only read on the packet path.
 */
#include "sipd/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	enum log_level level[LOG__COMP_COUNT];
	enum log_out out;
	bool opened;
} log_state = {
	.level = { LOG_DEFAULT_LEVEL, LOG_DEFAULT_LEVEL, LOG_DEFAULT_LEVEL },
	.out = LOG_OUT_STDERR,
};

static const char *const log_comp_names[LOG__COMP_COUNT] = {
	[LOG_TRANSPORT] = "transport",
	[LOG_SERVER] = "server",
	[LOG_CLIENT] = "client",
};

static const char *const log_comp_tags[LOG__COMP_COUNT] = {
	[LOG_TRANSPORT] = "SIP",
	[LOG_SERVER] = "SIPS",
	[LOG_CLIENT] = "SIPC",
};

static const char *const log_level_names[LOG__LEVEL_COUNT] = {
	[LOG_LEVEL_NONE] = "none",
	[LOG_LEVEL_FAILURE] = "failure",
	[LOG_LEVEL_MAJOR] = "major",
	[LOG_LEVEL_PROBLEMS] = "problems",
	[LOG_LEVEL_LOWLEVEL] = "low-level",
	[LOG_LEVEL_ALL] = "all",
};

static const int log_syslog_prio[LOG__LEVEL_COUNT] = {
	[LOG_LEVEL_NONE] = LOG_DEBUG,
	[LOG_LEVEL_FAILURE] = LOG_ERR,
	[LOG_LEVEL_MAJOR] = LOG_NOTICE,
	[LOG_LEVEL_PROBLEMS] = LOG_NOTICE,
	[LOG_LEVEL_LOWLEVEL] = LOG_INFO,
	[LOG_LEVEL_ALL] = LOG_DEBUG,
};

void
log_open(enum log_out out, const char *ident)
{
	log_close();
	log_state.out = out;
	if (out == LOG_OUT_SYSLOG) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_state.opened = true;
	}
}

void
log_close(void)
{
	if (log_state.opened) {
		closelog();
		log_state.opened = false;
	}
	log_state.out = LOG_OUT_STDERR;
}

void
log_set_level(enum log_comp comp, enum log_level level)
{
	if ((unsigned)comp < LOG__COMP_COUNT &&
	    (unsigned)level < LOG__LEVEL_COUNT) {
		log_state.level[comp] = level;
	}
}

enum log_level
log_get_level(enum log_comp comp)
{
	if ((unsigned)comp >= LOG__COMP_COUNT) {
		return LOG_LEVEL_NONE;
	}
	return log_state.level[comp];
}

const char *
log_comp_name(enum log_comp comp)
{
	if ((unsigned)comp >= LOG__COMP_COUNT) {
		return "?";
	}
	return log_comp_names[comp];
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level >= LOG__LEVEL_COUNT) {
		return "?";
	}
	return log_level_names[level];
}

int
log_comp_lookup(const char *name)
{
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		if (strcasecmp(name, log_comp_names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

int
log_level_lookup(const char *name)
{
	for (int i = 0; i < LOG__LEVEL_COUNT; i++) {
		if (strcasecmp(name, log_level_names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

bool
log_enabled(enum log_comp comp, enum log_level level)
{
	return (unsigned)comp < LOG__COMP_COUNT && level != LOG_LEVEL_NONE &&
	    log_state.level[comp] >= level;
}

/* Escape up to max bytes of data into out; returns the length written. */
static size_t
log_escape(char *out, size_t cap, const unsigned char *data, size_t len,
    size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (cap == 0) {
		return 0;
	}
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = data[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap) {
				break;
			}
			out[o++] = (char)c;
		} else {
			if (o + 4 >= cap) {
				break;
			}
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	if (i < len && o + 3 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

const char *
log_clip(char *out, size_t cap, const void *data, size_t len)
{
	log_escape(out, cap, data, len, LOG_CLIP_BYTES);
	return out;
}

/* Emit one finished line (without its newline). */
static void
log_emit(enum log_level level, const char *line)
{
	if (log_state.out == LOG_OUT_SYSLOG) {
		syslog(log_syslog_prio[level], "%s", line);
	} else {
		char stamp[40];
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		/* One fprintf per line, so lines of threads do not mix. */
		fprintf(stderr, "%s.%03ld %s\n", stamp, ts.tv_nsec / 1000000L,
		    line);
	}
}

void
log_write(enum log_comp comp, enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if ((unsigned)comp >= LOG__COMP_COUNT ||
	    (unsigned)level >= LOG__LEVEL_COUNT) {
		return;
	}
	n = snprintf(line, sizeof(line), "%s, ", log_comp_tags[comp]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	log_emit(level, line);
}

void
log_data(const char *what, const char *peer, const void *data, size_t len)
{
	char line[LOG_DATA_BYTES * 4 + 256];
	int n;

	if (!log_enabled(LOG_TRANSPORT, LOG_LEVEL_ALL)) {
		return;
	}
	n = snprintf(line, sizeof(line), "SIPDATA, %s %s (%zu bytes) ", what,
	    peer, len);
	if (n < 0 || (size_t)n >= sizeof(line) / 2) {
		return;
	}
	log_escape(line + n, sizeof(line) - (size_t)n, data, len,
	    LOG_DATA_BYTES);
	log_emit(LOG_LEVEL_ALL, line);
}
