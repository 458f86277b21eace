/*
 * Server lifecycle on real loopback sockets: start and stop at once, many times (the TCP
 * thread must stop even if it has not reached its event loop yet); a UDP worker that cannot
 * start fails the start and leaves nothing bound or running; stop is idempotent and a
 * server that never started frees cleanly.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/thread.h"
#include "health/health.h"
#include "server/server.h"
#include "testutil.h"
#include "zone/zone.h"

#define ROUNDS      200 /* start/stop rounds */
#define WATCHDOG_S  20  /* the rounds take well under a second; a hang fails here */
#define N_WORKERS   3   /* per listen address */
#define BAD_CPU     4095
#define N_CLIENTS   16 /* source ports: SO_REUSEPORT spreads them over the workers */
#define QUERY_TRIES 5

struct fixture {
	char dir[64];
	char path[128];
	uint16_t port;
	struct steer_config *cfg;
	struct steer_zone *zone;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct steer_errs errs = {0};
	FILE *fp;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/steer-srv.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/steerd.json", f->dir);
	f->port = steer_test_free_port();
	assert_true(f->port != 0);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"{\"listen\": [\"127.0.0.1:%u\", \"[::1]:%u\"], \"workers\": %d,\n"
		" \"zone\": {\"name\": \"srv.example.test\", \"soa\": {\"mname\":"
		" \"ns1.srv.example.test\", \"rname\": \"h.example.test\", \"serial\": 1,"
		" \"refresh\": 1, \"retry\": 1, \"expire\": 1, \"minimum\": 1, \"ttl\": 1},\n"
		" \"ns\": [\"ns1.srv.example.test\"]},\n"
		" \"pools_dir\": \"%s/test/data/bb/pools\",\n"
		" \"monitors_dir\": \"%s/test/data/bb/monitors\",\n"
		" \"state\": {\"path\": \"%s/steerd.db\"}}\n",
		f->port, f->port, N_WORKERS, STEER_SRC_DIR, STEER_SRC_DIR, f->dir);
	fclose(fp);
	assert_int_equal(steer_config_load(f->path, &f->cfg, &errs), 0);
	assert_int_equal(steer_zone_new(f->cfg, &f->zone, &errs), 0);
	steer_errs_fini(&errs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	steer_zone_free(f->zone);
	steer_config_free(f->cfg);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A new server on the fixture's config (fails the test if it cannot bind). */
static struct steer_server *server_new(struct fixture *f)
{
	struct steer_health_snapshot *snap = steer_health_snapshot_new(f->cfg->n_origins, 1);
	struct steer_server *srv = NULL;
	struct steer_err err = {0};

	assert_non_null(snap);
	if (steer_server_new(f->cfg, f->zone, snap, &srv, &err) < 0)
		fail_msg("steer_server_new: %s", err.msg);
	return srv;
}

/* Replace affinity.dns with @p cpus (the loader refuses CPUs the machine lacks). */
static void set_dns_cpus(struct fixture *f, const uint16_t *cpus, size_t n)
{
	free(f->cfg->cpus_dns.cpu);
	f->cfg->cpus_dns.cpu = NULL;
	f->cfg->cpus_dns.n = 0;
	if (n == 0)
		return;
	f->cfg->cpus_dns.cpu = calloc(n, sizeof(*cpus));
	assert_non_null(f->cfg->cpus_dns.cpu);
	memcpy(f->cfg->cpus_dns.cpu, cpus, n * sizeof(*cpus));
	f->cfg->cpus_dns.n = n;
}

/* A CPU this thread may run on (so a thread pinned to it starts). */
static uint16_t usable_cpu(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return (uint16_t)c;
	fail_msg("no usable CPU");
	return 0;
}

/* Threads of this process whose name is @p comm (steer-udp, steer-tcp). */
static int count_threads(const char *comm)
{
	struct dirent **tasks = NULL;
	int n_tasks = scandir("/proc/self/task", &tasks, NULL, NULL);
	int n = 0;

	assert_true(n_tasks > 0);
	for (int i = 0; i < n_tasks; i++) {
		char path[300], name[32] = "";
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tasks[i]->d_name);
		fp = tasks[i]->d_name[0] != '.' ? fopen(path, "r") : NULL;
		if (fp != NULL) { /* NULL also if the thread exited while listed */
			if (fgets(name, sizeof(name), fp) != NULL)
				name[strcspn(name, "\n")] = '\0';
			fclose(fp);
		}
		n += strcmp(name, comm) == 0;
		free(tasks[i]);
	}
	free(tasks);
	return n;
}

/* Query "srv.example.test SOA" over UDP from a fresh socket; true if answered. */
static bool udp_answered(int family, uint16_t port, uint16_t id)
{
	static const uint8_t q[] = {0, 0,   0,   0,   0,   1,   0,   0,   0,   0,   0,   0,
				    3, 's', 'r', 'v', 7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
				    4, 't', 'e', 's', 't', 0,   0,   6,   0,   1};
	struct timeval tv = {.tv_sec = 1};
	struct sockaddr_storage ss;
	uint8_t pkt[sizeof(q)], in[512];
	bool answered = false;
	socklen_t len;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	steer_test_loopback(family, port, &ss, &len);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	memcpy(pkt, q, sizeof(q));
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
	for (int i = 0; i < QUERY_TRIES && !answered; i++) {
		ssize_t n;

		assert_int_equal(send(fd, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
		n = recv(fd, in, sizeof(in), 0);
		/* same ID, QR set, RCODE NOERROR */
		answered = n >= 12 && in[0] == pkt[0] && in[1] == pkt[1] && (in[2] & 0x80) != 0 &&
			   (in[3] & 0x0f) == 0;
	}
	close(fd);
	return answered;
}

/* File scope: it must outlive a test that fails (longjmp) while the watchdog waits. */
static struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	atomic_int round;
} watchdog = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* Fail the whole test binary if the rounds do not finish in time (a stop that hangs). */
static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	bool hung;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WATCHDOG_S;
	pthread_mutex_lock(&w->lock);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
	hung = !w->done;
	pthread_mutex_unlock(&w->lock);
	if (hung) {
		/* cmocka cannot fail from another thread: report and end the process */
		fprintf(stderr,
			"[  FAILED  ] start/stop round %d did not finish in %d s: a stop hangs\n",
			atomic_load(&w->round), WATCHDOG_S);
		_exit(1);
	}
	return NULL;
}

/*
 * Stop right after start, ROUNDS times: the TCP thread is often not yet in its event loop
 * when the stop reaches it. Every round also checks that stop is idempotent and that free
 * without a prior stop stops the server.
 */
static void test_start_stop_at_once(void **state)
{
	struct fixture *f = *state;
	struct watchdog *w = &watchdog;
	struct steer_err err = {0};
	pthread_t dog;
	int rc = 0;

	w->done = false;
	assert_int_equal(pthread_create(&dog, NULL, watchdog_main, w), 0);
	for (int i = 0; i < ROUNDS && rc == 0; i++) {
		struct steer_server *srv = server_new(f);

		atomic_store(&w->round, i);
		rc = steer_server_start(srv, &err);
		if (i % 2 == 0) {
			steer_server_stop(srv);
			steer_server_stop(srv); /* idempotent */
		}
		steer_server_free(srv);
	}
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(dog, NULL);
	if (rc < 0)
		fail_msg("round %d: steer_server_start: %s", atomic_load(&w->round), err.msg);
	assert_int_equal(count_threads("steer-udp"), 0);
	assert_int_equal(count_threads("steer-tcp"), 0);
	assert_true(steer_test_port_is_free(f->port));
}

/* Free without start closes everything; stop without start (twice) is harmless. */
static void test_never_started(void **state)
{
	struct fixture *f = *state;
	struct steer_server *srv = server_new(f);

	assert_false(steer_test_port_is_free(f->port));
	steer_server_free(srv);
	assert_true(steer_test_port_is_free(f->port));

	srv = server_new(f);
	steer_server_stop(srv);
	steer_server_stop(srv);
	steer_server_free(srv);
	assert_true(steer_test_port_is_free(f->port));
}

/* After a start that failed: nothing runs, nothing is bound, a new server serves at once. */
static void check_failed_start_left_nothing(struct fixture *f, struct steer_server *failed)
{
	struct steer_server *srv;
	struct steer_err err = {0};

	assert_int_equal(count_threads("steer-udp"), 0);
	assert_int_equal(count_threads("steer-tcp"), 0);
	assert_true(steer_test_port_is_free(f->port));

	set_dns_cpus(f, NULL, 0);
	srv = server_new(f);
	if (steer_server_start(srv, &err) < 0)
		fail_msg("second server: %s", err.msg);
	/* every source port is answered, whichever worker's socket the kernel picks */
	for (uint16_t i = 0; i < N_CLIENTS; i++) {
		assert_true(udp_answered(AF_INET, f->port, (uint16_t)(0x100 + i)));
		assert_true(udp_answered(AF_INET6, f->port, (uint16_t)(0x200 + i)));
	}
	steer_server_free(srv);
	steer_server_stop(failed); /* still safe after the failed start */
	steer_server_free(failed);
	assert_true(steer_test_port_is_free(f->port));
}

/*
 * Worker 1 of each listen address is pinned to a CPU that does not exist: workers 0 (both
 * addresses) have started when worker 1 of 127.0.0.1 fails.
 */
static void test_udp_worker_fails(void **state)
{
	struct fixture *f = *state;
	const uint16_t cpus[] = {usable_cpu(), BAD_CPU};
	struct steer_server *srv;
	struct steer_err err = {0};
	char want[128];

	set_dns_cpus(f, cpus, 2);
	srv = server_new(f);
	assert_int_equal(steer_server_start(srv, &err), -EINVAL);
	snprintf(want, sizeof(want), "udp worker 1 of 127.0.0.1:%u on cpu %d (affinity.dns)",
		 f->port, BAD_CPU);
	if (strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	check_failed_start_left_nothing(f, srv);
}

/* The very first worker fails: nothing had started, every socket must still be closed. */
static void test_first_worker_fails(void **state)
{
	struct fixture *f = *state;
	const uint16_t cpus[] = {BAD_CPU};
	struct steer_server *srv;
	struct steer_err err = {0};

	set_dns_cpus(f, cpus, 1);
	srv = server_new(f);
	assert_int_equal(steer_server_start(srv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "udp worker 0 of 127.0.0.1:"));
	check_failed_start_left_nothing(f, srv);
}

/* Every UDP worker starts, the TCP thread (on all of affinity.dns) does not. */
static void test_tcp_thread_fails(void **state)
{
	struct fixture *f = *state;
	const uint16_t cpus[] = {usable_cpu(), BAD_CPU};
	struct steer_server *srv;
	struct steer_err err = {0};
	uint32_t workers = f->cfg->workers;

	set_dns_cpus(f, cpus, 2);
	f->cfg->workers = 1; /* only the usable CPU gets a UDP worker */
	srv = server_new(f);
	f->cfg->workers = workers;
	assert_int_equal(steer_server_start(srv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "tcp thread"));
	check_failed_start_left_nothing(f, srv);
}

/* An optional argument selects tests by name (cmocka pattern, e.g. "test_*_fails"). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_stop_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_started, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_worker_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_worker_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_thread_fails, setup, teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
