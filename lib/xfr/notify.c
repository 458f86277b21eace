/*
 * The NOTIFY sender: any thread asks for a serial (a mutex-protected slot and an event
 * wake-up); the notifier thread sends one NOTIFY per target over a connected UDP socket
 * (only the target's answers arrive on it), and retries with doubling delays until an
 * answer with the same ID and question arrives, or it gives up.
 */
#include "xfr/notify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/name.h"
#include "core/thread.h"
#include "xfr/tsig.h"

#define STEER_LOG_SRC "xfr"
#include "core/log.h"

#define OPCODE_NOTIFY 4
#define TYPE_SOA      6
#define CLASS_IN      1
#define MSG_MAX       (12 + STEER_NAME_MAX + 4 + STEER_TSIG_RR_MAX)

struct ntarget {
	struct steer_xfr_notifier *n;
	char text[INET6_ADDRSTRLEN + 8]; /* "192.0.2.1:53", "[2001:db8::1]:53" */
	int fd;
	struct event *ev_read;
	struct event *ev_retry;
	struct steer_tsig *tsig; /* NULL: unsigned */
	bool active;             /* waiting for the answer to msg */
	uint32_t serial;
	uint16_t id;
	unsigned tries;
	uint8_t msg[MSG_MAX];
	size_t len;
};

struct steer_xfr_notifier {
	pthread_t thread;
	bool running;
	struct event_base *base;
	struct event *wake;
	pthread_mutex_t mu; /* guards the fields below, up to the targets */
	bool pending;       /* want_serial not yet sent */
	uint32_t want_serial;
	bool stop;
	uint32_t first_ms;
	unsigned max_tries;
	struct steer_xfr_notify_stats stats;
	uint8_t apex[STEER_NAME_MAX]; /* wire */
	size_t apex_len;
	char apex_text[4 * STEER_NAME_MAX + 8];
	struct ntarget *t;
	size_t n_t;
};

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_rc;

static void threads_init(void)
{
	threads_rc = evthread_use_pthreads();
}

static void count(struct steer_xfr_notifier *n, uint64_t *field)
{
	pthread_mutex_lock(&n->mu);
	(*field)++;
	pthread_mutex_unlock(&n->mu);
}

static uint16_t random_id(void)
{
	uint16_t id = 0;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint16_t)steer_clock_mono_ms(); /* no entropy yet: IDs still change */
	return id;
}

/* NOTIFY for the apex SOA (RFC 1996 §3.7: opcode NOTIFY, AA, the question), signed when
 * the target has a key. @return 0 or a negative code. */
static int build(struct ntarget *t)
{
	struct steer_xfr_notifier *n = t->n;
	uint8_t *m = t->msg;

	memset(m, 0, 12);
	m[0] = (uint8_t)(t->id >> 8);
	m[1] = (uint8_t)t->id;
	m[2] = OPCODE_NOTIFY << 3 | 0x04; /* AA */
	m[5] = 1;
	memcpy(m + 12, n->apex, n->apex_len);
	t->len = 12 + n->apex_len;
	m[t->len++] = 0;
	m[t->len++] = TYPE_SOA;
	m[t->len++] = 0;
	m[t->len++] = CLASS_IN;
	if (t->tsig == NULL)
		return 0;
	return steer_tsig_sign_request(t->tsig, m, &t->len, sizeof(t->msg),
				       (uint64_t)(steer_clock_wall_ms() / 1000));
}

static void transmit(struct ntarget *t)
{
	struct steer_xfr_notifier *n = t->n;
	uint32_t delay_ms = n->first_ms << (t->tries < 16 ? t->tries : 16);
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	char eb[96];

	t->tries++;
	if (send(t->fd, t->msg, t->len, 0) < 0)
		log_debug("notify target=%s serial=%u try=%u send failed: %s", t->text, t->serial,
			  t->tries, steer_errno_str(errno, eb, sizeof(eb)));
	else
		count(n, &n->stats.sent);
	event_add(t->ev_retry, &tv);
}

/* Start over for @p serial: a new ID, so answers to the older NOTIFY no longer count. */
static void start(struct ntarget *t, uint32_t serial)
{
	struct steer_xfr_notifier *n = t->n;

	if (t->active) {
		log_info("notify target=%s serial=%u replaced by serial=%u", t->text, t->serial,
			 serial);
		count(n, &n->stats.replaced);
	}
	t->active = false;
	event_del(t->ev_retry);
	t->serial = serial;
	t->id = random_id();
	t->tries = 0;
	if (build(t) < 0) {
		log_err("notify target=%s serial=%u cannot build the message", t->text, serial);
		return;
	}
	t->active = true;
	log_info("notify target=%s serial=%u sending%s", t->text, serial,
		 t->tsig != NULL ? " tsig" : "");
	transmit(t);
}

static void give_up(struct ntarget *t, const char *why)
{
	log_warn("notify target=%s serial=%u given up after tries=%u reason=\"%s\"", t->text,
		 t->serial, t->tries, why);
	t->active = false;
	event_del(t->ev_retry);
	count(t->n, &t->n->stats.failed);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct ntarget *t = arg;

	(void)fd;
	(void)what;
	if (!t->active)
		return;
	if (t->tries >= t->n->max_tries) {
		give_up(t, "no answer");
		return;
	}
	log_debug("notify target=%s serial=%u try=%u", t->text, t->serial, t->tries + 1);
	transmit(t);
}

/* Is @p m an answer to t->msg: same ID, QR, opcode NOTIFY, and (if any) the question? */
static bool answer_matches(const struct ntarget *t, const uint8_t *m, size_t len)
{
	const struct steer_xfr_notifier *n = t->n;
	size_t q = 12 + n->apex_len;

	if (len < 12 || (m[0] << 8 | m[1]) != t->id || (m[2] & 0x80) == 0 ||
	    ((m[2] >> 3) & 0x0f) != OPCODE_NOTIFY || m[4] != 0 || m[5] > 1)
		return false;
	if (m[5] == 0)
		return true; /* RFC 1996 does not require the question in the answer */
	if (len < q + 4 || m[q] != 0 || m[q + 1] != TYPE_SOA || m[q + 2] != 0 ||
	    m[q + 3] != CLASS_IN)
		return false;
	for (size_t i = 0; i < n->apex_len; i++) /* label lengths are < 64: no letters */
		if ((m[12 + i] >= 'A' && m[12 + i] <= 'Z' ? m[12 + i] + 32 : m[12 + i]) !=
		    n->apex[i])
			return false;
	return true;
}

static void on_answer(struct ntarget *t, const uint8_t *m, size_t len)
{
	const unsigned rcode = m[3] & 0x0f;
	enum steer_tsig_rc trc = STEER_TSIG_OK;
	char why[64];

	if (!t->active || !answer_matches(t, m, len)) {
		log_debug("notify target=%s answer ignored: not the one awaited", t->text);
		return;
	}
	if (t->tsig != NULL)
		trc = steer_tsig_verify_answer(t->tsig, m, len,
					       (uint64_t)(steer_clock_wall_ms() / 1000));
	if (rcode == 0 && trc != STEER_TSIG_OK) {
		log_debug("notify target=%s answer ignored: tsig %s", t->text,
			  steer_tsig_rc_name(trc));
		return;
	}
	if (rcode != 0) {
		snprintf(why, sizeof(why), "rcode %u%s%s", rcode,
			 trc != STEER_TSIG_OK ? " tsig " : "",
			 trc != STEER_TSIG_OK ? steer_tsig_rc_name(trc) : "");
		give_up(t, why);
		return;
	}
	log_info("notify target=%s serial=%u acknowledged tries=%u", t->text, t->serial, t->tries);
	t->active = false;
	event_del(t->ev_retry);
	count(t->n, &t->n->stats.acked);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	uint8_t buf[4096];

	(void)what;
	for (int i = 0; i < 16; i++) { /* bounded: the loop gets its turn back */
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r < 0)
			return; /* EAGAIN, or an ICMP error (ECONNREFUSED): the retry timer runs */
		on_answer(arg, buf, (size_t)r);
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct steer_xfr_notifier *n = arg;
	bool stop, pending;
	uint32_t serial;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&n->mu);
	stop = n->stop;
	pending = n->pending;
	serial = n->want_serial;
	n->pending = false;
	pthread_mutex_unlock(&n->mu);
	if (stop) {
		event_base_loopbreak(n->base);
		return;
	}
	for (size_t i = 0; pending && i < n->n_t; i++)
		start(&n->t[i], serial);
}

static void *run(void *arg)
{
	struct steer_xfr_notifier *n = arg;

	steer_thread_name("steer-xfrnotify");
	log_info("notify started zone=%s targets=%zu", n->apex_text, n->n_t);
	event_base_loop(n->base, EVLOOP_NO_EXIT_ON_EMPTY);
	log_info("notify stopped zone=%s", n->apex_text);
	return NULL;
}

static void target_text(const struct steer_xfr_target *c, char *buf, size_t size)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&c->addr;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&c->addr;
	char host[INET6_ADDRSTRLEN] = "?";

	if (c->addr.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(s4->sin_port));
	}
}

/* Socket, events and key of target @p i. */
static int target_open(struct steer_xfr_notifier *n, const struct steer_xfr_conf *conf, size_t i,
		       struct steer_err *err)
{
	const struct steer_xfr_target *c = &conf->notify[i];
	struct ntarget *t = &n->t[i];
	int rc;

	t->n = n;
	target_text(c, t->text, sizeof(t->text));
	if (c->key >= 0) {
		rc = steer_tsig_new_client(conf, c->key, &t->tsig);
		if (rc < 0)
			return steer_err_set(err, rc, "notify target %s: cannot use its key",
					     t->text);
	}
	t->fd = socket(c->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || connect(t->fd, (const struct sockaddr *)&c->addr, c->addr_len) < 0) {
		rc = -errno;
		return steer_err_set(err, rc, "notify target %s: socket: %s", t->text,
				     steer_strerror(rc));
	}
	t->ev_read = event_new(n->base, t->fd, EV_READ | EV_PERSIST, on_read, t);
	t->ev_retry = event_new(n->base, -1, 0, on_retry, t);
	if (t->ev_read == NULL || t->ev_retry == NULL || event_add(t->ev_read, NULL) < 0)
		return STEER_ENOMEM;
	return 0;
}

static int notifier_init(struct steer_xfr_notifier *n, const struct steer_xfr_conf *conf,
			 const char *apex, struct steer_err *err)
{
	size_t alen = strlen(apex);
	int rc;

	if (alen == 0 || alen + 2 > sizeof(n->apex_text))
		return steer_err_set(err, STEER_EINVAL, "bad zone name for notify");
	snprintf(n->apex_text, sizeof(n->apex_text), "%s%s", apex,
		 apex[alen - 1] == '.' ? "" : ".");
	rc = steer_name_from_text(n->apex_text, NULL, n->apex, sizeof(n->apex));
	if (rc < 0)
		return steer_err_set(err, STEER_EINVAL, "bad zone name for notify: %s", apex);
	n->apex_len = (size_t)rc;
	n->base = event_base_new();
	n->wake = n->base != NULL ? event_new(n->base, -1, 0, on_wake, n) : NULL;
	n->t = calloc(conf->n_notify > 0 ? conf->n_notify : 1, sizeof(*n->t));
	if (n->wake == NULL || n->t == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < conf->n_notify; i++) {
		n->t[i].fd = -1;
		n->n_t = i + 1; /* counted first: free closes what opened */
		rc = target_open(n, conf, i, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int steer_xfr_notifier_new(const struct steer_xfr_conf *conf, const char *apex,
			   struct steer_xfr_notifier **out, struct steer_err *err)
{
	struct steer_xfr_notifier *n;
	int rc;

	*out = NULL;
	pthread_once(&threads_once, threads_init);
	if (threads_rc < 0)
		return steer_err_set(err, STEER_EIO, "cannot set up libevent threads");
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return STEER_ENOMEM;
	pthread_mutex_init(&n->mu, NULL);
	n->first_ms = STEER_XFR_NOTIFY_FIRST_MS;
	n->max_tries = STEER_XFR_NOTIFY_TRIES;
	rc = notifier_init(n, conf, apex, err);
	if (rc == 0)
		rc = steer_thread_start(&n->thread, NULL, STEER_THREAD_NO_SIGNALS,
					"xfr notify thread", run, n);
	if (rc < 0) {
		steer_xfr_notifier_free(n);
		return err != NULL && err->code != 0
			       ? rc
			       : steer_err_set(err, rc, "notify: %s", steer_strerror(rc));
	}
	n->running = true;
	*out = n;
	return 0;
}

void steer_xfr_notifier_send(struct steer_xfr_notifier *n, uint32_t serial)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->want_serial = serial;
	n->pending = true;
	pthread_mutex_unlock(&n->mu);
	event_active(n->wake, EV_READ, 0);
}

void steer_xfr_notifier_set_timing(struct steer_xfr_notifier *n, uint32_t first_ms, unsigned tries)
{
	pthread_mutex_lock(&n->mu);
	n->first_ms = first_ms > 0 ? first_ms : 1;
	n->max_tries = tries > 0 ? tries : 1;
	pthread_mutex_unlock(&n->mu);
}

void steer_xfr_notifier_stats(struct steer_xfr_notifier *n, struct steer_xfr_notify_stats *out)
{
	pthread_mutex_lock(&n->mu);
	*out = n->stats;
	pthread_mutex_unlock(&n->mu);
}

void steer_xfr_notifier_free(struct steer_xfr_notifier *n)
{
	if (n == NULL)
		return;
	if (n->running) {
		pthread_mutex_lock(&n->mu);
		n->stop = true;
		pthread_mutex_unlock(&n->mu);
		event_active(n->wake, EV_READ, 0);
		pthread_join(n->thread, NULL);
	}
	for (size_t i = 0; i < n->n_t; i++) {
		struct ntarget *t = &n->t[i];

		if (t->ev_read != NULL)
			event_free(t->ev_read);
		if (t->ev_retry != NULL)
			event_free(t->ev_retry);
		if (t->fd >= 0)
			close(t->fd);
		steer_tsig_free(t->tsig);
	}
	free(n->t);
	if (n->wake != NULL)
		event_free(n->wake);
	if (n->base != NULL)
		event_base_free(n->base);
	pthread_mutex_destroy(&n->mu);
	free(n);
}
