#!/usr/bin/env bash
# Counters: SIGUSR1 makes steerd log one "stats:" line (and it logs one more on exit) that
# counts exactly what was sent, per transport and RCODE, and TCP connections accepted,
# closed and refused, by reason. Batch pacing (udp.batch_wait_us): under a burst load the UDP worker waits for
# fuller batches and loses nothing; with 0 it never waits.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

# stats: SIGUSR1, then wait (at most 5 s) for one more "stats:" line in the log; sets STATS.
stats() {
	local before n
	before=$(grep -c ' stats: ' "$TMP/steerd.log" || true)
	kill -USR1 "$STEERD_PID"
	for _ in $(seq 1 50); do
		n=$(grep -c ' stats: ' "$TMP/steerd.log" || true)
		[ "$n" -gt "$before" ] && break
		sleep 0.1
	done
	STATS=$(grep ' stats: ' "$TMP/steerd.log" | tail -1 | sed 's/.* stats: //')
	[ -n "$STATS" ] || fail "no stats line after SIGUSR1"
}

# stats_after_close OLD: stats, again (at most 20 times) until the TCP closes of the
# clients that just went away are counted: the server sees their EOF a little later.
stats_after_close() {
	for _ in $(seq 1 20); do
		stats
		[[ $(delta "$1" "$STATS") == *tcp.closed_by_client=* ]] && return
		sleep 0.1
	done
}

# delta OLD NEW: the counters that changed, "udp.k=d ... tcp.k=d" in the order logged.
delta() {
	"$PYTHON" - "$1" "$2" <<'PY'
import sys

def parse(line):
    out = {}
    for part in line.split(";"):
        words = part.split()
        for kv in words[1:]:
            k, v = kv.split("=")
            out[words[0] + "." + k] = int(v)
    return out

old, new = parse(sys.argv[1]), parse(sys.argv[2])
print(" ".join("%s=%d" % (k, new[k] - old.get(k, 0)) for k in new if new[k] != old.get(k, 0)))
PY
}

# --- exact counts, per transport and RCODE
stats
s0=$STATS
py_check "queries of every kind, over UDP and TCP" <<'PY'
from bbdns import *

for name, qtype, want in (("lb.example.test", "SOA", 0), ("lb.example.test", "NS", 0),
                          ("nope.lb.example.test", "A", 3), ("example.com", "A", 5)):
    r = parse(udp(query(name, qtype)))
    expect_eq("%s %s rcode" % (name, qtype), r.rcode, want)
r = parse(udp(query("big.lb.example.test", "TXT")))
expect_eq("big TXT over UDP: truncated", (r.rcode, r.tc), (0, True))
expect_eq("a response is dropped", udp(header(7, 0x8000) + question("lb.example.test"), timeout=0.5), None)
r = parse(udp(query("lb.example.test", "SOA", opcode=2)))
expect_eq("STATUS opcode: NOTIMP", r.rcode, 4)
with tcp_connect() as s:
    for pkt in (query("lb.example.test", "SOA"), query("nope.lb.example.test", "A")):
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
    expect_eq("TCP answers", [parse(tcp_recv_msg(s)).rcode for _ in range(2)], [0, 3])
check_exit()
PY
stats_after_close "$s0"
expect_eq "counters count what was sent" "$(delta "$s0" "$STATS")" \
	"udp.queries=7 udp.answers=6 udp.dropped=1 udp.truncated=1 udp.batches=7 udp.noerror=3 udp.nxdomain=1 udp.notimp=1 udp.refused=1 tcp.queries=2 tcp.answers=2 tcp.conns=1 tcp.noerror=1 tcp.nxdomain=1 tcp.closed_by_client=1"

# burst N_BURSTS: bursts of 128 queries on one socket, each answered in full before the
# next (bounded: 2 s per answer); prints "sent received".
burst() {
	PYTHONPATH="$STEER_SRC/test/blackbox" PORT="$PORT" timeout 60 "$PYTHON" - "$1" <<'PY'
import sys
from bbdns import *

sent = got = 0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(2.0)
    for b in range(int(sys.argv[1])):
        for i in range(128):
            s.sendto(query("api.lb.example.test", "A", qid=i), ("127.0.0.1", PORT))
        sent += 128
        try:
            for i in range(128):
                s.recv(512)
                got += 1
        except socket.timeout:
            break
print(sent, got)
PY
}

# paced_burst LABEL: 100 bursts, every query answered and counted; sets D (counter delta).
paced_burst() {
	local s0 sent got
	stats
	s0=$STATS
	read -r sent got <<<"$(burst 100)"
	expect_eq "$1: every query of the bursts answered" "$got" "$sent"
	stats
	D=$(delta "$s0" "$STATS")
	expect_match "$1: answers counted" "$D" "udp.answers=$sent "
	echo "# $1: $D"
}

# --- pacing on: waits happen, nothing is lost. 100 us rather than the default 30: pacing
# starts at 2 packets per wait, 20,000 qps here, which the bursts reach even on a slow
# (sanitizer) build; with 30 us it would take 67,000 qps
cfg_edit 'c["udp"] = {"batch_wait_us": 100}'
restart_steerd
paced_burst "pacing on"
expect_match "pacing on: the worker waited for fuller batches" "$D" 'udp\.waits=[1-9]'

# --- pacing off (and one TCP client at most, for the refused-connection counter)
cfg_edit 'c["udp"] = {"batch_wait_us": 0}; c["tcp"] = {"max_clients": 1}'
restart_steerd
paced_burst "pacing off"
expect_no_match "pacing off: no waits" "$D" 'udp\.waits='

stats
s0=$STATS
py_check "a second TCP client over max_clients 1 is closed at once" <<'PY'
from bbdns import *

with tcp_connect() as held:
    pkt = query("lb.example.test", "SOA")
    held.sendall(struct.pack("!H", len(pkt)) + pkt)
    expect_eq("first client answered", parse(tcp_recv_msg(held)).rcode, 0)
    with tcp_connect() as extra:
        expect_eq("second client: closed without an answer", tcp_recv_msg(extra), None)
check_exit()
PY
stats_after_close "$s0"
expect_eq "TCP connections counted, the refused one apart" "$(delta "$s0" "$STATS")" \
	"tcp.queries=1 tcp.answers=1 tcp.conns=1 tcp.conns_refused=1 tcp.noerror=1 tcp.closed_by_client=1 tcp.refused_full=1"

# the exit logs the totals once more
stop_steerd
check_exit
expect_match "exit: a last stats line" "$(tail -3 "$TMP/steerd.log")" ' stats: udp queries=[0-9]+'
finish
