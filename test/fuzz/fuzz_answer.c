/*
 * Fuzz the answer path. One zone is built at start from test/data/bb; each input chooses
 * a health snapshot (origin states and overrides, pool overrides, failback pins), the
 * client and UDP or TCP, and the rest of it is the query. Checked for every response:
 * empty exactly when the query has no header or QR=1; otherwise it parses back with ldns,
 * with the same ID, QR=1, opcode and RD copied, the question echoed byte for byte when the
 * query had one, never SERVFAIL, and within the UDP size limit (TC only over UDP, and then
 * with empty answer and authority sections).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "zone/zone.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define PREFIX_LEN 3  /* flags, client byte, number of health edits */
#define MAX_EDITS  32 /* health edits per input, at most */
#define FLAG_TCP   0x01
#define FLAG_V6    0x02

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The zone and the snapshot every input reuses (built once, never freed). */
struct fixture {
	struct steer_config *cfg;
	struct steer_zone *zone;
	struct steer_health_snapshot *snap;
	size_t n_slots; /* origins + pools + balancers: what a health edit can address */
};

static struct fixture *fixture(void)
{
	static struct fixture f;
	struct steer_errs errs = {0};
	struct steer_health_dims dims;
	const char *path = getenv("STEER_FUZZ_CONFIG");

	if (f.zone != NULL)
		return &f;
	if (path == NULL)
		path = STEER_SRC_DIR "/test/data/bb/steerd.json";
	if (steer_config_load(path, &f.cfg, &errs) != 0 ||
	    steer_zone_new(f.cfg, &f.zone, &errs) != 0) {
		fprintf(stderr, "fuzz_answer: cannot build the zone of %s\n", path);
		abort();
	}
	steer_errs_fini(&errs);
	dims = (struct steer_health_dims){f.cfg->n_origins, f.cfg->n_pools, f.cfg->n_balancers};
	f.snap = steer_health_snapshot_new_dims(&dims, 1);
	CHECK(f.snap != NULL);
	f.n_slots = dims.n_origins + dims.n_pools + dims.n_balancers;
	return &f;
}

/* One edit: @p slot addresses an origin, then a pool, then a balancer; @p v its value. */
static void apply_edit(const struct fixture *f, size_t slot, uint8_t v)
{
	struct steer_health_snapshot *s = f->snap;

	if (slot < s->n_origins) {
		s->state[slot] = (uint8_t)(v % 3);
		s->origin_override[slot] = (uint8_t)((v / 3) % 4);
		return;
	}
	slot -= s->n_origins;
	if (slot < s->n_pools) {
		s->pool_override[slot] = (uint8_t)(v % 4);
		return;
	}
	slot -= s->n_pools;
	/* what failback control can hold: no pin, or a position in default_pools, or
	 * n_pools for the fallback pool */
	s->pin[slot] = (int32_t)(v % (f->cfg->balancers[slot].n_pools + 2)) - 1;
}

/* Reset the snapshot, then apply @p n edits of two bytes each from @p p. */
static void set_health(const struct fixture *f, const uint8_t *p, size_t n)
{
	struct steer_health_snapshot *s = f->snap;

	memset(s->state, STEER_HEALTH_UNKNOWN, s->n_origins);
	memset(s->origin_override, STEER_OVERRIDE_NONE, s->n_origins);
	memset(s->pool_override, STEER_OVERRIDE_NONE, s->n_pools);
	for (size_t i = 0; i < s->n_balancers; i++)
		s->pin[i] = STEER_PIN_NONE;
	for (size_t i = 0; i < n && f->n_slots > 0; i++)
		apply_edit(f, p[2 * i] % f->n_slots, p[2 * i + 1]);
}

/*
 * End of the question of @p q (RFC 1035 §4.1.2), read independently of the code under
 * test: QDCOUNT 1, a name of plain labels (no pointer) of at most 255 bytes, type and
 * class. @return the offset just past it, or 0 when the query has no such question.
 */
static size_t question_end(const uint8_t *q, size_t len)
{
	size_t o = STEER_DNS_HDR_LEN, name = 0;

	if (len < STEER_DNS_HDR_LEN || q[4] != 0 || q[5] != 1)
		return 0;
	for (;;) {
		if (o >= len || (q[o] & 0xc0) != 0)
			return 0;
		name += 1u + q[o];
		if (name > STEER_DNS_MAX_NAME)
			return 0;
		if (q[o] == 0)
			break;
		o += 1u + q[o];
	}
	o++;
	return o + 4 <= len ? o + 4 : 0;
}

/* The UDP size the response must fit: 512, or the EDNS size clamped to 512..1232. */
static size_t udp_limit(const uint8_t *q, size_t len)
{
	struct steer_dns_query pq;
	size_t size;

	(void)steer_dns_parse_query(q, len, &pq);
	if (!pq.edns)
		return STEER_DNS_UDP_MIN;
	size = pq.edns_udp_size;
	return size < STEER_DNS_UDP_MIN   ? STEER_DNS_UDP_MIN
	       : size > STEER_DNS_UDP_MAX ? STEER_DNS_UDP_MAX
					  : size;
}

static void check_response(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen, bool tcp)
{
	const size_t qend = question_end(q, qlen);
	ldns_pkt *pkt = NULL;

	if (qlen < STEER_DNS_HDR_LEN || (q[2] & 0x80) != 0) {
		CHECK(rlen == 0); /* no header, or a response: nothing is sent */
		return;
	}
	CHECK(rlen >= STEER_DNS_HDR_LEN);
	CHECK(rlen <= (tcp ? (size_t)STEER_DNS_TCP_MAX : udp_limit(q, qlen)));
	CHECK(ldns_wire2pkt(&pkt, r, rlen) == LDNS_STATUS_OK);
	CHECK(ldns_pkt_id(pkt) == ((q[0] << 8) | q[1]));
	CHECK(ldns_pkt_qr(pkt));
	CHECK((r[2] & 0x79) == (q[2] & 0x79)); /* opcode and RD copied */
	CHECK(ldns_pkt_get_rcode(pkt) != LDNS_RCODE_SERVFAIL);
	if (ldns_pkt_tc(pkt))
		CHECK(!tcp && ldns_pkt_ancount(pkt) == 0 && ldns_pkt_nscount(pkt) == 0);
	if (qend > 0) {
		CHECK(ldns_pkt_qdcount(pkt) == 1);
		CHECK(rlen >= qend && memcmp(r + STEER_DNS_HDR_LEN, q + STEER_DNS_HDR_LEN,
					     qend - STEER_DNS_HDR_LEN) == 0);
	}
	ldns_pkt_free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fixture *f = fixture();
	struct steer_client client = {.family = AF_INET, .addr = {192, 0, 2, 0}};
	struct steer_query_ctx ctx = {.snap = f->snap, .client = &client};
	size_t n_edits, head, cap, len;
	uint64_t rng;
	uint8_t *out;

	if (size < PREFIX_LEN)
		return 0;
	n_edits = data[2] % (MAX_EDITS + 1);
	head = PREFIX_LEN + 2 * n_edits;
	if (size < head || size - head > STEER_DNS_TCP_MAX)
		return 0;
	set_health(f, data + PREFIX_LEN, n_edits);
	ctx.tcp = (data[0] & FLAG_TCP) != 0;
	if ((data[0] & FLAG_V6) != 0)
		client =
			(struct steer_client){.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8}};
	client.addr[client.family == AF_INET ? 3 : 15] = data[1];
	rng = 0x9e3779b97f4a7c15ull * (data[1] + 1u);
	ctx.rng = &rng;
	/* exactly what the server gives: 1232 bytes for UDP, 64 KiB for TCP, on the heap so
	 * that ASan sees a write past the end */
	cap = ctx.tcp ? STEER_DNS_TCP_MAX : STEER_DNS_UDP_MAX;
	out = malloc(cap);
	CHECK(out != NULL);
	len = steer_zone_answer(f->zone, &ctx, data + head, size - head, out, cap);
	CHECK(len <= cap);
	check_response(data + head, size - head, out, len, ctx.tcp);
	free(out);
	return 0;
}
