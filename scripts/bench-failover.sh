#!/usr/bin/env bash
# How long clients are sent to a dead site, measured through the whole delegation chain of
# test/blackbox/130-delegation.sh (chain-lib.sh): root and parent zones on NSD, two steerd
# instances for lb.example.test, unbound resolving from the root, all on loopback. Each
# round kills both origins of the primary pool (connections refused from then on) while a
# client queries api.lb.example.test through unbound every POLL seconds, and measures from
# the kill to
#   (a) each steerd instance answering the backup pool (the time of its balancer
#       transition, from its SQLite store: the answer changes at that moment);
#   (b) the client of unbound getting the backup pool (first such answer of its loop);
#       "client - later ns" is (b) minus the later of the two (a): unbound may ask either
#       instance, so only from then on is every answer it fetches the backup.
# Then the origins come back and the round waits until the client is on the primary again.
# Expected: (a) within interval x consecutive_down (+ timeout for an origin that hangs
# instead of refusing); (b) = (a) + up to TTL (the age of unbound's cached answer; unbound
# counts whole seconds, so up to about 1 s more), + the client's own polling.
#
# Environment (defaults in brackets):
#   TTL [10] balancer ttl (failover_ttl: its default, min(TTL, 10))
#   INTERVAL [2] monitor interval, s   DOWN [2] consecutive_down   UP [2] consecutive_up
#   TIMEOUT [1] probe timeout, s       ROUNDS [3]                  POLL [0.1] client pause, s
#   STEERD, STEERCTL [build/steerd, build/steerctl]
# e.g. TTL=60 INTERVAL=5 ./scripts/bench-failover.sh (about 4 min a round).
# Needs root (the name servers listen on port 53 of 127.0.0.51-54), nsd, unbound and dig.
# Results: stdout and bench-results/failover-<date>.txt. Default run time: about 2 min.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export STEER_SRC=$ROOT
export STEERD=${STEERD:-$ROOT/build/steerd} STEERCTL=${STEERCTL:-$ROOT/build/steerctl}
TTL=${TTL:-10}
INTERVAL=${INTERVAL:-2}
DOWN=${DOWN:-2}
UP=${UP:-2}
TIMEOUT=${TIMEOUT:-1}
ROUNDS=${ROUNDS:-3}
POLL=${POLL:-0.1}

if [ "$(id -u)" -ne 0 ]; then
	echo "error: needs root (name servers on port 53)" >&2
	exit 1
fi
for cmd in nsd unbound dig sqlite3 "$STEERD"; do
	command -v "$cmd" >/dev/null || {
		echo "error: $cmd not found (scripts/install-deps.sh, scripts/build.sh)" >&2
		exit 1
	}
done

# shellcheck source=test/blackbox/lib.sh
source "$ROOT/test/blackbox/lib.sh"
# shellcheck source=test/blackbox/health-lib.sh
source "$ROOT/test/blackbox/health-lib.sh"
# shellcheck source=test/blackbox/chain-lib.sh
source "$ROOT/test/blackbox/chain-lib.sh"

mkdir -p "$ROOT/bench-results"
RESULT_FILE=$ROOT/bench-results/failover-$(date +%Y%m%d-%H%M%S).txt
: >"$RESULT_FILE"
say() {
	printf '%s\n' "$*" | tee -a "$RESULT_FILE"
}
note() {
	printf '# %s\n' "$*" >&2
}

PRIMARY='127\.0\.0\.11 127\.0\.0\.12$'
BACKUP='127\.0\.0\.21 127\.0\.0\.22$'

chain_setup "
for b in c['balancers']:
    b['ttl'] = $TTL
    b.pop('failover_ttl', None)"
json_edit "$TMP/cfg/monitors/web.json" "c.update(interval=$INTERVAL, timeout=$TIMEOUT,
                                               consecutive_down=$DOWN, consecutive_up=$UP)"
chain_start

# transition_ms INSTANCE T0: ms from T0 to that instance's last failover of api (empty if none).
transition_ms() {
	ns_sql "$1" "select max(time_ms) - $2 from balancer_transitions
	             where balancer = 'api' and to_state = 'failover:backup' and time_ms >= $2"
}

# on_primary: the client and both instances answer the primary pool.
on_primary() {
	[[ $(ns_ans ns1 api) =~ $PRIMARY ]] && [[ $(ns_ans ns2 api) =~ $PRIMARY ]] &&
		[[ $(res_ans api) =~ $PRIMARY ]]
}

# wait_primary SECONDS: bounded wait for on_primary.
wait_primary() {
	local end=$((SECONDS + $1))
	until on_primary; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "error: not back on the primary pool within $1 s" >&2
			exit 1
		fi
		sleep 0.5
	done
}

say "failover through the delegation chain: root and parent on NSD, steerd ns1 and ns2,"
say "unbound $(unbound -V | sed -n 's/^Version //p'), NSD $(nsd -v 2>&1 | sed -n 's/^NSD version //p');" \
	"$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
say "ttl $TTL s (failover_ttl $((TTL < 10 ? TTL : 10)) s), interval $INTERVAL s," \
	"consecutive_down $DOWN, consecutive_up $UP, timeout $TIMEOUT s; client polls every $POLL s"
say "expected: steerd $(((DOWN - 1) * INTERVAL))-$((DOWN * INTERVAL)) s after the kill" \
	"(+ up to $TIMEOUT s if an origin hangs instead of refusing);" \
	"client: that + 0-$TTL s (ttl)"
say ""
say "$(printf '%-5s %9s %9s %12s %18s' round 'ns1 ms' 'ns2 ms' 'client ms' 'client - later ns')"

bound=$((DOWN * INTERVAL + TIMEOUT + TTL + 30))
back=$((UP * INTERVAL + TTL + 30))
ns1_all=() ns2_all=() cl_all=()
for round in $(seq 1 "$ROUNDS"); do
	note "round $round: waiting for every answer on the primary pool"
	wait_primary "$back"
	# the client asks all along, for TTL to 2 x TTL s (random) before the kill, so that
	# unbound's copy is of a random age up to TTL when the origins die
	t1=$(now_ms)
	warm=$((TTL * 1000 + (RANDOM * 32768 + RANDOM) % (TTL * 1000 + 1)))
	while [ "$(ms_since "$t1")" -lt "$warm" ]; do
		res_ans api >/dev/null
		sleep "$POLL"
	done
	note "round $round: killing p1 and p2"
	stop_origin p1
	stop_origin p2
	t0=$(now_ms)
	client=
	end=$((SECONDS + bound))
	while [ -z "$client" ]; do
		if [[ $(res_ans api) =~ $BACKUP ]]; then
			client=$(ms_since "$t0")
		elif [ "$SECONDS" -ge "$end" ]; then
			echo "error: the client did not get the backup pool within $bound s" >&2
			exit 1
		else
			sleep "$POLL"
		fi
	done
	ns1=$(transition_ms ns1 "$t0")
	ns2=$(transition_ms ns2 "$t0")
	later=$((ns1 > ns2 ? ns1 : ns2))
	ns1_all+=("$ns1") ns2_all+=("$ns2") cl_all+=("$client")
	say "$(printf '%-5s %9s %9s %12s %18s' "$round" "$ns1" "$ns2" "$client" $((client - later)))"
	restart_origin p1
	restart_origin p2
done
wait_primary "$back"

# stats LIST...: "min / median / max" of integers
stats() {
	local s
	mapfile -t s < <(printf '%s\n' "$@" | sort -n)
	echo "${s[0]} / ${s[$((${#s[@]} / 2))]} / ${s[$((${#s[@]} - 1))]}"
}
say ""
say "min / median / max, ms from the kill: ns1 $(stats "${ns1_all[@]}"), ns2 $(stats "${ns2_all[@]}")," \
	"client of unbound $(stats "${cl_all[@]}")"
say "results: bench-results/${RESULT_FILE##*/}"
finish >/dev/null
