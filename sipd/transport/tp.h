/*
 * transport: sipd's listening sockets and the send path, the whole public
 * face of sipd/transport.  UDP only for now; TCP and TLS come with their
 * connection table.
 *
 * The transport knows nothing of SIP processing: its owner (the worker)
 * registers one receive callback, which gets each datagram with where it
 * came from.  A struct tp belongs to one worker and its event_base.
 */
#ifndef SIPD_TP_H
#define SIPD_TP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct tp;
struct tp_listener;

enum tp_proto {
	TP_UDP,
};

/* Where a message came from. */
struct tp_src {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum tp_proto proto;
	struct tp_listener *listener; /* it arrived on, and replies leave by */
};

/*
 * Receive callback: data[0..len) is one datagram, valid only during the
 * call.  The callback must not free the listener.
 */
typedef void tp_recv_fn(void *arg, const struct tp_src *src, const char *data,
    size_t len);

/* Longest text tp_addr_str() writes: "[v6 address]:65535" and the NUL. */
#define TP_ADDRSTRLEN 56
/* Datagrams read per wakeup of a UDP listener. */
#define TP_UDP_BATCH 32

/*
 * A transport on base, handing every datagram to recv(arg, ...).
 * max_size is the largest datagram accepted (bigger ones are dropped with
 * a log line).  Returns NULL on allocation failure.
 */
struct tp *tp_new(struct event_base *base, uint32_t max_size,
    tp_recv_fn *recv, void *arg);

/* Close every listener and free tp.  Accepts NULL. */
void tp_free(struct tp *tp);

/*
 * Open a UDP listener on addr (IPv4 or IPv6; IPv6 sockets are v6-only) and
 * start reading.  Returns 0 and the listener in *out (owned by tp; out may
 * be NULL), or a negative errno (-EADDRINUSE, -EACCES, ...).
 */
int tp_udp_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    struct tp_listener **out);

/*
 * Send len bytes to dest (AF_INET or AF_INET6, of the listener's family)
 * from listener's socket.  Returns 0 or a negative errno; a failure is
 * logged here.
 */
int tp_send(struct tp_listener *l, const struct sockaddr *dest,
    const void *bytes, size_t len);

/* "udp 127.0.0.1:5060": the listener's name for logs. */
const char *tp_listener_name(const struct tp_listener *l);

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

#endif
