/*
 * Log lines for every part of sipd.  This file owns the per-process log
 * state: the level of each component, where lines go (stderr in the
 * foreground, syslog as a daemon, a file, or systemd's journal when stderr
 * is the journal's stream) and the live queue that
 * carries lines to "log follow" on the main thread.  Logging is not a SIP
 * layer, so that state is a static table here; it is written at start-up
 * (and later by control commands on the main thread) and only read on the
 * packet path.  The live queue is the one part shared for writing between
 * threads: a mutex held for a few instructions, never across I/O.
 */
#include "sipd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifdef SIPD_HAVE_SYSTEMD
/* CODE_FILE would always name this file: left out */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

#include "proto/logline.h"

/* A journal entry's fields besides PRIORITY, SIPD_COMPONENT, MESSAGE. */
#define LOG_JOURNAL_FIELDS 24
#define LOG_JOURNAL_BYTES 16384

static struct {
	enum log_level level[LOG__COMP_COUNT];
	enum log_out out;
	bool opened;
	FILE *file;
	pthread_rwlock_t out_lock; /* out and file: written on a switch */
} log_state = {
	.out_lock = PTHREAD_RWLOCK_INITIALIZER,
	.level = { LOG_DEFAULT_LEVEL, LOG_DEFAULT_LEVEL, LOG_DEFAULT_LEVEL },
	.out = LOG_OUT_STDERR,
};

/* The live queue: a ring of malloc'ed lines. */
static struct {
	pthread_mutex_t lock;
	char *line[LOG_LIVE_SLOTS];
	size_t head, count;
	unsigned long long dropped;
	int fd; /* eventfd, -1 when not created */
	atomic_bool on;
} log_live = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
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

static void
log_close_locked(void)
{
	if (log_state.opened) {
		closelog();
		log_state.opened = false;
	}
	if (log_state.file != NULL) {
		fclose(log_state.file);
		log_state.file = NULL;
	}
	log_state.out = LOG_OUT_STDERR;
}

void
log_open(enum log_out out, const char *ident)
{
	pthread_rwlock_wrlock(&log_state.out_lock);
	log_close_locked();
	log_state.out = out == LOG_OUT_FILE ||
	    (out == LOG_OUT_JOURNAL && !log_journal_built()) ? LOG_OUT_STDERR
							     : out;
	if (out == LOG_OUT_SYSLOG) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_state.opened = true;
	}
	pthread_rwlock_unlock(&log_state.out_lock);
}

void
log_close(void)
{
	pthread_rwlock_wrlock(&log_state.out_lock);
	log_close_locked();
	pthread_rwlock_unlock(&log_state.out_lock);
}

enum log_out
log_get_out(void)
{
	return log_state.out;
}

bool
log_journal_built(void)
{
#ifdef SIPD_HAVE_SYSTEMD
	return true;
#else
	return false;
#endif
}

bool
log_journal_stream(void)
{
#ifdef SIPD_HAVE_SYSTEMD
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	int end = 0;

	/* systemd.exec(5): "DEVICE:INODE" of the stream stdout and stderr
	 * were connected to; stderr redirected since is not the journal */
	if (e == NULL || sscanf(e, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    e[end] != '\0' || fstat(STDERR_FILENO, &sb) < 0) {
		return false;
	}
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
#else
	return false;
#endif
}

#ifdef SIPD_HAVE_SYSTEMD
/* "NAME=value" at buf + *used into iov, cut to what is left of cap. */
static bool
log_journal_field(struct iovec *iov, char *buf, size_t cap, size_t *used,
    const char *name, const char *value)
{
	size_t room = cap - *used;
	int n;

	if (strlen(name) + 2 > room) {
		return false;
	}
	n = snprintf(buf + *used, room, "%s=%s", name, value);
	if (n < 0) {
		return false;
	}
	iov->iov_base = buf + *used;
	iov->iov_len = (size_t)n < room ? (size_t)n : room - 1;
	*used += iov->iov_len + 1;
	return true;
}
#endif

int
log_journal(enum log_level level, const char *comp, const char *msg,
    const struct log_field *f, size_t n)
{
#ifdef SIPD_HAVE_SYSTEMD
	struct iovec iov[LOG_JOURNAL_FIELDS + 3];
	char buf[LOG_JOURNAL_BYTES], prio[4];
	size_t used = 0;
	int k = 0, rc;

	if ((unsigned)level >= LOG__LEVEL_COUNT || n > LOG_JOURNAL_FIELDS) {
		return -EINVAL;
	}
	snprintf(prio, sizeof(prio), "%d", log_syslog_prio[level]);
	k += log_journal_field(&iov[k], buf, sizeof(buf), &used, "PRIORITY",
	    prio);
	k += log_journal_field(&iov[k], buf, sizeof(buf), &used,
	    "SIPD_COMPONENT", comp);
	k += log_journal_field(&iov[k], buf, sizeof(buf), &used, "MESSAGE",
	    msg);
	for (size_t i = 0; i < n; i++) {
		k += log_journal_field(&iov[k], buf, sizeof(buf), &used,
		    f[i].name, f[i].value);
	}
	rc = sd_journal_sendv(iov, k);
	return rc < 0 ? rc : 0;
#else
	(void)level;
	(void)comp;
	(void)msg;
	(void)f;
	(void)n;
	return -ENOTSUP;
#endif
}

int
log_open_file(const char *path)
{
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		return -errno;
	}
	f = fdopen(fd, "a");
	if (f == NULL) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_rwlock_wrlock(&log_state.out_lock);
	log_close_locked();
	log_state.file = f;
	log_state.out = LOG_OUT_FILE;
	pthread_rwlock_unlock(&log_state.out_lock);
	return 0;
}

int
log_live_init(void)
{
	if (log_live.fd >= 0) {
		return log_live.fd;
	}
	log_live.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (log_live.fd < 0) {
		return -errno;
	}
	return log_live.fd;
}

static void
log_live_clear(void)
{
	pthread_mutex_lock(&log_live.lock);
	while (log_live.count > 0) {
		free(log_live.line[log_live.head]);
		log_live.line[log_live.head] = NULL;
		log_live.head = (log_live.head + 1) % LOG_LIVE_SLOTS;
		log_live.count--;
	}
	pthread_mutex_unlock(&log_live.lock);
}

void
log_live_fini(void)
{
	atomic_store(&log_live.on, false);
	log_live_clear();
	if (log_live.fd >= 0) {
		close(log_live.fd);
		log_live.fd = -1;
	}
}

void
log_live_enable(bool on)
{
	atomic_store(&log_live.on, on && log_live.fd >= 0);
	if (!on) {
		log_live_clear();
	}
}

/* Queue a copy of line; never waits for the consumer. */
static void
log_live_push(const char *line)
{
	uint64_t one = 1;
	bool wake = false;
	char *copy;

	if (!atomic_load_explicit(&log_live.on, memory_order_relaxed)) {
		return;
	}
	copy = strdup(line);
	pthread_mutex_lock(&log_live.lock);
	if (copy == NULL || log_live.count == LOG_LIVE_SLOTS) {
		log_live.dropped++;
	} else {
		log_live.line[(log_live.head + log_live.count) %
		    LOG_LIVE_SLOTS] = copy;
		wake = log_live.count == 0;
		log_live.count++;
		copy = NULL;
	}
	pthread_mutex_unlock(&log_live.lock);
	free(copy);
	if (wake && log_live.fd >= 0) {
		(void)!write(log_live.fd, &one, sizeof(one));
	}
}

size_t
log_live_drain(void (*fn)(void *arg, const char *line, size_t len),
    void *arg)
{
	uint64_t v;
	size_t n = 0;

	if (log_live.fd >= 0) {
		(void)!read(log_live.fd, &v, sizeof(v));
	}
	for (;;) {
		char *line = NULL;

		pthread_mutex_lock(&log_live.lock);
		if (log_live.count > 0) {
			line = log_live.line[log_live.head];
			log_live.line[log_live.head] = NULL;
			log_live.head = (log_live.head + 1) % LOG_LIVE_SLOTS;
			log_live.count--;
		}
		pthread_mutex_unlock(&log_live.lock);
		if (line == NULL) {
			break;
		}
		fn(arg, line, strlen(line));
		free(line);
		n++;
	}
	return n;
}

unsigned long long
log_live_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&log_live.lock);
	n = log_live.dropped;
	pthread_mutex_unlock(&log_live.lock);
	return n;
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

/* Emit one finished line (without its newline), tag its component's. */
static void
log_emit(enum log_level level, const char *tag, const char *line)
{
	bool live = atomic_load_explicit(&log_live.on, memory_order_relaxed);
	char stamp[40] = "";
	struct timespec ts;
	struct tm tm;

	/* the stamp for stderr, a file, the live queue, and stderr again
	 * when the journal fails */
	if (log_state.out != LOG_OUT_SYSLOG || live) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	pthread_rwlock_rdlock(&log_state.out_lock);
	if (log_state.out == LOG_OUT_SYSLOG) {
		syslog(log_syslog_prio[level], "%s", line);
	} else if (log_state.out == LOG_OUT_JOURNAL &&
	    log_journal(level, tag, line, NULL, 0) == 0) {
		/* the journal stamps the entry; stderr below when it fails */
	} else if (log_state.out == LOG_OUT_FILE && log_state.file != NULL &&
	    strncmp(line, "SIPDATA, ", 9) == 0) {
		/* a packet in the file as its lines; flockfile() keeps the
		 * lines of one record together */
		char head[48];
		int n = snprintf(head, sizeof(head), "%s.%03ld ", stamp,
		    ts.tv_nsec / 1000000L);
		FILE *f = log_state.file;

		flockfile(f);
		fwrite(head, 1, (size_t)n, f);
		proto_log_line(f, line, strlen(line));
		funlockfile(f);
	} else {
		/* One fprintf per line, so lines of threads do not mix. */
		fprintf(log_state.out == LOG_OUT_FILE && log_state.file != NULL
			? log_state.file
			: stderr,
		    "%s.%03ld %s\n", stamp, ts.tv_nsec / 1000000L, line);
	}
	pthread_rwlock_unlock(&log_state.out_lock);
	if (live) {
		char buf[LOG_DATA_BYTES * 4 + 320];

		snprintf(buf, sizeof(buf), "%s.%03ld %s", stamp,
		    ts.tv_nsec / 1000000L, line);
		log_live_push(buf);
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
	log_emit(level, log_comp_tags[comp], line);
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
	log_emit(LOG_LEVEL_ALL, "SIPDATA", line);
}
