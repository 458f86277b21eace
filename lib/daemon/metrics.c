/*
 * GET /metrics and what feeds it: probe results (monitor thread), balancer transitions
 * (daemon thread), reloads, the store's counters. Counters live in the DNS server's metric
 * set, by name, so a reload never makes one go back; gauges are read from the health loop
 * when the document is built. Families are written whole, one after the other, for the
 * names of the configuration in service.
 */
#include "metrics/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/events.h"
#include "daemon/loop_int.h"
#include "daemon/metrics_int.h"
#include "daemon/notify_int.h"
#include "daemon/transfer_int.h"
#include "health/health.h"
#include "metrics/text.h"
#include "server/server.h"
#include "store/store.h"

#define STEER_LOG_SRC "steerd"
#include "core/log.h"

#define STORE_FLUSH_MS 1000

/* Columns of the unlabelled (STEER_METRICS_GLOBAL) entry. */
enum {
	COL_RELOAD_OK,
	COL_RELOAD_FAILED,
	COL_STORE_WRITTEN, /* what replaced stores counted */
	COL_STORE_DROPPED,
	COL_STORE_ERRORS,
};

/* Columns of a STEER_METRICS_BALANCER entry. */
enum {
	COL_FAILOVERS,
	COL_FAILBACKS,
};

/* ---- counting ---- */

void metrics_probe(struct steer_server *srv, const struct steer_origin *o,
		   const struct steer_probe_result *res)
{
	struct steer_metrics *m = srv != NULL ? steer_server_metrics(srv) : NULL;
	const struct steer_monitor *mon = o->pool->monitor;

	if (m == NULL)
		return;
	steer_metrics_add_named(m, STEER_METRICS_ORIGIN, o->pool->name, o->name,
				steer_metrics_probe_class(res->ok, res->reason), 1);
	if (mon != NULL)
		steer_metrics_observe(m, mon->name, res->rtt_ms / 1000.0);
}

/* Rank of pool @p name in @p b: its place in default_pools, or -1. */
static int pool_rank(const struct steer_balancer *b, const char *name)
{
	for (size_t i = 0; i < b->n_pools; i++) {
		if (strcmp(b->pools[i]->name, name) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Order of a balancer state as shown in events ("homelab", "failover:parents",
 * "fallback:parents", "fail-open:homelab", "random"): first by how it was chosen, then by
 * the pool's place in default_pools. @return false if it cannot be placed.
 */
static bool state_order(const struct steer_balancer *b, const char *state, int *level, int *rank)
{
	static const char *const prefix[] = {"failover:", "fallback:", "fail-open:"};

	*level = 0;
	*rank = 0;
	if (strcmp(state, "random") == 0)
		return true;
	for (int i = 0; i < 3; i++) {
		if (strncmp(state, prefix[i], strlen(prefix[i])) == 0) {
			*level = i + 1;
			state += strlen(prefix[i]);
			break;
		}
	}
	*rank = *level == 2 ? 0 : pool_rank(b, state);
	return *rank >= 0;
}

void metrics_transition(struct steer_server *srv, const struct steer_config *cfg,
			const struct steer_event *ev)
{
	const struct steer_balancer *b = NULL;
	int fl, fr, tl, tr;

	if (srv == NULL || cfg == NULL || ev->kind != STEER_EVENT_BALANCER)
		return;
	for (size_t i = 0; i < cfg->n_balancers && b == NULL; i++)
		if (strcmp(cfg->balancers[i].name, ev->balancer) == 0)
			b = &cfg->balancers[i];
	if (b == NULL || !state_order(b, ev->from, &fl, &fr) || !state_order(b, ev->to, &tl, &tr) ||
	    (fl == tl && fr == tr))
		return;
	steer_metrics_add_named(steer_server_metrics(srv), STEER_METRICS_BALANCER, b->name, "",
				tl > fl || (tl == fl && tr > fr) ? COL_FAILOVERS : COL_FAILBACKS,
				1);
}

void metrics_reload(struct steer_server *srv, bool ok)
{
	if (srv != NULL)
		steer_metrics_add_named(steer_server_metrics(srv), STEER_METRICS_GLOBAL, "", "",
					ok ? COL_RELOAD_OK : COL_RELOAD_FAILED, 1);
}

void metrics_reloads(struct steer_server *srv, uint64_t out[2])
{
	uint64_t g[STEER_METRICS_COLS];

	steer_metrics_get_named(steer_server_metrics(srv), STEER_METRICS_GLOBAL, "", "", g);
	out[0] = g[COL_RELOAD_OK];
	out[1] = g[COL_RELOAD_FAILED];
}

void metrics_store_retired(struct steer_server *srv, struct steer_store *store)
{
	struct steer_store_stats st;
	struct steer_metrics *m;

	if (srv == NULL || store == NULL)
		return;
	m = steer_server_metrics(srv);
	(void)steer_store_flush(store, STORE_FLUSH_MS); /* what it still holds is written now */
	steer_store_get_stats(store, &st);
	steer_metrics_add_named(m, STEER_METRICS_GLOBAL, "", "", COL_STORE_WRITTEN, st.written);
	steer_metrics_add_named(m, STEER_METRICS_GLOBAL, "", "", COL_STORE_DROPPED, st.dropped);
	steer_metrics_add_named(m, STEER_METRICS_GLOBAL, "", "", COL_STORE_ERRORS, st.errors);
}

void metrics_log_stats(struct steer_server *srv)
{
	struct steer_metrics_dns_totals t;
	char line[1024];

	if (srv == NULL)
		return;
	steer_metrics_dns_sum(steer_server_metrics(srv), &t);
	steer_metrics_stats_format(&t, line, sizeof(line));
	log_notice("stats: %s", line);
}

/* ---- the document ---- */

static void put_process(struct steer_metrics_text *t, struct steer_metrics *m)
{
	static const char *const version[] = {"version", STEER_VERSION, NULL};

	steer_metrics_text_family(t, "steer_build_info", "gauge",
				  "Always 1; the version of steerd in the label.");
	steer_metrics_text_u64(t, "steer_build_info", version, 1);
	steer_metrics_text_family(t, "steer_start_time_seconds", "gauge",
				  "When steerd started serving, in seconds since the Unix epoch.");
	steer_metrics_text_double(t, "steer_start_time_seconds", NULL,
				  (double)steer_metrics_start_ms(m) / 1000.0);
}

static const char *const proto_name[2] = {"udp", "tcp"};

/* One counter family over both transports from totals column @p col (-1: UDP only etc.). */
static void put_by_proto(struct steer_metrics_text *t, const struct steer_metrics_dns_totals *d,
			 const char *name, const char *help, enum steer_stat col, int only)
{
	steer_metrics_text_family(t, name, "counter", help);
	for (int p = 0; p < 2; p++) {
		const char *labels[] = {"proto", proto_name[p], NULL};

		if (only == 0)
			steer_metrics_text_u64(t, name, labels, d->c[p][col]);
		else if ((only > 0) == (p == 0))
			steer_metrics_text_u64(t, name, NULL, d->c[p][col]);
	}
}

/* DNS TCP connections closed, by reason (the label values are documented in README.md). */
static void put_tcp_closed(struct steer_metrics_text *t, const struct steer_metrics_dns_totals *d)
{
	static const struct {
		const char *reason;
		enum steer_stat col;
	} reasons[] = {
		{"idle_timeout", STEER_STAT_CLOSED_IDLE},
		{"first_query_timeout", STEER_STAT_CLOSED_QUERY_TIMEOUT},
		{"evicted", STEER_STAT_CLOSED_EVICTED},
		{"table_full", STEER_STAT_CLOSED_FULL},
		{"per_source_limit", STEER_STAT_CLOSED_PER_SOURCE},
		{"client_closed", STEER_STAT_CLOSED_CLIENT},
		{"error", STEER_STAT_CLOSED_ERROR},
	};
	const char *name = "steer_dns_tcp_connections_closed_total";

	steer_metrics_text_family(t, name, "counter",
				  "DNS TCP connections closed, by reason (table_full and "
				  "per_source_limit: refused at once).");
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *labels[] = {"reason", reasons[i].reason, NULL};

		steer_metrics_text_u64(t, name, labels, d->c[1][reasons[i].col]);
	}
}

static void put_dns(struct steer_metrics_text *t, struct steer_metrics *m)
{
	const char *name = "steer_dns_queries_total";
	struct steer_metrics_dns_totals d;

	steer_metrics_dns_sum(m, &d);
	steer_metrics_text_family(t, name, "counter",
				  "DNS queries answered, by transport, query type and response "
				  "RCODE (combinations that occurred).");
	for (int p = 0; p < 2; p++) {
		for (unsigned q = 0; q < STEER_METRICS_QTYPES; q++) {
			for (unsigned r = 0; r < STEER_METRICS_RCODES; r++) {
				const char *labels[] = {"proto", proto_name[p],
							"qtype", steer_metrics_qtype_name(q),
							"rcode", steer_metrics_rcode_name(r),
							NULL};

				if (d.answers[p][q][r] != 0)
					steer_metrics_text_u64(t, name, labels, d.answers[p][q][r]);
			}
		}
	}
	put_by_proto(t, &d, "steer_dns_received_total", "DNS messages received.",
		     STEER_STAT_QUERIES, 0);
	put_by_proto(t, &d, "steer_dns_dropped_total",
		     "DNS messages received and not answered (responses, unparsable headers).",
		     STEER_STAT_DROPPED, 0);
	put_by_proto(t, &d, "steer_dns_truncated_total", "DNS answers sent with TC set.",
		     STEER_STAT_TRUNCATED, 0);
	put_by_proto(t, &d, "steer_dns_udp_batches_total",
		     "recvmmsg() calls of the UDP workers that returned packets.",
		     STEER_STAT_BATCHES, 1);
	put_by_proto(t, &d, "steer_dns_udp_pacing_waits_total",
		     "Batch-pacing waits of the UDP workers (udp.batch_wait_us).", STEER_STAT_WAITS,
		     1);
	put_by_proto(t, &d, "steer_dns_tcp_connections_total", "DNS TCP connections accepted.",
		     STEER_STAT_CONNS, -1);
	put_by_proto(t, &d, "steer_dns_tcp_connections_refused_total",
		     "DNS TCP connections closed at once, over tcp.max_clients.",
		     STEER_STAT_CONNS_REFUSED, -1);
	put_by_proto(t, &d, "steer_dns_rrl_dropped_total",
		     "UDP responses response rate limiting dropped.", STEER_STAT_RRL_DROPPED, 1);
	put_by_proto(t, &d, "steer_dns_rrl_slipped_total",
		     "UDP responses response rate limiting sent as a slip (TC=1 or BADCOOKIE).",
		     STEER_STAT_RRL_SLIPPED, 1);
	put_tcp_closed(t, &d);
}

/* Is @p p already among the first @p n default pools of @p b? */
static bool listed_before(const struct steer_balancer *b, size_t n, const struct steer_pool *p)
{
	for (size_t i = 0; i < n && i < b->n_pools; i++)
		if (b->pools[i] == p)
			return true;
	return false;
}

static void put_answers(struct steer_metrics_text *t, struct steer_metrics *m,
			const struct steer_config *cfg)
{
	const char *name = "steer_balancer_answers_total";

	steer_metrics_text_family(t, name, "counter",
				  "Answers of each balancer, by the pool that answered.");
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *b = &cfg->balancers[i];

		for (size_t k = 0; k <= b->n_pools; k++) {
			const struct steer_pool *p = k < b->n_pools ? b->pools[k] : b->fallback;
			const char *labels[] = {"balancer", b->name, "pool", NULL, NULL};

			if (p == NULL || listed_before(b, k, p))
				continue;
			labels[3] = p->name;
			steer_metrics_text_u64(t, name, labels,
					       steer_metrics_sum_named(m,
								       STEER_METRICS_BALANCER_POOL,
								       b->name, p->name));
		}
	}
	name = "steer_origin_answers_total";
	steer_metrics_text_family(t, name, "counter",
				  "Balancer answers that held each origin (an answer with "
				  "several origins counts for each).");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			const char *labels[] = {"pool", p->name, "origin", p->origins[k].name,
						NULL};

			steer_metrics_text_u64(t, name, labels,
					       steer_metrics_sum_named(m, STEER_METRICS_ORIGIN,
								       p->name,
								       p->origins[k].name));
		}
	}
}

static void put_transitions(struct steer_metrics_text *t, struct steer_metrics *m,
			    const struct steer_config *cfg)
{
	static const struct {
		const char *name;
		int col;
		const char *help;
	} fam[] = {
		{"steer_balancer_failovers_total", COL_FAILOVERS,
		 "Times a balancer moved its answers to a pool ranked later (a later default "
		 "pool, the fallback, fail-open)."},
		{"steer_balancer_failbacks_total", COL_FAILBACKS,
		 "Times a balancer moved its answers back to a pool ranked earlier."},
	};

	for (size_t f = 0; f < 2; f++) {
		steer_metrics_text_family(t, fam[f].name, "counter", fam[f].help);
		for (size_t i = 0; i < cfg->n_balancers; i++) {
			const char *name = cfg->balancers[i].name;
			const char *labels[] = {"balancer", name, NULL};
			uint64_t col[STEER_METRICS_COLS];

			steer_metrics_get_named(m, STEER_METRICS_BALANCER, name, "", col);
			steer_metrics_text_u64(t, fam[f].name, labels, col[fam[f].col]);
		}
	}
}

/* Is the origin probed (enabled, in an enabled pool with a monitor)? */
static bool is_probed(const struct steer_pool *p, const struct steer_origin *o)
{
	return p->enabled && p->monitor != NULL && o->enabled;
}

static void put_probes(struct steer_metrics_text *t, struct steer_metrics *m,
		       const struct steer_config *cfg)
{
	const char *name = "steer_probes_total";

	steer_metrics_text_family(t, name, "counter",
				  "Probe results by origin and reason class (ok, timeout, refused, "
				  "tls, status, body, other).");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct steer_pool *p = &cfg->pools[i];

		for (size_t k = 0; k < p->n_origins; k++) {
			const struct steer_origin *o = &p->origins[k];
			uint64_t col[STEER_METRICS_COLS];

			if (!is_probed(p, o))
				continue;
			steer_metrics_get_named(m, STEER_METRICS_ORIGIN, p->name, o->name, col);
			for (int c = 0; c < STEER_PROBE_N; c++) {
				const char *labels[] = {
					"pool",
					p->name,
					"origin",
					o->name,
					"reason",
					steer_metrics_probe_class_name((enum steer_probe_class)c),
					NULL};

				if (c == STEER_PROBE_OK || col[c] != 0)
					steer_metrics_text_u64(t, name, labels, col[c]);
			}
		}
	}
	name = "steer_probe_duration_seconds";
	steer_metrics_text_family(t, name, "histogram",
				  "Round trip of the last attempt of each probe, by monitor.");
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		const char *labels[] = {"monitor", cfg->monitors[i].name, NULL};
		struct steer_metrics_hist h;

		steer_metrics_get_hist(m, cfg->monitors[i].name, &h);
		steer_metrics_text_hist(t, name, labels, &h);
	}
}

static void put_override(struct steer_metrics_text *t, const char *name, const char **labels,
			 size_t at, uint8_t state)
{
	for (int s = STEER_OVERRIDE_DRAIN; s <= STEER_OVERRIDE_UP; s++) {
		labels[at] = "state";
		labels[at + 1] = steer_override_name((enum steer_override)s);
		labels[at + 2] = NULL;
		steer_metrics_text_u64(t, name, labels, state == s ? 1 : 0);
	}
}

/* Gauges of origins. Holds l->lk. */
static void put_origin_gauges(struct steer_metrics_text *t, const struct steer_loop *l)
{
	const struct steer_config *cfg = l->cfg;

	steer_metrics_text_family(t, "steer_origin_up", "gauge",
				  "1 while the probes count the origin up (or have no result "
				  "yet), 0 when they count it down; overrides are apart.");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		for (size_t k = 0; k < cfg->pools[i].n_origins; k++) {
			const struct steer_origin *o = &cfg->pools[i].origins[k];
			const char *labels[] = {"pool", cfg->pools[i].name, "origin", o->name,
						NULL};
			bool down =
				steer_health_engine_state(l->eng, o->index) == STEER_HEALTH_DOWN;

			steer_metrics_text_u64(t, "steer_origin_up", labels, down ? 0 : 1);
		}
	}
	steer_metrics_text_family(t, "steer_origin_override", "gauge",
				  "1 for the operator override in force on the origin (drain, "
				  "down, up); all 0: none (auto).");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		for (size_t k = 0; k < cfg->pools[i].n_origins; k++) {
			const struct steer_origin *o = &cfg->pools[i].origins[k];
			const char *labels[7] = {"pool", cfg->pools[i].name, "origin", o->name};

			put_override(t, "steer_origin_override", labels, 4,
				     l->o_ovr[o->index].state);
		}
	}
}

/* Gauges of pools and balancers. Holds l->lk. */
static void put_pool_gauges(struct steer_metrics_text *t, const struct steer_loop *l)
{
	const struct steer_config *cfg = l->cfg;

	steer_metrics_text_family(t, "steer_pool_healthy", "gauge",
				  "1 while the pool is healthy (enough origins up, overrides "
				  "included), else 0.");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const char *labels[] = {"pool", cfg->pools[i].name, NULL};

		steer_metrics_text_u64(t, "steer_pool_healthy", labels, l->pool[i].ok ? 1 : 0);
	}
	steer_metrics_text_family(t, "steer_pool_override", "gauge",
				  "1 for the operator override in force on the whole pool (drain, "
				  "down, up); all 0: none (auto).");
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const char *labels[5] = {"pool", cfg->pools[i].name};

		put_override(t, "steer_pool_override", labels, 2, l->p_ovr[i].state);
	}
	steer_metrics_text_family(t, "steer_balancer_failed_over", "gauge",
				  "1 while the balancer answers from a pool other than its first "
				  "choice (failover, fallback, fail-open), else 0.");
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const char *labels[] = {"balancer", cfg->balancers[i].name, NULL};

		steer_metrics_text_u64(t, "steer_balancer_failed_over", labels,
				       strchr(l->bal[i].state, ':') != NULL ? 1 : 0);
	}
}

static void put_health(struct steer_metrics_text *t, struct steer_loop *l)
{
	pthread_mutex_lock(&l->lk);
	put_origin_gauges(t, l);
	put_pool_gauges(t, l);
	pthread_mutex_unlock(&l->lk);
}

static void put_counter(struct steer_metrics_text *t, const char *name, const char *help,
			uint64_t v)
{
	steer_metrics_text_family(t, name, "counter", help);
	steer_metrics_text_u64(t, name, NULL, v);
}

static void put_store(struct steer_metrics_text *t, struct steer_store *store, const uint64_t *base)
{
	struct steer_store_stats st;

	steer_store_get_stats(store, &st);
	steer_metrics_text_family(t, "steer_store_up", "gauge",
				  "1 while the last open or write of the SQLite store succeeded.");
	steer_metrics_text_u64(t, "steer_store_up", NULL, st.db_ok ? 1 : 0);
	put_counter(t, "steer_store_rows_written_total", "Records committed to the SQLite store.",
		    base[COL_STORE_WRITTEN] + st.written);
	put_counter(t, "steer_store_write_errors_total",
		    "Failed opens and writes of the SQLite store.",
		    base[COL_STORE_ERRORS] + st.errors);
	steer_metrics_text_family(t, "steer_store_queue_depth", "gauge",
				  "Records waiting to be written to the SQLite store.");
	steer_metrics_text_u64(t, "steer_store_queue_depth", NULL, st.queued);
	put_counter(t, "steer_store_dropped_total",
		    "Records lost: the store's queue was full or the database unwritable.",
		    base[COL_STORE_DROPPED] + st.dropped);
}

static void put_daemon(struct steer_metrics_text *t, struct steer_metrics *m,
		       struct steer_store *store, struct steer_events *events)
{
	const char *name = "steer_reloads_total";
	uint64_t g[STEER_METRICS_COLS];

	steer_metrics_get_named(m, STEER_METRICS_GLOBAL, "", "", g);
	steer_metrics_text_family(t, name, "counter",
				  "Configuration reloads (signal or API), by result.");
	steer_metrics_text_u64(t, name, (const char *const[]){"result", "ok", NULL},
			       g[COL_RELOAD_OK]);
	steer_metrics_text_u64(t, name, (const char *const[]){"result", "failed", NULL},
			       g[COL_RELOAD_FAILED]);
	if (events != NULL)
		put_counter(t, "steer_events_dropped_total",
			    "Health events lost because the event queue was full.",
			    steer_events_dropped(events));
	if (store != NULL)
		put_store(t, store, g);
}

/* Notification deliveries per target; counts restart when a reload changes the targets
 * (the notifier is replaced then; Prometheus treats that as a counter reset). */
static void put_notify(struct steer_metrics_text *t, struct steer_dnotify *notify)
{
	static const char *const fam[][3] = {
		{"steer_notifications_sent_total", "Events delivered to a notification target."},
		{"steer_notifications_failed_total",
		 "Failed delivery attempts to a notification target (each is retried)."},
		{"steer_notifications_given_up_total",
		 "Events a notification target never got (older than its max_age)."},
	};
	struct steer_notify_stats st[STEER_NOTIFY_MAX];
	uint64_t queued = 0;
	size_t n = steer_dnotify_stats(notify, st, STEER_NOTIFY_MAX, &queued);

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		steer_metrics_text_family(t, fam[f][0], "counter", fam[f][1]);
		for (size_t i = 0; i < n; i++) {
			const uint64_t v[] = {st[i].sent, st[i].failed, st[i].given_up};

			steer_metrics_text_u64(t, fam[f][0],
					       (const char *const[]){"target", st[i].name, "type",
								     st[i].type, NULL},
					       v[f]);
		}
	}
	steer_metrics_text_family(t, "steer_notifications_queued", "gauge",
				  "Events accepted for notification, not yet in the outbox.");
	steer_metrics_text_u64(t, "steer_notifications_queued", NULL, queued);
}

/* Zone transfers: the serial secondaries follow, and how NOTIFY fares. */
static void put_xfr(struct steer_metrics_text *t, const struct dxfr_stats *x)
{
	static const char *const name = "steer_xfr_notify_total";
	const struct {
		const char *result;
		uint64_t v;
	} rows[] = {{"sent", x->notify_sent},
		    {"acked", x->notify_acked},
		    {"failed", x->notify_failed},
		    {"replaced", x->notify_replaced}};

	steer_metrics_text_family(t, "steer_zone_serial", "gauge",
				  "SOA serial of the zone version served and transferred now.");
	steer_metrics_text_u64(t, "steer_zone_serial", NULL, x->serial);
	steer_metrics_text_family(
		t, name, "counter",
		"NOTIFY to secondaries: messages sent (retries included), serials "
		"acknowledged, given up after every try, replaced by a newer one.");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		steer_metrics_text_u64(
			t, name, (const char *const[]){"result", rows[i].result, NULL}, rows[i].v);
}

char *metrics_text(struct steer_server *srv, const struct steer_config *cfg,
		   struct steer_loop *loop, struct steer_store *store, struct steer_events *events,
		   struct steer_dnotify *notify, const struct dxfr_stats *xfr)
{
	struct steer_metrics *m = steer_server_metrics(srv);
	struct steer_metrics_text t;

	steer_metrics_text_init(&t);
	put_process(&t, m);
	put_dns(&t, m);
	put_answers(&t, m, cfg);
	put_transitions(&t, m, cfg);
	put_probes(&t, m, cfg);
	put_health(&t, loop);
	put_daemon(&t, m, store, events);
	if (notify != NULL)
		put_notify(&t, notify);
	if (xfr != NULL)
		put_xfr(&t, xfr);
	return steer_metrics_text_finish(&t);
}
