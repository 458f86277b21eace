/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for webhook signatures. libcrypto is
 * present only indirectly (through libcurl) and cannot be linked against from here, so
 * this small implementation is used; its tests are the RFC 4231 vectors.
 */
#ifndef STEER_NOTIFY_HMAC_H
#define STEER_NOTIFY_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define STEER_SHA256_LEN 32

/**
 * SHA-256 of the @p len bytes at @p data into @p out.
 * Context: any thread; no allocation.
 */
void steer_sha256(const void *data, size_t len, uint8_t out[STEER_SHA256_LEN]);

/**
 * HMAC-SHA256 of @p msg under @p key, as lower-case hex (64 characters and a NUL) in
 * @p hex.
 * Context: any thread; no allocation.
 */
void steer_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			   char hex[2 * STEER_SHA256_LEN + 1]);

#endif
