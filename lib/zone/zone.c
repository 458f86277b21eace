/*
 * Zone building: turns the SOA, NS, `records` lines, the optional zone file and the
 * balancers of a config into a hash table of nodes whose RRsets are ready-made wire data.
 * ldns parses the zone-file syntax here; nothing of ldns survives into the answer path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "core/name.h"
#include "dns/wire.h"
#include "zone/zone_int.h"

/* Where an RR came from, for error messages. */
struct rr_src {
	const char *file;
	int line;
	int column;
	const char *jpath;
};

struct builder {
	struct steer_zone *z;
	struct steer_errs *errs;
	ldns_rdf *origin;
	bool nomem;
};

static struct znode *find_mut(const struct steer_zone *z, const uint8_t *name, size_t len)
{
	uint32_t h = zone_hash(name, len);

	for (struct znode *n = z->table[h & z->mask]; n != NULL; n = n->next)
		if (n->hash == h && n->name_len == len && memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

const struct znode *zone_find(const struct steer_zone *z, const uint8_t *name, size_t len)
{
	return find_mut(z, name, len);
}

const struct zset *zone_node_set(const struct znode *n, uint16_t type)
{
	for (size_t i = 0; i < n->n_sets; i++)
		if (n->sets[i].type == type)
			return &n->sets[i];
	return NULL;
}

static int rehash(struct steer_zone *z)
{
	size_t size = 64;
	struct znode **t;

	while (size < z->n_nodes * 2)
		size *= 2;
	t = calloc(size, sizeof(*t));
	if (t == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct znode *n = z->nodes[i];

		n->next = t[n->hash & (size - 1)];
		t[n->hash & (size - 1)] = n;
	}
	free(z->table);
	z->table = t;
	z->mask = size - 1;
	return 0;
}

static struct znode *node_new(struct steer_zone *z, const uint8_t *name, size_t len)
{
	struct znode *n;

	if (z->n_nodes == z->cap_nodes) {
		size_t cap = z->cap_nodes != 0 ? z->cap_nodes * 2 : 64;
		struct znode **v = realloc(z->nodes, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		z->nodes = v;
		z->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->name = malloc(len);
	if (n->name == NULL) {
		free(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	n->name_len = (uint8_t)len;
	n->hash = zone_hash(name, len);
	z->nodes[z->n_nodes++] = n;
	if (z->n_nodes * 2 > z->mask + 1 && rehash(z) < 0)
		return NULL;
	if (z->table[n->hash & z->mask] != n) {
		n->next = z->table[n->hash & z->mask];
		z->table[n->hash & z->mask] = n;
	}
	return n;
}

/* Find or create the node of @p name and every ancestor up to the apex (empty
 * non-terminals must exist as nodes so that they answer NODATA, not NXDOMAIN). */
static struct znode *node_get(struct steer_zone *z, const uint8_t *name, size_t len)
{
	struct znode *n = find_mut(z, name, len);

	if (n != NULL)
		return n;
	if (len > z->apex_len && node_get(z, name + name[0] + 1, len - name[0] - 1u) == NULL)
		return NULL;
	return node_new(z, name, len);
}

static struct zset *set_get(struct znode *n, uint16_t type)
{
	struct zset *v;

	for (size_t i = 0; i < n->n_sets; i++)
		if (n->sets[i].type == type)
			return &n->sets[i];
	v = realloc(n->sets, (n->n_sets + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	n->sets = v;
	v = &n->sets[n->n_sets++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

/* RFC 2181 §5: an RRset is a set; a repeated RR is dropped. */
static bool set_has_rdata(const struct zset *s, const uint8_t *rdata, uint16_t rdlen)
{
	size_t off = 0;

	for (uint16_t i = 0; i < s->count; i++) {
		uint16_t l = (uint16_t)((s->wire[off + 8] << 8) | s->wire[off + 9]);

		if (l == rdlen && memcmp(s->wire + off + 10, rdata, rdlen) == 0)
			return true;
		off += 10u + l;
	}
	return false;
}

static int set_append(struct zset *s, uint16_t cls, uint32_t ttl, const uint8_t *rdata,
		      uint16_t rdlen)
{
	uint8_t *w;
	uint8_t *p;

	if (set_has_rdata(s, rdata, rdlen))
		return 0;
	w = realloc(s->wire, s->wire_len + 10u + rdlen);
	if (w == NULL)
		return STEER_ENOMEM;
	s->wire = w;
	p = w + s->wire_len;
	p[0] = (uint8_t)(s->type >> 8);
	p[1] = (uint8_t)s->type;
	p[2] = (uint8_t)(cls >> 8);
	p[3] = (uint8_t)cls;
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	p[8] = (uint8_t)(rdlen >> 8);
	p[9] = (uint8_t)rdlen;
	memcpy(p + 10, rdata, rdlen);
	s->wire_len += 10u + rdlen;
	s->count++;
	return 0;
}

#define add_err(b, src, ...)                                                                       \
	steer_errs_add((b)->errs, (src)->file, (src)->line, (src)->column, (src)->jpath,           \
		       __VA_ARGS__)

/* Rules that keep the zone answerable: no data beside a CNAME, nothing but NS/DS/glue
 * where it would be occluded, nothing that would shadow a balancer. */
static bool rr_conflicts(struct builder *b, const struct znode *n, uint16_t type,
			 const struct rr_src *src, const char *owner)
{
	bool has_cname = zone_node_set(n, STEER_RR_CNAME) != NULL;

	if (type == STEER_RR_CNAME && n == b->z->apex_node) {
		add_err(b, src, "CNAME not allowed at the zone apex %s", owner);
		return true;
	}
	if ((type == STEER_RR_CNAME && n->n_sets > (has_cname ? 1u : 0u)) ||
	    (type != STEER_RR_CNAME && has_cname)) {
		add_err(b, src,
			"%s already has %s; a CNAME cannot share its name (RFC 1034 §3.6.2)", owner,
			has_cname ? "a CNAME" : "other records");
		return true;
	}
	if (type == STEER_RR_CNAME && zone_node_set(n, STEER_RR_CNAME) != NULL) {
		add_err(b, src, "%s has more than one CNAME%s", owner, "");
		return true;
	}
	if (n->bal != NULL &&
	    (type == STEER_RR_A || type == STEER_RR_AAAA || type == STEER_RR_CNAME)) {
		add_err(b, src, "%s is a balancer; its A, AAAA and CNAME answers come from pools%s",
			owner, "");
		return true;
	}
	return false;
}

static int add_rr(struct builder *b, ldns_rr *rr, const struct rr_src *src)
{
	ldns_rdf *owner = ldns_rr_owner(rr);
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	char text[1024];
	ldns_buffer *buf;
	struct znode *n;
	struct zset *s;
	int rc;

	ldns_dname2canonical(owner);
	steer_name_to_text(ldns_rdf_data(owner), text, sizeof(text));
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		add_err(b, src, "%s: only class IN is served", text);
		return 0;
	}
	if (type == STEER_RR_SOA) {
		add_err(b, src, "%s: the SOA comes from zone.soa; remove this record", text);
		return 0;
	}
	if (!steer_name_is_subdomain(ldns_rdf_data(owner), ldns_rdf_size(owner), b->z->apex,
				     b->z->apex_len)) {
		add_err(b, src, "%s is outside the zone %s", text, b->z->cfg->zone.name);
		return 0;
	}
	n = node_get(b->z, ldns_rdf_data(owner), ldns_rdf_size(owner));
	if (n == NULL)
		return STEER_ENOMEM;
	if (rr_conflicts(b, n, type, src, text))
		return 0;
	buf = ldns_buffer_new(256);
	if (buf == NULL)
		return STEER_ENOMEM;
	rc = STEER_ENOMEM;
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK)
		goto out;
	s = set_get(n, type);
	if (s == NULL)
		goto out;
	rc = set_append(s, LDNS_RR_CLASS_IN, ldns_rr_ttl(rr), ldns_buffer_begin(buf),
			(uint16_t)ldns_buffer_position(buf));
out:
	ldns_buffer_free(buf);
	return rc;
}

/* Parse one line of zone-file syntax and add it. */
static int add_text(struct builder *b, const char *line, uint32_t default_ttl,
		    const struct rr_src *src)
{
	ldns_rr *rr = NULL;
	ldns_rdf *prev = NULL;
	ldns_status st = ldns_rr_new_frm_str(&rr, line, default_ttl, b->origin, &prev);
	int rc;

	ldns_rdf_deep_free(prev);
	if (st != LDNS_STATUS_OK) {
		add_err(b, src, "cannot parse record \"%s\": %s", line,
			ldns_get_errorstr_by_id(st));
		return 0;
	}
	rc = add_rr(b, rr, src);
	ldns_rr_free(rr);
	return rc;
}

/* "" if @p name already ends in a dot, else "." (config names may be given either way) */
static const char *dot(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '.' ? "" : ".";
}

static int add_apex(struct builder *b)
{
	const struct steer_zone_conf *zc = &b->z->cfg->zone;
	struct rr_src src = {b->z->cfg->path, zc->pos.line, zc->pos.column, "zone"};
	char line[1536];
	int rc;

	snprintf(line, sizeof(line), "@ %u IN SOA %s%s %s%s %u %u %u %u %u", zc->soa_ttl,
		 zc->soa_mname, dot(zc->soa_mname), zc->soa_rname, dot(zc->soa_rname),
		 zc->soa_serial, zc->soa_refresh, zc->soa_retry, zc->soa_expire, zc->soa_minimum);
	src.jpath = "zone.soa";
	{
		ldns_rr *rr = NULL;
		ldns_rdf *prev = NULL;
		ldns_status st = ldns_rr_new_frm_str(&rr, line, 0, b->origin, &prev);
		struct zset *s;
		ldns_buffer *buf = ldns_buffer_new(256);

		ldns_rdf_deep_free(prev);
		rc = STEER_ENOMEM;
		if (st != LDNS_STATUS_OK) {
			add_err(b, &src, "bad SOA: %s", ldns_get_errorstr_by_id(st));
			rc = 0;
		} else if (buf != NULL && ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK) {
			uint32_t neg =
				zc->soa_ttl < zc->soa_minimum ? zc->soa_ttl : zc->soa_minimum;

			s = set_get(b->z->apex_node, STEER_RR_SOA);
			rc = s == NULL ? STEER_ENOMEM
				       : set_append(s, LDNS_RR_CLASS_IN, zc->soa_ttl,
						    ldns_buffer_begin(buf),
						    (uint16_t)ldns_buffer_position(buf));
			b->z->neg_soa.type = STEER_RR_SOA;
			if (rc == 0)
				rc = set_append(&b->z->neg_soa, LDNS_RR_CLASS_IN, neg,
						ldns_buffer_begin(buf),
						(uint16_t)ldns_buffer_position(buf));
		}
		ldns_buffer_free(buf);
		ldns_rr_free(rr);
		if (rc < 0)
			return rc;
	}
	src.jpath = "zone.ns";
	for (size_t i = 0; i < zc->n_ns; i++) {
		snprintf(line, sizeof(line), "@ %u IN NS %s%s", zc->ns_ttl, zc->ns[i],
			 dot(zc->ns[i]));
		rc = add_text(b, line, zc->ns_ttl, &src);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_records(struct builder *b)
{
	const struct steer_zone_conf *zc = &b->z->cfg->zone;

	for (size_t i = 0; i < zc->n_records; i++) {
		const struct steer_record_src *r = &zc->records[i];
		struct rr_src src = {r->pos.file, r->pos.line, r->pos.column, r->jpath};
		int rc = add_text(b, r->text, zc->soa_ttl, &src);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One record (or directive) of the zone file. @return 1 to go on, 0 at the end or after an
 * error (reported), or a negative code. */
static int zone_file_step(struct builder *b, FILE *fp, uint32_t *ttl, ldns_rdf **origin,
			  ldns_rdf **prev, struct rr_src *src)
{
	ldns_rr *rr = NULL;
	ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, ttl, origin, prev, &src->line);
	int rc = 1;

	switch (st) {
	case LDNS_STATUS_OK:
		/* the zone file's own SOA is ignored: zone.soa in steerd.json is the one served */
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA && add_rr(b, rr, src) < 0)
			rc = STEER_ENOMEM;
		break;
	case LDNS_STATUS_SYNTAX_EMPTY:
	case LDNS_STATUS_SYNTAX_TTL:
	case LDNS_STATUS_SYNTAX_ORIGIN:
		break; /* blank line, comment, $TTL, $ORIGIN */
	default:
		if (feof(fp) && st == LDNS_STATUS_SYNTAX_ERR)
			return 0;
		src->column = 1;
		add_err(b, src, "%s",
			st == LDNS_STATUS_SYNTAX_INCLUDE ? "$INCLUDE is not supported"
							 : ldns_get_errorstr_by_id(st));
		rc = 0;
	}
	ldns_rr_free(rr);
	return rc;
}

/*
 * zone.zone_file, read record by record (ldns_zone_new_frm_fp_l would leak the records
 * read before a syntax error, and a reload must not leak).
 */
static int add_zone_file(struct builder *b)
{
	const struct steer_zone_conf *zc = &b->z->cfg->zone;
	struct rr_src src = {zc->zone_file, 0, 0, NULL};
	uint32_t ttl = zc->soa_ttl;
	ldns_rdf *origin, *prev = NULL;
	int rc = 1;
	FILE *fp;

	if (zc->zone_file == NULL)
		return 0;
	fp = fopen(zc->zone_file, "r");
	if (fp == NULL) {
		char eb[128];

		add_err(b, &src, "cannot open zone file: %s",
			steer_errno_str(errno, eb, sizeof(eb)));
		return 0;
	}
	origin = ldns_rdf_clone(b->origin);
	if (origin == NULL)
		rc = STEER_ENOMEM;
	while (rc > 0 && !feof(fp))
		rc = zone_file_step(b, fp, &ttl, &origin, &prev, &src);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc < 0 ? rc : 0;
}

static int add_balancers(struct builder *b)
{
	const struct steer_config *cfg = b->z->cfg;

	for (size_t i = 0; i < cfg->n_balancers; i++) {
		const struct steer_balancer *bal = &cfg->balancers[i];
		struct rr_src src = {cfg->path, bal->pos.line, bal->pos.column, "balancers"};
		uint8_t wire[STEER_NAME_MAX];
		int len = steer_name_from_text(bal->fqdn, NULL, wire, sizeof(wire));
		struct znode *n;

		if (len < 0) {
			add_err(b, &src, "bad balancer name %s", bal->fqdn);
			continue;
		}
		n = node_get(b->z, wire, (size_t)len);
		if (n == NULL)
			return STEER_ENOMEM;
		n->bal = bal;
	}
	return 0;
}

static const struct znode *find_cut(const struct steer_zone *z, const struct znode *n)
{
	/* walk the suffixes from the one just below the apex down to the node itself */
	size_t offs[128];
	int k = 0;

	for (size_t o = 0; o + z->apex_len < n->name_len; o += (size_t)n->name[o] + 1)
		offs[k++] = o;
	while (k-- > 0) {
		const struct znode *a = zone_find(z, n->name + offs[k], n->name_len - offs[k]);

		if (a != NULL && zone_node_set(a, STEER_RR_NS) != NULL)
			return a;
	}
	return NULL;
}

/* Where the target name starts in the RDATA of an NS, MX or SRV record; -1 for the types
 * whose targets get no additional data. */
static int target_offset(uint16_t type)
{
	switch (type) {
	case STEER_RR_NS:
		return 0;
	case STEER_RR_MX:
		return 2; /* preference */
	case STEER_RR_SRV:
		return 6; /* priority, weight, port */
	default:
		return -1;
	}
}

/* The node of a name from RDATA (written in any case), or NULL. */
static const struct znode *find_any_case(const struct steer_zone *z, const uint8_t *name,
					 size_t len)
{
	uint8_t lower[STEER_DNS_MAX_NAME];

	if (len > sizeof(lower))
		return NULL;
	for (size_t i = 0; i < len; i++)
		lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (uint8_t)(name[i] + 32) : name[i];
	return zone_find(z, lower, len);
}

static bool has_target(const struct zset *s, const struct znode *g)
{
	for (size_t i = 0; i < s->n_glue; i++)
		if (s->glue[i] == g)
			return true;
	return false;
}

/* Additional data: the in-zone targets of an NS, MX or SRV RRset whose addresses this zone
 * holds, each once: glue for NS (RFC 1034 §4.2.1), the exchange or target for MX and SRV
 * (RFC 1035 §3.3.9, RFC 2782) when it is authoritative data (not below a cut). */
static int link_targets(struct steer_zone *z, struct zset *s, size_t skip)
{
	size_t off = 0;

	s->glue = calloc(s->count, sizeof(*s->glue));
	if (s->glue == NULL)
		return STEER_ENOMEM;
	for (uint16_t i = 0; i < s->count; i++) {
		uint16_t l = (uint16_t)((s->wire[off + 8] << 8) | s->wire[off + 9]);
		const struct znode *g =
			l > skip ? find_any_case(z, s->wire + off + 10 + skip, l - skip) : NULL;

		if (g != NULL && !has_target(s, g) && (s->type == STEER_RR_NS || g->cut == NULL) &&
		    (zone_node_set(g, STEER_RR_A) != NULL ||
		     zone_node_set(g, STEER_RR_AAAA) != NULL))
			s->glue[s->n_glue++] = g;
		off += 10u + l;
	}
	return 0;
}

/* A CNAME's target, lower-cased for lookups. */
static void link_cname(struct zset *s)
{
	s->target = s->wire + 10;
	s->target_len = (uint8_t)(s->wire_len - 10);
	for (size_t c = 0; c < s->target_len; c += 1u + s->target[c])
		for (size_t j = 1; j <= s->target[c]; j++)
			if (s->target[c + j] >= 'A' && s->target[c + j] <= 'Z')
				s->target[c + j] += 32;
}

/* Cuts and wildcards first: linking targets needs every node's cut. */
static void link_cuts(struct steer_zone *z, struct steer_errs *errs)
{
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct znode *n = z->nodes[i];

		n->cut = find_cut(z, n);
		if (n->name[0] == 1 && n->name[1] == '*' && n->name_len > z->apex_len) {
			struct znode *parent = find_mut(z, n->name + 2, n->name_len - 2u);

			if (parent != NULL)
				parent->wild = n;
		}
		if (n->bal != NULL && n->cut != NULL)
			steer_errs_add(errs, z->cfg->path, n->bal->pos.line, n->bal->pos.column,
				       "balancers", "balancer %s is below a delegation (NS record)",
				       n->bal->fqdn);
	}
}

static int link_nodes(struct steer_zone *z, struct steer_errs *errs)
{
	link_cuts(z, errs);
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct znode *n = z->nodes[i];

		for (size_t k = 0; k < n->n_sets; k++) {
			struct zset *s = &n->sets[k];
			int skip = target_offset(s->type);

			if (skip >= 0 && link_targets(z, s, (size_t)skip) < 0)
				return STEER_ENOMEM;
			if (s->type == STEER_RR_CNAME)
				link_cname(s);
		}
	}
	return 0;
}

static void set_identity(struct steer_zone *z)
{
	const struct steer_config *cfg = z->cfg;

	snprintf(z->identity, sizeof(z->identity), "%s",
		 cfg->identity != NULL ? cfg->identity : "");
	z->identity_len = strlen(z->identity);
	z->version_hidden = cfg->version == NULL;
	snprintf(z->version, sizeof(z->version), "%s", cfg->version != NULL ? cfg->version : "");
	z->version_len = strlen(z->version);
}

int steer_zone_new(const struct steer_config *cfg, struct steer_zone **out, struct steer_errs *errs)
{
	struct builder b = {.errs = errs};
	size_t n_errs = errs->n;
	int len;
	int rc = STEER_ENOMEM;

	b.z = calloc(1, sizeof(*b.z));
	if (b.z == NULL)
		return STEER_ENOMEM;
	b.z->cfg = cfg;
	atomic_init(&b.z->serial, cfg->zone.soa_serial);
	set_identity(b.z);
	len = steer_name_from_text(cfg->zone.name, NULL, b.z->apex, sizeof(b.z->apex));
	if (len < 0) {
		rc = steer_errs_add(errs, cfg->path, cfg->zone.pos.line, cfg->zone.pos.column,
				    "zone.name", "bad zone name %s", cfg->zone.name);
		goto out;
	}
	b.z->apex_len = (uint8_t)len;
	b.origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, (size_t)len, b.z->apex);
	if (b.origin == NULL || rehash(b.z) < 0)
		goto out;
	b.z->apex_node = node_get(b.z, b.z->apex, b.z->apex_len);
	if (b.z->apex_node == NULL)
		goto out;
	if ((rc = add_apex(&b)) < 0 || (rc = add_balancers(&b)) < 0 || (rc = add_records(&b)) < 0 ||
	    (rc = add_zone_file(&b)) < 0 || (rc = link_nodes(b.z, errs)) < 0)
		goto out;
	rc = errs->n > n_errs ? STEER_ECONFIG : 0;
	if (rc == 0) {
		*out = b.z;
		b.z = NULL;
	}
out:
	ldns_rdf_deep_free(b.origin);
	steer_zone_free(b.z);
	return rc;
}

size_t steer_zone_node_count(const struct steer_zone *zone)
{
	return zone->n_nodes;
}

void steer_zone_free(struct steer_zone *zone)
{
	if (zone == NULL)
		return;
	for (size_t i = 0; i < zone->n_nodes; i++) {
		struct znode *n = zone->nodes[i];

		for (size_t k = 0; k < n->n_sets; k++) {
			free(n->sets[k].wire);
			free(n->sets[k].glue);
		}
		free(n->sets);
		free(n->name);
		free(n);
	}
	free(zone->neg_soa.wire);
	free(zone->nodes);
	free(zone->table);
	free(zone);
}

uint32_t steer_zone_serial(const struct steer_zone *zone)
{
	return atomic_load_explicit(&zone->serial, memory_order_relaxed);
}

void steer_zone_set_serial(struct steer_zone *zone, uint32_t serial)
{
	atomic_store_explicit(&zone->serial, serial, memory_order_relaxed);
}

int steer_zone_visit(const struct steer_zone *zone, steer_zone_visit_fn *fn, void *arg)
{
	struct steer_zone_rrset *sets = NULL;
	size_t max = 1;
	int rc = 0;

	for (size_t i = 0; i < zone->n_nodes; i++)
		max = zone->nodes[i]->n_sets > max ? zone->nodes[i]->n_sets : max;
	sets = calloc(max, sizeof(*sets));
	if (sets == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < zone->n_nodes && rc >= 0; i++) {
		const struct znode *n = zone->nodes[i];
		struct steer_zone_name v = {n->name, n->name_len, n->bal, sets, n->n_sets};

		if (n->n_sets == 0 && n->bal == NULL)
			continue; /* an empty non-terminal */
		for (size_t k = 0; k < n->n_sets; k++) {
			sets[k] = (struct steer_zone_rrset){n->sets[k].type, n->sets[k].count,
							    n->sets[k].wire, n->sets[k].wire_len};
		}
		rc = fn(arg, &v);
	}
	free(sets);
	return rc < 0 ? rc : 0;
}
