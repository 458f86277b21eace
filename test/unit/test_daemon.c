/*
 * Component tests of lib/daemon against the real thing: a steerd configuration in a
 * temporary folder, the real DNS server on a free loopback port, a TCP monitor probing a
 * listener this test owns. event_base_new() is wrapped (-Wl,--wrap) so a test can make
 * the next one fail: that is how a monitor thread that cannot start is produced.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include <event2/event.h>

#include "core/err.h"
#include "daemon/daemon.h"
#include "testutil.h"

/* Accepting a probe connection: at most this long after a reload (the daemon retries
 * starting probes every 5 s). */
#define PROBE_WAIT_MS 15000

struct event_base *__wrap_event_base_new(void);
struct event_base *__real_event_base_new(void);

static int fail_event_bases; /* how many of the next event_base_new() calls fail */

struct event_base *__wrap_event_base_new(void)
{
	if (fail_event_bases > 0) {
		fail_event_bases--;
		return NULL;
	}
	return __real_event_base_new();
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);

static atomic_int slow_thread_starts; /* how many of the next thread starts return late */

/* The thread runs at once; its creator is held back, as a loaded machine may do. */
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	int rc = __real_pthread_create(thread, attr, fn, arg);
	int n = atomic_load(&slow_thread_starts);
	const struct timespec late = {.tv_nsec = 600 * 1000000L};

	if (n > 0 && atomic_compare_exchange_strong(&slow_thread_starts, &n, n - 1))
		nanosleep(&late, NULL);
	return rc;
}

struct fixture {
	char dir[256];
	char path[512];
	int lfd; /* the origin: a TCP listener on 127.0.0.1 the monitor connects to */
	uint16_t lport;
};

static void put(const char *dir, const char *name, const char *fmt, ...) STEER_PRINTF(3, 4);

static void put(const char *dir, const char *name, const char *fmt, ...)
{
	char path[1024];
	FILE *fp;
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
}

static int origin_listen(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char sub[300];
	uint16_t dns;

	assert_non_null(f);
	assert_int_equal(steer_test_tmpdir(f->dir, sizeof(f->dir), "steer-daemon"), 0);
	f->lfd = origin_listen(&f->lport);
	dns = steer_test_free_port();
	assert_true(dns != 0);
	snprintf(f->path, sizeof(f->path), "%s/steerd.json", f->dir);
	put(f->dir, "steerd.json",
	    "{\"listen\": [\"127.0.0.1:%u\"], \"workers\": 1,\n"
	    " \"zone\": {\"name\": \"d.example.test\", \"soa\": {\"mname\":"
	    " \"ns1.d.example.test\", \"rname\": \"h.example.test\", \"serial\": 1,"
	    " \"refresh\": 1, \"retry\": 1, \"expire\": 1, \"minimum\": 1, \"ttl\": 1},\n"
	    " \"ns\": [\"ns1.d.example.test\"]},\n"
	    " \"balancers\": [{\"name\": \"api\", \"default_pools\": [\"p\"]}],\n"
	    " \"state\": {\"path\": \"steerd.db\"}}\n",
	    dns);
	snprintf(sub, sizeof(sub), "%s/pools", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(sub, "p.json",
	    "{\"name\": \"p\", \"monitor\": \"m\","
	    " \"origins\": [{\"name\": \"a\", \"address\": \"127.0.0.1\"}]}\n");
	snprintf(sub, sizeof(sub), "%s/monitors", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(sub, "m.json",
	    "{\"name\": \"m\", \"type\": \"tcp\", \"port\": %u, \"interval\": 1, \"timeout\": 1,"
	    " \"retries\": 0}\n",
	    f->lport);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->lfd);
	steer_test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Accept every probe connection already waiting; @return how many. */
static int drain_probes(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int n = 0;

	while (poll(&p, 1, 0) == 1) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			break;
		close(c);
		n++;
	}
	return n;
}

/* Wait (at most @p ms) for the next probe to connect. */
static bool probe_arrives(int lfd, int ms)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int c;

	if (poll(&p, 1, ms) != 1)
		return false;
	c = accept(lfd, NULL, NULL);
	if (c >= 0)
		close(c);
	return c >= 0;
}

/*
 * Regression: a reload whose new monitor thread cannot start (here: its event base) used
 * to leave probing stopped for good. The daemon retries; probes come back by themselves.
 */
static void test_reload_probe_start_failure_recovers(void **state)
{
	struct fixture *f = *state;
	struct steer_daemon *d = NULL;
	struct steer_errs errs = {0};
	struct steer_err err = {0};

	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(steer_daemon_new(f->path, &d, &errs), 0);
	assert_int_equal(steer_daemon_start(d, &err), 0);
	assert_true(probe_arrives(f->lfd, PROBE_WAIT_MS)); /* probing runs */

	fail_event_bases = 1; /* the new monitor's event base */
	assert_int_equal(steer_daemon_reload(d, "test", &errs), 0);
	assert_int_equal(fail_event_bases, 0);
	drain_probes(f->lfd); /* probes of the old monitor, before it stopped */
	assert_true(probe_arrives(f->lfd, PROBE_WAIT_MS));

	steer_daemon_free(d);
	steer_errs_fini(&errs);
}

/*
 * Regression: steer_daemon_free() stopped the probes without the daemon's lock while the
 * daemon thread was restarting them (after a monitor that could not start), so it could
 * free the new monitor before its start had returned: use after free, and a monitor
 * thread left running on freed memory (found by ASan on a loaded machine).
 */
static void test_free_while_probes_restart(void **state)
{
	struct fixture *f = *state;
	struct steer_daemon *d = NULL;
	struct steer_errs errs = {0};
	struct steer_err err = {0};
	const struct timespec in_restart = {.tv_nsec = 250 * 1000000L};

	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(steer_daemon_new(f->path, &d, &errs), 0);
	assert_int_equal(steer_daemon_start(d, &err), 0);
	assert_true(probe_arrives(f->lfd, PROBE_WAIT_MS));
	fail_event_bases = 1;   /* the reload's monitor cannot start: the tick restarts it */
	slow_thread_starts = 1; /* and that restart returns 600 ms after its thread runs */
	assert_int_equal(steer_daemon_reload(d, "test", &errs), 0);
	nanosleep(&in_restart, NULL); /* the tick (every 100 ms) is inside the restart */
	steer_daemon_free(d);
	assert_int_equal(slow_thread_starts, 0); /* the window was really tested */
	steer_errs_fini(&errs);
}

/* A reload with a broken file changes nothing: errors come back, probing goes on. */
static void test_reload_errors_keep_serving(void **state)
{
	struct fixture *f = *state;
	struct steer_daemon *d = NULL;
	struct steer_errs errs = {0};
	struct steer_err err = {0};
	char sub[300];
	char line[1024];
	char want[1024];

	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(steer_daemon_new(f->path, &d, &errs), 0);
	assert_int_equal(steer_daemon_start(d, &err), 0);
	snprintf(sub, sizeof(sub), "%s/pools", f->dir);
	put(sub, "p.json",
	    "{\"name\": \"p\", \"monitor\": \"m\", \"origins\": [{\"name\": \"a\","
	    " \"address\": \"127.0.0.1\", \"weight\": 2}]}\n");
	assert_int_equal(steer_daemon_reload(d, "test", &errs), STEER_ECONFIG);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want),
		 "%s/pools/p.json:1:91: origins[0].weight: must be between 0 and 1", f->dir);
	assert_string_equal(steer_err_format(&errs.v[0], line, sizeof(line)), want);
	drain_probes(f->lfd);
	assert_true(probe_arrives(f->lfd, PROBE_WAIT_MS));
	steer_daemon_free(d);
	steer_errs_fini(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_probe_start_failure_recovers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reload_errors_keep_serving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_while_probes_restart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
