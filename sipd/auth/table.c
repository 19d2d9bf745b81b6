/*
 * table: the state the workers' struct auth share, and its three bounded
 * tables.
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
 * penalty period.  The challenge-rate table counts the challenges sent to
 * a source in the current second.  Peers choose their addresses, so the
 * tables are set-associative with SipHash-keyed indexes: a full set
 * evicts its least useful entry, and nothing grows.
 *
 * Requests are spread over the workers by Call-ID, which the peer
 * chooses, so every worker must see the same count for a nonce and the
 * same failures for a source: one state serves them all.  Each set is
 * under one of AUTH_LOCKS mutexes, taken for the few compares and stores
 * of one lookup; no lock is held while hashing, logging or calling out,
 * so workers rarely meet on one.  (Handing each request to a worker that
 * owns its nonce would add a queue hop to every authenticated request and
 * could not serve the per-source tables, whose key is not the nonce.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

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

struct auth_state *
auth_state_new(const struct auth_settings *s)
{
	struct auth_settings def;
	struct auth_state *st;
	size_t got = 0;
	int i;

	if (s == NULL) {
		auth_settings_init(&def);
		s = &def;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return NULL;
	}
	for (i = 0; i < AUTH_LOCKS; i++) {
		pthread_mutex_init(&st->locks[i], NULL);
	}
	atomic_init(&st->block_end, 0);
	st->nc_sets = sets_for(s->nc_slots);
	st->fail_sets = sets_for(s->fail_slots);
	st->rate_sets = sets_for(s->rate_slots);
	st->nc = calloc((size_t)st->nc_sets * AUTH_WAYS, sizeof(*st->nc));
	st->fail = calloc((size_t)st->fail_sets * AUTH_WAYS,
	    sizeof(*st->fail));
	st->rate = calloc((size_t)st->rate_sets * AUTH_WAYS,
	    sizeof(*st->rate));
	if (st->nc == NULL || st->fail == NULL || st->rate == NULL) {
		goto fail;
	}
	while (got < sizeof(st->hash_key)) {
		ssize_t n = getrandom(st->hash_key + got,
		    sizeof(st->hash_key) - got, 0);

		if (n < 0 && errno != EINTR) {
			goto fail;
		}
		got += n > 0 ? (size_t)n : 0;
	}
	return st;
fail:
	auth_state_free(st);
	return NULL;
}

void
auth_state_free(struct auth_state *st)
{
	int i;

	if (st == NULL) {
		return;
	}
	for (i = 0; i < AUTH_LOCKS; i++) {
		pthread_mutex_destroy(&st->locks[i]);
	}
	free(st->nc);
	free(st->fail);
	free(st->rate);
	free(st);
}

/* The lock of set number set. */
static pthread_mutex_t *
set_lock(struct auth_state *st, size_t set)
{
	return &st->locks[set % AUTH_LOCKS];
}

/* ------------------------------------------------------- nonce counts */

/* The lock held: record nc for id in its set (auth_nc_use()). */
static int
nc_use_locked(struct auth *a, struct auth_nc *set, int64_t *forgot,
    const uint8_t id[AUTH_NONCE_ID], int64_t issued, uint32_t nc,
    int64_t now)
{
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
	if (issued <= *forgot) {
		return -ESTALE;
	}
	if (nc == 0) {
		/* Counts start at 00000001. */
		return -EALREADY;
	}
	if (slot == NULL) {
		slot = victim;
		if (slot->issued > *forgot) {
			*forgot = slot->issued;
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

int
auth_nc_use(struct auth *a, const uint8_t id[AUTH_NONCE_ID],
    int64_t issued, uint32_t nc, int64_t now)
{
	struct auth_state *st = a->st;
	uint64_t h = msg_siphash64(st->hash_key, id, AUTH_NONCE_ID);
	size_t si = (size_t)(h & (st->nc_sets - 1));
	pthread_mutex_t *lk = set_lock(st, si);
	int rc;

	pthread_mutex_lock(lk);
	rc = nc_use_locked(a, st->nc + si * AUTH_WAYS,
	    &st->nc_forgot[si % AUTH_LOCKS], id, issued, nc, now);
	pthread_mutex_unlock(lk);
	return rc;
}

void
auth_nc_relife(struct auth *a, uint32_t lifetime, int64_t now)
{
	struct auth_state *st = a->st;
	int64_t dead = now - (int64_t)a->set.nonce_lifetime;
	size_t si;
	int i, w;

	/* Called before a->set.nonce_lifetime takes the new value. */
	for (si = 0; si < st->nc_sets; si++) {
		struct auth_nc *set = st->nc + si * AUTH_WAYS;
		pthread_mutex_t *lk = set_lock(st, si);

		pthread_mutex_lock(lk);
		for (w = 0; w < AUTH_WAYS; w++) {
			if (set[w].expires > now) {
				set[w].expires = set[w].issued +
				    (int64_t)lifetime;
			}
		}
		pthread_mutex_unlock(lk);
	}
	/* Entries of nonces issued up to then may have died already. */
	for (i = 0; i < AUTH_LOCKS; i++) {
		pthread_mutex_lock(&st->locks[i]);
		if (dead > st->nc_forgot[i]) {
			st->nc_forgot[i] = dead;
		}
		pthread_mutex_unlock(&st->locks[i]);
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

/* The set of src's key in the failed-attempt table, and its index. */
static struct auth_fail *
fail_set(struct auth *a, const struct sockaddr *src,
    uint8_t key[AUTH_ADDR_KEY], size_t *si)
{
	struct auth_state *st = a->st;

	auth_addr_key(src, true, key);
	*si = (size_t)(msg_siphash64(st->hash_key, key, AUTH_ADDR_KEY) &
	    (st->fail_sets - 1));
	return st->fail + *si * AUTH_WAYS;
}

/*
 * The lock of set held: key's entry, or NULL.  With create, a new entry
 * when there is none, taking an idle way of the set, else the least
 * recently failed unblocked one, else the block that ends first.
 */
static struct auth_fail *
fail_find(struct auth *a, struct auth_fail *set,
    const uint8_t key[AUTH_ADDR_KEY], int64_t now, bool create)
{
	struct auth_fail *idle = NULL, *old = NULL, *blk = NULL;
	int w;

	if (!create) {
		/* a look-up only (every request's): no way to choose */
		for (w = 0; w < AUTH_WAYS; w++) {
			if (set[w].used &&
			    memcmp(set[w].key, key, AUTH_ADDR_KEY) == 0) {
				return &set[w];
			}
		}
		return NULL;
	}
	for (w = 0; w < AUTH_WAYS; w++) {
		struct auth_fail *e = &set[w];

		if (e->used && memcmp(e->key, key, AUTH_ADDR_KEY) == 0) {
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
	if (idle == NULL) {
		idle = old != NULL ? old : blk;
	}
	memset(idle, 0, sizeof(*idle));
	memcpy(idle->key, key, AUTH_ADDR_KEY);
	idle->used = true;
	return idle;
}

/* No block set from now on ends after until: block_end at least until. */
static void
block_end_raise(struct auth_state *st, int64_t until)
{
	int64_t cur = atomic_load(&st->block_end);

	while (cur < until &&
	    !atomic_compare_exchange_weak(&st->block_end, &cur, until)) {
	}
}

bool
auth_fail_add(struct auth *a, const struct sockaddr *src, int64_t now,
    uint32_t *count)
{
	uint8_t key[AUTH_ADDR_KEY];
	struct auth_fail *set, *e;
	pthread_mutex_t *lk;
	bool blocks = false;
	size_t si;

	*count = 0;
	if (a->set.fail_limit == 0) {
		return false;
	}
	set = fail_set(a, src, key, &si);
	lk = set_lock(a->st, si);
	pthread_mutex_lock(lk);
	e = fail_find(a, set, key, now, true);
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
		int64_t until = now + (int64_t)a->set.fail_penalty;

		if (until <= now) {
			until = now + 1;
		}
		/*
		 * the end first: a look-up that reads the old one comes
		 * before this block (auth_fail_blocked())
		 */
		block_end_raise(a->st, until);
		e->blocked_until = until;
		blocks = true;
	}
	pthread_mutex_unlock(lk);
	return blocks;
}

bool
auth_fail_blocked(struct auth *a, const struct sockaddr *src, int64_t now,
    uint32_t *remaining)
{
	uint8_t key[AUTH_ADDR_KEY];
	struct auth_fail *set, *e;
	pthread_mutex_t *lk;
	int64_t until = 0;
	size_t si;

	if (remaining != NULL) {
		*remaining = 0;
	}
	if (a->set.fail_limit == 0) {
		return false;
	}
	/*
	 * Every block ends by block_end (a source is blocked while now is
	 * before its end): after it, none is in force, as in the common
	 * case where no source ever was, and every request asks
	 */
	if (atomic_load(&a->st->block_end) <= now) {
		return false;
	}
	set = fail_set(a, src, key, &si);
	lk = set_lock(a->st, si);
	pthread_mutex_lock(lk);
	e = fail_find(a, set, key, now, false);
	if (e != NULL) {
		until = e->blocked_until;
	}
	pthread_mutex_unlock(lk);
	if (until <= now) {
		return false;
	}
	if (remaining != NULL) {
		int64_t left = until - now;

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
	struct auth_state *st = a->st;
	uint8_t key[AUTH_ADDR_KEY];
	struct auth_fail *set, *e;
	pthread_mutex_t *lk;
	size_t si;
	int count = 0, w;

	if (src != NULL) {
		set = fail_set(a, src, key, &si);
		lk = set_lock(st, si);
		pthread_mutex_lock(lk);
		e = fail_find(a, set, key, auth_now(a), false);
		if (e != NULL) {
			memset(e, 0, sizeof(*e));
			count = 1;
		}
		pthread_mutex_unlock(lk);
		return count;
	}
	for (si = 0; si < st->fail_sets; si++) {
		set = st->fail + si * AUTH_WAYS;
		lk = set_lock(st, si);
		pthread_mutex_lock(lk);
		for (w = 0; w < AUTH_WAYS; w++) {
			if (set[w].used) {
				memset(&set[w], 0, sizeof(set[w]));
				count++;
			}
		}
		pthread_mutex_unlock(lk);
	}
	return count;
}

int
auth_blocks(struct auth *a, auth_block_fn *fn, void *arg)
{
	struct auth_state *st = a->st;
	size_t i, n = (size_t)st->fail_sets * AUTH_WAYS;
	int64_t now = auth_now(a);
	struct auth_block b;
	struct auth_fail e;
	int calls = 0, rc;

	for (i = 0; i < n; i++) {
		int64_t left;

		/* a copy, so that fn runs without the lock */
		pthread_mutex_lock(set_lock(st, i / AUTH_WAYS));
		e = st->fail[i];
		pthread_mutex_unlock(set_lock(st, i / AUTH_WAYS));
		if (!e.used || e.blocked_until <= now) {
			continue;
		}
		memset(&b, 0, sizeof(b));
		if (e.key[0] == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&b.addr;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, e.key + 1, 4);
			b.prefix = 32;
		} else if (e.key[0] == 6) {
			struct sockaddr_in6 *s6 =
			    (struct sockaddr_in6 *)&b.addr;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, e.key + 1, 16);
			b.prefix = 64;
		} else {
			b.addr.ss_family = AF_UNSPEC;
		}
		left = e.blocked_until - now;
		b.remaining = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
		b.failures = e.count;
		rc = fn(arg, &b);
		if (rc != 0) {
			return rc;
		}
		calls++;
	}
	return calls;
}

/* ------------------------------------------------------ challenge rate */

bool
auth_rate_take(struct auth *a, const struct sockaddr *src, int64_t now)
{
	struct auth_state *st = a->st;
	struct auth_rate *set, *e = NULL, *old = NULL;
	uint8_t key[AUTH_ADDR_KEY];
	pthread_mutex_t *lk;
	bool ok = true;
	size_t si;
	int w;

	if (a->set.challenge_rate == 0) {
		return true;
	}
	auth_addr_key(src, true, key);
	si = (size_t)(msg_siphash64(st->hash_key, key, AUTH_ADDR_KEY) &
	    (st->rate_sets - 1));
	set = st->rate + si * AUTH_WAYS;
	lk = set_lock(st, si);
	pthread_mutex_lock(lk);
	for (w = 0; w < AUTH_WAYS && e == NULL; w++) {
		if (set[w].used && memcmp(set[w].key, key, AUTH_ADDR_KEY) == 0) {
			e = &set[w];
		} else if (old == NULL || !set[w].used ||
		    (old->used && set[w].second < old->second)) {
			/* a free way, else the one counting the oldest second */
			old = &set[w];
		}
	}
	if (e == NULL) {
		e = old;
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, AUTH_ADDR_KEY);
		e->used = true;
	}
	if (e->second != now) {
		e->second = now;
		e->count = 0;
	}
	if (e->count >= a->set.challenge_rate) {
		ok = false;
	} else {
		e->count++;
	}
	pthread_mutex_unlock(lk);
	return ok;
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
