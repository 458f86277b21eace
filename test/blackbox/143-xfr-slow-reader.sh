#!/usr/bin/env bash
# A zone transfer larger than the kernel's send buffer, to a secondary that reads it
# slowly but steadily, for longer than tcp.idle_timeout: the secondary gets all of it,
# byte for byte what a fast reader gets, because a connection whose answer is still
# being sent is not idle. A reader that stops reading altogether is still closed after
# the idle timeout (counted as idle_timeout in /metrics), so it cannot hold a slot.
# Runs in a network namespace of its own (needs root) whose TCP send buffer is at most
# 64 KB, so a transfer of some 430 KB cannot sit in the kernel whole.
if [ -z "${STEER_NETNS_143:-}" ]; then
	source "$(dirname "$0")/as-root.sh" "it makes a network namespace"
	exec env STEER_NETNS_143=1 unshare --net bash "$0"
fi
source "$(dirname "$0")/lib.sh"

ip link set lo up
sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"

ZONE=lb.example.test
RECORDS=6000
PORT=$(free_port)
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
export API=http://127.0.0.1:$APIPORT
CFG=$TMP/cfg/steerd.json
mkdir -p "$TMP/cfg/pools"
cat >"$CFG" <<EOF
{"listen": ["127.0.0.1:$PORT"],
 "zone": {"name": "$ZONE",
          "soa": $(soa_json),
          "ns": ["ns1.$ZONE"], "records": ["ns1 3600 IN A 127.0.0.61"],
          "zone_file": "big.zone"},
 "balancers": [],
 "tcp": {"idle_timeout": 1},
 "transfer": {"allow": [{"from": "127.0.0.1/32"}]},
 "api": {"listen": ["127.0.0.1:$APIPORT"], "token_file": "api.token"},
 "state": {"path": "$TMP/steerd.db"}}
EOF
"$PYTHON" - "$TMP/cfg/big.zone" "$RECORDS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("$ORIGIN lb.example.test.\n")
    for i in range(n):
        f.write('h%05d 300 IN TXT "record %d of a zone too large for the send buffer"\n' % (i, i))
PY
start_steerd

PORT=$PORT RECORDS=$RECORDS STEER_SRC=$STEER_SRC "$PYTHON" - <<'PY' || fail "the transfer checks (above)"
import os, socket, struct, sys, time
sys.path.insert(0, os.path.join(os.environ["STEER_SRC"], "test", "blackbox"))
from bbdns import check_exit, expect_eq, metrics, parse, query

port = int(os.environ["PORT"])
records = int(os.environ["RECORDS"])
SOA = 6


def axfr_conn(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    q = query("lb.example.test.", "AXFR", qid=4321)
    s.sendall(struct.pack("!H", len(q)) + q)
    return s


def split(data):
    """The complete messages in a TCP byte stream, and whether it ends with the SOA
    that closes a transfer."""
    msgs, off, soas = [], 0, 0
    while off + 2 <= len(data):
        n = struct.unpack("!H", data[off:off + 2])[0]
        if off + 2 + n > len(data):
            break
        msgs.append(data[off + 2:off + 2 + n])
        off += 2 + n
    for m in msgs:
        soas += sum(1 for rr in parse(m).answer if rr[1] == SOA)
    return msgs, soas >= 2


def read(s, chunk, pause, deadline, data=b""):
    """Read (after @data) until the transfer ends, the server closes, or the deadline."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline:
        try:
            b = s.recv(chunk)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        data += b
        if split(data)[1]:
            break
        time.sleep(pause)
    return data, time.monotonic() - t0


def idle_closes():
    """The idle closes so far, once every accepted connection was counted closed (at
    most 5 s): a slow reader whose last 64 KB sat in the kernel may be closed as idle
    while it reads them, after the server has handed over every byte."""
    for _ in range(50):
        m = metrics()
        closed = sum(v for k, v in m.items()
                     if k.startswith("steer_dns_tcp_connections_closed_total{"))
        if closed == m.get("steer_dns_tcp_connections_total", 0):
            break
        time.sleep(0.1)
    return m.get('steer_dns_tcp_connections_closed_total{reason="idle_timeout"}', 0)


# a fast reader: the reference
s = axfr_conn()
fast, _ = read(s, 65536, 0, 30)
s.close()
fmsgs, fdone = split(fast)
nrr = sum(len(parse(m).answer) for m in fmsgs)
expect_eq("fast reader: the whole zone (%d bytes, %d messages)" % (len(fast), len(fmsgs)),
          (fdone, nrr), (True, records + 4))  # SOA, NS, ns1 A, the records, SOA
expect_eq("the transfer is larger than 6 x the 64 KB send buffer", len(fast) > 6 * 65536, True)

# a slow, steady reader: 4 KB every 25 ms (160 KB/s), so the transfer takes some 3 s
s = axfr_conn(4096)
slow, took = read(s, 4096, 0.025, 30)
s.close()
expect_eq("slow reader (%.1f s, over the 1 s idle timeout): the same bytes as the fast one"
          % took, (slow == fast, took > 2), (True, True))

# a stalled reader: takes one chunk, then reads nothing for 4 s
closes0 = idle_closes()
s = axfr_conn(4096)
first = s.recv(4096)
time.sleep(4)
stalled, _ = read(s, 65536, 0, 10, first)
s.close()
expect_eq("stalled reader: closed before the end of the transfer (%d of %d bytes)"
          % (len(stalled), len(fast)), (split(stalled)[1], len(stalled) < len(fast)),
          (False, True))
expect_eq("stalled reader: counted as an idle close", idle_closes(), closes0 + 1)
check_exit()
PY

check_alive
finish
