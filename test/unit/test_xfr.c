/*
 * Zone versions and transfers (lib/xfr): serial arithmetic, versions made only on a
 * change, diffs, the journal's bound, restore from a real SQLite file, and AXFR/IXFR
 * message sequences parsed back with ldns. Configurations are real files in a temporary
 * folder; health changes are snapshots edited by hand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "store/store.h"
#include "testutil.h"
#include "xfr/tsig.h"
#include "xfr/xfr.h"
#include "zone/zone.h"

#define MAX_MSGS 64

struct fx {
	char dir[256];
	char path[512];
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_health_snapshot *snap;
	struct steer_store *store;
	struct steer_xfr *x;
	uint64_t now;
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
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A zone with static records, a failover balancer over two pools (IPv4 and IPv6
 * origins), a balancer with a hostname origin, and @p extra_txt TXT records. */
static void write_config(struct fx *f, uint32_t serial, uint32_t journal, int extra_txt)
{
	const size_t cap = 64 * (size_t)extra_txt + 4096;
	char *text = malloc(cap);
	size_t off = 0;

	assert_non_null(text);
	off += (size_t)snprintf(
		text + off, cap - off,
		"{\"listen\": [\"127.0.0.1:5399\"],\n"
		" \"zone\": {\"name\": \"lb.example.test\", \"soa\": {\"mname\": "
		"\"ns1.lb.example.test\", \"rname\": \"hostmaster.example.test\", \"serial\": %u,"
		" \"refresh\": 3600, \"retry\": 600, \"expire\": 604800, \"minimum\": 60, \"ttl\": "
		"3600}, \"ns\": [\"ns1.lb.example.test\"], \"records\": [\"ns1 3600 IN A "
		"192.0.2.1\", "
		"\"www 300 IN CNAME api\", \"info 300 IN TXT \\\"hello\\\"\"",
		serial);
	for (int i = 0; i < extra_txt; i++)
		off += (size_t)snprintf(text + off, cap - off,
					", \"t%d 300 IN TXT \\\"record %d\\\"\"", i, i);
	snprintf(
		text + off, cap - off,
		"]},\n \"balancers\": [{\"name\": \"api\", \"ttl\": 30, \"failover_ttl\": 5,"
		" \"default_pools\": [\"p\", \"b\"]},"
		" {\"name\": \"host\", \"ttl\": 60, \"default_pools\": [\"h\"]}],\n"
		" \"transfer\": {\"allow\": [{\"from\": \"127.0.0.1/32\"}, {\"from\": "
		"\"127.0.0.2/32\", \"key\": \"k1\"}], \"keys\": [{\"name\": \"k1\", \"algorithm\": "
		"\"hmac-sha256\", \"secret_file\": \"k1.key\"}], \"journal_versions\": %u},\n"
		" \"state\": {\"path\": \"steerd.db\"}}\n",
		journal);
	write_file(f->dir, "steerd.json", text, 0644);
	free(text);
	write_file(f->dir, "k1.key", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\n", 0600);
	write_file(f->dir, "pools/p.json",
		   "{\"name\": \"p\", \"origins\": [{\"name\": \"a\", \"address\": \"192.0.2.11\"},"
		   " {\"name\": \"b\", \"address\": \"192.0.2.12\"},"
		   " {\"name\": \"c\", \"address\": \"2001:db8::1\"}]}\n",
		   0644);
	write_file(f->dir, "pools/b.json",
		   "{\"name\": \"b\", \"origins\": [{\"name\": \"z\", \"address\": "
		   "\"192.0.2.21\"}]}\n",
		   0644);
	write_file(f->dir, "pools/h.json",
		   "{\"name\": \"h\", \"origins\": [{\"name\": \"x\", \"address\": "
		   "\"x.example.net\"}]}\n",
		   0644);
}

static uint64_t fake_now(void *arg)
{
	return *(uint64_t *)arg;
}

/* Load the config and zone of f->dir; a fresh all-unknown snapshot; the versions. */
static void load(struct fx *f)
{
	struct steer_errs errs = {0};
	struct steer_health_dims dims;
	struct steer_store_opts so = {0};
	char db[600];

	assert_int_equal(steer_config_load(f->path, &f->cfg, &errs), 0);
	assert_int_equal(steer_zone_new(f->cfg, &f->zone, &errs), 0);
	steer_errs_fini(&errs);
	dims = (struct steer_health_dims){f->cfg->n_origins, f->cfg->n_pools, f->cfg->n_balancers};
	f->snap = steer_health_snapshot_new_dims(&dims, 1);
	assert_non_null(f->snap);
	snprintf(db, sizeof(db), "%s/steerd.db", f->dir);
	so.path = db;
	assert_int_equal(steer_store_new(&so, &f->store), 0);
	assert_int_equal(steer_xfr_new(f->cfg, f->store, &f->x, NULL), 0);
	steer_xfr_set_clock(f->x, fake_now, &f->now);
}

static void unload(struct fx *f)
{
	steer_xfr_free(f->x);
	steer_store_free(f->store);
	steer_health_snapshot_free(f->snap);
	steer_zone_free(f->zone);
	steer_config_free(f->cfg);
	f->x = NULL;
	f->store = NULL;
	f->snap = NULL;
	f->zone = NULL;
	f->cfg = NULL;
}

static struct fx *fx_new(uint32_t serial, uint32_t journal, int extra_txt)
{
	struct fx *f = calloc(1, sizeof(*f));
	char pools[300];

	assert_non_null(f);
	assert_int_equal(steer_test_tmpdir(f->dir, sizeof(f->dir), "test_xfr"), 0);
	snprintf(pools, sizeof(pools), "%s/pools", f->dir);
	assert_int_equal(mkdir(pools, 0755), 0);
	snprintf(f->path, sizeof(f->path), "%s/steerd.json", f->dir);
	f->now = 1700000000;
	write_config(f, serial, journal, extra_txt);
	load(f);
	return f;
}

static void fx_free(struct fx *f)
{
	unload(f);
	steer_test_rm_rf(f->dir);
	free(f);
}

/* Set the probed state of origin @p name of pool @p pool. */
static void set_state(struct fx *f, const char *pool, const char *name, enum steer_health_state s)
{
	for (size_t i = 0; i < f->cfg->n_pools; i++) {
		const struct steer_pool *p = &f->cfg->pools[i];

		for (size_t k = 0; strcmp(p->name, pool) == 0 && k < p->n_origins; k++) {
			if (strcmp(p->origins[k].name, name) == 0) {
				f->snap->state[p->origins[k].index] = (uint8_t)s;
				return;
			}
		}
	}
	fail_msg("no origin %s/%s", pool, name);
}

static uint32_t update(struct fx *f, bool want_changed)
{
	bool changed = !want_changed;
	uint32_t serial = 0;

	assert_int_equal(steer_xfr_update(f->x, f->cfg, f->zone, f->snap, &changed, &serial, NULL),
			 0);
	assert_int_equal(changed, want_changed);
	assert_int_equal(serial, steer_xfr_serial(f->x));
	return serial;
}

static int collect(void *arg, const uint8_t *msg, size_t len)
{
	struct msgs *m = arg;

	assert_true(m->n < MAX_MSGS);
	assert_true(len <= STEER_DNS_TCP_MAX);
	m->m[m->n] = malloc(len);
	assert_non_null(m->m[m->n]);
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

/* A query for the apex: AXFR, or IXFR with @p serial in the authority section. */
static uint8_t *query(uint16_t type, uint32_t serial, size_t *len)
{
	ldns_rdf *apex = ldns_dname_new_frm_str("lb.example.test.");
	ldns_pkt *p = ldns_pkt_query_new(apex, (ldns_rr_type)type, LDNS_RR_CLASS_IN, 0);
	uint8_t *wire = NULL;

	assert_non_null(p);
	ldns_pkt_set_id(p, 4242);
	if (type == LDNS_RR_TYPE_IXFR) {
		char soa[128];
		ldns_rr *rr = NULL;

		snprintf(soa, sizeof(soa), "lb.example.test. 0 IN SOA . . %u 0 0 0 0", serial);
		assert_int_equal(ldns_rr_new_frm_str(&rr, soa, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static void peer(struct sockaddr_in *sin, const char *ip)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

/* Ask, check every message (ID, QR, AA, RCODE @p rcode), return every answer RR in order. */
static ldns_rr_list *ask(struct fx *f, uint16_t type, uint32_t serial, const char *from, int rcode,
			 size_t *n_msgs)
{
	struct sockaddr_in sin;
	struct msgs m = {0};
	size_t qlen;
	uint8_t *q = query(type, serial, &qlen);
	ldns_rr_list *all = ldns_rr_list_new();

	peer(&sin, from);
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		0);
	assert_true(m.n >= 1);
	for (size_t i = 0; i < m.n; i++) {
		ldns_pkt *p = NULL;

		assert_int_equal(ldns_wire2pkt(&p, m.m[i], m.len[i]), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(p), 4242);
		assert_true(ldns_pkt_qr(p));
		assert_int_equal(ldns_pkt_get_rcode(p), rcode);
		assert_true(rcode != 0 || ldns_pkt_aa(p));
		for (size_t k = 0; k < ldns_pkt_ancount(p); k++)
			ldns_rr_list_push_rr(all,
					     ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_answer(p), k)));
		ldns_pkt_free(p);
	}
	if (n_msgs != NULL)
		*n_msgs = m.n;
	msgs_fini(&m);
	free(q);
	return all;
}

static uint32_t soa_serial(const ldns_rr *rr)
{
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	return ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
}

/* Presentation form of RR @p i of @p l, without the trailing newline. */
static char *rr_text(const ldns_rr_list *l, size_t i)
{
	char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static void assert_rr(const ldns_rr_list *l, size_t i, const char *want)
{
	char *s = rr_text(l, i);

	if (strcmp(s, want) != 0)
		fail_msg("rr %zu: got \"%s\", want \"%s\"", i, s, want);
	free(s);
}

static bool has_rr(const ldns_rr_list *l, const char *want)
{
	bool found = false;

	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && !found; i++) {
		char *s = rr_text(l, i);

		found = strcmp(s, want) == 0;
		free(s);
	}
	return found;
}

/* ---- tests ---- */

static void test_serial_arithmetic(void **state)
{
	(void)state;
	assert_true(steer_xfr_serial_gt(2, 1));
	assert_false(steer_xfr_serial_gt(1, 2));
	assert_false(steer_xfr_serial_gt(7, 7));
	assert_true(steer_xfr_serial_gt(0, 0xffffffffu)); /* wrapped */
	assert_true(steer_xfr_serial_gt(5, 0xfffffff0u));
	assert_false(steer_xfr_serial_gt(0x80000000u, 0)); /* undefined: never greater */
	assert_false(steer_xfr_serial_gt(0, 0x80000000u));
	assert_int_equal(steer_xfr_serial_next(STEER_SERIAL_INCREMENT, 41, 1700000000), 42);
	assert_int_equal(steer_xfr_serial_next(STEER_SERIAL_INCREMENT, 0xffffffffu, 0), 0);
	assert_int_equal(steer_xfr_serial_next(STEER_SERIAL_UNIXTIME, 5, 1700000000), 1700000000);
	assert_int_equal(steer_xfr_serial_next(STEER_SERIAL_UNIXTIME, 1700000000, 1700000000),
			 1700000001);
	assert_int_equal(steer_xfr_serial_next(STEER_SERIAL_UNIXTIME, 1800000000, 1700000000),
			 1800000001);
}

static void test_axfr_and_versions(void **state)
{
	struct fx *f = fx_new(7, 100, 0);
	ldns_rr_list *l;
	size_t n;

	(void)state;
	assert_int_equal(update(f, true), 7);  /* the first version: the configured serial */
	assert_int_equal(update(f, false), 7); /* nothing changed: no new version */
	l = ask(f, LDNS_RR_TYPE_AXFR, 0, "127.0.0.1", 0, &n);
	assert_int_equal(n, 1);
	n = ldns_rr_list_rr_count(l);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 0)), 7);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, n - 1)), 7);
	/* canonical order: apex first (NS after SOA), then names by their labels */
	assert_rr(l, 1, "lb.example.test.\t3600\tIN\tNS\tns1.lb.example.test.");
	assert_true(has_rr(l, "api.lb.example.test.\t30\tIN\tA\t192.0.2.11"));
	assert_true(has_rr(l, "api.lb.example.test.\t30\tIN\tA\t192.0.2.12"));
	assert_true(has_rr(l, "api.lb.example.test.\t30\tIN\tAAAA\t2001:db8::1"));
	assert_true(has_rr(l, "host.lb.example.test.\t60\tIN\tCNAME\tx.example.net."));
	assert_true(has_rr(l, "www.lb.example.test.\t300\tIN\tCNAME\tapi.lb.example.test."));
	assert_true(has_rr(l, "info.lb.example.test.\t300\tIN\tTXT\t\"hello\""));
	assert_false(has_rr(l, "api.lb.example.test.\t30\tIN\tA\t192.0.2.21"));
	assert_int_equal(n, 10); /* SOA NS api*3 host info ns1 www SOA */
	ldns_rr_list_deep_free(l);
	fx_free(f);
}

static void test_ixfr_diffs(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	ldns_rr_list *l;

	(void)state;
	update(f, true);
	set_state(f, "p", "b", STEER_HEALTH_DOWN);
	assert_int_equal(update(f, true), 2);
	/* RFC 1995 §4: new SOA, old SOA, deletions, new SOA, additions, new SOA */
	l = ask(f, LDNS_RR_TYPE_IXFR, 1, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 5);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 0)), 2);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 1)), 1);
	assert_rr(l, 2, "api.lb.example.test.\t30\tIN\tA\t192.0.2.12");
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 3)), 2);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 4)), 2);
	ldns_rr_list_deep_free(l);
	/* the first pool fails: the backup with failover_ttl; the TTL change is a diff too */
	set_state(f, "p", "a", STEER_HEALTH_DOWN);
	set_state(f, "p", "c", STEER_HEALTH_DOWN);
	assert_int_equal(update(f, true), 3);
	l = ask(f, LDNS_RR_TYPE_IXFR, 2, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 7);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 1)), 2);
	assert_rr(l, 2, "api.lb.example.test.\t30\tIN\tA\t192.0.2.11");
	assert_rr(l, 3, "api.lb.example.test.\t30\tIN\tAAAA\t2001:db8::1");
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 4)), 3);
	assert_rr(l, 5, "api.lb.example.test.\t5\tIN\tA\t192.0.2.21");
	ldns_rr_list_deep_free(l);
	/* from serial 1: both diffs, in order */
	l = ask(f, LDNS_RR_TYPE_IXFR, 1, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 1 + 3 + 5 + 1);
	ldns_rr_list_deep_free(l);
	/* up to date, or newer: the SOA alone */
	l = ask(f, LDNS_RR_TYPE_IXFR, 3, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_deep_free(l);
	l = ask(f, LDNS_RR_TYPE_IXFR, 99, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_deep_free(l);
	/* unknown serial: the whole zone */
	l = ask(f, LDNS_RR_TYPE_IXFR, 0, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 8); /* 6 RRs between the SOAs */
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 0)), 3);
	assert_true(has_rr(l, "api.lb.example.test.\t5\tIN\tA\t192.0.2.21"));
	ldns_rr_list_deep_free(l);
	fx_free(f);
}

static void test_journal_bound(void **state)
{
	struct fx *f = fx_new(1, 2, 0);
	ldns_rr_list *l;

	(void)state;
	update(f, true);
	for (int i = 0; i < 4; i++) { /* serials 2..5 */
		set_state(f, "p", "b", i % 2 == 0 ? STEER_HEALTH_DOWN : STEER_HEALTH_UP);
		assert_int_equal(update(f, true), 2 + i);
	}
	l = ask(f, LDNS_RR_TYPE_IXFR, 3, "127.0.0.1", 0, NULL); /* 3->4->5: kept */
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 1)), 3);
	assert_int_equal(ldns_rr_list_rr_count(l), 1 + 3 + 3 + 1);
	ldns_rr_list_deep_free(l);
	l = ask(f, LDNS_RR_TYPE_IXFR, 2, "127.0.0.1", 0, NULL); /* 2->3 dropped: AXFR form */
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(l, 1)), LDNS_RR_TYPE_NS);
	ldns_rr_list_deep_free(l);
	fx_free(f);
}

static void test_restore(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	ldns_rr_list *l;

	(void)state;
	update(f, true);
	set_state(f, "p", "b", STEER_HEALTH_DOWN);
	assert_int_equal(update(f, true), 2);
	assert_int_equal(steer_store_flush(f->store, 5000), 0);
	/* a restart: the same health, so the restored version stays current */
	unload(f);
	load(f);
	assert_int_equal(steer_xfr_serial(f->x), 2);
	set_state(f, "p", "b", STEER_HEALTH_DOWN);
	assert_int_equal(update(f, false), 2);
	l = ask(f, LDNS_RR_TYPE_IXFR, 1, "127.0.0.1", 0, NULL); /* the journal came back too */
	assert_int_equal(ldns_rr_list_rr_count(l), 5);
	assert_rr(l, 2, "api.lb.example.test.\t30\tIN\tA\t192.0.2.12");
	ldns_rr_list_deep_free(l);
	/* another restart with b up again: serial 3, and the journal chains 1 -> 2 -> 3 */
	unload(f);
	load(f);
	assert_int_equal(update(f, true), 3);
	l = ask(f, LDNS_RR_TYPE_IXFR, 1, "127.0.0.1", 0, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 1 + 3 + 3 + 1);
	assert_rr(l, 6, "api.lb.example.test.\t30\tIN\tA\t192.0.2.12");
	ldns_rr_list_deep_free(l);
	assert_int_equal(steer_store_flush(f->store, 5000), 0);
	/* a restart with a lower configured serial: never backwards */
	unload(f);
	load(f);
	assert_int_equal(steer_xfr_serial(f->x), 3);
	assert_int_equal(update(f, false), 3);
	/* a higher configured serial: the serial jumps there */
	unload(f);
	write_config(f, 1000, 100, 0);
	load(f);
	assert_int_equal(update(f, true), 1000);
	fx_free(f);
}

static void test_unixtime_policy(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	struct steer_config *cfg = f->cfg;

	(void)state;
	cfg->xfr.serial_policy = STEER_SERIAL_UNIXTIME;
	assert_int_equal(update(f, true), 1700000000);
	set_state(f, "p", "b", STEER_HEALTH_DOWN);
	assert_int_equal(update(f, true), 1700000001); /* same second: + 1 */
	f->now += 60;
	set_state(f, "p", "b", STEER_HEALTH_UP);
	assert_int_equal(update(f, true), 1700000060);
	fx_free(f);
}

static void test_acl_tsig_declined(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	struct sockaddr_in sin;
	struct msgs m = {0};
	ldns_rr_list *l;
	size_t qlen;
	uint8_t *q = query(LDNS_RR_TYPE_AXFR, 0, &qlen);

	(void)state;
	update(f, true);
	l = ask(f, LDNS_RR_TYPE_AXFR, 0, "127.0.0.9", LDNS_RCODE_REFUSED, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 0);
	ldns_rr_list_deep_free(l);
	/* 127.0.0.2 needs key k1: unsigned is NOTAUTH */
	l = ask(f, LDNS_RR_TYPE_AXFR, 0, "127.0.0.2", LDNS_RCODE_NOTAUTH, NULL);
	assert_int_equal(ldns_rr_list_rr_count(l), 0);
	ldns_rr_list_deep_free(l);
	/* the apex in another case: the same zone */
	q[STEER_DNS_HDR_LEN + 1] = 'L'; /* case does not matter */
	peer(&sin, "127.0.0.1");
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		0);
	msgs_fini(&m);
	/* a name below (or beside) the apex: no zone starts there, NOTAUTH as NSD and Knot;
	 * from a source outside the ACL still REFUSED */
	q[STEER_DNS_HDR_LEN + 2] = 'x';
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.m[0][3] & 0x0f, LDNS_RCODE_NOTAUTH);
	assert_int_equal(m.m[0][6] | m.m[0][7], 0); /* no answer records */
	msgs_fini(&m);
	peer(&sin, "192.0.2.1");
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.m[0][3] & 0x0f, LDNS_RCODE_REFUSED);
	msgs_fini(&m);
	/* another type than AXFR/IXFR: left to the answer path */
	q[qlen - 3] = 1; /* QTYPE A */
	q[qlen - 4] = 0;
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		STEER_XFR_DECLINED);
	assert_int_equal(m.n, 0);
	free(q);
	fx_free(f);
}

static void test_many_messages(void **state)
{
	struct fx *f = fx_new(1, 100, 3000);
	ldns_rr_list *l;
	size_t n_msgs = 0;
	char *text = NULL;

	(void)state;
	update(f, true);
	l = ask(f, LDNS_RR_TYPE_AXFR, 0, "127.0.0.1", 0, &n_msgs);
	assert_true(n_msgs >= 2);
	assert_int_equal(ldns_rr_list_rr_count(l), 10 + 3000);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 0)), 1);
	assert_int_equal(soa_serial(ldns_rr_list_rr(l, 3009)), 1);
	ldns_rr_list_deep_free(l);
	assert_int_equal(steer_xfr_zone_text(f->x, &text), 0);
	assert_non_null(text);
	assert_true(strncmp(text, "lb.example.test.\t3600\tIN\tSOA\t", 29) == 0);
	assert_non_null(strstr(text, "t2999.lb.example.test.\t300\tIN\tTXT\t\"record 2999\"\n"));
	free(text);
	fx_free(f);
}

/* Over UDP the answer path answers IXFR with the SOA of the current serial. */
static void test_udp_ixfr_soa(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	uint64_t rng = 1;
	struct steer_query_ctx ctx = {.snap = f->snap, .rng = &rng};
	uint8_t out[STEER_DNS_UDP_MAX];
	size_t qlen, len;
	uint8_t *q = query(LDNS_RR_TYPE_IXFR, 1, &qlen);
	ldns_pkt *p = NULL;

	(void)state;
	update(f, true);
	set_state(f, "p", "b", STEER_HEALTH_DOWN);
	steer_zone_set_serial(f->zone, update(f, true));
	len = steer_zone_answer(f->zone, &ctx, q, qlen, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal(ldns_wire2pkt(&p, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(soa_serial(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 2);
	ldns_pkt_free(p);
	free(q);
	q = query(LDNS_RR_TYPE_AXFR, 0, &qlen);
	len = steer_zone_answer(f->zone, &ctx, q, qlen, out, sizeof(out));
	assert_int_equal(ldns_wire2pkt(&p, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(p);
	free(q);
	fx_free(f);
}

/* @p q (a query of @p len bytes, from query()) signed by ldns with key @p key. */
static uint8_t *sign_query(uint8_t *q, size_t *len, const char *key, const char *secret)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;

	assert_int_equal(ldns_wire2pkt(&p, q, *len), LDNS_STATUS_OK);
	free(q);
	assert_int_equal(ldns_pkt_tsig_sign(p, key, secret, 300, "hmac-sha256.", NULL),
			 LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

/* A response carrying a TSIG is never answered, whatever the TSIG: a BADKEY answer to a
 * response could bounce between two servers for ever. */
static void test_signed_response_dropped(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	uint64_t rng = 1;
	struct steer_query_ctx ctx = {.snap = f->snap, .rng = &rng};
	uint8_t out[STEER_DNS_UDP_MAX];
	size_t qlen, off;
	uint8_t *q = query(LDNS_RR_TYPE_SOA, 0, &qlen);

	(void)state;
	update(f, true);
	q = sign_query(q, &qlen, "nokey.", "c2VjcmV0");
	off = steer_dns_tsig_offset(q, qlen);
	assert_true(off > 0);
	/* as a query: NOTAUTH (BADKEY) */
	assert_true(steer_xfr_answer_signed(f->x, f->zone, &ctx, q, qlen, off, out, sizeof(out)) >
		    0);
	assert_int_equal(out[3] & 0x0f, LDNS_RCODE_NOTAUTH);
	q[2] |= 0x80; /* QR: the same bytes as a response */
	assert_int_equal(
		steer_xfr_answer_signed(f->x, f->zone, &ctx, q, qlen, off, out, sizeof(out)), 0);
	ctx.tcp = true;
	assert_int_equal(
		steer_xfr_answer_signed(f->x, f->zone, &ctx, q, qlen, off, out, sizeof(out)), 0);
	free(q);
	fx_free(f);
}

/* Two TSIG RRs in a transfer request: FORMERR before ldns parses it (ldns would keep the
 * last and leak the others: the ASan build of this test fails on that leak). */
static void test_two_tsigs_formerr(void **state)
{
	struct fx *f = fx_new(1, 100, 0);
	struct sockaddr_in sin;
	struct msgs m = {0};
	size_t qlen, off;
	uint8_t *q = query(LDNS_RR_TYPE_AXFR, 0, &qlen), *two;
	ldns_pkt *p = NULL;

	(void)state;
	update(f, true);
	q = sign_query(q, &qlen, "k1.", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=");
	off = steer_dns_tsig_offset(q, qlen);
	assert_true(off > 0);
	/* the TSIG RR twice, ARCOUNT 2 */
	two = malloc(qlen + (qlen - off));
	assert_non_null(two);
	memcpy(two, q, qlen);
	memcpy(two + qlen, q + off, qlen - off);
	two[11] = 2;
	assert_true(steer_tsig_misplaced(two, 2 * qlen - off));
	assert_false(steer_tsig_misplaced(q, qlen));
	peer(&sin, "127.0.0.2");
	assert_int_equal(steer_xfr_answer_tcp(f->x, f->zone, two, 2 * qlen - off,
					      (struct sockaddr *)&sin, collect, &m),
			 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(ldns_wire2pkt(&p, m.m[0], m.len[0]), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	msgs_fini(&m);
	/* the same request signed once transfers (ldns signed it at the wall clock) */
	f->now = (uint64_t)time(NULL);
	assert_int_equal(
		steer_xfr_answer_tcp(f->x, f->zone, q, qlen, (struct sockaddr *)&sin, collect, &m),
		0);
	assert_int_equal(ldns_wire2pkt(&p, m.m[0], m.len[0]), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	msgs_fini(&m);
	free(two);
	free(q);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_arithmetic),
		cmocka_unit_test(test_axfr_and_versions),
		cmocka_unit_test(test_ixfr_diffs),
		cmocka_unit_test(test_journal_bound),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_unixtime_policy),
		cmocka_unit_test(test_acl_tsig_declined),
		cmocka_unit_test(test_many_messages),
		cmocka_unit_test(test_udp_ixfr_soa),
		cmocka_unit_test(test_signed_response_dropped),
		cmocka_unit_test(test_two_tsigs_formerr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
