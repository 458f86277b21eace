/*
 * Logging to stderr with a UTC timestamp, as text or as one JSON object per line; the
 * level and format are relaxed atomics, set at start and after each reload. JSON lines
 * also carry the message's `key=value` facts as fields of their own.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest message, and longest JSON line (every byte of it may need escaping). */
#define LOG_MSG_MAX  1024
#define LOG_JSON_MAX 4096
/* key=value facts of one message that become fields, at most */
#define LOG_FIELDS_MAX 32

static atomic_int log_level = STEER_LOG_INFO;
static atomic_int log_forced; /* 0, or the level steer_log_force_level() holds */
static atomic_int log_format = STEER_LOG_TEXT;

void steer_log_set_level(int prio)
{
	atomic_store_explicit(&log_level, prio, memory_order_relaxed);
}

void steer_log_force_level(int prio)
{
	atomic_store_explicit(&log_forced, prio, memory_order_relaxed);
	if (prio != 0)
		steer_log_set_level(prio);
}

void steer_log_set_format(enum steer_log_format fmt)
{
	atomic_store_explicit(&log_format, (int)fmt, memory_order_relaxed);
}

void steer_log_configure(int prio, enum steer_log_format fmt)
{
	int forced = atomic_load_explicit(&log_forced, memory_order_relaxed);

	steer_log_set_level(forced != 0 ? forced : prio);
	steer_log_set_format(fmt);
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

/* "2026-01-02T03:04:05.678Z" into @p buf (room for any int the fields could hold). */
#define TIMESTAMP_MAX 128
static void timestamp(char buf[TIMESTAMP_MAX])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, TIMESTAMP_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* ---- JSON lines ---- */

/* A JSON line being built; it always stays closable (room for `"}` and the newline). */
struct jw {
	char buf[LOG_JSON_MAX];
	size_t n;
	bool full; /* something did not fit: no more fields */
};

#define JW_TAIL 3 /* a closing quote, '}' and '\n' */

static bool jw_room(const struct jw *w, size_t k)
{
	return w->n + k + JW_TAIL <= sizeof(w->buf);
}

static void jw_raw(struct jw *w, const char *s, size_t k)
{
	if (!jw_room(w, k)) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->n, s, k);
	w->n += k;
}

/* Length of the valid UTF-8 sequence at @p s (at most @p left bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (s[0] < 0xc2 || s[0] > 0xf4 || k > left)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return k;
}

/* One character of a JSON string: escaped, or copied whole (a UTF-8 sequence). */
static size_t jw_char(struct jw *w, const unsigned char *s, size_t left)
{
	char esc[8];
	size_t k = 1;

	if (s[0] == '"' || s[0] == '\\') {
		esc[0] = '\\';
		esc[1] = (char)s[0];
		jw_raw(w, esc, 2);
	} else if (s[0] < 0x20) {
		snprintf(esc, sizeof(esc), "\\u%04x", s[0]);
		jw_raw(w, esc, 6);
	} else if (s[0] < 0x80) {
		jw_raw(w, (const char *)s, 1);
	} else if ((k = utf8_len(s, left)) > 0) {
		jw_raw(w, (const char *)s, k);
	} else {
		k = 1;
		jw_raw(w, "\\ufffd", 6); /* not UTF-8: the replacement character */
	}
	return k;
}

/*
 * The @p len bytes at @p s as a JSON string. With @p unquote, `\x` is taken as `x` (the
 * escaping of steer_log_quote()). Cut short (and still closed) when the line is full.
 */
static void jw_str(struct jw *w, const char *s, size_t len, bool unquote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (!jw_room(w, 1)) {
		w->full = true; /* callers check for room first: never half a member */
		return;
	}
	w->buf[w->n++] = '"';
	while (i < len && !w->full) {
		if (unquote && u[i] == '\\' && i + 1 < len)
			i++;
		i += jw_char(w, u + i, len - i);
	}
	w->buf[w->n++] = '"'; /* jw_room() kept room for it */
}

/* ---- key=value facts ---- */

/* One `key=value` fact of a message; the value without its quotes. */
struct kv {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
	bool quoted;
};

static bool key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
}

/* Past the quoted text at @p p (at its opening quote): after the closing one, or the end. */
static const char *skip_quoted(const char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return *p == '"' ? p + 1 : p;
}

/* The next `key=value` fact of the message at *@p p; *@p p moves past what was read. */
static bool next_fact(const char **p, struct kv *kv)
{
	const char *s = *p, *k;

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if (*s == '"') { /* quoted text that is no value: skip it whole */
			s = skip_quoted(s);
			continue;
		}
		for (k = s; key_char(*s, s == k); s++)
			;
		if (s > k && *s == '=') {
			kv->key = k;
			kv->klen = (size_t)(s - k);
			kv->quoted = *++s == '"';
			kv->val = s + kv->quoted;
			s = kv->quoted ? skip_quoted(s) : s + strcspn(s, " ");
			kv->vlen = (size_t)(s - kv->val) - (kv->quoted && s[-1] == '"' ? 1 : 0);
			*p = s;
			return true;
		}
		s += strcspn(s, " ");
	}
	*p = s;
	return false;
}

/* Whether a fact named @p key of @p klen bytes would clash with a field already written. */
static bool key_taken(const struct kv *seen, size_t n, const struct kv *kv)
{
	static const char *const fixed[] = {"time", "level", "source", "msg"};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strlen(fixed[i]) == kv->klen && memcmp(fixed[i], kv->key, kv->klen) == 0)
			return true;
	for (size_t i = 0; i < n; i++)
		if (seen[i].klen == kv->klen && memcmp(seen[i].key, kv->key, kv->klen) == 0)
			return true;
	return false;
}

/* The facts of @p msg as fields: the first of each name, in message order. */
static void jw_facts(struct jw *w, const char *msg)
{
	struct kv seen[LOG_FIELDS_MAX];
	size_t n = 0;
	struct kv kv;

	while (n < LOG_FIELDS_MAX && !w->full && next_fact(&msg, &kv)) {
		if (key_taken(seen, n, &kv))
			continue;
		/* the whole key (plain ASCII), its quotes, ',', ':' and the value's quotes */
		if (!jw_room(w, kv.klen + 6)) {
			w->full = true;
			break;
		}
		seen[n++] = kv;
		jw_raw(w, ",", 1);
		jw_str(w, kv.key, kv.klen, false);
		jw_raw(w, ":", 1);
		jw_str(w, kv.val, kv.vlen, kv.quoted);
	}
}

static size_t json_line(struct jw *w, int prio, const char *src, const char *msg)
{
	char ts[TIMESTAMP_MAX];

	timestamp(ts);
	w->n = 0;
	w->full = false;
	jw_raw(w, "{\"time\":", 8);
	jw_str(w, ts, strlen(ts), false);
	jw_raw(w, ",\"level\":", 9);
	jw_str(w, prio_name(prio), strlen(prio_name(prio)), false);
	jw_raw(w, ",\"source\":", 10);
	jw_str(w, src, strlen(src), false);
	jw_raw(w, ",\"msg\":", 7);
	jw_str(w, msg, strlen(msg), false);
	jw_facts(w, msg);
	w->buf[w->n++] = '}';
	w->buf[w->n++] = '\n';
	return w->n;
}

/* ---- the entry point ---- */

static size_t text_line(char *line, size_t size, int prio, const char *src, const char *msg)
{
	char ts[TIMESTAMP_MAX];
	int n;

	timestamp(ts);
	n = snprintf(line, size - 1, "%s %s %s: %s", ts, prio_name(prio), src, msg);
	if (n < 0)
		n = 0;
	if ((size_t)n > size - 2)
		n = (int)(size - 2);
	line[n++] = '\n';
	return (size_t)n;
}

void steer_log(int prio, const char *src, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX], line[LOG_MSG_MAX + 128];
	struct jw w;
	va_list ap;
	ssize_t rc;

	if (prio > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (atomic_load_explicit(&log_format, memory_order_relaxed) == STEER_LOG_JSON)
		rc = write(STDERR_FILENO, w.buf, json_line(&w, prio, src, msg));
	else
		rc = write(STDERR_FILENO, line, text_line(line, sizeof(line), prio, src, msg));
	if (rc < 0)
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
