/*
 * The commands that change steerd: overrides (drain, undrain, force-down, force-up,
 * auto) of an origin or a whole pool, failback of a balancer, and reload.
 */
#include <string.h>

#include "core/clock.h"
#include "ctl.h"

#define REQ_PATH_MAX 2048 /* bytes of a request path */

/* The override state each command sets. */
static const char *override_state(const char *cmd)
{
	static const struct {
		const char *cmd, *state;
	} map[] = {{"drain", "drain"},
		   {"undrain", "auto"},
		   {"force-down", "down"},
		   {"force-up", "up"},
		   {"auto", "auto"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].cmd, cmd) == 0)
			return map[i].state;
	return NULL;
}

/* {"state": ..., "for": ..., "reason": ...} with the options given. */
static json_t *override_body(const struct ctl *ctl)
{
	json_t *body = json_pack("{s:s}", "state", override_state(ctl->cmd->name));

	if (body == NULL)
		return NULL;
	if ((ctl->for_ != NULL && json_object_set_new(body, "for", json_string(ctl->for_)) != 0) ||
	    (ctl->reason != NULL &&
	     json_object_set_new(body, "reason", json_string(ctl->reason)) != 0)) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* "homelab/lab-a: drain until 19:30:00 (kernel upgrade)" or "...: override cleared". */
static void print_override(const json_t *res, const char *pool, const char *origin)
{
	const json_t *ov = json_object_get(res, "override");
	char text[1024];

	pool = ctl_jstr(res, "pool", pool);
	origin = json_is_object(res) && json_object_get(res, "origin") != NULL
			 ? ctl_jstr(res, "origin", "")
			 : origin;
	ctl_put_clean(stdout, pool);
	if (origin[0] != '\0') {
		putchar('/');
		ctl_put_clean(stdout, origin);
	}
	printf(": ");
	if (json_is_object(ov))
		ctl_put_clean(stdout, ctl_fmt_override(steer_clock_wall_ms(), ov, true, text,
						       sizeof(text)));
	else
		printf("override cleared");
	putchar('\n');
}

int ctl_cmd_override(struct ctl *ctl)
{
	char pool[256], origin[256], path[REQ_PATH_MAX];
	size_t len;
	json_t *body = NULL, *res = NULL;
	int rc = ctl_split_target(ctl, ctl->args[0], true, pool, sizeof(pool), origin,
				  sizeof(origin));

	if (rc != 0)
		return rc;
	len = (size_t)snprintf(path, sizeof(path), "/v1/%s",
			       origin[0] != '\0' ? "origins" : "pools");
	len = ctl_path_add(path, sizeof(path), len, pool);
	if (origin[0] != '\0')
		len = ctl_path_add(path, sizeof(path), len, origin);
	if (ctl_path_add(path, sizeof(path), len, "override") == 0)
		return ctl_usage_error(ctl->cmd, "names too long");
	body = override_body(ctl);
	if (body == NULL) {
		fprintf(stderr, "steerctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	rc = ctl_call(ctl, "POST", path, body, &res);
	if (rc == 0 && ctl->json)
		rc = ctl_print_json(res);
	else if (rc == 0)
		print_override(res, pool, origin);
	json_decref(body);
	json_decref(res);
	return rc;
}

int ctl_cmd_failback(struct ctl *ctl)
{
	char path[REQ_PATH_MAX] = "/v1/balancers";
	size_t len = ctl_path_add(path, sizeof(path), strlen(path), ctl->args[0]);
	json_t *res = NULL;
	int rc;

	if (ctl_path_add(path, sizeof(path), len, "failback") == 0)
		return ctl_usage_error(ctl->cmd, "name too long");
	rc = ctl_call(ctl, "POST", path, NULL, &res);
	if (rc == 0 && ctl->json) {
		rc = ctl_print_json(res);
	} else if (rc == 0) {
		ctl_put_clean(stdout, ctl_jstr(res, "balancer", ctl->args[0]));
		printf(": failed back to pool ");
		ctl_put_clean(stdout, ctl_jstr(res, "pool", "?"));
		putchar('\n');
	}
	json_decref(res);
	return rc;
}

int ctl_cmd_reload(struct ctl *ctl)
{
	json_t *res = NULL;
	int rc = ctl_call(ctl, "POST", "/v1/reload", NULL, &res);

	if (rc != 0)
		return rc;
	if (ctl->json)
		rc = ctl_print_json(res);
	if (!ctl_jbool(res, "ok", true)) { /* a 2xx that still says no */
		fputs("steerctl: ", stderr);
		ctl_put_clean(stderr, ctl_jstr(res, "error", "the reload failed"));
		fputc('\n', stderr);
		rc = CTL_EXIT_REFUSED;
	} else if (!ctl->json) {
		ctl_put_clean(stdout, ctl_jstr(res, "message", "configuration reloaded"));
		putchar('\n');
	}
	json_decref(res);
	return rc;
}
