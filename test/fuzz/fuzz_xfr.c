/*
 * Fuzz zone-transfer messages (lib/xfr). Built once at start: a config with `transfer`
 * (127.0.0.0/8 must sign with key k1, hmac-sha256; ::1 needs no key; a second key k2,
 * hmac-sha512, is known but required nowhere), a zone with static records and a
 * balancer, a health snapshot, and five zone versions (so IXFR has a journal); the clock
 * is fixed, so signed seeds keep verifying. Each input is one query message, and goes to:
 *
 * 1. steer_xfr_answer_tcp() from 127.0.0.1 (key k1), ::1 (no key) and 192.0.2.1 (not
 *    allowed). Every message parses with ldns, has the query's ID and QR=1 and is at most
 *    65535 bytes; a NOERROR stream starts and ends with the SOA of the current serial and
 *    every message of it is NOERROR; any other answer is one message without answer
 *    records; 192.0.2.1 only gets REFUSED or FORMERR; a request verified with a key gets a
 *    stream that verifies, message after message, with that key (RFC 8945 §5.3.1), and
 *    127.0.0.1 gets nothing NOERROR without it.
 * 2. steer_xfr_answer_signed() over UDP and TCP when steer_dns_tsig_offset() finds a
 *    TSIG: nothing for a response (QR=1) or a runt, like the answer path; otherwise an
 *    answer within the buffer that parses, with the query's ID and QR=1.
 * 3. steer_tsig_verify_request(): a state exactly for OK and BADTIME, a key index of the
 *    config; a TSIG it judges (OK, BADKEY, BADSIG, BADTIME) is one the answer path's scan
 *    finds; the error answer for its verdict parses, with the query's ID, QR=1 and the
 *    expected RCODE.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "xfr/tsig.h"
#include "xfr/xfr.h"
#include "zone/zone.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define FUZZ_NOW   1700000000u /* the fixed clock; gen_corpus.py signs its seeds at it */
#define MAX_MSGS   256         /* messages of one transfer, at most (the zone is small) */
#define ERR_CAP    1024        /* an error answer's buffer, as lib/xfr gives it */
#define SECRET1    "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
#define SECRET2    "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWNyZXQtNjQtYnl0ZXMh"
#define KEY1       "k1."
#define KEY2       "k2.example."
#define HDR_QR     0x80
#define RCODE_MASK 0x0f

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** What every input reuses (built once, never freed). */
struct fixture {
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_health_snapshot *snap;
	struct steer_xfr *x;
	uint64_t now;
	struct sockaddr_in keyed;    /* 127.0.0.1: must sign with k1 */
	struct sockaddr_in6 keyless; /* ::1 */
	struct sockaddr_in refused;  /* 192.0.2.1: not allowed */
	const char *key_names[2];    /* conf->keys order, as ldns wants them */
	const char *key_secrets[2];
};

/* The messages of one answer. */
struct msgs {
	uint8_t *m[MAX_MSGS];
	size_t len[MAX_MSGS];
	size_t n;
};

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
	CHECK(chmod(path, mode) == 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

static const char config_text[] =
	"{\"listen\": [\"127.0.0.1:5399\"],\n"
	" \"zone\": {\"name\": \"lb.example.test\", \"soa\": {\"mname\": \"ns1.lb.example.test\","
	" \"rname\": \"hostmaster.example.test\", \"serial\": 1, \"refresh\": 3600, \"retry\": 600,"
	" \"expire\": 604800, \"minimum\": 60, \"ttl\": 3600}, \"ns\": [\"ns1.lb.example.test\"],"
	" \"records\": [\"ns1 3600 IN A 192.0.2.1\", \"www 300 IN CNAME api\","
	" \"info 300 IN TXT \\\"hello\\\"\", \"mx 300 IN MX 10 mail.example.net.\"]},\n"
	" \"balancers\": [{\"name\": \"api\", \"ttl\": 30, \"failover_ttl\": 5,"
	" \"default_pools\": [\"p\", \"b\"]}],\n"
	" \"transfer\": {\"allow\": [{\"from\": \"127.0.0.0/8\", \"key\": \"k1\"},"
	" {\"from\": \"::1\"}], \"keys\": [{\"name\": \"k1\", \"algorithm\": \"hmac-sha256\","
	" \"secret_file\": \"k1.key\"}, {\"name\": \"k2.example\", \"algorithm\": \"hmac-sha512\","
	" \"secret_file\": \"k2.key\"}], \"journal_versions\": 10}}\n";

/* Write the config to a temporary folder, load it, and remove the folder. */
static void load_config(struct fixture *f)
{
	const char *tmp = getenv("TMPDIR");
	struct steer_errs errs = {0};
	char dir[400], path[512];

	snprintf(dir, sizeof(dir), "%s/fuzz_xfr.XXXXXX", tmp != NULL ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pools", dir);
	CHECK(mkdir(path, 0700) == 0);
	write_file(dir, "steerd.json", config_text, 0644);
	write_file(dir, "k1.key", SECRET1 "\n", 0600);
	write_file(dir, "k2.key", SECRET2 "\n", 0600);
	write_file(dir, "pools/p.json",
		   "{\"name\": \"p\", \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.11\"},"
		   " {\"name\": \"b\", \"address\": \"192.0.2.12\"},"
		   " {\"name\": \"c\", \"address\": \"2001:db8::1\"}]}\n",
		   0644);
	write_file(dir, "pools/b.json",
		   "{\"name\": \"b\", \"origins\": [{\"name\": \"z\", \"address\": "
		   "\"192.0.2.21\"}]}\n",
		   0644);
	snprintf(path, sizeof(path), "%s/steerd.json", dir);
	if (steer_config_load(path, &f->cfg, &errs) != 0 ||
	    steer_zone_new(f->cfg, &f->zone, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "fuzz_xfr: %s\n", errs.v[i].msg);
		abort();
	}
	steer_errs_fini(&errs);
	remove_file(dir, "pools/p.json");
	remove_file(dir, "pools/b.json");
	snprintf(path, sizeof(path), "%s/pools", dir);
	(void)rmdir(path);
	remove_file(dir, "steerd.json");
	remove_file(dir, "k1.key");
	remove_file(dir, "k2.key");
	(void)rmdir(dir);
}

static uint64_t fixed_now(void *arg)
{
	return *(const uint64_t *)arg;
}

/* Set the probed state of origin @p name of pool @p pool. */
static void set_state(struct fixture *f, const char *pool, const char *name, uint8_t state)
{
	for (size_t i = 0; i < f->cfg->n_pools; i++) {
		const struct steer_pool *p = &f->cfg->pools[i];

		for (size_t k = 0; strcmp(p->name, pool) == 0 && k < p->n_origins; k++) {
			if (strcmp(p->origins[k].name, name) == 0) {
				f->snap->state[p->origins[k].index] = state;
				return;
			}
		}
	}
	CHECK(!"no such origin");
}

/* Versions 1 to 5 (gen_corpus.py's IXFR seeds know these serials): every origin unknown,
 * then p/b, p/a and p/c down one by one (the last moves api to pool b, failover TTL), then
 * p/b up again. */
static void make_versions(struct fixture *f)
{
	static const struct {
		const char *pool, *origin;
		uint8_t state;
	} steps[] = {{"p", "b", STEER_HEALTH_DOWN},
		     {"p", "a", STEER_HEALTH_DOWN},
		     {"p", "c", STEER_HEALTH_DOWN},
		     {"p", "b", STEER_HEALTH_UP}};
	bool changed = false;
	uint32_t serial = 0;

	CHECK(steer_xfr_update(f->x, f->cfg, f->zone, f->snap, &changed, &serial, NULL) == 0);
	CHECK(changed && serial == 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		set_state(f, steps[i].pool, steps[i].origin, steps[i].state);
		CHECK(steer_xfr_update(f->x, f->cfg, f->zone, f->snap, &changed, &serial, NULL) ==
		      0);
	}
	CHECK(serial == 5 && steer_xfr_serial(f->x) == 5);
	steer_zone_set_serial(f->zone, serial);
}

static struct fixture *fixture(void)
{
	static struct fixture f;
	struct steer_health_dims dims;

	if (f.x != NULL)
		return &f;
	load_config(&f);
	CHECK(f.cfg->xfr.enabled && f.cfg->xfr.n_keys == 2 && f.cfg->n_origins == 4);
	dims = (struct steer_health_dims){f.cfg->n_origins, f.cfg->n_pools, f.cfg->n_balancers};
	f.snap = steer_health_snapshot_new_dims(&dims, 1);
	CHECK(f.snap != NULL);
	/* memory only: no SQLite file to restore from or write to */
	free(f.cfg->state_path);
	f.cfg->state_path = NULL;
	CHECK(steer_xfr_new(f.cfg, NULL, &f.x, NULL) == 0);
	f.now = FUZZ_NOW;
	steer_xfr_set_clock(f.x, fixed_now, &f.now);
	make_versions(&f);
	f.keyed = (struct sockaddr_in){.sin_family = AF_INET};
	CHECK(inet_pton(AF_INET, "127.0.0.1", &f.keyed.sin_addr) == 1);
	f.keyless =
		(struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	f.refused = (struct sockaddr_in){.sin_family = AF_INET};
	CHECK(inet_pton(AF_INET, "192.0.2.1", &f.refused.sin_addr) == 1);
	f.key_names[0] = KEY1;
	f.key_names[1] = KEY2;
	f.key_secrets[0] = SECRET1;
	f.key_secrets[1] = SECRET2;
	return &f;
}

static int collect(void *arg, const uint8_t *msg, size_t len)
{
	struct msgs *m = arg;

	CHECK(m->n < MAX_MSGS);
	CHECK(len >= STEER_DNS_HDR_LEN && len <= STEER_DNS_TCP_MAX);
	m->m[m->n] = malloc(len);
	CHECK(m->m[m->n] != NULL);
	memcpy(m->m[m->n], msg, len);
	m->len[m->n++] = len;
	return 0;
}

static void msgs_fini(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->m[i]);
	m->n = 0;
}

static uint16_t id_of(const uint8_t *q)
{
	return (uint16_t)(q[0] << 8 | q[1]);
}

static bool is_current_soa(const ldns_rr *rr, uint32_t serial)
{
	return rr != NULL && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
	       ldns_rr_rd_count(rr) == 7 && ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)) == serial;
}

/* What a request told about its TSIG (steer_tsig_verify_request()). */
struct verdict {
	enum steer_tsig_rc rc;
	int key;           /* OK: the index of the key in the config; else -1 */
	ldns_rdf *req_mac; /* OK: the request's MAC field (a copy) */
};

/* Verify the messages of a stream answering a request signed with key @p v->key, as a
 * client does: the first over the request MAC, the next ones over the prior MAC, timers
 * only (RFC 8945 §5.3.1). */
static void check_stream_tsig(const struct fixture *f, const struct verdict *v,
			      const struct msgs *m, ldns_pkt **pkts)
{
	ldns_rdf *mac = ldns_rdf_clone(v->req_mac);

	CHECK(mac != NULL);
	for (size_t i = 0; i < m->n; i++) {
		const ldns_rr *t = ldns_pkt_tsig(pkts[i]);

		CHECK(t != NULL);
		CHECK(ldns_pkt_tsig_verify_next(pkts[i], m->m[i], m->len[i], f->key_names[v->key],
						f->key_secrets[v->key], mac, i > 0));
		ldns_rdf_deep_free(mac);
		mac = ldns_rdf_clone(ldns_rr_rdf(t, 3));
		CHECK(mac != NULL);
	}
	ldns_rdf_deep_free(mac);
}

/* One transfer answer: the messages @p m to query @p q from a peer whose ACL entry needs
 * key @p need (-1: none; -2: the peer is not allowed). */
static void check_transfer(const struct fixture *f, const uint8_t *q, const struct msgs *m,
			   int need, const struct verdict *v)
{
	const uint32_t serial = steer_xfr_serial(f->x);
	ldns_pkt *pkts[MAX_MSGS];
	ldns_rr_list *an;
	int rcode;

	for (size_t i = 0; i < m->n; i++) {
		pkts[i] = NULL;
		CHECK(ldns_wire2pkt(&pkts[i], m->m[i], m->len[i]) == LDNS_STATUS_OK);
		CHECK(ldns_pkt_id(pkts[i]) == id_of(q));
		CHECK(ldns_pkt_qr(pkts[i]));
	}
	rcode = ldns_pkt_get_rcode(pkts[0]);
	if (rcode != LDNS_RCODE_NOERROR) {
		/* a refusal or an error: one message, no records */
		CHECK(m->n == 1 && ldns_pkt_ancount(pkts[0]) == 0);
		CHECK(rcode == LDNS_RCODE_FORMERR || rcode == LDNS_RCODE_REFUSED ||
		      rcode == LDNS_RCODE_NOTAUTH);
		CHECK(need != -2 || rcode != LDNS_RCODE_NOTAUTH); /* the ACL comes before TSIG */
		CHECK(need == -2 || rcode != LDNS_RCODE_REFUSED);
		goto out;
	}
	CHECK(need != -2);
	CHECK(need < 0 || (v->rc == STEER_TSIG_OK && v->key == need));
	for (size_t i = 0; i < m->n; i++)
		CHECK(ldns_pkt_get_rcode(pkts[i]) == LDNS_RCODE_NOERROR && ldns_pkt_aa(pkts[i]) &&
		      ldns_pkt_qdcount(pkts[i]) == 1);
	an = ldns_pkt_answer(pkts[0]);
	CHECK(ldns_rr_list_rr_count(an) >= 1 && is_current_soa(ldns_rr_list_rr(an, 0), serial));
	an = ldns_pkt_answer(pkts[m->n - 1]);
	CHECK(ldns_rr_list_rr_count(an) >= 1 &&
	      is_current_soa(ldns_rr_list_rr(an, ldns_rr_list_rr_count(an) - 1), serial));
	if (v->rc == STEER_TSIG_OK)
		check_stream_tsig(f, v, m, pkts);
	else
		for (size_t i = 0; i < m->n; i++)
			CHECK(ldns_pkt_tsig(pkts[i]) == NULL);
out:
	for (size_t i = 0; i < m->n; i++)
		ldns_pkt_free(pkts[i]);
}

static void run_tcp(const struct fixture *f, const uint8_t *q, size_t len,
		    const struct sockaddr *peer, int need, const struct verdict *v)
{
	struct msgs *m = calloc(1, sizeof(*m));
	int rc;

	CHECK(m != NULL);
	rc = steer_xfr_answer_tcp(f->x, f->zone, q, len, peer, collect, m);
	CHECK(rc == 0 || rc == STEER_XFR_DECLINED);
	CHECK((rc == 0) == (m->n > 0));
	if (m->n > 0)
		check_transfer(f, q, m, need, v);
	msgs_fini(m);
	free(m);
}

/* The answer path with a TSIG found: UDP (1232 bytes) and TCP (64 KiB), on the heap. */
static void run_signed(const struct fixture *f, const uint8_t *q, size_t len, size_t tsig_off)
{
	uint64_t rng = 1;
	struct steer_client client = {.family = AF_INET, .addr = {127, 0, 0, 1}};
	struct steer_query_ctx ctx = {.snap = f->snap, .client = &client, .rng = &rng};

	for (int tcp = 0; tcp <= 1; tcp++) {
		const size_t cap = tcp ? STEER_DNS_TCP_MAX : STEER_DNS_UDP_MAX;
		uint8_t *out = malloc(cap);
		ldns_pkt *pkt = NULL;
		size_t n;

		CHECK(out != NULL);
		ctx.tcp = tcp != 0;
		n = steer_xfr_answer_signed(f->x, f->zone, &ctx, q, len, tsig_off, out, cap);
		CHECK(n <= cap);
		if (len < STEER_DNS_HDR_LEN || (q[2] & HDR_QR) != 0)
			CHECK(n == 0); /* a response is never answered */
		if (n > 0) {
			CHECK(ldns_wire2pkt(&pkt, out, n) == LDNS_STATUS_OK);
			CHECK(ldns_pkt_id(pkt) == id_of(q) && ldns_pkt_qr(pkt));
			ldns_pkt_free(pkt);
		}
		free(out);
	}
}

/* The error answer for a verdict other than OK and NONE. */
static void check_error_answer(const struct steer_tsig *t, const uint8_t *q, size_t len,
			       enum steer_tsig_rc rc)
{
	uint8_t out[ERR_CAP];
	size_t n = 0;
	ldns_pkt *pkt = NULL;
	int r = steer_tsig_error_answer(rc == STEER_TSIG_BADTIME ? t : NULL, q, len, rc, FUZZ_NOW,
					out, &n, sizeof(out));

	CHECK(r == 0 || r == STEER_ENOSPACE || (r == STEER_EINVAL && len < STEER_DNS_HDR_LEN));
	if (r != 0)
		return;
	CHECK(n >= STEER_DNS_HDR_LEN && n <= sizeof(out));
	CHECK(ldns_wire2pkt(&pkt, out, n) == LDNS_STATUS_OK);
	CHECK(ldns_pkt_id(pkt) == id_of(q) && ldns_pkt_qr(pkt));
	CHECK((out[3] & RCODE_MASK) ==
	      (rc == STEER_TSIG_FORMERR ? LDNS_RCODE_FORMERR : LDNS_RCODE_NOTAUTH));
	CHECK(ldns_pkt_ancount(pkt) == 0);
	ldns_pkt_free(pkt);
}

/* steer_tsig_verify_request() alone; fills @p v for the transfer checks. */
static void run_verify(const struct fixture *f, const uint8_t *q, size_t len, size_t tsig_off,
		       struct verdict *v)
{
	struct steer_tsig *t = (struct steer_tsig *)&t; /* not NULL: the call must reset it */
	enum steer_tsig_rc rc = steer_tsig_verify_request(&f->cfg->xfr, q, len, FUZZ_NOW, &t);
	ldns_pkt *pkt = NULL;

	*v = (struct verdict){.rc = rc, .key = -1};
	CHECK(rc >= STEER_TSIG_NONE && rc <= STEER_TSIG_FORMERR);
	CHECK((t != NULL) == (rc == STEER_TSIG_OK || rc == STEER_TSIG_BADTIME));
	if (t != NULL)
		CHECK(steer_tsig_key_index(t) >= 0 &&
		      (size_t)steer_tsig_key_index(t) < f->cfg->xfr.n_keys);
	/* a TSIG the verifier judged is one the answer path's scan finds */
	if (rc != STEER_TSIG_NONE && rc != STEER_TSIG_FORMERR)
		CHECK(tsig_off != 0);
	if (rc != STEER_TSIG_NONE && rc != STEER_TSIG_OK)
		check_error_answer(t, q, len, rc);
	if (rc == STEER_TSIG_OK) {
		v->key = steer_tsig_key_index(t);
		CHECK(ldns_wire2pkt(&pkt, q, len) == LDNS_STATUS_OK && ldns_pkt_tsig(pkt) != NULL);
		v->req_mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
		CHECK(v->req_mac != NULL);
		ldns_pkt_free(pkt);
	}
	steer_tsig_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fixture *f = fixture();
	struct verdict v;
	size_t tsig_off;
	uint8_t *q;

	if (size > STEER_DNS_TCP_MAX)
		return 0;
	/* a copy of exactly the input's size on the heap: ASan sees any read past it */
	q = malloc(size > 0 ? size : 1);
	CHECK(q != NULL);
	if (size > 0)
		memcpy(q, data, size);
	tsig_off = steer_dns_tsig_offset(q, size);
	CHECK(tsig_off == 0 || (tsig_off >= STEER_DNS_HDR_LEN && tsig_off < size));
	run_verify(f, q, size, tsig_off, &v);
	run_tcp(f, q, size, (const struct sockaddr *)&f->keyed, 0, &v);
	run_tcp(f, q, size, (const struct sockaddr *)&f->keyless, -1, &v);
	run_tcp(f, q, size, (const struct sockaddr *)&f->refused, -2, &v);
	if (tsig_off != 0)
		run_signed(f, q, size, tsig_off);
	ldns_rdf_deep_free(v.req_mac);
	free(q);
	return 0;
}
