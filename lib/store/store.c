/*
 * The store's front end: options, the bounded record queue that any thread may fill
 * without blocking on SQLite, flush, statistics, and the writer thread's life cycle.
 * The writer itself is in writer.c, the SQL in db.c.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/store_int.h"

void store_rec_free_list(struct store_rec *r)
{
	while (r != NULL) {
		struct store_rec *next = r->next;

		free(r);
		r = next;
	}
}

/* Length of @p s kept in a record: at most STORE_STR_MAX bytes, cut before a UTF-8
 * continuation byte so the stored text stays valid UTF-8. */
static size_t kept_len(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, STORE_STR_MAX + 1);
	if (n <= STORE_STR_MAX)
		return n;
	n = STORE_STR_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Allocate a record holding copies of the STORE_F_N strings @p s (each may be NULL). */
static struct store_rec *rec_new(enum store_rec_kind kind, int64_t time_ms,
				 const char *const s[STORE_F_N])
{
	size_t len[STORE_F_N];
	size_t total = 0;
	struct store_rec *r;
	char *p;

	for (int i = 0; i < STORE_F_N; i++) {
		len[i] = kept_len(s[i]);
		total += s[i] != NULL ? len[i] + 1 : 0;
	}
	r = calloc(1, sizeof(*r) + total);
	if (r == NULL)
		return NULL;
	r->kind = kind;
	r->time_ms = time_ms;
	p = r->buf;
	for (int i = 0; i < STORE_F_N; i++) {
		if (s[i] == NULL)
			continue;
		memcpy(p, s[i], len[i]);
		p[len[i]] = '\0';
		r->s[i] = p;
		p += len[i] + 1;
	}
	return r;
}

/* Append @p r to the end of the list @p head / @p tail. */
static void append(struct store_rec **head, struct store_rec **tail, struct store_rec *r)
{
	if (*tail != NULL)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

/*
 * Append @p r (which may be NULL after a failed allocation) or drop it. Probes wait for
 * the next batch tick; every other record wakes the writer, which commits it at once: a
 * transition, override or pin must not sit in memory for a flush interval, where a crash
 * of the process would lose it.
 */
static bool enqueue(struct steer_store *st, struct store_rec *r)
{
	bool queued = false;

	pthread_mutex_lock(&st->mu);
	if (r != NULL && st->n_queued < st->opts.queue_cap) {
		if (r->kind == STORE_REC_PROBE) {
			append(&st->head, &st->tail, r);
		} else {
			append(&st->urgent, &st->urgent_tail, r);
			st->n_urgent++;
			pthread_cond_signal(&st->wake);
		}
		st->n_queued++;
		queued = true;
	} else {
		st->stats.dropped++;
		st->queue_drops++; /* the writer logs these, rate-limited */
	}
	pthread_mutex_unlock(&st->mu);
	if (!queued)
		free(r);
	return queued;
}

bool steer_store_put_probe(struct steer_store *st, const struct steer_store_probe *p)
{
	const char *s[STORE_F_N] = {p->pool, p->origin, p->address, NULL, NULL, p->reason};
	struct store_rec *r;

	if (st == NULL)
		return false;
	r = rec_new(STORE_REC_PROBE, p->time_ms, s);
	if (r != NULL) {
		r->ok = p->ok;
		r->rtt_ms = p->rtt_ms;
		r->http_status = p->http_status;
	}
	return enqueue(st, r);
}

bool steer_store_put_transition(struct steer_store *st, const struct steer_store_transition *t)
{
	const char *s[STORE_F_N] = {t->pool, t->name, t->address, t->from, t->to, t->reason};
	enum store_rec_kind kind;

	if (st == NULL)
		return false;
	switch (t->kind) {
	case STEER_STORE_ORIGIN:
		kind = STORE_REC_ORIGIN;
		break;
	case STEER_STORE_POOL:
		kind = STORE_REC_POOL;
		break;
	default:
		kind = STORE_REC_BALANCER;
		break;
	}
	return enqueue(st, rec_new(kind, t->time_ms, s));
}

static bool is_override_state(const char *state)
{
	static const char *const known[] = {"drain", "down", "up", "auto"};

	for (size_t i = 0; state != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(state, known[i]) == 0)
			return true;
	}
	return false;
}

bool steer_store_put_override(struct steer_store *st, const struct steer_store_override *o)
{
	/* "" and NULL both name the whole pool; the log keeps NULL for it */
	const bool whole_pool = o->origin == NULL || o->origin[0] == '\0';
	const char *s[STORE_F_N] = {
		[STORE_F_POOL] = o->pool,
		[STORE_F_NAME] = whole_pool ? NULL : o->origin,
		[STORE_F_TO] = o->state,
		[STORE_F_REASON] = o->reason != NULL ? o->reason : "",
		[STORE_F_SOURCE] = o->source != NULL ? o->source : "api",
	};
	struct store_rec *r;

	if (st == NULL || o->pool == NULL || !is_override_state(o->state))
		return false;
	r = rec_new(STORE_REC_OVERRIDE, o->time_ms, s);
	if (r != NULL)
		r->until_ms = o->until_ms > 0 ? o->until_ms : 0;
	return enqueue(st, r);
}

bool steer_store_put_pin(struct steer_store *st, const char *balancer, const char *pool,
			 int64_t time_ms)
{
	const char *s[STORE_F_N] = {[STORE_F_POOL] = pool, [STORE_F_NAME] = balancer};

	if (st == NULL || balancer == NULL)
		return false;
	return enqueue(st, rec_new(STORE_REC_PIN, time_ms, s));
}

bool steer_store_put_xfr(struct steer_store *st, const struct steer_store_xfr_version *v)
{
	const char *text[3] = {v->zone, v->has_diff ? v->deleted : "", v->has_diff ? v->added : ""};
	size_t len[3];
	size_t total = sizeof(struct store_xfr);
	struct store_xfr *x;
	struct store_rec *r;
	char *p;

	if (st == NULL || v->zone == NULL)
		return false;
	for (int i = 0; i < 3; i++) {
		text[i] = text[i] != NULL ? text[i] : "";
		len[i] = strlen(text[i]);
		total += len[i] + 1;
	}
	r = calloc(1, sizeof(*r) + total);
	if (r != NULL) {
		r->kind = STORE_REC_XFR;
		r->time_ms = v->time_ms;
		x = (struct store_xfr *)(void *)r->buf; /* buf is malloc-aligned after the header */
		*x = (struct store_xfr){v->serial, v->from_serial, v->keep, v->has_diff,
					NULL,      NULL,           NULL};
		p = r->buf + sizeof(*x);
		for (int i = 0; i < 3; i++) {
			memcpy(p, text[i], len[i] + 1);
			*(i == 0 ? &x->zone : i == 1 ? &x->deleted : &x->added) = p;
			p += len[i] + 1;
		}
		r->xfr = x;
	}
	return enqueue(st, r);
}

/* Absolute CLOCK_MONOTONIC deadline @p ms from now, for pthread_cond_timedwait(). */
static struct timespec deadline_in(uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int steer_store_flush(struct steer_store *st, uint32_t timeout_ms)
{
	const struct timespec until = deadline_in(timeout_ms);
	uint64_t gen;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	/* The tick after the one in progress (if any) takes every record queued so far. */
	gen = st->ticks_started;
	st->flush_req = true;
	pthread_cond_signal(&st->wake);
	while (st->ticks_done <= gen && rc == 0)
		rc = pthread_cond_timedwait(&st->done, &st->mu, &until);
	if (st->ticks_done <= gen)
		rc = -ETIMEDOUT;
	else
		rc = st->stats.db_ok ? 0 : STEER_EDB;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

void steer_store_get_stats(struct steer_store *st, struct steer_store_stats *out)
{
	pthread_mutex_lock(&st->mu);
	*out = st->stats;
	out->queued = st->n_queued;
	pthread_mutex_unlock(&st->mu);
}

static void apply_defaults(struct steer_store_opts *o)
{
	if (o->retention_days == 0)
		o->retention_days = 7;
	if (o->queue_cap == 0)
		o->queue_cap = 65536;
	if (o->flush_ms == 0)
		o->flush_ms = 200;
	if (o->retry_ms == 0)
		o->retry_ms = 2000;
	if (o->prune_batch == 0)
		o->prune_batch = 1000;
}

/* Mutex and condition variables (the condvars wait on CLOCK_MONOTONIC); all or none. */
static int sync_init(struct steer_store *st)
{
	pthread_condattr_t ca;
	int rc;

	rc = pthread_condattr_init(&ca);
	if (rc != 0)
		return -rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc != 0)
		goto out;
	rc = pthread_mutex_init(&st->mu, NULL);
	if (rc != 0)
		goto out;
	rc = pthread_cond_init(&st->wake, &ca);
	if (rc != 0) {
		pthread_mutex_destroy(&st->mu);
		goto out;
	}
	rc = pthread_cond_init(&st->done, &ca);
	if (rc != 0) {
		pthread_cond_destroy(&st->wake);
		pthread_mutex_destroy(&st->mu);
	}
out:
	pthread_condattr_destroy(&ca);
	return -rc;
}

static void sync_fini(struct steer_store *st)
{
	pthread_cond_destroy(&st->done);
	pthread_cond_destroy(&st->wake);
	pthread_mutex_destroy(&st->mu);
}

int steer_store_new(const struct steer_store_opts *opts, struct steer_store **out)
{
	struct steer_store *st = NULL;
	int rc;

	if (opts == NULL || opts->path == NULL || opts->path[0] == '\0')
		return STEER_EINVAL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return STEER_ENOMEM;
	st->opts = *opts;
	apply_defaults(&st->opts);
	st->path = strdup(opts->path);
	if (st->path == NULL) {
		rc = STEER_ENOMEM;
		goto out;
	}
	st->opts.path = st->path;
	st->db.path = st->path;
	rc = sync_init(st);
	if (rc < 0)
		goto out;
	/* every signal blocked: signals belong to the daemon's main thread */
	rc = steer_thread_start(&st->thread, opts->cpus,
				STEER_THREAD_NO_SIGNALS | STEER_THREAD_CPUS_OPTIONAL,
				"store writer (affinity.monitor)", store_writer_main, st);
	if (rc < 0) {
		sync_fini(st);
		goto out;
	}
	*out = st;
	st = NULL; /* the caller owns it now */
out:
	if (st != NULL)
		free(st->path);
	free(st);
	return rc;
}

void steer_store_free(struct steer_store *st)
{
	if (st == NULL)
		return;
	(void)steer_store_flush(st, STORE_FREE_FLUSH_MS);
	pthread_mutex_lock(&st->mu);
	st->stop = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thread, NULL);
	store_rec_free_list(st->head);
	store_rec_free_list(st->urgent);
	sync_fini(st);
	free(st->path);
	free(st);
}
