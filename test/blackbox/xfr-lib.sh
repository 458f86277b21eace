# shellcheck shell=bash
# Helpers for the zone-transfer black-box tests: real secondaries (Knot DNS and NSD, each
# as the current user with its own config in $TMP, on its own loopback address) of the
# primary on $XFR_PRIMARY:$PORT (steerd, or knotd in steerd's place). Their configurations
# are test/data/xfr/knot-secondary.conf and nsd-secondary.conf, rendered here. Source it
# after lib.sh and health-lib.sh.
#
#   xfr_key sec1                               # $TMP/cfg/sec1.key, base64 (mode 600)
#   start_secondary knot 127.0.0.61 5301 sec1  # Knot, TSIG key sec1 ("" = no TSIG)
#   start_secondary nsd 127.0.0.62 5302 ""     # NSD, unsigned transfers
#   sec_serial knot                            # its SOA serial ("-" while it has none)
#   sec_ans knot api                           # "NOERROR 5 127.0.0.21 127.0.0.22"
#   watch_secondaries api 127.0.0.21,127.0.0.22 knot nsd   # "knot EPOCH_MS" lines
#   zone_norm < zone text                      # canonical sorted records, SOA once
#   start_xfr_primary                          # steerd on test/data/xfr/steerd + origins

XFR_DATA=$STEER_SRC/test/data/xfr
XFR_PRIMARY=${XFR_PRIMARY:-127.0.0.1}
KNOTD=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
NSD=${NSD:-$(command -v nsd || echo /usr/sbin/nsd)}
declare -A SEC_PID=() SEC_ADDR=() SEC_PORT=()

# Every secondary is stopped before health-lib's cleanup (origins, steerd, $TMP); an
# exit on an error (not through finish) keeps $TMP as a failure does.
xfr_cleanup() {
	local rc=$? name
	set +e
	for name in "${!SEC_PID[@]}"; do
		stop_secondary "$name"
	done
	[ "$rc" -eq 0 ] || FAILS=$((FAILS + 1))
	health_cleanup
}
trap xfr_cleanup EXIT

# xfr_key NAME: a fresh 256-bit TSIG secret in $TMP/cfg/NAME.key (what steerd's
# transfer.keys[].secret_file names), mode 600.
xfr_key() {
	mkdir -p "$TMP/cfg"
	(umask 077 && openssl rand -base64 32 >"$TMP/cfg/$1.key")
}

# render_conf TEMPLATE OUT DIR ADDR PORT KEY: fill in a secondary's template; KEY empty:
# the "#tsig" lines are left out (and NSD's key name becomes NOKEY).
render_conf() {
	local tmpl=$1 out=$2 dir=$3 addr=$4 port=$5 key=$6 secret=''
	local sed_args=(-e "s#@DIR@#$dir#g" -e "s#@ADDR@#$addr#g" -e "s#@PORT@#$port#g"
		-e "s#@PRIMARY@#$XFR_PRIMARY#g" -e "s#@PPORT@#$PORT#g")
	if [ -n "$key" ]; then
		secret=$(cat "$TMP/cfg/$key.key")
		sed_args+=(-e "s#@SECRET@#$secret#g" -e 's/ *#tsig$//' -e "s/sec1/$key/g")
	else
		sed_args+=(-e '/#tsig$/d' -e 's/ sec1$/ NOKEY/')
	fi
	sed "${sed_args[@]}" "$tmpl" >"$out"
}

# start_secondary NAME ADDR PORT KEY [KIND]: start a secondary called NAME (KIND knot or
# nsd, default: NAME) on ADDR:PORT, transferring from $XFR_PRIMARY:$PORT with TSIG key KEY
# ("" for none); its files are in $TMP/NAME. Waits (at most 10 s) until it answers.
start_secondary() {
	local name=$1 addr=$2 port=$3 key=$4 kind=${5:-$1} dir=$TMP/$1
	mkdir -p "$dir/db"
	SEC_ADDR[$name]=$addr SEC_PORT[$name]=$port
	case $kind in
	knot)
		render_conf "$XFR_DATA/knot-secondary.conf" "$dir/knot.conf" "$dir" "$addr" "$port" "$key"
		"$KNOTD" -c "$dir/knot.conf" >"$dir/knotd.out" 2>&1 &
		;;
	nsd)
		render_conf "$XFR_DATA/nsd-secondary.conf" "$dir/nsd.conf" "$dir" "$addr" "$port" "$key"
		"$NSD" -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
		;;
	*)
		echo "unknown secondary kind $kind" >&2
		exit 1
		;;
	esac
	SEC_PID[$name]=$!
	for _ in $(seq 1 100); do
		if dig @"$addr" -p "$port" +norec +time=1 +tries=1 SOA "$ZONE" 2>/dev/null |
			grep -q 'status: '; then
			return 0
		fi
		if ! kill -0 "${SEC_PID[$name]}" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	cat "$dir"/*.out "$dir"/*.log >&2 2>/dev/null || true
	echo "secondary $name ($kind) did not start on $addr:$port" >&2
	exit 1
}

# stop_secondary NAME: SIGTERM, at most 5 s, then SIGKILL; reaped.
stop_secondary() {
	local pid=${SEC_PID[$1]:-}
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	if [ -n "$pid" ]; then
		wait "$pid" 2>/dev/null || true
	fi
	SEC_PID[$1]=
}

# sec_q NAME DIG-ARGS...: dig against secondary NAME.
sec_q() {
	local name=$1
	shift
	dig @"${SEC_ADDR[$name]}" -p "${SEC_PORT[$name]}" +norec +time=1 +tries=1 "$@"
}

# sec_serial NAME: the SOA serial NAME serves, "-" when it serves none (yet).
sec_serial() {
	local s
	s=$(sec_q "$1" +short SOA "$ZONE" 2>/dev/null | awk 'NF == 7 { print $3 }')
	echo "${s:--}"
}

# sec_ans NAME HOST: like ans (health-lib), against secondary NAME.
sec_ans() {
	local out
	out=$(sec_q "$1" +noall +comments +answer "$2.$ZONE" A 2>&1) || true
	answer_line <<<"$out"
}

# watch_secondaries [--timeout S] HOST WANT NAME...: poll every 20 ms until each
# secondary NAME answers HOST.$ZONE A with exactly the comma-separated address set WANT;
# prints "NAME EPOCH_MS" (first match) or "NAME timeout [last answer]" per secondary.
watch_secondaries() {
	local opts=() host want name targets=()
	if [ "$1" = --timeout ]; then
		opts=(--timeout "$2")
		shift 2
	fi
	host=$1 want=$2
	shift 2
	for name in "$@"; do
		targets+=("$name=${SEC_ADDR[$name]}:${SEC_PORT[$name]}")
	done
	"$PYTHON" "$XFR_DATA/xfrwatch.py" "${opts[@]}" "$host.$ZONE" "$want" "${targets[@]}" || true
}

# log_ms REGEX: the time (epoch ms) of the last steerd log line matching REGEX, or "".
log_ms() {
	local line
	line=$(grep -E -- "$1" "$TMP/steerd.log" 2>/dev/null | tail -n 1 | cut -d' ' -f1)
	[ -n "$line" ] && echo $(($(date -d "$line" +%s%N) / 1000000))
}

# zone_norm: zone text (a zone file, or dig/kdig AXFR output) on stdin -> every record in
# canonical form (ldns-read-zone -c), sorted, duplicates (the closing SOA) dropped.
zone_norm() {
	local f
	f=$(mktemp "$TMP/zone.XXXXXX")
	grep -v '^;' >"$f" || true
	ldns-read-zone -c "$f" 2>/dev/null | sort -u
	rm -f "$f"
}

# serial_gt A B: serial A is above B in RFC 1982 arithmetic (32 bits).
serial_gt() {
	local d=$((($1 - $2) & 0xffffffff))
	[ "$d" -ge 1 ] && [ "$d" -lt 2147483648 ]
}

# expect_le NAME ACTUAL MAX: integer ACTUAL <= MAX.
expect_le() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -le "$3" ]; then
		ok "$1 ($2 <= $3)"
	else
		fail "$1: expected <= $3, got [$2]"
	fi
}

# start_xfr_primary [STEERD ARGS]: steerd on test/data/xfr/steerd (hidden primary of
# secondaries on 127.0.0.61-64, ports SPORT[1..4] written into transfer.notify; TSIG key
# sec1) with its four origins p1, p2 (pool primary) and b1, b2 (pool backup). Sets API
# (the HTTP API's URL) and ctl (steerctl on it).
declare -A SPORT=()
API=
start_xfr_primary() {
	local i o ports=''
	make_config "$STEER_SRC/test/data/xfr/steerd"
	OPORT=$(origin_port 127.0.0.11 127.0.0.12 127.0.0.21 127.0.0.22)
	mon_ports "$OPORT"
	for i in 1 2 3 4; do
		SPORT[$i]=$("$PYTHON" "$STEER_SRC/test/free_port.py" --udp "127.0.0.6$i")
		ports+="'127.0.0.6$i': ${SPORT[$i]}, "
	done
	cfg_edit "
ports = {$ports}
def moved(t):
    to = t['to'] if isinstance(t, dict) else t
    new = to.split(':')[0] + ':' + str(ports[to.split(':')[0]])
    return dict(t, to=new) if isinstance(t, dict) else new
c['transfer']['notify'] = [moved(t) for t in c['transfer']['notify']]
"
	xfr_key sec1
	API=http://$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["api"]["listen"][0])' "$CFG")
	for o in p1:127.0.0.11 p2:127.0.0.12 b1:127.0.0.21 b2:127.0.0.22; do
		start_origin "${o%%:*}" "${o#*:}"
	done
	start_steerd "$@"
}

# ctl ARGS...: steerctl against steerd's API.
ctl() {
	"$STEERCTL" --api "$API" "$@"
}

# soa_serial: the SOA serial steerd answers.
soa_serial() {
	q +short SOA "$ZONE" | awk 'NF == 7 { print $3 }'
}
