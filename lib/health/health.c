/* Health snapshot allocation; the state machine arrives with the monitors (issue #3). */
#include "health/health.h"

#include <stdlib.h>

struct steer_health_snapshot *steer_health_snapshot_new(size_t n_origins, uint64_t generation)
{
	struct steer_health_snapshot *snap = calloc(1, sizeof(*snap) + n_origins);

	if (snap == NULL)
		return NULL;
	snap->generation = generation;
	snap->n_origins = n_origins;
	return snap;
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
