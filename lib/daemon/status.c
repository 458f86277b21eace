/* GET /v1/status: every balancer, pool and origin as the loop sees it now. */
#include <string.h>

#include "config/config.h"
#include "daemon/loop_int.h"
#include "health/health.h"
#include "steer/steer.h"

static const char *reason_name(const struct steer_balancer *b, enum steer_pool_reason r)
{
	static const char *const names[] = {"primary", "failover", "fallback", "fail-open"};

	if (b->policy == STEER_POLICY_RANDOM && r == STEER_POOL_PRIMARY)
		return "random";
	return names[r];
}

static json_t *pending_json(const struct steer_loop *l, size_t i,
			    const struct steer_health_snapshot *snap, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *nat = loop_pool_at(b, l->bal[i].natural);
	int64_t at = loop_failback_at(l, i, snap, now_ms);
	char text[512];

	if (l->bal[i].pin == STEER_PIN_NONE || nat == NULL)
		return json_null();
	return json_pack("{s:s, s:I, s:o, s:s}", "pool", nat->name, "healthy_since_ms",
			 (json_int_t)loop_pool_since(l, nat, snap, now_ms), "at_ms",
			 at != 0 ? json_integer(at) : json_null(), "text",
			 loop_failback_text(l, i, snap, now_ms, text, sizeof(text)));
}

void loop_put_failover_worst(json_t *obj, const struct steer_balancer *b)
{
	struct steer_failover_worst w;

	steer_config_failover_worst(b, &w);
	json_object_set_new(obj, "worst_case_failover_s",
			    w.bounded ? json_integer((json_int_t)(w.total_ms / 1000))
				      : json_null());
	json_object_set_new(obj, "failover_budget_s",
			    b->failover_budget_ms != 0
				    ? json_integer((json_int_t)(b->failover_budget_ms / 1000))
				    : json_null());
}

static json_t *balancer_json(const struct steer_loop *l, size_t i,
			     const struct steer_health_snapshot *snap, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	enum steer_pool_reason reason;
	uint64_t rng = 1;
	const struct steer_pool *p = steer_balancer_select_pool(b, snap, &rng, &reason);
	bool failed_over = reason != STEER_POOL_PRIMARY;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:i, s:s, s:i, s:o}", "name", b->name,
			 "fqdn", b->fqdn, "policy",
			 b->policy == STEER_POLICY_RANDOM ? "random" : "failover", "pool",
			 p != NULL ? p->name : "", "reason", reason_name(b, reason), "failed_over",
			 failed_over, "since_ms", (json_int_t)l->bal[i].since_ms, "ttl",
			 (int)(failed_over ? b->failover_ttl_s : b->ttl_s), "failback",
			 b->failback == STEER_FAILBACK_MANUAL ? "manual" : "auto", "failback_hold",
			 (int)(b->failback_hold_ms / 1000), "failback_pending",
			 pending_json(l, i, snap, now_ms));
}

static json_t *last_probe_json(const struct last_probe *lp)
{
	if (lp->time_ms == 0)
		return json_null();
	return json_pack("{s:I, s:b, s:i, s:i, s:s}", "time_ms", (json_int_t)lp->time_ms, "ok",
			 lp->ok, "rtt_ms", (int)lp->rtt_ms, "http_status", lp->http_status,
			 "reason", lp->reason);
}

/* Would this origin be used in answers of its pool now? */
static bool origin_serving(const struct steer_origin *o, const struct steer_health_snapshot *snap)
{
	return o->enabled && o->weight > 0.0 && !steer_health_is_drained(snap, o->index) &&
	       steer_health_is_up(snap, o->index);
}

static json_t *origin_json(const struct steer_loop *l, const struct steer_origin *o,
			   const struct steer_health_snapshot *snap)
{
	enum steer_health_state st = steer_health_engine_state(l->eng, o->index);

	return json_pack("{s:s, s:s, s:b, s:f, s:s, s:I, s:b, s:o, s:o}", "name", o->name,
			 "address", o->address, "enabled", o->enabled, "weight", o->weight, "state",
			 steer_health_state_name(st), "since_ms",
			 (json_int_t)steer_health_engine_since(l->eng, o->index), "serving",
			 origin_serving(o, snap), "last_probe", last_probe_json(&l->last[o->index]),
			 "override", loop_ovr_json(&l->o_ovr[o->index]));
}

static json_t *pool_json(const struct steer_loop *l, const struct steer_pool *p,
			 const struct steer_health_snapshot *snap)
{
	json_t *origins = json_array();
	json_t *obj;
	int up = 0;

	for (size_t k = 0; k < p->n_origins; k++) {
		const struct steer_origin *o = &p->origins[k];

		up += origin_serving(o, snap);
		json_array_append_new(origins, origin_json(l, o, snap));
	}
	obj = json_pack("{s:s, s:b, s:o, s:b, s:i, s:i, s:i, s:I, s:o, s:o}", "name", p->name,
			"enabled", p->enabled, "monitor",
			p->monitor_name != NULL ? json_string(p->monitor_name) : json_null(),
			"healthy", steer_pool_is_healthy(p, snap), "healthy_origins", up,
			"minimum_origins", (int)p->minimum_origins, "origins_total",
			(int)p->n_origins, "since_ms", (json_int_t)l->pool[p->index].since_ms,
			"override", loop_ovr_json(&l->p_ovr[p->index]), "origins", origins);
	return obj;
}

json_t *steer_loop_status(struct steer_loop *l, int64_t now_ms)
{
	struct steer_health_snapshot *snap;
	json_t *bals = json_array();
	json_t *pools = json_array();
	json_t *doc = NULL;

	pthread_mutex_lock(&l->lk);
	snap = loop_build_snapshot(l);
	if (snap == NULL || bals == NULL || pools == NULL)
		goto out;
	for (size_t i = 0; i < l->cfg->n_balancers; i++) {
		json_t *b = balancer_json(l, i, snap, now_ms);

		if (b != NULL)
			loop_put_failover_worst(b, &l->cfg->balancers[i]);
		json_array_append_new(bals, b);
	}
	for (size_t i = 0; i < l->cfg->n_pools; i++)
		json_array_append_new(pools, pool_json(l, &l->cfg->pools[i], snap));
	doc = json_pack("{s:s, s:s, s:I, s:O, s:O}", "version", STEER_VERSION, "zone",
			l->cfg->zone.name, "now_ms", (json_int_t)now_ms, "balancers", bals, "pools",
			pools);
out:
	pthread_mutex_unlock(&l->lk);
	steer_health_snapshot_free(snap);
	json_decref(bals);
	json_decref(pools);
	return doc;
}
