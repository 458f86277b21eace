/*
 * A name index for the config loader: an open-addressing hash table from borrowed
 * NUL-terminated keys to item numbers, so that duplicate-name checks, references and
 * position lookups cost O(1) each and a load stays linear in the size of the files.
 */
#ifndef STEER_CONFIG_CFG_INDEX_INT_H
#define STEER_CONFIG_CFG_INDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/** One slot: @c key is NULL when the slot is free. */
struct cfg_index_slot {
	const char *key;
	size_t id;
	uint64_t hash; /* of key: compared before the key, reused when the table grows */
};

/** The index. Initialise with `{0}`; release with steer_cfg_index_fini(). */
struct cfg_index {
	struct cfg_index_slot *slot;
	size_t cap; /* 0 or a power of two, more than twice n */
	size_t n;
};

/**
 * Add @p key as item @p id, unless an equal key is there already (the first one stays).
 * @param key    Borrowed: must stay valid and unchanged while the index is used.
 * @param first  Receives the id of the key already there (may be NULL).
 * @return 1 if added, 0 if the key was there, or STEER_ENOMEM (nothing added).
 * Context: config loading; allocates as the index grows.
 */
STEER_MUSTCHECK int steer_cfg_index_add(struct cfg_index *ix, const char *key, size_t id,
					size_t *first);

/** @return the id of @p key, or SIZE_MAX if it is not in @p ix. Never allocates. */
size_t steer_cfg_index_find(const struct cfg_index *ix, const char *key);

/** Release @p ix (NULL-safe; the keys are borrowed); it is empty afterwards. */
void steer_cfg_index_fini(struct cfg_index *ix);

#endif
