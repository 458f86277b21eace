/*
 * The daemon's side of zone transfers (transfer.c): the zone versions (lib/xfr) kept up
 * to date on the daemon thread after every health change and reload, the SOA serial the
 * zone answers with, NOTIFY to the secondaries, and the TCP server's transfer callback.
 * Only lib/daemon/ includes this header.
 */
#ifndef STEER_DAEMON_TRANSFER_INT_H
#define STEER_DAEMON_TRANSFER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"
#include "core/err.h"
#include "daemon/events.h"
#include "server/server.h"

struct steer_loop;
struct steer_store;
struct steer_zone;
struct dxfr;

/**
 * The holder of the zone versions. With cfg->xfr.enabled, the versions are created (the
 * serial and journal restored from cfg->state_path) and NOTIFY starts; without, the
 * holder stays idle until a reload turns transfers on.
 * @param out  Receives it (free with dxfr_free()).
 * @return 0 or a negative code with @p err set.
 * Context: start-up (main thread), before the server starts.
 */
STEER_MUSTCHECK int dxfr_new(const struct steer_config *cfg, struct steer_store *store,
			     struct dxfr **out, struct steer_err *err);

/**
 * Build the transferred zone from the current health of @p loop; on a change a new
 * version, the zone's SOA serial set to it, and NOTIFY. A failure is logged.
 * Context: the daemon's lock held (daemon thread, or start-up and reload). NULL-safe.
 */
void dxfr_refresh(struct dxfr *dx, const struct steer_config *cfg, struct steer_zone *zone,
		  struct steer_loop *loop, struct steer_store *store);

/** Did a health event arrive since the last dxfr_refresh()? NULL: no. Context: the daemon
 * thread. */
bool dxfr_is_due(const struct dxfr *dx);

/**
 * Before a reload switches to @p zone: create the versions if @p cfg turns transfers on,
 * restart NOTIFY for its targets, and give @p zone the current serial.
 * Context: the reloading thread, under the daemon's lock. NULL-safe.
 */
void dxfr_reload(struct dxfr *dx, const struct steer_config *cfg, struct steer_zone *zone,
		 struct steer_store *store);

/** The event subscriber (steer_event_fn): a health change makes a refresh due. */
void dxfr_event(void *arg, const struct steer_event *ev);

/** steer_server_signed_fn: TSIG-signed queries (steer_xfr_answer_signed()); with
 * transfers off, the zone answers them as usual. */
size_t dxfr_signed(void *arg, const struct steer_zone *zone, struct steer_query_ctx *ctx,
		   const uint8_t *q, size_t qlen, size_t tsig_off, uint8_t *out, size_t cap);

/** The TCP server's transfer callback (steer_server_xfr_fn); @p arg is the dxfr. */
int dxfr_tcp(void *arg, const struct steer_zone *zone, const uint8_t *q, size_t qlen,
	     const struct sockaddr *peer, steer_server_emit_fn *emit, void *emit_arg);

/** What /metrics shows of zone transfers. */
struct dxfr_stats {
	uint32_t serial;       /* the current version's SOA serial */
	uint64_t notify_sent;  /* NOTIFY messages sent, retries included (since start) */
	uint64_t notify_acked; /* serials a target answered */
	uint64_t notify_failed;
	uint64_t notify_replaced;
};

/** Fill @p out. @return false when transfers are off (nothing to show).
 * Context: any thread, under the daemon's lock (reloads replace the NOTIFY sender). */
bool dxfr_stats(struct dxfr *dx, struct dxfr_stats *out);

/** The zone as secondaries get it now, as zone-file text (caller frees), or NULL when
 * transfers are off. Context: any thread. */
char *dxfr_zone_text(struct dxfr *dx);

/** Stop NOTIFY and free (NULL-safe). Context: after the server stopped. */
void dxfr_free(struct dxfr *dx);

#endif
