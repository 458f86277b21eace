/*
 * steerctl: the operator's command line for steerd's HTTP API, plus offline `check`.
 * This file parses the command line (options may come before or after the command)
 * and dispatches; usage.c holds the command table.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

/* Options that take a value: where it goes, and which command bit it needs (0: any). */
struct opt_def {
	const char *name;
	const char *alias;
	unsigned bit;
	size_t offset;
};

static const struct opt_def value_opts[] = {
	{"--api", NULL, 0, offsetof(struct ctl, api_arg)},
	{"--token-file", NULL, 0, offsetof(struct ctl, token_file)},
	{"--since", NULL, CTL_OPT_SINCE, offsetof(struct ctl, since)},
	{"--limit", NULL, CTL_OPT_LIMIT, offsetof(struct ctl, limit)},
	{"--for", NULL, CTL_OPT_FOR, offsetof(struct ctl, for_)},
	{"--reason", NULL, CTL_OPT_REASON, offsetof(struct ctl, reason)},
	{"--type", NULL, CTL_OPT_TYPE, offsetof(struct ctl, type)},
	{"--client", NULL, CTL_OPT_CLIENT, offsetof(struct ctl, client)},
	{"--config", "-c", CTL_OPT_CONFIG, offsetof(struct ctl, config)},
};

/* The definition named by @p arg ("--since" or "--since=1h"), or NULL. */
static const struct opt_def *find_opt(const char *arg, const char **inline_value)
{
	size_t len = strcspn(arg, "=");

	*inline_value = arg[len] == '=' ? arg + len + 1 : NULL;
	for (size_t i = 0; i < sizeof(value_opts) / sizeof(value_opts[0]); i++) {
		const struct opt_def *d = &value_opts[i];

		if ((strlen(d->name) == len && strncmp(arg, d->name, len) == 0) ||
		    (d->alias != NULL && strcmp(arg, d->alias) == 0))
			return d;
	}
	return NULL;
}

/* One option at argv[*i]; advances *i past its value. */
static int parse_opt(struct ctl *ctl, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *value;
	const struct opt_def *d;

	if (strcmp(arg, "--json") == 0) {
		ctl->json = true;
		return 0;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		ctl->help = true;
		return 0;
	}
	d = find_opt(arg, &value);
	if (d == NULL)
		return ctl_usage_error(ctl->cmd, "unknown option %s", arg);
	if (value == NULL) {
		if (*i + 1 >= argc)
			return ctl_usage_error(ctl->cmd, "%s needs a value", d->name);
		value = argv[++*i];
	}
	*(const char **)((char *)ctl + d->offset) = value;
	ctl->opts_given |= d->bit;
	return 0;
}

/* A word that is not an option: the command, then its arguments. */
static int parse_word(struct ctl *ctl, const char *arg)
{
	if (ctl->cmd_name == NULL) {
		ctl->cmd_name = arg;
		ctl->cmd = ctl_cmd_find(arg);
		if (ctl->cmd == NULL)
			return ctl_usage_error(NULL, "unknown command \"%s\"", arg);
		return 0;
	}
	if (ctl->n_args >= CTL_MAX_ARGS)
		return ctl_usage_error(ctl->cmd, "too many arguments (\"%s\")", arg);
	ctl->args[ctl->n_args++] = arg;
	return 0;
}

static int parse_args(struct ctl *ctl, int argc, char **argv)
{
	bool words_only = false;
	int rc = 0;

	for (int i = 1; i < argc && rc == 0; i++) {
		const char *arg = argv[i];

		if (!words_only && strcmp(arg, "--") == 0)
			words_only = true;
		else if (!words_only && arg[0] == '-' && arg[1] != '\0')
			rc = parse_opt(ctl, argc, argv, &i);
		else
			rc = parse_word(ctl, arg);
	}
	return rc;
}

/* The command's argument count and options fit it (help is handled before). */
static int check_fit(const struct ctl *ctl)
{
	const struct ctl_cmd *cmd = ctl->cmd;
	unsigned extra = ctl->opts_given & ~cmd->opts;

	if (ctl->n_args < cmd->min_args)
		return ctl_usage_error(cmd, "%s: missing argument", cmd->name);
	if (ctl->n_args > cmd->max_args)
		return ctl_usage_error(cmd, "%s: unexpected argument \"%s\"", cmd->name,
				       ctl->args[cmd->max_args]);
	for (size_t i = 0; i < sizeof(value_opts) / sizeof(value_opts[0]); i++)
		if ((extra & value_opts[i].bit) != 0)
			return ctl_usage_error(cmd, "%s does not take %s", cmd->name,
					       value_opts[i].name);
	return ctl_check_values(ctl);
}

/* `help`, `help CMD`, `--help`, `CMD --help`; -1 when none of them was asked for. */
static int run_help(const struct ctl *ctl)
{
	const struct ctl_cmd *topic = ctl->cmd;
	bool help_cmd = topic != NULL && topic->run == NULL; /* the `help` command */

	if (help_cmd && ctl->n_args > 0) {
		topic = ctl_cmd_find(ctl->args[0]);
		if (topic == NULL)
			return ctl_usage_error(NULL, "unknown command \"%s\"", ctl->args[0]);
	} else if (help_cmd && !ctl->help) {
		topic = NULL; /* plain `steerctl help`: the overview */
	} else if (!ctl->help) {
		return -1;
	}
	if (topic == NULL)
		ctl_usage_all(stdout);
	else
		ctl_usage_cmd(topic);
	return CTL_EXIT_OK;
}

static int run(struct ctl *ctl, int argc, char **argv)
{
	int rc = parse_args(ctl, argc, argv);

	if (rc != 0)
		return rc;
	rc = run_help(ctl);
	if (rc >= 0)
		return rc;
	if (ctl->cmd == NULL) {
		ctl_usage_all(stderr);
		return CTL_EXIT_USAGE;
	}
	rc = check_fit(ctl);
	if (rc == 0 && ctl->cmd->api)
		rc = ctl_resolve_api(ctl);
	if (rc != 0)
		return rc;
	return ctl->cmd->run(ctl);
}

int main(int argc, char **argv)
{
	static struct ctl ctl; /* large buffers: not on the stack */
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "steerctl: cannot initialise libcurl\n");
		return CTL_EXIT_REFUSED;
	}
	rc = run(&ctl, argc, argv);
	curl_global_cleanup();
	return rc;
}
