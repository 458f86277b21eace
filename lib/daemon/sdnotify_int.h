/*
 * Service manager notifications (sd_notify(3)): readiness, reloads and the stop, with a
 * short STATUS= line. Built with libsystemd (STEER_HAVE_SYSTEMD) they go to
 * $NOTIFY_SOCKET; without it, or when steerd was not started by systemd, they do nothing.
 */
#ifndef STEER_DAEMON_SDNOTIFY_INT_H
#define STEER_DAEMON_SDNOTIFY_INT_H

struct steer_config;

/**
 * Say that steerd serves: READY=1 and STATUS=serving zone NAME (counts of @p cfg), plus
 * @p note when it is not NULL (e.g. why the last reload failed).
 * @param cfg   The configuration now served (borrowed for the call).
 * @param note  Short text appended to the status line, or NULL.
 * Context: any thread; call it only once the DNS listeners answer (at start, and at the
 * end of every reload whether it worked or not). A failure to send is logged.
 */
void sdnotify_ready(const struct steer_config *cfg, const char *note);

/**
 * Say that a reload begins: RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC, as
 * systemd expects) and STATUS=reloading. Every call is followed by sdnotify_ready().
 * Context: any thread, under the daemon's reload lock.
 */
void sdnotify_reloading(void);

/** Say that steerd stops: STOPPING=1, STATUS=stopping. Context: any thread. */
void sdnotify_stopping(void);

#endif
