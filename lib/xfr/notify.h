/*
 * NOTIFY (RFC 1996) to the secondaries of transfer.notify: on its own thread with a
 * libevent base, one UDP socket per target, retries with backoff until the target
 * answers, TSIG-signed when the target has a key.
 */
#ifndef STEER_XFR_NOTIFY_H
#define STEER_XFR_NOTIFY_H

#include <stdint.h>

#include "core/err.h"

struct steer_xfr_conf;

/** The NOTIFY sender. */
struct steer_xfr_notifier;

/** Retry timing: the first retry after this, doubling (1, 2, 4, 8, 16 s), then give up. */
#define STEER_XFR_NOTIFY_FIRST_MS 1000
#define STEER_XFR_NOTIFY_TRIES    6 /* sends per serial and target, at most */

/** What the notifier did since it started (all targets). */
struct steer_xfr_notify_stats {
	uint64_t sent;     /* NOTIFY messages sent, retries included */
	uint64_t acked;    /* serials a target answered (NOERROR) */
	uint64_t failed;   /* serials given up: no answer after every try, or an error RCODE */
	uint64_t replaced; /* serials superseded by a newer one before their answer */
};

/**
 * Create the notifier for the zone @p apex and start its thread (it idles until
 * steer_xfr_notifier_send()). Keys are copied: @p conf may go after the call.
 * @param conf  Transfer settings: the notify targets and their keys (borrowed for the call).
 * @param apex  The zone name, absolute ("lb.example.test."; borrowed for the call).
 * @param out   Receives the notifier (free with steer_xfr_notifier_free()).
 * @param err   Receives the reason on failure.
 * @return 0, STEER_EINVAL (a bad apex or key), STEER_ENOMEM or a negative errno (socket,
 *         thread).
 * Context: start-up or reload (the daemon thread).
 */
STEER_MUSTCHECK int steer_xfr_notifier_new(const struct steer_xfr_conf *conf, const char *apex,
					   struct steer_xfr_notifier **out, struct steer_err *err);

/**
 * Tell every target that the zone has serial @p serial now. A NOTIFY still being retried
 * for an older serial is replaced (its retries stop; the new one starts over).
 * Context: any thread; never blocks.
 */
void steer_xfr_notifier_send(struct steer_xfr_notifier *n, uint32_t serial);

/**
 * Change the retry timing (tests): first retry after @p first_ms, doubling, at most
 * @p tries sends per serial and target.
 * Context: before the first steer_xfr_notifier_send().
 */
void steer_xfr_notifier_set_timing(struct steer_xfr_notifier *n, uint32_t first_ms, unsigned tries);

/** The counters so far into @p out. Context: any thread. */
void steer_xfr_notifier_stats(struct steer_xfr_notifier *n, struct steer_xfr_notify_stats *out);

/** Stop the thread (pending retries are dropped), close the sockets, free (NULL-safe).
 * Context: the thread that created it. */
void steer_xfr_notifier_free(struct steer_xfr_notifier *n);

#endif
