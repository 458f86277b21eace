/*
 * The writer thread. Transitions, overrides and pins are committed as soon as they are
 * queued, in their own small transaction; probes are batched: every flush_ms, or at once
 * when steer_store_flush() asks, the writer takes them all, writes them in one transaction
 * and runs at most one prune step. While the database cannot be used, records are dropped
 * and counted, errors are logged at most once per 10 s, and the open is retried every
 * retry_ms; the thread never gives up.
 */
#include <inttypes.h>
#include <time.h>

#include "core/clock.h"
#include "store/store_int.h"

#define STEER_LOG_SRC "store"
#include "core/log.h"
#include "core/thread.h"

/* What one wake-up of the writer took from the queue. */
struct take {
	struct store_rec *urgent; /* transitions, overrides, pins: always taken */
	size_t n_urgent;
	struct store_rec *batch; /* probes: taken by batch ticks only */
	size_t n_batch;
	bool full; /* a batch tick: probes, a prune step, and flush waiters are told */
};

/* What one tick did, applied to the shared statistics at its end. */
struct tick_count {
	uint64_t written;
	uint64_t dropped;
	uint64_t failures;
};

static int64_t wall_now(const struct steer_store *st)
{
	if (st->opts.wall_ms != NULL)
		return st->opts.wall_ms(st->opts.wall_arg);
	return steer_clock_wall_ms();
}

/* The database is unusable: close it (the next open starts afresh) and retry later. */
static void db_failed(struct steer_store *st, int64_t now, struct tick_count *c)
{
	if (st->db.corrupt)
		st->db.checked = false; /* the next open runs quick_check and moves it aside */
	store_db_close(&st->db);
	st->next_open_ms = now + st->opts.retry_ms;
	st->recovering = true;
	c->failures++;
}

/* Opening proves little: on a full disk (or a file system that fails writes) the open,
 * which only reads, succeeds and the first commit fails. Recovery is announced by
 * write_batch() once a commit succeeds. */
static void try_open(struct steer_store *st, int64_t now, struct tick_count *c)
{
	if (store_db_open(&st->db, wall_now(st)) < 0) {
		db_failed(st, now, c);
		return;
	}
	if (!st->opened_once)
		log_info("database open path=%s schema_version=%d", st->path, st->db.version);
	st->opened_once = true;
}

/* A commit succeeded after a failure: the database is writable again. */
static void recovered(struct steer_store *st)
{
	log_notice("database writable again path=%s dropped=%" PRIu64
		   " records since the last report",
		   st->path, st->db_drops);
	st->recovering = false;
	st->db_drops = 0;
	st->db_suppressed = 0;
}

static void write_batch(struct steer_store *st, const struct store_rec *batch, size_t n,
			int64_t now, struct tick_count *c)
{
	if (n == 0)
		return;
	if (st->db.db != NULL && store_db_write(&st->db, batch) == 0) {
		c->written += n;
		if (st->recovering)
			recovered(st);
		return;
	}
	if (st->db.db != NULL)
		db_failed(st, now, c);
	c->dropped += n;
}

/* One batch of the prune pass; a new pass starts at most once per STORE_PRUNE_PASS_MS. */
static void prune_step(struct steer_store *st, int64_t now, struct tick_count *c)
{
	const int64_t keep_ms = (int64_t)st->opts.retention_days * STORE_DAY_MS;
	uint32_t deleted = 0;

	if (!st->pruning && now < st->next_prune_ms)
		return;
	if (store_db_prune(&st->db, wall_now(st) - keep_ms, st->opts.prune_batch, &deleted) < 0) {
		db_failed(st, now, c);
		return;
	}
	st->pruning = deleted >= st->opts.prune_batch;
	if (!st->pruning)
		st->next_prune_ms = now + STORE_PRUNE_PASS_MS;
	if (deleted > 0)
		log_debug("pruned probes=%" PRIu32 " retention_days=%" PRIu32, deleted,
			  st->opts.retention_days);
}

/* Publish the tick's counts and report database trouble, rate-limited. */
static void settle(struct steer_store *st, const struct tick_count *c, int64_t now)
{
	pthread_mutex_lock(&st->mu);
	st->stats.written += c->written;
	st->stats.dropped += c->dropped;
	st->stats.errors += c->failures;
	st->stats.db_ok = st->db.db != NULL;
	pthread_mutex_unlock(&st->mu);
	if (c->dropped == 0 && c->failures == 0)
		return;
	st->db_drops += c->dropped;
	st->db_suppressed += c->failures;
	if (now < st->next_db_log_ms)
		return;
	st->next_db_log_ms = now + STORE_LOG_EVERY_MS;
	log_err("database unavailable path=%s error=\"%s\" failures=%" PRIu64 " dropped=%" PRIu64
		" (since the last report) retry_ms=%" PRIu32,
		st->path, st->db.errmsg, st->db_suppressed, st->db_drops, st->opts.retry_ms);
	st->db_drops = 0;
	st->db_suppressed = 0;
}

static void report_queue_drops(struct steer_store *st, int64_t now)
{
	uint64_t n = 0;

	if (now < st->next_q_log_ms)
		return;
	pthread_mutex_lock(&st->mu);
	n = st->queue_drops;
	st->queue_drops = 0;
	pthread_mutex_unlock(&st->mu);
	if (n == 0)
		return;
	st->next_q_log_ms = now + STORE_LOG_EVERY_MS;
	log_err("queue full path=%s dropped=%" PRIu64
		" records since the last report queue_cap=%" PRIu32,
		st->path, n, st->opts.queue_cap);
}

/* Write what @p t took: the urgent records first, in their own transaction, so a large
 * probe batch can neither delay nor fail them. */
static void tick(struct steer_store *st, const struct take *t)
{
	const int64_t now = steer_clock_mono_ms();
	struct tick_count c = {0};

	if (st->db.db != NULL && store_db_check_file(&st->db) < 0)
		db_failed(st, now, &c);
	if (st->db.db == NULL && now >= st->next_open_ms)
		try_open(st, now, &c);
	write_batch(st, t->urgent, t->n_urgent, now, &c);
	write_batch(st, t->batch, t->n_batch, now, &c);
	if (t->full && st->db.db != NULL)
		prune_step(st, now, &c);
	settle(st, &c, now);
	report_queue_drops(st, now);
}

/* Wait (st->mu held) until @p next_tick (monotonic ms), an urgent record, a flush
 * request, or stop. */
static void wait_tick(struct steer_store *st, int64_t next_tick)
{
	const struct timespec until = {.tv_sec = (time_t)(next_tick / 1000),
				       .tv_nsec = (long)(next_tick % 1000) * 1000000L};

	while (!st->stop && !st->flush_req && st->urgent == NULL &&
	       steer_clock_mono_ms() < next_tick) {
		if (pthread_cond_timedwait(&st->wake, &st->mu, &until) != 0)
			break; /* timed out */
	}
}

/* Take the urgent records, and on a batch tick (its time has come, a flush, or stop) the
 * probes too. st->mu held. */
static void take(struct steer_store *st, int64_t next_tick, struct take *t)
{
	t->full = st->stop || st->flush_req || steer_clock_mono_ms() >= next_tick;
	t->urgent = st->urgent;
	t->n_urgent = st->n_urgent;
	st->urgent = st->urgent_tail = NULL;
	st->n_urgent = 0;
	t->batch = NULL;
	t->n_batch = 0;
	if (!t->full)
		return;
	t->batch = st->head;
	t->n_batch = st->n_queued - t->n_urgent;
	st->head = st->tail = NULL;
	st->flush_req = false;
	st->ticks_started++;
}

void *store_writer_main(void *arg)
{
	struct steer_store *st = arg;
	struct tick_count c = {0};
	int64_t next_tick = steer_clock_mono_ms();
	bool stopping = false;

	steer_thread_name("steer-store");

	try_open(st, next_tick, &c);
	settle(st, &c, next_tick);
	next_tick += st->opts.flush_ms;
	pthread_mutex_lock(&st->mu);
	while (!stopping) {
		struct take t;

		wait_tick(st, next_tick);
		stopping = st->stop; /* the records taken now are the last ones */
		take(st, next_tick, &t);
		pthread_mutex_unlock(&st->mu);

		tick(st, &t);
		store_rec_free_list(t.urgent);
		store_rec_free_list(t.batch);
		if (t.full)
			next_tick = steer_clock_mono_ms() + st->opts.flush_ms;

		pthread_mutex_lock(&st->mu);
		st->n_queued -= t.n_urgent + t.n_batch;
		if (t.full) {
			st->ticks_done++;
			pthread_cond_broadcast(&st->done);
		}
	}
	pthread_mutex_unlock(&st->mu);
	store_db_close(&st->db);
	return NULL;
}
