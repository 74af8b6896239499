#!/bin/bash
# Retention: `hindsight-server prune` shows every snapshot with keep or
# delete and its rule, deletes through the trash, honours pins and the link
# basis of a push, finishes an interrupted deletion, and thinning after a
# publish never breaks the hard-link chain. Local roots (the same server
# code as over ssh; space.t covers ssh), moved in time with --now.
. "$(dirname "$0")/lib.sh"

R="$SCRATCH/root"
SRC="$SCRATCH/src"
CONF="$SCRATCH/server.conf"
PRUNE=("$HS_SERVER" prune --config "$CONF")

push() { "$HS_CLIENT" backup --repo "$R" "$SRC"; }

# rename_snapshot ROOT OLD NEW: give a snapshot an older name (with its
# metadata), as if it had been made then, and point current at the newest.
rename_snapshot() {
	mv "$1/$2" "$1/$3" &&
		mv "$1/.hindsight/snapshots/$2.json" "$1/.hindsight/snapshots/$3.json" &&
		ln -sfn "$(snapshots "$1" | tail -n 1)" "$1/current"
}

log_has() { grep -q -- "$2" "$1/.hindsight/log" || { echo "log lacks '$2':"; cat "$1/.hindsight/log"; return 1; }; }
out_line() { grep -q -- "$1" "$LAST_OUT" || { echo "stdout lacks '$1':"; cat "$LAST_OUT"; return 1; }; }
trash_empty() { is_eq "$(ls -A "$1/.hindsight/trash")" ""; }

# ------------------------------------------------------------ a history

mkdir -p "$SRC/docs"
for i in 1 2 3 4 5; do random_file "$SRC/docs/f$i" 8; done
# no thinning while the history is made
printf '[server]\nkeep = forever:all\n' >"$CONF"
export HINDSIGHT_SERVER_CONF="$CONF"
A=2026_01_05_10_00_00   # Monday
B=2026_01_07_10_00_00   # Wednesday
C=2026_01_11_09_00_00   # Sunday morning
D=2026_01_11_22_00_00   # Sunday evening
E=2026_01_12_11_00_00   # Monday, the newest
for n in A B C D E; do
	echo "$n" >"$SRC/docs/changing"
	push >/dev/null 2>&1 || fatal "push for $n"
	rename_snapshot "$R" "$(snapshots "$R" | tail -n 1)" "${!n}" || fatal "rename $n"
	sleep 1
done
is_eq "$(snapshots "$R" | tr '\n' ' ')" "$A $B $C $D $E " >/dev/null || fatal "history"
unset HINDSIGHT_SERVER_CONF
: >"$CONF"

# ------------------------------------------------------------ dry run

tree_state "$R" >"$SCRATCH/state0"
NOW1=2026-01-12T12:00:00Z
assert "prune --dry-run exits 0" succeeds "${PRUNE[@]}" --root "$R" --dry-run --now "$NOW1"
assert "it names the root, the account's policy and the moment" \
	out_line "$R: account root, keep 24h:all 30d:daily forever:weekly, at 2026-01-12T12:00:00Z"
assert "the newest is kept as the newest" out_line "$E  keep    newest snapshot"
assert "a snapshot 14h old is kept by 24h:all" out_line "$D  keep    24h:all$"
assert "Sunday morning goes: Sunday evening is the newest of that day" \
	out_line "$C  delete  30d:daily, $D is the newest of 2026-01-11"
assert "Wednesday is kept as the newest of its day" out_line "$B  keep    30d:daily, newest of 2026-01-07"
assert "it lists the pins (none)" out_line "pinned: none"
assert "it says what it would delete" out_line "would delete 1 snapshot (dry run)"
assert "a dry run changes nothing in the root" same_tree_state "$SCRATCH/state0" "$R"

assert "prune --dry-run --json exits 0" succeeds "${PRUNE[@]}" --root "$R" --dry-run --now "$NOW1" --json
assert "the JSON gives every snapshot an action and a reason" \
	jq -e '.roots[0].snapshots | length == 5 and all(.action and (.reason | length > 0))' "$LAST_OUT"
assert "the JSON deletes exactly Sunday morning" \
	jq -e --arg c "$C" '[.roots[0].snapshots[] | select(.action == "delete") | .name] == [$c]' "$LAST_OUT"

# ------------------------------------------------------------ prune for real

assert "prune exits 0" succeeds "${PRUNE[@]}" --root "$R" --now "$NOW1"
assert "it says what it deleted" out_line "deleted 1 snapshot, freed"
assert "Sunday morning is gone" is_eq "$(snapshots "$R" | tr '\n' ' ')" "$A $B $D $E "
assert "its metadata is gone with it" absent "$R/.hindsight/snapshots/$C.json"
assert "the trash is empty afterwards" trash_empty "$R"
assert "the log names what was pruned and why" log_has "$R" "pruned $C (30d:daily"
assert "current still names the newest" is_eq "$(readlink "$R/current")" "$E"
assert "pruning again at the same moment deletes nothing" \
	succeeds "${PRUNE[@]}" --root "$R" --now "$NOW1"
assert "... and says so" out_line "deleted 0 snapshots"

# ------------------------------------------------------------ pins

assert "pin exits 0" succeeds "$HS_SERVER" pin "$B" --root "$R"
assert "pin says so" out_line "$B pinned in $R"
assert "pinning again is harmless" succeeds "$HS_SERVER" pin "$B" --root "$R"
assert "pin of a snapshot that does not exist exits 10" \
	must_fail 10 "$HS_SERVER" pin 2025_01_01_00_00_00 --root "$R"
assert "pin of a root that does not exist exits 10" \
	must_fail 10 "$HS_SERVER" pin "$B" --root "$SCRATCH/nowhere"
NOW2=2026-03-01T00:00:00Z
assert "two months later, a dry run keeps the pinned one" \
	succeeds "${PRUNE[@]}" --root "$R" --now "$NOW2" --dry-run
assert "... for the reason that it is pinned" out_line "$B  keep    pinned"
assert "... and lists the pin" out_line "pinned: $B"
assert "... and thins Monday by the week's newest" \
	out_line "$A  delete  forever:weekly, $D is the newest of the week of 2026-01-05"
assert "hindsight list marks the pinned snapshot" succeeds "$HS_CLIENT" list --repo "$R"
assert "... with (pinned)" out_line "$B .*(pinned)"
assert "unpin exits 0" succeeds "$HS_SERVER" unpin "$B" --root "$R"
assert "unpin of one not pinned is harmless" succeeds "$HS_SERVER" unpin "$B" --root "$R"
assert "... and says it was not pinned" out_line "$B was not pinned"

# ------------------------------------------------------------ the basis of a push

printf '%s\n' "$A" >"$R/.hindsight/basis"
assert "a snapshot named in .hindsight/basis is kept" \
	succeeds "${PRUNE[@]}" --root "$R" --now "$NOW2" --dry-run
assert "... as the link basis of the push in progress" \
	out_line "$A  keep    link basis of the push in progress"
rm -f "$R/.hindsight/basis"

# ------------------------------------------------------------ bad input

printf '[server]\nkeep = 24h:all 30d:dayly\n' >"$CONF"
tree_state "$R" >"$SCRATCH/state1"
assert "prune with a broken server.conf exits 2" must_fail 2 "${PRUNE[@]}" --root "$R"
assert "... with one line naming file, line and the bad tier" \
	is_eq "$(cat "$LAST_ERR")" "hindsight-server: $CONF:2: keep: tier 2 \"30d:dayly\": keep must be all, hourly, daily, weekly, monthly, yearly or none"
assert "a push with a broken server.conf exits 1" \
	must_fail 1 env HINDSIGHT_SERVER_CONF="$CONF" "$HS_CLIENT" backup --repo "$R" "$SRC"
assert "... and says the server configuration is bad, naming the line" last_err_has "$CONF:2"
assert "... and nothing in the root changed" same_tree_state "$SCRATCH/state1" "$R"
assert "check reports the broken server.conf and exits 1" \
	must_fail 1 "$HS_SERVER" check --config "$CONF"
assert "... as an error naming the line" out_line "^error: $CONF:2: keep: tier 2"
: >"$CONF"
assert "prune of a missing root exits 10" must_fail 10 "${PRUNE[@]}" --root "$SCRATCH/nowhere"
assert "prune --now with a bad time exits 2" must_fail 2 "${PRUNE[@]}" --root "$R" --now "someday"
assert "prune --root and --all together exit 2" must_fail 2 "${PRUNE[@]}" --root "$R" --all
assert "prune --root relative exits 2" must_fail 2 "${PRUNE[@]}" --root relative/dir

# ------------------------------------------------------------ --all

BASE="$SCRATCH/base"
mkdir -p "$BASE/notaroot"
cp -a "$R" "$BASE/one"
cp -a "$R" "$BASE/two"
printf '[server]\nbase = %s\n[account two]\nkeep = forever:all\n' "$BASE" >"$CONF"
assert "prune --all --dry-run exits 0" succeeds "${PRUNE[@]}" --all --dry-run --now "$NOW2"
assert "it covers every root under the base" \
	is_eq "$(grep -c '^/.*: account ' "$LAST_OUT")" 2
assert "an account's own policy applies to it" out_line "$BASE/two: account two, keep forever:all"
assert "the others get the server's" out_line "$BASE/one: account one, keep 24h:all 30d:daily forever:weekly"
: >"$CONF"

# ------------------------------------------------------------ after a publish

# thinning runs after every publish; a history older than 30 days goes,
# but the push that thins it has already linked against the newest
printf '[server]\nkeep = 30d:all\n' >"$CONF"
export HINDSIGHT_SERVER_CONF="$CONF"
assert "a push with keep = 30d:all exits 0" succeeds push
F=$(snapshots "$R" | tail -n 1)
assert "the push thinned every snapshot older than 30 days" is_eq "$(snapshots "$R")" "$F"
assert "the log says so" log_has "$R" "pruned $E (older than the last tier (30d:all))"
assert "the trash is empty" trash_empty "$R"
assert "the next push of an unchanged tree exits 0" succeeds push
G=$(snapshots "$R" | tail -n 1)
assert "it transferred no file" jq -e '.files_transferred == 0' "$R/.hindsight/snapshots/$G.json"
for f in f1 f2 f3 f4 f5 changing; do
	assert "after the thinning, docs/$f still links to the previous snapshot" \
		same_inode "$R/$F$SRC/docs/$f" "$R/$G$SRC/docs/$f"
done
assert "hindsight list marks the older one as thinned next (in 24h, not the day's newest)" \
	succeeds "$HS_CLIENT" list --repo "$R"
assert "... (thinned next)" out_line "$F .*(thinned next)"
assert "... and a retention line" out_line "retention 30d:all: the next thinning, in"
unset HINDSIGHT_SERVER_CONF
: >"$CONF"

# ------------------------------------------------------------ kill -9 mid-deletion

BIG="$SCRATCH/big"
mkdir -p "$BIG/d1" "$BIG/d40"
random_file "$BIG/d1/first" 1
random_file "$BIG/d40/last" 1
R2="$SCRATCH/root2"
printf '[server]\nkeep = forever:all\n' >"$CONF"
export HINDSIGHT_SERVER_CONF="$CONF"
"$HS_CLIENT" backup --repo "$R2" "$BIG" >/dev/null 2>&1 || fatal "big push"
OLD=2026_01_01_00_00_00
rename_snapshot "$R2" "$(snapshots "$R2")" "$OLD" || fatal "rename big"
echo new >"$BIG/d1/first"
"$HS_CLIENT" backup --repo "$R2" "$BIG" >/dev/null 2>&1 || fatal "second big push"
NEWEST=$(snapshots "$R2" | tail -n 1)
unset HINDSIGHT_SERVER_CONF
# 200k more names in the old snapshot (hard links: quick to make, each one
# an unlink to delete), so that the kill lands in the middle
python3 - "$R2/$OLD/many" <<'PY' || fatal "make 200k links"
import os, sys
top = sys.argv[1]
for t in range(4):
    d = os.path.join(top, "t%d" % t)
    os.makedirs(d)
    target = os.path.join(d, "target")
    open(target, "w").close()
    for i in range(50000):
        if i % 1000 == 0:
            sub = os.path.join(d, "s%d" % (i // 1000))
            os.mkdir(sub)
        os.link(target, os.path.join(sub, "l%d" % i))
PY
printf '[server]\nkeep = 30d:all\n' >"$CONF"

# the watcher: a snapshot in the listing always has its first and last file
cat >"$SCRATCH/watch.sh" <<EOF
while [ ! -e "$SCRATCH/stop" ]; do
	if [ -d "$R2/$OLD" ] && { [ ! -e "$R2/$OLD$BIG/d1/first" ] || [ ! -e "$R2/$OLD$BIG/d40/last" ]; } && [ -d "$R2/$OLD" ]; then
		echo "half-deleted snapshot listed"; exit 1
	fi
done
exit 0
EOF
bash "$SCRATCH/watch.sh" >"$SCRATCH/watch.out" 2>&1 &
WATCH=$!
bg "$SCRATCH/prune.log" "${PRUNE[@]}" --root "$R2" --now 2027-06-01
PPID_=$BG_PID
# as soon as the snapshot is in the trash: a busy loop, not a 0.1 s poll
for _ in $(seq 200000); do
	[ -n "$(ls -A "$R2/.hindsight/trash")" ] && break
done
kill -9 "$PPID_" 2>/dev/null
wait "$PPID_" 2>/dev/null
touch "$SCRATCH/stop"
wait "$WATCH"
WRC=$?
assert "the snapshot left the listing in one step (old one gone, newest there)" \
	is_eq "$(snapshots "$R2")" "$NEWEST"
assert "the killed prune left its deletion half done in the trash" \
	bash -c "[ -n \"\$(ls -A '$R2/.hindsight/trash')\" ]"
assert "no listing during the deletion showed a half-deleted snapshot" is_eq "$WRC" 0
assert "prune again exits 0" succeeds "${PRUNE[@]}" --root "$R2" --now 2027-06-01
assert "... and the interrupted deletion is complete" trash_empty "$R2"
assert "the newest snapshot is whole" same_as_source "$BIG" "$R2/$NEWEST$BIG"
: >"$CONF"

done_testing
