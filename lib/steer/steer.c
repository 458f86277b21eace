/*
 * Steering: pick a balancer's pool (failover, weighted random, fallback, fail-open) and the
 * origins of that pool (weighted random, sticky hash, all-shuffled). Pure functions over
 * immutable config and a health snapshot; every scan streams over the origins, so pools of
 * any size work without allocation and with O(STEER_ANSWER_MAX) stack.
 */
#include "steer/steer.h"

#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "health/health.h"

/* Which kinds of origin a scan accepts. */
#define KIND_IP   1u
#define KIND_HOST 2u
#define KIND_ANY  (KIND_IP | KIND_HOST)

/* Client subnet lengths for `hash` steering, in bytes: IPv4 /24, IPv6 /56. */
#define HASH_V4_BYTES 3
#define HASH_V6_BYTES 7

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* The candidate rule of one scan over a pool's origins. */
struct filter {
	const struct steer_health_snapshot *snap;
	int family;
	bool ignore_health;
	bool zero_ok; /* failing open and no candidate has weight > 0: weight-0 ones count as 1 */
	unsigned kinds;
};

uint64_t steer_rand_next(uint64_t *state)
{
	uint64_t x = *state;

	if (x == 0) /* xorshift is stuck at 0; recover instead of answering the same forever */
		x = 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1), 53 bits. */
static double rand_unit(uint64_t *rng)
{
	return (double)(steer_rand_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1): never 0, so log() is finite. */
static double open_unit(uint64_t h)
{
	return ((double)(h >> 11) + 0.5) * 0x1.0p-53;
}

/* Uniform in [0, n) for n <= STEER_ANSWER_MAX; the modulo bias is below n / 2^64. */
static size_t rand_below(uint64_t *rng, size_t n)
{
	return (size_t)(steer_rand_next(rng) % (uint64_t)n);
}

static bool has_weight(const struct steer_origin *o)
{
	return o->weight > 0.0; /* false for NaN too */
}

static bool origin_is_up(const struct steer_health_snapshot *snap, const struct steer_origin *o)
{
	return o->enabled && has_weight(o) && steer_health_is_up(snap, o->index);
}

static bool pool_has_up_origin(const struct steer_pool *pool,
			       const struct steer_health_snapshot *snap)
{
	for (size_t i = 0; i < pool->n_origins; i++) {
		if (origin_is_up(snap, &pool->origins[i]))
			return true;
	}
	return false;
}

bool steer_pool_is_healthy(const struct steer_pool *pool, const struct steer_health_snapshot *snap)
{
	uint32_t up = 0;

	if (!pool->enabled)
		return false;
	switch (steer_health_pool_override(snap, pool->index)) {
	case STEER_OVERRIDE_UP:
		return true;
	case STEER_OVERRIDE_DOWN:
	case STEER_OVERRIDE_DRAIN:
		return false;
	default:
		break;
	}
	for (size_t i = 0; i < pool->n_origins && up < pool->minimum_origins; i++) {
		if (origin_is_up(snap, &pool->origins[i]))
			up++;
	}
	return up >= pool->minimum_origins;
}

static bool is_candidate(const struct filter *f, const struct steer_origin *o)
{
	if (!o->enabled)
		return false;
	if (!f->zero_ok && (!has_weight(o) || steer_health_is_drained(f->snap, o->index)))
		return false; /* drained by weight 0 or by an override: no new answers */
	if (!f->ignore_health && !steer_health_is_up(f->snap, o->index))
		return false;
	if (o->is_ip)
		return (f->kinds & KIND_IP) != 0 && o->addr.family == f->family;
	return (f->kinds & KIND_HOST) != 0;
}

static double eff_weight(const struct filter *f, const struct steer_origin *o)
{
	return f->zero_ok ? 1.0 : o->weight;
}

static size_t count_candidates(const struct steer_pool *pool, const struct filter *f)
{
	size_t n = 0;

	for (size_t i = 0; i < pool->n_origins; i++) {
		if (is_candidate(f, &pool->origins[i]))
			n++;
	}
	return n;
}

/* Weighted random choice among the candidates; two passes so any pool size works. */
static const struct steer_origin *pick_weighted(const struct steer_pool *pool,
						const struct filter *f, uint64_t *rng)
{
	const struct steer_origin *last = NULL;
	double total = 0.0;
	double r;

	for (size_t i = 0; i < pool->n_origins; i++) {
		if (is_candidate(f, &pool->origins[i]))
			total += eff_weight(f, &pool->origins[i]);
	}
	if (!(total > 0.0))
		return NULL;
	r = rand_unit(rng) * total;
	for (size_t i = 0; i < pool->n_origins; i++) {
		const struct steer_origin *o = &pool->origins[i];

		if (!is_candidate(f, o))
			continue;
		last = o;
		if (r < eff_weight(f, o))
			return o;
		r -= eff_weight(f, o);
	}
	return last; /* rounding left r just above the last weight */
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* splitmix64 finaliser: FNV-1a alone mixes its high bits poorly. */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a state after the client's subnet (family tag + prefix bytes); unknown = zeros. */
static uint64_t subnet_hash(const struct steer_client *client)
{
	uint8_t buf[1 + HASH_V6_BYTES] = {0};
	size_t len = 1 + HASH_V4_BYTES;

	if (client != NULL && client->family == AF_INET) {
		buf[0] = 4;
		memcpy(buf + 1, client->addr, HASH_V4_BYTES);
	} else if (client != NULL && client->family == AF_INET6) {
		buf[0] = 6;
		memcpy(buf + 1, client->addr, HASH_V6_BYTES);
		len = 1 + HASH_V6_BYTES;
	}
	return fnv1a(FNV_OFFSET, buf, len);
}

/*
 * Weighted rendezvous hashing: score = w / -ln(u), u = H(subnet, origin name) in (0, 1).
 * Each origin's score depends only on the subnet and itself, so removing an origin moves
 * only the clients it had, and P(origin wins) = w / sum(w).
 */
static const struct steer_origin *pick_hash(const struct steer_pool *pool, const struct filter *f,
					    const struct steer_client *client)
{
	const uint64_t seed = subnet_hash(client);
	const struct steer_origin *best = NULL;
	double best_score = 0.0;

	for (size_t i = 0; i < pool->n_origins; i++) {
		const struct steer_origin *o = &pool->origins[i];
		uint64_t h = seed;
		double score;

		if (!is_candidate(f, o))
			continue;
		if (o->name != NULL)
			h = fnv1a(h, o->name, strlen(o->name));
		else
			h = fnv1a(h, &o->index, sizeof(o->index));
		score = eff_weight(f, o) / -log(open_unit(mix64(h)));
		if (best == NULL || score > best_score) {
			best = o;
			best_score = score;
		}
	}
	return best;
}

static void shuffle(struct steer_answer_set *out, uint64_t *rng)
{
	for (size_t i = out->n; i > 1; i--) {
		size_t j = rand_below(rng, i);
		const struct steer_origin *t = out->origins[i - 1];

		out->origins[i - 1] = out->origins[j];
		out->origins[j] = t;
	}
}

/*
 * More candidates than answers: weighted sampling without replacement (Efraimidis-Spirakis
 * A-Res, key = ln(u) / w, keep the @p cap largest keys), streaming over the pool.
 */
static void sample_weighted(const struct steer_pool *pool, const struct filter *f, size_t cap,
			    uint64_t *rng, struct steer_answer_set *out)
{
	double keys[STEER_ANSWER_MAX];
	size_t min_at = 0;

	for (size_t i = 0; i < pool->n_origins; i++) {
		const struct steer_origin *o = &pool->origins[i];
		double key;

		if (!is_candidate(f, o))
			continue;
		key = log(open_unit(steer_rand_next(rng))) / eff_weight(f, o);
		if (out->n < cap) {
			if (out->n == 0 || key < keys[min_at])
				min_at = out->n;
			keys[out->n] = key;
			out->origins[out->n++] = o;
			continue;
		}
		if (key <= keys[min_at])
			continue;
		keys[min_at] = key;
		out->origins[min_at] = o;
		for (size_t k = 0; k < cap; k++) { /* replacements are rare: O(cap log(n/cap)) */
			if (keys[k] < keys[min_at])
				min_at = k;
		}
	}
}

static size_t answer_cap(const struct steer_pool *pool)
{
	/* 0 = not set (hand-built pools): only the wire limit applies */
	if (pool->max_answers == 0 || pool->max_answers > STEER_ANSWER_MAX)
		return STEER_ANSWER_MAX;
	return pool->max_answers;
}

/* `all`: every IP candidate of the family (capped, shuffled), else one hostname origin. */
static void select_all(const struct steer_pool *pool, struct filter *f, uint64_t *rng,
		       struct steer_answer_set *out)
{
	const size_t cap = answer_cap(pool);
	const struct steer_origin *host;
	size_t n_ip;

	f->kinds = KIND_IP;
	n_ip = count_candidates(pool, f);
	if (n_ip > cap) {
		sample_weighted(pool, f, cap, rng, out);
	} else if (n_ip > 0) {
		for (size_t i = 0; i < pool->n_origins; i++) {
			if (is_candidate(f, &pool->origins[i]))
				out->origins[out->n++] = &pool->origins[i];
		}
	} else {
		f->kinds = KIND_HOST;
		host = pick_weighted(pool, f, rng);
		if (host != NULL) {
			out->origins[out->n++] = host;
			out->cname = true;
		}
		return;
	}
	shuffle(out, rng);
}

static bool has_candidate(const struct steer_pool *pool, const struct filter *f)
{
	for (size_t i = 0; i < pool->n_origins; i++) {
		if (is_candidate(f, &pool->origins[i]))
			return true;
	}
	return false;
}

size_t steer_pool_select(const struct steer_pool *pool, const struct steer_health_snapshot *snap,
			 int family, const struct steer_client *client, bool ignore_health,
			 uint64_t *rng, struct steer_answer_set *out)
{
	struct filter f = {snap, family, ignore_health, false, KIND_ANY};
	const struct steer_origin *o = NULL;

	out->n = 0;
	out->cname = false;
	out->pool = pool;
	out->reason = STEER_POOL_PRIMARY; /* steer_balancer_answer() overrides it */
	/* failing open with every candidate drained: answer with the drained ones, not nothing */
	if (ignore_health && !has_candidate(pool, &f))
		f.zero_ok = true;
	switch (pool->origin_steering) {
	case STEER_ORIGIN_ALL:
		select_all(pool, &f, rng, out);
		return out->n;
	case STEER_ORIGIN_HASH:
		o = pick_hash(pool, &f, client);
		break;
	case STEER_ORIGIN_RANDOM:
	default:
		o = pick_weighted(pool, &f, rng);
		break;
	}
	if (o != NULL) {
		out->origins[out->n++] = o;
		out->cname = !o->is_ip;
	}
	return out->n;
}

/* `random` policy: weighted by pool weight over healthy pools (one-pass chain sampling). */
static const struct steer_pool *pick_random_pool(const struct steer_balancer *bal,
						 const struct steer_health_snapshot *snap,
						 uint64_t *rng)
{
	const struct steer_pool *first = NULL;
	const struct steer_pool *chosen = NULL;
	double total = 0.0;

	for (size_t i = 0; i < bal->n_pools; i++) {
		const struct steer_pool *p = bal->pools[i];

		if (!steer_pool_is_healthy(p, snap))
			continue;
		if (first == NULL)
			first = p;
		if (!(p->weight > 0.0))
			continue;
		total += p->weight;
		if (rand_unit(rng) * total < p->weight)
			chosen = p;
	}
	return chosen != NULL ? chosen : first; /* healthy pools all weigh 0: the first one */
}

static const struct steer_pool *pick_failover_pool(const struct steer_balancer *bal,
						   const struct steer_health_snapshot *snap,
						   enum steer_pool_reason *reason)
{
	for (size_t i = 0; i < bal->n_pools; i++) {
		if (steer_pool_is_healthy(bal->pools[i], snap)) {
			*reason = i == 0 ? STEER_POOL_PRIMARY : STEER_POOL_FAILOVER;
			return bal->pools[i];
		}
	}
	return NULL;
}

/* A pool fail-open may use: enabled and not drained or forced down by an operator. */
static bool pool_is_open(const struct steer_pool *pool, const struct steer_health_snapshot *snap)
{
	enum steer_override o = steer_health_pool_override(snap, pool->index);

	return pool->enabled && o != STEER_OVERRIDE_DRAIN && o != STEER_OVERRIDE_DOWN;
}

/* No pool is healthy: the fallback pool, else fail open on the first enabled pool (one an
 * operator has not drained or forced down, if there is such a pool). */
static const struct steer_pool *pick_last_resort(const struct steer_balancer *bal,
						 const struct steer_health_snapshot *snap,
						 enum steer_pool_reason *reason)
{
	if (bal->fallback != NULL) {
		*reason = STEER_POOL_FALLBACK;
		return bal->fallback;
	}
	*reason = STEER_POOL_FAIL_OPEN;
	for (size_t i = 0; i < bal->n_pools; i++) {
		if (pool_is_open(bal->pools[i], snap))
			return bal->pools[i];
	}
	for (size_t i = 0; i < bal->n_pools; i++) {
		if (bal->pools[i]->enabled)
			return bal->pools[i];
	}
	return bal->n_pools > 0 ? bal->pools[0] : NULL;
}

/*
 * Failback control holds answers on the pool at default_pools[pin] (pin == n_pools: the
 * fallback pool) while a preferred pool is healthy again, as long as the held pool itself
 * stays healthy; the daemon sets and clears the pin.
 */
static const struct steer_pool *pick_pinned_pool(const struct steer_balancer *bal,
						 const struct steer_health_snapshot *snap,
						 enum steer_pool_reason *reason)
{
	int32_t pin = steer_health_pin(snap, bal->index);
	const struct steer_pool *p;

	if (pin < 0 || (size_t)pin > bal->n_pools)
		return NULL;
	p = (size_t)pin < bal->n_pools ? bal->pools[pin] : bal->fallback;
	if (p == NULL || !steer_pool_is_healthy(p, snap))
		return NULL;
	*reason = (size_t)pin == bal->n_pools ? STEER_POOL_FALLBACK
		  : pin == 0                  ? STEER_POOL_PRIMARY
					      : STEER_POOL_FAILOVER;
	return p;
}

const struct steer_pool *steer_balancer_select_pool(const struct steer_balancer *bal,
						    const struct steer_health_snapshot *snap,
						    uint64_t *rng, enum steer_pool_reason *reason)
{
	const struct steer_pool *pool;

	if (bal->policy == STEER_POLICY_RANDOM) {
		pool = pick_random_pool(bal, snap, rng);
		*reason = STEER_POOL_PRIMARY;
	} else {
		pool = pick_pinned_pool(bal, snap, reason);
		if (pool == NULL)
			pool = pick_failover_pool(bal, snap, reason);
	}
	if (pool == NULL)
		pool = pick_last_resort(bal, snap, reason);
	return pool;
}

size_t steer_balancer_answer(const struct steer_balancer *bal,
			     const struct steer_health_snapshot *snap, int family,
			     const struct steer_client *client, uint64_t *rng,
			     struct steer_answer_set *out)
{
	enum steer_pool_reason reason = STEER_POOL_PRIMARY;
	const struct steer_pool *pool = steer_balancer_select_pool(bal, snap, rng, &reason);
	size_t n = 0;

	out->n = 0;
	out->cname = false;
	out->pool = pool;
	if (pool != NULL) {
		n = steer_pool_select(pool, snap, family, client, reason == STEER_POOL_FAIL_OPEN,
				      rng, out);
	}
	/*
	 * The fallback is served even when down, and a pool an operator forced up is served
	 * whatever its origins' health; if none of its origins (of any family) is up, answer
	 * with its enabled ones rather than empty. A family it merely lacks stays NODATA.
	 */
	if (n == 0 && pool != NULL &&
	    (reason == STEER_POOL_FALLBACK ||
	     steer_health_pool_override(snap, pool->index) == STEER_OVERRIDE_UP) &&
	    !pool_has_up_origin(pool, snap))
		n = steer_pool_select(pool, snap, family, client, true, rng, out);
	out->reason = reason;
	return n;
}
