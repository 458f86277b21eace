/* Settings a reload cannot apply: the ones read only at start (sockets, threads, the API). */
#ifndef STEER_DAEMON_RESTART_INT_H
#define STEER_DAEMON_RESTART_INT_H

#include <stddef.h>

struct steer_config;

/** How many restart-only keys there are (listen, workers, tcp.*, udp.batch_wait_us,
 * affinity.dns, api, api.*). */
#define DAEMON_RESTART_KEYS_MAX 12

/**
 * The restart-only keys whose values differ between @p old and @p cfg (both borrowed),
 * in a fixed order, as static strings ("listen", "tcp.max_clients") into @p out.
 * @return how many were stored (at most @p cap).
 * Context: any thread holding both configurations.
 */
size_t daemon_restart_keys(const struct steer_config *old, const struct steer_config *cfg,
			   const char **out, size_t cap);

/**
 * Log a warning for each restart-only key whose value differs between the running
 * configuration @p old and the reloaded @p cfg (both borrowed):
 * `reload: "listen" changed; restart steerd to apply it`.
 * Context: a reload, before @p old is retired.
 */
void daemon_warn_restart(const struct steer_config *old, const struct steer_config *cfg);

#endif
