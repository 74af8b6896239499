#!/bin/bash
# bench/bench.sh: what `make bench` runs. hindsight against what a user
# would otherwise run, on the same data in the same run, alternating
# (results: docs/BENCHMARKS.md, "Pushing, restoring, memory").
#
#   make bench                    # PROFILE=full: 100k files, 2 GiB, 3 runs
#   make bench PROFILE=small      # 10k files, 200 MiB, 5 runs: minutes
#   bench/bench.sh BUILD_DIR      # the same, after make && make bench-tools
#
# As root (loop mount, useradd, sshd). The scene: an XFS filesystem
# (mkfs.xfs defaults, a sparse image in BENCH_DIR, /var/lib/hindsight-bench)
# mounted on MNT (/hsbench, one level deep, so that the source MNT/src sits
# as deep as a /home/me would); the source made by bench/gentree (FILES
# files in DIRS directories, BYTES in all, log-normal sizes, fixed seed);
# an account with one key per competitor; a real sshd on 127.0.0.1 with
# its own config and host key. All of it is removed on exit (KEEP=1 keeps
# BENCH_DIR, unmounted).
#
# Groups (BENCH_GROUPS, default all, in this order):
#   push     over ssh, three cases: full (an empty root), none (no change
#            since the basis), 1pct (the source in gentree's state 1: 1% of
#            the files changed). PUSH_VARIANTS:
#              hindsight  hindsight backup --repo hs: (ssh, forced serve)
#              seed       rsync -a --delete SRC seed: (the seed's command,
#                         without -z, through the same serve)
#              bare       rsync -a --delete --link-dest=ABS SRC bare:DIR
#                         (a plain shell as the same account)
#            and two that do what serve does on top, without serve:
#              bare-fs    bare with -M--fake-super (owners kept, as serve
#                         keeps them for an unprivileged account), then
#                         sync -f (serve publishes after syncfs)
#              bare-hs    the same with hindsight's rsync options:
#                         -aAXHS --numeric-ids --relative, then sync -f
#   restore  one file, and one top-level subtree (about a tenth of the
#            files), from the newest push: hindsight restore, rsync through
#            serve (hs:current/...), and a plain rsync pull over ssh.
#   local    the push cases to a local directory (LOCAL_VARIANTS):
#            hindsight backup --repo DIR against rsync -a --delete
#            --link-dest=ABS SRC DIR, and bare-local-hs (hindsight's rsync
#            options, then sync -f); in 1pct also (LOCAL_1PCT_VARIANTS)
#            rsnapshot with hindsight's options, link_dest 1 and cp -al.
#   history  on the local root (the basis and one 1% push): du, diff and
#            deleting a snapshot against du -s, rsync -nai and rm -rf, with
#            the stat and unlink ceilings (bench/stat-list, unlink-list).
#   memory   peak RSS of serve itself (bench/hwm.so preloaded in every
#            serve: VmHWM at exit, rsync excluded), then on M1_FILES
#            entries (1M; small: 100k): one push through serve, and du and
#            diff of two snapshots against du -s and rsync -nai.
#
# Timing (bench/lib.sh, compare): every variant of a case runs once per
# round, after its own reset (--prepare, untimed: the previous result
# removed, the basis back in place, syncfs), in an order rotated each
# round; WARMUP rounds (1) are not counted, then RUNS rounds (full 3,
# small 5). Caches are warm: the source is read from the page cache, as
# on a client that has been running. Medians and ratios: bench/report.py,
# into OUT (BUILD_DIR/bench-PROFILE): runs.tsv, results.md, plots; for
# PROFILE=full the plots also go to docs/bench/.
set -eu
export LC_ALL=C TZ=UTC
umask 022

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)

# ---------------------------------------------------------------- resets
# bench.sh --reset KIND ARGS: the untimed --prepare of one run. Here, before
# anything else, because hyperfine runs it as a command of its own.

# reset_root ROOT [BASIS]: a hindsight root back to BASIS alone (or empty).
reset_root() {
	local root=$1 basis=${2:-} d name
	if [ -z "$basis" ]; then
		find "$root" -mindepth 1 -delete
	else
		for d in "$root"/2[0-9][0-9][0-9]_*; do
			[ -d "$d" ] || continue
			name=${d##*/}
			[ "$name" = "$basis" ] && continue
			rm -rf "$d"
			rm -f "$root/.hindsight/snapshots/$name.json"
		done
		rm -rf "$root/inprogress" "$root/.hindsight/resume/"* "$root/.hindsight/trash/"*
		ln -sfn "$basis" "$root/current"
		chown -h --reference="$root" "$root/current"
	fi
}

if [ "${1:-}" = --reset ]; then
	kind=$2
	shift 2
	case $kind in
	root) reset_root "$@" ;;
	dir) rm -rf "$1" ;;
	empty) rm -rf "$1" && mkdir -p "$1" ;;
	rsnapshot) if [ -d "$1/alpha.1" ]; then rm -rf "$1/alpha.0" && mv "$1/alpha.1" "$1/alpha.0"; fi ;;
	copy) rm -rf "$2" && cp -al "$1" "$2" ;;
	none) ;;
	*) echo "bench: unknown reset $kind" >&2; exit 2 ;;
	esac
	# each run starts on a clean filesystem: nothing of the previous run's
	# left to write back, XFS's deferred inode work done (statfs waits for it)
	sync -f "$MNT_ARG" 2>/dev/null || sync
	stat -f "$MNT_ARG" >/dev/null 2>&1 || true
	exit 0
fi

# ---------------------------------------------------------------- settings

BIN=$(cd "${1:-$SRCDIR/build}" && pwd)
PROFILE=${PROFILE:-full}
case $PROFILE in
full)
	: "${FILES:=100000}" "${DIRS:=5000}" "${BYTES:=2147483648}" "${RUNS:=3}"
	: "${M1_FILES:=1000000}" "${M1_DIRS:=50000}" "${IMG_SIZE:=48G}" ;;
small)
	: "${FILES:=10000}" "${DIRS:=500}" "${BYTES:=209715200}" "${RUNS:=5}"
	: "${M1_FILES:=100000}" "${M1_DIRS:=5000}" "${IMG_SIZE:=8G}" ;;
*) echo "bench: PROFILE is full or small, not $PROFILE" >&2; exit 2 ;;
esac
: "${WARMUP:=1}" "${MEM_RUNS:=3}"
: "${BENCH_GROUPS:=push restore local history memory}"
: "${PUSH_VARIANTS:=hindsight seed bare bare-fs bare-hs}"
: "${LOCAL_VARIANTS:=hindsight-local bare-local bare-local-hs}"
: "${LOCAL_1PCT_VARIANTS:=rsnapshot-ld rsnapshot-cp}"
: "${RESTORE_VARIANTS:=hindsight serve-pull bare-pull}"
BENCH_DIR=${BENCH_DIR:-/var/lib/hindsight-bench}
MNT=${MNT:-/hsbench}
OUT=${OUT:-$BIN/bench-$PROFILE}
export MNT_ARG=$MNT      # for the resets, which run as commands of their own

HS=$BENCH_DIR/bin/hindsight
HSS=$BENCH_DIR/bin/hindsight-server
GENTREE="$BIN/bench/gentree --files $FILES --dirs $DIRS --bytes $BYTES"

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (loop mount, useradd, sshd)" >&2; exit 1; }
for t in hyperfine jq python3 rsync rsnapshot gnuplot mkfs.xfs /usr/bin/time useradd \
	/usr/sbin/sshd ssh ssh-keygen ss mountpoint; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed (bench/deps.sh)" >&2; exit 1; }
done
for f in hindsight hindsight-server bench/gentree bench/deltree bench/unlink-list \
	bench/stat-list bench/hwm.so; do
	[ -e "$BIN/$f" ] || { echo "bench: $BIN/$f is missing (make && make bench-tools)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"

[ -e "$BENCH_DIR" ] && die "$BENCH_DIR exists: another bench running, or left over (remove it)"
trap teardown EXIT
trap 'exit 130' INT TERM HUP
install -d -m 755 "$BENCH_DIR" "$BENCH_DIR/bin"
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/runs.tsv"
: >"$OUT/commands.tsv"
: >"$OUT/mem.tsv"
# the account must be able to run the server: copies in a 0755 directory
install -m 755 "$BIN/hindsight" "$BIN/hindsight-server" "$BIN/bench/hwm.so" "$BENCH_DIR/bin/"
install -m 644 "$SRCDIR/contrib/server.conf" "$BENCH_DIR/server.conf"

# ---------------------------------------------------------------- the scene

make_fs
make_account
install -d -m 1777 "$BENCH_DIR/hwm"
serve_key() {   # serve_key NAME ROOT: a key whose forced command serves ROOT
	install -d -m 700 -o "$ACCT" -g "$ACCT" "$2"
	key "$1" "restrict,command=\"HWM_LOG=$BENCH_DIR/hwm/serve.log LD_PRELOAD=$BENCH_DIR/bin/hwm.so $HSS serve --config $BENCH_DIR/server.conf --root $2\""
}
serve_key hs "$MNT/hs"
serve_key seed "$MNT/seed"
serve_key m1 "$MNT/m1"
key bare
install -d -m 755 -o "$ACCT" -g "$ACCT" "$MNT/bare" "$MNT/bare-fs" "$MNT/bare-hs"
install -d -m 700 "$MNT/local"
start_sshd

{
	echo "profile: $PROFILE ($FILES files, $DIRS directories, $BYTES bytes; $RUNS runs after $WARMUP warm-up)"
	echo "machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p'); hypervisor $(lscpu | sed -n 's/^Hypervisor vendor: *//p'); systemd-detect-virt: $(systemd-detect-virt 2>/dev/null || echo none)), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
	echo "filesystem: XFS ($(mkfs.xfs -V | sed 's/.* version //'), defaults: $(xfs_info "$MNT" | grep -o 'agcount=[0-9]*'), isize $(xfs_info "$MNT" | sed -n 's/.*isize=\([0-9]*\).*/\1/p'), reflink $(xfs_info "$MNT" | sed -n 's/.*reflink=\([0-9]\).*/\1/p')) on a $IMG_SIZE sparse loop image on $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }'), mounted $(findmnt -no OPTIONS "$MNT" | cut -d, -f1-2)"
	echo "rsync: $(rsync --version | head -n 1 | sed 's/  */ /g')"
	echo "ssh: $(ssh -V 2>&1), loopback, default cipher"
	echo "rsnapshot: $(dpkg-query -W -f='${Version}' rsnapshot)"
	echo "hyperfine: $(hyperfine --version)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" | sed 's/^/# /'

say "making the source: $GENTREE create $MNT/src"
$GENTREE create "$MNT/src" | sed 's/^/# /'
echo "source: $(du -sh --apparent-size "$MNT/src" | cut -f1) in $(find "$MNT/src" -type f | wc -l) files, $(find "$MNT/src" -type d | wc -l) directories" >>"$OUT/machine.txt"

RSH="--rsh='ssh -F $SSH_CONF'"
HSSH="--ssh 'ssh -F $SSH_CONF'"

# ---------------------------------------------------------------- commands
# cmd_of GROUP CASE VARIANT: the command line (hyperfine -N splits it like
# a shell would, without running one). prep_of: its untimed reset.
# check_of: what the first round left must be what was meant.

# link_dest DIR CASE: --link-dest=DIR/base, except for a full push
link_dest() { [ "$2" = full ] || echo " --link-dest=$1/base"; }

cmd_of() {
	local g=$1 c=$2 v=$3
	case $g/$v in
	push/hindsight) echo "$HS backup --repo hs: $HSSH $MNT/src" ;;
	push/seed) echo "rsync -a --delete $RSH $MNT/src seed:" ;;
	push/bare) echo "rsync -a --delete$(link_dest "$MNT/bare" "$c") $RSH $MNT/src bare:$MNT/bare/new" ;;
	push/bare-fs) echo "bash -c \"rsync -a --delete -M--fake-super$(link_dest "$MNT/bare-fs" "$c") $RSH $MNT/src bare:$MNT/bare-fs/new && sync -f $MNT\"" ;;
	push/bare-hs) echo "bash -c \"rsync -aAXHS --numeric-ids --delete --relative -M--fake-super$(link_dest "$MNT/bare-hs" "$c") $RSH $MNT/src bare:$MNT/bare-hs/new && sync -f $MNT\"" ;;
	local/hindsight-local) echo "$HS backup --repo $MNT/local $MNT/src" ;;
	local/bare-local) echo "rsync -a --delete$(link_dest "$MNT/bare-local" "$c") $MNT/src $MNT/bare-local/new" ;;
	local/bare-local-hs) echo "bash -c \"rsync -aAXHS --numeric-ids --delete --relative$(link_dest "$MNT/bare-local-hs" "$c") $MNT/src $MNT/bare-local-hs/new && sync -f $MNT\"" ;;
	local/rsnapshot-ld) echo "rsnapshot -c $BENCH_DIR/rsnapshot-ld.conf alpha" ;;
	local/rsnapshot-cp) echo "rsnapshot -c $BENCH_DIR/rsnapshot-cp.conf alpha" ;;
	restore/hindsight) echo "$HS restore --repo hs: $HSSH --to $MNT/restore/$v $MNT/src/$(restore_path "$c")" ;;
	restore/serve-pull) echo "rsync -a $RSH hs:current$MNT/src/$(restore_path "$c") $MNT/restore/$v/" ;;
	restore/bare-pull) echo "rsync -a $RSH bare:$MNT/bare/new/src/$(restore_path "$c") $MNT/restore/$v/" ;;
	history/hindsight) case $c in
		du) echo "$HSS du --root $MNT/local" ;;
		diff) echo "$HS diff $BASIS_local $NEWEST_local --repo $MNT/local" ;;
		delete) echo "$BIN/bench/deltree $MNT/victim" ;;
		esac ;;
	history/baseline) case $c in
		du) echo "du -s $MNT/local" ;;
		diff) echo "rsync -nai --delete $MNT/local/$BASIS_local/ $MNT/local/$NEWEST_local/" ;;
		delete) echo "rm -rf $MNT/victim" ;;
		esac ;;
	history/ceiling) case $c in
		du | diff) echo "$BIN/bench/stat-list $MNT/local $BENCH_DIR/stat.list" ;;
		delete) echo "$BIN/bench/unlink-list $MNT $BENCH_DIR/unlink.list" ;;
		esac ;;
	*) die "no command for $g/$v" ;;
	esac
}

restore_path() { if [ "$1" = file ]; then echo "$ONE_FILE"; else echo "$SUBTREE"; fi; }

prep_of() {
	local g=$1 c=$2 v=$3
	case $g/$v in
	push/hindsight) echo "$SELF --reset root $MNT/hs ${BASIS_hs:-}" ;;
	push/seed) echo "$SELF --reset root $MNT/seed ${BASIS_seed:-}" ;;
	push/bare*) echo "$SELF --reset dir $MNT/$v/new" ;;
	local/hindsight-local) echo "$SELF --reset root $MNT/local ${BASIS_local:-}" ;;
	local/bare-local | local/bare-local-hs) echo "$SELF --reset dir $MNT/$v/new" ;;
	local/rsnapshot-*) echo "$SELF --reset rsnapshot $MNT/${v}" ;;
	restore/*) echo "$SELF --reset empty $MNT/restore/$v" ;;
	history/*) if [ "$c" = delete ]; then
			echo "$SELF --reset copy $MNT/local/$BASIS_local $MNT/victim"
		else
			echo "$SELF --reset none"
		fi ;;
	*) die "no reset for $g/$v" ;;
	esac
}

# newest ROOT: the snapshot `current` names
newest() { readlink "$1/current"; }

check_of() {
	local g=$1 c=$2 v=$3
	case $g/$v in
	push/hindsight) expect_links "$v" "$MNT/hs/$(newest "$MNT/hs")$MNT/src" "$c" ;;
	push/seed) expect_links "$v" "$MNT/seed/$(newest "$MNT/seed")/src" "$c" ;;
	push/bare | push/bare-fs) expect_links "$v" "$MNT/$v/new/src" "$c" ;;
	push/bare-hs) expect_links "$v" "$MNT/bare-hs/new$MNT/src" "$c" ;;
	local/hindsight-local) expect_links "$v" "$MNT/local/$(newest "$MNT/local")$MNT/src" "$c" ;;
	local/bare-local) expect_links "$v" "$MNT/bare-local/new/src" "$c" ;;
	local/bare-local-hs) expect_links "$v" "$MNT/bare-local-hs/new$MNT/src" "$c" ;;
	local/rsnapshot-*) expect_links "$v" "$MNT/$v/alpha.0/localhost$MNT/src" "$c" ;;
	restore/*)
		local want=1 got
		[ "$c" = file ] || want=$SUBTREE_FILES
		got=$(find "$MNT/restore/$v" -type f | wc -l)
		say "check $v: restored $got files"
		[ "$got" -eq "$want" ] || die "$v restored $got files, not $want" ;;
	history/*) ;;
	esac
}

# serve's peak RSS of the runs since the last call, kept per case
keep_hwm() {
	if [ -f "$BENCH_DIR/hwm/serve.log" ]; then
		awk -v c="$1" '{ print c "\t" $3 }' "$BENCH_DIR/hwm/serve.log" >>"$OUT/hwm.tsv"
		rm -f "$BENCH_DIR/hwm/serve.log"
	fi
}

# ---------------------------------------------------------------- push over ssh

group_push() {
	local v vs
	read -r -a vs <<<"$PUSH_VARIANTS"
	say "push over ssh: ${vs[*]}"
	show_commands push full "${vs[@]}"
	compare push full "${vs[@]}"
	keep_hwm "push, full"
	# the last full push of each is its basis from now on
	BASIS_hs=$(newest "$MNT/hs")
	BASIS_seed=$(newest "$MNT/seed")
	for v in bare bare-fs bare-hs; do
		[ -d "$MNT/$v/new" ] && mv "$MNT/$v/new" "$MNT/$v/base"
	done
	show_commands push none "${vs[@]}"
	compare push none "${vs[@]}"
	keep_hwm "push, no change"
	$GENTREE state 1 "$MNT/src" | sed 's/^/# /'
	show_commands push 1pct "${vs[@]}"
	compare push 1pct "${vs[@]}"
	keep_hwm "push, 1% changed"
	$GENTREE state 0 "$MNT/src" | sed 's/^/# /'
}

# pick_restore TREE: the restore subtree, the top-level group of TREE
# nearest a tenth of its files, and the one file, the one in it nearest
# 1 MiB
pick_restore() {
	local g n d best='' total
	total=$(find "$1" -type f | wc -l)
	for g in "$1"/g*; do
		n=$(find "$g" -type f | wc -l)
		d=$((n > total / 10 ? n - total / 10 : total / 10 - n))
		if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d SUBTREE=${g##*/} SUBTREE_FILES=$n; fi
	done
	ONE_FILE=$(find "$1/$SUBTREE" -type f -printf '%s %P\n' |
		awk '{ d = $1 - 1048576; if (d < 0) d = -d; if (best == "" || d < best) { best = d; f = $2; s = $1 } } END { print s, f }')
	ONE_SIZE=${ONE_FILE%% *}
	ONE_FILE=$SUBTREE/${ONE_FILE#* }
	echo "restore: the file src/$ONE_FILE ($ONE_SIZE bytes), the subtree src/$SUBTREE ($SUBTREE_FILES files), from the newest push (1% changed)" >>"$OUT/machine.txt"
}

group_restore() {
	local c vs
	read -r -a vs <<<"$RESTORE_VARIANTS"
	[ -n "${BASIS_hs:-}" ] || die "restore needs the push group first"
	pick_restore "$MNT/bare/new/src"
	say "restore: ${vs[*]}"
	for c in file subtree; do
		show_commands restore "$c" "${vs[@]}"
		compare restore "$c" "${vs[@]}"
	done
	keep_hwm "restore"
	rm -rf "$MNT/restore"
}

# ---------------------------------------------------------------- local

rsnapshot_conf() {   # rsnapshot_conf NAME LINK_DEST
	install -d -m 700 "$MNT/$1"
	printf '%s\t%s\n' \
		config_version 1.2 \
		snapshot_root "$MNT/$1/" \
		no_create_root 1 \
		cmd_cp /bin/cp \
		cmd_rm /bin/rm \
		cmd_rsync /usr/bin/rsync \
		verbose 1 \
		loglevel 1 \
		lockfile "$BENCH_DIR/$1.pid" \
		link_dest "$2" \
		rsync_short_args -aAXHS \
		rsync_long_args "--delete --numeric-ids --relative --delete-excluded" >"$BENCH_DIR/$1.conf"
	printf 'retain\talpha\t10\nbackup\t%s/src/\tlocalhost/\n' "$MNT" >>"$BENCH_DIR/$1.conf"
	rsnapshot -c "$BENCH_DIR/$1.conf" configtest >/dev/null || die "rsnapshot rejects $BENCH_DIR/$1.conf"
}

group_local() {
	local r vs xs
	read -r -a vs <<<"$LOCAL_VARIANTS"
	read -r -a xs <<<"$LOCAL_1PCT_VARIANTS"
	say "local: ${vs[*]}; in 1pct also ${xs[*]}"
	# the push group's roots have served (restore reads them): room for these
	find "$MNT/hs" "$MNT/seed" "$MNT/bare" "$MNT/bare-fs" "$MNT/bare-hs" -mindepth 1 -delete
	install -d -m 755 "$MNT/bare-local" "$MNT/bare-local-hs"
	show_commands local full "${vs[@]}"
	compare local full "${vs[@]}"
	BASIS_local=$(newest "$MNT/local")
	for r in bare-local bare-local-hs; do
		[ -d "$MNT/$r/new" ] && mv "$MNT/$r/new" "$MNT/$r/base"
	done
	show_commands local none "${vs[@]}"
	compare local none "${vs[@]}"
	# rsnapshot's basis: what it would have made from the same source with
	# the same options as the same user, which is hindsight's snapshot,
	# linked rather than copied
	for r in "${xs[@]}"; do
		case $r in
		rsnapshot-*)
			rsnapshot_conf "$r" "$([ "$r" = rsnapshot-ld ] && echo 1 || echo 0)"
			mkdir -p "$MNT/$r/alpha.0"
			cp -al "$MNT/local/$BASIS_local" "$MNT/$r/alpha.0/localhost" ;;
		esac
	done
	$GENTREE state 1 "$MNT/src" | sed 's/^/# /'
	show_commands local 1pct "${vs[@]}" "${xs[@]}"
	compare local 1pct "${vs[@]}" "${xs[@]}"
	NEWEST_local=$(newest "$MNT/local")
	$GENTREE state 0 "$MNT/src" | sed 's/^/# /'
	rm -rf "$MNT/rsnapshot-ld" "$MNT/rsnapshot-cp" "$MNT/bare-local" "$MNT/bare-local-hs"
}

# ---------------------------------------------------------------- history

group_history() {
	if [ -z "${NEWEST_local:-}" ] || [ "$NEWEST_local" = "$BASIS_local" ]; then
		die "history needs the local group first"
	fi
	local c
	say "history on $MNT/local: $BASIS_local and $NEWEST_local"
	# the ceilings' lists: every entry of the basis (stat); of its copy,
	# files in readdir order, then directories deepest first (unlink)
	(cd "$MNT/local" && find "$BASIS_local" -mindepth 1) >"$BENCH_DIR/stat.list"
	cp -al "$MNT/local/$BASIS_local" "$MNT/victim"
	(cd "$MNT" && find victim -mindepth 1 ! -type d && find victim -depth -type d -printf '%p/\n') \
		>"$BENCH_DIR/unlink.list"
	rm -rf "$MNT/victim"
	echo "history: the stat list has $(wc -l <"$BENCH_DIR/stat.list") entries (one snapshot), the unlink list $(wc -l <"$BENCH_DIR/unlink.list")" >>"$OUT/machine.txt"
	for c in du diff delete; do
		show_commands history "$c" hindsight baseline ceiling
		compare history "$c" hindsight baseline ceiling
	done
	rm -rf "$MNT/victim"
}

# ---------------------------------------------------------------- memory

# mem NAME CMD...: one run under GNU time, "NAME SECONDS KIB" appended
# to MEM_OUT
mem() {
	local name=$1
	shift
	/usr/bin/time -f "$name\t%e\t%M" -a -o "$MEM_OUT" "$@" >/dev/null
}

group_memory() {
	local gen="$BIN/bench/gentree --files $M1_FILES --dirs $M1_DIRS --bytes 0"
	local a b r
	say "memory: $M1_FILES entries: $gen create $MNT/m1src"
	$gen create "$MNT/m1src" | sed 's/^/# /'
	keep_hwm other
	say "one push of $M1_FILES files through serve"
	MEM_OUT=$OUT/mem.tsv
	mem "push of $M1_FILES files: hindsight backup" "$HS" backup --repo m1: --ssh "ssh -F $SSH_CONF" "$MNT/m1src"
	keep_hwm "push of $M1_FILES files"
	a=$(newest "$MNT/m1")
	b=2027_01_01_00_00_00
	# the second snapshot: a copy of links with gentree's 1% changed (new
	# inodes), as a push would leave it
	cp -al "$MNT/m1/$a" "$MNT/m1/$b"
	$gen state 1 "$MNT/m1/$b$MNT/m1src" | sed 's/^/# /'
	sync -f "$MNT"
	echo "memory: a root with two snapshots of $M1_FILES files in $M1_DIRS directories, the second with 1% changed" >>"$OUT/machine.txt"
	say "du and diff of two snapshots of $M1_FILES files, $MEM_RUNS runs each after a warm-up, alternating"
	for r in $(seq 0 "$MEM_RUNS"); do
		MEM_OUT=$OUT/mem.tsv
		[ "$r" -gt 0 ] || MEM_OUT=$OUT/mem-warmup.tsv
		mem "hindsight-server du" "$HSS" du --root "$MNT/m1"
		mem "du -s" du -s "$MNT/m1"
		mem "diff: the server query" env HINDSIGHT_ROOT="$MNT/m1" "$HSS" local x hindsight diff "$a" "$b"
		mem "diff: hindsight diff, client and server" "$HS" diff "$a" "$b" --repo "$MNT/m1"
		mem "rsync -nai --delete" rsync -nai --delete "$MNT/m1/$a/" "$MNT/m1/$b/"
	done
}

# ---------------------------------------------------------------- run

for g in $BENCH_GROUPS; do
	case $g in
	push | restore | local | history | memory) "group_$g" ;;
	*) die "unknown group $g" ;;
	esac
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

PLOTS=$OUT
[ "$PROFILE" = full ] && PLOTS=$SRCDIR/docs/bench
python3 "$SRCDIR/bench/report.py" "$OUT" "$PLOTS"
say "results: $OUT/results.md; plots in $PLOTS"
