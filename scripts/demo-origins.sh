#!/usr/bin/env bash
# Small HTTP origins on loopback for the default configuration, so that `dig` shows
# health-based answers. Each serves GET /healthz -> 200 "ok" on port 8080
# ($STEER_DEMO_PORT if set; control files in $STEER_DEMO_DIR, default .demo).
#   scripts/demo-origins.sh start [ADDR...]   start all (or the given) origins
#   scripts/demo-origins.sh stop  [ADDR...]   stop all (or the given) origins
#   scripts/demo-origins.sh fail  ADDR...     make them answer 503 (monitors mark them down)
#   scripts/demo-origins.sh heal  ADDR...     make them answer 200 again
#   scripts/demo-origins.sh status
# ADDR is 127.0.0.11, 127.0.0.12, ::1 (pool homelab), 127.0.0.21, 127.0.0.22 (pool parents).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STEER_DEMO_DIR:-.demo}
port=${STEER_DEMO_PORT:-8080}
all=(127.0.0.11 127.0.0.12 ::1 127.0.0.21 127.0.0.22)
mkdir -p "$dir"

key() { echo "$1" | tr ':' '_'; }
listen() { case "$1" in *:*) echo "[$1]:$port" ;; *) echo "$1:$port" ;; esac; }
running() { [ -f "$dir/$(key "$1").pid" ] && kill -0 "$(cat "$dir/$(key "$1").pid")" 2>/dev/null; }

start() {
	local a=$1 k
	k=$(key "$a")
	if running "$a"; then
		return 0
	fi
	[ -f "$dir/$k.json" ] || echo '{"status": 200, "body": "ok"}' >"$dir/$k.json"
	nohup python3 test/origin/origin.py --listen "$(listen "$a")" --control "$dir/$k.json" \
		--log "$dir/$k.log" >"$dir/$k.out" 2>&1 &
	echo $! >"$dir/$k.pid"
	for _ in $(seq 1 50); do
		if grep -q listening "$dir/$k.out" 2>/dev/null; then
			echo "origin $(listen "$a") started"
			return 0
		fi
		kill -0 "$(cat "$dir/$k.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "origin $(listen "$a") did not start:" >&2
	tail -n 1 "$dir/$k.out" >&2
	rm -f "$dir/$k.pid"
	return 1
}

stop() {
	local a=$1 k
	k=$(key "$a")
	if running "$a"; then
		kill "$(cat "$dir/$k.pid")" 2>/dev/null || true
		echo "origin $(listen "$a") stopped"
	fi
	rm -f "$dir/$k.pid"
}

cmd=${1:-status}
shift || true
[ $# -gt 0 ] && set -- "$@" || set -- "${all[@]}"
case "$cmd" in
start) for a in "$@"; do start "$a"; done ;;
stop) for a in "$@"; do stop "$a"; done ;;
fail) for a in "$@"; do echo '{"status": 503, "body": "maintenance"}' >"$dir/$(key "$a").json"; done ;;
heal) for a in "$@"; do echo '{"status": 200, "body": "ok"}' >"$dir/$(key "$a").json"; done ;;
status)
	for a in "$@"; do
		if running "$a"; then echo "$(listen "$a") running"; else echo "$(listen "$a") stopped"; fi
	done
	;;
*)
	sed -n '2,10p' "$0"
	exit 2
	;;
esac
