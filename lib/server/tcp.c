/*
 * DNS over TCP (RFC 7766) on its own thread and event_base, so a slow or hostile TCP
 * client never delays UDP answers: length-prefixed messages, pipelined queries answered
 * in order, an idle timeout, a connection limit, and back-pressure on unread answers.
 * Each read answers every complete message it brought and sends all the answers with one
 * send(2); a write event is armed only when the socket cannot take everything.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

struct tconn {
	struct steer_tcp *t;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	struct steer_client client;
	bool closing; /* peer sent EOF: close once the output is flushed */
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

struct steer_tcp {
	struct steer_server *srv;
	struct event_base *base;
	struct evconnlistener **lis;
	size_t n_lis;
	struct event *ev_stop; /* made active by steer_tcp_stop() from another thread */
	pthread_t thread;
	bool started;
	size_t n_conns;
	struct tconn *conns;
	uint64_t rng;
	struct steer_metrics_thread *ctr; /* the TCP thread's counters */
	struct timeval idle;
	size_t max_clients; /* copied: the config may be replaced by a reload */
	uint8_t out[2 + STEER_DNS_TCP_MAX];
};

static void conn_free(struct tconn *c)
{
	struct steer_tcp *t = c->t;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
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

/* Answer the message of @p qlen bytes at @p q and queue the answer. @return 0 or -1. */
static int conn_answer(struct tconn *c, const uint8_t *q, size_t qlen)
{
	struct steer_tcp *t = c->t;
	struct steer_query_ctx ctx = {
		.client = &c->client, .rng = &t->rng, .tcp = true, .ctr = t->ctr};
	const struct runtime *rt;
	size_t len;

	steer_metrics_count(t->ctr, STEER_STAT_QUERIES, 1);
	steer_qsbr_enter(&t->srv->qsbr, t->srv->n_udp);
	rt = atomic_load(&t->srv->rt);
	ctx.snap = rt->snap;
	ctx.map = rt->map;
	len = steer_zone_answer(rt->zone, &ctx, q, qlen, t->out + 2, STEER_DNS_TCP_MAX);
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
			return event_add(c->ev_write, &c->t->idle);
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
	if ((what & EV_TIMEOUT) != 0) {
		conn_free(c); /* idle (RFC 7766 §6.2.3) */
		return;
	}
	n = conn_recv(c);
	if (n == -2)
		return;
	if (n < 0 || conn_process(c) < 0 || conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	if (n == 0) {
		/* half-close: answers already queued still go out, then the connection closes */
		c->closing = true;
		event_del(c->ev_read);
		if (c->out_len == 0)
			conn_free(c);
		return;
	}
	if (c->out_len - c->out_off >= OUT_HIGH)
		event_del(c->ev_read); /* the client is not reading its answers */
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tconn *c = arg;

	(void)fd;
	if ((what & EV_TIMEOUT) != 0 || conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	if (c->out_len != 0)
		return; /* conn_flush re-armed the write event */
	if (c->closing) {
		conn_free(c);
		return;
	}
	/* drained: answer what piled up while reading was paused, then read again */
	if (conn_process(c) < 0 || conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	if (c->out_len - c->out_off < OUT_HIGH && event_add(c->ev_read, &c->t->idle) < 0)
		conn_free(c);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct steer_tcp *t = arg;
	struct tconn *c;

	(void)lis;
	(void)salen;
	if (t->n_conns >= t->max_clients) {
		close(fd); /* over the limit: refuse rather than queue */
		steer_metrics_count(t->ctr, STEER_STAT_CONNS_REFUSED, 1);
		return;
	}
	steer_metrics_count(t->ctr, STEER_STAT_CONNS, 1);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->t = t;
	c->fd = fd;
	/* all answers of one read already leave in one send(2); Nagle would only hold the
	 * next batch back until the client acknowledges the last (pipelined queries) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	steer_server_client(&c->client, sa);
	c->next = t->conns;
	if (t->conns != NULL)
		t->conns->prev = c;
	t->conns = c;
	t->n_conns++;
	c->ev_read = event_new(t->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(t->base, fd, EV_WRITE, conn_on_write, c);
	if (c->ev_read == NULL || c->ev_write == NULL || event_add(c->ev_read, &t->idle) < 0)
		conn_free(c);
}

/* Runs on the TCP thread, inside its loop: the break cannot be cleared by a loop start. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct steer_tcp *t = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(t->base);
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
	t->idle.tv_sec = cfg->tcp_idle_timeout_ms / 1000;
	t->idle.tv_usec = (cfg->tcp_idle_timeout_ms % 1000) * 1000;
	if (evthread_use_pthreads() < 0)
		goto out;
	t->base = event_base_new();
	t->lis = calloc(cfg->n_listen, sizeof(*t->lis));
	if (t->base == NULL || t->lis == NULL)
		goto out;
	t->ev_stop = event_new(t->base, -1, 0, on_stop, t);
	if (t->ev_stop == NULL)
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
	while (t->conns != NULL)
		conn_free(t->conns);
	for (size_t i = 0; i < t->n_lis; i++)
		evconnlistener_free(t->lis[i]);
	free(t->lis);
	if (t->ev_stop != NULL)
		event_free(t->ev_stop);
	if (t->base != NULL)
		event_base_free(t->base);
	free(t);
}
