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
 * Create a prober for every origin of every pool of @p cfg that has a monitor. Disabled
 * pools and disabled origins are not probed.
 * @param cfg   Config (borrowed; must outlive the prober).
 * @param done  Called on the monitor thread with each result (borrowed for the call).
 * @param arg   Passed to @p done.
 * @param out   Receives the prober (free with steer_prober_free()).
 * @param err   Receives the detail of a failure (may be NULL).
 * @return 0, STEER_ENOMEM, or STEER_EPROBE with @p err set (curl init failed).
 * Context: owner thread; reads /etc/resolv.conf when a tcp monitor probes a hostname.
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
 * first 1 s (or over the interval, if shorter), so a restart does not wait an interval;
 * each origin is then probed every interval after its first probe.
 * @return 0 or a negative errno.
 */
STEER_MUSTCHECK int steer_prober_start(struct steer_prober *p);

/** Stop: abort transfers, join the thread (idempotent). */
void steer_prober_stop(struct steer_prober *p);

/**
 * Stop and free (NULL-safe). Events the owner added to the base must be freed first.
 */
void steer_prober_free(struct steer_prober *p);

/**
 * Offset of the first probe of the @p k-th of the @p n origins probed by one monitor:
 * `k * min(interval, 1 s) / n` rounded down to a 10 ms step, so the first round covers
 * every origin within 1 s and the probes of one step start together.
 * @param k            Rank of the origin among the monitor's probed origins (< @p n).
 * @param n            Number of origins the monitor probes (> 0).
 * @param interval_ms  The monitor's interval.
 * @return Offset in ms from the prober's start. Context: any; pure.
 */
uint32_t steer_prober_first_offset_ms(uint32_t k, uint32_t n, uint32_t interval_ms);

/**
 * Offset of the @p k-th of @p n origins in every round after the first:
 * `k * interval / n` rounded down to a 10 ms step, so a monitor's probes are spread evenly
 * over its whole interval (no thundering herd, a steady probe rate) once the fast first
 * round is over, and those of one step start in one pass of the event loop.
 * @return Offset in ms within the interval. Context: any; pure.
 */
uint32_t steer_prober_steady_offset_ms(uint32_t k, uint32_t n, uint32_t interval_ms);

/**
 * When an origin's next probe is due: the first point of its grid
 * `base + offset + m * interval` (m >= 0) that lies at least half an interval after
 * @p now_ms. Late timers therefore do not drift, ticks missed during a stall are skipped
 * rather than fired in a burst, and two probes of one origin are never closer than half
 * an interval (the move from the first round's offsets to the steady grid included).
 * @param base_ms      Monotonic time the prober started.
 * @param offset_ms    The origin's steady offset (steer_prober_steady_offset_ms()).
 * @param interval_ms  The monitor's interval (> 0).
 * @param now_ms       Monotonic time now.
 * @return The next due time, > @p now_ms. Context: any; pure.
 */
int64_t steer_prober_next_due_ms(int64_t base_ms, uint32_t offset_ms, uint32_t interval_ms,
				 int64_t now_ms);

#endif
