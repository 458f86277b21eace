#!/usr/bin/env bash
# DNS Cookies (RFC 7873, server cookies of RFC 9018): every query with a client cookie gets
# it back with a valid server cookie, with dig +cookie and kdig +cookie, over UDP and TCP,
# IPv4 and IPv6; a cookie sent back is accepted (and echoed while fresh); a wrong server
# cookie gets a normal answer and a fresh cookie (NOERROR, RFC 7873 §5.2.4), a cookie made
# for another address too; malformed lengths are FORMERR (§5.2.2); errors and truncated
# answers carry the cookie; `"cookies": {"enabled": false}` (applied by a reload) ignores
# the option.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

# cookie_of TEXT: the hex of the COOKIE option dig or kdig printed, lower case
cookie_of() {
	sed -n 's/^;;* *COOKIE: \([0-9A-Fa-f]*\).*/\1/p' <<<"$1" | head -n 1 | tr 'A-F' 'a-f'
}

# check_server_cookie WHAT HEX: 24 bytes, version 1, reserved 0, a timestamp within 5 minutes
check_server_cookie() {
	local ts now
	expect_match "$1: client + 16-byte server cookie, version 1, reserved 0" "$2" '^[0-9a-f]{16}01000000[0-9a-f]{24}$'
	ts=$((16#${2:24:8}))
	now=$(date +%s)
	if [ $((ts - now)) -le 300 ] && [ $((now - ts)) -le 300 ]; then
		ok "$1: timestamp is now"
	else
		fail "$1: timestamp $ts, now $now"
	fi
}

# --- dig sends a client cookie by default (+cookie): a server cookie comes back
ask q lb.example.test SOA
expect_eq "dig: NOERROR, the SOA" "$STATUS/$COUNTS" "NOERROR/1/0/1"
expect_match "dig: the cookie is good" "$OUT" '^; COOKIE: [0-9a-f]{48} \(good\)$'
C=$(cookie_of "$OUT")
check_server_cookie "dig" "$C"

# --- sent back: accepted, answered, and echoed unchanged (it is minutes, not half an hour, old)
ask q +cookie="$C" lb.example.test SOA
expect_eq "cookie sent back: NOERROR, the SOA" "$STATUS/$COUNTS" "NOERROR/1/0/1"
expect_eq "cookie sent back: echoed unchanged" "$(cookie_of "$OUT")" "$C"

# --- a wrong server cookie with the right client cookie: a normal answer and a fresh cookie
for wrong in 00112233445566778899aabbccddeeff 0100000000000000deadbeefdeadbeef \
	"${C:16:8}0000000000000000ffffffff" 0011223344556677 \
	00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff; do
	ask q +cookie="${C:0:16}$wrong" lb.example.test SOA
	N=$(cookie_of "$OUT")
	expect_eq "wrong server cookie of $((${#wrong} / 2)) bytes: NOERROR (not BADCOOKIE), answered" \
		"$STATUS/$COUNTS" "NOERROR/1/0/1"
	expect_eq "wrong server cookie: same client cookie, new server cookie" \
		"${N:0:16}/$([ "${N:16}" != "$wrong" ] && echo new)" "${C:0:16}/new"
	check_server_cookie "fresh cookie" "$N"
done
ask q +cookie="$N" lb.example.test SOA
expect_eq "the fresh cookie is accepted" "$STATUS/$(cookie_of "$OUT")" "NOERROR/$N"

# --- the server cookie is bound to the client address: over ::1 it is not valid
ask q6 +cookie="$C" lb.example.test SOA
N6=$(cookie_of "$OUT")
expect_eq "IPv6: NOERROR with a cookie" "$STATUS/${N6:0:16}" "NOERROR/${C:0:16}"
expect_eq "IPv6: the IPv4 address's cookie is replaced" "$([ "$N6" != "$C" ] && echo replaced)" replaced
ask q6 +cookie="$N6" lb.example.test SOA
expect_eq "IPv6: its own cookie is accepted" "$(cookie_of "$OUT")" "$N6"

# --- kdig +cookie, and kdig sending the cookie back
out=$(kdig @127.0.0.1 -p "$PORT" +norec +cookie +time=2 +retry=0 lb.example.test SOA)
expect_match "kdig +cookie: NOERROR" "$out" 'status: NOERROR'
K=$(cookie_of "$out")
check_server_cookie "kdig" "$K"
out=$(kdig @127.0.0.1 -p "$PORT" +norec +cookie="$K" +time=2 +retry=0 lb.example.test SOA)
expect_eq "kdig: its cookie sent back is echoed" "$(cookie_of "$out")" "$K"

# --- over TCP too
ask qt lb.example.test SOA
T=$(cookie_of "$OUT")
expect_match "dig +tcp: the cookie is good" "$OUT" '^; COOKIE: [0-9a-f]{48} \(good\)$'
check_server_cookie "TCP" "$T"
ask qt +cookie="$T" lb.example.test SOA
expect_eq "TCP: the cookie sent back is echoed" "$STATUS/$(cookie_of "$OUT")" "NOERROR/$T"
out=$(kdig @127.0.0.1 -p "$PORT" +norec +tcp +cookie +time=2 +retry=0 lb.example.test SOA)
check_server_cookie "kdig +tcp" "$(cookie_of "$out")"

# --- raw: malformed lengths, valid lengths, errors and truncated answers carry the cookie
py_check "COOKIE option lengths, and cookies on every kind of answer" <<'PY'
from bbdns import *

def opt_options(r):
    out, rd = [], r.opt[4] if r.opt else b""
    while len(rd) >= 4:
        code, n = struct.unpack("!HH", rd[:4])
        out.append((code, rd[4:4 + n]))
        rd = rd[4 + n:]
    return out

def cookies(r):
    return [v for c, v in opt_options(r) if c == 10]

client = bytes(range(1, 9))
for n in range(0, 49):
    c = (client + bytes(range(0x40, 0x40 + 40)))[:n]
    for via in (udp, tcp):
        r = parse(via(query("lb.example.test", "SOA", edns=True, options=struct.pack("!HH", 10, n) + c)))
        what = "%s cookie of %d bytes" % (via.__name__, n)
        if n == 8 or 16 <= n <= 40:
            got = cookies(r)
            expect_eq(what + ": NOERROR, answered, one 24-byte cookie for this client",
                      (r.rcode, r.counts[1], [len(x) for x in got], got[0][:8] if got else None),
                      (0, 1, [24], client))
        else:
            expect_eq(what + ": FORMERR with OPT, no cookie", (r.rcode, r.opt is not None, cookies(r)),
                      (1, True, []))

# a valid cookie from this address is echoed; it comes back on errors and negative answers
good = cookies(parse(udp(query("lb.example.test", "SOA", edns=True,
                                 options=struct.pack("!HH", 10, 8) + client))))[0]
opt = struct.pack("!HH", 10, 24) + good
for name, qtype, rcode in (("nope.lb.example.test", "A", 3), ("example.com", "A", 5),
                           ("lb.example.test", "AXFR", 4), ("lb.example.test", 0, 4)):
    r = parse(udp(query(name, qtype, edns=True, options=opt)))
    expect_eq("%s %s: rcode %d with the cookie" % (name, qtype, rcode), (r.rcode, cookies(r)), (rcode, [good]))
r = parse(udp(query("lb.example.test", "SOA", opcode=4, edns=True, options=opt)))
expect_eq("NOTIFY: NOTIMP with the cookie", (r.rcode, cookies(r)), (4, [good]))
r = parse(udp(query("lb.example.test", "SOA", edns=True, version=1, options=opt)))
expect_eq("EDNS version 1: BADVERS with the cookie", (r.rcode, cookies(r)), (16, [good]))
for size in (512, 1232):
    r = parse(udp(query("big.lb.example.test", "TXT", edns=True, payload=size, options=opt)))
    expect_eq("big TXT, bufsize %d: TC with the cookie, within the size" % size,
              (r.tc, cookies(r), len(r.raw) <= size), (True, [good], True))
r = parse(udp(query("mid.lb.example.test", "TXT", edns=True, payload=1232, options=opt)))
expect_eq("mid TXT with a cookie still fits 1232", (r.tc, r.counts[1], cookies(r)), (False, 3, [good]))
# two COOKIE options: the first one counts
r = parse(udp(query("lb.example.test", "SOA", edns=True, options=opt + struct.pack("!HH", 10, 3) + b"abc")))
expect_eq("a second COOKIE option is ignored", (r.rcode, cookies(r)), (0, [good]))
# no OPT, no cookie
r = parse(udp(query("lb.example.test", "SOA")))
expect_eq("no EDNS: no OPT", r.opt, None)
check_exit()
PY

# --- cookies off (a reload applies it): the option is ignored, malformed or not
cfg_edit 'c["cookies"] = {"enabled": False}'
kill -HUP "$STEERD_PID"
for _ in $(seq 1 50); do
	ask q lb.example.test SOA
	[ -z "$(cookie_of "$OUT")" ] && break
	sleep 0.1
done
expect_eq "cookies off: no COOKIE in the answer" "$STATUS/$(cookie_of "$OUT")" "NOERROR/"
py_check "cookies off: every length is ignored" <<'PY'
from bbdns import *
for n in (0, 7, 8, 24, 41):
    r = parse(udp(query("lb.example.test", "SOA", edns=True, options=struct.pack("!HH", 10, n) + b"x" * n)))
    expect_eq("cookie of %d bytes: NOERROR, empty OPT" % n, (r.rcode, r.counts[1], r.opt[4]), (0, 1, b""))
check_exit()
PY

finish
