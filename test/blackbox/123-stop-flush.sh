#!/usr/bin/env bash
# SIGTERM and SIGINT while probes run: steerd exits within 1 s, with status 0, and every
# probe it had counted (steer_probes_total on /metrics, read just before the signal) is a
# row in SQLite: the store is flushed on the way out. One origin hangs, so a probe is in
# flight (up to its 1 s timeout) when the signal comes; the stop must not wait for it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

DB=$TMP/steerd.db
make_config "$STEER_SRC/test/data/health/failover"
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
cfg_edit "c['api'] = {'listen': ['127.0.0.1:$APIPORT']}"
OPORT=$(origin_port 127.0.0.11 127.0.0.21 127.0.0.22)
mon_ports "$OPORT"
json_edit "$TMP/cfg/pools/secondary.json" \
	"c['origins'].append({'name': 's2', 'address': '127.0.0.22'})"
start_origin p1 127.0.0.11
start_origin s1 127.0.0.21
echo '{"mode": "hang"}' >"$TMP/s2.ctl"
start_origin s2 127.0.0.22

# probes_counted: the sum of steer_probes_total (0 if the API does not answer)
probes_counted() {
	curl -s --max-time 2 "http://127.0.0.1:$APIPORT/metrics" 2>/dev/null |
		awk '/^steer_probes_total[{ ]/ { n += $NF } END { print n + 0 }'
}

# stop_with SIG: under probing, send SIG and check the exit (time, status, rows)
stop_with() {
	local sig=$1 counted rows rows0=0 t0 t1 gone=0 rc=0

	[ -e "$DB" ] && rows0=$(sql 'select count(*) from probes')
	start_steerd
	# wait (at most 20 s) for a few probe rounds, and for one probe of s2 in flight
	for _ in $(seq 1 200); do
		[ "$(probes_counted)" -ge 8 ] && [ -s "$TMP/s2.log" ] && break
		sleep 0.1
	done
	counted=$(probes_counted)
	t0=${EPOCHREALTIME/[.,]/}
	kill "-$sig" "$STEERD_PID"
	# bounded poll: gone within 1 s of the signal
	while :; do
		if ! kill -0 "$STEERD_PID" 2>/dev/null; then
			gone=1
			break
		fi
		t1=${EPOCHREALTIME/[.,]/}
		[ $((t1 - t0)) -gt 1000000 ] && break
		sleep 0.02
	done
	t1=${EPOCHREALTIME/[.,]/}
	expect_eq "SIG$sig: exited within 1 s ($(((t1 - t0) / 1000)) ms)" "$gone" 1
	[ "$gone" -eq 1 ] || kill -KILL "$STEERD_PID" 2>/dev/null || true
	wait "$STEERD_PID" || rc=$?
	STEERD_PID=
	expect_eq "SIG$sig: exit status" "$rc" 0
	rows=$(($(sql 'select count(*) from probes') - rows0))
	expect_eq "SIG$sig: probes counted before the signal ($counted) are all in SQLite ($rows)" \
		"$((rows >= counted && counted >= 8))" 1
	expect_match "SIG$sig: stop logged" "$(cat "$TMP/steerd.log")" \
		"info steerd: signal $(kill -l "$sig"): stopping"
}

stop_with TERM
check_exit
stop_with INT
check_exit

finish
