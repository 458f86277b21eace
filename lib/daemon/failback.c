/*
 * Failback control (`failback`, `failback_hold`): when a preferred pool is healthy again,
 * answers stay on the pool that took over until an operator fails back (manual) or the
 * preferred pool has been healthy, continuously, for the hold. The decision is a pin in
 * the snapshot: the rank of the pool answers stay on. A pinned pool that turns unhealthy
 * is left at once; failing over to a worse pool is never held.
 */
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "daemon/loop_int.h"
#include "health/health.h"
#include "steer/steer.h"

bool loop_failback_controlled(const struct steer_balancer *bal)
{
	return bal->policy == STEER_POLICY_FAILOVER &&
	       (bal->failback == STEER_FAILBACK_MANUAL || bal->failback_hold_ms > 0);
}

int32_t loop_rank(const struct steer_balancer *bal, const struct steer_pool *pool,
		  enum steer_pool_reason reason)
{
	if (reason == STEER_POOL_FAIL_OPEN)
		return RANK_FAIL_OPEN(bal);
	if (reason == STEER_POOL_FALLBACK)
		return RANK_FALLBACK(bal);
	for (size_t k = 0; k < bal->n_pools; k++) {
		if (bal->pools[k] == pool)
			return (int32_t)k;
	}
	return RANK_FAIL_OPEN(bal);
}

const struct steer_pool *loop_pool_at(const struct steer_balancer *bal, int32_t rank)
{
	if (rank < 0 || rank > RANK_FALLBACK(bal))
		return NULL;
	return rank == RANK_FALLBACK(bal) ? bal->fallback : bal->pools[rank];
}

int64_t loop_pool_since(const struct steer_loop *l, const struct steer_pool *p,
			const struct steer_health_snapshot *snap, int64_t now_ms)
{
	/* the loop's pool state is updated after a publish: a pool healthy in @p snap but
	 * not yet in the loop turned healthy just now */
	if (!l->pool[p->index].ok || !steer_pool_is_healthy(p, snap))
		return now_ms;
	return l->pool[p->index].since_ms;
}

/* The rank @p bal serves under @p snap as it is (pin included). */
static int32_t served_rank(const struct steer_balancer *bal,
			   const struct steer_health_snapshot *snap)
{
	enum steer_pool_reason reason;
	uint64_t rng = 1;
	const struct steer_pool *p = steer_balancer_select_pool(bal, snap, &rng, &reason);

	return loop_rank(bal, p, reason);
}

int64_t loop_failback_at(const struct steer_loop *l, size_t i,
			 const struct steer_health_snapshot *snap, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *nat = loop_pool_at(b, l->bal[i].natural);

	if (l->bal[i].pin == STEER_PIN_NONE || b->failback == STEER_FAILBACK_MANUAL || nat == NULL)
		return 0;
	return loop_pool_since(l, nat, snap, now_ms) + b->failback_hold_ms;
}

/* Should a pin at @p pin be dropped now? */
static bool release_pin(struct steer_loop *l, size_t i, const struct steer_health_snapshot *snap,
			int32_t natural, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *held = loop_pool_at(b, l->bal[i].pin);
	const struct steer_pool *nat = loop_pool_at(b, natural);

	if (l->bal[i].release || held == NULL || !steer_pool_is_healthy(held, snap))
		return true; /* asked to, or the held pool failed: never stay on a dead pool */
	if (natural >= l->bal[i].pin)
		return true; /* nothing better to fail back to */
	return b->failback != STEER_FAILBACK_MANUAL && nat != NULL &&
	       now_ms - loop_pool_since(l, nat, snap, now_ms) >= (int64_t)b->failback_hold_ms;
}

/* Should answers be held on @p served instead of moving to the better @p natural? */
static bool hold_pin(struct steer_loop *l, size_t i, const struct steer_health_snapshot *snap,
		     int32_t natural, int32_t served, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *cur = loop_pool_at(b, served);
	const struct steer_pool *nat = loop_pool_at(b, natural);

	if (served == STEER_PIN_NONE || natural >= served || cur == NULL ||
	    !steer_pool_is_healthy(cur, snap))
		return false;
	if (b->failback == STEER_FAILBACK_MANUAL)
		return true;
	return nat != NULL &&
	       now_ms - loop_pool_since(l, nat, snap, now_ms) < (int64_t)b->failback_hold_ms;
}

bool loop_failback_decide(struct steer_loop *l, size_t i, struct steer_health_snapshot *snap,
			  int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	struct bal_st *st = &l->bal[i];
	int32_t before = st->pin;
	int32_t natural;

	snap->pin[i] = STEER_PIN_NONE;
	natural = served_rank(b, snap);
	st->natural = natural;
	if (!loop_failback_controlled(b)) {
		st->pin = STEER_PIN_NONE;
	} else if (st->pin != STEER_PIN_NONE) {
		if (release_pin(l, i, snap, natural, now_ms))
			st->pin = STEER_PIN_NONE;
	} else if (!st->release && hold_pin(l, i, snap, natural, st->served, now_ms)) {
		st->pin = st->served;
		st->pin_since_ms = now_ms;
	}
	st->release = false;
	snap->pin[i] = st->pin;
	st->served = st->pin != STEER_PIN_NONE ? st->pin : natural;
	return st->pin != before;
}

/* Local time of day for a sentence. */
static const char *clock_text(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ms);
	return buf;
}

const char *loop_failback_text(const struct steer_loop *l, size_t i,
			       const struct steer_health_snapshot *snap, int64_t now_ms, char *buf,
			       size_t size)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *nat = loop_pool_at(b, l->bal[i].natural);
	const struct steer_pool *held = loop_pool_at(b, l->bal[i].pin);
	char t1[32], t2[32];
	int64_t since;

	if (l->bal[i].pin == STEER_PIN_NONE || nat == NULL || held == NULL) {
		buf[0] = '\0';
		return buf;
	}
	since = loop_pool_since(l, nat, snap, now_ms);
	if (b->failback == STEER_FAILBACK_MANUAL)
		snprintf(buf, size,
			 "preferred pool %s healthy since %s; answers stay on %s, waiting for "
			 "manual failback",
			 nat->name, clock_text(since, t1, sizeof(t1)), held->name);
	else
		snprintf(buf, size,
			 "preferred pool %s healthy since %s; answers stay on %s, failing back "
			 "at %s (failback_hold %us)",
			 nat->name, clock_text(since, t1, sizeof(t1)), held->name,
			 clock_text(since + b->failback_hold_ms, t2, sizeof(t2)),
			 b->failback_hold_ms / 1000);
	return buf;
}
