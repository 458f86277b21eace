/*
 * Unit tests for lib/config: the repository's example config loads, defaults are applied,
 * and every validation error reads exactly `file:line:col: path: message`. Each test
 * writes a small config tree into a fresh temporary folder and loads it from there.
 */
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "testutil.h"

#ifndef STEER_SRC_DIR
#define STEER_SRC_DIR "."
#endif

static char tmpdir[PATH_MAX];
static char oldcwd[PATH_MAX];

/*
 * The base tree: one balancer over two pools, one monitor. Expected positions below depend
 * on this layout: put_main() puts its balancers on line 8 and its extra keys after line 9.
 */
static const char main_fmt[] =
	"{\n"
	"  \"listen\": [\"127.0.0.1:5353\", \"[::1]:5353\"],\n"
	"  \"zone\": {\"name\": \"lb.example.test\",\n"
	"    \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": "
	"\"hostmaster.example.test\",\n"
	"      \"serial\": 1, \"refresh\": 3600, \"retry\": 600, \"expire\": "
	"604800, \"minimum\": 60, \"ttl\": 3600},\n"
	"    \"ns\": [\"ns1.lb.example.test\"]},\n"
	"  \"balancers\": [\n"
	"    %s\n"
	"  ]%s\n"
	"}\n";
static const char base_balancer[] = "{\"name\": \"api\", \"default_pools\": [\"web\", \"backup\"]}";
static const char web_pool[] =
	"{\"name\": \"web\", \"monitor\": \"http\",\n"
	" \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"},\n"
	"             {\"name\": \"b\", \"address\": \"192.0.2.2\", \"weight\": "
	"0.5}]}\n";
static const char backup_pool[] =
	"{\"name\": \"backup\", \"origins\": [{\"name\": \"a\", \"address\": \"2001:db8::1\"}]}\n";
static const char http_monitor[] = "{\"name\": \"http\", \"type\": \"http\"}\n";

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(rel, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* @p len bytes of @p data into @p rel, with permissions @p mode. */
static void put_bytes(const char *rel, const char *data, size_t len, mode_t mode)
{
	FILE *f = fopen(rel, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(rel, mode), 0);
}

/* steerd.json with @p balancers in the balancers array and @p extra after it. */
static void put_main(const char *balancers, const char *extra)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), main_fmt, balancers, extra);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	put("steerd.json", buf);
}

/* put_main() for an @p extra of any length. */
static void put_main_long(const char *extra)
{
	size_t cap = sizeof(main_fmt) + sizeof(base_balancer) + strlen(extra);
	char *buf = malloc(cap);
	int n;

	assert_non_null(buf);
	n = snprintf(buf, cap, main_fmt, base_balancer, extra);
	assert_true(n > 0 && (size_t)n < cap);
	put("steerd.json", buf);
	free(buf);
}

static int setup(void **state)
{
	(void)state;
	if (getcwd(oldcwd, sizeof(oldcwd)) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/steer-cfg-XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
		return -1;
	if (mkdir("pools", 0755) != 0 || mkdir("monitors", 0755) != 0)
		return -1;
	put_main(base_balancer, "");
	put("pools/web.json", web_pool);
	put("pools/backup.json", backup_pool);
	put("monitors/http.json", http_monitor);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(oldcwd) != 0)
		return -1;
	steer_test_rm_rf(tmpdir);
	return 0;
}

static struct steer_config *load_ok(const char *path)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char buf[1024];
	int rc = steer_config_load(path, &cfg, &errs);

	for (size_t i = 0; i < errs.n; i++)
		print_message("unexpected: %s\n", steer_err_format(&errs.v[i], buf, sizeof(buf)));
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(cfg);
	steer_errs_fini(&errs);
	return cfg;
}

/* Load ./steerd.json and compare every error, in order, with @p want. */
static void expect_errors(const char *const *want, size_t n)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char buf[1024];
	int rc = steer_config_load("steerd.json", &cfg, &errs);

	if (errs.n != n)
		for (size_t i = 0; i < errs.n; i++)
			print_message("got: %s\n", steer_err_format(&errs.v[i], buf, sizeof(buf)));
	assert_int_equal(rc, STEER_ECONFIG);
	assert_null(cfg);
	assert_int_equal(errs.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(steer_err_format(&errs.v[i], buf, sizeof(buf)), want[i]);
	steer_errs_fini(&errs);
}

#define EXPECT_ERRORS(...)                                                                         \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_errors(want_, sizeof(want_) / sizeof(want_[0]));                            \
	} while (0)

static const struct steer_pool *pool(const struct steer_config *cfg, const char *name)
{
	const struct steer_pool *p = steer_config_get_pool(cfg, name);

	assert_non_null(p);
	return p;
}

/* ---- the repository's example config ---------------------------------------------- */

static void test_repo_example_loads(void **state)
{
	struct steer_config *cfg;
	const struct steer_pool *p;

	(void)state;
	assert_int_equal(chdir(STEER_SRC_DIR), 0);
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->n_listen, 2);
	assert_int_equal(cfg->listen[0].ss.ss_family, AF_INET);
	assert_int_equal(cfg->listen[1].ss.ss_family, AF_INET6);
	assert_string_equal(cfg->zone.name, "lb.example.test.");
	assert_int_equal(cfg->zone.n_ns, 2);
	assert_int_equal(cfg->zone.n_records, 6);
	assert_string_equal(cfg->zone.records[2].text, "www 300 IN CNAME api");
	assert_string_equal(cfg->zone.records[2].jpath, "zone.records[2]");
	assert_string_equal(cfg->zone.records[2].pos.file, "steerd.json");
	assert_int_equal(cfg->zone.records[2].pos.line, 10);
	assert_int_equal(cfg->zone.records[2].pos.column, 17);
	assert_int_equal(cfg->n_balancers, 3);
	assert_string_equal(cfg->balancers[0].fqdn, "api.lb.example.test.");
	assert_int_equal(cfg->balancers[0].n_pools, 2);
	assert_string_equal(cfg->balancers[0].fallback->name, "parents");
	assert_int_equal(cfg->balancers[1].policy, STEER_POLICY_RANDOM);
	assert_int_equal(cfg->n_pools, 3);
	assert_int_equal(cfg->n_monitors, 2);
	assert_int_equal(cfg->n_origins, 6);
	p = pool(cfg, "cloud-tunnel");
	assert_false(p->origins[0].is_ip);
	assert_int_equal(p->origins[0].host_wire_len, 24);
	assert_string_equal(p->pos.file, "pools/cloud-tunnel.json");
	p = pool(cfg, "homelab");
	assert_string_equal(p->monitor->name, "api-health");
	assert_int_equal(p->origins[2].addr.family, AF_INET6);
	assert_int_equal(p->origins[0].index, 1);
	assert_ptr_equal(p->origins[0].pool, p);
	assert_true(p->origins[1].weight == 0.5);
	steer_config_free(cfg);
}

static void test_repo_example_absolute_path(void **state)
{
	struct steer_config *cfg;
	char want[PATH_MAX + 64];

	(void)state;
	cfg = load_ok(STEER_SRC_DIR "/steerd.json");
	assert_string_equal(cfg->dir, STEER_SRC_DIR);
	snprintf(want, sizeof(want), "%s/steerd.db", STEER_SRC_DIR);
	assert_string_equal(cfg->state_path, want);
	snprintf(want, sizeof(want), "%s/pools/homelab.json", STEER_SRC_DIR);
	assert_string_equal(pool(cfg, "homelab")->pos.file, want);
	steer_config_free(cfg);
}

/* ---- defaults ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct steer_config *cfg;
	const struct steer_monitor *m;
	const struct steer_pool *p;
	char host[256] = "";

	(void)state;
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->balancers[0].ttl_s, 30);
	assert_int_equal(cfg->balancers[0].failover_ttl_s, 10);
	assert_int_equal(cfg->balancers[0].policy, STEER_POLICY_FAILOVER);
	assert_null(cfg->balancers[0].fallback);
	assert_int_equal(cfg->balancers[0].failback, STEER_FAILBACK_AUTO);
	assert_int_equal(cfg->balancers[0].failback_hold_ms, 0);
	assert_false(cfg->api.enabled);
	assert_int_equal(cfg->api.n_listen, 0);
	assert_null(cfg->api.listen);
	assert_null(cfg->api.token_file);
	assert_null(cfg->api.token);
	assert_false(cfg->api.token_missing);
	p = pool(cfg, "web");
	assert_true(p->enabled);
	assert_int_equal(p->max_answers, 8);
	assert_int_equal(p->minimum_origins, 1);
	assert_int_equal(p->origin_steering, STEER_ORIGIN_RANDOM);
	assert_true(p->weight == 1.0);
	assert_true(p->origins[0].weight == 1.0);
	assert_true(p->origins[0].enabled);
	assert_null(pool(cfg, "backup")->monitor);
	m = p->monitor;
	assert_non_null(m);
	assert_string_equal(m->method, "GET");
	assert_string_equal(m->path, "/");
	assert_int_equal(m->port, 80);
	assert_string_equal(m->expected_codes, "2xx");
	assert_int_equal(m->interval_ms, 10000);
	assert_int_equal(m->timeout_ms, 5000);
	assert_int_equal(m->retries, 1);
	assert_int_equal(m->consecutive_up, 2);
	assert_int_equal(m->consecutive_down, 2);
	assert_false(m->follow_redirects);
	assert_false(m->allow_insecure);
	assert_int_equal(cfg->zone.ns_ttl, 3600);
	assert_int_equal(cfg->workers, 0);
	assert_int_equal(cfg->tcp_max_clients, 256);
	assert_int_equal(cfg->tcp_idle_timeout_ms, 10000);
	assert_int_equal(cfg->udp_batch_wait_us, 30);
	assert_int_equal(cfg->retention_days, 7);
	assert_string_equal(cfg->state_path, "steerd.db");
	assert_string_equal(cfg->version, "steer " STEER_VERSION);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_string_equal(cfg->identity, host);
	assert_string_equal(cfg->dir, ".");
	steer_config_free(cfg);
}

static void test_explicit_values(void **state)
{
	struct steer_config *cfg;
	const struct sockaddr_in6 *s6;

	(void)state;
	put_main("{\"name\": \"API.lb.example.test.\", \"ttl\": 5, \"steering_policy\": \"random\","
		 " \"default_pools\": [\"web\"], \"fallback_pool\": \"backup\"}",
		 ", \"identity\": \"ns1\", \"version\": false, \"workers\": 4,"
		 " \"tcp\": {\"max_clients\": 10, \"idle_timeout\": 3}, \"udp\": "
		 "{\"batch_wait_us\": 0}, \"affinity\": {\"dns\": [0], \"monitor\": [0]},"
		 " \"state\": {\"path\": \"/var/lib/steer.db\", \"retention_days\": 30}");
	put("monitors/http.json",
	    "{\"name\": \"http\", \"type\": \"https\", \"method\": \"HEAD\", \"interval\": 3,"
	    " \"expected_codes\": \"200, 301-302\", \"header\": {\"Host\": \"a.test\","
	    " \"X-A\": [\"1\", \"2\"]}, \"expected_body\": \"ok\", \"follow_redirects\": true}");
	cfg = load_ok("steerd.json");
	assert_string_equal(cfg->balancers[0].name, "API.lb.example.test.");
	assert_string_equal(cfg->balancers[0].fqdn, "api.lb.example.test.");
	assert_int_equal(cfg->balancers[0].ttl_s, 5);
	assert_int_equal(cfg->balancers[0].failover_ttl_s, 5);
	assert_int_equal(cfg->balancers[0].policy, STEER_POLICY_RANDOM);
	assert_string_equal(cfg->balancers[0].fallback->name, "backup");
	assert_string_equal(cfg->identity, "ns1");
	assert_null(cfg->version);
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(cfg->tcp_max_clients, 10);
	assert_int_equal(cfg->tcp_idle_timeout_ms, 3000);
	assert_int_equal(cfg->udp_batch_wait_us, 0);
	assert_int_equal(cfg->cpus_dns.n, 1);
	assert_int_equal(cfg->cpus_dns.cpu[0], 0);
	assert_int_equal(cfg->cpus_monitor.n, 1);
	assert_int_equal(cfg->cpus_monitor.cpu[0], 0);
	assert_string_equal(cfg->state_path, "/var/lib/steer.db");
	assert_int_equal(cfg->retention_days, 30);
	s6 = (const struct sockaddr_in6 *)&cfg->listen[1].ss;
	assert_int_equal(ntohs(s6->sin6_port), 5353);
	assert_int_equal(cfg->listen[1].len, sizeof(*s6));
	assert_int_equal(cfg->monitors[0].type, STEER_MONITOR_HTTPS);
	assert_int_equal(cfg->monitors[0].port, 443);
	assert_string_equal(cfg->monitors[0].method, "HEAD");
	assert_int_equal(cfg->monitors[0].interval_ms, 3000);
	assert_int_equal(cfg->monitors[0].timeout_ms, 3000); /* min(5, interval) */
	assert_int_equal(cfg->monitors[0].n_headers, 3);
	assert_string_equal(cfg->monitors[0].headers[2].name, "X-A");
	assert_string_equal(cfg->monitors[0].headers[2].value, "2");
	assert_string_equal(cfg->monitors[0].expected_body, "ok");
	assert_true(cfg->monitors[0].follow_redirects);
	steer_config_free(cfg);
}

/* ---- expected_codes ------------------------------------------------------------------- */

static void check_codes(const char *text, const struct steer_code_range *want, size_t n)
{
	struct steer_config *cfg;
	char buf[256];

	snprintf(buf, sizeof(buf),
		 "{\"name\": \"http\", \"type\": \"http\", \"expected_codes\": \"%s\"}", text);
	put("monitors/http.json", buf);
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->monitors[0].n_codes, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(cfg->monitors[0].codes[i].lo, want[i].lo);
		assert_int_equal(cfg->monitors[0].codes[i].hi, want[i].hi);
	}
	steer_config_free(cfg);
}

static void test_expected_codes(void **state)
{
	const struct steer_code_range one[] = {{200, 200}};
	const struct steer_code_range cls[] = {{200, 299}};
	const struct steer_code_range two[] = {{200, 200}, {301, 302}};
	const struct steer_code_range three[] = {{204, 204}, {300, 399}, {100, 599}};

	(void)state;
	check_codes("200", one, 1);
	check_codes("2xx", cls, 1);
	check_codes("200,301-302", two, 2);
	check_codes("204, 3XX ,100-599", three, 3);
}

static void test_expected_codes_invalid(void **state)
{
	static const char *const bad[] = {"abc", "", "200,", "600", "302-301", "6xx", "20", "099"};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"name\": \"http\", \"type\": \"http\",\n"
			 "  \"expected_codes\": \"%s\"}",
			 bad[i]);
		put("monitors/http.json", buf);
		EXPECT_ERRORS("monitors/http.json:2:21: expected_codes: must be a list of status "
			      "codes like \"200\", \"2xx\" or \"200,301-302\" (100 to 599)");
	}
}

/* ---- single errors, exact text and position ------------------------------------------ */

static void test_weight_out_of_range(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"},\n"
			      "             {\"name\": \"b\", \"address\": \"192.0.2.2\",\n"
			      "              \"weight\": 1.5}]}\n");
	EXPECT_ERRORS("pools/web.json:4:25: origins[1].weight: must be between 0 and 1");
}

static void test_unknown_key_suggestion(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\", "
			      "\"wieght\": 1}]}\n");
	put("monitors/http.json", "{\"name\": \"http\", \"type\": \"http\", \"intreval\": 5,"
				  " \"bogus_setting\": 1}\n");
	EXPECT_ERRORS(
		"monitors/http.json:1:34: intreval: unknown key (did you mean \"interval\"?)",
		"monitors/http.json:1:49: bogus_setting: unknown key",
		"pools/web.json:2:52: origins[0].wieght: unknown key (did you mean \"weight\"?)");
}

static void test_dangling_pool(void **state)
{
	(void)state;
	put_main("{\"name\": \"api\", \"default_pools\": [\"web\", \"bakcup\"],"
		 " \"fallback_pool\": \"nope\"}",
		 "");
	EXPECT_ERRORS("steerd.json:8:46: balancers[0].default_pools[1]: pool \"bakcup\" does not "
		      "exist (did you mean \"backup\"?)",
		      "steerd.json:8:74: balancers[0].fallback_pool: pool \"nope\" does not exist");
}

static void test_dangling_monitor(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\", \"monitor\": \"htp\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"}]}\n");
	EXPECT_ERRORS("pools/web.json:1:28: monitor: monitor \"htp\" does not exist (did you mean "
		      "\"http\"?)");
}

static void test_duplicate_pool_name(void **state)
{
	(void)state;
	put("pools/web2.json", "{\"name\": \"web\",\n"
			       " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.9\"}]}\n");
	EXPECT_ERRORS("pools/web2.json:1:10: name: duplicate pool name \"web\" (also in "
		      "pools/web.json)");
}

static void test_duplicate_origin_name(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"},\n"
			      "             {\"name\": \"a\", \"address\": \"192.0.2.2\"}]}\n");
	EXPECT_ERRORS("pools/web.json:3:23: origins[1].name: duplicate origin name \"a\" (also "
		      "origins[0])");
}

static void test_balancer_outside_zone(void **state)
{
	(void)state;
	put_main("{\"name\": \"api.example.test.\", \"default_pools\": [\"web\"]},\n"
		 "    {\"name\": \"@\", \"default_pools\": [\"web\"]},\n"
		 "    {\"name\": \"a..b\", \"default_pools\": [\"web\"]},\n"
		 "    {\"name\": \"x\", \"default_pools\": [\"web\"]},\n"
		 "    {\"name\": \"X.lb.example.test.\", \"default_pools\": [\"web\"]}",
		 "");
	EXPECT_ERRORS("steerd.json:8:14: balancers[0].name: must be inside zone lb.example.test.",
		      "steerd.json:9:14: balancers[1].name: must be inside zone lb.example.test., "
		      "not its apex",
		      "steerd.json:10:14: balancers[2].name: must be a valid domain name",
		      "steerd.json:12:14: balancers[4].name: duplicate balancer "
		      "\"x.lb.example.test.\" (also balancers[3])");
}

static void test_json_syntax_error(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\",}]}\n");
	put("pools/backup.json", "{\"name\": \"backup\", \"name\": \"x\"}\n");
	put("monitors/http.json", "{\"name\": \"http\", \"type\": tcp}\n");
	EXPECT_ERRORS("monitors/http.json:1:26: invalid JSON: invalid token near 'tcp' (strings "
		      "need double quotes)",
		      "pools/backup.json:1:20: invalid JSON: duplicate object key near '\"name\"'",
		      "pools/web.json:2:51: invalid JSON: string or '}' expected near '}' "
		      "(trailing comma?)");
}

static void test_json_truncated(void **state)
{
	(void)state;
	put("steerd.json", "{\n  \"listen\": [\"127.0.0.1:53\"],\n  \"zone\": {\n");
	EXPECT_ERRORS("steerd.json:3:12: invalid JSON: string or '}' expected near end of file");
}

static void test_zero_valid_origins(void **state)
{
	(void)state;
	put("pools/web.json", "{\"name\": \"web\",\n"
			      " \"origins\": [{\"name\": \"a\", \"address\": \"10.0.0.256\"},\n"
			      "             {\"name\": \"b\", \"address\": \"192.0.2.2\", "
			      "\"enabled\": false}]}\n");
	put("pools/backup.json", "{\"name\": \"backup\", \"origins\": []}\n");
	EXPECT_ERRORS("pools/backup.json:1:31: origins: must be a non-empty array of origins",
		      "pools/web.json:2:13: origins: no enabled origin with a valid address",
		      "pools/web.json:2:39: origins[0].address: must be an IPv4 address, an IPv6 "
		      "address or a host name");
}

static void test_missing_and_wrong_types(void **state)
{
	(void)state;
	put("pools/web.json",
	    "{\"name\": 7, \"enabled\": \"yes\", \"max_answers\": 2.5,\n"
	    " \"origins\": [{\"address\": \"192.0.2.1\", \"weight\": \"1\"}, 3]}\n");
	put("monitors/http.json", "{\"type\": \"ftp\", \"timeout\": 11, \"port\": 0}\n");
	EXPECT_ERRORS(
		"steerd.json:8:39: balancers[0].default_pools[0]: pool \"web\" does not exist",
		"monitors/http.json:1:1: missing required key \"name\"",
		"monitors/http.json:1:10: type: must be one of \"http\", \"https\", \"tcp\"",
		"monitors/http.json:1:28: timeout: must be between 1 and 10",
		"monitors/http.json:1:40: port: must be between 1 and 65535",
		"pools/web.json:1:10: name: must be a string",
		"pools/web.json:1:24: enabled: must be true or false",
		"pools/web.json:1:46: max_answers: must be an integer",
		"pools/web.json:2:14: origins[0]: missing required key \"name\"",
		"pools/web.json:2:49: origins[0].weight: must be a number",
		"pools/web.json:2:55: origins[1]: must be an object");
}

static void test_main_file_errors(void **state)
{
	(void)state;
	put("steerd.json",
	    "{\"listen\": [\"127.0.0.1\", \"[::1]:0\", \"::1:53\", 5],\n"
	    " \"zone\": {\"name\": \"lb.example.test\", \"ns\": [],\n"
	    "   \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": \"h.example.test\","
	    " \"serial\": -1, \"refresh\": 1, \"retry\": 1, \"expire\": 1, \"ttl\": 1}},\n"
	    " \"workers\": 65, \"version\": true, \"tcp\": {\"max_clients\": 0},\n"
	    " \"udp\": {\"batch_wait_us\": 1001, \"batch\": 1}}\n");
	EXPECT_ERRORS("steerd.json:1:13: listen[0]: must be \"IPv4:port\" or \"[IPv6]:port\"",
		      "steerd.json:1:26: listen[1]: must be \"IPv4:port\" or \"[IPv6]:port\"",
		      "steerd.json:1:37: listen[2]: must be \"IPv4:port\" or \"[IPv6]:port\"",
		      "steerd.json:1:47: listen[3]: must be a string",
		      "steerd.json:2:44: zone.ns: must be a non-empty array of name server names",
		      "steerd.json:3:11: zone.soa: missing required key \"minimum\"",
		      "steerd.json:3:81: zone.soa.serial: must be between 0 and 4294967295",
		      "steerd.json:4:13: workers: must be between 0 and 64",
		      "steerd.json:4:28: version: must be a string or false",
		      "steerd.json:4:57: tcp.max_clients: must be between 1 and 65535",
		      "steerd.json:5:27: udp.batch_wait_us: must be between 0 and 1000",
		      "steerd.json:5:33: udp.batch: unknown key");
}

/* CPU numbers: an array, distinct, of CPUs this machine has (the message names its range). */
static void test_affinity_errors(void **state)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char big[160], str[160];

	(void)state;
	assert_true(n > 0 && n < 4096);
	snprintf(big, sizeof(big),
		 "steerd.json:10:44: affinity.monitor[2]: must be a CPU number from 0 to %ld "
		 "(this machine has %ld)",
		 n - 1, n);
	snprintf(str, sizeof(str),
		 "steerd.json:10:50: affinity.monitor[3]: must be a CPU number from 0 to %ld "
		 "(this machine has %ld)",
		 n - 1, n);
	put_main(base_balancer, ",\n \"affinity\": {\"dns\": [], \"monitor\": [0, 0, 4096, \"1\"],"
				" \"io\": [1]}");
	EXPECT_ERRORS("steerd.json:10:22: affinity.dns: must be a non-empty array of CPU numbers",
		      "steerd.json:10:41: affinity.monitor[1]: CPU 0 is listed twice", big, str,
		      "steerd.json:10:56: affinity.io: unknown key");
}

static void test_balancer_field_errors(void **state)
{
	(void)state;
	put_main("{\"name\": \"api\", \"default_pools\": \"web\", \"steering_policy\": \"geo\","
		 " \"ttl\": 604801, \"failover_ttl\": -1}",
		 "");
	EXPECT_ERRORS("steerd.json:8:38: balancers[0].default_pools: must be a non-empty array of "
		      "pool names",
		      "steerd.json:8:64: balancers[0].steering_policy: must be one of "
		      "\"failover\", \"random\"",
		      "steerd.json:8:78: balancers[0].ttl: must be between 0 and 604800",
		      "steerd.json:8:102: balancers[0].failover_ttl: must be between 0 and 604800");
}

static void test_missing_main_keys(void **state)
{
	(void)state;
	put("steerd.json", "{\"zone\": {\"soa\": {}, \"ns\": [\"ns1\"], \"name\": \"x..\"},\n"
			   " \"pool_dir\": \"p\"}\n");
	EXPECT_ERRORS("steerd.json:1:1: missing required key \"listen\"",
		      "steerd.json:1:18: zone.soa: missing required key \"mname\"",
		      "steerd.json:1:18: zone.soa: missing required key \"rname\"",
		      "steerd.json:1:18: zone.soa: missing required key \"serial\"",
		      "steerd.json:1:18: zone.soa: missing required key \"refresh\"",
		      "steerd.json:1:18: zone.soa: missing required key \"retry\"",
		      "steerd.json:1:18: zone.soa: missing required key \"expire\"",
		      "steerd.json:1:18: zone.soa: missing required key \"minimum\"",
		      "steerd.json:1:18: zone.soa: missing required key \"ttl\"",
		      "steerd.json:1:45: zone.name: must be a valid domain name",
		      "steerd.json:2:2: pool_dir: unknown key (did you mean \"pools_dir\"?)");
}

static void test_monitor_rules(void **state)
{
	(void)state;
	put("monitors/http.json", "{\"name\": \"http\", \"type\": \"http\", \"expect\": \"OK\","
				  " \"path\": \"health\", \"ca_file\": \"missing.pem\"}\n");
	put("monitors/tcp.json", "{\"name\": \"tcp\", \"type\": \"tcp\", \"send\": \"PING\"}\n");
	EXPECT_ERRORS(
		"monitors/http.json:1:34: expect: only valid for type \"tcp\"",
		"monitors/http.json:1:58: path: must start with \"/\"",
		"monitors/http.json:1:79: ca_file: cannot read \"missing.pem\": No such file or "
		"directory",
		"monitors/tcp.json:1:1: missing required key \"port\" (required for type \"tcp\")");
}

static void test_pool_rules(void **state)
{
	(void)state;
	put("pools/web.json",
	    "{\"name\": \"web\", \"minimum_origins\": 3, \"origin_steering\": \"rnd\","
	    " \"weight\": 0,\n"
	    " \"origins\": [{\"name\": \"a\", \"address\": \"-bad-.example\"},\n"
	    "  {\"name\": \"b\", \"address\": \"origin.example\", \"header\": {\"Host\": 1,"
	    " \"Bad Name\": \"x\"}}]}\n");
	EXPECT_ERRORS(
		"pools/web.json:1:36: minimum_origins: must not exceed the number of origins (2)",
		"pools/web.json:1:58: origin_steering: must be one of \"random\", \"hash\", "
		"\"all\"",
		"pools/web.json:1:75: weight: must be greater than 0 and at most 1000",
		"pools/web.json:2:39: origins[0].address: must be an IPv4 address, an IPv6 address "
		"or a host name",
		"pools/web.json:3:65: origins[1].header.Host: must be a string or an array of "
		"strings",
		"pools/web.json:3:68: origins[1].header.Bad Name: invalid header name");
}

static void test_hostname_origin(void **state)
{
	static const uint8_t want[] = {6,   'o', 'r', 'i', 'g', 'i', 'n', 7,
				       'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
	struct steer_config *cfg;
	const struct steer_origin *o;

	(void)state;
	put("pools/backup.json", "{\"name\": \"backup\", \"origins\": [{\"name\": \"a\", "
				 "\"address\": \"Origin.Example\"}]}\n");
	cfg = load_ok("steerd.json");
	o = &pool(cfg, "backup")->origins[0];
	assert_false(o->is_ip);
	assert_string_equal(o->address, "Origin.Example");
	assert_int_equal(o->host_wire_len, sizeof(want));
	assert_memory_equal(o->host_wire, want, sizeof(want));
	steer_config_free(cfg);
}

static void test_missing_pools_dir(void **state)
{
	(void)state;
	put_main(base_balancer, ",\n  \"pools_dir\": \"nowhere\"");
	EXPECT_ERRORS(
		"steerd.json:8:39: balancers[0].default_pools[0]: pool \"web\" does not exist",
		"steerd.json:8:46: balancers[0].default_pools[1]: pool \"backup\" does not exist",
		"steerd.json:10:16: pools_dir: cannot open directory \"nowhere\": No such file or "
		"directory");
}

static void test_missing_main_file(void **state)
{
	(void)state;
	assert_int_equal(unlink("steerd.json"), 0);
	EXPECT_ERRORS("steerd.json: cannot read: No such file or directory");
}

static void test_absolute_path_in_errors(void **state)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char path[PATH_MAX + 32], want[PATH_MAX + 128], buf[PATH_MAX + 256];

	(void)state;
	put("pools/web.json", "{\"name\": \"web\", \"origins\": [{\"name\": \"a\", \"address\": "
			      "\"192.0.2.1\", \"weight\": -1}]}\n");
	snprintf(path, sizeof(path), "%s/steerd.json", tmpdir);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(steer_config_load(path, &cfg, &errs), STEER_ECONFIG);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want),
		 "%s/pools/web.json:1:77: origins[0].weight: must be between 0 and 1", tmpdir);
	assert_string_equal(steer_err_format(&errs.v[0], buf, sizeof(buf)), want);
	steer_errs_fini(&errs);
}

/* Errors of several kinds in several files, all in one load: fixture test/data/config/multi. */
static void test_multiple_errors_fixture(void **state)
{
	(void)state;
	assert_int_equal(chdir(STEER_SRC_DIR "/test/data/config/multi"), 0);
	EXPECT_ERRORS(
		"steerd.json:12:35: balancers[0].default_pools[1]: pool \"parnets\" does not "
		"exist (did you mean \"parents\"?)",
		"steerd.json:13:14: balancers[1].name: must be inside zone lb.example.test.",
		"steerd.json:13:54: balancers[1].steering_policy: must be one of \"failover\", "
		"\"random\"",
		"monitors/api.json:3:2: intervall: unknown key (did you mean \"interval\"?)",
		"pools/homelab.json:4:14: origins[0].weight: must be between 0 and 1",
		"pools/homelab.json:5:12: origins[1].name: duplicate origin name \"lab-a\" (also "
		"origins[0])",
		"pools/parents.json:1:32: monitor: monitor \"api-helth\" does not exist (did you "
		"mean \"api-health\"?)",
		"pools/spare.json:1:10: name: duplicate pool name \"homelab\" (also in "
		"pools/homelab.json)");
}

static void test_fixture_valid(void **state)
{
	struct steer_config *cfg;

	(void)state;
	assert_int_equal(chdir(STEER_SRC_DIR "/test/data/config/valid"), 0);
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->n_pools, 1);
	assert_int_equal(cfg->n_monitors, 0);
	assert_string_equal(cfg->balancers[0].fqdn, "www.example.test.");
	steer_config_free(cfg);
}

static void test_errors_accumulate(void **state)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;

	(void)state;
	put("pools/web.json", "{\"name\": \"web\", \"origins\": [{\"name\": \"a\", \"address\": "
			      "\"192.0.2.1\", \"weight\": 2}]}\n");
	assert_int_equal(steer_config_load("steerd.json", &cfg, &errs), STEER_ECONFIG);
	assert_int_equal(steer_config_load("steerd.json", &cfg, &errs), STEER_ECONFIG);
	assert_int_equal(errs.n, 2);
	assert_null(cfg);
	assert_int_equal(steer_config_load("steerd.json", &cfg, NULL), STEER_ECONFIG);
	steer_errs_fini(&errs);
}

/* ---- api ------------------------------------------------------------------------------ */

static void test_api_values(void **state)
{
	static const char tok[] = " \t0123456789abcdef-_~!\r\n\n";
	const struct sockaddr_in6 *s6;
	struct steer_config *cfg;

	(void)state;
	put_bytes("api.token", tok, sizeof(tok) - 1, 0600);
	put_main(base_balancer, ",\n \"api\": {\"listen\": [\"127.0.0.1:8053\", \"[::1]:8054\","
				" \"0.0.0.0:9000\"], \"token_file\": \"api.token\","
				" \"public_read\": true}");
	cfg = load_ok("steerd.json");
	assert_true(cfg->api.enabled);
	assert_int_equal(cfg->api.n_listen, 3);
	assert_string_equal(cfg->api.listen[1].text, "[::1]:8054");
	s6 = (const struct sockaddr_in6 *)&cfg->api.listen[1].ss;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 8054);
	assert_string_equal(cfg->api.token_file, "api.token");
	assert_string_equal(cfg->api.token, "0123456789abcdef-_~!");
	assert_false(cfg->api.token_missing);
	assert_true(cfg->api.public_read);
	steer_config_free(cfg);
}

/* `"api": {}`: the API on STEER_DEFAULT_API_LISTEN, no token, GETs need a token. */
static void test_api_defaults(void **state)
{
	const struct sockaddr_in *s4;
	struct steer_config *cfg;

	(void)state;
	put_main(base_balancer, ", \"api\": {}");
	cfg = load_ok("steerd.json");
	assert_true(cfg->api.enabled);
	assert_int_equal(cfg->api.n_listen, 1);
	assert_string_equal(cfg->api.listen[0].text, STEER_DEFAULT_API_LISTEN);
	s4 = (const struct sockaddr_in *)&cfg->api.listen[0].ss;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 8053);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_null(cfg->api.token_file);
	assert_null(cfg->api.token);
	assert_false(cfg->api.token_missing);
	assert_false(cfg->api.public_read);
	steer_config_free(cfg);
}

/* A token file that does not exist yet is no error (steerd creates it); the path is resolved. */
static void test_api_token_missing(void **state)
{
	struct steer_config *cfg;
	char path[PATH_MAX + 32], want[PATH_MAX + 64];

	(void)state;
	assert_int_equal(mkdir("secrets", 0700), 0);
	put_main(base_balancer, ", \"api\": {\"listen\": [\"[::]:8053\", \"127.0.0.2:8053\"],"
				" \"token_file\": \"secrets/api.token\"}");
	snprintf(path, sizeof(path), "%s/steerd.json", tmpdir);
	assert_int_equal(chdir("/"), 0);
	cfg = load_ok(path);
	snprintf(want, sizeof(want), "%s/secrets/api.token", tmpdir);
	assert_string_equal(cfg->api.token_file, want);
	assert_null(cfg->api.token);
	assert_true(cfg->api.token_missing);
	assert_int_equal(cfg->api.n_listen, 2);
	steer_config_free(cfg);
}

/* A token of exactly the file size limit is fine; one byte more is not (next test). */
static void test_api_token_size_limit(void **state)
{
	struct steer_config *cfg;
	char *big = malloc(STEER_API_TOKEN_FILE_MAX);

	(void)state;
	assert_non_null(big);
	memset(big, 'k', STEER_API_TOKEN_FILE_MAX);
	put_bytes("api.token", big, STEER_API_TOKEN_FILE_MAX, 0400);
	put_main(base_balancer, ", \"api\": {\"token_file\": \"api.token\"}");
	cfg = load_ok("steerd.json");
	assert_int_equal(strlen(cfg->api.token), STEER_API_TOKEN_FILE_MAX);
	steer_config_free(cfg);
	free(big);
}

static void test_api_errors(void **state)
{
	(void)state;
	put_main(base_balancer,
		 ",\n \"api\": {\"listen\": [\"127.0.0.1:8053\", \"127.0.0.1\", 8053,\n"
		 "   \"127.0.0.1:8053\", \"[::1]:5353\", \"0.0.0.0:5353\", \"192.0.2.1:80\","
		 " \"[::]:80\",\n   \"[::ffff:127.0.0.1]:80\", \"127.255.0.1:80\"],"
		 " \"public_read\": 1, \"tokenfile\": \"x\"}");
	EXPECT_ERRORS(
		"steerd.json:10:39: api.listen[1]: must be \"IPv4:port\" or \"[IPv6]:port\"",
		"steerd.json:10:52: api.listen[2]: must be a string",
		"steerd.json:11:4: api.listen[3]: \"127.0.0.1:8053\" is listed twice",
		"steerd.json:11:22: api.listen[4]: conflicts with DNS listen address "
		"\"[::1]:5353\" (both use TCP)",
		"steerd.json:11:36: api.listen[5]: conflicts with DNS listen address "
		"\"127.0.0.1:5353\" (both use TCP)",
		"steerd.json:11:36: api.listen[5]: a non-loopback API address needs "
		"api.token_file",
		"steerd.json:11:52: api.listen[6]: a non-loopback API address needs "
		"api.token_file",
		"steerd.json:11:68: api.listen[7]: a non-loopback API address needs "
		"api.token_file",
		"steerd.json:12:63: api.public_read: must be true or false",
		"steerd.json:12:66: api.tokenfile: unknown key (did you mean \"token_file\"?)");
}

static void test_api_shape_errors(void **state)
{
	(void)state;
	put_main(base_balancer, ",\n \"api\": true, \"apj\": {}");
	EXPECT_ERRORS("steerd.json:10:9: api: must be an object",
		      "steerd.json:10:15: apj: unknown key (did you mean \"api\"?)");
	put_main(base_balancer, ",\n \"api\": {\"listen\": [], \"token_file\": 7}");
	EXPECT_ERRORS("steerd.json:10:20: api.listen: must be a non-empty array of "
		      "\"address:port\" strings",
		      "steerd.json:10:38: api.token_file: must be a string");
	put_main(base_balancer,
		 ",\n \"api\": {\"listen\": \"127.0.0.1:8053\", \"token_file\": \"\"}");
	EXPECT_ERRORS("steerd.json:10:20: api.listen: must be a non-empty array of "
		      "\"address:port\" strings",
		      "steerd.json:10:52: api.token_file: must not be empty");
}

/* The default API address is checked like a written one: here DNS already uses it. */
static void test_api_default_listen_conflict(void **state)
{
	(void)state;
	put("steerd.json",
	    "{\"listen\": [\"127.0.0.1:8053\"],\n"
	    " \"zone\": {\"name\": \"lb.example.test\", \"ns\": [\"ns1.lb.example.test\"],\n"
	    "   \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": \"h.example.test\","
	    " \"serial\": 1, \"refresh\": 1, \"retry\": 1, \"expire\": 1, \"minimum\": 1,"
	    " \"ttl\": 1}},\n"
	    " \"api\": {\"public_read\": false}}\n");
	EXPECT_ERRORS("steerd.json:4:9: api: conflicts with DNS listen address \"127.0.0.1:8053\" "
		      "(both use TCP)");
}

/* Load with `api.token_file` = @p file and expect the one error @p msg about it. */
static void expect_token_error(const char *file, const char *msg)
{
	char main_extra[256], want[512];

	snprintf(main_extra, sizeof(main_extra), ",\n \"api\": {\"token_file\": \"%s\"}", file);
	put_main(base_balancer, main_extra);
	snprintf(want, sizeof(want), "steerd.json:10:24: api.token_file: %s", msg);
	EXPECT_ERRORS(want);
}

static void test_api_token_file_errors(void **state)
{
	char big[STEER_API_TOKEN_FILE_MAX + 1];

	(void)state;
	put_bytes("group.token", "0123456789abcdef\n", 17, 0640);
	expect_token_error("group.token", "group.token is readable by other users; chmod 600 it");
	put_bytes("other.token", "0123456789abcdef\n", 17, 0602);
	expect_token_error("other.token", "other.token is readable by other users; chmod 600 it");
	expect_token_error("pools", "pools is not a regular file");
	assert_int_equal(mkfifo("fifo.token", 0600), 0); /* no writer: a blocking open hangs */
	expect_token_error("fifo.token", "fifo.token is not a regular file");
	expect_token_error("group.token/x", "cannot open group.token/x: Not a directory");
	expect_token_error("nowhere/api.token",
			   "cannot open nowhere/api.token: No such file or directory");
	memset(big, 'k', sizeof(big));
	put_bytes("big.token", big, sizeof(big), 0600);
	expect_token_error("big.token", "big.token is larger than 4096 bytes");
}

static void test_api_token_content_errors(void **state)
{
	static const char *const bad[] = {
		"",
		" \n\t ",
		"0123456789abcde\n",
		"0123456789 abcdef",
		"0123456789abcdef\x7f",
		"0123456789\tabcdef",
		"0123456789abcd\xc3\xa9",
	};
	static const char nul[] = "0123456789\0abcdef";
	const char *msg = "api.token must hold a token of at least 16 printable ASCII characters "
			  "without spaces";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_bytes("api.token", bad[i], strlen(bad[i]), 0600);
		expect_token_error("api.token", msg);
	}
	put_bytes("api.token", nul, sizeof(nul) - 1, 0600);
	expect_token_error("api.token", msg);
}

/* ---- balancer failback ---------------------------------------------------------------- */

static void test_failback_values(void **state)
{
	struct steer_config *cfg;

	(void)state;
	put_main("{\"name\": \"api\", \"default_pools\": [\"web\", \"backup\"], \"failback\": "
		 "\"manual\", \"failback_hold\": 60},\n"
		 "    {\"name\": \"b\", \"default_pools\": [\"web\"], \"failback_hold\": 86400},\n"
		 "    {\"name\": \"c\", \"default_pools\": [\"web\"], \"steering_policy\": "
		 "\"random\","
		 " \"failback\": \"auto\", \"failback_hold\": 0}",
		 "");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->balancers[0].failback, STEER_FAILBACK_MANUAL);
	assert_int_equal(cfg->balancers[0].failback_hold_ms, 60000);
	assert_int_equal(cfg->balancers[1].failback, STEER_FAILBACK_AUTO);
	assert_int_equal(cfg->balancers[1].failback_hold_ms, 86400000);
	assert_int_equal(cfg->balancers[2].policy, STEER_POLICY_RANDOM);
	assert_int_equal(cfg->balancers[2].failback, STEER_FAILBACK_AUTO);
	assert_int_equal(cfg->balancers[2].failback_hold_ms, 0);
	steer_config_free(cfg);
}

static void test_failback_errors(void **state)
{
	(void)state;
	put_main("{\"name\": \"a\", \"default_pools\": [\"web\"], \"failback\": \"never\","
		 " \"failback_hold\": 86401},\n"
		 "    {\"name\": \"b\", \"default_pools\": [\"web\"], \"failback\": 1,"
		 " \"failback_hold\": 1.5, \"failbak\": \"auto\"},\n"
		 "    {\"name\": \"c\", \"default_pools\": [\"web\"], \"steering_policy\": "
		 "\"random\","
		 " \"failback\": \"manual\", \"failback_hold\": 30}",
		 "");
	EXPECT_ERRORS(
		"steerd.json:8:57: balancers[0].failback: must be one of \"auto\", \"manual\"",
		"steerd.json:8:83: balancers[0].failback_hold: must be between 0 and 86400",
		"steerd.json:9:57: balancers[1].failback: must be a string",
		"steerd.json:9:77: balancers[1].failback_hold: must be an integer",
		"steerd.json:9:82: balancers[1].failbak: unknown key (did you mean \"failback\"?)",
		"steerd.json:10:74: balancers[2].failback: failback applies only to "
		"steering_policy \"failover\"",
		"steerd.json:10:96: balancers[2].failback_hold: failback_hold applies only to "
		"steering_policy \"failover\"");
}

/* ---- failover budget ----------------------------------------------------------------- */

/* A failover balancer over one pool probed by a monitor of these settings (0: no monitor). */
struct worst_case {
	char mon_name[8];
	char pool_name[16];
	struct steer_monitor mon;
	struct steer_pool pool;
	const struct steer_pool *pools[1];
	struct steer_balancer bal;
};

static void worst_setup(struct worst_case *t, uint32_t ttl_s, uint32_t interval_s,
			uint32_t timeout_s, uint32_t retries, uint32_t down)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->mon_name, sizeof(t->mon_name), "m");
	snprintf(t->pool_name, sizeof(t->pool_name), "web");
	t->mon.name = t->mon_name;
	t->mon.interval_ms = interval_s * 1000;
	t->mon.timeout_ms = timeout_s * 1000;
	t->mon.retries = retries;
	t->mon.consecutive_down = down;
	t->pool.name = t->pool_name;
	t->pool.enabled = true;
	t->pool.monitor = interval_s != 0 ? &t->mon : NULL;
	t->pools[0] = &t->pool;
	t->bal.ttl_s = ttl_s;
	t->bal.pools = t->pools;
	t->bal.n_pools = 1;
}

/* The worst case of @p t in ms, and its text compared with @p text. */
static uint64_t worst_of(const struct worst_case *t, const char *text)
{
	struct steer_failover_worst w;
	char buf[512];

	steer_config_failover_worst(&t->bal, &w);
	assert_ptr_equal(w.pool, &t->pool);
	assert_string_equal(steer_config_failover_text(&w, buf, sizeof(buf)), text);
	return w.bounded ? w.total_ms : UINT64_MAX;
}

static void test_failover_worst_case(void **state)
{
	struct worst_case t;

	(void)state;
	/* defaults: the retry of a hung probe runs to 10 s = interval, so the tick at 10 s is
	 * skipped and the second failed probe starts 20 s after the first */
	worst_setup(&t, 30, 10, 5, 1, 2);
	assert_int_equal(worst_of(&t, "ttl 30 s + 10 s interval + 1 × 20 s between failed "
				      "probes + 2 × 5 s timeouts = 70 s"),
			 70000);
	/* 2 × 4 s < 10 s: no tick skipped */
	worst_setup(&t, 30, 10, 4, 1, 2);
	assert_int_equal(worst_of(&t, "ttl 30 s + 10 s interval + 1 × 10 s between failed "
				      "probes + 2 × 4 s timeouts = 58 s"),
			 58000);
	/* timeout = interval without retries: every other tick */
	worst_setup(&t, 60, 5, 5, 0, 3);
	assert_int_equal(worst_of(&t, "ttl 60 s + 5 s interval + 2 × 10 s between failed "
				      "probes + 5 s timeout = 90 s"),
			 90000);
	/* one failure marks it down */
	worst_setup(&t, 0, 1, 1, 0, 1);
	assert_int_equal(worst_of(&t, "ttl 0 s + 1 s interval + 1 s timeout = 2 s"), 2000);
	/* no monitor: never detected */
	worst_setup(&t, 30, 0, 0, 0, 0);
	assert_int_equal(worst_of(&t, "pool web has no monitor: a dead origin is never detected"),
			 UINT64_MAX);
}

static void test_failover_worst_pools(void **state)
{
	struct worst_case a, b;
	const struct steer_pool *pools[2];
	struct steer_failover_worst w;

	(void)state;
	worst_setup(&a, 30, 10, 5, 1, 2); /* 70 s */
	worst_setup(&b, 30, 10, 5, 1, 4); /* 30 + 10 + 3 × 20 + 10 = 110 s */
	snprintf(b.pool_name, sizeof(b.pool_name), "backup");
	pools[0] = &a.pool;
	pools[1] = &b.pool;
	a.bal.pools = pools;
	a.bal.n_pools = 2;
	/* failover: the first pool answers, so its death is the one clients see */
	steer_config_failover_worst(&a.bal, &w);
	assert_ptr_equal(w.pool, &a.pool);
	assert_int_equal(w.total_ms, 70000);
	/* ... unless it is disabled */
	a.pool.enabled = false;
	steer_config_failover_worst(&a.bal, &w);
	assert_ptr_equal(w.pool, &b.pool);
	assert_int_equal(w.total_ms, 110000);
	/* random: every pool answers with ttl; the slowest decides, unmonitored is worst */
	a.pool.enabled = true;
	a.bal.policy = STEER_POLICY_RANDOM;
	steer_config_failover_worst(&a.bal, &w);
	assert_ptr_equal(w.pool, &b.pool);
	b.pool.monitor = NULL;
	steer_config_failover_worst(&a.bal, &w);
	assert_ptr_equal(w.pool, &b.pool);
	assert_false(w.bounded);
}

static void test_failover_budget_values(void **state)
{
	struct steer_config *cfg;

	(void)state;
	/* the base tree: pool web, monitor http with the defaults: 30 s ttl + 40 s = 70 s */
	put_main("{\"name\": \"a\", \"default_pools\": [\"web\"], \"failover_budget\": 70},\n"
		 "    {\"name\": \"b\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"70s\"},\n"
		 "    {\"name\": \"c\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"2m\"},\n"
		 "    {\"name\": \"d\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"1h\"},\n"
		 "    {\"name\": \"e\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"7d\"},\n"
		 "    {\"name\": \"f\", \"default_pools\": [\"backup\"]}",
		 "");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->balancers[0].failover_budget_ms, 70000);
	assert_int_equal(cfg->balancers[1].failover_budget_ms, 70000);
	assert_int_equal(cfg->balancers[2].failover_budget_ms, 120000);
	assert_int_equal(cfg->balancers[3].failover_budget_ms, 3600000);
	assert_int_equal(cfg->balancers[4].failover_budget_ms, 7 * 86400000u);
	assert_int_equal(cfg->balancers[5].failover_budget_ms, 0); /* none: no check */
	steer_config_free(cfg);
}

static void test_failover_budget_errors(void **state)
{
	(void)state;
	put("monitors/fast.json", "{\"name\": \"fast\", \"type\": \"tcp\", \"port\": 80, "
				  "\"interval\": 5, \"timeout\": 2, \"retries\": 0}\n");
	put("pools/quick.json", "{\"name\": \"quick\", \"monitor\": \"fast\", "
				"\"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.9\"}]}\n");
	put_main("{\"name\": \"a\", \"default_pools\": [\"web\"], \"failover_budget\": \"30s\"},\n"
		 "    {\"name\": \"b\", \"default_pools\": [\"web\"], \"failover_budget\": 50},\n"
		 "    {\"name\": \"c\", \"default_pools\": [\"quick\"], \"ttl\": 60, "
		 "\"failover_budget\": \"1m\"},\n"
		 "    {\"name\": \"d\", \"default_pools\": [\"backup\", \"web\"], "
		 "\"failover_budget\": 3600},\n"
		 "    {\"name\": \"e\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"30x\"},\n"
		 "    {\"name\": \"f\", \"default_pools\": [\"web\"], \"failover_budget\": 0},\n"
		 "    {\"name\": \"g\", \"default_pools\": [\"web\"], \"failover_budget\": "
		 "\"8d\"},\n"
		 "    {\"name\": \"h\", \"default_pools\": [\"web\"], \"failover_budget\": 1.5}",
		 "");
	EXPECT_ERRORS(
		"steerd.json:8:45: balancers[0].failover_budget: failover budget exceeded: ttl 30 "
		"s "
		"+ 10 s interval + 1 × 20 s between failed probes + 2 × 5 s timeouts = 70 s > 30 s "
		"budget (pool web): monitor http alone takes 40 s to detect a dead origin: keep "
		"(retries + 1) × timeout of monitor http below its interval (now 2 × 5 s ≥ 10 s: a "
		"hung probe skips the next tick), or lower its interval or consecutive_down",
		"steerd.json:9:45: balancers[1].failover_budget: failover budget exceeded: ttl 30 "
		"s "
		"+ 10 s interval + 1 × 20 s between failed probes + 2 × 5 s timeouts = 70 s > 50 s "
		"budget (pool web): lower ttl to 10 s, or detect sooner: keep (retries + 1) × "
		"timeout of monitor http below its interval (now 2 × 5 s ≥ 10 s: a hung probe "
		"skips "
		"the next tick), or lower its interval or consecutive_down",
		"steerd.json:10:58: balancers[2].failover_budget: failover budget exceeded: ttl 60 "
		"s "
		"+ 5 s interval + 1 × 5 s between failed probes + 2 s timeout = 72 s > 60 s budget "
		"(pool quick): lower ttl to 48 s, or detect sooner: lower the probe interval or "
		"consecutive_down of monitor fast",
		"steerd.json:11:55: balancers[3].failover_budget: failover budget exceeded: pool "
		"backup has no monitor, so a dead origin is never detected: give the pool a "
		"monitor",
		"steerd.json:12:64: balancers[4].failover_budget: must be a duration from 1 s to 7 "
		"d: "
		"30, \"30s\", \"5m\" or \"1h\"",
		"steerd.json:13:64: balancers[5].failover_budget: must be a duration from 1 s to 7 "
		"d: "
		"30, \"30s\", \"5m\" or \"1h\"",
		"steerd.json:14:64: balancers[6].failover_budget: must be a duration from 1 s to 7 "
		"d: "
		"30, \"30s\", \"5m\" or \"1h\"",
		"steerd.json:15:64: balancers[7].failover_budget: must be a duration from 1 s to 7 "
		"d: "
		"30, \"30s\", \"5m\" or \"1h\"");
}

/* ---- files that are not regular files ------------------------------------------------ */

/*
 * A FIFO among the config files used to block open() for ever (and SIGTERM with it): the
 * alarm turns such a hang into a failed test instead of a stuck run.
 */
static void expect_errors_bounded(const char *const *want, size_t n)
{
	alarm(10);
	expect_errors(want, n);
	alarm(0);
}

#define EXPECT_ERRORS_BOUNDED(...)                                                                 \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_errors_bounded(want_, sizeof(want_) / sizeof(want_[0]));                    \
	} while (0)

static void test_fifo_pool_file(void **state)
{
	(void)state;
	assert_int_equal(mkfifo("pools/evil.json", 0644), 0);
	assert_int_equal(mkdir("pools/dir.json", 0755), 0);
	EXPECT_ERRORS_BOUNDED("pools/dir.json: cannot read: not a regular file (a directory)",
			      "pools/evil.json: cannot read: not a regular file (a FIFO)");
}

static void test_fifo_main_file(void **state)
{
	(void)state;
	assert_int_equal(unlink("steerd.json"), 0);
	assert_int_equal(mkfifo("steerd.json", 0644), 0);
	EXPECT_ERRORS_BOUNDED("steerd.json: cannot read: not a regular file (a FIFO)");
}

/* zone_file is read by ldns and ca_file by curl, later: checked the same way at load. */
static void test_fifo_zone_file_and_ca_file(void **state)
{
	(void)state;
	put("steerd.json",
	    "{\n"
	    "  \"listen\": [\"127.0.0.1:5353\"],\n"
	    "  \"zone\": {\"name\": \"lb.example.test\", \"zone_file\": \"evil.zone\",\n"
	    "    \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": \"h.example.test\",\n"
	    "      \"serial\": 1, \"refresh\": 3600, \"retry\": 600, \"expire\": 604800,\n"
	    "      \"minimum\": 60, \"ttl\": 3600},\n"
	    "    \"ns\": [\"ns1.lb.example.test\"]}\n"
	    "}\n");
	put("monitors/http.json", "{\"name\": \"http\", \"type\": \"https\", \"ca_file\": "
				  "\"ca.pem\"}\n");
	assert_int_equal(mkfifo("evil.zone", 0644), 0);
	assert_int_equal(mkfifo("ca.pem", 0644), 0);
	EXPECT_ERRORS_BOUNDED("steerd.json:3:52: zone.zone_file: cannot read \"evil.zone\": not a "
			      "regular file (a FIFO)",
			      "monitors/http.json:1:46: ca_file: cannot read \"ca.pem\": not a "
			      "regular file (a FIFO)");
	assert_int_equal(unlink("evil.zone"), 0);
	EXPECT_ERRORS_BOUNDED("steerd.json:3:52: zone.zone_file: cannot read \"evil.zone\": No "
			      "such file or directory",
			      "monitors/http.json:1:46: ca_file: cannot read \"ca.pem\": not a "
			      "regular file (a FIFO)");
}

/* ---- large configurations ------------------------------------------------------------- */

/* pools/web.json with @p n origins, one per line from line 2 (origins[k] on line k + 2). */
static void put_big_pool(size_t n, size_t dup_of)
{
	size_t cap = 64 + n * 64, len = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	len += (size_t)snprintf(buf, cap, "{\"name\": \"web\", \"origins\": [\n");
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(buf + len, cap - len,
					"{\"name\": \"o%zu\", \"address\": \"10.%zu.%zu.%zu\"}%s\n",
					k == n - 1 ? dup_of : k, k >> 16, (k >> 8) & 255, k & 255,
					k == n - 1 ? "" : ",");
	snprintf(buf + len, cap - len, "]}\n");
	put("pools/web.json", buf);
	free(buf);
}

/* Duplicate checks and positions are hashed: one pool of 20,000 origins loads, and a
 * duplicate name at its end points back at the first one. */
static void test_large_pool(void **state)
{
	struct steer_config *cfg;

	(void)state;
	put_big_pool(20000, 19999);
	cfg = load_ok("steerd.json");
	assert_int_equal(pool(cfg, "web")->n_origins, 20000);
	assert_int_equal(cfg->n_origins, 20001);
	assert_string_equal(pool(cfg, "web")->origins[19999].name, "o19999");
	steer_config_free(cfg);
	put_big_pool(20000, 7);
	EXPECT_ERRORS("pools/web.json:20001:10: origins[19999].name: duplicate origin name \"o7\" "
		      "(also origins[7])");
}

/*
 * Plain files take the one-pass parser, files with a \u escape (or anything unusual) go
 * through jansson and a second scan: both give the same values and the same positions.
 */
static void test_parse_paths_agree(void **state)
{
	static const char fmt[] =
		"{\"name\": \"%s\", \"description\": \"%s\", \"weight\": 25e-1,\n"
		" \"origins\": [{\"name\": \"a\", \"address\": \"%s\", \"weight\": 0.5%s}]}\n";
	const struct steer_pool *w, *b;
	struct steer_config *cfg;
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf), fmt, "web", "plain", "192.0.2.1", ", \"wieght\": -0");
	put("pools/web.json", buf);
	snprintf(buf, sizeof(buf), fmt, "backup", "caf\\u00e9", "192.0.2.2", ", \"wieght\": -0");
	put("pools/backup.json", buf);
	EXPECT_ERRORS("pools/backup.json:2:67: origins[0].wieght: unknown key (did you mean "
		      "\"weight\"?)",
		      "pools/web.json:2:67: origins[0].wieght: unknown key (did you mean "
		      "\"weight\"?)");
	snprintf(buf, sizeof(buf), fmt, "web", "plain", "192.0.2.1", "");
	put("pools/web.json", buf);
	snprintf(buf, sizeof(buf), fmt, "backup", "caf\\u00e9", "192.0.2.2", "");
	put("pools/backup.json", buf);
	cfg = load_ok("steerd.json");
	w = pool(cfg, "web");
	b = pool(cfg, "backup");
	assert_string_equal(w->description, "plain");
	assert_string_equal(b->description, "caf\xc3\xa9");
	assert_true(w->weight == 2.5 && b->weight == 2.5);
	assert_true(w->origins[0].weight == 0.5 && b->origins[0].weight == 0.5);
	steer_config_free(cfg);
}

/* Numbers the one-pass parser leaves to jansson keep jansson's verdict. */
static void test_parse_numbers(void **state)
{
	(void)state;
	put("pools/n1.json", "{\"name\": \"n1\", \"max_answers\": 99999999999999999999,\n"
			     " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"}]}\n");
	put("pools/n2.json", "{\"name\": \"n2\", \"weight\": 1e999,\n"
			     " \"origins\": [{\"name\": \"a\", \"address\": \"::1\"}]}\n");
	EXPECT_ERRORS("pools/n1.json:1:31: invalid JSON: too big integer near "
		      "'99999999999999999999'",
		      "pools/n2.json:1:26: invalid JSON: real number overflow near '1e999'");
	put("pools/n1.json", "{\"name\": \"n1\", \"max_answers\": 08,\n"
			     " \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.1\"}]}\n");
	put("pools/n2.json", "{\"name\": \"n2\", \"minimum_origins\": 1.0,\n"
			     " \"origins\": [{\"name\": \"a\", \"address\": \"::1\"}]}\n");
	EXPECT_ERRORS("pools/n1.json:1:31: invalid JSON: invalid token near '0'",
		      "pools/n2.json:1:35: minimum_origins: must be an integer");
}

/* ---- identity and version: one TXT character-string each ----------------------------- */

/* steerd.json with `"identity": "<@p n_id x @p id>", "version": "<@p n_ver x @p ver>"`. */
static void put_identity(const char *id, size_t n_id, const char *ver, size_t n_ver)
{
	size_t cap = 64 + n_id * strlen(id) + n_ver * strlen(ver), len = 0;
	char *extra = malloc(cap);

	assert_non_null(extra);
	len += (size_t)snprintf(extra, cap, ",\n  \"identity\": \"");
	for (size_t i = 0; i < n_id; i++)
		len += (size_t)snprintf(extra + len, cap - len, "%s", id);
	len += (size_t)snprintf(extra + len, cap - len, "\",\n  \"version\": \"");
	for (size_t i = 0; i < n_ver; i++)
		len += (size_t)snprintf(extra + len, cap - len, "%s", ver);
	snprintf(extra + len, cap - len, "\"");
	put_main_long(extra);
	free(extra);
}

/*
 * A 70,000-character identity or version used to load and be cut to 255 bytes in
 * id.server, hostname.bind, NSID and version.bind answers: it is an error now, in bytes
 * (UTF-8 counts every byte).
 */
static void test_identity_version_limits(void **state)
{
	struct steer_config *cfg;

	(void)state;
	put_identity("x", 70000, "v", 70000);
	EXPECT_ERRORS("steerd.json:10:15: identity: must be at most 255 bytes (one DNS TXT "
		      "string), not 70000",
		      "steerd.json:11:14: version: must be at most 255 bytes (one DNS TXT string), "
		      "not 70000");
	put_identity("\xc3\xa9", 128, "v", 256);
	EXPECT_ERRORS("steerd.json:10:15: identity: must be at most 255 bytes (one DNS TXT "
		      "string), not 256",
		      "steerd.json:11:14: version: must be at most 255 bytes (one DNS TXT string), "
		      "not 256");
	put_identity("x", 255, "v", 255);
	cfg = load_ok("steerd.json");
	assert_int_equal(strlen(cfg->identity), 255);
	assert_int_equal(strlen(cfg->version), 255);
	steer_config_free(cfg);
}

/* ---- syntax errors first, without their knock-on errors -------------------------------- */

/*
 * A missing comma in pools/homelab.json used to print `pool "homelab" does not exist` for
 * every balancer naming it, before the cause. Files that do not parse come first, what
 * they would define (their file name) is not reported missing, and the likely fix is
 * named. Other errors still follow: "parnets" and the weight of parents.json.
 */
static void test_knock_on_errors(void **state)
{
	(void)state;
	assert_int_equal(chdir(STEER_SRC_DIR "/test/data/config/knockon"), 0);
	EXPECT_ERRORS("monitors/api-health.json:2:17: invalid JSON: string or '}' expected near "
		      "'}' (trailing comma?)",
		      "pools/homelab.json:4:14: invalid JSON: ']' expected near '{' (missing "
		      "comma?)",
		      "steerd.json:13:51: balancers[1].default_pools[1]: pool \"parnets\" does not "
		      "exist (did you mean \"parents\"?)",
		      "pools/parents.json:2:64: origins[0].weight: must be between 0 and 1");
}

/* The hints follow jansson's message and the text before the offending token. */
static void test_syntax_hints(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"{\"name\": \"n1\" \"origins\": []}",
		 "1:15: invalid JSON: '}' expected near '\"origins\"' (missing comma?)"},
		{"{\"name\": \"n1\", \"origins\": [1, ]}",
		 "1:31: invalid JSON: unexpected token near ']' (trailing comma?)"},
		{"{\"name\": }", "1:10: invalid JSON: unexpected token near '}' (missing value?)"},
		{"{\"name\" \"n1\"}",
		 "1:9: invalid JSON: ':' expected near '\"n1\"' (missing colon?)"},
		{"{name: \"n1\"}",
		 "1:2: invalid JSON: string or '}' expected near 'name' (keys need double quotes)"},
		{"{\"name\": 'n1'}",
		 "1:10: invalid JSON: invalid token near ''' (strings need double "
		 "quotes, not single ones)"},
		{"{\"enabled\": True}",
		 "1:13: invalid JSON: invalid token near 'True' (true, false "
		 "and null are lower case)"},
		{"{\"name\": n1}",
		 "1:10: invalid JSON: invalid token near 'n' (strings need double quotes)"},
		{"{\"name\": \"n1\"",
		 "1:14: invalid JSON: '}' expected near end of file (missing '}'?)"},
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("pools/n1.json", cases[i].text);
		snprintf(want, sizeof(want), "pools/n1.json:%s", cases[i].want);
		EXPECT_ERRORS(want);
	}
}

/* ---- log -------------------------------------------------------------------------------- */

static void test_log_settings(void **state)
{
	struct steer_config *cfg;

	(void)state;
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->log.level, STEER_LOG_INFO);
	assert_int_equal(cfg->log.format, STEER_LOG_TEXT);
	steer_config_free(cfg);
	put_main(base_balancer, ",\n  \"log\": {\"level\": \"debug\", \"format\": \"json\"}");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->log.level, STEER_LOG_DEBUG);
	assert_int_equal(cfg->log.format, STEER_LOG_JSON);
	steer_config_free(cfg);
	put_main(base_balancer, ",\n  \"log\": {\"level\": \"err\"}");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->log.level, STEER_LOG_ERR);
	assert_int_equal(cfg->log.format, STEER_LOG_TEXT);
	steer_config_free(cfg);
	put_main(base_balancer,
		 ",\n  \"log\": {\"level\": \"Debug\", \"format\": 1, \"levle\": \"warn\"}");
	EXPECT_ERRORS("steerd.json:10:20: log.level: must be one of \"debug\", \"info\", "
		      "\"notice\", \"warn\", \"err\"",
		      "steerd.json:10:39: log.format: must be a string",
		      "steerd.json:10:42: log.levle: unknown key (did you mean \"level\"?)");
	put_main(base_balancer, ",\n  \"log\": \"debug\"");
	EXPECT_ERRORS("steerd.json:10:10: log: must be an object");
}

/* ---- user, group ------------------------------------------------------------------------ */

static void test_user_settings(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct steer_config *cfg;

	(void)state;
	cfg = load_ok("steerd.json");
	assert_false(cfg->user.enabled);
	steer_config_free(cfg);
	if (pw == NULL)
		skip(); /* every Debian system has nobody; the errors below need no user */
	put_main(base_balancer, ",\n  \"user\": \"nobody\"");
	cfg = load_ok("steerd.json");
	assert_true(cfg->user.enabled);
	assert_string_equal(cfg->user.user, "nobody");
	assert_int_equal(cfg->user.uid, pw->pw_uid);
	assert_int_equal(cfg->user.gid, pw->pw_gid);
	steer_config_free(cfg);
}

static void test_user_errors(void **state)
{
	(void)state;
	put_main(base_balancer, ",\n  \"user\": \"no-such-user-42\"");
	EXPECT_ERRORS("steerd.json:10:11: user: no user \"no-such-user-42\" on this system");
	put_main(base_balancer, ",\n  \"user\": \"root\"");
	EXPECT_ERRORS(
		"steerd.json:10:11: user: \"root\" is uid 0 (root): name an unprivileged user");
	put_main(base_balancer, ",\n  \"user\": 7");
	EXPECT_ERRORS("steerd.json:10:11: user: must be a string");
	put_main(base_balancer, ",\n  \"group\": \"nogroup\"");
	EXPECT_ERRORS("steerd.json:10:12: group: needs \"user\" (the account steerd switches to)");
	put_main(base_balancer, ",\n  \"user\": \"\", \"group\": \"no-such-group-42\"");
	EXPECT_ERRORS("steerd.json:10:11: user: must be a name of 1 to 255 bytes",
		      "steerd.json:10:24: group: no group \"no-such-group-42\" on this system");
	put_main(base_balancer, ",\n  \"usr\": \"steer\"");
	EXPECT_ERRORS("steerd.json:10:3: usr: unknown key (did you mean \"user\"?)");
}

/* steer_log() with stderr caught in a file: the line it wrote, parsed (NULL: none). */
static json_t *logged(int prio, const char *msg)
{
	char text[8192];
	int saved = dup(STDERR_FILENO);
	FILE *f = fopen("log.txt", "w+");
	size_t n;

	assert_true(saved >= 0 && f != NULL);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	steer_log(prio, "test", "%s", msg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (n == 0)
		return NULL;
	assert_int_equal(text[n - 1], '\n');
	assert_null(strchr(text, '\n') + 1 < text + n ? strchr(text, '\n') : NULL); /* one line */
	return json_loads(text, 0, NULL);
}

static const char *field(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

/*
 * JSON lines: the message's key=value facts become fields (a quoted value unquoted; the
 * first of each name; never over time, level, source or msg), any byte stays valid JSON,
 * and a message too long for a line is cut but the line still parses.
 */
static void test_log_json_lines(void **state)
{
	char big[3000];
	json_t *doc;

	(void)state;
	steer_log_configure(STEER_LOG_INFO, STEER_LOG_JSON);
	doc = logged(STEER_LOG_WARN, "pool=web origin=a up->down reason=\"status 503 \\\"x\\\" "
				     "not in 2xx\" n=3 msg=hi level=x a.b-c=1 n=4 =z");
	assert_non_null(doc);
	assert_string_equal(field(doc, "level"), "warn");
	assert_string_equal(field(doc, "source"), "test");
	assert_string_equal(field(doc, "msg"), "pool=web origin=a up->down reason=\"status 503 "
					       "\\\"x\\\" not in 2xx\" n=3 msg=hi level=x a.b-c=1 "
					       "n=4 =z");
	assert_string_equal(field(doc, "pool"), "web");
	assert_string_equal(field(doc, "origin"), "a");
	assert_string_equal(field(doc, "reason"), "status 503 \"x\" not in 2xx");
	assert_string_equal(field(doc, "n"), "3");
	assert_string_equal(field(doc, "a.b-c"), "1");
	assert_int_equal(json_object_size(doc), 9);
	json_decref(doc);
	doc = logged(STEER_LOG_INFO, "tab\there \x01 bad \xff\xc3 ok \xc3\xa9 \"q\" k=\"open");
	assert_non_null(doc);
	assert_string_equal(
		field(doc, "msg"),
		"tab\there \x01 bad \xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9 \"q\" k=\"open");
	assert_string_equal(field(doc, "k"), "open");
	json_decref(doc);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[1] = '=';
	doc = logged(STEER_LOG_ERR, big);
	assert_non_null(doc);
	assert_int_equal(strlen(field(doc, "msg")), 1023);
	json_decref(doc);
	assert_null(logged(STEER_LOG_DEBUG, "k=v")); /* below the level */
	steer_log_force_level(STEER_LOG_DEBUG);
	steer_log_configure(STEER_LOG_ERR, STEER_LOG_JSON);
	doc = logged(STEER_LOG_DEBUG, "forced");
	assert_non_null(doc);
	json_decref(doc);
	steer_log_force_level(0);
	steer_log_configure(STEER_LOG_INFO, STEER_LOG_TEXT);
}

/* tcp: the first-query timeout (at most the idle timeout) and the per-source limit. */
static void test_tcp_limits(void **state)
{
	struct steer_config *cfg;

	(void)state;
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->tcp_query_timeout_ms, 2000);
	assert_int_equal(cfg->tcp_max_per_source, 16);
	steer_config_free(cfg);
	put_main(base_balancer, ",\n  \"tcp\": {\"query_timeout\": 5, \"max_per_source\": 0}");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->tcp_query_timeout_ms, 5000);
	assert_int_equal(cfg->tcp_max_per_source, 0);
	steer_config_free(cfg);
	/* a first query may not take longer than an idle connection may stay */
	put_main(base_balancer, ",\n  \"tcp\": {\"idle_timeout\": 1, \"query_timeout\": 5}");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->tcp_query_timeout_ms, 1000);
	steer_config_free(cfg);
	put_main(base_balancer, ",\n  \"tcp\": {\"query_timeout\": 0, \"max_per_source\": 65536,"
				"\n    \"query_timout\": 1}");
	EXPECT_ERRORS("steerd.json:10:28: tcp.query_timeout: must be between 1 and 60",
		      "steerd.json:10:49: tcp.max_per_source: must be between 0 and 65535",
		      "steerd.json:11:5: tcp.query_timout: unknown key (did you mean "
		      "\"query_timeout\"?)");
	put_main(base_balancer,
		 ",\n  \"tcp\": {\"query_timeout\": 61, \"max_per_source\": \"16\"}");
	EXPECT_ERRORS("steerd.json:10:28: tcp.query_timeout: must be between 1 and 60",
		      "steerd.json:10:50: tcp.max_per_source: must be an integer");
}

/* ---- DNS Cookies and response rate limiting (cfg_dns.c) ------------------------------ */

static void test_cookies_rrl_values(void **state)
{
	struct steer_config *cfg;
	const struct steer_prefix *w;

	(void)state;
	cfg = load_ok("steerd.json");
	assert_true(cfg->cookies_enabled); /* on by default */
	assert_false(cfg->rrl.enabled);    /* off without the section */
	steer_config_free(cfg);
	put_main(base_balancer, ",\n  \"cookies\": {\"enabled\": false}, \"rrl\": {}");
	cfg = load_ok("steerd.json");
	assert_false(cfg->cookies_enabled);
	assert_true(cfg->rrl.enabled);
	assert_int_equal(cfg->rrl.rate, 20);
	assert_int_equal(cfg->rrl.slip, 2);
	assert_int_equal(cfg->rrl.n_whitelist, 0);
	steer_config_free(cfg);
	put_main(base_balancer,
		 ",\n  \"rrl\": {\"rate\": 5, \"slip\": 0, \"whitelist\": [\"10.0.0.0/8\","
		 " \"2001:db8::/32\", \"192.0.2.7\", \"::1\", \"0.0.0.0/0\"]}");
	cfg = load_ok("steerd.json");
	assert_int_equal(cfg->rrl.rate, 5);
	assert_int_equal(cfg->rrl.slip, 0);
	assert_int_equal(cfg->rrl.n_whitelist, 5);
	w = cfg->rrl.whitelist;
	assert_int_equal(w[0].family, AF_INET);
	assert_int_equal(w[0].len, 8);
	assert_int_equal(w[0].addr[0], 10);
	assert_int_equal(w[1].family, AF_INET6);
	assert_int_equal(w[1].len, 32);
	assert_memory_equal(w[1].addr, "\x20\x01\x0d\xb8", 4);
	assert_int_equal(w[2].len, 32);
	assert_int_equal(w[3].len, 128);
	assert_int_equal(w[4].len, 0);
	steer_config_free(cfg);
}

static void test_cookies_rrl_errors(void **state)
{
	(void)state;
	put_main(base_balancer,
		 ",\n  \"cookies\": {\"enabled\": 1, \"enable\": true},\n"
		 "  \"rrl\": {\"rate\": 0, \"slip\": 101, \"burst\": 1, \"whitelist\": "
		 "[\"10.0.0.0/33\", \"10.0.0.1/8\", \"fe80::/129\", 5, \"x\", "
		 "\"10.0.0.0/\", \"\", \"2001:db8::1/64\"]}");
	EXPECT_ERRORS(
		"steerd.json:10:26: cookies.enabled: must be true or false",
		"steerd.json:10:29: cookies.enable: unknown key (did you mean \"enabled\"?)",
		"steerd.json:11:19: rrl.rate: must be between 1 and 1000000",
		"steerd.json:11:30: rrl.slip: must be between 0 and 100",
		"steerd.json:11:35: rrl.burst: unknown key",
		"steerd.json:11:61: rrl.whitelist[0]: must be \"IPv4/len\" (0-32) or \"IPv6/len\" "
		"(0-128), e.g. \"10.0.0.0/8\", \"2001:db8::/32\"",
		"steerd.json:11:76: rrl.whitelist[1]: \"10.0.0.1/8\" has bits set past its prefix "
		"length",
		"steerd.json:11:90: rrl.whitelist[2]: must be \"IPv4/len\" (0-32) or \"IPv6/len\" "
		"(0-128), e.g. \"10.0.0.0/8\", \"2001:db8::/32\"",
		"steerd.json:11:104: rrl.whitelist[3]: must be an address prefix string like "
		"\"10.0.0.0/8\"",
		"steerd.json:11:107: rrl.whitelist[4]: must be \"IPv4/len\" (0-32) or \"IPv6/len\" "
		"(0-128), e.g. \"10.0.0.0/8\", \"2001:db8::/32\"",
		"steerd.json:11:112: rrl.whitelist[5]: must be \"IPv4/len\" (0-32) or \"IPv6/len\" "
		"(0-128), e.g. \"10.0.0.0/8\", \"2001:db8::/32\"",
		"steerd.json:11:125: rrl.whitelist[6]: must be \"IPv4/len\" (0-32) or \"IPv6/len\" "
		"(0-128), e.g. \"10.0.0.0/8\", \"2001:db8::/32\"",
		"steerd.json:11:129: rrl.whitelist[7]: \"2001:db8::1/64\" has bits set past its "
		"prefix length");
	put_main(base_balancer, ",\n  \"cookies\": true, \"rrl\": {\"whitelist\": \"10.0.0.0/8\"}");
	EXPECT_ERRORS("steerd.json:10:14: cookies: must be an object",
		      "steerd.json:10:41: rrl.whitelist: must be an array of address prefixes");
}

static void test_rrl_whitelist_limit(void **state)
{
	char extra[4096] = ",\n  \"rrl\": {\"whitelist\": [";
	size_t n = strlen(extra);

	(void)state;
	for (int i = 0; i < STEER_RRL_WHITELIST_MAX + 1; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s\"10.%d.0.0/16\"",
				      i > 0 ? ", " : "", i);
	snprintf(extra + n, sizeof(extra) - n, "]}");
	put_main_long(extra);
	EXPECT_ERRORS("steerd.json:10:24: rrl.whitelist: has 65 prefixes; at most 64 are allowed");
}

/* ---- zone transfers (`transfer`) ------------------------------------------------------ */

static const char xfr_secret[] = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="; /* "secret-secret-secret" */

static void test_xfr_values(void **state)
{
	struct steer_config *cfg;
	const struct steer_xfr_conf *x;
	const struct sockaddr_in *sin;

	(void)state;
	put_bytes("sec1.key", "c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n", 29, 0600);
	put_bytes("sec2.key",
		  "key \"sec2\" {\n\talgorithm hmac-sha512;\n\tsecret \"AAECAw==\";\n};\n", 59,
		  0400);
	put_bytes("sec3.key", "key:\n  - id: sec3\n    algorithm: hmac-sha1\n    secret: AQID\n",
		  59, 0600);
	put_main(base_balancer,
		 ",\n \"transfer\": {\"allow\": [{\"from\": \"127.0.0.0/8\", \"key\": \"SEC1\"},"
		 " {\"from\": \"::1\"}, {\"from\": \"10.1.0.0/16\"}, {\"from\": \"0.0.0.0/0\", "
		 "\"key\": \"sec3.\"}],\n"
		 " \"notify\": [\"127.0.0.61:5300\", {\"to\": \"[::1]:5301\", \"key\": "
		 "\"sec2.example\"}],\n"
		 " \"keys\": [{\"name\": \"sec1\", \"algorithm\": \"hmac-sha256\", \"secret_file\":"
		 " \"sec1.key\"}, {\"name\": \"Sec2.Example.\", \"algorithm\": \"hmac-sha512\","
		 " \"secret_file\": \"sec2.key\"}, {\"name\": \"sec3\", \"algorithm\": "
		 "\"hmac-sha1\", \"secret_file\": \"sec3.key\"}],\n"
		 " \"serial_policy\": \"unixtime\", \"journal_versions\": 5}");
	cfg = load_ok("steerd.json");
	x = &cfg->xfr;
	assert_true(x->enabled);
	assert_int_equal(x->n_keys, 3);
	assert_string_equal(x->keys[0].name, "sec1.");
	assert_string_equal(x->keys[0].algorithm, "hmac-sha256");
	assert_string_equal(x->keys[0].secret_b64, xfr_secret);
	assert_string_equal(x->keys[1].name, "sec2.example.");
	assert_string_equal(x->keys[1].secret_b64, "AAECAw==");
	assert_string_equal(x->keys[2].algorithm, "hmac-sha1");
	assert_string_equal(x->keys[2].secret_b64, "AQID");
	assert_int_equal(x->n_allow, 4);
	assert_int_equal(x->allow[0].family, AF_INET);
	assert_int_equal(x->allow[0].prefix_len, 8);
	assert_int_equal(x->allow[0].addr[0], 127);
	assert_int_equal(x->allow[0].key, 0);
	assert_false(x->allow[0].keyless_private);
	assert_int_equal(x->allow[1].family, AF_INET6);
	assert_int_equal(x->allow[1].prefix_len, 128);
	assert_int_equal(x->allow[1].key, -1);
	assert_false(x->allow[1].keyless_private);
	assert_int_equal(x->allow[2].key, -1);
	assert_true(x->allow[2].keyless_private);
	assert_int_equal(x->allow[2].pos.line, 10);
	assert_int_equal(x->allow[3].key, -1 + 3);
	assert_int_equal(x->n_notify, 2);
	sin = (const struct sockaddr_in *)&x->notify[0].addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 5300);
	assert_int_equal(x->notify[0].addr_len, sizeof(struct sockaddr_in));
	assert_int_equal(x->notify[0].key, -1);
	assert_int_equal(x->notify[1].addr.ss_family, AF_INET6);
	assert_int_equal(x->notify[1].key, 1);
	assert_int_equal(x->serial_policy, STEER_SERIAL_UNIXTIME);
	assert_int_equal(x->journal_versions, 5);
	steer_config_free(cfg);
}

static void test_xfr_defaults(void **state)
{
	struct steer_config *cfg;

	(void)state;
	cfg = load_ok("steerd.json");
	assert_false(cfg->xfr.enabled);
	assert_int_equal(cfg->xfr.n_allow + cfg->xfr.n_notify + cfg->xfr.n_keys, 0);
	steer_config_free(cfg);
	put_main(base_balancer, ",\n \"transfer\": {}");
	cfg = load_ok("steerd.json");
	assert_true(cfg->xfr.enabled);
	assert_int_equal(cfg->xfr.serial_policy, STEER_SERIAL_INCREMENT);
	assert_int_equal(cfg->xfr.journal_versions, STEER_DEFAULT_JOURNAL_VERSIONS);
	steer_config_free(cfg);
}

static void test_xfr_errors(void **state)
{
	(void)state;
	put_bytes("sec1.key", xfr_secret, sizeof(xfr_secret) - 1, 0600);
	put_main(base_balancer,
		 ",\n \"transfer\": {\"allow\": [{\"from\": \"10.0.0.1/8\"}, {\"from\": "
		 "\"10.0.0.0/33\"}, {\"from\": \"192.0.2.0/24\"}, {\"from\": \"::/0\", \"key\": "
		 "\"sec2\"}, \"x\", {\"frm\": \"::1\"}],\n"
		 " \"notify\": [\"127.0.0.1\", {\"to\": \"localhost:53\"}, 5, {\"to\": "
		 "\"127.0.0.1:53\", \"key\": \"nope\"}],\n"
		 " \"keys\": [{\"name\": \"sec1\", \"algorithm\": \"hmac-md5\", \"secret_file\": "
		 "\"sec1.key\"}, {\"name\": \"SEC1.\", \"algorithm\": \"hmac-sha256\", "
		 "\"secret_file\": \"sec1.key\"}, {\"name\": \"a..b\", \"algo\": 1}],\n"
		 " \"serial_policy\": \"date\", \"journal_versions\": 0, \"ixfr\": true}");
	EXPECT_ERRORS(
		"steerd.json:10:34: transfer.allow[0].from: \"10.0.0.1/8\" has bits set past its "
		"prefix length",
		"steerd.json:10:58: transfer.allow[1].from: must be \"IPv4/len\" (0-32) or "
		"\"IPv6/len\" (0-128), e.g. \"192.0.2.0/24\", \"2001:db8::/32\", or an address "
		"alone",
		"steerd.json:10:83: transfer.allow[2].from: a transfer without TSIG is allowed "
		"only "
		"from loopback or private prefixes (127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, "
		"192.168.0.0/16, fc00::/7, link-local); add a \"key\"",
		"steerd.json:10:124: transfer.allow[3].key: key \"sec2\" does not exist in "
		"transfer.keys (did you mean \"sec1.\"?)",
		"steerd.json:10:133: transfer.allow[4]: must be an object like {\"from\": "
		"\"192.0.2.0/24\", \"key\": \"xfr-key\"}",
		"steerd.json:10:138: transfer.allow[5]: missing required key \"from\"",
		"steerd.json:10:139: transfer.allow[5].frm: unknown key (did you mean \"from\"?)",
		"steerd.json:11:13: transfer.notify[0]: must be \"IPv4:port\" or \"[IPv6]:port\", "
		"or an object {\"to\": \"IPv4:port\", \"key\": \"xfr-key\"}",
		"steerd.json:11:33: transfer.notify[1].to: must be \"IPv4:port\" or "
		"\"[IPv6]:port\", or an object {\"to\": \"IPv4:port\", \"key\": \"xfr-key\"}",
		"steerd.json:11:50: transfer.notify[2]: must be \"IPv4:port\" or \"[IPv6]:port\", "
		"or an object {\"to\": \"IPv4:port\", \"key\": \"xfr-key\"}",
		"steerd.json:11:83: transfer.notify[3].key: key \"nope\" does not exist in "
		"transfer.keys",
		"steerd.json:12:41: transfer.keys[0].algorithm: must be one of \"hmac-sha256\", "
		"\"hmac-sha512\", \"hmac-sha1\"",
		"steerd.json:12:90: transfer.keys[1].name: duplicate key \"sec1.\" (also "
		"transfer.keys[0])",
		"steerd.json:12:155: transfer.keys[2]: missing required key \"algorithm\"",
		"steerd.json:12:155: transfer.keys[2]: missing required key \"secret_file\"",
		"steerd.json:12:164: transfer.keys[2].name: must be a valid domain name, like "
		"\"xfr-key\"",
		"steerd.json:12:172: transfer.keys[2].algo: unknown key",
		"steerd.json:13:19: transfer.serial_policy: must be one of \"increment\", "
		"\"unixtime\"",
		"steerd.json:13:47: transfer.journal_versions: must be between 1 and 10000",
		"steerd.json:13:50: transfer.ixfr: unknown key");
	put_main(base_balancer, ",\n \"transfer\": {\"allow\": {}, \"keys\": 1}");
	EXPECT_ERRORS("steerd.json:10:24: transfer.allow: must be an array of at most 64 entries",
		      "steerd.json:10:36: transfer.keys: must be an array of at most 64 entries");
}

/* Load with one key whose secret_file is @p file and expect the one error @p msg. */
static void expect_secret_error(const char *file, const char *msg)
{
	char extra[512], want[512];

	snprintf(extra, sizeof(extra),
		 ",\n \"transfer\": {\"keys\": [{\"name\": \"k\", \"algorithm\": \"hmac-sha256\", "
		 "\"secret_file\": \"%s\"}]}",
		 file);
	put_main(base_balancer, extra);
	snprintf(want, sizeof(want), "steerd.json:10:81: transfer.keys[0].secret_file: %s", msg);
	EXPECT_ERRORS(want);
}

static void test_xfr_secret_file_errors(void **state)
{
	static const char *const bad[] = {
		"",
		"  \n",
		"c2VjcmV0LXNlY3JldC1zZWNyZXQ",
		"c2Vj!mV0",
		"secret \"c2VjcmV0\n",
		"key \"k\" { secret \"\"; };",
		"====",
	};
	const char *msg = "k.key must hold a base64 secret, alone or as `secret \"...\";` (BIND) "
			  "or `secret: ...` (Knot)";
	char big[STEER_XFR_SECRET_FILE_MAX + 1];

	(void)state;
	put_bytes("group.key", xfr_secret, sizeof(xfr_secret) - 1, 0640);
	expect_secret_error("group.key", "group.key is readable by other users; chmod 600 it");
	expect_secret_error("missing.key", "cannot read missing.key: No such file or directory");
	expect_secret_error("pools", "cannot read pools: not a regular file (a directory)");
	assert_int_equal(mkfifo("fifo.key", 0600), 0); /* no writer: a blocking open hangs */
	expect_secret_error("fifo.key", "cannot read fifo.key: not a regular file (a FIFO)");
	memset(big, 'A', sizeof(big));
	put_bytes("big.key", big, sizeof(big), 0600);
	expect_secret_error("big.key", "big.key is larger than 4096 bytes");
	expect_secret_error("", "must not be empty");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_bytes("k.key", bad[i], strlen(bad[i]), 0600);
		expect_secret_error("k.key", msg);
	}
	put_bytes("k.key", "c2Vj\0mV0", 8, 0600);
	expect_secret_error("k.key", msg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_repo_example_loads),
		T(test_repo_example_absolute_path),
		T(test_defaults),
		T(test_explicit_values),
		T(test_expected_codes),
		T(test_expected_codes_invalid),
		T(test_weight_out_of_range),
		T(test_unknown_key_suggestion),
		T(test_dangling_pool),
		T(test_dangling_monitor),
		T(test_duplicate_pool_name),
		T(test_duplicate_origin_name),
		T(test_balancer_outside_zone),
		T(test_json_syntax_error),
		T(test_json_truncated),
		T(test_zero_valid_origins),
		T(test_missing_and_wrong_types),
		T(test_main_file_errors),
		T(test_affinity_errors),
		T(test_balancer_field_errors),
		T(test_missing_main_keys),
		T(test_monitor_rules),
		T(test_pool_rules),
		T(test_hostname_origin),
		T(test_missing_pools_dir),
		T(test_missing_main_file),
		T(test_absolute_path_in_errors),
		T(test_multiple_errors_fixture),
		T(test_fixture_valid),
		T(test_errors_accumulate),
		T(test_api_values),
		T(test_api_defaults),
		T(test_api_token_missing),
		T(test_api_token_size_limit),
		T(test_api_errors),
		T(test_api_shape_errors),
		T(test_api_default_listen_conflict),
		T(test_api_token_file_errors),
		T(test_api_token_content_errors),
		T(test_failback_values),
		T(test_failback_errors),
		T(test_failover_worst_case),
		T(test_failover_worst_pools),
		T(test_failover_budget_values),
		T(test_failover_budget_errors),
		T(test_fifo_pool_file),
		T(test_fifo_main_file),
		T(test_fifo_zone_file_and_ca_file),
		T(test_large_pool),
		T(test_parse_paths_agree),
		T(test_parse_numbers),
		T(test_identity_version_limits),
		T(test_knock_on_errors),
		T(test_syntax_hints),
		T(test_user_settings),
		T(test_user_errors),
		T(test_log_settings),
		T(test_log_json_lines),
		T(test_tcp_limits),
		T(test_cookies_rrl_values),
		T(test_cookies_rrl_errors),
		T(test_rrl_whitelist_limit),
		T(test_xfr_values),
		T(test_xfr_defaults),
		T(test_xfr_errors),
		T(test_xfr_secret_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
