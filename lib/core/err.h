/* Error codes and human-readable error records shared by every module. */
#ifndef STEER_CORE_ERR_H
#define STEER_CORE_ERR_H

#include <errno.h>
#include <stddef.h>

#define STEER_MUSTCHECK    __attribute__((warn_unused_result))
#define STEER_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Errno-like codes reuse errno; domain codes start at -1000. */
enum {
	STEER_OK = 0,
	STEER_ENOMEM = -ENOMEM,
	STEER_EINVAL = -EINVAL,
	STEER_EIO = -EIO,
	STEER_ECONFIG = -1000,
	STEER_EDB = -1001,
	STEER_EPROBE = -1002,
	STEER_ENOHEALTHY = -1003,
	STEER_ENOSPACE = -1004,
	STEER_EZONE = -1005,
};

/**
 * One error with its source position. Fields that do not apply are empty or 0.
 * @c file, @c line, @c column locate the offending text; @c path is the JSON path
 * (`origins[1].weight`); @c msg says what is wrong and what is expected.
 */
struct steer_err {
	int code;
	int line;
	int column;
	char file[256];
	char path[128];
	char msg[512];
};

/**
 * A growable list of errors, so a validator can report every problem at once.
 * Initialise with `{0}`; release with steer_errs_fini().
 */
struct steer_errs {
	size_t n;
	size_t cap;
	struct steer_err *v;
};

/**
 * Fill @p err (may be NULL) with @p code and a printf-formatted message.
 * @return @p code, so callers can `return steer_err_set(...)`.
 * Context: any thread; does not allocate.
 */
int steer_err_set(struct steer_err *err, int code, const char *fmt, ...) STEER_PRINTF(3, 4);

/**
 * Append an error located at @p file:@p line:@p column, JSON path @p path (each may be
 * NULL/0) to @p errs. Allocation failure drops the record silently but keeps the count
 * of errors correct, so a list never claims success after an error was added.
 * @return STEER_ECONFIG.
 */
int steer_errs_add(struct steer_errs *errs, const char *file, int line, int column,
		   const char *path, const char *fmt, ...) STEER_PRINTF(6, 7);

/** Release the records of @p errs (NULL-safe); the list is empty afterwards. */
void steer_errs_fini(struct steer_errs *errs);

/**
 * Format @p e as `file:line:col: path: message` into @p buf (always NUL-terminated).
 * @return @p buf.
 */
const char *steer_err_format(const struct steer_err *e, char *buf, size_t size);

/**
 * Describe errno value @p errnum into @p buf (thread-safe strerror).
 * @return @p buf.
 */
const char *steer_errno_str(int errnum, char *buf, size_t size);

/** Static name of an error code (`STEER_ECONFIG` -> "configuration error"). */
const char *steer_strerror(int code);

#endif
