/*
 * Start-up restore: a separate read-only connection, on the caller's thread, reads the
 * latest origin transition of every (pool, origin, address). It never creates the file
 * and never writes, so it can run before (or alongside) the writer thread.
 */
#include <errno.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

static const char restore_sql[] =
	"SELECT pool, origin, address, to_state, time_ms FROM ("
	" SELECT pool, origin, address, to_state, time_ms, row_number() OVER ("
	"  PARTITION BY pool, origin, address ORDER BY time_ms DESC, id DESC) AS rn"
	" FROM origin_transitions)"
	" WHERE rn = 1 ORDER BY pool, origin, address";

static const char *text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? (const char *)t : "";
}

/* Schema version of the open database, or a negative SQLite code. */
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int(s, 0);
	else
		rc = rc == SQLITE_OK ? -SQLITE_ERROR : -rc;
	sqlite3_finalize(s);
	return rc;
}

static int query(sqlite3 *db, const char *path, steer_store_restore_fn *fn, void *arg,
		 struct steer_err *err)
{
	sqlite3_stmt *s = NULL;
	int n = 0;
	int rc = sqlite3_prepare_v2(db, restore_sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	while (rc == SQLITE_ROW) {
		fn(arg, text(s, 0), text(s, 1), text(s, 2), text(s, 3), sqlite3_column_int64(s, 4));
		n++;
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE)
		n = steer_err_set(err, STEER_EDB, "restore %s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return n;
}

int steer_store_restore(const char *path, steer_store_restore_fn *fn, void *arg,
			struct steer_err *err)
{
	char ebuf[128];
	struct stat sb;
	sqlite3 *db = NULL;
	int rc;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0; /* first start: nothing to restore, and nothing created */
		return steer_err_set(err, STEER_EDB, "restore %s: %s", path,
				     steer_errno_str(errno, ebuf, sizeof(ebuf)));
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = steer_err_set(err, STEER_EDB, "restore %s: %s", path,
				   db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	rc = user_version(db);
	if (rc < 0) {
		rc = steer_err_set(err, STEER_EDB, "restore %s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (rc == 0)
		goto out; /* an empty database: no schema yet, nothing to restore */
	rc = query(db, path, fn, arg, err);
out:
	sqlite3_close_v2(db);
	return rc;
}
