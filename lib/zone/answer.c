/*
 * The answer path: parse, look up, and write a response from the prepared wire data.
 * Owner names are compressed against the question (every in-zone name ends in the apex,
 * which the question holds), so no compression table is built per query.
 * Rules: RFC 1034 §4.3.2 (lookup, CNAME, referral), RFC 2308 (negative answers),
 * RFC 4592 (wildcards), RFC 6891 (EDNS), RFC 8482 (ANY), RFC 8914 (EDE), RFC 7873 and
 * RFC 9018 (DNS Cookies).
 */
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "dns/wire.h"
#include "metrics/metrics.h"
#include "steer/steer.h"
#include "zone/zone_int.h"

#define MAX_CHAIN 8

enum sec {
	SEC_AN,
	SEC_NS,
	SEC_AR,
};

struct ans {
	const struct steer_zone *z;
	const struct steer_query_ctx *ctx;
	const struct steer_dns_query *q;
	struct steer_dns_writer w;
	uint16_t count[3];
	uint16_t apex_off; /* offset of the apex suffix inside the question name */
	bool aa;
	int rcode;
	bool truncate;                /* required data did not fit */
	struct steer_dns_opt_out opt; /* NSID (0 to leave it out), cookie */
};

enum lookup_kind {
	LK_NODE, /* exact match */
	LK_WILD, /* synthesised from a wildcard */
	LK_CUT,  /* at or below a delegation point */
	LK_NX,   /* no such name */
};

static void put_owner(struct ans *a, const uint8_t *name, size_t len)
{
	const struct steer_dns_query *q = a->q;

	if (len == q->qname_len && memcmp(name, q->qname, len) == 0) {
		steer_dns_put_u16(&a->w, 0xc000 | STEER_DNS_HDR_LEN);
		return;
	}
	/* every owner we write is in the zone: its labels, then a pointer to the apex */
	steer_dns_put(&a->w, name, len - a->z->apex_len);
	steer_dns_put_u16(&a->w, (uint16_t)(0xc000 | a->apex_off));
}

static void put_set(struct ans *a, enum sec sec, const uint8_t *owner, size_t owner_len,
		    const struct zset *s)
{
	size_t off = 0;

	for (uint16_t i = 0; i < s->count; i++) {
		size_t rrlen = 10u + (size_t)((s->wire[off + 8] << 8) | s->wire[off + 9]);

		put_owner(a, owner, owner_len);
		steer_dns_put(&a->w, s->wire + off, rrlen);
		if (s->type == STEER_RR_SOA && !a->w.overflow)
			zone_patch_serial(a->z, a->w.buf + a->w.len);
		off += rrlen;
	}
	a->count[sec] = (uint16_t)(a->count[sec] + s->count);
}

static void put_cname(struct ans *a, const uint8_t *owner, size_t owner_len, uint32_t ttl,
		      const uint8_t *target, size_t target_len)
{
	put_owner(a, owner, owner_len);
	steer_dns_put_u16(&a->w, STEER_RR_CNAME);
	steer_dns_put_u16(&a->w, STEER_CLASS_IN);
	steer_dns_put_u32(&a->w, ttl);
	steer_dns_put_u16(&a->w, (uint16_t)target_len);
	steer_dns_put(&a->w, target, target_len);
	a->count[SEC_AN]++;
}

/* The A and AAAA RRsets of the in-zone targets of an NS, MX or SRV RRset (RFC 1035 §3.3.9,
 * §3.3.11, RFC 2782): additional-section data is optional (RFC 2181 §9), so if it does not
 * fit it is left out, unless @p required (glue below a referral's cut). */
static void put_glue(struct ans *a, const struct zset *ns, bool required)
{
	for (size_t i = 0; i < ns->n_glue; i++) {
		const struct znode *g = ns->glue[i];
		static const uint16_t types[2] = {STEER_RR_A, STEER_RR_AAAA};

		for (int t = 0; t < 2; t++) {
			const struct zset *s = zone_node_set(g, types[t]);
			size_t len = a->w.len;
			uint16_t count = a->count[SEC_AR];

			if (s == NULL)
				continue;
			put_set(a, SEC_AR, g->name, g->name_len, s);
			if (a->w.overflow && !required) {
				a->w.len = len;
				a->w.overflow = false;
				a->count[SEC_AR] = count;
				return;
			}
		}
	}
}

static void put_negative(struct ans *a)
{
	put_set(a, SEC_NS, a->z->apex, a->z->apex_len, &a->z->neg_soa);
}

static bool in_zone(const struct steer_zone *z, const uint8_t *name, size_t len)
{
	size_t i = 0;

	if (len < z->apex_len)
		return false;
	while (len - i > z->apex_len)
		i += (size_t)name[i] + 1;
	return len - i == z->apex_len && memcmp(name + i, z->apex, z->apex_len) == 0;
}

static enum lookup_kind lookup(const struct steer_zone *z, const uint8_t *name, size_t len,
			       uint16_t qtype, const struct znode **out)
{
	const struct znode *n = zone_find(z, name, len);
	size_t off = 0;

	if (n != NULL) {
		/* RFC 4035 §3.1.4.1: DS at a cut is answered by the parent side */
		if (n->cut != NULL && !(n->cut == n && qtype == STEER_RR_DS)) {
			*out = n->cut;
			return LK_CUT;
		}
		*out = n;
		return LK_NODE;
	}
	/* closest encloser: the longest existing ancestor; the apex always exists */
	do {
		off += (size_t)name[off] + 1;
		n = zone_find(z, name + off, len - off);
	} while (n == NULL);
	if (n->cut != NULL) {
		*out = n->cut;
		return LK_CUT;
	}
	if (n->wild != NULL) {
		*out = n->wild;
		return LK_WILD;
	}
	*out = n;
	return LK_NX;
}

static void answer_referral(struct ans *a, const struct znode *cut)
{
	const struct zset *ns = zone_node_set(cut, STEER_RR_NS);

	a->aa = false;
	put_set(a, SEC_NS, cut->name, cut->name_len, ns);
	/* RFC 9471: glue for names below the cut is required, so it may force TC */
	put_glue(a, ns, true);
}

/* RRSIG and NSEC: DNSSEC records that may live beside a CNAME (RFC 4035 §2.5). */
static bool is_dnssec_type(uint16_t qtype)
{
	return qtype == STEER_RR_RRSIG || qtype == STEER_RR_NSEC;
}

/* Count a balancer answer by balancer and pool, and by each of its @p k origins. */
static void count_balancer(const struct ans *a, const struct steer_balancer *bal,
			   const struct steer_answer_set *set, size_t k)
{
	const struct steer_metrics_map *map = a->ctx->map;
	struct steer_metrics_thread *ctr = a->ctx->ctr;
	size_t rank = bal->n_pools; /* the fallback's entry */

	if (ctr == NULL || map == NULL || set->pool == NULL)
		return;
	for (size_t i = 0; i < bal->n_pools; i++) {
		if (bal->pools[i] == set->pool) {
			rank = i;
			break;
		}
	}
	steer_metrics_count_slot(ctr, map->pool_slot[map->bal_first[bal->index] + rank]);
	for (size_t i = 0; i < k; i++)
		steer_metrics_count_slot(ctr, map->origin[set->origins[i]->index]);
}

/* Balancer A/AAAA, or any other type: a hostname origin makes the name an alias, which a
 * query of any type gets as a CNAME (RFC 1034 §3.6.2, as ANY and A do); IP origins answer
 * A/AAAA only (other types: NODATA). @return true if the chain continues at an in-zone
 * CNAME target. */
static bool answer_balancer(struct ans *a, const struct znode *n, const uint8_t *owner,
			    size_t owner_len, uint16_t qtype, const uint8_t **next,
			    size_t *next_len)
{
	const struct steer_balancer *bal = n->bal;
	int family = qtype == STEER_RR_AAAA ? AF_INET6 : AF_INET;
	bool addr = qtype == STEER_RR_A || qtype == STEER_RR_AAAA;
	struct steer_answer_set set;
	uint32_t ttl;
	size_t k =
		steer_balancer_answer(bal, a->ctx->snap, family, a->ctx->client, a->ctx->rng, &set);

	count_balancer(a, bal, &set, k);
	ttl = set.reason == STEER_POOL_PRIMARY ? bal->ttl_s : bal->failover_ttl_s;
	if (k == 0 || (!addr && (!set.cname || is_dnssec_type(qtype)))) {
		put_negative(a);
		return false;
	}
	if (set.cname) {
		const struct steer_origin *o = set.origins[0];

		put_cname(a, owner, owner_len, ttl, o->host_wire, o->host_wire_len);
		if (qtype == STEER_RR_CNAME)
			return false; /* the alias itself was asked for: not chased */
		*next = o->host_wire;
		*next_len = o->host_wire_len;
		return in_zone(a->z, o->host_wire, o->host_wire_len);
	}
	for (size_t i = 0; i < k; i++) {
		const struct steer_addr *ad = &set.origins[i]->addr;

		put_owner(a, owner, owner_len);
		steer_dns_put_u16(&a->w, qtype);
		steer_dns_put_u16(&a->w, STEER_CLASS_IN);
		steer_dns_put_u32(&a->w, ttl);
		if (family == AF_INET) {
			steer_dns_put_u16(&a->w, 4);
			steer_dns_put(&a->w, &ad->u.v4, 4);
		} else {
			steer_dns_put_u16(&a->w, 16);
			steer_dns_put(&a->w, &ad->u.v6, 16);
		}
	}
	a->count[SEC_AN] = (uint16_t)(a->count[SEC_AN] + k);
	return false;
}

/* RFC 8482 §4.1: answer ANY with one RRset rather than all of them. */
static void answer_any(struct ans *a, const struct znode *n, const uint8_t *owner, size_t owner_len)
{
	const uint8_t *next;
	size_t next_len;

	if (n->bal != NULL) {
		/* a CNAME to a hostname origin ends the answer here: ANY is not chased */
		(void)answer_balancer(a, n, owner, owner_len, STEER_RR_A, &next, &next_len);
		return;
	}
	if (n->n_sets == 0) {
		put_negative(a);
		return;
	}
	put_set(a, SEC_AN, owner, owner_len, &n->sets[0]);
	put_glue(a, &n->sets[0], false);
}

/*
 * Answer for one node reached by the chain. @return true if the chain continues at
 * *next (a CNAME whose target is in the zone).
 */
static bool answer_node(struct ans *a, const struct znode *n, const uint8_t *owner,
			size_t owner_len, const uint8_t **next, size_t *next_len)
{
	uint16_t qtype = a->q->qtype;
	const struct zset *s;

	if (qtype == STEER_RR_ANY) {
		answer_any(a, n, owner, owner_len);
		return false;
	}
	s = zone_node_set(n, qtype == STEER_RR_IXFR ? STEER_RR_SOA : qtype);
	/* a static set of the type at a balancer name answers; otherwise the balancer does */
	if (n->bal != NULL &&
	    (s == NULL || qtype == STEER_RR_A || qtype == STEER_RR_AAAA || qtype == STEER_RR_CNAME))
		return answer_balancer(a, n, owner, owner_len, qtype, next, next_len);
	if (s != NULL) {
		put_set(a, SEC_AN, owner, owner_len, s);
		put_glue(a, s, false); /* NS, MX, SRV: the targets' addresses */
		return false;
	}
	s = zone_node_set(n, STEER_RR_CNAME);
	/* RFC 4035 §2.5: RRSIG and NSEC live beside a CNAME, so they are not chased (as Knot:
	 * NODATA, the zone is not signed) */
	if (s == NULL || is_dnssec_type(qtype)) {
		put_negative(a); /* NODATA, empty non-terminals included */
		return false;
	}
	put_set(a, SEC_AN, owner, owner_len, s);
	*next = s->target;
	*next_len = s->target_len;
	return in_zone(a->z, s->target, s->target_len);
}

/* Follow the name through the zone: CNAMEs inside it are chased (as NSD and Knot do),
 * at most MAX_CHAIN hops and never through the same node twice. */
static void answer_in_zone(struct ans *a)
{
	const struct znode *seen[MAX_CHAIN + 1];
	const uint8_t *name = a->q->qname;
	size_t len = a->q->qname_len;

	for (int hop = 0; hop <= MAX_CHAIN; hop++) {
		const struct znode *n;
		enum lookup_kind k = lookup(a->z, name, len, a->q->qtype, &n);

		if (k == LK_CUT) {
			if (hop == 0)
				answer_referral(a, n);
			return;
		}
		if (k == LK_NX) {
			/* RFC 6604 §3: the RCODE describes the last name of the chain */
			a->rcode = STEER_RCODE_NXDOMAIN;
			put_negative(a);
			return;
		}
		for (int i = 0; i < hop; i++)
			if (seen[i] == n)
				return; /* loop */
		seen[hop] = n;
		if (!answer_node(a, n, name, len, &name, &len))
			return;
	}
}

static void put_txt(struct ans *a, const char *text, size_t len)
{
	uint8_t l = (uint8_t)(len > 255 ? 255 : len);

	steer_dns_put_u16(&a->w, 0xc000 | STEER_DNS_HDR_LEN);
	steer_dns_put_u16(&a->w, STEER_RR_TXT);
	steer_dns_put_u16(&a->w, STEER_CLASS_CH);
	steer_dns_put_u32(&a->w, 0);
	steer_dns_put_u16(&a->w, (uint16_t)(l + 1));
	steer_dns_put(&a->w, &l, 1);
	steer_dns_put(&a->w, text, l);
	a->count[SEC_AN]++;
}

static bool name_is(const struct steer_dns_query *q, const char *wire, size_t len)
{
	return q->qname_len == len && memcmp(q->qname, wire, len) == 0;
}

/* CH TXT version.bind / version.server / id.server / hostname.bind, as BIND and NSD. As
 * Knot: AA clear (no CH zone is held), and any other type, ANY too, is REFUSED. */
static void answer_chaos(struct ans *a)
{
	const struct steer_dns_query *q = a->q;
	const struct steer_zone *z = a->z;
	bool version = name_is(q, "\7version\4bind", 14) || name_is(q, "\7version\6server", 16);
	bool id = name_is(q, "\2id\6server", 11) || name_is(q, "\10hostname\4bind", 15);

	a->aa = false;
	if ((version && z->version_hidden) || (!version && !id) || q->qtype != STEER_RR_TXT) {
		a->rcode = STEER_RCODE_REFUSED;
		return;
	}
	if (version)
		put_txt(a, z->version, z->version_len);
	else
		put_txt(a, z->identity, z->identity_len);
}

static size_t udp_limit(const struct steer_dns_query *q)
{
	size_t size = STEER_DNS_UDP_MIN;

	if (q->edns)
		size = q->edns_udp_size > STEER_DNS_UDP_MAX ? STEER_DNS_UDP_MAX : q->edns_udp_size;
	return size < STEER_DNS_UDP_MIN ? STEER_DNS_UDP_MIN : size;
}

/* Screening that needs no zone data: @return an RCODE to answer with, or -1 to go on. */
static int screen(const struct steer_zone *z, const struct steer_dns_query *q, int *ede)
{
	*ede = -1;
	if (q->edns && q->edns_version > 0)
		return STEER_RCODE_BADVERS; /* RFC 6891 §6.1.3 */
	/* type 0 is reserved (RFC 6895 §3.1): NOTIMP, as Knot; the other meta types (OPT,
	 * TSIG, MAILA, MAILB) are looked up like any type, as Knot does (NODATA) */
	switch (q->qtype) {
	case STEER_RR_IXFR:
		/* RFC 1995 §2: an IXFR that a UDP reply cannot hold gets the SOA alone (the
		 * transfers themselves are answered over TCP, before the zone is asked) */
		if (z->cfg->xfr.enabled && q->qclass == STEER_CLASS_IN &&
		    q->qname_len == z->apex_len && memcmp(q->qname, z->apex, z->apex_len) == 0)
			return -1;
		return STEER_RCODE_NOTIMP;
	case STEER_RR_AXFR:
	case 0:
		return STEER_RCODE_NOTIMP;
	default:
		break;
	}
	if (q->qclass == STEER_CLASS_CH)
		return -1;
	/* QCLASS ANY matches any class (RFC 1035 §3.2.5): the IN zone answers it, as Knot */
	if ((q->qclass != STEER_CLASS_IN && q->qclass != STEER_CLASS_ANY) ||
	    !in_zone(z, q->qname, q->qname_len)) {
		*ede = STEER_DNS_EDE_NOT_AUTH; /* RFC 8914 §4.21 */
		return STEER_RCODE_REFUSED;
	}
	return -1;
}

static void finish(struct ans *a)
{
	const struct steer_dns_query *q = a->q;

	if (a->w.overflow) {
		/* all or nothing (RFC 2181 §9): empty sections and TC, the client retries on TCP */
		steer_dns_write_header(&a->w, q, a->aa, a->rcode);
		steer_dns_set_tc(&a->w);
		memset(a->count, 0, sizeof(a->count));
	}
	steer_dns_set_rcode(&a->w, a->aa, a->rcode);
	for (int s = 0; s < 3; s++)
		steer_dns_set_count(&a->w, s, a->count[s]);
	if (q->edns)
		steer_dns_write_opt(&a->w, q, a->rcode, &a->opt);
}

/*
 * How much of the identity goes into NSID: all of it, or nothing when the header, the
 * question and the OPT (@p o, with its cookie and EDE) would not fit @p limit (a long
 * identity and a long name in 512 bytes). NSID is optional; a response larger than the
 * client's size is not.
 */
static size_t nsid_len(const struct steer_zone *z, const struct steer_dns_query *q, size_t limit,
		       const struct steer_dns_opt_out *o)
{
	size_t head = q->has_question ? q->question_end : STEER_DNS_HDR_LEN;
	struct steer_dns_opt_out with = *o;

	with.nsid_len = z->identity_len;
	return head + steer_dns_opt_size(q, &with) <= limit ? z->identity_len : 0;
}

/* An error response with no records; the OPT carries the NSID too (RFC 5001 §2.3: the
 * identity is what a client asks for when it debugs exactly such answers). */
static size_t answer_error(const struct steer_zone *z, const struct steer_query_ctx *ctx,
			   const struct steer_dns_query *q, uint8_t *out, size_t out_cap, int rcode,
			   struct steer_dns_opt_out *o)
{
	size_t limit = ctx->tcp ? out_cap : udp_limit(q);

	o->nsid = z->identity;
	o->nsid_len = nsid_len(z, q, limit, o);
	return steer_dns_write_error(out, out_cap, q, rcode, o);
}

/* The query type class counted for @p q (parsed, maybe with an error). */
static unsigned qslot_of(const struct steer_dns_query *q)
{
	return q->has_question ? steer_metrics_qtype_slot(q->qtype) : STEER_METRICS_QTYPES - 1;
}

/* What the query's COOKIE option (RFC 7873 §5.2) makes of it. */
enum cookie_state {
	CK_NONE,      /* no option, or cookies off: the option is ignored */
	CK_MALFORMED, /* §5.2.2: FORMERR */
	CK_CLIENT,    /* §5.2.3/§5.2.4: no server cookie, or not a valid one */
	CK_VALID,     /* §5.2.5: a valid server cookie; the source address is proven */
};

static size_t client_ip(const struct steer_client *c, const uint8_t **ip)
{
	*ip = NULL;
	if (c == NULL)
		return 0;
	*ip = c->addr;
	return c->family == AF_INET ? 4 : c->family == AF_INET6 ? 16 : 0;
}

/* Check the query's cookie and write the one to send back (the client cookie, then a
 * server cookie: the valid one echoed while fresh, else a new one) into @p out. */
static enum cookie_state cookie_prepare(const struct steer_zone *z,
					const struct steer_query_ctx *ctx,
					const struct steer_dns_query *q,
					uint8_t out[STEER_DNS_COOKIE_REPLY])
{
	enum steer_dns_cookie_check chk = STEER_COOKIE_INVALID;
	const uint8_t *ip;
	size_t ip_len;
	uint32_t now;

	if (q->cookie == NULL || ctx->cookies == NULL || !z->cfg->cookies_enabled)
		return CK_NONE;
	if (!steer_dns_cookie_len_ok(q->cookie_len))
		return CK_MALFORMED;
	ip_len = client_ip(ctx->client, &ip);
	now = ctx->now_s != 0 ? ctx->now_s : steer_dns_cookie_now();
	if (q->cookie_len > STEER_DNS_CLIENT_COOKIE)
		chk = steer_dns_cookie_check(ctx->cookies, q->cookie, q->cookie_len, ip, ip_len,
					     now);
	memcpy(out, q->cookie, STEER_DNS_CLIENT_COOKIE);
	if (chk == STEER_COOKIE_VALID) {
		memcpy(out + STEER_DNS_CLIENT_COOKIE, q->cookie + STEER_DNS_CLIENT_COOKIE,
		       STEER_DNS_SERVER_COOKIE);
		return CK_VALID;
	}
	steer_dns_cookie_make(ctx->cookies->cur, q->cookie, ip, ip_len, now,
			      out + STEER_DNS_CLIENT_COOKIE);
	return chk == STEER_COOKIE_RENEW ? CK_VALID : CK_CLIENT;
}

/* A rate-limited query (not proven by a cookie): nothing, or the slip reply. */
static size_t answer_limited(const struct steer_zone *z, const struct steer_query_ctx *ctx,
			     const struct steer_dns_query *q, uint8_t *out, size_t out_cap,
			     struct steer_dns_opt_out *o)
{
	size_t n;

	if (ctx->ctr != NULL)
		steer_metrics_count(ctx->ctr,
				    ctx->rrl == STEER_RRL_DROP ? STEER_STAT_RRL_DROPPED
							       : STEER_STAT_RRL_SLIPPED,
				    1);
	if (ctx->rrl == STEER_RRL_DROP)
		return 0;
	/* RFC 7873 §5.2.3: rate limiting is the server policy that may answer a query with a
	 * client cookie but no valid server cookie with BADCOOKIE; the client learns the
	 * cookie, and its retry with it is answered */
	if (o->cookie != NULL)
		return answer_error(z, ctx, q, out, out_cap, STEER_RCODE_BADCOOKIE, o);
	n = answer_error(z, ctx, q, out, out_cap, STEER_RCODE_NOERROR, o);
	out[2] |= 0x02; /* TC: a real client retries over TCP, which cannot be spoofed */
	return n;
}

/* Answer a well-formed query (after the cookie and rate limiting). */
static size_t answer_query(const struct steer_zone *zone, const struct steer_query_ctx *ctx,
			   const struct steer_dns_query *q, uint8_t *out, size_t out_cap,
			   const struct steer_dns_opt_out *o)
{
	struct ans a = {.z = zone, .ctx = ctx, .q = q, .aa = true, .opt = *o};
	size_t limit = ctx->tcp ? out_cap : udp_limit(q);

	if (limit > out_cap)
		limit = out_cap;
	a.opt.nsid = zone->identity;
	a.opt.nsid_len = nsid_len(zone, q, limit, &a.opt);
	limit -= steer_dns_opt_size(q, &a.opt);
	steer_dns_writer_init(&a.w, out, out_cap, limit);
	steer_dns_write_header(&a.w, q, true, 0);
	a.apex_off = (uint16_t)(STEER_DNS_HDR_LEN + q->qname_len - zone->apex_len);
	if (q->qclass == STEER_CLASS_CH)
		answer_chaos(&a);
	else
		answer_in_zone(&a);
	finish(&a);
	return a.w.len;
}

/* Answer; *qslot receives the query type class when there is an answer. */
static size_t answer(const struct steer_zone *zone, const struct steer_query_ctx *ctx,
		     const uint8_t *pkt, size_t len, uint8_t *out, size_t out_cap, unsigned *qslot)
{
	struct steer_dns_opt_out o = {.ede = -1};
	uint8_t cookie[STEER_DNS_COOKIE_REPLY];
	struct steer_dns_query q;
	enum steer_dns_parse parsed = steer_dns_parse_query(pkt, len, &q);
	enum cookie_state ck;
	int rcode;

	if (parsed == STEER_DNS_DROP)
		return 0;
	*qslot = qslot_of(&q);
	ck = parsed == STEER_DNS_FORMERR ? CK_NONE : cookie_prepare(zone, ctx, &q, cookie);
	if (ck == CK_CLIENT || ck == CK_VALID)
		o.cookie = cookie;
	/* every reply counts, FORMERR too: it may carry an NSID longer than the query */
	if (ctx->rrl != STEER_RRL_PASS && ck != CK_VALID)
		return answer_limited(zone, ctx, &q, out, out_cap, &o);
	if (parsed == STEER_DNS_FORMERR || ck == CK_MALFORMED)
		return answer_error(zone, ctx, &q, out, out_cap, STEER_RCODE_FORMERR, &o);
	if (parsed == STEER_DNS_NOTIMP)
		return answer_error(zone, ctx, &q, out, out_cap, STEER_RCODE_NOTIMP, &o);
	rcode = screen(zone, &q, &o.ede);
	if (rcode >= 0)
		return answer_error(zone, ctx, &q, out, out_cap, rcode, &o);
	return answer_query(zone, ctx, &q, out, out_cap, &o);
}

const struct steer_config *steer_zone_config(const struct steer_zone *zone)
{
	return zone->cfg;
}

size_t steer_zone_answer(const struct steer_zone *zone, const struct steer_query_ctx *ctx,
			 const uint8_t *pkt, size_t len, uint8_t *out, size_t out_cap)
{
	unsigned qslot = STEER_METRICS_QTYPES - 1;
	size_t n = answer(zone, ctx, pkt, len, out, out_cap, &qslot);

	if (ctx->ctr != NULL)
		steer_metrics_count_response(ctx->ctr, qslot, out, n);
	return n;
}
