/*
 * Private to sipd/cdr: the table's entries and the functions the table
 * (cdr.c) and the files (out.c) share.  Every function here runs with
 * d->lock held, or on a table no other thread sees yet.
 */
#ifndef SIPD_CDR_INT_H
#define SIPD_CDR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "sipd/cdr/cdr.h"

#define CDR_BUCKETS 4096

/* One call in progress. */
struct cdr_call {
	struct cdr_call *next;             /* in its bucket */
	struct cdr_call *older, *newer;    /* in INVITE order */
	/* its name for cdr_final_id(): a serial number over the bucket, so
	 * an id outlives its entry without naming another */
	uint64_t id;
	uint32_t hash;
	bool answered;
	bool record; /* records were on at its INVITE */
	int16_t status; /* the final status, 0 before */
	uint64_t invite_ms, answer_ms, last_ms;
	char *to_tag; /* the 2xx's, NULL before (and without memory) */
	/* the INVITE's fields, each NUL-terminated in text, in the order of
	 * CDR_F_*: a record is sized to its call, not to the longest one
	 * allowed.  The Call-ID opens the text (cdr_call_id()); the user and
	 * the gateway, mostly empty, follow the source (cdr_call_user(),
	 * cdr_call_gateway()) */
	const char *from_tag, *from, *to, *ruri, *source;
	char text[];
};

static inline const char *
cdr_call_id(const struct cdr_call *k)
{
	return k->text;
}

static inline const char *
cdr_call_user(const struct cdr_call *k)
{
	return k->source + strlen(k->source) + 1;
}

static inline const char *
cdr_call_gateway(const struct cdr_call *k)
{
	const char *u = cdr_call_user(k);

	return u + strlen(u) + 1;
}

/* The INVITE's fields of a record, in the order of struct cdr_call. */
enum {
	CDR_F_CALL_ID,
	CDR_F_FROM_TAG,
	CDR_F_FROM,
	CDR_F_TO,
	CDR_F_RURI,
	CDR_F_SOURCE,
	CDR_F_USER,
	CDR_F_GATEWAY,
	CDR_NFIELDS,
};

/* A zeroed record holding f[] (cdr_copy()'d, each clipped to its limit:
 * CDR_FIELD_MAX, CDR_TAG_MAX for the From tag, 64 for the source), not
 * linked; cdr_call_free() frees it.  NULL when out of memory. */
struct cdr_call *cdr_call_new(const struct cdr_sv f[CDR_NFIELDS]);
/* Set k's To tag (clipped to CDR_TAG_MAX); left unset without memory. */
void cdr_call_answered(struct cdr_call *k, struct cdr_sv to_tag);
/* k's To tag, "" before its 2xx. */
const char *cdr_call_to_tag(const struct cdr_call *k);
/* Free k (unlinked) and what it holds.  Accepts NULL. */
void cdr_call_free(struct cdr_call *k);

struct cdr {
	pthread_mutex_t lock;
	atomic_bool tracking;
	struct cdr_settings set;
	bool configured; /* cdr_configure() ran once */
	int fd;          /* the CSV file, -1 when records are off */
	int jfd;         /* its journal of calls in progress, -1 */
	uint64_t size;   /* of the CSV file */
	uint64_t jlines; /* lines in the journal */
	uint64_t seed; /* of the buckets' hash: peers choose the keys */
	uint64_t serial; /* of the last entry's id */
	struct cdr_call *buckets[CDR_BUCKETS];
	struct cdr_call *oldest, *newest;
	size_t ncalls;
	atomic_size_t live; /* ncalls, for a look without the lock */
	struct cdr_stats stats;
};

/* cdr.c: the table */
uint32_t cdr_hash(const struct cdr *d, const char *call_id, const char *tag);
struct cdr_call *cdr_find(struct cdr *d, const char *call_id,
    const char *tag);
void cdr_link(struct cdr *d, struct cdr_call *k);
void cdr_unlink(struct cdr *d, struct cdr_call *k);
/* Copy s[0..len) into out[0..cap) as text: clipped, NUL-terminated,
 * control bytes as '?' (a record is one line). */
void cdr_copy(char *out, size_t cap, const char *s, size_t len);

/* out.c: the files */
/* Open path and its journal into *fd and *jfd.  0 or -errno with err. */
int cdr_out_open(const char *path, int *fd, int *jfd, uint64_t *size,
    char *err, size_t cap);
/* Close the calls journal jfd holds as interrupted at now_ms, into fd;
 * then empty the journal.  Returns the number closed. */
int cdr_out_recover(int fd, int jfd, uint64_t *size, uint64_t now_ms,
    struct cdr_stats *st);
/* Write k's record, ended by e at end_ms. */
void cdr_out_record(struct cdr *d, const struct cdr_call *k, enum cdr_end e,
    uint64_t end_ms);
/* Journal events: a call started, answered, ended. */
void cdr_out_started(struct cdr *d, const struct cdr_call *k);
void cdr_out_answered(struct cdr *d, const struct cdr_call *k);
void cdr_out_ended(struct cdr *d, const struct cdr_call *k);
/* Rewrite the journal with the calls of the table alone. */
void cdr_out_compact(struct cdr *d);
/* PATH to PATH.1 and so on; a new PATH. */
int cdr_out_rotate(struct cdr *d, char *err, size_t cap);

#endif
