#!/usr/bin/env bash
# Failover and back: the primary pool's only origin stops (process killed) -> answers move
# to the secondary pool with the failover TTL; the origin comes back -> answers return to
# the primary after consecutive_up (2) successes, with the balancer TTL. The store holds
# every probe steerd made (as many rows as probe lines in the debug log) and every
# origin, pool and balancer transition with its reason.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

start_failover_pair -v

# unknown counts as up: the primary answers from the first query on
expect_eq "api before any probe result: primary, TTL 30" "$(ans api)" "NOERROR 30 127.0.0.11"
wait_for "both origins up" \
	"sql \"select count(*) from origin_transitions where to_state = 'up'\"" '^2$'
expect_eq "api with both up: primary, TTL 30" "$(ans api)" "NOERROR 30 127.0.0.11"

# --- the primary's origin dies: failover to secondary, TTL 5 (failover_ttl)
stop_origin p1
wait_for "p1 killed: api answers the secondary with the failover TTL" \
	"ans api" '^NOERROR 5 127\.0\.0\.21$'
# a probe in flight when the process dies sees its connection reset instead
DEAD='(connect refused|recv: Connection reset by peer|connection closed without a response)'
expect_log "log: p1 up->down, connect refused" \
	"warn health: pool=primary origin=p1 addr=127\\.0\\.0\\.11 up->down reason=\"$DEAD\""
expect_log "log: pool primary unhealthy" 'health: pool=primary healthy->unhealthy'
expect_log "log: balancer failed over" 'health: balancer=api primary->failover:secondary'
for _ in 1 2 3; do
	expect_eq "api stays on the secondary" "$(ans api)" "NOERROR 5 127.0.0.21"
done
ask qt api.lb.example.test A
expect_eq "api over TCP: the secondary" "$STATUS/$AN" \
	"NOERROR/api.lb.example.test. 5 IN A 127.0.0.21"

# --- the origin is back: primary again after 2 successes, TTL 30
restart_origin p1
wait_for "p1 back: api answers the primary with TTL 30" "ans api" '^NOERROR 30 127\.0\.0\.11$'
expect_log "log: p1 down->up after 2 successes" \
	'notice health: pool=primary origin=p1 addr=127\.0\.0\.11 down->up reason="2 consecutive successes"'
expect_log "log: balancer back on primary" 'health: balancer=api failover:secondary->primary'

# let a few more probes happen, then stop: steerd flushes the store on SIGTERM
wait_for "a few probes after recovery" \
	"sql \"select count(*) from probes p join origins o on o.id = p.origin_id
	       where o.name = 'p1' and p.ok = 1
	         and p.time_ms > (select max(time_ms) from origin_transitions where origin = 'p1')\"" \
	'^[2-9]$|^[1-9][0-9]+$'
check_alive
stop_steerd
check_exit

# --- what the store holds
expect_eq "origins table" "$(sql 'select pool, name, address from origins order by id')" \
	"primary|p1|127.0.0.11
secondary|s1|127.0.0.21"
expect_match "p1 transitions, with reasons" \
	"$(sql "select group_concat(address || '|' || from_state || '|' || to_state || '|' ||
	        reason, ';') from (select * from origin_transitions where origin = 'p1'
	        order by time_ms, id)")" \
	"^127\.0\.0\.11\|unknown\|up\|2 consecutive successes;127\.0\.0\.11\|up\|down\|$DEAD;127\.0\.0\.11\|down\|up\|2 consecutive successes$"
expect_eq "s1 transitions: unknown->up only" \
	"$(sql "select address, from_state, to_state, reason from origin_transitions
	        where origin = 's1'")" "127.0.0.21|unknown|up|2 consecutive successes"
expect_eq "pool transitions" \
	"$(sql 'select pool, from_state, to_state, reason from pool_transitions order by id')" \
	"primary|healthy|unhealthy|fewer origins up than minimum_origins
primary|unhealthy|healthy|enough origins up"
expect_eq "balancer transitions" \
	"$(sql 'select balancer, from_state, to_state, reason from balancer_transitions order by id')" \
	"api|primary|failover:secondary|pool health changed
api|failover:secondary|primary|pool health changed"
# the time of each transition is the time of the probe that caused it
expect_eq "p1 up->down at its first failed probe" \
	"$(sql "select t.time_ms = (select min(time_ms) from probes p join origins o
	                             on o.id = p.origin_id where o.name = 'p1' and p.ok = 0)
	        from origin_transitions t where t.origin = 'p1' and t.to_state = 'down'")" "1"
expect_eq "failed p1 probes: status 0, connection refused (or reset by the kill)" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 'p1' and p.ok = 0 and not (p.http_status = 0 and (p.reason =
	        'connect refused' or p.reason = 'recv: Connection reset by peer' or
	        p.reason = 'connection closed without a response'))")" "0"
# back up after exactly consecutive_up = 2 successes following the failures
expect_eq "p1 down->up after exactly 2 successful probes" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 'p1' and p.ok = 1
	          and p.time_ms > (select time_ms from origin_transitions
	                           where origin = 'p1' and to_state = 'down')
	          and p.time_ms <= (select max(time_ms) from origin_transitions
	                            where origin = 'p1' and to_state = 'up')")" "2"

# every probe steerd made is a row: the health loop logs each one at debug level
logged=$(log_count 'debug health: pool=[^ ]+ origin=[^ ]+ addr=[^ ]+ ok=[01] ')
stored=$(sql 'select count(*) from probes')
expect_eq "one probe row per logged probe" "$stored" "$logged"
expect_eq "every probe row complete (ok, rtt, status, reason)" "$(bad_probe_rows)" 0
expect_eq "successful probes: status 200" \
	"$(sql 'select distinct http_status from probes where ok = 1')" "200"
expect_eq "every transition has a reason" "$(bad_transition_rows)" 0
# interval 1 s: about one probe per origin per second, never a gap of 4 intervals
expect_eq "no origin went 4 s without a probe" \
	"$(sql 'select count(*) from probes a where exists (select 1 from probes b
	        where b.origin_id = a.origin_id and b.id > a.id) and not exists (select 1
	        from probes b where b.origin_id = a.origin_id and b.id > a.id
	        and b.time_ms - a.time_ms < 4000)')" "0"

finish
