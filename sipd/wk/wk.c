/*
 * The workaround tables (wk.h): the methods' names, the products and
 * sites tables with their checks, the matching of a product string or a
 * host against them.  The configuration's table engine adds, removes,
 * lists and saves the entries (sipd/conf_wk.c).  Owns nothing beyond the
 * caller's struct wk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sipd/wk/wk.h"

static const struct {
	const char *name;
	unsigned bit;
	const char *why; /* NULL: usable; else why it cannot be added */
} wk_methods[] = {
	{ "noTCP", WK_NOTCP, NULL },
	{ "noMaddr", WK_NOMADDR, NULL },
	{ "noPath", WK_NOPATH, NULL },
	{ "badByeAuth", WK_BADBYEAUTH, NULL },
	{ "needsEpid", WK_NEEDSEPID, NULL },
	{ "NoSubMWI", WK_NOSUBMWI, NULL },
	{ "mediaRelay", WK_MEDIARELAY, NULL },
	{ "noMediaRelay", WK_NOMEDIARELAY, NULL },
	{ "Microsoft", 0, "comes with the presence agent" },
	{ "SubPresence", 0, "comes with the presence agent" },
};
#define WK_NMETHODS (sizeof(wk_methods) / sizeof(wk_methods[0]))

static int
wk_err(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && cap > 0) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void
wk_init(struct wk *w)
{
	memset(w, 0, sizeof(*w));
}

const char *
wk_method_name(int i)
{
	for (size_t k = 0; k < WK_NMETHODS; k++) {
		if (wk_methods[k].why == NULL && i-- == 0) {
			return wk_methods[k].name;
		}
	}
	return NULL;
}

static const char *
wk_valid_text(char *buf, size_t cap)
{
	size_t o = 0;
	const char *n;

	buf[0] = '\0';
	for (int i = 0; (n = wk_method_name(i)) != NULL && o < cap; i++) {
		o += (size_t)snprintf(buf + o, cap - o, "%s%s",
		    i > 0 ? ", " : "", n);
	}
	return buf;
}

int
wk_methods_parse(const char *text, unsigned *methods, char *err, size_t cap)
{
	const char *p = text != NULL ? text : "";
	char valid[128];
	unsigned m = 0;

	while (*p != '\0') {
		size_t len;
		size_t k;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0) {
			break;
		}
		for (k = 0; k < WK_NMETHODS; k++) {
			if (strlen(wk_methods[k].name) == len &&
			    strncasecmp(wk_methods[k].name, p, len) == 0) {
				break;
			}
		}
		if (k == WK_NMETHODS) {
			return wk_err(err, cap, -EINVAL,
			    "unknown method '%.*s' (expected %s)",
			    (int)(len > 64 ? 64 : len), p,
			    wk_valid_text(valid, sizeof(valid)));
		}
		if (wk_methods[k].why != NULL) {
			return wk_err(err, cap, -ENOTSUP, "method %s %s",
			    wk_methods[k].name, wk_methods[k].why);
		}
		m |= wk_methods[k].bit;
		p += len;
	}
	if (m == 0) {
		return wk_err(err, cap, -EINVAL, "no method (expected %s)",
		    wk_valid_text(valid, sizeof(valid)));
	}
	if ((m & WK_MEDIARELAY) != 0 && (m & WK_NOMEDIARELAY) != 0) {
		return wk_err(err, cap, -EINVAL,
		    "mediaRelay and noMediaRelay together");
	}
	*methods = m;
	return 0;
}

const char *
wk_methods_text(unsigned m, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < WK_NMETHODS && o < cap; k++) {
		if (wk_methods[k].bit != 0 && (m & wk_methods[k].bit) != 0) {
			o += (size_t)snprintf(buf + o, cap - o, "%s%s",
			    o > 0 ? " " : "", wk_methods[k].name);
		}
	}
	return buf;
}

/* A pattern: printable ASCII, not empty, not only blanks. */
static bool
wk_pattern_ok(const char *s)
{
	bool solid = false;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			return false;
		}
		solid = solid || *p != ' ';
	}
	return solid;
}

/* A domain: an optional '=', then labels of letters, digits, '-' and
 * '_' a dot apart, or an IP literal ("127.0.0.2", "[::1]"). */
static bool
wk_domain_ok(const char *s)
{
	size_t label = 0;

	if (*s == '=') {
		s++;
	}
	if (*s == '[') {
		size_t n = strlen(s);

		return n > 2 && s[n - 1] == ']' &&
		    strspn(s + 1, "0123456789abcdefABCDEF:.") == n - 2;
	}
	if (*s == '\0') {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0) {
				return false;
			}
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_') {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
}

int
wk_key_check(enum wk_table t, const char *key, char *err, size_t cap)
{
	if (t == WK_PRODUCT && !wk_pattern_ok(key)) {
		return wk_err(err, cap, -EINVAL,
		    "bad product pattern (printable characters, '*' for any, "
		    "not empty)");
	}
	if (t == WK_SITE && !wk_domain_ok(key)) {
		return wk_err(err, cap, -EINVAL,
		    "bad site '%.64s' (expected a domain, =domain for it "
		    "alone, or an IP address)", key);
	}
	return 0;
}

int
wk_methods_check(enum wk_table t, unsigned methods, char *err, size_t cap)
{
	char names[128];

	if (methods == 0) {
		return wk_err(err, cap, -EINVAL, "no method");
	}
	if (t == WK_SITE && (methods & ~WK_SITE_METHODS) != 0) {
		return wk_err(err, cap, -EINVAL,
		    "%s: a product's, not a site's (a site names where "
		    "requests go)",
		    wk_methods_text(methods & ~WK_SITE_METHODS, names,
			sizeof(names)));
	}
	if (t == WK_PRODUCT && (methods & ~WK_PRODUCT_METHODS) != 0) {
		return wk_err(err, cap, -EINVAL,
		    "%s: a site's, not a product's (sipd forwards a REGISTER "
		    "before it hears the registrar's Server)",
		    wk_methods_text(methods & ~WK_PRODUCT_METHODS, names,
			sizeof(names)));
	}
	return 0;
}

static char
wk_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
wk_pattern_match(const char *pattern, const char *s, size_t len)
{
	const char *p = pattern, *star = NULL;
	size_t i = 0, mark = 0;

	/* Greedy with one backtrack point: the last '*' seen takes one
	 * more character each time the rest fails; linear space, and at
	 * most len * strlen(pattern) steps. */
	while (i < len) {
		if (*p == '*') {
			star = ++p;
			mark = i;
		} else if (*p != '\0' && wk_lower(*p) == wk_lower(s[i])) {
			p++;
			i++;
		} else if (star != NULL) {
			p = star;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*') {
		p++;
	}
	return *p == '\0';
}

bool
wk_site_match(const char *domain, const char *host, size_t len)
{
	bool exact = domain[0] == '=';
	size_t dl;

	if (exact) {
		domain++;
	}
	dl = strlen(domain);
	if (len > 0 && host[len - 1] == '.') {
		len--;
	}
	if (len == dl) {
		return strncasecmp(host, domain, len) == 0;
	}
	return !exact && len > dl && host[len - dl - 1] == '.' &&
	    strncasecmp(host + len - dl, domain, dl) == 0;
}

unsigned
wk_lookup(const struct wk *w, enum wk_table t, const char *s, size_t len,
    bool *match)
{
	const struct wk_entry *e = t == WK_PRODUCT ? w->product : w->site;
	int n = t == WK_PRODUCT ? w->nproduct : w->nsite;
	unsigned m = 0;

	for (int i = 0; i < n; i++) {
		bool hit = s != NULL &&
		    (t == WK_PRODUCT ? wk_pattern_match(e[i].key, s, len)
				     : wk_site_match(e[i].key, s, len));

		if (hit) {
			m |= e[i].methods;
		}
		if (match != NULL) {
			match[i] = hit;
		}
	}
	return m;
}

/* Whether the URI parameter at p[0..n) (after its ';') is one m drops. */
static bool
wk_drop_param(const char *p, size_t n, unsigned m)
{
	size_t name = 0;

	while (name < n && p[name] != '=') {
		name++;
	}
	return ((m & WK_NOTCP) != 0 && name == 9 &&
		   strncasecmp(p, "transport", 9) == 0) ||
	    ((m & WK_NOMADDR) != 0 && name == 5 &&
		strncasecmp(p, "maddr", 5) == 0);
}

static int
wk_strip(const char *in, size_t len, unsigned m, char *out, size_t cap,
    bool *changed, bool angle)
{
	bool quoted = false;
	size_t o = 0, i = 0;

	*changed = false;
	while (i < len) {
		char ch = in[i];

		if (quoted) {
			if (ch == '\\' && i + 1 < len) {
				if (o + 2 > cap) {
					return -ENOSPC;
				}
				out[o++] = in[i++];
			} else if (ch == '"') {
				quoted = false;
			}
		} else if (ch == '"' && !angle) {
			quoted = true;
		} else if (ch == '<') {
			angle = true;
		} else if (ch == '>') {
			angle = false;
		} else if (ch == ';' && angle) {
			size_t n = 0;

			/* a parameter runs to the next ';', '?' or '>' */
			while (i + 1 + n < len && in[i + 1 + n] != ';' &&
			    in[i + 1 + n] != '?' && in[i + 1 + n] != '>') {
				n++;
			}
			if (wk_drop_param(in + i + 1, n, m)) {
				*changed = true;
				i += 1 + n;
				continue;
			}
		}
		if (o + 1 > cap) {
			return -ENOSPC;
		}
		out[o++] = in[i++];
	}
	return (int)o;
}

int
wk_strip_params(const char *in, size_t len, unsigned m, char *out,
    size_t cap, bool *changed)
{
	return wk_strip(in, len, m, out, cap, changed, false);
}

int
wk_strip_uri(const char *in, size_t len, unsigned m, char *out, size_t cap,
    bool *changed)
{
	return wk_strip(in, len, m, out, cap, changed, true);
}
