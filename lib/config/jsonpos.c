/*
 * Position indexer: a small recursive scanner over the JSON text jansson has parsed,
 * recording where every value (and every object key) starts, keyed by its JSON path.
 * It trusts jansson for the grammar but never reads past the end of the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/jsonpos_int.h"

/* jansson stops at a nesting depth of 2048; a little slack keeps this scanner bounded. */
#define JPOS_MAX_DEPTH 4096

struct scan {
	const char *s;
	size_t len;
	size_t i;
	int line;
	size_t line_start;
	int depth;
	struct steer_jpos *idx;
	char *path;
	size_t plen;
	size_t pcap;
};

static int scan_value(struct scan *sc, int key_line, int key_column);

static int cur_column(const struct scan *sc)
{
	return (int)(sc->i - sc->line_start + 1);
}

static bool peek(const struct scan *sc, char c)
{
	return sc->i < sc->len && sc->s[sc->i] == c;
}

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];

		if (c == '\n') {
			sc->line++;
			sc->line_start = sc->i + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		sc->i++;
	}
}

static int path_append(struct scan *sc, const char *part, size_t n)
{
	if (sc->plen + n + 1 > sc->pcap) {
		size_t cap = sc->pcap != 0 ? sc->pcap : 64;
		char *p;

		while (cap < sc->plen + n + 1)
			cap *= 2;
		p = realloc(sc->path, cap);
		if (p == NULL)
			return STEER_ENOMEM;
		sc->path = p;
		sc->pcap = cap;
	}
	memcpy(sc->path + sc->plen, part, n);
	sc->plen += n;
	sc->path[sc->plen] = '\0';
	return 0;
}

static void path_truncate(struct scan *sc, size_t plen)
{
	sc->plen = plen;
	if (sc->path != NULL)
		sc->path[plen] = '\0';
}

static int record(struct scan *sc, int key_line, int key_column)
{
	struct steer_jpos *idx = sc->idx;
	struct steer_jpos_entry *e;

	if (idx->n == idx->cap) {
		size_t cap = idx->cap != 0 ? idx->cap * 2 : 32;
		struct steer_jpos_entry *v = realloc(idx->v, cap * sizeof(*v));

		if (v == NULL)
			return STEER_ENOMEM;
		idx->v = v;
		idx->cap = cap;
	}
	e = &idx->v[idx->n];
	e->path = malloc(sc->plen + 1);
	if (e->path == NULL)
		return STEER_ENOMEM;
	if (sc->plen > 0)
		memcpy(e->path, sc->path, sc->plen);
	e->path[sc->plen] = '\0';
	e->line = sc->line;
	e->column = cur_column(sc);
	e->key_line = key_line > 0 ? key_line : e->line;
	e->key_column = key_line > 0 ? key_column : e->column;
	idx->n++;
	return 0;
}

static int hex4(const struct scan *sc, size_t at, uint32_t *out)
{
	uint32_t v = 0;

	if (at + 4 > sc->len)
		return STEER_EINVAL;
	for (size_t k = at; k < at + 4; k++) {
		char c = sc->s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return STEER_EINVAL;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at sc->i (just past the backslash-u), combining a UTF-16 surrogate pair. */
static int decode_u(struct scan *sc, uint32_t *cp)
{
	uint32_t lo;

	if (hex4(sc, sc->i, cp) < 0)
		return STEER_EINVAL;
	sc->i += 4;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return *cp >= 0xdc00 && *cp <= 0xdfff ? STEER_EINVAL : 0;
	if (sc->i + 2 > sc->len || sc->s[sc->i] != '\\' || sc->s[sc->i + 1] != 'u')
		return STEER_EINVAL;
	if (hex4(sc, sc->i + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return STEER_EINVAL;
	sc->i += 6;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int decode_escape(struct scan *sc, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *p;
	uint32_t cp;
	char c;

	if (sc->i >= sc->len)
		return STEER_EINVAL;
	c = sc->s[sc->i++];
	if (c == 'u') {
		if (decode_u(sc, &cp) < 0)
			return STEER_EINVAL;
		*n += put_utf8(out + *n, cp);
		return 0;
	}
	p = c != '\0' ? strchr(from, c) : NULL;
	if (p == NULL)
		return STEER_EINVAL;
	out[(*n)++] = to[p - from];
	return 0;
}

/* Length of the raw string body starting at @p start, up to its closing quote. */
static size_t raw_length(const struct scan *sc, size_t start)
{
	size_t j = start;

	while (j < sc->len && sc->s[j] != '"')
		j += sc->s[j] == '\\' ? 2 : 1;
	return (j < sc->len ? j : sc->len) - start;
}

/*
 * Skip the string at sc->i; with @p out, also decode it into a new buffer (the decoded
 * text is never longer than the raw one, so one allocation of the raw length is enough).
 */
static int scan_string(struct scan *sc, char **out, size_t *out_len)
{
	size_t n = 0;
	char *buf = NULL;

	sc->i++;
	if (out != NULL) {
		buf = malloc(raw_length(sc, sc->i) + 1);
		if (buf == NULL)
			return STEER_ENOMEM;
	}
	while (sc->i < sc->len && sc->s[sc->i] != '"') {
		if (sc->s[sc->i] == '\\') {
			char tmp[4] = {0};
			size_t k = 0;

			sc->i++;
			if (decode_escape(sc, buf != NULL ? buf : tmp, buf != NULL ? &n : &k) < 0)
				goto bad;
		} else if (buf != NULL) {
			buf[n++] = sc->s[sc->i++];
		} else {
			sc->i++;
		}
	}
	if (sc->i >= sc->len)
		goto bad;
	sc->i++;
	if (buf != NULL) {
		buf[n] = '\0';
		*out = buf;
		*out_len = n;
	}
	return 0;
bad:
	free(buf);
	return STEER_EINVAL;
}

static int scan_scalar(struct scan *sc)
{
	size_t start = sc->i;

	while (sc->i < sc->len && sc->s[sc->i] != '\0' &&
	       strchr(",]} \t\r\n", sc->s[sc->i]) == NULL)
		sc->i++;
	if (sc->i == start)
		return STEER_EINVAL;
	/* jansson's lexer swallows one NUL byte that ends a number or literal */
	if (sc->i < sc->len && sc->s[sc->i] == '\0')
		sc->i++;
	return 0;
}

static int scan_member(struct scan *sc)
{
	size_t saved = sc->plen, klen = 0;
	int kline = sc->line, kcol = cur_column(sc);
	char *key = NULL;
	int rc = STEER_EINVAL;

	if (!peek(sc, '"'))
		return STEER_EINVAL;
	rc = scan_string(sc, &key, &klen);
	if (rc < 0)
		return rc;
	rc = saved > 0 ? path_append(sc, ".", 1) : 0;
	if (rc == 0)
		rc = path_append(sc, key, klen);
	skip_ws(sc);
	if (rc == 0 && !peek(sc, ':'))
		rc = STEER_EINVAL;
	if (rc == 0) {
		sc->i++;
		rc = scan_value(sc, kline, kcol);
	}
	path_truncate(sc, saved);
	free(key);
	return rc;
}

static int scan_object(struct scan *sc)
{
	int rc;

	sc->i++;
	skip_ws(sc);
	if (peek(sc, '}')) {
		sc->i++;
		return 0;
	}
	for (;;) {
		rc = scan_member(sc);
		if (rc < 0)
			return rc;
		skip_ws(sc);
		if (peek(sc, '}')) {
			sc->i++;
			return 0;
		}
		if (!peek(sc, ','))
			return STEER_EINVAL;
		sc->i++;
		skip_ws(sc);
	}
}

static int scan_array(struct scan *sc)
{
	size_t saved = sc->plen;
	int rc;

	sc->i++;
	skip_ws(sc);
	if (peek(sc, ']')) {
		sc->i++;
		return 0;
	}
	for (size_t n = 0;; n++) {
		char part[32];
		int k = snprintf(part, sizeof(part), "[%zu]", n);

		rc = path_append(sc, part, (size_t)k);
		if (rc == 0)
			rc = scan_value(sc, 0, 0);
		path_truncate(sc, saved);
		if (rc < 0)
			return rc;
		skip_ws(sc);
		if (peek(sc, ']')) {
			sc->i++;
			return 0;
		}
		if (!peek(sc, ','))
			return STEER_EINVAL;
		sc->i++;
	}
}

static int scan_value(struct scan *sc, int key_line, int key_column)
{
	int rc;

	skip_ws(sc);
	if (sc->i >= sc->len)
		return STEER_EINVAL;
	rc = record(sc, key_line, key_column);
	if (rc < 0)
		return rc;
	switch (sc->s[sc->i]) {
	case '{':
	case '[':
		if (sc->depth >= JPOS_MAX_DEPTH)
			return STEER_EINVAL;
		sc->depth++;
		rc = sc->s[sc->i] == '{' ? scan_object(sc) : scan_array(sc);
		sc->depth--;
		return rc;
	case '"':
		return scan_string(sc, NULL, NULL);
	default:
		return scan_scalar(sc);
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const struct steer_jpos_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

int steer_jpos_index(struct steer_jpos *idx, const char *text, size_t len)
{
	struct scan sc = {.s = text, .len = len, .line = 1, .idx = idx};
	int rc;

	rc = scan_value(&sc, 0, 0);
	if (rc == 0) {
		skip_ws(&sc);
		if (sc.i != sc.len)
			rc = STEER_EINVAL;
	}
	free(sc.path);
	if (idx->n > 1)
		qsort(idx->v, idx->n, sizeof(*idx->v), entry_cmp);
	return rc;
}

void steer_jpos_fini(struct steer_jpos *idx)
{
	if (idx == NULL)
		return;
	for (size_t i = 0; i < idx->n; i++)
		free(idx->v[i].path);
	free(idx->v);
	memset(idx, 0, sizeof(*idx));
}

const struct steer_jpos_entry *steer_jpos_find(const struct steer_jpos *idx, const char *path)
{
	size_t lo = 0, hi = idx->n;

	/* lower bound, so that of two equal paths ("a.b" key vs nested) the first one wins */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(idx->v[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->n && strcmp(idx->v[lo].path, path) == 0)
		return &idx->v[lo];
	return NULL;
}

void steer_jpos_locate(const char *text, size_t len, size_t off, int *line, int *column)
{
	size_t line_start = 0;
	int l = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			line_start = i + 1;
		}
	}
	*line = l;
	*column = (int)(off - line_start + 1);
}
