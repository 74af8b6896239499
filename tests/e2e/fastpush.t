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
# cloned_ahead NAME: once the push's clone ahead is done (it holds the
# lock), inprogress/ is the next push's clone of NAME, marked as made ahead
cloned_ahead() {
	wait_until 10 lock_is_free "$ROOT" || { echo "the clone ahead still holds the lock"; return 1; }
	is_eq "$(head -1 "$ROOT/.hindsight/work/clone" 2>&1)" "$1" &&
		exists "$ROOT/.hindsight/work/ahead"
}
exact() { same_as_source "$src" "$ROOT/$(newest)$src" -AXH --numeric-ids -M--fake-super; }
plain_push() { rsync -aAXH --numeric-ids --relative --delete --delete-excluded -e "ssh -F $conf" "$@" "$src" server:; }

# ---------------------------------------------------------------- the clone

assert "a first push to the sealed root succeeds" succeeds push_as "$acct" "$src"
first=$(newest)
assert "an unchanged second push succeeds" succeeds push_as "$acct" "$src"
second=$(newest)
assert "... and publishes a second snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" 2
assert "... it took the fast path: the next push's clone is made ahead (work/clone, work/ahead)" \
	cloned_ahead "$second"
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
assert "... both passes took the fast path (only it asks for a second pass; only it clones ahead)" \
	cloned_ahead "$third"
assert "... on an inode of its own" other_inode "$ROOT/$second$src/docs/mode.txt" "$ROOT/$third$src/docs/mode.txt"
assert "... history is unchanged (contents, modes, owners, xattrs, inodes)" history_unchanged
assert "... fully sealed" fully_sealed "$ROOT/$third"
assert "... exact" exact

save_history
setfattr -n user.note -v two "$src/docs/xattr.txt"
assert "an xattr-only change is pushed" succeeds push_as "$acct" "$src"
fourth=$(newest)
assert "... both passes took the fast path" cloned_ahead "$fourth"
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
assert "... both passes took the fast path" cloned_ahead "$fifth"
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
	bash -c '! [ -e "$1/clone" ] && ! [ -e "$1/ahead" ]' - "$ROOT/.hindsight/work"
assert "... without the source no longer sent" absent "$ROOT/$(newest)$src/gone"
assert "... with what was sent" exists "$ROOT/$(newest)$src/docs/deep/er/still.txt"
assert "... history is unchanged" history_unchanged
assert "the push after it takes the fast path again" succeeds push_as "$acct" "$src"
assert "... and clones ahead again" cloned_ahead "$(newest)"
assert "... exact" exact

# ---------------------------------------------------------------- clone ahead
# A published fast push clones the new snapshot into inprogress/ for the
# next one, in a process of its own that holds the push lock meanwhile.

lock="$ROOT/.hindsight/lock"
hold_lock() {   # hold_lock INFO: the lock held for 3 s by a holder whose lock.info says INFO
	as_account "$acct" bash -c 'printf "%s\n" "$1" >"$2"' - "$1" "$ROOT/.hindsight/work/lock.info"
	as_account "$acct" flock "$lock" sleep 3 &
	HOLDER=$!
	wait_until 5 bash -c "! flock -n '$lock' true"
}
n=$(snapshots "$ROOT" | wc -l)
hold_lock "99999 $(date +%s)"
assert "a push while another holds the lock is refused (exit 11)" must_exit 11 push_as "$acct" "$src"
assert "... and publishes nothing" is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
wait "$HOLDER"
hold_lock "99999 $(date +%s) ahead"
assert "a push while a clone ahead holds the lock waits for it and succeeds" succeeds push_as "$acct" "$src"
assert "... publishing one snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" "$((n + 1))"
wait "$HOLDER"
assert "... and clones ahead in turn" cloned_ahead "$(newest)"
assert "status does not take the clone ahead for a push cut off" \
	succeeds "$HS_SERVER" status --root "$ROOT" --no-usage --config "$SEAL_CONF"
assert "... it says nothing of inprogress/" bash -c '! grep -q inprogress "$1"' - "$LAST_OUT"
assert "check --root finds nothing wrong" succeeds "$HS_SERVER" check --root "$ROOT" --config "$SEAL_CONF"
assert "an unchanged push after a clone ahead publishes an exact snapshot" succeeds push_as "$acct" "$src"
assert "... exact" exact
assert "... sharing every inode with the one before" \
	bash -c 'diff <(cd "$1" && find . -type f -printf "%P %i\n" | sort) <(cd "$2" && find . -type f -printf "%P %i\n" | sort)' - \
	"$ROOT/$(snapshots "$ROOT" | tail -2 | head -1)" "$ROOT/$(newest)"

# ---------------------------------------------------------------- crashes

save_history
last=$(newest)
# what a kill -9 during the clone leaves: part of the tree, no record
rm -rf "$ROOT/.hindsight/work/clone" "$ROOT/.hindsight/work/ahead" "$ROOT/inprogress/"*
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
assert "... and nothing else: the clone made ahead for the top was emptied first" \
	is_eq "$(ls -A "$ROOT/$(newest)")" "sub"
assert "... history is unchanged" history_unchanged

# ---------------------------------------------------------------- rsync's symlink walk
# A fast push runs rsync with --insecure-links (no per-component walk of
# every name) when the client sends --numeric-ids: the fence is then the
# vault's ownership of history and the Landlock ruleset, which lets rsync
# read and write only inprogress/ and its temp dir. These pushes lead
# rsync through symlinks the client itself put in the clone.

check_argv() {
	as_account "$acct" env SSH_ORIGINAL_COMMAND="$1" "$HS_SERVER" serve $HS_SERVE_ARGS --check
}
argv=$(check_argv "rsync --server -logDtprRe.iLsfxCIvu --delete --numeric-ids . .")
assert "a fast push with --numeric-ids runs rsync with --insecure-links" \
	bash -c 'grep -q -- " --insecure-links " <<<"$1"' - "$argv"
assert "... and not --confine-root, which rsync will not combine with it" \
	bash -c '! grep -q -- --confine-root <<<"$1"' - "$argv"
argv=$(check_argv "rsync --server -logDtprRe.iLsfxCIvu --delete . .")
assert "without --numeric-ids (rsync maps names: /etc/passwd) it keeps rsync's walk" \
	bash -c '! grep -q -- --insecure-links <<<"$1" && grep -q -- --confine-root <<<"$1"' - "$argv"
argv=$(check_argv "rsync --server -logDtprRe.iLsfxCIvu --numeric-ids . .")
assert "a push that takes the --link-dest way keeps it too" \
	bash -c '! grep -q -- --insecure-links <<<"$1"' - "$argv"

work="$ROOT/.hindsight/work"
ln -s "$work" "$src/esc"
ln -s "$ROOT/$first$src/docs" "$src/peek"
assert "a push of two symlinks, into work/ and into a snapshot, succeeds" succeeds push_as "$acct" "$src"
save_history
rm "$src/esc" "$src/peek"
mkdir "$src/esc" "$src/peek"
echo planted >"$src/esc/planted"
echo "not what history holds" >"$src/peek/mode.txt"
ls -A "$work" >"$SCRATCH/work.before"
n=$(snapshots "$ROOT" | wc -l)
esc_push() {
	rsync -aAXH --numeric-ids --relative --no-implied-dirs --delete -e "ssh -F $conf" \
		"$src/esc/planted" "$src/peek/mode.txt" server:
}
assert "a --no-implied-dirs push through them is not published (exit 15)" must_exit 15 esc_push
assert "... nothing was made in work/" absent "$work/planted"
assert "... work/ holds the names it held" bash -c 'ls -A "$1" | grep -vx slow | diff "$2" -' - "$work" "$SCRATCH/work.before"
assert "... the snapshot the symlink named is unchanged (all history is)" history_unchanged
assert "... no snapshot was published" is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
assert "the next push, the client's whole tree, publishes it exact" succeeds push_as "$acct" "$src"
assert "... with directories where the symlinks were" \
	is_eq "$(cat "$ROOT/$(newest)$src/esc/planted" "$ROOT/$(newest)$src/peek/mode.txt")" \
	"$(printf 'planted\nnot what history holds')"
assert "... exact" exact
assert "... history is unchanged" history_unchanged

done_testing
