/*
 * The zone: every name of the delegated subdomain with its static records prepared as
 * wire data at load time (ldns parses them; ldns is not used per query), plus the
 * balancer bound to each load-balanced name. steer_zone_answer() answers one query.
 */
#ifndef STEER_ZONE_ZONE_H
#define STEER_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct steer_balancer;
struct steer_config;
struct steer_dns_cookie_keys;
struct steer_health_snapshot;
struct steer_client;
struct steer_metrics_thread;
struct steer_metrics_map;
struct steer_zone;

/**
 * Build the zone of @p cfg: apex SOA and NS, `records` lines, the optional zone file,
 * and one binding per balancer.
 * @param cfg   Validated config (borrowed; must outlive the zone: balancers point into it).
 * @param out   Receives the zone (caller frees with steer_zone_free()).
 * @param errs  Receives every error (record syntax, CNAME conflicts, out-of-zone owners)
 *              with the file, line, column and JSON path of the offending record.
 * @return 0, STEER_ECONFIG or STEER_ENOMEM.
 * Context: start-up / reload; allocates.
 */
STEER_MUSTCHECK int steer_zone_new(const struct steer_config *cfg, struct steer_zone **out,
				   struct steer_errs *errs);

/** Free @p zone (NULL-safe). */
void steer_zone_free(struct steer_zone *zone);

/** Number of names (nodes, empty non-terminals included) in @p zone. */
size_t steer_zone_node_count(const struct steer_zone *zone);

/** The config @p zone was built from (borrowed; lives as long as the zone). Context: any. */
const struct steer_config *steer_zone_config(const struct steer_zone *zone);

/**
 * The SOA serial answers carry (SOA queries, negative answers): the configured
 * zone.soa.serial until steer_zone_set_serial() moves it.
 * Context: any thread.
 */
uint32_t steer_zone_serial(const struct steer_zone *zone);

/**
 * Set the SOA serial answers carry from the next query on (zone transfers: the serial of
 * the current zone version, which secondaries poll). The zone is otherwise immutable.
 * Context: the zone's owner (the daemon thread); answers read it without a lock.
 */
void steer_zone_set_serial(struct steer_zone *zone, uint32_t serial);

/** One static RRset of a name: per RR `type class ttl rdlength rdata` as wire data (no
 * owner; names in RDATA uncompressed, as written), @c count RRs. */
struct steer_zone_rrset {
	uint16_t type;
	uint16_t count;
	const uint8_t *wire;
	size_t wire_len;
};

/** One name of the zone (borrowed from the zone for the duration of a visit). */
struct steer_zone_name {
	const uint8_t *owner; /* lower-cased uncompressed wire name */
	size_t owner_len;
	const struct steer_balancer *bal;    /* the balancer bound to the name, or NULL */
	const struct steer_zone_rrset *sets; /* its static RRsets (the apex SOA included) */
	size_t n_sets;
};

/** Called once per name by steer_zone_visit(); a negative return stops the visit. */
typedef int steer_zone_visit_fn(void *arg, const struct steer_zone_name *name);

/**
 * Call @p fn for every name that has static records or a balancer (empty non-terminals
 * are skipped), in no particular order.
 * @return 0, the first negative value @p fn returned, or STEER_ENOMEM.
 * Context: any thread (the zone is immutable); allocates one scratch array.
 */
int steer_zone_visit(const struct steer_zone *zone, steer_zone_visit_fn *fn, void *arg);

/**
 * What response rate limiting (decided by the UDP server before the answer) asks of one
 * query. A query with a valid server cookie comes from the address it claims, so it is
 * answered normally whatever the verdict.
 */
enum steer_rrl_verdict {
	STEER_RRL_PASS, /* answer */
	STEER_RRL_DROP, /* send nothing */
	STEER_RRL_SLIP, /* a small reply that sends the client to TCP or proves its address:
			 * BADCOOKIE with a fresh cookie if it sent a client cookie (RFC 7873
			 * §5.2.3), else TC=1 with empty sections */
};

/** Per-query context owned by one worker thread. */
struct steer_query_ctx {
	const struct steer_health_snapshot *snap; /* current health (borrowed) */
	const struct steer_client *client;        /* for hash steering */
	uint64_t *rng;                            /* the thread's PRNG state */
	bool tcp;                                 /* no truncation; 64 KiB limit */
	struct steer_metrics_thread *ctr;         /* the thread's counters; NULL: not counted */
	const struct steer_metrics_map *map;      /* slots of the zone's config; NULL: answers are
						   * not counted by balancer, pool and origin */
	const struct steer_dns_cookie_keys *cookies; /* DNS Cookie secrets (borrowed, immutable);
						      * NULL: COOKIE options are ignored */
	uint32_t now_s;                              /* wall clock for cookie timestamps; 0: read
						      * it per query (steer_dns_cookie_now) */
	enum steer_rrl_verdict rrl;                  /* UDP rate limiting; PASS over TCP */
};

/**
 * Answer the query in @p pkt into @p out, and count it in ctx->ctr (when set): answered
 * by query type and RCODE, dropped, truncated; and, through ctx->map, each balancer answer
 * by balancer and pool and by every origin in it.
 * DNS Cookies (RFC 7873, server cookies of RFC 9018) when ctx->cookies is set and the
 * config's cookies.enabled: a malformed COOKIE option is FORMERR; any other query with a
 * client cookie gets the client cookie and a valid server cookie back.
 * @param out_cap  At least STEER_DNS_TCP_MAX for TCP, STEER_DNS_UDP_MAX for UDP.
 * @return response length, or 0 to send nothing (not a query, or QR=1).
 * Context: answer path; no allocation, no locks, no logging; counting is plain stores to
 * the thread's own counters.
 */
size_t steer_zone_answer(const struct steer_zone *zone, const struct steer_query_ctx *ctx,
			 const uint8_t *pkt, size_t len, uint8_t *out, size_t out_cap);

#endif
