/*
 * `steerctl history POOL/ORIGIN` and `steerctl events`: the probe log of one origin
 * and the log of transitions and overrides, newest first, as tables.
 */
#include <inttypes.h>
#include <string.h>

#include "core/clock.h"
#include "ctl.h"

#define CELL         512  /* bytes of a formatted cell */
#define REQ_PATH_MAX 2048 /* bytes of a request path */

/* Print @p rows (a JSON array) with @p add_row, or @p empty when there is none. */
static int print_rows(const json_t *rows, size_t n_cols, const char *const *titles,
		      int (*add_row)(struct ctl_table *t, const json_t *row, int64_t now_ms),
		      const char *empty)
{
	struct ctl_table *t = ctl_table_new(n_cols, titles);
	int64_t now_ms = steer_clock_wall_ms();
	int rc = t == NULL ? STEER_ENOMEM : 0;

	for (size_t i = 0; i < json_array_size(rows) && rc == 0; i++)
		rc = add_row(t, json_array_get(rows, i), now_ms);
	if (rc == 0 && json_array_size(rows) > 0)
		ctl_table_print(t, stdout, 0);
	else if (rc == 0) {
		ctl_put_clean(stdout, empty);
		putchar('\n');
	}
	ctl_table_free(t);
	if (rc != 0) {
		fprintf(stderr, "steerctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	return CTL_EXIT_OK;
}

static int add_probe(struct ctl_table *t, const json_t *p, int64_t now_ms)
{
	int64_t code = ctl_jint(p, "http_status", 0);
	char when[32], rtt[32], status[24];
	const char *cells[6];

	snprintf(rtt, sizeof(rtt), "%" PRId64 " ms", ctl_jint(p, "rtt_ms", 0));
	if (code > 0)
		snprintf(status, sizeof(status), "%" PRId64, code);
	else
		memcpy(status, "-", 2);
	cells[0] = ctl_fmt_clock(now_ms, ctl_jint(p, "time_ms", 0), true, when, sizeof(when));
	cells[1] = ctl_jbool(p, "ok", false) ? "ok" : "fail";
	cells[2] = rtt;
	cells[3] = status;
	cells[4] = ctl_jstr(p, "address", "-");
	cells[5] = ctl_jstr(p, "reason", "-");
	return ctl_table_add(t, cells);
}

/* "?since=1h&limit=20" for the options given; 0 when it does not fit. */
static size_t add_window(const struct ctl *ctl, char *path, size_t size, size_t len)
{
	len = ctl_query_add(path, size, len, "since", ctl->since);
	return ctl_query_add(path, size, len, "limit", ctl->limit);
}

int ctl_cmd_history(struct ctl *ctl)
{
	static const char *const titles[] = {"TIME", "RESULT", "RTT", "HTTP", "ADDRESS", "REASON"};
	char pool[256], origin[256], path[REQ_PATH_MAX] = "/v1/origins", empty[600];
	size_t len = strlen(path);
	json_t *res;
	int rc = ctl_split_target(ctl, ctl->args[0], false, pool, sizeof(pool), origin,
				  sizeof(origin));

	if (rc != 0)
		return rc;
	len = ctl_path_add(path, sizeof(path), len, pool);
	len = ctl_path_add(path, sizeof(path), len, origin);
	len = ctl_path_add(path, sizeof(path), len, "history");
	if (add_window(ctl, path, sizeof(path), len) == 0)
		return ctl_usage_error(ctl->cmd, "arguments too long");
	rc = ctl_call(ctl, "GET", path, NULL, &res);
	if (rc != 0)
		return rc;
	snprintf(empty, sizeof(empty), "%s/%s: no probes%s%s", pool, origin,
		 ctl->since != NULL ? " since " : "", ctl->since != NULL ? ctl->since : "");
	rc = ctl->json ? ctl_print_json(res)
		       : print_rows(ctl_jarr(res, "probes"), 6, titles, add_probe, empty);
	json_decref(res);
	return rc;
}

/* The subject of an event: "api", "homelab" or "homelab/lab-a". */
static const char *event_subject(const json_t *e, char *buf, size_t size)
{
	const char *kind = ctl_jstr(e, "kind", "");
	const char *origin = ctl_jstr(e, "origin", NULL);

	if (strcmp(kind, "balancer") == 0)
		return ctl_jstr(e, "balancer", "?");
	snprintf(buf, size, "%s%s%s", ctl_jstr(e, "pool", "?"), origin != NULL ? "/" : "",
		 origin != NULL ? origin : "");
	return buf;
}

static int add_event(struct ctl_table *t, const json_t *e, int64_t now_ms)
{
	int64_t until = ctl_jint(e, "until_ms", 0);
	char when[32], subject[CELL], change[CELL], until_text[40] = "";
	const char *cells[6], *from;

	if (until > 0) {
		memcpy(until_text, " until ", 8);
		ctl_fmt_clock(now_ms, until, false, until_text + 7, sizeof(until_text) - 7);
	}
	from = ctl_jstr(e, "from", NULL);
	snprintf(change, sizeof(change), "%s%s%s%s", from != NULL ? from : "",
		 from != NULL ? " -> " : "", ctl_jstr(e, "to", "?"), until_text);
	cells[0] = ctl_fmt_clock(now_ms, ctl_jint(e, "time_ms", 0), true, when, sizeof(when));
	cells[1] = ctl_jstr(e, "kind", "?");
	cells[2] = event_subject(e, subject, sizeof(subject));
	cells[3] = change;
	cells[4] = ctl_jstr(e, "source", "-");
	cells[5] = ctl_jstr(e, "reason", "-");
	return ctl_table_add(t, cells);
}

int ctl_cmd_events(struct ctl *ctl)
{
	static const char *const titles[] = {"TIME", "KIND", "WHAT", "CHANGE", "SOURCE", "REASON"};
	char path[REQ_PATH_MAX] = "/v1/events";
	json_t *res;
	int rc;

	if (add_window(ctl, path, sizeof(path), strlen(path)) == 0)
		return ctl_usage_error(ctl->cmd, "arguments too long");
	rc = ctl_call(ctl, "GET", path, NULL, &res);
	if (rc != 0)
		return rc;
	rc = ctl->json ? ctl_print_json(res)
		       : print_rows(ctl_jarr(res, "events"), 6, titles, add_event, "no events");
	json_decref(res);
	return rc;
}
