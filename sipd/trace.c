/*
 * The live message trace (trace.h): a ring of copied messages shared by
 * the workers, which push, and the control plane's main thread, which
 * drains.  The mutex is held for a few instructions, never across I/O or
 * allocation; the copy is made before it is taken.
 */
#include "sipd/trace.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static struct {
	pthread_mutex_t lock;
	struct trace_ev *ev[TRACE_SLOTS];
	size_t head, count, bytes;
	unsigned long long dropped;
	int fd; /* eventfd, -1 when not created */
	atomic_bool on;
} trace_q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
};

bool
trace_enabled(void)
{
	return atomic_load_explicit(&trace_q.on, memory_order_relaxed);
}

int
trace_init(void)
{
	if (trace_q.fd >= 0) {
		return trace_q.fd;
	}
	trace_q.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (trace_q.fd < 0) {
		return -errno;
	}
	return trace_q.fd;
}

static void
trace_clear(void)
{
	pthread_mutex_lock(&trace_q.lock);
	while (trace_q.count > 0) {
		free(trace_q.ev[trace_q.head]);
		trace_q.ev[trace_q.head] = NULL;
		trace_q.head = (trace_q.head + 1) % TRACE_SLOTS;
		trace_q.count--;
	}
	trace_q.bytes = 0;
	pthread_mutex_unlock(&trace_q.lock);
}

void
trace_fini(void)
{
	atomic_store(&trace_q.on, false);
	trace_clear();
	if (trace_q.fd >= 0) {
		close(trace_q.fd);
		trace_q.fd = -1;
	}
}

void
trace_enable(bool on)
{
	atomic_store(&trace_q.on, on && trace_q.fd >= 0);
	if (!on) {
		trace_clear();
	}
}

static void
trace_addr(struct sockaddr_storage *to, const struct sockaddr *sa)
{
	memset(to, 0, sizeof(*to));
	if (sa == NULL) {
		return;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(to, sa, sizeof(struct sockaddr_in));
	} else if (sa->sa_family == AF_INET6) {
		memcpy(to, sa, sizeof(struct sockaddr_in6));
	}
}

void
trace_msg(enum trace_dir dir, const char *proto,
    const struct sockaddr *local, const struct sockaddr *remote,
    const void *data, size_t len)
{
	struct trace_ev *ev;
	struct timespec ts;
	uint64_t one = 1;
	bool wake = false;

	if (!trace_enabled()) {
		return;
	}
	ev = malloc(sizeof(*ev) + len);
	if (ev != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ev->us = (uint64_t)ts.tv_sec * 1000000u +
		    (uint64_t)ts.tv_nsec / 1000u;
		ev->dir = dir;
		memset(ev->proto, 0, sizeof(ev->proto));
		strncpy(ev->proto, proto, sizeof(ev->proto) - 1);
		trace_addr(&ev->local, local);
		trace_addr(&ev->remote, remote);
		ev->len = len;
		memcpy(ev->data, data, len);
	}
	pthread_mutex_lock(&trace_q.lock);
	if (ev == NULL || trace_q.count == TRACE_SLOTS ||
	    trace_q.bytes + len > TRACE_MAX_BYTES) {
		trace_q.dropped++;
	} else {
		trace_q.ev[(trace_q.head + trace_q.count) % TRACE_SLOTS] = ev;
		wake = trace_q.count == 0;
		trace_q.count++;
		trace_q.bytes += len;
		ev = NULL;
	}
	pthread_mutex_unlock(&trace_q.lock);
	free(ev);
	if (wake && trace_q.fd >= 0) {
		(void)!write(trace_q.fd, &one, sizeof(one));
	}
}

size_t
trace_drain(void (*fn)(void *arg, const struct trace_ev *ev), void *arg)
{
	uint64_t v;
	size_t n = 0;

	if (trace_q.fd >= 0) {
		(void)!read(trace_q.fd, &v, sizeof(v));
	}
	for (;;) {
		struct trace_ev *ev = NULL;

		pthread_mutex_lock(&trace_q.lock);
		if (trace_q.count > 0) {
			ev = trace_q.ev[trace_q.head];
			trace_q.ev[trace_q.head] = NULL;
			trace_q.head = (trace_q.head + 1) % TRACE_SLOTS;
			trace_q.count--;
			trace_q.bytes -= ev->len;
		}
		pthread_mutex_unlock(&trace_q.lock);
		if (ev == NULL) {
			break;
		}
		fn(arg, ev);
		free(ev);
		n++;
	}
	return n;
}

unsigned long long
trace_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&trace_q.lock);
	n = trace_q.dropped;
	pthread_mutex_unlock(&trace_q.lock);
	return n;
}
