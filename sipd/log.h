/*
 * log: sipd's log lines, with one level per component.
 *
 * Components and their tags:
 *   LOG_TRANSPORT  SIP (events), SIPDATA (packet contents, log_data())
 *   LOG_SERVER     SIPS (requests received and answered)
 *   LOG_CLIENT     SIPC (responses received, requests sent)
 *
 * Levels, lowest first; a component at level L shows every line of level
 * L and below:
 *   NONE      nothing
 *   FAILURE   log_err():    sipd cannot do what it should (send failed)
 *   MAJOR     log_warn():   major events (start, stop, listeners)
 *   PROBLEMS  log_notice(): bad input from peers (dropped, refused)
 *   LOWLEVEL  log_info():   one line per message handled
 *   ALL       log_debug():  everything, packet contents included
 *
 * Lines go to stderr (with a timestamp), to syslog, to a file or to
 * systemd's journal (with fields: PRIORITY, SIPD_COMPONENT the tag), and,
 * while someone follows the log ("sipctl log follow"), into the live
 * queue: lines are written on worker threads too, so they wait there
 * (bounded; a full queue drops lines and counts them) until the main
 * thread drains it, woken by an eventfd.  One line per event: "TAG,
 * text", lower case, peer address where there is one, cause in
 * parentheses, no final period.  The level table is per process.
 */
#ifndef SIPD_LOG_H
#define SIPD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_comp {
	LOG_TRANSPORT,
	LOG_SERVER,
	LOG_CLIENT,
	LOG__COMP_COUNT
};

enum log_level {
	LOG_LEVEL_NONE,
	LOG_LEVEL_FAILURE,
	LOG_LEVEL_MAJOR,
	LOG_LEVEL_PROBLEMS,
	LOG_LEVEL_LOWLEVEL,
	LOG_LEVEL_ALL,
	LOG__LEVEL_COUNT
};

enum log_out {
	LOG_OUT_STDERR,
	LOG_OUT_SYSLOG,
	LOG_OUT_FILE,
	LOG_OUT_JOURNAL,
};

#define LOG_DEFAULT_LEVEL LOG_LEVEL_PROBLEMS

/* Bytes of wire data log_clip() shows, and log_data() at most. */
#define LOG_CLIP_BYTES 100
#define LOG_DATA_BYTES 2048
/* Room log_clip() needs for LOG_CLIP_BYTES escaped, "..." and the NUL. */
#define LOG_CLIP_SIZE (LOG_CLIP_BYTES * 4 + 4)

/*
 * Send lines to out from now on.  For LOG_OUT_SYSLOG, opens syslog with
 * ident (facility daemon); LOG_OUT_JOURNAL is LOG_OUT_STDERR when sipd
 * was built without libsystemd.  Levels are untouched.
 */
void log_open(enum log_out out, const char *ident);
void log_close(void);
/* Where lines go now. */
enum log_out log_get_out(void);

/*
 * True when stderr is a stream to systemd's journal: JOURNAL_STREAM holds
 * stderr's device and inode (systemd.exec(5)), and sipd was built with
 * libsystemd.  Then "stderr" means LOG_OUT_JOURNAL.
 */
bool log_journal_stream(void);
/* Whether sipd was built with libsystemd, so that it can write to the
 * journal at all. */
bool log_journal_built(void);

/* One field of a journal entry: NAME (upper case) and its value. */
struct log_field {
	const char *name;
	const char *value;
};

/*
 * Send one entry to the journal with sd_journal_sendv(): MESSAGE=msg,
 * PRIORITY as syslog's for level, SIPD_COMPONENT=comp and the n fields f.
 * Fields too long for the entry (16 KiB in all) are cut.  Returns 0, or a
 * negative errno (-ENOTSUP: built without libsystemd).
 */
int log_journal(enum log_level level, const char *comp, const char *msg,
    const struct log_field *f, size_t n);

/*
 * Send lines to the file at path (appended, created 0640) from now on, in
 * place of the current output.  Returns 0, or a negative errno and the
 * output unchanged.
 */
int log_open_file(const char *path);

/* Lines the live queue holds at most; more are dropped and counted. */
#define LOG_LIVE_SLOTS 4096

/*
 * The live queue.  log_live_init() creates it and returns the descriptor
 * that becomes readable when lines wait (or a negative errno);
 * log_live_enable() turns the copying of lines into it on or off (off:
 * the queue is emptied).  log_live_drain() calls fn for each waiting line
 * (NUL-terminated, without newline), oldest first, and returns how many;
 * call it from one thread only.  log_live_dropped() is the number of
 * lines dropped because the queue was full.
 */
int log_live_init(void);
void log_live_fini(void);
void log_live_enable(bool on);
size_t log_live_drain(void (*fn)(void *arg, const char *line, size_t len),
    void *arg);
unsigned long long log_live_dropped(void);

/* Set or read one component's level. */
void log_set_level(enum log_comp comp, enum log_level level);
enum log_level log_get_level(enum log_comp comp);

/* Names as written in the configuration: "transport", "low-level". */
const char *log_comp_name(enum log_comp comp);
const char *log_level_name(enum log_level level);
/* Case-insensitive lookups.  Return the value, or -1 when unknown. */
int log_comp_lookup(const char *name);
int log_level_lookup(const char *name);

/* True when comp shows lines of level. */
bool log_enabled(enum log_comp comp, enum log_level level);

/* Format and write one line; callers use the macros below. */
void log_write(enum log_comp comp, enum log_level level, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * The level is tested before the arguments are evaluated or formatted, so
 * a disabled line costs one call.
 */
#define LOG_AT(comp, level, ...)                                           \
	do {                                                               \
		if (log_enabled((comp), (level))) {                        \
			log_write((comp), (level), __VA_ARGS__);           \
		}                                                          \
	} while (0)
#define log_err(comp, ...) LOG_AT(comp, LOG_LEVEL_FAILURE, __VA_ARGS__)
#define log_warn(comp, ...) LOG_AT(comp, LOG_LEVEL_MAJOR, __VA_ARGS__)
#define log_notice(comp, ...) LOG_AT(comp, LOG_LEVEL_PROBLEMS, __VA_ARGS__)
#define log_info(comp, ...) LOG_AT(comp, LOG_LEVEL_LOWLEVEL, __VA_ARGS__)
#define log_debug(comp, ...) LOG_AT(comp, LOG_LEVEL_ALL, __VA_ARGS__)

/*
 * Write data's first len bytes (at most LOG_CLIP_BYTES) into out (cap
 * bytes, LOG_CLIP_SIZE is enough) with bytes outside printable ASCII, and
 * the backslash, as \xNN; "..." marks a cut.  Returns out.
 */
const char *log_clip(char *out, size_t cap, const void *data, size_t len);

/*
 * A SIPDATA line for a packet: "SIPDATA, <what> <peer> (<len> bytes)
 * <contents>", the contents escaped as by log_clip() but up to
 * LOG_DATA_BYTES.  Shown when the transport component is at ALL.
 */
void log_data(const char *what, const char *peer, const void *data,
    size_t len);

#endif
