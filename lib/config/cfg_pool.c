/*
 * Pool files (pools/<name>.json): one pool each, with its origins. Monitors are loaded
 * first so that a pool's `monitor` resolves here; balancers resolve pools later.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config_int.h"

#define POOL_WEIGHT_MAX 1000.0

static const char *const pool_keys[] = {
	"name",        "description", "enabled", "monitor", "minimum_origins", "origin_steering",
	"max_answers", "weight",      "origins", NULL,
};
static const char *const origin_keys[] = {"name", "address", "weight", "enabled", "header", NULL};
static const char *const steering_names[] = {"random", "hash", "all", NULL};

/* RFC 952/1123 host name (underscores tolerated), with an optional trailing dot. */
static bool hostname_ok(const char *s)
{
	size_t lab = 0, len = strlen(s);
	bool numeric = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = '.'; /* the end closes the last label */

		if (i < len)
			ch = s[i];
		if (ch == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (lab == 0) {
			if (ch == '-')
				return false;
			numeric = true; /* only the last label's value counts */
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_')
			return false;
		numeric = numeric && isdigit((unsigned char)ch);
		lab++;
	}
	return !numeric; /* "10.0.0.256" is a mistyped address, not a host name */
}

static int host_wire(struct cfg_ctx *c, const char *s, struct steer_origin *o)
{
	char buf[4 * STEER_NAME_MAX + 8];
	uint8_t wire[STEER_NAME_MAX];
	size_t len = strlen(s);
	int n;

	if (!hostname_ok(s) || len >= sizeof(buf) - 1)
		return -1;
	snprintf(buf, sizeof(buf), "%s%s", s, s[len - 1] == '.' ? "" : ".");
	n = steer_name_from_text(buf, NULL, wire, sizeof(wire));
	if (n <= 1)
		return -1;
	o->host_wire = malloc((size_t)n);
	if (o->host_wire == NULL) {
		c->nomem = true;
		return -1;
	}
	memcpy(o->host_wire, wire, (size_t)n);
	o->host_wire_len = (size_t)n;
	return 0;
}

/* @return true if the address is usable. */
static bool origin_address(struct cfg_ctx *c, const json_t *obj, const char *path,
			   struct steer_origin *o)
{
	char sub[CFG_PATH_MAX];
	const char *s;

	if (steer_cfg_str(c, obj, path, "address", true, &s) <= 0)
		return false;
	o->address = steer_cfg_strdup(c, s);
	o->is_ip = true;
	if (inet_pton(AF_INET, s, &o->addr.u.v4) == 1) {
		o->addr.family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &o->addr.u.v6) == 1) {
		o->addr.family = AF_INET6;
		return true;
	}
	o->is_ip = false;
	if (host_wire(c, s, o) == 0)
		return true;
	steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "address"),
		      "must be an IPv4 address, an IPv6 address or a host name");
	return false;
}

/* The name of @p o, the origin numbered @p idx; @p names holds the earlier ones. */
static void origin_name(struct cfg_ctx *c, const json_t *obj, const char *path,
			struct cfg_index *names, size_t idx, struct steer_origin *o)
{
	char sub[CFG_PATH_MAX];
	size_t first;

	if (steer_cfg_dup(c, obj, path, "name", true, &o->name) <= 0)
		return;
	if (o->name[0] == '\0')
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "name"),
			      "must not be empty");
	else if (steer_cfg_name_taken(c, names, o->name, idx, &first))
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "name"),
			      "duplicate origin name \"%s\" (also origins[%zu])", o->name, first);
}

/* @return true if the origin is enabled and has a usable address. */
static bool parse_origin(struct cfg_ctx *c, json_t *obj, const char *path, struct steer_pool *p,
			 struct cfg_index *names, size_t idx)
{
	struct steer_origin *o = &p->origins[idx];
	char sub[CFG_PATH_MAX];
	bool usable;

	o->weight = 1.0;
	o->enabled = true;
	o->pool = p;
	if (!steer_cfg_object(c, obj, path, origin_keys))
		return false;
	origin_name(c, obj, path, names, idx, o);
	usable = origin_address(c, obj, path, o);
	if (steer_cfg_number(c, obj, path, "weight", &o->weight) > 0 &&
	    !(o->weight >= 0.0 && o->weight <= 1.0)) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "weight"),
			      "must be between 0 and 1");
		o->weight = 1.0;
	}
	steer_cfg_bool(c, obj, path, "enabled", &o->enabled);
	steer_cfg_headers(c, obj, path, "header", &o->headers, &o->n_headers);
	return usable && o->enabled;
}

static void parse_origins(struct cfg_ctx *c, const json_t *root, struct steer_pool *p)
{
	struct cfg_index names = {0}; /* origin name -> its index */
	char sub[CFG_PATH_MAX];
	size_t i, usable = 0;
	json_t *arr;

	if (steer_cfg_get(c, root, "", "origins", true, &arr) <= 0)
		return;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, "origins", "must be a non-empty array of origins");
		return;
	}
	p->origins = steer_cfg_calloc(c, json_array_size(arr), sizeof(*p->origins));
	if (p->origins == NULL)
		return;
	p->n_origins = json_array_size(arr);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);

		steer_cfg_path_idx(sub, sizeof(sub), "origins", i);
		usable += parse_origin(c, v, sub, p, &names, i);
	}
	steer_cfg_index_fini(&names);
	if (usable == 0)
		steer_cfg_err(c, "origins", "no enabled origin with a valid address");
}

static void pool_name(struct cfg_ctx *c, const json_t *root, struct steer_pool *p)
{
	const struct steer_config *cfg = c->cfg;
	size_t first;

	if (steer_cfg_dup(c, root, "", "name", true, &p->name) <= 0)
		return;
	if (p->name[0] == '\0') {
		steer_cfg_err(c, "name", "must not be empty");
		return;
	}
	if (steer_cfg_name_taken(c, &c->pool_ix, p->name, p->index, &first))
		steer_cfg_err(c, "name", "duplicate pool name \"%s\" (also in %s)", p->name,
			      cfg->pools[first].pos.file);
}

const struct steer_pool *steer_cfg_find_pool(const struct cfg_ctx *c, const char *name)
{
	size_t i = steer_cfg_index_find(&c->pool_ix, name);

	return i != SIZE_MAX ? &c->cfg->pools[i] : NULL;
}

static void pool_monitor(struct cfg_ctx *c, const json_t *root, struct steer_pool *p)
{
	const struct steer_config *cfg = c->cfg;
	struct cfg_suggest s = {0};
	char hint[96];

	size_t i;

	if (steer_cfg_dup(c, root, "", "monitor", false, &p->monitor_name) <= 0)
		return;
	i = steer_cfg_index_find(&c->monitor_ix, p->monitor_name);
	if (i != SIZE_MAX) {
		p->monitor = &cfg->monitors[i];
		return;
	}
	if (steer_cfg_index_find(&c->broken_monitors, p->monitor_name) != SIZE_MAX)
		return; /* its file did not parse: that error is the one to fix */
	s.word = p->monitor_name;
	for (i = 0; i < cfg->n_monitors; i++)
		if (cfg->monitors[i].name != NULL)
			steer_cfg_suggest(&s, cfg->monitors[i].name);
	steer_cfg_err(c, "monitor", "monitor \"%s\" does not exist%s", p->monitor_name,
		      steer_cfg_hint(&s, hint, sizeof(hint)));
}

static void pool_numbers(struct cfg_ctx *c, const json_t *root, struct steer_pool *p)
{
	int steering = STEER_ORIGIN_RANDOM;

	steer_cfg_enum(c, root, "", "origin_steering", steering_names, &steering);
	p->origin_steering = (enum steer_origin_steering)steering;
	p->max_answers = STEER_DEFAULT_MAX_ANSWERS;
	steer_cfg_uint(c, root, "", "max_answers", false, 1, STEER_MAX_ANSWERS_LIMIT,
		       &p->max_answers);
	p->weight = 1.0;
	if (steer_cfg_number(c, root, "", "weight", &p->weight) > 0 &&
	    !(p->weight > 0.0 && p->weight <= POOL_WEIGHT_MAX)) {
		steer_cfg_err(c, "weight", "must be greater than 0 and at most %g",
			      POOL_WEIGHT_MAX);
		p->weight = 1.0;
	}
}

void steer_cfg_pool(struct cfg_ctx *c, json_t *root, struct steer_pool *p)
{
	p->enabled = true;
	p->minimum_origins = STEER_DEFAULT_MIN_ORIGINS;
	p->pos = steer_cfg_pos(c, "");
	if (!steer_cfg_object(c, root, "", pool_keys))
		return;
	pool_name(c, root, p);
	steer_cfg_dup(c, root, "", "description", false, &p->description);
	steer_cfg_bool(c, root, "", "enabled", &p->enabled);
	pool_monitor(c, root, p);
	pool_numbers(c, root, p);
	parse_origins(c, root, p);
	if (steer_cfg_uint(c, root, "", "minimum_origins", false, 0, UINT32_MAX,
			   &p->minimum_origins) > 0 &&
	    p->n_origins > 0 && p->minimum_origins > p->n_origins)
		steer_cfg_err(c, "minimum_origins", "must not exceed the number of origins (%zu)",
			      p->n_origins);
}

void steer_cfg_free_pool(struct steer_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_origins; i++) {
		struct steer_origin *o = &p->origins[i];

		free(o->name);
		free(o->address);
		free(o->host_wire);
		steer_cfg_free_headers(o->headers, o->n_headers);
	}
	free(p->origins);
	free(p->name);
	free(p->description);
	free(p->monitor_name);
}
