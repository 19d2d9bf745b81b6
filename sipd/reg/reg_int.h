/*
 * reg_int.h: what the files of sipd/reg share and nobody else sees: the
 * index of bindings, the registrar structure and the store writer's
 * queue.  The index is used with struct reg's lock held.
 */
#ifndef SIPD_REG_INT_H
#define SIPD_REG_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <sys/types.h>

#include "sipd/reg/reg.h"

/*
 * An address kept with a binding: what an IPv4 or IPv6 peer needs (28
 * bytes where a sockaddr_storage takes 128).  Family 0: none.
 */
union reg_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * One binding in the index, in one allocation: the numbers of struct
 * reg_binding in their smallest fields, and the strings in data[] (the
 * contact first, then the Call-ID, Path and User-Agent at their offsets,
 * each NUL-terminated; an offset of 0 means none).  aor points at the AOR
 * record's name.  seq orders bindings of equal q and registration time by
 * their arrival, so that sorting is stable.  reg_bind_get() gives the
 * public form.
 */
struct reg_bind {
	struct reg_bind *next;
	const char *aor;
	uint64_t seq;
	uint64_t conn_id;
	time_t expires;
	time_t registered;
	time_t ka_pending;
	uint32_t cseq;
	uint32_t ka_fails;
	uint32_t callid_off, path_off, ua_off;
	uint16_t q;
	uint8_t addrlen;
	bool nat;
	int proto; /* as the store gave it, whatever it is */
	union reg_sa addr;
	union reg_sa local;
	char data[];
};

static inline const char *
reg_bind_contact(const struct reg_bind *b)
{
	return b->data;
}

static inline const char *
reg_bind_callid(const struct reg_bind *b)
{
	return b->data + b->callid_off;
}

/* The public form of b; its strings point into b. */
void reg_bind_get(const struct reg_bind *b, struct reg_binding *out);

/* An AOR and its bindings (arrival order), in a hash chain. */
struct reg_aor {
	struct reg_aor *next;
	uint32_t hash;
	uint32_t n;
	uint32_t inflight; /* changes waiting for the store: kept */
	struct reg_bind *binds;
	char name[];
};

/* Records queued for the store writer at most (then REGISTER gets 503). */
#define REG_WQ_MAX 65536

enum reg_rec_kind {
	REG_REC_PUT,
	REG_REC_DEL,
	REG_REC_DEL_AOR,
	REG_REC_PURGE,
	REG_REC_REFRESH, /* a put where only the expiry and CSeq changed */
};

struct reg_rec;
struct reg_wq;

/*
 * Who waits for a change to be written.  settle (may be NULL) runs on the
 * writer thread once the batch is committed (err 0) or failed, without
 * the queue's mutex; then a caller blocked in reg_wq_wait() is woken,
 * unless detached: settle then owns and frees w.
 */
struct reg_wait {
	void (*settle)(struct reg *r, struct reg_wait *w, int err);
	bool detached;
	bool finished;
	int result;
};

struct reg {
	pthread_mutex_t lock;
	struct reg_wq *wq; /* the store writer, NULL without a store */
	pthread_cond_t settled; /* with lock: a change in flight settled */
	struct reg_settings set;
	const struct reg_store_ops *ops;
	struct reg_store *st; /* NULL: memory only */
	char *where;          /* the store's name, as opened */
	/* a file store: the file opened (device and inode), so that the
	 * writer sees it deleted or replaced under sipd; 0, 0 otherwise */
	dev_t st_dev;
	ino_t st_ino;
	struct reg_aor **tab;
	size_t nbuckets;
	size_t naors;
	size_t nbinds;
	uint64_t seq;
	uint32_t seed;
	time_t next_expiry;  /* no binding expires before this */
	bool purge_pending;  /* the store missed a purge */
	struct reg_stats stats;
};

/*
 * Copy the AOR in (any case in the domain) to out (REG_AOR_MAX + 1
 * bytes) with the domain lower-cased.  Returns the length or -EINVAL.
 */
int reg_aor_norm(const char *in, char *out);

struct reg_aor *reg_aor_find(struct reg *r, const char *name);
/* reg_aor_find(), giving name's hash for reg_aor_insert() too. */
struct reg_aor *reg_aor_lookup(struct reg *r, const char *name,
    uint32_t *hash);
/* Find or create.  NULL on allocation failure. */
struct reg_aor *reg_aor_get(struct reg *r, const char *name);
/*
 * Create the record of name, absent from the index, whose hash
 * reg_aor_lookup() gave (without the lock released between).  NULL on
 * allocation failure.
 */
struct reg_aor *reg_aor_insert(struct reg *r, const char *name,
    uint32_t hash);
/* Free a record that has no bindings left. */
void reg_aor_drop(struct reg *r, struct reg_aor *a);

/*
 * A new binding for AOR a with the numbers of vals and copies of the
 * strings given (path and ua of length 0: NULL).  Not linked.  NULL on
 * allocation failure.
 */
struct reg_bind *reg_bind_new(struct reg *r, struct reg_aor *a,
    const struct reg_binding *vals, struct sv contact, struct sv callid,
    struct sv path, struct sv ua);

/* Link b at the end of a's list / unlink and free it. */
void reg_bind_link(struct reg *r, struct reg_aor *a, struct reg_bind *b);
void reg_bind_unlink(struct reg *r, struct reg_aor *a, struct reg_bind *b);

/* RFC 3261 19.1.4 equality of two contact URIs given as text. */
bool reg_contact_equal(const char *a, size_t alen, const char *b,
    size_t blen);

/*
 * Snapshot of the live bindings of a at now, sorted as reg_lookup().
 * Returns the count (*out NULL when 0) or -ENOMEM.
 */
int reg_snap_aor(struct reg_aor *a, time_t now, struct reg_snap **out);

/*
 * fn(arg, b) for each live binding b of a at now, in reg_snap_aor()'s
 * order, under the caller's lock and without a copy; a negative return
 * from fn stops the walk.  Returns 0, fn's negative return or -ENOMEM.
 */
int reg_aor_walk(struct reg_aor *a, time_t now,
    int (*fn)(void *arg, const struct reg_bind *b), void *arg);

/*
 * writer.c.  A record of one change for the store: a copy of b (put), or
 * aor and contact (del), aor (del_aor), now (purge).  NULL when out of
 * memory.
 */
struct reg_rec *reg_rec_new(enum reg_rec_kind kind,
    const struct reg_binding *b, const char *aor, const char *contact,
    time_t now);
void reg_rec_free_list(struct reg_rec *rec);
/* Note which file r's store is (a path: its device and inode). */
void reg_store_note(struct reg *r);
/* Start the writer thread on r's open store / stop it, writing the rest. */
int reg_wq_start(struct reg *r);
void reg_wq_stop(struct reg *r);
/* Is the queue full?  Taken under r->lock. */
bool reg_wq_full(struct reg *r);
/*
 * Queue list (records linked by their first member, in order; taken) with
 * w (may be NULL) waiting on its last record.  Called under r->lock so
 * that the store sees changes in the index's order.
 */
void reg_wq_push(struct reg *r, struct reg_rec *list, struct reg_wait *w);
/* Block until w's change is durable: 0, or the write's negative errno. */
int reg_wq_wait(struct reg *r, struct reg_wait *w);
/* Link rec at the end of the list *head / *tail. */
void reg_rec_append(struct reg_rec **head, struct reg_rec **tail,
    struct reg_rec *rec);

/* q in thousandths as a SIP qvalue ("1", "0.5", "0.125") into out[6]. */
void reg_qvalue(uint16_t q, char *out);
/*
 * The 200's Date for now (RFC 3261 20.17, RFC 1123 form in GMT) into out
 * (cap at least 30: 29 bytes and a NUL); "" for a year outside 0 to 9999.
 */
void reg_http_date(time_t now, char *out, size_t cap);

#endif
