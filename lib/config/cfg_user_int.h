/*
 * `user` and `group` of steerd.json (cfg_user.c), called by the main file's validator.
 * Only lib/config/ includes this header.
 */
#ifndef STEER_CONFIG_CFG_USER_INT_H
#define STEER_CONFIG_CFG_USER_INT_H

#include <jansson.h>

#include "config/config_int.h"

/**
 * Validate `user` (an existing account other than root) and `group` (an existing group
 * other than gid 0; default: the user's primary group) of the main file @p root into
 * c->cfg->user, resolving both with the system's user database; every problem is
 * reported at the value's position with its JSON path.
 * Context: config loading (blocks on the user database, as any NSS lookup).
 */
void steer_cfg_user(struct cfg_ctx *c, const json_t *root);

#endif
