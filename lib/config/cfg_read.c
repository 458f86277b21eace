/*
 * Typed readers for the config validators: each one checks a member's type and range and
 * reports problems as `file:line:col: path: message`, so that one pass finds every error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config_int.h"

/* Longest word the edit distance is computed for; longer keys get no hint. */
#define SUGGEST_MAX 64

/* The entry for @p path, or for its closest indexed ancestor (paths cut at CFG_PATH_MAX). */
static const struct steer_jpos_entry *find_entry(const struct cfg_ctx *c, const char *path)
{
	char buf[CFG_PATH_MAX];
	size_t n;

	if (c->file == NULL)
		return NULL;
	/* positions past the top level need the scan; out of memory, it keeps what it found */
	if (path[0] != '\0')
		steer_jpos_scan(&c->file->pos);
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		const struct steer_jpos_entry *e = steer_jpos_find(&c->file->pos, buf);

		if (e != NULL || buf[0] == '\0')
			return e;
		n = strlen(buf);
		while (n > 0 && buf[n - 1] != '.' && buf[n - 1] != '[')
			n--;
		buf[n > 0 ? n - 1 : 0] = '\0';
	}
}

static void add_err(struct cfg_ctx *c, const char *path, bool at_key, const char *msg)
{
	const struct steer_jpos_entry *e = find_entry(c, path);
	int line = 0, col = 0;

	if (e != NULL) {
		line = at_key ? e->key_line : e->line;
		col = at_key ? e->key_column : e->column;
	}
	steer_errs_add(c->errs, c->file != NULL ? c->file->name : NULL, line, col, path, "%s", msg);
}

void steer_cfg_err(struct cfg_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[sizeof(((struct steer_err *)NULL)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_err(c, path, false, msg);
}

void steer_cfg_err_key(struct cfg_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[sizeof(((struct steer_err *)NULL)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_err(c, path, true, msg);
}

struct steer_src_pos steer_cfg_pos(const struct cfg_ctx *c, const char *path)
{
	const struct steer_jpos_entry *e = find_entry(c, path);
	struct steer_src_pos pos = {0};

	pos.file = c->file != NULL ? c->file->name : NULL;
	if (e != NULL) {
		pos.line = e->line;
		pos.column = e->column;
	}
	return pos;
}

/* A path cut at the buffer size still locates its closest ancestor (see find_entry()). */
static const char *path_done(char *buf, size_t size, int n)
{
	if (n < 0 && size > 0)
		buf[0] = '\0';
	return buf;
}

const char *steer_cfg_path(char *buf, size_t size, const char *parent, const char *key)
{
	if (parent[0] == '\0')
		return path_done(buf, size, snprintf(buf, size, "%s", key));
	return path_done(buf, size, snprintf(buf, size, "%s.%s", parent, key));
}

const char *steer_cfg_path_idx(char *buf, size_t size, const char *parent, size_t i)
{
	size_t plen = strlen(parent), k = 0, n = i;
	char digits[24];

	/* by hand: it runs for every array element, and snprintf() costs ten times more */
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	if (plen + k + 3 > size) /* cut, like snprintf() */
		return path_done(buf, size, snprintf(buf, size, "%s[%zu]", parent, i));
	memcpy(buf, parent, plen);
	buf[plen++] = '[';
	while (k > 0)
		buf[plen++] = digits[--k];
	buf[plen++] = ']';
	buf[plen] = '\0';
	return buf;
}

char *steer_cfg_strdup(struct cfg_ctx *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p == NULL) {
		c->nomem = true;
		return NULL;
	}
	memcpy(p, s, n);
	return p;
}

void *steer_cfg_calloc(struct cfg_ctx *c, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (p == NULL)
		c->nomem = true;
	return p;
}

char *steer_cfg_resolve(struct cfg_ctx *c, const char *dir, const char *rel)
{
	size_t dl = strlen(dir), rl = strlen(rel);
	char *p;

	if (rel[0] == '/' || strcmp(dir, ".") == 0)
		return steer_cfg_strdup(c, rel);
	p = malloc(dl + rl + 2);
	if (p == NULL) {
		c->nomem = true;
		return NULL;
	}
	memcpy(p, dir, dl);
	if (dl > 0 && dir[dl - 1] != '/')
		p[dl++] = '/';
	memcpy(p + dl, rel, rl + 1);
	return p;
}

bool steer_cfg_txt_string(struct cfg_ctx *c, const char *path, size_t len)
{
	if (len <= STEER_TXT_STRING_MAX)
		return true;
	steer_cfg_err(c, path, "must be at most %d bytes (one DNS TXT string), not %zu",
		      STEER_TXT_STRING_MAX, len);
	return false;
}

bool steer_cfg_name_taken(struct cfg_ctx *c, struct cfg_index *ix, const char *name, size_t id,
			  size_t *first)
{
	int rc = steer_cfg_index_add(ix, name, id, first);

	if (rc < 0)
		c->nomem = true;
	return rc == 0;
}

static int lower_at(const char *s, size_t i)
{
	return tolower((unsigned char)s[i]);
}

/* One cell of the edit-distance table: d[i][j] from its already computed neighbours. */
static int osa_cell(uint8_t d[][SUGGEST_MAX + 1], const char *a, const char *b, size_t i, size_t j)
{
	int same = lower_at(a, i - 1) == lower_at(b, j - 1);
	int best = d[i - 1][j - 1] + !same;

	if (d[i - 1][j] + 1 < best)
		best = d[i - 1][j] + 1;
	if (d[i][j - 1] + 1 < best)
		best = d[i][j - 1] + 1;
	if (i > 1 && j > 1 && lower_at(a, i - 1) == lower_at(b, j - 2) &&
	    lower_at(a, i - 2) == lower_at(b, j - 1) && d[i - 2][j - 2] + 1 < best)
		best = d[i - 2][j - 2] + 1;
	return best;
}

/* Optimal string alignment distance, case-insensitive: a transposition counts as one edit. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	uint8_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1]; /* distances never exceed SUGGEST_MAX */

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (uint8_t)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (uint8_t)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++)
			d[i][j] = (uint8_t)osa_cell(d, a, b, i, j);
	return d[la][lb];
}

void steer_cfg_suggest(struct cfg_suggest *s, const char *cand)
{
	size_t lw = strlen(s->word), dist;

	if (lw > SUGGEST_MAX || strlen(cand) > SUGGEST_MAX)
		return;
	dist = edit_distance(s->word, cand);
	/* at most 2 edits, and at most a third of the word: "ab" is not a typo of "ns" */
	if (dist > 2 || dist > (lw + 1) / 3 || dist >= strlen(cand))
		return;
	if (s->best == NULL || dist < s->dist) {
		s->best = cand;
		s->dist = dist;
	}
}

const char *steer_cfg_hint(const struct cfg_suggest *s, char *buf, size_t size)
{
	if (s->best != NULL)
		snprintf(buf, size, " (did you mean \"%s\"?)", s->best);
	else if (size > 0)
		buf[0] = '\0';
	return buf;
}

static bool key_known(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool steer_cfg_object(struct cfg_ctx *c, json_t *v, const char *path, const char *const *keys)
{
	if (!json_is_object(v)) {
		steer_cfg_err(c, path, "must be an object");
		return false;
	}
	for (void *it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
		const char *key = json_object_iter_key(it);
		struct cfg_suggest s = {.word = key};
		char sub[CFG_PATH_MAX], hint[96];

		if (key_known(key, keys))
			continue;
		for (size_t i = 0; keys[i] != NULL; i++)
			steer_cfg_suggest(&s, keys[i]);
		steer_cfg_err_key(c, steer_cfg_path(sub, sizeof(sub), path, key), "unknown key%s",
				  steer_cfg_hint(&s, hint, sizeof(hint)));
	}
	return true;
}

int steer_cfg_get(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			steer_cfg_err(c, path, "missing required key \"%s\"", key);
		return 0;
	}
	*out = v;
	return 1;
}

int steer_cfg_str(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, const char **out)
{
	char sub[CFG_PATH_MAX];
	json_t *v;
	int rc = steer_cfg_get(c, obj, path, key, required, &v);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v)) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key), "must be a string");
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key),
			      "must not contain NUL characters");
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int steer_cfg_dup(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, char **out)
{
	const char *s;
	int rc = steer_cfg_str(c, obj, path, key, required, &s);

	if (rc <= 0)
		return rc;
	free(*out);
	*out = steer_cfg_strdup(c, s);
	return *out != NULL ? 1 : -1;
}

int steer_cfg_uint(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   bool required, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char sub[CFG_PATH_MAX];
	json_int_t n;
	json_t *v;
	int rc = steer_cfg_get(c, obj, path, key, required, &v);

	if (rc <= 0)
		return rc;
	steer_cfg_path(sub, sizeof(sub), path, key);
	if (!json_is_integer(v)) {
		steer_cfg_err(c, sub, "must be an integer");
		return -1;
	}
	n = json_integer_value(v);
	if (n < (json_int_t)lo || n > (json_int_t)hi) {
		steer_cfg_err(c, sub, "must be between %lu and %lu", (unsigned long)lo,
			      (unsigned long)hi);
		return -1;
	}
	*out = (uint32_t)n;
	return 1;
}

int steer_cfg_bool(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   bool *out)
{
	char sub[CFG_PATH_MAX];
	json_t *v;
	int rc = steer_cfg_get(c, obj, path, key, false, &v);

	if (rc <= 0)
		return rc;
	if (!json_is_boolean(v)) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key),
			      "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int steer_cfg_number(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		     double *out)
{
	char sub[CFG_PATH_MAX];
	json_t *v;
	int rc = steer_cfg_get(c, obj, path, key, false, &v);

	if (rc <= 0)
		return rc;
	if (!json_is_number(v)) {
		steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key), "must be a number");
		return -1;
	}
	*out = json_number_value(v);
	return 1;
}

int steer_cfg_enum(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   const char *const *names, int *out)
{
	char sub[CFG_PATH_MAX], list[256];
	size_t used = 0;
	const char *s;
	int rc = steer_cfg_str(c, obj, path, key, false, &s);

	if (rc <= 0)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	list[0] = '\0';
	for (int i = 0; names[i] != NULL && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i > 0 ? ", " : "",
				 names[i]);

		used += n > 0 ? (size_t)n : 0;
	}
	steer_cfg_err(c, steer_cfg_path(sub, sizeof(sub), path, key), "must be one of %s", list);
	return -1;
}

static bool header_name_ok(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* Number of header lines in @p h, or -1 after reporting every bad name or value. */
static int count_headers(struct cfg_ctx *c, json_t *h, const char *path, size_t *count)
{
	char sub[CFG_PATH_MAX], el[CFG_PATH_MAX];
	size_t n = 0, bad = 0;
	size_t i;

	for (void *it = json_object_iter(h); it != NULL; it = json_object_iter_next(h, it)) {
		const char *name = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);

		steer_cfg_path(sub, sizeof(sub), path, name);
		if (!header_name_ok(name)) {
			steer_cfg_err_key(c, sub, "invalid header name");
			bad++;
		}
		if (json_is_string(v)) {
			n++;
			continue;
		}
		if (!json_is_array(v)) {
			steer_cfg_err(c, sub, "must be a string or an array of strings");
			bad++;
			continue;
		}
		for (i = 0; i < json_array_size(v); i++) {
			json_t *s = json_array_get(v, i);

			if (!json_is_string(s)) {
				steer_cfg_err(c, steer_cfg_path_idx(el, sizeof(el), sub, i),
					      "must be a string");
				bad++;
			}
			n++;
		}
	}
	*count = n;
	return bad == 0 ? 0 : -1;
}

static int add_header(struct cfg_ctx *c, const char *path, const char *name, const json_t *v,
		      struct steer_header *h)
{
	const char *val = json_string_value(v);

	if (strlen(val) != json_string_length(v) || strpbrk(val, "\r\n") != NULL) {
		steer_cfg_err(c, path, "must not contain CR, LF or NUL characters");
		return -1;
	}
	h->name = steer_cfg_strdup(c, name);
	h->value = steer_cfg_strdup(c, val);
	return h->name != NULL && h->value != NULL ? 0 : -1;
}

int steer_cfg_headers(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		      struct steer_header **out, size_t *n_out)
{
	char sub[CFG_PATH_MAX], el[CFG_PATH_MAX], item[CFG_PATH_MAX];
	struct steer_header *hs = NULL;
	size_t n = 0, k = 0, i;
	json_t *h;
	int rc = steer_cfg_get(c, obj, path, key, false, &h);

	if (rc <= 0)
		return rc;
	steer_cfg_path(sub, sizeof(sub), path, key);
	if (!json_is_object(h)) {
		steer_cfg_err(c, sub, "must be an object of header names to values");
		return -1;
	}
	if (count_headers(c, h, sub, &n) < 0)
		return -1;
	if (n == 0)
		return 1;
	hs = steer_cfg_calloc(c, n, sizeof(*hs));
	if (hs == NULL)
		return -1;
	for (void *it = json_object_iter(h); it != NULL; it = json_object_iter_next(h, it)) {
		const char *name = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);

		steer_cfg_path(el, sizeof(el), sub, name);
		if (json_is_string(v) && add_header(c, el, name, v, &hs[k++]) < 0)
			rc = -1;
		for (i = 0; i < json_array_size(v); i++) {
			json_t *s = json_array_get(v, i);

			steer_cfg_path_idx(item, sizeof(item), el, i);
			if (add_header(c, item, name, s, &hs[k++]) < 0)
				rc = -1;
		}
	}
	*out = hs;
	*n_out = n;
	return rc;
}

void steer_cfg_free_headers(struct steer_header *h, size_t n)
{
	for (size_t i = 0; h != NULL && i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

const char *steer_cfg_strerror(int errnum, char *buf, size_t size)
{
	/* XSI strerror_r (no _GNU_SOURCE): returns 0 and fills buf */
	if (strerror_r(errnum, buf, size) != 0)
		snprintf(buf, size, "error %d", errnum);
	return buf;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "an unknown kind of file";
}

int steer_cfg_open_file(const char *path, char *why, size_t size)
{
	/* O_NONBLOCK: opening a FIFO that has no writer would otherwise wait for one forever */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int e;

	if (fd < 0) {
		e = errno;
		steer_cfg_strerror(e, why, size);
		return -e;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		steer_cfg_strerror(e, why, size);
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file (%s)", file_kind(st.st_mode));
		close(fd);
		return STEER_EINVAL;
	}
	return fd;
}

bool steer_cfg_check_file(struct cfg_ctx *c, const char *path, const char *file)
{
	char why[160];
	int fd = steer_cfg_open_file(file, why, sizeof(why));

	if (fd < 0) {
		steer_cfg_err(c, path, "cannot read \"%s\": %s", file, why);
		return false;
	}
	close(fd);
	return true;
}

/* Up to @p size bytes of @p fd into @p buf. @return the count, or -errno. */
ssize_t steer_cfg_read_upto(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

ssize_t steer_cfg_read_private(struct cfg_ctx *c, const char *path, const char *file, int fd,
			       char *buf, size_t max)
{
	char eb[128];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) != 0) {
		steer_cfg_err(c, path, "cannot stat %s: %s", file,
			      steer_errno_str(errno, eb, sizeof(eb)));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		steer_cfg_err(c, path, "%s is not a regular file", file);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		steer_cfg_err(c, path, "%s is readable by other users; chmod 600 it", file);
		return -1;
	}
	n = steer_cfg_read_upto(fd, buf, max + 1); /* one more: is it too big? */
	if (n < 0) {
		steer_cfg_err(c, path, "cannot read %s: %s", file,
			      steer_errno_str((int)-n, eb, sizeof(eb)));
		return -1;
	}
	if ((size_t)n > max) {
		steer_cfg_err(c, path, "%s is larger than %zu bytes", file, max);
		explicit_bzero(buf, (size_t)n);
		return -1;
	}
	buf[n] = '\0';
	return n;
}

int steer_cfg_open_named(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
			 bool required, char *sub, char **file)
{
	char why[160];
	const char *s;
	int fd;

	*file = NULL;
	if (steer_cfg_str(c, obj, path, key, required, &s) <= 0)
		return -1;
	steer_cfg_path(sub, CFG_PATH_MAX, path, key);
	if (s[0] == '\0') {
		steer_cfg_err(c, sub, "must not be empty");
		return -1;
	}
	*file = steer_cfg_resolve(c, c->cfg->dir, s);
	if (*file == NULL)
		return -1;
	fd = steer_cfg_open_file(*file, why, sizeof(why));
	if (fd < 0) {
		steer_cfg_err(c, sub, "cannot read %s: %s", *file, why);
		free(*file);
		*file = NULL;
		return -1;
	}
	return fd;
}
