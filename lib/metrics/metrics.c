/*
 * The metric set: per-thread DNS blocks, the registry that gives every name a slot for
 * good (an open-addressing hash table over (kind, a, b)), the per-thread chunks of
 * counters by slot, and the named counters and histograms outside the answer path.
 */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

/* A named entry; its slot is its index + 1 (slot 0 is the sink). */
struct entry {
	char *a;
	char *b;
	uint8_t kind;
	bool counted; /* a column was added to */
	uint64_t col[STEER_METRICS_COLS];
	struct steer_metrics_hist *hist; /* monitors: allocated on first use */
};

struct steer_metrics {
	pthread_mutex_t lk; /* the registry, the chunk pointers, columns and histograms */
	size_t n_udp;
	size_t n_threads;
	struct steer_metrics_thread *thr;
	struct entry *ent;
	size_t n_ent;
	size_t cap_ent;
	uint32_t *table; /* slot of each bucket, 0 = empty; size mask + 1, a power of two */
	size_t mask;
	int64_t start_ms;
};

/* ---- names ---- */

const char *steer_metrics_qtype_name(unsigned slot)
{
	static const char *const names[STEER_METRICS_QTYPES] = {
		"A",  "NS",     "CNAME", "SOA",  "PTR",   "MX",  "TXT",  "AAAA", "SRV", "NAPTR",
		"DS", "DNSKEY", "TLSA",  "SVCB", "HTTPS", "CAA", "IXFR", "AXFR", "ANY", "other"};

	return slot < STEER_METRICS_QTYPES ? names[slot] : "other";
}

const char *steer_metrics_rcode_name(unsigned rcode)
{
	static const char *const names[STEER_METRICS_RCODES] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
		"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13",
		"RCODE14", "RCODE15",
		/* extended (RFC 6891 §6.1.3, RFC 8945, RFC 7873) */
		"BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC",
		"BADCOOKIE"};

	return rcode < STEER_METRICS_RCODES ? names[rcode] : "other";
}

const char *steer_metrics_probe_class_name(enum steer_probe_class c)
{
	static const char *const names[STEER_PROBE_N] = {"ok",     "timeout", "refused", "tls",
							 "status", "body",    "other"};

	return (unsigned)c < STEER_PROBE_N ? names[c] : "other";
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The reasons are the prober's own wording (lib/monitor). */
enum steer_probe_class steer_metrics_probe_class(bool ok, const char *reason)
{
	if (ok)
		return STEER_PROBE_OK;
	if (reason == NULL)
		return STEER_PROBE_OTHER;
	if (starts(reason, "timeout"))
		return STEER_PROBE_TIMEOUT;
	if (starts(reason, "tls:"))
		return STEER_PROBE_TLS;
	if (starts(reason, "status "))
		return STEER_PROBE_STATUS;
	if (starts(reason, "body ") || starts(reason, "tcp: reply lacks"))
		return STEER_PROBE_BODY;
	if (starts(reason, "connect") || starts(reason, "send:") || starts(reason, "recv:") ||
	    starts(reason, "dns:"))
		return STEER_PROBE_REFUSED; /* "connect refused", "connection closed ..." */
	return STEER_PROBE_OTHER;
}

/* ---- histograms ---- */

const double steer_metrics_bucket_le[STEER_METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

void steer_metrics_hist_observe(struct steer_metrics_hist *h, double seconds)
{
	size_t i = 0;

	while (i < STEER_METRICS_BUCKETS && seconds > steer_metrics_bucket_le[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += seconds;
}

/* ---- the set ---- */

int steer_metrics_map_new(size_t n_balancers, size_t n_pool_slots, size_t n_origins,
			  struct steer_metrics_map **out)
{
	struct steer_metrics_map *map = calloc(1, sizeof(*map));

	if (map == NULL)
		return STEER_ENOMEM;
	map->bal_first = calloc(n_balancers + 1, sizeof(*map->bal_first));
	map->pool_slot = calloc(n_pool_slots + 1, sizeof(*map->pool_slot));
	map->origin = calloc(n_origins + 1, sizeof(*map->origin));
	if (map->bal_first == NULL || map->pool_slot == NULL || map->origin == NULL) {
		steer_metrics_map_free(map);
		return STEER_ENOMEM;
	}
	map->n_balancers = n_balancers;
	map->n_pool_slots = n_pool_slots;
	map->n_origins = n_origins;
	*out = map;
	return 0;
}

void steer_metrics_map_free(struct steer_metrics_map *map)
{
	if (map == NULL)
		return;
	free(map->bal_first);
	free(map->pool_slot);
	free(map->origin);
	free(map);
}

/* Give every thread chunk @p c (zeroed). Holds lk. @return 0 or STEER_ENOMEM. */
static int chunk_ensure(struct steer_metrics *m, size_t c)
{
	const size_t size = STEER_METRICS_CHUNK * sizeof(uint64_t);

	for (size_t t = 0; t < m->n_threads; t++) {
		_Atomic uint64_t *p;

		if (m->thr[t].chunk[c] != NULL)
			continue;
		p = aligned_alloc(64, size);
		if (p == NULL)
			return STEER_ENOMEM; /* the chunks given so far stay: harmless */
		memset(p, 0, size);
		/* no published map holds a slot of this chunk yet, so no thread reads it */
		m->thr[t].chunk[c] = p;
	}
	return 0;
}

int steer_metrics_new(size_t n_udp, size_t n_tcp, struct steer_metrics **out)
{
	struct steer_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return STEER_ENOMEM;
	pthread_mutex_init(&m->lk, NULL);
	m->n_udp = n_udp;
	m->n_threads = n_udp + n_tcp;
	m->start_ms = steer_clock_wall_ms();
	m->mask = 63;
	m->table = calloc(m->mask + 1, sizeof(*m->table));
	/* sizeof(*m->thr) is a multiple of its alignment, as aligned_alloc wants */
	m->thr = aligned_alloc(alignof(struct steer_metrics_thread),
			       (m->n_threads + 1) * sizeof(*m->thr));
	if (m->thr != NULL)
		memset(m->thr, 0, (m->n_threads + 1) * sizeof(*m->thr));
	if (m->table == NULL || m->thr == NULL || chunk_ensure(m, 0) < 0) {
		steer_metrics_free(m);
		return STEER_ENOMEM;
	}
	*out = m;
	return 0;
}

void steer_metrics_free(struct steer_metrics *m)
{
	if (m == NULL)
		return;
	for (size_t t = 0; m->thr != NULL && t < m->n_threads; t++)
		for (size_t c = 0; c < STEER_METRICS_CHUNKS; c++)
			free(m->thr[t].chunk[c]);
	for (size_t i = 0; i < m->n_ent; i++) {
		free(m->ent[i].a);
		free(m->ent[i].b);
		free(m->ent[i].hist);
	}
	free(m->ent);
	free(m->table);
	free(m->thr);
	pthread_mutex_destroy(&m->lk);
	free(m);
}

struct steer_metrics_thread *steer_metrics_thread(struct steer_metrics *m, size_t i)
{
	return i < m->n_threads ? &m->thr[i] : NULL;
}

int64_t steer_metrics_start_ms(const struct steer_metrics *m)
{
	return m->start_ms;
}

/* ---- the registry ---- */

static uint32_t name_hash(enum steer_metrics_kind kind, const char *a, const char *b)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	for (const char *p = a; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xffu) * 16777619u; /* separator: ("ab", "c") differs from ("a", "bc") */
	for (const char *p = b; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The bucket of (kind, a, b): its slot, or the empty bucket it would take. Holds lk. */
static size_t bucket_of(const struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			const char *b)
{
	size_t i = name_hash(kind, a, b) & m->mask;

	for (;;) {
		uint32_t s = m->table[i];
		const struct entry *e = s != 0 ? &m->ent[s - 1] : NULL;

		if (e == NULL || (e->kind == kind && strcmp(e->a, a) == 0 && strcmp(e->b, b) == 0))
			return i; /* the table is at most half full: an empty bucket exists */
		i = (i + 1) & m->mask;
	}
}

/* Double the table. Holds lk. @return 0 or STEER_ENOMEM (the old table stays). */
static int table_grow(struct steer_metrics *m)
{
	uint32_t *old = m->table;
	size_t old_mask = m->mask;
	uint32_t *t = calloc(2 * (m->mask + 1), sizeof(*t));

	if (t == NULL)
		return STEER_ENOMEM;
	m->table = t;
	m->mask = 2 * (m->mask + 1) - 1;
	for (size_t i = 0; i <= old_mask; i++) {
		const struct entry *e;

		if (old[i] == 0)
			continue;
		e = &m->ent[old[i] - 1];
		m->table[bucket_of(m, (enum steer_metrics_kind)e->kind, e->a, e->b)] = old[i];
	}
	free(old);
	return 0;
}

/* Add (kind, a, b) at @p bucket. Holds lk. @return its slot, or 0. */
static uint32_t entry_add(struct steer_metrics *m, size_t bucket, enum steer_metrics_kind kind,
			  const char *a, const char *b)
{
	uint32_t slot = (uint32_t)m->n_ent + 1;
	struct entry *e;

	if ((size_t)slot >= (size_t)STEER_METRICS_CHUNKS * STEER_METRICS_CHUNK ||
	    chunk_ensure(m, slot >> STEER_METRICS_CHUNK_BITS) < 0)
		return 0;
	if (m->n_ent == m->cap_ent) {
		size_t cap = m->cap_ent != 0 ? 2 * m->cap_ent : 64;
		struct entry *v = realloc(m->ent, cap * sizeof(*v));

		if (v == NULL)
			return 0;
		m->ent = v;
		m->cap_ent = cap;
	}
	e = &m->ent[m->n_ent];
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	e->a = strdup(a);
	e->b = strdup(b);
	if (e->a == NULL || e->b == NULL) {
		free(e->a);
		free(e->b);
		return 0;
	}
	m->n_ent++;
	m->table[bucket] = slot;
	return slot;
}

/* The slot of (kind, a, b), made if @p create. Holds lk. @return it, or 0. */
static uint32_t slot_locked(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			    const char *b, bool create)
{
	size_t i;

	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	i = bucket_of(m, kind, a, b);
	if (m->table[i] != 0 || !create)
		return m->table[i];
	if (2 * (m->n_ent + 1) > m->mask + 1) {
		if (table_grow(m) < 0)
			return 0;
		i = bucket_of(m, kind, a, b);
	}
	return entry_add(m, i, kind, a, b);
}

uint32_t steer_metrics_slot(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			    const char *b)
{
	uint32_t slot;

	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, kind, a, b, true);
	pthread_mutex_unlock(&m->lk);
	return slot;
}

uint64_t steer_metrics_sum_named(struct steer_metrics *m, enum steer_metrics_kind kind,
				 const char *a, const char *b)
{
	uint64_t sum = 0;
	uint32_t slot;

	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, kind, a, b, false);
	for (size_t t = 0; slot != 0 && t < m->n_threads; t++) {
		_Atomic uint64_t *c = m->thr[t].chunk[slot >> STEER_METRICS_CHUNK_BITS];

		sum += atomic_load_explicit(&c[slot & (STEER_METRICS_CHUNK - 1)],
					    memory_order_relaxed);
	}
	pthread_mutex_unlock(&m->lk);
	return sum;
}

void steer_metrics_add_named(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			     const char *b, unsigned col, uint64_t n)
{
	uint32_t slot;

	if (col >= STEER_METRICS_COLS)
		return;
	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, kind, a, b, true);
	if (slot != 0) {
		m->ent[slot - 1].col[col] += n;
		m->ent[slot - 1].counted = true;
	}
	pthread_mutex_unlock(&m->lk);
}

bool steer_metrics_get_named(struct steer_metrics *m, enum steer_metrics_kind kind, const char *a,
			     const char *b, uint64_t out[STEER_METRICS_COLS])
{
	bool found = false;
	uint32_t slot;

	memset(out, 0, STEER_METRICS_COLS * sizeof(out[0]));
	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, kind, a, b, false);
	if (slot != 0 && m->ent[slot - 1].counted) {
		memcpy(out, m->ent[slot - 1].col, STEER_METRICS_COLS * sizeof(out[0]));
		found = true;
	}
	pthread_mutex_unlock(&m->lk);
	return found;
}

void steer_metrics_observe(struct steer_metrics *m, const char *monitor, double seconds)
{
	uint32_t slot;
	struct entry *e;

	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, STEER_METRICS_MONITOR, monitor, "", true);
	e = slot != 0 ? &m->ent[slot - 1] : NULL;
	if (e != NULL && e->hist == NULL)
		e->hist = calloc(1, sizeof(*e->hist));
	if (e != NULL && e->hist != NULL)
		steer_metrics_hist_observe(e->hist, seconds);
	pthread_mutex_unlock(&m->lk);
}

bool steer_metrics_get_hist(struct steer_metrics *m, const char *monitor,
			    struct steer_metrics_hist *out)
{
	bool found = false;
	uint32_t slot;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&m->lk);
	slot = slot_locked(m, STEER_METRICS_MONITOR, monitor, "", false);
	if (slot != 0 && m->ent[slot - 1].hist != NULL) {
		*out = *m->ent[slot - 1].hist;
		found = true;
	}
	pthread_mutex_unlock(&m->lk);
	return found;
}

/* ---- DNS totals ---- */

void steer_metrics_dns_sum(struct steer_metrics *m, struct steer_metrics_dns_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t t = 0; t < m->n_threads; t++) {
		const struct steer_metrics_thread *th = &m->thr[t];
		size_t p = t < m->n_udp ? 0 : 1;

		for (size_t i = 0; i < STEER_STAT_N; i++)
			out->c[p][i] += atomic_load_explicit(&th->c[i], memory_order_relaxed);
		for (size_t q = 0; q < STEER_METRICS_QTYPES; q++)
			for (size_t r = 0; r < STEER_METRICS_RCODES; r++)
				out->answers[p][q][r] += atomic_load_explicit(&th->answers[q][r],
									      memory_order_relaxed);
	}
}
