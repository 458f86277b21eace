/*
 * Internals shared by the config loader's files: the load context, typed readers that
 * report every problem with file:line:col and JSON path, and the per-file validators.
 */
#ifndef STEER_CONFIG_CONFIG_INT_H
#define STEER_CONFIG_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config/cfg_index_int.h"
#include "config/config.h"
#include "config/jsonpos_int.h"
#include "core/name.h"

/* Longest JSON path we build; longer ones are cut (steer_err keeps 128 bytes anyway). */
#define CFG_PATH_MAX 256

/** One JSON file being validated: its text, tree and position index. */
struct cfg_file {
	const char *name; /* display name, owned by cfg->files */
	char *text;
	size_t len;
	json_t *root; /* NULL if the file could not be read or parsed */
	struct steer_jpos pos;
};

/** State of one steer_config_load() call. */
struct cfg_ctx {
	struct steer_config *cfg;
	struct steer_errs *errs;
	struct cfg_file *file; /* the file errors are reported against */
	char *pools_dir;       /* resolved against cfg->dir */
	char *monitors_dir;
	bool monitors_dir_set;             /* given explicitly: a missing folder is an error */
	uint8_t zone_wire[STEER_NAME_MAX]; /* zone name, for balancer names */
	size_t zone_wire_len;              /* 0: the zone name is missing or invalid */
	struct cfg_index monitor_ix;       /* monitor name -> its index in cfg->monitors */
	struct cfg_index pool_ix;          /* pool name -> its index in cfg->pools */
	struct cfg_index balancer_ix;      /* balancer fqdn -> its index in cfg->balancers */
	size_t files_cap;                  /* room in cfg->files */
	/* files that could not be read or parsed: their errors come first, and what they would
	 * have defined (the name of the file without .json) is not reported as missing */
	struct cfg_index broken_files;    /* display names (cfg->files) */
	struct cfg_index broken_monitors; /* names (in monitor_files) */
	struct cfg_index broken_pools;    /* names (in pool_files) */
	char **monitor_files;             /* the *.json names of monitors_dir, sorted */
	size_t n_monitor_files;
	char **pool_files; /* the *.json names of pools_dir, sorted */
	size_t n_pool_files;
	bool nomem;
};

/** Closest-match search for "did you mean" hints. */
struct cfg_suggest {
	const char *word;
	const char *best;
	size_t dist;
};

/* Errors at the value (or, for _key, the key) at @p path of the current file. */
void steer_cfg_err(struct cfg_ctx *c, const char *path, const char *fmt, ...) STEER_PRINTF(3, 4);
void steer_cfg_err_key(struct cfg_ctx *c, const char *path, const char *fmt, ...)
	STEER_PRINTF(3, 4);

/** Position of the value at @p path in the current file (line 0 if unknown). */
struct steer_src_pos steer_cfg_pos(const struct cfg_ctx *c, const char *path);

/** `parent.key` (or `key` at the top level) into @p buf. @return @p buf. */
const char *steer_cfg_path(char *buf, size_t size, const char *parent, const char *key);
/** `parent[i]` into @p buf. @return @p buf. */
const char *steer_cfg_path_idx(char *buf, size_t size, const char *parent, size_t i);

/** strdup() that records allocation failure in @p c. */
char *steer_cfg_strdup(struct cfg_ctx *c, const char *s);
/** calloc() that records allocation failure in @p c (n may be 0: returns NULL, no error). */
void *steer_cfg_calloc(struct cfg_ctx *c, size_t n, size_t size);

/** Resolve @p rel against the folder @p dir ("." keeps relative paths as written). */
char *steer_cfg_resolve(struct cfg_ctx *c, const char *dir, const char *rel);

/**
 * Open the config file @p path for reading without ever blocking (O_NONBLOCK, so a FIFO
 * cannot stall the load; O_CLOEXEC, O_NOCTTY), and accept only a regular file, checked
 * with fstat() on the open descriptor (the file checked is the file read).
 * @return a descriptor the caller closes, or a negative code with the reason in @p why
 *         ("No such file or directory", "not a regular file (a FIFO)").
 * Context: config loading.
 */
int steer_cfg_open_file(const char *path, char *why, size_t size);

/**
 * Read up to @p size bytes of @p fd into @p buf, retrying on EINTR (secret and token files).
 * @return the count read, or -errno.
 */
ssize_t steer_cfg_read_upto(int fd, char *buf, size_t size);

/**
 * Read the private file @p file, open as @p fd (token and secret files): a regular file,
 * not readable by group or others, of at most @p max bytes, into @p buf (at least
 * @p max + 2 bytes: one more to tell a larger file, and a NUL after the bytes read).
 * Each failure is reported at JSON path @p path, naming the file.
 * @return the count of bytes read, or -1 (reported).
 */
ssize_t steer_cfg_read_private(struct cfg_ctx *c, const char *path, const char *file, int fd,
			       char *buf, size_t max);

/**
 * Open the file named by member @p key of @p obj (at JSON @p path): a non-empty string,
 * resolved against the config folder, opened as with steer_cfg_open_file().
 * @param sub   Receives the member's JSON path (CFG_PATH_MAX bytes), for later messages.
 * @param file  Receives the resolved name (caller frees) when a descriptor is returned.
 * @return a descriptor the caller closes, or -1: absent (not @p required), or an error
 *         reported at @p sub.
 */
int steer_cfg_open_named(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
			 bool required, char *sub, char **file);

/**
 * Parse "192.0.2.1:53" or "[2001:db8::1]:53" (port 1 to 65535) into @p ss and @p len.
 * @return 0, or -1 if @p text is not such an address.
 */
int steer_cfg_parse_addr_port(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/**
 * Check that @p file (the value at JSON @p path), read later by another module, opens as
 * with steer_cfg_open_file(); otherwise report `cannot read "FILE": why` at @p path.
 * @return true if it does.
 */
bool steer_cfg_check_file(struct cfg_ctx *c, const char *path, const char *file);

/**
 * Check that a text of @p len bytes at @p path fits one DNS TXT character-string
 * (STEER_TXT_STRING_MAX), as identity and version are answered; report it otherwise.
 * @return true if it fits.
 */
bool steer_cfg_txt_string(struct cfg_ctx *c, const char *path, size_t len);

/** strerror_r() text of @p errnum in @p buf. @return @p buf. */
const char *steer_cfg_strerror(int errnum, char *buf, size_t size);

/**
 * Claim @p name (borrowed: it must outlive the load) for item @p id in @p ix.
 * @return true if an earlier item has it (*first receives that item's id); false if it
 *         is claimed now, or if memory ran out (recorded in @p c).
 */
bool steer_cfg_name_taken(struct cfg_ctx *c, struct cfg_index *ix, const char *name, size_t id,
			  size_t *first);

/** The pool called @p name among those loaded so far, or NULL. O(1). */
const struct steer_pool *steer_cfg_find_pool(const struct cfg_ctx *c, const char *name);

/** Offer @p cand as a replacement for s->word; keeps the closest one. */
void steer_cfg_suggest(struct cfg_suggest *s, const char *cand);
/** ` (did you mean "x"?)` or "" into @p buf. @return @p buf. */
const char *steer_cfg_hint(const struct cfg_suggest *s, char *buf, size_t size);

/**
 * Check that @p v (at @p path) is an object whose keys are all in NULL-terminated @p keys;
 * unknown keys are reported at the key, with the closest known key as a hint.
 * @return false (error reported) if @p v is not an object.
 */
bool steer_cfg_object(struct cfg_ctx *c, json_t *v, const char *path, const char *const *keys);

/*
 * Typed member readers. @p obj is an object at @p path. Each returns 1 if the member is
 * present and valid (*out set), 0 if it is absent (*out untouched; reported when
 * @p required), -1 if it is present but invalid (reported).
 */
int steer_cfg_get(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, json_t **out);
int steer_cfg_str(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, const char **out);
int steer_cfg_dup(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		  bool required, char **out);
int steer_cfg_uint(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   bool required, uint32_t lo, uint32_t hi, uint32_t *out);
int steer_cfg_bool(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   bool *out);
int steer_cfg_number(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		     double *out);
/** @p names is NULL-terminated; *out receives the index of the matching name. */
int steer_cfg_enum(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		   const char *const *names, int *out);
/** `header`: object of name -> string or array of strings, flattened into pairs. */
int steer_cfg_headers(struct cfg_ctx *c, const json_t *obj, const char *path, const char *key,
		      struct steer_header **out, size_t *n_out);

/**
 * Report jansson's syntax error @p jerr in @p f at the first byte of the offending token,
 * with the likely fix when the message tells it (" (missing comma?)").
 */
void steer_cfg_syntax_error(struct cfg_ctx *c, const struct cfg_file *f, const json_error_t *jerr);

/** `log` of the main file @p root into c->cfg->log (defaults when absent). */
void steer_cfg_log(struct cfg_ctx *c, const json_t *root);

/** Main file, all but `balancers` (they need the pools). */
void steer_cfg_main(struct cfg_ctx *c, json_t *root);
/** `balancers` of the main file; pools must be loaded. */
void steer_cfg_balancers(struct cfg_ctx *c, json_t *root);
/**
 * `failover_budget` of balancer @p b (object @p obj at @p path; its pools resolved): parse
 * it, and report at its key when the worst case (steer_config_failover_worst()) is over.
 */
void steer_cfg_budget(struct cfg_ctx *c, const json_t *obj, const char *path,
		      struct steer_balancer *b);
/** One monitor file into @p m; earlier monitors are checked for duplicate names. */
void steer_cfg_monitor(struct cfg_ctx *c, json_t *root, struct steer_monitor *m);
/** One pool file into @p p; monitors must be loaded, earlier pools are checked for names. */
void steer_cfg_pool(struct cfg_ctx *c, json_t *root, struct steer_pool *p);
/** Parse an `expected_codes` list. @return 0 or STEER_EINVAL / STEER_ENOMEM. */
int steer_cfg_parse_codes(const char *text, struct steer_code_range **out, size_t *n_out);

void steer_cfg_free_headers(struct steer_header *h, size_t n);
void steer_cfg_free_monitor(struct steer_monitor *m);
void steer_cfg_free_pool(struct steer_pool *p);

#endif
