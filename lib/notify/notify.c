/*
 * The notifier: a bounded queue filled by publishers, and a thread with its own event base
 * that moves queued events into the SQLite outbox, then delivers each target's events in
 * outbox order (coalesced into digests, retried with backoff). The outbox marks make a
 * restart or a dead receiver lose nothing; see README.md for the one duplicate window.
 */
#include "notify/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "core/clock.h"
#include "core/thread.h"
#include "notify/notify_int.h"

#define STEER_LOG_SRC "notify"
#include "core/log.h"

#define DEFAULT_TICK_MS   100
#define DEFAULT_RETRY_MS  1000
#define DEFAULT_STOP_MS   2000
#define OPEN_RETRY_MS     2000
#define PRUNE_EVERY_MS    600000
#define KEEP_DELIVERED_MS 86400000LL /* delivered events stay a day, for inspection */
#define LOG_EVERY_MS      10000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || evthread_use_pthreads() < 0)
		global_rc = STEER_EIO;
}

static const char *const type_names[] = {"webhook", "slack", "discord", "ntfy",
					 "gotify",  "email", "exec"};

/* ---- the queue (any thread) ---- */

static void test_unref(struct steer_notify *n, struct ntest *t)
{
	bool last;

	if (t == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	last = --t->refs == 0;
	pthread_mutex_unlock(&n->mu);
	if (last)
		free(t);
}

static void items_free(struct steer_notify *n, struct nitem *it)
{
	while (it != NULL) {
		struct nitem *next = it->next;

		test_unref(n, it->test);
		free(it->target);
		free(it);
		it = next;
	}
}

static bool wanted(const struct steer_notify *n, uint32_t kind)
{
	for (size_t i = 0; i < n->conf.n; i++)
		if ((n->conf.t[i].events & kind) != 0)
			return true;
	return false;
}

/* Append @p it; false (not queued, caller frees) when the queue is full. */
static bool enqueue(struct steer_notify *n, struct nitem *it)
{
	int64_t now = steer_clock_mono_ms();
	uint64_t dropped = 0;
	bool ok;

	pthread_mutex_lock(&n->mu);
	ok = n->n_queued < NOTIFY_QUEUE_MAX;
	if (ok) {
		if (n->tail != NULL)
			n->tail->next = it;
		else
			n->head = it;
		n->tail = it;
		n->n_queued++;
	} else {
		n->dropped++;
		if (now >= n->next_drop_log_ms) {
			dropped = n->dropped;
			n->next_drop_log_ms = now + LOG_EVERY_MS;
		}
	}
	pthread_mutex_unlock(&n->mu);
	if (ok)
		event_active(n->wake, EV_READ, 0);
	else if (dropped != 0)
		log_err("queue full: events dropped=%llu since start", (unsigned long long)dropped);
	return ok;
}

static struct nitem *item_new(uint32_t kind, int64_t time_ms, const char *body)
{
	size_t len = strlen(body) + 1;
	struct nitem *it = calloc(1, sizeof(*it) + len);

	if (it == NULL)
		return NULL;
	it->kind = kind;
	it->time_ms = time_ms;
	memcpy(it->body, body, len);
	return it;
}

bool steer_notify_publish(struct steer_notify *n, const struct steer_notify_event *ev)
{
	struct nitem *it;
	char *body;

	if (n == NULL || !wanted(n, ev->kind))
		return false;
	body = steer_notify_event_json(ev);
	it = body != NULL ? item_new(ev->kind, ev->time_ms, body) : NULL;
	free(body);
	if (it == NULL) {
		log_err("out of memory: a notification was dropped");
		return false;
	}
	if (!enqueue(n, it)) {
		free(it);
		return false;
	}
	return true;
}

/* ---- the outbox (notifier thread) ---- */

static void log_db_err(struct steer_notify *n, const char *what, const struct steer_err *err)
{
	int64_t now = steer_clock_mono_ms();

	if (now < n->next_err_log_ms)
		return;
	n->next_err_log_ms = now + LOG_EVERY_MS;
	log_err("%s: %s (retrying)", what, err->msg);
}

static void outbox_lost(struct steer_notify *n)
{
	steer_outbox_close(n->ob);
	n->ob = NULL;
	n->next_open_ms = steer_clock_mono_ms() + OPEN_RETRY_MS;
	for (size_t i = 0; i < n->conf.n; i++)
		n->t[i].known = false; /* read the positions again after the reopen */
}

static void outbox_open(struct steer_notify *n, int64_t now)
{
	struct steer_err err = {0};

	if (n->ob != NULL || now < n->next_open_ms)
		return;
	if (steer_outbox_open(n->state_path, &n->ob, &err) < 0) {
		n->next_open_ms = now + OPEN_RETRY_MS;
		log_db_err(n, "cannot open the outbox", &err);
	}
}

/* Tell the test requests among @p list their ids (the last id is @p last). */
static void tell_tests(struct steer_notify *n, struct nitem *list, size_t count, int64_t last)
{
	int64_t id = last - (int64_t)count + 1; /* one transaction: consecutive ids */

	pthread_mutex_lock(&n->mu);
	for (struct nitem *it = list; it != NULL; it = it->next, id++)
		if (it->test != NULL)
			it->test->id = id;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->mu);
}

static void mark_urgent(struct steer_notify *n, const struct nitem *list)
{
	for (const struct nitem *it = list; it != NULL; it = it->next)
		for (size_t i = 0; it->kind == STEER_NOTIFY_TEST && i < n->conf.n; i++)
			if (it->target == NULL || strcmp(it->target, n->t[i].conf.name) == 0)
				n->t[i].urgent = true;
}

/* Move everything queued into the outbox, in one transaction. */
static void drain(struct steer_notify *n)
{
	struct steer_outbox_event *v;
	struct steer_err err = {0};
	struct nitem *list, **end = &n->unsaved;
	size_t count = 0, i = 0;
	int64_t last = 0;

	while (*end != NULL)
		end = &(*end)->next;
	pthread_mutex_lock(&n->mu);
	*end = n->head;
	n->head = n->tail = NULL;
	n->n_queued = 0;
	pthread_mutex_unlock(&n->mu);
	list = n->unsaved;
	for (struct nitem *it = list; it != NULL; it = it->next)
		count++;
	if (count == 0 || n->ob == NULL)
		return;
	v = calloc(count, sizeof(*v));
	if (v == NULL)
		return; /* kept in n->unsaved: the next tick tries again */
	for (struct nitem *it = list; it != NULL; it = it->next, i++)
		v[i] = (struct steer_outbox_event){.time_ms = it->time_ms,
						   .kind = it->kind,
						   .target = it->target,
						   .body = it->body};
	if (steer_outbox_add(n->ob, v, count, &last, &err) == 0) {
		tell_tests(n, list, count, last);
		mark_urgent(n, list);
		n->unsaved = NULL;
		n->gen++;
		items_free(n, list);
	} else {
		log_db_err(n, "cannot write the outbox", &err);
		outbox_lost(n);
	}
	free(v);
}

/* ---- delivery (notifier thread) ---- */

static void set_status(struct ntarget *t, const char *why)
{
	struct steer_notify *n = t->n;

	pthread_mutex_lock(&n->mu);
	n->status[t->idx].delivered = t->delivered;
	n->status[t->idx].failures += why != NULL ? 1 : 0;
	snprintf(n->status[t->idx].error, sizeof(n->status[t->idx].error), "%s",
		 why != NULL ? why : "");
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->mu);
}

/* The message is out (or given up): record it. On failure the mark is retried alone. */
static void mark_delivered(struct ntarget *t)
{
	struct steer_notify *n = t->n;
	struct steer_err err = {0};

	if (n->ob == NULL ||
	    steer_outbox_set_delivered(n->ob, t->conf.name, t->batch_last, &err) < 0) {
		if (n->ob != NULL) {
			log_db_err(n, "cannot mark notifications delivered", &err);
			outbox_lost(n);
		}
		t->state = NT_MARK;
		return;
	}
	t->delivered = t->batch_last;
	t->sending = 0;
	t->state = NT_IDLE;
	set_status(t, NULL);
}

/* Count a delivery outcome for the metrics. */
static void count(struct ntarget *t, uint64_t sent, uint64_t failed, uint64_t given_up)
{
	struct nstatus *st = &t->n->status[t->idx];

	pthread_mutex_lock(&t->n->mu);
	st->sent += sent;
	st->failed += failed;
	st->given_up += given_up;
	pthread_mutex_unlock(&t->n->mu);
}

size_t steer_notify_get_stats(struct steer_notify *n, struct steer_notify_stats *out, size_t cap,
			      uint64_t *queued)
{
	size_t k = 0;

	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->conf.n && k < cap; i++, k++) {
		out[k].name = n->conf.t[i].name;
		out[k].type = type_names[n->conf.t[i].type];
		out[k].sent = n->status[i].sent;
		out[k].failed = n->status[i].failed;
		out[k].given_up = n->status[i].given_up;
	}
	*queued = n->n_queued;
	pthread_mutex_unlock(&n->mu);
	return k;
}

void notify_done(struct ntarget *t, bool ok, const char *why)
{
	int64_t age = steer_clock_wall_ms() - t->batch_oldest_ms;
	uint32_t cap = t->conf.retry_max_ms;
	char q[NOTIFY_ERR_MAX + 64];

	if (ok) {
		if (t->failures > 0)
			log_notice("target=%s delivered again after failures=%llu", t->conf.name,
				   (unsigned long long)t->failures);
		log_info("target=%s delivered events=%zu id=%lld", t->conf.name, t->pl.count,
			 (long long)t->batch_last);
		t->failures = 0;
		t->backoff_ms = 0;
		count(t, t->pl.count, 0, 0);
	} else if (age > (int64_t)t->conf.max_age_ms) {
		count(t, 0, 1, t->pl.count);
		log_err("target=%s gave up events=%zu id=%lld after max_age=%us error=\"%s\"",
			t->conf.name, t->pl.count, (long long)t->batch_last,
			t->conf.max_age_ms / 1000, steer_log_quote(why, q, sizeof(q)));
	} else {
		t->failures++;
		count(t, 0, 1, 0);
		t->backoff_ms = t->backoff_ms == 0 ? t->n->opts.retry_min_ms : t->backoff_ms * 2;
		t->backoff_ms = t->backoff_ms > cap ? cap : t->backoff_ms;
		t->next_try_ms = steer_clock_mono_ms() + t->backoff_ms;
		log_warn("target=%s delivery failed attempt=%llu events=%zu id=%lld error=\"%s\" "
			 "retry_in_ms=%u",
			 t->conf.name, (unsigned long long)t->failures, t->pl.count,
			 (long long)t->batch_last, steer_log_quote(why, q, sizeof(q)),
			 t->backoff_ms);
		steer_notify_payload_fini(&t->pl);
		t->state = NT_IDLE; /* the sending mark stays: the same events go again */
		set_status(t, why);
		return;
	}
	steer_notify_payload_fini(&t->pl);
	mark_delivered(t);
}

/* The events of the next message into a JSON array (each with its "id"). */
static json_t *rows_json(const struct steer_outbox_row *rows, size_t n_rows)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n_rows; i++) {
		json_t *ev = json_loads(rows[i].body, 0, NULL);

		if (ev == NULL || !json_is_object(ev))
			ev = json_pack("{s:s}", "event", "unreadable");
		if (ev != NULL)
			json_object_set_new(ev, "id", json_integer(rows[i].id));
		if (ev == NULL || json_array_append_new(arr, ev) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int start_send(struct ntarget *t, json_t *events)
{
	char why[NOTIFY_ERR_MAX] = "";
	int rc = steer_notify_payload_build(&t->conf, events, steer_clock_wall_ms() / 1000, &t->pl);

	if (rc < 0)
		return rc;
	t->state = NT_BUSY;
	rc = t->conf.type == STEER_NOTIFY_EXEC ? notify_exec_send(t, why, sizeof(why))
					       : notify_http_send(t, why, sizeof(why));
	if (rc < 0)
		notify_done(t, false, why);
	return 0;
}

/* Read the next message's events (the one in flight again, or what is pending). */
static int load_batch(struct ntarget *t, struct steer_outbox_row *rows, struct steer_err *err)
{
	const uint32_t kinds = t->conf.events | STEER_NOTIFY_TEST;
	int64_t upto = t->sending > t->delivered ? t->sending : INT64_MAX;

	return steer_outbox_pending(t->n->ob, t->conf.name, kinds, t->delivered, upto, rows,
				    NOTIFY_BATCH_MAX, err);
}

/* Pending events and the coalescing window: is a message due now? */
static bool due(struct ntarget *t, int64_t now)
{
	struct steer_outbox_row row;
	struct steer_err err = {0};
	int got;

	if (t->sending > t->delivered)
		return true; /* a message cut short: send the same one again */
	if (t->scanned_gen == t->n->gen && !t->urgent)
		return false;
	got = steer_outbox_pending(t->n->ob, t->conf.name, t->conf.events | STEER_NOTIFY_TEST,
				   t->delivered, INT64_MAX, &row, 1, &err);
	if (got < 0) {
		log_db_err(t->n, "cannot read the outbox", &err);
		return false;
	}
	steer_outbox_rows_fini(&row, (size_t)got);
	if (got == 0) {
		t->scanned_gen = t->n->gen;
		t->pending_since_ms = 0;
		t->urgent = false;
		return false;
	}
	if (t->pending_since_ms == 0)
		t->pending_since_ms = now;
	return t->urgent || now - t->pending_since_ms >= (int64_t)t->conf.coalesce_ms;
}

static void target_known(struct ntarget *t)
{
	struct steer_err err = {0};

	if (steer_outbox_target(t->n->ob, t->conf.name, &t->delivered, &t->sending, &err) < 0) {
		log_db_err(t->n, "cannot read the outbox", &err);
		return;
	}
	t->known = true;
	t->scanned_gen = 0;
	set_status(t, NULL);
}

static void target_step(struct ntarget *t, int64_t now)
{
	struct steer_outbox_row rows[NOTIFY_BATCH_MAX];
	struct steer_err err = {0};
	json_t *events;
	int got;

	if (t->n->ob != NULL && !t->known)
		target_known(t);
	if (t->state == NT_MARK && t->n->ob != NULL)
		mark_delivered(t);
	if (t->n->ob == NULL || !t->known || t->state != NT_IDLE || now < t->next_try_ms ||
	    !due(t, now))
		return;
	got = load_batch(t, rows, &err);
	if (got <= 0) {
		if (got < 0)
			log_db_err(t->n, "cannot read the outbox", &err);
		else if (t->sending > t->delivered) /* pruned meanwhile: nothing to resend */
			t->sending = 0;
		return;
	}
	t->batch_last = rows[got - 1].id;
	t->batch_oldest_ms = rows[0].time_ms;
	t->pending_since_ms = 0;
	t->urgent = false;
	events = rows_json(rows, (size_t)got);
	steer_outbox_rows_fini(rows, (size_t)got);
	if (events == NULL)
		return;
	/* the mark first: a crash after the send must repeat this very message */
	if (t->sending != t->batch_last &&
	    steer_outbox_set_sending(t->n->ob, t->conf.name, t->batch_last, &err) < 0) {
		log_db_err(t->n, "cannot write the outbox", &err);
		outbox_lost(t->n);
	} else {
		t->sending = t->batch_last;
		if (start_send(t, events) < 0)
			log_err("target=%s: out of memory building a message", t->conf.name);
	}
	json_decref(events);
}

/* ---- the thread ---- */

static void prune(struct steer_notify *n, int64_t now)
{
	const char *names[STEER_NOTIFY_MAX];
	struct steer_err err = {0};
	int rc;

	if (n->ob == NULL || now < n->next_prune_ms)
		return;
	n->next_prune_ms = now + PRUNE_EVERY_MS;
	for (size_t i = 0; i < n->conf.n; i++)
		names[i] = n->conf.t[i].name;
	rc = steer_outbox_prune(n->ob, names, n->conf.n, steer_clock_wall_ms() - KEEP_DELIVERED_MS,
				&err);
	if (rc < 0)
		log_db_err(n, "cannot prune the outbox", &err);
	else if (rc > 0)
		log_info("pruned delivered events=%d", rc);
}

static bool any_busy(const struct steer_notify *n)
{
	for (size_t i = 0; i < n->conf.n; i++)
		if (n->t[i].state == NT_BUSY)
			return true;
	return false;
}

/* Stopping: no new messages; those in flight get until the deadline, then are cut. */
static void stop_step(struct steer_notify *n, int64_t now)
{
	if (n->stop_deadline_ms == 0)
		n->stop_deadline_ms = now + n->opts.stop_wait_ms;
	for (size_t i = 0; i < n->conf.n; i++) {
		notify_exec_poll(&n->t[i], now);
		if (n->t[i].state == NT_MARK && n->ob != NULL)
			mark_delivered(&n->t[i]);
	}
	if (any_busy(n) && now < n->stop_deadline_ms)
		return;
	for (size_t i = 0; i < n->conf.n; i++) {
		if (n->t[i].state != NT_BUSY)
			continue;
		log_warn("target=%s message id=%lld cut short by the stop; it is sent again at the "
			 "next start",
			 n->t[i].conf.name, (long long)n->t[i].batch_last);
		notify_http_abort(&n->t[i]);
		notify_exec_abort(&n->t[i]);
		steer_notify_payload_fini(&n->t[i].pl);
		n->t[i].state = NT_IDLE;
	}
	event_base_loopbreak(n->base);
}

static void run_once(struct steer_notify *n)
{
	int64_t now = steer_clock_mono_ms();
	bool stop;

	pthread_mutex_lock(&n->mu);
	stop = n->stop;
	pthread_mutex_unlock(&n->mu);
	outbox_open(n, now);
	/* positions first: a new target starts at the newest event, not after these */
	for (size_t i = 0; n->ob != NULL && i < n->conf.n; i++)
		if (!n->t[i].known)
			target_known(&n->t[i]);
	drain(n);
	if (stop) {
		stop_step(n, now);
		return;
	}
	for (size_t i = 0; i < n->conf.n; i++) {
		notify_exec_poll(&n->t[i], now);
		target_step(&n->t[i], now);
	}
	prune(n, now);
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_once(arg);
}

static void *run(void *arg)
{
	struct steer_notify *n = arg;

	steer_thread_name("steer-notify");
	log_info("started targets=%zu", n->conf.n);
	run_once(n);
	event_base_loop(n->base, EVLOOP_NO_EXIT_ON_EMPTY);
	if (n->unsaved != NULL)
		log_err("stopped with events not written to the outbox (database unavailable)");
	log_info("stopped");
	return NULL;
}

/* ---- life cycle ---- */

static int new_events(struct steer_notify *n)
{
	struct timeval tv = {.tv_sec = n->opts.tick_ms / 1000,
			     .tv_usec = (n->opts.tick_ms % 1000) * 1000};

	n->base = event_base_new();
	if (n->base == NULL)
		return STEER_ENOMEM;
	n->wake = event_new(n->base, -1, 0, on_event, n);
	n->timer = event_new(n->base, -1, EV_PERSIST, on_event, n);
	if (n->wake == NULL || n->timer == NULL || event_add(n->timer, &tv) < 0)
		return STEER_ENOMEM;
	return notify_http_init(n);
}

int steer_notify_new(const struct steer_notify_opts *opts, struct steer_notify **out,
		     struct steer_err *err)
{
	struct steer_notify *n;
	int rc;

	pthread_once(&global_once, global_init);
	if (global_rc < 0)
		return steer_err_set(err, global_rc,
				     "cannot initialise libcurl or libevent threads");
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return STEER_ENOMEM;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->opts = *opts;
	n->opts.tick_ms = opts->tick_ms != 0 ? opts->tick_ms : DEFAULT_TICK_MS;
	n->opts.retry_min_ms = opts->retry_min_ms != 0 ? opts->retry_min_ms : DEFAULT_RETRY_MS;
	n->opts.stop_wait_ms = opts->stop_wait_ms != 0 ? opts->stop_wait_ms : DEFAULT_STOP_MS;
	n->conf = *opts->conf;
	n->opts.conf = &n->conf;
	n->gen = 1;
	for (size_t i = 0; i < n->conf.n; i++) {
		n->t[i] = (struct ntarget){.n = n, .conf = n->conf.t[i], .idx = i, .stdin_fd = -1};
	}
	n->state_path = strdup(opts->state_path);
	rc = n->state_path != NULL ? new_events(n) : STEER_ENOMEM;
	if (rc < 0) {
		steer_notify_free(n);
		return steer_err_set(err, rc, "cannot set up the notifier: %s", steer_strerror(rc));
	}
	*out = n;
	return 0;
}

int steer_notify_start(struct steer_notify *n, struct steer_err *err)
{
	int rc = steer_thread_start(&n->thread, NULL, STEER_THREAD_NO_SIGNALS, "notifier thread",
				    run, n);

	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the notifier thread: %s",
				     steer_strerror(rc));
	n->running = true;
	return 0;
}

void steer_notify_stop(struct steer_notify *n)
{
	if (n == NULL || !n->running)
		return;
	pthread_mutex_lock(&n->mu);
	n->stop = true;
	pthread_mutex_unlock(&n->mu);
	event_active(n->wake, EV_READ, 0);
	pthread_join(n->thread, NULL);
	n->running = false;
}

void steer_notify_free(struct steer_notify *n)
{
	if (n == NULL)
		return;
	steer_notify_stop(n);
	for (size_t i = 0; i < n->conf.n; i++) {
		notify_http_abort(&n->t[i]);
		notify_exec_abort(&n->t[i]);
		steer_notify_payload_fini(&n->t[i].pl);
	}
	notify_http_fini(n);
	if (n->wake != NULL)
		event_free(n->wake);
	if (n->timer != NULL)
		event_free(n->timer);
	if (n->base != NULL)
		event_base_free(n->base);
	steer_outbox_close(n->ob);
	items_free(n, n->unsaved);
	items_free(n, n->head);
	free(n->state_path);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

bool steer_notify_conf_equal(const struct steer_notify_conf *a, const struct steer_notify_conf *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(&a->t[i], &b->t[i], sizeof(a->t[i])) != 0)
			return false;
	return true;
}

/* ---- test events (API thread) ---- */

/* Queue the test event for @p name (NULL: all). @return the request (a reference). */
static struct ntest *test_queue(struct steer_notify *n, const char *name)
{
	struct steer_notify_event ev = {.kind = STEER_NOTIFY_TEST,
					.time_ms = steer_clock_wall_ms(),
					.reason = "sent by steerctl notify test"};
	char *body = steer_notify_event_json(&ev);
	struct nitem *it = body != NULL ? item_new(ev.kind, ev.time_ms, body) : NULL;
	struct ntest *req = calloc(1, sizeof(*req));

	free(body);
	if (it == NULL || req == NULL || (name != NULL && (it->target = strdup(name)) == NULL)) {
		items_free(n, it);
		free(req);
		return NULL;
	}
	req->refs = 2; /* the caller's and the item's */
	it->test = req;
	if (!enqueue(n, it)) {
		it->test = NULL;
		req->refs = 1;
		items_free(n, it);
		free(req);
		return NULL;
	}
	return req;
}

static bool test_settled(const struct steer_notify *n, const char *name, int64_t id,
			 const uint64_t *fails0)
{
	if (id == 0)
		return false;
	for (size_t i = 0; i < n->conf.n; i++) {
		if (name != NULL && strcmp(name, n->conf.t[i].name) != 0)
			continue;
		if (n->status[i].delivered < id && n->status[i].failures == fails0[i])
			return false;
	}
	return true;
}

static json_t *test_result(const struct steer_notify *n, const char *name, int64_t id)
{
	json_t *arr = json_array();
	bool all = true;

	for (size_t i = 0; arr != NULL && i < n->conf.n; i++) {
		const struct steer_notify_target *c = &n->conf.t[i];
		bool ok = n->status[i].delivered >= id;
		const char *e = n->status[i].error[0] != '\0' ? n->status[i].error : "not yet sent";

		if (name != NULL && strcmp(name, c->name) != 0)
			continue;
		all = all && ok;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s?}", "name", c->name,
						     "type", type_names[c->type], "delivered", ok,
						     "error", ok ? NULL : e));
	}
	return arr != NULL ? json_pack("{s:b, s:I, s:o}", "ok", all, "id", (json_int_t)id,
				       "targets", arr)
			   : NULL;
}

static int test_check_name(const struct steer_notify *n, const char *name, struct steer_err *err)
{
	if (n->conf.n == 0)
		return steer_err_set(err, -ENOENT, "no notifications are configured");
	for (size_t i = 0; name != NULL && i < n->conf.n; i++)
		if (strcmp(n->conf.t[i].name, name) == 0)
			return 0;
	if (name != NULL)
		return steer_err_set(err, -ENOENT, "no notification named \"%s\"", name);
	return 0;
}

int steer_notify_test(struct steer_notify *n, const char *name, uint32_t wait_ms, json_t **result,
		      struct steer_err *err)
{
	uint64_t fails0[STEER_NOTIFY_MAX];
	struct timespec ts;
	struct ntest *req;
	int rc = test_check_name(n, name, err);
	int64_t id;

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->conf.n; i++)
		fails0[i] = n->status[i].failures;
	pthread_mutex_unlock(&n->mu);
	req = test_queue(n, name);
	if (req == NULL)
		return steer_err_set(err, STEER_ENOMEM, "cannot queue the test event");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&n->mu);
	for (rc = 0; rc == 0 && !test_settled(n, name, req->id, fails0);)
		rc = pthread_cond_timedwait(&n->cond, &n->mu, &ts);
	id = req->id;
	*result = id != 0 ? test_result(n, name, id) : NULL;
	pthread_mutex_unlock(&n->mu);
	test_unref(n, req);
	if (id == 0)
		return steer_err_set(err, -ETIMEDOUT,
				     "the test event could not be written to the "
				     "outbox in time (is the database usable?)");
	return *result != NULL ? 0 : STEER_ENOMEM;
}
