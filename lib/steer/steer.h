/*
 * Steering: which pool a balancer serves and which origins of that pool answer.
 * Pure functions over the config and a health snapshot: no clock, no I/O, no allocation.
 * Randomness comes from a caller-owned PRNG state (one per worker thread).
 */
#ifndef STEER_STEER_STEER_H
#define STEER_STEER_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct steer_balancer;
struct steer_pool;
struct steer_origin;
struct steer_health_snapshot;

#define STEER_ANSWER_MAX 64

/** The client, for `hash` steering: family AF_INET/AF_INET6 (0 = unknown) and address. */
struct steer_client {
	int family;
	uint8_t addr[16];
};

/** How a pool was chosen. */
enum steer_pool_reason {
	STEER_POOL_PRIMARY,   /* first-choice pool (failover) or a healthy pool (random) */
	STEER_POOL_FAILOVER,  /* a later pool in default_pools */
	STEER_POOL_FALLBACK,  /* fallback_pool, no pool healthy */
	STEER_POOL_FAIL_OPEN, /* no pool healthy, no fallback: first pool, health ignored */
};

/**
 * Result of steering: origins to answer with (borrowed from the config). Either @c n
 * address origins of the requested family, or exactly one hostname origin (@c cname).
 */
struct steer_answer_set {
	const struct steer_origin *origins[STEER_ANSWER_MAX];
	size_t n;
	bool cname; /* origins[0] is a hostname origin: answer with a CNAME */
	const struct steer_pool *pool;
	enum steer_pool_reason reason;
};

/**
 * xorshift64* step on the caller's state (must not be 0).
 * Context: answer path; the state is per thread.
 */
uint64_t steer_rand_next(uint64_t *state);

/**
 * Is @p pool healthy under @p snap: enabled, and, unless an operator forced it up or down
 * (or drained it: never healthy), at least minimum_origins enabled origins with weight > 0,
 * not drained, that are up or unknown (or forced up).
 */
bool steer_pool_is_healthy(const struct steer_pool *pool, const struct steer_health_snapshot *snap);

/**
 * Choose the pool @p bal serves now: for `failover`, the pool failback control holds
 * (the snapshot's pin) while it is healthy, else the first healthy pool; for `random`,
 * a healthy pool by weight; with no healthy pool, the fallback, else fail-open.
 * @param rng     Caller's PRNG state (for the `random` policy).
 * @param reason  Receives why this pool was chosen.
 * @return the pool (never NULL for a validated config).
 * Context: answer path; never allocates.
 */
const struct steer_pool *steer_balancer_select_pool(const struct steer_balancer *bal,
						    const struct steer_health_snapshot *snap,
						    uint64_t *rng, enum steer_pool_reason *reason);

/**
 * Choose the origins of @p pool to answer a query of address family @p family
 * (AF_INET for A, AF_INET6 for AAAA) with. Hostname origins qualify for both families.
 * @param ignore_health  true when failing open: every enabled origin is a candidate.
 * @param out  Caller-owned; filled with at most min(STEER_ANSWER_MAX, max_answers) origins.
 * @return number of origins chosen (0 = no origin of that family: NODATA).
 * Context: answer path; never allocates.
 */
size_t steer_pool_select(const struct steer_pool *pool, const struct steer_health_snapshot *snap,
			 int family, const struct steer_client *client, bool ignore_health,
			 uint64_t *rng, struct steer_answer_set *out);

/**
 * Full steering for one query: pool choice, then origin choice.
 * @return number of origins in @p out (0 = NODATA for this family).
 */
size_t steer_balancer_answer(const struct steer_balancer *bal,
			     const struct steer_health_snapshot *snap, int family,
			     const struct steer_client *client, uint64_t *rng,
			     struct steer_answer_set *out);

#endif
