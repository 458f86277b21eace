/*
 * API lifecycle: copy the options, bind the listeners, run the event_base on the API
 * thread, stop it (an event activated from the stopping thread, so a stop issued before
 * the loop runs is not lost), free everything.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <event2/thread.h>

#include "api/api_int.h"
#define STEER_LOG_SRC "api"
#include "core/log.h"
#include "store/reader.h"

bool steer_api_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
	}
	return false;
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		*fail = true;
	return d;
}

static int copy_opts(struct steer_api *api, const struct steer_api_opts *o)
{
	const uint32_t ms = o->io_timeout_ms != 0 ? o->io_timeout_ms : API_TIMEOUT_MS;
	const uint32_t linger = ms < API_LINGER_MS ? ms : API_LINGER_MS;
	bool fail = false;

	api->ops = o->ops;
	api->public_read = o->public_read;
	api->max_conns = o->max_conns != 0 ? o->max_conns : API_MAX_CONNS;
	api->io_timeout.tv_sec = ms / 1000;
	api->io_timeout.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	api->linger.tv_sec = linger / 1000;
	api->linger.tv_usec = (suseconds_t)(linger % 1000) * 1000;
	if (o->token != NULL && o->token[0] != '\0') {
		api->token = dup_or_null(o->token, &fail);
		api->token_len = strlen(o->token);
	}
	api->state_path = dup_or_null(o->state_path, &fail);
	if (o->cpus != NULL && o->cpus->n != 0) {
		api->cpus.cpu = calloc(o->cpus->n, sizeof(*api->cpus.cpu));
		fail = fail || api->cpus.cpu == NULL;
		if (api->cpus.cpu != NULL) {
			memcpy(api->cpus.cpu, o->cpus->cpu, o->cpus->n * sizeof(*api->cpus.cpu));
			api->cpus.n = o->cpus->n;
		}
	}
	api->lis = calloc(o->n_listen != 0 ? o->n_listen : 1, sizeof(*api->lis));
	return fail || api->lis == NULL ? STEER_ENOMEM : 0;
}

static int bind_one(struct steer_api *api, const struct steer_api_addr *a, struct steer_err *err)
{
	const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
			       (a->sa->sa_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0);
	struct api_listener *l = &api->lis[api->n_lis];
	char eb[128];

	l->api = api;
	l->loopback = steer_api_addr_is_loopback(a->sa);
	l->text = strdup(a->text != NULL ? a->text : "?");
	if (l->text == NULL)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	/* accepted sockets are non-blocking (LEV_OPT_LEAVE_SOCKETS_BLOCKING is not set) */
	l->lis =
		evconnlistener_new_bind(api->base, api_on_accept, l, flags, 64, a->sa, (int)a->len);
	if (l->lis == NULL) {
		const int e = errno != 0 ? errno : EINVAL;

		free(l->text);
		l->text = NULL;
		return steer_err_set(err, -e, "api listen %s: %s", a->text,
				     steer_errno_str(e, eb, sizeof(eb)));
	}
	api->n_lis++;
	return 0;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct steer_api *api = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(api->base);
}

int steer_api_new(const struct steer_api_opts *opts, struct steer_api **out, struct steer_err *err)
{
	struct steer_api *api = NULL;
	int rc;

	if (opts == NULL || opts->ops == NULL || (opts->n_listen != 0 && opts->listen == NULL))
		return steer_err_set(err, STEER_EINVAL, "api: options without operations");
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	rc = copy_opts(api, opts);
	/* stop activates ev_stop from another thread: the base needs its locks */
	if (rc == 0 && evthread_use_pthreads() < 0)
		rc = STEER_ENOMEM;
	if (rc == 0) {
		api->base = event_base_new();
		api->ev_stop = api->base != NULL ? event_new(api->base, -1, 0, on_stop, api) : NULL;
		rc = api->ev_stop != NULL ? 0 : STEER_ENOMEM;
	}
	if (rc < 0)
		steer_err_set(err, rc, "out of memory");
	for (size_t i = 0; rc == 0 && i < opts->n_listen; i++)
		rc = bind_one(api, &opts->listen[i], err);
	if (rc < 0)
		goto out;
	*out = api;
	api = NULL;
out:
	steer_api_free(api);
	return rc;
}

static void *api_main(void *arg)
{
	struct steer_api *api = arg;

	steer_thread_name("steer-api");
	event_base_dispatch(api->base);
	return NULL;
}

int steer_api_start(struct steer_api *api, struct steer_err *err)
{
	const unsigned flags = STEER_THREAD_NO_SIGNALS | STEER_THREAD_CPUS_OPTIONAL;
	char eb[128];
	int rc;

	if (api->started)
		return 0;
	rc = steer_thread_start(&api->thread, &api->cpus, flags, "api", api_main, api);
	if (rc < 0)
		return steer_err_set(err, rc, "cannot start the api thread: %s",
				     steer_errno_str(-rc, eb, sizeof(eb)));
	api->started = true;
	for (size_t i = 0; i < api->n_lis; i++)
		log_info("listening on %s%s", api->lis[i].text,
			 api->lis[i].loopback || api->public_read ? "" : " (reads need the token)");
	return 0;
}

void steer_api_stop(struct steer_api *api)
{
	if (api == NULL || !api->started)
		return;
	event_active(api->ev_stop, EV_READ, 0);
	pthread_join(api->thread, NULL);
	api->started = false;
}

void steer_api_free(struct steer_api *api)
{
	if (api == NULL)
		return;
	steer_api_stop(api);
	api_conns_free(api);
	for (size_t i = 0; i < api->n_lis; i++) {
		evconnlistener_free(api->lis[i].lis);
		free(api->lis[i].text);
	}
	free(api->lis);
	if (api->ev_stop != NULL)
		event_free(api->ev_stop);
	if (api->base != NULL)
		event_base_free(api->base);
	steer_store_reader_close(api->reader);
	if (api->token != NULL)
		explicit_bzero(api->token, api->token_len);
	free(api->token);
	free(api->state_path);
	free(api->cpus.cpu);
	free(api);
}

uint16_t steer_api_port(const struct steer_api *api, size_t i)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (i >= api->n_lis ||
	    getsockname(evconnlistener_get_fd(api->lis[i].lis), (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)&ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)&ss)->sin_port);
}
