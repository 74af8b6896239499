# tests/e2e/loadlib.sh: sourced after lib.sh by the load and strange-data
# tests (issue 9): the three invariants a backup root must keep, a fast
# deterministic tree maker, and the peak memory of serve itself.
#
#   . "$(dirname "$0")/loadlib.sh"
#   hwm_wrap                    # HS_SERVER now preloads hwm.so into serve
#   ... pushes ...
#   hwm_max                     # the highest VmHWM (KiB) any serve reported

# ---------------------------------------------------------------- invariants

# equal_trees SRC DIR [RSYNC-OPTION...]: rsync -naHAXc --numeric-ids -i
# from SRC to DIR prints nothing: same names, types, data, modes, owners,
# mtimes (ns), hard links, ACLs and xattrs. Long lines are cut in what it
# says (a 4 KiB path is no help).
equal_trees() {
	local src=$1 dst=$2 out
	shift 2
	out=$(rsync -naHAXc --numeric-ids -i --delete "$@" "$src/" "$dst/" 2>&1) ||
		{ echo "rsync failed: $out" | cut -c1-300; return 1; }
	[ -z "$out" ] && return 0
	echo "rsync -naHAXc --numeric-ids -i $* $src/ $dst/ reports differences:"
	echo "$out" | head -40 | cut -c1-300
	return 1
}

# snap_is_source SRC DIR: invariant 1. DIR, inside a snapshot an
# unprivileged server wrote, holds exactly SRC (owners and modes read from
# the fake-super xattrs).
snap_is_source() { equal_trees "$1" "$2" -M--fake-super; }

# restored_is_source SRC DIR: a restored tree equals its source, owners and
# modes on the inodes themselves (the client restores as root).
restored_is_source() { equal_trees "$1" "$2"; }

# root_is_sane ROOT: invariant 3. current names the newest snapshot, every
# listed snapshot has its metadata, no inprogress/ is left, and
# `hindsight-server check --root` calls the root healthy (exit 0).
root_is_sane() {
	local root=$1 newest cur s out
	newest=$(snapshots "$root" | tail -n 1)
	cur=$(readlink "$root/current")
	[ -n "$newest" ] && [ "$cur" = "$newest" ] ||
		{ echo "$root: current is '$cur', the newest snapshot '$newest'"; return 1; }
	for s in $(snapshots "$root"); do
		[ -s "$root/.hindsight/snapshots/$s.json" ] ||
			{ echo "$root: snapshot $s has no metadata"; return 1; }
	done
	[ ! -e "$root/inprogress" ] || { echo "$root: inprogress/ is left"; return 1; }
	out=$("$HS_SERVER_REAL" check --root "$root" 2>&1) ||
		{ echo "check --root $root: $out"; return 1; }
}

# todo REASON NAME CMD...: a test of what should work and does not yet
# (TAP TODO): printed as ok or not ok with "# TODO REASON", and never
# counted as a failure; what CMD said is shown when it fails.
todo() {
	local why=$1 name=$2 rc
	shift 2
	"$@" </dev/null >"$SCRATCH/.todo.out" 2>&1
	rc=$?
	_t_n=$((_t_n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $_t_n - $name # TODO $why"
	else
		echo "not ok $_t_n - $name # TODO $why"
		head -c 600 "$SCRATCH/.todo.out" | cut -c1-200 | _t_diag
	fi
}

# ---------------------------------------------------------------- trees

# make_tree DIR TAG FILES: FILES small files in directories of 100 under
# DIR, each holding TAG and its number (so two trees never share a file),
# every 97th a little bigger, every 500th 64 KiB; times are fixed, so the
# same arguments make the same tree.
make_tree() {
	python3 - "$1" "$2" "$3" <<-'PY'
	import os, sys
	top, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	os.makedirs(top)
	t = 1767225600
	for i in range(n):
	    d = os.path.join(top, "d%03d" % (i // 100))
	    if i % 100 == 0:
	        os.mkdir(d)
	    body = ("%s file %d\n" % (tag, i)).encode()
	    if i % 500 == 499:
	        body = body * (65536 // len(body))
	    elif i % 97 == 0:
	        body = body * 40
	    p = os.path.join(d, "f%05d" % i)
	    with open(p, "wb") as f:
	        f.write(body)
	    os.utime(p, (t + i, t + i))
	for i in range((n + 99) // 100):
	    d = os.path.join(top, "d%03d" % i)
	    os.utime(d, (t, t))
	PY
}

# ---------------------------------------------------------------- memory

HS_SERVER_REAL=$HS_SERVER
HWM_LOG=
HWM_SKIP=

# hwm_wrap: make HS_SERVER (what sshd forces and what tests run locally) a
# wrapper that preloads bench/hwm.c into hindsight-server, so that every
# serve appends "hindsight-server PID KIB" (its own VmHWM, never rsync's:
# serve starts rsync with a clean environment) to $HWM_LOG at exit. Not in
# sanitizer builds, whose shadow memory makes the figure meaningless: then
# HWM_SKIP says why.
hwm_wrap() {
	if grep -qa __asan_init "$HS_SERVER_REAL"; then
		HWM_SKIP="a sanitizer build: its peak memory says nothing about a real one"
		return 0
	fi
	mkdir -p -m 755 "$SCRATCH/hwm"
	"${CC:-cc}" -O2 -fPIC -shared -o "$SCRATCH/hwm/hwm.so" "$HS_SRCDIR/bench/hwm.c" ||
		fatal "build bench/hwm.c"
	chmod 755 "$SCRATCH/hwm/hwm.so"
	HWM_LOG=$SCRATCH/hwm/log
	: >"$HWM_LOG"
	chmod 666 "$HWM_LOG"
	cat >"$SCRATCH/bin/serve-hwm" <<-EOF
	#!/bin/sh
	HWM_LOG=$HWM_LOG LD_PRELOAD=$SCRATCH/hwm/hwm.so exec $HS_SERVER_REAL "\$@"
	EOF
	chmod 755 "$SCRATCH/bin/serve-hwm"
	HS_SERVER=$SCRATCH/bin/serve-hwm
}

# hwm_reset: forget what was measured so far.
hwm_reset() { [ -z "$HWM_LOG" ] || : >"$HWM_LOG"; }

# hwm_max: the highest VmHWM in KiB of the serves since hwm_reset.
hwm_max() { awk '$1 == "hindsight-server" && $3 > m { m = $3 } END { print m + 0 }' "$HWM_LOG"; }
# hwm_sum: their sum (what they would need if all ran at once).
hwm_sum() { awk '$1 == "hindsight-server" { s += $3 } END { print s + 0 }' "$HWM_LOG"; }
# hwm_count: how many serves reported.
hwm_count() { awk '$1 == "hindsight-server" { n++ } END { print n + 0 }' "$HWM_LOG"; }

# machine: one line naming this machine, for the figures' context.
machine() {
	echo "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(rsync --version | head -n 1 | awk '{ print "rsync " $3 }')"
}
