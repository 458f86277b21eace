#!/usr/bin/env bash
# SIGHUP reload is atomic (lib/daemon/README.md, "Reload"): a valid new config is served at once; an origin
# that survives the reload keeps its health (a down primary stays down: no flap); an
# invalid config is rejected with file, line, column and JSON path while the running
# config keeps serving; a fixed config is picked up by the next SIGHUP.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

start_failover_pair
wait_for "both origins up" \
	"sql \"select count(*) from origin_transitions where to_state = 'up'\"" '^2$'

# the primary goes down: failed over before the reload
stop_origin p1
wait_for "p1 down: api on the secondary" "ans api" '^NOERROR 5 127\.0\.0\.21$'

# --- a valid change: a new static record; p1 keeps its down state across the reload
cfg_edit 'c["zone"]["records"].append("www 300 IN A 192.0.2.7")'
kill -HUP "$STEERD_PID"
wait_for "reload: the new record is served" "ans www" '^NOERROR 300 192\.0\.2\.7$'
for _ in 1 2 3; do
	expect_eq "right after the reload api stays failed over (state carried over)" \
		"$(ans api)" "NOERROR 5 127.0.0.21"
done
expect_log "log: reloaded" 'notice steerd: reloaded .*steerd\.json: zone lb\.example\.test\.'

# --- an invalid change: rejected with its position, the running config keeps serving
json_edit "$TMP/cfg/pools/primary.json" 'c["origins"][0]["weight"] = 2'
kill -HUP "$STEERD_PID"
expect_log "log: the error names file, line, column and JSON path" \
	'pools/primary\.json:[0-9]+:[0-9]+: origins\[0\]\.weight: must be between 0 and 1'
expect_log "log: reload failed, previous configuration kept" \
	'err steerd: reload of .*steerd\.json failed; still serving the previous configuration'
check_alive
expect_eq "after the failed reload: the record is still served" "$(ans www)" \
	"NOERROR 300 192.0.2.7"
expect_eq "after the failed reload: api still answers" "$(ans api)" "NOERROR 5 127.0.0.21"

# --- fixed, and the origin is back: the next reload works and api returns to p1
json_edit "$TMP/cfg/pools/primary.json" 'c["origins"][0]["weight"] = 1'
start_origin p1 127.0.0.11
kill -HUP "$STEERD_PID"
wait_for "p1 back after the fixed reload: api on the primary" "ans api" \
	'^NOERROR 30 127\.0\.0\.11$'
expect_eq "reloads logged" "$(log_count 'notice steerd: reloaded ')" "2"
check_alive
finish
