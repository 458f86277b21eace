/*
 * Config loading: reads steerd.json and every JSON file of the monitors and pools folders,
 * validates the whole set (collecting every error with its position) and hands out an immutable
 * struct steer_config only if nothing was wrong.
 */
#include "config/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/cfg_xfr_int.h"
#include "config/config_int.h"

/* Every buffer has a maximum: no config file is anywhere near this big. */
#define CFG_FILE_MAX (16u << 20)

/* Keep @p name in cfg->files; positions point at it. @return the kept copy or NULL. */
static const char *intern_file(struct cfg_ctx *c, const char *name)
{
	struct steer_config *cfg = c->cfg;
	char *copy;

	if (cfg->n_files == c->files_cap) {
		size_t cap = c->files_cap != 0 ? c->files_cap * 2 : 16;
		char **v = realloc(cfg->files, cap * sizeof(*v));

		if (v == NULL) {
			c->nomem = true;
			return NULL;
		}
		cfg->files = v;
		c->files_cap = cap;
	}
	copy = steer_cfg_strdup(c, name);
	if (copy != NULL)
		cfg->files[cfg->n_files++] = copy;
	return copy;
}

/* Read all of @p path (see steer_cfg_open_file()); on failure @p why says why. */
static int read_text(const char *path, char **text, size_t *len, char *why, size_t size)
{
	int fd = steer_cfg_open_file(path, why, size);
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int rc = 0;

	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			char *nb =
				cap < CFG_FILE_MAX ? realloc(buf, cap != 0 ? cap * 2 : 4096) : NULL;

			if (nb == NULL) {
				rc = cap < CFG_FILE_MAX ? STEER_ENOMEM : -EFBIG;
				break;
			}
			buf = nb;
			cap = cap != 0 ? cap * 2 : 4096;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		steer_cfg_strerror(-rc, why, size);
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Read and parse @p path; on failure report it and leave f->root NULL. */
static int file_open(struct cfg_ctx *c, const char *path, struct cfg_file *f)
{
	json_error_t jerr;
	char why[160];
	int rc;

	f->name = intern_file(c, path);
	if (f->name == NULL)
		return STEER_ENOMEM;
	rc = read_text(path, &f->text, &f->len, why, sizeof(why));
	if (rc == STEER_ENOMEM)
		c->nomem = true;
	if (rc < 0) {
		steer_errs_add(c->errs, f->name, 0, 0, NULL, "cannot read: %s", why);
		return rc;
	}
	if (steer_jpos_parse(&f->pos, f->text, f->len, &f->root) == 0)
		return 0;
	/* what the one-pass parser leaves, and every syntax error: jansson's to judge */
	f->root = json_loadb(f->text, f->len, JSON_REJECT_DUPLICATES, &jerr);
	if (f->root == NULL) {
		steer_cfg_syntax_error(c, f, &jerr);
		return STEER_ECONFIG;
	}
	steer_jpos_init(&f->pos, f->text, f->len);
	return 0;
}

static void file_close(struct cfg_file *f)
{
	json_decref(f->root);
	free(f->text);
	steer_jpos_fini(&f->pos);
	memset(f, 0, sizeof(*f));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_json_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Append a copy of @p name to @p names (@p n of them, room for @p cap). */
static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	size_t len = strlen(name) + 1;
	char **v = *names;

	if (*n == *cap) {
		size_t ncap = *cap != 0 ? *cap * 2 : 16;

		v = realloc(*names, ncap * sizeof(*v));
		if (v == NULL)
			return STEER_ENOMEM;
		*names = v;
		*cap = ncap;
	}
	v[*n] = malloc(len);
	if (v[*n] == NULL)
		return STEER_ENOMEM;
	memcpy(v[(*n)++], name, len);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The *.json files of @p dir, sorted; a missing folder is fine unless @p required. */
static void list_json(struct cfg_ctx *c, const char *dir, const char *key, bool required,
		      char ***names, size_t *n)
{
	char ebuf[128];
	DIR *d = opendir(dir);
	size_t cap = 0;

	if (d == NULL) {
		if (required || errno != ENOENT)
			steer_cfg_err(c, key, "cannot open directory \"%s\": %s", dir,
				      steer_cfg_strerror(errno, ebuf, sizeof(ebuf)));
		return;
	}
	for (;;) {
		/* NOLINTNEXTLINE(concurrency-mt-unsafe): this DIR stream is not shared */
		const struct dirent *de = readdir(d);

		if (de == NULL)
			break;
		if (is_json_name(de->d_name) && add_name(names, n, &cap, de->d_name) < 0) {
			c->nomem = true;
			break;
		}
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), name_cmp);
}

/* Validate one file's item @p item, the @p idx-th of its kind (already counted). */
typedef void cfg_item_fn(struct cfg_ctx *c, json_t *root, void *item, size_t idx);

static void pool_item(struct cfg_ctx *c, json_t *root, void *item, size_t idx)
{
	struct steer_pool *p = item;

	p->index = (uint32_t)idx;
	steer_cfg_pool(c, root, p);
	for (size_t i = 0; i < p->n_origins; i++)
		p->origins[i].index = (uint32_t)c->cfg->n_origins++;
}

static void monitor_item(struct cfg_ctx *c, json_t *root, void *item, size_t idx)
{
	(void)idx;
	steer_cfg_monitor(c, root, item);
}

/*
 * The file @p display (interned) could not be read or parsed: remember it, and @p name
 * (its file name, cut here to what it would have defined) in @p broken.
 */
static void mark_broken(struct cfg_ctx *c, const char *display, char *name,
			struct cfg_index *broken)
{
	if (display != NULL && steer_cfg_index_add(&c->broken_files, display, 0, NULL) < 0)
		c->nomem = true;
	if (broken == NULL)
		return;
	name[strlen(name) - strlen(".json")] = '\0'; /* list_json() took only *.json names */
	if (steer_cfg_index_add(broken, name, 0, NULL) < 0)
		c->nomem = true;
}

/*
 * Load the files @p names of @p dir, in order, into the array @p arr of @p size-byte items
 * counted by @p count; @p fn validates one item. Files that do not parse get no item, and
 * their names go to @p broken.
 */
static void load_files(struct cfg_ctx *c, const char *dir, char **names, size_t n, void *arr,
		       size_t size, size_t *count, cfg_item_fn *fn, struct cfg_index *broken)
{
	struct cfg_file *main_file = c->file;

	for (size_t i = 0; arr != NULL && i < n; i++) {
		struct cfg_file f = {0};
		char *path = steer_cfg_resolve(c, dir, names[i]);

		if (path != NULL && file_open(c, path, &f) == 0) {
			size_t idx = (*count)++; /* counted first, so a half-filled item is freed */

			c->file = &f;
			fn(c, f.root, (char *)arr + idx * size, idx);
			c->file = main_file;
		} else if (path != NULL) {
			mark_broken(c, f.name, names[i], broken);
		}
		file_close(&f);
		free(path);
	}
}

static void load_monitors(struct cfg_ctx *c)
{
	struct steer_config *cfg = c->cfg;
	size_t n = 0;

	list_json(c, c->monitors_dir, "monitors_dir", c->monitors_dir_set, &c->monitor_files, &n);
	c->n_monitor_files = n;
	cfg->monitors = steer_cfg_calloc(c, n, sizeof(*cfg->monitors));
	load_files(c, c->monitors_dir, c->monitor_files, n, cfg->monitors, sizeof(*cfg->monitors),
		   &cfg->n_monitors, monitor_item, &c->broken_monitors);
}

static void load_pools(struct cfg_ctx *c)
{
	struct steer_config *cfg = c->cfg;
	size_t n = 0;

	list_json(c, c->pools_dir, "pools_dir", true, &c->pool_files, &n);
	c->n_pool_files = n;
	cfg->pools = steer_cfg_calloc(c, n, sizeof(*cfg->pools));
	load_files(c, c->pools_dir, c->pool_files, n, cfg->pools, sizeof(*cfg->pools),
		   &cfg->n_pools, pool_item, &c->broken_pools);
}

struct err_ref {
	struct steer_err e;
	bool later;  /* not an error of a broken file (those come first: the rest may follow) */
	size_t rank; /* file order: the main file, then monitors, then pools */
	size_t orig;
};

static int err_cmp(const void *a, const void *b)
{
	const struct err_ref *x = a, *y = b;

	if (x->later != y->later)
		return x->later ? 1 : -1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->e.line != y->e.line)
		return x->e.line < y->e.line ? -1 : 1;
	if (x->e.column != y->e.column)
		return x->e.column < y->e.column ? -1 : 1;
	return x->orig < y->orig ? -1 : x->orig > y->orig;
}

/*
 * Order the errors found from index @p first on: the files that could not be read or
 * parsed first (what else is wrong may follow from them), then by file and position, like
 * a compiler.
 */
static void sort_errors(const struct cfg_ctx *c, size_t first)
{
	struct steer_errs *errs = c->errs;
	size_t end = errs->n < errs->cap ? errs->n : errs->cap, n;
	struct cfg_index ranks = {0}; /* file name -> its place in cfg->files */
	struct err_ref *v;

	if (end <= first + 1)
		return;
	n = end - first;
	v = calloc(n, sizeof(*v));
	for (size_t k = 0; v != NULL && k < c->cfg->n_files; k++) {
		if (steer_cfg_index_add(&ranks, c->cfg->files[k], k, NULL) < 0) {
			free(v);
			v = NULL;
		}
	}
	if (v == NULL) {
		steer_cfg_index_fini(&ranks);
		return; /* unsorted is still correct */
	}
	for (size_t i = 0; i < n; i++) {
		v[i].e = errs->v[first + i];
		v[i].orig = i;
		v[i].rank = steer_cfg_index_find(&ranks, v[i].e.file); /* SIZE_MAX: last */
		v[i].later = steer_cfg_index_find(&c->broken_files, v[i].e.file) == SIZE_MAX;
	}
	qsort(v, n, sizeof(*v), err_cmp);
	for (size_t i = 0; i < n; i++)
		errs->v[first + i] = v[i].e;
	free(v);
	steer_cfg_index_fini(&ranks);
}

static void set_paths(struct cfg_ctx *c, const char *path)
{
	struct steer_config *cfg = c->cfg;
	const char *slash = strrchr(path, '/');

	cfg->path = steer_cfg_strdup(c, path);
	if (slash == NULL) {
		cfg->dir = steer_cfg_strdup(c, ".");
		return;
	}
	cfg->dir = steer_cfg_calloc(c, (size_t)(slash - path) + 2, 1);
	if (cfg->dir != NULL)
		memcpy(cfg->dir, path, slash == path ? 1 : (size_t)(slash - path));
}

static void load_all(struct cfg_ctx *c, const char *path)
{
	struct steer_config *cfg = c->cfg;
	struct cfg_file main_file = {0};

	set_paths(c, path);
	if (cfg->dir == NULL)
		goto out;
	if (file_open(c, path, &main_file) < 0) {
		mark_broken(c, main_file.name, NULL, NULL);
		goto out;
	}
	c->file = &main_file;
	steer_cfg_main(c, main_file.root);
	if (c->monitors_dir != NULL)
		load_monitors(c);
	if (c->pools_dir != NULL)
		load_pools(c);
	steer_cfg_balancers(c, main_file.root);
out:
	c->file = NULL;
	file_close(&main_file);
}

int steer_config_load(const char *path, struct steer_config **out, struct steer_errs *errs)
{
	struct steer_errs local = {0};
	struct cfg_ctx c = {.errs = errs != NULL ? errs : &local};
	size_t first = c.errs->n;
	int rc;

	*out = NULL;
	c.cfg = calloc(1, sizeof(*c.cfg));
	if (c.cfg == NULL)
		return STEER_ENOMEM;
	load_all(&c, path);
	sort_errors(&c, first);
	if (c.nomem)
		rc = STEER_ENOMEM;
	else
		rc = c.errs->n > first ? STEER_ECONFIG : 0;
	if (rc == 0) {
		*out = c.cfg;
		c.cfg = NULL; /* the caller owns it now */
	}
	free(c.pools_dir);
	free(c.monitors_dir);
	steer_cfg_index_fini(&c.monitor_ix);
	steer_cfg_index_fini(&c.pool_ix);
	steer_cfg_index_fini(&c.balancer_ix);
	steer_cfg_index_fini(&c.broken_files);
	steer_cfg_index_fini(&c.broken_monitors);
	steer_cfg_index_fini(&c.broken_pools);
	free_names(c.monitor_files, c.n_monitor_files);
	free_names(c.pool_files, c.n_pool_files);
	steer_config_free(c.cfg);
	steer_errs_fini(&local);
	return rc;
}

static void zone_fini(struct steer_zone_conf *z)
{
	free(z->name);
	free(z->soa_mname);
	free(z->soa_rname);
	for (size_t i = 0; i < z->n_ns; i++)
		free(z->ns[i]);
	free(z->ns);
	for (size_t i = 0; i < z->n_records; i++) {
		free(z->records[i].text);
		free(z->records[i].jpath);
	}
	free(z->records);
	free(z->zone_file);
}

static void api_fini(struct steer_api_conf *a)
{
	for (size_t i = 0; i < a->n_listen; i++)
		free(a->listen[i].text);
	free(a->listen);
	free(a->token_file);
	free(a->token);
}

void steer_config_free(struct steer_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_listen; i++)
		free(cfg->listen[i].text);
	free(cfg->listen);
	free(cfg->cpus_dns.cpu);
	free(cfg->cpus_monitor.cpu);
	api_fini(&cfg->api);
	steer_cfg_xfr_fini(&cfg->xfr);
	zone_fini(&cfg->zone);
	for (size_t i = 0; i < cfg->n_balancers; i++) {
		free(cfg->balancers[i].name);
		free(cfg->balancers[i].fqdn);
		free((void *)cfg->balancers[i].pools);
	}
	free(cfg->balancers);
	for (size_t i = 0; i < cfg->n_pools; i++)
		steer_cfg_free_pool(&cfg->pools[i]);
	free(cfg->pools);
	for (size_t i = 0; i < cfg->n_monitors; i++)
		steer_cfg_free_monitor(&cfg->monitors[i]);
	free(cfg->monitors);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->identity);
	free(cfg->version);
	free(cfg->state_path);
	free(cfg);
}

const struct steer_pool *steer_config_get_pool(const struct steer_config *cfg, const char *name)
{
	for (size_t i = 0; cfg != NULL && i < cfg->n_pools; i++)
		if (cfg->pools[i].name != NULL && strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}
