/* steerd: parse options, then hand everything to lib/daemon; signals become its calls. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "daemon/daemon.h"
#define STEER_LOG_SRC "steerd"
#include "core/log.h"

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

/* The signals main handles with sigwait(): stop, reload (HUP), log the counters (USR1). */
static void daemon_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

/* Serve until SIGINT or SIGTERM (blocked in every thread: only sigwait sees them). */
static int wait_for_stop(struct steer_daemon *d)
{
	sigset_t set;
	int sig = 0;

	daemon_signals(&set);
	while (sig != SIGINT && sig != SIGTERM) {
		struct steer_errs errs = {0};

		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGHUP) {
			/* a failed reload has logged every error; the old configuration serves */
			int rc = steer_daemon_reload(d, "signal", &errs);

			(void)rc;
		} else if (sig == SIGUSR1) {
			steer_daemon_log_stats(d);
		}
		steer_errs_fini(&errs);
	}
	return sig;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct steer_daemon *d = NULL;
	struct steer_errs errs = {0};
	struct steer_err err = {0};
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
	rc = steer_daemon_new(o.config, &d, &errs);
	if (rc < 0) {
		print_errs(&errs);
		steer_errs_fini(&errs);
		return 1;
	}
	if (o.check) {
		printf("configuration ok\n");
	} else if (steer_daemon_start(d, &err) < 0) {
		log_err("cannot start: %s", err.msg[0] != '\0' ? err.msg : "out of memory");
		rc = 1;
	} else {
		log_info("signal %d: stopping", wait_for_stop(d));
		steer_daemon_log_stats(d);
	}
	steer_daemon_free(d);
	return rc < 0 ? 1 : rc;
}
