/*
 * steerctl's command table and every help text: the overview (`steerctl help`), one
 * command's help (`steerctl drain --help`) and the short usage printed with an error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd_notify.h"
#include "ctl.h"

#define GLOBAL_SYNOPSIS "steerctl [--api URL] [--token-file FILE] [--json]"

static const struct ctl_cmd cmds[] = {
	{"status", ctl_cmd_status, 0, 0, 0, true, "",
	 "balancers, pools and origins with their health",
	 "Show every balancer (the pool it answers from and why), then every pool with its\n"
	 "origins: probed state, since when, override and last probe."},
	{"history", ctl_cmd_history, CTL_OPT_SINCE | CTL_OPT_LIMIT, 1, 1, true,
	 "POOL/ORIGIN [--since 1h] [--limit N]", "recent probes of one origin, newest first",
	 "Show the probes of one origin, newest first."},
	{"events", ctl_cmd_events, CTL_OPT_SINCE | CTL_OPT_LIMIT, 0, 0, true,
	 "[--since 1h] [--limit N]", "recent state changes and overrides, newest first",
	 "Show origin, pool and balancer transitions and override changes, newest first."},
	{"drain", ctl_cmd_override, CTL_OPT_FOR | CTL_OPT_REASON, 1, 1, true,
	 "POOL[/ORIGIN] [--for 30m] [--reason TEXT]", "stop answering with an origin (or a pool)",
	 "Drain an origin, or every origin of POOL: it stays probed but is left out of the\n"
	 "answers until `undrain` (or until --for has passed)."},
	{"undrain", ctl_cmd_override, CTL_OPT_REASON, 1, 1, true, "POOL[/ORIGIN] [--reason TEXT]",
	 "clear an override: health decides again",
	 "Clear the override of an origin or a pool (the same as `auto`): its probed health\n"
	 "decides again."},
	{"force-down", ctl_cmd_override, CTL_OPT_FOR | CTL_OPT_REASON, 1, 1, true,
	 "POOL[/ORIGIN] [--for D] [--reason TEXT]", "treat an origin (or a pool) as down",
	 "Treat an origin, or a whole pool, as down whatever its probes say, until `auto`\n"
	 "(or until --for has passed). Balancers fail over as if it had failed."},
	{"force-up", ctl_cmd_override, CTL_OPT_FOR | CTL_OPT_REASON, 1, 1, true,
	 "POOL[/ORIGIN] [--for D] [--reason TEXT]", "treat an origin (or a pool) as up",
	 "Treat an origin, or a whole pool, as up whatever its probes say, until `auto`\n"
	 "(or until --for has passed)."},
	{"auto", ctl_cmd_override, CTL_OPT_REASON, 1, 1, true, "POOL[/ORIGIN] [--reason TEXT]",
	 "clear an override: health decides again",
	 "Clear the override of an origin or a pool: its probed health decides again."},
	{"explain", ctl_cmd_explain, CTL_OPT_TYPE | CTL_OPT_CLIENT, 1, 1, true,
	 "NAME [--type A|AAAA] [--client IP]", "the answer for a name and why",
	 "Show the answer steerd gives for NAME now (type A unless --type, as seen by\n"
	 "--client) and every step of the choice: pools skipped or taken, origins, TTL."},
	{"failback", ctl_cmd_failback, 0, 1, 1, true, "BALANCER",
	 "return a failed-over balancer to its preferred pool",
	 "Fail a balancer back to its preferred pool now, without waiting for\n"
	 "failback_hold (the way back for `\"failback\": \"manual\"`)."},
	{"reload", ctl_cmd_reload, 0, 0, 0, true, "", "load and validate the configuration again",
	 "Ask steerd to load its configuration again. On any error the previous one keeps\n"
	 "serving and every error is printed as file:line:col: path: message."},
	{"notify", ctl_cmd_notify, 0, 1, 2, true, "test [NAME]",
	 "send a test notification and report its delivery",
	 "Send a test event to notification NAME (default: every one) through steerd's\n"
	 "outbox, and print for each target whether it was delivered (exit 1 if not)."},
	{"check", ctl_cmd_check, CTL_OPT_CONFIG, 0, 0, false, "[-c FILE]",
	 "validate a configuration offline",
	 "Load and validate a configuration (default steerd.json, with its pools/ and\n"
	 "monitors/) without a server: prints `configuration ok: ...` and exits 0, or every\n"
	 "error as file:line:col: path: message and exits 1."},
	{"zone", ctl_cmd_zone, 0, 0, 0, true, "", "the zone as secondaries transfer it",
	 "Print the zone a secondary would get by AXFR now, as a zone file (steerd's\n"
	 "records, and each balancer's current answers). Needs `transfer` in steerd.json."},
	{"version", ctl_cmd_version, 0, 0, 0, true, "", "client version, and the server's",
	 "Print steerctl's version and, when the API answers, steerd's."},
	{"help", NULL, 0, 0, 1, false, "[COMMAND]", "this overview, or one command's help",
	 "Print the overview of every command, or the help of COMMAND."},
};

/* Option lines of a command's help, in the order of the CTL_OPT_* bits. */
static const struct {
	unsigned bit;
	const char *name;
	const char *text;
} opt_help[] = {
	{CTL_OPT_SINCE, "--since T", "only since T: 90s, 30m, 1h, 2d ago, or a Unix time (s)"},
	{CTL_OPT_LIMIT, "--limit N", "at most N entries"},
	{CTL_OPT_FOR, "--for D", "the override ends by itself after D: 90s, 30m, 1h, 2d"},
	{CTL_OPT_REASON, "--reason TEXT", "why, shown in status and events"},
	{CTL_OPT_TYPE, "--type A|AAAA", "the query type (default A)"},
	{CTL_OPT_CLIENT, "--client IP", "the client address the answer is for"},
	{CTL_OPT_CONFIG, "-c, --config FILE", "the main file (default " CTL_DEFAULT_CONFIG ")"},
};

static const char global_help[] =
	"  --api URL          steerd's API (default $STEER_API, else " CTL_DEFAULT_API ")\n"
	"  --token-file FILE  bearer token (default $STEER_TOKEN_FILE, else ./api.token,\n"
	"                     else /etc/steer/api.token when readable)\n"
	"  --json             print the server's JSON (pretty, sorted keys) for scripts\n"
	"  -h, --help         this help; `steerctl COMMAND --help` for one command\n";

static const char exit_help[] =
	"Exit status: 0 ok, 1 the server said no (or `check` found errors), 2 usage error,\n"
	"3 the API cannot be reached.\n";

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

void ctl_usage_all(FILE *f)
{
	int width = 0;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((int)strlen(cmds[i].name) > width)
			width = (int)strlen(cmds[i].name);
	fprintf(f, "usage: " GLOBAL_SYNOPSIS " COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-*s  %s\n", width, cmds[i].name, cmds[i].summary);
	fprintf(f, "\nOptions (before or after the command):\n%s\n%s", global_help, exit_help);
}

static void print_synopsis(FILE *f, const struct ctl_cmd *cmd)
{
	fprintf(f, "usage: steerctl %s%s%s\n", cmd->name, cmd->synopsis[0] != '\0' ? " " : "",
		cmd->synopsis);
}

void ctl_usage_cmd(const struct ctl_cmd *cmd)
{
	print_synopsis(stdout, cmd);
	printf("\n%s\n", cmd->help);
	if (cmd->opts != 0) {
		printf("\nOptions:\n");
		for (size_t i = 0; i < sizeof(opt_help) / sizeof(opt_help[0]); i++)
			if ((cmd->opts & opt_help[i].bit) != 0)
				printf("  %-18s %s\n", opt_help[i].name, opt_help[i].text);
	}
	if (cmd->api)
		printf("\nGlobal options:\n%s", global_help);
	printf("\n%s", exit_help);
}

int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("steerctl: ", stderr);
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive of v14 */
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd == NULL) {
		fprintf(stderr, "usage: " GLOBAL_SYNOPSIS " COMMAND [ARGS]\n"
				"(`steerctl help` lists the commands)\n");
		return CTL_EXIT_USAGE;
	}
	print_synopsis(stderr, cmd);
	fprintf(stderr, "(`steerctl %s --help` for details)\n", cmd->name);
	return CTL_EXIT_USAGE;
}
