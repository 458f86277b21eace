#!/usr/bin/env python3
"""Poll DNS servers until each answers NAME A with exactly the wanted address set.

    xfrwatch.py [--timeout S] [--interval S] NAME WANT LABEL=ADDR:PORT...

WANT is a comma-separated address list ("127.0.0.21,127.0.0.22"). Each server is asked
over UDP (no recursion) every --interval seconds (default 0.02). For each server one line
"LABEL EPOCH_MS" is printed when it first answers the wanted set (wall clock, comparable
with steerd's log timestamps), or "LABEL timeout [LAST ANSWER]" after --timeout seconds
(default 10). Exit 0 when every server matched. Used by 141-xfr-secondaries.sh and
scripts/bench-xfr.sh to time a change seen through secondaries.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "blackbox"))
import bbdns  # noqa: E402


def answer_set(addr, port, name):
    """The sorted A addresses of one answer, or a short error text."""
    try:
        raw = bbdns.udp(bbdns.query(name, "A"), host=addr, port=port, timeout=0.2)
    except (OSError, socket.timeout):
        return "no answer"
    if raw is None:
        return "no answer"
    msg = bbdns.parse(raw)
    if msg.rcode != 0:
        return msg.rcode_name()
    return ",".join(sorted(socket.inet_ntoa(rr[4]) for rr in msg.answer if rr[1] == 1))


def main():
    args = sys.argv[1:]
    timeout, interval = 10.0, 0.02
    while args and args[0].startswith("--"):
        opt, val = args[0], float(args[1])
        args = args[2:]
        if opt == "--timeout":
            timeout = val
        else:
            interval = val
    name, want, targets = args[0], ",".join(sorted(args[1].split(","))), args[2:]
    pending = {}
    for t in targets:
        label, hostport = t.split("=", 1)
        host, port = hostport.rsplit(":", 1)
        pending[label] = (host, int(port))
    last = {label: "" for label in pending}
    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        for label, (host, port) in list(pending.items()):
            got = answer_set(host, port, name)
            last[label] = got
            if got == want:
                print("%s %d" % (label, time.time() * 1000), flush=True)
                del pending[label]
        time.sleep(interval)
    for label in pending:
        print("%s timeout [%s]" % (label, last[label]), flush=True)
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main())
