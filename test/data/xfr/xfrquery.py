#!/usr/bin/env python3
"""One zone-transfer query over TCP from a chosen source address; prints the first
response's "RCODE TSIG_ERROR ANCOUNT" (TSIG_ERROR "-" when unsigned).

    xfrquery.py SERVER PORT SOURCE ZONE TYPE [KEYNAME SECRET_B64]

TYPE is AXFR or SOA. With a key the query is signed with hmac-sha256 (RFC 8945), so a
wrong secret can be sent on purpose (dig and kdig stop at the signature error and do not
print the RCODE). Used by 141-xfr-secondaries.sh.
"""
import base64
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "blackbox"))
import bbdns  # noqa: E402

RCODES = dict(bbdns.RCODES)
RCODES[9] = "NOTAUTH"
TSIG_ERRORS = {0: "NOERROR", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME"}


def sign(pkt, key, secret):
    """Append a TSIG RR (hmac-sha256, fudge 300) to query pkt and bump ARCOUNT."""
    alg = bbdns.wire_name("hmac-sha256.")
    name = bbdns.wire_name(key.lower())
    now = int(time.time())
    tvars = (name + struct.pack("!HI", 255, 0) + alg + struct.pack("!HIH", now >> 32,
             now & 0xFFFFFFFF, 300) + struct.pack("!HH", 0, 0))
    mac = hmac.new(base64.b64decode(secret), pkt + tvars, hashlib.sha256).digest()
    qid = struct.unpack("!H", pkt[:2])[0]
    rdata = (alg + struct.pack("!HIH", now >> 32, now & 0xFFFFFFFF, 300) +
             struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", qid, 0, 0))
    rr = name + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata
    ar = struct.unpack("!H", pkt[10:12])[0] + 1
    return pkt[:10] + struct.pack("!H", ar) + pkt[12:] + rr


def tsig_error(msg):
    for rr in msg.additional:
        if rr[1] == 250:
            _, off = bbdns.read_name(msg.raw, rr[5])
            off += 8  # time (6) and fudge (2)
            maclen = struct.unpack("!H", msg.raw[off:off + 2])[0]
            off += 2 + maclen + 2
            err = struct.unpack("!H", msg.raw[off:off + 2])[0]
            return TSIG_ERRORS.get(err, str(err))
    return "-"


def main():
    server, port, source, zone, qtype = sys.argv[1:6]
    pkt = bbdns.query(zone, qtype)
    if len(sys.argv) > 7:
        pkt = sign(pkt, sys.argv[6], sys.argv[7])
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.bind((source, 0))
        s.connect((server, int(port)))
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
        raw = bbdns.tcp_recv_msg(s)
    if raw is None:
        print("no-answer - 0")
        return 1
    msg = bbdns.parse(raw)
    print("%s %s %d" % (RCODES.get(msg.rcode, str(msg.rcode)), tsig_error(msg), msg.counts[1]))
    return 0


if __name__ == "__main__":
    random.seed()
    sys.exit(main())
