/* Server internals shared by server.c (UDP, lifecycle) and tcp.c. */
#ifndef STEER_SERVER_SERVER_INT_H
#define STEER_SERVER_SERVER_INT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/qsbr.h"
#include "metrics/metrics.h"
#include "server/server.h"

struct steer_dns_cookie_keys;
struct steer_tcp;

/* Batch pacing state of one UDP worker (server.c). */
struct udp_pace {
	uint32_t wait_us;   /* 0 = never wait */
	uint32_t packets;   /* received in the current window */
	uint64_t window_ms; /* start of the window, CLOCK_MONOTONIC_COARSE */
	bool busy;          /* the last window's rate makes a wait worth it */
};

struct udp_worker {
	struct steer_server *srv;
	size_t slot; /* QSBR reader slot */
	int fd;      /* -1 once closed */
	pthread_t thread;
	bool started;
	uint64_t rng;
	struct udp_pace pace;
	struct steer_metrics_thread *ctr; /* this worker's counters */
};

struct steer_server {
	const struct steer_config *cfg;
	_Atomic(struct runtime *) rt; /* what the answer path reads: zone + health */
	pthread_mutex_t wlock;        /* writers only (publish, replace, reclaim) */
	atomic_bool stopping;
	struct udp_worker *udp;
	size_t n_udp;
	size_t n_workers;
	struct steer_tcp *tcp;
	struct steer_qsbr qsbr;        /* slots 0..n_udp-1: UDP workers; n_udp: TCP thread */
	struct steer_metrics *metrics; /* thread blocks indexed like the QSBR slots */
	struct steer_metrics_map *map; /* slots of the current config's names (may be NULL) */
	struct retired *retired;       /* objects waiting for readers to move on */
	/* DNS Cookie secrets (immutable; swapped by steer_server_cookie_tick, retired like a
	 * runtime) and when the current one was made (writers only, under wlock) */
	_Atomic(struct steer_dns_cookie_keys *) cookies;
	int64_t cookies_made_ms;
	steer_server_xfr_fn *xfr; /* zone transfers (set before start), or NULL */
	void *xfr_arg;
	steer_server_signed_fn *sign; /* TSIG-signed queries (set before start), or NULL */
	void *sign_arg;
};

/* Immutable set read through one atomic pointer, so a reload never pairs a new zone with
 * a snapshot or a counter map indexed for the old config. */
struct runtime {
	const struct steer_zone *zone;
	struct steer_health_snapshot *snap;
	const struct steer_metrics_map *map; /* NULL: answers are not counted by name */
};

struct retired {
	void (*fn)(void *arg);
	void *arg;
	uint64_t epoch;
	struct retired *next;
};

/** Open TCP listeners for every listen address. */
int steer_tcp_new(struct steer_server *srv, struct steer_tcp **out, struct steer_err *err);

/** Start the TCP thread, on @p cpus if any (affinity.dns). @return 0 or a negative errno. */
int steer_tcp_start(struct steer_tcp *tcp, const struct steer_cpus *cpus, struct steer_err *err);

/** Stop and join the TCP thread (idempotent; also right after start, before its loop runs). */
void steer_tcp_stop(struct steer_tcp *tcp);

/** Stop, close the listeners and connections, free (NULL-safe). */
void steer_tcp_free(struct steer_tcp *tcp);

/* Answer @p q through the signed-query callback when it ends with a TSIG record and the
 * zone's config has transfers (TSIG keys), else through the zone. Context: answer path. */
size_t steer_server_answer(const struct steer_server *srv, const struct steer_zone *zone,
			   struct steer_query_ctx *ctx, const uint8_t *q, size_t qlen, uint8_t *out,
			   size_t cap);

/** Fill @p client from a socket address. */
struct steer_client;
void steer_server_client(struct steer_client *client, const struct sockaddr *sa);

/** Seed for a thread's PRNG (never 0). */
uint64_t steer_server_seed(void);

/**
 * The slots of @p cfg's names in @p m: per balancer its pools (default_pools, then the
 * fallback), per origin (pool, origin). @return a new map (free with
 * steer_metrics_map_free()), or NULL when out of memory.
 */
struct steer_metrics_map *steer_server_map_new(struct steer_metrics *m,
					       const struct steer_config *cfg);

#endif
