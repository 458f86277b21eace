#!/usr/bin/env bash
# steerctl without steerd: usage and --help of every command, exit status 2 for a wrong
# command line or an unusable token file, 3 (one line that says what to do) when the API
# cannot be reached or is not JSON, `version` without a server, offline `check`. A small
# python fake of the API on loopback shows what steerctl sends (path encoding, token,
# body) and how it prints answers and refusals (exit 1).
source "$(dirname "$0")/lib.sh"

CTL=$STEERCTL
DOWN=http://127.0.0.1:1 # nothing listens on port 1
FAKE_PID=
COMMANDS=(status history events drain undrain force-down force-up auto explain failback
	reload check version help)
# an empty folder as the working directory: no api.token is found there by accident
mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || exit 1
unset STEER_API STEER_TOKEN_FILE

# run ARGS...: run steerctl; sets RC, OUT (stdout) and ERR (stderr).
run() {
	RC=0
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# expect_rc NAME WANT ARGS...: steerctl ARGS exits WANT.
expect_rc() {
	local name=$1 want=$2

	shift 2
	run "$@"
	expect_eq "$name: exit status" "$RC" "$want"
}

# stop_fake: stop the fake API if it runs; keeps $? for the EXIT trap.
stop_fake() {
	local rc=$?

	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
	return "$rc"
}
trap 'stop_fake; cleanup' EXIT

# --- usage and help
expect_rc "no command" 2
expect_eq "no command: nothing on stdout" "$OUT" ""
expect_match "no command: overview on stderr" "$ERR" '^usage: steerctl '
for how in help --help -h; do
	expect_rc "$how" 0 "$how"
	for c in "${COMMANDS[@]}"; do
		expect_match "$how lists $c" "$OUT" "^  $c "
	done
	expect_match "$how: exit statuses" "$OUT" '^Exit status: 0 ok, 1 '
done
for c in "${COMMANDS[@]}"; do
	expect_rc "$c --help" 0 "$c" --help
	expect_match "$c --help: usage line" "$OUT" "^usage: steerctl $c( |\$)"
	expect_eq "$c --help: nothing on stderr" "$ERR" ""
done
expect_rc "help drain" 0 help drain
expect_match "help drain: the drain help" "$OUT" '^usage: steerctl drain POOL\[/ORIGIN\]'
expect_match "help drain: its options" "$OUT" '^  --for D '
expect_rc "--help before the command" 0 --help history
expect_match "--help history: options" "$OUT" '^  --since T '
expect_rc "--help wins over missing arguments" 0 drain -h

# --- exit status 2: the command line is wrong (nothing is sent)
expect_rc "unknown command" 2 frobnicate
expect_match "unknown command: message" "$ERR" '^steerctl: unknown command "frobnicate"$'
expect_rc "help of an unknown command" 2 help frobnicate
expect_rc "unknown option" 2 status --verbose
expect_match "unknown option: message and usage" "$ERR" \
	'^steerctl: unknown option --verbose$'
expect_match "unknown option: the command's usage" "$ERR" '^usage: steerctl status$'
expect_rc "option without its value" 2 events --since
expect_match "option without its value: message" "$ERR" '^steerctl: --since needs a value$'
expect_rc "missing argument" 2 drain
expect_match "missing argument: message" "$ERR" '^steerctl: drain: missing argument$'
expect_rc "extra argument" 2 status now
expect_rc "extra argument after a target" 2 undrain a/b c
expect_rc "option of another command" 2 events --for 1h
expect_match "option of another command: message" "$ERR" '^steerctl: events does not take --for$'
expect_rc "history needs an origin" 2 history homelab
expect_match "history needs an origin: message" "$ERR" \
	'^steerctl: history: expected POOL/ORIGIN, got "homelab"$'
expect_rc "empty pool name" 2 drain /lab-a
expect_rc "empty origin name" 2 force-down homelab/
for bad in "--since 1x" "--since 1y" "--since 12345678901" "--limit 0" "--limit ten" "--for 30" "--for 1w"; do
	cmd=events
	[[ $bad == --for* ]] && cmd="drain homelab"
	# shellcheck disable=SC2086 # the words are meant to split
	expect_rc "bad value: $cmd $bad" 2 $cmd $bad
done
expect_rc "bad --client" 2 explain api --client 198.51.100.300
expect_match "bad --client: message" "$ERR" '^steerctl: --client "198.51.100.300": expected an IPv4'
expect_rc "bad --type" 2 explain api --type 'A A'
expect_rc "bad API URL scheme" 2 --api ftp://127.0.0.1:8053 status
expect_match "bad API URL: message" "$ERR" 'expected http:// or https://'
expect_rc "values in --opt=value form are checked too" 2 history a/b --limit=-1

# --- token files named explicitly must be usable (exit 2, nothing is sent)
expect_rc "missing --token-file" 2 --api "$DOWN" --token-file "$TMP/nope.token" status
expect_eq "missing --token-file: message" "$ERR" \
	"steerctl: cannot use the token file $TMP/nope.token (from --token-file): No such file or directory"
: >"$TMP/empty.token"
RC=0
STEER_TOKEN_FILE=$TMP/empty.token "$CTL" --api "$DOWN" status 2>"$TMP/err" || RC=$?
expect_eq "empty STEER_TOKEN_FILE: exit status" "$RC" 2
expect_match "empty STEER_TOKEN_FILE: message" "$(cat "$TMP/err")" \
	'\(from STEER_TOKEN_FILE\): the file is empty$'
expect_rc "a folder as --token-file" 2 --token-file "$TMP" --api "$DOWN" reload
expect_match "a folder as --token-file: reason" "$ERR" 'Is a directory$'

# --- exit status 3: nothing listens (one line, what to do)
want="steerctl: cannot reach the API at $DOWN (connection refused); is steerd running with an \"api\" section in steerd.json? (set --api or STEER_API)"
expect_rc "API down" 3 --api "$DOWN" status
expect_eq "API down: the one line" "$ERR" "$want"
expect_eq "API down: nothing on stdout" "$OUT" ""
expect_rc "API down, options after the command" 3 status --api "$DOWN/"
expect_eq "API down, options after: the one line" "$ERR" "$want"
RC=0
STEER_API=127.0.0.1:1 "$CTL" events --since 1h --limit 5 2>"$TMP/err" || RC=$?
expect_eq "STEER_API without a scheme: exit status" "$RC" 3
expect_eq "STEER_API without a scheme: the one line" "$(cat "$TMP/err")" "$want"
for args in "status" "history homelab/lab-a --since 90s" "events --limit 3" \
	"drain homelab/lab-a --for 30m --reason x" "drain homelab" "undrain homelab/lab-a" \
	"force-down homelab" "force-up homelab/lab-a --for 2d" "auto homelab" \
	"explain api --type AAAA --client ::1" "failback api" "reload" "--json status"; do
	# shellcheck disable=SC2086 # the words are meant to split
	expect_rc "API down: $args" 3 --api "$DOWN" $args
done

# --- version without a server: the client's, exit 0
expect_rc "version, API down" 0 --api "$DOWN" version
expect_match "version, API down: client version" "$OUT" '^steerctl [0-9]+\.[0-9]+\.[0-9]+$'
expect_match "version, API down: says why there is no server version" "$ERR" \
	'connection refused\); no server version$'
expect_rc "version --json, API down" 0 --api "$DOWN" --json version
expect_eq "version --json, API down: client and null server" \
	"$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["client"]["name"], d["server"])' <<<"$OUT")" \
	"steerctl None"

# --- check: offline, no API or token needed
mkdir -p "$TMP/src"
cp -r "$STEER_SRC/steerd.json" "$STEER_SRC/pools" "$STEER_SRC/monitors" "$TMP/src/"
expect_rc "check" 0 --api "$DOWN" --token-file "$TMP/nope.token" check -c "$TMP/src/steerd.json"
expect_match "check: ok line" "$OUT" '^configuration ok: zone lb\.example\.test\., [0-9]+ balancers'
(cd "$TMP/src" && "$CTL" check >"$TMP/out" 2>&1) || fail "check with the default steerd.json"
expect_match "check: default file" "$(cat "$TMP/out")" '^configuration ok: '
sed -i -E '/"lab-b"/ s/"weight": *[0-9.]+/"weight": 2/' "$TMP/src/pools/homelab.json"
expect_rc "check, broken weight" 1 check --config "$TMP/src/steerd.json"
expect_match "check, broken weight: the error" "$ERR" \
	'pools/homelab\.json:[0-9]+:[0-9]+: origins\[1\]\.weight: must be between 0 and 1$'
expect_match "check, broken weight: the count" "$ERR" '^steerctl: 1 error in the configuration$'
expect_rc "check, missing file" 1 check -c "$TMP/none.json"

# --- a fake API: what is sent, how answers and refusals print
cat >"$TMP/fake.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
log, portfile = sys.argv[1], sys.argv[2]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def answer(self, code, obj, ctype="application/json"):
        body = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else None
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "body": body,
                "auth": self.headers.get("Authorization"),
                "ctype": self.headers.get("Content-Type")}) + "\n")
        p = self.path
        if p.startswith("/html/"):
            return self.answer(404, "<html>not here</html>", "text/html")
        if p == "/v1/version":
            return self.answer(200, {"version": "9.8.7", "name": "steerd"})
        if p == "/v1/reload":
            return self.answer(422, {"ok": False, "error": "2 errors in the configuration; still serving the previous one",
                "errors": [{"text": "pools/x.json:4:14: origins[0].weight: must be between 0 and 1"},
                           {"file": "steerd.json", "line": 3, "column": 5, "path": "zone.soa", "message": "missing"}]})
        if p.endswith("/override"):
            req = json.loads(body)
            parts = p.split("/")
            ov = None if req["state"] == "auto" else {"state": req["state"], "reason": req.get("reason", ""), "since_ms": 1, "until_ms": None}
            return self.answer(200, {"ok": True, "pool": parts[3].replace("%20", " "),
                "origin": parts[4].replace("%20", " ") if parts[2] == "origins" else None, "override": ov})
        self.answer(404, {"error": "nothing at " + p})
    do_GET = handle_any
    do_POST = handle_any
srv = HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
"$PYTHON" "$TMP/fake.py" "$TMP/fake.log" "$TMP/fake.port" &
FAKE_PID=$!
for _ in $(seq 1 100); do
	[ -s "$TMP/fake.port" ] && break
	sleep 0.05
done
[ -s "$TMP/fake.port" ] || {
	fail "the fake API did not start within 5 s"
	finish
}
FAKE=http://127.0.0.1:$(cat "$TMP/fake.port")
last_request() {
	tail -n 1 "$TMP/fake.log"
}
printf '  \n tok-0123456789abcdef \n\n' >"$TMP/tok"

expect_rc "drain with a token" 0 --api "$FAKE" --token-file "$TMP/tok" \
	drain 'home lab/lab a' --for 30m --reason "kernel upgrade"
expect_eq "drain: printed" "$OUT" "home lab/lab a: drain (kernel upgrade)"
expect_eq "drain: request" "$(last_request)" \
	'{"method": "POST", "path": "/v1/origins/home%20lab/lab%20a/override", "body": "{\"state\":\"drain\",\"for\":\"30m\",\"reason\":\"kernel upgrade\"}", "auth": "Bearer tok-0123456789abcdef", "ctype": "application/json"}'
RC=0
STEER_API=$FAKE STEER_TOKEN_FILE=$TMP/tok "$CTL" undrain homelab >"$TMP/out" || RC=$?
expect_eq "undrain a pool: exit status" "$RC" 0
expect_eq "undrain a pool: printed" "$(cat "$TMP/out")" "homelab: override cleared"
expect_match "undrain a pool: the pool endpoint, state auto" "$(last_request)" \
	'"path": "/v1/pools/homelab/override", "body": "\{\\"state\\":\\"auto\\"\}", "auth": "Bearer tok-'
expect_rc "no token anywhere" 1 --api "$FAKE" history homelab/nope --since 1h --limit 5
expect_eq "refusal: the server's error" "$ERR" "steerctl: nothing at /v1/origins/homelab/nope/history?since=1h&limit=5"
if [ ! -r /etc/steer/api.token ]; then
	expect_match "no token anywhere: no Authorization header" "$(last_request)" '"auth": null'
fi
cp "$TMP/tok" "$TMP/cwd/api.token"
expect_rc "reload refused" 1 --api "$FAKE" reload
expect_eq "reload refused: every error, then the message" "$ERR" \
	"pools/x.json:4:14: origins[0].weight: must be between 0 and 1
steerd.json:3:5: zone.soa: missing
steerctl: 2 errors in the configuration; still serving the previous one"
expect_match "./api.token is used" "$(last_request)" '"auth": "Bearer tok-0123456789abcdef"'
rm "$TMP/cwd/api.token"
expect_rc "reload --json refused" 1 --api "$FAKE" --json reload
expect_match "reload --json: the server's JSON, sorted keys" "$OUT" '^  "error": .*,$'
expect_rc "version with a server" 0 version --api "$FAKE"
expect_match "version with a server: the client's" "$OUT" '^steerctl [0-9]+\.[0-9]+\.[0-9]+$'
expect_match "version with a server: the server's" "$OUT" "^steerd 9\.8\.7 at $FAKE\$"
expect_rc "not JSON" 3 --api "$FAKE/html" status
expect_eq "not JSON: the one line" "$ERR" \
	"steerctl: the API at $FAKE/html answered HTTP 404 with text/html, not JSON; is --api (or STEER_API) the address of steerd's API?"

stop_fake
finish
