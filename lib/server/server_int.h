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
#include "server/server.h"

struct steer_tcp;

/*
 * One thread's counters, on cache lines of their own. Only the owning thread writes (a
 * relaxed load and store: a plain add, no lock prefix); any thread may read.
 */
struct steer_counters {
	alignas(64) _Atomic uint64_t c[STEER_STAT_N];
};

static inline void steer_count(struct steer_counters *ctr, enum steer_stat i, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&ctr->c[i], memory_order_relaxed);

	atomic_store_explicit(&ctr->c[i], v + n, memory_order_relaxed);
}

/** Count one answer of @p len bytes (0 = none: dropped) written to @p msg. */
static inline void steer_count_answer(struct steer_counters *ctr, const uint8_t *msg, size_t len)
{
	if (len == 0) {
		steer_count(ctr, STEER_STAT_DROPPED, 1);
		return;
	}
	/* RFC 1035 §4.1.1: RCODE is the low nibble of header byte 3, TC bit 1 of byte 2 */
	steer_count(ctr, STEER_STAT_ANSWERS, 1);
	steer_count(ctr, (enum steer_stat)(STEER_STAT_RCODE + (msg[3] & 0x0f)), 1);
	if ((msg[2] & 0x02) != 0)
		steer_count(ctr, STEER_STAT_TRUNCATED, 1);
}

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
	struct steer_qsbr qsbr;     /* slots 0..n_udp-1: UDP workers; n_udp: TCP thread */
	struct steer_counters *ctr; /* n_udp + 1, indexed like the QSBR slots */
	struct retired *retired;    /* objects waiting for readers to move on */
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

/** Start the TCP thread, on @p cpus if any (affinity.dns). @return 0 or a negative errno. */
int steer_tcp_start(struct steer_tcp *tcp, const struct steer_cpus *cpus, struct steer_err *err);

/** Stop and join the TCP thread (idempotent; also right after start, before its loop runs). */
void steer_tcp_stop(struct steer_tcp *tcp);

/** Stop, close the listeners and connections, free (NULL-safe). */
void steer_tcp_free(struct steer_tcp *tcp);

/** Fill @p client from a socket address. */
struct steer_client;
void steer_server_client(struct steer_client *client, const struct sockaddr *sa);

/** Seed for a thread's PRNG (never 0). */
uint64_t steer_server_seed(void);

#endif
