/*
 * `steerctl zone`: the zone as a secondary would transfer it now (GET /v1/zone), printed
 * as the zone file steerd serves.
 */
#include <stdio.h>

#include "ctl.h"

int ctl_cmd_zone(struct ctl *ctl)
{
	struct ctl_resp resp;
	json_t *body = NULL;
	int rc = ctl_http_text(ctl, "/v1/zone", &resp);

	if (rc == 0 && resp.text != NULL) {
		fwrite(resp.text, 1, resp.text_len, stdout);
		ctl_resp_fini(&resp);
		return CTL_EXIT_OK;
	}
	ctl_resp_fini(&resp);
	/* no zone came: ask again the common way, which reports the failure as every other
	 * command does (no server, no token, "transfers not configured") */
	rc = ctl_call(ctl, "GET", "/v1/zone", NULL, &body);
	if (rc == CTL_EXIT_OK) {
		fprintf(stderr, "steerctl: the API answered JSON, not a zone file\n");
		rc = CTL_EXIT_REFUSED;
	}
	json_decref(body);
	return rc;
}
