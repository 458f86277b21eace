/*
 * Dropping root: once steerd has bound its sockets it switches to the `user` and `group`
 * of steerd.json, before it opens the database, creates the token file or probes.
 * Only lib/daemon/ includes this header.
 */
#ifndef STEER_DAEMON_PRIVDROP_INT_H
#define STEER_DAEMON_PRIVDROP_INT_H

#include "core/err.h"

struct steer_user_conf;

/**
 * Before anything is bound: with `user` set and steerd not root, accept only running as
 * that user already (logged); otherwise an error, so that steerd does not bind and serve
 * as an account it was not told to use.
 * @param u    The `user` section (borrowed for the call).
 * @param err  Receives the message (it names the user and the uid steerd runs as).
 * @return 0 or -EPERM.
 * Context: main thread, at start.
 */
STEER_MUSTCHECK int privs_check(const struct steer_user_conf *u, struct steer_err *err);

/**
 * Switch the process from root to @p u (resolved at config load): initgroups() to the
 * user's supplementary groups, setgid(), setuid(), in that order, each checked; then
 * verify that setuid(0) fails and that the real and effective user and group IDs are
 * the target's. Nothing happens without `user` or when not root (privs_check() ran).
 * @param u    The `user` section (borrowed for the call).
 * @param err  Receives a message naming the step that failed.
 * @return 0, or a negative errno with @p err set; after a failure the process may be
 *         half switched: the caller must exit, never serve.
 * Context: main thread, before any thread of steerd is started (the IDs of every thread
 * change, but only one exists).
 */
STEER_MUSTCHECK int privs_drop(const struct steer_user_conf *u, struct steer_err *err);

#endif
