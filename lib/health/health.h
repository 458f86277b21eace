/*
 * Health snapshots: an immutable array of origin states, indexed by the global origin
 * index of the config (struct steer_origin.index). DNS workers read the current snapshot
 * through an atomic pointer; writers build a new one and swap it in.
 */
#ifndef STEER_HEALTH_HEALTH_H
#define STEER_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum steer_health_state {
	STEER_HEALTH_UNKNOWN = 0, /* no result yet: counts as up for steering */
	STEER_HEALTH_UP = 1,
	STEER_HEALTH_DOWN = 2,
};

/** An operator's override of an origin or a whole pool (set over the API). */
enum steer_override {
	STEER_OVERRIDE_NONE = 0,  /* "auto": the probes decide */
	STEER_OVERRIDE_DRAIN = 1, /* no new answers, still probed (weight 0) */
	STEER_OVERRIDE_DOWN = 2,  /* counts as down whatever the probes say */
	STEER_OVERRIDE_UP = 3,    /* counts as up whatever the probes say */
};

/** No failback is being held for a balancer. */
#define STEER_PIN_NONE (-1)

/**
 * Everything the answer path reads about health, immutable once published: the probed
 * state and the override of every origin (by struct steer_origin.index), the override of
 * every pool (by struct steer_pool.index), and per balancer (by struct
 * steer_balancer.index) the position in default_pools of the pool that failback control
 * holds answers on, or STEER_PIN_NONE. Arrays are part of the same allocation.
 */
struct steer_health_snapshot {
	uint64_t generation;
	size_t n_origins;
	size_t n_pools;
	size_t n_balancers;
	uint8_t *origin_override; /* n_origins entries, enum steer_override */
	uint8_t *pool_override;   /* n_pools entries, enum steer_override */
	int32_t *pin;             /* n_balancers entries */
	uint8_t state[];          /* enum steer_health_state, one per origin (probed) */
};

/** Sizes of a snapshot. */
struct steer_health_dims {
	size_t n_origins;
	size_t n_pools;
	size_t n_balancers;
};

/**
 * Allocate a snapshot of @p n_origins origins (no pools, no balancers), all
 * STEER_HEALTH_UNKNOWN, no override.
 * @return new snapshot (caller frees with steer_health_snapshot_free()) or NULL.
 */
struct steer_health_snapshot *steer_health_snapshot_new(size_t n_origins, uint64_t generation);

/**
 * Allocate a snapshot of the sizes in @p dims: origins unknown, no override, no pin.
 * @return new snapshot (caller frees with steer_health_snapshot_free()) or NULL.
 */
struct steer_health_snapshot *steer_health_snapshot_new_dims(const struct steer_health_dims *dims,
							     uint64_t generation);

/** Deep copy of @p snap (same generation). @return new snapshot or NULL. */
struct steer_health_snapshot *steer_health_snapshot_dup(const struct steer_health_snapshot *snap);

/** Free @p snap (NULL-safe). */
void steer_health_snapshot_free(struct steer_health_snapshot *snap);

/** The override of origin @p index (STEER_OVERRIDE_NONE when out of range). */
static inline enum steer_override
steer_health_origin_override(const struct steer_health_snapshot *snap, uint32_t index)
{
	if (snap == NULL || index >= snap->n_origins)
		return STEER_OVERRIDE_NONE;
	return (enum steer_override)snap->origin_override[index];
}

/** The override of pool @p index (STEER_OVERRIDE_NONE when out of range). */
static inline enum steer_override
steer_health_pool_override(const struct steer_health_snapshot *snap, uint32_t index)
{
	if (snap == NULL || index >= snap->n_pools)
		return STEER_OVERRIDE_NONE;
	return (enum steer_override)snap->pool_override[index];
}

/** The failback pin of balancer @p index (STEER_PIN_NONE when out of range). */
static inline int32_t steer_health_pin(const struct steer_health_snapshot *snap, uint32_t index)
{
	if (snap == NULL || index >= snap->n_balancers)
		return STEER_PIN_NONE;
	return snap->pin[index];
}

/**
 * Does origin @p index count as healthy for steering? An override decides when set
 * (drain and down: no; up: yes); otherwise unknown counts as up. An index beyond the
 * snapshot (NULL snapshot included) also counts as up.
 * Context: answer path; pure.
 */
static inline bool steer_health_is_up(const struct steer_health_snapshot *snap, uint32_t index)
{
	if (snap == NULL || index >= snap->n_origins)
		return true;
	switch (snap->origin_override[index]) {
	case STEER_OVERRIDE_DRAIN:
	case STEER_OVERRIDE_DOWN:
		return false;
	case STEER_OVERRIDE_UP:
		return true;
	default:
		return snap->state[index] != STEER_HEALTH_DOWN;
	}
}

/** Is origin @p index drained by an override? Context: answer path; pure. */
static inline bool steer_health_is_drained(const struct steer_health_snapshot *snap, uint32_t index)
{
	return steer_health_origin_override(snap, index) == STEER_OVERRIDE_DRAIN;
}

/** Name of a state: "unknown", "up", "down". */
const char *steer_health_state_name(enum steer_health_state s);

/** Parse a state name; @return the state, or -1 if @p name is not one. */
int steer_health_state_parse(const char *name);

/** Name of an override: "auto" (none), "drain", "down", "up". */
const char *steer_override_name(enum steer_override o);

/** Parse an override name ("auto" = none); @return it, or -1 if @p name is not one. */
int steer_override_parse(const char *name);

#define STEER_REASON_MAX 128

/**
 * The outcome of one probe of one origin, after its immediate re-tries (a probe counts
 * as failed only when the first attempt and every re-try failed).
 */
struct steer_probe_result {
	uint32_t origin; /* global origin index (struct steer_origin.index) */
	int64_t time_ms; /* wall clock (ms since the Unix epoch) when the probe finished */
	bool ok;
	uint32_t rtt_ms;   /* round trip of the last attempt */
	int http_status;   /* 0 when there was no HTTP response (tcp probe, connect error) */
	uint32_t attempts; /* 1 + re-tries made */
	char reason[STEER_REASON_MAX]; /* "" when ok; "connect refused", "status 503 not in 2xx" */
};

/**
 * Callback with a probe result. Runs on the monitor thread; @p res is borrowed for the call.
 */
typedef void steer_probe_done_fn(void *arg, const struct steer_probe_result *res);

/** Thresholds of one origin: consecutive results needed to change state. */
struct steer_health_rule {
	uint32_t consecutive_up;
	uint32_t consecutive_down;
};

/** A state change of one origin. */
struct steer_health_transition {
	uint32_t origin;
	enum steer_health_state from;
	enum steer_health_state to;
	int64_t time_ms;
	char reason[STEER_REASON_MAX];
};

struct steer_health_engine;

/**
 * Create the state machine of @p n origins, all STEER_HEALTH_UNKNOWN.
 * @param rules  One rule per origin (copied).
 * @return new engine (free with steer_health_engine_free()) or NULL on allocation failure.
 * Context: owned by one thread (the monitor thread); not thread-safe.
 */
struct steer_health_engine *steer_health_engine_new(size_t n,
						    const struct steer_health_rule *rules);

/** Free (NULL-safe). */
void steer_health_engine_free(struct steer_health_engine *eng);

/**
 * Set an origin's state without counting results (restore at start, admin override).
 * Counters restart from zero. Out-of-range @p origin is ignored.
 */
void steer_health_engine_set(struct steer_health_engine *eng, uint32_t origin,
			     enum steer_health_state state, int64_t since_ms);

/**
 * Copy origin @p src_i of @p src (state, since, and the success/failure counts towards
 * the next change) to origin @p dst_i of @p dst: a reload keeps an origin's progress, so
 * an origin counting up is not sent back to zero. Out-of-range indices are ignored.
 */
void steer_health_engine_copy(struct steer_health_engine *dst, uint32_t dst_i,
			      const struct steer_health_engine *src, uint32_t src_i);

/**
 * Feed one probe result. Success: up after consecutive_up successes in a row (from down
 * or unknown); failure: down after consecutive_down failures in a row (from up or unknown).
 * @param tr  Receives the transition, if there was one.
 * @return true if the origin changed state. Results for unknown origins are ignored.
 * Context: pure state update, no clock (time comes with the result).
 */
bool steer_health_engine_record(struct steer_health_engine *eng,
				const struct steer_probe_result *res,
				struct steer_health_transition *tr);

/** Current state of @p origin (STEER_HEALTH_UNKNOWN if out of range). */
enum steer_health_state steer_health_engine_state(const struct steer_health_engine *eng,
						  uint32_t origin);

/** Since when (ms) @p origin has been in its state (0 = since start). */
int64_t steer_health_engine_since(const struct steer_health_engine *eng, uint32_t origin);

/**
 * Build a new immutable snapshot of the current states, with the next generation number;
 * no pools, no balancers, no overrides (steer_health_engine_snapshot_dims() adds them).
 * @return new snapshot (caller owns it) or NULL on allocation failure.
 */
struct steer_health_snapshot *steer_health_engine_snapshot(struct steer_health_engine *eng);

/**
 * Build a new snapshot of @p dims (dims->n_origins must be the engine's size) with the
 * current states, the next generation number, no override and no pin; the caller fills
 * in overrides and pins before publishing it.
 * @return new snapshot (caller owns it) or NULL on allocation failure.
 */
struct steer_health_snapshot *
steer_health_engine_snapshot_dims(struct steer_health_engine *eng,
				  const struct steer_health_dims *dims);

#endif
