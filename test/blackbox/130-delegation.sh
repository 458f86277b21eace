#!/usr/bin/env bash
# The delegation chain end to end, on loopback: a root zone and the parent zone
# example.test (NSD) delegate lb.example.test to two steerd instances (NS + glue), and
# unbound resolves from the root. A client of unbound gets the steered answer; with ns1
# killed (-9) it still gets answers, through ns2; when the primary pool's origins fail,
# both instances fail over on their own probes and the client gets the backup pool within
# detection time (interval 1 s x consecutive_down 2 + timeout 1 s) plus the TTL (2 s);
# when they heal, the client is back on the primary. Needs root (port 53).
source "$(dirname "$0")/as-root.sh" "resolvers ask port 53"
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/chain-lib.sh"

# the failover bound: detection (interval x consecutive_down + timeout) + TTL, plus 4 s
# for the polling client and a loaded machine
TTL=2
DETECT=$((1 * 2 + 1))
SLACK=4
PRIMARY='127\.0\.0\.11 127\.0\.0\.12$'
BACKUP='127\.0\.0\.21 127\.0\.0\.22$'

chain_setup
chain_start

# --- the delegation, step by step (as the README checks it)
ask dig @"$ROOT_ADDR" -p 53 +norec lb.example.test NS
expect_eq "root: referral to example.test" "$STATUS|$FLAGS|$NS" \
	"NOERROR|qr|example.test. 86400 IN NS ns.example.test."
ask dig @"$PARENT_ADDR" -p 53 +norec lb.example.test NS
expect_eq "parent: referral, not authoritative" "$STATUS|$FLAGS" "NOERROR|qr"
expect_eq "parent: NS of lb.example.test" "$(sorted "$NS")" \
	"lb.example.test. 3600 IN NS ns1.lb.example.test.
lb.example.test. 3600 IN NS ns2.lb.example.test."
expect_eq "parent: glue" "$(sorted "$AR")" \
	"ns1.lb.example.test. 3600 IN A ${NS_ADDR[ns1]}
ns2.lb.example.test. 3600 IN A ${NS_ADDR[ns2]}"
for ns in ns1 ns2; do
	ask dig @"${NS_ADDR[$ns]}" -p 53 +norec +nsid lb.example.test NS
	expect_eq "$ns: authoritative NS, the same as the parent's" "$STATUS|$FLAGS|$(sorted "$AN")" \
		"NOERROR|qr aa|lb.example.test. 3600 IN NS ns1.lb.example.test.
lb.example.test. 3600 IN NS ns2.lb.example.test."
	expect_match "$ns: NSID names the instance" "$NSID" "\(\"?$ns\"?\)"
	expect_match "$ns: api from the primary pool" "$(ns_ans "$ns" api)" "^NOERROR 2 $PRIMARY"
done
# what dig +trace does (it cannot here: it looks up the root server's name through the
# system resolver): from the root, follow each referral by its glue alone
server=$ROOT_ADDR hops=""
for _ in 1 2 3 4 5; do
	ask dig @"$server" -p 53 +norec api.lb.example.test A
	hops+="$server "
	[[ " $FLAGS " != *" aa "* ]] || break
	server=$(awk '$4 == "A" { print $5; exit }' <<<"$AR")
	[ -n "$server" ] || break
done
expect_match "referrals by glue: root -> parent -> ns1 or ns2" "$hops" \
	"^${ROOT_ADDR//./\\.} ${PARENT_ADDR//./\\.} (${NS_ADDR[ns1]//./\\.}|${NS_ADDR[ns2]//./\\.}) $"
expect_match "referrals by glue: the steered answer" \
	"$STATUS $(sort <<<"$AN" | awk '{ printf "%s ", $5 }')" \
	"^NOERROR 127\\.0\\.0\\.11 127\\.0\\.0\\.12 $"

# --- through the resolver
wait_for "ns1: all four origins up" \
	"ns_sql ns1 \"select count(*) from origin_transitions where to_state = 'up'\"" '^4$'
wait_for "ns2: all four origins up" \
	"ns_sql ns2 \"select count(*) from origin_transitions where to_state = 'up'\"" '^4$'
expect_match "unbound: api from the primary pool, TTL <= 2" "$(res_ans api)" \
	"^NOERROR [0-2] $PRIMARY"
t_api=$(now_ms)
expect_match "unbound: a static name of the zone" "$(res_ans ns2)" \
	"^NOERROR [0-9]+ ${NS_ADDR[ns2]//./\\.}$"
expect_match "unbound: NXDOMAIN below the zone" "$(res_ans nope)" '^NXDOMAIN -$'

# --- ns1 dies: the resolver goes on through ns2
kill_ns ns1
expect_eq "ns1 killed: no answer from it" "$(ns_ans ns1 api)" "NO-ANSWER -"
# nobody asked for web yet, so unbound has to fetch it, and only ns2 can answer
expect_match "unbound: web (never asked before) answered through ns2" "$(res_ans web)" \
	"^NOERROR [0-2] $PRIMARY"

# api_refetched: "early" until unbound's copy of api (TTL 2) has expired, then api through
# unbound; TTL 2 then means it was fetched again (from ns2).
api_refetched() {
	if [ "$(ms_since "$t_api")" -le $((TTL * 1000 + 100)) ]; then
		echo early
	else
		res_ans api
	fi
}
wait_for "unbound: api fetched again after its TTL, through ns2" \
	api_refetched "^NOERROR 2 $PRIMARY" 10

# ns1 comes back on its own state file (kill -9 kept every transition): both serve
start_ns ns1
expect_match "ns1 restarted: api from the primary pool" "$(ns_ans ns1 api)" "^NOERROR 2 $PRIMARY"

# --- the primary pool's origins fail: both instances fail over, each on its own probes,
# and a client of unbound sees the backup within detection + TTL
set_origin p1 '{"status": 503}'
set_origin p2 '{"status": 503}'
t0=$(now_ms)
wait_for "unbound: api on the backup pool within detection + TTL" \
	"res_ans api" "^NOERROR [0-2] $BACKUP" $((DETECT + TTL + SLACK))
ms_res=$(ms_since "$t0")
wait_for "ns1: api on the backup pool" "ns_ans ns1 api" "^NOERROR 2 $BACKUP" $((DETECT + SLACK))
wait_for "ns2: api on the backup pool" "ns_ans ns2 api" "^NOERROR 2 $BACKUP" $((DETECT + SLACK))
failed_over_at() {
	ns_sql "$1" "select max(time_ms) - $t0 from balancer_transitions
	             where balancer = 'api' and to_state = 'failover:backup'"
}
echo "# failover after the origins failed: ns1 $(failed_over_at ns1) ms," \
	"ns2 $(failed_over_at ns2) ms, a client of unbound ${ms_res} ms"
expect_match "unbound: api stays on the backup pool" "$(res_ans api)" "^NOERROR [0-2] $BACKUP"
expect_match "unbound: web on the backup pool too" "$(res_ans web)" "^NOERROR [0-2] $BACKUP"
for ns in ns1 ns2; do
	expect_match "$ns: steerctl status shows api failed over" "$(ns_ctl "$ns" status)" \
		'^api +backup +failover +2 '
	expect_eq "$ns: its own balancer transition" \
		"$(ns_sql "$ns" "select from_state || '->' || to_state from balancer_transitions
		                 where balancer = 'api' order by id desc limit 1")" \
		"primary->failover:backup"
done

# --- the origins heal: back on the primary (consecutive_up 1) within interval + TTL
set_origin p1 '{}'
set_origin p2 '{}'
t0=$(now_ms)
wait_for "unbound: api back on the primary pool" \
	"res_ans api" "^NOERROR [0-2] $PRIMARY" $((1 + 1 + TTL + SLACK))
echo "# failback seen through unbound after $(ms_since "$t0") ms"

finish
