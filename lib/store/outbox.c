/*
 * The notification outbox on its own SQLite connection (opened like the writer's: WAL,
 * busy timeout, quick_check, migrations). Events get increasing ids that are never reused
 * (AUTOINCREMENT), and each target's position is one row of notify_targets, so "what was
 * delivered" survives a restart and a dead receiver.
 */
#include "store/outbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store_int.h"

enum ob_stmt {
	OB_BEGIN,
	OB_COMMIT,
	OB_ROLLBACK,
	OB_ADD,
	OB_TARGET_GET,
	OB_TARGET_ADD,
	OB_PENDING,
	OB_SENDING,
	OB_DELIVERED,
	OB_TARGETS,
	OB_FORGET,
	OB_PRUNE,
	OB_N,
};

static const char *const ob_sql[OB_N] = {
	[OB_BEGIN] = "BEGIN IMMEDIATE",
	[OB_COMMIT] = "COMMIT",
	[OB_ROLLBACK] = "ROLLBACK",
	[OB_ADD] =
		"INSERT INTO notify_outbox (time_ms, kind, target, body) VALUES (?1, ?2, ?3, ?4)",
	[OB_TARGET_GET] = "SELECT delivered_id, coalesce(sending_id, 0) FROM notify_targets"
			  " WHERE name = ?1",
	/* a new target starts at the newest event: it is not sent the past */
	[OB_TARGET_ADD] = "INSERT INTO notify_targets (name, delivered_id)"
			  " SELECT ?1, coalesce(max(id), 0) FROM notify_outbox",
	[OB_PENDING] = "SELECT id, time_ms, kind, body FROM notify_outbox"
		       " WHERE id > ?1 AND id <= ?2 AND (kind & ?3) <> 0"
		       " AND (target IS NULL OR target = ?4) ORDER BY id LIMIT ?5",
	[OB_SENDING] = "UPDATE notify_targets SET sending_id = ?2 WHERE name = ?1",
	[OB_DELIVERED] = "UPDATE notify_targets SET delivered_id = ?2, sending_id = NULL"
			 " WHERE name = ?1",
	[OB_TARGETS] = "SELECT name FROM notify_targets",
	[OB_FORGET] = "DELETE FROM notify_targets WHERE name = ?1",
	[OB_PRUNE] = "DELETE FROM notify_outbox WHERE time_ms < ?1"
		     " AND id <= (SELECT coalesce(min(delivered_id), 0) FROM notify_targets)",
};

struct steer_outbox {
	char *path;
	struct store_db db; /* the connection, opened like the writer's */
	sqlite3_stmt *stmt[OB_N];
};

static int ob_fail(struct steer_outbox *ob, struct steer_err *err, const char *stage)
{
	return steer_err_set(err, STEER_EDB, "outbox %s path=%s: %s", stage, ob->path,
			     sqlite3_errmsg(ob->db.db));
}

void steer_outbox_close(struct steer_outbox *ob)
{
	if (ob == NULL)
		return;
	for (int i = 0; i < OB_N; i++)
		sqlite3_finalize(ob->stmt[i]);
	store_db_close(&ob->db);
	free(ob->path);
	free(ob);
}

int steer_outbox_open(const char *path, struct steer_outbox **out, struct steer_err *err)
{
	struct steer_outbox *ob = calloc(1, sizeof(*ob));
	int rc = STEER_ENOMEM;

	if (ob == NULL || (ob->path = strdup(path)) == NULL)
		goto out;
	ob->db.path = ob->path;
	rc = store_db_open(&ob->db, steer_clock_wall_ms());
	if (rc < 0) {
		rc = steer_err_set(err, STEER_EDB, "outbox path=%s: %s", path, ob->db.errmsg);
		goto out;
	}
	for (int i = 0; i < OB_N; i++) {
		if (sqlite3_prepare_v3(ob->db.db, ob_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &ob->stmt[i], NULL) != SQLITE_OK) {
			rc = ob_fail(ob, err, "prepare");
			goto out;
		}
	}
	*out = ob;
	ob = NULL; /* the caller owns it now */
out:
	steer_outbox_close(ob);
	return rc;
}

/* Step @p k to completion and reset it. */
static int ob_step(struct steer_outbox *ob, enum ob_stmt k, struct steer_err *err)
{
	sqlite3_stmt *s = ob->stmt[k];
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = ob_fail(ob, err, "write");
	else
		rc = 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

static int ob_begin(struct steer_outbox *ob, struct steer_err *err)
{
	return ob_step(ob, OB_BEGIN, err);
}

/* COMMIT if @p rc is 0, else ROLLBACK. @return @p rc, or the commit's error. */
static int ob_end(struct steer_outbox *ob, int rc, struct steer_err *err)
{
	if (rc == 0)
		rc = ob_step(ob, OB_COMMIT, err);
	if (rc < 0 && sqlite3_get_autocommit(ob->db.db) == 0) {
		sqlite3_step(ob->stmt[OB_ROLLBACK]);
		sqlite3_reset(ob->stmt[OB_ROLLBACK]);
	}
	return rc;
}

int steer_outbox_add(struct steer_outbox *ob, const struct steer_outbox_event *v, size_t n,
		     int64_t *last_id, struct steer_err *err)
{
	sqlite3_stmt *s = ob->stmt[OB_ADD];
	int rc = ob_begin(ob, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_bind_int64(s, 1, v[i].time_ms);
		sqlite3_bind_int64(s, 2, v[i].kind);
		sqlite3_bind_text(s, 3, v[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, v[i].body, -1, SQLITE_STATIC);
		rc = ob_step(ob, OB_ADD, err);
	}
	if (rc == 0 && last_id != NULL)
		*last_id = sqlite3_last_insert_rowid(ob->db.db);
	return ob_end(ob, rc, err);
}

/* Read target @p name's row. @return 1 found, 0 none, or STEER_EDB. */
static int target_get(struct steer_outbox *ob, const char *name, int64_t *delivered,
		      int64_t *sending, struct steer_err *err)
{
	sqlite3_stmt *s = ob->stmt[OB_TARGET_GET];
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*delivered = sqlite3_column_int64(s, 0);
		*sending = sqlite3_column_int64(s, 1);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : ob_fail(ob, err, "read");
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int steer_outbox_target(struct steer_outbox *ob, const char *name, int64_t *delivered,
			int64_t *sending, struct steer_err *err)
{
	int rc = ob_begin(ob, err);

	if (rc == 0)
		rc = target_get(ob, name, delivered, sending, err);
	if (rc == 0) {
		sqlite3_bind_text(ob->stmt[OB_TARGET_ADD], 1, name, -1, SQLITE_STATIC);
		rc = ob_step(ob, OB_TARGET_ADD, err);
		if (rc == 0)
			rc = target_get(ob, name, delivered, sending, err);
	}
	return ob_end(ob, rc < 0 ? rc : 0, err);
}

void steer_outbox_rows_fini(struct steer_outbox_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++) {
		free(rows[i].body);
		rows[i].body = NULL;
	}
}

int steer_outbox_pending(struct steer_outbox *ob, const char *name, uint32_t kinds, int64_t after,
			 int64_t upto, struct steer_outbox_row *rows, size_t max,
			 struct steer_err *err)
{
	sqlite3_stmt *s = ob->stmt[OB_PENDING];
	size_t n = 0;
	int rc;

	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, upto);
	sqlite3_bind_int64(s, 3, kinds);
	sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)max);
	for (rc = SQLITE_DONE; n < max; n++) {
		const unsigned char *body;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		body = sqlite3_column_text(s, 3);
		rows[n].id = sqlite3_column_int64(s, 0);
		rows[n].time_ms = sqlite3_column_int64(s, 1);
		rows[n].kind = (uint32_t)sqlite3_column_int64(s, 2);
		rows[n].body = strdup(body != NULL ? (const char *)body : "{}");
		if (rows[n].body == NULL) {
			rc = STEER_ENOMEM;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != STEER_ENOMEM)
		rc = ob_fail(ob, err, "read");
	else if (rc != STEER_ENOMEM)
		rc = 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc < 0) {
		steer_outbox_rows_fini(rows, n);
		return rc;
	}
	return (int)n;
}

static int set_mark(struct steer_outbox *ob, enum ob_stmt k, const char *name, int64_t upto,
		    struct steer_err *err)
{
	sqlite3_bind_text(ob->stmt[k], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ob->stmt[k], 2, upto);
	return ob_step(ob, k, err); /* one statement: its own transaction */
}

int steer_outbox_set_sending(struct steer_outbox *ob, const char *name, int64_t upto,
			     struct steer_err *err)
{
	return set_mark(ob, OB_SENDING, name, upto, err);
}

int steer_outbox_set_delivered(struct steer_outbox *ob, const char *name, int64_t upto,
			       struct steer_err *err)
{
	return set_mark(ob, OB_DELIVERED, name, upto, err);
}

static bool listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Delete the rows of notify_targets whose name is not in @p names. */
static int forget_others(struct steer_outbox *ob, const char *const *names, size_t n,
			 struct steer_err *err)
{
	sqlite3_stmt *s = ob->stmt[OB_TARGETS];
	char *gone[64];
	size_t n_gone = 0;
	int rc = 0;

	while (n_gone < 64 && sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);

		if (name == NULL || listed((const char *)name, names, n))
			continue;
		gone[n_gone] = strdup((const char *)name);
		if (gone[n_gone] != NULL)
			n_gone++;
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n_gone; i++) {
		sqlite3_bind_text(ob->stmt[OB_FORGET], 1, gone[i], -1, SQLITE_STATIC);
		if (rc == 0)
			rc = ob_step(ob, OB_FORGET, err);
		else
			sqlite3_clear_bindings(ob->stmt[OB_FORGET]);
		free(gone[i]);
	}
	return rc;
}

int steer_outbox_prune(struct steer_outbox *ob, const char *const *names, size_t n,
		       int64_t before_ms, struct steer_err *err)
{
	int rc = ob_begin(ob, err);

	if (rc == 0)
		rc = forget_others(ob, names, n, err);
	if (rc == 0) {
		sqlite3_bind_int64(ob->stmt[OB_PRUNE], 1, before_ms);
		rc = ob_step(ob, OB_PRUNE, err);
	}
	if (rc == 0)
		rc = sqlite3_changes(ob->db.db);
	return ob_end(ob, rc < 0 ? rc : 0, err) < 0 ? STEER_EDB : rc;
}
