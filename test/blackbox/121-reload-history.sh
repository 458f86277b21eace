#!/usr/bin/env bash
# A reload is operator history: when it changes what a balancer serves (a pool disabled,
# the pool order changed, an origin drained by weight 0) the pool and balancer transitions
# are logged and stored with reason "reload", like health-caused ones, and shown by
# `steerctl events`. Reload log lines carry the time and level like every other line, the
# errors of a failed reload included, and a changed restart-only key is named in a warning.
# `steerctl status` counts the reloads and lists the keys only a restart would apply, until
# the config is back to what runs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

start_api_trio
wait_for "every origin up" \
	"sql \"select count(*) from origin_transitions where to_state = 'up'\"" '^3$'
expect_eq "api on the primary pool" "$(ans api)" "NOERROR 30 127.0.0.11 127.0.0.12"

# --- the primary pool disabled, and restart-only keys changed in the same reload
cp "$CFG" "$TMP/steerd.json.start"
cp "$TMP/cfg/pools/primary.json" "$TMP/primary.json.start"
LISTEN0=$(ctl status --json | jq_py "' '.join(d['server']['listen'])")
json_edit "$TMP/cfg/pools/primary.json" 'c["enabled"] = False'
cfg_edit "c['workers'] = 3; c['listen'].append('[::1]:$PORT')"
cfg_edit "c['tcp'] = {'max_clients': 100}; c['api']['public_read'] = True"
kill -HUP "$STEERD_PID"
wait_for "disabled by a reload: api fails over" "ans api" '^NOERROR 5 127\.0\.0\.21$'
wait_for "sqlite: the balancer transition, reason reload" \
	"sql 'select balancer, from_state, to_state, reason from balancer_transitions'" \
	'^api\|primary\|failover:secondary\|reload$'
wait_for "sqlite: the pool transition, reason reload" \
	"sql \"select pool, from_state, to_state, reason from pool_transitions
	       where reason = 'reload'\"" '^primary\|healthy\|unhealthy\|reload$'
expect_log "log: the balancer transition" \
	"$TS notice health: balancer=api primary->failover:secondary reason=\"reload\""
expect_log "log: the pool transition" "$TS warn health: pool=primary healthy->unhealthy"
for key in listen workers tcp.max_clients api.public_read; do
	expect_log "log: restart-only \"$key\" named" \
		"$TS warn steerd: reload: \"$key\" changed; restart steerd to apply it\$"
done
for key in tcp.idle_timeout udp.batch_wait_us affinity.dns api.listen api.token_file; do
	expect_eq "log: unchanged \"$key\" not named" \
		"$(log_count "reload: \"$key\" changed")" 0
done
expect_match "steerctl status: what only a restart applies" "$(ctl status)" \
	$'\nrestart steerd to apply: listen workers tcp.max_clients api.public_read\n'
expect_eq "status JSON: the running listeners and TCP limit, one reload" \
	"$(ctl status --json | jq_py "(' '.join(d['server']['listen']), d['server']['tcp']['max_clients'], d['server']['reloads'], d['server']['reloads_failed'])")" \
	"('$LISTEN0', 256, 1, 0)"
wait_for "steerctl events: the balancer transition with reason reload" \
	"ctl events --since 10m" \
	'balancer +api +primary -> failover:secondary +- +reload'
out=$(ctl events --since 10m --json | jq_py \
	"[(e['from'], e['to'], e['reason']) for e in d['events'] if e['kind'] == 'balancer']")
expect_eq "events JSON: reason reload" "$out" "[('primary', 'failover:secondary', 'reload')]"

# --- the pool order changed (primary back, but second): a reload transition again
json_edit "$TMP/cfg/pools/primary.json" 'c["enabled"] = True'
cfg_edit 'c["balancers"][0]["default_pools"] = ["secondary", "primary"]'
kill -HUP "$STEERD_PID"
wait_for "pool order changed: api on secondary, now its first choice" "ans api" \
	'^NOERROR 30 127\.0\.0\.21$'
wait_for "sqlite: the order change, reason reload" \
	"sql \"select count(*) from balancer_transitions where from_state = 'failover:secondary'
	       and to_state = 'secondary' and reason = 'reload'\"" '^1$'

# --- its only origin drained by weight 0: the pool fails, api goes to primary
json_edit "$TMP/cfg/pools/secondary.json" 'c["origins"][0]["weight"] = 0'
kill -HUP "$STEERD_PID"
wait_for "drained by weight 0: api on primary" "ans api" '^NOERROR 5 127\.0\.0\.11 127\.0\.0\.12$'
wait_for "sqlite: the drain, reason reload" \
	"sql \"select count(*) from balancer_transitions where from_state = 'secondary'
	       and to_state = 'failover:primary' and reason = 'reload'\"" '^1$'
expect_eq "no transition without a reason" "$(bad_transition_rows)" 0

# --- a failed reload: its errors carry time and level, and nothing is recorded
echo '{"name": "primary", "origins": [' >"$TMP/cfg/pools/primary.json"
n_before=$(sql 'select count(*) from balancer_transitions')
kill -HUP "$STEERD_PID"
expect_log "log: the error of a failed reload, with time and level" \
	"$TS err steerd: .*pools/primary\.json:[0-9]+:[0-9]+: invalid JSON"
expect_log "log: the failed reload, with time and level" \
	"$TS err steerd: reload of .*steerd\.json failed; still serving the previous"
out=$(ctl reload 2>&1) && fail "steerctl reload of a broken pool file succeeded"
expect_match "steerctl reload prints the error" "$out" 'pools/primary\.json:[0-9]+:[0-9]+: '
expect_eq "a failed reload records no transition" \
	"$(sql 'select count(*) from balancer_transitions')" "$n_before"

expect_eq "status JSON: three reloads, two failed" \
	"$(ctl status --json | jq_py "(d['server']['reloads'], d['server']['reloads_failed'])")" \
	"(3, 2)"

# --- the start config back: nothing left for a restart to apply
cp "$TMP/steerd.json.start" "$CFG"
cp "$TMP/primary.json.start" "$TMP/cfg/pools/primary.json"
ctl reload >/dev/null || fail "steerctl reload of the start config"
expect_eq "status JSON: the start config back, no restart needed" \
	"$(ctl status --json | jq_py "(d['server']['reloads'], d['server']['restart_needed'])")" \
	"(4, [])"
expect_no_match "steerctl status: no restart line" "$(ctl status)" 'restart steerd'
start_s=$(curl -s --max-time 5 "$API/metrics" | awk '$1 == "steer_start_time_seconds" { printf "%d", $2 }')
expect_eq "status JSON: started as /metrics says, config loaded later" \
	"$(ctl status --json | jq_py "(d['server']['started_ms'] // 1000, d['server']['config_loaded_ms'] > d['server']['started_ms'])")" \
	"($start_s, True)"

# every line steerd wrote has the time and the level
expect_eq "every log line starts with time and level" \
	"$(grep -Evc "$TS (debug|info|notice|warn|err) [a-z]+: " "$TMP/steerd.log" || true)" 0
check_alive
finish
