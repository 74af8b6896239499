#!/bin/bash
# hindsight-server report --html: one self-contained page with the status
# table and a timeline per account, rendered in headless Chromium. The
# history is made of real pushes to local roots, each snapshot then given
# an older name (as retention.t does), so the timeline has known snapshots
# and a known gap at an injected clock.
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null 2>&1 ||
	{ echo "not ok 1 - chromium is installed (make deps)"; echo "1..1"; exit 1; }
CHECK="$HS_SRCDIR/tests/e2e/htmlcheck.py"
BASE="$SCRATCH/base"
CONF="$SCRATCH/server.conf"
SRC="$SCRATCH/src"
OUT="$SCRATCH/www/report.html"
NOW=2026-01-31T12:00:00Z
ODD='odd "<b>&name'
mkdir -p "$BASE" "$SRC/docs" "$SCRATCH/www"
random_file "$SRC/docs/a" 8
printf '[server]\nbase = %s\nkeep = forever:all\n[account laptop]\nmax_age = 3d\n' "$BASE" >"$CONF"
export HINDSIGHT_SERVER_CONF="$CONF"

# push ACCOUNT NAME: a real push, then the snapshot renamed to NAME
push() {
	local root="$BASE/$1" s
	echo "$2" >"$SRC/docs/changing"
	"$HS_CLIENT" backup --repo "$root" "$SRC" >/dev/null 2>&1 || fatal "push $1 $2"
	s=$(snapshots "$root" | tail -n 1)
	mv "$root/$s" "$root/$2" && mv "$root/.hindsight/snapshots/$s.json" \
		"$root/.hindsight/snapshots/$2.json" && ln -sfn "$2" "$root/current" ||
		fatal "rename $s to $2"
}
# laptop: every other day, but nothing from the 13th to the 21st (a gap past its 3d)
laptop=0
for d in 03 05 07 09 11 13 21 23 25 27 29 31; do push laptop "2026_01_${d}_09_00_00"; laptop=$((laptop + 1)); done
# server: daily until the 8th, then nothing: stale by the 31st, one gap to now
for d in 05 06 07 08; do push server "2026_01_${d}_03_00_00"; done
# one push for a name that needs escaping, and an account that never pushed
push "$ODD" 2026_01_31_10_00_00
mkdir -p "$BASE/fresh/.hindsight"
# one snapshot before the window: counted, not drawn
push old 2025_11_01_00_00_00
push old 2026_01_30_23_00_00

report() { "$HS_SERVER" report --config "$CONF" "$@"; }
assert "report --html writes the page and exits 0 (even with a stale account)" \
	succeeds report --html "$OUT" --now "$NOW"
assert "... 0644, so a web server can serve it" is_eq "$(stat -c %a "$OUT")" 644
assert "... with no temporary file left beside it" is_eq "$(ls -A "$SCRATCH/www")" report.html
assert "... self-contained: no script, stylesheet link, source, url() or http address" \
	must_fail 1 grep -Eiq '<script|<link|<img|<iframe|src=|url\(|https?:' "$OUT"
assert "... names the moment it describes" grep -q '2026-01-31T12:00:00Z' "$OUT"

SHOT="$SCRATCH/shot.png"
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$SCRATCH/chromium" "$@" "file://$OUT"
}
assert "headless Chromium renders it to a 1200x900 screenshot" \
	succeeds chrome --screenshot="$SHOT" --window-size=1200,900
assert "... the PNG exists" exists "$SHOT"
run python3 "$CHECK" png "$SHOT"
assert "... it is 1200x900" last_out_has '^1200x900 '
assert "... it is not blank: hundreds of colours (text, badges, timelines)" \
	bash -c "[ \$(grep -o 'colours=[0-9]*' '$LAST_OUT' | cut -d= -f2) -gt 100 ]"
assert "... and the snapshot ticks are drawn (their green is on screen)" \
	bash -c "[ \$(grep -o 'green=[0-9]*' '$LAST_OUT' | cut -d= -f2) -gt 200 ]"

assert "Chromium's DOM of the page can be dumped" succeeds chrome --dump-dom
cp "$LAST_OUT" "$SCRATCH/dom.html"
assert "... and read: one status table, rows and timelines" \
	succeeds python3 "$CHECK" dom "$SCRATCH/dom.html"
cp "$LAST_OUT" "$SCRATCH/dom.txt"
has_line() { grep -qxF -- "$1" "$SCRATCH/dom.txt" || { echo "no line '$1' in:"; cat "$SCRATCH/dom.txt"; return 1; }; }
count_lines() { grep -c -- "$1" "$SCRATCH/dom.txt"; }
assert "the table has one row per account" is_eq "$(count_lines '^row ')" 5
assert "... laptop ok" has_line "row laptop ok"
assert "... server stale" has_line "row server stale"
assert "... fresh never" has_line "row fresh never"
assert "... the odd name as it is, escaped in the markup and read back intact" has_line "row $ODD ok"
assert "there is exactly one timeline per account" is_eq "$(count_lines '^timeline ')" 5
for acc in laptop server fresh old "$ODD"; do
	assert "... one for $acc" is_eq "$(count_lines "^timeline $acc snaps=")" 1
done
assert "laptop's timeline shows its $laptop snapshots and the one gap longer than 3d" \
	has_line "timeline laptop snaps=$laptop gaps=1"
assert "server's shows 4 snapshots and the gap from the 8th to now" \
	has_line "timeline server snaps=4 gaps=1"
assert "a snapshot older than the 30 days shown is not drawn, the gap after it is" \
	has_line "timeline old snaps=1 gaps=1"
assert "... in words under the timeline" grep -q '1 older snapshot, from 2025-11-01T00:00:00Z' "$OUT"
assert "an account with no snapshot has an empty timeline" has_line "timeline fresh snaps=0 gaps=0"
assert "--span 1w draws only the last week" succeeds report --html "$OUT" --now "$NOW" --span 1w
assert "... (laptop: 4 snapshots in the week to the 31st)" \
	bash -c "python3 '$CHECK' dom '$OUT' | grep -qx 'timeline laptop snaps=4 gaps=0'"
assert "a bad --span is a usage error" must_fail 2 report --html "$OUT" --span soon
assert "--html is required" must_fail 2 report
assert "a page in a directory that does not exist is an error (exit 1)" \
	must_fail 1 report --html "$SCRATCH/nope/r.html"

done_testing
