/*
 * What every API command shares: building percent-encoded paths and queries, and
 * turning a failed request into the right message and exit status.
 */
#include <string.h>

#include "ctl.h"

/* RFC 3986 §2.3: unreserved characters stay, everything else is %XX. */
static size_t encode(char *buf, size_t size, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (len + 4 > size)
			return 0;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			buf[len++] = (char)ch;
			continue;
		}
		buf[len++] = '%';
		buf[len++] = hex[ch >> 4];
		buf[len++] = hex[ch & 15];
	}
	buf[len] = '\0';
	return len;
}

size_t ctl_path_add(char *buf, size_t size, size_t len, const char *segment)
{
	if (len == 0 || len + 2 > size)
		return 0;
	buf[len++] = '/';
	return encode(buf, size, len, segment);
}

size_t ctl_query_add(char *buf, size_t size, size_t len, const char *key, const char *value)
{
	size_t key_len = strlen(key);

	if (len == 0 || value == NULL)
		return len;
	if (len + key_len + 3 > size)
		return 0;
	len += (size_t)snprintf(buf + len, size - len,
				"%c%s=", memchr(buf, '?', len) != NULL ? '&' : '?', key);
	return encode(buf, size, len, value);
}

static void print_unreachable(const struct ctl *ctl, const struct ctl_resp *resp)
{
	if (resp->reached) {
		fprintf(stderr,
			"steerctl: the API at %s %s; is --api (or STEER_API) the address of "
			"steerd's API?\n",
			ctl->api, resp->why);
		return;
	}
	fprintf(stderr,
		"steerctl: cannot reach the API at %s (%s); is steerd running with an \"api\" "
		"section in steerd.json? (set --api or STEER_API)\n",
		ctl->api, resp->why);
}

/* One entry of "errors": its preformatted "text", else file:line:col: path: message. */
static void print_error_entry(const json_t *e)
{
	const char *text = json_is_string(e) ? json_string_value(e) : ctl_jstr(e, "text", NULL);
	char pos[64] = "";

	if (text == NULL && ctl_jint(e, "line", 0) > 0)
		snprintf(pos, sizeof(pos), ":%lld:%lld", (long long)ctl_jint(e, "line", 0),
			 (long long)ctl_jint(e, "column", 0));
	if (text != NULL) {
		ctl_put_clean(stderr, text);
	} else {
		ctl_put_clean(stderr, ctl_jstr(e, "file", "?"));
		fprintf(stderr, "%s: ", pos);
		ctl_put_clean(stderr, ctl_jstr(e, "path", ""));
		fputs(ctl_jstr(e, "path", "")[0] != '\0' ? ": " : "", stderr);
		ctl_put_clean(stderr, ctl_jstr(e, "message", "?"));
	}
	fputc('\n', stderr);
}

static void print_server_error(const struct ctl *ctl, const struct ctl_resp *resp)
{
	const json_t *errors = ctl_jarr(resp->body, "errors");
	const char *msg = ctl_jstr(resp->body, "error", NULL);

	for (size_t i = 0; i < json_array_size(errors); i++)
		print_error_entry(json_array_get(errors, i));
	fputs("steerctl: ", stderr);
	if (msg != NULL)
		ctl_put_clean(stderr, msg);
	else
		fprintf(stderr, "the API answered HTTP %ld", resp->status);
	fputc('\n', stderr);
	if (resp->status == 401 && !ctl->has_token)
		fprintf(stderr, "steerctl: no token was sent: name steerd's api.token_file with "
				"--token-file or STEER_TOKEN_FILE\n");
}

int ctl_call(const struct ctl *ctl, const char *method, const char *path, const json_t *body,
	     json_t **out)
{
	struct ctl_resp resp;
	int rc = ctl_http(ctl, method, path, body, &resp);

	*out = NULL;
	if (rc != 0) {
		print_unreachable(ctl, &resp);
		return rc;
	}
	if (resp.status >= 200 && resp.status < 300) {
		*out = resp.body; /* the caller owns it now */
		return CTL_EXIT_OK;
	}
	if (ctl->json)
		(void)ctl_print_json(resp.body);
	print_server_error(ctl, &resp);
	ctl_resp_fini(&resp);
	return CTL_EXIT_REFUSED;
}
