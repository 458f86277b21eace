/*
 * The running system: start-up in dependency order, reload (SIGHUP or the API) under one
 * lock, the daemon thread's tick (QSBR reclamation, override windows, failback holds,
 * probe restarts), the event subscribers (log, store) and the API's operations.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "api/api.h"
#include "config/config.h"
#include "core/clock.h"
#include "daemon/events.h"
#include "daemon/loop.h"
#include "daemon/loop_int.h"
#include "daemon/metrics_int.h"
#include "daemon/notify_int.h"
#include "daemon/page_int.h"
#include "daemon/privdrop_int.h"
#include "daemon/restart_int.h"
#include "daemon/sdnotify_int.h"
#include "daemon/transfer_int.h"
#include "health/health.h"
#include "metrics/metrics.h"
#include "server/server.h"
#include "store/store.h"
#include "zone/zone.h"

#define STEER_LOG_SRC "steerd"
#include "core/log.h"

#define TICK_MS        100
#define PROBE_RETRY_MS 5000

struct steer_daemon {
	char *path;
	pthread_mutex_t lk; /* cfg, zone, loop and reloads */
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_loop *loop;
	struct steer_server *srv;
	pthread_mutex_t store_lk; /* the store pointer, swapped by a reload */
	struct steer_store *store;
	struct steer_events *events;
	struct steer_dnotify *notify; /* notifications: the notifier and its subscriber */
	struct steer_api *api;
	struct steer_api_ops ops;
	struct page *page; /* the status page's state; API thread only */
	struct steer_api_addr *api_addrs;
	char *token; /* created at start when api.token_file did not exist */
	int64_t probe_retry_ms;
	bool stopping;               /* steer_daemon_free() began: the tick restarts no probes */
	struct steer_user_conf user; /* `user` at start: only a restart changes it */
	struct dxfr *xfr;            /* zone transfers: versions, serial, NOTIFY */
	/* the configuration steerd started with: its restart-only keys are the running ones;
	 * cfg itself until the first reload, then kept (and owned) here */
	struct steer_config *run_cfg;
	int64_t loaded_ms; /* wall clock: the current configuration's load */
};

/* ---- loading ---- */

static int load(const char *path, struct steer_config **cfg, struct steer_zone **zone,
		struct steer_errs *errs)
{
	int rc = steer_config_load(path, cfg, errs);

	if (rc == 0) {
		rc = steer_zone_new(*cfg, zone, errs);
		if (rc < 0) {
			steer_config_free(*cfg);
			*cfg = NULL;
		}
	}
	if (rc < 0 && errs != NULL && errs->n == 0)
		steer_errs_add(errs, path, 0, 0, NULL, "%s", steer_strerror(rc));
	return rc;
}

int steer_daemon_new(const char *path, struct steer_daemon **out, struct steer_errs *errs)
{
	struct steer_daemon *d = calloc(1, sizeof(*d));
	int rc;

	if (d == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		return STEER_ENOMEM;
	}
	pthread_mutex_init(&d->lk, NULL);
	pthread_mutex_init(&d->store_lk, NULL);
	rc = load(path, &d->cfg, &d->zone, errs);
	if (rc < 0) {
		steer_daemon_free(d);
		return rc;
	}
	steer_log_configure(d->cfg->log.level, d->cfg->log.format);
	d->run_cfg = d->cfg;
	d->loaded_ms = steer_clock_wall_ms();
	*out = d;
	return 0;
}

/* ---- event subscribers (daemon thread) ---- */

static void log_event(void *arg, const struct steer_event *ev)
{
	char q[512];

	(void)arg;
	switch (ev->kind) {
	case STEER_EVENT_ORIGIN:
		steer_log(strcmp(ev->to, "down") == 0 ? STEER_LOG_WARN : STEER_LOG_NOTICE, "health",
			  "pool=%s origin=%s addr=%s %s->%s reason=\"%s\"", ev->pool, ev->origin,
			  ev->address, ev->from, ev->to, steer_log_quote(ev->reason, q, sizeof(q)));
		break;
	case STEER_EVENT_POOL:
		steer_log(strcmp(ev->to, "unhealthy") == 0 ? STEER_LOG_WARN : STEER_LOG_NOTICE,
			  "health", "pool=%s %s->%s", ev->pool, ev->from, ev->to);
		break;
	case STEER_EVENT_BALANCER:
		steer_log(STEER_LOG_NOTICE, "health", "balancer=%s %s->%s reason=\"%s\"",
			  ev->balancer, ev->from, ev->to,
			  steer_log_quote(ev->reason, q, sizeof(q)));
		break;
	case STEER_EVENT_OVERRIDE:
		steer_log(STEER_LOG_NOTICE, "health",
			  "override pool=%s%s%s %s->%s until_ms=%lld source=%s reason=\"%s\"",
			  ev->pool, ev->origin[0] != '\0' ? " origin=" : "", ev->origin, ev->from,
			  ev->to, (long long)ev->until_ms, ev->source,
			  steer_log_quote(ev->reason, q, sizeof(q)));
		break;
	case STEER_EVENT_RELOAD:
		break; /* steer_daemon_reload() logs it with the details */
	}
}

static void store_event(void *arg, const struct steer_event *ev)
{
	struct steer_daemon *d = arg;
	struct steer_store_transition t = {.time_ms = ev->time_ms,
					   .pool = ev->pool,
					   .from = ev->from,
					   .to = ev->to,
					   .reason = ev->reason};
	struct steer_store_override o = {.time_ms = ev->time_ms,
					 .pool = ev->pool,
					 .origin = ev->origin[0] != '\0' ? ev->origin : NULL,
					 .state = ev->to,
					 .reason = ev->reason,
					 .until_ms = ev->until_ms,
					 .source = ev->source};

	pthread_mutex_lock(&d->store_lk);
	if (d->store == NULL || ev->kind == STEER_EVENT_RELOAD) {
		pthread_mutex_unlock(&d->store_lk);
		return;
	}
	if (ev->kind == STEER_EVENT_OVERRIDE) {
		if (!steer_store_put_override(d->store, &o))
			log_err("store queue full: override of pool=%s origin=%s not recorded",
				ev->pool, ev->origin);
	} else {
		t.kind = ev->kind == STEER_EVENT_ORIGIN ? STEER_STORE_ORIGIN
			 : ev->kind == STEER_EVENT_POOL ? STEER_STORE_POOL
							: STEER_STORE_BALANCER;
		t.name = ev->kind == STEER_EVENT_ORIGIN ? ev->origin : ev->balancer;
		t.address = ev->address;
		steer_store_put_transition(d->store, &t);
	}
	pthread_mutex_unlock(&d->store_lk);
}

/* Failovers and failbacks by balancer; the lock keeps the config the ranks come from. */
static void metrics_event(void *arg, const struct steer_event *ev)
{
	struct steer_daemon *d = arg;

	if (ev->kind != STEER_EVENT_BALANCER)
		return;
	pthread_mutex_lock(&d->lk);
	metrics_transition(d->srv, d->cfg, ev);
	pthread_mutex_unlock(&d->lk);
}

/* Daemon thread, every TICK_MS. */
static void tick(void *arg, int64_t now_ms)
{
	struct steer_daemon *d = arg;
	struct steer_err err = {0};

	pthread_mutex_lock(&d->lk);
	/* reclamation runs here, on a thread that always exists, whatever the probes do */
	steer_server_reclaim(d->srv);
	(void)steer_server_cookie_tick(d->srv, false); /* hourly; logs its own failure */
	steer_loop_tick(d->loop, now_ms);
	if (dxfr_is_due(d->xfr))
		dxfr_refresh(d->xfr, d->cfg, d->zone, d->loop, d->store);
	if (!d->stopping && !steer_loop_is_probing(d->loop) && now_ms >= d->probe_retry_ms) {
		d->probe_retry_ms = now_ms + PROBE_RETRY_MS;
		if (steer_loop_start_probes(d->loop, &err) < 0)
			log_err("health monitoring is stopped: %s; retrying in %d s", err.msg,
				PROBE_RETRY_MS / 1000);
		else
			log_notice("health monitoring started again");
	}
	pthread_mutex_unlock(&d->lk);
}

/* ---- reload ---- */

struct old_config {
	struct steer_config *cfg;
	struct steer_zone *zone;
};

/* Runs once no DNS worker can still read the old zone (which points into the config). */
static void old_config_free(void *arg)
{
	struct old_config *old = arg;

	steer_zone_free(old->zone);
	steer_config_free(old->cfg);
	free(old);
}

static bool same_store_settings(const struct steer_config *a, const struct steer_config *b)
{
	return strcmp(a->state_path, b->state_path) == 0 &&
	       a->retention_days == b->retention_days && a->cpus_monitor.n == b->cpus_monitor.n &&
	       (a->cpus_monitor.n == 0 || memcmp(a->cpus_monitor.cpu, b->cpus_monitor.cpu,
						 a->cpus_monitor.n * sizeof(uint16_t)) == 0);
}

static bool same_user(const struct steer_user_conf *a, const struct steer_user_conf *b)
{
	return a->enabled == b->enabled &&
	       (!a->enabled || (strcmp(a->user, b->user) == 0 && strcmp(a->group, b->group) == 0));
}

static int store_open(const struct steer_config *cfg, struct steer_store **out,
		      struct steer_err *err)
{
	struct steer_store_opts so = {.path = cfg->state_path,
				      .retention_days = cfg->retention_days,
				      .cpus = &cfg->cpus_monitor};
	int rc = steer_store_new(&so, out);

	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the store%s: %s",
				     cfg->cpus_monitor.n != 0 ? " (affinity.monitor)" : "",
				     steer_strerror(rc));
	return 0;
}

static void reload_event(struct steer_daemon *d, const char *source, bool ok, const char *msg)
{
	struct steer_event ev = {
		.kind = STEER_EVENT_RELOAD, .time_ms = steer_clock_wall_ms(), .ok = ok};

	snprintf(ev.source, sizeof(ev.source), "%s", source);
	snprintf(ev.reason, sizeof(ev.reason), "%s", msg);
	if (d->events != NULL)
		steer_events_publish(d->events, &ev);
	metrics_reload(d->srv, ok);
}

static void log_errs(const struct steer_errs *errs)
{
	char line[1024];

	for (size_t i = 0; i < errs->n && i < errs->cap; i++)
		log_err("%s", steer_err_format(&errs->v[i], line, sizeof(line)));
}

/* Switch to @p cfg / @p zone (validated). Holds d->lk. @return 0 or STEER_ENOMEM (the
 * previous configuration keeps serving and probing). */
static int switch_to(struct steer_daemon *d, struct steer_config *cfg, struct steer_zone *zone)
{
	struct steer_store *store = NULL;
	struct steer_loop *loop = NULL;
	struct steer_health_snapshot *snap = NULL;
	struct old_config *old = calloc(1, sizeof(*old));
	struct steer_err err = {0};
	bool new_store = !same_store_settings(d->cfg, cfg);

	if (old == NULL || (new_store && store_open(cfg, &store, &err) < 0))
		goto fail;
	steer_loop_stop(d->loop); /* the old loop is final from here on */
	if (steer_loop_new(cfg, d->loop, new_store ? store : d->store, d->events, &loop) < 0 ||
	    (snap = steer_loop_snapshot(loop)) == NULL) {
		steer_loop_free(loop);
		/* the old loop still holds everything: probe again with it */
		if (steer_loop_start(d->loop, d->srv, &err) < 0)
			log_err("health monitoring is stopped: %s; retrying", err.msg);
		goto fail;
	}
	old->cfg = d->cfg != d->run_cfg ? d->cfg : NULL; /* the start config stays */
	old->zone = d->zone;
	steer_loop_free(d->loop); /* it points into the old config: before that is retired */
	steer_server_replace(d->srv, cfg, zone, snap, old_config_free, old);
	d->cfg = cfg;
	d->zone = zone;
	d->loop = loop;
	if (new_store) {
		struct steer_store *prev;

		pthread_mutex_lock(&d->store_lk);
		prev = d->store;
		d->store = store;
		pthread_mutex_unlock(&d->store_lk);
		metrics_store_retired(d->srv, prev); /* its counts carry over */
		steer_store_free(prev);              /* flushes what it holds */
	}
	if (steer_loop_start(loop, d->srv, &err) < 0)
		log_err("health monitoring is stopped: %s; retrying every %d s", err.msg,
			PROBE_RETRY_MS / 1000);
	return 0;
fail:
	if (err.msg[0] != '\0')
		log_err("reload: %s", err.msg);
	steer_store_free(store);
	free(old);
	return STEER_ENOMEM;
}

int steer_daemon_reload(struct steer_daemon *d, const char *source, struct steer_errs *errs)
{
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	char msg[256];
	int rc;

	pthread_mutex_lock(&d->lk);
	sdnotify_reloading();
	rc = load(d->path, &cfg, &zone, errs);
	if (rc == 0)
		daemon_warn_restart(d->cfg, cfg);
	if (rc == 0 && !same_user(&d->user, &cfg->user))
		log_warn("reload: \"user\" or \"group\" changed; restart steerd to apply it "
			 "(still running as uid=%lu gid=%lu)",
			 (unsigned long)geteuid(), (unsigned long)getegid());
	if (rc == 0)
		dxfr_reload(d->xfr, cfg, zone, d->store); /* the new zone answers the serial */
	if (rc == 0 && switch_to(d, cfg, zone) < 0) {
		steer_zone_free(zone);
		steer_config_free(cfg);
		rc = STEER_ENOMEM;
		steer_errs_add(errs, NULL, 0, 0, NULL,
			       "out of memory switching to the new "
			       "configuration");
	}
	if (rc < 0) {
		log_errs(errs);
		snprintf(msg, sizeof(msg), "%zu error%s in the configuration", errs->n,
			 errs->n == 1 ? "" : "s");
		log_err("reload of %s failed; still serving the previous configuration (%s; from "
			"%s)",
			d->path, msg, source);
		reload_event(d, source, false, msg);
		sdnotify_ready(d->cfg, "last reload failed");
		pthread_mutex_unlock(&d->lk);
		return rc;
	}
	snprintf(msg, sizeof(msg),
		 "reloaded %s: zone %s, %zu names, %zu balancers, %zu pools, "
		 "%zu origins",
		 d->path, cfg->zone.name, steer_zone_node_count(zone), cfg->n_balancers,
		 cfg->n_pools, cfg->n_origins);
	steer_log_configure(cfg->log.level, cfg->log.format);
	log_notice("%s (%s)", msg, source);
	steer_dnotify_reload(d->notify, cfg);
	dxfr_refresh(d->xfr, d->cfg, d->zone, d->loop, d->store);
	reload_event(d, source, true, msg);
	d->loaded_ms = steer_clock_wall_ms();
	sdnotify_ready(cfg, NULL);
	pthread_mutex_unlock(&d->lk);
	return 0;
}

/* ---- the API's operations (API thread) ---- */

/* GET /metrics. */
static char *op_metrics(void *arg)
{
	struct steer_daemon *d = arg;
	struct dxfr_stats xs;
	char *text;

	pthread_mutex_lock(&d->lk);
	pthread_mutex_lock(&d->store_lk);
	text = metrics_text(d->srv, d->cfg, d->loop, d->store, d->events, d->notify,
			    dxfr_stats(d->xfr, &xs) ? &xs : NULL);
	pthread_mutex_unlock(&d->store_lk);
	pthread_mutex_unlock(&d->lk);
	return text;
}

/* The status document's "server": how this steerd runs (the restart-only keys as they
 * were at start, the rest as loaded) and what a restart would change. Holds d->lk. */
static json_t *server_json(struct steer_daemon *d)
{
	const struct steer_config *run = d->run_cfg, *cfg = d->cfg;
	const char *keys[DAEMON_RESTART_KEYS_MAX];
	const size_t n_keys = daemon_restart_keys(run, cfg, keys, DAEMON_RESTART_KEYS_MAX);
	json_t *listen = json_array(), *restart = json_array(), *rrl = json_null();
	json_t *xfr = json_null();
	struct dxfr_stats xs;
	uint64_t reloads[2];

	metrics_reloads(d->srv, reloads);
	for (size_t i = 0; i < run->n_listen; i++)
		json_array_append_new(listen, json_string(run->listen[i].text));
	for (size_t i = 0; i < n_keys; i++)
		json_array_append_new(restart, json_string(keys[i]));
	if (cfg->rrl.enabled)
		rrl = json_pack("{s:i, s:i, s:i}", "rate", (int)cfg->rrl.rate, "slip",
				(int)cfg->rrl.slip, "whitelist", (int)cfg->rrl.n_whitelist);
	if (dxfr_stats(d->xfr, &xs))
		xfr = json_pack("{s:I, s:i, s:i}", "serial", (json_int_t)xs.serial, "allow",
				(int)cfg->xfr.n_allow, "notify", (int)cfg->xfr.n_notify);
	return json_pack(
		"{s:I, s:I, s:I, s:I, s:o, s:i, s:{s:i, s:i, s:i, s:i}, s:b, s:o, "
		"s:{s:s, s:s}, s:o, s:o}",
		"started_ms", (json_int_t)steer_metrics_start_ms(steer_server_metrics(d->srv)),
		"config_loaded_ms", (json_int_t)d->loaded_ms, "reloads", (json_int_t)reloads[0],
		"reloads_failed", (json_int_t)reloads[1], "listen", listen, "workers",
		(int)steer_server_workers(d->srv), "tcp", "max_clients", (int)run->tcp_max_clients,
		"idle_timeout_s", (int)(run->tcp_idle_timeout_ms / 1000), "query_timeout_s",
		(int)(run->tcp_query_timeout_ms / 1000), "max_per_source",
		(int)run->tcp_max_per_source, "cookies", cfg->cookies_enabled, "rrl", rrl, "log",
		"level", steer_config_log_level_name(cfg->log.level), "format",
		steer_config_log_format_name(cfg->log.format), "transfer", xfr, "restart_needed",
		restart);
}

static json_t *op_status(void *arg)
{
	struct steer_daemon *d = arg;
	json_t *doc;

	pthread_mutex_lock(&d->lk);
	doc = steer_loop_status(d->loop, steer_clock_wall_ms());
	if (doc != NULL && json_object_set_new(doc, "server", server_json(d)) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	pthread_mutex_unlock(&d->lk);
	return doc;
}

/* GET /: the status document as HTML; its history reads run outside d->lk. */
static char *op_page(void *arg)
{
	struct steer_daemon *d = arg;
	char *path = NULL;
	char *html = NULL;
	bool no_path;
	json_t *doc;

	pthread_mutex_lock(&d->lk);
	doc = steer_loop_status(d->loop, steer_clock_wall_ms());
	no_path = d->cfg->state_path == NULL;
	if (!no_path)
		path = strdup(d->cfg->state_path);
	pthread_mutex_unlock(&d->lk);
	if (doc != NULL && (path != NULL || no_path))
		html = page_build(&d->page, doc, path);
	json_decref(doc);
	free(path);
	return html;
}

static int op_override(void *arg, const struct steer_api_override *req, json_t **result,
		       struct steer_err *err)
{
	struct steer_daemon *d = arg;
	int rc;

	pthread_mutex_lock(&d->lk);
	rc = steer_loop_override(d->loop, req->pool, req->origin, req->state, req->for_ms,
				 req->reason, steer_clock_wall_ms(), result, err);
	pthread_mutex_unlock(&d->lk);
	return rc;
}

static int op_explain(void *arg, const char *name, const char *type, const char *client,
		      json_t **result, struct steer_err *err)
{
	struct steer_daemon *d = arg;
	int rc;

	pthread_mutex_lock(&d->lk);
	rc = steer_loop_explain(d->loop, d->zone, name, type, client, steer_clock_wall_ms(), result,
				err);
	pthread_mutex_unlock(&d->lk);
	return rc;
}

static int op_failback(void *arg, const char *balancer, json_t **result, struct steer_err *err)
{
	struct steer_daemon *d = arg;
	int rc;

	pthread_mutex_lock(&d->lk);
	rc = steer_loop_failback(d->loop, balancer, steer_clock_wall_ms(), result, err);
	pthread_mutex_unlock(&d->lk);
	return rc;
}

static int op_notify_test(void *arg, const char *name, json_t **result, struct steer_err *err)
{
	struct steer_daemon *d = arg;

	return steer_dnotify_test(d->notify, name, result, err);
}

/* GET /v1/zone: what a secondary would transfer now; -ENOENT without `transfer`. */
static int op_zone(void *arg, char **text)
{
	struct steer_daemon *d = arg;
	bool on;

	pthread_mutex_lock(&d->lk);
	on = d->cfg->xfr.enabled && d->xfr != NULL;
	pthread_mutex_unlock(&d->lk);
	if (!on)
		return -ENOENT;
	*text = dxfr_zone_text(d->xfr);
	return *text != NULL ? 0 : STEER_ENOMEM;
}

static json_t *errs_json(const struct steer_errs *errs)
{
	json_t *arr = json_array();
	char line[1024];

	for (size_t i = 0; arr != NULL && i < errs->n && i < errs->cap; i++) {
		const struct steer_err *e = &errs->v[i];

		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "text",
						steer_err_format(e, line, sizeof(line)), "file",
						e->file, "line", e->line, "column", e->column,
						"path", e->path, "message", e->msg));
	}
	return arr;
}

static int op_reload(void *arg, json_t **result)
{
	struct steer_daemon *d = arg;
	struct steer_errs errs = {0};
	int rc = steer_daemon_reload(d, "api", &errs);
	char msg[256];

	if (rc == 0) {
		snprintf(msg, sizeof(msg), "reloaded %s", d->path);
		*result = json_pack("{s:b, s:s}", "ok", 1, "message", msg);
	} else {
		snprintf(msg, sizeof(msg),
			 "%zu error%s in the configuration; still serving the previous one", errs.n,
			 errs.n == 1 ? "" : "s");
		*result = json_pack("{s:b, s:s, s:o}", "ok", 0, "error", msg, "errors",
				    errs_json(&errs));
		rc = STEER_ECONFIG;
	}
	steer_errs_fini(&errs);
	return rc;
}

/* ---- start and stop ---- */

/*
 * api.token_file does not exist yet: a random token, made before the API binds (it takes
 * its token then) and written to the file by token_write() after the privilege drop, so
 * that the file belongs to the user steerd runs as.
 */
static int token_make(struct steer_daemon *d, struct steer_err *err)
{
	uint8_t raw[32];
	char hex[2 * sizeof(raw) + 1];
	char eb[128];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return steer_err_set(err, -errno, "api.token_file: no random bytes: %s",
				     steer_errno_str(errno, eb, sizeof(eb)));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	d->token = strdup(hex);
	return d->token != NULL ? 0 : STEER_ENOMEM;
}

/* Create api.token_file (mode 600, never an existing one) holding d->token. */
static int token_write(struct steer_daemon *d, struct steer_err *err)
{
	const char *path = d->cfg->api.token_file;
	size_t len = strlen(d->token);
	char eb[128];
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return steer_err_set(err, -errno, "api.token_file: cannot create %s: %s", path,
				     steer_errno_str(errno, eb, sizeof(eb)));
	if (write(fd, d->token, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || close(fd) < 0) {
		unlink(path);
		return steer_err_set(err, STEER_EIO, "api.token_file: cannot write %s", path);
	}
	log_notice("created %s with a new API token (mode 600); steerctl reads it from there",
		   path);
	return 0;
}

/* Bind the API's listeners (nothing is served until api_start()). */
static int api_bind(struct steer_daemon *d, struct steer_err *err)
{
	const struct steer_api_conf *ac = &d->cfg->api;
	struct steer_api_opts o = {0};
	int rc;

	if (!ac->enabled)
		return 0;
	if (ac->token == NULL && ac->token_file != NULL) {
		rc = token_make(d, err);
		if (rc < 0)
			return rc;
	}
	d->api_addrs = calloc(ac->n_listen + 1, sizeof(*d->api_addrs));
	if (d->api_addrs == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < ac->n_listen; i++) {
		d->api_addrs[i].text = ac->listen[i].text;
		d->api_addrs[i].sa = (const struct sockaddr *)&ac->listen[i].ss;
		d->api_addrs[i].len = ac->listen[i].len;
	}
	d->ops = (struct steer_api_ops){.arg = d,
					.status = op_status,
					.override = op_override,
					.explain = op_explain,
					.failback = op_failback,
					.notify_test = op_notify_test,
					.reload = op_reload,
					.page = op_page,
					.metrics = op_metrics,
					.zone = op_zone};
	o.listen = d->api_addrs;
	o.n_listen = ac->n_listen;
	o.token = ac->token != NULL ? ac->token : d->token;
	o.public_read = ac->public_read;
	o.state_path = d->cfg->state_path;
	o.ops = &d->ops;
	return steer_api_new(&o, &d->api, err); /* the API logs its listen addresses */
}

/* Write a new token file, then serve the API bound by api_bind(). */
static int api_start(struct steer_daemon *d, struct steer_err *err)
{
	int rc;

	if (d->api == NULL)
		return 0;
	if (d->token != NULL) {
		rc = token_write(d, err);
		if (rc < 0)
			return rc;
	}
	return steer_api_start(d->api, err);
}

/*
 * Bind every socket while steerd may still be root (ports below 1024): DNS and the API.
 * The server gets a placeholder snapshot; the one restored from the store replaces it
 * before the server starts, so no answer ever uses the placeholder.
 */
static int bind_sockets(struct steer_daemon *d, struct steer_err *err)
{
	const struct steer_config *cfg = d->cfg;
	const struct steer_health_dims dims = {.n_origins = cfg->n_origins,
					       .n_pools = cfg->n_pools,
					       .n_balancers = cfg->n_balancers};
	struct steer_health_snapshot *snap = steer_health_snapshot_new_dims(&dims, 0);
	int rc;

	if (snap == NULL)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	rc = steer_server_new(cfg, d->zone, snap, &d->srv, err); /* takes snap */
	if (rc < 0)
		return rc;
	return api_bind(d, err);
}

/* Zone transfers: the versions are restored and built before the first answer, and the
 * TCP thread hands AXFR and IXFR to them. */
static int xfr_start(struct steer_daemon *d, struct steer_err *err)
{
	int rc = dxfr_new(d->cfg, d->store, &d->xfr, err);

	if (rc < 0)
		return rc;
	if (steer_events_subscribe(d->events, dxfr_event, d->xfr) < 0)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	dxfr_refresh(d->xfr, d->cfg, d->zone, d->loop, d->store);
	steer_server_set_xfr(d->srv, dxfr_tcp, d->xfr);
	steer_server_set_signed(d->srv, dxfr_signed, d->xfr);
	return 0;
}

int steer_daemon_start(struct steer_daemon *d, struct steer_err *err)
{
	const struct steer_config *cfg = d->cfg;
	struct steer_health_snapshot *snap;
	int rc = privs_check(&cfg->user, err);

	if (rc == 0)
		rc = bind_sockets(d, err);
	/* from here on as `user`: the database, the token file and the probes are its own */
	if (rc == 0)
		rc = privs_drop(&cfg->user, err);
	d->user = cfg->user;
	if (rc == 0)
		rc = store_open(cfg, &d->store, err);
	if (rc < 0)
		return rc;
	rc = steer_dnotify_new(cfg, &d->notify, err);
	if (rc < 0)
		return rc;
	if (steer_events_new(0, &d->events) < 0 ||
	    steer_events_subscribe(d->events, log_event, d) < 0 ||
	    steer_events_subscribe(d->events, store_event, d) < 0 ||
	    steer_events_subscribe(d->events, steer_dnotify_event, d->notify) < 0 ||
	    steer_events_subscribe(d->events, metrics_event, d) < 0 ||
	    steer_loop_new(cfg, NULL, d->store, d->events, &d->loop) < 0 ||
	    (snap = steer_loop_snapshot(d->loop)) == NULL)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	rc = xfr_start(d, err);
	if (rc < 0) {
		steer_health_snapshot_free(snap);
		return rc;
	}
	/* health is restored from the store before a single answer goes out */
	steer_server_publish(d->srv, snap);
	rc = steer_server_start(d->srv, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->n_listen; i++)
		log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
	log_info("serving zone %s: %zu names, %zu balancers, %zu pools, %zu origins, %zu workers",
		 cfg->zone.name, steer_zone_node_count(d->zone), cfg->n_balancers, cfg->n_pools,
		 cfg->n_origins, steer_server_workers(d->srv));
	rc = steer_loop_start(d->loop, d->srv, err);
	if (rc < 0)
		return steer_err_set(err, rc, "cannot start health monitoring: %s", err->msg);
	rc = steer_events_start(d->events, tick, d, TICK_MS, NULL);
	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the daemon thread: %s",
				     steer_strerror(rc));
	rc = api_start(d, err);
	if (rc == 0)
		sdnotify_ready(cfg, NULL); /* state restored, DNS and API listeners answer */
	return rc;
}

void steer_daemon_log_stats(struct steer_daemon *d)
{
	metrics_log_stats(d->srv);
}

void steer_daemon_free(struct steer_daemon *d)
{
	if (d == NULL)
		return;
	if (d->srv != NULL)
		sdnotify_stopping(); /* it was started */
	steer_api_free(d->api);      /* no more operations */
	page_free(d->page);          /* its reader was the API thread's */
	/* under the lock: the tick may be restarting the probes on the daemon thread */
	pthread_mutex_lock(&d->lk);
	d->stopping = true;
	steer_loop_stop(d->loop); /* no more probe results */
	pthread_mutex_unlock(&d->lk);
	steer_events_stop(d->events); /* the last events reach the log and the store */
	steer_dnotify_free(d->notify);
	steer_server_free(d->srv);
	dxfr_free(d->xfr);
	steer_loop_free(d->loop);
	steer_store_free(d->store); /* flushes */
	steer_events_free(d->events);
	steer_zone_free(d->zone);
	if (d->run_cfg != d->cfg)
		steer_config_free(d->run_cfg);
	steer_config_free(d->cfg);
	free(d->api_addrs);
	free(d->token);
	free(d->path);
	pthread_mutex_destroy(&d->store_lk);
	pthread_mutex_destroy(&d->lk);
	free(d);
}
