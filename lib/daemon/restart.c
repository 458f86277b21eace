/*
 * Restart-only keys: the DNS sockets and worker threads, and the API's listeners and
 * token, are set up once at start, so a reload that changes them warns, key by key.
 */
#include <stdbool.h>
#include <string.h>

#include "config/config.h"
#include "daemon/restart_int.h"

#define STEER_LOG_SRC "steerd"
#include "core/log.h"

static bool same_listen(const struct steer_listen *a, size_t na, const struct steer_listen *b,
			size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text) != 0)
			return false;
	return true;
}

static bool same_cpus(const struct steer_cpus *a, const struct steer_cpus *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->cpu, b->cpu, a->n * sizeof(a->cpu[0])) == 0);
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

size_t daemon_restart_keys(const struct steer_config *old, const struct steer_config *cfg,
			   const char **out, size_t cap)
{
	const struct steer_api_conf *a = &old->api, *b = &cfg->api;
	bool both_api = a->enabled && b->enabled; /* else "api" itself changed */
	const struct {
		const char *key;
		bool changed;
	} keys[] = {
		{"listen", !same_listen(old->listen, old->n_listen, cfg->listen, cfg->n_listen)},
		{"workers", old->workers != cfg->workers},
		{"tcp.max_clients", old->tcp_max_clients != cfg->tcp_max_clients},
		{"tcp.idle_timeout", old->tcp_idle_timeout_ms != cfg->tcp_idle_timeout_ms},
		{"tcp.query_timeout", old->tcp_query_timeout_ms != cfg->tcp_query_timeout_ms},
		{"tcp.max_per_source", old->tcp_max_per_source != cfg->tcp_max_per_source},
		{"udp.batch_wait_us", old->udp_batch_wait_us != cfg->udp_batch_wait_us},
		{"affinity.dns", !same_cpus(&old->cpus_dns, &cfg->cpus_dns)},
		{"api", a->enabled != b->enabled},
		{"api.listen",
		 both_api && !same_listen(a->listen, a->n_listen, b->listen, b->n_listen)},
		{"api.token_file", both_api && !same_str(a->token_file, b->token_file)},
		{"api.public_read", both_api && a->public_read != b->public_read},
	};

	size_t n = 0;

	_Static_assert(sizeof(keys) / sizeof(keys[0]) == DAEMON_RESTART_KEYS_MAX,
		       "DAEMON_RESTART_KEYS_MAX counts the keys");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].changed && n < cap)
			out[n++] = keys[i].key;
	return n;
}

void daemon_warn_restart(const struct steer_config *old, const struct steer_config *cfg)
{
	const char *keys[DAEMON_RESTART_KEYS_MAX];
	const size_t n = daemon_restart_keys(old, cfg, keys, DAEMON_RESTART_KEYS_MAX);

	for (size_t i = 0; i < n; i++)
		log_warn("reload: \"%s\" changed; restart steerd to apply it", keys[i]);
}
