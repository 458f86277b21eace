/* Domain names in uncompressed wire form: parsing, comparison helpers. */
#ifndef STEER_CORE_NAME_H
#define STEER_CORE_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define STEER_NAME_MAX 255

/**
 * Parse a presentation-format domain name into lower-cased uncompressed wire form.
 * Relative names (no trailing dot) are completed with @p origin_wire (NULL: relative names
 * are an error); "@" is the origin itself. Supports `\.` and `\DDD` escapes.
 * @return wire length (>0), or STEER_EINVAL for a malformed name or one over 255 octets.
 * Context: any; does not allocate.
 */
STEER_MUSTCHECK int steer_name_from_text(const char *name, const uint8_t *origin_wire, uint8_t *out,
					 size_t out_size);

/**
 * Write wire name @p wire as presentation text with a trailing dot into @p out.
 * @return @p out.
 */
const char *steer_name_to_text(const uint8_t *wire, char *out, size_t out_size);

/** Length of the uncompressed wire name at @p wire (including the root label). */
size_t steer_name_len(const uint8_t *wire);

/** Is wire name @p name equal to or below @p apex? Both lower-cased. */
bool steer_name_is_subdomain(const uint8_t *name, size_t name_len, const uint8_t *apex,
			     size_t apex_len);

/** Number of labels in @p wire, not counting the root. */
int steer_name_labels(const uint8_t *wire);

#endif
