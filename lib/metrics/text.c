/*
 * The text exposition format 0.0.4: "# HELP", "# TYPE" and samples, one per line, into a
 * buffer that grows (API thread: allocation is fine there) up to a fixed maximum.
 */
#include "metrics/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "metrics/metrics.h"

void steer_metrics_text_init(struct steer_metrics_text *t)
{
	memset(t, 0, sizeof(*t));
}

char *steer_metrics_text_finish(struct steer_metrics_text *t)
{
	char *out = NULL;

	if (t->failed)
		free(t->buf);
	else
		out = t->buf != NULL ? t->buf : strdup(""); /* an empty document */
	steer_metrics_text_init(t);
	return out;
}

/* Make room for @p n more bytes and the NUL. @return false if the document failed. */
static bool reserve(struct steer_metrics_text *t, size_t n)
{
	size_t cap = t->cap != 0 ? t->cap : 4096;
	char *p;

	if (t->failed)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	while (cap < t->len + n + 1)
		cap *= 2;
	if (cap > STEER_METRICS_TEXT_MAX) {
		t->failed = true;
		return false;
	}
	p = realloc(t->buf, cap);
	if (p == NULL) {
		t->failed = true;
		return false;
	}
	t->buf = p;
	t->cap = cap;
	return true;
}

static void put(struct steer_metrics_text *t, const char *s, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct steer_metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void STEER_PRINTF(2, 3) putf(struct steer_metrics_text *t, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (r > 0)
		put(t, tmp, (size_t)r < sizeof(tmp) ? (size_t)r : sizeof(tmp) - 1);
}

/* Write @p s escaped: backslash and line feed always, the double quote in label values. */
static void put_escaped(struct steer_metrics_text *t, const char *s, bool label)
{
	for (const char *p = s; *p != '\0'; p++) {
		const char *run = p;

		while (*p != '\0' && *p != '\\' && *p != '\n' && !(label && *p == '"'))
			p++;
		put(t, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		put(t, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\", 2);
	}
}

size_t steer_metrics_escape_label(const char *in, char *out, size_t size)
{
	struct steer_metrics_text t;
	size_t len;

	steer_metrics_text_init(&t);
	put_escaped(&t, in, true);
	len = t.len;
	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		if (n > 0)
			memcpy(out, t.buf, n);
		out[n] = '\0';
	}
	free(t.buf);
	return len;
}

void steer_metrics_text_family(struct steer_metrics_text *t, const char *name, const char *type,
			       const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, false);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

/* "name{k="v",...,extra_k="extra_v"}" (no braces without labels). */
static void put_series(struct steer_metrics_text *t, const char *name, const char *const *labels,
		       const char *extra_k, const char *extra_v)
{
	bool first = true;

	puts_(t, name);
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		puts_(t, first ? "{" : ",");
		puts_(t, labels[i]);
		puts_(t, "=\"");
		put_escaped(t, labels[i + 1] != NULL ? labels[i + 1] : "", true);
		puts_(t, "\"");
		first = false;
	}
	if (extra_k != NULL) {
		puts_(t, first ? "{" : ",");
		puts_(t, extra_k);
		puts_(t, "=\"");
		puts_(t, extra_v);
		puts_(t, "\"");
		first = false;
	}
	if (!first)
		puts_(t, "}");
}

void steer_metrics_text_u64(struct steer_metrics_text *t, const char *name,
			    const char *const *labels, uint64_t value)
{
	put_series(t, name, labels, NULL, NULL);
	putf(t, " %llu\n", (unsigned long long)value);
}

static void put_double(struct steer_metrics_text *t, double v)
{
	if (isnan(v))
		puts_(t, "NaN");
	else if (isinf(v))
		puts_(t, v > 0 ? "+Inf" : "-Inf");
	else
		putf(t, "%.15g", v);
}

void steer_metrics_text_double(struct steer_metrics_text *t, const char *name,
			       const char *const *labels, double value)
{
	put_series(t, name, labels, NULL, NULL);
	puts_(t, " ");
	put_double(t, value);
	puts_(t, "\n");
}

void steer_metrics_text_hist(struct steer_metrics_text *t, const char *name,
			     const char *const *labels, const struct steer_metrics_hist *h)
{
	char series[128], le[32];
	uint64_t cum = 0;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (size_t i = 0; i <= STEER_METRICS_BUCKETS; i++) {
		cum += h->bucket[i];
		if (i < STEER_METRICS_BUCKETS)
			snprintf(le, sizeof(le), "%g", steer_metrics_bucket_le[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		put_series(t, series, labels, "le", le);
		putf(t, " %llu\n", (unsigned long long)cum);
	}
	snprintf(series, sizeof(series), "%s_sum", name);
	steer_metrics_text_double(t, series, labels, h->sum);
	snprintf(series, sizeof(series), "%s_count", name);
	steer_metrics_text_u64(t, series, labels, h->count);
}
