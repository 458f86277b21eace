/*
 * `user` and `group` of steerd.json: the account steerd switches to once its sockets are
 * bound. Both are resolved here, at load time, so that a user that does not exist is a
 * configuration error with its position (and `steerd --check-config` finds it).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config/cfg_user_int.h"
#include "config/config_int.h"

/* getpwnam_r()/getgrnam_r() scratch: names, home, shell, and a group's member list */
#define LOOKUP_BUF 16384

/* The name at @p path is 1 to STEER_USER_NAME_MAX - 1 bytes; else reported. */
static bool name_fits(struct cfg_ctx *c, const char *path, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= STEER_USER_NAME_MAX) {
		steer_cfg_err(c, path, "must be a name of 1 to %d bytes", STEER_USER_NAME_MAX - 1);
		return false;
	}
	return true;
}

/* The name of group @p gid into u->group (its number if it has no name). */
static void primary_group_name(struct steer_user_conf *u)
{
	char buf[LOOKUP_BUF];
	struct group gr, *res = NULL;

	if (getgrgid_r(u->gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(u->group, sizeof(u->group), "%s", gr.gr_name);
	else
		snprintf(u->group, sizeof(u->group), "%lu", (unsigned long)u->gid);
}

/* `user`: an existing account other than root. @return true if resolved into @p u. */
static bool resolve_user(struct cfg_ctx *c, const char *name, struct steer_user_conf *u)
{
	char buf[LOOKUP_BUF], eb[128];
	struct passwd pw, *res = NULL;
	int rc;

	if (!name_fits(c, "user", name))
		return false;
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (rc != 0) {
		steer_cfg_err(c, "user", "cannot look up user \"%s\": %s", name,
			      steer_cfg_strerror(rc, eb, sizeof(eb)));
		return false;
	}
	if (res == NULL) {
		steer_cfg_err(c, "user", "no user \"%s\" on this system", name);
		return false;
	}
	if (pw.pw_uid == 0) {
		steer_cfg_err(c, "user", "\"%s\" is uid 0 (root): name an unprivileged user", name);
		return false;
	}
	snprintf(u->user, sizeof(u->user), "%s", name);
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return true;
}

/* `group`: an existing group other than gid 0. @return true if resolved into @p u. */
static bool resolve_group(struct cfg_ctx *c, const char *name, struct steer_user_conf *u)
{
	char buf[LOOKUP_BUF], eb[128];
	struct group gr, *res = NULL;
	int rc;

	if (!name_fits(c, "group", name))
		return false;
	rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (rc != 0) {
		steer_cfg_err(c, "group", "cannot look up group \"%s\": %s", name,
			      steer_cfg_strerror(rc, eb, sizeof(eb)));
		return false;
	}
	if (res == NULL) {
		steer_cfg_err(c, "group", "no group \"%s\" on this system", name);
		return false;
	}
	if (gr.gr_gid == 0) {
		steer_cfg_err(c, "group", "\"%s\" is gid 0 (root): name an unprivileged group",
			      name);
		return false;
	}
	snprintf(u->group, sizeof(u->group), "%s", name);
	u->gid = gr.gr_gid;
	return true;
}

void steer_cfg_user(struct cfg_ctx *c, const json_t *root)
{
	struct steer_user_conf u = {0};
	const char *user = NULL, *group = NULL;
	int has_user = steer_cfg_str(c, root, "", "user", false, &user);
	int has_group = steer_cfg_str(c, root, "", "group", false, &group);
	bool ok;

	if (has_group > 0 && has_user == 0)
		steer_cfg_err(c, "group", "needs \"user\" (the account steerd switches to)");
	if (has_user <= 0)
		return;
	ok = resolve_user(c, user, &u);
	if (has_group > 0)
		ok = resolve_group(c, group, &u) && ok;
	else if (ok && u.gid == 0)
		steer_cfg_err(c, "user",
			      "the primary group of \"%s\" is gid 0 (root): set \"group\"", user);
	else if (ok)
		primary_group_name(&u);
	if (!ok || u.gid == 0)
		return;
	u.enabled = true;
	c->cfg->user = u;
}
