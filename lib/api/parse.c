/*
 * Strict HTTP/1.x request head parsing (RFC 9112): request line, header fields (no
 * folding, no whitespace before the colon, no control characters), the path split into
 * segments that are percent-decoded one by one (so %2F stays inside a segment), and the
 * query string. Pure functions on the request buffer; no I/O, no allocation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"

static int refuse(struct api_fail *f, int status, const char *fmt, ...) STEER_PRINTF(3, 4);

static int refuse(struct api_fail *f, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->status = status;
	return status;
}

/* RFC 9110 §5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool api_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		const unsigned c = s[i];
		size_t k;
		unsigned cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if ((c & 0xf0) == 0xe0)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		min = k == 1 ? 0x80 : k == 2 ? 0x800 : 0x10000; /* shortest form (no overlongs) */
		if (len - i <= k)
			return false;
		cp = c & (0x3fu >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * Percent-decode src[0..len) to *dst (NUL-terminated; *dst advances past it); with
 * @p plus, '+' is a space (query strings). @p out receives the decoded string.
 */
static int decode(const char *src, size_t len, bool plus, char **dst, const char **out,
		  struct api_fail *f)
{
	char *d = *dst;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (src[i] == '+' && plus) {
			d[n++] = ' ';
			continue;
		}
		if (src[i] != '%') {
			d[n++] = src[i];
			continue;
		}
		hi = i + 2 < len ? hexval(src[i + 1]) : -1;
		lo = i + 2 < len ? hexval(src[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return refuse(f, 400, "invalid percent-escape in the request target");
		if (hi == 0 && lo == 0)
			return refuse(f, 400, "%%00 is not allowed in the request target");
		d[n++] = (char)(hi * 16 + lo);
		i += 2;
	}
	d[n] = '\0';
	if (!api_utf8_valid(d, n))
		return refuse(f, 400, "the request target does not decode to UTF-8");
	*out = d;
	*dst = d + n + 1;
	return 0;
}

static int split_path(struct api_req *req, const char *path, char **dst, struct api_fail *f)
{
	const char *p = path + 1;

	if (*p == '\0')
		return 0; /* "/": no segment */
	for (;;) {
		const char *end = strchr(p, '/');
		const size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		int rc;

		if (req->n_seg == API_SEGS_MAX) {
			req->too_deep = true;
			return 0;
		}
		rc = decode(p, len, false, dst, &req->seg[req->n_seg], f);
		if (rc != 0)
			return rc;
		req->n_seg++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int add_param(struct api_req *req, const char *p, size_t len, char **dst, struct api_fail *f)
{
	const char *eq = memchr(p, '=', len);
	const size_t klen = eq != NULL ? (size_t)(eq - p) : len;
	struct api_param *prm = &req->param[req->n_param];
	int rc;

	if (req->n_param == API_PARAMS_MAX)
		return refuse(f, 400, "too many query parameters (at most %d)", API_PARAMS_MAX);
	rc = decode(p, klen, true, dst, &prm->key, f);
	if (rc == 0)
		rc = eq != NULL ? decode(eq + 1, len - klen - 1, true, dst, &prm->value, f)
				: decode("", 0, true, dst, &prm->value, f);
	if (rc != 0)
		return rc;
	if (prm->key[0] == '\0')
		return refuse(f, 400, "a query parameter without a name");
	for (size_t i = 0; i < req->n_param; i++)
		if (strcmp(req->param[i].key, prm->key) == 0)
			return refuse(f, 400, "query parameter %.64s given twice", prm->key);
	req->n_param++;
	return 0;
}

static int split_query(struct api_req *req, const char *q, char **dst, struct api_fail *f)
{
	while (*q != '\0') {
		const char *end = strchr(q, '&');
		const size_t len = end != NULL ? (size_t)(end - q) : strlen(q);
		const int rc = len > 0 ? add_param(req, q, len, dst, f) : 0;

		if (rc != 0 || end == NULL)
			return rc;
		q = end + 1;
	}
	return 0;
}

/* Origin-form target (RFC 9112 §3.2.1): "/path[?query]", visible ASCII only. */
static int parse_target(struct api_req *req, char *target, struct api_fail *f)
{
	char *dst = req->dec;
	char *q;
	int rc;

	for (const char *c = target; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '#')
			return refuse(f, 400, "invalid character in the request target");
	if (target[0] != '/')
		return refuse(f, 400, "the request target must be a path starting with /");
	q = strchr(target, '?');
	if (q != NULL)
		*q++ = '\0';
	req->path = target;
	rc = split_path(req, target, &dst, f);
	if (rc == 0 && q != NULL)
		rc = split_query(req, q, &dst, f);
	return rc;
}

static int parse_request_line(struct api_req *req, char *line, struct api_fail *f)
{
	char *target = strchr(line, ' ');
	char *version = target != NULL ? strchr(target + 1, ' ') : NULL;

	if (version == NULL)
		return refuse(f, 400, "malformed request line");
	*target++ = '\0';
	*version++ = '\0';
	if (!is_token(line) || strlen(line) > 16)
		return refuse(f, 400, "malformed request method");
	req->method = line;
	if (strncmp(version, "HTTP/", 5) != 0 || strlen(version) != 8 || version[5] < '0' ||
	    version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
		return refuse(f, 400, "malformed HTTP version");
	if (version[5] != '1' || version[7] > '1')
		return refuse(f, 505, "HTTP version %.8s is not supported (1.0 and 1.1 are)",
			      version);
	req->minor = version[7] - '0';
	return parse_target(req, target, f);
}

static int parse_length(struct api_req *req, const char *v, struct api_fail *f)
{
	uint64_t n = 0;

	if (*v == '\0')
		return refuse(f, 400, "invalid Content-Length");
	for (const char *c = v; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return refuse(f, 400, "invalid Content-Length");
		n = n > UINT32_MAX ? n : n * 10 + (uint64_t)(*c - '0'); /* saturates: > max */
	}
	if (req->has_length && req->length != n)
		return refuse(f, 400, "conflicting Content-Length fields");
	req->has_length = true;
	req->length = n;
	return 0;
}

/* Trim optional whitespace around @p v in place; refuse control characters. */
static char *field_value(char *v, struct api_fail *f)
{
	size_t len;

	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		v[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			refuse(f, 400, "control character in a header field");
			return NULL;
		}
	}
	return v;
}

static int parse_field(struct api_req *req, char *line, struct api_fail *f)
{
	char *colon = strchr(line, ':');
	char *v;

	if (line[0] == ' ' || line[0] == '\t')
		return refuse(f, 400, "obsolete line folding in the header");
	if (colon == NULL)
		return refuse(f, 400, "malformed header field");
	*colon = '\0';
	if (!is_token(line))
		return refuse(f, 400, "malformed header field name");
	v = field_value(colon + 1, f);
	if (v == NULL)
		return f->status;
	if (strcasecmp(line, "content-length") == 0)
		return parse_length(req, v, f);
	if (strcasecmp(line, "transfer-encoding") == 0)
		req->has_te = true;
	if (strcasecmp(line, "expect") == 0 && strcasecmp(v, "100-continue") == 0)
		req->expect_continue = true;
	else if (strcasecmp(line, "expect") == 0)
		req->expect_other = true;
	if (strcasecmp(line, "authorization") == 0 && req->auth != NULL)
		return refuse(f, 400, "more than one Authorization field");
	if (strcasecmp(line, "authorization") == 0)
		req->auth = v;
	if (strcasecmp(line, "host") == 0 && req->has_host)
		return refuse(f, 400, "more than one Host field");
	if (strcasecmp(line, "host") == 0)
		req->has_host = true;
	return 0;
}

/* What the fields say together, once all of them are known. */
static int check_fields(const struct api_req *req, struct api_fail *f)
{
	if (req->has_te)
		return refuse(f, 411, "Transfer-Encoding is not accepted: send Content-Length");
	if (req->minor == 1 && !req->has_host)
		return refuse(f, 400, "HTTP/1.1 request without a Host field");
	if (req->expect_other)
		return refuse(f, 417, "only Expect: 100-continue is understood");
	if (req->has_length && req->length > API_BODY_MAX)
		return refuse(f, 413, "request body too large (at most %d bytes)", API_BODY_MAX);
	return 0;
}

int api_parse_head(struct api_req *req, size_t len, struct api_fail *f)
{
	char *p = req->head;
	bool first = true;

	if (strlen(req->head) != len)
		return refuse(f, 400, "NUL byte in the request head");
	for (;;) {
		char *end = strstr(p, "\r\n");
		int rc;

		if (end == NULL)
			return refuse(f, 400, "malformed request head");
		*end = '\0';
		if (strpbrk(p, "\r\n") != NULL)
			return refuse(f, 400, "bare CR or LF in the request head");
		if (*p == '\0' && !first)
			return check_fields(req, f);
		rc = first ? parse_request_line(req, p, f) : parse_field(req, p, f);
		if (rc != 0)
			return rc;
		first = false;
		p = end + 2;
	}
}

int api_parse_amount(const char *s, uint64_t *n, uint64_t *mult)
{
	size_t digits = 0;

	*n = 0;
	while (s[digits] >= '0' && s[digits] <= '9') {
		*n = *n * 10 + (uint64_t)(s[digits] - '0');
		if (++digits > 10)
			return -1;
	}
	if (digits == 0)
		return -1;
	switch (s[digits]) {
	case '\0':
		*mult = 0;
		return 0;
	case 's':
		*mult = 1;
		break;
	case 'm':
		*mult = 60;
		break;
	case 'h':
		*mult = 3600;
		break;
	case 'd':
		*mult = 86400;
		break;
	default:
		return -1;
	}
	return s[digits + 1] == '\0' ? 0 : -1;
}
