/*
 * `steerctl notify`: notification commands (cmd_notify.c), listed in usage.c's table.
 */
#ifndef STEER_CMD_STEERCTL_CMD_NOTIFY_H
#define STEER_CMD_STEERCTL_CMD_NOTIFY_H

#include "ctl.h"

/**
 * `notify test [NAME]`: send a test event to notification NAME (default: every one)
 * through steerd's outbox and report, per target, whether it was delivered.
 * @return CTL_EXIT_OK when every target got it, CTL_EXIT_REFUSED when one did not (or
 *         the server said no), CTL_EXIT_USAGE, or CTL_EXIT_UNREACHABLE.
 */
int ctl_cmd_notify(struct ctl *ctl);

#endif
