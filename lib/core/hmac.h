/*
 * HMAC (RFC 2104) with SHA-1, SHA-256 and SHA-512, over the SHA functions of ldns: TSIG
 * (lib/xfr) and the signatures of webhook notifications (lib/notify).
 */
#ifndef STEER_CORE_HMAC_H
#define STEER_CORE_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/sha1.h>
#include <ldns/sha2.h>

#define STEER_HMAC_MAX 64 /* bytes of the longest MAC (SHA-512) */

/** The TSIG algorithms ldns verifies too (config names "hmac-sha1", "-sha256", "-sha512"). */
enum steer_hmac_alg {
	STEER_HMAC_SHA1,
	STEER_HMAC_SHA256,
	STEER_HMAC_SHA512,
};

union steer_hash_ctx {
	ldns_sha1_ctx sha1;
	ldns_sha256_CTX sha256;
	ldns_sha512_CTX sha512;
};

/** One MAC being computed. */
struct steer_hmac {
	enum steer_hmac_alg alg;
	union steer_hash_ctx inner;
	union steer_hash_ctx outer;
};

/** The algorithm called @p name ("hmac-sha256", case-insensitive, trailing dot or not).
 * @return 0 or -1. */
int steer_hmac_alg_from_name(const char *name, enum steer_hmac_alg *alg);

/** Bytes of the MAC of @p alg. */
size_t steer_hmac_size(enum steer_hmac_alg alg);

/** Start a MAC with @p key (@p key_len bytes, any length). */
void steer_hmac_init(struct steer_hmac *h, enum steer_hmac_alg alg, const uint8_t *key,
		     size_t key_len);
void steer_hmac_update(struct steer_hmac *h, const void *data, size_t len);
/** Finish: steer_hmac_size() bytes into @p mac; @p h is wiped. */
void steer_hmac_final(struct steer_hmac *h, uint8_t *mac);

/**
 * HMAC-SHA256 of @p msg under @p key, as lower-case hex (64 characters and a NUL) in
 * @p hex. Context: any thread; no allocation.
 */
void steer_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			   char hex[65]);

#endif
