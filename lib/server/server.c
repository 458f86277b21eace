/*
 * UDP service and server lifecycle. Each worker owns one SO_REUSEPORT socket per listen
 * address and loops on recvmmsg/sendmmsg with buffers allocated once at start: the answer
 * path makes no allocation and takes no lock.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, sched_getaffinity */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "server/rrl_int.h"
#include "server/server_int.h"
#define STEER_LOG_SRC "server"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "zone/zone.h"

#define BATCH   32
#define IN_SIZE 4096
#define POLL_MS 200 /* how often a blocked worker checks for shutdown */

/* DNS Cookie secret rollover (RFC 9018 §5): a new secret every hour, the previous one
 * still accepted, so every cookie lives the hour RFC 9018 §4.3 allows it */
#define COOKIE_ROTATE_MS (3600 * 1000)
#define COOKIE_RETRY_MS  (60 * 1000)

/*
 * Batch pacing. Below saturation each recvmmsg() returns about one packet, so every answer
 * pays a wake-up, a receive and a send; on a VM most of a query's CPU is that kernel work.
 * A worker that is busy enough waits wait_us after a small batch, so the next recvmmsg()
 * and sendmmsg() carry several packets. "Busy enough": in the last window of at least
 * PACE_WINDOW_MS, PACE_GATHER packets or more arrived per wait_us on average. A wait
 * costs a timer and a context switch, as much as the wake-up by a packet it replaces;
 * when it gathers fewer than about two packets, the next receive often blocks anyway and
 * the query pays for both (measured: 20,000 qps with a 30 us wait doubled the CPU per
 * query). A batch of PACE_BATCH_MIN or more packets means the queue is not running dry:
 * no wait then, so the wait never limits throughput.
 */
#define PACE_WINDOW_MS 20
#define PACE_BATCH_MIN 8
#define PACE_GATHER    2
#define PACE_SLACK_NS  5000 /* timer slack of a pacing worker: the wait is what was asked */

struct udp_bufs {
	struct mmsghdr in[BATCH];
	struct mmsghdr out[BATCH];
	struct iovec in_iov[BATCH];
	struct iovec out_iov[BATCH];
	struct sockaddr_storage addr[BATCH];
	uint8_t in_buf[BATCH][IN_SIZE];
	uint8_t out_buf[BATCH][STEER_DNS_UDP_MAX];
	struct steer_rrl rrl; /* response rate limiting: this worker's buckets */
};

uint64_t steer_server_seed(void)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)pthread_self();
	return s != 0 ? s : 0x9e3779b97f4a7c15ull;
}

void steer_server_client(struct steer_client *client, const struct sockaddr *sa)
{
	memset(client, 0, sizeof(*client));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		client->family = AF_INET;
		memcpy(client->addr, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		client->family = AF_INET6;
		memcpy(client->addr, &s6->sin6_addr, 16);
	}
}

static uint64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Account @p n packets received now; true if the worker should wait before its next receive. */
static bool pace_after(struct udp_pace *p, int n)
{
	uint64_t now;

	if (p->wait_us == 0)
		return false;
	p->packets += (uint32_t)n;
	now = coarse_ms();
	if (now - p->window_ms >= PACE_WINDOW_MS) {
		/* packets / window * wait >= PACE_GATHER, times in microseconds */
		p->busy = (uint64_t)p->packets * p->wait_us >=
			  (now - p->window_ms) * 1000u * PACE_GATHER;
		p->window_ms = now;
		p->packets = 0;
	}
	return p->busy && n < PACE_BATCH_MIN;
}

static void udp_prepare(struct udp_bufs *b)
{
	for (int i = 0; i < BATCH; i++) {
		b->in_iov[i].iov_base = b->in_buf[i];
		b->in_iov[i].iov_len = IN_SIZE;
		b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
		b->in[i].msg_hdr.msg_iovlen = 1;
		b->in[i].msg_hdr.msg_name = &b->addr[i];
	}
}

static void udp_send(int fd, struct mmsghdr *out, int n)
{
	int done = 0;

	while (done < n) {
		int r = sendmmsg(fd, out + done, (unsigned)(n - done), 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			done++; /* skip the message the kernel refused (e.g. unreachable) */
			continue;
		}
		done += r;
	}
}

/* Rate limiting's verdict on one received message (a response or a runt is never
 * answered, so it is not counted). */
static enum steer_rrl_verdict udp_limit(struct udp_bufs *b, const struct steer_rrl_conf *conf,
					const struct steer_client *client, int i, uint32_t sec)
{
	if (!conf->enabled || b->in[i].msg_len < STEER_DNS_HDR_LEN || (b->in_buf[i][2] & 0x80) != 0)
		return STEER_RRL_PASS;
	return steer_rrl_check(&b->rrl, conf, client, sec);
}

static void udp_batch(struct udp_worker *wk, struct udp_bufs *b, int n)
{
	struct steer_server *srv = wk->srv;
	struct steer_client client;
	struct steer_query_ctx ctx = {.client = &client,
				      .rng = &wk->rng,
				      .tcp = false,
				      .ctr = wk->ctr,
				      .now_s = steer_dns_cookie_now()};
	const struct steer_rrl_conf *rrl;
	const struct runtime *rt;
	uint32_t sec = (uint32_t)(coarse_ms() / 1000u);
	int k = 0;

	steer_metrics_count(wk->ctr, STEER_STAT_BATCHES, 1);
	steer_metrics_count(wk->ctr, STEER_STAT_QUERIES, (uint64_t)n);

	steer_qsbr_enter(&srv->qsbr, wk->slot);
	rt = atomic_load(&srv->rt);
	ctx.snap = rt->snap;
	ctx.map = rt->map;
	ctx.cookies = atomic_load_explicit(&srv->cookies, memory_order_acquire);
	rrl = &steer_zone_config(rt->zone)->rrl; /* the config travels with its zone */
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &b->in[i].msg_hdr;
		size_t len;

		steer_server_client(&client, (const struct sockaddr *)h->msg_name);
		ctx.rrl = udp_limit(b, rrl, &client, i, sec);
		len = steer_server_answer(srv, rt->zone, &ctx, b->in_buf[i], b->in[i].msg_len,
					  b->out_buf[k], sizeof(b->out_buf[k]));
		if (len == 0)
			continue;
		b->out_iov[k].iov_base = b->out_buf[k];
		b->out_iov[k].iov_len = len;
		memset(&b->out[k].msg_hdr, 0, sizeof(b->out[k].msg_hdr));
		b->out[k].msg_hdr.msg_name = h->msg_name;
		b->out[k].msg_hdr.msg_namelen = h->msg_namelen;
		b->out[k].msg_hdr.msg_iov = &b->out_iov[k];
		b->out[k].msg_hdr.msg_iovlen = 1;
		k++;
	}
	steer_qsbr_leave(&srv->qsbr, wk->slot);
	if (k > 0)
		udp_send(wk->fd, b->out, k);
}

static void *udp_main(void *arg)
{
	struct udp_worker *wk = arg;
	struct udp_bufs *b = calloc(1, sizeof(*b));
	struct timespec wait = {0};

	steer_thread_name("steer-udp");

	if (b == NULL) {
		log_err("udp worker: out of memory");
		return NULL;
	}
	wk->rng = steer_server_seed();
	steer_rrl_init(&b->rrl, steer_server_seed() ^ wk->rng);
	udp_prepare(b);
	wait.tv_nsec = (long)wk->pace.wait_us * 1000;
	if (wk->pace.wait_us != 0)
		steer_thread_timer_slack(PACE_SLACK_NS);
	wk->pace.window_ms = coarse_ms();
	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++)
			b->in[i].msg_hdr.msg_namelen = sizeof(b->addr[i]);
		n = recvmmsg(wk->fd, b->in, BATCH, MSG_WAITFORONE, NULL);
		/* checked before the batch: the wake-up of steer_server_stop() (a socket shut
		 * for reading) returns one empty message, which is no query */
		if (atomic_load_explicit(&wk->srv->stopping, memory_order_acquire))
			break;
		if (n <= 0)
			continue; /* timeout (SO_RCVTIMEO), EINTR, or a transient error */
		udp_batch(wk, b, n);
		if (pace_after(&wk->pace, n)) {
			steer_metrics_count(wk->ctr, STEER_STAT_WAITS, 1);
			nanosleep(&wait, NULL);
		}
	}
	free(b);
	return NULL;
}

static int sys_fail(struct steer_err *err, int fd, const char *what, const char *addr)
{
	int rc = -errno;
	char eb[128];

	if (fd >= 0)
		close(fd);
	return steer_err_set(err, rc, "%s %s: %s", what, addr,
			     steer_errno_str(-rc, eb, sizeof(eb)));
}

static int udp_open(const struct steer_listen *l, int *out, struct steer_err *err)
{
	int fd = socket(l->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct timeval tv = {.tv_sec = 0, .tv_usec = POLL_MS * 1000};

	if (fd < 0)
		return sys_fail(err, fd, "udp socket", l->text);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    (l->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0))
		return sys_fail(err, fd, "udp setsockopt", l->text);
	if (bind(fd, (const struct sockaddr *)&l->ss, l->len) < 0)
		return sys_fail(err, fd, "udp bind", l->text);
	*out = fd;
	return 0;
}

/* New secrets: a random current one, and @p old's current one as the previous. */
static int cookie_keys_new(const struct steer_dns_cookie_keys *old,
			   struct steer_dns_cookie_keys **out)
{
	struct steer_dns_cookie_keys *k = calloc(1, sizeof(*k));
	uint8_t *p;
	size_t got = 0;

	if (k == NULL)
		return STEER_ENOMEM;
	p = k->cur;
	while (got < sizeof(k->cur)) {
		ssize_t r = getrandom(p + got, sizeof(k->cur) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int rc = r < 0 ? -errno : -EIO;

			free(k);
			return rc;
		}
		got += (size_t)r;
	}
	if (old != NULL) {
		memcpy(k->prev, old->cur, sizeof(k->prev));
		k->has_prev = true;
	}
	*out = k;
	return 0;
}

/* The CPUs steerd may run on (its affinity mask: taskset, a cgroup cpuset), not every
 * online CPU: `taskset -c 0 steerd` gets one worker, not two fighting for one CPU. */
static long cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

int steer_server_new(const struct steer_config *cfg, const struct steer_zone *zone,
		     struct steer_health_snapshot *snap, struct steer_server **out,
		     struct steer_err *err)
{
	struct steer_server *srv = calloc(1, sizeof(*srv));
	struct steer_dns_cookie_keys *keys = NULL;
	int rc = STEER_ENOMEM;

	if (srv == NULL) {
		steer_health_snapshot_free(snap);
		return STEER_ENOMEM;
	}
	srv->cfg = cfg;
	pthread_mutex_init(&srv->wlock, NULL);
	srv->cookies_made_ms = steer_clock_mono_ms();
	{
		struct runtime *rt = calloc(1, sizeof(*rt));

		if (rt == NULL) {
			steer_health_snapshot_free(snap);
			free(srv);
			return STEER_ENOMEM;
		}
		rt->zone = zone;
		rt->snap = snap;
		atomic_store(&srv->rt, rt);
	}
	/* workers 0: one per CPU, or one per CPU of affinity.dns */
	srv->n_workers = cfg->workers != 0      ? cfg->workers
			 : cfg->cpus_dns.n != 0 ? cfg->cpus_dns.n
						: (size_t)cpu_count();
	srv->udp = calloc(srv->n_workers * cfg->n_listen, sizeof(*srv->udp));
	if (srv->udp == NULL ||
	    steer_metrics_new(srv->n_workers * cfg->n_listen, 1, &srv->metrics) < 0 ||
	    steer_qsbr_init(&srv->qsbr, srv->n_workers * cfg->n_listen + 1) < 0)
		goto out;
	srv->map = steer_server_map_new(srv->metrics, cfg);
	if (srv->map == NULL)
		goto out;
	rc = cookie_keys_new(NULL, &keys);
	if (rc < 0) {
		char eb[128];

		rc = steer_err_set(err, rc, "cannot make the DNS cookie secret: %s",
				   steer_errno_str(-rc, eb, sizeof(eb)));
		goto out;
	}
	atomic_store(&srv->cookies, keys);
	rc = STEER_ENOMEM;
	atomic_load(&srv->rt)->map = srv->map; /* no thread reads it yet */
	for (size_t w = 0; w < srv->n_workers; w++) {
		for (size_t l = 0; l < cfg->n_listen; l++) {
			struct udp_worker *wk = &srv->udp[srv->n_udp];

			wk->srv = srv;
			wk->slot = srv->n_udp;
			wk->ctr = steer_metrics_thread(srv->metrics, wk->slot);
			wk->pace.wait_us = cfg->udp_batch_wait_us;
			rc = udp_open(&cfg->listen[l], &wk->fd, err);
			if (rc < 0)
				goto out;
			srv->n_udp++;
		}
	}
	rc = steer_tcp_new(srv, &srv->tcp, err);
	if (rc < 0)
		goto out;
	*out = srv;
	srv = NULL;
out:
	steer_server_free(srv);
	return rc;
}

/* Start the worker of UDP socket @p i: worker w of its listen address, on CPU w of
 * affinity.dns (round robin). */
static int udp_start(struct steer_server *srv, size_t i, struct steer_err *err)
{
	const struct steer_config *cfg = srv->cfg;
	const struct steer_cpus *dns = &cfg->cpus_dns;
	size_t w = i / cfg->n_listen;
	struct steer_cpus one = {dns->n != 0 ? &dns->cpu[w % dns->n] : NULL, dns->n != 0};
	int rc = steer_thread_start(&srv->udp[i].thread, &one, 0, "udp worker", udp_main,
				    &srv->udp[i]);
	char eb[128], cpu[48] = "";

	if (rc < 0) {
		if (one.n != 0)
			snprintf(cpu, sizeof(cpu), " on cpu %u (affinity.dns)",
				 (unsigned)one.cpu[0]);
		return steer_err_set(err, rc, "cannot start udp worker %zu of %s%s: %s", w,
				     cfg->listen[i % cfg->n_listen].text, cpu,
				     steer_errno_str(-rc, eb, sizeof(eb)));
	}
	srv->udp[i].started = true;
	return 0;
}

/* Close every UDP socket (once). */
static void udp_close(struct steer_server *srv)
{
	for (size_t i = 0; i < srv->n_udp; i++) {
		if (srv->udp[i].fd >= 0)
			close(srv->udp[i].fd);
		srv->udp[i].fd = -1;
	}
}

int steer_server_start(struct steer_server *srv, struct steer_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < srv->n_udp && rc == 0; i++)
		rc = udp_start(srv, i, err);
	if (rc == 0)
		rc = steer_tcp_start(srv->tcp, &srv->cfg->cpus_dns, err);
	if (rc < 0) {
		/*
		 * Serve completely or not at all: a bound UDP socket whose worker never started
		 * still gets its share of the SO_REUSEPORT group's queries, which nobody reads,
		 * and a TCP listener accepts connections nobody serves. So stop what started
		 * and close every socket: the addresses are free at once.
		 */
		steer_server_stop(srv);
		steer_tcp_free(srv->tcp);
		srv->tcp = NULL;
		udp_close(srv);
	}
	return rc;
}

void steer_server_stop(struct steer_server *srv)
{
	atomic_store(&srv->stopping, true);
	/*
	 * Wake the workers blocked in recvmmsg() now rather than at their next SO_RCVTIMEO
	 * (POLL_MS, still the bound if this does not work): on Linux, shutdown() of an
	 * unconnected UDP socket fails with ENOTCONN but still marks it shut for reading and
	 * wakes its readers.
	 */
	for (size_t i = 0; i < srv->n_udp; i++)
		if (srv->udp[i].started)
			(void)shutdown(srv->udp[i].fd, SHUT_RD);
	steer_tcp_stop(srv->tcp);
	for (size_t i = 0; i < srv->n_udp; i++) {
		if (srv->udp[i].started)
			pthread_join(srv->udp[i].thread, NULL);
		srv->udp[i].started = false;
	}
}

static void runtime_free(void *arg)
{
	struct runtime *rt = arg;

	steer_health_snapshot_free(rt->snap);
	free(rt);
}

/* Queue @p fn(@p arg) for when no reader can see what was just swapped out. Holds wlock. */
static void retire_locked(struct steer_server *srv, void (*fn)(void *arg), void *arg,
			  uint64_t epoch)
{
	struct retired *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		/* cannot track it safely: keeping it forever is better than freeing it early */
		log_err("out of memory retiring an old runtime; leaking it");
		return;
	}
	r->fn = fn;
	r->arg = arg;
	r->epoch = epoch;
	r->next = srv->retired;
	srv->retired = r;
}

static void reclaim_locked(struct steer_server *srv, bool all)
{
	struct retired **pp = &srv->retired;

	while (*pp != NULL) {
		struct retired *r = *pp;

		if (all || steer_qsbr_is_safe(&srv->qsbr, r->epoch)) {
			*pp = r->next;
			r->fn(r->arg);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

static void map_free(void *arg)
{
	steer_metrics_map_free(arg);
}

/*
 * Swap in a new runtime; the old one (and @p fn(@p arg), if any) is retired. @p zone
 * non-NULL: a new configuration, whose counter map is @p map (NULL: not counted by name);
 * the old map is retired with the old runtime.
 */
static void swap_runtime(struct steer_server *srv, const struct steer_zone *zone,
			 struct steer_metrics_map *map, struct steer_health_snapshot *snap,
			 void (*fn)(void *arg), void *arg)
{
	struct runtime *rt = calloc(1, sizeof(*rt));
	struct runtime *old;
	uint64_t epoch;

	pthread_mutex_lock(&srv->wlock);
	if (rt == NULL) {
		log_err("out of memory publishing health; answers keep the old snapshot");
		steer_health_snapshot_free(snap);
		steer_metrics_map_free(map);
		pthread_mutex_unlock(&srv->wlock);
		return;
	}
	old = atomic_load(&srv->rt);
	rt->zone = zone != NULL ? zone : old->zone;
	rt->map = zone != NULL ? map : old->map;
	rt->snap = snap;
	old = atomic_exchange(&srv->rt, rt);
	epoch = steer_qsbr_retire(&srv->qsbr);
	retire_locked(srv, runtime_free, old, epoch);
	if (zone != NULL && srv->map != NULL)
		retire_locked(srv, map_free, srv->map, epoch);
	if (zone != NULL)
		srv->map = map;
	if (fn != NULL)
		retire_locked(srv, fn, arg, epoch);
	reclaim_locked(srv, false);
	pthread_mutex_unlock(&srv->wlock);
}

void steer_server_publish(struct steer_server *srv, struct steer_health_snapshot *snap)
{
	swap_runtime(srv, NULL, NULL, snap, NULL, NULL);
}

void steer_server_replace(struct steer_server *srv, const struct steer_config *cfg,
			  const struct steer_zone *zone, struct steer_health_snapshot *snap,
			  void (*retire)(void *arg), void *arg)
{
	struct steer_metrics_map *map = steer_server_map_new(srv->metrics, cfg);

	if (map == NULL)
		log_err("out of memory mapping the answer counters of the new configuration; "
			"answers are not counted by balancer, pool and origin until the next "
			"reload");
	swap_runtime(srv, zone, map, snap, retire, arg);
}

int steer_server_cookie_tick(struct steer_server *srv, bool force)
{
	int64_t now = steer_clock_mono_ms();
	struct steer_dns_cookie_keys *keys = NULL;
	int rc = 0;

	pthread_mutex_lock(&srv->wlock);
	if (!force && now - srv->cookies_made_ms < COOKIE_ROTATE_MS)
		goto out;
	rc = cookie_keys_new(atomic_load(&srv->cookies), &keys);
	if (rc < 0) {
		char eb[128];

		log_err("cannot rotate the DNS cookie secret: %s; the current one stays, retrying "
			"in %d s",
			steer_errno_str(-rc, eb, sizeof(eb)), COOKIE_RETRY_MS / 1000);
		srv->cookies_made_ms = now - COOKIE_ROTATE_MS + COOKIE_RETRY_MS;
		goto out;
	}
	keys = atomic_exchange(&srv->cookies, keys);
	retire_locked(srv, free, keys, steer_qsbr_retire(&srv->qsbr));
	srv->cookies_made_ms = now;
	rc = 1;
out:
	pthread_mutex_unlock(&srv->wlock);
	return rc;
}

void steer_server_reclaim(struct steer_server *srv)
{
	pthread_mutex_lock(&srv->wlock);
	reclaim_locked(srv, false);
	pthread_mutex_unlock(&srv->wlock);
}

struct steer_metrics *steer_server_metrics(const struct steer_server *srv)
{
	return srv->metrics;
}

void steer_server_set_xfr(struct steer_server *srv, steer_server_xfr_fn *fn, void *arg)
{
	srv->xfr = fn;
	srv->xfr_arg = arg;
}

void steer_server_set_signed(struct steer_server *srv, steer_server_signed_fn *fn, void *arg)
{
	srv->sign = fn;
	srv->sign_arg = arg;
}

size_t steer_server_answer(const struct steer_server *srv, const struct steer_zone *zone,
			   struct steer_query_ctx *ctx, const uint8_t *q, size_t qlen, uint8_t *out,
			   size_t cap)
{
	size_t tsig_off;

	/* the scan only where signed queries mean something: with zone transfers configured */
	if (srv->sign != NULL && steer_zone_config(zone)->xfr.enabled &&
	    (tsig_off = steer_dns_tsig_offset(q, qlen)) != 0)
		return srv->sign(srv->sign_arg, zone, ctx, q, qlen, tsig_off, out, cap);
	return steer_zone_answer(zone, ctx, q, qlen, out, cap);
}

size_t steer_server_workers(const struct steer_server *srv)
{
	return srv->n_workers;
}

void steer_server_free(struct steer_server *srv)
{
	if (srv == NULL)
		return;
	steer_server_stop(srv);
	steer_tcp_free(srv->tcp);
	udp_close(srv);
	free(srv->udp);
	reclaim_locked(srv, true); /* every thread has stopped */
	steer_metrics_map_free(srv->map);
	steer_metrics_free(srv->metrics);
	steer_qsbr_fini(&srv->qsbr);
	runtime_free(atomic_load(&srv->rt));
	free(atomic_load(&srv->cookies));
	pthread_mutex_destroy(&srv->wlock);
	free(srv);
}
