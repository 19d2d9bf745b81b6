/*
 * table: the two bounded tables of a struct auth.
 *
 * The nonce-count table holds, per nonce that authenticated a request,
 * the highest nonce count accepted (RFC 7616 3.3: a count not above it is
 * a replay).  Entries are made only after a valid digest, so a peer
 * without a password cannot fill it, and they die with their nonce.
 * When a live entry must be evicted, the table remembers the newest issue
 * time it lost: a nonce issued up to then that has no entry may have had
 * one, so it is sent back as stale instead of being trusted afresh.
 *
 * The failed-attempt table counts failures per source (IPv4 address, IPv6
 * /64) within a window, and blocks a source that reaches the limit for a
 * penalty period.  Peers choose their addresses, so both tables are
 * set-associative with SipHash-keyed indexes: a full set evicts its
 * least useful entry, and nothing grows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "sipd/auth/auth_int.h"

/* Sets for slots entries: a power of two, at least one. */
static uint32_t
sets_for(uint32_t slots)
{
	uint32_t sets = 1;

	while (sets < slots / AUTH_WAYS && sets < (1u << 24)) {
		sets <<= 1;
	}
	return sets;
}

int
auth_tables_init(struct auth *a, uint32_t nc_slots, uint32_t fail_slots)
{
	a->nc_sets = sets_for(nc_slots);
	a->fail_sets = sets_for(fail_slots);
	a->nc = calloc((size_t)a->nc_sets * AUTH_WAYS, sizeof(*a->nc));
	a->fail = calloc((size_t)a->fail_sets * AUTH_WAYS, sizeof(*a->fail));
	if (a->nc == NULL || a->fail == NULL) {
		auth_tables_fini(a);
		return -ENOMEM;
	}
	return 0;
}

void
auth_tables_fini(struct auth *a)
{
	free(a->nc);
	free(a->fail);
	a->nc = NULL;
	a->fail = NULL;
}

/* ------------------------------------------------------- nonce counts */

int
auth_nc_use(struct auth *a, const uint8_t id[AUTH_NONCE_ID],
    int64_t issued, uint32_t nc, int64_t now)
{
	uint64_t h = auth_siphash(a->hash_key, id, AUTH_NONCE_ID);
	struct auth_nc *set = a->nc + (h & (a->nc_sets - 1)) * AUTH_WAYS;
	struct auth_nc *slot = NULL, *victim = NULL;
	int w;

	for (w = 0; w < AUTH_WAYS; w++) {
		struct auth_nc *e = &set[w];

		if (e->expires > now) {
			if (memcmp(e->id, id, AUTH_NONCE_ID) == 0) {
				/* RFC 7616 3.3: a repeated count is a replay */
				if (nc <= e->nc) {
					return -EALREADY;
				}
				e->nc = nc;
				return 0;
			}
			if (victim == NULL || e->expires < victim->expires) {
				victim = e;
			}
		} else if (slot == NULL) {
			slot = e;
		}
	}
	if (issued <= a->nc_forgot) {
		return -ESTALE;
	}
	if (nc == 0) {
		/* Counts start at 00000001. */
		return -EALREADY;
	}
	if (slot == NULL) {
		slot = victim;
		if (slot->issued > a->nc_forgot) {
			a->nc_forgot = slot->issued;
		}
	}
	memcpy(slot->id, id, AUTH_NONCE_ID);
	slot->nc = nc;
	slot->issued = issued;
	slot->expires = issued + (int64_t)a->set.nonce_lifetime;
	if (slot->expires <= now) {
		/* Accepted at the very end of its life: keep it a second. */
		slot->expires = now + 1;
	}
	return 0;
}

void
auth_nc_relife(struct auth *a, uint32_t lifetime, int64_t now)
{
	size_t i, n = (size_t)a->nc_sets * AUTH_WAYS;
	int64_t dead = now - (int64_t)a->set.nonce_lifetime;

	/* Called before a->set.nonce_lifetime takes the new value. */
	for (i = 0; i < n; i++) {
		struct auth_nc *e = &a->nc[i];

		if (e->expires > now) {
			e->expires = e->issued + (int64_t)lifetime;
		}
	}
	/* Entries of nonces issued up to then may have died already. */
	if (dead > a->nc_forgot) {
		a->nc_forgot = dead;
	}
}

/* ----------------------------------------------------- failed attempts */

/* An entry that counts nothing any more (free, or its time is over). */
static bool
fail_idle(const struct auth *a, const struct auth_fail *e, int64_t now)
{
	if (!e->used) {
		return true;
	}
	if (e->blocked_until != 0) {
		return e->blocked_until <= now;
	}
	return now - e->window_start >= (int64_t)a->set.fail_window;
}

/*
 * src's entry, or NULL.  With create, a new entry when there is none,
 * taking an idle way of the set, else the least recently failed
 * unblocked one, else the block that ends first.
 */
static struct auth_fail *
fail_find(struct auth *a, const struct sockaddr *src, int64_t now,
    bool create)
{
	uint8_t key[AUTH_ADDR_KEY];
	struct auth_fail *set, *idle = NULL, *old = NULL, *blk = NULL;
	uint64_t h;
	int w;

	auth_addr_key(src, true, key);
	h = auth_siphash(a->hash_key, key, sizeof(key));
	set = a->fail + (h & (a->fail_sets - 1)) * AUTH_WAYS;
	for (w = 0; w < AUTH_WAYS; w++) {
		struct auth_fail *e = &set[w];

		if (e->used && memcmp(e->key, key, sizeof(key)) == 0) {
			return e;
		}
		if (fail_idle(a, e, now)) {
			if (idle == NULL) {
				idle = e;
			}
		} else if (e->blocked_until == 0) {
			if (old == NULL || e->last < old->last) {
				old = e;
			}
		} else if (blk == NULL || e->blocked_until < blk->blocked_until) {
			blk = e;
		}
	}
	if (!create) {
		return NULL;
	}
	if (idle == NULL) {
		idle = old != NULL ? old : blk;
	}
	memset(idle, 0, sizeof(*idle));
	memcpy(idle->key, key, sizeof(key));
	idle->used = true;
	return idle;
}

bool
auth_fail_add(struct auth *a, const struct sockaddr *src, int64_t now,
    uint32_t *count)
{
	struct auth_fail *e;

	*count = 0;
	if (a->set.fail_limit == 0) {
		return false;
	}
	e = fail_find(a, src, now, true);
	if (e->blocked_until != 0 && e->blocked_until <= now) {
		/* The penalty is served: start afresh. */
		e->blocked_until = 0;
		e->count = 0;
	}
	if (e->count == 0 ||
	    now - e->window_start >= (int64_t)a->set.fail_window) {
		e->window_start = now;
		e->count = 0;
	}
	e->count++;
	e->last = now;
	*count = e->count;
	if (e->blocked_until == 0 && e->count >= a->set.fail_limit) {
		e->blocked_until = now + (int64_t)a->set.fail_penalty;
		if (e->blocked_until <= now) {
			e->blocked_until = now + 1;
		}
		return true;
	}
	return false;
}

bool
auth_fail_blocked(struct auth *a, const struct sockaddr *src, int64_t now,
    uint32_t *remaining)
{
	struct auth_fail *e;

	if (remaining != NULL) {
		*remaining = 0;
	}
	if (a->set.fail_limit == 0) {
		return false;
	}
	e = fail_find(a, src, now, false);
	if (e == NULL || e->blocked_until <= now) {
		return false;
	}
	if (remaining != NULL) {
		int64_t left = e->blocked_until - now;

		*remaining = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
	}
	return true;
}

bool
auth_blocked(struct auth *a, const struct sockaddr *src, uint32_t *remaining)
{
	return auth_fail_blocked(a, src, auth_now(a), remaining);
}

int
auth_unblock(struct auth *a, const struct sockaddr *src)
{
	size_t i, n = (size_t)a->fail_sets * AUTH_WAYS;
	struct auth_fail *e;
	int count = 0;

	if (src != NULL) {
		e = fail_find(a, src, auth_now(a), false);
		if (e == NULL) {
			return 0;
		}
		memset(e, 0, sizeof(*e));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (a->fail[i].used) {
			memset(&a->fail[i], 0, sizeof(a->fail[i]));
			count++;
		}
	}
	return count;
}

int
auth_blocks(struct auth *a, auth_block_fn *fn, void *arg)
{
	size_t i, n = (size_t)a->fail_sets * AUTH_WAYS;
	int64_t now = auth_now(a);
	struct auth_block b;
	int calls = 0, rc;

	for (i = 0; i < n; i++) {
		const struct auth_fail *e = &a->fail[i];
		int64_t left;

		if (!e->used || e->blocked_until <= now) {
			continue;
		}
		memset(&b, 0, sizeof(b));
		if (e->key[0] == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&b.addr;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, e->key + 1, 4);
			b.prefix = 32;
		} else if (e->key[0] == 6) {
			struct sockaddr_in6 *s6 =
			    (struct sockaddr_in6 *)&b.addr;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, e->key + 1, 16);
			b.prefix = 64;
		} else {
			b.addr.ss_family = AF_UNSPEC;
		}
		left = e->blocked_until - now;
		b.remaining = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
		b.failures = e->count;
		rc = fn(arg, &b);
		if (rc != 0) {
			return rc;
		}
		calls++;
	}
	return calls;
}

const char *
auth_block_str(const struct auth_block *b, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (cap == 0) {
		return out;
	}
	if (b->addr.ss_family == AF_INET) {
		const struct sockaddr_in *s4 =
		    (const struct sockaddr_in *)&b->addr;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s", host);
	} else if (b->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&b->addr;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "%s/%u", host, b->prefix);
	} else {
		snprintf(out, cap, "-");
	}
	return out;
}
