/*
 * Fuzz the JSON position indexer (lib/config/jsonpos.c) against jansson. The input is the
 * text (not NUL-terminated). Checked on any text: no read past its end, entries in
 * document order, steer_jpos_find() finds every path at its first entry. When jansson
 * accepts the text (with the flags the config loader uses: the only text it indexes), the
 * indexer accepts it too, positions lie inside the text, keys come before their values,
 * steer_jpos_locate() inverts every position, and the path of every value of jansson's
 * tree is indexed at the character that opens that kind of value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/jsonpos_int.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LOCATE 64 /* entries whose position goes back through steer_jpos_locate() */

/** The text under test, where its lines start, and its index. */
struct subject {
	const char *text;
	size_t len;
	size_t *line_start; /* n_lines entries */
	size_t n_lines;
	bool ambiguous; /* two values may share a path: see ambiguous() */
	struct steer_jpos idx;
};

static void find_lines(struct subject *s)
{
	s->line_start = malloc((s->len + 1) * sizeof(*s->line_start));
	CHECK(s->line_start != NULL);
	s->line_start[s->n_lines++] = 0;
	for (size_t i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			s->line_start[s->n_lines++] = i + 1;
}

/* Byte offset of 1-based @p line:@p col (at most the line's end), or SIZE_MAX. */
static size_t offset_of(const struct subject *s, int line, int col)
{
	size_t start, end;

	if (line < 1 || col < 1 || (size_t)line > s->n_lines)
		return SIZE_MAX;
	start = s->line_start[line - 1];
	end = (size_t)line < s->n_lines ? s->line_start[line] - 1 : s->len;
	return (size_t)col - 1 <= end - start ? start + (size_t)col - 1 : SIZE_MAX;
}

/* The JSON path of @p e: the index keeps every path in one string pool. */
static const char *path_of(const struct subject *s, const struct steer_jpos_entry *e)
{
	CHECK(e->path < s->idx.paths_len);
	return s->idx.paths + e->path;
}

/* Entries come in document order: each one starts after the one before it. */
static bool before(const struct steer_jpos_entry *x, const struct steer_jpos_entry *y)
{
	return x->line < y->line || (x->line == y->line && x->column < y->column);
}

/*
 * Entries are in document order, and steer_jpos_find() finds each path at its first
 * entry. With
 * @p valid (jansson accepted the text; the only text the config loader indexes), every
 * position also lies inside the text, a key before its value, and steer_jpos_locate()
 * inverts it. Malformed text stops the scan somewhere: its positions are only >= 1.
 */
static void check_entries(const struct subject *s, bool valid)
{
	for (size_t i = 0; i < s->idx.n; i++) {
		const struct steer_jpos_entry *e = &s->idx.v[i];
		const char *path = path_of(s, e);
		const struct steer_jpos_entry *found = steer_jpos_find(&s->idx, path);
		size_t off, koff;
		int l, c;

		CHECK(e->line >= 1 && e->column >= 1 && e->key_line >= 1 && e->key_column >= 1);
		CHECK(found != NULL && strcmp(path_of(s, found), path) == 0 && found <= e);
		if (i > 0)
			CHECK(before(&s->idx.v[i - 1], e));
		if (!valid)
			continue;
		off = offset_of(s, e->line, e->column);
		koff = offset_of(s, e->key_line, e->key_column);
		CHECK(off < s->len && koff <= off);
		if (koff != off)
			CHECK(s->text[koff] == '"');
		if (i >= MAX_LOCATE)
			continue; /* it scans from the start of the text: keep inputs fast */
		steer_jpos_locate(s->text, s->len, off, &l, &c);
		CHECK(l == e->line && c == e->column);
	}
}

/* The character a value of @p j's type starts with. */
static bool opens(const json_t *j, char c)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return c == '{';
	case JSON_ARRAY:
		return c == '[';
	case JSON_STRING:
		return c == '"';
	case JSON_TRUE:
		return c == 't';
	case JSON_FALSE:
		return c == 'f';
	case JSON_NULL:
		return c == 'n';
	default:
		return c == '-' || (c >= '0' && c <= '9');
	}
}

/*
 * Can two values of @p j have the same path? Only when a key is empty or holds a dot or a
 * bracket ("a.b" beside "b" in "a"); then steer_jpos_find() gives the first in the text.
 */
static bool ambiguous(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			if (key[0] == '\0' || strpbrk(key, ".[]") != NULL || ambiguous(v))
				return true;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if (ambiguous(v))
				return true;
		}
	}
	return false;
}

/* @p path names @p j: it is indexed, and (unless paths are ambiguous) starts right. */
static void check_value(const struct subject *s, const json_t *j, const char *path)
{
	const struct steer_jpos_entry *e = steer_jpos_find(&s->idx, path);

	CHECK(e != NULL && strcmp(path_of(s, e), path) == 0);
	if (!s->ambiguous)
		CHECK(opens(j, s->text[offset_of(s, e->line, e->column)]));
}

static void walk(const struct subject *s, json_t *j, const char *path);

static void walk_child(const struct subject *s, json_t *child, const char *path, const char *sep,
		       const char *part)
{
	const size_t n = strlen(path) + strlen(sep) + strlen(part) + 1;
	char *sub = malloc(n);

	CHECK(sub != NULL);
	snprintf(sub, n, "%s%s%s", path, sep, part);
	walk(s, child, sub);
	free(sub);
}

/* jansson's iteration macros take a non-const value: @p j is only read (here and above) */
static void walk(const struct subject *s, json_t *j, const char *path)
{
	char part[32];
	const char *key;
	json_t *v;
	size_t i;

	check_value(s, j, path);
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			walk_child(s, v, path, path[0] != '\0' ? "." : "", key);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			snprintf(part, sizeof(part), "[%zu]", i);
			walk_child(s, v, path, "", part);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subject s = {.text = (const char *)data, .len = size};
	json_error_t jerr;
	json_t *root;
	int rc;

	find_lines(&s);
	rc = steer_jpos_index(&s.idx, s.text, s.len);
	CHECK(rc == 0 || rc == STEER_EINVAL);
	root = json_loadb(s.text, s.len, JSON_REJECT_DUPLICATES, &jerr);
	check_entries(&s, root != NULL);
	if (root != NULL) {
		CHECK(rc == 0);
		s.ambiguous = ambiguous(root);
		walk(&s, root, "");
		json_decref(root);
	}
	steer_jpos_fini(&s.idx);
	free(s.line_start);
	return 0;
}
