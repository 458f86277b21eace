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

/**
 * Parse "192.0.2.0/24", "2001:db8::/32", or an address alone (/32, /128) into @p p. Bits
 * past the prefix must be zero, so that what is written is what is matched.
 * @return 0, -1 if @p text is not a prefix, -2 if bits past the prefix length are set.
 * Context: config loading.
 */
int steer_cfg_parse_prefix(const char *text, struct steer_prefix *p);

#endif
