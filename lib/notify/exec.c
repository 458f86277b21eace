/*
 * exec targets: fork + execve of `command` (no shell, no PATH search) with a minimal
 * environment (PATH, LANG and the event as STEER_* variables), every descriptor but
 * stdin/stdout/stderr closed, stdin a pipe carrying the event JSON, stdout and stderr
 * /dev/null. Exit status 0 is success; past `timeout` the process group is SIGKILLed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "core/clock.h"
#include "notify/notify_int.h"

#define ENV_MAX     24
#define ENV_VAL_MAX 2048
#define FD_SCAN_MAX 65536 /* descriptors closed one by one when close_range is missing */

/* The event's fields as STEER_* variables (a digest: STEER_EVENT=digest and the count). */
struct exec_env {
	char *envp[ENV_MAX + 1];
	char buf[ENV_MAX][ENV_VAL_MAX];
	size_t n;
};

static void env_add(struct exec_env *e, const char *name, const char *value)
{
	if (e->n >= ENV_MAX)
		return;
	snprintf(e->buf[e->n], ENV_VAL_MAX, "%s=%s", name, value != NULL ? value : "");
	e->envp[e->n] = e->buf[e->n];
	e->n++;
}

static void env_build(struct exec_env *e, const struct ntarget *t)
{
	static const char *const fields[] = {"event",  "time",    "balancer", "pool",
					     "origin", "address", "from",     "to",
					     "reason", "served",  "source"};
	json_t *doc = json_loadb(t->pl.body, t->pl.len, 0, NULL);
	char name[32], num[32];

	env_add(e, "PATH", "/usr/local/bin:/usr/bin:/bin");
	env_add(e, "LANG", "C.UTF-8");
	snprintf(num, sizeof(num), "%lld", (long long)t->pl.last_id);
	env_add(e, "STEER_ID", num);
	snprintf(num, sizeof(num), "%zu", t->pl.count);
	env_add(e, "STEER_COUNT", num);
	env_add(e, "STEER_TARGET", t->conf.name);
	env_add(e, "STEER_TEXT", t->pl.text);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = json_string_value(json_object_get(doc, fields[i]));
		size_t k;

		snprintf(name, sizeof(name), "STEER_%s", fields[i]);
		for (k = 6; name[k] != '\0'; k++)
			name[k] = (char)(name[k] - (name[k] >= 'a' && name[k] <= 'z' ? 32 : 0));
		env_add(e, name, v);
	}
	json_decref(doc);
	e->envp[e->n] = NULL;
}

/* In the child: only async-signal-safe calls until execve. */
static void child(int in_fd, int null_fd, char *const *argv, char *const *envp)
{
	sigset_t none;
	long max = sysconf(_SC_OPEN_MAX);

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the notifier thread blocks every signal */
	setpgid(0, 0);                         /* the timeout kills the whole group */
	if (dup2(in_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
		_exit(126);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		max = 0;
#endif
	for (long fd = 3; fd < max && fd < FD_SCAN_MAX; fd++)
		close((int)fd);
	execve(argv[0], argv, envp);
	_exit(127);
}

static void close_stdin(struct ntarget *t)
{
	if (t->wev != NULL)
		event_free(t->wev);
	t->wev = NULL;
	if (t->stdin_fd >= 0)
		close(t->stdin_fd);
	t->stdin_fd = -1;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct ntarget *t = arg;

	(void)what;
	while (t->written < t->pl.len) {
		ssize_t w = write(fd, t->pl.body + t->written, t->pl.len - t->written);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return; /* EV_PERSIST: called again when there is room */
		if (w < 0)
			break; /* EPIPE: the program does not read its stdin; its status decides */
		t->written += (size_t)w;
	}
	close_stdin(t);
}

/* The pipe to the child's stdin; our end non-blocking and close-on-exec. */
static int stdin_pipe(struct ntarget *t, int p[2], char *why, size_t size)
{
	char eb[128];

	if (pipe(p) != 0) {
		snprintf(why, size, "pipe: %s", steer_errno_str(errno, eb, sizeof(eb)));
		return -1;
	}
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		snprintf(why, size, "cannot set up the pipe");
		return -1;
	}
	t->written = 0;
	return 0;
}

static int spawn(struct ntarget *t, char **argv, struct exec_env *env, char *why, size_t size)
{
	int p[2], null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	char eb[128];

	if (null_fd < 0 || stdin_pipe(t, p, why, size) < 0) {
		if (null_fd >= 0)
			close(null_fd);
		else
			snprintf(why, size, "/dev/null: %s",
				 steer_errno_str(errno, eb, sizeof(eb)));
		return -1;
	}
	t->pid = fork();
	if (t->pid == 0)
		child(p[0], null_fd, argv, env->envp);
	close(p[0]);
	close(null_fd);
	if (t->pid < 0) {
		close(p[1]);
		t->pid = 0;
		snprintf(why, size, "fork: %s", steer_errno_str(errno, eb, sizeof(eb)));
		return -1;
	}
	t->stdin_fd = p[1];
	return 0;
}

int notify_exec_send(struct ntarget *t, char *why, size_t size)
{
	struct exec_env *env = calloc(1, sizeof(*env)); /* 48 KiB: not on the stack */
	char *argv[STEER_NOTIFY_ARGV_MAX + 1];
	int rc = -1;

	if (env == NULL) {
		snprintf(why, size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < t->conf.argc; i++)
		argv[i] = t->conf.argv[i];
	argv[t->conf.argc] = NULL;
	env_build(env, t);
	t->killed = false;
	t->deadline_ms = steer_clock_mono_ms() + t->conf.timeout_ms;
	if (spawn(t, argv, env, why, size) == 0) {
		t->wev = event_new(t->n->base, t->stdin_fd, EV_WRITE | EV_PERSIST, on_writable, t);
		if (t->wev == NULL || event_add(t->wev, NULL) < 0)
			on_writable(t->stdin_fd, EV_WRITE, t); /* best effort, then close */
		rc = 0; /* the child runs: its exit status decides */
	}
	free(env);
	return rc;
}

void notify_exec_poll(struct ntarget *t, int64_t now_ms)
{
	char why[NOTIFY_ERR_MAX];
	int status = 0;
	pid_t r;

	if (t->pid <= 0)
		return;
	r = waitpid(t->pid, &status, WNOHANG);
	if (r == 0) {
		if (now_ms >= t->deadline_ms && !t->killed) {
			kill(-t->pid, SIGKILL);
			kill(t->pid, SIGKILL);
			t->killed = true;
		}
		return;
	}
	t->pid = 0;
	close_stdin(t);
	if (r < 0)
		snprintf(why, sizeof(why), "waitpid failed");
	else if (t->killed)
		snprintf(why, sizeof(why), "killed after the timeout (%u ms)", t->conf.timeout_ms);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, sizeof(why), "exit status %d%s", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? " (cannot execute the command)" : "");
	else
		why[0] = '\0';
	notify_done(t, why[0] == '\0', why);
}

void notify_exec_abort(struct ntarget *t)
{
	close_stdin(t);
	if (t->pid <= 0)
		return;
	kill(-t->pid, SIGKILL);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->pid = 0;
}
