/*
 * Prober lifecycle and scheduling. Every probed origin has a slot with its own timer on
 * the monitor thread's event_base; a slot runs at most one probe at a time (the first
 * attempt plus immediate re-tries) and hands one result per probe to the owner.
 */
#define STEER_LOG_SRC "monitor"

#include "monitor/monitor.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "monitor/monitor_int.h"

#define FIRST_ROUND_MAX_MS 1000u
/* Probe start times are multiples of this step: probes due within one step start in one
 * pass of the loop, so 1,000 probes/s wake the monitor thread about 100 times a second to
 * start them instead of 1,000 (each wake-up can preempt a DNS worker on a shared CPU).
 * Measured with 10,000 origins at 10 s (scripts/bench-monitor.sh): the thread's wake-ups
 * (connects and replies included) fell from 815/s to 150-380/s; its CPU stayed 11-19% of a
 * core, within the noise. A 50 ms step woke it 90 times a second but ran ~6 ms bursts that
 * tripled the p99 of DNS on the same CPU. */
#define START_STEP_MS 10u

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

/* curl and libevent threading are process-wide; the server may enable the latter too. */
static void global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || evthread_use_pthreads() < 0)
		global_rc = STEER_EPROBE;
}

uint32_t steer_prober_first_offset_ms(uint32_t k, uint32_t n, uint32_t interval_ms)
{
	uint32_t span = interval_ms < FIRST_ROUND_MAX_MS ? interval_ms : FIRST_ROUND_MAX_MS;

	if (n == 0)
		return 0;
	return (uint32_t)((uint64_t)k * span / n) / START_STEP_MS * START_STEP_MS;
}

uint32_t steer_prober_steady_offset_ms(uint32_t k, uint32_t n, uint32_t interval_ms)
{
	if (n == 0)
		return 0;
	return (uint32_t)((uint64_t)k * interval_ms / n) / START_STEP_MS * START_STEP_MS;
}

int64_t steer_prober_next_due_ms(int64_t base_ms, uint32_t offset_ms, uint32_t interval_ms,
				 int64_t now_ms)
{
	int64_t first = base_ms + offset_ms;
	int64_t earliest = now_ms + interval_ms / 2 + 1;

	if (interval_ms == 0)
		return now_ms + 1;
	if (first >= earliest)
		return first;
	return first + ((earliest - first + interval_ms - 1) / interval_ms) * interval_ms;
}

void mon_reason(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive of v14 */
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

bool mon_contains(const char *hay, size_t hay_len, const char *needle, bool fold)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= hay_len; i++) {
		size_t j = 0;

		if (fold) {
			while (j < n && tolower((unsigned char)hay[i + j]) ==
						tolower((unsigned char)needle[j]))
				j++;
		} else {
			while (j < n && hay[i + j] == needle[j])
				j++;
		}
		if (j == n)
			return true;
	}
	return false;
}

static void arm(struct mon_slot *s, int64_t now_ms)
{
	int64_t d = s->due_ms > now_ms ? s->due_ms - now_ms : 0;
	struct timeval tv = {.tv_sec = (time_t)(d / 1000),
			     .tv_usec = (suseconds_t)(d % 1000) * 1000};

	evtimer_add(s->timer, &tv);
}

static void attempt_start(struct mon_slot *s)
{
	char reason[STEER_REASON_MAX];
	int rc;

	s->attempts++;
	s->start_ms = steer_clock_mono_ms();
	if (s->mon->type == STEER_MONITOR_TCP)
		rc = mon_tcp_start(s, reason, sizeof(reason));
	else
		rc = mon_http_start(s, reason, sizeof(reason));
	if (rc < 0)
		mon_attempt_done(s, false, 0, reason);
}

void mon_attempt_done(struct mon_slot *s, bool ok, int http_status, const char *reason)
{
	s->out.ok = ok;
	s->out.http_status = http_status;
	s->out.end_ms = steer_clock_mono_ms();
	mon_reason(s->out.reason, sizeof(s->out.reason), "%s", reason != NULL ? reason : "");
	event_active(s->kick, EV_TIMEOUT, 0);
}

static void probe_start(struct mon_slot *s)
{
	s->p->inflight++;
	s->attempts = 0;
	attempt_start(s);
}

/* Probes that came due while MON_MAX_INFLIGHT were running start as others finish. */
static void start_waiting(struct steer_prober *p)
{
	while (p->wait_head != NULL && p->inflight < MON_MAX_INFLIGHT) {
		struct mon_slot *s = p->wait_head;

		p->wait_head = s->wait_next;
		if (p->wait_head == NULL)
			p->wait_tail = NULL;
		s->wait_next = NULL;
		s->waiting = false;
		probe_start(s);
	}
}

static void deliver(struct mon_slot *s)
{
	struct steer_probe_result res = {
		.origin = s->origin->index,
		.time_ms = steer_clock_wall_ms(),
		.ok = s->out.ok,
		.http_status = s->out.http_status,
		.attempts = s->attempts,
	};
	int64_t rtt = s->out.end_ms - s->start_ms;

	res.rtt_ms = rtt > 0 ? (uint32_t)rtt : 0;
	mon_reason(res.reason, sizeof(res.reason), "%s", s->out.ok ? "" : s->out.reason);
	s->busy = false;
	s->p->inflight--;
	s->p->done(s->p->arg, &res);
	start_waiting(s->p);
}

/* The attempt has ended (see mon_attempt_done): re-try at once, or report. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct mon_slot *s = arg;
	char q[2 * STEER_REASON_MAX];

	(void)fd;
	(void)what;
	if (!s->out.ok && s->attempts <= s->mon->retries) {
		log_debug("pool=%s origin=%s retry=%u reason=\"%s\"", s->pool->name,
			  s->origin->name, s->attempts,
			  steer_log_quote(s->out.reason, q, sizeof(q)));
		attempt_start(s);
		return;
	}
	deliver(s);
}

/* A scheduled tick: probe unless the previous probe is still running. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mon_slot *s = arg;
	int64_t now = steer_clock_mono_ms();

	(void)fd;
	(void)what;
	s->due_ms =
		steer_prober_next_due_ms(s->p->start_ms, s->steady_ms, s->mon->interval_ms, now);
	arm(s, now);
	if (s->busy) {
		log_debug("pool=%s origin=%s tick skipped: probe still running", s->pool->name,
			  s->origin->name);
		return;
	}
	s->busy = true;
	if (s->p->inflight < MON_MAX_INFLIGHT) {
		probe_start(s);
		return;
	}
	/* busy stays true while waiting, so a later tick does not queue it twice */
	s->waiting = true;
	if (s->p->wait_tail != NULL)
		s->p->wait_tail->wait_next = s;
	else
		s->p->wait_head = s;
	s->p->wait_tail = s;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct steer_prober *p = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(p->base);
}

static bool is_probed(const struct steer_pool *pool, const struct steer_origin *o)
{
	return pool->enabled && pool->monitor != NULL && o->enabled;
}

static int slot_init(struct steer_prober *p, struct mon_slot *s, struct steer_err *err)
{
	s->p = p;
	s->tcp.fd = -1;
	s->timer = evtimer_new(p->base, on_tick, s);
	s->kick = event_new(p->base, -1, 0, on_kick, s);
	if (s->timer == NULL || s->kick == NULL)
		return STEER_ENOMEM;
	if (s->mon->type == STEER_MONITOR_TCP)
		return mon_tcp_slot_init(s);
	return mon_http_slot_init(s, err);
}

static void slot_fini(struct mon_slot *s)
{
	mon_http_slot_fini(s);
	mon_tcp_slot_fini(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->kick != NULL)
		event_free(s->kick);
}

/* Slots grouped by monitor, in config order, each with its first-round offset. */
static size_t fill_slots(struct steer_prober *p, struct mon_slot *v)
{
	const struct steer_config *cfg = p->cfg;
	size_t n = 0;

	for (size_t m = 0; m < cfg->n_monitors; m++) {
		const struct steer_monitor *mon = &cfg->monitors[m];
		size_t first = n;

		for (size_t i = 0; i < cfg->n_pools; i++) {
			const struct steer_pool *pool = &cfg->pools[i];

			for (size_t j = 0; pool->monitor == mon && j < pool->n_origins; j++) {
				if (!is_probed(pool, &pool->origins[j]))
					continue;
				if (v != NULL)
					v[n] = (struct mon_slot){.pool = pool,
								 .origin = &pool->origins[j],
								 .mon = mon,
								 .tcp.fd = -1};
				n++;
			}
		}
		for (size_t k = first; v != NULL && k < n; k++) {
			v[k].first_ms = steer_prober_first_offset_ms(
				(uint32_t)(k - first), (uint32_t)(n - first), mon->interval_ms);
			v[k].steady_ms = steer_prober_steady_offset_ms(
				(uint32_t)(k - first), (uint32_t)(n - first), mon->interval_ms);
		}
	}
	return n;
}

static int build_slots(struct steer_prober *p, struct steer_err *err)
{
	size_t n = fill_slots(p, NULL);
	bool need_dns = false;
	int rc;

	if (n == 0)
		return 0;
	p->slots = calloc(n, sizeof(*p->slots));
	if (p->slots == NULL)
		return STEER_ENOMEM;
	p->n_slots = fill_slots(p, p->slots);
	for (size_t i = 0; i < p->n_slots; i++) {
		struct mon_slot *s = &p->slots[i];

		rc = slot_init(p, s, err);
		if (rc < 0)
			return rc;
		need_dns = need_dns || (s->mon->type == STEER_MONITOR_TCP && !s->origin->is_ip);
	}
	if (need_dns) {
		p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
							 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (p->dns == NULL)
			return steer_err_set(err, STEER_EPROBE, "cannot set up the DNS resolver");
	}
	return 0;
}

int steer_prober_new(const struct steer_config *cfg, steer_probe_done_fn *done, void *arg,
		     struct steer_prober **out, struct steer_err *err)
{
	struct steer_prober *p = NULL;
	int rc;

	pthread_once(&global_once, global_init);
	if (global_rc < 0)
		return steer_err_set(err, global_rc,
				     "cannot initialise libcurl or libevent threads");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return STEER_ENOMEM;
	p->cfg = cfg;
	p->done = done;
	p->arg = arg;
	rc = STEER_ENOMEM;
	p->base = event_base_new();
	if (p->base == NULL)
		goto out;
	p->stop_ev = event_new(p->base, -1, 0, on_stop, p);
	if (p->stop_ev == NULL)
		goto out;
	rc = mon_http_init(p, err);
	if (rc < 0)
		goto out;
	rc = build_slots(p, err);
	if (rc < 0)
		goto out;
	*out = p;
	p = NULL; /* the caller owns it now */
out:
	steer_prober_free(p);
	return rc;
}

struct event_base *steer_prober_get_base(struct steer_prober *p)
{
	return p->base;
}

static void *run(void *arg)
{
	struct steer_prober *p = arg;
	int64_t now = steer_clock_mono_ms();

	steer_thread_name("steer-monitor");
	p->start_ms = now;
	for (size_t i = 0; i < p->n_slots; i++) {
		p->slots[i].due_ms = now + p->slots[i].first_ms;
		arm(&p->slots[i], now);
	}
	log_info("started origins=%zu", p->n_slots);
	event_base_loop(p->base, EVLOOP_NO_EXIT_ON_EMPTY);
	log_info("stopped");
	return NULL;
}

int steer_prober_start(struct steer_prober *p)
{
	int rc;

	if (p->running)
		return STEER_EINVAL;
	/* Signals belong to the owner's thread; curl's resolver threads inherit the mask and
	 * the CPUs (affinity.monitor). CPUs that cannot be used never stop the probing. */
	rc = steer_thread_start(&p->thread, &p->cfg->cpus_monitor,
				STEER_THREAD_NO_SIGNALS | STEER_THREAD_CPUS_OPTIONAL,
				"monitor thread (affinity.monitor)", run, p);
	if (rc < 0)
		return rc;
	p->running = true;
	return 0;
}

void steer_prober_stop(struct steer_prober *p)
{
	if (p == NULL || !p->running)
		return;
	/* An active event survives until the loop runs, unlike a loopbreak issued early. */
	event_active(p->stop_ev, EV_TIMEOUT, 0);
	pthread_join(p->thread, NULL);
	p->running = false;
}

/* Cancelled evdns requests finish in deferred callbacks: run them before freeing. */
static void dns_fini(struct steer_prober *p)
{
	if (p->dns == NULL)
		return;
	event_base_loop(p->base, EVLOOP_NONBLOCK);
	evdns_base_free(p->dns, 0);
	p->dns = NULL;
}

void steer_prober_free(struct steer_prober *p)
{
	if (p == NULL)
		return;
	steer_prober_stop(p);
	for (size_t i = 0; i < p->n_slots; i++)
		slot_fini(&p->slots[i]);
	mon_http_fini(p);
	dns_fini(p);
	free(p->slots);
	if (p->stop_ev != NULL)
		event_free(p->stop_ev);
	if (p->base != NULL)
		event_base_free(p->base);
	free(p);
}
