/* Logging: one printf-checked entry point, used through the log_* macros; text or JSON lines. */
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

/** How each line is written. */
enum steer_log_format {
	STEER_LOG_TEXT, /* `TIME LEVEL src: message` */
	/* one JSON object per line: "time", "level", "source", "msg", and each `key=value` fact
	 * of the message (a quoted value unquoted) as a field too, the first of each name */
	STEER_LOG_JSON,
};

/**
 * Write one line (see enum steer_log_format) to stderr if @p prio is at or above the
 * threshold. Messages longer than 1023 bytes are cut; a JSON line stays valid JSON.
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

/** Set the line format (default STEER_LOG_TEXT). Context: any thread. */
void steer_log_set_format(enum steer_log_format fmt);

/**
 * Hold the level at @p prio whatever steer_log_configure() is told later (steerd -v:
 * STEER_LOG_DEBUG); 0 lets go (the level stays until the next steer_log_configure()).
 * Context: start-up, before other threads log.
 */
void steer_log_force_level(int prio);

/**
 * Apply the configured level (ignored while steer_log_force_level() holds one) and
 * format: at start and after each successful reload.
 * Context: any thread; lines being written keep the settings they started with.
 */
void steer_log_configure(int prio, enum steer_log_format fmt);

#ifdef STEER_LOG_SRC
#define log_err(...)    steer_log(STEER_LOG_ERR, STEER_LOG_SRC, __VA_ARGS__)
#define log_warn(...)   steer_log(STEER_LOG_WARN, STEER_LOG_SRC, __VA_ARGS__)
#define log_notice(...) steer_log(STEER_LOG_NOTICE, STEER_LOG_SRC, __VA_ARGS__)
#define log_info(...)   steer_log(STEER_LOG_INFO, STEER_LOG_SRC, __VA_ARGS__)
#define log_debug(...)  steer_log(STEER_LOG_DEBUG, STEER_LOG_SRC, __VA_ARGS__)
#endif

#endif
