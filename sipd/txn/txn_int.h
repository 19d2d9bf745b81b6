/*
 * Private to sipd/txn: the transaction and table structures, the timing
 * wheel, and the functions the server and client halves share.
 */
#ifndef SIPD_TXN_INT_H
#define SIPD_TXN_INT_H

#include <netinet/in.h>
#include <stdatomic.h>

#include "sipd/txn/txn.h"

/* ------------------------------------------------------------- timers */

#define WHEEL_SLOTS 8192
#define WHEEL_RES_MS 8 /* one slot: a revolution is about 65 s, so the
                        * 64*T1 timers of finished transactions are
                        * visited once, not once per revolution */

struct txn_timer {
	struct txn_timer *prev, *next; /* in its slot; NULL when idle */
	/* in one word: a ringing call holds four of these */
	uint64_t due : 63;
	uint64_t which : 1; /* enum txn_timer_id */
};

struct txn_wheel {
	struct txn_timer slots[WHEEL_SLOTS]; /* list heads */
	uint64_t done_ms; /* every timer due at or before this has fired */
	size_t count;
};

void wheel_init(struct txn_wheel *w, uint64_t now);
void wheel_arm(struct txn_wheel *w, struct txn_timer *tm, uint64_t due);
void wheel_cancel(struct txn_wheel *w, struct txn_timer *tm);
/* No timer is due before the time returned, at most limit (ms). */
uint64_t wheel_next(const struct txn_wheel *w, uint64_t limit);
/* Fire (through fn) every timer due by now, in no particular order. */
void wheel_advance(struct txn_wheel *w, uint64_t now,
    void (*fn)(void *arg, struct txn_timer *tm), void *arg);

static inline bool
timer_armed(const struct txn_timer *tm)
{
	return tm->next != NULL;
}

/* ------------------------------------------------------- transactions */

/* What the retransmission timer and the end timer of a txn stand for. */
enum txn_timer_id {
	TM_RETX, /* A, E, G */
	TM_END,  /* B, C, D, F, H, I, J, K, L, M */
};

struct txn_link {
	struct txn *prev, *next;
};

/*
 * Bytes a transaction keeps (text.c): the bytes themselves (base NULL),
 * or an edit script over base's bytes, which it holds a reference to.
 * Shared by reference count: a forwarded request's script holds the
 * received request's text.
 */
struct txn_text {
	struct txn_text *base;
	uint32_t refs;
	uint32_t len; /* the bytes' length; a script ends where they do */
	char d[];
};

/* m serialized into a new text.  NULL on allocation failure. */
struct txn_text *txn_text_new(struct msg *m);
/* A copy of the n bytes at p as a new text.  NULL on allocation
 * failure. */
struct txn_text *txn_text_copy(const char *p, size_t n);
/* p[0..len) as a script over base, which must hold bytes; NULL when
 * that is no smaller (keep the bytes) or on allocation failure. */
struct txn_text *txn_text_delta(struct txn_text *base, const char *p,
    uint32_t len);
/*
 * m as a script over base, when that is smaller, else as bytes: m is
 * written to buf (cap bytes) for it, or when it does not fit to a new
 * allocation *tmp, which the caller frees once it has sent them; *bytes
 * points at what was written (x->len of them).  base NULL: m as a text
 * of its own, *bytes its bytes.  NULL on allocation failure.  The bytes
 * of a forwarded INVITE or a ringing response are written once, and
 * the full text is not kept.
 */
#define TXN_TEXT_BUF 4096
struct txn_text *txn_text_over(struct txn_text *base, struct msg *m,
    char *buf, size_t cap, const char **bytes, char **tmp);
/*
 * The same for m, the message base was written from, since edited (a
 * request forwarded as received but for the lines the proxy changed):
 * the script is made from where m's bytes come from (msg_write_runs()),
 * a copy of base for each run of lines no edit touched, instead of by
 * matching the lines of the two texts.  Its bytes are the same.
 */
struct txn_text *txn_text_edited(struct txn_text *base, struct msg *m,
    char *buf, size_t cap, const char **bytes, char **tmp);
void txn_text_unref(struct txn_text *x);
/* x's bytes (x->len of them): x's own, or written to a new allocation
 * *tmp, which the caller frees.  NULL on failure. */
const char *txn_text_bytes(const struct txn_text *x, char **tmp);

struct txn {
	struct txn *hnext;        /* hash chain */
	struct txn_link all;       /* table list of this kind, oldest first */
	struct txn_link wait;      /* waiting list of this kind (txn_wait()) */
	struct txn_table *tbl;
	struct txn_timer retx;     /* A, E or G */
	struct txn_timer end;      /* the timer that ends a state */
	uint64_t id;
	uint64_t created_ms;
	uint32_t hash;             /* the key's (low half): its low bits pick
	                            * the bucket */
	uint32_t retx_ms;          /* current retransmission interval */
	uint32_t retx_count;
	/* the small fields together: a ringing call holds two of these */
	uint8_t kind : 1;  /* enum txn_kind */
	uint8_t state : 3; /* enum txn_state */
	bool reliable : 1;
	bool dead : 1;     /* terminated, freed once the current event is
	                    * done */
	bool c_fired : 1;  /* client INVITE: Timer C fired, the TU cancelled */
	bool waiting : 1;  /* on the waiting list: may give way (txn_wait()) */
	uint8_t method;    /* enum msg_method of the request (ACK never) */
	uint8_t mlen, clen;        /* method name (an extension's; 0: the
	                            * name of method) and Call-ID after the
	                            * key, for the live view */
	uint16_t status;
	uint16_t resp_port;        /* server: responses go to the peer's
	                            * address at this port; 0: its port */
	uint16_t keylen;
	struct txn_addr peer;      /* request source, or request destination */
	/* the request parsed: a server's RFC 2543 transaction keeps it (its
	 * matching reads it); otherwise parsed again from rq on demand and
	 * kept as long as txn_request() says */
	struct msg *req;
	struct txn_text *rq;       /* the request, as sent (client: a script
	                            * over its server transaction's, when it
	                            * forwards one) or received (server) */
	struct txn_text *rs;       /* what absorbs a retransmission: the last
	                            * response (server; a provisional one as
	                            * a script over rq), the ACK for a
	                            * non-2xx (client INVITE) */
	void *tu;
	char key[];
};

/* Parses txn_request() frees on leaving the table, per entry; more are
 * kept until their transaction ends. */
#define TXN_TMP_MAX 8

struct txn_list {
	struct txn *head, *tail;
	uint32_t count;
};

struct txn_table {
	struct txn_settings set;
	struct txn_ops ops;
	void *arg;
	unsigned shard;
	/* what every branch made here starts with: "z9hG4bKs", the shard
	 * in hex, "." (txn_branch_new()) */
	char bprefix[20];
	uint8_t bprefix_len;
	uint64_t now;
	uint64_t seed;
	uint64_t next_id;
	uint64_t branch_ctr;
	struct txn **buckets;
	size_t nbuckets; /* a power of two */
	size_t nlive;
	struct txn_list lists[2]; /* by kind */
	struct txn_list waiting[2]; /* by kind, in the order they began to
	                             * wait: the oldest gives way first */
	struct txn_wheel wheel;
	struct txn_stats stats;
	struct txn *dead;         /* terminated, awaiting free */
	/* live transactions by kind, read by the other tables of the group:
	 * the limits cap the group's total */
	_Atomic uint32_t live[2];
	_Atomic uint32_t nwaiting[2]; /* of live, those on waiting[] */
	/* of live, by kind, those without a final response yet (Calling,
	 * Trying, Proceeding): kept by txn_set_state(), read by the drain
	 * at shutdown without a walk */
	uint32_t pending[2];
	struct txn_table **group;
	unsigned ngroup;
	int depth;                /* nested entry into the table */
	/* requests txn_request() parsed inside this entry into the table,
	 * freed when control leaves it: a ringing call keeps only bytes */
	struct txn *tmp[TXN_TMP_MAX];
	unsigned ntmp;
};

/* Keys (RFC 3261 17.1.3, 17.2.3); written to buf, length returned, 0 when
 * the message lacks what the key needs.  method is the transaction's. */
#define TXN_KEY_MAX 1024
size_t txn_server_key(struct msg *req, enum msg_method method, char *buf);
size_t txn_client_key(struct sv branch, enum msg_method method, char *buf);
/* For a server transaction matched by the RFC 2543 key, which leaves the
 * To tag out: whether req's To tag is the one 17.2.3 asks for.  True for a
 * transaction with an RFC 3261 branch. */
bool txn_server_to_tag_ok(struct txn *x, struct msg *req);
/* Whether x was matched by the RFC 2543 key (no magic cookie). */
bool txn_key_2543(const struct txn *x);

uint64_t txn_hash(const struct txn_table *t, const char *key, size_t len);
struct txn *txn_lookup(struct txn_table *t, const char *key, size_t len);
/* The same with the key's txn_hash() already computed. */
struct txn *txn_lookup_hash(struct txn_table *t, const char *key, size_t len,
    uint64_t hash);
/* A new transaction with this key, whose txn_hash() is hash, linked into
 * the table; req gives the method name and Call-ID the live view
 * shows. */
struct txn *txn_alloc(struct txn_table *t, enum txn_kind kind,
    const char *key, size_t len, uint64_t hash, struct msg *req);
/* Once the final response is through, drop what the remaining state no
 * longer needs: the request (kept for an RFC 2543 server transaction,
 * whose matching reads it) and, where nothing will be resent, the
 * response.  A finished transaction waits 64*T1 on little memory. */
void txn_shed(struct txn *x);
/* x only absorbs retransmissions from now on (RFC 3261 Timers I, J, D, K;
 * RFC 6026 Timers L, M): at the limit of its kind, the transaction that
 * has waited longest gives way to a new one instead of the new one being
 * refused.  A late retransmission it would have absorbed is then handled
 * as new, which the next hop absorbs in turn. */
void txn_wait(struct txn *x);
/* Move to TERMINATED: timers off, TU told, freed when the table is left. */
void txn_terminate(struct txn *x);
/* The same without telling the TU: for a transaction it never received
 * (txn_client_new() failed). */
void txn_discard(struct txn *x);
/* Move x to state s, counting it among the pending ones or not. */
static inline void
txn_set_state(struct txn *x, enum txn_state s)
{
	bool was = x->state <= TXN_PROCEEDING, now = s <= TXN_PROCEEDING;

	_Static_assert(TXN_CALLING == 0 && TXN_TRYING == 1 &&
	    TXN_PROCEEDING == 2, "the pending states come first");
	if (was != now) {
		if (was) {
			x->tbl->pending[x->kind]--;
		} else {
			x->tbl->pending[x->kind]++;
		}
	}
	x->state = (uint8_t)s;
}

void txn_enter(struct txn_table *t);
void txn_leave(struct txn_table *t);

void txn_arm(struct txn *x, struct txn_timer *tm, uint32_t ms);
int txn_send(struct txn *x, const struct tp_src *dst, const char *buf,
    size_t len);
/* Send text to dst. */
int txn_send_text(struct txn *x, const struct tp_src *dst,
    const struct txn_text *text);

void txn_server_fire(struct txn *x, enum txn_timer_id which);
void txn_client_fire(struct txn *x, enum txn_timer_id which);

#endif
