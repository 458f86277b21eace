/*
 * The compiled configuration: steerd.json plus every pool and monitor JSON file,
 * validated as a whole. The layout of these structs is the API between config, zone,
 * steer and (later) monitor; everything is immutable after steer_config_load() returns.
 */
#ifndef STEER_CONFIG_CONFIG_H
#define STEER_CONFIG_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/thread.h"

/* Defaults, defined once here and documented in README.md. */
#define STEER_DEFAULT_BALANCER_TTL_S 30
#define STEER_DEFAULT_MAX_ANSWERS    8
#define STEER_MAX_ANSWERS_LIMIT      64
#define STEER_DEFAULT_MIN_ORIGINS    1
#define STEER_DEFAULT_INTERVAL_S     10
#define STEER_DEFAULT_TIMEOUT_S      5
#define STEER_DEFAULT_RETRIES        1
#define STEER_DEFAULT_CONSECUTIVE    2
#define STEER_DEFAULT_TCP_CLIENTS    256
#define STEER_DEFAULT_TCP_IDLE_S     10
#define STEER_DEFAULT_TCP_QUERY_S    2  /* first complete query within (at most idle) */
#define STEER_DEFAULT_TCP_PER_SOURCE 16 /* connections per client address (/32, /128) */
#define STEER_DEFAULT_UDP_WAIT_US    30
#define STEER_DEFAULT_STATE_PATH     "steerd.db"
#define STEER_DEFAULT_RETENTION_DAYS 7
#define STEER_DEFAULT_FAILOVER_TTL_S 10 /* failover_ttl = min(ttl, this) */
#define STEER_DEFAULT_POOLS_DIR      "pools"
#define STEER_DEFAULT_MONITORS_DIR   "monitors"
#define STEER_DEFAULT_EXPECTED_CODES "2xx"
#define STEER_DEFAULT_WORKERS        0

/* The HTTP API (`api`) and balancer failback. */
#define STEER_DEFAULT_API_LISTEN      "127.0.0.1:8053" /* when `api` has no `listen` */
#define STEER_DEFAULT_API_PUBLIC_READ false
#define STEER_API_TOKEN_MIN           16   /* characters of a token, at least */
#define STEER_API_TOKEN_FILE_MAX      4096 /* bytes of api.token_file, at most */

/* `identity` (id.server, hostname.bind, NSID) and `version` (version.bind) are answered as
 * one TXT character-string each: a length byte, then the text (RFC 1035 §3.3) */
#define STEER_TXT_STRING_MAX          255 /* bytes, at most */
#define STEER_DEFAULT_FAILBACK        STEER_FAILBACK_AUTO
#define STEER_DEFAULT_FAILBACK_HOLD_S 0

/* `log`: the level by number (config does not include core/log.h) */
#define STEER_DEFAULT_LOG_LEVEL 6 /* info: STEER_LOG_INFO */

/** `log`: how steerd logs. lib/daemon applies it with steer_log_configure(). */
struct steer_log_conf {
	int level;  /* enum steer_log_prio: 3 err, 4 warn, 5 notice, 6 info, 7 debug */
	int format; /* enum steer_log_format: 0 text, 1 json (one JSON object per line) */
};

/** Where a value came from, for error messages of later stages (zone records). */
struct steer_src_pos {
	const char *file; /* owned by the config's string pool */
	int line;
	int column;
};

/** An IPv4 or IPv6 address; @c family is AF_INET or AF_INET6. */
struct steer_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

/** One HTTP header line to send with a probe: `name: value`. */
struct steer_header {
	char *name;
	char *value;
};

/** A range of accepted HTTP status codes, inclusive. */
struct steer_code_range {
	uint16_t lo;
	uint16_t hi;
};

enum steer_monitor_type {
	STEER_MONITOR_HTTP,
	STEER_MONITOR_HTTPS,
	STEER_MONITOR_TCP,
};

struct steer_monitor {
	char *name;
	enum steer_monitor_type type;
	char *method;  /* "GET" or "HEAD" */
	char *path;    /* "/" by default */
	uint16_t port; /* default 80 for http, 443 for https (never 0); required for tcp */
	struct steer_header *headers;
	size_t n_headers;
	char *expected_codes; /* as written, "2xx" by default */
	struct steer_code_range *codes;
	size_t n_codes;
	char *expected_body; /* NULL = any body */
	bool follow_redirects;
	bool allow_insecure;
	char *ca_file; /* NULL = system store; resolved against the main file's folder */
	char *send;    /* tcp: optional string to send */
	char *expect;  /* tcp: optional substring expected in the reply */
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t consecutive_up;
	uint32_t consecutive_down;
	struct steer_src_pos pos;
};

enum steer_origin_steering {
	STEER_ORIGIN_RANDOM,
	STEER_ORIGIN_HASH,
	STEER_ORIGIN_ALL,
};

struct steer_pool;

struct steer_origin {
	char *name;
	char *address; /* as written */
	bool is_ip;    /* true: @c addr holds it; false: a hostname answered as CNAME */
	struct steer_addr addr;
	uint8_t *host_wire; /* hostname origins: lower-cased uncompressed wire name */
	size_t host_wire_len;
	double weight; /* 0..1; 0 = drained */
	bool enabled;
	struct steer_header *headers; /* origin-level headers override the monitor's */
	size_t n_headers;
	uint32_t index;                /* global origin index: slot in health snapshots */
	const struct steer_pool *pool; /* back pointer (borrowed) */
};

struct steer_pool {
	char *name;
	char *description;
	bool enabled;
	char *monitor_name;                  /* NULL = not monitored (always healthy) */
	const struct steer_monitor *monitor; /* resolved reference, or NULL */
	uint32_t minimum_origins;
	enum steer_origin_steering origin_steering;
	uint32_t max_answers; /* for STEER_ORIGIN_ALL */
	double weight;        /* for the balancer `random` policy; default 1 */
	struct steer_origin *origins;
	size_t n_origins;
	uint32_t index;
	struct steer_src_pos pos;
};

enum steer_policy {
	STEER_POLICY_FAILOVER,
	STEER_POLICY_RANDOM,
};

/** How a `failover` balancer returns to its preferred pool once that pool is healthy. */
enum steer_failback {
	STEER_FAILBACK_AUTO,   /* at once (after failback_hold_ms) */
	STEER_FAILBACK_MANUAL, /* only when an operator says so (`steerctl failback NAME`) */
};

struct steer_balancer {
	char *name; /* as written ("api" or "api.lb.example.test.") */
	char *fqdn; /* absolute, lower case, with the trailing dot */
	uint32_t ttl_s;
	uint32_t failover_ttl_s; /* default min(ttl, 10) */
	enum steer_policy policy;
	const struct steer_pool **pools; /* default_pools, in order (borrowed from the config) */
	size_t n_pools;
	const struct steer_pool *fallback; /* NULL if none */
	uint32_t index;                    /* position in cfg->balancers: slot in snapshots */
	/* failover only (other policies keep the defaults): how answers return to an earlier
	 * pool, and how long it must stay healthy, continuously, before they do */
	enum steer_failback failback;
	uint32_t failback_hold_ms;
	uint32_t failover_budget_ms; /* `failover_budget`: the worst case allowed; 0 = none */
	struct steer_src_pos pos;
};

/** One `records` line, kept with its position so the zone loader can report errors. */
struct steer_record_src {
	char *text;
	char *jpath; /* "zone.records[3]" */
	struct steer_src_pos pos;
};

struct steer_zone_conf {
	char *name; /* absolute, lower case, with the trailing dot */
	char *soa_mname;
	char *soa_rname;
	uint32_t soa_serial;
	uint32_t soa_refresh;
	uint32_t soa_retry;
	uint32_t soa_expire;
	uint32_t soa_minimum;
	uint32_t soa_ttl;
	uint32_t ns_ttl; /* TTL of the apex NS RRset; default soa_ttl */
	char **ns;
	size_t n_ns;
	struct steer_record_src *records;
	size_t n_records;
	char *zone_file; /* resolved path, or NULL */
	struct steer_src_pos pos;
};

struct steer_listen {
	char *text; /* as written: "127.0.0.1:5353", "[::1]:5353" */
	struct sockaddr_storage ss;
	socklen_t len;
};

/**
 * The HTTP API (`api` in steerd.json). Without `api` every field is zero: @c enabled is
 * false and nothing listens. Strings and the listen array are owned by the config.
 */
struct steer_api_conf {
	bool enabled;
	struct steer_listen *listen; /* at least one; STEER_DEFAULT_API_LISTEN if not given */
	size_t n_listen;
	char *token_file;   /* resolved against the main file's folder; NULL = no token */
	char *token;        /* the file's token, trimmed (a secret: never log it); NULL if none */
	bool token_missing; /* token_file does not exist (yet): steerd creates it */
	bool public_read;   /* read-only requests need no token */
};

/* Notifications (`notifications`): limits and defaults. */
#define STEER_NOTIFY_MAX                 16   /* notification targets, at most */
#define STEER_NOTIFY_NAME_MAX            64   /* bytes of a name, with the NUL */
#define STEER_NOTIFY_URL_MAX             1024 /* bytes of a url, with the NUL */
#define STEER_NOTIFY_SECRET_MAX          512  /* bytes of a secret, with the NUL */
#define STEER_NOTIFY_ADDR_MAX            256  /* bytes of an email address, with the NUL */
#define STEER_NOTIFY_TO_MAX              8    /* email recipients, at most */
#define STEER_NOTIFY_ARGV_MAX            16   /* exec: words of `command`, at most */
#define STEER_NOTIFY_ARG_MAX             256  /* exec: bytes of one word, with the NUL */
#define STEER_DEFAULT_NOTIFY_COALESCE_S  10
#define STEER_DEFAULT_NOTIFY_TIMEOUT_S   10
#define STEER_DEFAULT_NOTIFY_RETRY_MAX_S 300
#define STEER_DEFAULT_NOTIFY_MAX_AGE_S   86400

/** Event kinds a notification target subscribes to (`events`), as bits. */
enum steer_notify_kind {
	STEER_NOTIFY_ORIGIN = 1u << 0,
	STEER_NOTIFY_POOL = 1u << 1,
	STEER_NOTIFY_BALANCER = 1u << 2,
	STEER_NOTIFY_OVERRIDE = 1u << 3,
	STEER_NOTIFY_RELOAD = 1u << 4,
	STEER_NOTIFY_TEST = 1u << 5, /* `steerctl notify test`: every target takes it */
};
#define STEER_DEFAULT_NOTIFY_EVENTS (STEER_NOTIFY_POOL | STEER_NOTIFY_BALANCER)

enum steer_notify_type {
	STEER_NOTIFY_WEBHOOK,
	STEER_NOTIFY_SLACK,
	STEER_NOTIFY_DISCORD,
	STEER_NOTIFY_NTFY,
	STEER_NOTIFY_GOTIFY,
	STEER_NOTIFY_EMAIL,
	STEER_NOTIFY_EXEC,
};

/**
 * One notification target. Plain arrays, no pointers: the notifier keeps a copy that
 * outlives the configuration. Strings are "" where they do not apply.
 */
struct steer_notify_target {
	char name[STEER_NOTIFY_NAME_MAX];
	enum steer_notify_type type;
	uint32_t events; /* enum steer_notify_kind bits */
	uint32_t coalesce_ms;
	uint32_t timeout_ms;
	uint32_t retry_max_ms; /* longest wait between two attempts */
	uint32_t max_age_ms;   /* an event not delivered by then is given up */
	char url[STEER_NOTIFY_URL_MAX];
	/* webhook: HMAC key (secret_file); ntfy, gotify: token (token_file); email:
	 * "user:password" (auth_file). A secret: never log it. */
	char secret[STEER_NOTIFY_SECRET_MAX];
	char from[STEER_NOTIFY_ADDR_MAX];                    /* email */
	char to[STEER_NOTIFY_TO_MAX][STEER_NOTIFY_ADDR_MAX]; /* email */
	size_t n_to;
	char argv[STEER_NOTIFY_ARGV_MAX][STEER_NOTIFY_ARG_MAX]; /* exec; argv[0] absolute */
	size_t argc;
};

/** `notifications` of steerd.json; n == 0 without any. */
struct steer_notify_conf {
	size_t n;
	struct steer_notify_target t[STEER_NOTIFY_MAX];
};

/* DNS Cookies and response rate limiting (cfg_dns.c; documented in README.md). */
#define STEER_DEFAULT_COOKIES   true /* RFC 7873 §1: servers SHOULD implement them */
#define STEER_DEFAULT_RRL_RATE  20   /* responses per second per client prefix */
#define STEER_DEFAULT_RRL_SLIP  2    /* every 2nd limited response slips */
#define STEER_RRL_RATE_MAX      1000000
#define STEER_RRL_SLIP_MAX      100
#define STEER_RRL_WHITELIST_MAX 64

/** An address prefix: the first @c len bits of @c addr (network order). */
struct steer_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len;
};

/** `rrl`: UDP response rate limiting per client /24 (IPv4) or /56 (IPv6); fixed storage. */
struct steer_rrl_conf {
	bool enabled;  /* the section is present */
	uint32_t rate; /* responses per second per prefix and worker */
	uint32_t slip; /* every slip-th limited response is sent truncated; 0: none */
	struct steer_prefix whitelist[STEER_RRL_WHITELIST_MAX]; /* never limited */
	size_t n_whitelist;
};

/* Zone transfers (`transfer`, cfg_xfr.c; documented in README.md). */
#define STEER_XFR_MAX                  64   /* allow entries, notify targets, keys: each */
#define STEER_XFR_SECRET_FILE_MAX      4096 /* bytes of a key's secret_file, at most */
#define STEER_DEFAULT_JOURNAL_VERSIONS 100
#define STEER_XFR_JOURNAL_VERSIONS_MAX 10000
#define STEER_DEFAULT_SERIAL_POLICY    STEER_SERIAL_INCREMENT

/** How a new zone version's SOA serial is chosen (always higher, RFC 1982). */
enum steer_serial_policy {
	STEER_SERIAL_INCREMENT, /* previous + 1 */
	STEER_SERIAL_UNIXTIME,  /* the time in seconds, or previous + 1 if that is not higher */
};

/** A TSIG key (RFC 8945). A secret: never log @c secret_b64. */
struct steer_xfr_key {
	char *name;       /* key name, lower case, absolute (trailing dot) */
	char *algorithm;  /* "hmac-sha256", "hmac-sha512" or "hmac-sha1" (what ldns verifies) */
	char *secret_b64; /* the secret (base64 text) read from secret_file */
	struct steer_src_pos pos;
};

/** Who may transfer the zone: a prefix, and the key its requests must be signed with. */
struct steer_xfr_allow {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix_len;
	int key;                  /* index into keys, or -1: no TSIG required */
	bool keyless_private;     /* key -1 on a private, non-loopback prefix: log a warning */
	struct steer_src_pos pos; /* of `from` */
};

/** A secondary to send NOTIFY to. */
struct steer_xfr_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int key; /* index into keys, or -1: NOTIFY unsigned */
};

/** `transfer`: zone transfers out (AXFR/IXFR), NOTIFY, TSIG. All zero without it. */
struct steer_xfr_conf {
	bool enabled; /* the `transfer` object is present */
	struct steer_xfr_allow *allow;
	size_t n_allow;
	struct steer_xfr_target *notify;
	size_t n_notify;
	struct steer_xfr_key *keys;
	size_t n_keys;
	enum steer_serial_policy serial_policy; /* default increment */
	uint32_t journal_versions;              /* IXFR journal length, default 100 */
};

/* `user` / `group`: the account steerd runs as once its sockets are bound (cfg_user.c) */
#define STEER_USER_NAME_MAX 256 /* bytes of a user or group name, with the NUL */

/**
 * `user` and `group` of steerd.json, resolved when the config is loaded (the user must
 * exist and must not be root). Fixed storage, nothing to free; all zero without `user`.
 */
struct steer_user_conf {
	bool enabled;                    /* `user` is set */
	char user[STEER_USER_NAME_MAX];  /* the name, for initgroups() and the log */
	char group[STEER_USER_NAME_MAX]; /* `group`, or the name of the user's primary group */
	uid_t uid;
	gid_t gid; /* of `group`, or the user's primary group */
};

struct steer_config {
	char *path; /* main file as given */
	char *dir;  /* its folder; relative paths resolve against it */
	struct steer_listen *listen;
	size_t n_listen;
	char *identity;   /* NSID, id.server, hostname.bind */
	char *version;    /* version.bind; NULL = hidden */
	uint32_t workers; /* UDP worker threads; 0 = one per CPU */
	uint32_t tcp_max_clients;
	uint32_t tcp_idle_timeout_ms;
	uint32_t tcp_query_timeout_ms;  /* a new connection's first query, at most idle */
	uint32_t tcp_max_per_source;    /* connections per client address; 0 = no limit */
	uint32_t udp_batch_wait_us;     /* how long a busy UDP worker waits for a fuller batch */
	struct steer_cpus cpus_dns;     /* affinity.dns: UDP workers (one CPU each) and TCP */
	struct steer_cpus cpus_monitor; /* affinity.monitor: monitor and store writer threads */
	struct steer_api_conf api;
	struct steer_zone_conf zone;
	struct steer_balancer *balancers;
	size_t n_balancers;
	struct steer_pool *pools;
	size_t n_pools;
	struct steer_monitor *monitors;
	size_t n_monitors;
	size_t n_origins; /* total over all pools: size of a health snapshot */
	char *state_path; /* resolved */
	uint32_t retention_days;
	char **files; /* display name of every file read: the string pool of steer_src_pos.file */
	size_t n_files;
	struct steer_log_conf log;       /* `log` */
	struct steer_notify_conf notify; /* `notifications`; fixed storage, nothing to free */
	bool cookies_enabled;            /* cookies.enabled: DNS Cookies (RFC 7873, RFC 9018) */
	struct steer_rrl_conf rrl;       /* `rrl`; fixed storage, nothing to free */
	struct steer_user_conf user;     /* `user`, `group`; fixed storage */
	struct steer_xfr_conf xfr;       /* `transfer` */
};

/**
 * Load and validate @p path plus the pool and monitor files it points at.
 * @param path  Main file (steerd.json).
 * @param out   Receives the new config (caller frees with steer_config_free()).
 * @param errs  Receives every error found (file, line, column, JSON path, message), sorted
 *              by file (main file, then monitors, then pools, in file-name order) and
 *              position; errors already in the list are kept. File names are shown as the
 *              user would type them: @p path as given, folders resolved against its folder.
 *              May be NULL.
 * @return 0, STEER_ECONFIG if any error was found (nothing is returned in @p out), or
 *         STEER_ENOMEM.
 * Context: control thread / start-up; reads files, allocates.
 */
STEER_MUSTCHECK int steer_config_load(const char *path, struct steer_config **out,
				      struct steer_errs *errs);

/** Free @p cfg and everything it owns (NULL-safe). */
void steer_config_free(struct steer_config *cfg);

/** The names steerd.json uses for log level @p prio ("info") and log format @p format
 * ("text"); "?" for a value that has none. Context: any thread. */
const char *steer_config_log_level_name(int prio);
const char *steer_config_log_format_name(int format);

/**
 * Find a pool by name. @return borrowed pointer or NULL.
 */
const struct steer_pool *steer_config_get_pool(const struct steer_config *cfg, const char *name);

/**
 * How long clients can be sent to a dead site through a balancer, at worst: the probes
 * of the pool's monitor take @c detect_ms to mark its origins down (an attempt that
 * hangs runs to its timeout, a probe still running when its next tick comes skips that
 * tick), and an answer a resolver cached just before lives @c ttl_s longer.
 */
struct steer_failover_worst {
	bool bounded;                  /* false: the pool has no monitor, so it never fails */
	const struct steer_pool *pool; /* whose death gives the worst case (borrowed) */
	uint32_t ttl_s;                /* TTL of the answers a resolver may hold */
	uint32_t interval_ms;          /* until the first failed probe starts, at most */
	uint32_t further;              /* failed probes after the first: consecutive_down - 1 */
	uint32_t spacing_ms;           /* between two probes of a hung origin */
	uint32_t attempts;             /* of one probe: retries + 1 */
	uint32_t timeout_ms;           /* of one attempt */
	uint64_t detect_ms;            /* interval + further x spacing + attempts x timeout */
	uint64_t total_ms;             /* detect_ms + ttl_s */
};

/**
 * The worst case of @p b (the `failover` policy: its first enabled pool, answered with
 * `ttl`; `random`: the slowest of its pools). Pure; any thread.
 * @param out  Receives it; @c out->pool borrows from the config.
 */
void steer_config_failover_worst(const struct steer_balancer *b, struct steer_failover_worst *out);

/**
 * The terms of @p w as text into @p buf: `ttl 30 s + 10 s interval + 1 x 20 s between
 * failed probes + 2 x 5 s timeouts = 70 s`, or why it is unbounded. @return @p buf.
 */
const char *steer_config_failover_text(const struct steer_failover_worst *w, char *buf,
				       size_t size);

#endif
