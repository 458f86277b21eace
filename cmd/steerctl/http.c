/*
 * One request to steerd's API with libcurl's easy interface (steerctl makes one per
 * run, so a blocking transfer is right here), and the handling every command shares:
 * "cannot reach" (exit 3), the server's error (exit 1), --json output.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ctl.h"

#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS   30000L
#define BODY_MAX           ((size_t)32 << 20) /* bytes of an answer */

/* The answer body, growing as libcurl delivers it. */
struct buf {
	char *p;
	size_t n, cap;
	bool too_big, no_mem;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t len = size * nmemb;

	if (len > BODY_MAX - b->n) {
		b->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap * 2 > b->n + len + 1 ? b->cap * 2 : b->n + len + 4096;
		char *p = realloc(b->p, cap);

		if (p == NULL) {
			b->no_mem = true;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return len;
}

/* Append @p line to *@p list; on failure free the whole list (*@p list becomes NULL). */
static void add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *next;

	if (*list == NULL)
		return;
	next = curl_slist_append(*list, line);
	if (next == NULL)
		curl_slist_free_all(*list);
	*list = next;
}

static struct curl_slist *make_headers(const struct ctl *ctl, bool post)
{
	char auth[sizeof(ctl->token) + 32];
	struct curl_slist *list = curl_slist_append(NULL, "Accept: application/json");

	if (post)
		add_header(&list, "Content-Type: application/json");
	if (ctl->has_token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctl->token);
		add_header(&list, auth);
	}
	return list;
}

static bool set_options(CURL *c, const char *url, struct curl_slist *headers, struct buf *b,
			char *errbuf)
{
	return curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOPROXY, "*") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_USERAGENT, "steerctl/" STEER_VERSION) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEDATA, b) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
}

static void set_why(struct ctl_resp *resp, const char *text)
{
	snprintf(resp->why, sizeof(resp->why), "%s", text);
	resp->why[0] = (char)tolower((unsigned char)resp->why[0]);
}

/* Why the transfer failed, in a few words: "connection refused", "no answer within 30 s". */
static void describe_failure(CURL *c, CURLcode code, const char *errbuf, const struct buf *b,
			     struct ctl_resp *resp)
{
	long os_err = 0;
	curl_off_t connected_us = 0;
	char text[256];

	if (code == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_err) == CURLE_OK && os_err != 0) {
		set_why(resp, steer_errno_str((int)os_err, text, sizeof(text)));
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		if (curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected_us) != CURLE_OK)
			connected_us = 0;
		set_why(resp,
			connected_us == 0 ? "no connection within 5 s" : "no answer within 30 s");
	} else if (code == CURLE_COULDNT_RESOLVE_HOST) {
		set_why(resp, "cannot resolve the host name");
	} else if (code == CURLE_WRITE_ERROR && (b->too_big || b->no_mem)) {
		resp->reached = true;
		set_why(resp, b->too_big ? "sent more than 32 MiB" : "out of memory");
	} else {
		set_why(resp, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code));
	}
}

static bool is_json_type(const char *type)
{
	if (type == NULL)
		return false;
	while (*type == ' ')
		type++;
	return strncasecmp(type, "application/json", 16) == 0 &&
	       (type[16] == '\0' || type[16] == ';' || type[16] == ' ');
}

/* A 2xx text/plain body, when the caller asked for text: copied into resp->text. */
static bool take_text(const char *type, bool text_ok, const struct buf *b, struct ctl_resp *resp)
{
	if (!text_ok || resp->status < 200 || resp->status > 299 || type == NULL ||
	    strncasecmp(type, "text/plain", 10) != 0)
		return false;
	resp->text = malloc(b->n + 1);
	if (resp->text == NULL)
		return false;
	if (b->n > 0)
		memcpy(resp->text, b->p, b->n);
	resp->text[b->n] = '\0';
	resp->text_len = b->n;
	return true;
}

/* The transfer succeeded: check the Content-Type, then parse an object (or take text). */
static int take_body(CURL *c, const struct buf *b, bool text_ok, struct ctl_resp *resp)
{
	char *type = NULL;
	json_error_t jerr;

	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK)
		type = NULL;
	resp->reached = true;
	if (take_text(type, text_ok, b, resp))
		return 0;
	if (!is_json_type(type)) {
		snprintf(resp->why, sizeof(resp->why), "answered HTTP %ld %s%s, not JSON",
			 resp->status, type != NULL ? "with " : "without a Content-Type",
			 type != NULL ? type : "");
		return CTL_EXIT_UNREACHABLE;
	}
	resp->body = json_loadb(b->p != NULL ? b->p : "", b->n, 0, &jerr);
	if (resp->body == NULL || !json_is_object(resp->body)) {
		snprintf(resp->why, sizeof(resp->why), "answered HTTP %ld with %s", resp->status,
			 resp->body == NULL ? "invalid JSON" : "JSON that is not an object");
		ctl_resp_fini(resp);
		return CTL_EXIT_UNREACHABLE;
	}
	return 0;
}

static int perform(CURL *c, const char *method, const char *post, bool text_ok, struct buf *b,
		   struct ctl_resp *resp, const char *errbuf)
{
	CURLcode code = CURLE_OK;

	if (strcmp(method, "POST") == 0) {
		code = curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		if (code == CURLE_OK)
			code = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	if (code == CURLE_OK)
		code = curl_easy_perform(c);
	if (code != CURLE_OK) {
		describe_failure(c, code, errbuf, b, resp);
		return CTL_EXIT_UNREACHABLE;
	}
	return take_body(c, b, text_ok, resp);
}

static int request(const struct ctl *ctl, const char *method, const char *path, const json_t *body,
		   bool text_ok, struct ctl_resp *resp)
{
	bool post = strcmp(method, "POST") == 0;
	char url[CTL_URL_MAX + 1024], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = make_headers(ctl, post);
	char *post_text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	struct buf b = {0};
	CURL *c = curl_easy_init();
	int rc = CTL_EXIT_UNREACHABLE;

	memset(resp, 0, sizeof(*resp));
	snprintf(url, sizeof(url), "%s%s", ctl->api, path);
	if (c == NULL || headers == NULL || (body != NULL && post_text == NULL)) {
		set_why(resp, "out of memory");
		goto out;
	}
	if (!set_options(c, url, headers, &b, errbuf)) {
		set_why(resp, "libcurl refused an option (is it built without http?)");
		goto out;
	}
	rc = perform(c, method, post_text != NULL ? post_text : "{}", text_ok, &b, resp, errbuf);
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	free(post_text);
	free(b.p);
	return rc;
}

int ctl_http(const struct ctl *ctl, const char *method, const char *path, const json_t *body,
	     struct ctl_resp *resp)
{
	return request(ctl, method, path, body, false, resp);
}

int ctl_http_text(const struct ctl *ctl, const char *path, struct ctl_resp *resp)
{
	return request(ctl, "GET", path, NULL, true, resp);
}

void ctl_resp_fini(struct ctl_resp *resp)
{
	if (resp == NULL)
		return;
	json_decref(resp->body);
	resp->body = NULL;
	free(resp->text);
	resp->text = NULL;
}
