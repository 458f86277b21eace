#!/usr/bin/env bash
# A FIFO where a config file should be: the load reports it at once (open() used to block
# for ever with SIGTERM held back, so only kill -9 stopped steerd). --check-config exits 1
# with the file's path; a running steerd sent SIGHUP rejects the reload, keeps serving,
# and SIGTERM still stops it cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
make_config "$STEER_SRC/test/data/bb"

# check_config NAME CONFIG REGEX: --check-config of CONFIG exits 1 (bounded by timeout 10)
# and prints an error matching REGEX (-k: the SIGTERM of timeout may be held back)
check_config() {
	local rc=0 out
	out=$(timeout -k 1 10 "$STEERD" --check-config -c "$2" 2>&1) || rc=$?
	expect_eq "$1: exit status (137: still blocked after 10 s)" "$rc" 1
	expect_match "$1: the error names the file" "$out" "$3"
	expect_no_match "$1: not ok" "$out" 'configuration ok'
}

# --- a FIFO in pools/, a FIFO as zone.zone_file, a FIFO as the main file
cp -r "$TMP/cfg" "$TMP/pool"
mkfifo "$TMP/pool/pools/evil.json"
check_config "FIFO pool file" "$TMP/pool/steerd.json" \
	"^$TMP/pool/pools/evil\\.json: cannot read: not a regular file \\(a FIFO\\)\$"
cp -r "$TMP/cfg" "$TMP/zone"
mkfifo "$TMP/zone/evil.zone"
json_edit "$TMP/zone/steerd.json" 'c["zone"]["zone_file"] = "evil.zone"'
check_config "FIFO zone_file" "$TMP/zone/steerd.json" \
	"^$TMP/zone/steerd\\.json:[0-9]+:[0-9]+: zone\\.zone_file: cannot read \"$TMP/zone/evil\\.zone\": not a regular file \\(a FIFO\\)\$"
mkfifo "$TMP/main.json"
check_config "FIFO main file" "$TMP/main.json" \
	"^$TMP/main\\.json: cannot read: not a regular file \\(a FIFO\\)\$"

# --- a running steerd: SIGHUP with a FIFO pool file
start_steerd
mkfifo "$TMP/cfg/pools/evil.json"
kill -HUP "$STEERD_PID"
expect_log "reload: the error names the FIFO" \
	'pools/evil\.json: cannot read: not a regular file \(a FIFO\)'
expect_log "reload failed, previous configuration kept" \
	'err steerd: reload of .*steerd\.json failed; still serving the previous configuration'
check_alive
ask q lb.example.test SOA
expect_eq "after the failed reload: still answering" "$STATUS/$FLAGS" "NOERROR/qr aa"

# the FIFO gone, the next reload is applied
rm "$TMP/cfg/pools/evil.json"
kill -HUP "$STEERD_PID"
expect_log "reload without the FIFO: applied" 'notice steerd: reloaded .*steerd\.json'

# --- SIGTERM stops it (stop_steerd waits 5 s, then kills and says "killed")
stop_steerd
expect_eq "SIGTERM after the failed reload: clean exit within 5 s" "$STEERD_RC" 0
check_exit
finish
