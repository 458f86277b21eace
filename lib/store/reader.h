/*
 * Read-only access to the store's history for the HTTP API: the probes of one origin, an
 * origin's probes summed up in time buckets (the status page's timelines) and the merged
 * event log (origin, pool and balancer transitions, overrides). A reader has
 * its own read-only SQLite connection, opened lazily and reopened after an error; WAL
 * lets it read while the writer thread writes. It never creates the file.
 */
#ifndef STEER_STORE_READER_H
#define STEER_STORE_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct steer_store_reader;

/** One probe row. Strings are borrowed for the duration of the callback only. */
struct steer_store_probe_row {
	int64_t time_ms; /* wall clock, Unix milliseconds */
	const char *address;
	bool ok;
	int64_t rtt_ms;
	int http_status;
	const char *reason; /* "" when none was recorded */
};

/** Kinds of rows in the event log. */
enum steer_store_event_kind {
	STEER_STORE_EVENT_ORIGIN,
	STEER_STORE_EVENT_POOL,
	STEER_STORE_EVENT_BALANCER,
	STEER_STORE_EVENT_OVERRIDE,
};

/**
 * One event. Fields that do not apply to the kind are NULL (strings) or has_until false.
 * Strings are borrowed for the duration of the callback only.
 */
struct steer_store_event_row {
	int64_t time_ms;
	enum steer_store_event_kind kind;
	const char *balancer; /* balancer transitions */
	const char *pool;     /* origin and pool transitions, overrides */
	const char *origin;   /* origin transitions; overrides of one origin */
	const char *address;  /* origin transitions */
	const char *from;     /* transitions; NULL for the first state and for overrides */
	const char *to;       /* new state; for overrides "drain", "down", "up" or "auto" */
	const char *reason;   /* "" when none was recorded */
	bool has_until;       /* overrides with an end */
	int64_t until_ms;
	const char *source; /* overrides: "api" or "expired"; NULL otherwise */
};

/** One time bucket of an origin's probes (steer_store_reader_timeline()). */
struct steer_store_bucket {
	uint32_t probes;    /* probes in the bucket; 0: no data */
	uint32_t ok;        /* successful probes among them */
	int64_t rtt_avg_ms; /* mean round-trip time of the successful probes; -1: none */
	int64_t rtt_max_ms; /* largest round-trip time of a successful probe; -1: none */
};

/**
 * Called once per row, newest first.
 * @return 0 to go on, or a negative code that stops the query and is returned by it.
 */
typedef int steer_store_probe_row_fn(void *arg, const struct steer_store_probe_row *row);
/** As steer_store_probe_row_fn, for event rows. */
typedef int steer_store_event_row_fn(void *arg, const struct steer_store_event_row *row);

/**
 * Make a reader of the database at @p path. Nothing is opened yet: the connection is
 * opened by the first query, on the thread that runs the queries.
 * @param path  Database file (copied).
 * @param out   Receives the reader (close with steer_store_reader_close()).
 * @return 0 or STEER_ENOMEM.
 * Context: any thread; one reader is used by one thread at a time.
 */
STEER_MUSTCHECK int steer_store_reader_open(const char *path, struct steer_store_reader **out,
					    struct steer_err *err);

/**
 * Probes of origin @p origin of pool @p pool (every address), newest first.
 * A missing database file or table gives no rows (return 0); names never seen give none.
 * @param since_ms  Only rows with time_ms >= since_ms (INT64_MIN: no lower bound).
 * @param limit     At most this many rows (> 0).
 * @param fn        Called per row, with @p arg.
 * @return Rows passed to @p fn (>= 0), STEER_EDB (message in @p err; the connection is
 *         closed and reopened by the next call), or the negative code @p fn returned.
 * Context: the reader's thread; blocks at most about a second on a locked database.
 */
STEER_MUSTCHECK int steer_store_reader_probes(struct steer_store_reader *r, const char *pool,
					      const char *origin, int64_t since_ms, uint32_t limit,
					      steer_store_probe_row_fn *fn, void *arg,
					      struct steer_err *err);

/**
 * The event log merged over origin_transitions, pool_transitions, balancer_transitions
 * and (when the table exists) override_log, newest first. Arguments, return values and
 * context as steer_store_reader_probes().
 */
STEER_MUSTCHECK int steer_store_reader_events(struct steer_store_reader *r, int64_t since_ms,
					      uint32_t limit, steer_store_event_row_fn *fn,
					      void *arg, struct steer_err *err);

/**
 * The probes of origin @p origin at @p address in pool @p pool, summed up in @p n buckets
 * of @p bucket_ms each: bucket i covers [from_ms + i * bucket_ms, from_ms + (i + 1) *
 * bucket_ms). One aggregate query over the probes_origin_time index (no row is passed
 * to the caller), so its cost grows with the probes in the range, not with the table.
 * A missing database file or table, or an origin never recorded, gives empty buckets.
 * @param bucket_ms  Length of a bucket (> 0).
 * @param n          Buckets in @p out (> 0; from_ms + n * bucket_ms must not overflow).
 * @param out        Caller-owned array of @p n buckets, overwritten (empty ones zeroed,
 *                   with RTTs -1).
 * @return Number of buckets holding probes (>= 0), or STEER_EDB (message in @p err; the
 *         connection is closed and reopened by the next call).
 * Context: the reader's thread; blocks at most about a second on a locked database.
 */
STEER_MUSTCHECK int steer_store_reader_timeline(struct steer_store_reader *r, const char *pool,
						const char *origin, const char *address,
						int64_t from_ms, int64_t bucket_ms, uint32_t n,
						struct steer_store_bucket *out,
						struct steer_err *err);

/** Close the connection and free the reader (NULL-safe). Context: the reader's thread. */
void steer_store_reader_close(struct steer_store_reader *r);

#endif
