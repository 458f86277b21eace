#!/usr/bin/env bash
# Health-monitoring cost: steerd with 10,000 origins in 1,000 pools probed over HTTP every
# 10 s (1,000 probes/s) against an origin farm (test/bench/origin_farm.c), compared with
# the same configuration without monitors. Two steerd instances run side by side, each with
# one UDP worker and both pinned on CPU 0: A (no monitors) and B (probing), on two ports;
# the farm and dnsperf run on CPU 1, and so does this script. Everything runs in a private
# network namespace (only lo), so the farm can bind 0.0.0.0 and still be reachable from
# loopback only; without namespaces (not root) the farm opens one socket per origin address
# instead.
#
# Sequence: A starts, then the farm and B; WARM_SECONDS of warm-up; a MONITOR_SECONDS window
# without DNS load (B's monitor thread CPU, RSS, probe rate and latency from the SQLite
# probes table); then ROUNDS rounds, each dnsperf at DNS_QPS for LOAD_SECONDS against A,
# then B, then (SOLO=1) A again with B's monitor and store threads moved to CPU 1 ("A0":
# nothing probing on CPU 0 while probing goes on).
#
# DNS cost per query = CPU time of the instance's UDP worker thread during the round
# (scheduler nanoseconds from /proc/PID/task/TID/schedstat, not 1/HZ ticks) / answered
# queries. The verdict compares B with A0, the idle figure: the median over rounds of the
# per-round ratio B/A0 (paired rounds cancel the drift of the machine). B vs A is reported
# too: B's probing runs on CPU 0 during A's rounds as well, so B vs A is only what probing
# changes inside steerd's answer path (snapshots, shared memory), while B vs A0 also holds
# the contention for CPU 0 itself: the monitor thread preempting the worker, sharing its
# caches and its CPU's wake-up path.
#
# Then (AFFINITY=1) a second phase with the monitor placed by steerd's own config: B stops
# and C starts, the same probing configuration plus "affinity": {"dns": [CPU 0], "monitor":
# [CPU 1]}, so its monitor and store threads run on CPU 1 from their start. ROUNDS rounds of
# A2 (A while C probes from CPU 1: nothing probing on CPU 0, the idle figure) and C.
#
# PASS/FAIL for: monitor thread <= 25% of one core, RSS < 100 MB, DNS CPU per query on the
# UDP thread with probing (B) within 5% of the idle figure (A0; A when SOLO=0), and the
# same for C (affinity.monitor) against A2.
#
# Environment (defaults in brackets):
#   ORIGINS [10000]  PER_POOL [10]  BALANCERS [1000]  INTERVAL [10] seconds
#   WARM_SECONDS [20]  MONITOR_SECONDS [60] probing window without DNS load
#   ROUNDS [5]  LOAD_SECONDS [10] per dnsperf run  DNS_QPS [20000]
#   SOLO [1] also run A0 in every round (0: only A and B)
#   AFFINITY [1] also run the second phase (C with affinity.monitor, against A2)
#   KEEP_TMP [0]
# Results: stdout and bench-results/monitor-<date>.txt. Default run time: about 6.5 minutes
# (4.5 with AFFINITY=0, 3.5 with SOLO=0 too).
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

ORIGINS=${ORIGINS:-10000}
PER_POOL=${PER_POOL:-10}
BALANCERS=${BALANCERS:-1000}
INTERVAL=${INTERVAL:-10}
WARM_SECONDS=${WARM_SECONDS:-20}
MONITOR_SECONDS=${MONITOR_SECONDS:-60}
ROUNDS=${ROUNDS:-5}
LOAD_SECONDS=${LOAD_SECONDS:-10}
DNS_QPS=${DNS_QPS:-20000}
SOLO=${SOLO:-1}
AFFINITY=${AFFINITY:-1}
PROBE_PORT=8080

bench_init monitor
ensure_pkgs dnsperf python3 bind9-dnsutils procps util-linux iproute2 sqlite3
ensure_steerd
[ -x "$FARM" ] || "$BENCH_ROOT/scripts/build.sh" normal >/dev/null
[ -x "$FARM" ] || die "no $FARM (built by scripts/build.sh from test/bench/origin_farm.c)"
# this script and its helpers (awk, sqlite3, dig...) stay off the server's CPU
taskset -pc "$CLIENT_CPU" $$ >/dev/null
DATA=$BENCH_TMP/rounds.txt
FOREIGN=
: >"$DATA"

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
	THREAD_NOTE="$THREAD_NOTE: main $T_MAIN, udp $T_UDP, tcp $T_TCP, store $T_STORE, monitor ${T_MON:-none}"
}

# all_thread_cpu PID: "tid:name cpu_ns" for every thread.
all_thread_cpu() {
	local tid
	for tid in $(threads "$1"); do
		echo "$tid:$(cat "/proc/$1/task/$tid/comm" 2>/dev/null) $(thread_cpu_ns "$1" "$tid")"
	done
}

# start_steerd NAME PORT: steerd on SERVER_CPU with $BENCH_TMP/NAME/steerd.json; sets SPID
# and the T_* thread ids.
start_steerd() {
	local name=$1 port=$2
	start_bg "$BENCH_TMP/steerd-$name.log" "${NETNS_EXEC[@]}" taskset -c "$SERVER_CPU" "$STEERD" \
		-c "$BENCH_TMP/$name/steerd.json"
	SPID=$BG_PID
	wait_dns "$port" 30 || die "steerd $name did not answer: $(tail -5 "$BENCH_TMP/steerd-$name.log")"
	sleep 1
	steerd_threads "$SPID"
}

# dns_round CONFIG ROUND: dnsperf at DNS_QPS for LOAD_SECONDS against CONFIG's instance
# (A and A0: A; B: B); appends to $DATA "config round qps lost avg_ms p99_ms answered udp_ns
# udp_runq_wait_ns udp_voluntary udp_nonvoluntary process_ns cpu0_busy_ns monitor_ns
# wall_ns": the UDP worker's schedstat and context switches, the instance's threads, CPU 0's
# busy time (wall minus idle), B's monitor thread.
dns_round() {
	local cfg=$1 r=$2 inst pid tid port s0 s1 p0 p1 m0 m1 cm busy wall o
	case "$cfg" in
	B) inst=B pid=$B_PID tid=$B_UDP port=$B_PORT ;;
	C) inst=C pid=$C_PID tid=$C_UDP port=$B_PORT ;;
	*) inst=A pid=$A_PID tid=$A_UDP port=$A_PORT ;;
	esac
	m0=$(thread_cpu_ns "$MON_PID" "$MON_TID")
	s0=$(thread_sched "$pid" "$tid")
	p0=$(proc_cpu_ns "$pid")
	cm=$(cpu_mark)
	dnsperf_run "$cfg-$r" -p "$port" -d "$BENCH_TMP/$inst/queries.txt" -l "$LOAD_SECONDS" \
		-Q "$DNS_QPS" -q 100
	read -r busy wall <<<"$(cpu_busy_since "$cm")"
	s1=$(thread_sched "$pid" "$tid")
	p1=$(proc_cpu_ns "$pid")
	m1=$(thread_cpu_ns "$MON_PID" "$MON_TID")
	o=$(others)
	[ "$o" = none ] || FOREIGN="${FOREIGN:+$FOREIGN, }$cfg-$r: $o"
	# shellcheck disable=SC2086 # s0 and s1 are four numbers each
	set -- $s0 $s1
	echo "$cfg $r $DP_QPS $DP_LOST $DP_AVG_MS ${DP_P99_MS:--} $DP_DONE $(($5 - $1)) $(($6 - $2)) $(($7 - $3)) $(($8 - $4)) $((p1 - p0)) $((busy * 1000)) $((m1 - m0)) $((wall * 1000))" >>"$DATA"
	note "round $r $cfg: qps=$DP_QPS lost=$DP_LOST udp=$(div $(($5 - $1)) "$DP_DONE" "%.0f")ns/q wakes=$(($7 - $3)) preempted=$(($8 - $4)) rcodes: $DP_RCODES"
}

# probe_stats T0_MS T1_MS: rate, success and RTT of the probes stored in the window.
probe_stats() {
	local db=${DB:-$BENCH_TMP/B/steerd.db} t0=$1 t1=$2 w
	w="time_ms BETWEEN $t0 AND $t1"
	# one statement for the counts: the store writer keeps adding rows of the window
	read -r P_N P_OK P_AVG P_MAX < <(sqlite3 -separator ' ' "$db" \
		"SELECT count(*), coalesce(sum(ok = 1), 0), printf('%.2f', avg(rtt_ms)), max(rtt_ms) FROM probes WHERE $w")
	P_RATE=$(div "$P_N" "$(((t1 - t0) / 1000))" "%.1f")
	P_P99=$(sqlite3 "$db" "SELECT rtt_ms FROM probes WHERE $w ORDER BY rtt_ms LIMIT 1 OFFSET (SELECT max(0, CAST(count(*) * 0.99 AS INTEGER) - 1) FROM probes WHERE $w)")
	P_REASONS=$(sqlite3 "$db" "SELECT coalesce(reason, '-') || ': ' || count(*) FROM probes WHERE ok = 0 AND $w GROUP BY reason ORDER BY count(*) DESC LIMIT 3" | tr '\n' ';')
	P_UP=$(sqlite3 "$db" "SELECT count(DISTINCT origin_id) FROM origin_transitions WHERE to_state = 'up'")
}

gen_configs() {
	A_PORT=$(free_port)
	B_PORT=$(free_port)
	while [ "$B_PORT" = "$A_PORT" ]; do
		B_PORT=$(free_port)
	done
	python3 "$BENCH_ROOT/test/bench/gen_big.py" "$BENCH_TMP/A" "$A_PORT" --origins "$ORIGINS" \
		--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor none
	python3 "$BENCH_ROOT/test/bench/gen_big.py" "$BENCH_TMP/B" "$B_PORT" --origins "$ORIGINS" \
		--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor http --interval "$INTERVAL" \
		--probe-port "$PROBE_PORT"
	python3 "$BENCH_ROOT/test/bench/gen_big.py" "$BENCH_TMP/C" "$B_PORT" --origins "$ORIGINS" \
		--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor http --interval "$INTERVAL" \
		--probe-port "$PROBE_PORT" --affinity "$SERVER_CPU:$CLIENT_CPU"
}

start_a() {
	start_steerd A "$A_PORT"
	A_PID=$SPID A_UDP=$T_UDP A_THREADS=$THREAD_NOTE
	A_RSS=$(mem_kb "$A_PID" VmRSS)
}

start_b() {
	start_bg "$BENCH_TMP/farm.log" "${NETNS_EXEC[@]}" taskset -c "$CLIENT_CPU" "$FARM" "${FARM_ARGS[@]}"
	FPID=$BG_PID
	for _ in $(seq 1 100); do
		grep -q listening "$BENCH_TMP/farm.log" && break
		sleep 0.1
	done
	grep -q listening "$BENCH_TMP/farm.log" || die "origin farm: $(cat "$BENCH_TMP/farm.log")"
	start_steerd B "$B_PORT"
	B_PID=$SPID B_UDP=$T_UDP B_MON=$T_MON B_STORE=$T_STORE B_THREADS=$THREAD_NOTE
	MON_PID=$B_PID MON_TID=$B_MON
}

# start_c: the probing configuration with affinity, on B's port (B has stopped); C's
# monitor and store threads place themselves on CLIENT_CPU (the process starts on
# SERVER_CPU like the others).
start_c() {
	start_steerd C "$B_PORT"
	C_PID=$SPID C_UDP=$T_UDP C_MON=$T_MON C_THREADS=$THREAD_NOTE
	MON_PID=$C_PID MON_TID=$C_MON
	C_PLACED="udp $(cpus_of "$C_PID" "$C_UDP"), tcp $(cpus_of "$C_PID" "$T_TCP"), monitor $(cpus_of "$C_PID" "$C_MON"), store $(cpus_of "$C_PID" "$T_STORE")"
}

# cpus_of PID TID: the CPUs the kernel lets the thread run on.
cpus_of() {
	awk '$1 == "Cpus_allowed_list:" {print $2}' "/proc/$1/task/$2/status" 2>/dev/null || echo "?"
}

# probing_cpu CPU: move B's monitor and store writer threads to CPU (its other threads,
# idle, stay where they are).
probing_cpu() {
	local tid
	for tid in $B_MON $B_STORE; do
		taskset -pc "$1" "$tid" >/dev/null
	done
}

# The probing window: B's threads and process, A's process, both RSS, no DNS load.
monitor_window() {
	local before after pa0 pa1 pb0 pb1 t0 t1 r win_ns ms0 ms1
	before=$(all_thread_cpu "$B_PID")
	ms0=$(thread_sched "$B_PID" "$B_MON")
	pa0=$(proc_cpu_ns "$A_PID")
	pb0=$(proc_cpu_ns "$B_PID")
	t0=$(date +%s%3N)
	B_RSS=0
	for _ in $(seq 1 $((MONITOR_SECONDS / 5))); do
		sleep 5
		r=$(mem_kb "$B_PID" VmRSS)
		[ "${r:-0}" -gt "$B_RSS" ] && B_RSS=$r
	done
	sleep $((MONITOR_SECONDS % 5))
	t1=$(date +%s%3N)
	after=$(all_thread_cpu "$B_PID")
	ms1=$(thread_sched "$B_PID" "$B_MON")
	pa1=$(proc_cpu_ns "$A_PID")
	pb1=$(proc_cpu_ns "$B_PID")
	win_ns=$(((t1 - t0) * 1000000))
	B_PROC_PCT=$(div $(((pb1 - pb0) * 100)) "$win_ns" "%.2f")
	A_IDLE_PCT=$(div $(((pa1 - pa0) * 100)) "$win_ns" "%.2f")
	B_THREADS_PCT=$(join <(echo "$before" | sort) <(echo "$after" | sort) |
		awk -v w="$win_ns" '{printf "%s %.2f\n", $1, ($3 - $2) * 100 / w}' | sort -n)
	B_MON_PCT=$(echo "$B_THREADS_PCT" | awk -v t="$B_MON" 'index($1, t ":") == 1 {print $2}')
	B_STORE_PCT=$(echo "$B_THREADS_PCT" | awk -v t="$B_STORE" 'index($1, t ":") == 1 {print $2}')
	# shellcheck disable=SC2086 # four numbers each
	set -- $ms0 $ms1
	B_MON_WAKES=$(div $((($7 - $3) * 1000)) $((t1 - t0)) "%.0f")
	probe_stats "$t0" "$t1"
	W_N=$P_N W_RATE=$P_RATE W_OK=$P_OK W_AVG=$P_AVG W_P99=$P_P99 W_MAX=$P_MAX W_REASONS=$P_REASONS
}

# per_query: $DATA as "config round qps lost avg_ms p99_ms udp_ns/q q/wake preempt
# wait_ns/q proc_ns/q cpu0_ns/q monitor_%", one line per round. Per answered query: the UDP
# worker's CPU (the verdict's figure) and runqueue wait, the instance's CPU, CPU 0's busy
# time; q/wake = answered queries per voluntary context switch of the worker (its wake-ups,
# roughly its batch size); monitor_% = B's monitor thread in the round, % of one core.
per_query() {
	awk '{
		d = $7 > 0 ? $7 : 1
		printf "%s %s %s %s %s %s %.1f %s %s %.0f %.0f %.0f %s\n", $1, $2, $3, $4, $5, $6, $8 / d,
			($10 > 0 ? sprintf("%.2f", $7 / $10) : "-"), $11, $9 / d, $12 / d, $13 / d,
			($14 > 0 ? sprintf("%.1f", $14 * 100 / $15) : "-")
	}' "$DATA"
}

# table CONFIG...: the rounds of those configs, then one row of medians per config.
table() {
	per_query | awk -v want="$*" '
		function row(a, b, c, d, e, f, g, h, i, j, k, l, m) {
			printf "  %-5s %-8s %6s %4s %6s %6s %8s %6s %7s %9s %9s %9s %5s\n", a, b, c, d, e, f, g, h, i, j, k, l, m
		}
		function med(c, k,    n, i, j, t, v) {
			n = 0
			for (i = 1; i <= cnt[c]; i++)
				if (val[c, i, k] != "-") v[++n] = val[c, i, k] + 0
			if (n == 0) return "-"
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}
		function fmt(f, x) { return x == "-" ? "-" : sprintf(f, x) }
		BEGIN {
			row("round", "config", "qps", "lost", "avg ms", "p99 ms", "udp ns/q", "q/wake", "preempt",
				"wait ns/q", "proc ns/q", "cpu0 ns/q", "mon %")
			nc = split(want, cfgs, " ")
		}
		{
			for (i = 1; i <= nc; i++) if ($1 == cfgs[i]) break
			if (i > nc) next
			cnt[$1]++
			for (k = 3; k <= 13; k++) val[$1, cnt[$1], k] = $k
			row($2, $1, $3, $4, $5, $6, sprintf("%.0f", $7), $8, $9, $10, $11, $12, $13)
		}
		END {
			for (i = 1; i <= nc; i++) {
				c = cfgs[i]
				if (!cnt[c]) continue
				row("med", c, fmt("%.0f", med(c, 3)), med(c, 4), fmt("%.3f", med(c, 5)),
					fmt("%.3f", med(c, 6)), fmt("%.0f", med(c, 7)), fmt("%.2f", med(c, 8)),
					fmt("%.0f", med(c, 9)), fmt("%.0f", med(c, 10)), fmt("%.0f", med(c, 11)),
					fmt("%.0f", med(c, 12)), fmt("%.1f", med(c, 13)))
			}
		}'
}

# udp_ns CONFIG: the UDP worker's ns per answered query, one line per round of CONFIG.
udp_ns() {
	per_query | awk -v c="$1" '$1 == c {print $7}'
}

# smedian: the median of signed numbers on stdin ("-" when none).
smedian() {
	sort -g | awk '/^[-+]?[0-9.]+$/ {v[++n] = $1} END {if (n == 0) print "-"; else if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2}'
}

# spread CONFIG: (max - min) / median of udp_ns over the config's rounds, in %.
spread() {
	udp_ns "$1" | sort -g | awk '{v[++n] = $1} END {if (n == 0) {print "-"; exit}
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%.1f", (v[n] - v[1]) * 100 / m}'
}

# solo WITH WITHOUT: WITH when the A0 rounds run, else WITHOUT.
solo() {
	if [ "$SOLO" = 1 ]; then echo "$1"; else echo "$2"; fi
}

pct() {
	awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%+.1f\n", (b / a - 1) * 100}'
}

report() {
	local mon_ok rss_ok dns_ok a b a0 delta paired pairs judged
	say ""
	say "setup: $ORIGINS origins in $((ORIGINS / PER_POOL)) pools, $BALANCERS balancers; HTTP GET /healthz every ${INTERVAL}s (expected $((ORIGINS / INTERVAL)) probes/s)"
	say "isolation: $ISOLATION"
	say "other server, dnsperf or build processes after each DNS round: ${FOREIGN:-none}"
	say "instances, both on CPU $SERVER_CPU: A no monitors (port $A_PORT; $A_THREADS)"
	say "                         B probing    (port $B_PORT; $B_THREADS)"
	say ""
	say "Probing (B, ${MONITOR_SECONDS}s window after ${WARM_SECONDS}s warm-up, no DNS load):"
	say "  steerd process CPU:   $B_PROC_PCT% of one core (A, no monitors, same window: $A_IDLE_PCT%)"
	say "  monitor thread CPU:   ${B_MON_PCT:--}% of one core; store writer thread: ${B_STORE_PCT:--}%"
	say "  monitor wake-ups:     $B_MON_WAKES/s (voluntary context switches of its thread)"
	say "  per thread (tid:name %): $(echo "$B_THREADS_PCT" | tr '\n' ' ')"
	say "  probes stored:        $W_N in the window = $W_RATE probes/s; ok $W_OK; failures: ${W_REASONS:-none}"
	say "  probe rtt (ms):       avg $W_AVG, p99 $W_P99, max $W_MAX (integer ms from the probes table)"
	say "  during the DNS rounds: $D_N probes = $D_RATE probes/s; ok $D_OK; rtt avg $D_AVG, p99 $D_P99, max $D_MAX ms"
	say "  origins seen up:      $P_UP of $ORIGINS; farm: $B_FARM"
	say "  RSS:                  B max $((B_RSS / 1024)) MB during probing, $((${B_RSS_END:-0} / 1024)) MB at end, VmHWM $((${B_HWM:-0} / 1024)) MB (A: RSS $((${A_RSS:-0} / 1024)) MB, VmHWM $((${A_HWM:-0} / 1024)) MB)"
	say ""
	say "DNS at $DNS_QPS qps for ${LOAD_SECONDS}s (balancer names), $ROUNDS rounds of $(solo "A B A0" "A B"); per answered query:"
	say "$(table A B A0)"
	say "  udp = CPU time of the instance's UDP worker (schedstat ns; without IRQ time accounting"
	say "  it includes the interrupts and softirqs that hit it); wait = its runqueue wait;"
	say "  q/wake = answered queries per voluntary context switch of the worker (per wake-up);"
	say "  preempt = its involuntary context switches in the round; proc = all the instance's"
	say "  threads (B: with the monitor's work); cpu0 = CPU $SERVER_CPU busy time (wall - idle from"
	say "  /proc/stat: both instances, B's monitor, softirq, anything else); mon = B's monitor thread."
	a=$(udp_ns A | smedian)
	b=$(udp_ns B | smedian)
	delta=$(pct "$a" "$b")
	pairs=$(paste <(udp_ns A) <(udp_ns B) | awk '{printf "%+.1f\n", ($2 / $1 - 1) * 100}')
	paired=$(echo "$pairs" | smedian | awk '{printf "%+.1f", $1}')
	say "  udp ns/q, B vs A per round: $(echo "$pairs" | tr '\n' ' ')(median $paired%); spread (max-min)/median: A $(spread A)%, B $(spread B)%"
	judged="B vs A (SOLO=0: no idle run; this leaves out the contention for CPU $SERVER_CPU)"
	if [ "$SOLO" = 1 ]; then
		a0=$(udp_ns A0 | smedian)
		pairs=$(paste <(udp_ns A0) <(udp_ns B) | awk '{printf "%+.1f\n", ($2 / $1 - 1) * 100}')
		paired=$(echo "$pairs" | smedian | awk '{printf "%+.1f", $1}')
		say "  udp ns/q, B vs A0 per round: $(echo "$pairs" | tr '\n' ' ')(median $paired%); medians: B vs A0 $(pct "$a0" "$b")%, A vs A0 $(pct "$a0" "$a")%; spread A0 $(spread A0)%"
		say "  (A0 = A with B's monitor and store threads on CPU $CLIENT_CPU: nothing probing on CPU $SERVER_CPU, the"
		say "  idle figure; B vs A0 includes the contention for CPU $SERVER_CPU, B vs A does not)"
		delta=$(pct "$a0" "$b")
		a=$a0
		judged="B vs A0, median of the per-round ratios"
	fi
	if [ "$AFFINITY" = 1 ]; then
		say ""
		say "Phase 2: C = B's probing configuration with \"affinity\": {\"dns\": [$SERVER_CPU], \"monitor\": [$CLIENT_CPU]}"
		say "(port $B_PORT; $C_THREADS); CPUs as the kernel reports them: $C_PLACED."
		say "A2 = A while C probes from CPU $CLIENT_CPU (nothing probing on CPU $SERVER_CPU: the idle figure)."
		say "  probes stored during phase 2: $E_N = $E_RATE probes/s; ok $E_OK; rtt avg $E_AVG, p99 $E_P99, max $E_MAX ms"
		say "$(table A2 C)"
		pairs=$(paste <(udp_ns A2) <(udp_ns C) | awk '{printf "%+.1f\n", ($2 / $1 - 1) * 100}')
		say "  udp ns/q, C vs A2 per round: $(echo "$pairs" | tr '\n' ' ')(median $(echo "$pairs" | smedian | awk '{printf "%+.1f", $1}')%); spread A2 $(spread A2)%, C $(spread C)%"
	fi
	say ""
	mon_ok=$(awk -v v="${B_MON_PCT:-999}" 'BEGIN {print (v <= 25) ? 1 : 0}')
	verdict "monitor thread <= 25% of one core" "$mon_ok" "${B_MON_PCT:--}% (store writer ${B_STORE_PCT:--}% more; process total $B_PROC_PCT%)"
	rss_ok=$(awk -v v="${B_HWM:-0}" 'BEGIN {print (v > 0 && v < 100 * 1024) ? 1 : 0}')
	verdict "RSS < 100 MB" "$rss_ok" "VmHWM $((${B_HWM:-0} / 1024)) MB"
	dns_ok=$(awk -v d="$paired" 'BEGIN {print (d != "-" && d + 0 <= 5) ? 1 : 0}')
	verdict "DNS CPU/query within 5% of idle" "$dns_ok" "UDP thread, $judged: $paired% (medians of $ROUNDS rounds: B $(printf '%.0f' "$b") vs $(printf '%.0f' "$a") ns/query, $delta%)"
	[ "$AFFINITY" = 1 ] || return 0
	a=$(udp_ns A2 | smedian)
	b=$(udp_ns C | smedian)
	pairs=$(paste <(udp_ns A2) <(udp_ns C) | awk '{printf "%+.1f\n", ($2 / $1 - 1) * 100}')
	paired=$(echo "$pairs" | smedian | awk '{printf "%+.1f", $1}')
	dns_ok=$(awk -v d="$paired" 'BEGIN {print (d != "-" && d + 0 <= 5) ? 1 : 0}')
	verdict "DNS CPU/query within 5% of idle, affinity.monitor" "$dns_ok" "UDP thread, C vs A2, median of the per-round ratios: $paired% (medians of $ROUNDS rounds: C $(printf '%.0f' "$b") vs $(printf '%.0f' "$a") ns/query, $(pct "$a" "$b")%)"
	say ""
	say "results written to ${RESULT_FILE#"$BENCH_ROOT"/}"
}

# other_load: CPU 0 busy time over 2 s and the benchmark-like processes that are not ours.
other_load() {
	say "others:   CPU $SERVER_CPU $(cpu_busy_pct 2)% busy before start; other server, dnsperf or build processes: $(others)"
}

# others: the pids of server, dnsperf or build processes that are not this run's ("none").
others() {
	local p out=
	for p in $(ps -eo pid=,comm= | awk '$2 ~ /^(dnsperf|steerd|gdnsd|nsd|steer-origin-fa|valgrind|cc1|make|cmake|ctest)$/ {print $1}'); do
		case " $(tree_pids "${BENCH_PIDS[@]}" | tr '\n' ' ') " in
		*" $p "*) ;;
		*) out="$out$p:$(cat "/proc/$p/comm" 2>/dev/null) " ;;
		esac
	done
	echo "${out:-none}"
}

bench_header "bench-monitor: $ORIGINS origins probed every ${INTERVAL}s"
other_load
setup_netns
gen_configs
note "A (no monitors) on port $A_PORT; B: $ORIGINS origins probed every ${INTERVAL}s on port $B_PORT"
start_a
start_b
note "${WARM_SECONDS}s warm-up, ${MONITOR_SECONDS}s probing window"
sleep "$WARM_SECONDS"
monitor_window
note "$ROUNDS rounds of ${LOAD_SECONDS}s DNS at $DNS_QPS qps: $(solo "A B A0" "A B")"
D_T0=$(date +%s%3N)
for r in $(seq 1 "$ROUNDS"); do
	dns_round A "$r"
	dns_round B "$r"
	if [ "$SOLO" = 1 ]; then
		probing_cpu "$CLIENT_CPU"
		dns_round A0 "$r"
		probing_cpu "$SERVER_CPU"
	fi
done
D_T1=$(date +%s%3N)
probe_stats "$D_T0" "$D_T1"
D_N=$P_N D_RATE=$P_RATE D_OK=$P_OK D_AVG=$P_AVG D_P99=$P_P99 D_MAX=$P_MAX
B_HWM=$(mem_kb "$B_PID" VmHWM)
B_RSS_END=$(mem_kb "$B_PID" VmRSS)
A_HWM=$(mem_kb "$A_PID" VmHWM)
stop_pid "$B_PID"
if [ "$AFFINITY" = 1 ]; then
	note "phase 2: C (affinity.monitor on CPU $CLIENT_CPU), ${WARM_SECONDS}s warm-up, $ROUNDS rounds of A2 C"
	start_c
	sleep "$WARM_SECONDS"
	E_T0=$(date +%s%3N)
	for r in $(seq 1 "$ROUNDS"); do
		dns_round A2 "$r"
		dns_round C "$r"
	done
	E_T1=$(date +%s%3N)
	DB=$BENCH_TMP/C/steerd.db probe_stats "$E_T0" "$E_T1"
	E_N=$P_N E_RATE=$P_RATE E_OK=$P_OK E_AVG=$P_AVG E_P99=$P_P99 E_MAX=$P_MAX
	stop_pid "$C_PID"
fi
stop_pid "$FPID"
stop_pid "$A_PID"
B_FARM=$(grep requests "$BENCH_TMP/farm.log" || echo "no counters")
report
