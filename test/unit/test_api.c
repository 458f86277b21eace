/*
 * Component tests of the HTTP API over real loopback sockets: routing, every refusal
 * (400 ... 505), bearer-token rules, limits (head, body, io timeout, connections), the
 * history and event readers against a real SQLite file. The daemon is replaced by a small
 * table of operations that records its calls and returns canned JSON. Every response is
 * checked for the fixed header fields and a body that parses as JSON.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "api/api.h"
#include "testutil.h"

#define TOKEN   "s3cret-token"
#define WAIT_MS 5000 /* bound of every wait for the server */

/* ---- the fake daemon ---- */

struct fake {
	int status_calls;
	bool status_null;
	char pool[128];
	char origin[128];
	bool origin_null;
	char state[16];
	int64_t for_ms;
	char reason[512];
	bool reason_null;
	int override_rc;
	char balancer[128];
	char name[256];
	char type[16];
	char client[64];
	int explain_calls;
	int reload_rc;
	int reload_calls;
};

static struct fake fake;

static json_t *f_status(void *arg)
{
	(void)arg;
	fake.status_calls++;
	return fake.status_null ? NULL : json_pack("{s:s}", "state", "running");
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static int f_override(void *arg, const struct steer_api_override *req, json_t **result,
		      struct steer_err *err)
{
	(void)arg;
	copy(fake.pool, sizeof(fake.pool), req->pool);
	copy(fake.origin, sizeof(fake.origin), req->origin);
	fake.origin_null = req->origin == NULL;
	copy(fake.state, sizeof(fake.state), req->state);
	fake.for_ms = req->for_ms;
	copy(fake.reason, sizeof(fake.reason), req->reason);
	fake.reason_null = req->reason == NULL;
	if (fake.override_rc != 0)
		return steer_err_set(err, fake.override_rc, "canned error %d", fake.override_rc);
	*result = json_pack("{s:b, s:s}", "ok", 1, "state", req->state);
	return 0;
}

static int f_explain(void *arg, const char *name, const char *type, const char *client,
		     json_t **result, struct steer_err *err)
{
	(void)arg;
	(void)err;
	fake.explain_calls++;
	copy(fake.name, sizeof(fake.name), name);
	copy(fake.type, sizeof(fake.type), type != NULL ? type : "(null)");
	copy(fake.client, sizeof(fake.client), client != NULL ? client : "(null)");
	*result = json_pack("{s:s}", "name", name);
	return 0;
}

static int f_failback(void *arg, const char *balancer, json_t **result, struct steer_err *err)
{
	(void)arg;
	copy(fake.balancer, sizeof(fake.balancer), balancer);
	if (strcmp(balancer, "busy") == 0)
		return steer_err_set(err, -EBUSY, "balancer busy is not failed over");
	*result = json_pack("{s:b}", "ok", 1);
	return 0;
}

static int f_reload(void *arg, json_t **result)
{
	(void)arg;
	fake.reload_calls++;
	if (fake.reload_rc == STEER_ECONFIG) {
		*result = json_pack("{s:b, s:s, s:[s]}", "ok", 0, "error", "bad config", "errors",
				    "pools/web.json:3:5: weight: expected 1..100");
		return STEER_ECONFIG;
	}
	if (fake.reload_rc != 0)
		return fake.reload_rc;
	*result = json_pack("{s:b}", "ok", 1);
	return 0;
}

/* GET /v1/zone: zone_rc 0 answers ZONE_TEXT. */
#define ZONE_TEXT "lb.example.test.\t60\tIN\tSOA\tns1.lb.example.test. h.example.test. 7 1 1 1 1\n"
static int zone_rc = -ENOENT;

static int f_zone(void *arg, char **text)
{
	(void)arg;
	if (zone_rc < 0)
		return zone_rc;
	*text = strdup(ZONE_TEXT);
	return *text != NULL ? 0 : STEER_ENOMEM;
}

static const struct steer_api_ops ops = {
	.status = f_status,
	.override = f_override,
	.explain = f_explain,
	.failback = f_failback,
	.reload = f_reload,
	.zone = f_zone,
};

/* ---- fixture ---- */

struct fx {
	char dir[256];
	char db[320];
	struct steer_api *api;
	uint16_t port;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (steer_test_tmpdir(fx->dir, sizeof(fx->dir), "steer-api") < 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof(fx->db), "%s/steerd.db", fx->dir);
	memset(&fake, 0, sizeof(fake));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	steer_api_free(fx->api);
	steer_test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static socklen_t make_addr(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	return sizeof(*in);
}

/* Start an API on @p ip port 0 with @p o (listen, ops and state_path filled in here). */
static void start_on(struct fx *fx, const char *ip, struct steer_api_opts o)
{
	struct sockaddr_storage ss;
	struct steer_api_addr a = {.text = ip, .sa = (struct sockaddr *)&ss};
	struct steer_err err = {0};

	a.len = make_addr(ip, 0, &ss);
	o.listen = &a;
	o.n_listen = 1;
	o.ops = &ops;
	if (o.state_path == NULL)
		o.state_path = fx->db;
	assert_int_equal(steer_api_new(&o, &fx->api, &err), 0);
	assert_int_equal(steer_api_start(fx->api, &err), 0);
	fx->port = steer_api_port(fx->api, 0);
	assert_true(fx->port != 0);
}

static void start(struct fx *fx, struct steer_api_opts o)
{
	start_on(fx, "127.0.0.1", o);
}

/* ---- the client ---- */

struct reply {
	int status; /* -1: closed without a response */
	char head[4096];
	const char *body;
	size_t body_len;
	json_t *json;
	char buf[256 * 1024];
};

static int dial(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	const socklen_t len = make_addr(ip, port, &ss);
	const struct timeval tv = {.tv_sec = WAIT_MS / 1000};
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

/* Send what the server takes of @p len bytes (it may stop reading). */
static void send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		const ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Read until EOF (bounded by SO_RCVTIMEO per read). @return bytes read. */
static size_t recv_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		const ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static const char *header(const struct reply *r, const char *name)
{
	static char value[512];
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	p = strstr(r->head, key);
	if (p == NULL)
		return NULL;
	p += strlen(key);
	snprintf(value, sizeof(value), "%.*s", (int)strcspn(p, "\r"), p);
	return value;
}

/* Check the fixed header fields, Content-Length and that the body is JSON. */
static void parse_reply(struct reply *r, size_t len)
{
	const char *end = strstr(r->buf, "\r\n\r\n");
	json_error_t je;

	r->status = -1;
	if (len == 0)
		return;
	assert_non_null(end);
	assert_true((size_t)(end - r->buf) + 2 < sizeof(r->head));
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(end - r->buf) + 2, r->buf);
	assert_int_equal(sscanf(r->buf, "HTTP/1.1 %d ", &r->status), 1);
	r->body = end + 4;
	r->body_len = len - (size_t)(r->body - r->buf);
	assert_string_equal(header(r, "Content-Type"), "application/json");
	assert_string_equal(header(r, "Connection"), "close");
	assert_string_equal(header(r, "Cache-Control"), "no-store");
	assert_int_equal(strtoul(header(r, "Content-Length"), NULL, 10), r->body_len);
	r->json = json_loadb(r->body, r->body_len, 0, &je);
	if (r->json == NULL)
		fail_msg("body is not JSON: %s: %.*s", je.text, (int)r->body_len, r->body);
}

static struct reply *xfer_on(const char *ip, uint16_t port, const char *raw, size_t len)
{
	struct reply *r = calloc(1, sizeof(*r));
	int fd;

	assert_non_null(r);
	fd = dial(ip, port);
	send_all(fd, raw, len);
	parse_reply(r, recv_all(fd, r->buf, sizeof(r->buf)));
	close(fd);
	return r;
}

static struct reply *xfer(uint16_t port, const char *raw)
{
	return xfer_on("127.0.0.1", port, raw, strlen(raw));
}

static void reply_free(struct reply *r)
{
	json_decref(r->json);
	free(r);
}

static struct reply *req(const char *ip, uint16_t port, const char *method, const char *target,
			 const char *token, const char *body)
{
	char raw[4096], auth[256] = "";

	if (token != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s",
		 method, target, auth, body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	return xfer_on(ip, port, raw, strlen(raw));
}

static struct reply *get(uint16_t port, const char *target)
{
	return req("127.0.0.1", port, "GET", target, NULL, NULL);
}

static struct reply *post(uint16_t port, const char *target, const char *body)
{
	return req("127.0.0.1", port, "POST", target, TOKEN, body);
}

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static const char *err_of(const struct reply *r)
{
	const char *e = jstr(r->json, "error");

	assert_non_null(e);
	return e;
}

/* Assert @p r has status @p status and an error message containing @p part; free it. */
static void expect_err(struct reply *r, int status, const char *part)
{
	if (r->status != status || strstr(err_of(r), part) == NULL)
		fail_msg("expected %d with \"%s\", got %d: %.*s", status, part, r->status,
			 (int)r->body_len, r->body);
	reply_free(r);
}

/* ---- tests ---- */

static void test_version_status(void **state)
{
	struct fx *fx = *state;
	struct reply *r;

	start(fx, (struct steer_api_opts){0});
	r = get(fx->port, "/v1/version");
	assert_int_equal(r->status, 200);
	assert_string_equal(jstr(r->json, "name"), "steerd");
	assert_string_equal(jstr(r->json, "version"), STEER_VERSION);
	reply_free(r);
	r = get(fx->port, "/v1/status");
	assert_int_equal(r->status, 200);
	assert_string_equal(jstr(r->json, "state"), "running");
	assert_int_equal(fake.status_calls, 1);
	reply_free(r);
	fake.status_null = true;
	expect_err(get(fx->port, "/v1/status"), 500, "not available");
	/* HTTP/1.0 needs no Host field */
	r = xfer(fx->port, "GET /v1/version HTTP/1.0\r\n\r\n");
	assert_int_equal(r->status, 200);
	reply_free(r);
}

static void test_zone(void **state)
{
	static const char raw[] = "GET /v1/zone HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *fx = *state;
	struct reply *r;
	size_t n;
	int fd;

	start(fx, (struct steer_api_opts){0});
	zone_rc = -ENOENT;
	expect_err(get(fx->port, "/v1/zone"), 404, "transfers not configured");
	zone_rc = STEER_ENOMEM;
	expect_err(get(fx->port, "/v1/zone"), 500, "");
	zone_rc = 0; /* a text answer: read raw (the harness parses JSON) */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	fd = dial("127.0.0.1", fx->port);
	send_all(fd, raw, strlen(raw));
	n = recv_all(fd, r->buf, sizeof(r->buf) - 1);
	close(fd);
	assert_true(n > strlen(ZONE_TEXT));
	assert_memory_equal(r->buf, "HTTP/1.1 200 ", 13);
	assert_non_null(strstr(r->buf, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_string_equal(r->buf + n - strlen(ZONE_TEXT), ZONE_TEXT);
	free(r);
	zone_rc = -ENOENT;
}

static void test_not_found_and_method(void **state)
{
	struct fx *fx = *state;
	struct reply *r;

	start(fx, (struct steer_api_opts){0});
	r = get(fx->port, "/v1/x");
	assert_int_equal(r->status, 404);
	assert_string_equal(err_of(r), "no such endpoint: /v1/x");
	reply_free(r);
	expect_err(get(fx->port, "/v1/status/"), 404, "no such endpoint");
	expect_err(get(fx->port, "/v1/a/b/c/d/e/f/g/h/i/j"), 404, "no such endpoint");
	expect_err(get(fx->port, "/v1/origins//c/history"), 404, "no such endpoint");
	r = req("127.0.0.1", fx->port, "DELETE", "/v1/status", NULL, NULL);
	assert_int_equal(r->status, 405);
	assert_string_equal(header(r, "Allow"), "GET");
	reply_free(r);
	r = get(fx->port, "/v1/reload");
	assert_int_equal(r->status, 405);
	assert_string_equal(header(r, "Allow"), "POST");
	reply_free(r);
	r = post(fx->port, "/v1/origins/p/o/history", NULL);
	assert_int_equal(r->status, 405);
	assert_string_equal(header(r, "Allow"), "GET");
	reply_free(r);
	/* unknown method on an unknown path: 404 */
	expect_err(req("127.0.0.1", fx->port, "BREW", "/v1/pot", NULL, NULL), 404, "endpoint");
}

static void test_malformed(void **state)
{
	struct fx *fx = *state;

	start(fx, (struct steer_api_opts){0});
	expect_err(xfer(fx->port, "GET\r\n\r\n"), 400, "request line");
	expect_err(xfer(fx->port, "GET /v1/version\r\n\r\n"), 400, "request line");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\n\r\n"), 400, "Host");
	expect_err(xfer(fx->port, "GET /v1/version HTTX/1.1\r\nHost: x\r\n\r\n"), 400, "version");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/2.0\r\nHost: x\r\n\r\n"), 505, "2.0");
	expect_err(xfer(fx->port, "GET v1/version HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "path");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost : x\r\n\r\n"), 400,
		   "field name");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), 400,
		   "folding");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"), 400,
		   "bare");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"), 400,
		   "Host");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n"
				  "\r\n"),
		   400, "Content-Length");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
				  "Content-Length: 2\r\n\r\nab"),
		   400, "Content-Length");
	expect_err(xfer(fx->port, "GET /v1/vers%zzion HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
		   "percent");
	expect_err(xfer(fx->port, "GET /v1/version%0 HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "percent");
	expect_err(xfer(fx->port, "GET /v1/ver%00sion HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "%00");
	expect_err(xfer(fx->port, "GET /v1/%ff HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "UTF-8");
	expect_err(xfer(fx->port, "GET /v1/events?limit=%00 HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
		   "%00");
	expect_err(xfer(fx->port, "GET /v1/version?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
		   "unknown query parameter x");
	expect_err(xfer(fx->port, "GET /v1/events?limit=1&limit=2 HTTP/1.1\r\nHost: x\r\n\r\n"),
		   400, "twice");
	expect_err(xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n"),
		   417, "Expect");
}

static void test_limits(void **state)
{
	struct fx *fx = *state;
	const size_t big = 70000;
	char *raw = malloc(big + 256);
	struct reply *r;
	int n;

	assert_non_null(raw);
	start(fx, (struct steer_api_opts){.token = TOKEN});
	/* 413: decided from Content-Length; the body is sent anyway and the answer survives */
	n = snprintf(raw, 256,
		     "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
		     "\r\nContent-Length: %zu\r\n\r\n",
		     big);
	memset(raw + n, '{', big);
	expect_err(xfer_on("127.0.0.1", fx->port, raw, (size_t)n + big), 413, "too large");
	assert_int_equal(fake.reload_calls, 0);
	/* exactly 64 KiB is accepted (and refused as a body, not as a size) */
	n = snprintf(raw, 256,
		     "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
		     "\r\nContent-Length: 65536\r\n\r\n");
	memset(raw + n, ' ', 65536);
	expect_err(xfer_on("127.0.0.1", fx->port, raw, (size_t)n + 65536), 400, "body");
	/* 431: the head does not end within 8 KiB */
	n = snprintf(raw, 256, "GET /v1/version HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 300; i++)
		n += snprintf(raw + n, 64, "X-Filler-%03d: 0123456789abcdef\r\n", i);
	expect_err(xfer_on("127.0.0.1", fx->port, raw, (size_t)n), 431, "8192");
	/* 411 */
	expect_err(xfer(fx->port, "POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n0\r\n\r\n"),
		   411, "Content-Length");
	/* still serving */
	r = xfer(fx->port, "GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(r->status, 200);
	reply_free(r);
	free(raw);
}

static void test_expect_continue(void **state)
{
	struct fx *fx = *state;
	static const char head[] = "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
				   "" TOKEN "\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
	struct reply *r = calloc(1, sizeof(*r));
	char interim[64] = "";
	int fd;

	assert_non_null(r);
	start(fx, (struct steer_api_opts){.token = TOKEN});
	fd = dial("127.0.0.1", fx->port);
	send_all(fd, head, strlen(head));
	assert_int_equal(recv(fd, interim, 25, MSG_WAITALL), 25);
	assert_string_equal(interim, "HTTP/1.1 100 Continue\r\n\r\n");
	send_all(fd, "{}", 2);
	parse_reply(r, recv_all(fd, r->buf, sizeof(r->buf)));
	close(fd);
	assert_int_equal(r->status, 200);
	assert_int_equal(fake.reload_calls, 1);
	reply_free(r);
}

static void test_auth(void **state)
{
	struct fx *fx = *state;
	struct reply *r;

	start(fx, (struct steer_api_opts){.token = TOKEN});
	r = req("127.0.0.1", fx->port, "POST", "/v1/reload", NULL, NULL);
	assert_int_equal(r->status, 401);
	assert_string_equal(header(r, "WWW-Authenticate"), "Bearer");
	assert_non_null(strstr(err_of(r), "Bearer"));
	reply_free(r);
	r = req("127.0.0.1", fx->port, "POST", "/v1/reload", "s3cret-tokeN", NULL);
	assert_int_equal(r->status, 401);
	assert_string_equal(header(r, "WWW-Authenticate"), "Bearer");
	reply_free(r);
	expect_err(req("127.0.0.1", fx->port, "POST", "/v1/reload", "s3cret-token2", NULL), 401,
		   "wrong");
	expect_err(req("127.0.0.1", fx->port, "POST", "/v1/reload", "s3cret", NULL), 401, "wrong");
	expect_err(req("127.0.0.1", fx->port, "POST", "/v1/reload", "", NULL), 401, "Bearer");
	expect_err(xfer(fx->port, "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
				  "eDp5\r\n\r\n"),
		   401, "Bearer");
	assert_int_equal(fake.reload_calls, 0);
	r = post(fx->port, "/v1/reload", NULL);
	assert_int_equal(r->status, 200);
	assert_null(header(r, "WWW-Authenticate"));
	assert_int_equal(fake.reload_calls, 1);
	reply_free(r);
	/* the scheme is case-insensitive */
	r = xfer(fx->port,
		 "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " TOKEN "\r\n\r\n");
	assert_int_equal(r->status, 200);
	reply_free(r);
	/* reads on a loopback listener need no token */
	r = get(fx->port, "/v1/status");
	assert_int_equal(r->status, 200);
	reply_free(r);
}

static void test_no_token(void **state)
{
	struct fx *fx = *state;

	start(fx, (struct steer_api_opts){.token = ""});
	expect_err(post(fx->port, "/v1/reload", NULL), 403, "no api.token_file is configured");
	expect_err(req("127.0.0.1", fx->port, "POST", "/v1/pools/p/override", NULL,
		       "{\"state\": \"down\"}"),
		   403, "changes over the API are disabled");
	assert_int_equal(fake.reload_calls, 0);
	assert_string_equal(fake.pool, "");
}

static void test_loopback(void **state)
{
	static const char *const yes[] = {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"};
	static const char *const no[] = {"0.0.0.0",         "10.0.0.1", "192.0.2.7", "::",
					 "::ffff:10.0.0.1", "fd00::1",  "128.0.0.1"};
	struct sockaddr_storage ss;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		make_addr(yes[i], 1, &ss);
		assert_true(steer_api_addr_is_loopback((struct sockaddr *)&ss));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		make_addr(no[i], 1, &ss);
		assert_false(steer_api_addr_is_loopback((struct sockaddr *)&ss));
	}
}

/* A non-loopback IPv4 address of this machine, or NULL. */
static const char *public_ip(char *buf, size_t size)
{
	struct ifaddrs *ifa = NULL, *i;
	const char *found = NULL;

	if (getifaddrs(&ifa) != 0)
		return NULL;
	for (i = ifa; i != NULL && found == NULL; i = i->ifa_next) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(void *)i->ifa_addr;

		if (in == NULL || in->sin_family != AF_INET || (i->ifa_flags & IFF_UP) == 0 ||
		    (i->ifa_flags & IFF_LOOPBACK) != 0 || (ntohl(in->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)size);
	}
	freeifaddrs(ifa);
	return found;
}

static void test_public_listener(void **state)
{
	struct fx *fx = *state;
	char ip[64];
	struct reply *r;

	if (public_ip(ip, sizeof(ip)) == NULL) {
		/* the rule itself is covered by test_loopback */
		print_message("no non-loopback IPv4 address on this machine: skipped\n");
		skip();
	}
	start_on(fx, ip, (struct steer_api_opts){.token = TOKEN});
	r = req(ip, fx->port, "GET", "/v1/status", NULL, NULL);
	assert_int_equal(r->status, 401);
	assert_string_equal(header(r, "WWW-Authenticate"), "Bearer");
	reply_free(r);
	expect_err(req(ip, fx->port, "GET", "/v1/version", "nope", NULL), 401, "wrong");
	r = req(ip, fx->port, "GET", "/v1/status", TOKEN, NULL);
	assert_int_equal(r->status, 200);
	reply_free(r);
	steer_api_free(fx->api);
	fx->api = NULL;

	start_on(fx, ip, (struct steer_api_opts){.token = TOKEN, .public_read = true});
	r = req(ip, fx->port, "GET", "/v1/status", NULL, NULL);
	assert_int_equal(r->status, 200);
	reply_free(r);
	expect_err(req(ip, fx->port, "POST", "/v1/reload", NULL, NULL), 401, "Bearer");
	steer_api_free(fx->api);
	fx->api = NULL;

	start_on(fx, ip, (struct steer_api_opts){0});
	expect_err(req(ip, fx->port, "GET", "/v1/status", NULL, NULL), 403, "public_read");
}

static void test_override(void **state)
{
	struct fx *fx = *state;
	struct reply *r;

	start(fx, (struct steer_api_opts){.token = TOKEN});
	r = post(fx->port, "/v1/origins/web/www%201/override",
		 "{\"state\": \"drain\", \"for\": \"30m\", \"reason\": \"patching\"}");
	assert_int_equal(r->status, 200);
	assert_string_equal(jstr(r->json, "state"), "drain");
	reply_free(r);
	assert_string_equal(fake.pool, "web");
	assert_string_equal(fake.origin, "www 1");
	assert_string_equal(fake.state, "drain");
	assert_int_equal(fake.for_ms, 30 * 60 * 1000);
	assert_string_equal(fake.reason, "patching");

	r = post(fx->port, "/v1/pools/web/override", "{\"state\": \"down\", \"for\": 90}");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_true(fake.origin_null);
	assert_int_equal(fake.for_ms, 90000);
	assert_true(fake.reason_null);

	r = post(fx->port, "/v1/pools/web/override", "{\"state\": \"auto\"}");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_int_equal(fake.for_ms, 0);
	r = post(fx->port, "/v1/pools/web/override", "{\"state\": \"up\", \"for\": \"365d\"}");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_int_equal(fake.for_ms, 365LL * 86400 * 1000);
}

static void test_override_refused(void **state)
{
	struct fx *fx = *state;
	const char *p = "/v1/origins/web/www1/override";
	char reason[400];

	start(fx, (struct steer_api_opts){.token = TOKEN});
	expect_err(post(fx->port, p, "{\"state\": \"drain\""), 400, "line 1");
	expect_err(post(fx->port, p, NULL), 400, "body:");
	expect_err(post(fx->port, p, "[1]"), 400, "JSON object");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"color\": 1}"), 400,
		   "unknown key \"color\"");
	expect_err(post(fx->port, p, "{\"state\": \"up\", \"state\": \"down\"}"), 400, "body:");
	expect_err(post(fx->port, p, "{}"), 400, "state: required");
	expect_err(post(fx->port, p, "{\"state\": \"sideways\"}"), 400, "state: expected");
	expect_err(post(fx->port, p, "{\"state\": 1}"), 400, "state: expected");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"for\": \"0s\"}"), 400, "for:");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"for\": \"366d\"}"), 400, "for:");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"for\": \"30x\"}"), 400, "for:");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"for\": -5}"), 400, "for:");
	expect_err(post(fx->port, p, "{\"state\": \"drain\", \"for\": 1.5}"), 400, "for:");
	expect_err(post(fx->port, p, "{\"state\": \"auto\", \"for\": \"1h\"}"), 400,
		   "not allowed with state auto");
	expect_err(post(fx->port, p, "{\"state\": \"down\", \"reason\": 7}"), 400, "reason:");
	memset(reason, 'r', 257);
	snprintf(reason + 257, sizeof(reason) - 257, "%s", "");
	{
		char body[512];

		snprintf(body, sizeof(body), "{\"state\": \"down\", \"reason\": \"%s\"}", reason);
		expect_err(post(fx->port, p, body), 400, "at most 256 bytes");
	}
	assert_string_equal(fake.state, ""); /* never called */
	/* return codes of the operation */
	fake.override_rc = -ENOENT;
	expect_err(post(fx->port, p, "{\"state\": \"down\"}"), 404, "canned error");
	fake.override_rc = -EINVAL;
	expect_err(post(fx->port, p, "{\"state\": \"down\"}"), 400, "canned error");
	fake.override_rc = -EBUSY;
	expect_err(post(fx->port, p, "{\"state\": \"down\"}"), 409, "canned error");
	fake.override_rc = STEER_EDB;
	expect_err(post(fx->port, p, "{\"state\": \"down\"}"), 500, "canned error");
}

static void test_explain_failback_reload(void **state)
{
	struct fx *fx = *state;
	struct reply *r;

	start(fx, (struct steer_api_opts){.token = TOKEN});
	expect_err(get(fx->port, "/v1/explain"), 400, "name: required");
	expect_err(get(fx->port, "/v1/explain?type=A"), 400, "name: required");
	expect_err(get(fx->port, "/v1/explain?name=a&color=red"), 400, "accepted: name type");
	r = get(fx->port, "/v1/explain?name=www.example.com&type=A&client=198.51.100.7");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_string_equal(fake.name, "www.example.com");
	assert_string_equal(fake.type, "A");
	assert_string_equal(fake.client, "198.51.100.7");
	r = get(fx->port, "/v1/explain?name=a+b%2Ec");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_string_equal(fake.name, "a b.c");
	assert_string_equal(fake.type, "(null)");

	r = post(fx->port, "/v1/balancers/www/failback", "{}");
	assert_int_equal(r->status, 200);
	reply_free(r);
	assert_string_equal(fake.balancer, "www");
	expect_err(post(fx->port, "/v1/balancers/busy/failback", NULL), 409, "not failed over");
	expect_err(post(fx->port, "/v1/balancers/www/failback", "{\"force\": true}"), 400,
		   "nothing or {}");

	fake.reload_rc = STEER_ECONFIG;
	r = post(fx->port, "/v1/reload", NULL);
	assert_int_equal(r->status, 422);
	assert_false(json_is_true(json_object_get(r->json, "ok")));
	assert_int_equal(json_array_size(json_object_get(r->json, "errors")), 1);
	reply_free(r);
	fake.reload_rc = -EIO;
	expect_err(post(fx->port, "/v1/reload", NULL), 500, "");
}

static void test_timeout(void **state)
{
	struct fx *fx = *state;
	static const char part[] = "GET /v1/version HTTP/1.1\r\nHost: x\r\n";
	static const char slow_body[] = "POST /v1/reload HTTP/1.1\r\nHost: x\r\n"
					"Content-Length: 5\r\n\r\nab";
	char buf[64];
	struct reply *r;
	int fd;

	start(fx, (struct steer_api_opts){.io_timeout_ms = 200});
	fd = dial("127.0.0.1", fx->port);
	send_all(fd, part, strlen(part));
	/* the server closes it without an answer; SO_RCVTIMEO (5 s) bounds the wait */
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	/* a body that never comes */
	fd = dial("127.0.0.1", fx->port);
	send_all(fd, slow_body, strlen(slow_body));
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	r = get(fx->port, "/v1/version");
	assert_int_equal(r->status, 200);
	reply_free(r);
}

static void test_max_conns(void **state)
{
	struct fx *fx = *state;
	struct reply *r;
	char buf[64];
	int a, b, c;
	ssize_t n;

	start(fx, (struct steer_api_opts){.max_conns = 2});
	a = dial("127.0.0.1", fx->port);
	b = dial("127.0.0.1", fx->port);
	c = dial("127.0.0.1", fx->port); /* accepted after a and b, over the limit: closed */
	n = recv(c, buf, sizeof(buf), 0);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	close(c);
	close(a);
	/* once the server has seen a close, a new connection is served (bounded retries) */
	r = get(fx->port, "/v1/version");
	for (int i = 0; i < 200 && r->status != 200; i++) {
		const struct timespec pause = {.tv_nsec = 10 * 1000000L};

		reply_free(r);
		nanosleep(&pause, NULL);
		r = get(fx->port, "/v1/version");
	}
	assert_int_equal(r->status, 200);
	reply_free(r);
	close(b);
}

static void test_stop_right_after_start(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 20; i++) {
		start(fx, (struct steer_api_opts){0});
		steer_api_stop(fx->api);
		steer_api_stop(fx->api); /* idempotent */
		steer_api_free(fx->api);
		fx->api = NULL;
	}
	steer_api_free(NULL);
}

/* A connection left open at stop is closed by free. */
static void test_free_with_open_conn(void **state)
{
	struct fx *fx = *state;
	const struct timespec pause = {.tv_nsec = 20 * 1000000L};
	char buf[16];
	int fd;

	start(fx, (struct steer_api_opts){0});
	fd = dial("127.0.0.1", fx->port);
	send_all(fd, "GET /v1/ver", 11);
	nanosleep(&pause, NULL); /* not an assertion: lets the server accept it (or not) */
	steer_api_free(fx->api);
	fx->api = NULL;
	assert_true(recv(fd, buf, sizeof(buf), 0) <= 0);
	close(fd);
}

/* Garbage never crashes the server; each answer is JSON or a plain close. */
static void test_garbage(void **state)
{
	struct fx *fx = *state;
	static const char alphabet[] = "GETPOST /v1%?&=:\r\n\t HTTP/1.1Host0123456789\x00\xff{}";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char raw[600];
	struct reply *r;

	start(fx, (struct steer_api_opts){.io_timeout_ms = 100, .token = TOKEN});
	for (int i = 0; i < 200; i++) {
		size_t len;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 20 + (size_t)(seed >> 33) % 500;
		snprintf(raw, sizeof(raw), "GET /v1/");
		for (size_t j = 8; j < len; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			raw[j] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
		}
		snprintf(raw + len, sizeof(raw) - len, "\r\n\r\n");
		reply_free(xfer_on("127.0.0.1", fx->port, raw, len + 4));
	}
	r = get(fx->port, "/v1/version");
	assert_int_equal(r->status, 200);
	reply_free(r);
}

/* ---- history and events ---- */

static const char schema[] =
	"CREATE TABLE origins (id INTEGER PRIMARY KEY, pool TEXT NOT NULL, name TEXT NOT NULL,"
	" address TEXT NOT NULL, first_seen_ms INTEGER NOT NULL, UNIQUE (pool, name, address));"
	"CREATE TABLE probes (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id), ok INTEGER NOT NULL,"
	" rtt_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, reason TEXT);"
	"CREATE TABLE origin_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" origin_id INTEGER NOT NULL REFERENCES origins (id), pool TEXT NOT NULL,"
	" origin TEXT NOT NULL, address TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,"
	" reason TEXT);"
	"CREATE TABLE pool_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" pool TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, reason TEXT);"
	"CREATE TABLE balancer_transitions (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" balancer TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, reason TEXT);";

static const char override_schema[] =
	"CREATE TABLE override_log (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" pool TEXT NOT NULL, origin TEXT, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" until_ms INTEGER, source TEXT NOT NULL);";

static void db_exec(const char *path, const char *fmt, ...) STEER_PRINTF(2, 3);

static void db_exec(const char *path, const char *fmt, ...)
{
	char sql[4096];
	sqlite3 *db = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(
		sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Probes at now - 1 h, - 2 h (two addresses), - 3 d; one of pool "a/b". */
static int64_t fill_probes(const char *path)
{
	const int64_t t = now_ms();

	db_exec(path, "PRAGMA journal_mode=WAL; %s", schema);
	db_exec(path,
		"INSERT INTO origins VALUES (1, 'web', 'www1', '192.0.2.1', 0),"
		" (2, 'web', 'www1', '192.0.2.2', 0), (3, 'a/b', 'c', '192.0.2.3', 0),"
		" (4, 'web', 'www2', '192.0.2.4', 0);"
		"INSERT INTO probes (time_ms, origin_id, ok, rtt_ms, http_status, reason) VALUES"
		" (%lld, 1, 1, 12, 200, 'HTTP 200'), (%lld, 2, 0, 2000, 0, 'timeout'),"
		" (%lld, 1, 1, 15, 200, NULL), (%lld, 3, 1, 5, 204, 'HTTP 204'),"
		" (%lld, 4, 1, 7, 200, 'other origin');",
		(long long)(t - 3600000), (long long)(t - 7200000), (long long)(t - 3 * 86400000LL),
		(long long)(t - 60000), (long long)(t - 1000));
	return t;
}

static void test_history(void **state)
{
	struct fx *fx = *state;
	const int64_t t = fill_probes(fx->db);
	char target[128];
	json_t *p, *p0;
	struct reply *r;

	start(fx, (struct steer_api_opts){0});
	r = get(fx->port, "/v1/origins/web/www1/history");
	assert_int_equal(r->status, 200);
	assert_string_equal(jstr(r->json, "pool"), "web");
	assert_string_equal(jstr(r->json, "origin"), "www1");
	p = json_object_get(r->json, "probes");
	assert_int_equal(json_array_size(p), 3);
	p0 = json_array_get(p, 0);
	assert_int_equal(json_integer_value(json_object_get(p0, "time_ms")), t - 3600000);
	assert_string_equal(jstr(p0, "address"), "192.0.2.1");
	assert_true(json_is_true(json_object_get(p0, "ok")));
	assert_int_equal(json_integer_value(json_object_get(p0, "rtt_ms")), 12);
	assert_int_equal(json_integer_value(json_object_get(p0, "http_status")), 200);
	assert_string_equal(jstr(p0, "reason"), "HTTP 200");
	assert_string_equal(jstr(json_array_get(p, 1), "reason"), "timeout");
	assert_false(json_is_true(json_object_get(json_array_get(p, 1), "ok")));
	assert_string_equal(jstr(json_array_get(p, 2), "reason"), ""); /* NULL in the table */
	reply_free(r);

	r = get(fx->port, "/v1/origins/web/www1/history?since=90m&limit=5");
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 1);
	reply_free(r);
	snprintf(target, sizeof(target), "/v1/origins/web/www1/history?since=%lld",
		 (long long)((t - 4 * 86400000LL) / 1000));
	r = get(fx->port, target);
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 3);
	reply_free(r);
	r = get(fx->port, "/v1/origins/web/www1/history?since=2d&limit=1");
	p = json_object_get(r->json, "probes");
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(jstr(json_array_get(p, 0), "address"), "192.0.2.1");
	reply_free(r);

	/* %2F stays inside its segment */
	r = get(fx->port, "/v1/origins/a%2Fb/c/history");
	assert_int_equal(r->status, 200);
	assert_string_equal(jstr(r->json, "pool"), "a/b");
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 1);
	reply_free(r);
	r = get(fx->port, "/v1/origins/nope/www1/history");
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 0);
	reply_free(r);

	expect_err(get(fx->port, "/v1/origins/web/www1/history?limit=0"), 400, "limit:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?limit=10001"), 400, "limit:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?limit=1h"), 400, "limit:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?limit="), 400, "limit:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?since=1y"), 400, "since:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?since=-5"), 400, "since:");
	expect_err(get(fx->port, "/v1/origins/web/www1/history?since=12345678901"), 400, "since:");
	r = get(fx->port, "/v1/origins/web/www1/history?limit=10000");
	assert_int_equal(r->status, 200);
	reply_free(r);
}

static void check_event(const json_t *e, const char *kind, const char *pool, const char *origin,
			const char *from, const char *to)
{
	assert_string_equal(jstr(e, "kind"), kind);
	if (pool != NULL)
		assert_string_equal(jstr(e, "pool"), pool);
	else
		assert_true(json_is_null(json_object_get(e, "pool")));
	if (origin != NULL)
		assert_string_equal(jstr(e, "origin"), origin);
	else
		assert_true(json_is_null(json_object_get(e, "origin")));
	if (from != NULL)
		assert_string_equal(jstr(e, "from"), from);
	else
		assert_true(json_is_null(json_object_get(e, "from")));
	assert_string_equal(jstr(e, "to"), to);
	assert_non_null(jstr(e, "reason"));
}

static void test_events(void **state)
{
	struct fx *fx = *state;
	const int64_t t = fill_probes(fx->db);
	json_t *ev, *e;
	struct reply *r;

	db_exec(fx->db,
		"INSERT INTO origin_transitions (time_ms, origin_id, pool, origin, address,"
		" from_state, to_state, reason) VALUES (%lld, 1, 'web', 'www1', '192.0.2.1',"
		" NULL, 'up', 'restored'), (%lld, 1, 'web', 'www1', '192.0.2.1', 'up', 'down',"
		" 'HTTP 503');"
		"INSERT INTO pool_transitions (time_ms, pool, from_state, to_state, reason)"
		" VALUES (%lld, 'web', 'healthy', 'unhealthy', NULL);"
		"INSERT INTO balancer_transitions (time_ms, balancer, from_state, to_state, reason)"
		" VALUES (%lld, 'www', 'web', 'fallback:dr', 'pool web unhealthy');",
		(long long)(t - 5000000), (long long)(t - 40000), (long long)(t - 30000),
		(long long)(t - 20000));
	start(fx, (struct steer_api_opts){0});
	/* no override_log table yet (an older schema): the other tables are still read */
	r = get(fx->port, "/v1/events");
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "events")), 4);
	reply_free(r);

	db_exec(fx->db,
		"%s INSERT INTO override_log (time_ms, pool, origin, state, reason, until_ms,"
		" source) VALUES (%lld, 'web', 'www1', 'drain', 'patching', %lld, 'api'),"
		" (%lld, 'web', NULL, 'auto', '', NULL, 'expired');",
		override_schema, (long long)(t - 10000), (long long)(t + 1800000),
		(long long)(t - 5000));
	r = get(fx->port, "/v1/events");
	ev = json_object_get(r->json, "events");
	assert_int_equal(json_array_size(ev), 6);
	e = json_array_get(ev, 0);
	check_event(e, "override", "web", NULL, NULL, "auto");
	assert_true(json_is_null(json_object_get(e, "until_ms")));
	assert_string_equal(jstr(e, "source"), "expired");
	e = json_array_get(ev, 1);
	check_event(e, "override", "web", "www1", NULL, "drain");
	assert_int_equal(json_integer_value(json_object_get(e, "until_ms")), t + 1800000);
	assert_string_equal(jstr(e, "source"), "api");
	assert_string_equal(jstr(e, "reason"), "patching");
	e = json_array_get(ev, 2);
	check_event(e, "balancer", NULL, NULL, "web", "fallback:dr");
	assert_string_equal(jstr(e, "balancer"), "www");
	assert_true(json_is_null(json_object_get(e, "source")));
	assert_true(json_is_null(json_object_get(e, "until_ms")));
	e = json_array_get(ev, 3);
	check_event(e, "pool", "web", NULL, "healthy", "unhealthy");
	assert_string_equal(jstr(e, "reason"), "");
	e = json_array_get(ev, 4);
	check_event(e, "origin", "web", "www1", "up", "down");
	assert_string_equal(jstr(e, "address"), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(e, "time_ms")), t - 40000);
	check_event(json_array_get(ev, 5), "origin", "web", "www1", NULL, "up");
	reply_free(r);

	r = get(fx->port, "/v1/events?since=1h&limit=2");
	ev = json_object_get(r->json, "events");
	assert_int_equal(json_array_size(ev), 2);
	assert_string_equal(jstr(json_array_get(ev, 1), "to"), "drain");
	reply_free(r);
	r = get(fx->port, "/v1/events?since=35s");
	assert_int_equal(json_array_size(json_object_get(r->json, "events")), 4);
	reply_free(r);
	expect_err(get(fx->port, "/v1/events?limit=abc"), 400, "limit: expected an integer");
	expect_err(get(fx->port, "/v1/events?since=soon"), 400, "since: expected a duration");
	expect_err(get(fx->port, "/v1/events?pool=web"), 400, "accepted: since limit");
}

static void test_missing_db(void **state)
{
	struct fx *fx = *state;
	struct stat sb;
	struct reply *r;

	start(fx, (struct steer_api_opts){0});
	r = get(fx->port, "/v1/events");
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "events")), 0);
	reply_free(r);
	r = get(fx->port, "/v1/origins/web/www1/history");
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 0);
	reply_free(r);
	assert_int_equal(stat(fx->db, &sb), -1); /* the reader never creates it */
	assert_int_equal(errno, ENOENT);

	/* the file appears later (the store created it): read from then on */
	fill_probes(fx->db);
	r = get(fx->port, "/v1/origins/web/www1/history");
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 3);
	reply_free(r);
	/* an empty file (no tables yet) */
	steer_api_free(fx->api);
	fx->api = NULL;
	steer_test_rm_rf(fx->db);
	db_exec(fx->db, "PRAGMA user_version = 0");
	start(fx, (struct steer_api_opts){0});
	r = get(fx->port, "/v1/events");
	assert_int_equal(json_array_size(json_object_get(r->json, "events")), 0);
	reply_free(r);
}

static void test_bad_db(void **state)
{
	struct fx *fx = *state;
	FILE *f = fopen(fx->db, "w");
	struct reply *r;

	assert_non_null(f);
	fputs("this is not a database, but it is long enough to have a header .......", f);
	fclose(f);
	start(fx, (struct steer_api_opts){0});
	expect_err(get(fx->port, "/v1/events"), 500, "cannot read the history database");
	/* the reader reopens after an error: a good file is read again */
	steer_test_rm_rf(fx->db);
	fill_probes(fx->db);
	r = get(fx->port, "/v1/origins/web/www1/history");
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(json_object_get(r->json, "probes")), 3);
	reply_free(r);
}

static void test_new_errors(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	struct steer_api_addr a = {.text = "203.0.113.254:1", .sa = (struct sockaddr *)&ss};
	struct steer_api_opts o = {.listen = &a, .n_listen = 1, .ops = &ops};
	struct steer_err err = {0};
	struct steer_api *api = NULL;

	a.len = make_addr("203.0.113.254", 1, &ss); /* not an address of this machine */
	assert_true(steer_api_new(&o, &api, &err) < 0);
	assert_null(api);
	assert_non_null(strstr(err.msg, "203.0.113.254:1"));
	o.ops = NULL;
	assert_int_equal(steer_api_new(&o, &api, &err), STEER_EINVAL);
	(void)fx;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_version_status),
		T(test_zone),
		T(test_not_found_and_method),
		T(test_malformed),
		T(test_limits),
		T(test_expect_continue),
		T(test_auth),
		T(test_no_token),
		T(test_loopback),
		T(test_public_listener),
		T(test_override),
		T(test_override_refused),
		T(test_explain_failback_reload),
		T(test_timeout),
		T(test_max_conns),
		T(test_stop_right_after_start),
		T(test_free_with_open_conn),
		T(test_garbage),
		T(test_history),
		T(test_events),
		T(test_missing_db),
		T(test_bad_db),
		T(test_new_errors),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
