#!/usr/bin/env bash
# GET /metrics: the Prometheus document passes `promtool check metrics`, counts queries
# exactly (per transport, query type, RCODE, balancer, pool and origin), counts probes by
# reason class with a duration histogram per monitor, counts a failover and a failback
# when the preferred pool's origins die and come back (with the health gauges following),
# shows a drain as an override gauge, and keeps every count across a reload. TCP closes are
# counted by reason (client closed, idle timeout, first-query timeout, reset: error), with
# tcp.idle_timeout and tcp.query_timeout at 1 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

M=$TMP/metrics.txt

# scrape: GET /metrics into $M; prints "CODE CONTENT-TYPE".
scrape() {
	curl -s --max-time 10 -o "$M" -w '%{http_code} %{content_type}' "$API/metrics" || true
}

# val SERIES: the value of the series (name and labels exactly as written) in the last
# scrape, 0 when it is not there.
val() {
	awk -v s="$1" '$1 == s { v = $2; f = 1 } END { print f ? v : 0 }' "$M"
}

# now SERIES: scrape, then val.
now() {
	scrape >/dev/null
	val "$1"
}

# promcheck NAME: the last scrape passes promtool (its complaints are shown).
promcheck() {
	local out
	if out=$(promtool check metrics <"$M" 2>&1); then
		ok "$1"
	else
		fail "$1: $out"
	fi
}

# delta NAME SERIES BEFORE WANT: the series moved by exactly WANT since BEFORE (last scrape).
delta() {
	expect_eq "$1" "$(($(val "$2") - $3))" "$4"
}

# kq NAME TYPE: one query over TCP with kdig (a connection of its own).
kq() {
	kdig @127.0.0.1 -p "$PORT" +tcp +norec +time=2 +retry=0 "$1" "$2" >/dev/null 2>&1 || true
}

start_api_trio 'c["tcp"] = {"idle_timeout": 1, "query_timeout": 1}'
wait_for "all three origins up" "ctl status --json | jq_py \"sum(o['state'] == 'up' \
for p in d['pools'] for o in p['origins'])\"" '^3$'

# --- the document: served as text 0.0.4 on loopback without a token, valid for promtool
expect_eq "GET /metrics: 200, text format 0.0.4" "$(scrape)" \
	"200 text/plain; version=0.0.4; charset=utf-8"
promcheck "promtool check metrics: the first scrape"
expect_match "build info" "$(cat "$M")" '^steer_build_info\{version="[0-9.]+"\} 1$'
expect_match "start time" "$(cat "$M")" '^steer_start_time_seconds 1[0-9]{9}(\.[0-9]+)?$'
expect_eq "health gauges: p1 up" "$(val 'steer_origin_up{pool="primary",origin="p1"}')" 1
expect_eq "health gauges: pool primary healthy" "$(val 'steer_pool_healthy{pool="primary"}')" 1
expect_eq "health gauges: api on its first choice" \
	"$(val 'steer_balancer_failed_over{balancer="api"}')" 0

# --- exact query counts: 10 A and 4 out-of-zone TXT over UDP (one dig run), 5 NXDOMAIN A
# and 3 AAAA over TCP (a kdig run, so a connection, each)
UA='steer_dns_queries_total{proto="udp",qtype="A",rcode="NOERROR"}'
UTXT='steer_dns_queries_total{proto="udp",qtype="TXT",rcode="REFUSED"}'
TNX='steer_dns_queries_total{proto="tcp",qtype="A",rcode="NXDOMAIN"}'
TAAAA='steer_dns_queries_total{proto="tcp",qtype="AAAA",rcode="NOERROR"}'
BP='steer_balancer_answers_total{balancer="api",pool="primary"}'
BS='steer_balancer_answers_total{balancer="api",pool="secondary"}'
O1='steer_origin_answers_total{pool="primary",origin="p1"}'
O2='steer_origin_answers_total{pool="primary",origin="p2"}'
OS='steer_origin_answers_total{pool="secondary",origin="s1"}'
CLOSED='steer_dns_tcp_connections_closed_total{reason='
REASONS="idle_timeout first_query_timeout evicted table_full per_source_limit client_closed error"
scrape >/dev/null
declare -A B
for s in "$UA" "$UTXT" "$TNX" "$TAAAA" "$BP" "$BS" "$O1" "$O2" "$OS" \
	'steer_dns_received_total{proto="udp"}' 'steer_dns_received_total{proto="tcp"}' \
	steer_dns_tcp_connections_total; do
	B[$s]=$(val "$s")
done
for r in $REASONS; do
	B[$r]=$(val "$CLOSED\"$r\"}")
done
args=()
for _ in $(seq 1 10); do args+=("api.$ZONE" A); done
for _ in $(seq 1 4); do args+=(example.com TXT); done
q "${args[@]}" >/dev/null || true
for _ in $(seq 1 5); do kq "nope.$ZONE" A; done
for _ in $(seq 1 3); do kq "api.$ZONE" AAAA; done
scrape >/dev/null
promcheck "promtool check metrics: after the queries"
delta "udp A NOERROR: +10" "$UA" "${B[$UA]}" 10
delta "udp TXT REFUSED: +4" "$UTXT" "${B[$UTXT]}" 4
delta "tcp A NXDOMAIN: +5" "$TNX" "${B[$TNX]}" 5
delta "tcp AAAA NOERROR (NODATA): +3" "$TAAAA" "${B[$TAAAA]}" 3
delta "udp messages: +14" 'steer_dns_received_total{proto="udp"}' \
	"${B['steer_dns_received_total{proto="udp"}']}" 14
delta "tcp messages: +8" 'steer_dns_received_total{proto="tcp"}' \
	"${B['steer_dns_received_total{proto="tcp"}']}" 8
delta "tcp connections: +8" steer_dns_tcp_connections_total \
	"${B[steer_dns_tcp_connections_total]}" 8
delta "balancer api answered from primary: +13 (A and AAAA)" "$BP" "${B[$BP]}" 13
delta "balancer api answered from secondary: +0" "$BS" "${B[$BS]}" 0
delta "origin p1 in 10 answers (origin_steering all, A only)" "$O1" "${B[$O1]}" 10
delta "origin p2 in 10 answers" "$O2" "${B[$O2]}" 10
delta "origin s1 in none" "$OS" "${B[$OS]}" 0
# each kdig closed its connection after its answer: 8 closes by the client (the server
# sees the EOF on its own time: polled)
wait_for "tcp closes by the client: +8" "now '${CLOSED}\"client_closed\"}'" \
	"^$((B[client_closed] + 8))\$" 5
for r in $REASONS; do
	[ "$r" = client_closed ] || delta "tcp closes $r: +0" "$CLOSED\"$r\"}" "${B[$r]}" 0
done

# --- TCP closes by reason: one asks and idles (idle_timeout 1 s), one sends nothing
# (query_timeout 1 s), one asks and resets (error); each waits for the server's close
PYTHONPATH="$STEER_SRC/test/blackbox" PORT="$PORT" timeout 30 "$PYTHON" - <<'PY' ||
import socket
import time
from bbdns import *

def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(("127.0.0.1", PORT))
    return s

def ask(s):
    q = query("lb.example.test", "SOA", qid=77)
    s.sendall(struct.pack("!H", len(q)) + q)
    return parse(tcp_recv_msg(s)).id

idle, silent = connect(), connect()
expect_eq("idle: answered", ask(idle), 77)
# each is closed by the server within 5 s (its timeout is 1 s)
expect_eq("idle: closed by the server", idle.recv(1), b"")
expect_eq("silent: closed by the server", silent.recv(1), b"")
idle.close()
silent.close()
reset = connect()
expect_eq("reset: answered", ask(reset), 77)
reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
reset.close()  # an RST: the server's next read fails
check_exit()
PY
	fail "tcp closes (python exit $?)"
wait_for "tcp closes by error (the reset): +1" "now '${CLOSED}\"error\"}'" "^$((B[error] + 1))\$" 5
delta "tcp closes idle_timeout: +1" "${CLOSED}\"idle_timeout\"}" "${B[idle_timeout]}" 1
delta "tcp closes first_query_timeout: +1" "${CLOSED}\"first_query_timeout\"}" \
	"${B[first_query_timeout]}" 1
delta "tcp closes client_closed: still +8" "${CLOSED}\"client_closed\"}" "${B[client_closed]}" 8
for r in evicted table_full per_source_limit; do
	delta "tcp closes $r: +0" "$CLOSED\"$r\"}" "${B[$r]}" 0
done
delta "tcp connections: +11 (8 kdig, 3 here)" steer_dns_tcp_connections_total \
	"${B[steer_dns_tcp_connections_total]}" 11
promcheck "promtool check metrics: after the tcp closes"
n=$(grep -c ' stats: ' "$TMP/steerd.log" || true)
kill -USR1 "$STEERD_PID"
wait_for "SIGUSR1 logs a stats line" "grep -c ' stats: ' '$TMP/steerd.log'" "^$((n + 1))$" 5
expect_match "the stats line counts what /metrics counts" \
	"$(grep ' stats: ' "$TMP/steerd.log" | tail -1)" \
	" stats: udp queries=$(val 'steer_dns_received_total{proto="udp"}') .*; tcp queries=$(val 'steer_dns_received_total{proto="tcp"}') "
expect_match "the stats line counts the tcp closes as /metrics does" \
	"$(grep ' stats: ' "$TMP/steerd.log" | tail -1)" \
	"; tcp .* closed_idle=$(val "${CLOSED}\"idle_timeout\"}") closed_query_timeout=$(val "${CLOSED}\"first_query_timeout\"}") closed_evicted=0 closed_by_client=$(val "${CLOSED}\"client_closed\"}") closed_error=$(val "${CLOSED}\"error\"}") refused_full=0 refused_per_source=0\$"

# --- probes: counted by origin and reason class; the monitor's histogram grows
P1OK='steer_probes_total{pool="primary",origin="p1",reason="ok"}'
HC='steer_probe_duration_seconds_count{monitor="web"}'
scrape >/dev/null
p0=$(val "$P1OK") h0=$(val "$HC")
wait_for "probes of p1 counted as ok" "[ \$(now '$P1OK') -ge $((p0 + 2)) ] && echo more" '^more$'
expect_ge "the histogram of monitor web grew" "$(now "$HC")" $((h0 + 2))
expect_eq "the +Inf bucket holds every probe" \
	"$(val 'steer_probe_duration_seconds_bucket{monitor="web",le="+Inf"}')" "$(val "$HC")"

# --- fail the preferred pool: failover counted, gauges follow; then the failback
FO='steer_balancer_failovers_total{balancer="api"}'
FB='steer_balancer_failbacks_total{balancer="api"}'
scrape >/dev/null
fo0=$(val "$FO") fb0=$(val "$FB")
stop_origin p1
stop_origin p2
wait_for "api fails over to secondary" "ans api" '^NOERROR 5 127\.0\.0\.21$'
wait_for "failover counted" "now '$FO'" "^$((fo0 + 1))$"
expect_eq "p1 down in the gauges" "$(val 'steer_origin_up{pool="primary",origin="p1"}')" 0
expect_eq "pool primary unhealthy" "$(val 'steer_pool_healthy{pool="primary"}')" 0
expect_eq "api failed over" "$(val 'steer_balancer_failed_over{balancer="api"}')" 1
expect_match "p1's failed probes are 'refused'" \
	"$(val 'steer_probes_total{pool="primary",origin="p1",reason="refused"}')" '^[1-9]'
bs0=$(val "$BS") os0=$(val "$OS")
q "api.$ZONE" A "api.$ZONE" A "api.$ZONE" A >/dev/null || true
scrape >/dev/null
delta "answers from secondary counted: +3" "$BS" "$bs0" 3
delta "three answers with s1" "$OS" "$os0" 3
promcheck "promtool check metrics: while failed over"
restart_origin p1
restart_origin p2
wait_for "api fails back" "ans api" '^NOERROR 30 127\.0\.0\.11 127\.0\.0\.12$' 20
wait_for "failback counted" "now '$FB'" "^$((fb0 + 1))$"
expect_eq "one failover only" "$(val "$FO")" $((fo0 + 1))
expect_eq "api on its first choice again" \
	"$(val 'steer_balancer_failed_over{balancer="api"}')" 0

# --- drain: the override gauge, and answers without the drained origin
OV='steer_origin_override{pool="primary",origin="p1",state="drain"}'
expect_eq "no override on p1" "$(now "$OV")" 0
ctl drain primary/p1 --reason "metrics test" >/dev/null
expect_eq "drain: override gauge 1" "$(now "$OV")" 1
expect_eq "drain: the other states 0" \
	"$(val 'steer_origin_override{pool="primary",origin="p1",state="down"}')" 0
a1=$(val "$O1") a2=$(val "$O2")
q "api.$ZONE" A "api.$ZONE" A >/dev/null || true
scrape >/dev/null
delta "drained p1 in no answer" "$O1" "$a1" 0
delta "p2 in both" "$O2" "$a2" 2
ctl undrain primary/p1 >/dev/null
expect_eq "undrain: override gauge 0" "$(now "$OV")" 0

# --- reloads: counted, and no counter goes back (slots are kept by name)
scrape >/dev/null
r0=$(val 'steer_reloads_total{result="ok"}') f0=$(val 'steer_reloads_total{result="failed"}')
b0=$(val "$BP") u0=$(val "$UA")
expect_match "reload" "$(http POST /v1/reload)" '^200 '
cp "$TMP/cfg/pools/primary.json" "$TMP/primary.json"
echo '{"name": "primary", "origins": [' >"$TMP/cfg/pools/primary.json"
expect_match "a reload with an error" "$(http POST /v1/reload)" '^422 '
cp "$TMP/primary.json" "$TMP/cfg/pools/primary.json"
scrape >/dev/null
delta "reloads ok: +1" 'steer_reloads_total{result="ok"}' "$r0" 1
delta "reloads failed: +1" 'steer_reloads_total{result="failed"}' "$f0" 1
expect_eq "balancer answers kept across the reloads" "$(val "$BP")" "$b0"
expect_eq "query counts kept across the reloads" "$(val "$UA")" "$u0"
q "api.$ZONE" A >/dev/null || true
scrape >/dev/null
delta "counting goes on after the reload" "$BP" "$b0" 1
delta "by query type too" "$UA" "$u0" 1
promcheck "promtool check metrics: after the reloads"
expect_match "store counters" "$(cat "$M")" '^steer_store_rows_written_total [1-9]'

finish
