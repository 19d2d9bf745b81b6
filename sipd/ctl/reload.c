/*
 * Reloading: SIGHUP and the "reload" command read the configuration file
 * again and apply what changed, all or nothing; "tls reload" (and every
 * reload) loads the TLS listeners' certificates and keys again for the
 * handshakes to come.  This file owns that sequence:
 *
 *   1. the file is read into a new configuration: a line that does not
 *      read is reported as FILE:LINE, nothing changed;
 *   2. the difference from the running configuration is written as the
 *      commands it implies (conf_reload_diff()), logged and replied;
 *   3. every TLS listener's files are loaded into new contexts before
 *      anything changes: a bad certificate fails the reload, naming the
 *      line of its listener, and the old one stays in force;
 *   4. the new configuration is applied in one step (ctl_conf_apply(),
 *      which takes back what it began when a part fails); an error there
 *      names the line of the command it stems from;
 *   5. each TLS listener is given its new context on every worker.
 *
 * Transactions, dialogs and connections are the workers' and are never
 * touched: a call carries on across a reload, and a TLS connection keeps
 * the certificate it was accepted with (OpenSSL counts the context's
 * references).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sipd/ctl/ctl_int.h"
#include "sipd/transport/tp.h"
#include "sipd/worker.h"

/* The new contexts of a configuration's TLS listeners, by index. */
struct tls_set {
	struct tp_tls_ctx *ctx[CONF_MAX_LISTENERS];
};

static void
tls_set_free(struct tls_set *t)
{
	for (int i = 0; i < CONF_MAX_LISTENERS; i++) {
		tp_tls_ctx_free(t->ctx[i]);
		t->ctx[i] = NULL;
	}
}

/*
 * Load the files of every TLS listener of c into t.  Returns 0, or -EINVAL
 * with the cause in err[0..cap) and the failing listener's index in *bad
 * (t then holds nothing).
 */
static int
tls_set_load(struct tls_set *t, const struct conf *c, int *bad, char *err,
    size_t cap)
{
	for (int i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *l = &c->listeners[i];
		struct tp_tls_conf tls = {
			.cert_file = l->cert,
			.key_file = l->key,
			.ca_file = l->ca[0] != '\0' ? l->ca : NULL,
			.verify_peer = l->verify,
		};

		if (l->proto != TP_TLS) {
			continue;
		}
		t->ctx[i] = tp_tls_ctx_load(&tls, err, cap);
		if (t->ctx[i] == NULL) {
			*bad = i;
			tls_set_free(t);
			return -EINVAL;
		}
	}
	return 0;
}

struct tls_swap {
	int idx;
	struct tp_tls_ctx *ctx;
};

static void
tls_swap_one(struct worker *w, void *arg)
{
	const struct tls_swap *s = arg;

	(void)tp_listener_set_tls(w->listeners[s->idx], s->ctx);
}

/* Give every worker's listener i the context t->ctx[i] (the listeners
 * of the configuration in force, in its order). */
static void
tls_set_apply(struct ctl *ctl, const struct tls_set *t)
{
	for (int i = 0; i < CONF_MAX_LISTENERS; i++) {
		struct tls_swap s = { i, t->ctx[i] };

		if (t->ctx[i] == NULL) {
			continue;
		}
		for (unsigned k = 0; k < workers_count(ctl->ws); k++) {
			workers_call(ctl->ws, k, tls_swap_one, &s);
		}
	}
}

/* "tls 127.0.0.1:5061: " and the cause, for listener i of c. */
static void
tls_fail_msg(const struct conf *c, int i, const char *why, char *err,
    size_t cap)
{
	char name[TP_ADDRSTRLEN + 8];

	snprintf(err, cap,
	    "listener %s: %.300s; the certificates in force stay",
	    conf_listener_str(&c->listeners[i], name, sizeof(name)), why);
}

/*
 * Read the file again and apply it (the steps above).  Returns 0 with the
 * commands applied in *changes (malloc'ed, "" for none), or a negative
 * errno with "FILE:LINE: message" (or "FILE: message") in err[0..cap),
 * nothing changed and *changes NULL.
 */
static int
reload_run(struct ctl *ctl, char **changes, char *err, size_t cap)
{
	struct tls_set tls = { { 0 } };
	struct conf *next;
	char msg[768], cmd[TP_ADDRSTRLEN + 32], name[TP_ADDRSTRLEN + 8];
	unsigned line;
	int rc, bad = -1;

	*changes = NULL;
	next = malloc(sizeof(*next));
	if (next == NULL) {
		snprintf(err, cap, "%s: out of memory", ctl->conf_path);
		return -ENOMEM;
	}
	rc = conf_load(next, ctl->conf_path, err, cap);
	if (rc < 0) {
		free(next);
		return rc;
	}
	rc = conf_reload_diff(ctl->conf, next, changes);
	if (rc < 0) {
		snprintf(err, cap, "%s: %s", ctl->conf_path, strerror(-rc));
		goto out;
	}
	rc = tls_set_load(&tls, next, &bad, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(cmd, sizeof(cmd), "listener add %s",
		    conf_listener_str(&next->listeners[bad], name,
			sizeof(name)));
		line = conf_reload_line(ctl->conf_path, cmd, strlen(cmd));
		snprintf(err, cap, "%s:%u: %.700s", ctl->conf_path, line, msg);
		goto out;
	}
	rc = ctl_conf_apply(ctl, next, msg, sizeof(msg));
	if (rc < 0) {
		/* refused by the system (a port in use), not the file */
		rc = rc == -ENOMEM ? rc : -EBUSY;
		line = conf_reload_blame(ctl->conf_path, *changes, msg);
		if (line > 0) {
			snprintf(err, cap, "%s:%u: %s", ctl->conf_path, line,
			    msg);
		} else {
			snprintf(err, cap, "%s: %s", ctl->conf_path, msg);
		}
		goto out;
	}
	tls_set_apply(ctl, &tls);
out:
	tls_set_free(&tls);
	conf_fini(next);
	free(next);
	if (rc < 0) {
		free(*changes);
		*changes = NULL;
	}
	return rc;
}

/* Log a reload's result; the changes one line each. */
static void
reload_log(struct ctl *ctl, const char *by, int rc, const char *changes,
    const char *err)
{
	const char *p = changes;
	unsigned n = 0;

	if (rc < 0) {
		log_err(LOG_TRANSPORT, "reload failed, configuration unchanged "
		    "(%s)", err);
		return;
	}
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		log_notice(LOG_TRANSPORT, "reload, %.*s", len, p);
		n++;
		p = nl != NULL ? nl + 1 : NULL;
	}
	log_warn(LOG_TRANSPORT, "configuration reloaded from %s (%s, %u "
	    "change%s)", ctl->conf_path, by, n, n == 1 ? "" : "s");
}

int
ctl_reload(struct ctl *ctl, char *err, size_t cap)
{
	char *changes = NULL;
	int rc;

	if (ctl->on_reload != NULL) {
		ctl->on_reload(ctl->on_reload_arg, true, 0);
	}
	rc = reload_run(ctl, &changes, err, cap);
	reload_log(ctl, "SIGHUP", rc, changes, err);
	if (ctl->on_reload != NULL) {
		ctl->on_reload(ctl->on_reload_arg, false, rc);
	}
	free(changes);
	return rc;
}

void
ctl_on_sighup(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;
	char err[1024];

	(void)fd;
	(void)what;
	log_warn(LOG_TRANSPORT, "SIGHUP: reading %s again", ctl->conf_path);
	(void)ctl_reload(ctl, err, sizeof(err));
}

void
ctl_set_reload_hook(struct ctl *ctl, ctl_reload_fn *fn, void *arg)
{
	ctl->on_reload = fn;
	ctl->on_reload_arg = arg;
}

int
ctl_h_reload(struct ctl_req *r)
{
	struct ctl *ctl = r->ctl;
	char *changes = NULL, by[96];
	int rc;

	log_warn(LOG_TRANSPORT, "control, %s: reading %s again",
	    r->conn->name, ctl->conf_path);
	if (ctl->on_reload != NULL) {
		ctl->on_reload(ctl->on_reload_arg, true, 0);
	}
	rc = reload_run(ctl, &changes, r->err, sizeof(r->err));
	snprintf(by, sizeof(by), "by %s", r->conn->name);
	reload_log(ctl, by, rc, changes, r->err);
	if (ctl->on_reload != NULL) {
		ctl->on_reload(ctl->on_reload_arg, false, rc);
	}
	if (rc < 0) {
		return rc;
	}
	proto_begin_reply(r->out, r->id);
	proto_str(&r->out->pk, changes[0] != '\0' ? changes : "no change\n");
	free(changes);
	return 0;
}

int
ctl_h_tls_reload(struct ctl_req *r)
{
	struct ctl *ctl = r->ctl;
	struct tls_set tls = { { 0 } };
	char msg[512], name[TP_ADDRSTRLEN + 8], *text = NULL;
	size_t len = 0;
	int bad = -1, n = 0;
	FILE *f;

	if (tls_set_load(&tls, ctl->conf, &bad, msg, sizeof(msg)) < 0) {
		tls_fail_msg(ctl->conf, bad, msg, r->err, sizeof(r->err));
		log_err(LOG_TRANSPORT, "tls reload failed (%s)", r->err);
		return -EINVAL;
	}
	f = open_memstream(&text, &len);
	if (f == NULL) {
		tls_set_free(&tls);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	tls_set_apply(ctl, &tls);
	for (int i = 0; i < ctl->conf->nlisteners; i++) {
		if (tls.ctx[i] != NULL) {
			conf_listener_str(&ctl->conf->listeners[i], name,
			    sizeof(name));
			fprintf(f, "listener %s: %s loaded\n", name,
			    ctl->conf->listeners[i].cert);
			log_warn(LOG_TRANSPORT, "tls, listener %s: %s loaded "
			    "for new connections (by %s)", name,
			    ctl->conf->listeners[i].cert, r->conn->name);
			n++;
		}
	}
	if (n == 0) {
		fputs("no TLS listener\n", f);
	}
	tls_set_free(&tls);
	if (fclose(f) != 0) {
		free(text);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	proto_begin_reply(r->out, r->id);
	proto_str(&r->out->pk, text);
	free(text);
	return 0;
}
