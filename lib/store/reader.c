/*
 * The API's read-only view of the store: a lazily opened SQLITE_OPEN_READONLY connection
 * (never creates the file), the probes of one origin, one origin's probes summed up per
 * time bucket, and the event log merged over the transition tables and override_log. Tables are
 * looked up per query, so a database created or migrated after the reader opened is read as it is
 * now.
 */
#include "store/reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#define READER_BUSY_MS 1000
#define SQL_MAX        2048

/* Tables the queries read, as bits of a mask. */
enum {
	T_ORIGINS = 1,
	T_PROBES = 2,
	T_ORIGIN_TR = 4,
	T_POOL_TR = 8,
	T_BALANCER_TR = 16,
	T_OVERRIDE = 32,
};

static const char *const table_name[] = {
	"origins",     "probes", "origin_transitions", "pool_transitions", "balancer_transitions",
	"override_log"};

/* One arm of the event query per table: the columns of struct steer_store_event_row. */
static const char *const event_arm[] = {
	NULL,
	NULL,
	"SELECT time_ms, 0 AS kind, NULL AS balancer, pool, origin, address, from_state,"
	" to_state, reason, NULL AS until_ms, NULL AS source, id FROM origin_transitions",
	"SELECT time_ms, 1, NULL, pool, NULL, NULL, from_state, to_state, reason, NULL, NULL,"
	" id FROM pool_transitions",
	"SELECT time_ms, 2, balancer, NULL, NULL, NULL, from_state, to_state, reason, NULL,"
	" NULL, id FROM balancer_transitions",
	"SELECT time_ms, 3, NULL, pool, origin, NULL, NULL, state, reason, until_ms, source, id"
	" FROM override_log",
};

static const char probes_sql[] =
	"SELECT p.time_ms, o.address, p.ok, p.rtt_ms, p.http_status, p.reason"
	" FROM probes p JOIN origins o ON o.id = p.origin_id"
	" WHERE o.pool = ?1 AND o.name = ?2 AND p.time_ms >= ?3"
	" ORDER BY p.time_ms DESC, p.id DESC LIMIT ?4";

/*
 * One origin's probes per bucket. The origin is looked up once (UNIQUE (pool, name,
 * address)) so that the probes are read by range on probes_origin_time (origin_id,
 * time_ms); only the successful probes count for the RTTs (a failure's time is often
 * the timeout).
 */
static const char timeline_sql[] =
	"SELECT (time_ms - ?4) / ?5, count(*), sum(ok != 0),"
	" avg(CASE WHEN ok != 0 THEN rtt_ms END), max(CASE WHEN ok != 0 THEN rtt_ms END)"
	" FROM probes"
	" WHERE origin_id = (SELECT id FROM origins WHERE pool = ?1 AND name = ?2 AND address = ?3)"
	" AND time_ms >= ?4 AND time_ms < ?6"
	" GROUP BY 1";

struct steer_store_reader {
	char *path;
	sqlite3 *db; /* NULL: not open (yet, or after an error, or no file) */
};

int steer_store_reader_open(const char *path, struct steer_store_reader **out,
			    struct steer_err *err)
{
	struct steer_store_reader *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->path = strdup(path)) == NULL) {
		free(r);
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void steer_store_reader_close(struct steer_store_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_close_v2(r->db);
	free(r->path);
	free(r);
}

static int fail(struct steer_store_reader *r, struct steer_err *err, const char *stage)
{
	steer_err_set(err, STEER_EDB, "%s %s: %s", stage, r->path,
		      r->db != NULL ? sqlite3_errmsg(r->db) : "cannot open");
	sqlite3_close_v2(r->db); /* reopened by the next query */
	r->db = NULL;
	return STEER_EDB;
}

/* Open the connection if needed. @return 0 (r->db may stay NULL: no file) or STEER_EDB. */
static int reader_connect(struct steer_store_reader *r, struct steer_err *err)
{
	const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
	int moved = 0;
	char ebuf[128];
	struct stat sb;

	/* the writer renames a corrupt file aside and starts a new one: follow it */
	if (r->db != NULL &&
	    sqlite3_file_control(r->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
	    moved != 0) {
		sqlite3_close_v2(r->db);
		r->db = NULL;
	}
	if (r->db != NULL)
		return 0;
	if (stat(r->path, &sb) != 0) {
		if (errno == ENOENT)
			return 0; /* no history yet */
		return steer_err_set(err, STEER_EDB, "open %s: %s", r->path,
				     steer_errno_str(errno, ebuf, sizeof(ebuf)));
	}
	if (sqlite3_open_v2(r->path, &r->db, flags, NULL) != SQLITE_OK)
		return fail(r, err, "open");
	sqlite3_extended_result_codes(r->db, 1);
	sqlite3_busy_timeout(r->db, READER_BUSY_MS);
	return 0;
}

/* The tables that exist, as a mask of T_*. @return the mask (>= 0) or STEER_EDB. */
static int tables(struct steer_store_reader *r, struct steer_err *err)
{
	static const char sql[] = "SELECT name FROM sqlite_master WHERE type = 'table'";
	sqlite3_stmt *s = NULL;
	int mask = 0;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	while (rc == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		for (size_t i = 0; name != NULL && i < sizeof(table_name) / sizeof(*table_name);
		     i++)
			if (strcmp(name, table_name[i]) == 0)
				mask |= 1 << i;
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? mask : fail(r, err, "read");
}

/* Connect and look up the tables. @return the mask (0: no file or no tables) or STEER_EDB. */
static int prepare_read(struct steer_store_reader *r, struct steer_err *err)
{
	const int rc = reader_connect(r, err);

	if (rc < 0)
		return rc;
	return r->db != NULL ? tables(r, err) : 0;
}

static const char *text_or(sqlite3_stmt *s, int col, const char *dflt)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t != NULL ? (const char *)t : dflt;
}

/* Step @p s to the end, calling @p row per row. @return rows, STEER_EDB or @p row's code. */
static int run(struct steer_store_reader *r, sqlite3_stmt *s, int (*row)(sqlite3_stmt *, void *),
	       void *ctx, struct steer_err *err)
{
	int n = 0;
	int rc = sqlite3_step(s);

	while (rc == SQLITE_ROW) {
		const int frc = row(s, ctx);

		if (frc < 0) {
			sqlite3_finalize(s);
			return frc;
		}
		n++;
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? n : fail(r, err, "read");
}

struct probe_ctx {
	steer_store_probe_row_fn *fn;
	void *arg;
};

static int probe_row(sqlite3_stmt *s, void *ctx)
{
	const struct probe_ctx *pc = ctx;
	const struct steer_store_probe_row row = {
		.time_ms = sqlite3_column_int64(s, 0),
		.address = text_or(s, 1, ""),
		.ok = sqlite3_column_int(s, 2) != 0,
		.rtt_ms = sqlite3_column_int64(s, 3),
		.http_status = sqlite3_column_int(s, 4),
		.reason = text_or(s, 5, ""),
	};

	return pc->fn(pc->arg, &row);
}

int steer_store_reader_probes(struct steer_store_reader *r, const char *pool, const char *origin,
			      int64_t since_ms, uint32_t limit, steer_store_probe_row_fn *fn,
			      void *arg, struct steer_err *err)
{
	struct probe_ctx pc = {.fn = fn, .arg = arg};
	sqlite3_stmt *s = NULL;
	const int mask = prepare_read(r, err);

	if (mask < 0)
		return mask;
	if ((mask & (T_ORIGINS | T_PROBES)) != (T_ORIGINS | T_PROBES))
		return 0;
	if (sqlite3_prepare_v2(r->db, probes_sql, -1, &s, NULL) != SQLITE_OK)
		return fail(r, err, "read");
	sqlite3_bind_text(s, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, since_ms);
	sqlite3_bind_int64(s, 4, limit);
	return run(r, s, probe_row, &pc, err);
}

/*
 * The event query over the tables in @p mask: each arm is cut to the newest @p limit rows
 * on its own, then merged (columns by position: the arms name them differently). Ties: origin,
 * pool, balancer, override, so that an override is listed after (older than) the transition it
 * caused.
 */
static int events_sql(int mask, char *sql, size_t size)
{
	size_t len = (size_t)snprintf(sql, size, "SELECT * FROM (");
	bool first = true;

	for (size_t i = 2; i < sizeof(event_arm) / sizeof(*event_arm); i++) {
		if ((mask & (1 << i)) == 0)
			continue;
		len += (size_t)snprintf(sql + len, size - len,
					"%sSELECT * FROM (%s WHERE time_ms >= ?1"
					" ORDER BY time_ms DESC, id DESC LIMIT ?2)",
					first ? "" : " UNION ALL ", event_arm[i]);
		first = false;
		if (len >= size)
			return -1;
	}
	len += (size_t)snprintf(sql + len, size - len,
				") ORDER BY 1 DESC, 2 ASC, 12 DESC LIMIT ?2");
	return first || len >= size ? -1 : 0;
}

struct event_ctx {
	steer_store_event_row_fn *fn;
	void *arg;
};

static int event_row(sqlite3_stmt *s, void *ctx)
{
	const struct event_ctx *ec = ctx;
	const int kind = sqlite3_column_int(s, 1);
	struct steer_store_event_row row = {
		.time_ms = sqlite3_column_int64(s, 0),
		.kind = kind >= 0 && kind <= 3 ? (enum steer_store_event_kind)kind
					       : STEER_STORE_EVENT_ORIGIN,
		.balancer = text_or(s, 2, NULL),
		.pool = text_or(s, 3, NULL),
		.origin = text_or(s, 4, NULL),
		.address = text_or(s, 5, NULL),
		.from = text_or(s, 6, NULL),
		.to = text_or(s, 7, ""),
		.reason = text_or(s, 8, ""),
		.has_until = sqlite3_column_type(s, 9) != SQLITE_NULL,
		.until_ms = sqlite3_column_int64(s, 9),
		.source = text_or(s, 10, NULL),
	};

	return ec->fn(ec->arg, &row);
}

int steer_store_reader_events(struct steer_store_reader *r, int64_t since_ms, uint32_t limit,
			      steer_store_event_row_fn *fn, void *arg, struct steer_err *err)
{
	struct event_ctx ec = {.fn = fn, .arg = arg};
	sqlite3_stmt *s = NULL;
	char sql[SQL_MAX];
	const int mask = prepare_read(r, err);

	if (mask < 0)
		return mask;
	if (events_sql(mask, sql, sizeof(sql)) < 0)
		return 0; /* none of the tables exists */
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(r, err, "read");
	sqlite3_bind_int64(s, 1, since_ms);
	sqlite3_bind_int64(s, 2, limit);
	return run(r, s, event_row, &ec, err);
}

struct timeline_ctx {
	struct steer_store_bucket *out;
	uint32_t n;
};

static int bucket_row(sqlite3_stmt *s, void *ctx)
{
	const struct timeline_ctx *tc = ctx;
	const int64_t i = sqlite3_column_int64(s, 0);
	struct steer_store_bucket *b;

	if (i < 0 || i >= (int64_t)tc->n)
		return 0; /* the range check in SQL keeps this from happening */
	b = &tc->out[i];
	b->probes = (uint32_t)sqlite3_column_int64(s, 1);
	b->ok = (uint32_t)sqlite3_column_int64(s, 2);
	if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
		b->rtt_avg_ms = (int64_t)(sqlite3_column_double(s, 3) + 0.5);
		b->rtt_max_ms = sqlite3_column_int64(s, 4);
	}
	return 0;
}

int steer_store_reader_timeline(struct steer_store_reader *r, const char *pool, const char *origin,
				const char *address, int64_t from_ms, int64_t bucket_ms, uint32_t n,
				struct steer_store_bucket *out, struct steer_err *err)
{
	struct timeline_ctx tc = {.out = out, .n = n};
	sqlite3_stmt *s = NULL;
	int mask;

	for (uint32_t i = 0; i < n; i++)
		out[i] = (struct steer_store_bucket){.rtt_avg_ms = -1, .rtt_max_ms = -1};
	mask = prepare_read(r, err);
	if (mask < 0)
		return mask;
	if ((mask & (T_ORIGINS | T_PROBES)) != (T_ORIGINS | T_PROBES))
		return 0;
	if (sqlite3_prepare_v2(r->db, timeline_sql, -1, &s, NULL) != SQLITE_OK)
		return fail(r, err, "read");
	sqlite3_bind_text(s, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, from_ms);
	sqlite3_bind_int64(s, 5, bucket_ms);
	sqlite3_bind_int64(s, 6, from_ms + (int64_t)n * bucket_ms);
	return run(r, s, bucket_row, &tc, err);
}
