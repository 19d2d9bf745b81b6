/*
 * transport internals, shared by the files of sipd/transport and by
 * nothing else: the listener, connection and transport structures and the
 * functions one file provides to another.
 */
#ifndef SIPD_TP_INT_H
#define SIPD_TP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

#include "sipd/msg/msg.h"
#include "sipd/transport/tp.h"

struct bufferevent;
struct event;
struct evconnlistener;

/* conn_id: owner index in the top 8 bits, a sequence number below. */
#define TP_CONN_INDEX_SHIFT 56
#define TP_CONN_SEQ_MASK ((UINT64_C(1) << TP_CONN_INDEX_SHIFT) - 1)
#define TP_GROUP_MAX 256

/* First read buffer of a connection; it grows up to max_size. */
#define TP_CONN_RBUF_MIN 4096

struct tp_listener {
	struct tp *tp;
	struct tp_listener *next;
	enum tp_proto proto;
	int fd;
	struct sockaddr_storage addr; /* as bound */
	socklen_t addrlen;
	char name[TP_ADDRSTRLEN + 8];
	/* UDP */
	struct event *ev;
	/* a shared listener: this tp's worker socket on its address
	 * (tp_udp_own()), or NULL; and the ports [own_lo, own_hi] the
	 * group's worker sockets of this listener take.  A worker socket:
	 * parent, the shared listener it stands beside. */
	struct tp_listener *own;
	struct tp_listener *parent;
	uint16_t own_lo, own_hi;
	size_t bufsize; /* max_size + 1, to see an oversized datagram */
	char *bufs;     /* TP_UDP_BATCH buffers of bufsize */
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *from;
	/* TCP and TLS */
	struct evconnlistener *lev;
	struct event *retry; /* re-enables accepting after EMFILE */
	SSL_CTX *ssl_ctx;    /* TLS */
};

struct tp_conn {
	struct tp *tp;
	uint64_t id;
	enum tp_proto proto;
	bool inbound;
	bool ready; /* connected, and for TLS the handshake done */
	bool dead;  /* unlinked, waiting for the reaper */
	bool got_msg; /* inbound: a whole message arrived */
	bool counted; /* inbound: counted in tp->peers */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[TP_ADDRSTRLEN];
	struct tp_listener *listener; /* that accepted it, or NULL */
	struct bufferevent *bev;
	struct event *rev;  /* plain TCP: reads the socket (tcp_read()) */
	struct event *timer;
	uint64_t t_start;  /* accepted or connect started, ms */
	uint64_t t_active; /* last byte in or out, ms */
	uint64_t t_msg;    /* first byte of the unframed message, or 0 */
	uint64_t timer_at; /* when the timer is due, ms */
	struct msg_framer framer;
	char *rbuf;
	size_t rlen, rcap;
	struct tp_conn *next_addr; /* hash chains */
	struct tp_conn *next_id;
	struct tp_conn *next_dead;
};

/*
 * Open inbound connections per source address, shared by the group (the
 * first tp's, linked into the others by tp_group_link()).
 */
struct tp_peer {
	struct tp_peer *next;
	int family;
	uint8_t addr[16];
	unsigned n;
};

#define TP_PEER_BUCKETS 1024

struct tp_peers {
	pthread_mutex_t mu;
	struct tp_peer *tab[TP_PEER_BUCKETS];
};

/* A hand-off between workers (tp_send() over another's connection). */
struct tp_post {
	struct tp_post *next;
	struct tp *origin;
	int err; /* 0: send bytes to dst; else report err for dst */
	tp_call_fn *fn; /* set: run fn(fn_arg) instead (tp_call()) */
	void *fn_arg;
	struct tp_src dst;
	char *host; /* copy of dst.host */
	size_t len;
	char bytes[];
};

struct tp {
	struct event_base *base;
	uint32_t max_size;
	struct msg_limits limits;
	tp_recv_fn *recv;
	void *arg;
	tp_error_fn *error;
	void *error_arg;
	struct tp_listener *listeners;

	/* settings */
	unsigned idle_s;
	unsigned header_s;
	unsigned input_channels;
	/* open inbound connections, read by the other workers of the group:
	 * Input Channels caps the group's total */
	_Atomic unsigned in_now;
	unsigned per_source; /* inbound connections from one address */
	unsigned first_s;    /* a whole first message within this */
	struct tp_peers *peers;     /* the group's */
	struct tp_peers *peers_own; /* this tp's, freed with it */
	size_t out_max;
	int udp_tos; /* -1: untouched */
	uint32_t size_lan, size_wan;
	struct tp_net *lan;
	size_t nlan;
	SSL_CTX *client_ctx; /* NULL until first needed */
	bool client_custom;  /* client_ctx from tp_set_tls_client() */

	/* connection table */
	struct tp_conn **by_addr;
	struct tp_conn **by_id;
	size_t nbuckets;
	size_t nconns;
	uint64_t next_seq;
	struct tp_conn *dead;
	struct event *reaper;

	/* group */
	unsigned index;
	struct tp **group;
	unsigned ngroup;
	pthread_mutex_t inbox_mu;
	struct tp_post *inbox_head, *inbox_tail;
	bool inbox_woken;    /* inbox_fd written since the last take */
	int inbox_fd;        /* an eventfd, while inbox_ev is set */
	struct event *inbox_ev;

	/* UDP sends queued while a read batch is handled (udp.c) */
	struct tp_udp_out *out;
	bool udp_queue;

	struct tp_stats stats;
};

/* tp.c */
uint64_t tp_now_ms(void);
void tp_listener_link(struct tp *tp, struct tp_listener *l);
/* Fill l->addr from the socket (port 0 bound) and l->name. */
void tp_listener_set_name(struct tp_listener *l);
/*
 * On the group's first tp, before a listener binds addr with SO_REUSEPORT:
 * 0 when no other socket of proto's kind holds addr, -EADDRINUSE (logged)
 * when one does, or another negative errno.
 */
int tp_listen_probe(const struct tp *tp, enum tp_proto proto,
    const struct sockaddr *addr, socklen_t len);

/* udp.c */
void tp_udp_listener_fini(struct tp_listener *l);
/* Free tp's queue of UDP sends (there is none between wakeups). */
void tp_udp_out_free(struct tp *tp);
int tp_udp_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len);
int tp_udp_apply_tos(struct tp_listener *l, int tos);
/* Receive buffers for datagrams up to max_size (kept as they were when
 * memory runs out: logged). */
void tp_udp_resize(struct tp_listener *l, uint32_t max_size);

/* tcp.c */
void tp_stream_listener_fini(struct tp_listener *l);
int tp_stream_listen(struct tp *tp, enum tp_proto proto,
    const struct sockaddr *addr, socklen_t len, SSL_CTX *ctx,
    struct tp_listener **out);

/* tls.c */
SSL_CTX *tp_tls_ctx_server(const struct tp_tls_conf *conf);
SSL_CTX *tp_tls_ctx_client(const struct tp_tls_conf *conf);
/* An SSL for an outgoing connection to peer, named host (or NULL). */
SSL *tp_tls_client_ssl(struct tp *tp, const char *host,
    const struct sockaddr *peer);
/*
 * The reason of the last TLS failure on bev for a log line; sock_err is
 * the socket's errno, used when TLS has no reason of its own.
 */
const char *tp_tls_error(struct bufferevent *bev, int sock_err, char *buf,
    size_t cap);

/* conn.c */
int tp_conns_init(struct tp *tp);
void tp_conns_fini(struct tp *tp);
/* Take over fd, accepted by l. */
void tp_conn_accept(struct tp_listener *l, int fd, const struct sockaddr *sa,
    socklen_t len);
/* The open connection conn_id of tp, or NULL. */
struct tp_conn *tp_conn_find_id(struct tp *tp, uint64_t id);
/* Send on tp over a stream (tp_send() for TCP and TLS, run by the owner). */
int tp_conn_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len);
/* Forget l in the connections it accepted (it is being closed). */
void tp_conns_listener_gone(struct tp *tp, struct tp_listener *l);
/* Settings changed: re-arm every connection's timer. */
void tp_conns_rearm(struct tp *tp);
/* The group's per-source counts: tp_new() / tp_free(). */
int tp_peers_init(struct tp *tp);
void tp_peers_fini(struct tp *tp);
/* Report err for dst to the error callback (or the origin's). */
void tp_report_error(struct tp *tp, const struct tp_src *dst, int err);

/* send.c */
void tp_group_fini(struct tp *tp);

#endif
