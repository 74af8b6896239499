#!/bin/bash
# bench/options.sh: where the push gap of `make bench` comes from
# (docs/BENCHMARKS.md, "Where the time goes"). The scene of bench/bench.sh
# (lib.sh: an XFS loop mount, an account, a real sshd on loopback), the
# source of PROFILE=small by default (10k files, 200 MiB), and then:
#
#   timing   bare `rsync -a --delete [--link-dest]` over ssh against the
#            same with ONE of hindsight's additions at a time (-A, -X, -H,
#            -S, --numeric-ids, --relative, -M--fake-super, then sync -f),
#            all of them (bare-hs), bare-hs with the options serve gives
#            its rsync (bare-hs-srv, through -M), hindsight backup through
#            serve, and hindsight backup with `nice = 0` and `ionice = none` (the
#            client lowers its own priority by default). Cases full, none,
#            1pct as in bench.sh; alternating rounds (lib.sh compare).
#   strace   one run of each variant of the 1pct and full cases with
#            `strace -f -c` on both ends: the client's processes (rsync,
#            ssh, and for hindsight its own), and the receiving end (the
#            rsync --server through --rsync-path for the bare variants;
#            hindsight-server serve and the rsync it starts, through a key
#            whose forced command runs serve under strace).
#   timeline one hindsight push per case with serve under
#            `strace -f -ttt` limited to process, lock and sync calls: when
#            serve starts, probes rsync, starts the receiver, when that
#            exits, how long syncfs and publishing take (bench/timeline.py).
#   perf     (MODE=local only) one 1pct push of bare, bare-hs and hindsight
#            under `perf record -g`: every process of a local push is the
#            command's child, so the profile is the push's alone on a
#            shared machine. Reported by command, by symbol, and by kind
#            of work (bench/perfcat.py: perf/categories.md).
#
#   With MODE=local, the variants push to a local directory instead, as
#   root (as make bench's local group: hindsight backup --repo DIR), where
#   hyperfine's user and system times cover every process. Stages: over
#   ssh timing, strace and timeline; locally timing and perf.
#
#   bench/options.sh BUILD_DIR        # as root, after make && make bench-tools
#   MODE=local bench/options.sh BUILD_DIR
#   STAGES="timing strace" OPT_VARIANTS="bare A X" bench/options.sh build
#
# Results in OUT (BUILD_DIR/bench-options, or bench-options-local): runs.tsv (as bench.sh's),
# summary.md (medians and ratios to bare), strace/*.txt, timeline/*.txt,
# perf/*.txt. Never part of `make check`.
set -eu
export LC_ALL=C TZ=UTC
umask 022

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --reset ]; then
	case $2 in
	dir) rm -rf "$3" ;;
	root) shift 2
		# bench.sh's reset of a root, without the rest of bench.sh
		root=$1 basis=${2:-}
		if [ -z "$basis" ]; then
			find "$root" -mindepth 1 -delete
		else
			for d in "$root"/2[0-9][0-9][0-9]_*; do
				[ -d "$d" ] || continue
				[ "${d##*/}" = "$basis" ] && continue
				rm -rf "$d"
				rm -f "$root/.hindsight/snapshots/${d##*/}.json"
			done
			rm -rf "$root/inprogress" "$root/.hindsight/resume/"* "$root/.hindsight/trash/"*
			ln -sfn "$basis" "$root/current"
			chown -h --reference="$root" "$root/current"
		fi ;;
	esac
	sync -f "$MNT_ARG" 2>/dev/null || sync
	stat -f "$MNT_ARG" >/dev/null 2>&1 || true
	exit 0
fi

BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
: "${FILES:=10000}" "${DIRS:=500}" "${BYTES:=209715200}" "${RUNS:=5}" "${WARMUP:=1}"
: "${IMG_SIZE:=8G}"
: "${OPT_VARIANTS:=bare A X H S numeric-ids relative fake-super sync bare-hs bare-hs-srv hindsight hindsight-nice0}"
: "${CASES:=full none 1pct}" "${MODE:=ssh}"
if [ "$MODE" = local ]; then
	: "${STAGES:=timing perf}"
else
	: "${STAGES:=timing strace timeline}"
fi
BENCH_DIR=${BENCH_DIR:-/var/lib/hindsight-bench}
MNT=${MNT:-/hsbench}
OUT=${OUT:-$BIN/bench-options$([ "$MODE" = local ] && echo -local)}
export MNT_ARG=$MNT
HS=$BENCH_DIR/bin/hindsight
HSS=$BENCH_DIR/bin/hindsight-server
GENTREE="$BIN/bench/gentree --files $FILES --dirs $DIRS --bytes $BYTES"

[ "$(id -u)" -eq 0 ] || { echo "options: run as root (loop mount, useradd, sshd)" >&2; exit 1; }
for t in hyperfine jq python3 rsync strace perf mkfs.xfs useradd /usr/sbin/sshd ssh ss; do
	command -v "$t" >/dev/null || { echo "options: $t is not installed (bench/deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

[ -e "$BENCH_DIR" ] && die "$BENCH_DIR exists: another bench running, or left over (remove it)"
trap teardown EXIT
trap 'exit 130' INT TERM HUP
install -d -m 755 "$BENCH_DIR" "$BENCH_DIR/bin"
rm -rf "$OUT"
mkdir -p "$OUT/strace" "$OUT/timeline" "$OUT/perf"
: >"$OUT/runs.tsv"
: >"$OUT/commands.tsv"
install -m 755 "$BIN/hindsight" "$BIN/hindsight-server" "$BENCH_DIR/bin/"
install -m 644 "$SRCDIR/contrib/server.conf" "$BENCH_DIR/server.conf"
printf 'nice = 0\nionice = none\n' >"$BENCH_DIR/nice0.conf"
: >"$BENCH_DIR/empty.conf"

make_fs
make_account
install -d -m 1777 "$BENCH_DIR/st"
SERVE="$HSS serve --config $BENCH_DIR/server.conf"
serve_key() {   # serve_key NAME ROOT [WRAPPER]: a key whose forced command serves ROOT
	install -d -m 700 -o "$ACCT" -g "$ACCT" "$2"
	key "$1" "restrict,command=\"${3:+$3 }$SERVE --root $2\""
}
serve_key hs "$MNT/hs"
serve_key hs0 "$MNT/hs0"
serve_key hst "$MNT/hst" "strace -f -c -o $BENCH_DIR/st/serve.txt"
serve_key hsl "$MNT/hsl" "strace -f -ttt --seccomp-bpf -e trace=execve,exit_group,wait4,flock,syncfs,fsync,renameat,renameat2,statfs,fstatfs,unlinkat,connect -o $BENCH_DIR/st/serve.txt"
key bare
start_sshd
# a local repository is root's, as make bench's local group has it
[ "$MODE" = local ] && chown root:root "$MNT/hs" "$MNT/hs0"
RSH="--rsh='ssh -F $SSH_CONF'"
FS=" -M--fake-super" DEST=bare:
[ "$MODE" = local ] && FS="" DEST="" RSH=""
HSSH="--ssh 'ssh -F $SSH_CONF'"

{
	echo "source: $FILES files, $DIRS directories, $BYTES bytes (gentree); $RUNS runs after $WARMUP warm-up"
	echo "machine: $(nproc) CPUs, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r); $(rsync --version | head -n 1 | sed 's/  */ /g')"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" | sed 's/^/# /'
$GENTREE create "$MNT/src" | sed 's/^/# /'

# ---------------------------------------------------------------- variants

# the rsync options each bare variant adds to -a --delete
opts_of() {
	case $1 in
	bare | sync) echo "" ;;
	A | X | H | S) echo "-$1" ;;
	numeric-ids | relative) echo "--$1" ;;
	fake-super) echo "-M--fake-super" ;;
	bare-hs) echo "-AXHS --numeric-ids --relative${FS}" ;;
	# what serve adds on the receiving end (policy.c build_push_argv), and
	# the client's --stats, without serve, its Landlock or its client
	bare-hs-srv) echo "-AXHS --numeric-ids --relative${FS} --stats -M--modify-window=-1" \
		"-M--timeout=3600 -M--max-alloc=1G -M--confine-root=$MNT/o/$1" \
		"-M--log-file=$MNT/o/$1/transfer.log '-M--log-file-format=%i %b %l'" ;;
	*) die "no options for $1" ;;
	esac
}
relative_of() { case $1 in relative | bare-hs*) echo "$MNT" ;; *) echo "" ;; esac; }
link_dest() { [ "$2" = full ] || echo " --link-dest=$1/base"; }

# bare_cmd VARIANT CASE [RSYNC_PATH]
bare_cmd() {
	local v=$1 c=$2 o rp=""
	o=$(opts_of "$v")
	[ -n "${3:-}" ] && rp=" --rsync-path='$3'"
	local cmd
	cmd="rsync -a${o:+ $o} --delete$(link_dest "$MNT/o/$v" "$c")$rp${RSH:+ $RSH} $MNT/src $DEST$MNT/o/$v/new"
	case $v in
	sync | bare-hs*) echo "bash -c \"$cmd && sync -f $MNT\"" ;;
	*) echo "$cmd" ;;
	esac
}

cmd_of() {
	local c=$2 v=$3
	case $v in
	hindsight) if [ "$MODE" = local ]; then
			echo "$HS backup --config $BENCH_DIR/empty.conf --repo $MNT/hs $MNT/src"
		else
			echo "$HS backup --config $BENCH_DIR/empty.conf --repo hs: $HSSH $MNT/src"
		fi ;;
	hindsight-nice0) if [ "$MODE" = local ]; then
			echo "$HS backup --config $BENCH_DIR/nice0.conf --repo $MNT/hs0 $MNT/src"
		else
			echo "$HS backup --config $BENCH_DIR/nice0.conf --repo hs0: $HSSH $MNT/src"
		fi ;;
	*) bare_cmd "$v" "$c" ;;
	esac
}
root_of() { case $1 in hindsight) echo hs ;; hindsight-nice0) echo hs0 ;; esac; }
prep_of() {
	local v=$3 r
	case $v in
	hindsight*) r=$(root_of "$v"); echo "$SELF --reset root $MNT/$r $(basis_of "$r")" ;;
	*) echo "$SELF --reset dir $MNT/o/$v/new" ;;
	esac
}
# BASIS_hs, BASIS_hs0: the basis snapshot of each hindsight root
basis_of() { local b=BASIS_${1}; echo "${!b:-}"; }
check_of() {
	local c=$2 v=$3 r
	case $v in
	hindsight*) r=$(root_of "$v"); expect_links "$v" "$MNT/$r/$(readlink "$MNT/$r/current")$MNT/src" "$c" ;;
	*) expect_links "$v" "$MNT/o/$v/new$(relative_of "$v")/src" "$c" ;;
	esac
}

# set_state CASE: the source as the case wants it; after full, each
# variant's last push becomes its basis
to_basis() {
	local v
	for v in "${vs[@]}"; do
		case $v in
		hindsight*) ;;
		*) [ -d "$MNT/o/$v/new" ] && { rm -rf "$MNT/o/$v/base"; mv "$MNT/o/$v/new" "$MNT/o/$v/base"; } ;;
		esac
	done
	BASIS_hs=$(readlink "$MNT/hs/current" 2>/dev/null || true)
	# shellcheck disable=SC2034 # read through basis_of
	BASIS_hs0=$(readlink "$MNT/hs0/current" 2>/dev/null || true)
}
set_state() {
	local s=0
	[ "$1" = 1pct ] && s=1
	$GENTREE state "$s" "$MNT/src" >/dev/null
}

read -r -a vs <<<"$OPT_VARIANTS"
for v in "${vs[@]}"; do install -d -m 755 -o "$ACCT" -g "$ACCT" "$MNT/o/$v"; done

# the bases every stage starts from: one full push of each
first_pushes() {
	local v
	set_state full
	for v in "${vs[@]}"; do
		eval "$(prep_of x full "$v")" >/dev/null
		eval "$(cmd_of x full "$v")" >/dev/null
	done
	to_basis
}

# ---------------------------------------------------------------- timing

stage_timing() {
	local c
	say "timing: ${vs[*]}"
	for c in $CASES; do
		set_state "$c"
		for v in "${vs[@]}"; do
			printf 'push\t%s\t%s\t%s\n' "$c" "$v" "$(cmd_of push "$c" "$v")" >>"$OUT/commands.tsv"
		done
		compare push "$c" "${vs[@]}"
		[ "$c" = full ] && to_basis
	done
	set_state full
}

# ---------------------------------------------------------------- strace

# count_file FILE: "CALLS ERRORS SECONDS" of strace -c's total line
total_of() { awk '$NF == "total" { print $(NF-2) + 0, ($(NF-1) ~ /^[0-9]+$/ ? $(NF-1) : 0) }' "$1"; }

stage_strace() {
	local c v
	say "strace -f -c on both ends: ${vs[*]}"
	for c in full 1pct; do
		set_state "$c"
		for v in "${vs[@]}" hindsight-traced; do
			[ "$c" = full ] || [ -d "$MNT/o/$v/base" ] || [[ $v == hindsight* ]] || continue
			case $v in
			hindsight-nice0) continue ;;
			hindsight) continue ;;
			hindsight-traced)
				if [ "$c" = full ]; then "$SELF" --reset root "$MNT/hst"
				else "$SELF" --reset root "$MNT/hst" "$BASIS_hst"; fi
				rm -f "$BENCH_DIR/st/serve.txt"
				strace -f -c -o "$OUT/strace/$c-hindsight.client.txt" \
					"$HS" backup --config "$BENCH_DIR/empty.conf" --repo hst: --ssh "ssh -F $SSH_CONF" "$MNT/src" >/dev/null
				sleep 0.5
				cp "$BENCH_DIR/st/serve.txt" "$OUT/strace/$c-hindsight.server.txt"
				[ "$c" = full ] && BASIS_hst=$(readlink "$MNT/hst/current") ;;
			*)
				eval "$(prep_of x "$c" "$v")"
				rm -f "$BENCH_DIR/st/recv.txt"
				eval "strace -f -c -o $OUT/strace/$c-$v.client.txt $(bare_cmd "$v" "$c" "strace -f -c -o $BENCH_DIR/st/recv.txt rsync")" >/dev/null
				sleep 0.5
				cp "$BENCH_DIR/st/recv.txt" "$OUT/strace/$c-$v.server.txt" ;;
			esac
		done
		[ "$c" = full ] && to_basis
	done
	set_state full
	{
		echo "| case | variant | client calls | server calls | server calls per file |"
		echo "|---|---|---|---|---|"
		for c in full 1pct; do
			for f in "$OUT"/strace/"$c"-*.server.txt; do
				v=${f##*/"$c"-}; v=${v%.server.txt}
				read -r sc _ <<<"$(total_of "$f")"
				read -r cc _ <<<"$(total_of "$OUT/strace/$c-$v.client.txt")"
				echo "| $c | $v | $cc | $sc | $(awk -v s="$sc" -v n="$FILES" 'BEGIN { printf "%.1f", s / n }') |"
			done
		done
	} >"$OUT/strace.md"
	cat "$OUT/strace.md"
}

# ---------------------------------------------------------------- timeline

stage_timeline() {
	local c b=''
	say "timeline of a hindsight push (serve under strace -ttt, filtered)"
	for c in full none 1pct; do
		set_state "$c"
		if [ "$c" = full ]; then "$SELF" --reset root "$MNT/hsl"
		else "$SELF" --reset root "$MNT/hsl" "$b"; fi
		rm -f "$BENCH_DIR/st/serve.txt"
		strace -f -ttt --seccomp-bpf -e trace=execve,exit_group,wait4,connect \
			-o "$OUT/timeline/$c.client.txt" \
			"$HS" backup --config "$BENCH_DIR/empty.conf" --repo hsl: --ssh "ssh -F $SSH_CONF" "$MNT/src" >/dev/null
		sleep 0.5
		cp "$BENCH_DIR/st/serve.txt" "$OUT/timeline/$c.server.txt"
		[ "$c" = full ] && b=$(readlink "$MNT/hsl/current")
	done
	set_state full
	python3 "$SRCDIR/bench/timeline.py" "$OUT/timeline" | tee "$OUT/timeline.md"
}

# ---------------------------------------------------------------- perf

stage_perf() {
	local v
	say "perf record -g: one 1pct local push of bare, bare-hs, hindsight (every process a child)"
	[ "$MODE" = local ] || die "the perf stage runs with MODE=local (over ssh the receiver is not our child)"
	[ -n "${BASIS_hs:-}" ] || first_pushes
	set_state 1pct
	for v in bare bare-hs hindsight; do
		[[ " ${vs[*]} " == *" $v "* ]] || continue
		eval "$(prep_of x 1pct "$v")"
		eval "perf record -q -g -o $OUT/perf/$v.data -- $(cmd_of x 1pct "$v")" >/dev/null 2>&1
		perf report -i "$OUT/perf/$v.data" --no-children --sort comm,dso -g none --stdio 2>/dev/null |
			grep '%' | head -n 12 >"$OUT/perf/$v.comm.txt" || true
		perf report -i "$OUT/perf/$v.data" --no-children --sort sym -g none --stdio 2>/dev/null |
			grep '%' >"$OUT/perf/$v.sym.txt" || true
	done
	set_state full
	python3 "$SRCDIR/bench/perfcat.py" "$OUT"/perf/*.sym.txt | tee "$OUT/perf/categories.md"
}

for s in $STAGES; do
	case $s in
	timing | strace | timeline | perf) "stage_$s" ;;
	*) die "unknown stage $s" ;;
	esac
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

# medians and ratios to bare
python3 - "$OUT" <<'EOF' | tee "$OUT/summary.md"
import collections, statistics, sys
out = sys.argv[1]
runs = collections.defaultdict(list)
order = []
for line in open(out + "/runs.tsv"):
    g, c, v, r, t, u, s = line.rstrip("\n").split("\t")
    if v not in order:
        order.append(v)
    if int(r) >= 1:
        runs[(c, v)].append((float(t), float(u), float(s)))
order.sort(key=lambda v: v != "bare")   # the baseline first, the rest as run
cases = [c for c in ("full", "none", "1pct") if any(k[0] == c for k in runs)]
if cases:
    print("| variant | " + " | ".join(f"{c} median | vs bare" for c in cases) + " |")
    print("|---|" + "---|---|" * len(cases))
for v in order:
    row = [v]
    for c in cases:
        ts = [t for t, _, _ in runs.get((c, v), [])]
        b = [t for t, _, _ in runs.get((c, "bare"), [])]
        if not ts:
            row += ["-", "-"]
            continue
        m = statistics.median(ts)
        cpu = statistics.median([u + s for _, u, s in runs[(c, v)]])
        row += [f"{m:.3f} s (CPU {cpu:.2f} s)", f"{m / statistics.median(b):.3f}" if b else "-"]
    print("| " + " | ".join(row) + " |")
print("\nCPU: hyperfine's user + system time of the command's processes (over ssh,"
      " the client's only); ratios are of the wall-clock medians.")
EOF
cat "$OUT/machine.txt"
say "results in $OUT"
