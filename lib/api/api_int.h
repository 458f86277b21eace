/*
 * API internals shared by the lifecycle (api.c), the HTTP connection layer (http.c), the
 * request parser (parse.c), the router (route.c) and the history handlers (history.c).
 * Only lib/api/ includes this header.
 */
#ifndef STEER_API_API_INT_H
#define STEER_API_API_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "api/api.h"

#define API_HEAD_MAX     8192  /* request line + header fields, with the blank line */
#define API_BODY_MAX     65536 /* Content-Length */
#define API_SEGS_MAX     8     /* path segments; deeper paths are no endpoint */
#define API_PARAMS_MAX   8     /* query parameters */
#define API_LINGER_MS    2000  /* reading and dropping input after the response, at most */
#define API_LINGER_BYTES 65536 /* ... and this much of it */
#define API_TIMEOUT_MS   10000 /* default io_timeout_ms */
#define API_MAX_CONNS    64    /* default max_conns */
#define API_REASON_MAX   256   /* bytes of an override reason */
#define API_LIMIT_MAX    10000 /* rows of history and events */
#define API_LIMIT_DFLT   100

/** One decoded query parameter (both NUL-terminated, in api_req.dec). */
struct api_param {
	const char *key;
	const char *value;
};

/** A parsed request. Pointers point into @c head (raw) or @c dec (decoded). */
struct api_req {
	const char *method;
	int minor;        /* HTTP/1.minor */
	const char *path; /* raw path, without the query */
	const char *seg[API_SEGS_MAX];
	size_t n_seg;
	bool too_deep; /* more than API_SEGS_MAX segments: no endpoint has that many */
	struct api_param param[API_PARAMS_MAX];
	size_t n_param;
	const char *auth; /* Authorization field value, NULL if absent */
	bool has_host;
	bool has_te;
	bool expect_continue;
	bool expect_other; /* an Expect field other than 100-continue: 417 */
	bool has_length;
	uint64_t length;
	char *body; /* NUL-terminated, body_len bytes; NULL when there is none */
	size_t body_len;
	char head[API_HEAD_MAX + 1];
	char dec[API_HEAD_MAX + 2];
};

/** Why a request head was refused. */
struct api_fail {
	int status;
	char msg[256];
};

/** A response under construction. */
struct api_resp {
	int status;
	json_t *body;      /* owned */
	char *raw;         /* owned (malloc): sent as it is instead of @c body */
	const char *type;  /* static: Content-Type of @c raw */
	const char *allow; /* static: value of an Allow field (405) */
	bool challenge;    /* add WWW-Authenticate: Bearer (401) */
};

struct api_conn;

struct api_listener {
	struct steer_api *api;
	struct evconnlistener *lis;
	bool loopback;
	char *text;
};

struct steer_api {
	struct event_base *base;
	struct event *ev_stop;
	struct api_listener *lis;
	size_t n_lis;
	struct api_conn *conns;
	size_t n_conns;
	pthread_t thread;
	bool started;
	char *token; /* NULL: none configured */
	size_t token_len;
	bool public_read;
	char *state_path; /* NULL: no history */
	struct steer_cpus cpus;
	const struct steer_api_ops *ops;
	struct timeval io_timeout;
	struct timeval linger;
	uint32_t max_conns;
	struct steer_store_reader *reader; /* opened on first use, on the API thread */
};

/* parse.c */

/**
 * Parse the request head in req->head (@p len bytes, ending with the blank line).
 * @return 0, or an HTTP status (400, 411, 413, 417, 505) with @p f->msg filled.
 */
int api_parse_head(struct api_req *req, size_t len, struct api_fail *f);

/** True if @p s[0..len) is valid UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
bool api_utf8_valid(const char *s, size_t len);

/**
 * Parse "<digits>[s|m|h|d]" (1 to 10 digits). @p n receives the number, @p mult the
 * seconds per unit (0 when there is no suffix). @return 0 or -1.
 */
int api_parse_amount(const char *s, uint64_t *n, uint64_t *mult);

/* route.c */

/**
 * Answer @p req, which arrived on a listener that is loopback or not.
 * Context: the API thread.
 */
void api_route(struct steer_api *api, const struct api_req *req, bool loopback,
	       struct api_resp *resp);

/** Set @p resp to @p status with {"error": message}. */
void api_fail_resp(struct api_resp *resp, int status, const char *fmt, ...) STEER_PRINTF(3, 4);

/** The query parameter @p key of @p req, or NULL. */
const char *api_param(const struct api_req *req, const char *key);

/** Constant-time comparison of @p a (length @p alen) and @p b (length @p blen). */
bool api_token_equal(const char *a, size_t alen, const char *b, size_t blen);

/* history.c */

/** GET /v1/origins/{pool}/{origin}/history. */
void api_history(struct steer_api *api, const struct api_req *req, struct api_resp *resp);

/** GET /v1/events. */
void api_events(struct steer_api *api, const struct api_req *req, struct api_resp *resp);

/* http.c */

/** evconnlistener callback: accept a connection (or close it at once over max_conns). */
void api_on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
		   void *arg);

/** Close and free every connection. Context: the API thread, or after it was joined. */
void api_conns_free(struct steer_api *api);

#endif
