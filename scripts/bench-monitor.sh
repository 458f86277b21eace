#!/usr/bin/env bash
# Health-monitoring cost: steerd with 10,000 origins in 1,000 pools probed over HTTP every
# 10 s (1,000 probes/s) against an origin farm (test/bench/origin_farm.c), compared with
# the same configuration without monitors. steerd runs pinned on CPU 0 with one UDP worker,
# the farm and dnsperf on CPU 1. Everything runs in a private network namespace (only lo),
# so the farm can bind 0.0.0.0 and still be reachable from loopback only; without
# namespaces (not root) the farm opens one socket per origin address instead.
#
# Reports the monitor thread's CPU, steerd's RSS, probe rate and latency (from the SQLite
# probes table), and DNS cost per query with and without the probing, with PASS/FAIL for:
# monitor <= 25% of one core, RSS < 100 MB, DNS CPU per query within 5% of the idle run.
#
# Environment (defaults in brackets):
#   ORIGINS [10000]  PER_POOL [10]  BALANCERS [1000]  INTERVAL [10] seconds
#   MONITOR_SECONDS [60] measured probing window  WARM_SECONDS [20] before it
#   IDLE_SECONDS [10]  LOAD_SECONDS [15] dnsperf runs  DNS_QPS [20000] their rate
#   KEEP_TMP [0]
# Results: stdout and bench-results/monitor-<date>.txt. Default run time: about 3 minutes.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

ORIGINS=${ORIGINS:-10000}
PER_POOL=${PER_POOL:-10}
BALANCERS=${BALANCERS:-1000}
INTERVAL=${INTERVAL:-10}
MONITOR_SECONDS=${MONITOR_SECONDS:-60}
WARM_SECONDS=${WARM_SECONDS:-20}
IDLE_SECONDS=${IDLE_SECONDS:-10}
LOAD_SECONDS=${LOAD_SECONDS:-15}
DNS_QPS=${DNS_QPS:-20000}
PROBE_PORT=8080

bench_init monitor
ensure_pkgs dnsperf python3 bind9-dnsutils procps util-linux iproute2 sqlite3
ensure_steerd
[ -x "$FARM" ] || "$BENCH_ROOT/scripts/build.sh" normal >/dev/null
[ -x "$FARM" ] || die "no $FARM (built by scripts/build.sh from test/bench/origin_farm.c)"

FARM_ARGS=()
ISOLATION=
setup_netns() {
	local ns=steerbench-$$
	if ip netns add "$ns" 2>/dev/null; then
		BENCH_CLEANUP+=("ip netns del $ns")
		ip netns exec "$ns" ip link set lo up
		NETNS_EXEC=(ip netns exec "$ns")
		FARM_ARGS=(-p "$PROBE_PORT" -a 0.0.0.0)
		ISOLATION="network namespace $ns (only lo); the farm binds 0.0.0.0:$PROBE_PORT inside it"
	else
		FARM_ARGS=(-p "$PROBE_PORT" -f "$BENCH_TMP/http/addrs.txt")
		ISOLATION="no network namespace (ip netns add failed: not root?); the farm listens on each origin address (127.1.x.y:$PROBE_PORT)"
	fi
}

# steerd_threads PID: thread roles, by name (steer-udp, steer-tcp, steer-store,
# steer-monitor) or, for a steerd that does not name its threads, by creation order: main,
# the UDP worker (workers=1, one listen address), TCP, the store writer, the monitor.
steerd_threads() {
	local pid=$1 t=() tid name
	mapfile -t t < <(threads "$pid")
	T_MAIN=${t[0]:-} T_UDP=${t[1]:-} T_TCP=${t[2]:-} T_STORE=${t[3]:-} T_MON=${t[4]:-}
	THREAD_NOTE="${#t[@]} threads, roles by creation order"
	if grep -q '^steer-' /proc/"$pid"/task/*/comm 2>/dev/null; then
		T_UDP='' T_TCP='' T_STORE='' T_MON=''
		for tid in "${t[@]}"; do
			name=$(cat "/proc/$pid/task/$tid/comm" 2>/dev/null || true)
			case "$name" in
			steer-udp*) T_UDP=${T_UDP:-$tid} ;;
			steer-tcp*) T_TCP=$tid ;;
			steer-store*) T_STORE=$tid ;;
			steer-mon*) T_MON=$tid ;;
			esac
		done
		THREAD_NOTE="${#t[@]} threads, roles by name"
	elif [ "${#t[@]}" -ne 5 ]; then
		THREAD_NOTE="$THREAD_NOTE; expected 5 threads, roles may be wrong"
	fi
}

# all_thread_cpu PID: "tid:name cpu_us" for every thread.
all_thread_cpu() {
	local tid
	for tid in $(threads "$1"); do
		echo "$tid:$(cat "/proc/$1/task/$tid/comm" 2>/dev/null) $(thread_cpu_us "$1" "$tid")"
	done
}

# dns_load TAG PID: dnsperf at DNS_QPS for LOAD_SECONDS; sets L_* (worker thread, process
# and CPU 0 cost per answered query).
dns_load() {
	local tag=$1 pid=$2 w0 w1 p0 p1 c0 c1
	w0=$(thread_cpu_us "$pid" "$T_UDP")
	p0=$(proc_cpu_us "$pid")
	c0=$(cpu_busy_us "$SERVER_CPU")
	dnsperf_run "$tag" -p "$PORT" -d "$CFG_DIR/queries.txt" -l "$LOAD_SECONDS" -Q "$DNS_QPS" -q 100
	w1=$(thread_cpu_us "$pid" "$T_UDP")
	p1=$(proc_cpu_us "$pid")
	c1=$(cpu_busy_us "$SERVER_CPU")
	L_QPS=$DP_QPS L_LOST=$DP_LOST L_AVG=$DP_AVG_MS L_P99=$DP_P99_MS
	L_WORKER=$(div $((w1 - w0)) "$DP_DONE")
	L_PROC=$(div $((p1 - p0)) "$DP_DONE")
	L_CPU0=$(div $((c1 - c0)) "$DP_DONE")
	note "$tag: qps=$L_QPS lost=$L_LOST worker=${L_WORKER}us/q process=${L_PROC}us/q cpu0=${L_CPU0}us/q"
}

start_steerd() {
	start_bg "$BENCH_TMP/steerd-$1.log" "${NETNS_EXEC[@]}" taskset -c "$SERVER_CPU" "$STEERD" \
		-c "$CFG_DIR/steerd.json"
	SPID=$BG_PID
	wait_dns "$PORT" 30 || die "steerd did not answer: $(tail -5 "$BENCH_TMP/steerd-$1.log")"
	sleep 1
	steerd_threads "$SPID"
}

# Phase A: the same configuration without monitors.
phase_idle() {
	local p0 p1
	CFG_DIR=$BENCH_TMP/none
	python3 "$BENCH_ROOT/test/bench/gen_big.py" "$CFG_DIR" "$PORT" --origins "$ORIGINS" \
		--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor none
	note "phase A: no monitors, ${IDLE_SECONDS}s idle, ${LOAD_SECONDS}s DNS at $DNS_QPS qps"
	start_steerd none
	p0=$(proc_cpu_us "$SPID")
	sleep "$IDLE_SECONDS"
	p1=$(proc_cpu_us "$SPID")
	A_IDLE_PCT=$(div $((p1 - p0)) $((IDLE_SECONDS * 10000)) "%.2f")
	A_RSS=$(mem_kb "$SPID" VmRSS)
	dns_load nomon "$SPID"
	A_QPS=$L_QPS A_LOST=$L_LOST A_AVG=$L_AVG A_P99=$L_P99 A_WORKER=$L_WORKER A_PROC=$L_PROC A_CPU0=$L_CPU0
	A_HWM=$(mem_kb "$SPID" VmHWM)
	stop_pid "$SPID"
}

# Phase B: 1,000 probes/s against the farm.
phase_monitor() {
	local p0 p1 t0 t1 rss hwm before after
	CFG_DIR=$BENCH_TMP/http
	python3 "$BENCH_ROOT/test/bench/gen_big.py" "$CFG_DIR" "$PORT" --origins "$ORIGINS" \
		--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor http --interval "$INTERVAL" \
		--probe-port "$PROBE_PORT"
	start_bg "$BENCH_TMP/farm.log" "${NETNS_EXEC[@]}" taskset -c "$CLIENT_CPU" "$FARM" "${FARM_ARGS[@]}"
	FPID=$BG_PID
	for _ in $(seq 1 100); do
		grep -q listening "$BENCH_TMP/farm.log" && break
		sleep 0.1
	done
	grep -q listening "$BENCH_TMP/farm.log" || die "origin farm: $(cat "$BENCH_TMP/farm.log")"
	note "phase B: $ORIGINS origins probed every ${INTERVAL}s; ${WARM_SECONDS}s warm-up, ${MONITOR_SECONDS}s measured, ${LOAD_SECONDS}s DNS"
	start_steerd http
	sleep "$WARM_SECONDS"
	before=$(all_thread_cpu "$SPID")
	p0=$(proc_cpu_us "$SPID")
	t0=$(date +%s%3N)
	rss=0
	for _ in $(seq 1 $((MONITOR_SECONDS / 5))); do
		sleep 5
		local r
		r=$(mem_kb "$SPID" VmRSS)
		[ "${r:-0}" -gt "$rss" ] && rss=$r
	done
	sleep $((MONITOR_SECONDS % 5))
	t1=$(date +%s%3N)
	after=$(all_thread_cpu "$SPID")
	p1=$(proc_cpu_us "$SPID")
	local win_us=$(((t1 - t0) * 1000))
	B_PROC_PCT=$(div $(((p1 - p0) * 100)) "$win_us" "%.2f")
	B_THREADS=$(join <(echo "$before" | sort) <(echo "$after" | sort) |
		awk -v w="$win_us" '{printf "%s %.2f\n", $1, ($3 - $2) * 100 / w}' | sort -n)
	B_MON_PCT=$(echo "$B_THREADS" | awk -v t="$T_MON" 'index($1, t ":") == 1 {print $2}')
	B_STORE_PCT=$(echo "$B_THREADS" | awk -v t="$T_STORE" 'index($1, t ":") == 1 {print $2}')
	B_RSS=$rss
	dns_load monitored "$SPID"
	B_QPS=$L_QPS B_LOST=$L_LOST B_AVG=$L_AVG B_P99=$L_P99 B_WORKER=$L_WORKER B_PROC=$L_PROC B_CPU0=$L_CPU0
	hwm=$(mem_kb "$SPID" VmHWM)
	B_HWM=$hwm
	B_RSS_END=$(mem_kb "$SPID" VmRSS)
	stop_pid "$SPID"
	stop_pid "$FPID"
	B_FARM=$(grep requests "$BENCH_TMP/farm.log" || echo "no counters")
	probe_stats "$t0" "$t1"
}

# probe_stats T0_MS T1_MS: rate, success and RTT of the probes stored in the window.
probe_stats() {
	local db=$CFG_DIR/steerd.db t0=$1 t1=$2 n
	n=$(sqlite3 "$db" "SELECT count(*) FROM probes WHERE time_ms BETWEEN $t0 AND $t1")
	P_N=$n
	P_RATE=$(div "$n" "$(((t1 - t0) / 1000))" "%.1f")
	P_OK=$(sqlite3 "$db" "SELECT count(*) FROM probes WHERE ok = 1 AND time_ms BETWEEN $t0 AND $t1")
	P_AVG=$(sqlite3 "$db" "SELECT printf('%.2f', avg(rtt_ms)) FROM probes WHERE time_ms BETWEEN $t0 AND $t1")
	P_P99=$(sqlite3 "$db" "SELECT rtt_ms FROM probes WHERE time_ms BETWEEN $t0 AND $t1 ORDER BY rtt_ms LIMIT 1 OFFSET (SELECT max(0, CAST(count(*) * 0.99 AS INTEGER) - 1) FROM probes WHERE time_ms BETWEEN $t0 AND $t1)")
	P_MAX=$(sqlite3 "$db" "SELECT max(rtt_ms) FROM probes WHERE time_ms BETWEEN $t0 AND $t1")
	P_REASONS=$(sqlite3 "$db" "SELECT coalesce(reason, '-') || ': ' || count(*) FROM probes WHERE ok = 0 AND time_ms BETWEEN $t0 AND $t1 GROUP BY reason ORDER BY count(*) DESC LIMIT 3" | tr '\n' ';')
	P_UP=$(sqlite3 "$db" "SELECT count(DISTINCT origin_id) FROM origin_transitions WHERE to_state = 'up'")
}

report() {
	local mon_ok rss_ok dns_ok delta
	say ""
	say "setup: $ORIGINS origins in $((ORIGINS / PER_POOL)) pools, $BALANCERS balancers; HTTP GET /healthz every ${INTERVAL}s (expected $((ORIGINS / INTERVAL)) probes/s)"
	say "isolation: $ISOLATION"
	say "threads: $THREAD_NOTE (main $T_MAIN, udp $T_UDP, tcp $T_TCP, store $T_STORE, monitor $T_MON)"
	say ""
	say "Probing (${MONITOR_SECONDS}s window after ${WARM_SECONDS}s warm-up, no DNS load):"
	say "  steerd process CPU:   $B_PROC_PCT% of one core (no monitors, idle: $A_IDLE_PCT%)"
	say "  monitor thread CPU:   ${B_MON_PCT:--}% of one core; store writer thread: ${B_STORE_PCT:--}%"
	say "  per thread (tid:name %): $(echo "$B_THREADS" | tr '\n' ' ')"
	say "  probes stored:        $P_N in the window = $P_RATE probes/s; ok $P_OK; failures: ${P_REASONS:-none}"
	say "  probe rtt (ms):       avg $P_AVG, p99 $P_P99, max $P_MAX (integer ms from the probes table)"
	say "  origins seen up:      $P_UP of $ORIGINS; farm: $B_FARM"
	say "  RSS:                  max $((B_RSS / 1024)) MB during probing, $((${B_RSS_END:-0} / 1024)) MB at end, VmHWM $((${B_HWM:-0} / 1024)) MB (no monitors: RSS $((${A_RSS:-0} / 1024)) MB, VmHWM $((${A_HWM:-0} / 1024)) MB)"
	say ""
	say "DNS at $DNS_QPS qps for ${LOAD_SECONDS}s (balancer names), us per answered query:"
	say "$(printf '  %-12s %8s %6s %8s %8s %10s %10s %8s' config qps lost 'avg ms' 'p99 ms' 'udp thread' process 'cpu0')"
	say "$(printf '  %-12s %8s %6s %8s %8s %10s %10s %8s' 'no monitors' "$A_QPS" "$A_LOST" "$A_AVG" "$A_P99" "$A_WORKER" "$A_PROC" "$A_CPU0")"
	say "$(printf '  %-12s %8s %6s %8s %8s %10s %10s %8s' 'probing' "$B_QPS" "$B_LOST" "$B_AVG" "$B_P99" "$B_WORKER" "$B_PROC" "$B_CPU0")"
	say "  (udp thread = the UDP worker's own CPU; process and cpu0 also include the monitor's work)"
	say ""
	mon_ok=$(awk -v v="${B_MON_PCT:-999}" 'BEGIN {print (v <= 25) ? 1 : 0}')
	verdict "monitor thread <= 25% of one core" "$mon_ok" "${B_MON_PCT:--}% (store writer ${B_STORE_PCT:--}% more; process total $B_PROC_PCT%)"
	rss_ok=$(awk -v v="${B_HWM:-0}" 'BEGIN {print (v > 0 && v < 100 * 1024) ? 1 : 0}')
	verdict "RSS < 100 MB" "$rss_ok" "VmHWM $((${B_HWM:-0} / 1024)) MB"
	delta=$(awk -v a="$A_WORKER" -v b="$B_WORKER" 'BEGIN {if (a + 0 == 0 || b == "-") print "-"; else printf "%+.1f", (b / a - 1) * 100}')
	dns_ok=$(awk -v d="$delta" 'BEGIN {print (d != "-" && d + 0 <= 5) ? 1 : 0}')
	verdict "DNS CPU/query within 5% of idle" "$dns_ok" "UDP thread $B_WORKER vs $A_WORKER us/query ($delta%)"
	say ""
	say "results written to ${RESULT_FILE#"$BENCH_ROOT"/}"
}

bench_header "bench-monitor: $ORIGINS origins probed every ${INTERVAL}s"
setup_netns
PORT=$(free_port)
phase_idle
phase_monitor
report
