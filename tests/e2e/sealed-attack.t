#!/bin/bash
# Sealed mode against code running as the account. Every way to change a
# sealed snapshot (write, truncate, chmod, chown, utime, setxattr,
# removexattr, unlink, rename, rmdir, link-then-modify, creating inside,
# replacing current), tried with the account's uid and groups (setpriv,
# no Landlock: as an exploit in serve itself would run), on every kind of
# inode a sealed snapshot holds, fails with EPERM or EACCES and changes
# nothing. The same while a push is being received (a compromised rsync).
# And what such code can leave in the tree being received — a file held
# open for writing, a symlink, a FIFO, a hard link to a system file — makes
# the sealer discard the push rather than seal it.
#
# The test build's HS_TEST_SEAL_GATE holds serve between rsync's end and
# the seal, so that the account can act right there.
HS_BIN=${HS_TEST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build-test}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sealed.sh"

[ -x /usr/bin/python3 ] || fatal "/usr/bin/python3 is installed (make deps)"
sealed_setup
start_sealer
sealed_account a
acct=$ACCOUNT
gate="$SCRATCH/gate"
mkdir -m 777 "$gate"
touch "$gate/go"
real_server=$HS_SERVER
HS_SERVER="/usr/bin/env HS_TEST_SEAL_GATE=$gate $real_server"
start_sshd forcecommand "$acct"
HS_SERVER=$real_server
conf=$(ssh_conf "$acct")

install -m 755 "$HS_SRCDIR/tests/e2e/sealed-try.py" "$SCRATCH/bin/try.py"
WORK="$ROOT/.hindsight/work"
try_as() { as_account "$acct" /usr/bin/python3 "$SCRATCH/bin/try.py" "$@"; }
# refused OP PATH: the account's attempt fails with EPERM or EACCES
refused() {
	local r
	r=$(try_as "$1" "$2" "$WORK" 2>&1)
	case $r in EPERM | EACCES) return 0 ;; esac
	echo "$1 $2: $r (wanted EPERM or EACCES)"
	return 1
}
# state: everything sealed history is, in one text (tree_state of each
# snapshot; the root's entries and what .hindsight holds, with inodes)
state() {
	local s
	for s in $(snapshots "$ROOT"); do tree_state "$ROOT/$s"; done
	stat -c '%i %a %u:%g %Y %n' "$ROOT" "$ROOT"/[0-9]* "$ROOT/.hindsight" \
		"$ROOT/.hindsight/lock" "$ROOT/.hindsight/snapshots"/*
	readlink "$ROOT/current"
}

src="$SCRATCH/src"
mkdir -p "$src/docs" "$src/bin" "$src/empty" "$src/many"
echo "report" >"$src/docs/report.txt"
random_file "$src/docs/photo.jpg" 32
ln "$src/docs/photo.jpg" "$src/docs/photo-link.jpg"
echo "tagged" >"$src/docs/tagged"
setfattr -n user.note -v "kept" "$src/docs/tagged"
ln -s ../docs/report.txt "$src/bin/report"
printf '#!/bin/sh\n' >"$src/bin/tool"
chmod 4755 "$src/bin/tool"
chmod 600 "$src/docs/report.txt"
chown -R 4321:4321 "$src/docs"
for i in $(seq 10 39); do random_file "$src/many/f$i" 100; done

assert "a first push seals a snapshot" succeeds push_as "$acct" "$src"
echo "new" >"$src/docs/new.txt"
sleep 1
assert "a second push seals another" succeeds push_as "$acct" "$src"
s1=$(snapshots "$ROOT" | head -1)
s2=$(snapshots "$ROOT" | tail -1)
S="$ROOT/$s2$src"
assert "... sharing the unchanged files' inodes with the first" \
	same_inode "$ROOT/$s1$src/docs/photo.jpg" "$S/docs/photo.jpg"
state >"$SCRATCH/state.0"
for s in "$s1" "$s2"; do tree_state "$ROOT/$s"; done >"$SCRATCH/hist.0"
same_state() {
	local now
	now=$(state)
	[ "$now" = "$(cat "$SCRATCH/state.0")" ] || { diff "$SCRATCH/state.0" <(echo "$now") | head -30; return 1; }
}
history_intact() {
	for s in "$s1" "$s2"; do tree_state "$ROOT/$s"; done | cmp -s - "$SCRATCH/hist.0" && return 0
	echo "history changed:"
	for s in "$s1" "$s2"; do tree_state "$ROOT/$s"; done | diff "$SCRATCH/hist.0" - | head -30
	return 1
}

# ---------------------------------------------------------------- every write

file_ops="write append truncate chmod chown utime touch setxattr set-rsync-stat removexattr unlink rename move-out link-then-write link-then-chmod link-then-chown link-then-setxattr"
dir_ops="chmod chown utime touch setxattr set-rsync-stat removexattr rename move-out rmdir create mkdir symlink-in mkfifo-in link-in"
for kind in "a file:$S/docs/report.txt" \
	"a hard-linked file (two names here, and in the first snapshot):$S/docs/photo.jpg" \
	"a file with xattrs:$S/docs/tagged" \
	"a setuid file:$S/bin/tool" \
	"a symlink (a file, as rsync --fake-super stores it):$S/bin/report"; do
	for op in $file_ops; do
		assert "${kind%%:*}: $op is refused" refused "$op" "${kind#*:}"
	done
done
for kind in "a directory:$S/docs" "an empty directory:$S/empty" "a snapshot's top:$ROOT/$s2" \
	"the backup root:$ROOT" "the snapshot metadata directory:$ROOT/.hindsight/snapshots"; do
	for op in $dir_ops; do
		[ "${kind#*:}" = "$ROOT" ] && case $op in rename | move-out | rmdir) continue ;; esac
		assert "${kind%%:*}: $op is refused" refused "$op" "${kind#*:}"
	done
done
for op in unlink rename move-out link-then-chown; do
	assert "current: $op is refused" refused "$op" "$ROOT/current"
done
replace_current() {
	as_account "$acct" ln -s "$s1" "$WORK/cur" || return 1
	if as_account "$acct" mv -T "$WORK/cur" "$ROOT/current" 2>"$SCRATCH/mv.err"; then
		echo "current was replaced"
		return 1
	fi
	rm -f "$WORK/cur"
	grep -q "Permission denied" "$SCRATCH/mv.err" || { cat "$SCRATCH/mv.err"; return 1; }
}
assert "current: replacing it by rename is refused (EACCES)" replace_current
for op in write truncate chmod unlink; do
	assert "the lock file: $op is refused" refused "$op" "$ROOT/.hindsight/lock"
	assert "a snapshot's metadata: $op is refused" refused "$op" "$ROOT/.hindsight/snapshots/$s2.json"
done
assert "every operation on every inode of both snapshots is refused (sealed-try.py all)" \
	try_as all "$WORK" "$ROOT/$s1" "$ROOT/$s2"
assert "after all that, nothing changed: data, modes, owners, times, xattrs, inodes" same_state

# ---------------------------------------------------------------- mid-push

for i in $(seq 40 69); do random_file "$src/many/f$i" 100; done
bg "$SCRATCH/slow.log" rsync -aAXH --numeric-ids --relative --bwlimit=300 -e "ssh -F $conf" "$src" server:
pid=$BG_PID
if ! wait_until 60 bash -c "[ \$(find '$ROOT/inprogress' -path '*/many/f4*' -type f ! -name '.*' | wc -l) -ge 2 ]"; then
	kill -9 "$pid"
	fatal "the slow push never got going" "$(cat "$SCRATCH/slow.log")"
fi
assert "while rsync receives, code running as the account is refused everything on history" \
	try_as all "$WORK" "$ROOT/$s1" "$ROOT/$s2"
assert "... and cannot write into .hindsight or the root either" \
	refused create "$ROOT/.hindsight"
assert "... the push was still running meanwhile" kill -0 "$pid"
wait "$pid"
assert "... which then completes (exit 0)" is_eq "$?" 0
s3=$(snapshots "$ROOT" | tail -1)
assert "... and is sealed" fully_sealed "$ROOT/$s3"
assert "the earlier sealed snapshots are identical before and after" history_intact

# ---------------------------------------------------------------- what the seal refuses

# gated ACTION...: push while serve waits at the gate, run ACTION there
# (as the account), let it go on; the push's exit code in $LAST_RC
gated() {
	rm -f "$gate/go" "$gate/ready"
	echo "gated $*" >>"$src/docs/new.txt"
	bg "$SCRATCH/gated.log" "$HS_CLIENT" backup --repo server: --ssh "ssh -F $conf" "$src"
	local p=$BG_PID
	wait_until 60 test -e "$gate/ready" || { kill -9 "$p"; fatal "serve never reached the gate" "$(cat "$SCRATCH/gated.log")"; }
	"$@"
	touch "$gate/go"
	wait "$p"
	LAST_RC=$?
	cp "$SCRATCH/gated.log" "$LAST_ERR"
}
n0=$(snapshots "$ROOT" | wc -l)
# a file of the account's in the received tree: the one that changed
recv() { find "$ROOT/inprogress" -path '*/docs/new.txt' | head -1; }
no_new_snapshot() { is_eq "$(snapshots "$ROOT" | wc -l)" "$n0"; }

holder() {
	bg "$SCRATCH/holder.log" setpriv --reuid "$acct" --regid "$acct" --init-groups \
		/usr/bin/python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
print("holding", flush=True)
time.sleep(30)
os.pwrite(fd, b"EVIL", 0)' "$(recv)"
	HOLDER=$BG_PID
	wait_until 5 grep -q holding "$SCRATCH/holder.log"
}
gated holder
assert "a file held open for writing across the seal: the push is refused (exit 12)" is_eq "$LAST_RC" 12
assert "... saying the tree was discarded because a file is open for writing" \
	last_err_has "discarded, not sealed: .*open for writing"
assert "... nothing is published" no_new_snapshot
assert "... and the sealer logged it" grep -q "account=$acct .*discarded: .*open for writing" "$SCRATCH/sealer.log"
kill "$HOLDER" 2>/dev/null

gated as_account "$acct" ln -s /etc/shadow "$ROOT/inprogress/planted"
assert "a symlink planted in the tree: the push is refused (exit 12)" is_eq "$LAST_RC" 12
assert "... naming the symlink" last_err_has "planted: a symlink, which rsync --fake-super never makes"
assert "... nothing published" no_new_snapshot

gated as_account "$acct" mkfifo "$ROOT/inprogress/fifo"
assert "a FIFO planted in the tree: the push is refused (exit 12)" is_eq "$LAST_RC" 12
assert "... naming the FIFO" last_err_has "a FIFO, which rsync --fake-super never makes"

passwd_state=$(stat -c '%i %u:%g %a %Y' /etc/passwd)
if [ "$(stat -c %d /etc/passwd)" = "$(stat -c %d "$ROOT")" ]; then
	gated as_account "$acct" ln /etc/passwd "$ROOT/inprogress/passwd"
	assert "a hard link to /etc/passwd planted in the tree: the push is refused (exit 12)" \
		is_eq "$LAST_RC" 12
	assert "... as somebody else's file" last_err_has "belongs to uid 0, gid 0, not to the account"
	assert "... and /etc/passwd keeps its owner and mode" \
		is_eq "$(stat -c '%i %u:%g %a %Y' /etc/passwd)" "$passwd_state"
else
	assert "# SKIP /etc is on another filesystem than the roots: no link to plant" true
fi
assert "after all that, sealed history is unchanged" history_intact
touch "$gate/go"
assert "and the next honest push seals as before" succeeds push_as "$acct" "$src"
assert "... fully sealed" fully_sealed "$ROOT/$(snapshots "$ROOT" | tail -1)"

done_testing
