/*
 * The writer's SQLite connection: open with WAL pragmas, integrity check, schema
 * migrations (PRAGMA user_version), prepared statements reused for every batch, the
 * batch transaction and the prune step. A corrupt file is renamed aside, never repaired.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define STEER_LOG_SRC "store"
#include "core/log.h"

/* Migration N (1-based) brings the schema from version N-1 to N; append, never edit. */
static const char *const migrations[] = {
	/* 1: everything */
	"CREATE TABLE origins ("
	" id INTEGER PRIMARY KEY,"
	" pool TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" first_seen_ms INTEGER NOT NULL,"
	" UNIQUE (pool, name, address));"
	"CREATE TABLE probes ("
	" id INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id),"
	" ok INTEGER NOT NULL,"
	" rtt_ms INTEGER NOT NULL,"
	" http_status INTEGER NOT NULL,"
	" reason TEXT);"
	"CREATE INDEX probes_time ON probes (time_ms);"
	"CREATE INDEX probes_origin_time ON probes (origin_id, time_ms);"
	"CREATE TABLE origin_transitions ("
	" id INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id),"
	" pool TEXT NOT NULL,"
	" origin TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" from_state TEXT,"
	" to_state TEXT NOT NULL,"
	" reason TEXT);"
	"CREATE INDEX origin_transitions_origin"
	" ON origin_transitions (pool, origin, address, time_ms);"
	"CREATE TABLE pool_transitions ("
	" id INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" pool TEXT NOT NULL,"
	" from_state TEXT,"
	" to_state TEXT NOT NULL,"
	" reason TEXT);"
	"CREATE INDEX pool_transitions_time ON pool_transitions (time_ms);"
	"CREATE TABLE balancer_transitions ("
	" id INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" balancer TEXT NOT NULL,"
	" from_state TEXT,"
	" to_state TEXT NOT NULL,"
	" reason TEXT);"
	"CREATE INDEX balancer_transitions_time ON balancer_transitions (time_ms);",
	/* 2: admin overrides (in force, and their history), failback pins */
	"CREATE TABLE overrides ("
	" pool TEXT NOT NULL,"
	" origin TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '',"
	" since_ms INTEGER NOT NULL,"
	" until_ms INTEGER,"
	" PRIMARY KEY (pool, origin));"
	"CREATE TABLE override_log ("
	" id INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" pool TEXT NOT NULL,"
	" origin TEXT,"
	" state TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '',"
	" until_ms INTEGER,"
	" source TEXT NOT NULL);"
	"CREATE INDEX override_log_time ON override_log (time_ms);"
	/* GET /v1/events reads transitions newest first by time */
	"CREATE INDEX origin_transitions_time ON origin_transitions (time_ms);"
	"CREATE TABLE failback_pins ("
	" balancer TEXT PRIMARY KEY,"
	" pool TEXT NOT NULL,"
	" since_ms INTEGER NOT NULL);",
	/* 3: the notification outbox (outbox.c) and each target's position in it */
	"CREATE TABLE notify_outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL,"
	" kind INTEGER NOT NULL,"
	" target TEXT,"
	" body TEXT NOT NULL);"
	"CREATE TABLE notify_targets ("
	" name TEXT PRIMARY KEY,"
	" delivered_id INTEGER NOT NULL,"
	" sending_id INTEGER);",
	/* 4: zone transfers: the current zone version and the IXFR journal (zone-file text) */
	"CREATE TABLE xfr_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" serial INTEGER NOT NULL,"
	" time_ms INTEGER NOT NULL,"
	" zone TEXT NOT NULL);"
	"CREATE TABLE xfr_journal ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL,"
	" from_serial INTEGER NOT NULL,"
	" serial INTEGER NOT NULL,"
	" deleted TEXT NOT NULL,"
	" added TEXT NOT NULL);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[STORE_STMT_N] = {
	[STORE_STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STORE_STMT_COMMIT] = "COMMIT",
	[STORE_STMT_ROLLBACK] = "ROLLBACK",
	[STORE_STMT_ORIGIN_GET] = "SELECT id, first_seen_ms FROM origins WHERE pool = ?1"
				  " AND name = ?2 AND address = ?3",
	[STORE_STMT_ORIGIN_ADD] = "INSERT INTO origins (pool, name, address, first_seen_ms)"
				  " VALUES (?1, ?2, ?3, ?4)",
	[STORE_STMT_ORIGIN_SEEN] = "UPDATE origins SET first_seen_ms = ?2 WHERE id = ?1",
	[STORE_STMT_PROBE] = "INSERT INTO probes (time_ms, origin_id, ok, rtt_ms, http_status,"
			     " reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STORE_STMT_T_ORIGIN] = "INSERT INTO origin_transitions (time_ms, origin_id, pool,"
				" origin, address, from_state, to_state, reason)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[STORE_STMT_T_POOL] = "INSERT INTO pool_transitions (time_ms, pool, from_state,"
			      " to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STORE_STMT_T_BALANCER] = "INSERT INTO balancer_transitions (time_ms, balancer,"
				  " from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STORE_STMT_OVERRIDE_SET] = "INSERT OR REPLACE INTO overrides (pool, origin, state, reason,"
				    " since_ms, until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STORE_STMT_OVERRIDE_DEL] = "DELETE FROM overrides WHERE pool = ?1 AND origin = ?2",
	[STORE_STMT_OVERRIDE_LOG] = "INSERT INTO override_log (time_ms, pool, origin, state,"
				    " reason, until_ms, source)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* the same pool again keeps since_ms: the pin has held since then */
	[STORE_STMT_PIN_SET] = "INSERT INTO failback_pins (balancer, pool, since_ms)"
			       " VALUES (?1, ?2, ?3) ON CONFLICT (balancer) DO UPDATE"
			       " SET pool = excluded.pool, since_ms = excluded.since_ms"
			       " WHERE failback_pins.pool <> excluded.pool",
	[STORE_STMT_PIN_DEL] = "DELETE FROM failback_pins WHERE balancer = ?1",
	[STORE_STMT_XFR_STATE] = "INSERT OR REPLACE INTO xfr_state (id, serial, time_ms, zone)"
				 " VALUES (1, ?1, ?2, ?3)",
	[STORE_STMT_XFR_DIFF] = "INSERT INTO xfr_journal (time_ms, from_serial, serial, deleted,"
				" added) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* the journal keeps the newest ?1 rows */
	[STORE_STMT_XFR_TRIM] = "DELETE FROM xfr_journal WHERE id <="
				" (SELECT max(id) FROM xfr_journal) - ?1",
	[STORE_STMT_PRUNE] = "DELETE FROM probes WHERE id IN"
			     " (SELECT id FROM probes WHERE time_ms < ?1 LIMIT ?2)",
};

int store_db_schema_version(void)
{
	return N_MIGRATIONS;
}

static bool is_corrupt_code(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* Record SQLite's message for @p rc (with errno for I/O errors). @return STEER_EDB. */
static int db_fail(struct store_db *d, const char *stage, int rc)
{
	const char *msg = d->db != NULL ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc);
	int sys = d->db != NULL ? sqlite3_system_errno(d->db) : 0;
	const int prim = rc & 0xff;
	char ebuf[128];

	if (sys != 0 && (prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN || prim == SQLITE_FULL))
		snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s (%s)", stage, msg,
			 steer_errno_str(sys, ebuf, sizeof(ebuf)));
	else
		snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s", stage, msg);
	d->corrupt = is_corrupt_code(rc);
	return STEER_EDB;
}

static int db_exec(struct store_db *d, const char *stage, const char *sql)
{
	const int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(d, stage, rc);
}

/* Run @p sql, which returns one row; its first column goes to @p ival and/or @p text. */
static int db_row(struct store_db *d, const char *sql, int *ival, char *text, size_t size)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(d->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = db_fail(d, sql, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
		goto out;
	}
	if (ival != NULL)
		*ival = sqlite3_column_int(s, 0);
	if (text != NULL) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(text, size, "%s", t != NULL ? (const char *)t : "");
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

void store_db_close(struct store_db *d)
{
	for (int i = 0; i < STORE_STMT_N; i++) {
		sqlite3_finalize(d->stmt[i]);
		d->stmt[i] = NULL;
	}
	/* close_v2: never leaves the handle open even if something was left unfinalized */
	sqlite3_close_v2(d->db);
	d->db = NULL;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "fifo";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "special file";
}

int store_check_regular(const char *path, char *msg, size_t size)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
		return 0;
	snprintf(msg, size, "not a regular file (%s)", file_kind(sb.st_mode));
	return STEER_EDB;
}

static int db_connect(struct store_db *d)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	char why[64];
	int rc;

	/* checked first: the open below would never return for a FIFO */
	if (strcmp(d->path, ":memory:") != 0 &&
	    store_check_regular(d->path, why, sizeof(why)) < 0) {
		snprintf(d->errmsg, sizeof(d->errmsg), "open: %s", why);
		d->corrupt = false; /* not ours to move aside */
		return STEER_EDB;
	}
	rc = sqlite3_open_v2(d->path, &d->db, flags, NULL);
	if (rc != SQLITE_OK)
		return db_fail(d, "open", rc);
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, STORE_BUSY_MS);
	/* SQLite silently opens a file it may not write read-only; for us that is an error */
	if (sqlite3_db_readonly(d->db, "main") == 1) {
		snprintf(d->errmsg, sizeof(d->errmsg), "open: database file is read-only");
		d->corrupt = false;
		return STEER_EDB;
	}
	return 0;
}

/* false for ":memory:" (and other databases without a file, e.g. in component tests) */
static bool has_file(struct store_db *d)
{
	const char *name = sqlite3_db_filename(d->db, "main");

	return name != NULL && name[0] != '\0';
}

static int set_pragmas(struct store_db *d)
{
	char mode[16];
	int rc;

	rc = db_row(d, "PRAGMA journal_mode=WAL", NULL, mode, sizeof(mode));
	if (rc < 0)
		return rc;
	if (strcmp(mode, "wal") != 0 && has_file(d))
		log_warn("database path=%s journal_mode=%s (WAL not available)", d->path, mode);
	rc = db_exec(d, "pragma", "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
	if (rc < 0 || d->checked)
		return rc;
	/* once per process (and after corruption): quick_check reads the whole file */
	rc = db_row(d, "PRAGMA quick_check(1)", NULL, mode, sizeof(mode));
	if (rc < 0)
		return rc;
	if (strcmp(mode, "ok") != 0) {
		snprintf(d->errmsg, sizeof(d->errmsg), "quick_check: %s", mode);
		d->corrupt = true;
		return STEER_EDB;
	}
	d->checked = true;
	return 0;
}

/* Apply the missing migrations in one transaction; user_version is read inside it so
 * that two processes opening the same new file do not both create the tables. */
static int migrate(struct store_db *d)
{
	char sql[64];
	int from = 0;
	int rc;

	rc = db_row(d, "PRAGMA user_version", &from, NULL, 0);
	if (rc < 0 || from == N_MIGRATIONS)
		goto out;
	rc = db_exec(d, "migrate", "BEGIN IMMEDIATE");
	if (rc == 0)
		rc = db_row(d, "PRAGMA user_version", &from, NULL, 0);
	if (rc == 0 && (from < 0 || from > N_MIGRATIONS)) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "schema version %d is not one this steerd knows (1..%d)", from,
			 N_MIGRATIONS);
		d->corrupt = false;
		rc = STEER_EDB;
	}
	for (int v = from; rc == 0 && v < N_MIGRATIONS; v++)
		rc = db_exec(d, "migrate", migrations[v]);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
	if (rc == 0)
		rc = db_exec(d, "migrate", sql);
	if (rc == 0)
		rc = db_exec(d, "migrate", "COMMIT");
	if (rc < 0 && sqlite3_get_autocommit(d->db) == 0)
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc == 0 && from < N_MIGRATIONS)
		log_info("database path=%s schema migrated from=%d to=%d", d->path, from,
			 N_MIGRATIONS);
out:
	d->version = rc == 0 ? N_MIGRATIONS : from;
	return rc;
}

static int prepare_all(struct store_db *d)
{
	for (int i = 0; i < STORE_STMT_N; i++) {
		const int rc = sqlite3_prepare_v3(d->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
						  &d->stmt[i], NULL);

		if (rc != SQLITE_OK)
			return db_fail(d, "prepare", rc);
	}
	return 0;
}

static int open_once(struct store_db *d)
{
	int rc;

	d->corrupt = false;
	rc = db_connect(d);
	if (rc == 0)
		rc = set_pragmas(d);
	if (rc == 0)
		rc = migrate(d);
	if (rc == 0)
		rc = prepare_all(d);
	if (rc < 0)
		store_db_close(d);
	return rc;
}

/* Rename the corrupt database and its companions to <path>.corrupt-<unix_ms>[suffix]. */
static int move_aside(struct store_db *d, int64_t wall_ms)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char from[4096], to[4096], ebuf[128];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		int n = snprintf(from, sizeof(from), "%s%s", d->path, suffix[i]);
		int m = snprintf(to, sizeof(to), "%s.corrupt-%" PRId64 "%s", d->path, wall_ms,
				 suffix[i]);

		if (n < 0 || m < 0 || (size_t)n >= sizeof(from) || (size_t)m >= sizeof(to)) {
			snprintf(d->errmsg, sizeof(d->errmsg), "corrupt, path too long to rename");
			return STEER_EDB;
		}
		if (rename(from, to) != 0 && (i == 0 || errno != ENOENT)) {
			/* reported through errmsg: the caller's log line is rate-limited */
			char why[192];

			snprintf(why, sizeof(why), "%.191s", d->errmsg);
			steer_errno_str(errno, ebuf, sizeof(ebuf));
			snprintf(d->errmsg, sizeof(d->errmsg), "%s; cannot rename it aside: %s",
				 why, ebuf);
			return STEER_EDB;
		}
	}
	log_err("database corrupt path=%s error=\"%s\" moved aside to %s.corrupt-%" PRId64
		", creating a new database",
		d->path, d->errmsg, d->path, wall_ms);
	return 0;
}

int store_db_open(struct store_db *d, int64_t wall_ms)
{
	int rc = open_once(d);

	if (rc < 0 && d->corrupt) {
		rc = move_aside(d, wall_ms);
		if (rc == 0)
			rc = open_once(d);
	}
	return rc;
}

int store_db_check_file(struct store_db *d)
{
	char ebuf[128];
	int moved = 0;

	d->corrupt = false;
	if (!has_file(d))
		return 0;
	if (sqlite3_file_control(d->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
	    moved != 0) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "check: the database file was deleted, renamed or replaced");
		return STEER_EDB;
	}
	/* an open descriptor stays writable after chmod; notice it before the data is lost */
	if (access(d->path, W_OK) != 0) {
		snprintf(d->errmsg, sizeof(d->errmsg), "check: file not writable: %s",
			 steer_errno_str(errno, ebuf, sizeof(ebuf)));
		return STEER_EDB;
	}
	return 0;
}

/* Step a write statement of the batch to completion and reset it. */
static int step_done(struct store_db *d, enum store_stmt k, const char *stage)
{
	sqlite3_stmt *s = d->stmt[k];
	const int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		db_fail(d, stage, rc);
		sqlite3_reset(s);
		return STEER_EDB;
	}
	sqlite3_reset(s);
	return 0;
}

/* Bind a column that may not be NULL: a NULL string from the caller becomes "". */
static void bind_req(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v != NULL ? v : "", -1, SQLITE_STATIC);
}

/* Move the origin's first_seen_ms back to @p time_ms: transitions are written at once,
 * the probes queued before them only with the next batch. */
static int origin_seen(struct store_db *d, sqlite3_int64 id, int64_t time_ms)
{
	sqlite3_stmt *s = d->stmt[STORE_STMT_ORIGIN_SEEN];

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, time_ms);
	return step_done(d, STORE_STMT_ORIGIN_SEEN, "write");
}

/* The id of the origin (pool, name, address), added on first sight. */
static int origin_id(struct store_db *d, const struct store_rec *r, sqlite3_int64 *id)
{
	sqlite3_stmt *get = d->stmt[STORE_STMT_ORIGIN_GET];
	sqlite3_stmt *add = d->stmt[STORE_STMT_ORIGIN_ADD];
	int64_t first_ms = 0;
	int rc;

	for (int i = 0; i < 3; i++) {
		bind_req(get, i + 1, r->s[STORE_F_POOL + i]);
		bind_req(add, i + 1, r->s[STORE_F_POOL + i]);
	}
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(get, 0);
		first_ms = sqlite3_column_int64(get, 1);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(d, "write", rc);
	sqlite3_reset(get);
	if (rc == SQLITE_ROW)
		return r->time_ms < first_ms ? origin_seen(d, *id, r->time_ms) : 0;
	if (rc != SQLITE_DONE)
		return STEER_EDB;
	sqlite3_bind_int64(add, 4, r->time_ms);
	if (step_done(d, STORE_STMT_ORIGIN_ADD, "write") < 0)
		return STEER_EDB;
	*id = sqlite3_last_insert_rowid(d->db);
	return 0;
}

static int write_probe(struct store_db *d, const struct store_rec *r)
{
	sqlite3_stmt *s = d->stmt[STORE_STMT_PROBE];
	sqlite3_int64 id = 0;

	if (origin_id(d, r, &id) < 0)
		return STEER_EDB;
	sqlite3_bind_int64(s, 1, r->time_ms);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_int(s, 3, r->ok ? 1 : 0);
	sqlite3_bind_int64(s, 4, r->rtt_ms);
	sqlite3_bind_int(s, 5, r->http_status);
	sqlite3_bind_text(s, 6, r->s[STORE_F_REASON], -1, SQLITE_STATIC);
	return step_done(d, STORE_STMT_PROBE, "write");
}

static int write_origin_transition(struct store_db *d, const struct store_rec *r)
{
	sqlite3_stmt *s = d->stmt[STORE_STMT_T_ORIGIN];
	sqlite3_int64 id = 0;

	if (origin_id(d, r, &id) < 0)
		return STEER_EDB;
	sqlite3_bind_int64(s, 1, r->time_ms);
	sqlite3_bind_int64(s, 2, id);
	bind_req(s, 3, r->s[STORE_F_POOL]);
	bind_req(s, 4, r->s[STORE_F_NAME]);
	bind_req(s, 5, r->s[STORE_F_ADDRESS]);
	sqlite3_bind_text(s, 6, r->s[STORE_F_FROM], -1, SQLITE_STATIC);
	bind_req(s, 7, r->s[STORE_F_TO]);
	sqlite3_bind_text(s, 8, r->s[STORE_F_REASON], -1, SQLITE_STATIC);
	return step_done(d, STORE_STMT_T_ORIGIN, "write");
}

/* Pool and balancer transitions share a shape: (time, name, from, to, reason). */
static int write_named_transition(struct store_db *d, const struct store_rec *r)
{
	const bool pool = r->kind == STORE_REC_POOL;
	const enum store_stmt k = pool ? STORE_STMT_T_POOL : STORE_STMT_T_BALANCER;
	sqlite3_stmt *s = d->stmt[k];

	sqlite3_bind_int64(s, 1, r->time_ms);
	bind_req(s, 2, r->s[pool ? STORE_F_POOL : STORE_F_NAME]);
	sqlite3_bind_text(s, 3, r->s[STORE_F_FROM], -1, SQLITE_STATIC);
	bind_req(s, 4, r->s[STORE_F_TO]);
	sqlite3_bind_text(s, 5, r->s[STORE_F_REASON], -1, SQLITE_STATIC);
	return step_done(d, k, "write");
}

/* A window's end: 0 (no end) is stored as NULL. */
static void bind_until(sqlite3_stmt *s, int i, int64_t until_ms)
{
	if (until_ms > 0)
		sqlite3_bind_int64(s, i, until_ms);
	else
		sqlite3_bind_null(s, i);
}

/* Upsert (or for "auto" delete) the override in force, then log the change. */
static int write_override(struct store_db *d, const struct store_rec *r)
{
	const bool clear = strcmp(r->s[STORE_F_TO], "auto") == 0;
	const enum store_stmt k = clear ? STORE_STMT_OVERRIDE_DEL : STORE_STMT_OVERRIDE_SET;
	sqlite3_stmt *s = d->stmt[k];
	sqlite3_stmt *log = d->stmt[STORE_STMT_OVERRIDE_LOG];

	bind_req(s, 1, r->s[STORE_F_POOL]);
	bind_req(s, 2, r->s[STORE_F_NAME]); /* '' is the whole pool's row */
	if (!clear) {
		bind_req(s, 3, r->s[STORE_F_TO]);
		bind_req(s, 4, r->s[STORE_F_REASON]);
		sqlite3_bind_int64(s, 5, r->time_ms);
		bind_until(s, 6, r->until_ms);
	}
	if (step_done(d, k, "write") < 0)
		return STEER_EDB;
	sqlite3_bind_int64(log, 1, r->time_ms);
	bind_req(log, 2, r->s[STORE_F_POOL]);
	sqlite3_bind_text(log, 3, r->s[STORE_F_NAME], -1, SQLITE_STATIC); /* NULL: whole pool */
	bind_req(log, 4, r->s[STORE_F_TO]);
	bind_req(log, 5, r->s[STORE_F_REASON]);
	bind_until(log, 6, r->until_ms);
	bind_req(log, 7, r->s[STORE_F_SOURCE]);
	return step_done(d, STORE_STMT_OVERRIDE_LOG, "write");
}

/* Set the balancer's pin, or delete it when the record has no pool. */
static int write_pin(struct store_db *d, const struct store_rec *r)
{
	const bool clear = r->s[STORE_F_POOL] == NULL;
	const enum store_stmt k = clear ? STORE_STMT_PIN_DEL : STORE_STMT_PIN_SET;
	sqlite3_stmt *s = d->stmt[k];

	bind_req(s, 1, r->s[STORE_F_NAME]);
	if (!clear) {
		bind_req(s, 2, r->s[STORE_F_POOL]);
		sqlite3_bind_int64(s, 3, r->time_ms);
	}
	return step_done(d, k, "write");
}

/* A zone version: replace the state row, append its diff, trim the journal. */
static int write_xfr(struct store_db *d, const struct store_rec *r)
{
	const struct store_xfr *x = r->xfr;
	sqlite3_stmt *s = d->stmt[STORE_STMT_XFR_STATE];
	int rc;

	sqlite3_bind_int64(s, 1, x->serial);
	sqlite3_bind_int64(s, 2, r->time_ms);
	sqlite3_bind_text(s, 3, x->zone, -1, SQLITE_STATIC);
	rc = step_done(d, STORE_STMT_XFR_STATE, "write");
	if (rc == 0 && x->has_diff) {
		s = d->stmt[STORE_STMT_XFR_DIFF];
		sqlite3_bind_int64(s, 1, r->time_ms);
		sqlite3_bind_int64(s, 2, x->from_serial);
		sqlite3_bind_int64(s, 3, x->serial);
		sqlite3_bind_text(s, 4, x->deleted, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, x->added, -1, SQLITE_STATIC);
		rc = step_done(d, STORE_STMT_XFR_DIFF, "write");
	}
	if (rc == 0) {
		sqlite3_bind_int64(d->stmt[STORE_STMT_XFR_TRIM], 1, x->keep);
		rc = step_done(d, STORE_STMT_XFR_TRIM, "write");
	}
	return rc;
}

static int write_rec(struct store_db *d, const struct store_rec *r)
{
	switch (r->kind) {
	case STORE_REC_XFR:
		return write_xfr(d, r);
	case STORE_REC_PROBE:
		return write_probe(d, r);
	case STORE_REC_ORIGIN:
		return write_origin_transition(d, r);
	case STORE_REC_OVERRIDE:
		return write_override(d, r);
	case STORE_REC_PIN:
		return write_pin(d, r);
	default:
		return write_named_transition(d, r);
	}
}

int store_db_write(struct store_db *d, const struct store_rec *list)
{
	int rc = step_done(d, STORE_STMT_BEGIN, "begin");

	for (const struct store_rec *r = list; rc == 0 && r != NULL; r = r->next)
		rc = write_rec(d, r);
	if (rc == 0)
		rc = step_done(d, STORE_STMT_COMMIT, "commit");
	if (rc < 0 && sqlite3_get_autocommit(d->db) == 0) {
		/* keep the first error in errmsg: the connection is closed after this anyway */
		sqlite3_step(d->stmt[STORE_STMT_ROLLBACK]);
		sqlite3_reset(d->stmt[STORE_STMT_ROLLBACK]);
	}
	return rc;
}

int store_db_prune(struct store_db *d, int64_t cutoff_ms, uint32_t limit, uint32_t *deleted)
{
	sqlite3_stmt *s = d->stmt[STORE_STMT_PRUNE];
	int rc;

	sqlite3_bind_int64(s, 1, cutoff_ms);
	sqlite3_bind_int64(s, 2, limit);
	rc = step_done(d, STORE_STMT_PRUNE, "prune");
	*deleted = rc == 0 ? (uint32_t)sqlite3_changes(d->db) : 0;
	return rc;
}
