#!/usr/bin/env bash
# Shared helpers for scripts/bench-*.sh (sourced, not run): dependencies, the machine
# header, daemons started and stopped by pid, CPU accounting from /proc, dnsperf runs and
# their parsing. Every wait is bounded; every process started here is stopped on exit.
# perf hardware counters are not assumed: CPU time comes from /proc, instruction counts
# from callgrind. Thread and process CPU time is the scheduler's own nanosecond count
# (/proc/PID/task/TID/schedstat), not the 1/HZ-tick sampled utime+stime of .../stat, which
# misattributes the short bursts of a DNS worker. A CPU's busy time is wall time minus its
# idle time (cpu_mark, cpu_busy_since): the busy fields of /proc/stat are tick samples too.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STEERD=${STEERD:-$BENCH_ROOT/build/steerd}
FARM=${FARM:-$BENCH_ROOT/build/steer-origin-farm}
SERVER_CPU=${SERVER_CPU:-0} # the server under test, alone on this CPU
CLIENT_CPU=${CLIENT_CPU:-1} # dnsperf and helpers
HZ=$(getconf CLK_TCK)
BENCH_PIDS=()
BENCH_CLEANUP=() # extra commands run at exit (e.g. deleting a network namespace)
BENCH_TMP=
RESULT_FILE=
NETNS_EXEC=() # prefix for commands that must run inside the benchmark's network namespace

# bench_init NAME: temp dir, results file bench-results/NAME-<date>.txt, exit trap.
bench_init() {
	local name=$1
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/steer-bench-$name.XXXXXX")
	mkdir -p "$BENCH_ROOT/bench-results"
	RESULT_FILE=$BENCH_ROOT/bench-results/$name-$(date +%Y%m%d-%H%M%S).txt
	: >"$RESULT_FILE"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local pid c
	for pid in "${BENCH_PIDS[@]}"; do
		stop_pid "$pid"
	done
	for c in "${BENCH_CLEANUP[@]}"; do
		eval "$c" || true
	done
	if [ -n "$BENCH_TMP" ] && [ "${KEEP_TMP:-0}" = 0 ]; then
		rm -rf "$BENCH_TMP"
	elif [ -n "$BENCH_TMP" ]; then
		echo "# kept $BENCH_TMP" >&2
	fi
}

# say ...: a result line, to stdout and the results file. note ...: progress, stderr only.
say() {
	printf '%s\n' "$*" | tee -a "$RESULT_FILE"
}

note() {
	printf '# %s\n' "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# ensure_pkgs PKG...: install the Debian packages that are missing (idempotent).
ensure_pkgs() {
	local p missing=() sudo=
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	note "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq || true
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_steerd: build dependencies and build/steerd (+ the origin farm) when missing.
ensure_steerd() {
	if [ ! -x "$STEERD" ] || [ ! -x "$FARM" ]; then
		"$BENCH_ROOT/scripts/install-deps.sh"
		note "building steerd (scripts/build.sh normal)"
		"$BENCH_ROOT/scripts/build.sh" normal >/dev/null
	fi
	[ -x "$STEERD" ] || die "no $STEERD after the build"
}

# stop_system_service NAME: the Debian package may have started its own daemon on port 53;
# stop it through the service manager (ours run on other ports with their own files).
stop_system_service() {
	local svc=$1 sudo=
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		if systemctl is-active --quiet "$svc" 2>/dev/null; then
			note "stopping the system $svc service"
			$sudo systemctl stop "$svc" || true
		fi
	elif [ -x "/etc/init.d/$svc" ]; then
		if $sudo "/etc/init.d/$svc" status >/dev/null 2>&1; then
			note "stopping the system $svc service"
			$sudo "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
	fi
}

# tool_version NAME: one line, "not installed" when the command is missing.
tool_version() {
	local out=
	if ! command -v "$1" >/dev/null && [ "$1" != steerd ]; then
		echo "not installed"
		return 0
	fi
	case "$1" in
	steerd) out=$("$STEERD" -V 2>&1 || true) ;;
	gdnsd) out=$(gdnsd 2>&1 || true) ;;
	nsd) out=$(nsd -v 2>&1 || true) ;;
	dnsperf) out=$(dnsperf -h 2>&1 || true) ;;
	valgrind) out=$(valgrind --version 2>&1 || true) ;;
	esac
	echo "$out" | grep -m1 -iE 'version|^steerd|^valgrind' | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1
}

# bench_header TITLE: what ran where.
bench_header() {
	local rev
	rev=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git -C "$BENCH_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		rev="$rev+dirty"
	fi
	say "== $1"
	say "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	say "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(getconf _NPROCESSORS_ONLN) cores online"
	say "kernel:   $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
	say "memory:   $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	say "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min at start; other load makes numbers noisy)"
	if [ "$STEERD" = "$BENCH_ROOT/build/steerd" ]; then
		say "steerd:   $(tool_version steerd) (git $rev, build/ RelWithDebInfo -O2)"
	else
		say "steerd:   $(tool_version steerd) ($STEERD; the checkout is at git $rev)"
	fi
	say "tools:    gdnsd $(tool_version gdnsd), nsd $(tool_version nsd), dnsperf $(tool_version dnsperf), valgrind $(tool_version valgrind)"
	say "pinning:  servers on CPU $SERVER_CPU, dnsperf/helpers on CPU $CLIENT_CPU (taskset)"
	say "counters: thread/process CPU time from /proc/*/task/*/schedstat (ns), CPU busy time from /proc/stat (HZ=$HZ); no perf counters here, instructions via callgrind"
}

# free_port: a port free for UDP and TCP on 127.0.0.1 (inside the namespace if any).
free_port() {
	"${NETNS_EXEC[@]}" python3 "$BENCH_ROOT/test/free_port.py" --udp 127.0.0.1
}

# start_bg LOG CMD...: run CMD in the background (pinned by the caller), remember its pid
# in BG_PID and in the list stopped at exit.
start_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	BENCH_PIDS+=("$BG_PID")
}

# tree_pids PID: PID and its descendants.
tree_pids() {
	local p c
	for p in "$@"; do
		[ -d "/proc/$p" ] || continue
		echo "$p"
		for c in $(pgrep -P "$p" 2>/dev/null); do
			tree_pids "$c"
		done
	done
}

# stop_pid PID [SECONDS]: SIGTERM, wait (bounded, 10 s) for it and its descendants, then
# SIGKILL them.
stop_pid() {
	local pid=$1 limit=${2:-10} pids
	[ -d "/proc/$pid" ] || return 0
	pids=$(tree_pids "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 $((limit * 10))); do
		local alive=0 p
		for p in $pids; do
			if [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; then
				alive=1
			fi
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait "$pid" 2>/dev/null || true
	local keep=()
	for p in "${BENCH_PIDS[@]}"; do
		[ "$p" != "$pid" ] && keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# wait_dns PORT [SECONDS]: until the server answers the zone's SOA over UDP.
wait_dns() {
	local port=$1 limit=${2:-20}
	for _ in $(seq 1 $((limit * 5))); do
		if "${NETNS_EXEC[@]}" dig +short +tries=1 +time=1 -p "$port" @127.0.0.1 \
			lb.example.test SOA 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# cpu_idle_us CPU: idle+iowait time of one CPU since boot, in µs. Unlike the busy fields
# (ticks charged to whatever runs when the tick fires, badly biased for a CPU that is busy
# in short bursts), a tickless kernel measures idle time from the idle entry and exit
# timestamps; the 1/HZ unit of /proc/stat only rounds it. Busy time over a window of wall
# time W: W - (idle delta), accurate to about 2/HZ.
cpu_idle_us() {
	awk -v c="cpu$1" -v hz="$HZ" '$1 == c {printf "%.0f", ($5 + $6) * 1e6 / hz}' /proc/stat
}

# cpu_mark: "WALL_US IDLE_US" of SERVER_CPU now, for cpu_busy_since.
cpu_mark() {
	echo "${EPOCHREALTIME/[.,]/} $(cpu_idle_us "$SERVER_CPU")"
}

# cpu_busy_since MARK: "BUSY_US WALL_US" of SERVER_CPU since MARK (busy = wall - idle).
cpu_busy_since() {
	local w0 i0 w1 i1 busy
	read -r w0 i0 <<<"$1"
	i1=$(cpu_idle_us "$SERVER_CPU")
	w1=${EPOCHREALTIME/[.,]/}
	busy=$(((w1 - w0) - (i1 - i0)))
	echo "$((busy > 0 ? busy : 0)) $((w1 - w0))"
}

# cpu_busy_pct SECONDS: how busy SERVER_CPU is over SECONDS of sleep, in % (other load).
cpu_busy_pct() {
	local m busy wall
	m=$(cpu_mark)
	sleep "$1"
	read -r busy wall <<<"$(cpu_busy_since "$m")"
	div $((busy * 100)) "$wall" "%.1f"
}

# Per-thread CPU time: the first field of /proc/PID/task/TID/schedstat is the thread's
# sum_exec_runtime, in ns, accumulated by the scheduler at every switch and tick (exact; for
# a thread running at the moment of the read it lags by at most one scheduler tick, and the
# benchmarks read a DNS worker between loads, when it is blocked). Unlike utime+stime of
# /proc/PID/stat, a process's total is only that of its live threads: the time of a thread
# that has exited is lost. That is acceptable here: the servers measured (steerd, gdnsd,
# nsd) keep their threads for the whole run, and the windows never span a reload.

# thread_cpu_ns PID TID: CPU time of one thread, in ns (0 when it is gone).
thread_cpu_ns() {
	local v=0
	read -r v _ 2>/dev/null <"/proc/$1/task/$2/schedstat" || v=0
	echo "${v:-0}"
}

# thread_cpu_us PID TID: CPU time of one thread, in µs.
thread_cpu_us() {
	echo $(($(thread_cpu_ns "$1" "$2") / 1000))
}

# proc_cpu_ns PID...: CPU time of the processes, all their live threads summed, in ns.
proc_cpu_ns() {
	local p f v t=0
	for p in "$@"; do
		for f in "/proc/$p/task"/*/schedstat; do
			v=0
			read -r v _ 2>/dev/null <"$f" || v=0
			t=$((t + ${v:-0}))
		done
	done
	echo "$t"
}

# proc_cpu_us PID...: CPU time of the processes (all their live threads), in µs.
proc_cpu_us() {
	echo $(($(proc_cpu_ns "$@") / 1000))
}

# thread_sched PID TID: "CPU_NS RUNQ_WAIT_NS VOLUNTARY NONVOLUNTARY" for one thread: CPU time
# and time spent runnable but waiting for a CPU (schedstat), and its context switches
# (status): voluntary ones are its waits (for input, or a sleep: one per wake-up),
# nonvoluntary ones are preemptions by another task on the same CPU. Zeros when the thread is
# gone.
thread_sched() {
	local cpu=0 wait=0 vol nvol
	read -r cpu wait _ 2>/dev/null <"/proc/$1/task/$2/schedstat" || cpu=0 wait=0
	vol=$(awk '$1 == "voluntary_ctxt_switches:" {print $2}' "/proc/$1/task/$2/status" 2>/dev/null) || vol=0
	nvol=$(awk '$1 == "nonvoluntary_ctxt_switches:" {print $2}' "/proc/$1/task/$2/status" 2>/dev/null) || nvol=0
	echo "${cpu:-0} ${wait:-0} ${vol:-0} ${nvol:-0}"
}

# threads PID: thread ids in creation order (ids grow; no wrap-around in a short run).
threads() {
	local d
	for d in "/proc/$1/task"/*; do
		[ -d "$d" ] && echo "${d##*/}"
	done | sort -n
}

# mem_kb PID FIELD: VmRSS, VmHWM... from /proc/PID/status, in kB.
mem_kb() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

# dnsperf_run TAG ARGS...: dnsperf -v on CLIENT_CPU, then dnsperf_parse TAG.
dnsperf_run() {
	local tag=$1
	shift
	dnsperf_exec "$tag" "$@"
	dnsperf_parse "$tag"
}

# dnsperf_exec TAG ARGS...: run dnsperf -v (per-query lines) on CLIENT_CPU against
# 127.0.0.1; output in $BENCH_TMP/dnsperf-TAG.{v,err}. Can run in the background.
dnsperf_exec() {
	local out=$BENCH_TMP/dnsperf-$1
	shift
	"${NETNS_EXEC[@]}" taskset -c "$CLIENT_CPU" dnsperf -v -s 127.0.0.1 "$@" >"$out.v" 2>"$out.err" ||
		true
}

# dnsperf_parse TAG: the summary and per-query latencies into DP_SENT DP_DONE DP_LOST DP_QPS
# DP_AVG_MS DP_MAX_MS DP_P50_MS DP_P99_MS DP_RCODES DP_SERVFAIL DP_REFUSED; the per-query file is
# deleted afterwards.
# shellcheck disable=SC2034 # the DP_* variables are this function's output
dnsperf_parse() {
	local tag=$1 out=$BENCH_TMP/dnsperf-$1
	grep -v '^> ' "$out.v" >"$out.sum" || true
	DP_SENT=$(awk '/Queries sent:/ {print $3}' "$out.sum")
	DP_DONE=$(awk '/Queries completed:/ {print $3}' "$out.sum")
	DP_LOST=$(awk '/Queries lost:/ {print $3}' "$out.sum")
	DP_QPS=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$out.sum")
	DP_AVG_MS=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000; exit}' "$out.sum")
	DP_MAX_MS=$(awk '/Average Latency/ {sub(/\)/, "", $NF); printf "%.3f", $NF * 1000; exit}' "$out.sum")
	DP_RCODES=$(sed -n 's/^ *Response codes: *//p' "$out.sum")
	DP_SERVFAIL=$(rcode_count SERVFAIL)
	DP_REFUSED=$(rcode_count REFUSED)
	# percentiles from a 1 µs histogram of the "> RCODE name type latency" lines
	read -r DP_P50_MS DP_P99_MS < <(awk '
		/^> / && $2 != "T" && $2 != "I" {
			us = int($NF * 1e6 + 0.5); h[us]++; n++; if (us > max) max = us
		}
		END {
			if (n == 0) { print "- -"; exit }
			c = 0; p50 = -1
			for (i = 0; i <= max; i++) {
				c += h[i]
				if (p50 < 0 && c >= 0.50 * n) p50 = i
				if (c >= 0.99 * n) { p99 = i; break }
			}
			printf "%.3f %.3f\n", p50 / 1000, p99 / 1000
		}' "$out.v")
	rm -f "$out.v"
	DP_SENT=${DP_SENT:-0} DP_DONE=${DP_DONE:-0} DP_LOST=${DP_LOST:-0} DP_QPS=${DP_QPS:-0}
	DP_AVG_MS=${DP_AVG_MS:--}
	if [ "$DP_DONE" = 0 ]; then
		note "dnsperf $tag answered nothing: $(head -c 300 "$out.err")"
	fi
}

# rcode_count RCODE: how many answers dnsperf counted with RCODE (from DP_RCODES).
rcode_count() {
	echo "$DP_RCODES" | awk -v r="$1" '{for (i = 1; i < NF; i++) if ($i == r) s += $(i + 1)} END {print s + 0}'
}

# median N...: the median of the numbers ("-" when none).
median() {
	printf '%s\n' "$@" | awk '/^[0-9.]+$/ {print}' | sort -g |
		awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# div A B [FORMAT]: A / B, "-" when B is 0 or empty.
div() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf f "\n", a / b}'
}

# verdict NAME OK DETAIL: a PASS/FAIL line.
verdict() {
	if [ "$2" = 1 ]; then
		say "PASS  $1: $3"
	else
		say "FAIL  $1: $3"
	fi
}
