#!/bin/bash
# Resume: kill -9 the client's rsync mid-transfer, change the source, push
# again. The rerun must reuse what arrived, publish a snapshot equal to the
# source, and leave every earlier snapshot untouched: data, mode, owner,
# times and xattrs (PRODUCT.md, "Resuming must never modify an inode that a
# completed snapshot shares"). Over ssh and against a local root.
. "$(dirname "$0")/lib.sh"

NEW_FILES=200      # of 100 KiB each: 20 MiB, several seconds at --bwlimit=500

make_old() {
	local d=$1 i
	for i in $(seq -w 0 19); do
		random_file "$d/a_old/f$i" 4
		chmod 644 "$d/a_old/f$i"
		[ $((10#$i % 2)) -eq 0 ] && setfattr -n user.tag -v "old-$i" "$d/a_old/f$i"
	done
	return 0
}

make_new() {
	local d=$1 i
	mkdir -p "$d/b_new"
	for i in $(seq -w 0 $((NEW_FILES - 1))); do
		head -c 102400 /dev/urandom >"$d/b_new/g$i"
	done
	setfattr -n user.tag -v new "$d/b_new/g000"
	setfattr -n user.tag -v new "$d/b_new/g$((NEW_FILES - 1))"
}

# arrived_inodes DIR: "name inode" of each complete file rsync had put in
# DIR (its temporaries start with a dot).
arrived_inodes() {
	find "$1" -maxdepth 1 -type f ! -name '.*' -printf '%f %i\n' | sort
}

# reused ARRIVED DIR SKIP...: every file listed in ARRIVED (but SKIP) is
# the same inode in DIR: nothing that arrived was sent again.
reused() {
	local list=$1 dir=$2 name ino now bad=0 n=0
	shift 2
	while read -r name ino; do
		case " $* " in *" $name "*) continue ;; esac
		now=$(stat -c %i "$dir/$name" 2>/dev/null)
		n=$((n + 1))
		[ "$now" = "$ino" ] || { echo "$name was inode $ino, now ${now:-missing}"; bad=1; }
	done <"$list"
	[ "$n" -gt 0 ] || { echo "no arrived file to check"; return 1; }
	return $bad
}

between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] && return 0
	echo "$1 not in $2..$3"
	return 1
}

log_has() { grep -q -- "$2" "$1/.hindsight/log" || { echo "log lacks '$2':"; cat "$1/.hindsight/log"; return 1; }; }

# scenario LABEL ROOT RSH [ENV=VALUE...]
scenario() {
	local label=$1 root=$2 rsh=$3
	shift 3
	local envs=("$@")
	local src="$SCRATCH/$label/data" work="$SCRATCH/$label"
	local cmp_opts=() s1 s2 n pid rc f

	[ "$label" = local ] || cmp_opts=(-M--fake-super)
	push() {
		env "${envs[@]}" rsync -aAXH --numeric-ids --delete "$@" --rsh="$rsh" "$src" server:
	}

	make_old "$src"
	assert "[$label] a first complete push exits 0" succeeds push
	s1=$(snapshots "$root")
	tree_state "$root/$s1" >"$work/state1"

	make_new "$src"
	# a plain command, so that $! is rsync itself (env execs it)
	bg "$work/slow.log" env "${envs[@]}" rsync -aAXH --numeric-ids --delete --bwlimit=500 --rsh="$rsh" "$src" server:
	pid=$BG_PID
	if ! wait_until 60 bash -c "[ \$(find '$root/inprogress/data/b_new' -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l) -ge 5 ]"; then
		kill -9 "$pid" 2>/dev/null
		fatal "[$label] the slow push never got going" "$(cat "$root/.hindsight/log" 2>&1)"
	fi
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	assert "[$label] the client's rsync died of SIGKILL mid-transfer" is_eq "$rc" 137
	# the server side notices the broken connection and gives the lock back
	wait_until 60 lock_is_free "$root"
	wait_until 30 log_has "$root" "push not completed"

	assert "[$label] the server logged the push as not completed" log_has "$root" "push not completed"
	assert "[$label] the killed push published nothing (still one snapshot)" \
		is_eq "$(snapshots "$root")" "$s1"
	n=$(count_files "$root/inprogress/data/b_new")
	assert "[$label] the killed push left some but not all new files in inprogress" \
		between "$n" 1 $((NEW_FILES - 1))
	assert "[$label] the interrupted tree shares inodes with snapshot 1 (what resume must not write through)" \
		same_inode "$root/inprogress/data/a_old/f03" "$root/$s1/data/a_old/f03"
	arrived_inodes "$root/inprogress/data/b_new" >"$work/arrived"

	# attribute-only and data changes, to files the interrupted tree shares
	# with snapshot 1 and to files that arrived before the kill
	chmod 600 "$src/a_old/f03"
	echo "changed" >>"$src/a_old/f05"
	setfattr -n user.tag -v changed "$src/a_old/f08"
	touch -d '2001-02-03 04:05:06' "$src/a_old/f09"
	chmod 600 "$src/b_new/g000"
	echo "changed" >>"$src/b_new/g001"

	assert "[$label] the rerun, without a bandwidth limit, exits 0" succeeds push
	s2=$(snapshots "$root" | tail -n 1)
	assert "[$label] the rerun published one new snapshot" \
		is_eq "$(snapshots "$root" | wc -l) $([ "$s2" != "$s1" ] && echo new)" "2 new"
	assert "[$label] current points at the new snapshot" is_eq "$(readlink "$root/current")" "$s2"
	assert "[$label] the new snapshot equals the source (rsync -nac -i -AXH reports nothing)" \
		same_as_source "$src" "$root/$s2/data" -AXH --numeric-ids "${cmp_opts[@]}"
	assert "[$label] snapshot 1 is unchanged byte for byte and attribute for attribute" \
		same_tree_state "$work/state1" "$root/$s1"
	assert "[$label] snapshot 1 still records mode 644 for the file chmod'ed before the rerun" \
		is_eq "$(stored_mode "$root/$s1/data/a_old/f03")" 644
	assert "[$label] snapshot 1 still holds the old xattr of the file whose xattr changed" \
		is_eq "$(getfattr --absolute-names --only-values -n user.tag "$root/$s1/data/a_old/f08")" old-08
	assert "[$label] the new snapshot records the new mode 600" \
		is_eq "$(stored_mode "$root/$s2/data/a_old/f03")" 600
	for f in f00 f01 f02 f04 f06 f07 f19; do
		assert "[$label] unchanged a_old/$f shares its inode with snapshot 1" \
			same_inode "$root/$s1/data/a_old/$f" "$root/$s2/data/a_old/$f"
	done
	for f in f03 f05 f08 f09; do
		assert "[$label] changed a_old/$f is a new inode in the new snapshot" \
			other_inode "$root/$s1/data/a_old/$f" "$root/$s2/data/a_old/$f"
	done
	assert "[$label] unchanged files that arrived before the kill were reused, not sent again" \
		reused "$work/arrived" "$root/$s2/data/b_new" g000 g001
	assert "[$label] the new snapshot's metadata says it resumed from one interrupted tree" \
		jq -e '.resumed == 1 and .status == "complete"' "$root/.hindsight/snapshots/$s2.json"
	assert "[$label] the resume bases are gone after the success" \
		is_eq "$(ls -A "$root/.hindsight/resume")" ""
	assert "[$label] no inprogress tree is left" absent "$root/inprogress"
}

new_account r
ACC=$ACCOUNT
start_sshd forcecommand "$ACC"
scenario ssh "$(home_of "$ACC")" "ssh -F $(ssh_conf "$ACC")"
stop_sshd

mkdir -m 700 "$SCRATCH/localroot"
scenario local "$SCRATCH/localroot" "$HS_SERVER local" HINDSIGHT_ROOT="$SCRATCH/localroot"

done_testing
