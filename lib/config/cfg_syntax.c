/*
 * JSON syntax errors: jansson's message at the first byte of the offending token, plus the
 * likely fix where the message and the text around it tell ("missing comma?"), since a
 * hand-edited config most often lacks a comma or has one too many.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "config/config_int.h"

/*
 * Where a syntax error starts. jansson's position is just past the offending token, which
 * its message quotes ("... near 'tru'"): step back over it when the text confirms the
 * quote, so the column points at the token's first byte. At the end of the input, point
 * just past the last token instead of at an empty last line.
 */
static size_t syntax_offset(const struct cfg_file *f, const json_error_t *jerr)
{
	const char *near = strstr(jerr->text, " near '");
	size_t off = jerr->position > 0 ? (size_t)jerr->position : 0, tlen;

	if (off > f->len)
		off = f->len;
	if (near != NULL) {
		near += strlen(" near '");
		tlen = strlen(near);
		if (tlen > 1 && near[tlen - 1] == '\'' && tlen - 1 <= off &&
		    memcmp(f->text + off - (tlen - 1), near, tlen - 1) == 0)
			off -= tlen - 1;
	} else {
		while (off > 0 && strchr(" \t\r\n", f->text[off - 1]) != NULL)
			off--;
	}
	return off;
}

/* The last byte before @p off that is not white space, or 0 at the start. */
static char before(const struct cfg_file *f, size_t off)
{
	while (off > 0 && strchr(" \t\r\n", f->text[off - 1]) != NULL)
		off--;
	return off > 0 ? f->text[off - 1] : '\0';
}

/* The first byte of the token jansson's message quotes ("... near 'X"), or '\0'. */
static char near_char(const char *msg)
{
	const char *near = strstr(msg, " near '");

	return near != NULL ? near[7] : '\0';
}

/* Whether jansson's message starts with @p what, about a token starting with one of
 * @p first (NULL: any token, not the end of the file). */
static bool says(const char *msg, const char *what, const char *first)
{
	char c = near_char(msg);

	if (strncmp(msg, what, strlen(what)) != 0 || c == '\0')
		return false;
	return first == NULL || strchr(first, c) != NULL;
}

/* What a value can start with, as jansson quotes it (an unquoted word starts with a letter). */
static bool value_start(char c)
{
	return c != '\0' && (strchr("{[\"-", c) != NULL || isalnum((unsigned char)c));
}

/* The likely fix for jansson's message @p msg about the token at @p off, or "". */
static const char *syntax_hint(const struct cfg_file *f, const char *msg, size_t off)
{
	char prev = before(f, off), c = near_char(msg);

	/* `[1 2]`, `{"a": 1 "b": 2}`: a value where a comma or the closing bracket belongs */
	if ((says(msg, "']' expected", NULL) || says(msg, "'}' expected", NULL)) && value_start(c))
		return " (missing comma?)";
	/* `[1, ]`, `{"a": 1, }` */
	if ((says(msg, "unexpected token", "]}") || says(msg, "string or '}' expected", "}")) &&
	    prev == ',')
		return " (trailing comma?)";
	if (says(msg, "unexpected token", "]},") && prev == ':')
		return " (missing value?)";
	/* the file ends inside an object or an array */
	if (c == '\0' && strncmp(msg, "'}' expected", 12) == 0)
		return " (missing '}'?)";
	if (c == '\0' && strncmp(msg, "']' expected", 12) == 0)
		return " (missing ']'?)";
	if (says(msg, "':' expected", NULL))
		return " (missing colon?)";
	if (says(msg, "string or '}' expected", NULL) && isalpha((unsigned char)c))
		return " (keys need double quotes)";
	if (says(msg, "invalid token", "'"))
		return " (strings need double quotes, not single ones)";
	if (says(msg, "invalid token", "TFN"))
		return " (true, false and null are lower case)";
	if (says(msg, "invalid token", NULL) && isalpha((unsigned char)c))
		return " (strings need double quotes)";
	return "";
}

void steer_cfg_syntax_error(struct cfg_ctx *c, const struct cfg_file *f, const json_error_t *jerr)
{
	size_t off = syntax_offset(f, jerr);
	int line, col;

	steer_jpos_locate(f->text, f->len, off, &line, &col);
	steer_errs_add(c->errs, f->name, line, col, NULL, "invalid JSON: %s%s", jerr->text,
		       syntax_hint(f, jerr->text, off));
}
