/*
 * `steerctl explain`, `steerctl version` and the offline `steerctl check`, which
 * validates a configuration with the same loader and zone builder as steerd.
 */
#include <string.h>

#include "config/config.h"
#include "ctl.h"
#include "zone/zone.h"

#define REQ_PATH_MAX 2048 /* bytes of a request path */

static void print_explain(const json_t *res)
{
	const json_t *answer = ctl_jarr(res, "answer"), *steps = ctl_jarr(res, "steps");
	const char *rcode = ctl_jstr(res, "rcode", "?");
	const char *balancer = ctl_jstr(res, "balancer", NULL);

	for (size_t i = 0; i < json_array_size(answer); i++) {
		ctl_put_clean(stdout, ctl_jitem(answer, i));
		putchar('\n');
	}
	if (json_array_size(answer) == 0 || strcmp(rcode, "NOERROR") != 0) {
		printf("status ");
		ctl_put_clean(stdout, rcode);
		fputs(json_array_size(answer) == 0 ? ", no records\n" : "\n", stdout);
	}
	if (json_array_size(steps) == 0)
		return;
	printf("why");
	if (balancer != NULL) {
		printf(" (balancer ");
		ctl_put_clean(stdout, balancer);
		printf(", policy ");
		ctl_put_clean(stdout, ctl_jstr(res, "policy", "?"));
		putchar(')');
	}
	printf(":\n");
	for (size_t i = 0; i < json_array_size(steps); i++) {
		printf("  - ");
		ctl_put_clean(stdout, ctl_jitem(steps, i));
		putchar('\n');
	}
}

int ctl_cmd_explain(struct ctl *ctl)
{
	char path[REQ_PATH_MAX] = "/v1/explain";
	size_t len = ctl_query_add(path, sizeof(path), strlen(path), "name", ctl->args[0]);
	json_t *res = NULL;
	int rc;

	len = ctl_query_add(path, sizeof(path), len, "type", ctl->type);
	if (ctl_query_add(path, sizeof(path), len, "client", ctl->client) == 0)
		return ctl_usage_error(ctl->cmd, "name too long");
	rc = ctl_call(ctl, "GET", path, NULL, &res);
	if (rc == 0 && ctl->json)
		rc = ctl_print_json(res);
	else if (rc == 0)
		print_explain(res);
	json_decref(res);
	return rc;
}

/* --json: {"client": {"name", "version"}, "server": the server's answer or null}. */
static int print_version_json(const json_t *server)
{
	json_t *all = json_pack("{s:{s:s,s:s},s:O?}", "client", "name", "steerctl", "version",
				STEER_VERSION, "server", server);
	int rc;

	if (all == NULL) {
		fprintf(stderr, "steerctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	rc = ctl_print_json(all);
	json_decref(all);
	return rc;
}

int ctl_cmd_version(struct ctl *ctl)
{
	struct ctl_resp resp;
	int rc = ctl_http(ctl, "GET", "/v1/version", NULL, &resp);
	bool answered = rc == 0 && resp.status >= 200 && resp.status < 300;

	if (ctl->json) {
		rc = print_version_json(answered ? resp.body : NULL);
	} else {
		printf("steerctl %s\n", STEER_VERSION);
		if (answered) {
			ctl_put_clean(stdout, ctl_jstr(resp.body, "name", "steerd"));
			putchar(' ');
			ctl_put_clean(stdout, ctl_jstr(resp.body, "version", "?"));
			printf(" at %s\n", ctl->api);
		}
		rc = CTL_EXIT_OK;
	}
	/* the client's version is the answer; the server's is a bonus, so no exit 1 or 3 */
	if (rc == 0 && !answered && resp.status != 0)
		fprintf(stderr, "steerctl: the API at %s answered HTTP %ld\n", ctl->api,
			resp.status);
	else if (rc == 0 && !answered)
		fprintf(stderr, "steerctl: cannot reach the API at %s (%s); no server version\n",
			ctl->api, resp.why);
	ctl_resp_fini(&resp);
	return rc;
}

/* Each balancer's failover worst case, and its failover_budget. */
static int print_worst(const struct steer_config *cfg)
{
	static const char *const titles[] = {"BALANCER", "WORST CASE", "BUDGET", "HOW"};
	struct ctl_table *t = ctl_table_new(4, titles);
	int rc = t == NULL ? STEER_ENOMEM : 0;

	for (size_t i = 0; i < cfg->n_balancers && rc == 0; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];
		struct steer_failover_worst w;
		char worst[32] = "unbounded", budget[32] = "-", how[512];
		const char *cells[4] = {b->name, worst, budget, how};

		steer_config_failover_worst(b, &w);
		if (w.bounded)
			snprintf(worst, sizeof(worst), "%llu s",
				 (unsigned long long)(w.total_ms / 1000));
		if (b->failover_budget_ms != 0)
			snprintf(budget, sizeof(budget), "%u s", b->failover_budget_ms / 1000);
		steer_config_failover_text(&w, how, sizeof(how));
		if (w.bounded && w.pool != NULL)
			snprintf(how + strlen(how), sizeof(how) - strlen(how), " (pool %s)",
				 w.pool->name);
		rc = ctl_table_add(t, cells);
	}
	if (rc == 0 && cfg->n_balancers > 0) {
		printf("\nhow long clients can be sent to a dead site, at worst:\n");
		ctl_table_print(t, stdout, 2);
	}
	ctl_table_free(t);
	return rc;
}

int ctl_cmd_check(struct ctl *ctl)
{
	const char *path = ctl->config != NULL ? ctl->config : CTL_DEFAULT_CONFIG;
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	char line[1024];
	int rc = steer_config_load(path, &cfg, &errs);

	if (rc == 0)
		rc = steer_zone_new(cfg, &zone, &errs);
	for (size_t i = 0; i < errs.n && i < errs.cap; i++)
		fprintf(stderr, "%s\n", steer_err_format(&errs.v[i], line, sizeof(line)));
	if (rc == 0) {
		printf("configuration ok: zone %s, %zu balancers, %zu pools, %zu origins\n",
		       cfg->zone.name, cfg->n_balancers, cfg->n_pools, cfg->n_origins);
		if (print_worst(cfg) != 0)
			fprintf(stderr, "steerctl: out of memory\n");
	} else if (errs.n == 0)
		fprintf(stderr, "steerctl: %s: %s\n", path, steer_strerror(rc));
	else
		fprintf(stderr, "steerctl: %zu error%s in the configuration\n", errs.n,
			errs.n == 1 ? "" : "s");
	steer_errs_fini(&errs);
	steer_zone_free(zone);
	steer_config_free(cfg);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
}
