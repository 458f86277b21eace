"""Query one balancer name over UDP in a loop until a stop file appears (bounded in count
and time) and check every response: NOERROR, at least one A record, every address in the
allowed set. Prints one summary line, "queries=N bad=M", then the first bad responses.

usage: query_loop.py PORT NAME STOP_FILE MAX_SECONDS ADDR...
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import bbdns  # noqa: E402

MAX_QUERIES = 100000
PACE_S = 0.005


def check(raw, allowed):
    if raw is None:
        return "no response"
    msg = bbdns.parse(raw)
    if msg.rcode != 0:
        return "rcode %s" % msg.rcode_name()
    addrs = [socket.inet_ntoa(rr[4]) for rr in msg.answer if rr[1] == 1]
    if not addrs:
        return "no A record"
    wrong = [a for a in addrs if a not in allowed]
    if wrong:
        return "unexpected address %s" % ",".join(wrong)
    return None


def main():
    port, name, stop, max_s = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    allowed = set(sys.argv[5:])
    end = time.monotonic() + max_s
    n = 0
    bad = []
    while n < MAX_QUERIES and time.monotonic() < end and not os.path.exists(stop):
        why = check(bbdns.udp(bbdns.query(name), port=port, timeout=1.0), allowed)
        n += 1
        if why is not None:
            bad.append("%.3f %s" % (time.time(), why))
        time.sleep(PACE_S)
    print("queries=%d bad=%d" % (n, len(bad)))
    for line in bad[:10]:
        print(line)


if __name__ == "__main__":
    main()
