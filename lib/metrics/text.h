/*
 * The Prometheus text exposition format (version 0.0.4): a document built family by
 * family (# HELP, # TYPE, then every sample of the family), with label values and help
 * text escaped as the format wants.
 */
#ifndef STEER_METRICS_TEXT_H
#define STEER_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct steer_metrics_hist;

#define STEER_METRICS_TEXT_MAX (64u << 20) /* a document larger than this is refused */

/** A document being written: caller's storage, zero it (or steer_metrics_text_init()). */
struct steer_metrics_text {
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* out of memory or over STEER_METRICS_TEXT_MAX: the document is lost */
};

/** Start an empty document in @p t. */
void steer_metrics_text_init(struct steer_metrics_text *t);

/**
 * Finish the document. @return the text (malloc'ed, NUL-terminated; the caller frees
 * it), or NULL if writing failed. @p t is empty afterwards.
 */
char *steer_metrics_text_finish(struct steer_metrics_text *t);

/**
 * Start a family: "# HELP name help" and "# TYPE name type".
 * @param type  "counter", "gauge" or "histogram".
 * @param help  Free text; backslashes and line feeds are escaped.
 */
void steer_metrics_text_family(struct steer_metrics_text *t, const char *name, const char *type,
			       const char *help);

/**
 * One sample "name{k="v",...} value" with an integer value.
 * @param labels  NULL, or pairs of label name and value ending in a NULL name; values
 *                are escaped (backslash, double quote, line feed).
 */
void steer_metrics_text_u64(struct steer_metrics_text *t, const char *name,
			    const char *const *labels, uint64_t value);

/** The same with a floating point value (gauges: times, ratios). */
void steer_metrics_text_double(struct steer_metrics_text *t, const char *name,
			       const char *const *labels, double value);

/**
 * The samples of histogram @p h: name_bucket{...,le="..."} (cumulative, ending with
 * le="+Inf"), name_sum and name_count, each with @p labels.
 */
void steer_metrics_text_hist(struct steer_metrics_text *t, const char *name,
			     const char *const *labels, const struct steer_metrics_hist *h);

/**
 * Escape @p in as a label value into @p out (NUL-terminated, cut to fit @p size).
 * @return the length the escaped value has (may exceed @p size - 1 when cut).
 */
size_t steer_metrics_escape_label(const char *in, char *out, size_t size);

#endif
