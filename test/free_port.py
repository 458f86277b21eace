#!/usr/bin/env python3
"""Print a random port that is free on every given address (TCP, and UDP with --udp).

    free_port.py [--udp] ADDR...      e.g. free_port.py --udp 127.0.0.1 ::1

Used by the black-box tests and the benchmarks so that parallel runs never collide. The
port is never one the kernel hands out as an ephemeral source port (outside
net.ipv4.ip_local_port_range): otherwise a dig of one test could hold, as its source port,
the port another test's server just chose, and receive the other test's queries.
"""
import random
import socket
import sys


def candidates():
    """Ports below the ephemeral range (and above it, if there is room there)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    ranges = [(r0, r1) for r0, r1 in ((10000, low - 1), (high + 1, 65535)) if r1 - r0 >= 1000]
    return ranges or [(20000, 60000)]


def main():
    args = sys.argv[1:]
    udp = "--udp" in args
    addrs = [a for a in args if a != "--udp"] or ["127.0.0.1"]
    types = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
    ranges = candidates()
    for _ in range(200):
        port = random.randint(*random.choice(ranges))
        socks = []
        try:
            for addr in addrs:
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                for typ in types:
                    s = socket.socket(fam, typ)
                    socks.append(s)
                    s.bind((addr, port))
            print(port)
            return 0
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    print("no free port found", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
