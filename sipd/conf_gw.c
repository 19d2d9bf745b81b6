/*
 * The configuration's External Gateways: "gateway add NAME domain D
 * [field value]...", "gateway set NAME FIELD VALUE" and "gateway remove
 * NAME".  Their fields are declared in proto/tables.def and handled by
 * the table engine (conf_table.c), which checks every value before
 * anything changes, so a bad line adds nothing, and writes each gateway
 * back as one "gateway add" line (the password only when secrets may be
 * shown); here are the checks of the values the engine cannot know.
 * Owns nothing: the gateways live in struct conf.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"
#include "proto/table.h"
#include "sipd/conf.h"

bool
conf_gw_has_secrets(const struct conf *c)
{
	for (int i = 0; i < c->ngw; i++) {
		if (conf_row_has_secrets(&tbl_table[TBL_GATEWAY], &c->gw[i])) {
			return true;
		}
	}
	return false;
}

/* A host name (letters, digits, '-', '.') or an IP literal. */
static bool
host_ok(const char *s, size_t n)
{
	uint8_t a[16];

	if (n == 0 || n >= CONF_HOST_MAX) {
		return false;
	}
	if (s[0] == '[') {
		return n > 2 && s[n - 1] == ']' && uri_ipv6(s + 1, n - 2, a);
	}
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
			return false;
		}
	}
	return s[0] != '.' && s[0] != '-';
}

/* "host" or "host:port" */
static bool
hostport_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t n = strlen(s);

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			return false;
		}
		colon = close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close[1] != '\0') {
			return false;
		}
	}
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || colon[1] == '\0' || port < 1 ||
		    port > 65535) {
			return false;
		}
		n = (size_t)(colon - s);
	}
	return host_ok(s, n);
}

/* Printable ASCII without blanks or the characters that end a URI's
 * user part or a quoted string. */
static bool
user_ok(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s > '~' || strchr("\"<>;?\\", *s) != NULL) {
			return false;
		}
	}
	return true;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < ' ' || *s == 0x7f || *s == '"' ||
		    *s == '\\') {
			return false;
		}
	}
	return true;
}

int
conf_gw_check_host(const char *v, char *err, size_t cap)
{
	if (!host_ok(v, strlen(v))) {
		return err_fmt(err, cap, -EINVAL, "bad domain '%.100s' "
		    "(expected a host name or an IP address)", v);
	}
	return 0;
}

int
conf_gw_check_via(const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);

	if (strncasecmp(v, "sip:", 4) == 0 || strncasecmp(v, "sips:", 5) == 0) {
		struct uri u;

		if (uri_parse(v, (struct span){ 0, (uint32_t)n }, &u) != 0 ||
		    u.host.len == 0 || !printable(v) || strchr(v, ' ') != NULL) {
			return err_fmt(err, cap, -EINVAL, "bad via URI "
			    "'%.100s'", v);
		}
	} else if (n > 0 && !hostport_ok(v)) {
		return err_fmt(err, cap, -EINVAL, "bad via '%.100s' "
		    "(expected a host name, an IP address or a SIP URI)", v);
	}
	return 0;
}

int
conf_gw_check_user(const char *v, char *err, size_t cap)
{
	if (v[0] != '\0' && !user_ok(v)) {
		return err_fmt(err, cap, -EINVAL, "'%.100s' (no blanks, "
		    "quotes, <, >, ; or ?)", v);
	}
	return 0;
}

int
conf_gw_check_password(const char *v, char *err, size_t cap)
{
	if (!printable(v)) {
		return err_fmt(err, cap, -EINVAL, "bad password (a control "
		    "character, quote or backslash)");
	}
	return 0;
}

int
conf_gw_check_contact(const char *v, char *err, size_t cap)
{
	const char *at = strchr(v, '@');

	if (v[0] != '\0' && (!user_ok(v) || at == v ||
	    (at != NULL && !host_ok(at + 1, strlen(at + 1))))) {
		return err_fmt(err, cap, -EINVAL, "bad contact '%.100s' "
		    "(expected a local account: user or user@domain)", v);
	}
	return 0;
}

int
conf_gw_check_name(const char *name, char *err, size_t cap)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CONF_GW_NAME_MAX) {
		return err_fmt(err, cap, -EINVAL, "bad gateway name (1 to %d "
		    "letters and digits)", CONF_GW_NAME_MAX - 1);
	}
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9'))) {
			return err_fmt(err, cap, -EINVAL, "bad gateway name "
			    "'%.64s' (letters and digits only)", name);
		}
	}
	return 0;
}

void
conf_gw_view_user(const void *row, char *buf, size_t cap)
{
	conf_gw_user(row, buf, cap);
}

int
conf_gw_add(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	return conf_rows_add(&tbl_table[TBL_GATEWAY], c->gw, &c->ngw,
	    CONF_MAX_GW, sizeof(c->gw[0]), a, err, cap);
}

int
conf_gw_set(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	return conf_rows_set(&tbl_table[TBL_GATEWAY], c->gw, c->ngw,
	    sizeof(c->gw[0]), a, err, cap);
}

int
conf_gw_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	return conf_rows_remove(&tbl_table[TBL_GATEWAY], c->gw, &c->ngw,
	    sizeof(c->gw[0]), a, err, cap);
}

void
conf_gw_dump(const struct conf *c, FILE *f, bool secrets)
{
	for (int i = 0; i < c->ngw; i++) {
		conf_row_dump(&tbl_table[TBL_GATEWAY], &c->gw[i], secrets, f);
	}
}
