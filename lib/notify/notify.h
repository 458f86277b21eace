/*
 * Notifications: state changes go to an outbox table in SQLite first, then a notifier
 * thread (its own libevent base and libcurl multi handle) delivers them to each target
 * (webhook, slack, discord, ntfy, gotify, email, exec) in outbox order, coalescing bursts
 * into one digest and retrying with exponential backoff. Publishing never blocks: a slow
 * or dead receiver never delays probing or DNS.
 */
#ifndef STEER_NOTIFY_NOTIFY_H
#define STEER_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "core/err.h"

/** One event to notify. Strings are borrowed for the call; NULL or "" where they do not
 * apply. */
struct steer_notify_event {
	uint32_t kind;   /* one enum steer_notify_kind bit */
	int64_t time_ms; /* wall clock, ms since the Unix epoch */
	const char *balancer;
	const char *pool;
	const char *origin;
	const char *address;
	const char *from;
	const char *to;
	const char *reason;
	const char *source; /* overrides: "api", "expired"; reloads: "signal", "api" */
	int64_t until_ms;   /* overrides: end of the window, 0 = none */
	bool ok;            /* reloads: succeeded */
};

/** Options of steer_notify_new(); everything is copied. */
struct steer_notify_opts {
	const char *state_path;               /* the SQLite file holding the outbox */
	const struct steer_notify_conf *conf; /* the targets */
	uint32_t tick_ms;                     /* scheduling period [100] */
	uint32_t retry_min_ms;                /* first wait after a failed attempt [1000] */
	uint32_t stop_wait_ms; /* how long stop waits for messages in flight [2000] */
};

struct steer_notify;

/**
 * Create a notifier (nothing runs until steer_notify_start()).
 * @param out  Receives it (free with steer_notify_free()).
 * @return 0, STEER_ENOMEM, or STEER_EIO when libcurl or libevent cannot be set up.
 * Context: control thread.
 */
STEER_MUSTCHECK int steer_notify_new(const struct steer_notify_opts *opts,
				     struct steer_notify **out, struct steer_err *err);

/**
 * Start the notifier thread. It opens the outbox itself and retries every 2 s while the
 * database cannot be opened (events wait in memory meanwhile).
 * @return 0 or a negative errno.
 */
STEER_MUSTCHECK int steer_notify_start(struct steer_notify *n, struct steer_err *err);

/**
 * Queue @p ev (copied, encoded as JSON) for the outbox. Non-blocking: a mutex held for a
 * pointer update, and a wake-up of the notifier thread.
 * @return true if queued; false if no target takes this kind, or the queue is full
 *         (counted and logged at most every 10 s).
 * Context: any thread (the daemon thread's event subscriber).
 */
bool steer_notify_publish(struct steer_notify *n, const struct steer_notify_event *ev);

/**
 * Send a test event to target @p name (NULL: every target) through the outbox, and wait
 * at most @p wait_ms for its delivery (or a failed attempt).
 * @param result  Receives {"ok", "id", "targets": [{"name", "type", "delivered", "error"}]}
 *                (new reference) on 0; "ok" is true when every target got it.
 * @return 0, -ENOENT (no such target, or none; err says which), STEER_ENOMEM, or
 *         -ETIMEDOUT when the event did not even reach the outbox in time.
 * Context: any thread but the notifier's (the API thread); blocks up to @p wait_ms.
 */
STEER_MUSTCHECK int steer_notify_test(struct steer_notify *n, const char *name, uint32_t wait_ms,
				      json_t **result, struct steer_err *err);

/**
 * Whether @p a and @p b describe the same targets (a reload that changes nothing keeps
 * the notifier running).
 */
bool steer_notify_conf_equal(const struct steer_notify_conf *a, const struct steer_notify_conf *b);

/**
 * Stop: events still queued go to the outbox, messages in flight get up to
 * opts.stop_wait_ms to finish (one cut short is sent again, whole, at the next start),
 * then the thread is joined. Idempotent.
 */
void steer_notify_stop(struct steer_notify *n);

/** Stop and free (NULL-safe). */
void steer_notify_free(struct steer_notify *n);

/** Delivery counters of one target since the notifier started. */
struct steer_notify_stats {
	const char *name;  /* borrowed from the notifier; valid while it lives */
	const char *type;  /* "webhook", "slack", ... (static) */
	uint64_t sent;     /* events delivered */
	uint64_t failed;   /* failed delivery attempts (each is retried) */
	uint64_t given_up; /* events dropped after max_age */
};

/**
 * Copy the counters of at most @p cap targets into @p out.
 * @param queued  Receives the number of events accepted but not yet in the outbox.
 * @return the number of targets copied.
 * Context: any thread.
 */
size_t steer_notify_get_stats(struct steer_notify *n, struct steer_notify_stats *out, size_t cap,
			      uint64_t *queued);

/**
 * Encode @p ev as the JSON object kept in the outbox: event, time (RFC 3339, UTC),
 * time_ms, balancer, pool, origin, address, from, to, reason, served, source, until_ms,
 * ok (reloads) and text (one readable line); absent fields are null.
 * @return a malloc'ed string (the caller frees it), or NULL when out of memory.
 * Context: any thread.
 */
char *steer_notify_event_json(const struct steer_notify_event *ev);

/**
 * The readable line of one event object (as made by steer_notify_event_json()), e.g.
 * "api: homelab → parents (lab-a: connect refused)".
 * @return @p buf (always NUL-terminated, cut to fit).
 */
const char *steer_notify_line(const json_t *ev, char *buf, size_t size);

/** One message to a target: what to send. Release with steer_notify_payload_fini(). */
struct steer_notify_payload {
	char *body; /* the request body, the message, or exec's stdin (owned) */
	size_t len;
	char *headers[8]; /* "Name: value" lines (owned); NULL-terminated */
	char *subject;    /* title (chat) or email subject (owned) */
	char *text;       /* the readable text: one line, or a digest (owned) */
	int64_t last_id;  /* id of the last event in the message: the message's stable id */
	size_t count;     /* events in the message */
};

/**
 * Build the message for @p t from @p events (an array of event objects, each with its
 * outbox "id"; one event is sent as itself, several as a digest). @p now_s is the send
 * time (the webhook's X-Steer-Timestamp, covered by the signature).
 * @return 0 or STEER_ENOMEM (nothing is left owned).
 * Context: any thread; pure (no I/O).
 */
STEER_MUSTCHECK int steer_notify_payload_build(const struct steer_notify_target *t,
					       const json_t *events, int64_t now_s,
					       struct steer_notify_payload *out);

/** Release what @p p owns (NULL-safe); @p p is zeroed. */
void steer_notify_payload_fini(struct steer_notify_payload *p);

#endif
