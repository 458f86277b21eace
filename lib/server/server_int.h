/* Server internals shared by server.c (UDP, lifecycle) and tcp.c. */
#ifndef STEER_SERVER_SERVER_INT_H
#define STEER_SERVER_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "core/qsbr.h"
#include "server/server.h"

struct steer_tcp;

struct udp_worker {
	struct steer_server *srv;
	size_t slot; /* QSBR reader slot */
	int fd;
	pthread_t thread;
	bool started;
	uint64_t rng;
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
	struct steer_qsbr qsbr;  /* slots 0..n_udp-1: UDP workers; n_udp: TCP thread */
	struct retired *retired; /* objects waiting for readers to move on */
};

/* Immutable pair read through one atomic pointer, so a reload never pairs a new zone with
 * a snapshot indexed for the old config. */
struct runtime {
	const struct steer_zone *zone;
	struct steer_health_snapshot *snap;
};

struct retired {
	void (*fn)(void *arg);
	void *arg;
	uint64_t epoch;
	struct retired *next;
};

/** Open TCP listeners for every listen address. */
int steer_tcp_new(struct steer_server *srv, struct steer_tcp **out, struct steer_err *err);

/** Start the TCP thread. */
int steer_tcp_start(struct steer_tcp *tcp, struct steer_err *err);

/** Stop and join the TCP thread (idempotent). */
void steer_tcp_stop(struct steer_tcp *tcp);

/** Free (NULL-safe). */
void steer_tcp_free(struct steer_tcp *tcp);

/** Fill @p client from a socket address. */
struct steer_client;
void steer_server_client(struct steer_client *client, const struct sockaddr *sa);

/** Seed for a thread's PRNG (never 0). */
uint64_t steer_server_seed(void);

#endif
