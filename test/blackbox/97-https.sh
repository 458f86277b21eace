#!/usr/bin/env bash
# https monitors against origins with a self-signed certificate for api.example.test
# (made here with openssl): verified against the system store -> down with a "tls:"
# reason; allow_insecure -> up; ca_file = that certificate plus a Host header -> up, with
# Host and SNI both api.example.test (the origin's require_host checks both); ca_file
# without a Host header -> down (the certificate does not name the IP address).
# Interval and timeout are 2 s here, not 1 s: the four handshakes run at the same moment
# on the one monitor thread, and under ASan with parallel tests they can near 1 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"

make_config "$STEER_SRC/test/data/health/https"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=api.example.test \
	-addext subjectAltName=DNS:api.example.test \
	-keyout "$TMP/cfg/key.pem" -out "$TMP/cfg/cert.pem" >"$TMP/openssl.log" 2>&1 ||
	{ cat "$TMP/openssl.log" >&2; exit 1; }
OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14)
mon_ports "$OPORT"
TLS="--tls-cert $TMP/cfg/cert.pem --tls-key $TMP/cfg/key.pem"
set_origin ca '{"require_host": "api.example.test"}'
# shellcheck disable=SC2086 # TLS is two options
{
	start_origin strict 127.0.0.11 "$OPORT" $TLS
	start_origin insecure 127.0.0.12 "$OPORT" $TLS
	start_origin ca 127.0.0.13 "$OPORT" $TLS
	start_origin ca-nohost 127.0.0.14 "$OPORT" $TLS
}
start_steerd

SPARE='^NOERROR 5 192\.0\.2\.99$'
wait_for "system CA store: strict fails over" "ans strict" "$SPARE"
wait_for "ca_file without Host: ca-nohost fails over" "ans ca-nohost" "$SPARE"
wait_for "allow_insecure: insecure up" \
	"sql \"select to_state from origin_transitions where origin = 'insecure'\"" '^up$'
wait_for "ca_file + Host: ca up" \
	"sql \"select to_state from origin_transitions where origin = 'ca'\"" '^up$'
expect_eq "insecure answers its origin" "$(ans insecure)" "NOERROR 30 127.0.0.12"
expect_eq "ca answers its origin" "$(ans ca)" "NOERROR 30 127.0.0.13"

wait_for "strict: down stored" \
	"sql \"select count(*) from origin_transitions where origin = 'strict'\"" '^1$'
strict=$(sql "select from_state || '|' || to_state || '|' || reason from origin_transitions
              where origin = 'strict'")
expect_match "strict: unknown->down, tls: certificate verify failed" "$strict" \
	'^unknown\|down\|tls: certificate verify failed'
expect_match "strict: the detail names the self-signed certificate" "$strict" '[Ss]elf.?signed'
expect_eq "strict: every probe failed with a tls: reason, status 0" \
	"$(sql "select count(*) from probes p join origins o on o.id = p.origin_id
	        where o.name = 'strict' and not (p.ok = 0 and p.http_status = 0
	        and p.reason like 'tls: %')")" "0"
nohost=$(sql "select from_state || '|' || to_state || '|' || reason from origin_transitions
              where origin = 'ca-nohost'")
expect_match "ca-nohost: unknown->down, tls: the name does not match the IP" "$nohost" \
	'^unknown\|down\|tls: .*127\.0\.0\.14'
# the handshake failed, so the origin never saw a request from those two
expect_eq "strict origin: no request got through" "$(grep -c ' GET ' "$TMP/strict.log" || true)" 0

expect_eq "insecure: every probe ok with status 200" \
	"$(sql "select distinct p.ok || '|' || p.http_status from probes p join origins o
	        on o.id = p.origin_id where o.name = 'insecure'")" "1|200"
expect_match "insecure origin log: Host is the IP, no SNI for an IP" \
	"$(grep ' GET /healthz ' "$TMP/insecure.log" | tail -n 1)" \
	"host=127\.0\.0\.12:$OPORT sni=- mode=normal"
expect_match "ca origin log: Host and SNI are api.example.test" \
	"$(grep ' GET /healthz ' "$TMP/ca.log" | tail -n 1)" \
	'host=api\.example\.test(:[0-9]+)? sni=api\.example\.test mode=normal'
expect_eq "ca: every probe ok with status 200 (require_host satisfied)" \
	"$(sql "select distinct p.ok || '|' || p.http_status from probes p join origins o
	        on o.id = p.origin_id where o.name = 'ca'")" "1|200"

# require_host is really checked: another name -> 421 -> down; back -> up
set_origin ca '{"require_host": "other.example.test"}'
wait_for "ca: origin wants another host: fails over" "ans ca" "$SPARE"
wait_for "ca: 421 stored as the reason" \
	"sql \"select reason from origin_transitions where origin = 'ca' order by id desc limit 1\"" \
	'^status 421 not in 2xx$'
set_origin ca '{"require_host": "api.example.test"}'
wait_for "ca: right host again: back on its origin" "ans ca" '^NOERROR 30 127\.0\.0\.13$'

expect_eq "every probe row complete" "$(bad_probe_rows)" 0
finish
