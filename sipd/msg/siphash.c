/*
 * SipHash-2-4, 64- and 128-bit output (siphash.h).  Words are loaded
 * whole and the rounds written out: signing a Record-Route or a nonce
 * costs a few hundred instructions.
 */
#include <endian.h>
#include <string.h>

#include "sipd/msg/siphash.h"

static inline uint64_t
sip_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline uint64_t
sip_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
sip_round(struct msg_siphash *s)
{
	s->v0 += s->v1;
	s->v1 = sip_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = sip_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = sip_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = sip_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = sip_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = sip_rotl(s->v2, 32);
}

/* two compression rounds per word */
static inline void
sip_word(struct msg_siphash *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static inline void
sip_finish_rounds(struct msg_siphash *s)
{
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
}

void
msg_siphash_start(struct msg_siphash *s, const uint8_t key[MSG_SIPHASH_KEY],
    size_t outlen)
{
	uint64_t k0 = sip_load64(key), k1 = sip_load64(key + 8);

	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
	s->outlen = outlen == 16 ? 16 : 8;
	if (s->outlen == 16) {
		/* the 128-bit output marks the start and the finish */
		s->v1 ^= 0xee;
	}
	s->len = 0;
	s->nbuf = 0;
}

/* The whole words of buf; what is left of one moves to the front. */
static void
sip_flush(struct msg_siphash *s)
{
	size_t i;

	for (i = 0; i + 8 <= s->nbuf; i += 8) {
		sip_word(s, sip_load64(s->buf + i));
	}
	for (size_t k = 0; i + k < s->nbuf; k++) {
		s->buf[k] = s->buf[i + k];
	}
	s->nbuf -= i;
}

void
msg_siphash_update(struct msg_siphash *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	s->len += n;
	while (n > 0) {
		size_t k = sizeof(s->buf) - s->nbuf;

		if (k > n) {
			k = n;
		}
		memcpy(s->buf + s->nbuf, p, k);
		s->nbuf += k;
		p += k;
		n -= k;
		if (s->nbuf == sizeof(s->buf)) {
			sip_flush(s);
		}
	}
}

void
msg_siphash_final(struct msg_siphash *s, uint8_t *out)
{
	uint64_t h;
	uint64_t last = (uint64_t)(s->len & 0xff) << 56;

	sip_flush(s);
	/* the last word: what is left, and the length modulo 256 on top */
	for (size_t i = 0; i < s->nbuf; i++) {
		last |= (uint64_t)s->buf[i] << (8 * i);
	}
	sip_word(s, last);
	s->v2 ^= s->outlen == 16 ? 0xee : 0xff;
	sip_finish_rounds(s);
	h = htole64(s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
	memcpy(out, &h, sizeof(h));
	if (s->outlen != 16) {
		return;
	}
	s->v1 ^= 0xdd;
	sip_finish_rounds(s);
	h = htole64(s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
	memcpy(out + 8, &h, sizeof(h));
}

void
msg_siphash(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len, uint8_t *out, size_t outlen)
{
	struct msg_siphash s;

	msg_siphash_start(&s, key, outlen);
	msg_siphash_update(&s, data, len);
	msg_siphash_final(&s, out);
}

uint64_t
msg_siphash64(const uint8_t key[MSG_SIPHASH_KEY], const void *data,
    size_t len)
{
	uint8_t out[8];

	msg_siphash(key, data, len, out, sizeof(out));
	return sip_load64(out);
}
