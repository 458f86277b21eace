#!/usr/bin/env bash
# Operate a running steerd with steerctl (its HTTP API): drain and undrain an origin,
# force an origin or a whole pool down and up, a maintenance window that ends by itself
# (also while steerd is stopped), explain naming the down origins and their probe
# reasons, overrides that survive a reload and a restart, history and events. A query
# loop in the background checks every answer throughout; "at once" below means the very
# next query after steerctl returns, with no waiting.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

BOTH="NOERROR 30 127.0.0.11 127.0.0.12"

# up_count: how many origins the status shows probed up
up_count() {
	ctl status --json | jq_py "sum(o['state'] == 'up' for p in d['pools'] for o in p['origins'])"
}

# origin_json POOL ORIGIN EXPR: the python expression EXPR over `o`, the status entry of
# that origin
origin_json() {
	ctl status --json | "$PYTHON" -c "import json, sys; d = json.load(sys.stdin)
o = [o for p in d['pools'] if p['name'] == '$1' for o in p['origins'] if o['name'] == '$2'][0]
print($3)"
}

start_api_trio
expect_eq "token file created by steerd, mode 600" "$(stat -c %a "$TOKEN_FILE")" "600"
wait_for "all three origins up" up_count '^3$'
loop_start 127.0.0.11 127.0.0.12 127.0.0.21
expect_eq "api: both primary origins" "$(ans api)" "$BOTH"

# --- drain and undrain one origin
out=$(ctl drain primary/p1 --reason "kernel upgrade")
expect_match "drain: steerctl says what it did" "$out" 'primary/p1: drain.*kernel upgrade'
expect_eq "drained p1 is out of the answers at once" "$(ans api)" "NOERROR 30 127.0.0.12"
expect_match "status table: p1 drained, with the reason" "$(ctl status)" \
	'p1 +127\.0\.0\.11 +up .*drain.*kernel upgrade'
t0=$(origin_json primary p1 "o['last_probe']['time_ms']")
wait_for "a drained origin is still probed" \
	"origin_json primary p1 \"o['last_probe']['time_ms'] > $t0\"" '^True$'
ctl undrain primary/p1 >/dev/null
expect_eq "undrain puts p1 back at once" "$(ans api)" "$BOTH"

# --- force an origin and the whole preferred pool down, then back to auto
ctl force-down primary/p2 --reason "disk" >/dev/null
expect_eq "force-down p2: out at once" "$(ans api)" "NOERROR 30 127.0.0.11"
ctl force-down primary --reason "datacenter move" >/dev/null
expect_eq "force-down of the preferred pool fails api over at once" "$(ans api)" \
	"NOERROR 5 127.0.0.21"
expect_match "status: pool primary forced down" "$(ctl status)" \
	'primary.*(UNHEALTHY|unhealthy).*down.*datacenter move'
ctl auto primary >/dev/null
expect_eq "pool back to auto: primary again at once (p2 still forced down)" "$(ans api)" \
	"NOERROR 30 127.0.0.11"
ctl auto primary/p2 >/dev/null
expect_eq "p2 back to auto" "$(ans api)" "$BOTH"

# --- force-up beats a failing probe
stop_origin p2
wait_for "p2 probed down" "origin_json primary p2 \"o['state']\"" '^down$'
expect_eq "p2 down: out of the answers" "$(ans api)" "NOERROR 30 127.0.0.11"
ctl force-up primary/p2 >/dev/null
expect_eq "force-up p2: back in at once although probed down" "$(ans api)" "$BOTH"
expect_eq "status keeps the probed state beside the override" \
	"$(origin_json primary p2 "o['state'] + ' ' + o['override']['state']")" "down up"
ctl auto primary/p2 >/dev/null
expect_eq "auto: the probes decide again" "$(ans api)" "NOERROR 30 127.0.0.11"

# --- explain names the down origins and their probe reasons
stop_origin p1
wait_for "both primary origins down: api on the secondary" "ans api" '^NOERROR 5 127\.0\.0\.21$'
out=$(ctl explain api --client 198.51.100.7)
expect_match "explain: the answer" "$out" 'api\.lb\.example\.test\.[[:space:]]+5[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.21'
expect_match "explain: primary skipped, p1 down with its probe reason" "$out" \
	'pool primary: skipped: unhealthy.*p1 down \((connect refused|recv: Connection reset by peer|connection closed without a response)\)'
expect_match "explain: the secondary taken" "$out" 'pool secondary: taken'
expect_match "explain: why the TTL is 5" "$out" 'ttl 5: failover_ttl while failed over'
expect_eq "explain --json: balancer and answer" \
	"$(ctl explain api.lb.example.test --json | jq_py "d['balancer'] + ' ' + d['rcode'] + ' ' + str(len(d['answer']))")" \
	"api NOERROR 1"
expect_match "explain www (a CNAME to api) explains api too" "$(ctl explain www)" \
	'balancer api: steering_policy failover'
restart_origin p1
restart_origin p2
wait_for "primary back" "ans api" "^$BOTH\$"

# --- a maintenance window ends by itself, and is recorded when it does
ctl drain primary/p1 --for 3s --reason "window" >/dev/null
expect_eq "window open: p1 out" "$(ans api)" "NOERROR 30 127.0.0.12"
wait_for "the window ends by itself: p1 back" "ans api" "^$BOTH\$" 15
wait_for "events: the window's end, source expired" \
	"ctl events --json | jq_py \"[e['source'] for e in d['events'] if e['kind'] == 'override' and e['origin'] == 'p1'][0]\"" \
	'^expired$'
expect_eq "SQLite: the override is gone, its log kept" \
	"$(sql "select count(*) from overrides where origin = 'p1'")/$(sql "select
	        group_concat(x, ',') from (select state || ':' || reason || ':' || source as x
	        from override_log where origin = 'p1' order by id desc limit 2)")" \
	"0/auto:maintenance window ended:expired,drain:window:api"

# --- overrides survive a reload and a restart
ctl drain primary/p2 --reason "survives" >/dev/null
ctl reload >/dev/null
expect_eq "after a reload p2 is still drained" "$(ans api)" "NOERROR 30 127.0.0.11"
loop_stop
restart_steerd
wait_api
expect_eq "after a restart p2 is still drained (first answer)" "$(ans api)" \
	"NOERROR 30 127.0.0.11"
expect_eq "status after the restart: drain with its reason" \
	"$(origin_json primary p2 "o['override']['state'] + '/' + o['override']['reason']")" \
	"drain/survives"
ctl undrain primary/p2 >/dev/null
expect_eq "undrain after the restart" "$(ans api)" "$BOTH"

# a window that ends while steerd is stopped is not restored
ctl force-down primary/p1 --for 2s >/dev/null
stop_steerd
sleep 2.5 # the window ends while steerd is down (a precondition, not a measurement)
start_steerd
wait_api
expect_eq "an override that expired while stopped is not restored" "$(ans api)" "$BOTH"
wait_for "and it is recorded as expired" \
	"sql \"select state || '/' || source from override_log where origin = 'p1'
	       order by id desc limit 1\"" '^auto/expired$'

# --- history and events
loop_start 127.0.0.11 127.0.0.12 127.0.0.21
expect_eq "history --json --limit 3: three probes of p1, newest first" \
	"$(ctl history primary/p1 --limit 3 --json | jq_py "len(d['probes']), d['probes'][0]['time_ms'] >= d['probes'][-1]['time_ms']")" \
	"3 True"
expect_match "history table" "$(ctl history primary/p1 --limit 3)" '127\.0\.0\.11'
out=$(ctl events --since 10m --json | jq_py "sorted(set(e['kind'] for e in d['events']))")
expect_eq "events: every kind seen" "$out" "['balancer', 'origin', 'override', 'pool']"
expect_match "events table names the failover" "$(ctl events --since 10m)" 'failover:secondary'

loop_stop
finish
