# Helpers for the health and failover black-box tests (95-99): test origins
# (test/origin/origin.py) on loopback addresses, monitor ports, bounded polling of DNS
# answers, the steerd log and the SQLite store. Source it after lib.sh.
#
#   OPORT=$(origin_port 127.0.0.11 127.0.0.21)   # one port free on every address
#   mon_ports "$OPORT"                           # every monitors/*.json of $TMP/cfg
#   start_origin lab-a 127.0.0.11                # control file $TMP/lab-a.ctl
#   set_origin lab-a '{"status": 503}'
#   wait_for "api fails over" "ans api" '^NOERROR 5 127\.0\.0\.21$'
#   expect_eq "stored" "$(sql 'select count(*) from probes')" 12

ORIGIN_PY=$STEER_SRC/test/origin/origin.py
OPORT=
declare -A ORIGIN_PID=() ORIGIN_ADDR=() ORIGIN_PORT=() ORIGIN_ARGS=()

# Every origin is killed before lib.sh's cleanup (which stops steerd and removes $TMP).
health_cleanup() {
	local name
	for name in "${!ORIGIN_PID[@]}"; do
		stop_origin "$name"
	done
	cleanup
}
trap health_cleanup EXIT

# origin_port ADDR...: a TCP port free on every ADDR (origins of one monitor share its port).
origin_port() {
	"$PYTHON" "$STEER_SRC/test/free_port.py" "$@"
}

# mon_ports PORT [MONITOR...]: set "port" of the named monitors of $TMP/cfg (default: all).
mon_ports() {
	local port=$1 f
	shift
	if [ $# -eq 0 ]; then
		for f in "$TMP"/cfg/monitors/*.json; do
			json_edit "$f" "c['port'] = $port"
		done
	else
		for f in "$@"; do
			json_edit "$TMP/cfg/monitors/$f.json" "c['port'] = $port"
		done
	fi
}

# start_origin NAME ADDR [PORT [origin.py options]]: start a test origin on ADDR:PORT
# (PORT defaults to $OPORT) with control file $TMP/NAME.ctl and request log $TMP/NAME.log;
# wait (at most 10 s) for its "listening" line. The arguments are kept for restart_origin.
start_origin() {
	local name=$1 addr=$2 port=${3:-$OPORT}
	shift 2
	[ $# -gt 0 ] && shift
	ORIGIN_ADDR[$name]=$addr
	ORIGIN_PORT[$name]=$port
	ORIGIN_ARGS[$name]="$*"
	[ -e "$TMP/$name.ctl" ] || echo '{}' >"$TMP/$name.ctl"
	"$PYTHON" "$ORIGIN_PY" --listen "$addr:$port" --control "$TMP/$name.ctl" \
		--log "$TMP/$name.log" "$@" >"$TMP/$name.out" 2>&1 &
	ORIGIN_PID[$name]=$!
	for _ in $(seq 1 100); do
		if grep -q '^listening ' "$TMP/$name.out" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "${ORIGIN_PID[$name]}" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	cat "$TMP/$name.out" >&2
	echo "origin $name did not start on $addr:$port" >&2
	exit 1
}

# restart_origin NAME: start it again with the arguments of its last start_origin.
restart_origin() {
	local name=$1
	# shellcheck disable=SC2086 # the kept options are words
	start_origin "$name" "${ORIGIN_ADDR[$name]}" "${ORIGIN_PORT[$name]}" ${ORIGIN_ARGS[$name]}
}

# stop_origin NAME: SIGTERM (the origin exits at once) and reap it.
stop_origin() {
	local pid=${ORIGIN_PID[$1]:-}
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	ORIGIN_PID[$1]=
}

# set_origin NAME JSON: replace the origin's control file atomically (read per request).
set_origin() {
	printf '%s\n' "$2" >"$TMP/$1.ctl.new"
	mv -f "$TMP/$1.ctl.new" "$TMP/$1.ctl"
}

# answer_line [TYPE...] < DIG_OUTPUT: a dig answer (+noall +comments +answer) as
# "STATUS TTL ADDR..." with the record data sorted; with TYPEs, only records of those
# types count ("NO-ANSWER -" when nothing came back, "NOERROR -" when none is there).
answer_line() {
	local status="" ttl="" addrs=() line words types=" $* "
	while IFS= read -r line; do
		if [[ $line == *"status: "* && -z $status ]]; then
			status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$line")
			continue
		fi
		[[ -z $line || $line == ";"* ]] && continue
		read -ra words <<<"$line"
		[ $# -eq 0 ] || [[ $types == *" ${words[3]} "* ]] || continue
		ttl=${words[1]}
		addrs+=("${words[4]}")
	done
	if [ ${#addrs[@]} -gt 0 ]; then
		mapfile -t addrs < <(printf '%s\n' "${addrs[@]}" | sort)
	fi
	echo "${status:-NO-ANSWER} ${ttl:--}${addrs[*]:+ ${addrs[*]}}"
}

# ans NAME [TYPE]: one answer of steerd for NAME.$ZONE as "STATUS TTL ADDR..." with the
# addresses sorted, e.g. "NOERROR 30 127.0.0.11 127.0.0.12" ("NOERROR -" when empty).
ans() {
	local out
	out=$(q +noall +comments +answer "$1.$ZONE" "${2:-A}" 2>&1) || true
	answer_line <<<"$out"
}

# wait_for DESC CMD REGEX [SECONDS]: eval CMD every 0.2 s until its output matches the
# extended REGEX (ok DESC). After SECONDS (default 15) without a match: fail DESC with the
# last output and end the test at once (finish shows the steerd log), since every later
# step depends on that state. Never asserts how long it took.
wait_for() {
	local desc=$1 cmd=$2 re=$3 end out
	end=$((SECONDS + ${4:-15}))
	while :; do
		out=$(eval "$cmd" 2>&1) || true
		if grep -Eq -- "$re" <<<"$out"; then
			ok "$desc"
			return 0
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			fail "$desc: [$out] still does not match /$re/ after ${4:-15} s"
			finish
		fi
		sleep 0.2
	done
}

# DB: the store; sql QUERY prints the rows ("|" between columns).
DB=$TMP/steerd.db
sql() {
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$DB" "$1"
}

# log_count REGEX: lines of the steerd log matching the extended REGEX.
log_count() {
	grep -Ec -- "$1" "$TMP/steerd.log" 2>/dev/null || true
}

# expect_log NAME REGEX: the steerd log has (within 5 s) a line matching REGEX; answers
# change before the transition is logged, so a check right after a DNS change waits.
expect_log() {
	local end=$((SECONDS + 5))
	until grep -Eq -- "$2" "$TMP/steerd.log" 2>/dev/null; do
		if [ "$SECONDS" -ge "$end" ]; then
			fail "$1: no log line matches /$2/"
			return 0
		fi
		sleep 0.1
	done
	ok "$1"
}

# expect_ge NAME ACTUAL MIN: integer ACTUAL >= MIN.
expect_ge() {
	if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		ok "$1 ($2 >= $3)"
	else
		fail "$1: expected >= $3, got [$2]"
	fi
}

# now_ms: wall clock in ms (the store's time_ms is wall clock too).
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# bad_probe_rows: the number of incomplete probe rows (each must have ok 0/1, rtt and
# status set, and a reason exactly when it failed).
bad_probe_rows() {
	sql "select count(*) from probes where ok not in (0, 1) or rtt_ms is null or rtt_ms < 0
	     or http_status is null or (ok = 0 and coalesce(reason, '') = '')
	     or (ok = 1 and coalesce(reason, '') <> '')"
}

# bad_transition_rows: transitions of any kind without a to_state or a reason.
bad_transition_rows() {
	sql "select (select count(*) from origin_transitions where coalesce(reason, '') = ''
	             or to_state not in ('up', 'down', 'unknown'))
	          + (select count(*) from pool_transitions where coalesce(reason, '') = ''
	             or to_state not in ('healthy', 'unhealthy'))
	          + (select count(*) from balancer_transitions where coalesce(reason, '') = ''
	             or to_state = '')"
}

# start_failover_pair [STEERD ARGS]: test/data/health/failover with its two origins, p1
# (pool primary, 127.0.0.11) and s1 (pool secondary, 127.0.0.21), and steerd on it.
start_failover_pair() {
	make_config "$STEER_SRC/test/data/health/failover"
	OPORT=$(origin_port 127.0.0.11 127.0.0.21)
	mon_ports "$OPORT"
	start_origin p1 127.0.0.11
	start_origin s1 127.0.0.21
	start_steerd "$@"
}
