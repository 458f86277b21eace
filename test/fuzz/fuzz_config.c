/*
 * Fuzz configuration loading and the zone build. At start the test/data/bb tree is copied
 * into a fresh temporary folder; the first byte of an input chooses the file it replaces
 * (steerd.json, pools/homelab.json or monitors/api-health.json), the rest is its text. The
 * file is put back after each input. Checked: the return code agrees with the error list;
 * every error names a file and says something; JSON syntax errors have a line and column
 * inside the text; errors of one file come sorted by position; a valid config builds a
 * zone or reports why, and that zone answers its SOA and every balancer.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "config/config.h"
#include "dns/wire.h"
#include "health/health.h"
#include "steer/steer.h"
#include "zone/zone.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define N_FILES       3
#define FILE_MAX      (1u << 20) /* bytes of a copied file, at most */
#define ZONE_FILE_MAX (1 << 20)  /* a zone_file larger than this is not read */
#define MAX_BALANCERS 16         /* balancers queried per input, at most */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The files an input can replace, relative to test/data/bb and to the copy. */
static const char *const names[N_FILES] = {"steerd.json", "pools/homelab.json",
					   "monitors/api-health.json"};

/** The temporary copy of the tree and the original text of each replaceable file. */
struct tree {
	char dir[256];
	char path[N_FILES][320];
	char *text[N_FILES];
	size_t len[N_FILES];
};

static struct tree tree;

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = f != NULL ? malloc(FILE_MAX) : NULL;

	CHECK(buf != NULL);
	*len = fread(buf, 1, FILE_MAX, f);
	CHECK(!ferror(f) && *len < FILE_MAX);
	fclose(f);
	return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	CHECK(len == 0 || fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

/* Every file of the copy of test/data/bb: the main file, the pools and the monitor. */
static const char *const tree_files[] = {
	"steerd.json",        "pools/allpool.json",  "pools/hashpool.json",
	"pools/homelab.json", "pools/hostpool.json", "pools/inpool.json",
	"pools/parents.json", "pools/v4pool.json",   "monitors/api-health.json"};
#define N_TREE_FILES (sizeof(tree_files) / sizeof(tree_files[0]))

static void copy_tree(void)
{
	char src[512], dst[512];

	for (size_t i = 0; i < N_TREE_FILES; i++) {
		size_t len;
		char *text;

		snprintf(src, sizeof(src), "%s/test/data/bb/%s", STEER_SRC_DIR, tree_files[i]);
		snprintf(dst, sizeof(dst), "%s/%s", tree.dir, tree_files[i]);
		text = read_all(src, &len);
		write_all(dst, text, len);
		free(text);
	}
}

/* Loading a config writes nothing, so the copy holds exactly the files put there. */
static void remove_tree(void)
{
	static const char *const dirs[] = {"pools", "monitors", ""};
	char path[512];

	for (size_t i = 0; i < N_FILES; i++)
		free(tree.text[i]);
	for (size_t i = 0; i < N_TREE_FILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", tree.dir, tree_files[i]);
		(void)unlink(path);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tree.dir, dirs[i]);
		(void)rmdir(path);
	}
}

static void setup_tree(void)
{
	const char *tmp = getenv("TMPDIR");
	char sub[320];

	snprintf(tree.dir, sizeof(tree.dir), "%s/steer-fuzz-config-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	CHECK(mkdtemp(tree.dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/pools", tree.dir);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(sub, sizeof(sub), "%s/monitors", tree.dir);
	CHECK(mkdir(sub, 0700) == 0);
	copy_tree();
	for (size_t i = 0; i < N_FILES; i++) {
		snprintf(tree.path[i], sizeof(tree.path[i]), "%s/%s", tree.dir, names[i]);
		tree.text[i] = read_all(tree.path[i], &tree.len[i]);
	}
	atexit(remove_tree);
}

/* Is @p line:@p col inside @p text, or just past its end? */
static bool pos_in_text(const char *text, size_t len, int line, int col)
{
	size_t start = 0, end;
	int l = 1;

	for (size_t i = 0; i < len && l < line; i++) {
		if (text[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	if (l != line || col < 1)
		return false;
	end = start;
	while (end < len && text[end] != '\n')
		end++;
	return (size_t)col <= end - start + 1;
}

/* Properties of the error list of a load that replaced file @p k with @p text. */
static void check_errors(const struct steer_errs *errs, size_t k, const char *text, size_t len)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct steer_err *e = &errs->v[i];
		const struct steer_err *prev = i > 0 ? &errs->v[i - 1] : NULL;

		CHECK(e->file[0] != '\0' && e->msg[0] != '\0');
		if (strncmp(e->msg, "invalid JSON", 12) == 0)
			CHECK(e->line > 0 && e->column > 0);
		if (e->line > 0 && strcmp(e->file, tree.path[k]) == 0)
			CHECK(pos_in_text(text, len, e->line, e->column));
		if (prev != NULL && strcmp(prev->file, e->file) == 0)
			CHECK(prev->line < e->line ||
			      (prev->line == e->line && prev->column <= e->column));
	}
}

/* Answer @p name / @p type from @p zone; @return the response (caller frees) or NULL. */
static ldns_pkt *ask(const struct steer_zone *zone, const struct steer_health_snapshot *snap,
		     const char *name, ldns_rr_type type)
{
	static uint8_t out[STEER_DNS_UDP_MAX];
	struct steer_client client = {.family = AF_INET, .addr = {192, 0, 2, 1}};
	uint64_t rng = 1;
	struct steer_query_ctx ctx = {.snap = snap, .client = &client, .rng = &rng};
	ldns_rdf *dname = ldns_dname_new_frm_str(name);
	ldns_pkt *q = dname != NULL ? ldns_pkt_query_new(dname, type, LDNS_RR_CLASS_IN, 0) : NULL;
	ldns_pkt *r = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0, len;

	if (q == NULL)
		return NULL; /* not a name ldns takes: nothing to ask */
	ldns_pkt_set_id(q, 0x5a5a);
	CHECK(ldns_pkt2wire(&wire, q, &wlen) == LDNS_STATUS_OK);
	len = steer_zone_answer(zone, &ctx, wire, wlen, out, sizeof(out));
	CHECK(len > 0);
	CHECK(ldns_wire2pkt(&r, out, len) == LDNS_STATUS_OK);
	CHECK(ldns_pkt_id(r) == 0x5a5a && ldns_pkt_qr(r) && ldns_pkt_qdcount(r) == 1);
	free(wire);
	ldns_pkt_free(q);
	return r;
}

/* The zone of a valid config answers its SOA, and every balancer without an error. */
static void check_zone(const struct steer_config *cfg, const struct steer_zone *zone)
{
	struct steer_health_dims dims = {cfg->n_origins, cfg->n_pools, cfg->n_balancers};
	struct steer_health_snapshot *snap = steer_health_snapshot_new_dims(&dims, 1);
	ldns_pkt *r;

	CHECK(snap != NULL);
	CHECK(steer_zone_node_count(zone) >= 1);
	r = ask(zone, snap, cfg->zone.name, LDNS_RR_TYPE_SOA);
	CHECK(r != NULL);
	CHECK(ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_aa(r));
	CHECK(ldns_pkt_ancount(r) == 1);
	ldns_pkt_free(r);
	for (size_t i = 0; i < cfg->n_balancers && i < MAX_BALANCERS; i++) {
		r = ask(zone, snap, cfg->balancers[i].fqdn, LDNS_RR_TYPE_A);
		if (r == NULL)
			continue;
		CHECK(ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR);
		ldns_pkt_free(r);
	}
	steer_health_snapshot_free(snap);
}

/* A zone_file the fuzzer named: read it only if it is a small regular file. */
static bool zone_file_ok(const struct steer_config *cfg)
{
	struct stat st;

	if (cfg->zone.zone_file == NULL)
		return true;
	return stat(cfg->zone.zone_file, &st) != 0 ||
	       (S_ISREG(st.st_mode) && st.st_size <= ZONE_FILE_MAX);
}

static void build_zone(const struct steer_config *cfg)
{
	struct steer_errs errs = {0};
	struct steer_zone *zone = NULL;
	int rc;

	if (!zone_file_ok(cfg))
		return;
	rc = steer_zone_new(cfg, &zone, &errs);
	CHECK(rc == 0 || rc == STEER_ECONFIG);
	CHECK((rc == 0) == (errs.n == 0));
	CHECK((rc == 0) == (zone != NULL));
	for (size_t i = 0; i < errs.n; i++)
		CHECK(errs.v[i].file[0] != '\0' && errs.v[i].msg[0] != '\0');
	if (zone != NULL)
		check_zone(cfg, zone);
	steer_zone_free(zone);
	steer_errs_fini(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	size_t k;
	int rc;

	if (tree.dir[0] == '\0')
		setup_tree();
	if (size < 1)
		return 0;
	k = data[0] % N_FILES;
	write_all(tree.path[k], data + 1, size - 1);
	rc = steer_config_load(tree.path[0], &cfg, &errs);
	CHECK(rc == 0 || rc == STEER_ECONFIG);
	CHECK((rc == 0) == (errs.n == 0));
	CHECK((rc == 0) == (cfg != NULL));
	check_errors(&errs, k, (const char *)data + 1, size - 1);
	if (cfg != NULL)
		build_zone(cfg);
	steer_config_free(cfg);
	steer_errs_fini(&errs);
	write_all(tree.path[k], tree.text[k], tree.len[k]);
	return 0;
}
