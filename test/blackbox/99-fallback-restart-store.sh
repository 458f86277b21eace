#!/usr/bin/env bash
# Last resorts, restart and a broken store.
# 1. Every origin of both default pools down: "api" answers its fallback pool, "open"
#    (no fallback_pool) fails open on the first pool's enabled origins; never SERVFAIL.
# 2. steerd restarts while the primary's origins are down: the states come back from the
#    store, so the first answers already come from the secondary pool (no flap to the
#    primary), and nothing is re-recorded.
# 3. The database becomes unwritable (its directory renamed away and a regular file put at
#    its path, which holds for root too): DNS keeps answering, "err store:" is logged,
#    health still changes in memory; once the directory is back, probe rows are written
#    again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

make_config "$STEER_SRC/test/data/health/fallback"
mkdir "$TMP/db"
DB=$TMP/db/steerd.db
cfg_edit "c['state']['path'] = '$DB'"
OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.21)
mon_ports "$OPORT"
start_origin p1 127.0.0.11
start_origin p2 127.0.0.12
start_origin s1 127.0.0.21
start_steerd

wait_for "p1, p2, s1 up" \
	"sql \"select count(*) from origin_transitions where to_state = 'up'\"" '^3$'
expect_eq "api: primary's enabled origins (all), TTL 30" "$(ans api)" \
	"NOERROR 30 127.0.0.11 127.0.0.12"
expect_eq "open: the same, TTL 40" "$(ans open)" "NOERROR 40 127.0.0.11 127.0.0.12"

# --- 1. everything down
stop_origin p1
stop_origin p2
stop_origin s1
wait_for "all down: api answers the fallback pool with the failover TTL" \
	"ans api" '^NOERROR 5 192\.0\.2\.31$'
wait_for "all down: open fails open on primary's enabled origins (failover TTL 10)" \
	"ans open" '^NOERROR 10 127\.0\.0\.11 127\.0\.0\.12$'
for _ in 1 2 3; do
	expect_eq "api stays on the fallback" "$(ans api)" "NOERROR 5 192.0.2.31"
	expect_eq "open stays open, never SERVFAIL" "$(ans open)" \
		"NOERROR 10 127.0.0.11 127.0.0.12"
done
ask qt open.lb.example.test A
expect_eq "open over TCP: NOERROR, 2 answers" "$STATUS/$COUNTS" "NOERROR/2/0/1"
expect_eq "open AAAA: NODATA, not SERVFAIL" "$(ans open AAAA)" "NOERROR -"
wait_for "balancer transitions stored: fallback:backup and fail-open:primary" \
	"sql \"select b.balancer || '|' || b.to_state from balancer_transitions b
	       where b.id = (select max(id) from balancer_transitions c
	                     where c.balancer = b.balancer) order by b.balancer\"" \
	'^api\|fallback:backup
open\|fail-open:primary$'
expect_log "log: api on its fallback" 'health: balancer=api [^ ]+->fallback:backup'
expect_log "log: open fails open" 'health: balancer=open [^ ]+->fail-open:primary'

# --- 2. the secondary comes back; restart steerd while the primary is still down
restart_origin s1
wait_for "s1 back: api fails over to the secondary" "ans api" '^NOERROR 5 127\.0\.0\.21$'
expect_eq "open: secondary too" "$(ans open)" "NOERROR 10 127.0.0.21"
wait_for "s1 up stored" \
	"sql \"select to_state from origin_transitions where origin = 's1'
	       order by id desc limit 1\"" '^up$'
n_origin_tr=$(sql 'select count(*) from origin_transitions')
n_bal_tr=$(sql 'select count(*) from balancer_transitions')
restart_steerd
# the first answers, before any probe of the new process can have finished
for i in 1 2 3 4 5; do
	expect_eq "after restart, answer $i: still the secondary" "$(ans api)" "NOERROR 5 127.0.0.21"
done
expect_eq "after restart: open on the secondary too" "$(ans open)" "NOERROR 10 127.0.0.21"
expect_log "log: states restored from the store" \
	"info health: restored the last known state of 3 origins from $DB"
# a few probe rounds later: still no flap, and nothing new recorded
T_RESTART=$(now_ms)
wait_for "probes of the new process stored" \
	"sql \"select count(distinct origin_id) from probes where time_ms > $T_RESTART\"" '^3$'
for _ in 1 2 3; do
	expect_eq "after restart and probes: still the secondary" "$(ans api)" \
		"NOERROR 5 127.0.0.21"
done
expect_eq "no origin transition after the restart" \
	"$(sql 'select count(*) from origin_transitions')" "$n_origin_tr"
expect_eq "no balancer transition after the restart" \
	"$(sql 'select count(*) from balancer_transitions')" "$n_bal_tr"

# --- 3. the database becomes unwritable
mv "$TMP/db" "$TMP/db.away"
: >"$TMP/db"
wait_for "store error logged" "log_count 'err store: '" '^[1-9]'
expect_log "the error names the path" "err store: .*path=$DB"
expect_eq "DNS still answers" "$(ans api)" "NOERROR 5 127.0.0.21"
restart_origin p1
wait_for "health still changes in memory: p1 back, api on the primary" \
	"ans api" '^NOERROR 30 127\.0\.0\.11$'
expect_log "log: p1 down->up" 'notice health: pool=primary origin=p1 addr=127\.0\.0\.11 down->up'
check_alive

rm -f "$TMP/db"
mv "$TMP/db.away" "$TMP/db"
T_BACK=$(now_ms)
wait_for "writes resume: new probe rows" \
	"sql \"select count(*) from probes where time_ms > $T_BACK\"" '^[1-9]'
expect_log "log: database writable again" 'notice store: database writable again'
expect_eq "DNS unchanged" "$(ans api)" "NOERROR 30 127.0.0.11"

expect_eq "every probe row complete" "$(bad_probe_rows)" 0
expect_eq "every transition has a reason" "$(bad_transition_rows)" 0
finish
