/*
 * Output helpers: human times ("3m ago", "19:30"), tolerant JSON field access (a field
 * the server leaves out prints as "-", never crashes), and aligned tables whose column
 * widths come from their widest cell.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

const char *ctl_fmt_age(int64_t now_ms, int64_t t_ms, char *buf, size_t size)
{
	int64_t s = (now_ms - t_ms) / 1000;

	if (t_ms <= 0)
		snprintf(buf, size, "-");
	else if (s < 0)
		snprintf(buf, size, "0s ago"); /* a clock a little ahead of ours */
	else if (s < 60)
		snprintf(buf, size, "%llds ago", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm ago", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh ago", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd ago", (long long)(s / 86400));
	return buf;
}

const char *ctl_fmt_clock(int64_t now_ms, int64_t t_ms, bool seconds, char *buf, size_t size)
{
	time_t now = (time_t)(now_ms / 1000), t = (time_t)(t_ms / 1000);
	struct tm tm_now, tm_t;
	bool today;
	size_t n;

	if (localtime_r(&now, &tm_now) == NULL || localtime_r(&t, &tm_t) == NULL) {
		snprintf(buf, size, "@%lld", (long long)t);
		return buf;
	}
	today = tm_now.tm_year == tm_t.tm_year && tm_now.tm_yday == tm_t.tm_yday;
	if (today)
		n = strftime(buf, size, seconds ? "%H:%M:%S" : "%H:%M", &tm_t);
	else
		n = strftime(buf, size, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm_t);
	if (n == 0 && size > 0)
		buf[0] = '\0';
	return buf;
}

const char *ctl_fmt_override(int64_t now_ms, const json_t *ov, bool seconds, char *buf, size_t size)
{
	const char *reason = ctl_jstr(ov, "reason", "");
	int64_t until = ctl_jint(ov, "until_ms", 0);
	char when[64] = "";

	if (!json_is_object(ov)) {
		snprintf(buf, size, "-");
		return buf;
	}
	if (until > 0) {
		memcpy(when, " until ", 8);
		ctl_fmt_clock(now_ms, until, seconds, when + 7, sizeof(when) - 7);
	}
	snprintf(buf, size, "%s%s%s%s%s", ctl_jstr(ov, "state", "?"), when,
		 reason[0] != '\0' ? " (" : "", reason, reason[0] != '\0' ? ")" : "");
	return buf;
}

const char *ctl_jstr(const json_t *obj, const char *key, const char *dflt)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : dflt;
}

int64_t ctl_jint(const json_t *obj, const char *key, int64_t dflt)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18)
		return (int64_t)json_real_value(v);
	return dflt;
}

bool ctl_jbool(const json_t *obj, const char *key, bool dflt)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *ctl_jarr(const json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

const char *ctl_jitem(const json_t *arr, size_t i)
{
	const json_t *v = json_array_get(arr, i);

	return json_is_string(v) ? json_string_value(v) : "?";
}

int ctl_print_json(const json_t *json)
{
	char *text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (text == NULL) {
		fprintf(stderr, "steerctl: out of memory\n");
		return CTL_EXIT_REFUSED;
	}
	printf("%s\n", text);
	free(text);
	return CTL_EXIT_OK;
}

void ctl_put_clean(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		fputc((ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : ch, f);
	}
}
