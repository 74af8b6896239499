#!/bin/bash
# bench/history.sh: the history queries against what a user would otherwise
# run, on the same data in the same run (results: docs/BENCHMARKS.md,
# "History queries").
#
#   bench/history.sh [BUILD_DIR]        (default: build/ of this checkout)
#
# 1. diff. A local backup root with two snapshots of FILES files (100000)
#    in DIRS directories (5000), the second made from the first with
#    `cp -al` and then 1% of the files changed the way a push changes them
#    (a new inode for each modified file; hindsight links every unchanged
#    one): 400 modified, 300 deleted, 300 added. hyperfine then runs
#      hindsight diff A B --repo R                (the client, end to end)
#      hindsight-server local x hindsight diff A B   (the server query alone)
#      the same pinned to one CPU with taskset (diff spreads over the CPUs)
#      rsync -nai --delete R/A/ R/B/              (the tool it replaces)
#    and the script prints the ratio. Target: hindsight at least 10x faster.
#
# 2. versions. A root with SNAPS (1000) snapshots of a small tree, made with
#    `cp -al` from one tree under consecutive hourly names, the file
#    replaced (a new inode) every 10th snapshot: 100 versions. hyperfine runs
#      hindsight versions PATH --repo R
#    against `stat` of the path in every snapshot (one process, a glob).
#    Target: under 100 ms.
#
# Both use warm caches (--warmup 2) and RUNS runs (default 10). The data
# lives in BENCH_DIR (default /var/tmp/hindsight-bench, removed at the end
# unless KEEP=1); its filesystem is printed with the results. Needs
# hyperfine, jq, python3, rsync, taskset; run as any user.
set -eu
export LC_ALL=C TZ=UTC

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/hindsight-bench}
FILES=${FILES:-100000}
DIRS=${DIRS:-5000}
SNAPS=${SNAPS:-1000}
RUNS=${RUNS:-10}
HS=$BIN/hindsight
HSS=$BIN/hindsight-server

for t in hyperfine jq python3 rsync taskset; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$HS" ] && [ -x "$HSS" ] || { echo "bench: build first (make)" >&2; exit 1; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$BENCH_DIR"' EXIT

echo "# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r)"
echo "# filesystem of $BENCH_DIR: $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }')"
echo "# rsync: $(rsync --version | head -n 1)"
echo "# hyperfine: $(hyperfine --version)"
# diff spreads over every CPU: another busy process skews its figure
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) (run this on an idle machine)"

# ---------------------------------------------------------------- diff

R=$BENCH_DIR/diff
A=2026_01_01_00_00_00
B=2026_01_02_00_00_00
mkdir -p "$R/.hindsight/snapshots" "$R/$A"
echo "# building $FILES files in $DIRS directories"
python3 - "$R/$A/data" "$FILES" "$DIRS" <<'EOF'
import os, sys
top, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = files // dirs
for d in range(dirs):
    dd = os.path.join(top, "d%02d" % (d % 50), "dir%05d" % d)
    os.makedirs(dd, exist_ok=True)
    for f in range(per):
        with open(os.path.join(dd, "file%03d.txt" % f), "w") as fh:
            fh.write("dir %d file %d\n" % (d, f))
EOF
cp -al "$R/$A" "$R/$B"
echo "# changing 1% of them in $B: 400 modified, 300 deleted, 300 added"
python3 - "$R/$B/data" "$FILES" "$DIRS" <<'EOF'
import os, random, sys
top, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = files // dirs
random.seed(42)
picked = random.sample(range(files), 700)
def path(i):
    d, f = divmod(i, per)
    return os.path.join(top, "d%02d" % (d % 50), "dir%05d" % d, "file%03d.txt" % f)
for i in picked[:400]:            # modified: a new inode, as a push makes it
    p = path(i)
    os.unlink(p)
    with open(p, "w") as fh:
        fh.write("changed %d\n" % i)
for i in picked[400:]:            # deleted
    os.unlink(path(i))
for k in range(300):              # added
    d = random.randrange(dirs)
    with open(os.path.join(top, "d%02d" % (d % 50), "dir%05d" % d, "new%03d.txt" % k), "w") as fh:
        fh.write("new\n")
EOF
ln -s "$B" "$R/current"

n_hs=$("$HS" diff "$A" "$B" --repo "$R" 2>/dev/null | wc -l)
n_rsync=$(rsync -nai --delete "$R/$A/" "$R/$B/" | grep -vc '^\.d')
echo "# hindsight diff reports $n_hs changes; rsync -nai reports $n_rsync (without directory times)"

hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$BENCH_DIR/diff.json" \
	-n "hindsight diff" "$HS diff $A $B --repo $R" \
	-n "server query" "env HINDSIGHT_ROOT=$R $HSS local x hindsight diff $A $B" \
	-n "server query, one CPU" "taskset -c 0 env HINDSIGHT_ROOT=$R $HSS local x hindsight diff $A $B" \
	-n "rsync -nai --delete" "rsync -nai --delete $R/$A/ $R/$B/"
jq -r '.results as $r | ($r[] | select(.command == "rsync -nai --delete") | .mean) as $base |
	$r[] | "# \(.command): mean \(.mean * 1000 | floor) ms (\($base / .mean * 10 | floor / 10)x faster than rsync)"' \
	"$BENCH_DIR/diff.json"

# ---------------------------------------------------------------- versions

R=$BENCH_DIR/versions
mkdir -p "$R/.hindsight/snapshots" "$R/seed/home/me/docs"
for i in $(seq 1 100); do echo "file $i" >"$R/seed/home/me/docs/f$i.txt"; done
echo "version 0" >"$R/seed/home/me/report.odt"
echo "# making $SNAPS snapshots with cp -al, report.odt replaced every 10th"
t0=$(date -u -d 2026-01-01 +%s)
prev=$R/seed
for i in $(seq 0 $((SNAPS - 1))); do
	name=$(date -u -d "@$((t0 + i * 3600))" +%Y_%m_%d_%H_%M_%S)
	cp -al "$prev" "$R/$name"
	if [ $((i % 10)) -eq 9 ]; then
		rm "$R/$name/home/me/report.odt"
		echo "version $i" >"$R/$name/home/me/report.odt"
	fi
	prev=$R/$name
done
rm -rf "$R/seed"
ln -s "$name" "$R/current"
echo "# versions: $("$HS" versions /home/me/report.odt --repo "$R" --json | jq '.versions | length')"

hyperfine --warmup 2 --runs "$RUNS" --export-json "$BENCH_DIR/versions.json" \
	-n "hindsight versions" "$HS versions /home/me/report.odt --repo $R" \
	-n "stat in every snapshot" "stat -c '%i %s %Y' $R/2*/home/me/report.odt"
jq -r '.results[] | "# \(.command): mean \(.mean * 1000 * 10 | floor / 10) ms"' "$BENCH_DIR/versions.json"
