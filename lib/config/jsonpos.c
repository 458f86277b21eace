/*
 * Position indexer: a small recursive scanner over a JSON text, recording where every
 * value (and every object key) starts, keyed by its JSON path. Over text jansson has
 * parsed it trusts jansson for the grammar but never reads past the end of the text; in
 * build mode it is strict and builds the jansson tree in the same pass, leaving anything
 * unusual (and every error, with its message) to jansson.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/cfg_index_int.h"
#include "config/jsonpos_int.h"

/* jansson stops at a nesting depth of 2048; a little slack keeps this scanner bounded. */
#define JPOS_MAX_DEPTH 4096
/* Build mode stays well below jansson's limit: deeper text is jansson's to judge. */
#define JPOS_BUILD_DEPTH 512
/* Build mode: integers of at most this many digits cannot overflow a json_int_t. */
#define JPOS_INT_DIGITS 18
/* Build mode: longest real number copied for strtod(). */
#define JPOS_REAL_MAX 64

struct scan {
	const char *s;
	size_t len;
	size_t i;
	int line;
	size_t line_start;
	int depth;
	struct steer_jpos *idx; /* NULL in build mode: positions come later, if asked for */
	char *path;
	size_t plen;
	size_t pcap;
	char *tmp; /* the string just decoded */
	size_t tcap;
	bool build;  /* strict, and build the tree (steer_jpos_parse()) */
	json_t *out; /* build mode: the value scan_value() just read (owned) */
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

/* Append the current path (with its NUL) to idx->paths. @return its offset, or SIZE_MAX. */
static size_t keep_path(struct steer_jpos *idx, const struct scan *sc)
{
	size_t need = idx->paths_len + sc->plen + 1, off = idx->paths_len;

	if (need > idx->paths_cap) {
		size_t cap = idx->paths_cap != 0 ? idx->paths_cap : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(idx->paths, cap);
		if (p == NULL)
			return SIZE_MAX;
		idx->paths = p;
		idx->paths_cap = cap;
	}
	if (sc->plen > 0)
		memcpy(idx->paths + off, sc->path, sc->plen);
	idx->paths[off + sc->plen] = '\0';
	idx->paths_len = need;
	return off;
}

static int record(struct scan *sc, int key_line, int key_column)
{
	struct steer_jpos *idx = sc->idx;
	struct steer_jpos_entry *e;
	size_t off;

	if (idx == NULL)
		return 0;

	if (idx->n == idx->cap) {
		size_t cap = idx->cap != 0 ? idx->cap * 2 : 32;
		struct steer_jpos_entry *v = realloc(idx->v, cap * sizeof(*v));

		if (v == NULL)
			return STEER_ENOMEM;
		idx->v = v;
		idx->cap = cap;
	}
	off = keep_path(idx, sc);
	if (off == SIZE_MAX)
		return STEER_ENOMEM;
	e = &idx->v[idx->n];
	e->path = off;
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

/* Room for @p n bytes in sc->tmp. */
static int tmp_reserve(struct scan *sc, size_t n)
{
	size_t cap = sc->tcap != 0 ? sc->tcap : 256;
	char *p;

	if (n <= sc->tcap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = realloc(sc->tmp, cap);
	if (p == NULL)
		return STEER_ENOMEM;
	sc->tmp = p;
	sc->tcap = cap;
	return 0;
}

/*
 * The length of the run of plain bytes at sc->i: no quote, no backslash, and in build
 * mode printable ASCII only. Build mode leaves the rest to jansson, which checks them:
 * control characters are errors, other bytes must be valid UTF-8.
 */
static size_t plain_run(const struct scan *sc)
{
	size_t j = sc->i;

	if (sc->build)
		while (j < sc->len && (unsigned char)sc->s[j] >= 0x20 &&
		       (unsigned char)sc->s[j] < 0x80 && sc->s[j] != '"' && sc->s[j] != '\\')
			j++;
	else
		while (j < sc->len && sc->s[j] != '"' && sc->s[j] != '\\')
			j++;
	return j - sc->i;
}

/*
 * Skip the string at sc->i; with @p decode, also decode it into sc->tmp. Build mode takes
 * no \u escape either: one may hide a NUL or a lone surrogate (jansson's to judge).
 */
static int scan_string(struct scan *sc, bool decode, size_t *out_len)
{
	size_t n = 0;

	sc->i++;
	for (;;) {
		size_t r = plain_run(sc);
		char tmp[4] = {0}; /* the decoded escape when it is not kept */
		size_t k = 0;

		/* room for the run, one decoded escape (at most 4 bytes) and the NUL */
		if (decode && tmp_reserve(sc, n + r + 5) < 0)
			return STEER_ENOMEM;
		if (decode)
			memcpy(sc->tmp + n, sc->s + sc->i, r);
		n += r;
		sc->i += r;
		if (sc->i >= sc->len)
			return STEER_EINVAL;
		if (sc->s[sc->i] == '"')
			break;
		if (sc->s[sc->i] != '\\' ||
		    (sc->build && (sc->i + 1 >= sc->len || sc->s[sc->i + 1] == 'u')))
			return STEER_EINVAL;
		sc->i++;
		if (decode_escape(sc, decode ? sc->tmp : tmp, decode ? &n : &k) < 0)
			return STEER_EINVAL;
	}
	sc->i++;
	if (decode) {
		sc->tmp[n] = '\0';
		*out_len = n;
	}
	return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 §6) over @p n bytes of @p s. */
static bool number_ok(const char *s, size_t n, bool *is_int)
{
	size_t i = s[0] == '-' ? 1 : 0, d;

	for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d || (s[d] == '0' && i - d > 1))
		return false;
	*is_int = i == n;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

/* The number of @p n bytes at @p s, or NULL if jansson should judge it (or no memory). */
static json_t *make_number(const char *s, size_t n)
{
	char buf[JPOS_REAL_MAX + 1], *end;
	bool is_int = false, neg = s[0] == '-';
	json_int_t v = 0;
	double d;

	if (!number_ok(s, n, &is_int))
		return NULL;
	if (is_int && n - neg <= JPOS_INT_DIGITS) {
		for (size_t i = neg; i < n; i++)
			v = v * 10 + (s[i] - '0');
		return json_integer(neg ? -v : v);
	}
	if (is_int || n > JPOS_REAL_MAX)
		return NULL; /* too big an integer, or a long real: jansson's call */
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (end != buf + n || errno != 0 || !isfinite(d))
		return NULL;
	return json_real(d);
}

/* Build mode: the literal or number of the @p n bytes at @p s into sc->out. */
static int build_scalar(struct scan *sc, const char *s, size_t n)
{
	if (n == 4 && memcmp(s, "true", 4) == 0)
		sc->out = json_true();
	else if (n == 5 && memcmp(s, "false", 5) == 0)
		sc->out = json_false();
	else if (n == 4 && memcmp(s, "null", 4) == 0)
		sc->out = json_null();
	else
		sc->out = make_number(s, n);
	return sc->out != NULL ? 0 : STEER_EINVAL;
}

static int scan_scalar(struct scan *sc)
{
	size_t start = sc->i;

	while (sc->i < sc->len && sc->s[sc->i] != '\0' &&
	       strchr(",]} \t\r\n", sc->s[sc->i]) == NULL)
		sc->i++;
	if (sc->i == start)
		return STEER_EINVAL;
	if (sc->build)
		return sc->i < sc->len && sc->s[sc->i] == '\0'
			       ? STEER_EINVAL
			       : build_scalar(sc, sc->s + start, sc->i - start);
	/* jansson's lexer swallows one NUL byte that ends a number or literal */
	if (sc->i < sc->len && sc->s[sc->i] == '\0')
		sc->i++;
	return 0;
}

/* Build mode: add sc->out to @p obj as @p key (@p klen bytes). */
static int build_member(struct scan *sc, json_t *obj, const char *key, size_t klen)
{
	json_t *v = sc->out;

	sc->out = NULL;
	return json_object_setn_new_nocheck(obj, key, klen, v) == 0 ? 0 : STEER_ENOMEM;
}

static int scan_member(struct scan *sc, json_t *obj)
{
	size_t saved = sc->plen, klen = 0, koff = saved > 0 ? saved + 1 : 0;
	int kline = sc->line, kcol = cur_column(sc);
	int rc = STEER_EINVAL;

	if (!peek(sc, '"'))
		return STEER_EINVAL;
	rc = scan_string(sc, true, &klen);
	if (rc < 0)
		return rc;
	/* a duplicate is an error jansson words; the key lives on in the path, at koff */
	if (sc->build && json_object_getn(obj, sc->tmp, klen) != NULL)
		return STEER_EINVAL;
	rc = saved > 0 ? path_append(sc, ".", 1) : 0;
	if (rc == 0)
		rc = path_append(sc, sc->tmp, klen);
	skip_ws(sc);
	if (rc == 0 && !peek(sc, ':'))
		rc = STEER_EINVAL;
	if (rc == 0) {
		sc->i++;
		rc = scan_value(sc, kline, kcol);
	}
	if (rc == 0 && sc->build)
		rc = build_member(sc, obj, sc->path + koff, klen);
	path_truncate(sc, saved);
	return rc;
}

static int scan_object(struct scan *sc, json_t *obj)
{
	int rc;

	sc->i++;
	skip_ws(sc);
	if (peek(sc, '}')) {
		sc->i++;
		return 0;
	}
	for (;;) {
		rc = scan_member(sc, obj);
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

/* "[n]" into @p out (room for 24 bytes). @return its length. snprintf() costs more than
 * all the rest of the scan of an array element. */
static size_t index_part(char *out, size_t n)
{
	char digits[24];
	size_t k = 0, len = 0;

	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	out[len++] = '[';
	while (k > 0)
		out[len++] = digits[--k];
	out[len++] = ']';
	return len;
}

static int scan_array(struct scan *sc, json_t *arr)
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
		size_t k = index_part(part, n);

		rc = path_append(sc, part, k);
		if (rc == 0)
			rc = scan_value(sc, 0, 0);
		if (rc == 0 && sc->build) {
			rc = json_array_append_new(arr, sc->out) == 0 ? 0 : STEER_ENOMEM;
			sc->out = NULL;
		}
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

/* An object or array at sc->i; in build mode into sc->out. */
static int scan_container(struct scan *sc)
{
	bool is_obj = sc->s[sc->i] == '{';
	json_t *c = NULL;
	int rc;

	if (sc->depth >= (sc->build ? JPOS_BUILD_DEPTH : JPOS_MAX_DEPTH))
		return STEER_EINVAL;
	if (sc->build) {
		c = is_obj ? json_object() : json_array();
		if (c == NULL)
			return STEER_ENOMEM;
	}
	sc->depth++;
	rc = is_obj ? scan_object(sc, c) : scan_array(sc, c);
	sc->depth--;
	if (rc < 0)
		json_decref(c);
	else
		sc->out = c;
	return rc;
}

/* A string value; in build mode into sc->out. */
static int scan_string_value(struct scan *sc)
{
	size_t n = 0;
	int rc = scan_string(sc, sc->build, &n);

	if (rc < 0 || !sc->build)
		return rc;
	sc->out = json_stringn_nocheck(sc->tmp, n);
	return sc->out != NULL ? 0 : STEER_ENOMEM;
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
		return scan_container(sc);
	case '"':
		return scan_string_value(sc);
	default:
		return scan_scalar(sc);
	}
}

/* The whole text as one value (and nothing after it). */
static int scan_text(struct scan *sc)
{
	int rc = scan_value(sc, 0, 0);

	if (rc == 0) {
		skip_ws(sc);
		if (sc->i != sc->len)
			rc = STEER_EINVAL;
	}
	free(sc->path);
	free(sc->tmp);
	return rc;
}

/* Where the text starts, past white space: the top-level value, before any scan. */
static void find_top(struct steer_jpos *idx)
{
	struct scan sc = {.s = idx->text, .len = idx->len, .line = 1};

	skip_ws(&sc);
	if (sc.i >= sc.len)
		return; /* no value: line 0 */
	idx->top.line = idx->top.key_line = sc.line;
	idx->top.column = idx->top.key_column = cur_column(&sc);
}

void steer_jpos_init(struct steer_jpos *idx, const char *text, size_t len)
{
	memset(idx, 0, sizeof(*idx));
	idx->text = text;
	idx->len = len;
	find_top(idx);
}

/*
 * Scan the text once for every value's position, then hash the paths (the paths buffer
 * no longer moves). Entries are in document order and the first of equal paths stays, so
 * a lookup finds the earliest. Malformed text keeps the entries found before the fault.
 */
static int scan_positions(struct steer_jpos *idx)
{
	struct scan sc = {.s = idx->text, .len = idx->len, .line = 1, .idx = idx};
	int rc;

	idx->scanned = true;
	rc = scan_text(&sc);
	for (size_t i = 0; rc != STEER_ENOMEM && i < idx->n; i++)
		if (steer_cfg_index_add(&idx->by_path, idx->paths + idx->v[i].path, i, NULL) < 0)
			rc = STEER_ENOMEM;
	idx->failed = rc == STEER_ENOMEM;
	return rc;
}

int steer_jpos_scan(struct steer_jpos *idx)
{
	if (idx->scanned)
		return idx->failed ? STEER_ENOMEM : 0;
	return scan_positions(idx) == STEER_ENOMEM ? STEER_ENOMEM : 0;
}

int steer_jpos_index(struct steer_jpos *idx, const char *text, size_t len)
{
	steer_jpos_init(idx, text, len);
	return scan_positions(idx);
}

int steer_jpos_parse(struct steer_jpos *idx, const char *text, size_t len, json_t **root)
{
	struct scan sc = {.s = text, .len = len, .line = 1, .build = true};
	int rc;

	*root = NULL;
	rc = scan_text(&sc);
	/* without JSON_DECODE_ANY, jansson wants an object or an array at the top */
	if (rc == 0 && !json_is_object(sc.out) && !json_is_array(sc.out))
		rc = STEER_EINVAL;
	if (rc < 0) {
		json_decref(sc.out);
		return rc;
	}
	steer_jpos_init(idx, text, len);
	*root = sc.out;
	return 0;
}

void steer_jpos_fini(struct steer_jpos *idx)
{
	if (idx == NULL)
		return;
	free(idx->v);
	free(idx->paths);
	steer_cfg_index_fini(&idx->by_path);
	memset(idx, 0, sizeof(*idx));
}

const struct steer_jpos_entry *steer_jpos_find(const struct steer_jpos *idx, const char *path)
{
	size_t i;

	if (!idx->scanned) /* only the top-level value is known yet */
		return path[0] == '\0' && idx->top.line > 0 ? &idx->top : NULL;
	if (idx->failed) {
		for (i = 0; i < idx->n; i++)
			if (strcmp(idx->paths + idx->v[i].path, path) == 0)
				return &idx->v[i];
		return NULL;
	}
	i = steer_cfg_index_find(&idx->by_path, path);
	return i != SIZE_MAX ? &idx->v[i] : NULL;
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
