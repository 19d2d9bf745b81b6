/*
 * dns, private: the records we keep, the wire parser, the pure rules of
 * RFC 3263 and RFC 2782, and the cache.  Shared by the files of
 * sipd/dns/ and its unit tests.
 */
#ifndef SIPD_DNS_INT_H
#define SIPD_DNS_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ares.h>

#include "sipd/dns/dns.h"

/* RR types (RFC 1035, 3596, 2782, 3403) */
enum {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
};

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

#define DNS_NAME_MAX 255      /* presentation form, without the final dot */
#define DNS_MAX_RRS 64        /* records read from one answer, more ignored */
#define DNS_MAX_CNAMES 8      /* a longer chain in one answer is ignored */
#define DNS_MAX_TARGETS 32    /* targets in one list */
#define DNS_MAX_NAPTR 4       /* NAPTR records followed */
#define DNS_MAX_SRV 16        /* SRV records followed per name */
#define DNS_QUERY_SLOTS 48    /* lookups one query holds */
#define DNS_FAILED_MAX 64     /* failed targets remembered */

struct dns_srv {
	uint16_t prio, weight, port;
	const char *target; /* lower case; "" is the root: no service */
};

struct dns_naptr {
	uint16_t order, pref;
	const char *flags, *service, *regexp;
	const char *repl;   /* lower case; "" is the root */
};

struct dns_rr {
	union {
		struct in_addr a;
		struct in6_addr aaaa;
		struct dns_srv srv;
		struct dns_naptr naptr;
	} u;
};

/*
 * A parsed answer.  Records and their strings live in one block (rr);
 * dns_answer_fini() frees it.
 */
struct dns_answer {
	int rcode;
	uint16_t type;
	uint32_t ttl;      /* the least TTL of the records and the CNAMEs */
	bool has_soa;
	uint32_t neg_ttl;  /* RFC 2308 5: min(SOA TTL, SOA minimum) */
	size_t n;
	struct dns_rr *rr;
};

/*
 * Parse the answer buf[0..len) to a query for (qname, qtype): follows a
 * CNAME chain from qname inside the answer, keeps the records of qtype of
 * the chain's end, and the SOA of the authority section.  Malformed
 * records are skipped.  Returns 0, -EBADMSG (no usable header or
 * question) or -ENOMEM.  qname is lower case, without the final dot.
 */
int dns_wire_parse(const uint8_t *buf, size_t len, const char *qname,
    uint16_t qtype, struct dns_answer *a);
void dns_answer_fini(struct dns_answer *a);

/* Lower-case copy of src into dst (DNS_NAME_MAX + 1 bytes), without a
 * final dot; -EINVAL when too long or empty. */
int dns_name_norm(char *dst, const char *src, size_t len);

/*
 * RFC 2782: order v[0..n) by priority, ascending, and within a priority
 * by weighted random selection, rnd(arg) being the random source.
 */
void dns_srv_order(struct dns_srv *v, size_t n, uint32_t (*rnd)(void *),
    void *arg);

/* A usable NAPTR record: the transport it offers and the SRV name. */
struct dns_naptr_pick {
	enum dns_tp tp;
	const char *repl;
};

/*
 * RFC 3263 4.1: the NAPTR records of rr[0..n) a client with transports
 * tps (DNS_TP_BIT) may follow, for a sips: URI if sips, in order, into
 * out[0..cap).  Returns how many.
 */
size_t dns_naptr_select(const struct dns_rr *rr, size_t n, bool sips,
    unsigned tps, struct dns_naptr_pick *out, size_t cap);

/* The service name of tp: "_sip._udp", "_sip._tcp", "_sips._tcp". */
const char *dns_srv_prefix(enum dns_tp tp);

/* The transport named by a transport parameter, or -1. */
int dns_tp_param(const char *s, size_t len);

/*
 * RFC 3263 4.1, first step: the transport of rq when fixed without any
 * lookup (explicit parameter, numeric IP, explicit port): 0 and *tp,
 * 1 when NAPTR/SRV decide, or -EPROTONOSUPPORT.  is_ip: the host is a
 * numeric IP.
 */
int dns_tp_fixed(const struct dns_req *rq, bool is_ip, enum dns_tp *tp);

/* The transport for A/AAAA with no NAPTR and SRV: UDP for sip: (TCP when
 * no UDP), TLS for sips:; -EPROTONOSUPPORT when not in tps. */
int dns_tp_default(bool sips, unsigned tps, enum dns_tp *tp);

/* ---- c-ares on libevent (chan.c) ---- */

struct dns_chan;

/*
 * A c-ares channel on base with conf's servers, timeout and tries; idle(arg)
 * is called when a draining channel has no lookup left on the wire (from
 * inside c-ares: free it later, from the loop).  NULL with a message.
 */
struct dns_chan *dns_chan_new(struct event_base *base,
    const struct dns_conf *conf, void (*idle)(void *arg), void *arg,
    char *err, size_t cap);
/* Ends every lookup on the wire (ARES_EDESTRUCTION).  Accepts NULL. */
void dns_chan_free(struct dns_chan *c);
/* Send the lookup (name, type); fn(arg, ...) when it ends, perhaps at
 * once. */
void dns_chan_query(struct dns_chan *c, const char *name, uint16_t type,
    ares_callback fn, void *arg);
/* Mark c as replaced; true when nothing of it is on the wire. */
bool dns_chan_drain(struct dns_chan *c);
bool dns_chan_idle(const struct dns_chan *c);
/* The link of the owner's list of draining channels. */
struct dns_chan **dns_chan_next(struct dns_chan *c);
/* 0 when servers ("" or "addr:port,...") is a list c-ares takes, or
 * -EINVAL with a message. */
int dns_chan_check_servers(const char *servers, char *err, size_t cap);

/* ---- the cache (cache.c) ---- */

enum dns_estate {
	DNS_E_PENDING,
	DNS_E_OK,
	DNS_E_NXDOMAIN,
	DNS_E_NODATA,
	DNS_E_FAILED,
};

struct dns_slot;

struct dns_entry {
	struct dns_entry *hnext;        /* hash chain */
	struct dns_entry *lprev, *lnext; /* LRU list, most recent first */
	unsigned refs;                  /* queries and lookups holding it */
	bool in_cache;
	enum dns_estate state;
	int err;                        /* DNS_E_FAILED: -ETIMEDOUT, -EIO */
	uint16_t type;
	uint32_t hash;
	uint64_t expires;               /* ms, on the resolver's clock */
	struct dns_answer ans;
	struct dns_slot *waiters;       /* DNS_E_PENDING: who waits */
	struct dns *d;
	size_t name_len;
	char name[];
};

struct dns_cache {
	struct dns_entry **buckets;
	size_t nbuckets;   /* a power of two */
	size_t count;
	size_t max;
	struct dns_entry *lru_head, *lru_tail;
	uint64_t seed;     /* of the bucket hash */
};

int dns_cache_init(struct dns_cache *c, size_t max);
void dns_cache_fini(struct dns_cache *c);

/* The entry for (name, type), expired or not, or NULL. */
struct dns_entry *dns_cache_find(struct dns_cache *c, const char *name,
    size_t len, uint16_t type);

/*
 * A new pending entry for (name, type), put in the cache in place of any
 * old one (which lives on while held); the least recently used entries
 * nobody holds make room.  refs is 1 (the cache's).  NULL on ENOMEM.
 */
struct dns_entry *dns_cache_add(struct dns_cache *c, struct dns *d,
    const char *name, size_t len, uint16_t type);

/* Take entry e out of the cache (it lives on while held). */
void dns_cache_remove(struct dns_cache *c, struct dns_entry *e);

/* Move e to the front of the LRU list. */
void dns_cache_touch(struct dns_cache *c, struct dns_entry *e);

/* Drop every entry, or every one that is not pending (a pending one
 * taken out still serves the requests waiting for it). */
void dns_cache_flush(struct dns_cache *c, bool pending);

void dns_entry_ref(struct dns_entry *e);
void dns_entry_unref(struct dns_entry *e);

/*
 * Complete pending entry e with the answer abuf[0..alen) (NULL with
 * status err < 0 when none came) at time now: OK, NXDOMAIN or NODATA with
 * the TTL capped by ttl_max and neg_max (seconds), or FAILED.
 */
void dns_entry_complete(struct dns_entry *e, const uint8_t *abuf,
    size_t alen, int err, uint64_t now, unsigned ttl_max,
    unsigned neg_max);

/* The cache of resolver d, and its clock: for tests and benchmarks. */
struct dns_cache *dns_cache_of(struct dns *d);
uint64_t dns_now(struct dns *d);

/* Type name for listings: "SRV". */
const char *dns_type_name(uint16_t type);

#endif
