/*
 * Tests of notifications: the `notifications` config (every error with file:line:col and
 * JSON path), SHA-256/HMAC against the RFC 4231 vectors, the message of each target type,
 * the SQLite outbox (real files), and the notifier against a real HTTP receiver on
 * loopback and real exec targets: order, digests, retries, and a restart mid-send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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

#include "config/config.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hmac.h"
#include "notify/notify.h"
#include "store/outbox.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];
static char oldcwd[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	if (getcwd(oldcwd, sizeof(oldcwd)) == NULL ||
	    steer_test_tmpdir(tmpdir, sizeof(tmpdir), "steer-notify") < 0 || chdir(tmpdir) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(oldcwd) < 0)
		return -1;
	return steer_test_rm_rf(tmpdir);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	FILE *f = fopen(rel, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(rel, mode), 0);
}

/* Wait (at most 10 s) for @p cond(@p arg). */
static bool wait_until(bool (*cond)(void *), void *arg)
{
	struct timespec ts = {0, 20 * 1000000L};

	for (int i = 0; i < 500; i++) {
		if (cond(arg))
			return true;
		nanosleep(&ts, NULL);
	}
	return cond(arg);
}

/* ---- configuration ---- */

/* The main file: notifications from line 8 on, one target per line. */
static const char main_fmt[] = "{\n"
			       "  \"listen\": [\"127.0.0.1:5353\"],\n"
			       "  \"zone\": {\"name\": \"lb.example.test\",\n"
			       "    \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": "
			       "\"h.example.test\", \"serial\": 1, \"refresh\": 1, \"retry\": 1, "
			       "\"expire\": 1, \"minimum\": 1, \"ttl\": 1},\n"
			       "    \"ns\": [\"ns1.lb.example.test\"]},\n"
			       "  \"identity\": \"notify-test\",\n"
			       "  \"notifications\": [\n"
			       "%s\n"
			       "  ]\n"
			       "}\n";

static void put_main(const char *targets)
{
	char buf[8192];

	snprintf(buf, sizeof(buf), main_fmt, targets);
	put("steerd.json", buf, 0644);
	assert_true(mkdir("pools", 0755) == 0 || errno == EEXIST);
	assert_true(mkdir("monitors", 0755) == 0 || errno == EEXIST);
}

/* Load steerd.json and expect exactly the errors @p want (NULL-terminated). */
static void expect_errors(const char *const *want)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char line[1024];
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(steer_config_load("steerd.json", &cfg, &errs), STEER_ECONFIG);
	for (size_t i = 0; i < errs.n; i++)
		print_message("got: %s\n", steer_err_format(&errs.v[i], line, sizeof(line)));
	assert_int_equal(errs.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(steer_err_format(&errs.v[i], line, sizeof(line)), want[i]);
	steer_errs_fini(&errs);
}

static struct steer_config *load_ok(void)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char line[1024];
	int rc = steer_config_load("steerd.json", &cfg, &errs);

	for (size_t i = 0; i < errs.n; i++)
		print_message("error: %s\n", steer_err_format(&errs.v[i], line, sizeof(line)));
	assert_int_equal(rc, 0);
	steer_errs_fini(&errs);
	return cfg;
}

static void test_config_all_types(void **state)
{
	struct steer_config *cfg;
	const struct steer_notify_target *t;

	(void)state;
	put("hook.secret", "0123456789abcdef-secret\n", 0600);
	put("ntfy.token", "tk_123\n", 0600);
	put("smtp.auth", "alice:s3cret\n", 0600);
	put("run.sh", "#!/bin/sh\nexit 0\n", 0755);
	put_main(
		"{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/x\", "
		"\"secret_file\": \"hook.secret\"},\n"
		"{\"name\": \"chat\", \"type\": \"slack\", \"url\": \"https://h.example/s\", "
		"\"events\": [\"origin\", \"reload\"], \"coalesce\": 0},\n"
		"{\"name\": \"d\", \"type\": \"discord\", \"url\": \"https://h.example/d\"},\n"
		"{\"name\": \"n\", \"type\": \"ntfy\", \"url\": \"https://ntfy.example/t\", "
		"\"token_file\": \"ntfy.token\"},\n"
		"{\"name\": \"g\", \"type\": \"gotify\", \"url\": \"https://g.example/message\"},\n"
		"{\"name\": \"mail\", \"type\": \"email\", \"url\": \"smtp://127.0.0.1:25\", "
		"\"from\": \"steer@example.test\", \"to\": [\"a@example.test\", "
		"\"b@example.test\"], \"auth_file\": \"smtp.auth\", \"timeout\": 30},\n"
		"{\"name\": \"run\", \"type\": \"exec\", \"command\": [\"RUN\", \"--x\"], "
		"\"retry_max\": 60, \"max_age\": 3600}");
	/* the exec path must be absolute: rewrite RUN with this folder */
	{
		char path[PATH_MAX + 16], text[8192];
		FILE *f = fopen("steerd.json", "r");
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		char *at;

		fclose(f);
		text[n] = '\0';
		at = strstr(text, "\"RUN\"");
		snprintf(path, sizeof(path), "\"%s/run.sh\"%s", tmpdir, at + 5);
		snprintf(at, sizeof(text) - (size_t)(at - text), "%s", path);
		put("steerd.json", text, 0644);
	}
	cfg = load_ok();
	assert_int_equal(cfg->notify.n, 7);
	t = &cfg->notify.t[0];
	assert_string_equal(t->name, "hook");
	assert_int_equal(t->type, STEER_NOTIFY_WEBHOOK);
	assert_string_equal(t->secret, "0123456789abcdef-secret");
	assert_int_equal(t->events, STEER_NOTIFY_POOL | STEER_NOTIFY_BALANCER);
	assert_int_equal(t->coalesce_ms, STEER_DEFAULT_NOTIFY_COALESCE_S * 1000);
	assert_int_equal(t->timeout_ms, STEER_DEFAULT_NOTIFY_TIMEOUT_S * 1000);
	assert_int_equal(t->retry_max_ms, STEER_DEFAULT_NOTIFY_RETRY_MAX_S * 1000);
	assert_int_equal(t->max_age_ms, STEER_DEFAULT_NOTIFY_MAX_AGE_S * 1000);
	t = &cfg->notify.t[1];
	assert_int_equal(t->events, STEER_NOTIFY_ORIGIN | STEER_NOTIFY_RELOAD);
	assert_int_equal(t->coalesce_ms, 0);
	assert_string_equal(cfg->notify.t[3].secret, "tk_123");
	t = &cfg->notify.t[5];
	assert_int_equal(t->type, STEER_NOTIFY_EMAIL);
	assert_int_equal(t->n_to, 2);
	assert_string_equal(t->to[1], "b@example.test");
	assert_string_equal(t->secret, "alice:s3cret");
	assert_int_equal(t->timeout_ms, 30000);
	t = &cfg->notify.t[6];
	assert_int_equal(t->argc, 2);
	assert_string_equal(t->argv[1], "--x");
	assert_int_equal(t->retry_max_ms, 60000);
	assert_int_equal(t->max_age_ms, 3600000);
	steer_config_free(cfg);
}

static void test_config_errors_keys(void **state)
{
	static const char *const want[] = {
		"steerd.json:8:1: notifications[0]: missing required key \"url\"",
		"steerd.json:8:34: notifications[0].secret_fil: unknown key (did you mean "
		"\"secret_file\"?)",
		"steerd.json:9:23: notifications[1].type: must be one of \"webhook\", \"slack\", "
		"\"discord\", \"ntfy\", \"gotify\", \"email\", \"exec\"",
		"steerd.json:10:39: notifications[2].url: must be an http:// or https:// URL with "
		"a "
		"host and no spaces",
		"steerd.json:10:69: notifications[2].events[1]: must be one of \"origin\", "
		"\"pool\", "
		"\"balancer\", \"override\", \"reload\"",
		"steerd.json:11:1: notifications[3]: missing required key \"to\"",
		"steerd.json:11:10: notifications[3].name: duplicate notification \"a\" (also "
		"notifications[0])",
		"steerd.json:11:39: notifications[3].url: must be an smtp:// or smtps:// URL with "
		"a "
		"host and no spaces",
		"steerd.json:11:59: notifications[3].from: must be an email address "
		"(user@example.com)",
		NULL,
	};

	(void)state;
	put_main("{\"name\": \"a\", \"type\": \"webhook\", \"secret_fil\": \"x\"},\n"
		 "{\"name\": \"b\", \"type\": \"sms\"},\n"
		 "{\"name\": \"c\", \"type\": \"slack\", \"url\": \"ftp://x\", \"events\": "
		 "[\"pool\", "
		 "\"flap\"]},\n"
		 "{\"name\": \"a\", \"type\": \"email\", \"url\": \"http://x\", \"from\": "
		 "\"nobody\"}");
	expect_errors(want);
}

static void test_config_errors_values(void **state)
{
	static const char *const want[] = {
		"steerd.json:8:70: notifications[0].secret_file: hook.secret is readable by other "
		"users; chmod 600 it",
		"steerd.json:9:70: notifications[1].secret_file: short.secret must hold a secret "
		"of "
		"at least 16 printable ASCII characters without spaces",
		"steerd.json:10:66: notifications[2].token_file: cannot read missing.token: No "
		"such "
		"file or directory",
		"steerd.json:11:43: notifications[3].command[0]: must be an absolute path (no "
		"shell "
		"and no PATH search)",
		"steerd.json:11:65: notifications[3].timeout: must be between 1 and 300",
		"steerd.json:12:43: notifications[4].command[0]: cannot use /nonexistent/x: No "
		"such "
		"file or directory",
		NULL,
	};

	(void)state;
	put("hook.secret", "0123456789abcdef-secret\n", 0644);
	put("short.secret", "short\n", 0600);
	put_main("{\"name\": \"a\", \"type\": \"webhook\", \"url\": \"http://h/x\", "
		 "\"secret_file\": "
		 "\"hook.secret\"},\n"
		 "{\"name\": \"b\", \"type\": \"webhook\", \"url\": \"http://h/x\", "
		 "\"secret_file\": "
		 "\"short.secret\"},\n"
		 "{\"name\": \"c\", \"type\": \"ntfy\", \"url\": \"http://h/x\", \"token_file\": "
		 "\"missing.token\"},\n"
		 "{\"name\": \"d\", \"type\": \"exec\", \"command\": [\"run.sh\"], \"timeout\": "
		 "0},\n"
		 "{\"name\": \"e\", \"type\": \"exec\", \"command\": [\"/nonexistent/x\"]}");
	expect_errors(want);
}

/* ---- SHA-256 and HMAC ---- */

static void test_hmac_vectors(void **state)
{
	static const char *const rfc4231_1 =
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	static const char *const rfc4231_2 =
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	static const char *const rfc4231_6 =
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	uint8_t key[131];
	char hex[65];

	(void)state;
	memset(key, 0x0b, 20);
	steer_hmac_sha256_hex(key, 20, "Hi There", 8, hex);
	assert_string_equal(hex, rfc4231_1);
	steer_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex, rfc4231_2);
	memset(key, 0xaa, sizeof(key));
	steer_hmac_sha256_hex(key, sizeof(key),
			      "Test Using Larger Than Block-Size Key - Hash Key First", 54, hex);
	assert_string_equal(hex, rfc4231_6);
}

/* ---- messages ---- */

static json_t *event_obj(const struct steer_notify_event *ev, int64_t id)
{
	char *s = steer_notify_event_json(ev);
	json_t *o = json_loads(s, 0, NULL);

	free(s);
	assert_non_null(o);
	json_object_set_new(o, "id", json_integer(id));
	return o;
}

static const struct steer_notify_event ev_balancer = {.kind = STEER_NOTIFY_BALANCER,
						      .time_ms = 1795982337868,
						      .balancer = "api",
						      .from = "homelab",
						      .to = "failover:parents",
						      .reason = "lab-a: connect refused"};
static const struct steer_notify_event ev_origin = {.kind = STEER_NOTIFY_ORIGIN,
						    .time_ms = 1795982337000,
						    .pool = "homelab",
						    .origin = "lab-a",
						    .address = "127.0.0.11",
						    .from = "up",
						    .to = "down",
						    .reason = "connect refused"};

static void test_event_json_and_lines(void **state)
{
	json_t *b = event_obj(&ev_balancer, 7), *o = event_obj(&ev_origin, 6);
	struct steer_notify_event pool = {
		.kind = STEER_NOTIFY_POOL, .pool = "homelab", .from = "healthy", .to = "unhealthy"};
	struct steer_notify_event ovr = {.kind = STEER_NOTIFY_OVERRIDE,
					 .pool = "homelab",
					 .origin = "lab-a",
					 .to = "drain",
					 .reason = "kernel upgrade"};
	json_t *p = event_obj(&pool, 8), *v = event_obj(&ovr, 9);
	char line[600];

	(void)state;
	assert_string_equal(json_string_value(json_object_get(b, "event")), "balancer");
	assert_string_equal(json_string_value(json_object_get(b, "time")),
			    "2026-11-29T19:58:57.868Z");
	assert_string_equal(json_string_value(json_object_get(b, "served")), "parents");
	assert_true(json_is_null(json_object_get(b, "pool")));
	assert_string_equal(steer_notify_line(b, line, sizeof(line)),
			    "api: homelab → parents (lab-a: connect refused)");
	assert_string_equal(json_string_value(json_object_get(b, "text")), line);
	assert_string_equal(steer_notify_line(o, line, sizeof(line)),
			    "homelab/lab-a (127.0.0.11): up → down (connect refused)");
	assert_string_equal(steer_notify_line(p, line, sizeof(line)),
			    "pool homelab: healthy → unhealthy");
	assert_string_equal(steer_notify_line(v, line, sizeof(line)),
			    "override of homelab/lab-a: drain (kernel upgrade)");
	json_decref(b);
	json_decref(o);
	json_decref(p);
	json_decref(v);
}

static json_t *two_events(void)
{
	json_t *arr = json_array();

	json_array_append_new(arr, event_obj(&ev_origin, 6));
	json_array_append_new(arr, event_obj(&ev_balancer, 7));
	return arr;
}

static void test_payload_webhook(void **state)
{
	struct steer_notify_target t = {.type = STEER_NOTIFY_WEBHOOK, .secret = "k3y-0123456789ab"};
	struct steer_notify_payload p;
	json_t *one = json_array(), *two = two_events(), *doc;
	char hex[65], want[96];

	(void)state;
	json_array_append_new(one, event_obj(&ev_balancer, 7));
	assert_int_equal(steer_notify_payload_build(&t, one, 1795982400, &p), 0);
	doc = json_loads(p.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "event")), "balancer");
	assert_int_equal(json_integer_value(json_object_get(doc, "id")), 7);
	assert_int_equal(json_integer_value(json_object_get(doc, "sent")), 1795982400);
	json_decref(doc);
	steer_hmac_sha256_hex(t.secret, strlen(t.secret), p.body, p.len, hex);
	snprintf(want, sizeof(want), "X-Steer-Signature: sha256=%s", hex);
	assert_string_equal(p.headers[0], "Content-Type: application/json");
	assert_string_equal(p.headers[1], "X-Steer-Id: 7");
	assert_string_equal(p.headers[2], "X-Steer-Timestamp: 1795982400");
	assert_string_equal(p.headers[3], want);
	steer_notify_payload_fini(&p);
	assert_int_equal(steer_notify_payload_build(&t, two, 1795982400, &p), 0);
	doc = json_loads(p.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "event")), "digest");
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(doc, "id")), 7);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 2);
	assert_int_equal(p.last_id, 7);
	json_decref(doc);
	steer_notify_payload_fini(&p);
	json_decref(one);
	json_decref(two);
}

static void test_payload_chat_and_email(void **state)
{
	static const char digest[] = "2 events:\n"
				     "- homelab/lab-a (127.0.0.11): up → down (connect refused)\n"
				     "- api: homelab → parents (lab-a: connect refused)";
	struct steer_notify_target t = {
		.name = "m", .from = "s@example.test", .n_to = 1, .to = {"ops@example.test"}};
	struct steer_notify_payload p;
	json_t *two = two_events(), *doc;

	(void)state;
	t.type = STEER_NOTIFY_SLACK;
	assert_int_equal(steer_notify_payload_build(&t, two, 0, &p), 0);
	doc = json_loads(p.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "text")), digest);
	json_decref(doc);
	steer_notify_payload_fini(&p);
	t.type = STEER_NOTIFY_DISCORD;
	assert_int_equal(steer_notify_payload_build(&t, two, 0, &p), 0);
	doc = json_loads(p.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "content")), digest);
	json_decref(doc);
	steer_notify_payload_fini(&p);
	t.type = STEER_NOTIFY_GOTIFY;
	snprintf(t.secret, sizeof(t.secret), "gtoken");
	assert_int_equal(steer_notify_payload_build(&t, two, 0, &p), 0);
	doc = json_loads(p.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "title")), "steer: 2 events");
	assert_string_equal(json_string_value(json_object_get(doc, "message")), digest);
	assert_string_equal(p.headers[1], "X-Gotify-Key: gtoken");
	json_decref(doc);
	steer_notify_payload_fini(&p);
	t.type = STEER_NOTIFY_NTFY;
	assert_int_equal(steer_notify_payload_build(&t, two, 0, &p), 0);
	assert_string_equal(p.body, digest);
	assert_string_equal(p.headers[3], "Authorization: Bearer gtoken");
	steer_notify_payload_fini(&p);
	t.type = STEER_NOTIFY_EMAIL;
	assert_int_equal(steer_notify_payload_build(&t, two, 0, &p), 0);
	assert_non_null(strstr(p.body, "To: ops@example.test\r\n"));
	assert_non_null(strstr(p.body, "Message-ID: <steer-m-7@steerd>\r\n"));
	assert_non_null(strstr(p.body, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(p.body, digest));
	steer_notify_payload_fini(&p);
	json_decref(two);
}

/* ---- the outbox ---- */

static void test_outbox(void **state)
{
	struct steer_outbox_event v[3] = {
		{.time_ms = 1000, .kind = STEER_NOTIFY_POOL, .body = "{\"n\":1}"},
		{.time_ms = 2000, .kind = STEER_NOTIFY_ORIGIN, .body = "{\"n\":2}"},
		{.time_ms = 3000, .kind = STEER_NOTIFY_TEST, .target = "other", .body = "{}"},
	};
	struct steer_outbox_row rows[4];
	struct steer_outbox *ob = NULL;
	struct steer_err err = {0};
	int64_t last = 0, delivered, sending;
	const char *keep[] = {"a"};

	(void)state;
	assert_int_equal(steer_outbox_open("o.db", &ob, &err), 0);
	assert_int_equal(steer_outbox_add(ob, v, 1, &last, &err), 0);
	/* a new target starts after what is already there */
	assert_int_equal(steer_outbox_target(ob, "a", &delivered, &sending, &err), 0);
	assert_int_equal(delivered, last);
	assert_int_equal(sending, 0);
	assert_int_equal(steer_outbox_add(ob, v, 3, &last, &err), 0);
	assert_int_equal(steer_outbox_pending(ob, "a", STEER_NOTIFY_POOL | STEER_NOTIFY_TEST,
					      delivered, INT64_MAX, rows, 4, &err),
			 1);
	assert_int_equal(rows[0].id, delivered + 1);
	assert_string_equal(rows[0].body, "{\"n\":1}");
	steer_outbox_rows_fini(rows, 1);
	assert_int_equal(
		steer_outbox_pending(ob, "other", STEER_NOTIFY_TEST, 0, INT64_MAX, rows, 4, &err),
		1);
	steer_outbox_rows_fini(rows, 1);
	assert_int_equal(steer_outbox_set_sending(ob, "a", last, &err), 0);
	steer_outbox_close(ob);
	/* the marks survive a restart */
	assert_int_equal(steer_outbox_open("o.db", &ob, &err), 0);
	assert_int_equal(steer_outbox_target(ob, "a", &delivered, &sending, &err), 0);
	assert_int_equal(sending, last);
	assert_int_equal(steer_outbox_set_delivered(ob, "a", last, &err), 0);
	assert_int_equal(steer_outbox_target(ob, "a", &delivered, &sending, &err), 0);
	assert_int_equal(delivered, last);
	assert_int_equal(sending, 0);
	/* target "b" is forgotten; every event older than 2500 ms that "a" is past goes */
	assert_int_equal(steer_outbox_target(ob, "b", &delivered, &sending, &err), 0);
	assert_int_equal(steer_outbox_prune(ob, keep, 1, 2500, &err), 3);
	assert_int_equal(steer_outbox_pending(ob, "a", ~0u, 0, INT64_MAX, rows, 4, &err), 0);
	assert_int_equal(steer_outbox_pending(ob, "other", ~0u, 0, INT64_MAX, rows, 4, &err), 1);
	assert_int_equal(rows[0].id, last);
	steer_outbox_rows_fini(rows, 1);
	steer_outbox_close(ob);
}

/* ---- the notifier against a real receiver ---- */

#define RCV_MAX 64

/* An HTTP receiver on 127.0.0.1: records bodies, answers 500 while @c fail > 0. */
struct receiver {
	int fd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
	int fail;
	size_t n;
	char *body[RCV_MAX];
};

static void rcv_one(struct receiver *r, int c)
{
	char buf[65536], *hdr_end = NULL, *cl;
	size_t n = 0, want = 0;
	int status;

	while (n < sizeof(buf) - 1) {
		ssize_t got = recv(c, buf + n, sizeof(buf) - 1 - n, 0);

		if (got <= 0)
			return;
		n += (size_t)got;
		buf[n] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		cl = hdr_end != NULL ? strstr(buf, "Content-Length:") : NULL;
		want = cl != NULL ? strtoul(cl + 15, NULL, 10) : 0;
		if (hdr_end != NULL && n >= (size_t)(hdr_end + 4 - buf) + want)
			break;
	}
	if (hdr_end == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	status = r->fail > 0 ? 500 : 200;
	if (r->fail > 0)
		r->fail--;
	else if (r->n < RCV_MAX)
		r->body[r->n++] = strndup(hdr_end + 4, want);
	pthread_mutex_unlock(&r->mu);
	n = (size_t)snprintf(buf, sizeof(buf),
			     "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			     status);
	assert_int_equal(send(c, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void *rcv_main(void *arg)
{
	struct receiver *r = arg;

	for (;;) {
		struct pollfd p = {.fd = r->fd, .events = POLLIN};
		bool stop;
		int c;

		pthread_mutex_lock(&r->mu);
		stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(r->fd, NULL, NULL);
		if (c >= 0) {
			rcv_one(r, c);
			close(c);
		}
	}
	return NULL;
}

static void rcv_start(struct receiver *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->fd, 16), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&sa, &len), 0);
	r->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, rcv_main, r), 0);
}

static void rcv_stop(struct receiver *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	close(r->fd);
	for (size_t i = 0; i < r->n; i++)
		free(r->body[i]);
	pthread_mutex_destroy(&r->mu);
}

struct rcv_wait {
	struct receiver *r;
	size_t n;
};

static bool rcv_has(void *arg)
{
	struct rcv_wait *w = arg;
	bool ok;

	pthread_mutex_lock(&w->r->mu);
	ok = w->r->n >= w->n;
	pthread_mutex_unlock(&w->r->mu);
	return ok;
}

/* The ids of the events in received body @p i (one event or a digest), as "1,2,3". */
static void body_ids(struct receiver *r, size_t i, char *out, size_t size)
{
	json_t *doc = json_loads(r->body[i], 0, NULL), *evs;
	size_t used = 0;

	assert_non_null(doc);
	evs = json_object_get(doc, "events");
	out[0] = '\0';
	if (evs == NULL)
		snprintf(out, size, "%lld",
			 (long long)json_integer_value(json_object_get(doc, "id")));
	for (size_t k = 0; k < json_array_size(evs); k++)
		used += (size_t)snprintf(out + used, size - used, "%s%lld", k > 0 ? "," : "",
					 (long long)json_integer_value(
						 json_object_get(json_array_get(evs, k), "id")));
	json_decref(doc);
}

static struct steer_notify *notifier(const struct steer_notify_conf *conf)
{
	struct steer_notify_opts o = {
		.state_path = "n.db", .conf = conf, .tick_ms = 20, .retry_min_ms = 50};
	struct steer_err err = {0};
	struct steer_notify *n = NULL;

	assert_int_equal(steer_notify_new(&o, &n, &err), 0);
	assert_int_equal(steer_notify_start(n, &err), 0);
	return n;
}

static void webhook_conf(struct steer_notify_conf *conf, uint16_t port, uint32_t coalesce_ms)
{
	struct steer_notify_target *t = &conf->t[0];

	memset(conf, 0, sizeof(*conf));
	conf->n = 1;
	snprintf(t->name, sizeof(t->name), "hook");
	t->type = STEER_NOTIFY_WEBHOOK;
	t->events = STEER_NOTIFY_ORIGIN | STEER_NOTIFY_POOL | STEER_NOTIFY_BALANCER;
	t->coalesce_ms = coalesce_ms;
	t->timeout_ms = 2000;
	t->retry_max_ms = 200;
	t->max_age_ms = 3600000;
	snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%u/steer", port);
}

static void publish_n(struct steer_notify *n, int count, const char *pool)
{
	for (int i = 0; i < count; i++) {
		struct steer_notify_event ev = ev_origin;

		ev.pool = pool;
		/* now, not the fixed time of the format tests: an event older than the
		 * target's max_age would be given up instead of retried */
		ev.time_ms = steer_clock_wall_ms() + i;
		assert_true(steer_notify_publish(n, &ev));
	}
}

/* Events in order, a burst as one digest, a dead receiver retried until it answers. */
static void test_notifier_order_digest_retry(void **state)
{
	static struct steer_notify_conf conf;
	struct receiver r;
	struct rcv_wait w = {.r = &r};
	struct steer_notify *n;
	struct steer_notify_event reload = {.kind = STEER_NOTIFY_RELOAD, .ok = true};
	char ids[256];

	(void)state;
	rcv_start(&r);
	webhook_conf(&conf, r.port, 300);
	n = notifier(&conf);
	assert_false(steer_notify_publish(n, &reload)); /* no target takes reloads */
	publish_n(n, 5, "burst");
	w.n = 1;
	assert_true(wait_until(rcv_has, &w));
	body_ids(&r, 0, ids, sizeof(ids));
	assert_string_equal(ids, "1,2,3,4,5"); /* one digest */
	pthread_mutex_lock(&r.mu);
	r.fail = 3; /* the receiver fails three times: the same message is retried */
	pthread_mutex_unlock(&r.mu);
	publish_n(n, 1, "after");
	w.n = 2;
	assert_true(wait_until(rcv_has, &w));
	body_ids(&r, 1, ids, sizeof(ids));
	assert_string_equal(ids, "6");
	steer_notify_free(n);
	assert_int_equal(r.n, 2); /* nothing twice */
	rcv_stop(&r);
}

/* A crash between the send and the mark: the next start sends the same message again. */
static void test_notifier_resends_after_crash(void **state)
{
	static struct steer_notify_conf conf;
	struct steer_outbox_event v = {.time_ms = 1, .kind = STEER_NOTIFY_POOL};
	struct steer_outbox *ob = NULL;
	struct steer_err err = {0};
	struct receiver r;
	struct rcv_wait w = {.r = &r, .n = 1};
	struct steer_notify *n;
	int64_t delivered, sending, last;
	char *body;
	char ids[64];

	(void)state;
	rcv_start(&r);
	webhook_conf(&conf, r.port, 0);
	assert_int_equal(steer_outbox_open("n.db", &ob, &err), 0);
	assert_int_equal(steer_outbox_target(ob, "hook", &delivered, &sending, &err), 0);
	body = steer_notify_event_json(&(struct steer_notify_event){
		.kind = STEER_NOTIFY_POOL, .pool = "p", .from = "healthy", .to = "unhealthy"});
	v.body = body;
	assert_int_equal(steer_outbox_add(ob, &v, 1, &last, &err), 0);
	assert_int_equal(steer_outbox_add(ob, &v, 1, &last, &err), 0);
	/* as if the process had died after starting to send the first one */
	assert_int_equal(steer_outbox_set_sending(ob, "hook", last - 1, &err), 0);
	steer_outbox_close(ob);
	free(body);
	n = notifier(&conf);
	w.n = 2;
	assert_true(wait_until(rcv_has, &w));
	body_ids(&r, 0, ids, sizeof(ids));
	assert_int_equal(strtoll(ids, NULL, 10), last - 1); /* the same message, alone */
	body_ids(&r, 1, ids, sizeof(ids));
	assert_int_equal(strtoll(ids, NULL, 10), last);
	steer_notify_free(n);
	assert_int_equal(steer_outbox_open("n.db", &ob, &err), 0);
	assert_int_equal(steer_outbox_target(ob, "hook", &delivered, &sending, &err), 0);
	assert_int_equal(delivered, last);
	assert_int_equal(sending, 0);
	steer_outbox_close(ob);
	rcv_stop(&r);
}

static bool file_has_lines(void *arg)
{
	FILE *f = fopen(arg, "r");
	int c, lines = 0;

	if (f == NULL)
		return false;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	return lines >= 1;
}

static void exec_conf(struct steer_notify_conf *conf, const char *script, uint32_t timeout_ms)
{
	struct steer_notify_target *t = &conf->t[0];

	memset(conf, 0, sizeof(*conf));
	conf->n = 1;
	snprintf(t->name, sizeof(t->name), "run");
	t->type = STEER_NOTIFY_EXEC;
	t->events = STEER_NOTIFY_POOL;
	t->timeout_ms = timeout_ms;
	t->retry_max_ms = 60000;
	t->max_age_ms = 3600000;
	assert_true(strlen(tmpdir) + 32 < sizeof(t->argv[0]));
	snprintf(t->argv[0], sizeof(t->argv[0]), "%.200s/%.40s", tmpdir, script);
	snprintf(t->argv[1], sizeof(t->argv[1]), "%.200s/exec.out", tmpdir);
	t->argc = 2;
}

/* exec: stdin JSON and STEER_* variables, a minimal environment; a test event reports. */
static void test_notifier_exec(void **state)
{
	static struct steer_notify_conf conf;
	struct steer_err err = {0};
	struct steer_notify *n;
	json_t *res = NULL, *doc;
	char path[PATH_MAX + 16], line[4096], *end;
	long nenv;
	FILE *f;

	(void)state;
	put("run.sh",
	    "#!/bin/sh\nprintf '%s %s %s ' \"$STEER_EVENT\" \"$STEER_ID\" \"$(env | wc -l)\" >> "
	    "\"$1\"\ncat >> \"$1\"\necho >> \"$1\"\n",
	    0755);
	exec_conf(&conf, "run.sh", 5000);
	n = notifier(&conf);
	assert_int_equal(steer_notify_test(n, "nope", 1000, &res, &err), -ENOENT);
	assert_int_equal(steer_notify_test(n, NULL, 5000, &res, &err), 0);
	assert_true(json_is_true(json_object_get(res, "ok")));
	json_decref(res);
	snprintf(path, sizeof(path), "%s/exec.out", tmpdir);
	assert_true(wait_until(file_has_lines, path));
	steer_notify_free(n);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, "test 1 ", 7), 0);
	nenv = strtol(line + 7, &end, 10);
	assert_true(nenv > 0 && nenv <= 24); /* PATH, LANG and STEER_* only */
	doc = json_loads(end + 1, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "event")), "test");
	json_decref(doc);
}

/* exec past its timeout: killed, reported as a failed attempt. */
static void test_notifier_exec_timeout(void **state)
{
	static struct steer_notify_conf conf;
	struct steer_err err = {0};
	struct steer_notify *n;
	json_t *res = NULL, *t;

	(void)state;
	put("slow.sh", "#!/bin/sh\nexec tail -f /dev/null\n", 0755);
	exec_conf(&conf, "slow.sh", 300);
	n = notifier(&conf);
	assert_int_equal(steer_notify_test(n, "run", 5000, &res, &err), 0);
	assert_true(json_is_false(json_object_get(res, "ok")));
	t = json_array_get(json_object_get(res, "targets"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "error")),
			    "killed after the timeout (300 ms)");
	json_decref(res);
	steer_notify_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_all_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors_values, setup, teardown),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_event_json_and_lines),
		cmocka_unit_test(test_payload_webhook),
		cmocka_unit_test(test_payload_chat_and_email),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_order_digest_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_resends_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_exec_timeout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
