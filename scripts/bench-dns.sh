#!/usr/bin/env bash
# DNS answer throughput and cost: steerd vs gdnsd 3 vs NSD 4 serving the same zone on
# loopback (test/bench/gen_dns.py), each pinned alone on CPU 0 with one UDP thread, dnsperf
# pinned on CPU 1. Rounds alternate the servers (A B C A B C ...) for each variant: UDP,
# UDP with EDNS, UDP on static names only (the comparison with NSD), TCP over 50
# connections. Then instructions per query under callgrind. steerd-nowait is steerd with
# udp.batch_wait_us 0: it shows what batch pacing (lib/server/server.c) changes.
#
# Environment (defaults in brackets):
#   ROUNDS [5]  DURATION [5] seconds per run (SECONDS=N in the environment works too)
#   VARIANTS ["udp udp-edns udp-static tcp"]  SERVERS ["steerd steerd-nowait gdnsd nsd"]
#   CALLGRIND [1]  CG_QUERIES [20000] measured queries  CG_QPS [2000] their rate
#   KEEP_TMP [0]  keep the temp dir (configs, logs, callgrind files)
# Results: stdout and bench-results/dns-<date>.txt. Default run time: about 9 minutes.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-$(printenv SECONDS || echo 5)}
VARIANTS=${VARIANTS:-udp udp-edns udp-static tcp}
SERVERS=${SERVERS:-steerd steerd-nowait gdnsd nsd}
CALLGRIND=${CALLGRIND:-1}
CG_QUERIES=${CG_QUERIES:-20000}
CG_QPS=${CG_QPS:-2000}
CG_BASE=1000 # queries of the short callgrind run subtracted from the long one

declare -A PORT PID
DATA= # one line per run: server variant round qps avg p99 lost cpu_us_q proc_us_q cpu0_pct batch

bench_init dns
ensure_pkgs dnsperf gdnsd nsd valgrind python3 bind9-dnsutils procps util-linux
stop_system_service nsd
stop_system_service gdnsd
ensure_steerd
DATA=$BENCH_TMP/runs.txt
: >"$DATA"

# server_cmd NAME DIR: the foreground command line of one server.
server_cmd() {
	case "$1" in
	steerd) echo "$STEERD -c $2/steerd/steerd.json" ;;
	steerd-nowait) echo "$STEERD -c $2/steerd-nowait/steerd.json" ;;
	gdnsd) echo "gdnsd -c $2/gdnsd start" ;;
	nsd) echo "nsd -d -c $2/nsd/nsd.conf" ;;
	esac
}

start_servers() {
	local s
	for s in $SERVERS; do
		# shellcheck disable=SC2046
		start_bg "$BENCH_TMP/$s.log" taskset -c "$SERVER_CPU" $(server_cmd "$s" "$BENCH_TMP/cfg")
		PID[$s]=$BG_PID
	done
	for s in $SERVERS; do
		wait_dns "${PORT[$s]}" 20 || die "$s did not answer on port ${PORT[$s]}: $(tail -5 "$BENCH_TMP/$s.log")"
	done
}

# check_answers: every server gives the same kind of answer before anything is measured.
check_answers() {
	local s q out
	for s in $SERVERS; do
		for q in "api.lb.example.test A" "api.lb.example.test AAAA" "s7.lb.example.test A" \
			"lb.example.test TXT"; do
			# shellcheck disable=SC2086
			out=$(dig +norec +tries=1 +time=2 -p "${PORT[$s]}" @127.0.0.1 $q)
			if ! echo "$out" | grep -q 'status: NOERROR' || ! echo "$out" | grep -qE 'ANSWER: [1-9]'; then
				die "$s: unexpected answer to $q: $out"
			fi
		done
		dig +norec +tries=1 +time=2 -p "${PORT[$s]}" @127.0.0.1 nx1.lb.example.test A |
			grep -q 'status: NXDOMAIN' || die "$s: no NXDOMAIN for nx1"
	done
}

variant_args() {
	case "$1" in
	udp) echo "-m udp" ;;
	udp-edns) echo "-m udp -e" ;;
	udp-static) echo "-m udp" ;;
	tcp) echo "-m tcp -c 50" ;;
	*) die "unknown variant $1" ;;
	esac
}

queries_file() {
	case "$1" in
	udp-static) echo "$BENCH_TMP/cfg/queries-static.txt" ;;
	*) echo "$BENCH_TMP/cfg/queries.txt" ;;
	esac
}

# udp_counters SERVER: "queries batches" of a steerd's UDP workers, from the counters it
# logs on SIGUSR1 (waits at most 5 s for the line); "- -" for the other servers.
udp_counters() {
	local s=$1 log=$BENCH_TMP/$1.log n
	case "$s" in
	steerd*) ;;
	*)
		echo "- -"
		return
		;;
	esac
	n=$(grep -c ' stats: ' "$log" || true)
	kill -USR1 "${PID[$s]}"
	for _ in $(seq 1 50); do
		[ "$(grep -c ' stats: ' "$log" || true)" -gt "$n" ] && break
		sleep 0.1
	done
	grep ' stats: ' "$log" | tail -1 | sed -E 's/.*udp queries=([0-9]+) .* batches=([0-9]+) .*/\1 \2/'
}

# one_run SERVER VARIANT ROUND: dnsperf for DURATION s, CPU 0 and server CPU deltas, and
# for steerd the UDP batch size (queries per recvmmsg).
one_run() {
	local s=$1 v=$2 r=$3 pids m p0 p1 q0 b0 q1 b1 busy wall batch=-
	pids=$(tree_pids "${PID[$s]}")
	read -r q0 b0 <<<"$(udp_counters "$s")"
	m=$(cpu_mark)
	# shellcheck disable=SC2086
	p0=$(proc_cpu_us $pids)
	# shellcheck disable=SC2046
	dnsperf_run "$s-$v-$r" -p "${PORT[$s]}" -d "$(queries_file "$v")" -l "$DURATION" \
		-q 100 $(variant_args "$v")
	read -r busy wall <<<"$(cpu_busy_since "$m")"
	# shellcheck disable=SC2086
	p1=$(proc_cpu_us $pids)
	read -r q1 b1 <<<"$(udp_counters "$s")"
	if [ "$q0" != - ] && [ "$v" != tcp ] && [ "$b1" -gt "$b0" ]; then
		batch=$(div $((q1 - q0)) $((b1 - b0)))
	fi
	echo "$s $v $r $DP_QPS $DP_AVG_MS $DP_P99_MS $DP_LOST $(div "$busy" "$DP_DONE") $(div $((p1 - p0)) "$DP_DONE") $(div $((busy * 100)) "$wall" "%.0f") $batch" >>"$DATA"
	note "round $r $v $s: qps=$DP_QPS avg=${DP_AVG_MS}ms p99=${DP_P99_MS}ms lost=$DP_LOST rcodes: $DP_RCODES"
}

# cg_run SERVER QUERIES: the server under callgrind (one output file per process and
# thread), a warm-up of 500 queries, QUERIES queries at CG_QPS, then a clean stop.
# Sets CG_IR (all processes and threads) and CG_DONE (answered, warm-up included).
cg_run() {
	local s=$1 n=$2 dir=$BENCH_TMP/cg-$1-$2 qf pid
	mkdir -p "$dir"
	qf=$dir/queries.txt
	: >"$qf"
	while [ "$(wc -l <"$qf")" -lt "$n" ]; do
		cat "$BENCH_TMP/cfg/queries.txt" >>"$qf"
	done
	head -n "$n" "$qf" >"$qf.n"
	# shellcheck disable=SC2046
	start_bg "$dir/valgrind.log" taskset -c "$SERVER_CPU" valgrind --tool=callgrind \
		--separate-threads=yes --callgrind-out-file="$dir/cg.%p.out" $(server_cmd "$s" "$BENCH_TMP/cfg")
	pid=$BG_PID
	wait_dns "${PORT[$s]}" 60 || die "$s under valgrind did not answer: $(tail -5 "$dir/valgrind.log")"
	head -n 500 "$BENCH_TMP/cfg/queries.txt" >"$dir/warm.txt"
	dnsperf_run "cg-$s-$n-warm" -p "${PORT[$s]}" -d "$dir/warm.txt" -n 1 -q 10 -Q 500 -t 10
	local warm=$DP_DONE
	dnsperf_run "cg-$s-$n" -p "${PORT[$s]}" -d "$qf.n" -n 1 -q 20 -Q "$CG_QPS" -t 10
	CG_DONE=$((DP_DONE + warm))
	CG_LOST=$DP_LOST
	stop_pid "$pid" 60 # valgrind writes its files on exit
	CG_IR=$(cat "$dir"/cg.*.out* 2>/dev/null | awk '/^totals:/ {s += $2} END {printf "%.0f", s}')
	CG_DIR=$dir
}

# callgrind_all: instructions per answered query = difference of a long and a short run.
callgrind_all() {
	local s ir1 d1 top
	stop_servers
	for s in $SERVERS; do
		[ "$s" = steerd-nowait ] && continue # same code; pacing never starts at CG_QPS
		note "callgrind: $s, $CG_BASE then $((CG_BASE + CG_QUERIES)) queries at $CG_QPS qps"
		cg_run "$s" "$CG_BASE"
		ir1=$CG_IR d1=$CG_DONE
		cg_run "$s" $((CG_BASE + CG_QUERIES))
		if [ "$CG_IR" -gt 0 ] && [ "$ir1" -gt 0 ] && [ $((CG_DONE - d1)) -gt 0 ]; then
			IRQ[$s]=$(div $((CG_IR - ir1)) $((CG_DONE - d1)) "%.0f")
		else
			IRQ[$s]="-"
			note "$s: no callgrind count (valgrind log: $(tail -3 "$CG_DIR/valgrind.log"))"
		fi
		IRNOTE[$s]="Ir $ir1 -> $CG_IR for $d1 -> $CG_DONE answers, lost $CG_LOST"
		if [ "$s" = steerd ]; then
			# the UDP worker's own file: the query path without start-up
			top=$(grep -l 'udp_main' "$CG_DIR"/cg.*.out-* 2>/dev/null | head -1)
			STEERD_CG=$top
			if [ -n "$top" ]; then
				cp "$top" "$BENCH_ROOT/bench-results/callgrind-steerd-udp-$(date +%Y%m%d-%H%M%S).out"
			fi
		fi
	done
}

stop_servers() {
	local s
	for s in $SERVERS; do
		if [ -n "${PID[$s]:-}" ]; then
			stop_pid "${PID[$s]}"
		fi
		PID[$s]=
	done
}

# paired OTHER VARIANT COLUMN: median over rounds of steerd's value / OTHER's, same round.
paired() {
	# shellcheck disable=SC2046
	median $(awk -v o="$1" -v v="$2" -v c="$3" '$2 == v && $1 == "steerd" {s[$3] = $c}
		$2 == v && $1 == o {x[$3] = $c}
		END {for (r in s) if ((r in x) && x[r] + 0 > 0) printf "%.3f\n", s[r] / x[r]}' "$DATA")
}

report() {
	local s v qps avg p99 lost cpu proc irq busy batch
	say ""
	say "Each run: dnsperf -q 100 for ${DURATION}s, query mix 60% api A / 5% api AAAA / 20% static A / 10% NXDOMAIN / 5% TXT;"
	say "udp-static: static A names only (plain RRsets in every server)."
	say "cpu0 us/q = CPU $SERVER_CPU busy time (wall time - idle time of /proc/stat: everything that ran there) / answered queries;"
	say "proc us/q = server CPU time (/proc/PID/task/*/schedstat, all its processes and threads) / answered queries;"
	say "cpu0 % = how busy CPU $SERVER_CPU was: near 100 = the server is the bottleneck, below = dnsperf is;"
	say "q/recv = queries per recvmmsg call (steerd's counters; batch pacing raises it);"
	say "Ir/q = callgrind instructions per answered query (user space only; UDP, no EDNS)."
	say "Medians over $ROUNDS rounds; lost = sum over rounds."
	say ""
	say "$(printf '%-13s %-10s %8s %7s %7s %6s %6s %9s %9s %6s %6s' server variant qps 'avg ms' 'p99 ms' lost 'cpu0 %' 'cpu0 us/q' 'proc us/q' q/recv 'Ir/q')"
	# col N: column N of every run of server $s, variant $v
	col() { awk -v s="$s" -v v="$v" -v c="$1" '$1 == s && $2 == v {print $c}' "$DATA"; }
	for v in $VARIANTS; do
		for s in $SERVERS; do
			# shellcheck disable=SC2046
			qps=$(median $(col 4))
			# shellcheck disable=SC2046
			avg=$(median $(col 5))
			# shellcheck disable=SC2046
			p99=$(median $(col 6))
			lost=$(col 7 | awk '{s += $1} END {print s + 0}')
			# shellcheck disable=SC2046
			cpu=$(median $(col 8))
			# shellcheck disable=SC2046
			proc=$(median $(col 9))
			# shellcheck disable=SC2046
			busy=$(median $(col 10))
			batch=-
			# shellcheck disable=SC2046
			[ "$(col 11 | head -1)" != - ] && batch=$(median $(col 11))
			irq="-"
			[ "$v" = udp ] && irq=${IRQ[$s]:--}
			MED_CPU[$s-$v]=$cpu
			MED_PROC[$s-$v]=$proc
			say "$(printf '%-13s %-10s %8s %7s %7s %6s %6s %9s %9s %6s %6s' "$s" "$v" "$qps" "$avg" "$p99" "$lost" "$busy" "$cpu" "$proc" "$batch" "$irq")"
		done
	done
	say ""
	say "CPU per query, steerd relative to the others (< 1 = steerd cheaper): ratio of the medians,"
	say "and [in brackets] the median of the per-round ratios (each round runs the servers back to"
	say "back, so the paired ratio is the one least moved by drift of the machine over the run):"
	for v in $VARIANTS; do
		local line
		line="  $(printf '%-10s' "$v")"
		for s in $SERVERS; do
			[ "$s" = steerd ] && continue
			line="$line steerd/$s: cpu0 $(div "${MED_CPU[steerd-$v]:-0}" "${MED_CPU[$s-$v]:-0}") [$(paired "$s" "$v" 8)] proc $(div "${MED_PROC[steerd-$v]:-0}" "${MED_PROC[$s-$v]:-0}") [$(paired "$s" "$v" 9)]   "
		done
		say "$line"
	done
	say "p99 latency, steerd relative to gdnsd, median of the per-round ratios:$(for v in $VARIANTS; do printf ' %s %s' "$v" "$(paired gdnsd "$v" 6)"; done)"
	if [ "$CALLGRIND" = 1 ]; then
		say ""
		say "Instructions per query (callgrind, ($((CG_BASE + CG_QUERIES)) - $CG_BASE queries) at $CG_QPS qps, difference of two runs):"
		for s in $SERVERS; do
			say "  $(printf '%-13s' "$s") ${IRQ[$s]:--} Ir/query   (${IRNOTE[$s]:-})"
		done
		if [ "${IRQ[steerd]:--}" != - ]; then
			for s in $SERVERS; do
				[ "$s" = steerd ] || [ "${IRQ[$s]:--}" = - ] && continue
				say "  steerd/$s: $(div "${IRQ[steerd]}" "${IRQ[$s]}")"
			done
		fi
		if [ -n "${STEERD_CG:-}" ]; then
			say ""
			say "steerd UDP worker thread, top 10 functions by self Ir (callgrind_annotate --inclusive=no):"
			# into a file first: an early exit of a reader in a pipeline would end this
			# script (SIGPIPE under pipefail) before the summary lines
			callgrind_annotate --inclusive=no --threshold=100 "$STEERD_CG" \
				>"$BENCH_TMP/cg-annotate.txt" 2>/dev/null || true
			awk '/file:function/ {on = 1; getline; next}
				on && NF {print "  " $0; if (++n == 10) exit} on && !NF {exit}' \
				"$BENCH_TMP/cg-annotate.txt" | tee -a "$RESULT_FILE"
			say "  (full profile: bench-results/callgrind-steerd-udp-*.out)"
		fi
	fi
	say ""
	say "results written to ${RESULT_FILE#"$BENCH_ROOT"/}"
}

declare -A IRQ IRNOTE MED_CPU MED_PROC
bench_header "bench-dns: steerd vs gdnsd vs nsd, same zone on loopback"
for s in $SERVERS; do
	PORT[$s]=$(free_port)
done
python3 "$BENCH_ROOT/test/bench/gen_dns.py" "$BENCH_TMP/cfg" "${PORT[steerd]:-0}" \
	"${PORT[gdnsd]:-0}" "${PORT[nsd]:-0}" "${PORT[steerd-nowait]:-0}" 10000
start_servers
check_answers
say "CPU $SERVER_CPU busy without our load: $(cpu_busy_pct 2)% (others on the machine)"
for r in $(seq 1 "$ROUNDS"); do
	for v in $VARIANTS; do
		for s in $SERVERS; do
			one_run "$s" "$v" "$r"
		done
	done
done
say ""
say "All runs (server variant round qps avg_ms p99_ms lost cpu0_us/q proc_us/q cpu0_% q/recv):"
sed 's/^/  /' "$DATA" | tee -a "$RESULT_FILE"
if [ "$CALLGRIND" = 1 ]; then
	callgrind_all
fi
stop_servers
report
