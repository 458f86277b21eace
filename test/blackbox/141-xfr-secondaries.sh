#!/usr/bin/env bash
# Zone transfers to real secondaries: steerd (test/data/xfr/steerd: balancer api, pool
# primary p1+p2 needing both, pool backup b1+b2, real HTTP origins) is the hidden primary
# of Knot DNS (127.0.0.61, TSIG hmac-sha256) and NSD (127.0.0.62, unsigned). Both load the
# zone; p1 fails -> both answer the backup pool within the monitor's detection time + 2 s
# (NOTIFY, then IXFR; measured from steerd's transition log line); p1 heals -> back. The
# AXFR equals `steerctl zone`; IXFR from the old serial is the difference form and Knot
# logs an IXFR; a wrong TSIG secret gets NOTAUTH and a foreign source REFUSED. steerd is
# stopped and started on the same state: the serial keeps rising and the secondaries
# keep following. Last, a Knot without TSIG (127.0.0.63) and an NSD with it (127.0.0.64)
# load the zone too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/xfr-lib.sh"

for tool in "$KNOTD" "$NSD" kdig ldns-read-zone openssl; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is not installed (scripts/install-deps.sh installs it)"
		finish
	fi
done

# --- steerd with its origins; the secondaries' ports go into transfer.notify
start_xfr_primary -v

# --- both secondaries load the zone: every origin of the active pool
start_secondary knot 127.0.0.61 "${SPORT[1]}" sec1
start_secondary nsd 127.0.0.62 "${SPORT[2]}" ""
PRIMARY_SET="127.0.0.11 127.0.0.12"
BACKUP_SET="127.0.0.21 127.0.0.22"
wait_for "knot (TSIG) loads the zone: api = both primary origins" \
	"sec_ans knot api" "^NOERROR 30 $PRIMARY_SET\$"
wait_for "nsd (no TSIG) loads the zone: api = both primary origins" \
	"sec_ans nsd api" "^NOERROR 30 $PRIMARY_SET\$"
S0=$(soa_serial)
wait_for "both secondaries at steerd's serial $S0" \
	"echo \"\$(sec_serial knot) \$(sec_serial nsd)\"" "^$S0 $S0\$"
expect_eq "static records transferred (www CNAME)" \
	"$(sec_q nsd +short "www.$ZONE" CNAME)" "api.$ZONE."

# knot_refresh NAME: make Knot secondary NAME check steerd's SOA now (knotc on its private
# control socket) while it is up to date; the check must succeed: a failed one is retried
# and, after the SOA expire time without a success, the secondary stops serving the zone.
knot_refresh() {
	local log=$TMP/$1/knot.log lines
	lines=$(wc -l <"$log")
	knotc -c "$TMP/$1/knot.conf" zone-refresh "$ZONE" >/dev/null
	wait_for "$1: refresh while up to date done" \
		"tail -n +$((lines + 1)) $log | grep -c -e 'zone is up-to-date'" '^[1-9]' 10
	sleep 0.2 # the failure, if any, is logged right after; not an assertion of time
	expect_eq "$1: the refresh succeeded (no TSIG or refresh failure logged)" \
		"$(tail -n +$((lines + 1)) "$log" | grep -E 'refresh.*fail|failed to verify TSIG' || true)" ""
}
knot_refresh knot

# measure_change DESC LOG_REGEX WANT DETECT_MS: after an origin change, wait (bounded)
# until both secondaries answer api with the address set WANT; check the delay after
# steerd's log line LOG_REGEX (NOTIFY + transfer: at most 2 s) and after T_CHANGE (at
# most the monitor's detection time DETECT_MS + 2 s).
# The monitor (interval 1 s, timeout 1 s) detects a failure within 1 probe + timeout
# (DOWN_MS) and a recovery within 2 probes + timeout (UP_MS).
DOWN_MS=2000
UP_MS=3000
measure_change() {
	local desc=$1 re=$2 want=$3 detect=$4 out name t t_log
	out=$(watch_secondaries --timeout 15 api "${want// /,}" knot nsd)
	for _ in $(seq 1 50); do # this change's line: the last one, logged after T_CHANGE
		t_log=$(log_ms "$re")
		[ -n "$t_log" ] && [ "$t_log" -ge "$T_CHANGE" ] && break
		sleep 0.1
	done
	for name in knot nsd; do
		t=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$out")
		if ! [[ $t =~ ^[0-9]+$ ]]; then
			fail "$desc: $name never answered [$want]: $(grep "^$name" <<<"$out")"
			continue
		fi
		if [ -z "$t_log" ]; then
			fail "$desc: no steerd log line matches /$re/"
			continue
		fi
		echo "# $desc: $name answers $((t - t_log)) ms after steerd's transition," \
			"$((t - T_CHANGE)) ms after the origin changed"
		expect_le "$desc: $name, ms after the transition" $((t - t_log)) 2000
		expect_le "$desc: $name, ms after the change (detection + 2 s)" $((t - T_CHANGE)) \
			$((detect + 2000))
	done
}

# --- p1 fails: the primary pool (minimum_origins 2) is unhealthy, api fails over
T_CHANGE=$(now_ms)
set_origin p1 '{"status": 503}'
measure_change "failover" 'balancer=api primary->failover:backup' "$BACKUP_SET" $DOWN_MS
expect_match "steerd itself answers the backup (failover TTL 5)" "$(ans api)" \
	'^NOERROR 5 127\.0\.0\.2[12]$'
expect_eq "knot: the whole backup pool, failover TTL" "$(sec_ans knot api)" "NOERROR 5 $BACKUP_SET"
expect_eq "nsd: the whole backup pool, failover TTL" "$(sec_ans nsd api)" "NOERROR 5 $BACKUP_SET"
S1=$(soa_serial)
expect_eq "knot at the new serial" "$(sec_serial knot)" "$S1"
expect_eq "nsd at the new serial" "$(sec_serial nsd)" "$S1"
if serial_gt "$S1" "$S0"; then ok "serial $S1 above $S0"; else fail "serial $S1 not above $S0"; fi

# --- IXFR really is incremental: difference form from S0, and Knot took an IXFR
IXFR=$(kdig @127.0.0.1 -p "$PORT" +tcp +noall +answer IXFR="$S0" "$ZONE" 2>&1 |
	awk '!/^;/ && NF { $2 = ""; print }' | tr -s ' ')
IXFR_SOAS=$(awk '$3 == "SOA" { print $6 }' <<<"$IXFR" | tr '\n' ' ')
expect_eq "IXFR=$S0: SOA new, old, new, new (one difference sequence)" "$IXFR_SOAS" \
	"$S1 $S0 $S1 $S1 "
expect_eq "IXFR=$S0: removes the primary origins, adds the backup ones" \
	"$(awk '$3 == "A" && $1 ~ /^api\./ { print $4 }' <<<"$IXFR" | tr '\n' ' ')" \
	"${PRIMARY_SET} ${BACKUP_SET} "
expect_eq "IXFR=$S0: nothing but the SOAs and api's A records" \
	"$(awk '$3 != "SOA" && !($3 == "A" && $1 ~ /^api\./)' <<<"$IXFR")" ""
expect_eq "knot: one AXFR (the first load), then IXFR" \
	"$(grep -Eo '(AXFR|IXFR), incoming, remote [^,]*, finished' "$TMP/knot/knot.log" |
		cut -d, -f1 | uniq -c | awk '{ print $2 }' | tr '\n' ' ')" "AXFR IXFR "

# --- p1 heals: back to the primary pool
T_CHANGE=$(now_ms)
set_origin p1 '{}'
measure_change "failback" 'balancer=api failover:backup->primary' "$PRIMARY_SET" $UP_MS
S2=$(soa_serial)
expect_eq "secondaries at $S2 after failback" "$(sec_serial knot) $(sec_serial nsd)" "$S2 $S2"

# --- AXFR = steerctl zone (both through ldns-read-zone -c)
AXFR=$(kdig @127.0.0.1 -p "$PORT" AXFR "$ZONE" +noall +answer 2>&1 | zone_norm)
ZTEXT=$(ctl zone 2>&1) || fail "steerctl zone: $ZTEXT"
expect_eq "kdig AXFR equals steerctl zone" "$(zone_norm <<<"$ZTEXT")" "$AXFR"
expect_match "the AXFR has api's primary origins" "$AXFR" 'api\.lb\.example\.test\.	30	IN	A	127\.0\.0\.12'
expect_eq "AXFR: the serial of the SOA query" "$(awk '$4 == "SOA" { print $7 }' <<<"$AXFR")" "$S2"

# --- /metrics: the serial served, and NOTIFY acknowledged by both running secondaries
# (two new versions, S1 and S2, each announced to knot and nsd)
METRICS=$(curl -s --max-time 5 "$API/metrics")
expect_eq "metrics: steer_zone_serial" "$(awk '$1 == "steer_zone_serial" {print $2}' <<<"$METRICS")" "$S2"
ACKED=$(awk '$1 == "steer_xfr_notify_total{result=\"acked\"}" {print $2}' <<<"$METRICS")
SENT=$(awk '$1 == "steer_xfr_notify_total{result=\"sent\"}" {print $2}' <<<"$METRICS")
expect_le "metrics: NOTIFY acknowledged at least 4 times" 4 "${ACKED:-0}"
expect_le "metrics: NOTIFY sent at least as often as acknowledged" "${ACKED:-0}" "${SENT:-0}"
expect_eq "metrics: promtool accepts the exposition" \
	"$(promtool check metrics <<<"$METRICS" 2>&1 | grep -v '^$' || true)" ""

# --- access: TSIG and source addresses (xfrquery.py: raw query, prints RCODE, TSIG error)
SECRET=$(cat "$TMP/cfg/sec1.key")
WRONG=$(openssl rand -base64 32)
xq() {
	"$PYTHON" "$XFR_DATA/xfrquery.py" 127.0.0.1 "$PORT" "$@"
}
expect_match "127.0.0.61 with the right key: NOERROR, signed" \
	"$(xq 127.0.0.61 "$ZONE" AXFR sec1 "$SECRET")" '^NOERROR NOERROR [1-9]'
expect_match "127.0.0.61 with a wrong secret: NOTAUTH (BADSIG)" \
	"$(xq 127.0.0.61 "$ZONE" AXFR sec1 "$WRONG")" '^NOTAUTH BADSIG 0$'
expect_match "127.0.0.61 with an unknown key name: NOTAUTH (BADKEY)" \
	"$(xq 127.0.0.61 "$ZONE" AXFR nokey "$SECRET")" '^NOTAUTH BADKEY 0$'
expect_match "127.0.0.61 unsigned (its allow entry needs sec1): refused" \
	"$(xq 127.0.0.61 "$ZONE" AXFR)" '^(REFUSED|NOTAUTH) - 0$'
expect_no_match "a TSIG-signed SOA query gets a signed answer (kdig verifies it)" \
	"$(kdig @127.0.0.1 -p "$PORT" -b 127.0.0.61 -y "hmac-sha256:sec1:$SECRET" SOA "$ZONE" 2>&1)" \
	'^;; (WARNING|ERROR)'
expect_match "kdig -y with a wrong secret fails" \
	"$(kdig @127.0.0.1 -p "$PORT" -b 127.0.0.61 -y "hmac-sha256:sec1:$WRONG" AXFR "$ZONE" 2>&1)" \
	"error 'BADSIG'"
expect_match "foreign source 127.0.0.99: REFUSED" \
	"$(xq 127.0.0.99 "$ZONE" AXFR)" '^REFUSED - 0$'
expect_match "dig -b 127.0.0.99 AXFR: transfer failed" \
	"$(dig @127.0.0.1 -p "$PORT" -b 127.0.0.99 AXFR "$ZONE" 2>&1)" 'Transfer failed'
expect_match "a foreign source still gets plain answers" \
	"$(dig @127.0.0.1 -p "$PORT" -b 127.0.0.99 +short SOA "$ZONE")" " $S2 "

# --- restart on the same state: the serial keeps rising, the secondaries follow
restart_steerd -v
S3=$(soa_serial)
if [ "$S3" = "$S2" ] || serial_gt "$S3" "$S2"; then
	ok "serial after restart $S3 not below $S2"
else
	fail "serial after restart $S3 is below $S2"
fi
wait_for "api on the primary pool after restart" "ans api" '^NOERROR 30 127\.0\.0\.1[12]$'
T_CHANGE=$(now_ms)
set_origin p2 '{"status": 503}'
measure_change "failover after restart" 'balancer=api primary->failover:backup' \
	"$BACKUP_SET" $DOWN_MS
S4=$(soa_serial)
for s in "$S0" "$S1" "$S2" "$S3"; do
	if serial_gt "$S4" "$s"; then
		ok "serial $S4 above $s"
	else
		fail "serial $S4 after restart is not above earlier serial $s"
	fi
done
expect_eq "both secondaries at $S4" "$(sec_serial knot) $(sec_serial nsd)" "$S4 $S4"
knot_refresh knot

# --- the other way round: Knot without TSIG, NSD with it
start_secondary knot2 127.0.0.63 "${SPORT[3]}" "" knot
start_secondary nsd2 127.0.0.64 "${SPORT[4]}" sec1 nsd
wait_for "knot without TSIG loads the zone" "sec_ans knot2 api" "^NOERROR 5 $BACKUP_SET\$"
wait_for "nsd with TSIG loads the zone" "sec_ans nsd2 api" "^NOERROR 5 $BACKUP_SET\$"
expect_match "nsd2 verified steerd's TSIG" "$(cat "$TMP/nsd2/nsd.log")" 'TSIG verified with key sec1'
T_CHANGE=$(now_ms)
set_origin p2 '{}'
out=$(watch_secondaries --timeout 15 api "${PRIMARY_SET// /,}" knot nsd knot2 nsd2)
expect_eq "all four secondaries follow the failback" \
	"$(awk '$2 ~ /^[0-9]+$/ { print $1 }' <<<"$out" | sort | tr '\n' ' ')" "knot knot2 nsd nsd2 "

for name in knot nsd knot2 nsd2; do
	kill -0 "${SEC_PID[$name]}" 2>/dev/null || fail "secondary $name exited"
done
finish
