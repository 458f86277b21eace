#!/usr/bin/env bash
# tcp monitors and minimum_origins: banner origins (origin.py --tcp-banner) probed with
# send/expect are up; a banner without `expect` is down (tcp: reply lacks ...). The pool
# "pair" needs 2 of its 2 origins: one stops -> the pool is unhealthy although one origin
# is still up -> the balancer fails over to "standby"; the origin returns -> back to both.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

make_config "$STEER_SRC/test/data/health/tcp"
OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.21)
mon_ports "$OPORT"
BANNER=(--tcp-banner 'SSH-2.0-steer-test')
start_origin t1 127.0.0.11 "$OPORT" "${BANNER[@]}"
start_origin t2 127.0.0.12 "$OPORT" "${BANNER[@]}"
start_origin mm 127.0.0.13 "$OPORT" "${BANNER[@]}"
start_origin sb 127.0.0.21 "$OPORT" "${BANNER[@]}"
start_steerd

wait_for "t1, t2, sb up" \
	"sql \"select group_concat(origin) from (select origin from origin_transitions
	       where to_state = 'up' order by origin)\"" '^sb,t1,t2$'
expect_eq "tcp: both origins of pair, TTL 30" "$(ans tcp)" "NOERROR 30 127.0.0.11 127.0.0.12"
wait_for "the monitor sent its text (origin log)" "cat '$TMP/t1.log'" "tcp recv='PING\\\\r\\\\n'"

# expect not in the banner: down with the reason, balancer on standby
wait_for "banner without expect: mismatch fails over" "ans mismatch" '^NOERROR 5 127\.0\.0\.21$'
wait_for "mismatch: reason stored" \
	"sql \"select from_state || '|' || to_state || '|' || reason from origin_transitions
	       where origin = 'mm'\"" '^unknown\|down\|tcp: reply lacks "NOPE"$'
# probe rows come in the store's next batch (transitions are committed at once)
wait_for "mm: failed probes say why, status 0" \
	"sql \"select distinct p.http_status || '|' || p.reason from probes p join origins o
	       on o.id = p.origin_id where o.name = 'mm'\"" '^0\|tcp: reply lacks "NOPE"$'

# --- minimum_origins 2: one of two down -> pool unhealthy -> failover
T0=$(now_ms)
stop_origin t2
wait_for "t2 stopped: tcp fails over to standby (t1 is still up)" \
	"ans tcp" '^NOERROR 5 127\.0\.0\.21$'
wait_for "pair unhealthy stored with its reason" \
	"sql \"select pool || '|' || from_state || '|' || to_state || '|' || reason
	       from pool_transitions where pool = 'pair'\"" \
	'^pair\|healthy\|unhealthy\|fewer origins up than minimum_origins$'
expect_eq "t1 never went down" \
	"$(sql "select count(*) from origin_transitions where origin = 't1' and to_state = 'down'")" 0
expect_match "t2 up->down stored" \
	"$(sql "select from_state || '|' || to_state || '|' || reason from origin_transitions
	        where origin = 't2' order by id desc limit 1")" \
	'^up\|down\|(connect refused|tcp: .*)$'
expect_log "log: balancer tcp failed over" 'health: balancer=tcp pair->failover:standby'

# t1 keeps passing its probes, yet one origin up is not enough
wait_for "t1 probed ok while t2 is down" \
	"sql \"select count(*) from probes p join origins o on o.id = p.origin_id
	       where o.name = 't1' and p.ok = 1 and p.time_ms > $T0\"" '^[1-9]'
expect_eq "tcp still on standby" "$(ans tcp)" "NOERROR 5 127.0.0.21"
restart_origin t2
wait_for "t2 back: tcp answers both again, TTL 30" "ans tcp" \
	'^NOERROR 30 127\.0\.0\.11 127\.0\.0\.12$'
wait_for "pair healthy again stored" \
	"sql \"select to_state || '|' || reason from pool_transitions where pool = 'pair'
	       order by id desc limit 1\"" '^healthy\|enough origins up$'
# t1 was probed and up all along, also while the pool was unhealthy because of t2
expect_eq "t1: no failed probe" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 't1' and p.ok = 0")" 0
expect_eq "tcp probes: no HTTP status" \
	"$(sql 'select distinct http_status from probes')" "0"
expect_eq "every probe row complete" "$(bad_probe_rows)" 0
expect_eq "every transition has a reason" "$(bad_transition_rows)" 0
finish
