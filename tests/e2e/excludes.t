#!/bin/bash
# What a backup leaves out: directories tagged with a valid CACHEDIR.TAG,
# the home's cache and trash, per-volume trash, the contents of /proc,
# /sys, /dev, /run, /tmp, /var/tmp and /var/cache; the user's exclude
# file adds to them (and can bring something back); --show-excludes
# prints the effective list. Backups go to a local repository, as root.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"

hs() { "$HS_CLIENT" "$@"; }
TAG='Signature: 8a477f597d28d172789f06886806bc55'
REPO="$SCRATCH/repo"
newest() { echo "$REPO/$(snapshots "$REPO" | tail -n 1)"; }

# ------------------------------------------------------------ cache directories

SRC="$SCRATCH/data/project"
mkdir -p "$SRC/src" "$SRC/target/debug" "$SRC/node/deep/cache" "$SRC/fake" "$SRC/.Trash-1000/files"
echo "code" >"$SRC/src/main.c"
printf '%s\n# This file is a cache directory tag.\n' "$TAG" >"$SRC/target/CACHEDIR.TAG"
random_file "$SRC/target/debug/big.o" 64
printf '%s' "$TAG" >"$SRC/node/deep/cache/CACHEDIR.TAG"
echo "cached" >"$SRC/node/deep/cache/blob"
echo "kept" >"$SRC/node/deep/keep.txt"
printf 'Signature: not the right one\n' >"$SRC/fake/CACHEDIR.TAG"
echo "kept too" >"$SRC/fake/data"
echo "trashed" >"$SRC/.Trash-1000/files/old.txt"

# a home that rsync's /home/*/ patterns do not cover: $HOME's cache and trash go too
export HOME="$SCRATCH/h/me"
mkdir -p "$HOME/.cache/thumbnails" "$HOME/.local/share/Trash/files" "$HOME/Documents"
echo "thumb" >"$HOME/.cache/thumbnails/1.png"
echo "deleted" >"$HOME/.local/share/Trash/files/gone.txt"
echo "report" >"$HOME/Documents/report.txt"

assert "backup of a tree with tagged caches and of the home exits 0" \
	succeeds hs backup --repo "$REPO" "$SRC" "$HOME"
S=$(newest)
assert "a directory with a valid CACHEDIR.TAG is not sent" absent "$S$SRC/target"
assert "... nor one deeper down" absent "$S$SRC/node/deep/cache"
assert "... while its untagged neighbours are" exists "$S$SRC/node/deep/keep.txt"
assert "a CACHEDIR.TAG with the wrong signature does not count" exists "$S$SRC/fake/data"
assert "ordinary files are sent" exists "$S$SRC/src/main.c"
assert "a volume's .Trash-UID is not sent" absent "$S$SRC/.Trash-1000"
assert "the home's .cache is not sent" absent "$S$HOME/.cache"
assert "the home's trash is not sent" absent "$S$HOME/.local/share/Trash"
assert "the home's documents are" exists "$S$HOME/Documents/report.txt"

assert "--show-excludes exits 0 and backs nothing up" \
	succeeds hs backup --repo "$REPO" --show-excludes "$SRC" "$HOME"
assert "... no new snapshot" is_eq "$(snapshots "$REPO" | wc -l)" 1
assert "... it lists the defaults" last_out_has '^- /proc/\*$'
assert "... the home's cache" last_out_has "^- $HOME/.cache/\$"
assert "... and each tagged directory" last_out_has "^- $SRC/target/\$"
assert "... the deeper one too" last_out_has "^- $SRC/node/deep/cache/\$"
assert "... and not the one with a wrong tag" bash -c "! grep -q '^- $SRC/fake' '$LAST_OUT'"

# ------------------------------------------------------------ the system's volatile trees

MARK="hs-e2e-$$"
mkdir -p "/var/tmp/$MARK" "/var/cache/$MARK" "/var/cache/$MARK-keep" "/run/$MARK"
at_cleanup "rm -rf '/var/tmp/$MARK' '/var/cache/$MARK' '/var/cache/$MARK-keep' '/run/$MARK'"
echo x >"/var/tmp/$MARK/f"
echo x >"/var/cache/$MARK/f"
echo x >"/var/cache/$MARK-keep/f"
echo x >"/run/$MARK/f"
assert "backup of /proc /sys /dev /run /tmp /var/tmp /var/cache exits 0" \
	succeeds timeout 60 "$HS_CLIENT" backup --repo "$REPO" /proc /sys /dev /run /tmp /var/tmp /var/cache
S=$(newest)
for d in proc sys dev run tmp var/tmp var/cache; do
	assert "/$d is kept as an empty directory" \
		bash -c "[ -d '$S/$d' ] && [ -z \"\$(ls -A '$S/$d')\" ]"
done
assert "/tmp keeps its mode (sticky, 1777)" is_eq "$(stat -c %a "$S/tmp")" "$(stat -c %a /tmp)"

# ------------------------------------------------------------ the user's exclude file

cat >"$SCRATCH/excludes" <<EOF
# leave out logs; bring back one cache directory
- *.log
+ /var/cache/$MARK-keep/
EOF
cat >"$SCRATCH/hs.conf" <<EOF
repo = $REPO
exclude_file = $SCRATCH/excludes
EOF
echo "noise" >"$SRC/src/build.log"
assert "backup with an exclude_file exits 0" \
	succeeds hs backup --config "$SCRATCH/hs.conf" "$SRC" /var/cache
S=$(newest)
assert "the exclude file's pattern holds" absent "$S$SRC/src/build.log"
assert "the defaults still hold with it (tagged cache)" absent "$S$SRC/target"
assert "a + rule in it brings back what a default leaves out" exists "$S/var/cache/$MARK-keep/f"
assert "... and only that" absent "$S/var/cache/$MARK"
assert "--show-excludes prints the exclude file first" \
	succeeds hs backup --config "$SCRATCH/hs.conf" --show-excludes "$SRC"
assert "... with its lines" bash -c "head -n 4 '$LAST_OUT' | grep -q '^- \*\.log$'"
rm "$SCRATCH/excludes"
assert "a missing exclude_file stops the backup with exit 10" \
	must_fail 10 hs backup --config "$SCRATCH/hs.conf" --repo "$SCRATCH/other" "$SRC"
assert "... saying which file" last_err_has "exclude_file $SCRATCH/excludes: No such file"
assert "... and nothing was made" absent "$SCRATCH/other"

# ------------------------------------------------------------ a source a default would leave out

mkdir -p "/var/tmp/$MARK/named"
echo x >"/var/tmp/$MARK/named/file"
assert "a source named on purpose inside /var/tmp is backed up (exit 0)" \
	succeeds hs backup --repo "$REPO" "/var/tmp/$MARK"
assert "... with its contents" exists "$(newest)/var/tmp/$MARK/named/file"

done_testing
