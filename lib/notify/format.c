/*
 * What a notification says: the event as JSON (kept in the outbox), its readable line,
 * and each target type's message: webhook JSON (signed), Slack and Discord JSON, ntfy
 * text, Gotify JSON, an email, and exec's stdin. Pure functions: no I/O, no clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/hmac.h"
#include "notify/notify.h"

#define LINE_MAX_BYTES 600  /* one readable line */
#define DIGEST_LINES   50   /* lines a digest's text lists; the rest are counted */
#define DISCORD_MAX    1900 /* Discord refuses content over 2000 characters */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case STEER_NOTIFY_ORIGIN:
		return "origin";
	case STEER_NOTIFY_POOL:
		return "pool";
	case STEER_NOTIFY_BALANCER:
		return "balancer";
	case STEER_NOTIFY_OVERRIDE:
		return "override";
	case STEER_NOTIFY_RELOAD:
		return "reload";
	default:
		return "test";
	}
}

/* A JSON string, or null for NULL and "". */
static json_t *jstr(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static void time_text(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		buf[0] = '\0';
	else
		snprintf(buf + strlen(buf), size - strlen(buf), ".%03dZ", (int)(ms % 1000));
}

/* The pool a balancer event's new state serves: "failover:parents" -> "parents". */
static const char *served_pool(const struct steer_notify_event *ev)
{
	const char *colon;

	if (ev->kind != STEER_NOTIFY_BALANCER || ev->to == NULL)
		return NULL;
	colon = strchr(ev->to, ':');
	return colon != NULL ? colon + 1 : ev->to;
}

char *steer_notify_event_json(const struct steer_notify_event *ev)
{
	char when[40], line[LINE_MAX_BYTES];
	json_t *o;
	char *s = NULL;

	time_text(ev->time_ms, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "event",
		      kind_name(ev->kind), "time", when, "time_ms", (json_int_t)ev->time_ms,
		      "balancer", jstr(ev->balancer), "pool", jstr(ev->pool), "origin",
		      jstr(ev->origin), "address", jstr(ev->address), "from", jstr(ev->from), "to",
		      jstr(ev->to), "reason", jstr(ev->reason), "served", jstr(served_pool(ev)),
		      "source", jstr(ev->source));
	if (o == NULL)
		return NULL;
	if (ev->kind == STEER_NOTIFY_OVERRIDE)
		json_object_set_new(o, "until_ms",
				    ev->until_ms > 0 ? json_integer(ev->until_ms) : json_null());
	if (ev->kind == STEER_NOTIFY_RELOAD)
		json_object_set_new(o, "ok", json_boolean(ev->ok));
	if (json_object_set_new(o, "text", json_string(steer_notify_line(o, line, sizeof(line)))) ==
	    0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static const char *js(const json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s != NULL ? s : "";
}

/* " (reason)" or "". */
static void why(const json_t *ev, char *buf, size_t size)
{
	const char *r = js(ev, "reason");

	if (r[0] != '\0')
		snprintf(buf, size, " (%s)", r);
	else
		buf[0] = '\0';
}

/* A balancer state for people: the failover prefix is implied by the order of pools. */
static const char *bal_state(const char *s)
{
	return strncmp(s, "failover:", 9) == 0 ? s + 9 : s;
}

const char *steer_notify_line(const json_t *ev, char *buf, size_t size)
{
	const char *kind = js(ev, "event"), *origin = js(ev, "origin");
	char w[300];

	why(ev, w, sizeof(w));
	if (strcmp(kind, "balancer") == 0)
		snprintf(buf, size, "%s: %s → %s%s", js(ev, "balancer"), bal_state(js(ev, "from")),
			 bal_state(js(ev, "to")), w);
	else if (strcmp(kind, "pool") == 0)
		snprintf(buf, size, "pool %s: %s → %s%s", js(ev, "pool"), js(ev, "from"),
			 js(ev, "to"), w);
	else if (strcmp(kind, "origin") == 0)
		snprintf(buf, size, "%s/%s (%s): %s → %s%s", js(ev, "pool"), origin,
			 js(ev, "address"), js(ev, "from"), js(ev, "to"), w);
	else if (strcmp(kind, "override") == 0 && strcmp(js(ev, "to"), "auto") == 0)
		snprintf(buf, size, "override of %s%s%s cleared%s", js(ev, "pool"),
			 origin[0] != '\0' ? "/" : "", origin, w);
	else if (strcmp(kind, "override") == 0)
		snprintf(buf, size, "override of %s%s%s: %s%s", js(ev, "pool"),
			 origin[0] != '\0' ? "/" : "", origin, js(ev, "to"), w);
	else if (strcmp(kind, "reload") == 0)
		snprintf(buf, size, "reload %s%s",
			 json_is_true(json_object_get(ev, "ok")) ? "ok" : "failed", w);
	else
		snprintf(buf, size, "test notification%s", w);
	return buf;
}

void steer_notify_payload_fini(struct steer_notify_payload *p)
{
	if (p == NULL)
		return;
	free(p->body);
	for (size_t i = 0; i < sizeof(p->headers) / sizeof(p->headers[0]); i++)
		free(p->headers[i]);
	free(p->subject);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

/* Append a header line; at most 7 (the array stays NULL-terminated). */
static int add_header(struct steer_notify_payload *p, const char *name, const char *value)
{
	size_t i = 0, len = strlen(name) + strlen(value) + 3;

	while (i < 7 && p->headers[i] != NULL)
		i++;
	if (i == 7)
		return STEER_ENOMEM;
	p->headers[i] = malloc(len);
	if (p->headers[i] == NULL)
		return STEER_ENOMEM;
	snprintf(p->headers[i], len, "%s: %s", name, value);
	return 0;
}

/* The text of the message: one line, or "N events:" and a line per event. */
static char *message_text(const json_t *events)
{
	size_t n = json_array_size(events),
	       cap = 64 + (n < DIGEST_LINES ? n : DIGEST_LINES) * (LINE_MAX_BYTES + 4);
	char *buf = malloc(cap), line[LINE_MAX_BYTES];
	size_t used;

	if (buf == NULL)
		return NULL;
	if (n == 1)
		return memcpy(
			buf, line,
			strlen(steer_notify_line(json_array_get(events, 0), line, sizeof(line))) +
				1);
	used = (size_t)snprintf(buf, cap, "%zu events:", n);
	for (size_t i = 0; i < n && i < DIGEST_LINES; i++) {
		steer_notify_line(json_array_get(events, i), line, sizeof(line));
		used += (size_t)snprintf(buf + used, cap - used, "\n- %s", line);
	}
	if (n > DIGEST_LINES)
		snprintf(buf + used, cap - used, "\n(and %zu more)", n - DIGEST_LINES);
	return buf;
}

/* "steer: <line>" for one event, "steer: N events" for a digest. */
static char *message_subject(const json_t *events, const char *text)
{
	size_t n = json_array_size(events), len = strlen(text) + 32;
	char *s = malloc(len);

	if (s == NULL)
		return NULL;
	if (n == 1)
		snprintf(s, len, "steer: %s", text);
	else
		snprintf(s, len, "steer: %zu events", n);
	return s;
}

/* The webhook/exec document: one event as itself, several as a digest. */
static json_t *event_doc(const json_t *events, const char *text, int64_t last_id)
{
	const json_t *first = json_array_get(events, 0);

	if (json_array_size(events) == 1)
		return json_deep_copy(first);
	return json_pack("{s:s, s:I, s:O, s:O, s:I, s:s, s:O}", "event", "digest", "id",
			 (json_int_t)last_id, "time", json_object_get(first, "time"), "time_ms",
			 json_object_get(first, "time_ms"), "count",
			 (json_int_t)json_array_size(events), "text", text, "events", events);
}

/* Dump @p doc (consumed) into p->body. */
static int set_body(struct steer_notify_payload *p, json_t *doc)
{
	if (doc != NULL)
		p->body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (p->body == NULL)
		return STEER_ENOMEM;
	p->len = strlen(p->body);
	return 0;
}

static int build_webhook(const struct steer_notify_target *t, const json_t *events, int64_t now_s,
			 struct steer_notify_payload *p)
{
	json_t *doc = event_doc(events, p->text, p->last_id);
	char ts[24], id[24], sig[64 + 8];
	int rc;

	/* the send time is in the body too, so the signature covers it (replay check) */
	if (doc == NULL || json_object_set_new(doc, "sent", json_integer(now_s)) < 0) {
		json_decref(doc);
		return STEER_ENOMEM;
	}
	rc = set_body(p, doc);
	snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
	snprintf(id, sizeof(id), "%lld", (long long)p->last_id);
	if (rc == 0)
		rc = add_header(p, "Content-Type", "application/json");
	if (rc == 0)
		rc = add_header(p, "X-Steer-Id", id);
	if (rc == 0)
		rc = add_header(p, "X-Steer-Timestamp", ts);
	if (rc == 0 && t->secret[0] != '\0') {
		memcpy(sig, "sha256=", 7);
		steer_hmac_sha256_hex(t->secret, strlen(t->secret), p->body, p->len, sig + 7);
		rc = add_header(p, "X-Steer-Signature", sig);
	}
	return rc;
}

static int build_chat(const struct steer_notify_target *t, struct steer_notify_payload *p)
{
	char cut[DISCORD_MAX + 8];
	json_t *doc;
	int rc;

	if (t->type == STEER_NOTIFY_SLACK) {
		doc = json_pack("{s:s}", "text", p->text);
	} else if (t->type == STEER_NOTIFY_DISCORD) {
		snprintf(cut, sizeof(cut), "%s", p->text);
		if (strlen(p->text) > DISCORD_MAX) /* cut at a line end: no broken UTF-8 */
			*(strrchr(cut, '\n') != NULL ? strrchr(cut, '\n') : cut) = '\0';
		doc = json_pack("{s:s}", "content", cut);
	} else {
		doc = json_pack("{s:s, s:s, s:i}", "title", p->subject, "message", p->text,
				"priority", 5);
	}
	rc = set_body(p, doc);
	if (rc == 0)
		rc = add_header(p, "Content-Type", "application/json");
	if (rc == 0 && t->type == STEER_NOTIFY_GOTIFY && t->secret[0] != '\0')
		rc = add_header(p, "X-Gotify-Key", t->secret);
	return rc;
}

static int build_ntfy(const struct steer_notify_target *t, struct steer_notify_payload *p)
{
	char auth[STEER_NOTIFY_SECRET_MAX + 16], id[24];
	int rc;

	p->body = strdup(p->text);
	if (p->body == NULL)
		return STEER_ENOMEM;
	p->len = strlen(p->body);
	snprintf(id, sizeof(id), "%lld", (long long)p->last_id);
	/* header values must be ASCII: the title is the count, the body says the rest */
	rc = add_header(p, "Content-Type", "text/plain; charset=utf-8");
	if (rc == 0)
		rc = add_header(p, "Title", p->count == 1 ? "steer event" : "steer events");
	if (rc == 0)
		rc = add_header(p, "X-Steer-Id", id);
	if (rc == 0 && t->secret[0] != '\0') {
		snprintf(auth, sizeof(auth), "Bearer %s", t->secret);
		rc = add_header(p, "Authorization", auth);
	}
	return rc;
}

/* RFC 2047 encoded word for a UTF-8 subject: =?UTF-8?B?...?= */
static char *mime_subject(const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s) > 180 ? 180 : strlen(s), o = 0;
	char *out = malloc(4 * ((n + 2) / 3) + 16);

	if (out == NULL)
		return NULL;
	o += (size_t)snprintf(out, 16, "=?UTF-8?B?");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		v |= i + 1 < n ? (uint32_t)(unsigned char)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	memcpy(out + o, "?=", 3);
	return out;
}

static int build_email(const struct steer_notify_target *t, int64_t now_s,
		       struct steer_notify_payload *p)
{
	char date[64], to[STEER_NOTIFY_TO_MAX * (STEER_NOTIFY_ADDR_MAX + 2)] = "";
	char *subject = mime_subject(p->subject);
	time_t when = (time_t)now_s;
	size_t len, used = 0;
	struct tm tm;

	if (subject == NULL)
		return STEER_ENOMEM;
	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		date[0] = '\0';
	for (size_t i = 0; i < t->n_to; i++)
		used += (size_t)snprintf(to + used, sizeof(to) - used, "%s%s", i > 0 ? ", " : "",
					 t->to[i]);
	len = strlen(p->text) * 2 + strlen(subject) + sizeof(to) + 512;
	p->body = malloc(len);
	if (p->body != NULL)
		/* the Message-ID is stable: a message sent again after a crash is the same one */
		p->len = (size_t)snprintf(p->body, len,
					  "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
					  "Message-ID: <steer-%s-%lld@steerd>\r\nMIME-Version: "
					  "1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
					  "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
					  t->from, to, subject, date, t->name,
					  (long long)p->last_id, p->text);
	free(subject);
	return p->body != NULL ? 0 : STEER_ENOMEM;
}

static int build_type(const struct steer_notify_target *t, const json_t *events, int64_t now_s,
		      struct steer_notify_payload *p)
{
	switch (t->type) {
	case STEER_NOTIFY_WEBHOOK:
		return build_webhook(t, events, now_s, p);
	case STEER_NOTIFY_NTFY:
		return build_ntfy(t, p);
	case STEER_NOTIFY_EMAIL:
		return build_email(t, now_s, p);
	case STEER_NOTIFY_EXEC:
		return set_body(p, event_doc(events, p->text, p->last_id));
	default:
		return build_chat(t, p);
	}
}

int steer_notify_payload_build(const struct steer_notify_target *t, const json_t *events,
			       int64_t now_s, struct steer_notify_payload *out)
{
	struct steer_notify_payload p = {0};
	const json_t *last = json_array_get(events, json_array_size(events) - 1);
	int rc = STEER_ENOMEM;

	p.count = json_array_size(events);
	if (p.count == 0)
		return STEER_EINVAL;
	p.last_id = json_integer_value(json_object_get(last, "id"));
	p.text = message_text(events);
	if (p.text != NULL)
		p.subject = message_subject(events, p.text);
	if (p.subject != NULL)
		rc = build_type(t, events, now_s, &p);
	if (rc < 0) {
		steer_notify_payload_fini(&p);
		return rc;
	}
	*out = p;
	return 0;
}
