/*
 * The notification outbox: events waiting to be delivered, and how far each notification
 * target has got, in the same SQLite file as the health history (tables notify_outbox and
 * notify_targets, schema migration 3). It is used through its own connection, by one
 * thread (the notifier's), so delivery never waits for the store's writer or the other way
 * round; WAL and a busy timeout let both write the file.
 */
#ifndef STEER_STORE_OUTBOX_H
#define STEER_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct steer_outbox;

/** An event to add; strings are borrowed for the call. */
struct steer_outbox_event {
	int64_t time_ms;    /* wall clock, ms since the Unix epoch */
	uint32_t kind;      /* one bit; the caller's meaning (the notifier's event kinds) */
	const char *target; /* NULL: every target that takes @c kind; else only this one */
	const char *body;   /* the event, as the caller encodes it (JSON) */
};

/** A stored event, read back. */
struct steer_outbox_row {
	int64_t id; /* increasing, never reused: the event's stable id */
	int64_t time_ms;
	uint32_t kind;
	char *body; /* owned by the row: release with steer_outbox_rows_fini() */
};

/**
 * Open the database at @p path (created if missing; pragmas, integrity check and
 * migrations as the store's writer does them) for the outbox.
 * @param out  Receives the outbox (close with steer_outbox_close()).
 * @param err  Receives the path and SQLite's message on failure.
 * @return 0, STEER_ENOMEM or STEER_EDB.
 * Context: the one thread that uses the outbox; blocks on file I/O.
 */
STEER_MUSTCHECK int steer_outbox_open(const char *path, struct steer_outbox **out,
				      struct steer_err *err);

/** Close the connection and free @p ob (NULL-safe). */
void steer_outbox_close(struct steer_outbox *ob);

/**
 * Add @p n events in one transaction, in order.
 * @param last_id  Receives the id of the last one (may be NULL).
 * @return 0 or STEER_EDB (nothing was added).
 */
STEER_MUSTCHECK int steer_outbox_add(struct steer_outbox *ob, const struct steer_outbox_event *v,
				     size_t n, int64_t *last_id, struct steer_err *err);

/**
 * The position of target @p name: every event it takes up to @p delivered has been
 * delivered (or given up), and a message holding the events up to @p sending (0: none)
 * was being sent. A target seen for the first time starts at the newest event: it gets
 * only what happens from now on.
 * @return 0 or STEER_EDB.
 */
STEER_MUSTCHECK int steer_outbox_target(struct steer_outbox *ob, const char *name,
					int64_t *delivered, int64_t *sending,
					struct steer_err *err);

/**
 * Read, in id order, at most @p max events for target @p name with an id above
 * @p after and at most @p upto (INT64_MAX: no bound) whose kind is in @p kinds and that
 * are meant for every target or for @p name.
 * @param rows  Caller's array of @p max rows; filled rows own their body.
 * @return the number of rows, or STEER_EDB / STEER_ENOMEM (no row is left owned).
 */
STEER_MUSTCHECK int steer_outbox_pending(struct steer_outbox *ob, const char *name, uint32_t kinds,
					 int64_t after, int64_t upto, struct steer_outbox_row *rows,
					 size_t max, struct steer_err *err);

/** Free the bodies of @p n rows (the array itself is the caller's). */
void steer_outbox_rows_fini(struct steer_outbox_row *rows, size_t n);

/**
 * Record that a message with target @p name's events up to @p upto is about to be sent;
 * after a crash it is sent again, whole, with the same events.
 * @return 0 or STEER_EDB.
 */
STEER_MUSTCHECK int steer_outbox_set_sending(struct steer_outbox *ob, const char *name,
					     int64_t upto, struct steer_err *err);

/**
 * Record that target @p name has its events up to @p upto (clears the sending mark).
 * @return 0 or STEER_EDB.
 */
STEER_MUSTCHECK int steer_outbox_set_delivered(struct steer_outbox *ob, const char *name,
					       int64_t upto, struct steer_err *err);

/**
 * Forget targets not in @p names (@p n of them), then delete events older than
 * @p before_ms that every remaining target is past.
 * @return the number of events deleted, or STEER_EDB.
 */
STEER_MUSTCHECK int steer_outbox_prune(struct steer_outbox *ob, const char *const *names, size_t n,
				       int64_t before_ms, struct steer_err *err);

#endif
