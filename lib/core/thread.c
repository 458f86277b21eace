/* Thread naming through prctl(PR_SET_NAME): Linux, and no feature macro needed. */
#include "core/thread.h"

#include <sys/prctl.h>

void steer_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

void steer_thread_timer_slack(unsigned long ns)
{
	(void)prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
}
