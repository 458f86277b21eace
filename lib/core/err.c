/* Error records: fixed-size messages so that filling one never allocates. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int steer_err_set(struct steer_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int steer_errs_add(struct steer_errs *errs, const char *file, int line, int column,
		   const char *path, const char *fmt, ...)
{
	struct steer_err *e;
	va_list ap;

	if (errs->n == errs->cap) {
		size_t cap = errs->cap != 0 ? errs->cap * 2 : 8;
		struct steer_err *v = realloc(errs->v, cap * sizeof(*v));

		if (v == NULL) {
			errs->n++; /* counted, not recorded */
			return STEER_ECONFIG;
		}
		errs->v = v;
		errs->cap = cap;
	}
	if (errs->n >= errs->cap)
		return STEER_ECONFIG;
	e = &errs->v[errs->n++];
	memset(e, 0, sizeof(*e));
	e->code = STEER_ECONFIG;
	e->line = line;
	e->column = column;
	if (file != NULL)
		snprintf(e->file, sizeof(e->file), "%s", file);
	if (path != NULL)
		snprintf(e->path, sizeof(e->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return STEER_ECONFIG;
}

void steer_errs_fini(struct steer_errs *errs)
{
	if (errs == NULL)
		return;
	free(errs->v);
	memset(errs, 0, sizeof(*errs));
}

const char *steer_err_format(const struct steer_err *e, char *buf, size_t size)
{
	char pos[320] = "";

	if (e->file[0] != '\0' && e->line > 0)
		snprintf(pos, sizeof(pos), "%s:%d:%d: ", e->file, e->line, e->column);
	else if (e->file[0] != '\0')
		snprintf(pos, sizeof(pos), "%s: ", e->file);
	if (e->path[0] != '\0')
		snprintf(buf, size, "%s%s: %s", pos, e->path, e->msg);
	else
		snprintf(buf, size, "%s%s", pos, e->msg);
	return buf;
}

const char *steer_errno_str(int errnum, char *buf, size_t size)
{
	/* the XSI strerror_r: this file is built without _GNU_SOURCE */
	if (strerror_r(errnum, buf, size) != 0)
		snprintf(buf, size, "error %d", errnum);
	return buf;
}

const char *steer_strerror(int code)
{
	switch (code) {
	case STEER_OK:
		return "success";
	case STEER_ENOMEM:
		return "out of memory";
	case STEER_EINVAL:
		return "invalid argument";
	case STEER_EIO:
		return "input/output error";
	case STEER_ECONFIG:
		return "configuration error";
	case STEER_EDB:
		return "database error";
	case STEER_EPROBE:
		return "probe error";
	case STEER_ENOHEALTHY:
		return "no healthy origin";
	case STEER_ENOSPACE:
		return "no space left in buffer";
	case STEER_EZONE:
		return "zone error";
	default:
		return "unknown error";
	}
}
