#!/usr/bin/env bash
# TCP that idle clients cannot starve. A flood of 2,000 connections that never send a
# query, reconnecting as the server closes them, first from one address (127.0.0.2: the
# per-source limit holds it to tcp.max_per_source connections), then from 125 addresses
# (127.0.1.x, 16 each: the table fills, newcomers take the slots of connections that never
# asked anything, idle timeouts shrink); meanwhile real TCP queries from 127.0.0.1, one
# every 100 ms, must all be answered. Then, without a flood: a connection that sends no
# complete query is closed after tcp.query_timeout (also one dripping a query byte by
# byte), one that asked stays open; the 17th connection from one address is refused while
# another address still connects. /metrics counts the closes by reason: the floods make
# per-source refusals, first-query timeouts and evictions; the checks after them exact
# numbers; at the end every accepted connection is counted closed once.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
cfg_edit "c['api'] = {'listen': ['127.0.0.1:$APIPORT']}"
export API=http://127.0.0.1:$APIPORT
start_steerd

# closed REASON: the count of steer_dns_tcp_connections_closed_total{reason=REASON} (or of
# the series REASON names when it has a brace) in a fresh scrape of /metrics.
closed() {
	local s=$1
	[[ $s == *"{"* || $s == steer_* ]] || s="steer_dns_tcp_connections_closed_total{reason=\"$1\"}"
	curl -s --max-time 10 "$API/metrics" | awk -v s="$s" '$1 == s { v = $2 } END { print v + 0 }'
}

# flood SECONDS N ADDR...: N idle connections in the background for SECONDS, spread over
# the source addresses, each reopened as soon as the server closes it; the counts go to
# $TMP/flood.out and $TMP/flood.ready appears once every connection was started. At most
# 3,000 connects a second: plenty to hold every slot (the old server was starved by far
# fewer), and what a 2-CPU machine runs next to steerd without the kernel dropping SYNs
# from a full accept queue, which would fail real queries for reasons no server fixes.
flood() {
	rm -f "$TMP/flood.ready" "$TMP/flood.out"
	PORT="$PORT" OUT="$TMP/flood.out" READY="$TMP/flood.ready" \
		timeout 60 "$PYTHON" - "$@" <<'PY' &
import os, resource, selectors, socket, sys, time

secs, n, srcs = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
port = int(os.environ["PORT"])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
    n = min(n, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64)
sel = selectors.DefaultSelector()
opened = closed = 0

def open_one(i):
    global opened
    opened += 1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT: the port at connect
    s.bind((srcs[i % len(srcs)], 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        pending.append(i)
        return
    sel.register(s, selectors.EVENT_READ, i)

RATE = 3000
pending = list(range(n))
t0 = time.monotonic()
end = t0 + secs
ready = False
while time.monotonic() < end:
    allow = int((time.monotonic() - t0) * RATE) - opened
    while pending and allow > 0:
        open_one(pending.pop())
        allow -= 1
    if not ready and opened >= n:
        open(os.environ["READY"], "w").close()
        ready = True
    for key, _ in sel.select(timeout=0.01):
        s = key.fileobj
        try:
            data = s.recv(512)
        except OSError:
            data = b""
        if data == b"":
            closed += 1
            sel.unregister(s)
            s.close()
            pending.append(key.data)
with open(os.environ["OUT"], "w") as f:
    f.write("n=%d opened=%d closed_by_server=%d\n" % (n, opened, closed))
PY
	FLOOD_PID=$!
	for _ in $(seq 1 100); do
		[ -e "$TMP/flood.ready" ] && return 0
		sleep 0.1
	done
	fail "flood: connections not started within 10 s"
}

# real_queries SECONDS: a TCP query from 127.0.0.1 every 100 ms; sets SENT and FAILED
# (answers that are not NOERROR with the SOA, the first few named in FIRST_FAIL).
real_queries() {
	local end=$((${EPOCHREALTIME/[.,]/} + $1 * 1000000))
	SENT=0 FAILED=0 FIRST_FAIL=
	while [ "${EPOCHREALTIME/[.,]/}" -lt "$end" ]; do
		ask qt "$ZONE" SOA
		SENT=$((SENT + 1))
		if [ "$STATUS/$COUNTS" != "NOERROR/1/0/1" ]; then
			FAILED=$((FAILED + 1))
			[ "$FAILED" -le 3 ] && FIRST_FAIL+="[${STATUS:-no answer} ${OUT##*;; }] "
		fi
		sleep 0.1
	done
}

# flood_round NAME SECONDS N ADDR...: the flood and the real queries side by side.
flood_round() {
	local name=$1 secs=$2
	shift 2
	flood "$secs" "$@"
	real_queries $((secs - 2))
	wait "$FLOOD_PID" || fail "$name: flood exited with status $?"
	echo "# $name: $(cat "$TMP/flood.out" 2>/dev/null) real queries=$SENT"
	expect_eq "$name: every real TCP query answered" "$FAILED failed $FIRST_FAIL" "0 failed "
	# how many depends on how fast dig runs on a loaded machine; every one must be answered
	expect_match "$name: real queries kept coming" "$SENT" '^([5-9]|[1-9][0-9]+)$'
	expect_match "$name: the server kept closing flood connections" \
		"$(cat "$TMP/flood.out" 2>/dev/null)" 'closed_by_server=[1-9]'
	check_alive
}

flood_round "2,000 idle connections from 127.0.0.2" 10 2000 127.0.0.2

mapfile -t SRCS < <(seq -f '127.0.1.%g' 1 125)
flood_round "2,000 idle connections from 125 addresses" 9 2000 "${SRCS[@]}"

# the refused connections are counted (SIGUSR1 logs the counters)
kill -USR1 "$STEERD_PID"
for _ in $(seq 1 50); do
	grep -q ' stats: udp ' "$TMP/steerd.log" && break
	sleep 0.1
done
expect_match "refused connections counted" "$(grep ' stats: udp ' "$TMP/steerd.log" | tail -1)" \
	'conns_refused=[1-9]'
# by reason: the first flood's 17th and later connections from one address were refused,
# its 16 admitted ones timed out waiting for a first query (2 s, the flood ran 10 s), and
# the second flood filled the table, so newcomers evicted the connections that never asked
expect_ge() {
	if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then ok "$1 ($2 >= $3)"; else fail "$1: expected >= $3, got [$2]"; fi
}
expect_ge "closed: per_source_limit" "$(closed per_source_limit)" 1
expect_ge "closed: first_query_timeout" "$(closed first_query_timeout)" 16
expect_ge "closed: evicted" "$(closed evicted)" 1
expect_eq "refused = table_full + per_source_limit" "$(closed steer_dns_tcp_connections_refused_total)" \
	"$(($(closed table_full) + $(closed per_source_limit)))"
out=$(curl -s --max-time 10 "$API/metrics" | promtool check metrics 2>&1) &&
	ok "promtool check metrics after the floods" || fail "promtool check metrics: $out"

py_check "query timeout" <<'PY'
from bbdns import *
import select
import time

def closed(reason):
    """steer_dns_tcp_connections_closed_total{reason=...} now."""
    return int(metrics().get('steer_dns_tcp_connections_closed_total{reason="%s"}' % reason, 0))

def connect(src):
    return tcp_connect(src=src)

def ask(s, qid):
    q = query("lb.example.test", "SOA", qid=qid)
    s.sendall(struct.pack("!H", len(q)) + q)
    raw = tcp_recv_msg(s)
    return parse(raw).id if raw else None

# three that never complete a query (silent; half a message; a message one byte every
# 0.3 s) and one that asks, then idles: only the first three are closed within 4 s
# (tcp.query_timeout 2 s; tcp.idle_timeout 10 s)
timeouts0 = closed("first_query_timeout")
silent = connect("127.0.0.5")
partial = connect("127.0.0.5")
partial.sendall(b"\x00\x40\x12\x34")
drip = connect("127.0.0.5")
answered = connect("127.0.0.5")
expect_eq("a connection that asks is answered", ask(answered, 5), 5)
names = {silent: "silent connection", partial: "half a message, then silence",
         drip: "a query dripped byte by byte"}
q = query("lb.example.test", "SOA", qid=7)
drip_data = struct.pack("!H", len(q)) + q
open_ = set(names)
end = time.monotonic() + 4.0
next_drip = 0.0
while open_ and time.monotonic() < end:
    if drip in open_ and time.monotonic() >= next_drip and len(drip_data) > 1:
        try:
            drip.send(drip_data[:1])
        except OSError:
            pass
        drip_data = drip_data[1:]
        next_drip = time.monotonic() + 0.3
    ready, _, _ = select.select(list(open_), [], [], 0.1)
    for s in ready:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if data == b"":
            open_.discard(s)
for s, name in names.items():
    expect_eq(name + ": closed by the server within 4 s", s not in open_, True)
    s.close()
expect_eq("/metrics: exactly these 3 closed by first_query_timeout",
          closed("first_query_timeout") - timeouts0, 3)
expect_eq("the connection that asked is still served", ask(answered, 6), 6)
answered.close()
check_exit()
PY

py_check "per-source limit" <<'PY'
from bbdns import *
import time

def closed(reason):
    """steer_dns_tcp_connections_closed_total{reason=...} now."""
    return int(metrics().get('steer_dns_tcp_connections_closed_total{reason="%s"}' % reason, 0))

def connect(src):
    return tcp_connect(src=src)

def ask(s, qid):
    try:
        q = query("lb.example.test", "SOA", qid=qid)
        s.sendall(struct.pack("!H", len(q)) + q)
        raw = tcp_recv_msg(s)
    except (ConnectionResetError, BrokenPipeError):
        return None
    return parse(raw).id if raw else None

refused0 = closed("per_source_limit")
held = [connect("127.0.0.3") for _ in range(16)]
expect_eq("16 connections from 127.0.0.3 served",
          [ask(s, i) for i, s in enumerate(held)], list(range(16)))
extra = connect("127.0.0.3")
expect_eq("the 17th from 127.0.0.3: closed without an answer", ask(extra, 99), None)
extra.close()
# 127.0.1.1-8 were flooded above: their counts went back to 0 as the flood closed
more = {}
for k in range(1, 9):
    src = "127.0.1.%d" % k
    more[src] = [connect(src) for _ in range(16)]
    extra = connect(src)
    more[src] = ([ask(s, i) for i, s in enumerate(more[src])] == list(range(16)),
                 ask(extra, 99), more[src])
    extra.close()
expect_eq("127.0.1.1-8 (flooded before): 16 served each, the 17th refused",
          [v[:2] for v in more.values()], [(True, None)] * 8)
for v in more.values():
    for s in v[2]:
        s.close()
# the server closes a refused connection at accept: counted by the time connect returns
# and a query gets no answer, so the count is exact here
expect_eq("/metrics: 9 refused by per_source_limit (127.0.0.3, 127.0.1.1-8)",
          closed("per_source_limit") - refused0, 9)
other = connect("127.0.0.4")
expect_eq("127.0.0.4 still served", ask(other, 100), 100)
other.close()
expect_eq("the 16 still served", [ask(s, 200 + i) for i, s in enumerate(held)],
          [200 + i for i in range(16)])
# one of the 16 leaves: 127.0.0.3 connects again once the server has seen the close
held.pop().close()
served = False
for attempt in range(40):
    s = connect("127.0.0.3")
    served = ask(s, 300) == 300
    s.close()
    if served:
        break
    time.sleep(0.05)
expect_eq("after one closes, 127.0.0.3 is served again", served, True)
for s in held:
    s.close()
check_exit()
PY

ask qt "$ZONE" SOA
expect_eq "TCP served at the end" "$STATUS/$COUNTS" "NOERROR/1/0/1"
# every connection is closed now: each accepted one was counted closed for one reason
all_closed() {
	local sum=0 r
	for r in idle_timeout first_query_timeout evicted client_closed error; do
		sum=$((sum + $(closed $r)))
	done
	echo "accepted=$(closed steer_dns_tcp_connections_total) closed=$sum"
}
for _ in $(seq 1 50); do
	[[ $(all_closed) =~ ^accepted=([0-9]+)\ closed=([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && break
	sleep 0.1
done
expect_match "every accepted connection counted closed once" "$(all_closed)" '^accepted=([0-9]+) closed=\1$'
finish
