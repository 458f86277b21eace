/* steerd: load and validate the configuration, build the zone, serve DNS until a signal. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/err.h"
#define STEER_LOG_SRC "steerd"
#include "core/log.h"
#include "health/health.h"
#include "server/server.h"
#include "server/watch.h"
#include "zone/zone.h"

struct opts {
	const char *config;
	bool check;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: steerd [-c FILE] [--check-config] [-v] [-V]\n"
		"  -c, --config FILE   main configuration file (default steerd.json)\n"
		"      --check-config  validate the configuration and exit (0 = ok, 1 = errors)\n"
		"  -v, --verbose       log debug messages\n"
		"  -V, --version       print the version and exit\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
		{"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c;

	o->config = "steerd.json";
	while ((c = getopt_long(argc, argv, "c:vVh", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("steerd %s\n", STEER_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "steerd: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void print_errs(const struct steer_errs *errs)
{
	char line[1024];

	for (size_t i = 0; i < errs->n && i < errs->cap; i++)
		fprintf(stderr, "%s\n", steer_err_format(&errs->v[i], line, sizeof(line)));
	fprintf(stderr, "steerd: %zu error%s in the configuration\n", errs->n,
		errs->n == 1 ? "" : "s");
}

/* Load config and zone; on error print every error and return -1. */
static int load(const char *path, struct steer_config **cfg, struct steer_zone **zone)
{
	struct steer_errs errs = {0};
	int rc = steer_config_load(path, cfg, &errs);

	if (rc == 0) {
		rc = steer_zone_new(*cfg, zone, &errs);
		if (rc < 0) {
			steer_config_free(*cfg);
			*cfg = NULL;
		}
	}
	if (rc < 0) {
		if (errs.n > 0)
			print_errs(&errs);
		else
			fprintf(stderr, "steerd: %s: %s\n", path, steer_strerror(rc));
	}
	steer_errs_fini(&errs);
	return rc;
}

/* What is being served; replaced as a whole by a reload. */
struct daemon {
	const char *path;
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_watch *watch;
	struct steer_server *srv;
};

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

static bool same_restart_settings(const struct steer_config *a, const struct steer_config *b)
{
	if (a->n_listen != b->n_listen || a->workers != b->workers ||
	    a->tcp_max_clients != b->tcp_max_clients ||
	    a->udp_batch_wait_us != b->udp_batch_wait_us ||
	    a->tcp_idle_timeout_ms != b->tcp_idle_timeout_ms)
		return false;
	for (size_t i = 0; i < a->n_listen; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return false;
	return a->cpus_dns.n == b->cpus_dns.n &&
	       (a->cpus_dns.n == 0 ||
		memcmp(a->cpus_dns.cpu, b->cpus_dns.cpu, a->cpus_dns.n * sizeof(uint16_t)) == 0);
}

/*
 * SIGHUP: load and validate everything; on any error the running config keeps serving.
 * Origins that survive keep their health (DESIGN.md §2, invariant 4).
 */
static void reload(struct daemon *d)
{
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	struct steer_watch *watch = NULL;
	struct steer_health_snapshot *snap;
	struct old_config *old = calloc(1, sizeof(*old));
	struct steer_err err = {0};

	if (old == NULL || load(d->path, &cfg, &zone) < 0) {
		log_err("reload of %s failed; still serving the previous configuration", d->path);
		free(old);
		return;
	}
	if (!same_restart_settings(d->cfg, cfg))
		log_warn("reload: listen, workers, tcp, udp and affinity.dns settings take effect "
			 "only after a restart");
	steer_watch_stop(d->watch); /* the old engine is final from here on */
	snap = steer_server_snapshot_dup(d->srv);
	if (snap == NULL || steer_watch_new(cfg, d->cfg, snap, &watch) < 0) {
		log_err("reload: out of memory; still serving the previous configuration");
		steer_health_snapshot_free(snap);
		steer_zone_free(zone);
		steer_config_free(cfg);
		free(old);
		return;
	}
	steer_health_snapshot_free(snap);
	old->cfg = d->cfg;
	old->zone = d->zone;
	/* the old watch (prober slots, store) points into the old config: free it before the
	 * server may retire and free that config */
	steer_watch_free(d->watch);
	steer_server_replace(d->srv, zone, steer_watch_snapshot(watch), old_config_free, old);
	d->cfg = cfg;
	d->zone = zone;
	d->watch = watch;
	if (steer_watch_start(watch, d->srv, &err) < 0)
		log_err("reload: cannot start health monitoring: %s", err.msg);
	log_notice("reloaded %s: zone %s, %zu names, %zu balancers, %zu pools, %zu origins",
		   d->path, cfg->zone.name, steer_zone_node_count(zone), cfg->n_balancers,
		   cfg->n_pools, cfg->n_origins);
}

/* The signals main handles with sigwait(): stop, reload (HUP), log the counters (USR1). */
static void daemon_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

/* SIGUSR1 and exit: the server's counters since start, on one line. */
static void log_stats(const struct daemon *d)
{
	struct steer_server_stats st;
	char line[1024];

	steer_server_stats(d->srv, &st);
	steer_server_stats_format(&st, line, sizeof(line));
	log_notice("stats: %s", line);
}

/* Serve until SIGINT or SIGTERM (blocked in every thread: only sigwait sees them). */
static int wait_for_stop(struct daemon *d)
{
	sigset_t set;
	int sig = 0;

	daemon_signals(&set);
	while (sig != SIGINT && sig != SIGTERM) {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGHUP)
			reload(d);
		else if (sig == SIGUSR1)
			log_stats(d);
	}
	return sig;
}

static int serve(struct daemon *d)
{
	struct steer_err err = {0};
	int rc = 1;

	/* health is restored from the store before a single answer goes out */
	if (steer_watch_new(d->cfg, NULL, NULL, &d->watch) < 0 ||
	    steer_server_new(d->cfg, d->zone, steer_watch_snapshot(d->watch), &d->srv, &err) < 0 ||
	    steer_server_start(d->srv, &err) < 0) {
		log_err("cannot start: %s", err.msg[0] != '\0' ? err.msg : "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->cfg->n_listen; i++)
		log_info("listening on %s (udp, tcp)", d->cfg->listen[i].text);
	log_info("serving zone %s: %zu names, %zu balancers, %zu pools, %zu origins, %zu workers",
		 d->cfg->zone.name, steer_zone_node_count(d->zone), d->cfg->n_balancers,
		 d->cfg->n_pools, d->cfg->n_origins, steer_server_workers(d->srv));
	if (steer_watch_start(d->watch, d->srv, &err) < 0) {
		log_err("cannot start health monitoring: %s", err.msg);
		goto out;
	}
	log_info("signal %d: stopping", wait_for_stop(d));
	log_stats(d);
	rc = 0;
out:
	steer_watch_free(d->watch); /* first: it publishes into the server */
	steer_server_free(d->srv);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct daemon d = {0};
	sigset_t set;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (o.verbose)
		steer_log_set_level(STEER_LOG_DEBUG);
	/* block before any thread exists, so only sigwait() in main sees these */
	daemon_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.path = o.config;
	if (load(o.config, &d.cfg, &d.zone) < 0)
		return 1;
	if (o.check) {
		printf("configuration ok\n");
		rc = 0;
	} else {
		rc = serve(&d);
	}
	steer_zone_free(d.zone);
	steer_config_free(d.cfg);
	return rc;
}
