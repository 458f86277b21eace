"""Raw DNS helpers for the black-box tests (stdlib only): build queries byte by byte,
send them over UDP or TCP, and parse responses, so tests can send what dig refuses to
(malformed packets, other opcodes, pipelined TCP) and check header bits dig hides.

Checks print "ok: ..." or "FAIL: ..." like lib.sh; check_exit() ends the script with
status 1 if any check failed, which lib.sh's py_check turns into a failed check.
"""
import os
import random
import socket
import struct
import sys

PORT = int(os.environ.get("PORT", "0"))
FAILS = 0

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "OPT": 41, "DS": 43, "IXFR": 251, "AXFR": 252,
         "ANY": 255, "CAA": 257}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 9: "NOTAUTH", 16: "BADVERS"}


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global FAILS
    FAILS += 1
    print("FAIL: " + msg, flush=True)


def expect_eq(name, actual, expected):
    if actual == expected:
        ok(name)
    else:
        fail("%s: expected %r, got %r" % (name, expected, actual))


def check_exit():
    sys.exit(1 if FAILS else 0)


def wire_name(name):
    """Text name to wire format, case kept (no compression)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt_rr(payload=1232, version=0, do=False, options=b"", rdlen=None, ext_rcode=0):
    """An OPT pseudo-RR; rdlen overrides the RDLENGTH field to build broken ones."""
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    if rdlen is None:
        rdlen = len(options)
    return b"\0" + struct.pack("!HHIH", 41, payload, ttl, rdlen) + options


def question(name, qtype="A", qclass=1):
    t = TYPES[qtype] if isinstance(qtype, str) else qtype
    return wire_name(name) + struct.pack("!HH", t, qclass)


def query(name, qtype="A", qid=None, rd=False, opcode=0, qclass=1, edns=False, **opt):
    """A complete query; edns=True adds an OPT (keyword args go to opt_rr)."""
    if qid is None:
        qid = random.randint(0, 0xFFFF)
    flags = (opcode << 11) | (0x0100 if rd else 0)
    ar = 1 if edns else 0
    pkt = header(qid, flags, ar=ar) + question(name, qtype, qclass)
    if edns:
        pkt += opt_rr(**opt)
    return pkt


def udp(pkt, host="127.0.0.1", port=None, timeout=1.0):
    """Send one datagram; return the response, or None after timeout seconds."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(pkt, (host, port or PORT))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_connect(host="127.0.0.1", port=None, timeout=2.0, src=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))  # another loopback address as the client's
    s.connect((host, port or PORT))
    return s


def recv_exact(s, n):
    """n bytes, or fewer if the peer closed the connection first."""
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_recv_msg(s):
    """One length-prefixed message, or None if the connection closed first."""
    pfx = recv_exact(s, 2)
    if len(pfx) < 2:
        return None
    (n,) = struct.unpack("!H", pfx)
    msg = recv_exact(s, n)
    return msg if len(msg) == n else None


def tcp(pkt, host="127.0.0.1", port=None, timeout=2.0, src=None):
    with tcp_connect(host, port, timeout, src) as s:
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
        return tcp_recv_msg(s)


def read_name(msg, off):
    """Decompress the name at off; return (text, offset after it). Bounded hops."""
    labels = []
    end = None
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n == 0:
            off += 1
            break
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    else:
        raise ValueError("compression loop")
    return ".".join(labels) + ".", (end if end is not None else off)


class Msg:
    """A parsed response: header fields, question, and sections as
    (owner, type, class, ttl, rdata bytes, rdata offset) tuples."""

    def __init__(self, raw):
        self.raw = raw
        (self.id, flags, qd, an, ns, ar) = struct.unpack("!HHHHHH", raw[:12])
        self.flags = flags
        self.qr = bool(flags & 0x8000)
        self.opcode = (flags >> 11) & 0xF
        self.aa = bool(flags & 0x0400)
        self.tc = bool(flags & 0x0200)
        self.rd = bool(flags & 0x0100)
        self.ra = bool(flags & 0x0080)
        self.cd = bool(flags & 0x0010)
        self.rcode = flags & 0xF
        self.counts = (qd, an, ns, ar)
        off = 12
        self.question = []
        for _ in range(qd):
            name, o = read_name(raw, off)
            qtype, qclass = struct.unpack("!HH", raw[o:o + 4])
            self.question.append((name, qtype, qclass))
            off = o + 4
        self.question_end = off
        self.sections = []
        for count in (an, ns, ar):
            rrs = []
            for _ in range(count):
                name, o = read_name(raw, off)
                rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", raw[o:o + 10])
                rrs.append((name, rtype, rclass, ttl, raw[o + 10:o + 10 + rdlen], o + 10))
                off = o + 10 + rdlen
            self.sections.append(rrs)
        self.answer, self.authority, self.additional = self.sections
        if off != len(raw):
            raise ValueError("%d trailing bytes" % (len(raw) - off))
        self.opt = None
        for rr in self.additional:
            if rr[1] == 41:
                self.opt = rr
        if self.opt is not None:
            self.rcode |= (self.opt[3] >> 24) << 4

    def rcode_name(self):
        return RCODES.get(self.rcode, str(self.rcode))


def parse(raw):
    return Msg(raw)


def metrics():
    """steerd's /metrics document (API from the environment) as {series as written:
    value}."""
    import os
    import urllib.request
    with urllib.request.urlopen(os.environ["API"] + "/metrics", timeout=5) as r:
        text = r.read().decode()
    return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in text.splitlines()
                                     if line and not line.startswith("#"))}
