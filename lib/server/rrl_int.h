/*
 * Response rate limiting of UDP answers (server.c): per worker, a fixed table of buckets
 * keyed by client prefix (/24 IPv4, /56 IPv6), counting responses per second.
 */
#ifndef STEER_SERVER_RRL_INT_H
#define STEER_SERVER_RRL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

struct steer_client;
struct steer_prefix;
struct steer_rrl_conf;

#define STEER_RRL_WAYS    4    /* buckets a prefix may live in: one cache line */
#define STEER_RRL_GROUPS  2048 /* so 8192 buckets, 128 KiB per worker */
#define STEER_RRL_BUCKETS (STEER_RRL_WAYS * STEER_RRL_GROUPS)

/** Responses counted for one client prefix in one second. */
struct steer_rrl_bucket {
	uint64_t key;   /* family tag and prefix; 0: free */
	uint32_t sec;   /* the second counted (monotonic) */
	uint32_t count; /* responses in that second (saturating) */
};

/** One UDP worker's rate limiting state; the worker's own (never shared). */
struct steer_rrl {
	uint64_t seed; /* hash seed: spoofed sources cannot aim at one bucket group */
	struct steer_rrl_bucket b[STEER_RRL_BUCKETS];
};

/** Initialise @p r (caller's storage) with the hash @p seed; every bucket free. */
void steer_rrl_init(struct steer_rrl *r, uint64_t seed);

/**
 * Count one response to @p client in second @p now_s and decide its fate under @p conf:
 * within `rate` responses per second of its prefix it passes; past that, every
 * `slip`-th one slips (STEER_RRL_SLIP) and the others are dropped. Whitelisted prefixes,
 * and everything when conf->enabled is false, pass without being counted. When the
 * prefix's group of buckets is full, the bucket with the fewest responses this second is
 * taken over, so the heaviest sources keep their counts.
 * Context: answer path (the owning worker); no allocation, no lock, no system call.
 */
enum steer_rrl_verdict steer_rrl_check(struct steer_rrl *r, const struct steer_rrl_conf *conf,
				       const struct steer_client *client, uint32_t now_s);

/** True if @p client lies in one of the @p n prefixes at @p p. Context: any; pure. */
bool steer_rrl_whitelisted(const struct steer_prefix *p, size_t n,
			   const struct steer_client *client);

#endif
