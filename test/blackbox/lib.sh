#!/usr/bin/env bash
# Shared helpers for black-box tests: a real steerd on loopback with a random port,
# queried with dig and kdig. Every wait is bounded; every test cleans up after itself.
set -euo pipefail

STEER_SRC=${STEER_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STEERD=${STEERD:-$STEER_SRC/build/steerd}
STEERCTL=${STEERCTL:-$STEER_SRC/build/steerctl}
# python3 for the raw-packet helpers; a version manager's shim (pyenv) costs ~0.5 s per
# start, so the interpreter it points to is resolved once
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	fi
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/steer-bb.XXXXXX")
PORT=
STEERD_PID=
STEERD_RC=
FAILS=0

cleanup() {
	local rc=$?

	stop_steerd
	if [ "$FAILS" -eq 0 ] && [ "$rc" -eq 0 ]; then
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
	"$PYTHON" "$STEER_SRC/test/free_port.py" --udp 127.0.0.1 ::1
}

# make_config SRC_DIR: copy a config tree (steerd.json, pools/, monitors/) into $TMP/cfg
# with its listen addresses (DNS :5353, API :8053) moved to fresh ports. Sets PORT and CFG.
make_config() {
	local src=$1
	PORT=$(free_port)
	CFG=$TMP/cfg/steerd.json
	mkdir -p "$TMP/cfg"
	cp -r "$src"/. "$TMP/cfg/"
	sed -i -E "s/(127\.0\.0\.1|\[::1\]):5353/\1:$PORT/g" "$CFG"
	# the API's default port too, so a steerd running on this machine cannot collide
	sed -i -E "s/127\.0\.0\.1:8053/127.0.0.1:$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)/g" "$CFG"
	sed -i -E "s#\"path\": *\"steerd.db\"#\"path\": \"$TMP/steerd.db\"#" "$CFG"
}

# soa_json: the "soa" object of a zone $ZONE written inline in a test's steerd.json
# (serial 1, ns1.$ZONE as its primary).
soa_json() {
	printf '{"mname": "ns1.%s", "rname": "hostmaster.example.test", "serial": 1, "refresh": 3600, "retry": 600, "expire": 604800, "minimum": 60, "ttl": 3600}' "$ZONE"
}

# cfg_edit PYTHON: edit $CFG in place; the statement sees the parsed JSON as `c`,
# e.g. cfg_edit 'c["version"] = False'.
cfg_edit() {
	json_edit "$CFG" "$1"
}

# json_edit FILE PYTHON: edit a JSON file in place; the statement sees it as `c`.
json_edit() {
	"$PYTHON" - "$1" "$2" <<'PY'
import json, sys
path, stmt = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
exec(stmt)
with open(path, "w") as f:
    json.dump(c, f, indent=1)
PY
}

# start_steerd [extra args]: start on $CFG and wait (at most 10 s) for an SOA answer.
start_steerd() {
	"$STEERD" -c "$CFG" "$@" >>"$TMP/steerd.log" 2>&1 &
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

# stop_steerd: SIGTERM, wait at most 5 s, then SIGKILL. Sets STEERD_RC to the exit
# status ("killed" if it had to be killed).
stop_steerd() {
	STEERD_RC=
	if [ -n "$STEERD_PID" ] && kill -0 "$STEERD_PID" 2>/dev/null; then
		kill -TERM "$STEERD_PID"
		for _ in $(seq 1 50); do
			kill -0 "$STEERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$STEERD_PID" 2>/dev/null; then
			kill -KILL "$STEERD_PID" 2>/dev/null || true
			STEERD_RC=killed
		fi
		wait "$STEERD_PID" 2>/dev/null || STEERD_RC=${STEERD_RC:-$?}
		STEERD_RC=${STEERD_RC:-0}
	fi
	STEERD_PID=
}

# restart_steerd [extra args]: stop (checking for a clean exit), then start again on
# $CFG (after cfg_edit); same port.
# shellcheck disable=SC2120 # the arguments are optional
restart_steerd() {
	check_alive
	stop_steerd
	check_exit
	start_steerd "$@"
}

# check_alive: steerd still runs (a crash is a failure even when every answer so far
# was right).
check_alive() {
	if [ -n "$STEERD_PID" ] && ! kill -0 "$STEERD_PID" 2>/dev/null; then
		fail "steerd (pid $STEERD_PID) is no longer running"
	fi
}

# check_exit: after stop_steerd, the exit was clean (status 0 on SIGTERM: no leak or
# sanitizer abort) and the log holds no sanitizer report.
check_exit() {
	if [ -n "${STEERD_RC:-}" ] && [ "$STEERD_RC" != 0 ]; then
		fail "steerd exited with status $STEERD_RC on SIGTERM"
	fi
	if grep -Eq 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer' \
		"$TMP/steerd.log" 2>/dev/null; then
		fail "sanitizer report in the steerd log"
	fi
}

ZONE=lb.example.test

# q ARGS...: dig against steerd (UDP, IPv4) with recursion off and a short timeout.
q() {
	dig @127.0.0.1 -p "$PORT" +norec +time=2 +tries=1 "$@"
}

# q6 ARGS...: the same over IPv6 (::1).
q6() {
	dig -6 @::1 -p "$PORT" +norec +time=2 +tries=1 "$@"
}

# qt ARGS...: the same over TCP (IPv4).
qt() {
	dig @127.0.0.1 -p "$PORT" +norec +tcp +time=2 +tries=1 "$@"
}

# ask CMD ARGS...: run one dig (CMD is q, q6, qt or dig itself) and parse its output
# with bash builtins only (every fork costs ~10 ms here, dig itself ~40 ms) into:
#   OUT (raw), STATUS (NOERROR...), FLAGS ("qr aa"), COUNTS ("answer/authority/additional"),
#   AN, NS, AR (records of each section, one per line, whitespace squeezed),
#   EDNS ("version: 0, flags:; udp: 1232", empty without OPT), EDE and NSID (text after
#   "; EDE: " / "; NSID: ", empty if absent).
# dig takes several queries in one run (ask q a.x A a.x A ...): the scalars describe the
# first response, the arrays R_STATUS, R_FLAGS, R_COUNTS, R_AN, R_NS, R_AR every response
# in order (N_RESP of them).
# shellcheck disable=SC2034 # the results are globals for the caller
ask() {
	local line sec='' words i=-1 re_st='status: ([A-Z0-9]+),' re_fl=';; flags: ([a-z ]*);'
	local re_ct='ANSWER: ([0-9]+), AUTHORITY: ([0-9]+), ADDITIONAL: ([0-9]+)'

	OUT=$("$@" 2>&1) || true
	R_STATUS=() R_FLAGS=() R_COUNTS=() R_AN=() R_NS=() R_AR=()
	EDNS='' EDE='' NSID=''
	while IFS= read -r line; do
		if [ -z "$line" ]; then
			sec=
		elif [[ $line == ";; ANSWER SECTION:" ]]; then
			sec=R_AN
		elif [[ $line == ";; AUTHORITY SECTION:" ]]; then
			sec=R_NS
		elif [[ $line == ";; ADDITIONAL SECTION:" ]]; then
			sec=R_AR
		elif [[ $line == ";"* ]]; then
			sec=
			if [[ $line =~ $re_st ]]; then
				i=$((i + 1))
				R_STATUS[i]=${BASH_REMATCH[1]} R_FLAGS[i]='' R_COUNTS[i]=''
				R_AN[i]='' R_NS[i]='' R_AR[i]=''
			elif [ "$i" -ge 0 ] && [[ $line =~ $re_fl ]]; then
				R_FLAGS[i]=${BASH_REMATCH[1]}
				[[ $line =~ $re_ct ]] &&
					R_COUNTS[i]="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}/${BASH_REMATCH[3]}"
			elif [ "$i" -eq 0 ] && [[ $line == "; EDNS: "* ]]; then
				EDNS=${line#; EDNS: }
			elif [ "$i" -eq 0 ] && [[ $line == "; EDE: "* ]]; then
				EDE=${line#; EDE: }
			elif [ "$i" -eq 0 ] && [[ $line == "; NSID: "* ]]; then
				NSID=${line#; NSID: }
			fi
		elif [ -n "$sec" ] && [ "$i" -ge 0 ]; then
			read -ra words <<<"$line"
			case $sec in
			R_AN) R_AN[i]+="${words[*]}"$'\n' ;;
			R_NS) R_NS[i]+="${words[*]}"$'\n' ;;
			R_AR) R_AR[i]+="${words[*]}"$'\n' ;;
			esac
		fi
	done <<<"$OUT"
	N_RESP=$((i + 1))
	for ((i = 0; i < N_RESP; i++)); do
		R_AN[i]=${R_AN[i]%$'\n'} R_NS[i]=${R_NS[i]%$'\n'} R_AR[i]=${R_AR[i]%$'\n'}
	done
	STATUS=${R_STATUS[0]:-} FLAGS=${R_FLAGS[0]:-} COUNTS=${R_COUNTS[0]:-}
	AN=${R_AN[0]:-} NS=${R_NS[0]:-} AR=${R_AR[0]:-}
}

# sorted TEXT: the lines of TEXT sorted (for RRsets, whose order is not fixed).
sorted() {
	sort <<<"$1"
}

# dig_status / dig_flags < dig output: "NOERROR", "qr aa" (ask gives both and more)
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

# py_check NAME < script: run a python3 check (bbdns.py importable, PORT set); its
# "ok:"/"FAIL:" lines are shown and a non-zero exit counts as one failed check.
py_check() {
	local rc=0 t0=${EPOCHREALTIME/[.,]/}

	PYTHONPATH="$STEER_SRC/test/blackbox" PORT="$PORT" timeout 60 "$PYTHON" - || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$1 (python exit $rc)"
	else
		ok "$1 ($(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms)"
	fi
}

finish() {
	check_alive
	stop_steerd
	check_exit
	if [ "$FAILS" -ne 0 ]; then
		echo "# $FAILS check(s) failed; steerd log:" >&2
		tail -n 50 "$TMP/steerd.log" >&2 || true
		exit 1
	fi
	echo "# all checks passed"
}
