#!/bin/bash
# bench/status.sh: what `hindsight-server status` costs per root, against
# `du -s` of the same root, on the same data in the same run (results:
# docs/BENCHMARKS.md, "status").
#
#   bench/status.sh [BUILD_DIR]        (default: build/ of this checkout)
#
# A local backup root with SNAPS (10) snapshots of FILES (100000) small
# files in DIRS (1000) directories, every snapshot a `cp -al` of the first
# (as unchanged files are in a real history: one inode, SNAPS names).
# hyperfine runs
#   hindsight-server status --root R --json              (walks the root)
#   hindsight-server status --root R --json --no-usage   (no walk)
#   du -s R                                              (the tool it matches)
# Warm caches (--warmup 2), RUNS runs (default 10). status exits 1 here
# (the snapshots are old: stale), so hyperfine is told to ignore it. The data
# lives in BENCH_DIR (default /var/tmp/hindsight-bench-status, removed at the
# end unless KEEP=1). Needs hyperfine, jq, python3; run as any user.
set -eu
export LC_ALL=C TZ=UTC

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/hindsight-bench-status}
FILES=${FILES:-100000}
DIRS=${DIRS:-1000}
SNAPS=${SNAPS:-10}
RUNS=${RUNS:-10}
HSS=$BIN/hindsight-server

for t in hyperfine jq python3; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$HSS" ] || { echo "bench: build first (make)" >&2; exit 1; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$BENCH_DIR"' EXIT

echo "# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r)"
echo "# filesystem of $BENCH_DIR: $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }')"
echo "# hyperfine: $(hyperfine --version)"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) (run this on an idle machine)"

R="$BENCH_DIR/root"
FIRST=2026_01_01_00_00_00
mkdir -p "$R/.hindsight/snapshots" "$R/$FIRST"
python3 - "$R/$FIRST" "$FILES" "$DIRS" <<'PY'
import os, sys
base, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = files // dirs
for d in range(dirs):
    p = os.path.join(base, 'd%05d' % d)
    os.mkdir(p)
    for f in range(per):
        with open(os.path.join(p, 'f%05d' % f), 'wb') as fh:
            fh.write(b'x' * (100 + f % 1000))
PY
for i in $(seq 2 "$SNAPS"); do
	cp -al "$R/$FIRST" "$R/$(printf '2026_01_%02d_00_00_00' "$i")"
done
ln -s "$(printf '2026_01_%02d_00_00_00' "$SNAPS")" "$R/current"
echo "# data: $SNAPS snapshots x $FILES files in $DIRS directories," \
	"$(find "$R" | wc -l) names, $(find "$R" -type f -links +1 | wc -l) of them linked files"

out="$BENCH_DIR/status.json"
hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$out" \
	"$HSS status --root $R --json" \
	"$HSS status --root $R --json --no-usage" \
	"du -s $R"
mean() { jq -r ".results[$1].mean" "$out"; }
echo "# status (with usage) / du -s: $(jq -n "$(mean 0) / $(mean 2) * 100 | round / 100")"
echo "# status --no-usage: $(jq -n "$(mean 1) * 10000 | round / 10") ms"
echo "# bytes: status $("$HSS" status --root "$R" --json | jq .accounts[0].bytes)," \
	"du -s -B1 $(( $(du -s -B1 "$R" | cut -f1) - $(stat -c '%b * %B' "$R") )) (below the root)"
