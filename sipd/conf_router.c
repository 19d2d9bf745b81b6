/*
 * The configuration's Router table, declared in proto/tables.def and
 * handled by the table engine (conf_table.c): "router add RECORD" appends
 * a record (sipd/router/rtr.h parses it), "router remove N|RECORD" takes
 * one out by its number in "router list" or its text; "set relay-via" and
 * "set main-domain" are checked here too.  The old static rules ("route add")
 * still load, with a note that they are deprecated, handled by the table
 * engine (conf_table.c) from their declaration.  Owns nothing: the
 * records and rules live in struct conf.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"
#include "proto/table.h"
#include "sipd/conf.h"

/*
 * A Router record is a row of the table engine (conf_table.c): its text
 * parsed by rtr_parse() and written back canonical, found by that text or
 * by its number in "router list".
 */
int
conf_router_parse_record(void *row, const char *v, char *err, size_t cap)
{
	char why[160];

	if (rtr_parse(v, row, why, sizeof(why)) < 0) {
		return err_fmt(err, cap, -EINVAL, "bad record (%s)", why);
	}
	return 0;
}

void
conf_router_text_record(const void *row, char *buf, size_t cap)
{
	const struct rtr_record *r = row;

	snprintf(buf, cap, "%s", r->text);
}

int
conf_router_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_add(&tbl_table[TBL_ROUTER], c->router, &c->nrouter,
	    RTR_MAX_RECORDS, sizeof(c->router[0]), a, err, cap);
}

int
conf_router_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_remove(&tbl_table[TBL_ROUTER], c->router,
	    &c->nrouter, sizeof(c->router[0]), a, err, cap);
}

void
conf_router_dump(const struct conf *c, FILE *f)
{
	for (int i = 0; i < c->nrouter; i++) {
		conf_row_dump(&tbl_table[TBL_ROUTER], &c->router[i], true, f);
	}
}

int
conf_router_check_via(const char *v, char *err, size_t cap)
{
	struct conf_route r;
	int rc = conf_route_host(v, &r);

	/* -EDESTADDRREQ: a host name, resolved by RFC 3263 when used */
	if (rc < 0 && rc != -EDESTADDRREQ) {
		return err_fmt(err, cap, -EINVAL, "bad relay-via '%.100s' "
		    "(expected host, host:port or [IPv6]:port)", v);
	}
	return 0;
}

int
conf_router_check_domain(const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	bool ok = n > 0 && n < CONF_HOST_MAX && v[0] != '.' && v[0] != '-' &&
	    strstr(v, "..") == NULL;

	/* a name, not an address: the domain may be added later in the
	 * file, so whether it is local is asked when it is used */
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		ok = isalnum(ch) || ch == '-' || ch == '.' || ch == '_';
	}
	if (!ok) {
		return err_fmt(err, cap, -EINVAL, "bad main-domain '%.100s' "
		    "(expected a domain name)", v);
	}
	return 0;
}

void
conf_router_route_deprecated(void)
{
	/* the configuration is read and changed by one thread */
	static bool said;

	if (!said) {
		said = true;
		log_notice(LOG_TRANSPORT, "conf, 'route add' is deprecated: "
		    "use Router records ('router add DOMAIN = HOST')");
	}
}

/*
 * The static forwarding rules ("route add DOMAIN TARGET [transport T]"),
 * declared in proto/tables.def and handled by the table engine: here the
 * check of a domain and the codecs of a target (a host and a port) and of
 * a transport (set or not).
 */
int
conf_route_check_domain(const char *v, char *err, size_t cap)
{
	if (strcmp(v, "*") != 0 && !conf_hostname_ok(v, strlen(v))) {
		return err_fmt(err, cap, -EINVAL,
		    "bad domain '%.100s' (expected a host name or *)", v);
	}
	return 0;
}

int
conf_route_parse_target(void *row, const char *v, char *err, size_t cap)
{
	struct conf_route *r = row, t = *r;
	int rc = conf_route_host(v, &t);

	if (rc == -EDESTADDRREQ) {
		return err_fmt(err, cap, -EINVAL,
		    "bad target '%.100s' (a route's target is an IP address: "
		    "names are not looked up)", v);
	}
	if (rc < 0) {
		return err_fmt(err, cap, -EINVAL,
		    "bad target '%.100s' (expected address, address:port or "
		    "[IPv6]:port)", v);
	}
	*r = t;
	return 0;
}

void
conf_route_text_target(const void *row, char *buf, size_t cap)
{
	conf_route_target(row, buf, cap);
}

int
conf_route_parse_transport(void *row, const char *v, char *err, size_t cap)
{
	static const enum tp_proto protos[] = { TP_UDP, TP_TCP, TP_TLS };
	struct conf_route *r = row;

	if (strcmp(v, "auto") == 0) {
		r->proto_set = false;
		return 0;
	}
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcasecmp(v, tp_proto_name(protos[i])) == 0) {
			r->proto = protos[i];
			r->proto_set = true;
			return 0;
		}
	}
	return err_fmt(err, cap, -EINVAL,
	    "bad transport '%.100s' (expected udp, tcp or tls)", v);
}

void
conf_route_text_transport(const void *row, char *buf, size_t cap)
{
	const struct conf_route *r = row;

	snprintf(buf, cap, "%s", r->proto_set ? tp_proto_name(r->proto)
					      : "auto");
}

int
conf_route_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_add(&tbl_table[TBL_ROUTE], c->routes, &c->nroutes,
	    CONF_MAX_ROUTES, sizeof(c->routes[0]), a, err, cap);
}

int
conf_route_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_remove(&tbl_table[TBL_ROUTE], c->routes, &c->nroutes,
	    sizeof(c->routes[0]), a, err, cap);
}

void
conf_route_dump(const struct conf *c, FILE *f)
{
	for (int i = 0; i < c->nroutes; i++) {
		conf_row_dump(&tbl_table[TBL_ROUTE], &c->routes[i], true, f);
	}
}
