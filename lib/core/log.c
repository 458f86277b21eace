/* Logging to stderr with a UTC timestamp; the level threshold is a relaxed atomic. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = STEER_LOG_INFO;

void steer_log_set_level(int prio)
{
	atomic_store_explicit(&log_level, prio, memory_order_relaxed);
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case STEER_LOG_ERR:
		return "err";
	case STEER_LOG_WARN:
		return "warn";
	case STEER_LOG_NOTICE:
		return "notice";
	case STEER_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void steer_log(int prio, const char *src, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t len;
	int n;
	va_list ap;

	if (prio > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, prio_name(prio), src);
	len = n > 0 ? (size_t)n : 0;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
		return; /* nowhere left to report it */
}

const char *steer_log_quote(const char *in, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return buf;
	for (; *in != '\0' && o + 1 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' || c == '\\') {
			if (o + 2 >= size)
				break;
			buf[o++] = '\\';
		}
		buf[o++] = c < 0x20 ? '?' : (char)c;
	}
	buf[o] = '\0';
	return buf;
}
