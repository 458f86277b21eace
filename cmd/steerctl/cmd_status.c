/*
 * `steerctl status`: GET /v1/status as a balancer table (with a line under each
 * balancer whose failback is pending), then one header line and one origin table per
 * pool. Ages are measured against the server's now_ms, so a skewed clock here does not
 * show "-3m ago".
 */
#include <inttypes.h>
#include <string.h>

#include "core/clock.h"
#include "ctl.h"

#define CELL 512 /* bytes of a formatted cell */

/* "70 s", "70 s (budget 90 s)", "unbounded": how long clients can be sent to a dead site. */
static const char *fmt_worst(const json_t *b, char *buf, size_t size)
{
	const json_t *worst = json_object_get(b, "worst_case_failover_s");
	const json_t *budget = json_object_get(b, "failover_budget_s");
	int n = 0;

	if (json_is_integer(worst))
		n = snprintf(buf, size, "%" PRId64 " s", (int64_t)json_integer_value(worst));
	else
		n = snprintf(buf, size, "%s", json_is_null(worst) ? "unbounded" : "-");
	if (json_is_integer(budget) && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (budget %" PRId64 " s)",
			 (int64_t)json_integer_value(budget));
	return buf;
}

static int add_balancer(struct ctl_table *t, const json_t *b, int64_t now_ms)
{
	const json_t *pending = json_object_get(b, "failback_pending");
	char ttl[24], since[32], worst[48], line[CELL];
	const char *cells[6];
	int rc;

	snprintf(ttl, sizeof(ttl), "%" PRId64, ctl_jint(b, "ttl", 0));
	cells[0] = ctl_jstr(b, "name", "?");
	cells[1] = ctl_jstr(b, "pool", "-");
	cells[2] = ctl_jstr(b, "reason", "-");
	cells[3] = ttl;
	cells[4] = ctl_fmt_age(now_ms, ctl_jint(b, "since_ms", 0), since, sizeof(since));
	cells[5] = fmt_worst(b, worst, sizeof(worst));
	rc = ctl_table_add(t, cells);
	if (rc != 0 || !json_is_object(pending))
		return rc;
	snprintf(line, sizeof(line), "  failback pending: %s",
		 ctl_jstr(pending, "text", ctl_jstr(pending, "pool", "?")));
	return ctl_table_add_line(t, line);
}

static int print_balancers(const json_t *st, int64_t now_ms)
{
	static const char *const titles[] = {"NAME", "POOL",  "REASON",
					     "TTL",  "SINCE", "WORST CASE"};
	const json_t *balancers = ctl_jarr(st, "balancers");
	struct ctl_table *t = ctl_table_new(6, titles);
	int rc = t == NULL ? STEER_ENOMEM : 0;

	for (size_t i = 0; i < json_array_size(balancers) && rc == 0; i++)
		rc = add_balancer(t, json_array_get(balancers, i), now_ms);
	if (rc == 0 && json_array_size(balancers) > 0)
		ctl_table_print(t, stdout, 0);
	else if (rc == 0)
		printf("no balancers\n");
	ctl_table_free(t);
	return rc;
}

/* "ok 3 ms 200", "fail: connect refused", "-" before the first probe. */
static const char *fmt_probe(const json_t *p, char *buf, size_t size)
{
	int64_t code = ctl_jint(p, "http_status", 0);
	char status[24] = "";

	if (!json_is_object(p))
		return "-";
	if (!ctl_jbool(p, "ok", false)) {
		snprintf(buf, size, "fail: %s", ctl_jstr(p, "reason", "?"));
		return buf;
	}
	if (code > 0)
		snprintf(status, sizeof(status), " %" PRId64, code);
	snprintf(buf, size, "ok %" PRId64 " ms%s", ctl_jint(p, "rtt_ms", 0), status);
	return buf;
}

static int add_origin(struct ctl_table *t, const json_t *o, int64_t now_ms)
{
	char since[32], ov[CELL], probe[CELL];
	const char *cells[6];

	cells[0] = ctl_jstr(o, "name", "?");
	cells[1] = ctl_jstr(o, "address", "-");
	cells[2] = ctl_jbool(o, "enabled", true) ? ctl_jstr(o, "state", "?") : "disabled";
	cells[3] = ctl_fmt_age(now_ms, ctl_jint(o, "since_ms", 0), since, sizeof(since));
	cells[4] = ctl_fmt_override(now_ms, json_object_get(o, "override"), false, ov, sizeof(ov));
	cells[5] = fmt_probe(json_object_get(o, "last_probe"), probe, sizeof(probe));
	return ctl_table_add(t, cells);
}

/* "pool homelab: UNHEALTHY since 3m ago, 0/3 up, min 1, override down (maintenance)" */
static void print_pool_header(const json_t *p, int64_t now_ms)
{
	const json_t *ov = json_object_get(p, "override");
	int64_t since_ms = ctl_jint(p, "since_ms", 0);
	char since[48] = "", text[CELL];

	if (since_ms > 0) {
		memcpy(since, " since ", 8);
		ctl_fmt_age(now_ms, since_ms, since + 7, sizeof(since) - 7);
	}
	printf("pool ");
	ctl_put_clean(stdout, ctl_jstr(p, "name", "?"));
	printf(": %s%s, %" PRId64 "/%" PRId64 " up, min %" PRId64,
	       ctl_jbool(p, "healthy", false) ? "healthy" : "UNHEALTHY", since,
	       ctl_jint(p, "healthy_origins", 0), ctl_jint(p, "origins_total", 0),
	       ctl_jint(p, "minimum_origins", 0));
	if (!ctl_jbool(p, "enabled", true))
		printf(", disabled");
	if (ctl_jstr(p, "monitor", NULL) == NULL)
		printf(", not monitored");
	if (json_is_object(ov)) {
		printf(", override ");
		ctl_put_clean(stdout, ctl_fmt_override(now_ms, ov, false, text, sizeof(text)));
	}
	putchar('\n');
}

static int print_pool(const json_t *p, int64_t now_ms)
{
	static const char *const titles[] = {"ORIGIN", "ADDRESS",  "STATE",
					     "SINCE",  "OVERRIDE", "LAST PROBE"};
	const json_t *origins = ctl_jarr(p, "origins");
	struct ctl_table *t = ctl_table_new(6, titles);
	int rc = t == NULL ? STEER_ENOMEM : 0;

	for (size_t i = 0; i < json_array_size(origins) && rc == 0; i++)
		rc = add_origin(t, json_array_get(origins, i), now_ms);
	if (rc == 0) {
		printf("\n");
		print_pool_header(p, now_ms);
		if (json_array_size(origins) > 0)
			ctl_table_print(t, stdout, 2);
		else
			printf("  no origins\n");
	}
	ctl_table_free(t);
	return rc;
}

/* The "server" lines: uptime and reloads, listeners and TCP limits, the other settings,
 * and what only a restart would apply. Older servers send no "server": nothing printed. */
static void print_server(const json_t *srv, int64_t now_ms)
{
	const json_t *tcp = json_object_get(srv, "tcp");
	const json_t *rrl = json_object_get(srv, "rrl");
	const json_t *xfr = json_object_get(srv, "transfer");
	const json_t *log = json_object_get(srv, "log");
	const json_t *listen = ctl_jarr(srv, "listen");
	const json_t *restart = ctl_jarr(srv, "restart_needed");
	char up[32], loaded[32];

	if (!json_is_object(srv))
		return;
	ctl_fmt_age(now_ms, ctl_jint(srv, "started_ms", 0), up, sizeof(up));
	ctl_fmt_age(now_ms, ctl_jint(srv, "config_loaded_ms", 0), loaded, sizeof(loaded));
	printf("started %s, config loaded %s, %lld reload%s (%lld failed)\ndns", up, loaded,
	       (long long)ctl_jint(srv, "reloads", 0), ctl_jint(srv, "reloads", 0) == 1 ? "" : "s",
	       (long long)ctl_jint(srv, "reloads_failed", 0));
	for (size_t i = 0; i < json_array_size(listen); i++) {
		putchar(' ');
		ctl_put_clean(stdout, ctl_jitem(listen, i));
	}
	printf(", %lld UDP workers; tcp %lld clients, %lld per source, idle %lld s, first query "
	       "%lld s\n",
	       (long long)ctl_jint(srv, "workers", 0), (long long)ctl_jint(tcp, "max_clients", 0),
	       (long long)ctl_jint(tcp, "max_per_source", 0),
	       (long long)ctl_jint(tcp, "idle_timeout_s", 0),
	       (long long)ctl_jint(tcp, "query_timeout_s", 0));
	printf("cookies %s; rrl ", ctl_jbool(srv, "cookies", false) ? "on" : "off");
	if (json_is_object(rrl))
		printf("%lld/s slip %lld", (long long)ctl_jint(rrl, "rate", 0),
		       (long long)ctl_jint(rrl, "slip", 0));
	else
		printf("off");
	printf("; log ");
	ctl_put_clean(stdout, ctl_jstr(log, "level", "?"));
	putchar(' ');
	ctl_put_clean(stdout, ctl_jstr(log, "format", "?"));
	printf("; transfer ");
	if (json_is_object(xfr))
		printf("serial %lld, %lld allowed, %lld to notify\n",
		       (long long)ctl_jint(xfr, "serial", 0), (long long)ctl_jint(xfr, "allow", 0),
		       (long long)ctl_jint(xfr, "notify", 0));
	else
		printf("off\n");
	if (json_array_size(restart) > 0) {
		printf("restart steerd to apply:");
		for (size_t i = 0; i < json_array_size(restart); i++) {
			putchar(' ');
			ctl_put_clean(stdout, ctl_jitem(restart, i));
		}
		putchar('\n');
	}
}

static int print_status(const json_t *st)
{
	int64_t now_ms = ctl_jint(st, "now_ms", steer_clock_wall_ms());
	const json_t *pools = ctl_jarr(st, "pools");
	int rc;

	printf("zone ");
	ctl_put_clean(stdout, ctl_jstr(st, "zone", "?"));
	printf(", steerd ");
	ctl_put_clean(stdout, ctl_jstr(st, "version", "?"));
	printf("\n");
	print_server(json_object_get(st, "server"), now_ms);
	printf("\n");
	rc = print_balancers(st, now_ms);
	for (size_t i = 0; i < json_array_size(pools) && rc == 0; i++)
		rc = print_pool(json_array_get(pools, i), now_ms);
	if (rc != 0) {
		fprintf(stderr, "steerctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_status(struct ctl *ctl)
{
	json_t *st;
	int rc = ctl_call(ctl, "GET", "/v1/status", NULL, &st);

	if (rc != 0)
		return rc;
	rc = ctl->json ? ctl_print_json(st) : print_status(st);
	json_decref(st);
	return rc;
}
