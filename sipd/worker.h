/*
 * worker: one event loop and everything it owns: the event_base, the
 * transport with its listeners and the core that handles what arrives.
 * Everything a worker owns is reached through its struct worker, passed
 * explicitly, so that several workers (one per thread, each a shard of
 * the state) can run side by side later.  There is one worker for now,
 * and it also handles SIGTERM and SIGINT.
 */
#ifndef SIPD_WORKER_H
#define SIPD_WORKER_H

#include <stddef.h>

#include "sipd/conf.h"

struct event;
struct event_base;
struct core;
struct tp;

struct worker {
	unsigned id;
	struct event_base *base;
	struct tp *tp;
	struct core *core;
	struct event *sig_term;
	struct event *sig_int;
	int stop_signal; /* the signal that stopped the loop, or 0 */
};

/*
 * A worker for the configuration c: its event base, core and transport,
 * every listener of c open, and the stop signals caught.  Returns NULL
 * with a message in err[0..cap) ("cannot listen on udp 127.0.0.1:5060
 * (Address already in use)").
 */
struct worker *worker_new(const struct conf *c, char *err, size_t cap);

/*
 * Run the event loop until SIGTERM or SIGINT.  Returns 0, or -EIO when
 * the loop failed.
 */
int worker_run(struct worker *w);

/* Close everything the worker owns.  Accepts NULL. */
void worker_free(struct worker *w);

#endif
