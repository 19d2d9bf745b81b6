/*
 * The Router table and the SIP routing rules that follow it: parsing a
 * record, matching an address against the records top to bottom (the
 * first match wins, its result is routed again from the start), and the
 * final classification of the address (IP literal, External Gateway,
 * host name, transport suffix).  Owns nothing: the caller holds the
 * table and the result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sipd/router/rtr.h"

static const struct {
	const char *name;
	unsigned flag;
} prefixes[] = {
	{ "Signal", RTR_F_SIGNAL },
	{ "Mail", RTR_F_MAIL },
	{ "Access", RTR_F_ACCESS },
	{ "NoRelay", RTR_F_NORELAY },
	{ "MediaRelay", RTR_F_MEDIA },
	{ "NoMediaRelay", RTR_F_NOMEDIA },
};

static int
fail(char *err, size_t cap, size_t col, const char *what)
{
	if (err != NULL && cap > 0) {
		snprintf(err, cap, "column %zu: %s", col, what);
	}
	return -EINVAL;
}

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* An address's characters: no blanks, no controls, none of the record's
 * own syntax, nothing the command line quotes or comments with. */
static bool
addr_char(char ch)
{
	return (unsigned char)ch > ' ' && (unsigned char)ch < 0x7f &&
	    ch != '=' && ch != ';' && ch != '<' && ch != '>' && ch != '"' &&
	    ch != '\'' && ch != '\\' && ch != '#';
}

/* Check text[b..e) as one side of a record; col0 is text's column 1. */
static int
check_side(const char *text, size_t b, size_t e, bool left, char *err,
    size_t cap)
{
	int stars = 0, ats = 0;

	if (b == e) {
		return fail(err, cap, b + 1, left ? "empty address before '='"
						  : "empty target after '='");
	}
	for (size_t i = b; i < e; i++) {
		if (!addr_char(text[i])) {
			char what[64];
			snprintf(what, sizeof(what), "unexpected %s in %s",
			    blank(text[i]) ? "blank" : "character",
			    left ? "the address" : "the target");
			return fail(err, cap, i + 1, what);
		}
		if (text[i] == '@' && ++ats > 1) {
			return fail(err, cap, i + 1, "a second '@'");
		}
		if (left && text[i] == '*' && ++stars > 1) {
			return fail(err, cap, i + 1,
			    "a second '*' (one at most on the left)");
		}
	}
	return 0;
}

int
rtr_parse(const char *text, struct rtr_record *r, char *err, size_t cap)
{
	size_t n = strlen(text), p = 0, end, eq, lb, le, rb, re;
	const char *semi = memchr(text, ';', n);
	char pre[64] = "";
	int rc;

	memset(r, 0, sizeof(*r));
	if (semi != NULL) {
		n = (size_t)(semi - text);
	}
	while (n > 0 && blank(text[n - 1])) {
		n--;
	}
	while (p < n && blank(text[p])) {
		p++;
	}
	if (p == n) {
		return fail(err, cap, p + 1, "empty record");
	}
	/* prefixes: a word of letters and a ':' */
	for (;;) {
		size_t w = p;
		bool known = false;

		while (w < n && ((text[w] >= 'a' && text[w] <= 'z') ||
				    (text[w] >= 'A' && text[w] <= 'Z'))) {
			w++;
		}
		if (w == p || w >= n || text[w] != ':') {
			break;
		}
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]);
		     i++) {
			if (strlen(prefixes[i].name) == w - p &&
			    strncasecmp(prefixes[i].name, text + p, w - p) == 0) {
				if (r->flags & prefixes[i].flag) {
					return fail(err, cap, p + 1,
					    "prefix given twice");
				}
				r->flags |= prefixes[i].flag;
				size_t o = strlen(pre);
				snprintf(pre + o, sizeof(pre) - o, "%s:",
				    prefixes[i].name);
				known = true;
			}
		}
		if (!known) {
			char what[128];
			snprintf(what, sizeof(what), "unknown prefix '%.*s:' "
			    "(Signal, NoRelay, MediaRelay, NoMediaRelay, Mail "
			    "or Access)", (int)(w - p > 32 ?
			    32 : w - p), text + p);
			return fail(err, cap, p + 1, what);
		}
		p = w + 1;
	}
	if ((r->flags & RTR_F_MEDIA) && (r->flags & RTR_F_NOMEDIA)) {
		return fail(err, cap, 1, "MediaRelay: and NoMediaRelay: "
		    "together");
	}
	const char *e = memchr(text + p, '=', n - p);
	if (e == NULL) {
		return fail(err, cap, n + 1, "missing '= target'");
	}
	eq = (size_t)(e - text);
	lb = p;
	le = eq;
	while (le > lb && blank(text[le - 1])) {
		le--;
	}
	rb = eq + 1;
	while (rb < n && blank(text[rb])) {
		rb++;
	}
	re = n;
	end = le;
	r->left_kind = RTR_L_DOMAIN;
	if (lb < le && text[lb] == '<') {
		if (text[le - 1] != '>' || le - lb < 2) {
			return fail(err, cap, le, "'<' without its '>'");
		}
		r->left_kind = RTR_L_MAIN;
		lb++;
		end = --le;
		if (lb == le) {
			return fail(err, cap, lb + 1, "empty name in '<>'");
		}
	}
	rc = check_side(text, lb, end, true, err, cap);
	if (rc < 0) {
		return rc;
	}
	if (r->left_kind == RTR_L_MAIN && memchr(text + lb, '@', le - lb)) {
		return fail(err, cap, lb + 1, "'@' inside '<>' (write "
		    "name@domain without them)");
	}
	if (r->left_kind != RTR_L_MAIN && memchr(text + lb, '@', le - lb)) {
		r->left_kind = RTR_L_ADDR;
	}
	rc = check_side(text, rb, re, false, err, cap);
	if (rc < 0) {
		return rc;
	}
	if (le - lb >= sizeof(r->left) || re - rb >= sizeof(r->right)) {
		return fail(err, cap, 1, "record too long");
	}
	memcpy(r->left, text + lb, le - lb);
	memcpy(r->right, text + rb, re - rb);
	if (snprintf(r->text, sizeof(r->text), "%s%s%s%s = %s", pre,
		r->left_kind == RTR_L_MAIN ? "<" : "", r->left,
		r->left_kind == RTR_L_MAIN ? ">" : "", r->right) >=
	    (int)sizeof(r->text)) {
		return fail(err, cap, 1, "record too long");
	}
	return 0;
}

bool
rtr_applies_sip(const struct rtr_record *r)
{
	/* no type prefix: every kind of address; Signal: SIP */
	return (r->flags & RTR_F_SIGNAL) ||
	    !(r->flags & (RTR_F_MAIL | RTR_F_ACCESS));
}

/*
 * Match s against pat (at most one '*', any text, empty included; the
 * literal text around it anchored), case-insensitively; the text the
 * '*' took in *cap (empty without a '*').
 */
static bool
match(const char *pat, const char *s, const char **cap, size_t *caplen)
{
	const char *star = strchr(pat, '*');
	size_t sl = strlen(s);

	if (star == NULL) {
		*cap = s;
		*caplen = 0;
		return strcasecmp(pat, s) == 0;
	}
	size_t pl = (size_t)(star - pat), ql = strlen(star + 1);
	if (sl < pl + ql || strncasecmp(pat, s, pl) != 0 ||
	    strcasecmp(star + 1, s + sl - ql) != 0) {
		return false;
	}
	*cap = s + pl;
	*caplen = sl - pl - ql;
	return true;
}

/* right with each '*' replaced by cap into out. */
static int
expand(const char *right, const char *cap, size_t caplen, char *out,
    size_t outcap)
{
	size_t o = 0;

	for (const char *p = right; *p != '\0'; p++) {
		size_t k = *p == '*' ? caplen : 1;
		if (o + k >= outcap) {
			return -ENAMETOOLONG;
		}
		memcpy(out + o, *p == '*' ? cap : p, k);
		o += k;
	}
	out[o] = '\0';
	return 0;
}

static int
copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap) {
		return -ENAMETOOLONG;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Split "x@y" (the last '@') or, without '@', "x%y" (the rightmost '%')
 * into local and domain; neither: local alone in dflt. */
static int
split(const char *a, const char *dflt, char *local, char *domain, size_t cap)
{
	const char *at = strrchr(a, '@');

	if (at == NULL) {
		at = strrchr(a, '%');
	}
	if (at == NULL) {
		int rc = copy(local, cap, a, strlen(a));
		return rc < 0 ? rc : copy(domain, cap, dflt, strlen(dflt));
	}
	int rc = copy(local, cap, a, (size_t)(at - a));
	return rc < 0 ? rc : copy(domain, cap, at + 1, strlen(at + 1));
}

const char *
rtr_addr_str(const char *local, const char *domain, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", local, local[0] != '\0' ? "@" : "",
	    domain);
	return buf;
}

/* Does record r match local@domain?  The rewrite into nl, nd. */
static int
apply(const struct rtr_record *r, const char *main, const char *local,
    const char *domain, char *nl, char *nd, size_t cap)
{
	char full[2 * RTR_ADDR_MAX + 1], out[RTR_ADDR_MAX];
	const char *c;
	size_t cl;
	int rc;

	switch (r->left_kind) {
	case RTR_L_MAIN:
		if (main[0] == '\0' || strcasecmp(domain, main) != 0 ||
		    !match(r->left, local, &c, &cl)) {
			return 0;
		}
		break;
	case RTR_L_ADDR:
		snprintf(full, sizeof(full), "%s@%s", local, domain);
		if (!match(r->left, full, &c, &cl)) {
			return 0;
		}
		break;
	default:
		if (!match(r->left, domain, &c, &cl)) {
			return 0;
		}
		break;
	}
	rc = expand(r->right, c, cl, out, sizeof(out));
	if (rc < 0) {
		return rc;
	}
	if (r->left_kind == RTR_L_DOMAIN && strchr(out, '@') == NULL) {
		/* a domain-only record moves the domain, keeps the local
		 * part */
		rc = copy(nl, cap, local, strlen(local));
		if (rc == 0) {
			rc = copy(nd, cap, out, strlen(out));
		}
		return rc < 0 ? rc : 1;
	}
	rc = split(out, main, nl, nd, cap);
	return rc < 0 ? rc : 1;
}

static bool
ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	if (n <= k) {
		return false;
	}
	/* suf is lower case; s folded as strcasecmp() folds ASCII */
	s += n - k;
	for (size_t i = 0; i < k; i++) {
		char ch = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a')
						     : s[i];
		if (ch != suf[i]) {
			return false;
		}
	}
	return true;
}

/* d (RTR_ADDR_MAX bytes) becomes the parts a to e one after the other,
 * cut to fit as snprintf() would; without its formatting on every
 * routed request. */
static void
addr_join(char *d, const char *a, const char *b, const char *c,
    const char *e)
{
	const char *part[] = { a, b, c, e };
	size_t o = 0;

	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		size_t l = strlen(part[i]);

		l = l < RTR_ADDR_MAX - 1 - o ? l : RTR_ADDR_MAX - 1 - o;
		memcpy(d + o, part[i], l);
		o += l;
	}
	d[o] = '\0';
}

/* The SIP routing rules on the final address (no record applies). */
static void
classify(struct rtr_result *out)
{
	static const struct {
		const char *suffix;
		enum rtr_proto proto;
	} sfx[] = {
		{ ".udp", RTR_PROTO_UDP },
		{ ".tcp", RTR_PROTO_TCP },
		{ ".tls", RTR_PROTO_TLS },
	};
	char *d = out->domain, tmp[64];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	n = strlen(d);
	/* each suffix is a dot and three letters: the dot first */
	for (size_t i = 0; n > 4 && d[n - 4] == '.' &&
	     i < sizeof(sfx) / sizeof(sfx[0]);
	     i++) {
		if (ends_with(d, n, sfx[i].suffix)) {
			n -= 4;
			d[n] = '\0';
			out->proto = sfx[i].proto;
			out->changed = true;
			break;
		}
	}
	if (n > 6 && d[n - 6] == '.' && ends_with(d, n, ".sipgw")) {
		n -= 6;
		memcpy(out->gateway, d, n);
		out->gateway[n] = '\0';
		out->kind = RTR_GATEWAY;
		return;
	}
	/* "address:port": a record may name a port with an IP literal */
	const char *colon = strrchr(d, ':');
	if (colon != NULL && colon[1] != '\0' &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    strlen(colon + 1) <= 5 &&
	    (d[0] == '[' ? colon[-1] == ']' : strchr(d, ':') == colon)) {
		n = (size_t)(colon - d);
	}
	tmp[0] = '\0';
	if (n >= 2 && d[0] == '[' && d[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, d + 1, n - 2);
		tmp[n - 2] = '\0';
	} else if (n < sizeof(tmp)) {
		memcpy(tmp, d, n);
		tmp[n] = '\0';
	}
	/* ":port" (at most 6 bytes, checked above) or "" */
	char port[8];
	size_t pl = strlen(d + n);
	pl = pl < sizeof(port) ? pl : sizeof(port) - 1;
	memcpy(port, d + n, pl);
	port[pl] = '\0';
	/* d is tmp and port already unless the brackets change; only
	 * digits and dots can be an IPv4 address, only text with a colon
	 * an IPv6 one (inet_pton() is asked only then) */
	size_t tl = strlen(tmp);
	if (strspn(tmp, "0123456789.") == tl &&
	    inet_pton(AF_INET, tmp, &a4) == 1) {
		/* an IPv4 literal is written without brackets in a SIP URI
		 * (RFC 3261 25.1) */
		if (d[0] == '[') {
			addr_join(d, "", tmp, "", port);
		}
		out->kind = RTR_IP;
		return;
	}
	if (memchr(tmp, ':', tl) != NULL && inet_pton(AF_INET6, tmp, &a6) == 1) {
		if (d[0] != '[') {
			addr_join(d, "[", tmp, "]", port);
		}
		out->kind = RTR_IP;
		return;
	}
	n = strlen(d);
	out->kind = RTR_HOST;
	out->dotted = strchr(d, '.') != NULL;
}

int
rtr_route(const struct rtr_record *tab, int n, const struct rtr_in *in,
    const char *local, const char *domain, struct rtr_result *out)
{
	const char *main = in->main_domain != NULL ? in->main_domain : "";
	char nl[RTR_ADDR_MAX], nd[RTR_ADDR_MAX];
	int rc;

	/* not the whole result, which is mostly steps[] (nsteps says how
	 * many were written) and text read up to its NUL: zeroing its 3 KB
	 * cost more than routing a request through no record */
	memset(&out->kind, 0, offsetof(struct rtr_result, steps) -
	    offsetof(struct rtr_result, kind));
	out->gateway[0] = '\0';
	if (domain == NULL || domain[0] == '\0') {
		rc = split(local, main, out->local, out->domain,
		    sizeof(out->local));
	} else {
		rc = copy(out->local, sizeof(out->local), local, strlen(local));
		if (rc == 0) {
			rc = copy(out->domain, sizeof(out->domain), domain,
			    strlen(domain));
		}
	}
	if (rc < 0) {
		return rc;
	}
	for (;;) {
		int i;

		/* "x%y@main": the main domain is cleared and the local part
		 * split again */
		if (main[0] != '\0' && strcasecmp(out->domain, main) == 0 &&
		    strchr(out->local, '%') != NULL) {
			char *pc = strrchr(out->local, '%');
			snprintf(nd, sizeof(nd), "%s", pc + 1);
			*pc = '\0';
			snprintf(out->domain, sizeof(out->domain), "%s", nd);
			out->changed = true;
		}
		for (i = 0; i < n; i++) {
			const struct rtr_record *r = &tab[i];

			if (!rtr_applies_sip(r)) {
				continue;
			}
			rc = apply(r, main, out->local, out->domain, nl, nd,
			    sizeof(nl));
			if (rc < 0) {
				return rc;
			}
			if (rc == 0) {
				continue;
			}
			if ((r->flags & RTR_F_NORELAY) && !in->client) {
				/* strangers cannot use a gateway record as
				 * an open relay */
				out->norelay_skipped = true;
				continue;
			}
			break;
		}
		if (i == n) {
			break;
		}
		if (out->nsteps == RTR_LOOP_LIMIT) {
			return -ELOOP;
		}
		out->by_record = strcasecmp(nd, out->domain) != 0 ||
		    out->by_record;
		snprintf(out->local, sizeof(out->local), "%s", nl);
		snprintf(out->domain, sizeof(out->domain), "%s", nd);
		out->changed = true;
		out->media |= tab[i].flags & (RTR_F_MEDIA | RTR_F_NOMEDIA);
		struct rtr_step *s = &out->steps[out->nsteps++];
		size_t ll = strlen(nl), dl = strlen(nd);
		if (ll + 1 + dl >= sizeof(s->addr)) {
			return -ENAMETOOLONG;
		}
		s->record = i;
		memcpy(s->addr, nl, ll);
		s->addr[ll] = '@';
		memcpy(s->addr + ll + (ll > 0), nd, dl + 1);
	}
	classify(out);
	return 0;
}
