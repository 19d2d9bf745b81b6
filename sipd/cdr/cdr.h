/*
 * cdr: the call table and the call records, the whole public face of
 * sipd/cdr.  The table holds every INVITE dialog sipd Record-Routes while
 * it tracks calls ("set cdr on", or "set force-rr on"): from the initial
 * INVITE to its final response, and, when answered, until a BYE from
 * either side or the dialog timeout.  With records on, each call attempt
 * that ends becomes one record: a line of the CSV file (cdr-file), and a
 * journal entry with fields (or a syslog line) when sipd logs there.
 *
 * Threads: one table for the whole process, shared by the workers under
 * one mutex.  Requests are spread over the workers by Call-ID, so the
 * transactions of one call normally meet on one worker, but the table
 * does not count on it: an INVITE answered on one worker and a BYE read
 * by another (a hand-off, a change of the worker count at a restart, the
 * control thread listing calls) all find the same entry.  The lock is
 * held for a hash lookup and, when a call ends, one write(2) of its
 * record: short, and once per call event, never per packet.
 *
 * Restart: the calls in progress are kept in a journal next to the CSV
 * file (PATH.open, one line per event, compacted when it grows past
 * twice the table), so a sipd started after a crash or a stop closes
 * them with the hang-up "interrupted".  Each record is written with one
 * write(2) on a file opened O_APPEND: a record written before a crash is
 * in the file.
 */
#ifndef SIPD_CDR_H
#define SIPD_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdr;

#define CDR_PATH_MAX 4096
/* Calls the table holds at most; more are carried but not recorded. */
#define CDR_MAX_CALLS 20000
/* Rotated files kept: PATH.1 (the newest) to PATH.CDR_KEEP. */
#define CDR_KEEP 9
/* The widest value of a record's field (longer ones are clipped). */
#define CDR_FIELD_MAX 256
#define CDR_TAG_MAX 128

/* How a call ended: the record's "hangup" field. */
enum cdr_end {
	CDR_END_NONE,        /* in progress */
	CDR_END_CALLER,      /* a BYE from the caller (caller-bye) */
	CDR_END_CALLEE,      /* a BYE from the callee (callee-bye) */
	CDR_END_CANCEL,      /* the caller's CANCEL before an answer */
	CDR_END_REJECTED,    /* a final response >= 300 without a CANCEL */
	CDR_END_TIMEOUT,     /* no BYE within the dialog timeout */
	CDR_END_INTERRUPTED, /* in progress when sipd stopped */
};

struct cdr_settings {
	bool on;                 /* write records */
	bool track;              /* keep the table even without records */
	char path[CDR_PATH_MAX]; /* the CSV file (absolute); "" for none
	                          * while off */
	uint64_t rotate_size;    /* bytes; 0: never by size */
	uint32_t dialog_timeout_s;
};

/* A slice of a message: pointer and length, not terminated. */
struct cdr_sv {
	const char *p;
	size_t len;
};

/* What the initial INVITE tells of a call. */
struct cdr_start {
	struct cdr_sv call_id, from_tag; /* the key */
	struct cdr_sv from, to, ruri;    /* header values, the R-URI */
	const char *source;              /* "udp:192.0.2.1:5060" */
	const char *user;                /* authenticated; "" for none */
	const char *gateway;             /* the gateway used; "" for none */
	bool routed; /* Record-Routed anyway: taken while not tracking */
};

/* A call as listed ("show calls", "show dialogs"). */
struct cdr_info {
	char call_id[CDR_FIELD_MAX];
	char from_tag[CDR_TAG_MAX], to_tag[CDR_TAG_MAX];
	char from[CDR_FIELD_MAX], to[CDR_FIELD_MAX], ruri[CDR_FIELD_MAX];
	char source[64];
	char user[CDR_FIELD_MAX];
	bool answered;
	uint64_t invite_ms, answer_ms, last_ms; /* Unix time, ms */
};

/* An empty table, records off; NULL when out of memory. */
struct cdr *cdr_new(void);

/* Close the files and free the table.  Accepts NULL. */
void cdr_free(struct cdr *d);

/*
 * Apply s.  Turning records on, or changing the file, opens the CSV file
 * and its journal and closes as "interrupted" the calls the journal
 * holds (a previous run's).  Returns 0, or a negative errno with a
 * message in err[0..cap) and nothing changed ("cannot open the call
 * records file /x/y.csv (Permission denied)").  From the main thread.
 */
int cdr_configure(struct cdr *d, const struct cdr_settings *s, char *err,
    size_t cap);

/*
 * Can path be the CSV file (opened for appending, or made in its
 * directory when missing)?  0, or a negative errno with a message;
 * nothing is made or kept open.
 */
int cdr_check_path(const char *path, char *err, size_t cap);

/* Does the table take calls now?  Lock-free. */
bool cdr_tracking(const struct cdr *d);

/*
 * Start a new CSV file: PATH becomes PATH.1 (PATH.1 PATH.2 and so on,
 * up to CDR_KEEP kept).  0, or a negative errno with a message;
 * -ENOENT when records are off.
 */
int cdr_rotate(struct cdr *d, char *err, size_t cap);

/*
 * The initial INVITE of a call sipd forwards and Record-Routes, now_ms
 * its time.  0, -EEXIST (a call with this key is in progress), -EBUSY
 * (the table is full), -ENOENT (not tracking, and s->routed false) or
 * -ENOMEM.  A call taken while records are off is never recorded.
 */
int cdr_invite(struct cdr *d, const struct cdr_start *s, uint64_t now_ms);
/* The same, and into *id the call's name for cdr_final_id(): the entry
 * made, or with -EEXIST the one in progress; 0 when there is none. */
int cdr_invite_id(struct cdr *d, const struct cdr_start *s, uint64_t now_ms,
    uint64_t *id);

/*
 * The final response status the INVITE of (call_id, from_tag) got
 * upstream: a 2xx answers the call (to_tag: the callee's tag; the first
 * 2xx counts), a status of 300 or more ends it (cancelled: after the
 * caller's CANCEL).
 */
void cdr_final(struct cdr *d, struct cdr_sv call_id, struct cdr_sv from_tag,
    struct cdr_sv to_tag, int status, bool cancelled, uint64_t now_ms);
/* The same for the call cdr_invite_id() named id: nothing once it has
 * ended (an id is never given twice), nothing for 0. */
void cdr_final_id(struct cdr *d, uint64_t id, struct cdr_sv to_tag,
    int status, bool cancelled, uint64_t now_ms);

/*
 * A request inside a dialog (From and To tags as received): a BYE ends
 * the call (its From tag the caller's: caller-bye; its To tag the
 * caller's: callee-bye), anything else keeps it alive for another
 * dialog timeout.
 */
void cdr_in_dialog(struct cdr *d, struct cdr_sv call_id,
    struct cdr_sv from_tag, struct cdr_sv to_tag, bool bye, uint64_t now_ms);

/* End the calls idle longer than the dialog timeout.  Any thread. */
void cdr_tick(struct cdr *d, uint64_t now_ms);

/*
 * Copies of the calls in progress (answered only: the dialogs), oldest
 * first, at most max, into a new array *out (the caller frees it).
 * Returns how many, or -ENOMEM.
 */
int cdr_list(struct cdr *d, bool dialogs, size_t max, struct cdr_info **out);

/* The counters. */
struct cdr_stats {
	uint64_t calls;     /* in the table now */
	uint64_t records;   /* records written */
	uint64_t untracked; /* calls not taken: the table was full */
	uint64_t errors;    /* records that could not be written */
};
void cdr_get_stats(struct cdr *d, struct cdr_stats *out);

/* The wall clock in ms since the Unix epoch: the times of records. */
uint64_t cdr_now_ms(void);

/* The hang-up's name in records ("caller-bye", ...). */
const char *cdr_end_name(enum cdr_end e);

#endif
