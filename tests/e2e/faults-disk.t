#!/bin/bash
# Faults of the backup file system (issue 9), on real loop-mounted file
# systems: ENOSPC at random points (a small XFS filled to random levels),
# I/O errors (the XFS fails under a push; device-mapper's error target
# where the kernel has it), and EMLINK (ext4's limit of 65000 links to a
# file that stays unchanged across more snapshots than that). After each,
# the three invariants (invariants.sh) hold and `check` is clean.
#
# HS_FAULT_SEED=N replays the random choices (the seed is printed first).
# HS_LONG=1: more fill levels and more moments of failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/invariants.sh"

for t in mkfs.xfs mkfs.ext4 losetup xfs_io fallocate perl mountpoint; do
	command -v "$t" >/dev/null || skip_all "needs $t (make deps)"
done
grep -qw xfs /proc/filesystems || modprobe xfs 2>/dev/null
grep -qw xfs /proc/filesystems || skip_all "the kernel has no XFS"

SEED=${HS_FAULT_SEED:-$(($(date +%s%N) / 1000 % 1000000))}
diag "seed $SEED (HS_FAULT_SEED=$SEED replays this run)"
RANDOM=$SEED
if [ "${HS_LONG:-0}" = 1 ]; then N_FILL=12 N_DOWN=8; else N_FILL=4 N_DOWN=2; fi

# mount_img FS SIZE DIR: a sparse image of SIZE in the scratch directory,
# made FS and loop-mounted on DIR (unmounted at exit). Sets IMG.
mount_img() {
	local fs=$1 size=$2 dir=$3
	IMG="$SCRATCH/$(basename "$dir").img"
	truncate -s "$size" "$IMG" || fatal "truncate $IMG"
	case $fs in
	xfs) mkfs.xfs -q -f "$IMG" ;;
	ext4) mkfs.ext4 -q -F "$IMG" ;;
	esac || fatal "mkfs.$fs $IMG"
	mkdir -p "$dir"
	mount -o loop "$IMG" "$dir" || fatal "mount $IMG on $dir"
	at_cleanup "umount '$dir' 2>/dev/null || umount -l '$dir'"
}

# backup ROOT SRC: the client's own command against a local root.
backup() { "$HS_CLIENT" backup --repo "$1" "$2"; }

check_clean() {
	run "$HS_SERVER" check --root "$1"
	[ "$LAST_RC" = 0 ] && return 0
	echo "check exits $LAST_RC:"
	grep -v '^ok:' "$LAST_OUT"
	return 1
}

free_kib() { df -k --output=avail "$1" | tail -n 1 | tr -d ' '; }

# what_is ROOT: the snapshots and where current points, in one line
what_is() { echo "$(inv_snapshots "$1" | tr '\n' ' ')-> $(readlink "$1/current")"; }

# ---------------------------------------------------------------- ENOSPC

M="$SCRATCH/xfs"
mount_img xfs 320M "$M"
R="$M/root"
SRC="$SCRATCH/src"
MAN="$SCRATCH/man-enospc"
mkdir -m 700 "$R"
# min_free (1% by default) would have the push delete old snapshots for
# room first (space.t tests that): off, so every push meets ENOSPC itself
export HINDSIGHT_SERVER_CONF="$SCRATCH/server.conf"
printf '[server]\nmin_free = 0\nmin_free_inodes = 0\n' >"$HINDSIGHT_SERVER_CONF"
chmod 644 "$HINDSIGHT_SERVER_CONF"
mkdir -p "$SRC/keep"
for i in $(seq -w 1 20); do random_file "$SRC/keep/k$i" 64; done
setfattr -n user.tag -v kept "$SRC/keep/k01"
ln -s k01 "$SRC/keep/link"
SUB=${SRC#/}
assert "[enospc] a first push to the XFS exits 0" succeeds backup "$R" "$SRC"
inv_save "$R" "$MAN"
for i in $(seq 1 "$N_FILL"); do
	# 8 MiB of new data; free space left: 0 to 6 MiB, so the push runs
	# out early (making its tree) or late (amid the data), never fits
	rm -rf "$SRC/new"
	mkdir -p "$SRC/new"
	for j in $(seq -w 1 8); do random_file "$SRC/new/n$j" 1024; done
	echo "round $i" >>"$SRC/keep/k02"
	left=$(((RANDOM * 32768 + RANDOM) % (6 * 1024)))
	fill=$(($(free_kib "$M") - left))
	[ "$fill" -gt 0 ] && fallocate -l "${fill}K" "$M/filler"
	before=$(what_is "$R")
	label="[enospc $i, $left KiB left]"
	assert "$label the push exits 14 (out of space)" must_fail 14 backup "$R" "$SRC"
	assert "$label ... saying so in one line" \
		is_eq "$(cat "$LAST_ERR")" "hindsight: backup failed: out of space on $R; what arrived is kept and the next backup resumes from it"
	assert "$label nothing is published, current unchanged" is_eq "$(what_is "$R")" "$before"
	assert "$label every earlier snapshot is unchanged" inv_unchanged "$R" "$MAN"
	rm -f "$M/filler"
	assert "$label after space is freed, the next push exits 0" succeeds backup "$R" "$SRC"
	assert "$label check reports a clean root (exit 0)" check_clean "$R"
	INV_LABEL="$label " inv_all "$SRC" "$R" "$SUB" "$MAN"
	inv_save_new "$R" "$MAN"
done

# ---------------------------------------------------------------- I/O errors

# Kernel fault injection that would fail the loop device's requests or
# XFS's own I/O is not in every kernel: say which are missing.
if [ -d /sys/kernel/debug/fail_make_request ] || [ -d /sys/kernel/debug/fail_io_timeout ]; then
	diag "fail_make_request exists; not used (the XFS shutdown below covers the same)"
else
	ok "[eio] fail_make_request on the loop device # SKIP the kernel has no fault injection (CONFIG_FAULT_INJECTION, CONFIG_FAIL_MAKE_REQUEST: no /sys/kernel/debug/fail_make_request)"
fi
if ls /sys/fs/xfs/*/errortag >/dev/null 2>&1; then
	diag "XFS errortag exists; not used (the XFS shutdown below covers the same)"
else
	ok "[eio] XFS errortag # SKIP the kernel's XFS has no error injection (CONFIG_XFS_DEBUG: no /sys/fs/xfs/*/errortag)"
fi

# The XFS fails under a push at a random moment: XFS_IOC_GOINGDOWN without
# flushing the log (xfs_io's shutdown), what XFS does itself on an I/O
# error it cannot survive, and to the disk like a power cut. Everything
# after it is EIO. Remounted (log recovery), the root is as it was synced.
MAN="$SCRATCH/man-eio"
rm -rf "$SRC/new"
inv_save "$R" "$MAN"
BWCONF="$SCRATCH/bw.conf"
printf 'bwlimit = 1000\n' >"$BWCONF"
for i in $(seq 1 "$N_DOWN"); do
	rm -rf "$SRC/new"
	mkdir -p "$SRC/new"
	for j in $(seq -w 1 8); do random_file "$SRC/new/n$j" 128; done
	before=$(inv_snapshots "$R")
	# 1 MiB at 1000 KiB/s: a second of transfer; fail 0.2 to 0.8 s into it
	delay=$((200 + RANDOM % 600))
	bg "$SCRATCH/down.log" "$HS_CLIENT" backup --config "$BWCONF" --repo "$R" "$SRC"
	pid=$BG_PID
	sleep "0.$(printf %03d "$delay")"
	xfs_io -x -c shutdown "$M"
	wait "$pid" 2>/dev/null
	rc=$?
	label="[eio $i, ${delay} ms in]"
	assert "$label the push fails with exit 1" is_eq "$rc" 1
	assert "$label ... saying the push was not completed" \
		grep -qE "^hindsight: backup failed: push not completed \(rsync exit [0-9]+\)" "$SCRATCH/down.log"
	umount "$M" || umount -l "$M"
	mount -o loop "$IMG" "$M" || fatal "remount $IMG"
	assert "$label after remounting, nothing new is listed" is_eq "$(inv_snapshots "$R")" "$before"
	assert "$label every earlier snapshot survived the failure unchanged" inv_unchanged "$R" "$MAN"
	assert "$label the next push exits 0" succeeds backup "$R" "$SRC"
	assert "$label check reports a clean root (exit 0)" check_clean "$R"
	INV_LABEL="$label " inv_all "$SRC" "$R" "$SUB" "$MAN"
	inv_save_new "$R" "$MAN"
done

# device-mapper's error target, where it works: the block device itself
# fails every request from a moment on
if dmsetup targets 2>/dev/null | grep -q '^error'; then
	D="$SCRATCH/dm"
	truncate -s 320M "$SCRATCH/dm.img"
	LOOP=$(losetup -f --show "$SCRATCH/dm.img") || fatal "losetup"
	at_cleanup "losetup -d $LOOP"
	SECT=$(blockdev --getsz "$LOOP")
	DM=hsfault$$
	dmsetup create "$DM" --table "0 $SECT linear $LOOP 0" || fatal "dmsetup create"
	at_cleanup "dmsetup remove -f $DM"
	mkfs.xfs -q -f "/dev/mapper/$DM" || fatal "mkfs.xfs on dm"
	mkdir -p "$D"
	mount "/dev/mapper/$DM" "$D" || fatal "mount dm"
	at_cleanup "umount '$D' 2>/dev/null || umount -l '$D'"
	DR="$D/root"
	mkdir -m 700 "$DR"
	rm -rf "$SRC/new"
	assert "[dm-error] a first push exits 0" succeeds backup "$DR" "$SRC"
	before=$(what_is "$DR")
	mkdir -p "$SRC/new"
	for j in $(seq -w 1 8); do random_file "$SRC/new/n$j" 128; done
	bg "$SCRATCH/dm.log" "$HS_CLIENT" backup --config "$BWCONF" --repo "$DR" "$SRC"
	pid=$BG_PID
	sleep 0.4
	dmsetup suspend --nolockfs "$DM" && dmsetup load "$DM" --table "0 $SECT error" &&
		dmsetup resume "$DM"
	wait "$pid" 2>/dev/null
	rc=$?
	assert "[dm-error] the push on a failing disk fails with exit 1" is_eq "$rc" 1
	assert "[dm-error] ... saying the push was not completed" \
		grep -qE "^hindsight: backup failed: " "$SCRATCH/dm.log"
	umount "$D" || umount -l "$D"
	dmsetup suspend "$DM" && dmsetup load "$DM" --table "0 $SECT linear $LOOP 0" &&
		dmsetup resume "$DM"
	mount "/dev/mapper/$DM" "$D" || fatal "remount dm"
	assert "[dm-error] nothing was published" is_eq "$(what_is "$DR")" "$before"
	assert "[dm-error] the next push exits 0" succeeds backup "$DR" "$SRC"
	assert "[dm-error] check reports a clean root (exit 0)" check_clean "$DR"
else
	ok "[eio] device-mapper error target # SKIP no device-mapper here (dmsetup targets lists no 'error': /dev/mapper/control has no kernel driver)"
fi

# ---------------------------------------------------------------- EMLINK

# ext4 allows 65000 links to an inode. Pre-link the basis snapshot's file
# to 64999 links from outside the root, then push it unchanged: rsync's
# --link-dest link() fails with EMLINK and rsync copies the file instead.
E="$SCRATCH/ext4"
mount_img ext4 128M "$E"
ER="$E/root"
ESRC="$SCRATCH/esrc"
MAN="$SCRATCH/man-emlink"
mkdir -m 700 "$ER"
mkdir -p "$E/links" "$ESRC"
echo "the file that never changes" >"$ESRC/same"
setfattr -n user.tag -v same "$ESRC/same"
echo 0 >"$ESRC/changes"
ESUB=${ESRC#/}
assert "[emlink] a first push to the ext4 exits 0" succeeds backup "$ER" "$ESRC"
s1=$(inv_snapshots "$ER")
f1="$ER/$s1/$ESUB/same"
perl -e 'for my $i (1 .. 64998) { link($ARGV[0], "$ARGV[1]/l$i") or die "link $i: $!\n" }' \
	"$f1" "$E/links" || fatal "pre-link $f1"
assert "[emlink] the basis file has 64999 links" is_eq "$(stat -c %h "$f1")" 64999
inv_save "$ER" "$MAN"
for i in 1 2 3 4; do
	echo "$i" >"$ESRC/changes"
	assert "[emlink $i] the push exits 0" succeeds backup "$ER" "$ESRC"
	assert "[emlink $i] ... with nothing said on stderr" is_eq "$(cat "$LAST_ERR")" ""
	assert "[emlink $i] check reports a clean root (exit 0)" check_clean "$ER"
	INV_LABEL="[emlink $i] " inv_all "$ESRC" "$ER" "$ESUB" "$MAN"
	inv_save_new "$ER" "$MAN"
done
mapfile -t snaps < <(inv_snapshots "$ER")
assert "[emlink] the second snapshot took the last link (65000)" \
	same_inode "$f1" "$ER/${snaps[1]}/$ESUB/same"
assert "[emlink] the third could not link: rsync copied the file to a new inode" \
	other_inode "$f1" "$ER/${snaps[2]}/$ESUB/same"
assert "[emlink] ... and the later ones link to that copy" \
	same_inode "$ER/${snaps[2]}/$ESUB/same" "$ER/${snaps[4]}/$ESUB/same"
assert "[emlink] the copy keeps the xattr" \
	is_eq "$(getfattr --absolute-names --only-values -n user.tag "$ER/${snaps[4]}/$ESUB/same")" same

done_testing
