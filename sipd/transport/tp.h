/*
 * transport: sipd's listening sockets, its connection table and the send
 * path, the whole public face of sipd/transport.  UDP, TCP and TLS
 * (RFC 3261 18), IPv4 and IPv6.
 *
 * The transport knows nothing of SIP processing: its owner (the worker)
 * registers one receive callback, which gets each datagram, and each
 * message framed from a stream, with where it came from; and optionally an
 * error callback for sends that fail after tp_send() has returned.
 *
 * A struct tp belongs to one worker and its event_base: every function
 * here is called on that worker's thread, except that tp_send() may hand
 * bytes to another worker's tp of the same group (tp_group_link()) when
 * the connection they must leave by belongs to it.
 *
 * Stream connections are owned by the tp that accepted or opened them and
 * are named by a conn_id unique in the group: the owner's index
 * (tp_set_index()) in the top 8 bits, a sequence number below.
 */
#ifndef SIPD_TP_H
#define SIPD_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct msg_limits;
struct tp;
struct tp_listener;

enum tp_proto {
	TP_UDP,
	TP_TCP,
	TP_TLS,
};

/* "udp", "tcp", "tls". */
const char *tp_proto_name(enum tp_proto proto);

/*
 * Where a message came from, or where one goes.
 *
 * For a received message: the peer's address, the transport, the listener
 * it arrived on (for a stream accepted by a listener; NULL on a connection
 * sipd opened) and, on TCP and TLS, the connection (RFC 3261 18.2.2: a
 * response goes back over the connection its request came on).
 *
 * For a destination: addr, addrlen and proto are required; listener (UDP:
 * the socket to send from) and conn_id (streams: the connection to use)
 * are hints, 0/NULL when none (with flow set, conn_id is no hint: the
 * connection or nothing); host is the target's host name for an
 * outgoing TLS connection (sent as SNI and checked against the server's
 * certificate; NULL: the address is checked).  host is not owned: it is
 * read during tp_send() only.
 */
struct tp_src {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum tp_proto proto;
	struct tp_listener *listener;
	uint64_t conn_id; /* 0 for UDP */
	/* a destination's conn_id is a flow (RFC 5626 5.3): that connection
	 * or none, never another one to addr */
	bool flow;
	const char *host;
	/* received over UDP while the socket's receive buffer was at least
	 * TP_UDP_BUSY_PERCENT full: sipd is behind (sipd(8), Queues) */
	bool behind;
};

#define TP_UDP_BUSY_PERCENT 90

/*
 * Receive callback: data[0..len) is one datagram or one framed message,
 * valid only during the call.  The callback may call tp_send() (also to
 * src) and tp_listener_close(), but not tp_free().
 */
typedef void tp_recv_fn(void *arg, const struct tp_src *src, const char *data,
    size_t len);

/*
 * Error callback: bytes that tp_send() accepted for dst could not be
 * delivered (err: a negative errno: the connect failed or timed out, the
 * TLS handshake failed, the connection broke with bytes still queued).
 * Called once per failed connection, on the thread of the tp that owns the
 * connection, or of the tp that called tp_send() when a hand-off to
 * another worker failed at once.  dst names the peer (addr, proto,
 * conn_id; host is NULL).  The callback may call tp_send(), not tp_free().
 */
typedef void tp_error_fn(void *arg, const struct tp_src *dst, int err);

/* TLS settings of a listener, or of outgoing connections. */
struct tp_tls_conf {
	const char *cert_file; /* PEM certificate chain (server: required) */
	const char *key_file;  /* PEM private key (server: required) */
	const char *ca_file;   /* PEM CA certificates to verify peers, or NULL */
	bool verify_peer;      /* require and verify the peer's certificate */
};

/*
 * One line of a Network Address List (LAN, client-ip, nated): the
 * addresses lo to hi of one family (an address alone, a range, or a
 * prefix's addresses), or when exclude, those addresses taken out of what
 * the lines above put in.
 */
struct tp_net {
	uint8_t family;         /* AF_INET or AF_INET6 */
	bool exclude;           /* a "!" line */
	uint8_t lo[16], hi[16]; /* network order; IPv4 in the first 4 */
};

/* Counters of one tp (tp_stats()). */
struct tp_stats {
	uint64_t conns_in;       /* open inbound connections now */
	uint64_t conns_out;      /* open outbound connections now */
	uint64_t tls_now[2];     /* of which TLS: inbound, outbound */
	uint64_t accepted;       /* inbound connections accepted */
	uint64_t refused;        /* inbound: over Input Channels, per source */
	uint64_t connected;      /* outbound connections opened */
	uint64_t connect_failed; /* outbound connects or handshakes failed */
	uint64_t closed_idle;    /* closed by the Idle Timeout */
	uint64_t timed_out;      /* closed: a message, the first message or a
				  * handshake too slow */
	uint64_t framing_errors; /* closed: a stream that cannot be framed */
	uint64_t overflows;      /* closed: output buffer over its bound */
	uint64_t bytes_in;       /* stream and datagram payload bytes */
	uint64_t bytes_out;
};

/* Longest text tp_addr_str() writes: "[v6 address]:65535" and the NUL. */
#define TP_ADDRSTRLEN 56
/* Datagrams read per wakeup of a UDP listener. */
#define TP_UDP_BATCH 32

/* Default ports (the caller passes them; RFC 3261 19.1.2). */
#define TP_PORT_SIP 5060
#define TP_PORT_SIPS 5061

/* Defaults of the settings below. */
#define TP_DEFAULT_IDLE_TIMEOUT 600   /* seconds */
#define TP_DEFAULT_HEADER_TIMEOUT 20  /* seconds */
#define TP_DEFAULT_INPUT_CHANNELS 1024
#define TP_DEFAULT_FIRST_MESSAGE 5    /* seconds */
#define TP_DEFAULT_OUTPUT_LIMIT (1024 * 1024) /* bytes per connection */
#define TP_DEFAULT_SIZE_LIMIT 1300    /* RFC 3261 18.1.1 */

/*
 * A transport on base, handing every datagram and framed message to
 * recv(arg, ...).  max_size is the largest message accepted (bigger
 * datagrams are dropped, a stream carrying one is closed, with a log
 * line).  Returns NULL on allocation failure.
 */
struct tp *tp_new(struct event_base *base, uint32_t max_size,
    tp_recv_fn *recv, void *arg);

/*
 * Close every listener and connection and free tp.  Accepts NULL.  The
 * members of a group are freed after every member's loop has stopped.
 */
void tp_free(struct tp *tp);

/* Register the error callback (NULL: none). */
void tp_set_error_fn(struct tp *tp, tp_error_fn *fn, void *arg);

/* ------------------------------------------------------------ listeners */

/*
 * Open a listener on addr (IPv4 or IPv6; IPv6 sockets are v6-only, and
 * SO_REUSEPORT lets every worker bind the same address) and start reading
 * or accepting.  The tp of index 0 (tp_set_index()) opens first and
 * refuses, -EADDRINUSE, an address that any other socket holds, so that
 * a second process cannot join the workers' port; the others then join
 * it.  Port 0 binds an ephemeral port (tp_listener_addr() reads it back).
 * Returns 0 and the listener in *out (owned by tp; out may be NULL), or a
 * negative errno (-EADDRINUSE, -EACCES, ...).
 */
int tp_udp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out);
int tp_tcp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out);
/*
 * As above, for TLS (minimum TLS 1.2) with the certificate, key and peer
 * verification of tls (read at once, not kept).  Also returns -EINVAL
 * when a file cannot be loaded (the cause is logged).
 */
int tp_tls_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    const struct tp_tls_conf *tls, struct tp_listener **out);

/*
 * A TLS listener's certificate, key and CA made ahead of their use, so
 * that a reload checks every file before it changes anything.
 * tp_tls_ctx_load() returns one or NULL with the cause in err[0..cap)
 * ("tls, cannot load certificate /etc/sipd/cert.pem (no start line)").
 * tp_listener_set_tls() gives l ctx for its next handshakes (l takes its
 * own reference); connections accepted before keep what they had.  From
 * l's worker thread; returns 0 or -EINVAL when l is not TLS.
 * tp_tls_ctx_free() drops the caller's reference and accepts NULL.
 */
struct tp_tls_ctx;
struct tp_tls_ctx *tp_tls_ctx_load(const struct tp_tls_conf *tls,
    char *err, size_t cap);
void tp_tls_ctx_free(struct tp_tls_ctx *ctx);
int tp_listener_set_tls(struct tp_listener *l, struct tp_tls_ctx *ctx);

/*
 * Close a listener of any transport and free it.  The connections it
 * accepted stay open.  Accepts NULL.
 */
void tp_listener_close(struct tp_listener *l);

/* "udp 127.0.0.1:5060": the listener's name for logs. */
const char *tp_listener_name(const struct tp_listener *l);
enum tp_proto tp_listener_proto(const struct tp_listener *l);
/* The bound address (with the port the kernel chose for port 0). */
void tp_listener_addr(const struct tp_listener *l,
    struct sockaddr_storage *out, socklen_t *len);
/*
 * tp's listener of proto bound to addr (address and port), or NULL: the
 * socket to send from so that a NAT sees the flow its client opened.
 */
struct tp_listener *tp_listener_find(struct tp *tp, enum tp_proto proto,
    const struct sockaddr_storage *addr);

/*
 * A worker's own socket beside UDP listener l (set worker-ports): bound
 * to l's address with port (no SO_REUSEPORT: no other socket may share
 * it), read like l.  tp sends from it what tp_send() is given with no
 * listener (the requests the worker forwards or makes), and
 * tp_listener_advertised() names it, so that what comes back reaches
 * this worker.  [lo, hi] are the ports of the group's worker sockets of
 * l (tp_listener_worker_port()).  Port 0 closes the socket.  Returns 0,
 * -EINVAL when l is not a UDP listener of its own, or a negative errno
 * from socket() or bind() (-EADDRINUSE).
 */
int tp_udp_own(struct tp_listener *l, uint16_t port, uint16_t lo,
    uint16_t hi);

/*
 * on: from now the UDP datagrams tp sends are queued, as those sent while
 * a read batch is handled are; off: what was queued leaves, with one
 * sendmmsg() a socket (a refused one is reported to the error callback).
 * For work done outside a read, on tp's thread: a worker's inbox.
 */
void tp_udp_batch(struct tp *tp, bool on);
/* Whether l is a worker's own socket (tp_udp_own()). */
bool tp_listener_is_own(const struct tp_listener *l);
/*
 * The listener whose address and port sipd writes in the Via and the
 * Record-Route it puts on a message leaving to dst (or, for a
 * Record-Route, that came from dst): over UDP the worker socket beside
 * dst->listener, or when dst names none, beside the listener tp_send()
 * would use; else dst->listener (also when it is another tp's).  NULL
 * when dst names none and tp has no worker socket.
 */
struct tp_listener *tp_listener_advertised(struct tp *tp,
    const struct tp_src *dst);
/*
 * Whether port is the port of a worker socket of the group beside tp's
 * listener of proto bound to addr: an address of sipd's own (a Route
 * entry sipd wrote).
 */
bool tp_listener_worker_port(struct tp *tp, enum tp_proto proto,
    const struct sockaddr_storage *addr, uint16_t port);

/*
 * The bound address of a listener of proto and family (AF_INET,
 * AF_INET6) into *out, for Via and Record-Route.  Returns 0, or -ENOENT
 * when tp has no such listener.
 */
int tp_local_addr(struct tp *tp, enum tp_proto proto, int family,
    struct sockaddr_storage *out);

/* ------------------------------------------------------------------ send */

/*
 * Send len bytes (one whole message) to dst.
 *
 * UDP: sendto() from dst->listener when it is one of tp's UDP listeners
 * of dst's family, else from the worker socket (tp_udp_own()) of tp's
 * oldest UDP listener of that family, else from that listener.
 *
 * TCP and TLS: over connection dst->conn_id while it is open (handed to
 * the owning worker when that is another member of the group), else over
 * an open connection of tp to dst's address and transport, else over a
 * new connection (non-blocking: the bytes wait in its output buffer until
 * it is connected, and for TLS until the handshake is done).  A TLS
 * destination never leaves over TCP.
 *
 * Returns 0 when the bytes are sent or queued, or a negative errno: a
 * failure known at once (-EAFNOSUPPORT, -ENETUNREACH, -ECONNREFUSED,
 * -ENOBUFS when the connection's output bound is exceeded: the connection
 * is then closed and the bytes it still held go to the error callback,
 * -EPROTO when conn_id names a connection of another transport, -ENOENT
 * when tp has no UDP listener of dst's family, -ENOTCONN when dst is a
 * flow whose connection is gone).
 * Failures after the return go to the error callback.  Failures are
 * logged here.
 */
int tp_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len);

/*
 * RFC 3261 18.1.1: the transport for a request of len bytes to dst: TP_UDP,
 * or TP_TCP when len exceeds the size limit for dst (the LAN limit when dst
 * is in one of the LAN ranges, else the WAN limit; a limit of 0 means none).
 */
enum tp_proto tp_choose_proto(const struct tp *tp, const struct sockaddr *dst,
    size_t len);

/* -------------------------------------------------------------- settings */

/* Close connections with no traffic for s seconds (0: never). */
void tp_set_idle_timeout(struct tp *tp, unsigned s);
/*
 * Time allowed, in seconds, for the bytes of one message on a stream (from
 * its first byte), for an inbound TLS handshake and for an outgoing connect
 * with its handshake; a slower peer is disconnected.  At least 1.
 */
void tp_set_header_timeout(struct tp *tp, unsigned s);
/* Input Channels: at most n open inbound connections (0: no limit). */
void tp_set_input_channels(struct tp *tp, unsigned n);
/*
 * At most n open inbound connections from one address, counted over the
 * whole group (0: no limit); a connection over it is closed at once.
 */
void tp_set_per_source(struct tp *tp, unsigned n);
/*
 * An inbound connection that has not sent one whole message s seconds
 * after it was accepted (TLS: its handshake included) is closed (at
 * least 1).
 */
void tp_set_first_message(struct tp *tp, unsigned s);
/*
 * The message limits (copied): max_size bounds datagrams (larger ones are
 * dropped) and stream messages, max_line and max_size the framing of
 * streams (a stream over them is closed).  Applies to every listener and
 * connection at once, also those open now.
 */
void tp_set_limits(struct tp *tp, const struct msg_limits *lim);
/* Bytes a connection may hold unsent before it is closed (at least 4096). */
void tp_set_output_limit(struct tp *tp, size_t bytes);
/*
 * UDP TOS Tag: IP_TOS / IPV6_TCLASS (0..255) for every UDP socket, now and
 * later; -1 leaves sockets as they are.  Returns 0, -EINVAL, or the first
 * setsockopt() failure (logged; the other sockets still get it).
 */
int tp_set_udp_tos(struct tp *tp, int tos);
/* Request Size Limit (bytes, 0: none) within the LAN and outside it. */
void tp_set_size_limits(struct tp *tp, uint32_t lan, uint32_t wan);
/*
 * The LAN: the list v[0..n), copied.  Returns 0, -EINVAL for a bad family
 * or a range whose ends are out of order, -ENOMEM.
 */
int tp_set_lan(struct tp *tp, const struct tp_net *v, size_t n);
/*
 * Is sa in the list v[0..n)?  The list is built top to bottom, so the
 * last line that holds sa decides: in for a plain line, out for a "!"
 * one; no line holds it: out.  A v4-mapped IPv6 address (::ffff:a.b.c.d)
 * counts as its IPv4 address.
 */
bool tp_net_match(const struct tp_net *v, size_t n, const struct sockaddr *sa);
/*
 * net/prefix as a list line into out (host bits of net ignored; a
 * v4-mapped net with a prefix of 96 or more counts as IPv4).  Returns 0,
 * or -EINVAL for a bad family or prefix.
 */
int tp_net_prefix(struct tp_net *out, const struct sockaddr *net,
    unsigned prefix);
/*
 * Is sa inside net/prefix?  The one rule for every address list (LAN,
 * client-ip): a v4-mapped IPv6 address (::ffff:192.0.2.1) counts as its
 * IPv4 address, on either side; otherwise families must agree.
 */
bool tp_addr_in_prefix(const struct sockaddr *sa, const struct sockaddr *net,
    unsigned prefix);
/*
 * TLS settings of outgoing connections (copied; NULL restores the
 * default: verify the server against the system's CA store).  Returns 0,
 * or -EINVAL when a file cannot be loaded.
 */
int tp_set_tls_client(struct tp *tp, const struct tp_tls_conf *tls);

/* ----------------------------------------------------------------- group */

/*
 * This tp's index in its group (0..255), the top 8 bits of its conn_ids.
 * Set it before the first connection.
 */
void tp_set_index(struct tp *tp, unsigned idx);

/*
 * Link n transports (all[i] has index i) so that a tp_send() on one of
 * them over a connection owned by another is handed to the owner through
 * its queue and run on its thread, woken by an eventfd of its own: the
 * event_bases need no locks of libevent's (EVENT_BASE_FLAG_NOLOCK does).
 * Call once, before the loops run.
 * Returns 0, -EINVAL (an index mismatch, n over 256) or -ENOMEM.
 */
int tp_group_link(struct tp **all, unsigned n);

/*
 * Run fn(arg, false) on tp's thread, from its loop, soon; for work done on
 * another thread (the registrar's store writer) whose result belongs to
 * the worker.  Any thread may call it once tp is linked in a group.  When
 * tp is freed first, fn(arg, true) runs then, only to release arg.
 * Returns 0, -ENOTCONN (not linked) or -ENOMEM; fn is then not called.
 */
typedef void tp_call_fn(void *arg, bool cancelled);
int tp_call(struct tp *tp, tp_call_fn *fn, void *arg);

/* ----------------------------------------------------------------- stats */

/* tp's counters into *out. */
void tp_stats(const struct tp *tp, struct tp_stats *out);

/* ------------------------------------------------------------- addresses */

/*
 * "192.0.2.1:5060" or "[2001:db8::1]:5060" into buf (TP_ADDRSTRLEN bytes).
 * Returns buf ("?" for an unknown family).
 */
const char *tp_addr_str(const struct sockaddr *sa, char *buf, size_t cap);
/* The address alone, without port or brackets ("2001:db8::1"). */
const char *tp_addr_host(const struct sockaddr *sa, char *buf, size_t cap);
/* The port of an AF_INET or AF_INET6 address (0 otherwise). */
uint16_t tp_addr_port(const struct sockaddr *sa);
/* Set the port of an AF_INET or AF_INET6 address. */
void tp_addr_set_port(struct sockaddr *sa, uint16_t port);
/* sizeof the sockaddr of sa's family (0 for an unknown family). */
socklen_t tp_addr_len(const struct sockaddr *sa);

#endif
