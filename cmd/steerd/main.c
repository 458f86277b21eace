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
		"  -v, --verbose       log debug messages (whatever log.level says)\n"
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

/*
 * A reload runs on the main thread, which otherwise takes SIGINT and SIGTERM only through
 * sigwait(): while it reloads they are unblocked in this thread alone and caught here.
 * The handler records the signal and, installed without SA_RESTART, makes a call that
 * blocks (an open() the loader could not avoid) fail with EINTR instead of holding the
 * stop back; the reload then ends (the old configuration keeps serving if it failed) and
 * main stops as after sigwait(), flushing the store. The load itself no longer blocks and
 * is linear in the size of the files, so the wait is short.
 */
static volatile sig_atomic_t stop_sig;
static pthread_t main_thread;

static void on_stop(int sig)
{
	stop_sig = sig;
	/* a thread started during a reload without its own mask inherits the unblocked
	 * signals: hand them to main, where they stay pending for sigwait() */
	if (!pthread_equal(pthread_self(), main_thread))
		pthread_kill(main_thread, sig);
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	main_thread = pthread_self();
}

/* Let SIGINT/SIGTERM reach the main thread (@p on) while it loads, or block them again. */
static void stops_deliverable(bool on)
{
	sigset_t set;

	stop_signals(&set);
	pthread_sigmask(on ? SIG_UNBLOCK : SIG_BLOCK, &set, NULL);
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
			int rc;

			stops_deliverable(true);
			rc = steer_daemon_reload(d, "signal", &errs);
			stops_deliverable(false);
			(void)rc;
			if (stop_sig != 0)
				sig = stop_sig; /* caught during the reload */
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
		steer_log_force_level(STEER_LOG_DEBUG); /* whatever `log.level` says */
	/* block before any thread exists, so only sigwait() in main sees these */
	daemon_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* nothing runs and nothing is written yet: SIGINT/SIGTERM end the first load (however
	 * long) at once, with their default action */
	stops_deliverable(true);
	rc = steer_daemon_new(o.config, &d, &errs);
	stops_deliverable(false);
	catch_stop_signals(); /* for reloads, see on_stop() */
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
