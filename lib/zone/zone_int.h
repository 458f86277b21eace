/* Zone internals shared by zone.c (build) and answer.c (lookup and answer writing). */
#ifndef STEER_ZONE_ZONE_INT_H
#define STEER_ZONE_ZONE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

struct steer_balancer;
struct znode;

/*
 * One RRset as wire data: for each RR `type class ttl rdlength rdata` (the owner is
 * written at answer time, compressed against the question).
 */
struct zset {
	uint16_t type;
	uint16_t count;
	uint32_t wire_len;
	uint8_t *wire;
	const struct znode **glue; /* NS, MX, SRV: in-zone target nodes with addresses, for
				    * the additional section */
	size_t n_glue;
	uint8_t *target; /* CNAME: lower-cased target name */
	uint8_t target_len;
};

struct znode {
	uint8_t *name; /* lower-cased wire name */
	uint8_t name_len;
	uint32_t hash;
	struct znode *next; /* hash chain */
	struct zset *sets;
	size_t n_sets;
	const struct steer_balancer *bal; /* load-balanced name, or NULL */
	const struct znode *wild;         /* child "*" node, or NULL */
	const struct znode *cut;          /* highest delegation point at or above, or NULL */
};

struct steer_zone {
	const struct steer_config *cfg;
	uint8_t apex[255];
	uint8_t apex_len;
	struct znode *apex_node;
	struct znode **table;
	size_t mask;
	struct znode **nodes; /* every node, for iteration and free */
	size_t n_nodes;
	size_t cap_nodes;
	struct zset neg_soa; /* apex SOA with TTL min(SOA TTL, minimum): RFC 2308 §3 */
	char identity[256];
	size_t identity_len;
	char version[256];
	size_t version_len;
	bool version_hidden;
	/* the SOA serial answers carry: the current zone version's (zone transfers move it
	 * while the zone serves; the SOA wire data keeps the configured one) */
	_Atomic uint32_t serial;
};

/** FNV-1a over a lower-cased wire name. */
static inline uint32_t zone_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return h;
}

/** Exact lookup of a lower-cased wire name. */
const struct znode *zone_find(const struct steer_zone *z, const uint8_t *name, size_t len);

/** The RRset of @p type at @p n, or NULL. */
const struct zset *zone_node_set(const struct znode *n, uint16_t type);

/** Overwrite the serial of the SOA RR whose wire data ends just before @p end. */
static inline void zone_patch_serial(const struct steer_zone *z, uint8_t *end)
{
	/* SOA RDATA ends with serial, refresh, retry, expire, minimum: 5 x 32 bits */
	uint32_t serial = atomic_load_explicit(&z->serial, memory_order_relaxed);
	uint8_t *p = end - 20;

	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
}

#endif
