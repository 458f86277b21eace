/*
 * The failover budget (`failover_budget` of a balancer): the worst case a client can be
 * sent to a dead site, from how the monitor detects a down origin (lib/monitor: fixed
 * ticks, immediate re-tries, a tick skipped while a probe still runs) plus the TTL a
 * resolver may have cached; over the budget is a configuration error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config/config_int.h"

#define BUDGET_MAX_S (7u * 86400u)

/* The worst case through pool @p p, answered with @p ttl_s. */
static void pool_worst(const struct steer_pool *p, uint32_t ttl_s, struct steer_failover_worst *w)
{
	const struct steer_monitor *m = p->monitor;
	uint64_t probe_ms;

	memset(w, 0, sizeof(*w));
	w->pool = p;
	w->ttl_s = ttl_s;
	if (m == NULL || m->interval_ms == 0)
		return;
	w->bounded = true;
	w->interval_ms = m->interval_ms;
	w->further = m->consecutive_down > 1 ? m->consecutive_down - 1 : 0;
	w->attempts = m->retries + 1;
	w->timeout_ms = m->timeout_ms;
	/* every attempt of a hung origin runs to its timeout, and the re-tries start at once */
	probe_ms = (uint64_t)w->attempts * m->timeout_ms;
	/* a tick that finds the probe still running is skipped: the next probe starts at the
	 * first tick after it ended (the end comes after its own tick, never at it) */
	w->spacing_ms = (uint32_t)(m->interval_ms * (probe_ms / m->interval_ms + 1));
	/* the origin dies just after a probe succeeded: the next starts up to an interval later */
	w->detect_ms = m->interval_ms + (uint64_t)w->further * w->spacing_ms + probe_ms;
	w->total_ms = w->detect_ms + (uint64_t)ttl_s * 1000;
}

/* Is @p a worse than @p b? Unbounded is worst. */
static bool worse(const struct steer_failover_worst *a, const struct steer_failover_worst *b)
{
	if (a->bounded != b->bounded)
		return !a->bounded;
	return a->total_ms > b->total_ms;
}

void steer_config_failover_worst(const struct steer_balancer *b, struct steer_failover_worst *out)
{
	struct steer_failover_worst w;
	size_t first = 0;

	memset(out, 0, sizeof(*out));
	if (b->n_pools == 0)
		return;
	if (b->policy == STEER_POLICY_RANDOM) {
		/* every healthy pool answers with ttl: the slowest one to detect decides */
		pool_worst(b->pools[0], b->ttl_s, out);
		for (size_t i = 1; i < b->n_pools; i++) {
			pool_worst(b->pools[i], b->ttl_s, &w);
			if (worse(&w, out))
				*out = w;
		}
		return;
	}
	while (first + 1 < b->n_pools && !b->pools[first]->enabled)
		first++; /* a disabled pool is never the one answering */
	pool_worst(b->pools[first], b->ttl_s, out);
}

/* Whole seconds of @p ms (every term is made of whole seconds). */
static uint64_t secs(uint64_t ms)
{
	return ms / 1000;
}

const char *steer_config_failover_text(const struct steer_failover_worst *w, char *buf, size_t size)
{
	char further[64] = "", timeouts[64];

	if (w->pool == NULL) {
		snprintf(buf, size, "no pool");
		return buf;
	}
	if (!w->bounded) {
		snprintf(buf, size, "pool %s has no monitor: a dead origin is never detected",
			 w->pool->name);
		return buf;
	}
	if (w->further > 0)
		snprintf(further, sizeof(further),
			 " + %" PRIu32 " × %" PRIu64 " s between failed probes", w->further,
			 secs(w->spacing_ms));
	if (w->attempts > 1)
		snprintf(timeouts, sizeof(timeouts), "%" PRIu32 " × %" PRIu64 " s timeouts",
			 w->attempts, secs(w->timeout_ms));
	else
		snprintf(timeouts, sizeof(timeouts), "%" PRIu64 " s timeout", secs(w->timeout_ms));
	snprintf(buf, size, "ttl %" PRIu32 " s + %" PRIu64 " s interval%s + %s = %" PRIu64 " s",
		 w->ttl_s, secs(w->interval_ms), further, timeouts, secs(w->total_ms));
	return buf;
}

/* "30", "30s", "5m", "1h", "1d" into seconds. @return false if it is none of these. */
static bool parse_duration(const char *s, uint64_t *out_s)
{
	uint64_t n = 0, mult = 1;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 10)
			return false; /* more than any budget, and no overflow below */
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || (s[i] != '\0' && s[i + 1] != '\0'))
		return false;
	if (s[i] == 'm')
		mult = 60;
	else if (s[i] == 'h')
		mult = 3600;
	else if (s[i] == 'd')
		mult = 86400;
	else if (s[i] != 's' && s[i] != '\0')
		return false;
	*out_s = n * mult;
	return true;
}

/* `failover_budget`: seconds as a number, or a string as parse_duration() takes it.
 * @return 1, 0 or -1 as the typed readers do. */
static int read_budget(struct cfg_ctx *c, const json_t *obj, const char *path, uint32_t *out_s)
{
	char sub[CFG_PATH_MAX];
	uint64_t n = 0;
	json_t *v;
	int got = steer_cfg_get(c, obj, path, "failover_budget", false, &v);

	if (got <= 0)
		return got;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		n = (uint64_t)json_integer_value(v);
	else if (json_is_string(v) && !parse_duration(json_string_value(v), &n))
		n = 0;
	if (n < 1 || n > BUDGET_MAX_S) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "failover_budget"),
			      "must be a duration from 1 s to 7 d: 30, \"30s\", \"5m\" or \"1h\"");
		return -1;
	}
	*out_s = (uint32_t)n;
	return 1;
}

/* What to change so that @p w fits @p budget_s: the ttl if detection leaves room, and how
 * the monitor detects sooner. */
static void budget_hint(const struct steer_failover_worst *w, uint64_t budget_s, char *buf,
			size_t size)
{
	const char *mon = w->pool->monitor->name;
	uint64_t detect_s = secs(w->detect_ms);
	char ttl[128];

	if (detect_s < budget_s)
		snprintf(ttl, sizeof(ttl),
			 "lower ttl to %" PRIu64 " s, or detect sooner: ", budget_s - detect_s);
	else
		snprintf(ttl, sizeof(ttl),
			 "monitor %s alone takes %" PRIu64 " s to detect a dead origin: ", mon,
			 detect_s);
	if (w->spacing_ms > w->interval_ms)
		snprintf(buf, size,
			 "%skeep (retries + 1) × timeout of monitor %s below its interval (now "
			 "%" PRIu32 " × %" PRIu64 " s ≥ %" PRIu64
			 " s: a hung probe skips the next tick), or lower its interval or "
			 "consecutive_down",
			 ttl, mon, w->attempts, secs(w->timeout_ms), secs(w->interval_ms));
	else
		snprintf(buf, size, "%slower the probe interval or consecutive_down of monitor %s",
			 ttl, mon);
}

void steer_cfg_budget(struct cfg_ctx *c, const json_t *obj, const char *path,
		      struct steer_balancer *b)
{
	struct steer_failover_worst w;
	char sub[CFG_PATH_MAX], terms[256], hint[384];
	uint32_t budget_s = 0;

	if (read_budget(c, obj, path, &budget_s) <= 0)
		return;
	b->failover_budget_ms = budget_s * 1000;
	steer_config_failover_worst(b, &w);
	if (w.pool == NULL)
		return; /* no valid pool: reported already */
	steer_cfg_path(sub, sizeof(sub), path, "failover_budget");
	if (!w.bounded) {
		steer_cfg_err_key(c, sub,
				  "failover budget exceeded: pool %s has no monitor, so a dead "
				  "origin is never detected: give the pool a monitor",
				  w.pool->name);
		return;
	}
	if (w.total_ms <= (uint64_t)budget_s * 1000)
		return;
	budget_hint(&w, budget_s, hint, sizeof(hint));
	steer_cfg_err_key(
		c, sub, "failover budget exceeded: %s > %" PRIu32 " s budget (pool %s): %s",
		steer_config_failover_text(&w, terms, sizeof(terms)), budget_s, w.pool->name, hint);
}
