/*
 * Start-up restore: a separate read-only connection, on the caller's thread, reads the
 * last known state (origin and pool health, overrides in force, failback pins). It never
 * creates the file and never writes, so it can run before (or alongside) the writer
 * thread, also on a file whose schema the writer has not migrated yet.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

/* The caller's callback and argument, for the row adapters below. */
struct sink {
	void *arg;
	union {
		steer_store_restore_fn *origin;
		steer_store_override_fn *override;
		steer_store_pin_fn *pin;
		steer_store_pool_fn *pool;
		steer_store_xfr_state_fn *xfr_state;
		steer_store_xfr_diff_fn *xfr_diff;
	} fn;
};

/* Hands one result row of a restore query to the caller's callback. */
typedef void row_fn(const struct sink *k, sqlite3_stmt *s);

static const char *text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? (const char *)t : "";
}

static void origin_row(const struct sink *k, sqlite3_stmt *s)
{
	k->fn.origin(k->arg, text(s, 0), text(s, 1), text(s, 2), text(s, 3),
		     sqlite3_column_int64(s, 4));
}

static void override_row(const struct sink *k, sqlite3_stmt *s)
{
	const char *origin = text(s, 1);
	const struct steer_store_override o = {
		.time_ms = sqlite3_column_int64(s, 4),
		.pool = text(s, 0),
		.origin = origin[0] != '\0' ? origin : NULL, /* '' is the whole pool */
		.state = text(s, 2),
		.reason = text(s, 3),
		.until_ms = sqlite3_column_int64(s, 5), /* NULL (no end) reads as 0 */
		.source = "restore",
	};

	k->fn.override(k->arg, &o);
}

static void pin_row(const struct sink *k, sqlite3_stmt *s)
{
	k->fn.pin(k->arg, text(s, 0), text(s, 1), sqlite3_column_int64(s, 2));
}

static void pool_row(const struct sink *k, sqlite3_stmt *s)
{
	k->fn.pool(k->arg, text(s, 0), strcmp(text(s, 1), "healthy") == 0,
		   sqlite3_column_int64(s, 2));
}

static void xfr_state_row(const struct sink *k, sqlite3_stmt *s)
{
	k->fn.xfr_state(k->arg, (uint32_t)sqlite3_column_int64(s, 0), text(s, 1));
}

static void xfr_diff_row(const struct sink *k, sqlite3_stmt *s)
{
	k->fn.xfr_diff(k->arg, (uint32_t)sqlite3_column_int64(s, 0),
		       (uint32_t)sqlite3_column_int64(s, 1), text(s, 2), text(s, 3));
}

/* The latest row (by time_ms, then id) of each @p key of the transition table @p table. */
#define LATEST(cols, key, table)                                                                   \
	"SELECT " cols " FROM (SELECT " cols ", row_number() OVER (PARTITION BY " key              \
	" ORDER BY time_ms DESC, id DESC) AS rn FROM " table ") WHERE rn = 1 ORDER BY " key

/* What one public restore function reads. */
struct restore_query {
	const char *table; /* absent from the schema: nothing to restore */
	const char *sql;
	row_fn *row;
};

static const struct restore_query q_origins = {
	"origin_transitions",
	LATEST("pool, origin, address, to_state, time_ms", "pool, origin, address",
	       "origin_transitions"),
	origin_row,
};

static const struct restore_query q_pools = {
	"pool_transitions",
	LATEST("pool, to_state, time_ms", "pool", "pool_transitions"),
	pool_row,
};

static const struct restore_query q_overrides = {
	"overrides",
	"SELECT pool, origin, state, reason, since_ms, until_ms FROM overrides"
	" ORDER BY pool, origin",
	override_row,
};

static const struct restore_query q_pins = {
	"failback_pins",
	"SELECT balancer, pool, since_ms FROM failback_pins ORDER BY balancer",
	pin_row,
};

static const struct restore_query q_xfr_state = {
	"xfr_state",
	"SELECT serial, zone FROM xfr_state WHERE id = 1",
	xfr_state_row,
};

static const struct restore_query q_xfr_diffs = {
	"xfr_journal",
	"SELECT from_serial, serial, deleted, added FROM xfr_journal ORDER BY id",
	xfr_diff_row,
};

static int db_error(struct steer_err *err, const char *path, sqlite3 *db, int rc)
{
	return steer_err_set(err, STEER_EDB, "restore %s: %s", path,
			     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/*
 * Open @p path read-only into @p out (closed by the caller, also on failure).
 * @return 1 when open, 0 when there is no file (nothing to restore, nothing created),
 *         or STEER_EDB with @p err set.
 */
static int open_ro(const char *path, sqlite3 **out, struct steer_err *err)
{
	char ebuf[128];
	struct stat sb;
	int rc;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0; /* first start */
		return steer_err_set(err, STEER_EDB, "restore %s: %s", path,
				     steer_errno_str(errno, ebuf, sizeof(ebuf)));
	}
	/* before SQLite opens it: opening a FIFO for reading waits for a writer, forever */
	if (store_check_regular(path, ebuf, sizeof(ebuf)) < 0)
		return steer_err_set(err, STEER_EDB, "restore %s: %s", path, ebuf);
	rc = sqlite3_open_v2(path, out, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK)
		return db_error(err, path, *out, rc);
	sqlite3_busy_timeout(*out, STORE_BUSY_MS);
	return 1;
}

/* Is @p table in the schema? An empty file has no schema: false. Garbage: an error.
 * @return 1, 0, or STEER_EDB with @p err set. */
static int has_table(sqlite3 *db, const char *path, const char *table, struct steer_err *err)
{
	static const char sql[] = "SELECT count(*) FROM sqlite_master"
				  " WHERE type = 'table' AND name = ?1";
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
	}
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int(s, 0) > 0 ? 1 : 0;
	else
		rc = db_error(err, path, db, rc);
	sqlite3_finalize(s);
	return rc;
}

static int run_query(sqlite3 *db, const char *path, const struct restore_query *q,
		     const struct sink *k, struct steer_err *err)
{
	sqlite3_stmt *s = NULL;
	int n = 0;
	int rc = sqlite3_prepare_v2(db, q->sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	while (rc == SQLITE_ROW) {
		q->row(k, s);
		n++;
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE)
		n = db_error(err, path, db, rc);
	sqlite3_finalize(s);
	return n;
}

/* Open, check the table, run the query. @return rows delivered, or STEER_EDB. */
static int restore(const char *path, const struct restore_query *q, const struct sink *k,
		   struct steer_err *err)
{
	sqlite3 *db = NULL;
	int rc = open_ro(path, &db, err);

	if (rc > 0)
		rc = has_table(db, path, q->table, err);
	if (rc > 0)
		rc = run_query(db, path, q, k, err);
	sqlite3_close_v2(db);
	return rc;
}

int steer_store_restore(const char *path, steer_store_restore_fn *fn, void *arg,
			struct steer_err *err)
{
	const struct sink k = {.arg = arg, .fn.origin = fn};

	return restore(path, &q_origins, &k, err);
}

int steer_store_restore_overrides(const char *path, steer_store_override_fn *fn, void *arg,
				  struct steer_err *err)
{
	const struct sink k = {.arg = arg, .fn.override = fn};

	return restore(path, &q_overrides, &k, err);
}

int steer_store_restore_pins(const char *path, steer_store_pin_fn *fn, void *arg,
			     struct steer_err *err)
{
	const struct sink k = {.arg = arg, .fn.pin = fn};

	return restore(path, &q_pins, &k, err);
}

int steer_store_restore_pools(const char *path, steer_store_pool_fn *fn, void *arg,
			      struct steer_err *err)
{
	const struct sink k = {.arg = arg, .fn.pool = fn};

	return restore(path, &q_pools, &k, err);
}

int steer_store_restore_xfr(const char *path, steer_store_xfr_state_fn *state,
			    steer_store_xfr_diff_fn *diff, void *arg, struct steer_err *err)
{
	const struct sink ks = {.arg = arg, .fn.xfr_state = state};
	const struct sink kd = {.arg = arg, .fn.xfr_diff = diff};
	int n = restore(path, &q_xfr_state, &ks, err);
	int m;

	if (n <= 0)
		return n; /* no version: a journal without one is of no use */
	m = restore(path, &q_xfr_diffs, &kd, err);
	return m < 0 ? m : n + m;
}
