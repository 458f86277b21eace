#!/usr/bin/env python3
"""Print a random port that is free on every given address (TCP, and UDP with --udp).

    free_port.py [--udp] ADDR...      e.g. free_port.py --udp 127.0.0.1 ::1

Used by the black-box tests and the benchmarks so that parallel runs never collide.
"""
import random
import socket
import sys


def main():
    args = sys.argv[1:]
    udp = "--udp" in args
    addrs = [a for a in args if a != "--udp"] or ["127.0.0.1"]
    types = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
    for _ in range(200):
        port = random.randint(20000, 60000)
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
