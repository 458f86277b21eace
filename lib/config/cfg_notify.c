/*
 * `notifications` of steerd.json: one target per element (webhook, slack, discord, ntfy,
 * gotify, email, exec), each with its type's own keys. Secret files are read and checked
 * here, like api.token_file: a regular file, not open to group or others, bounded size.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg_notify_int.h"

#define COALESCE_MAX_S  3600u
#define TIMEOUT_MAX_S   300u
#define RETRY_MAX_MAX_S 86400u
#define MAX_AGE_MIN_S   60u
#define MAX_AGE_MAX_S   604800u
#define HMAC_KEY_MIN    16 /* bytes of a webhook secret, at least */

static const char *const type_names[] = {
	"webhook", "slack", "discord", "ntfy", "gotify", "email", "exec", NULL,
};
static const char *const kind_names[] = {
	"origin", "pool", "balancer", "override", "reload", NULL,
};

#define COMMON_KEYS "name", "type", "events", "coalesce", "timeout", "retry_max", "max_age"
static const char *const webhook_keys[] = {COMMON_KEYS, "url", "secret_file", NULL};
static const char *const chat_keys[] = {COMMON_KEYS, "url", NULL};
static const char *const token_keys[] = {COMMON_KEYS, "url", "token_file", NULL};
static const char *const email_keys[] = {COMMON_KEYS, "url", "from", "to", "auth_file", NULL};
static const char *const exec_keys[] = {COMMON_KEYS, "command", NULL};
static const char *const any_keys[] = {
	COMMON_KEYS, "url", "secret_file", "token_file", "from", "to", "auth_file", "command", NULL,
};

/* Keys of each type, in the order of enum steer_notify_type. */
static const char *const *const type_keys[] = {
	webhook_keys, chat_keys, chat_keys, token_keys, token_keys, email_keys, exec_keys,
};

/* Which secret file a type reads, and what it must hold. */
struct secret_kind {
	const char *key;  /* "secret_file", "token_file", "auth_file" */
	size_t min;       /* characters, at least */
	bool colon;       /* "user:password" */
	const char *what; /* for the message */
};

static const struct secret_kind secret_hmac = {"secret_file", HMAC_KEY_MIN, false,
					       "a secret of at least 16 printable ASCII "
					       "characters without spaces"};
static const struct secret_kind secret_token = {"token_file", 1, false,
						"a token of printable ASCII characters without "
						"spaces"};
static const struct secret_kind secret_auth = {"auth_file", 3, true,
					       "one line \"user:password\" of printable ASCII "
					       "characters without spaces"};

/* Copy @p s into @p buf of @p size bytes; reports at @p path when it does not fit. */
static bool copy_fit(struct cfg_ctx *c, const char *path, const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n >= size) {
		steer_cfg_err(c, path, "must be at most %zu bytes", size - 1);
		return false;
	}
	memcpy(buf, s, n + 1);
	return true;
}

static bool name_ok(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	return true;
}

static void target_name(struct cfg_ctx *c, const json_t *obj, const char *path, size_t idx)
{
	struct steer_notify_conf *nc = &c->cfg->notify;
	struct steer_notify_target *t = &nc->t[idx];
	char sub[CFG_PATH_MAX];
	const char *s;

	if (steer_cfg_str(c, obj, path, "name", true, &s) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "name");
	if (!name_ok(s)) {
		steer_cfg_err(c, sub, "must be letters, digits, '.', '_' or '-'");
		return;
	}
	if (!copy_fit(c, sub, s, t->name, sizeof(t->name)))
		return;
	for (size_t i = 0; i < idx; i++) {
		if (strcmp(nc->t[i].name, t->name) == 0) {
			steer_cfg_err(c, sub,
				      "duplicate notification \"%s\" (also notifications[%zu])",
				      t->name, i);
			return;
		}
	}
}

static void target_events(struct cfg_ctx *c, const json_t *obj, const char *path,
			  struct steer_notify_target *t)
{
	char sub[CFG_PATH_MAX], el[CFG_PATH_MAX];
	json_t *arr;

	t->events = STEER_DEFAULT_NOTIFY_EVENTS;
	if (steer_cfg_get(c, obj, path, "events", false, &arr) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "events");
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		steer_cfg_err(c, sub,
			      "must be a non-empty array of \"origin\", \"pool\", \"balancer\", "
			      "\"override\", \"reload\"");
		return;
	}
	t->events = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		int k = -1;

		for (int j = 0; s != NULL && kind_names[j] != NULL; j++)
			if (strcmp(s, kind_names[j]) == 0)
				k = j;
		steer_cfg_path_idx(el, sizeof(el), sub, i);
		if (k < 0)
			steer_cfg_err(c, el,
				      "must be one of \"origin\", \"pool\", \"balancer\", "
				      "\"override\", \"reload\"");
		else if ((t->events & (1u << k)) != 0)
			steer_cfg_err(c, el, "\"%s\" is listed twice", s);
		else
			t->events |= 1u << k;
	}
}

static void target_timing(struct cfg_ctx *c, const json_t *obj, const char *path,
			  struct steer_notify_target *t)
{
	uint32_t coalesce = STEER_DEFAULT_NOTIFY_COALESCE_S,
		 timeout = STEER_DEFAULT_NOTIFY_TIMEOUT_S;
	uint32_t retry = STEER_DEFAULT_NOTIFY_RETRY_MAX_S, age = STEER_DEFAULT_NOTIFY_MAX_AGE_S;

	steer_cfg_uint(c, obj, path, "coalesce", false, 0, COALESCE_MAX_S, &coalesce);
	steer_cfg_uint(c, obj, path, "timeout", false, 1, TIMEOUT_MAX_S, &timeout);
	steer_cfg_uint(c, obj, path, "retry_max", false, 1, RETRY_MAX_MAX_S, &retry);
	steer_cfg_uint(c, obj, path, "max_age", false, MAX_AGE_MIN_S, MAX_AGE_MAX_S, &age);
	t->coalesce_ms = coalesce * 1000;
	t->timeout_ms = timeout * 1000;
	t->retry_max_ms = retry * 1000;
	t->max_age_ms = age * 1000;
}

/* `url`: required, with one of the schemes of @p type, a host, no spaces or controls. */
static void target_url(struct cfg_ctx *c, const json_t *obj, const char *path,
		       struct steer_notify_target *t)
{
	const bool mail = t->type == STEER_NOTIFY_EMAIL;
	const char *s, *rest = NULL;
	char sub[CFG_PATH_MAX];

	if (steer_cfg_str(c, obj, path, "url", true, &s) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "url");
	if (strncasecmp(s, mail ? "smtp://" : "http://", 7) == 0)
		rest = s + 7;
	else if (strncasecmp(s, mail ? "smtps://" : "https://", 8) == 0)
		rest = s + 8;
	for (const char *p = s; rest != NULL && *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			rest = NULL;
	if (rest == NULL || rest[0] == '\0' || rest[0] == '/') {
		steer_cfg_err(c, sub, "must be an %s URL with a host and no spaces",
			      mail ? "smtp:// or smtps://" : "http:// or https://");
		return;
	}
	copy_fit(c, sub, s, t->url, sizeof(t->url));
}

/* Trim the @p n bytes of @p buf and check them against @p k; copies into t->secret. */
static void secret_parse(struct cfg_ctx *c, const char *sub, const char *file,
			 const struct secret_kind *k, char *buf, size_t n,
			 struct steer_notify_target *t)
{
	size_t lo = 0, hi = n;
	bool ok;

	while (lo < hi && isspace((unsigned char)buf[lo]))
		lo++;
	while (hi > lo && isspace((unsigned char)buf[hi - 1]))
		hi--;
	ok = hi - lo >= k->min;
	for (size_t i = lo; ok && i < hi; i++)
		ok = (unsigned char)buf[i] > ' ' && (unsigned char)buf[i] < 0x7f;
	buf[hi] = '\0';
	if (ok && k->colon) {
		const char *colon = strchr(buf + lo, ':');

		ok = colon != NULL && colon != buf + lo && colon[1] != '\0';
	}
	if (!ok) {
		steer_cfg_err(c, sub, "%s must hold %s", file, k->what);
		return;
	}
	memcpy(t->secret, buf + lo, hi - lo + 1);
}

/* Check the open secret file @p fd (named @p file), then read and parse it. */
static void secret_load(struct cfg_ctx *c, const char *sub, const char *file, int fd,
			const struct secret_kind *k, struct steer_notify_target *t)
{
	char buf[STEER_NOTIFY_SECRET_MAX + 1]; /* one more byte, and a NUL */
	ssize_t n = steer_cfg_read_private(c, sub, file, fd, buf, STEER_NOTIFY_SECRET_MAX - 1);

	if (n >= 0)
		secret_parse(c, sub, file, k, buf, (size_t)n, t);
}

/*
 * The optional secret file of @p k: opened non-blocking and checked with fstat() on the
 * open descriptor (a FIFO cannot stall the load; the file checked is the file read).
 */
static void target_secret(struct cfg_ctx *c, const json_t *obj, const char *path,
			  const struct secret_kind *k, struct steer_notify_target *t)
{
	char sub[CFG_PATH_MAX];
	char *file;
	int fd = steer_cfg_open_named(c, obj, path, k->key, false, sub, &file);

	if (fd < 0)
		return;
	secret_load(c, sub, file, fd, k, t);
	close(fd);
	free(file);
}

static bool addr_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("<>,;\"()[]\\", *s) != NULL)
			return false;
	return true;
}

/* One address @p v at @p path into @p buf. */
static bool mail_addr(struct cfg_ctx *c, const json_t *v, const char *path, char *buf)
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != json_string_length(v) || !addr_ok(s)) {
		steer_cfg_err(c, path, "must be an email address (user@example.com)");
		return false;
	}
	return copy_fit(c, path, s, buf, STEER_NOTIFY_ADDR_MAX);
}

static void target_email(struct cfg_ctx *c, const json_t *obj, const char *path,
			 struct steer_notify_target *t)
{
	char sub[CFG_PATH_MAX], el[CFG_PATH_MAX];
	json_t *v;

	if (steer_cfg_get(c, obj, path, "from", true, &v) > 0)
		mail_addr(c, v, steer_cfg_path(sub, sizeof(sub), path, "from"), t->from);
	if (steer_cfg_get(c, obj, path, "to", true, &v) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "to");
	if (json_is_string(v)) {
		if (mail_addr(c, v, sub, t->to[0]))
			t->n_to = 1;
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > STEER_NOTIFY_TO_MAX) {
		steer_cfg_err(c, sub, "must be an email address or an array of 1 to %d",
			      STEER_NOTIFY_TO_MAX);
		return;
	}
	for (size_t i = 0; i < json_array_size(v); i++)
		if (mail_addr(c, json_array_get(v, i), steer_cfg_path_idx(el, sizeof(el), sub, i),
			      t->to[t->n_to]))
			t->n_to++;
}

/* `command`: argv of an executable named by its absolute path (no shell, no PATH). */
static void target_exec(struct cfg_ctx *c, const json_t *obj, const char *path,
			struct steer_notify_target *t)
{
	char sub[CFG_PATH_MAX], el[CFG_PATH_MAX], eb[128];
	struct stat st;
	json_t *arr;

	if (steer_cfg_get(c, obj, path, "command", true, &arr) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "command");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > STEER_NOTIFY_ARGV_MAX) {
		steer_cfg_err(c, sub,
			      "must be an array of 1 to %d strings: the program, then its "
			      "arguments",
			      STEER_NOTIFY_ARGV_MAX);
		return;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);

		steer_cfg_path_idx(el, sizeof(el), sub, i);
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			steer_cfg_err(c, el, "must be a string without NUL characters");
			return;
		}
		if (!copy_fit(c, el, json_string_value(v), t->argv[i], STEER_NOTIFY_ARG_MAX))
			return;
		t->argc++;
	}
	steer_cfg_path_idx(el, sizeof(el), sub, 0);
	if (t->argv[0][0] != '/')
		steer_cfg_err(c, el, "must be an absolute path (no shell and no PATH search)");
	else if (stat(t->argv[0], &st) != 0)
		steer_cfg_err(c, el, "cannot use %s: %s", t->argv[0],
			      steer_errno_str(errno, eb, sizeof(eb)));
	else if (!S_ISREG(st.st_mode) || access(t->argv[0], X_OK) != 0)
		steer_cfg_err(c, el, "%s is not an executable file", t->argv[0]);
}

static void target_type_keys(struct cfg_ctx *c, const json_t *obj, const char *path,
			     struct steer_notify_target *t)
{
	switch (t->type) {
	case STEER_NOTIFY_WEBHOOK:
		target_url(c, obj, path, t);
		target_secret(c, obj, path, &secret_hmac, t);
		break;
	case STEER_NOTIFY_SLACK:
	case STEER_NOTIFY_DISCORD:
		target_url(c, obj, path, t);
		break;
	case STEER_NOTIFY_NTFY:
	case STEER_NOTIFY_GOTIFY:
		target_url(c, obj, path, t);
		target_secret(c, obj, path, &secret_token, t);
		break;
	case STEER_NOTIFY_EMAIL:
		target_url(c, obj, path, t);
		target_email(c, obj, path, t);
		target_secret(c, obj, path, &secret_auth, t);
		break;
	case STEER_NOTIFY_EXEC:
		target_exec(c, obj, path, t);
		break;
	}
}

static void parse_target(struct cfg_ctx *c, json_t *obj, const char *path, size_t idx)
{
	struct steer_notify_target *t = &c->cfg->notify.t[idx];
	int type = -1;
	json_t *v;

	if (!json_is_object(obj)) {
		steer_cfg_err(c, path, "must be an object");
		return;
	}
	if (steer_cfg_get(c, obj, path, "type", true, &v) > 0)
		steer_cfg_enum(c, obj, path, "type", type_names, &type);
	steer_cfg_object(c, obj, path, type >= 0 ? type_keys[type] : any_keys);
	target_name(c, obj, path, idx);
	target_events(c, obj, path, t);
	target_timing(c, obj, path, t);
	if (type < 0)
		return;
	t->type = (enum steer_notify_type)type;
	target_type_keys(c, obj, path, t);
}

void steer_cfg_notifications(struct cfg_ctx *c, json_t *root)
{
	struct steer_notify_conf *nc = &c->cfg->notify;
	char sub[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, root, "", "notifications", false, &arr) <= 0)
		return;
	if (!json_is_array(arr)) {
		steer_cfg_err(c, "notifications", "must be an array of notification targets");
		return;
	}
	if (json_array_size(arr) > STEER_NOTIFY_MAX) {
		steer_cfg_err(c, "notifications", "at most %d notification targets",
			      STEER_NOTIFY_MAX);
		return;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		parse_target(c, json_array_get(arr, i),
			     steer_cfg_path_idx(sub, sizeof(sub), "notifications", i), i);
		nc->n++;
	}
}
