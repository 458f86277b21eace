/* Settings a reload cannot apply: the ones read only at start (sockets, threads, the API). */
#ifndef STEER_DAEMON_RESTART_INT_H
#define STEER_DAEMON_RESTART_INT_H

struct steer_config;

/**
 * Log a warning for each restart-only key whose value differs between the running
 * configuration @p old and the reloaded @p cfg (both borrowed):
 * `reload: "listen" changed; restart steerd to apply it`.
 * Context: a reload, before @p old is retired.
 */
void daemon_warn_restart(const struct steer_config *old, const struct steer_config *cfg);

#endif
