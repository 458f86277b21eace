/*
 * `transfer` of steerd.json: who may transfer the zone (prefix + TSIG key), whom to NOTIFY,
 * the TSIG keys with their secret files (checked like api.token_file: a regular file, not
 * open to group or others, bounded size), and how serials and the IXFR journal behave.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg_dns_int.h"
#include "config/cfg_xfr_int.h"

static const char *const xfr_keys[] = {
	"allow", "notify", "keys", "serial_policy", "journal_versions", NULL,
};
static const char *const allow_keys[] = {"from", "key", NULL};
static const char *const target_keys[] = {"to", "key", NULL};
static const char *const key_keys[] = {"name", "algorithm", "secret_file", NULL};
/* The HMACs ldns signs and verifies with (RFC 8945 §6; not hmac-md5, which is obsolete;
 * ldns 1.8 has no hmac-sha224 or hmac-sha384 for TSIG). */
static const char *const alg_names[] = {"hmac-sha256", "hmac-sha512", "hmac-sha1", NULL};
static const char *const serial_names[] = {"increment", "unixtime", NULL};

/* Prefixes a transfer without TSIG may come from; loopback ones are not warned about. */
static const struct {
	const char *text;
	bool loopback;
} open_prefixes[] = {
	{"127.0.0.0/8", true},     {"::1/128", true},         {"10.0.0.0/8", false},
	{"172.16.0.0/12", false},  {"192.168.0.0/16", false}, {"fc00::/7", false},
	{"169.254.0.0/16", false}, {"fe80::/10", false},
};

/* Does prefix @p p lie inside @p outer? */
static bool prefix_inside(const struct steer_prefix *p, const struct steer_prefix *outer)
{
	if (p->family != outer->family || p->len < outer->len)
		return false;
	for (unsigned b = 0; b < outer->len; b++)
		if ((p->addr[b / 8] ^ outer->addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* 1: inside a loopback prefix, 2: inside a private one, 0: neither. */
static int prefix_class(const struct steer_prefix *p)
{
	for (size_t i = 0; i < sizeof(open_prefixes) / sizeof(open_prefixes[0]); i++) {
		struct steer_prefix o;

		if (steer_cfg_parse_prefix(open_prefixes[i].text, &o) == 0 && prefix_inside(p, &o))
			return open_prefixes[i].loopback ? 1 : 2;
	}
	return 0;
}

static bool b64_char(unsigned char ch)
{
	return isalnum(ch) || ch == '+' || ch == '/';
}

/* Is @p s (@p n bytes) canonical base64 of at least one byte? */
static bool b64_ok(const char *s, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return false;
	return n / 4 * 3 - pad >= 1;
}

/*
 * The base64 secret in @p buf: the whole (trimmed) text, or the value after a `secret`
 * word as BIND (`secret "..."`) and Knot (`secret: ...`) write it. @return its start (and
 * length in *n), or NULL.
 */
static const char *secret_find(const char *buf, size_t *n)
{
	const char *p, *lo = buf, *hi = buf + strlen(buf);

	while (lo < hi && isspace((unsigned char)*lo))
		lo++;
	while (hi > lo && isspace((unsigned char)hi[-1]))
		hi--;
	if (b64_ok(lo, (size_t)(hi - lo))) {
		*n = (size_t)(hi - lo);
		return lo;
	}
	for (p = strstr(buf, "secret"); p != NULL; p = strstr(p + 1, "secret")) {
		const char *v = p + 6, *e;
		bool quoted;

		while (*v == ' ' || *v == '\t' || *v == ':')
			v++;
		quoted = *v == '"';
		v += quoted ? 1 : 0;
		for (e = v; b64_char((unsigned char)*e) || *e == '='; e++)
			;
		if ((!quoted || *e == '"') && b64_ok(v, (size_t)(e - v))) {
			*n = (size_t)(e - v);
			return v;
		}
	}
	return NULL;
}

/* Check the open secret file @p fd (named @p file), then read and parse it into @p k. */
static void secret_load(struct cfg_ctx *c, const char *sub, const char *file, int fd,
			struct steer_xfr_key *k)
{
	char buf[STEER_XFR_SECRET_FILE_MAX + 2]; /* one more byte, and a NUL */
	const char *s;
	ssize_t n = steer_cfg_read_private(c, sub, file, fd, buf, STEER_XFR_SECRET_FILE_MAX);
	size_t len;

	if (n < 0)
		return;
	s = memchr(buf, '\0', (size_t)n) == NULL ? secret_find(buf, &len) : NULL;
	if (s == NULL) {
		steer_cfg_err(c, sub,
			      "%s must hold a base64 secret, alone or as `secret \"...\";` (BIND) "
			      "or `secret: ...` (Knot)",
			      file);
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	k->secret_b64 = steer_cfg_calloc(c, 1, len + 1);
	if (k->secret_b64 != NULL)
		memcpy(k->secret_b64, s, len);
	explicit_bzero(buf, sizeof(buf));
}

/* `secret_file`: opened without blocking, a regular file (steer_cfg_open_file()). */
static void key_secret(struct cfg_ctx *c, const json_t *obj, const char *path,
		       struct steer_xfr_key *k)
{
	char sub[CFG_PATH_MAX];
	char *file;
	int fd = steer_cfg_open_named(c, obj, path, "secret_file", true, sub, &file);

	if (fd < 0)
		return;
	secret_load(c, sub, file, fd, k);
	close(fd);
	free(file);
}

/* A key name as written into its canonical text (lower case, trailing dot), or NULL. */
static char *key_name_canon(struct cfg_ctx *c, const char *s)
{
	char buf[4 * STEER_NAME_MAX + 8];
	uint8_t wire[STEER_NAME_MAX];
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(buf) - 1)
		return NULL;
	snprintf(buf, sizeof(buf), "%s%s", s, s[len - 1] == '.' ? "" : ".");
	if (steer_name_from_text(buf, NULL, wire, sizeof(wire)) <= 1)
		return NULL;
	return steer_cfg_strdup(c, steer_name_to_text(wire, buf, sizeof(buf)));
}

static void key_name(struct cfg_ctx *c, const json_t *obj, const char *path, size_t idx)
{
	struct steer_xfr_key *keys = c->cfg->xfr.keys;
	char sub[CFG_PATH_MAX];
	const char *s;

	if (steer_cfg_str(c, obj, path, "name", true, &s) <= 0)
		return;
	steer_cfg_path(sub, sizeof(sub), path, "name");
	keys[idx].name = key_name_canon(c, s);
	if (keys[idx].name == NULL) {
		steer_cfg_err(c, sub, "must be a valid domain name, like \"xfr-key\"");
		return;
	}
	for (size_t i = 0; i < idx; i++) {
		if (keys[i].name != NULL && strcmp(keys[i].name, keys[idx].name) == 0) {
			steer_cfg_err(c, sub, "duplicate key \"%s\" (also transfer.keys[%zu])",
				      keys[idx].name, i);
			return;
		}
	}
}

static void parse_key(struct cfg_ctx *c, json_t *obj, const char *path, size_t idx)
{
	struct steer_xfr_key *k = &c->cfg->xfr.keys[idx];
	json_t *v;
	int alg = 0;

	if (!json_is_object(obj)) {
		steer_cfg_err(c, path,
			      "must be an object like {\"name\": \"xfr-key\", \"algorithm\": "
			      "\"hmac-sha256\", \"secret_file\": \"xfr-key.secret\"}");
		return;
	}
	steer_cfg_object(c, obj, path, key_keys);
	k->pos = steer_cfg_pos(c, path);
	key_name(c, obj, path, idx);
	if (steer_cfg_get(c, obj, path, "algorithm", true, &v) > 0 &&
	    steer_cfg_enum(c, obj, path, "algorithm", alg_names, &alg) > 0)
		k->algorithm = steer_cfg_strdup(c, alg_names[alg]);
	key_secret(c, obj, path, k);
}

/* `key` of an allow entry or notify target: the index of a key in transfer.keys, or -1. */
static int key_ref(struct cfg_ctx *c, const json_t *obj, const char *path)
{
	const struct steer_xfr_conf *x = &c->cfg->xfr;
	char sub[CFG_PATH_MAX], hint[96];
	struct cfg_suggest sg;
	char *name;
	const char *s;

	if (steer_cfg_str(c, obj, path, "key", false, &s) <= 0)
		return -1;
	steer_cfg_path(sub, sizeof(sub), path, "key");
	name = key_name_canon(c, s);
	sg = (struct cfg_suggest){.word = name != NULL ? name : s};
	for (size_t i = 0; i < x->n_keys; i++) {
		if (x->keys[i].name == NULL)
			continue;
		if (name != NULL && strcmp(x->keys[i].name, name) == 0) {
			free(name);
			return (int)i;
		}
		steer_cfg_suggest(&sg, x->keys[i].name);
	}
	steer_cfg_err(c, sub, "key \"%s\" does not exist in transfer.keys%s", s,
		      steer_cfg_hint(&sg, hint, sizeof(hint)));
	free(name);
	return -1;
}

/* The prefix at @p path (a string @p v) into @p a. @return 0 or -1 (reported). */
static int allow_from(struct cfg_ctx *c, const json_t *v, const char *path,
		      struct steer_xfr_allow *a)
{
	struct steer_prefix p;
	int rc = json_is_string(v) ? steer_cfg_parse_prefix(json_string_value(v), &p) : -1;

	if (rc == -2) {
		steer_cfg_err(c, path, "\"%s\" has bits set past its prefix length",
			      json_string_value(v));
		return -1;
	}
	if (rc < 0) {
		steer_cfg_err(c, path,
			      "must be \"IPv4/len\" (0-32) or \"IPv6/len\" (0-128), e.g. "
			      "\"192.0.2.0/24\", \"2001:db8::/32\", or an address alone");
		return -1;
	}
	a->family = p.family;
	memcpy(a->addr, p.addr, sizeof(a->addr));
	a->prefix_len = p.len;
	a->pos = steer_cfg_pos(c, path);
	return 0;
}

static void parse_allow(struct cfg_ctx *c, json_t *obj, const char *path, size_t idx)
{
	struct steer_xfr_allow *a = &c->cfg->xfr.allow[idx];
	char sub[CFG_PATH_MAX];
	struct steer_prefix p;
	json_t *v;
	int cls;

	a->key = -1;
	if (!json_is_object(obj)) {
		steer_cfg_err(c, path,
			      "must be an object like {\"from\": \"192.0.2.0/24\", \"key\": "
			      "\"xfr-key\"}");
		return;
	}
	steer_cfg_object(c, obj, path, allow_keys);
	a->key = key_ref(c, obj, path);
	if (steer_cfg_get(c, obj, path, "from", true, &v) <= 0 ||
	    allow_from(c, v, steer_cfg_path(sub, sizeof(sub), path, "from"), a) < 0 ||
	    json_object_get(obj, "key") != NULL)
		return;
	p = (struct steer_prefix){.family = a->family, .len = a->prefix_len};
	memcpy(p.addr, a->addr, sizeof(p.addr));
	cls = prefix_class(&p);
	if (cls == 0)
		steer_cfg_err(c, sub,
			      "a transfer without TSIG is allowed only from loopback or private "
			      "prefixes (127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, "
			      "192.168.0.0/16, fc00::/7, link-local); add a \"key\"");
	a->keyless_private = cls == 2;
}

static void parse_target(struct cfg_ctx *c, json_t *v, const char *path, size_t idx)
{
	struct steer_xfr_target *t = &c->cfg->xfr.notify[idx];
	char sub[CFG_PATH_MAX];
	const char *at = path;
	json_t *to = v;

	t->key = -1;
	if (json_is_object(v)) {
		steer_cfg_object(c, v, path, target_keys);
		t->key = key_ref(c, v, path);
		at = steer_cfg_path(sub, sizeof(sub), path, "to");
		if (steer_cfg_get(c, v, path, "to", true, &to) <= 0)
			return;
	}
	if (!json_is_string(to) ||
	    steer_cfg_parse_addr_port(json_string_value(to), &t->addr, &t->addr_len) < 0) {
		memset(&t->addr, 0, sizeof(t->addr));
		t->addr_len = 0;
		steer_cfg_err(c, at,
			      "must be \"IPv4:port\" or \"[IPv6]:port\", or an object {\"to\": "
			      "\"IPv4:port\", \"key\": \"xfr-key\"}");
	}
}

typedef void parse_elem_fn(struct cfg_ctx *c, json_t *v, const char *path, size_t idx);

/* The array `transfer.<key>`: each element parsed by @p fn into the (allocated) *out. */
static void parse_array(struct cfg_ctx *c, const json_t *xfr, const char *key, size_t size,
			void **out, size_t *n_out, parse_elem_fn *fn)
{
	char path[CFG_PATH_MAX], el[CFG_PATH_MAX];
	json_t *arr;

	if (steer_cfg_get(c, xfr, "transfer", key, false, &arr) <= 0)
		return;
	steer_cfg_path(path, sizeof(path), "transfer", key);
	if (!json_is_array(arr) || json_array_size(arr) > STEER_XFR_MAX) {
		steer_cfg_err(c, path, "must be an array of at most %d entries", STEER_XFR_MAX);
		return;
	}
	*out = steer_cfg_calloc(c, json_array_size(arr), size);
	if (*out == NULL)
		return;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		*n_out = i + 1; /* counted first: duplicate checks and fini see it */
		fn(c, json_array_get(arr, i), steer_cfg_path_idx(el, sizeof(el), path, i), i);
	}
}

void steer_cfg_xfr(struct cfg_ctx *c, json_t *root)
{
	struct steer_xfr_conf *x = &c->cfg->xfr;
	int policy = STEER_DEFAULT_SERIAL_POLICY;
	json_t *v;

	x->serial_policy = STEER_DEFAULT_SERIAL_POLICY;
	x->journal_versions = STEER_DEFAULT_JOURNAL_VERSIONS;
	if (steer_cfg_get(c, root, "", "transfer", false, &v) <= 0 ||
	    !steer_cfg_object(c, v, "transfer", xfr_keys))
		return;
	x->enabled = true;
	/* keys first: allow entries and notify targets name them */
	parse_array(c, v, "keys", sizeof(*x->keys), (void **)&x->keys, &x->n_keys, parse_key);
	parse_array(c, v, "allow", sizeof(*x->allow), (void **)&x->allow, &x->n_allow, parse_allow);
	parse_array(c, v, "notify", sizeof(*x->notify), (void **)&x->notify, &x->n_notify,
		    parse_target);
	if (steer_cfg_enum(c, v, "transfer", "serial_policy", serial_names, &policy) > 0)
		x->serial_policy = (enum steer_serial_policy)policy;
	steer_cfg_uint(c, v, "transfer", "journal_versions", false, 1,
		       STEER_XFR_JOURNAL_VERSIONS_MAX, &x->journal_versions);
}

void steer_cfg_xfr_fini(struct steer_xfr_conf *x)
{
	for (size_t i = 0; i < x->n_keys; i++) {
		free(x->keys[i].name);
		free(x->keys[i].algorithm);
		if (x->keys[i].secret_b64 != NULL) {
			explicit_bzero(x->keys[i].secret_b64, strlen(x->keys[i].secret_b64));
			free(x->keys[i].secret_b64);
		}
	}
	free(x->keys);
	free(x->allow);
	free(x->notify);
	memset(x, 0, sizeof(*x));
}
