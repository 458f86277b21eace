/*
 * Probing: one thread with its own event_base runs every probe of every monitored origin.
 * HTTP(S) goes through one libcurl multi handle driven by libevent
 * (curl_multi_socket_action); TCP probes are plain non-blocking connects on the same base.
 * Results (after immediate re-tries) are handed to a callback on the monitor thread.
 */
#ifndef STEER_MONITOR_MONITOR_H
#define STEER_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "health/health.h"

struct steer_config;
struct steer_prober;
struct event_base;

/**
 * Create a prober for every origin of every pool of @p cfg that has a monitor.
 * @param cfg   Config (borrowed; must outlive the prober).
 * @param done  Called on the monitor thread with each result (borrowed for the call).
 * @param out   Receives the prober (free with steer_prober_free()).
 * @return 0, STEER_ENOMEM, or STEER_EPROBE with @p err set (curl init failed).
 */
STEER_MUSTCHECK int steer_prober_new(const struct steer_config *cfg, steer_probe_done_fn *done,
				     void *arg, struct steer_prober **out, struct steer_err *err);

/**
 * The prober's event_base, so the owner can add its own events (timers) to the monitor
 * thread before start. Borrowed.
 */
struct event_base *steer_prober_get_base(struct steer_prober *p);

/**
 * Start the monitor thread. The first round of probes starts at once, spread over the
 * first 1 s (then over each monitor's interval), so a restart does not wait an interval.
 * @return 0 or a negative errno.
 */
STEER_MUSTCHECK int steer_prober_start(struct steer_prober *p);

/** Stop: abort transfers, join the thread (idempotent). */
void steer_prober_stop(struct steer_prober *p);

/** Stop and free (NULL-safe). */
void steer_prober_free(struct steer_prober *p);

#endif
