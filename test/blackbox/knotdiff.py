"""Differential test of steerd against Knot DNS (stdlib only; used by 47-knot-diff.sh).

Both servers serve the same zone (test/data/knotdiff). A few hundred odd queries, built
byte by byte from a fixed seed, go to both; each response is reduced to what must agree
(RCODE, opcode, flags, question echo, section counts, EDNS, EDE codes, RRsets without
order) and the two summaries are compared. A difference must be explained by a rule
below: DELIBERATE ones (the RFCs allow either answer; lib/dns/LENIENCY.md says why steerd
keeps its own) print "ok:", KNOWN ones (steerd bugs or differences still to align, the
"to fix" list of LENIENCY.md) print "known:" and do not fail, anything else is a
"FAIL:". A known difference that no longer occurs prints "fixed:" so that it can be
turned into a hard check.

    knotdiff.py STEERD_PORT KNOT_PORT     (KNOTDIFF_SEED=N: another seed; -v: every diff)
"""
import os
import random
import select
import socket
import struct
import sys
import time

from bbdns import header, opt_rr, question, wire_name

ZONE = "lb.example.test"
SEED = 4747

# --- building queries ---------------------------------------------------------------


def rr(owner=b"\0", rtype=1, rclass=1, ttl=0, rdata=b"\1\2\3\4"):
    """A resource record in wire format (owner already in wire format)."""
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(payload=1232, version=0, do=False, options=b"", ext_rcode=0, z=0, owner=b"\0"):
    """An OPT record with every field settable (z: the 15 flag bits after DO)."""
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0) | (z & 0x7FFF)
    return owner + struct.pack("!HHIH", 41, payload, ttl, len(options)) + options


def option(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def flags_word(opcode=0, qr=False, aa=False, tc=False, rd=False, ra=False, z=False,
               ad=False, cd=False, rcode=0):
    return ((0x8000 if qr else 0) | (opcode << 11) | (0x0400 if aa else 0) |
            (0x0200 if tc else 0) | (0x0100 if rd else 0) | (0x0080 if ra else 0) |
            (0x0040 if z else 0) | (0x0020 if ad else 0) | (0x0010 if cd else 0) | rcode)


def q(name, qtype=1, qclass=1, edns=None, flags=0, qid=None, rng=None):
    """A single-question query; edns is None or the bytes of an OPT record."""
    if qid is None:
        qid = rng.randrange(65536)
    pkt = header(qid, flags, ar=1 if edns is not None else 0) + question(name, qtype, qclass)
    return pkt + (edns or b"")


class Case:
    def __init__(self, cat, label, pkt, transport="udp"):
        self.cat, self.label, self.pkt, self.transport = cat, label, pkt, transport


IN_ZONE = ["lb.example.test", "api.lb.example.test", "host.lb.example.test",
           "www.lb.example.test", "chain1.lb.example.test", "loop1.lb.example.test",
           "ext.lb.example.test", "dangling.lb.example.test", "b.c.ent.lb.example.test",
           "a.b.c.ent.lb.example.test", "nope.lb.example.test", "foo.wild.lb.example.test",
           "x.wild.lb.example.test", "sub.lb.example.test", "x.sub.lb.example.test",
           "_sip._udp.lb.example.test", "ptr.lb.example.test", "unk.lb.example.test",
           "v6.lb.example.test", "mx1.lb.example.test", "ns1.lb.example.test",
           "c0.lb.example.test", "mid.lb.example.test"]
OUT_ZONE = ["example.com", ".", "test", "example.test", "xlb.example.test",
            "lb.example.test.evil", "version.bind"]
CH_NAMES = ["version.bind", "version.server", "id.server", "hostname.bind",
            "authors.bind", "VERSION.BIND", "Id.Server", "version", "lb.example.test"]
QTYPES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 46, 48, 52, 65, 99, 255, 257, 65534]


def cat_baseline(rng):
    out = []
    for name in IN_ZONE + OUT_ZONE[:3]:
        for t in (1, 28, 255, rng.choice(QTYPES)):
            e = opt() if rng.random() < 0.5 else None
            out.append(Case("baseline", "%s type %d%s" % (name, t, " +edns" if e else ""),
                            q(name, t, edns=e, rng=rng)))
    for name, t in ((ZONE, 15), (ZONE, 2), (ZONE, 16), (ZONE, 257), ("_sip._udp." + ZONE, 33),
                    ("sub." + ZONE, 2), ("sub." + ZONE, 43), ("ptr." + ZONE, 12),
                    ("unk." + ZONE, 65534), ("x.wild." + ZONE, 16), ("ent." + ZONE, 1),
                    ("www." + ZONE, 5), ("ext." + ZONE, 1), ("host." + ZONE, 5),
                    ("host." + ZONE, 16), ("loop1." + ZONE, 1), ("c0." + ZONE, 5), ("www." + ZONE, 46),
                    ("www." + ZONE, 47), ("chain1." + ZONE, 46)):
        out.append(Case("baseline", "%s type %d" % (name, t), q(name, t, edns=opt(), rng=rng)))
    return out


def cat_header_counts(rng):
    good = question(ZONE, 6)
    a_rr = rr(b"\xc0\x0c")
    out = []
    for e in (None, opt()):
        ar, tail, tag = (1, e, " +edns") if e else (0, b"", "")
        c = lambda label, pkt: out.append(Case("header counts", label + tag, pkt))
        c("QDCOUNT 0", header(rng.randrange(65536), qd=0, ar=ar) + tail)
        c("QDCOUNT 0, a question follows", header(rng.randrange(65536), qd=0, ar=ar) + good + tail)
        c("QDCOUNT 2, two questions", header(rng.randrange(65536), qd=2, ar=ar) + good + good + tail)
        c("QDCOUNT 2, different questions", header(rng.randrange(65536), qd=2, ar=ar) + good +
          question("api." + ZONE, 1) + tail)
        c("QDCOUNT 2, one question", header(rng.randrange(65536), qd=2, ar=ar) + good + tail)
        c("QDCOUNT 65535", header(rng.randrange(65536), qd=65535, ar=ar) + good + tail)
        c("ANCOUNT 1", header(rng.randrange(65536), an=1, ar=ar) + good + a_rr + tail)
        c("ANCOUNT 1, nothing there", header(rng.randrange(65536), an=1, ar=ar) + good + tail)
        c("NSCOUNT 1", header(rng.randrange(65536), ns=1, ar=ar) + good + a_rr + tail)
        c("NSCOUNT 1 SOA", header(rng.randrange(65536), ns=1, ar=ar) + good +
          rr(b"\xc0\x0c", 6, 1, 0, b"\0\0" + b"\0" * 20) + tail)
        c("ARCOUNT +1 A record", header(rng.randrange(65536), ar=ar + 1) + good + a_rr + tail)
        c("ARCOUNT +1, nothing there", header(rng.randrange(65536), ar=ar + 1) + good + tail)
        c("ARCOUNT 65535", header(rng.randrange(65536), ar=65535) + good + tail)
        c("trailing garbage", header(rng.randrange(65536), ar=ar) + good + tail + b"\xde\xad")
        c("trailing zero byte", header(rng.randrange(65536), ar=ar) + good + tail + b"\0")
        c("header only", header(rng.randrange(65536), qd=0, ar=0))
    out.append(Case("header counts", "ANCOUNT 1 over TCP",
                    header(rng.randrange(65536), an=1) + good + a_rr, "tcp"))
    out.append(Case("header counts", "QDCOUNT 2 over TCP",
                    header(rng.randrange(65536), qd=2) + good + good, "tcp"))
    return out


def cat_opcodes(rng):
    out = []
    for op in range(1, 16):
        for e in (None, opt()):
            out.append(Case("opcodes", "opcode %d%s" % (op, " +edns" if e else ""),
                            q(ZONE, 6, flags=flags_word(op), edns=e, rng=rng)))
    out.append(Case("opcodes", "opcode 3 out of zone",
                    q("example.com", 1, flags=flags_word(3), rng=rng)))
    soa = rr(b"\xc0\x0c", 6, 1, 0, b"\0\0" + b"\0" * 20)
    out.append(Case("opcodes", "NOTIFY with an SOA",
                    header(rng.randrange(65536), flags_word(4, aa=True), an=1) +
                    question(ZONE, 6) + soa))
    out.append(Case("opcodes", "NOTIFY out of zone",
                    q("example.com", 6, flags=flags_word(4, aa=True), rng=rng)))
    out.append(Case("opcodes", "UPDATE empty",
                    header(rng.randrange(65536), flags_word(5), qd=1) + question(ZONE, 6)))
    out.append(Case("opcodes", "opcode 4, QDCOUNT 0",
                    header(rng.randrange(65536), flags_word(4), qd=0)))
    out.append(Case("opcodes", "opcode 2 over TCP", q(ZONE, 6, flags=flags_word(2), rng=rng),
                    "tcp"))
    return out


def cat_flags(rng):
    out = []
    bits = ["aa", "tc", "rd", "ra", "z", "ad", "cd"]
    for b in bits:
        for name in ("api." + ZONE, "nope." + ZONE, "example.com"):
            for e in (None, opt(do=True)):
                f = flags_word(**{b: True})
                out.append(Case("query flags", "%s set, %s%s" % (b.upper(), name, " +edns do" if e else ""),
                                q(name, 1, flags=f, edns=e, rng=rng)))
    for _ in range(12):
        kw = {b: rng.random() < 0.5 for b in bits}
        kw["rcode"] = rng.choice((0, 0, 1, 3, 5, 15))
        f = flags_word(**kw)
        out.append(Case("query flags", "flags %04x" % f, q("www." + ZONE, 1, flags=f,
                                                          edns=opt() if kw["ad"] else None, rng=rng)))
    out.append(Case("query flags", "QR set", q(ZONE, 6, flags=flags_word(qr=True), rng=rng)))
    out.append(Case("query flags", "QR set, RCODE 3",
                    q(ZONE, 6, flags=flags_word(qr=True, rcode=3), rng=rng)))
    return out


def cat_qtypes(rng):
    out = []
    types = [0, 41, 65535, 255, 251, 252, 253, 254, 249, 250, 128, 129, 200, 248,
             65534, 65280, 32768, 32769, 99, 262, rng.randrange(266, 32768)]
    for t in types:
        for name in (ZONE, "api." + ZONE, "nope." + ZONE, "example.com"):
            e = opt() if rng.random() < 0.5 else None
            out.append(Case("rare qtypes", "type %d at %s%s" % (t, name, " +edns" if e else ""),
                            q(name, t, edns=e, rng=rng)))
    for t in (0, 41, 250, 65535):
        out.append(Case("rare qtypes", "type %d over TCP" % t, q(ZONE, t, rng=rng), "tcp"))
    return out


def cat_classes(rng):
    out = []
    for c in (3, 4, 254, 255, 0, 2, 65535, 1000):
        for name in (ZONE, "api." + ZONE, "version.bind", "example.com"):
            for t in (1, 16):
                e = opt() if rng.random() < 0.5 else None
                out.append(Case("classes", "class %d %s type %d%s" % (c, name, t, " +edns" if e else ""),
                                q(name, t, c, edns=e, rng=rng)))
    return out


def cat_opt_placement(rng):
    good = question("api." + ZONE, 1)
    out = []
    o = opt()
    a_rr = rr(b"\xc0\x0c")
    c = lambda label, pkt: out.append(Case("OPT placement", label, pkt))
    qid = lambda: rng.randrange(65536)
    c("OPT then A", header(qid(), ar=2) + good + o + a_rr)
    c("A then OPT", header(qid(), ar=2) + good + a_rr + o)
    c("two OPTs", header(qid(), ar=2) + good + o + o)
    c("two OPTs, versions 0 and 1", header(qid(), ar=2) + good + o + opt(version=1))
    c("OPT owner 'x'", header(qid(), ar=1) + good + opt(owner=b"\1x\0"))
    c("OPT owner the qname (pointer)", header(qid(), ar=1) + good + opt(owner=b"\xc0\x0c"))
    root_at = 12 + len(wire_name("api." + ZONE)) - 1  # the question name's final 0x00
    c("OPT owner pointer to root", header(qid(), ar=1) + good + opt(owner=bytes([0xC0, root_at])))
    c("OPT in answer", header(qid(), an=1) + good + o)
    c("OPT in authority", header(qid(), ns=1) + good + o)
    c("OPT in answer and additional", header(qid(), an=1, ar=1) + good + o + o)
    c("OPT class 0 (payload 0)", header(qid(), ar=1) + good + opt(payload=0))
    c("OPT payload 511", header(qid(), ar=1) + good + opt(payload=511))
    c("OPT payload 512", header(qid(), ar=1) + good + opt(payload=512))
    c("OPT payload 65535", header(qid(), ar=1) + good + opt(payload=65535))
    c("OPT extended RCODE 1 in a query", header(qid(), ar=1) + good + opt(ext_rcode=1))
    c("OPT extended RCODE 255", header(qid(), ar=1) + good + opt(ext_rcode=255))
    c("OPT Z bits", header(qid(), ar=1) + good + opt(z=0x7FFF))
    c("OPT DO and Z", header(qid(), ar=1) + good + opt(do=True, z=1))
    c("OPT RDLENGTH 1 short", header(qid(), ar=1) + good + opt()[:-2] + b"\0\1")
    c("OPT cut in the middle", header(qid(), ar=1) + good + o[:6])
    c("OPT with TTL field", header(qid(), ar=1) + good + b"\0\0\x29\x04\xd0\0\0\0\0\0\0")
    c("OPT, type TSIG after", header(qid(), ar=2) + good + o + rr(b"\0", 250, 255, 0, b""))
    c("OPT with a cut-off option", header(qid(), ar=1) + good + opt(options=b"\0\x0a\0\x08\1\2"))
    return out


def cat_edns_versions(rng):
    out = []
    for v in (0, 1, 2, 100, 255):
        for name, t, cl in ((ZONE, 6, 1), ("nope." + ZONE, 1, 1), ("example.com", 1, 1),
                            ("version.bind", 16, 3), (ZONE, 252, 1)):
            for do in (False, True):
                out.append(Case("EDNS versions", "version %d %s/%d/%d%s" % (v, name, t, cl, " do" if do else ""),
                                q(name, t, cl, edns=opt(version=v, do=do), rng=rng)))
    out.append(Case("EDNS versions", "version 1 with NSID",
                    q(ZONE, 6, edns=opt(version=1, options=option(3)), rng=rng)))
    out.append(Case("EDNS versions", "version 1 opcode 1",
                    q(ZONE, 6, flags=flags_word(1), edns=opt(version=1), rng=rng)))
    out.append(Case("EDNS versions", "version 1 over TCP", q(ZONE, 6, edns=opt(version=1), rng=rng), "tcp"))
    return out


def cat_edns_options(rng):
    out = []
    opts = [("unknown 65001", option(65001, b"hello")), ("unknown 65535 empty", option(65535)),
            ("unknown 0", option(0, b"\0")), ("NSID empty", option(3)),
            ("NSID with data", option(3, b"xx")), ("padding", option(12, b"\0" * 20)),
            ("cookie client 8", option(10, b"12345678")),
            ("cookie 16+8", option(10, b"12345678" + b"abcdefgh" * 2)),
            ("cookie bad length 5", option(10, b"12345")), ("cookie 41 bytes", option(10, b"x" * 41)),
            ("ECS /24", option(8, b"\0\1\x18\0\xc0\0\2")),
            ("ECS bad family", option(8, b"\0\x09\0\0")),
            ("ECS source 33", option(8, b"\0\1\x21\0\xc0\0\2\1\1")),
            ("ECS short", option(8, b"\0")),
            ("keepalive over UDP", option(11)),
            ("keepalive with timeout", option(11, b"\0\x10")),
            ("EDE in a query", option(15, b"\0\x14")),
            ("DAU DHU N3U", option(5, b"\x08") + option(6, b"\x02") + option(7, b"\x01")),
            ("chain", option(13, b"\0")), ("expire", option(9)), ("tcp keepalive bad len", option(11, b"\0")),
            ("two NSID", option(3) + option(3)), ("report-channel", option(18, b"\0")),
            ]
    for label, o in opts:
        for name, t, cl in (("api." + ZONE, 1, 1), ("example.com", 1, 1), ("id.server", 16, 3)):
            out.append(Case("EDNS options", "%s, %s" % (label, name),
                            q(name, t, cl, edns=opt(options=o), rng=rng)))
    out.append(Case("EDNS options", "padding over TCP",
                    q(ZONE, 6, edns=opt(options=option(12, b"\0" * 8)), rng=rng), "tcp"))
    out.append(Case("EDNS options", "keepalive over TCP",
                    q(ZONE, 6, edns=opt(options=option(11)), rng=rng), "tcp"))
    return out


def cat_chaos(rng):
    out = []
    for name in CH_NAMES:
        for t in (16, 1, 255, 6):
            kw = rng.choice([{}, {"rd": True}, {"aa": True}, {"cd": True}, {"ad": True},
                             {"rd": True, "cd": True}, {"tc": True}])
            e = opt(options=option(3)) if rng.random() < 0.5 else None
            out.append(Case("CH queries", "CH %s type %d %s%s" % (name, t, ",".join(sorted(kw)) or "-",
                                                                    " +edns" if e else ""),
                            q(name, t, 3, flags=flags_word(**kw), edns=e, rng=rng)))
    out.append(Case("CH queries", "CH version.bind over TCP", q("version.bind", 16, 3, rng=rng), "tcp"))
    out.append(Case("CH queries", "CH version.bind opcode 2",
                    q("version.bind", 16, 3, flags=flags_word(2), rng=rng)))
    return out


def cat_names(rng):
    out = []
    qid = lambda: rng.randrange(65536)
    c = lambda label, pkt, tr="udp": out.append(Case("names", label, pkt, tr))
    for name in ("API.LB.EXAMPLE.TEST", "Api.Lb.Example.Test", "wWw.lb.example.test",
                 "FOO.WILD.lb.example.test", "Chain1.LB.example.test", "NOPE.lb.EXAMPLE.test",
                 "Sub.Lb.Example.Test", "X.SUB.lb.example.test", "LB.EXAMPLE.TEST"):
        c("case %s" % name, q(name, 1, edns=opt(), rng=rng))
    max_name = ".".join(["m" * 63] * 3 + ["n" * 45]) + "." + ZONE
    c("name of 255 bytes", q(max_name, 1, rng=rng))
    c("name of 255 bytes over TCP", q(max_name, 1, edns=opt(), rng=rng), "tcp")
    c("name of 254 bytes", q(max_name[1:], 1, rng=rng))
    big = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\0"
    c("name of 257 bytes", header(qid()) + big + b"\0\1\0\1")
    c("label of 64 (type 0x40)", header(qid()) + b"\x40" + b"a" * 64 + wire_name(ZONE) + b"\0\1\0\1")
    c("label type 0x80", header(qid()) + b"\x81a" + wire_name(ZONE) + b"\0\1\0\1")
    for lab in (b"a\0b", b"\0", b"\0\0\0", b"a.b", b"\xff\xfe", b" ", b"*", b"\\", b"@"):
        c("label %r" % lab, header(qid()) + bytes([len(lab)]) + lab + wire_name(ZONE) + b"\0\1\0\1")
    c("label 0x00 under wild", header(qid()) + b"\1\0" + wire_name("wild." + ZONE) + b"\0\1\0\1")
    c("pointer to header", header(qid()) + b"\x03api\xc0\x00" + b"\0\1\0\1")
    c("pointer to itself", header(qid()) + b"\xc0\x0c" + b"\0\1\0\1")
    c("pointer forward", header(qid()) + b"\x03api\xc0\x16\0\1\0\1" + wire_name(ZONE))
    c("pointer past the end", header(qid()) + b"\x03api\xc0\xff\0\1\0\1")
    c("pointer to the question's suffix via OPT",
      header(qid(), ar=1) + wire_name("api." + ZONE) + b"\0\1\0\1" + opt())
    c("bare pointer byte", header(qid()) + b"\xc0")
    c("empty name (root) A", q(".", 1, rng=rng))
    c("root NS", q(".", 2, edns=opt(), rng=rng))
    c("root SOA", q(".", 6, rng=rng))
    c("question without class", header(qid()) + wire_name(ZONE) + b"\0\6")
    c("question cut in the name", header(qid()) + wire_name(ZONE)[:7])
    c("qname '*.wild' itself", q("*.wild." + ZONE, 1, rng=rng))
    c("qname with 127 labels", q(".".join(["a"] * 119) + "." + ZONE, 1, rng=rng))
    return out


def cat_out_of_zone(rng):
    out = []
    for name in OUT_ZONE[:-1] + ["ns.example.net", "www.example.net", "arpa", "in-addr.arpa",
                                "1.0.0.127.in-addr.arpa", "localhost"]:
        for t in (1, 6, 2, 255):
            kw = {"rd": rng.random() < 0.5}
            e = opt() if rng.random() < 0.6 else None
            out.append(Case("out-of-zone", "%s type %d%s%s" % (name, t, " rd" if kw["rd"] else "",
                                                                " +edns" if e else ""),
                            q(name, t, flags=flags_word(**kw), edns=e, rng=rng)))
    out.append(Case("out-of-zone", "example.com over TCP", q("example.com", 1, edns=opt(), rng=rng), "tcp"))
    return out


def cat_sizes(rng):
    out = []
    for name, t in (("big." + ZONE, 16), ("mid." + ZONE, 16), (ZONE, 2), (ZONE, 255), ("big." + ZONE, 255)):
        for e in (None, opt(payload=512), opt(payload=1232), opt(payload=4096)):
            tag = "no edns" if e is None else "payload %d" % struct.unpack("!H", e[3:5])[0]
            out.append(Case("sizes", "%s type %d %s" % (name, t, tag), q(name, t, edns=e, rng=rng)))
        out.append(Case("sizes", "%s type %d over TCP" % (name, t), q(name, t, rng=rng), "tcp"))
    return out


CATEGORIES = [cat_baseline, cat_header_counts, cat_opcodes, cat_flags, cat_qtypes, cat_classes,
              cat_opt_placement, cat_edns_versions, cat_edns_options, cat_chaos, cat_names,
              cat_out_of_zone, cat_sizes]


def all_cases(seed):
    rng = random.Random(seed)
    cases = []
    for gen in CATEGORIES:
        cases += gen(rng)
    return cases


# --- sending ------------------------------------------------------------------------


def send_udp_batch(cases, ports, timeout):
    """Send every case to every port at once; return {(i, port): raw or None}."""
    socks = {}
    for i, c in enumerate(cases):
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.sendto(c.pkt, ("127.0.0.1", p))
            socks[s] = (i, p)
    got = {}
    deadline = time.monotonic() + timeout
    pending = set(socks)
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(pending), [], [], left)
        for s in ready:
            got[socks[s]] = s.recv(65535)
            pending.discard(s)
    for s in socks:
        s.close()
    return got


def send_tcp(pkt, port, timeout=1.0):
    """One query over a fresh TCP connection; None if no whole answer came back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(struct.pack("!H", len(pkt)) + pkt)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    return None
                buf += chunk
            return buf[2:2 + struct.unpack("!H", buf[:2])[0]]
    except OSError:
        return None


# --- reducing a response to what must agree -------------------------------------------

NAME_RDATA = {2: "n", 5: "n", 12: "n", 39: "n", 15: "2n", 6: "nn*", 33: "6n"}


def get_name(msg, off):
    """The name at off, decompressed (bounded); returns (lowercase text, next offset)."""
    labels, end = [], None
    for _ in range(130):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n & 0xC0:
            raise ValueError("label type %02x" % n)
        if n == 0:
            off += 1
            break
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    else:
        raise ValueError("compression loop")
    return ".".join(labels) + ".", (end if end is not None else off)


def rdata_text(msg, rtype, off, rdlen):
    """RDATA with embedded names decompressed, so compression choices do not matter."""
    form = NAME_RDATA.get(rtype)
    raw = msg[off:off + rdlen]
    if form is None:
        return raw.hex()
    parts, o = [], off
    for f in form:
        if f == "n":
            name, o = get_name(msg, o)
            parts.append(name.lower())
        elif f == "2":
            parts.append(msg[o:o + 2].hex())
            o += 2
        elif f == "6":
            parts.append(msg[o:o + 6].hex())
            o += 6
        elif f == "*":
            parts.append(msg[o + 4:off + rdlen].hex())  # the SOA serial is normalised out
    return " ".join(parts)


def summarize(raw, query):
    """A dict of every field that must agree, or {"answer": "none"/"unparseable ..."}."""
    if raw is None:
        return {"answer": "none"}
    try:
        return _summarize(raw, query)
    except (ValueError, IndexError, struct.error) as e:
        return {"answer": "unparseable (%s)" % e}


def _summarize(raw, query):
    qid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", raw[:12])
    s = {"answer": "yes"}
    s["id"] = "same" if qid == struct.unpack("!H", query[:2])[0] else "other"
    s["qr/opcode"] = "%d/%d" % (fl >> 15, (fl >> 11) & 0xF)
    s["flags"] = " ".join(n for n, b in (("aa", 0x400), ("tc", 0x200), ("rd", 0x100), ("ra", 0x80),
                                          ("z", 0x40), ("ad", 0x20), ("cd", 0x10)) if fl & b) or "-"
    off = 12
    qs = []
    for _ in range(qd):
        name, o = get_name(raw, off)
        qs.append(raw[off:o + 4])
        off = o + 4
    s["question"] = "QD=%d %s" % (qd, "echoed" if qd == 1 and query[12:12 + len(qs[0])] == qs[0]
                                  else b"|".join(qs).hex())
    rcode = fl & 0xF
    secs = []
    opt_rr = None
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            name, o = get_name(raw, off)
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", raw[o:o + 10])
            if o + 10 + rdlen > len(raw):
                raise ValueError("RDATA past the end")
            if rtype == 41:
                opt_rr = (name, rclass, ttl, raw[o + 10:o + 10 + rdlen])
            else:
                rrs.append("%s %d %d %d %s" % (name, ttl, rclass, rtype,
                                               rdata_text(raw, rtype, o + 10, rdlen)))
            off = o + 10 + rdlen
        secs.append(sorted(rrs))
    if off != len(raw):
        raise ValueError("%d trailing bytes" % (len(raw) - off))
    s["counts"] = "%d/%d/%d" % (an, ns, ar)
    s["answer RRs"], s["authority RRs"], s["additional RRs"] = ("; ".join(x) or "-" for x in secs)
    s["edns"], s["ede"], s["options"] = "-", "-", "-"
    if opt_rr is not None:
        name, payload, ttl, rdata = opt_rr
        rcode |= (ttl >> 24) << 4
        s["edns"] = "owner %s v%d payload %d %s" % (name, (ttl >> 16) & 0xFF, payload,
                                                    "do" if ttl & 0x8000 else "-")
        codes, ede = [], []
        o = 0
        while o + 4 <= len(rdata):
            code, olen = struct.unpack("!HH", rdata[o:o + 4])
            if code == 15:
                ede.append(str(struct.unpack("!H", rdata[o + 4:o + 6])[0]))  # the text may differ
            elif code != 3:  # NSID: same identity on both, its presence is what counts
                codes.append(str(code))
            else:
                codes.append("nsid")
            o += 4 + olen
        s["ede"] = ",".join(ede) or "-"
        s["options"] = ",".join(codes) or "-"
    s["rcode"] = str(rcode)
    return s


# --- explaining differences ------------------------------------------------------------


def qinfo(pkt):
    """What the rules look at in a query: header fields and the question, as far as it
    parses (missing keys otherwise)."""
    i = {}
    if len(pkt) >= 12:
        _, fl, i["qd"], i["an"], i["ns"], i["ar"] = struct.unpack("!HHHHHH", pkt[:12])
        i["opcode"] = (fl >> 11) & 0xF
    try:
        name, o = get_name(pkt, 12)
        if pkt[12] & 0xC0 == 0 and o + 4 <= len(pkt):
            i["name"] = name.lower()
            i["qtype"], i["qclass"] = struct.unpack("!HH", pkt[o:o + 4])
    except (ValueError, IndexError):
        pass
    return i


class Rule:
    """A difference explained. When match(case, qinfo, steerd, knot) holds, the steerd
    summary's `fields` are replaced by Knot's (or patch(steerd, knot) is applied) before
    the two are compared again. kind: "deliberate" (kept; LENIENCY.md says why) or
    "known" (LENIENCY.md "To fix": expected to become Knot's answer). doc: its entry."""

    def __init__(self, kind, doc, match, fields=None, patch=None):
        self.kind, self.doc, self.match, self.fields, self.patch = kind, doc, match, fields, patch
        self.hits = []

    def apply(self, s, k):
        if self.patch is not None:
            return self.patch(dict(s), k)
        if self.fields is None:
            return dict(k)
        out = dict(s)
        for f in self.fields:
            if f in k:
                out[f] = k[f]
            else:
                out.pop(f, None)
        return out


def has_option(pkt, code):
    """Whether the query's OPT (the last record, as built here) carries option code."""
    o = pkt.rfind(b"\0\0\x29")
    if o < 0 or o + 11 > len(pkt):
        return False
    o += 11
    while o + 4 <= len(pkt):
        c, n = struct.unpack("!HH", pkt[o:o + 4])
        if c == code:
            return True
        o += 4 + n
    return False


def drop_flag(flag):
    def patch(s, k):
        s["flags"] = " ".join(f for f in s["flags"].split() if f != flag) or "-"
        return s
    return patch


def lower_names(s, k):
    for f in ("answer RRs", "authority RRs", "additional RRs"):
        if f in s and f in k and s[f].lower() == k[f].lower():
            s[f] = k[f]
    return s


ALL_RECORDS = {"flags", "counts", "answer RRs", "authority RRs", "additional RRs", "rcode", "ede"}
APEX = ZONE + "."


def rcodes(s, k, sr, kr):
    return s.get("rcode") == sr and k.get("rcode") == kr


RULES = [
    # deliberate: the RFCs allow both answers, steerd keeps its own (LENIENCY.md)
    Rule("deliberate", "D1 FORMERR where Knot drops the query (QDCOUNT != 1, broken names)",
         lambda c, i, s, k: k["answer"] == "none" and s.get("rcode") == "1"),
    Rule("deliberate", "D2 bytes after the last record are ignored",
         lambda c, i, s, k: c.label.startswith("trailing") and rcodes(s, k, "0", "1"),
         ALL_RECORDS | {"edns"}),
    Rule("deliberate", "D3 CD copied into the response",
         lambda c, i, s, k: "cd" in s.get("flags", "").split() and "cd" not in k.get("flags", ""),
         patch=drop_flag("cd")),
    Rule("deliberate", "D4 NOTIFY, UPDATE and zone transfers: NOTIMP",
         lambda c, i, s, k: rcodes(s, k, "4", "9"), {"rcode"}),
    Rule("deliberate", "D5 another opcode: NOTIMP before anything else is checked",
         lambda c, i, s, k: i.get("opcode", 0) != 0 and s.get("rcode") == "4", {"rcode"}),
    Rule("deliberate", "D6 CNAME chains: 8 hops, Knot 5",
         lambda c, i, s, k: i.get("name") == "c0." + APEX and i.get("qtype") not in (46, 47),
         {"counts", "answer RRs"}),
    Rule("deliberate", "D7 ANY at the apex: the SOA (Knot: the NS and its glue)",
         lambda c, i, s, k: i.get("name") == APEX and i.get("qtype") == 255,
         {"counts", "answer RRs", "additional RRs"}),
    Rule("deliberate", "D8 FORMERR for a bad OPT carries an OPT",
         lambda c, i, s, k: rcodes(s, k, "1", "1") and s["edns"] != "-" and k["edns"] == "-",
         {"counts", "edns"}),
    Rule("deliberate", "D9 REFUSED for another class carries EDE 20",
         lambda c, i, s, k: i.get("qclass") not in (1, 3, 255) and s.get("ede") == "20" and
         k.get("ede") == "-", {"ede"}),
    Rule("deliberate", "D10 records other than OPT in the additional section are ignored",
         lambda c, i, s, k: c.label == "OPT, type TSIG after", ALL_RECORDS | {"edns"}),
    Rule("deliberate", "D11 EDNS EXPIRE is not answered",
         lambda c, i, s, k: k.get("options", "").split(",").count("9") == 1, {"options"}),
    Rule("deliberate", "D13 DNS Cookies: a query without a valid server cookie is answered "
         "(Knot: BADCOOKIE over UDP)",
         lambda c, i, s, k: has_option(c.pkt, 10) and k.get("rcode") == "23" and
         s.get("rcode") != "1", ALL_RECORDS | {"options"}),
    Rule("deliberate", "D12 owner names below the question's suffix keep the zone's case",
         lambda c, i, s, k: True, patch=lower_names),
]


def explain(case, s, k):
    """The rules that turn steerd's summary into Knot's, or None if they do not."""
    info = qinfo(case.pkt)
    used = []
    for r in RULES:
        if s == k:
            break
        if not r.match(case, info, s, k):
            continue
        t = r.apply(s, k)
        if t != s:
            s = t
            used.append(r)
    return used if s == k else None


def ask_both(cases, steer_port, knot_port):
    """{id(case): (steerd's raw answer, Knot's)}: UDP in batches, then TCP one by one."""
    udp_cases = [c for c in cases if c.transport == "udp"]
    answers = {}
    for start in range(0, len(udp_cases), 40):
        batch = udp_cases[start:start + 40]
        got = send_udp_batch(batch, (steer_port, knot_port), 0.5)
        for i, c in enumerate(batch):
            answers[id(c)] = (got.get((i, steer_port)), got.get((i, knot_port)))
    for c in cases:
        if c.transport == "tcp":
            answers[id(c)] = (send_tcp(c.pkt, steer_port), send_tcp(c.pkt, knot_port))
    return answers


def compare(c, s_raw, k_raw, row, verbose):
    """Compare one case's answers, count it in row; @return False if unexplained."""
    s, k = summarize(s_raw, c.pkt), summarize(k_raw, c.pkt)
    keys = list(k) + [x for x in s if x not in k]
    diff = [x for x in keys if s.get(x) != k.get(x)]
    row["cases"] += 1
    if not diff:
        row["same"] += 1
        return True
    used = explain(c, s, k)
    detail = "[%s] %s (%s)\n    query  %s\n    knot   %s\n    steerd %s" % (
        c.cat, c.label, c.transport, c.pkt.hex(),
        "; ".join("%s=%s" % (x, k.get(x)) for x in diff),
        "; ".join("%s=%s" % (x, s.get(x)) for x in diff))
    if used is None:
        row["FAIL"] += 1
        print("FAIL: unexplained difference " + detail, flush=True)
        return False
    kind = "known" if any(r.kind == "known" for r in used) else "deliberate"
    row[kind] += 1
    for r in used:
        r.hits.append(detail)
    if verbose:
        print("# %s (%s): %s" % (kind, "; ".join(r.doc for r in used), detail))
    return True


def report(table):
    for r in RULES:
        if r.kind == "known":
            if r.hits:
                print("known: %s: %d case(s), e.g. %s" % (r.doc, len(r.hits), r.hits[0]))
            else:
                print("fixed: %s: no case differs any more; make it a hard check" % r.doc)
        elif r.hits:
            print("ok: deliberate difference: %s (%d case(s))" % (r.doc, len(r.hits)))
    print("# %-16s %6s %6s %10s %6s %6s" % ("category", "cases", "same", "deliberate", "known",
                                            "FAIL"))
    for cat, row in table.items():
        print("# %-16s %6d %6d %10d %6d %6d" % (cat, row["cases"], row["same"], row["deliberate"],
                                             row["known"], row["FAIL"]))


def main():
    verbose = "-v" in sys.argv
    args = [a for a in sys.argv[1:] if a != "-v"]
    steer_port, knot_port = int(args[0]), int(args[1])
    seed = int(os.environ.get("KNOTDIFF_SEED", SEED))
    cases = all_cases(seed)
    t0 = time.monotonic()
    answers = ask_both(cases, steer_port, knot_port)
    fails = 0
    table = {}
    for c in cases:
        row = table.setdefault(c.cat, dict.fromkeys(("cases", "same", "deliberate", "known",
                                                     "FAIL"), 0))
        if not compare(c, *answers[id(c)], row, verbose):
            fails += 1
    report(table)
    print("# seed %d, %d cases (%d over TCP) in %.1f s" % (
        seed, len(cases), sum(c.transport == "tcp" for c in cases), time.monotonic() - t0))
    if fails:
        print("FAIL: %d unexplained difference(s)" % fails)
    else:
        print("ok: every difference from Knot is explained")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
