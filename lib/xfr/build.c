/*
 * What secondaries get: every static RR of the zone, and for each balancer the answer
 * set it serves now. The answer set comes from lib/steer itself, run on shadow copies of
 * the pools whose origin steering is `all` (a static zone cannot pick per query), so
 * pool choice, health, overrides, failback pins, fallback and fail-open are exactly the
 * answer path's.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "xfr/xfr_int.h"
#include "zone/zone.h"

/* A fixed PRNG seed: with more candidates than STEER_ANSWER_MAX, or hostname origins to
 * choose from, the same health gives the same version (no new serial without a change). */
#define RNG_SEED 0x5eed5eed5eed5eedULL
#define RR_MAX   (255 + 10 + UINT16_MAX)

struct shadow {
	struct steer_pool *pools;       /* cfg->pools with origin_steering `all` */
	const struct steer_pool **ptrs; /* scratch: one balancer's default_pools */
	const struct steer_health_snapshot *snap;
	uint8_t *wire; /* scratch: one whole RR */
	struct rrs *out;
	struct rrs *soa_out;
	int rc;
};

static int shadow_init(struct shadow *sh, const struct steer_config *cfg)
{
	size_t max = 1;

	for (size_t i = 0; i < cfg->n_balancers; i++)
		max = cfg->balancers[i].n_pools > max ? cfg->balancers[i].n_pools : max;
	sh->pools = calloc(cfg->n_pools + 1, sizeof(*sh->pools));
	sh->ptrs = calloc(max, sizeof(*sh->ptrs));
	sh->wire = malloc(RR_MAX);
	if (sh->pools == NULL || sh->ptrs == NULL || sh->wire == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < cfg->n_pools; i++) {
		sh->pools[i] = cfg->pools[i];
		sh->pools[i].origin_steering = STEER_ORIGIN_ALL;
		sh->pools[i].max_answers = STEER_ANSWER_MAX;
	}
	return 0;
}

static void shadow_fini(struct shadow *sh)
{
	free(sh->pools);
	free(sh->ptrs);
	free(sh->wire);
}

/* The answer set of @p bal for @p family, as lib/steer gives it, and the TTL served. */
static size_t bal_answer(struct shadow *sh, const struct steer_balancer *bal, int family,
			 struct steer_answer_set *set, uint32_t *ttl)
{
	struct steer_balancer b = *bal;
	uint64_t rng = RNG_SEED;
	size_t n;

	for (size_t i = 0; i < bal->n_pools; i++)
		sh->ptrs[i] = &sh->pools[bal->pools[i]->index];
	b.pools = sh->ptrs;
	b.fallback = bal->fallback != NULL ? &sh->pools[bal->fallback->index] : NULL;
	/* `random` draws a pool per query: secondaries get the first healthy one */
	if (b.policy == STEER_POLICY_RANDOM)
		b.policy = STEER_POLICY_FAILOVER;
	n = steer_balancer_answer(&b, sh->snap, family, NULL, &rng, set);
	*ttl = set->reason == STEER_POOL_PRIMARY || (bal->policy == STEER_POLICY_RANDOM &&
						     set->reason == STEER_POOL_FAILOVER)
		       ? bal->ttl_s
		       : bal->failover_ttl_s;
	return n;
}

static int push_rr(struct shadow *sh, const struct steer_zone_name *nm, uint16_t type, uint32_t ttl,
		   const void *rdata, size_t rdlen)
{
	uint8_t rest[10 + 255];

	rest[0] = (uint8_t)(type >> 8);
	rest[1] = (uint8_t)type;
	rest[2] = 0;
	rest[3] = STEER_CLASS_IN;
	rest[4] = (uint8_t)(ttl >> 24);
	rest[5] = (uint8_t)(ttl >> 16);
	rest[6] = (uint8_t)(ttl >> 8);
	rest[7] = (uint8_t)ttl;
	rest[8] = 0;
	rest[9] = (uint8_t)rdlen;
	memcpy(rest + 10, rdata, rdlen);
	return rrs_push(sh->out, nm->owner, nm->owner_len, rest, 10 + rdlen);
}

static int push_addrs(struct shadow *sh, const struct steer_zone_name *nm,
		      const struct steer_answer_set *set, size_t n, uint32_t ttl)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0 && !set->cname; i++) {
		const struct steer_addr *a = &set->origins[i]->addr;

		rc = a->family == AF_INET ? push_rr(sh, nm, STEER_RR_A, ttl, &a->u.v4, 4)
					  : push_rr(sh, nm, STEER_RR_AAAA, ttl, &a->u.v6, 16);
	}
	return rc;
}

/*
 * The balancer's records: its addresses of both families; a CNAME only when neither
 * family has an address (a name cannot hold both), and never at the apex.
 * @return 1 if a CNAME was written (the name holds nothing else), 0, or an error.
 */
static int balancer_rrs(struct shadow *sh, const struct steer_zone_name *nm, bool apex)
{
	struct steer_answer_set s4, s6;
	uint32_t t4, t6;
	size_t n4 = bal_answer(sh, nm->bal, AF_INET, &s4, &t4);
	size_t n6 = bal_answer(sh, nm->bal, AF_INET6, &s6, &t6);
	const struct steer_answer_set *c = n4 > 0 && s4.cname ? &s4 : &s6;
	int rc;

	if ((n4 > 0 && !s4.cname) || (n6 > 0 && !s6.cname)) {
		rc = push_addrs(sh, nm, &s4, n4, t4);
		return rc < 0 ? rc : push_addrs(sh, nm, &s6, n6, t6);
	}
	if (apex || (n4 == 0 && n6 == 0))
		return 0;
	rc = push_rr(sh, nm, STEER_RR_CNAME, c == &s4 ? t4 : t6, c->origins[0]->host_wire,
		     c->origins[0]->host_wire_len);
	return rc < 0 ? rc : 1;
}

static int static_set(struct shadow *sh, const struct steer_zone_name *nm,
		      const struct steer_zone_rrset *s)
{
	uint8_t *wire = sh->wire;
	size_t off = 0;
	int rc = 0;

	for (uint16_t i = 0; i < s->count && rc == 0; i++) {
		size_t len = 10u + (size_t)((s->wire[off + 8] << 8) | s->wire[off + 9]);

		memcpy(wire, nm->owner, nm->owner_len);
		memcpy(wire + nm->owner_len, s->wire + off, len);
		rc = rrs_push_canonical(s->type == STEER_RR_SOA ? sh->soa_out : sh->out, wire,
					nm->owner_len + len);
		off += len;
	}
	return rc;
}

static int visit(void *arg, const struct steer_zone_name *nm)
{
	struct shadow *sh = arg;
	bool apex = false;
	int rc = 0;

	for (size_t i = 0; i < nm->n_sets; i++)
		apex = apex || nm->sets[i].type == STEER_RR_SOA;
	if (nm->bal != NULL)
		rc = balancer_rrs(sh, nm, apex);
	if (rc == 1)
		return 0; /* a CNAME: the name's other static data cannot go with it */
	for (size_t i = 0; i < nm->n_sets && rc == 0; i++)
		rc = static_set(sh, nm, &nm->sets[i]);
	return rc;
}

int xfr_build(const struct steer_config *cfg, const struct steer_zone *zone,
	      const struct steer_health_snapshot *snap, struct rrs *soa, struct rrs *out)
{
	struct shadow sh = {.snap = snap, .out = out, .soa_out = soa};
	int rc = shadow_init(&sh, cfg);

	if (rc == 0)
		rc = steer_zone_visit(zone, visit, &sh);
	shadow_fini(&sh);
	if (rc < 0)
		return rc;
	if (soa->n != 1)
		return STEER_EZONE;
	rrs_seal(soa);
	rrs_seal(out);
	rrs_sort_unique(out);
	return 0;
}
