#!/usr/bin/env bash
# Zone transfers to real secondaries, measured. steerd is the hidden primary
# (test/data/xfr/steerd, the configuration of test/blackbox/141-xfr-secondaries.sh) of a
# Knot DNS secondary (TSIG) and an NSD secondary (unsigned), on loopback.
#
# (a) Failover through the secondaries: N times, origin p1 starts failing (HTTP 503: the
#     primary pool is unhealthy, api fails over to the backup pool), then heals (failback).
#     For each change: the time from steerd's transition (its log line) until each
#     secondary answers the new address set (NOTIFY, SOA check, IXFR, reload), and from
#     the origin's change (adds the health check's detection time). Median and max.
# (b) Transfer cost of a large zone: RECORDS static records (a generated zone_file) plus
#     the balancer. AXFR from steerd: time (median of REPEAT kdig runs), bytes, messages;
#     IXFR of one change (a failover): time, bytes; and what the Knot secondary logged for
#     both. The same zone served by Knot DNS as primary, as a reference.
#
# Environment (defaults in brackets): N [10]  RECORDS [10000]  REPEAT [5]  KEEP_TMP [0]
#   STEERD, STEERCTL [build/steerd, build/steerctl]
# Results: stdout and bench-results/xfr-<date>.txt. Run time: about 2 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export STEER_SRC=$ROOT
N=${N:-10}
RECORDS=${RECORDS:-10000}
REPEAT=${REPEAT:-5}
# shellcheck source=test/blackbox/lib.sh
source "$ROOT/test/blackbox/lib.sh"
# shellcheck source=test/blackbox/health-lib.sh
source "$ROOT/test/blackbox/health-lib.sh"
# shellcheck source=test/blackbox/xfr-lib.sh
source "$ROOT/test/blackbox/xfr-lib.sh"
[ "${KEEP_TMP:-0}" = 0 ] || FAILS=1 # lib.sh's cleanup keeps $TMP when something failed

for tool in "$STEERD" "$STEERCTL" "$KNOTD" "$NSD" kdig dig openssl; do
	command -v "$tool" >/dev/null || {
		echo "error: $tool is missing (scripts/install-deps.sh, scripts/build.sh)" >&2
		exit 1
	}
done
mkdir -p "$ROOT/bench-results"
RESULT_FILE=$ROOT/bench-results/xfr-$(date +%Y%m%d-%H%M%S).txt
say() {
	printf '%s\n' "$*" | tee -a "$RESULT_FILE"
}
note() {
	printf '# %s\n' "$*" >&2
}

# stats VALUES...: "median max" of integers.
stats() {
	printf '%s\n' "$@" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%d %d\n", (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2, v[NR] }'
}

rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	rev="$rev+dirty"
fi
say "== zone transfers: steerd as hidden primary, Knot DNS and NSD as secondaries"
say "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(getconf _NPROCESSORS_ONLN) cores online"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min at start)"
say "steerd:  $STEERD (git $rev)"
say "knotd:   $("$KNOTD" -V 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1), nsd $("$NSD" -v 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"

# shellcheck disable=SC2119 # no extra steerd arguments
start_xfr_primary
start_secondary knot 127.0.0.61 "${SPORT[1]}" sec1
start_secondary nsd 127.0.0.62 "${SPORT[2]}" ""
PRIMARY_SET=127.0.0.11,127.0.0.12
BACKUP_SET=127.0.0.21,127.0.0.22
wait_for "both secondaries loaded the zone" \
	"watch_secondaries --timeout 1 api $PRIMARY_SET knot nsd | grep -c -v timeout" '^2$' 30

# --- (a) N failovers and failbacks
declare -A D=() # "dir:secondary:from" -> list of ms
# change DIR CTL_JSON LOG_REGEX WANT: make the change, wait for both secondaries, record.
change() {
	local dir=$1 ctl=$2 re=$3 want=$4 t0 t_log out name t
	t0=$(now_ms)
	set_origin p1 "$ctl"
	out=$(watch_secondaries --timeout 20 api "$want" knot nsd)
	# the log line of this transition: the last one, written after t0
	for _ in $(seq 1 50); do
		t_log=$(log_ms "$re")
		[ -n "$t_log" ] && [ "$t_log" -ge "$t0" ] && break
		sleep 0.1
	done
	for name in knot nsd; do
		t=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$out")
		[[ $t =~ ^[0-9]+$ ]] || {
			note "$dir: $name did not follow: $out"
			FAILED_CHANGES=$((FAILED_CHANGES + 1))
			continue
		}
		D[$dir:$name:log]+="$((t - t_log)) "
		D[$dir:$name:change]+="$((t - t0)) "
	done
}
FAILED_CHANGES=0
note "(a) $N failovers and failbacks"
for i in $(seq 1 "$N"); do
	change failover '{"status": 503}' 'balancer=api primary->failover:backup' "$BACKUP_SET"
	change failback '{}' 'balancer=api failover:backup->primary' "$PRIMARY_SET"
	note "  round $i done"
done
say ""
say "(a) change seen through the secondaries, $N of each (ms; median / max)"
say "    monitor: interval 1 s, timeout 1 s, consecutive_down 1, consecutive_up 2"
printf '%-9s %-9s %22s %22s\n' change secondary "after steerd's change" "after the origin's" | tee -a "$RESULT_FILE"
for dir in failover failback; do
	for name in knot nsd; do
		# shellcheck disable=SC2086 # the lists are words
		read -r m1 x1 <<<"$(stats ${D[$dir:$name:log]:-0})"
		# shellcheck disable=SC2086
		read -r m2 x2 <<<"$(stats ${D[$dir:$name:change]:-0})"
		printf '%-9s %-9s %14s / %5s %14s / %5s\n' "$dir" "$name" "$m1" "$x1" "$m2" "$x2" |
			tee -a "$RESULT_FILE"
	done
done
say "changes a secondary did not follow within 20 s: $FAILED_CHANGES"

# --- (b) a large zone: RECORDS records in a zone_file
note "(b) $RECORDS records"
"$PYTHON" - "$TMP/cfg/big.zone" "$RECORDS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("$ORIGIN lb.example.test.\n")
    for i in range(n):
        if i % 10 == 9:
            f.write('t%05d 300 IN TXT "record %d of a generated zone"\n' % (i, i))
        else:
            f.write("h%05d 300 IN A 10.%d.%d.%d\n" % (i, i >> 16 & 255, i >> 8 & 255, i & 255))
PY
check_alive
stop_steerd
cfg_edit "c['zone']['zone_file'] = 'big.zone'"
start_steerd
BIG_SERIAL=$(soa_serial)
wait_for "both secondaries at serial $BIG_SERIAL (the large zone)" \
	"echo \"\$(sec_serial knot) \$(sec_serial nsd)\"" "^$BIG_SERIAL $BIG_SERIAL\$" 60
knot_line() {
	grep -E "(AXFR|IXFR), incoming, remote [^,]*, finished" "$TMP/knot/knot.log" | tail -n 1 |
		sed -n 's/.*\(AXFR\|IXFR\), incoming.*finished, \([0-9.]*\) seconds, \([0-9]*\) messages, \([0-9]*\) bytes.*/\1 \2 s, \3 messages, \4 bytes/p'
}
sleep 1 # the log line follows the serial change; not an assertion
KNOT_BIG=$(knot_line)

# kdig_xfr ARGS...: one transfer; prints "ms bytes messages records": the time kdig
# reports for the transfer itself (connect to last message; not its own start-up), and
# bytes, messages and records as kdig counts them.
kdig_xfr() {
	kdig "$@" +noall +stats 2>&1 | awk '
		/^;; Received / { b = $3; m = substr($5, 2); r = $7 }
		/^;; From / { t = $(NF - 1) }
		END { print t, b, m, r }'
}
# xfr_cost SERVER PORT TYPE: REPEAT transfers; sets COST ("median_ms max_ms bytes msgs
# recs"; times to 0.1 ms).
xfr_cost() {
	local ms=() line=''
	for _ in $(seq 1 "$REPEAT"); do
		line=$(kdig_xfr @"$1" -p "$2" "$3" "$ZONE")
		ms+=("${line%% *}")
	done
	COST="$(printf '%s\n' "${ms[@]}" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.1f %.1f", (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2, v[NR] }') ${line#* }"
}
xfr_cost 127.0.0.1 "$PORT" AXFR
AXFR_COST=$COST
OLD=$(soa_serial)
set_origin p1 '{"status": 503}'
wait_for "steerd failed over (the one change)" "ans api" '^NOERROR 5 ' 20
wait_for "a new serial" "soa_serial" "^[0-9]+\$" 5
NEW=$(soa_serial)
xfr_cost 127.0.0.1 "$PORT" "IXFR=$OLD"
IXFR_COST=$COST
out=$(watch_secondaries --timeout 20 api "$BACKUP_SET" knot nsd)
set_origin p1 '{}'
sleep 1 # as above
KNOT_CHANGE=$(knot_line)

# the same zone served by Knot DNS as primary, for reference
KDIR=$TMP/knot-primary
mkdir -p "$KDIR/db"
kdig @127.0.0.1 -p "$PORT" AXFR "$ZONE" +noall +answer | awk 'NR == 1 || $4 != "SOA"' \
	>"$KDIR/lb.example.test.zone"
KPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" --udp 127.0.0.1)
sed -e "s#@DIR@#$KDIR#g" -e "s#@PRIMARY@#127.0.0.1#g" -e "s#@PPORT@#$KPORT#g" \
	-e "s#@KNOT_ADDR@#127.0.0.61#g" -e "s#@KNOT_PORT@#${SPORT[3]}#g" \
	-e "s#@NSD_ADDR@#127.0.0.62#g" -e "s#@NSD_PORT@#${SPORT[4]}#g" -e '/#tsig$/d' \
	"$XFR_DATA/knot-primary.conf" >"$KDIR/knot.conf"
"$KNOTD" -c "$KDIR/knot.conf" >"$KDIR/knotd.out" 2>&1 &
SEC_PID[knot-primary]=$!
for _ in $(seq 1 100); do
	dig @127.0.0.1 -p "$KPORT" +short +time=1 +tries=1 SOA "$ZONE" | grep -q . && break
	sleep 0.1
done
xfr_cost 127.0.0.1 "$KPORT" AXFR
KNOTP_AXFR=$COST

say ""
say "(b) transfer cost, $RECORDS static records + the balancer (kdig over loopback;"
say "    time: as kdig reports it, connect to last message; median / max of $REPEAT runs)"
printf '%-28s %9s %9s %10s %6s %8s\n' transfer "median ms" "max ms" bytes msgs records |
	tee -a "$RESULT_FILE"
# shellcheck disable=SC2086 # the costs are words
printf '%-28s %9s %9s %10s %6s %8s\n' "steerd AXFR" $AXFR_COST | tee -a "$RESULT_FILE"
# shellcheck disable=SC2086
printf '%-28s %9s %9s %10s %6s %8s\n' "steerd IXFR ($OLD -> $NEW)" $IXFR_COST |
	tee -a "$RESULT_FILE"
# shellcheck disable=SC2086
printf '%-28s %9s %9s %10s %6s %8s\n' "knotd AXFR (same zone)" $KNOTP_AXFR | tee -a "$RESULT_FILE"
say "Knot secondary's log: loading the large zone: ${KNOT_BIG:-none}; the one change: ${KNOT_CHANGE:-none}"
say "both secondaries followed that change: $(grep -q timeout <<<"$out" && echo "no: $out" || echo yes)"
stop_secondary knot-primary
check_alive
[ "$FAILED_CHANGES" -eq 0 ] || FAILS=1
say "results: $RESULT_FILE"
