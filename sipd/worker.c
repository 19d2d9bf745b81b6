/*
 * The worker pool.  Each worker is a thread with its own event_base,
 * transport, transaction table and core: a shard of all SIP state.  A
 * message read by one worker is parsed there, and when its Call-ID (or,
 * for a response, the shard named in sipd's own branch) belongs to
 * another worker, the parsed message moves to that worker's inbox; the
 * message is self-contained, so moving it moves its ownership.  With set
 * worker-ports (steering) a request that came to a worker's own port is
 * that worker's, and a new call read on a shared UDP listener belongs to
 * its reader, noted in its Call-ID's worker for the messages read
 * elsewhere (steer()).  The inbox also carries calls from the main thread
 * (workers_call()), which is how the control plane reads a worker's
 * state without locks around it.  Nothing but the inbox reaches a worker's
 * event_base from another thread: the inbox wakes it by an eventfd, so
 * the base runs without libevent's locks (EVENT_BASE_FLAG_NOLOCK), and
 * the threads are stopped through it too (worker_stop()).
 */
#include "sipd/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/random.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "sipd/auth/auth.h"
#include "sipd/cdr/cdr.h"
#include "sipd/core/core.h"
#include "sipd/dns/dns.h"
#include "sipd/log.h"
#include "sipd/media/media.h"
#include "sipd/mwi/mwi.h"
#include "sipd/reg/reg.h"
#include "sipd/service.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"

/* The transaction timers' resolution: the wheel's slot is 8 ms. */
#define WORKER_TICK_MS 10
/* The tick while no transaction timer is armed (the registrar purge). */
#define WORKER_IDLE_TICK_MS 1000
/*
 * How long past its due time the tick's own timer waits.  A worker woken
 * by a message runs a due tick on that wakeup (worker_due()), so while
 * messages come at least this often the tick needs no wakeup of its own;
 * a quiet worker's timers fire at most this much later.
 */
#define WORKER_TICK_SLACK_MS 10
/*
 * The longest the tick waits while transaction timers are armed
 * (tick_set()): it also runs the gateways' registration timers
 * (core_tick()), whose due times the worker does not see; they may run
 * this much late.
 */
#define WORKER_QUIET_TICK_MS 100
/* Messages from the inbox handled before what they sent leaves (as
 * TP_UDP_FLUSH_EVERY for a read batch). */
#define WORKER_INBOX_FLUSH 8
/* How often expired registrations are purged. */
#define WORKER_PURGE_MS 1000

/*
 * Steering's notes: which worker owns a call that another worker may read
 * a message of (steer()), kept by the call's home worker (the Call-ID's
 * hash), each for note_ms, under the home's lock.
 */
#define NOTE_BUCKETS 32768
/* The most notes one worker keeps (some 10 MB): past it a call is not
 * noted, and is as it was before steering for a peer that changes its
 * source port. */
#define NOTE_MAX (256 * 1024)

struct note {
	struct note *next;  /* in its bucket */
	struct note *later; /* the next noted, oldest first */
	uint64_t key;
	uint64_t until;
	unsigned owner;
};

struct note_dir {
	pthread_mutex_t mu;
	struct note *old, *young; /* in the order noted (and expiring) */
	struct note *spare;       /* expired, for the next notes */
	size_t n;
	struct note *tab[NOTE_BUCKETS];
};

enum wmsg_kind {
	WMSG_SIP,  /* a parsed message for this shard */
	WMSG_CALL, /* run a function for the main thread */
	WMSG_STOP, /* leave the loop (worker_stop()) */
};

struct worker_msg {
	struct worker_msg *next;
	enum wmsg_kind kind;
	struct msg *m;
	struct tp_src src;
	/* a CANCEL looking for its INVITE: the workers that had it not */
	unsigned hops;
	void (*fn)(struct worker *w, void *arg);
	void *arg;
	bool done;
};

struct workers {
	unsigned n;
	bool started;
	struct reg *reg;            /* shared: locked inside */
	struct mwi *mwi;            /* message waiting, shared: likewise */
	struct media *media;        /* the relay: its own thread and lock */
	struct cdr *cdr;            /* the call table: locked inside */
	/* the default call records file, found once: after a change of
	 * user the state directory would be another one */
	char cdr_default[CONF_PATH_MAX];
	uint8_t secret[CORE_SECRET_LEN]; /* the nonce key of every worker */
	/* nonce counts, failures and challenge rates of every worker */
	struct auth_state *auth;
	struct core_gw_shared *gwsh; /* the gateways' nonces and counters */
	struct conf conf;           /* as last applied */
	/* set worker-ports as at the start (conf_worker_ports()): -1 off,
	 * 0 auto, else the first worker's port */
	int wports;
	/* steering: how long a note of a call's owner lives (ms), and the
	 * seed of its Call-ID's key */
	_Atomic uint64_t note_ms;
	uint64_t note_seed;
	pthread_mutex_t call_lock;  /* one workers_call() at a time */
	pthread_cond_t call_done;
	struct worker *w[];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
workers_alive(const struct workers *ws, uint64_t max_ms)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < ws->n; i++) {
		uint64_t beat = atomic_load_explicit(&ws->w[i]->beat,
		    memory_order_relaxed);
		if (now > beat && now - beat > max_ms) {
			return -(int)i - 1;
		}
	}
	return 0;
}

unsigned
workers_count(const struct workers *ws)
{
	return ws->n;
}

unsigned
workers_shard(const struct workers *ws, struct sv callid)
{
	if (ws->n <= 1) {
		return 0;
	}
	return (unsigned)(msg_fnv1a(MSG_FNV_INIT, callid.p, callid.len) %
	    ws->n);
}

/* ------------------------------------------------------------ steering */

/* Whether requests read on w's own sockets and new calls stay on w. */
static bool
steering(const struct workers *ws)
{
	return ws->n > 1 && ws->wports >= 0;
}

/* Whether req belongs to a dialog: its To has a tag (RFC 3261 12.2). */
static bool
in_dialog(struct msg *req)
{
	const struct msg_naddr *to = msg_to(req);

	return to != NULL && to->tag.len > 0;
}

/* Drop the notes of dir whose time is over (dir locked). */
static void
note_expire(struct note_dir *dir, uint64_t now)
{
	while (dir->old != NULL && dir->old->until <= now) {
		struct note *e = dir->old;
		struct note **pp = &dir->tab[e->key % NOTE_BUCKETS];

		while (*pp != e) {
			pp = &(*pp)->next;
		}
		*pp = e->next;
		dir->old = e->later;
		if (dir->old == NULL) {
			dir->young = NULL;
		}
		e->next = dir->spare;
		dir->spare = e;
		dir->n--;
	}
}

/*
 * The owner of the call named key in home's notes, or -1 when none; when
 * none and take >= 0, take becomes its owner, noted until now + the
 * notes' life.  From any worker's thread: the notes are locked.
 */
static int
note_owner(struct workers *ws, unsigned home, uint64_t key, int take,
    uint64_t now)
{
	struct note_dir *dir = ws->w[home]->notes;
	int owner = -1;

	pthread_mutex_lock(&dir->mu);
	note_expire(dir, now);
	for (struct note *e = dir->tab[key % NOTE_BUCKETS]; e != NULL;
	     e = e->next) {
		if (e->key == key) {
			owner = (int)e->owner;
			break;
		}
	}
	if (owner < 0 && take >= 0 && dir->n < NOTE_MAX) {
		struct note *e = dir->spare;

		if (e != NULL) {
			dir->spare = e->next;
		} else {
			e = malloc(sizeof(*e));
		}
		if (e != NULL) {
			e->key = key;
			e->owner = (unsigned)take;
			e->until = now + atomic_load_explicit(&ws->note_ms,
			    memory_order_relaxed);
			e->next = dir->tab[key % NOTE_BUCKETS];
			dir->tab[key % NOTE_BUCKETS] = e;
			e->later = NULL;
			if (dir->young != NULL) {
				dir->young->later = e;
			} else {
				dir->old = e;
			}
			dir->young = e;
			dir->n++;
		}
	}
	if (owner < 0) {
		owner = take;
	}
	pthread_mutex_unlock(&dir->mu);
	return owner;
}

static void
note_dir_free(struct note_dir *dir)
{
	for (size_t i = 0; i < NOTE_BUCKETS; i++) {
		while (dir->tab[i] != NULL) {
			struct note *e = dir->tab[i];
			dir->tab[i] = e->next;
			free(e);
		}
	}
	while (dir->spare != NULL) {
		struct note *e = dir->spare;
		dir->spare = e->next;
		free(e);
	}
	pthread_mutex_destroy(&dir->mu);
	free(dir);
}

/* How long a note lives: a client transaction's retransmissions stop
 * after 64*T1 (Timers B and F; T1 as sipd's), and T4 more for the
 * network. */
static uint64_t
note_life(const struct conf *c)
{
	return 64 * (uint64_t)c->txn.t1_ms + c->txn.t4_ms;
}

/*
 * Which worker owns request m, read by w from src, when steering: a
 * request that came to w's own port (a Via or a Record-Route of w's sent
 * it there) is w's; on a shared UDP listener, a request that starts
 * something (no To tag) belongs to the worker noted for its Call-ID, else
 * to w, noted so in the Call-ID's home worker for as long as its
 * retransmissions may come (64*T1 and T4: RFC 3261 17.1.1.2, 17.1.2.2):
 * the same peer's 4-tuple reaches the same socket (SO_REUSEPORT), but a
 * retransmission from another source port must find the transaction
 * where it is.  A request within a dialog goes to the noted worker, else
 * to the home, as without steering.  -1: not decided here;
 * STEER_ROUND: a CANCEL to hand round (cancel_next()).
 */
#define STEER_ROUND (-2)
static int
steer(struct worker *w, struct msg *m, const struct tp_src *src)
{
	struct workers *ws = w->pool;
	struct sv callid;
	unsigned home;
	uint64_t key;
	bool fresh;

	if (src->proto != TP_UDP || src->listener == NULL) {
		return -1;
	}
	if (tp_listener_is_own(src->listener)) {
		return (int)w->id;
	}
	callid = msg_callid(m);
	home = workers_shard(ws, callid);
	key = msg_fnv1a(ws->note_seed, callid.p, callid.len);
	/* a CANCEL never starts a call: it follows its INVITE (below) */
	fresh = !in_dialog(m) && msg_method(m) != MSG_CANCEL;
	int owner = note_owner(ws, home, key, fresh ? (int)w->id : -1,
	    txn_table_now(w->txn));
	if (owner >= 0 && (unsigned)owner < ws->n) {
		return owner;
	}
	if (msg_method(m) == MSG_CANCEL && !in_dialog(m)) {
		/* no note (a long ringing): the INVITE is on some worker,
		 * which the CANCEL goes round to find (cancel_next()) */
		return STEER_ROUND;
	}
	return (int)home;
}

/*
 * A CANCEL handed round (steer()): w handles it when it has its INVITE,
 * or when every worker has been asked (the core then answers 481);
 * else the next worker.
 */
static unsigned
cancel_next(struct worker *w, struct msg *m, const struct tp_src *src,
    unsigned hops)
{
	if (hops + 1 >= w->pool->n ||
	    txn_server_find_invite(w->txn, m, src) != NULL) {
		return w->id;
	}
	return (w->id + 1) % w->pool->n;
}

/* Which worker owns m: the branch sipd made, else the Call-ID. */
static unsigned
shard_of(struct worker *w, struct msg *m, const struct tp_src *src,
    bool *round)
{
	struct workers *ws = w->pool;

	if (ws->n <= 1) {
		return 0;
	}
	if (!msg_is_request(m)) {
		const struct msg_via *v = msg_via_top(m);
		int s = v ? txn_branch_shard(msg_sv(m, v->branch)) : -1;
		if (s >= 0 && (unsigned)s < ws->n) {
			return (unsigned)s;
		}
	} else if (steering(ws)) {
		int s = steer(w, m, src);
		if (s == STEER_ROUND) {
			*round = true;
			return w->id;
		}
		if (s >= 0) {
			return (unsigned)s;
		}
	}
	return workers_shard(ws, msg_callid(m));
}

/*
 * Queue wm for w and wake it: one write to its eventfd when the queue was
 * empty since w last took it (worker_inbox()), none while a wakeup is
 * pending.  A SIP message finds room only while the inbox holds fewer
 * than WORKER_INBOX_MAX (false: wm is still the caller's); a call from
 * the main thread always does, since its caller waits for it.
 */
static bool
inbox_push(struct worker *w, struct worker_msg *wm)
{
	bool wake;

	pthread_mutex_lock(&w->lock);
	if (wm->kind == WMSG_SIP) {
		if (w->queued >= WORKER_INBOX_MAX) {
			pthread_mutex_unlock(&w->lock);
			return false;
		}
		w->queued++;
	}
	wm->next = NULL;
	if (w->queue_tail != NULL) {
		w->queue_tail->next = wm;
	} else {
		w->queue_head = wm;
	}
	w->queue_tail = wm;
	wake = !w->woken;
	w->woken = true;
	pthread_mutex_unlock(&w->lock);
	if (wake) {
		uint64_t one = 1;

		/* EAGAIN only at a counter near 2^64: it is readable */
		(void)!write(w->wake_fd, &one, sizeof(one));
	}
	return true;
}

/*
 * Make w's loop return (event_base_loopbreak() on its own thread: the
 * base has no lock for another thread to take).  From any thread; the
 * caller joins the thread after.
 */
static void
worker_stop(struct worker *w)
{
	w->stop_msg->kind = WMSG_STOP;
	(void)inbox_push(w, w->stop_msg);
}

/*
 * Arm the tick for the first slot of the timer wheel that holds a timer,
 * no sooner than WORKER_TICK_MS from now, and no later than
 * WORKER_QUIET_TICK_MS while transaction timers are armed (the gateways'
 * timers, which the worker does not see, run on it too) or
 * WORKER_IDLE_TICK_MS when none is.  Its event fires WORKER_TICK_SLACK_MS
 * after that, only when no message came in between to run it
 * (worker_due()).  A message that arms no timer before the tick brings
 * no tick of its own (tick_arm()): a worker whose transactions wait out
 * Timers D, J or K wakes for its datagrams, and for its timers when they
 * are due, not 20 ms after every datagram that followed a quiet spell.
 */
static void
tick_set(struct worker *w, uint64_t now)
{
	bool armed = txn_table_timers(w->txn) > 0;
	uint64_t due, wait;
	struct timeval tv;

	due = now + (armed ? WORKER_QUIET_TICK_MS : WORKER_IDLE_TICK_MS);
	if (armed) {
		due = txn_table_next_due(w->txn, due);
	}
	if (due < now + WORKER_TICK_MS) {
		due = now + WORKER_TICK_MS;
	}
	wait = due - now + WORKER_TICK_SLACK_MS;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)((wait % 1000) * 1000);
	w->tick_due = due;
	event_add(w->tick, &tv);
}

/*
 * After anything that may arm a timer: the tick comes sooner when a
 * timer now armed is due before it (or timers were none and are armed
 * now), else stays as it is.  Nothing to look at while the tick is due
 * within WORKER_TICK_MS, as it is under steady traffic.
 */
static void
tick_arm(struct worker *w, uint64_t now)
{
	if (w->tick_due <= now + WORKER_TICK_MS ||
	    txn_table_timers(w->txn) == 0) {
		return;
	}
	if (w->tick_due <= now + WORKER_QUIET_TICK_MS &&
	    txn_table_next_due(w->txn, w->tick_due) >= w->tick_due) {
		return;
	}
	tick_set(w, now);
}

/* The tick's work: the transaction timers, then the periodic chores; the
 * caller arms the next tick. */
static void
tick_run(struct worker *w, uint64_t now)
{
	/* the watchdog's proof that this worker's loop turns */
	atomic_store_explicit(&w->beat, now, memory_order_relaxed);
	txn_table_advance(w->txn, now);
	core_tick(w->core);
	/* the first worker purges the registrar and ends idle calls for
	 * all */
	if (w->id == 0 && now >= w->next_purge) {
		w->next_purge = now + WORKER_PURGE_MS;
		if (w->pool->reg != NULL) {
			reg_purge(w->pool->reg, time(NULL));
		}
		cdr_tick(w->pool->cdr, cdr_now_ms());
		core_mwi_expire(w->core);
		core_nat_tick(w->core, time(NULL));
	}
}

/*
 * After a message: when the tick is due, make its event active, so that
 * it runs on this wakeup, once the loop is back from the transport's
 * callback (never inside it: the timers may close the connection being
 * read), rather than on a wakeup of its own; else bring the tick forward
 * if the message armed a timer due before it.
 */
static void
worker_due(struct worker *w, uint64_t now)
{
	if (now >= w->tick_due) {
		event_active(w->tick, EV_READ, 0);
	} else {
		tick_arm(w, now);
	}
}

/*
 * Give m, read by w from src, to worker to (hops: for a CANCEL going
 * round, the workers it has been to).  m is the callee's from now on.
 */
static void
hand_off(struct worker *w, unsigned to, struct msg *m,
    const struct tp_src *src, unsigned hops)
{
	struct worker_msg *wm = calloc(1, sizeof(*wm));

	if (wm == NULL) {
		msg_free(m);
		return;
	}
	wm->kind = WMSG_SIP;
	wm->m = m;
	wm->src = *src;
	wm->hops = hops;
	if (!inbox_push(w->pool->w[to], wm)) {
		/* the owner is that far behind: shed the load here, where
		 * the request costs the least (RFC 3261 21.5.4) */
		core_refuse_busy(w->core, m, src);
		msg_free(m);
		free(wm);
		return;
	}
	core_count_handoff(w->core);
}

static void
worker_inbox(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_msg *q;
	uint64_t count;

	(void)what;
	/* the counter first: a push after the take writes it again */
	(void)!read(fd, &count, sizeof(count));
	pthread_mutex_lock(&w->lock);
	q = w->queue_head;
	w->queue_head = w->queue_tail = NULL;
	w->queued = 0;
	w->woken = false;
	pthread_mutex_unlock(&w->lock);

	txn_table_set_now(w->txn, now_ms());
	/* what the messages send leaves together, as a read batch's does,
	 * every WORKER_INBOX_FLUSH of them */
	tp_udp_batch(w->tp, true);
	for (unsigned done = 0; q != NULL; done++) {
		struct worker_msg *next = q->next;
		unsigned to = w->id;

		if (done > 0 && done % WORKER_INBOX_FLUSH == 0) {
			tp_udp_batch(w->tp, false);
			tp_udp_batch(w->tp, true);
		}
		if (q->kind == WMSG_SIP && q->hops > 0) {
			to = cancel_next(w, q->m, &q->src, q->hops);
		}
		if (to != w->id) {
			/* a CANCEL going round, whose INVITE is not here */
			hand_off(w, to, q->m, &q->src, q->hops + 1);
			free(q);
		} else if (q->kind == WMSG_SIP) {
			core_handle(w->core, q->m, &q->src);
			free(q);
		} else if (q->kind == WMSG_STOP) {
			event_base_loopbreak(w->base);
		} else {
			/* sent first: fn may close the listeners they name */
			tp_udp_batch(w->tp, false);
			q->fn(w, q->arg);
			tp_udp_batch(w->tp, true);
			pthread_mutex_lock(&w->pool->call_lock);
			q->done = true;
			pthread_cond_broadcast(&w->pool->call_done);
			pthread_mutex_unlock(&w->pool->call_lock);
		}
		q = next;
	}
	tp_udp_batch(w->tp, false);
	worker_due(w, txn_table_now(w->txn));
}

static void
worker_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct worker *w = arg;
	struct msg_err err;
	struct msg *m;
	unsigned to;
	uint64_t now = now_ms();

	txn_table_set_now(w->txn, now);
	m = core_parse(w->core, src, data, len, &err);
	if (m == NULL) {
		worker_due(w, now);
		return; /* counted and logged by core */
	}
	bool round = false;
	to = shard_of(w, m, src, &round);
	if (round) {
		to = cancel_next(w, m, src, 0);
	}
	if (to == w->id) {
		core_handle(w->core, m, src);
		worker_due(w, now);
		return;
	}
	worker_due(w, now);
	hand_off(w, to, m, src, round ? 1 : 0);
}

static void
worker_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	tick_run(w, now);
	/* the event is not persistent: armed again, with one event_add() */
	tick_set(w, now);
}

/*
 * The core's work outside core_handle() (a DNS answer that sends a held
 * request): the clock before, the tick after, as worker_recv() does.
 */
static void
worker_loop(void *arg, bool done)
{
	struct worker *w = arg;

	if (done) {
		tick_arm(w, now_ms());
	} else {
		txn_table_set_now(w->txn, now_ms());
	}
}

/* The resolver of w for c: made on the first call, configured after. */
static int
worker_dns(struct worker *w, const struct conf *c, char *err, size_t cap)
{
	struct dns_conf dc;

	conf_dns_resolver(c, &dc);
	if (w->dns == NULL) {
		w->dns = dns_new(w->base, &dc, err, cap);
		if (w->dns == NULL) {
			return -EINVAL;
		}
		core_set_dns(w->core, w->dns, worker_loop, w);
		return 0;
	}
	return dns_configure(w->dns, &dc, err, cap);
}

struct reg *
workers_reg(const struct workers *ws)
{
	return ws->reg;
}

struct mwi *
workers_mwi(const struct workers *ws)
{
	return ws->mwi;
}

struct media *
workers_media(const struct workers *ws)
{
	return ws->media;
}

struct cdr *
workers_cdr(const struct workers *ws)
{
	return ws->cdr;
}

/*
 * The call table's settings of configuration c: the CSV file is the
 * configured path, else, with records on, CONF_CDR_FILE_NAME in the state
 * directory (looked up, and made, only then), else none.
 */
static int
cdr_settings_from(struct workers *ws, const struct conf *c,
    struct cdr_settings *s, char *err, size_t cap)
{
	char dir[CONF_PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->on = c->cdr.on;
	s->track = c->force_rr;
	s->rotate_size = c->cdr.rotate_size;
	s->dialog_timeout_s = c->cdr.dialog_timeout_s;
	if (c->cdr.file[0] != '\0') {
		snprintf(s->path, sizeof(s->path), "%s", c->cdr.file);
		return 0;
	}
	if (!s->on) {
		return 0;
	}
	if (ws->cdr_default[0] == '\0') {
		if (svc_state_dir(dir, sizeof(dir)) < 0 ||
		    strlen(dir) + sizeof(CONF_CDR_FILE_NAME) + 1 >
			sizeof(ws->cdr_default)) {
			snprintf(err, cap, "no directory for the call records "
			    "(set cdr-file)");
			return -ENOENT;
		}
		snprintf(ws->cdr_default, sizeof(ws->cdr_default), "%s/%s",
		    dir, CONF_CDR_FILE_NAME);
	}
	snprintf(s->path, sizeof(s->path), "%s", ws->cdr_default);
	return 0;
}

/* Apply c's call record settings.  0, or -errno with err. */
static int
cdr_apply(struct workers *ws, const struct conf *c, char *err, size_t cap)
{
	struct cdr_settings *s = malloc(sizeof(*s));
	int rc;

	if (s == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = cdr_settings_from(ws, c, s, err, cap);
	if (rc == 0) {
		rc = cdr_configure(ws->cdr, s, err, cap);
	}
	free(s);
	return rc;
}

/* The relay's settings of configuration c (checked by its commands). */
static void
media_settings_from(const struct conf *c, struct media_settings *ms)
{
	media_settings_default(ms);
	(void)conf_media_ports(c->media_ports, &ms->port_min, &ms->port_max);
	ms->timeout_s = c->media_timeout_s;
	ms->relatch_ssrc = c->media_relatch;
	ms->strict_latch = c->media_strict_latch;
	ms->epoll_only = c->media_io == CONF_MEDIA_IO_EPOLL;
}

/* The registrar's settings from the configuration's. */
static void
reg_settings_from(const struct conf *c, struct reg_settings *rs)
{
	reg_settings_init(rs);
	rs->default_expires = c->reg.default_expires_s;
	rs->min_expires = c->reg.min_expires_s;
	rs->max_expires = c->reg.max_expires_s;
	rs->max_per_aor = c->reg.max_bindings;
}

/*
 * The store's file: the configured path, else CONF_REG_STORE_NAME in the
 * state directory (svc_state_dir(): /var/lib/sipd as root or under
 * systemd, made when missing).
 */
static int
reg_store_path(const struct conf *c, char *buf, size_t cap)
{
	char dir[CONF_PATH_MAX];
	int rc;

	if (c->reg.store[0] != '\0') {
		snprintf(buf, cap, "%s", c->reg.store);
		return 0;
	}
	rc = svc_state_dir(dir, sizeof(dir));
	if (rc < 0) {
		return rc;
	}
	snprintf(buf, cap, "%s/%s", dir, CONF_REG_STORE_NAME);
	return 0;
}

static bool
same_listener(const struct conf_listener *a, const struct conf_listener *b)
{
	return a->proto == b->proto && a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0 &&
	    strcmp(a->cert, b->cert) == 0 && strcmp(a->key, b->key) == 0 &&
	    strcmp(a->ca, b->ca) == 0 && a->verify == b->verify;
}

/*
 * set worker-ports: w's own socket beside UDP listener l, on port + 1 +
 * w->id (auto) or first + w->id.  A listener on port 0 (a port the kernel
 * picks) gets none with auto.  On failure l is closed and *sa points at
 * the address tried, in *at, for the message.
 */
static int
listen_own(struct worker *w, struct tp_listener *l,
    struct sockaddr_storage *at, const struct sockaddr **sa)
{
	int first = w->pool->wports;
	uint32_t base, hi;
	int rc;

	if (first < 0) {
		return 0;
	}
	tp_listener_addr(l, at, NULL);
	base = first > 0 ? (uint32_t)first
			 : tp_addr_port((const struct sockaddr *)at) + 1u;
	if (first == 0 && base == 1) {
		return 0;
	}
	hi = base + w->pool->n - 1;
	tp_addr_set_port((struct sockaddr *)at,
	    (uint16_t)(base + w->id > 65535 ? 0 : base + w->id));
	*sa = (const struct sockaddr *)at;
	if (hi > 65535) {
		rc = -ERANGE;
	} else {
		rc = tp_udp_own(l, (uint16_t)(base + w->id), (uint16_t)base,
		    (uint16_t)hi);
	}
	if (rc < 0) {
		tp_listener_close(l);
	}
	return rc;
}

/* Open one listener of the configuration on w's transport. */
static int
listen_one(struct worker *w, const struct conf_listener *cl,
    struct tp_listener **out, char *err, size_t cap)
{
	const struct sockaddr *sa = (const struct sockaddr *)&cl->addr;
	struct sockaddr_storage own_at;
	char name[TP_ADDRSTRLEN];
	int rc;

	switch (cl->proto) {
	case TP_TCP:
		rc = tp_tcp_listen(w->tp, sa, cl->addrlen, out);
		break;
	case TP_TLS: {
		struct tp_tls_conf tls = {
			.cert_file = cl->cert,
			.key_file = cl->key,
			.ca_file = cl->ca[0] ? cl->ca : NULL,
			.verify_peer = cl->verify,
		};
		rc = tp_tls_listen(w->tp, sa, cl->addrlen, &tls, out);
		break;
	}
	default:
		rc = tp_udp_listen(w->tp, sa, cl->addrlen, out);
		if (rc == 0 && (rc = listen_own(w, *out, &own_at, &sa)) < 0) {
			*out = NULL; /* closed */
		}
		break;
	}
	if (rc < 0) {
		snprintf(err, cap, "cannot listen on %s %s (%s)",
		    tp_proto_name(cl->proto),
		    tp_addr_str(sa, name, sizeof(name)), strerror(-rc));
	}
	return rc;
}

/* Transport settings of c, applied on w's thread. */
static void
worker_tp_settings(struct worker *w, const struct conf *c)
{
	struct tp_net lan[CONF_MAX_RANGES];

	tp_set_idle_timeout(w->tp, c->idle_timeout_s);
	tp_set_input_channels(w->tp, c->input_channels);
	tp_set_per_source(w->tp, conf_source_channels(c));
	tp_set_first_message(w->tp, c->first_msg_s);
	tp_set_udp_tos(w->tp, c->udp_tos);
	tp_set_size_limits(w->tp, c->size_limit_lan, c->size_limit_wan);
	tp_set_limits(w->tp, &c->limits);
	for (int i = 0; i < c->nlan; i++) {
		lan[i] = c->lan[i].net;
	}
	tp_set_lan(w->tp, lan, (size_t)c->nlan);
	/* outgoing TLS: the system's CAs unless a file is named */
	struct tp_tls_conf tls = {
		.ca_file = c->tls_client_ca[0] ? c->tls_client_ca : NULL,
		.verify_peer = c->tls_client_verify,
	};
	if (tp_set_tls_client(w->tp, &tls) < 0) {
		log_warn(LOG_TRANSPORT, "tls, cannot load the client CA file "
		    "%s", c->tls_client_ca);
	}
}

static void
worker_free(struct worker *w)
{
	if (w == NULL) {
		return;
	}
	while (w->queue_head != NULL) {
		struct worker_msg *q = w->queue_head;
		w->queue_head = q->next;
		if (q->kind == WMSG_SIP) {
			msg_free(q->m);
			free(q);
		}
	}
	if (w->notes != NULL) {
		note_dir_free(w->notes);
	}
	if (w->tick != NULL) {
		event_free(w->tick);
	}
	if (w->inbox != NULL) {
		event_free(w->inbox);
	}
	core_free(w->core); /* and its transaction table */
	dns_free(w->dns);   /* after the core: its lookups are cancelled */
	tp_free(w->tp);
	if (w->base != NULL) {
		event_base_free(w->base);
	}
	if (w->wake_fd >= 0) {
		close(w->wake_fd);
	}
	free(w->stop_msg);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static struct worker *
worker_new(struct workers *ws, unsigned id, const struct conf *c, char *err,
    size_t cap)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct event_config *cfg;

	if (w == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	w->wake_fd = -1;
	w->id = id;
	w->pool = ws;
	if (steering(ws)) {
		w->notes = calloc(1, sizeof(*w->notes));
		if (w->notes == NULL) {
			snprintf(err, cap, "%s", strerror(ENOMEM));
			goto fail;
		}
		pthread_mutex_init(&w->notes->mu, NULL);
	}
	/* only this thread touches the base: the inbox wakes it by its
	 * eventfd (inbox_push()), the transport's likewise */
	cfg = event_config_new();
	if (cfg != NULL &&
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK) == 0) {
		w->base = event_base_new_with_config(cfg);
	}
	event_config_free(cfg);
	if (w->base == NULL) {
		snprintf(err, cap, "cannot create an event loop");
		goto fail;
	}
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->stop_msg = calloc(1, sizeof(*w->stop_msg));
	if (w->stop_msg == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		goto fail;
	}
	if (w->wake_fd < 0) {
		snprintf(err, cap, "cannot create an eventfd (%s)",
		    strerror(errno));
		goto fail;
	}
	w->tp = tp_new(w->base, c->limits.max_size, worker_recv, w);
	w->core = core_new(c, w->tp, id, ws->reg, ws->secret, ws->auth);
	if (w->core != NULL) {
		core_set_cdr(w->core, ws->cdr);
		core_set_mwi(w->core, ws->mwi);
		core_set_media(w->core, ws->media);
		core_set_gw_shared(w->core, ws->gwsh);
	}
	w->txn = w->core ? core_txn(w->core) : NULL;
	w->inbox = event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST,
	    worker_inbox, w);
	w->tick = event_new(w->base, -1, 0, worker_tick, w);
	if (w->tp == NULL || w->core == NULL || w->inbox == NULL ||
	    w->tick == NULL || event_add(w->inbox, NULL) < 0) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		goto fail;
	}
	if (worker_dns(w, c, err, cap) < 0) {
		goto fail;
	}
	txn_table_set_now(w->txn, now_ms());
	tick_set(w, txn_table_now(w->txn));
	tp_set_index(w->tp, id);
	worker_tp_settings(w, c);
	for (int i = 0; i < c->nlisteners; i++) {
		if (listen_one(w, &c->listeners[i], &w->listeners[i], err,
			cap) < 0) {
			goto fail;
		}
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

struct workers *
workers_new(const struct conf *c, char *err, size_t cap)
{
	unsigned n = c->processors ? c->processors : 1;

	if (n > CONF_MAX_PROCESSORS) {
		n = CONF_MAX_PROCESSORS;
	}
	struct workers *ws = calloc(1, sizeof(*ws) + n * sizeof(ws->w[0]));

	if (ws == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		return NULL;
	}
	ws->n = n;
	ws->conf = *c;
	if (conf_worker_ports(c->worker_ports, &ws->wports) < 0) {
		ws->wports = -1;
	}
	atomic_store(&ws->note_ms, note_life(c));
	/* every worker accepts the nonces of the others */
	if (getrandom(ws->secret, sizeof(ws->secret), 0) !=
	    (ssize_t)sizeof(ws->secret)) {
		snprintf(err, cap, "no random bytes for the nonce key");
		free(ws);
		return NULL;
	}
	/* a Call-ID's note key: not one a peer can aim at another's */
	ws->note_seed = msg_fnv1a(MSG_FNV_INIT, ws->secret, sizeof(ws->secret));
	char path[CONF_PATH_MAX + 32];
	struct reg_settings rs;
	int rerr = 0;
	reg_settings_from(c, &rs);
	if (reg_store_path(c, path, sizeof(path)) != 0) {
		snprintf(err, cap, "no directory for the registrations (set "
		    "reg-store)");
		free(ws);
		return NULL;
	}
	ws->reg = reg_new(&rs, NULL, c->reg.durable ? path : NULL,
	    time(NULL), &rerr);
	if (ws->reg == NULL) {
		snprintf(err, cap, "cannot open the registrations in %s (%s)",
		    path, strerror(-rerr));
		free(ws);
		return NULL;
	}
	/* the message-waiting counts live in the registrations' file */
	ws->mwi = mwi_new(reg_store_where(ws->reg), &rerr);
	if (ws->mwi == NULL) {
		snprintf(err, cap, "cannot open the message-waiting counts in "
		    "%s (%s)", path, strerror(-rerr));
		reg_free(ws->reg);
		free(ws);
		return NULL;
	}
	pthread_mutex_init(&ws->call_lock, NULL);
	pthread_cond_init(&ws->call_done, NULL);
	struct media_settings ms;
	media_settings_from(c, &ms);
	ws->media = media_new(&ms, err, cap);
	if (ws->media == NULL) {
		workers_free(ws);
		return NULL;
	}
	ws->cdr = cdr_new();
	if (ws->cdr == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		workers_free(ws);
		return NULL;
	}
	if (cdr_apply(ws, c, err, cap) < 0) {
		workers_free(ws);
		return NULL;
	}
	/* requests are spread by Call-ID, which the peer picks: a nonce's
	 * count and a source's failures must be the same on every worker */
	ws->auth = auth_state_new(NULL);
	ws->gwsh = core_gw_shared_new();
	if (ws->auth == NULL || ws->gwsh == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		workers_free(ws);
		return NULL;
	}
	struct tp *tps[CONF_MAX_PROCESSORS];
	for (unsigned i = 0; i < n; i++) {
		ws->w[i] = worker_new(ws, i, c, err, cap);
		if (ws->w[i] == NULL) {
			workers_free(ws);
			return NULL;
		}
		tps[i] = ws->w[i]->tp;
	}
	/* the transaction limits cap the total over every worker */
	struct txn_table *tables[CONF_MAX_PROCESSORS];
	for (unsigned i = 0; i < n; i++) {
		tables[i] = ws->w[i]->txn;
	}
	/* a connection belongs to one worker; the others send through it */
	if (txn_table_group(tables, n) < 0 || tp_group_link(tps, n) < 0) {
		snprintf(err, cap, "cannot link the workers' transports");
		workers_free(ws);
		return NULL;
	}
	return ws;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
workers_start(struct workers *ws)
{
	for (unsigned i = 0; i < ws->n; i++) {
		atomic_store(&ws->w[i]->beat, now_ms());
	}
	for (unsigned i = 0; i < ws->n; i++) {
		int rc = pthread_create(&ws->w[i]->thread, NULL, worker_main,
		    ws->w[i]);
		if (rc != 0) {
			for (unsigned j = 0; j < i; j++) {
				worker_stop(ws->w[j]);
				pthread_join(ws->w[j]->thread, NULL);
			}
			return -rc;
		}
	}
	int rc = media_start(ws->media);
	if (rc < 0) {
		for (unsigned j = 0; j < ws->n; j++) {
			worker_stop(ws->w[j]);
			pthread_join(ws->w[j]->thread, NULL);
		}
		return rc;
	}
	log_warn(LOG_SERVER, "media relay, packets moved by %s",
	    media_io(ws->media));
	ws->started = true;
	return 0;
}

struct drain {
	size_t live;
};

static void
count_live(struct worker *w, void *arg)
{
	struct drain *d = arg;

	core_drain(w->core);
	/* a transaction that has its final response only absorbs
	 * retransmissions now: no need to wait for it.  The table counts
	 * the others as they change state: no walk of every transaction */
	d->live += txn_table_pending(w->txn, TXN_SERVER) +
	    txn_table_pending(w->txn, TXN_CLIENT);
}

size_t
workers_drain(struct workers *ws)
{
	struct drain d = { 0 };

	if (!ws->started) {
		return 0;
	}
	for (unsigned i = 0; i < ws->n; i++) {
		workers_call(ws, i, count_live, &d);
	}
	return d.live;
}

void
workers_stop(struct workers *ws, unsigned grace_ms)
{
	uint64_t until = now_ms() + grace_ms;

	if (!ws->started) {
		return;
	}
	/* stop taking new requests; let the running transactions end */
	for (;;) {
		struct drain d = { 0 };
		for (unsigned i = 0; i < ws->n; i++) {
			workers_call(ws, i, count_live, &d);
		}
		if (d.live == 0 || now_ms() >= until) {
			break;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < ws->n; i++) {
		worker_stop(ws->w[i]);
		pthread_join(ws->w[i]->thread, NULL);
	}
	media_stop(ws->media);
	ws->started = false;
}

void
workers_free(struct workers *ws)
{
	if (ws == NULL) {
		return;
	}
	/* answers the store still owes are handed to the workers' inboxes
	 * (and dropped with them) before the workers go */
	reg_flush(ws->reg);
	/* the first worker's table owns what the tables share: last */
	for (unsigned i = ws->n; i-- > 0;) {
		worker_free(ws->w[i]);
	}
	reg_free(ws->reg);
	mwi_free(ws->mwi);
	media_free(ws->media);
	auth_state_free(ws->auth); /* after the workers that use it */
	cdr_free(ws->cdr);
	core_gw_shared_free(ws->gwsh);
	pthread_mutex_destroy(&ws->call_lock);
	pthread_cond_destroy(&ws->call_done);
	free(ws);
}

void
workers_call(struct workers *ws, unsigned i,
    void (*fn)(struct worker *w, void *arg), void *arg)
{
	struct worker_msg wm = { 0 };

	if (i >= ws->n) {
		return;
	}
	if (!ws->started) {
		fn(ws->w[i], arg);
		return;
	}
	wm.kind = WMSG_CALL;
	wm.fn = fn;
	wm.arg = arg;
	(void)inbox_push(ws->w[i], &wm);
	pthread_mutex_lock(&ws->call_lock);
	while (!wm.done) {
		pthread_cond_wait(&ws->call_done, &ws->call_lock);
	}
	pthread_mutex_unlock(&ws->call_lock);
}

struct configure {
	const struct conf *old, *c;
	int rc;
	char *err;
	size_t cap;
};

/*
 * Apply c on w: open the listeners c adds, close those it drops, then the
 * settings.  On a listener failure nothing changes on this worker.
 */
static void
configure_one(struct worker *w, void *arg)
{
	struct configure *cf = arg;
	const struct conf *old = cf->old, *c = cf->c;
	struct tp_listener *next[CONF_MAX_LISTENERS] = { 0 };
	bool kept[CONF_MAX_LISTENERS] = { false };

	if (cf->rc != 0) {
		return;
	}
	for (int i = 0; i < c->nlisteners; i++) {
		for (int j = 0; j < old->nlisteners; j++) {
			if (!kept[j] &&
			    same_listener(&c->listeners[i], &old->listeners[j])) {
				next[i] = w->listeners[j];
				kept[j] = true;
				break;
			}
		}
		if (next[i] == NULL &&
		    listen_one(w, &c->listeners[i], &next[i], cf->err,
			cf->cap) < 0) {
			cf->rc = -EADDRNOTAVAIL;
			for (int k = 0; k <= i; k++) {
				bool fresh = true;
				for (int j = 0; j < old->nlisteners; j++) {
					fresh &= next[k] != w->listeners[j];
				}
				if (fresh) {
					tp_listener_close(next[k]);
				}
			}
			return;
		}
	}
	for (int j = 0; j < old->nlisteners; j++) {
		if (!kept[j]) {
			tp_listener_close(w->listeners[j]);
		}
	}
	memcpy(w->listeners, next, sizeof(next));
	worker_tp_settings(w, c);
	core_configure(w->core, c);
	char derr[256];
	if (worker_dns(w, c, derr, sizeof(derr)) < 0) {
		/* checked when set (conf_dns_check_servers()) */
		log_warn(LOG_TRANSPORT, "%s", derr);
	}
}

int
workers_configure(struct workers *ws, const struct conf *c, char *err,
    size_t cap)
{
	struct configure cf = { &ws->conf, c, 0, err, cap };

	struct reg_settings rs;
	struct media_settings ms;

	/* first: a call records file that cannot be opened changes
	 * nothing */
	if (cdr_apply(ws, c, err, cap) < 0) {
		return -EINVAL;
	}
	/* the range was checked by its command: this cannot fail */
	media_settings_from(c, &ms);
	if (media_configure(ws->media, &ms, err, cap) < 0) {
		(void)cdr_apply(ws, &ws->conf, NULL, 0);
		return -EINVAL;
	}
	reg_settings_from(c, &rs);
	reg_set_settings(ws->reg, &rs);
	for (unsigned i = 0; i < ws->n; i++) {
		workers_call(ws, i, configure_one, &cf);
		if (cf.rc != 0) {
			/* take back what the workers before it applied */
			struct configure back = { c, &ws->conf, 0, err, 0 };
			for (unsigned j = 0; j < i; j++) {
				workers_call(ws, j, configure_one, &back);
			}
			(void)cdr_apply(ws, &ws->conf, NULL, 0);
			/* and the shared parts: nothing changed */
			char ignore[128];
			media_settings_from(&ws->conf, &ms);
			(void)media_configure(ws->media, &ms, ignore,
			    sizeof(ignore));
			reg_settings_from(&ws->conf, &rs);
			reg_set_settings(ws->reg, &rs);
			return cf.rc;
		}
	}
	ws->conf = *c;
	atomic_store(&ws->note_ms, note_life(c));
	return 0;
}
