/*
 * The router: endpoint table, method check (405 with Allow), authorization (bearer token
 * compared in constant time; reads open on loopback listeners), query parameter check,
 * request body validation, and the handlers that call the daemon's operations.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"

enum access {
	ACCESS_READ,
	ACCESS_WRITE,
};

typedef void route_fn(struct steer_api *api, const struct api_req *req, struct api_resp *resp);

struct route {
	const char *method;
	const char *pat[6]; /* path segments, "*" = any non-empty segment; NULL-terminated */
	enum access access;
	const char *params; /* accepted query parameters, space-separated */
	route_fn *fn;
};

static route_fn h_version, h_status, h_explain, h_override, h_failback, h_reload, h_page, h_metrics;
static route_fn h_notify_test, h_zone;

static const struct route routes[] = {
	{"GET", {NULL}, ACCESS_READ, "", h_page},
	{"GET", {"metrics"}, ACCESS_READ, "", h_metrics},
	{"GET", {"v1", "version"}, ACCESS_READ, "", h_version},
	{"GET", {"v1", "status"}, ACCESS_READ, "", h_status},
	{"GET", {"v1", "origins", "*", "*", "history"}, ACCESS_READ, "since limit", api_history},
	{"GET", {"v1", "events"}, ACCESS_READ, "since limit", api_events},
	{"GET", {"v1", "explain"}, ACCESS_READ, "name type client", h_explain},
	{"GET", {"v1", "zone"}, ACCESS_READ, "", h_zone},
	{"POST", {"v1", "origins", "*", "*", "override"}, ACCESS_WRITE, "", h_override},
	{"POST", {"v1", "pools", "*", "override"}, ACCESS_WRITE, "", h_override},
	{"POST", {"v1", "balancers", "*", "failback"}, ACCESS_WRITE, "", h_failback},
	{"POST", {"v1", "reload"}, ACCESS_WRITE, "", h_reload},
	{"POST", {"v1", "notify", "test"}, ACCESS_WRITE, "", h_notify_test},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

void api_fail_resp(struct api_resp *resp, int status, const char *fmt, ...)
{
	char msg[512];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a message cut by vsnprintf may end inside a UTF-8 sequence: drop that tail */
	len = strlen(msg);
	for (int i = 0; i < 4 && len > 0 && !api_utf8_valid(msg, len); i++)
		len--;
	json_decref(resp->body);
	resp->status = status;
	resp->body = json_pack("{s:s%}", "error", api_utf8_valid(msg, len) ? msg : "?",
			       api_utf8_valid(msg, len) ? len : 1);
}

const char *api_param(const struct api_req *req, const char *key)
{
	for (size_t i = 0; i < req->n_param; i++)
		if (strcmp(req->param[i].key, key) == 0)
			return req->param[i].value;
	return NULL;
}

bool api_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	const size_t n = alen > blen ? alen : blen;
	size_t diff = alen ^ blen;

	/* no early exit: every byte up to the longer length is looked at */
	for (size_t i = 0; i < n; i++) {
		const unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		const unsigned char y = i < blen ? (unsigned char)b[i] : 0;

		diff |= (size_t)(x ^ y);
	}
	return diff == 0;
}

static bool path_match(const struct route *r, const struct api_req *req)
{
	size_t n = 0;

	while (n < sizeof(r->pat) / sizeof(r->pat[0]) && r->pat[n] != NULL)
		n++;
	if (req->too_deep || req->n_seg != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r->pat[i], "*") == 0 ? req->seg[i][0] == '\0'
						: strcmp(r->pat[i], req->seg[i]) != 0)
			return false;
	}
	return true;
}

static bool authorized(struct steer_api *api, const struct api_req *req, bool loopback,
		       enum access access, struct api_resp *resp)
{
	const char *tok = req->auth;

	if (access == ACCESS_READ && (loopback || api->public_read))
		return true;
	if (api->token == NULL && access == ACCESS_WRITE) {
		api_fail_resp(resp, 403,
			      "no api.token_file is configured: changes over the API "
			      "are disabled");
		return false;
	}
	if (api->token == NULL) {
		api_fail_resp(resp, 403,
			      "no api.token_file is configured and api.public_read is "
			      "off: reads are open on loopback listeners only");
		return false;
	}
	resp->challenge = true;
	if (tok == NULL || strncasecmp(tok, "Bearer ", 7) != 0) {
		api_fail_resp(resp, 401,
			      "this endpoint needs an Authorization: Bearer <token> "
			      "field");
		return false;
	}
	for (tok += 7; *tok == ' ';)
		tok++;
	if (!api_token_equal(tok, strlen(tok), api->token, api->token_len)) {
		api_fail_resp(resp, 401, "wrong bearer token");
		return false;
	}
	resp->challenge = false;
	return true;
}

static bool word_in(const char *words, const char *w)
{
	const size_t len = strlen(w);

	for (const char *p = strstr(words, w); p != NULL; p = strstr(p + 1, w))
		if ((p == words || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

static bool params_ok(const struct api_req *req, const char *accepted, struct api_resp *resp)
{
	for (size_t i = 0; i < req->n_param; i++) {
		const char *k = req->param[i].key;

		if (word_in(accepted, k))
			continue;
		if (accepted[0] == '\0')
			api_fail_resp(resp, 400,
				      "unknown query parameter %.64s (this endpoint "
				      "takes none)",
				      k);
		else
			api_fail_resp(resp, 400, "unknown query parameter %.64s (accepted: %s)", k,
				      accepted);
		return false;
	}
	return true;
}

void api_route(struct steer_api *api, const struct api_req *req, bool loopback,
	       struct api_resp *resp)
{
	const struct route *r = NULL;
	const char *allow = NULL;

	for (size_t i = 0; i < N_ROUTES && r == NULL; i++) {
		if (!path_match(&routes[i], req))
			continue;
		allow = routes[i].method; /* one method per path */
		if (strcmp(routes[i].method, req->method) == 0)
			r = &routes[i];
	}
	if (allow == NULL) {
		api_fail_resp(resp, 404, "no such endpoint: %.256s", req->path);
		return;
	}
	if (r == NULL) {
		api_fail_resp(resp, 405, "method %s is not allowed on %.256s (allowed: %s)",
			      req->method, req->path, allow);
		resp->allow = allow;
		return;
	}
	if (!authorized(api, req, loopback, r->access, resp) || !params_ok(req, r->params, resp))
		return;
	r->fn(api, req, resp);
}

/* Map the return code of an operation (see struct steer_api_ops); takes @p result. */
static void op_result(struct api_resp *resp, int rc, json_t *result, const struct steer_err *err)
{
	const char *msg = err->msg[0] != '\0' ? err->msg : steer_strerror(rc);
	int status = 500;

	if (rc == 0) {
		resp->status = 200;
		resp->body = result != NULL ? result : json_pack("{s:b}", "ok", 1);
		return;
	}
	json_decref(result);
	if (rc == -ENOENT)
		status = 404;
	else if (rc == -EINVAL)
		status = 400;
	else if (rc == -EBUSY)
		status = 409;
	api_fail_resp(resp, status, "%s", msg);
}

static void h_version(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	(void)api;
	(void)req;
	resp->status = 200;
	resp->body = json_pack("{s:s, s:s}", "name", "steerd", "version", STEER_VERSION);
}

/* A text document from @p fn (malloc'ed), sent as @p type. */
static void text_doc(struct steer_api *api, char *(*fn)(void *arg), const char *type,
		     struct api_resp *resp)
{
	char *doc = fn != NULL ? fn(api->ops->arg) : NULL;

	if (doc == NULL) {
		api_fail_resp(resp, fn != NULL ? 500 : 404, "%s",
			      fn != NULL ? "out of memory" : "not available");
		return;
	}
	resp->status = 200;
	resp->raw = doc;
	resp->type = type;
}

/* GET /: the status page. */
static void h_page(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	(void)req;
	text_doc(api, api->ops->page, "text/html; charset=utf-8", resp);
}

/* GET /metrics: Prometheus text exposition format 0.0.4. */
static void h_metrics(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	(void)req;
	text_doc(api, api->ops->metrics, "text/plain; version=0.0.4; charset=utf-8", resp);
}

/* GET /v1/zone: the transferred zone as a zone file; errors as JSON. */
static void h_zone(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	char *text = NULL;
	int rc = api->ops->zone != NULL ? api->ops->zone(api->ops->arg, &text) : -ENOENT;
	size_t n;

	(void)req;
	if (rc == -ENOENT) {
		api_fail_resp(resp, 404,
			      "transfers not configured (no \"transfer\" in steerd.json)");
		return;
	}
	if (rc < 0 || text == NULL) {
		free(text);
		api_fail_resp(resp, 500, "%s", steer_strerror(rc < 0 ? rc : STEER_ENOMEM));
		return;
	}
	n = strlen(text);
	if (n > 0 && text[n - 1] == '\n')
		text[n - 1] = '\0'; /* respond() ends every body with one */
	resp->status = 200;
	resp->raw = text;
	resp->type = "text/plain; charset=utf-8";
}

static void h_status(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	json_t *st = api->ops->status != NULL ? api->ops->status(api->ops->arg) : NULL;

	(void)req;
	if (st == NULL) {
		api_fail_resp(resp, 500, "status is not available");
		return;
	}
	resp->status = 200;
	resp->body = st;
}

static void h_explain(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	const char *name = api_param(req, "name");
	struct steer_err err = {0};
	json_t *result = NULL;
	int rc;

	if (name == NULL || name[0] == '\0') {
		api_fail_resp(resp, 400, "name: required (the DNS name to explain)");
		return;
	}
	if (api->ops->explain == NULL) {
		api_fail_resp(resp, 500, "explain is not available");
		return;
	}
	rc = api->ops->explain(api->ops->arg, name, api_param(req, "type"),
			       api_param(req, "client"), &result, &err);
	op_result(resp, rc, result, &err);
}

/* The body of failback and reload: nothing, or an empty JSON object. */
static bool body_empty(const struct api_req *req, struct api_resp *resp)
{
	json_error_t je;
	json_t *j;
	bool ok;

	if (req->body_len == 0)
		return true;
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		api_fail_resp(resp, 400, "body: %s (line %d, column %d)", je.text, je.line,
			      je.column);
		return false;
	}
	ok = json_is_object(j) && json_object_size(j) == 0;
	json_decref(j);
	if (!ok)
		api_fail_resp(resp, 400,
			      "body: expected nothing or {} (this endpoint takes no "
			      "arguments)");
	return ok;
}

static void h_failback(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	struct steer_err err = {0};
	json_t *result = NULL;
	int rc;

	if (!body_empty(req, resp))
		return;
	if (api->ops->failback == NULL) {
		api_fail_resp(resp, 500, "failback is not available");
		return;
	}
	rc = api->ops->failback(api->ops->arg, req->seg[2], &result, &err);
	op_result(resp, rc, result, &err);
}

static void h_reload(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	struct steer_err err = {0};
	json_t *result = NULL;
	int rc;

	if (!body_empty(req, resp))
		return;
	if (api->ops->reload == NULL) {
		api_fail_resp(resp, 500, "reload is not available");
		return;
	}
	rc = api->ops->reload(api->ops->arg, &result);
	if (rc == STEER_ECONFIG) {
		resp->status = 422;
		resp->body = result != NULL ? result
					    : json_pack("{s:b, s:s}", "ok", 0, "error",
							"the new configuration is not valid");
		return;
	}
	op_result(resp, rc, result, &err);
}

/* POST /v1/notify/test: nothing, {} or {"name": "hook"}. */
static void h_notify_test(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	struct steer_err err = {0};
	json_t *result = NULL, *j = NULL, *name = NULL;
	json_error_t je;
	int rc;

	if (req->body_len > 0) {
		j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
		name = json_object_get(j, "name");
	}
	if (req->body_len > 0 &&
	    (!json_is_object(j) || json_object_size(j) > (name != NULL ? 1u : 0u) ||
	     (name != NULL && !json_is_string(name)))) {
		api_fail_resp(resp, 400,
			      "body: expected nothing, {} or {\"name\": \"NOTIFICATION\"}");
	} else if (api->ops->notify_test == NULL) {
		api_fail_resp(resp, 404, "notifications are not available");
	} else {
		rc = api->ops->notify_test(api->ops->arg, json_string_value(name), &result, &err);
		op_result(resp, rc, result, &err);
	}
	json_decref(j);
}

/* "for": a JSON integer of seconds, or a string "<n>[s|m|h|d]"; 1 s .. 365 d. */
static bool parse_for(const json_t *v, int64_t *for_ms)
{
	uint64_t n = 0, mult = 1;

	if (json_is_integer(v) && json_integer_value(v) > 0)
		n = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || api_parse_amount(json_string_value(v), &n, &mult) < 0)
		return false;
	n *= mult != 0 ? mult : 1; /* at most 10 digits times 86400: no overflow */
	if (n < 1 || n > 365 * 86400ULL)
		return false;
	*for_ms = (int64_t)n * 1000;
	return true;
}

static bool override_keys(json_t *j, struct api_resp *resp)
{
	const char *key;
	json_t *v;

	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "state") != 0 && strcmp(key, "for") != 0 &&
		    strcmp(key, "reason") != 0) {
			api_fail_resp(resp, 400,
				      "body: unknown key \"%.64s\" (accepted: state, "
				      "for, reason)",
				      key);
			return false;
		}
	}
	return true;
}

/* Fill @p o from the object @p j (borrowed strings point into @p j). */
static bool override_fields(json_t *j, struct steer_api_override *o, struct api_resp *resp)
{
	static const char *const states[] = {"drain", "down", "up", "auto"};
	const json_t *st = json_object_get(j, "state");
	const json_t *fo = json_object_get(j, "for");
	const json_t *re = json_object_get(j, "reason");

	for (size_t i = 0; json_is_string(st) && i < 4 && o->state == NULL; i++)
		if (strcmp(json_string_value(st), states[i]) == 0)
			o->state = states[i];
	if (o->state == NULL) {
		api_fail_resp(resp, 400, "state: %s: one of drain, down, up, auto",
			      st == NULL ? "required" : "expected");
		return false;
	}
	if (fo != NULL && strcmp(o->state, "auto") == 0) {
		api_fail_resp(resp, 400, "for: not allowed with state auto (it ends the override)");
		return false;
	}
	if (fo != NULL && !parse_for(fo, &o->for_ms)) {
		api_fail_resp(resp, 400,
			      "for: expected a duration from 1s to 365d: \"90s\", "
			      "\"30m\", \"2h\", \"7d\" or seconds");
		return false;
	}
	if (re != NULL && (!json_is_string(re) || json_string_length(re) > API_REASON_MAX)) {
		api_fail_resp(resp, 400, "reason: expected a string of at most %d bytes",
			      API_REASON_MAX);
		return false;
	}
	o->reason = re != NULL ? json_string_value(re) : NULL;
	return true;
}

static void h_override(struct steer_api *api, const struct api_req *req, struct api_resp *resp)
{
	struct steer_api_override o = {.pool = req->seg[2]};
	struct steer_err err = {0};
	json_t *result = NULL;
	json_error_t je;
	json_t *j = json_loadb(req->body != NULL ? req->body : "", req->body_len,
			       JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (j == NULL) {
		api_fail_resp(resp, 400, "body: %s (line %d, column %d)", je.text, je.line,
			      je.column);
		return;
	}
	if (strcmp(req->seg[1], "origins") == 0)
		o.origin = req->seg[3];
	if (!json_is_object(j))
		api_fail_resp(resp, 400, "body: expected a JSON object: {\"state\": ...}");
	else if (api->ops->override == NULL)
		api_fail_resp(resp, 500, "overrides are not available");
	else if (override_keys(j, resp) && override_fields(j, &o, resp)) {
		rc = api->ops->override(api->ops->arg, &o, &result, &err);
		op_result(resp, rc, result, &err);
	}
	json_decref(j);
}
