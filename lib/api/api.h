/*
 * The HTTP API: a small HTTP/1.1 server on its own libevent thread that answers JSON
 * (status, history, events, overrides, explain, failback, reload, version). It knows
 * nothing of the running system: the daemon hands it a table of operations, called on
 * the API thread. History and events are read from SQLite through the API thread's own
 * read-only connection.
 */
#ifndef STEER_API_API_H
#define STEER_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "core/err.h"
#include "core/thread.h"

struct steer_api;

/** A body of POST /v1/origins/{pool}/{origin}/override or /v1/pools/{pool}/override. */
struct steer_api_override {
	const char *pool;   /* percent-decoded path segment */
	const char *origin; /* NULL: the whole pool */
	const char *state;  /* "drain", "down", "up" or "auto" (validated by the API) */
	int64_t for_ms;     /* maintenance window length; 0 = until cleared */
	const char *reason; /* may be NULL */
};

/**
 * What the running system offers the API. Every callback runs on the API thread and may
 * take the daemon's locks briefly; none may block for long (no network I/O).
 * Return codes map to HTTP: 0 → 200 with *result; -ENOENT → 404, -EINVAL → 400,
 * -EBUSY → 409 (each with {"error": err->msg}); STEER_ECONFIG (reload) → 422 with
 * *result; anything else → 500.
 */
struct steer_api_ops {
	void *arg;
	/** GET /v1/status. @return a new reference, or NULL when out of memory. */
	json_t *(*status)(void *arg);
	/** POST .../override. @p result receives a new reference on success. */
	int (*override)(void *arg, const struct steer_api_override *req, json_t **result,
			struct steer_err *err);
	/** GET /v1/explain?name=&type=&client= (type and client may be NULL). */
	int (*explain)(void *arg, const char *name, const char *type, const char *client,
		       json_t **result, struct steer_err *err);
	/** POST /v1/balancers/{name}/failback. */
	int (*failback)(void *arg, const char *balancer, json_t **result, struct steer_err *err);
	/** POST /v1/reload: 0 with {"ok": true, ...}, or STEER_ECONFIG with
	 * {"ok": false, "error": ..., "errors": [...]} in @p result. */
	int (*reload)(void *arg, json_t **result);
	/** GET /metrics: Prometheus text exposition (0.0.4). @return a malloc'ed string the
	 * API frees, or NULL when out of memory. May be NULL (404). */
	char *(*metrics)(void *arg);
	/** GET /: the status page, a self-contained HTML document. @return a malloc'ed
	 * string the API frees, or NULL when out of memory. May be NULL (404). */
	char *(*page)(void *arg);
	/** POST /v1/notify/test: a test event to notification @p name (NULL: every one),
	 * waiting (bounded) for its delivery; -ENOENT for no such notification. May be NULL
	 * (404). */
	int (*notify_test)(void *arg, const char *name, json_t **result, struct steer_err *err);
	/** GET /v1/zone: the zone as a secondary would transfer it now, as zone-file text.
	 * @return 0 with *text (malloc'ed; the API frees it), -ENOENT when transfers are not
	 * configured (404), or STEER_ENOMEM. May be NULL (404). */
	int (*zone)(void *arg, char **text);
};

/** One listen address. */
struct steer_api_addr {
	const char *text; /* as configured: "127.0.0.1:8053", "[::1]:8053" */
	const struct sockaddr *sa;
	socklen_t len;
};

/** Options; everything is copied by steer_api_new() except @c ops (must outlive the API). */
struct steer_api_opts {
	const struct steer_api_addr *listen;
	size_t n_listen;
	const char *token;             /* bearer token; NULL or "" = none: writes get 403 */
	bool public_read;              /* read-only endpoints open on non-loopback listeners */
	const char *state_path;        /* SQLite file for history and events */
	const struct steer_cpus *cpus; /* CPUs of the API thread; NULL = any */
	const struct steer_api_ops *ops;
	uint32_t io_timeout_ms; /* a request must arrive whole within this [10000] */
	uint32_t max_conns;     /* open connections; more are closed at once [64] */
};

/**
 * Bind every listen address (nothing is served until steer_api_start()).
 * @param out  Receives the API (free with steer_api_free()).
 * @param err  Receives a message naming the address that failed.
 * @return 0, STEER_ENOMEM or a negative errno of socket()/bind()/listen().
 */
STEER_MUSTCHECK int steer_api_new(const struct steer_api_opts *opts, struct steer_api **out,
				  struct steer_err *err);

/** Start the API thread. @return 0 or a negative errno. */
STEER_MUSTCHECK int steer_api_start(struct steer_api *api, struct steer_err *err);

/** Stop and join the API thread (idempotent; safe right after start). */
void steer_api_stop(struct steer_api *api);

/** Stop, close every socket and connection, free (NULL-safe). */
void steer_api_free(struct steer_api *api);

/**
 * The port listener @p i (in the order of opts.listen) is bound to; useful after binding
 * port 0. @return the port, or 0 if @p i is out of range.
 * Context: any thread, after steer_api_new().
 */
uint16_t steer_api_port(const struct steer_api *api, size_t i);

/**
 * True if @p sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). Read-only
 * endpoints are open without a token on listeners bound to such an address.
 */
bool steer_api_addr_is_loopback(const struct sockaddr *sa);

#endif
