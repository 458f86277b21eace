/* Thread start, CPU affinity and naming: Linux (prctl, pthread_attr_setaffinity_np). */
#define _GNU_SOURCE
#include "core/thread.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

int steer_thread_start(pthread_t *thread, const struct steer_cpus *cpus, bool block_signals,
		       void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	cpu_set_t set;
	int rc;

	rc = pthread_attr_init(&attr);
	if (rc != 0)
		return -rc;
	if (cpus != NULL && cpus->n > 0) {
		CPU_ZERO(&set);
		for (size_t i = 0; i < cpus->n; i++) {
			if (cpus->cpu[i] >= CPU_SETSIZE) {
				pthread_attr_destroy(&attr);
				return -EINVAL;
			}
			CPU_SET(cpus->cpu[i], &set);
		}
		rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (rc != 0) {
			pthread_attr_destroy(&attr);
			return -rc;
		}
	}
	if (block_signals) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
	}
	rc = pthread_create(thread, &attr, fn, arg);
	if (block_signals)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -rc;
}

void steer_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

void steer_thread_timer_slack(unsigned long ns)
{
	(void)prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
}
