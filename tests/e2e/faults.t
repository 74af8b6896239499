#!/bin/bash
# Faults (issue 9): kill -9 at every fixed point of a push (the test
# build's HS_TEST_FAULT, src/lib/fault.h) and at random moments of a push,
# killing by turns the client's rsync, the server's rsync and serve; during
# a push's own retention and an admin's prune; during sealing. After each
# kill the earlier snapshots are unchanged, and a normal push restores the
# three invariants (invariants.sh) with `check` reporting a clean root.
#
# HS_FAULT_SEED=N replays the random choices of a run (its seed is printed
# first). HS_LONG=1: many more random kill points.
HS_BIN=${HS_TEST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build-test}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/invariants.sh"
. "$(dirname "$0")/sealed.sh"

SEED=${HS_FAULT_SEED:-$(($(date +%s%N) / 1000 % 1000000))}
diag "seed $SEED (HS_FAULT_SEED=$SEED replays this run)"
RANDOM=$SEED
# Invariant 2 after the next push implies it held right after the kill
# (nothing ever rewrites an earlier snapshot back); the long run checks it
# there too, to say which step broke it.
LONG=${HS_LONG:-0}
if [ "$LONG" = 1 ]; then
	N_LOCAL=150 N_SSH=30 N_PRUNE=30 N_SEAL=16
else
	N_LOCAL=30 N_SSH=6 N_PRUNE=6 N_SEAL=4
fi

T_LAST=$SECONDS
section() { diag "$1: $((SECONDS - T_LAST)) s"; T_LAST=$SECONDS; }

# ---------------------------------------------------------------- the source

# make_src DIR: a tree with what a snapshot must keep: modes, xattrs, a
# symlink, hard links, an empty file and directory, odd names.
make_src() {
	local d=$1 i
	mkdir -p "$d/stable/sub/deeper" "$d/churn" "$d/empty-dir"
	for i in $(seq -w 1 40); do
		echo "stable $i" >"$d/stable/s$i"
		[ $((10#$i % 3)) = 0 ] && setfattr -n user.tag -v "s$i" "$d/stable/s$i"
		[ $((10#$i % 4)) = 0 ] && chmod 600 "$d/stable/s$i"
	done
	random_file "$d/stable/sub/deeper/blob" 64
	ln -s ../s01 "$d/stable/sub/link"
	ln "$d/stable/s02" "$d/stable/sub/hard"
	: >"$d/stable/empty"
	echo odd >"$d/stable/sp ace \$and 'q'"
	touch -d '2001-02-03 04:05:06' "$d/stable/s05"
	for i in $(seq -w 1 24); do random_file "$d/churn/c$i" 16; done
}

# churn DIR: change a few files as a day of work would: new data, a new
# file, one gone, a mode and an xattr changed, a file grown.
CHURN_KB=16
churn() {
	local d=$1 i
	for i in 1 2 3 4 5 6; do random_file "$d/churn/c$(printf %02d $((RANDOM % 24 + 1)))" $CHURN_KB; done
	random_file "$d/churn/new$RANDOM" 8
	for i in "$d"/churn/new*; do rm -f "$i"; break; done
	chmod $((RANDOM % 2 ? 640 : 604)) "$d/stable/s0$((RANDOM % 9 + 1))"
	setfattr -n user.round -v "$RANDOM" "$d/stable/s1$((RANDOM % 9 + 1))"
	echo "more $RANDOM" >>"$d/stable/s2$((RANDOM % 9 + 1))"
}

# ---------------------------------------------------------------- pushes

# push_local ROOT SRC [RSYNC-OPTION...] as the client does it against a
# local root (`hindsight-server local` as rsync's transport). With FAULT
# set, serve dies at that fault point; with THIN set, it is the
# server.conf (retention) of the push.
FAULT=
THIN=
push_local() {
	local root=$1 src=$2 envs
	shift 2
	envs=(HINDSIGHT_ROOT="$root")
	[ -n "$FAULT" ] && envs+=(HS_TEST_FAULT="$FAULT")
	[ -n "$THIN" ] && envs+=(HINDSIGHT_SERVER_CONF="$THIN")
	env "${envs[@]}" rsync -aAXH --numeric-ids --delete "$@" \
		--rsh="$HS_SERVER local" "$src" server:
}

push_ssh() {
	local conf=$1 src=$2
	shift 2
	rsync -aAXH --numeric-ids --delete "$@" --rsh="ssh -F $conf" "$src" server:
}

# settle ROOT: nothing of a killed push is left running: its lock is free.
# A client killed a few ms in can leave its serve still starting: the lock
# is free until that orphan takes it, and the next push would then find it
# held (exit 11, rightly). So wait for every serve to be gone first (this
# test runs one push at a time; the sealer is not a serve).
no_serve_left() { ! pgrep -f 'hindsight-server (local|serve)( |$)' >/dev/null; }
settle() {
	wait_until 60 no_serve_left || { echo "a serve is still running"; return 1; }
	wait_until 60 lock_is_free "$1" || { echo "the lock of $1 stays held"; return 1; }
}

check_clean() {
	run "$HS_SERVER" check --root "$1" "${@:2}"
	[ "$LAST_RC" = 0 ] && return 0
	echo "check exits $LAST_RC:"
	grep -v '^ok:' "$LAST_OUT"
	return 1
}

killed_at() {   # killed_at STEP: the last push died at the fault point STEP
	[ "$LAST_RC" != 0 ] || { echo "the push exited 0"; return 1; }
	grep -q "fault: $1, pid" "$LAST_ERR" || { echo "never reached $1:"; cat "$LAST_ERR"; return 1; }
}

# recover LABEL ROOT SRC MANIFESTS [may-vanish] [-- RSYNC-OPTION...]: a
# normal push exits 0, check is clean, the three invariants hold; then
# the manifests are taken afresh for the next round.
recover() {
	local label=$1 root=$2 src=$3 man=$4 vanish='' push=push_local
	shift 4
	[ "${1:-}" = may-vanish ] && { vanish=may-vanish; shift; }
	[ "${1:-}" = -- ] && shift
	[ -n "${RECOVER_PUSH:-}" ] && push=$RECOVER_PUSH
	assert "[$label] the next push exits 0" succeeds "$push" "$root" "$src" "$@"
	assert "[$label] check reports a clean root (exit 0)" check_clean "$root" ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"}
	INV_LABEL="[$label] " inv_all "$src" "$root" "${RECOVER_SUB:-$(basename "$src")}" "$man" $vanish -- "$@"
	inv_save_new "$root" "$man"
}

# ---------------------------------------------------------------- fixed points

R="$SCRATCH/fixed"
SRC="$SCRATCH/src/data"
MAN="$SCRATCH/man-fixed"
mkdir -m 700 "$R"
make_src "$SRC"
assert "a first push exits 0" succeeds push_local "$R" "$SRC"
assert "a second push exits 0" succeeds push_local "$R" "$SRC"
inv_save "$R" "$MAN"

# in the order a push reaches them; resume-kept needs the inprogress tree
# an earlier kill leaves
POINTS="locked repaired prepared basis resume-kept rsync-exited log-read synced
	journal-written renamed rename-synced current-tmp current-renamed current-synced
	meta-written resume-dropped journal-dropped published logged basis-cleared
	retention-done recorded"
n_fixed=0
for p in $POINTS; do
	churn "$SRC"
	# a tree to keep for resuming: left by a push killed once rsync is done
	[ "$p" = resume-kept ] && FAULT=rsync-exited push_local "$R" "$SRC" >/dev/null 2>&1
	FAULT=$p run push_local "$R" "$SRC"
	FAULT=
	assert "[$p] the push dies of kill -9 there" killed_at "$p"
	settle "$R"
	[ "$LONG" = 1 ] && assert "[$p] every earlier snapshot is unchanged right after the kill" inv_unchanged "$R" "$MAN"
	recover "$p" "$R" "$SRC" "$MAN"
	n_fixed=$((n_fixed + 1))
done

# the push's own retention deleting: keep = 1h:hourly thins this hour to
# its newest snapshot
CONF="$SCRATCH/thin.conf"
printf '[server]\nkeep = 1h:hourly\n' >"$CONF"
chmod 644 "$CONF"
for p in retention prune-trashed prune-synced prune-meta-dropped trash-emptying \
	"unlinked@$((RANDOM % 150 + 1))"; do
	churn "$SRC"
	push_local "$R" "$SRC" >/dev/null 2>&1
	churn "$SRC"
	push_local "$R" "$SRC" >/dev/null 2>&1
	inv_save_new "$R" "$MAN"
	churn "$SRC"
	FAULT=$p THIN=$CONF run push_local "$R" "$SRC"
	FAULT='' THIN=''
	assert "[$p] the push dies of kill -9 while its retention deletes" killed_at "${p%@*}"
	settle "$R"
	assert "[$p] what the retention has not deleted yet is unchanged" \
		inv_unchanged "$R" "$MAN" may-vanish
	recover "$p" "$R" "$SRC" "$MAN" may-vanish
	n_fixed=$((n_fixed + 1))
done
assert "every snapshot the retention took is out of the trash" is_eq "$(ls -A "$R/.hindsight/trash")" ""

section "fixed points"

# ---------------------------------------------------------------- random kills

# the push's processes: client rsync (the pid given), serve (its child,
# `hindsight-server local`), the server's rsync (serve's child)
serve_of() { pgrep -P "$1" -x hindsight-serve | head -n 1; }
srv_rsync_of() {
	local s
	s=$(serve_of "$1")
	[ -n "$s" ] && pgrep -P "$s" -x rsync | head -n 1
}

# sleep_ms MS
sleep_ms() { sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }

# bigger changes, sent at BWLIMIT KiB/s: a push lasts long enough to be
# killed at a random moment of it
BWLIMIT=400
CHURN_KB=24
R="$SCRATCH/random"
MAN="$SCRATCH/man-random"
mkdir -m 700 "$R"
assert "a first push to the second root exits 0" succeeds push_local "$R" "$SRC"
inv_save "$R" "$MAN"
churn "$SRC"
t0=$(date +%s%N)
push_local "$R" "$SRC" --bwlimit=$BWLIMIT >/dev/null 2>&1
DUR=$((($(date +%s%N) - t0) / 1000000))
diag "a push of a churned tree at --bwlimit=$BWLIMIT takes $DUR ms"
inv_save "$R" "$MAN"

# kill_round LABEL KIND ROOT PUSH-CMD...: start the push, wait a random
# time into it, kill -9 the process of kind client, serve or rsync (the
# server's). Sets KILLED to what was killed (none if the push had ended).
kill_round() {
	local label=$1 kind=$2 root=$3 pid victim delay
	shift 3
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % (DUR + 1)))
	bg "$SCRATCH/push.log" "$@"
	pid=$BG_PID
	sleep_ms "$delay"
	case $kind in
	client) victim=$pid ;;
	serve) victim=$(serve_of "$pid") ;;
	rsync) victim=$(srv_rsync_of "$pid") ;;
	esac
	KILLED=none
	if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
		KILLED=$kind
	fi
	wait "$pid" 2>/dev/null
	diag "$label: $delay ms in, killed $KILLED (push exit $?)"
	settle "$root"
}

declare -A KILLS=([client]=0 [serve]=0 [rsync]=0 [none]=0)
kinds=(client rsync serve)
i=0
# until N_LOCAL kills landed in a push (one that ended first does not count)
while [ $((i - KILLS[none])) -lt "$N_LOCAL" ] && [ "$i" -lt $((N_LOCAL * 2)) ]; do
	i=$((i + 1))
	kind=${kinds[(i - KILLS[none]) % 3]}
	churn "$SRC"
	kill_round "local $i" "$kind" "$R" env HINDSIGHT_ROOT="$R" rsync -aAXH --numeric-ids \
		--delete --bwlimit=$BWLIMIT --rsh="$HS_SERVER local" "$SRC" server:
	KILLS[$KILLED]=$((KILLS[$KILLED] + 1))
	[ "$LONG" = 1 ] && assert "[local $i, $kind] every earlier snapshot is unchanged right after the kill" \
		inv_unchanged "$R" "$MAN"
	recover "local $i" "$R" "$SRC" "$MAN"
done
diag "local kills: client rsync ${KILLS[client]}, server rsync ${KILLS[rsync]}, serve ${KILLS[serve]}, push over before the kill ${KILLS[none]}"
assert "$N_LOCAL random local kills landed in a push ($((i - KILLS[none])) of $i tries)" \
	test $((i - KILLS[none])) -ge "$N_LOCAL"
assert "each of the three processes was killed at least once" \
	test "${KILLS[client]}" -gt 0 -a "${KILLS[rsync]}" -gt 0 -a "${KILLS[serve]}" -gt 0
N_KILLS=$((i - KILLS[none]))

section "random kills"

# ---------------------------------------------------------------- over ssh

new_account f
ACC=$ACCOUNT
HR=$(home_of "$ACC")
chmod 700 "$HR"
start_sshd forcecommand "$ACC"
CONF_SSH=$(ssh_conf "$ACC")
MAN="$SCRATCH/man-ssh"
push_acc() { push_ssh "$CONF_SSH" "$2" "${@:3}"; }
ssrc="$SCRATCH/ssrc/data"
make_src "$ssrc"
assert "[ssh] a first push exits 0" succeeds push_acc "$HR" "$ssrc"
inv_save "$HR" "$MAN"
# the account's processes: serve and its rsync run as the account
ssh_victim() {
	case $1 in
	serve) pgrep -u "$ACC" -x hindsight-serve | head -n 1 ;;
	rsync) pgrep -u "$ACC" -x rsync | head -n 1 ;;
	esac
}
i=0
n_ssh=0
while [ "$n_ssh" -lt "$N_SSH" ] && [ "$i" -lt $((N_SSH * 3)) ]; do
	i=$((i + 1))
	kind=${kinds[n_ssh % 3]}
	churn "$ssrc"
	delay=$(((RANDOM * 32768 + RANDOM) % (DUR + 1)))
	bg "$SCRATCH/push.log" rsync -aAXH --numeric-ids --delete --bwlimit=$BWLIMIT \
		--rsh="ssh -F $CONF_SSH" "$ssrc" server:
	pid=$BG_PID
	# ssh's own setup comes first: count from when serve runs
	wait_until 10 pgrep -u "$ACC" -x hindsight-serve
	sleep_ms "$delay"
	victim=$pid
	[ "$kind" = client ] || victim=$(ssh_victim "$kind")
	KILLED=none
	[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null && KILLED=$kind
	wait "$pid" 2>/dev/null
	diag "ssh $i: $delay ms in, killed $KILLED (push exit $?)"
	[ "$KILLED" = none ] || { N_KILLS=$((N_KILLS + 1)); n_ssh=$((n_ssh + 1)); }
	settle "$HR"
	[ "$LONG" = 1 ] && assert "[ssh $i, $kind] every earlier snapshot is unchanged right after the kill" \
		inv_unchanged "$HR" "$MAN"
	RECOVER_PUSH=push_acc recover "ssh $i" "$HR" "$ssrc" "$MAN" -- -M--fake-super
done
assert "$N_SSH random kills over ssh landed in a push ($n_ssh of $i tries)" test "$n_ssh" -ge "$N_SSH"
stop_sshd

section "over ssh"

# ---------------------------------------------------------------- prune

# an admin's prune, killed while it unlinks (at a random name) or between
# its steps; a day later by --now, keep = 1h:all deletes all but the newest
CHURN_KB=16
R="$SCRATCH/prune"
MAN="$SCRATCH/man-prune"
mkdir -m 700 "$R"
printf '[server]\nkeep = 1h:all\n' >"$CONF"
later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
steps=(prune-trashed prune-synced prune-meta-dropped trash-emptying)
for i in $(seq 1 "$N_PRUNE"); do
	for _ in 1 2 3; do
		churn "$SRC"
		push_local "$R" "$SRC" >/dev/null 2>&1 || fatal "a push to $R failed"
	done
	inv_save_new "$R" "$MAN"
	# the names it will unlink: all but the newest snapshot's
	names=$(inv_snapshots "$R" | head -n -1 | sed "s|^|$R/|" | xargs -r -I{} find {} ! -type d | wc -l)
	if [ $((i % 3)) = 0 ]; then
		p="${steps[RANDOM % 4]}@$((RANDOM % 2 + 1))"
	else
		p="unlinked@$((RANDOM % names + 1))"
	fi
	# (bash's "Killed" notice of it is not news)
	{ run env HS_TEST_FAULT="$p" "$HS_SERVER" prune --root "$R" --config "$CONF" --now "$later"; } 2>/dev/null
	assert "[prune $i, $p] the prune dies of kill -9 there" killed_at "${p%@*}"
	assert "[prune $i] the snapshots not deleted yet are unchanged" inv_unchanged "$R" "$MAN" may-vanish
	assert "[prune $i] nothing half-deleted is listed" inv_current "$R"
	recover "prune $i" "$R" "$SRC" "$MAN" may-vanish
	n_fixed=$((n_fixed + 1))
done

section "prune"

# ---------------------------------------------------------------- sealing

sealed_setup
start_sealer
sealed_account s
SACC=$ACCOUNT
start_sshd forcecommand "$SACC"
MAN="$SCRATCH/man-sealed"
ssrc="$SCRATCH/sealsrc/data"
make_src "$ssrc"
chown -R "$SACC:$SACC" "$SCRATCH/sealsrc"
# hindsight backup stores the source under its absolute path
push_sealed() { push_as "$SACC" "$2" >/dev/null; }
SSUB=${ssrc#/}
assert "[sealed] a first push seals a snapshot" succeeds push_sealed "$ROOT" "$ssrc"
inv_save "$ROOT" "$MAN"
for i in $(seq 1 "$N_SEAL"); do
	case $((i % 4)) in
	0) step=journal ;;
	1) step=walk:$((RANDOM % 8 + 1)) ;;
	2) step=staged ;;
	3) step=walk:$((RANDOM % 8 + 1)) ;;
	esac
	churn "$ssrc"
	chown -R "$SACC:$SACC" "$SCRATCH/sealsrc"
	: >"$SCRATCH/sealer.log"
	start_sealer HS_TEST_SEAL_PAUSE="$step"
	bg "$SCRATCH/push.log" "$HS_CLIENT" backup --repo server: --ssh "ssh -F $(ssh_conf "$SACC")" "$ssrc"
	pid=$BG_PID
	if wait_until 30 grep -q "paused at $step" "$SCRATCH/sealer.log"; then
		spid=$(sed -n "s/.*paused at $step, pid \([0-9]*\).*/\1/p" "$SCRATCH/sealer.log" | tail -1)
		# by turns the sealer, and serve waiting for its answer
		if [ $((i % 2)) = 0 ]; then
			kill -9 "$spid"
			what=sealer
		else
			kill -9 "$(pgrep -u "$SACC" -x hindsight-serve | head -n 1)"
			kill -9 "$spid"
			what="serve and the sealer"
		fi
		N_KILLS=$((N_KILLS + 1))
	else
		what="nothing (never paused)"
	fi
	wait "$pid" 2>/dev/null
	diag "sealed $i: paused at $step, killed $what (push exit $?)"
	start_sealer
	settle "$ROOT"
	assert "[sealed $i, $step] every earlier snapshot is unchanged right after the kill" \
		inv_unchanged "$ROOT" "$MAN"
	CHECK_ARGS=(--config "$SEAL_CONF")
	RECOVER_SUB=$SSUB RECOVER_PUSH=push_sealed recover "sealed $i" "$ROOT" "$ssrc" "$MAN" -- -M--fake-super
	CHECK_ARGS=()
done
stop_sshd

section sealing
diag "kill points: $n_fixed fixed, $N_KILLS random that landed"
done_testing
