/* Unit tests of the origin state machine; time comes with each result (no sleeps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health/health.h"

static int64_t clock_ms = 1000000;

static bool feed(struct steer_health_engine *eng, uint32_t origin, bool ok,
		 struct steer_health_transition *tr)
{
	struct steer_probe_result r = {.origin = origin, .ok = ok, .attempts = 1};

	clock_ms += 1000; /* the injected clock: one probe per second */
	r.time_ms = clock_ms;
	if (!ok)
		memcpy(r.reason, "status 503 not in 2xx", sizeof("status 503 not in 2xx"));
	return steer_health_engine_record(eng, &r, tr);
}

static void test_rise_and_fall(void **state)
{
	const struct steer_health_rule rules[1] = {{.consecutive_up = 2, .consecutive_down = 3}};
	struct steer_health_engine *eng = steer_health_engine_new(1, rules);
	struct steer_health_transition tr;

	(void)state;
	assert_non_null(eng);
	assert_int_equal(steer_health_engine_state(eng, 0), STEER_HEALTH_UNKNOWN);
	assert_false(feed(eng, 0, true, &tr)); /* 1 of 2 */
	assert_int_equal(steer_health_engine_state(eng, 0), STEER_HEALTH_UNKNOWN);
	assert_true(feed(eng, 0, true, &tr));
	assert_int_equal(tr.from, STEER_HEALTH_UNKNOWN);
	assert_int_equal(tr.to, STEER_HEALTH_UP);
	assert_int_equal(tr.time_ms, clock_ms);
	assert_string_equal(tr.reason, "2 consecutive successes");
	/* two failures then a success: the failure count starts over */
	assert_false(feed(eng, 0, false, &tr));
	assert_false(feed(eng, 0, false, &tr));
	assert_false(feed(eng, 0, true, &tr));
	assert_false(feed(eng, 0, false, &tr));
	assert_false(feed(eng, 0, false, &tr));
	assert_true(feed(eng, 0, false, &tr));
	assert_int_equal(tr.from, STEER_HEALTH_UP);
	assert_int_equal(tr.to, STEER_HEALTH_DOWN);
	assert_string_equal(tr.reason, "status 503 not in 2xx");
	assert_int_equal(steer_health_engine_since(eng, 0), clock_ms);
	/* further failures: no new transition */
	assert_false(feed(eng, 0, false, &tr));
	assert_false(feed(eng, 0, true, &tr));
	assert_true(feed(eng, 0, true, &tr));
	assert_int_equal(tr.to, STEER_HEALTH_UP);
	steer_health_engine_free(eng);
}

static void test_unknown_to_down(void **state)
{
	const struct steer_health_rule rules[2] = {{2, 2}, {1, 1}};
	struct steer_health_engine *eng = steer_health_engine_new(2, rules);
	struct steer_health_transition tr;
	struct steer_health_snapshot *snap;

	(void)state;
	assert_false(feed(eng, 0, false, &tr));
	assert_true(feed(eng, 0, false, &tr));
	assert_int_equal(tr.from, STEER_HEALTH_UNKNOWN);
	assert_true(feed(eng, 1, false, &tr)); /* thresholds of 1 act at once */
	snap = steer_health_engine_snapshot(eng);
	assert_non_null(snap);
	assert_int_equal(snap->generation, 1);
	assert_false(steer_health_is_up(snap, 0));
	assert_false(steer_health_is_up(snap, 1));
	assert_true(steer_health_is_up(snap, 7)); /* beyond the snapshot: up */
	steer_health_snapshot_free(snap);
	snap = steer_health_engine_snapshot(eng);
	assert_int_equal(snap->generation, 2);
	steer_health_snapshot_free(snap);
	steer_health_engine_free(eng);
}

static void test_restore_and_bounds(void **state)
{
	const struct steer_health_rule rules[1] = {{2, 2}};
	struct steer_health_engine *eng = steer_health_engine_new(1, rules);
	struct steer_health_transition tr;
	struct steer_health_snapshot *snap;

	(void)state;
	steer_health_engine_set(eng, 0, STEER_HEALTH_DOWN, 42);
	assert_int_equal(steer_health_engine_state(eng, 0), STEER_HEALTH_DOWN);
	assert_int_equal(steer_health_engine_since(eng, 0), 42);
	snap = steer_health_engine_snapshot(eng);
	assert_false(steer_health_is_up(snap, 0)); /* restored down stays down: no flap */
	steer_health_snapshot_free(snap);
	assert_false(feed(eng, 0, true, &tr));
	assert_true(feed(eng, 0, true, &tr));
	assert_int_equal(tr.from, STEER_HEALTH_DOWN);
	assert_false(feed(eng, 5, true, &tr)); /* unknown origin index: ignored */
	steer_health_engine_set(eng, 9, STEER_HEALTH_UP, 0);
	assert_int_equal(steer_health_engine_state(eng, 9), STEER_HEALTH_UNKNOWN);
	assert_int_equal(steer_health_state_parse("down"), STEER_HEALTH_DOWN);
	assert_int_equal(steer_health_state_parse("sideways"), -1);
	assert_string_equal(steer_health_state_name(STEER_HEALTH_UNKNOWN), "unknown");
	steer_health_engine_free(eng);
}

/* A reload copies an origin's progress: one success of two before, one after, is up. */
static void test_copy_keeps_progress(void **state)
{
	const struct steer_health_rule rules[2] = {{.consecutive_up = 2, .consecutive_down = 2},
						   {.consecutive_up = 2, .consecutive_down = 2}};
	struct steer_health_engine *a = steer_health_engine_new(1, rules);
	struct steer_health_engine *b = steer_health_engine_new(2, rules);
	struct steer_health_transition tr;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	steer_health_engine_set(a, 0, STEER_HEALTH_DOWN, 1000);
	assert_false(feed(a, 0, true, &tr)); /* 1 of 2 */
	steer_health_engine_copy(b, 1, a, 0);
	assert_int_equal(steer_health_engine_state(b, 1), STEER_HEALTH_DOWN);
	assert_int_equal(steer_health_engine_since(b, 1), 1000);
	assert_true(feed(b, 1, true, &tr)); /* 2 of 2 across the copy */
	assert_int_equal(tr.to, STEER_HEALTH_UP);
	steer_health_engine_copy(b, 7, a, 0); /* out of range: ignored */
	steer_health_engine_free(a);
	steer_health_engine_free(b);
}

/* A snapshot with pools and balancers: overrides and pins start clear, survive a dup,
 * and an override decides is_up whatever the probed state. */
static void test_snapshot_dims_overrides(void **state)
{
	const struct steer_health_dims dims = {.n_origins = 3, .n_pools = 2, .n_balancers = 5};
	struct steer_health_snapshot *snap = steer_health_snapshot_new_dims(&dims, 7);
	struct steer_health_snapshot *copy;

	(void)state;
	assert_non_null(snap);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(steer_health_pin(snap, i), STEER_PIN_NONE);
	assert_int_equal(steer_health_pin(snap, 5), STEER_PIN_NONE);
	assert_int_equal(steer_health_pool_override(snap, 9), STEER_OVERRIDE_NONE);
	snap->state[0] = STEER_HEALTH_DOWN;
	snap->origin_override[0] = STEER_OVERRIDE_UP;
	snap->origin_override[1] = STEER_OVERRIDE_DRAIN;
	snap->origin_override[2] = STEER_OVERRIDE_DOWN;
	snap->pool_override[1] = STEER_OVERRIDE_DOWN;
	snap->pin[4] = 1;
	assert_true(steer_health_is_up(snap, 0));
	assert_false(steer_health_is_up(snap, 1));
	assert_true(steer_health_is_drained(snap, 1));
	assert_false(steer_health_is_up(snap, 2));
	copy = steer_health_snapshot_dup(snap);
	assert_non_null(copy);
	assert_int_equal(copy->generation, 7);
	assert_int_equal(copy->state[0], STEER_HEALTH_DOWN);
	assert_int_equal(copy->origin_override[1], STEER_OVERRIDE_DRAIN);
	assert_int_equal(steer_health_pool_override(copy, 1), STEER_OVERRIDE_DOWN);
	assert_int_equal(steer_health_pin(copy, 4), 1);
	assert_int_equal(steer_health_pin(copy, 3), STEER_PIN_NONE);
	steer_health_snapshot_free(snap);
	steer_health_snapshot_free(copy);
	assert_int_equal(steer_override_parse("drain"), STEER_OVERRIDE_DRAIN);
	assert_int_equal(steer_override_parse("auto"), STEER_OVERRIDE_NONE);
	assert_int_equal(steer_override_parse("nope"), -1);
	assert_string_equal(steer_override_name(STEER_OVERRIDE_UP), "up");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rise_and_fall),
		cmocka_unit_test(test_unknown_to_down),
		cmocka_unit_test(test_restore_and_bounds),
		cmocka_unit_test(test_snapshot_dims_overrides),
		cmocka_unit_test(test_copy_keeps_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
