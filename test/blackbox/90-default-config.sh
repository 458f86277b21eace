#!/usr/bin/env bash
# The repository's own steerd.json (with its pools/ and monitors/) is valid and serves:
# `steerd --check-config` says so; api A comes from pools/homelab.json with the balancer's
# TTL. A broken copy (an origin weight of 2) is rejected with exit status 1 and the
# error's file:line:column and JSON path.
source "$(dirname "$0")/lib.sh"

# only the config tree, not the whole repository
mkdir -p "$TMP/src"
cp -r "$STEER_SRC/steerd.json" "$STEER_SRC/pools" "$STEER_SRC/monitors" "$TMP/src/"
make_config "$TMP/src"

# --- --check-config
rc=0
out=$("$STEERD" --check-config -c "$CFG" 2>&1) || rc=$?
expect_eq "--check-config: exit status" "$rc" 0
expect_eq "--check-config: output" "$out" "configuration ok"

# --- a broken copy: origins[1] of homelab gets weight 2
cp -r "$TMP/cfg" "$TMP/bad"
bad=$TMP/bad/pools/homelab.json
sed -i -E '/"lab-b"/ s/"weight": *[0-9.]+/"weight": 2/' "$bad"
# where the loader must point: the line of lab-b, the column of the value 2
pos=$(awk '/"lab-b"/ { print NR ":" index($0, "\"weight\": 2") + length("\"weight\": ") }' "$bad")
rc=0
out=$("$STEERD" --check-config -c "$TMP/bad/steerd.json" 2>&1) || rc=$?
expect_eq "broken weight: exit status" "$rc" 1
expect_match "broken weight: file:line:col: path: message" "$out" \
	"^$TMP/bad/pools/homelab\\.json:$pos: origins\\[1\\]\\.weight: must be between 0 and 1\$"
expect_match "broken weight: error count" "$out" '^steerd: 1 error in the configuration$'
expect_no_match "broken weight: not ok" "$out" 'configuration ok'
# and steerd refuses to serve it (exits 1 by itself; bounded by timeout)
rc=0
timeout 10 "$STEERD" -c "$TMP/bad/steerd.json" >"$TMP/bad.log" 2>&1 || rc=$?
expect_eq "broken weight: steerd does not start" "$rc" 1

# --- serve the default config
start_steerd

# expectations from the files themselves: api's TTL and pools, homelab's IPv4 origins
read -r API_TTL HOMELAB_V4 <<<"$("$PYTHON" - "$CFG" "$TMP/cfg/pools/homelab.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
api = next(b for b in cfg["balancers"] if b["name"] == "api")
pool = json.load(open(sys.argv[2]))
v4 = [o["address"] for o in pool["origins"] if o["address"].count(".") == 3 and o.get("weight", 1) > 0]
print(api["ttl"], "|".join(a.replace(".", "\\.") for a in v4))
PY
)"
expect_match "homelab has IPv4 origins" "$HOMELAB_V4" '^[0-9\\.|]+$'

args=()
for i in $(seq 10); do args+=(api.lb.example.test A); done
ask q "${args[@]}"
bad_answers=0
for ((i = 0; i < N_RESP; i++)); do
	[[ "${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}/${R_AN[i]}" =~ ^NOERROR/qr\ aa/1/0/1/api\.lb\.example\.test\.\ $API_TTL\ IN\ A\ ($HOMELAB_V4)$ ]] ||
		bad_answers=$((bad_answers + 1))
done
expect_eq "api A: 10 answers from pools/homelab.json, TTL $API_TTL" "$N_RESP/$bad_answers" "10/0"
ask qt api.lb.example.test A
expect_match "api A over TCP" "$STATUS/$AN" "^NOERROR/api\\.lb\\.example\\.test\\. $API_TTL IN A ($HOMELAB_V4)\$"
ask q lb.example.test SOA
expect_eq "apex SOA answered" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/1/0/1"
ask q www.lb.example.test A
expect_eq "www A: CNAME to api first" "$STATUS/$(head -n 1 <<<"$AN")" \
	'NOERROR/www.lb.example.test. 300 IN CNAME api.lb.example.test.'

finish
