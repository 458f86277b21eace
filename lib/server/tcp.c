/*
 * DNS over TCP (RFC 7766) on its own thread and event_base, so a slow or hostile TCP
 * client never delays UDP answers: length-prefixed messages, pipelined queries answered
 * in order, back-pressure on unread answers, and slots that idle clients cannot hold
 * (RFC 7766 §6.2.3): a first-query timeout, an idle timeout that shrinks when slots run
 * short, a full table that closes its idlest connection for a newcomer, and a limit per
 * client address. Each read answers every complete message it brought and sends all the
 * answers with one send(2); a write event is armed only when the socket cannot take
 * everything.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "config/config.h"
#define STEER_LOG_SRC "tcp"
#include "core/log.h"
#include "core/thread.h"
#include "dns/wire.h"
#include "server/server_int.h"
#include "steer/steer.h"
#include "zone/zone.h"

#define IN_MAX   (2 + STEER_DNS_TCP_MAX) /* one whole message fits */
#define IN_FIRST 4096
#define OUT_HIGH (256 * 1024) /* stop reading while this much output is unsent */

/* More than 3/4 of tcp.max_clients open: idle connections get at most this long. */
#define BUSY_IDLE_MS 1000
/* A full table closes a connection that has asked something for a newcomer only once it
 * has been idle this long, so a client between two queries of an exchange is not cut. */
#define EVICT_IDLE_MS 250
/* The sweep runs this late, so the coarse clock has surely passed the deadline. */
#define SWEEP_SLACK_MS 10

struct tconn {
	struct steer_tcp *t;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	struct steer_client client;
	bool closing;       /* peer sent EOF: close once the output is flushed */
	bool asked;         /* a complete message arrived: on the used list, not fresh */
	uint64_t active_ms; /* accept, then the last message taken or answer bytes read */
	uint8_t *in;
	size_t in_len;
	size_t in_cap;
	uint8_t *out;
	size_t out_off; /* first unsent byte */
	size_t out_len;
	size_t out_cap;
	struct tconn *prev;
	struct tconn *next;
};

/* Connections ordered by activity: head the latest, tail the idlest. */
struct conn_list {
	struct tconn *head;
	struct tconn *tail;
};

/* Open connections of one client address (tcp.max_per_source); family 0: empty slot. */
struct src_slot {
	struct steer_client addr;
	uint32_t n;
};

struct steer_tcp {
	struct steer_server *srv;
	struct event_base *base;
	struct evconnlistener **lis;
	size_t n_lis;
	struct event *ev_stop; /* made active by steer_tcp_stop() from another thread */
	pthread_t thread;
	bool started;
	size_t n_conns;
	struct conn_list fresh; /* no complete message yet, by accept time */
	struct conn_list used;  /* the others, by the time of their last message */
	struct event *ev_sweep; /* closes expired connections; armed for the first deadline */
	uint64_t sweep_ms;      /* when ev_sweep is due; 0: not armed */
	uint64_t rng;
	struct steer_metrics_thread *ctr; /* the TCP thread's counters */
	/* copied: the config may be replaced by a reload */
	size_t max_clients;
	uint32_t idle_ms;
	uint32_t query_ms;
	uint32_t max_per_source; /* 0: no limit, and no table */
	struct src_slot *src;    /* open addressing, linear probing, at most half full */
	size_t src_mask;
	uint64_t src_seed;
	uint8_t out[2 + STEER_DNS_TCP_MAX];
};

/* CLOCK_MONOTONIC_COARSE: read in the vDSO, no system call on the answer path. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void list_unlink(struct conn_list *l, struct tconn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_push(struct conn_list *l, struct tconn *c)
{
	c->prev = NULL;
	c->next = l->head;
	if (l->head != NULL)
		l->head->prev = c;
	else
		l->tail = c;
	l->head = c;
}

/* Seeded, so slots cannot be aimed at from outside; not a cryptographic hash. */
static size_t src_hash(const struct steer_tcp *t, const struct steer_client *a)
{
	uint64_t w[2];
	uint64_t h = t->src_seed ^ (uint64_t)a->family;

	memcpy(w, a->addr, sizeof(w));
	for (size_t i = 0; i < 2; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	return (size_t)h & t->src_mask;
}

/* The slot of @p a, or the empty slot where it goes (the table is never full). */
static size_t src_find(const struct steer_tcp *t, const struct steer_client *a)
{
	size_t i = src_hash(t, a);

	while (t->src[i].addr.family != 0 && (t->src[i].addr.family != a->family ||
					      memcmp(t->src[i].addr.addr, a->addr, 16) != 0))
		i = (i + 1) & t->src_mask;
	return i;
}

/* Empty slot @p i, moving later entries of its probe run back (no tombstones). */
static void src_remove(struct steer_tcp *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & t->src_mask;
		if (t->src[j].addr.family == 0)
			break;
		k = src_hash(t, &t->src[j].addr);
		/* the entry at j may move to i unless its home k lies cyclically in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			t->src[i] = t->src[j];
			i = j;
		}
	}
	memset(&t->src[i], 0, sizeof(t->src[i]));
}

/* Count one more (@p delta 1) or one fewer (-1) connection from @p a. */
static void src_count(struct steer_tcp *t, const struct steer_client *a, int delta)
{
	size_t i;

	if (t->src == NULL || a->family == 0)
		return;
	i = src_find(t, a);
	if (delta > 0) {
		t->src[i].addr = *a;
		t->src[i].n++;
	} else if (t->src[i].addr.family != 0 && --t->src[i].n == 0) {
		src_remove(t, i);
	}
}

static bool src_is_full(const struct steer_tcp *t, const struct steer_client *a)
{
	size_t i;

	if (t->src == NULL || a->family == 0)
		return false;
	i = src_find(t, a);
	return t->src[i].addr.family != 0 && t->src[i].n >= t->max_per_source;
}

static void conn_free(struct tconn *c)
{
	struct steer_tcp *t = c->t;

	list_unlink(c->asked ? &t->used : &t->fresh, c);
	src_count(t, &c->client, -1);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	close(c->fd);
	free(c->in);
	free(c->out);
	t->n_conns--;
	free(c);
}

/* Close @p c and count why (@p why: one of the STEER_STAT_CLOSED_* reasons). */
static void conn_close(struct tconn *c, enum steer_stat why)
{
	steer_metrics_count(c->t->ctr, why, 1);
	conn_free(c);
}

/* Grow *buf to hold at least @p need bytes (doubling, at most @p max). */
static int grow(uint8_t **buf, size_t *cap, size_t need, size_t first, size_t max)
{
	size_t n = *cap != 0 ? *cap : first;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	if (n < need)
		return -1;
	p = realloc(*buf, n);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* How long a connection may stay idle now: the idle timeout, at most BUSY_IDLE_MS while
 * more than 3/4 of the slots are taken (so they free up while they are needed). */
static uint64_t idle_limit_ms(const struct steer_tcp *t)
{
	if (t->n_conns * 4 > t->max_clients * 3 && t->idle_ms > BUSY_IDLE_MS)
		return BUSY_IDLE_MS;
	return t->idle_ms;
}

static uint64_t query_limit_ms(const struct steer_tcp *t)
{
	uint64_t idle = idle_limit_ms(t);

	return t->query_ms < idle ? t->query_ms : idle;
}

/* When the first connection expires, or 0 if none is open. */
static uint64_t next_deadline_ms(const struct steer_tcp *t)
{
	uint64_t d = 0;

	if (t->fresh.tail != NULL)
		d = t->fresh.tail->active_ms + query_limit_ms(t);
	if (t->used.tail != NULL) {
		uint64_t u = t->used.tail->active_ms + idle_limit_ms(t);

		d = d == 0 || u < d ? u : d;
	}
	return d;
}

/* Arm the sweep for the first deadline unless it is armed for that or earlier already. */
static void sweep_arm(struct steer_tcp *t, uint64_t now)
{
	uint64_t d = next_deadline_ms(t);
	uint64_t wait;
	struct timeval tv;

	if (d == 0 || (t->sweep_ms != 0 && t->sweep_ms <= d))
		return;
	wait = (d > now ? d - now : 0) + SWEEP_SLACK_MS;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	if (event_add(t->ev_sweep, &tv) == 0)
		t->sweep_ms = d;
}

/* Close every expired connection: the lists are ordered, so only their tails are due. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct steer_tcp *t = arg;
	const uint64_t now = now_ms();
	const uint64_t query = query_limit_ms(t); /* the limits as the sweep found them */
	const uint64_t idle = idle_limit_ms(t);

	(void)fd;
	(void)what;
	t->sweep_ms = 0;
	while (t->fresh.tail != NULL && t->fresh.tail->active_ms + query <= now)
		conn_close(t->fresh.tail, STEER_STAT_CLOSED_QUERY_TIMEOUT);
	while (t->used.tail != NULL && t->used.tail->active_ms + idle <= now)
		conn_close(t->used.tail, STEER_STAT_CLOSED_IDLE); /* RFC 7766 §6.2.3 */
	sweep_arm(t, now);
}

/* A complete message arrived, or the client read some of its answers: @p c moves to the
 * head of the used list. */
static void conn_touch(struct tconn *c)
{
	struct steer_tcp *t = c->t;

	c->active_ms = now_ms();
	if (c->asked && t->used.head == c)
		return;
	list_unlink(c->asked ? &t->used : &t->fresh, c);
	c->asked = true;
	list_push(&t->used, c);
}

/* Is @p q a query for an AXFR or IXFR (one question; QTYPE only, the rest is checked by
 * the transfer callback)? */
static bool is_xfr_query(const uint8_t *q, size_t qlen)
{
	size_t off = STEER_DNS_HDR_LEN;
	uint16_t qtype;

	if (qlen < STEER_DNS_HDR_LEN || q[4] != 0 || q[5] != 1)
		return false;
	while (off < qlen && q[off] != 0 && q[off] <= 63)
		off += 1u + q[off];
	if (off + 3 > qlen || q[off] != 0)
		return false;
	qtype = (uint16_t)((q[off + 1] << 8) | q[off + 2]);
	return qtype == STEER_RR_AXFR || qtype == STEER_RR_IXFR;
}

/* A zone transfer message: queued like an answer, up to STEER_SERVER_XFR_OUT_MAX. */
static int conn_emit(void *arg, const uint8_t *msg, size_t len)
{
	struct tconn *c = arg;

	if (len > STEER_DNS_TCP_MAX)
		return -1;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (grow(&c->out, &c->out_cap, c->out_len + len + 2, IN_FIRST, STEER_SERVER_XFR_OUT_MAX) <
	    0)
		return -1;
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += len + 2;
	return 0;
}

/* AXFR and IXFR go to the server's transfer callback. @return 0 when answered, 1 when the
 * zone is to answer it, -1 to close. */
static int conn_xfr(struct tconn *c, const struct steer_zone *zone, const uint8_t *q, size_t qlen)
{
	const struct steer_server *srv = c->t->srv;
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	int rc;

	if (srv->xfr == NULL || !is_xfr_query(q, qlen))
		return 1;
	ss.ss_family = (sa_family_t)c->client.family;
	if (c->client.family == AF_INET)
		memcpy(&v4->sin_addr, c->client.addr, 4);
	else
		memcpy(&v6->sin6_addr, c->client.addr, 16);
	rc = srv->xfr(srv->xfr_arg, zone, q, qlen, (const struct sockaddr *)&ss, conn_emit, c);
	return rc > 0 ? 1 : rc < 0 ? -1 : 0;
}

/* Answer the message of @p qlen bytes at @p q and queue the answer. @return 0 or -1. */
static int conn_answer(struct tconn *c, const uint8_t *q, size_t qlen)
{
	struct steer_tcp *t = c->t;
	struct steer_query_ctx ctx = {
		.client = &c->client, .rng = &t->rng, .tcp = true, .ctr = t->ctr};
	const struct runtime *rt;
	size_t len;
	int rc;

	steer_metrics_count(t->ctr, STEER_STAT_QUERIES, 1);
	steer_qsbr_enter(&t->srv->qsbr, t->srv->n_udp);
	rt = atomic_load(&t->srv->rt);
	ctx.snap = rt->snap;
	ctx.map = rt->map;
	ctx.cookies = atomic_load_explicit(&t->srv->cookies, memory_order_acquire);
	rc = conn_xfr(c, rt->zone, q, qlen);
	if (rc <= 0) {
		steer_qsbr_leave(&t->srv->qsbr, t->srv->n_udp);
		return rc;
	}
	len = steer_server_answer(t->srv, rt->zone, &ctx, q, qlen, t->out + 2, STEER_DNS_TCP_MAX);
	steer_qsbr_leave(&t->srv->qsbr, t->srv->n_udp);
	if (len == 0)
		return 0;
	t->out[0] = (uint8_t)(len >> 8);
	t->out[1] = (uint8_t)len;
	if (c->out_off > 0 && c->out_len + len + 2 > c->out_cap) {
		/* move the unsent rest to the front before growing */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (grow(&c->out, &c->out_cap, c->out_len + len + 2, IN_FIRST, OUT_HIGH + IN_MAX) < 0)
		return -1;
	memcpy(c->out + c->out_len, t->out, len + 2);
	c->out_len += len + 2;
	return 0;
}

/* Answer every complete message in the input buffer, in order. @return 0 or -1. */
static int conn_process(struct tconn *c)
{
	size_t off = 0;

	while (c->in_len - off >= 2 && c->out_len - c->out_off < OUT_HIGH) {
		size_t qlen = (size_t)((c->in[off] << 8) | c->in[off + 1]);

		if (c->in_len - off < 2 + qlen)
			break;
		if (conn_answer(c, c->in + off + 2, qlen) < 0)
			return -1;
		off += 2 + qlen;
	}
	if (off == 0)
		return 0;
	conn_touch(c);
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

/* Send what is queued. @return 0 (all sent or the rest waits for EV_WRITE) or -1. */
static int conn_flush(struct tconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return event_add(c->ev_write, NULL); /* the sweep bounds the wait */
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Read what is there; @return bytes read, 0 on EOF, -1 on error, -2 if nothing to read. */
static ssize_t conn_recv(struct tconn *c)
{
	size_t want = c->in_len + 2;
	ssize_t n;

	if (c->in_len >= 2)
		want = c->in_len + 2 + ((size_t)((c->in[0] << 8) | c->in[1]));
	if (grow(&c->in, &c->in_cap, want < IN_FIRST ? IN_FIRST : want, IN_FIRST, IN_MAX) < 0)
		return -1;
	do {
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	c->in_len += (size_t)n;
	return n;
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tconn *c = arg;
	ssize_t n;

	(void)fd;
	(void)what;
	n = conn_recv(c);
	if (n == -2)
		return;
	if (n < 0 || conn_process(c) < 0 || conn_flush(c) < 0) {
		conn_close(c, STEER_STAT_CLOSED_ERROR);
		return;
	}
	if (n == 0) {
		/* half-close: answers already queued still go out, then the connection closes */
		c->closing = true;
		event_del(c->ev_read);
		if (c->out_len == 0)
			conn_close(c, STEER_STAT_CLOSED_CLIENT);
		return;
	}
	if (c->out_len - c->out_off >= OUT_HIGH)
		event_del(c->ev_read); /* the client is not reading its answers */
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tconn *c = arg;

	const size_t unsent = c->out_len - c->out_off;

	(void)fd;
	(void)what;
	if (conn_flush(c) < 0) {
		conn_close(c, STEER_STAT_CLOSED_ERROR);
		return;
	}
	/* the client takes its answers: a connection still being answered is not idle, so a
	 * transfer larger than the socket buffers reaches a slow secondary whole, while one
	 * that stops reading is still closed once idle (RFC 7766 §6.2.3) */
	if (c->out_len - c->out_off < unsent)
		conn_touch(c);
	if (c->out_len != 0)
		return; /* conn_flush re-armed the write event */
	if (c->closing) {
		conn_close(c, STEER_STAT_CLOSED_CLIENT);
		return;
	}
	/* drained: answer what piled up while reading was paused, then read again */
	if (conn_process(c) < 0 || conn_flush(c) < 0) {
		conn_close(c, STEER_STAT_CLOSED_ERROR);
		return;
	}
	if (c->out_len - c->out_off < OUT_HIGH && event_add(c->ev_read, NULL) < 0)
		conn_close(c, STEER_STAT_CLOSED_ERROR);
}

/*
 * Whether a newcomer from @p who may have a slot: not over tcp.max_per_source, and in a
 * full table only by closing the connection that has waited longest for its first query,
 * else the one idle longest if it has been idle EVICT_IDLE_MS (RFC 7766 §6.2.3: the server
 * may close idle connections to make room).
 * @return STEER_STAT_CONNS if admitted, else why not (STEER_STAT_CLOSED_PER_SOURCE, _FULL).
 */
static enum steer_stat conn_admit(struct steer_tcp *t, const struct steer_client *who, uint64_t now)
{
	struct tconn *victim = t->fresh.tail;

	if (src_is_full(t, who))
		return STEER_STAT_CLOSED_PER_SOURCE;
	if (t->n_conns < t->max_clients)
		return STEER_STAT_CONNS;
	if (victim == NULL && t->used.tail != NULL &&
	    now - t->used.tail->active_ms >= EVICT_IDLE_MS)
		victim = t->used.tail;
	if (victim == NULL)
		return STEER_STAT_CLOSED_FULL;
	conn_close(victim, STEER_STAT_CLOSED_EVICTED);
	return STEER_STAT_CONNS;
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct steer_tcp *t = arg;
	const uint64_t now = now_ms();
	struct steer_client who;
	enum steer_stat admit;
	struct tconn *c;

	(void)lis;
	(void)salen;
	steer_server_client(&who, sa);
	admit = conn_admit(t, &who, now);
	if (admit != STEER_STAT_CONNS) {
		close(fd); /* refuse rather than queue */
		steer_metrics_count(t->ctr, STEER_STAT_CONNS_REFUSED, 1);
		steer_metrics_count(t->ctr, admit, 1);
		return;
	}
	steer_metrics_count(t->ctr, STEER_STAT_CONNS, 1);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		steer_metrics_count(t->ctr, STEER_STAT_CLOSED_ERROR, 1);
		return;
	}
	c->t = t;
	c->fd = fd;
	c->client = who;
	c->active_ms = now;
	/* all answers of one read already leave in one send(2); Nagle would only hold the
	 * next batch back until the client acknowledges the last (pipelined queries) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	list_push(&t->fresh, c);
	t->n_conns++;
	src_count(t, &who, 1);
	c->ev_read = event_new(t->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(t->base, fd, EV_WRITE, conn_on_write, c);
	if (c->ev_read == NULL || c->ev_write == NULL || event_add(c->ev_read, NULL) < 0) {
		conn_close(c, STEER_STAT_CLOSED_ERROR);
		return;
	}
	sweep_arm(t, now);
}

/* Runs on the TCP thread, inside its loop: the break cannot be cleared by a loop start. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct steer_tcp *t = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(t->base);
}

/* The per-source table for @p max_per_source (0: none), twice the size of the connection
 * table so it is never more than half full. @return 0 or -1. */
static int src_table_new(struct steer_tcp *t, uint32_t max_per_source)
{
	size_t n = 16;

	t->max_per_source = max_per_source;
	if (max_per_source == 0)
		return 0;
	while (n < 2 * t->max_clients)
		n *= 2;
	t->src = calloc(n, sizeof(*t->src));
	if (t->src == NULL)
		return -1;
	t->src_mask = n - 1;
	t->src_seed = steer_server_seed();
	return 0;
}

int steer_tcp_new(struct steer_server *srv, struct steer_tcp **out, struct steer_err *err)
{
	const struct steer_config *cfg = srv->cfg;
	/* accepted sockets are non-blocking (LEV_OPT_LEAVE_SOCKETS_BLOCKING is not set) */
	const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	struct steer_tcp *t = calloc(1, sizeof(*t));
	int rc = STEER_ENOMEM;

	if (t == NULL)
		return STEER_ENOMEM;
	t->srv = srv;
	t->ctr = steer_metrics_thread(srv->metrics, srv->n_udp);
	t->max_clients = cfg->tcp_max_clients;
	t->idle_ms = cfg->tcp_idle_timeout_ms;
	t->query_ms = cfg->tcp_query_timeout_ms;
	if (src_table_new(t, cfg->tcp_max_per_source) < 0 || evthread_use_pthreads() < 0)
		goto out;
	t->base = event_base_new();
	t->lis = calloc(cfg->n_listen, sizeof(*t->lis));
	if (t->base == NULL || t->lis == NULL)
		goto out;
	t->ev_stop = event_new(t->base, -1, 0, on_stop, t);
	t->ev_sweep = evtimer_new(t->base, on_sweep, t);
	if (t->ev_stop == NULL || t->ev_sweep == NULL)
		goto out;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct steer_listen *l = &cfg->listen[i];
		unsigned f = flags | (l->ss.ss_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0);
		char eb[128];

		t->lis[i] = evconnlistener_new_bind(t->base, on_accept, t, f, 64,
						    (const struct sockaddr *)&l->ss, (int)l->len);
		if (t->lis[i] == NULL) {
			rc = steer_err_set(err, -errno, "tcp bind %s: %s", l->text,
					   steer_errno_str(errno, eb, sizeof(eb)));
			goto out;
		}
		t->n_lis++;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	steer_tcp_free(t);
	return rc;
}

static void *tcp_main(void *arg)
{
	struct steer_tcp *t = arg;

	steer_thread_name("steer-tcp");

	t->rng = steer_server_seed();
	event_base_dispatch(t->base);
	return NULL;
}

int steer_tcp_start(struct steer_tcp *t, const struct steer_cpus *cpus, struct steer_err *err)
{
	int rc = steer_thread_start(&t->thread, cpus, 0, "tcp", tcp_main, t);
	char eb[128];

	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the tcp thread%s: %s",
				     cpus->n != 0 ? " (affinity.dns)" : "",
				     steer_errno_str(-rc, eb, sizeof(eb)));
	t->started = true;
	return 0;
}

void steer_tcp_stop(struct steer_tcp *t)
{
	if (t == NULL || !t->started)
		return;
	/*
	 * Not event_base_loopbreak() from here: it only sets a flag, which the loop clears when
	 * it starts, so a stop right after start (the thread not yet in event_base_dispatch())
	 * would be lost and the join would wait forever. A stop flag tested by the thread before
	 * its loop has the same gap between the test and the loop start. An active event stays
	 * queued until the loop runs it, however late the loop starts, and breaks the loop
	 * from inside. event_base_loopexit() would survive too (it queues a zero timer), but
	 * it allocates and can fail; event_active() cannot. It is safe from this thread:
	 * evthread_use_pthreads() ran before the base was made, so the base is locked and its
	 * loop woken.
	 */
	event_active(t->ev_stop, EV_TIMEOUT, 0);
	pthread_join(t->thread, NULL);
	t->started = false;
}

void steer_tcp_free(struct steer_tcp *t)
{
	if (t == NULL)
		return;
	steer_tcp_stop(t);
	while (t->fresh.head != NULL)
		conn_free(t->fresh.head);
	while (t->used.head != NULL)
		conn_free(t->used.head);
	for (size_t i = 0; i < t->n_lis; i++)
		evconnlistener_free(t->lis[i]);
	free(t->lis);
	free(t->src);
	if (t->ev_stop != NULL)
		event_free(t->ev_stop);
	if (t->ev_sweep != NULL)
		event_free(t->ev_sweep);
	if (t->base != NULL)
		event_base_free(t->base);
	free(t);
}
