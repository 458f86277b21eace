/*
 * Health loop wiring. Everything here runs on the monitor thread except new/start/stop:
 * the engine, the pool and balancer states and the snapshot publishing have one writer.
 */
#include "server/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "health/health.h"
#include "monitor/monitor.h"
#include "server/server.h"
#include "steer/steer.h"
#include "store/store.h"

#define STEER_LOG_SRC "health"
#include "core/log.h"

#define RECLAIM_MS 100

/* The balancers that name a pool in default_pools or as fallback_pool. */
struct pool_users {
	size_t n;
	size_t *bal;
};

struct steer_watch {
	const struct steer_config *cfg;
	struct steer_health_engine *eng;
	const struct steer_origin **origin; /* by global index */
	bool *pool_ok;                      /* by pool index */
	char (*bal_state)[160];             /* by balancer index */
	struct pool_users *users;           /* by pool index: balancers that use the pool */
	size_t n_users;
	struct steer_store *store;
	struct steer_prober *prober;
	struct steer_server *srv;
	struct event *reclaim;
};

static void restore_one(void *arg, const char *pool, const char *origin, const char *address,
			const char *state, int64_t since_ms)
{
	struct steer_watch *w = arg;
	const struct steer_pool *p = steer_config_get_pool(w->cfg, pool);
	int st = steer_health_state_parse(state);

	if (p == NULL || st < 0)
		return; /* gone from the config, or a state we do not know */
	for (size_t i = 0; i < p->n_origins; i++) {
		const struct steer_origin *o = &p->origins[i];

		if (strcmp(o->name, origin) == 0 && strcmp(o->address, address) == 0) {
			steer_health_engine_set(w->eng, o->index, (enum steer_health_state)st,
						since_ms);
			return;
		}
	}
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

static void update_pool(struct steer_watch *w, size_t i, const struct steer_health_snapshot *snap,
			int64_t now_ms, bool record)
{
	const struct steer_pool *p = &w->cfg->pools[i];
	bool ok = steer_pool_is_healthy(p, snap);
	struct steer_store_transition t = {.time_ms = now_ms, .kind = STEER_STORE_POOL};

	if (record && ok != w->pool_ok[i]) {
		t.pool = p->name;
		t.from = w->pool_ok[i] ? "healthy" : "unhealthy";
		t.to = ok ? "healthy" : "unhealthy";
		t.reason = ok ? "enough origins up" : "fewer origins up than minimum_origins";
		steer_log(ok ? STEER_LOG_NOTICE : STEER_LOG_WARN, STEER_LOG_SRC, "pool=%s %s->%s",
			  p->name, t.from, t.to);
		steer_store_put_transition(w->store, &t);
	}
	w->pool_ok[i] = ok;
}

static void update_balancer(struct steer_watch *w, size_t i,
			    const struct steer_health_snapshot *snap, int64_t now_ms, bool record)
{
	const struct steer_balancer *b = &w->cfg->balancers[i];
	char now[sizeof(w->bal_state[0])];
	struct steer_store_transition t = {.time_ms = now_ms, .kind = STEER_STORE_BALANCER};

	balancer_state(b, snap, now, sizeof(now));
	if (record && strcmp(now, w->bal_state[i]) != 0) {
		t.name = b->name;
		t.from = w->bal_state[i];
		t.to = now;
		t.reason = "pool health changed";
		log_notice("balancer=%s %s->%s", b->name, t.from, t.to);
		steer_store_put_transition(w->store, &t);
	}
	memcpy(w->bal_state[i], now, sizeof(now));
}

/* Every pool and balancer: at start, without recording transitions. */
static void compute_states(struct steer_watch *w, const struct steer_health_snapshot *snap)
{
	for (size_t i = 0; i < w->cfg->n_pools; i++)
		update_pool(w, i, snap, 0, false);
	for (size_t i = 0; i < w->cfg->n_balancers; i++)
		update_balancer(w, i, snap, 0, false);
}

/* After a transition of an origin of @p pool: that pool and the balancers that use it
 * (not all of them: at 10,000 origins a full pass per transition was most of the
 * monitor thread's CPU while origins came up). */
static void pool_changed(struct steer_watch *w, const struct steer_pool *pool,
			 const struct steer_health_snapshot *snap, int64_t now_ms)
{
	const struct pool_users *u = &w->users[pool->index];

	update_pool(w, pool->index, snap, now_ms, true);
	for (size_t k = 0; k < u->n; k++)
		update_balancer(w, u->bal[k], snap, now_ms, true);
}

static void record_probe(struct steer_watch *w, const struct steer_origin *o,
			 const struct steer_probe_result *res)
{
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

	log_debug("pool=%s origin=%s addr=%s ok=%d rtt_ms=%u status=%d attempts=%u reason=\"%s\"",
		  o->pool->name, o->name, o->address, res->ok, res->rtt_ms, res->http_status,
		  res->attempts, steer_log_quote(res->reason, q, sizeof(q)));
	steer_store_put_probe(w->store, &p);
}

static void on_result(void *arg, const struct steer_probe_result *res)
{
	struct steer_watch *w = arg;
	struct steer_health_transition tr;
	struct steer_store_transition t = {.kind = STEER_STORE_ORIGIN};
	struct steer_health_snapshot *snap;
	const struct steer_origin *o;
	char q[2 * STEER_REASON_MAX];

	if (res->origin >= w->cfg->n_origins)
		return;
	o = w->origin[res->origin];
	record_probe(w, o, res);
	if (!steer_health_engine_record(w->eng, res, &tr))
		return;
	/* publish first: answers change before anything is logged or written */
	snap = steer_health_engine_snapshot(w->eng);
	if (snap == NULL) {
		log_err("out of memory building a health snapshot; answers keep the old one");
		return;
	}
	steer_server_publish(w->srv, snap);
	steer_log(tr.to == STEER_HEALTH_DOWN ? STEER_LOG_WARN : STEER_LOG_NOTICE, STEER_LOG_SRC,
		  "pool=%s origin=%s addr=%s %s->%s reason=\"%s\"", o->pool->name, o->name,
		  o->address, steer_health_state_name(tr.from), steer_health_state_name(tr.to),
		  steer_log_quote(tr.reason, q, sizeof(q)));
	t.time_ms = tr.time_ms;
	t.pool = o->pool->name;
	t.name = o->name;
	t.address = o->address;
	t.from = steer_health_state_name(tr.from);
	t.to = steer_health_state_name(tr.to);
	t.reason = tr.reason;
	steer_store_put_transition(w->store, &t);
	/* snap now belongs to the server; it is retired only by a later publish, which happens
	 * on this thread, so reading it here is safe */
	pool_changed(w, o->pool, snap, tr.time_ms);
}

static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
	struct steer_watch *w = arg;

	(void)fd;
	(void)what;
	steer_server_reclaim(w->srv);
}

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

static int index_users(struct steer_watch *w)
{
	const struct steer_config *cfg = w->cfg;

	w->users = calloc(cfg->n_pools + 1, sizeof(*w->users));
	if (w->users == NULL)
		return STEER_ENOMEM;
	w->n_users = cfg->n_pools;
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];

		for (size_t k = 0; k < b->n_pools; k++)
			if (add_user(&w->users[b->pools[k]->index], i) < 0)
				return STEER_ENOMEM;
		if (b->fallback != NULL && add_user(&w->users[b->fallback->index], i) < 0)
			return STEER_ENOMEM;
	}
	return 0;
}

static int engine_new(struct steer_watch *w)
{
	const struct steer_config *cfg = w->cfg;
	struct steer_health_rule *rules = calloc(cfg->n_origins + 1, sizeof(*rules));

	w->origin = calloc(cfg->n_origins + 1, sizeof(*w->origin));
	w->pool_ok = calloc(cfg->n_pools + 1, sizeof(*w->pool_ok));
	w->bal_state = calloc(cfg->n_balancers + 1, sizeof(*w->bal_state));
	if (rules == NULL || w->origin == NULL || w->pool_ok == NULL || w->bal_state == NULL) {
		free(rules);
		return STEER_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			const struct steer_origin *o = &p->origins[k];

			w->origin[o->index] = o;
			rules[o->index].consecutive_up =
				p->monitor != NULL ? p->monitor->consecutive_up : 1;
			rules[o->index].consecutive_down =
				p->monitor != NULL ? p->monitor->consecutive_down : 1;
		}
	}
	w->eng = steer_health_engine_new(cfg->n_origins, rules);
	free(rules);
	if (w->eng == NULL)
		return STEER_ENOMEM;
	return index_users(w);
}

static void restore_from_store(struct steer_watch *w)
{
	struct steer_err err = {0};
	int n = steer_store_restore(w->cfg->state_path, restore_one, w, &err);

	if (n < 0)
		log_err("cannot restore health from %s: %s; origins start unknown",
			w->cfg->state_path, err.msg);
	else
		log_info("restored the last known state of %d origins from %s", n,
			 w->cfg->state_path);
}

/* Reload: an origin keeps its state if the new config has the same pool, name, address. */
static void carry_over(struct steer_watch *w, const struct steer_config *prev,
		       const struct steer_health_snapshot *snap)
{
	for (size_t i = 0; i < prev->n_pools; i++) {
		const struct steer_pool *p = &prev->pools[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			const struct steer_origin *o = &p->origins[k];

			if (o->index < snap->n_origins && snap->state[o->index] != 0)
				restore_one(w, p->name, o->name, o->address,
					    steer_health_state_name(snap->state[o->index]), 0);
		}
	}
}

int steer_watch_new(const struct steer_config *cfg, const struct steer_config *prev_cfg,
		    const struct steer_health_snapshot *prev_snap, struct steer_watch **out)
{
	struct steer_watch *w = calloc(1, sizeof(*w));
	struct steer_health_snapshot *snap;

	if (w == NULL)
		return STEER_ENOMEM;
	w->cfg = cfg;
	if (engine_new(w) < 0) {
		steer_watch_free(w);
		return STEER_ENOMEM;
	}
	if (prev_cfg != NULL && prev_snap != NULL)
		carry_over(w, prev_cfg, prev_snap);
	else
		restore_from_store(w);
	snap = steer_health_engine_snapshot(w->eng);
	if (snap == NULL) {
		steer_watch_free(w);
		return STEER_ENOMEM;
	}
	compute_states(w, snap);
	steer_health_snapshot_free(snap);
	*out = w;
	return 0;
}

struct steer_health_snapshot *steer_watch_snapshot(struct steer_watch *w)
{
	return steer_health_engine_snapshot(w->eng);
}

int steer_watch_start(struct steer_watch *w, struct steer_server *srv, struct steer_err *err)
{
	const struct timeval tv = {.tv_sec = 0, .tv_usec = RECLAIM_MS * 1000};
	struct steer_store_opts so = {.path = w->cfg->state_path,
				      .retention_days = w->cfg->retention_days,
				      .cpus = &w->cfg->cpus_monitor};
	int rc;

	w->srv = srv;
	rc = steer_store_new(&so, &w->store);
	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the store%s: %s",
				     w->cfg->cpus_monitor.n != 0 ? " (affinity.monitor)" : "",
				     steer_strerror(rc));
	rc = steer_prober_new(w->cfg, on_result, w, &w->prober, err);
	if (rc < 0)
		return rc;
	w->reclaim = event_new(steer_prober_get_base(w->prober), -1, EV_PERSIST, on_reclaim, w);
	if (w->reclaim == NULL || event_add(w->reclaim, &tv) < 0)
		return steer_err_set(err, STEER_ENOMEM, "cannot add the reclaim timer");
	rc = steer_prober_start(w->prober);
	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the monitor thread%s: %s",
				     w->cfg->cpus_monitor.n != 0 ? " (affinity.monitor)" : "",
				     steer_strerror(rc));
	return 0;
}

void steer_watch_stop(struct steer_watch *w)
{
	if (w == NULL)
		return;
	steer_prober_stop(w->prober);
	if (w->store != NULL && steer_store_flush(w->store, 2000) < 0)
		log_warn("not every probe result reached %s", w->cfg->state_path);
}

void steer_watch_free(struct steer_watch *w)
{
	if (w == NULL)
		return;
	steer_watch_stop(w);
	if (w->reclaim != NULL)
		event_free(w->reclaim);
	steer_prober_free(w->prober);
	steer_store_free(w->store);
	steer_health_engine_free(w->eng);
	free(w->origin);
	free(w->pool_ok);
	free(w->bal_state);
	/* not w->cfg: after a reload the old config may already be gone */
	for (size_t i = 0; i < w->n_users; i++)
		free(w->users[i].bal);
	free(w->users);
	free(w);
}
