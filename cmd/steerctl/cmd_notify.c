/*
 * `steerctl notify test [NAME]`: POST /v1/notify/test, which queues a test event through
 * the outbox and waits (bounded) for each target's delivery; one line per target.
 */
#include "cmd_notify.h"

#include <string.h>

static void print_target(const json_t *t, int64_t id)
{
	bool ok = ctl_jbool(t, "delivered", false);

	ctl_put_clean(stdout, ctl_jstr(t, "name", "?"));
	printf(" (");
	ctl_put_clean(stdout, ctl_jstr(t, "type", "?"));
	if (ok) {
		printf("): test event %lld delivered\n", (long long)id);
		return;
	}
	printf("): test event %lld not delivered yet: ", (long long)id);
	ctl_put_clean(stdout, ctl_jstr(t, "error", "no answer"));
	printf(" (steerd keeps retrying)\n");
}

int ctl_cmd_notify(struct ctl *ctl)
{
	const char *name = ctl->n_args > 1 ? ctl->args[1] : NULL;
	json_t *body = NULL, *res = NULL, *targets;
	int rc;

	if (strcmp(ctl->args[0], "test") != 0)
		return ctl_usage_error(ctl->cmd,
				       "notify: unknown subcommand \"%s\" (expected test)",
				       ctl->args[0]);
	if (name != NULL) {
		body = json_pack("{s:s}", "name", name);
		if (body == NULL)
			return CTL_EXIT_REFUSED;
	}
	rc = ctl_call(ctl, "POST", "/v1/notify/test", body, &res);
	json_decref(body);
	if (rc == 0 && ctl->json)
		rc = ctl_print_json(res);
	else if (rc == 0) {
		targets = ctl_jarr(res, "targets");
		for (size_t i = 0; i < json_array_size(targets); i++)
			print_target(json_array_get(targets, i), ctl_jint(res, "id", 0));
	}
	if (rc == 0 && !ctl_jbool(res, "ok", false))
		rc = CTL_EXIT_REFUSED;
	json_decref(res);
	return rc;
}
