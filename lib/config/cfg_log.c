/*
 * The `log` section of steerd.json: how verbose steerd's log is and whether its lines are
 * text or JSON. lib/daemon hands the result to core/log at start and after each reload.
 */
#include <jansson.h>

#include "config/config_int.h"
#include "core/log.h"

_Static_assert(STEER_DEFAULT_LOG_LEVEL == STEER_LOG_INFO, "config.h names info by number");

static const char *const log_keys[] = {"level", "format", NULL};
static const char *const level_names[] = {"debug", "info", "notice", "warn", "err", NULL};
static const int level_prio[] = {STEER_LOG_DEBUG, STEER_LOG_INFO, STEER_LOG_NOTICE, STEER_LOG_WARN,
				 STEER_LOG_ERR};
static const char *const format_names[] = {"text", "json", NULL}; /* enum steer_log_format */

void steer_cfg_log(struct cfg_ctx *c, const json_t *root)
{
	struct steer_log_conf *l = &c->cfg->log;
	int level = 0, format = 0;
	json_t *log;

	l->level = STEER_DEFAULT_LOG_LEVEL;
	l->format = STEER_LOG_TEXT;
	if (steer_cfg_get(c, root, "", "log", false, &log) <= 0 ||
	    !steer_cfg_object(c, log, "log", log_keys))
		return;
	if (steer_cfg_enum(c, log, "log", "level", level_names, &level) > 0)
		l->level = level_prio[level];
	if (steer_cfg_enum(c, log, "log", "format", format_names, &format) > 0)
		l->format = format;
}

const char *steer_config_log_level_name(int prio)
{
	for (size_t i = 0; level_names[i] != NULL; i++)
		if (level_prio[i] == prio)
			return level_names[i];
	return "?";
}

const char *steer_config_log_format_name(int format)
{
	return format >= 0 && format < (int)(sizeof(format_names) / sizeof(format_names[0])) - 1
		       ? format_names[format]
		       : "?";
}
