/*
 * Component tests for lib/monitor: real test origins (test/origin/origin.py) on loopback
 * addresses, a config tree written into a temporary folder and loaded with
 * steer_config_load(), and a running prober whose results are collected by the callback.
 * Every wait is bounded; timing assertions are only ever lower or upper bounds.
 */
#define _GNU_SOURCE /* CPU_COUNT, sched_getaffinity */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "health/health.h"
#include "monitor/monitor.h"
#include "testutil.h"

#define MAX_RESULTS 1024
#define HOST_NAME   "api.example.test"

/* ---- helpers: time, files ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char tmpdir[256];

/* Write @p fmt to @p dir/@p rel. */
static void put(const char *dir, const char *rel, const char *fmt, ...) STEER_PRINTF(3, 4);

static void put(const char *dir, const char *rel, const char *fmt, ...)
{
	char path[PATH_MAX];
	FILE *f;
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive of v14 */
	assert_true(vfprintf(f, fmt, ap) >= 0);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

/* Number of lines of @p path containing @p needle (0 if the file is missing). */
static int count_lines(const char *path, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* An argv for execvp(), built from copies. */
struct args {
	char *v[32];
	int n;
};

static void arg(struct args *a, const char *s)
{
	assert_true(a->n + 1 < (int)(sizeof(a->v) / sizeof(a->v[0])));
	a->v[a->n] = strdup(s);
	assert_non_null(a->v[a->n]);
	a->v[++a->n] = NULL;
}

static void args_free(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* Run @p a quietly to completion; @return its exit status or -1. */
static int run_cmd(struct args *a)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(a->v[0], a->v);
		_exit(127);
	}
	args_free(a);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A TCP port on @p ip with nothing listening (bound once, then released). */
static unsigned dead_port(const char *ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* ---- test origins -------------------------------------------------------------------- */

/* The real interpreter behind `python3`: version-manager shims cost ~0.5 s a start. */
static char python[PATH_MAX] = "python3";

static void find_python(void)
{
	FILE *f = popen("python3 -c 'import sys; print(sys.executable)'", "r");
	char buf[PATH_MAX];

	if (f == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL && buf[0] == '/') {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(python, sizeof(python), "%s", buf);
	}
	pclose(f);
}

struct origin {
	const char *ip;
	pid_t pid;
	int out_fd;
	unsigned port;
	char log[PATH_MAX];
	char ctl[PATH_MAX];
};

/* Fork origin.py on @p o->ip, port 0; @p extra: more arguments (NULL-terminated). */
static void origin_spawn(struct origin *o, const char *control, const char *const extra[])
{
	const char *src = getenv("STEER_SRC"); /* NOLINT(concurrency-mt-unsafe): no setenv */
	char script[PATH_MAX], listen[64];
	struct args a = {0};
	int fds[2];

	if (src != NULL)
		snprintf(script, sizeof(script), "%s/test/origin/origin.py", src);
	else /* run by hand: find the script next to this file */
		snprintf(script, sizeof(script), "%.*s/../origin/origin.py",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__);
	snprintf(listen, sizeof(listen), strchr(o->ip, ':') != NULL ? "[%s]:0" : "%s:0", o->ip);
	snprintf(o->log, sizeof(o->log), "%s/origin-%s.log", tmpdir, o->ip);
	snprintf(o->ctl, sizeof(o->ctl), "%s/origin-%s.json", tmpdir, o->ip);
	if (control != NULL)
		put(tmpdir, strrchr(o->ctl, '/') + 1, "%s\n", control);
	arg(&a, python);
	arg(&a, script);
	arg(&a, "--listen");
	arg(&a, listen);
	arg(&a, "--log");
	arg(&a, o->log);
	arg(&a, "--control");
	arg(&a, o->ctl);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		arg(&a, extra[i]);
	assert_int_equal(pipe(fds), 0);
	o->pid = fork();
	assert_true(o->pid >= 0);
	if (o->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(a.v[0], a.v);
		_exit(127);
	}
	args_free(&a);
	close(fds[1]);
	o->out_fd = fds[0];
}

/* Wait (at most 20 s) for "listening HOST:PORT" and take the port. */
static void origin_wait(struct origin *o)
{
	char buf[256] = "";
	size_t len = 0;
	int64_t end = now_ms() + 20000;
	const char *colon;

	while (memchr(buf, '\n', len) == NULL && len + 1 < sizeof(buf)) {
		struct pollfd pfd = {.fd = o->out_fd, .events = POLLIN};
		int64_t left = end - now_ms();
		ssize_t n;

		assert_true(left > 0);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(o->out_fd, buf + len, sizeof(buf) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(o->out_fd);
	o->out_fd = -1;
	assert_non_null(strstr(buf, "listening "));
	colon = strrchr(buf, ':');
	assert_non_null(colon);
	o->port = (unsigned)strtoul(colon + 1, NULL, 10);
	assert_true(o->port > 0);
}

static void origin_kill(struct origin *o)
{
	if (o->pid <= 0)
		return;
	kill(o->pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(o->pid, NULL, WNOHANG) == o->pid) {
			o->pid = 0;
			return;
		}
		nap_ms(50);
	}
	kill(o->pid, SIGKILL);
	waitpid(o->pid, NULL, 0);
	o->pid = 0;
}

/* ---- result collection --------------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct steer_probe_result results[MAX_RESULTS];
static int64_t result_mono[MAX_RESULTS];
static size_t n_results;

static void on_result(void *arg, const struct steer_probe_result *r)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	if (n_results < MAX_RESULTS) {
		result_mono[n_results] = now_ms();
		results[n_results++] = *r;
	}
	pthread_mutex_unlock(&mu);
}

static void results_reset(void)
{
	pthread_mutex_lock(&mu);
	n_results = 0;
	pthread_mutex_unlock(&mu);
}

/* Copy of the first result of @p origin; false if there is none yet. */
static bool first_result(uint32_t origin, struct steer_probe_result *out, int64_t *mono)
{
	bool found = false;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_results && !found; i++) {
		if (results[i].origin == origin) {
			*out = results[i];
			if (mono != NULL)
				*mono = result_mono[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&mu);
	return found;
}

static size_t count_results(uint32_t origin)
{
	size_t n = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_results; i++)
		n += results[i].origin == origin;
	pthread_mutex_unlock(&mu);
	return n;
}

/* ---- config -------------------------------------------------------------------------- */

static const char main_json[] =
	"{\"listen\": [\"127.0.0.1:5353\"],\n"
	" \"zone\": {\"name\": \"lb.example.test\",\n"
	"  \"soa\": {\"mname\": \"ns1.lb.example.test\", \"rname\": \"hostmaster.example.test\",\n"
	"   \"serial\": 1, \"refresh\": 3600, \"retry\": 600, \"expire\": 604800,\n"
	"   \"minimum\": 60, \"ttl\": 3600},\n"
	"  \"ns\": [\"ns1.lb.example.test\"]},\n"
	" \"balancers\": [{\"name\": \"api\", \"default_pools\": [%s]}],\n"
	" \"state\": {\"path\": \"steerd.db\"}}\n";

/* A config folder @p dir with steerd.json naming @p pools (a JSON list body). */
static void config_dir(char *dir, size_t size, const char *name, const char *pools)
{
	snprintf(dir, size, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (int i = 0; i < 2; i++) {
		char sub[PATH_MAX];

		snprintf(sub, sizeof(sub), "%s/%s", dir, i == 0 ? "pools" : "monitors");
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	put(dir, "steerd.json", main_json, pools);
}

static struct steer_config *config_load(const char *dir)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	char path[PATH_MAX], buf[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/steerd.json", dir);
	rc = steer_config_load(path, &cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "config: %s\n", steer_err_format(&errs.v[i], buf, sizeof(buf)));
	steer_errs_fini(&errs);
	assert_int_equal(rc, 0);
	return cfg;
}

static uint32_t origin_index(const struct steer_config *cfg, const char *pool)
{
	const struct steer_pool *p = steer_config_get_pool(cfg, pool);

	assert_non_null(p);
	assert_true(p->n_origins > 0);
	return p->origins[0].index;
}

static struct steer_prober *prober_run(const struct steer_config *cfg)
{
	struct steer_prober *p = NULL;
	struct steer_err err = {0};

	results_reset();
	assert_int_equal(steer_prober_new(cfg, on_result, NULL, &p, &err), 0);
	assert_non_null(steer_prober_get_base(p));
	assert_int_equal(steer_prober_start(p), 0);
	return p;
}

/* Wait (bounded) until every origin of @p pools has a result. */
static void wait_all(const struct steer_config *cfg, const char *const pools[], int64_t max_ms)
{
	int64_t end = now_ms() + max_ms;

	for (size_t i = 0; pools[i] != NULL; i++) {
		uint32_t idx = origin_index(cfg, pools[i]);
		struct steer_probe_result r;

		while (!first_result(idx, &r, NULL) && now_ms() < end)
			nap_ms(20);
		if (!first_result(idx, &r, NULL))
			fail_msg("no result for pool %s within %lld ms", pools[i],
				 (long long)max_ms);
	}
}

/* ---- pure scheduling functions --------------------------------------------------------- */

static void test_first_offset(void **state)
{
	(void)state;
	assert_int_equal(steer_prober_first_offset_ms(0, 1, 10000), 0);
	assert_int_equal(steer_prober_first_offset_ms(0, 10, 10000), 0);
	assert_int_equal(steer_prober_first_offset_ms(1, 10, 10000), 100);
	assert_int_equal(steer_prober_first_offset_ms(9, 10, 10000), 900);
	assert_int_equal(steer_prober_first_offset_ms(1, 4, 400), 100); /* interval < 1 s */
	/* start times are whole 10 ms steps: 666 ms starts with the step at 660 */
	assert_int_equal(steer_prober_first_offset_ms(2, 3, 3600000), 660);
	assert_int_equal(steer_prober_first_offset_ms(5, 0, 1000), 0);
	for (uint32_t k = 0; k < 1000; k++)
		assert_true(steer_prober_first_offset_ms(k, 1000, 60000) < 1000);
}

/* 10,000 origins at 10 s: 1,000 probes/s start in 100 groups of 10 a second (one per
 * 10 ms step), not one at a time; the same for the first round within its 1 s. */
static void test_start_steps(void **state)
{
	static uint16_t steady[10000 / 10], first[1000 / 10];

	(void)state;
	for (uint32_t k = 0; k < 10000; k++) {
		uint32_t s = steer_prober_steady_offset_ms(k, 10000, 10000);
		uint32_t f = steer_prober_first_offset_ms(k, 10000, 10000);

		assert_int_equal(s % 10, 0);
		assert_int_equal(f % 10, 0);
		steady[s / 10]++;
		first[f / 10]++;
	}
	for (size_t i = 0; i < sizeof(steady) / sizeof(steady[0]); i++)
		assert_int_equal(steady[i], 10);
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		assert_int_equal(first[i], 100);
}

static void test_next_due(void **state)
{
	(void)state;
	assert_int_equal(steer_prober_steady_offset_ms(0, 10, 10000), 0);
	assert_int_equal(steer_prober_steady_offset_ms(9, 10, 10000), 9000);
	assert_int_equal(steer_prober_steady_offset_ms(3, 0, 10000), 0);
	/* base 0, offset 250, interval 1000: the grid is 250, 1250, 2250, ... and the next
	 * probe is at least half an interval away */
	assert_int_equal(steer_prober_next_due_ms(0, 250, 1000, 0), 1250);
	assert_int_equal(steer_prober_next_due_ms(0, 250, 1000, 1250), 2250);
	assert_int_equal(steer_prober_next_due_ms(0, 250, 1000, 1263), 2250); /* late: no drift */
	/* a stall skips the missed ticks instead of firing them in a burst */
	assert_int_equal(steer_prober_next_due_ms(0, 250, 1000, 5600), 6250);
	/* from the first round (at 90 ms) onto the grid: not closer than half an interval */
	assert_int_equal(steer_prober_next_due_ms(0, 900, 1000, 90), 900);
	assert_int_equal(steer_prober_next_due_ms(0, 450, 1000, 45), 1450);
	/* many ticks stay on the grid */
	{
		int64_t due = 7;

		for (int i = 0; i < 100; i++)
			due = steer_prober_next_due_ms(7, 0, 1000, due + 13);
		assert_int_equal(due, 7 + 100 * 1000);
	}
}

/* ---- the main scenario: one prober, one pool per case -------------------------------- */

enum { O_OK, O_503, O_BODY, O_HANG, O_REDIR, O_TLS, O_TCP, O_LOCAL, O_BIG, O_V6, O_COUNT };

static struct origin origins[O_COUNT] = {
	[O_OK] = {.ip = "127.0.0.11"},    [O_503] = {.ip = "127.0.0.12"},
	[O_BODY] = {.ip = "127.0.0.13"},  [O_HANG] = {.ip = "127.0.0.14"},
	[O_REDIR] = {.ip = "127.0.0.15"}, [O_TLS] = {.ip = "127.0.0.16"},
	[O_TCP] = {.ip = "127.0.0.17"},   [O_LOCAL] = {.ip = "127.0.0.1"},
	[O_BIG] = {.ip = "127.0.0.18"},   [O_V6] = {.ip = "::1"},
};
#define DEAD_IP "127.0.0.19"

static char cert[PATH_MAX], key[PATH_MAX];
static unsigned dead;
static struct steer_config *main_cfg;
static struct steer_prober *main_prober;
static int64_t main_started;

static void make_cert(void)
{
	static const char *const argv[] = {
		"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", NULL,
	};
	struct args a = {0};

	snprintf(cert, sizeof(cert), "%s/cert.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	for (size_t i = 0; argv[i] != NULL; i++)
		arg(&a, argv[i]);
	arg(&a, "-subj");
	arg(&a, "/CN=" HOST_NAME);
	arg(&a, "-addext");
	arg(&a, "subjectAltName=DNS:" HOST_NAME);
	arg(&a, "-keyout");
	arg(&a, key);
	arg(&a, "-out");
	arg(&a, cert);
	assert_int_equal(run_cmd(&a), 0);
}

static void start_origins(void)
{
	const char *tls[] = {"--tls-cert", cert, "--tls-key", key, NULL};
	const char *tcp[] = {"--tcp-banner", "SSH-2.0-steer\r\n", NULL};
	/* "ok" only after the first 64 KiB: must not be seen */
	static char big[80 * 1024];
	int n = snprintf(big, sizeof(big), "{\"body\": \"");

	memset(big + n, 'x', 70000);
	snprintf(big + n + 70000, sizeof(big) - (size_t)n - 70000, "ok\"}");

	origin_spawn(&origins[O_OK], NULL, NULL);
	origin_spawn(&origins[O_503], "{\"status\": 503, \"body\": \"down\"}", NULL);
	origin_spawn(&origins[O_BODY], "{\"body\": \"fail\"}", NULL);
	origin_spawn(&origins[O_HANG], "{\"mode\": \"hang\"}", NULL);
	origin_spawn(&origins[O_REDIR], "{\"mode\": \"redirect\", \"location\": \"/healthz-ok\"}",
		     NULL);
	origin_spawn(&origins[O_TLS], "{\"require_host\": \"" HOST_NAME "\"}", tls);
	origin_spawn(&origins[O_TCP], NULL, tcp);
	origin_spawn(&origins[O_LOCAL], NULL, NULL);
	origin_spawn(&origins[O_BIG], big, NULL);
	origin_spawn(&origins[O_V6], NULL, NULL);
	for (int i = 0; i < O_COUNT; i++)
		origin_wait(&origins[i]);
}

/* monitors/<name>.json */
static void monitor(const char *dir, const char *name, const char *type, unsigned port,
		    const char *extra)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "monitors/%s.json", name);
	put(dir, rel,
	    "{\"name\": \"%s\", \"type\": \"%s\", \"port\": %u, \"path\": \"/healthz\",\n"
	    " \"interval\": 2%s%s%s%s}\n",
	    name, type, port, strstr(extra, "timeout") == NULL ? ", \"timeout\": 2" : "",
	    strstr(extra, "retries") == NULL ? ", \"retries\": 0" : "",
	    extra[0] != '\0' ? ", " : "", extra);
}

/* pools/<name>.json with one origin at @p addr probed by @p mon. */
static void pool(const char *dir, const char *name, const char *mon, const char *addr,
		 const char *origin_extra)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "pools/%s.json", name);
	put(dir, rel,
	    "{\"name\": \"%s\", \"monitor\": \"%s\",\n"
	    " \"origins\": [{\"name\": \"o\", \"address\": \"%s\"%s%s}]}\n",
	    name, mon, addr, origin_extra[0] != '\0' ? ", " : "", origin_extra);
}

static const char *const main_pools[] = {
	"ok",       "head",         "s503",        "body",         "refused", "hang",
	"redir",    "redir_follow", "tls_default", "tls_insecure", "tls_ca",  "tls_ca_nohost",
	"tcp_ok",   "tcp_send",     "tcp_refused", "tcp_mismatch", "retries", "name_http",
	"name_tcp", "name_bad",     "big",         "v6",           NULL,
};

/* The address each pool of main_pools probes. */
static const char *pool_address(const char *pool)
{
	static const struct {
		const char *prefix;
		int origin; /* -1: DEAD_IP */
	} map[] = {
		{"ok", O_OK},        {"head", O_OK},   {"s503", O_503},    {"body", O_BODY},
		{"refused", -1},     {"hang", O_HANG}, {"redir", O_REDIR}, {"tls", O_TLS},
		{"tcp_refused", -1}, {"tcp", O_TCP},   {"retries", -1},    {"big", O_BIG},
		{"v6", O_V6},
	};

	if (strcmp(pool, "name_bad") == 0)
		return "nonexistent.invalid";
	if (strncmp(pool, "name_", 5) == 0)
		return "localhost";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(pool, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].origin < 0 ? DEAD_IP : origins[map[i].origin].ip;
	fail_msg("no address for pool %s", pool);
	return NULL;
}

static void write_main_monitors(const char *d)
{
	char buf[PATH_MAX + 64];
	unsigned tls = origins[O_TLS].port, tcp = origins[O_TCP].port;
	const char *host = "\"header\": {\"Host\": \"" HOST_NAME "\"}";

	monitor(d, "ok", "http", origins[O_OK].port, "\"expected_body\": \"OK\"");
	monitor(d, "head", "http", origins[O_OK].port, "\"method\": \"HEAD\"");
	monitor(d, "s503", "http", origins[O_503].port, "");
	monitor(d, "body", "http", origins[O_BODY].port, "\"expected_body\": \"ok\"");
	monitor(d, "refused", "http", dead, "");
	monitor(d, "hang", "http", origins[O_HANG].port, "\"timeout\": 1");
	monitor(d, "redir", "http", origins[O_REDIR].port, "");
	monitor(d, "redir_follow", "http", origins[O_REDIR].port, "\"follow_redirects\": true");
	monitor(d, "tls_default", "https", tls, host);
	/* the origin-level Host (right) overrides this one (wrong) */
	monitor(d, "tls_insecure", "https", tls,
		"\"allow_insecure\": true, \"header\": {\"Host\": \"wrong.example.test\"}");
	snprintf(buf, sizeof(buf), "\"ca_file\": \"%s\", %s", cert, host);
	monitor(d, "tls_ca", "https", tls, buf);
	snprintf(buf, sizeof(buf), "\"ca_file\": \"%s\"", cert);
	monitor(d, "tls_ca_nohost", "https", tls, buf);
	monitor(d, "tcp_ok", "tcp", tcp, "\"expect\": \"SSH-2.0\"");
	monitor(d, "tcp_send", "tcp", tcp,
		"\"send\": \"hello steer\\r\\n\", \"expect\": \"steer\"");
	monitor(d, "tcp_refused", "tcp", dead, "");
	monitor(d, "tcp_mismatch", "tcp", tcp, "\"expect\": \"HTTP/1.1\"");
	monitor(d, "retries", "http", dead, "\"retries\": 2");
	monitor(d, "name_http", "http", origins[O_LOCAL].port, "\"expected_body\": \"ok\"");
	monitor(d, "name_tcp", "tcp", origins[O_LOCAL].port, "");
	monitor(d, "big", "http", origins[O_BIG].port, "\"expected_body\": \"ok\"");
	monitor(d, "v6", "http", origins[O_V6].port, "\"expected_body\": \"ok\"");
}

static void write_main_config(char *dir, size_t size)
{
	char list[2048] = "";
	size_t len = 0;

	for (size_t i = 0; main_pools[i] != NULL; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
					i > 0 ? ", " : "", main_pools[i]);
	snprintf(list + len, sizeof(list) - len, ", \"off\", \"pool_off\", \"nomon\"");
	config_dir(dir, size, "main", list);
	write_main_monitors(dir);
	for (size_t i = 0; main_pools[i] != NULL; i++) {
		const char *name = main_pools[i];
		const char *mon = strcmp(name, "name_bad") == 0 ? "name_tcp" : name;
		const char *extra = "";

		if (strcmp(name, "tls_insecure") == 0)
			extra = "\"header\": {\"host\": \"" HOST_NAME "\"}";
		pool(dir, name, mon, pool_address(name), extra);
	}
	put(dir, "pools/off.json",
	    "{\"name\": \"off\", \"monitor\": \"ok\",\n"
	    " \"origins\": [{\"name\": \"o\", \"address\": \"%s\", \"enabled\": false},\n"
	    "             {\"name\": \"on\", \"address\": \"%s\"}]}\n",
	    origins[O_OK].ip, origins[O_OK].ip);
	put(dir, "pools/pool_off.json",
	    "{\"name\": \"pool_off\", \"monitor\": \"ok\", \"enabled\": false,\n"
	    " \"origins\": [{\"name\": \"o\", \"address\": \"%s\"}]}\n",
	    origins[O_OK].ip);
	put(dir, "pools/nomon.json",
	    "{\"name\": \"nomon\", \"origins\": [{\"name\": \"o\", \"address\": \"%s\"}]}\n",
	    origins[O_OK].ip);
}

static int main_setup(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	make_cert();
	start_origins();
	write_main_config(dir, sizeof(dir));
	main_cfg = config_load(dir);
	main_started = now_ms();
	main_prober = prober_run(main_cfg);
	wait_all(main_cfg, main_pools, 10000);
	return 0;
}

static int main_teardown(void **state)
{
	(void)state;
	steer_prober_free(main_prober); /* the hang probe may be in flight */
	main_prober = NULL;
	steer_config_free(main_cfg);
	main_cfg = NULL;
	return 0;
}

static struct steer_probe_result get(const char *pool)
{
	struct steer_probe_result r;

	assert_true(first_result(origin_index(main_cfg, pool), &r, NULL));
	if (r.reason[0] != '\0')
		print_message("# %s: %s\n", pool, r.reason);
	return r;
}

static void test_http_ok(void **state)
{
	struct steer_probe_result r = get("ok");
	struct timespec ts;

	(void)state;
	assert_true(r.ok);
	assert_string_equal(r.reason, "");
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.attempts, 1);
	assert_true(r.rtt_ms < 1000);
	clock_gettime(CLOCK_REALTIME, &ts);
	assert_true(r.time_ms <= (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	assert_true(r.time_ms > ((int64_t)ts.tv_sec - 60) * 1000);
	r = get("head");
	assert_true(r.ok);
	assert_int_equal(r.http_status, 200);
	assert_true(count_lines(origins[O_OK].log, "HEAD /healthz") >= 1);
}

static void test_http_status(void **state)
{
	struct steer_probe_result r = get("s503");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.http_status, 503);
	assert_string_equal(r.reason, "status 503 not in 2xx");
}

static void test_http_body(void **state)
{
	struct steer_probe_result r = get("body");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.http_status, 200);
	assert_string_equal(r.reason, "body lacks \"ok\"");
}

static void test_http_body_cap(void **state)
{
	struct steer_probe_result r = get("big");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.http_status, 200);
	assert_string_equal(r.reason, "body lacks \"ok\"");
}

static void test_http_ipv6(void **state)
{
	struct steer_probe_result r = get("v6");

	(void)state;
	assert_true(r.ok);
	assert_true(count_lines(origins[O_V6].log, "GET /healthz host=[::1]:") >= 1);
}

static void test_http_refused(void **state)
{
	struct steer_probe_result r = get("refused");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.http_status, 0);
	assert_string_equal(r.reason, "connect refused");
}

static void test_http_timeout(void **state)
{
	struct steer_probe_result r = get("hang");

	(void)state;
	assert_false(r.ok);
	assert_string_equal(r.reason, "timeout after 1000 ms");
	assert_true(r.rtt_ms >= 1000);
}

static void test_http_redirect(void **state)
{
	struct steer_probe_result r = get("redir");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.http_status, 302);
	assert_string_equal(r.reason, "status 302 not in 2xx");
	r = get("redir_follow");
	assert_true(r.ok);
	assert_int_equal(r.http_status, 200);
	assert_true(count_lines(origins[O_REDIR].log, "GET /healthz-ok") >= 1);
}

static void test_https(void **state)
{
	struct steer_probe_result r = get("tls_default");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(strncmp(r.reason, "tls: certificate verify failed", 30), 0);
	r = get("tls_insecure");
	assert_true(r.ok);
	assert_int_equal(r.http_status, 200);
	r = get("tls_ca");
	assert_true(r.ok);
	assert_int_equal(r.http_status, 200);
	/* without the Host header the URL names the IP, which the certificate does not */
	r = get("tls_ca_nohost");
	assert_false(r.ok);
	assert_int_equal(strncmp(r.reason, "tls: ", 5), 0);
}

static void test_host_header(void **state)
{
	(void)state;
	/* tls_ca and tls_insecure passed require_host, and the origin logged both names */
	assert_true(count_lines(origins[O_TLS].log,
				"host=" HOST_NAME " sni=" HOST_NAME " mode=normal") >= 2);
	assert_int_equal(count_lines(origins[O_TLS].log, "wrong.example.test"), 0);
}

static void test_tcp(void **state)
{
	struct steer_probe_result r = get("tcp_ok");

	(void)state;
	assert_true(r.ok);
	assert_int_equal(r.http_status, 0);
	r = get("tcp_send");
	assert_true(r.ok);
	assert_true(count_lines(origins[O_TCP].log, "recv='hello steer") >= 1);
	r = get("tcp_refused");
	assert_false(r.ok);
	assert_string_equal(r.reason, "connect refused");
	r = get("tcp_mismatch");
	assert_false(r.ok);
	assert_string_equal(r.reason, "tcp: reply lacks \"HTTP/1.1\"");
}

static void test_retries(void **state)
{
	uint32_t idx = origin_index(main_cfg, "retries");
	int64_t elapsed_s = (now_ms() - main_started) / 1000;
	struct steer_probe_result r = get("retries");

	(void)state;
	assert_false(r.ok);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.reason, "connect refused");
	/* one result per probe: at most one per 1 s interval, never one per attempt */
	assert_true(count_results(idx) <= (size_t)elapsed_s + 2);
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_results; i++)
		if (results[i].origin == idx)
			assert_int_equal(results[i].attempts, 3);
	pthread_mutex_unlock(&mu);
}

static void test_hostname(void **state)
{
	struct steer_probe_result r = get("name_http");

	(void)state;
	assert_true(r.ok);
	r = get("name_tcp");
	assert_true(r.ok);
	r = get("name_bad");
	assert_false(r.ok);
	/* .invalid never resolves (RFC 6761); without a reachable resolver it times out */
	assert_true(strcmp(r.reason, "dns: cannot resolve nonexistent.invalid") == 0 ||
		    strcmp(r.reason, "timeout after 2000 ms") == 0);
}

static void test_not_probed(void **state)
{
	(void)state;
	assert_int_equal(count_results(origin_index(main_cfg, "off")), 0);
	assert_int_equal(count_results(origin_index(main_cfg, "pool_off")), 0);
	assert_int_equal(count_results(origin_index(main_cfg, "nomon")), 0);
}

/* ---- no doubling: a probe still running when the next is due is skipped ---------------- */

static void test_no_doubling(void **state)
{
	char dir[PATH_MAX];
	struct steer_config *cfg;
	struct steer_prober *p;
	struct steer_probe_result r;
	int n;

	(void)state;
	config_dir(dir, sizeof(dir), "nodouble", "\"nd\"");
	put(dir, "monitors/nd.json",
	    "{\"name\": \"nd\", \"type\": \"http\", \"port\": %u, \"path\": \"/nodouble\", "
	    "\"interval\": 1,"
	    " \"timeout\": 1, \"retries\": 0}\n",
	    origins[O_HANG].port);
	pool(dir, "nd", "nd", origins[O_HANG].ip, "");
	cfg = config_load(dir);
	/* the loader caps timeout at the interval; the prober must cope with more anyway */
	cfg->monitors[0].timeout_ms = 3000;
	p = prober_run(cfg);
	nap_ms(3500);
	steer_prober_free(p);
	n = count_lines(origins[O_HANG].log, "GET /nodouble");
	print_message("# requests in 3.5 s: %d\n", n);
	/* one probe at 0 s, maybe the next at 3 s; one per tick would be 4 */
	assert_true(n >= 1 && n <= 2);
	if (first_result(cfg->pools[0].origins[0].index, &r, NULL))
		assert_string_equal(r.reason, "timeout after 3000 ms");
	steer_config_free(cfg);
}

/* ---- affinity.monitor ------------------------------------------------------------------ */

/* The CPUs of this process's thread named @p name (exactly one must exist). */
static void thread_cpus(const char *name, cpu_set_t *out)
{
	DIR *d = opendir("/proc/self/task");
	int found = 0;

	assert_non_null(d);
	for (;;) {
		/* NOLINTNEXTLINE(concurrency-mt-unsafe): one reader of this stream */
		const struct dirent *de = readdir(d);
		char path[PATH_MAX], comm[32] = "";
		FILE *f;

		if (de == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name) != 0)
			continue;
		assert_int_equal(
			sched_getaffinity((pid_t)strtol(de->d_name, NULL, 10), sizeof(*out), out),
			0);
		found++;
	}
	closedir(d);
	assert_int_equal(found, 1);
}

/* The monitor thread runs on affinity.monitor; a CPU it cannot use (here CPU 1023, which
 * this machine does not have: the loader refuses it, but an offline CPU or one outside the
 * cgroup's cpuset fails the same way only when the thread starts) leaves it unpinned and
 * probing, never stopped. */
static void test_affinity(void **state)
{
	uint16_t cpu0 = 0, absent = 1023;
	const char *const pools[] = {"af", NULL};
	char dir[PATH_MAX];
	struct steer_config *cfg;
	struct steer_prober *p;
	struct steer_probe_result r = {0}; /* first_result() fills it when it returns true */
	cpu_set_t got, mine;

	(void)state;
	config_dir(dir, sizeof(dir), "affinity", "\"af\"");
	put(dir, "monitors/af.json", "{\"name\": \"af\", \"type\": \"http\", \"port\": %u}\n",
	    origins[O_OK].port);
	pool(dir, "af", "af", origins[O_OK].ip, "");
	cfg = config_load(dir);

	cfg->cpus_monitor = (struct steer_cpus){&cpu0, 1};
	p = prober_run(cfg);
	wait_all(cfg, pools, 5000);
	thread_cpus("steer-monitor", &got);
	assert_int_equal(CPU_COUNT(&got), 1);
	assert_true(CPU_ISSET(0, &got));
	steer_prober_free(p);

	cfg->cpus_monitor = (struct steer_cpus){&absent, 1};
	p = prober_run(cfg);
	wait_all(cfg, pools, 5000);
	assert_true(first_result(origin_index(cfg, "af"), &r, NULL));
	assert_true(r.ok);
	thread_cpus("steer-monitor", &got);
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	assert_true(CPU_EQUAL(&got, &mine)); /* inherited, as without the setting */
	steer_prober_free(p);

	cfg->cpus_monitor = (struct steer_cpus){0}; /* not the loader's: do not free */
	steer_config_free(cfg);
}

/* ---- spread: a restart probes every origin within ~1 s ------------------------------- */

static void test_spread(void **state)
{
	char dir[PATH_MAX], list[512] = "", name[16], addr[32];
	const char *pools[11];
	static char names[10][16];
	struct steer_config *cfg;
	struct steer_prober *p;
	int64_t start, first = INT64_MAX, last = 0;
	unsigned port = dead_port("127.0.1.1");
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		pools[i] = names[i];
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"s%d\"", i ? ", " : "",
					i);
	}
	pools[10] = NULL;
	config_dir(dir, sizeof(dir), "spread", list);
	put(dir, "monitors/sp.json",
	    "{\"name\": \"sp\", \"type\": \"http\", \"port\": %u, \"interval\": 10, \"timeout\": "
	    "1, \"retries\": 0}\n",
	    port);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(addr, sizeof(addr), "127.0.1.%d", i + 1);
		pool(dir, name, "sp", addr, "");
	}
	cfg = config_load(dir);
	start = now_ms();
	p = prober_run(cfg);
	wait_all(cfg, pools, 5000); /* ~1 s spread; slack for a loaded CI machine, still far
				     * below the 10 s interval */
	for (int i = 0; pools[i] != NULL; i++) {
		struct steer_probe_result r;
		int64_t at = 0;

		assert_true(first_result(origin_index(cfg, pools[i]), &r, &at));
		assert_string_equal(r.reason, "connect refused");
		assert_int_equal(count_results(origin_index(cfg, pools[i])), 1);
		first = at < first ? at : first;
		last = at > last ? at : last;
	}
	print_message("# first result after %lld ms, last after %lld ms\n",
		      (long long)(first - start), (long long)(last - start));
	/* offsets 0, 100, ... 900 ms: spread, not a burst (timers never fire early) */
	assert_true(last - first >= 500);
	steer_prober_free(p);
	steer_config_free(cfg);
}

/* start and stop at once, and new/free without start: no hang, no leak */
static void test_start_stop(void **state)
{
	char dir[PATH_MAX];
	struct steer_config *cfg;
	struct steer_prober *p = NULL;
	struct steer_err err = {0};

	(void)state;
	config_dir(dir, sizeof(dir), "startstop", "\"ss\"");
	put(dir, "monitors/ss.json", "{\"name\": \"ss\", \"type\": \"http\", \"port\": %u}\n",
	    dead);
	pool(dir, "ss", "ss", DEAD_IP, "");
	cfg = config_load(dir);
	for (int i = 0; i < 20; i++) {
		p = prober_run(cfg);
		steer_prober_stop(p);
		steer_prober_stop(p); /* idempotent */
		steer_prober_free(p);
	}
	assert_int_equal(steer_prober_new(cfg, on_result, NULL, &p, &err), 0);
	steer_prober_free(p);
	steer_prober_free(NULL);
	steer_config_free(cfg);
}

static int global_setup(void)
{
	const char *tmp = getenv("TMPDIR"); /* NOLINT(concurrency-mt-unsafe): no setenv */

	snprintf(tmpdir, sizeof(tmpdir), "%s/steer-monitor.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	dead = dead_port(DEAD_IP);
	find_python();
	return 0;
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_first_offset),
		cmocka_unit_test(test_start_steps),
		cmocka_unit_test(test_next_due),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_http_ok),      cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_http_body),    cmocka_unit_test(test_http_body_cap),
		cmocka_unit_test(test_http_ipv6),    cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_timeout), cmocka_unit_test(test_http_redirect),
		cmocka_unit_test(test_https),        cmocka_unit_test(test_host_header),
		cmocka_unit_test(test_tcp),          cmocka_unit_test(test_retries),
		cmocka_unit_test(test_hostname),     cmocka_unit_test(test_not_probed),
	};
	/* after the main prober is gone: these reset the collected results */
	const struct CMUnitTest timing[] = {
		cmocka_unit_test(test_start_stop),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_no_doubling),
		cmocka_unit_test(test_affinity),
	};
	int fails;

	if (global_setup() < 0)
		return 1;
	steer_log_set_level(STEER_LOG_WARN);
	fails = cmocka_run_group_tests_name("scheduling", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("probes", live, main_setup, main_teardown);
	fails += cmocka_run_group_tests_name("timing", timing, NULL, NULL);
	for (int i = 0; i < O_COUNT; i++)
		origin_kill(&origins[i]);
	if (fails == 0)
		steer_test_rm_rf(tmpdir);
	else
		fprintf(stderr, "# kept %s\n", tmpdir);
	return fails == 0 ? 0 : 1;
}
