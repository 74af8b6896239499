#!/bin/bash
# What a backup prints: on a terminal (a pseudo-terminal from script(1)),
# a progress bar redrawn in place with percent, bytes, rate, ETA and
# files, then one closing line; into a pipe, only that one line, no
# carriage returns; nothing at all with --quiet; rsync's item lines with
# -v and --dry-run (which sends nothing).
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
command -v script >/dev/null || fatal "script(1) is installed (bsdutils)"

hs() { "$HS_CLIENT" "$@"; }
REPO="$SCRATCH/repo"
SRC="$SCRATCH/data/photos"
for i in $(seq -w 1 40); do random_file "$SRC/img$i.jpg" 128; done
# slow enough for several frames: 5 MiB at 2 MiB/s
printf 'repo = %s\nsources = %s\nbwlimit = 2M\n' "$REPO" "$SRC" >"$SCRATCH/hs.conf"

# ------------------------------------------------------------ a terminal

TS="$SCRATCH/typescript"
assert "backup under a pseudo-terminal exits 0" \
	succeeds script -qfec "'$HS_CLIENT' backup --config '$SCRATCH/hs.conf'" "$TS"
tr '\r' '\n' <"$TS" | sed 's/\x1b\[K//g' >"$SCRATCH/frames"
assert "the bar is redrawn in place (carriage returns)" \
	bash -c "[ \"\$(tr -cd '\r' <'$TS' | wc -c)\" -ge 2 ]"
assert "a frame shows percent, a bar, bytes, rate and files" \
	grep -Eq '^ *[0-9]+% \[[#-]{10,}\] [0-9.]+[KMG]?  [0-9.]+[KMG]?/s  .*files [0-9]+/[0-9]+' "$SCRATCH/frames"
assert "a frame shows the ETA while files remain" grep -Eq ' ETA [0-9.]+[smh]' "$SCRATCH/frames"
assert "the bar is wiped before the closing line" grep -q $'\r\x1b\\[Khindsight: backed up ' "$TS"
assert "... which says what was sent" \
	grep -Eq "^hindsight: backed up $SRC to $REPO in [0-9.]+[sm].*: 40 of 40 files sent" "$SCRATCH/frames"
assert "one snapshot was made" is_eq "$(snapshots "$REPO" | wc -l)" 1

# ------------------------------------------------------------ a pipe

echo "changed" >"$SRC/img01.jpg"
assert "backup into a pipe exits 0" \
	succeeds bash -c "'$HS_CLIENT' backup --config '$SCRATCH/hs.conf' | cat >'$SCRATCH/piped'"
assert "... prints no carriage return and no escape" \
	bash -c "! grep -q $'[\r\x1b]' '$SCRATCH/piped'"
assert "... no bar" bash -c "! grep -q '%' '$SCRATCH/piped'"
assert "... exactly one line" is_eq "$(wc -l <"$SCRATCH/piped")" 1
assert "... the closing one, one file sent" \
	grep -Eq '^hindsight: backed up .*: 1 of 40 files sent' "$SCRATCH/piped"
assert "nothing on stderr either" is_eq "$(wc -c <"$LAST_ERR")" 0

assert "--quiet prints nothing on success (exit 0)" \
	succeeds hs backup --config "$SCRATCH/hs.conf" --quiet
assert "... nothing on stdout" is_eq "$(wc -c <"$LAST_OUT")" 0
assert "... nor on stderr" is_eq "$(wc -c <"$LAST_ERR")" 0
assert "--quiet under a terminal draws no bar either" \
	succeeds script -qfec "'$HS_CLIENT' backup --config '$SCRATCH/hs.conf' -q" "$TS"
assert "... (no percent in the typescript)" bash -c "! grep -q '%' '$TS'"

# ------------------------------------------------------------ -v and --dry-run

echo "new" >"$SRC/new.jpg"
assert "backup -v exits 0" succeeds hs backup --config "$SCRATCH/hs.conf" -v
assert "... lists the new file as rsync itemizes it" last_out_has "^[<>]f\\+{9} .*photos/new\\.jpg\$"
assert "... and rsync's own summary" last_out_has '^Number of regular files transferred: 1$'
N=$(snapshots "$REPO" | wc -l)
echo "draft" >"$SRC/draft.jpg"
assert "backup --dry-run exits 0" succeeds hs backup --config "$SCRATCH/hs.conf" --dry-run
assert "... shows what would be sent" last_out_has "photos/draft\\.jpg\$"
assert "... and says it was a dry run" last_out_has '^hindsight: dry run: would send [0-9]+ of [0-9]+ files'
assert "... and makes no snapshot" is_eq "$(snapshots "$REPO" | wc -l)" "$N"

done_testing
