/*
 * writer.c: the registrar's store writer.  One thread owns the store once
 * the bindings are loaded; every change (a REGISTER's puts and deletes,
 * an administrator's removal, the purge of expired bindings) reaches it
 * as records on a bounded queue, in the order the index took them.
 *
 * Group commit: the thread takes every record queued, writes them in one
 * transaction and commits it once (with REG_SYNC_FULL, one fsync), then
 * tells whoever waits for a change in that batch: a callback for an
 * asynchronous REGISTER, a condition variable for a caller that blocks.
 * While one batch is being made durable the next one gathers, so a
 * REGISTER costs a share of an fsync and no worker waits on the disk
 * with the registrar's lock held.
 *
 * A change reaches the index only once it is committed (the waiter's
 * settle callback applies it), so a batch that fails is rolled back and
 * dropped: its waiters are told (a REGISTER is answered 500) and store
 * and index stay as they were.  While the queue is full, a REGISTER that
 * would change bindings is refused 503 (reg_wq_full()).
 *
 * The queue's mutex is taken after the registrar's lock, never before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sipd/log.h"
#include "sipd/reg/reg_int.h"

struct reg_rec {
	struct reg_rec *next;
	enum reg_rec_kind kind;
	time_t now;           /* REG_REC_PURGE */
	struct reg_binding b; /* put: a copy; del: aor and contact */
	struct reg_wait *w;   /* the last record of a change: its waiter */
	char data[];
};

struct reg_wq {
	struct reg *r;
	pthread_t thread;
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t work; /* records queued, or stop */
	pthread_cond_t done; /* a batch finished */
	struct reg_rec *head, *tail;
	size_t n;    /* records queued */
	size_t busy; /* records being written */
};

static char *
put_str(char **p, const char *s)
{
	char *out;
	size_t len;

	if (s == NULL) {
		return NULL;
	}
	len = strlen(s) + 1;
	out = memcpy(*p, s, len);
	*p += len;
	return out;
}

static size_t
str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

struct reg_rec *
reg_rec_new(enum reg_rec_kind kind, const struct reg_binding *b,
    const char *aor, const char *contact, time_t now)
{
	struct reg_binding none = { .aor = aor, .contact = contact };
	struct reg_rec *rec;
	char *p;

	if (b == NULL) {
		b = &none;
	}
	rec = calloc(1, sizeof(*rec) + str_size(b->aor) +
	    str_size(b->contact) + str_size(b->callid) + str_size(b->path) +
	    str_size(b->user_agent));
	if (rec == NULL) {
		return NULL;
	}
	rec->kind = kind;
	rec->now = now;
	rec->b = *b;
	p = rec->data;
	rec->b.aor = put_str(&p, b->aor);
	rec->b.contact = put_str(&p, b->contact);
	rec->b.callid = put_str(&p, b->callid);
	rec->b.path = put_str(&p, b->path);
	rec->b.user_agent = put_str(&p, b->user_agent);
	return rec;
}

void
reg_rec_append(struct reg_rec **head, struct reg_rec **tail,
    struct reg_rec *rec)
{
	rec->next = NULL;
	if (*tail != NULL) {
		(*tail)->next = rec;
	} else {
		*head = rec;
	}
	*tail = rec;
}

void
reg_rec_free_list(struct reg_rec *rec)
{
	while (rec != NULL) {
		struct reg_rec *next = rec->next;
		free(rec);
		rec = next;
	}
}

bool
reg_wq_full(struct reg *r)
{
	bool full;

	if (r->wq == NULL) {
		return false;
	}
	pthread_mutex_lock(&r->wq->mu);
	full = r->wq->n >= REG_WQ_MAX;
	pthread_mutex_unlock(&r->wq->mu);
	return full;
}

void
reg_wq_push(struct reg *r, struct reg_rec *list, struct reg_wait *w)
{
	struct reg_wq *q = r->wq;
	struct reg_rec *last = list;
	size_t n = 1;

	if (list == NULL) {
		return;
	}
	while (last->next != NULL) {
		last = last->next;
		n++;
	}
	last->w = w;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL) {
		q->tail->next = list;
	} else {
		q->head = list;
	}
	q->tail = last;
	q->n += n;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
}

int
reg_wq_wait(struct reg *r, struct reg_wait *w)
{
	struct reg_wq *q = r->wq;
	int rc;

	pthread_mutex_lock(&q->mu);
	while (!w->finished) {
		pthread_cond_wait(&q->done, &q->mu);
	}
	rc = w->result;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void
reg_flush(struct reg *r)
{
	struct reg_wq *q = r != NULL ? r->wq : NULL;

	if (q == NULL) {
		return;
	}
	pthread_mutex_lock(&q->mu);
	while (q->head != NULL || q->busy > 0) {
		pthread_cond_wait(&q->done, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
}

/* Write one record inside the open transaction. */
static int
rec_write(struct reg *r, const struct reg_rec *rec)
{
	int rc;

	switch (rec->kind) {
	case REG_REC_PUT:
		return r->ops->put(r->st, &rec->b);
	case REG_REC_REFRESH:
		if (r->ops->refresh != NULL) {
			return r->ops->refresh(r->st, &rec->b);
		}
		return r->ops->put(r->st, &rec->b);
	case REG_REC_DEL:
		return r->ops->del(r->st, rec->b.aor, rec->b.contact);
	case REG_REC_DEL_AOR:
		return r->ops->del_aor(r->st, rec->b.aor);
	case REG_REC_PURGE:
		rc = r->ops->purge(r->st, rec->now);
		return rc < 0 ? rc : 0;
	}
	return -EINVAL;
}

/* Write batch in one transaction.  Returns 0 or a negative errno. */
static int
batch_write(struct reg *r, const struct reg_rec *batch)
{
	int rc = r->ops->begin(r->st);

	if (rc < 0) {
		return rc;
	}
	for (const struct reg_rec *rec = batch; rec != NULL; rec = rec->next) {
		if ((rc = rec_write(r, rec)) < 0) {
			goto fail;
		}
	}
	if ((rc = r->ops->commit(r->st)) < 0) {
		goto fail;
	}
	return 0;
fail:
	r->ops->rollback(r->st);
	return rc;
}

void
reg_store_note(struct reg *r)
{
	struct stat st;

	r->st_dev = 0;
	r->st_ino = 0;
	if (r->where != NULL && r->where[0] == '/' &&
	    stat(r->where, &st) == 0 && S_ISREG(st.st_mode)) {
		r->st_dev = st.st_dev;
		r->st_ino = st.st_ino;
	}
}

/*
 * The store's file deleted or replaced under sipd (an administrator's rm,
 * a clean-up): what sipd writes would go to a file nobody can open, and
 * be lost at the next start.  Close it, open the path anew and write
 * every binding of the index into it (the committed state: what is queued
 * comes after).  On the writer thread, which alone uses r->st.  Returns 0
 * (nothing to do, or done) or a negative errno (logged; the old store
 * kept when the new one cannot be opened, and tried again next batch).
 */
static int
store_renew(struct reg *r)
{
	struct reg_rec *head = NULL, *tail = NULL;
	struct reg_store *st = NULL;
	struct stat sb;
	size_t n = 0;
	int rc;

	if (r->st_ino == 0 || (stat(r->where, &sb) == 0 &&
	    sb.st_dev == r->st_dev && sb.st_ino == r->st_ino)) {
		return 0;
	}
	log_err(LOG_SERVER, "registrar, store %s was deleted or replaced "
	    "under sipd: writing it anew from the bindings held", r->where);
	/* closed first: SQLite then checkpoints and removes its journal,
	 * which a new file of the same name must not find */
	if (r->st != NULL) {
		r->ops->close(r->st);
		r->st = NULL;
	}
	rc = r->ops->open(r->where, &r->set, &st);
	if (rc < 0) {
		log_err(LOG_SERVER, "registrar, cannot open store %s %s (%s)",
		    r->ops->name, r->where, strerror(-rc));
		return rc;
	}
	r->st = st;
	reg_store_note(r);
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nbuckets && rc == 0; i++) {
		for (struct reg_aor *a = r->tab[i]; a != NULL && rc == 0;
		     a = a->next) {
			for (struct reg_bind *b = a->binds; b != NULL;
			     b = b->next) {
				struct reg_binding v;
				struct reg_rec *rec;

				reg_bind_get(b, &v);
				rec = reg_rec_new(REG_REC_PUT, &v, NULL, NULL,
				    0);

				if (rec == NULL) {
					rc = -ENOMEM;
					break;
				}
				reg_rec_append(&head, &tail, rec);
				n++;
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0) {
		rc = batch_write(r, head);
	}
	reg_rec_free_list(head);
	if (rc < 0) {
		log_err(LOG_SERVER, "registrar, store %s: cannot write the %zu "
		    "bindings held (%s)", r->where, n, strerror(-rc));
		return rc;
	}
	log_warn(LOG_SERVER, "registrar, store %s written anew with %zu "
	    "bindings", r->where, n);
	return 0;
}

/*
 * Tell the waiters of batch that it is durable (err 0) or failed: settle
 * runs without the queue's mutex; a blocked caller is marked under it
 * (woken by the broadcast that ends the batch).
 */
static void
batch_tell(struct reg_wq *q, struct reg_rec *batch, int err)
{
	for (struct reg_rec *rec = batch; rec != NULL; rec = rec->next) {
		struct reg_wait *w = rec->w;
		bool detached;

		if (w == NULL) {
			continue;
		}
		rec->w = NULL;
		detached = w->detached;
		if (w->settle != NULL) {
			w->settle(q->r, w, err);
		}
		if (detached) {
			continue;
		}
		pthread_mutex_lock(&q->mu);
		w->result = err;
		w->finished = true;
		pthread_mutex_unlock(&q->mu);
	}
}

static void *
writer_main(void *arg)
{
	struct reg_wq *q = arg;
	struct reg *r = q->r;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct reg_rec *batch;
		size_t n;
		int rc;

		while (q->head == NULL && !q->stop) {
			pthread_cond_wait(&q->work, &q->mu);
		}
		if (q->head == NULL) {
			break; /* stopping, and nothing left to write */
		}
		batch = q->head;
		n = q->n;
		q->head = q->tail = NULL;
		q->n = 0;
		q->busy = n;
		pthread_mutex_unlock(&q->mu);

		/* without a store (it could not be opened anew) every
		 * change fails: answered 500 until it can */
		rc = store_renew(r);
		if (r->st != NULL) {
			rc = batch_write(r, batch);
		} else if (rc == 0) {
			rc = -EIO;
		}
		if (rc < 0) {
			bool purge = false;

			for (struct reg_rec *x = batch; x != NULL;
			     x = x->next) {
				purge |= x->kind == REG_REC_PURGE;
			}
			pthread_mutex_lock(&r->lock);
			r->stats.store_errors++;
			/* a purge is tried again by the next reg_purge() */
			r->purge_pending |= purge;
			pthread_mutex_unlock(&r->lock);
			log_err(LOG_SERVER, "registrar, store %s failed "
			    "writing %zu changes (%s)", r->ops->name, n,
			    strerror(-rc));
		}
		/* failed: rolled back, and the index was not changed */
		batch_tell(q, batch, rc);
		reg_rec_free_list(batch);
		pthread_mutex_lock(&q->mu);
		q->busy = 0;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int
reg_wq_start(struct reg *r)
{
	struct reg_wq *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL) {
		return -ENOMEM;
	}
	q->r = r;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	rc = pthread_create(&q->thread, NULL, writer_main, q);
	if (rc != 0) {
		pthread_cond_destroy(&q->done);
		pthread_cond_destroy(&q->work);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return -rc;
	}
	r->wq = q;
	return 0;
}

void
reg_wq_stop(struct reg *r)
{
	struct reg_wq *q = r->wq;

	if (q == NULL) {
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	reg_rec_free_list(q->head);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
	r->wq = NULL;
}
