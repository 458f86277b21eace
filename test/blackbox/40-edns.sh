#!/usr/bin/env bash
# EDNS (RFC 6891): an OPT in every answer to an EDNS query and never otherwise; payload
# 1232 advertised; DO copied; BADVERS for version 1; NSID (RFC 5001); UDP size limits and
# truncation (TC=1, empty sections) for `mid` (~690 bytes) and `big` (> 1232 bytes), and
# the complete answer over TCP.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

OPT0='version: 0, flags:; udp: 1232'

# --- OPT present with EDNS, whatever size the client offers; absent without
for size in 512 1232 4096; do
	ask q +bufsize=$size lb.example.test SOA
	expect_eq "bufsize $size: status/counts/OPT" "$STATUS/$COUNTS/$EDNS" "NOERROR/1/0/1/$OPT0"
done
ask q +noedns lb.example.test SOA
expect_eq "no EDNS: counts, no OPT" "$STATUS/$COUNTS/$EDNS" "NOERROR/1/0/0/"
ask q +dnssec lb.example.test SOA
expect_eq "DO copied" "$EDNS" 'version: 0, flags: do; udp: 1232'
ask qt lb.example.test SOA
expect_eq "TCP: OPT" "$COUNTS/$EDNS" "1/0/1/$OPT0"
ask qt +noedns lb.example.test SOA
expect_eq "TCP without EDNS: no OPT" "$COUNTS/$EDNS" "1/0/0/"

# --- BADVERS: version 1 is not spoken; the OPT says version 0
for via in q qt; do
	# shellcheck disable=SC2086 # $via is a command and its options
	ask $via +edns=1 +noednsneg lb.example.test SOA
	expect_eq "$via EDNS version 1: BADVERS" "$STATUS/$FLAGS/$COUNTS/$EDNS" "BADVERS/qr/0/0/1/$OPT0"
done

# --- NSID: the identity when asked, in answers and in errors; nothing when not asked
NSID_BB='62 62 2d 74 65 73 74 ("bb-test")'
ask q +nsid lb.example.test SOA
expect_eq "NSID on an answer" "$STATUS/$NSID" "NOERROR/$NSID_BB"
ask q +nsid nope.lb.example.test A
expect_eq "NSID on NXDOMAIN" "$STATUS/$NSID" "NXDOMAIN/$NSID_BB"
ask q +nsid example.com A
expect_eq "NSID on REFUSED" "$STATUS/$NSID/$EDE" "REFUSED/$NSID_BB/20 (Not Authoritative)"
ask q +nsid +edns=1 +noednsneg lb.example.test SOA
expect_eq "NSID on BADVERS" "$STATUS/$NSID" "BADVERS/$NSID_BB"
ask qt +nsid lb.example.test SOA
expect_eq "NSID over TCP" "$NSID" "$NSID_BB"
ask q lb.example.test SOA
expect_eq "no NSID unless asked" "$NSID" ""
out=$(kdig @127.0.0.1 -p "$PORT" +norec +nsid +time=2 +retry=0 lb.example.test SOA)
expect_match "kdig +nsid" "$out" 'NSID: 62622D74657374 "bb-test"'

# --- truncation: big TXT does not fit any UDP size we send
BIG=
for i in 0 1 2 3 4 5 6 7; do
	s=$(printf "t0$i%.0s" $(seq 60))
	BIG+="big.lb.example.test. 300 IN TXT \"${s}\""$'\n'
done
BIG=${BIG%$'\n'}
for size in 1232 4096 65535; do
	ask q +bufsize=$size +ignore big.lb.example.test TXT
	expect_eq "big, bufsize $size: TC, empty, OPT" "$STATUS/$FLAGS/$COUNTS/$EDNS" "NOERROR/qr aa tc/0/0/1/$OPT0"
done
ask q +noedns +ignore big.lb.example.test TXT
expect_eq "big without EDNS: TC, empty, no OPT" "$STATUS/$FLAGS/$COUNTS/$EDNS" "NOERROR/qr aa tc/0/0/0/"
ask q6 +ignore big.lb.example.test TXT
expect_eq "big over IPv6 UDP: TC" "$FLAGS/$COUNTS" "qr aa tc/0/0/1"
for via in qt "q6 +tcp"; do
	# shellcheck disable=SC2086 # $via is a command and its options
	ask $via big.lb.example.test TXT
	expect_eq "$via big: complete" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/8/0/1"
	expect_eq "$via big: the 8 records" "$(sorted "$AN")" "$BIG"
done
# dig's own fallback: UDP says TC, dig retries over TCP and gets all of it
ask q big.lb.example.test TXT
expect_match "dig retried over TCP" "$OUT" 'Truncated, retrying in TCP mode'
expect_eq "after the retry: complete" "$FLAGS/$COUNTS" "qr aa/8/0/1"

# --- mid TXT (~690 bytes): fits 1232, not 512
MID=$(printf 'mid.lb.example.test. 300 IN TXT "%s"\n' "$(printf 'm0%.0s' $(seq 100))" "$(printf 'm1%.0s' $(seq 100))" "$(printf 'm2%.0s' $(seq 100))")
ask q +bufsize=1232 mid.lb.example.test TXT
expect_eq "mid, bufsize 1232: whole" "$FLAGS/$COUNTS" "qr aa/3/0/1"
expect_eq "mid, bufsize 1232: data" "$(sorted "$AN")" "$MID"
ask q +bufsize=512 +ignore mid.lb.example.test TXT
expect_eq "mid, bufsize 512: TC" "$FLAGS/$COUNTS" "qr aa tc/0/0/1"
ask q +noedns +ignore mid.lb.example.test TXT
expect_eq "mid without EDNS: TC" "$FLAGS/$COUNTS" "qr aa tc/0/0/0"

# --- raw: OPT shape, sizes never above what the client can take, unknown options
py_check "OPT on every EDNS answer, sizes within the client's limit" <<'PY'
from bbdns import *

def check_opt(what, r, do=False):
    opts = [rr for rr in r.additional if rr[1] == 41]
    expect_eq(what + ": one OPT, last", (len(opts), r.additional[-1][1] if r.additional else None), (1, 41))
    if opts:
        name, _, payload, ttl, rdata, _ = opts[0]
        expect_eq(what + ": OPT owner/payload/version/DO", (name, payload, (ttl >> 16) & 0xFF, bool(ttl & 0x8000)),
                  (".", 1232, 0, do))

cases = [("lb.example.test", "SOA", 0), ("nope.lb.example.test", "A", 3), ("example.com", "A", 5),
         ("x.sub.lb.example.test", "A", 0), ("lb.example.test", 0, 4), ("lb.example.test", "AXFR", 4),
         ("big.lb.example.test", "TXT", 0)]
for name, qtype, rcode in cases:
    for do in (False, True):
        what = "%s %s do=%s" % (name, qtype, do)
        r = parse(udp(query(name, qtype, edns=True, do=do)))
        expect_eq(what + ": rcode", r.rcode, rcode)
        check_opt(what, r, do)
    r = parse(udp(query(name, qtype)))
    expect_eq("%s %s no EDNS: rcode, no OPT" % (name, qtype), (r.rcode, r.opt), (rcode, None))
# NOTIMP for another opcode still carries the OPT back
r = parse(udp(query("lb.example.test", "SOA", opcode=4, edns=True)))
expect_eq("NOTIFY with EDNS: NOTIMP", r.rcode, 4)
check_opt("NOTIFY with EDNS", r)

# the reply never exceeds max(512, offered) nor 1232; TC exactly when the data does not fit
FULL = {"mid.lb.example.test": 3, "big.lb.example.test": 8}
for name, n in FULL.items():
    full = parse(tcp(query(name, "TXT", edns=True)))
    need = len(full.raw)
    expect_eq(name + " over TCP: complete", (full.tc, full.counts[1]), (False, n))
    for size in (None, 0, 1, 511, 512, 513, 600, 700, 1000, 1231, 1232, 1233, 4096, 65535):
        limit = 512 if size is None else min(1232, max(512, size))
        q = query(name, "TXT") if size is None else query(name, "TXT", edns=True, payload=size)
        r = parse(udp(q))
        what = "%s bufsize %s" % (name, size)
        if len(r.raw) > limit:
            fail("%s: %d bytes > %d" % (what, len(r.raw), limit))
        fits = need - (0 if size is not None else 11) <= limit
        expect_eq(what + ": TC/answers", (r.tc, r.counts[1]), (not fits, n if fits else 0))

# unknown options are ignored; none are echoed (cookies: 45-cookies.sh)
opts = struct.pack("!HH", 65001, 3) + b"abc"
r = parse(udp(query("lb.example.test", "SOA", edns=True, options=opts)))
expect_eq("unknown options: NOERROR, answer", (r.rcode, r.counts[1]), (0, 1))
expect_eq("unknown options: empty OPT RDATA", r.opt[4] if r.opt else None, b"")
check_exit()
PY

# --- a 255-byte identity: NSID is left out rather than push a reply past the client's size
cfg_edit 'c["identity"] = "n" * 255'
restart_steerd
py_check "long identity: replies within the client's size, NSID when it fits" <<'PY'
from bbdns import *

nsid_q = struct.pack("!HH", 3, 0)
long_in = ".".join(["a" * 60] * 3 + ["b" * 50]) + ".lb.example.test"  # 249 bytes on the wire
long_out = ".".join(["x" * 63] * 3 + ["w" * 40]) + ".example.com"
for name, t in ((long_in, "A"), (long_in, 0), (long_out, "A"), ("lb.example.test", "SOA")):
    for size in (512, 600, 1232):
        r = parse(udp(query(name, t, edns=True, payload=size, options=nsid_q)))
        what = "%d-byte name, type %s, bufsize %d" % (len(name), t, size)
        if len(r.raw) > max(512, size):
            fail("%s: %d bytes" % (what, len(r.raw)))
        opts = r.opt[4] if r.opt else None
        # with the NSID, header + question + OPT take 12 + ~250 + 4 + 270 bytes: only the
        # short name fits in 512
        want = b"\0\3\0\xff" + b"n" * 255
        fits = 12 + len(wire_name(name)) + 4 + 11 + 4 + 255 + (6 if r.rcode == 5 else 0) <= max(512, size)
        expect_eq(what + ": NSID present iff it fits", opts is not None and opts.startswith(want), fits)
# over TCP there is room
r = parse(tcp(query(long_in, "A", edns=True, options=nsid_q)))
expect_eq("TCP: NSID with the long name", r.opt[4] if r.opt else None, b"\0\3\0\xff" + b"n" * 255)
check_exit()
PY

finish
