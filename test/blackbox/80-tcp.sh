#!/usr/bin/env bash
# DNS over TCP (RFC 7766): pipelined queries answered in order on one connection, split
# and coalesced messages, half-close, a client that reads late (back-pressure); then
# with "tcp": {"idle_timeout": 1, "max_clients": 2}: the connection limit (a third
# connection is closed at once, a freed slot is reusable) and the idle timeout.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

py_check "pipelining" <<'PY'
from bbdns import *

QS = [("lb.example.test", "SOA", 0, 1), ("chain1.lb.example.test", "A", 0, 3),
      ("nope.lb.example.test", "A", 3, 0), ("big.lb.example.test", "TXT", 0, 8),
      ("example.com", "A", 5, 0)]

def batch(base):
    qs = [query(n, t, qid=base + i, edns=True) for i, (n, t, _, _) in enumerate(QS)]
    return qs, b"".join(struct.pack("!H", len(q)) + q for q in qs)

def check(what, s, qs, base):
    for i, (n, t, rcode, an) in enumerate(QS):
        raw = tcp_recv_msg(s)
        if raw is None:
            fail("%s: connection closed before answer %d" % (what, i))
            return
        r = parse(raw)
        expect_eq("%s: answer %d (%s %s): id/rcode/answers" % (what, i, n, t),
                  (r.id, r.rcode, r.counts[1], r.raw[12:r.question_end]),
                  (base + i, rcode, an, qs[i][12:12 + len(wire_name(n)) + 4]))

for host in ("127.0.0.1", "::1"):
    # five queries in one write, five answers in order
    with tcp_connect(host) as s:
        qs, data = batch(0x100)
        s.sendall(data)
        check("%s one write" % host, s, qs, 0x100)
        # the same connection takes more: one byte per write, the prefix split too
        qs, data = batch(0x200)
        for b in data:
            s.send(bytes([b]))
        check("%s byte by byte" % host, s, qs, 0x200)
    # half-close right after the queries: every answer still arrives, then EOF
    with tcp_connect(host) as s:
        qs, data = batch(0x300)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        check("%s after half-close" % host, s, qs, 0x300)
        expect_eq("%s: EOF after the answers" % host, s.recv(1), b"")

# a client that writes 3,000 queries before reading anything: ~7 MB of answers, more
# than the kernel buffers hold, so the server must stop reading while its output is
# full (back-pressure) and carry on as the client reads
q = query("big.lb.example.test", "TXT", qid=0)
with tcp_connect(timeout=10) as s:
    s.sendall(b"".join(struct.pack("!H", len(q)) + struct.pack("!H", i) + q[2:] for i in range(3000)))
    got = 0
    for i in range(3000):
        raw = tcp_recv_msg(s)
        if raw is None or struct.unpack("!H", raw[:2])[0] != i or parse(raw).counts[1] != 8:
            break
        got += 1
    expect_eq("3,000 big answers to an unread pipeline, complete and in order", got, 3000)
check_exit()
PY

# --- a small limit and a short idle timeout
cfg_edit 'c["tcp"] = {"idle_timeout": 1, "max_clients": 2}'
restart_steerd

py_check "connection limit" <<'PY'
from bbdns import *
import time

def ask(s, qid):
    q = query("lb.example.test", "SOA", qid=qid)
    s.sendall(struct.pack("!H", len(q)) + q)
    raw = tcp_recv_msg(s)
    return parse(raw).id if raw else None

def refused(s):
    """The server closes the connection without answering: EOF or a reset."""
    try:
        q = query("lb.example.test", "SOA", qid=9)
        s.sendall(struct.pack("!H", len(q)) + q)
        return tcp_recv_msg(s) is None
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False

a = tcp_connect(timeout=1)
b = tcp_connect(timeout=1)
expect_eq("two connections served", (ask(a, 1), ask(b, 2)), (1, 2))
c = tcp_connect(timeout=1)
expect_eq("third connection closed at once, no answer", refused(c), True)
c.close()
# UDP is not limited by it
expect_eq("UDP still answered", parse(udp(query("lb.example.test", "SOA", qid=3))).id, 3)
expect_eq("the two are still served", (ask(a, 4), ask(b, 5)), (4, 5))
# free a slot: a new connection is served once the server has seen the close
a.close()
served = False
for attempt in range(30):
    d = tcp_connect(timeout=1)
    try:
        served = ask(d, 6) == 6
    except (ConnectionResetError, BrokenPipeError):
        served = False
    d.close()
    if served:
        break
    time.sleep(0.05)
expect_eq("after closing one, a new connection is served", served, True)
b.close()
check_exit()
PY

py_check "idle timeout" <<'PY'
from bbdns import *
import select
import time

# three connections idle at once: silent from the start; idle after one answered query;
# half a message, then silence (a partial message does not keep a connection alive)
silent = tcp_connect(timeout=1)
answered = tcp_connect(timeout=1)
q = query("lb.example.test", "SOA", qid=77)
answered.sendall(struct.pack("!H", len(q)) + q)
expect_eq("answer before idling", parse(tcp_recv_msg(answered)).id, 77)
partial = tcp_connect(timeout=1)
partial.sendall(b"\x00\x40\x12\x34")
names = {silent: "silent connection", answered: "idle connection after a query",
         partial: "half a message, then silence"}
open_ = set(names)
end = time.monotonic() + 3.0
while open_ and time.monotonic() < end:
    ready, _, _ = select.select(list(open_), [], [], max(0.0, end - time.monotonic()))
    for s in ready:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if data == b"":
            open_.discard(s)
for s, name in names.items():
    expect_eq(name + ": closed by the server within 3 s", s not in open_, True)
    s.close()
check_exit()
PY

ask qt lb.example.test SOA
expect_eq "TCP served after the idle tests" "$STATUS/$COUNTS" "NOERROR/1/0/1"

finish
