/*
 * DNS over TCP (RFC 7766) on its own thread and event_base, so a slow or hostile TCP
 * client never delays UDP answers: length-prefixed messages, pipelined queries answered
 * in order, an idle timeout, a connection limit, and back-pressure on unread answers.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
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

#define OUT_HIGH (256 * 1024) /* stop reading while this much output is unsent */

struct tconn {
	struct steer_tcp *t;
	struct bufferevent *bev;
	struct steer_client client;
	bool closing; /* peer sent EOF: close once the output is flushed */
	struct tconn *prev;
	struct tconn *next;
};

struct steer_tcp {
	struct steer_server *srv;
	struct event_base *base;
	struct evconnlistener **lis;
	size_t n_lis;
	pthread_t thread;
	bool started;
	size_t n_conns;
	struct tconn *conns;
	uint64_t rng;
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
	bufferevent_free(c->bev);
	t->n_conns--;
	free(c);
}

/* Answer one complete message at the head of @p in. @return false if none is complete. */
static bool conn_answer_one(struct tconn *c, struct evbuffer *in)
{
	struct steer_tcp *t = c->t;
	struct steer_query_ctx ctx = {.client = &c->client, .rng = &t->rng, .tcp = true};
	const struct runtime *rt;
	uint8_t pfx[2];
	size_t qlen, len;
	const uint8_t *q;

	if (evbuffer_copyout(in, pfx, 2) != 2)
		return false;
	qlen = (size_t)((pfx[0] << 8) | pfx[1]);
	if (evbuffer_get_length(in) < 2 + qlen)
		return false;
	q = evbuffer_pullup(in, (ev_ssize_t)(2 + qlen));
	if (q == NULL)
		return false;
	steer_qsbr_enter(&t->srv->qsbr, t->srv->n_udp);
	rt = atomic_load(&t->srv->rt);
	ctx.snap = rt->snap;
	len = steer_zone_answer(rt->zone, &ctx, q + 2, qlen, t->out + 2, STEER_DNS_TCP_MAX);
	steer_qsbr_leave(&t->srv->qsbr, t->srv->n_udp);
	evbuffer_drain(in, 2 + qlen);
	if (len > 0) {
		t->out[0] = (uint8_t)(len >> 8);
		t->out[1] = (uint8_t)len;
		bufferevent_write(c->bev, t->out, len + 2);
	}
	return true;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct tconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (evbuffer_get_length(bufferevent_get_output(bev)) < OUT_HIGH &&
	       conn_answer_one(c, in))
		;
	if (evbuffer_get_length(bufferevent_get_output(bev)) >= OUT_HIGH)
		bufferevent_disable(bev, EV_READ); /* the client is not reading its answers */
}

static void conn_write(struct bufferevent *bev, void *arg)
{
	struct tconn *c = arg;

	if (c->closing) {
		conn_free(c);
		return;
	}
	if ((bufferevent_get_enabled(bev) & EV_READ) == 0) {
		bufferevent_enable(bev, EV_READ);
		conn_read(bev, arg);
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct tconn *c = arg;

	if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_ERROR) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		c->closing = true; /* half-close: deliver the answers first */
		bufferevent_disable(bev, EV_READ);
		return;
	}
	conn_free(c); /* EOF, error, or idle timeout (RFC 7766 §6.2.3) */
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
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->t = t;
	steer_server_client(&c->client, sa);
	c->bev = bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->next = t->conns;
	if (t->conns != NULL)
		t->conns->prev = c;
	t->conns = c;
	t->n_conns++;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_set_timeouts(c->bev, &t->idle, &t->idle);
	bufferevent_enable(c->bev, EV_READ);
}

int steer_tcp_new(struct steer_server *srv, struct steer_tcp **out, struct steer_err *err)
{
	const struct steer_config *cfg = srv->cfg;
	const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	struct steer_tcp *t = calloc(1, sizeof(*t));
	int rc = STEER_ENOMEM;

	if (t == NULL)
		return STEER_ENOMEM;
	t->srv = srv;
	t->max_clients = cfg->tcp_max_clients;
	t->idle.tv_sec = cfg->tcp_idle_timeout_ms / 1000;
	t->idle.tv_usec = (cfg->tcp_idle_timeout_ms % 1000) * 1000;
	if (evthread_use_pthreads() < 0)
		goto out;
	t->base = event_base_new();
	t->lis = calloc(cfg->n_listen, sizeof(*t->lis));
	if (t->base == NULL || t->lis == NULL)
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

int steer_tcp_start(struct steer_tcp *t, struct steer_err *err)
{
	int rc = pthread_create(&t->thread, NULL, tcp_main, t);

	if (rc != 0)
		return steer_err_set(err, -rc, "cannot start the tcp thread");
	t->started = true;
	return 0;
}

void steer_tcp_stop(struct steer_tcp *t)
{
	if (t == NULL || !t->started)
		return;
	event_base_loopbreak(t->base);
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
	if (t->base != NULL)
		event_base_free(t->base);
	free(t);
}
