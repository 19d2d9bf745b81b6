/*
 * The worker: builds an event loop from the configuration (event base,
 * core, transport and listeners, signal events) and runs it.  It wires
 * the transport's receive callback to the core, so that the transport
 * never needs to know the core exists.
 */
#include "sipd/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sipd/core/core.h"
#include "sipd/log.h"
#include "sipd/transport/tp.h"

static void
worker_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct worker *w = arg;

	core_receive(w->core, src, data, len);
}

static void
worker_signal(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	w->stop_signal = (int)sig;
	log_warn(LOG_TRANSPORT, "stopping (%s)", sig == SIGTERM ? "SIGTERM"
						  : "SIGINT");
	event_base_loopbreak(w->base);
}

struct worker *
worker_new(const struct conf *c, char *err, size_t cap)
{
	struct worker *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		return NULL;
	}
	w->base = event_base_new();
	if (w->base == NULL) {
		snprintf(err, cap, "cannot create the event loop");
		goto fail;
	}
	w->core = core_new(&c->limits);
	w->tp = tp_new(w->base, c->limits.max_size, worker_recv, w);
	if (w->core == NULL || w->tp == NULL) {
		snprintf(err, cap, "%s", strerror(ENOMEM));
		goto fail;
	}
	for (int i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *cl = &c->listeners[i];
		char name[TP_ADDRSTRLEN];
		int rc;

		rc = tp_udp_listen(w->tp, (const struct sockaddr *)&cl->addr,
		    cl->addrlen, NULL);
		if (rc < 0) {
			snprintf(err, cap, "cannot listen on udp %s (%s)",
			    tp_addr_str((const struct sockaddr *)&cl->addr,
				name, sizeof(name)),
			    strerror(-rc));
			goto fail;
		}
	}
	w->sig_term = evsignal_new(w->base, SIGTERM, worker_signal, w);
	w->sig_int = evsignal_new(w->base, SIGINT, worker_signal, w);
	if (w->sig_term == NULL || w->sig_int == NULL ||
	    evsignal_add(w->sig_term, NULL) < 0 ||
	    evsignal_add(w->sig_int, NULL) < 0) {
		snprintf(err, cap, "cannot catch signals");
		goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

int
worker_run(struct worker *w)
{
	if (event_base_dispatch(w->base) < 0) {
		return -EIO;
	}
	return 0;
}

void
worker_free(struct worker *w)
{
	if (w == NULL) {
		return;
	}
	if (w->sig_int != NULL) {
		event_free(w->sig_int);
	}
	if (w->sig_term != NULL) {
		event_free(w->sig_term);
	}
	tp_free(w->tp);
	core_free(w->core);
	if (w->base != NULL) {
		event_base_free(w->base);
	}
	free(w);
}
