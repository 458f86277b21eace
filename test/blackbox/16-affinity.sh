#!/usr/bin/env bash
# CPU affinity (affinity.dns, affinity.monitor): each UDP worker runs on its own CPU of
# affinity.dns (workers 0 = one per listed CPU), the TCP thread on all of them, the monitor
# and store writer threads on affinity.monitor; the kernel's view of every thread is read
# back with sched_getaffinity. A CPU the machine does not have is a config error with its
# position; a reload moves the monitor threads at once and warns that affinity.dns waits
# for a restart.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

NCPU=$(getconf _NPROCESSORS_CONF)
LAST=$((NCPU - 1))
# two CPUs when the machine has them (the 2-core CI machine does), else CPU 0 twice over
if [ "$NCPU" -ge 2 ]; then DNS="[0, $LAST]" WORKERS=2; else DNS="[0]" WORKERS=1; fi

# threads: "name cpus" per thread of steerd, cpus as the kernel reports them (sorted,
# comma-separated), sorted by name.
threads() {
	"$PYTHON" - "$STEERD_PID" <<'PY'
import os, sys
pid = sys.argv[1]
rows = []
for tid in os.listdir(f"/proc/{pid}/task"):
    with open(f"/proc/{pid}/task/{tid}/comm") as f:
        name = f.read().strip()
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(int(tid))))
    rows.append(f"{name} {cpus}")
print("\n".join(sorted(rows)))
PY
}

make_config "$STEER_SRC/test/data/bb"
cfg_edit "c.pop('workers', None); c['affinity'] = {'dns': $DNS, 'monitor': [$LAST]}"
# workers run per listen address: worker w of each address on CPU w of affinity.dns
NL=$("$PYTHON" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["listen"]))' "$CFG")
start_steerd
T=$(threads)
expect_eq "one UDP worker per affinity.dns CPU and address" "$(grep -c '^steer-udp' <<<"$T")" \
	"$((WORKERS * NL))"
if [ "$WORKERS" = 2 ]; then
	expect_eq "each worker on its own CPU" \
		"$(grep '^steer-udp' <<<"$T" | awk '{print $2}' | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')" \
		"${NL}x0 ${NL}x$LAST "
	expect_eq "TCP on all of affinity.dns" "$(grep '^steer-tcp' <<<"$T" | awk '{print $2}')" "0,$LAST"
else
	expect_eq "the worker on CPU 0" "$(grep '^steer-udp' <<<"$T" | awk '{print $2}')" "0"
	expect_eq "TCP on CPU 0" "$(grep '^steer-tcp' <<<"$T" | awk '{print $2}')" "0"
fi
expect_eq "monitor thread on affinity.monitor" "$(grep '^steer-monitor' <<<"$T" | awk '{print $2}')" "$LAST"
expect_eq "store writer on affinity.monitor" "$(grep '^steer-store' <<<"$T" | awk '{print $2}')" "$LAST"
expect_eq "answers over UDP" "$(q SOA "$ZONE" | dig_status)" NOERROR
expect_eq "answers over TCP" "$(qt SOA "$ZONE" | dig_status)" NOERROR

# a reload: affinity.monitor applies to the new monitor threads, affinity.dns waits (it
# changes: [0, LAST] -> [0] with two CPUs; [0] -> unset with one)
if [ "$WORKERS" = 2 ]; then
	cfg_edit "c['affinity'] = {'dns': [0], 'monitor': [0]}"
else
	cfg_edit "c['affinity'] = {'monitor': [0]}"
fi
kill -HUP "$STEERD_PID"
wait_for "reloaded" "grep -c 'reloaded' '$TMP/steerd.log'" '^1$'
wait_for "the new monitor thread runs on CPU 0" "threads | grep '^steer-monitor'" '^steer-monitor 0$'
expect_eq "the new store writer runs on CPU 0" "$(threads | grep '^steer-store' | awk '{print $2}')" "0"
expect_match "affinity.dns needs a restart" "$(cat "$TMP/steerd.log")" \
	'warn +steerd: reload: "affinity.dns" changed; restart steerd to apply it'
expect_eq "the workers stay where they were" "$(threads | grep -c '^steer-udp')" "$((WORKERS * NL))"
expect_eq "still answers" "$(q SOA "$ZONE" | dig_status)" NOERROR

# a CPU the machine does not have, found by --check-config with its position
cfg_edit "c['affinity'] = {'dns': [0], 'monitor': [$NCPU]}"
out=$("$STEERD" -c "$CFG" --check-config 2>&1) && fail "--check-config accepted CPU $NCPU"
expect_match "CPU $NCPU is an error with file, line and column" "$out" \
	"steerd.json:[0-9]+:[0-9]+: affinity.monitor\\[0\\]: must be a CPU number from 0 to $LAST \\(this machine has $NCPU\\)"
# and a reload with it keeps the running configuration
kill -HUP "$STEERD_PID"
wait_for "the bad reload is rejected" "grep -c 'affinity.monitor\\[0\\]' '$TMP/steerd.log'" '^[1-9]'
expect_eq "still answers after the rejected reload" "$(q SOA "$ZONE" | dig_status)" NOERROR
expect_eq "the monitor thread stays on CPU 0" "$(threads | grep '^steer-monitor' | awk '{print $2}')" "0"
finish
