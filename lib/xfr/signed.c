/*
 * Queries signed with TSIG on the ordinary answer path (RFC 8945 §5): a secondary signs
 * its SOA checks with the key it transfers with, and rejects an unsigned answer. The
 * query is verified, answered through the zone without its TSIG record, and the answer
 * signed; a bad signature gets NOTAUTH with the TSIG error.
 */
#include <string.h>

#include "config/config.h"
#include "dns/wire.h"
#include "xfr/tsig.h"
#include "xfr/xfr.h"
#include "xfr/xfr_int.h"
#include "zone/zone.h"

#define HDR_QR 0x80 /* in the third header byte */
#define HDR_TC 0x02

/* The size limit of a UDP answer to @p q: its EDNS payload size, else 512 (RFC 1035). */
static size_t udp_limit(const uint8_t *q, size_t qlen)
{
	struct steer_dns_query pq;

	if (steer_dns_parse_query(q, qlen, &pq) != STEER_DNS_OK || !pq.edns)
		return STEER_DNS_UDP_MIN;
	return pq.edns_udp_size;
}

/* Cut the answer of *len bytes at @p out to its header and question, with TC set
 * (RFC 8945 §5.3: a signed answer that does not fit is truncated, then signed). */
static void truncate_answer(uint8_t *out, size_t *len)
{
	size_t off = STEER_DNS_HDR_LEN;

	if (out[4] == 0 && out[5] == 1) {
		while (off < *len && out[off] != 0 && out[off] <= 63)
			off += 1u + out[off];
		off += 5;
	}
	if (off > *len)
		off = STEER_DNS_HDR_LEN;
	memset(out + 4, 0, 8);
	out[5] = off > STEER_DNS_HDR_LEN ? 1 : 0;
	out[2] |= HDR_TC;
	*len = off;
}

/* Answer the query without its TSIG (@p tsig_off bytes, ARCOUNT one less) into @p out.
 * @return the unsigned answer's length, or 0. */
static size_t answer_bare(const struct steer_zone *zone, struct steer_query_ctx *ctx,
			  const uint8_t *q, size_t tsig_off, uint8_t *out, size_t cap)
{
	uint8_t bare[STEER_DNS_TCP_MAX];
	uint16_t arcount = (uint16_t)((q[10] << 8 | q[11]) - 1);

	if (cap <= STEER_TSIG_RR_MAX || tsig_off > sizeof(bare))
		return 0;
	memcpy(bare, q, tsig_off);
	bare[10] = (uint8_t)(arcount >> 8);
	bare[11] = (uint8_t)arcount;
	return steer_zone_answer(zone, ctx, bare, tsig_off, out, cap - STEER_TSIG_RR_MAX);
}

/* Sign the answer of @p len bytes at @p out with @p t; over UDP, one that then exceeds
 * the client's size is cut to its question with TC and signed afresh (a new exchange
 * state from the same request, as the first one has chained its MAC).
 * @return the signed length, or 0. */
static size_t sign(struct steer_xfr *x, const struct steer_xfr_conf *conf, struct steer_tsig *t,
		   bool tcp, const uint8_t *q, size_t qlen, size_t tsig_off, uint8_t *out,
		   size_t len, size_t cap)
{
	struct steer_tsig *again = NULL;
	size_t limit = tcp ? cap : udp_limit(q, tsig_off);
	size_t signed_len = len;

	if (steer_tsig_sign_answer(t, out, &signed_len, cap) < 0)
		return 0;
	if (signed_len <= limit)
		return signed_len;
	truncate_answer(out, &len);
	if (steer_tsig_verify_request(conf, q, qlen, x->clock(x->clock_arg), &again) !=
		    STEER_TSIG_OK ||
	    steer_tsig_sign_answer(again, out, &len, cap) < 0)
		len = 0;
	steer_tsig_free(again);
	return len;
}

size_t steer_xfr_answer_signed(struct steer_xfr *x, const struct steer_zone *zone,
			       struct steer_query_ctx *ctx, const uint8_t *q, size_t qlen,
			       size_t tsig_off, uint8_t *out, size_t cap)
{
	const struct steer_config *cfg = steer_zone_config(zone);
	struct steer_tsig *t = NULL;
	enum steer_tsig_rc v;
	uint64_t now;
	size_t len = 0;

	/* a response (QR) is never answered, whatever its TSIG says: an error answer to one
	 * could bounce between two servers for ever, or at a forged source; the zone drops it */
	if (x == NULL || !cfg->xfr.enabled || tsig_off < STEER_DNS_HDR_LEN || tsig_off > qlen ||
	    (q[2] & HDR_QR) != 0)
		return steer_zone_answer(zone, ctx, q, qlen, out, cap);
	now = x->clock(x->clock_arg);
	v = steer_tsig_verify_request(&cfg->xfr, q, qlen, now, &t);
	switch (v) {
	case STEER_TSIG_NONE: /* not a TSIG after all: the zone judges it */
		len = steer_zone_answer(zone, ctx, q, qlen, out, cap);
		break;
	case STEER_TSIG_OK:
		len = answer_bare(zone, ctx, q, tsig_off, out, cap);
		if (len > 0)
			len = sign(x, &cfg->xfr, t, ctx->tcp, q, qlen, tsig_off, out, len, cap);
		break;
	default: /* BADKEY, BADSIG unsigned; BADTIME signed; FORMERR without TSIG */
		if (steer_tsig_error_answer(v == STEER_TSIG_BADTIME ? t : NULL, q, qlen, v, now,
					    out, &len, cap) < 0)
			len = 0;
		break;
	}
	steer_tsig_free(t);
	return len;
}
