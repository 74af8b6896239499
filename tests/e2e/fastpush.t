#!/bin/bash
# The fast sealed push (docs/FASTPUSH.md): a sealed root receives into a
# hard-link clone of its newest snapshot instead of using --link-dest.
# Attribute-only changes (mode, xattr, owner) reach the new snapshot and
# never an older one; a plain rsync client that does not run the second
# pass gets nothing inexact published, and its next push completes it;
# names the client no longer sends are not published; an interrupted
# clone and an interrupted push end in an exact snapshot, history intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sealed.sh"

sealed_setup
start_sealer
sealed_account f
acct=$ACCOUNT
start_sshd forcecommand "$acct"
conf=$(ssh_conf "$acct")

src="$SCRATCH/src"
mkdir -p "$src/docs/deep/er" "$src/bin" "$src/gone"
echo "mode" >"$src/docs/mode.txt"
echo "xattr" >"$src/docs/xattr.txt"
echo "owner" >"$src/docs/owner.txt"
echo "still" >"$src/docs/deep/er/still.txt"
echo "old" >"$src/gone/old.txt"
random_file "$src/bin/blob" 32
chmod 644 "$src/docs/mode.txt"
setfattr -n user.note -v one "$src/docs/xattr.txt"
chown 4321:4321 "$src/docs/owner.txt"
ln -s ../docs/mode.txt "$src/bin/link"
ln "$src/bin/blob" "$src/bin/blob-link"

# every snapshot so far, as tree_state sees it (content, modes, owners, xattrs, inodes)
save_history() {
	local s
	: >"$SCRATCH/history.state"
	for s in $(snapshots "$ROOT"); do tree_state "$ROOT/$s" >>"$SCRATCH/history.state"; done
	snapshots "$ROOT" >"$SCRATCH/history.names"
}
history_unchanged() {
	local s now="$SCRATCH/history.now"
	: >"$now"
	for s in $(cat "$SCRATCH/history.names"); do tree_state "$ROOT/$s" >>"$now"; done
	cmp -s "$SCRATCH/history.state" "$now" && return 0
	echo "history changed:"
	diff "$SCRATCH/history.state" "$now" | head -20
	return 1
}
newest() { snapshots "$ROOT" | tail -1; }
exact() { same_as_source "$src" "$ROOT/$(newest)$src" -AXH --numeric-ids -M--fake-super; }
plain_push() { rsync -aAXH --numeric-ids --relative --delete --delete-excluded -e "ssh -F $conf" "$@" "$src" server:; }

# ---------------------------------------------------------------- the clone

assert "a first push to the sealed root succeeds" succeeds push_as "$acct" "$src"
first=$(newest)
assert "an unchanged second push succeeds" succeeds push_as "$acct" "$src"
second=$(newest)
assert "... and publishes a second snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" 2
assert "... it took the fast path: work/clone records the clone of the first" \
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone")" "$first"
assert "... unchanged files share one inode across the snapshots" \
	same_inode "$ROOT/$first$src/bin/blob" "$ROOT/$second$src/docs/../bin/blob"
assert "... fully sealed" fully_sealed "$ROOT/$second"
assert "... exact" exact
assert "... hard links stay one inode" same_inode "$ROOT/$second$src/bin/blob" "$ROOT/$second$src/bin/blob-link"

# ---------------------------------------------------------------- attributes only

save_history
chmod 600 "$src/docs/mode.txt"
assert "a mode-only change (same content and mtime) is pushed" succeeds push_as "$acct" "$src"
third=$(newest)
assert "... one new snapshot (the second pass ran inside one backup)" \
	is_eq "$(snapshots "$ROOT" | wc -l)" 3
assert "... it has the new mode" is_eq "$(stored_mode "$ROOT/$third$src/docs/mode.txt")" 600
assert "... every older snapshot keeps the old one" \
	is_eq "$(stored_mode "$ROOT/$first$src/docs/mode.txt") $(stored_mode "$ROOT/$second$src/docs/mode.txt")" "644 644"
assert "... both passes took the fast path (work/clone still names the clone of the second)" \
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone" 2>&1)" "$second"
assert "... on an inode of its own" other_inode "$ROOT/$second$src/docs/mode.txt" "$ROOT/$third$src/docs/mode.txt"
assert "... history is unchanged (contents, modes, owners, xattrs, inodes)" history_unchanged
assert "... fully sealed" fully_sealed "$ROOT/$third"
assert "... exact" exact

save_history
setfattr -n user.note -v two "$src/docs/xattr.txt"
assert "an xattr-only change is pushed" succeeds push_as "$acct" "$src"
fourth=$(newest)
assert "... both passes took the fast path" \
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone" 2>&1)" "$third"
assert "... the new snapshot has the new value" \
	is_eq "$(getfattr --absolute-names --only-values -n user.note "$ROOT/$fourth$src/docs/xattr.txt")" two
assert "... every older snapshot keeps the old one" \
	is_eq "$(for s in $first $second $third; do getfattr --absolute-names --only-values -n user.note "$ROOT/$s$src/docs/xattr.txt"; echo; done | tr '\n' ' ')" "one one one "
assert "... history is unchanged" history_unchanged
assert "... exact" exact

save_history
chown 5555:4321 "$src/docs/owner.txt"
assert "an owner-only change pushed by a root client (--numeric-ids) is pushed" succeeds push_as "$acct" "$src"
fifth=$(newest)
assert "... both passes took the fast path" \
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone" 2>&1)" "$fourth"
assert "... the new snapshot records the new owner" \
	is_eq "$(stored_owner "$ROOT/$fifth$src/docs/owner.txt")" "5555:4321"
assert "... every older snapshot keeps the old one" \
	is_eq "$(for s in $first $second $third $fourth; do stored_owner "$ROOT/$s$src/docs/owner.txt"; done | tr '\n' ' ')" "4321:4321 4321:4321 4321:4321 4321:4321 "
assert "... history is unchanged" history_unchanged
assert "... exact" exact

# ---------------------------------------------------------------- a plain rsync client

save_history
chmod 640 "$src/docs/mode.txt"
n=$(snapshots "$ROOT" | wc -l)
assert "a plain rsync client's push with a mode-only change ends with exit 15" must_exit 15 plain_push
assert "... saying to run it again" last_err_has "1 file changed only attributes; not published yet: run the push again to finish"
assert "... and publishes nothing" is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
assert "... history is unchanged" history_unchanged
assert "its next push completes it" succeeds plain_push
assert "... publishing one snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" "$((n + 1))"
assert "... with the new mode" is_eq "$(stored_mode "$ROOT/$(newest)$src/docs/mode.txt")" 640
assert "... exact" exact
assert "... history is unchanged" history_unchanged

# ---------------------------------------------------------------- names no longer sent

save_history
n=$(snapshots "$ROOT" | wc -l)
assert "a push of fewer sources (a --relative parent rsync does not reconcile) succeeds" \
	succeeds push_as "$acct" "$src/docs" "$src/bin"
assert "... publishing one snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" "$((n + 1))"
assert "... by the --link-dest way: the fast pass could not prove the tree exact" \
	absent "$ROOT/.hindsight/work/clone"
assert "... without the source no longer sent" absent "$ROOT/$(newest)$src/gone"
assert "... with what was sent" exists "$ROOT/$(newest)$src/docs/deep/er/still.txt"
assert "... history is unchanged" history_unchanged
assert "the push after it takes the fast path again" succeeds push_as "$acct" "$src"
assert "... work/clone names the snapshot before it" \
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone")" "$(snapshots "$ROOT" | tail -2 | head -1)"
assert "... exact" exact

# ---------------------------------------------------------------- crashes

save_history
last=$(newest)
# what a kill -9 during the clone leaves: part of the tree, no record
rm -f "$ROOT/.hindsight/work/clone"
as_account "$acct" mkdir -p "$ROOT/inprogress$src/docs"
as_account "$acct" ln "$ROOT/$last$src/docs/mode.txt" "$ROOT/inprogress$src/docs/mode.txt"
echo "new" >"$src/docs/new.txt"
assert "a push after an interrupted clone succeeds" succeeds push_as "$acct" "$src"
assert "... exact" exact
assert "... history is unchanged" history_unchanged

save_history
mkdir -p "$src/many"
for i in $(seq 10 59); do random_file "$src/many/f$i" 100; done
bg "$SCRATCH/slow.log" plain_push --bwlimit=500
pid=$BG_PID
if ! wait_until 60 bash -c "[ \$(find '$ROOT/inprogress' -path '*/many/*' -type f ! -name '.*' | wc -l) -ge 5 ]"; then
	kill -9 "$pid"
	fatal "the slow push never got going" "$(cat "$SCRATCH/slow.log")"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
wait_until 60 lock_is_free "$ROOT"
n=$(snapshots "$ROOT" | wc -l)
assert "a push killed during rsync publishes nothing" is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
assert "... and leaves its clone record for the resume" test -s "$ROOT/.hindsight/work/clone"
assert "the next push resumes and publishes" succeeds push_as "$acct" "$src"
assert "... one snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" "$((n + 1))"
assert "... fully sealed" fully_sealed "$ROOT/$(newest)"
assert "... exact" exact
assert "... history is unchanged" history_unchanged

# ---------------------------------------------------------------- a destination below the top

sub_push() { rsync -aAXH --numeric-ids --relative --delete --delete-excluded -e "ssh -F $conf" "$src" server:sub/dir; }
assert "a push into server:sub/dir succeeds" succeeds sub_push
save_history
chmod 604 "$src/docs/mode.txt"
assert "a mode-only change pushed into server:sub/dir ends with exit 15" must_exit 15 sub_push
assert "... it took the fast path for that destination" \
	is_eq "$(sed -n 3p "$ROOT/.hindsight/work/clone")" "sub/dir"
assert "... history is unchanged" history_unchanged
assert "the push again publishes" succeeds sub_push
assert "... holding the tree below sub/dir, exact" \
	same_as_source "$src" "$ROOT/$(newest)/sub/dir$src" -AXH --numeric-ids -M--fake-super
assert "... with the new mode" is_eq "$(stored_mode "$ROOT/$(newest)/sub/dir$src/docs/mode.txt")" 604
assert "... history is unchanged" history_unchanged

done_testing
