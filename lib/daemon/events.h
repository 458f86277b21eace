/*
 * The event fan-out: a state change (origin, pool, balancer, override) or a reload is
 * published once, from any thread, into a bounded queue; the daemon thread delivers it
 * to every subscriber (the log, the store, later notifications and NOTIFY), so the
 * thread that published it (the monitor thread, the API thread) never spends time on
 * delivery. The same thread runs a periodic tick for the daemon's timers.
 */
#ifndef STEER_DAEMON_EVENTS_H
#define STEER_DAEMON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/thread.h"

enum steer_event_kind {
	STEER_EVENT_ORIGIN,   /* an origin's probed state changed */
	STEER_EVENT_POOL,     /* a pool turned healthy or unhealthy */
	STEER_EVENT_BALANCER, /* the pool a balancer answers from changed */
	STEER_EVENT_OVERRIDE, /* an operator set or cleared an override, or a window ended */
	STEER_EVENT_RELOAD,   /* the configuration was reloaded (or a reload failed) */
};

#define STEER_EVENT_NAME_MAX 256

/** One event; strings are copied in, "" where they do not apply. */
struct steer_event {
	enum steer_event_kind kind;
	int64_t time_ms; /* wall clock, ms since the Unix epoch */
	char balancer[STEER_EVENT_NAME_MAX];
	char pool[STEER_EVENT_NAME_MAX];
	char origin[STEER_EVENT_NAME_MAX];  /* origin events; override of an origin */
	char address[STEER_EVENT_NAME_MAX]; /* origin events */
	char from[160];                     /* previous state ("up", "healthy", "homelab") */
	char to[160]; /* new state; for overrides "drain"/"down"/"up"/"auto" */
	char reason[256];
	int64_t until_ms; /* overrides: end of the window, 0 = none */
	char source[16];  /* overrides: "api", "expired"; reloads: "signal", "api" */
	bool ok;          /* reloads: succeeded */
};

/** Name of a kind: "origin", "pool", "balancer", "override", "reload". */
const char *steer_event_kind_name(enum steer_event_kind kind);

/** A subscriber; runs on the daemon thread, @p ev borrowed for the call; must not block
 * for long (hand slow work to its own queue). */
typedef void steer_event_fn(void *arg, const struct steer_event *ev);

/** The periodic tick; runs on the daemon thread. @p now_ms is the wall clock. */
typedef void steer_event_tick_fn(void *arg, int64_t now_ms);

struct steer_events;

/**
 * Create the fan-out with room for @p cap queued events (0 = 65536).
 * @param out  Receives it (free with steer_events_free()).
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int steer_events_new(size_t cap, struct steer_events **out);

/**
 * Add a subscriber (before steer_events_start()). Subscribers get events in order.
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int steer_events_subscribe(struct steer_events *evs, steer_event_fn *fn, void *arg);

/**
 * Queue @p ev (copied) for delivery. Non-blocking; any thread.
 * @return true if queued, false if the queue is full (counted; logged at most every 10 s).
 */
bool steer_events_publish(struct steer_events *evs, const struct steer_event *ev);

/**
 * Start the daemon thread: deliveries, and @p tick every @p tick_ms (may be NULL).
 * @param cpus  CPUs of the thread (NULL = any). @return 0 or a negative errno.
 */
STEER_MUSTCHECK int steer_events_start(struct steer_events *evs, steer_event_tick_fn *tick,
				       void *tick_arg, uint32_t tick_ms,
				       const struct steer_cpus *cpus);

/** Deliver everything queued so far, stop and join the thread (idempotent). */
void steer_events_stop(struct steer_events *evs);

/** Events dropped because the queue was full. */
uint64_t steer_events_dropped(struct steer_events *evs);

/** Stop (delivering what is queued) and free (NULL-safe). */
void steer_events_free(struct steer_events *evs);

#endif
