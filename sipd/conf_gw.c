/*
 * The configuration's External Gateways: "gateway add NAME domain D
 * [field value]...", "gateway set NAME FIELD VALUE" and "gateway remove
 * NAME" check every value before anything changes, so a bad line adds
 * nothing; the listing writes each gateway back as one "gateway add"
 * line (the password only when secrets may be shown).  Owns nothing: the
 * gateways live in struct conf.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/err.h"
#include "proto/lex.h"
#include "sipd/conf.h"

/* The fields, as "gateway set" and "gateway add" name them. */
static const char *const fields[] = {
	"domain", "via", "username", "password", "authname",
	"register-every", "contact", "calls-authenticate",
	"substitute-from", "substitute-to",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int
find(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->ngw; i++) {
		if (strcasecmp(c->gw[i].name, name) == 0) {
			return i;
		}
	}
	return -1;
}

bool
conf_gw_has_secrets(const struct conf *c)
{
	for (int i = 0; i < c->ngw; i++) {
		if (c->gw[i].password[0] != '\0') {
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

static int
parse_bool(const char *v, bool *out)
{
	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 ||
	    strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* Set field f of g to v ("" clears a string), checked.  0 or a negative
 * errno with a message. */
static int
set_field(struct conf_gw *g, const char *f, const char *v, char *err,
    size_t cap)
{
	size_t n = strlen(v);

	if (strcmp(f, "domain") == 0) {
		if (!host_ok(v, n)) {
			return err_fmt(err, cap, -EINVAL, "bad domain '%.100s' "
			    "(expected a host name or an IP address)", v);
		}
		snprintf(g->domain, sizeof(g->domain), "%s", v);
	} else if (strcmp(f, "via") == 0) {
		if (n >= sizeof(g->via)) {
			return err_fmt(err, cap, -EINVAL, "via too long");
		}
		if (strncasecmp(v, "sip:", 4) == 0 ||
		    strncasecmp(v, "sips:", 5) == 0) {
			struct uri u;
			if (uri_parse(v, (struct span){ 0, (uint32_t)n },
				&u) != 0 ||
			    u.host.len == 0 || !printable(v) ||
			    strchr(v, ' ') != NULL) {
				return err_fmt(err, cap, -EINVAL, "bad via URI "
				    "'%.100s'", v);
			}
		} else if (n > 0 && !hostport_ok(v)) {
			return err_fmt(err, cap, -EINVAL, "bad via '%.100s' "
			    "(expected a host name, an IP address or a SIP "
			    "URI)", v);
		}
		snprintf(g->via, sizeof(g->via), "%s", v);
	} else if (strcmp(f, "username") == 0 || strcmp(f, "authname") == 0) {
		char *dst = f[0] == 'u' ? g->username : g->authname;
		if (n >= CONF_GW_STR || (n > 0 && !user_ok(v))) {
			return err_fmt(err, cap, -EINVAL, "bad %s '%.100s' (no "
			    "blanks, quotes, <, >, ; or ?)", f, v);
		}
		snprintf(dst, CONF_GW_STR, "%s", v);
	} else if (strcmp(f, "password") == 0) {
		if (n >= sizeof(g->password) || !printable(v)) {
			return err_fmt(err, cap, -EINVAL, "bad password (too "
			    "long, or a control character, quote or "
			    "backslash)");
		}
		snprintf(g->password, sizeof(g->password), "%s", v);
	} else if (strcmp(f, "register-every") == 0) {
		char *end;
		unsigned long s = strtoul(v, &end, 10);
		if (n == 0 || *end != '\0' || v[0] == '-' ||
		    s > CONF_GW_EVERY_MAX) {
			return err_fmt(err, cap, -EINVAL, "bad register-every "
			    "'%.100s' (seconds, 0 to %d; 0: do not register)",
			    v, CONF_GW_EVERY_MAX);
		}
		g->register_every = (uint32_t)s;
	} else if (strcmp(f, "contact") == 0) {
		const char *at = strchr(v, '@');
		if (n >= CONF_GW_STR ||
		    (n > 0 && (!user_ok(v) || at == v ||
			(at != NULL && !host_ok(at + 1, strlen(at + 1)))))) {
			return err_fmt(err, cap, -EINVAL, "bad contact "
			    "'%.100s' (expected a local account: user or "
			    "user@domain)", v);
		}
		snprintf(g->contact, sizeof(g->contact), "%s", v);
	} else if (strcmp(f, "calls-authenticate") == 0 ||
	    strcmp(f, "substitute-from") == 0 ||
	    strcmp(f, "substitute-to") == 0) {
		bool b;
		if (parse_bool(v, &b) != 0) {
			return err_fmt(err, cap, -EINVAL, "bad %s '%.100s' "
			    "(expected on or off)", f, v);
		}
		if (f[0] == 'c') {
			g->calls_auth = b;
		} else if (strcmp(f, "substitute-from") == 0) {
			g->subst_from = b;
		} else {
			g->subst_to = b;
		}
	} else {
		char list[256] = "";
		for (size_t i = 0; i < NFIELDS; i++) {
			size_t o = strlen(list);
			snprintf(list + o, sizeof(list) - o, "%s%s",
			    i > 0 ? ", " : "", fields[i]);
		}
		return err_fmt(err, cap, -EINVAL, "unknown field '%.60s' "
		    "(one of %s)", f, list);
	}
	return 0;
}

static int
name_check(const char *name, char *err, size_t cap)
{
	size_t n = name != NULL ? strlen(name) : 0;

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

int
conf_gw_add(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	const char *name = cmd_arg_str(a, "name");
	struct conf_gw g;
	int rc;

	if ((rc = name_check(name, err, cap)) < 0) {
		return rc;
	}
	if (find(c, name) >= 0) {
		return err_fmt(err, cap, -EEXIST, "gateway %s exists already",
		    name);
	}
	if (c->ngw == CONF_MAX_GW) {
		return err_fmt(err, cap, -EBUSY, "too many gateways (at most "
		    "%d)", CONF_MAX_GW);
	}
	if (cmd_arg_str(a, "domain") == NULL) {
		return err_fmt(err, cap, -EINVAL, "gateway %s: missing domain "
		    "(gateway add NAME domain DOMAIN ...)", name);
	}
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *v = cmd_arg_str(a, fields[i]);
		if (v != NULL && (rc = set_field(&g, fields[i], v, err,
				      cap)) < 0) {
			return rc;
		}
	}
	c->gw[c->ngw++] = g;
	return 0;
}

int
conf_gw_set(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	const char *name = cmd_arg_str(a, "name");
	const char *f = cmd_arg_str(a, "field");
	const char *v = cmd_arg_str(a, "value");
	struct conf_gw g;
	int i, rc;

	i = name != NULL ? find(c, name) : -1;
	if (i < 0) {
		return err_fmt(err, cap, -ENOENT, "no gateway '%.64s'",
		    name ? name : "");
	}
	if (f == NULL || v == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing field or value");
	}
	if (strcmp(f, "domain") == 0 && v[0] == '\0') {
		return err_fmt(err, cap, -EINVAL, "a gateway needs a domain");
	}
	g = c->gw[i];
	if ((rc = set_field(&g, f, v, err, cap)) < 0) {
		return rc;
	}
	c->gw[i] = g;
	return 0;
}

int
conf_gw_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	const char *name = cmd_arg_str(a, "name");
	int i = name != NULL ? find(c, name) : -1;

	if (i < 0) {
		return err_fmt(err, cap, -ENOENT, "no gateway '%.64s'",
		    name ? name : "");
	}
	memmove(&c->gw[i], &c->gw[i + 1],
	    (size_t)(c->ngw - i - 1) * sizeof(c->gw[0]));
	c->ngw--;
	return 0;
}

static void
kv(FILE *f, const char *k, const char *v)
{
	if (v[0] != '\0') {
		fprintf(f, " %s ", k);
		lex_word_out(f, v);
	}
}

void
conf_gw_dump(const struct conf *c, FILE *f, bool secrets)
{
	for (int i = 0; i < c->ngw; i++) {
		const struct conf_gw *g = &c->gw[i];

		fprintf(f, "gateway add %s", g->name);
		kv(f, "domain", g->domain);
		kv(f, "via", g->via);
		kv(f, "username", g->username);
		kv(f, "password", secrets ? g->password
			  : g->password[0] ? CONF_HIDDEN : "");
		kv(f, "authname", g->authname);
		if (g->register_every != 0) {
			fprintf(f, " register-every %u", g->register_every);
		}
		kv(f, "contact", g->contact);
		if (g->calls_auth) {
			fputs(" calls-authenticate on", f);
		}
		if (g->subst_from) {
			fputs(" substitute-from on", f);
		}
		if (g->subst_to) {
			fputs(" substitute-to on", f);
		}
		fputc('\n', f);
	}
}
