/*
 * The health loop: probe results (monitor thread), operator overrides and failback
 * commands (API thread) and timers (daemon thread) all change health here, under one
 * lock. Every change builds a new snapshot (states, overrides, failback pins), publishes
 * it to the DNS server at once, then works out pool and balancer transitions and hands
 * them to the event fan-out. Nothing here waits for the store, the log or the network.
 */
#ifndef STEER_DAEMON_LOOP_H
#define STEER_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct steer_config;
struct steer_server;
struct steer_store;
struct steer_events;
struct steer_zone;
struct steer_health_snapshot;
struct steer_loop;

/**
 * Build the loop for @p cfg. With @p prev (a stopped loop of the previous config) origins
 * that survive (same pool, name, address) keep their state and last probe; overrides,
 * pool "since" times and failback pins carry over by name. Without it (start-up) they
 * are restored from the store file cfg->state_path (an unreadable file is logged; origins
 * then start unknown).
 * @param store   Store for probe rows and failback pins (borrowed; may be NULL).
 * @param events  Fan-out for transitions and overrides (borrowed; must outlive the loop).
 * @param out     Receives the loop (free with steer_loop_free()).
 * @return 0 or STEER_ENOMEM.
 * Context: start-up or reload, under the daemon's lock.
 */
STEER_MUSTCHECK int steer_loop_new(const struct steer_config *cfg, struct steer_loop *prev,
				   struct steer_store *store, struct steer_events *events,
				   struct steer_loop **out);

/** A new snapshot of the current health (caller owns it), or NULL when out of memory. */
struct steer_health_snapshot *steer_loop_snapshot(struct steer_loop *l);

/**
 * Publish into @p srv from now on and start probing (the monitor thread).
 * @return 0, or an error with @p err set; the loop then publishes but does not probe, and
 * steer_loop_start_probes() may be retried.
 */
STEER_MUSTCHECK int steer_loop_start(struct steer_loop *l, struct steer_server *srv,
				     struct steer_err *err);

/** Retry starting the probes after a failure. @return 0 or an error (in @p err). */
STEER_MUSTCHECK int steer_loop_start_probes(struct steer_loop *l, struct steer_err *err);

/** Are the probes running? */
bool steer_loop_is_probing(struct steer_loop *l);

/** Stop probing and join the monitor thread (idempotent); the loop stays readable. */
void steer_loop_stop(struct steer_loop *l);

/** Stop and free (NULL-safe). Does not free the store or the events. */
void steer_loop_free(struct steer_loop *l);

/**
 * Timers: end maintenance windows that are over and fail back balancers whose
 * failback_hold has elapsed. Context: the daemon thread, every ~100 ms.
 */
void steer_loop_tick(struct steer_loop *l, int64_t now_ms);

/**
 * Set or clear ("auto") an override of an origin (@p origin non-NULL) or a whole pool.
 * @param for_ms  Window length; 0 = until cleared.
 * @param result  Receives {"ok": true, "pool", "origin", "override"} on success.
 * @return 0, -ENOENT (no such pool/origin) or -EINVAL (bad state), with @p err set.
 * Context: API thread.
 */
int steer_loop_override(struct steer_loop *l, const char *pool, const char *origin,
			const char *state, int64_t for_ms, const char *reason, int64_t now_ms,
			json_t **result, struct steer_err *err);

/**
 * Fail balancer @p name back now (manual failback, or skip the rest of a hold).
 * @return 0, -ENOENT (no such balancer) or -EBUSY (not waiting for a failback).
 */
int steer_loop_failback(struct steer_loop *l, const char *name, int64_t now_ms, json_t **result,
			struct steer_err *err);

/** The GET /v1/status document. @return a new reference or NULL when out of memory. */
json_t *steer_loop_status(struct steer_loop *l, int64_t now_ms);

/**
 * The GET /v1/explain document: the answer @p zone gives now to @p client for @p name /
 * @p type, and why. @return 0 or -EINVAL (bad name, type or client) with @p err set.
 */
int steer_loop_explain(struct steer_loop *l, const struct steer_zone *zone, const char *name,
		       const char *type, const char *client, int64_t now_ms, json_t **result,
		       struct steer_err *err);

#endif
