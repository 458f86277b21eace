#!/usr/bin/env bash
# Shared helpers for black-box tests: a real steerd on loopback with a random port,
# queried with dig and kdig. Every wait is bounded; every test cleans up after itself.
set -euo pipefail

STEER_SRC=${STEER_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STEERD=${STEERD:-$STEER_SRC/build/steerd}
STEERCTL=${STEERCTL:-$STEER_SRC/build/steerctl}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/steer-bb.XXXXXX")
PORT=
STEERD_PID=
FAILS=0

cleanup() {
	stop_steerd
	if [ "$FAILS" -eq 0 ]; then
		rm -rf "$TMP"
	else
		echo "# kept $TMP for inspection"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

ok() {
	echo "ok: $*"
}

# A port free for UDP and TCP on 127.0.0.1 and ::1.
free_port() {
	python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    socks = []
    try:
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, typ)
                socks.append(s)
                s.bind((host, p))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

# make_config SRC_DIR: copy a config tree (steerd.json, pools/, monitors/) into $TMP/cfg
# with its listen addresses moved to a fresh port. Sets PORT and CFG.
make_config() {
	local src=$1
	PORT=$(free_port)
	CFG=$TMP/cfg/steerd.json
	mkdir -p "$TMP/cfg"
	cp -r "$src"/. "$TMP/cfg/"
	sed -i -E "s/(127\.0\.0\.1|\[::1\]):5353/\1:$PORT/g" "$CFG"
	sed -i -E "s#\"path\": *\"steerd.db\"#\"path\": \"$TMP/steerd.db\"#" "$CFG"
}

# start_steerd [extra args]: start on $CFG and wait (at most 10 s) for an SOA answer.
start_steerd() {
	"$STEERD" -c "$CFG" "$@" >"$TMP/steerd.log" 2>&1 &
	STEERD_PID=$!
	for _ in $(seq 1 100); do
		if dig @127.0.0.1 -p "$PORT" +norec +time=1 +tries=1 +short SOA "$ZONE" >/dev/null 2>&1 &&
			[ -n "$(dig @127.0.0.1 -p "$PORT" +norec +time=1 +tries=1 +short SOA "$ZONE")" ]; then
			return 0
		fi
		if ! kill -0 "$STEERD_PID" 2>/dev/null; then
			cat "$TMP/steerd.log" >&2
			echo "steerd exited early" >&2
			exit 1
		fi
		sleep 0.1
	done
	cat "$TMP/steerd.log" >&2
	echo "steerd did not answer within 10 s" >&2
	exit 1
}

stop_steerd() {
	if [ -n "$STEERD_PID" ] && kill -0 "$STEERD_PID" 2>/dev/null; then
		kill -TERM "$STEERD_PID"
		for _ in $(seq 1 50); do
			kill -0 "$STEERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$STEERD_PID" 2>/dev/null || true
		wait "$STEERD_PID" 2>/dev/null || true
	fi
	STEERD_PID=
}

ZONE=lb.example.test

# q ARGS...: dig against steerd (UDP, IPv4) with recursion off and a short timeout.
q() {
	dig @127.0.0.1 -p "$PORT" +norec +time=2 +tries=1 "$@"
}

# field of dig output: status, flags, counts
dig_status() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n 1
}

dig_flags() {
	sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p' | head -n 1
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		fail "$1: expected [$3], got [$2]"
	fi
}

# expect_match NAME TEXT REGEX
expect_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		ok "$1"
	else
		fail "$1: [$2] does not match /$3/"
	fi
}

expect_no_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		fail "$1: [$2] matches /$3/"
	else
		ok "$1"
	fi
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "# $FAILS check(s) failed; steerd log:" >&2
		tail -n 50 "$TMP/steerd.log" >&2 || true
		exit 1
	fi
	echo "# all checks passed"
}
