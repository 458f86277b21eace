#!/usr/bin/env bash
# Differential leniency test against Knot DNS: knotd (Debian package knot) and steerd serve
# the same zone (test/data/knotdiff: steerd loads static.zone, Knot a zone file including
# it, with the balancers' fixed answers as plain records). knotdiff.py sends about 700 odd
# queries, built from a fixed seed, to both over UDP and TCP (header counts, opcodes, query
# flags, rare types and classes, OPT placement, EDNS versions and options, CH names, odd
# names, out-of-zone names, sizes) and compares RCODE, flags, counts, EDNS, EDE codes and
# RRsets. Every difference must be one lib/dns/LENIENCY.md lists: deliberate ones pass,
# the "to fix" ones print "known: ..." without failing. KNOTDIFF_SEED=N: another seed.
source "$(dirname "$0")/lib.sh"

KNOTD=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
KNOT_PID=
KNOT_PORT=

stop_knot() {
	if [ -n "$KNOT_PID" ] && kill -0 "$KNOT_PID" 2>/dev/null; then
		kill -TERM "$KNOT_PID"
		for _ in $(seq 1 50); do
			kill -0 "$KNOT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$KNOT_PID" 2>/dev/null || true
		wait "$KNOT_PID" 2>/dev/null || true
	fi
	KNOT_PID=
}
# cleanup (lib.sh) reads the exit status first: keep it across stop_knot
trap 'rc=$?; stop_knot; (exit $rc); cleanup' EXIT

if [ ! -x "$KNOTD" ]; then
	fail "knotd is not installed (scripts/install-deps.sh installs Debian's knot)"
	finish
fi

make_config "$STEER_SRC/test/data/knotdiff"
start_steerd

# start_knot: knotd as the current user from $TMP/knot, on a fresh port of 127.0.0.1;
# waits (at most 10 s) for its SOA answer.
start_knot() {
	local dir=$TMP/knot soa

	KNOT_PORT=$(free_port)
	mkdir -p "$dir/db"
	cp "$STEER_SRC"/test/data/knotdiff/*.zone "$dir/"
	sed -e "s#@DIR@#$dir#g" -e "s#@PORT@#$KNOT_PORT#g" \
		"$STEER_SRC/test/data/knotdiff/knot.conf" >"$dir/knot.conf"
	"$KNOTD" -c "$dir/knot.conf" >>"$TMP/knot.log" 2>&1 &
	KNOT_PID=$!
	for _ in $(seq 1 100); do
		if soa=$(dig @127.0.0.1 -p "$KNOT_PORT" +norec +time=1 +tries=1 +short SOA "$ZONE" 2>&1) &&
			[ -n "$soa" ]; then
			return 0
		fi
		if ! kill -0 "$KNOT_PID" 2>/dev/null; then
			cat "$TMP/knot.log" >&2
			echo "knotd exited early" >&2
			exit 1
		fi
		sleep 0.1
	done
	cat "$TMP/knot.log" >&2
	echo "knotd did not answer within 10 s" >&2
	exit 1
}
start_knot

# the same data first: if these differ, the zone files are out of step with steerd.json
for qq in "lb.example.test SOA" "lb.example.test NS" "api.lb.example.test A" \
	"api.lb.example.test AAAA" "host.lb.example.test A" "x.sub.lb.example.test A" \
	"foo.wild.lb.example.test TXT" "big.lb.example.test TXT"; do
	# shellcheck disable=SC2086 # name and type are two words
	s=$(dig @127.0.0.1 -p "$PORT" +norec +tcp +time=2 +tries=1 +noall +answer +authority $qq 2>&1 |
		sort || true)
	# shellcheck disable=SC2086
	k=$(dig @127.0.0.1 -p "$KNOT_PORT" +norec +tcp +time=2 +tries=1 +noall +answer +authority $qq 2>&1 |
		sort || true)
	expect_eq "same data: $qq" "$s" "$k"
done

t0=${EPOCHREALTIME/[.,]/}
rc=0
PYTHONPATH="$STEER_SRC/test/blackbox" timeout 60 "$PYTHON" \
	"$STEER_SRC/test/blackbox/knotdiff.py" "$PORT" "$KNOT_PORT" || rc=$?
if [ "$rc" -ne 0 ]; then
	fail "differences from Knot (python exit $rc)"
else
	ok "every difference from Knot is deliberate or known ($(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms)"
fi

# both still run and answer
check_alive
if ! kill -0 "$KNOT_PID" 2>/dev/null; then
	fail "knotd (pid $KNOT_PID) is no longer running"
fi
ask q api.lb.example.test A
expect_eq "after the run: api A" "$STATUS/$COUNTS/$AN" "NOERROR/1/0/1/api.lb.example.test. 30 IN A 192.0.2.80"

stop_knot
finish
