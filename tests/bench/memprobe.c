/*
 * memprobe: a preloaded library that lets bench_ringmem.py read the heap
 * of a running sipd exactly.  It counts every malloc, calloc, realloc,
 * memalign and free, and a thread of its own answers each line written
 * to the FIFO $MEMPROBE_REQ with one line on the FIFO $MEMPROBE_RESP:
 *
 *   inuse=B mmap=B allocs=N frees=N
 *
 * inuse is mallinfo2()'s uordblks (bytes of chunks in use, headers
 * included, over every arena), mmap its hblkhd (chunks mmap()ed alone).
 * Differences over a number of calls are what the calls hold, free of
 * the page and fragmentation noise that RSS and PSS carry.  Built by
 * bench_ringmem.py with cc -shared; loopback benchmarking only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static _Atomic uint64_t mp_allocs, mp_frees;

static void
mp_count(const void *p)
{
	if (p != NULL) {
		atomic_fetch_add_explicit(&mp_allocs, 1, memory_order_relaxed);
	}
}

void *
malloc(size_t n)
{
	void *p = __libc_malloc(n);

	mp_count(p);
	return p;
}

void *
calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);

	mp_count(p);
	return p;
}

void *
realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);

	if (old == NULL) {
		mp_count(p);
	} else if (n == 0 && p == NULL) {
		atomic_fetch_add_explicit(&mp_frees, 1, memory_order_relaxed);
	}
	return p;
}

void *
memalign(size_t align, size_t n)
{
	void *p = __libc_memalign(align, n);

	mp_count(p);
	return p;
}

void *
aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p = memalign(align, n);

	if (p == NULL) {
		return 12; /* ENOMEM */
	}
	*out = p;
	return 0;
}

void
free(void *p)
{
	if (p != NULL) {
		atomic_fetch_add_explicit(&mp_frees, 1, memory_order_relaxed);
	}
	__libc_free(p);
}

static void *
mp_serve(void *arg)
{
	const char *req = getenv("MEMPROBE_REQ");
	const char *resp = getenv("MEMPROBE_RESP");

	(void)arg;
	/* bounded by the process: it ends with sipd */
	for (;;) {
		char line[256];
		int fd = open(req, O_RDONLY);

		if (fd < 0) {
			return NULL;
		}
		ssize_t r = read(fd, line, sizeof(line));
		close(fd);
		if (r <= 0) {
			continue;
		}
		struct mallinfo2 mi = mallinfo2();
		int n = snprintf(line, sizeof(line),
		    "inuse=%zu mmap=%zu allocs=%llu frees=%llu\n", mi.uordblks,
		    mi.hblkhd, (unsigned long long)atomic_load(&mp_allocs),
		    (unsigned long long)atomic_load(&mp_frees));
		fd = open(resp, O_WRONLY);
		if (fd < 0) {
			return NULL;
		}
		if (write(fd, line, (size_t)n) != n) {
			close(fd);
			return NULL;
		}
		close(fd);
	}
}

__attribute__((constructor)) static void
mp_start(void)
{
	pthread_t th;

	if (getenv("MEMPROBE_REQ") == NULL || getenv("MEMPROBE_RESP") == NULL) {
		return;
	}
	if (pthread_create(&th, NULL, mp_serve, NULL) == 0) {
		pthread_detach(th);
	}
}
