/*
 * The health loop: the engine, pool and balancer state, overrides and failback pins,
 * under one lock taken by the monitor thread (probe results), the API thread (operator
 * commands, status) and the daemon thread (timers). Each change publishes a snapshot to
 * the server first and then queues its events; nothing here logs or writes SQLite.
 */
#include "daemon/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/events.h"
#include "daemon/loop_int.h"
#include "daemon/metrics_int.h"
#include "health/health.h"
#include "monitor/monitor.h"
#include "server/server.h"
#include "steer/steer.h"
#include "store/store.h"

#define STEER_LOG_SRC "health"
#include "core/log.h"

/* Copy @p src (NULL = "") into @p dst, cut to fit: event fields have fixed sizes. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void emit(struct steer_loop *l, struct steer_event *ev)
{
	if (l->events != NULL)
		steer_events_publish(l->events, ev);
}

struct steer_health_snapshot *loop_build_snapshot(struct steer_loop *l)
{
	struct steer_health_snapshot *snap = steer_health_engine_snapshot_dims(l->eng, &l->dims);

	if (snap == NULL)
		return NULL;
	for (size_t i = 0; i < l->dims.n_origins; i++)
		snap->origin_override[i] = l->o_ovr[i].state;
	for (size_t i = 0; i < l->dims.n_pools; i++)
		snap->pool_override[i] = l->p_ovr[i].state;
	for (size_t i = 0; i < l->dims.n_balancers; i++)
		snap->pin[i] = l->bal[i].pin;
	return snap;
}

/* The serving state of a balancer, as shown and recorded: the pool that answers, and why
 * when it is not the first choice. */
static void balancer_state(const struct steer_balancer *bal,
			   const struct steer_health_snapshot *snap, char *out, size_t size)
{
	static const char *const why[] = {"", "failover:", "fallback:", "fail-open:"};
	enum steer_pool_reason reason;
	uint64_t rng = 1;
	const struct steer_pool *p = steer_balancer_select_pool(bal, snap, &rng, &reason);

	if (bal->policy == STEER_POLICY_RANDOM && reason == STEER_POOL_PRIMARY)
		snprintf(out, size, "random");
	else
		snprintf(out, size, "%s%s", why[reason], p != NULL ? p->name : "-");
}

/* @p why: the reason recorded, or NULL for the health's own (override, disabled, count). */
static void update_pool(struct steer_loop *l, size_t i, const struct steer_health_snapshot *snap,
			int64_t now_ms, bool record, const char *why)
{
	const struct steer_pool *p = &l->cfg->pools[i];
	bool ok = steer_pool_is_healthy(p, snap);
	struct steer_event ev = {.kind = STEER_EVENT_POOL, .time_ms = now_ms};

	if (ok == l->pool[i].ok)
		return;
	l->pool[i].ok = ok;
	l->pool[i].since_ms = now_ms;
	if (!record)
		return;
	copy_str(ev.pool, sizeof(ev.pool), p->name);
	copy_str(ev.from, sizeof(ev.from), ok ? "unhealthy" : "healthy");
	copy_str(ev.to, sizeof(ev.to), ok ? "healthy" : "unhealthy");
	if (why != NULL)
		copy_str(ev.reason, sizeof(ev.reason), why);
	else if (l->p_ovr[i].state != STEER_OVERRIDE_NONE)
		snprintf(ev.reason, sizeof(ev.reason), "operator override: %s",
			 steer_override_name((enum steer_override)l->p_ovr[i].state));
	else if (!p->enabled)
		copy_str(ev.reason, sizeof(ev.reason), "disabled");
	else
		copy_str(ev.reason, sizeof(ev.reason),
			 ok ? "enough origins up" : "fewer origins up than minimum_origins");
	emit(l, &ev);
}

static void update_balancer(struct steer_loop *l, size_t i,
			    const struct steer_health_snapshot *snap, int64_t now_ms, bool record,
			    const char *why)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	struct bal_st *st = &l->bal[i];
	char now[sizeof(st->state)];
	struct steer_event ev = {.kind = STEER_EVENT_BALANCER, .time_ms = now_ms};

	balancer_state(b, snap, now, sizeof(now));
	if (strcmp(now, st->state) == 0)
		return;
	if (record) {
		copy_str(ev.balancer, sizeof(ev.balancer), b->name);
		copy_str(ev.from, sizeof(ev.from), st->state);
		copy_str(ev.to, sizeof(ev.to), now);
		copy_str(ev.reason, sizeof(ev.reason), why);
		emit(l, &ev);
		st->since_ms = now_ms;
	}
	memcpy(st->state, now, sizeof(now));
}

/* Persist a pin change (the store keeps it across restarts). */
static void save_pin(struct steer_loop *l, size_t i, int64_t now_ms)
{
	const struct steer_balancer *b = &l->cfg->balancers[i];
	const struct steer_pool *p = loop_pool_at(b, l->bal[i].pin);

	if (l->store != NULL)
		steer_store_put_pin(l->store, b->name,
				    l->bal[i].pin != STEER_PIN_NONE && p != NULL ? p->name : NULL,
				    now_ms);
}

/*
 * Publish the current health: build the snapshot, decide failback pins, swap it into the
 * server (answers change here), then queue @p first (the event that caused it, may be
 * NULL) and the pool and balancer transitions. @p changed: only that pool and its
 * balancers are re-examined (a probe transition); NULL: all. Holds lk.
 */
static void publish(struct steer_loop *l, const struct steer_pool *changed, int64_t now_ms,
		    const char *why, struct steer_event *first)
{
	struct steer_health_snapshot *snap = loop_build_snapshot(l);
	const struct pool_users *u = changed != NULL ? &l->users[changed->index] : NULL;
	size_t n_bal = u != NULL ? u->n : l->cfg->n_balancers;

	if (snap == NULL) {
		log_err("out of memory building a health snapshot; answers keep the old one");
		if (first != NULL)
			emit(l, first);
		return;
	}
	for (size_t k = 0; k < n_bal; k++) {
		size_t i = u != NULL ? u->bal[k] : k;

		if (loop_failback_decide(l, i, snap, now_ms))
			save_pin(l, i, now_ms);
	}
	if (l->srv != NULL)
		steer_server_publish(l->srv, snap); /* the server owns snap now; it is retired
						     * only by a later publish, under lk */
	if (first != NULL)
		emit(l, first);
	for (size_t i = 0; i < l->cfg->n_pools; i++) {
		if (changed == NULL || i == changed->index)
			update_pool(l, i, snap, now_ms, true, NULL);
	}
	for (size_t k = 0; k < n_bal; k++)
		update_balancer(l, u != NULL ? u->bal[k] : k, snap, now_ms, true, why);
	if (l->srv == NULL)
		steer_health_snapshot_free(snap);
}

static void record_probe(struct steer_loop *l, const struct steer_origin *o,
			 const struct steer_probe_result *res)
{
	struct last_probe *lp = &l->last[o->index];
	char q[2 * STEER_REASON_MAX];
	struct steer_store_probe p = {
		.time_ms = res->time_ms,
		.pool = o->pool->name,
		.origin = o->name,
		.address = o->address,
		.ok = res->ok,
		.rtt_ms = res->rtt_ms,
		.http_status = res->http_status,
		.reason = res->reason,
	};

	lp->time_ms = res->time_ms;
	lp->ok = res->ok;
	lp->rtt_ms = res->rtt_ms;
	lp->http_status = res->http_status;
	copy_str(lp->reason, sizeof(lp->reason), res->reason);
	log_debug("pool=%s origin=%s addr=%s ok=%d rtt_ms=%u status=%d attempts=%u reason=\"%s\"",
		  o->pool->name, o->name, o->address, res->ok, res->rtt_ms, res->http_status,
		  res->attempts, steer_log_quote(res->reason, q, sizeof(q)));
	if (l->store != NULL)
		steer_store_put_probe(l->store, &p);
	metrics_probe(l->srv, o, res);
}

/* Monitor thread: one probe result. */
static void on_result(void *arg, const struct steer_probe_result *res)
{
	struct steer_loop *l = arg;
	struct steer_health_transition tr;
	struct steer_event ev = {.kind = STEER_EVENT_ORIGIN};
	const struct steer_origin *o;

	if (res->origin >= l->cfg->n_origins)
		return;
	o = l->origin[res->origin];
	pthread_mutex_lock(&l->lk);
	record_probe(l, o, res);
	if (steer_health_engine_record(l->eng, res, &tr)) {
		ev.time_ms = tr.time_ms;
		copy_str(ev.pool, sizeof(ev.pool), o->pool->name);
		copy_str(ev.origin, sizeof(ev.origin), o->name);
		copy_str(ev.address, sizeof(ev.address), o->address);
		copy_str(ev.from, sizeof(ev.from), steer_health_state_name(tr.from));
		copy_str(ev.to, sizeof(ev.to), steer_health_state_name(tr.to));
		copy_str(ev.reason, sizeof(ev.reason), tr.reason);
		publish(l, o->pool, tr.time_ms, "pool health changed", &ev);
	}
	pthread_mutex_unlock(&l->lk);
}

/* ---- construction ---- */

static int add_user(struct pool_users *u, size_t bal)
{
	size_t *v;

	if (u->n > 0 && u->bal[u->n - 1] == bal)
		return 0; /* the fallback is also in default_pools */
	v = realloc(u->bal, (u->n + 1) * sizeof(*v));
	if (v == NULL)
		return STEER_ENOMEM;
	u->bal = v;
	u->bal[u->n++] = bal;
	return 0;
}

static int index_users(struct steer_loop *l)
{
	const struct steer_config *cfg = l->cfg;

	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];

		for (size_t k = 0; k < b->n_pools; k++)
			if (add_user(&l->users[b->pools[k]->index], i) < 0)
				return STEER_ENOMEM;
		if (b->fallback != NULL && add_user(&l->users[b->fallback->index], i) < 0)
			return STEER_ENOMEM;
	}
	return 0;
}

static int alloc_arrays(struct steer_loop *l)
{
	const struct steer_config *cfg = l->cfg;

	l->origin = calloc(cfg->n_origins + 1, sizeof(*l->origin));
	l->last = calloc(cfg->n_origins + 1, sizeof(*l->last));
	l->o_ovr = calloc(cfg->n_origins + 1, sizeof(*l->o_ovr));
	l->users = calloc(cfg->n_pools + 1, sizeof(*l->users));
	l->p_ovr = calloc(cfg->n_pools + 1, sizeof(*l->p_ovr));
	l->pool = calloc(cfg->n_pools + 1, sizeof(*l->pool));
	l->bal = calloc(cfg->n_balancers + 1, sizeof(*l->bal));
	if (l->origin == NULL || l->last == NULL || l->o_ovr == NULL || l->users == NULL ||
	    l->p_ovr == NULL || l->pool == NULL || l->bal == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		l->bal[i].pin = STEER_PIN_NONE;
		l->bal[i].natural = STEER_PIN_NONE;
		l->bal[i].served = STEER_PIN_NONE;
	}
	return index_users(l);
}

static int engine_new(struct steer_loop *l)
{
	const struct steer_config *cfg = l->cfg;
	struct steer_health_rule *rules = calloc(cfg->n_origins + 1, sizeof(*rules));

	if (rules == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			const struct steer_origin *o = &p->origins[k];

			l->origin[o->index] = o;
			rules[o->index].consecutive_up =
				p->monitor != NULL ? p->monitor->consecutive_up : 1;
			rules[o->index].consecutive_down =
				p->monitor != NULL ? p->monitor->consecutive_down : 1;
		}
	}
	l->eng = steer_health_engine_new(cfg->n_origins, rules);
	free(rules);
	return l->eng != NULL ? 0 : STEER_ENOMEM;
}

/* Origin @p name of pool @p p; @p hint is where it was in an older config (fast path). */
static const struct steer_origin *find_origin(const struct steer_pool *p, const char *name,
					      size_t hint)
{
	if (p == NULL)
		return NULL;
	if (hint < p->n_origins && strcmp(p->origins[hint].name, name) == 0)
		return &p->origins[hint];
	for (size_t i = 0; i < p->n_origins; i++) {
		if (strcmp(p->origins[i].name, name) == 0)
			return &p->origins[i];
	}
	return NULL;
}

static const struct steer_balancer *find_balancer(const struct steer_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];

		if (strcmp(b->name, name) == 0 || strcasecmp(b->fqdn, name) == 0)
			return b;
	}
	return NULL;
}

/* Rank of the pool named @p pool in @p b, or STEER_PIN_NONE. */
static int32_t rank_by_name(const struct steer_balancer *b, const char *pool)
{
	for (size_t k = 0; k < b->n_pools; k++) {
		if (strcmp(b->pools[k]->name, pool) == 0)
			return (int32_t)k;
	}
	if (b->fallback != NULL && strcmp(b->fallback->name, pool) == 0)
		return RANK_FALLBACK(b);
	return STEER_PIN_NONE;
}

static void note_expiry(struct steer_loop *l, int64_t until_ms)
{
	if (until_ms != 0 && (l->next_expiry_ms == 0 || until_ms < l->next_expiry_ms))
		l->next_expiry_ms = until_ms;
}

/* Reload: carry what survives from @p prev (stopped) by name. */
static void carry_over(struct steer_loop *l, struct steer_loop *prev)
{
	const struct steer_config *old = prev->cfg;

	for (size_t i = 0; i < old->n_pools; i++) {
		const struct steer_pool *op = &old->pools[i];
		const struct steer_pool *np = steer_config_get_pool(l->cfg, op->name);

		if (np == NULL)
			continue;
		l->p_ovr[np->index] = prev->p_ovr[i];
		note_expiry(l, prev->p_ovr[i].until_ms);
		l->pool[np->index] = prev->pool[i];
		for (size_t k = 0; k < op->n_origins; k++) {
			const struct steer_origin *oo = &op->origins[k];
			const struct steer_origin *no = find_origin(np, oo->name, k);

			if (no == NULL)
				continue;
			l->o_ovr[no->index] = prev->o_ovr[oo->index];
			note_expiry(l, prev->o_ovr[oo->index].until_ms);
			if (strcmp(no->address, oo->address) != 0)
				continue;
			l->last[no->index] = prev->last[oo->index];
			steer_health_engine_copy(l->eng, no->index, prev->eng, oo->index);
		}
	}
	for (size_t i = 0; i < old->n_balancers; i++) {
		const struct steer_balancer *nb = find_balancer(l->cfg, old->balancers[i].name);
		const struct bal_st *os = &prev->bal[i];
		const struct steer_pool *pinned = loop_pool_at(&old->balancers[i], os->pin);

		if (nb == NULL)
			continue;
		memcpy(l->bal[nb->index].state, os->state, sizeof(os->state));
		l->bal[nb->index].since_ms = os->since_ms;
		if (pinned != NULL && loop_failback_controlled(nb)) {
			l->bal[nb->index].pin = rank_by_name(nb, pinned->name);
			l->bal[nb->index].pin_since_ms = os->pin_since_ms;
		}
	}
}

/* ---- start-up restore from the store file ---- */

static void restore_one(void *arg, const char *pool, const char *origin, const char *address,
			const char *state, int64_t since_ms)
{
	struct steer_loop *l = arg;
	const struct steer_origin *o =
		find_origin(steer_config_get_pool(l->cfg, pool), origin, SIZE_MAX);
	int st = steer_health_state_parse(state);

	if (o == NULL || st < 0 || strcmp(o->address, address) != 0)
		return; /* gone from the config, or a state we do not know */
	steer_health_engine_set(l->eng, o->index, (enum steer_health_state)st, since_ms);
}

static void restore_override(void *arg, const struct steer_store_override *so)
{
	struct steer_loop *l = arg;
	const struct steer_pool *p = steer_config_get_pool(l->cfg, so->pool);
	const struct steer_origin *o = so->origin != NULL && so->origin[0] != '\0'
					       ? find_origin(p, so->origin, SIZE_MAX)
					       : NULL;
	struct ovr *slot = o != NULL ? &l->o_ovr[o->index] : p != NULL ? &l->p_ovr[p->index] : NULL;
	int state = steer_override_parse(so->state);
	struct steer_event ev = {.kind = STEER_EVENT_OVERRIDE, .time_ms = l->created_ms};

	if (slot == NULL || (so->origin != NULL && so->origin[0] != '\0' && o == NULL) ||
	    state <= 0)
		return; /* its pool or origin is gone: kept in the database, not applied */
	if (so->until_ms != 0 && so->until_ms <= l->created_ms) {
		/* the window ended while steerd was not running: record that it is over */
		copy_str(ev.pool, sizeof(ev.pool), so->pool);
		copy_str(ev.origin, sizeof(ev.origin), o != NULL ? o->name : "");
		copy_str(ev.from, sizeof(ev.from), so->state);
		copy_str(ev.to, sizeof(ev.to), "auto");
		copy_str(ev.reason, sizeof(ev.reason), "maintenance window ended");
		copy_str(ev.source, sizeof(ev.source), "expired");
		emit(l, &ev);
		return;
	}
	slot->state = (uint8_t)state;
	slot->since_ms = so->time_ms;
	slot->until_ms = so->until_ms;
	copy_str(slot->reason, sizeof(slot->reason), so->reason);
	note_expiry(l, so->until_ms);
}

static void restore_pin(void *arg, const char *balancer, const char *pool, int64_t since_ms)
{
	struct steer_loop *l = arg;
	const struct steer_balancer *b = find_balancer(l->cfg, balancer);

	if (b == NULL || !loop_failback_controlled(b))
		return;
	l->bal[b->index].pin = rank_by_name(b, pool);
	l->bal[b->index].pin_since_ms = since_ms;
}

static void restore_pool(void *arg, const char *pool, bool healthy, int64_t since_ms)
{
	struct steer_loop *l = arg;
	const struct steer_pool *p = steer_config_get_pool(l->cfg, pool);

	if (p == NULL)
		return;
	l->pool[p->index].ok = healthy;
	l->pool[p->index].since_ms = since_ms;
}

static void restore_from_store(struct steer_loop *l)
{
	const char *path = l->cfg->state_path;
	struct steer_err err = {0};
	int n = steer_store_restore(path, restore_one, l, &err);

	if (n < 0) {
		log_err("cannot restore health from %s: %s; origins start unknown", path, err.msg);
		return;
	}
	log_info("restored the last known state of %d origins from %s", n, path);
	if (steer_store_restore_overrides(path, restore_override, l, &err) < 0 ||
	    steer_store_restore_pins(path, restore_pin, l, &err) < 0 ||
	    steer_store_restore_pools(path, restore_pool, l, &err) < 0)
		log_err("cannot restore overrides and failback state from %s: %s", path, err.msg);
}

/*
 * First look at the new health: pool since-times (kept when the restored or carried
 * state still holds), failback pins, balancer states. On reload, changes are recorded.
 */
static int settle(struct steer_loop *l, bool record)
{
	struct steer_health_snapshot *snap = loop_build_snapshot(l);
	const int64_t now = l->created_ms;

	if (snap == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < l->cfg->n_pools; i++) {
		bool ok = steer_pool_is_healthy(&l->cfg->pools[i], snap);

		if (l->pool[i].since_ms == 0) { /* new: nothing to compare with */
			l->pool[i].ok = ok;
			l->pool[i].since_ms = now;
		} else {
			/* an operator's edit (disabled, drained by weight 0) is history too */
			update_pool(l, i, snap, now, record, "reload");
		}
	}
	for (size_t i = 0; i < l->cfg->n_balancers; i++) {
		if (loop_failback_decide(l, i, snap, now) && record)
			save_pin(l, i, now);
	}
	for (size_t i = 0; i < l->cfg->n_balancers; i++) {
		bool fresh = l->bal[i].state[0] == '\0';

		update_balancer(l, i, snap, now, record && !fresh, "reload");
		if (fresh)
			l->bal[i].since_ms = 0;
	}
	steer_health_snapshot_free(snap);
	return 0;
}

int steer_loop_new(const struct steer_config *cfg, struct steer_loop *prev,
		   struct steer_store *store, struct steer_events *events, struct steer_loop **out)
{
	struct steer_loop *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return STEER_ENOMEM;
	pthread_mutex_init(&l->lk, NULL);
	l->cfg = cfg;
	l->store = store;
	l->events = events;
	l->created_ms = steer_clock_wall_ms();
	l->dims.n_origins = cfg->n_origins;
	l->dims.n_pools = cfg->n_pools;
	l->dims.n_balancers = cfg->n_balancers;
	rc = alloc_arrays(l);
	if (rc == 0)
		rc = engine_new(l);
	if (rc < 0)
		goto out;
	if (prev != NULL) {
		pthread_mutex_lock(&prev->lk);
		carry_over(l, prev);
		pthread_mutex_unlock(&prev->lk);
	} else {
		restore_from_store(l);
	}
	rc = settle(l, prev != NULL);
	if (rc < 0)
		goto out;
	*out = l;
	l = NULL;
out:
	steer_loop_free(l);
	return rc;
}

struct steer_health_snapshot *steer_loop_snapshot(struct steer_loop *l)
{
	struct steer_health_snapshot *snap;

	pthread_mutex_lock(&l->lk);
	snap = loop_build_snapshot(l);
	pthread_mutex_unlock(&l->lk);
	return snap;
}

int steer_loop_start_probes(struct steer_loop *l, struct steer_err *err)
{
	int rc;

	if (l->prober != NULL)
		return 0;
	rc = steer_prober_new(l->cfg, on_result, l, &l->prober, err);
	if (rc < 0)
		return rc;
	rc = steer_prober_start(l->prober);
	if (rc < 0) {
		steer_prober_free(l->prober);
		l->prober = NULL;
		return steer_err_set(err, rc, "cannot start the monitor thread%s: %s",
				     l->cfg->cpus_monitor.n != 0 ? " (affinity.monitor)" : "",
				     steer_strerror(rc));
	}
	return 0;
}

int steer_loop_start(struct steer_loop *l, struct steer_server *srv, struct steer_err *err)
{
	pthread_mutex_lock(&l->lk);
	l->srv = srv;
	pthread_mutex_unlock(&l->lk);
	return steer_loop_start_probes(l, err);
}

bool steer_loop_is_probing(struct steer_loop *l)
{
	return l->prober != NULL;
}

void steer_loop_stop(struct steer_loop *l)
{
	if (l == NULL || l->prober == NULL)
		return;
	steer_prober_stop(l->prober);
	steer_prober_free(l->prober);
	l->prober = NULL;
	pthread_mutex_lock(&l->lk);
	l->srv = NULL; /* a stopped loop publishes nothing more */
	pthread_mutex_unlock(&l->lk);
}

void steer_loop_free(struct steer_loop *l)
{
	if (l == NULL)
		return;
	steer_loop_stop(l);
	steer_health_engine_free(l->eng);
	if (l->users != NULL) {
		for (size_t i = 0; i < l->dims.n_pools; i++)
			free(l->users[i].bal);
	}
	free(l->users);
	free(l->origin);
	free(l->last);
	free(l->o_ovr);
	free(l->p_ovr);
	free(l->pool);
	free(l->bal);
	pthread_mutex_destroy(&l->lk);
	free(l);
}

/* ---- operator commands and timers ---- */

json_t *loop_ovr_json(const struct ovr *o)
{
	if (o->state == STEER_OVERRIDE_NONE)
		return json_null();
	return json_pack("{s:s, s:s, s:I, s:o}", "state",
			 steer_override_name((enum steer_override)o->state), "reason", o->reason,
			 "since_ms", (json_int_t)o->since_ms, "until_ms",
			 o->until_ms != 0 ? json_integer(o->until_ms) : json_null());
}

/* The override event of @p target ("pool" or "pool/origin") going to @p o. */
static void override_event(struct steer_loop *l, const struct steer_pool *p,
			   const struct steer_origin *o, enum steer_override from,
			   const struct ovr *to, const char *source, int64_t now_ms)
{
	struct steer_event ev = {.kind = STEER_EVENT_OVERRIDE, .time_ms = now_ms};

	copy_str(ev.pool, sizeof(ev.pool), p->name);
	copy_str(ev.origin, sizeof(ev.origin), o != NULL ? o->name : "");
	copy_str(ev.address, sizeof(ev.address), o != NULL ? o->address : "");
	copy_str(ev.from, sizeof(ev.from), steer_override_name(from));
	copy_str(ev.to, sizeof(ev.to), steer_override_name((enum steer_override)to->state));
	copy_str(ev.reason, sizeof(ev.reason), to->reason);
	copy_str(ev.source, sizeof(ev.source), source);
	ev.until_ms = to->until_ms;
	publish(l, o != NULL ? p : NULL, now_ms, "override", &ev);
}

int steer_loop_override(struct steer_loop *l, const char *pool, const char *origin,
			const char *state, int64_t for_ms, const char *reason, int64_t now_ms,
			json_t **result, struct steer_err *err)
{
	const struct steer_pool *p = steer_config_get_pool(l->cfg, pool);
	const struct steer_origin *o = origin != NULL ? find_origin(p, origin, SIZE_MAX) : NULL;
	int st = steer_override_parse(state);
	struct ovr *slot;
	enum steer_override from;

	if (p == NULL)
		return steer_err_set(err, -ENOENT, "no pool named \"%s\"", pool);
	if (origin != NULL && o == NULL)
		return steer_err_set(err, -ENOENT, "pool %s has no origin named \"%s\"", pool,
				     origin);
	if (st < 0)
		return steer_err_set(err, -EINVAL,
				     "state must be \"drain\", \"down\", \"up\" or \"auto\"");
	pthread_mutex_lock(&l->lk);
	slot = o != NULL ? &l->o_ovr[o->index] : &l->p_ovr[p->index];
	from = (enum steer_override)slot->state;
	memset(slot, 0, sizeof(*slot));
	if (st != STEER_OVERRIDE_NONE) {
		slot->state = (uint8_t)st;
		slot->since_ms = now_ms;
		slot->until_ms = for_ms > 0 ? now_ms + for_ms : 0;
		copy_str(slot->reason, sizeof(slot->reason), reason);
		note_expiry(l, slot->until_ms);
	} else {
		copy_str(slot->reason, sizeof(slot->reason), reason);
	}
	override_event(l, p, o, from, slot, "api", now_ms);
	if (st == STEER_OVERRIDE_NONE)
		slot->reason[0] = '\0';
	*result = json_pack("{s:b, s:s, s:o, s:o}", "ok", 1, "pool", p->name, "origin",
			    o != NULL ? json_string(o->name) : json_null(), "override",
			    loop_ovr_json(slot));
	pthread_mutex_unlock(&l->lk);
	return *result != NULL ? 0 : STEER_ENOMEM;
}

int steer_loop_failback(struct steer_loop *l, const char *name, int64_t now_ms, json_t **result,
			struct steer_err *err)
{
	const struct steer_balancer *b = find_balancer(l->cfg, name);
	const struct steer_pool *to;
	struct bal_st *st;

	if (b == NULL)
		return steer_err_set(err, -ENOENT, "no balancer named \"%s\"", name);
	pthread_mutex_lock(&l->lk);
	st = &l->bal[b->index];
	if (st->pin == STEER_PIN_NONE) {
		pthread_mutex_unlock(&l->lk);
		return steer_err_set(err, -EBUSY,
				     "balancer %s is not waiting for a failback (it serves %s)",
				     b->name, st->state);
	}
	to = loop_pool_at(b, st->natural);
	st->release = true;
	publish(l, NULL, now_ms, "manual failback", NULL);
	*result = json_pack("{s:b, s:s, s:s}", "ok", 1, "balancer", b->name, "pool",
			    to != NULL ? to->name : st->state);
	pthread_mutex_unlock(&l->lk);
	return *result != NULL ? 0 : STEER_ENOMEM;
}

/* End the windows that are over; @return true if any ended. Holds lk. */
static bool expire_overrides(struct steer_loop *l, int64_t now_ms)
{
	const struct steer_config *cfg = l->cfg;
	bool any = false;

	l->next_expiry_ms = 0;
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];
		struct ovr *po = &l->p_ovr[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			struct ovr *oo = &l->o_ovr[p->origins[k].index];
			enum steer_override from = (enum steer_override)oo->state;

			if (oo->until_ms == 0 || oo->until_ms > now_ms) {
				note_expiry(l, oo->until_ms);
				continue;
			}
			memset(oo, 0, sizeof(*oo));
			copy_str(oo->reason, sizeof(oo->reason), "maintenance window ended");
			override_event(l, p, &p->origins[k], from, oo, "expired", now_ms);
			oo->reason[0] = '\0';
			any = true;
		}
		if (po->until_ms == 0 || po->until_ms > now_ms) {
			note_expiry(l, po->until_ms);
			continue;
		}
		enum steer_override from = (enum steer_override)po->state;

		memset(po, 0, sizeof(*po));
		copy_str(po->reason, sizeof(po->reason), "maintenance window ended");
		override_event(l, p, NULL, from, po, "expired", now_ms);
		po->reason[0] = '\0';
		any = true;
	}
	return any;
}

void steer_loop_tick(struct steer_loop *l, int64_t now_ms)
{
	struct steer_health_snapshot *snap = NULL;
	bool due = false;

	pthread_mutex_lock(&l->lk);
	if (l->next_expiry_ms != 0 && l->next_expiry_ms <= now_ms)
		expire_overrides(l, now_ms);
	for (size_t i = 0; i < l->cfg->n_balancers && !due; i++) {
		int64_t at;

		if (l->bal[i].pin == STEER_PIN_NONE)
			continue;
		if (snap == NULL)
			snap = loop_build_snapshot(l);
		if (snap == NULL)
			break;
		at = loop_failback_at(l, i, snap, now_ms);
		due = at != 0 && at <= now_ms;
	}
	steer_health_snapshot_free(snap);
	if (due)
		publish(l, NULL, now_ms, "failback_hold elapsed", NULL);
	pthread_mutex_unlock(&l->lk);
}
