/*
 * RR lists of zone versions and diffs: uncompressed canonical wire form in one buffer,
 * canonical ordering (RFC 4034 §6), and the zone-file text form (ldns) that the store
 * keeps and `steerctl zone` shows.
 */
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "core/err.h"
#include "xfr/xfr_int.h"

#define MAX_LABELS 128

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap != 0 ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (q == NULL)
		return STEER_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int rrs_push(struct rrs *l, const uint8_t *owner, size_t owner_len, const uint8_t *rest,
	     size_t rest_len)
{
	const size_t len = owner_len + rest_len;
	void *buf = l->buf;
	void *v = l->v;

	if (len > UINT16_MAX || owner_len > 255)
		return STEER_EZONE;
	if (grow(&buf, &l->cap, l->len + len, 1) < 0)
		return STEER_ENOMEM;
	l->buf = buf;
	if (grow(&v, &l->cap_v, l->n + 1, sizeof(*l->v)) < 0)
		return STEER_ENOMEM;
	l->v = v;
	memcpy(l->buf + l->len, owner, owner_len);
	memcpy(l->buf + l->len + owner_len, rest, rest_len);
	l->v[l->n++] = (struct xrr){NULL, (uint32_t)l->len, (uint16_t)owner_len, (uint16_t)len};
	l->len += len;
	return 0;
}

int rrs_push_rr(struct rrs *l, const struct xrr *r)
{
	return rrs_push(l, r->p, r->owner_len, r->p + r->owner_len, r->len - r->owner_len);
}

void rrs_seal(struct rrs *l)
{
	for (size_t i = 0; i < l->n; i++)
		l->v[i].p = l->buf + l->v[i].off;
}

void rrs_fini(struct rrs *l)
{
	if (l == NULL)
		return;
	free(l->buf);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Offsets of the labels of the wire name @p n (root excluded). @return their number. */
static size_t labels(const uint8_t *n, size_t len, size_t off[MAX_LABELS])
{
	size_t k = 0;

	for (size_t i = 0; i < len && n[i] != 0 && k < MAX_LABELS; i += 1u + n[i])
		off[k++] = i;
	return k;
}

/* RFC 4034 §6.1: names compare label by label from the root, each label as lower-case
 * octets, a label that is a prefix of the other first. */
static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t la[MAX_LABELS], lb[MAX_LABELS];
	size_t na = labels(a, alen, la), nb = labels(b, blen, lb);

	while (na > 0 && nb > 0) {
		const uint8_t *x = a + la[--na], *y = b + lb[--nb];
		size_t m = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, m);

		if (c != 0)
			return c;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na == nb ? 0 : na < nb ? -1 : 1;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t rrs_ttl(const struct xrr *r)
{
	const uint8_t *p = r->p + r->owner_len + 4;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rrs_cmp(const struct xrr *a, const struct xrr *b)
{
	const uint8_t *pa = a->p + a->owner_len, *pb = b->p + b->owner_len;
	size_t da = (size_t)a->len - a->owner_len - 10, db = (size_t)b->len - b->owner_len - 10;
	int c = name_cmp(a->p, a->owner_len, b->p, b->owner_len);

	if (c != 0)
		return c;
	if (get16(pa) != get16(pb))
		return get16(pa) < get16(pb) ? -1 : 1;
	if (get16(pa + 2) != get16(pb + 2))
		return get16(pa + 2) < get16(pb + 2) ? -1 : 1;
	/* RFC 4034 §6.3: RDATA as left-justified octet strings, absence first */
	c = memcmp(pa + 10, pb + 10, da < db ? da : db);
	if (c != 0)
		return c;
	return da == db ? 0 : da < db ? -1 : 1;
}

static int cmp_ttl(const void *x, const void *y)
{
	const struct xrr *a = x, *b = y;
	int c = rrs_cmp(a, b);

	if (c != 0)
		return c;
	return rrs_ttl(a) == rrs_ttl(b) ? 0 : rrs_ttl(a) < rrs_ttl(b) ? -1 : 1;
}

void rrs_sort_unique(struct rrs *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_ttl);
	for (size_t i = 1; i < l->n; i++) {
		if (rrs_cmp(&l->v[k], &l->v[i]) != 0)
			l->v[++k] = l->v[i];
	}
	l->n = k + 1;
}

bool rrs_equal(const struct rrs *a, const struct rrs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].len != b->v[i].len || memcmp(a->v[i].p, b->v[i].p, a->v[i].len) != 0)
			return false;
	}
	return true;
}

void rrs_set_soa_serial(struct xrr *r, uint8_t *buf, uint32_t serial)
{
	uint8_t *p = buf + r->off + r->len - 20;

	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
}

/* Canonicalize @p rr (RFC 4034 §6.2: lower-case owner and RDATA names) and append it. */
static int push_ldns(struct rrs *l, ldns_rr *rr)
{
	uint8_t *wire = NULL;
	size_t size = 0;
	size_t owner_len = ldns_rdf_size(ldns_rr_owner(rr));
	int rc;

	ldns_rr2canonical(rr);
	if (ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size) != LDNS_STATUS_OK)
		return STEER_EZONE;
	rc = size < owner_len ? STEER_EZONE
			      : rrs_push(l, wire, owner_len, wire + owner_len, size - owner_len);
	free(wire);
	return rc;
}

int rrs_push_canonical(struct rrs *l, const uint8_t *wire, size_t len)
{
	ldns_rr *rr = NULL;
	size_t pos = 0;
	int rc;

	if (ldns_wire2rr(&rr, wire, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return STEER_EZONE;
	rc = push_ldns(l, rr);
	ldns_rr_free(rr);
	return rc;
}

static int append(char **text, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	void *p = *text;

	if (grow(&p, cap, *len + n + 1, 1) < 0)
		return STEER_ENOMEM;
	*text = p;
	memcpy(*text + *len, s, n + 1);
	*len += n;
	return 0;
}

int rrs_to_text(const struct rrs *l, char **text, size_t *len, size_t *cap)
{
	int rc = 0;

	for (size_t i = 0; i < l->n && rc == 0; i++) {
		ldns_rr *rr = NULL;
		size_t pos = 0;
		char *s;

		if (ldns_wire2rr(&rr, l->v[i].p, l->v[i].len, &pos, LDNS_SECTION_ANSWER) !=
		    LDNS_STATUS_OK)
			return STEER_EZONE;
		s = ldns_rr2str(rr);
		ldns_rr_free(rr);
		rc = s != NULL ? append(text, len, cap, s) : STEER_ENOMEM;
		free(s);
	}
	return rc;
}

static int parse_line(struct rrs *l, const char *line)
{
	ldns_rr *rr = NULL;
	int rc;

	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK)
		return STEER_EZONE;
	rc = push_ldns(l, rr);
	ldns_rr_free(rr);
	return rc;
}

int rrs_from_text(struct rrs *l, const char *text)
{
	const char *p = text;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (*p != '\0' && rc == 0) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		void *q = line;

		if (grow(&q, &cap, n + 1, 1) < 0) {
			rc = STEER_ENOMEM;
			break;
		}
		line = q;
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[0] != ';')
			rc = parse_line(l, line);
		p += n + (nl != NULL ? 1 : 0);
	}
	free(line);
	return rc;
}
