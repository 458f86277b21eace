/*
 * HMAC (RFC 2104) over ldns's SHA-1 and SHA-2. TSIG: ldns signs only an ldns_pkt it
 * re-encodes, with its own clock and without error fields, so TSIG answers are signed
 * here over the exact wire bytes (and verified with ldns in the tests). Webhooks: the
 * X-Steer-Signature header.
 */
#include "core/hmac.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BLOCK_MAX 128 /* SHA-512 block */

static size_t block_size(enum steer_hmac_alg alg)
{
	return alg == STEER_HMAC_SHA512 ? 128 : 64;
}

size_t steer_hmac_size(enum steer_hmac_alg alg)
{
	static const size_t sizes[] = {20, 32, 64};

	return sizes[alg];
}

int steer_hmac_alg_from_name(const char *name, enum steer_hmac_alg *alg)
{
	static const char *const names[] = {"hmac-sha1", "hmac-sha256", "hmac-sha512"};
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0) {
			*alg = (enum steer_hmac_alg)i;
			return 0;
		}
	}
	return -1;
}

static void hash_init(enum steer_hmac_alg alg, union steer_hash_ctx *c)
{
	switch (alg) {
	case STEER_HMAC_SHA1:
		ldns_sha1_init(&c->sha1);
		break;
	case STEER_HMAC_SHA256:
		ldns_sha256_init(&c->sha256);
		break;
	case STEER_HMAC_SHA512:
		ldns_sha512_init(&c->sha512);
		break;
	}
}

static void hash_update(enum steer_hmac_alg alg, union steer_hash_ctx *c, const uint8_t *p,
			size_t n)
{
	switch (alg) {
	case STEER_HMAC_SHA1:
		ldns_sha1_update(&c->sha1, p, (unsigned)n); /* messages are < 64 KiB */
		break;
	case STEER_HMAC_SHA256:
		ldns_sha256_update(&c->sha256, p, n);
		break;
	case STEER_HMAC_SHA512:
		ldns_sha512_update(&c->sha512, p, n);
		break;
	}
}

static void hash_final(enum steer_hmac_alg alg, union steer_hash_ctx *c, uint8_t *out)
{
	switch (alg) {
	case STEER_HMAC_SHA1:
		ldns_sha1_final(out, &c->sha1);
		break;
	case STEER_HMAC_SHA256:
		ldns_sha256_final(out, &c->sha256);
		break;
	case STEER_HMAC_SHA512:
		ldns_sha512_final(out, &c->sha512);
		break;
	}
}

void steer_hmac_init(struct steer_hmac *h, enum steer_hmac_alg alg, const uint8_t *key,
		     size_t key_len)
{
	uint8_t k0[BLOCK_MAX] = {0}, pad[BLOCK_MAX];
	size_t bs = block_size(alg);

	h->alg = alg;
	if (key_len > bs) { /* RFC 2104 §2: a longer key is hashed first */
		hash_init(alg, &h->inner);
		hash_update(alg, &h->inner, key, key_len);
		hash_final(alg, &h->inner, k0);
	} else if (key_len > 0) {
		memcpy(k0, key, key_len);
	}
	for (size_t i = 0; i < bs; i++)
		pad[i] = k0[i] ^ 0x36;
	hash_init(alg, &h->inner);
	hash_update(alg, &h->inner, pad, bs);
	for (size_t i = 0; i < bs; i++)
		pad[i] = k0[i] ^ 0x5c;
	hash_init(alg, &h->outer);
	hash_update(alg, &h->outer, pad, bs);
	explicit_bzero(k0, sizeof(k0));
	explicit_bzero(pad, sizeof(pad));
}

void steer_hmac_update(struct steer_hmac *h, const void *data, size_t len)
{
	hash_update(h->alg, &h->inner, data, len);
}

void steer_hmac_final(struct steer_hmac *h, uint8_t *mac)
{
	uint8_t ih[STEER_HMAC_MAX];

	hash_final(h->alg, &h->inner, ih);
	hash_update(h->alg, &h->outer, ih, steer_hmac_size(h->alg));
	hash_final(h->alg, &h->outer, mac);
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(h, sizeof(*h));
}

void steer_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			   char hex[65])
{
	uint8_t mac[STEER_HMAC_MAX];
	struct steer_hmac h;
	size_t n = steer_hmac_size(STEER_HMAC_SHA256);

	steer_hmac_init(&h, STEER_HMAC_SHA256, key, key_len);
	steer_hmac_update(&h, msg, msg_len);
	steer_hmac_final(&h, mac);
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}
