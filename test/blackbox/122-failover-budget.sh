#!/usr/bin/env bash
# The failover budget: every balancer's worst case (detection by its monitor + the ttl a
# resolver may hold) in `steerctl check`, `steerctl status`, `steerctl explain` and the
# API's JSON; a budget it exceeds is a configuration error at the key, offline, at start
# and on reload (the previous configuration keeps serving).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

# test/data/api: api (ttl 30) over primary, monitor web: interval 1, timeout 1, retries 0,
# consecutive_down 1. A hung probe runs to 1 s = interval and skips a tick: 30 + 1 + 1 s.
WORST='ttl 30 s \+ 1 s interval \+ 1 s timeout = 32 s'

# --- offline: steerctl check shows the worst case of every balancer
make_config "$STEER_SRC/test/data/api"
cfg_edit 'c["balancers"][0]["failover_budget"] = "45s"'
out=$("$STEERCTL" check -c "$CFG" 2>&1) || fail "check: exit status $?"
expect_match "check: ok" "$out" '^configuration ok: '
expect_match "check: worst case and budget of api" "$out" \
	"^  api +32 s +45 s +$WORST \(pool primary\)\$"

# --- over the budget: an error at the key, with the terms and what to change
cfg_edit 'c["balancers"][0]["failover_budget"] = "20s"'
line=$(grep -n '"failover_budget"' "$CFG" | cut -d: -f1)
col=$(($(grep '"failover_budget"' "$CFG" | sed 's/"failover_budget".*//' | wc -c)))
want="^.*/cfg/steerd\\.json:$line:$col: balancers\[0\]\.failover_budget: failover budget exceeded: $WORST > 20 s budget \(pool primary\): lower ttl to 18 s, or detect sooner: "
rc=0
out=$("$STEERCTL" check -c "$CFG" 2>&1) || rc=$?
expect_eq "check over budget: exit 1" "$rc" 1
expect_match "check over budget: file:line:col, path, terms, fix" "$out" "$want"
rc=0
out=$("$STEERD" --check-config -c "$CFG" 2>&1) || rc=$?
expect_eq "steerd --check-config over budget: exit 1" "$rc" 1
expect_match "steerd --check-config over budget: the same error" "$out" "$want"

# --- a pool without a monitor is never detected
json_edit "$TMP/cfg/pools/primary.json" 'del c["monitor"]'
out=$("$STEERCTL" check -c "$CFG" 2>&1) || true
expect_match "check: no monitor" "$out" \
	'balancers\[0\]\.failover_budget: failover budget exceeded: pool primary has no monitor'
cfg_edit 'del c["balancers"][0]["failover_budget"]'
out=$("$STEERCTL" check -c "$CFG" 2>&1) || fail "check without a budget: exit $?"
expect_match "check: unbounded without a budget" "$out" \
	'^  api +unbounded +- +pool primary has no monitor: a dead origin is never detected$'
rm -rf "$TMP/cfg"

# --- running: status and explain show it, as text and as JSON
start_api_trio 'c["balancers"][0]["failover_budget"] = 60'
out=$(ctl status)
expect_match "status: WORST CASE column" "$out" '^NAME +POOL +REASON +TTL +SINCE +WORST CASE$'
expect_match "status: api's worst case and budget" "$out" '^api +primary +.* 32 s \(budget 60 s\)$'
out=$(ctl status --json | jq_py \
	"[(b['worst_case_failover_s'], b['failover_budget_s']) for b in d['balancers']]")
expect_eq "status JSON: worst_case_failover_s, failover_budget_s" "$out" "[(32, 60)]"
out=$(ctl explain api)
expect_match "explain: the worst case step" "$out" \
	"^  - worst case failover: $WORST \(pool primary\), within failover_budget 60 s\$"
out=$(ctl explain api --json | jq_py "(d['worst_case_failover_s'], d['failover_budget_s'])")
expect_eq "explain JSON: worst_case_failover_s, failover_budget_s" "$out" "(32, 60)"
out=$(ctl explain nope --json | jq_py "(d['worst_case_failover_s'], d['failover_budget_s'])")
expect_eq "explain JSON without a balancer: null" "$out" "(None, None)"

# --- a reload over the budget fails; the previous configuration keeps serving
cfg_edit 'c["balancers"][0]["ttl"] = 120'
rc=0
out=$(ctl reload 2>&1) || rc=$?
expect_eq "reload over budget: exit 1" "$rc" 1
expect_match "reload over budget: the error" "$out" \
	'balancers\[0\]\.failover_budget: failover budget exceeded: ttl 120 s \+ 1 s interval \+ 1 s timeout = 122 s > 60 s budget'
expect_log "log: the error, with time and level" \
	'^[0-9T:.-]+Z err steerd: .*steerd\.json:[0-9]+:[0-9]+: balancers\[0\]\.failover_budget: failover budget exceeded'
expect_eq "still serving ttl 30" "$(ans api)" "NOERROR 30 127.0.0.11 127.0.0.12"
cfg_edit 'c["balancers"][0]["ttl"] = 20'
out=$(ctl reload 2>&1) || fail "reload within the budget: $out"
out=$(ctl status --json | jq_py "[b['worst_case_failover_s'] for b in d['balancers']]")
expect_eq "after the reload: the new worst case" "$out" "[22]"
check_alive
finish
