# shellcheck shell=bash
# Helpers for the delegation chain (130-delegation.sh, scripts/bench-failover.sh): a root
# zone and the parent zone example.test served by NSD, two steerd instances for
# lb.example.test (ns1, ns2) on the addresses the parent's glue names, the test origins of
# both pools, and unbound resolving from the root. Everything runs on loopback, in $TMP;
# the name servers listen on port 53 (a referral's glue carries no port), so this needs
# root. Source it after lib.sh and health-lib.sh.
#
#   root NSD   127.0.0.51:53   zone .            (test/data/delegation/root.zone)
#   parent NSD 127.0.0.52:53   zone example.test (test/data/delegation/example.test.zone)
#   ns1, ns2   127.0.0.53:53, 127.0.0.54:53      steerd, zone lb.example.test
#   unbound    127.0.0.55:$RES_PORT              root hints: 127.0.0.51
#
# If port 53 is taken on one of these addresses, the chain moves to 127.53.N.51-55.
#
#   chain_setup [CFG_EDIT]     # addresses, config, origins p1 p2 (primary) b1 b2 (backup)
#   chain_start                # both NSDs, ns1, ns2 and unbound, each waited for
#   res_ans api                # "NOERROR 2 127.0.0.11 127.0.0.12" through unbound
#   ns_ans ns2 api             # the same from one steerd (no recursion)
#   kill_ns ns1; start_ns ns1  # kill -9 and start again on its own state file

CHAIN_DATA=$STEER_SRC/test/data/delegation
CHAIN_NOWAIT= # set: start_nsd and start_ns do not wait for their server
CHAIN_NET=
ROOT_ADDR=
PARENT_ADDR=
RES_ADDR=
RES_PORT=
UNBOUND_PID=
declare -A NS_ADDR=() NS_PID=() NS_API=() NS_RC=() NSD_PID=()

# The chain's daemons are stopped before health-lib's cleanup (origins, then $TMP).
chain_cleanup() {
	local rc=$? name

	[ "$rc" -eq 0 ] || FAILS=$((FAILS + 1)) # keep $TMP: cleanup sees this function's $?
	for name in "${!NS_PID[@]}"; do
		stop_ns "$name"
	done
	stop_pid "$UNBOUND_PID"
	UNBOUND_PID=
	for name in "${!NSD_PID[@]}"; do
		stop_pid "${NSD_PID[$name]}"
		NSD_PID[$name]=
	done
	health_cleanup
}
trap chain_cleanup EXIT

# stop_pid PID: SIGTERM, at most 5 s for it to exit, then SIGKILL; reaped. Prints nothing.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# port53_free ADDR...: every ADDR has port 53 free for UDP and TCP.
port53_free() {
	"$PYTHON" - "$@" <<'PY'
import socket, sys
for addr in sys.argv[1:]:
    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, typ)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, 53))
        except OSError:
            sys.exit(1)
        finally:
            s.close()
PY
}

# chain_net: set CHAIN_NET to 127.0.0 if port 53 is free on .51-.54, else to a free
# 127.53.N (at most 20 tries), and the addresses.
chain_net() {
	local net=127.0.0
	for _ in $(seq 1 20); do
		if port53_free "$net.51" "$net.52" "$net.53" "$net.54"; then
			CHAIN_NET=$net
			ROOT_ADDR=$net.51 PARENT_ADDR=$net.52 RES_ADDR=$net.55
			NS_ADDR[ns1]=$net.53 NS_ADDR[ns2]=$net.54
			return 0
		fi
		net=127.53.$((RANDOM % 250 + 1))
	done
	echo "port 53 is taken on every candidate address" >&2
	exit 1
}

# chain_setup [CFG_EDIT]: the zone files and the steerd config in $TMP/cfg (CFG_EDIT is a
# cfg_edit statement, applied to both instances), one config per instance in $TMP/ns1 and
# $TMP/ns2 (own listen address, identity, state file, and API on its own address), and the
# four origins. One free port serves the origins, both APIs and unbound.
# shellcheck disable=SC2120 # CFG_EDIT is optional
chain_setup() {
	chain_net
	mkdir -p "$TMP/cfg" "$TMP/zones" "$TMP/ns1" "$TMP/ns2"
	cp -r "$CHAIN_DATA/pools" "$CHAIN_DATA/monitors" "$CHAIN_DATA/steerd.json" "$TMP/cfg/"
	cp "$CHAIN_DATA"/*.zone "$TMP/zones/"
	sed -i -E "s/127\.0\.0\.(5[0-9])/$CHAIN_NET.\1/g" "$TMP"/zones/*.zone "$TMP/cfg/steerd.json"
	# shellcheck disable=SC2034 # lib.sh's cfg_edit edits $CFG
	CFG=$TMP/cfg/steerd.json
	OPORT=$("$PYTHON" "$STEER_SRC/test/free_port.py" --udp 127.0.0.11 127.0.0.12 127.0.0.21 \
		127.0.0.22 "${NS_ADDR[ns1]}" "${NS_ADDR[ns2]}" "$RES_ADDR")
	RES_PORT=$OPORT
	NS_API[ns1]=${NS_ADDR[ns1]}:$OPORT NS_API[ns2]=${NS_ADDR[ns2]}:$OPORT
	"$PYTHON" - "$TMP" "$OPORT" "${NS_ADDR[ns1]}" "${NS_ADDR[ns2]}" "${1-}" <<'PY'
import glob, json, sys
tmp, port, addrs, stmt = sys.argv[1], int(sys.argv[2]), sys.argv[3:5], sys.argv[5]
for path in glob.glob(tmp + "/cfg/monitors/*.json"):
    with open(path) as f:
        m = json.load(f)
    m["port"] = port
    with open(path, "w") as f:
        json.dump(m, f, indent=1)
with open(tmp + "/cfg/steerd.json") as f:
    c = json.load(f)
c["pools_dir"], c["monitors_dir"] = tmp + "/cfg/pools", tmp + "/cfg/monitors"
exec(stmt)
with open(tmp + "/cfg/steerd.json", "w") as f:
    json.dump(c, f, indent=1)
for name, addr in zip(("ns1", "ns2"), addrs):
    c.update({"listen": [addr + ":53"], "identity": name,
              "state": {"path": "%s/%s/steerd.db" % (tmp, name)},
              "api": {"listen": ["%s:%d" % (addr, port)], "token_file": "api.token"}})
    with open("%s/%s/steerd.json" % (tmp, name), "w") as f:
        json.dump(c, f, indent=1)
PY
	start_origins p1 127.0.0.11 p2 127.0.0.12 b1 127.0.0.21 b2 127.0.0.22
}

# start_origins NAME ADDR...: health-lib's start_origin for each pair (port $OPORT), all
# started at once, then each waited for (at most 10 s in all).
# shellcheck disable=SC2004,SC2034,SC2153 # health-lib.sh's associative arrays, ORIGIN_PY
start_origins() {
	local name
	while [ $# -ge 2 ]; do
		name=$1
		ORIGIN_ADDR[$name]=$2 ORIGIN_PORT[$name]=$OPORT ORIGIN_ARGS[$name]=
		echo '{}' >"$TMP/$name.ctl"
		"$PYTHON" "$ORIGIN_PY" --listen "$2:$OPORT" --control "$TMP/$name.ctl" \
			--log "$TMP/$name.log" >"$TMP/$name.out" 2>&1 &
		ORIGIN_PID[$name]=$!
		shift 2
	done
	for name in "${!ORIGIN_PID[@]}"; do
		for _ in $(seq 1 100); do
			grep -q '^listening ' "$TMP/$name.out" 2>/dev/null && continue 2
			kill -0 "${ORIGIN_PID[$name]}" 2>/dev/null || break
			sleep 0.1
		done
		cat "$TMP/$name.out" >&2
		echo "origin $name did not start on ${ORIGIN_ADDR[$name]}:$OPORT" >&2
		exit 1
	done
}

# wait_soa ADDR PORT ZONE PID WHAT LOG: bounded (10 s) wait for ADDR:PORT to answer the
# SOA of ZONE (recursively if PORT is not 53); exits the test if PID dies or time is up.
wait_soa() {
	local addr=$1 port=$2 zone=$3 pid=$4 what=$5 log=$6 rec=+norec
	[ "$port" = 53 ] || rec=+rec
	for _ in $(seq 1 100); do
		if dig @"$addr" -p "$port" $rec +time=1 +tries=1 +short SOA "$zone" 2>/dev/null |
			grep -qv '^;'; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 30 "$log" >&2 || true
	echo "$what did not answer the SOA of $zone on $addr:$port within 10 s" >&2
	exit 1
}

# start_nsd NAME ADDR ZONE: NSD for ZONE (file $TMP/zones/ZONE.zone, "root.zone" for ".")
# on ADDR:53, with its own config, pid file and log in $TMP/NAME: no database file, no
# remote control, no privilege drop or chroot.
start_nsd() {
	local name=$1 addr=$2 zone=$3 dir=$TMP/$1 file=$3.zone
	[ "$zone" != . ] || file=root.zone
	mkdir -p "$dir"
	cat >"$dir/nsd.conf" <<EOF
server:
	ip-address: $addr
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$TMP/zones"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "$zone"
	zonefile: "$file"
EOF
	nsd -d -c "$dir/nsd.conf" >>"$dir/nsd.out" 2>&1 &
	NSD_PID[$name]=$!
	[ -n "${CHAIN_NOWAIT-}" ] ||
		wait_soa "$addr" 53 "$zone" "${NSD_PID[$name]}" "nsd $name" "$dir/nsd.log"
}

# start_unbound: unbound on $RES_ADDR:$RES_PORT, resolving from the root NSD (its root
# hints), iterator only (no DNSSEC), no remote control, no privilege drop or chroot.
start_unbound() {
	local dir=$TMP/unbound
	mkdir -p "$dir"
	printf '.\t3600000\tIN\tNS\ta.root.test.\na.root.test.\t3600000\tIN\tA\t%s\n' \
		"$ROOT_ADDR" >"$dir/root.hints"
	cat >"$dir/unbound.conf" <<EOF
server:
	interface: $RES_ADDR
	port: $RES_PORT
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	logfile: "$dir/unbound.log"
	use-syslog: no
	verbosity: ${UNBOUND_VERBOSITY:-1} # 4 logs every query it sends, and why
	num-threads: 1
	root-hints: "$dir/root.hints"
	do-not-query-localhost: no
	module-config: "iterator"
	qname-minimisation: yes
	access-control: 127.0.0.0/8 allow
	# test. is one of unbound's built-in local zones (RFC 6761): resolve it instead
	local-zone: "test." nodefault
remote-control:
	control-enable: no
EOF
	unbound -d -c "$dir/unbound.conf" >>"$dir/unbound.out" 2>&1 &
	UNBOUND_PID=$!
	wait_soa "$RES_ADDR" "$RES_PORT" example.test "$UNBOUND_PID" unbound "$dir/unbound.log"
}

# start_ns NAME [steerd args]: steerd NAME (ns1, ns2) on its config; log $TMP/NAME/steerd.log.
start_ns() {
	local name=$1
	shift
	"$STEERD" -c "$TMP/$name/steerd.json" "$@" >>"$TMP/$name/steerd.log" 2>&1 &
	NS_PID[$name]=$!
	[ -n "${CHAIN_NOWAIT-}" ] || wait_ns "$name"
}

# wait_ns NAME: bounded wait (10 s) for steerd NAME to answer the zone's SOA.
wait_ns() {
	# shellcheck disable=SC2153 # ZONE is lib.sh's
	wait_soa "${NS_ADDR[$1]}" 53 "$ZONE" "${NS_PID[$1]}" "steerd $1" "$TMP/$1/steerd.log"
}

# kill_ns NAME: kill -9, reaped.
kill_ns() {
	local pid=${NS_PID[$1]:-}
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	NS_PID[$1]=
}

# stop_ns NAME: SIGTERM (at most 5 s, then SIGKILL); NS_RC[NAME] is the exit status
# ("killed" if it had to be killed, empty if it was not running).
stop_ns() {
	local name=$1 pid=${NS_PID[$1]:-} rc=
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			rc=killed
		fi
		wait "$pid" 2>/dev/null || rc=${rc:-$?}
		rc=${rc:-0}
	fi
	NS_PID[$name]=
	NS_RC[$name]=$rc
}

# chain_start: root and parent NSD, ns1 and ns2 (all started at once, then each waited
# for), then unbound, once every server it will ask answers.
chain_start() {
	CHAIN_NOWAIT=1
	start_nsd root "$ROOT_ADDR" .
	start_nsd parent "$PARENT_ADDR" example.test
	start_ns ns1
	start_ns ns2
	CHAIN_NOWAIT=
	wait_soa "$ROOT_ADDR" 53 . "${NSD_PID[root]}" "nsd root" "$TMP/root/nsd.log"
	wait_soa "$PARENT_ADDR" 53 example.test "${NSD_PID[parent]}" "nsd parent" \
		"$TMP/parent/nsd.log"
	wait_ns ns1
	wait_ns ns2
	start_unbound
}

# answer_of DIG_ARGS...: one dig answer as "STATUS TTL ADDR..." with the addresses sorted
# ("NO-ANSWER -" when nothing came back, "NOERROR -" when the answer section is empty).
answer_of() {
	local out
	out=$(dig +time=2 +tries="${ANSWER_TRIES:-1}" +noall +comments +answer "$@" 2>&1) || true
	answer_line A AAAA <<<"$out" # through a resolver: a CNAME chain's addresses only
}

# res_ans NAME [TYPE]: NAME.$ZONE through unbound, as a client of the resolver sees it.
# The client retries, as stubs do: unbound drops the reply to a query it took longer than
# discard-timeout (1.9 s) to resolve, and with one name server just killed its
# retransmissions to it (it ignores the ICMP errors) took up to 2.4 s here; the retry is
# answered from its cache.
res_ans() {
	ANSWER_TRIES=3 answer_of @"$RES_ADDR" -p "$RES_PORT" +rec "$1.$ZONE" "${2:-A}"
}

# ns_ans INSTANCE NAME [TYPE]: NAME.$ZONE from one steerd, without recursion.
ns_ans() {
	answer_of @"${NS_ADDR[$1]}" -p 53 +norec "$2.$ZONE" "${3:-A}"
}

# ns_ctl INSTANCE ARGS...: steerctl against that instance's API.
ns_ctl() {
	"$STEERCTL" --api "http://${NS_API[$1]}" --token-file "$TMP/$1/api.token" "${@:2}"
}

# ns_sql INSTANCE QUERY: rows of that instance's store.
ns_sql() {
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$TMP/$1/steerd.db" "$2"
}

# ms_since T0_MS: milliseconds since T0_MS (from now_ms).
ms_since() {
	echo $(($(now_ms) - $1))
}

# finish (replaces lib.sh's, and is what a failed wait_for calls): stop both instances,
# checking for a clean exit (status 0 on SIGTERM) and no sanitizer report in their logs;
# on any failure show the logs and exit 1.
finish() {
	local name
	for name in ns1 ns2; do
		if [ -n "${NS_PID[$name]:-}" ] && ! kill -0 "${NS_PID[$name]}" 2>/dev/null; then
			fail "steerd $name (pid ${NS_PID[$name]}) is no longer running"
		fi
		stop_ns "$name"
		if [ -n "${NS_RC[$name]}" ] && [ "${NS_RC[$name]}" != 0 ]; then
			fail "steerd $name exited with status ${NS_RC[$name]} on SIGTERM"
		fi
		if grep -Eq 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer' \
			"$TMP/$name/steerd.log" 2>/dev/null; then
			fail "sanitizer report in the log of steerd $name"
		fi
	done
	if [ "$FAILS" -ne 0 ]; then
		for name in ns1/steerd.log ns2/steerd.log unbound/unbound.log; do
			echo "# $FAILS check(s) failed; $name:" >&2
			tail -n 30 "$TMP/$name" >&2 || true
		done
		exit 1
	fi
	echo "# all checks passed"
}
