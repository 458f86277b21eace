#!/usr/bin/env bash
# Balancers: answers come from the pools with the balancer's TTL; a pool without the
# family gives NODATA; drained (weight 0) and disabled origins never appear; hostname
# origins answer a CNAME (followed when in the zone); "all" gives max_answers distinct
# addresses in varying order; "hash" is stable per client address; "random" stays within
# its pools; unknown health (no monitor result yet) never means SERVFAIL.
source "$(dirname "$0")/lib.sh"
make_config "$STEER_SRC/test/data/bb"
start_steerd

NEG_SOA='lb.example.test. 60 IN SOA ns1.lb.example.test. hostmaster.example.test. 2026112701 3600 600 604800 60'

# many NAME TYPE N: ask N times in one dig run (R_* arrays hold every response)
many() {
	local args=() i
	for ((i = 0; i < $3; i++)); do
		args+=("$1" "$2")
	done
	ask q "${args[@]}"
	expect_eq "$1 $2: $3 responses" "$N_RESP" "$3"
}

# every_response WHAT STATUS/FLAGS/COUNTS ANSWER-REGEX: each of the last many's responses
# has that header and every answer line matches the regex
every_response() {
	local i bad=0 line
	for ((i = 0; i < N_RESP; i++)); do
		if [ "${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}" != "$2" ]; then
			fail "$1: response $i: ${R_STATUS[i]}/${R_FLAGS[i]}/${R_COUNTS[i]}, expected $2"
			bad=1
		fi
		while IFS= read -r line; do
			if ! [[ $line =~ $3 ]]; then
				fail "$1: response $i: [$line] does not match /$3/"
				bad=1
			fi
		done <<<"${R_AN[i]}"
	done
	[ "$bad" -eq 0 ] && ok "$1: all $N_RESP responses"
}

# distinct_answers: number of distinct answer sections among the last many's responses
distinct_answers() {
	printf '%s\n--\n' "${R_AN[@]}" | awk 'BEGIN { RS = "--\n" } { print }' | sort -u | grep -c .
}

# --- api (failover homelab -> parents; monitor has no result yet): homelab, TTL 30
many api.lb.example.test A 30
every_response "api A" "NOERROR/qr aa/1/0/1" '^api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
many api.lb.example.test AAAA 10
every_response "api AAAA" "NOERROR/qr aa/1/0/1" '^api\.lb\.example\.test\. 30 IN AAAA ::1$'
ask qt api.lb.example.test A
expect_match "api A over TCP" "$STATUS/$AN" '^NOERROR/api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
ask q6 api.lb.example.test AAAA
expect_eq "api AAAA over IPv6" "$STATUS/$AN" 'NOERROR/api.lb.example.test. 30 IN AAAA ::1'
# other types at a balancer name: NODATA
ask q api.lb.example.test TXT
expect_eq "api TXT: NODATA" "$STATUS/$FLAGS/$COUNTS/$NS" "NOERROR/qr aa/0/1/1/$NEG_SOA"

# --- v4only: a (weight 1) only; b drained (weight 0), c disabled; no IPv6 origin
many v4only.lb.example.test A 50
every_response "v4only A: only 127.0.0.31" "NOERROR/qr aa/1/0/1" '^v4only\.lb\.example\.test\. 20 IN A 127\.0\.0\.31$'
ask q v4only.lb.example.test AAAA
expect_eq "v4only AAAA: NODATA" "$STATUS/$FLAGS/$COUNTS/$NS" "NOERROR/qr aa/0/1/1/$NEG_SOA"

# --- host: a hostname origin outside the zone is a CNAME, for A and AAAA alike
for t in A AAAA; do
	ask q host.lb.example.test $t
	expect_eq "host $t: CNAME only" "$STATUS/$FLAGS/$COUNTS/$AN" \
		'NOERROR/qr aa/1/0/1/host.lb.example.test. 40 IN CNAME origin.example.net.'
done
# the name is an alias: a CNAME query gets that CNAME too (as A and ANY do)
ask q host.lb.example.test CNAME
expect_eq "host CNAME: the CNAME" "$STATUS/$FLAGS/$COUNTS/$AN" \
	'NOERROR/qr aa/1/0/1/host.lb.example.test. 40 IN CNAME origin.example.net.'
# --- inhost: a hostname origin inside the zone is followed
ask q inhost.lb.example.test A
expect_eq "inhost A: CNAME + target A" "$STATUS/$FLAGS/$COUNTS" "NOERROR/qr aa/2/0/1"
expect_eq "inhost A: answer" "$AN" 'inhost.lb.example.test. 40 IN CNAME chain3.lb.example.test.
chain3.lb.example.test. 300 IN A 192.0.2.3'
ask q inhost.lb.example.test AAAA
expect_eq "inhost AAAA: CNAME, then NODATA" "$STATUS/$COUNTS/$AN/$NS" \
	"NOERROR/1/1/1/inhost.lb.example.test. 40 IN CNAME chain3.lb.example.test./$NEG_SOA"

ask q inhost.lb.example.test CNAME
expect_eq "inhost CNAME: the CNAME alone, not chased" "$STATUS/$FLAGS/$COUNTS/$AN" \
	'NOERROR/qr aa/1/0/1/inhost.lb.example.test. 40 IN CNAME chain3.lb.example.test.'
# an address balancer is no alias
ask q api.lb.example.test CNAME
expect_eq "api CNAME: NODATA" "$STATUS/$FLAGS/$COUNTS/$NS" "NOERROR/qr aa/0/1/1/$NEG_SOA"
# an alias answers every type with its CNAME (RFC 1034 §3.6.2), chased inside the zone;
# an address balancer gives other types NODATA
for t in TXT MX TYPE65534; do
	ask q host.lb.example.test $t
	expect_eq "host $t: the CNAME" "$STATUS/$FLAGS/$COUNTS/$AN" \
		'NOERROR/qr aa/1/0/1/host.lb.example.test. 40 IN CNAME origin.example.net.'
done
ask q inhost.lb.example.test TXT
expect_eq "inhost TXT: CNAME, then the target's NODATA" "$STATUS/$COUNTS/$AN/$NS" \
	"NOERROR/1/1/1/inhost.lb.example.test. 40 IN CNAME chain3.lb.example.test./$NEG_SOA"
ask q api.lb.example.test TXT
expect_eq "api TXT: NODATA" "$STATUS/$FLAGS/$COUNTS/$NS" "NOERROR/qr aa/0/1/1/$NEG_SOA"

# --- all: max_answers 4 distinct origins of 10, order (and choice) varies
many all.lb.example.test A 30
every_response "all A" "NOERROR/qr aa/4/0/1" '^all\.lb\.example\.test\. 50 IN A 127\.0\.1\.([1-9]|10)$'
dups=0
for ((i = 0; i < N_RESP; i++)); do
	n=$(sort -u <<<"${R_AN[i]}" | grep -c .)
	[ "$n" -eq 4 ] || dups=$((dups + 1))
done
expect_eq "all A: 4 distinct addresses in every response" "$dups" 0
n=$(distinct_answers)
if [ "$n" -ge 2 ]; then ok "all A: $n different answers in 30"; else fail "all A: the same answer 30 times"; fi
ask q all.lb.example.test AAAA
expect_eq "all AAAA: NODATA" "$STATUS/$COUNTS/$NS" "NOERROR/0/1/1/$NEG_SOA"

# --- hash: the same origin for the same client, every time
many hash.lb.example.test A 20
every_response "hash A from 127.0.0.1" "NOERROR/qr aa/1/0/1" '^hash\.lb\.example\.test\. 50 IN A 127\.0\.2\.[1-4]$'
expect_eq "hash A from 127.0.0.1: one answer" "$(distinct_answers)" 1
first=${R_AN[0]}
ask q -b 127.0.0.1 hash.lb.example.test A hash.lb.example.test A
expect_eq "hash A with -b 127.0.0.1: same as before" "${R_AN[0]}|${R_AN[1]}" "$first|$first"
ask q -b 127.0.0.5 hash.lb.example.test A hash.lb.example.test A hash.lb.example.test A hash.lb.example.test A hash.lb.example.test A
every_response "hash A from 127.0.0.5" "NOERROR/qr aa/1/0/1" '^hash\.lb\.example\.test\. 50 IN A 127\.0\.2\.[1-4]$'
expect_eq "hash A from 127.0.0.5: stable" "$(distinct_answers)" 1
# the hash key is the client's /24, so 127.0.0.5 shares 127.0.0.1's origin
expect_eq "hash A from 127.0.0.5: same /24, same origin as 127.0.0.1" "${R_AN[0]}" "$first"
ask qt -b 127.0.0.5 hash.lb.example.test A
expect_eq "hash A from 127.0.0.5 over TCP: same as UDP" "$AN" "${R_AN[0]}"
# distinct /24s spread over the origins (8 subnets, 4 origins: not all on one), each
# stable on its own
seen=
for net in $(seq 10 17); do
	ask q -b "127.0.$net.1" hash.lb.example.test A hash.lb.example.test A
	[ "${R_AN[0]}" = "${R_AN[1]}" ] || fail "hash: 127.0.$net.1 got ${R_AN[0]} then ${R_AN[1]}"
	seen+="$AN"$'\n'
done
n=$(sort -u <<<"$seen" | grep -c .)
if [ "$n" -ge 2 ]; then ok "hash: 8 subnets on $n origins"; else fail "hash: 8 subnets all on one origin"; fi

# --- rnd (random over v4pool and parents): only the live origins of its pools
many rnd.lb.example.test A 30
every_response "rnd A" "NOERROR/qr aa/1/0/1" '^rnd\.lb\.example\.test\. 50 IN A 127\.0\.0\.(31|21)$'

# --- unknown health never turns into SERVFAIL, for any balancer or type
args=()
for b in api v4only host inhost all hash rnd; do
	args+=("$b.lb.example.test" A "$b.lb.example.test" AAAA)
done
ask q "${args[@]}" "${args[@]}"
servfail=0
for ((i = 0; i < N_RESP; i++)); do
	[ "${R_STATUS[i]}" = NOERROR ] || servfail=$((servfail + 1))
done
expect_eq "no SERVFAIL (nor anything but NOERROR) in $N_RESP balancer answers" "$servfail/$N_RESP" "0/28"

finish
