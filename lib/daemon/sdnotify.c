/*
 * sd_notify(3) glue: the daemon's start, reload and stop told to the service manager.
 * libsystemd is optional at build time; without it every call is a no-op.
 */
#include <stdio.h>
#include <time.h>

#include "daemon/sdnotify_int.h"

#ifdef STEER_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "config/config.h"
#include "core/err.h"

#define STEER_LOG_SRC "steerd"
#include "core/log.h"

/* One message; sd_notify() returns 0 when $NOTIFY_SOCKET is unset (not under systemd). */
static void send_state(const char *state)
{
#ifdef STEER_HAVE_SYSTEMD
	char eb[128];
	int rc = sd_notify(0, state);

	if (rc < 0)
		log_warn("sd_notify: cannot tell the service manager: %s",
			 steer_errno_str(-rc, eb, sizeof(eb)));
#else
	(void)state;
#endif
}

void sdnotify_ready(const struct steer_config *cfg, const char *note)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
		 "READY=1\nSTATUS=serving zone %s: %zu balancers, %zu pools, %zu origins%s%s",
		 cfg->zone.name, cfg->n_balancers, cfg->n_pools, cfg->n_origins,
		 note != NULL ? "; " : "", note != NULL ? note : "");
	send_state(msg);
}

void sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[128];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	send_state(msg);
}

void sdnotify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping");
}
