/*
 * SipHash-2-4, 64- and 128-bit output (siphash.h).  Words are loaded
 * whole straight from each piece, the state stays in locals while it goes
 * through, and the rounds are written out: signing a Record-Route or a
 * nonce costs a few hundred instructions.  A piece shorter than what its
 * word lacks only joins the tail (a signature's labels and lengths).
 */
#include <endian.h>
#include <string.h>

#include "sipd/msg/siphash.h"

/* The compression state, in locals while a piece goes through: kept in
 * registers, not stored back after every word. */
struct sip_v {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t
sip_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline uint64_t
sip_load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* The n bytes of p (n below 8) as the low bytes of a word, the first
 * lowest: two loads that overlap, or the first, middle and last byte. */
static inline uint64_t
sip_load_short(const uint8_t *p, size_t n)
{
	if (n >= 4) {
		return sip_load32(p) | sip_load32(p + n - 4) << (8 * (n - 4));
	}
	if (n == 0) {
		return 0;
	}
	return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
	    (uint64_t)p[n - 1] << (8 * (n - 1));
}

static inline uint64_t
sip_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
sip_round(struct sip_v *v)
{
	v->v0 += v->v1;
	v->v1 = sip_rotl(v->v1, 13);
	v->v1 ^= v->v0;
	v->v0 = sip_rotl(v->v0, 32);
	v->v2 += v->v3;
	v->v3 = sip_rotl(v->v3, 16);
	v->v3 ^= v->v2;
	v->v0 += v->v3;
	v->v3 = sip_rotl(v->v3, 21);
	v->v3 ^= v->v0;
	v->v2 += v->v1;
	v->v1 = sip_rotl(v->v1, 17);
	v->v1 ^= v->v2;
	v->v2 = sip_rotl(v->v2, 32);
}

/* two compression rounds per word */
static inline void
sip_word(struct sip_v *v, uint64_t m)
{
	v->v3 ^= m;
	sip_round(v);
	sip_round(v);
	v->v0 ^= m;
}

static inline void
sip_finish_rounds(struct sip_v *v)
{
	sip_round(v);
	sip_round(v);
	sip_round(v);
	sip_round(v);
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
	s->tail = 0;
	s->len = 0;
	s->ntail = 0;
}

/* The state while a message goes through, in locals. */
struct sip_in {
	struct sip_v v;
	uint64_t tail; /* the have bytes of the next word, the first lowest */
	size_t have;   /* 0 to 7 */
};

/* n bytes (below 8) whose value is x, the first lowest: into the tail,
 * and the tail into the hash once it is a word. */
static inline void
sip_join(struct sip_in *in, uint64_t x, size_t n)
{
	size_t h = in->have + n;

	in->tail |= x << (8 * in->have);
	if (h >= 8) {
		sip_word(&in->v, in->tail);
		h -= 8;
		/* what of x did not fit (none when h is 0: n is below 8) */
		in->tail = x >> (8 * (n - h));
	}
	in->have = h;
}

/* The n bytes of p: a piece shorter than a word joins the tail;
 * otherwise the word in the tail is completed from the piece, the
 * piece's whole words go in straight from it, and its last bytes
 * become the tail, each loaded as a whole word from within the piece. */
static inline void
sip_piece(struct sip_in *in, const uint8_t *p, size_t n)
{
	if (n < 8) {
		sip_join(in, sip_load_short(p, n), n);
		return;
	}
	if (in->have > 0) {
		size_t k = 8 - in->have;

		sip_word(&in->v, in->tail | sip_load64(p) << (8 * in->have));
		p += k;
		n -= k;
	}
	for (; n >= 8; p += 8, n -= 8) {
		sip_word(&in->v, sip_load64(p));
	}
	/* the piece had 8 bytes at least: p + n - 8 is still in it */
	in->tail = n > 0 ? sip_load64(p + n - 8) >> (8 * (8 - n)) : 0;
	in->have = n;
}

static inline void
sip_in_load(struct sip_in *in, const struct msg_siphash *s)
{
	in->v = (struct sip_v){ s->v0, s->v1, s->v2, s->v3 };
	in->tail = s->tail;
	in->have = s->ntail;
}

static inline void
sip_in_store(struct msg_siphash *s, const struct sip_in *in)
{
	s->v0 = in->v.v0;
	s->v1 = in->v.v1;
	s->v2 = in->v.v2;
	s->v3 = in->v.v3;
	s->tail = in->tail;
	s->ntail = (uint8_t)in->have;
}

void
msg_siphash_update(struct msg_siphash *s, const void *data, size_t n)
{
	struct sip_in in;

	sip_in_load(&in, s);
	sip_piece(&in, data, n);
	sip_in_store(s, &in);
	s->len += n;
}

void
msg_siphash_update_list(struct msg_siphash *s, uint8_t label,
    const struct msg_siphash_piece *v, size_t n)
{
	struct sip_in in;
	size_t len = 1;
	uint64_t pre = label;
	size_t npre = 1;

	sip_in_load(&in, s);
	for (size_t i = 0; i < n; i++) {
		uint32_t l = (uint32_t)v[i].len;

		/* its length, 4 bytes big-endian: the first is the top */
		pre |= (uint64_t)__builtin_bswap32(l) << (8 * npre);
		sip_join(&in, pre, npre + 4);
		sip_piece(&in, v[i].p, v[i].len);
		len += 4 + v[i].len;
		pre = 0;
		npre = 0;
	}
	if (n == 0) {
		sip_join(&in, pre, 1);
	}
	sip_in_store(s, &in);
	s->len += len;
}

void
msg_siphash_final(struct msg_siphash *s, uint8_t *out)
{
	struct sip_v v = { s->v0, s->v1, s->v2, s->v3 };
	uint64_t h;

	/* the last word: what is left, and the length modulo 256 on top */
	sip_word(&v, s->tail | (uint64_t)(s->len & 0xff) << 56);
	v.v2 ^= s->outlen == 16 ? 0xee : 0xff;
	sip_finish_rounds(&v);
	h = htole64(v.v0 ^ v.v1 ^ v.v2 ^ v.v3);
	memcpy(out, &h, sizeof(h));
	if (s->outlen != 16) {
		return;
	}
	v.v1 ^= 0xdd;
	sip_finish_rounds(&v);
	h = htole64(v.v0 ^ v.v1 ^ v.v2 ^ v.v3);
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
