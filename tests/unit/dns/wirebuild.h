/*
 * A small writer of DNS answers for the tests of sipd/dns: a header, the
 * question, and records of the answer and authority sections, names
 * uncompressed.  Enough to feed the parser and the cache what a server
 * would send.
 */
#ifndef SIPD_TEST_WIREBUILD_H
#define SIPD_TEST_WIREBUILD_H

#include <stdint.h>
#include <string.h>

struct wb {
	uint8_t b[4096];
	size_t n;
	size_t rdlen_at; /* where the open record's rdata length goes */
};

static inline void
wb_u8(struct wb *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static inline void
wb_u16(struct wb *w, unsigned v)
{
	wb_u8(w, v >> 8);
	wb_u8(w, v & 0xff);
}

static inline void
wb_u32(struct wb *w, uint32_t v)
{
	wb_u16(w, v >> 16);
	wb_u16(w, v & 0xffff);
}

static inline void
wb_name(struct wb *w, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		wb_u8(w, (unsigned)l);
		memcpy(w->b + w->n, name, l);
		w->n += l;
		name += l;
		if (*name == '.') {
			name++;
		}
	}
	wb_u8(w, 0);
}

static inline void
wb_str(struct wb *w, const char *s)
{
	wb_u8(w, (unsigned)strlen(s));
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}

/* Header and question; the counts are an, ns. */
static inline void
wb_begin(struct wb *w, unsigned rcode, const char *qname, unsigned qtype,
    unsigned an, unsigned ns)
{
	w->n = 0;
	wb_u16(w, 0x1234);
	wb_u16(w, 0x8180 | rcode);
	wb_u16(w, 1);
	wb_u16(w, an);
	wb_u16(w, ns);
	wb_u16(w, 0);
	wb_name(w, qname);
	wb_u16(w, qtype);
	wb_u16(w, 1);
}

static inline void
wb_rr(struct wb *w, const char *owner, unsigned type, uint32_t ttl)
{
	wb_name(w, owner);
	wb_u16(w, type);
	wb_u16(w, 1);
	wb_u32(w, ttl);
	w->rdlen_at = w->n;
	wb_u16(w, 0);
}

static inline void
wb_end_rr(struct wb *w)
{
	size_t l = w->n - w->rdlen_at - 2;

	w->b[w->rdlen_at] = (uint8_t)(l >> 8);
	w->b[w->rdlen_at + 1] = (uint8_t)l;
}

static inline void
wb_a(struct wb *w, const char *owner, uint32_t ttl, uint8_t a, uint8_t b,
    uint8_t c, uint8_t d)
{
	wb_rr(w, owner, 1, ttl);
	wb_u8(w, a);
	wb_u8(w, b);
	wb_u8(w, c);
	wb_u8(w, d);
	wb_end_rr(w);
}

static inline void
wb_aaaa_last(struct wb *w, const char *owner, uint32_t ttl, uint8_t last)
{
	wb_rr(w, owner, 28, ttl);
	for (int i = 0; i < 15; i++) {
		wb_u8(w, 0);
	}
	wb_u8(w, last); /* ::last */
	wb_end_rr(w);
}

static inline void
wb_cname(struct wb *w, const char *owner, uint32_t ttl, const char *target)
{
	wb_rr(w, owner, 5, ttl);
	wb_name(w, target);
	wb_end_rr(w);
}

static inline void
wb_srv(struct wb *w, const char *owner, uint32_t ttl, unsigned prio,
    unsigned weight, unsigned port, const char *target)
{
	wb_rr(w, owner, 33, ttl);
	wb_u16(w, prio);
	wb_u16(w, weight);
	wb_u16(w, port);
	wb_name(w, target);
	wb_end_rr(w);
}

static inline void
wb_naptr(struct wb *w, const char *owner, uint32_t ttl, unsigned order,
    unsigned pref, const char *flags, const char *service,
    const char *regexp, const char *repl)
{
	wb_rr(w, owner, 35, ttl);
	wb_u16(w, order);
	wb_u16(w, pref);
	wb_str(w, flags);
	wb_str(w, service);
	wb_str(w, regexp);
	wb_name(w, repl);
	wb_end_rr(w);
}

static inline void
wb_soa(struct wb *w, const char *owner, uint32_t ttl, uint32_t minimum)
{
	wb_rr(w, owner, 6, ttl);
	wb_name(w, "ns.example.test");
	wb_name(w, "hostmaster.example.test");
	wb_u32(w, 1);
	wb_u32(w, 3600);
	wb_u32(w, 600);
	wb_u32(w, 86400);
	wb_u32(w, minimum);
	wb_end_rr(w);
}

#endif
