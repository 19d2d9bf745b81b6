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

/* The state while a message goes through: whole words of each piece go
 * in straight from it; the bytes of a word split between two pieces wait
 * in tail. */
struct msg_siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* the ntail bytes of the next word, the first lowest */
	size_t len;    /* bytes so far */
	uint8_t ntail; /* 0 to 7 */
	uint8_t outlen;
};

/* outlen is 8 or 16 */
void msg_siphash_start(struct msg_siphash *s,
    const uint8_t key[MSG_SIPHASH_KEY], size_t outlen);
void msg_siphash_update(struct msg_siphash *s, const void *p, size_t n);

/* A piece of a message for msg_siphash_update_list(). */
struct msg_siphash_piece {
	const void *p;
	size_t len;
};
/*
 * A list as one encoding of it: the byte label, then each of the n pieces
 * after its length as 4 bytes big-endian, so no two lists give the same
 * bytes (a signature's parts, core/mac.c).  The same as that many calls
 * of msg_siphash_update(), the state kept in registers from one piece to
 * the next and the lengths joined to the words without being written.
 */
void msg_siphash_update_list(struct msg_siphash *s, uint8_t label,
    const struct msg_siphash_piece *v, size_t n);
/* out holds the outlen bytes given to msg_siphash_start() */
void msg_siphash_final(struct msg_siphash *s, uint8_t *out);

void msg_siphash(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len, uint8_t *out, size_t outlen);
/* the 64-bit hash as a number, for table indexes */
uint64_t msg_siphash64(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len);

#endif
