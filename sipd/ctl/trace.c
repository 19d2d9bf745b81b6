/*
 * "trace": the live message trace fanned out to the control connections
 * that asked for it.  The transport copies messages into the trace queue
 * (sipd/trace.h) only while at least one connection traces; here, on the
 * main thread, each message is matched against each tracer's filter
 * (Call-ID, user, address, method) and sent as a "msg" event.  A tracer
 * whose output is over CTL_FOLLOW_MAX loses messages, and so do all when
 * the queue is full; either way a "dropped" event with the count comes
 * before the next message it gets.  Nothing here ever waits on a reader.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proto/cmd.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/trace.h"

/* What one tracer wants to see; NULL fields match everything. */
struct ctl_trace {
	char *callid, *user, *address, *method;
};

void
ctl_trace_free(struct ctl_trace *t)
{
	if (t == NULL) {
		return;
	}
	free(t->callid);
	free(t->user);
	free(t->address);
	free(t->method);
	free(t);
}

static int
ctl_trace_dup(char **to, const char *s)
{
	if (s == NULL) {
		return 0;
	}
	*to = strdup(s);
	return *to == NULL ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ matching */

/* The value of header name (or its compact form c, '\0' for none) in
 * the message, the first one; NULL when missing.  Raw text: the message
 * is a copy, and a filter is a convenience, not a SIP decision. */
static const char *
ctl_trace_hdr(const char *p, size_t len, const char *name, char c,
    size_t *vlen)
{
	const char *end = p + len, *line = p;
	size_t nlen = strlen(name);

	/* skip the start line */
	line = memchr(p, '\n', len);
	while (line != NULL && ++line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *q = NULL;
		size_t l = (size_t)((eol != NULL ? eol : end) - line);

		if (l == 0 || (l == 1 && line[0] == '\r')) {
			break; /* the body begins */
		}
		if (l > nlen && strncasecmp(line, name, nlen) == 0) {
			q = line + nlen;
		} else if (c != '\0' && l > 1 &&
		    (line[0] == c || line[0] == (c ^ 0x20)) &&
		    (line[1] == ':' || line[1] == ' ' || line[1] == '\t')) {
			q = line + 1;
		}
		if (q != NULL) {
			const char *e = line + l;

			while (q < e && (*q == ' ' || *q == '\t')) {
				q++;
			}
			if (q < e && *q == ':') {
				q++;
				while (q < e && (*q == ' ' || *q == '\t')) {
					q++;
				}
				while (e > q && (e[-1] == '\r' || e[-1] == ' ' ||
				    e[-1] == '\t')) {
					e--;
				}
				*vlen = (size_t)(e - q);
				return q;
			}
		}
		line = eol;
	}
	return NULL;
}

/* Does the text p[0..n) hold "sip:USER@" or "sips:USER@"? */
static bool
ctl_trace_has_user(const char *p, size_t n, const char *user)
{
	size_t ulen = strlen(user);

	for (size_t i = 0; i + 4 + ulen < n; i++) {
		size_t at;

		if (strncasecmp(p + i, "sip:", 4) == 0) {
			at = i + 4;
		} else if (i + 5 + ulen < n &&
		    strncasecmp(p + i, "sips:", 5) == 0) {
			at = i + 5;
		} else {
			continue;
		}
		if (memcmp(p + at, user, ulen) == 0 && p[at + ulen] == '@') {
			return true;
		}
	}
	return false;
}

/* "ADDR:PORT" of sa, or "[ADDR]:PORT"; ADDR alone into host. */
static void
ctl_trace_addr(const struct sockaddr_storage *ss, char *host, size_t hcap,
    unsigned *port)
{
	host[0] = '\0';
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, (socklen_t)hcap);
		*port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, (socklen_t)hcap);
		*port = ntohs(s->sin6_port);
	}
}

bool
ctl_addr_is(const struct sockaddr_storage *ss, const char *want)
{
	char host[INET6_ADDRSTRLEN], hp[INET6_ADDRSTRLEN + 16];
	unsigned port;

	ctl_trace_addr(ss, host, sizeof(host), &port);
	if (strcmp(host, want) == 0) {
		return true;
	}
	snprintf(hp, sizeof(hp), ss->ss_family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", host, port);
	return strcmp(hp, want) == 0;
}

/* The method of a request, or of the CSeq of a response. */
static bool
ctl_trace_method_is(const struct trace_ev *ev, const char *want)
{
	size_t wlen = strlen(want), vlen;
	const char *v;

	if (ev->len < 8 || strncmp(ev->data, "SIP/2.0 ", 8) != 0) {
		return ev->len > wlen && strncasecmp(ev->data, want,
		    wlen) == 0 && ev->data[wlen] == ' ';
	}
	v = ctl_trace_hdr(ev->data, ev->len, "CSeq", '\0', &vlen);
	if (v == NULL) {
		return false;
	}
	/* "CSeq: 1 INVITE" */
	while (vlen > 0 && *v != ' ' && *v != '\t') {
		v++;
		vlen--;
	}
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	return vlen == wlen && strncasecmp(v, want, wlen) == 0;
}

static bool
ctl_trace_match(const struct ctl_trace *t, const struct trace_ev *ev)
{
	const char *v;
	size_t vlen;

	if (t->callid != NULL) {
		v = ctl_trace_hdr(ev->data, ev->len, "Call-ID", 'i', &vlen);
		if (v == NULL || vlen != strlen(t->callid) ||
		    memcmp(v, t->callid, vlen) != 0) {
			return false;
		}
	}
	if (t->method != NULL && !ctl_trace_method_is(ev, t->method)) {
		return false;
	}
	if (t->address != NULL && !ctl_addr_is(&ev->remote, t->address) &&
	    !ctl_addr_is(&ev->local, t->address)) {
		return false;
	}
	if (t->user != NULL) {
		const char *eol = memchr(ev->data, '\n', ev->len);
		bool hit = ctl_trace_has_user(ev->data, eol != NULL ?
		    (size_t)(eol - ev->data) : ev->len, t->user);

		if (!hit && (v = ctl_trace_hdr(ev->data, ev->len, "From",
		    'f', &vlen)) != NULL) {
			hit = ctl_trace_has_user(v, vlen, t->user);
		}
		if (!hit && (v = ctl_trace_hdr(ev->data, ev->len, "To",
		    't', &vlen)) != NULL) {
			hit = ctl_trace_has_user(v, vlen, t->user);
		}
		if (!hit) {
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------- fan-out */

static void
ctl_trace_pack_addr(msgpack_packer *pk, const char *akey, const char *pkey,
    const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	ctl_trace_addr(ss, host, sizeof(host), &port);
	proto_kv_str(pk, akey, host);
	proto_kv_uint(pk, pkey, port);
}

static void
ctl_trace_one(void *arg, const struct trace_ev *ev)
{
	struct ctl *ctl = arg;
	unsigned long long lost = trace_dropped();
	struct proto_out o;

	ctl_hep_send(ctl, ev);
	proto_out_init(&o);
	for (struct ctl_conn *c = ctl->conns; c != NULL; c = c->next) {
		size_t waiting;

		if (c->trace_id == 0 || c->closing) {
			continue;
		}
		/* the queue's drops since this tracer began */
		if (lost > c->trace_lost_seen) {
			c->trace_dropped += lost - c->trace_lost_seen;
			c->trace_lost_seen = lost;
		}
		if (!ctl_trace_match(c->trace, ev)) {
			continue;
		}
		waiting = evbuffer_get_length(bufferevent_get_output(c->bev));
		if (waiting > CTL_FOLLOW_MAX) {
			c->trace_dropped++;
			continue;
		}
		if (c->trace_dropped > 0) {
			proto_out_reset(&o);
			proto_begin_event(&o, c->trace_id, "dropped");
			msgpack_pack_map(&o.pk, 1);
			proto_kv_uint(&o.pk, "messages", c->trace_dropped);
			(void)ctl_conn_send(c, &o);
			c->trace_dropped = 0;
		}
		proto_out_reset(&o);
		proto_begin_event(&o, c->trace_id, "msg");
		msgpack_pack_map(&o.pk, 8);
		proto_kv_uint(&o.pk, "time", ev->us);
		proto_kv_str(&o.pk, "dir", ev->dir == TRACE_IN ? "in" : "out");
		proto_kv_str(&o.pk, "transport", ev->proto);
		ctl_trace_pack_addr(&o.pk, "local", "local-port", &ev->local);
		ctl_trace_pack_addr(&o.pk, "remote", "remote-port",
		    &ev->remote);
		proto_str(&o.pk, "data");
		proto_strn(&o.pk, ev->data, ev->len);
		(void)ctl_conn_send(c, &o);
	}
	proto_out_fini(&o);
}

static void
ctl_on_trace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)trace_drain(ctl_trace_one, arg);
}

int
ctl_trace_init(struct ctl *ctl)
{
	int fd = trace_init();

	if (fd < 0) {
		return fd;
	}
	ctl->trace_ev = event_new(ctl->base, fd, EV_READ | EV_PERSIST,
	    ctl_on_trace, ctl);
	if (ctl->trace_ev == NULL || event_add(ctl->trace_ev, NULL) < 0) {
		return -ENOMEM;
	}
	return 0;
}

void
ctl_trace_fini(struct ctl *ctl)
{
	if (ctl->trace_ev != NULL) {
		event_free(ctl->trace_ev);
		ctl->trace_ev = NULL;
	}
	trace_fini();
}

void
ctl_trace_update(struct ctl *ctl)
{
	trace_enable(ctl->ntracers > 0 || ctl->hep_fd >= 0);
}

void
ctl_trace_end(struct ctl_conn *c)
{
	if (c->trace_id == 0) {
		return;
	}
	c->trace_id = 0;
	ctl_trace_free(c->trace);
	c->trace = NULL;
	c->ctl->ntracers--;
	ctl_trace_update(c->ctl);
}

int
ctl_h_trace(struct ctl_req *r)
{
	struct ctl_trace *t;

	if (r->conn->trace_id != 0) {
		snprintf(r->err, sizeof(r->err), "this connection traces "
		    "already (request %u)", r->conn->trace_id);
		return -EBUSY;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || ctl_trace_dup(&t->callid, cmd_arg_str(r->args,
	    "callid")) < 0 || ctl_trace_dup(&t->user, cmd_arg_str(r->args,
	    "user")) < 0 || ctl_trace_dup(&t->address, cmd_arg_str(r->args,
	    "address")) < 0 || ctl_trace_dup(&t->method, cmd_arg_str(r->args,
	    "method")) < 0) {
		ctl_trace_free(t);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	r->conn->trace = t;
	r->conn->trace_id = r->id;
	r->conn->trace_dropped = 0;
	r->conn->trace_lost_seen = trace_dropped();
	r->ctl->ntracers++;
	ctl_trace_update(r->ctl);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(&r->out->pk, 1);
	proto_kv_bool(&r->out->pk, "stream", true);
	return 0;
}
