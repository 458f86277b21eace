#!/usr/bin/env bash
# Response rate limiting (`rrl`): a burst from one client /24 gets `rate` answers per
# second; of the rest every `slip`-th goes out truncated (TC=1, so a real client retries
# over TCP) and the others are dropped. Another /24 is unaffected, a whitelisted one is
# never limited, TCP is never limited, a query with a valid server cookie is answered and
# one with only a client cookie slips as BADCOOKIE (RFC 7873 §5.2.3), and the limit ends
# with its second. A reload changes the settings; without `rrl` nothing is limited.
# /metrics counts exactly what the client saw: steer_dns_rrl_dropped_total and
# steer_dns_rrl_slipped_total, and BADCOOKIE slips under rcode="BADCOOKIE".
# One UDP worker, so that one bucket counts the whole prefix (with several workers each
# counts its own share: see README.md).
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
cfg_edit 'c["workers"] = 1; c["rrl"] = {"rate": 10, "slip": 2, "whitelist": ["127.0.9.0/24", "10.0.0.0/8"]}'
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
cfg_edit "c['api'] = {'listen': ['127.0.0.1:$APIPORT']}"
API=http://127.0.0.1:$APIPORT
start_steerd

cat >"$TMP/rrl.py" <<'PY'
import socket
import time
from bbdns import *

RATE = 10


DROPPED = "steer_dns_rrl_dropped_total"
SLIPPED = "steer_dns_rrl_slipped_total"


def moved(before, after, series):
    return after.get(series, 0) - before.get(series, 0)


def burst(src, n, options=b"", name="lb.example.test", qtype="SOA", quiet=0.4, limit=5.0):
    """Send n queries from src (one socket) as fast as possible; collect the replies until
    quiet seconds pass without one (at most limit seconds). Returns (replies by id, the
    seconds the sending took)."""
    v6 = ":" in src
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    t0 = time.monotonic()
    for i in range(n):
        s.sendto(query(name, qtype, qid=i, edns=True, options=options), ("::1" if v6 else "127.0.0.1", PORT))
    took = time.monotonic() - t0
    got = {}
    end = time.monotonic() + limit
    s.settimeout(quiet)
    while time.monotonic() < end:
        try:
            r = parse(s.recv(65535))
        except socket.timeout:
            break
        got[r.id] = r
    s.close()
    return got, took


def kinds(got):
    full = sum(1 for r in got.values() if not r.tc and r.rcode == 0 and r.counts[1] > 0)
    tc = sum(1 for r in got.values() if r.tc and r.counts[1] == 0 and r.rcode == 0)
    bad = sum(1 for r in got.values() if r.rcode == 23)
    return full, tc, bad


def cookies(r):
    out, rd = [], r.opt[4] if r.opt else b""
    while len(rd) >= 4:
        code, n = struct.unpack("!HH", rd[:4])
        if code == 10:
            out.append(rd[4:4 + n])
        rd = rd[4 + n:]
    return out


def check_split(what, n, got, took, slip=2, rate=RATE):
    """rate answers per second; of the limited, every slip-th truncated, the rest
    dropped. A burst under a second may straddle two of steerd's seconds: then up to
    2 x rate pass, and each second rounds its slips down."""
    full, tc, bad = kinds(got)
    windows = int(took) + 2
    limited = n - full
    ok_full = rate <= full <= rate * windows
    want_tc = limited // slip if slip else 0
    ok_tc = (want_tc - windows <= tc <= want_tc) if slip else tc == 0
    expect_eq("%s: %d answers within %d..%d, %d of %d limited slipped (slip %d), the rest dropped"
              % (what, full, rate, rate * windows, tc, limited, slip),
              (ok_full, ok_tc, len(got), bad), (True, True, full + tc, 0))
    return full, tc
PY
rrl() {
	PYTHONPATH="$STEER_SRC/test/blackbox:$TMP" PORT="$PORT" API="$API" timeout 60 "$PYTHON" - ||
		fail "$1 (python exit $?)"
}

# --- a burst from one /24: rate answers, then 1 in 2 truncated, the rest dropped; another
# /24 in the same second, a whitelisted /24 and TCP are answered in full
rrl "burst" <<'PY'
from rrl import *
m0 = metrics()
got, took = burst("127.0.7.1", 200)
m1 = metrics()
full, tc = check_split("127.0.7.1 burst of 200", 200, got, took)
# every query was received (the server counts it), so what did not come back was dropped
expect_eq("/metrics: 200 received, %d slipped, %d dropped" % (tc, 200 - full - tc),
          (moved(m0, m1, 'steer_dns_received_total{proto="udp"}'), moved(m0, m1, SLIPPED),
           moved(m0, m1, DROPPED)), (200, tc, 200 - full - tc))
for r in got.values():
    if r.tc:
        expect_eq("a slipped reply: TC, empty, question and OPT kept", (r.counts, r.aa, r.opt is not None), ((1, 0, 0, 1), False, True))
        break
other, _ = burst("127.0.1.1", RATE)
expect_eq("another /24 right after: all %d answered" % RATE, kinds(other), (RATE, 0, 0))
# the same /24 from another address and port shares the bucket: still limited
same, _ = burst("127.0.7.2", 20)
expect_eq("127.0.7.2 (same /24) right after: limited too", kinds(same)[0] < 20, True)
six, took6 = burst("::1", 100)
check_split("::1 (its /56) burst of 100", 100, six, took6)
white, _ = burst("127.0.9.1", 200)
expect_eq("whitelisted 127.0.9.0/24: all 200 answered", kinds(white), (200, 0, 0))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(2)
s.bind(("127.0.7.1", 0))
s.connect(("127.0.0.1", PORT))
q = query("lb.example.test", "SOA", edns=True)
s.sendall(struct.pack("!H", len(q)) + q)
r = parse(tcp_recv_msg(s))
s.close()
expect_eq("TCP from the limited address: answered", (r.rcode, r.tc, r.counts[1]), (0, False, 1))
check_exit()
PY

# --- the limit ends with its second: the prefix is answered again (polled, bounded)
rrl "recovery" <<'PY'
from rrl import *
got, _ = burst("127.0.2.1", 100)
expect_eq("127.0.2.1 limited", kinds(got)[0] < 100, True)
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    again, _ = burst("127.0.2.1", 1, quiet=0.3)
    if kinds(again)[0] == 1:
        break
expect_eq("127.0.2.1 answered again within 5 s", kinds(again), (1, 0, 0))
check_exit()
PY

# --- cookies: a valid server cookie is answered however limited; a client cookie alone
# slips as BADCOOKIE carrying a fresh cookie, which the client can then use
rrl "cookies" <<'PY'
from rrl import *
client = b"\x01\x02\x03\x04\x05\x06\x07\x08"
only = struct.pack("!HH", 10, 8) + client
m0 = metrics()
got, took = burst("127.0.3.1", 100, options=only)
m1 = metrics()
full, tc, bad = kinds(got)
BC = 'steer_dns_queries_total{proto="udp",qtype="SOA",rcode="BADCOOKIE"}'
expect_eq("/metrics: %d BADCOOKIE (rcode label BADCOOKIE, not YXDOMAIN), slipped, %d dropped"
          % (bad, 100 - full - bad),
          (moved(m0, m1, BC), moved(m0, m1, SLIPPED), moved(m0, m1, DROPPED),
           [k for k in m1 if 'rcode="YXDOMAIN"' in k]), (bad, bad, 100 - full - bad, []))
limited = 100 - full
expect_eq("client cookie only: %d answers, %d BADCOOKIE of %d limited, no TC" % (full, bad, limited),
          (RATE <= full <= RATE * (int(took) + 2), limited // 2 - int(took) - 2 <= bad <= limited // 2, tc),
          (True, True, 0))
badcookie = [r for r in got.values() if r.rcode == 23]
if badcookie:
    r = badcookie[0]
    c = cookies(r)
    expect_eq("BADCOOKIE: no answer, a 24-byte cookie for this client", (r.counts[1], [len(x) for x in c], c[0][:8] if c else None), (0, [24], client))
    valid = struct.pack("!HH", 10, 24) + c[0]
    again, _ = burst("127.0.3.1", 100, options=valid)
    expect_eq("with the server cookie from BADCOOKIE: all 100 answered", kinds(again), (100, 0, 0))
check_exit()
PY

# --- the exposition after all this traffic is valid for Prometheus
out=$(curl -s --max-time 10 "$API/metrics" | promtool check metrics 2>&1) &&
	ok "promtool check metrics after the bursts" || fail "promtool check metrics: $out"

# --- a reload changes the settings: slip 0 drops every limited reply, slip 1 truncates all
cfg_edit 'c["rrl"] = {"rate": 5, "slip": 0}'
kill -HUP "$STEERD_PID"
rrl "slip 0 after a reload" <<'PY'
from rrl import *
for i in range(10):  # the reload has landed once a burst gets no TC; a new /24 each
    got, took = burst("127.0.%d.1" % (40 + i), 60)
    if kinds(got)[1] == 0:
        break
check_split("slip 0, rate 5", 60, got, took, slip=0, rate=5)
white, _ = burst("127.0.9.1", 60)
expect_eq("the old whitelist is gone: 127.0.9.1 limited", kinds(white)[0] < 60, True)
check_exit()
PY
cfg_edit 'c["rrl"] = {"rate": 5, "slip": 1}'
kill -HUP "$STEERD_PID"
rrl "slip 1 after a reload" <<'PY'
from rrl import *
for i in range(10):
    got, took = burst("127.0.%d.1" % (50 + i), 60)
    if kinds(got)[1] > 0:
        break
check_split("slip 1, rate 5", 60, got, took, slip=1, rate=5)
check_exit()
PY

# --- without `rrl`, nothing is limited
cfg_edit 'del c["rrl"]'
kill -HUP "$STEERD_PID"
rrl "no rrl" <<'PY'
from rrl import *
for i in range(10):
    got, _ = burst("127.0.%d.1" % (60 + i), 200)
    if kinds(got) == (200, 0, 0):
        break
expect_eq("rrl removed: all 200 answered", kinds(got), (200, 0, 0))
check_exit()
PY

finish
