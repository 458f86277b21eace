/*
 * The DNS server: UDP worker threads (one SO_REUSEPORT socket per worker and listen
 * address, recvmmsg/sendmmsg batches) and a TCP thread on libevent. Workers answer from
 * an immutable zone and the current health snapshot, read through an atomic pointer.
 */
#ifndef STEER_SERVER_SERVER_H
#define STEER_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

struct steer_config;
struct steer_zone;
struct steer_health_snapshot;
struct steer_metrics;
struct steer_server;
struct steer_query_ctx;

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

/**
 * The server's metric set: one counter block per thread (UDP workers first, then the TCP
 * thread) and the answer counters by balancer, pool and origin (see lib/metrics).
 * @return borrowed; lives as long as @p srv. Context: any thread.
 */
struct steer_metrics *steer_server_metrics(const struct steer_server *srv);

/**
 * Start the UDP workers (worker w of each listen address on CPU w of affinity.dns, round
 * robin) and the TCP thread (on all of affinity.dns). Call at most once.
 * On failure nothing serves and nothing stays bound: the threads already started are
 * stopped and joined and every UDP and TCP socket is closed, so the addresses can be bound
 * again at once; the server can then only be stopped or freed.
 * @param err  Receives a message naming the thread that failed, e.g. "cannot start udp
 *             worker 1 of 127.0.0.1:53 on cpu 7 (affinity.dns): Invalid argument".
 * @return 0 or a negative errno (-EINVAL: an affinity.dns CPU that cannot be used).
 * Context: the thread that owns the server.
 */
STEER_MUSTCHECK int steer_server_start(struct steer_server *srv, struct steer_err *err);

/**
 * Stop and join every thread: returns once no thread of the server runs, promptly even right
 * after steer_server_start(). Idempotent, and harmless on a server never started. The
 * sockets stay open until steer_server_free(); a stopped server cannot be started again.
 * Context: the thread that owns the server; blocks for the joins.
 */
void steer_server_stop(struct steer_server *srv);

/** Close the sockets and free @p srv (NULL-safe; stops it first; safe after a failed start). */
void steer_server_free(struct steer_server *srv);

/**
 * Publish a new health snapshot: answers use it from the next packet on. The old one is
 * freed once no worker can still be reading it.
 * @param snap  New snapshot; the server takes ownership.
 * Context: one writer at a time (the daemon's health loop serializes them); never blocks.
 */
void steer_server_publish(struct steer_server *srv, struct steer_health_snapshot *snap);

/**
 * Replace the zone and the snapshot at once (configuration reload). Listen addresses,
 * workers and TCP limits stay as they were at steer_server_new(). Answer counters by name
 * (balancer, pool, origin) carry on for every name @p cfg keeps.
 * @param cfg     The new zone's config (borrowed for the call: its names are mapped to
 *                counter slots; out of memory there only stops counting answers by name).
 * @param zone    New zone (borrowed; must stay valid until @p retire runs).
 * @param snap    Snapshot indexed for the new zone's config; the server takes ownership.
 * @param retire  Called with @p arg once no worker can still read the old zone (frees the
 *                old zone and config); runs on a thread that publishes or reclaims.
 * Context: any thread; never blocks the answer path.
 */
void steer_server_replace(struct steer_server *srv, const struct steer_config *cfg,
			  const struct steer_zone *zone, struct steer_health_snapshot *snap,
			  void (*retire)(void *arg), void *arg);

/**
 * Rotate the DNS Cookie secret once it is an hour old (or now, with @p force): a new
 * random secret makes the server cookies of every answer from then on, and the previous
 * one is still accepted until the next rotation, so a cookie stays valid for the hour
 * RFC 9018 §4.3 gives it (rollover as in RFC 9018 §5). The old pair is freed once no
 * worker can still read it. Call it often (the daemon's tick); it does nothing until due.
 * @return 1 if rotated, 0 if not due, or a negative errno (no random bytes, no memory:
 *         the secrets stay, logged, and the next try is a minute later).
 * Context: one writer at a time (the daemon's tick); never blocks the answer path.
 */
int steer_server_cookie_tick(struct steer_server *srv, bool force);

/** Free retired objects no worker can see any more. Context: any writer thread. */
void steer_server_reclaim(struct steer_server *srv);

/** Called once per message of a zone transfer answer; @p msg is borrowed for the call.
 * @return 0, or negative to abandon the transfer. */
typedef int steer_server_emit_fn(void *arg, const uint8_t *msg, size_t len);

/**
 * Answers AXFR and IXFR queries over TCP (the server knows nothing of zone versions).
 * @param zone  The zone in service (kept alive for the call).
 * @param q     The query (without the TCP length prefix), @p qlen bytes.
 * @param peer  The client's address (port 0).
 * @param emit  Takes each answer message, in order (queued on the connection).
 * @return 0 when answered; a positive value to have the query answered as any other;
 *         negative to close the connection.
 * Context: the TCP thread; must not block.
 */
typedef int steer_server_xfr_fn(void *arg, const struct steer_zone *zone, const uint8_t *q,
				size_t qlen, const struct sockaddr *peer,
				steer_server_emit_fn *emit, void *emit_arg);

/**
 * Have the TCP thread hand AXFR and IXFR queries to @p fn (with @p arg) before the zone
 * answers them; without it they get NOTIMP. A transfer's messages may queue up to
 * STEER_SERVER_XFR_OUT_MAX bytes on one connection.
 * Context: before steer_server_start(); @p arg must outlive the server.
 */
void steer_server_set_xfr(struct steer_server *srv, steer_server_xfr_fn *fn, void *arg);

/**
 * Answers a query signed with TSIG (RFC 8945): verifies it, answers it through the zone
 * and signs the answer, or answers NOTAUTH with the TSIG error.
 * @param ctx       The query's context, as for steer_zone_answer().
 * @param tsig_off  Offset of the TSIG record in @p q (steer_dns_tsig_offset()).
 * @param out       Room for the answer, @p cap bytes (as for steer_zone_answer()).
 * @return the answer's length, or 0 to send nothing.
 * Context: UDP workers and the TCP thread; may allocate (signed queries are rare: a
 * secondary's SOA checks).
 */
typedef size_t steer_server_signed_fn(void *arg, const struct steer_zone *zone,
				      struct steer_query_ctx *ctx, const uint8_t *q, size_t qlen,
				      size_t tsig_off, uint8_t *out, size_t cap);

/**
 * Have UDP workers and the TCP thread hand queries that end with a TSIG record to @p fn
 * (with @p arg) while the zone's config has transfers (`transfer`: the TSIG keys); else
 * the TSIG is ignored like any other additional record, and no query is scanned for one.
 * Context: before steer_server_start(); @p arg must outlive the server.
 */
void steer_server_set_signed(struct steer_server *srv, steer_server_signed_fn *fn, void *arg);

/** Bytes of answers one TCP connection may hold unsent during a zone transfer. */
#define STEER_SERVER_XFR_OUT_MAX (64u * 1024 * 1024)

/** Number of UDP worker threads. */
size_t steer_server_workers(const struct steer_server *srv);

#endif
