/*
 * The health store: SQLite (WAL) on its own writer thread. Other threads hand it records
 * through a bounded queue and never touch SQLite themselves; if the database cannot be
 * opened or written, records are dropped with a loud (rate-limited) error and the writer
 * keeps retrying, while DNS and probing go on with health in memory.
 */
#ifndef STEER_STORE_STORE_H
#define STEER_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/thread.h"

struct steer_store;

/** A wall clock: milliseconds since the Unix epoch. Called on the writer thread. */
typedef int64_t steer_store_clock_fn(void *arg);

/** Options; zero values take the defaults in brackets. */
struct steer_store_opts {
	const char *path;              /* database file (required) */
	uint32_t retention_days;       /* probe rows older than this are pruned [7] */
	uint32_t queue_cap;            /* records waiting to be written [65536] */
	uint32_t flush_ms;             /* probe batch interval [200] */
	uint32_t retry_ms;             /* reopen interval after an error [2000] */
	uint32_t prune_batch;          /* rows deleted per prune step [1000] */
	steer_store_clock_fn *wall_ms; /* prune cut-off clock (tests) [CLOCK_REALTIME] */
	void *wall_arg;                /* argument of wall_ms */
	const struct steer_cpus *cpus; /* CPUs of the writer thread; unusable ones: any [any] */
};

/** One probe, as recorded (strings are copied into the queue). */
struct steer_store_probe {
	int64_t time_ms;
	const char *pool;
	const char *origin;
	const char *address;
	bool ok;
	uint32_t rtt_ms;
	int http_status;
	const char *reason;
};

enum steer_store_kind {
	STEER_STORE_ORIGIN,   /* pool + origin name */
	STEER_STORE_POOL,     /* pool name; states "healthy"/"unhealthy" */
	STEER_STORE_BALANCER, /* balancer name; states are pool names or "fallback:<pool>" */
};

/** A state change, as recorded. */
struct steer_store_transition {
	int64_t time_ms;
	enum steer_store_kind kind;
	const char *pool;    /* origin and pool transitions */
	const char *name;    /* origin name, or balancer name; NULL for pool transitions */
	const char *address; /* origin transitions */
	const char *from;
	const char *to;
	const char *reason;
};

/**
 * Start the writer thread. Never fails because of the database: opening happens on the
 * writer thread and is retried. @return 0 or STEER_ENOMEM / thread errors.
 * @param out  Receives the store (stop and free with steer_store_free()).
 */
STEER_MUSTCHECK int steer_store_new(const struct steer_store_opts *opts, struct steer_store **out);

/**
 * Queue a probe / a transition. Non-blocking; callable from any thread. Probes are written
 * in batches every flush_ms; a transition wakes the writer, which commits it at once in a
 * transaction of its own, so it survives a crash of the process that follows within
 * milliseconds (not a power loss: commits are not synced one by one).
 * @return true if queued, false if the queue is full (the record is dropped and counted).
 */
bool steer_store_put_probe(struct steer_store *st, const struct steer_store_probe *p);
bool steer_store_put_transition(struct steer_store *st, const struct steer_store_transition *t);

/** An admin override of an origin or a whole pool, as recorded (strings are copied). */
struct steer_store_override {
	int64_t time_ms;    /* when it was set or cleared (ms since the Unix epoch) */
	const char *pool;   /* required */
	const char *origin; /* origin name; NULL (or "") = the whole pool */
	const char *state;  /* "drain", "down", "up"; "auto" = the override is cleared */
	const char *reason; /* free text; NULL = "" */
	int64_t until_ms;   /* end of a maintenance window; 0 = no end */
	const char *source; /* "api" or "expired" (NULL = "api"); "restore" when restored */
};

/**
 * Queue an override change. The writer, woken at once like for a transition, upserts the
 * `overrides` row of (pool, origin) (since_ms = @c time_ms), or deletes it for "auto",
 * and appends an `override_log` row. Non-blocking; callable from any thread.
 * @param o  Borrowed for the call.
 * @return true if queued; false if the queue is full (dropped and counted), or if @p o has
 *         no pool or a state other than "drain", "down", "up", "auto" (nothing counted).
 */
bool steer_store_put_override(struct steer_store *st, const struct steer_store_override *o);

/**
 * Queue a failback pin change: @p balancer keeps answering from @p pool until its
 * failback happens (manual failback, failback hold). Setting the pool a balancer is
 * already pinned to keeps the pin's since_ms. Committed at once, like a transition.
 * Non-blocking; callable from any thread.
 * @param balancer  Balancer name (required; copied).
 * @param pool      Pinned pool (copied), or NULL to clear the pin (the row is deleted).
 * @param time_ms   When the pin was set (ms since the Unix epoch).
 * @return true if queued; false if the queue is full (dropped and counted) or
 *         @p balancer is NULL.
 */
bool steer_store_put_pin(struct steer_store *st, const char *balancer, const char *pool,
			 int64_t time_ms);

/** A new zone version for transfers, as recorded (lib/xfr). Texts are zone-file lines. */
struct steer_store_xfr_version {
	int64_t time_ms;      /* when it was made (ms since the Unix epoch) */
	uint32_t serial;      /* its SOA serial */
	uint32_t from_serial; /* the serial of the version it follows (with has_diff) */
	bool has_diff;        /* false: no journal row (the first version, or a restart) */
	const char *zone;     /* the whole version, SOA first (required) */
	const char *deleted;  /* the RRs the diff deletes (without the SOAs) */
	const char *added;    /* the RRs it adds */
	uint32_t keep;        /* the journal keeps the newest @c keep diffs */
};

/**
 * Queue a zone version: the writer replaces the `xfr_state` row (serial and zone text),
 * appends the diff to `xfr_journal` and deletes all but the newest @c keep diffs, in one
 * transaction, at once (like a transition). Non-blocking; callable from any thread.
 * @param v  Borrowed for the call (the texts are copied, whatever their length).
 * @return true if queued; false if the queue is full (dropped and counted) or v->zone is
 *         NULL.
 */
bool steer_store_put_xfr(struct steer_store *st, const struct steer_store_xfr_version *v);

/** Write everything queued so far, probes too, and wait for it (bounded by @p timeout_ms).
 * @return 0 or STEER_EDB if the database is not writable, -ETIMEDOUT on timeout. */
int steer_store_flush(struct steer_store *st, uint32_t timeout_ms);

/** Counters for status and tests. */
struct steer_store_stats {
	uint64_t written; /* records committed */
	uint64_t dropped; /* records lost: queue full or database unwritable */
	uint64_t errors;  /* failed open/write attempts */
	uint64_t queued;  /* records waiting now (the queue's depth, the batch in hand included) */
	bool db_ok;       /* the last open/write succeeded */
};
void steer_store_get_stats(struct steer_store *st, struct steer_store_stats *out);

/** Flush (bounded), stop the thread, close the database, free (NULL-safe). */
void steer_store_free(struct steer_store *st);

/** One origin's last known state, as restored at start. */
typedef void steer_store_restore_fn(void *arg, const char *pool, const char *origin,
				    const char *address, const char *state, int64_t since_ms);

/**
 * Read the last known state of every origin (latest origin transition per pool, origin,
 * address) from @p path, synchronously, on the calling thread (start-up, before the
 * listeners open). A missing database is not an error (nothing to restore).
 * @return number of origins restored (>= 0) or STEER_EDB with @p err set.
 */
int steer_store_restore(const char *path, steer_store_restore_fn *fn, void *arg,
			struct steer_err *err);

/**
 * One override in force, as restored. @p o and its strings are borrowed for the call:
 * o->origin is NULL for a whole-pool override, o->reason is never NULL, o->time_ms is
 * when it was set, o->source is "restore".
 */
typedef void steer_store_override_fn(void *arg, const struct steer_store_override *o);

/**
 * Read every row of the `overrides` table, expired windows too (the caller compares
 * until_ms with its clock), ordered by pool then origin. Same context and rules as
 * steer_store_restore(): a missing database, or one without the table (an older schema
 * not yet migrated), has nothing to restore.
 * @return number of overrides delivered (>= 0) or STEER_EDB with @p err set.
 */
int steer_store_restore_overrides(const char *path, steer_store_override_fn *fn, void *arg,
				  struct steer_err *err);

/** One failback pin, as restored (strings borrowed for the call). */
typedef void steer_store_pin_fn(void *arg, const char *balancer, const char *pool,
				int64_t since_ms);

/**
 * Read every failback pin, ordered by balancer. Same context and rules as
 * steer_store_restore_overrides().
 * @return number of pins delivered (>= 0) or STEER_EDB with @p err set.
 */
int steer_store_restore_pins(const char *path, steer_store_pin_fn *fn, void *arg,
			     struct steer_err *err);

/** One pool's last recorded health: @p healthy since @p since_ms (@p pool borrowed). */
typedef void steer_store_pool_fn(void *arg, const char *pool, bool healthy, int64_t since_ms);

/**
 * Read the latest `pool_transitions` row of every pool (by time_ms, then id), ordered by
 * pool: healthy is whether it went to "healthy", since_ms its time. Pools that never
 * changed state have no row. Same context and rules as steer_store_restore_overrides().
 * @return number of pools delivered (>= 0) or STEER_EDB with @p err set.
 */
int steer_store_restore_pools(const char *path, steer_store_pool_fn *fn, void *arg,
			      struct steer_err *err);

/** The stored zone version: its serial and zone text (borrowed for the call). */
typedef void steer_store_xfr_state_fn(void *arg, uint32_t serial, const char *zone);

/** One stored diff, oldest first (texts borrowed for the call). */
typedef void steer_store_xfr_diff_fn(void *arg, uint32_t from_serial, uint32_t serial,
				     const char *deleted, const char *added);

/**
 * Read the stored zone version (@p state, at most once) and then the journal's diffs,
 * oldest first (@p diff). Same context and rules as steer_store_restore_overrides(): a
 * missing database, or one without the tables, has nothing to restore.
 * @return number of rows delivered (>= 0) or STEER_EDB with @p err set.
 */
int steer_store_restore_xfr(const char *path, steer_store_xfr_state_fn *state,
			    steer_store_xfr_diff_fn *diff, void *arg, struct steer_err *err);

#endif
