/*
 * The `notifications` section of steerd.json (cfg_notify.c), called by the main file's
 * validator. Only lib/config/ includes this header.
 */
#ifndef STEER_CONFIG_CFG_NOTIFY_INT_H
#define STEER_CONFIG_CFG_NOTIFY_INT_H

#include <jansson.h>

#include "config/config_int.h"

/**
 * Validate `notifications` of the main file @p root into c->cfg->notify; every problem is
 * reported with its position and JSON path. Secret files are read here (and never logged).
 * Context: config loading; reads files.
 */
void steer_cfg_notifications(struct cfg_ctx *c, json_t *root);

#endif
