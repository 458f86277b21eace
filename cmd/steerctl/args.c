/*
 * Checks of what the operator typed (durations, limits, addresses, POOL/ORIGIN) and
 * where the API and its token are: --api / $STEER_API and the token file chain.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

#define ETC_TOKEN_FILE "/etc/steer/api.token"
#define CWD_TOKEN_FILE "api.token"

/* 1 to @p max_digits digits (a number >= @p min), then one of @p units (or none if
 * @p unit_optional). */
static bool is_amount(const char *s, size_t max_digits, const char *units, bool unit_optional,
		      unsigned long long min)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > max_digits || strtoull(s, NULL, 10) < min)
		return false;
	if (s[n] == '\0')
		return unit_optional;
	return s[n + 1] == '\0' && strchr(units, s[n]) != NULL;
}

static bool is_type(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]))
		n++;
	return n > 0 && n <= 16 && s[n] == '\0';
}

static bool is_ip(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

int ctl_check_values(const struct ctl *ctl)
{
	const struct ctl_cmd *cmd = ctl->cmd;

	if (ctl->since != NULL && !is_amount(ctl->since, 10, "smhd", true, 0))
		return ctl_usage_error(cmd,
				       "--since \"%s\": expected 90s, 30m, 1h, 2d or a Unix time",
				       ctl->since);
	if (ctl->for_ != NULL && !is_amount(ctl->for_, 9, "smhd", false, 1))
		return ctl_usage_error(cmd, "--for \"%s\": expected 90s, 30m, 1h or 2d", ctl->for_);
	if (ctl->limit != NULL && !is_amount(ctl->limit, 9, "", true, 1))
		return ctl_usage_error(cmd, "--limit \"%s\": expected a positive number",
				       ctl->limit);
	if (ctl->type != NULL && !is_type(ctl->type))
		return ctl_usage_error(cmd, "--type \"%s\": expected a record type (A, AAAA)",
				       ctl->type);
	if (ctl->client != NULL && !is_ip(ctl->client))
		return ctl_usage_error(cmd, "--client \"%s\": expected an IPv4 or IPv6 address",
				       ctl->client);
	if (ctl->config != NULL && ctl->config[0] == '\0')
		return ctl_usage_error(cmd, "--config needs a file name");
	return 0;
}

int ctl_split_target(const struct ctl *ctl, const char *arg, bool origin_optional, char *pool,
		     size_t pool_size, char *origin, size_t origin_size)
{
	const char *slash = strchr(arg, '/');
	size_t pool_len = slash != NULL ? (size_t)(slash - arg) : strlen(arg);
	const char *want = origin_optional ? "POOL or POOL/ORIGIN" : "POOL/ORIGIN";

	if (pool_len == 0 || (slash != NULL && slash[1] == '\0') ||
	    (slash == NULL && !origin_optional))
		return ctl_usage_error(ctl->cmd, "%s: expected %s, got \"%s\"", ctl->cmd->name,
				       want, arg);
	if (pool_len >= pool_size || (slash != NULL && strlen(slash + 1) >= origin_size))
		return ctl_usage_error(ctl->cmd, "%s: name too long: \"%s\"", ctl->cmd->name, arg);
	memcpy(pool, arg, pool_len);
	pool[pool_len] = '\0';
	origin[0] = '\0';
	if (slash != NULL)
		memcpy(origin, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

/* --api, else $STEER_API, else the default; "host:port" gets "http://". */
static int resolve_url(struct ctl *ctl)
{
	/* NOLINTNEXTLINE(concurrency-mt-unsafe): steerctl has one thread */
	const char *url = ctl->api_arg, *env = getenv("STEER_API");
	const char *scheme_end;
	size_t len;

	if (url == NULL)
		url = env != NULL && env[0] != '\0' ? env : CTL_DEFAULT_API;
	for (const char *p = url; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p))
			return ctl_usage_error(ctl->cmd,
					       "API URL \"%s\": no blanks or control "
					       "characters allowed",
					       url);
	scheme_end = strstr(url, "://");
	if (scheme_end != NULL && strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return ctl_usage_error(ctl->cmd, "API URL \"%s\": expected http:// or https://",
				       url);
	len = (size_t)snprintf(ctl->api, sizeof(ctl->api), "%s%s",
			       scheme_end == NULL ? "http://" : "", url);
	if (len >= sizeof(ctl->api) || url[0] == '\0')
		return ctl_usage_error(ctl->cmd, "API URL \"%s\": too long or empty", url);
	while (len > 0 && ctl->api[len - 1] == '/')
		ctl->api[--len] = '\0';
	return 0;
}

/* Read and trim a token; on failure @p why says what is wrong with the file. */
static int read_token(const char *path, char *buf, size_t size, char *why, size_t why_size)
{
	FILE *f = fopen(path, "r");
	size_t n, start = 0;

	if (f == NULL) {
		steer_errno_str(errno, why, why_size);
		return -1;
	}
	n = fread(buf, 1, size, f);
	if (ferror(f)) {
		steer_errno_str(errno, why, why_size);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (n == size) {
		snprintf(why, why_size, "longer than %zu bytes", size - 1);
		return -1;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	memmove(buf, buf + start, n - start);
	buf[n - start] = '\0';
	for (size_t i = 0; buf[i] != '\0'; i++)
		if (!isgraph((unsigned char)buf[i])) {
			snprintf(why, why_size, "a token is one word of printable ASCII");
			return -1;
		}
	if (buf[0] == '\0') {
		snprintf(why, why_size, "the file is empty");
		return -1;
	}
	return 0;
}

/* An implicit token file: used when it can be, else skipped with a warning. */
static void try_token(struct ctl *ctl, const char *path)
{
	char why[256];

	if (read_token(path, ctl->token, sizeof(ctl->token), why, sizeof(why)) == 0) {
		ctl->has_token = true;
		return;
	}
	fprintf(stderr, "steerctl: warning: ignoring the token file %s: %s\n", path, why);
}

static int resolve_token(struct ctl *ctl)
{
	const char *path = ctl->token_file, *from = "--token-file";
	/* NOLINTNEXTLINE(concurrency-mt-unsafe): steerctl has one thread */
	const char *env = getenv("STEER_TOKEN_FILE");
	struct stat st;
	char why[256];

	if (path == NULL && env != NULL && env[0] != '\0') {
		path = env;
		from = "STEER_TOKEN_FILE";
	}
	if (path != NULL) {
		if (read_token(path, ctl->token, sizeof(ctl->token), why, sizeof(why)) != 0) {
			fprintf(stderr, "steerctl: cannot use the token file %s (from %s): %s\n",
				path, from, why);
			return CTL_EXIT_USAGE;
		}
		ctl->has_token = true;
		return 0;
	}
	if (stat(CWD_TOKEN_FILE, &st) == 0)
		try_token(ctl, CWD_TOKEN_FILE);
	if (!ctl->has_token && access(ETC_TOKEN_FILE, R_OK) == 0)
		try_token(ctl, ETC_TOKEN_FILE);
	return 0;
}

int ctl_resolve_api(struct ctl *ctl)
{
	int rc = resolve_url(ctl);

	if (rc != 0)
		return rc;
	return resolve_token(ctl);
}
