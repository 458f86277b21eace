/* Health snapshots (states, overrides, failback pins) and the origin state machine. */
#include "health/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a snapshot of @p d: header, states, origin and pool overrides, then the pins
 * at an int32_t-aligned offset. */
static size_t snapshot_layout(const struct steer_health_dims *d, size_t *pin_off)
{
	size_t off = sizeof(struct steer_health_snapshot) + 2 * d->n_origins + d->n_pools;

	off = (off + sizeof(int32_t) - 1) / sizeof(int32_t) * sizeof(int32_t);
	*pin_off = off;
	return off + d->n_balancers * sizeof(int32_t);
}

struct steer_health_snapshot *steer_health_snapshot_new_dims(const struct steer_health_dims *dims,
							     uint64_t generation)
{
	size_t pin_off;
	size_t size = snapshot_layout(dims, &pin_off);
	struct steer_health_snapshot *snap = calloc(1, size);

	if (snap == NULL)
		return NULL;
	snap->generation = generation;
	snap->n_origins = dims->n_origins;
	snap->n_pools = dims->n_pools;
	snap->n_balancers = dims->n_balancers;
	snap->origin_override = snap->state + dims->n_origins;
	snap->pool_override = snap->origin_override + dims->n_origins;
	snap->pin = (int32_t *)(void *)((char *)snap + pin_off);
	for (size_t i = 0; i < dims->n_balancers; i++)
		snap->pin[i] = STEER_PIN_NONE;
	return snap;
}

struct steer_health_snapshot *steer_health_snapshot_new(size_t n_origins, uint64_t generation)
{
	const struct steer_health_dims dims = {.n_origins = n_origins};

	return steer_health_snapshot_new_dims(&dims, generation);
}

struct steer_health_snapshot *steer_health_snapshot_dup(const struct steer_health_snapshot *snap)
{
	const struct steer_health_dims dims = {snap->n_origins, snap->n_pools, snap->n_balancers};
	struct steer_health_snapshot *copy =
		steer_health_snapshot_new_dims(&dims, snap->generation);

	if (copy == NULL)
		return NULL;
	memcpy(copy->state, snap->state, snap->n_origins);
	memcpy(copy->origin_override, snap->origin_override, snap->n_origins);
	memcpy(copy->pool_override, snap->pool_override, snap->n_pools);
	memcpy(copy->pin, snap->pin, snap->n_balancers * sizeof(*snap->pin));
	return copy;
}

void steer_health_snapshot_free(struct steer_health_snapshot *snap)
{
	free(snap);
}

const char *steer_health_state_name(enum steer_health_state s)
{
	switch (s) {
	case STEER_HEALTH_UP:
		return "up";
	case STEER_HEALTH_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

int steer_health_state_parse(const char *name)
{
	if (strcmp(name, "up") == 0)
		return STEER_HEALTH_UP;
	if (strcmp(name, "down") == 0)
		return STEER_HEALTH_DOWN;
	if (strcmp(name, "unknown") == 0)
		return STEER_HEALTH_UNKNOWN;
	return -1;
}

const char *steer_override_name(enum steer_override o)
{
	switch (o) {
	case STEER_OVERRIDE_DRAIN:
		return "drain";
	case STEER_OVERRIDE_DOWN:
		return "down";
	case STEER_OVERRIDE_UP:
		return "up";
	default:
		return "auto";
	}
}

int steer_override_parse(const char *name)
{
	static const enum steer_override all[] = {STEER_OVERRIDE_NONE, STEER_OVERRIDE_DRAIN,
						  STEER_OVERRIDE_DOWN, STEER_OVERRIDE_UP};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, steer_override_name(all[i])) == 0)
			return (int)all[i];
	}
	return -1;
}

/* The origin state machine: consecutive successes / failures against thresholds. */
struct origin_hs {
	uint8_t state;
	uint32_t ups;
	uint32_t downs;
	int64_t since_ms;
};

struct steer_health_engine {
	size_t n;
	uint64_t generation;
	struct steer_health_rule *rules;
	struct origin_hs *o;
};

struct steer_health_engine *steer_health_engine_new(size_t n, const struct steer_health_rule *rules)
{
	struct steer_health_engine *eng = calloc(1, sizeof(*eng));

	if (eng == NULL)
		return NULL;
	eng->n = n;
	eng->rules = calloc(n != 0 ? n : 1, sizeof(*eng->rules));
	eng->o = calloc(n != 0 ? n : 1, sizeof(*eng->o));
	if (eng->rules == NULL || eng->o == NULL) {
		steer_health_engine_free(eng);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		eng->rules[i] = rules[i];
		/* a threshold of 0 would never be reached by "counter >= 0" logic twice */
		if (eng->rules[i].consecutive_up == 0)
			eng->rules[i].consecutive_up = 1;
		if (eng->rules[i].consecutive_down == 0)
			eng->rules[i].consecutive_down = 1;
	}
	return eng;
}

void steer_health_engine_free(struct steer_health_engine *eng)
{
	if (eng == NULL)
		return;
	free(eng->rules);
	free(eng->o);
	free(eng);
}

void steer_health_engine_set(struct steer_health_engine *eng, uint32_t origin,
			     enum steer_health_state state, int64_t since_ms)
{
	if (origin >= eng->n)
		return;
	eng->o[origin].state = (uint8_t)state;
	eng->o[origin].ups = 0;
	eng->o[origin].downs = 0;
	eng->o[origin].since_ms = since_ms;
}

void steer_health_engine_copy(struct steer_health_engine *dst, uint32_t dst_i,
			      const struct steer_health_engine *src, uint32_t src_i)
{
	if (dst_i < dst->n && src_i < src->n)
		dst->o[dst_i] = src->o[src_i];
}

bool steer_health_engine_record(struct steer_health_engine *eng,
				const struct steer_probe_result *res,
				struct steer_health_transition *tr)
{
	struct origin_hs *o;
	const struct steer_health_rule *rule;
	enum steer_health_state to;

	if (res->origin >= eng->n)
		return false;
	o = &eng->o[res->origin];
	rule = &eng->rules[res->origin];
	if (res->ok) {
		o->downs = 0;
		if (o->ups < UINT32_MAX)
			o->ups++;
		if (o->state == STEER_HEALTH_UP || o->ups < rule->consecutive_up)
			return false;
		to = STEER_HEALTH_UP;
	} else {
		o->ups = 0;
		if (o->downs < UINT32_MAX)
			o->downs++;
		if (o->state == STEER_HEALTH_DOWN || o->downs < rule->consecutive_down)
			return false;
		to = STEER_HEALTH_DOWN;
	}
	tr->origin = res->origin;
	tr->from = (enum steer_health_state)o->state;
	tr->to = to;
	tr->time_ms = res->time_ms;
	if (res->ok)
		snprintf(tr->reason, sizeof(tr->reason), "%u consecutive successes", o->ups);
	else
		snprintf(tr->reason, sizeof(tr->reason), "%s", res->reason);
	o->state = (uint8_t)to;
	o->since_ms = res->time_ms;
	return true;
}

enum steer_health_state steer_health_engine_state(const struct steer_health_engine *eng,
						  uint32_t origin)
{
	return origin < eng->n ? (enum steer_health_state)eng->o[origin].state
			       : STEER_HEALTH_UNKNOWN;
}

int64_t steer_health_engine_since(const struct steer_health_engine *eng, uint32_t origin)
{
	return origin < eng->n ? eng->o[origin].since_ms : 0;
}

struct steer_health_snapshot *
steer_health_engine_snapshot_dims(struct steer_health_engine *eng,
				  const struct steer_health_dims *dims)
{
	struct steer_health_snapshot *snap;

	if (dims->n_origins != eng->n)
		return NULL;
	snap = steer_health_snapshot_new_dims(dims, ++eng->generation);
	if (snap == NULL)
		return NULL;
	for (size_t i = 0; i < eng->n; i++)
		snap->state[i] = eng->o[i].state;
	return snap;
}

struct steer_health_snapshot *steer_health_engine_snapshot(struct steer_health_engine *eng)
{
	const struct steer_health_dims dims = {.n_origins = eng->n};

	return steer_health_engine_snapshot_dims(eng, &dims);
}
