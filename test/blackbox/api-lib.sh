# Helpers for the API and steerctl black-box tests (100-109): test/data/api with three
# origins, steerd with its HTTP API on a free port, steerctl and curl against it, and a
# background query loop that checks every answer. Source it after lib.sh and health-lib.sh.
#
#   start_api_trio                  # p1 127.0.0.11, p2 127.0.0.12 (pool primary, all),
#                                   # s1 127.0.0.21 (pool secondary); API at $API
#   ctl drain primary/p1            # steerctl with --api and --token-file
#   http POST /v1/reload            # "CODE BODY" of one request, with the token
#   loop_start; ...; loop_stop      # every api answer during ... is checked

# start_api_trio [EDIT]: the config, its origins and steerd; waits for the API. EDIT is
# a cfg_edit statement applied before steerd starts (e.g. a balancer's failback).
start_api_trio() {
	make_config "$STEER_SRC/test/data/api"
	OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.21)
	mon_ports "$OPORT"
	APIPORT=$(origin_port 127.0.0.1)
	API=http://127.0.0.1:$APIPORT
	TOKEN_FILE=$TMP/cfg/api.token
	cfg_edit "c['api']['listen'] = ['127.0.0.1:$APIPORT']"
	[ -z "${1-}" ] || cfg_edit "$1"
	start_origin p1 127.0.0.11
	start_origin p2 127.0.0.12
	start_origin s1 127.0.0.21
	start_steerd
	wait_api
}

# The query loop is stopped before the origins and steerd (a failed wait_for exits).
api_cleanup() {
	local rc=$?

	[ "$rc" -eq 0 ] || FAILS=$((FAILS + 1)) # keep $TMP: cleanup sees this function's $?
	if [ -n "${LOOP_PID:-}" ]; then
		touch "$TMP/loop.stop"
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	health_cleanup
}
trap api_cleanup EXIT

# wait_api: the API answers (at most 10 s).
wait_api() {
	wait_for "the API answers" "curl -s --max-time 2 $API/v1/version" '"version"' 10
}

# ctl ARGS...: steerctl against this steerd.
ctl() {
	"$STEERCTL" --api "$API" --token-file "$TOKEN_FILE" "$@"
}

# http METHOD PATH [BODY [CURL ARGS...]]: one request with the token; prints "CODE BODY".
http() {
	local method=$1 path=$2 body=${3-} out
	shift 2
	[ $# -gt 0 ] && shift
	out=$(curl -s --max-time 10 -X "$method" -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
		${body:+--data-binary "$body"} -w ' %{http_code}' "$@" "$API$path") || true
	echo "${out##* } ${out% *}"
}

# jq_py EXPR < JSON: print a python expression over the parsed JSON `d`.
jq_py() {
	"$PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

# loop_start ADDR...: query api.$ZONE in the background (at most 170 s) and check every
# answer (NOERROR, an A record, only these addresses); loop_stop ends it and checks.
loop_start() {
	rm -f "$TMP/loop.stop"
	"$PYTHON" "$STEER_SRC/test/blackbox/query_loop.py" "$PORT" "api.$ZONE" "$TMP/loop.stop" \
		170 "$@" >"$TMP/loop.out" 2>&1 &
	LOOP_PID=$!
}

loop_stop() {
	touch "$TMP/loop.stop"
	wait "$LOOP_PID" || true
	expect_match "query loop: every answer right ($(head -n 1 "$TMP/loop.out"))" \
		"$(cat "$TMP/loop.out")" '^queries=[1-9][0-9]* bad=0$'
}
