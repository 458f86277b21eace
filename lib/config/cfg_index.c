/*
 * Name index: linear probing over a power-of-two table kept at most half full, with the
 * FNV-1a hash of the key finished by a bit mixer. Keys are borrowed; the table holds
 * pointers and item numbers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_index_int.h"

static uint64_t hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, 64 bits */

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3u;
	}
	/* FNV mixes only upwards, and the low bits pick the slot: finish with the MurmurHash3
	 * finalizer, or keys that differ in one digit ("origins[17].name") cluster */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 33);
}

/* The slot holding @p key (hash @p h), or the free slot where it would go. */
static struct cfg_index_slot *probe(const struct cfg_index *ix, const char *key, uint64_t h)
{
	size_t mask = ix->cap - 1, i = (size_t)h & mask;

	while (ix->slot[i].key != NULL &&
	       (ix->slot[i].hash != h || strcmp(ix->slot[i].key, key) != 0))
		i = (i + 1) & mask;
	return &ix->slot[i];
}

static int grow(struct cfg_index *ix)
{
	struct cfg_index old = *ix;
	size_t cap = ix->cap != 0 ? ix->cap * 2 : 16;

	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (ix->slot == NULL) {
		*ix = old;
		return STEER_ENOMEM;
	}
	ix->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		const struct cfg_index_slot *s = &old.slot[i];

		if (s->key != NULL)
			*probe(ix, s->key, s->hash) = *s;
	}
	free(old.slot);
	return 0;
}

int steer_cfg_index_add(struct cfg_index *ix, const char *key, size_t id, size_t *first)
{
	uint64_t h = hash(key);
	struct cfg_index_slot *s;

	if ((ix->n + 1) * 2 > ix->cap && grow(ix) < 0)
		return STEER_ENOMEM;
	s = probe(ix, key, h);
	if (s->key != NULL) {
		if (first != NULL)
			*first = s->id;
		return 0;
	}
	s->key = key;
	s->id = id;
	s->hash = h;
	ix->n++;
	return 1;
}

size_t steer_cfg_index_find(const struct cfg_index *ix, const char *key)
{
	const struct cfg_index_slot *s;

	if (ix->cap == 0)
		return SIZE_MAX;
	s = probe(ix, key, hash(key));
	return s->key != NULL ? s->id : SIZE_MAX;
}

void steer_cfg_index_fini(struct cfg_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}
