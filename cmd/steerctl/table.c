/*
 * Aligned text tables: cells are copied (control characters replaced) as rows are
 * added, and column widths are measured in UTF-8 characters when the table is printed.
 * A line row (ctl_table_add_line()) holds its text in the first cell and NULL in the
 * others: it is printed as is and takes no part in the widths.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define COL_GAP 2

struct ctl_table {
	size_t n_cols;
	size_t n_rows;
	size_t cap_rows;
	char **cells; /* n_rows * n_cols, row by row */
};

/* Characters, not bytes: UTF-8 continuation bytes do not take a column. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static char *clean_dup(const char *s)
{
	char *copy = strdup(s != NULL ? s : "-");

	for (char *p = copy; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = *p == '\t' ? ' ' : '?';
	return copy;
}

struct ctl_table *ctl_table_new(size_t n_cols, const char *const *titles)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->n_cols = n_cols;
	if (titles != NULL && ctl_table_add(t, titles) != 0) {
		ctl_table_free(t);
		return NULL;
	}
	return t;
}

/* Append a row: the first @p n_given cells copied, the others NULL. */
static int add_cells(struct ctl_table *t, const char *const *cells, size_t n_given)
{
	size_t base;

	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows == 0 ? 16 : t->cap_rows * 2;
		char **grown = realloc(t->cells, cap * t->n_cols * sizeof(*grown));

		if (grown == NULL)
			return STEER_ENOMEM;
		t->cells = grown;
		t->cap_rows = cap;
	}
	base = t->n_rows * t->n_cols;
	for (size_t c = 0; c < t->n_cols; c++) {
		t->cells[base + c] = c < n_given ? clean_dup(cells[c]) : NULL;
		if (c < n_given && t->cells[base + c] == NULL) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[base + k]);
			return STEER_ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

int ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	return add_cells(t, cells, t->n_cols);
}

int ctl_table_add_line(struct ctl_table *t, const char *text)
{
	const char *cells[] = {text};

	return add_cells(t, cells, 1);
}

static bool is_line(const struct ctl_table *t, char *const *row)
{
	return t->n_cols > 1 && row[1] == NULL;
}

static void print_row(const struct ctl_table *t, char *const *row, const size_t *widths, FILE *f,
		      int indent)
{
	size_t last = t->n_cols;

	if (is_line(t, row)) {
		fprintf(f, "%*s%s\n", indent, "", row[0]);
		return;
	}
	while (last > 0 && row[last - 1][0] == '\0')
		last--; /* no trailing blanks after empty cells */
	fprintf(f, "%*s", indent, "");
	for (size_t c = 0; c < last; c++) {
		fputs(row[c], f);
		if (c + 1 < last)
			fprintf(f, "%*s", (int)(widths[c] - text_width(row[c]) + COL_GAP), "");
	}
	fputc('\n', f);
}

void ctl_table_print(const struct ctl_table *t, FILE *f, int indent)
{
	size_t *widths = calloc(t->n_cols, sizeof(*widths));

	if (widths == NULL) {
		fprintf(stderr, "steerctl: out of memory\n");
		return;
	}
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols && !is_line(t, &t->cells[r * t->n_cols]); c++) {
			size_t w = text_width(t->cells[r * t->n_cols + c]);

			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++)
		print_row(t, &t->cells[r * t->n_cols], widths, f, indent);
	free(widths);
}

void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]); /* NULL in line rows */
	free(t->cells);
	free(t);
}
