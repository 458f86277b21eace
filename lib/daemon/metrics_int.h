/*
 * Metrics of steerd as a whole, internals of the daemon module: what the daemon, the
 * health loop and the event subscribers count into the DNS server's metric set, and the
 * GET /metrics document built from it, the health loop and the store.
 */
#ifndef STEER_DAEMON_METRICS_INT_H
#define STEER_DAEMON_METRICS_INT_H

#include <stdbool.h>

struct steer_config;
struct steer_event;
struct steer_events;
struct steer_loop;
struct steer_origin;
struct steer_probe_result;
struct steer_server;
struct steer_store;

struct steer_dnotify;
struct dxfr_stats;

/**
 * The GET /metrics document (Prometheus text format 0.0.4) of every metric of the
 * running system. All arguments are borrowed for the call; @p store, @p events,
 * @p notify and @p xfr (zone transfers) may be NULL (their families are then left out).
 * @return a malloc'ed NUL-terminated string the caller frees, or NULL when out of memory.
 * Context: the API thread, holding the daemon's lock (so @p cfg and @p loop stay) and the
 * store pointer's lock; takes @p loop's lock and the metric set's.
 */
char *metrics_text(struct steer_server *srv, const struct steer_config *cfg,
		   struct steer_loop *loop, struct steer_store *store, struct steer_events *events,
		   struct steer_dnotify *notify, const struct dxfr_stats *xfr);

/**
 * Count one probe result of origin @p o: by (pool, origin) and reason class, and its
 * duration in the histogram of the pool's monitor. @p srv NULL: nothing is counted.
 * Context: the monitor thread (the loop's result callback).
 */
void metrics_probe(struct steer_server *srv, const struct steer_origin *o,
		   const struct steer_probe_result *res);

/**
 * Count a balancer transition event as a failover (to a pool ranked later: a later
 * default pool, the fallback, fail-open) or a failback (to one ranked earlier); ranks come
 * from @p cfg (the balancer's pools). Other events are ignored.
 * Context: the daemon thread (an event subscriber), holding the daemon's lock.
 */
void metrics_transition(struct steer_server *srv, const struct steer_config *cfg,
			const struct steer_event *ev);

/** Count one reload that succeeded (@p ok) or failed. @p srv NULL: not counted. */
void metrics_reload(struct steer_server *srv, bool ok);

/** The reloads counted so far (the same as steer_reloads_total): out[0] the successful
 * ones, out[1] the failed ones. Context: any thread. */
void metrics_reloads(struct steer_server *srv, uint64_t out[2]);

/**
 * A store is being replaced by a reload: flush it (bounded) and add what it counted to the
 * totals carried over, so the store counters never go back. Call before freeing it.
 */
void metrics_store_retired(struct steer_server *srv, struct steer_store *store);

/** Log the one-line counter summary ("stats: udp queries=..."). @p srv NULL: nothing. */
void metrics_log_stats(struct steer_server *srv);

#endif
