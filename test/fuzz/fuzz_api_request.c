/*
 * Fuzz the HTTP API's request head parser (lib/api/parse.c) through its internal entry
 * point, fed the way the connection layer feeds it: the input up to and including the
 * first blank line (CR LF CR LF), at most API_HEAD_MAX bytes, copied into req->head and
 * NUL-terminated. Checked: the result is 0 or one of the statuses the parser may give,
 * with a message; an accepted request has a token method, HTTP/1.0 or 1.1, a path starting
 * with '/', a Host field under 1.1, no Transfer-Encoding, a body length within the limit,
 * and every decoded segment and parameter is valid UTF-8 inside req->dec, parameter names
 * non-empty and distinct. The remainder of the input also goes through api_parse_amount().
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @p s is a NUL-terminated, valid UTF-8 string lying inside req->dec. */
static void check_decoded(const struct api_req *req, const char *s)
{
	const char *end = req->dec + sizeof(req->dec);
	size_t n;

	CHECK(s >= req->dec && s < end);
	n = strnlen(s, (size_t)(end - s));
	CHECK(s + n < end);
	CHECK(api_utf8_valid(s, n));
}

static void check_accepted(const struct api_req *req, size_t len)
{
	CHECK(req->method != NULL && req->method >= req->head && req->method < req->head + len);
	CHECK(strlen(req->method) >= 1 && strlen(req->method) <= 16);
	CHECK(strpbrk(req->method, " \t\r\n:/()") == NULL);
	CHECK(req->minor == 0 || req->minor == 1);
	CHECK(req->path != NULL && req->path[0] == '/');
	CHECK(req->minor == 0 || req->has_host);
	CHECK(!req->has_te && !req->expect_other);
	CHECK(!req->has_length || req->length <= API_BODY_MAX);
	CHECK(req->n_seg <= API_SEGS_MAX && req->n_param <= API_PARAMS_MAX);
	for (size_t i = 0; i < req->n_seg; i++)
		check_decoded(req, req->seg[i]);
	for (size_t i = 0; i < req->n_param; i++) {
		check_decoded(req, req->param[i].key);
		check_decoded(req, req->param[i].value);
		CHECK(req->param[i].key[0] != '\0');
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(req->param[k].key, req->param[i].key) != 0);
	}
	CHECK(req->auth == NULL || (req->auth >= req->head && req->auth < req->head + len));
}

/* The duration parser on the text after the head (at most 15 bytes of it). */
static void check_amount(const uint8_t *p, size_t n)
{
	char s[16];
	uint64_t v = 0, mult = 0;

	n = n < sizeof(s) - 1 ? n : sizeof(s) - 1;
	memcpy(s, p, n);
	s[n] = '\0';
	if (api_parse_amount(s, &v, &mult) == 0) {
		CHECK(s[0] >= '0' && s[0] <= '9');
		CHECK(v <= 9999999999ull);
		CHECK(mult == 0 || mult == 1 || mult == 60 || mult == 3600 || mult == 86400);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *blank = memmem(data, size, "\r\n\r\n", 4);
	struct api_req *req;
	struct api_fail f = {0};
	size_t len;
	int rc;

	if (blank == NULL || (size_t)(blank - data) + 4 > API_HEAD_MAX)
		return 0; /* the connection layer answers 431 or waits: the parser never runs */
	len = (size_t)(blank - data) + 4;
	req = calloc(1, sizeof(*req));
	CHECK(req != NULL);
	memcpy(req->head, data, len);
	req->head[len] = '\0';
	rc = api_parse_head(req, len, &f);
	if (rc == 0)
		check_accepted(req, len);
	else
		CHECK((rc == 400 || rc == 411 || rc == 413 || rc == 417 || rc == 505) &&
		      f.status == rc && f.msg[0] != '\0');
	check_amount(data + len, size - len);
	free(req);
	return 0;
}
