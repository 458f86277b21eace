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

	if (rc == 0)
		rc = steer_zone_new(*cfg, zone, &errs);
	if (rc < 0) {
		if (errs.n > 0)
			print_errs(&errs);
		else
			fprintf(stderr, "steerd: %s: %s\n", path, steer_strerror(rc));
	}
	steer_errs_fini(&errs);
	return rc;
}

/* Wait for SIGINT or SIGTERM (blocked in every thread, so only sigwait sees them). */
static int wait_for_stop(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	while (sig != SIGINT && sig != SIGTERM) {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGHUP)
			log_warn("SIGHUP: configuration reload is not implemented yet; restart "
				 "steerd");
	}
	return sig;
}

static int serve(const struct steer_config *cfg, const struct steer_zone *zone)
{
	struct steer_watch *watch = NULL;
	struct steer_server *srv = NULL;
	struct steer_err err = {0};
	int rc = 1;

	/* health is restored from the store before a single answer goes out */
	if (steer_watch_new(cfg, &watch) < 0 ||
	    steer_server_new(cfg, zone, steer_watch_snapshot(watch), &srv, &err) < 0 ||
	    steer_server_start(srv, &err) < 0) {
		log_err("cannot start: %s", err.msg[0] != '\0' ? err.msg : "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_listen; i++)
		log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
	log_info("serving zone %s: %zu names, %zu balancers, %zu pools, %zu origins, %zu workers",
		 cfg->zone.name, steer_zone_node_count(zone), cfg->n_balancers, cfg->n_pools,
		 cfg->n_origins, steer_server_workers(srv));
	if (steer_watch_start(watch, srv, &err) < 0) {
		log_err("cannot start health monitoring: %s", err.msg);
		goto out;
	}
	log_info("signal %d: stopping", wait_for_stop());
	rc = 0;
out:
	steer_watch_free(watch); /* first: it publishes into the server */
	steer_server_free(srv);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	sigset_t set;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (o.verbose)
		steer_log_set_level(STEER_LOG_DEBUG);
	/* block before any thread exists, so only sigwait() in main sees these */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (load(o.config, &cfg, &zone) < 0)
		return 1;
	if (o.check) {
		printf("configuration ok\n");
		rc = 0;
	} else {
		rc = serve(cfg, zone);
	}
	steer_zone_free(zone);
	steer_config_free(cfg);
	return rc;
}
