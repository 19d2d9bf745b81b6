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
#include "proto/table.h"
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

/* The comment c (after ";") into out[CONF_NET_COMMENT]: trimmed, blanks
 * inside as one space, as the listing writes it.  0 or -EINVAL. */
static int
net_comment(const char *c, char *out, char *err, size_t cap)
{
	size_t cn = strlen(c);

	c = trim(c, &cn);
	if (cn >= CONF_NET_COMMENT) {
		return err_fmt(err, cap, -EINVAL,
		    "comment too long (at most %d bytes)", CONF_NET_COMMENT - 1);
	}
	for (size_t i = 0, o = 0; i <= cn; i++) {
		char ch = i < cn ? c[i] : '\0';

		if (ch == '\t' || ch == '\r' || ch == '\n') {
			ch = ' ';
		}
		if (ch == ' ' && o > 0 && out[o - 1] == ' ') {
			continue;
		}
		out[o++] = ch;
	}
	return 0;
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
	if (semi != NULL &&
	    net_comment(semi + 1, out->comment, err, cap) < 0) {
		return -EINVAL;
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

int
conf_net_parse_range(void *row, const char *v, char *err, size_t cap)
{
	struct conf_net *e = row, line;
	int rc;

	/* the whole line: a comment after ';' comes with it */
	if ((rc = conf_net_parse(v, &line, err, cap)) < 0) {
		return rc;
	}
	e->net = line.net;
	memcpy(e->text, line.text, sizeof(e->text));
	if (line.comment[0] != '\0') {
		memcpy(e->comment, line.comment, sizeof(e->comment));
	}
	return 0;
}

void
conf_net_text_range(const void *row, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", ((const struct conf_net *)row)->text);
}

int
conf_net_parse_comment(void *row, const char *v, char *err, size_t cap)
{
	struct conf_net *e = row;

	if (v[0] != ';') {
		return err_fmt(err, cap, -EINVAL,
		    "a comment after the address starts with ';'");
	}
	return net_comment(v + 1, e->comment, err, cap);
}

/* "; " and the comment's words, each quoted when it needs it, as "lan
 * add" reads them back; "" for none. */
void
conf_net_text_comment(const void *row, char *buf, size_t cap)
{
	const char *p = ((const struct conf_net *)row)->comment;
	FILE *f;

	snprintf(buf, cap, "%s", "");
	if (*p == '\0' || (f = fmemopen(buf, cap, "w")) == NULL) {
		return;
	}
	fputs(";", f);
	while (*p != '\0') {
		char word[CONF_NET_COMMENT];
		size_t w = strcspn(p, " ");

		memcpy(word, p, w);
		word[w] = '\0';
		fputc(' ', f);
		lex_word_out(f, word);
		p += w + (p[w] == ' ');
	}
	fclose(f);
}

void
conf_net_view_comment(const void *row, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", ((const struct conf_net *)row)->comment);
}

/* The table of a command and its list. */
static const struct tbl *
list_of(struct conf *c, enum cmd_id id, struct conf_net **set, int **n)
{
	switch (id) {
	case CMD_CLIENT_IP_ADD:
	case CMD_CLIENT_IP_REMOVE:
		*set = c->client_ip;
		*n = &c->nclient_ip;
		return &tbl_table[TBL_CLIENT_IP];
	case CMD_NATED_ADD:
	case CMD_NATED_REMOVE:
		*set = c->nated;
		*n = &c->nnated;
		return &tbl_table[TBL_NATED];
	default:
		*set = c->lan;
		*n = &c->nlan;
		return &tbl_table[TBL_LAN];
	}
}

int
conf_net_cmd(struct conf *c, const struct cmd_args *a, bool add, char *err,
    size_t cap)
{
	static const char *const defaults[] = { CONF_NATED_DEFAULTS };
	const char *s = cmd_arg_str(a, "range");
	struct conf_net *set;
	int *n, rc;
	const struct tbl *t = list_of(c, a->cmd->id, &set, &n);
	const char *what = set == c->lan ? "lan"
	    : set == c->nated		 ? "nated list"
					 : "client-ip list";
	char text[CONF_NET_TEXT];

	rc = add ? conf_rows_add(t, set, n, CONF_MAX_RANGES, sizeof(*set), a,
		       err, cap)
		 : conf_rows_remove(t, set, n, sizeof(*set), a, err, cap);
	if ((rc != -EEXIST && rc != -ENOENT) || s == NULL ||
	    conf_net_canon(s, text, sizeof(text)) < 0) {
		return rc;
	}
	for (size_t k = 0; rc == -ENOENT && set == c->nated &&
	     k < sizeof(defaults) / sizeof(defaults[0]); k++) {
		if (strcmp(defaults[k], text) == 0) {
			return err_fmt(err, cap, -ENOENT,
			    "%s is one of the defaults (set nated-defaults "
			    "off, or nated add !%s)", text, text);
		}
	}
	/* the lists' own words, which scripts have seen */
	return rc == -EEXIST
	    ? err_fmt(err, cap, rc, "range %s already in the %s", text, what)
	    : err_fmt(err, cap, rc, "no range %s in the %s", text, what);
}

void
conf_net_dump(const struct conf *c, FILE *f)
{
	for (int i = 0; i < c->nlan; i++) {
		conf_row_dump(&tbl_table[TBL_LAN], &c->lan[i], false, f);
	}
	for (int i = 0; i < c->nclient_ip; i++) {
		conf_row_dump(&tbl_table[TBL_CLIENT_IP], &c->client_ip[i],
		    false, f);
	}
	for (int i = 0; i < c->nnated; i++) {
		conf_row_dump(&tbl_table[TBL_NATED], &c->nated[i], false, f);
	}
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
