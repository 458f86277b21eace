#!/usr/bin/env bash
# CNAME handling (RFC 1034 §4.3.2, RFC 6604): chains inside the zone are followed; loops
# and over-long chains stop safely; a dangling chain ends in NXDOMAIN with the CNAME kept;
# a target outside the zone ends the answer; a CNAME to a balancer gets the balancer's
# answer with the balancer's TTL.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

NEG_SOA='lb.example.test. 60 IN SOA ns1.lb.example.test. hostmaster.example.test. 2026112701 3600 600 604800 60'
CHAIN=$(printf '%s\n' \
	'chain1.lb.example.test. 300 IN CNAME chain2.lb.example.test.' \
	'chain2.lb.example.test. 300 IN CNAME chain3.lb.example.test.')

# --- a chain of two CNAMEs to an A, over UDP and TCP
for via in q qt q6; do
	ask $via chain1.lb.example.test A
	expect_eq "$via chain1 A: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/3/0/1"
	expect_eq "$via chain1 A: answer in chain order" "$AN" "$CHAIN
chain3.lb.example.test. 300 IN A 192.0.2.3"
done
ask q chain2.lb.example.test A
expect_eq "chain2 A: answer" "$AN" "chain2.lb.example.test. 300 IN CNAME chain3.lb.example.test.
chain3.lb.example.test. 300 IN A 192.0.2.3"
# the end of the chain has no AAAA: the CNAMEs, then NODATA (SOA in authority)
ask q chain1.lb.example.test AAAA
expect_eq "chain1 AAAA: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/2/1/1"
expect_eq "chain1 AAAA: answer" "$AN" "$CHAIN"
expect_eq "chain1 AAAA: SOA" "$NS" "$NEG_SOA"
# the case of the query name is kept in the first owner only
ask q ChAiN1.lb.example.test A
expect_eq "ChAiN1 A: first owner keeps case" "$(head -n 1 <<<"$AN")" \
	'ChAiN1.lb.example.test. 300 IN CNAME chain2.lb.example.test.'

# --- a loop stops: NOERROR, each CNAME once
for via in q qt; do
	ask $via loop1.lb.example.test A
	expect_eq "$via loop1 A: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/2/0/1"
	expect_eq "$via loop1 A: answer" "$AN" "loop1.lb.example.test. 300 IN CNAME loop2.lb.example.test.
loop2.lb.example.test. 300 IN CNAME loop1.lb.example.test."
done
ask q loop2.lb.example.test TXT
expect_eq "loop2 TXT: status/counts" "$STATUS/$COUNTS" "NOERROR/2/0/1"

# --- the 10-hop chain c0 -> c10: at most 9 CNAMEs, each the next link, no A
ask q c0.lb.example.test A
expect_eq "c0 A: status/flags" "$STATUS/$FLAGS" "NOERROR/qr aa"
n=$(grep -c . <<<"$AN")
if [ "$n" -ge 1 ] && [ "$n" -le 9 ]; then ok "c0 A: $n CNAMEs (1..9)"; else fail "c0 A: $n records"; fi
want=
for i in $(seq 0 $((n - 1))); do
	want+="c$i.lb.example.test. 300 IN CNAME c$((i + 1)).lb.example.test."$'\n'
done
expect_eq "c0 A: the chain in order, no A" "$AN" "${want%$'\n'}"
# a chain of 8 CNAMEs is followed to its end
ask q c2.lb.example.test A
expect_eq "c2 A: counts" "$STATUS/$COUNTS" "NOERROR/9/0/1"
expect_eq "c2 A: ends in the A" "$(tail -n 1 <<<"$AN")" 'c10.lb.example.test. 300 IN A 192.0.2.10'

# --- dangling: NXDOMAIN for the target, the CNAME kept (RFC 6604 §3)
for via in q qt; do
	ask $via dangling.lb.example.test A
	expect_eq "$via dangling A: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NXDOMAIN/qr aa/1/1/1"
	expect_eq "$via dangling A: answer" "$AN" 'dangling.lb.example.test. 300 IN CNAME nothere.lb.example.test.'
	expect_eq "$via dangling A: SOA" "$NS" "$NEG_SOA"
done

# --- target outside the zone: just the CNAME, nothing in authority
ask q ext.lb.example.test A
expect_eq "ext A: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/1/0/1"
expect_eq "ext A: answer" "$AN" 'ext.lb.example.test. 300 IN CNAME www.example.net.'
ask q ext.lb.example.test AAAA
expect_eq "ext AAAA: answer" "$STATUS/$COUNTS/$AN" 'NOERROR/1/0/1/ext.lb.example.test. 300 IN CNAME www.example.net.'

# --- CNAME to a balancer: the balancer answers with its own TTL (30)
ask q www.lb.example.test A
expect_eq "www A: status/flags/counts" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/2/0/1"
expect_eq "www A: the CNAME first" "$(head -n 1 <<<"$AN")" 'www.lb.example.test. 300 IN CNAME api.lb.example.test.'
expect_match "www A: then the api A" "$(tail -n 1 <<<"$AN")" '^api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
ask q www.lb.example.test AAAA
expect_eq "www AAAA: answer" "$AN" 'www.lb.example.test. 300 IN CNAME api.lb.example.test.
api.lb.example.test. 30 IN AAAA ::1'

finish
