/*
 * The live message trace: a copy of every SIP message the transport
 * receives and sends, taken only while somebody traces ("sipctl trace"),
 * queued for the control plane's main thread.  Off, it costs one relaxed
 * atomic load per message.  The queue is bounded in messages and bytes: a
 * full queue drops the message and counts it, never waits.  Like the log,
 * this is below every SIP layer: the transport calls trace_msg().
 */
#ifndef SIPD_TRACE_H
#define SIPD_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Messages and bytes the queue holds at most. */
#define TRACE_SLOTS 4096
#define TRACE_MAX_BYTES (8u * 1024 * 1024)

enum trace_dir {
	TRACE_IN,
	TRACE_OUT,
};

/* One traced message; data[len] follows. */
struct trace_ev {
	uint64_t us; /* wall clock, microseconds since the epoch */
	enum trace_dir dir;
	char proto[4]; /* "udp", "tcp", "tls" */
	struct sockaddr_storage local, remote;
	size_t len;
	char data[];
};

/* Is somebody tracing?  The one test on the packet path. */
bool trace_enabled(void);

/*
 * Queue a copy of a message (len bytes at data) seen on proto between
 * local and remote (either may be NULL: all zero).  Never waits; a full
 * queue counts a drop.  Call only when trace_enabled().
 */
void trace_msg(enum trace_dir dir, const char *proto,
    const struct sockaddr *local, const struct sockaddr *remote,
    const void *data, size_t len);

/*
 * trace_init() creates the queue and returns an eventfd readable while it
 * holds messages (or a negative errno); trace_fini() frees it.
 * trace_enable() turns copying on or off (off empties the queue).
 * trace_drain() calls fn for each waiting message, which it frees after;
 * call it from one thread only.  trace_dropped() counts the messages
 * dropped for a full queue since the start.
 */
int trace_init(void);
void trace_fini(void);
void trace_enable(bool on);
size_t trace_drain(void (*fn)(void *arg, const struct trace_ev *ev),
    void *arg);
unsigned long long trace_dropped(void);

#endif
