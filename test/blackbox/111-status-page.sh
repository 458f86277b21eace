#!/usr/bin/env bash
# The status page (GET / on the API listener) in headless Chromium: with every origin up
# it shows balancer api on pool primary with TTL 30, the pools and origins up, a timeline
# per origin and the events; an override's reason is escaped and listed as a maintenance
# window; after the primary pool fails the page shows api failed over to the secondary,
# the origins down with their probe reason and the transitions in the event list. The
# raw HTML has no script and no external URL. The screenshots (390 px wide, a phone) are
# kept in $STEER_ARTIFACTS, else in artifacts/ beside the steerd binary.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

CHROMIUM=${CHROMIUM:-chromium}
ARTIFACTS=${STEER_ARTIFACTS:-$(dirname "$STEERD")/artifacts}

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
	fail "$CHROMIUM is not installed (scripts/install-deps.sh installs Debian's chromium)"
	finish
fi

# chrome ARGS...: headless Chromium on this page, bounded; stderr (dbus, GPU notes) dropped.
chrome() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$TMP/chrome" "$@" 2>/dev/null
}

# page_rows: load the page in Chromium and print its DOM as text, one line per table
# row (cells joined by " | "), pool header, heading, paragraph and banner. html_rows:
# the same from the HTML as served (cheaper: for polling; the page has no script, so
# the two agree).
page_rows() {
	chrome --dump-dom "$API/" >"$TMP/dom.html" || true
	rows_of "$TMP/dom.html"
}

html_rows() {
	curl -s --max-time 10 "$API/" >"$TMP/page.html" || true
	rows_of "$TMP/page.html"
}

# rows_of FILE: the text lines of an HTML file, as above.
rows_of() {
	PYTHONIOENCODING=utf-8 "$PYTHON" - "$1" <<'PY'
import html.parser, re, sys

class Rows(html.parser.HTMLParser):
    """Text of each block (table row, heading, banner, pool header); a cell per child."""
    VOID = {"br", "meta", "link", "img", "input", "hr", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.cells, self.text, self.depth = [], [], None, 0

    def is_block(self, tag, attrs):
        cls = (dict(attrs).get("class") or "").split()
        return tag in ("tr", "h1", "h2", "p") or (tag == "div" and cls[:1] in (["ph"], ["banner"]))

    def flush(self):
        if self.text.strip():
            self.cells.append(re.sub(r"\s+", " ", self.text.strip()))
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            if self.text is not None:
                self.text += " "
            return
        if self.text is None and self.is_block(tag, attrs):
            self.depth, self.text, self.cells = len(self.stack), "", []
        elif self.text is not None and len(self.stack) == self.depth + 1:
            self.flush()
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack and self.stack.pop() != tag:
            pass
        if self.text is not None and len(self.stack) == self.depth:
            self.flush()
            print(" | ".join(self.cells))
            self.text = None

    def handle_data(self, data):
        if self.text is not None and not {"title", "style"} & set(self.stack):
            self.text += data

Rows().feed(open(sys.argv[1], encoding="utf-8", errors="replace").read())
PY
}

# shot NAME: a 390 px wide screenshot; a PNG of some size, kept in $ARTIFACTS/NAME.
shot() {
	rm -f "$TMP/page.png"
	chrome --screenshot="$TMP/page.png" --window-size=390,1400 --hide-scrollbars "$API/" \
		>/dev/null || true
	expect_eq "screenshot $1 is a PNG" "$(head -c 8 "$TMP/page.png" 2>/dev/null | od -An -tx1 |
		tr -d ' \n')" "89504e470d0a1a0a"
	expect_ge "screenshot $1 has some size" "$(stat -c %s "$TMP/page.png" 2>/dev/null || echo 0)" \
		20000
	mkdir -p "$ARTIFACTS" && cp "$TMP/page.png" "$ARTIFACTS/$1" && echo "# kept $ARTIFACTS/$1"
}

start_api_trio
wait_for "all three origins up" \
	"ctl status --json | jq_py \"sum(o['state'] == 'up' for p in d['pools'] for o in p['origins'])\"" \
	'^3$'

# --- the HTML itself: self-contained, no script, no external URL
out=$(curl -s --max-time 10 -D "$TMP/headers" "$API/")
expect_match "GET / is text/html" "$(cat "$TMP/headers")" '^[Cc]ontent-[Tt]ype: text/html; charset=utf-8'
expect_match "a complete document" "$out" '^<!DOCTYPE html>'
expect_match "it ends" "$(tail -n 1 <<<"$out")" '</html>$'
expect_match "refreshes itself without JavaScript" "$out" '<meta http-equiv="refresh" content="10">'
expect_match "sized for phones" "$out" '<meta name="viewport" content="width=device-width'
expect_no_match "no script at all" "$out" '<script'
expect_no_match "no external URL" "$out" 'https?://|//[a-z0-9.-]+\.[a-z]'
expect_eq "one server-rendered timeline per origin" "$(grep -o '<svg ' <<<"$out" | wc -l)" "3"
expect_match "times are UTC" "$out" 'all times UTC \(Z\)'

# --- in Chromium: balancers, pools and origins up, the events
wait_for "the page lists the origins' first transitions (the store writes every 200 ms)" \
	"html_rows | grep -c '^[0-9:Z]* .*| origin | primary/p[12] .*unknown → up'" '^2$'
rows=$(page_rows)
expect_match "page: balancer api on pool primary, TTL 30" "$rows" \
	'^api api\.lb\.example\.test\. \| primary \| primary \| 30 \|'
expect_match "page: everything fine" "$rows" '^All balancers answer from their first-choice pool'
expect_match "page: pool primary healthy" "$rows" '^primary \| healthy \| 2/2 origins in answers'
expect_match "page: pool secondary healthy" "$rows" '^secondary \| healthy \| 1/1 origins in answers'
for o in 'p1 \| 127\.0\.0\.11' 'p2 \| 127\.0\.0\.12' 's1 \| 127\.0\.0\.21'; do
	expect_match "page: origin ${o//\\/} up, last probe ok" "$rows" \
		"^$o \\| up \\| .* \\| ok [0-9]+ ms · HTTP 200 [0-9:]+Z \\(.* ago\\) \\| - *\$"
done
expect_match "page: a timeline with probes" "$rows" '24 h: 100\.0% of [1-9][0-9]* probes ok'
expect_match "page: no override" "$rows" '^None: the probes decide'
shot 111-status-page.png

# --- an override with markup in its reason: escaped, shown as a maintenance window
ctl drain primary/p2 --for 30m --reason '<script>alert(1)</script> & "x"' >/dev/null
out=$(curl -s --max-time 10 "$API/")
expect_no_match "the reason's markup is escaped" "$out" '<script'
expect_match "escaped, not dropped" "$out" '&lt;script&gt;alert\(1\)&lt;/script&gt; &amp; &quot;x&quot;'
rows=$(html_rows)
# (the end carries its date when it falls on another day than today, UTC)
expect_match "page: the window in the overrides list" "$rows" \
	'^primary/p2 \| drain until ([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9:]+Z \(29m from now\) <script>alert\(1\)</script> & "x" \| maintenance window \|'
expect_match "page: p2 up, drained" "$rows" '^p2 \| 127\.0\.0\.12 \| up drained \|'
ctl auto primary/p2 >/dev/null

# --- fail the primary pool: the page shows the failover
stop_origin p1
stop_origin p2
wait_for "both primary origins down: api on the secondary" "ans api" '^NOERROR 5 127\.0\.0\.21$'
wait_for "the page lists the balancer's failover" \
	"html_rows | grep -c '| balancer | api | primary → failover:secondary'" '^1$'
rows=$(page_rows)
expect_match "page: balancer api on pool secondary, failover, TTL 5" "$rows" \
	'^api api\.lb\.example\.test\. \| secondary \| failover \| 5 \|'
expect_match "page: the banner says so" "$rows" '^1 balancer failed over · 1 pool unhealthy · 2 of 3 origins down'
expect_match "page: pool primary unhealthy" "$rows" '^primary \| unhealthy \| 0/2 origins in answers'
REASON='(connect refused|recv: Connection reset by peer|connection closed without a response)'
for o in 'p1 \| 127\.0\.0\.11' 'p2 \| 127\.0\.0\.12'; do
	expect_match "page: origin ${o//\\/} down with its probe reason" "$rows" \
		"^$o \\| down \\| .* \\| failed [0-9]+ ms · $REASON [0-9:]+Z"
done
expect_match "page: s1 still up" "$rows" '^s1 \| 127\.0\.0\.21 \| up \|'
expect_match "events: p1 went down, with the reason" "$rows" \
	"\\| origin \\| primary/p1 127\\.0\\.0\\.11 \\| up → down \\| $REASON"
expect_match "events: the pool went unhealthy" "$rows" '\| pool \| primary \| healthy → unhealthy \|'
expect_match "events: the window was cleared" "$rows" '\| override \| primary/p2 \| auto \(api\)'
expect_match "page: a timeline with failures" "$rows" '24 h: [0-9.]+% of [0-9]+ probes ok'
expect_no_match "page: nothing cut" "$rows" 'without a timeline'
shot 111-status-page-failover.png

finish
