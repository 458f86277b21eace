/*
 * Answer counters by name: the map from a configuration's indices (balancer, pool rank,
 * origin) to the metric set's slots, built when a configuration is put in service. Slots
 * are given by name and kept, so counts carry over a reload for every name that stays.
 */
#include "config/config.h"
#include "metrics/metrics.h"
#include "server/server_int.h"

struct steer_metrics_map *steer_server_map_new(struct steer_metrics *m,
					       const struct steer_config *cfg)
{
	struct steer_metrics_map *map;
	size_t n_slots = 0, k = 0;

	for (size_t i = 0; i < cfg->n_balancers; i++)
		n_slots += cfg->balancers[i].n_pools + 1;
	if (steer_metrics_map_new(cfg->n_balancers, n_slots, cfg->n_origins, &map) < 0)
		return NULL;
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];

		map->bal_first[i] = (uint32_t)k;
		for (size_t p = 0; p < b->n_pools; p++)
			map->pool_slot[k++] = steer_metrics_slot(m, STEER_METRICS_BALANCER_POOL,
								 b->name, b->pools[p]->name);
		/* the fallback's entry; 0 (the sink) when there is none: never answered */
		map->pool_slot[k++] = b->fallback != NULL
					      ? steer_metrics_slot(m, STEER_METRICS_BALANCER_POOL,
								   b->name, b->fallback->name)
					      : 0;
	}
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];

		for (size_t o = 0; o < p->n_origins; o++)
			map->origin[p->origins[o].index] = steer_metrics_slot(
				m, STEER_METRICS_ORIGIN, p->name, p->origins[o].name);
	}
	return map;
}
