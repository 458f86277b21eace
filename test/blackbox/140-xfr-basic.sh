#!/usr/bin/env bash
# Zone transfers from steerd (hidden primary), with dig: AXFR returns the zone with the
# SOA first and last; an origin forced down makes a new version (serial + 1) whose IXFR
# holds exactly the deleted record; the SOA serial of ordinary answers follows; a source
# outside transfer.allow is REFUSED; over UDP, AXFR gets a small NOTIMP and IXFR the SOA
# alone; the serial and journal survive a restart; a serial is served only once stored.
source "$(dirname "$0")/lib.sh"

ZONE=lb.example.test
PORT=$(free_port)
APIPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" 127.0.0.1)
API=http://127.0.0.1:$APIPORT
CFG=$TMP/cfg/steerd.json
mkdir -p "$TMP/cfg/pools"
cat >"$CFG" <<EOF
{"listen": ["127.0.0.1:$PORT"],
 "zone": {"name": "$ZONE",
          "soa": $(soa_json),
          "ns": ["ns1.$ZONE"],
          "records": ["ns1 3600 IN A 127.0.0.61", "www 300 IN CNAME api"]},
 "balancers": [{"name": "api", "ttl": 30, "failover_ttl": 5,
                "default_pools": ["primary", "backup"]}],
 "transfer": {"allow": [{"from": "127.0.0.1/32"}], "journal_versions": 10},
 "api": {"listen": ["127.0.0.1:$APIPORT"], "token_file": "api.token"},
 "state": {"path": "$TMP/steerd.db"}}
EOF
cat >"$TMP/cfg/pools/primary.json" <<'EOF'
{"name": "primary", "origins": [{"name": "p1", "address": "127.0.0.11"},
                                {"name": "p2", "address": "127.0.0.12"}]}
EOF
cat >"$TMP/cfg/pools/backup.json" <<'EOF'
{"name": "backup", "origins": [{"name": "b1", "address": "127.0.0.21"}]}
EOF

ctl() {
	"$STEERCTL" --api "$API" --token-file "$TMP/cfg/api.token" "$@"
}

# xfr ARGS...: the answer records of a transfer, one per line, fields tab-separated
xfr() {
	dig @127.0.0.1 -p "$PORT" +nocookie +noall +answer +time=3 +tries=1 "$ZONE" "$@" |
		tr -s ' \t' '\t'
}

soa_serial() {
	dig @127.0.0.1 -p "$PORT" +norec +short +time=1 +tries=1 SOA "$ZONE" | awk '{print $3}'
}

# wait_serial N: the SOA answers carry serial N (at most 10 s)
wait_serial() {
	local s=
	for _ in $(seq 1 100); do
		s=$(soa_serial)
		[ "$s" = "$1" ] && break
		sleep 0.1
	done
	expect_eq "SOA serial of ordinary answers is $1" "$s" "$1"
}

start_steerd

# --- AXFR: the whole zone, SOA first and last
out=$(xfr AXFR)
expect_match "AXFR: first record is the SOA, serial 1" "$(head -n 1 <<<"$out")" \
	"^$ZONE\.	3600	IN	SOA	ns1\.$ZONE\.	hostmaster\.example\.test\.	1	"
expect_eq "AXFR: last record is the same SOA" "$(tail -n 1 <<<"$out")" "$(head -n 1 <<<"$out")"
expect_eq "AXFR: the records between" "$(sed '1d;$d' <<<"$out" | sort)" "$(sort <<EOF
$ZONE.	3600	IN	NS	ns1.$ZONE.
api.$ZONE.	30	IN	A	127.0.0.11
api.$ZONE.	30	IN	A	127.0.0.12
ns1.$ZONE.	3600	IN	A	127.0.0.61
www.$ZONE.	300	IN	CNAME	api.$ZONE.
EOF
)"
wait_serial 1

# --- an origin goes down: a new version, and IXFR holds exactly that difference
ctl force-down primary/p2 --reason "xfr test" >/dev/null
wait_serial 2
out=$(xfr IXFR=1)
expect_eq "IXFR=1: SOA 2, SOA 1, the deleted A, SOA 2, nothing added, SOA 2" \
	"$(awk -F'\t' '{print ($4 == "SOA") ? "SOA " $7 : $1 " " $4 " " $5}' <<<"$out")" \
	"SOA 2
SOA 1
api.$ZONE. A 127.0.0.12
SOA 2
SOA 2"
out=$(xfr IXFR=2)
expect_eq "IXFR=2 (current): the SOA alone" "$(awk -F'\t' '{print $4 " " $7}' <<<"$out")" "SOA 2"

# the whole primary pool down: the backup with failover_ttl (the TTL is transferred too)
ctl force-down primary --reason "xfr test" >/dev/null
wait_serial 3
out=$(xfr IXFR=2)
expect_eq "IXFR=2: api moves to the backup with TTL 5" \
	"$(awk -F'\t' '{print ($4 == "SOA") ? "SOA " $7 : $1 " " $2 " " $4 " " $5}' <<<"$out")" \
	"SOA 3
SOA 2
api.$ZONE. 30 A 127.0.0.11
SOA 3
api.$ZONE. 5 A 127.0.0.21
SOA 3"

# --- a source outside transfer.allow is REFUSED; a transfer of a name below the apex
# (no zone starts there) is NOTAUTH, as NSD and Knot answer, unless the source is refused
# first; every one a single message without records
py_check "refused sources and names below the apex" <<EOF
import bbdns
for name, src, want in (("$ZONE", "127.0.0.2", "REFUSED"), ("www.$ZONE", None, "NOTAUTH"),
                        ("www.$ZONE", "127.0.0.2", "REFUSED")):
    r = bbdns.parse(bbdns.tcp(bbdns.query(name, "AXFR"), src=src))
    bbdns.expect_eq("TCP AXFR of %s from %s" % (name, src or "127.0.0.1"),
                    (r.rcode_name(), r.counts[1:3]), (want, (0, 0)))
bbdns.check_exit()
EOF

# --- over UDP: AXFR gets a small NOTIMP, IXFR the SOA alone
py_check "transfers over UDP" <<EOF
import bbdns
r = bbdns.parse(bbdns.udp(bbdns.query("$ZONE", "AXFR")))
bbdns.expect_eq("UDP AXFR: NOTIMP, no records", (bbdns.RCODES[r.rcode], len(r.answer)),
                ("NOTIMP", 0))
r = bbdns.parse(bbdns.udp(bbdns.query("$ZONE", "IXFR")))
bbdns.expect_eq("UDP IXFR: NOERROR with one record (the SOA)",
                (bbdns.RCODES[r.rcode], len(r.answer), r.answer[0][1] if r.answer else 0),
                ("NOERROR", 1, 6))
bbdns.check_exit()
EOF

# --- a restart: same serial, the journal still answers IXFR=1
restart_steerd
wait_serial 3
out=$(xfr IXFR=1)
expect_eq "after a restart: IXFR=1 has both diffs" \
	"$(awk -F'\t' '$4 == "SOA" {print $7}' <<<"$out" | tr '\n' ' ')" "3 1 2 2 3 3 "

# --- a serial is served only once its version is in SQLite: with the database locked by
# another writer for 0.4 s, the next serial (4) is not served before the lock goes, and a
# kill -9 as soon as it is served finds it stored (else a restart would make serial 4
# again, with other contents than a secondary already holds)
py_check "serial stored before served" <<EOF
import os, signal, sqlite3, struct, subprocess, time
import bbdns

def serial():
    r = bbdns.parse(bbdns.udp(bbdns.query("$ZONE", "SOA")))
    return struct.unpack("!I", r.answer[0][4][-20:-16])[0]

db = sqlite3.connect("$TMP/steerd.db", timeout=5, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
t0 = time.monotonic()
subprocess.run(["$STEERCTL", "--api", "$API", "--token-file", "$TMP/cfg/api.token",
                "auto", "primary"], check=True, stdout=subprocess.DEVNULL)
held, seen = True, None
while time.monotonic() - t0 < 10:
    if held and time.monotonic() - t0 >= 0.4:
        db.execute("COMMIT")
        held = False
    if serial() == 4:
        seen = held
        os.kill($STEERD_PID, signal.SIGKILL)
        break
    time.sleep(0.002)
bbdns.expect_eq("serial 4 served only after the database lock went", seen, False)
stored = db.execute("SELECT serial FROM xfr_state").fetchone()
bbdns.expect_eq("after kill -9 at once: serial 4 is in xfr_state", stored, (4,))
bbdns.check_exit()
EOF

wait "$STEERD_PID" 2>/dev/null || true # killed above
start_steerd
wait_serial 4
out=$(xfr IXFR=3)
expect_eq "after kill -9 and a start: IXFR=3 is the stored diff" \
	"$(awk -F'\t' '{print ($4 == "SOA") ? "SOA " $7 : $1 " " $2 " " $4 " " $5}' <<<"$out")" \
	"SOA 4
SOA 3
api.$ZONE. 5 A 127.0.0.21
SOA 4
api.$ZONE. 30 A 127.0.0.11
SOA 4"
finish
