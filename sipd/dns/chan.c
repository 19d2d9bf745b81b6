/*
 * chan: one c-ares channel on a libevent event_base.  c-ares says which
 * sockets to watch (its socket-state callback): each gets an event that
 * hands readiness back to ares_process_fd(); one timer follows
 * ares_timeout() for retries and timeouts.  Nothing here blocks.
 *
 * A channel counts its lookups on the wire, so that the resolver can
 * replace it (new servers, timeout or tries) and let the old one finish
 * what it started: once a draining channel has nothing left on the wire,
 * its owner is told and frees it from outside c-ares's callbacks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <event2/event.h>

#include "sipd/dns/dns_int.h"
#include "sipd/log.h"

struct dns_sock {
	ares_socket_t fd;
	struct event *ev;
	struct dns_sock *next;
};

struct dns_chan {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct dns_sock *socks;
	unsigned inflight;
	bool draining;
	bool freeing;
	void (*idle)(void *arg);
	void *idle_arg;
	struct dns_chan *next; /* the owner's list of draining channels */
};

/* One lookup on the wire: the caller's callback behind ours. */
struct lookup {
	struct dns_chan *chan;
	ares_callback fn;
	void *arg;
};

static void
timer_update(struct dns_chan *c)
{
	struct timeval tv, *tvp = ares_timeout(c->ch, NULL, &tv);

	if (tvp != NULL) {
		evtimer_add(c->timer, tvp);
	} else {
		evtimer_del(c->timer);
	}
}

static void
on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;

	ares_process_fd(c->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	timer_update(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;

	(void)fd;
	(void)what;
	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	timer_update(c);
}

/* c-ares says which of its sockets to watch, and for what. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan *c = data;
	struct dns_sock **pp = &c->socks, *s;

	while (*pp != NULL && (*pp)->fd != fd) {
		pp = &(*pp)->next;
	}
	s = *pp;
	if (!readable && !writable) {
		if (s != NULL) {
			*pp = s->next;
			event_free(s->ev);
			free(s);
		}
		return;
	}
	short what = EV_PERSIST | (readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			goto fail;
		}
		s->ev = event_new(c->base, fd, what, on_sock, c);
		if (s->ev == NULL) {
			free(s);
			goto fail;
		}
		s->fd = fd;
		s->next = c->socks;
		c->socks = s;
	} else {
		event_del(s->ev);
		event_assign(s->ev, c->base, fd, what, on_sock, c);
	}
	event_add(s->ev, NULL);
	return;
fail:
	/* the lookup still ends: c-ares's timeout runs on the timer */
	log_err(LOG_CLIENT, "dns, cannot watch a socket (out of memory)");
}

struct dns_chan *
dns_chan_new(struct event_base *base, const struct dns_conf *conf,
    void (*idle)(void *arg), void *arg, char *err, size_t cap)
{
	struct ares_options opt;
	struct dns_chan *c = calloc(1, sizeof(*c));
	int st;

	if (c == NULL) {
		snprintf(err, cap, "dns, out of memory");
		return NULL;
	}
	c->base = base;
	c->idle = idle;
	c->idle_arg = arg;
	c->timer = evtimer_new(base, on_timer, c);
	if (c->timer == NULL) {
		snprintf(err, cap, "dns, out of memory");
		goto fail;
	}
	/* c-ares's own defaults (servers from /etc/resolv.conf), with our
	 * socket watcher, timeout and tries; EDNS so that NAPTR sets fit
	 * in UDP (it retries over TCP when an answer is truncated all the
	 * same) */
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = on_sock_state;
	opt.sock_state_cb_data = c;
	opt.timeout = conf->timeout_ms > 0 ? (int)conf->timeout_ms : 1;
	opt.tries = conf->tries > 0 ? (int)conf->tries : 1;
	opt.flags = ARES_FLAG_EDNS;
	opt.ednspsz = 1232;
	st = ares_init_options(&c->ch, &opt, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
	    ARES_OPT_EDNSPSZ);
	if (st != ARES_SUCCESS) {
		c->ch = NULL;
		snprintf(err, cap, "dns, cannot start the resolver (%s)",
		    ares_strerror(st));
		goto fail;
	}
	if (conf->servers[0] != '\0') {
		st = ares_set_servers_ports_csv(c->ch, conf->servers);
		if (st != ARES_SUCCESS) {
			snprintf(err, cap, "dns, bad server list '%.100s' (%s)",
			    conf->servers, ares_strerror(st));
			goto fail;
		}
	}
	return c;
fail:
	dns_chan_free(c);
	return NULL;
}

void
dns_chan_free(struct dns_chan *c)
{
	if (c == NULL) {
		return;
	}
	c->freeing = true;
	if (c->ch != NULL) {
		/* each lookup on the wire ends with ARES_EDESTRUCTION */
		ares_destroy(c->ch);
	}
	while (c->socks != NULL) {
		struct dns_sock *s = c->socks;

		c->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	if (c->timer != NULL) {
		event_free(c->timer);
	}
	free(c);
}

static void
on_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct lookup *l = arg;
	struct dns_chan *c = l->chan;

	l->fn(l->arg, status, timeouts, abuf, alen);
	free(l);
	c->inflight--;
	if (c->draining && c->inflight == 0 && !c->freeing) {
		c->idle(c->idle_arg);
	}
}

void
dns_chan_query(struct dns_chan *c, const char *name, uint16_t type,
    ares_callback fn, void *arg)
{
	struct lookup *l = malloc(sizeof(*l));

	if (l == NULL) {
		fn(arg, ARES_ENOMEM, 0, NULL, 0);
		return;
	}
	l->chan = c;
	l->fn = fn;
	l->arg = arg;
	c->inflight++;
	/* may answer at once (a bad name): fn runs before this returns */
	ares_query(c->ch, name, 1 /* IN */, type, on_done, l);
	timer_update(c);
}

bool
dns_chan_drain(struct dns_chan *c)
{
	c->draining = true;
	return c->inflight == 0;
}

bool
dns_chan_idle(const struct dns_chan *c)
{
	return c->inflight == 0;
}

struct dns_chan **
dns_chan_next(struct dns_chan *c)
{
	return &c->next;
}

int
dns_chan_check_servers(const char *servers, char *err, size_t cap)
{
	ares_channel ch;
	struct ares_options opt;
	int st;

	if (servers[0] == '\0') {
		return 0;
	}
	memset(&opt, 0, sizeof(opt));
	if (ares_init_options(&ch, &opt, 0) != ARES_SUCCESS) {
		snprintf(err, cap, "dns, cannot start the resolver");
		return -ENOMEM;
	}
	st = ares_set_servers_ports_csv(ch, servers);
	ares_destroy(ch);
	if (st != ARES_SUCCESS) {
		snprintf(err, cap, "dns, bad server list '%.100s' (%s)",
		    servers, ares_strerror(st));
		return -EINVAL;
	}
	return 0;
}
