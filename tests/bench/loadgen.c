/*
 * loadgen: the caller and the callee of bench_proxy.py in one process, for
 * rates where sipp is the limit.  It makes the calls of uac.xml and answers
 * them as uas.xml does, through the proxy under test: INVITE, 100 and 180
 * (optional), 200, ACK and BYE along the Route set learnt from the 200's
 * Record-Route, 200.  The callee answers an INVITE with 180 and, after the
 * hold time, 200 (Record-Route, Via, From, To, Call-ID and CSeq copied),
 * takes the ACK and answers the BYE.
 *
 * Calls are paced: a timer fires every 1/rate seconds (at least every
 * 100 us) and creates the calls that are due, so the proxy sees an even
 * stream, not bursts.  Over UDP both sides read with recvmmsg() and send
 * with one sendmmsg() per loop turn; RFC 3261 retransmissions are made
 * (17.1.1.2 Timer A and B for the INVITE, 17.1.2.2 Timer E and F for the
 * BYE, 13.3.1.4 for the callee's 2xx until the ACK).  Over TCP the caller
 * uses one connection to the proxy, the callee accepts the proxy's
 * connections; no retransmissions (as sipp), the same timeouts.
 * A call fails on a final response other than 200, or when Timer B or F
 * fires, or when the run's deadline passes first.
 *
 *	loadgen [-t udp|tcp] [-r rate] [-n calls] [-d hold_ms] [-D domain]
 *	    [-T seconds] [-b rcvbuf] [-B burst_ms] [-i addr] [-v] -s port
 *	    -p uac_port -u uas_port
 *
 * -s is the proxy's port, -p and -u the ports the caller and the callee
 * bind (the proxy routes bench.invalid, or -D's domain, to the callee's),
 * -T the deadline counted from the first call, -B releases the calls due
 * in bursts every burst_ms instead of one by one, -S paces the calls as
 * sipp does (below), -v names the first calls
 * that did not succeed, with their states, on stderr.  At the end (or on
 * SIGINT, SIGTERM) it prints one line of key=value counts on stdout; exit status 0 when every
 * call succeeded, 1 otherwise, 2 on a usage or set-up error.
 *
 * -S: sipp's scheduler (SIPp 3.6, call_generation_task.cpp and
 * pollset_process()).  sipp's loop turns when a message arrives or when
 * epoll_wait()'s 1 ms timeout passes; each turn opens the calls due by its
 * millisecond clock, (unsigned)(ms since start * rate / 1000) minus those
 * opened, all at once.  So the calls leave in the clumps the turns make
 * (a turn is late whenever the generator is busy or descheduled), not
 * one every 1/rate s: that is what a server driven by sipp sees, and how
 * many datagrams each of its wakeups finds depends on it.
 *
 * bench_proxy.py builds it with cc; with SIPD_BENCH CMake builds it too,
 * with the project's warnings.  It is not a SIP implementation: it trusts
 * the proxy and parses only what the call flow needs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, accept4 */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LG_BATCH 64
#define LG_DGRAM 4096
#define LG_T1_MS 500u /* RFC 3261 Timer T1 */
#define LG_T2_MS 4000u /* RFC 3261 Timer T2 */
#define LG_TIMEOUT_MS (64u * LG_T1_MS) /* Timers B, F */
#define LG_SCAN_MS 10u
#define LG_MAXCONN 64
#define LG_STREAM (256 * 1024)
#define LG_MSG 2048

enum lg_uac {
	UAC_IDLE,
	UAC_INVITE, /* INVITE sent, nothing back yet */
	UAC_RINGING, /* provisional received */
	UAC_BYE, /* ACK and BYE sent */
	UAC_OK,
	UAC_FAILED,
};

enum lg_uas {
	UAS_NONE,
	UAS_RINGING, /* 180 sent, 200 due after the hold time */
	UAS_ANSWERED, /* 200 sent, retransmitted until the ACK */
	UAS_CONFIRMED,
	UAS_DONE, /* BYE answered */
};

struct lg_call {
	uint8_t uac, uas;
	int uas_conn; /* TCP: the connection the INVITE came on */
	uint64_t uac_start, uac_next, uac_iv;
	uint64_t uas_start, uas_next, uas_iv;
	char *req; /* the caller's request being retransmitted */
	size_t req_len;
	char *ack;
	size_t ack_len;
	char *ok; /* the callee's 2xx, kept until the ACK */
	size_t ok_len;
	struct sockaddr_in uas_peer;
	struct lg_call *prev, *next; /* the active list */
};

struct lg_conn {
	int fd;
	size_t in_len, out_len, out_cap;
	char *in, *out;
};

struct lg_stats {
	unsigned long created, ok, failed, fail_status, fail_timeout,
	    fail_deadline, retrans, ack_timeouts, stray, sent, received,
	    send_errors, conn_errors;
	uint64_t last_created_ms, max_lag_ms;
};

struct lg {
	int tcp, ep, tfd;
	struct sockaddr_in server, uac_addr, uas_addr;
	int uac_fd, uas_fd; /* UDP sockets, or the TCP connection/listener */
	unsigned rate, hold_ms, deadline_s, burst_ms;
	int sipp_sched; /* -S: calls opened per loop turn, as sipp does */
	unsigned long ncalls;
	int rcvbuf;
	struct lg_call *calls;
	struct lg_call active; /* list head */
	uint64_t t0, last_scan;
	struct lg_stats st;
	/* UDP send queue, flushed once per loop turn */
	struct mmsghdr out[LG_BATCH];
	struct iovec out_iov[LG_BATCH];
	struct sockaddr_in out_to[LG_BATCH];
	int out_fd[LG_BATCH];
	char out_buf[LG_BATCH][LG_MSG];
	int nout;
	/* TCP connections by descriptor slot */
	struct lg_conn conns[LG_MAXCONN];
	unsigned pid;
	char uac_host[64], uas_host[64];
	const char *ip; /* -i: the address in the SDP bodies */
	const char *domain; /* of the Request-URI and To (-D) */
};

static volatile sig_atomic_t lg_stop;

static void
lg_on_signal(int sig)
{
	(void)sig;
	lg_stop = 1;
}

static uint64_t
lg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
lg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------ parsing */

struct lg_hdr {
	const char *name, *val;
	size_t nlen, vlen;
};

/* The next header line of msg after *pos; 0 at the end of the headers. */
static int
lg_next_hdr(const char *msg, size_t len, size_t *pos, struct lg_hdr *h)
{
	const char *p = msg + *pos, *end = msg + len, *e, *c;

	e = memchr(p, '\n', (size_t)(end - p));
	if (e == NULL || e - p <= 1) {
		return 0;
	}
	*pos = (size_t)(e + 1 - msg);
	c = memchr(p, ':', (size_t)(e - p));
	if (c == NULL) {
		h->name = p;
		h->nlen = 0;
		h->val = p;
		h->vlen = 0;
		return 1;
	}
	h->name = p;
	h->nlen = (size_t)(c - p);
	while (h->nlen > 0 && (p[h->nlen - 1] == ' ' || p[h->nlen - 1] == '\t')) {
		h->nlen--;
	}
	c++;
	while (c < e && (*c == ' ' || *c == '\t')) {
		c++;
	}
	h->val = c;
	h->vlen = (size_t)(e - c);
	if (h->vlen > 0 && c[h->vlen - 1] == '\r') {
		h->vlen--;
	}
	return 1;
}

static int
lg_is(const struct lg_hdr *h, const char *lname, char compact)
{
	size_t l = strlen(lname);

	if (h->nlen == 1 && compact != 0) {
		return (h->name[0] | 0x20) == compact;
	}
	return h->nlen == l && strncasecmp(h->name, lname, l) == 0;
}

/* The first line's end: where the headers start. */
static size_t
lg_headers_at(const char *msg, size_t len)
{
	const char *e = memchr(msg, '\n', len);

	return e == NULL ? len : (size_t)(e + 1 - msg);
}

/* Call number from our Call-ID, "lg<n>.<pid>@...", or -1. */
static long
lg_call_of(const struct lg *g, const char *msg, size_t len)
{
	size_t pos = lg_headers_at(msg, len);
	struct lg_hdr h;

	while (lg_next_hdr(msg, len, &pos, &h)) {
		if (lg_is(&h, "call-id", 'i')) {
			unsigned long n = 0;
			size_t i = 2;

			if (h.vlen < 3 || h.val[0] != 'l' || h.val[1] != 'g') {
				return -1;
			}
			while (i < h.vlen && h.val[i] >= '0' && h.val[i] <= '9') {
				n = n * 10 + (unsigned long)(h.val[i++] - '0');
			}
			return n < g->ncalls ? (long)n : -1;
		}
	}
	return -1;
}

/* ----------------------------------------------------------- sending */

static void
lg_flush_udp(struct lg *g)
{
	int i = 0;

	/* one sendmmsg per socket run: the queue alternates rarely */
	while (i < g->nout) {
		int fd = g->out_fd[i], j = i, r;

		while (j < g->nout && g->out_fd[j] == fd) {
			j++;
		}
		while (i < j) {
			r = sendmmsg(fd, g->out + i, (unsigned)(j - i), 0);
			if (r < 0) {
				if (errno == EINTR) {
					continue;
				}
				g->st.send_errors++;
				i++;
				continue;
			}
			i += r > 0 ? r : 1;
		}
	}
	g->nout = 0;
}

static void
lg_conn_flush(struct lg *g, struct lg_conn *c)
{
	size_t off = 0;

	while (off < c->out_len) {
		ssize_t r = send(c->fd, c->out + off, c->out_len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN) {
				g->st.conn_errors++;
				c->out_len = 0;
				return;
			}
			break;
		}
		off += (size_t)r;
	}
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
}

static void
lg_flush(struct lg *g)
{
	if (!g->tcp) {
		lg_flush_udp(g);
		return;
	}
	for (int i = 0; i < LG_MAXCONN; i++) {
		if (g->conns[i].fd >= 0 && g->conns[i].out_len > 0) {
			lg_conn_flush(g, &g->conns[i]);
		}
	}
}

static struct lg_conn *
lg_conn_of(struct lg *g, int fd)
{
	for (int i = 0; i < LG_MAXCONN; i++) {
		if (g->conns[i].fd == fd) {
			return &g->conns[i];
		}
	}
	return NULL;
}

/* Queues one message: from the caller's side (uac) or the callee's.  Over
 * UDP to the address given, over TCP on connection fd. */
static void
lg_send(struct lg *g, int uac, int fd, const struct sockaddr_in *to,
    const char *msg, size_t len)
{
	g->st.sent++;
	if (g->tcp) {
		struct lg_conn *c = lg_conn_of(g, uac ? g->uac_fd : fd);

		if (c == NULL) {
			g->st.conn_errors++;
			return;
		}
		if (c->out_len + len > c->out_cap) {
			lg_conn_flush(g, c);
		}
		if (c->out_len + len > c->out_cap) {
			/* the proxy reads slower than we write: queue, never
			 * drop, as TCP has no retransmission to recover */
			size_t cap = 2 * (c->out_len + len);
			char *p = realloc(c->out, cap);

			if (p == NULL) {
				g->st.send_errors++;
				return;
			}
			c->out = p;
			c->out_cap = cap;
		}
		memcpy(c->out + c->out_len, msg, len);
		c->out_len += len;
		return;
	}
	if (g->nout == LG_BATCH) {
		lg_flush_udp(g);
	}
	if (len > LG_MSG) {
		g->st.send_errors++;
		return;
	}
	int i = g->nout++;

	memcpy(g->out_buf[i], msg, len);
	g->out_to[i] = *to;
	g->out_fd[i] = uac ? g->uac_fd : g->uas_fd;
	g->out_iov[i].iov_base = g->out_buf[i];
	g->out_iov[i].iov_len = len;
	memset(&g->out[i], 0, sizeof(g->out[i]));
	g->out[i].msg_hdr.msg_name = &g->out_to[i];
	g->out[i].msg_hdr.msg_namelen = sizeof(g->out_to[i]);
	g->out[i].msg_hdr.msg_iov = &g->out_iov[i];
	g->out[i].msg_hdr.msg_iovlen = 1;
}

static char *
lg_dup(const char *p, size_t n)
{
	char *d = malloc(n);

	if (d != NULL) {
		memcpy(d, p, n);
	}
	return d;
}

/* -------------------------------------------------------- active list */

static void
lg_activate(struct lg *g, struct lg_call *c)
{
	if (c->next != NULL) {
		return;
	}
	c->next = g->active.next;
	c->prev = &g->active;
	g->active.next->prev = c;
	g->active.next = c;
}

static void
lg_deactivate(struct lg_call *c)
{
	if (c->next == NULL) {
		return;
	}
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void
lg_maybe_idle(struct lg_call *c)
{
	if ((c->uac == UAC_OK || c->uac == UAC_FAILED) &&
	    c->uas != UAS_RINGING && c->uas != UAS_ANSWERED) {
		lg_deactivate(c);
	}
}

static void
lg_uac_end(struct lg *g, struct lg_call *c, int ok)
{
	c->uac = ok ? UAC_OK : UAC_FAILED;
	if (ok) {
		g->st.ok++;
	} else {
		g->st.failed++;
	}
	free(c->req);
	free(c->ack);
	c->req = c->ack = NULL;
	lg_maybe_idle(c);
}

/* ------------------------------------------------------------ caller */

static const char lg_sdp_fmt[] =
    "v=0\r\n"
    "o=%s 1 1 IN IP4 %s\r\n"
    "s=-\r\n"
    "c=IN IP4 %s\r\n"
    "t=0 0\r\n"
    "m=audio %u RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

static void
lg_uac_invite(struct lg *g, unsigned long n, uint64_t now)
{
	struct lg_call *c = &g->calls[n];
	const char *tp = g->tcp ? "TCP" : "UDP";
	char sdp[512], msg[LG_MSG];
	int sl, ml;

	sl = snprintf(sdp, sizeof(sdp), lg_sdp_fmt, "bench", g->ip, g->ip,
	    6000u);
	ml = snprintf(msg, sizeof(msg),
	    "INVITE sip:service@%s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s;branch=z9hG4bK-lg%u.%lui\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:bench@%s>;tag=%lu\r\n"
	    "To: <sip:service@%s>\r\n"
	    "Call-ID: lg%lu.%u@%s\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Contact: <sip:bench@%s;transport=%s>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: %d\r\n\r\n%s",
	    g->domain, tp, g->uac_host, g->pid, n, g->uac_host, n, g->domain,
	    n, g->pid, g->uac_host, g->uac_host, g->tcp ? "tcp" : "udp", sl,
	    sdp);
	c->req = lg_dup(msg, (size_t)ml);
	c->req_len = (size_t)ml;
	c->uac = UAC_INVITE;
	c->uac_start = now;
	c->uac_iv = LG_T1_MS;
	c->uac_next = now + LG_T1_MS;
	g->st.created++;
	lg_activate(g, c);
	lg_send(g, 1, -1, &g->server, msg, (size_t)ml);
}

/* The caller's ACK and BYE after the 200: Request-URI the callee's
 * Contact, Route the Record-Route set reversed (RFC 3261 12.1.2). */
static void
lg_uac_answered(struct lg *g, struct lg_call *c, unsigned long n,
    const char *msg, size_t len, uint64_t now)
{
	const char *rr[16];
	size_t rrl[16], pos = lg_headers_at(msg, len);
	int nrr = 0, o;
	struct lg_hdr h, to = { 0 }, contact = { 0 };
	char route[1024], ruri[256], buf[LG_MSG];
	size_t ro = 0;
	const char *tp = g->tcp ? "TCP" : "UDP";

	while (lg_next_hdr(msg, len, &pos, &h)) {
		if (lg_is(&h, "record-route", 0)) {
			/* each comma-separated entry */
			const char *p = h.val, *e = h.val + h.vlen;

			while (p < e && nrr < 16) {
				const char *q = p;
				int in = 0;

				while (q < e && (in || *q != ',')) {
					in = *q == '<' ? 1 : *q == '>' ? 0 : in;
					q++;
				}
				while (p < q && *p == ' ') {
					p++;
				}
				rr[nrr] = p;
				rrl[nrr++] = (size_t)(q - p);
				p = q + 1;
			}
		} else if (lg_is(&h, "to", 't')) {
			to = h;
		} else if (lg_is(&h, "contact", 'm')) {
			contact = h;
		}
	}
	{
		const char *a = memchr(contact.val, '<', contact.vlen);
		const char *b = a ? memchr(a, '>', contact.vlen -
		    (size_t)(a - contact.val)) : NULL;

		if (a == NULL || b == NULL || (size_t)(b - a) >= sizeof(ruri)) {
			lg_uac_end(g, c, 0);
			g->st.fail_status++;
			return;
		}
		memcpy(ruri, a + 1, (size_t)(b - a - 1));
		ruri[b - a - 1] = 0;
	}
	if (nrr > 0) {
		ro = (size_t)snprintf(route, sizeof(route), "Route: ");
		for (int i = nrr - 1; i >= 0 && ro + rrl[i] + 8 < sizeof(route);
		     i--) {
			memcpy(route + ro, rr[i], rrl[i]);
			ro += rrl[i];
			if (i > 0) {
				route[ro++] = ',';
			}
		}
		memcpy(route + ro, "\r\n", 3);
		ro += 2;
	}
	route[ro] = 0;
	for (int k = 0; k < 2; k++) {
		int bye = k == 1;

		o = snprintf(buf, sizeof(buf),
		    "%s %s SIP/2.0\r\n"
		    "Via: SIP/2.0/%s %s;branch=z9hG4bK-lg%u.%lu%c\r\n"
		    "%s"
		    "Max-Forwards: 70\r\n"
		    "From: <sip:bench@%s>;tag=%lu\r\n"
		    "To: %.*s\r\n"
		    "Call-ID: lg%lu.%u@%s\r\n"
		    "CSeq: %d %s\r\n"
		    "Content-Length: 0\r\n\r\n",
		    bye ? "BYE" : "ACK", ruri, tp, g->uac_host, g->pid, n,
		    bye ? 'b' : 'a', route, g->uac_host, n, (int)to.vlen,
		    to.val, n, g->pid, g->uac_host, bye ? 2 : 1,
		    bye ? "BYE" : "ACK");
		if (o <= 0 || (size_t)o >= sizeof(buf)) {
			lg_uac_end(g, c, 0);
			return;
		}
		lg_send(g, 1, -1, &g->server, buf, (size_t)o);
		if (bye) {
			free(c->req);
			c->req = lg_dup(buf, (size_t)o);
			c->req_len = (size_t)o;
		} else {
			c->ack = lg_dup(buf, (size_t)o);
			c->ack_len = (size_t)o;
		}
	}
	c->uac = UAC_BYE;
	c->uac_start = now;
	c->uac_iv = LG_T1_MS;
	c->uac_next = now + LG_T1_MS;
}

static void
lg_uac_response(struct lg *g, const char *msg, size_t len, uint64_t now)
{
	long n = lg_call_of(g, msg, len);
	unsigned status;
	int bye;
	size_t pos = lg_headers_at(msg, len);
	struct lg_hdr h;
	struct lg_call *c;

	if (n < 0 || len < 12) {
		g->st.stray++;
		return;
	}
	c = &g->calls[n];
	status = (unsigned)atoi(msg + 8);
	bye = 0;
	while (lg_next_hdr(msg, len, &pos, &h)) {
		if (lg_is(&h, "cseq", 0)) {
			bye = memmem(h.val, h.vlen, "BYE", 3) != NULL;
			break;
		}
	}
	if (bye) {
		if (c->uac != UAC_BYE) {
			g->st.stray++;
			return;
		}
		if (status >= 200) {
			if (status >= 300) {
				g->st.fail_status++;
			}
			lg_uac_end(g, c, status < 300);
		}
		return;
	}
	if (c->uac == UAC_BYE || c->uac == UAC_OK) {
		/* a retransmitted 200: the ACK again (RFC 3261 13.2.2.4) */
		if (status >= 200 && status < 300 && c->ack != NULL) {
			g->st.retrans++;
			lg_send(g, 1, -1, &g->server, c->ack, c->ack_len);
		} else {
			g->st.stray++;
		}
		return;
	}
	if (c->uac != UAC_INVITE && c->uac != UAC_RINGING) {
		g->st.stray++;
		return;
	}
	if (status < 200) {
		c->uac = UAC_RINGING; /* Timer A stops; Timer B runs */
		return;
	}
	if (status >= 300) {
		/* the proxy's transaction acknowledges a non-2xx hop by hop;
		 * the call has failed either way */
		g->st.fail_status++;
		lg_uac_end(g, c, 0);
		return;
	}
	lg_uac_answered(g, c, (unsigned long)n, msg, len, now);
}

/* ------------------------------------------------------------ callee */

/* A response to req: status line, the request's Via, Record-Route, From,
 * To (with our tag when totag), Call-ID and CSeq; then extra. */
static size_t
lg_response(const struct lg *g, const char *req, size_t len,
    const char *status, unsigned long n, int totag, int rr,
    const char *extra, char *out, size_t room)
{
	size_t pos = lg_headers_at(req, len), o;
	struct lg_hdr h;

	o = (size_t)snprintf(out, room, "SIP/2.0 %s\r\n", status);
	while (lg_next_hdr(req, len, &pos, &h) && o + h.vlen + 64 < room) {
		const char *name = NULL;

		if (lg_is(&h, "via", 'v')) {
			name = "Via";
		} else if (rr && lg_is(&h, "record-route", 0)) {
			name = "Record-Route";
		} else if (lg_is(&h, "from", 'f')) {
			name = "From";
		} else if (lg_is(&h, "call-id", 'i')) {
			name = "Call-ID";
		} else if (lg_is(&h, "cseq", 0)) {
			name = "CSeq";
		} else if (lg_is(&h, "to", 't')) {
			int tagged = memmem(h.val, h.vlen, ";tag=", 5) != NULL;

			o += (size_t)snprintf(out + o, room - o, "To: %.*s",
			    (int)h.vlen, h.val);
			if (totag && !tagged) {
				o += (size_t)snprintf(out + o, room - o,
				    ";tag=%ub%lu", g->pid, n);
			}
			memcpy(out + o, "\r\n", 2);
			o += 2;
			continue;
		}
		if (name != NULL) {
			o += (size_t)snprintf(out + o, room - o, "%s: %.*s\r\n",
			    name, (int)h.vlen, h.val);
		}
	}
	o += (size_t)snprintf(out + o, room - o, "%s", extra);
	return o < room ? o : room - 1;
}

static void
lg_uas_send_ok(struct lg *g, struct lg_call *c, unsigned long n,
    const char *req, size_t len, uint64_t now)
{
	char sdp[512], extra[1024], buf[LG_MSG];
	int sl;
	size_t o;

	sl = snprintf(sdp, sizeof(sdp), lg_sdp_fmt, "callee", g->ip, g->ip,
	    6002u);
	snprintf(extra, sizeof(extra),
	    "Contact: <sip:callee@%s;transport=%s>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: %d\r\n\r\n%s",
	    g->uas_host, g->tcp ? "tcp" : "udp", sl, sdp);
	o = lg_response(g, req, len, "200 OK", n, 1, 1, extra, buf,
	    sizeof(buf));
	free(c->ok);
	c->ok = lg_dup(buf, o);
	c->ok_len = o;
	c->uas = UAS_ANSWERED;
	c->uas_start = now;
	c->uas_iv = LG_T1_MS;
	c->uas_next = now + LG_T1_MS;
	lg_send(g, 0, c->uas_conn, &c->uas_peer, buf, o);
}

static void
lg_uas_request(struct lg *g, int fd, const struct sockaddr_in *from,
    const char *msg, size_t len, uint64_t now)
{
	long n = lg_call_of(g, msg, len);
	struct lg_call *c;
	char buf[LG_MSG], extra[256];
	size_t o;

	if (n < 0) {
		g->st.stray++;
		return;
	}
	c = &g->calls[n];
	if (len > 7 && memcmp(msg, "INVITE ", 7) == 0) {
		if (c->uas != UAS_NONE) {
			/* a retransmission: the last response again */
			g->st.retrans++;
			if (c->uas == UAS_ANSWERED && c->ok != NULL) {
				lg_send(g, 0, fd, from, c->ok, c->ok_len);
				return;
			}
			if (c->uas != UAS_RINGING) {
				return;
			}
		}
		if (from != NULL) {
			c->uas_peer = *from;
		}
		c->uas_conn = fd;
		snprintf(extra, sizeof(extra),
		    "Contact: <sip:callee@%s;transport=%s>\r\n"
		    "Content-Length: 0\r\n\r\n",
		    g->uas_host, g->tcp ? "tcp" : "udp");
		o = lg_response(g, msg, len, "180 Ringing", n, 1, 1, extra,
		    buf, sizeof(buf));
		lg_send(g, 0, fd, from, buf, o);
		if (c->uas == UAS_RINGING) {
			return;
		}
		if (g->hold_ms == 0) {
			lg_uas_send_ok(g, c, (unsigned long)n, msg, len, now);
			return;
		}
		/* the 200 comes after the hold: keep the INVITE for it */
		free(c->ok);
		c->ok = lg_dup(msg, len);
		c->ok_len = len;
		c->uas = UAS_RINGING;
		c->uas_next = now + g->hold_ms;
		lg_activate(g, c);
		return;
	}
	if (len > 4 && memcmp(msg, "ACK ", 4) == 0) {
		if (c->uas == UAS_ANSWERED) {
			c->uas = UAS_CONFIRMED;
			free(c->ok);
			c->ok = NULL;
			lg_maybe_idle(c);
		}
		return;
	}
	if (len > 4 && memcmp(msg, "BYE ", 4) == 0) {
		if (c->uas == UAS_DONE) {
			g->st.retrans++;
		}
		if (c->uas == UAS_ANSWERED) {
			/* the ACK was lost; the BYE confirms the dialog */
			free(c->ok);
			c->ok = NULL;
		}
		c->uas = UAS_DONE;
		o = lg_response(g, msg, len, "200 OK", (unsigned long)n, 0, 0,
		    "Content-Length: 0\r\n\r\n", buf, sizeof(buf));
		lg_send(g, 0, fd, from, buf, o);
		lg_maybe_idle(c);
		return;
	}
	g->st.stray++;
}

/* ------------------------------------------------------------ timers */

static void
lg_timers(struct lg *g, uint64_t now)
{
	struct lg_call *c = g->active.next, *next;

	for (; c != &g->active; c = next) {
		unsigned long n = (unsigned long)(c - g->calls);

		next = c->next;
		if (c->uac == UAC_INVITE || c->uac == UAC_RINGING ||
		    c->uac == UAC_BYE) {
			if (now - c->uac_start >= LG_TIMEOUT_MS) {
				/* RFC 3261 17.1.1.2 Timer B, 17.1.2.2 F */
				g->st.fail_timeout++;
				lg_uac_end(g, c, 0);
				continue;
			}
			if (!g->tcp && c->uac != UAC_RINGING &&
			    now >= c->uac_next) {
				/* Timer A doubles; Timer E caps at T2 */
				g->st.retrans++;
				lg_send(g, 1, -1, &g->server, c->req,
				    c->req_len);
				c->uac_iv *= 2;
				if (c->uac == UAC_BYE && c->uac_iv > LG_T2_MS) {
					c->uac_iv = LG_T2_MS;
				}
				c->uac_next = now + c->uac_iv;
			}
		}
		if (c->uas == UAS_RINGING && now >= c->uas_next) {
			char *inv = c->ok;
			size_t l = c->ok_len;

			c->ok = NULL;
			lg_uas_send_ok(g, c, n, inv, l, now);
			free(inv);
		} else if (c->uas == UAS_ANSWERED && now >= c->uas_next) {
			/* RFC 3261 13.3.1.4 retransmits the 2xx over every
			 * transport; uas.xml's sipp only over UDP, and so do
			 * we, to make the same calls */
			if (g->tcp || now - c->uas_start >= LG_TIMEOUT_MS) {
				/* RFC 3261 13.3.1.4: no ACK, give up */
				g->st.ack_timeouts++;
				c->uas = UAS_CONFIRMED;
				free(c->ok);
				c->ok = NULL;
			} else {
				g->st.retrans++;
				lg_send(g, 0, c->uas_conn, &c->uas_peer, c->ok,
				    c->ok_len);
				c->uas_iv = c->uas_iv * 2 > LG_T2_MS ?
				    LG_T2_MS : c->uas_iv * 2;
				c->uas_next = now + c->uas_iv;
			}
		}
		if (c->next != NULL) {
			lg_maybe_idle(c);
		}
	}
}

/* -------------------------------------------------------------- input */

static void
lg_dispatch(struct lg *g, int uac, int fd, const struct sockaddr_in *from,
    const char *msg, size_t len, uint64_t now)
{
	g->st.received++;
	if (len >= 8 && memcmp(msg, "SIP/2.0 ", 8) == 0) {
		if (uac) {
			lg_uac_response(g, msg, len, now);
		} else {
			g->st.stray++;
		}
		return;
	}
	if (uac) {
		g->st.stray++; /* nothing sends requests to the caller */
		return;
	}
	lg_uas_request(g, fd, from, msg, len, now);
}

static void
lg_read_udp(struct lg *g, int fd, uint64_t now)
{
	static char bufs[LG_BATCH][LG_DGRAM];
	struct mmsghdr in[LG_BATCH];
	struct iovec iov[LG_BATCH];
	struct sockaddr_in from[LG_BATCH];
	int n;

	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < LG_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = LG_DGRAM;
			memset(&in[i], 0, sizeof(in[i]));
			in[i].msg_hdr.msg_iov = &iov[i];
			in[i].msg_hdr.msg_iovlen = 1;
			in[i].msg_hdr.msg_name = &from[i];
			in[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, in, LG_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			return;
		}
		for (int i = 0; i < n; i++) {
			lg_dispatch(g, fd == g->uac_fd, fd, &from[i], bufs[i],
			    in[i].msg_len, now);
		}
		if (n < LG_BATCH) {
			return;
		}
	}
}

static size_t
lg_content_length(const char *msg, size_t hlen)
{
	size_t pos = lg_headers_at(msg, hlen);
	struct lg_hdr h;

	while (lg_next_hdr(msg, hlen, &pos, &h)) {
		if (lg_is(&h, "content-length", 'l')) {
			return (size_t)strtoul(h.val, NULL, 10);
		}
	}
	return 0;
}

static void
lg_conn_close(struct lg *g, struct lg_conn *c)
{
	epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->fd == g->uac_fd) {
		g->uac_fd = -1;
	}
	c->fd = -1;
	c->in_len = c->out_len = 0;
	g->st.conn_errors++;
}

static void
lg_read_tcp(struct lg *g, struct lg_conn *c, uint64_t now)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->in_len,
		    LG_STREAM - c->in_len, MSG_DONTWAIT);
		size_t off = 0;

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			lg_conn_close(g, c);
			return;
		}
		if (r < 0) {
			return;
		}
		c->in_len += (size_t)r;
		/* RFC 3261 18.3: frame by the empty line and Content-Length */
		for (;;) {
			char *p = c->in + off;
			size_t avail = c->in_len - off, hl, total;
			char *e;

			while (avail >= 2 && p[0] == '\r' && p[1] == '\n') {
				p += 2; /* keep-alive CRLFs */
				off += 2;
				avail -= 2;
			}
			e = memmem(p, avail, "\r\n\r\n", 4);
			if (e == NULL) {
				break;
			}
			hl = (size_t)(e + 4 - p);
			total = hl + lg_content_length(p, hl);
			if (total > avail) {
				break;
			}
			lg_dispatch(g, c->fd == g->uac_fd, c->fd, NULL, p,
			    total, now);
			off += total;
			if (c->fd < 0) {
				return;
			}
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		if (c->in_len == LG_STREAM) {
			lg_conn_close(g, c); /* a message larger than us */
			return;
		}
	}
}

static struct lg_conn *
lg_conn_add(struct lg *g, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	for (int i = 0; i < LG_MAXCONN; i++) {
		struct lg_conn *c = &g->conns[i];

		if (c->fd < 0) {
			c->fd = fd;
			c->in_len = c->out_len = 0;
			ev.data.fd = fd;
			if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
				c->fd = -1;
				return NULL;
			}
			return c;
		}
	}
	return NULL;
}

/* -------------------------------------------------------------- set-up */

static int
lg_socket(struct lg *g, int type, const struct sockaddr_in *bind_to)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (g->rcvbuf > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &g->rcvbuf,
		    sizeof(g->rcvbuf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &g->rcvbuf,
		    sizeof(g->rcvbuf));
	}
	if (type == SOCK_STREAM) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (bind_to != NULL &&
	    bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
lg_setup(struct lg *g)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct itimerspec its = { 0 };
	uint64_t ns = 1000000000u / (g->rate ? g->rate : 1);

	g->ep = epoll_create1(EPOLL_CLOEXEC);
	g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (g->ep < 0 || g->tfd < 0) {
		return -1;
	}
	for (int i = 0; i < LG_MAXCONN; i++) {
		g->conns[i].fd = -1;
		g->conns[i].in = malloc(LG_STREAM);
		g->conns[i].out = malloc(LG_STREAM);
		g->conns[i].out_cap = LG_STREAM;
		if (g->conns[i].in == NULL || g->conns[i].out == NULL) {
			return -1;
		}
	}
	if (!g->tcp) {
		g->uac_fd = lg_socket(g, SOCK_DGRAM, &g->uac_addr);
		g->uas_fd = lg_socket(g, SOCK_DGRAM, &g->uas_addr);
		if (g->uac_fd < 0 || g->uas_fd < 0) {
			return -1;
		}
		ev.data.fd = g->uac_fd;
		epoll_ctl(g->ep, EPOLL_CTL_ADD, g->uac_fd, &ev);
		ev.data.fd = g->uas_fd;
		epoll_ctl(g->ep, EPOLL_CTL_ADD, g->uas_fd, &ev);
	} else {
		int fd;

		g->uas_fd = lg_socket(g, SOCK_STREAM, &g->uas_addr);
		if (g->uas_fd < 0 || listen(g->uas_fd, 64) < 0) {
			return -1;
		}
		ev.data.fd = g->uas_fd;
		epoll_ctl(g->ep, EPOLL_CTL_ADD, g->uas_fd, &ev);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			return -1;
		}
		{
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		}
		if (bind(fd, (struct sockaddr *)&g->uac_addr,
		    sizeof(g->uac_addr)) < 0 ||
		    connect(fd, (struct sockaddr *)&g->server,
		    sizeof(g->server)) < 0) {
			close(fd);
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		g->uac_fd = fd;
		if (lg_conn_add(g, fd) == NULL) {
			return -1;
		}
	}
	if (ns < 100000u) {
		ns = 100000u;
	}
	/* -B: the calls due are released every burst_ms, as a generator
	 * with a coarse scheduler (sipp) does */
	if (g->burst_ms > 0 && ns < (uint64_t)g->burst_ms * 1000000u) {
		ns = (uint64_t)g->burst_ms * 1000000u;
	}
	if (g->sipp_sched) {
		return 0; /* the loop's turns open the calls */
	}
	its.it_value.tv_nsec = 1;
	its.it_interval.tv_sec = (time_t)(ns / 1000000000u);
	its.it_interval.tv_nsec = (long)(ns % 1000000000u);
	if (timerfd_settime(g->tfd, 0, &its, NULL) < 0) {
		return -1;
	}
	ev.data.fd = g->tfd;
	epoll_ctl(g->ep, EPOLL_CTL_ADD, g->tfd, &ev);
	return 0;
}

static void
lg_report(struct lg *g, uint64_t now)
{
	/* calls never finished by the deadline count as failed */
	unsigned long open = g->st.created - g->st.ok - g->st.failed;

	g->st.fail_deadline = open + (g->ncalls - g->st.created);
	printf("loadgen: transport=%s rate=%u calls=%lu created=%lu ok=%lu "
	    "failed=%lu fail_status=%lu fail_timeout=%lu fail_deadline=%lu "
	    "retrans=%lu ack_timeouts=%lu stray=%lu sent=%lu received=%lu "
	    "send_errors=%lu conn_errors=%lu last_created_s=%.3f "
	    "max_lag_ms=%llu elapsed_s=%.3f\n",
	    g->tcp ? "tcp" : "udp", g->rate, g->ncalls, g->st.created,
	    g->st.ok, g->st.failed + g->st.fail_deadline, g->st.fail_status,
	    g->st.fail_timeout, g->st.fail_deadline, g->st.retrans,
	    g->st.ack_timeouts, g->st.stray, g->st.sent, g->st.received,
	    g->st.send_errors, g->st.conn_errors,
	    (double)g->st.last_created_ms / 1000.0,
	    (unsigned long long)g->st.max_lag_ms,
	    (double)(now - g->t0) / 1000.0);
	fflush(stdout);
}

static int
lg_addr(struct sockaddr_in *a, const char *host, const char *port)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)p);
	return (*end == 0 && p > 0 && p < 65536 &&
	    inet_pton(AF_INET, host, &a->sin_addr) == 1) ? 0 : -1;
}

/*
 * -S: one turn of sipp's loop opens every call due by its millisecond
 * clock, truncated as CallGenerationTask::run() does.
 */
static void
lg_sipp_turn(struct lg *g, uint64_t now)
{
	uint64_t due = (now - g->t0) * g->rate / 1000u;

	if (due > g->ncalls) {
		due = g->ncalls;
	}
	if (g->st.created + 1 < due) {
		uint64_t lag = (due - g->st.created - 1) * 1000u / g->rate;

		if (lag > g->st.max_lag_ms) {
			g->st.max_lag_ms = lag;
		}
	}
	while (g->st.created < due && (!g->tcp || g->uac_fd >= 0)) {
		lg_uac_invite(g, g->st.created, now);
		g->st.last_created_ms = now - g->t0;
	}
}

static int
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen [-t udp|tcp] [-r rate] [-n calls] "
	    "[-d hold_ms] [-D domain] [-T seconds] [-b rcvbuf] [-B burst_ms] "
	    "[-S] [-i addr] "
	    "[-v] -s port -p uac_port -u uas_port\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static struct lg g;
	const char *host = "127.0.0.1", *sport = NULL, *pport = NULL,
	    *uport = NULL;
	struct sigaction sa = { 0 };
	uint64_t start_us;
	int opt, verbose = 0;

	g.rate = 500;
	g.ncalls = 10000;
	g.deadline_s = 0;
	g.rcvbuf = 2 * 1024 * 1024;
	g.domain = "bench.invalid";
	while ((opt = getopt(argc, argv, "t:r:n:d:D:T:b:B:Si:s:p:u:v")) != -1) {
		switch (opt) {
		case 't':
			g.tcp = strcmp(optarg, "tcp") == 0;
			if (!g.tcp && strcmp(optarg, "udp") != 0) {
				return lg_usage();
			}
			break;
		case 'r':
			g.rate = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			g.ncalls = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			g.hold_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			g.deadline_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			g.rcvbuf = atoi(optarg);
			break;
		case 'B':
			g.burst_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			g.sipp_sched = 1;
			break;
		case 'i':
			host = optarg;
			break;
		case 'D':
			g.domain = optarg;
			break;
		case 's':
			sport = optarg;
			break;
		case 'p':
			pport = optarg;
			break;
		case 'u':
			uport = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return lg_usage();
		}
	}
	if (sport == NULL || pport == NULL || uport == NULL || g.rate == 0 ||
	    g.ncalls == 0 || lg_addr(&g.server, host, sport) < 0 ||
	    lg_addr(&g.uac_addr, host, pport) < 0 ||
	    lg_addr(&g.uas_addr, host, uport) < 0) {
		return lg_usage();
	}
	if (g.deadline_s == 0) {
		g.deadline_s = (unsigned)(g.ncalls / g.rate) + g.hold_ms / 1000 +
		    LG_TIMEOUT_MS / 1000 + 5;
	}
	g.ip = host;
	snprintf(g.uac_host, sizeof(g.uac_host), "%s:%s", host, pport);
	snprintf(g.uas_host, sizeof(g.uas_host), "%s:%s", host, uport);
	g.pid = (unsigned)getpid();
	g.calls = calloc(g.ncalls, sizeof(*g.calls));
	g.active.next = g.active.prev = &g.active;
	if (g.calls == NULL || lg_setup(&g) < 0) {
		perror("loadgen: set-up");
		return 2;
	}
	sa.sa_handler = lg_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g.t0 = lg_now_ms();
	start_us = lg_now_us();
	while (!lg_stop) {
		struct epoll_event evs[LG_MAXCONN + 4];
		uint64_t now;
		/* sipp waits at most 1 ms a turn (pollset_process()) */
		int n = epoll_wait(g.ep, evs, LG_MAXCONN + 4,
		    g.sipp_sched ? 1 : 100);

		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			break;
		}
		now = lg_now_ms();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == g.tfd) {
				uint64_t x, due;

				if (read(g.tfd, &x, sizeof(x)) < 0) {
					(void)0; /* spurious: nothing due */
				}
				/* the calls due by now, at the rate asked */
				due = (lg_now_us() - start_us) * g.rate /
				    1000000u + 1;
				if (due > g.ncalls) {
					due = g.ncalls;
				}
				if (g.st.created < due) {
					uint64_t lag = (due - g.st.created - 1) *
					    1000u / g.rate;

					if (lag > g.st.max_lag_ms) {
						g.st.max_lag_ms = lag;
					}
				}
				while (g.st.created < due &&
				    (!g.tcp || g.uac_fd >= 0)) {
					lg_uac_invite(&g, g.st.created, now);
					g.st.last_created_ms = now - g.t0;
				}
				continue;
			}
			if (!g.tcp) {
				lg_read_udp(&g, fd, now);
				continue;
			}
			if (fd == g.uas_fd) {
				int cfd = accept4(g.uas_fd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (cfd >= 0) {
					int one = 1;

					setsockopt(cfd, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					if (lg_conn_add(&g, cfd) == NULL) {
						close(cfd);
					}
				}
				continue;
			}
			{
				struct lg_conn *c = lg_conn_of(&g, fd);

				if (c != NULL) {
					lg_read_tcp(&g, c, now);
				}
			}
		}
		if (g.sipp_sched) {
			lg_sipp_turn(&g, now);
		}
		if (now - g.last_scan >= LG_SCAN_MS) {
			g.last_scan = now;
			lg_timers(&g, now);
		}
		lg_flush(&g);
		if (g.st.created == g.ncalls &&
		    g.st.ok + g.st.failed == g.ncalls) {
			break;
		}
		if (now - g.t0 >= (uint64_t)g.deadline_s * 1000u) {
			break;
		}
		if (g.tcp && g.uac_fd < 0) {
			break; /* the proxy closed our connection */
		}
	}
	lg_flush(&g);
	for (unsigned long i = 0, k = 0; verbose && i < g.ncalls && k < 10;
	     i++) {
		if (g.calls[i].uac != UAC_OK) {
			fprintf(stderr, "loadgen: call %lu: caller state %d, "
			    "callee state %d\n", i, g.calls[i].uac,
			    g.calls[i].uas);
			k++;
		}
	}
	lg_report(&g, lg_now_ms());
	return g.st.ok == g.ncalls ? 0 : 1;
}
