/*
 * Unit tests of lib/metrics: the exposition text (families, labels, escaping), histogram
 * buckets, per-thread blocks summed on read (also while their threads count), named
 * slots that survive growth, the stats line, and the probe reason classes.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"
#include "metrics/text.h"

static void test_text_family_and_samples(void **state)
{
	static const char *const labels[] = {"proto", "udp", "qtype", "A", NULL};
	struct steer_metrics_text t;
	char *doc;

	(void)state;
	steer_metrics_text_init(&t);
	steer_metrics_text_family(&t, "steer_x_total", "counter", "Things.");
	steer_metrics_text_u64(&t, "steer_x_total", labels, 42);
	steer_metrics_text_u64(&t, "steer_x_total", NULL, 18446744073709551615ull);
	steer_metrics_text_family(&t, "steer_t_seconds", "gauge", "A time.");
	steer_metrics_text_double(&t, "steer_t_seconds", NULL, 1795983533.715);
	doc = steer_metrics_text_finish(&t);
	assert_non_null(doc);
	assert_string_equal(doc, "# HELP steer_x_total Things.\n"
				 "# TYPE steer_x_total counter\n"
				 "steer_x_total{proto=\"udp\",qtype=\"A\"} 42\n"
				 "steer_x_total 18446744073709551615\n"
				 "# HELP steer_t_seconds A time.\n"
				 "# TYPE steer_t_seconds gauge\n"
				 "steer_t_seconds 1795983533.715\n");
	free(doc);
	steer_metrics_text_init(&t);
	doc = steer_metrics_text_finish(&t);
	assert_string_equal(doc, ""); /* an empty document is not a failure */
	free(doc);
}

static void test_text_escaping(void **state)
{
	const char *labels[] = {"pool", "a\\b\"c\nd", "origin", "plain", NULL};
	struct steer_metrics_text t;
	char buf[64];
	char *doc;

	(void)state;
	steer_metrics_text_init(&t);
	steer_metrics_text_family(&t, "steer_y", "gauge", "Back\\slash \"quoted\"\nline two.");
	steer_metrics_text_u64(&t, "steer_y", labels, 1);
	doc = steer_metrics_text_finish(&t);
	assert_non_null(doc);
	/* help: backslash and line feed only; label values: the double quote as well */
	assert_string_equal(doc, "# HELP steer_y Back\\\\slash \"quoted\"\\nline two.\n"
				 "# TYPE steer_y gauge\n"
				 "steer_y{pool=\"a\\\\b\\\"c\\nd\",origin=\"plain\"} 1\n");
	free(doc);
	assert_int_equal(steer_metrics_escape_label("x\"y", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "x\\\"y");
	assert_int_equal(steer_metrics_escape_label("\\\\\\\\", buf, 5), 8); /* cut to fit */
	assert_string_equal(buf, "\\\\\\\\");
	assert_int_equal(steer_metrics_escape_label("", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_text_special_values(void **state)
{
	struct steer_metrics_text t;
	char *doc;

	(void)state;
	steer_metrics_text_init(&t);
	steer_metrics_text_double(&t, "a", NULL, INFINITY);
	steer_metrics_text_double(&t, "b", NULL, -INFINITY);
	steer_metrics_text_double(&t, "c", NULL, NAN);
	steer_metrics_text_double(&t, "d", NULL, 0.25);
	doc = steer_metrics_text_finish(&t);
	assert_string_equal(doc, "a +Inf\nb -Inf\nc NaN\nd 0.25\n");
	free(doc);
}

static void test_histogram_buckets(void **state)
{
	static const char *const labels[] = {"monitor", "web", NULL};
	struct steer_metrics_hist h = {0};
	struct steer_metrics_text t;
	char *doc, *p;

	(void)state;
	steer_metrics_hist_observe(&h, 0.0005); /* le 0.001 */
	steer_metrics_hist_observe(&h, 0.001);  /* le is inclusive: le 0.001 */
	steer_metrics_hist_observe(&h, 0.002);  /* le 0.0025 */
	steer_metrics_hist_observe(&h, 1.0);    /* le 1 */
	steer_metrics_hist_observe(&h, 100.0);  /* above 60: +Inf only */
	assert_int_equal(h.count, 5);
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[9], 1);
	assert_int_equal(h.bucket[STEER_METRICS_BUCKETS], 1);
	assert_true(h.sum > 101.0034 && h.sum < 101.0036);

	steer_metrics_text_init(&t);
	steer_metrics_text_hist(&t, "steer_d_seconds", labels, &h);
	doc = steer_metrics_text_finish(&t);
	assert_non_null(doc);
	/* cumulative, ascending, le last, then sum and count */
	assert_non_null(strstr(doc, "steer_d_seconds_bucket{monitor=\"web\",le=\"0.001\"} 2\n"
				    "steer_d_seconds_bucket{monitor=\"web\",le=\"0.0025\"} 3\n"
				    "steer_d_seconds_bucket{monitor=\"web\",le=\"0.005\"} 3\n"));
	assert_non_null(strstr(doc, "steer_d_seconds_bucket{monitor=\"web\",le=\"1\"} 4\n"));
	assert_non_null(strstr(doc, "steer_d_seconds_bucket{monitor=\"web\",le=\"60\"} 4\n"
				    "steer_d_seconds_bucket{monitor=\"web\",le=\"+Inf\"} 5\n"
				    "steer_d_seconds_sum{monitor=\"web\"} 101.0035\n"
				    "steer_d_seconds_count{monitor=\"web\"} 5\n"));
	/* one line per bucket and +Inf, plus sum and count */
	{
		size_t lines = 0;

		for (p = doc; *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(lines, STEER_METRICS_BUCKETS + 3);
	}
	free(doc);
}

static void test_monitor_histograms(void **state)
{
	struct steer_metrics *m;
	struct steer_metrics_hist h;

	(void)state;
	assert_int_equal(steer_metrics_new(1, 1, &m), 0);
	assert_false(steer_metrics_get_hist(m, "web", &h));
	assert_int_equal(h.count, 0);
	steer_metrics_observe(m, "web", 0.003);
	steer_metrics_observe(m, "web", 0.2);
	steer_metrics_observe(m, "tcp-check", 7.0);
	assert_true(steer_metrics_get_hist(m, "web", &h));
	assert_int_equal(h.count, 2);
	assert_int_equal(h.bucket[2], 1); /* le 0.005 */
	assert_int_equal(h.bucket[7], 1); /* le 0.25 */
	assert_true(steer_metrics_get_hist(m, "tcp-check", &h));
	assert_int_equal(h.count, 1);
	assert_int_equal(h.bucket[12], 1); /* le 10 */
	steer_metrics_free(m);
}

static void test_dns_blocks_summed(void **state)
{
	static const uint8_t noerror[12] = {0, 1, 0x84, 0x00};
	static const uint8_t nx_tc[12] = {0, 1, 0x86, 0x03};
	struct steer_metrics_dns_totals d;
	struct steer_metrics *m;
	char line[512];

	(void)state;
	assert_int_equal(steer_metrics_new(2, 1, &m), 0); /* two UDP workers, one TCP */
	assert_null(steer_metrics_thread(m, 3));
	for (size_t i = 0; i < 3; i++) {
		struct steer_metrics_thread *t = steer_metrics_thread(m, i);

		assert_non_null(t);
		assert_int_equal((uintptr_t)t % 64, 0); /* its own cache lines */
		steer_metrics_count(t, STEER_STAT_QUERIES, i + 1);
		steer_metrics_count_response(t, steer_metrics_qtype_slot(1), noerror, 12);
	}
	steer_metrics_count_response(steer_metrics_thread(m, 1), steer_metrics_qtype_slot(28),
				     nx_tc, 12);
	steer_metrics_count_response(steer_metrics_thread(m, 2), 0, NULL, 0); /* dropped */
	steer_metrics_count(steer_metrics_thread(m, 0), STEER_STAT_BATCHES, 2);
	steer_metrics_count(steer_metrics_thread(m, 2), STEER_STAT_CONNS, 1);
	steer_metrics_count(steer_metrics_thread(m, 1), STEER_STAT_RRL_SLIPPED, 5);
	steer_metrics_count(steer_metrics_thread(m, 2), STEER_STAT_CLOSED_IDLE, 1);
	steer_metrics_count(steer_metrics_thread(m, 2), STEER_STAT_CLOSED_PER_SOURCE, 7);
	steer_metrics_dns_sum(m, &d);
	assert_int_equal(d.c[0][STEER_STAT_QUERIES], 1 + 2);
	assert_int_equal(d.c[1][STEER_STAT_QUERIES], 3);
	assert_int_equal(d.answers[0][0][0], 2); /* A NOERROR over UDP */
	assert_int_equal(d.answers[0][7][3], 1); /* AAAA NXDOMAIN */
	assert_int_equal(d.answers[1][0][0], 1);
	assert_int_equal(d.c[0][STEER_STAT_TRUNCATED], 1);
	assert_int_equal(d.c[1][STEER_STAT_DROPPED], 1);
	steer_metrics_stats_format(&d, line, sizeof(line));
	assert_string_equal(line,
			    "udp queries=3 answers=3 dropped=0 truncated=1 batches=2 waits=0 "
			    "noerror=2 formerr=0 servfail=0 nxdomain=1 notimp=0 refused=0 "
			    "rrl_dropped=0 rrl_slipped=5; "
			    "tcp queries=3 answers=1 dropped=1 truncated=0 conns=1 "
			    "conns_refused=0 noerror=1 formerr=0 servfail=0 nxdomain=0 "
			    "notimp=0 refused=0 closed_idle=1 closed_query_timeout=0 "
			    "closed_evicted=0 closed_by_client=0 closed_error=0 refused_full=0 "
			    "refused_per_source=7");
	steer_metrics_free(m);
}

static void test_stats_line_rare_rcodes_and_cut(void **state)
{
	struct steer_metrics_dns_totals d = {0};
	char line[512], small[16];

	(void)state;
	d.answers[0][19][9] = 4; /* other NOTAUTH */
	steer_metrics_stats_format(&d, line, sizeof(line));
	assert_non_null(strstr(line, " answers=4 "));
	assert_non_null(strstr(line, " refused=0 rcode9=4 rrl_dropped=0 rrl_slipped=0; tcp"));
	assert_int_equal(steer_metrics_stats_format(&d, small, sizeof(small)), sizeof(small) - 1);
	assert_string_equal(small, "udp queries=0 a");
}

struct counter_arg {
	struct steer_metrics_thread *t;
	uint32_t slot;
	int n;
};

static void *count_loop(void *arg)
{
	struct counter_arg *a = arg;

	for (int i = 0; i < a->n; i++) {
		steer_metrics_count(a->t, STEER_STAT_QUERIES, 1);
		steer_metrics_count_slot(a->t, a->slot);
	}
	return NULL;
}

/* Each thread counts on its own block while another sums: the totals are exact at the
 * end and never go down in between. */
static void test_threads_count_while_read(void **state)
{
	enum { THREADS = 4, N = 200000 };
	struct counter_arg args[THREADS];
	pthread_t th[THREADS];
	struct steer_metrics_dns_totals d;
	struct steer_metrics *m;
	uint64_t last = 0;

	(void)state;
	assert_int_equal(steer_metrics_new(THREADS, 0, &m), 0);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct counter_arg){
			steer_metrics_thread(m, (size_t)i),
			steer_metrics_slot(m, STEER_METRICS_ORIGIN, "p", "o"), N};
		assert_int_equal(pthread_create(&th[i], NULL, count_loop, &args[i]), 0);
	}
	for (int k = 0; k < 1000; k++) {
		uint64_t now = steer_metrics_sum_named(m, STEER_METRICS_ORIGIN, "p", "o");

		assert_true(now >= last);
		last = now;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	steer_metrics_dns_sum(m, &d);
	assert_int_equal(d.c[0][STEER_STAT_QUERIES], (uint64_t)THREADS * N);
	assert_int_equal(steer_metrics_sum_named(m, STEER_METRICS_ORIGIN, "p", "o"),
			 (uint64_t)THREADS * N);
	steer_metrics_free(m);
}

/* Slots are given by name and kept: many names (past the first chunk and several table
 * growths) keep their slots and their counts. */
static void test_named_slots(void **state)
{
	enum { NAMES = 3000 };
	struct steer_metrics *m;
	uint32_t *slot = calloc(NAMES, sizeof(*slot));
	char a[32], b[32];

	(void)state;
	assert_non_null(slot);
	assert_int_equal(steer_metrics_new(1, 1, &m), 0);
	for (int i = 0; i < NAMES; i++) {
		snprintf(a, sizeof(a), "pool%d", i % 7);
		snprintf(b, sizeof(b), "origin%d", i);
		slot[i] = steer_metrics_slot(m, STEER_METRICS_ORIGIN, a, b);
		assert_int_not_equal(slot[i], 0);
		for (int k = 0; k <= i % 3; k++)
			steer_metrics_count_slot(steer_metrics_thread(m, (size_t)k % 2), slot[i]);
	}
	assert_true(slot[NAMES - 1] >= STEER_METRICS_CHUNK); /* a second chunk was needed */
	for (int i = 0; i < NAMES; i++) {
		snprintf(a, sizeof(a), "pool%d", i % 7);
		snprintf(b, sizeof(b), "origin%d", i);
		assert_int_equal(steer_metrics_slot(m, STEER_METRICS_ORIGIN, a, b), slot[i]);
		assert_int_equal(steer_metrics_sum_named(m, STEER_METRICS_ORIGIN, a, b),
				 (uint64_t)(i % 3 + 1));
	}
	/* the kind and the split between the two names are part of the name */
	assert_int_not_equal(steer_metrics_slot(m, STEER_METRICS_BALANCER_POOL, "pool0", "origin0"),
			     slot[0]);
	assert_int_not_equal(steer_metrics_slot(m, STEER_METRICS_ORIGIN, "pool0o", "rigin0"),
			     slot[0]);
	assert_int_equal(steer_metrics_sum_named(m, STEER_METRICS_ORIGIN, "never", "seen"), 0);
	free(slot);
	steer_metrics_free(m);
}

static void test_named_columns(void **state)
{
	uint64_t col[STEER_METRICS_COLS];
	struct steer_metrics *m;

	(void)state;
	assert_int_equal(steer_metrics_new(1, 0, &m), 0);
	assert_false(steer_metrics_get_named(m, STEER_METRICS_BALANCER, "api", "", col));
	steer_metrics_add_named(m, STEER_METRICS_BALANCER, "api", "", 0, 2);
	steer_metrics_add_named(m, STEER_METRICS_BALANCER, "api", NULL, 1, 1);
	steer_metrics_add_named(m, STEER_METRICS_BALANCER, "api", "", STEER_METRICS_COLS, 1);
	assert_true(steer_metrics_get_named(m, STEER_METRICS_BALANCER, "api", "", col));
	assert_int_equal(col[0], 2);
	assert_int_equal(col[1], 1);
	/* a slot given for answers alone has counted no column */
	(void)steer_metrics_slot(m, STEER_METRICS_ORIGIN, "p", "o");
	assert_false(steer_metrics_get_named(m, STEER_METRICS_ORIGIN, "p", "o", col));
	steer_metrics_free(m);
}

static void test_map_starts_at_the_sink(void **state)
{
	struct steer_metrics_map *map;

	(void)state;
	assert_int_equal(steer_metrics_map_new(2, 5, 3, &map), 0);
	assert_int_equal(map->n_pool_slots, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(map->pool_slot[i], 0);
	assert_int_equal(map->origin[2], 0);
	steer_metrics_map_free(map);
	steer_metrics_map_free(NULL);
}

/* The extended RCODE (RFC 6891 §6.1.3) of an error response (header, question, OPT) is
 * counted under its own name: BADCOOKIE (23) is not YXDOMAIN (7), BADVERS (16) not
 * NOERROR; other responses count the header's RCODE. */
static void test_extended_rcodes(void **state)
{
	/* id, QR, RCODE 7 (23 & 15), QD 1, AR 1; "a." A IN; OPT: ext RCODE 1, a cookie */
	static const uint8_t badcookie[] = {
		0, 1,   0x80, 0x07, 0,    1, 0, 0, 0, 0, 0, 1,            /* header */
		1, 'a', 0,    0,    1,    0, 1,                           /* question */
		0, 0,   41,   4,    0xd0, 1, 0, 0, 0, 0, 4, 0, 10, 0, 0}; /* OPT */
	/* no question (FORMERR-like shape), BADVERS: header 0, ext 1 */
	static const uint8_t badvers[] = {0, 1, 0x80, 0x00, 0,    0, 0, 0, 0, 0, 0, 1,
					  0, 0, 41,   4,    0xd0, 1, 0, 0, 0, 0, 0};
	/* an answer record: the OPT is not looked for, the header's RCODE counts */
	static const uint8_t answer[] = {0, 1, 0x84, 0x03, 0, 1, 0, 1, 0, 0, 0, 1};
	struct steer_metrics_dns_totals d;
	struct steer_metrics *m;
	struct steer_metrics_thread *t;

	(void)state;
	assert_int_equal(steer_metrics_response_rcode(badcookie, sizeof(badcookie)), 23);
	assert_int_equal(steer_metrics_response_rcode(badvers, sizeof(badvers)), 16);
	assert_int_equal(steer_metrics_response_rcode(answer, sizeof(answer)), 3);
	assert_int_equal(steer_metrics_response_rcode(badcookie, 20), 7); /* OPT cut off */
	assert_int_equal(steer_metrics_new(1, 0, &m), 0);
	t = steer_metrics_thread(m, 0);
	steer_metrics_count_response(t, 3, badcookie, sizeof(badcookie));
	steer_metrics_count_response(t, 3, badvers, sizeof(badvers));
	steer_metrics_dns_sum(m, &d);
	assert_int_equal(d.answers[0][3][23], 1);
	assert_int_equal(d.answers[0][3][16], 1);
	assert_int_equal(d.answers[0][3][7], 0);
	assert_int_equal(d.answers[0][3][0], 0);
	steer_metrics_free(m);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(steer_metrics_qtype_name(steer_metrics_qtype_slot(1)), "A");
	assert_string_equal(steer_metrics_qtype_name(steer_metrics_qtype_slot(28)), "AAAA");
	assert_string_equal(steer_metrics_qtype_name(steer_metrics_qtype_slot(65)), "HTTPS");
	assert_string_equal(steer_metrics_qtype_name(steer_metrics_qtype_slot(255)), "ANY");
	assert_string_equal(steer_metrics_qtype_name(steer_metrics_qtype_slot(99)), "other");
	assert_string_equal(steer_metrics_rcode_name(0), "NOERROR");
	assert_string_equal(steer_metrics_rcode_name(3), "NXDOMAIN");
	assert_string_equal(steer_metrics_rcode_name(5), "REFUSED");
	assert_string_equal(steer_metrics_rcode_name(12), "RCODE12");
	assert_string_equal(steer_metrics_rcode_name(16), "BADVERS");
	assert_string_equal(steer_metrics_rcode_name(23), "BADCOOKIE");
	/* every class has its own name */
	for (unsigned i = 0; i < STEER_METRICS_QTYPES - 1; i++)
		for (unsigned k = i + 1; k < STEER_METRICS_QTYPES; k++)
			assert_string_not_equal(steer_metrics_qtype_name(i),
						steer_metrics_qtype_name(k));
}

static void test_probe_classes(void **state)
{
	static const struct {
		bool ok;
		const char *reason;
		const char *want;
	} cases[] = {
		{true, "", "ok"},
		{false, "timeout after 5000 ms", "timeout"},
		{false, "connect refused", "refused"},
		{false, "connect: No route to host", "refused"},
		{false, "connection closed without a response", "refused"},
		{false, "recv: Connection reset by peer", "refused"},
		{false, "dns: cannot resolve lab.example.net", "refused"},
		{false, "tls: certificate verify failed (self-signed certificate)", "tls"},
		{false, "status 503 not in 2xx", "status"},
		{false, "body lacks \"ok\"", "body"},
		{false, "tcp: reply lacks \"+PONG\"", "body"},
		{false, "curl: Out of memory", "other"},
		{false, NULL, "other"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(steer_metrics_probe_class_name(steer_metrics_probe_class(
					    cases[i].ok, cases[i].reason)),
				    cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_family_and_samples),
		cmocka_unit_test(test_text_escaping),
		cmocka_unit_test(test_text_special_values),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_monitor_histograms),
		cmocka_unit_test(test_dns_blocks_summed),
		cmocka_unit_test(test_stats_line_rare_rcodes_and_cut),
		cmocka_unit_test(test_threads_count_while_read),
		cmocka_unit_test(test_named_slots),
		cmocka_unit_test(test_named_columns),
		cmocka_unit_test(test_map_starts_at_the_sink),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_extended_rcodes),
		cmocka_unit_test(test_probe_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
