/*
 * Unit tests for lib/steer: pool health, failover/fallback/fail-open, weighted random,
 * sticky hash, `all` answers and family filtering, on hand-built pools and snapshots.
 */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config/config.h"
#include "health/health.h"
#include "steer/steer.h"

#define MAX_ORIGINS 256
#define MAX_POOLS   8
#define PICKS       10000

/* Pools, origins and a balancer built by hand; origins of one pool are contiguous. */
struct fx {
	struct steer_origin origins[MAX_ORIGINS];
	char names[MAX_ORIGINS][32];
	char addrs[MAX_ORIGINS][64];
	size_t n_origins;
	struct steer_pool pools[MAX_POOLS];
	char pool_names[MAX_POOLS][16];
	const struct steer_pool *pool_ptrs[MAX_POOLS];
	size_t n_pools;
	struct steer_balancer bal;
	struct steer_health_snapshot *snap;
	uint64_t rng;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->rng = 0x9e3779b97f4a7c15ULL;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	steer_health_snapshot_free(fx->snap);
	free(fx);
	return 0;
}

/* Start a new pool; the origins added next belong to it. */
static struct steer_pool *fx_pool(struct fx *fx, uint32_t min, enum steer_origin_steering mode)
{
	struct steer_pool *p;

	assert_true(fx->n_pools < MAX_POOLS);
	p = &fx->pools[fx->n_pools];
	snprintf(fx->pool_names[fx->n_pools], sizeof(fx->pool_names[0]), "pool%zu", fx->n_pools);
	p->name = fx->pool_names[fx->n_pools];
	p->enabled = true;
	p->minimum_origins = min;
	p->origin_steering = mode;
	p->max_answers = STEER_DEFAULT_MAX_ANSWERS;
	p->weight = 1.0;
	p->origins = &fx->origins[fx->n_origins];
	p->index = (uint32_t)fx->n_pools;
	fx->pool_ptrs[fx->n_pools] = p;
	fx->n_pools++;
	return p;
}

/* Add an origin to the last pool: an IPv4/IPv6 literal, or else a hostname. */
static struct steer_origin *fx_origin(struct fx *fx, const char *address, double weight)
{
	struct steer_pool *p = &fx->pools[fx->n_pools - 1];
	size_t i = fx->n_origins++;
	struct steer_origin *o = &fx->origins[i];

	assert_true(i < MAX_ORIGINS);
	assert_ptr_equal(o, &p->origins[p->n_origins]);
	snprintf(fx->names[i], sizeof(fx->names[0]), "o%zu", i);
	snprintf(fx->addrs[i], sizeof(fx->addrs[0]), "%s", address);
	o->name = fx->names[i];
	o->address = fx->addrs[i];
	o->weight = weight;
	o->enabled = true;
	o->index = (uint32_t)i;
	o->pool = p;
	if (inet_pton(AF_INET, address, &o->addr.u.v4) == 1)
		o->addr.family = AF_INET;
	else if (inet_pton(AF_INET6, address, &o->addr.u.v6) == 1)
		o->addr.family = AF_INET6;
	o->is_ip = o->addr.family != 0;
	p->n_origins++;
	return o;
}

/* Add @p n IPv4 origins 10.<pool>.x.y of weight 1 to the last pool. */
static void fx_v4s(struct fx *fx, size_t n)
{
	char buf[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu", fx->n_pools, i / 250, i % 250 + 1);
		fx_origin(fx, buf, 1.0);
	}
}

/* Wire the balancer (pools in creation order) and a snapshot with every origin unknown. */
static void fx_done(struct fx *fx, enum steer_policy policy, const struct steer_pool *fallback)
{
	struct steer_health_dims dims = {.n_pools = MAX_POOLS, .n_balancers = 1};

	fx->bal.policy = policy;
	fx->bal.pools = fx->pool_ptrs;
	fx->bal.n_pools = fx->n_pools;
	fx->bal.fallback = fallback;
	fx->bal.index = 0;
	dims.n_origins = fx->n_origins;
	fx->snap = steer_health_snapshot_new_dims(&dims, 1);
	assert_non_null(fx->snap);
}

static void fx_set(struct fx *fx, const struct steer_origin *o, enum steer_health_state s)
{
	fx->snap->state[o->index] = (uint8_t)s;
}

static void fx_set_pool(struct fx *fx, const struct steer_pool *p, enum steer_health_state s)
{
	for (size_t i = 0; i < p->n_origins; i++)
		fx_set(fx, &p->origins[i], s);
}

static bool in_pool(const struct steer_pool *p, const struct steer_origin *o)
{
	return o >= p->origins && o < p->origins + p->n_origins;
}

static size_t origin_slot(const struct steer_pool *p, const struct steer_origin *o)
{
	assert_true(in_pool(p, o));
	return (size_t)(o - p->origins);
}

/* |observed - n p| <= 5 binomial standard deviations. */
static void assert_binomial(size_t observed, size_t n, double p)
{
	const double mean = (double)n * p;
	const double sd = sqrt((double)n * p * (1.0 - p));

	if (fabs((double)observed - mean) > 5.0 * sd)
		fail_msg("observed %zu, expected %.1f +- %.1f (5 sd)", observed, mean, 5.0 * sd);
}

static struct steer_client client_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct steer_client cl = {.family = AF_INET, .addr = {a, b, c, d}};

	return cl;
}

static void test_rand(void **state)
{
	uint64_t s = 1;
	uint64_t zero = 0;
	uint64_t a = steer_rand_next(&s);
	uint64_t b = steer_rand_next(&s);

	(void)state;
	assert_int_not_equal(a, b);
	assert_int_not_equal(s, 0);
	/* a zero state would repeat forever: it must recover */
	a = steer_rand_next(&zero);
	b = steer_rand_next(&zero);
	assert_int_not_equal(zero, 0);
	assert_int_not_equal(a, b);
}

static void test_all_up_primary(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_answer_set out;
	enum steer_pool_reason reason = STEER_POOL_FAIL_OPEN;

	fx_v4s(fx, 2);
	fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set_pool(fx, p0, STEER_HEALTH_UP);
	assert_true(steer_pool_is_healthy(p0, fx->snap));
	assert_ptr_equal(steer_balancer_select_pool(&fx->bal, fx->snap, &fx->rng, &reason), p0);
	assert_int_equal(reason, STEER_POOL_PRIMARY);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p0);
	assert_int_equal(out.reason, STEER_POOL_PRIMARY);
	assert_false(out.cname);
	assert_true(in_pool(p0, out.origins[0]));
}

static void test_origin_down_still_primary(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 2, STEER_ORIGIN_RANDOM);
	struct steer_answer_set out;

	fx_v4s(fx, 3);
	fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set(fx, &p0->origins[1], STEER_HEALTH_DOWN);
	assert_true(steer_pool_is_healthy(p0, fx->snap));
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			1);
		assert_ptr_equal(out.pool, p0);
		assert_int_equal(out.reason, STEER_POOL_PRIMARY);
		assert_ptr_not_equal(out.origins[0], &p0->origins[1]);
	}
}

static void test_below_minimum_failover(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 2, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1;
	struct steer_answer_set out;

	fx_v4s(fx, 3);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set(fx, &p0->origins[0], STEER_HEALTH_DOWN);
	fx_set(fx, &p0->origins[2], STEER_HEALTH_DOWN);
	assert_false(steer_pool_is_healthy(p0, fx->snap));
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAILOVER);
	assert_true(in_pool(p1, out.origins[0]));
	/* a drained origin does not count towards minimum_origins either */
	fx_set(fx, &p0->origins[0], STEER_HEALTH_UP);
	p0->origins[0].weight = 0.0;
	assert_false(steer_pool_is_healthy(p0, fx->snap));
}

static void test_all_down_fallback(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1, *fb;
	struct steer_answer_set out;

	fx_v4s(fx, 2);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fb = fx_pool(fx, 2, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fx->n_pools = 2; /* the fallback is not one of default_pools */
	fx_done(fx, STEER_POLICY_FAILOVER, fb);
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	fx_set(fx, &fb->origins[0], STEER_HEALTH_DOWN);
	/* fallback is unhealthy (1 < minimum 2) but served; its up origin answers */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			1);
		assert_ptr_equal(out.pool, fb);
		assert_int_equal(out.reason, STEER_POOL_FALLBACK);
		assert_ptr_equal(out.origins[0], &fb->origins[1]);
	}
	/* everything down: the fallback still answers, health ignored */
	fx_set(fx, &fb->origins[1], STEER_HEALTH_DOWN);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_int_equal(out.reason, STEER_POOL_FALLBACK);
	assert_true(in_pool(fb, out.origins[0]));
	/* a family the fallback lacks is NODATA, not an answer of the wrong family */
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET6, NULL, &fx->rng, &out),
			 0);
	assert_int_equal(out.reason, STEER_POOL_FALLBACK);
}

static void test_fail_open(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_ALL);
	struct steer_pool *p1;
	struct steer_answer_set out;

	fx_v4s(fx, 2);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_ALL);
	fx_v4s(fx, 5);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	p0->enabled = false;
	p1->origins[3].enabled = false;
	p1->origins[4].weight = 0.0;
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 3);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAIL_OPEN);
	for (size_t i = 0; i < out.n; i++)
		assert_true(origin_slot(p1, out.origins[i]) < 3);
	/* every origin drained: fail open still answers rather than empty */
	for (size_t i = 0; i < p1->n_origins; i++)
		p1->origins[i].weight = 0.0;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 4);
	/* no pool enabled: the first pool */
	p1->enabled = false;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 2);
	assert_ptr_equal(out.pool, p0);
	assert_int_equal(out.reason, STEER_POOL_FAIL_OPEN);
}

static void test_disabled_pool_skipped(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1;
	struct steer_answer_set out;

	fx_v4s(fx, 2);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set_pool(fx, p0, STEER_HEALTH_UP);
	p0->enabled = false;
	assert_false(steer_pool_is_healthy(p0, fx->snap));
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAILOVER);
}

static void count_picks(struct fx *fx, const struct steer_pool *p, size_t *counts)
{
	struct steer_answer_set out;

	memset(counts, 0, p->n_origins * sizeof(*counts));
	for (int i = 0; i < PICKS; i++) {
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 1);
		counts[origin_slot(p, out.origins[0])]++;
	}
}

static void test_disabled_and_drained_never_chosen(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_answer_set out;
	size_t counts[4];

	fx_v4s(fx, 4);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	p->origins[1].enabled = false;
	p->origins[2].weight = 0.0;
	count_picks(fx, p, counts);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[0] + counts[3], PICKS);
	/* the same in hash and all modes */
	p->origin_steering = STEER_ORIGIN_HASH;
	for (int i = 0; i < 1000; i++) {
		struct steer_client cl = client_v4((uint8_t)i, (uint8_t)(i >> 8), 7, 1);

		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, &cl, false, &fx->rng, &out), 1);
		assert_true(out.origins[0] == &p->origins[0] || out.origins[0] == &p->origins[3]);
	}
	p->origin_steering = STEER_ORIGIN_ALL;
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 2);
	/* failing open ignores health, but not enabled or (while others have weight) drained */
	fx_set_pool(fx, p, STEER_HEALTH_DOWN);
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, true, &fx->rng, &out), 2);
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 0);
}

static void test_unknown_counts_as_up(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 2, STEER_ORIGIN_ALL);
	struct steer_answer_set out;
	enum steer_pool_reason reason;

	fx_v4s(fx, 3);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set(fx, &p0->origins[0], STEER_HEALTH_DOWN);
	fx_set(fx, &p0->origins[1], STEER_HEALTH_UP);
	/* origins[2] stays STEER_HEALTH_UNKNOWN */
	assert_true(steer_pool_is_healthy(p0, fx->snap));
	assert_ptr_equal(steer_balancer_select_pool(&fx->bal, fx->snap, &fx->rng, &reason), p0);
	assert_int_equal(reason, STEER_POOL_PRIMARY);
	assert_int_equal(steer_pool_select(p0, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 2);
	/* no snapshot at all: everything counts as up */
	assert_true(steer_pool_is_healthy(p0, NULL));
	assert_int_equal(steer_pool_select(p0, NULL, AF_INET, NULL, false, &fx->rng, &out), 3);
	/* minimum_origins 0: healthy while enabled, even with every origin down */
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	p0->minimum_origins = 0;
	assert_true(steer_pool_is_healthy(p0, fx->snap));
	p0->enabled = false;
	assert_false(steer_pool_is_healthy(p0, fx->snap));
}

static void test_weighted_random(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	size_t counts[3];

	fx_origin(fx, "192.0.2.1", 1.0);
	fx_origin(fx, "192.0.2.2", 0.5);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	count_picks(fx, p, counts);
	assert_binomial(counts[0], PICKS, 2.0 / 3.0);
	assert_int_equal(counts[0] + counts[1], PICKS);
	/* three origins 0.2 / 0.3 / 0.5 */
	fx_origin(fx, "192.0.2.3", 0.5);
	p->origins[0].weight = 0.2;
	p->origins[1].weight = 0.3;
	steer_health_snapshot_free(fx->snap);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	count_picks(fx, p, counts);
	assert_binomial(counts[0], PICKS, 0.2);
	assert_binomial(counts[1], PICKS, 0.3);
	assert_binomial(counts[2], PICKS, 0.5);
}

static const struct steer_origin *hash_pick(struct fx *fx, const struct steer_pool *p,
					    const struct steer_client *cl)
{
	struct steer_answer_set out;

	assert_int_equal(steer_pool_select(p, fx->snap, cl->family, cl, false, &fx->rng, &out), 1);
	return out.origins[0];
}

static void test_hash_sticky(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_HASH);
	struct steer_client cl = client_v4(198, 51, 100, 0);
	struct steer_client cl6 = {.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3}};
	const struct steer_origin *first, *first6;
	struct steer_answer_set out;

	fx_v4s(fx, 4);
	fx_origin(fx, "2001:db8::1", 1.0);
	fx_origin(fx, "2001:db8::2", 1.0);
	fx_origin(fx, "2001:db8::3", 1.0);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	first = hash_pick(fx, p, &cl);
	first6 = hash_pick(fx, p, &cl6);
	assert_int_equal(first->addr.family, AF_INET);
	assert_int_equal(first6->addr.family, AF_INET6);
	for (int i = 0; i < 1000; i++) {
		cl.addr[3] = (uint8_t)i; /* same /24 */
		assert_ptr_equal(hash_pick(fx, p, &cl), first);
		cl6.addr[7 + i % 9] = (uint8_t)(i * 7); /* same /56 */
		assert_ptr_equal(hash_pick(fx, p, &cl6), first6);
	}
	/* unknown client: deterministic too */
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 1);
	first = out.origins[0];
	for (int i = 0; i < 100; i++) {
		struct steer_client none = {0};

		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, &none, false, &fx->rng, &out), 1);
		assert_ptr_equal(out.origins[0], first);
	}
}

static struct steer_client random_subnet(uint64_t *rng)
{
	uint64_t r = steer_rand_next(rng);

	return client_v4((uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24));
}

static void test_hash_spread(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_HASH);
	size_t counts[4] = {0};

	fx_v4s(fx, 4);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	for (int i = 0; i < 1000; i++) {
		struct steer_client cl = random_subnet(&fx->rng);

		counts[origin_slot(p, hash_pick(fx, p, &cl))]++;
	}
	for (size_t i = 0; i < 4; i++) {
		assert_true(counts[i] > 0);
		assert_binomial(counts[i], 1000, 0.25);
	}
	/* weights hold for hashing too: 1 vs 0.5 over 10,000 subnets */
	p->n_origins = 2;
	p->origins[1].weight = 0.5;
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < PICKS; i++) {
		struct steer_client cl = random_subnet(&fx->rng);

		counts[origin_slot(p, hash_pick(fx, p, &cl))]++;
	}
	assert_binomial(counts[0], PICKS, 2.0 / 3.0);
}

static void test_hash_origin_down_moves_only_its_clients(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_HASH);
	struct steer_client clients[1000];
	const struct steer_origin *before[1000];
	const struct steer_origin *down;
	size_t moved = 0;

	fx_v4s(fx, 4);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	down = &p->origins[2];
	for (size_t i = 0; i < 1000; i++) {
		clients[i] = random_subnet(&fx->rng);
		before[i] = hash_pick(fx, p, &clients[i]);
	}
	fx_set(fx, down, STEER_HEALTH_DOWN);
	for (size_t i = 0; i < 1000; i++) {
		const struct steer_origin *now = hash_pick(fx, p, &clients[i]);

		assert_ptr_not_equal(now, down);
		if (before[i] != down)
			assert_ptr_equal(now, before[i]);
		else
			moved++;
	}
	assert_true(moved > 0);
	/* and back up: everyone returns to where they were */
	fx_set(fx, down, STEER_HEALTH_UP);
	for (size_t i = 0; i < 1000; i++)
		assert_ptr_equal(hash_pick(fx, p, &clients[i]), before[i]);
}

/* Every answer is an IPv4 address origin of @p p, none twice. */
static void assert_distinct_v4(const struct steer_pool *p, const struct steer_answer_set *out)
{
	bool seen[MAX_ORIGINS] = {false};

	assert_false(out->cname);
	for (size_t i = 0; i < out->n; i++) {
		size_t slot = origin_slot(p, out->origins[i]);

		assert_false(seen[slot]);
		seen[slot] = true;
		assert_true(out->origins[i]->is_ip);
		assert_int_equal(out->origins[i]->addr.family, AF_INET);
	}
}

static void test_all_mode(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_ALL);
	struct steer_answer_set out;
	size_t first_counts[5] = {0};

	fx_v4s(fx, 5);
	fx_origin(fx, "2001:db8::1", 1.0);
	fx_origin(fx, "192.0.2.200", 1.0); /* slot 6: down */
	fx_origin(fx, "192.0.2.201", 0.0); /* slot 7: drained */
	fx_origin(fx, "www.example.net", 1.0);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx_set(fx, &p->origins[6], STEER_HEALTH_DOWN);
	p->max_answers = 10;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 5);
		assert_distinct_v4(p, &out);
		for (size_t k = 0; k < out.n; k++)
			assert_true(origin_slot(p, out.origins[k]) < 5);
		first_counts[origin_slot(p, out.origins[0])]++;
	}
	/* shuffled: each origin leads about a fifth of the time */
	for (size_t i = 0; i < 5; i++)
		assert_binomial(first_counts[i], 1000, 0.2);
	p->max_answers = 3;
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 3);
	assert_distinct_v4(p, &out);
	/* IPv6: the one address, no CNAME because an address of the family exists */
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET6, NULL, false, &fx->rng, &out), 1);
	assert_false(out.cname);
	assert_ptr_equal(out.origins[0], &p->origins[5]);
	assert_ptr_equal(out.pool, p);
}

static void test_all_mode_hostnames(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_ALL);
	struct steer_answer_set out;
	size_t counts[3] = {0};

	fx_origin(fx, "a.example.net", 1.0);
	fx_origin(fx, "b.example.net", 1.0);
	fx_origin(fx, "192.0.2.1", 1.0);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	/* no IPv6 address: exactly one hostname, as a CNAME, picked at random */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET6, NULL, false, &fx->rng, &out), 1);
		assert_true(out.cname);
		counts[origin_slot(p, out.origins[0])]++;
	}
	assert_int_equal(counts[2], 0);
	assert_binomial(counts[0], 1000, 0.5);
	/* an IPv4 address exists: addresses only */
	assert_int_equal(steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 1);
	assert_false(out.cname);
	assert_ptr_equal(out.origins[0], &p->origins[2]);
}

static void test_family_filter(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p6;
	struct steer_answer_set out;
	const enum steer_origin_steering modes[] = {STEER_ORIGIN_RANDOM, STEER_ORIGIN_HASH,
						    STEER_ORIGIN_ALL};
	const struct steer_client cl6 = {.family = AF_INET6, .addr = {0x20, 0x01}};

	fx_v4s(fx, 3);
	p6 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_origin(fx, "2001:db8::1", 1.0);
	fx_origin(fx, "2001:db8::2", 1.0);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	for (size_t m = 0; m < 3; m++) {
		p->origin_steering = modes[m];
		p6->origin_steering = modes[m];
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET6, &cl6, false, &fx->rng, &out), 0);
		assert_ptr_equal(out.pool, p);
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET6, &cl6, true, &fx->rng, &out), 0);
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET6, &cl6, &fx->rng, &out),
			0);
		assert_int_equal(out.reason, STEER_POOL_PRIMARY);
		assert_true(steer_pool_select(p6, fx->snap, AF_INET6, &cl6, false, &fx->rng, &out) >
			    0);
		assert_int_equal(out.origins[0]->addr.family, AF_INET6);
		assert_int_equal(
			steer_pool_select(p6, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 0);
	}
}

static void test_hostname_cname(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	const enum steer_origin_steering modes[] = {STEER_ORIGIN_RANDOM, STEER_ORIGIN_HASH,
						    STEER_ORIGIN_ALL};
	const int families[] = {AF_INET, AF_INET6};
	struct steer_client cl = client_v4(203, 0, 113, 9);
	struct steer_answer_set out;

	fx_origin(fx, "origin.example.net", 1.0);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	for (size_t m = 0; m < 3; m++) {
		p->origin_steering = modes[m];
		for (size_t f = 0; f < 2; f++) {
			assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, families[f], &cl,
							       &fx->rng, &out),
					 1);
			assert_true(out.cname);
			assert_ptr_equal(out.origins[0], &p->origins[0]);
		}
	}
}

static void test_balancer_random_policy(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1, *p2;
	enum steer_pool_reason reason;
	size_t n0 = 0;

	fx_v4s(fx, 1);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	p2 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	fx_done(fx, STEER_POLICY_RANDOM, NULL);
	p0->weight = 1.0;
	p1->weight = 3.0;
	fx_set_pool(fx, p2, STEER_HEALTH_DOWN);
	for (int i = 0; i < PICKS; i++) {
		const struct steer_pool *p =
			steer_balancer_select_pool(&fx->bal, fx->snap, &fx->rng, &reason);

		assert_int_equal(reason, STEER_POOL_PRIMARY);
		assert_true(p == p0 || p == p1);
		n0 += p == p0;
	}
	assert_binomial(n0, PICKS, 0.25);
	/* all down: fail open on the first pool */
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	assert_ptr_equal(steer_balancer_select_pool(&fx->bal, fx->snap, &fx->rng, &reason), p0);
	assert_int_equal(reason, STEER_POOL_FAIL_OPEN);
}

static void test_big_pool(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 150, STEER_ORIGIN_ALL);
	struct steer_answer_set out;
	bool seen[200] = {false};
	size_t n_seen = 0;

	fx_v4s(fx, 200);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	for (size_t i = 0; i < 200; i += 4)
		fx_set(fx, &p->origins[i], STEER_HEALTH_DOWN);
	assert_true(steer_pool_is_healthy(p, fx->snap)); /* 150 up */
	p->max_answers = 1000;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			STEER_ANSWER_MAX);
		assert_distinct_v4(p, &out);
		for (size_t k = 0; k < out.n; k++) {
			size_t slot = origin_slot(p, out.origins[k]);

			assert_int_not_equal(slot % 4, 0);
			n_seen += !seen[slot];
			seen[slot] = true;
		}
	}
	assert_int_equal(n_seen, 150); /* the sample varies: every up origin appears */
	p->origin_steering = STEER_ORIGIN_RANDOM;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 1);
		assert_int_not_equal(origin_slot(p, out.origins[0]) % 4, 0);
	}
	p->origin_steering = STEER_ORIGIN_HASH;
	for (int i = 0; i < 1000; i++) {
		struct steer_client cl = random_subnet(&fx->rng);

		assert_int_not_equal(origin_slot(p, hash_pick(fx, p, &cl)) % 4, 0);
	}
	/* fail open over 200 down origins still caps the answer */
	fx_set_pool(fx, p, STEER_HEALTH_DOWN);
	p->origin_steering = STEER_ORIGIN_ALL;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 STEER_ANSWER_MAX);
	assert_int_equal(out.reason, STEER_POOL_FAIL_OPEN);
	assert_distinct_v4(p, &out);
}

static void test_all_mode_capped_honours_weights(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p = fx_pool(fx, 1, STEER_ORIGIN_ALL);
	struct steer_answer_set out;
	size_t heavy = 0;

	fx_v4s(fx, 100);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	for (size_t i = 50; i < 100; i++)
		p->origins[i].weight = 0.01;
	p->max_answers = 10;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(
			steer_pool_select(p, fx->snap, AF_INET, NULL, false, &fx->rng, &out), 10);
		assert_distinct_v4(p, &out);
		for (size_t k = 0; k < out.n; k++)
			heavy += origin_slot(p, out.origins[k]) < 50;
	}
	/* 50 origins of weight 1 against 50 of 0.01: a light one is rarely sampled */
	assert_true(heavy > 9800);
	assert_true(heavy < 10000);
}

/* Origin overrides: drain and down take an origin out of answers and out of the pool's
 * count, up puts a probed-down origin back; fail-open skips a drained origin too. */
static void test_origin_overrides(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 2, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1;
	struct steer_answer_set out;
	size_t seen[3] = {0};

	fx_v4s(fx, 3);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx->snap->origin_override[p0->origins[0].index] = STEER_OVERRIDE_DRAIN;
	for (int i = 0; i < 300; i++) {
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			1);
		assert_ptr_equal(out.pool, p0);
		seen[origin_slot(p0, out.origins[0])]++;
	}
	assert_int_equal(seen[0], 0);
	assert_true(seen[1] > 0 && seen[2] > 0);
	/* drained + forced down: 1 of 3 left, below minimum 2: failover */
	fx->snap->origin_override[p0->origins[1].index] = STEER_OVERRIDE_DOWN;
	assert_false(steer_pool_is_healthy(p0, fx->snap));
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	/* forced up beats a probed down */
	fx_set(fx, &p0->origins[2], STEER_HEALTH_DOWN);
	fx->snap->origin_override[p0->origins[1].index] = STEER_OVERRIDE_UP;
	fx_set(fx, &p0->origins[1], STEER_HEALTH_DOWN);
	fx->snap->origin_override[p0->origins[2].index] = STEER_OVERRIDE_UP;
	assert_true(steer_pool_is_healthy(p0, fx->snap));
	/* fail open (everything down, no fallback) leaves the drained origin out */
	memset(fx->snap->origin_override, 0, fx->snap->n_origins);
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	fx->snap->origin_override[p0->origins[0].index] = STEER_OVERRIDE_DRAIN;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(
			steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			1);
		assert_int_equal(out.reason, STEER_POOL_FAIL_OPEN);
		assert_true(origin_slot(p0, out.origins[0]) != 0);
	}
}

/* Pool overrides: down and drain fail the balancer over; up serves a pool whose
 * origins are all down (with those origins, not NODATA); fail-open skips a drained pool. */
static void test_pool_overrides(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1;
	struct steer_answer_set out;

	fx_v4s(fx, 2);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 2);
	fx_done(fx, STEER_POLICY_FAILOVER, NULL);
	fx->snap->pool_override[p0->index] = STEER_OVERRIDE_DOWN;
	assert_false(steer_pool_is_healthy(p0, fx->snap));
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAILOVER);
	fx->snap->pool_override[p0->index] = STEER_OVERRIDE_DRAIN;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	/* forced up with every origin down: still served, with its origins */
	fx->snap->pool_override[p0->index] = STEER_OVERRIDE_UP;
	fx_set_pool(fx, p0, STEER_HEALTH_DOWN);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p0);
	assert_int_equal(out.reason, STEER_POOL_PRIMARY);
	/* nothing healthy, p0 drained: fail open on p1, not on the drained first pool */
	fx->snap->pool_override[p0->index] = STEER_OVERRIDE_DRAIN;
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAIL_OPEN);
}

/* A failback pin holds answers on a later pool while it is healthy; an unhealthy pinned
 * pool is left at once; a pin past default_pools means the fallback. */
static void test_failback_pin(void **state)
{
	struct fx *fx = *state;
	struct steer_pool *p0 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	struct steer_pool *p1, *fb;
	struct steer_answer_set out;

	fx_v4s(fx, 1);
	p1 = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	fb = fx_pool(fx, 1, STEER_ORIGIN_RANDOM);
	fx_v4s(fx, 1);
	fx->n_pools = 2;
	fx_done(fx, STEER_POLICY_FAILOVER, fb);
	fx->snap->pin[0] = 1;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p1);
	assert_int_equal(out.reason, STEER_POOL_FAILOVER);
	fx_set_pool(fx, p1, STEER_HEALTH_DOWN);
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p0);
	assert_int_equal(out.reason, STEER_POOL_PRIMARY);
	fx->snap->pin[0] = 2;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, fb);
	assert_int_equal(out.reason, STEER_POOL_FALLBACK);
	/* out of range: ignored */
	fx->snap->pin[0] = 7;
	assert_int_equal(steer_balancer_answer(&fx->bal, fx->snap, AF_INET, NULL, &fx->rng, &out),
			 1);
	assert_ptr_equal(out.pool, p0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rand),
		T(test_all_up_primary),
		T(test_origin_down_still_primary),
		T(test_below_minimum_failover),
		T(test_all_down_fallback),
		T(test_fail_open),
		T(test_disabled_pool_skipped),
		T(test_disabled_and_drained_never_chosen),
		T(test_unknown_counts_as_up),
		T(test_weighted_random),
		T(test_hash_sticky),
		T(test_hash_spread),
		T(test_hash_origin_down_moves_only_its_clients),
		T(test_all_mode),
		T(test_all_mode_hostnames),
		T(test_family_filter),
		T(test_hostname_cname),
		T(test_balancer_random_policy),
		T(test_big_pool),
		T(test_all_mode_capped_honours_weights),
		T(test_origin_overrides),
		T(test_pool_overrides),
		T(test_failback_pin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
