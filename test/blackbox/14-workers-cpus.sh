#!/usr/bin/env bash
# workers 0 means one UDP worker per CPU steerd may run on, not per online CPU:
# `taskset -c 0 steerd` gets one worker per listen address, not one per CPU of the machine
# (several workers on one CPU only take turns and cost CPU to switch).
source "$(dirname "$0")/lib.sh"

make_config "$STEER_SRC/test/data/bb"
cfg_edit "c.pop('workers', None)"
# a wrapper keeps steerd's PID (exec) so start_steerd and stop_steerd work as usual
printf '#!/bin/sh\nexec taskset -c 0 "%s" "$@"\n' "$STEERD" >"$TMP/steerd-cpu0"
chmod +x "$TMP/steerd-cpu0"
STEERD=$TMP/steerd-cpu0
start_steerd
expect_match "one worker for the one CPU steerd may use" "$(cat "$TMP/steerd.log")" \
	'serving zone lb\.example\.test\.: .*, 1 workers'
n=0
for comm in /proc/"$STEERD_PID"/task/*/comm; do
	[ "$(cat "$comm" 2>/dev/null)" = steer-udp ] && n=$((n + 1))
done
expect_eq "UDP worker threads: one per listen address" "$n" 2
ask q "$ZONE" SOA
expect_eq "and it answers" "$STATUS" NOERROR
finish
