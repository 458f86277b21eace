#!/usr/bin/env bash
# scripts/run.sh stops steerd and its demo origins however it is stopped: SIGTERM to its
# PID, SIGINT to its process group (Ctrl-C), SIGHUP (the terminal closed), SIGKILL to the
# process group. Each time: run.sh serves (dig is answered), then after the signal no
# steerd and no origin is left and the DNS and origin ports are free again.
# run.sh runs the repository's configuration with its ports moved (make_config, as
# 90-default-config does), its origins on a free port with their files in $TMP, and the
# binary under test (STEERD: no install, no build).
source "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/src"
cp -r "$STEER_SRC/steerd.json" "$STEER_SRC/pools" "$STEER_SRC/monitors" "$TMP/src/"
make_config "$TMP/src"
ADDRS=(127.0.0.11 127.0.0.12 ::1 127.0.0.21 127.0.0.22)
DEMO_PORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" "${ADDRS[@]}")
for f in "$TMP"/cfg/monitors/*.json; do
	json_edit "$f" "c['port'] = $DEMO_PORT"
done
RUN_PID=
run_cleanup() {
	local p
	[ -n "$RUN_PID" ] && kill -KILL -- "-$RUN_PID" 2>/dev/null
	for p in $(leftovers); do kill -KILL "$p" 2>/dev/null; done
	return 0
}
trap 'rc=$?; run_cleanup; (exit $rc); cleanup' EXIT

# leftovers: PIDs of any steerd on $CFG (run.sh runs it as `steerd -c steerd.json -c $CFG`)
# or demo origin of $TMP/demo still running
leftovers() {
	pgrep -f -- "-c steerd.json -c $CFG" || true
	pgrep -f -- "--control $TMP/demo/" || true
}

# ports_free: the DNS port (UDP, TCP on 127.0.0.1 and ::1) and the origins' port are free
ports_free() {
	"$PYTHON" - "$PORT" "$DEMO_PORT" "${ADDRS[@]}" <<'PY'
import socket, sys
port, demo, addrs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
tries = [(a, port, k) for a in ("127.0.0.1", "::1") for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM)]
tries += [(a, demo, socket.SOCK_STREAM) for a in addrs]
for addr, p, kind in tries:
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}

# start_run: run.sh in its own process group (job control on: as from a terminal, SIGINT
# is not ignored), then wait (at most 30 s) for steerd to answer
start_run() {
	set -m
	STEERD="$STEERD" STEER_DEMO_DIR="$TMP/demo" STEER_DEMO_PORT="$DEMO_PORT" \
		bash "$STEER_SRC/scripts/run.sh" -c "$CFG" >>"$TMP/run.log" 2>&1 &
	RUN_PID=$!
	set +m
	for _ in $(seq 1 300); do
		[[ "$(q +short SOA "$ZONE" 2>/dev/null)" == ns1.* ]] && return 0
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/run.log" >&2
	echo "run.sh did not serve within 30 s" >&2
	exit 1
}

# stop_run HOW KILL-ARGS...: send the signal, then check (bounded) that everything is gone
stop_run() {
	local how=$1 n origins left gone=0
	shift
	origins=$(cat "$TMP"/demo/*.pid 2>/dev/null | wc -l)
	n=$(leftovers | wc -l)
	expect_eq "$how: running: steerd and 5 origins" "$n/$origins" "6/5"
	kill "$@"
	for _ in $(seq 1 150); do
		if ! kill -0 "$RUN_PID" 2>/dev/null && [ -z "$(leftovers)" ] && ports_free; then
			gone=1
			break
		fi
		sleep 0.1
	done
	left=$(leftovers | tr '\n' ' ')
	[ -z "$left" ] || ps -o pid,pgid,stat,args -p "${left// /,}0" >&2 || true
	expect_eq "$how: run.sh, steerd and the origins are gone, ports free" "$gone/$left" "1/"
	wait "$RUN_PID" 2>/dev/null || true
	RUN_PID=
}

start_run
ask q api.lb.example.test A
expect_match "run.sh serves api" "$STATUS/$AN" '^NOERROR/api\.lb\.example\.test\. 30 IN A '
stop_run "SIGTERM to run.sh" -TERM "$RUN_PID"
start_run
stop_run "SIGINT to the process group (Ctrl-C)" -INT -- "-$RUN_PID"
start_run
stop_run "SIGHUP to run.sh" -HUP "$RUN_PID"
start_run
stop_run "SIGKILL to the process group" -KILL -- "-$RUN_PID"
expect_no_match "no run.sh error" "$(cat "$TMP/run.log")" 'Address already in use|did not start'

finish
