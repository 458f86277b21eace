/*
 * DNS protection settings of steerd.json: `cookies` (RFC 7873 DNS Cookies, on by default).
 */
#include <jansson.h>

#include "config/cfg_dns_int.h"

static const char *const cookies_keys[] = {"enabled", NULL};

void steer_cfg_dns(struct cfg_ctx *c, json_t *root)
{
	struct steer_config *cfg = c->cfg;
	json_t *v;

	cfg->cookies_enabled = STEER_DEFAULT_COOKIES;
	if (steer_cfg_get(c, root, "", "cookies", false, &v) > 0 &&
	    steer_cfg_object(c, v, "cookies", cookies_keys))
		steer_cfg_bool(c, v, "cookies", "enabled", &cfg->cookies_enabled);
}
