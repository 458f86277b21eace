/*
 * The status page (GET /): the status document rendered as one HTML page with inline CSS
 * and server-rendered SVG timelines, so it works with JavaScript off and needs nothing
 * but this response. History (timelines, events) comes from the page's own read-only
 * store reader on the API thread. Times are UTC ("Z").
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "daemon/page_int.h"
#include "store/reader.h"

#define STEER_LOG_SRC "page"
#include "core/log.h"

#define PAGE_MAX_BYTES ((size_t)16 << 20) /* far above 200 timelines; a bug guard */
#define PAGE_REFRESH_S 10
#define PAGE_EVENTS    50
#define TL_MAX_ORIGINS 200                      /* origins that get a timeline */
#define TL_BUCKETS     288                      /* 24 h of ... */
#define TL_BUCKET_MS   ((int64_t)5 * 60 * 1000) /* ... 5-minute buckets */
#define TL_BUDGET_MS   2000                     /* time all timelines together may take */
#define TL_SETTLE_MS   ((int64_t)60000)         /* probes older than this are all in SQLite */
#define TL_RTT_TOP     4.0                      /* SVG y of the largest RTT */
#define TL_RTT_BOTTOM  36.0                     /* SVG y of RTT 0 */

/*
 * One origin's timeline kept from one page to the next. Buckets that ended more than
 * TL_SETTLE_MS ago no longer change (the store writes within a second or drops), so a
 * page reads only the buckets after final_ms: a few per origin instead of a day.
 */
struct tl_cache {
	char *pool, *name, *address;
	int64_t from_ms;  /* start of k[0] */
	int64_t final_ms; /* k[] that end at or before this are final; <= from_ms: none */
	bool used;        /* drawn by the page being built */
	struct steer_store_bucket k[TL_BUCKETS];
};

struct page {
	char *path; /* the database the reader reads */
	struct steer_store_reader *reader;
	struct tl_cache *tl[TL_MAX_ORIGINS];
	size_t n_tl;
};

/* The page being written. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool bad; /* out of memory or over PAGE_MAX_BYTES: the page is not served */
};

/* The timelines of one page: a bounded number of origins, a time budget, one error. */
struct tl_ctx {
	struct page *pg;
	int64_t from_ms;     /* start of the first bucket */
	int64_t now_ms;      /* wall clock */
	int64_t deadline_ms; /* monotonic: no timeline query starts after it */
	size_t done;
	size_t cut; /* origins left without a timeline */
	bool failed;
	struct steer_err err; /* why the history cannot be read (failed) */
};

/* ---- the output buffer ---- */

static bool buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap != 0 ? b->cap : 65536;
	char *p;

	if (b->bad)
		return false;
	if (more < b->cap - b->len)
		return true;
	if (more >= PAGE_MAX_BYTES - b->len) {
		b->bad = true;
		return false;
	}
	while (cap - b->len <= more)
		cap *= 2;
	if (cap > PAGE_MAX_BYTES)
		cap = PAGE_MAX_BYTES;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->bad = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...) STEER_PRINTF(2, 3);

static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->bad = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at @p s (at most @p left bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	const unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n > left || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/*
 * @p s as HTML text or attribute value: markup characters become entities, control
 * characters and invalid UTF-8 '?'. Names come from configuration files and reasons from
 * probed servers: neither is trusted.
 */
static void buf_esc(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s != NULL ? s : "");
	size_t left = strlen((const char *)u);

	while (left > 0) {
		size_t n = 1;

		if (*u == '&')
			buf_str(b, "&amp;");
		else if (*u == '<')
			buf_str(b, "&lt;");
		else if (*u == '>')
			buf_str(b, "&gt;");
		else if (*u == '"')
			buf_str(b, "&quot;");
		else if (*u == '\'')
			buf_str(b, "&#39;");
		else if (*u < 0x20 || *u == 0x7F)
			buf_str(b, *u == '\t' || *u == '\n' ? " " : "?");
		else if (*u < 0x80)
			buf_add(b, (const char *)u, 1);
		else if ((n = utf8_seq(u, left)) > 0)
			buf_add(b, (const char *)u, n);
		else {
			buf_str(b, "?");
			n = 1;
		}
		u += n;
		left -= n;
	}
}

/* ---- the status document ---- */

static const char *js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static int64_t ji(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static bool jb(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ---- times (UTC) ---- */

/* "14:03:07Z" on the day of @p now_ms, "2025-11-21 14:03Z" on another day. */
static const char *clock_text(int64_t ms, int64_t now_ms, char *out, size_t size)
{
	const time_t t = (time_t)(ms / 1000), now = (time_t)(now_ms / 1000);
	struct tm tm, today;

	if (gmtime_r(&t, &tm) == NULL || gmtime_r(&now, &today) == NULL) {
		snprintf(out, size, "?");
		return out;
	}
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(out, size, "%H:%M:%SZ", &tm);
	else
		strftime(out, size, "%Y-%m-%d %H:%MZ", &tm);
	return out;
}

/* "5s", "12m", "3h", "2d": the length of @p ms, rounded down. */
static const char *span_text(int64_t ms, char *out, size_t size)
{
	const int64_t s = ms / 1000;

	if (s < 90)
		snprintf(out, size, "%llds", (long long)s);
	else if (s < (int64_t)90 * 60)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < (int64_t)48 * 3600)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(s / 86400));
	return out;
}

/* A point in time: the UTC clock and how long ago (or from now) it is. */
static void put_time(struct buf *b, int64_t ms, int64_t now_ms)
{
	char clk[32], span[16];

	if (ms <= 0) {
		buf_str(b, "<span class=\"mut\">since start</span>");
		return;
	}
	buf_fmt(b, "%s <span class=\"mut\">(%s %s)</span>",
		clock_text(ms, now_ms, clk, sizeof(clk)),
		span_text(ms > now_ms ? ms - now_ms : now_ms - ms, span, sizeof(span)),
		ms > now_ms ? "from now" : "ago");
}

/* ---- small pieces ---- */

/* The badge class of a state word. */
static const char *state_class(const char *s)
{
	if (strcmp(s, "up") == 0 || strcmp(s, "healthy") == 0 || strcmp(s, "primary") == 0 ||
	    strcmp(s, "ok") == 0)
		return "ok";
	if (strcmp(s, "down") == 0 || strcmp(s, "unhealthy") == 0 || strcmp(s, "fail-open") == 0 ||
	    strcmp(s, "failed") == 0 || strncmp(s, "fail-open:", 10) == 0)
		return "bad";
	if (strcmp(s, "failover") == 0 || strcmp(s, "fallback") == 0 ||
	    strncmp(s, "failover:", 9) == 0 || strncmp(s, "fallback:", 9) == 0 ||
	    strcmp(s, "drain") == 0)
		return "warn";
	return "neu";
}

static void badge(struct buf *b, const char *text)
{
	buf_fmt(b, "<span class=\"b %s\">", state_class(text));
	buf_esc(b, text);
	buf_str(b, "</span>");
}

/* Open a table cell labelled @p label (shown before the value on narrow screens). */
static void td(struct buf *b, const char *label)
{
	buf_fmt(b, "<td data-l=\"%s\">", label);
}

/* An override: "drain until 14:03Z (in 25m): reason" (none: "-"). */
static void put_override(struct buf *b, const json_t *ovr, int64_t now_ms)
{
	const char *reason = js(ovr, "reason");

	if (!json_is_object(ovr)) {
		buf_str(b, "<span class=\"mut\">-</span>");
		return;
	}
	badge(b, js(ovr, "state"));
	if (json_is_integer(json_object_get(ovr, "until_ms"))) {
		buf_str(b, " until ");
		put_time(b, ji(ovr, "until_ms"), now_ms);
	}
	if (reason[0] != '\0') {
		buf_str(b, " <q>");
		buf_esc(b, reason);
		buf_str(b, "</q>");
	}
}

/* ---- head, summary ---- */

static const char page_css[] =
	"*{box-sizing:border-box}"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:#111827;background:#f3f4f6}"
	"header{background:#111827;color:#f9fafb;padding:12px 16px}"
	"header h1{margin:0;font-size:20px;font-weight:650}"
	"header p{margin:2px 0 0;color:#cbd5e1;font-size:13px}"
	"main{max-width:1100px;margin:0 auto;padding:12px}"
	"section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;"
	"padding:12px 14px;margin:0 0 12px;overflow-wrap:anywhere}"
	"h2{font-size:17px;margin:0 0 8px}"
	"h3{font-size:16px;margin:0;display:inline}"
	".ph{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center;margin:0 0 6px}"
	"table{width:100%;border-collapse:collapse}"
	"th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}"
	"th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#6b7280;"
	"font-weight:600}"
	"tr.tlr td{border-bottom:1px solid #d1d5db;padding-top:0}"
	"#events td:nth-child(-n+2){white-space:nowrap}"
	"@media (min-width:641px){.pool td:nth-child(-n+3){white-space:nowrap}}"
	".b{display:inline-block;padding:0 8px;border-radius:999px;font-size:13px;"
	"font-weight:600;white-space:nowrap}"
	".ok{background:#dcfce7;color:#166534}.bad{background:#fee2e2;color:#991b1b}"
	".warn{background:#fef3c7;color:#92400e}.neu{background:#e5e7eb;color:#374151}"
	".mut{color:#6b7280}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px}"
	".banner{border-radius:10px;padding:10px 14px;margin:0 0 12px;font-weight:600}"
	".banner.ok{border:1px solid #86efac}.banner.warn{border:1px solid #fcd34d}"
	".banner.bad{border:1px solid #fca5a5}"
	".tl{margin:2px 0 4px}.tlh{display:flex;justify-content:space-between;gap:8px;"
	"font-size:12px;color:#4b5563}"
	".tl svg{display:block;width:100%;height:52px;background:#fafafa;border-radius:4px}"
	".tla{position:relative;height:16px;font-size:11px;color:#6b7280}"
	".tla span{position:absolute;top:0;white-space:nowrap;transform:translateX(-50%)}"
	".tla span:first-child{transform:none}.tla span:last-child{transform:translateX(-100%)}"
	".key{font-size:12px;color:#4b5563;margin:0 4px 8px}.key span{white-space:nowrap;"
	"margin-right:10px}.key i{display:inline-block;width:10px;height:10px;"
	"border-radius:2px;margin-right:4px;vertical-align:-1px}"
	"footer{text-align:center;font-size:12px;color:#6b7280;padding:4px 0 16px}"
	"@media (max-width:640px){main{padding:8px}section{padding:10px}"
	"thead{display:none}tr{display:block;border-bottom:1px solid #e5e7eb;padding:4px 0}"
	"td{display:block;position:relative;border:0;padding:2px 2px 2px 92px;min-height:24px}"
	"td[data-l]::before{content:attr(data-l);position:absolute;left:2px;top:5px;width:86px;"
	"color:#6b7280;font-size:11px;text-transform:uppercase;letter-spacing:.03em}"
	"tr.tlr{border-bottom:1px solid #d1d5db}tr.tlr td{padding:2px}}";

static void head(struct buf *b, const json_t *st)
{
	buf_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
	buf_fmt(b, "<meta http-equiv=\"refresh\" content=\"%d\">", PAGE_REFRESH_S);
	buf_str(b, "<title>steerd ");
	buf_esc(b, js(st, "zone"));
	buf_str(b, "</title><style>");
	buf_str(b, page_css);
	buf_str(b, "</style></head>\n<body>");
}

/* Counts for the banner. */
struct tally {
	size_t bal_moved, pools_bad, origins, origins_down, overrides;
};

static void count_pool(const json_t *p, struct tally *t)
{
	const json_t *origins = json_object_get(p, "origins");
	const json_t *o;
	size_t i;

	t->pools_bad += !jb(p, "healthy");
	t->overrides += json_is_object(json_object_get(p, "override"));
	json_array_foreach(origins, i, o)
	{
		t->origins++;
		t->origins_down += strcmp(js(o, "state"), "down") == 0;
		t->overrides += json_is_object(json_object_get(o, "override"));
	}
}

static void count(const json_t *st, struct tally *t)
{
	const json_t *x;
	size_t i;

	json_array_foreach(json_object_get(st, "balancers"), i, x)
	{
		t->bal_moved += jb(x, "failed_over");
	}
	json_array_foreach(json_object_get(st, "pools"), i, x)
	{
		count_pool(x, t);
	}
}

/* One part of the banner ("2 pools unhealthy"), only when @p n > 0. */
static void banner_part(struct buf *b, bool *first, size_t n, const char *one, const char *many)
{
	if (n == 0)
		return;
	buf_fmt(b, "%s%zu %s", *first ? "" : " &middot; ", n, n == 1 ? one : many);
	*first = false;
}

static void summary(struct buf *b, const struct tally *t)
{
	const bool fine = t->pools_bad == 0 && t->bal_moved == 0 && t->origins_down == 0;
	bool first = true;
	char down[64];

	buf_fmt(b, "<div class=\"banner %s\">",
		t->pools_bad > 0 || t->bal_moved > 0 ? "bad"
		: fine                               ? "ok"
						     : "warn");
	if (fine)
		buf_str(b,
			"All balancers answer from their first-choice pool; no origin is down. ");
	snprintf(down, sizeof(down), "of %zu origin%s down", t->origins,
		 t->origins == 1 ? "" : "s");
	banner_part(b, &first, t->bal_moved, "balancer failed over", "balancers failed over");
	banner_part(b, &first, t->pools_bad, "pool unhealthy", "pools unhealthy");
	banner_part(b, &first, t->origins_down, down, down);
	banner_part(b, &first, t->overrides, "override in force", "overrides in force");
	buf_str(b, first ? "</div>" : ".</div>");
}

static void header(struct buf *b, const json_t *st, int64_t now_ms)
{
	char clk[32];
	const time_t now = (time_t)(now_ms / 1000);
	struct tm tm;

	if (gmtime_r(&now, &tm) != NULL)
		strftime(clk, sizeof(clk), "%Y-%m-%d %H:%M:%SZ", &tm);
	else
		snprintf(clk, sizeof(clk), "?");
	buf_str(b, "<header><h1>steerd &middot; ");
	buf_esc(b, js(st, "zone"));
	buf_str(b, "</h1><p>steerd ");
	buf_esc(b, js(st, "version"));
	buf_fmt(b,
		" &middot; page built %s &middot; refreshes every %d s &middot; all times UTC (Z)",
		clk, PAGE_REFRESH_S);
	buf_str(b, "</p></header>\n<main>");
}

/* ---- balancers ---- */

static void balancer_row(struct buf *b, const json_t *x, int64_t now_ms)
{
	const json_t *pend = json_object_get(x, "failback_pending");

	buf_str(b, "<tr>");
	td(b, "Balancer");
	buf_str(b, "<b>");
	buf_esc(b, js(x, "name"));
	buf_str(b, "</b> <span class=\"mut mono\">");
	buf_esc(b, js(x, "fqdn"));
	buf_str(b, "</span></td>");
	td(b, "Pool");
	buf_esc(b, js(x, "pool"));
	buf_str(b, "</td>");
	td(b, "Reason");
	badge(b, js(x, "reason"));
	buf_str(b, "</td>");
	td(b, "TTL");
	buf_fmt(b, "%lld</td>", (long long)ji(x, "ttl"));
	td(b, "Since");
	put_time(b, ji(x, "since_ms"), now_ms);
	buf_str(b, "</td>");
	td(b, "Policy");
	buf_esc(b, js(x, "policy"));
	if (json_is_object(pend)) {
		buf_str(b, "<br><span class=\"mut\">failback pending: ");
		buf_esc(b, js(pend, "text"));
		buf_str(b, "</span>");
	}
	buf_str(b, "</td></tr>\n");
}

static void balancers(struct buf *b, const json_t *st, int64_t now_ms)
{
	const json_t *list = json_object_get(st, "balancers");
	const json_t *x;
	size_t i;

	buf_str(b, "<section id=\"balancers\"><h2>Balancers</h2>");
	if (json_array_size(list) == 0) {
		buf_str(b, "<p class=\"mut\">No balancers are configured.</p></section>\n");
		return;
	}
	buf_str(b, "<table><thead><tr><th>Balancer</th><th>Pool</th><th>Reason</th><th>TTL</th>"
		   "<th>Since</th><th>Policy</th></tr></thead><tbody>");
	json_array_foreach(list, i, x)
	{
		balancer_row(b, x, now_ms);
	}
	buf_str(b, "</tbody></table></section>\n");
}

/* ---- overrides and maintenance windows ---- */

static void override_row(struct buf *b, const char *pool, const char *origin, const json_t *ovr,
			 int64_t now_ms)
{
	buf_str(b, "<tr>");
	td(b, "Target");
	buf_esc(b, pool);
	if (origin != NULL) {
		buf_str(b, "/");
		buf_esc(b, origin);
	}
	buf_str(b, "</td>");
	td(b, "Override");
	put_override(b, ovr, now_ms);
	buf_str(b, "</td>");
	td(b, "Kind");
	buf_str(b, json_is_integer(json_object_get(ovr, "until_ms")) ? "maintenance window"
								     : "until cleared");
	buf_str(b, "</td>");
	td(b, "Set");
	put_time(b, ji(ovr, "since_ms"), now_ms);
	buf_str(b, "</td></tr>\n");
}

static void pool_overrides(struct buf *b, const json_t *p, int64_t now_ms)
{
	const json_t *ovr = json_object_get(p, "override");
	const json_t *o;
	size_t i;

	if (json_is_object(ovr))
		override_row(b, js(p, "name"), NULL, ovr, now_ms);
	json_array_foreach(json_object_get(p, "origins"), i, o)
	{
		ovr = json_object_get(o, "override");
		if (json_is_object(ovr))
			override_row(b, js(p, "name"), js(o, "name"), ovr, now_ms);
	}
}

static void overrides(struct buf *b, const struct tally *t, const json_t *st, int64_t now_ms)
{
	const json_t *p;
	size_t i;

	buf_str(b, "<section id=\"overrides\"><h2>Overrides and maintenance windows</h2>");
	if (t->overrides == 0) {
		buf_str(b, "<p class=\"mut\">None: the probes decide every origin and pool.</p>"
			   "</section>\n");
		return;
	}
	buf_str(b, "<table><thead><tr><th>Target</th><th>Override</th><th>Kind</th><th>Set</th>"
		   "</tr></thead><tbody>");
	json_array_foreach(json_object_get(st, "pools"), i, p)
	{
		pool_overrides(b, p, now_ms);
	}
	buf_str(b, "</tbody></table></section>\n");
}

/* ---- timelines ---- */

static const char *bucket_color(const struct steer_store_bucket *k)
{
	if (k->probes == 0)
		return "#e5e7eb";
	if (k->ok == k->probes)
		return "#22c55e";
	return k->ok == 0 ? "#ef4444" : "#f59e0b";
}

/* One band of equal buckets [i, j), with a tooltip. */
static void band(struct buf *b, const struct tl_ctx *tc, const struct steer_store_bucket *k,
		 size_t i, size_t j)
{
	char t0[32], t1[32];
	uint32_t probes = 0, ok = 0;

	for (size_t x = i; x < j; x++) {
		probes += k[x].probes;
		ok += k[x].ok;
	}
	buf_fmt(b,
		"<rect x=\"%zu\" y=\"40\" width=\"%zu\" height=\"12\" fill=\"%s\"><title>%s - %s: ",
		i, j - i, bucket_color(&k[i]),
		clock_text(tc->from_ms + (int64_t)i * TL_BUCKET_MS, tc->now_ms, t0, sizeof(t0)),
		clock_text(tc->from_ms + (int64_t)j * TL_BUCKET_MS, tc->now_ms, t1, sizeof(t1)));
	if (probes == 0)
		buf_str(b, "no probes");
	else
		buf_fmt(b, "%u of %u probes ok", ok, probes);
	buf_str(b, "</title></rect>");
}

static void bands(struct buf *b, const struct tl_ctx *tc, const struct steer_store_bucket *k)
{
	size_t i = 0;

	while (i < TL_BUCKETS) {
		size_t j = i + 1;

		while (j < TL_BUCKETS && bucket_color(&k[j]) == bucket_color(&k[i]))
			j++;
		band(b, tc, k, i, j);
		i = j;
	}
}

/* The RTT line: one polyline per run of buckets with a mean RTT, scaled to @p top_ms. */
static void rtt_line(struct buf *b, const struct steer_store_bucket *k, int64_t top_ms)
{
	const double scale = (TL_RTT_BOTTOM - TL_RTT_TOP) / (double)(top_ms > 0 ? top_ms : 1);
	size_t i = 0;

	while (i < TL_BUCKETS) {
		size_t j = i;
		double y;

		while (j < TL_BUCKETS && k[j].rtt_avg_ms >= 0)
			j++;
		if (j == i) {
			i++;
			continue;
		}
		buf_str(b,
			"<polyline fill=\"none\" stroke=\"#1d4ed8\" stroke-width=\"1.5\" "
			"vector-effect=\"non-scaling-stroke\" stroke-linejoin=\"round\" points=\"");
		for (size_t x = i; x < j; x++) {
			y = TL_RTT_BOTTOM - (double)k[x].rtt_avg_ms * scale;
			if (j - i == 1) /* a lone bucket: a short dash across it */
				buf_fmt(b, "%zu,%.1f %zu,%.1f", x, y, x + 1, y);
			else
				buf_fmt(b, "%s%zu.5,%.1f", x == i ? "" : " ", x, y);
		}
		buf_str(b, "\"/>");
		i = j;
	}
}

/* The timeline of buckets @p k: header line, SVG (bands, grid, RTT line), time axis. */
static void timeline_svg(struct buf *b, const struct tl_ctx *tc, const struct steer_store_bucket *k)
{
	uint64_t probes = 0, ok = 0;
	int64_t top = 0, peak = -1;

	for (size_t i = 0; i < TL_BUCKETS; i++) {
		probes += k[i].probes;
		ok += k[i].ok;
		top = k[i].rtt_avg_ms > top ? k[i].rtt_avg_ms : top;
		peak = k[i].rtt_max_ms > peak ? k[i].rtt_max_ms : peak;
	}
	buf_str(b, "<div class=\"tl\"><div class=\"tlh\"><span>");
	if (probes == 0)
		buf_str(b, "24 h: no probes recorded");
	else
		buf_fmt(b, "24 h: %llu.%llu%% of %llu probes ok", /* per mille, rounded down */
			(unsigned long long)(ok * 1000 / probes / 10),
			(unsigned long long)(ok * 1000 / probes % 10), (unsigned long long)probes);
	buf_str(b, "</span><span>");
	if (peak >= 0)
		buf_fmt(b, "RTT (5-min mean) max %lld ms, slowest probe %lld ms", (long long)top,
			(long long)peak);
	buf_fmt(b,
		"</span></div><svg viewBox=\"0 0 %d 52\" preserveAspectRatio=\"none\" "
		"role=\"img\" aria-label=\"probe results and round-trip time, last 24 hours\">",
		TL_BUCKETS);
	bands(b, tc, k);
	buf_str(b,
		"<g stroke=\"#d1d5db\" vector-effect=\"non-scaling-stroke\">"
		"<line x1=\"0\" y1=\"4\" x2=\"288\" y2=\"4\" vector-effect=\"non-scaling-stroke\"/>"
		"<line x1=\"72\" y1=\"0\" x2=\"72\" y2=\"40\" "
		"vector-effect=\"non-scaling-stroke\"/>"
		"<line x1=\"144\" y1=\"0\" x2=\"144\" y2=\"40\" "
		"vector-effect=\"non-scaling-stroke\"/>"
		"<line x1=\"216\" y1=\"0\" x2=\"216\" y2=\"40\" "
		"vector-effect=\"non-scaling-stroke\"/>"
		"</g>");
	rtt_line(b, k, top);
	buf_str(b, "</svg><div class=\"tla\"><span style=\"left:0\">-24 h</span>"
		   "<span style=\"left:25%\">-18 h</span><span style=\"left:50%\">-12 h</span>"
		   "<span style=\"left:75%\">-6 h</span><span "
		   "style=\"left:100%\">now</span></div></div>");
}

/* ---- the timeline cache ---- */

static void tl_free(struct tl_cache *e)
{
	if (e == NULL)
		return;
	free(e->pool);
	free(e->name);
	free(e->address);
	free(e);
}

static struct tl_cache *tl_new(const char *pool, const char *name, const char *address)
{
	struct tl_cache *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->pool = strdup(pool);
	e->name = strdup(name);
	e->address = strdup(address);
	if (e->pool == NULL || e->name == NULL || e->address == NULL) {
		tl_free(e);
		return NULL;
	}
	return e;
}

/* The cache entry of an origin, made if needed (in a slot not used by this page when the
 * cache is full). @return the entry, or NULL when out of memory or full. */
static struct tl_cache *tl_get(struct page *pg, const char *pool, const char *name,
			       const char *address)
{
	size_t at = pg->n_tl, spare = TL_MAX_ORIGINS;
	struct tl_cache *e;

	for (size_t i = 0; i < pg->n_tl; i++) {
		e = pg->tl[i];
		if (strcmp(e->pool, pool) == 0 && strcmp(e->name, name) == 0 &&
		    strcmp(e->address, address) == 0)
			return e;
		if (!e->used && spare == TL_MAX_ORIGINS)
			spare = i;
	}
	if (at == TL_MAX_ORIGINS) {
		if (spare == TL_MAX_ORIGINS)
			return NULL;
		at = spare;
	}
	e = tl_new(pool, name, address);
	if (e == NULL)
		return NULL;
	if (at == pg->n_tl)
		pg->n_tl++;
	else
		tl_free(pg->tl[at]);
	pg->tl[at] = e;
	return e;
}

/* Drop the entries the last page did not draw (origins gone, renamed or cut). */
static void tl_sweep(struct page *pg)
{
	size_t n = 0;

	for (size_t i = 0; i < pg->n_tl; i++) {
		if (pg->tl[i]->used) {
			pg->tl[i]->used = false;
			pg->tl[n++] = pg->tl[i];
		} else {
			tl_free(pg->tl[i]);
		}
	}
	pg->n_tl = n;
}

/* Bring @p e to the window starting at @p from_ms: shift the final buckets, read the rest. */
static int tl_refresh(struct page *pg, struct tl_cache *e, int64_t from_ms, int64_t now_ms,
		      struct steer_err *err)
{
	const int64_t shift = (from_ms - e->from_ms) / TL_BUCKET_MS;
	const int64_t settled = (now_ms - TL_SETTLE_MS) / TL_BUCKET_MS * TL_BUCKET_MS;
	uint32_t first;
	int rc;

	if (e->final_ms <= e->from_ms || shift < 0 || shift >= TL_BUCKETS)
		e->final_ms = from_ms; /* nothing usable: read the whole window */
	else if (shift > 0)
		memmove(e->k, e->k + shift, (size_t)(TL_BUCKETS - shift) * sizeof(*e->k));
	e->from_ms = from_ms;
	if (e->final_ms < from_ms)
		e->final_ms = from_ms;
	first = (uint32_t)((e->final_ms - from_ms) / TL_BUCKET_MS);
	rc = steer_store_reader_timeline(pg->reader, e->pool, e->name, e->address, e->final_ms,
					 TL_BUCKET_MS, TL_BUCKETS - first, e->k + first, err);
	if (rc < 0) {
		e->final_ms = 0;
		return rc;
	}
	e->final_ms = settled > from_ms ? settled : from_ms;
	return 0;
}

/* The timeline of one origin, or why there is none. */
static void timeline(struct buf *b, struct tl_ctx *tc, const char *pool, const json_t *o)
{
	struct steer_err err = {0};
	struct tl_cache *e;
	int rc;

	if (tc->done >= TL_MAX_ORIGINS || tc->failed || tc->pg->reader == NULL ||
	    steer_clock_mono_ms() > tc->deadline_ms) {
		tc->cut++;
		buf_str(b,
			"<p class=\"mut\">No timeline (see the note at the end of the page).</p>");
		return;
	}
	e = tl_get(tc->pg, pool, js(o, "name"), js(o, "address"));
	if (e == NULL) {
		buf_str(b, "<p class=\"mut\">No timeline: out of memory.</p>");
		return;
	}
	e->used = true;
	rc = tl_refresh(tc->pg, e, tc->from_ms, tc->now_ms, &err);
	if (rc < 0) {
		tc->failed = true;
		tc->cut++;
		tc->err = err;
		log_debug("status page: history read failed: %s", err.msg);
		buf_str(b, "<p class=\"mut\">No timeline: the history cannot be read.</p>");
		return;
	}
	tc->done++;
	timeline_svg(b, tc, e->k);
}

/* ---- pools and origins ---- */

static void last_probe(struct buf *b, const json_t *lp, int64_t now_ms)
{
	const char *reason = js(lp, "reason");

	if (!json_is_object(lp)) {
		buf_str(b, "<span class=\"mut\">none yet</span>");
		return;
	}
	badge(b, jb(lp, "ok") ? "ok" : "failed");
	buf_fmt(b, " %lld ms", (long long)ji(lp, "rtt_ms"));
	if (ji(lp, "http_status") != 0)
		buf_fmt(b, " &middot; HTTP %lld", (long long)ji(lp, "http_status"));
	if (reason[0] != '\0') {
		buf_str(b, " &middot; <q>");
		buf_esc(b, reason);
		buf_str(b, "</q>");
	}
	buf_str(b, "<br>");
	put_time(b, ji(lp, "time_ms"), now_ms);
}

/* Why an origin that is up is not in answers ("" when it is, or when it is down). */
static const char *not_serving(const json_t *o)
{
	const json_t *ovr = json_object_get(o, "override");

	if (jb(o, "serving"))
		return "";
	if (!jb(o, "enabled"))
		return "disabled";
	if (json_real_value(json_object_get(o, "weight")) <= 0.0)
		return "weight 0";
	if (json_is_object(ovr) && strcmp(js(ovr, "state"), "drain") == 0)
		return "drained";
	return "not in answers";
}

static void origin_row(struct buf *b, struct tl_ctx *tc, const char *pool, bool monitored,
		       const json_t *o)
{
	buf_str(b, "<tr>");
	td(b, "Origin");
	buf_str(b, "<b>");
	buf_esc(b, js(o, "name"));
	buf_str(b, "</b></td>");
	td(b, "Address");
	buf_str(b, "<span class=\"mono\">");
	buf_esc(b, js(o, "address"));
	buf_str(b, "</span></td>");
	td(b, "State");
	badge(b, js(o, "state"));
	if (strcmp(js(o, "state"), "down") != 0 && not_serving(o)[0] != '\0')
		buf_fmt(b, " <span class=\"b neu\">%s</span>", not_serving(o));
	buf_str(b, "</td>");
	td(b, "Since");
	put_time(b, ji(o, "since_ms"), tc->now_ms);
	buf_str(b, "</td>");
	td(b, "Last probe");
	last_probe(b, json_object_get(o, "last_probe"), tc->now_ms);
	buf_str(b, "</td>");
	td(b, "Override");
	put_override(b, json_object_get(o, "override"), tc->now_ms);
	buf_str(b, "</td></tr>\n");
	if (!monitored)
		return; /* never probed: nothing to draw */
	buf_str(b, "<tr class=\"tlr\"><td colspan=\"6\">");
	timeline(b, tc, pool, o);
	buf_str(b, "</td></tr>\n");
}

static void pool_head(struct buf *b, const json_t *p, int64_t now_ms)
{
	const char *monitor = json_string_value(json_object_get(p, "monitor"));

	buf_str(b, "<div class=\"ph\"><h3>");
	buf_esc(b, js(p, "name"));
	buf_str(b, "</h3>");
	badge(b, jb(p, "healthy") ? "healthy" : "unhealthy");
	if (!jb(p, "enabled"))
		buf_str(b, "<span class=\"b neu\">disabled</span>");
	buf_fmt(b, "<span>%lld/%lld origins in answers, minimum %lld</span><span class=\"mut\">",
		(long long)ji(p, "healthy_origins"), (long long)ji(p, "origins_total"),
		(long long)ji(p, "minimum_origins"));
	if (monitor != NULL) {
		buf_str(b, "monitor ");
		buf_esc(b, monitor);
	} else {
		buf_str(b, "not monitored");
	}
	buf_str(b, "</span><span>since ");
	put_time(b, ji(p, "since_ms"), now_ms);
	buf_str(b, "</span>");
	if (json_is_object(json_object_get(p, "override"))) {
		buf_str(b, "<span>override: ");
		put_override(b, json_object_get(p, "override"), now_ms);
		buf_str(b, "</span>");
	}
	buf_str(b, "</div>");
}

static void pool_section(struct buf *b, struct tl_ctx *tc, const json_t *p)
{
	const json_t *o;
	size_t i;

	buf_str(b, "<section class=\"pool\">");
	pool_head(b, p, tc->now_ms);
	buf_str(b, "<table><thead><tr><th>Origin</th><th>Address</th><th>State</th><th>Since</th>"
		   "<th>Last probe</th><th>Override</th></tr></thead><tbody>");
	json_array_foreach(json_object_get(p, "origins"), i, o)
	{
		origin_row(b, tc, js(p, "name"), json_is_string(json_object_get(p, "monitor")), o);
	}
	buf_str(b, "</tbody></table></section>\n");
}

static void pools(struct buf *b, struct tl_ctx *tc, const json_t *st)
{
	const json_t *p;
	size_t i;

	buf_str(b, "<h2 id=\"pools\" style=\"margin:16px 4px 8px\">Pools and origins</h2>"
		   "<p class=\"key\">Timelines: the last 24 h in 5-minute steps. "
		   "<span><i style=\"background:#22c55e\"></i>all probes ok</span> "
		   "<span><i style=\"background:#f59e0b\"></i>some failed</span> "
		   "<span><i style=\"background:#ef4444\"></i>all failed</span> "
		   "<span><i style=\"background:#e5e7eb\"></i>no probes</span> "
		   "<span><i style=\"background:#1d4ed8;height:3px;vertical-align:3px\"></i>"
		   "round-trip time (successful probes)</span></p>");
	json_array_foreach(json_object_get(st, "pools"), i, p)
	{
		pool_section(b, tc, p);
	}
}

/* ---- events ---- */

struct ev_ctx {
	struct buf *b;
	int64_t now_ms;
};

static void event_what(struct buf *b, const struct steer_store_event_row *row)
{
	if (row->kind == STEER_STORE_EVENT_BALANCER) {
		buf_esc(b, row->balancer);
		return;
	}
	buf_esc(b, row->pool);
	if (row->origin != NULL && row->origin[0] != '\0') {
		buf_str(b, "/");
		buf_esc(b, row->origin);
	}
	if (row->address != NULL && row->address[0] != '\0') {
		buf_str(b, " <span class=\"mut mono\">");
		buf_esc(b, row->address);
		buf_str(b, "</span>");
	}
}

static void event_change(struct buf *b, const struct steer_store_event_row *row, int64_t now_ms)
{
	if (row->from != NULL) {
		buf_esc(b, row->from);
		buf_str(b, " &rarr; ");
	}
	badge(b, row->to);
	if (row->kind == STEER_STORE_EVENT_OVERRIDE && row->has_until) {
		buf_str(b, " until ");
		put_time(b, row->until_ms, now_ms);
	}
	if (row->source != NULL) {
		buf_str(b, " <span class=\"mut\">(");
		buf_esc(b, row->source);
		buf_str(b, ")</span>");
	}
}

static int event_row(void *arg, const struct steer_store_event_row *row)
{
	static const char *const kinds[] = {"origin", "pool", "balancer", "override"};
	const struct ev_ctx *ec = arg;
	struct buf *b = ec->b;

	buf_str(b, "<tr>");
	td(b, "Time");
	put_time(b, row->time_ms, ec->now_ms);
	buf_str(b, "</td>");
	td(b, "Kind");
	buf_str(b, kinds[row->kind]);
	buf_str(b, "</td>");
	td(b, "What");
	event_what(b, row);
	buf_str(b, "</td>");
	td(b, "Change");
	event_change(b, row, ec->now_ms);
	buf_str(b, "</td>");
	td(b, "Reason");
	buf_esc(b, row->reason);
	buf_str(b, "</td></tr>\n");
	return b->bad ? STEER_ENOMEM : 0;
}

static void events(struct buf *b, struct page *pg, int64_t now_ms)
{
	struct ev_ctx ec = {.b = b, .now_ms = now_ms};
	struct steer_err err = {0};
	int rc = 0;

	buf_fmt(b, "<section id=\"events\"><h2>Last %d events</h2>", PAGE_EVENTS);
	buf_str(b, "<table><thead><tr><th>Time</th><th>Kind</th><th>What</th><th>Change</th>"
		   "<th>Reason</th></tr></thead><tbody>");
	if (pg->reader != NULL)
		rc = steer_store_reader_events(pg->reader, INT64_MIN, PAGE_EVENTS, event_row, &ec,
					       &err);
	buf_str(b, "</tbody></table>");
	if (rc == 0)
		buf_str(b, "<p class=\"mut\">No events recorded yet.</p>");
	else if (rc < 0 && rc != STEER_ENOMEM) {
		log_debug("status page: events read failed: %s", err.msg);
		buf_str(b, "<p class=\"mut\">The history cannot be read: ");
		buf_esc(b, err.msg);
		buf_str(b, "</p>");
	}
	buf_str(b, "</section>\n");
}

/* ---- the page ---- */

static void footer(struct buf *b, const struct tl_ctx *tc)
{
	buf_str(b, "</main><footer>");
	if (tc->cut > 0) {
		buf_fmt(b, "<p>%zu origin%s shown without a timeline: ", tc->cut,
			tc->cut == 1 ? " is" : "s are");
		if (tc->failed) {
			buf_str(b, "the history cannot be read (");
			buf_esc(b, tc->err.msg);
			buf_str(b, ").");
		} else {
			buf_fmt(b, "the page draws at most %d timelines, within %d ms.",
				TL_MAX_ORIGINS, TL_BUDGET_MS);
		}
		buf_str(b, "</p>");
	}
	buf_str(b, "<p>steerd status page &middot; JSON: <a href=\"/v1/status\">/v1/status</a>, "
		   "<a href=\"/v1/events\">/v1/events</a></p></footer></body></html>\n");
}

/* Point the page's reader at @p path (a reload may have moved the database). */
static int page_attach(struct page **pgp, const char *path)
{
	struct page *pg = *pgp;

	if (pg == NULL) {
		pg = calloc(1, sizeof(*pg));
		if (pg == NULL)
			return STEER_ENOMEM;
		*pgp = pg;
	}
	if (pg->path != NULL && path != NULL && strcmp(pg->path, path) == 0)
		return 0;
	for (size_t i = 0; i < pg->n_tl; i++)
		tl_free(pg->tl[i]);
	pg->n_tl = 0;
	steer_store_reader_close(pg->reader);
	pg->reader = NULL;
	free(pg->path);
	pg->path = NULL;
	if (path == NULL)
		return 0;
	pg->path = strdup(path);
	if (pg->path == NULL || steer_store_reader_open(path, &pg->reader, NULL) < 0)
		return STEER_ENOMEM;
	return 0;
}

char *page_build(struct page **pgp, const json_t *status, const char *state_path)
{
	const int64_t now_ms = ji(status, "now_ms");
	const int64_t end_ms = (now_ms / TL_BUCKET_MS + 1) * TL_BUCKET_MS;
	struct tl_ctx tc = {.from_ms = end_ms - (int64_t)TL_BUCKETS * TL_BUCKET_MS,
			    .now_ms = now_ms,
			    .deadline_ms = steer_clock_mono_ms() + TL_BUDGET_MS};
	struct tally t = {0};
	struct buf b = {0};

	if (page_attach(pgp, state_path) < 0)
		return NULL;
	tc.pg = *pgp;
	if (tc.pg->reader == NULL) {
		tc.failed = true;
		steer_err_set(&tc.err, STEER_EDB, "no state.path");
	}
	head(&b, status);
	header(&b, status, now_ms);
	count(status, &t);
	summary(&b, &t);
	balancers(&b, status, now_ms);
	overrides(&b, &t, status, now_ms);
	pools(&b, &tc, status);
	events(&b, tc.pg, now_ms);
	footer(&b, &tc);
	tl_sweep(tc.pg);
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

void page_free(struct page *pg)
{
	if (pg == NULL)
		return;
	for (size_t i = 0; i < pg->n_tl; i++)
		tl_free(pg->tl[i]);
	steer_store_reader_close(pg->reader);
	free(pg->path);
	free(pg);
}
