/*
 * The transport tests' harness (harness.h).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
h_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct h *h = arg;

	if (h->nrx >= H_MAX_RX) {
		return;
	}
	h->rx_src[h->nrx] = *src;
	h->rx_data[h->nrx] = malloc(len + 1);
	if (h->rx_data[h->nrx] != NULL) {
		memcpy(h->rx_data[h->nrx], data, len);
		h->rx_data[h->nrx][len] = '\0';
	}
	h->rx_len[h->nrx] = len;
	h->nrx++;
	if (h->echo != NULL) {
		h->echo_rc = tp_send(h->tp, src, h->echo, strlen(h->echo));
	}
}

static void
h_error(void *arg, const struct tp_src *dst, int err)
{
	struct h *h = arg;

	h->nerr++;
	h->err_dst = *dst;
	h->err = err;
}

void
h_init(struct h *h)
{
	memset(h, 0, sizeof(*h));
	h->base = event_base_new();
	if (h->base == NULL) {
		abort();
	}
	h->tp = tp_new(h->base, 65535, h_recv, h);
	if (h->tp == NULL) {
		abort();
	}
	tp_set_error_fn(h->tp, h_error, h);
}

void
h_fini(struct h *h)
{
	tp_free(h->tp);
	event_base_free(h->base);
	for (unsigned i = 0; i < h->nrx; i++) {
		free(h->rx_data[i]);
	}
	memset(h, 0, sizeof(*h));
}

void
h_pump(struct h *h, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)(ms % 1000) * 1000 };

	event_base_loopexit(h->base, &tv);
	event_base_dispatch(h->base);
}

bool
h_wait_rx(struct h *h, unsigned n, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;

	while (h->nrx < n && now_ms() < end) {
		h_pump(h, 5);
	}
	return h->nrx >= n;
}

bool
h_wait_err(struct h *h, unsigned n, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;

	while (h->nerr < n && now_ms() < end) {
		h_pump(h, 5);
	}
	return h->nerr >= n;
}

void
h_addr4(struct sockaddr_storage *out, socklen_t *len, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)out;

	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*len = sizeof(*sin);
}

uint16_t
h_port(const struct tp_listener *l)
{
	struct sockaddr_storage ss;

	tp_listener_addr(l, &ss, NULL);
	return tp_addr_port((struct sockaddr *)&ss);
}

int
cli_connect(uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	h_addr4(&ss, &len, port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
cli_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

size_t
cli_recv(struct h *h, int fd, char *buf, size_t want, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;
	size_t got = 0;

	while (got < want && now_ms() < end) {
		ssize_t n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (n == 0) {
			break;
		}
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			break;
		}
		if (h != NULL) {
			h_pump(h, 5);
		} else {
			usleep(5000);
		}
	}
	return got;
}

bool
cli_wait_closed(struct h *h, int fd, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;
	char buf[4096];

	while (now_ms() < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			return true;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			return true;
		}
		if (n < 0) {
			h_pump(h, 5);
		}
	}
	return false;
}

size_t
mk_msg(char *buf, size_t cap, int cseq, const char *body)
{
	int n = snprintf(buf, cap,
	    "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-%d\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@example.com>;tag=%d\r\n"
	    "To: <sip:bob@example.com>\r\n"
	    "Call-ID: call-%d@example.com\r\n"
	    "CSeq: %d OPTIONS\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n"
	    "%s",
	    cseq, cseq, cseq, cseq, strlen(body), body);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
