/*
 * Unit tests for lib/xfr TSIG (RFC 8945): requests signed with ldns as a client signs
 * them are verified (every algorithm), bad keys, secrets and times are told apart, error
 * answers carry the right TSIG, and a 3-message answer stream verifies with ldns as a
 * client verifies it (ldns_pkt_tsig_verify_next).
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "xfr/acl.h"
#include "xfr/tsig.h"

#define SECRET1 "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
#define SECRET2 "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlcg=="

/* Writable copies: the config's strings are `char *` (-Wwrite-strings makes literals const). */
static char n1[] = "sec1.", n2[] = "sec2.example.", n3[] = "sec3.", n4[] = "sec4.";
static char a1[] = "hmac-sha256", a2[] = "hmac-sha512", a3[] = "hmac-sha1", a4[] = "hmac-sha256";
static char k1[] = SECRET1, k2[] = SECRET2, k3[] = SECRET1, k4[] = SECRET2;
static struct steer_xfr_key keys[] = {
	{.name = n1, .algorithm = a1, .secret_b64 = k1},
	{.name = n2, .algorithm = a2, .secret_b64 = k2},
	{.name = n3, .algorithm = a3, .secret_b64 = k3},
	{.name = n4, .algorithm = a4, .secret_b64 = k4},
};
static const struct steer_xfr_conf conf = {
	.enabled = true,
	.keys = keys,
	.n_keys = sizeof(keys) / sizeof(keys[0]),
};

static uint64_t now(void)
{
	return (uint64_t)time(NULL);
}

/* An AXFR query for lb.example.test., signed by ldns when @p key is not NULL. */
static ldns_pkt *query(const char *key, const char *secret, const char *alg)
{
	ldns_pkt *q = NULL;
	ldns_rdf *qname = ldns_dname_new_frm_str("lb.example.test.");

	assert_non_null(qname);
	q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	assert_non_null(q);
	ldns_pkt_set_id(q, 4242);
	if (key != NULL)
		assert_int_equal(ldns_pkt_tsig_sign(q, key, secret, 300, alg, NULL),
				 LDNS_STATUS_OK);
	return q;
}

static void to_wire(const ldns_pkt *p, uint8_t **wire, size_t *len)
{
	assert_int_equal(ldns_pkt2wire(wire, p, len), LDNS_STATUS_OK);
}

/* Verify a query signed with @p key / @p secret / @p alg; expect @p want. */
static enum steer_tsig_rc verify(const char *key, const char *secret, const char *alg, uint64_t at,
				 struct steer_tsig **t)
{
	ldns_pkt *q = query(key, secret, alg);
	enum steer_tsig_rc rc;
	uint8_t *w;
	size_t n;

	to_wire(q, &w, &n);
	rc = steer_tsig_verify_request(&conf, w, n, at, t);
	free(w);
	ldns_pkt_free(q);
	return rc;
}

static void test_verify_every_algorithm(void **state)
{
	static const char *const algs[] = {"hmac-sha256.", "hmac-sha512.", "hmac-sha1.",
					   "hmac-sha256."};
	struct steer_tsig *t = NULL;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(verify(keys[i].name, keys[i].secret_b64, algs[i], now(), &t),
				 STEER_TSIG_OK);
		assert_non_null(t);
		assert_int_equal(steer_tsig_key_index(t), i);
		steer_tsig_free(t);
	}
	assert_int_equal(verify(NULL, NULL, NULL, now(), &t), STEER_TSIG_NONE);
	assert_null(t);
}

static void test_verify_bad_key_secret_time(void **state)
{
	struct steer_tsig *t = NULL;

	(void)state;
	assert_int_equal(verify("nokey.", SECRET1, "hmac-sha256.", now(), &t), STEER_TSIG_BADKEY);
	assert_null(t);
	/* the right name with another algorithm than the key's */
	assert_int_equal(verify("sec1.", SECRET1, "hmac-sha512.", now(), &t), STEER_TSIG_BADKEY);
	assert_null(t);
	assert_int_equal(verify("sec1.", SECRET2, "hmac-sha256.", now(), &t), STEER_TSIG_BADSIG);
	assert_null(t);
	assert_int_equal(verify("sec1.", SECRET1, "hmac-sha256.", now() + 301, &t),
			 STEER_TSIG_BADTIME);
	assert_non_null(t); /* the MAC verified: the BADTIME answer is signed with it */
	steer_tsig_free(t);
	assert_int_equal(verify("sec1.", SECRET1, "hmac-sha256.", now() - 301, &t),
			 STEER_TSIG_BADTIME);
	steer_tsig_free(t);
	assert_int_equal(verify("sec1.", SECRET1, "hmac-sha256.", now() + 250, &t), STEER_TSIG_OK);
	steer_tsig_free(t);
}

static void test_formerr(void **state)
{
	static const uint8_t junk[] = {0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 'a'};
	ldns_pkt *q = query("sec1.", SECRET1, "hmac-sha256.");
	uint8_t out[512], *w;
	struct steer_tsig *t = NULL;
	size_t n, olen;

	(void)state;
	assert_int_equal(steer_tsig_verify_request(&conf, junk, sizeof(junk), now(), &t),
			 STEER_TSIG_FORMERR);
	assert_int_equal(steer_tsig_error_answer(NULL, junk, sizeof(junk), STEER_TSIG_FORMERR,
						 now(), out, &olen, sizeof(out)),
			 0);
	assert_int_equal(olen, 12);
	assert_int_equal(out[3] & 0x0f, LDNS_RCODE_FORMERR);
	/* a TSIG RR that is not last in the additional section */
	ldns_pkt_push_rr(q, LDNS_SECTION_ADDITIONAL, ldns_rr_clone(ldns_pkt_tsig(q)));
	ldns_pkt_push_rr(q, LDNS_SECTION_ADDITIONAL, ldns_rr_clone(ldns_pkt_tsig(q)));
	to_wire(q, &w, &n);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, now(), &t), STEER_TSIG_FORMERR);
	assert_null(t);
	free(w);
	ldns_pkt_free(q);
}

/* Parse an error answer and check RCODE NOTAUTH and the TSIG error @p error. */
static ldns_pkt *check_error_answer(const uint8_t *out, size_t olen, uint16_t error)
{
	ldns_pkt *a = NULL;
	const ldns_rr *rr;

	assert_int_equal(ldns_wire2pkt(&a, out, olen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOTAUTH);
	assert_true(ldns_pkt_qr(a));
	assert_int_equal(ldns_pkt_id(a), 4242);
	assert_int_equal(ldns_pkt_qdcount(a), 1);
	rr = ldns_pkt_tsig(a);
	assert_non_null(rr);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 5)), error);
	return a;
}

static void test_error_answers(void **state)
{
	ldns_pkt *q = query("nokey.", SECRET1, "hmac-sha256."), *a;
	uint8_t out[512], *w;
	struct steer_tsig *t = NULL;
	size_t n, olen;

	(void)state;
	to_wire(q, &w, &n);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, now(), &t), STEER_TSIG_BADKEY);
	assert_int_equal(steer_tsig_error_answer(NULL, w, n, STEER_TSIG_BADKEY, now(), out, &olen,
						 sizeof(out)),
			 0);
	a = check_error_answer(out, olen, 17);
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(a), 3)), 2); /* no MAC */
	ldns_pkt_free(a);
	assert_int_equal(
		steer_tsig_error_answer(NULL, w, n, STEER_TSIG_BADKEY, now(), out, &olen, 20),
		STEER_ENOSPACE);
	assert_int_equal(
		steer_tsig_error_answer(NULL, w, n, STEER_TSIG_OK, now(), out, &olen, sizeof(out)),
		STEER_EINVAL);
	free(w);
	ldns_pkt_free(q);
}

/* A question name longer than 255 bytes is not echoed: the error answer must parse. */
static void test_error_answer_long_qname(void **state)
{
	uint8_t q[12 + 5 * 64 + 1 + 4] = {0x42, 0x42, 0, 0, 0, 1}, out[512];
	size_t n = 12, olen = 0;
	ldns_pkt *a = NULL;

	(void)state;
	for (int i = 0; i < 5; i++) { /* 5 labels of 63: 321 bytes with the root */
		q[n++] = 63;
		memset(q + n, 'a', 63);
		n += 63;
	}
	q[n++] = 0;
	q[n + 1] = 252; /* AXFR IN */
	q[n + 3] = 1;
	n += 4;
	assert_int_equal(steer_tsig_error_answer(NULL, q, n, STEER_TSIG_FORMERR, now(), out, &olen,
						 sizeof(out)),
			 0);
	assert_int_equal(olen, 12);
	assert_int_equal(ldns_wire2pkt(&a, out, olen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_qdcount(a), 0);
	assert_int_equal(ldns_pkt_id(a), 0x4242);
	ldns_pkt_free(a);
	/* 255 bytes exactly (labels of 63, 63, 63, 61 and the root) is still a name */
	n = 12;
	for (int i = 0; i < 4; i++) {
		q[n++] = i < 3 ? 63 : 61;
		memset(q + n, 'a', q[n - 1]);
		n += q[n - 1];
	}
	q[n++] = 0;
	memset(q + n, 0, 4);
	q[n + 1] = 252;
	q[n + 3] = 1;
	n += 4;
	assert_int_equal(steer_tsig_error_answer(NULL, q, n, STEER_TSIG_FORMERR, now(), out, &olen,
						 sizeof(out)),
			 0);
	assert_int_equal(olen, 12 + 255 + 4);
	assert_int_equal(ldns_wire2pkt(&a, out, olen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_qdcount(a), 1);
	ldns_pkt_free(a);
}

/* An RR whose RDATA is shorter than its RDLENGTH: ldns reads the SOA by its fields and
 * finds the TSIG RR after them, the wire (RDLENGTH) has none last. FORMERR, like the answer
 * path's scan (steer_dns_tsig_offset() finds no TSIG there). */
static void test_rdlength_mismatch_formerr(void **state)
{
	static const uint8_t soa_head[] = {0, 6, 0, 1, 0, 0, 0, 0, 0, 22};
	ldns_rdf *qname = ldns_dname_new_frm_str("lb.example.test.");
	ldns_pkt *q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, 0);
	ldns_rr *soa = NULL;
	struct steer_tsig *t = NULL;
	uint8_t *w, *p;
	size_t n;

	(void)state;
	assert_non_null(q);
	assert_int_equal(
		ldns_rr_new_frm_str(&soa, "lb.example.test. 0 IN SOA . . 3 0 0 0 0", 0, NULL, NULL),
		LDNS_STATUS_OK);
	ldns_pkt_push_rr(q, LDNS_SECTION_AUTHORITY, soa);
	assert_int_equal(ldns_pkt_tsig_sign(q, "sec1.", SECRET1, 300, "hmac-sha256.", NULL),
			 LDNS_STATUS_OK);
	to_wire(q, &w, &n);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, now(), &t), STEER_TSIG_OK);
	steer_tsig_free(t);
	t = NULL;
	assert_true(steer_dns_tsig_offset(w, n) > 0);
	p = memmem(w, n, soa_head, sizeof(soa_head));
	assert_non_null(p);
	p[9] = 29; /* RDLENGTH 29: 7 bytes into the TSIG RR */
	assert_int_equal(steer_dns_tsig_offset(w, n), 0);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, now(), &t), STEER_TSIG_FORMERR);
	assert_null(t);
	free(w);
	ldns_pkt_free(q);
}

static void test_badtime_answer_is_signed(void **state)
{
	ldns_pkt *q = query("sec1.", SECRET1, "hmac-sha256."), *a;
	const uint64_t later = now() + 3600;
	uint8_t out[512], *w;
	const uint8_t *other;
	struct steer_tsig *t = NULL;
	size_t n, olen;
	uint64_t srv = 0;

	(void)state;
	to_wire(q, &w, &n);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, later, &t), STEER_TSIG_BADTIME);
	assert_int_equal(steer_tsig_error_answer(t, w, n, STEER_TSIG_BADTIME, later, out, &olen,
						 sizeof(out)),
			 0);
	a = check_error_answer(out, olen, 18);
	/* the client verifies it with its request MAC */
	assert_true(ldns_pkt_tsig_verify(a, out, olen, "sec1.", SECRET1,
					 ldns_rr_rdf(ldns_pkt_tsig(q), 3)));
	/* Other Data: our time, 48 bits (after its 2-byte length) */
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(a), 6)), 8);
	other = ldns_rdf_data(ldns_rr_rdf(ldns_pkt_tsig(a), 6)) + 2;
	for (int i = 0; i < 6; i++)
		srv = srv << 8 | other[i];
	assert_int_equal(srv, later);
	ldns_pkt_free(a);
	steer_tsig_free(t);
	free(w);
	ldns_pkt_free(q);
}

/* Answer message @p i of a transfer: the query's ID and question, one A record. */
static size_t answer_msg(int i, uint8_t *buf, size_t cap)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *rr = NULL, *qrr = NULL;
	char text[96];
	uint8_t *w;
	size_t n;

	assert_non_null(p);
	ldns_pkt_set_id(p, 4242);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	assert_int_equal(ldns_rr_new_question_frm_str(&qrr, "lb.example.test. IN AXFR", NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qrr);
	snprintf(text, sizeof(text), "h%d.lb.example.test. 60 IN A 192.0.2.%d", i, i + 1);
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	to_wire(p, &w, &n);
	assert_true(n <= cap);
	memcpy(buf, w, n);
	free(w);
	ldns_pkt_free(p);
	return n;
}

static void test_three_message_answer(void **state)
{
	ldns_pkt *q = query("sec2.example.", SECRET2, "hmac-sha512."), *a[3];
	uint8_t msg[3][1024], *w;
	size_t len[3], n;
	const ldns_rdf *mac;
	struct steer_tsig *t = NULL;

	(void)state;
	to_wire(q, &w, &n);
	assert_int_equal(steer_tsig_verify_request(&conf, w, n, now(), &t), STEER_TSIG_OK);
	for (int i = 0; i < 3; i++) {
		len[i] = answer_msg(i, msg[i], sizeof(msg[i]));
		assert_int_equal(steer_tsig_sign_answer(t, msg[i], &len[i], sizeof(msg[i])), 0);
		assert_int_equal(ldns_wire2pkt(&a[i], msg[i], len[i]), LDNS_STATUS_OK);
	}
	/* as a client verifies a stream: the first over the request MAC with every
	 * variable, the others over the prior MAC with the timers only */
	mac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(ldns_pkt_tsig_verify_next(a[i], msg[i], len[i], "sec2.example.",
						      SECRET2, mac, i > 0));
		assert_int_equal(ldns_pkt_arcount(a[i]), 0); /* ldns took the TSIG RR out */
		mac = ldns_rr_rdf(ldns_pkt_tsig(a[i]), 3);
	}
	/* a changed byte, or the wrong chain, does not verify */
	msg[1][len[1] - 80] ^= 1;
	ldns_pkt_free(a[1]);
	assert_int_equal(ldns_wire2pkt(&a[1], msg[1], len[1]), LDNS_STATUS_OK);
	assert_false(ldns_pkt_tsig_verify_next(a[1], msg[1], len[1], "sec2.example.", SECRET2,
					       ldns_rr_rdf(ldns_pkt_tsig(a[0]), 3), 1));
	assert_false(ldns_pkt_tsig_verify_next(a[2], msg[2], len[2], "sec2.example.", SECRET2,
					       ldns_rr_rdf(ldns_pkt_tsig(q), 3), 1));
	n = answer_msg(0, msg[0], sizeof(msg[0]));
	assert_int_equal(steer_tsig_sign_answer(t, msg[0], &n, n + 50), STEER_ENOSPACE);
	for (int i = 0; i < 3; i++)
		ldns_pkt_free(a[i]);
	steer_tsig_free(t);
	free(w);
	ldns_pkt_free(q);
}

/* The client side (NOTIFY): we sign, the server (our verifier and ldns) checks. */
static void test_client_roundtrip(void **state)
{
	struct steer_tsig *c = NULL, *s = NULL;
	uint8_t msg[1024];
	ldns_pkt *p = NULL;
	size_t n;

	(void)state;
	assert_int_equal(steer_tsig_new_client(&conf, 5, &c), STEER_EINVAL);
	assert_int_equal(steer_tsig_new_client(&conf, 0, &c), 0);
	n = answer_msg(0, msg, sizeof(msg));
	msg[2] &= 0x7f; /* a request */
	assert_int_equal(steer_tsig_sign_request(c, msg, &n, sizeof(msg), now()), 0);
	assert_int_equal(ldns_wire2pkt(&p, msg, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tsig_verify(p, msg, n, "sec1.", SECRET1, NULL));
	ldns_pkt_free(p);
	assert_int_equal(steer_tsig_verify_request(&conf, msg, n, now(), &s), STEER_TSIG_OK);
	/* the answer, signed by the server side, verifies on the client side */
	n = answer_msg(1, msg, sizeof(msg));
	assert_int_equal(steer_tsig_sign_answer(s, msg, &n, sizeof(msg)), 0);
	assert_int_equal(steer_tsig_verify_answer(c, msg, n, now()), STEER_TSIG_OK);
	assert_int_equal(steer_tsig_verify_answer(c, msg, n, now() + 1000), STEER_TSIG_BADTIME);
	msg[20] ^= 1;
	assert_int_equal(steer_tsig_verify_answer(c, msg, n, now()), STEER_TSIG_BADSIG);
	n = answer_msg(1, msg, sizeof(msg));
	assert_int_equal(steer_tsig_verify_answer(c, msg, n, now()), STEER_TSIG_NONE);
	/* an RDLENGTH that reaches into the TSIG RR: the wire has no TSIG where ldns finds
	 * one, so the answer is malformed (as for a request), not a MAC to check */
	{
		static const uint8_t a_head[] = {0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
		uint8_t *rd;

		assert_int_equal(steer_tsig_sign_answer(s, msg, &n, sizeof(msg)), 0);
		rd = memmem(msg, n, a_head, sizeof(a_head));
		assert_non_null(rd);
		rd[9] = 11; /* RDLENGTH 11: 7 bytes into the TSIG RR */
		assert_int_equal(steer_dns_tsig_offset(msg, n), 0);
		assert_int_equal(steer_tsig_verify_answer(c, msg, n, now()), STEER_TSIG_FORMERR);
	}
	assert_string_equal(steer_tsig_rc_name(STEER_TSIG_BADTIME), "badtime");
	steer_tsig_free(s);
	steer_tsig_free(c);
}

static void test_acl_match(void **state)
{
	struct steer_xfr_allow allow[] = {
		{.family = AF_INET, .addr = {127, 0, 0, 0}, .prefix_len = 8, .key = -1},
		{.family = AF_INET, .addr = {192, 0, 2, 128}, .prefix_len = 25, .key = 0},
		{.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8}, .prefix_len = 32, .key = 1},
		{.family = AF_INET, .prefix_len = 0, .key = 2},
	};
	struct steer_xfr_conf c = {.allow = allow, .n_allow = 3};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};

	(void)state;
	inet_pton(AF_INET, "127.1.2.3", &s4.sin_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s4), 0);
	inet_pton(AF_INET, "192.0.2.200", &s4.sin_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s4), 1);
	inet_pton(AF_INET, "192.0.2.127", &s4.sin_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s4), -1);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &s6.sin6_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s6), 2);
	inet_pton(AF_INET6, "2001:db9::1", &s6.sin6_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s6), -1);
	inet_pton(AF_INET6, "::ffff:192.0.2.129", &s6.sin6_addr); /* v4-mapped */
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s6), 1);
	c.n_allow = 4; /* 0.0.0.0/0 */
	inet_pton(AF_INET, "198.51.100.1", &s4.sin_addr);
	assert_int_equal(steer_xfr_acl_match(&c, (struct sockaddr *)&s4), 3);
	assert_int_equal(steer_xfr_acl_match(NULL, (struct sockaddr *)&s4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_every_algorithm),
		cmocka_unit_test(test_verify_bad_key_secret_time),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_error_answers),
		cmocka_unit_test(test_error_answer_long_qname),
		cmocka_unit_test(test_rdlength_mismatch_formerr),
		cmocka_unit_test(test_badtime_answer_is_signed),
		cmocka_unit_test(test_three_message_answer),
		cmocka_unit_test(test_client_roundtrip),
		cmocka_unit_test(test_acl_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
