/*
 * The DNS server: UDP worker threads (one SO_REUSEPORT socket per worker and listen
 * address, recvmmsg/sendmmsg batches) and a TCP thread on libevent. Workers answer from
 * an immutable zone and the current health snapshot, read through an atomic pointer.
 */
#ifndef STEER_SERVER_SERVER_H
#define STEER_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct steer_config;
struct steer_zone;
struct steer_health_snapshot;
struct steer_server;

/**
 * Open (bind) every listen socket of @p cfg; nothing is served until start.
 * @param cfg   Config (borrowed; must outlive the server).
 * @param zone  Zone to answer from (borrowed; must outlive the server).
 * @param snap  Initial health snapshot; the server takes ownership.
 * @param out   Receives the server (free with steer_server_free()).
 * @param err   Receives a message naming the address that failed.
 * @return 0, STEER_ENOMEM or a negative errno of socket()/bind().
 */
STEER_MUSTCHECK int steer_server_new(const struct steer_config *cfg, const struct steer_zone *zone,
				     struct steer_health_snapshot *snap, struct steer_server **out,
				     struct steer_err *err);

/** Start the worker threads. @return 0 or a negative errno. */
STEER_MUSTCHECK int steer_server_start(struct steer_server *srv, struct steer_err *err);

/** Stop and join every thread (idempotent). */
void steer_server_stop(struct steer_server *srv);

/** Close the sockets and free @p srv (NULL-safe; stops it first). */
void steer_server_free(struct steer_server *srv);

/** Number of UDP worker threads. */
size_t steer_server_workers(const struct steer_server *srv);

#endif
