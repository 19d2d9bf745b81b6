/*
 * The send path: tp_send() picks UDP (udp.c) or a stream connection
 * (conn.c), and hands bytes for a connection owned by another worker to
 * that worker.  Workers form a group (tp_group_link()); each tp has an
 * inbox, a mutex-protected queue and an eventfd that other threads write
 * when the queue stops being empty (so the event_base needs no lock of
 * its own), and it owns the posts queued to it.  A post either carries bytes to send
 * or, when sending them failed at once, the error back to the worker that
 * asked, or a function to run on the owner's thread (tp_call()).  UDP
 * never goes through the inbox: every worker has its own socket on the
 * same address.
 */
#include "sipd/transport/tp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/log.h"

void
tp_set_index(struct tp *tp, unsigned idx)
{
	tp->index = idx & (TP_GROUP_MAX - 1);
}

/*
 * Queue p on to's inbox and wake it: one write to its eventfd when the
 * queue was empty since to last took it (inbox_take()), none while a
 * wakeup is pending.  Takes p.
 */
static void
post(struct tp *to, struct tp_post *p)
{
	bool wake;

	p->next = NULL;
	pthread_mutex_lock(&to->inbox_mu);
	if (to->inbox_tail != NULL) {
		to->inbox_tail->next = p;
	} else {
		to->inbox_head = p;
	}
	to->inbox_tail = p;
	wake = !to->inbox_woken;
	to->inbox_woken = true;
	pthread_mutex_unlock(&to->inbox_mu);
	if (wake) {
		uint64_t one = 1;

		/* EAGAIN only at a counter near 2^64: it is readable */
		(void)!write(to->inbox_fd, &one, sizeof(one));
	}
}

static int
post_send(struct tp *from, struct tp *to, const struct tp_src *dst,
    const void *bytes, size_t len)
{
	struct tp_post *p;

	p = malloc(sizeof(*p) + len);
	if (p == NULL) {
		return -ENOMEM;
	}
	memset(p, 0, sizeof(*p));
	p->origin = from;
	p->dst = *dst;
	p->dst.host = NULL;
	p->dst.listener = NULL; /* the sender's, not the owner's */
	if (dst->host != NULL && (p->host = strdup(dst->host)) == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->len = len;
	memcpy(p->bytes, bytes, len);
	post(to, p);
	return 0;
}

int
tp_call(struct tp *tp, tp_call_fn *fn, void *arg)
{
	struct tp_post *p;

	if (tp->inbox_ev == NULL) {
		return -ENOTCONN;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	p->fn = fn;
	p->fn_arg = arg;
	post(tp, p);
	return 0;
}

static void
post_free(struct tp_post *p)
{
	free(p->host);
	free(p);
}

/* The posts waiting in tp's inbox, oldest first; the inbox is empty. */
static struct tp_post *
inbox_take(struct tp *tp)
{
	struct tp_post *p;

	pthread_mutex_lock(&tp->inbox_mu);
	p = tp->inbox_head;
	tp->inbox_head = tp->inbox_tail = NULL;
	tp->inbox_woken = false;
	pthread_mutex_unlock(&tp->inbox_mu);
	return p;
}

static void
inbox_run(evutil_socket_t fd, short what, void *arg)
{
	struct tp *tp = arg;
	struct tp_post *p, *next;
	uint64_t count;

	(void)what;
	/* the counter first: a post after the take writes it again */
	(void)!read(fd, &count, sizeof(count));
	p = inbox_take(tp);
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->fn != NULL) {
			p->fn(p->fn_arg, false);
			post_free(p);
			continue;
		}
		if (p->err != 0) {
			/* our own send, failed on its owner */
			tp_report_error(tp, &p->dst, p->err);
			post_free(p);
			continue;
		}
		p->dst.host = p->host;
		int rc = tp_conn_send(tp, &p->dst, p->bytes, p->len);
		p->dst.host = NULL;
		if (rc < 0 && p->origin != tp && p->origin != NULL) {
			p->err = rc;
			p->len = 0;
			post(p->origin, p);
			continue;
		}
		if (rc < 0) {
			tp_report_error(tp, &p->dst, rc);
		}
		post_free(p);
	}
}

int
tp_group_link(struct tp **all, unsigned n)
{
	if (n == 0 || n > TP_GROUP_MAX) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (all[i] == NULL || all[i]->index != i ||
		    all[i]->group != NULL) {
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct tp *tp = all[i];

		tp->group = calloc(n, sizeof(*tp->group));
		tp->inbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (tp->inbox_fd >= 0) {
			tp->inbox_ev = event_new(tp->base, tp->inbox_fd,
			    EV_READ | EV_PERSIST, inbox_run, tp);
		}
		if (tp->inbox_ev != NULL &&
		    event_add(tp->inbox_ev, NULL) < 0) {
			event_free(tp->inbox_ev);
			tp->inbox_ev = NULL;
		}
		if (tp->group == NULL || tp->inbox_ev == NULL) {
			if (tp->inbox_fd >= 0 && tp->inbox_ev == NULL) {
				close(tp->inbox_fd);
			}
			for (unsigned j = 0; j <= i; j++) {
				tp_group_fini(all[j]);
			}
			return -ENOMEM;
		}
		memcpy(tp->group, all, n * sizeof(*tp->group));
		tp->ngroup = n;
		/* one count per source for the whole group */
		tp->peers = all[0]->peers_own;
	}
	return 0;
}

void
tp_group_fini(struct tp *tp)
{
	struct tp_post *p, *next;

	if (tp->inbox_ev != NULL) {
		event_free(tp->inbox_ev);
		tp->inbox_ev = NULL;
		close(tp->inbox_fd);
	}
	p = inbox_take(tp);
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->fn != NULL) {
			p->fn(p->fn_arg, true);
		}
		post_free(p);
	}
	free(tp->group);
	tp->group = NULL;
	tp->ngroup = 0;
	tp->peers = tp->peers_own;
}

int
tp_send(struct tp *tp, const struct tp_src *dst, const void *bytes,
    size_t len)
{
	unsigned owner;

	switch (dst->proto) {
	case TP_UDP:
		return tp_udp_send(tp, dst, bytes, len);
	case TP_TCP:
	case TP_TLS:
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	owner = (unsigned)(dst->conn_id >> TP_CONN_INDEX_SHIFT);
	if (dst->conn_id != 0 && owner != tp->index && owner < tp->ngroup &&
	    tp->group[owner] != tp) {
		/* the connection belongs to another worker: its thread
		 * writes it */
		return post_send(tp, tp->group[owner], dst, bytes, len);
	}
	return tp_conn_send(tp, dst, bytes, len);
}
