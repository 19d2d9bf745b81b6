/*
 * Helpers shared by the fuzz targets: invariant checks that abort, so
 * libFuzzer (and the replay driver) report a broken promise of msg.h as a
 * crash, and a sink that keeps reads from being optimised away.
 */
#ifndef SIPD_FUZZ_CHECK_H
#define SIPD_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sipd/msg/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message when cond is false: a contract of msg.h is broken. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Read every byte of v, so ASan sees a bad pointer or length. */
static inline void
fuzz_touch(const char *p, size_t len)
{
	static volatile unsigned char fuzz_sink;
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		acc ^= (unsigned char)p[i];
	}
	fuzz_sink = (unsigned char)(fuzz_sink ^ acc);
}

/* A span must lie inside the len bytes it indexes. */
static inline void
fuzz_span(struct span s, size_t len)
{
	FUZZ_CHECK((uint64_t)s.off + s.len <= len);
}

#endif
