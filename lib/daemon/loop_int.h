/* Internals of the health loop shared by loop.c, failback.c, status.c and explain.c. */
#ifndef STEER_DAEMON_LOOP_INT_H
#define STEER_DAEMON_LOOP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/loop.h"
#include "health/health.h"
#include "steer/steer.h"

struct steer_balancer;
struct steer_pool;
struct steer_origin;
struct steer_prober;

#define LOOP_REASON_MAX 257

/** An override in force (state STEER_OVERRIDE_NONE: none). */
struct ovr {
	uint8_t state;
	int64_t since_ms;
	int64_t until_ms; /* 0 = no end */
	char reason[LOOP_REASON_MAX];
};

/** The last probe of an origin (time_ms 0: none yet). */
struct last_probe {
	int64_t time_ms;
	bool ok;
	uint32_t rtt_ms;
	int http_status;
	char reason[STEER_REASON_MAX];
};

struct pool_st {
	bool ok;
	int64_t since_ms; /* of the current healthy/unhealthy state */
};

/* Ranks of the pools of a balancer: default_pools index, then these two. */
#define RANK_FALLBACK(b)  ((int32_t)(b)->n_pools)
#define RANK_FAIL_OPEN(b) ((int32_t)(b)->n_pools + 1)

struct bal_st {
	char state[160]; /* "homelab", "failover:parents", ... as shown and recorded */
	int64_t since_ms;
	int32_t pin; /* rank failback control holds answers on, or STEER_PIN_NONE */
	int64_t pin_since_ms;
	int32_t natural; /* rank answers would use without the pin */
	int32_t served;  /* rank answered from now */
	bool release;    /* a manual failback: drop the pin at the next decision */
};

/* The balancers that name a pool in default_pools or as fallback_pool. */
struct pool_users {
	size_t n;
	size_t *bal;
};

struct steer_loop {
	pthread_mutex_t lk; /* everything below that changes */
	const struct steer_config *cfg;
	struct steer_health_dims dims;
	struct steer_health_engine *eng;
	const struct steer_origin **origin; /* by global index */
	struct pool_users *users;           /* by pool index */
	struct last_probe *last;            /* by origin index */
	struct ovr *o_ovr;                  /* by origin index */
	struct ovr *p_ovr;                  /* by pool index */
	struct pool_st *pool;               /* by pool index */
	struct bal_st *bal;                 /* by balancer index */
	int64_t next_expiry_ms;             /* earliest until_ms of an override, 0 = none */
	struct steer_store *store;
	struct steer_events *events;
	struct steer_prober *prober;
	struct steer_server *srv;
	int64_t created_ms;
};

/** Build a snapshot of the current states, overrides and pins. Holds lk. */
struct steer_health_snapshot *loop_build_snapshot(struct steer_loop *l);

/** Rank of @p pool chosen for @p bal with @p reason. */
int32_t loop_rank(const struct steer_balancer *bal, const struct steer_pool *pool,
		  enum steer_pool_reason reason);

/** The pool at @p rank of @p bal (NULL for fail-open or out of range). */
const struct steer_pool *loop_pool_at(const struct steer_balancer *bal, int32_t rank);

/** Since when pool @p p has been healthy (now if it just turned healthy). Holds lk. */
int64_t loop_pool_since(const struct steer_loop *l, const struct steer_pool *p,
			const struct steer_health_snapshot *snap, int64_t now_ms);

/** Is failback control on for @p bal (manual, or a hold)? */
bool loop_failback_controlled(const struct steer_balancer *bal);

/**
 * Decide the failback pin of balancer @p i on @p snap (its pins are filled in from the
 * loop's state first) and record what it serves. @return true if the pin changed.
 * Holds lk.
 */
bool loop_failback_decide(struct steer_loop *l, size_t i, struct steer_health_snapshot *snap,
			  int64_t now_ms);

/** When a held failback happens by itself (hold elapsed), or 0 (manual / none). */
int64_t loop_failback_at(const struct steer_loop *l, size_t i,
			 const struct steer_health_snapshot *snap, int64_t now_ms);

/**
 * Add `worst_case_failover_s` (null: never detected) and `failover_budget_s` (null: none)
 * of balancer @p b to @p obj: how long clients can be sent to a dead site, at worst.
 */
void loop_put_failover_worst(json_t *obj, const struct steer_balancer *b);

/** JSON of an override, or null when none. */
json_t *loop_ovr_json(const struct ovr *o);

/** The "why" sentence of a held failback, into @p buf. */
const char *loop_failback_text(const struct steer_loop *l, size_t i,
			       const struct steer_health_snapshot *snap, int64_t now_ms, char *buf,
			       size_t size);

#endif
