/*
 * GET /v1/origins/{pool}/{origin}/history and GET /v1/events: the since/limit parameters,
 * the store reader (opened on first use, on the API thread) and the JSON rows. Text from
 * the database is not trusted to be UTF-8: invalid bytes become '?'.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "core/clock.h"
#define STEER_LOG_SRC "api"
#include "core/log.h"
#include "store/reader.h"

/* A JSON string of @p s (null for NULL); invalid UTF-8 bytes become '?'. */
static json_t *str(const char *s)
{
	json_t *j;
	char *copy;
	size_t len;

	if (s == NULL)
		return json_null();
	len = strlen(s);
	if (api_utf8_valid(s, len))
		return json_stringn(s, len);
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

static bool parse_since(const char *v, int64_t *since_ms)
{
	uint64_t n, mult;

	if (v == NULL) {
		*since_ms = INT64_MIN;
		return true;
	}
	if (api_parse_amount(v, &n, &mult) < 0)
		return false;
	/* at most 10 digits: n * 86400 * 1000 stays far below INT64_MAX */
	*since_ms =
		mult == 0 ? (int64_t)n * 1000 : steer_clock_wall_ms() - (int64_t)(n * mult) * 1000;
	return true;
}

static bool parse_limit(const char *v, uint32_t *limit)
{
	uint64_t n, mult;

	if (v == NULL) {
		*limit = API_LIMIT_DFLT;
		return true;
	}
	if (api_parse_amount(v, &n, &mult) < 0 || mult != 0 || n < 1 || n > API_LIMIT_MAX)
		return false;
	*limit = (uint32_t)n;
	return true;
}

static bool bounds(const struct api_req *req, int64_t *since_ms, uint32_t *limit,
		   struct api_resp *resp)
{
	if (!parse_since(api_param(req, "since"), since_ms)) {
		api_fail_resp(resp, 400,
			      "since: expected a duration ago (90s, 30m, 1h, 2d) or a "
			      "Unix time in seconds");
		return false;
	}
	if (!parse_limit(api_param(req, "limit"), limit)) {
		api_fail_resp(resp, 400, "limit: expected an integer from 1 to %d", API_LIMIT_MAX);
		return false;
	}
	return true;
}

/* The reader, opened on first use. @return NULL when there is no database (or no memory). */
static struct steer_store_reader *reader(struct steer_api *api)
{
	if (api->reader == NULL && api->state_path != NULL &&
	    steer_store_reader_open(api->state_path, &api->reader, NULL) < 0)
		api->reader = NULL;
	return api->reader;
}

/* Map the reader's result: 0 and up = rows; fill an error response otherwise. */
static bool read_ok(int rc, const struct steer_err *err, struct api_resp *resp)
{
	if (rc >= 0)
		return true;
	if (rc == STEER_ENOMEM) {
		api_fail_resp(resp, 500, "out of memory");
		return false;
	}
	log_debug("history read failed: %s", err->msg);
	api_fail_resp(resp, 500, "cannot read the history database: %s", err->msg);
	return false;
}

static int add_probe(void *arg, const struct steer_store_probe_row *row)
{
	json_t *o = json_pack("{s:I, s:o, s:b, s:I, s:i, s:o}", "time_ms", (json_int_t)row->time_ms,
			      "address", str(row->address), "ok", row->ok, "rtt_ms",
			      (json_int_t)row->rtt_ms, "http_status", row->http_status, "reason",
			      str(row->reason));

	return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : STEER_ENOMEM;
}

/* The query of one list endpoint: fills @p list from the reader (never NULL). */
typedef int read_fn(struct steer_store_reader *r, const struct api_req *req, int64_t since_ms,
		    uint32_t limit, json_t *list, struct steer_err *err);

/* A list endpoint: parse since/limit, read, answer 200 with {@p key: list} (and @p extra's
 * keys), or the error. */
static void answer_list(struct steer_api *api, const struct api_req *req, struct api_resp *resp,
			read_fn *fn, const char *key, json_t *extra)
{
	struct steer_store_reader *r = reader(api);
	struct steer_err err = {0};
	json_t *list = json_array();
	int64_t since_ms;
	uint32_t limit;
	int rc = 0;

	if (list == NULL || extra == NULL) {
		api_fail_resp(resp, 500, "out of memory");
		goto out;
	}
	if (!bounds(req, &since_ms, &limit, resp))
		goto out;
	if (r != NULL)
		rc = fn(r, req, since_ms, limit, list, &err);
	if (!read_ok(rc, &err, resp))
		goto out;
	if (json_object_set(extra, key, list) < 0) {
		api_fail_resp(resp, 500, "out of memory");
		goto out;
	}
	resp->status = 200;
	resp->body = extra;
	extra = NULL;
out:
	json_decref(list);
	json_decref(extra);
}

static int read_probes(struct steer_store_reader *r, const struct api_req *req, int64_t since_ms,
		       uint32_t limit, json_t *list, struct steer_err *err)
{
	return steer_store_reader_probes(r, req->seg[2], req->seg[3], since_ms, limit, add_probe,
					 list, err);
}

void api_history(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	answer_list(api, req, resp, read_probes, "probes",
		    json_pack("{s:o, s:o}", "pool", str(req->seg[2]), "origin", str(req->seg[3])));
}

static const char *const kind_name[] = {"origin", "pool", "balancer", "override"};

static int add_event(void *arg, const struct steer_store_event_row *row)
{
	json_t *o =
		json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "time_ms",
			  (json_int_t)row->time_ms, "kind", kind_name[row->kind], "balancer",
			  str(row->balancer), "pool", str(row->pool), "origin", str(row->origin),
			  "address", str(row->address), "from", str(row->from), "to", str(row->to),
			  "reason", str(row->reason), "until_ms",
			  row->has_until ? json_integer((json_int_t)row->until_ms) : json_null(),
			  "source", str(row->source));

	return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : STEER_ENOMEM;
}

static int read_events(struct steer_store_reader *r, const struct api_req *req, int64_t since_ms,
		       uint32_t limit, json_t *list, struct steer_err *err)
{
	(void)req;
	return steer_store_reader_events(r, since_ms, limit, add_event, list, err);
}

void api_events(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	answer_list(api, req, resp, read_events, "events", json_object());
}
