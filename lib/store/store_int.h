/*
 * Store internals shared by the queue (store.c), the writer thread (writer.c) and the
 * SQLite layer (db.c). Only lib/store/ includes this header.
 */
#ifndef STEER_STORE_STORE_INT_H
#define STEER_STORE_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

#define STORE_STR_MAX       512   /* bytes kept of each string of a record */
#define STORE_LOG_EVERY_MS  10000 /* at most one error line per kind per 10 s */
#define STORE_PRUNE_PASS_MS 60000 /* a full prune pass starts at most once a minute */
#define STORE_BUSY_MS       1000  /* SQLite busy_timeout */
#define STORE_FREE_FLUSH_MS 2000  /* how long steer_store_free() waits for the last batch */
#define STORE_DAY_MS        86400000LL

enum store_rec_kind {
	STORE_REC_PROBE,
	STORE_REC_ORIGIN,
	STORE_REC_POOL,
	STORE_REC_BALANCER,
	STORE_REC_OVERRIDE,
	STORE_REC_PIN,
	STORE_REC_XFR,
};

/* String fields of a record, in the order they are packed into store_rec.buf. */
enum store_field {
	STORE_F_POOL,
	STORE_F_NAME, /* origin name, or balancer name (pins) */
	STORE_F_ADDRESS,
	STORE_F_FROM,
	STORE_F_TO, /* the new state: transitions, and overrides */
	STORE_F_REASON,
	STORE_F_SOURCE, /* overrides: "api", "expired" */
	STORE_F_N,
};

/** A zone version (STORE_REC_XFR): texts of any length, in the record's allocation. */
struct store_xfr {
	uint32_t serial;
	uint32_t from_serial;
	uint32_t keep; /* journal rows kept */
	bool has_diff;
	const char *zone;
	const char *deleted;
	const char *added;
};

/** One queued record: a private copy of the caller's strings, in one allocation. */
struct store_rec {
	struct store_rec *next;
	enum store_rec_kind kind;
	int64_t time_ms;
	bool ok;
	uint32_t rtt_ms;
	int http_status;
	int64_t until_ms;            /* overrides: end of the window, 0 = none */
	const char *s[STORE_F_N];    /* point into buf, or NULL where the caller gave NULL */
	const struct store_xfr *xfr; /* STORE_REC_XFR: points into buf */
	char buf[];
};

enum store_stmt {
	STORE_STMT_BEGIN,
	STORE_STMT_COMMIT,
	STORE_STMT_ROLLBACK,
	STORE_STMT_ORIGIN_GET,
	STORE_STMT_ORIGIN_ADD,
	STORE_STMT_ORIGIN_SEEN,
	STORE_STMT_PROBE,
	STORE_STMT_T_ORIGIN,
	STORE_STMT_T_POOL,
	STORE_STMT_T_BALANCER,
	STORE_STMT_OVERRIDE_SET,
	STORE_STMT_OVERRIDE_DEL,
	STORE_STMT_OVERRIDE_LOG,
	STORE_STMT_PIN_SET,
	STORE_STMT_PIN_DEL,
	STORE_STMT_XFR_STATE,
	STORE_STMT_XFR_DIFF,
	STORE_STMT_XFR_TRIM,
	STORE_STMT_PRUNE,
	STORE_STMT_N,
};

/** The writer's connection. Used by the writer thread only. */
struct store_db {
	const char *path; /* borrowed from the store */
	sqlite3 *db;      /* NULL while closed */
	sqlite3_stmt *stmt[STORE_STMT_N];
	int version;      /* schema version after the last open */
	bool checked;     /* PRAGMA quick_check passed since start (or since corruption) */
	bool corrupt;     /* the last error was SQLITE_CORRUPT / SQLITE_NOTADB */
	char errmsg[384]; /* the last error, for the log */
};

/**
 * The store. Fields above the marker are shared and protected by @c mu; the rest belong
 * to the writer thread.
 */
struct steer_store {
	struct steer_store_opts opts; /* defaults applied; opts.path points to path */
	char *path;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* writer: an urgent record, a flush request, or stop */
	pthread_cond_t done; /* flush waiters: a batch tick finished */

	struct store_rec *head, *tail;          /* probes, written every flush_ms */
	struct store_rec *urgent, *urgent_tail; /* everything else, written at once */
	size_t n_queued;                        /* both lists plus the records being written */
	size_t n_urgent;                        /* records in the urgent list */
	uint64_t ticks_started;                 /* batch ticks begun (they take both lists) */
	uint64_t ticks_done;                    /* batch ticks finished (committed or dropped) */
	bool flush_req;
	bool stop;
	uint64_t queue_drops; /* queue-full drops not yet logged */
	struct steer_store_stats stats;

	/* writer thread only */
	struct store_db db;
	bool opened_once;
	bool recovering;        /* a failure since the last successful commit */
	int64_t next_open_ms;   /* monotonic */
	int64_t next_prune_ms;  /* monotonic; start of the next prune pass */
	bool pruning;           /* a pass is under way: one batch per tick */
	int64_t next_db_log_ms; /* rate limit of database error lines */
	int64_t next_q_log_ms;  /* rate limit of queue-full lines */
	uint64_t db_drops;      /* records dropped by database errors, not yet logged */
	uint64_t db_suppressed; /* database errors not logged since the last line */
};

/** Free a list of records (NULL-safe). */
void store_rec_free_list(struct store_rec *r);

/** The writer thread's entry point; @p arg is the struct steer_store. */
void *store_writer_main(void *arg);

/**
 * Open (or create) the database at d->path: pragmas, quick_check, migrations, prepared
 * statements. A corrupt file is renamed aside and a fresh database created.
 * @return 0 or STEER_EDB with d->errmsg set (the database is closed then).
 */
int store_db_open(struct store_db *d, int64_t wall_ms);

/** Finalize the statements and close the connection (idempotent). */
void store_db_close(struct store_db *d);

/**
 * Is the open file still the file at d->path, and writable? Catches a database that was
 * deleted, renamed or replaced (SQLite would go on writing to the old inode).
 * @return 0 or STEER_EDB with d->errmsg set.
 */
int store_db_check_file(struct store_db *d);

/** Write @p list in one transaction. @return 0 or STEER_EDB (rolled back, errmsg set). */
int store_db_write(struct store_db *d, const struct store_rec *list);

/**
 * Delete at most @p limit probe rows older than @p cutoff_ms.
 * @param deleted  Receives the number of rows deleted.
 * @return 0 or STEER_EDB with d->errmsg set.
 */
int store_db_prune(struct store_db *d, int64_t cutoff_ms, uint32_t limit, uint32_t *deleted);

/**
 * Is @p path, if it exists, a regular file (after symbolic links)? SQLite would open a
 * FIFO and wait in open(2) or read(2) for a writer that never comes; a directory or a
 * device is no database either.
 * @return 0 for a regular file or a missing path (or one stat(2) cannot check: SQLite
 *         reports that); STEER_EDB with "not a regular file (<kind>)" in @p msg.
 * Context: any thread; one stat(2).
 */
int store_check_regular(const char *path, char *msg, size_t size);

/** Number of schema migrations, i.e. the schema version this code writes. */
int store_db_schema_version(void);

#endif
