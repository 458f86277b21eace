#!/usr/bin/env bash
# Large configurations: validation time and memory of 10,000 origins / 1,000 balancers
# (steerd --check-config under /usr/bin/time -v), of one pool of BIG_ORIGINS origins (and
# of a quarter and half of it, to show the load is linear), then SIGHUP reloads under DNS
# load:
# steerd (CPU 0, one UDP worker) answers dnsperf (CPU 1) for LOAD_SECONDS while it is sent
# SIGHUP RELOADS times, 1 s apart, and a bounded dig loop checks that every balancer answer
# is an address of its first pool. Pools have no monitors, so that pool is the only correct
# answer.
#
# PASS/FAIL: check-config < 1 s (both cases); every reload applied; no lost query; no
# SERVFAIL/REFUSED; no wrong or missing dig answer.
#
# Environment (defaults in brackets):
#   ORIGINS [10000]  PER_POOL [10]  BALANCERS [1000]  CHECKS [3] timed --check-config runs
#   BIG_ORIGINS [100000] origins of the one-pool case
#   LOAD_SECONDS [15]  RELOADS [10]  DIGS [200]  DNS_QPS [20000] (0 = as fast as possible)
#   KEEP_TMP [0]
# Results: stdout and bench-results/config-<date>.txt. Default run time: about 40 s.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

ORIGINS=${ORIGINS:-10000}
PER_POOL=${PER_POOL:-10}
BALANCERS=${BALANCERS:-1000}
CHECKS=${CHECKS:-3}
LOAD_SECONDS=${LOAD_SECONDS:-15}
RELOADS=${RELOADS:-10}
DIGS=${DIGS:-200}
DNS_QPS=${DNS_QPS:-20000}
BIG_ORIGINS=${BIG_ORIGINS:-100000}

bench_init config
ensure_pkgs dnsperf python3 bind9-dnsutils procps util-linux time
ensure_steerd

# check_config DIR: CHECKS timed runs; sets CC_WALL (median s), CC_CPU (median user +
# system s), CC_RSS (max kB), CC_OUT.
check_config() {
	local dir=$1 i walls=() cpus=() rss=0 r
	for i in $(seq 1 "$CHECKS"); do
		/usr/bin/time -v -o "$BENCH_TMP/time.txt" taskset -c "$SERVER_CPU" "$STEERD" \
			--check-config -c "$dir/steerd.json" >"$BENCH_TMP/check.out" 2>&1 || true
		CC_OUT=$(head -c 300 "$BENCH_TMP/check.out")
		walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$BENCH_TMP/time.txt")")
		cpus+=("$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {printf "%.2f\n", s}' "$BENCH_TMP/time.txt")")
		r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_TMP/time.txt")
		[ "${r:-0}" -gt "$rss" ] && rss=$r
	done
	CC_WALL=$(median "${walls[@]}")
	CC_CPU=$(median "${cpus[@]}")
	CC_ALL="${walls[*]}"
	CC_RSS=$rss
}

# gen_one_pool DIR N: a config whose one pool has N origins (10.x.y.z; gen_big.py stops at
# 64,000) and one balancer over it.
gen_one_pool() {
	python3 - "$1" "$2" <<'PY'
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "pools"), exist_ok=True)
origins = [{"name": "o%d" % k, "address": "10.%d.%d.%d" % (k >> 16, (k >> 8) & 255, k & 255),
            "weight": 1} for k in range(n)]
with open(os.path.join(out, "pools", "big.json"), "w") as f:
    json.dump({"name": "big", "origin_steering": "random", "origins": origins}, f, indent=1)
zone = "lb.example.test"
main = {"listen": ["127.0.0.1:5353"],
        "zone": {"name": zone, "ns": ["ns1." + zone],
                 "soa": {"mname": "ns1." + zone, "rname": "hostmaster.example.test",
                         "serial": 1, "refresh": 3600, "retry": 600, "expire": 604800,
                         "minimum": 60, "ttl": 3600}},
        "balancers": [{"name": "big", "default_pools": ["big"]}],
        "state": {"path": os.path.join(out, "steerd.db")}}
with open(os.path.join(out, "steerd.json"), "w") as f:
    json.dump(main, f, indent=1)
PY
}

# big_pool: --check-config of one pool of BIG_ORIGINS / 4, / 2 and BIG_ORIGINS origins;
# sets BIG_LINES (one report line per size) and BIG_WALL, BIG_CPU, BIG_RSS (the largest).
big_pool() {
	local n
	BIG_LINES=()
	for n in $((BIG_ORIGINS / 4)) $((BIG_ORIGINS / 2)) "$BIG_ORIGINS"; do
		gen_one_pool "$BENCH_TMP/big$n" "$n"
		check_config "$BENCH_TMP/big$n"
		BIG_LINES+=("$(printf '  %7d origins: median %ss (all: %s), CPU %ss, max RSS %d MB; %s' \
			"$n" "$CC_WALL" "$CC_ALL" "$CC_CPU" $((CC_RSS / 1024)) "$CC_OUT")")
		rm -rf "$BENCH_TMP/big$n"
	done
	BIG_WALL=$CC_WALL BIG_CPU=$CC_CPU BIG_RSS=$CC_RSS
}

# dig_loop PORT OUT LIMIT_S: DIGS queries for balancer names, 10 per dig invocation, spread
# over the load; each line "bN answer..." ("bN" alone when no answer). Stops at LIMIT_S s.
dig_loop() {
	local port=$1 out=$2 limit=$3 i=0 start names bs b gap_ms ahead per=10
	start=$(date +%s%3N)
	gap_ms=$((LOAD_SECONDS * per * 1000 / DIGS))
	: >"$out"
	while [ "$i" -lt "$DIGS" ]; do
		if [ $(($(date +%s%3N) - start)) -ge $((limit * 1000)) ]; then
			break
		fi
		names=() bs=()
		for _ in $(seq 1 "$per"); do
			[ "$i" -lt "$DIGS" ] || break
			b=b$(((i * 7919) % BALANCERS))
			bs+=("$b")
			names+=("$b.lb.example.test" A)
			i=$((i + 1))
		done
		taskset -c "$CLIENT_CPU" dig +noall +answer +tries=1 +time=2 -p "$port" @127.0.0.1 \
			"${names[@]}" >"$out.tmp" 2>/dev/null || true
		for b in "${bs[@]}"; do
			echo "$b $(awk -v n="$b.lb.example.test." '$1 == n && $4 == "A" {printf "%s ", $5}' "$out.tmp")" >>"$out"
		done
		# on schedule: the next batch at start + i * gap / per; no sleep when behind
		ahead=$((start + i * gap_ms / per - $(date +%s%3N)))
		if [ "$ahead" -gt 0 ]; then
			sleep "$(div "$ahead" 1000 "%.3f")"
		fi
	done
}

# check_digs FILE EXPECTED: sets DIG_N DIG_WRONG DIG_EMPTY and DIG_BAD (first bad lines).
check_digs() {
	read -r DIG_N DIG_WRONG DIG_EMPTY < <(awk '
		NR == FNR { for (i = 2; i <= NF; i++) ok[$1 " " $i] = 1; next }
		{ n++; if (NF < 2) { empty++; next }
		  for (i = 2; i <= NF; i++) if (!(($1 " " $i) in ok)) { wrong++; break } }
		END { print n + 0, wrong + 0, empty + 0 }' "$2" "$1")
	DIG_BAD=$(awk 'NR == FNR { for (i = 2; i <= NF; i++) ok[$1 " " $i] = 1; next }
		{ bad = (NF < 2); for (i = 2; i <= NF; i++) if (!(($1 " " $i) in ok)) bad = 1
		  if (bad && shown++ < 3) print }' "$2" "$1" | tr '\n' ';')
}

# reload_times LOG SENT_FILE: ms from each SIGHUP to its "reloaded" log line.
reload_times() {
	local log=$1 sent=$2
	grep 'reloaded' "$log" | awk '{print $1}' | while read -r ts; do
		date -d "$ts" +%s%3N
	done >"$BENCH_TMP/reloaded.txt"
	paste -d' ' "$sent" "$BENCH_TMP/reloaded.txt" | awk 'NF == 2 {printf "%d ", $2 - $1}'
}

reload_under_load() {
	local dir=$1 port pid dpid gpid i rss0 rss1 sent=$BENCH_TMP/sent.txt
	port=$(free_port)
	sed -i "s/\"127.0.0.1:[0-9]*\"/\"127.0.0.1:$port\"/" "$dir/steerd.json"
	start_bg "$BENCH_TMP/steerd.log" taskset -c "$SERVER_CPU" "$STEERD" -c "$dir/steerd.json"
	pid=$BG_PID
	wait_dns "$port" 30 || die "steerd did not answer: $(tail -5 "$BENCH_TMP/steerd.log")"
	sleep 1
	rss0=$(mem_kb "$pid" VmRSS)
	local rate=()
	[ "$DNS_QPS" != 0 ] && rate=(-Q "$DNS_QPS")
	dnsperf_exec reload -p "$port" -d "$dir/queries.txt" -l "$LOAD_SECONDS" -q 100 "${rate[@]}" &
	dpid=$!
	dig_loop "$port" "$BENCH_TMP/digs.txt" $((LOAD_SECONDS + 10)) &
	gpid=$!
	sleep 2
	: >"$sent"
	for i in $(seq 1 "$RELOADS"); do
		date +%s%3N >>"$sent"
		kill -HUP "$pid"
		sleep 1
	done
	wait "$dpid" || true
	wait "$gpid" || true
	sleep 1
	rss1=$(mem_kb "$pid" VmRSS)
	R_ALIVE=0
	[ -d "/proc/$pid" ] && R_ALIVE=1
	stop_pid "$pid"
	dnsperf_parse reload
	check_digs "$BENCH_TMP/digs.txt" "$dir/expected.txt"
	R_OK=$(grep -c 'reloaded' "$BENCH_TMP/steerd.log" || true)
	R_FAILED=$(grep -c 'reload.*failed\|still serving the previous' "$BENCH_TMP/steerd.log" || true)
	R_MS=$(reload_times "$BENCH_TMP/steerd.log" "$sent")
	R_RSS="$((${rss0:-0} / 1024)) MB before the reloads, $((${rss1:-0} / 1024)) MB after"
}

report() {
	local ok
	say ""
	say "$ORIGINS origins in $((ORIGINS / PER_POOL)) pools, $BALANCERS balancers (test/bench/gen_big.py)"
	say "steerd --check-config ($CHECKS runs, CPU $SERVER_CPU):"
	say "  with HTTP monitors: median ${CK_HTTP_WALL}s (all: $CK_HTTP_ALL), max RSS $((CK_HTTP_RSS / 1024)) MB; $CK_HTTP_OUT"
	say "  without monitors:   median ${CK_NONE_WALL}s (all: $CK_NONE_ALL), max RSS $((CK_NONE_RSS / 1024)) MB"
	say ""
	say "One pool (test: linear in the origins), steerd --check-config ($CHECKS runs, CPU $SERVER_CPU):"
	printf '%s\n' "${BIG_LINES[@]}" | while IFS= read -r line; do say "$line"; done
	say ""
	say "Reloads under load: dnsperf ${LOAD_SECONDS}s at $([ "$DNS_QPS" = 0 ] && echo 'full speed' || echo "$DNS_QPS qps"), $RELOADS x SIGHUP 1 s apart, $DIG_N dig checks"
	say "  dnsperf:  sent $DP_SENT, answered $DP_DONE, lost $DP_LOST, $DP_QPS qps, avg $DP_AVG_MS ms, p99 $DP_P99_MS ms, max $DP_MAX_MS ms"
	say "  rcodes:   $DP_RCODES"
	say "  reloads:  $R_OK applied, $R_FAILED failed; SIGHUP -> 'reloaded' log line (ms): $R_MS"
	say "  memory:   $R_RSS"
	say "  digs:     $DIG_N answers checked against each balancer's first pool: $DIG_WRONG wrong, $DIG_EMPTY empty${DIG_BAD:+ (e.g. $DIG_BAD)}"
	say ""
	ok=$(awk -v v="$CK_HTTP_WALL" 'BEGIN {print (v != "-" && v < 1) ? 1 : 0}')
	verdict "check-config < 1 s" "$ok" "${CK_HTTP_WALL}s, max RSS $((CK_HTTP_RSS / 1024)) MB"
	ok=$(awk -v v="$BIG_WALL" 'BEGIN {print (v != "-" && v < 1) ? 1 : 0}')
	verdict "check-config of $BIG_ORIGINS origins in one pool < 1 s" "$ok" \
		"${BIG_WALL}s (CPU ${BIG_CPU}s), max RSS $((BIG_RSS / 1024)) MB"
	verdict "every reload applied" "$([ "$R_OK" = "$RELOADS" ] && [ "$R_ALIVE" = 1 ] && echo 1 || echo 0)" "$R_OK of $RELOADS$([ "$R_ALIVE" = 1 ] || echo ', steerd died')"
	verdict "no lost queries" "$([ "$DP_LOST" = 0 ] && [ "$DP_DONE" -gt 0 ] && echo 1 || echo 0)" "$DP_LOST lost of $DP_SENT"
	verdict "no SERVFAIL/REFUSED" "$([ "$DP_SERVFAIL" = 0 ] && [ "$DP_REFUSED" = 0 ] && echo 1 || echo 0)" "SERVFAIL $DP_SERVFAIL, REFUSED $DP_REFUSED"
	verdict "no wrong answers" "$([ "$DIG_WRONG" = 0 ] && [ "$DIG_EMPTY" = 0 ] && [ "$DIG_N" -gt 0 ] && echo 1 || echo 0)" "$DIG_WRONG wrong, $DIG_EMPTY empty of $DIG_N"
	say ""
	say "results written to ${RESULT_FILE#"$BENCH_ROOT"/}"
}

bench_header "bench-config: $ORIGINS origins / $BALANCERS balancers, check and reload"
python3 "$BENCH_ROOT/test/bench/gen_big.py" "$BENCH_TMP/http" 5353 --origins "$ORIGINS" \
	--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor http
python3 "$BENCH_ROOT/test/bench/gen_big.py" "$BENCH_TMP/none" 5353 --origins "$ORIGINS" \
	--per-pool "$PER_POOL" --balancers "$BALANCERS" --monitor none
check_config "$BENCH_TMP/http"
CK_HTTP_WALL=$CC_WALL CK_HTTP_ALL=$CC_ALL CK_HTTP_RSS=$CC_RSS CK_HTTP_OUT=$CC_OUT
check_config "$BENCH_TMP/none"
CK_NONE_WALL=$CC_WALL CK_NONE_ALL=$CC_ALL CK_NONE_RSS=$CC_RSS
note "one pool of $BIG_ORIGINS origins"
big_pool
note "reloads under load (${LOAD_SECONDS}s)"
reload_under_load "$BENCH_TMP/none"
report
