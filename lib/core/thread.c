/* Thread start, CPU affinity and naming: Linux (prctl, pthread_attr_setaffinity_np). */
#define _GNU_SOURCE
#include "core/thread.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include "core/err.h"
#define STEER_LOG_SRC "thread"
#include "core/log.h"

/* Fill @p set from @p cpus. @return false if a CPU number does not fit in a cpu_set_t. */
static bool cpu_set_fill(cpu_set_t *set, const struct steer_cpus *cpus)
{
	CPU_ZERO(set);
	for (size_t i = 0; i < cpus->n; i++) {
		if (cpus->cpu[i] >= CPU_SETSIZE)
			return false;
		CPU_SET(cpus->cpu[i], set);
	}
	return true;
}

static int create(pthread_t *thread, const cpu_set_t *set, unsigned flags, void *(*fn)(void *),
		  void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc = pthread_attr_init(&attr);

	if (rc != 0)
		return -rc;
	if (set != NULL)
		rc = pthread_attr_setaffinity_np(&attr, sizeof(*set), set);
	if (rc == 0 && (flags & STEER_THREAD_NO_SIGNALS) != 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(thread, &attr, fn, arg);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	} else if (rc == 0) {
		rc = pthread_create(thread, &attr, fn, arg);
	}
	pthread_attr_destroy(&attr);
	return -rc;
}

int steer_thread_start(pthread_t *thread, const struct steer_cpus *cpus, unsigned flags,
		       const char *what, void *(*fn)(void *), void *arg)
{
	cpu_set_t set;
	char eb[128];
	int rc;

	if (cpus == NULL || cpus->n == 0)
		return create(thread, NULL, flags, fn, arg);
	rc = cpu_set_fill(&set, cpus) ? create(thread, &set, flags, fn, arg) : -EINVAL;
	if (rc == -EINVAL && (flags & STEER_THREAD_CPUS_OPTIONAL) != 0) {
		log_err("%s: its CPUs cannot be used (%s); it runs on any CPU", what,
			steer_errno_str(EINVAL, eb, sizeof(eb)));
		rc = create(thread, NULL, flags, fn, arg);
	}
	return rc;
}

void steer_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

void steer_thread_timer_slack(unsigned long ns)
{
	(void)prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
}
