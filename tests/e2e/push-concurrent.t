#!/bin/bash
# One push per backup root at a time: while a slow push holds the lock, a
# second one is turned away with exit 11 and "backup already in progress
# since T", and the first completes intact. Over ssh and locally.
. "$(dirname "$0")/lib.sh"

# What a stock rsync client sends for `rsync -a --delete SRC server:`.
SERVER_CMD='rsync --server -logDtpre.iLsfxCIvu --delete . .'
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

since_is_start() {
	local since start
	since=$(grep -Eo "in progress since $ISO" "$1" | grep -Eo "$ISO")
	start=$(jq -r .start "$2")
	is_eq "$since" "$start"
}

still_running() { kill -0 "$1" 2>/dev/null || { echo "the first push had already finished"; return 1; }; }

published_lines() { grep -c ' published ' "$1/.hindsight/log"; }

# scenario LABEL ROOT RSH DIRECT... -- ENV=VALUE...
# DIRECT is the command that hands SERVER_CMD to serve directly (ssh, or
# the local transport), so its exit code is serve's own.
scenario() {
	local label=$1 root=$2 rsh=$3
	shift 3
	local direct=() envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do direct+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	envs=("$@")
	local src="$SCRATCH/$label/data" work="$SCRATCH/$label"
	local cmp_opts=() s0 s1 pid rc i

	[ "$label" = local ] || cmp_opts=(-M--fake-super)
	mkdir -p "$src/base"
	for i in 1 2 3; do echo "file $i" >"$src/base/f$i"; done
	assert "[$label] a first push makes the baseline snapshot" \
		succeeds env "${envs[@]}" rsync -aX --delete --rsh="$rsh" "$src" server:
	s0=$(snapshots "$root")
	tree_state "$root/$s0" >"$work/state0"

	for i in $(seq -w 1 40); do random_file "$src/slow/g$i" 100; done
	bg "$work/first.log" env "${envs[@]}" rsync -aX --delete --bwlimit=1000 --rsh="$rsh" "$src" server:
	pid=$BG_PID
	wait_until 60 bash -c "[ -n \"\$(find '$root/inprogress/data/slow' -type f 2>/dev/null)\" ]" ||
		fatal "[$label] the slow push never started receiving" "$(cat "$work/first.log")"

	assert "[$label] a second push, straight to serve, exits 11 while the first holds the lock" \
		must_fail 11 "${direct[@]}" "$SERVER_CMD"
	cp "$LAST_ERR" "$work/second.err"
	assert "[$label] it says 'backup already in progress since' an ISO 8601 UTC time" \
		last_err_has "^hindsight-server: backup already in progress since $ISO"

	run env "${envs[@]}" rsync -aX --delete --rsh="$rsh" "$src" server:
	assert "[$label] a second push through the rsync client fails (rsync's own exit code, not a crash)" \
		bash -c "[ $LAST_RC -ne 0 ] && [ $LAST_RC -lt 128 ]"
	assert "[$label] the rsync client shows the server's 'backup already in progress since' message" \
		last_err_has "backup already in progress since $ISO"
	assert "[$label] the first push was still running while the others were turned away" \
		still_running "$pid"

	wait "$pid"
	rc=$?
	assert "[$label] the first push completes with exit 0" is_eq "$rc" 0
	[ "$rc" -eq 0 ] || _t_diag <"$work/first.log"
	s1=$(snapshots "$root" | tail -n 1)
	assert "[$label] exactly one new snapshot was made" \
		is_eq "$(snapshots "$root" | wc -l) $(published_lines "$root")" "2 2"
	assert "[$label] the first push's snapshot equals the source" \
		same_as_source "$src" "$root/$s1/data" -X "${cmp_opts[@]}"
	assert "[$label] the time in the message is the first push's start time" \
		since_is_start "$work/second.err" "$root/.hindsight/snapshots/$s1.json"
	assert "[$label] the baseline snapshot is unchanged" same_tree_state "$work/state0" "$root/$s0"
	assert "[$label] current points at the new snapshot" is_eq "$(readlink "$root/current")" "$s1"
	assert "[$label] no inprogress tree or resume basis is left" \
		is_eq "$(ls -A "$root/.hindsight/resume")$([ -e "$root/inprogress" ] && echo inprogress)" ""
	assert "[$label] the lock is free afterwards" lock_is_free "$root"
}

new_account c
ACC=$ACCOUNT
start_sshd forcecommand "$ACC"
CONF=$(ssh_conf "$ACC")
scenario ssh "$(home_of "$ACC")" "ssh -F $CONF" ssh -F "$CONF" server
stop_sshd

mkdir -m 700 "$SCRATCH/localroot"
scenario local "$SCRATCH/localroot" "$HS_SERVER local" \
	env HINDSIGHT_ROOT="$SCRATCH/localroot" "$HS_SERVER" local localhost -- \
	HINDSIGHT_ROOT="$SCRATCH/localroot"

done_testing
