/*
 * Zone and answer-path tests on the black-box test zone (test/data/bb): every answer
 * parses back with ldns, and the answer path makes no allocation (malloc, calloc and
 * realloc are wrapped by the linker for this binary and counted while answering).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "zone/zone.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static int counting;
static long allocations;

void *__wrap_malloc(size_t size)
{
	allocations += counting;
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	allocations += counting;
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	allocations += counting;
	return __real_realloc(p, size);
}

struct fixture {
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_health_snapshot *snap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct steer_errs errs = {0};

	if (f == NULL)
		return -1;
	if (steer_config_load(STEER_SRC_DIR "/test/data/bb/steerd.json", &f->cfg, &errs) != 0 ||
	    steer_zone_new(f->cfg, &f->zone, &errs) != 0)
		return -1;
	steer_errs_fini(&errs);
	f->snap = steer_health_snapshot_new(f->cfg->n_origins, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	steer_health_snapshot_free(f->snap);
	steer_zone_free(f->zone);
	steer_config_free(f->cfg);
	free(f);
	return 0;
}

/* Build a query of class @p cls with ldns (test side only), answer it, parse the answer
 * with ldns. */
static ldns_pkt *ask_class(struct fixture *f, const char *name, ldns_rr_type type,
			   ldns_rr_class cls, bool tcp, size_t *len_out)
{
	static uint8_t out[STEER_DNS_TCP_MAX];
	struct steer_client client = {.family = AF_INET, .addr = {127, 0, 0, 1}};
	uint64_t rng = 42;
	struct steer_query_ctx ctx = {.snap = f->snap, .client = &client, .rng = &rng, .tcp = tcp};
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, cls, 0);
	ldns_pkt *r = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0, len;

	ldns_pkt_set_id(q, 0x4242);
	assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	if (type == 0) /* ldns makes type 0 an A query: the type is the question's last 4 bytes */
		memset(wire + wlen - 4, 0, 2);
	len = steer_zone_answer(f->zone, &ctx, wire, wlen, out, tcp ? sizeof(out) : 1232);
	assert_true(len > 0);
	assert_int_equal(ldns_wire2pkt(&r, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), 0x4242);
	assert_true(ldns_pkt_qr(r));
	assert_int_equal(ldns_pkt_qdcount(r), 1);
	free(wire);
	ldns_pkt_free(q);
	if (len_out != NULL)
		*len_out = len;
	return r;
}

static ldns_pkt *ask(struct fixture *f, const char *name, ldns_rr_type type, bool tcp,
		     size_t *len_out)
{
	return ask_class(f, name, type, LDNS_RR_CLASS_IN, tcp, len_out);
}

/* The answer to @p name @p type of class @p cls has these RCODE, counts and AA. */
static void expect_class(struct fixture *f, const char *name, ldns_rr_type type, ldns_rr_class cls,
			 ldns_pkt_rcode rcode, size_t an, size_t ns, bool aa)
{
	ldns_pkt *r = ask_class(f, name, type, cls, false, NULL);

	if (ldns_pkt_get_rcode(r) != rcode || ldns_pkt_ancount(r) != an ||
	    ldns_pkt_nscount(r) != ns || ldns_pkt_aa(r) != aa) {
		ldns_pkt_print(stderr, r);
		fail_msg("%s type %d: unexpected answer", name, type);
	}
	ldns_pkt_free(r);
}

static void expect(struct fixture *f, const char *name, ldns_rr_type type, ldns_pkt_rcode rcode,
		   size_t an, size_t ns, bool aa)
{
	expect_class(f, name, type, LDNS_RR_CLASS_IN, rcode, an, ns, aa);
}

static void test_answers(void **state)
{
	struct fixture *f = *state;

	expect(f, "lb.example.test.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, 1, 0, true);
	expect(f, "lb.example.test.", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, 2, 0, true);
	expect(f, "nope.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, 0, 1, true);
	expect(f, "c.ent.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "q.wild.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 1, 0, true);
	expect(f, "x.sub.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 0, 2, false);
	expect(f, "chain1.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 3, 0, true);
	expect(f, "loop1.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 2, 0, true);
	expect(f, "dangling.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, 1, 1, true);
	expect(f, "api.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 1, 0, true);
	expect(f, "v4only.lb.example.test.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "all.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 4, 0, true);
	expect(f, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, 0, 0, false);
}

static void test_negative_ttl(void **state)
{
	struct fixture *f = *state;
	ldns_pkt *r = ask(f, "nope.lb.example.test.", LDNS_RR_TYPE_A, false, NULL);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);

	/* RFC 2308 §5: min(SOA TTL 3600, minimum 60) */
	assert_int_equal(ldns_rr_ttl(soa), 60);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(r);
}

static void test_truncation(void **state)
{
	struct fixture *f = *state;
	size_t len;
	ldns_pkt *r = ask(f, "big.lb.example.test.", LDNS_RR_TYPE_TXT, false, &len);

	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_true(len <= 512);
	ldns_pkt_free(r);
	r = ask(f, "big.lb.example.test.", LDNS_RR_TYPE_TXT, true, &len);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 8);
	assert_true(len > 1232);
	ldns_pkt_free(r);
}

static const char *const names[] = {
	"api.lb.example.test.",   "www.lb.example.test.",    "nope.lb.example.test.",
	"x.sub.lb.example.test.", "q.wild.lb.example.test.", "chain1.lb.example.test.",
	"all.lb.example.test.",   "hash.lb.example.test.",   "host.lb.example.test.",
	"big.lb.example.test.",   "lb.example.test.",        "example.com.",
};

/* Issue #4: no allocation per query. Queries are prepared first, then answered 10,000
 * times over UDP and TCP sizes while allocations are counted. */
static void test_no_allocation(void **state)
{
	static uint8_t out[STEER_DNS_TCP_MAX];
	struct fixture *f = *state;
	const size_t n = sizeof(names) / sizeof(names[0]);
	const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT,
				      LDNS_RR_TYPE_ANY};
	uint8_t *wire[sizeof(names) / sizeof(names[0])][4];
	size_t wlen[sizeof(names) / sizeof(names[0])][4];
	struct steer_client client = {.family = AF_INET6};
	uint64_t rng = 7;
	struct steer_query_ctx ctx = {.snap = f->snap, .client = &client, .rng = &rng};
	size_t answered = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < 4; t++) {
			ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(names[i]), types[t],
							 LDNS_RR_CLASS_IN, 0);

			ldns_pkt_set_edns_udp_size(q, 1232);
			assert_int_equal(ldns_pkt2wire(&wire[i][t], q, &wlen[i][t]),
					 LDNS_STATUS_OK);
			ldns_pkt_free(q);
		}
	}
	counting = 1;
	for (int round = 0; round < 10000; round++) {
		size_t i = (size_t)round % n, t = (size_t)round / n % 4;

		ctx.tcp = (round & 1) != 0;
		answered += steer_zone_answer(f->zone, &ctx, wire[i][t], wlen[i][t], out,
					      ctx.tcp ? sizeof(out) : 1232) > 0;
	}
	counting = 0;
	assert_int_equal(allocations, 0);
	assert_int_equal(answered, 10000);
	/* the counter itself works, also for allocations made inside the libraries */
	counting = 1;
	steer_health_snapshot_free(steer_health_snapshot_new(4, 1));
	counting = 0;
	assert_int_equal(allocations, 1);
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < 4; t++)
			free(wire[i][t]);
}

static void zf_expect(struct fixture *f, const char *name, ldns_rr_type type, const char *rdata,
		      uint32_t ttl)
{
	ldns_pkt *r = ask(f, name, type, false, NULL);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	char *text;

	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	text = ldns_rdf2str(ldns_rr_rdf(rr, ldns_rr_rd_count(rr) - 1));
	assert_string_equal(text, rdata);
	assert_int_equal(ldns_rr_ttl(rr), ttl);
	free(text);
	ldns_pkt_free(r);
}

/* zone.zone_file: an RFC 1035 file loaded next to `records`; zone.soa stays the SOA. */
static void test_zone_file(void **state)
{
	struct fixture f = {0};
	struct steer_errs errs = {0};
	ldns_pkt *r;

	(void)state;
	assert_int_equal(
		steer_config_load(STEER_SRC_DIR "/test/data/zonefile/steerd.json", &f.cfg, &errs),
		0);
	assert_int_equal(steer_zone_new(f.cfg, &f.zone, &errs), 0);
	f.snap = steer_health_snapshot_new(f.cfg->n_origins, 1);
	zf_expect(&f, "mail.zf.example.test.", LDNS_RR_TYPE_A, "192.0.2.25", 600);
	zf_expect(&f, "mail.zf.example.test.", LDNS_RR_TYPE_AAAA, "2001:db8::25", 600);
	zf_expect(&f, "zf.example.test.", LDNS_RR_TYPE_MX, "mail.zf.example.test.", 600);
	zf_expect(&f, "files.zf.example.test.", LDNS_RR_TYPE_TXT, "\"from the zone file\"", 300);
	zf_expect(&f, "api.zf.example.test.", LDNS_RR_TYPE_A, "192.0.2.80", 30);
	r = ask(&f, "zf.example.test.", LDNS_RR_TYPE_SOA, false, NULL);
	assert_int_equal(
		ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 2)), 7);
	ldns_pkt_free(r);
	steer_health_snapshot_free(f.snap);
	steer_zone_free(f.zone);
	steer_config_free(f.cfg);
	steer_errs_fini(&errs);
}

/* A bad zone file is an error naming the file and the line. */
static void test_zone_file_error(void **state)
{
	char dir[] = "/tmp/steer-zf.XXXXXX";
	char path[256], line[1024];
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	struct steer_errs errs = {0};
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/steerd.json", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"{\"listen\": [\"127.0.0.1:5353\"], \"zone\": {\"name\": \"zf.example.test\",\n"
		" \"soa\": {\"mname\": \"ns1.zf.example.test\", \"rname\": \"h.example.test\",\n"
		" \"serial\": 1, \"refresh\": 1, \"retry\": 1, \"expire\": 1, \"minimum\": 1,"
		" \"ttl\": 1}, \"ns\": [\"ns1.zf.example.test\"],\n"
		" \"zone_file\": \"%s/test/data/zonefile/bad.zone\"},\n"
		" \"pools_dir\": \"%s/test/data/zonefile/pools\"}\n",
		STEER_SRC_DIR, STEER_SRC_DIR);
	fclose(fp);
	assert_int_equal(steer_config_load(path, &cfg, &errs), 0);
	assert_int_equal(steer_zone_new(cfg, &zone, &errs), STEER_ECONFIG);
	assert_null(zone);
	assert_int_equal(errs.n, 1);
	steer_err_format(&errs.v[0], line, sizeof(line));
	assert_non_null(strstr(line, "test/data/zonefile/bad.zone:4:"));
	steer_errs_fini(&errs);
	steer_config_free(cfg);
	unlink(path);
	rmdir(dir);
}

/* A raw SOA query for the apex with EDNS and a COOKIE option of @p clen bytes at @p c. */
static size_t cookie_query(uint8_t *pkt, const uint8_t *c, size_t clen)
{
	static const uint8_t head[] = {0x43, 0x21, 0,   0,    0,    1,   0,   0,   0,   0,   0,   1,
				       2,    'l',  'b', 7,    'e',  'x', 'a', 'm', 'p', 'l', 'e', 4,
				       't',  'e',  's', 't',  0,    0,   6,   0,   1, /* SOA IN */
				       0,    0,    41,  0x04, 0xd0, 0,   0,   0,   0};
	size_t n = sizeof(head);

	memcpy(pkt, head, n);
	pkt[n++] = (uint8_t)((clen + 4) >> 8);
	pkt[n++] = (uint8_t)(clen + 4);
	memcpy(pkt + n, "\0\12", 2);
	pkt[n + 2] = (uint8_t)(clen >> 8);
	pkt[n + 3] = (uint8_t)clen;
	memcpy(pkt + n + 4, c, clen);
	return n + 4 + clen;
}

struct cookie_run {
	struct fixture *f;
	struct steer_dns_cookie_keys keys;
	struct steer_client client;
	struct steer_query_ctx ctx;
	uint64_t rng;
	uint8_t out[1232];
	size_t len;
};

static void cookie_run_init(struct cookie_run *r, struct fixture *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	memset(r->keys.cur, 0x11, sizeof(r->keys.cur));
	r->client.family = AF_INET;
	memcpy(r->client.addr, "\xc0\0\2\7", 4);
	r->rng = 1;
	r->ctx = (struct steer_query_ctx){.snap = f->snap,
					  .client = &r->client,
					  .rng = &r->rng,
					  .cookies = &r->keys,
					  .now_s = 1700000000u};
}

/* Answer a query with COOKIE @p c (@p clen bytes) without parsing the reply; its cookie
 * (the last option, if it is one) into @p back. @return the reply's length. */
static size_t cookie_answer(struct cookie_run *r, const uint8_t *c, size_t clen, uint8_t back[24])
{
	uint8_t pkt[128];
	size_t n = cookie_query(pkt, c, clen);

	r->len = steer_zone_answer(r->f->zone, &r->ctx, pkt, n, r->out, sizeof(r->out));
	memset(back, 0, 24);
	if (r->len > 28 && memcmp(r->out + r->len - 28, "\0\12\0\30", 4) == 0)
		memcpy(back, r->out + r->len - 24, 24);
	return r->len;
}

/* cookie_answer(), the reply parsed with ldns. @return the RCODE with the OPT's extended
 * bits, or -1 for no reply. */
static int cookie_ask(struct cookie_run *r, const uint8_t *c, size_t clen, uint8_t back[24])
{
	ldns_pkt *p = NULL;
	int rcode;

	if (cookie_answer(r, c, clen, back) == 0)
		return -1;
	assert_int_equal(ldns_wire2pkt(&p, r->out, r->len), LDNS_STATUS_OK);
	rcode = (r->out[3] & 0x0f) | (int)(ldns_pkt_edns_extended_rcode(p) << 4);
	ldns_pkt_free(p);
	return rcode;
}

/* RFC 7873 §5.2 on the answer path: a client cookie gets a server cookie; a valid one is
 * accepted (echoed while fresh); a wrong one gets a fresh cookie and a normal answer;
 * malformed lengths are FORMERR; with cookies off, nothing changes. */
static void test_cookies(void **state)
{
	static const uint8_t zero[24];
	struct cookie_run r;
	uint8_t c[41] = {1, 2, 3, 4, 5, 6, 7, 8}, back[24], first[24];
	const uint8_t ip[4] = {192, 0, 2, 7};

	cookie_run_init(&r, *state);
	assert_int_equal(cookie_ask(&r, c, 8, first), 0);
	assert_int_equal(r.out[7], 1); /* the SOA */
	assert_memory_equal(first, c, 8);
	assert_int_equal(steer_dns_cookie_check(&r.keys, first, 24, ip, 4, r.ctx.now_s),
			 STEER_COOKIE_VALID);
	/* sent back: accepted and echoed unchanged */
	r.ctx.now_s += 60;
	assert_int_equal(cookie_ask(&r, first, 24, back), 0);
	assert_memory_equal(back, first, 24);
	/* 40 minutes on: still accepted, but renewed */
	r.ctx.now_s += 2400;
	assert_int_equal(cookie_ask(&r, first, 24, back), 0);
	assert_memory_not_equal(back + 8, first + 8, 16);
	assert_int_equal(steer_dns_cookie_check(&r.keys, back, 24, ip, 4, r.ctx.now_s),
			 STEER_COOKIE_VALID);
	/* a wrong server cookie (any valid length): NOERROR with a fresh one, not BADCOOKIE */
	for (size_t len = 16; len <= 40; len += 8) {
		memset(c + 8, 0x77, len - 8);
		assert_int_equal(cookie_ask(&r, c, len, back), 0);
		assert_int_equal(r.out[7], 1);
		assert_int_equal(steer_dns_cookie_check(&r.keys, back, 24, ip, 4, r.ctx.now_s),
				 STEER_COOKIE_VALID);
	}
	/* malformed lengths: FORMERR, no cookie */
	for (size_t len = 0; len <= 41; len++) {
		if (steer_dns_cookie_len_ok(len))
			continue;
		assert_int_equal(cookie_ask(&r, c, len, back), STEER_RCODE_FORMERR);
		assert_memory_equal(back, zero, 24);
	}
	/* off: the option is ignored, whatever its length */
	r.f->cfg->cookies_enabled = false;
	assert_int_equal(cookie_ask(&r, c, 8, back), 0);
	assert_memory_equal(back, zero, 24);
	assert_int_equal(cookie_ask(&r, c, 7, back), 0);
	r.f->cfg->cookies_enabled = true;
	r.ctx.cookies = NULL;
	assert_int_equal(cookie_ask(&r, c, 8, back), 0);
	assert_memory_equal(back, zero, 24);
}

/* As Knot: type 0 (reserved, RFC 6895 §3.1) is NOTIMP; the meta types OPT, TSIG, MAILB and
 * MAILA are looked up like any type; QCLASS ANY is answered from the IN zone. */
static void test_meta_types_and_class_any(void **state)
{
	static const ldns_rr_type meta[] = {41, LDNS_RR_TYPE_TSIG, LDNS_RR_TYPE_MAILB,
					    LDNS_RR_TYPE_MAILA};
	struct fixture *f = *state;
	ldns_pkt *r;

	expect(f, "lb.example.test.", 0, LDNS_RCODE_NOTIMPL, 0, 0, false);
	expect(f, "example.com.", 0, LDNS_RCODE_NOTIMPL, 0, 0, false);
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		expect(f, "lb.example.test.", meta[i], LDNS_RCODE_NOERROR, 0, 1, true);
		expect(f, "api.lb.example.test.", meta[i], LDNS_RCODE_NOERROR, 0, 1, true);
		expect(f, "nope.lb.example.test.", meta[i], LDNS_RCODE_NXDOMAIN, 0, 1, true);
		expect(f, "example.com.", meta[i], LDNS_RCODE_REFUSED, 0, 0, false);
	}
	expect_class(f, "lb.example.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_ANY, LDNS_RCODE_NOERROR,
		     1, 0, true);
	expect_class(f, "nope.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY,
		     LDNS_RCODE_NXDOMAIN, 0, 1, true);
	expect_class(f, "example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY, LDNS_RCODE_REFUSED, 0, 0,
		     false);
	/* the records keep class IN */
	r = ask_class(f, "api.lb.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY, false, NULL);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_answer(r), 0)),
			 LDNS_RR_CLASS_IN);
	ldns_pkt_free(r);
}

/* CH: TXT of the four identity names with AA clear; any other type (ANY too) and any other
 * name is REFUSED, as Knot answers. */
static void test_chaos(void **state)
{
	static const char *const ids[] = {"version.bind.", "version.server.", "id.server.",
					  "hostname.bind."};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		expect_class(f, ids[i], LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, LDNS_RCODE_NOERROR, 1,
			     0, false);
		expect_class(f, ids[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, LDNS_RCODE_REFUSED, 0, 0,
			     false);
		expect_class(f, ids[i], LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_CH, LDNS_RCODE_REFUSED, 0,
			     0, false);
		expect_class(f, ids[i], LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_CH, LDNS_RCODE_REFUSED, 0,
			     0, false);
	}
	expect_class(f, "authors.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, LDNS_RCODE_REFUSED, 0,
		     0, false);
}

/* The additional section holds exactly one A record: @p owner @p addr. */
static void expect_additional_a(ldns_pkt *r, const char *owner, const char *addr)
{
	ldns_rr *rr;
	char *text;

	assert_int_equal(ldns_pkt_arcount(r), 1);
	rr = ldns_rr_list_rr(ldns_pkt_additional(r), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	text = ldns_rdf2str(ldns_rr_owner(rr));
	assert_string_equal(text, owner);
	free(text);
	text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(text, addr);
	free(text);
}

/* MX and SRV answers carry the in-zone target's addresses (RFC 1035 §3.3.9, RFC 2782), as
 * Knot's do; also when ANY picks the SRV RRset; over UDP and TCP. */
static void test_additional_targets(void **state)
{
	struct fixture *f = *state;

	for (int tcp = 0; tcp < 2; tcp++) {
		ldns_pkt *r = ask(f, "lb.example.test.", LDNS_RR_TYPE_MX, tcp, NULL);

		assert_int_equal(ldns_pkt_ancount(r), 1);
		expect_additional_a(r, "mx1.lb.example.test.", "192.0.2.25");
		ldns_pkt_free(r);
		r = ask(f, "_sip._udp.lb.example.test.", LDNS_RR_TYPE_SRV, tcp, NULL);
		assert_int_equal(ldns_pkt_ancount(r), 1);
		expect_additional_a(r, "sip.lb.example.test.", "192.0.2.60");
		ldns_pkt_free(r);
		r = ask(f, "_sip._udp.lb.example.test.", LDNS_RR_TYPE_ANY, tcp, NULL);
		assert_int_equal(ldns_pkt_ancount(r), 1);
		expect_additional_a(r, "sip.lb.example.test.", "192.0.2.60");
		ldns_pkt_free(r);
	}
	/* an answer without NS, MX or SRV gets none */
	expect(f, "lb.example.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, 0, true);
}

/* RRSIG and NSEC may live beside a CNAME (RFC 4035 §2.5): asked for at a CNAME, static or a
 * balancer's, they are NODATA (the zone is unsigned), not the chain, as Knot answers. */
static void test_dnssec_types_at_cname(void **state)
{
	struct fixture *f = *state;

	expect(f, "www.lb.example.test.", LDNS_RR_TYPE_RRSIG, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "www.lb.example.test.", LDNS_RR_TYPE_NSEC, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "c0.lb.example.test.", LDNS_RR_TYPE_RRSIG, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "chain1.lb.example.test.", LDNS_RR_TYPE_NSEC, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "host.lb.example.test.", LDNS_RR_TYPE_RRSIG, LDNS_RCODE_NOERROR, 0, 1, true);
	expect(f, "host.lb.example.test.", LDNS_RR_TYPE_NSEC, LDNS_RCODE_NOERROR, 0, 1, true);
	/* other types still get the CNAME */
	expect(f, "host.lb.example.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, 0, true);
	expect(f, "chain1.lb.example.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 2, 1, true);
}

/* What the UDP server's rate limiting asks: DROP sends nothing, SLIP sends BADCOOKIE with
 * a fresh cookie to a client with a cookie and TC=1 to others; a valid server cookie
 * proves the address, so it is answered whatever the verdict. */
static void test_rrl_verdicts(void **state)
{
	struct cookie_run r;
	uint8_t c[24] = {9, 9, 9, 9, 9, 9, 9, 9}, good[24], back[24];
	uint8_t pkt[128];
	size_t n;

	cookie_run_init(&r, *state);
	assert_int_equal(cookie_ask(&r, c, 8, good), 0);
	r.ctx.rrl = STEER_RRL_DROP;
	assert_int_equal(cookie_ask(&r, c, 8, back), -1);
	assert_int_equal(cookie_ask(&r, good, 24, back), 0);
	assert_int_equal(r.out[7], 1);
	r.ctx.rrl = STEER_RRL_SLIP;
	assert_int_equal(cookie_ask(&r, c, 8, back), STEER_RCODE_BADCOOKIE);
	assert_int_equal(r.out[7], 0); /* no answer */
	assert_int_equal(r.out[2] & 0x02, 0);
	assert_memory_equal(back, c, 8);
	assert_int_equal(cookie_ask(&r, good, 24, back), 0);
	assert_int_equal(r.out[7], 1);
	/* FORMERR replies are limited too: a malformed cookie, a malformed query */
	assert_int_equal(cookie_ask(&r, c, 7, back), 0);
	assert_int_equal(r.out[2] & 0x02, 0x02);
	r.ctx.rrl = STEER_RRL_DROP;
	assert_int_equal(cookie_ask(&r, c, 7, back), -1);
	n = cookie_query(pkt, c, 8);
	pkt[5] = 2; /* QDCOUNT 2 */
	assert_int_equal(steer_zone_answer(r.f->zone, &r.ctx, pkt, n, r.out, sizeof(r.out)), 0);
	r.ctx.rrl = STEER_RRL_SLIP;
	/* no cookie: TC=1, empty sections, the OPT kept */
	n = cookie_query(pkt, c, 0) - 4; /* drop the option: an OPT without options */
	pkt[n - 1] = 0;                  /* RDLENGTH 0 */
	r.len = steer_zone_answer(r.f->zone, &r.ctx, pkt, n, r.out, sizeof(r.out));
	assert_true(r.len > 0);
	assert_int_equal(r.out[2] & 0x02, 0x02);
	assert_int_equal(r.out[3] & 0x0f, 0);
	assert_memory_equal(r.out + 6, "\0\0\0\0\0\1", 6);
}

/* The cookie path allocates nothing either. */
static void test_cookies_no_allocation(void **state)
{
	struct cookie_run r;
	uint8_t c[24] = {1, 1, 2, 3, 5, 8, 13, 21}, back[24];
	long before = allocations;

	cookie_run_init(&r, *state);
	counting = 1;
	for (int i = 0; i < 1000; i++) {
		size_t len = (i % 3 == 0) ? 8 : 24;

		r.ctx.rrl = (enum steer_rrl_verdict)(i % 3);
		r.ctx.now_s++;
		(void)cookie_answer(&r, c, len, back);
		memcpy(c + 8, back + 8, 16);
	}
	counting = 0;
	assert_int_equal(allocations, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_negative_ttl),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_meta_types_and_class_any),
		cmocka_unit_test(test_chaos),
		cmocka_unit_test(test_additional_targets),
		cmocka_unit_test(test_dnssec_types_at_cname),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_rrl_verdicts),
		cmocka_unit_test(test_cookies_no_allocation),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_zone_file),
		cmocka_unit_test(test_zone_file_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown) |
	       cmocka_run_group_tests(files, NULL, NULL);
}
