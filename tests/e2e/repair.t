#!/bin/bash
# hindsight-server check finds each kind of damage to a backup root, and
# --repair fixes what is safe: each damage is made by hand, then asserted
# detected (with its exit code), repaired, and a second check is clean.
# The root belongs to a real account that pushes to it itself (a local
# repository run as the account: the same serve code as over ssh), so
# owners and modes are those of the simple trust level.
. "$(dirname "$0")/lib.sh"

new_account r
ACC=$ACCOUNT
R="$SCRATCH/home/$ACC/backup"
SRC="$SCRATCH/src"
mkdir -p "$SRC/docs"
random_file "$SRC/docs/a" 8
chmod -R a+rX "$SRC"
push() { runuser -u "$ACC" -- "$HS_CLIENT" backup --repo "$R" "$SRC"; }
check() { "$HS_SERVER" check "$@"; }
clean() {   # a check of the root with nothing but ok lines, exit 0
	must_exit 0 check --root "$R" && ! grep -v '^ok: ' "$LAST_OUT"
}
finds() {   # finds CODE REGEX: check exits CODE and says it
	must_exit "$1" check --root "$R" && last_out_has "$2"
}
repairs() {   # repairs REGEX: --repair exits 0 and reports it repaired
	must_exit 0 check --root "$R" --repair && last_out_has "^repaired: $R: $1"
}

two_pushes() { push && push; }
# damage made by hand as root is handed to the account, as if it had made it
mine() { chown -h "$ACC:$ACC" "$@"; }

assert "two pushes as the account make its root" succeeds two_pushes
S=($(snapshots "$R"))
[ "${#S[@]}" -ge 2 ] || fatal "no history" "$(ls -la "$R")"
NEWEST=${S[-1]}
OLDER=${S[0]}
assert "check of the healthy root exits 0 with only ok lines" clean
assert "... it says the account owns the root" last_out_has "^ok: $R: owned by the account $ACC$"
assert "... and reports fs.protected_hardlinks (sealed mode needs 0)" \
	last_out_has '^ok: fs\.protected_hardlinks=[0-9]'
tree_state "$R" >"$SCRATCH/state0"
run check --root "$R"
assert "check without --repair writes nothing" same_tree_state "$SCRATCH/state0" "$R"

# ------------------------------------------------------------ the four damages

ln -sfn 2000_01_01_00_00_00 "$R/current"
mine "$R/current"
assert "a dangling current: found, exit 3" \
	finds 3 "^warning: $R: current names 2000_01_01_00_00_00, not the newest snapshot $NEWEST$"
assert "... --repair points it at the newest snapshot" repairs "current names 2000_01_01_00_00_00"
assert "... current names $NEWEST" is_eq "$(readlink "$R/current")" "$NEWEST"
assert "... and a second check is clean" clean

ln -s "$OLDER" "$R/current.tmp"
mine "$R/current.tmp"
assert "a stale temporary symlink current.tmp: found, exit 3" \
	finds 3 "^warning: $R: a stale current.tmp"
assert "... --repair removes it" repairs "a stale current.tmp"
assert "... gone" absent "$R/current.tmp"
assert "... current untouched" is_eq "$(readlink "$R/current")" "$NEWEST"
assert "... and a second check is clean" clean

mkdir -p "$R/.hindsight/trash/4242.0/deep/er"
random_file "$R/.hindsight/trash/4242.0/deep/er/f" 4
chown -R "$ACC:$ACC" "$R/.hindsight/trash/4242.0"
assert "a leftover tree in the trash: found, exit 3" \
	finds 3 "^warning: $R: the trash holds 1 entry"
assert "... --repair empties the trash" repairs "the trash holds 1 entry"
assert "... empty" is_eq "$(ls -A "$R/.hindsight/trash")" ""
assert "... and a second check is clean" clean

cp "$R/.hindsight/snapshots/$OLDER.json" "$SCRATCH/meta.orig"
rm "$R/.hindsight/snapshots/$OLDER.json"
assert "a missing metadata file: found, exit 3" \
	finds 3 "^warning: $R: snapshot $OLDER has no metadata"
assert "... --repair rebuilds it" repairs "snapshot $OLDER has no metadata"
M="$R/.hindsight/snapshots/$OLDER.json"
assert "... marked reconstructed" jq -e '.reconstructed == true' "$M"
assert "... with rsync exit and counts from the push's log line" \
	is_eq "$(jq -c '[.rsync_exit, .files_transferred, .bytes_transferred]' "$M")" \
	"$(jq -c '[.rsync_exit, .files_transferred, .bytes_transferred]' "$SCRATCH/meta.orig")"
assert "... and its end: the moment of that line, within a second or two of the real end" \
	jq -e --slurpfile o "$SCRATCH/meta.orig" '.end_epoch - $o[0].end_epoch | . >= 0 and . <= 2' "$M"
assert "... owned by the account, though root repaired it" is_eq "$(stat -c %U "$M")" "$ACC"
assert "... the client lists the snapshot as complete" \
	bash -c "runuser -u '$ACC' -- '$HS_CLIENT' list --repo '$R' --json | jq -e '.snapshots[0].status == \"complete\"'"
assert "... and a second check is clean" clean
assert "the repairs are in the root's log" \
	grep -q "check --repair: repaired: $R: snapshot $OLDER has no metadata" "$R/.hindsight/log"

# ------------------------------------------------------------ more damage, one run

echo '{}' >"$R/.hindsight/snapshots/2001_01_01_00_00_00.json"
install -d -o "$ACC" -g "$ACC" "$R/.hindsight/pins"
: >"$R/.hindsight/pins/2001_01_02_00_00_00"
printf '%s\n' "$OLDER" >"$R/.hindsight/basis"
: >"$R/.hindsight/snapshots/.$NEWEST.json.tmp"
echo garbage >"$R/.hindsight/snapshots/$NEWEST.json"
chmod 755 "$R/.hindsight" "$R"
: >"$R/stray"
mine "$R/stray" "$R/.hindsight/basis" "$R/.hindsight/snapshots/"* "$R/.hindsight/snapshots/".*.tmp \
	"$R/.hindsight/pins/"*
assert "metadata without a snapshot, a dangling pin, a stale basis, a temporary, metadata" \
	finds 3 "metadata for 2001_01_01_00_00_00, which is not a snapshot here"
assert "... that does not parse, loose modes and a stray file: each on its own line" \
	bash -c "grep -c '^warning: ' '$LAST_OUT' | grep -qx 8"
assert "... the pin" last_out_has "a pin for 2001_01_02_00_00_00, which is not a snapshot here"
assert "... the basis" last_out_has "a stale .hindsight/basis"
assert "... the temporary" last_out_has "a temporary file left behind: .hindsight/snapshots/.$NEWEST.json.tmp"
assert "... the bad metadata" last_out_has "the metadata of $NEWEST does not parse"
assert "... the modes" last_out_has "group or others can read every backup \(mode 0755"
assert "... and the stray file" last_out_has "stray is not part of the layout"
assert "--repair fixes all but the stray file, which may be the account's (exit 3)" \
	must_exit 3 check --root "$R" --repair
assert "... seven repaired" bash -c "grep -c '^repaired: ' '$LAST_OUT' | grep -qx 7"
assert "... the stray file still reported, and still there" \
	bash -c "grep -q '^warning: .*stray is not part' '$LAST_OUT' && [ -e '$R/stray' ]"
assert "... modes 0700" is_eq "$(stat -c %a "$R" "$R/.hindsight" | tr '\n' ' ')" "700 700 "
assert "... the rebuilt metadata parses" jq -e ".name == \"$NEWEST\" and .reconstructed" \
	"$R/.hindsight/snapshots/$NEWEST.json"
rm -f "$R/stray"
assert "... and a second check is clean" clean

# ------------------------------------------------------------ owners

rm -f "$R/.hindsight/prune.lock"
assert "prune as root on the account's root exits 0" \
	succeeds "$HS_SERVER" prune --root "$R" --dry-run
assert "... a real prune as root leaves prune.lock to the account" \
	succeeds "$HS_SERVER" prune --root "$R"
assert "... owned by $ACC" is_eq "$(stat -c %U "$R/.hindsight/prune.lock")" "$ACC"
chown root:root "$R/.hindsight/prune.lock" "$R/.hindsight/log"
assert "server state owned by root in the account's root is an error (exit 1)" \
	finds 1 "^error: $R: .hindsight/prune.lock belongs to root, not to the account"
assert "... and the next push as the account fails on it" must_fail 1 push
assert "--repair hands it back" repairs ".hindsight/prune.lock belongs to root"
assert "... and the log too" last_out_has "^repaired: $R: .hindsight/log belongs to root"
assert "... the push works again" succeeds push
assert "... and a second check is clean" clean

# ------------------------------------------------------------ locks

# hold LOCKFILE: take it as an admin would with flock(1), in the background
hold() {
	bg "$SCRATCH/flock.log" bash -c "exec 9>>'$1' && flock -w 5 9 && exec sleep 30"
	wait_until 5 bash -c "! flock -n '$1' true" || fatal "could not take $1" "$(cat "$SCRATCH/flock.log")"
}
ln -sfn 2000_01_01_00_00_00 "$R/current"
mine "$R/current"
hold "$R/.hindsight/lock"
assert "--repair while a push holds the lock exits 11" must_fail 11 check --root "$R" --repair
assert "... saying so" last_out_has "^error: $R: a push is running there \(since .*\); retry later$"
assert "... and changes nothing" is_eq "$(readlink "$R/current")" 2000_01_01_00_00_00
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
hold "$R/.hindsight/prune.lock"
assert "--repair while a prune runs exits 11" must_fail 11 check --root "$R" --repair
assert "... saying so" last_out_has "^error: $R: a prune is running there; retry later$"
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
assert "the account can repair its own root" \
	must_exit 0 runuser -u "$ACC" -- "$HS_SERVER" check --root "$R" --repair
assert "... current repaired" is_eq "$(readlink "$R/current")" "$(snapshots "$R" | tail -n 1)"

# ------------------------------------------------------------ --all

BASE="$SCRATCH/base"
mkdir -p "$BASE"
"$HS_CLIENT" backup --repo "$BASE/one" "$SRC" >/dev/null 2>&1 || fatal "push one"
"$HS_CLIENT" backup --repo "$BASE/two" "$SRC" >/dev/null 2>&1 || fatal "push two"
mkdir "$BASE/not-a-root"
printf '[server]\nbase = %s\n' "$BASE" >"$SCRATCH/server.conf"
ln -s "$OLDER" "$BASE/two/current.tmp"
assert "check --all looks at every root under base and finds the damage (exit 3)" \
	must_exit 3 check --all --config "$SCRATCH/server.conf"
assert "... in two" last_out_has "^warning: $BASE/two: a stale current.tmp"
assert "... one is fine" last_out_has "^ok: $BASE/one: 1 snapshot$"
assert "... a directory without .hindsight/ is no root" must_fail 1 last_out_has "not-a-root"
assert "check --all --repair fixes it" must_exit 0 check --all --repair --config "$SCRATCH/server.conf"
assert "--all with --root is a usage error" must_fail 2 check --all --root "$R"
assert "--repair needs --root or --all" must_fail 2 check --repair
assert "a root that does not exist exits 10" must_fail 10 check --root "$SCRATCH/nope"

done_testing
