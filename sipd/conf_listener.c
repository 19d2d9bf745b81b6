/*
 * The configuration's listeners: "listener add TRANSPORT ADDRESS [cert
 * FILE] [key FILE] [ca FILE] [verify on|off]" and "listener remove
 * TRANSPORT ADDRESS".  Their fields are declared in proto/tables.def and
 * handled by the table engine (conf_table.c); here are the codecs of the
 * transport and the socket address, and the rules of a whole listener
 * (struct conf_thooks): the TLS fields belong to a tls listener, which
 * needs a cert and a key, and the last listener stays.  Opening and
 * closing the sockets follows from the new configuration (the workers
 * compare it with the old).  Also "set worker-ports", which gives each
 * worker a UDP socket of its own beside every UDP listener.  Owns
 * nothing: the listeners live in struct conf.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"
#include "proto/table.h"
#include "sipd/conf.h"

static const enum tp_proto protos[] = { TP_UDP, TP_TCP, TP_TLS };

int
conf_listener_parse_transport(void *row, const char *v, char *err,
    size_t cap)
{
	struct conf_listener *l = row;

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcasecmp(v, tp_proto_name(protos[i])) == 0) {
			l->proto = protos[i];
			return 0;
		}
	}
	return err_fmt(err, cap, -EINVAL,
	    "unknown transport '%.20s' (udp, tcp or tls)", v);
}

void
conf_listener_text_transport(const void *row, char *buf, size_t cap)
{
	const struct conf_listener *l = row;

	snprintf(buf, cap, "%s", tp_proto_name(l->proto));
}

int
conf_listener_parse_address(void *row, const char *v, char *err,
    size_t cap)
{
	struct conf_listener *l = row;
	char clip[LOG_CLIP_SIZE];

	if (conf_hostport(v, &l->addr, &l->addrlen) < 0) {
		return err_fmt(err, cap, -EINVAL,
		    "bad address '%s' (expected a.b.c.d:port or "
		    "[IPv6]:port)", log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}

void
conf_listener_text_address(const void *row, char *buf, size_t cap)
{
	const struct conf_listener *l = row;

	if (l->addrlen == 0) {
		snprintf(buf, cap, "%s", "");
		return;
	}
	tp_addr_str((const struct sockaddr *)&l->addr, buf, cap);
}

int
conf_listener_check(const void *row, char *err, size_t cap)
{
	const struct conf_listener *l = row;
	/* the first TLS field given, in the declared order */
	const char *tls_only = l->cert[0] != '\0' ? "cert"
	    : l->key[0] != '\0'                  ? "key"
	    : l->ca[0] != '\0'                   ? "ca"
	    : l->verify                           ? "verify"
	                                          : NULL;

	if (l->proto != TP_TLS && tls_only != NULL) {
		return err_fmt(err, cap, -EINVAL,
		    "%s is for tls listeners only (as are cert, key, ca and "
		    "verify)", tls_only);
	}
	if (l->proto == TP_TLS && (l->cert[0] == '\0' || l->key[0] == '\0')) {
		return err_fmt(err, cap, -EINVAL,
		    "a tls listener needs cert and key (no %s)",
		    l->cert[0] == '\0' ? "cert" : "key");
	}
	return 0;
}

int
conf_listener_removable(const void *rows, int n, int i, char *err,
    size_t cap)
{
	(void)rows;
	(void)i;
	if (n == 1) {
		return err_fmt(err, cap, -EBUSY,
		    "cannot remove the last listener (add another first)");
	}
	return 0;
}

int
conf_listener_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_add(&tbl_table[TBL_LISTENER], c->listeners,
	    &c->nlisteners, CONF_MAX_LISTENERS, sizeof(c->listeners[0]), a,
	    err, cap);
}

int
conf_listener_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_remove(&tbl_table[TBL_LISTENER], c->listeners,
	    &c->nlisteners, sizeof(c->listeners[0]), a, err, cap);
}

void
conf_listener_dump(const struct conf *c, FILE *f)
{
	for (int i = 0; i < c->nlisteners; i++) {
		conf_row_dump(&tbl_table[TBL_LISTENER], &c->listeners[i], true,
		    f);
	}
}

int
conf_worker_ports(const char *v, int *first)
{
	uint32_t port = 0;
	size_t n = strlen(v);

	if (strcasecmp(v, "off") == 0) {
		*first = -1;
		return 0;
	}
	if (strcasecmp(v, "auto") == 0) {
		*first = 0;
		return 0;
	}
	if (n == 0 || n > 5) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			return -EINVAL;
		}
		port = port * 10 + (uint32_t)(v[i] - '0');
	}
	if (port < 1024 || port > 65535) {
		return -EINVAL;
	}
	*first = (int)port;
	return 0;
}

int
conf_listener_check_worker_ports(const char *v, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	int first;

	if (conf_worker_ports(v, &first) < 0) {
		return err_fmt(err, cap, -EINVAL, "bad worker ports '%s' (off, "
		    "auto, or the first port, 1024 to 65535)",
		    log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}
