#!/bin/bash
# bench/fastpush-argv.sh: syscalls per file of the receiving rsync for the
# candidate argvs of docs/FASTPUSH.md ("Candidate argvs"): --link-dest
# absolute or relative, --no-implied-dirs, with or without --relative, and
# receiving into a cp -al clone with hindsight's options or rsync -a plus
# one option at a time, with and without --insecure-links (what a fast
# push runs: docs/FASTPUSH.md).
#
#   bench/fastpush-argv.sh [BUILD_DIR]     (after make bench-tools; as root)
#   PROFILE=full bench/fastpush-argv.sh    (the 100k-file bench tree: about half an hour)
#
# gentree's small tree (10k files, 500 directories, 200 MiB) on a 2 GiB
# loop XFS in BENCH_DIR (/var/tmp/hindsight-fastpush-argv), the basis
# made by hindsight's options, then gentree state 1 (1% changed). Each
# candidate runs the server side under `strace -c -f` (generator and
# receiver together) through a transport that runs it directly; the
# count is strace's total / the number of files. Everything is removed at the end.
set -eu
export LC_ALL=C
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
B=${BENCH_DIR:-/var/tmp/hindsight-fastpush-argv}
M=$B/mnt
# PROFILE=full: the bench tree itself (100k files, 5000 directories, 2 GiB)
case ${PROFILE:-small} in
full) FILES=100000 DIRS=5000 BYTES=2147483648 IMG=16G ;;
*) FILES=10000 DIRS=500 BYTES=209715200 IMG=2G ;;
esac
G="$BIN/bench/gentree --files $FILES --dirs $DIRS --bytes $BYTES"
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
command -v strace >/dev/null || { echo "bench: strace is not installed" >&2; exit 1; }
[ -e "$B" ] && { echo "bench: $B exists" >&2; exit 1; }
cleanup() { mountpoint -q "$M" && umount "$M"; rm -rf "$B"; }
trap cleanup EXIT
mkdir -p "$M"
truncate -s "$IMG" "$B/xfs.img"
mkfs.xfs -q -f "$B/xfs.img"
mount -o loop "$B/xfs.img" "$M"
$G create "$M/src" >/dev/null
rsync -aAXHS --numeric-ids --relative -M--fake-super "$M/src" "$M/base/"
$G state 1 "$M/src" >/dev/null
cat >"$B/rsh" <<'X'
#!/bin/sh
out=$1
shift 2
exec strace -c -f -o "$out" "$@"
X
chmod 755 "$B/rsh"

run() {   # run NAME PREP RSYNC-ARGS...: one candidate, its syscalls per file
	local n=$1 prep=$2
	shift 2
	rm -rf "$M/new"
	[ "$prep" = - ] || cp -al $prep "$M/new"
	sync -f "$M"
	rsync -e "$B/rsh $B/$n.strace" "$@" >/dev/null
	awk -v n="$n" -v f="$FILES" '/total$/ { printf "%-26s %6.1f\n", n, $(NF-2) / f }' "$B/$n.strace"
}
HSO="-aAXHS --numeric-ids --delete -M--fake-super"
echo "# candidate                syscalls/file"
run linkdest-abs-R - $HSO --relative --link-dest="$M/base" "$M/src" "x:$M/new/"
run linkdest-rel-R - $HSO --relative --link-dest=../base "$M/src" "x:$M/new/"
run linkdest-abs-R-noimp - $HSO --relative --no-implied-dirs --link-dest="$M/base" "$M/src" "x:$M/new/"
run linkdest-abs-noR - $HSO --link-dest="$M/base$M/src" "$M/src/" "x:$M/new/"
run bare-a-linkdest - -a --delete --link-dest="$M/base$M/src" "$M/src/" "x:$M/new/"
run clone-R "$M/base" $HSO --relative "$M/src" "x:$M/new/"
run clone-R-insecure "$M/base" $HSO -M--insecure-links --relative "$M/src" "x:$M/new/"
run clone-noR "$M/base$M/src" $HSO "$M/src/" "x:$M/new/"
run clone-noR-insecure "$M/base$M/src" $HSO -M--insecure-links "$M/src/" "x:$M/new/"
run clone-a "$M/base$M/src" -a --delete "$M/src/" "x:$M/new/"
run clone-a-fakesuper "$M/base$M/src" -a --delete -M--fake-super "$M/src/" "x:$M/new/"
run clone-a-fakesuper-insecure "$M/base$M/src" -a --delete -M--fake-super -M--insecure-links "$M/src/" "x:$M/new/"
run clone-aX "$M/base$M/src" -a --delete -X "$M/src/" "x:$M/new/"
run clone-aA "$M/base$M/src" -a --delete -A "$M/src/" "x:$M/new/"
run clone-aH "$M/base$M/src" -a --delete -H "$M/src/" "x:$M/new/"
run clone-aR "$M/base" -a --delete --relative "$M/src" "x:$M/new/"
