#!/usr/bin/env bash
# Static data and the header: UDP and TCP on 127.0.0.1 and ::1; AA=1, RA=0, RD copied;
# the question echoed byte for byte (case kept); every static record type with its exact
# TTL and data; the apex SOA and NS with ns1/ns2 glue in the additional section.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

SOA_RR='lb.example.test. 3600 IN SOA ns1.lb.example.test. hostmaster.example.test. 2026112701 3600 600 604800 60'

# --- transports: the same SOA over UDP/TCP, IPv4/IPv6
for via in q q6 qt "q6 +tcp"; do
	# shellcheck disable=SC2086 # $via is a command and its options
	ask $via lb.example.test SOA
	expect_eq "$via: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/1/0/1"
	expect_eq "$via: SOA" "$AN" "$SOA_RR"
done
ask q6 +tcp lb.example.test SOA
expect_match "TCP over IPv6 was used" "$OUT" 'SERVER: ::1#[0-9]+\(::1\) \(TCP\)'
ask q6 lb.example.test SOA
expect_match "UDP over IPv6 was used" "$OUT" 'SERVER: ::1#[0-9]+\(::1\) \(UDP\)'

# --- header bits: RD copied, RA never set, AA for in-zone data
ask dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +rec v6.lb.example.test AAAA
expect_eq "+rec: flags (RD copied, RA 0)" "$FLAGS" "qr aa rd"
ask q v6.lb.example.test AAAA
expect_eq "+norec: flags (RD 0)" "$FLAGS" "qr aa"
ask qt +rec v6.lb.example.test AAAA
expect_eq "TCP +rec: flags" "$FLAGS" "qr aa rd"

py_check "question echoed byte for byte, header bits" <<'PY'
from bbdns import *

for rd in (False, True):
    for name in ("ApI.Lb.ExAmPlE.TeSt", "V6.LB.EXAMPLE.TEST", "nOpE.lB.eXaMpLe.TeSt"):
        for send in (udp, tcp):
            q = query(name, "A" if "pI" in name else "AAAA", qid=0x1234, rd=rd)
            r = parse(send(q))
            what = "%s %s rd=%s" % (send.__name__, name, rd)
            expect_eq(what + ": id", r.id, 0x1234)
            expect_eq(what + ": question bytes", r.raw[12:r.question_end], q[12:])
            expect_eq(what + ": qr/opcode/aa/tc/rd/ra/cd",
                      (r.qr, r.opcode, r.aa, r.tc, r.rd, r.ra, r.cd),
                      (True, 0, True, False, rd, False, False))
            expect_eq(what + ": qdcount", r.counts[0], 1)
# CD is copied too (RFC 6840 §5.9); the data is the same
q = bytearray(query("v6.lb.example.test", "AAAA", qid=7))
q[3] |= 0x10
r = parse(udp(bytes(q)))
expect_eq("CD copied", (r.cd, r.rcode, r.counts[1]), (True, 0, 1))
check_exit()
PY

# --- static records: exact owner, TTL, class, type and data
check_rr() { # NAME TYPE EXPECTED-ANSWER-LINES [EXPECTED-ADDITIONAL-LINES, besides the OPT]
	local ar=1
	[ -z "${4:-}" ] || ar=$((1 + $(wc -l <<<"$4")))
	ask q "$1" "$2"
	expect_eq "$1 $2: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/$(wc -l <<<"$3")/0/$ar"
	expect_eq "$1 $2" "$AN" "$3"
	[ -z "${4:-}" ] || expect_eq "$1 $2: additional" "$AR" "$4"
}
check_rr lb.example.test SOA "$SOA_RR"
check_rr lb.example.test TXT 'lb.example.test. 300 IN TXT "steer"'
# MX and SRV: the in-zone target's address as additional data (RFC 1035 §3.3.9, RFC 2782)
check_rr lb.example.test MX 'lb.example.test. 300 IN MX 10 mx1.lb.example.test.' \
	'mx1.lb.example.test. 300 IN A 192.0.2.25'
check_rr lb.example.test CAA 'lb.example.test. 300 IN CAA 0 issue "letsencrypt.org"'
check_rr ns1.lb.example.test A 'ns1.lb.example.test. 3600 IN A 127.0.0.1'
check_rr ns1.lb.example.test AAAA 'ns1.lb.example.test. 3600 IN AAAA ::1'
check_rr ns2.lb.example.test A 'ns2.lb.example.test. 3600 IN A 127.0.0.2'
check_rr mx1.lb.example.test A 'mx1.lb.example.test. 300 IN A 192.0.2.25'
check_rr v6.lb.example.test AAAA 'v6.lb.example.test. 300 IN AAAA 2001:db8::1'
check_rr _sip._udp.lb.example.test SRV '_sip._udp.lb.example.test. 300 IN SRV 0 5 5060 sip.lb.example.test.' \
	'sip.lb.example.test. 300 IN A 192.0.2.60'
check_rr sip.lb.example.test A 'sip.lb.example.test. 300 IN A 192.0.2.60'
check_rr ptr.lb.example.test PTR 'ptr.lb.example.test. 300 IN PTR host.example.net.'
check_rr unk.lb.example.test TYPE65534 'unk.lb.example.test. 300 IN TYPE65534 \# 4 0A000001'
check_rr chain3.lb.example.test A 'chain3.lb.example.test. 300 IN A 192.0.2.3'
# a CNAME asked for as such is just the CNAME, not chased
check_rr www.lb.example.test CNAME 'www.lb.example.test. 300 IN CNAME api.lb.example.test.'
check_rr chain1.lb.example.test CNAME 'chain1.lb.example.test. 300 IN CNAME chain2.lb.example.test.'
# kdig parses the RFC 3597 form the same way
out=$(kdig @127.0.0.1 -p "$PORT" +norec +noall +answer +time=2 +retry=0 unk.lb.example.test TYPE65534 | tr -s ' \t' ' ')
expect_eq "kdig TYPE65534" "$out" 'unk.lb.example.test. 300 IN TYPE65534 \# 4 0A000001'

# --- apex NS with glue: A and AAAA of ns1, A of ns2
ask q lb.example.test NS
expect_eq "NS: status/flags/counts (glue + OPT)" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/2/0/4"
expect_eq "NS: answer" "$(sorted "$AN")" \
	"$(printf '%s\n' 'lb.example.test. 3600 IN NS ns1.lb.example.test.' 'lb.example.test. 3600 IN NS ns2.lb.example.test.')"
expect_eq "NS: glue" "$(sorted "$AR")" \
	"$(printf '%s\n' 'ns1.lb.example.test. 3600 IN A 127.0.0.1' 'ns1.lb.example.test. 3600 IN AAAA ::1' 'ns2.lb.example.test. 3600 IN A 127.0.0.2')"
ask qt +noedns lb.example.test NS
expect_eq "NS over TCP without EDNS: counts" "$STATUS/$COUNTS" "NOERROR/2/0/3"

finish
