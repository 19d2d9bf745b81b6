/*
 * reg: the registrar, the whole public face of sipd/reg.  It owns the
 * location service's bindings (address-of-record -> contact), processes
 * REGISTER requests (RFC 3261 10.3, RFC 3327 Path) and keeps the bindings
 * in a store so that they survive a restart.
 *
 * Bindings live in an in-memory index (a hash table keyed by the AOR) that
 * serves every lookup.  The store is written through on every change and
 * read only when the registrar is created.  The store is behind an
 * operations table (struct reg_store_ops) so that a shared store can take
 * the place of the default SQLite file.
 *
 * Threads: one struct reg is shared by every worker, the one place in the
 * SIP layers where state crosses workers.  It holds a mutex around the
 * index and the store; every function below may be called from any
 * thread.  Nothing returned points into the index: lookups and listings
 * return a snapshot (struct reg_snap) that the caller owns and frees.
 *
 * Durability: a REGISTER's 200 means its change is committed.  The
 * store is written by one writer thread (writer.c), which commits every
 * change queued in one transaction (group commit); the change reaches the
 * index only once committed, and the 200 is built then, on the writer
 * thread, and handed to the worker (reg_register_async()), so no worker
 * waits on the disk.  With REG_SYNC_FULL the commit is fsync'd: an
 * acknowledged binding survives a crash of sipd or of the machine; with
 * REG_SYNC_NORMAL it is in the WAL, safe from a crash of sipd only.  If
 * the commit fails the answer is 500 (RFC 3261 10.3 step 7) and store and
 * index stay as they were.  While the writer's queue is full a REGISTER
 * that would change bindings gets 503.  No store call is made under the
 * registrar's lock.
 *
 * Without a store (reg_new()'s where NULL: "set reg-durable off") the
 * bindings live in memory only and are lost when the process ends; no
 * writer thread runs, and a REGISTER is decided, applied and answered on
 * the calling thread.
 *
 * Times are wall-clock seconds (time(NULL)), since expiries are absolute
 * and outlive the process.
 */
#ifndef SIPD_REG_H
#define SIPD_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "sipd/msg/msg.h"

struct reg;
struct reg_store;

/* Longest AOR ("user@domain") and contact URI accepted, in bytes. */
#define REG_AOR_MAX 255
#define REG_CONTACT_MAX 1024
/* Longest User-Agent kept (longer ones are cut) and Path list accepted. */
#define REG_UA_MAX 255
#define REG_PATH_MAX 2048

/* Defaults of struct reg_settings. */
#define REG_DEFAULT_EXPIRES 3600
#define REG_DEFAULT_MIN_EXPIRES 60
#define REG_DEFAULT_MAX_EXPIRES 86400
#define REG_DEFAULT_MAX_PER_AOR 10
#define REG_DEFAULT_MAX_TOTAL 1000000
#define REG_DEFAULT_RETRY_AFTER 60
/* q when a Contact has none, in thousandths (RFC 3261 10.2.1.2). */
#define REG_DEFAULT_Q 1000

enum reg_sync {
	REG_SYNC_FULL,   /* each commit fsync'd before the 200 */
	REG_SYNC_NORMAL, /* each commit written; fsync'd at checkpoints */
};

/*
 * Registrar settings.  reg_settings_init() fills the defaults above.
 *
 * An interval requested below min_expires (and not 0) is refused with 423
 * and Min-Expires, but only when it is also under one hour, as RFC 3261
 * 10.3 step 7 allows; one above max_expires is shortened to it.
 * max_per_aor bindings per AOR (over it: 403), max_total in all (over it:
 * 503 with Retry-After: retry_after); 0 means no limit.  path_strict: a
 * REGISTER with Path from a UA that did not send "Supported: path" is
 * refused with 420 (RFC 3327 5.3); when false its Path is ignored.
 */
struct reg_settings {
	uint32_t default_expires;
	uint32_t min_expires;
	uint32_t max_expires;
	uint32_t max_per_aor;
	uint32_t max_total;
	uint32_t retry_after;
	bool path_strict;
	enum reg_sync sync;
};

void reg_settings_init(struct reg_settings *s);

/*
 * Where a REGISTER came from.  proto holds an enum tp_proto value
 * (sipd/transport/tp.h: TP_UDP, TP_TCP, TP_TLS); conn_id the stream
 * connection, 0 for UDP.  reg keeps these as data and never sends.
 */
struct reg_src {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int proto;
	uint64_t conn_id;
	/* the source may put a Path (RFC 3327 5.3: an edge proxy the
	 * registrar trusts; the core says a client-ip); otherwise a Path
	 * the request would have stored gets 403 */
	bool path_trusted;
	/* the listener's address it came to (family 0: unknown) */
	struct sockaddr_storage local;
	/* the sender is behind a remote NAT (far-end NAT, said by the
	 * core): its bindings are reached at addr, whatever their Contact */
	bool nat;
};

/*
 * One binding.  Strings are NUL-terminated; path and user_agent are NULL
 * when absent.  path is the text of the REGISTER's Path list, values
 * joined by ", ", ready for Route headers (RFC 3327 5.3).  expires and
 * registered are absolute (seconds); registered is when this contact was
 * first bound to the AOR, kept across refreshes.  q in thousandths.
 * conn_id is 0 for bindings loaded from the store: connections do not
 * survive a restart.  nat: registered from behind a remote NAT (struct
 * reg_src), so reached at addr over proto, not at the Contact.
 */
struct reg_binding {
	const char *aor;
	const char *contact;
	const char *callid;
	const char *path;
	const char *user_agent;
	time_t expires;
	time_t registered;
	uint32_t cseq;
	uint16_t q;
	int proto;
	uint64_t conn_id;
	socklen_t addrlen;
	struct sockaddr_storage addr;
	bool nat;
	/* keep-alives (OPTIONS) sent since the last answer, less one: the
	 * failures in a row; ka_pending: when the unanswered one went, 0
	 * for none.  In memory only: a REGISTER starts them anew */
	uint32_t ka_fails;
	time_t ka_pending;
	/* the listener's address the REGISTER came to, so that requests
	 * leave from the socket the client's NAT knows; family 0: unknown
	 * (loaded from the store) */
	struct sockaddr_storage local;
};

/*
 * A snapshot of bindings, owned by the caller and freed with
 * reg_snap_free(); its strings live inside it.
 */
struct reg_snap {
	size_t n;
	struct reg_binding b[];
};

void reg_snap_free(struct reg_snap *s);

/* ------------------------------------------------------------ the store */

/* Called by a store's load for each binding; non-zero stops the load. */
typedef int reg_load_fn(void *arg, const struct reg_binding *b);

/*
 * A store of bindings, keyed by (aor, contact).  Every function returns 0
 * or a negative errno.  The registrar calls them from one thread at a
 * time (the creating thread for open and load, then the writer thread),
 * so a store needs no locking of its own.  A change is bracketed by
 * begin and commit (or rollback): all of it is kept or none.
 *
 *   open      open or create the store named where; *out on success
 *   close     close it (NULL is accepted)
 *   begin, commit, rollback    the transaction around changes
 *   put       insert or replace the binding (b->aor, b->contact)
 *   refresh   (optional) the stored binding (b->aor, b->contact) gets
 *             b's expires, registered and cseq; everything else of b is
 *             what the store holds already.  A binding the store lacks
 *             is put whole.  NULL: the registrar puts instead
 *   del       remove one binding (absent: 0)
 *   del_aor   remove every binding of an AOR
 *   load      call fn for every binding
 *   purge     remove every binding with expires <= now; returns how many
 */
struct reg_store_ops {
	const char *name;
	int (*open)(const char *where, const struct reg_settings *set,
	    struct reg_store **out);
	void (*close)(struct reg_store *st);
	int (*begin)(struct reg_store *st);
	int (*commit)(struct reg_store *st);
	int (*rollback)(struct reg_store *st);
	int (*put)(struct reg_store *st, const struct reg_binding *b);
	int (*del)(struct reg_store *st, const char *aor, const char *contact);
	int (*del_aor)(struct reg_store *st, const char *aor);
	int (*load)(struct reg_store *st, reg_load_fn *fn, void *arg);
	int (*purge)(struct reg_store *st, time_t now);
	int (*refresh)(struct reg_store *st, const struct reg_binding *b);
};

/*
 * The default store: one SQLite file (WAL journal, synchronous FULL or
 * NORMAL per reg_settings.sync), created with mode 0600 and brought to
 * 0600 when it exists.
 */
extern const struct reg_store_ops reg_store_sqlite;

/* ------------------------------------------------------------ registrar */

/*
 * Create a registrar with settings set (NULL: defaults) and the store ops
 * opened at where (ops NULL: reg_store_sqlite; where NULL: no store, the
 * bindings live in memory only).  The store's bindings are loaded, those
 * expired at now are dropped (from the store too).  Returns NULL on
 * failure with *err (may be NULL) set to a negative errno.
 */
struct reg *reg_new(const struct reg_settings *set,
    const struct reg_store_ops *ops, const char *where, time_t now,
    int *err);

/* Where the store was opened (reg_new()'s where), or NULL: none. */
const char *reg_store_where(const struct reg *r);

/* Close the store and free everything.  NULL is accepted. */
void reg_free(struct reg *r);

/* Replace the settings (live; existing bindings are not touched). */
void reg_set_settings(struct reg *r, const struct reg_settings *set);
void reg_get_settings(struct reg *r, struct reg_settings *out);

/*
 * The canonical AOR of a SIP or SIPS URI (the To of a REGISTER, RFC 3261
 * 10.3 step 5): the user part unescaped, '@', the host lower-cased, no
 * port or parameters ("alice@example.com", or "example.com" without a
 * user).  base is the buffer u's spans refer to.  Returns the length, or
 * -EINVAL (not sip/sips, bad escape), -ENOSPC (over cap or REG_AOR_MAX).
 */
int reg_aor(const char *base, const struct uri *u, char *out, size_t cap);

/*
 * A REGISTER's answer as the bytes sent: nothing reads a response back,
 * so it is written (msg_response_write(), msg_response_add_lines()), not
 * parsed as a message.  p holds len bytes, malloc()ed, with room for cap
 * (more lines may be added: Server); the holder frees p.
 */
struct reg_answer {
	int status;
	char *p;
	size_t len, cap;
};

/*
 * A REGISTER's answer once its change is durable (reg_register_async()):
 * called on the writer thread with the response (the callee owns ans.p),
 * or with ans.p NULL when the store failed (the callee answers 500).
 */
typedef void reg_done_fn(void *arg, struct reg_answer ans);

/* reg_register_async(): the answer comes through the callback. */
#define REG_PENDING 1

/*
 * Process a REGISTER (RFC 3261 10.3 steps 6 to 8; steps 1 to 5, the
 * domain, authentication and authorization checks, are the caller's) for
 * the canonical aor, received from src at now.  to_tag is the tag added to
 * the response's To (RFC 3261 8.2.6.2).
 *
 * On return 0, *resp_out is the response, whatever its status: a 200
 * listing every live binding of the AOR as Contact with ;expires= (and
 * ;q= when not 1), Date, Supported: path and the request's Path when it
 * was stored; or 400 (bad Contact, Expires, Path, or a misused "*"), 403
 * (too many bindings for the AOR), 420 (Path without Supported: path),
 * 423 with Min-Expires, 500 (an out-of-order CSeq, or the store failed:
 * nothing changed), 503 with Retry-After (registrar full).  The caller
 * owns it and may add headers (Server) before sending it.
 *
 * Returns -EINVAL for an unusable aor or request (not a REGISTER, no
 * To/Call-ID/CSeq to answer), -ENOMEM: *resp_out is NULL and the caller
 * answers 500 itself.  Blocks until the change is durable.
 */
int reg_register(struct reg *r, struct msg *req, const char *aor,
    const struct reg_src *src, time_t now, struct sv to_tag,
    struct msg **resp_out);
/*
 * As reg_register(), the answer as bytes in *out (out->p NULL on an
 * error return), but when the answer must wait for the store, returns
 * REG_PENDING at once: done(arg, ans) gives it later, on the writer
 * thread.  Otherwise done is not called.  A 503 with Retry-After answers
 * a change while the writer's queue is full.
 */
int reg_register_async(struct reg *r, struct msg *req, const char *aor,
    const struct reg_src *src, time_t now, struct sv to_tag,
    reg_done_fn *done, void *arg, struct reg_answer *out);

/*
 * Wait until every change queued for the store is written (or has
 * failed) and every callback has been called.  For shutdown: call it
 * before freeing what the callbacks use.
 */
void reg_flush(struct reg *r);

/*
 * The live bindings of aor (canonical form) at now, highest q first, then
 * oldest registration first.  Returns the count; *out is a snapshot (NULL
 * when the count is 0) for the caller to free.  Or -ENOMEM, -EINVAL.
 */
int reg_lookup(struct reg *r, const char *aor, time_t now,
    struct reg_snap **out);

/*
 * Every live binding (aor NULL) or those of one AOR, for "show
 * registrations", sorted by AOR, then as reg_lookup().  Returns the count
 * and *out as reg_lookup().
 */
int reg_list(struct reg *r, const char *aor, time_t now,
    struct reg_snap **out);

/*
 * Remove one binding (contact given: matched by RFC 3261 19.1.4 URI
 * equality) or every binding of aor (contact NULL), from memory and the
 * store, waiting for the store.  Returns the number removed, -ENOENT when
 * none matched, or a negative errno when the store failed (removed from
 * memory; the store is written again).
 */
int reg_remove(struct reg *r, const char *aor, const char *contact);

/*
 * Remove every binding expired at now (expires <= now) from memory and
 * queue their removal from the store; the core calls it from a timer.
 * Returns how many were removed from memory.
 */
int reg_purge(struct reg *r, time_t now);

/*
 * A keep-alive goes to the binding (aor, contact) at now: when the one
 * before is still unanswered it counts as a failure.  *fails: the
 * failures in a row.  Returns 0, or -ENOENT (no such live binding).
 */
int reg_keepalive_sent(struct reg *r, const char *aor, const char *contact,
    time_t now, uint32_t *fails);
/*
 * A keep-alive was answered from addr (address and port) for aor: every
 * binding of aor registered from addr counts as alive again.  Returns the
 * number of bindings concerned.
 */
int reg_keepalive_answered(struct reg *r, const char *aor,
    const struct sockaddr_storage *addr);

struct reg_stats {
	size_t aors;
	size_t bindings;
	unsigned long long registers; /* REGISTERs processed */
	unsigned long long refused;   /* of which not answered 200 */
	unsigned long long store_errors;
};

void reg_get_stats(struct reg *r, struct reg_stats *out);

#endif
