#!/bin/bash
# bench/sealed.sh: what sealing costs. The same incremental push of a
# 100k-file tree with 1% changed, into a sealed root and into a simple
# root of the same account, in the same run (results: docs/BENCHMARKS.md,
# "Sealed mode: the cost of sealing").
#
#   bench/sealed.sh [BUILD_DIR]      (default: build/ of this checkout; as root)
#
# Data: FILES (100000) files of 1 to 8 KiB in DIRS (1000) directories,
# pushed once in full to each root; then RUNS (5) times: CHANGES (1000,
# 1%) files rewritten (new content, same size class), then one push to the
# sealed root and one to the simple root, alternating which goes first.
# Pushes go through rsync with a transport that runs `hindsight-server
# serve` as the account with no ssh in between (the smallest push time,
# so the largest share for sealing), exactly as sshd's forced command
# would. The sealer runs in the foreground (--listen) and logs, per push,
# the time of the seal alone (seal_ms: journal, walk, rename, metadata)
# and of the whole request.
#
# Measured per run: the wall time of each push (rsync start to exit), and
# the sealer's seal_ms. Reported: medians; seal_ms / sealed push; sealed
# push / simple push.
#
# Needs root (an account, fs.protected_hardlinks=0 for the duration,
# put back after), rsync, python3, setpriv. Everything lives in BENCH_DIR
# (default /var/tmp/hindsight-bench-sealed), removed at the end unless
# KEEP=1; the account hsbench and the vault owner hsbenchvault likewise.
set -eu
export LC_ALL=C TZ=UTC

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/hindsight-bench-sealed}
FILES=${FILES:-100000}
DIRS=${DIRS:-1000}
CHANGES=${CHANGES:-1000}
RUNS=${RUNS:-5}
ACCT=hsbench
VAULT=hsbenchvault

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
for t in rsync python3 setpriv /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$BIN/hindsight-server" ] || { echo "bench: build first (make)" >&2; exit 1; }
getent passwd "$ACCT" >/dev/null && { echo "bench: an account $ACCT exists already" >&2; exit 1; }

OLD_PH=$(cat /proc/sys/fs/protected_hardlinks)
SEALER=
made_group=0
getent group hindsight >/dev/null || made_group=1
cleanup() {
	[ -n "$SEALER" ] && kill "$SEALER" 2>/dev/null && wait "$SEALER" 2>/dev/null
	sysctl -qw fs.protected_hardlinks="$OLD_PH"
	userdel "$ACCT" 2>/dev/null || true
	userdel "$VAULT" 2>/dev/null || true
	rm -f "/etc/ssh/authorized_keys/$ACCT"
	[ "$made_group" = 1 ] && groupdel hindsight 2>/dev/null
	[ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

rm -rf "$BENCH_DIR"
mkdir -p -m 755 "$BENCH_DIR" "$BENCH_DIR/bin" "$BENCH_DIR/srv" "$BENCH_DIR/simple" "$BENCH_DIR/etc"
cp "$BIN/hindsight-server" "$BENCH_DIR/bin/"
HSS=$BENCH_DIR/bin/hindsight-server
CONF=$BENCH_DIR/etc/server.conf
SOCK=$BENCH_DIR/sealer.sock
cat >"$CONF" <<EOF
[server]
base = $BENCH_DIR/srv
vault_user = $VAULT
sealer_socket = $SOCK
min_free = 0
min_free_inodes = 0
EOF
chmod 644 "$CONF"
sysctl -qw fs.protected_hardlinks=0
ssh-keygen -q -t ed25519 -N '' -f "$BENCH_DIR/key"
HINDSIGHT_SERVER_CONF=$CONF "$HSS" adduser "$ACCT" --key "$BENCH_DIR/key.pub" --base "$BENCH_DIR/srv" --sealed >/dev/null
SEALED=$BENCH_DIR/srv/$ACCT
SIMPLE=$BENCH_DIR/simple/root
install -d -o "$ACCT" -g "$ACCT" -m 700 "$SIMPLE"
"$HSS" sealer --listen "$SOCK" --config "$CONF" 2>"$BENCH_DIR/sealer.log" &
SEALER=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

# transport ROOT-OPTION: what sshd's forced command would run, as the account
for kind in sealed simple; do
	opt=""
	[ "$kind" = simple ] && opt="--root $SIMPLE"
	cat >"$BENCH_DIR/bin/to-$kind" <<EOF
#!/bin/sh
shift
exec setpriv --reuid $ACCT --regid $ACCT --init-groups /usr/bin/env SSH_ORIGINAL_COMMAND="\$*" $HSS serve --config $CONF $opt
EOF
	chmod 755 "$BENCH_DIR/bin/to-$kind"
done

echo "# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
echo "# filesystem: $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }') ($(findmnt -no OPTIONS -T "$BENCH_DIR"))"
echo "# rsync: $(rsync --version | head -n 1)"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) (run this on an idle machine)"

SRC=$BENCH_DIR/data
echo "# building $FILES files in $DIRS directories"
python3 - "$SRC" "$FILES" "$DIRS" <<'EOF'
import os, random, sys
top, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
per = files // dirs
for d in range(dirs):
    dd = os.path.join(top, "u%02d" % (d % 20), "dir%04d" % d)
    os.makedirs(dd, exist_ok=True)
    for f in range(per):
        with open(os.path.join(dd, "file%03d" % f), "wb") as fh:
            fh.write(os.urandom(random.randint(1024, 8192)))
EOF
chmod -R a+rX "$SRC"

# push KIND: one push, as `hindsight backup` pushes; prints its seconds
push() {
	local t0 t1
	t0=$(date +%s%N)
	rsync -aAXH --numeric-ids --delete -e "$BENCH_DIR/bin/to-$1" "$SRC/" x: >/dev/null
	t1=$(date +%s%N)
	python3 -c "print('%.3f' % (($t1 - $t0) / 1e9))"
}
fs=$(push sealed)
fms=$(grep -o 'seal_ms=[0-9]*' "$BENCH_DIR/sealer.log" | tail -1 | cut -d= -f2)
echo "# first, full pushes: sealed $fs s (seal $fms ms: every inode new), simple $(push simple) s"
LOG=$BENCH_DIR/runs.txt
: >"$LOG"
for i in $(seq 1 "$RUNS"); do
	python3 - "$SRC" "$CHANGES" "$i" <<'EOF'
import os, random, sys
top, changes, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(100 + seed)
files = [os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs]
for p in random.sample(files, changes):
    with open(p, "wb") as fh:
        fh.write(os.urandom(random.randint(1024, 8192)))
EOF
	sync
	if [ $((i % 2)) = 1 ]; then
		s=$(push sealed); p=$(push simple)
	else
		p=$(push simple); s=$(push sealed)
	fi
	ms=$(grep -o 'seal_ms=[0-9]*' "$BENCH_DIR/sealer.log" | tail -1 | cut -d= -f2)
	echo "$s $p $ms" >>"$LOG"
	echo "# run $i: sealed push $s s (seal $ms ms), simple push $p s"
done
n=$(ls "$SEALED" | grep -c '^2')
bad=$(find "$SEALED"/2* ! -user "$VAULT" | head -3)
same=$(stat -c %i "$SEALED"/$(ls "$SEALED" | grep '^2' | sed -n 1p)/u00/dir0000/file000 \
	"$SEALED"/$(ls "$SEALED" | grep '^2' | sed -n 2p)/u00/dir0000/file000 | uniq | wc -l)
echo "# checks: $n sealed snapshots, inodes not the vault's: ${bad:-none}, an unchanged file's inodes in the first two: $same (1: linked)"
python3 - "$LOG" <<'EOF'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
s = statistics.median(r[0] for r in rows)
p = statistics.median(r[1] for r in rows)
m = statistics.median(r[2] for r in rows) / 1000
print("# median sealed push %.2f s, of which sealing %.3f s; median simple push %.2f s" % (s, m, p))
print("# sealing / sealed push: %.1f%%" % (100 * m / s))
print("# sealed push / simple push: %.3fx" % (s / p))
EOF
