#!/bin/bash
# Strange data (issue 9), pushed with `hindsight backup` over a real sshd to
# an unprivileged account and brought back with `hindsight restore`:
#
#  - names holding every byte 0x01-0xFF but '/', as files and directories;
#  - 255-byte components down to the deepest path a push keeps exactly
#    (about 4000 bytes: see below), and a 4095-byte path (PATH_MAX less its
#    NUL), pushed, changed, pushed again and restored;
#  - one directory of many files (20k here, 200k with HS_LONG=1), with the
#    peak memory of serve itself (not rsync) under 16 MiB for the push,
#    the restore and a listing;
#  - a sparse file (2 GiB here, 10 GiB with HS_LONG=1) that stays sparse on
#    the server and after a restore;
#  - a source that changes while it is pushed: files appear, vanish, grow
#    and are replaced. rsync exits 0 or 24, and every file in the snapshot
#    is a version that existed.
#
# After every push the three invariants hold: the newest snapshot equals
# its source (rsync -naHAXc --numeric-ids -i prints nothing), every earlier
# snapshot is unchanged (tree_state), current names the newest complete
# snapshot and `hindsight-server check` calls the root healthy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loadlib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
for _t in python3 truncate du stat; do
	command -v "$_t" >/dev/null 2>&1 || fatal "$_t is installed"
done
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=199"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=199:print_stacktrace=1"

if [ "${HS_LONG:-0}" = 1 ]; then
	MANY=${HS_STRANGE_FILES:-200000}
	SPARSE_GIB=10
else
	MANY=${HS_STRANGE_FILES:-20000}
	SPARSE_GIB=2
fi
HWM_LIMIT_KIB=16384
diag "strange data: $MANY files in one directory, a $SPARSE_GIB GiB sparse file; machine: $(machine)"

hwm_wrap
[ -n "$HWM_SKIP" ] && diag "serve's peak memory is not measured: $HWM_SKIP"
new_account s
U=$ACCOUNT
ROOT=$(home_of "$U")
chmod 700 "$ROOT"   # as adduser makes a backup root
start_sshd forcecommand "$U"
SSHOPT="ssh -F $(ssh_conf "$U")"
DATA=$SCRATCH/data
OUT=$SCRATCH/out
mkdir -p "$DATA" "$OUT"

backup() { "$HS_CLIENT" backup --repo server: --ssh "$SSHOPT" "$@"; }
restore() { "$HS_CLIENT" restore --repo server: --ssh "$SSHOPT" "$@"; }
newest() { snapshots "$ROOT" | tail -n 1; }

# after_push LABEL SRC [last]: the three invariants after a push of SRC. The
# new snapshot's tree_state is kept (unless it is the last), so later pushes
# can show it unchanged.
after_push() {
	local label=$1 src=$2 s
	s=$(newest)
	assert "[$label] invariant 1: the new snapshot equals the source" snap_is_source "$src" "$ROOT/$s$src"
	assert "[$label] invariant 2: every earlier snapshot is unchanged" earlier_unchanged "$s"
	assert "[$label] invariant 3: current names the new snapshot, nothing half-made, check is clean" \
		root_is_sane "$ROOT"
	[ "${3:-}" = last ] || tree_state "$ROOT/$s" >"$SCRATCH/state.$s"
}
earlier_unchanged() {
	local f
	for f in "$SCRATCH"/state.*; do
		[ -e "$f" ] || continue
		[ "${f##*/state.}" = "$1" ] && continue
		same_tree_state "$f" "$ROOT/${f##*/state.}" || return 1
	done
}

# hwm_note LABEL: say what serve peaked at since hwm_reset (a TAP comment)
hwm_note() {
	[ -n "$HWM_SKIP" ] && return 0
	diag "$1: peak memory of serve itself (VmHWM, rsync excluded): $(hwm_max) KiB (max of $(hwm_count) serves)"
}
# hwm_below: every serve since hwm_reset peaked under the limit
hwm_below() {
	local m
	if [ -n "$HWM_SKIP" ]; then
		echo "not measured: $HWM_SKIP"
		return 0
	fi
	m=$(hwm_max)
	[ "$(hwm_count)" -gt 0 ] || { echo "no serve reported its peak memory"; return 1; }
	[ "$m" -lt "$HWM_LIMIT_KIB" ] || { echo "serve peaked at $m KiB, over $HWM_LIMIT_KIB"; return 1; }
}

# ------------------------------------------------------------ 1. every byte

NAMES=$DATA/names
python3 - "$NAMES" <<-'PY' || fatal "make the names tree"
import os, sys
top = os.fsencode(sys.argv[1])
os.makedirs(top)
every = bytes(b for b in range(1, 256) if b != 0x2f)      # 254 bytes: one component
os.mkdir(top + b"/" + every)
with open(top + b"/" + every + b"/" + every, "wb") as f:
    f.write(b"every byte, in a directory of every byte\n")
for b in range(1, 256):
    if b == 0x2f:
        continue
    c = bytes([b])
    with open(top + b"/x" + c + b"y", "wb") as f:           # x<byte>y
        f.write(b"file %d\n" % b)
    if c != b".":                                          # "." is no name
        os.mkdir(top + b"/" + c)                           # <byte> alone, a directory
        with open(top + b"/" + c + b"/" + c + c, "wb") as f:
            f.write(b"dir %d\n" % b)
PY
assert "[names] backup of names with every byte 0x01-0xFF but '/' exits 0" succeeds backup "$NAMES"
after_push names "$NAMES"
assert "[names] restore of the whole tree exits 0" succeeds restore --to "$OUT/names" "$NAMES"
assert "[names] the restored tree equals the source (rsync -naHAXc --numeric-ids -i)" \
	restored_is_source "$NAMES" "$OUT/names/names"

# one file at a time: every name the restore grammar can carry comes back;
# control characters and wildcards are refused (hindsight-server(8): the
# command line cannot carry them) with exit 12 and nothing written
byte_name() { printf "x\\x$(printf %02x "$1")y"; }
single_restores() {
	local b name want rc bad=0
	for b in 32 34 35 36 38 39 40 59 60 92 96 124 126 128 160 195 255 1 9 10 13 27 127 42 63 91; do
		name=$(byte_name "$b")
		case $b in 1 | 9 | 10 | 13 | 27 | 127 | 42 | 63 | 91) want=12 ;; *) want=0 ;; esac
		restore --to "$OUT/one.$b" "$NAMES/$name" </dev/null >/dev/null 2>"$SCRATCH/one.err"
		rc=$?
		if [ "$rc" != "$want" ]; then
			echo "byte $b: restore exited $rc, wanted $want: $(cat "$SCRATCH/one.err")"
			bad=1
		elif [ "$want" = 0 ] && ! cmp -s "$NAMES/$name" "$OUT/one.$b/$name"; then
			echo "byte $b: the restored file differs"
			bad=1
		elif [ "$want" = 12 ] && [ -n "$(ls -A "$OUT/one.$b" 2>/dev/null)" ]; then
			echo "byte $b: a refused restore wrote $(ls -A "$OUT/one.$b")"
			bad=1
		fi
	done
	return $bad
}
assert "[names] single-file restores: space, quotes, \$, \\, \`, |, bytes 0x80-0xFF come back; control characters and * ? [ are refused (12), writing nothing" \
	single_restores
assert "[names] hindsight ls of the directory exits 0" succeeds "$HS_CLIENT" ls --repo server: --ssh "$SSHOPT" "$NAMES/"
assert "[names] ... one line per entry (no name breaks a line)" \
	is_eq "$(wc -l <"$LAST_OUT")" "$(find "$NAMES" -mindepth 1 -maxdepth 1 -printf x | wc -c)"
assert "[names] ... and no raw control character reaches the terminal" \
	bash -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$LAST_OUT'"

# ------------------------------------------------------------ 2. long names, deep paths

# make_deep TOP LEN: components of 255 bytes (ASCII, and 85 three-byte
# UTF-8 characters) below TOP, down to a file whose absolute path is LEN
# bytes; prints that path
make_deep() {
	python3 - "$1" "$2" <<-'PY'
	import os, sys
	top, n = sys.argv[1], int(sys.argv[2])
	os.makedirs(top)
	fd = os.open(top, os.O_RDONLY)
	path, i = top, 0
	while n - len(path.encode()) > 257:
	    c = "\u20ac" * 85 if i % 2 else chr(ord("a") + i) * 255
	    os.mkdir(c, dir_fd=fd)
	    nfd = os.open(c, os.O_RDONLY, dir_fd=fd)
	    os.close(fd)
	    fd, path, i = nfd, path + "/" + c, i + 1
	    with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
	        f.write("at depth %d\n" % i)
	leaf = "z" * (n - len(path.encode()) - 1)
	with open(os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
	    f.write("deepest\n")
	sys.stdout.buffer.write(os.fsencode(path + "/" + leaf))
	PY
}
bytes_of() { printf %s "$1" | wc -c; }
# the inode of every file below DIR, by its path: one line each
inodes() { find "$1" -type f -printf '%P %i\n' | sort; }

# The deepest path whose snapshot copy ROOT/SNAPSHOT/PATH still fits
# PATH_MAX (4095 bytes and a NUL), so that it can be restored by its own
# name and every tool can read it by its absolute path.
FIT=$((4075 - $(bytes_of "$ROOT")))
LONG=$DATA/long
DEEP=$(make_deep "$LONG" "$FIT") || fatal "make the long tree"
diag "[long] the deepest path that fits below this root ($(bytes_of "$ROOT") bytes): $FIT bytes"
assert "[long] backup of 255-byte components down to a $FIT-byte path exits 0" succeeds backup "$LONG"
after_push long "$LONG"
S_LONG1=$(newest)
sleep 1
assert "[long] a second backup exits 0" succeeds backup "$LONG"
after_push long2 "$LONG"
S_LONG2=$(newest)
assert "[long] every file of the second snapshot is hard-linked to the first's, the deepest too" \
	is_eq "$(inodes "$ROOT/$S_LONG2$LONG")" "$(inodes "$ROOT/$S_LONG1$LONG")"
assert "[long] restore of the whole tree exits 0" succeeds restore --to "$OUT/long" "$LONG"
assert "[long] the restored tree equals the source" restored_is_source "$LONG" "$OUT/long/long"
assert "[long] restore of the $FIT-byte file by its own path exits 0" \
	succeeds restore --to "$OUT/deep" "$DEEP"
assert "[long] ... and brings it back" is_eq "$(cat "$OUT/deep/${DEEP##*/}")" deepest

# A 4095-byte path (the most open(2) takes). rsync names a received file's
# temporary copy after it, in the same directory, and --fake-super then
# stats that name by its absolute path: past PATH_MAX. serve gives rsync a
# short --temp-dir of its own (.hindsight/tmp), so every length a source can
# hold arrives whole, with its attributes, and later pushes link it.
# A second account, so that the first's root stays clean.
new_account t
T=$ACCOUNT
TROOT=$(home_of "$T")
chmod 700 "$TROOT"
start_sshd forcecommand "$U" "$T"
TSSH="ssh -F $(ssh_conf "$T")"
TOP=$DATA/deepest
MAXP=$(make_deep "$TOP" 4095) || fatal "make the 4095-byte path"
assert "[4095] the source holds a file whose absolute path is 4095 bytes" is_eq "$(bytes_of "$MAXP")" 4095
assert "[4095] backup of it exits 0" succeeds "$HS_CLIENT" backup --repo server: --ssh "$TSSH" "$TOP"
assert "[4095] ... and the snapshot holds the file's data" \
	is_eq "$(find "$TROOT/$(snapshots "$TROOT" | tail -n 1)$TOP" -name 'zzz*' -execdir cat {} +)" deepest
assert "[4095] ... and the snapshot equals the source" snap_is_source "$TOP" "$TROOT/$(snapshots "$TROOT" | tail -n 1)$TOP"
echo "deepest, changed" >"$MAXP"
assert "[4095] a backup after the deepest file changed exits 0" \
	succeeds "$HS_CLIENT" backup --repo server: --ssh "$TSSH" "$TOP"
assert "[4095] ... and the new snapshot equals the source" \
	snap_is_source "$TOP" "$TROOT/$(snapshots "$TROOT" | tail -n 1)$TOP"
assert "[4095] ... and the earlier snapshot still holds the old data" \
	is_eq "$(find "$TROOT/$(snapshots "$TROOT" | tail -n 2 | head -n 1)$TOP" -name 'zzz*' -execdir cat {} +)" deepest
assert "[4095] restore of the whole tree exits 0" \
	succeeds "$HS_CLIENT" restore --repo server: --ssh "$TSSH" --to "$OUT/deepest" "$TOP"
assert "[4095] ... and brings the changed file back" \
	is_eq "$(find "$OUT/deepest" -name 'zzz*' -execdir cat {} +)" "deepest, changed"

# ------------------------------------------------------------ 3. many files in one directory

MANYDIR=$DATA/many
python3 - "$MANYDIR/one" "$MANY" <<-'PY' || fatal "make $MANY files"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
dfd = os.open(d, os.O_RDONLY)
for i in range(n):
    fd = os.open("f%07d" % i, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=dfd)
    os.write(fd, b"%d\n" % i)
    os.close(fd)
PY
hwm_reset
t0=$(date +%s%N)
assert "[many] backup of $MANY files in one directory exits 0" succeeds backup "$MANYDIR"
t1=$(date +%s%N)
diag "[many] push of $MANY files in one directory: $(( (t1 - t0) / 1000000 )) ms"
hwm_note "[many] push"
assert "[many] serve's peak memory during the push stays under 16 MiB" hwm_below
assert "[many] the snapshot's metadata counts the $MANY files received" \
	jq -e --argjson n "$MANY" '.files_transferred == $n' "$ROOT/.hindsight/snapshots/$(newest).json"
after_push many "$MANYDIR"
hwm_reset
assert "[many] restore of the directory exits 0" succeeds restore --to "$OUT/many" "$MANYDIR/one"
hwm_note "[many] restore"
assert "[many] serve's peak memory during the restore stays under 16 MiB" hwm_below
assert "[many] the restored directory equals the source" restored_is_source "$MANYDIR/one" "$OUT/many/one"
hwm_reset
assert "[many] hindsight ls of the directory exits 0" \
	succeeds "$HS_CLIENT" ls --repo server: --ssh "$SSHOPT" "$MANYDIR/one/"
assert "[many] ... listing all $MANY files" is_eq "$(wc -l <"$LAST_OUT")" "$MANY"
hwm_note "[many] ls"
assert "[many] serve's peak memory answering the listing stays under 16 MiB" hwm_below
# diff holds both directories' names: measured, not held to the limit
echo changed >"$MANYDIR/one/f0000001"
sleep 1
assert "[many] a second backup, one file changed, exits 0" succeeds backup "$MANYDIR"
after_push many2 "$MANYDIR"
hwm_reset
assert "[many] hindsight diff of the two snapshots exits 0" \
	succeeds "$HS_CLIENT" diff --repo server: --ssh "$SSHOPT" latest~1 latest "$MANYDIR/one"
assert "[many] ... and names the one file changed" \
	is_eq "$(grep -c f0000001 "$LAST_OUT") $(wc -l <"$LAST_OUT")" "1 1"
hwm_note "[many] diff (not held to 16 MiB)"
rm -rf "$OUT/many"

# ------------------------------------------------------------ 4. a source that changes during the push

MV=$DATA/moving
TMPW=$DATA/moving.tmp   # same file system: replacements are renamed in
python3 - "$MV" <<-'PY' || fatal "make the moving tree"
import os, sys
top = sys.argv[1]
for d in ("stable", "new", "grow", "rw", "bulk"):
    os.makedirs(os.path.join(top, d))
for i in range(2000):
    with open(os.path.join(top, "stable", "s%d" % i), "w") as f:
        f.write("stable %d\n" % i)
for i in range(20):
    with open(os.path.join(top, "grow", "g%d" % i), "w") as f:
        f.write("".join("g%d line %d\n" % (i, j) for j in range(1, 4)))
    with open(os.path.join(top, "rw", "r%d" % i), "w") as f:
        f.write("r%d v0\n" % i)
for i in range(40):
    with open(os.path.join(top, "bulk", "b%d" % i), "wb") as f:
        f.write(os.urandom(100 * 1024))
PY
mkdir -p "$TMPW"
assert "[moving] a first backup of the tree, at rest, exits 0" succeeds backup "$MV"
after_push moving0 "$MV"

# the writer: until told to stop, files appear in new/ (and some vanish
# again), stable files vanish, grow/ files grow by whole lines and rw/
# files are replaced by rename
cat >"$SCRATCH/writer.sh" <<'EOF'
mv=$1 tmp=$2 stop=$3
n=0
while [ ! -e "$stop" ]; do
	n=$((n + 1))
	printf 'c%d\n' "$n" >"$mv/new/c$n"
	[ $((n % 3)) = 0 ] && rm -f "$mv/new/c$((n - 2))"
	[ $((n % 7)) = 0 ] && rm -f "$mv/stable/s$(( (n * 37) % 2000 ))"
	g=$((n % 20))
	l=$(( $(wc -l <"$mv/grow/g$g") + 1 ))
	printf 'g%d line %d\n' "$g" "$l" >>"$mv/grow/g$g"
	r=$((n % 20))
	printf 'r%d v%d\n' "$r" "$n" >"$tmp/r$r" && mv "$tmp/r$r" "$mv/rw/r$r"
done
echo "$n rounds"
EOF
bg "$SCRATCH/writer.log" bash "$SCRATCH/writer.sh" "$MV" "$TMPW" "$SCRATCH/stop"
WRITER=$BG_PID
wait_until 10 test -e "$MV/new/c50" || fatal "the writer did not start"
# a stock rsync, so its own exit code shows (hindsight backup turns 24 into 0)
run rsync -aHAXS --numeric-ids --delete --bwlimit=2000 --rsh="$SSHOPT" "$MV" server:
MRC=$LAST_RC
touch "$SCRATCH/stop"
wait "$WRITER"
diag "[moving] the writer made $(cat "$SCRATCH/writer.log") of changes; rsync exited $MRC"
assert "[moving] a push while the tree changes exits 0 or 24 (rsync's 'some files vanished')" \
	bash -c "[ $MRC = 0 ] || [ $MRC = 24 ] || { cat '$LAST_ERR'; exit 1; }"
S_MV=$(newest)
assert "[moving] it published a complete snapshot recording rsync's exit code" \
	jq -e --argjson rc "$MRC" '.status == "complete" and .rsync_exit == $rc' \
	"$ROOT/.hindsight/snapshots/$S_MV.json"
# every file in the snapshot is a version that existed: a stable file as
# made, a new file empty or whole, a growing file a run of its lines (a
# last one possibly cut: appends land byte by byte too), a replaced file
# one whole version; no other name
consistent() {
	python3 - "$ROOT/$S_MV/moving" <<-'PY'
	import os, re, sys
	top = sys.argv[1]
	bad = []
	dirs = sorted(os.listdir(top))
	if dirs != ["bulk", "grow", "new", "rw", "stable"]:
	    bad.append("top holds %s" % dirs)
	def body(p):
	    with open(p, "rb") as f:
	        return f.read().decode()
	for n in os.listdir(os.path.join(top, "stable")):
	    m = re.fullmatch(r"s(\d+)", n)
	    if not m or body(os.path.join(top, "stable", n)) != "stable %s\n" % m.group(1):
	        bad.append("stable/" + n)
	for n in os.listdir(os.path.join(top, "new")):
	    m = re.fullmatch(r"c(\d+)", n)
	    if not m or not ("c%s\n" % m.group(1)).startswith(body(os.path.join(top, "new", n))):
	        bad.append("new/" + n)
	for n in os.listdir(os.path.join(top, "grow")):
	    m = re.fullmatch(r"g(\d+)", n)
	    b = body(os.path.join(top, "grow", n)) if m else ""
	    want = "".join("g%s line %d\n" % (m.group(1), j) for j in range(1, b.count("\n") + 2)) if m else "-"
	    if not m or not want.startswith(b) or b.count("\n") < 3:
	        bad.append("grow/" + n)
	for n in os.listdir(os.path.join(top, "rw")):
	    m = re.fullmatch(r"r(\d+)", n)
	    if not m or not re.fullmatch(r"r%s v\d+\n" % m.group(1), body(os.path.join(top, "rw", n))):
	        bad.append("rw/" + n)
	if len(os.listdir(os.path.join(top, "bulk"))) != 40:
	    bad.append("bulk/ lost files")
	for b in bad[:20]:
	    print("not a version that existed:", b)
	sys.exit(1 if bad else 0)
	PY
}
assert "[moving] every file in the snapshot is a version that existed in the source, and no other name" consistent
assert "[moving] the bulk files, untouched, are exactly the source's" \
	snap_is_source "$MV/bulk" "$ROOT/$S_MV/moving/bulk"
assert "[moving] invariant 2: every earlier snapshot is unchanged" earlier_unchanged "$S_MV"
assert "[moving] invariant 3: current names the new snapshot, nothing half-made, check is clean" \
	root_is_sane "$ROOT"
tree_state "$ROOT/$S_MV" >"$SCRATCH/state.$S_MV"
sleep 1
assert "[moving] at rest again, the next backup exits 0" succeeds backup "$MV"
after_push moving2 "$MV"
assert "[moving] restore of the tree exits 0" succeeds restore --to "$OUT/moving" "$MV"
assert "[moving] the restored tree equals the source" restored_is_source "$MV" "$OUT/moving/moving"

# ------------------------------------------------------------ 5. a sparse file

SP=$DATA/sparse
SPSIZE=$((SPARSE_GIB * 1024 * 1024 * 1024))
mkdir -p "$SP"
truncate -s "$SPSIZE" "$SP/disk.img"
printf 'data in the middle\n' | dd of="$SP/disk.img" bs=1 seek=$((SPSIZE / 2)) conv=notrunc 2>/dev/null
is_sparse() {   # is_sparse FILE: SPSIZE bytes long, under 1 MiB on disk (st_blocks)
	local size blocks
	size=$(stat -c %s -- "$1") || return 1
	blocks=$(stat -c %b -- "$1")
	[ "$size" -eq "$SPSIZE" ] && [ "$blocks" -lt 2048 ] && return 0
	echo "$1: $size bytes, $blocks blocks of 512 on disk"
	return 1
}
assert "[sparse] the source is a $SPARSE_GIB GiB sparse file" is_sparse "$SP/disk.img"
assert "[sparse] backup of it exits 0" succeeds backup "$SP"
S_SP=$(newest)
assert "[sparse] it is sparse on the server" is_sparse "$ROOT/$S_SP$SP/disk.img"
after_push sparse "$SP" last
assert "[sparse] restore of it exits 0" succeeds restore --to "$OUT/sparse" "$SP/disk.img"
assert "[sparse] it is sparse after the restore" is_sparse "$OUT/sparse/disk.img"
assert "[sparse] and holds the same bytes" cmp "$SP/disk.img" "$OUT/sparse/disk.img"
rm -rf "$OUT/sparse"

done_testing
