/*
 * The one-line summary of the DNS counters that steerd logs on SIGUSR1 and at exit
 * ("stats: udp queries=... ; tcp ..."). Its wording is relied upon by operators and
 * tests: fields keep their names and order.
 */
#include <stdarg.h>
#include <stdio.h>

#include "metrics/metrics.h"

/* Append to @p buf at @p len (clamped: a full buffer stays full); @return the new length. */
static size_t STEER_PRINTF(4, 5) put(char *buf, size_t cap, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (len + 1 >= cap)
		return len;
	va_start(ap, fmt);
	r = vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
	if (r < 0)
		return len;
	return len + (size_t)r < cap ? len + (size_t)r : cap - 1;
}

/* Answers of one transport by RCODE (every query type), and their total. */
static uint64_t by_rcode(const uint64_t answers[STEER_METRICS_QTYPES][STEER_METRICS_RCODES],
			 uint64_t rc[STEER_METRICS_RCODES])
{
	uint64_t total = 0;

	for (size_t r = 0; r < STEER_METRICS_RCODES; r++) {
		rc[r] = 0;
		for (size_t q = 0; q < STEER_METRICS_QTYPES; q++)
			rc[r] += answers[q][r];
		total += rc[r];
	}
	return total;
}

static size_t one(const struct steer_metrics_dns_totals *t, size_t p, char *buf, size_t cap,
		  size_t len)
{
	static const char *const rcodes[STEER_METRICS_RCODES] = {"noerror",  "formerr", "servfail",
								 "nxdomain", "notimp",  "refused"};
	static const struct {
		const char *name;
		int i;    /* enum steer_stat, or -1: answers */
		int only; /* 1: UDP only, -1: TCP only, 0: both */
	} fields[] = {
		{"queries", STEER_STAT_QUERIES, 0}, {"answers", -1, 0},
		{"dropped", STEER_STAT_DROPPED, 0}, {"truncated", STEER_STAT_TRUNCATED, 0},
		{"batches", STEER_STAT_BATCHES, 1}, {"waits", STEER_STAT_WAITS, 1},
		{"conns", STEER_STAT_CONNS, -1},    {"conns_refused", STEER_STAT_CONNS_REFUSED, -1},
	};
	/* added later: after the RCODEs, so the fields above keep their order */
	static const struct {
		const char *name;
		int i;
		bool udp;
	} more[] = {
		{"rrl_dropped", STEER_STAT_RRL_DROPPED, true},
		{"rrl_slipped", STEER_STAT_RRL_SLIPPED, true},
		{"closed_idle", STEER_STAT_CLOSED_IDLE, false},
		{"closed_query_timeout", STEER_STAT_CLOSED_QUERY_TIMEOUT, false},
		{"closed_evicted", STEER_STAT_CLOSED_EVICTED, false},
		{"closed_by_client", STEER_STAT_CLOSED_CLIENT, false},
		{"closed_error", STEER_STAT_CLOSED_ERROR, false},
		{"refused_full", STEER_STAT_CLOSED_FULL, false},
		{"refused_per_source", STEER_STAT_CLOSED_PER_SOURCE, false},
	};
	const bool udp = p == 0;
	uint64_t rc[STEER_METRICS_RCODES];
	uint64_t answers = by_rcode(t->answers[p], rc);

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		if (fields[f].only != 0 && (fields[f].only > 0) != udp)
			continue;
		len = put(buf, cap, len, " %s=%llu", fields[f].name,
			  (unsigned long long)(fields[f].i < 0 ? answers : t->c[p][fields[f].i]));
	}
	for (size_t r = 0; r < STEER_METRICS_RCODES; r++) {
		if (rcodes[r] != NULL)
			len = put(buf, cap, len, " %s=%llu", rcodes[r], (unsigned long long)rc[r]);
		else if (rc[r] != 0) /* unnamed RCODEs only when they occur */
			len = put(buf, cap, len, " rcode%zu=%llu", r, (unsigned long long)rc[r]);
	}
	for (size_t f = 0; f < sizeof(more) / sizeof(more[0]); f++) {
		if (more[f].udp == udp)
			len = put(buf, cap, len, " %s=%llu", more[f].name,
				  (unsigned long long)t->c[p][more[f].i]);
	}
	return len;
}

size_t steer_metrics_stats_format(const struct steer_metrics_dns_totals *t, char *buf, size_t cap)
{
	size_t len;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	len = one(t, 0, buf, cap, put(buf, cap, 0, "udp"));
	return one(t, 1, buf, cap, put(buf, cap, len, "; tcp"));
}
