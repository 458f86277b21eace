/*
 * Notifier internals shared by notify.c (queue, thread, scheduling, outbox), send.c
 * (HTTP and SMTP over the curl multi handle) and exec.c (exec targets). Only lib/notify/
 * includes this header. Everything below the queue belongs to the notifier thread.
 */
#ifndef STEER_NOTIFY_NOTIFY_INT_H
#define STEER_NOTIFY_NOTIFY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "notify/notify.h"
#include "store/outbox.h"

#define NOTIFY_QUEUE_MAX 65536 /* events waiting for the outbox */
#define NOTIFY_BATCH_MAX 100   /* events in one message, at most */
#define NOTIFY_ERR_MAX   256

/** A test request waited for by steer_notify_test(); shared, reference-counted. */
struct ntest {
	int refs;   /* under n->mu */
	int64_t id; /* outbox id once added; 0 before */
};

/** One queued event: its JSON, waiting for the outbox. */
struct nitem {
	struct nitem *next;
	uint32_t kind;
	int64_t time_ms;
	char *target;       /* test events for one target; NULL = every target */
	struct ntest *test; /* a test request to tell the id (a reference), or NULL */
	char body[];
};

enum ntarget_state {
	NT_IDLE,
	NT_BUSY, /* a message is in flight */
	NT_MARK, /* delivered, but the outbox mark failed: retry the mark, never the send */
};

/** What steer_notify_test() can see of a target (under n->mu). */
struct nstatus {
	int64_t delivered;
	uint64_t failures;
	uint64_t sent;     /* events delivered since start */
	uint64_t failed;   /* failed attempts since start */
	uint64_t given_up; /* events dropped after max_age */
	char error[NOTIFY_ERR_MAX];
};

/** One target and its delivery state (notifier thread). */
struct ntarget {
	struct steer_notify *n;
	struct steer_notify_target conf;
	size_t idx;
	bool known;               /* delivered/sending were read from the outbox */
	int64_t delivered;        /* outbox id up to which this target is done */
	int64_t sending;          /* a message up to this id was started (0: none) */
	uint64_t scanned_gen;     /* n->gen at the last scan that found nothing */
	int64_t pending_since_ms; /* monotonic: first sight of what is pending; 0 none */
	bool urgent;              /* a test event is pending: no coalescing wait */
	enum ntarget_state state;
	int64_t next_try_ms; /* monotonic */
	uint32_t backoff_ms;
	uint64_t failures; /* failed attempts in a row */
	int64_t batch_last;
	int64_t batch_oldest_ms; /* wall clock of the oldest event in flight */
	struct steer_notify_payload pl;
	/* HTTP/SMTP (send.c) */
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *rcpt;
	size_t upload_off;
	char curl_err[CURL_ERROR_SIZE];
	/* exec (exec.c) */
	pid_t pid;
	int stdin_fd;
	struct event *wev;
	size_t written;
	int64_t deadline_ms; /* monotonic */
	bool killed;
};

struct steer_notify {
	struct steer_notify_opts opts; /* copied; conf points at @c conf */
	struct steer_notify_conf conf;
	char *state_path;
	pthread_t thread;
	bool running;

	pthread_mutex_t mu; /* the queue, the stop flag, status and test requests */
	pthread_cond_t cond;
	struct nitem *head, *tail;
	size_t n_queued;
	uint64_t dropped;
	int64_t next_drop_log_ms;
	bool stop;
	struct nstatus status[STEER_NOTIFY_MAX];

	/* notifier thread */
	struct event_base *base;
	struct event *wake;  /* event_active() from publishers */
	struct event *timer; /* the tick */
	struct steer_outbox *ob;
	int64_t next_open_ms;
	int64_t next_prune_ms;
	int64_t next_err_log_ms;
	uint64_t gen;          /* bumped whenever events are added to the outbox */
	struct nitem *unsaved; /* taken from the queue, not yet in the outbox */
	struct ntarget t[STEER_NOTIFY_MAX];
	int64_t stop_deadline_ms; /* monotonic; 0 while running */
	CURLM *multi;
	struct event *curl_timer;
	struct nsock *socks;
};

/** One socket libcurl asked to watch (send.c). */
struct nsock {
	struct steer_notify *n;
	struct event *ev;
	struct nsock *prev, *next;
};

/** Set up the multi handle on n->base. @return 0 or STEER_EIO. */
int notify_http_init(struct steer_notify *n);
/** Abort transfers in flight and free the multi handle (idempotent). */
void notify_http_fini(struct steer_notify *n);
/** Start sending t->pl over HTTP(S) or SMTP. @return 0, or <0 with @p why filled. */
int notify_http_send(struct ntarget *t, char *why, size_t size);
/** Abort @p t's transfer, if any (no completion is reported). */
void notify_http_abort(struct ntarget *t);

/** Start the exec target with t->pl on its stdin. @return 0, or <0 with @p why filled. */
int notify_exec_send(struct ntarget *t, char *why, size_t size);
/** Reap or kill @p t's child (tick); reports completion through notify_done(). */
void notify_exec_poll(struct ntarget *t, int64_t now_ms);
/** Kill and reap @p t's child, if any (no completion is reported). */
void notify_exec_abort(struct ntarget *t);

/**
 * A message to @p t finished: @p ok, or failed with @p why. Marks the outbox or
 * schedules the retry. Context: notifier thread.
 */
void notify_done(struct ntarget *t, bool ok, const char *why);

#endif
