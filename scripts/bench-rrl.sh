#!/usr/bin/env bash
# Response rate limiting against a reflection flood: what an attacker who spoofs a victim's
# address gains (bytes steerd sends to the victim / bytes of the queries), with and without
# `rrl`, in the same run.
#
# The "victim" is 127.0.0.1 (one /24), 16 UDP sockets: a flooder sends from them ANY and TXT
# queries with EDNS (4096 offered, as amplifiers do) at FLOOD_QPS for SECONDS, open loop,
# and counts every byte and reply that comes back: what a spoofed flood would deliver to
# the victim. Meanwhile a real client on another /24 (127.0.1.1) asks LEGIT_QPS queries a
# second and counts its answers. steerd's own counters (the SIGUSR1 stats line: dropped,
# truncated) are shown next to the flooder's count. steerd is pinned to CPU SERVER_CPU,
# the clients to CLIENT_CPU.
#
# Variants, one after the other on the same config (the test zone, test/data/bb):
#   off      no `rrl`
#   rrl      "rrl": {"rate": RATE, "slip": SLIP}, one UDP worker
#   rrl-2w   the same with two UDP workers: the kernel spreads the flood's source ports
#            over both workers, each with its own buckets, so up to 2 x RATE answers pass
#
# Environment (defaults in brackets): SECONDS_EACH [5]  FLOOD_QPS [20000]  LEGIT_QPS [20]
#   RATE [20]  SLIP [2]  KEEP_TMP [0]
# Results: stdout and bench-results/rrl-<date>.txt. Run time: about 30 s.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

SECONDS_EACH=${SECONDS_EACH:-5}
FLOOD_QPS=${FLOOD_QPS:-20000}
LEGIT_QPS=${LEGIT_QPS:-20}
RATE=${RATE:-20}
SLIP=${SLIP:-2}

bench_init rrl
ensure_pkgs python3 bind9-dnsutils procps util-linux
[ -x "$STEERD" ] || ensure_steerd # the origin farm is not needed here

# flood PORT: the flooder and the real client; prints one line of key=value results.
flood() {
	taskset -c "$CLIENT_CPU" python3 - "$1" "$SECONDS_EACH" "$FLOOD_QPS" "$LEGIT_QPS" <<'PY'
import selectors, socket, struct, sys, threading, time

port, secs, qps, legit_qps = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def query(qid, name, qtype):
    opt = b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1) + wire(name) + struct.pack("!HH", qtype, 1) + opt


mix = [("lb.example.test", 255), ("mid.lb.example.test", 16), ("lb.example.test", 16)]
# a spoofed flood comes from many source ports: 16 sockets, so that the kernel spreads it
# over every UDP worker of the SO_REUSEPORT group as it would
victims = []
for _ in range(16):
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    v.bind(("127.0.0.1", 0))
    v.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    v.setblocking(False)
    victims.append(v)
got = {"replies": 0, "bytes": 0, "tc": 0, "badcookie": 0}
legit = {"sent": 0, "answered": 0}
stop = threading.Event()


def receive():
    sel = selectors.DefaultSelector()
    for v in victims:
        sel.register(v, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            while True:
                try:
                    r = key.fileobj.recv(65535)
                except BlockingIOError:
                    break
                got["replies"] += 1
                got["bytes"] += len(r)
                got["tc"] += (r[2] >> 1) & 1


def real_client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.1.1", 0))
    s.settimeout(1.0)
    end = time.monotonic() + secs
    i = 0
    while time.monotonic() < end:
        s.sendto(query(i, "mid.lb.example.test", 16), ("127.0.0.1", port))
        legit["sent"] += 1
        try:
            r = s.recv(65535)
            if (r[2] >> 1) & 1 == 0 and struct.unpack("!H", r[6:8])[0] > 0:
                legit["answered"] += 1
        except socket.timeout:
            pass
        i += 1
        time.sleep(1.0 / legit_qps)


rt = threading.Thread(target=receive)
lt = threading.Thread(target=real_client)
rt.start()
lt.start()
pkts = [query(i & 0xFFFF, *mix[i % len(mix)]) for i in range(len(mix) * 64)]
sent = sent_bytes = 0
t0 = time.monotonic()
end = t0 + secs
while True:
    now = time.monotonic()
    if now >= end:
        break
    due = int((now - t0) * qps)
    while sent < due:
        p = pkts[sent % len(pkts)]
        try:
            victims[sent % len(victims)].sendto(p, ("127.0.0.1", port))
            sent_bytes += len(p)
        except BlockingIOError:
            pass
        sent += 1
    time.sleep(0.0005)
took = time.monotonic() - t0
lt.join()
time.sleep(0.5)  # replies still in flight
stop.set()
rt.join()
print("sent=%d sent_bytes=%d secs=%.2f replies=%d reply_bytes=%d tc=%d legit_sent=%d legit_answered=%d"
      % (sent, sent_bytes, took, got["replies"], got["bytes"], got["tc"], legit["sent"], legit["answered"]))
PY
}

# run VARIANT JSON_EDIT: start steerd on the test zone with the edit applied, flood it,
# record the results line in R_<variant>.
run() {
	local variant=$1 edit=$2 dir=$BENCH_TMP/$1 port line stats
	mkdir -p "$dir"
	cp -r "$BENCH_ROOT/test/data/bb/." "$dir/"
	port=$(free_port)
	python3 - "$dir/steerd.json" "$port" "$BENCH_TMP/$variant.db" "$edit" <<'PY'
import json, sys
path, port, db, edit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
with open(path) as f:
    c = json.load(f)
c["listen"] = ["127.0.0.1:%s" % port]
c.pop("api", None)
c["state"] = {"path": db}
exec(edit)
with open(path, "w") as f:
    json.dump(c, f, indent=1)
PY
	start_bg "$BENCH_TMP/$variant.log" taskset -c "$SERVER_CPU" "$STEERD" -c "$dir/steerd.json"
	local pid=$BG_PID
	wait_dns "$port" || die "steerd ($variant) did not answer; see $BENCH_TMP/$variant.log"
	sleep 1 # a new second: the readiness queries do not count against the flood
	note "$variant: flooding for $SECONDS_EACH s"
	line=$(flood "$port")
	kill -USR1 "$pid"
	for _ in $(seq 1 20); do
		stats=$(grep -m1 'stats:' "$BENCH_TMP/$variant.log" || true)
		[ -n "$stats" ] && break
		sleep 0.1
	done
	stop_pid "$pid"
	eval "R_${variant//-/_}=\"\$line\""
	eval "S_${variant//-/_}=\"\$(sed -n 's/.*stats: udp \\(queries=[0-9]* answers=[0-9]* dropped=[0-9]* truncated=[0-9]*\\).*/\\1/p' <<<\"\$stats\")\""
}

# field LINE KEY: the value of KEY=... in LINE
field() {
	sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" <<<"$1"
}

bench_header "response rate limiting: reflection amplification"
say "flood:    $FLOOD_QPS qps for $SECONDS_EACH s from 127.0.0.1 (one /24), ANY + TXT mid + TXT apex, EDNS 4096; real client 127.0.1.1 at $LEGIT_QPS qps"
say "rrl:      rate $RATE, slip $SLIP"
run off 'c["workers"] = 1'
run rrl "c[\"workers\"] = 1; c[\"rrl\"] = {\"rate\": $RATE, \"slip\": $SLIP}"
run rrl-2w "c[\"workers\"] = 2; c[\"rrl\"] = {\"rate\": $RATE, \"slip\": $SLIP}"

say ""
say "$(printf '%-7s %8s %10s %8s %7s %11s %8s %9s %7s  %s' variant queries 'q bytes' replies TC 'reply bytes' 'amp(B)' 'replies/s' 'legit' 'steerd counters')"
for v in off rrl rrl-2w; do
	eval "line=\$R_${v//-/_}; stats=\$S_${v//-/_}"
	sent=$(field "$line" sent)
	sb=$(field "$line" sent_bytes)
	secs=$(field "$line" secs)
	rep=$(field "$line" replies)
	rb=$(field "$line" reply_bytes)
	tc=$(field "$line" tc)
	amp=$(awk -v a="$rb" -v b="$sb" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}')
	rps=$(awk -v a="$rep" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? a / s : 0)}')
	legit="$(field "$line" legit_answered)/$(field "$line" legit_sent)"
	say "$(printf '%-7s %8s %10s %8s %7s %11s %8s %9s %7s  %s' "$v" "$sent" "$sb" "$rep" "$tc" "$rb" "$amp" "$rps" "$legit" "$stats")"
done
say ""
say "amp(B) = bytes steerd sent to the flooded address / bytes of the flood's queries;"
say "replies/s over the flood; legit = answers / queries of the real client on another /24."
