/*
 * Response rate limiting (RRL) for UDP: a spoofed-source flood makes steerd send its
 * answers to the victim, so answers per client prefix are capped. Each worker counts in
 * its own fixed table: no allocation, no lock and no shared write per query.
 */
#include <netinet/in.h>
#include <string.h>

#include "config/config.h"
#include "server/rrl_int.h"
#include "steer/steer.h"

void steer_rrl_init(struct steer_rrl *r, uint64_t seed)
{
	memset(r->b, 0, sizeof(r->b));
	r->seed = seed | 1;
}

bool steer_rrl_whitelisted(const struct steer_prefix *p, size_t n,
			   const struct steer_client *client)
{
	for (size_t i = 0; i < n; i++) {
		unsigned full = p[i].len / 8u, rest = p[i].len % 8u;
		uint8_t mask = (uint8_t)(0xff00 >> rest);

		if (p[i].family != client->family || memcmp(p[i].addr, client->addr, full) != 0)
			continue;
		if (rest == 0 || ((p[i].addr[full] ^ client->addr[full]) & mask) == 0)
			return true;
	}
	return false;
}

/* The client's prefix as one word: a family tag over 24 bits (IPv4 /24) or 56 bits
 * (IPv6 /56). @return 0 for an address of no known family. */
static uint64_t prefix_key(const struct steer_client *c)
{
	uint64_t k = 0;

	if (c->family == AF_INET) {
		k = 4;
		for (int i = 0; i < 3; i++)
			k = (k << 8) | c->addr[i];
		return k;
	}
	if (c->family != AF_INET6)
		return 0;
	k = 6;
	for (int i = 0; i < 7; i++)
		k = (k << 8) | c->addr[i];
	return k;
}

/* How much a bucket is worth keeping in second @p now: free or idle ones least. */
static uint32_t weight(const struct steer_rrl_bucket *b, uint32_t now)
{
	return b->key == 0 || b->sec != now ? 0 : b->count;
}

static struct steer_rrl_bucket *bucket(struct steer_rrl *r, uint64_t key, uint32_t now)
{
	uint64_t h = (key ^ r->seed) * 0x9e3779b97f4a7c15ull;
	struct steer_rrl_bucket *g = &r->b[(h >> 53) % STEER_RRL_GROUPS * STEER_RRL_WAYS];
	struct steer_rrl_bucket *victim = &g[0];

	for (int i = 0; i < STEER_RRL_WAYS; i++) {
		if (g[i].key == key)
			return &g[i];
		if (weight(&g[i], now) < weight(victim, now))
			victim = &g[i];
	}
	victim->key = key;
	victim->sec = now;
	victim->count = 0;
	return victim;
}

enum steer_rrl_verdict steer_rrl_check(struct steer_rrl *r, const struct steer_rrl_conf *conf,
				       const struct steer_client *client, uint32_t now_s)
{
	uint64_t key = prefix_key(client);
	struct steer_rrl_bucket *b;
	uint32_t over;

	if (!conf->enabled || key == 0 ||
	    steer_rrl_whitelisted(conf->whitelist, conf->n_whitelist, client))
		return STEER_RRL_PASS;
	b = bucket(r, key, now_s);
	if (b->sec != now_s) {
		b->sec = now_s;
		b->count = 0;
	}
	if (b->count < UINT32_MAX)
		b->count++;
	if (b->count <= conf->rate)
		return STEER_RRL_PASS;
	over = b->count - conf->rate;
	return conf->slip != 0 && over % conf->slip == 0 ? STEER_RRL_SLIP : STEER_RRL_DROP;
}
