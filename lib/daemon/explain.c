/*
 * GET /v1/explain: the answer steerd gives a client now, produced by the real answer path
 * (steer_zone_answer on the current snapshot), and why: each pool considered, the origin
 * choice and the TTL, in sentences an operator can read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "daemon/loop_int.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "zone/zone.h"

struct why {
	char buf[1024];
	size_t len;
};

static void why_add(struct why *w, const char *fmt, ...) STEER_PRINTF(2, 3);

static void why_add(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->len >= sizeof(w->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n < sizeof(w->buf) - w->len ? (size_t)n
							      : sizeof(w->buf) - w->len - 1;
}

/* Why an origin is not used in answers, or NULL if it is eligible. */
static const char *origin_excluded(const struct steer_loop *l, const struct steer_origin *o,
				   const struct steer_health_snapshot *snap, char *buf, size_t size)
{
	const struct ovr *ov = &l->o_ovr[o->index];
	const struct last_probe *lp = &l->last[o->index];

	if (!o->enabled)
		return "disabled";
	if (!(o->weight > 0.0))
		return "weight 0 (drained in its pool file)";
	if (ov->state == STEER_OVERRIDE_DRAIN || ov->state == STEER_OVERRIDE_DOWN) {
		snprintf(buf, size, "%s by operator%s%s%s",
			 ov->state == STEER_OVERRIDE_DRAIN ? "drained" : "forced down",
			 ov->reason[0] != '\0' ? " (" : "", ov->reason,
			 ov->reason[0] != '\0' ? ")" : "");
		return buf;
	}
	if (steer_health_is_up(snap, o->index))
		return NULL;
	if (lp->time_ms != 0 && !lp->ok)
		snprintf(buf, size, "down (%s)", lp->reason);
	else if (lp->time_ms != 0)
		snprintf(buf, size,
			 "down (last probe ok; counting up to consecutive_up successes)");
	else
		snprintf(buf, size, "down (no probe since start yet)");
	return buf;
}

/* One sentence on why @p p can or cannot serve. */
static void pool_why(const struct steer_loop *l, const struct steer_pool *p,
		     const struct steer_health_snapshot *snap, struct why *w)
{
	const struct ovr *ov = &l->p_ovr[p->index];
	char buf[512];
	size_t up = 0;

	if (!p->enabled) {
		why_add(w, "disabled in its pool file");
		return;
	}
	if (ov->state != STEER_OVERRIDE_NONE) {
		why_add(w, "%s by operator%s%s%s",
			ov->state == STEER_OVERRIDE_UP     ? "forced up"
			: ov->state == STEER_OVERRIDE_DOWN ? "forced down"
							   : "drained",
			ov->reason[0] != '\0' ? " (" : "", ov->reason,
			ov->reason[0] != '\0' ? ")" : "");
		return;
	}
	for (size_t k = 0; k < p->n_origins; k++)
		up += origin_excluded(l, &p->origins[k], snap, buf, sizeof(buf)) == NULL;
	why_add(w, "%s (%zu of %zu origins up, minimum_origins %u)",
		steer_pool_is_healthy(p, snap) ? "healthy" : "unhealthy", up, p->n_origins,
		p->minimum_origins);
	for (size_t k = 0; k < p->n_origins; k++) {
		const char *ex = origin_excluded(l, &p->origins[k], snap, buf, sizeof(buf));

		if (ex != NULL)
			why_add(w, "; %s %s", p->origins[k].name, ex);
	}
}

static void add_step(json_t *steps, const struct why *w)
{
	json_array_append_new(steps, json_string(w->buf));
}

/* The pools of a failover balancer in order, up to the one that serves. */
static void explain_pools(const struct steer_loop *l, const struct steer_balancer *b,
			  const struct steer_health_snapshot *snap, const struct steer_pool *chosen,
			  enum steer_pool_reason reason, int64_t now_ms, json_t *steps)
{
	char text[512];

	if (steer_health_pin(snap, b->index) != STEER_PIN_NONE) {
		struct why w = {0};

		why_add(&w, "failback held: %s",
			loop_failback_text(l, b->index, snap, now_ms, text, sizeof(text)));
		add_step(steps, &w);
	}
	for (size_t k = 0; k < b->n_pools; k++) {
		const struct steer_pool *p = b->pools[k];
		struct why w = {0};

		why_add(&w, "pool %s: %s: ", p->name, p == chosen ? "taken" : "skipped");
		pool_why(l, p, snap, &w);
		add_step(steps, &w);
		if (p == chosen && reason != STEER_POOL_FAIL_OPEN)
			return;
	}
	if (reason == STEER_POOL_FALLBACK) {
		struct why w = {0};

		why_add(&w,
			"no pool of default_pools is healthy: fallback_pool %s: ", chosen->name);
		pool_why(l, chosen, snap, &w);
		add_step(steps, &w);
	} else if (reason == STEER_POOL_FAIL_OPEN) {
		struct why w = {0};

		why_add(&w,
			"no pool is healthy and there is no fallback_pool: fail open on %s, "
			"health ignored",
			chosen != NULL ? chosen->name : "-");
		add_step(steps, &w);
	}
}

static const char *method_name(enum steer_origin_steering m)
{
	return m == STEER_ORIGIN_ALL ? "all" : m == STEER_ORIGIN_HASH ? "hash" : "random";
}

/* How the origins of @p p were picked for family @p family. */
static void explain_origins(const struct steer_loop *l, const struct steer_pool *p, int family,
			    const struct steer_client *client,
			    const struct steer_health_snapshot *snap, bool ignore_health,
			    json_t *steps)
{
	struct why w = {0};
	char buf[512];
	double total = 0.0;

	for (size_t k = 0; k < p->n_origins; k++) {
		const struct steer_origin *o = &p->origins[k];

		if ((ignore_health || origin_excluded(l, o, snap, buf, sizeof(buf)) == NULL) &&
		    (!o->is_ip || o->addr.family == family))
			total += o->weight;
	}
	why_add(&w, "origins of %s (origin_steering %s%s): ", p->name,
		method_name(p->origin_steering), ignore_health ? ", health ignored" : "");
	if (p->origin_steering == STEER_ORIGIN_HASH && client != NULL && client->family != 0)
		why_add(&w, "sticky by the client's %s, weighted rendezvous over ",
			client->family == AF_INET ? "/24" : "/56");
	else if (p->origin_steering == STEER_ORIGIN_ALL)
		why_add(&w, "every eligible origin (at most max_answers %u), shuffled: ",
			p->max_answers);
	else
		why_add(&w, "one origin, random by weight (this answer is one draw): ");
	for (size_t k = 0, n = 0; k < p->n_origins; k++) {
		const struct steer_origin *o = &p->origins[k];
		const char *ex =
			ignore_health ? NULL : origin_excluded(l, o, snap, buf, sizeof(buf));

		if (o->is_ip && o->addr.family != family)
			continue;
		if (ex != NULL)
			why_add(&w, "%s%s not eligible: %s", n++ != 0 ? ", " : "", o->name, ex);
		else
			why_add(&w, "%s%s %s (weight %g, %.0f%%)", n++ != 0 ? ", " : "", o->name,
				o->address, o->weight,
				total > 0.0 ? 100.0 * o->weight / total : 0.0);
	}
	add_step(steps, &w);
}

static void explain_ttl(const struct steer_balancer *b, enum steer_pool_reason reason,
			json_t *steps)
{
	struct why w = {0};

	if (reason == STEER_POOL_PRIMARY)
		why_add(&w, "ttl %u: the balancer's ttl (first-choice pool)", b->ttl_s);
	else
		why_add(&w, "ttl %u: failover_ttl while failed over (ttl %u otherwise)",
			b->failover_ttl_s, b->ttl_s);
	add_step(steps, &w);
}

/* How long clients can be sent to a dead site, at worst, and the budget for it. */
static void explain_worst(const struct steer_balancer *b, json_t *steps)
{
	struct steer_failover_worst w;
	struct why pw = {0};
	char text[512];

	steer_config_failover_worst(b, &w);
	why_add(&pw, "worst case failover: %s", steer_config_failover_text(&w, text, sizeof(text)));
	if (w.bounded && w.pool != NULL)
		why_add(&pw, " (pool %s)", w.pool->name);
	if (b->failover_budget_ms != 0)
		why_add(&pw, ", within failover_budget %u s", b->failover_budget_ms / 1000);
	add_step(steps, &pw);
}

/* Every step for balancer @p b. */
static void explain_balancer(const struct steer_loop *l, const struct steer_balancer *b, int family,
			     const struct steer_client *client,
			     const struct steer_health_snapshot *snap, int64_t now_ms,
			     json_t *steps)
{
	enum steer_pool_reason reason;
	uint64_t rng = 1;
	const struct steer_pool *p = steer_balancer_select_pool(b, snap, &rng, &reason);
	struct why w = {0};

	why_add(&w, "balancer %s: steering_policy %s", b->name,
		b->policy == STEER_POLICY_RANDOM ? "random" : "failover");
	add_step(steps, &w);
	if (b->policy == STEER_POLICY_RANDOM && reason == STEER_POOL_PRIMARY) {
		for (size_t k = 0; k < b->n_pools; k++) {
			struct why pw = {0};

			why_add(&pw, "pool %s (weight %g): ", b->pools[k]->name,
				b->pools[k]->weight);
			pool_why(l, b->pools[k], snap, &pw);
			add_step(steps, &pw);
		}
		p = NULL; /* a pool is drawn per query */
	} else {
		explain_pools(l, b, snap, p, reason, now_ms, steps);
	}
	if (p != NULL && family != 0)
		explain_origins(l, p, family, client, snap, reason == STEER_POOL_FAIL_OPEN, steps);
	if (family != 0)
		explain_ttl(b, reason, steps);
	explain_worst(b, steps);
}

/* Parse the request; @return 0 or -EINVAL with @p err set. */
static int parse_request(const char *type, const char *client, ldns_rr_type *qtype,
			 struct steer_client *cl, struct steer_err *err)
{
	*qtype = LDNS_RR_TYPE_A;
	if (type != NULL && type[0] != '\0') {
		*qtype = ldns_get_rr_type_by_name(type);
		if (*qtype == 0)
			return steer_err_set(err, -EINVAL, "type: unknown record type \"%s\"",
					     type);
	}
	memset(cl, 0, sizeof(*cl));
	if (client == NULL || client[0] == '\0')
		return 0;
	if (inet_pton(AF_INET, client, cl->addr) == 1)
		cl->family = AF_INET;
	else if (inet_pton(AF_INET6, client, cl->addr) == 1)
		cl->family = AF_INET6;
	else
		return steer_err_set(err, -EINVAL, "client: not an IPv4 or IPv6 address: \"%s\"",
				     client);
	return 0;
}

/* Answer the query through the zone; fills rcode and answer lines. */
static int run_query(const struct steer_zone *zone, const struct steer_health_snapshot *snap,
		     const struct steer_client *cl, ldns_rdf *qname, ldns_rr_type qtype,
		     json_t *doc, struct steer_err *err)
{
	static uint8_t out[STEER_DNS_TCP_MAX]; /* one caller at a time: the loop's lock is held */
	ldns_pkt *q = ldns_pkt_query_new(ldns_rdf_clone(qname), qtype, LDNS_RR_CLASS_IN, 0);
	uint64_t rng = (uint64_t)time(NULL) | 1;
	struct steer_query_ctx ctx = {.snap = snap, .client = cl, .rng = &rng, .tcp = true};
	uint8_t *wire = NULL;
	size_t wlen = 0, n;
	ldns_pkt *resp = NULL;
	json_t *ans = json_array();
	ldns_lookup_table *rc;

	if (q == NULL || ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK) {
		ldns_pkt_free(q);
		json_decref(ans);
		return steer_err_set(err, STEER_ENOMEM, "cannot build the query");
	}
	n = steer_zone_answer(zone, &ctx, wire, wlen, out, sizeof(out));
	if (n > 0 && ldns_wire2pkt(&resp, out, n) == LDNS_STATUS_OK) {
		rc = ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(resp));
		json_object_set_new(doc, "rcode", json_string(rc != NULL ? rc->name : "?"));
		for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(resp)); i++) {
			char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(resp), i));

			if (s != NULL) {
				s[strcspn(s, "\n")] = '\0';
				json_array_append_new(ans, json_string(s));
			}
			LDNS_FREE(s);
		}
	}
	json_object_set_new(doc, "answer", ans);
	ldns_pkt_free(resp);
	ldns_pkt_free(q);
	LDNS_FREE(wire);
	return 0;
}

/* The query name: absolute as given, or relative to the zone ("api" = "api.<zone>") when
 * it has no trailing dot and is not inside the zone already. */
static int parse_name(const char *name, const char *zone, ldns_rdf **out, struct steer_err *err)
{
	ldns_rdf *apex = NULL;
	ldns_rdf *q = NULL;
	char buf[1100];
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || ldns_str2rdf_dname(&q, name) != LDNS_STATUS_OK)
		return steer_err_set(err, -EINVAL, "name: not a domain name: \"%s\"",
				     name != NULL ? name : "");
	ldns_dname2canonical(q);
	if (name[n - 1] != '.' && ldns_str2rdf_dname(&apex, zone) == LDNS_STATUS_OK &&
	    ldns_dname_compare(q, apex) != 0 && !ldns_dname_is_subdomain(q, apex) &&
	    (size_t)snprintf(buf, sizeof(buf), "%s.%s", name, zone) < sizeof(buf)) {
		ldns_rdf_deep_free(q);
		q = NULL;
		if (ldns_str2rdf_dname(&q, buf) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(apex);
			return steer_err_set(err, -EINVAL, "name: not a domain name: \"%s\"", name);
		}
		ldns_dname2canonical(q);
	}
	ldns_rdf_deep_free(apex);
	*out = q;
	return 0;
}

/* Is balancer @p b the query name or the owner of an answer record (a CNAME chain)? */
static bool balancer_involved(const struct steer_balancer *b, const char *qname, json_t *answer)
{
	size_t i;
	json_t *v;

	if (strcasecmp(b->fqdn, qname) == 0)
		return true;
	json_array_foreach(answer, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = strlen(b->fqdn);

		if (s != NULL && strncasecmp(s, b->fqdn, n) == 0 && (s[n] == '\t' || s[n] == ' '))
			return true;
	}
	return false;
}

int steer_loop_explain(struct steer_loop *l, const struct steer_zone *zone, const char *name,
		       const char *type, const char *client, int64_t now_ms, json_t **result,
		       struct steer_err *err)
{
	struct steer_client cl;
	ldns_rr_type qtype;
	ldns_rdf *qname = NULL;
	struct steer_health_snapshot *snap = NULL;
	json_t *doc = NULL, *steps = NULL;
	char *qtext = NULL;
	const char *bal = NULL;
	int rc = parse_request(type, client, &qtype, &cl, err);
	int family = qtype == LDNS_RR_TYPE_A ? AF_INET : qtype == LDNS_RR_TYPE_AAAA ? AF_INET6 : 0;

	if (rc < 0)
		return rc;
	rc = parse_name(name, l->cfg->zone.name, &qname, err);
	if (rc < 0)
		return rc;
	qtext = ldns_rdf2str(qname);
	doc = json_pack("{s:s, s:s, s:o}", "name", qtext != NULL ? qtext : name, "type",
			type != NULL && type[0] != '\0' ? type : "A", "client",
			client != NULL && client[0] != '\0' ? json_string(client) : json_null());
	steps = json_array();
	pthread_mutex_lock(&l->lk);
	snap = loop_build_snapshot(l);
	if (doc == NULL || steps == NULL || snap == NULL || qtext == NULL) {
		rc = steer_err_set(err, STEER_ENOMEM, "out of memory");
		goto out;
	}
	rc = run_query(zone, snap, &cl, qname, qtype, doc, err);
	for (size_t i = 0; rc == 0 && i < l->cfg->n_balancers; i++) {
		const struct steer_balancer *b = &l->cfg->balancers[i];

		if (!balancer_involved(b, qtext, json_object_get(doc, "answer")))
			continue;
		if (bal == NULL) {
			bal = b->name;
			loop_put_failover_worst(doc, b);
			json_object_set_new(doc, "policy",
					    json_string(b->policy == STEER_POLICY_RANDOM
								? "random"
								: "failover"));
		}
		explain_balancer(l, b, family, &cl, snap, now_ms, steps);
	}
	if (rc == 0 && bal == NULL)
		json_array_append_new(steps, json_string("no balancer: static records of the zone "
							 "(or none) answer this name"));
	json_object_set_new(doc, "balancer", bal != NULL ? json_string(bal) : json_null());
	if (bal == NULL) {
		json_object_set_new(doc, "policy", json_null());
		json_object_set_new(doc, "worst_case_failover_s", json_null());
		json_object_set_new(doc, "failover_budget_s", json_null());
	}
	json_object_set(doc, "steps", steps);
out:
	pthread_mutex_unlock(&l->lk);
	steer_health_snapshot_free(snap);
	json_decref(steps);
	ldns_rdf_deep_free(qname);
	LDNS_FREE(qtext);
	if (rc == 0) {
		*result = doc;
		doc = NULL;
	}
	json_decref(doc);
	return rc;
}
