/*
 * The `transfer` section of steerd.json (cfg_xfr.c): zone transfer ACLs, NOTIFY targets
 * and TSIG keys, called by the main file's validator. Only lib/config/ includes this header.
 */
#ifndef STEER_CONFIG_CFG_XFR_INT_H
#define STEER_CONFIG_CFG_XFR_INT_H

#include <jansson.h>

#include "config/config_int.h"

/**
 * Validate `transfer` of the main file @p root into c->cfg->xfr; every problem is reported
 * with its position and JSON path. Key secret files are read here (and never logged).
 * Context: config loading; reads files.
 */
void steer_cfg_xfr(struct cfg_ctx *c, json_t *root);

/** Free what c->cfg->xfr owns (NULL-safe fields); the struct is zeroed. */
void steer_cfg_xfr_fini(struct steer_xfr_conf *x);

#endif
