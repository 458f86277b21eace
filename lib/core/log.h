/* Logging: one printf-checked entry point, used through the log_* macros. */
#ifndef STEER_CORE_LOG_H
#define STEER_CORE_LOG_H

#include "core/err.h"

enum steer_log_prio {
	STEER_LOG_ERR = 3,
	STEER_LOG_WARN = 4,
	STEER_LOG_NOTICE = 5,
	STEER_LOG_INFO = 6,
	STEER_LOG_DEBUG = 7,
};

/**
 * Write one line `LEVEL src: message` to stderr if @p prio is at or above the threshold.
 * Context: any thread; a single write(2) per line so lines never interleave.
 */
void steer_log(int prio, const char *src, const char *fmt, ...) STEER_PRINTF(3, 4);

/**
 * Escape @p in for a `key="value"` log field: `"` and `\` get a backslash, control
 * characters become `?`. @return @p buf (always NUL-terminated, truncated to fit).
 */
const char *steer_log_quote(const char *in, char *buf, size_t size);

/** Set the most verbose priority that is written (default STEER_LOG_INFO). */
void steer_log_set_level(int prio);

#ifdef STEER_LOG_SRC
#define log_err(...)    steer_log(STEER_LOG_ERR, STEER_LOG_SRC, __VA_ARGS__)
#define log_warn(...)   steer_log(STEER_LOG_WARN, STEER_LOG_SRC, __VA_ARGS__)
#define log_notice(...) steer_log(STEER_LOG_NOTICE, STEER_LOG_SRC, __VA_ARGS__)
#define log_info(...)   steer_log(STEER_LOG_INFO, STEER_LOG_SRC, __VA_ARGS__)
#define log_debug(...)  steer_log(STEER_LOG_DEBUG, STEER_LOG_SRC, __VA_ARGS__)
#endif

#endif
