#!/usr/bin/env bash
# ANY gets a minimal answer (RFC 8482: one RRset); QCLASS ANY is answered from the zone;
# MX and SRV answers carry their in-zone targets' addresses; class CH answers TXT
# version.bind, version.server, id.server and hostname.bind (AA clear, as Knot) and refuses
# everything else, other types of those names too; "version": false hides the version
# (REFUSED) but not the identity.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

NEG_SOA='lb.example.test. 60 IN SOA ns1.lb.example.test. hostmaster.example.test. 2026112701 3600 600 604800 60'

# one_rrset WHAT: the answer of the last ask is non-empty and one RRset (same owner,
# class and type on every line)
one_rrset() {
	local sets
	sets=$(awk '{ print $1, $3, $4 }' <<<"$AN" | sort -u | grep -c .)
	expect_eq "$1: one RRset" "$sets" 1
}

# --- ANY: one RRset of what the name holds (dig sends ANY over TCP unless +notcp)
for via in "q +notcp" qt; do
	# shellcheck disable=SC2086 # $via is a command and its options
	ask $via lb.example.test ANY
	expect_eq "$via apex ANY: status/flags/authority" "$STATUS/$FLAGS/${COUNTS#*/}" "NOERROR/qr aa/0/1"
	one_rrset "$via apex ANY"
	expect_match "$via apex ANY: an apex RRset" "$AN" '^lb\.example\.test\. [0-9]+ IN (SOA|NS|TXT|CAA|MX) '
	# shellcheck disable=SC2086 # $via is a command and its options
	ask $via +ignore big.lb.example.test ANY
	expect_eq "$via big ANY (TCP: all 8 TXT)" "$STATUS/$FLAGS/$COUNTS" \
		"$([ "$via" = qt ] && echo 'NOERROR/qr aa/8/0/1' || echo 'NOERROR/qr aa tc/0/0/1')"
	expect_match "$via big ANY: transport used" "$OUT" "\\($([ "$via" = qt ] && echo TCP || echo UDP)\\)"
done
ask q +notcp ns1.lb.example.test ANY
expect_eq "ns1 ANY: status/counts" "$STATUS/${COUNTS#*/}" "NOERROR/0/1"
one_rrset "ns1 ANY"
expect_match "ns1 ANY: its A or AAAA" "$AN" '^ns1\.lb\.example\.test\. 3600 IN (A 127\.0\.0\.1|AAAA ::1)$'
ask q +notcp foo.wild.lb.example.test ANY
one_rrset "wildcard ANY"
expect_match "wildcard ANY: synthesised, owner kept" "$AN" '^foo\.wild\.lb\.example\.test\. 300 IN (A 192\.0\.2\.50|TXT "wild")$'
# a CNAME is the one RRset; ANY is not chased
ask q +notcp chain1.lb.example.test ANY
expect_eq "chain1 ANY: just the CNAME" "$STATUS/$COUNTS/$AN" 'NOERROR/1/0/1/chain1.lb.example.test. 300 IN CNAME chain2.lb.example.test.'
# a balancer answers its A set
ask q +notcp api.lb.example.test ANY
expect_match "api ANY: one A" "$STATUS/$COUNTS/$AN" '^NOERROR/1/0/1/api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
ask q all.lb.example.test ANY
expect_eq "all ANY: the 4 A of the balancer" "$STATUS/$COUNTS" "NOERROR/4/0/1"
one_rrset "all ANY"
# negative and referral cases are as for any other type
ask q +notcp nope.lb.example.test ANY
expect_eq "nope ANY: NXDOMAIN" "$STATUS/$FLAGS/$COUNTS/$NS" "NXDOMAIN/qr aa/0/1/1/$NEG_SOA"
ask q c.ent.lb.example.test ANY
expect_eq "ENT ANY: NODATA" "$STATUS/$FLAGS/$COUNTS/$NS" "NOERROR/qr aa/0/1/1/$NEG_SOA"
ask q x.sub.lb.example.test ANY
expect_eq "x.sub ANY: referral" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr/0/2/2"
ask q example.com ANY
expect_eq "out of zone ANY: REFUSED" "$STATUS/$EDE" "REFUSED/20 (Not Authoritative)"

# --- QCLASS ANY (RFC 1035 §3.2.5: any class) is answered from the IN zone, as Knot does
ask q -c ANY api.lb.example.test A
expect_match "class ANY api A: the balancer's A" "$STATUS/$FLAGS/$COUNTS/$AN" \
	'^NOERROR/qr aa/1/0/1/api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
ask q -c ANY nope.lb.example.test A
expect_eq "class ANY nope A: NXDOMAIN" "$STATUS/$FLAGS/$COUNTS/$NS" "NXDOMAIN/qr aa/0/1/1/$NEG_SOA"
ask q -c ANY example.com A
expect_eq "class ANY out of zone: REFUSED" "$STATUS/$FLAGS/$EDE" "REFUSED/qr/20 (Not Authoritative)"

# --- MX and SRV: the in-zone target's addresses in the additional section (RFC 1035
# §3.3.9, RFC 2782), also when ANY picks the SRV RRset
ask q lb.example.test MX
expect_eq "apex MX: mx1's A as additional data" "$STATUS/$COUNTS/$AN/$AR" \
	"NOERROR/1/0/2/lb.example.test. 300 IN MX 10 mx1.lb.example.test./mx1.lb.example.test. 300 IN A 192.0.2.25"
for t in SRV ANY; do
	ask q _sip._udp.lb.example.test $t
	expect_eq "_sip._udp $t: sip's A as additional data" "$STATUS/$COUNTS/$AN/$AR" \
		"NOERROR/1/0/2/_sip._udp.lb.example.test. 300 IN SRV 0 5 5060 sip.lb.example.test./sip.lb.example.test. 300 IN A 192.0.2.60"
done

# --- CHAOS (one dig run per group of names)
chaos() { # NAME EXPECTED-TXT [NAME EXPECTED-TXT...]
	local args=() want=() i
	while [ $# -gt 0 ]; do
		args+=("$1" CH TXT)
		want+=("$1. 0 CH TXT \"$2\"")
		shift 2
	done
	ask q "${args[@]}"
	expect_eq "CH TXT: ${#want[@]} responses" "$N_RESP" "${#want[@]}"
	for ((i = 0; i < ${#want[@]}; i++)); do
		expect_eq "CH TXT ${args[3 * i]}" "${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}/${R_AN[i]}" \
			"NOERROR/qr/1/0/1/${want[i]}"
	done
}
refused_ch() { # NAME...: CH TXT refused for every NAME
	local args=() name i
	for name in "$@"; do
		args+=("$name" CH TXT)
	done
	ask q "${args[@]}"
	expect_eq "CH TXT: $# responses" "$N_RESP" "$#"
	for ((i = 0; i < $#; i++)); do
		expect_eq "CH TXT ${args[3 * i]}: REFUSED" "${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}" "REFUSED/qr/0/0/1"
	done
}
chaos version.bind "steer-bb 1" version.server "steer-bb 1" id.server bb-test \
	hostname.bind bb-test VERSION.Bind "steer-bb 1"
ask qt version.bind CH TXT
expect_eq "CH TXT version.bind over TCP" "$STATUS/$AN" 'NOERROR/version.bind. 0 CH TXT "steer-bb 1"'
ask q6 id.server CH TXT
expect_eq "CH TXT id.server over IPv6" "$STATUS/$AN" 'NOERROR/id.server. 0 CH TXT "bb-test"'
out=$(kdig @127.0.0.1 -p "$PORT" +norec +short +time=2 +retry=0 -c CH -t TXT version.bind)
expect_eq "kdig CH TXT version.bind" "$out" '"steer-bb 1"'
# other types of those names are refused, ANY too (as Knot)
ask q version.bind CH A id.server CH ANY hostname.bind CH SOA version.server CH ANY
expect_eq "CH A, ANY, SOA: 4 responses" "$N_RESP" 4
for ((i = 0; i < 4; i++)); do
	expect_eq "CH A, ANY, SOA: response $i REFUSED" "${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}" "REFUSED/qr/0/0/1"
done
# anything else in CH is refused
refused_ch authors.bind bind server example.com lb.example.test x.version.bind

# --- "version": false hides the version, not the identity
cfg_edit 'c["version"] = False'
restart_steerd
refused_ch version.bind version.server VERSION.SERVER
chaos id.server bb-test hostname.bind bb-test
ask q lb.example.test SOA
expect_eq "hidden version: zone still served" "$STATUS/$COUNTS" "NOERROR/1/0/1"

finish
