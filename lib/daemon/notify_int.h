/*
 * The daemon's side of notifications (notify.c): the notifier for the configured targets,
 * an event subscriber that hands every event to it, a reload that restarts it when the
 * targets changed, and the API's test operation. Only lib/daemon/ includes this header.
 */
#ifndef STEER_DAEMON_NOTIFY_INT_H
#define STEER_DAEMON_NOTIFY_INT_H

#include <jansson.h>

#include "config/config.h"
#include "core/err.h"
#include "daemon/events.h"
#include "notify/notify.h"

struct steer_dnotify;

/**
 * Create and start the notifier for @p cfg (without `notifications`, an idle holder).
 * @param out  Receives it (free with steer_dnotify_free()).
 * @return 0 or a negative code with @p err set.
 * Context: start-up (main thread).
 */
STEER_MUSTCHECK int steer_dnotify_new(const struct steer_config *cfg, struct steer_dnotify **out,
				      struct steer_err *err);

/**
 * The event subscriber (steer_event_fn); @p arg is the struct steer_dnotify. Encodes the
 * event and queues it; never waits for a receiver.
 * Context: the daemon thread.
 */
void steer_dnotify_event(void *arg, const struct steer_event *ev);

/**
 * After a successful reload: if the targets or the state path changed, stop the old
 * notifier (its queue reaches the outbox; messages in flight get a moment to finish)
 * and start one for @p cfg. A failure is logged; notifications stop until the next reload.
 * Context: the reloading thread, under the daemon's lock.
 */
void steer_dnotify_reload(struct steer_dnotify *dn, const struct steer_config *cfg);

/**
 * POST /v1/notify/test: a test event to target @p name (NULL: every target), waiting for
 * its delivery (bounded by the targets' timeouts). See steer_notify_test().
 * Context: the API thread.
 */
STEER_MUSTCHECK int steer_dnotify_test(struct steer_dnotify *dn, const char *name, json_t **result,
				       struct steer_err *err);

/** Stop (queued events reach the outbox) and free (NULL-safe). */
void steer_dnotify_free(struct steer_dnotify *dn);

/**
 * Delivery counters of the current notifier's targets (see steer_notify_get_stats()).
 * @return the number of targets (0 without notifications). Context: any thread.
 */
size_t steer_dnotify_stats(struct steer_dnotify *dn, struct steer_notify_stats *out, size_t cap,
			   uint64_t *queued);

#endif
