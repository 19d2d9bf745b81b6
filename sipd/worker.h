/*
 * worker: the threads that carry SIP.  Each worker owns one event loop and
 * one shard of all SIP state: its transport (listeners and connections),
 * its transaction table and its core.  A request belongs to the shard its
 * Call-ID hashes to, so every transaction of a call lives on one worker
 * and needs no lock; a message read by another worker is handed over on a
 * queue (DESIGN.md, "Threads and ownership").  With set worker-ports,
 * each worker also has UDP ports of its own that its Via and
 * Record-Route name, and a call read first on a shared UDP listener
 * belongs to the worker that read it (steering): then nearly nothing is
 * handed over.
 *
 * The pool (struct workers) is driven from the main thread: it starts and
 * stops the threads, applies configuration changes, and runs functions on
 * a worker's own thread for the control plane (workers_call()).
 */
#ifndef SIPD_WORKER_H
#define SIPD_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sipd/conf.h"

struct event;
struct event_base;
struct core;
struct dns;
struct tp;
struct reg;
struct media;
struct txn_table;
struct workers;

/*
 * A worker.  Its counters are read on its own thread (workers_call()):
 * core_stats(w->core), txn_table_stats(w->txn), the transport's and
 * the resolver's (w->dns).
 */
struct worker {
	unsigned id;
	struct workers *pool;
	struct event_base *base;
	struct tp *tp;
	struct txn_table *txn;
	struct core *core;
	struct dns *dns;      /* its resolver (RFC 3263), on base */
	struct event *tick;   /* drives the transaction timers */
	uint64_t tick_due;    /* when the tick is next due (ms, as beat) */
	/* when the tick last ran (ms, CLOCK_MONOTONIC): read by the
	 * watchdog on the main thread (workers_alive()) */
	_Atomic uint64_t beat;
	struct event *inbox;  /* hand-offs and calls from other threads */
	pthread_t thread;
	uint64_t next_purge;  /* worker 0: when the registrar is purged */
	/* the listeners of the configuration in force, in its order */
	struct tp_listener *listeners[CONF_MAX_LISTENERS];
	/* steering (set worker-ports): the owners of calls whose Call-ID
	 * hashes to this worker, when another worker read them; locked
	 * inside; NULL without steering */
	struct note_dir *notes;
	pthread_mutex_t lock; /* guards the inbox queue only */
	struct worker_msg *queue_head, *queue_tail;
	unsigned queued;      /* SIP messages in the inbox, at most
	                       * WORKER_INBOX_MAX */
	bool woken;           /* wake_fd written since the last take */
	int wake_fd;          /* the inbox's eventfd, read by inbox */
	struct worker_msg *stop_msg; /* worker_stop()'s, never freed here */
};

/*
 * The most parsed messages waiting in one worker's inbox for their shard
 * (sipd(8), Queues).  Past it the worker that read a request answers it
 * 503 with Retry-After itself, and drops a response or an ACK.
 */
#define WORKER_INBOX_MAX 4096

/*
 * A pool of c->processors workers for configuration c, every listener of
 * c open on each of them.  Returns NULL with a message in err[0..cap)
 * ("cannot listen on udp 127.0.0.1:5060 (Address already in use)").
 */
struct workers *workers_new(const struct conf *c, char *err, size_t cap);

/* Start one thread per worker.  Returns 0 or a negative errno. */
int workers_start(struct workers *ws);

/*
 * Stop accepting new work: from now on every worker answers a request
 * that would begin a dialog or transaction with 503 (a request within a
 * dialog and a CANCEL still pass).  Returns how many transactions are
 * still running (not yet final).  From the main thread; call it again to
 * watch them end.
 */
size_t workers_drain(struct workers *ws);

/*
 * Stop accepting new work, let running transactions finish for at most
 * grace_ms, then stop the threads and join them.
 */
void workers_stop(struct workers *ws, unsigned grace_ms);

/* Close everything.  Accepts NULL. */
void workers_free(struct workers *ws);

unsigned workers_count(const struct workers *ws);

/*
 * Whether every worker's loop has turned in the last max_ms (the tick runs
 * at least once a second): 0, or -(i + 1) for the first worker i that has
 * not, stuck in something that does not return.  From any thread.
 */
int workers_alive(const struct workers *ws, uint64_t max_ms);

/* The registrar the workers share (its calls are locked inside). */
struct reg *workers_reg(const struct workers *ws);

/* The call table (sipd/cdr; its calls lock inside). */
struct cdr;
struct cdr *workers_cdr(const struct workers *ws);
/* The message-waiting state (sipd/mwi; its calls lock inside). */
struct mwi *workers_mwi(const struct workers *ws);

/* The media relay engine (its own thread; its calls lock inside). */
struct media *workers_media(const struct workers *ws);

/*
 * Run fn(w, arg) on worker i's thread and wait for it to return.  From the
 * main thread only.  Before workers_start() fn runs on the caller's
 * thread.
 */
void workers_call(struct workers *ws, unsigned i,
    void (*fn)(struct worker *w, void *arg), void *arg);

/*
 * Apply configuration c to the running pool: listeners opened or closed,
 * limits, timers and proxy settings given to every worker.  A change of
 * c->processors takes effect at the next start.  Returns 0, or a negative
 * errno with a message in err[0..cap) and nothing changed.
 */
int workers_configure(struct workers *ws, const struct conf *c, char *err,
    size_t cap);

/* The worker that owns the shard of a Call-ID. */
unsigned workers_shard(const struct workers *ws, struct sv callid);

#endif
