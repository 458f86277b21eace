/*
 * The running system: one owner of the configuration, the zone, the health loop, the
 * store, the DNS server, the HTTP API and the event fan-out. steerd's main() creates it,
 * starts it, and turns signals into steer_daemon_reload() and steer_daemon_free(); the
 * API calls the same reload.
 */
#ifndef STEER_DAEMON_DAEMON_H
#define STEER_DAEMON_DAEMON_H

#include "core/err.h"

struct steer_daemon;

/**
 * Load and validate the configuration at @p path and build its zone; nothing runs yet.
 * @param out   Receives the daemon (free with steer_daemon_free()).
 * @param errs  Receives every configuration error (file, line, column, JSON path).
 * @return 0, STEER_ECONFIG or STEER_ENOMEM.
 * Context: main thread, signals blocked.
 */
STEER_MUSTCHECK int steer_daemon_new(const char *path, struct steer_daemon **out,
				     struct steer_errs *errs);

/**
 * Start everything: the store, health restored from it, the DNS listeners, the probes,
 * the daemon thread and the API. @return 0, or an error with @p err set (nothing keeps
 * running; free the daemon).
 */
STEER_MUSTCHECK int steer_daemon_start(struct steer_daemon *d, struct steer_err *err);

/**
 * Load and validate the whole configuration again and switch to it atomically; on any
 * error the running configuration keeps serving and every error is returned in @p errs
 * (and logged). Origins that survive keep their health, overrides and failback state.
 * @param source  What asked for it, for the log and the event: "signal", "api".
 * @return 0, STEER_ECONFIG or STEER_ENOMEM.
 * Context: any thread but the daemon's own; reloads are serialized.
 */
STEER_MUSTCHECK int steer_daemon_reload(struct steer_daemon *d, const char *source,
					struct steer_errs *errs);

/** Log one line of the DNS server's counters since start (SIGUSR1, and at exit). */
void steer_daemon_log_stats(struct steer_daemon *d);

/** Stop everything (flushing the store) and free (NULL-safe). */
void steer_daemon_free(struct steer_daemon *d);

#endif
