/* steerctl: the operator's command line. Today: validate a configuration offline. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/err.h"
#include "zone/zone.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: steerctl check [-c FILE]   validate a configuration (default steerd.json)\n"
		"       steerctl version\n");
}

static int check(const char *path)
{
	struct steer_errs errs = {0};
	struct steer_config *cfg = NULL;
	struct steer_zone *zone = NULL;
	char line[1024];
	int rc = steer_config_load(path, &cfg, &errs);

	if (rc == 0)
		rc = steer_zone_new(cfg, &zone, &errs);
	for (size_t i = 0; i < errs.n && i < errs.cap; i++)
		fprintf(stderr, "%s\n", steer_err_format(&errs.v[i], line, sizeof(line)));
	if (rc == 0)
		printf("configuration ok: zone %s, %zu balancers, %zu pools, %zu origins\n",
		       cfg->zone.name, cfg->n_balancers, cfg->n_pools, cfg->n_origins);
	else if (errs.n == 0)
		fprintf(stderr, "steerctl: %s: %s\n", path, steer_strerror(rc));
	steer_errs_fini(&errs);
	steer_zone_free(zone);
	steer_config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *path = "steerd.json";

	if (argc >= 2 && strcmp(argv[1], "version") == 0) {
		printf("steerctl %s\n", STEER_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		if (argc == 4 && strcmp(argv[2], "-c") == 0)
			path = argv[3];
		else if (argc != 2) {
			usage(stderr);
			return 2;
		}
		return check(path);
	}
	usage(argc >= 2 && strcmp(argv[1], "help") == 0 ? stdout : stderr);
	return 2;
}
