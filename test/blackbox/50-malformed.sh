#!/usr/bin/env bash
# What is not a plain query: malformed packets get FORMERR with the same ID; packets
# shorter than a header and responses (QR=1) get nothing; other opcodes and zone
# transfers get NOTIMP; then 2,000 random and mutated packets (UDP) and garbage streams
# (TCP), after which steerd must still run and answer correctly. The fuzz seed is
# printed; BB_SEED=N replays a run.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

# --- zone transfers: not implemented, over TCP (dig, kdig) and UDP
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 lb.example.test AXFR 2>&1 || true)
expect_match "dig AXFR fails" "$out" '^; Transfer failed\.$'
expect_no_match "dig AXFR: an answer, not a timeout" "$out" 'timed out|no servers could be reached'
out=$(kdig @127.0.0.1 -p "$PORT" +time=2 +retry=0 lb.example.test AXFR 2>&1 || true)
expect_match "kdig AXFR: NOTIMP" "$out" "server replied with error 'NOTIMPL'"
out=$(kdig @127.0.0.1 -p "$PORT" +time=2 +retry=0 lb.example.test IXFR=2026112700 2>&1 || true)
expect_match "kdig IXFR (SOA in authority): NOTIMP" "$out" "server replied with error 'NOTIMPL'"
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 lb.example.test IXFR=2026112700 2>&1 || true)
expect_match "dig IXFR fails" "$out" '^; Transfer failed\.$'
expect_no_match "dig IXFR: an answer, not a timeout" "$out" 'timed out|no servers could be reached'

py_check "FORMERR, NOTIMP and silence" <<'PY'
from bbdns import *
import select

GOOD_Q = question("lb.example.test", "SOA")

def expect_rcode(what, pkt, rcode, echo_question=None, opcode=0, via=(udp, tcp)):
    for send in via:
        raw = send(pkt)
        w = "%s (%s)" % (what, send.__name__)
        if raw is None:
            fail(w + ": no answer")
            continue
        r = parse(raw)
        expect_eq(w + ": id/qr/opcode/aa/rcode", (r.id, r.qr, r.opcode, r.aa, r.rcode_name()),
                  (struct.unpack("!H", pkt[:2])[0], True, opcode, False, rcode))
        expect_eq(w + ": no records", r.counts[1:3], (0, 0))
        if echo_question is not None:
            expect_eq(w + ": question echoed", r.raw[12:r.question_end], echo_question)
            expect_eq(w + ": qdcount", r.counts[0], 1 if echo_question else 0)

SOA_RDATA = (wire_name("ns1.lb.example.test") + wire_name("hostmaster.example.test") +
             struct.pack("!IIIII", 2026112701, 3600, 600, 604800, 60))

def expect_soa(what, pkt, edns=False, via=(udp, tcp), qd_echo=GOOD_Q):
    """Answered like the plain SOA query: NOERROR, AA, the question echoed, the SOA alone
    in the answer section, and a root OPT (payload 1232) if edns."""
    for send in via:
        raw = send(pkt)
        w = "%s (%s)" % (what, send.__name__)
        if raw is None:
            fail(w + ": no answer")
            continue
        r = parse(raw)
        expect_eq(w + ": id/qr/aa/rcode/counts", (r.id, r.qr, r.aa, r.rcode_name(), r.counts),
                  (struct.unpack("!H", pkt[:2])[0], True, True, "NOERROR", (1, 1, 0, 1 if edns else 0)))
        expect_eq(w + ": question echoed", r.raw[12:r.question_end], qd_echo)
        expect_eq(w + ": the SOA", [rr[:5] for rr in r.answer],
                  [("lb.example.test.", 6, 1, 3600, SOA_RDATA)])
        expect_eq(w + ": OPT", r.opt[:4] if r.opt else None,
                  (".", 41, 1232, 0) if edns else None)

# records in the answer or authority section of a query are skipped, as Knot does (RFC
# 1035 does not forbid them); they must parse, and an OPT among them is FORMERR
A_RR = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + b"\1\2\3\4"
SOA_RR = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, 22) + b"\0" * 22
expect_soa("ANCOUNT 1 (an A record)", header(0x0105, an=1) + GOOD_Q + A_RR)
expect_soa("NSCOUNT 1 (an A record)", header(0x0106, ns=1) + GOOD_Q + A_RR)
expect_soa("NSCOUNT 1 (an SOA), then an OPT", header(0x0108, ns=1, ar=1) + GOOD_Q + SOA_RR + opt_rr(), edns=True)
expect_soa("ANCOUNT 1, NSCOUNT 1, then an OPT", header(0x0109, an=1, ns=1, ar=1) + GOOD_Q + A_RR + SOA_RR + opt_rr(), edns=True)
expect_rcode("ANCOUNT 1, nothing there", header(0x010a, an=1) + GOOD_Q, "FORMERR", GOOD_Q)
expect_rcode("OPT in the answer section", header(0x010b, an=1) + GOOD_Q + opt_rr(), "FORMERR", GOOD_Q)
expect_rcode("OPT in the authority section", header(0x010c, ns=1) + GOOD_Q + opt_rr(), "FORMERR", GOOD_Q)
expect_rcode("ANCOUNT 1, record cut short", header(0x010d, an=1) + GOOD_Q + A_RR[:-1], "FORMERR", GOOD_Q)

# the header's counts do not match a single question
expect_rcode("QDCOUNT 0", header(0x0101, qd=0), "FORMERR", b"")
expect_rcode("QDCOUNT 0 with a question after", header(0x0102, qd=0) + GOOD_Q, "FORMERR", b"")
expect_rcode("QDCOUNT 2", header(0x0103, qd=2) + GOOD_Q + GOOD_Q, "FORMERR", b"")
expect_rcode("QDCOUNT 2, one question", header(0x0104, qd=2) + GOOD_Q, "FORMERR", b"")
expect_rcode("ARCOUNT 1, nothing there", header(0x0107, ar=1) + GOOD_Q, "FORMERR")
# the question itself is broken
expect_rcode("question cut in the name", header(0x0201) + GOOD_Q[:5], "FORMERR", b"")
expect_rcode("question without type/class", header(0x0202) + wire_name("lb.example.test"), "FORMERR", b"")
expect_rcode("question with half a class", header(0x0203) + GOOD_Q[:-1], "FORMERR", b"")
expect_rcode("compression pointer in the question", header(0x0204) + b"\2lb\xc0\x0c" + struct.pack("!HH", 6, 1), "FORMERR", b"")
expect_rcode("pointer as the whole name", header(0x0205) + b"\xc0\x0c" + struct.pack("!HH", 6, 1), "FORMERR", b"")
expect_rcode("label type 0x40", header(0x0206) + b"\x41" + b"a" * 1 + b"\0" + struct.pack("!HH", 1, 1), "FORMERR", b"")
long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\0"  # 257 bytes > 255
expect_rcode("name over 255 bytes", header(0x0207) + long_name + struct.pack("!HH", 1, 1), "FORMERR", b"")
# exactly 255 bytes is a name: answered, NXDOMAIN
max_name = ".".join(["m" * 63] * 3 + ["n" * 45]) + ".lb.example.test"
expect_eq("name of 255 bytes: the wire length", len(wire_name(max_name)), 255)
for send in (udp, tcp):
    r = parse(send(query(max_name, "A", qid=0x0208)))
    expect_eq("name of 255 bytes (%s): NXDOMAIN, SOA" % send.__name__, (r.id, r.rcode, r.aa, r.counts[1:3]), (0x0208, 3, True, (0, 1)))
# type 0 is reserved (RFC 6895 §3.1): NOTIMP, as Knot
expect_rcode("question type 0", query("lb.example.test", 0, qid=0x0209), "NOTIMP", query("lb.example.test", 0)[12:])
# a question of class ANY is answered from the zone (RFC 1035 §3.2.5), as Knot does
expect_soa("QCLASS ANY", header(0x020b) + question("lb.example.test", "SOA", 255), qd_echo=question("lb.example.test", "SOA", 255))

# the OPT is broken
o = opt_rr()
expect_rcode("two OPTs", header(0x0301, ar=2) + GOOD_Q + o + o, "FORMERR", GOOD_Q)
expect_rcode("option length past RDATA", header(0x0302, ar=1) + GOOD_Q + opt_rr(options=struct.pack("!HH", 3, 9), rdlen=4), "FORMERR", GOOD_Q)
expect_rcode("half an option header", header(0x0303, ar=1) + GOOD_Q + opt_rr(options=b"\0\3"), "FORMERR", GOOD_Q)
expect_rcode("RDLENGTH past the packet", header(0x0304, ar=1) + GOOD_Q + opt_rr(rdlen=8), "FORMERR", GOOD_Q)
# an OPT owner other than the root is read like the root, as Knot does
expect_soa("OPT owner not root", header(0x0305, ar=1) + GOOD_Q + b"\1x" + opt_rr(), edns=True)
expect_soa("OPT owner a pointer to the question", header(0x0307, ar=1) + GOOD_Q + b"\xc0\x0c" + opt_rr()[1:], edns=True)
expect_rcode("OPT cut in its header", header(0x0306, ar=1) + GOOD_Q + o[:7], "FORMERR", GOOD_Q)

# other opcodes: NOTIMP, the opcode and the question echoed
for op in (1, 2, 4, 5, 6, 15):
    q = query("lb.example.test", "SOA", qid=0x0400 + op, opcode=op)
    expect_rcode("opcode %d" % op, q, "NOTIMP", q[12:], opcode=op)
# NOTIFY carries the SOA in the answer section
q = header(0x0410, 4 << 11, an=1) + GOOD_Q + b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, 0)
expect_rcode("NOTIFY with an SOA", q, "NOTIMP", GOOD_Q, opcode=4)
# zone transfers: NOTIMP
for t in ("AXFR", "IXFR"):
    q = query("lb.example.test", t, qid=0x0500)
    expect_rcode("qtype %s" % t, q, "NOTIMP", q[12:])
# the other meta types (OPT, TSIG, MAILB, MAILA) are looked up like any type, as Knot
# does: NODATA at the apex, NXDOMAIN below it, both with the SOA; REFUSED outside the zone
NEG_SOA = ("lb.example.test.", 6, 1, 60, SOA_RDATA)
for t in (41, 250, 253, 254):
    for name, rcode in (("lb.example.test", "NOERROR"), ("nope.lb.example.test", "NXDOMAIN")):
        for send in (udp, tcp):
            r = parse(send(query(name, t, qid=0x0510)))
            w = "qtype %d at %s (%s)" % (t, name, send.__name__)
            expect_eq(w + ": rcode/aa/counts", (r.id, r.rcode_name(), r.aa, r.counts),
                      (0x0510, rcode, True, (1, 0, 1, 0)))
            expect_eq(w + ": the SOA", [rr[:5] for rr in r.authority], [NEG_SOA])
    r = parse(udp(query("example.com", t, qid=0x0511, edns=True)))
    expect_eq("qtype %d out of the zone: REFUSED, EDE 20" % t,
              (r.rcode_name(), r.aa, r.counts, r.opt[4][-6:] if r.opt else None),
              ("REFUSED", False, (1, 0, 0, 1), struct.pack("!HHH", 15, 2, 20)))
# and over TCP, where transfers really go: an answer with that RCODE, not a timeout
for t in ("AXFR", "IXFR"):
    r = tcp(query("lb.example.test", t, qid=0x0520))
    expect_eq("TCP qtype %s: NOTIMP" % t, parse(r).rcode_name() if r else "no answer", "NOTIMP")

# no answer at all: shorter than a header, or a response (QR=1); waited for together
silent = [b"", b"\0", b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00",
          bytes([0x12, 0x35, 0x80, 0]) + query("lb.example.test", "SOA")[4:],
          bytes([0x12, 0x36, 0x84, 0x03]) + header(0)[4:] + b"\xff" * 40]
socks = []
for pkt in silent:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(pkt, ("127.0.0.1", PORT))
    socks.append(s)
ready, _, _ = select.select(socks, [], [], 0.5)
expect_eq("short packets and QR=1: no answer within 0.5 s", [silent[socks.index(s)][:4] for s in ready], [])
for s in socks:
    s.close()
# over TCP a dropped message leaves the connection usable
with tcp_connect() as s:
    good = query("lb.example.test", "SOA", qid=0x0600)
    for pkt in silent:  # the first is a zero-length message
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
    s.sendall(struct.pack("!H", len(good)) + good)
    r = parse(tcp_recv_msg(s))
    expect_eq("TCP: dropped messages, then the next query answered", (r.id, r.rcode, r.counts[1]), (0x0600, 0, 1))
check_exit()
PY

py_check "2,000 random and mutated packets" <<'PY'
from bbdns import *

seed = int(os.environ.get("BB_SEED", "0")) or random.randrange(1 << 32)
print("# fuzz seed %d (rerun with BB_SEED=%d)" % (seed, seed))
rng = random.Random(seed)
seed_pkts = [query(n, t, edns=e)
             for n, t in (("api.lb.example.test", "A"), ("chain1.lb.example.test", "A"),
                          ("big.lb.example.test", "TXT"), ("x.sub.lb.example.test", "A"),
                          ("foo.wild.lb.example.test", "AAAA"), ("version.bind", "TXT"),
                          ("lb.example.test", "ANY"), ("example.com", "A"))
             for e in (False, True)]

def mutate(p):
    p = bytearray(p)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        if op < 0.5 and p:
            p[rng.randrange(len(p))] = rng.randrange(256)
        elif op < 0.7:
            p = p[:rng.randrange(len(p) + 1)]
        elif op < 0.85:
            i = rng.randrange(len(p) + 1)
            p[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif len(p) >= 12:
            p[4 + rng.randrange(8)] = rng.choice((0, 1, 2, 0xff))
    return bytes(p)

def make():
    k = rng.random()
    if k < 0.25:  # pure noise
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
    if k < 0.4:  # a header with small counts, then noise
        return header(rng.randrange(65536), rng.randrange(65536) & 0x7fff,
                      rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 3)) + \
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    return mutate(rng.choice(seed_pkts))

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
answered = dropped = bad = 0
for i in range(2000):
    pkt = make()
    s.sendto(pkt, ("127.0.0.1", PORT))
    if len(pkt) < 12 or pkt[2] & 0x80:
        dropped += 1
        continue  # nothing may come back: checked by the drain at the end
    try:
        raw = s.recv(65535)
    except socket.timeout:
        fail("packet %d (%s): no answer" % (i, pkt.hex()))
        bad += 1
        break
    try:
        r = parse(raw)
        problems = []
        if r.id != struct.unpack("!H", pkt[:2])[0] or not r.qr:
            problems.append("id/qr")
        if r.opcode != (pkt[2] >> 3) & 0xF or r.rd != bool(pkt[2] & 1):
            problems.append("opcode/rd not copied")
        if r.counts[0] == 1 and raw[12:r.question_end] != pkt[12:r.question_end]:
            problems.append("question not echoed")
        if len(raw) > 1232 or r.counts[0] > 1:
            problems.append("size/qdcount")
    except Exception as e:  # noqa: BLE001 - any parse error is a finding
        problems = ["unparseable: %s" % e]
    if problems:
        bad += 1
        if bad <= 5:
            fail("packet %d (%s): %s; answer %s" % (i, pkt.hex(), ", ".join(problems), raw.hex()))
    answered += 1
# anything still arriving answers a packet that should have been dropped
s.settimeout(0.3)
extra = 0
try:
    while extra < 100:
        s.recv(65535)
        extra += 1
except socket.timeout:
    pass
expect_eq("UDP fuzz: no answer to dropped packets", extra, 0)
expect_eq("UDP fuzz: every answer well-formed (%d answered, %d dropped)" % (answered, dropped), bad, 0)
s.close()

# TCP: garbage messages with a valid length prefix are answered in order; raw noise and
# a length prefix promising more than is sent just end in a closed connection
with tcp_connect() as t:
    for i in range(200):
        pkt = mutate(rng.choice(seed_pkts))
        if len(pkt) < 12 or pkt[2] & 0x80:
            continue
        t.sendall(struct.pack("!H", len(pkt)) + pkt)
        raw = tcp_recv_msg(t)
        if raw is None or struct.unpack("!H", raw[:2])[0] != struct.unpack("!H", pkt[:2])[0]:
            fail("TCP fuzz message %d (%s): answer %r" % (i, pkt.hex(), raw))
            break
    else:
        ok("TCP fuzz: 200 mutated messages answered in order")
for i in range(20):
    with tcp_connect() as t:
        t.sendall(bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000))))
        t.shutdown(socket.SHUT_WR)
        try:
            while t.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
ok("TCP noise: 20 connections")
check_exit()
PY

# still alive, still right
check_alive
ask q api.lb.example.test A
expect_match "after the fuzz: api A" "$STATUS/$FLAGS/$COUNTS/$AN" '^NOERROR/qr aa/1/0/1/api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
ask qt chain1.lb.example.test A
expect_eq "after the fuzz: TCP chain" "$STATUS/$COUNTS" "NOERROR/3/0/1"

finish
