/*
 * store_sqlite.c: the registrar's default store, one SQLite file.  It owns
 * the database connection and its prepared statements; one thread at a
 * time uses it (the registrar's store writer, writer.c, once loaded), so
 * the connection is opened without SQLite's own mutexes.
 *
 * Durability: WAL journal; with REG_SYNC_FULL every commit is fsync'd
 * before it returns (so a 200 is only sent for bindings on disk; the
 * writer puts every change waiting into one commit), with
 * REG_SYNC_NORMAL a commit is written to the WAL and fsync'd at the next
 * checkpoint (safe when sipd dies, not when the machine does).  The file
 * is created 0600 before SQLite opens it, and an existing one is brought
 * to 0600; SQLite gives its -wal and -shm files the database's mode.
 *
 * A new file gets 2 KiB pages instead of SQLite's 4 KiB: a commit writes
 * each page it changed (a binding's table leaf and its expiry index leaf)
 * to the WAL and checksums it, and that was half of a commit's work;
 * a binding without a long Path still fits in a 2 KiB page's cell.  A
 * file made with other pages keeps them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipd/log.h"
#include "sipd/reg/reg.h"

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT,
	ST_DEL,
	ST_DEL_AOR,
	ST_LOAD,
	ST_PURGE,
	ST_REFRESH,
	ST__COUNT
};

static const char *const st_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT] = "INSERT OR REPLACE INTO binding (aor, contact, expires, "
		   "registered, q, callid, cseq, path, user_agent, proto, "
		   "conn_id, addr, nat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		   "?9, ?10, ?11, ?12, ?13)",
	[ST_DEL] = "DELETE FROM binding WHERE aor = ?1 AND contact = ?2",
	[ST_DEL_AOR] = "DELETE FROM binding WHERE aor = ?1",
	[ST_LOAD] = "SELECT aor, contact, expires, registered, q, callid, "
		    "cseq, path, user_agent, proto, conn_id, addr, nat FROM "
		    "binding ORDER BY registered",
	[ST_PURGE] = "DELETE FROM binding WHERE expires <= ?1",
	[ST_REFRESH] = "UPDATE binding SET expires = ?3, registered = ?4, "
		       "cseq = ?5 WHERE aor = ?1 AND contact = ?2",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS binding ("
    " aor TEXT NOT NULL,"
    " contact TEXT NOT NULL,"
    " expires INTEGER NOT NULL,"
    " registered INTEGER NOT NULL,"
    " q INTEGER NOT NULL,"
    " callid TEXT NOT NULL,"
    " cseq INTEGER NOT NULL,"
    " path TEXT,"
    " user_agent TEXT,"
    " proto INTEGER NOT NULL,"
    " conn_id INTEGER NOT NULL,"
    " addr BLOB,"
    " nat INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (aor, contact)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS binding_expires ON binding (expires);"
    "PRAGMA user_version = 1;";

/* The column nat (a client behind a remote NAT) came later: a file
 * without it gets it, its bindings counted as not behind one.  Asked of
 * the table itself, not of user_version, so that a file another version
 * of sipd opened meanwhile is still read right. */
static const char add_nat[] =
    "ALTER TABLE binding ADD COLUMN nat INTEGER NOT NULL DEFAULT 0";

struct reg_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
};

/* SQLite result codes as errnos, for the registrar's logs and answers. */
static int
sq_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EILSEQ;
	default:
		return -EIO;
	}
}

/* Run a statement that returns no rows, then reset it. */
static int
step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : sq_err(rc == SQLITE_ROW ? SQLITE_ERROR :
						    rc);
}

static void
sq_close(struct reg_store *st)
{
	if (st == NULL) {
		return;
	}
	for (int i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(st->st[i]);
	}
	sqlite3_close(st->db);
	free(st);
}

/* Create the file 0600 (or bring an existing one to 0600). */
static int
make_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
	}
	close(fd);
	return rc;
}

/* Bring a file an older sipd wrote to this one's columns. */
static int
sq_upgrade(sqlite3 *db, char **msg)
{
	sqlite3_stmt *s = NULL;
	bool has_nat = false;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA table_info(binding)", -1, &s,
	    NULL);
	while (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 1);

		if (name != NULL && strcmp((const char *)name, "nat") == 0) {
			has_nat = true;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK || has_nat) {
		return rc;
	}
	return sqlite3_exec(db, add_nat, NULL, NULL, msg);
}

static int
sq_open(const char *where, const struct reg_settings *set,
    struct reg_store **out)
{
	struct reg_store *st = calloc(1, sizeof(*st));
	char *msg = NULL;
	int rc;

	*out = NULL;
	if (st == NULL) {
		return -ENOMEM;
	}
	if ((rc = make_private(where)) < 0) {
		goto fail;
	}
	rc = sqlite3_open_v2(where, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		rc = sq_err(rc);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 2000);
	rc = sqlite3_exec(st->db, set->sync == REG_SYNC_NORMAL ?
	    "PRAGMA page_size = 2048; "
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;" :
	    "PRAGMA page_size = 2048; "
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
	    NULL, NULL, &msg);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(st->db, schema, NULL, NULL, &msg);
	}
	if (rc == SQLITE_OK) {
		rc = sq_upgrade(st->db, &msg);
	}
	if (rc != SQLITE_OK) {
		log_err(LOG_SERVER, "registrar, sqlite %s (%s)", where,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		rc = sq_err(rc);
		goto fail;
	}
	for (int i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, st_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->st[i], NULL);
		if (rc != SQLITE_OK) {
			log_err(LOG_SERVER, "registrar, sqlite %s (%s)", where,
			    sqlite3_errmsg(st->db));
			rc = sq_err(rc);
			goto fail;
		}
	}
	*out = st;
	return 0;
fail:
	sq_close(st);
	return rc < 0 ? rc : -EIO;
}

static int
sq_begin(struct reg_store *st)
{
	return step_done(st->st[ST_BEGIN]);
}

static int
sq_commit(struct reg_store *st)
{
	return step_done(st->st[ST_COMMIT]);
}

static int
sq_rollback(struct reg_store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		return 0; /* SQLite rolled back already (an I/O error) */
	}
	return step_done(st->st[ST_ROLLBACK]);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL) {
		return sqlite3_bind_null(s, i);
	}
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
sq_put(struct reg_store *st, const struct reg_binding *b)
{
	sqlite3_stmt *s = st->st[ST_PUT];
	int rc = SQLITE_OK;

	rc |= bind_text(s, 1, b->aor);
	rc |= bind_text(s, 2, b->contact);
	rc |= sqlite3_bind_int64(s, 3, (sqlite3_int64)b->expires);
	rc |= sqlite3_bind_int64(s, 4, (sqlite3_int64)b->registered);
	rc |= sqlite3_bind_int(s, 5, b->q);
	rc |= bind_text(s, 6, b->callid);
	rc |= sqlite3_bind_int64(s, 7, b->cseq);
	rc |= bind_text(s, 8, b->path);
	rc |= bind_text(s, 9, b->user_agent);
	rc |= sqlite3_bind_int(s, 10, b->proto);
	rc |= sqlite3_bind_int64(s, 11, (sqlite3_int64)b->conn_id);
	rc |= sqlite3_bind_blob(s, 12, &b->addr, (int)b->addrlen,
	    SQLITE_STATIC);
	rc |= sqlite3_bind_int(s, 13, b->nat ? 1 : 0);
	if (rc != SQLITE_OK) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -EIO;
	}
	return step_done(s);
}

/*
 * A refresh (RFC 3261 10.3 step 7: the same contact, Call-ID and the rest,
 * a later CSeq) updates three columns in place: no new row, no text
 * written again.  A row the file lacks is written whole.
 */
static int
sq_refresh(struct reg_store *st, const struct reg_binding *b)
{
	sqlite3_stmt *s = st->st[ST_REFRESH];
	int rc = SQLITE_OK;

	rc |= bind_text(s, 1, b->aor);
	rc |= bind_text(s, 2, b->contact);
	rc |= sqlite3_bind_int64(s, 3, (sqlite3_int64)b->expires);
	rc |= sqlite3_bind_int64(s, 4, (sqlite3_int64)b->registered);
	rc |= sqlite3_bind_int64(s, 5, b->cseq);
	if (rc != SQLITE_OK) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -EIO;
	}
	if ((rc = step_done(s)) < 0) {
		return rc;
	}
	return sqlite3_changes(st->db) > 0 ? 0 : sq_put(st, b);
}

static int
sq_del(struct reg_store *st, const char *aor, const char *contact)
{
	sqlite3_stmt *s = st->st[ST_DEL];

	if (bind_text(s, 1, aor) != SQLITE_OK ||
	    bind_text(s, 2, contact) != SQLITE_OK) {
		sqlite3_clear_bindings(s);
		return -EIO;
	}
	return step_done(s);
}

static int
sq_del_aor(struct reg_store *st, const char *aor)
{
	sqlite3_stmt *s = st->st[ST_DEL_AOR];

	if (bind_text(s, 1, aor) != SQLITE_OK) {
		return -EIO;
	}
	return step_done(s);
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int
sq_load(struct reg_store *st, reg_load_fn *fn, void *arg)
{
	sqlite3_stmt *s = st->st[ST_LOAD];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct reg_binding b;
		const void *addr;
		int alen;

		memset(&b, 0, sizeof(b));
		b.aor = col_text(s, 0);
		b.contact = col_text(s, 1);
		b.expires = (time_t)sqlite3_column_int64(s, 2);
		b.registered = (time_t)sqlite3_column_int64(s, 3);
		b.q = (uint16_t)sqlite3_column_int(s, 4);
		b.callid = col_text(s, 5);
		b.cseq = (uint32_t)sqlite3_column_int64(s, 6);
		b.path = col_text(s, 7);
		b.user_agent = col_text(s, 8);
		b.proto = sqlite3_column_int(s, 9);
		b.conn_id = (uint64_t)sqlite3_column_int64(s, 10);
		b.nat = sqlite3_column_int(s, 12) != 0;
		addr = sqlite3_column_blob(s, 11);
		alen = sqlite3_column_bytes(s, 11);
		if (addr != NULL && alen > 0 &&
		    (size_t)alen <= sizeof(b.addr)) {
			memcpy(&b.addr, addr, (size_t)alen);
			b.addrlen = (socklen_t)alen;
		}
		if (b.aor == NULL || b.contact == NULL || b.callid == NULL ||
		    b.q > 1000) {
			continue;
		}
		if (fn(arg, &b) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sq_err(rc);
}

static int
sq_purge(struct reg_store *st, time_t now)
{
	sqlite3_stmt *s = st->st[ST_PURGE];
	int rc;

	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)now) != SQLITE_OK) {
		return -EIO;
	}
	/* a statement outside BEGIN is its own transaction */
	rc = step_done(s);
	return rc < 0 ? rc : sqlite3_changes(st->db);
}

const struct reg_store_ops reg_store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.put = sq_put,
	.del = sq_del,
	.del_aor = sq_del_aor,
	.load = sq_load,
	.purge = sq_purge,
	.refresh = sq_refresh,
};
