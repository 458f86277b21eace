/*
 * Zone transfers in the running system: the versions follow every health change (the
 * events subscriber marks a refresh due; the tick runs it, so versions are built on the
 * daemon thread, never on the answer path) and every reload; each new version moves the
 * zone's SOA serial and is announced by NOTIFY.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/loop.h"
#include "daemon/transfer_int.h"
#include "health/health.h"
#include "store/store.h"
#include "xfr/acl.h"
#include "xfr/notify.h"
#include "xfr/xfr.h"
#include "zone/zone.h"

#define STEER_LOG_SRC "xfr"
#include "core/log.h"

/* How long a new version waits for its commit before its serial goes out anyway */
#define COMMIT_WAIT_MS 1000

struct dxfr {
	_Atomic(struct steer_xfr *) xfr; /* created once, freed by dxfr_free() */
	struct steer_xfr_notifier *notifier;
	struct steer_xfr_notify_stats retired; /* of the senders replaced by reloads */
	atomic_bool due;
};

/* Stop the NOTIFY sender, keeping its counters (they count since start, across reloads). */
static void notifier_retire(struct dxfr *dx)
{
	struct steer_xfr_notify_stats st;

	if (dx->notifier == NULL)
		return;
	steer_xfr_notifier_stats(dx->notifier, &st);
	dx->retired.sent += st.sent;
	dx->retired.acked += st.acked;
	dx->retired.failed += st.failed;
	dx->retired.replaced += st.replaced;
	steer_xfr_notifier_free(dx->notifier);
	dx->notifier = NULL;
}

/* Create the versions and NOTIFY for @p cfg (transfers on). */
static int start(struct dxfr *dx, const struct steer_config *cfg, struct steer_store *store,
		 struct steer_err *err)
{
	struct steer_xfr *x = atomic_load(&dx->xfr);
	int rc = 0;

	if (x == NULL) {
		rc = steer_xfr_new(cfg, store, &x, err);
		if (rc < 0)
			return rc;
		atomic_store(&dx->xfr, x);
	}
	steer_xfr_acl_warn(&cfg->xfr);
	notifier_retire(dx);
	rc = steer_xfr_notifier_new(&cfg->xfr, cfg->zone.name, &dx->notifier, err);
	atomic_store(&dx->due, true);
	return rc;
}

int dxfr_new(const struct steer_config *cfg, struct steer_store *store, struct dxfr **out,
	     struct steer_err *err)
{
	struct dxfr *dx = calloc(1, sizeof(*dx));
	int rc = 0;

	if (dx == NULL)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	if (cfg->xfr.enabled)
		rc = start(dx, cfg, store, err);
	if (rc < 0) {
		dxfr_free(dx);
		return rc;
	}
	*out = dx;
	return 0;
}

void dxfr_refresh(struct dxfr *dx, const struct steer_config *cfg, struct steer_zone *zone,
		  struct steer_loop *loop, struct steer_store *store)
{
	struct steer_xfr *x;
	struct steer_health_snapshot *snap;
	struct steer_err err = {0};
	bool changed = false;
	uint32_t serial = 0;

	if (dx == NULL || (x = atomic_load(&dx->xfr)) == NULL || !cfg->xfr.enabled)
		return;
	atomic_store(&dx->due, false);
	snap = steer_loop_snapshot(loop);
	if (snap == NULL) {
		log_err("out of memory building a health snapshot; the zone version is not "
			"updated");
		return;
	}
	steer_xfr_set_store(x, store);
	if (steer_xfr_update(x, cfg, zone, snap, &changed, &serial, &err) < 0)
		log_err("zone version not updated: %s", err.msg);
	/* a serial goes out (SOA answers, NOTIFY) only once its version is on disk: one a
	 * secondary holds must never be made again with other contents after a crash */
	if (changed && store != NULL && steer_store_flush(store, COMMIT_WAIT_MS) != 0)
		log_warn("zone serial %u is served before it is stored (the database does not "
			 "commit): after a crash, steerd may serve this serial again with other "
			 "contents; use \"serial_policy\": \"unixtime\" to rule that out",
			 serial);
	steer_zone_set_serial(zone, steer_xfr_serial(x));
	if (changed && dx->notifier != NULL)
		steer_xfr_notifier_send(dx->notifier, serial);
	steer_health_snapshot_free(snap);
}

bool dxfr_is_due(const struct dxfr *dx)
{
	return dx != NULL && atomic_load(&dx->due);
}

void dxfr_reload(struct dxfr *dx, const struct steer_config *cfg, struct steer_zone *zone,
		 struct steer_store *store)
{
	struct steer_err err = {0};
	struct steer_xfr *x;

	if (dx == NULL)
		return;
	if (!cfg->xfr.enabled) { /* transfers turned off: nothing to announce any more */
		notifier_retire(dx);
		return;
	}
	if (start(dx, cfg, store, &err) < 0)
		log_err("zone transfers: %s", err.msg);
	x = atomic_load(&dx->xfr);
	if (x != NULL)
		steer_zone_set_serial(zone, steer_xfr_serial(x));
}

void dxfr_event(void *arg, const struct steer_event *ev)
{
	struct dxfr *dx = arg;

	if (ev->kind != STEER_EVENT_RELOAD)
		atomic_store(&dx->due, true);
}

int dxfr_tcp(void *arg, const struct steer_zone *zone, const uint8_t *q, size_t qlen,
	     const struct sockaddr *peer, steer_server_emit_fn *emit, void *emit_arg)
{
	struct dxfr *dx = arg;
	struct steer_xfr *x = atomic_load(&dx->xfr);

	if (x == NULL)
		return STEER_XFR_DECLINED;
	return steer_xfr_answer_tcp(x, zone, q, qlen, peer, emit, emit_arg);
}

size_t dxfr_signed(void *arg, const struct steer_zone *zone, struct steer_query_ctx *ctx,
		   const uint8_t *q, size_t qlen, size_t tsig_off, uint8_t *out, size_t cap)
{
	struct dxfr *dx = arg;

	return steer_xfr_answer_signed(atomic_load(&dx->xfr), zone, ctx, q, qlen, tsig_off, out,
				       cap);
}

bool dxfr_stats(struct dxfr *dx, struct dxfr_stats *out)
{
	struct steer_xfr *x = dx != NULL ? atomic_load(&dx->xfr) : NULL;
	struct steer_xfr_notify_stats st = {0};

	if (x == NULL || dx->notifier == NULL)
		return false;
	steer_xfr_notifier_stats(dx->notifier, &st);
	*out = (struct dxfr_stats){
		.serial = steer_xfr_serial(x),
		.notify_sent = dx->retired.sent + st.sent,
		.notify_acked = dx->retired.acked + st.acked,
		.notify_failed = dx->retired.failed + st.failed,
		.notify_replaced = dx->retired.replaced + st.replaced,
	};
	return true;
}

char *dxfr_zone_text(struct dxfr *dx)
{
	struct steer_xfr *x = atomic_load(&dx->xfr);
	char *text = NULL;

	if (x != NULL && steer_xfr_zone_text(x, &text) < 0)
		text = NULL;
	return text;
}

void dxfr_free(struct dxfr *dx)
{
	if (dx == NULL)
		return;
	steer_xfr_notifier_free(dx->notifier);
	steer_xfr_free(atomic_load(&dx->xfr));
	free(dx);
}
