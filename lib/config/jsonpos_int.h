/*
 * Source positions for JSON values. jansson builds the tree but keeps no positions, so
 * this scanner reads the same text once more and records, for every value, its JSON path
 * (`origins[1].weight`) and the line and byte column where it starts.
 */
#ifndef STEER_CONFIG_JSONPOS_INT_H
#define STEER_CONFIG_JSONPOS_INT_H

#include <stddef.h>

#include "core/err.h"

/** Where one value (and, for an object member, its key) starts; 1-based, columns in bytes. */
struct steer_jpos_entry {
	char *path; /* "" for the top-level value */
	int line;
	int column;
	int key_line; /* object members: the key string; otherwise the value again */
	int key_column;
};

/** Position index of one JSON text. Initialise with `{0}`; release with steer_jpos_fini(). */
struct steer_jpos {
	struct steer_jpos_entry *v;
	size_t n;
	size_t cap;
};

/**
 * Index every value of the JSON text @p text (@p len bytes, need not be NUL-terminated).
 * Meant for text jansson already accepted; malformed text stops the scan early.
 * @return 0, STEER_EINVAL if the text is not well-formed (entries found so far are kept),
 *         or STEER_ENOMEM.
 * Context: config loading; allocates.
 */
STEER_MUSTCHECK int steer_jpos_index(struct steer_jpos *idx, const char *text, size_t len);

/** Release the entries of @p idx (NULL-safe); the index is empty afterwards. */
void steer_jpos_fini(struct steer_jpos *idx);

/**
 * Find the value at JSON path @p path (`zone.soa.serial`, `balancers[0].default_pools[1]`).
 * @return borrowed entry, valid until steer_jpos_fini(), or NULL if there is none.
 */
const struct steer_jpos_entry *steer_jpos_find(const struct steer_jpos *idx, const char *path);

/**
 * Convert the 0-based byte offset @p off of @p text (at most @p len: the end of the text)
 * into a 1-based line and byte column.
 */
void steer_jpos_locate(const char *text, size_t len, size_t off, int *line, int *column);

#endif
