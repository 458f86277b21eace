/*
 * Zone versions: the serial (RFC 1982, never backwards, restored from SQLite), a new
 * version only when what secondaries get changes, the journal of the last diffs (bounded
 * by count and bytes) and its copy in the store. Versions and diffs are immutable and
 * reference counted, so a transfer on the TCP thread never holds the lock while it writes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "store/store.h"
#include "xfr/xfr_int.h"

#define STEER_LOG_SRC "xfr"
#include "core/log.h"

/* Bytes of diffs the journal holds at most, whatever journal_versions says. */
#define JOURNAL_MAX_BYTES (64u * 1024 * 1024)

bool steer_xfr_serial_gt(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2 with SERIAL_BITS 32 */
	return (a < b && b - a > 0x80000000u) || (a > b && a - b < 0x80000000u);
}

uint32_t steer_xfr_serial_next(int policy, uint32_t cur, uint64_t now_s)
{
	if (policy == STEER_SERIAL_UNIXTIME && steer_xfr_serial_gt((uint32_t)now_s, cur))
		return (uint32_t)now_s;
	return cur + 1u; /* wraps mod 2^32 (RFC 1982 §3.1) */
}

static uint64_t wall_s(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

void version_unref(struct version *v)
{
	if (v == NULL || atomic_fetch_sub(&v->ref, 1) != 1)
		return;
	rrs_fini(&v->soa);
	rrs_fini(&v->rrs);
	free(v);
}

void diff_unref(struct diff *d)
{
	if (d == NULL || atomic_fetch_sub(&d->ref, 1) != 1)
		return;
	rrs_fini(&d->soa);
	rrs_fini(&d->del);
	rrs_fini(&d->add);
	free(d);
}

/* Append the RRs of @p a missing from @p b (TTL counts) to @p out. Both sorted. */
static int only_in(const struct rrs *a, const struct rrs *b, struct rrs *out)
{
	size_t j = 0;
	int rc = 0;

	for (size_t i = 0; i < a->n && rc == 0; i++) {
		int c = 1;

		while (j < b->n && (c = rrs_cmp(&a->v[i], &b->v[j])) > 0)
			j++;
		if (j >= b->n)
			c = -1;
		if (c != 0 || rrs_ttl(&a->v[i]) != rrs_ttl(&b->v[j]))
			rc = rrs_push_rr(out, &a->v[i]);
	}
	return rc;
}

struct diff *diff_make(const struct version *a, const struct version *b)
{
	struct diff *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	atomic_init(&d->ref, 1);
	d->from = a->serial;
	d->to = b->serial;
	if (rrs_push_rr(&d->soa, &a->soa.v[0]) < 0 || rrs_push_rr(&d->soa, &b->soa.v[0]) < 0 ||
	    only_in(&a->rrs, &b->rrs, &d->del) < 0 || only_in(&b->rrs, &a->rrs, &d->add) < 0) {
		diff_unref(d);
		return NULL;
	}
	rrs_seal(&d->soa);
	rrs_seal(&d->del);
	rrs_seal(&d->add);
	d->bytes = sizeof(*d) + d->soa.cap + d->del.cap + d->add.cap +
		   (d->soa.cap_v + d->del.cap_v + d->add.cap_v) * sizeof(struct xrr);
	return d;
}

static void journal_drop_oldest(struct steer_xfr *x)
{
	x->jr_bytes -= x->jr[0]->bytes;
	diff_unref(x->jr[0]);
	memmove(x->jr, x->jr + 1, (x->jr_n - 1) * sizeof(*x->jr));
	x->jr_n--;
}

static void journal_clear(struct steer_xfr *x)
{
	while (x->jr_n > 0)
		journal_drop_oldest(x);
}

/* Append @p d (the journal takes the reference); drop the oldest beyond the bounds: at
 * most `keep` diffs and JOURNAL_MAX_BYTES (the newest diff always stays). */
static void journal_push(struct steer_xfr *x, struct diff *d)
{
	while (x->jr_n > 0 && x->jr_n >= x->keep)
		journal_drop_oldest(x);
	if (x->keep == 0) {
		diff_unref(d);
		return;
	}
	x->jr[x->jr_n++] = d;
	x->jr_bytes += d->bytes;
	while (x->jr_n > 1 && x->jr_bytes > JOURNAL_MAX_BYTES)
		journal_drop_oldest(x);
}

/* ---- restore ---- */

struct restore {
	struct version *v;
	struct diff **d;
	size_t n;
	size_t cap;
	int rc;
};

/* Split zone-file @p text into its first RR (which must be a SOA) and the rest. */
static int split_soa(const char *text, struct rrs *soa, struct rrs *rest)
{
	struct rrs all = {0};
	int rc = rrs_from_text(&all, text);

	rrs_seal(&all);
	if (rc == 0 && (all.n == 0 || all.v[0].p[all.v[0].owner_len + 1] != 6 ||
			all.v[0].p[all.v[0].owner_len] != 0))
		rc = STEER_EZONE;
	for (size_t i = 0; i < all.n && rc == 0; i++)
		rc = rrs_push_rr(i == 0 ? soa : rest, &all.v[i]);
	rrs_fini(&all);
	rrs_seal(soa);
	rrs_seal(rest);
	return rc;
}

static void restore_state(void *arg, uint32_t serial, const char *zone)
{
	struct restore *r = arg;
	struct version *v = calloc(1, sizeof(*v));

	if (v == NULL) {
		r->rc = STEER_ENOMEM;
		return;
	}
	atomic_init(&v->ref, 1);
	v->serial = serial;
	r->rc = split_soa(zone, &v->soa, &v->rrs);
	rrs_sort_unique(&v->rrs);
	if (r->rc == 0)
		rrs_set_soa_serial(&v->soa.v[0], v->soa.buf, serial);
	version_unref(r->v);
	r->v = r->rc == 0 ? v : NULL;
	if (r->rc < 0)
		version_unref(v);
}

static void restore_diff(void *arg, uint32_t from, uint32_t to, const char *del, const char *add)
{
	struct restore *r = arg;
	struct diff *d = calloc(1, sizeof(*d));
	struct rrs soa2 = {0};
	int rc = d != NULL ? 0 : STEER_ENOMEM;

	if (rc == 0) {
		atomic_init(&d->ref, 1);
		d->from = from;
		d->to = to;
		rc = split_soa(del, &d->soa, &d->del);
	}
	if (rc == 0)
		rc = split_soa(add, &soa2, &d->add);
	if (rc == 0)
		rc = rrs_push_rr(&d->soa, &soa2.v[0]);
	rrs_fini(&soa2);
	if (rc == 0 && r->n == r->cap) {
		void *p = realloc(r->d, (r->cap * 2 + 16) * sizeof(*r->d));

		rc = p != NULL ? 0 : STEER_ENOMEM;
		if (p != NULL) {
			r->d = p;
			r->cap = r->cap * 2 + 16;
		}
	}
	if (rc < 0) {
		diff_unref(d);
		r->rc = r->rc < 0 ? r->rc : rc;
		return;
	}
	rrs_seal(&d->soa);
	d->bytes = sizeof(*d) + d->soa.cap + d->del.cap + d->add.cap;
	r->d[r->n++] = d;
}

/* Keep the stored diffs that lead, one after the other, to the restored version. */
static void restore_journal(struct steer_xfr *x, struct restore *r)
{
	size_t first = r->n;
	uint32_t want = x->cur->serial;

	while (first > 0 && r->d[first - 1]->to == want && r->n - first < x->keep) {
		first--;
		want = r->d[first]->from;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (i >= first)
			journal_push(x, r->d[i]);
		else
			diff_unref(r->d[i]);
	}
}

static void restore(struct steer_xfr *x, const char *path)
{
	struct restore r = {0};
	struct steer_err err = {0};
	int n = steer_store_restore_xfr(path, restore_state, restore_diff, &r, &err);

	if (n < 0 || r.rc < 0) {
		log_err("cannot restore the zone serial and journal from %s: %s; serials start "
			"again from zone.soa.serial",
			path, n < 0 ? err.msg : steer_strerror(r.rc));
		version_unref(r.v);
		r.v = NULL;
	}
	if (r.v != NULL) {
		x->cur = r.v;
		atomic_store(&x->serial, r.v->serial);
		restore_journal(x, &r);
		log_info("restored zone serial=%u journal=%zu", r.v->serial, x->jr_n);
	} else {
		for (size_t i = 0; i < r.n; i++)
			diff_unref(r.d[i]);
	}
	free(r.d);
}

/* ---- life cycle ---- */

int steer_xfr_new(const struct steer_config *cfg, struct steer_store *store, struct steer_xfr **out,
		  struct steer_err *err)
{
	struct steer_xfr *x = calloc(1, sizeof(*x));

	if (x == NULL ||
	    (x->jr = calloc(STEER_XFR_JOURNAL_VERSIONS_MAX + 1, sizeof(*x->jr))) == NULL) {
		free(x);
		return steer_err_set(err, STEER_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&x->mu, NULL);
	x->jr_cap = STEER_XFR_JOURNAL_VERSIONS_MAX + 1;
	x->keep = cfg->xfr.journal_versions;
	x->store = store;
	x->clock = wall_s;
	atomic_init(&x->serial, cfg->zone.soa_serial);
	if (cfg->state_path != NULL)
		restore(x, cfg->state_path);
	*out = x;
	return 0;
}

void steer_xfr_set_store(struct steer_xfr *x, struct steer_store *store)
{
	x->store = store;
}

void steer_xfr_set_clock(struct steer_xfr *x, steer_xfr_clock_fn *fn, void *arg)
{
	x->clock = fn != NULL ? fn : wall_s;
	x->clock_arg = arg;
}

uint32_t steer_xfr_serial(const struct steer_xfr *x)
{
	return atomic_load(&x->serial);
}

void steer_xfr_free(struct steer_xfr *x)
{
	if (x == NULL)
		return;
	journal_clear(x);
	free(x->jr);
	version_unref(x->cur);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

/* ---- versions ---- */

/* The whole of @p v as zone-file text (SOA first). @return 0 or an error. */
static int version_text(const struct version *v, char **out)
{
	size_t len = 0, cap = 0;
	char *text = NULL;
	int rc = rrs_to_text(&v->soa, &text, &len, &cap);

	if (rc == 0)
		rc = rrs_to_text(&v->rrs, &text, &len, &cap);
	if (rc == 0 && text == NULL)
		rc = (text = strdup("")) != NULL ? 0 : STEER_ENOMEM;
	if (rc < 0) {
		free(text);
		text = NULL;
	}
	*out = text;
	return rc;
}

/* One side of @p d as text: its SOA, then its RRs (the form IXFR sends them in). */
static int diff_text(const struct diff *d, bool added, char **out)
{
	struct rrs soa = {.buf = d->soa.buf, .v = (struct xrr *)&d->soa.v[added ? 1 : 0], .n = 1};
	size_t len = 0, cap = 0;
	char *text = NULL;
	int rc = rrs_to_text(&soa, &text, &len, &cap);

	if (rc == 0)
		rc = rrs_to_text(added ? &d->add : &d->del, &text, &len, &cap);
	if (rc < 0) {
		free(text);
		text = NULL;
	}
	*out = text;
	return rc;
}

/* Record @p v (and @p d, the diff to it, or NULL) in the store. Daemon thread. */
static void persist(struct steer_xfr *x, const struct version *v, const struct diff *d)
{
	struct steer_store_xfr_version sv = {.time_ms = (int64_t)x->clock(x->clock_arg) * 1000,
					     .serial = v->serial,
					     .from_serial = d != NULL ? d->from : 0,
					     .has_diff = d != NULL,
					     .keep = x->keep};
	char *zone = NULL, *del = NULL, *add = NULL;
	int rc;

	if (x->store == NULL)
		return;
	rc = version_text(v, &zone);
	if (rc == 0 && d != NULL && (rc = diff_text(d, false, &del)) == 0)
		rc = diff_text(d, true, &add);
	sv.zone = zone;
	sv.deleted = del;
	sv.added = add;
	if (rc < 0)
		log_err("zone serial=%u not recorded: %s", v->serial, steer_strerror(rc));
	else if (!steer_store_put_xfr(x->store, &sv))
		log_err("store queue full: zone serial=%u not recorded", v->serial);
	free(zone);
	free(del);
	free(add);
}

/* The serial of the new version after @p cur (NULL: the first one ever). */
static uint32_t new_serial(struct steer_xfr *x, const struct version *cur, int policy,
			   uint32_t cfg_serial, bool raise)
{
	uint64_t now = x->clock(x->clock_arg);

	if (cur == NULL)
		return policy == STEER_SERIAL_UNIXTIME &&
				       steer_xfr_serial_gt((uint32_t)now, cfg_serial)
			       ? (uint32_t)now
			       : cfg_serial;
	return raise ? cfg_serial : steer_xfr_serial_next(policy, cur->serial, now);
}

/* Same SOA (but for the serial) and same RRs? */
static bool same_content(const struct version *cur, struct version *nv)
{
	rrs_set_soa_serial(&nv->soa.v[0], nv->soa.buf, cur->serial);
	return rrs_equal(&cur->soa, &nv->soa) && rrs_equal(&cur->rrs, &nv->rrs);
}

/* Under x->mu: install @p nv if it differs; @return the diff to it through *@p dp. */
static bool install(struct steer_xfr *x, const struct steer_config *cfg, struct version *nv,
		    struct diff **dp)
{
	struct version *cur = x->cur;
	const uint32_t cs = cfg->zone.soa_serial;
	bool raise = (!x->cfg_seen || cs != x->cfg_serial) &&
		     (cur == NULL || steer_xfr_serial_gt(cs, cur->serial));

	x->cfg_seen = true;
	x->cfg_serial = cs;
	x->keep = cfg->xfr.journal_versions;
	if (cur != NULL && !raise && same_content(cur, nv))
		return false;
	nv->serial = new_serial(x, cur, (int)cfg->xfr.serial_policy, cs, raise);
	rrs_set_soa_serial(&nv->soa.v[0], nv->soa.buf, nv->serial);
	*dp = cur != NULL ? diff_make(cur, nv) : NULL;
	if (*dp != NULL) {
		atomic_fetch_add(&(*dp)->ref, 1); /* one for the journal, one for persist() */
		journal_push(x, *dp);
	} else {
		journal_clear(x); /* no diff (first version, or no memory): the chain ends */
	}
	x->cur = nv;
	atomic_store(&x->serial, nv->serial);
	version_unref(cur);
	return true;
}

int steer_xfr_update(struct steer_xfr *x, const struct steer_config *cfg,
		     const struct steer_zone *zone, const struct steer_health_snapshot *snap,
		     bool *changed, uint32_t *serial, struct steer_err *err)
{
	struct version *nv = calloc(1, sizeof(*nv));
	struct diff *d = NULL;
	int rc = nv != NULL ? 0 : STEER_ENOMEM;

	*changed = false;
	if (rc == 0) {
		atomic_init(&nv->ref, 1);
		rc = xfr_build(cfg, zone, snap, &nv->soa, &nv->rrs);
	}
	if (rc < 0) {
		version_unref(nv);
		*serial = steer_xfr_serial(x);
		return steer_err_set(err, rc, "zone version not built: %s", steer_strerror(rc));
	}
	pthread_mutex_lock(&x->mu);
	*changed = install(x, cfg, nv, &d);
	if (*changed)
		atomic_fetch_add(&nv->ref, 1); /* kept for persist() below */
	*serial = x->cur->serial;
	pthread_mutex_unlock(&x->mu);
	if (*changed) {
		log_info("zone serial=%u rrs=%zu deleted=%zu added=%zu", nv->serial, nv->rrs.n,
			 d != NULL ? d->del.n : 0, d != NULL ? d->add.n : 0);
		persist(x, nv, d);
	}
	version_unref(nv); /* the creation reference, or the one taken for persist() */
	diff_unref(d);
	return 0;
}

struct version *xfr_take(struct steer_xfr *x, bool want_diffs, uint32_t from_serial,
			 struct diff ***chain, size_t *n_chain)
{
	struct version *v;
	size_t i;

	*chain = NULL;
	*n_chain = 0;
	pthread_mutex_lock(&x->mu);
	v = x->cur;
	if (v != NULL)
		atomic_fetch_add(&v->ref, 1);
	for (i = x->jr_n; want_diffs && v != NULL && i > 0; i--) {
		if (x->jr[i - 1]->from == from_serial)
			break;
	}
	if (want_diffs && v != NULL && i > 0 &&
	    (*chain = calloc(x->jr_n, sizeof(**chain))) != NULL) {
		for (size_t k = i - 1; k < x->jr_n; k++) {
			atomic_fetch_add(&x->jr[k]->ref, 1);
			(*chain)[(*n_chain)++] = x->jr[k];
		}
	}
	pthread_mutex_unlock(&x->mu);
	return v;
}

int steer_xfr_zone_text(struct steer_xfr *x, char **out)
{
	struct diff **chain;
	size_t n;
	struct version *v = xfr_take(x, false, 0, &chain, &n);
	int rc = 0;

	*out = NULL;
	if (v != NULL)
		rc = version_text(v, out);
	version_unref(v);
	return rc < 0 ? STEER_ENOMEM : 0;
}
