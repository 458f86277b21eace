/*
 * The HTTP connection layer on libevent bufferevents: one request per connection, read
 * whole within io_timeout_ms (head <= 8 KiB, body <= 64 KiB by Content-Length), routed,
 * answered with JSON and Connection: close. After the answer is sent the write side is
 * shut and unread input is dropped for a short while ("lingering close"): closing with
 * unread data would send a RST that can destroy the answer before the client reads it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "api/api_int.h"
#define STEER_LOG_SRC "api"
#include "core/log.h"

enum conn_state {
	CONN_HEAD,   /* reading the request line and header fields */
	CONN_BODY,   /* reading Content-Length bytes */
	CONN_WRITE,  /* sending the response */
	CONN_LINGER, /* response sent, write side shut: dropping input until EOF */
};

struct api_conn {
	struct steer_api *api;
	const struct api_listener *lis;
	struct bufferevent *bev;
	struct event *timer; /* deadline of the current phase */
	enum conn_state state;
	size_t dropped; /* bytes dropped while lingering */
	struct api_conn *prev;
	struct api_conn *next;
	struct api_req req;
};

static void conn_free(struct api_conn *c)
{
	struct steer_api *api = c->api;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	api->n_conns--;
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->bev != NULL)
		bufferevent_free(c->bev); /* closes the socket */
	free(c->req.body);
	free(c);
}

void api_conns_free(struct steer_api *api)
{
	struct api_conn *next;

	for (struct api_conn *c = api->conns; c != NULL; c = next) {
		next = c->next;
		conn_free(c);
	}
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* Queue the response (takes resp->body) and wait for it to drain. */
static void respond(struct api_conn *c, struct api_resp *resp)
{
	static const char oom[] = "{\"error\":\"out of memory\"}";
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *text = resp->raw != NULL    ? resp->raw
		     : resp->body != NULL ? json_dumps(resp->body, JSON_COMPACT)
					  : NULL;
	const char *body = text != NULL ? text : oom;
	const char *type = text != NULL && resp->raw != NULL ? resp->type : "application/json";
	const int status = text != NULL ? resp->status : 500;
	const size_t len = strlen(body);
	int rc;

	json_decref(resp->body);
	resp->body = NULL;
	resp->raw = NULL; /* text owns it now */
	bufferevent_disable(c->bev, EV_READ);
	rc = evbuffer_add_printf(
		out,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n"
		"Cache-Control: no-store\r\n%s%s%s%s\r\n",
		status, reason_phrase(status), type, len + 1, resp->allow != NULL ? "Allow: " : "",
		resp->allow != NULL ? resp->allow : "", resp->allow != NULL ? "\r\n" : "",
		resp->challenge && status == 401 ? "WWW-Authenticate: Bearer\r\n" : "");
	if (rc >= 0)
		rc = evbuffer_add(out, body, len);
	if (rc >= 0)
		rc = evbuffer_add(out, "\n", 1);
	free(text);
	c->state = CONN_WRITE;
	if (rc < 0 || evtimer_add(c->timer, &c->api->io_timeout) < 0)
		conn_free(c);
}

static void respond_fail(struct api_conn *c, int status, const char *msg)
{
	struct api_resp resp = {0};

	api_fail_resp(&resp, status, "%s", msg);
	log_debug("listen=%s refused status=%d error=\"%s\"", c->lis->text, status, msg);
	respond(c, &resp);
}

static void dispatch(struct api_conn *c)
{
	struct api_resp resp = {0};

	bufferevent_disable(c->bev, EV_READ);
	api_route(c->api, &c->req, c->lis->loopback, &resp);
	log_debug("listen=%s %s %s status=%d", c->lis->text, c->req.method, c->req.path,
		  resp.status);
	respond(c, &resp);
}

static void read_body(struct api_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const size_t len = (size_t)c->req.length;

	if (evbuffer_get_length(in) < len)
		return;
	if (evbuffer_remove(in, c->req.body, len) != (int)len) {
		conn_free(c);
		return;
	}
	c->req.body[len] = '\0';
	c->req.body_len = len;
	dispatch(c);
}

/* The head is complete at @p len bytes: parse it, then read the body or answer. */
static void got_head(struct api_conn *c, size_t len)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct api_fail f = {0};
	int rc;

	if (evbuffer_remove(in, c->req.head, len) != (int)len) {
		conn_free(c);
		return;
	}
	c->req.head[len] = '\0';
	rc = api_parse_head(&c->req, len, &f);
	if (rc != 0) {
		respond_fail(c, rc, f.msg);
		return;
	}
	if (!c->req.has_length || c->req.length == 0) {
		dispatch(c);
		return;
	}
	c->req.body = malloc((size_t)c->req.length + 1);
	if (c->req.body == NULL) {
		respond_fail(c, 500, "out of memory");
		return;
	}
	c->state = CONN_BODY;
	if (c->req.expect_continue && c->req.minor == 1 &&
	    bufferevent_write(c->bev, cont, sizeof(cont) - 1) < 0) {
		conn_free(c);
		return;
	}
	read_body(c);
}

static void read_head(struct api_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);

	if (end.pos < 0 && evbuffer_get_length(in) < API_HEAD_MAX)
		return; /* not complete yet */
	if (end.pos < 0 || (size_t)end.pos + 4 > API_HEAD_MAX) {
		respond_fail(c, 431, "request line and header fields larger than 8192 bytes");
		return;
	}
	got_head(c, (size_t)end.pos + 4);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct api_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	switch (c->state) {
	case CONN_HEAD:
		read_head(c);
		break;
	case CONN_BODY:
		read_body(c);
		break;
	case CONN_WRITE:
	case CONN_LINGER:
		c->dropped += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->dropped > API_LINGER_BYTES)
			conn_free(c);
		break;
	}
}

/* Output drained: shut the write side (the client sees the end of the response). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct api_conn *c = arg;

	if (c->state != CONN_WRITE)
		return; /* "100 Continue" went out */
	c->state = CONN_LINGER;
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) < 0 || bufferevent_enable(bev, EV_READ) < 0 ||
	    evtimer_add(c->timer, &c->api->linger) < 0)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	/* EOF or an error: before the request is complete nothing is answered */
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0)
		conn_free(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_HEAD || c->state == CONN_BODY)
		log_debug("listen=%s request not complete within io_timeout_ms: closed",
			  c->lis->text);
	conn_free(c);
}

void api_on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
		   void *arg)
{
	struct api_listener *l = arg;
	struct steer_api *api = l->api;
	struct api_conn *c;

	(void)lis;
	(void)sa;
	(void)salen;
	c = api->n_conns < api->max_conns ? calloc(1, sizeof(*c)) : NULL;
	if (c == NULL) {
		log_debug("listen=%s connection refused: %zu open", l->text, api->n_conns);
		close(fd);
		return;
	}
	c->api = api;
	c->lis = l;
	c->next = api->conns;
	if (api->conns != NULL)
		api->conns->prev = c;
	api->conns = c;
	api->n_conns++;
	c->bev = bufferevent_socket_new(api->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(api->base, on_timer, c);
	if (c->bev == NULL) {
		close(fd);
		conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	if (c->timer == NULL || bufferevent_enable(c->bev, EV_READ) < 0 ||
	    evtimer_add(c->timer, &api->io_timeout) < 0)
		conn_free(c);
}
