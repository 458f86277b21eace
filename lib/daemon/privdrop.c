/*
 * Dropping root after the sockets are bound: supplementary groups, group, user, in that
 * order (setuid() first would leave no right to change the groups), each step checked,
 * then a check that the way back is closed. A failure is never ignored: steerd must not
 * go on serving as root when it was told not to.
 */
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/privdrop_int.h"

#define STEER_LOG_SRC "steerd"
#include "core/log.h"

/* Not root: fine if steerd already is @p u (real and effective), else an error. */
static int not_root(const struct steer_user_conf *u, struct steer_err *err)
{
	if (getuid() == u->uid && geteuid() == u->uid) {
		log_info("already running as user=%s uid=%lu; no privileges to drop", u->user,
			 (unsigned long)u->uid);
		return 0;
	}
	return steer_err_set(err, -EPERM,
			     "user=%s is set but steerd runs as uid=%lu, not as root: start it as "
			     "root (it binds its sockets, then switches to %s) or as %s",
			     u->user, (unsigned long)geteuid(), u->user, u->user);
}

static int step_failed(const struct steer_user_conf *u, const char *step, int e,
		       struct steer_err *err)
{
	char eb[128];

	return steer_err_set(err, e != 0 ? -e : -EPERM, "cannot drop privileges to user=%s: %s: %s",
			     u->user, step, e != 0 ? steer_errno_str(e, eb, sizeof(eb)) : "failed");
}

/* After the switch: no way back to root, and every ID is the target's. */
static int verify(const struct steer_user_conf *u, struct steer_err *err)
{
	if (setuid(0) == 0)
		return step_failed(u, "check: setuid(0) succeeded after the drop", EPERM, err);
	if (getuid() != u->uid || geteuid() != u->uid)
		return step_failed(u, "check: getuid/geteuid are not the user's", EPERM, err);
	if (getgid() != u->gid || getegid() != u->gid)
		return step_failed(u, "check: getgid/getegid are not the group's", EPERM, err);
	return 0;
}

int privs_check(const struct steer_user_conf *u, struct steer_err *err)
{
	if (!u->enabled || geteuid() == 0)
		return 0;
	return not_root(u, err);
}

int privs_drop(const struct steer_user_conf *u, struct steer_err *err)
{
	int rc;

	if (!u->enabled || geteuid() != 0)
		return 0; /* privs_check() has accepted it */
	if (initgroups(u->user, u->gid) != 0)
		return step_failed(u, "initgroups", errno, err);
	if (setgid(u->gid) != 0)
		return step_failed(u, "setgid", errno, err);
	if (setuid(u->uid) != 0)
		return step_failed(u, "setuid", errno, err);
	rc = verify(u, err);
	if (rc < 0)
		return rc;
	log_info("dropped privileges: user=%s uid=%lu group=%s gid=%lu", u->user,
		 (unsigned long)u->uid, u->group, (unsigned long)u->gid);
	return 0;
}
