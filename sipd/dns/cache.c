/*
 * cache: the resolver's answers, one entry per (name, type), in a hash
 * table with a least-recently-used list.  An entry is pending while its
 * query is on the wire (the requests that need it wait on it), then holds
 * records, a negative answer or a failure until its TTL runs out.  An
 * entry is reference counted: the cache holds it while it is listed, the
 * query on the wire and each request that read it hold it too, so that a
 * request keeps what it was given even when the cache lets go (full,
 * expired, flushed).  The cache is bounded by its entry count: a new entry
 * pushes out the least recently used one nobody else holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sipd/dns/dns_int.h"
#include "sipd/msg/msg.h"

static uint32_t
hash_name(const struct dns_cache *c, const char *name, size_t len,
    uint16_t type)
{
	/* names come from Request-URIs a peer writes: a secret start, so
	 * the buckets they land in cannot be chosen */
	uint64_t h = msg_fnv1a(c->seed, name, len);

	h = msg_fnv1a(h, &type, sizeof(type));
	return (uint32_t)(h ^ (h >> 32));
}

int
dns_cache_init(struct dns_cache *c, size_t max)
{
	size_t nb = 64;

	memset(c, 0, sizeof(*c));
	if (max == 0) {
		max = 1;
	}
	while (nb < max && nb < ((size_t)1 << 24)) {
		nb <<= 1;
	}
	c->buckets = calloc(nb, sizeof(c->buckets[0]));
	if (c->buckets == NULL) {
		return -ENOMEM;
	}
	c->nbuckets = nb;
	c->max = max;
	if (getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed)) {
		c->seed = MSG_FNV_INIT ^ (uint64_t)(uintptr_t)c;
	}
	return 0;
}

void
dns_entry_ref(struct dns_entry *e)
{
	e->refs++;
}

void
dns_entry_unref(struct dns_entry *e)
{
	if (e == NULL || --e->refs > 0) {
		return;
	}
	dns_answer_fini(&e->ans);
	free(e);
}

static void
unlink_entry(struct dns_cache *c, struct dns_entry *e)
{
	struct dns_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != e) {
		pp = &(*pp)->hnext;
	}
	if (*pp == e) {
		*pp = e->hnext;
	}
	if (e->lprev != NULL) {
		e->lprev->lnext = e->lnext;
	} else {
		c->lru_head = e->lnext;
	}
	if (e->lnext != NULL) {
		e->lnext->lprev = e->lprev;
	} else {
		c->lru_tail = e->lprev;
	}
	e->hnext = e->lprev = e->lnext = NULL;
	e->in_cache = false;
	c->count--;
}

void
dns_cache_remove(struct dns_cache *c, struct dns_entry *e)
{
	if (!e->in_cache) {
		return;
	}
	unlink_entry(c, e);
	dns_entry_unref(e);
}

void
dns_cache_fini(struct dns_cache *c)
{
	while (c->lru_head != NULL) {
		dns_cache_remove(c, c->lru_head);
	}
	free(c->buckets);
	c->buckets = NULL;
}

struct dns_entry *
dns_cache_find(struct dns_cache *c, const char *name, size_t len,
    uint16_t type)
{
	uint32_t h = hash_name(c, name, len, type);

	for (struct dns_entry *e = c->buckets[h & (c->nbuckets - 1)];
	    e != NULL; e = e->hnext) {
		if (e->hash == h && e->type == type && e->name_len == len &&
		    memcmp(e->name, name, len) == 0) {
			return e;
		}
	}
	return NULL;
}

void
dns_cache_touch(struct dns_cache *c, struct dns_entry *e)
{
	if (!e->in_cache || c->lru_head == e) {
		return;
	}
	e->lprev->lnext = e->lnext;
	if (e->lnext != NULL) {
		e->lnext->lprev = e->lprev;
	} else {
		c->lru_tail = e->lprev;
	}
	e->lprev = NULL;
	e->lnext = c->lru_head;
	c->lru_head->lprev = e;
	c->lru_head = e;
}

struct dns_entry *
dns_cache_add(struct dns_cache *c, struct dns *d, const char *name,
    size_t len, uint16_t type)
{
	struct dns_entry *old = dns_cache_find(c, name, len, type);

	if (old != NULL) {
		dns_cache_remove(c, old);
	}
	/* make room: the least recently used entries only the cache holds
	 * (a pending or held entry stays; then the cache runs over its
	 * bound by the entries in use, which the queries bound) */
	struct dns_entry *v = c->lru_tail;
	for (unsigned scan = 0; c->count >= c->max && v != NULL &&
	    scan < 64; scan++) {
		struct dns_entry *prev = v->lprev;

		if (v->refs == 1 && v->state != DNS_E_PENDING) {
			dns_cache_remove(c, v);
		}
		v = prev;
	}

	struct dns_entry *e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL) {
		return NULL;
	}
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->name_len = len;
	e->type = type;
	e->hash = hash_name(c, name, len, type);
	e->state = DNS_E_PENDING;
	e->refs = 1;
	e->in_cache = true;
	e->d = d;
	size_t b = e->hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	e->lnext = c->lru_head;
	if (c->lru_head != NULL) {
		c->lru_head->lprev = e;
	} else {
		c->lru_tail = e;
	}
	c->lru_head = e;
	c->count++;
	return e;
}

void
dns_cache_flush(struct dns_cache *c, bool pending)
{
	struct dns_entry *e = c->lru_head;

	while (e != NULL) {
		struct dns_entry *next = e->lnext;

		if (pending || e->state != DNS_E_PENDING) {
			dns_cache_remove(c, e);
		}
		e = next;
	}
}

void
dns_entry_complete(struct dns_entry *e, const uint8_t *abuf, size_t alen,
    int err, uint64_t now, unsigned ttl_max, unsigned neg_max)
{
	uint64_t ttl = 0;

	if (abuf == NULL) {
		e->state = DNS_E_FAILED;
		e->err = err < 0 ? err : -EIO;
		return;
	}
	int rc = dns_wire_parse(abuf, alen, e->name, e->type, &e->ans);
	if (rc < 0) {
		e->state = DNS_E_FAILED;
		e->err = rc == -ENOMEM ? -ENOMEM : -EIO;
		return;
	}
	if (e->ans.rcode == DNS_RCODE_NXDOMAIN && e->ans.n == 0) {
		e->state = DNS_E_NXDOMAIN;
	} else if (e->ans.rcode == DNS_RCODE_NOERROR && e->ans.n == 0) {
		e->state = DNS_E_NODATA;
	} else if (e->ans.rcode == DNS_RCODE_NOERROR) {
		e->state = DNS_E_OK;
	} else {
		/* SERVFAIL, REFUSED, ... that c-ares let through */
		dns_answer_fini(&e->ans);
		e->state = DNS_E_FAILED;
		e->err = -EIO;
		return;
	}
	if (e->state == DNS_E_OK) {
		ttl = e->ans.ttl < ttl_max ? e->ans.ttl : ttl_max;
	} else if (e->ans.has_soa) {
		/* RFC 2308 5: negative answers live for the SOA's minimum
		 * (bounded by its own TTL), capped by the setting */
		ttl = e->ans.neg_ttl < neg_max ? e->ans.neg_ttl : neg_max;
	}
	/* RFC 2308 5: without an SOA a negative answer is not cached
	 * (ttl 0: it serves the requests waiting, then goes) */
	e->expires = now + ttl * 1000;
}

const char *
dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_SRV:
		return "SRV";
	case DNS_T_NAPTR:
		return "NAPTR";
	default:
		return "?";
	}
}
