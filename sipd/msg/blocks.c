/*
 * A per-thread cache of message blocks.  Every received message is one
 * allocation of about the same size (msg_parse()'s inline header slots,
 * arena and buffer); a worker frees one and allocates the next many times
 * a second.  Keeping a few freed blocks per thread, without locks, spares
 * malloc() and free() that round trip.  The cache is bounded (a block
 * freed into a full cache goes back to free()) and emptied when its
 * thread exits.  A block freed on another thread than the one that took
 * it joins the freeing thread's cache: blocks are all alike.
 */
#include <pthread.h>
#include <stdlib.h>

#include "sipd/msg/msg_int.h"

/* under AddressSanitizer a cached block is poisoned, so that a use
 * after msg_free() is still caught */
#if defined(__SANITIZE_ADDRESS__)
#define BLOCK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLOCK_ASAN 1
#endif
#endif
#ifdef BLOCK_ASAN
#include <sanitizer/asan_interface.h>
#define BLOCK_POISON(p) ASAN_POISON_MEMORY_REGION((p), MSG_BLOCK_BYTES)
#define BLOCK_UNPOISON(p) ASAN_UNPOISON_MEMORY_REGION((p), MSG_BLOCK_BYTES)
#else
#define BLOCK_POISON(p) ((void)(p))
#define BLOCK_UNPOISON(p) ((void)(p))
#endif

#define BLOCK_CACHE_MAX 8

struct block_cache {
	unsigned n;
	bool keyed; /* the key's destructor will empty it */
	bool dead;  /* its thread is exiting: free(), cache nothing */
	void *b[BLOCK_CACHE_MAX];
};

/* Per thread by definition: no state is shared between threads. */
static _Thread_local struct block_cache block_cache;
static pthread_key_t block_key;
static pthread_once_t block_once = PTHREAD_ONCE_INIT;
static bool block_key_ok;

static void
block_cache_drain(void *arg)
{
	struct block_cache *c = arg;

	c->dead = true;
	while (c->n > 0) {
		void *p = c->b[--c->n];
		BLOCK_UNPOISON(p);
		free(p);
	}
}

static void
block_key_init(void)
{
	block_key_ok = pthread_key_create(&block_key, block_cache_drain) == 0;
}

void *
msg_block_get(void)
{
	struct block_cache *c = &block_cache;

	if (c->n > 0) {
		void *p = c->b[--c->n];
		BLOCK_UNPOISON(p);
		return p;
	}
	return malloc(MSG_BLOCK_BYTES);
}

void
msg_block_put(void *p)
{
	struct block_cache *c = &block_cache;

	if (c->n == BLOCK_CACHE_MAX || c->dead) {
		free(p);
		return;
	}
	if (!c->keyed) {
		/* the first block this thread keeps: have its exit free
		 * them (the main thread's stay reachable until exit) */
		pthread_once(&block_once, block_key_init);
		if (!block_key_ok || pthread_setspecific(block_key, c) != 0) {
			free(p);
			return;
		}
		c->keyed = true;
	}
	BLOCK_POISON(p);
	c->b[c->n++] = p;
}
