#!/bin/bash
# bench/delete.sh: deleting a snapshot, hindsight's deleter against `rm -rf`
# and against the machine's unlink ceiling, on identical copies in the same
# run (results: docs/BENCHMARKS.md, "Deleting a snapshot").
#
#   make bench-tools && bench/delete.sh [BUILD_DIR]    (as root; default build/)
#
# 1. An XFS filesystem (mkfs.xfs on a sparse IMG_SIZE image in BENCH_DIR,
#    loop-mounted) gets a snapshot-like tree: FILES files (100000) in DIRS
#    directories (5000) nested 1 to 8 deep, 0 to PER_DIR_MAX (300) files per
#    directory (DIRS=0 PER_DIR_MAX=100000: one directory holding them all),
#    sizes 0 to 256 KiB (most under 4 KiB), all from a fixed seed. With
#    LINKED=P, P% of the files are also hard-linked from a newer snapshot
#    beside it, as after a week of pushes: deleting the old one then frees
#    only the rest. With SHUFFLE=1 each directory's files are created in a
#    random order under temporary names and renamed into place in name
#    order (as rsync does), so that readdir order and inode order differ,
#    as in a snapshot whose files arrived over many pushes; by default they
#    coincide, as after one full push. FS=ext4 makes ext4 instead of XFS.
#    The image is unmounted and kept as the pristine copy.
# 2. Each timed run copies the pristine image (so every competitor deletes
#    the same blocks in the same layout), mounts it, syncs, drops the page
#    cache (cold, as an old snapshot is), and times the command, then the
#    filesystem's own catch-up: statfs (XFS finishes its deferred inode
#    inactivation there) and syncfs. Both times are recorded; the ratios
#    use the total, which is when the space is really free.
# 3. Competitors (VARIANTS), alternated: each round runs every one once, in
#    an order rotated per round, RUNS rounds (5):
#      hindsight    build/bench/deltree PATH    (deltree_at, automatic threads: 2 per CPU)
#      threads1/2/4/8  the same with --threads N
#      unsorted     --unsorted: readdir order instead of inode order
#      count        --count: lstat each file for the freed-space figures
#      rm           rm -rf PATH
#      ceiling      build/bench/unlink-list: one unlinkat() per path of a list
#                   made beforehand (files, then directories deepest first),
#                   one thread: the cost of the unlinks alone
# Medians are printed with the ratios rm/hindsight and hindsight/ceiling;
# every run's figures stay in BENCH_DIR/runs.txt until the end (KEEP=1
# keeps BENCH_DIR). The mount and the images are removed on exit.
set -eu
export LC_ALL=C TZ=UTC

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/hindsight-delete}
FILES=${FILES:-100000}
DIRS=${DIRS:-5000}
PER_DIR_MAX=${PER_DIR_MAX:-300}
RUNS=${RUNS:-5}
LINKED=${LINKED:-0}
SHUFFLE=${SHUFFLE:-0}
FS=${FS:-xfs}
IMG_SIZE=${IMG_SIZE:-8G}
VARIANTS=${VARIANTS:-"hindsight rm ceiling threads1 threads2 threads8 unsorted count"}
DELTREE=$BIN/bench/deltree
UNLINK_LIST=$BIN/bench/unlink-list
MNT=$BENCH_DIR/mnt

[ "$(id -u)" = 0 ] || { echo "bench: run as root (mount, drop_caches)" >&2; exit 1; }
for t in "mkfs.$FS" python3 mountpoint; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
if [ ! -x "$DELTREE" ] || [ ! -x "$UNLINK_LIST" ]; then
	echo "bench: build first (make bench-tools)" >&2
	exit 1
fi

cleanup() {
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH_DIR"
}
mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
rm -rf "$BENCH_DIR"
mkdir -p "$MNT"
trap cleanup EXIT
trap 'exit 130' INT TERM

DROP=no
sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches && DROP=yes
echo "# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r)"
echo "# images in $BENCH_DIR on $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }'); $FS, $(uname -r)"
echo "# dropping caches between runs: $DROP"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) (run this on an idle machine)"

# ---------------------------------------------------------------- the tree

truncate -s "$IMG_SIZE" "$BENCH_DIR/pristine.img"
case $FS in
xfs) mkfs.xfs -q "$BENCH_DIR/pristine.img" ;;
*) "mkfs.$FS" -q -F "$BENCH_DIR/pristine.img" ;;
esac
mount -o loop "$BENCH_DIR/pristine.img" "$MNT"
echo "# building $FILES files in $DIRS directories ($LINKED% also linked from a newer snapshot, shuffled: $SHUFFLE)"
python3 - "$MNT" "$FILES" "$DIRS" "$LINKED" "$SHUFFLE" "$PER_DIR_MAX" <<'EOF'
import os, random, sys
mnt, files, dirs, linked, shuffle, cap = sys.argv[1], *map(int, sys.argv[2:7])
rng = random.Random(20261129)
top = os.path.join(mnt, "snap")
tree = [("", 0)]                          # (relative path, depth)
for i in range(dirs):
    parent, depth = tree[rng.randrange(len(tree))]
    while depth >= 8:
        parent, depth = tree[rng.randrange(len(tree))]
    tree.append((os.path.join(parent, "dir%04d" % i), depth + 1))
weights = [rng.paretovariate(1.2) for _ in tree]
scale = files / sum(weights)
counts = [min(cap, int(w * scale)) for w in weights]
short = files - sum(counts)
while short > 0:                          # top up, spread evenly, up to the cap
    for i in range(len(counts)):
        if short and counts[i] < cap:
            counts[i] += 1
            short -= 1
def size():
    r = rng.random()
    if r < 0.05: return 0
    if r < 0.80: return rng.randrange(1, 4096)
    if r < 0.98: return rng.randrange(4096, 32768)
    return rng.randrange(32768, 262144)
blob = bytes(rng.randrange(256) for _ in range(262144))
n = 0
newer = os.path.join(mnt, "newer")
for (rel, _), count in zip(tree, counts):
    d = os.path.join(top, rel)
    os.makedirs(d, exist_ok=True)
    if linked:
        os.makedirs(os.path.join(newer, rel), exist_ok=True)
    names = ["file%03d.%s" % (k, ("txt", "c", "jpg", "conf")[(n + k) % 4]) for k in range(count)]
    order = list(range(count))
    if shuffle:
        rng.shuffle(order)
    for k in order:                       # inodes: in this order
        with open(os.path.join(d, ".tmp." + names[k]), "wb") as fh:
            fh.write(blob[:size()])
    for name in names:                    # names: in name order
        p = os.path.join(d, name)
        os.rename(os.path.join(d, ".tmp." + name), p)
        if linked and rng.randrange(100) < linked:
            os.link(p, os.path.join(newer, rel, name))
    n += count
print("# made %d files, %d directories, %d deep at most, %d files in the largest" %
      (n, len(tree), max(t[1] for t in tree), max(counts)))
EOF
# the ceiling's list: every file in readdir order, then every directory deepest first
(cd "$MNT" && find snap -mindepth 1 ! -type d && find snap -depth -type d -printf '%p/\n') \
	>"$BENCH_DIR/list"
echo "# on disk: $(du -sh "$MNT/snap" | cut -f1), $(df -i "$MNT" | awk 'NR == 2 { print $3 }') inodes in use"
umount "$MNT"

# ---------------------------------------------------------------- the runs

cmd_of() {
	case $1 in
	hindsight) echo "$DELTREE $MNT/snap" ;;
	threads*) echo "$DELTREE --threads ${1#threads} $MNT/snap" ;;
	unsorted) echo "$DELTREE --unsorted $MNT/snap" ;;
	count) echo "$DELTREE --count $MNT/snap" ;;
	rm) echo "rm -rf $MNT/snap" ;;
	ceiling) echo "$UNLINK_LIST $MNT $BENCH_DIR/list" ;;
	*) echo "bench: unknown variant $1" >&2; exit 2 ;;
	esac
}

for v in $VARIANTS; do echo "# $v: $(cmd_of "$v")"; done

# one timed run: "VARIANT COMMAND_SECONDS TOTAL_SECONDS"
run_one() {
	local v=$1 cmd t0 t1 t2
	cmd=$(cmd_of "$v")
	cp --sparse=always "$BENCH_DIR/pristine.img" "$BENCH_DIR/work.img"
	mount -o loop "$BENCH_DIR/work.img" "$MNT"
	sync
	[ "$DROP" = no ] || echo 3 >/proc/sys/vm/drop_caches
	t0=$EPOCHREALTIME
	$cmd 2>"$BENCH_DIR/stderr" || { cat "$BENCH_DIR/stderr" >&2; echo "bench: $v failed" >&2; exit 1; }
	t1=$EPOCHREALTIME
	stat -f "$MNT" >/dev/null
	sync -f "$MNT"
	t2=$EPOCHREALTIME
	[ ! -e "$MNT/snap" ] || { echo "bench: $v left $MNT/snap behind" >&2; exit 1; }
	umount "$MNT"
	rm "$BENCH_DIR/work.img"
	awk -v v="$v" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%s %.3f %.3f\n", v, b - a, c - a }'
}

read -r -a vs <<<"$VARIANTS"
for r in $(seq 1 "$RUNS"); do
	for i in "${!vs[@]}"; do
		v=${vs[$(((i + r - 1) % ${#vs[@]}))]}
		line=$(run_one "$v")
		echo "$line" >>"$BENCH_DIR/runs.txt"
		echo "# round $r: $line"
	done
done

echo "# medians of $RUNS runs, seconds (command alone, and until statfs+syncfs return):"
python3 - "$BENCH_DIR/runs.txt" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    v, cmd, total = line.split()
    runs.setdefault(v, []).append((float(cmd), float(total)))
med = {v: (statistics.median(c for c, _ in r), statistics.median(t for _, t in r)) for v, r in runs.items()}
for v, (c, t) in med.items():
    extra = ""
    if "hindsight" in med and v != "hindsight":
        extra = "  (%.2fx of hindsight's total)" % (t / med["hindsight"][1])
    print("%-10s command %7.3f  total %7.3f%s" % (v, c, t, extra))
if "hindsight" in med and "rm" in med:
    print("rm -rf / hindsight: %.2fx (command alone %.2fx)" % (med["rm"][1] / med["hindsight"][1], med["rm"][0] / med["hindsight"][0]))
if "hindsight" in med and "ceiling" in med:
    print("hindsight / ceiling: %.2fx (command alone %.2fx)" % (med["hindsight"][1] / med["ceiling"][1], med["hindsight"][0] / med["ceiling"][0]))
EOF
