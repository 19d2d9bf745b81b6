/*
 * The call table (cdr.h): the INVITE dialogs sipd Record-Routed, from the
 * initial INVITE to their end, keyed by Call-ID and the caller's From
 * tag, which every request of the dialog carries in From or in To (RFC
 * 3261 12: the dialog's identifiers).
 *
 * Ownership: one table for the process, locked (shared table with a
 * lock, not ownership by shard).  Requests reach the worker their
 * Call-ID hashes to, so one call's messages normally meet on one worker;
 * but a response comes to the worker named in sipd's branch, the control
 * thread lists the calls, and the first worker ends the idle ones.  With
 * one lock held for a lookup, there is nothing to hand over and no
 * ordering between queues to get wrong; a call event costs one lock,
 * which is far less than the message that caused it.
 *
 * Owns: the entries, the settings in force and, through out.c, the CSV
 * file and the journal of calls in progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sipd/cdr/cdr_int.h"
#include "sipd/log.h"
#include "sipd/msg/msg.h"

static const char *const end_names[] = {
	[CDR_END_NONE] = "",
	[CDR_END_CALLER] = "caller-bye",
	[CDR_END_CALLEE] = "callee-bye",
	[CDR_END_CANCEL] = "cancel",
	[CDR_END_REJECTED] = "rejected",
	[CDR_END_TIMEOUT] = "timeout",
	[CDR_END_INTERRUPTED] = "interrupted",
};

const char *
cdr_end_name(enum cdr_end e)
{
	return (unsigned)e < sizeof(end_names) / sizeof(end_names[0])
	    ? end_names[e]
	    : "";
}

/* FNV-1a over the Call-ID, its NUL and the tag, from d's secret seed and
 * mixed: a peer chooses both and must not choose the bucket too. */
uint32_t
cdr_hash(const struct cdr *d, const char *call_id, const char *tag)
{
	uint64_t h = msg_fnv1a(d->seed, call_id, strlen(call_id) + 1);

	return (uint32_t)msg_mix64(msg_fnv1a(h, tag, strlen(tag)));
}

/* Whether s[0..8) holds no control byte (below 0x20, or 0x7f): a byte
 * below 0x20 borrows into its top bit when 0x20 is taken from it, which
 * a byte with its top bit set never does (the "hasless" test); 0x7f is a
 * zero byte once xored with it. */
static bool
word_clean(const char *s)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t x, y;

	memcpy(&x, s, 8);
	y = x ^ (0x7f * ones);
	return ((((x - 0x20 * ones) & ~x) | ((y - ones) & ~y)) & high) == 0;
}

/*
 * s[0..n) into out, eight bytes a step, while no control byte shows
 * (the last step overlaps the one before); false at the first word that
 * holds one, out then partly written.  Shorter texts go byte by byte.
 */
static bool
copy_clean(char *out, const char *s, size_t n)
{
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];
			if (ch < 0x20 || ch == 0x7f) {
				return false;
			}
			out[i] = (char)ch;
		}
		return true;
	}
	for (; i + 8 <= n; i += 8) {
		if (!word_clean(s + i)) {
			return false;
		}
		memcpy(out + i, s + i, 8);
	}
	if (i < n) {
		if (!word_clean(s + n - 8)) {
			return false;
		}
		memcpy(out + n - 8, s + n - 8, 8);
	}
	return true;
}

void
cdr_copy(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	/* what peers send is nearly always clean: one pass */
	if (!copy_clean(out, s, n)) {
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];
			out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		}
	}
	out[n] = '\0';
}

struct cdr_call *
cdr_call_new(const struct cdr_sv f[CDR_NFIELDS])
{
	static const size_t caps[CDR_NFIELDS] = {
		[CDR_F_CALL_ID] = CDR_FIELD_MAX, [CDR_F_FROM_TAG] = CDR_TAG_MAX,
		[CDR_F_FROM] = CDR_FIELD_MAX, [CDR_F_TO] = CDR_FIELD_MAX,
		[CDR_F_RURI] = CDR_FIELD_MAX, [CDR_F_SOURCE] = 64,
		[CDR_F_USER] = CDR_FIELD_MAX, [CDR_F_GATEWAY] = CDR_FIELD_MAX,
	};
	size_t len[CDR_NFIELDS], total = 0;
	struct cdr_call *k;
	char *p;

	for (int i = 0; i < CDR_NFIELDS; i++) {
		len[i] = f[i].len < caps[i] - 1 ? f[i].len : caps[i] - 1;
		total += len[i] + 1;
	}
	/* every byte of the text is written below: zero the rest alone */
	k = malloc(sizeof(*k) + total);
	if (k == NULL) {
		return NULL;
	}
	memset(k, 0, sizeof(*k));
	p = k->text;
	/* the Call-ID opens the text; user and gateway follow source */
	const char **out[CDR_NFIELDS] = { NULL, &k->from_tag, &k->from,
		&k->to, &k->ruri, &k->source, NULL, NULL };
	for (int i = 0; i < CDR_NFIELDS; i++) {
		cdr_copy(p, len[i] + 1, f[i].p, len[i]);
		if (out[i] != NULL) {
			*out[i] = p;
		}
		p += len[i] + 1;
	}
	return k;
}

void
cdr_call_answered(struct cdr_call *k, struct cdr_sv to_tag)
{
	size_t n = to_tag.len < CDR_TAG_MAX - 1 ? to_tag.len : CDR_TAG_MAX - 1;
	char *t = malloc(n + 1);

	if (t == NULL) {
		return;
	}
	cdr_copy(t, n + 1, to_tag.p, n);
	free(k->to_tag);
	k->to_tag = t;
}

const char *
cdr_call_to_tag(const struct cdr_call *k)
{
	return k->to_tag != NULL ? k->to_tag : "";
}

void
cdr_call_free(struct cdr_call *k)
{
	if (k == NULL) {
		return;
	}
	free(k->to_tag);
	free(k);
}

/* cdr_find() of the key whose cdr_hash() is h. */
static struct cdr_call *
find_hashed(struct cdr *d, uint32_t h, const char *call_id, const char *tag)
{
	for (struct cdr_call *k = d->buckets[h % CDR_BUCKETS]; k != NULL;
	     k = k->next) {
		if (k->hash == h && strcmp(cdr_call_id(k), call_id) == 0 &&
		    strcmp(k->from_tag, tag) == 0) {
			return k;
		}
	}
	return NULL;
}

struct cdr_call *
cdr_find(struct cdr *d, const char *call_id, const char *tag)
{
	return find_hashed(d, cdr_hash(d, call_id, tag), call_id, tag);
}

/* cdr_link() of k, whose hash is set. */
static void
link_hashed(struct cdr *d, struct cdr_call *k)
{
	struct cdr_call **b = &d->buckets[k->hash % CDR_BUCKETS];

	/* its bucket in the id, to be found by it */
	k->id = ++d->serial * CDR_BUCKETS + k->hash % CDR_BUCKETS;
	k->next = *b;
	*b = k;
	k->older = d->newest;
	k->newer = NULL;
	if (d->newest != NULL) {
		d->newest->newer = k;
	} else {
		d->oldest = k;
	}
	d->newest = k;
	d->ncalls++;
	atomic_store_explicit(&d->live, d->ncalls, memory_order_relaxed);
}

void
cdr_link(struct cdr *d, struct cdr_call *k)
{
	k->hash = cdr_hash(d, cdr_call_id(k), k->from_tag);
	link_hashed(d, k);
}

void
cdr_unlink(struct cdr *d, struct cdr_call *k)
{
	struct cdr_call **pp = &d->buckets[k->hash % CDR_BUCKETS];

	while (*pp != NULL && *pp != k) {
		pp = &(*pp)->next;
	}
	if (*pp == k) {
		*pp = k->next;
	}
	if (k->older != NULL) {
		k->older->newer = k->newer;
	} else {
		d->oldest = k->newer;
	}
	if (k->newer != NULL) {
		k->newer->older = k->older;
	} else {
		d->newest = k->older;
	}
	d->ncalls--;
	atomic_store_explicit(&d->live, d->ncalls, memory_order_relaxed);
}

/* Is there anything for a call event to find?  Lock-free. */
static bool
busy(const struct cdr *d)
{
	return cdr_tracking(d) ||
	    (d != NULL &&
		atomic_load_explicit(&d->live, memory_order_relaxed) > 0);
}

struct cdr *
cdr_new(void)
{
	struct cdr *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->tracking, false);
	atomic_init(&d->live, 0);
	d->fd = -1;
	d->jfd = -1;
	if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) !=
	    sizeof(d->seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		d->seed = msg_mix64((uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)d);
	}
	return d;
}

static void
drop_all(struct cdr *d)
{
	while (d->oldest != NULL) {
		struct cdr_call *k = d->oldest;
		cdr_unlink(d, k);
		cdr_call_free(k);
	}
}

void
cdr_free(struct cdr *d)
{
	if (d == NULL) {
		return;
	}
	/* the calls still up stay in the journal: the next start closes
	 * them as interrupted */
	drop_all(d);
	if (d->fd >= 0) {
		close(d->fd);
	}
	if (d->jfd >= 0) {
		close(d->jfd);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int
cdr_check_path(const char *path, char *err, size_t cap)
{
	char dir[CDR_PATH_MAX];
	const char *slash;
	int fd, e;

	if (path[0] != '/') {
		snprintf(err, cap, "the call records file must be an absolute "
		    "path (%s)", path);
		return -EINVAL;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	e = errno;
	if (e == ENOENT) {
		/* made when records start: its directory must allow it */
		slash = strrchr(path, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1
		    : (int)(slash - path), path);
		if (access(dir, W_OK | X_OK) == 0) {
			return 0;
		}
		e = errno;
	}
	snprintf(err, cap, "cannot open the call records file %s (%s)", path,
	    strerror(e));
	return -e;
}

int
cdr_configure(struct cdr *d, const struct cdr_settings *s, char *err,
    size_t cap)
{
	bool reopen = s->on && (d->fd < 0 || strcmp(s->path, d->set.path) != 0);
	int fd = -1, jfd = -1, rc;
	uint64_t size = 0;
	struct cdr_stats st = { 0 };

	if (!s->on && d->configured && s->path[0] != '\0' &&
	    strcmp(s->path, d->set.path) != 0) {
		rc = cdr_check_path(s->path, err, cap);
		if (rc < 0) {
			return rc;
		}
	}
	if (reopen) {
		rc = cdr_out_open(s->path, &fd, &jfd, &size, err, cap);
		if (rc < 0) {
			return rc;
		}
		/* a previous run's calls: closed before any new one is
		 * journaled; the file is not in use by anyone yet */
		int n = cdr_out_recover(fd, jfd, &size, cdr_now_ms(), &st);
		if (n > 0) {
			log_warn(LOG_TRANSPORT, "cdr, %d calls in progress at the "
			    "last stop recorded as interrupted", n);
		}
	}
	pthread_mutex_lock(&d->lock);
	d->stats.records += st.records;
	d->stats.errors += st.errors;
	if (reopen || !s->on) {
		if (d->fd >= 0) {
			close(d->fd);
		}
		if (d->jfd >= 0) {
			/* its calls are the new journal's now, or no longer
			 * recorded: not a previous run's to close */
			if (ftruncate(d->jfd, 0) < 0) {
				d->stats.errors++;
			}
			close(d->jfd);
		}
		d->fd = fd;
		d->jfd = jfd;
		d->size = size;
		d->jlines = 0;
		if (reopen) {
			/* the calls up now, in the new journal */
			for (struct cdr_call *k = d->oldest; k != NULL;
			     k = k->newer) {
				if (k->record) {
					cdr_out_started(d, k);
					if (k->answered) {
						cdr_out_answered(d, k);
					}
				}
			}
		}
	}
	d->set = *s;
	d->configured = true;
	atomic_store(&d->tracking, s->on || s->track);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

bool
cdr_tracking(const struct cdr *d)
{
	return d != NULL && atomic_load_explicit(&d->tracking,
	    memory_order_relaxed);
}

int
cdr_rotate(struct cdr *d, char *err, size_t cap)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	if (d->fd < 0) {
		snprintf(err, cap, "call records are off (set cdr on)");
		rc = -ENOENT;
	} else {
		rc = cdr_out_rotate(d, err, cap);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int
cdr_invite(struct cdr *d, const struct cdr_start *s, uint64_t now_ms)
{
	return cdr_invite_id(d, s, now_ms, NULL);
}

int
cdr_invite_id(struct cdr *d, const struct cdr_start *s, uint64_t now_ms,
    uint64_t *id)
{
	struct cdr_call *k, *was;
	int rc = 0;

	if (id != NULL) {
		*id = 0;
	}
	if (d == NULL || (!cdr_tracking(d) && !s->routed)) {
		return -ENOENT;
	}
	k = cdr_call_new((const struct cdr_sv[CDR_NFIELDS]){ s->call_id,
	    s->from_tag, s->from, s->to, s->ruri,
	    { s->source, strlen(s->source) }, { s->user, strlen(s->user) },
	    { s->gateway, strlen(s->gateway) } });
	if (k == NULL) {
		return -ENOMEM;
	}
	k->invite_ms = now_ms;
	k->last_ms = now_ms;
	/* the seed never changes: hashed once, outside the lock, for the
	 * look-up and the link */
	k->hash = cdr_hash(d, cdr_call_id(k), k->from_tag);
	pthread_mutex_lock(&d->lock);
	was = find_hashed(d, k->hash, cdr_call_id(k), k->from_tag);
	if (was != NULL) {
		/* its final response is the call's in progress, as when it
		 * was looked up by its Call-ID and From tag */
		if (id != NULL) {
			*id = was->id;
		}
		rc = -EEXIST;
	} else if (d->ncalls >= CDR_MAX_CALLS) {
		d->stats.untracked++;
		rc = -EBUSY;
	} else {
		k->record = d->fd >= 0;
		link_hashed(d, k);
		if (id != NULL) {
			*id = k->id;
		}
		d->stats.calls = d->ncalls;
		if (k->record) {
			cdr_out_started(d, k);
		}
		k = NULL;
	}
	pthread_mutex_unlock(&d->lock);
	cdr_call_free(k);
	return rc;
}

/* k ends by e at now_ms: its record, out of the journal, freed. */
static void
end_call(struct cdr *d, struct cdr_call *k, enum cdr_end e, uint64_t now_ms)
{
	cdr_unlink(d, k);
	d->stats.calls = d->ncalls;
	if (k->record && d->fd >= 0) {
		cdr_out_record(d, k, e, now_ms);
		cdr_out_ended(d, k);
		if (d->jlines > 2 * (uint64_t)d->ncalls + 1024) {
			cdr_out_compact(d);
		}
	}
	cdr_call_free(k);
}

/* The final response of k's INVITE (cdr_final()), with the lock. */
static void
final_locked(struct cdr *d, struct cdr_call *k, struct cdr_sv to_tag,
    int status, bool cancelled, uint64_t now_ms)
{
	if (k == NULL || k->answered) {
		return;
	}
	k->status = status;
	k->last_ms = now_ms;
	if (status < 300) {
		/* the first 2xx answers; later ones (forks) are the callers'
		 * affair, their BYE comes through here */
		k->answered = true;
		k->answer_ms = now_ms;
		cdr_call_answered(k, to_tag);
		if (k->record && d->fd >= 0) {
			cdr_out_answered(d, k);
		}
	} else {
		end_call(d, k, cancelled ? CDR_END_CANCEL : CDR_END_REJECTED,
		    now_ms);
	}
}

void
cdr_final(struct cdr *d, struct cdr_sv call_id, struct cdr_sv from_tag,
    struct cdr_sv to_tag, int status, bool cancelled, uint64_t now_ms)
{
	char cid[CDR_FIELD_MAX], tag[CDR_TAG_MAX];

	if (!busy(d) || status < 200) {
		return;
	}
	cdr_copy(cid, sizeof(cid), call_id.p, call_id.len);
	cdr_copy(tag, sizeof(tag), from_tag.p, from_tag.len);
	pthread_mutex_lock(&d->lock);
	final_locked(d, cdr_find(d, cid, tag), to_tag, status, cancelled,
	    now_ms);
	pthread_mutex_unlock(&d->lock);
}

void
cdr_final_id(struct cdr *d, uint64_t id, struct cdr_sv to_tag, int status,
    bool cancelled, uint64_t now_ms)
{
	struct cdr_call *k;

	if (id == 0 || !busy(d) || status < 200) {
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (k = d->buckets[id % CDR_BUCKETS]; k != NULL && k->id != id;
	     k = k->next) {
	}
	final_locked(d, k, to_tag, status, cancelled, now_ms);
	pthread_mutex_unlock(&d->lock);
}

void
cdr_in_dialog(struct cdr *d, struct cdr_sv call_id, struct cdr_sv from_tag,
    struct cdr_sv to_tag, bool bye, uint64_t now_ms)
{
	char cid[CDR_FIELD_MAX], ftag[CDR_TAG_MAX], ttag[CDR_TAG_MAX];
	struct cdr_call *k;
	enum cdr_end e = CDR_END_CALLER;

	if (!busy(d)) {
		return;
	}
	cdr_copy(cid, sizeof(cid), call_id.p, call_id.len);
	cdr_copy(ftag, sizeof(ftag), from_tag.p, from_tag.len);
	pthread_mutex_lock(&d->lock);
	/* RFC 3261 12.2.1.1: the caller's requests carry its tag in From,
	 * the callee's in To (copied only then) */
	k = cdr_find(d, cid, ftag);
	if (k == NULL) {
		cdr_copy(ttag, sizeof(ttag), to_tag.p, to_tag.len);
		k = cdr_find(d, cid, ttag);
		e = CDR_END_CALLEE;
	}
	if (k != NULL && k->answered) {
		k->last_ms = now_ms;
		if (bye) {
			end_call(d, k, e, now_ms);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

void
cdr_tick(struct cdr *d, uint64_t now_ms)
{
	uint64_t limit;

	if (!busy(d)) {
		return;
	}
	pthread_mutex_lock(&d->lock);
	limit = (uint64_t)d->set.dialog_timeout_s * 1000;
	for (struct cdr_call *k = d->oldest, *next; k != NULL; k = next) {
		next = k->newer;
		if (now_ms >= k->last_ms + limit) {
			end_call(d, k, CDR_END_TIMEOUT, now_ms);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

int
cdr_list(struct cdr *d, bool dialogs, size_t max, struct cdr_info **out)
{
	struct cdr_info *v;
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	size_t want = d->ncalls < max ? d->ncalls : max;
	v = calloc(want ? want : 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	for (struct cdr_call *k = d->oldest; k != NULL && n < want;
	     k = k->newer) {
		if (dialogs && !k->answered) {
			continue;
		}
		struct cdr_info *i = &v[n++];
		/* each fits: a record's fields are clipped to these sizes */
		strcpy(i->call_id, cdr_call_id(k));
		strcpy(i->from_tag, k->from_tag);
		strcpy(i->to_tag, cdr_call_to_tag(k));
		strcpy(i->from, k->from);
		strcpy(i->to, k->to);
		strcpy(i->ruri, k->ruri);
		strcpy(i->source, k->source);
		strcpy(i->user, cdr_call_user(k));
		i->answered = k->answered;
		i->invite_ms = k->invite_ms;
		i->answer_ms = k->answer_ms;
		i->last_ms = k->last_ms;
	}
	pthread_mutex_unlock(&d->lock);
	*out = v;
	return (int)n;
}

void
cdr_get_stats(struct cdr *d, struct cdr_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}
