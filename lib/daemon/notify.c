/*
 * Notifications in the running system: one notifier (lib/notify) for the configured
 * targets, fed by an event subscriber on the daemon thread, replaced by a reload only when
 * the targets change. A read-write lock lets publishing and tests run side by side while
 * a reload swaps the notifier.
 */
#include "notify/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/notify_int.h"

#define STEER_LOG_SRC "notify"
#include "core/log.h"

#define TEST_WAIT_EXTRA_MS 2000
#define TEST_WAIT_MAX_MS   25000 /* steerctl gives a request 30 s */

struct steer_dnotify {
	pthread_rwlock_t lk; /* n: read to use, write to replace */
	struct steer_notify *n;
	struct steer_notify_conf *conf; /* what n was made from */
	char *state_path;
};

static int notifier_for(const struct steer_config *cfg, struct steer_notify **out,
			struct steer_err *err)
{
	struct steer_notify_opts o = {.state_path = cfg->state_path, .conf = &cfg->notify};
	int rc;

	*out = NULL;
	if (cfg->notify.n == 0)
		return 0;
	rc = steer_notify_new(&o, out, err);
	if (rc == 0)
		rc = steer_notify_start(*out, err);
	if (rc < 0) {
		steer_notify_free(*out);
		*out = NULL;
	}
	return rc;
}

int steer_dnotify_new(const struct steer_config *cfg, struct steer_dnotify **out,
		      struct steer_err *err)
{
	struct steer_dnotify *dn = calloc(1, sizeof(*dn));
	int rc = STEER_ENOMEM;

	if (dn == NULL)
		return STEER_ENOMEM;
	pthread_rwlock_init(&dn->lk, NULL);
	dn->conf = malloc(sizeof(*dn->conf));
	dn->state_path = strdup(cfg->state_path);
	if (dn->conf != NULL && dn->state_path != NULL) {
		*dn->conf = cfg->notify;
		rc = notifier_for(cfg, &dn->n, err);
	}
	if (rc < 0) {
		steer_dnotify_free(dn);
		return rc;
	}
	*out = dn;
	return 0;
}

static uint32_t kind_bit(enum steer_event_kind k)
{
	switch (k) {
	case STEER_EVENT_ORIGIN:
		return STEER_NOTIFY_ORIGIN;
	case STEER_EVENT_POOL:
		return STEER_NOTIFY_POOL;
	case STEER_EVENT_BALANCER:
		return STEER_NOTIFY_BALANCER;
	case STEER_EVENT_OVERRIDE:
		return STEER_NOTIFY_OVERRIDE;
	case STEER_EVENT_RELOAD:
		return STEER_NOTIFY_RELOAD;
	}
	return 0;
}

void steer_dnotify_event(void *arg, const struct steer_event *ev)
{
	struct steer_dnotify *dn = arg;
	struct steer_notify_event ne = {.kind = kind_bit(ev->kind),
					.time_ms = ev->time_ms,
					.balancer = ev->balancer,
					.pool = ev->pool,
					.origin = ev->origin,
					.address = ev->address,
					.from = ev->from,
					.to = ev->to,
					.reason = ev->reason,
					.source = ev->source,
					.until_ms = ev->until_ms,
					.ok = ev->ok};

	if (dn == NULL)
		return;
	pthread_rwlock_rdlock(&dn->lk);
	if (dn->n != NULL)
		steer_notify_publish(dn->n, &ne);
	pthread_rwlock_unlock(&dn->lk);
}

void steer_dnotify_reload(struct steer_dnotify *dn, const struct steer_config *cfg)
{
	struct steer_err err = {0};
	char *path;

	if (dn == NULL || (steer_notify_conf_equal(dn->conf, &cfg->notify) &&
			   strcmp(dn->state_path, cfg->state_path) == 0))
		return;
	path = strdup(cfg->state_path);
	if (path == NULL) {
		log_err("reload: out of memory; notifications keep the previous targets");
		return;
	}
	/* held while the old notifier stops, so its last events get their ids first */
	pthread_rwlock_wrlock(&dn->lk);
	steer_notify_free(dn->n);
	*dn->conf = cfg->notify;
	free(dn->state_path);
	dn->state_path = path;
	if (notifier_for(cfg, &dn->n, &err) < 0)
		log_err("notifications are stopped: %s", err.msg);
	else
		log_notice("notifications reloaded: targets=%zu", cfg->notify.n);
	pthread_rwlock_unlock(&dn->lk);
}

/* How long a test may wait: the slowest selected target's timeout and a margin. */
static uint32_t test_wait_ms(const struct steer_notify_conf *conf, const char *name)
{
	uint32_t ms = 0;

	for (size_t i = 0; i < conf->n; i++)
		if ((name == NULL || strcmp(name, conf->t[i].name) == 0) &&
		    conf->t[i].timeout_ms > ms)
			ms = conf->t[i].timeout_ms;
	ms += TEST_WAIT_EXTRA_MS;
	return ms < TEST_WAIT_MAX_MS ? ms : TEST_WAIT_MAX_MS;
}

int steer_dnotify_test(struct steer_dnotify *dn, const char *name, json_t **result,
		       struct steer_err *err)
{
	int rc;

	if (dn == NULL)
		return steer_err_set(err, -ENOENT, "no notifications are configured");
	pthread_rwlock_rdlock(&dn->lk);
	if (dn->n == NULL)
		rc = steer_err_set(err, -ENOENT, "no notifications are configured");
	else
		rc = steer_notify_test(dn->n, name, test_wait_ms(dn->conf, name), result, err);
	pthread_rwlock_unlock(&dn->lk);
	return rc;
}

size_t steer_dnotify_stats(struct steer_dnotify *dn, struct steer_notify_stats *out, size_t cap,
			   uint64_t *queued)
{
	size_t n = 0;

	*queued = 0;
	if (dn == NULL)
		return 0;
	pthread_rwlock_rdlock(&dn->lk);
	if (dn->n != NULL)
		n = steer_notify_get_stats(dn->n, out, cap, queued);
	pthread_rwlock_unlock(&dn->lk);
	return n;
}

void steer_dnotify_free(struct steer_dnotify *dn)
{
	if (dn == NULL)
		return;
	steer_notify_free(dn->n);
	free(dn->conf);
	free(dn->state_path);
	pthread_rwlock_destroy(&dn->lk);
	free(dn);
}
