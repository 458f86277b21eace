/*
 * Source positions for JSON values. jansson keeps no positions, so a scanner reads the
 * text and records, for every value, its JSON path (`origins[1].weight`) and the line and
 * byte column where it starts; it does so only when a position is first asked for (an
 * error, a balancer), since most files never are. The same scanner, in a strict mode,
 * parses plain JSON into a jansson tree several times faster than jansson does.
 */
#ifndef STEER_CONFIG_JSONPOS_INT_H
#define STEER_CONFIG_JSONPOS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/cfg_index_int.h"
#include "core/err.h"

/** Where one value (and, for an object member, its key) starts; 1-based, columns in bytes. */
struct steer_jpos_entry {
	size_t path; /* offset of its JSON path in steer_jpos.paths ("" for the top level) */
	int line;
	int column;
	int key_line; /* object members: the key string; otherwise the value again */
	int key_column;
};

/**
 * Position index of one JSON text. steer_jpos_index() scans the text at once;
 * steer_jpos_init() and steer_jpos_parse() only when steer_jpos_scan() is called (the
 * config loader calls it at the first lookup other than "": most files are never asked
 * for more than where their top-level value starts). Release with steer_jpos_fini().
 */
struct steer_jpos {
	struct steer_jpos_entry *v; /* in document order */
	size_t n;
	size_t cap;
	char *paths; /* every entry's path, NUL-terminated, one after the other */
	size_t paths_len;
	size_t paths_cap;
	struct cfg_index by_path; /* path -> entry number */
	const char *text;         /* borrowed: must outlive the index */
	size_t len;
	struct steer_jpos_entry top; /* the top-level value (line 0: none), before a scan */
	bool scanned;
	bool failed; /* out of memory: lookups go through the entries one by one */
};

/**
 * Index every value of the JSON text @p text (@p len bytes, need not be NUL-terminated;
 * borrowed until steer_jpos_fini()). Meant for text jansson already accepted; malformed
 * text stops the scan early.
 * @return 0, STEER_EINVAL if the text is not well-formed (entries found so far are kept),
 *         or STEER_ENOMEM.
 * Context: config loading; allocates.
 */
STEER_MUSTCHECK int steer_jpos_index(struct steer_jpos *idx, const char *text, size_t len);

/**
 * Prepare @p idx for @p text (as steer_jpos_index(), borrowed) without scanning it yet:
 * only the top-level value ("") can be found until steer_jpos_scan(). Never fails.
 */
void steer_jpos_init(struct steer_jpos *idx, const char *text, size_t len);

/**
 * Scan the text of @p idx for every position, unless that was done already.
 * @return 0, or STEER_ENOMEM (the positions found so far can still be looked up).
 * Context: config loading; allocates.
 */
int steer_jpos_scan(struct steer_jpos *idx);

/**
 * Parse @p text (@p len bytes) into a jansson tree and, on success, steer_jpos_init() @p idx
 * with it: as json_loadb(text, len, JSON_REJECT_DUPLICATES) would, at a fraction of the
 * cost. Strict: it takes ASCII strings without \u escapes, integers of up to 18 digits,
 * reals strtod() reads whole, nesting up to 512; anything else, and every error, is for
 * jansson to judge (and word).
 * @param root  Receives the tree (caller owns it; json_decref()), or NULL.
 * @return 0; STEER_EINVAL if the caller must use jansson (and steer_jpos_init()) instead;
 *         or STEER_ENOMEM. On failure @p idx is untouched.
 * Context: config loading; allocates.
 */
STEER_MUSTCHECK int steer_jpos_parse(struct steer_jpos *idx, const char *text, size_t len,
				     json_t **root);

/** Release @p idx (NULL-safe); it is empty afterwards. */
void steer_jpos_fini(struct steer_jpos *idx);

/**
 * Find the value at JSON path @p path (`zone.soa.serial`, `balancers[0].default_pools[1]`);
 * of two values with the same path (a key "a.b" beside a nested "b" in "a") the first one
 * in the text. O(1). Before steer_jpos_scan() only "" is found.
 * @return borrowed entry, valid until steer_jpos_fini(), or NULL if there is none.
 */
const struct steer_jpos_entry *steer_jpos_find(const struct steer_jpos *idx, const char *path);

/**
 * Convert the 0-based byte offset @p off of @p text (at most @p len: the end of the text)
 * into a 1-based line and byte column.
 */
void steer_jpos_locate(const char *text, size_t len, size_t off, int *line, int *column);

#endif
