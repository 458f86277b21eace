#!/usr/bin/env bash
# `steerctl zone` and GET /v1/zone print the zone a secondary gets (the same records as
# an AXFR), and TSIG interoperates with kdig: an AXFR signed with the right key verifies
# (every message), a wrong secret gets NOTAUTH/BADSIG, an unknown key NOTAUTH/BADKEY, an
# unsigned request from a prefix that needs a key is refused. Without `transfer`,
# `steerctl zone` exits 1 with "transfers not configured".
source "$(dirname "$0")/lib.sh"

ZONE=lb.example.test
PORT=$(free_port)
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
API=http://127.0.0.1:$APIPORT
CFG=$TMP/cfg/steerd.json
mkdir -p "$TMP/cfg/pools"
(umask 077 && openssl rand -base64 32 >"$TMP/cfg/sec1.key")
SECRET=$(cat "$TMP/cfg/sec1.key")
# 1500 TXT records of 100 bytes: the AXFR takes several messages, each signed
X100=$(printf 'x%.0s' $(seq 1 100))
BIG=$(for i in $(seq 1 1500); do printf ', "t%d 300 IN TXT %s"' "$i" "$X100"; done)
# one name whose answer (5 x 100-byte TXT) does not fit 512 bytes
BIG+=$(for i in 1 2 3 4 5; do printf ', "big 300 IN TXT %s%d"' "$(printf 'y%.0s' $(seq 1 100))" "$i"; done)
write_config() { # write_config TRANSFER_MEMBER (with its leading comma, or "")
	cat >"$CFG" <<EOF
{"listen": ["127.0.0.1:$PORT"],
 "zone": {"name": "$ZONE",
          "soa": $(soa_json),
          "ns": ["ns1.$ZONE"],
          "records": ["ns1 3600 IN A 127.0.0.61", "www 300 IN CNAME api"$BIG]},
 "balancers": [{"name": "api", "ttl": 30, "default_pools": ["primary"]}],
 "api": {"listen": ["127.0.0.1:$APIPORT"], "token_file": "api.token"},
 "state": {"path": "$TMP/steerd.db"}$1}
EOF
}
write_config ',
 "transfer": {"allow": [{"from": "127.0.0.1/32", "key": "sec1"}],
              "keys": [{"name": "sec1", "algorithm": "hmac-sha256", "secret_file": "sec1.key"}]}'
cat >"$TMP/cfg/pools/primary.json" <<'EOF'
{"name": "primary", "origins": [{"name": "p1", "address": "127.0.0.11"},
                                {"name": "p2", "address": "127.0.0.12"}]}
EOF

ctl() {
	"$STEERCTL" --api "$API" --token-file "$TMP/cfg/api.token" "$@"
}

# records: zone text on stdin -> one record per line, whitespace collapsed, sorted, each
# record once (an AXFR has the SOA twice), no comments
records() {
	grep -v '^;' | grep -v '^$' | tr -s ' \t' ' ' | sort -u
}

# kaxfr ARGS...: kdig AXFR of the zone (TCP)
kaxfr() {
	kdig @127.0.0.1 -p "$PORT" +tcp +time=3 +retry=0 "$@" AXFR "$ZONE" 2>&1 || true
}

start_steerd

# --- steerctl zone: the zone file, SOA and the balancer's answers
rc=0
zone=$(ctl zone) || rc=$?
expect_eq "steerctl zone exits 0" "$rc" "0"
expect_match "steerctl zone: the SOA, serial 1" "$zone" \
	"$ZONE\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns1\.$ZONE\. hostmaster\.example\.test\. 1 "
expect_match "steerctl zone: the balancer's origins" "$zone" "api\.$ZONE\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.12"
api_text=$(curl -s --noproxy '*' "$API/v1/zone")
expect_eq "GET /v1/zone is the same text" "$api_text" "$zone"

# --- kdig with the key: TSIG verified on every message, the same records
out=$(kaxfr -y "hmac-sha256:sec1:$SECRET")
expect_no_match "kdig -y sec1: no TSIG or transfer error" "$out" ';; ERROR|;; WARNING|failed|NOTAUTH|REFUSED|BAD'
expect_match "kdig -y sec1: several messages, all verified" "$out" \
	'Received [0-9]+ B \(([2-9]|[1-9][0-9]+) messages, 1512 records\)'
expect_eq "kdig AXFR records equal steerctl zone" "$(records <<<"$out" | grep -v TSIG)" \
	"$(records <<<"$zone")"

# --- wrong secret, unknown key, no key
wrong=$(openssl rand -base64 32)
out=$(kaxfr -y "hmac-sha256:sec1:$wrong")
expect_match "wrong secret: BADSIG" "$out" "error 'BADSIG'"
expect_no_match "wrong secret: no records" "$out" "IN[[:space:]]+SOA"
out=$(kaxfr -y "hmac-sha256:nokey:$SECRET")
expect_match "unknown key: BADKEY" "$out" "error 'BADKEY'"
out=$(kaxfr)
expect_match "no key where one is needed: refused" "$out" 'REFUSED|NOTAUTH|failed'
expect_no_match "no key: no records" "$out" "IN[[:space:]]+SOA"

# --- signed queries on the ordinary answer path (a secondary's SOA check): the answer is
# signed with the same key (kdig verifies it), over UDP and TCP; a bad MAC gets BADSIG
for proto in +notcp +tcp; do
	out=$(kdig @127.0.0.1 -p "$PORT" $proto +time=3 +retry=0 -y "hmac-sha256:sec1:$SECRET" \
		SOA "$ZONE" 2>&1 || true)
	expect_no_match "signed SOA query ($proto): the answer verifies" "$out" '^;; (WARNING|ERROR)'
	expect_match "signed SOA query ($proto): NOERROR" "$out" 'status: NOERROR'
	expect_match "signed SOA query ($proto): the SOA" "$out" "^$ZONE\.[[:space:]].*SOA"
	expect_match "signed SOA query ($proto): a TSIG by sec1" "$out" '^sec1\.[[:space:]].*TSIG[[:space:]]+hmac-sha256'
done
out=$(kdig @127.0.0.1 -p "$PORT" +time=3 +retry=0 -y "hmac-sha256:sec1:$wrong" SOA "$ZONE" 2>&1 || true)
expect_match "signed SOA query, wrong secret: NOTAUTH with TSIG error BADSIG" "$out" 'status: BADSIG'
expect_no_match "signed SOA query, wrong secret: no SOA" "$out" "^$ZONE\.[[:space:]].*SOA"
# a signed query whose answer would not fit 512 bytes with its TSIG: TC, signed
out=$(kdig @127.0.0.1 -p "$PORT" +notcp +noedns +ignore +time=3 +retry=0 \
	-y "hmac-sha256:sec1:$SECRET" TXT "big.$ZONE" 2>&1 || true)
expect_match "signed UDP answer too big for 512 bytes: TC" "$out" 'Flags: qr aa tc'
expect_no_match "signed UDP answer too big: still verifies" "$out" '^;; (WARNING|ERROR)'

# --- without `transfer`: exit 1, the reason on stderr
stop_steerd
write_config ''
start_steerd
rc=0
out=$(ctl zone 2>&1) || rc=$?
expect_eq "steerctl zone without transfer exits 1" "$rc" "1"
expect_match "steerctl zone without transfer says why" "$out" 'transfers not configured'

finish
