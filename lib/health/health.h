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

struct steer_health_snapshot {
	uint64_t generation;
	size_t n_origins;
	uint8_t state[]; /* enum steer_health_state, one per origin */
};

/**
 * Allocate a snapshot of @p n_origins origins, all STEER_HEALTH_UNKNOWN.
 * @return new snapshot (caller frees with steer_health_snapshot_free()) or NULL.
 */
struct steer_health_snapshot *steer_health_snapshot_new(size_t n_origins, uint64_t generation);

/** Free @p snap (NULL-safe). */
void steer_health_snapshot_free(struct steer_health_snapshot *snap);

/**
 * Does origin @p index count as healthy for steering? Unknown counts as up; an index
 * beyond the snapshot (NULL snapshot included) also counts as up.
 * Context: answer path; pure.
 */
static inline bool steer_health_is_up(const struct steer_health_snapshot *snap, uint32_t index)
{
	if (snap == NULL || index >= snap->n_origins)
		return true;
	return snap->state[index] != STEER_HEALTH_DOWN;
}

/** Name of a state: "unknown", "up", "down". */
const char *steer_health_state_name(enum steer_health_state s);

#endif
