#!/usr/bin/env bash
# The API's errors against a real steerd, while a query loop checks every DNS answer: the
# token file created at start, every 4xx with its JSON body (and Allow / WWW-Authenticate),
# reads open and writes closed on a loopback listener, a broken config reloaded over the
# API (422 with file:line:col, still serving), steerctl's exit codes, idle and garbage
# connections, and `--check-config` refusing a non-loopback API without a token file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

# the config tree copied to $TMP/cfg has no token file: steerd must create it
[ ! -e "$STEER_SRC/test/data/api/api.token" ] || fail "test/data/api holds an api.token"
# shellcheck disable=SC2119 # no extra steerd arguments
start_api_trio
loop_start 127.0.0.11 127.0.0.12 127.0.0.21

# --- 1. the token file steerd created
expect_eq "token file: a regular file, mode 600" "$(stat -c '%F %a' "$TOKEN_FILE")" \
	"regular file 600"
TOKEN=$(cat "$TOKEN_FILE")
expect_match "token: 32+ printable characters, no spaces" "$TOKEN" '^[!-~]{32,}$'
expect_log "log: the token file was created" "created .*api\\.token with a new API token"

# api_err NAME CODE HEADER_RE CURL_ARGS...: one request straight with curl (10 s bound);
# checks the status code, that the body is a JSON object with a non-empty "error" string
# and, unless HEADER_RE is empty, that a response header matches it. Sets BODY.
api_err() {
	local name=$1 code=$2 hre=$3 got
	shift 3
	rm -f "$TMP/resp.h" "$TMP/resp.b"
	got=$(curl -s --max-time 10 -D "$TMP/resp.h" -o "$TMP/resp.b" -w '%{http_code}' \
		"$@") || true
	BODY=$(cat "$TMP/resp.b" 2>/dev/null) || BODY=
	expect_eq "$name: status" "$got" "$code"
	expect_eq "$name: JSON body with an error string" "$(jq_py \
		'isinstance(d, dict) and isinstance(d.get("error"), str) and d["error"] != ""' \
		<<<"$BODY" 2>&1)" True
	if [ -n "$hre" ]; then
		expect_match "$name: header" "$(tr -d '\r' <"$TMP/resp.h")" "$hre"
	fi
}

AUTH=(-H "Authorization: Bearer $TOKEN")
OVR=$API/v1/pools/primary/override
# --- 2. every 4xx
api_err "unknown path" 404 '' "$API/v1/nope"
expect_match "unknown path: named" "$BODY" 'no such endpoint: /v1/nope'
api_err "GET on an override" 405 '^Allow: POST$' "$OVR"
api_err "POST on /v1/status" 405 '^Allow: GET$' "${AUTH[@]}" -X POST "$API/v1/status"
api_err "DELETE on /v1/status" 405 '^Allow: GET$' "${AUTH[@]}" -X DELETE "$API/v1/status"
api_err "DELETE on an override" 405 '^Allow: POST$' "${AUTH[@]}" -X DELETE "$OVR"

api_err "bad JSON body" 400 '' "${AUTH[@]}" --data-binary '{"state": "drain",}' "$OVR"
expect_match "bad JSON body: the position" "$BODY" 'line 1, column [0-9]+'
api_err "unknown key" 400 '' "${AUTH[@]}" --data-binary '{"state": "drain", "sate": 1}' "$OVR"
expect_match "unknown key: named" "$BODY" '"sate\\"'
api_err "bad state" 400 '' "${AUTH[@]}" --data-binary '{"state": "sleep"}' "$OVR"
expect_match "bad state: named" "$BODY" '^\{"error":"state: '
api_err "bad for" 400 '' "${AUTH[@]}" --data-binary '{"state": "drain", "for": "3x"}' "$OVR"
expect_match "bad for: named" "$BODY" '^\{"error":"for: '
api_err "for with auto" 400 '' "${AUTH[@]}" --data-binary '{"state": "auto", "for": 60}' "$OVR"

# writes with a missing, a wrong and an almost right token: 401, nothing changes
DRAIN='{"state": "drain", "reason": "must not happen"}'
api_err "no token" 401 '^WWW-Authenticate: Bearer' --data-binary "$DRAIN" "$OVR"
api_err "wrong token" 401 '^WWW-Authenticate: Bearer' \
	-H "Authorization: Bearer not-the-token-at-all-0123456789" --data-binary "$DRAIN" "$OVR"
last=${TOKEN: -1}
[ "$last" = x ] && other=y || other=x
api_err "token differing in the last character" 401 '^WWW-Authenticate: Bearer' \
	-H "Authorization: Bearer ${TOKEN%?}$other" --data-binary "$DRAIN" "$OVR"
api_err "token with one character more" 401 '^WWW-Authenticate: Bearer' \
	-H "Authorization: Bearer ${TOKEN}x" --data-binary "$DRAIN" "$OVR"
api_err "token missing its last character" 401 '^WWW-Authenticate: Bearer' \
	-H "Authorization: Bearer ${TOKEN%?}" --data-binary "$DRAIN" "$OVR"
expect_no_match "401 bodies do not echo the token" "$BODY" "${TOKEN%?}"
expect_eq "after the 401s: no override on pool primary" \
	"$(curl -s --max-time 10 "$API/v1/status" | jq_py \
		'[p["override"] for p in d["pools"] if p["name"] == "primary"]')" "[None]"

head -c 70000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
# no Expect: the body is on its way while the 413 is sent (the lingering close saves it)
api_err "body over 64 KiB" 413 '' "${AUTH[@]}" -H 'Expect:' --data-binary @"$TMP/big.json" \
	"$API/v1/reload"
api_err "header over 8 KiB" 431 '' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" \
	"$API/v1/status"
api_err "override of an unknown pool" 404 '' "${AUTH[@]}" --data-binary '{"state": "drain"}' \
	"$API/v1/pools/nope/override"
api_err "override of an unknown origin" 404 '' "${AUTH[@]}" --data-binary '{"state": "drain"}' \
	"$API/v1/origins/primary/nope/override"
api_err "failback of an unknown balancer" 404 '' "${AUTH[@]}" -X POST \
	"$API/v1/balancers/nope/failback"
api_err "failback when not waiting" 409 '' "${AUTH[@]}" -X POST "$API/v1/balancers/api/failback"
api_err "explain with a bad type" 400 '' "$API/v1/explain?name=api&type=BOGUS"
api_err "explain with a bad client" 400 '' "$API/v1/explain?name=api&client=1.2.3"
api_err "explain without a name" 400 '' "$API/v1/explain?type=A"
api_err "explain with an unknown parameter" 400 '' "$API/v1/explain?name=api&nmae=x"
for lim in 0 10001 abc -1; do
	api_err "history with limit=$lim" 400 '' "$API/v1/origins/primary/p1/history?limit=$lim"
done
api_err "events with a bad since" 400 '' "$API/v1/events?since=yesterday"

# --- 3. reads need no token on a loopback listener; writes do
for path in /v1/version /v1/status /v1/events /v1/origins/primary/p1/history \
	'/v1/explain?name=api'; do
	expect_eq "GET $path without a token" \
		"$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$API$path")" 200
done
for path in /v1/reload /v1/balancers/api/failback /v1/origins/primary/p1/override; do
	api_err "POST $path without a token" 401 '^WWW-Authenticate: Bearer' -X POST "$API$path"
done

# --- 4. a broken pool file reloaded over the API: 422 with file:line:col, still serving
cp "$TMP/cfg/pools/primary.json" "$TMP/primary.json.good"
sed -i '0,/,/s/,//' "$TMP/cfg/pools/primary.json" # the first comma
read -r code body <<<"$(http POST /v1/reload)"
expect_eq "reload of a broken pool file: 422" "$code" 422
texts=$(jq_py '"\n".join(e["text"] for e in d["errors"])' <<<"$body" 2>&1)
# the pool's file comes first in the brief; the loader sorts errors by file (the main
# file first), and the unparsable pool also makes "pool primary does not exist" an error
# of steerd.json, so the check is on any entry
expect_match "reload 422: errors[].text names pools/primary.json:L:C" "$texts" \
	'/cfg/pools/primary\.json:[0-9]+:[0-9]+: '
pline=$(grep -E '/cfg/pools/primary\.json:[0-9]+:[0-9]+: ' <<<"$texts" | head -n 1)
rc=0
ctl reload >"$TMP/ctl.out" 2>&1 || rc=$?
expect_eq "steerctl reload of the broken config: exit 1" "$rc" 1
if grep -qxF -- "$pline" "$TMP/ctl.out"; then
	ok "steerctl reload prints the same file:line:col line"
else
	fail "steerctl reload does not print [$pline]: $(cat "$TMP/ctl.out")"
fi
expect_match "api still answered after the failed reloads" "$(ans api)" \
	'^NOERROR 30 127\.0\.0\.11 127\.0\.0\.12$'
cp "$TMP/primary.json.good" "$TMP/cfg/pools/primary.json"
rc=0
ctl reload >"$TMP/ctl.out" 2>&1 || rc=$?
expect_eq "steerctl reload of the fixed config: exit 0 ($(head -n 1 "$TMP/ctl.out"))" "$rc" 0

# --- 5. steerctl's exit codes against the real server
# ctl_rc NAME WANT ARGS...: steerctl ARGS exits with WANT
ctl_rc() {
	local name=$1 want=$2 rc=0
	shift 2
	ctl "$@" >"$TMP/ctl.out" 2>&1 || rc=$?
	expect_eq "steerctl $name: exit $want" "$rc" "$want"
}
ctl_rc status 0 status
ctl_rc events 0 events
ctl_rc "history primary/p1" 0 history primary/p1
ctl_rc "explain api" 0 explain api
ctl_rc version 0 version
ctl_rc "drain nope/x (404)" 1 drain nope/x
expect_match "steerctl drain nope/x: the server's message" "$(cat "$TMP/ctl.out")" \
	'no pool named "nope"'
ctl_rc "failback api when not waiting (409)" 1 failback api
ctl_rc "unknown command" 2 frobnicate
ctl_rc "drain without a target" 2 drain
ctl_rc "status with an unreachable API" 3 --api http://127.0.0.1:1 status
for cmd in status events "history primary/p1" "explain api" version; do
	# shellcheck disable=SC2086 # the command is words
	expect_eq "steerctl --json $cmd: JSON" \
		"$(ctl --json $cmd 2>&1 | jq_py 'type(d).__name__ in ("dict", "list")' 2>&1)" True
done

# --- 6. idle connections and garbage
py_check "idle connections: 50 held, a request still works; past max_conns extras closed" <<PY
import socket, time
API = ("127.0.0.1", $APIPORT)

def status():
    s = socket.create_connection(API, timeout=10)
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.split(b"\r\n", 1)[0]

fails = 0
idle = [socket.create_connection(API, timeout=5) for _ in range(50)]
t0 = time.monotonic()
line = status()
print("ok: status with 50 idle connections open: %r (%.0f ms)" %
      (line, 1000 * (time.monotonic() - t0)))
if not line.startswith(b"HTTP/1.1 200 "):
    print("FAIL: status with 50 idle connections: %r" % line)
    fails += 1
# 30 more: 80 in all, over max_conns (64): at least 16 of the new ones are closed by
# steerd at once (at accept), none of the 50 already open
idle += [socket.create_connection(API, timeout=5) for _ in range(30)]
closed = set()
end = time.monotonic() + 3
while time.monotonic() < end and len(closed) < 16:
    for i, s in enumerate(idle):
        if i in closed:
            continue
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except ConnectionError:
            closed.add(i)
    time.sleep(0.05)
early = sorted(i for i in closed if i < 50)
print("%s: %d of 80 idle connections closed by steerd, %d of the first 50" %
      ("ok" if len(closed) >= 16 and not early else "FAIL", len(closed), len(early)))
fails += len(closed) < 16 or len(early) > 0
for s in idle:
    s.close()
time.sleep(0.2)  # steerd sees the EOFs
line = status()
if not line.startswith(b"HTTP/1.1 200 "):
    print("FAIL: status after closing the idle connections: %r" % line)
    fails += 1
raise SystemExit(1 if fails else 0)
PY
expect_eq "status after the idle connections (curl, 10 s bound)" \
	"$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$API/v1/status")" 200

py_check "200 requests of random bytes, each on its own connection" <<PY
import json, os, random, socket, time
API = ("127.0.0.1", $APIPORT)
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)
print("seed %d" % seed)
valid = (b"POST /v1/pools/primary/override HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 18\r\n\r\n{\"state\": \"drain\"}")

def garbage(i):
    kind = i % 4
    if kind == 0:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    if kind == 1:  # random printable lines
        return b"".join(bytes(rng.randrange(32, 127) for _ in range(rng.randrange(0, 80)))
                        + rng.choice([b"\r\n", b"\n", b"\r", b""])
                        for _ in range(rng.randrange(1, 30))) + b"\r\n\r\n"
    # a valid write (no token: 401 at best) with a few bytes changed
    b = bytearray(valid)
    for _ in range(rng.randrange(1, 6)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b) + (b"\r\n\r\n" if kind == 2 else b"")

bad, answered, deadline = [], 0, time.monotonic() + 40
for i in range(200):
    if time.monotonic() > deadline:
        bad.append("out of time after %d requests" % i)
        break
    req = garbage(i)
    try:
        s = socket.create_connection(API, timeout=5)
        try:
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # steerd may refuse before the end
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
    except ConnectionResetError:
        continue
    except OSError as e:
        bad.append("request %d: %s" % (i, e))
        continue
    if data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
        data = data[25:]
    if not data:
        continue
    answered += 1
    head, _, body = data.partition(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0]
    try:
        ok = line[:9] == b"HTTP/1.1 " and int(line[9:12]) >= 400 and \
            isinstance(json.loads(body).get("error"), str)
    except ValueError:
        ok = False
    if not ok:
        bad.append("request %d %r: answer %r" % (i, req[:60], data[:200]))
print("%d of 200 answered (the rest closed without an answer)" % answered)
for b in bad[:10]:
    print("FAIL: " + b)
raise SystemExit(1 if bad else 0)
PY
expect_eq "status after the garbage" \
	"$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$API/v1/status")" 200
check_alive
loop_stop

# --- 7. a non-loopback API address without token_file is refused by --check-config
OPEN=$TMP/cfg/open.json
for addr in "0.0.0.0:$APIPORT" "[::]:$APIPORT"; do
	cp "$CFG" "$OPEN"
	json_edit "$OPEN" "c['api'] = {'listen': ['$addr']}"
	rc=0
	out=$("$STEERD" --check-config -c "$OPEN" 2>&1) || rc=$?
	expect_eq "check-config, api on $addr without token_file: exit 1" "$rc" 1
	lc=$(grep -nF "\"$addr\"" "$OPEN" | head -n 1 | cut -d: -f1)
	col=$(($(sed -n "${lc}p" "$OPEN" | awk -v s="\"$addr\"" '{print index($0, s)}')))
	expect_match "check-config, api on $addr: file:line:col and api.listen[0]" "$out" \
		"^$OPEN:$lc:$col: api\\.listen\\[0\\]: .*token_file"
done
cp "$CFG" "$OPEN"
json_edit "$OPEN" "c['api'] = {'listen': ['127.0.0.2:$APIPORT']}"
rc=0
out=$("$STEERD" --check-config -c "$OPEN" 2>&1) || rc=$?
expect_eq "check-config, api on loopback without token_file: ok" "$rc/$out" \
	"0/configuration ok"

finish
