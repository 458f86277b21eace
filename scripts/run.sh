#!/usr/bin/env bash
# Install dependencies, build, start the demo origins (small HTTP servers on 127.0.0.11,
# .12, .21, .22 and ::1, port 8080) and run steerd on the default configuration
# (steerd.json): DNS on 127.0.0.1:5353 and [::1]:5353. Extra arguments go to steerd (e.g.
# -v for a line per probe, or -c FILE for another configuration).
# However this script is stopped, steerd and the origins stop with it: Ctrl-C (SIGINT to
# the process group), `kill PID` (SIGTERM), SIGHUP when the terminal closes, or a signal
# to the whole process group.
# Environment:
#   STEERD=PATH       run that steerd binary; install-deps.sh and build.sh are skipped
#   STEER_DEMO_DIR    where the origins keep their control files (default .demo)
#   STEER_DEMO_PORT   the origins' port (default 8080; the monitors must probe it)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${STEERD:-}" ]; then
	./scripts/install-deps.sh
	./scripts/build.sh normal
	STEERD=./build/steerd
fi

steerd_pid=
stopping=0

# Stop steerd (SIGTERM; SIGKILL if it is still there after 5 s), then the origins.
# Runs once, on every way out.
stop_all() {
	[ "$stopping" -eq 1 ] && return
	stopping=1
	if [ -n "$steerd_pid" ] && kill -0 "$steerd_pid" 2>/dev/null; then
		kill -TERM "$steerd_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$steerd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$steerd_pid" 2>/dev/null || true
	fi
	./scripts/demo-origins.sh stop >/dev/null || true
}

# A stop signal: clean up, then exit with the usual 128 + signal status.
on_signal() {
	trap - EXIT
	stop_all
	exit "$1"
}
trap stop_all EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

./scripts/demo-origins.sh start
# in the background, so that the shell runs its traps at once: bash runs a trap only
# between commands, and a foreground child would hold it back until it exits
"$STEERD" -c steerd.json "$@" &
steerd_pid=$!
rc=0
wait "$steerd_pid" || rc=$?
steerd_pid=
exit "$rc"
