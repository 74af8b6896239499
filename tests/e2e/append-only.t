#!/bin/bash
# Append-only under a hostile client: every completed snapshot is
# identical, inode for inode, before and after a series of hostile pushes
# made with stock rsync over a real sshd to an unprivileged account.
# Identical means lib.sh's tree_state: inode, content, mode, owner, group,
# mtime and every xattr (which on an unprivileged server also hold the
# owners and modes rsync's --fake-super records).
#
# The pushes change one attribute at a time (mode, mtime, xattrs, owner),
# change content without changing size or mtime (what rsync's quick check
# cannot see), ask for options that would write through hard links (each
# refused by serve with 12), are killed with SIGKILL and resumed after
# attribute changes to the files the interrupted tree shares with history,
# delete everything, or only pretend (a dry run). After each, unchanged
# files in the newest snapshot must still share their inode with the
# snapshot before: history is kept by refusing to write, not by copying.
#
# The same options sent as raw command lines, without a real client, are
# in hostile.t.
. "$(dirname "$0")/lib.sh"

SRC="$SCRATCH/src/data"
NEW_FILES=60     # of 64 KiB each: about 4 s at --bwlimit=1000

# ---------------------------------------------------------------- source

# The first tree: files with xattrs, several owners and modes (setuid
# too), a hard-linked pair, a symlink, an empty file, nested directories.
# keep/ is never changed, so its files must be shared by every snapshot.
make_source() {
	local i
	mkdir -p "$SRC/keep/deep" "$SRC/work" "$SRC/bin"
	for i in 1 2 3 4 5; do
		random_file "$SRC/keep/k$i" 4
		setfattr -n user.tag -v "keep-$i" "$SRC/keep/k$i"
	done
	random_file "$SRC/keep/deep/d1" 12
	chown 1234:2345 "$SRC/keep/k2"
	chmod 640 "$SRC/keep/k3"
	: >"$SRC/keep/empty"
	ln -s ../work/w1 "$SRC/keep/link"
	ln "$SRC/keep/k5" "$SRC/keep/k5.hardlink"
	for i in 1 2 3 4 5 6 7 8 9; do
		random_file "$SRC/work/w$i" 8
		setfattr -n user.tag -v "work-$i" "$SRC/work/w$i"
		setfattr -n user.other -v "x$i" "$SRC/work/w$i"
		chmod 644 "$SRC/work/w$i"
	done
	chown 3000:3001 "$SRC/work/w4" "$SRC/work/w9"
	printf '#!/bin/sh\necho hi\n' >"$SRC/bin/tool"
	chmod 4755 "$SRC/bin/tool"
	chmod 750 "$SRC/work"
	touch -d '2020-01-02 03:04:05' "$SRC/keep/k1"
}

# ---------------------------------------------------------------- pushes

# ssh-rc: ssh, recording its exit status (serve's, when serve ran) in
# $SCRATCH/serve.rc, so that a refusal's code can be told from rsync's own
# (the client reports 12 for any connection that closes early).
cat >"$SCRATCH/ssh-rc" <<EOF
#!/bin/sh
ssh "\$@"
rc=\$?
echo \$rc >"$SCRATCH/serve.rc"
exit \$rc
EOF
chmod 755 "$SCRATCH/ssh-rc"

# push [RSYNC-OPTION...]: what a stock client sends, plus the options.
push() {
	rm -f "$SCRATCH/serve.rc"
	timeout 120 rsync -aAXH --numeric-ids --delete "$@" -e "$SCRATCH/ssh-rc -F $CONF" "$SRC" server:
}

serve_exited() {
	local got
	got=$(cat "$SCRATCH/serve.rc" 2>/dev/null)
	is_eq "${got:-none}" "$1"
}

newest() { snapshots "$ROOT" | tail -n 1; }
previous() { snapshots "$ROOT" | tail -n 2 | head -n 1; }
count() { snapshots "$ROOT" | wc -l; }

# record: save the tree_state of every completed snapshot not saved yet.
record() {
	local s
	for s in $(snapshots "$ROOT"); do
		[ -f "$SCRATCH/state.$s" ] || tree_state "$ROOT/$s" >"$SCRATCH/state.$s"
	done
}

# history_intact: every saved snapshot still exists and is identical.
history_intact() {
	local f s
	for f in "$SCRATCH"/state.*; do
		[ -f "$f" ] || continue
		s=${f##*/state.}
		[ -d "$ROOT/$s" ] || { echo "snapshot $s is gone"; return 1; }
		same_tree_state "$f" "$ROOT/$s" || { echo "(snapshot $s)"; return 1; }
	done
}

# keep_shared: every file of keep/ in the newest snapshot is the inode
# of the one before (unchanged files are linked, not copied).
keep_shared() {
	local new prev f
	new=$(newest)
	prev=$(previous)
	[ "$new" != "$prev" ] || { echo "only one snapshot"; return 1; }
	for f in k1 k2 k3 k4 k5 k5.hardlink empty deep/d1; do
		same_inode "$ROOT/$prev/data/keep/$f" "$ROOT/$new/data/keep/$f" || return 1
	done
}

one_more() { is_eq "$(count)" $(($1 + 1)); }
none_more() { is_eq "$(count)" "$1"; }

# equals_source: the newest snapshot holds exactly the source (modes and
# owners as --fake-super recorded them).
equals_source() {
	same_as_source "$SRC" "$ROOT/$(newest)/data" -AXH --numeric-ids -M--fake-super
}

# published LABEL N: the push just made published one snapshot equal to
# the source, history is intact, keep/ is shared. Records the new one.
published() {
	local label=$1 n=$2
	assert "$label: serve exited 0" serve_exited 0
	assert "$label: one new snapshot" one_more "$n"
	assert "$label: the new snapshot equals the source" equals_source
	assert "$label: every earlier snapshot is identical, inode for inode" history_intact
	[ "$n" -gt 0 ] &&
		assert "$label: unchanged files still share their inode with the previous snapshot" keep_shared
	record
}

# ---------------------------------------------------------------- setup

new_account a
ACC=$ACCOUNT
ROOT=$(home_of "$ACC")
start_sshd forcecommand "$ACC"
CONF=$(ssh_conf "$ACC")
make_source

n=$(count)
assert "a first push of a tree with xattrs, owners and modes exits 0" succeeds push
published "push 1" "$n"
assert "the snapshot records the owner 1234:2345 of keep/k2" \
	is_eq "$(stored_owner "$ROOT/$(newest)/data/keep/k2")" 1234:2345
assert "the snapshot records the setuid mode 4755 of bin/tool" \
	is_eq "$(stored_mode "$ROOT/$(newest)/data/bin/tool")" 4755
assert "the snapshot holds the xattr user.tag of keep/k1" \
	is_eq "$(getfattr --absolute-names --only-values -n user.tag "$ROOT/$(newest)/data/keep/k1")" keep-1

echo "second version" >>"$SRC/work/w1"
random_file "$SRC/work/new2" 4
n=$(count)
assert "a second push exits 0" succeeds push
published "push 2" "$n"

rm "$SRC/work/new2"
echo "third version" >>"$SRC/work/w1"
n=$(count)
assert "a third push exits 0" succeeds push
published "push 3" "$n"
assert "three snapshots to guard" is_eq "$(count)" 3

# ---------------------------------------------------------------- attributes

# attr_push LABEL FILE CHECK...: after changing FILE's attribute, a push
# publishes a snapshot where FILE is a new inode (the old one untouched).
attr_push() {
	local label=$1 f=$2 n
	n=$(count)
	assert "$label: the push exits 0" succeeds push
	published "$label" "$n"
	assert "$label: $f is a new inode in the new snapshot" \
		other_inode "$ROOT/$(previous)/data/$f" "$ROOT/$(newest)/data/$f"
}

S3=$(newest)
chmod 600 "$SRC/work/w2"
attr_push "a mode-only change (chmod 644 -> 600)" work/w2
assert "... the new snapshot records 600" is_eq "$(stored_mode "$ROOT/$(newest)/data/work/w2")" 600
assert "... the snapshot before still records 644" is_eq "$(stored_mode "$ROOT/$S3/data/work/w2")" 644

chmod 755 "$SRC/work"
n=$(count)
assert "a directory mode-only change (750 -> 755): the push exits 0" succeeds push
published "a directory mode-only change" "$n"

PREV=$(newest)
touch -d '2001-02-03 04:05:06' "$SRC/work/w3"
attr_push "an mtime-only change (touch)" work/w3
assert "... the snapshot before keeps the old mtime" \
	is_eq "$(stat -c %Y "$ROOT/$PREV/data/work/w3")" "$(stat -c %Y "$ROOT/$S3/data/work/w3")"

PREV=$(newest)
setfattr -n user.tag -v hostile "$SRC/work/w5"
setfattr -x user.other "$SRC/work/w5"
attr_push "an xattr-only change (one changed, one removed)" work/w5
assert "... the snapshot before still holds the old xattr" \
	is_eq "$(getfattr --absolute-names --only-values -n user.tag "$ROOT/$PREV/data/work/w5")" work-5
assert "... and the removed one" \
	is_eq "$(getfattr --absolute-names --only-values -n user.other "$ROOT/$PREV/data/work/w5")" x5

PREV=$(newest)
chown 4242:4343 "$SRC/work/w4"
attr_push "an owner-only change (chown 3000:3001 -> 4242:4343, root client, --numeric-ids)" work/w4
assert "... the new snapshot records 4242:4343" \
	is_eq "$(stored_owner "$ROOT/$(newest)/data/work/w4")" 4242:4343
assert "... the snapshot before still records 3000:3001" \
	is_eq "$(stored_owner "$ROOT/$PREV/data/work/w4")" 3000:3001

# ---------------------------------------------------------------- quick check

# Same size, same mtime to the nanosecond, other bytes: rsync's quick
# check takes the file as unchanged and links the old inode. That is
# rsync's documented behaviour (use -c to catch it), and it must not
# reach history either.
PREV=$(newest)
old_sum=$(md5sum <"$SRC/work/w6")
touch -r "$SRC/work/w6" "$SCRATCH/w6.times"
head -c "$(stat -c %s "$SRC/work/w6")" /dev/urandom >"$SRC/work/w6.new"
cat "$SRC/work/w6.new" >"$SRC/work/w6"
touch -r "$SCRATCH/w6.times" "$SRC/work/w6"
n=$(count)
assert "same size and mtime, other content: the push exits 0" succeeds push
assert "... serve exited 0" serve_exited 0
assert "... one new snapshot" one_more "$n"
assert "... every earlier snapshot is identical, inode for inode" history_intact
assert "... the quick check linked the old inode (rsync's own behaviour)" \
	same_inode "$ROOT/$PREV/data/work/w6" "$ROOT/$(newest)/data/work/w6"
assert "... whose content is still the old one" \
	is_eq "$(md5sum <"$ROOT/$(newest)/data/work/w6")" "$old_sum"
assert "... unchanged files still share their inode" keep_shared
record
rm "$SRC/work/w6.new"

PREV=$(newest)
n=$(count)
assert "the same push with -c (--checksum) exits 0" succeeds push -c
published "the same push with -c" "$n"
assert "... the new content is a new inode" \
	other_inode "$ROOT/$PREV/data/work/w6" "$ROOT/$(newest)/data/work/w6"
assert "... and the snapshots before keep the old content" \
	is_eq "$(md5sum <"$ROOT/$PREV/data/work/w6")" "$old_sum"

# options a server must accept that rewrite every file it sends
chmod 640 "$SRC/work/w7"
n=$(count)
assert "a push with -I (--ignore-times) and --chmod=ugo+rwx exits 0" succeeds push -I --chmod=ugo+rwx
assert "... serve exited 0" serve_exited 0
assert "... one new snapshot" one_more "$n"
assert "... every earlier snapshot is identical, inode for inode" history_intact
assert "... the new snapshot records the forced mode 777" \
	is_eq "$(stored_mode "$ROOT/$(newest)/data/work/w7")" 777
record
# back to the source's own modes, so that later snapshots link again
n=$(count)
assert "a push with -I alone exits 0" succeeds push -I
assert "... serve exited 0" serve_exited 0
assert "... one new snapshot, equal to the source" eval 'one_more "$n" && equals_source'
assert "... every earlier snapshot is identical, inode for inode" history_intact
record

# ---------------------------------------------------------------- refused

tree_state "$ROOT" >"$SCRATCH/root.state"
echo "changed for the refused pushes" >>"$SRC/work/w8"
chmod 600 "$SRC/keep/k4"
while IFS=$'\t' read -r opt why; do
	n=$(count)
	assert "$opt: the client's rsync fails (12, the connection closed)" must_fail 12 push "$opt"
	assert "$opt: serve refused it with exit 12" serve_exited 12
	assert "$opt: the reason is given" last_err_has "hindsight-server: refused: .*$why"
	assert "$opt: nothing was published" none_more "$n"
	assert "$opt: the backup root is unchanged" same_tree_state "$SCRATCH/root.state" "$ROOT"
done <<'EOF'
--inplace	--inplace
--append	--append
--append-verify	--append
-U	-U \(--atimes\)
--atimes	-U \(--atimes\)
--link-dest=..	--link-dest
--link-dest=/	--link-dest
--copy-dest=..	--copy-dest
--compare-dest=..	--compare-dest
--temp-dir=/tmp	--temp-dir
--temp-dir=..	--temp-dir
--partial-dir=..	--partial-dir
--backup-dir=/tmp/hs-backup	--backup
--backup	--backup
--super	--super
--chown=0:0	--usermap
--secluded-args	secluded
--keep-dirlinks	-K
EOF
assert "every earlier snapshot is identical after the refused pushes" history_intact
chmod 644 "$SRC/keep/k4"

# ---------------------------------------------------------------- kill -9

# Interrupt a slow push, then change attributes (and data) of files that
# the interrupted tree shares with history: rsync applies attribute
# changes in place when a destination file already exists, so a resume
# that received on top of the interrupted tree would write through the
# hard links into every snapshot.
mkdir -p "$SRC/new"
for i in $(seq -w 1 "$NEW_FILES"); do
	head -c 65536 /dev/urandom >"$SRC/new/n$i"
done
n=$(count)
# rsync itself in the background (not under timeout), so that the kill
# reaches it; --bwlimit bounds how long it could run
bg "$SCRATCH/slow.log" rsync -aAXH --numeric-ids --delete --bwlimit=1000 \
	-e "ssh -F $CONF" "$SRC" server:
slow=$BG_PID
if ! wait_until 60 bash -c "[ \$(find '$ROOT/inprogress/data/new' -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l) -ge 5 ]"; then
	kill -9 "$slow" 2>/dev/null
	fatal "the slow push never got going" "$(cat "$SCRATCH/slow.log")"
fi
# (the shell's "Killed" notice goes to /dev/null with the rest of stderr)
exec 3>&2 2>/dev/null
kill -9 "$slow"
wait "$slow"
rc=$?
exec 2>&3 3>&-
assert "a slow push is killed with SIGKILL mid-transfer (exit 137)" is_eq "$rc" 137
assert "... the server gives the lock back" wait_until 60 lock_is_free "$ROOT"
assert "... nothing was published" none_more "$n"
assert "... the interrupted tree shares keep/k1 with history (what a resume must not write through)" \
	same_inode "$ROOT/inprogress/data/keep/k1" "$ROOT/$(newest)/data/keep/k1"
assert "... every earlier snapshot is identical" history_intact

PREV=$(newest)
chmod 600 "$SRC/keep/k1"
touch -d '1999-09-09 09:09:09' "$SRC/keep/k2"
setfattr -n user.tag -v hostile "$SRC/keep/k3"
chown 777:778 "$SRC/keep/k4"
echo "appended" >>"$SRC/keep/deep/d1"
n=$(count)
assert "the resumed push, after attribute changes to shared files, exits 0" succeeds push
assert "... serve exited 0" serve_exited 0
assert "... one new snapshot, equal to the source" eval 'one_more "$n" && equals_source'
assert "... every earlier snapshot is identical, inode for inode" history_intact
for f in k1 k2 k3 k4 deep/d1; do
	assert "... the changed keep/$f is a new inode" \
		other_inode "$ROOT/$PREV/data/keep/$f" "$ROOT/$(newest)/data/keep/$f"
done
assert "... the unchanged keep/k5 still shares its inode" \
	same_inode "$ROOT/$PREV/data/keep/k5" "$ROOT/$(newest)/data/keep/k5"
assert "... the snapshot before still records mode 644 for keep/k1" \
	is_eq "$(stored_mode "$ROOT/$PREV/data/keep/k1")" 644
assert "... and user.tag keep-3 for keep/k3" \
	is_eq "$(getfattr --absolute-names --only-values -n user.tag "$ROOT/$PREV/data/keep/k3")" keep-3
assert "... the snapshot metadata says it resumed" \
	jq -e '.resumed >= 1 and .status == "complete"' "$ROOT/.hindsight/snapshots/$(newest).json"
record

n=$(count)
assert "one more push with no change exits 0" succeeds push
published "a push with no change" "$n"

# ---------------------------------------------------------------- dry run, delete

tree_state "$ROOT" >"$SCRATCH/root.state"
echo "only pretended" >>"$SRC/keep/k5"
chmod 700 "$SRC/keep/k3"
n=$(count)
assert "a dry run (-n) with changes exits 0" succeeds push -n
assert "... serve exited 0" serve_exited 0
assert "... nothing was published" none_more "$n"
assert "... the backup root is unchanged" same_tree_state "$SCRATCH/root.state" "$ROOT"

mkdir -p "$SCRATCH/empty/data"
n=$(count)
assert "a push of an empty tree with --delete exits 0" \
	succeeds timeout 120 rsync -aAXH --numeric-ids --delete --delete-excluded \
	-e "$SCRATCH/ssh-rc -F $CONF" "$SCRATCH/empty/data" server:
assert "... serve exited 0" serve_exited 0
assert "... one new snapshot" one_more "$n"
assert "... which is empty" is_eq "$(find "$ROOT/$(newest)/data" -mindepth 1 | wc -l)" 0
assert "... and every earlier snapshot is identical, inode for inode" history_intact
assert "... keep/k1 is still in the snapshot before" exists "$ROOT/$(previous)/data/keep/k1"

assert "no inprogress tree or resume basis is left" \
	eval 'absent "$ROOT/inprogress" && is_eq "$(ls -A "$ROOT/.hindsight/resume")" ""'
assert "in all, every snapshot ever completed is still there and identical" history_intact

done_testing
