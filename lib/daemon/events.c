/*
 * Event fan-out: a mutex-protected FIFO of event copies and one daemon thread that takes
 * the whole queue at once and delivers it outside the lock, then runs the tick when due.
 */
#include "daemon/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEER_LOG_SRC "events"
#include "core/clock.h"
#include "core/log.h"

#define DEFAULT_CAP     65536
#define DROP_LOG_MS     10000
#define MAX_SUBSCRIBERS 8

struct item {
	struct item *next;
	struct steer_event ev;
};

struct sub {
	steer_event_fn *fn;
	void *arg;
};

struct steer_events {
	pthread_mutex_t lk;
	pthread_cond_t cv; /* waits on CLOCK_MONOTONIC */
	struct item *head;
	struct item **tail;
	size_t n;
	size_t cap;
	bool stop;
	bool started;
	pthread_t thread;
	struct sub subs[MAX_SUBSCRIBERS];
	size_t n_subs;
	steer_event_tick_fn *tick;
	void *tick_arg;
	uint32_t tick_ms;
	_Atomic uint64_t dropped;
	int64_t last_drop_log_ms;
};

const char *steer_event_kind_name(enum steer_event_kind kind)
{
	static const char *const names[] = {"origin", "pool", "balancer", "override", "reload"};

	return (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

int steer_events_new(size_t cap, struct steer_events **out)
{
	struct steer_events *evs = calloc(1, sizeof(*evs));
	pthread_condattr_t ca;

	if (evs == NULL)
		return STEER_ENOMEM;
	if (pthread_condattr_init(&ca) != 0) {
		free(evs);
		return STEER_ENOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&evs->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		free(evs);
		return STEER_ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&evs->lk, NULL);
	evs->tail = &evs->head;
	evs->cap = cap != 0 ? cap : DEFAULT_CAP;
	*out = evs;
	return 0;
}

int steer_events_subscribe(struct steer_events *evs, steer_event_fn *fn, void *arg)
{
	if (evs->n_subs == MAX_SUBSCRIBERS)
		return STEER_ENOMEM;
	evs->subs[evs->n_subs].fn = fn;
	evs->subs[evs->n_subs].arg = arg;
	evs->n_subs++;
	return 0;
}

/* Count a drop; log at most once per DROP_LOG_MS. Holds lk. */
static void drop_locked(struct steer_events *evs)
{
	uint64_t n = atomic_fetch_add(&evs->dropped, 1) + 1;
	int64_t now = steer_clock_mono_ms();

	if (now - evs->last_drop_log_ms >= DROP_LOG_MS) {
		evs->last_drop_log_ms = now;
		log_err("event queue full (%zu): events dropped=%llu", evs->cap,
			(unsigned long long)n);
	}
}

bool steer_events_publish(struct steer_events *evs, const struct steer_event *ev)
{
	struct item *it = malloc(sizeof(*it));

	pthread_mutex_lock(&evs->lk);
	if (it == NULL || evs->n >= evs->cap) {
		drop_locked(evs);
		pthread_mutex_unlock(&evs->lk);
		free(it);
		return false;
	}
	it->next = NULL;
	it->ev = *ev;
	*evs->tail = it;
	evs->tail = &it->next;
	evs->n++;
	pthread_cond_signal(&evs->cv);
	pthread_mutex_unlock(&evs->lk);
	return true;
}

static void deliver(struct steer_events *evs, struct item *batch)
{
	while (batch != NULL) {
		struct item *next = batch->next;

		for (size_t i = 0; i < evs->n_subs; i++)
			evs->subs[i].fn(evs->subs[i].arg, &batch->ev);
		free(batch);
		batch = next;
	}
}

/* Wait until an event arrives, the tick is due (@p due_ms, monotonic) or stop. Holds lk. */
static void wait_locked(struct steer_events *evs, int64_t due_ms)
{
	struct timespec ts;

	if (evs->head != NULL || evs->stop)
		return;
	ts.tv_sec = (time_t)(due_ms / 1000);
	ts.tv_nsec = (long)(due_ms % 1000) * 1000000;
	pthread_cond_timedwait(&evs->cv, &evs->lk, &ts);
}

static void *events_main(void *arg)
{
	struct steer_events *evs = arg;
	int64_t due = steer_clock_mono_ms() + evs->tick_ms;
	bool stop = false;

	steer_thread_name("steer-daemon");
	while (!stop) {
		struct item *batch;

		pthread_mutex_lock(&evs->lk);
		wait_locked(evs, due);
		batch = evs->head;
		evs->head = NULL;
		evs->tail = &evs->head;
		evs->n = 0;
		stop = evs->stop;
		pthread_mutex_unlock(&evs->lk);
		deliver(evs, batch);
		if (evs->tick != NULL && !stop && steer_clock_mono_ms() >= due) {
			evs->tick(evs->tick_arg, steer_clock_wall_ms());
			due = steer_clock_mono_ms() + evs->tick_ms;
		}
	}
	return NULL;
}

int steer_events_start(struct steer_events *evs, steer_event_tick_fn *tick, void *tick_arg,
		       uint32_t tick_ms, const struct steer_cpus *cpus)
{
	int rc;

	evs->tick = tick;
	evs->tick_arg = tick_arg;
	evs->tick_ms = tick_ms != 0 ? tick_ms : 100;
	rc = steer_thread_start(&evs->thread, cpus,
				STEER_THREAD_NO_SIGNALS | STEER_THREAD_CPUS_OPTIONAL, "daemon",
				events_main, evs);
	if (rc == 0)
		evs->started = true;
	return rc;
}

void steer_events_stop(struct steer_events *evs)
{
	struct item *rest;

	if (evs == NULL)
		return;
	if (evs->started) {
		pthread_mutex_lock(&evs->lk);
		evs->stop = true;
		pthread_cond_signal(&evs->cv);
		pthread_mutex_unlock(&evs->lk);
		pthread_join(evs->thread, NULL);
		evs->started = false;
		evs->stop = false;
	}
	/* published after the thread's last pass, or never started: deliver here */
	pthread_mutex_lock(&evs->lk);
	rest = evs->head;
	evs->head = NULL;
	evs->tail = &evs->head;
	evs->n = 0;
	pthread_mutex_unlock(&evs->lk);
	deliver(evs, rest);
}

uint64_t steer_events_dropped(struct steer_events *evs)
{
	return atomic_load(&evs->dropped);
}

void steer_events_free(struct steer_events *evs)
{
	if (evs == NULL)
		return;
	steer_events_stop(evs);
	pthread_cond_destroy(&evs->cv);
	pthread_mutex_destroy(&evs->lk);
	free(evs);
}
