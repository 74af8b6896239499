#!/bin/bash
# bench/fastpush.sh: the fast sealed push (docs/FASTPUSH.md) against what
# it replaces and what it is compared with, on the same data in the same
# run, alternating.
#
#   bench/fastpush.sh [BUILD_DIR]     (after make && make bench-tools; as root)
#   PROFILE=small bench/fastpush.sh   (10k files, 200 MiB)
#
# The scene is bench/bench.sh's (bench/lib.sh): an XFS loop image on MNT
# (/hsbench), gentree's source in MNT/src (full: 100k files in 5000
# directories, 2 GiB), a real sshd on 127.0.0.1. Two sealed accounts made
# by `hindsight-server adduser --sealed` under MNT/srv, with the sealer in
# the foreground, and one plain key for bare rsync (as the first account).
#
# Variants, each on a tree of its own, each pushed once per round, in an
# order rotated each round:
#   fast       hindsight backup --repo fast: SRC (sealed root; the fast path)
#   linkdest   rsync -aAXHS --numeric-ids --relative SRC slow: (the same
#              sealed serve, no delete option, so it takes the --link-dest
#              path: what a sealed push cost before)
#   bare       rsync -a --delete --link-dest=ABS/cur SRC bare:ABS/new over ssh
#   cpal       cp -al cur new && rsync -a --delete SRC/ new/ (local:
#              rsnapshot's way, without rsnapshot's own rotation)
# Cases: none (no change since the last push), 1pct (gentree state 1/0
# flipped before the round: 1% of the files changed, new inodes).
# bare and cpal rotate new -> cur after each push (untimed).
#
# Prints one line per push and the medians; TSV in OUT (BUILD_DIR/fastpush-PROFILE).
set -eu
export LC_ALL=C TZ=UTC
umask 022

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
PROFILE=${PROFILE:-full}
case $PROFILE in
full) : "${FILES:=100000}" "${DIRS:=5000}" "${BYTES:=2147483648}" "${RUNS:=3}" "${IMG_SIZE:=16G}" ;;
small) : "${FILES:=10000}" "${DIRS:=500}" "${BYTES:=209715200}" "${RUNS:=3}" "${IMG_SIZE:=4G}" ;;
*) echo "bench: PROFILE is full or small" >&2; exit 2 ;;
esac
: "${VARIANTS:=fast linkdest bare cpal}" "${CASES:=none 1pct}"
BENCH_DIR=${BENCH_DIR:-/var/lib/hindsight-bench-fastpush}
MNT=${MNT:-/hsbench-fp}
OUT=${OUT:-$BIN/fastpush-$PROFILE}

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
for f in hindsight hindsight-server bench/gentree; do
	[ -e "$BIN/$f" ] || { echo "bench: $BIN/$f is missing (make && make bench-tools)" >&2; exit 1; }
done
. "$SRCDIR/bench/lib.sh"
[ -e "$BENCH_DIR" ] && die "$BENCH_DIR exists: another bench running, or left over"
trap teardown EXIT
trap 'exit 130' INT TERM HUP
install -d -m 755 "$BENCH_DIR" "$BENCH_DIR/bin" "$BENCH_DIR/etc" "$BENCH_DIR/auth" "$BENCH_DIR/client"
rm -rf "$OUT"
mkdir -p "$OUT"
install -m 755 "$BIN/hindsight" "$BIN/hindsight-server" "$BENCH_DIR/bin/"
export HOME=$BENCH_DIR/home
mkdir -p -m 700 "$HOME"
HS=$BENCH_DIR/bin/hindsight
HSS=$BENCH_DIR/bin/hindsight-server
GENTREE="$BIN/bench/gentree --files $FILES --dirs $DIRS --bytes $BYTES"

make_fs
OLD_PH=$(cat /proc/sys/fs/protected_hardlinks)
at_exit "sysctl -qw fs.protected_hardlinks=$OLD_PH"
sysctl -qw fs.protected_hardlinks=0
CONF=$BENCH_DIR/etc/server.conf
SOCK=$BENCH_DIR/sealer.sock
VAULT=hsfpv$$
mkdir -p -m 755 "$MNT/srv"
cat >"$CONF" <<EOF
[server]
base = $MNT/srv
vault_user = $VAULT
sealer_socket = $SOCK
min_free = 0
min_free_inodes = 0
keep = forever:all
EOF
chmod 644 "$CONF"
getent group hindsight >/dev/null || at_exit "groupdel hindsight 2>/dev/null || true"
at_exit "userdel $VAULT 2>/dev/null || true"
A_FAST=hsfpa$$ A_SLOW=hsfpb$$
for a in $A_FAST $A_SLOW; do
	at_exit "pkill -9 -u $a 2>/dev/null; userdel $a 2>/dev/null || true; rm -f /etc/ssh/authorized_keys/$a"
	ssh-keygen -q -t ed25519 -N '' -f "$BENCH_DIR/client/$a.adduser"
	HINDSIGHT_SERVER_CONF=$CONF "$HSS" adduser "$a" --key "$BENCH_DIR/client/$a.adduser.pub" \
		--base "$MNT/srv" --sealed >/dev/null
	usermod -p '*' "$a"
done
"$HSS" sealer --listen "$SOCK" --config "$CONF" 2>"$BENCH_DIR/sealer.log" &
SEALER=$!
at_exit "kill $SEALER 2>/dev/null; wait $SEALER 2>/dev/null || true"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

# keys: fast and slow as their accounts (forced serve), bare as the first (a shell)
ACCT=$A_FAST
key fast "restrict,command=\"$HSS serve --config $CONF\""
key bare
install -d -m 755 -o "$A_FAST" -g "$A_FAST" "$MNT/bare"
ACCT=$A_SLOW
key slow "restrict,command=\"$HSS serve --config $CONF\""
ACCT="$A_FAST $A_SLOW"   # AllowUsers takes a list; the client config is ours
start_sshd
ACCT=
for name in fast bare slow; do
	u=$A_FAST
	[ "$name" = slow ] && u=$A_SLOW
	sed -i "/^Host $name\$/,/^Host /s/^  User .*/  User $u/" "$SSH_CONF"
done
mkdir -p -m 700 "$MNT/local"

{
	echo "profile: $PROFILE ($FILES files, $DIRS directories, $BYTES bytes; $RUNS runs)"
	echo "machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
	echo "filesystem: XFS, reflink $(xfs_info "$MNT" | sed -n 's/.*reflink=\([0-9]\).*/\1/p'), $IMG_SIZE loop image"
	echo "rsync: $(rsync --version | head -n 1 | sed 's/  */ /g'); ssh: $(ssh -V 2>&1)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" | sed 's/^/# /'

say "making the source: $GENTREE create $MNT/src"
$GENTREE create "$MNT/src" | sed 's/^/# /'
RSH="ssh -F $SSH_CONF"

run_variant() {   # run_variant VARIANT: one push, timed; prints seconds
	local v=$1 t0 t1 rc=0
	t0=$(date +%s%N)
	case $v in
	fast) "$HS" backup --quiet --repo fast: --ssh "$RSH" "$MNT/src" || rc=$? ;;
	linkdest) rsync -aAXHS --numeric-ids --relative -e "$RSH" "$MNT/src" slow: || rc=$? ;;
	bare) rsync -a --delete --link-dest="$MNT/bare/cur" -e "$RSH" "$MNT/src" "bare:$MNT/bare/new" || rc=$? ;;
	cpal) { cp -al "$MNT/local/cur" "$MNT/local/new" && rsync -a --delete "$MNT/src" "$MNT/local/new/"; } || rc=$? ;;
	esac
	t1=$(date +%s%N)
	[ "$rc" = 0 ] || die "$v failed (exit $rc)"
	python3 -c "print('%.3f' % (($t1 - $t0) / 1e9))"
}

AHEAD_MS=
rotate() {   # untimed: new -> cur for the plain trees; fast: its clone ahead finishes
	AHEAD_MS=
	case $1 in
	fast)
		# the clone of the new snapshot for the next push (serve's clone ahead)
		# holds the lock after the push returned: paid between pushes, and
		# never while another variant is timed
		local t0 l=$MNT/srv/$A_FAST/.hindsight/lock
		t0=$(date +%s%N)
		until flock -n "$l" true; do sleep 0.01; done
		AHEAD_MS=$((($(date +%s%N) - t0) / 1000000)) ;;
	bare) rm -rf "$MNT/bare/cur"; mv "$MNT/bare/new" "$MNT/bare/cur" ;;
	cpal) rm -rf "$MNT/local/cur"; mv "$MNT/local/new" "$MNT/local/cur" ;;
	esac
	sync -f "$MNT"
}

say "first, full pushes"
for v in $VARIANTS; do
	case $v in
	bare) rsync -a --delete -e "$RSH" "$MNT/src" "bare:$MNT/bare/cur" ;;
	cpal) rsync -a --delete "$MNT/src" "$MNT/local/cur/" ;;
	*) say "full $v: $(run_variant "$v") s"; rotate "$v" ;;
	esac
done
# one unmeasured push each, so every variant starts from a basis of the same state
for v in $VARIANTS; do run_variant "$v" >/dev/null; rotate "$v"; done
if [ -n "${HOLD:-}" ]; then
	# for profiling by hand: the scene stays up until BENCH_DIR/hold goes
	declare -p HS HSS RSH MNT A_FAST A_SLOW VAULT CONF GENTREE SSH_CONF >"$BENCH_DIR/hold.env"
	touch "$BENCH_DIR/hold"
	say "holding: source $BENCH_DIR/hold.env; rm $BENCH_DIR/hold to go on"
	while [ -e "$BENCH_DIR/hold" ]; do sleep 1; done
fi

: >"$OUT/runs.tsv"
state=0
round=0
for r in $(seq 1 "$RUNS"); do
	for c in $CASES; do
		if [ "$c" = 1pct ]; then
			state=$((1 - state))
			$GENTREE state "$state" "$MNT/src" >/dev/null
		fi
		sync -f "$MNT"
		vs=($VARIANTS)
		off=$((round % ${#vs[@]}))
		order="${vs[*]:off} ${vs[*]:0:off}"
		round=$((round + 1))
		# each variant pushes to a tree of its own, last pushed before the flip
		for v in $order; do
			s=$(run_variant "$v")
			rotate "$v"
			printf '%s\t%s\t%s\t%s\n' "$c" "$v" "$r" "$s" >>"$OUT/runs.tsv"
			say "$c $v run $r: $s s${AHEAD_MS:+ (then the clone ahead: $AHEAD_MS ms, untimed)}"
		done
	done
done

n=$(find "$MNT/srv/$A_FAST" -mindepth 1 -maxdepth 1 -name '2*' | wc -l)
bad=$(find "$MNT/srv/$A_FAST"/2* ! -user "$VAULT" 2>/dev/null | head -3)
say "checks: $n sealed snapshots of the fast account, inodes not the vault's: ${bad:-none}"
last=$(readlink "$MNT/srv/$A_FAST/current")
diffs=$(rsync -nai --delete -M--fake-super "$MNT/src/" "$MNT/srv/$A_FAST/$last$MNT/src/" 2>&1 | grep -v '^\.d' | head -5)
say "the last fast snapshot against the source (rsync -nai, content and times): ${diffs:-no difference}"
python3 - "$OUT/runs.tsv" <<'EOF' | tee "$OUT/results.txt"
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
med = {}
for c, v, _, s in rows:
    med.setdefault((c, v), []).append(float(s))
for c in sorted({c for c, _, _, _ in rows}):
    m = {v: statistics.median(x) for (cc, v), x in med.items() if cc == c}
    print("# %s: %s" % (c, ", ".join("%s %.2f s" % (v, t) for v, t in sorted(m.items()))))
    if "fast" in m:
        for o in ("bare", "linkdest", "cpal"):
            if o in m:
                print("#   %s / fast: %.2fx" % (o, m[o] / m["fast"]))
EOF
