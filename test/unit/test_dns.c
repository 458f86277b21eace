/* Unit tests of the DNS wire layer: query parsing and the response writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	/* ANCOUNT 1 in a query, but no record after the question */
	memcpy(pkt, base_query, sizeof(base_query));
	pkt[7] = 1;
	assert_int_equal(steer_dns_parse_query(pkt, sizeof(base_query), &q), STEER_DNS_FORMERR);
}

/* Records in the answer and authority sections of a query are skipped, as Knot does (RFC
 * 1035 does not forbid them); the OPT after them is read; an OPT among them is FORMERR. */
static void test_records_in_query(void **state)
{
	/* "a" A 1.2.3.4, then a root OPT with payload 1232 */
	static const uint8_t a_rr[] = {1, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	struct steer_dns_query q;
	uint8_t extra[sizeof(a_rr) + sizeof(opt)];
	uint8_t pkt[128];
	size_t len;

	(void)state;
	memcpy(extra, a_rr, sizeof(a_rr));
	memcpy(extra + sizeof(a_rr), opt, sizeof(opt));
	for (int sec = 0; sec < 2; sec++) {
		len = build(pkt, extra, sizeof(extra), 1);
		pkt[7 + 2 * sec] = 1; /* ANCOUNT 1, then NSCOUNT 1 */
		assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
		assert_int_equal(q.qtype, STEER_RR_A);
		assert_true(q.edns);
		assert_int_equal(q.edns_udp_size, 1232);
		assert_int_equal(q.question_end, sizeof(base_query));
	}
	/* ANCOUNT 1 and NSCOUNT 1 with one record: the OPT is read as the authority record */
	pkt[7] = 1;
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	/* the OPT in the answer section (RFC 6891 §6.1.1: additional only) */
	len = build(pkt, opt, sizeof(opt), 0);
	pkt[7] = 1;
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_FORMERR);
	assert_false(q.edns);
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
	static const uint8_t opt_not_root[] = {1, 'x', 0, 0, 41, 2, 0, 0, 0, 0x80, 0, 0, 0};
	/* owner: a pointer to the question name */
	static const uint8_t opt_ptr_owner[] = {0xc0, 12, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0};
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
	/* an owner other than the root is read like the root, as Knot does */
	len = build(pkt, opt_not_root, sizeof(opt_not_root), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_true(q.edns);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_udp_size, 512);
	len = build(pkt, opt_ptr_owner, sizeof(opt_ptr_owner), 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_true(q.edns);
	assert_false(q.edns_do);
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
	pkt[sizeof(base_query) - 3] = STEER_RR_A; /* the same with type A: skipped too */
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_int_equal(q.qtype, STEER_RR_A);
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
	n = steer_dns_write_error(out, sizeof(out), &q, STEER_RCODE_REFUSED,
				  &(struct steer_dns_opt_out){.ede = STEER_DNS_EDE_NOT_AUTH});
	/* header + question + OPT (11) + EDE option (6) */
	assert_int_equal(n, sizeof(base_query) + 11 + 6);
	assert_int_equal(out[2], 0x81); /* QR, RD copied, AA clear */
	assert_int_equal(out[3] & 0x0f, STEER_RCODE_REFUSED);
	assert_memory_equal(out + 12, base_query + 12, sizeof(base_query) - 12); /* case kept */
	assert_int_equal(out[11], 1);                                            /* ARCOUNT */
	assert_int_equal(out[n - 2], 0);
	assert_int_equal(out[n - 1], STEER_DNS_EDE_NOT_AUTH);
	/* BADVERS: 16 = extended RCODE 1 in the OPT TTL, header RCODE 0 */
	n = steer_dns_write_error(out, sizeof(out), &q, STEER_RCODE_BADVERS,
				  &(struct steer_dns_opt_out){.ede = -1});
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

/* The reference vectors of SipHash-2-4 (Aumasson and Bernstein): key 00..0f, message
 * 00..(n-1) for n = 0..63, the result as bytes (little-endian). */
static const uint8_t sip_vectors[64][8] = {
	{0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72},
	{0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
	{0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d},
	{0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
	{0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf},
	{0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
	{0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb},
	{0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
	{0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93},
	{0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
	{0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a},
	{0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
	{0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75},
	{0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
	{0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7},
	{0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
	{0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f},
	{0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69},
	{0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b},
	{0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb},
	{0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe},
	{0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0},
	{0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93},
	{0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8},
	{0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8},
	{0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc},
	{0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17},
	{0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f},
	{0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde},
	{0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6},
	{0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad},
	{0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32},
	{0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71},
	{0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7},
	{0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12},
	{0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15},
	{0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31},
	{0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02},
	{0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca},
	{0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a},
	{0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e},
	{0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad},
	{0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18},
	{0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4},
	{0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9},
	{0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9},
	{0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb},
	{0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0},
	{0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6},
	{0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7},
	{0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee},
	{0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1},
	{0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a},
	{0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81},
	{0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f},
	{0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24},
	{0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7},
	{0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea},
	{0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60},
	{0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66},
	{0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c},
	{0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f},
	{0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5},
	{0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95},
};

static void test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < 64; n++) {
		uint64_t h = steer_dns_siphash24(key, msg, n);
		uint8_t got[8];

		for (int i = 0; i < 8; i++)
			got[i] = (uint8_t)(h >> (8 * i));
		assert_memory_equal(got, sip_vectors[n], 8);
	}
}

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i] != '\0'; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 9018 Appendix A: the published server cookies, byte for byte. */
static void test_cookie_rfc9018_vectors(void **state)
{
	static const struct {
		const char *secret, *client, *want;
		uint8_t ip[16];
		size_t ip_len;
		uint32_t now;
	} v[] = {
		{"e5e973e5a6b2a43f48e7dc849e37bfcf",
		 "2464c4abcf10c957",
		 "010000005cf79f111f8130c3eee29480",
		 {198, 51, 100, 100},
		 4,
		 1559731985},
		{"e5e973e5a6b2a43f48e7dc849e37bfcf",
		 "2464c4abcf10c957",
		 "010000005cf7a871d4a564a1442aca77",
		 {198, 51, 100, 100},
		 4,
		 1559734385},
		{"e5e973e5a6b2a43f48e7dc849e37bfcf",
		 "fc93fc62807ddb86",
		 "010000005cf7a9acf73a7810aca2381e",
		 {203, 0, 113, 203},
		 4,
		 1559734700},
		{"445536bcd2513298075a5d379663c962",
		 "22681ab97d52c298",
		 "010000005cf7c609a6bb79d16625507a",
		 {0x20, 0x01, 0x0d, 0xb8, 0x02, 0x20, 0x00, 0x01, 0x59, 0xde, 0xd0, 0xf4, 0x87,
		  0x69, 0x82, 0xb8},
		 16,
		 1559741961},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t secret[16], client[8], want[16], got[16];

		unhex(v[i].secret, secret);
		unhex(v[i].client, client);
		unhex(v[i].want, want);
		steer_dns_cookie_make(secret, client, v[i].ip, v[i].ip_len, v[i].now, got);
		assert_memory_equal(got, want, 16);
	}
}

/* Check a cookie made at @p made under @p k->cur (or @p other) from @p ip, at @p now. */
static enum steer_dns_cookie_check check_at(const struct steer_dns_cookie_keys *k,
					    const uint8_t *secret, uint32_t made, uint32_t now,
					    uint8_t ip_last)
{
	uint8_t opt[24] = {1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t ip[4] = {192, 0, 2, 1};
	const uint8_t ip2[4] = {192, 0, 2, ip_last};

	steer_dns_cookie_make(secret, opt, ip, 4, made, opt + 8);
	return steer_dns_cookie_check(k, opt, sizeof(opt), ip2, 4, now);
}

/* RFC 9018 §4.3 lifetime and §5 rollover: the previous secret is accepted (and renewed). */
static void test_cookie_check(void **state)
{
	struct steer_dns_cookie_keys k = {.cur = {1}, .prev = {2}, .has_prev = true};
	const uint8_t other[16] = {3};
	const uint32_t t = 1700000000u;
	uint8_t opt[24] = {1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t ip[4] = {192, 0, 2, 1};

	(void)state;
	assert_int_equal(check_at(&k, k.cur, t, t, 1), STEER_COOKIE_VALID);
	assert_int_equal(check_at(&k, k.cur, t, t + 1799, 1), STEER_COOKIE_VALID);
	assert_int_equal(check_at(&k, k.cur, t, t + 1800, 1), STEER_COOKIE_RENEW);
	assert_int_equal(check_at(&k, k.cur, t, t + 3600, 1), STEER_COOKIE_RENEW);
	assert_int_equal(check_at(&k, k.cur, t, t + 3601, 1), STEER_COOKIE_INVALID);
	assert_int_equal(check_at(&k, k.cur, t + 300, t, 1), STEER_COOKIE_VALID);
	assert_int_equal(check_at(&k, k.cur, t + 301, t, 1), STEER_COOKIE_INVALID);
	/* the timestamp wraps in serial number arithmetic */
	assert_int_equal(check_at(&k, k.cur, 0xfffffff0u, 0x10u, 1), STEER_COOKIE_VALID);
	assert_int_equal(check_at(&k, k.prev, t, t, 1), STEER_COOKIE_RENEW);
	assert_int_equal(check_at(&k, other, t, t, 1), STEER_COOKIE_INVALID);
	assert_int_equal(check_at(&k, k.cur, t, t, 2), STEER_COOKIE_INVALID); /* other address */
	k.has_prev = false;
	assert_int_equal(check_at(&k, k.prev, t, t, 1), STEER_COOKIE_INVALID);
	/* only version 1 and 16 bytes are ours */
	steer_dns_cookie_make(k.cur, opt, ip, 4, t, opt + 8);
	assert_int_equal(steer_dns_cookie_check(&k, opt, 24, ip, 4, t), STEER_COOKIE_VALID);
	assert_int_equal(steer_dns_cookie_check(&k, opt, 20, ip, 4, t), STEER_COOKIE_INVALID);
	opt[8] = 2;
	assert_int_equal(steer_dns_cookie_check(&k, opt, 24, ip, 4, t), STEER_COOKIE_INVALID);
	opt[8] = 1;
	opt[23] ^= 1;
	assert_int_equal(steer_dns_cookie_check(&k, opt, 24, ip, 4, t), STEER_COOKIE_INVALID);
}

/* The COOKIE option is found among others; its length is kept as sent (RFC 7873 §5.2.2 is
 * policy: the zone answers FORMERR). */
static void test_cookie_parse_and_write(void **state)
{
	uint8_t opt[11 + 8 + 4 + 40] = {0, 0, 41, 0x04, 0, 0, 0, 0, 0};
	uint8_t pkt[128], out[512], cookie[24];
	struct steer_dns_query q;
	size_t len, n;

	(void)state;
	/* NSID (empty), then COOKIE of 8 bytes */
	memcpy(opt + 11, "\0\3\0\0\0\12\0\10abcdefgh", 16);
	opt[10] = 16;
	len = build(pkt, opt, 11 + 16, 1);
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_true(q.nsid);
	assert_int_equal(q.cookie_len, 8);
	assert_memory_equal(q.cookie, "abcdefgh", 8);
	assert_true(steer_dns_cookie_len_ok(8));
	for (size_t l = 0; l <= 41; l++)
		assert_int_equal(steer_dns_cookie_len_ok(l), l == 8 || (l >= 16 && l <= 40));
	/* an answer with the cookie: the option follows the NSID */
	memset(cookie, 0x5a, sizeof(cookie));
	n = steer_dns_write_error(out, sizeof(out), &q, STEER_RCODE_BADCOOKIE,
				  &(struct steer_dns_opt_out){.ede = -1, .cookie = cookie});
	assert_int_equal(n, sizeof(base_query) + 11 + 4 + 24);
	assert_int_equal(out[3] & 0x0f, STEER_RCODE_BADCOOKIE & 0x0f);
	assert_int_equal(out[sizeof(base_query) + 5], STEER_RCODE_BADCOOKIE >> 4);
	assert_memory_equal(out + sizeof(base_query) + 11, "\0\12\0\30", 4);
	assert_memory_equal(out + sizeof(base_query) + 15, cookie, 24);
	/* no cookie without the option */
	len = build(pkt, opt, 11, 1);
	pkt[len - 1] = 0;
	assert_int_equal(steer_dns_parse_query(pkt, len, &q), STEER_DNS_OK);
	assert_null(q.cookie);
}

/* steer_dns_tsig_offset: a TSIG that ends the message is found after an OPT; one that is
 * not last, a message cut short or none at all give 0. */
static void test_tsig_offset(void **state)
{
	/* root OPT, then a TSIG owned by "k" (its RDATA is not looked at: 2 bytes here) */
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	static const uint8_t tsig[] = {1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 0xab, 0xcd};
	uint8_t extra[sizeof(opt) + sizeof(tsig)];
	uint8_t pkt[128];
	size_t len;

	(void)state;
	memcpy(extra, opt, sizeof(opt));
	memcpy(extra + sizeof(opt), tsig, sizeof(tsig));
	len = build(pkt, extra, sizeof(extra), 2);
	assert_int_equal(steer_dns_tsig_offset(pkt, len), sizeof(base_query) + sizeof(opt));
	len = build(pkt, tsig, sizeof(tsig), 1);
	assert_int_equal(steer_dns_tsig_offset(pkt, len), sizeof(base_query));
	assert_int_equal(steer_dns_tsig_offset(pkt, len - 1), 0); /* RDATA cut short */
	len = build(pkt, opt, sizeof(opt), 1);
	assert_int_equal(steer_dns_tsig_offset(pkt, len), 0); /* the last record is an OPT */
	memcpy(extra, tsig, sizeof(tsig));
	memcpy(extra + sizeof(tsig), opt, sizeof(opt));
	len = build(pkt, extra, sizeof(extra), 2);
	assert_int_equal(steer_dns_tsig_offset(pkt, len), 0); /* a TSIG that is not last */
	len = build(pkt, NULL, 0, 0);
	assert_int_equal(steer_dns_tsig_offset(pkt, len), 0);
	assert_int_equal(steer_dns_tsig_offset(pkt, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_query),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_records_in_query),
		cmocka_unit_test(test_notimp),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_writer_limit),
		cmocka_unit_test(test_ixfr_and_notimp_opt),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_cookie_rfc9018_vectors),
		cmocka_unit_test(test_cookie_check),
		cmocka_unit_test(test_cookie_parse_and_write),
		cmocka_unit_test(test_tsig_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
