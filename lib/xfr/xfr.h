/*
 * Zone transfers out (steerd as a hidden primary): zone versions with SOA serials that
 * never go back, the IXFR journal of the last versions' differences (in memory and in
 * SQLite), and the AXFR (RFC 5936) and IXFR (RFC 1995) answers over TCP.
 */
#ifndef STEER_XFR_XFR_H
#define STEER_XFR_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

struct steer_config;
struct steer_health_snapshot;
struct steer_store;
struct steer_zone;
struct steer_query_ctx;
struct steer_xfr;

/** steer_xfr_answer_tcp() did not take the query: answer it as any other (NOTIMP). */
#define STEER_XFR_DECLINED 1

/** Room kept free at the end of every transfer message for OPT and a TSIG RR. */
#define STEER_XFR_MSG_RESERVE 1024

/** A wall clock in seconds since the Unix epoch (the `unixtime` serial policy, TSIG). */
typedef uint64_t steer_xfr_clock_fn(void *arg);

/**
 * Is serial @p a greater than @p b in RFC 1982 serial number arithmetic (32 bits)?
 * Pairs exactly 2^31 apart are undefined by the RFC: false either way.
 * Context: any; pure.
 */
bool steer_xfr_serial_gt(uint32_t a, uint32_t b);

/**
 * The serial of the version after one with serial @p cur: `increment` is cur + 1 (mod
 * 2^32, RFC 1982); `unixtime` is @p now_s when that is greater than @p cur (RFC 1982),
 * else cur + 1.
 * @param policy  enum steer_serial_policy of the config.
 * Context: any; pure.
 */
uint32_t steer_xfr_serial_next(int policy, uint32_t cur, uint64_t now_s);

/**
 * Create the zone versions of @p cfg's zone and restore the serial and the journal from
 * the SQLite file cfg->state_path (when it holds them). No version exists until the
 * first steer_xfr_update().
 * @param cfg    Config (borrowed for the call: the apex, serial policy, journal length).
 * @param store  Where new versions are recorded (borrowed; may be NULL: memory only;
 *               replace it with steer_xfr_set_store()).
 * @param out    Receives the object (free with steer_xfr_free()).
 * @param err    Receives the reason on failure.
 * @return 0, STEER_ENOMEM or STEER_EDB (an unreadable file: nothing is restored then).
 * Context: start-up, before the listeners answer.
 */
STEER_MUSTCHECK int steer_xfr_new(const struct steer_config *cfg, struct steer_store *store,
				  struct steer_xfr **out, struct steer_err *err);

/** Replace the store new versions are recorded in (borrowed; NULL: none). Context: the
 * thread that calls steer_xfr_update(). */
void steer_xfr_set_store(struct steer_xfr *x, struct steer_store *store);

/** Replace the clock (tests); NULL restores CLOCK_REALTIME. Context: before any use. */
void steer_xfr_set_clock(struct steer_xfr *x, steer_xfr_clock_fn *fn, void *arg);

/**
 * Rebuild what secondaries get (the static records of @p zone, and per balancer the
 * answer set it serves under @p snap) and, if it differs from the current version, make
 * a new version: serial by cfg->xfr.serial_policy (or the configured zone.soa.serial
 * when that is higher, at the first update and whenever it changes), the diff goes to
 * the journal (the last cfg->xfr.journal_versions kept), and the version to the store.
 * @param cfg      The config @p zone was built from (borrowed for the call).
 * @param zone     The zone (borrowed for the call).
 * @param snap     Current health (borrowed for the call).
 * @param changed  Receives true if a new version was made.
 * @param serial   Receives the current serial (also when unchanged).
 * @return 0, STEER_ENOMEM or STEER_EZONE (a record ldns cannot handle) with @p err set;
 *         on failure the current version stays.
 * Context: one thread (the daemon thread); allocates; takes the object's lock briefly.
 */
STEER_MUSTCHECK int steer_xfr_update(struct steer_xfr *x, const struct steer_config *cfg,
				     const struct steer_zone *zone,
				     const struct steer_health_snapshot *snap, bool *changed,
				     uint32_t *serial, struct steer_err *err);

/** The current version's serial (the restored or configured one before any version).
 * Context: any thread. */
uint32_t steer_xfr_serial(const struct steer_xfr *x);

/** Called once per answer message, in order; @p msg is borrowed for the call.
 * @return 0, or negative to abandon the transfer. */
typedef int steer_xfr_emit_fn(void *arg, const uint8_t *msg, size_t len);

/**
 * Answer an AXFR or IXFR query received over TCP (RFC 5936, RFC 1995, RFC 8945): ACL and
 * TSIG of @p zone's config, then the messages of the transfer (at most 64 KiB each, the
 * current SOA first and last), each signed when the request was. Refusals are one small
 * message: REFUSED (source not allowed), NOTAUTH with a TSIG error (missing or wrong
 * key), FORMERR.
 * @param zone  The zone being served (borrowed: the caller keeps it alive for the call);
 *              its config gives the ACL and keys.
 * @param q     The query message (without the TCP length prefix).
 * @param peer  The client's address.
 * @return 0 when answered, STEER_XFR_DECLINED when @p q is not a transfer of the zone
 *         or transfers are off (the caller answers it as usual), or the negative value
 *         @p emit returned, or STEER_ENOMEM.
 * Context: the TCP thread; never blocks; CPU bounded by the size of the zone.
 */
int steer_xfr_answer_tcp(struct steer_xfr *x, const struct steer_zone *zone, const uint8_t *q,
			 size_t qlen, const struct sockaddr *peer, steer_xfr_emit_fn *emit,
			 void *arg);

/**
 * Answer a query that ends with a TSIG record on the ordinary answer path (RFC 8945 §5):
 * verified against the keys of @p zone's config, answered by the zone without its TSIG
 * record and signed; a UDP answer that would not fit the client's size with its TSIG is
 * truncated to the question (TC) and signed. BADKEY and BADSIG: NOTAUTH with the TSIG
 * error, unsigned; BADTIME: signed. With transfers off, the zone answers the query as
 * it is (the TSIG is ignored like any other additional record). A response (QR=1) gets
 * nothing, whatever its TSIG, as on the zone's answer path.
 * @param ctx       The query's context (steer_zone_answer()).
 * @param tsig_off  Offset of the TSIG record (steer_dns_tsig_offset()).
 * @return the answer's length in @p out (@p cap bytes), or 0 to send nothing.
 * Context: answer path (UDP workers, the TCP thread); allocates while verifying.
 */
size_t steer_xfr_answer_signed(struct steer_xfr *x, const struct steer_zone *zone,
			       struct steer_query_ctx *ctx, const uint8_t *q, size_t qlen,
			       size_t tsig_off, uint8_t *out, size_t cap);

/**
 * The zone a secondary would receive now, as zone-file text: the SOA, then every RR in
 * canonical order, one per line, absolute names.
 * @param out  Receives the text (caller frees), or NULL before the first version.
 * @return 0 or STEER_ENOMEM.
 * Context: any thread.
 */
int steer_xfr_zone_text(struct steer_xfr *x, char **out);

/** Free @p x (NULL-safe). Context: after the last use on every thread. */
void steer_xfr_free(struct steer_xfr *x);

#endif
