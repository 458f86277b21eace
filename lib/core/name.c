/* Domain-name text <-> wire conversion for config and zone loading (not the answer path). */
#include "core/name.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t steer_name_len(const uint8_t *wire)
{
	size_t n = 0;

	while (wire[n] != 0)
		n += (size_t)wire[n] + 1;
	return n + 1;
}

int steer_name_labels(const uint8_t *wire)
{
	int n = 0;

	for (size_t i = 0; wire[i] != 0; i += (size_t)wire[i] + 1)
		n++;
	return n;
}

bool steer_name_is_subdomain(const uint8_t *name, size_t name_len, const uint8_t *apex,
			     size_t apex_len)
{
	size_t i = 0;

	if (name_len < apex_len)
		return false;
	/* walk label boundaries so "xlb.example." is not taken as below "lb.example." */
	while (name_len - i > apex_len)
		i += (size_t)name[i] + 1;
	return name_len - i == apex_len && memcmp(name + i, apex, apex_len) == 0;
}

static int parse_escape(const char **pp, uint8_t *c)
{
	const char *p = *pp;

	if (isdigit((unsigned char)p[0])) {
		int v;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return -1;
		v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (v > 255)
			return -1;
		*c = (uint8_t)v;
		*pp = p + 3;
		return 0;
	}
	if (p[0] == '\0')
		return -1;
	*c = (uint8_t)p[0];
	*pp = p + 1;
	return 0;
}

int steer_name_from_text(const char *name, const uint8_t *origin_wire, uint8_t *out,
			 size_t out_size)
{
	size_t len = 0;
	const char *p = name;
	bool absolute = false;

	if (out_size < 1)
		return STEER_EINVAL;
	if (strcmp(name, "@") == 0) {
		if (origin_wire == NULL)
			return STEER_EINVAL;
		len = steer_name_len(origin_wire);
		if (len > out_size)
			return STEER_EINVAL;
		memcpy(out, origin_wire, len);
		return (int)len;
	}
	if (strcmp(name, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		size_t lab = len++;
		uint8_t n = 0;

		while (*p != '\0' && *p != '.') {
			uint8_t c;

			if (*p == '\\') {
				p++;
				if (parse_escape(&p, &c) < 0)
					return STEER_EINVAL;
			} else {
				c = (uint8_t)*p++;
			}
			if (n == 63 || len + 1 >= out_size || len >= STEER_NAME_MAX)
				return STEER_EINVAL;
			out[len++] = (uint8_t)tolower(c);
			n++;
		}
		if (n == 0)
			return STEER_EINVAL; /* empty label: "a..b" or leading dot */
		out[lab] = n;
		if (*p == '.') {
			p++;
			if (*p == '\0')
				absolute = true;
		}
	}
	if (absolute || origin_wire == NULL) {
		if (!absolute)
			return STEER_EINVAL;
		if (len + 1 > out_size || len + 1 > STEER_NAME_MAX)
			return STEER_EINVAL;
		out[len++] = 0;
		return (int)len;
	}
	{
		size_t olen = steer_name_len(origin_wire);

		if (len + olen > out_size || len + olen > STEER_NAME_MAX)
			return STEER_EINVAL;
		memcpy(out + len, origin_wire, olen);
		return (int)(len + olen);
	}
}

const char *steer_name_to_text(const uint8_t *wire, char *out, size_t out_size)
{
	size_t o = 0;

	if (out_size == 0)
		return out;
	if (wire[0] == 0) {
		snprintf(out, out_size, ".");
		return out;
	}
	for (size_t i = 0; wire[i] != 0; i += (size_t)wire[i] + 1) {
		for (size_t k = 1; k <= wire[i]; k++) {
			uint8_t c = wire[i + k];
			int n;

			if (c == '.' || c == '\\')
				n = snprintf(out + o, out_size - o, "\\%c", c);
			else if (c <= 0x20 || c >= 0x7f)
				n = snprintf(out + o, out_size - o, "\\%03u", c);
			else
				n = snprintf(out + o, out_size - o, "%c", c);
			if (n < 0 || (size_t)n >= out_size - o)
				return out;
			o += (size_t)n;
		}
		if (o + 1 < out_size) {
			out[o++] = '.';
			out[o] = '\0';
		}
	}
	return out;
}
