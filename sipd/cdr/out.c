/*
 * The call records' files (cdr.h): the CSV file, one record a line
 * (RFC 4180 quoting, a header line at the top of each file), rotated by
 * size or on demand; the journal of calls in progress beside it
 * (PATH.open) that lets a restart close them as interrupted; and the
 * copy of each record to the systemd journal (with fields) or to syslog
 * (one line with key='value' fields).
 *
 * Every write is one write(2) on a descriptor opened O_APPEND, so a
 * record is whole in the file or not there, and is in the file once the
 * call has ended, whatever happens to sipd after (no fsync: a power cut
 * may lose the last records, as it loses the last log lines).
 *
 * Owns: the descriptors d->fd and d->jfd (through struct cdr).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sipd/cdr/cdr_int.h"
#include "sipd/log.h"
#include "sipd/msg/msg.h"

#define CDR_HEADER "call_id,from,to,request_uri,source,user,gateway," \
	"invite_time,answer_time,end_time,duration,status,hangup\n"
/* A record or a journal line, at most (every field clipped). */
#define LINE_MAX_BYTES (16 * CDR_FIELD_MAX)

uint64_t
cdr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A line being built; full stays false while everything fitted. */
struct line {
	char buf[LINE_MAX_BYTES];
	size_t n;
	bool full;
};

/* An empty line: its buffer is left as it is (LINE_MAX_BYTES: zeroing
 * it would cost more than what goes into it). */
static void
line_init(struct line *l)
{
	l->n = 0;
	l->full = false;
}

static void
put(struct line *l, const char *s, size_t len)
{
	if (l->n + len >= sizeof(l->buf)) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

/* RFC 4180: a field with a comma or a quote is quoted, quotes doubled. */
static void
field(struct line *l, const char *s, bool first)
{
	if (!first) {
		put(l, ",", 1);
	}
	if (strpbrk(s, ",\"") == NULL) {
		put(l, s, strlen(s));
		return;
	}
	put(l, "\"", 1);
	for (const char *p = s; *p != '\0'; p++) {
		put(l, p, 1);
		if (*p == '"') {
			put(l, "\"", 1);
		}
	}
	put(l, "\"", 1);
}

/* A number as a field: digits alone, never quoted (field()), written
 * without snprintf(), three to four times a call. */
static void
field_u64(struct line *l, uint64_t v)
{
	char b[24];

	put(l, ",", 1);
	put(l, b, sv_utoa(v, b));
}

/* ISO 8601 in UTC with milliseconds; "" for 0.  Three a record, twice
 * over when the record is logged: by hand, not by gmtime_r() (the time
 * zone's lock), strftime() and snprintf(). */
static void
fmt_time(uint64_t ms, char out[32])
{
	uint64_t s = ms / 1000, sod = s % 86400;
	/* the civil date of a day count since 1970-01-01 (proleptic
	 * Gregorian calendar, eras of 400 years from 0000-03-01) */
	uint64_t z = s / 86400 + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned day = doy - (153 * mp + 2) / 5 + 1;
	unsigned mon = mp < 10 ? mp + 3 : mp - 9;
	uint64_t year = era * 400 + yoe + (mon <= 2);
	unsigned v[7] = { (unsigned)year, mon, day, (unsigned)(sod / 3600),
		(unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
		(unsigned)(ms % 1000) };
	static const char sep[7] = { '-', '-', 'T', ':', ':', '.', 'Z' };
	static const unsigned width[7] = { 4, 2, 2, 2, 2, 2, 3 };
	char *o = out;

	if (ms == 0) {
		out[0] = '\0';
		return;
	}
	if (year > 9999) {
		char b[64];
		size_t n;

		snprintf(b, sizeof(b), "%" PRIu64 "-%02u-%02uT%02u:%02u:%02u."
		    "%03uZ", year, v[1], v[2], v[3], v[4], v[5], v[6]);
		n = strnlen(b, 31);
		memcpy(out, b, n);
		out[n] = '\0';
		return;
	}
	for (int i = 0; i < 7; i++) {
		unsigned x = v[i];

		for (unsigned w = width[i]; w > 0; w--, x /= 10) {
			o[w - 1] = (char)('0' + x % 10);
		}
		o += width[i];
		*o++ = sep[i];
	}
	*o = '\0';
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w = write(fd, buf, len);

	if (w < 0) {
		return -errno;
	}
	return (size_t)w == len ? 0 : -ENOSPC;
}

/* Open a CSV file for appending, its header written when it is new. */
static int
open_csv(const char *path, uint64_t *size)
{
	struct stat sb;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
		close(fd);
		return -e;
	}
	*size = (uint64_t)sb.st_size;
	if (*size == 0) {
		int rc = write_all(fd, CDR_HEADER, sizeof(CDR_HEADER) - 1);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		*size = sizeof(CDR_HEADER) - 1;
	}
	return fd;
}

int
cdr_out_open(const char *path, int *fd, int *jfd, uint64_t *size,
    char *err, size_t cap)
{
	char jpath[CDR_PATH_MAX + 8];
	int rc;

	if (path[0] != '/') {
		snprintf(err, cap, "the call records file must be an absolute "
		    "path (%s)", path);
		return -EINVAL;
	}
	if ((size_t)snprintf(jpath, sizeof(jpath), "%s.open", path) >=
	    sizeof(jpath)) {
		snprintf(err, cap, "the call records file's path is too long");
		return -ENAMETOOLONG;
	}
	rc = open_csv(path, size);
	if (rc < 0) {
		snprintf(err, cap, "cannot open the call records file %s (%s)",
		    path, strerror(-rc));
		return rc;
	}
	*fd = rc;
	*jfd = open(jpath, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (*jfd < 0) {
		rc = -errno;
		snprintf(err, cap, "cannot open the calls in progress file %s "
		    "(%s)", jpath, strerror(-rc));
		close(*fd);
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------- journal */

/* The next field of a CSV line at *p (quoted or not) into out. */
static bool
next_field(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '\0') {
		return false;
	}
	if (*s == '"') {
		for (s++; *s != '\0'; s++) {
			if (*s == '"' && s[1] == '"') {
				s++;
			} else if (*s == '"') {
				s++;
				break;
			}
			if (n + 1 < cap) {
				out[n++] = *s;
			}
		}
	} else {
		for (; *s != '\0' && *s != ','; s++) {
			if (n + 1 < cap) {
				out[n++] = *s;
			}
		}
	}
	out[n] = '\0';
	if (*s == ',') {
		s++;
	} else if (*s != '\0') {
		return false;
	}
	*p = s;
	return true;
}

static void
journal_put(struct cdr *d, struct line *l)
{
	put(l, "\n", 1);
	if (l->full || d->jfd < 0) {
		return;
	}
	if (write_all(d->jfd, l->buf, l->n) < 0) {
		d->stats.errors++;
		return;
	}
	d->jlines++;
}

static void
started_line(struct line *l, const struct cdr_call *k)
{
	field(l, "+", true);
	field(l, cdr_call_id(k), false);
	field(l, k->from_tag, false);
	field(l, k->from, false);
	field(l, k->to, false);
	field(l, k->ruri, false);
	field(l, k->source, false);
	field(l, cdr_call_user(k), false);
	field(l, cdr_call_gateway(k), false);
	field_u64(l, k->invite_ms);
	put(l, "\n", 1);
}

static void
answered_line(struct line *l, const struct cdr_call *k)
{
	field(l, "a", true);
	field(l, cdr_call_id(k), false);
	field(l, k->from_tag, false);
	field(l, cdr_call_to_tag(k), false);
	field_u64(l, k->answer_ms);
	put(l, "\n", 1);
}

void
cdr_out_started(struct cdr *d, const struct cdr_call *k)
{
	struct line l;

	line_init(&l);
	started_line(&l, k);
	l.n--; /* journal_put() ends the line */
	journal_put(d, &l);
}

void
cdr_out_answered(struct cdr *d, const struct cdr_call *k)
{
	struct line l;

	line_init(&l);
	answered_line(&l, k);
	l.n--;
	journal_put(d, &l);
}

void
cdr_out_ended(struct cdr *d, const struct cdr_call *k)
{
	struct line l;

	line_init(&l);
	field(&l, "-", true);
	field(&l, cdr_call_id(k), false);
	field(&l, k->from_tag, false);
	journal_put(d, &l);
}

void
cdr_out_compact(struct cdr *d)
{
	char jpath[CDR_PATH_MAX + 8], tmp[CDR_PATH_MAX + 16];
	struct line l;
	uint64_t lines = 0;
	int fd;

	snprintf(jpath, sizeof(jpath), "%s.open", d->set.path);
	snprintf(tmp, sizeof(tmp), "%s.open.tmp", d->set.path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		return; /* the journal grows until the next try */
	}
	for (struct cdr_call *k = d->oldest; k != NULL; k = k->newer) {
		if (!k->record) {
			continue;
		}
		line_init(&l);
		started_line(&l, k);
		if (k->answered) {
			answered_line(&l, k);
		}
		if (!l.full && write_all(fd, l.buf, l.n) < 0) {
			goto fail;
		}
		lines += k->answered ? 2 : 1;
	}
	if (rename(tmp, jpath) < 0) {
		goto fail;
	}
	close(d->jfd);
	/* the renamed file, still open: appended to from now on */
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		lseek(fd, 0, SEEK_END);
	}
	d->jfd = fd;
	d->jlines = lines;
	return;
fail:
	close(fd);
	unlink(tmp);
}

/* -------------------------------------------------------- records */

/* A duration of d ms as seconds with three decimals ("12.345"), as
 * "%" PRIu64 ".%03u" writes it, without snprintf(). */
static void
fmt_dur(uint64_t d, char out[32])
{
	unsigned ms = (unsigned)(d % 1000);
	size_t n = sv_utoa(d / 1000, out);

	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n] = '\0';
}

static void
record_line(struct line *l, const struct cdr_call *k, enum cdr_end e,
    uint64_t end_ms)
{
	char t[32], dur[32];
	uint64_t d = k->answered && end_ms > k->answer_ms
	    ? end_ms - k->answer_ms
	    : 0;

	field(l, cdr_call_id(k), true);
	field(l, k->from, false);
	field(l, k->to, false);
	field(l, k->ruri, false);
	field(l, k->source, false);
	field(l, cdr_call_user(k), false);
	field(l, cdr_call_gateway(k), false);
	fmt_time(k->invite_ms, t);
	field(l, t, false);
	fmt_time(k->answered ? k->answer_ms : 0, t);
	field(l, t, false);
	fmt_time(end_ms, t);
	field(l, t, false);
	fmt_dur(d, dur);
	field(l, dur, false);
	field_u64(l, (uint64_t)k->status);
	field(l, cdr_end_name(e), false);
	put(l, "\n", 1);
}

/* The record to the journal with fields, or to syslog as one line:
 * wherever the log lines go (log.h). */
static void
record_log(const struct cdr_call *k, enum cdr_end e, uint64_t end_ms)
{
	char inv[32], ans[32], end[32], dur[32], status[16];
	char msg[CDR_FIELD_MAX + 64];
	uint64_t d = k->answered && end_ms > k->answer_ms
	    ? end_ms - k->answer_ms
	    : 0;
	enum log_out out = log_get_out();

	if (out != LOG_OUT_JOURNAL && out != LOG_OUT_SYSLOG) {
		return; /* neither takes it: nothing to format */
	}
	fmt_time(k->invite_ms, inv);
	fmt_time(k->answered ? k->answer_ms : 0, ans);
	fmt_time(end_ms, end);
	fmt_dur(d, dur);
	if (out == LOG_OUT_JOURNAL) {
		const struct log_field f[] = {
			{ "SIPD_CALL_ID", cdr_call_id(k) },
			{ "SIPD_FROM", k->from },
			{ "SIPD_TO", k->to },
			{ "SIPD_REQUEST_URI", k->ruri },
			{ "SIPD_SOURCE", k->source },
			{ "SIPD_USER", cdr_call_user(k) },
			{ "SIPD_GATEWAY", cdr_call_gateway(k) },
			{ "SIPD_INVITE_TIME", inv },
			{ "SIPD_ANSWER_TIME", ans },
			{ "SIPD_END_TIME", end },
			{ "SIPD_DURATION", dur },
			{ "SIPD_STATUS", status },
			{ "SIPD_HANGUP", cdr_end_name(e) },
		};

		snprintf(status, sizeof(status), "%d", k->status);
		snprintf(msg, sizeof(msg), "cdr, call-id='%s' status=%d "
		    "hangup=%s", cdr_call_id(k), k->status, cdr_end_name(e));
		(void)log_journal(LOG_LEVEL_LOWLEVEL, "CDR", msg, f,
		    sizeof(f) / sizeof(f[0]));
	} else {
		syslog(LOG_INFO, "cdr, call-id='%s' from='%s' to='%s' "
		    "ruri='%s' src=%s user='%s' gateway='%s' invite=%s "
		    "answer=%s end=%s duration=%s status=%d hangup=%s",
		    cdr_call_id(k), k->from, k->to, k->ruri, k->source,
		    cdr_call_user(k), cdr_call_gateway(k), inv, ans[0] ? ans : "-", end, dur, k->status,
		    cdr_end_name(e));
	}
}

/* Write a record on fd (size: the file's), counted in st. */
static void
record_write(int fd, uint64_t *size, const struct cdr_call *k,
    enum cdr_end e, uint64_t end_ms, struct cdr_stats *st)
{
	struct line l;
	int rc;

	line_init(&l);
	record_line(&l, k, e, end_ms);
	if (l.full) {
		st->errors++;
		return;
	}
	rc = write_all(fd, l.buf, l.n);
	if (rc < 0) {
		st->errors++;
		log_err(LOG_TRANSPORT, "cdr, cannot write the record of "
		    "call-id '%.100s' (%s)", cdr_call_id(k), strerror(-rc));
		return;
	}
	*size += l.n;
	st->records++;
}

void
cdr_out_record(struct cdr *d, const struct cdr_call *k, enum cdr_end e,
    uint64_t end_ms)
{
	char err[256];

	if (d->set.rotate_size != 0 && d->size >= d->set.rotate_size &&
	    d->size > sizeof(CDR_HEADER) - 1 &&
	    cdr_out_rotate(d, err, sizeof(err)) < 0) {
		log_err(LOG_TRANSPORT, "cdr, %s", err);
	}
	record_write(d->fd, &d->size, k, e, end_ms, &d->stats);
	record_log(k, e, end_ms);
}

int
cdr_out_rotate(struct cdr *d, char *err, size_t cap)
{
	char from[CDR_PATH_MAX + 8], to[CDR_PATH_MAX + 8];
	uint64_t size;
	int fd;

	for (int i = CDR_KEEP - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", d->set.path, i);
		snprintf(to, sizeof(to), "%s.%d", d->set.path, i + 1);
		(void)rename(from, to); /* a missing one is fine */
	}
	snprintf(to, sizeof(to), "%s.1", d->set.path);
	if (rename(d->set.path, to) < 0 && errno != ENOENT) {
		snprintf(err, cap, "cannot rotate the call records file %s "
		    "(%s)", d->set.path, strerror(errno));
		return -errno;
	}
	fd = open_csv(d->set.path, &size);
	if (fd < 0) {
		/* the old descriptor now writes PATH.1: nothing is lost */
		snprintf(err, cap, "cannot open the call records file %s (%s)",
		    d->set.path, strerror(-fd));
		return fd;
	}
	close(d->fd);
	d->fd = fd;
	d->size = size;
	log_notice(LOG_TRANSPORT, "cdr, %s rotated", d->set.path);
	return 0;
}

/* ------------------------------------------------------- recovery */

/* One journal line into the table t (a previous run's calls). */
static void
replay(struct cdr *t, const char *line)
{
	char kind[4], cid[CDR_FIELD_MAX], tag[CDR_TAG_MAX], num[24];
	const char *p = line;
	struct cdr_call *k;

	if (!next_field(&p, kind, sizeof(kind)) ||
	    !next_field(&p, cid, sizeof(cid)) ||
	    !next_field(&p, tag, sizeof(tag))) {
		return;
	}
	k = cdr_find(t, cid, tag);
	if (strcmp(kind, "-") == 0) {
		if (k != NULL) {
			cdr_unlink(t, k);
			cdr_call_free(k);
		}
	} else if (strcmp(kind, "a") == 0 && k != NULL) {
		char ttag[CDR_TAG_MAX];

		if (next_field(&p, ttag, sizeof(ttag)) &&
		    next_field(&p, num, sizeof(num))) {
			cdr_call_answered(k, (struct cdr_sv){ ttag,
			    strlen(ttag) });
			k->answered = true;
			k->status = 200;
			k->answer_ms = strtoull(num, NULL, 10);
		}
	} else if (strcmp(kind, "+") == 0 && k == NULL &&
	    t->ncalls < CDR_MAX_CALLS) {
		char from[CDR_FIELD_MAX], to[CDR_FIELD_MAX];
		char ruri[CDR_FIELD_MAX], source[64], user[CDR_FIELD_MAX];
		char gateway[CDR_FIELD_MAX];

		if (!next_field(&p, from, sizeof(from)) ||
		    !next_field(&p, to, sizeof(to)) ||
		    !next_field(&p, ruri, sizeof(ruri)) ||
		    !next_field(&p, source, sizeof(source)) ||
		    !next_field(&p, user, sizeof(user)) ||
		    !next_field(&p, gateway, sizeof(gateway)) ||
		    !next_field(&p, num, sizeof(num))) {
			return;
		}
		k = cdr_call_new((const struct cdr_sv[CDR_NFIELDS]){
		    { cid, strlen(cid) }, { tag, strlen(tag) },
		    { from, strlen(from) }, { to, strlen(to) },
		    { ruri, strlen(ruri) }, { source, strlen(source) },
		    { user, strlen(user) }, { gateway, strlen(gateway) } });
		if (k == NULL) {
			return;
		}
		k->invite_ms = strtoull(num, NULL, 10);
		k->record = true;
		cdr_link(t, k);
	}
}

int
cdr_out_recover(int fd, int jfd, uint64_t *size, uint64_t now_ms,
    struct cdr_stats *st)
{
	struct cdr *t = cdr_new();
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	FILE *f;
	int dupfd, n = 0;

	if (t == NULL) {
		return 0;
	}
	dupfd = dup(jfd);
	f = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
	if (f == NULL) {
		if (dupfd >= 0) {
			close(dupfd);
		}
		cdr_free(t);
		return 0;
	}
	rewind(f);
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] != '\n') {
			break; /* a line cut by a crash */
		}
		line[len - 1] = '\0';
		replay(t, line);
	}
	free(line);
	fclose(f);
	for (struct cdr_call *k = t->oldest; k != NULL; k = k->newer) {
		record_write(fd, size, k, CDR_END_INTERRUPTED, now_ms, st);
		record_log(k, CDR_END_INTERRUPTED, now_ms);
		n++;
	}
	/* closed: the journal starts over */
	if (ftruncate(jfd, 0) < 0) {
		st->errors++;
	}
	cdr_free(t);
	return n;
}
