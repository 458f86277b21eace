/* Thread helpers. */
#ifndef STEER_CORE_THREAD_H
#define STEER_CORE_THREAD_H

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
