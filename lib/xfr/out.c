/*
 * AXFR (RFC 5936) and IXFR (RFC 1995) answers over TCP: the request is checked (a
 * transfer of the apex, ACL, TSIG), then the current version, or the journal's chain of
 * diffs, is written as messages of at most 64 KiB, many RRs each, owners compressed
 * against the question (every owner is in the zone), each message TSIG-signed when the
 * request was (RFC 8945 §5.3.1).
 */
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "xfr/acl.h"
#include "xfr/tsig.h"
#include "xfr/xfr_int.h"
#include "zone/zone.h"

#define OPCODE_QUERY   0
#define RCODE_NOTAUTH  9
#define OPT_LEN        11
#define ERR_ANSWER_MAX 1024

/* The parts of a transfer request the answer needs. */
struct req {
	const uint8_t *q;
	size_t qlen;
	size_t qend; /* offset just past the question */
	uint16_t qtype;
	bool edns;
	bool not_apex;   /* a transfer of a name that is not the zone's apex */
	uint32_t serial; /* IXFR: the client's serial (SOA in the authority section) */
};

/* Messages being written. */
struct out {
	const struct req *r;
	const struct steer_zone *zone;
	struct steer_tsig *tsig; /* NULL: unsigned */
	steer_xfr_emit_fn *emit;
	void *arg;
	uint8_t *buf; /* STEER_DNS_TCP_MAX bytes */
	size_t len;
	uint16_t an;
	const uint8_t *apex;
	size_t apex_len;
	int rc;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Header (QR, AA, the request's ID and RD) and question, echoed as sent. */
static size_t write_head(uint8_t *buf, const struct req *r, int rcode)
{
	memcpy(buf, r->q, 4);
	buf[2] = (uint8_t)(0x80 | 0x04 | (r->q[2] & 0x01)); /* QR, opcode QUERY, AA, RD */
	buf[3] = (uint8_t)(rcode & 0x0f);
	put16(buf + 4, 1);
	memset(buf + 6, 0, 6);
	memcpy(buf + STEER_DNS_HDR_LEN, r->q + STEER_DNS_HDR_LEN, r->qend - STEER_DNS_HDR_LEN);
	return r->qend;
}

/*
 * Header and question of @p q, or STEER_XFR_DECLINED when it is not an AXFR/IXFR query
 * of class IN (the usual answer path then answers it); r->not_apex tells whether its name
 * is other than @p apex.
 */
static int parse_question(struct req *r, const uint8_t *apex, size_t apex_len)
{
	uint8_t name[STEER_DNS_MAX_NAME];
	size_t off = STEER_DNS_HDR_LEN, n = 0;

	if (r->qlen < STEER_DNS_HDR_LEN || (r->q[2] & 0x80) != 0 ||
	    ((r->q[2] >> 3) & 0x0f) != OPCODE_QUERY || get16(r->q + 4) != 1)
		return STEER_XFR_DECLINED;
	while (off < r->qlen && r->q[off] != 0 && n < sizeof(name)) {
		size_t l = r->q[off];

		if (l > 63 || off + 1 + l > r->qlen || n + 1 + l >= sizeof(name))
			return STEER_XFR_DECLINED;
		name[n++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			name[n++] = lower(r->q[off + 1 + i]);
		off += 1 + l;
	}
	if (off + 5 > r->qlen || r->q[off] != 0)
		return STEER_XFR_DECLINED;
	name[n++] = 0;
	r->qtype = get16(r->q + off + 1);
	r->qend = off + 5;
	if ((r->qtype != STEER_RR_AXFR && r->qtype != STEER_RR_IXFR) ||
	    get16(r->q + off + 3) != STEER_CLASS_IN)
		return STEER_XFR_DECLINED;
	r->not_apex = n != apex_len || memcmp(name, apex, n) != 0;
	return 0;
}

/* EDNS, and for IXFR the client's serial. @return 0 or STEER_RCODE_FORMERR. */
static int parse_rest(struct req *r)
{
	ldns_pkt *pkt = NULL;
	int rc = STEER_RCODE_FORMERR;

	/* several TSIG RRs would leak in ldns: FORMERR before it sees them */
	if (steer_tsig_misplaced(r->q, r->qlen) ||
	    ldns_wire2pkt(&pkt, r->q, r->qlen) != LDNS_STATUS_OK)
		return rc;
	r->edns = ldns_pkt_edns(pkt);
	if (r->qtype == STEER_RR_AXFR) {
		rc = 0;
	} else if (ldns_pkt_nscount(pkt) >= 1) {
		/* RFC 1995 §3: the authority section holds the client's SOA */
		ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(pkt), 0);

		if (ldns_rr_get_type(soa) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(soa) == 7) {
			r->serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
			rc = 0;
		}
	}
	ldns_pkt_free(pkt);
	return rc;
}

/* A refusal or error: header and question, no records. */
static int answer_error(const struct req *r, int rcode, steer_xfr_emit_fn *emit, void *arg)
{
	uint8_t buf[ERR_ANSWER_MAX];
	size_t len = write_head(buf, r, rcode);

	return emit(arg, buf, len);
}

static void msg_begin(struct out *o)
{
	o->len = write_head(o->buf, o->r, STEER_RCODE_NOERROR);
	o->an = 0;
}

/* Finish the message (counts, OPT, TSIG) and hand it over. */
static void msg_end(struct out *o)
{
	if (o->rc < 0)
		return;
	put16(o->buf + 6, o->an);
	if (o->r->edns) {
		static const uint8_t opt[OPT_LEN] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

		memcpy(o->buf + o->len, opt, OPT_LEN); /* root, OPT, 1232, no flags, no options */
		o->len += OPT_LEN;
		put16(o->buf + 10, 1);
	}
	if (o->tsig != NULL &&
	    steer_tsig_sign_answer(o->tsig, o->buf, &o->len, STEER_DNS_TCP_MAX) < 0) {
		o->rc = STEER_ENOSPACE;
		return;
	}
	o->rc = o->emit(o->arg, o->buf, o->len);
}

/* Append one RR, starting a new message when this one is full. */
static void msg_put(struct out *o, const struct xrr *rr)
{
	const size_t limit = STEER_DNS_TCP_MAX - STEER_XFR_MSG_RESERVE;
	const size_t rest = (size_t)rr->len - rr->owner_len;
	size_t prefix = rr->owner_len;
	bool ptr = false;

	if (o->rc < 0)
		return;
	/* in-zone owner: its labels above the apex, then a pointer to the question's name */
	if (rr->owner_len >= o->apex_len &&
	    memcmp(rr->p + rr->owner_len - o->apex_len, o->apex, o->apex_len) == 0) {
		prefix = rr->owner_len - o->apex_len;
		ptr = true;
	}
	if (o->len + prefix + 2 + rest > limit && o->an > 0) {
		msg_end(o);
		msg_begin(o);
	}
	if (o->rc < 0 || o->len + prefix + 2 + rest > limit) {
		o->rc = o->rc < 0 ? o->rc : STEER_ENOSPACE;
		return;
	}
	memcpy(o->buf + o->len, rr->p, prefix);
	o->len += prefix;
	if (ptr) {
		put16(o->buf + o->len, 0xc000 | STEER_DNS_HDR_LEN);
		o->len += 2;
	}
	memcpy(o->buf + o->len, rr->p + rr->owner_len, rest);
	o->len += rest;
	o->an++;
}

static void put_all(struct out *o, const struct rrs *l)
{
	for (size_t i = 0; i < l->n && o->rc >= 0; i++)
		msg_put(o, &l->v[i]);
}

/* RFC 1995 §4: the current SOA, then per diff the old SOA, what it deletes, the new SOA,
 * what it adds; the current SOA again. No diffs and @p full: the whole zone (AXFR form);
 * no diffs and not @p full: the current SOA alone (the client is up to date). */
static void write_transfer(struct out *o, const struct version *v, struct diff **chain, size_t n,
			   bool full)
{
	msg_begin(o);
	msg_put(o, &v->soa.v[0]);
	if (n == 0 && full)
		put_all(o, &v->rrs);
	for (size_t i = 0; i < n; i++) {
		msg_put(o, &chain[i]->soa.v[0]);
		put_all(o, &chain[i]->del);
		msg_put(o, &chain[i]->soa.v[1]);
		put_all(o, &chain[i]->add);
	}
	if (n > 0 || full)
		msg_put(o, &v->soa.v[0]);
	msg_end(o);
}

static int transfer(struct steer_xfr *x, struct out *o)
{
	const bool ixfr = o->r->qtype == STEER_RR_IXFR;
	struct diff **chain = NULL;
	size_t n = 0;
	struct version *v = xfr_take(x, ixfr, o->r->serial, &chain, &n);
	bool current;

	if (v == NULL)
		return answer_error(o->r, STEER_RCODE_SERVFAIL, o->emit, o->arg);
	/* RFC 1995 §2: a client as new as the server, or newer, gets the SOA alone */
	current =
		ixfr && (v->serial == o->r->serial || steer_xfr_serial_gt(o->r->serial, v->serial));
	o->buf = malloc(STEER_DNS_TCP_MAX);
	if (o->buf == NULL)
		o->rc = STEER_ENOMEM;
	else
		write_transfer(o, v, chain, current ? 0 : n, !current);
	free(o->buf);
	for (size_t i = 0; i < n; i++)
		diff_unref(chain[i]);
	free(chain);
	version_unref(v);
	return o->rc;
}

/* NOTAUTH with the TSIG error @p v (RFC 8945 §5.3.2); @p t signs it for BADTIME. */
static int answer_tsig_error(const struct req *r, const struct steer_tsig *t, enum steer_tsig_rc v,
			     uint64_t now, steer_xfr_emit_fn *emit, void *arg)
{
	uint8_t buf[ERR_ANSWER_MAX];
	size_t len = 0;

	if (steer_tsig_error_answer(t, r->q, r->qlen, v, now, buf, &len, sizeof(buf)) < 0)
		return answer_error(r, RCODE_NOTAUTH, emit, arg);
	return emit(arg, buf, len);
}

/*
 * TSIG against the ACL entry @p idx: @return 0 to go on (*t set when the request was
 * signed), or 1 when a refusal was sent (its emit result in *rc).
 */
static int check_tsig(struct steer_xfr *x, const struct steer_xfr_conf *conf, int idx,
		      const struct req *r, struct steer_tsig **t, steer_xfr_emit_fn *emit,
		      void *arg, int *rc)
{
	const uint64_t now = x->clock(x->clock_arg);
	const int need = conf->allow[idx].key;
	enum steer_tsig_rc v = steer_tsig_verify_request(conf, r->q, r->qlen, now, t);

	if (v == STEER_TSIG_OK && (need < 0 || steer_tsig_key_index(*t) == need))
		return 0;
	if (v == STEER_TSIG_NONE && need < 0)
		return 0;
	if (v == STEER_TSIG_FORMERR)
		*rc = answer_error(r, STEER_RCODE_FORMERR, emit, arg);
	else if (v == STEER_TSIG_NONE)
		*rc = answer_error(r, RCODE_NOTAUTH, emit, arg); /* unsigned: no TSIG to answer */
	else if (v == STEER_TSIG_BADTIME)
		*rc = answer_tsig_error(r, *t, v, now, emit, arg);
	else if (v == STEER_TSIG_BADKEY || v == STEER_TSIG_BADSIG) /* RFC 8945 §5.2 */
		*rc = answer_tsig_error(r, NULL, v, now, emit, arg);
	else /* signed with another key than this source needs: as an unknown key */
		*rc = answer_tsig_error(r, NULL, STEER_TSIG_BADKEY, now, emit, arg);
	steer_tsig_free(*t);
	*t = NULL;
	return 1;
}

int steer_xfr_answer_tcp(struct steer_xfr *x, const struct steer_zone *zone, const uint8_t *q,
			 size_t qlen, const struct sockaddr *peer, steer_xfr_emit_fn *emit,
			 void *arg)
{
	const struct steer_config *cfg = steer_zone_config(zone);
	struct req r = {.q = q, .qlen = qlen};
	struct out o = {.r = &r, .zone = zone, .emit = emit, .arg = arg};
	uint8_t apex[STEER_DNS_MAX_NAME];
	ldns_rdf *rdf = NULL;
	int idx, rc;

	if (x == NULL || !cfg->xfr.enabled ||
	    ldns_str2rdf_dname(&rdf, cfg->zone.name) != LDNS_STATUS_OK)
		return STEER_XFR_DECLINED;
	o.apex_len = ldns_rdf_size(rdf);
	memcpy(apex, ldns_rdf_data(rdf), o.apex_len);
	ldns_rdf_deep_free(rdf);
	o.apex = apex;
	rc = parse_question(&r, apex, o.apex_len);
	if (rc != 0)
		return rc;
	if (parse_rest(&r) != 0)
		return answer_error(&r, STEER_RCODE_FORMERR, emit, arg);
	idx = steer_xfr_acl_match(&cfg->xfr, peer);
	if (idx < 0)
		return answer_error(&r, STEER_RCODE_REFUSED, emit, arg);
	if (r.not_apex) /* no zone of ours starts at that name: NOTAUTH, as NSD and Knot */
		return answer_error(&r, RCODE_NOTAUTH, emit, arg);
	if (check_tsig(x, &cfg->xfr, idx, &r, &o.tsig, emit, arg, &rc) != 0)
		return rc;
	rc = transfer(x, &o);
	steer_tsig_free(o.tsig);
	return rc;
}
