/*
 * The `cookies` and `rrl` sections of steerd.json (cfg_dns.c), called by the main file's
 * validator. Only lib/config/ includes this header.
 */
#ifndef STEER_CONFIG_CFG_DNS_INT_H
#define STEER_CONFIG_CFG_DNS_INT_H

#include <jansson.h>

#include "config/config_int.h"

/**
 * Validate `cookies` (DNS Cookies on or off) and `rrl` (response rate limiting) of the
 * main file @p root into c->cfg; every problem is reported with its position and JSON path.
 * Context: config loading.
 */
void steer_cfg_dns(struct cfg_ctx *c, json_t *root);

#endif
