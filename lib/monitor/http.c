/*
 * HTTP(S) probes: one libcurl multi handle driven by the prober's event_base through
 * CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION and curl_multi_socket_action, and one easy handle
 * per origin, configured once and re-added for every attempt. A Host header sets the URL
 * host (hence the SNI and the name checked in the certificate); CONNECT_TO pins the
 * connection to the origin's address, per handle, so no lookup of that name happens.
 */
#define STEER_LOG_SRC "monitor"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config/config.h"
#include "core/log.h"
#include "monitor/monitor_int.h"

#define MAX_REDIRS 5L
#define USER_AGENT "steer-monitor/" STEER_VERSION

/* One socket curl asked us to watch. */
struct mon_sock {
	struct steer_prober *p;
	struct event *ev;
	struct mon_sock *prev;
	struct mon_sock *next;
};

static void sock_free(struct steer_prober *p, struct mon_sock *ms)
{
	if (ms->prev != NULL)
		ms->prev->next = ms->next;
	else
		p->socks = ms->next;
	if (ms->next != NULL)
		ms->next->prev = ms->prev;
	if (ms->ev != NULL)
		event_free(ms->ev);
	free(ms);
}

/* Take the slot's handle out of the multi and keep it for the next probe (any slot). */
static void easy_release(struct mon_slot *s)
{
	struct steer_prober *p = s->p;
	CURL *e = s->http.easy;

	if (e == NULL)
		return;
	if (s->http.in_multi)
		curl_multi_remove_handle(p->multi, e);
	s->http.in_multi = false;
	s->http.easy = NULL;
	if (p->n_easy_pool < MON_EASY_POOL)
		p->easy_pool[p->n_easy_pool++] = e;
	else
		curl_easy_cleanup(e);
}

/* Classify a finished transfer; fills @p reason when it failed. */
static bool classify(struct mon_slot *s, CURLcode cc, int status, char *reason, size_t size);

static void check_done(struct steer_prober *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
		char reason[STEER_REASON_MAX] = "";
		struct mon_slot *s;
		void *priv = NULL;
		long status = 0;
		bool ok;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		s = priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		ok = classify(s, msg->data.result, (int)status, reason, sizeof(reason));
		easy_release(s);
		free(s->http.body);
		s->http.body = NULL;
		mon_attempt_done(s, ok, (int)status, reason);
	}
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct steer_prober *p = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(p->multi, fd, action, &running);
	check_done(p);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct steer_prober *p = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(p);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct steer_prober *p = userp;
	struct mon_sock *ms = sockp;
	short flags = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ms != NULL)
			sock_free(p, ms);
		return 0;
	}
	if (ms == NULL) {
		ms = calloc(1, sizeof(*ms));
		if (ms == NULL)
			return -1;
		ms->p = p;
		ms->next = p->socks;
		if (p->socks != NULL)
			p->socks->prev = ms;
		p->socks = ms;
		curl_multi_assign(p->multi, fd, ms);
	}
	if (ms->ev != NULL)
		event_free(ms->ev);
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	ms->ev = event_new(p->base, fd, flags, on_sock_event, p);
	if (ms->ev == NULL || event_add(ms->ev, NULL) < 0)
		return -1;
	return 0;
}

static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
	struct steer_prober *p = userp;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(p->curl_timer) < 0 ? -1 : 0;
	return evtimer_add(p->curl_timer, &tv) < 0 ? -1 : 0;
}

int mon_http_init(struct steer_prober *p, struct steer_err *err)
{
	int bad = 0;

	p->multi = curl_multi_init();
	if (p->multi == NULL)
		return steer_err_set(err, STEER_EPROBE, "curl_multi_init failed");
	p->curl_timer = evtimer_new(p->base, on_curl_timer, p);
	if (p->curl_timer == NULL)
		return STEER_ENOMEM;
	bad |= curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK;
	bad |= curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p) != CURLM_OK;
	bad |= curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout) != CURLM_OK;
	bad |= curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p) != CURLM_OK;
	if (bad)
		return steer_err_set(err, STEER_EPROBE, "curl_multi_setopt failed");
	return 0;
}

void mon_http_fini(struct steer_prober *p)
{
	if (p->multi != NULL)
		curl_multi_cleanup(p->multi); /* may still remove sockets through the callback */
	p->multi = NULL;
	for (struct mon_sock *ms = p->socks, *next; ms != NULL; ms = next) {
		next = ms->next;
		if (ms->ev != NULL)
			event_free(ms->ev);
		free(ms);
	}
	p->socks = NULL;
	while (p->n_easy_pool > 0)
		curl_easy_cleanup(p->easy_pool[--p->n_easy_pool]);
	if (p->curl_timer != NULL)
		event_free(p->curl_timer);
	p->curl_timer = NULL;
}

/* Keep the first MON_READ_MAX bytes; stop the transfer once the body matched or the cap
 * is reached (curl then reports CURLE_WRITE_ERROR, which classify() forgives). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct mon_slot *s = arg;
	struct mon_http *h = &s->http;
	size_t n = size * nmemb, take = MON_READ_MAX - h->body_len;
	size_t overlap = s->mon->expected_body != NULL ? strlen(s->mon->expected_body) : 0;

	if (take > n)
		take = n;
	if (h->body != NULL) {
		size_t from = h->body_len > overlap ? h->body_len - overlap : 0;

		memcpy(h->body + h->body_len, data, take);
		h->body_matched = mon_contains(h->body + from, h->body_len + take - from,
					       s->mon->expected_body, true);
	}
	h->body_len += take;
	if (h->body_matched || h->body_len >= MON_READ_MAX) {
		h->body_stopped = true;
		return 0;
	}
	return n;
}

static bool code_ok(const struct steer_monitor *m, int status)
{
	for (size_t i = 0; i < m->n_codes; i++)
		if (status >= m->codes[i].lo && status <= m->codes[i].hi)
			return true;
	return false;
}

/* Short detail of a TLS error: curl's message without its boilerplate prefix. */
static const char *tls_detail(const char *errbuf)
{
	static const char *const prefixes[] = {"SSL certificate problem: ", "SSL: ", NULL};
	const char *colon;

	for (size_t i = 0; prefixes[i] != NULL; i++)
		if (strncmp(errbuf, prefixes[i], strlen(prefixes[i])) == 0)
			return errbuf + strlen(prefixes[i]);
	colon = strrchr(errbuf, ':');
	return colon != NULL ? colon + 1 + (colon[1] == ' ') : errbuf;
}

static void tls_reason(const struct mon_slot *s, CURLcode cc, char *reason, size_t size)
{
	const char *what;
	const char *detail = tls_detail(s->http.errbuf);

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		what = "certificate verify failed";
		break;
	case CURLE_SSL_CONNECT_ERROR:
		what = "handshake failed";
		break;
	case CURLE_SSL_CACERT_BADFILE:
		what = "cannot load ca_file";
		break;
	default:
		what = curl_easy_strerror(cc);
		break;
	}
	if (detail[0] != '\0')
		mon_reason(reason, size, "tls: %s (%s)", what, detail);
	else
		mon_reason(reason, size, "tls: %s", what);
}

static bool is_tls_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

static void curl_reason(const struct mon_slot *s, CURLcode cc, char *reason, size_t size)
{
	long os_errno = 0;
	char buf[128];

	curl_easy_getinfo(s->http.easy, CURLINFO_OS_ERRNO, &os_errno);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		mon_reason(reason, size, "timeout after %u ms", s->mon->timeout_ms);
	else if (cc == CURLE_COULDNT_RESOLVE_HOST)
		mon_reason(reason, size, "dns: cannot resolve %s",
			   s->origin->is_ip ? s->http.host : s->origin->address);
	else if (cc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
		mon_reason(reason, size, "connect refused");
	else if (cc == CURLE_COULDNT_CONNECT && os_errno != 0)
		mon_reason(reason, size, "connect: %s",
			   steer_errno_str((int)os_errno, buf, sizeof(buf)));
	else if (is_tls_error(cc))
		tls_reason(s, cc, reason, size);
	else if ((cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING) &&
		 os_errno != 0)
		/* the origin went away mid-request: say what the OS said, as for connect */
		mon_reason(reason, size, "%s: %s", cc == CURLE_SEND_ERROR ? "send" : "recv",
			   steer_errno_str((int)os_errno, buf, sizeof(buf)));
	else if (cc == CURLE_GOT_NOTHING)
		mon_reason(reason, size, "connection closed without a response");
	else
		mon_reason(reason, size, "curl: %s", curl_easy_strerror(cc));
}

static bool classify(struct mon_slot *s, CURLcode cc, int status, char *reason, size_t size)
{
	const struct steer_monitor *m = s->mon;

	if (cc == CURLE_WRITE_ERROR && s->http.body_stopped)
		cc = CURLE_OK;
	if (cc != CURLE_OK) {
		curl_reason(s, cc, reason, size);
		return false;
	}
	if (!code_ok(m, status)) {
		mon_reason(reason, size, "status %d not in %s", status, m->expected_codes);
		return false;
	}
	if (m->expected_body != NULL && !s->http.body_matched) {
		mon_reason(reason, size, "body lacks \"%s\"", m->expected_body);
		return false;
	}
	return true;
}

static int set_options(struct mon_slot *s);

/* A handle for this probe: an idle one reset to defaults, or a new one; then the slot's
 * options. Keeping one handle per origin would cost ~18 KB each at 10,000 origins. */
static int easy_acquire(struct mon_slot *s, char *reason, size_t size)
{
	struct steer_prober *p = s->p;
	CURL *e;

	if (p->n_easy_pool > 0) {
		e = p->easy_pool[--p->n_easy_pool];
		curl_easy_reset(e);
	} else {
		e = curl_easy_init();
	}
	if (e == NULL) {
		mon_reason(reason, size, "curl: cannot create a handle");
		return STEER_ENOMEM;
	}
	s->http.easy = e;
	if (set_options(s) != 0) {
		easy_release(s);
		mon_reason(reason, size, "curl: cannot set options");
		return STEER_EPROBE;
	}
	return 0;
}

int mon_http_start(struct mon_slot *s, char *reason, size_t size)
{
	struct mon_http *h = &s->http;
	CURLMcode mc;
	int rc = easy_acquire(s, reason, size);

	if (rc < 0)
		return rc;

	h->body_len = 0;
	h->body_matched = false;
	h->body_stopped = false;
	h->errbuf[0] = '\0';
	if (s->mon->expected_body != NULL) {
		h->body = malloc(MON_READ_MAX);
		if (h->body == NULL) {
			easy_release(s);
			mon_reason(reason, size, "out of memory");
			return STEER_ENOMEM;
		}
	}
	mc = curl_multi_add_handle(s->p->multi, h->easy);
	if (mc != CURLM_OK) {
		free(h->body);
		h->body = NULL;
		easy_release(s);
		mon_reason(reason, size, "curl: %s", curl_multi_strerror(mc));
		return STEER_EPROBE;
	}
	h->in_multi = true;
	return 0;
}

/* The effective Host header: the origin's overrides the monitor's. NULL if none. */
static const char *host_header(const struct mon_slot *s)
{
	for (size_t i = 0; i < s->origin->n_headers; i++)
		if (strcasecmp(s->origin->headers[i].name, "Host") == 0)
			return s->origin->headers[i].value;
	for (size_t i = 0; i < s->mon->n_headers; i++)
		if (strcasecmp(s->mon->headers[i].name, "Host") == 0)
			return s->mon->headers[i].value;
	return NULL;
}

/* Length of the host part of a Host header value ("name", "name:port", "[v6]:port"). */
static size_t host_part_len(const char *v)
{
	const char *end;

	if (v[0] == '[') {
		end = strchr(v, ']');
		return end != NULL ? (size_t)(end - v) + 1 : strlen(v);
	}
	end = strchr(v, ':');
	return end != NULL ? (size_t)(end - v) : strlen(v);
}

/* The origin's address as a URL host: "192.0.2.1", "[2001:db8::1]" or the hostname. */
static void origin_host(const struct steer_origin *o, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (!o->is_ip) {
		snprintf(buf, size, "%s", o->address);
		return;
	}
	inet_ntop(o->addr.family, &o->addr.u, ip, sizeof(ip));
	snprintf(buf, size, o->addr.family == AF_INET6 ? "[%s]" : "%s", ip);
}

static int append(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l == NULL)
		return STEER_ENOMEM;
	*list = l;
	return 0;
}

/* URL of @p s and, with a Host header, the CONNECT_TO entry pinning it to the origin. */
static int build_target(struct mon_slot *s)
{
	struct mon_http *h = &s->http;
	const char *scheme = s->mon->type == STEER_MONITOR_HTTPS ? "https" : "http";
	const char *host = host_header(s);
	unsigned port = s->mon->port;
	char addr[300], line[700];
	size_t len;

	origin_host(s->origin, addr, sizeof(addr));
	snprintf(h->host, sizeof(h->host), "%s", addr);
	len = host != NULL ? host_part_len(host) : 0;
	if (len > 0 && len < sizeof(h->host)) {
		snprintf(h->host, sizeof(h->host), "%.*s", (int)len, host);
		snprintf(line, sizeof(line), "%s:%u:%s:%u", h->host, port, addr, port);
		if (append(&h->connect_to, line) < 0)
			return STEER_ENOMEM;
	}
	len = strlen(scheme) + strlen(h->host) + strlen(s->mon->path) + 16;
	h->url = malloc(len);
	if (h->url == NULL)
		return STEER_ENOMEM;
	snprintf(h->url, len, "%s://%s:%u%s", scheme, h->host, port, s->mon->path);
	return 0;
}

static int add_header(struct curl_slist **list, const struct steer_header *hd)
{
	size_t len = strlen(hd->name) + strlen(hd->value) + 3;
	char *line = malloc(len);
	int rc;

	if (line == NULL)
		return STEER_ENOMEM;
	/* "Name;" is curl's way to send a header with an empty value */
	if (hd->value[0] == '\0')
		snprintf(line, len, "%s;", hd->name);
	else
		snprintf(line, len, "%s: %s", hd->name, hd->value);
	rc = append(list, line);
	free(line);
	return rc;
}

static bool origin_has(const struct steer_origin *o, const char *name)
{
	for (size_t i = 0; i < o->n_headers; i++)
		if (strcasecmp(o->headers[i].name, name) == 0)
			return true;
	return false;
}

/* Monitor headers unless the origin sets the same name, then the origin's. */
static int build_headers(struct mon_slot *s)
{
	for (size_t i = 0; i < s->mon->n_headers; i++) {
		if (origin_has(s->origin, s->mon->headers[i].name))
			continue;
		if (add_header(&s->http.headers, &s->mon->headers[i]) < 0)
			return STEER_ENOMEM;
	}
	for (size_t i = 0; i < s->origin->n_headers; i++)
		if (add_header(&s->http.headers, &s->origin->headers[i]) < 0)
			return STEER_ENOMEM;
	return 0;
}

static int set_tls(struct mon_slot *s)
{
	CURL *e = s->http.easy;
	int bad = 0;

	if (s->mon->allow_insecure) {
		bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
	}
	if (s->mon->ca_file != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, s->mon->ca_file) != CURLE_OK;
	return bad;
}

static int set_options(struct mon_slot *s)
{
	const struct steer_monitor *m = s->mon;
	CURL *e = s->http.easy;
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, s->http.url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->http.errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)m->timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)m->timeout_ms) != CURLE_OK;
	/* every probe opens its own connection, as a new client would */
	bad |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, m->follow_redirects ? 1L : 0L) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS) != CURLE_OK;
	/* no DNS cache: curl prunes it by walking every entry on each lookup, which at 10,000
	 * origins (one entry per address) cost most of the monitor's CPU; a health check
	 * should see the name's current addresses anyway */
	bad |= curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075700
	/* ending a transfer mid-lookup must not wait for the resolver thread (7.87+) */
	bad |= curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK;
#endif
	if (strcmp(m->method, "HEAD") == 0)
		bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	if (s->http.headers != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->http.headers) != CURLE_OK;
	if (s->http.connect_to != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, s->http.connect_to) != CURLE_OK;
	return bad | set_tls(s);
}

int mon_http_slot_init(struct mon_slot *s, struct steer_err *err)
{
	int rc = build_target(s);

	if (rc == 0)
		rc = build_headers(s);
	if (rc < 0)
		return steer_err_set(err, rc, "pool=%s origin=%s: cannot prepare the probe",
				     s->pool->name, s->origin->name);
	return 0;
}

void mon_http_slot_fini(struct mon_slot *s)
{
	struct mon_http *h = &s->http;

	if (h->in_multi)
		curl_multi_remove_handle(s->p->multi, h->easy);
	h->in_multi = false;
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy); /* stopped mid-probe */
	h->easy = NULL;
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->connect_to);
	h->headers = NULL;
	h->connect_to = NULL;
	free(h->url);
	free(h->body);
	h->url = NULL;
	h->body = NULL;
}
