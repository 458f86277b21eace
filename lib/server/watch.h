/*
 * The health loop that ties monitors, health engine, store and DNS answers together:
 * probe results (monitor thread) feed the state machine; a transition publishes a new
 * snapshot at once, records it in the store, and recomputes pool and balancer state.
 */
#ifndef STEER_SERVER_WATCH_H
#define STEER_SERVER_WATCH_H

#include "core/err.h"

struct steer_config;
struct steer_server;
struct steer_health_snapshot;
struct steer_watch;

/**
 * Build the health engine for @p cfg. At start (@p prev_cfg NULL) the last known states
 * are restored from the store file (cfg->state_path; a store that cannot be read is
 * logged and origins start unknown). On reload, origins that survive (same pool, name and
 * address) keep their state from @p prev_snap, which is indexed for @p prev_cfg.
 * @param out  Receives the watch (free with steer_watch_free()).
 * @return 0 or STEER_ENOMEM.
 * Context: start-up (before the listeners open) or reload, on the main thread.
 */
STEER_MUSTCHECK int steer_watch_new(const struct steer_config *cfg,
				    const struct steer_config *prev_cfg,
				    const struct steer_health_snapshot *prev_snap,
				    struct steer_watch **out);

/**
 * The snapshot of the restored states, for steer_server_new().
 * @return new snapshot (caller owns it) or NULL on allocation failure.
 */
struct steer_health_snapshot *steer_watch_snapshot(struct steer_watch *w);

/**
 * Start the store writer and the monitor thread; transitions are published to @p srv.
 * @param srv  Server (borrowed; must outlive the watch's running time: stop the watch first).
 * @return 0 or a negative code with @p err set.
 */
STEER_MUSTCHECK int steer_watch_start(struct steer_watch *w, struct steer_server *srv,
				      struct steer_err *err);

/** Stop the monitor thread and flush the store (idempotent). */
void steer_watch_stop(struct steer_watch *w);

/** Stop and free (NULL-safe). Does not read the config: it may be freed already. */
void steer_watch_free(struct steer_watch *w);

#endif
