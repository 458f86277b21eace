/* Internals of the zone versions (rrs.c, build.c, out.c, xfr.c). Only lib/xfr includes it. */
#ifndef STEER_XFR_XFR_INT_H
#define STEER_XFR_XFR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xfr/xfr.h"

/* One RR of a list: its whole uncompressed wire form (lower-case owner, then type, class,
 * TTL, RDLENGTH, canonical RDATA) at @c p. */
struct xrr {
	const uint8_t *p; /* into the list's buffer; set by rrs_seal() */
	uint32_t off;
	uint16_t owner_len;
	uint16_t len;
};

/* A list of RRs in one growing buffer. Pointers (xrr.p) are valid after rrs_seal(). */
struct rrs {
	uint8_t *buf;
	size_t len;
	size_t cap;
	struct xrr *v;
	size_t n;
	size_t cap_v;
};

/* A zone version: immutable once made, shared by reference (transfers in flight). */
struct version {
	atomic_int ref;
	uint32_t serial;
	struct rrs soa; /* one RR, this version's serial in it */
	struct rrs rrs; /* every other RR, canonical order, no duplicates */
};

/* The difference between two consecutive versions (RFC 1995 §4), immutable, shared. */
struct diff {
	atomic_int ref;
	uint32_t from;  /* serial of the older version */
	uint32_t to;    /* serial of the newer one */
	struct rrs soa; /* [0] the older SOA, [1] the newer */
	struct rrs del; /* canonical order */
	struct rrs add;
	size_t bytes; /* memory held, for the journal's bound */
};

struct steer_xfr {
	pthread_mutex_t mu; /* cur, journal, store, cfg_serial */
	struct version *cur;
	struct diff **jr; /* oldest first */
	size_t jr_n;
	size_t jr_cap;
	size_t jr_bytes;
	uint32_t keep;             /* journal_versions */
	uint32_t cfg_serial;       /* zone.soa.serial seen at the last update */
	bool cfg_seen;             /* cfg_serial is valid */
	_Atomic uint32_t serial;   /* cur->serial, or the restored/configured serial */
	struct steer_store *store; /* daemon thread only */
	steer_xfr_clock_fn *clock;
	void *clock_arg;
};

/* ---- rrs.c: RR lists ---- */

/** Append one RR from its owner and the rest of its wire form. @return 0 or STEER_ENOMEM. */
int rrs_push(struct rrs *l, const uint8_t *owner, size_t owner_len, const uint8_t *rest,
	     size_t rest_len);

/** Append the RR @p src[i] of another list. */
int rrs_push_rr(struct rrs *l, const struct xrr *r);

/** Set the xrr pointers (after the last push). */
void rrs_seal(struct rrs *l);

/** Sort in canonical order (RFC 4034 §6) and drop duplicates (the lowest TTL stays). */
void rrs_sort_unique(struct rrs *l);

/** Free the list's memory; NULL-safe; leaves it empty. */
void rrs_fini(struct rrs *l);

/** Canonical order of two RRs, TTL ignored (<0, 0, >0). */
int rrs_cmp(const struct xrr *a, const struct xrr *b);

/** The TTL of @p r. */
uint32_t rrs_ttl(const struct xrr *r);

/** Same RRs, TTLs included, in the same order? */
bool rrs_equal(const struct rrs *a, const struct rrs *b);

/**
 * Append every RR of @p l as zone-file lines (ldns presentation format) to the string
 * *@p text of *@p len bytes (malloc'd, grown). @return 0, STEER_ENOMEM or STEER_EZONE.
 */
int rrs_to_text(const struct rrs *l, char **text, size_t *len, size_t *cap);

/**
 * Parse zone-file lines (absolute names) into @p l (canonical wire; not sorted, not
 * sealed). @return 0, STEER_ENOMEM or STEER_EZONE.
 */
int rrs_from_text(struct rrs *l, const char *text);

/** Append an ldns-parsed RR given as uncompressed wire @p wire, canonicalized by ldns. */
int rrs_push_canonical(struct rrs *l, const uint8_t *wire, size_t len);

/** Overwrite the serial of the SOA RR @p r (its RDATA ends with 5 x 32 bits). */
void rrs_set_soa_serial(struct xrr *r, uint8_t *buf, uint32_t serial);

/* ---- build.c: what secondaries get ---- */

/**
 * Build the SOA (with serial 0) and the RR list (sorted, unique) of @p zone under
 * @p snap. @return 0, STEER_ENOMEM or STEER_EZONE.
 */
int xfr_build(const struct steer_config *cfg, const struct steer_zone *zone,
	      const struct steer_health_snapshot *snap, struct rrs *soa, struct rrs *out);

/* ---- xfr.c: versions and the journal ---- */

void version_unref(struct version *v);
void diff_unref(struct diff *d);

/**
 * The current version and, for @p from_serial (when @p want_diffs), the chain of diffs
 * from it to the current version, each with a reference taken (caller unrefs, frees
 * *@p chain). *@p n_chain = 0 when @p from_serial is not in the journal.
 * @return the current version (referenced) or NULL before the first version.
 */
struct version *xfr_take(struct steer_xfr *x, bool want_diffs, uint32_t from_serial,
			 struct diff ***chain, size_t *n_chain);

/** Make the diff from @p a to @p b (NULL: out of memory). */
struct diff *diff_make(const struct version *a, const struct version *b);

#endif
