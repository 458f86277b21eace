/*
 * HTTP(S) and SMTP delivery: one libcurl multi handle driven by the notifier's event base
 * (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION), one easy handle per message. No proxy, no
 * redirects; a message is delivered on a 2xx answer (HTTP) or an accepted mail (SMTP).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "notify/notify_int.h"

#define USER_AGENT    "steer-notify/" STEER_VERSION
#define CONNECT_MS    5000L
#define SMTP_MAX_RCPT STEER_NOTIFY_TO_MAX

static void sock_free(struct steer_notify *n, struct nsock *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		n->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (s->ev != NULL)
		event_free(s->ev);
	free(s);
}

static void easy_release(struct ntarget *t)
{
	if (t->easy != NULL) {
		curl_multi_remove_handle(t->n->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	t->easy = NULL;
	curl_slist_free_all(t->hdrs);
	curl_slist_free_all(t->rcpt);
	t->hdrs = NULL;
	t->rcpt = NULL;
}

/* Why a finished transfer failed, or "" when it succeeded. */
static void outcome(struct ntarget *t, CURLcode cc, long status, char *why, size_t size)
{
	why[0] = '\0';
	if (cc != CURLE_OK)
		snprintf(why, size, "%s",
			 t->curl_err[0] != '\0' ? t->curl_err : curl_easy_strerror(cc));
	else if (t->conf.type != STEER_NOTIFY_EMAIL && (status < 200 || status > 299))
		snprintf(why, size, "HTTP %ld", status);
}

static void check_done(struct steer_notify *n)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		char why[NOTIFY_ERR_MAX];
		struct ntarget *t;
		void *priv = NULL;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		t = priv;
		outcome(t, msg->data.result, status, why, sizeof(why));
		easy_release(t); /* msg points into the handle: not used after this */
		notify_done(t, why[0] == '\0', why);
	}
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct steer_notify *n = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(n->multi, fd, action, &running);
	check_done(n);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct steer_notify *n = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(n);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct steer_notify *n = userp;
	struct nsock *s = sockp;
	short flags = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sock_free(n, s);
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->n = n;
		s->next = n->socks;
		if (n->socks != NULL)
			n->socks->prev = s;
		n->socks = s;
		curl_multi_assign(n->multi, fd, s);
	}
	if (s->ev != NULL)
		event_free(s->ev);
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	s->ev = event_new(n->base, fd, flags, on_sock_event, n);
	if (s->ev == NULL || event_add(s->ev, NULL) < 0)
		return -1;
	return 0;
}

static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
	struct steer_notify *n = userp;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(n->curl_timer) < 0 ? -1 : 0;
	return evtimer_add(n->curl_timer, &tv) < 0 ? -1 : 0;
}

int notify_http_init(struct steer_notify *n)
{
	int bad = 0;

	n->multi = curl_multi_init();
	n->curl_timer = evtimer_new(n->base, on_curl_timer, n);
	if (n->multi == NULL || n->curl_timer == NULL)
		return STEER_EIO;
	bad |= curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK;
	bad |= curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n) != CURLM_OK;
	bad |= curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout) != CURLM_OK;
	bad |= curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n) != CURLM_OK;
	return bad ? STEER_EIO : 0;
}

void notify_http_fini(struct steer_notify *n)
{
	if (n->multi != NULL)
		curl_multi_cleanup(n->multi);
	n->multi = NULL;
	for (struct nsock *s = n->socks, *next; s != NULL; s = next) {
		next = s->next;
		if (s->ev != NULL)
			event_free(s->ev);
		free(s);
	}
	n->socks = NULL;
	if (n->curl_timer != NULL)
		event_free(n->curl_timer);
	n->curl_timer = NULL;
}

void notify_http_abort(struct ntarget *t)
{
	easy_release(t);
}

/* SMTP reads the message through this callback. */
static size_t read_body(char *buf, size_t size, size_t nitems, void *arg)
{
	struct ntarget *t = arg;
	size_t left = t->pl.len - t->upload_off, n = size * nitems < left ? size * nitems : left;

	memcpy(buf, t->pl.body + t->upload_off, n);
	t->upload_off += n;
	return n;
}

static size_t discard(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nitems;
}

/* SMTP: envelope, TLS (smtps, or STARTTLS; required before a password is sent), auth. */
static int smtp_opts(struct ntarget *t, CURL *e)
{
	const struct steer_notify_target *c = &t->conf;
	char addr[STEER_NOTIFY_ADDR_MAX + 2], user[STEER_NOTIFY_SECRET_MAX];
	const char *colon = strchr(c->secret, ':');
	int bad = 0;

	snprintf(addr, sizeof(addr), "<%s>", c->from);
	bad |= curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr) != CURLE_OK;
	for (size_t i = 0; i < c->n_to && i < SMTP_MAX_RCPT; i++) {
		struct curl_slist *l;

		snprintf(addr, sizeof(addr), "<%s>", c->to[i]);
		l = curl_slist_append(t->rcpt, addr);
		if (l == NULL)
			return -1;
		t->rcpt = l;
	}
	bad |= curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpt) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_READDATA, t) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USE_SSL,
				colon != NULL ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY) !=
	       CURLE_OK;
	if (colon != NULL) {
		snprintf(user, sizeof(user), "%.*s", (int)(colon - c->secret), c->secret);
		bad |= curl_easy_setopt(e, CURLOPT_USERNAME, user) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, colon + 1) != CURLE_OK;
	}
	return bad ? -1 : 0;
}

static int http_opts(struct ntarget *t, CURL *e)
{
	int bad = 0;

	for (size_t i = 0; t->pl.headers[i] != NULL; i++) {
		struct curl_slist *l = curl_slist_append(t->hdrs, t->pl.headers[i]);

		if (l == NULL)
			return -1;
		t->hdrs = l;
	}
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->pl.body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)t->pl.len) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
	return bad ? -1 : 0;
}

int notify_http_send(struct ntarget *t, char *why, size_t size)
{
	CURL *e = curl_easy_init();
	int bad = 0;

	if (e == NULL) {
		snprintf(why, size, "curl_easy_init failed");
		return -1;
	}
	t->easy = e;
	t->upload_off = 0;
	t->curl_err[0] = '\0';
	bad |= curl_easy_setopt(e, CURLOPT_URL, t->conf.url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, t) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_err) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->conf.timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				t->conf.timeout_ms < CONNECT_MS ? (long)t->conf.timeout_ms
								: CONNECT_MS) != CURLE_OK;
	if (!bad)
		bad = t->conf.type == STEER_NOTIFY_EMAIL ? smtp_opts(t, e) : http_opts(t, e);
	if (!bad)
		bad = curl_multi_add_handle(t->n->multi, e) != CURLM_OK;
	if (bad) {
		easy_release(t);
		snprintf(why, size, "cannot set up the transfer");
		return -1;
	}
	return 0;
}
