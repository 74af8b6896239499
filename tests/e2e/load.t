#!/bin/bash
# Load (issue 9): 20 accounts, each its own unprivileged user and backup
# root, push at the same time over one real sshd, about 10k files each;
# then all 20 push again (incremental, hard-linked against the first) while
# 5 of them restore their first snapshot and an admin prune thins a sixth
# one's history. Everything succeeds; no account sees another's data; the
# three invariants hold for every root: the newest snapshot equals the
# source (rsync -naHAXc --numeric-ids -i prints nothing), earlier snapshots
# are unchanged (tree_state before and after), current names a complete
# snapshot and `hindsight-server check` calls the root healthy.
#
# Wall time and the peak memory of serve itself (VmHWM through bench/hwm.c,
# rsync excluded) are printed as TAP comments. In CI each account pushes
# 2000 files; HS_LONG=1 (make check-long) pushes the full 10k. Override
# with HS_LOAD_ACCOUNTS and HS_LOAD_FILES.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loadlib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
command -v python3 >/dev/null || fatal "python3 is installed"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=199"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=199:print_stacktrace=1"

N=${HS_LOAD_ACCOUNTS:-20}
if [ "${HS_LONG:-0}" = 1 ]; then FILES=${HS_LOAD_FILES:-10000}; else FILES=${HS_LOAD_FILES:-2000}; fi
NRESTORE=5
P=$N    # the account whose history the prune thins (not one that restores)
[ "$N" -gt "$NRESTORE" ] || fatal "HS_LOAD_ACCOUNTS must be more than $NRESTORE"
diag "load: $N accounts x $FILES files, $NRESTORE restores and a prune; machine: $(machine)"

hwm_wrap
[ -n "$HWM_SKIP" ] && diag "serve's peak memory is not measured: $HWM_SKIP"
# serve reads this config (an empty one: the default retention), so that
# making the prune's history below can switch thinning off
CONF="$SCRATCH/server.conf"
: >"$CONF"
chmod 644 "$CONF"
HS_SERVE_ARGS="--config $CONF"

USERS=()
for i in $(seq "$N"); do
	new_account "l$i"
	USERS[i]=$ACCOUNT
	chmod 700 "$(home_of "$ACCOUNT")"   # as adduser makes a backup root
done
# sshd's default MaxStartups (10:30:100) drops 30% of the connections that
# arrive while 10 are unauthenticated, and more after: 26 clients at once
# need more room (docs/RELIABILITY.md)
HS_SSHD_OPTS="MaxStartups $((2 * N + 20)):30:$((4 * N + 40))"
start_sshd forcecommand "${USERS[@]:1}"

SRC=$SCRATCH/src
mkdir -p "$SRC"
for i in $(seq "$N"); do
	make_tree "$SRC/acc$i" "${USERS[i]}" "$FILES" || fatal "make_tree acc$i"
done

root() { home_of "${USERS[$1]}"; }
backup() { "$HS_CLIENT" backup --repo server: --ssh "ssh -F $(ssh_conf "${USERS[$1]}")" "$SRC/acc$1"; }
restore() {
	"$HS_CLIENT" restore --repo server: --ssh "ssh -F $(ssh_conf "${USERS[$1]}")" \
		--at "$2" --to "$3" "$SRC/acc$1"
}

# all_exit_0 DIR LABEL COUNT: every $DIR/LABEL.N.rc (N = 1..COUNT) says 0.
all_exit_0() {
	local i bad=0
	for i in $(seq "$3"); do
		if [ "$(cat "$1/$2.$i.rc" 2>/dev/null)" != 0 ]; then
			echo "$2 $i exited $(cat "$1/$2.$i.rc" 2>/dev/null):"
			tail -n 5 "$1/$2.$i.log"
			bad=1
		fi
	done
	return $bad
}

# for_all CMD: CMD I succeeds for every account I; says which did not.
for_all() {
	local i bad=0
	for i in $(seq "$N"); do
		"$@" "$i" || { echo "(account $i: ${USERS[i]})"; bad=1; }
	done
	return $bad
}

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
report_hwm() {   # report_hwm LABEL
	[ -n "$HWM_SKIP" ] && return 0
	diag "$1: peak memory of serve itself (VmHWM, rsync excluded): max $(hwm_max) KiB of $(hwm_count) serves, $(hwm_sum) KiB summed over all of them"
}

# ------------------------------------------------------------ round 1

W=$SCRATCH/round1
mkdir -p "$W"
t0=$(now_ms)
for i in $(seq "$N"); do
	( backup "$i" >"$W/push.$i.log" 2>&1; echo $? >"$W/push.$i.rc" ) </dev/null &
	HS_BG_PIDS+=("$!")
done
wait
t1=$(now_ms)
assert "round 1: all $N first pushes, at the same time over one sshd, exit 0" all_exit_0 "$W" push "$N"
diag "round 1: $N concurrent first pushes of $FILES files each: wall time $(secs $((t1 - t0))) s"
report_hwm "round 1"

first_snapshot_is_source() {
	local s
	s=$(snapshots "$(root "$1")")
	[ "$(echo "$s" | wc -l)" = 1 ] || { echo "not one snapshot: $s"; return 1; }
	snap_is_source "$SRC/acc$1" "$(root "$1")/$s$SRC/acc$1"
}
assert "round 1: every account has one snapshot, equal to its own source tree" \
	for_all first_snapshot_is_source

# The prune's account gets a history from January: three snapshots, two in
# the week of 5 January, so that the default policy (newest of each week
# beyond 30 days) deletes exactly the Monday one.
PU=${USERS[P]}
PR=$(root "$P")
rename_snapshot() {   # as if made then: the tree, its metadata, current
	local m="$PR/.hindsight/snapshots"
	mv "$PR/$1" "$PR/$2" &&
		jq --arg n "$2" '.name = $n' "$m/$1.json" >"$m/$2.json" &&
		rm "$m/$1.json" &&
		ln -sfn "$2" "$PR/current" &&
		chown -h "$PU:$PU" "$m/$2.json" "$PR/current"
}
printf '[server]\nkeep = forever:all\n' >"$CONF"   # no thinning while it is made
PA=2026_01_05_10_00_00
PB=2026_01_07_10_00_00
PC=2026_01_12_11_00_00
rename_snapshot "$(snapshots "$PR")" "$PA" || fatal "rename to $PA"
sleep 1
echo "$PU history B" >"$SRC/acc$P/history" && backup "$P" >/dev/null 2>&1 || fatal "history push B"
rename_snapshot "$(snapshots "$PR" | tail -n 1)" "$PB" || fatal "rename to $PB"
sleep 1
echo "$PU history C" >"$SRC/acc$P/history" && backup "$P" >/dev/null 2>&1 || fatal "history push C"
rename_snapshot "$(snapshots "$PR" | tail -n 1)" "$PC" || fatal "rename to $PC"
: >"$CONF"
assert "the prune's account has its January history" \
	is_eq "$(snapshots "$PR" | tr '\n' ' ')" "$PA $PB $PC "
assert "prune --dry-run would delete exactly $PA" \
	succeeds "$HS_SERVER_REAL" prune --config "$CONF" --root "$PR" --dry-run --json
assert "... (its plan)" \
	is_eq "$(jq -r '.roots[0].snapshots[] | select(.action != "keep") | .name' "$LAST_OUT" 2>&1)" "$PA"

# what round 2 must not change: every snapshot there is now
for i in $(seq "$N"); do
	tree_state "$(root "$i")" >"$W/state.$i"
done
S1=()
for i in $(seq "$N"); do S1[i]=$(snapshots "$(root "$i")" | tail -n 1); done

# the trees the restores must bring back: the sources as of round 1
for i in $(seq "$NRESTORE"); do
	cp -al "$SRC/acc$i" "$W/expect.$i" || fatal "cp -al acc$i"
done

# round 2's changes, each by a new inode (the copies above keep round 1):
# a new directory, a deleted file, a rewritten one
for i in $(seq "$N"); do
	d=$SRC/acc$i
	mkdir "$d/new"
	for j in $(seq 20); do echo "${USERS[i]} new $j" >"$d/new/n$j"; done
	rm "$d/d000/f00001"
	rm "$d/d000/f00002" && echo "${USERS[i]} rewritten" >"$d/d000/f00002"
done

# ------------------------------------------------------------ round 2

W=$SCRATCH/round2
mkdir -p "$W"
hwm_reset
t0=$(now_ms)
for i in $(seq "$N"); do
	( backup "$i" >"$W/push.$i.log" 2>&1; echo $? >"$W/push.$i.rc" ) </dev/null &
	HS_BG_PIDS+=("$!")
done
for i in $(seq "$NRESTORE"); do
	( restore "$i" "${S1[i]}" "$W/restored.$i" >"$W/restore.$i.log" 2>&1
	  echo $? >"$W/restore.$i.rc" ) </dev/null &
	HS_BG_PIDS+=("$!")
done
( "$HS_SERVER_REAL" prune --config "$CONF" --root "$PR" --json >"$W/prune.1.out" 2>"$W/prune.1.log"
  echo $? >"$W/prune.1.rc" ) </dev/null &
HS_BG_PIDS+=("$!")
wait
t1=$(now_ms)
assert "round 2: all $N second pushes, at the same time, exit 0" all_exit_0 "$W" push "$N"
assert "round 2: the $NRESTORE restores of the first snapshots, run meanwhile, exit 0" \
	all_exit_0 "$W" restore "$NRESTORE"
assert "round 2: the prune run meanwhile exits 0" all_exit_0 "$W" prune 1
diag "round 2: $N concurrent incremental pushes + $NRESTORE restores + a prune: wall time $(secs $((t1 - t0))) s"
report_hwm "round 2"

restore_is_round1() { restored_is_source "$SCRATCH/round1/expect.$1" "$W/restored.$1/acc$1"; }
restores_ok() {
	local i bad=0
	for i in $(seq "$NRESTORE"); do
		restore_is_round1 "$i" || { echo "(restore $i)"; bad=1; }
	done
	return $bad
}
assert "every restore brought back its account's first snapshot exactly (rsync -naHAXc --numeric-ids -i)" \
	restores_ok
chose_first() {
	local i
	for i in $(seq "$NRESTORE"); do
		grep -q "${S1[i]}" "$W/restore.$i.log" || { echo "restore $i does not name ${S1[i]}:"; cat "$W/restore.$i.log"; return 1; }
	done
}
assert "... and each said on stderr which snapshot it chose" chose_first

# ------------------------------------------------------------ invariants

newest_is_source() {
	local s
	s=$(snapshots "$(root "$1")" | tail -n 1)
	[ "$s" != "${S1[$1]}" ] || { echo "no new snapshot"; return 1; }
	snap_is_source "$SRC/acc$1" "$(root "$1")/$s$SRC/acc$1"
}
assert "invariant 1: every account's newest snapshot equals its source" for_all newest_is_source

# the snapshot's lines of the whole root's tree_state taken before round 2
earlier_unchanged() {
	local r=$(root "$1")
	grep -F "$r/${S1[$1]}" "$SCRATCH/round1/state.$1" >"$SCRATCH/.expect.$1"
	same_tree_state "$SCRATCH/.expect.$1" "$r/${S1[$1]}"
}
unchanged_linked() {
	local r s
	r=$(root "$1")
	s=$(snapshots "$r" | tail -n 1)
	same_inode "$r/${S1[$1]}$SRC/acc$1/d000/f00000" "$r/$s$SRC/acc$1/d000/f00000" &&
		other_inode "$r/${S1[$1]}$SRC/acc$1/d000/f00002" "$r/$s$SRC/acc$1/d000/f00002"
}
assert "in every root the second snapshot shares the unchanged files' inodes with the first, not the rewritten one's" \
	for_all unchanged_linked
assert "invariant 2: every account's first snapshot is unchanged (tree_state: inode, mode, owner, mtime, size, data, xattrs)" \
	for_all earlier_unchanged
sane() { root_is_sane "$(root "$1")"; }
assert "invariant 3: in every root current names the newest snapshot, nothing is half-made, check is clean" \
	for_all sane

# ------------------------------------------------------------ the prune

assert "the prune deleted $PA, and the January snapshots left are $PB $PC" \
	is_eq "$(snapshots "$PR" | head -n 2 | tr '\n' ' ')" "$PB $PC "
assert "... the prune's account has its new snapshot besides them" \
	is_eq "$(snapshots "$PR" | wc -l)" 3
keeps_unchanged() {
	local s
	for s in "$PB" "$PC"; do
		grep -F "$PR/$s" "$SCRATCH/round1/state.$P" >"$SCRATCH/.expect.$s"
		same_tree_state "$SCRATCH/.expect.$s" "$PR/$s" || return 1
	done
}
assert "... the snapshots it kept are unchanged" keeps_unchanged
assert "... and nothing is left in its trash" is_eq "$(ls -A "$PR/.hindsight/trash")" ""

# ------------------------------------------------------------ isolation

only_own_tree() {
	local r s
	r=$(root "$1")
	for s in $(snapshots "$r"); do
		[ "$(ls -A "$r/$s$SRC")" = "acc$1" ] ||
			{ echo "$r/$s$SRC holds: $(ls -A "$r/$s$SRC" | tr '\n' ' ')"; return 1; }
	done
	# no file anywhere in its history carries another account's tag
	if grep -rL -e "^${USERS[$1]} " "$r/$s$SRC/acc$1" | grep -q .; then
		echo "files not tagged ${USERS[$1]}:"
		grep -rL -e "^${USERS[$1]} " "$r/$s$SRC/acc$1" | head
		return 1
	fi
}
assert "each account's snapshots hold its own tree and nothing else" for_all only_own_tree

R='rsync --server --sender -logDtpre.iLsfxCIvu'
reads_other_refused() {
	local j=$(($1 % N + 1)) other out rc
	other=$(root "$j")
	for path in "$other/current$SRC/acc$j" "../${USERS[j]}/current$SRC/acc$j" \
		"current/../../${USERS[j]}/current$SRC/acc$j"; do
		out=$(ssh -F "$(ssh_conf "${USERS[$1]}")" server "$R . $path" 2>"$SCRATCH/.err.$1" </dev/null)
		rc=$?
		[ "$rc" = 12 ] && [ -z "$out" ] && continue
		echo "reading $path: exit $rc, $(echo "$out" | wc -c) bytes on stdout: $(cat "$SCRATCH/.err.$1")"
		return 1
	done
	out=$("$HS_CLIENT" restore --repo server: --ssh "ssh -F $(ssh_conf "${USERS[$1]}")" \
		--to "$SCRATCH/stolen.$1" "$SRC/acc$j" 2>&1 </dev/null)
	rc=$?
	[ "$rc" = 10 ] || { echo "restore of acc$j as ${USERS[$1]}: exit $rc: $out"; return 1; }
	absent "$SCRATCH/stolen.$1/acc$j"
}
for i in $(seq "$N"); do tree_state "$(root "$i")" >"$SCRATCH/iso.state.$i"; done
assert "every account trying to read the next one's root over ssh is refused (exit 12, nothing on stdout; restore exits 10)" \
	for_all reads_other_refused
root_unchanged() { same_tree_state "$SCRATCH/iso.state.$1" "$(root "$1")"; }
assert "... and every root is unchanged by the attempts" for_all root_unchanged

done_testing
