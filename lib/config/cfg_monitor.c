/*
 * Monitor files (monitors/<name>.json): one health check definition each, with defaults
 * applied and the expected_codes list compiled into ranges.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config_int.h"

#define INTERVAL_MAX_S  3600u
#define RETRIES_MAX     5u
#define CONSECUTIVE_MAX 100u
#define HTTP_CODE_MIN   100u
#define HTTP_CODE_MAX   599u

static const char *const monitor_keys[] = {
	"name",
	"type",
	"method",
	"path",
	"port",
	"header",
	"expected_codes",
	"expected_body",
	"follow_redirects",
	"allow_insecure",
	"ca_file",
	"send",
	"expect",
	"interval",
	"timeout",
	"retries",
	"consecutive_up",
	"consecutive_down",
	NULL,
};
static const char *const type_names[] = {"http", "https", "tcp", NULL};
static const char *const method_names[] = {"GET", "HEAD", NULL};

/* Three digits at @p s into @p v (100..599). */
static int code3(const char *s, uint16_t *v)
{
	unsigned n = 0;

	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (n < HTTP_CODE_MIN || n > HTTP_CODE_MAX)
		return -1;
	*v = (uint16_t)n;
	return 0;
}

/* One item: "200", "2xx" or "301-302" (@p len bytes, already trimmed). */
static int parse_code_item(const char *s, size_t len, struct steer_code_range *r)
{
	if (len == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		if (s[0] < '1' || s[0] > '5')
			return -1;
		r->lo = (uint16_t)((s[0] - '0') * 100);
		r->hi = (uint16_t)(r->lo + 99);
		return 0;
	}
	if (len == 3) {
		if (code3(s, &r->lo) < 0)
			return -1;
		r->hi = r->lo;
		return 0;
	}
	if (len == 7 && s[3] == '-' && code3(s, &r->lo) == 0 && code3(s + 4, &r->hi) == 0)
		return r->lo <= r->hi ? 0 : -1;
	return -1;
}

int steer_cfg_parse_codes(const char *text, struct steer_code_range **out, size_t *n_out)
{
	struct steer_code_range *v;
	size_t n = 1, k = 0;
	const char *p = text;

	for (const char *q = text; *q != '\0'; q++)
		n += *q == ',';
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return STEER_ENOMEM;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (parse_code_item(p, len, &v[k++]) < 0) {
			free(v);
			return STEER_EINVAL;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static void monitor_name(struct cfg_ctx *c, const json_t *root, struct steer_monitor *m)
{
	const struct steer_monitor *all = c->cfg->monitors;
	size_t first;

	if (steer_cfg_dup(c, root, "", "name", true, &m->name) <= 0)
		return;
	if (m->name[0] == '\0') {
		steer_cfg_err(c, "name", "must not be empty");
		return;
	}
	if (steer_cfg_name_taken(c, &c->monitor_ix, m->name, (size_t)(m - all), &first))
		steer_cfg_err(c, "name", "duplicate monitor name \"%s\" (also in %s)", m->name,
			      all[first].pos.file);
}

static void monitor_type(struct cfg_ctx *c, json_t *root, struct steer_monitor *m)
{
	int type = STEER_MONITOR_HTTP, method = 0;
	json_t *v;

	if (steer_cfg_get(c, root, "", "type", true, &v) > 0)
		steer_cfg_enum(c, root, "", "type", type_names, &type);
	m->type = (enum steer_monitor_type)type;
	steer_cfg_enum(c, root, "", "method", method_names, &method);
	m->method = steer_cfg_strdup(c, method_names[method]);
	m->port = m->type == STEER_MONITOR_HTTPS ? 443 : 80;
	if (m->type == STEER_MONITOR_TCP) {
		m->port = 0;
		if (steer_cfg_get(c, root, "", "port", false, &v) == 0)
			steer_cfg_err(c, "",
				      "missing required key \"port\" (required for type \"tcp\")");
	}
	{
		uint32_t port = m->port;

		steer_cfg_uint(c, root, "", "port", false, 1, 65535, &port);
		m->port = (uint16_t)port;
	}
}

static void monitor_http(struct cfg_ctx *c, const json_t *root, struct steer_monitor *m)
{
	size_t i;

	if (steer_cfg_dup(c, root, "", "path", false, &m->path) == 0)
		m->path = steer_cfg_strdup(c, "/");
	else if (m->path != NULL && m->path[0] != '/')
		steer_cfg_err(c, "path", "must start with \"/\"");
	for (i = 0; m->path != NULL && m->path[i] != '\0'; i++) {
		if ((unsigned char)m->path[i] <= ' ' || m->path[i] == 0x7f) {
			steer_cfg_err(c, "path", "must not contain spaces or control characters");
			break;
		}
	}
	if (steer_cfg_dup(c, root, "", "expected_codes", false, &m->expected_codes) == 0)
		m->expected_codes = steer_cfg_strdup(c, STEER_DEFAULT_EXPECTED_CODES);
	if (m->expected_codes != NULL) {
		int rc = steer_cfg_parse_codes(m->expected_codes, &m->codes, &m->n_codes);

		if (rc == STEER_ENOMEM)
			c->nomem = true;
		else if (rc < 0)
			steer_cfg_err(c, "expected_codes",
				      "must be a list of status codes like \"200\", \"2xx\" or "
				      "\"200,301-302\" (100 to 599)");
	}
	steer_cfg_dup(c, root, "", "expected_body", false, &m->expected_body);
	steer_cfg_bool(c, root, "", "follow_redirects", &m->follow_redirects);
	steer_cfg_bool(c, root, "", "allow_insecure", &m->allow_insecure);
	steer_cfg_headers(c, root, "", "header", &m->headers, &m->n_headers);
}

static void monitor_ca_file(struct cfg_ctx *c, const json_t *root, struct steer_monitor *m)
{
	const char *s;

	if (steer_cfg_str(c, root, "", "ca_file", false, &s) <= 0)
		return;
	m->ca_file = steer_cfg_resolve(c, c->cfg->dir, s);
	/* curl reads it on the monitor thread: a FIFO there would stall every probe */
	if (m->ca_file != NULL)
		steer_cfg_check_file(c, "ca_file", m->ca_file);
}

static void monitor_tcp(struct cfg_ctx *c, const json_t *root, struct steer_monitor *m)
{
	static const char *const keys[] = {"send", "expect"};
	char **dst[] = {&m->send, &m->expect};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (steer_cfg_dup(c, root, "", keys[i], false, dst[i]) > 0 &&
		    m->type != STEER_MONITOR_TCP)
			steer_cfg_err_key(c, keys[i], "only valid for type \"tcp\"");
	}
}

static void monitor_timing(struct cfg_ctx *c, const json_t *root, struct steer_monitor *m)
{
	uint32_t interval = STEER_DEFAULT_INTERVAL_S, timeout;

	steer_cfg_uint(c, root, "", "interval", false, 1, INTERVAL_MAX_S, &interval);
	timeout = interval < STEER_DEFAULT_TIMEOUT_S ? interval : STEER_DEFAULT_TIMEOUT_S;
	steer_cfg_uint(c, root, "", "timeout", false, 1, interval, &timeout);
	m->interval_ms = interval * 1000;
	m->timeout_ms = timeout * 1000;
	m->retries = STEER_DEFAULT_RETRIES;
	steer_cfg_uint(c, root, "", "retries", false, 0, RETRIES_MAX, &m->retries);
	m->consecutive_up = STEER_DEFAULT_CONSECUTIVE;
	m->consecutive_down = STEER_DEFAULT_CONSECUTIVE;
	steer_cfg_uint(c, root, "", "consecutive_up", false, 1, CONSECUTIVE_MAX,
		       &m->consecutive_up);
	steer_cfg_uint(c, root, "", "consecutive_down", false, 1, CONSECUTIVE_MAX,
		       &m->consecutive_down);
}

void steer_cfg_monitor(struct cfg_ctx *c, json_t *root, struct steer_monitor *m)
{
	m->pos = steer_cfg_pos(c, "");
	if (!steer_cfg_object(c, root, "", monitor_keys))
		return;
	monitor_name(c, root, m);
	monitor_type(c, root, m);
	monitor_http(c, root, m);
	monitor_ca_file(c, root, m);
	monitor_tcp(c, root, m);
	monitor_timing(c, root, m);
}

void steer_cfg_free_monitor(struct steer_monitor *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->method);
	free(m->path);
	steer_cfg_free_headers(m->headers, m->n_headers);
	free(m->expected_codes);
	free(m->codes);
	free(m->expected_body);
	free(m->ca_file);
	free(m->send);
	free(m->expect);
}
