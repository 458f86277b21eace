/*
 * TSIG (RFC 8945). Requests are verified with ldns (ldns_pkt_tsig_verify); the key,
 * algorithm and time checks that ldns leaves out are done here, in the order of §5.2
 * (key, then MAC, then time). Answers are signed over their exact wire bytes (hmac.c).
 */
#include "xfr/tsig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "core/hmac.h"
#include "core/name.h"

#define SECRET_MAX    (STEER_XFR_SECRET_FILE_MAX / 4 * 3)
#define CLASS_ANY     255
#define TYPE_TSIG     250
#define RCODE_FORMERR 1
#define RCODE_NOTAUTH 9
#define ERR_BADSIG    16
#define ERR_BADKEY    17
#define ERR_BADTIME   18

struct steer_tsig {
	int key;
	enum steer_hmac_alg alg;
	uint8_t name[STEER_NAME_MAX]; /* key name, lower-case wire */
	size_t name_len;
	uint8_t alg_name[STEER_NAME_MAX]; /* algorithm name, lower-case wire */
	size_t alg_len;
	char *key_text;   /* key name text, for ldns */
	char *secret_b64; /* for ldns */
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	uint8_t mac[STEER_HMAC_MAX]; /* request MAC, then the MAC of the last message signed */
	size_t mac_len;
	uint64_t req_time; /* Time Signed of the request */
	unsigned n_signed; /* answer messages signed so far */
};

/* What one TSIG RR says, and what it covers. */
struct tsig_fields {
	uint64_t time_s;
	uint16_t error;
	const uint8_t *other;
	size_t other_len;
	bool timers_only; /* a later message of a stream: only time and fudge are covered */
	bool with_prior;  /* covers the request (or prior) MAC of @c t */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 6; i++)
		p[i] = (uint8_t)(v >> (8 * (5 - i)));
}

static uint64_t wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

void steer_tsig_free(struct steer_tsig *t)
{
	if (t == NULL)
		return;
	if (t->secret_b64 != NULL)
		explicit_bzero(t->secret_b64, strlen(t->secret_b64));
	free(t->secret_b64);
	free(t->key_text);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* Lower-case wire form of presentation name @p text (trailing dot optional). */
static int name_wire(const char *text, uint8_t *wire, size_t *len)
{
	char buf[4 * STEER_NAME_MAX + 8];
	size_t n = strlen(text);
	int rc;

	if (n == 0 || n + 2 > sizeof(buf))
		return STEER_EINVAL;
	memcpy(buf, text, n + 1);
	if (buf[n - 1] != '.')
		memcpy(buf + n, ".", 2);
	rc = steer_name_from_text(buf, NULL, wire, STEER_NAME_MAX);
	if (rc < 0)
		return rc;
	*len = (size_t)rc;
	return 0;
}

/* The base64 secret into t->secret, with ldns's decoder. */
static int secret_decode(struct steer_tsig *t, const char *b64)
{
	ldns_rdf *rdf = NULL;
	int rc = STEER_EINVAL;

	if (ldns_str2rdf_b64(&rdf, b64) == LDNS_STATUS_OK && ldns_rdf_size(rdf) > 0 &&
	    ldns_rdf_size(rdf) <= sizeof(t->secret)) {
		t->secret_len = ldns_rdf_size(rdf);
		memcpy(t->secret, ldns_rdf_data(rdf), t->secret_len);
		rc = 0;
	}
	if (rdf != NULL) {
		explicit_bzero(ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		ldns_rdf_deep_free(rdf);
	}
	return rc;
}

int steer_tsig_new_client(const struct steer_xfr_conf *conf, int key, struct steer_tsig **out)
{
	const struct steer_xfr_key *k;
	struct steer_tsig *t;
	char alg[32];
	int rc = STEER_EINVAL;

	*out = NULL;
	if (conf == NULL || key < 0 || (size_t)key >= conf->n_keys)
		return STEER_EINVAL;
	k = &conf->keys[key];
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return STEER_ENOMEM;
	t->key = key;
	snprintf(alg, sizeof(alg), "%s.", k->algorithm != NULL ? k->algorithm : "");
	if (k->name == NULL || k->secret_b64 == NULL ||
	    steer_hmac_alg_from_name(alg, &t->alg) < 0 ||
	    name_wire(k->name, t->name, &t->name_len) < 0 ||
	    name_wire(alg, t->alg_name, &t->alg_len) < 0 || secret_decode(t, k->secret_b64) < 0)
		goto out;
	rc = STEER_ENOMEM;
	t->key_text = strdup(k->name);
	t->secret_b64 = strdup(k->secret_b64);
	if (t->key_text == NULL || t->secret_b64 == NULL)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	steer_tsig_free(t);
	return rc;
}

int steer_tsig_key_index(const struct steer_tsig *t)
{
	return t != NULL ? t->key : -1;
}

/* The names and values of one TSIG RR to write. */
struct tsig_rr {
	const uint8_t *name, *alg;
	size_t name_len, alg_len;
	uint64_t time_s;
	uint16_t id, error;
	const uint8_t *mac, *other;
	size_t mac_len, other_len;
};

static size_t rr_size(const struct tsig_rr *r)
{
	return r->name_len + 10 + r->alg_len + 16 + r->mac_len + r->other_len;
}

/* Append @p r at @p p (rr_size() bytes of room). @return the bytes written. */
static size_t rr_write(uint8_t *p, const struct tsig_rr *r)
{
	uint8_t *o = p;

	memcpy(o, r->name, r->name_len);
	o += r->name_len;
	put16(o, TYPE_TSIG);
	put16(o + 2, CLASS_ANY);
	memset(o + 4, 0, 4); /* TTL */
	put16(o + 8, (uint16_t)(r->alg_len + 16 + r->mac_len + r->other_len));
	o += 10;
	memcpy(o, r->alg, r->alg_len);
	o += r->alg_len;
	put48(o, r->time_s);
	put16(o + 6, STEER_TSIG_FUDGE_S);
	put16(o + 8, (uint16_t)r->mac_len);
	o += 10;
	if (r->mac_len > 0)
		memcpy(o, r->mac, r->mac_len);
	o += r->mac_len;
	put16(o, r->id);
	put16(o + 2, r->error);
	put16(o + 4, (uint16_t)r->other_len);
	o += 6;
	if (r->other_len > 0)
		memcpy(o, r->other, r->other_len);
	return (size_t)(o + r->other_len - p);
}

/* The MAC of message @p msg (@p len bytes, without its TSIG RR) for @p f (RFC 8945 §4.3). */
static void mac_compute(const struct steer_tsig *t, const uint8_t *msg, size_t len,
			const struct tsig_fields *f, uint8_t *mac)
{
	uint8_t v[16];
	struct steer_hmac h;

	steer_hmac_init(&h, t->alg, t->secret, t->secret_len);
	if (f->with_prior) {
		put16(v, (uint16_t)t->mac_len);
		steer_hmac_update(&h, v, 2);
		steer_hmac_update(&h, t->mac, t->mac_len);
	}
	steer_hmac_update(&h, msg, len);
	if (!f->timers_only) {
		steer_hmac_update(&h, t->name, t->name_len);
		put16(v, CLASS_ANY);
		memset(v + 2, 0, 4); /* TTL */
		steer_hmac_update(&h, v, 6);
		steer_hmac_update(&h, t->alg_name, t->alg_len);
	}
	put48(v, f->time_s);
	put16(v + 6, STEER_TSIG_FUDGE_S);
	if (f->timers_only) {
		steer_hmac_update(&h, v, 8);
	} else {
		put16(v + 8, f->error);
		put16(v + 10, (uint16_t)f->other_len);
		steer_hmac_update(&h, v, 12);
		steer_hmac_update(&h, f->other, f->other_len);
	}
	steer_hmac_final(&h, mac);
}

/* Sign @p msg in place as @p f says; the new MAC becomes t->mac. */
static int sign_fields(struct steer_tsig *t, uint8_t *msg, size_t *len, size_t cap,
		       const struct tsig_fields *f)
{
	uint8_t mac[STEER_HMAC_MAX];
	struct tsig_rr r = {
		.name = t->name,
		.name_len = t->name_len,
		.alg = t->alg_name,
		.alg_len = t->alg_len,
		.time_s = f->time_s,
		.error = f->error,
		.mac = mac,
		.mac_len = steer_hmac_size(t->alg),
		.other = f->other,
		.other_len = f->other_len,
	};
	uint16_t ar;

	if (*len < 12)
		return STEER_EINVAL;
	if (cap < *len || cap - *len < rr_size(&r) || *len + rr_size(&r) > 65535)
		return STEER_ENOSPACE;
	mac_compute(t, msg, *len, f, mac);
	r.id = (uint16_t)(msg[0] << 8 | msg[1]);
	*len += rr_write(msg + *len, &r);
	ar = (uint16_t)(msg[10] << 8 | msg[11]);
	put16(msg + 10, (uint16_t)(ar + 1));
	memcpy(t->mac, mac, r.mac_len);
	t->mac_len = r.mac_len;
	return 0;
}

int steer_tsig_sign_answer(struct steer_tsig *t, uint8_t *msg, size_t *len, size_t cap)
{
	/* RFC 8945 §5.3.1: the first message covers the request MAC and every TSIG
	 * variable; each later one the prior MAC and the timers only */
	struct tsig_fields f = {
		.time_s = wall_s(),
		.with_prior = true,
		.timers_only = t->n_signed > 0,
	};
	int rc = sign_fields(t, msg, len, cap, &f);

	if (rc == 0)
		t->n_signed++;
	return rc;
}

int steer_tsig_sign_request(struct steer_tsig *t, uint8_t *msg, size_t *len, size_t cap,
			    uint64_t now_s)
{
	struct tsig_fields f = {.time_s = now_s};

	t->n_signed = 0;
	return sign_fields(t, msg, len, cap, &f);
}

static uint64_t get48(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

/* Is dname rdf @p rdf the lower-case wire name @p wire (case-insensitively)? */
static bool name_is(const ldns_rdf *rdf, const uint8_t *wire, size_t len)
{
	const uint8_t *d = ldns_rdf_data(rdf);

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME || ldns_rdf_size(rdf) != len)
		return false;
	/* length octets are below 64, so lower-casing every octet only touches letters */
	for (size_t i = 0; i < len; i++)
		if ((d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 : d[i]) != wire[i])
			return false;
	return true;
}

/* Skip the name at @p o of @p msg. @return the offset after it, or 0. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t o)
{
	for (int labels = 0; o < len && labels < 128; labels++) {
		if (msg[o] == 0)
			return o + 1;
		if ((msg[o] & 0xc0) == 0xc0)
			return o + 2 <= len ? o + 2 : 0;
		if ((msg[o] & 0xc0) != 0)
			return 0;
		o += 1u + msg[o];
	}
	return 0;
}

/*
 * RFC 8945 §5.1: a TSIG RR anywhere but last in the additional section, or more than one,
 * is FORMERR. ldns takes any TSIG RR out of the section, so the wire is walked here, by
 * RDLENGTH. @return true when misplaced (or the walk runs off the end); else *last_tsig
 * tells whether the last RR is a TSIG RR.
 */
static bool wire_walk(const uint8_t *msg, size_t len, bool *last_tsig)
{
	size_t o = 12, qd, rrs;

	*last_tsig = false;
	if (len < 12)
		return true;
	qd = (size_t)(msg[4] << 8 | msg[5]);
	rrs = (size_t)(msg[6] << 8 | msg[7]) + (size_t)(msg[8] << 8 | msg[9]) +
	      (size_t)(msg[10] << 8 | msg[11]);
	for (size_t i = 0; i < qd; i++) {
		o = skip_name(msg, len, o);
		if (o == 0 || o + 4 > len)
			return true;
		o += 4;
	}
	for (size_t i = 0; i < rrs; i++) {
		o = skip_name(msg, len, o);
		if (o == 0 || o + 10 > len)
			return true;
		*last_tsig = (msg[o] << 8 | msg[o + 1]) == TYPE_TSIG;
		if (*last_tsig && i + 1 < rrs)
			return true;
		o += 10u + (size_t)(msg[o + 8] << 8 | msg[o + 9]);
	}
	return false;
}

bool steer_tsig_misplaced(const uint8_t *msg, size_t len)
{
	bool last_tsig;

	return wire_walk(msg, len, &last_tsig);
}

/* The TSIG RR of @p pkt when well formed, else NULL with *rc set (NONE or FORMERR). */
static const ldns_rr *tsig_rr(const ldns_pkt *pkt, enum steer_tsig_rc *rc)
{
	const ldns_rr *rr = ldns_pkt_tsig(pkt);

	*rc = STEER_TSIG_FORMERR;
	if (rr == NULL) {
		*rc = STEER_TSIG_NONE;
		return NULL;
	}
	if (ldns_rr_rd_count(rr) < 7 || ldns_rdf_size(ldns_rr_rdf(rr, 1)) != 6 ||
	    ldns_rdf_size(ldns_rr_rdf(rr, 3)) < 2 ||
	    ldns_rdf_size(ldns_rr_rdf(rr, 3)) > 2 + STEER_HMAC_MAX)
		return NULL;
	return rr;
}

/*
 * Parse the signed message @p msg into *pkt (caller frees; NULL when it does not parse)
 * and find its TSIG RR. The wire is walked first: ldns keeps only the last of several
 * TSIG RRs (and leaks the others), and reads an RR's RDATA by its fields, not its
 * RDLENGTH, so where the two disagree it can find a TSIG RR the wire (and
 * steer_dns_tsig_offset()) does not have. @return the TSIG RR, or NULL with *rc NONE
 * (unsigned) or FORMERR.
 */
static const ldns_rr *parse_signed(const uint8_t *msg, size_t len, ldns_pkt **pkt,
				   enum steer_tsig_rc *rc)
{
	const ldns_rr *rr;
	bool last_tsig;

	*pkt = NULL;
	*rc = STEER_TSIG_FORMERR;
	if (wire_walk(msg, len, &last_tsig) || ldns_wire2pkt(pkt, msg, len) != LDNS_STATUS_OK)
		return NULL;
	rr = tsig_rr(*pkt, rc);
	if (rr != NULL && !last_tsig) {
		*rc = STEER_TSIG_FORMERR;
		return NULL;
	}
	return rr;
}

/* Is the TSIG time of @p rr within its fudge (at most ours) of @p now_s? */
static bool time_ok(const ldns_rr *rr, uint64_t now_s)
{
	uint64_t signed_s = get48(ldns_rdf_data(ldns_rr_rdf(rr, 1)));
	uint64_t fudge = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));

	if (fudge > STEER_TSIG_FUDGE_S)
		fudge = STEER_TSIG_FUDGE_S;
	return now_s <= signed_s + fudge && signed_s <= now_s + fudge;
}

/* The key of @p conf named as the owner of @p rr, or -1. */
static int key_find(const struct steer_xfr_conf *conf, const ldns_rr *rr)
{
	uint8_t wire[STEER_NAME_MAX];
	size_t len;

	for (size_t i = 0; conf != NULL && i < conf->n_keys; i++)
		if (conf->keys[i].name != NULL && name_wire(conf->keys[i].name, wire, &len) == 0 &&
		    name_is(ldns_rr_owner(rr), wire, len))
			return (int)i;
	return -1;
}

/* Key, MAC and time of the request TSIG @p rr (RFC 8945 §5.2, in that order). */
static enum steer_tsig_rc request_check(const struct steer_xfr_conf *conf, ldns_pkt *pkt,
					const ldns_rr *rr, const uint8_t *msg, size_t len,
					uint64_t now_s, struct steer_tsig **out)
{
	const ldns_rdf *mac = ldns_rr_rdf(rr, 3);
	int key = key_find(conf, rr);
	struct steer_tsig *t = NULL;
	int rc;

	if (key < 0)
		return STEER_TSIG_BADKEY;
	rc = steer_tsig_new_client(conf, key, &t);
	if (rc < 0)
		return rc == STEER_ENOMEM ? STEER_TSIG_BADSIG : STEER_TSIG_BADKEY;
	if (!name_is(ldns_rr_rdf(rr, 0), t->alg_name, t->alg_len)) {
		steer_tsig_free(t);
		return STEER_TSIG_BADKEY;
	}
	if (!ldns_pkt_tsig_verify(pkt, msg, len, t->key_text, t->secret_b64, NULL)) {
		steer_tsig_free(t);
		return STEER_TSIG_BADSIG;
	}
	t->mac_len = ldns_rdf_size(mac) - 2; /* INT16_DATA: a length, then the MAC */
	memcpy(t->mac, ldns_rdf_data(mac) + 2, t->mac_len);
	t->req_time = get48(ldns_rdf_data(ldns_rr_rdf(rr, 1)));
	*out = t;
	return time_ok(rr, now_s) ? STEER_TSIG_OK : STEER_TSIG_BADTIME;
}

enum steer_tsig_rc steer_tsig_verify_request(const struct steer_xfr_conf *conf, const uint8_t *msg,
					     size_t len, uint64_t now_s, struct steer_tsig **out)
{
	enum steer_tsig_rc rc;
	ldns_pkt *pkt;
	const ldns_rr *rr = parse_signed(msg, len, &pkt, &rc);

	*out = NULL;
	if (rr != NULL)
		rc = request_check(conf, pkt, rr, msg, len, now_s, out);
	ldns_pkt_free(pkt);
	return rc;
}

/* The TSIG error code of an answer, as an rc (0: none). */
static enum steer_tsig_rc answer_error(const ldns_rr *rr)
{
	switch (ldns_rdf2native_int16(ldns_rr_rdf(rr, 5))) {
	case 0:
		return STEER_TSIG_OK;
	case ERR_BADKEY:
		return STEER_TSIG_BADKEY;
	case ERR_BADTIME:
		return STEER_TSIG_BADTIME;
	default:
		return STEER_TSIG_BADSIG;
	}
}

enum steer_tsig_rc steer_tsig_verify_answer(const struct steer_tsig *t, const uint8_t *msg,
					    size_t len, uint64_t now_s)
{
	enum steer_tsig_rc rc;
	uint8_t mac[STEER_HMAC_MAX];
	ldns_rdf *req_mac = NULL;
	ldns_pkt *pkt;
	const ldns_rr *rr = parse_signed(msg, len, &pkt, &rc);

	if (rr == NULL)
		goto out;
	rc = answer_error(rr);
	if (rc != STEER_TSIG_OK)
		goto out;
	rc = STEER_TSIG_BADKEY;
	if (!name_is(ldns_rr_owner(rr), t->name, t->name_len) ||
	    !name_is(ldns_rr_rdf(rr, 0), t->alg_name, t->alg_len))
		goto out;
	rc = STEER_TSIG_BADSIG;
	memcpy(mac, t->mac, t->mac_len);
	req_mac = ldns_native2rdf_int16_data(t->mac_len, mac);
	if (req_mac == NULL ||
	    !ldns_pkt_tsig_verify(pkt, msg, len, t->key_text, t->secret_b64, req_mac))
		goto out;
	rc = time_ok(rr, now_s) ? STEER_TSIG_OK : STEER_TSIG_BADTIME;
out:
	ldns_rdf_deep_free(req_mac);
	ldns_pkt_free(pkt);
	return rc;
}

/* Bytes of the question of @p q when it is one uncompressed name of at most 255 bytes +
 * type + class; else 0 (an answer echoing a longer name would not parse). */
static size_t question_len(const uint8_t *q, size_t qlen)
{
	size_t o = 12;

	if (qlen < 12 || q[4] != 0 || q[5] != 1)
		return 0;
	while (o < qlen && q[o] != 0) {
		if (q[o] > 63)
			return 0; /* a pointer (or worse) in a question: leave it out */
		if (o + 1u + q[o] - 12 >= STEER_NAME_MAX)
			return 0; /* with the root label, longer than a name can be */
		o += 1u + q[o];
	}
	return o + 5 <= qlen ? o + 5 - 12 : 0;
}

/* The unsigned TSIG RR of a BADKEY / BADSIG answer: the request's names, no MAC. */
static int unsigned_rr(const uint8_t *query, size_t qlen, uint16_t error, uint64_t now_s,
		       uint8_t *out, size_t *len, size_t cap)
{
	struct tsig_rr r = {.time_s = now_s, .error = error};
	ldns_pkt *pkt = NULL;
	const ldns_rr *rr;
	int rc = 0;

	if (steer_tsig_misplaced(query, qlen) || ldns_wire2pkt(&pkt, query, qlen) != LDNS_STATUS_OK)
		return 0; /* no TSIG to answer with: NOTAUTH alone */
	rr = ldns_pkt_tsig(pkt);
	if (rr != NULL && ldns_rr_rd_count(rr) >= 1) {
		r.name = ldns_rdf_data(ldns_rr_owner(rr));
		r.name_len = ldns_rdf_size(ldns_rr_owner(rr));
		r.alg = ldns_rdf_data(ldns_rr_rdf(rr, 0));
		r.alg_len = ldns_rdf_size(ldns_rr_rdf(rr, 0));
		r.id = (uint16_t)(query[0] << 8 | query[1]);
		if (cap - *len < rr_size(&r)) {
			rc = STEER_ENOSPACE;
		} else {
			*len += rr_write(out + *len, &r);
			put16(out + 10, 1);
		}
	}
	ldns_pkt_free(pkt);
	return rc;
}

/* Header and question of an error answer to @p query with @p rcode. */
static int error_head(const uint8_t *query, size_t qlen, int rcode, uint8_t *out, size_t *len,
		      size_t cap)
{
	size_t ql = question_len(query, qlen);

	if (cap < 12 + ql)
		return STEER_ENOSPACE;
	memset(out, 0, 12);
	memcpy(out, query, 2);                        /* ID */
	out[2] = (uint8_t)(0x80 | (query[2] & 0x79)); /* QR, opcode, RD */
	out[3] = (uint8_t)rcode;
	out[5] = ql > 0 ? 1 : 0;
	memcpy(out + 12, query + 12, ql);
	*len = 12 + ql;
	return 0;
}

int steer_tsig_error_answer(const struct steer_tsig *t, const uint8_t *query, size_t qlen,
			    enum steer_tsig_rc rc, uint64_t now_s, uint8_t *out, size_t *out_len,
			    size_t cap)
{
	static const uint16_t errors[] = {
		[STEER_TSIG_BADKEY] = ERR_BADKEY,
		[STEER_TSIG_BADSIG] = ERR_BADSIG,
		[STEER_TSIG_BADTIME] = ERR_BADTIME,
	};
	uint8_t now48[6];
	struct tsig_fields f = {.error = ERR_BADTIME, .other = now48, .other_len = 6};
	struct steer_tsig copy;
	int r;

	if (qlen < 12 || rc < STEER_TSIG_BADKEY || rc > STEER_TSIG_FORMERR)
		return STEER_EINVAL;
	r = error_head(query, qlen, rc == STEER_TSIG_FORMERR ? RCODE_FORMERR : RCODE_NOTAUTH, out,
		       out_len, cap);
	if (r < 0 || rc == STEER_TSIG_FORMERR)
		return r;
	if (rc != STEER_TSIG_BADTIME || t == NULL)
		return unsigned_rr(query, qlen, errors[rc], now_s, out, out_len, cap);
	/* RFC 8945 §5.2.3: signed, Time Signed from the request (so the client can verify
	 * it), our time in Other Data */
	put48(now48, now_s);
	copy = *t;
	f.time_s = t->req_time;
	f.with_prior = true;
	r = sign_fields(&copy, out, out_len, cap, &f);
	explicit_bzero(&copy, sizeof(copy));
	return r;
}

const char *steer_tsig_rc_name(enum steer_tsig_rc rc)
{
	static const char *const names[] = {"none", "ok", "badkey", "badsig", "badtime", "formerr"};

	return (unsigned)rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "?";
}
