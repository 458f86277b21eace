/*
 * Internals of the monitor module shared by monitor.c (lifecycle, scheduling, results),
 * http.c (libcurl multi on libevent) and tcp.c (plain TCP connects, evdns for names).
 * Everything here runs on the monitor thread except the setup and teardown functions,
 * which run on the owner's thread while the monitor thread is not running.
 */
#ifndef STEER_MONITOR_MONITOR_INT_H
#define STEER_MONITOR_MONITOR_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "config/config.h"
#include "core/err.h"
#include "health/health.h"
#include "monitor/monitor.h"

struct event;
struct event_base;
struct evdns_base;
struct evdns_getaddrinfo_request;
struct evutil_addrinfo;
struct mon_sock;

/* At most this much of a response body (or TCP reply) is read. */
#define MON_READ_MAX ((size_t)64 * 1024)

enum mon_tcp_phase {
	MON_TCP_IDLE,
	MON_TCP_RESOLVING,
	MON_TCP_CONNECTING,
	MON_TCP_SENDING,
	MON_TCP_READING,
};

/* What a finished attempt reported, kept until the deferred completion runs. */
struct mon_outcome {
	bool ok;
	int http_status;
	int64_t end_ms; /* monotonic */
	char reason[STEER_REASON_MAX];
};

/* HTTP(S) state of one slot: one easy handle, configured once, re-added per attempt. */
struct mon_http {
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *url;
	char host[300]; /* host of the URL, for "dns: cannot resolve" */
	bool in_multi;
	char *body; /* first MON_READ_MAX bytes, only when expected_body is set */
	size_t body_len;
	bool body_matched;
	bool body_stopped; /* the write callback ended the transfer on purpose */
	char errbuf[CURL_ERROR_SIZE];
};

/* TCP state of one slot; fd and addresses live for one attempt. */
struct mon_tcp {
	enum mon_tcp_phase phase;
	int fd;
	struct event *io;
	struct event *deadline;
	struct sockaddr_storage ip; /* IP origins: the only address */
	socklen_t ip_len;
	bool ip_tried;
	struct evutil_addrinfo *ai_head; /* hostname origins: resolved addresses */
	struct evutil_addrinfo *ai_next;
	struct evdns_getaddrinfo_request *dns_req;
	int last_errno;
	size_t sent;
	char *rbuf;
	size_t rlen;
};

/* One probed origin: its schedule and the probe in flight (at most one). */
/* Bounds that keep 10,000 origins cheap: at most this many probes run at once (the rest
 * wait their turn), and at most this many idle curl handles are kept for reuse. */
#define MON_MAX_INFLIGHT 256
#define MON_EASY_POOL    64

struct mon_slot {
	struct steer_prober *p;
	const struct steer_pool *pool;
	const struct steer_origin *origin;
	const struct steer_monitor *mon;
	struct event *timer;        /* next scheduled probe */
	struct event *kick;         /* deferred completion of an attempt */
	uint32_t first_ms;          /* offset of the first probe from start */
	uint32_t steady_ms;         /* offset in every later round: spread over the interval */
	struct mon_slot *wait_next; /* in the prober's wait queue */
	bool waiting;
	int64_t due_ms; /* monotonic time the timer is set for */
	bool busy;
	uint32_t attempts;
	int64_t start_ms; /* monotonic start of the current attempt */
	struct mon_outcome out;
	struct mon_http http;
	struct mon_tcp tcp;
};

struct steer_prober {
	const struct steer_config *cfg;
	steer_probe_done_fn *done;
	void *arg;
	struct event_base *base;
	struct event *stop_ev;
	struct mon_slot *slots;
	size_t n_slots;
	CURLM *multi;
	struct event *curl_timer;
	struct mon_sock *socks; /* curl sockets we watch, freed at teardown if curl did not */
	CURL *easy_pool[MON_EASY_POOL]; /* idle easy handles, reused across probes */
	size_t n_easy_pool;
	size_t inflight;            /* probes started and not yet delivered */
	struct mon_slot *wait_head; /* due probes waiting for an in-flight slot (FIFO) */
	struct mon_slot *wait_tail;
	int64_t start_ms;       /* monotonic time the thread started: schedule anchor */
	struct evdns_base *dns; /* only when a TCP monitor probes a hostname origin */
	bool running;
	pthread_t thread;
};

/**
 * Record the outcome of the current attempt of @p s and schedule its completion (re-try
 * or result delivery) on the next loop iteration, so probe code never re-enters itself.
 * @param reason  "" or NULL when @p ok; copied.
 */
void mon_attempt_done(struct mon_slot *s, bool ok, int http_status, const char *reason);

/** Format a probe failure reason into @p buf, cut at @p size (reasons are short text). */
void mon_reason(char *buf, size_t size, const char *fmt, ...) STEER_PRINTF(3, 4);

/** Case-insensitive (@p fold) or exact search of @p needle in @p hay[0..hay_len). */
bool mon_contains(const char *hay, size_t hay_len, const char *needle, bool fold);

/** Create the multi handle and its timer. @return 0, STEER_ENOMEM or STEER_EPROBE. */
int mon_http_init(struct steer_prober *p, struct steer_err *err);

/** Free the multi handle and every socket event (after every slot's mon_http_slot_fini). */
void mon_http_fini(struct steer_prober *p);

/** Build the easy handle of @p s. @return 0, STEER_ENOMEM or STEER_EPROBE with @p err. */
int mon_http_slot_init(struct mon_slot *s, struct steer_err *err);

/** Abort the transfer of @p s, if any, and free its handle (safe on a zeroed slot). */
void mon_http_slot_fini(struct mon_slot *s);

/**
 * Start one HTTP attempt of @p s. On failure the slot is untouched.
 * @return 0 or a negative code; @p reason is filled on failure.
 */
int mon_http_start(struct mon_slot *s, char *reason, size_t size);

/** Prepare the TCP state of @p s. @return 0 or STEER_ENOMEM. */
int mon_tcp_slot_init(struct mon_slot *s);

/** End the attempt of @p s, if any, and free its events (safe on a zeroed slot). */
void mon_tcp_slot_fini(struct mon_slot *s);

/**
 * Start one TCP attempt of @p s. Every outcome, immediate ones included, is reported
 * through mon_attempt_done(). @return 0, or a negative code with @p reason filled when
 * nothing was started.
 */
int mon_tcp_start(struct mon_slot *s, char *reason, size_t size);

#endif
