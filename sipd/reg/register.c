/*
 * register.c: REGISTER processing, RFC 3261 10.3 steps 6 to 8 with the
 * Path extension of RFC 3327 5.3.  Authentication and the AOR (steps 1
 * to 5) are the caller's; this file validates the Contacts, Expires and
 * Path of the request, decides every change against the bindings held,
 * has the store writer commit the changes (writer.c) and only then
 * applies them to the index, and answers.
 *
 * A request is all or nothing (10.3 step 7): every check (syntax, "*"
 * rules, 423, out-of-order CSeq, limits) runs before anything changes,
 * and a store failure leaves both the store and the index as they were.
 * The store is written outside the registrar's lock: other workers look
 * up and register meanwhile, and changes that wait together share one
 * commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/log.h"
#include "sipd/reg/reg_int.h"

/* RFC 3261 10.3 step 7: 423 only for intervals under one hour */
#define REG_423_CEILING 3600

/* What one Contact (or one stale binding) does to the AOR. */
struct op {
	const struct msg_naddr *c; /* NULL: removal of old */
	struct reg_bind *old;      /* the binding it replaces, or NULL */
	struct reg_bind *nb;       /* the new binding, or NULL (removal) */
	uint32_t expires;          /* 0: removal */
	bool skip;                 /* a later equal Contact wins */
};

/* The outcome before the response is built. */
struct verdict {
	int status;
	const char *reason;
	const char *extra_name; /* one extra header, or NULL */
	char extra[32];
};

static void
refuse(struct verdict *v, int status, const char *reason)
{
	v->status = status;
	v->reason = reason;
}

/* RFC 3261 20.37: is "path" among the Supported option tags? */
static bool
supports_path(struct msg *req)
{
	struct span tags[32];
	int n = msg_hdr_values(req, HDR_SUPPORTED, tags, 32);

	for (int i = 0; i < n && i < 32; i++) {
		if (sv_caseeq_str(msg_sv(req, tags[i]), "path")) {
			return true;
		}
	}
	return false;
}

/*
 * The Path list as one text: the header lines' values joined by ", "
 * (RFC 3327 5.3: stored with the binding, used as a Route set).  Returns
 * the length (0 when absent) or -ENOSPC over REG_PATH_MAX.
 */
static int
path_text(struct msg *req, char *out)
{
	size_t n = 0;

	for (int i = msg_hdr_first(req, HDR_PATH); i >= 0;
	     i = msg_hdr_next(req, i)) {
		struct sv v = msg_sv(req, msg_hdr_at(req, i)->value);
		if (n + v.len + 2 > REG_PATH_MAX) {
			return -ENOSPC;
		}
		if (n > 0) {
			memcpy(out + n, ", ", 2);
			n += 2;
		}
		memcpy(out + n, v.p, v.len);
		n += v.len;
	}
	out[n] = '\0';
	return (int)n;
}

/* A contact for a log line: clipped, escaped (STYLE.md, Logging). */
static const char *
clip(const char *s, char *buf)
{
	return log_clip(buf, LOG_CLIP_SIZE, s, strlen(s));
}

static struct sv
naddr_uri(struct msg *req, const struct msg_naddr *c)
{
	return msg_sv(req, c->uri_s);
}

static bool
same_uri(struct msg *req, const struct msg_naddr *c, const char *contact)
{
	struct sv u = naddr_uri(req, c);

	return reg_contact_equal(u.p, u.len, contact, strlen(contact));
}

/* Is callid the Call-ID b was registered with? */
static bool
same_callid(const struct reg_bind *b, struct sv callid)
{
	const char *c = reg_bind_callid(b);

	return strlen(c) == callid.len && memcmp(c, callid.p, callid.len) == 0;
}

/* Two decimal digits of v (0 to 99) at p. */
static char *
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* The decimal digits of v at p; returns the end. */
static char *
put_ull(char *p, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0) {
		*p++ = tmp[--n];
	}
	return p;
}

/*
 * RFC 3261 20.17 / RFC 1123 date, in the C locale whatever the process's:
 * "Sun, 06 Dec 2026 22:28:00 GMT", 29 bytes and a NUL (cap at least 30;
 * "" for a year outside 0 to 9999), put together by hand: snprintf cost
 * as much as the rest of the 200, and gmtime_r() as much as the line.
 * The calendar date of a day count is H. Hinnant's civil_from_days().
 */
void
reg_http_date(time_t now, char *out, size_t cap)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t t = (int64_t)now, z, era, y;
	int64_t sec = t % 86400;
	unsigned doe, yoe, doy, mp, d, m;

	if (sec < 0) {
		sec += 86400;
	}
	z = (t - sec) / 86400; /* days since 1970-01-01, a Thursday */
	/* the proleptic Gregorian calendar in eras of 400 years from
	 * 0000-03-01 */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = (int64_t)yoe + era * 400 + (m <= 2);
	if (cap < 30 || y < 0 || y > 9999) {
		if (cap > 0) {
			out[0] = '\0';
		}
		return;
	}
	memcpy(out, days[(unsigned)(((z - 719468) % 7 + 11) % 7)], 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, (int)d);
	out[7] = ' ';
	memcpy(out + 8, months[m - 1], 3);
	out[11] = ' ';
	put2(out + 12, (int)(y / 100));
	put2(out + 14, (int)(y % 100));
	out[16] = ' ';
	put2(out + 17, (int)(sec / 3600));
	out[19] = ':';
	put2(out + 20, (int)(sec / 60 % 60));
	out[22] = ':';
	put2(out + 23, (int)(sec % 60));
	memcpy(out + 25, " GMT", 5);
}

/* Room for a response's first lines: within what malloc() serves from
 * its per-thread cache (about 1 KiB); a request with longer ones gets
 * what they need (head_new()), and lines added grow it (answer_add()) */
#define REG_HEAD_ROOM 1000

/* Room in a's buffer for need bytes: 0, or -ENOMEM. */
static int
answer_room(struct reg_answer *a, size_t need)
{
	size_t cap;
	char *p;

	if (need <= a->cap) {
		return 0;
	}
	cap = need + REG_HEAD_ROOM / 2;
	p = realloc(a->p, cap);
	if (p == NULL) {
		return -ENOMEM;
	}
	a->p = p;
	a->cap = cap;
	return 0;
}

/*
 * Add the line "name: value" to a's bytes (msg_response_add_lines()),
 * growing them as needed.  Returns 0, -ENOMEM or -EINVAL.
 */
static int
answer_add(struct reg_answer *a, const char *name, struct sv value)
{
	/* unfolding only shortens a value */
	size_t need = a->len + strlen(name) + 4 + value.len;
	int n;

	if (answer_room(a, need) < 0) {
		return -ENOMEM;
	}
	n = msg_response_add_lines(a->p, a->len, a->cap,
	    &(const struct msg_line){ name, value }, 1);
	if (n < 0) {
		return n == -ENOSPC ? -ENOMEM : n;
	}
	a->len = (size_t)n;
	return 0;
}

/*
 * Add lines sipd wrote itself, "name: value\r\n" each and known to hold
 * nothing a value may not (the Date, "Supported: path"), before the empty
 * line that ends a's bytes, growing them as needed.  Returns 0 or
 * -ENOMEM.
 */
static int
answer_own(struct reg_answer *a, const char *lines, size_t n)
{
	size_t need = a->len + n;

	if (a->len < 4 || memcmp(a->p + a->len - 4, "\r\n\r\n", 4) != 0) {
		return -ENOMEM;
	}
	if (answer_room(a, need) < 0) {
		return -ENOMEM;
	}
	memcpy(a->p + a->len - 2, lines, n);
	memcpy(a->p + a->len - 2 + n, "\r\n", 2);
	a->len = need;
	return 0;
}

/* The Contact line of a binding: "<contact>;expires=N[;q=Q]". */
static int
contact_line(struct reg_answer *resp, const char *contact, time_t expires,
    uint16_t qv, time_t now)
{
	char buf[REG_CONTACT_MAX + 64], q[6];
	size_t clen = strlen(contact);
	char *p = buf;

	/* without printf */
	if (clen > REG_CONTACT_MAX) {
		return -ENOSPC;
	}
	*p++ = '<';
	memcpy(p, contact, clen);
	p += clen;
	memcpy(p, ">;expires=", 10);
	p += 10;
	p = put_ull(p, expires > now ? (unsigned long long)(expires - now) : 0);
	if (qv != REG_DEFAULT_Q) {
		size_t ql;

		reg_qvalue(qv, q);
		ql = strlen(q);
		memcpy(p, ";q=", 3);
		memcpy(p + 3, q, ql);
		p += 3 + ql;
	}
	if (answer_add(resp, "Contact",
		(struct sv){ buf, (size_t)(p - buf) }) < 0) {
		return -ENOMEM;
	}
	return 0;
}

/* RFC 3261 10.3 step 8: the 200 lists every current binding. */
static int
add_bindings(struct reg_answer *resp, const struct reg_snap *s, time_t now)
{
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		const struct reg_binding *b = &s->b[i];
		int rc = contact_line(resp, b->contact, b->expires, b->q, now);

		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* What bind_line() is given: the 200 begun, and the time. */
struct bind_lines {
	struct reg_answer *resp;
	time_t now;
};

/* A binding's Contact line, from the index under the lock (no copy). */
static int
bind_line(void *arg, const struct reg_bind *b)
{
	struct bind_lines *bl = arg;

	return contact_line(bl->resp, reg_bind_contact(b), b->expires, b->q,
	    bl->now);
}

/*
 * What a 200 adds to the lines msg_response_write() wrote (RFC 3261 10.3
 * step 8): the bindings, Date, Supported: path and the request's Path.
 * Returns 0 or -ENOMEM.
 */
static int
finish_200(struct reg_answer *resp, const struct reg_snap *s,
    const char *path, time_t now)
{
	static const char sup[] = "\r\nSupported: path\r\n";
	char lines[128];
	size_t n;

	/* "Date: ...", then (RFC 3327 5.3) the registrar supports Path ... */
	memcpy(lines, "Date: ", 6);
	reg_http_date(now, lines + 6, sizeof(lines) - 6 - sizeof(sup));
	n = 6 + strlen(lines + 6);
	memcpy(lines + n, sup, sizeof(sup) - 1);
	n += sizeof(sup) - 1;
	if (add_bindings(resp, s, now) < 0 || answer_own(resp, lines, n) < 0) {
		return -ENOMEM;
	}
	/* ... and copies the request's Path into its 200 */
	if (path != NULL && path[0] != '\0' &&
	    answer_add(resp, "Path", (struct sv){ path, strlen(path) }) < 0) {
		return -ENOMEM;
	}
	return 0;
}

/*
 * The response's first lines for status (msg_response_write(): the
 * request's Via, From, To with to_tag, Call-ID, CSeq, Content-Length),
 * with the line "xname: xvalue" when xname is not NULL, as new bytes in
 * *out.  Returns 0, -ENOMEM, or -EINVAL (no response possible).
 */
static int
head_new(struct msg *req, int status, const char *reason, struct sv to_tag,
    const char *xname, struct sv xvalue, struct reg_answer *out)
{
	size_t cap = REG_HEAD_ROOM;
	char *p = malloc(cap);
	int n;

	memset(out, 0, sizeof(*out));
	if (p == NULL) {
		return -ENOMEM;
	}
	n = msg_response_write(req, status, reason, to_tag, xname, xvalue, p,
	    cap);
	if (n == -ENOSPC) {
		/* every line it copies is the request's, To twice at most */
		char *q;

		cap = 2 * msg_size(req) + to_tag.len + REG_HEAD_ROOM;
		if ((q = realloc(p, cap)) == NULL) {
			free(p);
			return -ENOMEM;
		}
		p = q;
		n = msg_response_write(req, status, reason, to_tag, xname,
		    xvalue, p, cap);
	}
	if (n < 0) {
		free(p);
		return n == -ENOSPC ? -ENOMEM : n;
	}
	*out = (struct reg_answer){ status, p, (size_t)n, cap };
	return 0;
}

static int
build_response(struct msg *req, const struct verdict *v,
    const struct reg_snap *s, const char *path, time_t now, struct sv to_tag,
    struct reg_answer *out)
{
	int rc = head_new(req, v->status, v->reason, to_tag, v->extra_name,
	    (struct sv){ v->extra, v->extra_name != NULL ? strlen(v->extra)
							 : 0 },
	    out);

	if (rc != 0) {
		/* no response possible (msg_response_write()), or no
		 * memory: the caller answers 500 itself */
		return -ENOMEM;
	}
	if (v->status == 200 && finish_200(out, s, path, now) < 0) {
		free(out->p);
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	return 0;
}

/*
 * The request's own checks, made before the lock is taken: Contact and
 * Expires syntax, the "*" rules, Path and Supported.  Returns false with v
 * filled when the request is refused.
 */
static bool
check_request(struct msg *req, const struct msg_naddr *cs, int nc,
    bool has_hexp, uint32_t hexp, char *path, bool *use_path,
    bool *path_unsupported, struct verdict *v)
{
	*use_path = false;
	*path_unsupported = false;
	for (int i = 0; i < nc; i++) {
		if (cs[i].star) {
			/* RFC 3261 10.3 step 6: "*" alone, with Expires: 0 */
			if (nc != 1 || !has_hexp || hexp != 0) {
				refuse(v, 400, "Invalid Contact *");
				return false;
			}
			continue;
		}
		if (cs[i].uri_s.len == 0 ||
		    cs[i].uri_s.len > REG_CONTACT_MAX) {
			refuse(v, 400, "Bad Contact");
			return false;
		}
	}
	if (msg_hdr_count(req, HDR_PATH) > 0) {
		const struct msg_naddr *ps;
		if (msg_naddrs(req, HDR_PATH, &ps) <= 0 ||
		    path_text(req, path) <= 0) {
			refuse(v, 400, "Bad Path");
			return false;
		}
		if (supports_path(req)) {
			*use_path = true;
		} else {
			*path_unsupported = true;
		}
	}
	return true;
}

/*
 * Decide the operations of a normal (not "*") REGISTER against a's
 * bindings.  Returns the number of ops, or 0 with v filled on refusal.
 */
static size_t
plan(struct reg *r, struct msg *req, struct reg_aor *a,
    const struct msg_naddr *cs, int nc, bool has_hexp, uint32_t hexp,
    struct sv callid, uint32_t cseq, time_t now, struct op *ops,
    struct verdict *v)
{
	const struct reg_settings *set = &r->set;
	size_t n = 0, live = 0, before, total;
	long adds = 0, dels = 0;

	for (int i = 0; i < nc; i++) {
		struct op *o = &ops[n++];
		uint64_t e;

		memset(o, 0, sizeof(*o));
		o->c = &cs[i];
		/* RFC 3261 10.3 step 7: parameter, else header, else default */
		if (cs[i].expires >= 0) {
			e = (uint64_t)cs[i].expires;
		} else if (has_hexp) {
			e = hexp;
		} else {
			e = set->default_expires;
		}
		if (e > 0 && e < set->min_expires && e < REG_423_CEILING) {
			refuse(v, 423, NULL);
			v->extra_name = "Min-Expires";
			snprintf(v->extra, sizeof(v->extra), "%u",
			    set->min_expires);
			return 0;
		}
		if (set->max_expires > 0 && e > set->max_expires) {
			e = set->max_expires; /* the registrar MAY shorten */
		}
		o->expires = (uint32_t)e;
		/* the same contact twice: the later one counts */
		for (size_t j = 0; j + 1 < n; j++) {
			struct sv u = naddr_uri(req, &cs[i]);
			struct sv w = naddr_uri(req, ops[j].c);
			if (!ops[j].skip &&
			    reg_contact_equal(u.p, u.len, w.p, w.len)) {
				ops[j].skip = true;
			}
		}
	}
	for (struct reg_bind *b = a != NULL ? a->binds : NULL; b != NULL;
	     b = b->next) {
		bool matched = false;
		if (b->expires > now) {
			live++;
		}
		for (size_t i = 0; i < n; i++) {
			if (ops[i].skip || ops[i].old != NULL ||
			    !same_uri(req, ops[i].c, reg_bind_contact(b))) {
				continue;
			}
			matched = true;
			ops[i].old = b;
			if (b->expires <= now) {
				break; /* stale: replaced as if new */
			}
			/*
			 * RFC 3261 10.3 step 7: same Call-ID and a CSeq not
			 * higher: out of order, the request fails
			 */
			if (same_callid(b, callid) && cseq <= b->cseq) {
				refuse(v, 500, "Out Of Order CSeq");
				return 0;
			}
			break;
		}
		if (!matched && b->expires <= now) {
			/* a stale binding goes with this transaction */
			struct op *o = &ops[n++];
			memset(o, 0, sizeof(*o));
			o->old = b;
		}
	}
	before = live;
	for (size_t i = 0; i < n; i++) {
		bool old_live = ops[i].old != NULL && ops[i].old->expires > now;
		if (ops[i].skip) {
			continue;
		}
		if (ops[i].old != NULL) {
			dels++;
		}
		if (ops[i].c != NULL && ops[i].expires > 0) {
			adds++;
			if (!old_live) {
				live++;
			}
		} else if (old_live) {
			live--;
		}
	}
	/* a limit refuses growth only: refreshes pass if it was lowered */
	if (set->max_per_aor > 0 && live > set->max_per_aor && live > before) {
		refuse(v, 403, "Too Many Contacts");
		return 0;
	}
	total = r->nbinds + (size_t)adds - (size_t)dels;
	if (set->max_total > 0 && total > set->max_total &&
	    total > r->nbinds) {
		refuse(v, 503, "Registrar Full");
		v->extra_name = "Retry-After";
		snprintf(v->extra, sizeof(v->extra), "%u", set->retry_after);
		return 0;
	}
	return n;
}

/* The "*" REGISTER: every binding goes, unless one is out of order. */
static size_t
plan_star(struct reg_aor *a, struct sv callid, uint32_t cseq, time_t now,
    struct op *ops, struct verdict *v)
{
	size_t n = 0;

	for (struct reg_bind *b = a != NULL ? a->binds : NULL; b != NULL;
	     b = b->next) {
		/* RFC 3261 10.3 step 6: remove only if the CSeq is higher */
		if (b->expires > now && same_callid(b, callid) &&
		    cseq <= b->cseq) {
			refuse(v, 500, "Out Of Order CSeq");
			return 0;
		}
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n++].old = b;
	}
	return n;
}

/*
 * Whether nb differs from old only in what a refresh changes (expiry,
 * registration time, CSeq) among what the store keeps: then the store
 * updates those columns instead of writing the binding anew.
 */
static bool
refresh_only(const struct reg_bind *old, const struct reg_bind *nb)
{
	const char *op = old->path_off ? old->data + old->path_off : "";
	const char *np = nb->path_off ? nb->data + nb->path_off : "";
	const char *ou = old->ua_off ? old->data + old->ua_off : "";
	const char *nu = nb->ua_off ? nb->data + nb->ua_off : "";

	return old->q == nb->q && old->proto == nb->proto &&
	    old->conn_id == nb->conn_id && old->nat == nb->nat &&
	    old->addrlen == nb->addrlen &&
	    (old->path_off != 0) == (nb->path_off != 0) &&
	    (old->ua_off != 0) == (nb->ua_off != 0) &&
	    memcmp(&old->addr, &nb->addr, old->addrlen) == 0 &&
	    strcmp(reg_bind_contact(old), reg_bind_contact(nb)) == 0 &&
	    strcmp(reg_bind_callid(old), reg_bind_callid(nb)) == 0 &&
	    strcmp(op, np) == 0 && strcmp(ou, nu) == 0;
}

/*
 * The ops as records for the store writer, in order, into *out (NULL
 * without a store or without a change).  Returns 0 or -ENOMEM.
 */
static int
store_recs(struct reg *r, const char *name, struct op *ops, size_t n,
    struct reg_rec **out)
{
	struct reg_rec *head = NULL, *tail = NULL, *rec;

	*out = NULL;
	if (r->wq == NULL) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct op *o = &ops[i];
		if (o->skip) {
			continue;
		}
		if (o->old != NULL && (o->nb == NULL ||
		    strcmp(reg_bind_contact(o->old),
			reg_bind_contact(o->nb)) != 0)) {
			rec = reg_rec_new(REG_REC_DEL, NULL, name,
			    reg_bind_contact(o->old), 0);
			if (rec == NULL) {
				goto fail;
			}
			reg_rec_append(&head, &tail, rec);
		}
		if (o->nb != NULL) {
			struct reg_binding nb;

			reg_bind_get(o->nb, &nb);
			rec = reg_rec_new(o->old != NULL &&
				refresh_only(o->old, o->nb) ? REG_REC_REFRESH :
				REG_REC_PUT, &nb, NULL, NULL, 0);
			if (rec == NULL) {
				goto fail;
			}
			reg_rec_append(&head, &tail, rec);
		}
	}
	*out = head;
	return 0;
fail:
	reg_rec_free_list(head);
	return -ENOMEM;
}

/*
 * A REGISTER's change waiting for the store (only with a store): the ops
 * decided, applied to the index by change_settle() on the writer thread
 * once the store has them, so that the index shows a change if and only
 * if it was committed (RFC 3261 10.3 step 7).  While it waits, its AOR is
 * in flight: no other change to that AOR is decided (it would be decided
 * against bindings about to change) and the purge passes it by.
 */
struct change {
	struct reg_wait w; /* first: the writer knows only this */
	struct reg_aor *a;
	char name[REG_AOR_MAX + 1];
	struct op *ops;
	size_t n;
	bool star;
	time_t now;
	int err;                 /* the store's answer */
	struct reg_snap *snap;   /* the AOR's bindings once applied */
	/*
	 * asynchronous: the 200 begun on the worker from the parsed
	 * request (head_new()), finished once the change is applied
	 * (finish_200()), and the Path it copies; owned
	 */
	reg_done_fn *done;
	void *arg;
	struct reg_answer resp;
	char *path;
};

/* The committed ops into the index, where nothing can fail. */
static void
apply_ops(struct reg *r, struct reg_aor *a, const char *name, struct op *ops,
    size_t n, bool star)
{
	char cbuf[LOG_CLIP_SIZE];

	for (size_t i = 0; i < n; i++) {
		struct op *o = &ops[i];
		if (o->skip) {
			continue;
		}
		if (o->old != NULL) {
			if (o->nb == NULL && o->c != NULL) {
				log_info(LOG_SERVER, "registrar, removed %s -> "
				    "%s", name,
				    clip(reg_bind_contact(o->old), cbuf));
			}
			reg_bind_unlink(r, a, o->old);
		}
		if (o->nb != NULL) {
			log_info(LOG_SERVER, "registrar, bound %s -> %s for "
			    "%us", name,
			    clip(reg_bind_contact(o->nb), cbuf),
			    o->expires);
			reg_bind_link(r, a, o->nb);
			o->nb = NULL;
		}
	}
	if (star) {
		log_info(LOG_SERVER, "registrar, removed every binding of %s",
		    name);
	}
}

/*
 * Steps 6 and 7 under the lock: plan, make the new bindings, then either
 * apply them (no store) or queue them for the store in *recs and leave
 * them to ch.  Fills v; on 200 applied, the AOR's bindings are the
 * Contact lines of the 200 begun in pre when there is one (pre->p not
 * NULL; *listed set), else listed in *snap.
 */
static void
update(struct reg *r, struct msg *req, const char *name,
    const struct reg_src *src, time_t now, const struct msg_naddr *cs,
    int nc, bool star, bool has_hexp, uint32_t hexp, const char *path,
    struct reg_snap **snap, struct reg_answer *pre, bool *listed,
    struct reg_rec **recs, struct change *ch, struct verdict *v)
{
	const struct msg_cseq *cseq = msg_cseq(req);
	struct sv callid = msg_callid(req);
	struct sv ua = msg_hdr_value(req, HDR_USER_AGENT);
	uint32_t hash;
	struct reg_aor *a = reg_aor_lookup(r, name, &hash);
	struct op *ops = NULL;
	size_t n = 0, cap = (size_t)nc + (a != NULL ? a->n : 0);

	if (ua.len > REG_UA_MAX) {
		ua.len = REG_UA_MAX;
	}
	if (nc > 0 && reg_wq_full(r)) {
		/* the store is that far behind: no more changes for now */
		refuse(v, 503, "Store Busy");
		v->extra_name = "Retry-After";
		snprintf(v->extra, sizeof(v->extra), "%u", r->set.retry_after);
		goto out;
	}
	if (!star && r->set.max_per_aor > 0 &&
	    (size_t)nc > r->set.max_per_aor + (a != NULL ? a->n : 0)) {
		/*
		 * more Contacts than could be added or replaced: refused
		 * before the quadratic planning
		 */
		refuse(v, 403, "Too Many Contacts");
		goto out;
	}
	if (cap > 0 && (ops = calloc(cap, sizeof(*ops))) == NULL) {
		refuse(v, 500, NULL);
		return;
	}
	if (nc == 0) {
		n = 0; /* a query: 10.3 step 8 only */
	} else if (star) {
		n = plan_star(a, callid, cseq->num, now, ops, v);
	} else {
		n = plan(r, req, a, cs, nc, has_hexp, hexp, callid, cseq->num,
		    now, ops, v);
	}
	if (v->status != 0) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct op *o = &ops[i];
		struct reg_binding vals;
		struct sv contact;

		if (o->skip || o->c == NULL || o->expires == 0) {
			continue;
		}
		if (a == NULL && (a = reg_aor_insert(r, name, hash)) == NULL) {
			refuse(v, 500, NULL);
			goto undo;
		}
		memset(&vals, 0, sizeof(vals));
		vals.expires = now + (time_t)o->expires;
		vals.registered = o->old != NULL && o->old->expires > now ?
		    o->old->registered : now;
		vals.cseq = cseq->num;
		vals.q = o->c->q >= 0 ? (uint16_t)o->c->q : REG_DEFAULT_Q;
		if (src != NULL) {
			vals.proto = src->proto;
			vals.conn_id = src->conn_id;
			vals.addrlen = src->addrlen;
			vals.addr = src->addr;
			vals.nat = src->nat;
			vals.local = src->local;
		}
		contact = naddr_uri(req, o->c);
		o->nb = reg_bind_new(r, a, &vals, contact, callid,
		    (struct sv){ path, path != NULL ? strlen(path) : 0 }, ua);
		if (o->nb == NULL) {
			refuse(v, 500, NULL);
			goto undo;
		}
		if (o->old != NULL && o->old->expires > now) {
			o->nb->seq = o->old->seq; /* a refresh keeps its place */
		}
	}
	if (store_recs(r, name, ops, n, recs) < 0) {
		refuse(v, 500, NULL);
		goto undo;
	}
	v->status = 200;
	v->reason = NULL;
	if (*recs != NULL) {
		/* the AOR stays (in flight) until change_settle() */
		a->inflight++;
		ch->a = a;
		ch->ops = ops;
		ch->n = n;
		ch->star = star;
		ch->now = now;
		snprintf(ch->name, sizeof(ch->name), "%s", name);
		return;
	}
	apply_ops(r, a, name, ops, n, star);
	if (pre->p != NULL) {
		/* the lines from the index itself: no snapshot to copy */
		struct bind_lines bl = { pre, now };

		if (reg_aor_walk(a, now, bind_line, &bl) < 0) {
			refuse(v, 500, NULL);
		}
		*listed = true;
	} else if (reg_snap_aor(a, now, snap) < 0) {
		refuse(v, 500, NULL);
	}
	if (a != NULL) {
		reg_aor_drop(r, a);
	}
	goto out;
undo:
	for (size_t i = 0; i < n; i++) {
		free(ops[i].nb);
	}
	if (a != NULL) {
		reg_aor_drop(r, a);
	}
out:
	free(ops);
}

static void
change_free(struct change *ch)
{
	if (ch == NULL) {
		return;
	}
	reg_snap_free(ch->snap);
	free(ch->resp.p);
	free(ch->path);
	free(ch);
}

/*
 * The writer's word on ch (err 0: committed), on the writer thread:
 * apply or drop the change, release the AOR, and for an asynchronous
 * REGISTER build the answer and hand it on.
 */
static void
change_settle(struct reg *r, struct reg_wait *w, int err)
{
	struct change *ch = (struct change *)w;
	struct reg_aor *a = ch->a;
	struct reg_answer resp = { 0 };

	pthread_mutex_lock(&r->lock);
	ch->err = err;
	if (err == 0) {
		apply_ops(r, a, ch->name, ch->ops, ch->n, ch->star);
		if (reg_snap_aor(a, ch->now, &ch->snap) < 0) {
			ch->err = -ENOMEM;
		}
	} else {
		for (size_t i = 0; i < ch->n; i++) {
			free(ch->ops[i].nb);
			ch->ops[i].nb = NULL;
		}
		r->stats.refused++;
	}
	a->inflight--;
	reg_aor_drop(r, a);
	pthread_cond_broadcast(&r->settled);
	pthread_mutex_unlock(&r->lock);
	free(ch->ops);
	ch->ops = NULL;
	if (ch->done == NULL) {
		return; /* the caller blocked in reg_wq_wait() builds it */
	}
	/* NULL: the worker answers 500 (Store Failure), as reg.h says */
	if (ch->err != 0) {
		log_notice(LOG_SERVER, "registrar, refused register for %s "
		    "with 500 (Store Failure)", ch->name);
	} else if (finish_200(&ch->resp, ch->snap, ch->path, ch->now) == 0) {
		resp = ch->resp;
		ch->resp.p = NULL;
	}
	ch->done(ch->arg, resp);
	change_free(ch);
}

int
reg_register(struct reg *r, struct msg *req, const char *aor,
    const struct reg_src *src, time_t now, struct sv to_tag,
    struct msg **resp_out)
{
	struct reg_answer ans;
	struct msg_limits lim;
	int rc;

	*resp_out = NULL;
	rc = reg_register_async(r, req, aor, src, now, to_tag, NULL, NULL,
	    &ans);
	if (rc != 0) {
		return rc;
	}
	/* the bytes as a message, whatever their size */
	msg_limits_init(&lim);
	if (lim.max_size < ans.len) {
		lim.max_size = (uint32_t)ans.len;
	}
	lim.max_headers = (uint32_t)ans.len / 2;
	lim.max_line = (uint32_t)ans.len;
	*resp_out = msg_parse(ans.p, ans.len, &lim, NULL);
	free(ans.p);
	return *resp_out != NULL ? 0 : -ENOMEM;
}

/*
 * Does an earlier change to AOR name still wait for the store?  Never
 * without one: nothing waits.
 */
static bool
in_flight(struct reg *r, const char *name)
{
	struct reg_aor *a;

	if (r->wq == NULL) {
		return false;
	}
	a = reg_aor_find(r, name);
	return a != NULL && a->inflight > 0;
}

int
reg_register_async(struct reg *r, struct msg *req, const char *aor,
    const struct reg_src *src, time_t now, struct sv to_tag,
    reg_done_fn *done, void *arg, struct reg_answer *resp_out)
{
	char name[REG_AOR_MAX + 1], pathbuf[REG_PATH_MAX + 1];
	char *path = pathbuf;
	const struct msg_naddr *cs = NULL;
	struct reg_snap *snap = NULL;
	struct reg_rec *recs = NULL;
	struct change *ch = NULL;
	struct reg_answer pre = { 0 };
	struct verdict v = { 0 };
	bool has_hexp, star = false, use_path = false, no_path = false;
	bool detached, listed = false;
	uint32_t hexp = 0;
	int nc, rc;

	memset(resp_out, 0, sizeof(*resp_out));
	if (!msg_is_request(req) || msg_method(req) != MSG_REGISTER ||
	    reg_aor_norm(aor, name) < 0 || msg_callid(req).len == 0) {
		return -EINVAL;
	}
	/* only a change that waits for the store needs ch (with a store,
	 * r->wq is set once and for all by reg_new()) */
	if (r->wq != NULL && (ch = calloc(1, sizeof(*ch))) == NULL) {
		return -ENOMEM;
	}
	path[0] = '\0';
	if (ch != NULL) {
		ch->w.settle = change_settle;
	}
	nc = msg_naddrs(req, HDR_CONTACT, &cs);
	rc = msg_expires(req, &hexp);
	has_hexp = rc == 0;
	if (msg_cseq(req) == NULL) {
		refuse(&v, 400, "Bad CSeq");
	} else if (nc < 0) {
		refuse(&v, 400, "Bad Contact");
	} else if (rc == -EINVAL) {
		refuse(&v, 400, "Bad Expires");
	} else if (check_request(req, cs, nc, has_hexp, hexp, path,
		       &use_path, &no_path, &v)) {
		star = nc == 1 && cs[0].star;
	}
	if (ch != NULL && done != NULL && v.status == 0 && nc > 0) {
		/*
		 * A change goes to the store, most likely: its 200 is begun
		 * here, outside the lock and where the request is parsed
		 * already (a copy for the writer would be parsed again), and
		 * finished by change_settle(); dropped if unused
		 */
		(void)head_new(req, 200, NULL, to_tag, NULL, (struct sv){ 0 },
		    &pre);
	} else if (r->wq == NULL && v.status == 0 && nc > 0) {
		/*
		 * No store: the answer is known under the lock, where its
		 * Contact lines are written from the index (update()); its
		 * head is begun here, outside the lock
		 */
		(void)head_new(req, 200, NULL, to_tag, NULL, (struct sv){ 0 },
		    &pre);
	}
	pthread_mutex_lock(&r->lock);
	r->stats.registers++;
	if (v.status == 0 && no_path && r->set.path_strict) {
		/*
		 * RFC 3327 5.3: Path from a UA that did not say it supports
		 * it; when not strict, that Path is ignored
		 */
		refuse(&v, 420, NULL);
		v.extra_name = "Unsupported";
		snprintf(v.extra, sizeof(v.extra), "path");
	}
	if (v.status == 0 && use_path && !src->path_trusted) {
		/*
		 * RFC 3327 5.3: the registrar stores a Path only from a
		 * proxy it trusts; from anyone else a Path would send every
		 * call for the AOR where the registering party chose
		 */
		refuse(&v, 403, "Path Not Trusted");
		use_path = false;
	}
	/* the change of another request to this AOR is not in the index
	 * yet: decide after it (rare: one worker waits for one commit) */
	while (v.status == 0 && nc > 0 && in_flight(r, name)) {
		pthread_cond_wait(&r->settled, &r->lock);
	}
	if (v.status == 0) {
		update(r, req, name, src, now, cs, nc, star, has_hexp, hexp,
		    use_path ? path : NULL, &snap, &pre, &listed, &recs, ch,
		    &v);
	}
	if (v.status != 200) {
		r->stats.refused++;
	}
	/* else answered here, after waiting */
	if (recs != NULL && pre.p != NULL &&
	    (!use_path || (ch->path = strdup(path)) != NULL)) {
		ch->resp = pre;
		pre.p = NULL;
		ch->done = done;
		ch->arg = arg;
		ch->w.detached = true;
	}
	/* read before the lock goes: a detached ch may be settled and freed
	 * by the writer from then on (at once when the write fails) */
	detached = recs != NULL && ch->w.detached;
	if (recs != NULL) {
		/* queued under the lock: the store sees the index's order */
		reg_wq_push(r, recs, &ch->w);
	}
	pthread_mutex_unlock(&r->lock);

	if (listed && v.status == 200) {
		/* the 200 begun, its bindings listed: the rest of it */
		reg_snap_free(snap);
		change_free(ch);
		if (finish_200(&pre, NULL, use_path ? path : NULL, now) < 0) {
			free(pre.p);
			return -ENOMEM;
		}
		*resp_out = pre;
		return 0;
	}
	free(pre.p);
	if (detached) {
		return REG_PENDING; /* ch belongs to change_settle() */
	}
	if (recs != NULL) {
		(void)reg_wq_wait(r, &ch->w);
		if (ch->err != 0) {
			refuse(&v, 500, "Store Failure");
		}
		snap = ch->snap;
		ch->snap = NULL;
	}
	if (v.status != 200) {
		log_notice(LOG_SERVER, "registrar, refused register for %s "
		    "with %d (%s)", name, v.status,
		    v.reason != NULL ? v.reason : msg_reason_phrase(v.status));
	}
	rc = build_response(req, &v, v.status == 200 ? snap : NULL,
	    use_path ? path : NULL, now, to_tag, resp_out);
	reg_snap_free(snap);
	change_free(ch);
	return rc;
}
