/*
 * Unit tests of the health store against real SQLite files in a fresh mkdtemp directory
 * per test: schema, exact round trips, batching, restore, reopen, queue overflow, corrupt
 * and unusable files, retention. The store's thread is real; waits are bounded polls.
 */
#include <dirent.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "testutil.h"

#define DAY_MS 86400000LL
/* Records in these tests carry small fixed times; a retention of 100 years keeps them. */
#define KEEP_ALL 36500
/* The schema version of the tables these tests know; later migrations may add more. */
#define SCHEMA_MIN 2

struct fx {
	char dir[256];
	char path[320];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (steer_test_tmpdir(fx->dir, sizeof(fx->dir), "steer-store") < 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/steerd.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	steer_test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* The first @p max rows of @p sql on the database at @p path: columns joined by '|', rows
 * by '\n', NULL as "NULL"; "" when there is no row. */
static const char *rows(const char *path, const char *sql, int max, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	size_t len = 0;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	for (int r = 0; r < max && sqlite3_step(s) == SQLITE_ROW; r++) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			const unsigned char *t = sqlite3_column_text(s, i);
			const char *sep = i > 0 ? "|" : r > 0 ? "\n" : "";
			int n = snprintf(buf + len, size - len, "%s%s", sep,
					 t != NULL ? (const char *)t : "NULL");

			assert_true(n > 0 && (size_t)n < size - len);
			len += (size_t)n;
		}
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

static const char *row(const char *path, const char *sql, char *buf, size_t size)
{
	return rows(path, sql, 1, buf, size);
}

static long long q_int(const char *path, const char *sql)
{
	char buf[64];

	return strtoll(row(path, sql, buf, sizeof(buf)), NULL, 10);
}

static void q_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(
		sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static struct steer_store *start(const struct steer_store_opts *o)
{
	struct steer_store *st = NULL;

	assert_int_equal(steer_store_new(o, &st), 0);
	assert_non_null(st);
	return st;
}

/* The schema version this code writes: that of a database the store has just created. */
static long long schema_version(const struct fx *fx)
{
	char path[400];
	const struct steer_store_opts o = {.path = path};
	struct steer_store *st;

	snprintf(path, sizeof(path), "%s/fresh-version.db", fx->dir);
	st = start(&o);
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	return q_int(path, "PRAGMA user_version");
}

static bool put(struct steer_store *st, int64_t time_ms, const char *origin, uint32_t rtt_ms)
{
	const struct steer_store_probe p = {
		.time_ms = time_ms,
		.pool = "www",
		.origin = origin,
		.address = "192.0.2.10",
		.ok = true,
		.rtt_ms = rtt_ms,
		.http_status = 200,
		.reason = "HTTP 200",
	};

	return steer_store_put_probe(st, &p);
}

static void put_origin_t(struct steer_store *st, int64_t time_ms, const char *pool,
			 const char *origin, const char *to)
{
	const struct steer_store_transition t = {
		.time_ms = time_ms,
		.kind = STEER_STORE_ORIGIN,
		.pool = pool,
		.name = origin,
		.address = "192.0.2.10",
		.from = "unknown",
		.to = to,
		.reason = "test",
	};

	assert_true(steer_store_put_transition(st, &t));
}

static struct steer_store_stats stats(struct steer_store *st)
{
	struct steer_store_stats s;

	steer_store_get_stats(st, &s);
	return s;
}

/* Flush until the store reports a usable database; bounded by @p ms. */
static bool wait_db_ok(struct steer_store *st, int ms)
{
	const struct timespec pause = {.tv_nsec = 10 * 1000000L};

	for (int waited = 0; waited < ms; waited += 10) {
		if (steer_store_flush(st, 1000) == 0 && stats(st).db_ok)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void test_schema(void **state)
{
	static const char *const tables[] = {"origins",
					     "probes",
					     "origin_transitions",
					     "pool_transitions",
					     "balancer_transitions",
					     "probes_time",
					     "probes_origin_time",
					     "origin_transitions_time",
					     "overrides",
					     "override_log",
					     "override_log_time",
					     "failback_pins"};
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	struct steer_store *st = start(&o);
	char buf[256], sql[256];

	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_true(stats(st).db_ok);
	steer_store_free(st);
	assert_true(q_int(fx->path, "PRAGMA user_version") >= SCHEMA_MIN);
	assert_string_equal(row(fx->path, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
			 tables[i]);
		assert_int_equal(q_int(fx->path, sql), 1);
	}
}

static void test_roundtrip(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	const struct steer_store_probe p = {1700000000123, "www", "web1", "192.0.2.10",
					    false,         42,    503,    "HTTP 503"};
	const struct steer_store_transition t[] = {
		{1700000000200, STEER_STORE_ORIGIN, "www", "web1", "192.0.2.10", "up", "down",
		 "HTTP 503"},
		{1700000000300, STEER_STORE_POOL, "www", NULL, NULL, NULL, "unhealthy", NULL},
		{1700000000400, STEER_STORE_BALANCER, NULL, "api", NULL, "www", "fallback:backup",
		 "no healthy pool"},
	};
	struct steer_store *st = start(&o);
	char buf[512];

	assert_true(steer_store_put_probe(st, &p));
	for (size_t i = 0; i < 3; i++)
		assert_true(steer_store_put_transition(st, &t[i]));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 4);
	assert_int_equal(stats(st).dropped, 0);
	steer_store_free(st);

	assert_string_equal(row(fx->path,
				"SELECT p.time_ms, o.pool, o.name, o.address, o.first_seen_ms,"
				" p.ok, p.rtt_ms, p.http_status, p.reason FROM probes p"
				" JOIN origins o ON o.id = p.origin_id",
				buf, sizeof(buf)),
			    "1700000000123|www|web1|192.0.2.10|1700000000123|0|42|503|HTTP 503");
	assert_string_equal(row(fx->path,
				"SELECT t.time_ms, t.pool, t.origin, t.address, t.from_state,"
				" t.to_state, t.reason, o.name FROM origin_transitions t"
				" JOIN origins o ON o.id = t.origin_id",
				buf, sizeof(buf)),
			    "1700000000200|www|web1|192.0.2.10|up|down|HTTP 503|web1");
	assert_string_equal(row(fx->path, "SELECT * FROM pool_transitions", buf, sizeof(buf)),
			    "1|1700000000300|www|NULL|unhealthy|NULL");
	assert_string_equal(row(fx->path, "SELECT * FROM balancer_transitions", buf, sizeof(buf)),
			    "1|1700000000400|api|www|fallback:backup|no healthy pool");
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origins"), 1);
}

static void test_batch(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {
		.path = fx->path, .retention_days = KEEP_ALL, .flush_ms = 60000};
	struct steer_store *st = start(&o);
	long long rtt_sum = 0;

	for (int i = 0; i < 1000; i++) {
		char origin[16];

		snprintf(origin, sizeof(origin), "web%d", i % 10);
		assert_true(put(st, 1000 + i, origin, (uint32_t)i));
		rtt_sum += i;
	}
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 1000);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 1000);
	assert_int_equal(q_int(fx->path, "SELECT sum(rtt_ms) FROM probes"), rtt_sum);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origins"), 10);
	steer_store_free(st);
}

struct restored {
	int n;
	char line[8][128];
};

static void collect(void *arg, const char *pool, const char *origin, const char *address,
		    const char *state, int64_t since_ms)
{
	struct restored *r = arg;

	assert_true(r->n < 8);
	snprintf(r->line[r->n++], sizeof(r->line[0]), "%s/%s/%s %s %lld", pool, origin, address,
		 state, (long long)since_ms);
}

/* A restore function returned @p got and delivered exactly the @p n lines of @p want. */
static void check_lines(int got, const struct restored *r, const char *const *want, int n)
{
	assert_int_equal(got, n);
	assert_int_equal(r->n, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(r->line[i], want[i]);
}

static void test_restore(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	const struct steer_store_transition pool_t = {400,  STEER_STORE_POOL, "www",       NULL,
						      NULL, "healthy",        "unhealthy", NULL};
	static const char *const want[] = {"api/web1/192.0.2.10 up 10",
					   "www/web1/192.0.2.10 down 300",
					   "www/web2/192.0.2.10 down 50"};
	struct steer_store *st = start(&o);
	struct restored r = {0};
	struct steer_err err = {0};

	put_origin_t(st, 100, "www", "web1", "up");
	put_origin_t(st, 300, "www", "web1", "down");
	put_origin_t(st, 200, "www", "web1", "up"); /* older, though written later */
	put_origin_t(st, 50, "www", "web2", "down");
	put_origin_t(st, 10, "api", "web1", "up");
	assert_true(steer_store_put_transition(st, &pool_t));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);

	check_lines(steer_store_restore(fx->path, collect, &r, &err), &r, want, 3);
}

static void collect_override(void *arg, const struct steer_store_override *o)
{
	struct restored *r = arg;

	assert_true(r->n < 8);
	assert_non_null(o->reason);
	snprintf(r->line[r->n++], sizeof(r->line[0]), "%s/%s %s \"%s\" %lld until=%lld %s", o->pool,
		 o->origin != NULL ? o->origin : "*", o->state, o->reason, (long long)o->time_ms,
		 (long long)o->until_ms, o->source);
}

static void collect_pin(void *arg, const char *balancer, const char *pool, int64_t since_ms)
{
	struct restored *r = arg;

	assert_true(r->n < 8);
	snprintf(r->line[r->n++], sizeof(r->line[0]), "%s->%s %lld", balancer, pool,
		 (long long)since_ms);
}

static void collect_pool(void *arg, const char *pool, bool healthy, int64_t since_ms)
{
	struct restored *r = arg;

	assert_true(r->n < 8);
	snprintf(r->line[r->n++], sizeof(r->line[0]), "%s %s %lld", pool,
		 healthy ? "healthy" : "unhealthy", (long long)since_ms);
}

static void ignore_origin(void *arg, const char *pool, const char *origin, const char *address,
			  const char *st, int64_t since_ms)
{
	(void)arg;
	(void)pool;
	(void)origin;
	(void)address;
	(void)st;
	(void)since_ms;
}

static void ignore_override(void *arg, const struct steer_store_override *o)
{
	(void)arg;
	(void)o;
}

static void ignore_pin(void *arg, const char *balancer, const char *pool, int64_t since_ms)
{
	(void)arg;
	(void)balancer;
	(void)pool;
	(void)since_ms;
}

static void ignore_pool(void *arg, const char *pool, bool healthy, int64_t since_ms)
{
	(void)arg;
	(void)pool;
	(void)healthy;
	(void)since_ms;
}

/* Each restore function alone, without cmocka in its callbacks (for forked children). */
static int restore_origins_only(const char *path, struct steer_err *err)
{
	return steer_store_restore(path, ignore_origin, NULL, err);
}

static int restore_overrides_only(const char *path, struct steer_err *err)
{
	return steer_store_restore_overrides(path, ignore_override, NULL, err);
}

static int restore_pins_only(const char *path, struct steer_err *err)
{
	return steer_store_restore_pins(path, ignore_pin, NULL, err);
}

static int restore_pools_only(const char *path, struct steer_err *err)
{
	return steer_store_restore_pools(path, ignore_pool, NULL, err);
}

/* Every restore function on @p path returns @p want and delivers nothing. */
static void restore_each(const char *path, int want)
{
	struct restored r = {0};
	struct steer_err err = {0};

	assert_int_equal(steer_store_restore(path, collect, &r, &err), want);
	assert_int_equal(steer_store_restore_overrides(path, collect_override, &r, &err), want);
	assert_int_equal(steer_store_restore_pins(path, collect_pin, &r, &err), want);
	assert_int_equal(steer_store_restore_pools(path, collect_pool, &r, &err), want);
	assert_int_equal(r.n, 0);
	if (want < 0) {
		assert_int_equal(err.code, STEER_EDB);
		assert_non_null(strstr(err.msg, path));
	}
}

static void test_restore_missing_and_bad(void **state)
{
	struct fx *fx = *state;
	struct stat sb;
	FILE *f;

	/* missing: nothing restored, nothing created */
	restore_each(fx->path, 0);
	assert_int_equal(stat(fx->path, &sb), -1);
	/* empty file: a database without schema */
	f = fopen(fx->path, "w");
	assert_non_null(f);
	fclose(f);
	restore_each(fx->path, 0);
	/* garbage: an error naming the file */
	f = fopen(fx->path, "w");
	assert_non_null(f);
	for (int i = 0; i < 256; i++)
		fputs("this is not an sqlite database ", f);
	fclose(f);
	restore_each(fx->path, STEER_EDB);
}

static void put_override(struct steer_store *st, int64_t time_ms, const char *pool,
			 const char *origin, const char *state, const char *reason,
			 int64_t until_ms, const char *source)
{
	const struct steer_store_override o = {time_ms, pool,     origin, state,
					       reason,  until_ms, source};

	assert_true(steer_store_put_override(st, &o));
}

static void test_overrides(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	const struct steer_store_override bad_state = {1, "www", NULL, "maybe", NULL, 0, NULL};
	const struct steer_store_override no_pool = {1, NULL, NULL, "down", NULL, 0, NULL};
	static const char *const want[] = {"db/* drain \"window\" 600 until=8000 restore",
					   "www/* down \"\" 200 until=0 restore",
					   "www/web1 down \"broken\" 300 until=0 restore"};
	struct steer_store *st = start(&o);
	struct restored r = {0};
	struct steer_err err = {0};
	char buf[1024];

	put_override(st, 100, "www", "web1", "drain", "maint", 5000, "api");
	put_override(st, 200, "www", NULL, "down", NULL, 0, "api");
	put_override(st, 300, "www", "web1", "down", "broken", 0, "api"); /* replaces 100 */
	put_override(st, 400, "api", "web2", "up", "pinned", 9000, "api");
	put_override(st, 500, "api", "web2", "auto", "done", 0, "api"); /* clears 400 */
	put_override(st, 600, "db", "", "drain", "window", 8000, NULL); /* "" = whole pool */
	put_override(st, 700, "db", "db1", "down", NULL, 0, "api");
	put_override(st, 800, "db", "db1", "auto", NULL, 0, "expired");
	put_override(st, 900, "www", "web9", "auto", NULL, 0, "api"); /* nothing to clear */
	assert_false(steer_store_put_override(st, &bad_state));
	assert_false(steer_store_put_override(st, &no_pool));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 9);
	assert_int_equal(stats(st).dropped, 0);
	steer_store_free(st);

	check_lines(steer_store_restore_overrides(fx->path, collect_override, &r, &err), &r, want,
		    3);
	/* the rows as stored: '' origin for the pool, '' reason, NULL for no end */
	assert_string_equal(rows(fx->path, "SELECT * FROM overrides ORDER BY pool, origin", 8, buf,
				 sizeof(buf)),
			    "db||drain|window|600|8000\n"
			    "www||down||200|NULL\n"
			    "www|web1|down|broken|300|NULL");
	assert_string_equal(
		rows(fx->path, "SELECT * FROM override_log ORDER BY id", 16, buf, sizeof(buf)),
		"1|100|www|web1|drain|maint|5000|api\n"
		"2|200|www|NULL|down||NULL|api\n"
		"3|300|www|web1|down|broken|NULL|api\n"
		"4|400|api|web2|up|pinned|9000|api\n"
		"5|500|api|web2|auto|done|NULL|api\n"
		"6|600|db|NULL|drain|window|8000|api\n"
		"7|700|db|db1|down||NULL|api\n"
		"8|800|db|db1|auto||NULL|expired\n"
		"9|900|www|web9|auto||NULL|api");
}

static void test_pins(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	static const char *const want[] = {"api->homelab 100", "web->backup 400"};
	struct steer_store *st = start(&o);
	struct restored r = {0};
	struct steer_err err = {0};

	assert_true(steer_store_put_pin(st, "api", "homelab", 100));
	assert_true(steer_store_put_pin(st, "web", "parents", 200));
	assert_true(steer_store_put_pin(st, "api", "homelab", 300)); /* same pool: since 100 */
	assert_true(steer_store_put_pin(st, "web", "backup", 400));  /* another pool: since 400 */
	assert_true(steer_store_put_pin(st, "db", "main", 500));
	assert_true(steer_store_put_pin(st, "db", NULL, 600));   /* cleared */
	assert_true(steer_store_put_pin(st, "gone", NULL, 700)); /* nothing to clear */
	assert_false(steer_store_put_pin(st, NULL, "main", 800));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 7);
	steer_store_free(st);

	check_lines(steer_store_restore_pins(fx->path, collect_pin, &r, &err), &r, want, 2);
}

static void put_pool_t(struct steer_store *st, int64_t time_ms, const char *pool, const char *to)
{
	const struct steer_store_transition t = {
		.time_ms = time_ms, .kind = STEER_STORE_POOL, .pool = pool, .to = to};

	assert_true(steer_store_put_transition(st, &t));
}

static void test_restore_pools(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	static const char *const want[] = {"api unhealthy 50", "db unhealthy 10",
					   "www healthy 300"};
	struct steer_store *st = start(&o);
	struct restored r = {0};
	struct steer_err err = {0};

	put_pool_t(st, 100, "www", "unhealthy");
	put_pool_t(st, 300, "www", "healthy");
	put_pool_t(st, 200, "www", "unhealthy"); /* older, though written later */
	put_pool_t(st, 50, "api", "unhealthy");
	put_pool_t(st, 10, "db", "healthy");
	put_pool_t(st, 10, "db", "unhealthy");          /* same time: the later row wins */
	put_origin_t(st, 500, "other", "web1", "down"); /* not a pool transition */
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);

	check_lines(steer_store_restore_pools(fx->path, collect_pool, &r, &err), &r, want, 3);
}

/* A database of schema version 1 (the tables of migration 1, written compactly), with a
 * few rows. */
static const char schema_v1[] =
	"CREATE TABLE origins (id INTEGER PRIMARY KEY, pool TEXT NOT NULL, name TEXT NOT NULL,"
	" address TEXT NOT NULL, first_seen_ms INTEGER NOT NULL, UNIQUE (pool, name, address));"
	"CREATE TABLE probes (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id), ok INTEGER NOT NULL,"
	" rtt_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, reason TEXT);"
	"CREATE INDEX probes_time ON probes (time_ms);"
	"CREATE INDEX probes_origin_time ON probes (origin_id, time_ms);"
	"CREATE TABLE origin_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id), pool TEXT NOT NULL,"
	" origin TEXT NOT NULL, address TEXT NOT NULL, from_state TEXT,"
	" to_state TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX origin_transitions_origin"
	" ON origin_transitions (pool, origin, address, time_ms);"
	"CREATE TABLE pool_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" pool TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX pool_transitions_time ON pool_transitions (time_ms);"
	"CREATE TABLE balancer_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" balancer TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX balancer_transitions_time ON balancer_transitions (time_ms);"
	"INSERT INTO origins VALUES (1, 'www', 'web1', '192.0.2.10', 100);"
	"INSERT INTO probes VALUES (1, 100, 1, 0, 5, 503, 'HTTP 503');"
	"INSERT INTO origin_transitions VALUES (1, 100, 1, 'www', 'web1', '192.0.2.10',"
	" 'up', 'down', 'HTTP 503');"
	"INSERT INTO pool_transitions VALUES (1, 100, 'www', 'healthy', 'unhealthy', NULL);"
	"INSERT INTO balancer_transitions VALUES (1, 100, 'api', 'www', 'fallback:b', NULL);"
	"PRAGMA user_version = 1;";

/* The schema, blind to spaces (the fixture above writes migration 1 more compactly). */
static const char schema_sql[] =
	"SELECT type, name, replace(sql, ' ', '') FROM sqlite_master ORDER BY name";

static void test_migrate_v1(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	struct steer_store_opts fresh_o = o;
	char fresh[400], migrated[4096], want[4096];
	struct steer_store *st;
	struct restored r = {0};
	struct steer_err err = {0};

	q_exec(fx->path, schema_v1);
	/* restore runs before the writer migrates: the old tables read, the new ones absent */
	assert_int_equal(steer_store_restore(fx->path, collect, &r, &err), 1);
	assert_int_equal(steer_store_restore_pools(fx->path, collect_pool, &r, &err), 1);
	assert_int_equal(steer_store_restore_overrides(fx->path, collect_override, &r, &err), 0);
	assert_int_equal(steer_store_restore_pins(fx->path, collect_pin, &r, &err), 0);
	assert_string_equal(r.line[0], "www/web1/192.0.2.10 down 100");
	assert_string_equal(r.line[1], "www unhealthy 100");

	st = start(&o);
	put_override(st, 200, "www", "web1", "drain", "upgrade", 0, "api");
	assert_true(steer_store_put_pin(st, "api", "www", 200));
	assert_true(put(st, 200, "web1", 7)); /* the existing origin row is reused */
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);

	assert_int_equal(q_int(fx->path, "PRAGMA user_version"), schema_version(fx));
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origins"), 1);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 2);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origin_transitions"), 1);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM balancer_transitions"), 1);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM override_log"), 1);
	r.n = 0;
	assert_int_equal(steer_store_restore_overrides(fx->path, collect_override, &r, &err), 1);
	assert_int_equal(steer_store_restore_pins(fx->path, collect_pin, &r, &err), 1);
	assert_string_equal(r.line[0], "www/web1 drain \"upgrade\" 200 until=0 restore");
	assert_string_equal(r.line[1], "api->www 200");

	/* the upgraded schema is the one a new database gets */
	snprintf(fresh, sizeof(fresh), "%s/fresh.db", fx->dir);
	fresh_o.path = fresh;
	st = start(&fresh_o);
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	assert_string_equal(rows(fx->path, schema_sql, 64, migrated, sizeof(migrated)),
			    rows(fresh, schema_sql, 64, want, sizeof(want)));
}

static void test_reopen(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	struct steer_store *st = start(&o);

	assert_true(put(st, 1000, "web1", 5));
	put_origin_t(st, 1000, "www", "web1", "up");
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);

	st = start(&o); /* tables exist: migration 1 must not run again */
	assert_true(put(st, 2000, "web1", 6));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_true(stats(st).db_ok);
	steer_store_free(st);
	assert_int_equal(q_int(fx->path, "PRAGMA user_version"), schema_version(fx));
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origins"), 1);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 2);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origin_transitions"), 1);
}

static void test_queue_full(void **state)
{
	struct fx *fx = *state;
	/* the writer takes a batch only on a flush: nothing leaves the queue meanwhile */
	const struct steer_store_opts o = {
		.path = fx->path, .retention_days = KEEP_ALL, .queue_cap = 4, .flush_ms = 60000};
	struct steer_store *st = start(&o);
	int queued = 0;

	for (int i = 0; i < 10; i++)
		queued += put(st, 1000 + i, "web1", 1) ? 1 : 0;
	assert_int_equal(queued, 4);
	assert_int_equal(stats(st).dropped, 6);
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 4);
	assert_true(put(st, 2000, "web1", 1)); /* room again */
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 5);
	assert_int_equal(stats(st).dropped, 6);
	steer_store_free(st);
}

/* Name of the first entry of @p dir starting with @p prefix, or "". */
static const char *find_entry(const char *dir, const char *prefix, char *buf, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	buf[0] = '\0';
	assert_non_null(d);
	/* NOLINTNEXTLINE(concurrency-mt-unsafe): a private DIR stream, one thread */
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(buf, size, "%s/%s", dir, e->d_name);
			break;
		}
	}
	closedir(d);
	return buf;
}

static void test_corrupt(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {.path = fx->path, .retention_days = KEEP_ALL};
	struct steer_store *st;
	char aside[512];
	struct stat sb;
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	for (int i = 0; i < 256; i++)
		fputs("garbage! garbage! garbage! garbage", f); /* 8704 bytes */
	fclose(f);

	st = start(&o);
	assert_true(put(st, 1000, "web1", 7));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_true(stats(st).db_ok);
	steer_store_free(st);

	find_entry(fx->dir, "steerd.db.corrupt-", aside, sizeof(aside));
	assert_true(aside[0] != '\0');
	assert_int_equal(stat(aside, &sb), 0);
	assert_int_equal(sb.st_size, 8704); /* the old bytes, untouched */
	assert_int_equal(q_int(fx->path, "PRAGMA user_version"), schema_version(fx));
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 1);
}

/*
 * The tests run as root in CI, and root ignores file modes: chmod 0444 would not make
 * anything fail. What fails for root too is a path whose parent is a regular file
 * (ENOTDIR). Mid-run, the store's directory is renamed away and a regular file put in its
 * place: SQLite would go on writing to the renamed file, the store notices that the path
 * no longer names its file, closes it and fails to reopen. Renaming the directory back
 * is the fix.
 */
static void test_unwritable_midrun(void **state)
{
	struct fx *fx = *state;
	char sub[320], away[320], path[400];
	struct steer_store_opts o = {.retention_days = KEEP_ALL, .flush_ms = 10, .retry_ms = 20};
	struct steer_store *st;
	struct steer_store_stats s;
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/state", fx->dir);
	snprintf(away, sizeof(away), "%s/state.away", fx->dir);
	snprintf(path, sizeof(path), "%s/steerd.db", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	o.path = path;
	st = start(&o);
	for (int i = 0; i < 5; i++)
		assert_true(put(st, 1000 + i, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0);

	assert_int_equal(rename(sub, away), 0);
	f = fopen(sub, "w");
	assert_non_null(f);
	fclose(f);
	for (int i = 0; i < 10; i++)
		assert_true(put(st, 2000 + i, "web1", 1)); /* never blocks, never fails here */
	assert_int_equal(steer_store_flush(st, 2000), STEER_EDB);
	s = stats(st);
	assert_false(s.db_ok);
	assert_true(s.dropped >= 10);
	assert_true(s.errors >= 1);
	assert_int_equal(s.written, 5);

	assert_int_equal(unlink(sub), 0);
	assert_int_equal(rename(away, sub), 0);
	assert_true(wait_db_ok(st, 3000));
	for (int i = 0; i < 3; i++)
		assert_true(put(st, 3000 + i, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	assert_int_equal(q_int(path, "SELECT count(*) FROM probes WHERE time_ms < 2000"), 5);
	assert_int_equal(q_int(path, "SELECT count(*) FROM probes WHERE time_ms >= 3000"), 3);
	assert_int_equal(q_int(path, "SELECT count(*) FROM probes"), 8);
}

/* Unusable from the start (parent is a regular file), then fixed. */
static void test_unwritable_at_start(void **state)
{
	struct fx *fx = *state;
	char parent[320], path[400];
	struct steer_store_opts o = {.retention_days = KEEP_ALL, .retry_ms = 20};
	struct steer_store *st;
	FILE *f;

	snprintf(parent, sizeof(parent), "%s/notadir", fx->dir);
	snprintf(path, sizeof(path), "%s/steerd.db", parent);
	f = fopen(parent, "w");
	assert_non_null(f);
	fclose(f);
	o.path = path;
	st = start(&o);
	assert_true(put(st, 1000, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), STEER_EDB);
	assert_false(stats(st).db_ok);
	assert_int_equal(stats(st).dropped, 1);
	assert_true(stats(st).errors >= 1);

	assert_int_equal(unlink(parent), 0);
	assert_int_equal(mkdir(parent, 0755), 0);
	assert_true(wait_db_ok(st, 3000));
	assert_true(put(st, 2000, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	assert_int_equal(q_int(path, "SELECT count(*) FROM probes"), 1);
}

/* The plain read-only file, for non-root runs (root may write a 0444 file: skipped). */
/* The chmod scenario; returns the failing line, or 0. No cmocka asserts: it may run in a
 * forked child. */
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			return __LINE__;                                                           \
	} while (0)

static int readonly_scenario(const char *path)
{
	const struct steer_store_opts o = {
		.path = path, .retention_days = KEEP_ALL, .flush_ms = 10, .retry_ms = 20};
	struct steer_store *st = NULL;
	int line = 0;

	CHECK(steer_store_new(&o, &st) == 0);
	CHECK(put(st, 1000, "web1", 1));
	CHECK(steer_store_flush(st, 2000) == 0);
	CHECK(chmod(path, 0444) == 0);
	CHECK(put(st, 2000, "web1", 1));
	if (steer_store_flush(st, 2000) != STEER_EDB || stats(st).db_ok || stats(st).dropped < 1)
		line = __LINE__;
	CHECK(chmod(path, 0644) == 0);
	CHECK(line == 0 && wait_db_ok(st, 3000));
	CHECK(put(st, 3000, "web1", 1));
	CHECK(steer_store_flush(st, 2000) == 0);
	steer_store_free(st);
	CHECK(q_int(path, "SELECT count(*) FROM probes WHERE time_ms <> 2000") == 2);
	return 0;
}

/* chmod 0444 mid-run, then back. Root ignores file modes, so as root the scenario runs in
 * a child that has dropped to uid/gid 65534 (nobody) in a directory it owns. */
static void test_readonly_file(void **state)
{
	struct fx *fx = *state;
	pid_t pid;
	int status = 0;

	if (geteuid() != 0) {
		assert_int_equal(readonly_scenario(fx->path), 0);
		return;
	}
	assert_int_equal(chown(fx->dir, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(200);
		_exit(readonly_scenario(fx->path) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_newer_schema(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {
		.path = fx->path, .retention_days = KEEP_ALL, .retry_ms = 20};
	struct steer_store *st;
	char buf[512];

	q_exec(fx->path, "CREATE TABLE future (x); PRAGMA user_version = 99");
	st = start(&o);
	assert_int_equal(steer_store_flush(st, 2000), STEER_EDB);
	assert_false(stats(st).db_ok);
	steer_store_free(st);
	/* left alone: not migrated, not moved aside as corrupt */
	assert_int_equal(q_int(fx->path, "PRAGMA user_version"), 99);
	assert_string_equal(find_entry(fx->dir, "steerd.db.corrupt-", buf, sizeof(buf)), "");
}

static int64_t fake_wall(void *arg)
{
	return *(const int64_t *)arg;
}

static void test_retention(void **state)
{
	struct fx *fx = *state;
	int64_t now = 0; /* cut-off = now - 7 days: nothing is old yet */
	struct steer_store_opts o = {.path = fx->path,
				     .flush_ms = 60000, /* one tick per flush */
				     .prune_batch = 10,
				     .wall_ms = fake_wall,
				     .wall_arg = &now};
	const char *old_sql = "SELECT count(*) FROM probes WHERE time_ms < 5000";
	struct steer_store *st = start(&o);

	for (int i = 0; i < 35; i++)
		assert_true(put(st, 1000 + i, "web1", 1));
	for (int i = 0; i < 5; i++)
		assert_true(put(st, 9 * DAY_MS + i, "web1", 1));
	put_origin_t(st, 500, "www", "web1", "up");
	put_origin_t(st, 600, "www", "web1", "down");
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	assert_int_equal(q_int(fx->path, old_sql), 35);

	now = 10 * DAY_MS; /* cut-off 3 days: the 35 probes at ~1 s are old */
	st = start(&o);
	for (int left = 25; left >= 0; left -= 10) {
		assert_int_equal(steer_store_flush(st, 2000), 0); /* one batch per tick */
		assert_int_equal(q_int(fx->path, old_sql), left);
	}
	assert_int_equal(steer_store_flush(st, 2000), 0); /* 5 left: this batch ends the pass */
	assert_int_equal(q_int(fx->path, old_sql), 0);
	assert_true(put(st, 2000, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0); /* next pass only in a minute */
	assert_int_equal(q_int(fx->path, old_sql), 1);
	steer_store_free(st);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes WHERE time_ms > 5000"), 5);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM origin_transitions"), 2);
}

/* ":memory:" (component tests of other modules): no file checks, no WAL, still works. */
static void test_memory(void **state)
{
	const struct steer_store_opts o = {.path = ":memory:", .retention_days = KEEP_ALL};
	struct steer_store *st = start(&o);

	(void)state;
	assert_true(put(st, 1000, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_true(put(st, 2000, "web1", 1));
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(stats(st).written, 2);
	assert_int_equal(stats(st).errors, 0);
	assert_true(stats(st).db_ok);
	steer_store_free(st);
}

/* Wait (bounded by @p ms, polling every 10 ms) until @p sql on @p path returns @p want;
 * nothing else flushes the store meanwhile. */
static bool wait_count(const char *path, const char *sql, long long want, int ms)
{
	const struct timespec pause = {.tv_nsec = 10 * 1000000L};

	for (int waited = 0; waited < ms; waited += 10) {
		if (q_int(path, sql) == want)
			return true;
		nanosleep(&pause, NULL);
	}
	return q_int(path, sql) == want;
}

/* Regression: transitions, overrides and pins waited for the next batch (200 ms by
 * default) in memory, where a kill -9 lost them. They are committed at once now; probes
 * still wait for their batch. */
static void test_urgent_at_once(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {
		.path = fx->path, .retention_days = KEEP_ALL, .flush_ms = 60000};
	struct steer_store *st = start(&o);

	assert_int_equal(steer_store_flush(st, 2000), 0); /* the database exists */
	assert_true(put(st, 100, "web1", 1));
	put_origin_t(st, 200, "www", "web1", "down");
	put_pool_t(st, 300, "www", "unhealthy");
	put_override(st, 400, "www", "web2", "drain", "maint", 0, "api");
	assert_true(steer_store_put_pin(st, "api", "backup", 500));
	/* no flush: the next batch tick is a minute away */
	assert_true(wait_count(fx->path, "SELECT count(*) FROM origin_transitions", 1, 5000));
	assert_true(wait_count(fx->path, "SELECT count(*) FROM pool_transitions", 1, 5000));
	assert_true(wait_count(fx->path, "SELECT count(*) FROM override_log", 1, 5000));
	assert_true(wait_count(fx->path, "SELECT count(*) FROM failback_pins", 1, 5000));
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 0);
	assert_int_equal(steer_store_flush(st, 2000), 0);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM probes"), 1);
	assert_int_equal(stats(st).written, 5);
	steer_store_free(st);
}

#define CRASH_ROUNDS    5
#define CRASH_MAX       4000 /* transitions one child queues at most before it is killed */
#define CRASH_MARGIN_NS (100 * 1000000LL)
#define CRASH_BASE      1000000LL /* round r records transitions at time_ms (r+1)*BASE + i */

/* What the crash child reports after each put: "logged", as steerd logs a transition. */
struct crash_msg {
	int64_t seq;
	int64_t mono_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The forked child: a store with the default batch interval, fed a probe and a
 * transition every 2 ms until it is killed. No cmocka here. */
static void crash_child(const char *path, int round, int fd)
{
	const struct steer_store_opts o = {.path = path, .retention_days = KEEP_ALL};
	const struct timespec pause = {.tv_nsec = 2 * 1000000L};
	struct steer_store *st = NULL;

	if (steer_store_new(&o, &st) < 0)
		_exit(2);
	for (int64_t i = 0; i < CRASH_MAX; i++) {
		const int64_t t = (round + 1) * CRASH_BASE + i;
		const bool odd = i % 2 != 0;
		const struct steer_store_transition tr = {t,
							  STEER_STORE_ORIGIN,
							  "www",
							  "web1",
							  "192.0.2.10",
							  odd ? "up" : "down",
							  odd ? "down" : "up",
							  "flap"};
		struct crash_msg m;

		(void)put(st, t, "web1", 1);
		if (!steer_store_put_transition(st, &tr))
			_exit(3);
		m.seq = i;
		m.mono_ns = mono_ns();
		if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(4);
		nanosleep(&pause, NULL);
	}
	_exit(0);
}

/* Append the child's reports to @p all (at *@p n) until @p until_ns, or with @p until_ns
 * 0 until EOF (each wait bounded by 2 s); with @p one, return after one report. */
static void crash_read(int fd, int64_t until_ns, bool one, struct crash_msg *all, int *n)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		const int64_t left_ms = until_ns != 0 ? (until_ns - mono_ns()) / 1000000 : 2000;

		if (left_ms <= 0 || poll(&p, 1, (int)left_ms) <= 0)
			return;
		if (read(fd, &all[*n], sizeof(all[0])) != (ssize_t)sizeof(all[0]))
			return; /* EOF: the child is gone */
		if (*n < CRASH_MAX - 1)
			(*n)++;
		if (one)
			return;
	}
}

/* One round: fork the child, kill -9 it @p after_ms after its first report, check that
 * every transition it reported at least 100 ms before the kill is in the database. */
static void crash_round(const char *path, int round, int after_ms, struct crash_msg *all)
{
	int fds[2], n = 0, status = 0;
	int64_t kill_ns, must = -1;
	pid_t pid;
	char sql[256];

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(path, round, fds[1]);
	}
	close(fds[1]);
	crash_read(fds[0], mono_ns() + 10000000000LL, true, all, &n); /* the store is up */
	if (n > 0)
		crash_read(fds[0], all[0].mono_ns + (int64_t)after_ms * 1000000, false, all, &n);
	kill_ns = mono_ns();
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	crash_read(fds[0], 0, false, all, &n); /* reported before the kill */
	close(fds[0]);
	assert_true(WIFSIGNALED(status));
	for (int i = 0; i < n; i++) {
		if (all[i].mono_ns <= kill_ns - CRASH_MARGIN_NS)
			must = all[i].seq;
	}
	assert_true(must >= 10); /* the round did test something */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM origin_transitions WHERE time_ms BETWEEN %lld AND %lld",
		 (long long)((round + 1) * CRASH_BASE),
		 (long long)((round + 1) * CRASH_BASE + must));
	assert_int_equal(q_int(path, sql), must + 1);
}

/* kill -9 of a process with a busy store at varied moments: every transition queued at
 * least 100 ms before the kill survives, and the database stays intact. */
static void test_crash_kill9(void **state)
{
	struct fx *fx = *state;
	struct crash_msg *all = calloc(CRASH_MAX, sizeof(*all));
	char buf[64];

	assert_non_null(all);
	for (int r = 0; r < CRASH_ROUNDS; r++)
		crash_round(fx->path, r, 250 + r * 73, all);
	free(all);
	assert_string_equal(row(fx->path, "PRAGMA integrity_check", buf, sizeof(buf)), "ok");
}

/* The full disk: while full_pages > 0, every new SQLite connection in this process to a
 * file named steerd.db may not grow past that many pages (PRAGMA max_page_count), so a
 * write that needs a new page fails with SQLITE_FULL, as on a full file system. The
 * store's connection is new on every reopen. Registered with sqlite3_auto_extension(). */
static atomic_int full_pages;

static int full_disk_ext(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
	const char *name = sqlite3_db_filename(db, "main");
	const int pages = atomic_load(&full_pages);
	char sql[64];

	(void)errmsg;
	(void)api;
	if (pages <= 0 || name == NULL || strstr(name, "/steerd.db") == NULL)
		return SQLITE_OK;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", pages);
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Send this process's stderr (the log) to @p path until stderr_restore(). @return the
 * saved descriptor. */
static int stderr_to(const char *path)
{
	const int saved = dup(STDERR_FILENO);
	FILE *f = fopen(path, "w");

	assert_true(saved >= 0);
	assert_non_null(f);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fclose(f);
	return saved;
}

static void stderr_restore(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* Lines of the file @p path containing @p needle; -1 if it cannot be read. */
static int count_lines(const char *path, const char *needle)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL ? 1 : 0;
	fclose(f);
	return n;
}

/* Queue 20 probes of 500 bytes each: more than the free room of any existing page.
 * @return how many were queued. No cmocka here: it runs while stderr is captured. */
static int put_big(struct steer_store *st, int64_t time_ms)
{
	char reason[501];
	struct steer_store_probe p = {time_ms, "www", "web1", "192.0.2.10", false, 1, 503, reason};
	int n = 0;

	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	for (int i = 0; i < 20; i++) {
		p.time_ms = time_ms + i;
		n += steer_store_put_probe(st, &p) ? 1 : 0;
	}
	return n;
}

/* Run the full disk until 6 commits failed (each after a successful reopen: opening
 * only reads). @return false if a flush did not fail. No cmocka (stderr captured). */
static bool fill_disk_run(struct steer_store *st)
{
	const struct timespec pause = {.tv_nsec = 5 * 1000000L};

	for (int i = 0; i < 400 && stats(st).errors < 6; i++) {
		if (put_big(st, 10000 + i * 100) != 20 || steer_store_flush(st, 2000) != STEER_EDB)
			return false;
		nanosleep(&pause, NULL);
	}
	return true;
}

/* Regression: on a full disk the store logged "database writable again" after every
 * successful reopen (every retry_ms) while every commit still failed. */
static void test_disk_full_log(void **state)
{
	struct fx *fx = *state;
	const struct steer_store_opts o = {
		.path = fx->path, .retention_days = KEEP_ALL, .flush_ms = 60000, .retry_ms = 20};
	const struct timespec pause = {.tv_nsec = 10 * 1000000L};
	struct steer_store *st = start(&o);
	char log[400];
	struct steer_store_stats full;
	int saved, again_while_full;
	bool full_ok, ok = false;

	assert_int_equal(put_big(st, 1000), 20);
	assert_int_equal(steer_store_flush(st, 2000), 0);
	steer_store_free(st);
	atomic_store(&full_pages, (int)q_int(fx->path, "PRAGMA page_count"));
	assert_int_equal(sqlite3_auto_extension((void (*)(void))full_disk_ext), SQLITE_OK);
	snprintf(log, sizeof(log), "%s/steerd.log", fx->dir);
	saved = stderr_to(log);
	st = start(&o); /* no cmocka until stderr_restore() */
	full_ok = fill_disk_run(st);
	full = stats(st);
	again_while_full = count_lines(log, "database writable again");
	atomic_store(&full_pages, 0); /* room again */
	for (int i = 0; i < 300 && !ok; i++) {
		(void)put(st, 50000 + i, "web1", 1);
		ok = steer_store_flush(st, 2000) == 0 && stats(st).written > full.written;
		if (!ok)
			nanosleep(&pause, NULL);
	}
	steer_store_free(st);
	stderr_restore(saved);
	sqlite3_cancel_auto_extension((void (*)(void))full_disk_ext);
	assert_true(full_ok);
	assert_true(full.errors >= 6);
	assert_int_equal(full.written, 0);
	assert_true(ok);
	assert_int_equal(again_while_full, 0);
	assert_int_equal(count_lines(log, "database writable again"), 1);
	assert_int_equal(count_lines(log, "err store: database unavailable"), 1);
	assert_int_equal(count_lines(log, "database or disk is full"), 1);
}

/* Run @p fn(@p path) in a child process, bounded by @p ms.
 * @return its exit status (0: fn returned 0), or -1 if it had to be killed: it blocked. */
static int run_bounded(int (*fn)(const char *), const char *path, int ms)
{
	const struct timespec pause = {.tv_nsec = 10 * 1000000L};
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(path) == 0 ? 0 : 1);
	for (int waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Every restore function refuses @p path at once, naming it. No cmocka: forked child. */
static int restore_refuses(const char *path)
{
	int (*const each[])(const char *,
			    struct steer_err *) = {restore_origins_only, restore_overrides_only,
						   restore_pins_only, restore_pools_only};

	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		struct steer_err err = {0};

		CHECK(each[i](path, &err) == STEER_EDB && err.code == STEER_EDB);
		CHECK(strstr(err.msg, path) != NULL);
		CHECK(strstr(err.msg, "not a regular file") != NULL);
	}
	return 0;
}

/* The writer fails to open @p path, at once and again on every retry, and stops. */
static int writer_refuses(const char *path)
{
	const struct steer_store_opts o = {
		.path = path, .retention_days = KEEP_ALL, .flush_ms = 10, .retry_ms = 20};
	struct steer_store *st = NULL;

	CHECK(steer_store_new(&o, &st) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(put(st, 1000 + i, "web1", 1));
		CHECK(steer_store_flush(st, 2000) == STEER_EDB);
	}
	CHECK(!stats(st).db_ok && stats(st).errors >= 1 && stats(st).dropped == 5);
	steer_store_free(st);
	return 0;
}

/* Regression: a FIFO at state.path blocked steerd at start for good (opening a FIFO for
 * reading waits for a writer), before it ever listened. Restore and writer refuse any
 * file that is not a regular one, at once, and leave it alone. */
static void test_not_regular_file(void **state)
{
	struct fx *fx = *state;
	char dir[400], buf[512];
	struct stat sb;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	assert_int_equal(run_bounded(restore_refuses, fx->path, 5000), 0);
	assert_int_equal(run_bounded(writer_refuses, fx->path, 10000), 0);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode)); /* not moved aside as corrupt */
	assert_string_equal(find_entry(fx->dir, "steerd.db.corrupt-", buf, sizeof(buf)), "");

	snprintf(dir, sizeof(dir), "%s/adir.db", fx->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(run_bounded(restore_refuses, dir, 5000), 0);
	assert_int_equal(run_bounded(writer_refuses, dir, 10000), 0);
}

static void test_api_edges(void **state)
{
	const struct steer_store_opts none = {0};
	struct steer_store *st = NULL;

	(void)state;
	steer_store_free(NULL);
	assert_int_equal(steer_store_new(&none, &st), STEER_EINVAL);
	assert_int_equal(steer_store_new(NULL, &st), STEER_EINVAL);
	assert_null(st);
	assert_false(put(NULL, 1, "web1", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_missing_and_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_midrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urgent_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular_file, setup, teardown),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_api_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
