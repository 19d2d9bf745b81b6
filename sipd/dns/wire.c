/*
 * wire: reads the answers the resolver receives.  c-ares sends and
 * matches the queries; this file walks the answer's sections itself
 * because it needs what c-ares's parsers drop: each record's TTL, the
 * CNAME chain, and the SOA of the authority section that bounds negative
 * caching (RFC 2308 5).  Names are expanded by ares_expand_name(), which
 * guards against compression loops.  Everything here is untrusted input:
 * every length is checked, a malformed record is skipped, and nothing is
 * kept of the buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "sipd/dns/dns_int.h"

/* One record of the answer section before its data is decoded. */
struct raw_rr {
	char *owner;      /* lower case, from ares_expand_name() */
	uint16_t type;
	uint32_t ttl;
	size_t off, len;  /* rdata in the buffer */
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

int
dns_name_norm(char *dst, const char *src, size_t len)
{
	if (len > 0 && src[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len > DNS_NAME_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		dst[i] = (char)tolower((unsigned char)src[i]);
	}
	dst[len] = '\0';
	return 0;
}

/*
 * Expand the name at buf[*off] (which must end before lim) into a new
 * lower-case string without a final dot; advance *off.  NULL when bad.
 */
static char *
name_at(const uint8_t *buf, size_t len, size_t *off, size_t lim)
{
	char *s = NULL;
	long enclen = 0;

	if (*off >= lim || lim > len) {
		return NULL;
	}
	if (ares_expand_name(buf + *off, buf, (int)len, &s, &enclen) !=
	    ARES_SUCCESS) {
		return NULL;
	}
	if (enclen <= 0 || (size_t)enclen > lim - *off ||
	    strlen(s) > DNS_NAME_MAX) {
		ares_free_string(s);
		return NULL;
	}
	*off += (size_t)enclen;
	lower(s);
	/* the root is "" whatever the library's spelling */
	size_t l = strlen(s);
	if (l > 0 && s[l - 1] == '.') {
		s[l - 1] = '\0';
	}
	return s;
}

/* Skip a name (for the question section) without keeping it. */
static int
skip_name(const uint8_t *buf, size_t len, size_t *off)
{
	char *s = name_at(buf, len, off, len);

	if (s == NULL) {
		return -EBADMSG;
	}
	ares_free_string(s);
	return 0;
}

/* A <character-string> of RFC 1035 3.3 at buf[*off], within lim. */
static int
cstring_at(const uint8_t *buf, size_t *off, size_t lim, size_t *soff,
    size_t *slen)
{
	if (*off >= lim) {
		return -EBADMSG;
	}
	size_t l = buf[*off];
	if (l > lim - *off - 1) {
		return -EBADMSG;
	}
	if (memchr(buf + *off + 1, '\0', l) != NULL) {
		return -EBADMSG;
	}
	*soff = *off + 1;
	*slen = l;
	*off += 1 + l;
	return 0;
}

/* Room for the strings of one record in the answer's block. */
struct strbuf {
	char *p;
	size_t used, cap;
};

static const char *
sb_put(struct strbuf *sb, const void *s, size_t len)
{
	if (len + 1 > sb->cap - sb->used) {
		return NULL; /* cannot happen: sized in the first pass */
	}
	char *d = sb->p + sb->used;
	memcpy(d, s, len);
	d[len] = '\0';
	sb->used += len + 1;
	return d;
}

/*
 * Decode r's data into out (strings into sb, or only counted into *need
 * when sb is NULL).  Returns 0, or -EBADMSG for a record to skip.
 */
static int
decode(const uint8_t *buf, size_t len, const struct raw_rr *r,
    struct dns_rr *out, struct strbuf *sb, size_t *need)
{
	size_t off = r->off, lim = r->off + r->len;
	char *name = NULL;
	int rc = -EBADMSG;

	switch (r->type) {
	case DNS_T_A:
		if (r->len != 4) {
			goto fail;
		}
		if (out != NULL) {
			memcpy(&out->u.a, buf + off, 4);
		}
		break;
	case DNS_T_AAAA:
		if (r->len != 16) {
			goto fail;
		}
		if (out != NULL) {
			memcpy(&out->u.aaaa, buf + off, 16);
		}
		break;
	case DNS_T_SRV:
		if (r->len < 7) {
			goto fail;
		}
		off += 6;
		name = name_at(buf, len, &off, lim);
		if (name == NULL) {
			goto fail;
		}
		if (sb == NULL) {
			*need += strlen(name) + 1;
			break;
		}
		out->u.srv.prio = get16(buf + r->off);
		out->u.srv.weight = get16(buf + r->off + 2);
		out->u.srv.port = get16(buf + r->off + 4);
		out->u.srv.target = sb_put(sb, name, strlen(name));
		break;
	case DNS_T_NAPTR: {
		/* RFC 3403 4.1: order, preference, flags, services, regexp,
		 * replacement */
		size_t so[3], sl[3];

		if (r->len < 4) {
			goto fail;
		}
		off += 4;
		for (int i = 0; i < 3; i++) {
			if (cstring_at(buf, &off, lim, &so[i], &sl[i]) < 0) {
				goto fail;
			}
		}
		name = name_at(buf, len, &off, lim);
		if (name == NULL) {
			goto fail;
		}
		if (sb == NULL) {
			*need += sl[0] + sl[1] + sl[2] + 3 + strlen(name) + 1;
			break;
		}
		out->u.naptr.order = get16(buf + r->off);
		out->u.naptr.pref = get16(buf + r->off + 2);
		out->u.naptr.flags = sb_put(sb, buf + so[0], sl[0]);
		out->u.naptr.service = sb_put(sb, buf + so[1], sl[1]);
		out->u.naptr.regexp = sb_put(sb, buf + so[2], sl[2]);
		out->u.naptr.repl = sb_put(sb, name, strlen(name));
		break;
	}
	default:
		goto fail;
	}
	rc = 0;
fail:
	if (name != NULL) {
		ares_free_string(name);
	}
	return rc;
}

/* Read one record header at *off: owner, type, class, TTL, rdata. */
static int
rr_at(const uint8_t *buf, size_t len, size_t *off, struct raw_rr *r,
    bool keep_owner)
{
	char *owner = name_at(buf, len, off, len);

	if (owner == NULL) {
		return -EBADMSG;
	}
	if (len - *off < 10) {
		ares_free_string(owner);
		return -EBADMSG;
	}
	const uint8_t *p = buf + *off;
	r->type = get16(p);
	uint16_t class = get16(p + 2);
	r->ttl = get32(p + 4);
	/* RFC 2181 8: a TTL with the top bit set is zero */
	if (r->ttl > INT32_MAX) {
		r->ttl = 0;
	}
	r->len = get16(p + 8);
	*off += 10;
	if (r->len > len - *off) {
		ares_free_string(owner);
		return -EBADMSG;
	}
	r->off = *off;
	*off += r->len;
	if (class != 1 /* IN */) {
		r->type = 0; /* not ours: ignored by the caller */
	}
	if (keep_owner) {
		r->owner = owner;
	} else {
		ares_free_string(owner);
		r->owner = NULL;
	}
	return 0;
}

int
dns_wire_parse(const uint8_t *buf, size_t len, const char *qname,
    uint16_t qtype, struct dns_answer *a)
{
	struct raw_rr rrs[DNS_MAX_RRS];
	size_t nrr = 0, off = 12;
	char chain[DNS_NAME_MAX + 1];
	int rc = -EBADMSG;

	memset(a, 0, sizeof(*a));
	a->type = qtype;
	a->ttl = UINT32_MAX;
	if (len < 12) {
		return -EBADMSG;
	}
	a->rcode = buf[3] & 0x0f;
	unsigned qd = get16(buf + 4), an = get16(buf + 6),
	    ns = get16(buf + 8);
	if (qd != 1) {
		return -EBADMSG;
	}
	if (skip_name(buf, len, &off) < 0 || len - off < 4) {
		return -EBADMSG;
	}
	off += 4;

	/* the answer section: record headers, owners kept */
	for (unsigned i = 0; i < an; i++) {
		struct raw_rr r;

		if (rr_at(buf, len, &off, &r, true) < 0) {
			break; /* the rest cannot be located */
		}
		if (nrr == DNS_MAX_RRS || (r.type != qtype &&
		    r.type != DNS_T_CNAME)) {
			ares_free_string(r.owner);
			continue;
		}
		rrs[nrr++] = r;
	}
	/* the authority section: the SOA of a negative answer, and of a
	 * truncated answer section whatever remains */
	for (unsigned i = 0; i < ns && off < len; i++) {
		struct raw_rr r;
		size_t p;

		if (rr_at(buf, len, &off, &r, false) < 0) {
			break;
		}
		if (r.type != DNS_T_SOA || a->has_soa) {
			continue;
		}
		/* mname, rname, then serial refresh retry expire minimum */
		p = r.off;
		char *m = name_at(buf, len, &p, r.off + r.len);
		if (m == NULL) {
			continue;
		}
		ares_free_string(m);
		m = name_at(buf, len, &p, r.off + r.len);
		if (m == NULL) {
			continue;
		}
		ares_free_string(m);
		if (r.off + r.len - p < 20) {
			continue;
		}
		uint32_t min = get32(buf + p + 16);
		a->has_soa = true;
		a->neg_ttl = r.ttl < min ? r.ttl : min;
	}

	/* follow the CNAME chain from qname */
	if (strlen(qname) > DNS_NAME_MAX) {
		goto fail;
	}
	strcpy(chain, qname);
	for (unsigned hop = 0; hop < DNS_MAX_CNAMES; hop++) {
		bool moved = false;

		for (size_t i = 0; i < nrr; i++) {
			if (rrs[i].type != DNS_T_CNAME ||
			    strcmp(rrs[i].owner, chain) != 0) {
				continue;
			}
			size_t p = rrs[i].off;
			char *t = name_at(buf, len, &p, rrs[i].off +
			    rrs[i].len);
			if (t == NULL) {
				continue;
			}
			strcpy(chain, t); /* name_at() bounds it */
			ares_free_string(t);
			if (rrs[i].ttl < a->ttl) {
				a->ttl = rrs[i].ttl;
			}
			moved = true;
			break;
		}
		if (!moved) {
			break;
		}
	}

	/* first pass: count the records and their strings */
	size_t n = 0, need = 0;
	for (size_t i = 0; i < nrr; i++) {
		if (rrs[i].type != qtype || strcmp(rrs[i].owner, chain) != 0) {
			continue;
		}
		if (decode(buf, len, &rrs[i], NULL, NULL, &need) < 0) {
			rrs[i].type = 0; /* malformed: skipped */
			continue;
		}
		n++;
	}
	if (n > 0) {
		struct strbuf sb;
		size_t head = n * sizeof(struct dns_rr);

		a->rr = calloc(1, head + need);
		if (a->rr == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		sb.p = (char *)a->rr + head;
		sb.used = 0;
		sb.cap = need;
		for (size_t i = 0; i < nrr && a->n < n; i++) {
			if (rrs[i].type != qtype ||
			    strcmp(rrs[i].owner, chain) != 0) {
				continue;
			}
			if (decode(buf, len, &rrs[i], &a->rr[a->n], &sb,
			    NULL) < 0) {
				continue;
			}
			if (rrs[i].ttl < a->ttl) {
				a->ttl = rrs[i].ttl;
			}
			a->n++;
		}
	}
	if (a->ttl == UINT32_MAX) {
		a->ttl = 0;
	}
	rc = 0;
fail:
	for (size_t i = 0; i < nrr; i++) {
		ares_free_string(rrs[i].owner);
	}
	if (rc < 0) {
		dns_answer_fini(a);
	}
	return rc;
}

void
dns_answer_fini(struct dns_answer *a)
{
	free(a->rr);
	a->rr = NULL;
	a->n = 0;
}
