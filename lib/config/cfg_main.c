/*
 * The main file (steerd.json): listeners, zone, server settings, and the balancers, which
 * are checked last because they name pools from pools_dir.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg_dns_int.h"
#include "config/cfg_notify_int.h"
#include "config/cfg_user_int.h"
#include "config/cfg_xfr_int.h"
#include "config/config_int.h"

#ifndef STEER_VERSION
#define STEER_VERSION "unknown"
#endif

#define TTL_MAX          2147483647u /* RFC 2181 §8 */
#define BALANCER_TTL_MAX 604800u
#define WORKERS_MAX      64u
#define CPU_SETSIZE_MAX  1024 /* glibc's cpu_set_t */
#define FAILBACK_MAX_S   86400u

static const char *const main_keys[] = {
	"listen",   "zone",     "balancers", "pools_dir",     "monitors_dir", "state",
	"identity", "version",  "workers",   "tcp",           "udp",          "affinity",
	"user",     "group",    "api",       "notifications", "cookies",      "rrl",
	"log",      "transfer", NULL,
};
static const char *const zone_keys[] = {
	"name", "soa", "ns", "ns_ttl", "records", "zone_file", NULL,
};
static const char *const soa_keys[] = {
	"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl", NULL,
};
static const char *const state_keys[] = {"path", "retention_days", NULL};
static const char *const tcp_keys[] = {"max_clients", "idle_timeout", "query_timeout",
				       "max_per_source", NULL};
static const char *const udp_keys[] = {"batch_wait_us", NULL};
static const char *const affinity_keys[] = {"dns", "monitor", NULL};
static const char *const api_keys[] = {"listen", "token_file", "public_read", NULL};
static const char *const balancer_keys[] = {
	"name",          "ttl",      "failover_ttl",  "steering_policy", "default_pools",
	"fallback_pool", "failback", "failback_hold", "failover_budget", NULL,
};
static const char *const policy_names[] = {"failover", "random", NULL};
static const char *const failback_names[] = {"auto", "manual", NULL};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Copy the @p n bytes at @p s into @p host (NUL-terminated). */
static int host_part(char *host, size_t size, const char *s, ptrdiff_t n)
{
	if (n < 0 || (size_t)n >= size)
		return -1;
	memcpy(host, s, (size_t)n);
	host[n] = '\0';
	return 0;
}

/* "192.0.2.1:53" or "[2001:db8::1]:53" into @p l->ss. */
static int parse_listen_addr(const char *text, struct steer_listen *l)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&l->ss;
	const char *colon, *end = text[0] == '[' ? strchr(text, ']') : NULL;
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;

	colon = end != NULL ? end + 1 : strrchr(text, ':');
	if (colon == NULL || *colon != ':' || parse_port(colon + 1, &port) < 0)
		return -1;
	if (end != NULL) {
		if (host_part(host, sizeof(host), text + 1, end - text - 1) < 0 ||
		    inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		l->len = sizeof(*s6);
		return 0;
	}
	if (host_part(host, sizeof(host), text, colon - text) < 0 ||
	    inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -1;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	l->len = sizeof(*s4);
	return 0;
}

int steer_cfg_parse_addr_port(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct steer_listen l = {0};

	if (parse_listen_addr(text, &l) < 0)
		return -1;
	*ss = l.ss;
	*len = l.len;
	return 0;
}

/*
 * The array of "address:port" strings at @p path, allocated for every element (entries are
 * filled by listen_entry()). @return NULL after reporting a wrong type or an empty array.
 */
static struct steer_listen *listen_array(struct cfg_ctx *c, const json_t *arr, const char *path)
{
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, path, "must be a non-empty array of \"address:port\" strings");
		return NULL;
	}
	return steer_cfg_calloc(c, json_array_size(arr), sizeof(struct steer_listen));
}

/* One listen string @p v at @p path into @p l. @return 0, or -1 (reported, @p l zeroed). */
static int listen_entry(struct cfg_ctx *c, const json_t *v, const char *path,
			struct steer_listen *l)
{
	if (!json_is_string(v)) {
		steer_cfg_err(c, path, "must be a string");
		return -1;
	}
	if (parse_listen_addr(json_string_value(v), l) < 0) {
		memset(l, 0, sizeof(*l));
		steer_cfg_err(c, path, "must be \"IPv4:port\" or \"[IPv6]:port\"");
		return -1;
	}
	l->text = steer_cfg_strdup(c, json_string_value(v));
	return 0;
}

static void parse_listen(struct cfg_ctx *c, const json_t *root)
{
	struct steer_config *cfg = c->cfg;
	char sub[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, root, "", "listen", true, &arr) <= 0)
		return;
	cfg->listen = listen_array(c, arr, "listen");
	for (size_t i = 0; cfg->listen != NULL && i < json_array_size(arr); i++) {
		steer_cfg_path_idx(sub, sizeof(sub), "listen", i);
		if (listen_entry(c, json_array_get(arr, i), sub, &cfg->listen[cfg->n_listen]) == 0)
			cfg->n_listen++;
	}
}

/*
 * `affinity.<key>`: a non-empty array of distinct CPU numbers of this machine (as the
 * kernel counts them: 0 to the configured CPUs - 1, see /sys/devices/system/cpu).
 */
static void parse_cpus(struct cfg_ctx *c, const json_t *aff, const char *key,
		       struct steer_cpus *out)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char path[CFG_PATH_MAX], sub[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, aff, "affinity", key, false, &arr) <= 0)
		return;
	steer_cfg_path(path, sizeof(path), "affinity", key);
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, path, "must be a non-empty array of CPU numbers");
		return;
	}
	out->cpu = steer_cfg_calloc(c, json_array_size(arr), sizeof(*out->cpu));
	if (out->cpu == NULL)
		return;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
		bool dup = false;

		steer_cfg_path_idx(sub, sizeof(sub), path, i);
		if (n < 0 || n >= ncpu || n >= CPU_SETSIZE_MAX) {
			steer_cfg_err(c, sub,
				      "must be a CPU number from 0 to %ld (this machine has %ld)",
				      ncpu - 1, ncpu);
			continue;
		}
		for (size_t j = 0; j < out->n; j++)
			dup = dup || out->cpu[j] == (uint16_t)n;
		if (dup) {
			steer_cfg_err(c, sub, "CPU %lld is listed twice", (long long)n);
			continue;
		}
		out->cpu[out->n++] = (uint16_t)n;
	}
}

/*
 * Parse an absolute domain name (the trailing dot is optional) into @p wire and, with
 * @p text, its canonical lower-case text with the trailing dot.
 */
static int abs_name(struct cfg_ctx *c, const char *path, const char *name, uint8_t *wire,
		    char **text)
{
	char buf[4 * STEER_NAME_MAX + 8];
	size_t len = strlen(name);
	int n = -1;

	if (len > 0 && len < sizeof(buf) - 1) {
		snprintf(buf, sizeof(buf), "%s%s", name, name[len - 1] == '.' ? "" : ".");
		n = steer_name_from_text(buf, NULL, wire, STEER_NAME_MAX);
	}
	if (n <= 1) { /* the root is no name to serve or point at */
		steer_cfg_err(c, path, "must be a valid domain name");
		return -1;
	}
	if (text != NULL)
		*text = steer_cfg_strdup(c, steer_name_to_text(wire, buf, sizeof(buf)));
	return n;
}

static void abs_name_key(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
			 char **text)
{
	uint8_t wire[STEER_NAME_MAX];
	char sub[CFG_PATH_MAX];
	const char *s;

	if (steer_cfg_str(c, obj, path, key, true, &s) > 0)
		abs_name(c, steer_cfg_path(sub, sizeof(sub), path, key), s, wire, text);
}

static void parse_soa(struct cfg_ctx *c, const json_t *zone)
{
	struct steer_zone_conf *z = &c->cfg->zone;
	json_t *soa;

	if (steer_cfg_get(c, zone, "zone", "soa", true, &soa) <= 0 ||
	    !steer_cfg_object(c, soa, "zone.soa", soa_keys))
		return;
	abs_name_key(c, soa, "zone.soa", "mname", &z->soa_mname);
	abs_name_key(c, soa, "zone.soa", "rname", &z->soa_rname);
	steer_cfg_uint(c, soa, "zone.soa", "serial", true, 0, UINT32_MAX, &z->soa_serial);
	steer_cfg_uint(c, soa, "zone.soa", "refresh", true, 0, TTL_MAX, &z->soa_refresh);
	steer_cfg_uint(c, soa, "zone.soa", "retry", true, 0, TTL_MAX, &z->soa_retry);
	steer_cfg_uint(c, soa, "zone.soa", "expire", true, 0, TTL_MAX, &z->soa_expire);
	steer_cfg_uint(c, soa, "zone.soa", "minimum", true, 0, TTL_MAX, &z->soa_minimum);
	steer_cfg_uint(c, soa, "zone.soa", "ttl", true, 0, TTL_MAX, &z->soa_ttl);
}

static void parse_ns(struct cfg_ctx *c, const json_t *zone)
{
	struct steer_zone_conf *z = &c->cfg->zone;
	uint8_t wire[STEER_NAME_MAX];
	char sub[CFG_PATH_MAX];
	json_t *arr;
	size_t i;

	z->ns_ttl = z->soa_ttl;
	steer_cfg_uint(c, zone, "zone", "ns_ttl", false, 0, TTL_MAX, &z->ns_ttl);
	if (steer_cfg_get(c, zone, "zone", "ns", true, &arr) <= 0)
		return;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, "zone.ns", "must be a non-empty array of name server names");
		return;
	}
	z->ns = steer_cfg_calloc(c, json_array_size(arr), sizeof(*z->ns));
	if (z->ns == NULL)
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);

		steer_cfg_path_idx(sub, sizeof(sub), "zone.ns", i);
		if (!json_is_string(v)) {
			steer_cfg_err(c, sub, "must be a string");
			continue;
		}
		if (abs_name(c, sub, json_string_value(v), wire, &z->ns[z->n_ns]) > 0)
			z->n_ns++;
	}
}

static void parse_records(struct cfg_ctx *c, const json_t *zone)
{
	struct steer_zone_conf *z = &c->cfg->zone;
	char sub[CFG_PATH_MAX];
	json_t *arr;
	size_t i;

	if (steer_cfg_get(c, zone, "zone", "records", false, &arr) <= 0)
		return;
	if (!json_is_array(arr)) {
		steer_cfg_err(c, "zone.records", "must be an array of strings");
		return;
	}
	z->records = steer_cfg_calloc(c, json_array_size(arr), sizeof(*z->records));
	if (z->records == NULL)
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		struct steer_record_src *r = &z->records[z->n_records];

		steer_cfg_path_idx(sub, sizeof(sub), "zone.records", i);
		if (!json_is_string(v)) {
			steer_cfg_err(c, sub, "must be a string");
			continue;
		}
		r->text = steer_cfg_strdup(c, json_string_value(v));
		r->jpath = steer_cfg_strdup(c, sub);
		r->pos = steer_cfg_pos(c, sub);
		z->n_records++;
	}
}

static void parse_zone(struct cfg_ctx *c, const json_t *root)
{
	struct steer_zone_conf *z = &c->cfg->zone;
	const char *s;
	json_t *zone;
	int n;

	if (steer_cfg_get(c, root, "", "zone", true, &zone) <= 0 ||
	    !steer_cfg_object(c, zone, "zone", zone_keys))
		return;
	z->pos = steer_cfg_pos(c, "zone");
	if (steer_cfg_str(c, zone, "zone", "name", true, &s) > 0) {
		n = abs_name(c, "zone.name", s, c->zone_wire, &z->name);
		c->zone_wire_len = n > 0 ? (size_t)n : 0;
	}
	parse_soa(c, zone);
	parse_ns(c, zone);
	parse_records(c, zone);
	if (steer_cfg_str(c, zone, "zone", "zone_file", false, &s) > 0)
		z->zone_file = steer_cfg_resolve(c, c->cfg->dir, s);
	/* ldns reads it later with a blocking fopen(): a FIFO must not get that far */
	if (z->zone_file != NULL)
		steer_cfg_check_file(c, "zone.zone_file", z->zone_file);
}

/* A folder or file name relative to the main file's folder; @return 1 if given. */
static int resolved(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		    const char *def, char **out)
{
	char sub[CFG_PATH_MAX];
	const char *s = def;
	int rc = steer_cfg_str(c, obj, path, key, false, &s);

	if (rc > 0 && s[0] == '\0') {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key), "must not be empty");
		s = def;
	}
	*out = steer_cfg_resolve(c, c->cfg->dir, s);
	return rc;
}

static void parse_state(struct cfg_ctx *c, const json_t *root)
{
	struct steer_config *cfg = c->cfg;
	json_t *state = NULL;

	cfg->retention_days = STEER_DEFAULT_RETENTION_DAYS;
	if (steer_cfg_get(c, root, "", "state", false, &state) > 0 &&
	    steer_cfg_object(c, state, "state", state_keys)) {
		resolved(c, state, "state", "path", STEER_DEFAULT_STATE_PATH, &cfg->state_path);
		steer_cfg_uint(c, state, "state", "retention_days", false, 1, 3650,
			       &cfg->retention_days);
	} else {
		cfg->state_path = steer_cfg_resolve(c, cfg->dir, STEER_DEFAULT_STATE_PATH);
	}
}

static void parse_version(struct cfg_ctx *c, const json_t *root)
{
	json_t *v;

	if (steer_cfg_get(c, root, "", "version", false, &v) <= 0) {
		c->cfg->version = steer_cfg_strdup(c, "steer " STEER_VERSION);
		return;
	}
	if (json_is_false(v))
		return; /* hidden: version.bind is refused */
	if (json_is_string(v) && steer_cfg_txt_string(c, "version", json_string_length(v)))
		c->cfg->version = steer_cfg_strdup(c, json_string_value(v));
	else if (!json_is_string(v))
		steer_cfg_err(c, "version", "must be a string or false");
}

static void parse_server(struct cfg_ctx *c, const json_t *root)
{
	struct steer_config *cfg = c->cfg;
	uint32_t idle_s = STEER_DEFAULT_TCP_IDLE_S;
	uint32_t query_s = STEER_DEFAULT_TCP_QUERY_S;
	char host[256] = "";
	json_t *tcp;
	json_t *udp;
	json_t *aff;

	if (steer_cfg_dup(c, root, "", "identity", false, &cfg->identity) == 0) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "localhost");
		cfg->identity = steer_cfg_strdup(c, host);
	}
	if (cfg->identity != NULL)
		steer_cfg_txt_string(c, "identity", strlen(cfg->identity));
	parse_version(c, root);
	cfg->workers = STEER_DEFAULT_WORKERS;
	steer_cfg_uint(c, root, "", "workers", false, 0, WORKERS_MAX, &cfg->workers);
	cfg->tcp_max_clients = STEER_DEFAULT_TCP_CLIENTS;
	cfg->tcp_max_per_source = STEER_DEFAULT_TCP_PER_SOURCE;
	if (steer_cfg_get(c, root, "", "tcp", false, &tcp) > 0 &&
	    steer_cfg_object(c, tcp, "tcp", tcp_keys)) {
		steer_cfg_uint(c, tcp, "tcp", "max_clients", false, 1, 65535,
			       &cfg->tcp_max_clients);
		steer_cfg_uint(c, tcp, "tcp", "idle_timeout", false, 1, 3600, &idle_s);
		steer_cfg_uint(c, tcp, "tcp", "query_timeout", false, 1, 60, &query_s);
		steer_cfg_uint(c, tcp, "tcp", "max_per_source", false, 0, 65535,
			       &cfg->tcp_max_per_source);
	}
	cfg->tcp_idle_timeout_ms = idle_s * 1000;
	cfg->tcp_query_timeout_ms = (query_s < idle_s ? query_s : idle_s) * 1000;
	cfg->udp_batch_wait_us = STEER_DEFAULT_UDP_WAIT_US;
	if (steer_cfg_get(c, root, "", "udp", false, &udp) > 0 &&
	    steer_cfg_object(c, udp, "udp", udp_keys))
		steer_cfg_uint(c, udp, "udp", "batch_wait_us", false, 0, 1000,
			       &cfg->udp_batch_wait_us);
	if (steer_cfg_get(c, root, "", "affinity", false, &aff) > 0 &&
	    steer_cfg_object(c, aff, "affinity", affinity_keys)) {
		parse_cpus(c, aff, "dns", &cfg->cpus_dns);
		parse_cpus(c, aff, "monitor", &cfg->cpus_monitor);
	}
}

/* 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z): only this host can connect. */
static bool listen_is_loopback(const struct steer_listen *l)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->ss;

	if (l->ss.ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127;
}

/*
 * Whether TCP listeners on @p a and @p b would claim the same port: same family and port,
 * and the same address, or a wildcard (0.0.0.0, ::) on either side if @p wildcard.
 */
static bool listen_overlap(const struct steer_listen *a, const struct steer_listen *b,
			   bool wildcard)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->ss;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->ss;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       (a4->sin_addr.s_addr == b4->sin_addr.s_addr ||
			(wildcard && (a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
				      b4->sin_addr.s_addr == htonl(INADDR_ANY))));
	return a6->sin6_port == b6->sin6_port &&
	       (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) ||
		(wildcard && (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
			      IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr))));
}

/* The @p n-th API listen address, at @p path, against the earlier ones and the DNS ones. */
static void api_listen_check(struct cfg_ctx *c, const char *path, const struct steer_api_conf *a,
			     size_t n)
{
	const struct steer_config *cfg = c->cfg;
	const struct steer_listen *l = &a->listen[n];

	if (l->text == NULL)
		return; /* out of memory, already recorded */
	for (size_t i = 0; i < n; i++) {
		if (listen_overlap(&a->listen[i], l, false)) {
			steer_cfg_err(c, path, "\"%s\" is listed twice", l->text);
			break;
		}
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if (listen_overlap(&cfg->listen[i], l, true)) {
			steer_cfg_err(c, path,
				      "conflicts with DNS listen address \"%s\" (both use TCP)",
				      cfg->listen[i].text);
			break;
		}
	}
	if (a->token_file == NULL && !listen_is_loopback(l))
		steer_cfg_err(c, path, "a non-loopback API address needs api.token_file");
}

static void api_listen(struct cfg_ctx *c, const json_t *api, struct steer_api_conf *a)
{
	char sub[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, api, "api", "listen", false, &arr) == 0) {
		a->listen = steer_cfg_calloc(c, 1, sizeof(*a->listen));
		if (a->listen == NULL || parse_listen_addr(STEER_DEFAULT_API_LISTEN, a->listen) < 0)
			return;
		a->listen[0].text = steer_cfg_strdup(c, STEER_DEFAULT_API_LISTEN);
		a->n_listen = 1;
		api_listen_check(c, "api", a, 0);
		return;
	}
	a->listen = listen_array(c, arr, "api.listen");
	for (size_t i = 0; a->listen != NULL && i < json_array_size(arr); i++) {
		steer_cfg_path_idx(sub, sizeof(sub), "api.listen", i);
		if (listen_entry(c, json_array_get(arr, i), sub, &a->listen[a->n_listen]) == 0)
			api_listen_check(c, sub, a, a->n_listen++);
	}
}

static bool token_space(unsigned char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* The token in the @p n bytes of @p buf (room for one more byte), trimmed, into a->token. */
static void token_parse(struct cfg_ctx *c, struct steer_api_conf *a, char *buf, size_t n)
{
	size_t lo = 0, hi = n;
	bool ok;

	while (lo < hi && token_space((unsigned char)buf[lo]))
		lo++;
	while (hi > lo && token_space((unsigned char)buf[hi - 1]))
		hi--;
	ok = hi - lo >= STEER_API_TOKEN_MIN;
	for (size_t i = lo; ok && i < hi; i++)
		ok = (unsigned char)buf[i] > ' ' && (unsigned char)buf[i] < 0x7f;
	if (!ok) {
		steer_cfg_err(c, "api.token_file",
			      "%s must hold a token of at least %d printable ASCII characters "
			      "without spaces",
			      a->token_file, STEER_API_TOKEN_MIN);
		return;
	}
	buf[hi] = '\0';
	a->token = steer_cfg_strdup(c, buf + lo);
}

/* Check the open token file @p fd, then read and parse it. */
static void token_load(struct cfg_ctx *c, struct steer_api_conf *a, int fd)
{
	char buf[STEER_API_TOKEN_FILE_MAX + 2]; /* one more byte, and a NUL */
	ssize_t n = steer_cfg_read_private(c, "api.token_file", a->token_file, fd, buf,
					   STEER_API_TOKEN_FILE_MAX);

	if (n >= 0)
		token_parse(c, a, buf, (size_t)n);
}

/* Whether the folder that would hold a->token_file exists. */
static bool token_dir_exists(struct cfg_ctx *c, const struct steer_api_conf *a)
{
	char *dir = steer_cfg_strdup(c, a->token_file);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	struct stat st;
	bool ok;

	if (dir == NULL)
		return true; /* out of memory, already recorded */
	if (slash != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	ok = stat(slash != NULL ? dir : ".", &st) == 0 && S_ISDIR(st.st_mode);
	free(dir);
	return ok;
}

/*
 * `api.token_file`. Opened non-blocking and checked with fstat() on the open descriptor, so
 * a FIFO cannot stall the load and the file checked is the file read. A file that does not
 * exist yet, in a folder that does, is fine: steerd creates it.
 */
static void api_token_file(struct cfg_ctx *c, const json_t *api, struct steer_api_conf *a)
{
	const char *s;
	char eb[128];
	int fd, e;

	if (steer_cfg_str(c, api, "api", "token_file", false, &s) <= 0)
		return;
	if (s[0] == '\0') {
		steer_cfg_err(c, "api.token_file", "must not be empty");
		return;
	}
	a->token_file = steer_cfg_resolve(c, c->cfg->dir, s);
	if (a->token_file == NULL)
		return;
	fd = open(a->token_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		token_load(c, a, fd);
		close(fd);
		return;
	}
	e = errno;
	if (e == ENOENT && token_dir_exists(c, a))
		a->token_missing = true;
	else
		steer_cfg_err(c, "api.token_file", "cannot open %s: %s", a->token_file,
			      steer_errno_str(e, eb, sizeof(eb)));
}

/* `api`: the HTTP API; absent = no API. Needs the DNS listen addresses (parsed first). */
static void parse_api(struct cfg_ctx *c, json_t *root)
{
	struct steer_api_conf *a = &c->cfg->api;
	json_t *api;

	if (steer_cfg_get(c, root, "", "api", false, &api) <= 0 ||
	    !steer_cfg_object(c, api, "api", api_keys))
		return;
	a->enabled = true;
	a->public_read = STEER_DEFAULT_API_PUBLIC_READ;
	steer_cfg_bool(c, api, "api", "public_read", &a->public_read);
	api_token_file(c, api, a);
	api_listen(c, api, a);
}

void steer_cfg_main(struct cfg_ctx *c, json_t *root)
{
	if (!steer_cfg_object(c, root, "", main_keys))
		return;
	parse_listen(c, root);
	parse_zone(c, root);
	resolved(c, root, "", "pools_dir", STEER_DEFAULT_POOLS_DIR, &c->pools_dir);
	c->monitors_dir_set = resolved(c, root, "", "monitors_dir", STEER_DEFAULT_MONITORS_DIR,
				       &c->monitors_dir) > 0;
	parse_state(c, root);
	parse_server(c, root);
	parse_api(c, root);
	steer_cfg_notifications(c, root);
	steer_cfg_dns(c, root);
	steer_cfg_log(c, root);
	steer_cfg_user(c, root);
	steer_cfg_xfr(c, root);
}

static const struct steer_pool *pool_ref(struct cfg_ctx *c, const char *path, const char *name)
{
	const struct steer_pool *p = steer_cfg_find_pool(c, name);
	struct cfg_suggest s = {.word = name};
	char hint[96];

	if (p != NULL)
		return p;
	if (steer_cfg_index_find(&c->broken_pools, name) != SIZE_MAX)
		return NULL; /* its file did not parse: that error is the one to fix */
	for (size_t i = 0; i < c->cfg->n_pools; i++)
		if (c->cfg->pools[i].name != NULL)
			steer_cfg_suggest(&s, c->cfg->pools[i].name);
	steer_cfg_err(c, path, "pool \"%s\" does not exist%s", name,
		      steer_cfg_hint(&s, hint, sizeof(hint)));
	return NULL;
}

static bool pool_listed(const struct steer_balancer *b, const struct steer_pool *p)
{
	for (size_t i = 0; i < b->n_pools; i++)
		if (b->pools[i] == p)
			return true;
	return false;
}

static void default_pools(struct cfg_ctx *c, const json_t *arr, const char *path,
			  struct steer_balancer *b)
{
	const struct steer_pool *p;
	char el[CFG_PATH_MAX];
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, path, "must be a non-empty array of pool names");
		return;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers is meant */
	b->pools = steer_cfg_calloc(c, json_array_size(arr), sizeof(*b->pools));
	if (b->pools == NULL)
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);

		steer_cfg_path_idx(el, sizeof(el), path, i);
		if (!json_is_string(v)) {
			steer_cfg_err(c, el, "must be a string");
			continue;
		}
		p = pool_ref(c, el, json_string_value(v));
		if (p != NULL && pool_listed(b, p))
			steer_cfg_err(c, el, "pool \"%s\" is listed twice", p->name);
		else if (p != NULL)
			b->pools[b->n_pools++] = p;
	}
}

static void balancer_pools(struct cfg_ctx *c, const json_t *obj, const char *path,
			   struct steer_balancer *b)
{
	char sub[CFG_PATH_MAX];
	const char *s;
	json_t *arr;

	if (steer_cfg_get(c, obj, path, "default_pools", true, &arr) > 0)
		default_pools(c, arr, steer_cfg_path(sub, sizeof(sub), path, "default_pools"), b);
	if (steer_cfg_str(c, obj, path, "fallback_pool", false, &s) > 0)
		b->fallback =
			pool_ref(c, steer_cfg_path(sub, sizeof(sub), path, "fallback_pool"), s);
}

static void balancer_name(struct cfg_ctx *c, const json_t *obj, const char *path,
			  struct steer_balancer *b)
{
	char sub[CFG_PATH_MAX], text[4 * STEER_NAME_MAX + 8], apex[4 * STEER_NAME_MAX + 8];
	uint8_t wire[STEER_NAME_MAX];
	int n;

	if (steer_cfg_dup(c, obj, path, "name", true, &b->name) <= 0 || c->zone_wire_len == 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "name");
	steer_name_to_text(c->zone_wire, apex, sizeof(apex));
	n = steer_name_from_text(b->name, c->zone_wire, wire, sizeof(wire));
	if (n <= 0) {
		steer_cfg_err(c, sub, "must be a valid domain name");
	} else if (!steer_name_is_subdomain(wire, (size_t)n, c->zone_wire, c->zone_wire_len)) {
		steer_cfg_err(c, sub, "must be inside zone %s", apex);
	} else if ((size_t)n == c->zone_wire_len) {
		steer_cfg_err(c, sub, "must be inside zone %s, not its apex", apex);
	} else {
		b->fqdn = steer_cfg_strdup(c, steer_name_to_text(wire, text, sizeof(text)));
	}
}

static void balancer_unique(struct cfg_ctx *c, const char *path, size_t idx)
{
	const struct steer_balancer *b = &c->cfg->balancers[idx];
	char sub[CFG_PATH_MAX];
	size_t first;

	if (b->fqdn != NULL && steer_cfg_name_taken(c, &c->balancer_ix, b->fqdn, idx, &first))
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, "name"),
			      "duplicate balancer \"%s\" (also balancers[%zu])", b->fqdn, first);
}

/* `failback`, `failback_hold`: only a failover balancer has an earlier pool to go back to. */
static void balancer_failback(struct cfg_ctx *c, const json_t *obj, const char *path,
			      struct steer_balancer *b)
{
	uint32_t hold_s = STEER_DEFAULT_FAILBACK_HOLD_S;
	int failback = STEER_DEFAULT_FAILBACK;
	char sub[CFG_PATH_MAX];

	steer_cfg_enum(c, obj, path, "failback", failback_names, &failback);
	steer_cfg_uint(c, obj, path, "failback_hold", false, 0, FAILBACK_MAX_S, &hold_s);
	if (b->policy == STEER_POLICY_FAILOVER) {
		b->failback = (enum steer_failback)failback;
		b->failback_hold_ms = hold_s * 1000;
		return;
	}
	if (failback != STEER_DEFAULT_FAILBACK)
		steer_cfg_err_key(c, steer_cfg_path(sub, sizeof(sub), path, "failback"),
				  "failback applies only to steering_policy \"failover\"");
	if (hold_s != STEER_DEFAULT_FAILBACK_HOLD_S)
		steer_cfg_err_key(c, steer_cfg_path(sub, sizeof(sub), path, "failback_hold"),
				  "failback_hold applies only to steering_policy \"failover\"");
}

static void parse_balancer(struct cfg_ctx *c, json_t *obj, const char *path, size_t idx)
{
	struct steer_balancer *b = &c->cfg->balancers[idx];
	int policy = STEER_POLICY_FAILOVER;

	b->ttl_s = STEER_DEFAULT_BALANCER_TTL_S;
	b->index = (uint32_t)idx;
	b->pos = steer_cfg_pos(c, path);
	if (!steer_cfg_object(c, obj, path, balancer_keys))
		return;
	balancer_name(c, obj, path, b);
	balancer_unique(c, path, idx);
	steer_cfg_uint(c, obj, path, "ttl", false, 0, BALANCER_TTL_MAX, &b->ttl_s);
	b->failover_ttl_s =
		b->ttl_s < STEER_DEFAULT_FAILOVER_TTL_S ? b->ttl_s : STEER_DEFAULT_FAILOVER_TTL_S;
	steer_cfg_uint(c, obj, path, "failover_ttl", false, 0, BALANCER_TTL_MAX,
		       &b->failover_ttl_s);
	steer_cfg_enum(c, obj, path, "steering_policy", policy_names, &policy);
	b->policy = (enum steer_policy)policy;
	balancer_pools(c, obj, path, b);
	balancer_failback(c, obj, path, b);
	steer_cfg_budget(c, obj, path, b);
}

void steer_cfg_balancers(struct cfg_ctx *c, json_t *root)
{
	struct steer_config *cfg = c->cfg;
	char sub[CFG_PATH_MAX];
	json_t *arr;
	size_t i;

	if (!json_is_object(root) || steer_cfg_get(c, root, "", "balancers", false, &arr) <= 0)
		return;
	if (!json_is_array(arr)) {
		steer_cfg_err(c, "balancers", "must be an array");
		return;
	}
	cfg->balancers = steer_cfg_calloc(c, json_array_size(arr), sizeof(*cfg->balancers));
	if (cfg->balancers == NULL)
		return;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);

		cfg->n_balancers++; /* counted before it is filled, so it is always freed */
		parse_balancer(c, v, steer_cfg_path_idx(sub, sizeof(sub), "balancers", i), i);
	}
}
