#!/bin/bash
# bench/du.sh: `hindsight-server du` against `du -s` of the whole backup
# root, on the same data in the same run (results: docs/BENCHMARKS.md,
# "Space accounting: du").
#
#   bench/du.sh [BUILD_DIR]        (default: build/ of this checkout; as root)
#
# Data: a backup root on a loop-mounted XFS image (IMAGE_SIZE, default 8G,
# sparse) with SNAPS (30) snapshots of FILES (100000) files in DIRS (1000)
# directories, 1 to 8 KiB each. The first is written; each next one is a
# `cp -al` of the previous with CHANGES (300) changes: all but 100 are
# files modified (a new inode each, as a push with --link-dest makes
# them), 50 are deletions and 50 new files.
#
# Measured: RUNS (5) runs of each command, alternating, after one warm-up
# run of each (warm caches, as on a server that ran a push a moment ago):
#   hindsight-server du --root R
#   du -s R
# each under /usr/bin/time for the wall time and the peak RSS, then the
# medians and their ratio. Target: hindsight at least 2x faster than du.
#
# Needs root (loop mount), xfsprogs (mkfs.xfs), GNU time (/usr/bin/time),
# python3, jq. The image lives in BENCH_DIR (default
# /var/tmp/hindsight-bench-du), removed at the end unless KEEP=1.
set -eu
export LC_ALL=C TZ=UTC

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/hindsight-bench-du}
IMAGE_SIZE=${IMAGE_SIZE:-8G}
SNAPS=${SNAPS:-30}
FILES=${FILES:-100000}
DIRS=${DIRS:-1000}
CHANGES=${CHANGES:-300}
RUNS=${RUNS:-5}
HSS=$BIN/hindsight-server

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (loop mount)" >&2; exit 1; }
for t in mkfs.xfs /usr/bin/time python3 jq; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$HSS" ] || { echo "bench: build first (make)" >&2; exit 1; }

MNT=$BENCH_DIR/mnt
R=$MNT/root
cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH_DIR"
}
if [ "${REUSE:-0}" = 1 ] && [ -f "$BENCH_DIR/du.img" ]; then
	mkdir -p "$MNT"
	mountpoint -q "$MNT" || mount -o loop "$BENCH_DIR/du.img" "$MNT"
	trap cleanup EXIT
else
	rm -rf "$BENCH_DIR"
	mkdir -p "$MNT"
	truncate -s "$IMAGE_SIZE" "$BENCH_DIR/du.img"
	mkfs.xfs -q "$BENCH_DIR/du.img"
	mount -o loop "$BENCH_DIR/du.img" "$MNT"
	trap cleanup EXIT
fi

echo "# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
echo "# filesystem: $(findmnt -no FSTYPE,OPTIONS "$MNT") on a loop device, image in $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }')"
echo "# du: $(du --version | head -n 1)"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) (run this on an idle machine)"

if [ ! -d "$R" ]; then
	t0=$(date -u -d 2026-01-01 +%s)
	name() { date -u -d "@$((t0 + $1 * 86400))" +%Y_%m_%d_%H_%M_%S; }
	mkdir -p "$R/.hindsight/snapshots"
	first=$(name 0)
	echo "# building $FILES files in $DIRS directories, then $((SNAPS - 1)) snapshots with cp -al"
	python3 - "$R/$first" "$FILES" "$DIRS" <<'EOF'
import os, random, sys
top, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
per = files // dirs
for d in range(dirs):
    dd = os.path.join(top, "home", "u%02d" % (d % 20), "dir%04d" % d)
    os.makedirs(dd, exist_ok=True)
    for f in range(per):
        with open(os.path.join(dd, "file%03d" % f), "wb") as fh:
            fh.write(os.urandom(random.randint(1024, 8192)))
EOF
	prev=$first
	for i in $(seq 1 $((SNAPS - 1))); do
		cur=$(name "$i")
		cp -al "$R/$prev" "$R/$cur"
		python3 - "$R/$cur" "$FILES" "$DIRS" "$CHANGES" "$i" <<'EOF'
import os, random, sys
top, files, dirs, changes, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
per = files // dirs
def dirpath(d):
    return os.path.join(top, "home", "u%02d" % (d % 20), "dir%04d" % d)
present = []
for d in random.sample(range(dirs), min(dirs, changes)):
    names = os.listdir(dirpath(d))
    if names:
        present.append(os.path.join(dirpath(d), random.choice(names)))
for p in present[:changes - 100]:      # modified: a new inode, as a push makes it
    os.unlink(p)
    with open(p, "wb") as fh:
        fh.write(os.urandom(random.randint(1024, 8192)))
for p in present[changes - 100:changes - 50]:   # deleted
    os.unlink(p)
for k in range(50):                     # added
    with open(os.path.join(dirpath(random.randrange(dirs)), "new%02d_%03d" % (seed, k)), "wb") as fh:
        fh.write(os.urandom(4096))
EOF
		echo '{}' >"$R/.hindsight/snapshots/$cur.json"
		prev=$cur
	done
	ln -s "$prev" "$R/current"
	sync
fi
echo "# root: $(find "$R" -mindepth 1 -maxdepth 1 -name '2*' | wc -l) snapshots, $(df --output=iused "$MNT" | tail -n 1 | tr -d " ") inodes in use, $(du -sh "$R" | cut -f1) allocated"

hs_total=$("$HSS" du --root "$R" --json | jq '.total.allocated_bytes')
du_total=$(du -sB1 "$R" | cut -f1)
echo "# totals agree: hindsight-server du $hs_total bytes, du -sB1 $du_total bytes"
[ "$hs_total" = "$du_total" ] || { echo "bench: the totals differ" >&2; exit 1; }

# measure NAME CMD...: one run, "NAME SECONDS KBYTES" appended to the log
LOG=$BENCH_DIR/runs.txt
: >"$LOG"
measure() {
	local n=$1
	shift
	/usr/bin/time -f "$n %e %M" -a -o "$LOG" "$@" >/dev/null
}
echo "# warm-up, then $RUNS runs of each, alternating"
"$HSS" du --root "$R" >/dev/null
du -s "$R" >/dev/null
for i in $(seq 1 "$RUNS"); do
	measure hindsight "$HSS" du --root "$R"
	measure du du -s "$R"
done
cat "$LOG" | sed 's/^/# run: /'
python3 - "$LOG" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    n, s, kb = line.split()
    runs.setdefault(n, []).append((float(s), int(kb)))
med = {n: (statistics.median(s for s, _ in r), statistics.median(k for _, k in r), max(k for _, k in r))
       for n, r in runs.items()}
for n in ("hindsight", "du"):
    s, k, kmax = med[n]
    print("# %-9s median %.2f s, peak RSS median %d KiB (max %d KiB), runs: %s"
          % (n, s, k, kmax, " ".join("%.2f" % x for x, _ in runs[n])))
print("# hindsight-server du is %.2fx faster than du -s" % (med["du"][0] / med["hindsight"][0]))
EOF
