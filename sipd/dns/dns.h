/*
 * dns: where a SIP URI's host leads, by RFC 3263.
 *
 * One resolver (struct dns) per worker, driven by that worker's event_base:
 * c-ares sends the queries and matches the answers, which the resolver
 * reads itself (TTLs, CNAME chains, the SOA of negative answers); c-ares's
 * sockets are watched with libevent events and its timeouts with a timer,
 * so a lookup never blocks the worker.  Nothing is shared between
 * resolvers.
 *
 * Given a URI's host, port, transport parameter and scheme, dns_resolve()
 * returns the ordered list of targets (transport, address, port):
 *
 *   RFC 3263 4.1, the transport: an explicit transport parameter wins
 *   (sips: with transport=tcp is TLS); a numeric IP, or a name with an
 *   explicit port, takes the default (UDP for sip:, TLS for sips:).
 *   Otherwise the domain's NAPTR records are read: flags "S", services
 *   SIP+D2U, SIP+D2T and SIPS+D2T (only SIPS+D2T for sips:), an empty
 *   regexp, and only transports the caller can use (it has listeners for
 *   them); of those, the lowest order is kept (RFC 3403 4.1), sorted by
 *   preference, and each replacement's SRV records are followed.  With no
 *   usable NAPTR record (or none whose SRV name has records) the SRV
 *   names are probed: _sip._udp, _sip._tcp and _sips._tcp (_sips._tcp
 *   only for sips:).  With no SRV record either, the host's A and AAAA
 *   records are used.  An NXDOMAIN for the host's NAPTR ends it there:
 *   the name has no SRV or A record either.  A server that fails or does
 *   not answer the host's first lookup ends it too (-ETIMEDOUT, -EIO),
 *   rather than waiting out every later step.
 *
 *   RFC 3263 4.2, the port: an explicit port with A/AAAA only; the SRV
 *   record's port; otherwise 5060, or 5061 for TLS.
 *
 *   RFC 2782: SRV records by priority, ascending, and within a priority
 *   by weighted random selection (the random source is the caller's, see
 *   dns_set_random(), so that tests are deterministic).  Both address
 *   families, in the order the request prefers.
 *
 * The cache: answers are kept per (name, type) for their TTL, negative
 * answers (NXDOMAIN, NODATA) for the SOA minimum of RFC 2308 5 capped by
 * dns_conf.neg_ttl_max_s (not at all without an SOA); the least recently
 * used entry goes when the cache is full.  A lookup already on the wire is
 * shared by every request waiting for it.  When the whole chain is cached
 * dns_resolve() answers at once, without a callback.
 *
 * Failover (RFC 3263 4.3): the target list is the retry order for the
 * whole transaction.  The caller takes dns_targets_next() for the first
 * attempt and again after a transport error, a Timer B/F expiry or a 503,
 * and reports the target that failed with dns_target_failed(): it is then
 * avoided (placed after the others in new lists) for
 * dns_conf.blacklist_ms.  Each new attempt is a new client transaction
 * (RFC 3263 4.3: the same request with a new Via branch).
 *
 * The design rule of the layers holds: the resolver knows no SIP message
 * and no transport; enum dns_tp has the order of the transport's
 * enum tp_proto so that the caller maps one to the other by value.
 */
#ifndef SIPD_DNS_H
#define SIPD_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct dns;
struct dns_query;
struct dns_targets;

enum dns_tp {
	DNS_TP_UDP,
	DNS_TP_TCP,
	DNS_TP_TLS,
	DNS__TP_COUNT
};
#define DNS_TP_BIT(tp) (1u << (tp))
#define DNS_TP_ALL (DNS_TP_BIT(DNS_TP_UDP) | DNS_TP_BIT(DNS_TP_TCP) | \
	DNS_TP_BIT(DNS_TP_TLS))

#define DNS_PORT_SIP 5060
#define DNS_PORT_SIPS 5061

/* "udp", "tcp", "tls". */
const char *dns_tp_name(enum dns_tp tp);

/*
 * The resolver's parameters; the later settings `dns server`, `dns
 * timeout` and friends map onto these fields one to one.
 */
#define DNS_SERVERS_MAX 256
struct dns_conf {
	/* "192.0.2.1:53,[2001:db8::1]:53"; "" for /etc/resolv.conf */
	char servers[DNS_SERVERS_MAX];
	/* each try waits timeout_ms; c-ares doubles it after each round of
	 * the servers, so with one server and tries 1 a lookup fails after
	 * timeout_ms */
	unsigned timeout_ms;
	unsigned tries;
	unsigned cache_size;    /* entries, each a (name, type) */
	unsigned neg_ttl_max_s; /* cap on negative caching, RFC 2308 5 */
	unsigned ttl_max_s;     /* cap on positive caching */
	unsigned blacklist_ms;  /* how long a failed target is avoided */
};

#define DNS_DEFAULT_TIMEOUT_MS 2000
#define DNS_DEFAULT_TRIES 2
#define DNS_DEFAULT_CACHE_SIZE 4096
#define DNS_DEFAULT_NEG_TTL_MAX_S 300
#define DNS_DEFAULT_TTL_MAX_S 86400
#define DNS_DEFAULT_BLACKLIST_MS 60000

#define DNS_TIMEOUT_MS_MAX 60000
#define DNS_TRIES_MAX 10
#define DNS_CACHE_SIZE_MAX (1u << 22)
#define DNS_TTL_MAX_S 604800

/* Fill c with the defaults above (servers from /etc/resolv.conf). */
void dns_conf_default(struct dns_conf *c);

/*
 * 0 when c is usable (ranges above, a server list c-ares accepts:
 * addresses with optional ports, IPv6 in brackets), or -EINVAL with a
 * message in err[0..cap): "dns, timeout 0 ms out of range (1-60000)".
 * For `sipd -t` and the settings, before anything is applied.
 */
int dns_conf_check(const struct dns_conf *c, char *err, size_t cap);

/*
 * A resolver on base.  Returns NULL with a message in err[0..cap)
 * ("dns, bad server list '...' (...)").
 */
struct dns *dns_new(struct event_base *base, const struct dns_conf *c,
    char *err, size_t cap);

/*
 * Apply c to a running resolver.  New servers, timeout or tries take a new
 * c-ares channel for every lookup from now on, while the old one finishes
 * the lookups it has on the wire (no request is failed by the change), and
 * empty the cache.  The cache bound and the TTL caps apply to entries added
 * from now on.  Returns 0, or -EINVAL with a message and nothing changed.
 */
int dns_configure(struct dns *d, const struct dns_conf *c, char *err,
    size_t cap);

/*
 * Close the resolver: outstanding queries are dropped without their
 * callbacks.  Not from inside a dns callback.  Accepts NULL.
 */
void dns_free(struct dns *d);

/*
 * The clock (milliseconds, monotonic) and the random source the resolver
 * uses; by default CLOCK_MONOTONIC and a generator seeded by getrandom().
 * For tests and benchmarks.
 */
void dns_set_clock(struct dns *d, uint64_t (*now_ms)(void *arg), void *arg);
void dns_set_random(struct dns *d, uint32_t (*rnd)(void *arg), void *arg);

/* One destination to try. */
struct dns_target {
	enum dns_tp tp;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;  /* the port is in it, network order */
	socklen_t addr_len;
};

#define DNS_AF_INET 1u
#define DNS_AF_INET6 2u

/* What to resolve: the parts of a sip: or sips: URI. */
struct dns_req {
	/* RFC 3263 4: the TARGET, the maddr parameter when there is one,
	 * else the host; a name or IP, IPv6 in brackets or not */
	const char *host;
	size_t host_len;
	uint16_t port;     /* 0: none in the URI */
	const char *transport; /* the transport parameter, NULL if none */
	size_t transport_len;
	bool sips;
	unsigned tps;      /* DNS_TP_BIT() of the transports we can use */
	unsigned families; /* DNS_AF_*; 0 for both */
	bool prefer_inet6; /* AAAA before A */
};

/*
 * Called once when a query ends: rc 0 and the targets (the callee owns
 * them: dns_targets_free()), or rc < 0 and t NULL.  The callback may call
 * dns_resolve() and dns_cancel(), not dns_free().
 */
typedef void dns_done_fn(void *arg, int rc, struct dns_targets *t);

/*
 * Resolve rq.  Returns:
 *   0: answered from the cache; *out holds the targets (the caller owns
 *      them), fn is not called;
 *   1: on its way; *q is the query (for dns_cancel()) and fn is called
 *      later from the event loop, never from inside dns_resolve();
 *   -EAGAIN: fn is NULL (from the cache only, nothing sent) and the
 *      cache does not hold the answer;
 *   < 0: -EINVAL (not a host name), -EPROTONOSUPPORT (no usable
 *      transport, sips: over UDP), -EAFNOSUPPORT (an IP of a family not
 *      asked for), -ENOENT (the name does not exist, cached), -ENODATA
 *      (no SIP target, cached), -ENOMEM.
 * The same errors, and -ETIMEDOUT (no answer) or -EIO (the server
 * failed), reach fn.  Nothing of rq is kept after the call.
 */
int dns_resolve(struct dns *d, const struct dns_req *rq, dns_done_fn *fn,
    void *arg, struct dns_targets **out, struct dns_query **q);

/* Drop a query before its callback; fn is not called.  Accepts NULL. */
void dns_cancel(struct dns_query *q);

/* The targets, in the order to try them. */
size_t dns_targets_count(const struct dns_targets *ts);
const struct dns_target *dns_targets_at(const struct dns_targets *ts,
    size_t i);
/*
 * The next target to try (the first on the first call), or NULL when every
 * one was tried (RFC 3263 4.3).
 */
const struct dns_target *dns_targets_next(struct dns_targets *ts);
void dns_targets_free(struct dns_targets *ts);

/*
 * t failed (transport error, no answer, 503): avoid it in new lists for
 * the configured time.  The list of failed targets is bounded; the one
 * that would recover first makes room.
 */
void dns_target_failed(struct dns *d, const struct dns_target *t);

/* "udp 192.0.2.1:5060", "tls [2001:db8::1]:5061" into buf; returns buf. */
const char *dns_target_format(const struct dns_target *t, char *buf,
    size_t cap);
#define DNS_TARGET_TEXT 64

/* Empty the cache (lookups on the wire stay) and the failed targets. */
void dns_flush(struct dns *d);

/* One cache entry, as `show dns` lists it. */
struct dns_cache_info {
	const char *name;
	const char *type;    /* "NAPTR", "SRV", "A", "AAAA" */
	const char *state;   /* "ok", "nxdomain", "nodata", "pending" */
	unsigned ttl_left_s; /* rounded up */
	size_t count;        /* records, for "ok" */
	const void *entry;   /* for dns_cache_record() */
};

/* Call fn for each entry, most recently used first. */
void dns_cache_foreach(struct dns *d,
    void (*fn)(void *arg, const struct dns_cache_info *ci), void *arg);

/*
 * Record i of ci in its presentation form ("10 5 5060 sip1.example.com")
 * into buf (cap bytes); returns buf.  Only inside the callback.
 */
const char *dns_cache_record(const struct dns_cache_info *ci, size_t i,
    char *buf, size_t cap);
#define DNS_RECORD_TEXT 600

/* Call fn for each failed target still avoided, with the time left. */
void dns_failed_foreach(struct dns *d,
    void (*fn)(void *arg, const struct dns_target *t, unsigned ms_left),
    void *arg);

struct dns_stats {
	uint64_t resolves;    /* dns_resolve() calls */
	uint64_t cache_hits;  /* answered at once from the cache */
	uint64_t queries;     /* queries sent to a server */
	uint64_t failures;    /* queries with no answer or a failed server */
	size_t cache_entries;
};
void dns_stats(const struct dns *d, struct dns_stats *st);

#endif
