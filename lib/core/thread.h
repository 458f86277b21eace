/* Thread helpers. */
#ifndef STEER_CORE_THREAD_H
#define STEER_CORE_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A set of CPUs (numbers as the kernel counts them); n == 0 means no restriction. */
struct steer_cpus {
	uint16_t *cpu;
	size_t n;
};

/** Flags of steer_thread_start(). */
enum steer_thread_flags {
	/** Start with every signal blocked (signals belong to the daemon's main thread;
	 *  threads the new one creates inherit the mask). */
	STEER_THREAD_NO_SIGNALS = 1,
	/** If the CPUs cannot be used (offline, outside the cgroup's cpuset), log an error
	 *  and start the thread unpinned rather than not at all. */
	STEER_THREAD_CPUS_OPTIONAL = 2,
};

/**
 * Start a thread running @p fn(@p arg). With CPUs in @p cpus (may be NULL) it runs only on
 * them from its first instruction (pthread_attr_setaffinity_np).
 * @param what   Name of the thread and its setting for the log, e.g. "monitor
 *               (affinity.monitor)".
 * @param flags  enum steer_thread_flags, or-ed.
 * @return 0 or a negative errno (-EINVAL: a CPU that does not exist or cannot be used).
 */
int steer_thread_start(pthread_t *thread, const struct steer_cpus *cpus, unsigned flags,
		       const char *what, void *(*fn)(void *), void *arg);

/**
 * Name the calling thread (at most 15 characters are kept), so top -H, ps -L and
 * /proc/PID/task/TID/comm show what each thread does: steer-udp, steer-tcp,
 * steer-monitor, steer-store.
 */
void steer_thread_name(const char *name);

/**
 * Set the calling thread's timer slack: how late the kernel may fire its timers (sleeps)
 * to group them with others. The default is 50 microseconds.
 */
void steer_thread_timer_slack(unsigned long ns);

#endif
