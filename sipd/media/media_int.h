/*
 * media_int.h: what the relay engine's files share inside sipd/media
 * (relay.c, the engine and its epoll loop; uring.c, the io_uring loop
 * that replaces it where the kernel and the build have io_uring).
 */
#ifndef SIPD_MEDIA_INT_H
#define SIPD_MEDIA_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "sipd/media/media.h"

#define MEDIA_BATCH 32
#define MEDIA_PKT_MAX 2048
#define MEDIA_SLOT_BITS 14
#define MEDIA_SLOT_MASK ((1u << MEDIA_SLOT_BITS) - 1)

_Static_assert(MEDIA_MAX_RELAYS == 1u << MEDIA_SLOT_BITS,
    "a relay id's slot bits cover the table");

enum { SOCK_RTP, SOCK_RTCP };

struct media_sock {
	int fd;
	bool latched;
	bool have_ssrc;
	bool have_prev;
	uint32_t ssrc;      /* the latched stream's */
	uint32_t prev_ssrc; /* the stream the latch moved away from */
	struct sockaddr_storage latch;
};

struct media_leg {
	struct media_sock s[2];            /* RTP, RTCP */
	struct sockaddr_storage local;     /* the RTP port's address */
	struct sockaddr_storage peer[2];   /* from SDP: RTP, RTCP */
	uint64_t packets, bytes, ignored;
};

struct media_relay {
	uint32_t id;
	uint64_t created_ms, last_ms;
	struct media_leg leg[2];
	/* the call it serves (media_relay_bind()): Call-ID, leg A's tag
	 * and leg B's, one allocation; NULL when bound to none */
	char *key;
	uint32_t callid_len, tag_a_len, tag_b_len;
	uint32_t group;
	uint8_t line;
	bool looped;
};

struct media_uring;

struct media {
	pthread_mutex_t lock;
	/* the io_uring loop (uring.c); NULL: the epoll loop */
	struct media_uring *ur;
	/* the io_uring loop's sockets closed since its last round, still
	 * bound until it cancels their reads; the round signals drained */
	uint32_t draining;
	pthread_cond_t drained;
	struct media_settings set;
	int epfd;
	int wakefd;
	pthread_t thread;
	bool running;
	atomic_bool stopping;
	uint16_t cursor;                     /* the next even port to try */
	uint8_t used[65536 / 8];             /* ports our relays hold */
	struct media_relay *slot[MEDIA_MAX_RELAYS];
	uint32_t gen[MEDIA_MAX_RELAYS];
	uint32_t nrelays;
	/* nrelays, read without the lock: a lookup by call when none are
	 * open takes no lock */
	atomic_uint open;
	uint32_t next_slot;
	/* every open relay lies in the win_len slots from win_start, on
	 * round: lookups by call look there, not at the whole table */
	uint32_t win_start, win_len;
	uint64_t next_check_ms;
	uint64_t created, freed, expired, exhausted, packets, bytes;
	/* the batch buffers of media_poll(): one caller at a time */
	struct mmsghdr rx[MEDIA_BATCH], tx[MEDIA_BATCH];
	struct iovec rxiov[MEDIA_BATCH], txiov[MEDIA_BATCH];
	struct sockaddr_storage rxaddr[MEDIA_BATCH], txaddr[MEDIA_BATCH];
	uint8_t rxbuf[MEDIA_BATCH][MEDIA_PKT_MAX];
};

/* Relay id, or NULL when it is gone.  Under the lock. */
struct media_relay *media_relay_find(struct media *m, uint32_t id);

/*
 * A packet p[0..len) from src reached socket k of leg l of relay r
 * (trunc: it did not fit): true when it goes on out of the other leg's
 * socket k to *dst, counted as relayed; false when it is dropped,
 * counted as ignored.  Under the lock.
 */
bool media_packet(struct media *m, struct media_relay *r, int l, int k,
    const struct sockaddr_storage *src, const uint8_t *p, size_t len,
    bool trunc, uint64_t now, struct sockaddr_storage *dst);

/* A packet media_packet() passed was lost on the way out. */
void media_packet_lost(struct media *m, uint32_t id, int l, size_t len);

#ifdef SIPD_HAVE_URING
/*
 * The io_uring loop: m->ur set, or a negative errno (no io_uring here:
 * the epoll loop serves).  When the thread starts, before any relay.
 */
int media_uring_new(struct media *m);
void media_uring_free(struct media *m);
/* Socket k of leg l of relay id is open, or about to close: the loop
 * starts or stops reading it at its next round.  Under the lock. */
void media_uring_open(struct media *m, uint32_t id, int l, int k);
void media_uring_close(struct media *m, uint32_t id, int l, int k);
/* Wait at most timeout_ms for packets (no lock held). */
int media_uring_wait(struct media *m, int timeout_ms);
/* Relay what came; the packets relayed.  Under the lock; the sockets
 * closed before it are released when it returns (m->draining 0). */
int media_uring_run(struct media *m, uint64_t now);
#endif

#endif
