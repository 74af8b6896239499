#!/bin/bash
# The seed's client command, changed only in user, host and key, run three
# times with changes in between: against sshd with ForceCommand in a Match
# block, against sshd with restrict,command="..." in authorized_keys, and
# against a local root through `hindsight-server local` (no ssh).
. "$(dirname "$0")/lib.sh"

# make_source DIR OWNER: a small home directory. Files named with K=1,2 are
# changed before push K+1: modK.txt modified, addK.txt added, delK.txt
# deleted, modeK.sh chmod'ed 644 -> 700.
make_source() {
	local d=$1 owner=$2
	mkdir -p "$d/docs" "$d/photos" "$d/sub"
	echo "quarterly report" >"$d/docs/report.txt"
	random_file "$d/photos/a.jpg" 64
	for k in 1 2; do
		echo "version 1 of mod$k" >"$d/mod$k.txt"
		echo "to be deleted" >"$d/del$k.txt"
		printf '#!/bin/sh\necho %s\n' "$k" >"$d/mode$k.sh"
		chmod 644 "$d/mode$k.sh"
	done
	echo "noise" >"$d/app.log"
	echo "noise" >"$d/build_log"
	echo "noise" >"$d/sub/debug.log"
	echo "kept" >"$d/sub/notes.txt"
	ln -s docs/report.txt "$d/report-link"
	give_to "$owner" "$d"
	# one file the account does not own: the server must keep its owner
	echo "secret=1" >"$d/root-owned.conf"
	chmod 600 "$d/root-owned.conf"
}

change_source() {
	local d=$1 k=$2 owner=$3
	echo "version 2 of mod$k, longer" >>"$d/mod$k.txt"
	echo "new in push $((k + 1))" >"$d/add$k.txt"
	rm "$d/del$k.txt"
	chmod 700 "$d/mode$k.sh"
	echo "more noise" >"$d/new$k.log"
	echo "more noise" >"$d/sub/new${k}_log"
	chown -h "$owner:$owner" "$d/add$k.txt" "$d/new$k.log" "$d/sub/new${k}_log"
}

all_have_metadata() {
	local root=$1 s
	for s in $(snapshots "$root"); do
		jq -e --arg n "$s" '.name == $n and .status == "complete" and .rsync_exit == 0' \
			"$root/.hindsight/snapshots/$s.json" >/dev/null ||
			{ echo "bad or missing metadata for $s:"; cat "$root/.hindsight/snapshots/$s.json"; return 1; }
	done
}

names_are_times() {
	local s
	for s in "$@"; do
		[[ $s =~ ^[0-9]{4}_(0[1-9]|1[0-2])_[0-3][0-9]_[0-2][0-9]_[0-5][0-9]_[0-5][0-9]$ ]] ||
			{ echo "bad snapshot name $s"; return 1; }
	done
}

no_logs_in() {
	local found
	found=$(find "$@" \( -name '*.log' -o -name '*_log' \) -print)
	[ -z "$found" ] || { echo "excluded files in snapshots:"; echo "$found"; return 1; }
}

# presence ROOT REL SNAP...: "yes" or "no" for each snapshot.
presence() {
	local root=$1 rel=$2 s out=
	shift 2
	for s in "$@"; do
		if [ -e "$root/$s/$rel" ]; then out="$out yes"; else out="$out no"; fi
	done
	echo "${out# }"
}

# same_inode_in ROOT REL SNAP...: REL is one inode in every snapshot given.
same_inode_in() {
	local root=$1 rel=$2 first=$3 s
	shift 3
	for s in "$@"; do
		same_inode "$root/$first/$rel" "$root/$s/$rel" || return 1
	done
}

published_lines() {
	local n
	n=$(grep -c ' published ' "$1/.hindsight/log")
	is_eq "$n" "$2" || cat "$1/.hindsight/log"
}

# scenario LABEL ROOT RSH [ENV=VALUE...]: the whole story against one root.
# RSH is the seed's --rsh value; ENV is set for rsync (the local transport's
# HINDSIGHT_ROOT).
scenario() {
	local label=$1 root=$2 rsh=$3
	shift 3
	local envs=("$@")
	local home="$SCRATCH/$label/home/$OWNER"
	local name=$OWNER cmp_opts=()
	local s1 s2 s3 snaps

	# ssh pushes land as the unprivileged account: owners live in xattrs
	[ "$label" = local ] || cmp_opts=(-M--fake-super)
	make_source "$home" "$OWNER"
	seed_push() {
		env "${envs[@]}" rsync -az --delete --rsh="$rsh" \
			--exclude '*.log' --exclude '*_log' "$home" server:
	}

	assert "[$label] first push of the seed's rsync command exits 0" succeeds seed_push
	s1=$(snapshots "$root" | tail -n 1)
	tree_state "$root/$s1" >"$SCRATCH/$label/state1"
	change_source "$home" 1 "$OWNER"
	assert "[$label] second push, after modify/add/delete/chmod, exits 0" succeeds seed_push
	change_source "$home" 2 "$OWNER"
	assert "[$label] third push, after more changes, exits 0" succeeds seed_push

	snaps=$(snapshots "$root")
	assert "[$label] three snapshots exist" is_eq "$(echo "$snaps" | grep -c .)" 3
	read -r s1 s2 s3 <<<"$(echo $snaps)"
	assert "[$label] snapshots are named YYYY_MM_DD_HH_MM_SS (UTC start time)" \
		names_are_times $snaps
	assert "[$label] snapshots sort in push order (each holds what was added just before it)" \
		is_eq "$(presence "$root" "$name/add1.txt" $snaps) $(presence "$root" "$name/add2.txt" $snaps)" \
		"no yes yes no no yes"
	assert "[$label] current points at the newest snapshot" \
		is_eq "$(readlink "$root/current")" "$s3"

	local f
	for f in docs/report.txt photos/a.jpg sub/notes.txt; do
		assert "[$label] unchanged $f shares one inode across all three snapshots" \
			same_inode_in "$root" "$name/$f" $snaps
	done
	assert "[$label] an unchanged file owned by another user (root) still shares its inode" \
		same_inode "$root/$s1/$name/root-owned.conf" "$root/$s3/$name/root-owned.conf"
	assert "[$label] the root-owned file's recorded owner is 0:0" \
		is_eq "$(stored_owner "$root/$s3/$name/root-owned.conf")" 0:0
	assert "[$label] the file modified before push 2 does not share its inode with snapshot 1" \
		other_inode "$root/$s1/$name/mod1.txt" "$root/$s2/$name/mod1.txt"
	assert "[$label] the file modified before push 3 does not share its inode with snapshot 2" \
		other_inode "$root/$s2/$name/mod2.txt" "$root/$s3/$name/mod2.txt"
	assert "[$label] the modified file's newest copy holds the new content" \
		cmp "$home/mod2.txt" "$root/$s3/$name/mod2.txt"
	assert "[$label] the modified file's older copy holds the old content" \
		is_eq "$(cat "$root/$s2/$name/mod2.txt")" "version 1 of mod2"
	assert "[$label] the chmod'ed file does not share its inode with the previous snapshot" \
		other_inode "$root/$s1/$name/mode1.sh" "$root/$s2/$name/mode1.sh"
	assert "[$label] the chmod'ed file's older copies kept their old mode 644" \
		is_eq "$(stored_mode "$root/$s1/$name/mode1.sh") $(stored_mode "$root/$s2/$name/mode2.sh")" "644 644"
	assert "[$label] the chmod'ed file's newer copies have the new mode 700" \
		is_eq "$(stored_mode "$root/$s2/$name/mode1.sh") $(stored_mode "$root/$s3/$name/mode2.sh")" "700 700"
	assert "[$label] the file deleted before push 2 is only in snapshot 1" \
		is_eq "$(presence "$root" "$name/del1.txt" $snaps)" "yes no no"
	assert "[$label] the file deleted before push 3 is gone from the newest snapshot, still in the older ones" \
		is_eq "$(presence "$root" "$name/del2.txt" $snaps)" "yes yes no"
	assert "[$label] no *.log or *_log file is in any snapshot" \
		no_logs_in "$root/$s1" "$root/$s2" "$root/$s3"
	assert "[$label] a symlink is stored as the client sent it" \
		is_eq "$(stored_link "$root/$s3/$name/report-link")" docs/report.txt
	assert "[$label] the first snapshot is unchanged after two more pushes (data, mode, owner, times, xattrs)" \
		same_tree_state "$SCRATCH/$label/state1" "$root/$s1"
	assert "[$label] the newest snapshot equals the source, less the excluded logs" \
		same_as_source "$home" "$root/$s3/$name" "${cmp_opts[@]}" --exclude '*.log' --exclude '*_log'
	assert "[$label] every snapshot has its metadata JSON (name, status complete, rsync exit 0)" \
		all_have_metadata "$root"
	assert "[$label] .hindsight/log has three 'published' lines" published_lines "$root" 3
	assert "[$label] no inprogress tree is left behind" absent "$root/inprogress"
	assert "[$label] no resume basis is left behind" \
		is_eq "$(ls -A "$root/.hindsight/resume")" ""
}

new_account o
OWNER=$ACCOUNT           # owns the source trees, as on a client machine
new_account f
FC=$ACCOUNT
new_account k
AK=$ACCOUNT

start_sshd forcecommand "$FC"
scenario forcecommand "$(home_of "$FC")" \
	"ssh -F $(ssh_conf "$FC") -l $FC -i $SCRATCH/client/$FC.key"

start_sshd authorized_keys "$AK"
scenario authorized_keys "$(home_of "$AK")" \
	"ssh -F $(ssh_conf "$AK") -l $AK -i $SCRATCH/client/$AK.key"
stop_sshd

mkdir -m 700 "$SCRATCH/localroot"
scenario local "$SCRATCH/localroot" "$HS_SERVER local" HINDSIGHT_ROOT="$SCRATCH/localroot"

done_testing
