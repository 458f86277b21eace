/*
 * DNS protection settings of steerd.json: `cookies` (RFC 7873 DNS Cookies, on by default)
 * and `rrl` (UDP response rate limiting per client prefix, off unless the section is
 * there), with its whitelist of address prefixes.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/cfg_dns_int.h"

static const char *const cookies_keys[] = {"enabled", NULL};
static const char *const rrl_keys[] = {"rate", "slip", "whitelist", NULL};

int steer_cfg_parse_prefix(const char *text, struct steer_prefix *p)
{
	const char *slash = strchr(text, '/');
	char host[INET6_ADDRSTRLEN + 1];
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned long len;
	char *end;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	p->family = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, host, p->addr) != 1)
		return -1;
	len = p->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		len = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || len > (p->family == AF_INET ? 32u : 128u))
			return -1;
	}
	p->len = (uint8_t)len;
	for (unsigned b = p->len; b < (p->family == AF_INET ? 32u : 128u); b++)
		if ((p->addr[b / 8] & (0x80 >> (b % 8))) != 0)
			return -2;
	return 0;
}

static void whitelist_entry(struct cfg_ctx *c, const json_t *v, const char *path,
			    struct steer_rrl_conf *r)
{
	struct steer_prefix p;
	int rc;

	if (!json_is_string(v)) {
		steer_cfg_err(c, path, "must be an address prefix string like \"10.0.0.0/8\"");
		return;
	}
	rc = steer_cfg_parse_prefix(json_string_value(v), &p);
	if (rc == -2) {
		steer_cfg_err(c, path, "\"%s\" has bits set past its prefix length",
			      json_string_value(v));
		return;
	}
	if (rc < 0) {
		steer_cfg_err(c, path,
			      "must be \"IPv4/len\" (0-32) or \"IPv6/len\" (0-128), e.g. "
			      "\"10.0.0.0/8\", \"2001:db8::/32\"");
		return;
	}
	r->whitelist[r->n_whitelist++] = p;
}

static void parse_whitelist(struct cfg_ctx *c, const json_t *rrl, struct steer_rrl_conf *r)
{
	char el[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, rrl, "rrl", "whitelist", false, &arr) <= 0)
		return;
	if (!json_is_array(arr)) {
		steer_cfg_err(c, "rrl.whitelist", "must be an array of address prefixes");
		return;
	}
	if (json_array_size(arr) > STEER_RRL_WHITELIST_MAX) {
		steer_cfg_err(c, "rrl.whitelist", "has %zu prefixes; at most %d are allowed",
			      json_array_size(arr), STEER_RRL_WHITELIST_MAX);
		return;
	}
	for (size_t i = 0; i < json_array_size(arr); i++)
		whitelist_entry(c, json_array_get(arr, i),
				steer_cfg_path_idx(el, sizeof(el), "rrl.whitelist", i), r);
}

void steer_cfg_dns(struct cfg_ctx *c, json_t *root)
{
	struct steer_config *cfg = c->cfg;
	struct steer_rrl_conf *r = &cfg->rrl;
	json_t *v;

	cfg->cookies_enabled = STEER_DEFAULT_COOKIES;
	if (steer_cfg_get(c, root, "", "cookies", false, &v) > 0 &&
	    steer_cfg_object(c, v, "cookies", cookies_keys))
		steer_cfg_bool(c, v, "cookies", "enabled", &cfg->cookies_enabled);
	r->rate = STEER_DEFAULT_RRL_RATE;
	r->slip = STEER_DEFAULT_RRL_SLIP;
	if (steer_cfg_get(c, root, "", "rrl", false, &v) <= 0 ||
	    !steer_cfg_object(c, v, "rrl", rrl_keys))
		return;
	r->enabled = true;
	steer_cfg_uint(c, v, "rrl", "rate", false, 1, STEER_RRL_RATE_MAX, &r->rate);
	steer_cfg_uint(c, v, "rrl", "slip", false, 0, STEER_RRL_SLIP_MAX, &r->slip);
	parse_whitelist(c, v, r);
}
