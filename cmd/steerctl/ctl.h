/*
 * steerctl internals shared by its files: the parsed command line, the HTTP request to
 * steerd's API, and the helpers that turn JSON into aligned tables and human times.
 * Everything runs on the one thread of a short-lived process.
 */
#ifndef STEER_CMD_STEERCTL_CTL_H
#define STEER_CMD_STEERCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"

/* Exit statuses: scripts tell "refused" from "wrong call" from "no server". */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,     /* the server said no (4xx/5xx), or `check` found errors */
	CTL_EXIT_USAGE = 2,       /* bad command line or unreadable token file */
	CTL_EXIT_UNREACHABLE = 3, /* no connection, or something that is not steerd answered */
};

#define CTL_DEFAULT_API    "http://127.0.0.1:8053"
#define CTL_DEFAULT_CONFIG "steerd.json"
#define CTL_URL_MAX        2048 /* bytes of the API base URL */
#define CTL_TOKEN_MAX      4096 /* bytes of a token file */
#define CTL_MAX_ARGS       2    /* positional arguments after the command */

/** Command options; a command lists the ones it accepts as a mask. */
enum {
	CTL_OPT_SINCE = 1u << 0,
	CTL_OPT_LIMIT = 1u << 1,
	CTL_OPT_FOR = 1u << 2,
	CTL_OPT_REASON = 1u << 3,
	CTL_OPT_TYPE = 1u << 4,
	CTL_OPT_CLIENT = 1u << 5,
	CTL_OPT_CONFIG = 1u << 6,
};

struct ctl_cmd;

/**
 * One run: the command line as parsed, then the API address and token. Strings point
 * into argv or into the struct's own buffers; nothing is heap-allocated.
 */
struct ctl {
	const struct ctl_cmd *cmd; /* NULL: no command given */
	const char *cmd_name;      /* as typed, for messages */
	const char *args[CTL_MAX_ARGS];
	size_t n_args;
	unsigned opts_given; /* CTL_OPT_* seen on the command line */
	bool json;
	bool help;
	const char *api_arg;    /* --api, NULL if absent */
	const char *token_file; /* --token-file, NULL if absent */
	const char *since, *limit, *for_, *reason, *type, *client, *config;
	char api[CTL_URL_MAX]; /* base URL, no trailing slash */
	bool has_token;
	char token[CTL_TOKEN_MAX];
};

/** A command: its name, what it takes, and the function that runs it. */
struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *ctl); /* returns a CTL_EXIT_* status */
	unsigned opts;               /* CTL_OPT_* it accepts */
	unsigned min_args, max_args;
	bool api;             /* talks to steerd (loads the token) */
	const char *synopsis; /* arguments after the name: "POOL[/ORIGIN] [--for D]" */
	const char *summary;  /* one line for `steerctl help` */
	const char *help;     /* a paragraph for `steerctl CMD --help` */
};

/** The answer of one API request. Release with ctl_resp_fini(). */
struct ctl_resp {
	long status;   /* HTTP status; 0 when nothing answered */
	json_t *body;  /* the parsed JSON body (owned); NULL unless the call returned 0 */
	char why[512]; /* on failure: what went wrong, to complete a sentence */
	bool reached;  /* something answered, but not with JSON from steerd */
	char *text;    /* ctl_http_text(): a 2xx text/plain body (owned, NUL-terminated) */
	size_t text_len;
};

/* --- usage.c: the command table, help texts, usage errors */

/**
 * Look a command up by name.
 * @return the command (static storage), or NULL when there is none of that name.
 */
const struct ctl_cmd *ctl_cmd_find(const char *name);

/** Print the overview of every command and option to @p f. */
void ctl_usage_all(FILE *f);

/** Print the help of @p cmd (synopsis, paragraph, its options) to stdout. */
void ctl_usage_cmd(const struct ctl_cmd *cmd);

/**
 * Print `steerctl: <message>` and the usage line of @p cmd (or the overview when
 * @p cmd is NULL) to stderr.
 * @return CTL_EXIT_USAGE.
 */
int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...) STEER_PRINTF(2, 3);

/* --- args.c: validation of option values and positional arguments */

/**
 * Split `POOL/ORIGIN` (or `POOL` when @p origin_optional) from @p arg into the
 * caller's buffers. Names are non-empty; the origin is everything after the first '/'.
 * @return 0, or CTL_EXIT_USAGE after printing why.
 */
int ctl_split_target(const struct ctl *ctl, const char *arg, bool origin_optional, char *pool,
		     size_t pool_size, char *origin, size_t origin_size);

/**
 * Check the option values given for ctl->cmd (durations, limit, type, client).
 * @return 0, or CTL_EXIT_USAGE after printing why.
 */
int ctl_check_values(const struct ctl *ctl);

/**
 * Resolve the API base URL (--api, $STEER_API, default) into ctl->api and the bearer
 * token (--token-file, $STEER_TOKEN_FILE, ./api.token, /etc/steer/api.token) into
 * ctl->token. A file named explicitly must be readable; the implicit ones are skipped
 * with a warning when they cannot be used.
 * @return 0, or CTL_EXIT_USAGE after printing why.
 */
int ctl_resolve_api(struct ctl *ctl);

/* --- http.c: one request to the API */

/**
 * Send one request (libcurl easy interface: 5 s to connect, 30 s in all, no proxy, no
 * redirects) to ctl->api followed by @p path, with the bearer token if there is one.
 * @param method  "GET" or "POST".
 * @param path    Already percent-encoded: "/v1/status".
 * @param body    JSON body of a POST (borrowed); NULL sends `{}`.
 * @param resp    Caller's storage; on 0 holds the status and the parsed body (any
 *                status), otherwise resp->why says what failed.
 * @return 0 when a JSON answer arrived, CTL_EXIT_UNREACHABLE otherwise.
 */
int ctl_http(const struct ctl *ctl, const char *method, const char *path, const json_t *body,
	     struct ctl_resp *resp);

/**
 * ctl_http() of a GET whose 2xx answer is text/plain (resp->text); errors still come as
 * JSON (resp->body).
 * @return 0 when a text or JSON answer arrived, CTL_EXIT_UNREACHABLE otherwise.
 */
int ctl_http_text(const struct ctl *ctl, const char *path, struct ctl_resp *resp);

/** Release the body of @p resp (NULL-safe). */
void ctl_resp_fini(struct ctl_resp *resp);

/**
 * ctl_http(), then the common handling: print why the API cannot be reached (exit 3),
 * or the server's "error" (and every entry of "errors") for a 4xx/5xx (exit 1). With
 * --json the server's JSON is printed to stdout in every case where one arrived.
 * @param out  Receives the body of a 2xx answer (new reference) on 0.
 * @return a CTL_EXIT_* status.
 */
int ctl_call(const struct ctl *ctl, const char *method, const char *path, const json_t *body,
	     json_t **out);

/**
 * Append `/` and @p segment, percent-encoded, to @p buf (holding @p len bytes).
 * @return the new length, or 0 when it does not fit.
 */
size_t ctl_path_add(char *buf, size_t size, size_t len, const char *segment);

/**
 * Append `?key=value` (or `&key=value` after the first) with @p value percent-encoded;
 * NULL @p value appends nothing.
 * @return the new length, or 0 when it does not fit.
 */
size_t ctl_query_add(char *buf, size_t size, size_t len, const char *key, const char *value);

/* --- format.c: times, JSON fields, tables */

/**
 * Format the age of @p t_ms at @p now_ms as "12s ago", "3m ago", "2h ago", "4d ago";
 * "-" when @p t_ms is 0 (since start) or negative.
 * @return @p buf.
 */
const char *ctl_fmt_age(int64_t now_ms, int64_t t_ms, char *buf, size_t size);

/**
 * Format @p t_ms in local time: "19:30" (or "19:30:00" with @p seconds) on the day of
 * @p now_ms, else with the date first ("2026-11-21 19:30").
 * @return @p buf.
 */
const char *ctl_fmt_clock(int64_t now_ms, int64_t t_ms, bool seconds, char *buf, size_t size);

/**
 * Format an override object ({"state", "reason", "until_ms"}) as
 * "drain until 19:30 (kernel upgrade)"; "-" for JSON null or a missing object.
 * @return @p buf.
 */
const char *ctl_fmt_override(int64_t now_ms, const json_t *ov, bool seconds, char *buf,
			     size_t size);

/** String member @p key of @p obj, or @p dflt when absent, null or not a string. */
const char *ctl_jstr(const json_t *obj, const char *key, const char *dflt);

/** Integer member @p key of @p obj (a real is truncated), or @p dflt. */
int64_t ctl_jint(const json_t *obj, const char *key, int64_t dflt);

/** Boolean member @p key of @p obj, or @p dflt. */
bool ctl_jbool(const json_t *obj, const char *key, bool dflt);

/** Array member @p key of @p obj, or NULL when absent or not an array. */
json_t *ctl_jarr(const json_t *obj, const char *key);

/** String element @p i of array @p arr, or "?" when it is not a string. */
const char *ctl_jitem(const json_t *arr, size_t i);

/**
 * Print @p json pretty-printed with sorted keys to stdout.
 * @return CTL_EXIT_OK, or CTL_EXIT_REFUSED when out of memory.
 */
int ctl_print_json(const json_t *json);

/**
 * Write @p s to @p f with control characters (other than tab) replaced by '?', so text
 * from the server cannot move the cursor or recolour the terminal.
 */
void ctl_put_clean(FILE *f, const char *s);

/** An aligned table, built row by row, printed once. */
struct ctl_table;

/**
 * Create a table with @p n_cols columns titled by @p titles (borrowed; NULL: no header).
 * @return the table (free with ctl_table_free()), or NULL when out of memory.
 */
struct ctl_table *ctl_table_new(size_t n_cols, const char *const *titles);

/**
 * Append a row of ctl_table_new()'s column count; each cell is copied (NULL prints as
 * "-") with control characters replaced.
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int ctl_table_add(struct ctl_table *t, const char *const *cells);

/**
 * Append a line of free text (copied, control characters replaced) printed as is
 * between rows; it takes no part in the column widths.
 * @return 0 or STEER_ENOMEM.
 */
STEER_MUSTCHECK int ctl_table_add_line(struct ctl_table *t, const char *text);

/**
 * Print @p t to @p f: every line indented by @p indent spaces, columns two spaces apart,
 * widths from the widest cell (in characters, not bytes), no trailing blanks.
 */
void ctl_table_print(const struct ctl_table *t, FILE *f, int indent);

/** Free @p t (NULL-safe). */
void ctl_table_free(struct ctl_table *t);

/* --- the commands; each returns a CTL_EXIT_* status */

/** `status`: balancers, then every pool and its origins. */
int ctl_cmd_status(struct ctl *ctl);
/** `history POOL/ORIGIN`: recent probes of one origin. */
int ctl_cmd_history(struct ctl *ctl);
/** `events`: recent transitions and overrides. */
int ctl_cmd_events(struct ctl *ctl);
/** `drain`, `undrain`, `force-down`, `force-up`, `auto`: set or clear an override. */
int ctl_cmd_override(struct ctl *ctl);
/** `explain NAME`: the answer steerd would give and why. */
int ctl_cmd_explain(struct ctl *ctl);
/** `failback BALANCER`: return a failed-over balancer to its preferred pool now. */
int ctl_cmd_failback(struct ctl *ctl);
/** `reload`: load and validate the configuration again. */
int ctl_cmd_reload(struct ctl *ctl);
/** `version`: the client's version, and the server's if it answers. */
int ctl_cmd_version(struct ctl *ctl);
/** `steerctl zone`: the zone as secondaries get it (GET /v1/zone), as a zone file. */
int ctl_cmd_zone(struct ctl *ctl);
/** `check [-c FILE]`: validate a configuration offline. */
int ctl_cmd_check(struct ctl *ctl);

#endif
