#!/usr/bin/env bash
# Failback control of balancer api (pools primary: p1 127.0.0.11 + p2 127.0.0.12, all;
# secondary: s1 127.0.0.21), with a query loop checking every answer throughout:
# - "failback": "manual": the primary dies and heals, answers stay on the secondary (status
#   and explain say "waiting for manual failback"), also across a restart of steerd (the
#   latch is in SQLite), until `steerctl failback api`; a second failback is refused (409);
# - "failback_hold": 4 (after a reload): answers move back only when the primary has been
#   healthy for 4 s, checked against the recorded times (status at_ms, the stored
#   transition); a restart keeps the hold timer; a primary that fails again while held
#   restarts the hold, and `steerctl failback` ends a hold early;
# - `failback` keys on a random-policy balancer are configuration errors.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

PRIMARY='^NOERROR 30 127\.0\.0\.11 127\.0\.0\.12$'
SECONDARY='^NOERROR 5 127\.0\.0\.21$'

# st EXPR: a python expression over `steerctl --json status`: d (the document), b (balancer
# api), o (origin states by name), p (pools by name).
st() {
	ctl --json status 2>&1 | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
b = [x for x in d["balancers"] if x["name"] == "api"][0]
p = {x["name"]: x for x in d["pools"]}
o = {x["name"]: x["state"] for q in d["pools"] for x in q["origins"]}
print(eval(sys.argv[1]))' "$1" 2>&1
}

# primary_dies / primary_heals: both origins of pool primary stop (the pool is unhealthy)
# and answers move to the secondary; both start again and are probed up.
primary_dies() {
	stop_origin p1
	stop_origin p2
	wait_for "$1: primary down, api answers the secondary" "ans api" "$SECONDARY"
}

primary_heals() {
	restart_origin p1
	restart_origin p2
	wait_for "$1: p1 and p2 up again" "st 'o[\"p1\"], o[\"p2\"]'" "^\('up', 'up'\)$"
}

# hold_answers DESC UNTIL_MS: every answer asked before the wall clock reaches UNTIL_MS
# is the secondary's (at least one is asked).
hold_answers() {
	local n=0 bad='' a t last=0
	for _ in $(seq 1 100); do
		t=$(now_ms)
		[ "$t" -lt "$2" ] || break
		a=$(ans api)
		[[ $a =~ $SECONDARY ]] || bad="$bad [$a]"
		n=$((n + 1)) last=$t
		sleep 0.2
	done
	expect_eq "$1 ($n answers, the last asked $(($2 - last)) ms before the end)" \
		"${bad:-none wrong}/$((n > 0))" "none wrong/1"
}


# ---- 1. manual: the primary heals, answers stay on the secondary
start_api_trio "c['balancers'][0]['failback'] = 'manual'"
loop_start 127.0.0.11 127.0.0.12 127.0.0.21

expect_eq "status: failback manual, no hold, nothing pending" \
	"$(st 'b["failback"], b["failback_hold"], b["failback_pending"]')" "('manual', 0, None)"
wait_for "every origin up" "st 'sorted(set(o.values()))'" "^\['up'\]$"
expect_match "api: the primary, TTL 30" "$(ans api)" "$PRIMARY"

primary_dies manual
primary_heals manual
wait_for "manual: status shows the failback pending" \
	"st 'b[\"failback_pending\"] is not None'" '^True$'
pend=$(st 'b["failback_pending"]["pool"], b["failback_pending"]["at_ms"], b["pool"], b["reason"]')
expect_eq "manual: pending for pool primary, at_ms null; secondary serves (failover)" \
	"$pend" "('primary', None, 'secondary', 'failover')"
expect_match "manual: pending text" "$(st 'b["failback_pending"]["text"]')" \
	'^preferred pool primary healthy since [0-9:]+; answers stay on secondary, waiting for manual failback$'
since1=$(st 'b["failback_pending"]["healthy_since_ms"]')
expect_eq "manual: primary healthy since = the pool's since_ms" \
	"$(st 'p["primary"]["healthy"], p["primary"]["since_ms"]')" "(True, $since1)"
# held for 3 s more (over 2 probe intervals), all after the pool's recorded healthy time
hold_answers "manual: api stays on the secondary for 3 s after the primary is healthy" \
	$(($(now_ms) + 3000))
expect_eq "manual: still pending" "$(st 'b["failback_pending"] is not None, b["pool"]')" \
	"(True, 'secondary')"
explain=$(ctl explain api 2>&1)
expect_match "manual: explain shows the held failback" "$explain" \
	'failback held: preferred pool primary healthy since [0-9:]+; answers stay on secondary, waiting for manual failback'
expect_match "manual: explain answers the secondary" "$explain" '127\.0\.0\.21'
expect_no_match "manual: explain answers no primary origin" "$explain" '127\.0\.0\.1[12]'
wait_for "manual: the latch is stored (failback_pins)" \
	"sql 'select balancer, pool from failback_pins'" '^api\|secondary$'

# ---- 2. a restart keeps the latch
loop_stop # the loop would count the answers missed while steerd restarts
restart_steerd
expect_match "restart: api still on the secondary right after the restart" "$(ans api)" \
	"$SECONDARY"
wait_api
loop_start 127.0.0.11 127.0.0.12 127.0.0.21
expect_eq "restart: failback still pending, same healthy_since_ms" \
	"$(st 'b["pool"], b["failback_pending"] and b["failback_pending"]["healthy_since_ms"]')" \
	"('secondary', $since1)"
hold_answers "restart: api stays on the secondary" $(($(now_ms) + 2500))
expect_eq "restart: still pending after probes" \
	"$(st 'b["pool"], b["failback_pending"] is not None, b["failback_pending"] and b["failback_pending"]["at_ms"]')" \
	"('secondary', True, None)"

# ---- 3. steerctl failback
t_fb=$(now_ms)
out=$(ctl failback api 2>&1) && rc=0 || rc=$?
expect_eq "failback api: exit 0 ($out)" "$rc" 0
expect_match "failback: the very next answer is the primary, TTL 30" "$(ans api)" "$PRIMARY"
expect_eq "failback: status primary, nothing pending" \
	"$(st 'b["pool"], b["reason"], b["failback_pending"]')" "('primary', 'primary', None)"
out=$(ctl failback api 2>&1) && rc=0 || rc=$?
expect_eq "second failback api: exit 1 ($out)" "$rc" 1
expect_match "second failback: not waiting" "$out" 'not waiting for a failback'
resp=$(http POST /v1/balancers/api/failback)
expect_match "POST failback when not waiting: 409" "$resp" '^409 .*not waiting'
expect_match "POST failback of no balancer: 404" "$(http POST /v1/balancers/nope/failback)" '^404 '
wait_for "failback: stored as a balancer transition with reason manual failback" \
	"sql \"select from_state, to_state, reason from balancer_transitions
	       where reason = 'manual failback' and time_ms >= $t_fb\"" \
	'^failover:secondary\|primary\|manual failback$'
expect_match "failback: GET /v1/events has it" \
	"$(http GET /v1/events | cut -d' ' -f2- | jq_py '[(e["from"], e["to"]) for e in d["events"]
	   if e["kind"] == "balancer" and e["reason"] == "manual failback"]')" \
	"^\[\('failover:secondary', 'primary'\)\]$"
wait_for "failback: the latch is gone from failback_pins" \
	"sql 'select count(*) from failback_pins'" '^0$'

# ---- 4. failback_hold 4 (auto), set by a reload
cfg_edit 'c["balancers"][0]["failback"] = "auto"; c["balancers"][0]["failback_hold"] = 4'
out=$(ctl reload 2>&1) && rc=0 || rc=$?
expect_eq "reload with failback auto, failback_hold 4: exit 0 ($out)" "$rc" 0
expect_eq "status: failback auto, hold 4, nothing pending" \
	"$(st 'b["failback"], b["failback_hold"], b["failback_pending"], b["pool"]')" \
	"('auto', 4, None, 'primary')"

primary_dies hold
restart_origin p1
restart_origin p2
wait_for "hold: the failback is pending" "st 'b[\"failback_pending\"] is not None'" '^True$'
read -r since2 at2 < <(st '"%d %d" % (b["failback_pending"]["healthy_since_ms"], b["failback_pending"]["at_ms"])')
expect_eq "hold: at_ms = healthy_since_ms + 4000" "$at2" "$((since2 + 4000))"
expect_match "hold: pending text" "$(st 'b["failback_pending"]["text"]')" \
	'^preferred pool primary healthy since [0-9:]+; answers stay on secondary, failing back at [0-9:]+ \(failback_hold 4s\)$'
expect_match "hold: explain shows it" "$(ctl explain api 2>&1)" \
	'failback held: preferred pool primary healthy since [0-9:]+; answers stay on secondary, failing back at [0-9:]+ \(failback_hold 4s\)'
# a restart while held keeps the hold timer (the pool's healthy since time is stored)
loop_stop
t0=$(now_ms)
restart_steerd
t=$(now_ms) a=$(ans api)
if [ "$t" -lt $((at2 - 200)) ]; then
	expect_match "hold: api on the secondary right after a restart ($((t - t0)) ms)" "$a" \
		"$SECONDARY"
	wait_api
	t=$(now_ms) v=$(st 'b["failback_pending"] and b["failback_pending"]["at_ms"]')
	if [ "$t" -lt $((at2 - 200)) ]; then
		expect_eq "hold: after the restart the same at_ms" "$v" "$at2"
	else # the API came up after the hold ended (a loaded machine): nothing to compare
		echo "# skipped: the API answered $((t - t0)) ms after the restart began, after the hold"
	fi
else # a slow machine: the time of the stored failback is still checked below
	echo "# skipped: the restart took $((t - t0)) ms, the hold ended at $at2"
	wait_api
fi
loop_start 127.0.0.11 127.0.0.12 127.0.0.21
if [ "$(now_ms)" -lt $((at2 - 900)) ]; then
	hold_answers "hold: api stays on the secondary until shortly before at_ms" $((at2 - 400))
else
	echo "# skipped: less than 0.9 s of the hold left to sample after the restart"
fi
wait_for "hold: api back on the primary after the hold" "ans api" "$PRIMARY" 20
expect_eq "hold: nothing pending any more" "$(st 'b["pool"], b["failback_pending"]')" \
	"('primary', None)"
wait_for "hold: stored transition back to the primary, reason failback_hold elapsed" \
	"sql \"select count(*) from balancer_transitions where reason = 'failback_hold elapsed'
	       and time_ms >= $since2\"" '^1$'
expect_eq "hold: the transition" \
	"$(sql "select from_state, to_state from balancer_transitions
	        where reason = 'failback_hold elapsed' and time_ms >= $since2")" \
	"failover:secondary|primary"
expect_ge "hold: failback time_ms >= at_ms read while held" \
	"$(sql "select time_ms from balancer_transitions where reason = 'failback_hold elapsed'
	        and time_ms >= $since2")" "$at2"

# ---- 5. a flapping primary restarts the hold
primary_dies flap
restart_origin p1
restart_origin p2
wait_for "flap: the failback is pending" "st 'b[\"failback_pending\"] is not None'" '^True$'
read -r since3 at3 < <(st '"%d %d" % (b["failback_pending"]["healthy_since_ms"], b["failback_pending"]["at_ms"])')
stop_origin p1
stop_origin p2
wait_for "flap: the primary is unhealthy again" "st 'p[\"primary\"][\"healthy\"]'" '^False$'
expect_match "flap: api on the secondary" "$(ans api)" "$SECONDARY"
expect_ge "flap: the primary failed before the hold ended (at_ms $at3)" \
	"$((at3 - $(st 'p["primary"]["since_ms"]')))" 1
restart_origin p1
restart_origin p2
wait_for "flap: pending again" "st 'b[\"failback_pending\"] is not None'" '^True$'
read -r since4 at4 < <(st '"%d %d" % (b["failback_pending"]["healthy_since_ms"], b["failback_pending"]["at_ms"])')
expect_ge "flap: a new healthy_since_ms, later than the first" "$since4" $((since3 + 1))
expect_eq "flap: at_ms = the new healthy_since_ms + 4000" "$at4" "$((since4 + 4000))"
expect_eq "flap: no failback from the interrupted hold" \
	"$(sql "select count(*) from balancer_transitions where to_state = 'primary'
	        and time_ms >= $since3 and time_ms < $since4")" 0
# steerctl failback also ends a hold before its time
out=$(ctl failback api 2>&1) && rc=0 || rc=$?
t=$(now_ms)
expect_eq "flap: failback api during the hold: exit 0 ($out)" "$rc" 0
# p2 may not be up yet: the primary pool is healthy with one origin up
expect_match "flap: the very next answer is the primary" "$(ans api)" \
	'^NOERROR 30 (127\.0\.0\.11|127\.0\.0\.12|127\.0\.0\.11 127\.0\.0\.12)$'

expect_ge "flap: that was before the hold ended" "$at4" "$t"
wait_for "flap: stored as a manual failback, before at_ms" \
	"sql \"select time_ms < $at4 from balancer_transitions
	       where reason = 'manual failback' and time_ms >= $since4\"" '^1$'
loop_stop

# ---- 6. failback on a random-policy balancer: configuration errors with file:line:col
BAD=$TMP/bad
mkdir -p "$BAD"
cp -r "$TMP/cfg/." "$BAD/"
json_edit "$BAD/steerd.json" 'b = c["balancers"][0]; b["steering_policy"] = "random"
b["failback"] = "manual"; b["failback_hold"] = 4'
line_fb=$(grep -n '"failback":' "$BAD/steerd.json" | cut -d: -f1)
line_hold=$(grep -n '"failback_hold":' "$BAD/steerd.json" | cut -d: -f1)
out=$("$STEERD" --check-config -c "$BAD/steerd.json" 2>&1) && rc=0 || rc=$?
expect_eq "check-config: failback on a random balancer fails" "$rc" 1
expect_match "check-config: failback error at file:line:col" "$out" \
	"(^|/)steerd\.json:$line_fb:[0-9]+: balancers\[0\]\.failback: failback applies only to steering_policy \"failover\""
expect_match "check-config: failback_hold error at file:line:col" "$out" \
	"(^|/)steerd\.json:$line_hold:[0-9]+: balancers\[0\]\.failback_hold: failback_hold applies only to steering_policy \"failover\""
json_edit "$BAD/steerd.json" 'b = c["balancers"][0]; b["steering_policy"] = "failover"
b["failback"] = "sometimes"; b["failback_hold"] = 86401'
out=$("$STEERD" --check-config -c "$BAD/steerd.json" 2>&1) && rc=0 || rc=$?
expect_eq "check-config: bad failback values fail" "$rc" 1
expect_match "check-config: unknown failback value" "$out" \
	'steerd\.json:[0-9]+:[0-9]+: balancers\[0\]\.failback: .*'
expect_match "check-config: failback_hold out of range" "$out" \
	'steerd\.json:[0-9]+:[0-9]+: balancers\[0\]\.failback_hold: .*86400'

# the cancelled hold does not fire when its time comes
for _ in $(seq 1 50); do
	[ "$(now_ms)" -gt $((at4 + 500)) ] && break
	sleep 0.2
done
expect_eq "flap: no failback_hold elapsed after the manual failback (at_ms $at4 is past)" \
	"$(sql "select group_concat(from_state || '>' || to_state || ' ' || reason, '; ')
	        from balancer_transitions where time_ms >= $since4")" \
	"failover:secondary>primary manual failback"
expect_match "api: the primary at the end" "$(ans api)" "$PRIMARY"
check_alive
expect_eq "every transition has a reason" "$(bad_transition_rows)" 0
finish
