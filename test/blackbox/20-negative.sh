#!/usr/bin/env bash
# Negative answers (RFC 2308), empty non-terminals, wildcards (RFC 4592), the delegation
# `sub` (referrals, DS answered by the parent side) and names outside the zone (REFUSED,
# EDE 20 with EDNS, no OPT without).
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

# negative TTL = min(SOA TTL 3600, SOA minimum 60)
NEG_SOA='lb.example.test. 60 IN SOA ns1.lb.example.test. hostmaster.example.test. 2026112701 3600 600 604800 60'

# negative NAME TYPE STATUS: AA, empty answer, the SOA alone in authority
negative() {
	ask q "$1" "$2"
	expect_eq "$1 $2: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "$3/qr aa/0/1/1"
	expect_eq "$1 $2: SOA in authority" "$NS" "$NEG_SOA"
}

# answer NAME TYPE EXPECTED-LINES: NOERROR, AA, exactly these answer records
answer() {
	ask q "$1" "$2"
	expect_eq "$1 $2: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/1/0/1"
	expect_eq "$1 $2: answer" "$AN" "$3"
}

# --- NXDOMAIN and NODATA
negative nope.lb.example.test A NXDOMAIN
negative deep.er.nope.lb.example.test AAAA NXDOMAIN
negative x.a.b.c.ent.lb.example.test A NXDOMAIN
negative mx1.lb.example.test AAAA NOERROR
negative v6.lb.example.test A NOERROR
negative lb.example.test AAAA NOERROR
negative lb.example.test DS NOERROR
# NXDOMAIN over TCP and IPv6 too
ask qt nope.lb.example.test TXT
expect_eq "TCP NXDOMAIN" "$STATUS/$FLAGS/$COUNTS/$NS" "NXDOMAIN/qr aa/0/1/1/$NEG_SOA"
ask q6 nope.lb.example.test TXT
expect_eq "IPv6 NXDOMAIN" "$STATUS/$FLAGS/$COUNTS/$NS" "NXDOMAIN/qr aa/0/1/1/$NEG_SOA"

# --- empty non-terminals answer NODATA, not NXDOMAIN (RFC 8020)
negative b.c.ent.lb.example.test A NOERROR
negative c.ent.lb.example.test A NOERROR
negative ent.lb.example.test TXT NOERROR
answer a.b.c.ent.lb.example.test A 'a.b.c.ent.lb.example.test. 300 IN A 192.0.2.9'

# --- wildcards: the owner is the query name; exact names win
answer foo.wild.lb.example.test A 'foo.wild.lb.example.test. 300 IN A 192.0.2.50'
answer FoO.wild.lb.example.test A 'FoO.wild.lb.example.test. 300 IN A 192.0.2.50'
answer foo.wild.lb.example.test TXT 'foo.wild.lb.example.test. 300 IN TXT "wild"'
negative foo.wild.lb.example.test AAAA NOERROR
answer x.wild.lb.example.test A 'x.wild.lb.example.test. 300 IN A 192.0.2.51'
# x.wild exists, so the wildcard does not apply to it for any type
negative x.wild.lb.example.test TXT NOERROR
# b.wild does not exist: *.wild covers a.b.wild as well (RFC 4592 §3.3.1)
answer a.b.wild.lb.example.test A 'a.b.wild.lb.example.test. 300 IN A 192.0.2.50'
# below an existing name the wildcard of its parent does not apply
negative y.x.wild.lb.example.test A NXDOMAIN
# the wildcard's parent is an empty non-terminal; the wildcard itself is a plain name
negative wild.lb.example.test A NOERROR
answer '*.wild.lb.example.test' A '*.wild.lb.example.test. 300 IN A 192.0.2.50'

# --- delegation: referral with AA=0, NS in authority, in-zone glue in additional
referral() {
	ask q "$1" "$2"
	expect_eq "$1 $2: status/flags (no AA)/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr/0/2/2"
	expect_eq "$1 $2: NS" "$(sorted "$NS")" \
		"$(printf '%s\n' 'sub.lb.example.test. 3600 IN NS ns.example.net.' 'sub.lb.example.test. 3600 IN NS ns.sub.lb.example.test.')"
	expect_eq "$1 $2: glue" "$AR" 'ns.sub.lb.example.test. 3600 IN A 192.0.2.53'
}
referral x.sub.lb.example.test A
referral sub.lb.example.test A
referral sub.lb.example.test NS
referral deep.x.sub.lb.example.test AAAA
referral ns.sub.lb.example.test A
referral x.sub.lb.example.test DS
# DS at the cut belongs to the parent: answered here, authoritatively (NODATA)
negative sub.lb.example.test DS NOERROR
# a referral over TCP is the same
ask qt x.sub.lb.example.test A
expect_eq "TCP referral" "$STATUS/$FLAGS/$COUNTS/$AR" "NOERROR/qr/0/2/2/ns.sub.lb.example.test. 3600 IN A 192.0.2.53"

# --- outside the zone: REFUSED, no AA, no records; EDE 20 only when EDNS is used
for name in example.com example.test xlb.example.test .; do
	ask q "$name" A
	expect_eq "$name: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "REFUSED/qr/0/0/1"
	expect_eq "$name: EDE 20" "$EDE" "20 (Not Authoritative)"
	ask q +noedns "$name" A
	expect_eq "$name without EDNS: status/flags/counts (no OPT)" "$STATUS/$FLAGS/$COUNTS" "REFUSED/qr/0/0/0"
	expect_eq "$name without EDNS: no EDNS, no EDE" "$EDNS/$EDE" "/"
done
ask qt +rec www.example.net A
expect_eq "TCP out of zone: status/flags/EDE" "$STATUS/$FLAGS/$EDE" "REFUSED/qr rd/20 (Not Authoritative)"
# class other than IN and CH (HS): not ours either
ask q -c HS lb.example.test SOA
expect_eq "class HS: status/EDE" "$STATUS/$EDE" "REFUSED/20 (Not Authoritative)"

finish
