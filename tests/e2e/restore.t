#!/bin/bash
# Restores: `hindsight restore` on the client and rsync's sender role behind
# `hindsight-server serve`, over a real sshd (ForceCommand in a Match block,
# unprivileged server accounts, a root client) and against local repos.
#
#  - Fidelity: a tree holding every kind of file and attribute a full-system
#    backup meets goes out with `hindsight backup` and comes back with
#    `hindsight restore --to`; rsync -naHAXc --numeric-ids -i between the two
#    prints nothing, and the 1 GiB sparse file is still sparse.
#  - Restore safety: nothing existing is replaced without --overwrite, a dry
#    run writes nothing, a time before the first snapshot or a missing path
#    exits 10, and no staging directory is left behind.
#  - Hostile reads: raw `rsync --server --sender` commands (and a few
#    queries) that try to read outside the completed snapshots exit 12 (or
#    10 for a path that simply is not there) with one line of reason,
#    nothing on stdout, and the backup root unchanged.
#  - A restore while a slow push runs works and reads only what is complete.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
# With a sanitizer build, a sanitizer's report must count as a crash, never
# as an expected "exit 1" (their default exit code): here it exits 199.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=199"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=199:print_stacktrace=1"
for _t in setfacl getfacl mkfifo truncate du dd stat cmp; do
	command -v "$_t" >/dev/null 2>&1 || fatal "$_t is installed (setfacl, getfacl: package acl)"
done

# ------------------------------------------------------------ helpers

# on WHERE VERB ARGS...: `hindsight VERB` against a repo. WHERE is
# ssh:ACCOUNT (that account behind our sshd) or a local repo directory.
on() {
	local where=$1 verb=$2
	shift 2
	case $where in
	ssh:*) "$HS_CLIENT" "$verb" --repo server: --ssh "ssh -F $(ssh_conf "${where#ssh:}")" "$@" ;;
	*) "$HS_CLIENT" "$verb" --repo "$where" "$@" ;;
	esac
}

root_of() { case $1 in ssh:*) home_of "${1#ssh:}" ;; *) echo "$1" ;; esac; }
label_of() { case $1 in ssh:*) echo ssh ;; *) echo local ;; esac; }

# raw WHERE CMD: CMD exactly as sshd would put it in SSH_ORIGINAL_COMMAND,
# over ssh or through the local transport.
raw() {
	case $1 in
	ssh:*) ssh -F "$(ssh_conf "${1#ssh:}")" server "$2" ;;
	*) env HINDSIGHT_ROOT="$1" "$HS_SERVER" local localhost "$2" ;;
	esac
}

# rsync_from WHERE ARGS...: a stock rsync client talking to the repo (the
# remote side is spelled server:).
rsync_from() {
	local where=$1
	shift
	case $where in
	ssh:*) rsync --rsh="ssh -F $(ssh_conf "${where#ssh:}")" "$@" ;;
	*) env HINDSIGHT_ROOT="$where" rsync --rsh="$HS_SERVER local" "$@" ;;
	esac
}

# nothing_differs SRC DST [RSYNC-OPTION...]: rsync -naHAXc --numeric-ids -i
# from SRC to DST prints nothing: same names, types, data, modes, owners,
# groups, mtimes (ns), hard links, ACLs and xattrs.
nothing_differs() {
	local src=$1 dst=$2 out
	shift 2
	out=$(rsync -naHAXc --numeric-ids -i "$@" "$src" "$dst" 2>&1) ||
		{ echo "rsync failed: $out"; return 1; }
	[ -z "$out" ] && return 0
	echo "rsync -naHAXc --numeric-ids -i $* $src $dst reports differences:"
	echo "$out" | head -40
	return 1
}

# is_sparse FILE: FILE is 1 GiB long but uses under 16 MiB on disk.
is_sparse() {
	local size kib
	size=$(stat -c %s -- "$1") || return 1
	kib=$(du -k -- "$1" | cut -f1)
	[ "$size" -eq 1073741824 ] && [ "$kib" -lt 16384 ] && return 0
	echo "$1: size $size, $kib KiB on disk (wanted 1073741824 bytes in under 16384 KiB)"
	return 1
}

# no_staging_left DIR...: no .hindsight-restore.* or
# .hindsight-restore-dry-run left anywhere below DIR.
no_staging_left() {
	local found
	found=$(find "$@" -name '.hindsight-restore*' 2>/dev/null)
	[ -z "$found" ] && return 0
	echo "left behind:"
	echo "$found"
	return 1
}

stdout_is_empty() {
	[ -s "$LAST_OUT" ] || return 0
	echo "stdout is not empty ($(wc -c <"$LAST_OUT") bytes):"
	head -c 300 "$LAST_OUT" | od -c | head -8
	return 1
}

# stderr_is_one_notfound REGEX: stderr is one line saying what is missing.
stderr_is_one_notfound() {
	if [ "$(wc -l <"$LAST_ERR")" -ne 1 ] || ! grep -Eq -- "^hindsight-server: no .*$1" "$LAST_ERR"; then
		echo "stderr is not one 'hindsight-server: no ...' line matching /$1/:"
		cat "$LAST_ERR"
		return 1
	fi
}

# symlink_is LINK TARGET [UID:GID]: LINK is a symlink to TARGET (owned so).
symlink_is() {
	[ -L "$1" ] || { echo "$1 is not a symlink:"; ls -ld "$1"; return 1; }
	is_eq "$(readlink -- "$1")" "$2" || return 1
	[ -z "${3:-}" ] || is_eq "$(stat -c %u:%g -- "$1")" "$3"
}

content_is() { is_eq "$(cat -- "$1")" "$2"; }

# shallow_state DIR: tree_state's line for DIR and for each entry in it
# (without reading file data).
shallow_state() {
	find "$1" -maxdepth 1 -printf '%i %m %U %G %T@ %s %y %p -> %l\n' | sort -k8
}

# same_text FILE TEXT: FILE holds TEXT (plus a final newline).
same_text() {
	printf '%s\n' "$2" | diff "$1" - | head -40
	[ "${PIPESTATUS[1]}" -eq 0 ]
}

# same_contents STATE DIR: like same_tree_state, but DIR's own entry (its
# mtime, which a staging directory made and removed in it changes) is left
# out: everything in it is exactly as it was.
same_contents() {
	local now="$SCRATCH/.state.now" was="$SCRATCH/.state.was"
	local not_top='!(NF == 9 && $7 == "d" && $8 == top && $9 == "->")'
	tree_state "$2" | awk -v top="$2" "$not_top" >"$now"
	awk -v top="$2" "$not_top" "$1" >"$was"
	cmp -s "$was" "$now" && return 0
	echo "the contents of $2 changed:"
	diff "$was" "$now" | head -40
	return 1
}

# ------------------------------------------------------------ filesystem
# Every file system here must keep user xattrs and POSIX ACLs: the client
# tree and restores (real ones, as root) and the server accounts' roots
# (rsync --fake-super records owners, modes, ACLs there as user.rsync.*).
# If the scratch file system cannot, everything goes on a loop-mounted ext4.

fs_has_xattrs_and_acls() {
	local f="$1/.fs-probe"
	: >"$f" && setfattr -n user.probe -v 1 "$f" 2>/dev/null &&
		setfacl -m u:1234:r "$f" 2>/dev/null
	local rc=$?
	rm -f "$f"
	return "$rc"
}

WORK=$SCRATCH
if [ "${HS_RESTORE_LOOPFS:-0}" = 1 ] || ! fs_has_xattrs_and_acls "$SCRATCH"; then
	diag "using a loop-mounted ext4 (HS_RESTORE_LOOPFS=1, or the scratch file system lacks user xattrs or ACLs)"
	WORK=$SCRATCH/fs
	mkdir -p "$WORK"
	truncate -s 4G "$SCRATCH/fs.img" && mkfs.ext4 -q -F "$SCRATCH/fs.img" ||
		fatal "make an ext4 image"
	mount -o loop "$SCRATCH/fs.img" "$WORK" || fatal "loop-mount the ext4 image"
	at_cleanup "umount '$WORK'"
	mkdir -p -m 755 "$WORK/home"
	mount --bind "$WORK/home" "$SCRATCH/home" || fatal "bind-mount the homes"
	at_cleanup "umount '$SCRATCH/home'"
	fs_has_xattrs_and_acls "$WORK" || fatal "the loop-mounted ext4 keeps user xattrs and ACLs"
fi
DATA=$WORK/data        # the client's files
REPOS=$WORK/repos      # local repos
OUT=$WORK/out          # where restores go
mkdir -p -m 755 "$DATA" "$REPOS" "$OUT"

# ------------------------------------------------------------ accounts

new_account s; S=$ACCOUNT       # receives the fidelity tree from the root client
new_account h; H=$ACCOUNT       # the root the hostile reads go for
new_account o; O=$ACCOUNT       # another account: off limits to $H
start_sshd forcecommand "$S" "$H" "$O"

# ------------------------------------------------------------ the fidelity tree

TREE=$DATA/tree
SAFE=$DATA/safe
NANO='2020-01-02 03:04:05.123456789'
LONGNAME=$(printf 'L%.0s' $(seq 255))
BADNAME=$(printf 'bad-\xff\xfe-utf8')
NLNAME=$'new\nline'

make_tree() {
	local t=$1 deep i
	mkdir -p "$t"
	echo "hello, world" >"$t/regular.txt"
	: >"$t/empty"
	# 1 GiB, with a few written blocks in the middle
	truncate -s 1G "$t/sparse.img"
	dd if=/dev/urandom of="$t/sparse.img" bs=64K seek=8000 count=2 conv=notrunc status=none
	dd if=/dev/urandom of="$t/sparse.img" bs=4K seek=140000 count=1 conv=notrunc status=none
	echo "one inode, two names" >"$t/hardlink-a"
	mkdir "$t/other-dir"
	ln "$t/hardlink-a" "$t/other-dir/hardlink-b"
	mkdir "$t/links"
	echo "the target" >"$t/links/target.txt"
	ln -s target.txt "$t/links/relative"
	ln -s ../regular.txt "$t/links/relative-up"
	ln -s "$t/regular.txt" "$t/links/absolute"
	ln -s "/nonexistent/hs-restore-$$" "$t/links/dangling"
	mkfifo "$t/fifo"
	mkdir "$t/names"
	echo spaces >"$t/names/with some  spaces"
	echo newline >"$t/names/$NLNAME"
	echo dash >"$t/names/-leading-dash"
	echo utf8 >"$t/names/héllo wörld ☃ 日本語"
	echo invalid >"$t/names/$BADNAME"
	echo long >"$t/names/$LONGNAME" || return 1
	deep=$t/deep
	for i in $(seq 40); do deep=$deep/d$i; done
	mkdir -p "$deep"
	echo "40 levels down" >"$deep/bottom.txt"
	# xattrs: user ones (text and binary), on a file and on a directory
	echo "with xattrs" >"$t/xattrs.txt"
	setfattr -n user.comment -v "a note, with spaces" "$t/xattrs.txt"
	setfattr -n user.binary -v 0x00ff7f80 "$t/xattrs.txt"
	setfattr -n user.dir-note -v "on a dir" "$t/other-dir"
	# POSIX ACLs: access ACL on a file, access + default ACL on a directory
	echo "with an ACL" >"$t/acl.txt"
	setfacl -m u:1234:rw-,g:5678:r--,m::rw- "$t/acl.txt"
	mkdir "$t/acl-dir"
	setfacl -m u:4321:r-x -m d:u:1234:rwx -m d:g:5678:r-x "$t/acl-dir"
	echo "inherits the default ACL" >"$t/acl-dir/child.txt"
	# owners that exist nowhere (chown before chmod: chown clears setuid)
	echo "owned by 1234:5678" >"$t/owned-1234"
	chown 1234:5678 "$t/owned-1234"
	echo "owned by 4242:4343" >"$t/owned-4242"
	chown 4242:4343 "$t/owned-4242"
	chown 999:0 "$t/fifo"
	chown -h 777:888 "$t/links/absolute"
	mkdir "$t/owned-dir"
	echo x >"$t/owned-dir/x"
	chown -R 2001:2002 "$t/owned-dir"
	chown 1234:5678 "$t/acl-dir"
	# modes
	echo "nobody may read me" >"$t/mode-0000"
	chmod 0000 "$t/mode-0000"
	printf '#!/bin/sh\necho setuid\n' >"$t/setuid"
	chown 1234:5678 "$t/setuid"
	chmod 4755 "$t/setuid"
	printf 'setgid\n' >"$t/setgid"
	chmod 2711 "$t/setgid"
	mkdir "$t/setgid-dir" "$t/sticky-dir" "$t/read-only-dir"
	chmod 2775 "$t/setgid-dir"
	chmod 1777 "$t/sticky-dir"
	echo "inside a read-only dir" >"$t/read-only-dir/inside"
	chmod 0555 "$t/read-only-dir"
	# nanosecond mtimes, on a file, a symlink and a directory (last)
	echo "nanoseconds" >"$t/nano.txt"
	touch -d "$NANO" "$t/nano.txt"
	touch -h -d "$NANO" "$t/links/relative"
	touch -d "$NANO" "$t/deep"
}

make_safe() {
	local s=$1
	mkdir -p "$s/sub"
	echo "report, version 1" >"$s/report.txt"
	chmod 640 "$s/report.txt"
	setfattr -n user.kind -v report "$s/report.txt"
	touch -d "$NANO" "$s/report.txt"
	echo "x, version 1" >"$s/sub/x.txt"
	echo "y, version 1" >"$s/sub/y.txt"
	cp -a "$s" "$DATA/safe.orig"
}

make_tree "$TREE" || fatal "build the fidelity tree"
make_safe "$SAFE" || fatal "build the safety tree"
assert "the sparse source file is sparse (1 GiB long, a few KiB on disk)" is_sparse "$TREE/sparse.img"

REPO_SSH=ssh:$S
REPO_LOCAL=$REPOS/local
TREL=${TREE#/}    # the tree's path inside a snapshot (backup uses --relative)

# ------------------------------------------------------------ 1. fidelity

# fidelity WHERE: back the tree up to WHERE, restore it and compare.
fidelity() {
	local where=$1 l root snap out
	l=$(label_of "$1")
	root=$(root_of "$1")
	out=$OUT/$l
	assert "[$l] backup of the fidelity tree as root exits 0" \
		succeeds on "$where" backup "$TREE" "$SAFE"
	snap=$(snapshots "$root" | tail -n 1)
	assert "[$l] the backup made a snapshot holding the tree" exists "$root/$snap/$TREL/regular.txt"
	assert "[$l] the sparse file is sparse in the snapshot too" is_sparse "$root/$snap/$TREL/sparse.img"
	if [ "$l" = ssh ]; then
		assert "[$l] the unprivileged server recorded owner 1234:5678 (fake-super)" \
			is_eq "$(stored_owner "$root/$snap/$TREL/owned-1234")" 1234:5678
		assert "[$l] the unprivileged server recorded mode 4755 of the setuid file" \
			is_eq "$(stored_mode "$root/$snap/$TREL/setuid")" 4755
	fi

	assert "[$l] restore --to DIR of the whole tree exits 0" \
		succeeds on "$where" restore --to "$out/restored" "$TREE"
	assert "[$l] restore says on stderr which snapshot it chose ($snap)" last_err_has "$snap"
	assert "[$l] restore printed nothing on stdout" stdout_is_empty
	assert "[$l] the restored tree equals the original: rsync -naHAXc --numeric-ids -i --delete prints nothing (owners, ACLs, xattrs, hard links, ns mtimes)" \
		nothing_differs "$TREE/" "$out/restored/tree/" --delete
	assert "[$l] the restored 1 GiB sparse file is still sparse" is_sparse "$out/restored/tree/sparse.img"
	assert "[$l] the restored hard-linked pair is one inode" \
		same_inode "$out/restored/tree/hardlink-a" "$out/restored/tree/other-dir/hardlink-b"
	assert "[$l] the restored fifo is a fifo" test -p "$out/restored/tree/fifo"
	assert "[$l] the restored setuid file has mode 4755, owner 1234:5678" \
		is_eq "$(stat -c %a-%u:%g "$out/restored/tree/setuid")" 4755-1234:5678
	assert "[$l] the restored file keeps its nanosecond mtime" \
		is_eq "$(stat -c %y "$out/restored/tree/nano.txt")" "2020-01-02 03:04:05.123456789 +0000"
	assert "[$l] the restored ACL is the original one (getfacl)" \
		is_eq "$(getfacl -cn "$out/restored/tree/acl-dir" 2>/dev/null)" "$(getfacl -cn "$TREE/acl-dir" 2>/dev/null)"
	assert "[$l] the dangling symlink came back dangling, same target" \
		symlink_is "$out/restored/tree/links/dangling" "/nonexistent/hs-restore-$$"
	assert "[$l] the 255-byte name came back" exists "$out/restored/tree/names/$LONGNAME"
	assert "[$l] no staging directory is left after the restore" no_staging_left "$out"

	# single files, with --at latest~0 and --at an exact snapshot name
	assert "[$l] restore --at latest~0 --to DIR of one file exits 0" \
		succeeds on "$where" restore --at latest~0 --to "$out/one" "$TREE/acl.txt"
	assert "[$l] --at latest~0 chose the newest snapshot ($snap)" last_err_has "$snap"
	assert "[$l] the single restored file equals the original (data, mode, owner, ACL, xattrs, mtime)" \
		nothing_differs "$TREE/acl.txt" "$out/one/acl.txt"
	assert "[$l] restore --at SNAPSHOT-NAME of the 4755 file exits 0" \
		succeeds on "$where" restore --at "$snap" --to "$out/one" "$TREE/setuid"
	assert "[$l] the single restored setuid file equals the original" \
		nothing_differs "$TREE/setuid" "$out/one/setuid"

	# one symlink: it comes back as a symlink with the same target and owner
	assert "[$l] restore of one absolute symlink exits 0" \
		succeeds on "$where" restore --to "$out/one" "$TREE/links/absolute"
	assert "[$l] it is restored as a symlink with the same target and owner 777:888" \
		symlink_is "$out/one/absolute" "$TREE/regular.txt" 777:888
	assert "[$l] restore of one relative symlink exits 0" \
		succeeds on "$where" restore --to "$out/one" "$TREE/links/relative"
	assert "[$l] it is a symlink to target.txt, with its nanosecond mtime" \
		nothing_differs "$TREE/links/relative" "$out/one/relative"
	assert "[$l] no staging directory is left after the single restores" no_staging_left "$out"
}

fidelity "$REPO_SSH"
fidelity "$REPO_LOCAL"

# ------------------------------------------------------------ 2. restore safety

safety() {
	local where=$1 l root first snap to
	l=$(label_of "$1")
	root=$(root_of "$1")
	first=$(snapshots "$root" | head -n 1)
	snap=$(snapshots "$root" | tail -n 1)
	to=$OUT/$l/safety
	mkdir -p "$to"

	# an existing file in --to DIR
	echo "my own newer report" >"$to/report.txt"
	setfattr -n user.mine -v yes "$to/report.txt"
	chmod 600 "$to/report.txt"
	touch -d '2021-05-06 07:08:09.5' "$to/report.txt"
	tree_state "$to" >"$SCRATCH/$l.to.state"
	assert "[$l] restore --to DIR onto an existing file, without --overwrite, exits 1" \
		must_fail 1 on "$where" restore --to "$to" "$SAFE/report.txt"
	assert "[$l] ... says the file exists" last_err_has "exists"
	assert "[$l] ... and leaves it byte for byte and attribute for attribute untouched" \
		same_tree_state "$SCRATCH/$l.to.state" "$to"

	# the default target NAME.restored-SNAPSHOT, existing already
	echo "an earlier restore, edited since" >"$SAFE/report.txt.restored-$snap"
	tree_state "$SAFE" >"$SCRATCH/$l.safe.state"
	assert "[$l] restore onto an existing NAME.restored-SNAPSHOT exits 1" \
		must_fail 1 on "$where" restore "$SAFE/report.txt"
	assert "[$l] ... and leaves the directory untouched (that file included)" \
		same_tree_state "$SCRATCH/$l.safe.state" "$SAFE"
	rm "$SAFE/report.txt.restored-$snap"
	assert "[$l] restore to the default target exits 0" succeeds on "$where" restore "$SAFE/report.txt"
	assert "[$l] ... which is NAME.restored-SNAPSHOT next to the original, equal to the snapshot's file" \
		nothing_differs "$DATA/safe.orig/report.txt" "$SAFE/report.txt.restored-$snap"
	assert "[$l] ... and the original is untouched" \
		nothing_differs "$DATA/safe.orig/report.txt" "$SAFE/report.txt"
	rm "$SAFE/report.txt.restored-$snap"

	# --overwrite
	assert "[$l] restore --to DIR --overwrite onto the existing file exits 0" \
		succeeds on "$where" restore --overwrite --to "$to" "$SAFE/report.txt"
	assert "[$l] ... and replaces it with the snapshot's file (data and attributes)" \
		nothing_differs "$DATA/safe.orig/report.txt" "$to/report.txt"
	echo "edited locally, to be undone" >"$SAFE/report.txt"
	chmod 644 "$SAFE/report.txt"
	assert "[$l] restore --overwrite of a changed file in place exits 0" \
		succeeds on "$where" restore --overwrite "$SAFE/report.txt"
	assert "[$l] ... and puts the snapshot's file back" \
		nothing_differs "$DATA/safe.orig/report.txt" "$SAFE/report.txt"
	echo "x, edited locally" >"$SAFE/sub/x.txt"
	echo "only here" >"$SAFE/sub/local-only.txt"
	assert "[$l] restore --overwrite of a directory exits 0" \
		succeeds on "$where" restore --overwrite "$SAFE/sub"
	assert "[$l] ... puts its files back" \
		nothing_differs "$DATA/safe.orig/sub/x.txt" "$SAFE/sub/x.txt"
	assert "[$l] ... and leaves a file that is not in the snapshot alone" \
		content_is "$SAFE/sub/local-only.txt" "only here"
	rm "$SAFE/sub/local-only.txt"

	# --dry-run
	# (the targets and their staging dirs lie in $SAFE or beside it in $DATA)
	{ tree_state "$SAFE"; shallow_state "$DATA"; } >"$SCRATCH/$l.data.state"
	tree_state "$to" >"$SCRATCH/$l.to.state"
	assert "[$l] restore --dry-run to the default target exits 0" \
		succeeds on "$where" restore --dry-run "$SAFE/report.txt"
	assert "[$l] restore -n of a directory to the default target exits 0" \
		succeeds on "$where" restore -n "$SAFE/sub"
	assert "[$l] restore -n --overwrite of the whole directory exits 0" \
		succeeds on "$where" restore -n --overwrite "$SAFE"
	assert "[$l] restore -n --to DIR onto an existing file with --overwrite exits 0" \
		succeeds on "$where" restore -n --overwrite --to "$to" "$SAFE/report.txt"
	assert "[$l] the dry runs changed nothing in the restored files' directories" \
		same_text "$SCRATCH/$l.data.state" "$(tree_state "$SAFE"; shallow_state "$DATA")"
	assert "[$l] the dry runs changed nothing in the --to directory" \
		same_tree_state "$SCRATCH/$l.to.state" "$to"
	assert "[$l] restore -n --to a directory that does not exist exits 0" \
		succeeds on "$where" restore -n --to "$OUT/$l/dry/not/yet" "$SAFE"
	assert "[$l] ... and does not create it" absent "$OUT/$l/dry"
	assert "[$l] the dry runs left no staging or dry-run directory" no_staging_left "$DATA" "$OUT"

	# times and paths that are not there
	assert "[$l] restore --at a time before the first snapshot exits 10" \
		must_fail 10 on "$where" restore --at 2001-01-01 --to "$to" "$SAFE/report.txt"
	assert "[$l] ... and names the first snapshot ($first)" last_err_has "$first"
	assert "[$l] restore of a path missing from the snapshot exits 10" \
		must_fail 10 on "$where" restore --to "$to" "$SAFE/no-such-file"
	assert "[$l] ... and says which path is missing" last_err_has "no-such-file"
	assert "[$l] the refused and failed restores left everything in the --to directory untouched" \
		same_contents "$SCRATCH/$l.to.state" "$to"
	assert "[$l] no staging directory is left anywhere" no_staging_left "$DATA" "$OUT"
	assert "[$l] the safety tree holds exactly what was backed up again (directory mtimes aside)" \
		nothing_differs "$DATA/safe.orig/" "$SAFE/" --delete --omit-dir-times
}

safety "$REPO_SSH"
safety "$REPO_LOCAL"

# ------------------------------------------------------------ 3 + 4. the hostile reads' roots
# $H (and a local root) get a small tree with `evil -> /etc`, two snapshots,
# a third one made while a restore runs (4.), and a real inprogress/ left
# by an interrupted push.

HT=$DATA/hostile
HREL=${HT#/}
mkdir -p "$HT/dir"
echo "secret, version 1" >"$HT/secret.txt"
echo "in a dir" >"$HT/dir/file.txt"
ln -s /etc "$HT/evil"
ln -s ../secret.txt "$HT/dir/up"
for i in $(seq -w 1 24); do random_file "$HT/slow/g$i" 100; done

# The other account's root (and a local one): something worth stealing.
OT=$DATA/other
mkdir -p "$OT"
echo "the other account's secret" >"$OT/theirs.txt"
assert "[ssh] the other account $O has a snapshot" succeeds on "ssh:$O" backup "$OT"
LOTHER=$REPOS/other
assert "[local] the other local root has a snapshot" succeeds on "$LOTHER" backup "$OT"

in_flight_files() { [ -n "$(find "$1/inprogress" -type f -path "*$2*" 2>/dev/null | head -n 1)" ]; }

# slow_push WHERE LOG: `hindsight backup`'s rsync, slowed down, in the
# background (pid in BG_PID).
slow_push() {
	local where=$1 log=$2
	case $where in
	ssh:*) bg "$log" rsync -aAXHS --numeric-ids --delete --relative --bwlimit=600 \
		--rsh="ssh -F $(ssh_conf "${where#ssh:}")" "$HT" server: ;;
	*) bg "$log" env HINDSIGHT_ROOT="$where" rsync -aAXHS --numeric-ids --delete --relative \
		--bwlimit=600 --rsh="$HS_SERVER local" "$HT" server: ;;
	esac
}

prepare_hostile_root() {
	local where=$1 l root s1 s2 s3 pid rc out
	l=$(label_of "$1")
	root=$(root_of "$1")
	out=$OUT/$l/during
	echo "secret, version 1" >"$HT/secret.txt"
	echo "same size, version A" >"$HT/same-second.txt"
	touch -d '2024-02-03 04:05:06.100000000' "$HT/same-second.txt"
	assert "[$l] a first backup of the hostile tree exits 0" succeeds on "$where" backup "$HT"
	echo "secret, version 2, longer" >"$HT/secret.txt"
	# the same size and the same second, another nanosecond: an edit made
	# within the second of the previous edit
	echo "same size, version B" >"$HT/same-second.txt"
	touch -d '2024-02-03 04:05:06.900000000' "$HT/same-second.txt"
	assert "[$l] a second backup of it exits 0" succeeds on "$where" backup "$HT"
	s2=$(snapshots "$root" | tail -n 1)
	assert "[$l] restore of a file edited within the same second, same size, exits 0" \
		succeeds on "$where" restore --to "$out/same-second" "$HT/same-second.txt"
	assert "[$l] ... and brings the newest backup's content (version B), not the previous one" \
		content_is "$out/same-second/same-second.txt" "same size, version B"
	assert "[$l] ... with its nanosecond mtime" \
		is_eq "$(stat -c %y "$out/same-second/same-second.txt" 2>&1)" "2024-02-03 04:05:06.900000000 +0000"
	assert "[$l] the stored evil symlink points to /etc" is_eq "$(stored_link "$root/$s2/$HREL/evil")" /etc

	# 4. a restore while a slow push runs
	echo "secret, version 3, in flight" >"$HT/secret.txt"
	for i in $(seq -w 1 24); do random_file "$HT/slow/g$i" 100; done
	random_file "$HT/slow/new-in-flight-$l" 4
	slow_push "$where" "$SCRATCH/$l.slow.log"
	pid=$BG_PID
	wait_until 60 in_flight_files "$root" slow/g ||
		fatal "[$l] the slow push never started" "$(cat "$SCRATCH/$l.slow.log")"
	assert "[$l] during a push, restore of a file exits 0" \
		succeeds on "$where" restore --to "$out" "$HT/secret.txt"
	assert "[$l] ... chose the newest completed snapshot ($s2)" last_err_has "$s2"
	assert "[$l] ... and restored that snapshot's content, not the one in flight" \
		content_is "$out/secret.txt" "secret, version 2, longer"
	assert "[$l] during a push, restore of a directory exits 0" \
		succeeds on "$where" restore --to "$out" "$HT/dir"
	assert "[$l] ... and it equals the directory in the completed snapshot" \
		nothing_differs "$HT/dir/" "$out/dir/" --delete
	assert "[$l] during a push, restore of a file only the push in flight has exits 10" \
		must_fail 10 on "$where" restore --to "$out" "$HT/slow/new-in-flight-$l"
	assert "[$l] the push was still running through these restores" kill -0 "$pid"
	wait "$pid"
	rc=$?
	s3=$(snapshots "$root" | tail -n 1)
	assert "[$l] the slow push completed (exit 0) and made a new snapshot" \
		is_eq "$rc $(snapshots "$root" | wc -l) $([ "$s3" != "$s2" ] && echo new)" "0 3 new"
	assert "[$l] after it, restore --at latest brings the new content" \
		succeeds on "$where" restore --overwrite --to "$out" "$HT/secret.txt"
	assert "[$l] ... which is version 3" content_is "$out/secret.txt" "secret, version 3, in flight"
	assert "[$l] restore --at latest~1 brings version 2 back" \
		succeeds on "$where" restore --at latest~1 --overwrite --to "$out" "$HT/secret.txt"
	assert "[$l] ... which is version 2" content_is "$out/secret.txt" "secret, version 2, longer"
	assert "[$l] no staging directory is left by the restores during the push" no_staging_left "$out"

	# a real inprogress/: a push interrupted half-way
	for i in $(seq -w 1 24); do random_file "$HT/slow/g$i" 100; done
	slow_push "$where" "$SCRATCH/$l.interrupted.log"
	pid=$BG_PID
	wait_until 60 in_flight_files "$root" slow/g ||
		fatal "[$l] the push to interrupt never started" "$(cat "$SCRATCH/$l.interrupted.log")"
	kill "$pid"
	wait "$pid"
	wait_until 30 lock_is_free "$root" || fatal "[$l] the interrupted push never let go of the lock"
	if ! in_flight_files "$root" "$HREL"; then
		# the server cleaned up after all: make one as the account would
		diag "[$l] no inprogress/ left by the interrupted push: making one"
		mkdir -p "$root/inprogress/$HREL"
		echo "half-sent" >"$root/inprogress/$HREL/secret.txt"
		[ "$l" = ssh ] && chown -R "${where#ssh:}:" "$root/inprogress"
	fi
	assert "[$l] the interrupted push left a real inprogress/ tree" in_flight_files "$root" "$HREL"
}

prepare_hostile_root "ssh:$H"
REPO_LH=$REPOS/hostile
prepare_hostile_root "$REPO_LH"

# ------------------------------------------------------------ 3. hostile reads

R='rsync --server --sender -logDtpre.iLsfxCIvu'   # what `rsync -a server:X .` sends

# cases ROOT OTHER-ROOT: one per line, tab-separated: description, exit
# code, what the reason must mention (a regex; - for anything), the command.
cases() {
	local root=$1 other=$2 s1 s2 inprog many i
	s1=$(snapshots "$root" | head -n 1)
	s2=$(snapshots "$root" | tail -n 1)
	inprog=$(cd "$root/inprogress" && find . -type f -path "*$HREL*" | head -n 1)
	inprog=${inprog#./}
	many=
	for i in $(seq 17); do many="$many current/$HREL/secret.txt"; done
	cat <<-EOF
	current/../../etc/passwd	12	\.\.	$R . current/../../etc/passwd
	current/..	12	\.\.	$R . current/..
	current/PATH/../../../..	12	\.\.	$R . current/$HREL/../../../..
	the stored symlink to /etc, read through: evil/passwd	12	symlink	$R . current/$HREL/evil/passwd
	the stored symlink to /etc, with a trailing slash: evil/	12	not a directory	$R . current/$HREL/evil/
	the stored symlink to /etc, as evil/. (follows it)	12	-	$R . current/$HREL/evil/.
	the stored symlink to /etc, as evil/./	12	not a directory|symlink	$R . current/$HREL/evil/./
	a file with a trailing slash	12	not a directory	$R . current/$HREL/secret.txt/
	a real file in inprogress/	12	snapshot name or current	$R . inprogress/$inprog
	inprogress itself	12	snapshot name or current	$R . inprogress
	.hindsight/lock	12	snapshot name or current	$R . .hindsight/lock
	.hindsight	12	snapshot name or current	$R . .hindsight
	.hindsight/../current/PATH	12	snapshot name or current	$R . .hindsight/../current/$HREL
	the other account's root by absolute path	12	snapshot name or current	$R . $other/current/${OT#/}/theirs.txt
	the other account's root as ../OTHER	12	snapshot name or current	$R . ../$(basename "$other")/current/${OT#/}/theirs.txt
	the other account's root as current/../../OTHER	12	\.\.	$R . current/../../$(basename "$other")/current/${OT#/}/theirs.txt
	/etc/passwd	12	/etc/passwd	$R . /etc/passwd
	a wildcard: current/.*	12	wildcard	$R . current/.*
	a wildcard: current/*	12	wildcard	$R . current/*
	a wildcard: current/PATH/sec?et.txt	12	wildcard	$R . current/$HREL/sec?et.txt
	a wildcard: current/[a-z]*	12	wildcard	$R . current/[a-z]*
	--remove-source-files	12	--remove-source-files	$R --remove-source-files . current/$HREL/secret.txt
	--delete	12	--delete	$R --delete . current/$HREL
	--delete-excluded	12	--delete	$R --delete-excluded . current/$HREL
	-L (copy links) with the symlink	12	-L	rsync --server --sender -lLogDtpre.iLsfxCIvu . current/$HREL/evil
	--copy-links with the symlink	12	--copy-links	$R --copy-links . current/$HREL/evil
	-k (copy dirlinks)	12	-k	rsync --server --sender -lkogDtpre.iLsfxCIvu . current/$HREL
	--copy-unsafe-links	12	--copy-unsafe-links	$R --copy-unsafe-links . current/$HREL
	--files-from=- (as rsync sends it)	12	--files-from	rsync --server --sender -logDtpRe.LsfxCIvu --files-from=- --from0 . current/$HREL
	--exclude-from=/etc/shadow	12	--exclude-from	$R --exclude-from=/etc/shadow . current/$HREL
	two paths from two snapshots	12	one snapshot	$R . $s1/$HREL/secret.txt $s2/$HREL/secret.txt
	17 paths	12	16	$R .$many
	a path missing from the snapshot	10	no-such-file	$R . current/$HREL/no-such-file
	a snapshot that does not exist	10	2001_01_01_00_00_00	$R . 2001_01_01_00_00_00/$HREL/secret.txt
	query: ls current ../../etc	12	\.\.	hindsight ls current ../../etc
	query: versions ../../etc/passwd	12	\.\.	hindsight versions ../../../etc/passwd
	query: ls inprogress PATH	12	snapshot	hindsight ls inprogress $HREL
	query: ls .hindsight lock	12	snapshot	hindsight ls .hindsight lock
	query: diff current inprogress	12	snapshot	hindsight diff current inprogress
	query: ls through the stored symlink: evil/etc	12	symlink	hindsight ls current $HREL/evil/etc
	query: versions through the stored symlink: evil/passwd	12	symlink	hindsight versions $HREL/evil/passwd
	EOF
}

hostile_batch() {
	local where=$1 other=$2 l root desc code want cmd
	l=$(label_of "$1")
	root=$(root_of "$1")
	tree_state "$root" >"$SCRATCH/$l.hostile.state"
	tree_state "$other" >"$SCRATCH/$l.other.state"
	while IFS=$'\t' read -r desc code want cmd; do
		[ "$want" = - ] && want=
		assert "[$l] hostile read, $desc: exits $code" must_fail "$code" raw "$where" "$cmd"
		assert "[$l] hostile read, $desc: nothing on stdout (no data leaks)" stdout_is_empty
		if [ "$code" = 12 ]; then
			assert "[$l] hostile read, $desc: stderr is one line of reason${want:+ (mentions $want)}" \
				stderr_is_one_reason "$want"
		else
			assert "[$l] hostile read, $desc: stderr is one line saying what is missing" \
				stderr_is_one_notfound "$want"
		fi
		assert "[$l] hostile read, $desc: the backup root is unchanged" \
			same_tree_state "$SCRATCH/$l.hostile.state" "$root"
	done < <(cases "$root" "$other")
	assert "[$l] after all hostile reads the other account's root is unchanged" \
		same_tree_state "$SCRATCH/$l.other.state" "$other"

	# through the client: the local path through the symlink is refused too
	assert "[$l] hindsight restore of PATH/evil/passwd is refused (exit 12)" \
		must_fail 12 on "$where" restore --to "$OUT/$l/evil" "$HT/evil/passwd"
	assert "[$l] ... and restored nothing" absent "$OUT/$l/evil/passwd"

	# the symlink itself may be read: it comes back as a symlink, not /etc
	assert "[$l] reading current/PATH/evil (the symlink itself) is allowed: rsync exits 0" \
		succeeds rsync_from "$where" -a "server:current/$HREL/evil" "$OUT/$l/raw/"
	assert "[$l] ... and it arrives as a symlink to /etc, not /etc's content" \
		symlink_is "$OUT/$l/raw/evil" /etc
	assert "[$l] hindsight restore of PATH/evil exits 0" \
		succeeds on "$where" restore --to "$OUT/$l/evil" "$HT/evil"
	assert "[$l] ... and restores a symlink to /etc, not /etc's content" \
		symlink_is "$OUT/$l/evil/evil" /etc
	assert "[$l] a stock rsync reading current/PATH/evil/. is refused (rsync exits 12)" \
		must_fail 12 rsync_from "$where" -a "server:current/$HREL/evil/." "$OUT/$l/dot/"
	assert "[$l] ... and nothing of /etc arrives (no passwd, no shadow)" \
		absent "$OUT/$l/dot/passwd"
	assert "[$l] nothing of /etc arrived with the allowed reads of the symlink" \
		eval 'absent "$OUT/$l/raw/passwd" && absent "$OUT/$l/evil/passwd"'
	# a query may show the symlink itself, never what it points to
	assert "[$l] query ls current PATH/evil/ exits 0" \
		succeeds raw "$where" "hindsight ls current $HREL/evil/"
	assert "[$l] ... and shows one entry, the symlink to /etc itself, nothing of /etc" \
		jq -e '.type == "symlink" and (.entries | length) == 1 and
			.entries[0].type == "symlink" and .entries[0].target == "/etc"' "$LAST_OUT"
	assert "[$l] 16 paths from one snapshot are allowed (rsync exits 0)" \
		succeeds rsync_from "$where" -a $(for i in $(seq 16); do echo "server:current/$HREL/secret.txt"; done) "$OUT/$l/raw16/"
	assert "[$l] the allowed reads left the backup root unchanged" \
		same_tree_state "$SCRATCH/$l.hostile.state" "$root"
}

hostile_batch "ssh:$H" "$(home_of "$O")"
hostile_batch "$REPO_LH" "$LOTHER"

done_testing
