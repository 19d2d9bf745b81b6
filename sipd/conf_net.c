/*
 * The configuration's Network Address Lists: "lan", "client-ip" and
 * "nated".  Each line of a list is an address, a range "a-b" (both ends
 * included) or a prefix "addr/n" (host bits zero), optionally after a
 * "!" that takes those addresses out of what the lines above put in, and
 * optionally followed by "; a comment".  The list is built top to bottom
 * (sipd/transport/tp.h, tp_net_match()), so the order the lines were
 * added in is kept, in memory and in the saved file.  Owns nothing: the
 * lists live in struct conf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "proto/lex.h"
#include "sipd/conf.h"
#include "sipd/log.h"

/* An address as written into its bytes and family; mapped: ::ffff:a.b.c.d
 * (its IPv4 address in b[0..4) then).  0 or -EINVAL. */
static int
net_addr(const char *s, size_t n, uint8_t b[16], int *family, bool *mapped)
{
	char host[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;

	*mapped = false;
	if (n == 0 || n >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, b) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1) {
		return -EINVAL;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(b, &a6.s6_addr[12], 4);
		*family = AF_INET;
		*mapped = true;
		return 0;
	}
	memcpy(b, a6.s6_addr, 16);
	*family = AF_INET6;
	return 0;
}

/* b (family's bytes; mapped: as ::ffff:a.b.c.d) as text at out. */
static void
net_ntop(const uint8_t b[16], int family, bool mapped, char *out,
    size_t cap)
{
	struct in6_addr a6;

	if (mapped) {
		memset(&a6, 0, sizeof(a6));
		a6.s6_addr[10] = a6.s6_addr[11] = 0xff;
		memcpy(&a6.s6_addr[12], b, 4);
		inet_ntop(AF_INET6, &a6, out, (socklen_t)cap);
		return;
	}
	if (inet_ntop(family, b, out, (socklen_t)cap) == NULL) {
		snprintf(out, cap, "?");
	}
}

/* Blanks off both ends of s[0..*n): returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) {
		(*n)--;
	}
	return s;
}

int
conf_net_parse(const char *line, struct conf_net *out, char *err,
    size_t cap)
{
	const char *semi = strchr(line, ';');
	size_t n = semi != NULL ? (size_t)(semi - line) : strlen(line);
	const char *s = trim(line, &n), *dash, *slash;
	char clip[LOG_CLIP_SIZE], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	uint8_t hi[16];
	int fam, fam2;
	bool mapped, mapped2;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (semi != NULL) {
		size_t cn = strlen(semi + 1);
		const char *c = trim(semi + 1, &cn);

		if (cn >= sizeof(out->comment)) {
			return err_fmt(err, cap, -EINVAL,
			    "comment too long (at most %zu bytes)",
			    sizeof(out->comment) - 1);
		}
		/* blanks inside as one space, as the listing writes it */
		for (size_t i = 0, o = 0; i <= cn; i++) {
			char ch = i < cn ? c[i] : '\0';

			if (ch == '\t' || ch == '\r' || ch == '\n') {
				ch = ' ';
			}
			if (ch == ' ' && o > 0 && out->comment[o - 1] == ' ') {
				continue;
			}
			out->comment[o++] = ch;
		}
	}
	if (n > 0 && *s == '!') {
		out->net.exclude = true;
		s++;
		n--;
		s = trim(s, &n);
	}
	log_clip(clip, sizeof(clip), line, strlen(line));
	dash = memchr(s, '-', n);
	slash = memchr(s, '/', n);
	if (dash != NULL && slash != NULL) {
		goto bad;
	}
	if (dash != NULL) {
		/* a-b: both ends included, one family, in order */
		size_t n1 = (size_t)(dash - s), n2 = n - n1 - 1;
		const char *s1 = trim(s, &n1), *s2 = trim(dash + 1, &n2);

		if (net_addr(s1, n1, out->net.lo, &fam, &mapped) < 0 ||
		    net_addr(s2, n2, hi, &fam2, &mapped2) < 0) {
			goto bad;
		}
		if (fam != fam2) {
			return err_fmt(err, cap, -EINVAL,
			    "bad range '%s' (the ends of a range are of one "
			    "family)",
			    clip);
		}
		len = fam == AF_INET ? 4 : 16;
		if (memcmp(out->net.lo, hi, len) > 0) {
			return err_fmt(err, cap, -EINVAL,
			    "bad range '%s' (the first end of a range comes "
			    "first)",
			    clip);
		}
		memcpy(out->net.hi, hi, len);
		out->net.family = (uint8_t)fam;
		net_ntop(out->net.lo, fam, mapped, a, sizeof(a));
		net_ntop(hi, fam, mapped2, b, sizeof(b));
		snprintf(out->text, sizeof(out->text), "%s%s-%s",
		    out->net.exclude ? "!" : "", a, b);
		return 0;
	}
	if (slash != NULL) {
		/* addr/n: n of 0 to 32 (IPv4) or 128 (IPv6), host bits 0 */
		size_t n1 = (size_t)(slash - s), nd = n - n1 - 1;
		unsigned long prefix = 0, max;

		if (net_addr(s, n1, out->net.lo, &fam, &mapped) < 0 ||
		    nd == 0 || nd > 3) {
			goto bad;
		}
		for (size_t i = 0; i < nd; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9') {
				goto bad;
			}
			prefix = prefix * 10 + (unsigned long)(slash[1 + i] - '0');
		}
		max = mapped || fam == AF_INET6 ? 128 : 32;
		if (prefix > max || (mapped && prefix < 96)) {
			return err_fmt(err, cap, -EINVAL,
			    "bad range '%s' (a prefix length of %s)", clip,
			    mapped ? "96 to 128 for a mapped address"
			    : max == 32 ? "0 to 32"
					: "0 to 128");
		}
		{
			unsigned bits = mapped ? (unsigned)prefix - 96
					       : (unsigned)prefix;
			len = fam == AF_INET ? 4 : 16;

			for (size_t i = 0; i < len; i++) {
				unsigned keep = bits >= (i + 1) * 8 ? 8
				    : bits > i * 8 ? bits - (unsigned)i * 8
						   : 0;
				uint8_t mask = (uint8_t)(0xff00u >> keep);

				hi[i] = out->net.lo[i] & mask;
				out->net.hi[i] = (uint8_t)(out->net.lo[i] |
				    (uint8_t)~mask);
			}
			if (memcmp(hi, out->net.lo, len) != 0) {
				net_ntop(hi, fam, mapped, a, sizeof(a));
				return err_fmt(err, cap, -EINVAL,
				    "bad range '%s' (host bits set: the network "
				    "is %s/%lu)",
				    clip, a, prefix);
			}
		}
		out->net.family = (uint8_t)fam;
		net_ntop(out->net.lo, fam, mapped, a, sizeof(a));
		snprintf(out->text, sizeof(out->text), "%s%s/%lu",
		    out->net.exclude ? "!" : "", a, prefix);
		return 0;
	}
	if (net_addr(s, n, out->net.lo, &fam, &mapped) < 0) {
		goto bad;
	}
	memcpy(out->net.hi, out->net.lo, sizeof(out->net.hi));
	out->net.family = (uint8_t)fam;
	net_ntop(out->net.lo, fam, mapped, a, sizeof(a));
	snprintf(out->text, sizeof(out->text), "%s%s",
	    out->net.exclude ? "!" : "", a);
	return 0;
bad:
	return err_fmt(err, cap, -EINVAL,
	    "bad range '%s' (expected an address, a-b or addr/n, each "
	    "with an optional leading !)",
	    clip);
}

int
conf_net_canon(const char *s, char *buf, size_t cap)
{
	struct conf_net e;

	if (conf_net_parse(s, &e, NULL, 0) < 0) {
		return -EINVAL;
	}
	snprintf(buf, cap, "%s", e.text);
	return 0;
}

/* Do a and b hold the same addresses, the same way (in or out)? */
static bool
same(const struct conf_net *a, const struct conf_net *b)
{
	return a->net.family == b->net.family &&
	    a->net.exclude == b->net.exclude &&
	    memcmp(a->net.lo, b->net.lo, sizeof(a->net.lo)) == 0 &&
	    memcmp(a->net.hi, b->net.hi, sizeof(a->net.hi)) == 0;
}

/* The list a command works on, its count and its name. */
static struct conf_net *
list_of(struct conf *c, enum cmd_id id, int **n, const char **what)
{
	switch (id) {
	case CMD_CLIENT_IP_ADD:
	case CMD_CLIENT_IP_REMOVE:
		*n = &c->nclient_ip;
		*what = "client-ip list";
		return c->client_ip;
	case CMD_NATED_ADD:
	case CMD_NATED_REMOVE:
		*n = &c->nnated;
		*what = "nated list";
		return c->nated;
	default:
		*n = &c->nlan;
		*what = "lan";
		return c->lan;
	}
}

int
conf_net_cmd(struct conf *c, const struct cmd_args *a, bool add, char *err,
    size_t cap)
{
	static const char *const defaults[] = { CONF_NATED_DEFAULTS };
	const char *s = cmd_arg_str(a, "range");
	const char *comment = cmd_arg_str(a, "comment");
	char line[CONF_NET_TEXT + CONF_NET_COMMENT + 8];
	const char *what;
	struct conf_net e;
	struct conf_net *set;
	int *n, i, rc;

	if (s == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing address");
	}
	if (comment != NULL && comment[0] != ';') {
		return err_fmt(err, cap, -EINVAL,
		    "a comment after the address starts with ';'");
	}
	if (snprintf(line, sizeof(line), "%s%s", s,
		comment != NULL ? comment : "") >= (int)sizeof(line)) {
		return err_fmt(err, cap, -EINVAL, "line too long");
	}
	if ((rc = conf_net_parse(line, &e, err, cap)) < 0) {
		return rc;
	}
	set = list_of(c, a->cmd->id, &n, &what);
	for (i = 0; i < *n; i++) {
		if (same(&set[i], &e)) {
			break;
		}
	}
	if (add) {
		if (i < *n) {
			return err_fmt(err, cap, -EEXIST,
			    "range %s already in the %s",
			    e.text, what);
		}
		if (*n == CONF_MAX_RANGES) {
			return err_fmt(err, cap, -EBUSY,
			    "too many ranges (at most %d)", CONF_MAX_RANGES);
		}
		set[(*n)++] = e;
		return 0;
	}
	if (i == *n) {
		for (size_t k = 0; set == c->nated &&
		     k < sizeof(defaults) / sizeof(defaults[0]); k++) {
			if (strcmp(defaults[k], e.text) == 0) {
				return err_fmt(err, cap, -ENOENT,
				    "%s is one of the defaults (set "
				    "nated-defaults off, or nated add !%s)",
				    e.text, e.text);
			}
		}
		return err_fmt(err, cap, -ENOENT, "no range %s in the %s",
		    e.text, what);
	}
	memmove(&set[i], &set[i + 1], (size_t)(*n - i - 1) * sizeof(set[0]));
	(*n)--;
	return 0;
}

/* One list's lines as commands: the comment's words after ";", each
 * quoted when it needs it. */
static void
dump(FILE *f, const char *cmd, const struct conf_net *v, int n)
{
	for (int i = 0; i < n; i++) {
		char word[CONF_NET_COMMENT];
		const char *p = v[i].comment;

		fprintf(f, "%s add %s", cmd, v[i].text);
		if (*p != '\0') {
			fputs(" ;", f);
		}
		while (*p != '\0') {
			size_t w = strcspn(p, " ");

			memcpy(word, p, w);
			word[w] = '\0';
			fputc(' ', f);
			lex_word_out(f, word);
			p += w + (p[w] == ' ');
		}
		fputc('\n', f);
	}
}

void
conf_net_dump(const struct conf *c, FILE *f)
{
	dump(f, "lan", c->lan, c->nlan);
	dump(f, "client-ip", c->client_ip, c->nclient_ip);
	dump(f, "nated", c->nated, c->nnated);
}

int
conf_net_check_addr(const char *v, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, v, &a4) == 1) {
		if (a4.s_addr != htonl(INADDR_ANY)) {
			return 0;
		}
	} else if (inet_pton(AF_INET6, v, &a6) == 1) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&a6)) {
			return 0;
		}
	}
	return err_fmt(err, cap, -EINVAL,
	    "bad address '%s' (expected an IPv4 or IPv6 address, or none)",
	    log_clip(clip, sizeof(clip), v, strlen(v)));
}
