/*
 * The process's metric set: per-thread DNS counter blocks (written by their one thread with
 * plain relaxed stores, summed on read), counters by name (balancer/pool answers, origin
 * answers) reached from the answer path through slot maps, counters by name outside the
 * answer path (probes, transitions, reloads) and probe duration histograms. Names get a
 * slot once and keep it for the life of the set, so a reload never makes a counter go back.
 */
#ifndef STEER_METRICS_METRICS_H
#define STEER_METRICS_METRICS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/** What a DNS thread counts besides its answers (each thread counts its own). */
enum steer_stat {
	STEER_STAT_QUERIES,       /**< messages received */
	STEER_STAT_DROPPED,       /**< received and not answered (responses, unparsable headers) */
	STEER_STAT_TRUNCATED,     /**< answers with TC set */
	STEER_STAT_BATCHES,       /**< UDP: recvmmsg() calls that returned packets */
	STEER_STAT_WAITS,         /**< UDP: batch-pacing waits (udp.batch_wait_us) */
	STEER_STAT_CONNS,         /**< TCP: connections accepted */
	STEER_STAT_CONNS_REFUSED, /**< TCP: closed at once: over tcp.max_clients with no idle
				   *  connection to close, or over tcp.max_per_source */
	STEER_STAT_RRL_DROPPED,   /**< UDP: responses rate limiting dropped */
	STEER_STAT_RRL_SLIPPED,   /**< UDP: responses rate limiting sent as a slip (TC=1 with
				   *  empty sections, or BADCOOKIE) */
	/* TCP connections closed by steerd or seen closing, by reason (shutdown not counted);
	 * the refused ones (also in STEER_STAT_CONNS_REFUSED) are never in STEER_STAT_CONNS */
	STEER_STAT_CLOSED_IDLE,          /**< idle past tcp.idle_timeout (or the busy limit) */
	STEER_STAT_CLOSED_QUERY_TIMEOUT, /**< no complete first query within tcp.query_timeout */
	STEER_STAT_CLOSED_EVICTED,       /**< its slot given to a newcomer in a full table */
	STEER_STAT_CLOSED_FULL,          /**< refused: a full table with nothing to evict */
	STEER_STAT_CLOSED_PER_SOURCE,    /**< refused: over tcp.max_per_source */
	STEER_STAT_CLOSED_CLIENT,        /**< the client closed it (EOF), after its answers */
	STEER_STAT_CLOSED_ERROR,         /**< a read or write error (reset), or out of memory */
	STEER_STAT_N,
};

#define STEER_METRICS_QTYPES 20 /* query type classes: steer_metrics_qtype_slot() */
/* RCODEs 0-23: the header's 4 bits and the extended ones up to BADCOOKIE (the OPT holds
 * the upper 8 bits, RFC 6891 §6.1.3) */
#define STEER_METRICS_RCODES     24
#define STEER_METRICS_CHUNK_BITS 10
#define STEER_METRICS_CHUNK      (1u << STEER_METRICS_CHUNK_BITS) /* counters per chunk */
#define STEER_METRICS_CHUNKS     1024 /* so at most 1,048,576 named slots */

/**
 * One DNS thread's counters, on cache lines of their own. Only the owning thread writes
 * (a relaxed load and store: a plain add, no lock prefix); any thread may read. The layout
 * is public for the inline counting functions below.
 */
struct steer_metrics_thread {
	alignas(64) _Atomic uint64_t c[STEER_STAT_N];
	/* answers by query type class and header RCODE */
	alignas(64) _Atomic uint64_t answers[STEER_METRICS_QTYPES][STEER_METRICS_RCODES];
	/* counters by name: slot s is chunk[s >> CHUNK_BITS][s & (CHUNK - 1)]; a chunk exists
	 * for every slot a published map can hold */
	alignas(64) _Atomic uint64_t *chunk[STEER_METRICS_CHUNKS];
};

/** Add @p n to a counter only the calling thread writes. Context: answer path. */
static inline void steer_metrics_add(_Atomic uint64_t *c, uint64_t n)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + n, memory_order_relaxed);
}

/** Count @p n of @p i on the calling thread's block @p t. Context: answer path. */
static inline void steer_metrics_count(struct steer_metrics_thread *t, enum steer_stat i,
				       uint64_t n)
{
	steer_metrics_add(&t->c[i], n);
}

/** Count one on the named counter @p slot (from a steer_metrics_map). Context: answer path. */
static inline void steer_metrics_count_slot(struct steer_metrics_thread *t, uint32_t slot)
{
	steer_metrics_add(
		&t->chunk[slot >> STEER_METRICS_CHUNK_BITS][slot & (STEER_METRICS_CHUNK - 1)], 1);
}

/**
 * The class of query type @p qtype: A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, NAPTR, DS,
 * DNSKEY, TLSA, SVCB, HTTPS, CAA, IXFR, AXFR, ANY each have their own; anything else is
 * "other" (the last class). Context: answer path; pure.
 */
static inline unsigned steer_metrics_qtype_slot(uint16_t qtype)
{
	if (qtype == 1) /* most queries: A, then AAAA, before the search of the switch */
		return 0;
	if (qtype == 28)
		return 7;
	switch (qtype) {
	case 1: /* A */
		return 0;
	case 2: /* NS */
		return 1;
	case 5: /* CNAME */
		return 2;
	case 6: /* SOA */
		return 3;
	case 12: /* PTR */
		return 4;
	case 15: /* MX */
		return 5;
	case 16: /* TXT */
		return 6;
	case 28: /* AAAA */
		return 7;
	case 33: /* SRV */
		return 8;
	case 35: /* NAPTR */
		return 9;
	case 43: /* DS */
		return 10;
	case 48: /* DNSKEY */
		return 11;
	case 52: /* TLSA */
		return 12;
	case 64: /* SVCB */
		return 13;
	case 65: /* HTTPS */
		return 14;
	case 257: /* CAA */
		return 15;
	case 251: /* IXFR */
		return 16;
	case 252: /* AXFR */
		return 17;
	case 255: /* ANY */
		return 18;
	default:
		return STEER_METRICS_QTYPES - 1;
	}
}

/** Name of query type class @p slot ("A", ..., "other"). */
const char *steer_metrics_qtype_name(unsigned slot);

/** Name of RCODE @p rcode ("NOERROR", ..., "NOTZONE", "RCODE11" .. "RCODE15", "BADVERS",
 * ..., "BADCOOKIE"). */
const char *steer_metrics_rcode_name(unsigned rcode);

/**
 * The full RCODE of the response of @p len bytes at @p msg: the header's 4 bits, plus the
 * upper 8 of the OPT (RFC 6891 §6.1.3) when it carries any. steerd sends an extended RCODE
 * (BADVERS, BADCOOKIE) only in a response of header, question and OPT, so the OPT is
 * looked for right after the question; other responses have the header's RCODE. Values
 * past STEER_METRICS_RCODES - 1 are clamped to it. Context: answer path; pure.
 */
static inline unsigned steer_metrics_response_rcode(const uint8_t *msg, size_t len)
{
	unsigned rcode = msg[3] & 0x0fu;
	size_t off = 12;

	/* QDCOUNT <= 1, ANCOUNT = NSCOUNT = 0, ARCOUNT = 1 */
	if (len < 23 || msg[4] != 0 || msg[5] > 1 || (msg[6] | msg[7] | msg[8] | msg[9]) != 0 ||
	    msg[10] != 0 || msg[11] != 1)
		return rcode;
	if (msg[5] == 1) { /* the question, echoed uncompressed */
		while (off < len && msg[off] != 0 && msg[off] < 64)
			off += 1u + msg[off];
		off += 5;
	}
	/* root owner, type OPT (41), class, then the TTL's first byte: the extended RCODE */
	if (off + 11 > len || msg[off] != 0 || msg[off + 1] != 0 || msg[off + 2] != 41)
		return rcode;
	rcode |= (unsigned)msg[off + 5] << 4;
	return rcode < STEER_METRICS_RCODES ? rcode : STEER_METRICS_RCODES - 1;
}

/**
 * Count one message answered with the response of @p len bytes at @p msg (0: none, the
 * message is dropped), by query type class @p qslot and the response's RCODE (extended
 * RCODEs included) and TC bit.
 * Context: answer path.
 */
static inline void steer_metrics_count_response(struct steer_metrics_thread *t, unsigned qslot,
						const uint8_t *msg, size_t len)
{
	if (len == 0) {
		steer_metrics_count(t, STEER_STAT_DROPPED, 1);
		return;
	}
	/* RFC 1035 §4.1.1: RCODE is the low nibble of header byte 3, TC bit 1 of byte 2 */
	steer_metrics_add(&t->answers[qslot][steer_metrics_response_rcode(msg, len)], 1);
	if ((msg[2] & 0x02) != 0)
		steer_metrics_count(t, STEER_STAT_TRUNCATED, 1);
}

/**
 * Slots of one configuration's names, indexed like the configuration, so the answer path
 * counts by name with two array reads. Immutable once built; read through the same
 * pointer swap as the zone it belongs to.
 */
struct steer_metrics_map {
	uint32_t *bal_first; /* by balancer index: its first entry in pool_slot */
	uint32_t *pool_slot; /* per balancer: its default_pools in order, then its fallback */
	uint32_t *origin;    /* by origin index: slot of (pool, origin) */
	size_t n_balancers;
	size_t n_pool_slots;
	size_t n_origins;
};

/**
 * Allocate a map with every slot 0 (the sink: counted, never shown).
 * @param out  Receives the map (free with steer_metrics_map_free()).
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int steer_metrics_map_new(size_t n_balancers, size_t n_pool_slots, size_t n_origins,
					  struct steer_metrics_map **out);

/** Free @p map (NULL-safe). */
void steer_metrics_map_free(struct steer_metrics_map *map);

/** What a named slot names. */
enum steer_metrics_kind {
	STEER_METRICS_BALANCER_POOL, /* a: balancer, b: pool */
	STEER_METRICS_ORIGIN,        /* a: pool, b: origin */
	STEER_METRICS_MONITOR,       /* a: monitor, b: "" */
	STEER_METRICS_BALANCER,      /* a: balancer, b: "" */
	STEER_METRICS_GLOBAL,        /* a: "", b: "" (the daemon's unlabelled counters) */
};

struct steer_metrics;

/**
 * Create a metric set for @p n_udp UDP threads (blocks 0 .. n_udp-1) and @p n_tcp TCP
 * threads (the blocks after them), all zero; its creation time is the start time.
 * @param out  Receives the set (free with steer_metrics_free()).
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int steer_metrics_new(size_t n_udp, size_t n_tcp, struct steer_metrics **out);

/** Free @p m (NULL-safe); no thread may still count into it. */
void steer_metrics_free(struct steer_metrics *m);

/** The counter block of DNS thread @p i (borrowed; lives as long as @p m). */
struct steer_metrics_thread *steer_metrics_thread(struct steer_metrics *m, size_t i);

/** Wall clock time (ms since the Unix epoch) @p m was created. */
int64_t steer_metrics_start_ms(const struct steer_metrics *m);

/**
 * The slot of (@p kind, @p a, @p b), given once and kept for the life of @p m (a name
 * that leaves the configuration and comes back counts on from where it was). Makes sure
 * every thread has the chunk of counters the slot lives in.
 * @return the slot, or 0 (the sink) when out of memory or out of slots.
 * Context: any thread but the answer path; takes the set's lock, may allocate.
 */
uint32_t steer_metrics_slot(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			    const char *b);

/**
 * Sum over every thread of the answer-path counter of the slot of (@p kind, @p a, @p b).
 * @return the total, 0 for a name never given a slot. Context: any thread; takes the lock.
 */
uint64_t steer_metrics_sum_named(struct steer_metrics *m, enum steer_metrics_kind kind,
				 const char *a, const char *b);

/** Every DNS thread's counters added up, per transport: [0] UDP, [1] TCP. */
struct steer_metrics_dns_totals {
	uint64_t c[2][STEER_STAT_N];
	uint64_t answers[2][STEER_METRICS_QTYPES][STEER_METRICS_RCODES];
};

/**
 * Sum every thread's block into @p out: each counter is exact, the set is not one
 * instant's. Context: any thread.
 */
void steer_metrics_dns_sum(struct steer_metrics *m, struct steer_metrics_dns_totals *out);

/**
 * Format @p t as the one-line summary steerd logs ("stats: ..."): "udp queries=3 answers=3
 * dropped=0 ... noerror=2 nxdomain=1 ...; tcp ...". RCODEs past REFUSED appear only when
 * counted. @return length written (truncated to fit, always NUL-terminated if @p cap > 0).
 */
size_t steer_metrics_stats_format(const struct steer_metrics_dns_totals *t, char *buf, size_t cap);

#define STEER_METRICS_COLS 8 /* counters per named entry outside the answer path */

/**
 * Add @p n to column @p col (< STEER_METRICS_COLS) of the named entry (@p kind, @p a, @p b):
 * counters outside the answer path (probe results, balancer transitions, reloads). What a
 * column means is the caller's. Context: any thread but the answer path; takes the lock.
 */
void steer_metrics_add_named(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			     const char *b, unsigned col, uint64_t n);

/**
 * Read every column of the named entry (@p kind, @p a, @p b) into @p out.
 * @return false (and zeros) if the name never counted anything. Context: any thread.
 */
bool steer_metrics_get_named(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			     const char *b, uint64_t out[STEER_METRICS_COLS]);

#define STEER_METRICS_BUCKETS 15 /* finite upper bounds of a histogram */

/** Upper bounds of the histogram buckets (seconds), ascending; +Inf is implied. */
extern const double steer_metrics_bucket_le[STEER_METRICS_BUCKETS];

/** A histogram of durations: counts per bucket (not cumulative), count and sum. */
struct steer_metrics_hist {
	uint64_t bucket[STEER_METRICS_BUCKETS + 1]; /* the last one: above every bound */
	uint64_t count;
	double sum;
};

/** Add one observation of @p seconds to @p h (caller's storage). Context: any; pure. */
void steer_metrics_hist_observe(struct steer_metrics_hist *h, double seconds);

/**
 * Observe @p seconds in the histogram of monitor @p monitor. Context: any thread but the
 * answer path; takes the lock; allocates the histogram on first use.
 */
void steer_metrics_observe(struct steer_metrics *m, const char *monitor, double seconds);

/** Copy the histogram of monitor @p monitor. @return false (and zeros) if none yet. */
bool steer_metrics_get_hist(struct steer_metrics *m, const char *monitor,
			    struct steer_metrics_hist *out);

/** The class of a probe result, the `reason` label of the probe counters. */
enum steer_probe_class {
	STEER_PROBE_OK,      /* succeeded */
	STEER_PROBE_TIMEOUT, /* no answer within the monitor's timeout */
	STEER_PROBE_REFUSED, /* not reachable: refused, unreachable, reset, closed, no address */
	STEER_PROBE_TLS,     /* TLS handshake or certificate */
	STEER_PROBE_STATUS,  /* an HTTP status not in expected_codes */
	STEER_PROBE_BODY,    /* the body (or the TCP reply) lacks the expected text */
	STEER_PROBE_OTHER,   /* anything else (an internal error) */
	STEER_PROBE_N,
};

/** Class of a probe that succeeded (@p ok) or failed with @p reason. Context: any; pure. */
enum steer_probe_class steer_metrics_probe_class(bool ok, const char *reason);

/** Name of @p c: "ok", "timeout", "refused", "tls", "status", "body", "other". */
const char *steer_metrics_probe_class_name(enum steer_probe_class c);

#endif
