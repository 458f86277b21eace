#!/usr/bin/env bash
# Why an HTTP origin is down, as stored: five origins start healthy, then one answers 503,
# one a body without expected_body, one a redirect (monitor without follow_redirects:
# down), one the same redirect (monitor with follow_redirects: stays up), one accepts
# the connection and never replies (timeout 1 s). Each balancer moves to the spare pool
# or stays, and probes.reason / origin_transitions.reason say why. A monitor with
# retries 2 makes 3 requests per failed probe and stores one row per probe.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

make_config "$STEER_SRC/test/data/health/reasons"
OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16)
mon_ports "$OPORT"
# expected_body is a case-insensitive substring
set_origin bd '{"body": "all OK here"}'
start_origin st 127.0.0.11
start_origin bd 127.0.0.12
start_origin rd 127.0.0.13
start_origin fo 127.0.0.14
start_origin hg 127.0.0.15
start_origin rt 127.0.0.16
start_steerd

wait_for "all six origins up" \
	"sql \"select count(*) from origin_transitions where to_state = 'up'\"" '^6$'
for b in status:11 body:12 redirect:13 follow:14 hang:15 retry:16; do
	expect_eq "${b%:*} answers its own origin" "$(ans "${b%:*}")" "NOERROR 30 127.0.0.${b#*:}"
done

T0=$(now_ms)
set_origin st '{"status": 503, "body": "maintenance"}'
set_origin bd '{"status": 200, "body": "degraded"}'
set_origin rd '{"mode": "redirect", "location": "/healthz-ok"}'
set_origin fo '{"mode": "redirect", "location": "/healthz-ok"}'
set_origin hg '{"mode": "hang"}'
set_origin rt '{"status": 500}'

SPARE='^NOERROR 5 192\.0\.2\.99$'
wait_for "503: status fails over to the spare pool" "ans status" "$SPARE"
wait_for "wrong body: body fails over" "ans body" "$SPARE"
wait_for "redirect, not followed: redirect fails over" "ans redirect" "$SPARE"
wait_for "no reply: hang fails over" "ans hang" "$SPARE" 20
wait_for "500 with retries: retry fails over" "ans retry" "$SPARE"

# reason of each origin's up->down transition, and of its failed probes
reason_of() { # ORIGIN: the reason of its last transition to down
	sql "select reason from origin_transitions where origin = '$1' and to_state = 'down'
	     order by time_ms desc, id desc limit 1"
}
probe_reasons() { # ORIGIN: "status|reason" of its failed probes since T0, distinct
	sql "select distinct p.http_status || '|' || p.reason from probes p join origins o
	     on o.id = p.origin_id where o.name = '$1' and p.ok = 0 and p.time_ms >= $T0"
}
wait_for "transitions stored" \
	"sql \"select count(*) from origin_transitions where to_state = 'down'\"" '^5$'
# probe rows come in the store's next batch (transitions are committed at once)
wait_for "failed probes of the five stored" \
	"sql \"select count(distinct o.name) from probes p join origins o on o.id = p.origin_id
	       where p.ok = 0 and p.time_ms >= $T0 and o.name in ('st', 'bd', 'rd', 'hg', 'rt')\"" \
	'^5$'
expect_eq "503: transition reason" "$(reason_of st)" "status 503 not in 2xx"
expect_eq "503: probe rows" "$(probe_reasons st)" "503|status 503 not in 2xx"
expect_eq "body: transition reason" "$(reason_of bd)" 'body lacks "ok"'
expect_eq "body: probe rows (status 200)" "$(probe_reasons bd)" '200|body lacks "ok"'
expect_eq "redirect: transition reason" "$(reason_of rd)" "status 302 not in 2xx"
expect_eq "redirect: probe rows" "$(probe_reasons rd)" "302|status 302 not in 2xx"
expect_eq "hang: transition reason" "$(reason_of hg)" "timeout after 1000 ms"
expect_eq "hang: probe rows (no status)" "$(probe_reasons hg)" "0|timeout after 1000 ms"
expect_eq "hang: rtt of a timed-out probe is about the timeout" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 'hg' and p.ok = 0 and p.rtt_ms not between 900 and 3000")" "0"
expect_log "log: st up->down with its reason" \
	'warn health: pool=status origin=st addr=127\.0\.0\.11 up->down reason="status 503 not in 2xx"'
expect_log "log: hg up->down with its reason" \
	'warn health: pool=hang origin=hg addr=127\.0\.0\.15 up->down reason="timeout after 1000 ms"'

# follow_redirects: the same redirect keeps the origin up (302 then 200 from the target)
wait_for "follow: two probes through the redirect" \
	"grep -c 'GET /healthz-ok ' '$TMP/fo.log'" '^([2-9]|[1-9][0-9]+)$'
expect_eq "follow still answers its origin" "$(ans follow)" "NOERROR 30 127.0.0.14"
expect_eq "follow: no failed probe, final status 200" \
	"$(sql "select distinct p.ok || '|' || p.http_status from probes p join origins o
	        on o.id = p.origin_id where o.name = 'fo' and p.time_ms >= $T0")" "1|200"
expect_eq "follow: never down" \
	"$(sql "select count(*) from origin_transitions where origin = 'fo' and to_state = 'down'")" "0"
expect_match "origin log: redirect target requested with the Host of the URL" \
	"$(grep 'GET /healthz-ok ' "$TMP/fo.log" | tail -n 1)" "host=127\.0\.0\.14:$OPORT "

# balancers whose pool is fine stay on it; a recovered origin is back at once (up 1)
set_origin st '{"status": 204, "body": ""}'
wait_for "204 is in 2xx: status back on its origin" "ans status" '^NOERROR 30 127\.0\.0\.11$'
wait_for "st: recovery stored with its reason (consecutive_up 1)" \
	"sql \"select to_state || '|' || reason from origin_transitions where origin = 'st'
	       order by id desc limit 1\"" '^up\|1 consecutive successes$'


expect_eq "retry: transition reason" "$(reason_of rt)" "status 500 not in 2xx"

# the origin accepts, reads the request and closes without a response
set_origin st '{"mode": "close"}'
wait_for "closed without a response: status fails over again" "ans status" "$SPARE"
wait_for "close: transition reason" "reason_of st" '^connection closed without a response$'

# retries 2: every failed probe is 3 requests to the origin but one row; a successful
# probe is one request. Stop first, so every delivered probe is in the store.
stop_steerd
check_exit
rows=$(sql "select sum(case when p.ok = 1 then 1 else 3 end) from probes p join origins o
            on o.id = p.origin_id where o.name = 'rt'")
requests=$(grep -c ' GET /healthz ' "$TMP/rt.log" || true)
# a probe cut short by the stop made requests but has no row
expect_match "retry: origin requests = successes + 3 x failed probes (+ at most 3 cut short)" \
	"$((requests - rows))" '^[0-3]$'
expect_ge "retry: failed probes stored" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 'rt' and p.ok = 0")" 1

expect_eq "every probe row complete" "$(bad_probe_rows)" 0
expect_eq "every transition has a reason" "$(bad_transition_rows)" 0
finish
