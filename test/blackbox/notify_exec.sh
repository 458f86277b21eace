#!/bin/sh
# exec target of the notification black-box test: appends one JSON line per message to
# $1: the STEER_* environment and the event JSON read from stdin.
out=$1
stdin=$(cat)
{
	printf '{"id": "%s", "event": "%s", "count": "%s", "target": "%s", "env_pool": "%s", "stdin": ' \
		"$STEER_ID" "$STEER_EVENT" "$STEER_COUNT" "$STEER_TARGET" "$STEER_POOL"
	printf '%s' "$stdin"
	printf ', "nenv": %s}\n' "$(env | wc -l)"
} >>"$out"
