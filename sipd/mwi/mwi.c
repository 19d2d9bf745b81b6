/*
 * Message waiting (mwi.h): the counts of the accounts, their table in
 * the registration store's SQLite file, and the subscriptions to them,
 * explicit (a SUBSCRIBE) or implicit (NoSubMWI, a registered binding).
 * Owns the counts, the subscriptions and its own connection to the
 * file; the registrar's writer thread shares the file (WAL), so a
 * write here waits for it a little (busy timeout) rather than fail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sipd/log.h"
#include "sipd/mwi/mwi.h"

struct mwi_acct {
	char aor[MWI_AOR_MAX];
	struct mwi_counts c;
};

struct mwi {
	pthread_mutex_t lock;
	sqlite3 *db;             /* NULL: in memory only */
	struct mwi_acct *acct;   /* unsorted; few accounts have counts */
	size_t nacct, cacct;
	struct mwi_sub *sub;
	size_t nsub, csub;
	uint64_t next_id;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS mwi ("
    " aor TEXT PRIMARY KEY NOT NULL,"
    " new INTEGER NOT NULL, old INTEGER NOT NULL,"
    " urgent_new INTEGER NOT NULL, urgent_old INTEGER NOT NULL);";

static struct mwi_acct *
acct_find(struct mwi *m, const char *aor)
{
	for (size_t i = 0; i < m->nacct; i++) {
		if (strcmp(m->acct[i].aor, aor) == 0) {
			return &m->acct[i];
		}
	}
	return NULL;
}

static int
acct_put(struct mwi *m, const char *aor, const struct mwi_counts *c)
{
	struct mwi_acct *a = acct_find(m, aor);

	if (a == NULL) {
		if (m->nacct == MWI_MAX_ACCOUNTS) {
			return -ENOSPC;
		}
		if (m->nacct == m->cacct) {
			size_t n = m->cacct ? m->cacct * 2 : 16;
			struct mwi_acct *p = realloc(m->acct, n * sizeof(*p));

			if (p == NULL) {
				return -ENOMEM;
			}
			m->acct = p;
			m->cacct = n;
		}
		a = &m->acct[m->nacct++];
		snprintf(a->aor, sizeof(a->aor), "%s", aor);
	}
	a->c = *c;
	return 0;
}

static int
db_load(struct mwi *m)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(m->db, "SELECT aor, new, old, urgent_new, "
		"urgent_old FROM mwi", -1, &st, NULL) != SQLITE_OK) {
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *aor = (const char *)sqlite3_column_text(st, 0);
		struct mwi_counts c = {
			(uint32_t)sqlite3_column_int64(st, 1),
			(uint32_t)sqlite3_column_int64(st, 2),
			(uint32_t)sqlite3_column_int64(st, 3),
			(uint32_t)sqlite3_column_int64(st, 4),
		};

		if (aor != NULL && strlen(aor) < MWI_AOR_MAX &&
		    acct_put(m, aor, &c) != 0) {
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

struct mwi *
mwi_new(const char *db, int *err)
{
	struct mwi *m = calloc(1, sizeof(*m));
	int rc = -ENOMEM;

	if (m == NULL) {
		goto fail;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->next_id = 1;
	if (db != NULL && db[0] != '\0') {
		rc = -EIO;
		if (sqlite3_open_v2(db, &m->db, SQLITE_OPEN_READWRITE |
			SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
			SQLITE_OK ||
		    sqlite3_busy_timeout(m->db, 2000) != SQLITE_OK ||
		    sqlite3_exec(m->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
		    db_load(m) != 0) {
			log_err(LOG_SERVER, "mwi, cannot use the store %s (%s)",
			    db, m->db ? sqlite3_errmsg(m->db) : "no memory");
			goto fail;
		}
	}
	return m;
fail:
	mwi_free(m);
	if (err != NULL) {
		*err = rc;
	}
	return NULL;
}

void
mwi_free(struct mwi *m)
{
	if (m == NULL) {
		return;
	}
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->lock);
	free(m->acct);
	free(m->sub);
	free(m);
}

static int
db_put(struct mwi *m, const char *aor, const struct mwi_counts *c)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (m->db == NULL) {
		return 0;
	}
	if (sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO mwi (aor, new, "
		"old, urgent_new, urgent_old) VALUES (?, ?, ?, ?, ?)", -1, &st,
		NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_text(st, 1, aor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->new_msgs);
	sqlite3_bind_int64(st, 3, c->old_msgs);
	sqlite3_bind_int64(st, 4, c->urgent_new);
	sqlite3_bind_int64(st, 5, c->urgent_old);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
mwi_set(struct mwi *m, const char *aor, const struct mwi_counts *c)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = acct_put(m, aor, c);
	pthread_mutex_unlock(&m->lock);
	if (rc != 0) {
		return rc;
	}
	/* the control plane's thread alone writes here: no lock needed for
	 * the connection, and the packet path never waits for the file */
	rc = db_put(m, aor, c);
	if (rc != 0) {
		log_err(LOG_SERVER, "mwi, cannot store the counts of %s (%s)",
		    aor, sqlite3_errmsg(m->db));
	}
	return rc;
}

bool
mwi_get(struct mwi *m, const char *aor, struct mwi_counts *c)
{
	const struct mwi_acct *a;

	pthread_mutex_lock(&m->lock);
	a = acct_find(m, aor);
	*c = a != NULL ? a->c : (struct mwi_counts){ 0 };
	pthread_mutex_unlock(&m->lock);
	return a != NULL;
}

static int
row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mwi_row *)a)->aor,
	    ((const struct mwi_row *)b)->aor);
}

static struct mwi_row *
row_find(struct mwi_row *r, int n, const char *aor)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(r[i].aor, aor) == 0) {
			return &r[i];
		}
	}
	return NULL;
}

int
mwi_list(struct mwi *m, const char *aor, time_t now, struct mwi_row **out)
{
	struct mwi_row *r;
	int n = 0;

	pthread_mutex_lock(&m->lock);
	r = calloc(m->nacct + m->nsub + 1, sizeof(*r));
	if (r == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->nacct; i++) {
		if (aor == NULL || strcmp(aor, m->acct[i].aor) == 0) {
			memcpy(r[n].aor, m->acct[i].aor, MWI_AOR_MAX);
			r[n++].counts = m->acct[i].c;
		}
	}
	for (size_t i = 0; i < m->nsub; i++) {
		const struct mwi_sub *s = &m->sub[i];
		struct mwi_row *x;

		if (s->expires <= now ||
		    (aor != NULL && strcmp(aor, s->aor) != 0)) {
			continue;
		}
		x = row_find(r, n, s->aor);
		if (x == NULL) {
			x = &r[n++];
			memcpy(x->aor, s->aor, MWI_AOR_MAX);
		}
		if (s->implicit) {
			x->implicit++;
		} else {
			x->subs++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	qsort(r, (size_t)n, sizeof(*r), row_cmp);
	*out = r;
	return n;
}

static void
sub_remove_at(struct mwi *m, size_t i)
{
	m->sub[i] = m->sub[--m->nsub];
}

int
mwi_sub_add(struct mwi *m, struct mwi_sub *s)
{
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	if (s->implicit) {
		for (size_t i = 0; i < m->nsub; i++) {
			struct mwi_sub *o = &m->sub[i];

			if (o->implicit && strcmp(o->aor, s->aor) == 0 &&
			    strcmp(o->contact, s->contact) == 0) {
				/* the same dialog goes on: a refresh */
				s->id = o->id;
				memcpy(s->callid, o->callid, sizeof(s->callid));
				memcpy(s->local, o->local, sizeof(s->local));
				memcpy(s->local_tag, o->local_tag,
				    sizeof(s->local_tag));
				s->cseq = o->cseq + 1;
				*o = *s;
				goto done;
			}
		}
	}
	if (m->nsub == MWI_MAX_SUBS) {
		rc = -EBUSY;
		goto done;
	}
	if (m->nsub == m->csub) {
		size_t n = m->csub ? m->csub * 2 : 16;
		struct mwi_sub *p = realloc(m->sub, n * sizeof(*p));

		if (p == NULL) {
			rc = -ENOMEM;
			goto done;
		}
		m->sub = p;
		m->csub = n;
	}
	s->id = m->next_id++;
	m->sub[m->nsub++] = *s;
done:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int
mwi_sub_dialog(struct mwi *m, const char *callid, const char *local_tag,
    const char *remote_tag, const time_t *expires, struct mwi_sub *out)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nsub; i++) {
		struct mwi_sub *s = &m->sub[i];

		if (s->implicit || strcmp(s->callid, callid) != 0 ||
		    strcmp(s->local_tag, local_tag) != 0 ||
		    strcmp(s->remote_tag, remote_tag) != 0) {
			continue;
		}
		s->cseq++;
		if (expires != NULL) {
			s->expires = *expires;
		}
		*out = *s;
		if (expires != NULL && *expires == 0) {
			sub_remove_at(m, i);
		}
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int
mwi_sub_end(struct mwi *m, uint64_t id)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nsub; i++) {
		if (m->sub[i].id == id) {
			sub_remove_at(m, i);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int
mwi_sub_drop_implicit(struct mwi *m, const char *aor, const char *contact)
{
	int n = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = m->nsub; i-- > 0;) {
		const struct mwi_sub *s = &m->sub[i];

		if (s->implicit && strcmp(s->aor, aor) == 0 &&
		    (contact == NULL || strcmp(s->contact, contact) == 0)) {
			sub_remove_at(m, i);
			n++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

int
mwi_sub_take(struct mwi *m, const char *aor, time_t now,
    struct mwi_sub **out)
{
	struct mwi_sub *r;
	int n = 0;

	pthread_mutex_lock(&m->lock);
	r = malloc((m->nsub + 1) * sizeof(*r));
	if (r == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOMEM;
	}
	for (size_t i = m->nsub; i-- > 0;) {
		struct mwi_sub *s = &m->sub[i];

		if (s->expires <= now) {
			/* RFC 6665 4.2.2: it ended; nothing more is sent */
			sub_remove_at(m, i);
			continue;
		}
		if (strcmp(s->aor, aor) == 0) {
			s->cseq++;
			r[n++] = *s;
		}
	}
	pthread_mutex_unlock(&m->lock);
	*out = r;
	return n;
}

int
mwi_sub_expired(struct mwi *m, time_t now, struct mwi_sub **out)
{
	struct mwi_sub *r = NULL;
	int n = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = m->nsub; i-- > 0;) {
		struct mwi_sub *s = &m->sub[i];

		if (s->expires > now) {
			continue;
		}
		if (!s->implicit) {
			if (r == NULL) {
				r = malloc(m->nsub * sizeof(*r));
				if (r == NULL) {
					pthread_mutex_unlock(&m->lock);
					return -ENOMEM;
				}
			}
			s->cseq++;
			r[n++] = *s;
		}
		sub_remove_at(m, i);
	}
	pthread_mutex_unlock(&m->lock);
	*out = r;
	return n;
}

size_t
mwi_body(const char *aor, const struct mwi_counts *c, char *buf, size_t cap)
{
	int n = snprintf(buf, cap,
	    "Messages-Waiting: %s\r\n"
	    "Message-Account: sip:%s\r\n"
	    "Voice-Message: %u/%u (%u/%u)\r\n",
	    c->new_msgs > 0 ? "yes" : "no", aor, c->new_msgs, c->old_msgs,
	    c->urgent_new, c->urgent_old);

	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}
