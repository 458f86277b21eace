/* Unit tests of the DNS wire layer: query parsing and the response writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns/wire.h"

/* header: id 0x1234, RD, QDCOUNT 1; question "Api.Lb." A IN */
static const uint8_t base_query[] = {0x12, 0x34, 0x01, 0x00, 0, 1,   0,   0, 0, 0, 0, 0,
				     3,    'A',  'p',  'i',  2, 'L', 'b', 0, 0, 1, 0, 1};

static size_t build(uint8_t *buf, const uint8_t *extra, size_t extra_len, uint16_t arcount)
{
	memcpy(buf, base_query, sizeof(base_query));
	buf[10] = (uint8_t)(arcount >> 8);
	buf[11] = (uint8_t)arcount;
	if (extra_len > 0)
		memcpy(buf + sizeof(base_query), extra, extra_len);
	return sizeof(base_query) + extra_len;
}

static void test_plain_query(void **state)
{
	struct steer_dns_query q;

	(void)state;
	assert_int_equal(steer_dns_parse_query(base_query, sizeof(base_query), &q), STEER_DNS_OK);
	assert_int_equal(q.id, 0x1234);
	assert_true(q.rd);
	assert_int_equal(q.qtype, STEER_RR_A);
	assert_int_equal(q.qclass, STEER_CLASS_IN);
	assert_int_equal(q.qname_len, 8);
	assert_memory_equal(q.qname, "\3api\2lb", 8); /* lower-cased copy */
	assert_false(q.edns);
}

static void test_drop(void **state)
{
	struct steer_dns_query q;
	uint8_t pkt[sizeof(base_query)];

	(void)state;
	assert_int_equal(steer_dns_parse_query(base_query, 11, &q), STEER_DNS_DROP);
	memcpy(pkt, base_query, sizeof(pkt));
	pkt[2] |= 0x80; /* QR=1: a response, never answered */
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(pkt), &q), STEER_DNS_DROP);
}

static void test_formerr(void **state)
{
	struct steer_dns_query q;
	uint8_t pkt[64];

	(void)state;
	memcpy(pkt, base_query, sizeof(base_query));
	pkt[5] = 2; /* QDCOUNT 2 */
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(base_query), &q), STEER_DNS_FORMERR);
	pkt[5] = 0; /* QDCOUNT 0 */
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(base_query), &q), STEER_DNS_FORMERR);
	assert_false(q.has_question);
	/* truncated question */
	assert_int_equal(steer_dns_parse_query(base_query, sizeof(base_query) - 2, &q),
			 STEER_DNS_FORMERR);
	/* compression pointer in the question */
	memcpy(pkt, base_query, sizeof(base_query));
	pkt[12] = 0xc0;
	pkt[13] = 0x0c;
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(base_query), &q), STEER_DNS_FORMERR);
	/* ANCOUNT 1 in a query */
	memcpy(pkt, base_query, sizeof(base_query));
	pkt[7] = 1;
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(base_query), &q), STEER_DNS_FORMERR);
}

static void test_notimp(void **state)
{
	struct steer_dns_query q;
	uint8_t pkt[sizeof(base_query)];

	(void)state;
	memcpy(pkt, base_query, sizeof(pkt));
	pkt[2] = (uint8_t)(pkt[2] | (4 << 3)); /* NOTIFY */
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(pkt), &q), STEER_DNS_NOTIMP);
	assert_true(q.has_question);
	assert_int_equal(q.opcode, 4);
}

static void test_edns(void **state)
{
	/* OPT: root, type 41, size 4096, ext-rcode 0, version 0, DO, NSID option */
	static const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 4, 0, 3, 0, 0};
	static const uint8_t opt_v1[] = {0, 0, 41, 0x02, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t opt_bad_len[] = {0, 0, 41, 0x02, 0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 9};
	static const uint8_t opt_not_root[] = {1, 'x', 0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0};
	struct steer_dns_query q;
	uint8_t pkt[128];
	uint8_t two[22];
	size_t len;

	(void)state;
	len = build(pkt, opt, sizeof(opt), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_true(q.edns);
	assert_true(q.edns_do);
	assert_true(q.nsid);
	assert_int_equal(q.edns_udp_size, 4096);
	len = build(pkt, opt_v1, sizeof(opt_v1), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_int_equal(q.edns_version, 1);
	assert_int_equal(q.edns_udp_size, 512); /* RFC 6891 §6.2.5: below 512 means 512 */
	len = build(pkt, opt_bad_len, sizeof(opt_bad_len), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	len = build(pkt, opt_not_root, sizeof(opt_not_root), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	memcpy(two, opt_v1, 11);
	memcpy(two + 11, opt_v1, 11);
	len = build(pkt, two, sizeof(two), 2);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	/* ARCOUNT claims a record that is not there */
	len = build(pkt, NULL, 0, 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
}

/* Regressions found by the black-box suite: IXFR carries an SOA in the authority section
 * (RFC 1995 §3) and must parse (to get NOTIMP, not FORMERR); an OPT sent with another
 * opcode is still read so the NOTIMP carries an OPT (RFC 6891 §7). */
static void test_ixfr_and_notimp_opt(void **state)
{
	/* authority: root SOA with an empty RDATA is enough for the parser to skip it */
	static const uint8_t soa[] = {0, 0, 6, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0, 0, 0, 0, 0, 0, 0};
	struct steer_dns_query q;
	uint8_t pkt[128];
	size_t len = build(pkt, soa, sizeof(soa), 0);

	(void)state;
	pkt[9] = 1; /* NSCOUNT 1 */
	pkt[sizeof(base_query) - 3] = STEER_RR_IXFR;
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_int_equal(q.qtype, STEER_RR_IXFR);
	pkt[sizeof(base_query) - 3] = STEER_RR_A; /* the same with type A: FORMERR */
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	len = build(pkt, opt, sizeof(opt), 1);
	pkt[2] = (uint8_t)(pkt[2] | (4 << 3)); /* NOTIFY */
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_NOTIMP);
	assert_true(q.edns);
}

static void test_write_error(void **state)
{
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0, 0, 0, 0, 0, 0, 0};
	struct steer_dns_query q;
	uint8_t pkt[64];
	uint8_t out[512];
	size_t len = build(pkt, opt, sizeof(opt), 1);
	size_t n;

	(void)state;
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	n = steer_dns_write_error(out, sizeof(out), &q, STEER_RCODE_REFUSED, STEER_DNS_EDE_NOT_AUTH,
				  NULL, 0);
	/* header + question + OPT (11) + EDE option (6) */
	assert_int_equal(n, sizeof(base_query) + 11 + 6);
	assert_int_equal(out[2], 0x81); /* QR, RD copied, AA clear */
	assert_int_equal(out[3] & 0x0f, STEER_RCODE_REFUSED);
	assert_memory_equal(out + 12, base_query + 12, sizeof(base_query) - 12); /* case kept */
	assert_int_equal(out[11], 1);                                            /* ARCOUNT */
	assert_int_equal(out[n - 2], 0);
	assert_int_equal(out[n - 1], STEER_DNS_EDE_NOT_AUTH);
	/* BADVERS: 16 = extended RCODE 1 in the OPT TTL, header RCODE 0 */
	n = steer_dns_write_error(out, sizeof(out), &q, STEER_RCODE_BADVERS, -1, NULL, 0);
	assert_int_equal(out[3] & 0x0f, 0);
	assert_int_equal(out[sizeof(base_query) + 5], 1);
}

static void test_writer_limit(void **state)
{
	struct steer_dns_writer w;
	uint8_t buf[16];

	(void)state;
	steer_dns_writer_init(&w, buf, sizeof(buf), 8);
	assert_int_equal(steer_dns_put_u32(&w, 1), 0);
	assert_int_equal(steer_dns_put_u32(&w, 2), 0);
	assert_int_equal(steer_dns_put_u16(&w, 3), -1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_query),  cmocka_unit_test(test_drop),
		cmocka_unit_test(test_formerr),      cmocka_unit_test(test_notimp),
		cmocka_unit_test(test_edns),         cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_writer_limit), cmocka_unit_test(test_ixfr_and_notimp_opt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
