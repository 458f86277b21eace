/*
 * TCP probes on the prober's event_base: a non-blocking connect (hostname origins are
 * resolved with evdns and every address is tried in turn), then optionally `send` is
 * written and the reply read until `expect` appears, all under one deadline per attempt.
 */
#define STEER_LOG_SRC "monitor"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "config/config.h"
#include "core/log.h"
#include "monitor/monitor_int.h"

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Close the attempt's socket and forget its addresses; the slot is idle afterwards. */
static void tcp_end(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;

	if (t->io != NULL)
		event_del(t->io);
	if (t->deadline != NULL)
		event_del(t->deadline);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	/* the request's callback still runs later, with EVUTIL_EAI_CANCEL */
	if (t->dns_req != NULL)
		evdns_getaddrinfo_cancel(t->dns_req);
	t->dns_req = NULL;
	if (t->ai_head != NULL)
		evutil_freeaddrinfo(t->ai_head);
	t->ai_head = NULL;
	t->ai_next = NULL;
	free(t->rbuf);
	t->rbuf = NULL;
	t->rlen = 0;
	t->phase = MON_TCP_IDLE;
}

static void tcp_finish(struct mon_slot *s, bool ok, const char *reason)
{
	tcp_end(s);
	mon_attempt_done(s, ok, 0, reason);
}

static void tcp_fail_errno(struct mon_slot *s, const char *what, int e)
{
	char buf[128], reason[STEER_REASON_MAX];

	if (e == ECONNREFUSED)
		mon_reason(reason, sizeof(reason), "connect refused");
	else
		mon_reason(reason, sizeof(reason), "%s: %s", what,
			   steer_errno_str(e, buf, sizeof(buf)));
	tcp_finish(s, false, reason);
}

static void reply_lacks(struct mon_slot *s)
{
	char reason[STEER_REASON_MAX];

	mon_reason(reason, sizeof(reason), "tcp: reply lacks \"%s\"", s->mon->expect);
	tcp_finish(s, false, reason);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mon_slot *s = arg;
	char reason[STEER_REASON_MAX];

	(void)fd;
	(void)what;
	/* a reply arrived but never contained `expect`: say so rather than "timeout" */
	if (s->tcp.phase == MON_TCP_READING && s->tcp.rlen > 0) {
		reply_lacks(s);
		return;
	}
	mon_reason(reason, sizeof(reason), "timeout after %u ms", s->mon->timeout_ms);
	tcp_finish(s, false, reason);
}

static int watch(struct mon_slot *s, short what)
{
	struct mon_tcp *t = &s->tcp;

	event_del(t->io);
	if (event_assign(t->io, s->p->base, t->fd, what, on_io, s) < 0)
		return -1;
	return event_add(t->io, NULL);
}

static void tcp_read_more(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;
	size_t overlap = strlen(s->mon->expect);

	for (;;) {
		size_t from = t->rlen > overlap ? t->rlen - overlap : 0;
		ssize_t n = recv(t->fd, t->rbuf + t->rlen, MON_READ_MAX - t->rlen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			tcp_fail_errno(s, "tcp: recv", errno);
			return;
		}
		if (n == 0) {
			reply_lacks(s);
			return;
		}
		t->rlen += (size_t)n;
		if (mon_contains(t->rbuf + from, t->rlen - from, s->mon->expect, false)) {
			tcp_finish(s, true, NULL);
			return;
		}
		if (t->rlen >= MON_READ_MAX) {
			reply_lacks(s);
			return;
		}
	}
}

static void tcp_reading(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;

	if (s->mon->expect == NULL) {
		tcp_finish(s, true, NULL);
		return;
	}
	t->phase = MON_TCP_READING;
	t->rbuf = malloc(MON_READ_MAX);
	if (t->rbuf == NULL || watch(s, EV_READ | EV_PERSIST) < 0)
		tcp_finish(s, false, "tcp: out of memory");
}

static void tcp_send_more(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;
	const char *msg = s->mon->send;
	size_t len = strlen(msg);

	while (t->sent < len) {
		ssize_t n = send(t->fd, msg + t->sent, len - t->sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (watch(s, EV_WRITE) < 0)
				tcp_finish(s, false, "tcp: out of memory");
			return;
		}
		if (n < 0) {
			tcp_fail_errno(s, "tcp: send", errno);
			return;
		}
		t->sent += (size_t)n;
	}
	tcp_reading(s);
}

static void tcp_connected(struct mon_slot *s)
{
	s->tcp.sent = 0;
	if (s->mon->send != NULL && s->mon->send[0] != '\0') {
		s->tcp.phase = MON_TCP_SENDING;
		tcp_send_more(s);
		return;
	}
	tcp_reading(s);
}

/* The next address to try, or NULL when none is left. */
static const struct sockaddr *next_addr(struct mon_slot *s, socklen_t *len)
{
	struct mon_tcp *t = &s->tcp;

	if (s->origin->is_ip) {
		if (t->ip_tried)
			return NULL;
		t->ip_tried = true;
		*len = t->ip_len;
		return (const struct sockaddr *)&t->ip;
	}
	while (t->ai_next != NULL) {
		const struct evutil_addrinfo *ai = t->ai_next;

		t->ai_next = ai->ai_next;
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
			*len = (socklen_t)ai->ai_addrlen;
			return ai->ai_addr;
		}
	}
	return NULL;
}

/* @return 0 connected, 1 in progress, or a negative errno (socket closed). */
static int try_connect(struct mon_slot *s, const struct sockaddr *sa, socklen_t len)
{
	struct mon_tcp *t = &s->tcp;
	int e;

	t->fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (t->fd < 0)
		return -errno;
	if (fcntl(t->fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(t->fd, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	if (connect(t->fd, sa, len) == 0)
		return 0;
	if (errno == EINPROGRESS)
		return 1;
fail:
	e = errno;
	close(t->fd);
	t->fd = -1;
	return -e;
}

/* Connect to the next address; when none is left, fail with the last error. */
static void tcp_connect_next(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;
	char reason[STEER_REASON_MAX];

	for (;;) {
		socklen_t len = 0;
		const struct sockaddr *sa = next_addr(s, &len);
		int rc;

		if (sa == NULL)
			break;
		rc = try_connect(s, sa, len);
		if (rc == 0) {
			tcp_connected(s);
			return;
		}
		if (rc > 0) {
			t->phase = MON_TCP_CONNECTING;
			if (watch(s, EV_WRITE) < 0)
				tcp_finish(s, false, "tcp: out of memory");
			return;
		}
		t->last_errno = -rc;
	}
	if (t->last_errno != 0) {
		tcp_fail_errno(s, "connect", t->last_errno);
		return;
	}
	mon_reason(reason, sizeof(reason), "dns: cannot resolve %s", s->origin->address);
	tcp_finish(s, false, reason);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct mon_slot *s = arg;
	int e = 0;
	socklen_t len = sizeof(e);

	(void)what;
	switch (s->tcp.phase) {
	case MON_TCP_CONNECTING:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e == 0) {
			tcp_connected(s);
			break;
		}
		s->tcp.last_errno = e;
		close(s->tcp.fd);
		s->tcp.fd = -1;
		tcp_connect_next(s);
		break;
	case MON_TCP_SENDING:
		tcp_send_more(s);
		break;
	case MON_TCP_READING:
		tcp_read_more(s);
		break;
	default:
		break;
	}
}

static void on_dns(int result, struct evutil_addrinfo *res, void *arg)
{
	struct mon_slot *s = arg;
	char reason[STEER_REASON_MAX];

	if (result == EVUTIL_EAI_CANCEL) {
		/* tcp_end() gave the request up; the slot may be in a new attempt by now */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	s->tcp.dns_req = NULL;
	if (result != 0 || res == NULL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		mon_reason(reason, sizeof(reason), "dns: cannot resolve %s", s->origin->address);
		tcp_finish(s, false, reason);
		return;
	}
	s->tcp.ai_head = res;
	s->tcp.ai_next = res;
	tcp_connect_next(s);
}

static void tcp_resolve(struct mon_slot *s)
{
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = EVUTIL_AI_NUMERICSERV,
	};
	char port[8];

	snprintf(port, sizeof(port), "%u", s->mon->port);
	s->tcp.phase = MON_TCP_RESOLVING;
	/* on_dns may run before this returns (hosts file); it then returns NULL */
	s->tcp.dns_req = evdns_getaddrinfo(s->p->dns, s->origin->address, port, &hints, on_dns, s);
}

int mon_tcp_start(struct mon_slot *s, char *reason, size_t size)
{
	struct mon_tcp *t = &s->tcp;
	uint32_t ms = s->mon->timeout_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	if (evtimer_add(t->deadline, &tv) < 0) {
		mon_reason(reason, size, "tcp: cannot arm the deadline");
		return STEER_ENOMEM;
	}
	t->last_errno = 0;
	t->ip_tried = false;
	if (s->origin->is_ip)
		tcp_connect_next(s);
	else
		tcp_resolve(s);
	return 0;
}

int mon_tcp_slot_init(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;
	const struct steer_addr *a = &s->origin->addr;

	t->fd = -1;
	t->io = event_new(s->p->base, -1, 0, on_io, s);
	t->deadline = evtimer_new(s->p->base, on_deadline, s);
	if (t->io == NULL || t->deadline == NULL)
		return STEER_ENOMEM;
	if (!s->origin->is_ip)
		return 0;
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->ip;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->mon->port);
		sin6->sin6_addr = a->u.v6;
		t->ip_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&t->ip;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->mon->port);
		sin->sin_addr = a->u.v4;
		t->ip_len = sizeof(*sin);
	}
	return 0;
}

void mon_tcp_slot_fini(struct mon_slot *s)
{
	struct mon_tcp *t = &s->tcp;

	tcp_end(s);
	if (t->io != NULL)
		event_free(t->io);
	if (t->deadline != NULL)
		event_free(t->deadline);
	t->io = NULL;
	t->deadline = NULL;
}
