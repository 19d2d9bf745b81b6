/*
 * Test harness for the transport tests: an event_base with a tp whose
 * receive and error callbacks record what they get, a loop driven for a
 * bounded time, and blocking loopback client sockets read while the loop
 * runs.  Every wait is bounded in time.
 */
#ifndef TESTS_TP_HARNESS_H
#define TESTS_TP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sipd/transport/tp.h"

#define H_MAX_RX 256

struct h {
	struct event_base *base;
	struct tp *tp;
	unsigned nrx;
	struct tp_src rx_src[H_MAX_RX];
	char *rx_data[H_MAX_RX];
	size_t rx_len[H_MAX_RX];
	unsigned nerr;
	struct tp_src err_dst;
	int err;
	/* a reply sent from the receive callback, over the same connection */
	const char *echo;
	int echo_rc;
};

void h_init(struct h *h);
void h_fini(struct h *h);
/* Run h's loop for ms milliseconds. */
void h_pump(struct h *h, unsigned ms);
/* Run the loop until h has received n messages; false after max_ms. */
bool h_wait_rx(struct h *h, unsigned n, unsigned max_ms);
/* Run the loop until the error callback has run n times. */
bool h_wait_err(struct h *h, unsigned n, unsigned max_ms);

/* 127.0.0.1 with port in *out. */
void h_addr4(struct sockaddr_storage *out, socklen_t *len, uint16_t port);
/* A listener's bound port. */
uint16_t h_port(const struct tp_listener *l);

/* A blocking TCP client connected to 127.0.0.1:port, or -1. */
int cli_connect(uint16_t port);
void cli_send(int fd, const void *buf, size_t len);
/*
 * Read from fd while h's loop runs until want bytes have come (or the
 * peer closed, or max_ms passed).  Returns the bytes read.
 */
size_t cli_recv(struct h *h, int fd, char *buf, size_t want,
    unsigned max_ms);
/* Run h's loop until fd sees the end of the stream; false after max_ms. */
bool cli_wait_closed(struct h *h, int fd, unsigned max_ms);

/* A SIP request with Content-Length and body into buf.  Returns its length. */
size_t mk_msg(char *buf, size_t cap, int cseq, const char *body);

#endif
