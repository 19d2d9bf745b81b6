/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), the one keyed hash of the daemon: the
 * signatures sipd hands to peers (core/mac.c), its Digest nonces and the
 * indexes of tables whose keys a peer chooses (auth).  Output of 8 bytes
 * (the 64-bit hash, little-endian) or 16 (the 128-bit variant).  Fed in
 * pieces or at once; no allocation, no lock.
 */
#ifndef SIPD_MSG_SIPHASH_H
#define SIPD_MSG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define MSG_SIPHASH_KEY 16

/* The state while a message goes through: bytes gather in buf and go
 * in whole words. */
struct msg_siphash {
	uint64_t v0, v1, v2, v3;
	size_t len;  /* bytes so far */
	size_t nbuf; /* bytes in buf */
	uint8_t outlen;
	uint8_t buf[128];
};

/* outlen is 8 or 16 */
void msg_siphash_start(struct msg_siphash *s,
    const uint8_t key[MSG_SIPHASH_KEY], size_t outlen);
void msg_siphash_update(struct msg_siphash *s, const void *p, size_t n);
/* out holds the outlen bytes given to msg_siphash_start() */
void msg_siphash_final(struct msg_siphash *s, uint8_t *out);

void msg_siphash(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len, uint8_t *out, size_t outlen);
/* the 64-bit hash as a number, for table indexes */
uint64_t msg_siphash64(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len);

#endif
