#!/bin/bash
# History queries: hindsight versions, ls, diff and status, over a real sshd
# (ForceCommand mode: an unprivileged account, so the server keeps owners,
# modes and symlinks with --fake-super) and against a local repository
# (root: real owners and real symlinks). Five snapshots of one tree, made
# by `hindsight backup`:
#
#   S1  the first tree          S4  adds, deletes, modifies, chmods, a
#   S2  nothing changed             deleted directory, a new directory,
#   S3  f modified                  a file that became a symlink
#                               S5  f modified
#
# so f has exactly three versions (S1-S2, S3-S4, S5), and diff S3 S4 lists
# exactly the changes made for S4. Then hostile queries (each refused with
# exit 12, or 10 where the path is simply not in the snapshot, and nothing
# changed on disk), and status while a slow push runs.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"

# make_tree T: the tree as S1 holds it.
make_tree() {
	local t=$1
	mkdir -p "$t/docs" "$t/olddir/sub" "$t/names" "$t/perms"
	echo v1 >"$t/f"
	echo same >"$t/docs/changed.txt"
	echo mode >"$t/docs/mode.txt"
	echo old >"$t/docs/old.txt"
	echo a >"$t/olddir/a"
	echo b >"$t/olddir/sub/b"
	echo t >"$t/typechg"
	echo s >"$t/names/with space.txt"
	chown 1234:5678 "$t/names/with space.txt"
	echo n >"$t/names/"$'nl\nname'
	echo x >"$t/names/"$'bad\xffname'
	ln -s ../f "$t/names/rellink"
	ln -s /etc "$t/outlink"
}

# change T N: what changes in T before snapshot N.
change() {
	local t=$1
	case $2 in
	3) echo v2-longer >"$t/f" ;;
	4)
		echo more >>"$t/docs/changed.txt"
		chmod 600 "$t/docs/mode.txt"
		echo new >"$t/docs/new.txt"
		echo nl >"$t/docs/"$'new\nline.txt'
		rm "$t/docs/old.txt"
		rm -r "$t/olddir"
		mkdir -p "$t/newdir/sub"
		echo x >"$t/newdir/sub/file"
		chmod 700 "$t/perms"
		rm "$t/typechg"
		ln -s f "$t/typechg"
		;;
	5) echo v3 >"$t/f" ;;
	esac
}

# The lines `hindsight diff S3 S4` must print, in this order.
expected_diff() {
	local t=$1
	cat <<-EOF
	M $t/docs/changed.txt
	M $t/docs/mode.txt
	+ $t/docs/new\\nline.txt
	+ $t/docs/new.txt
	- $t/docs/old.txt
	+ $t/newdir/
	- $t/olddir/
	M $t/perms/
	- $t/typechg
	+ $t/typechg
	EOF
}

same_text() {   # FILE EXPECTED-TEXT
	if [ "$(cat "$1")" != "$2" ]; then
		echo "got:"; cat "$1"; echo "wanted:"; echo "$2"
		return 1
	fi
}

jq_ok() {   # FILE FILTER: the filter is true of the JSON in FILE
	jq -e "$2" "$1" >/dev/null && return 0
	echo "jq $2 is not true of:"; head -c 3000 "$1"
	return 1
}

# no_raw_controls FILE: nothing but printable text and newlines.
no_raw_controls() {
	if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$1"; then
		echo "raw control characters in:"; cat -A "$1"
		return 1
	fi
}

# history LABEL ROOT TREE REPO-ARGS...: five snapshots of TREE, then every
# query through the client with REPO-ARGS.
history() {
	local label=$1 root=$2 t=$3 n
	shift 3
	local -a R=("$@")
	make_tree "$t"
	for n in 1 2 3 4 5; do
		change "$t" "$n"
		run "$HS_CLIENT" backup "${R[@]}" "$t" ||
			fatal "[$label] backup $n" "$(cat "$LAST_ERR")"
	done
	read -r S1 S2 S3 S4 S5 <<<"$(snapshots "$root" | tr '\n' ' ')"
	[ -n "$S5" ] || fatal "[$label] five snapshots" "$(snapshots "$root")"
	tree_state "$root" >"$SCRATCH/$label.root"

	# ---- versions
	assert "[$label] versions of f exits 0" \
		succeeds "$HS_CLIENT" versions "${R[@]}" --json "$t/f"
	cp "$LAST_OUT" "$SCRATCH/$label.v.json"
	assert "[$label] f, changed in 2 of 5 snapshots, has exactly 3 versions" \
		jq_ok "$SCRATCH/$label.v.json" '.protocol == 1 and .verb == "versions" and (.versions | length) == 3'
	assert "[$label] ... S1-S2 (2), S3-S4 (2), S5 (1), each a file" \
		jq_ok "$SCRATCH/$label.v.json" "[.versions[] | [.first, .last, .count, .type]] ==
			[[\"$S1\", \"$S2\", 2, \"file\"], [\"$S3\", \"$S4\", 2, \"file\"], [\"$S5\", \"$S5\", 1, \"file\"]]"
	assert "[$label] ... with their sizes, distinct inodes, and no snapshot missing" \
		jq_ok "$SCRATCH/$label.v.json" '[.versions[].size] == [3, 10, 3] and
			([.versions[].inode] | unique | length) == 3 and .missing == []'
	assert "[$label] the versions table has a header and three numbered rows" \
		succeeds "$HS_CLIENT" versions "${R[@]}" "$t/f"
	assert "[$label] ... numbered 1 to 3, with first and last snapshot" \
		is_eq "$(awk 'NR > 1 { print $1, $2, $3, $4 }' "$LAST_OUT" | tr '\n' ';')" \
		"1 $S1 $S2 2;2 $S3 $S4 2;3 $S5 $S5 1;"
	assert "[$label] a relative PATH is taken against the current directory" \
		succeeds env -C "$t/docs" "$HS_CLIENT" versions "${R[@]}" --json ../f
	assert "[$label] ... and names the same file" \
		jq_ok "$LAST_OUT" "(.versions | length) == 3 and .path == \"${t#/}/f\""
	assert "[$label] a deleted file has one version and says where it is missing" \
		succeeds "$HS_CLIENT" versions "${R[@]}" --json "$t/docs/old.txt"
	assert "[$label] ... S1-S3, missing from S4 and S5" \
		jq_ok "$LAST_OUT" "[.versions[] | [.first, .last, .count]] == [[\"$S1\", \"$S3\", 3]] and
			.missing == [\"$S4\", \"$S5\"]"
	assert "[$label] a path in no snapshot exits 10" \
		must_fail 10 "$HS_CLIENT" versions "${R[@]}" "$t/never-there"
	assert "[$label] ... and says so" last_err_has "no $t/never-there in any snapshot"

	# ---- diff
	assert "[$label] diff S3 S4 exits 0" succeeds "$HS_CLIENT" diff "${R[@]}" "$S3" "$S4"
	assert "[$label] diff S3 S4 lists exactly the additions, deletions and modifications made" \
		same_text "$LAST_OUT" "$(expected_diff "$t")"
	assert "[$label] ... and says on stderr which two snapshots it compared" \
		is_eq "$(grep -c '^hindsight: snapshot ' "$LAST_ERR")" 2
	assert "[$label] diff without snapshots compares the two newest: f modified, nothing else" \
		succeeds "$HS_CLIENT" diff "${R[@]}"
	assert "[$label] ... exactly one line" same_text "$LAST_OUT" "M $t/f"
	assert "[$label] diff S1 S2 (nothing changed) prints nothing" \
		succeeds "$HS_CLIENT" diff "${R[@]}" "$S1" "$S2"
	assert "[$label] ... empty" is_eq "$(cat "$LAST_OUT")" ""
	assert "[$label] diff A PATH: B is the newest, only below PATH" \
		succeeds "$HS_CLIENT" diff "${R[@]}" "$S3" "$t/docs"
	assert "[$label] ... the five changes in docs" same_text "$LAST_OUT" \
		"$(expected_diff "$t" | grep " $t/docs/")"
	assert "[$label] diff of a deleted directory as PATH is one line" \
		succeeds "$HS_CLIENT" diff "${R[@]}" "$S3" "$S4" "$t/olddir"
	assert "[$label] ... '- $t/olddir/'" same_text "$LAST_OUT" "- $t/olddir/"
	assert "[$label] diff --json gives ops, paths inside the snapshot and types" \
		succeeds "$HS_CLIENT" diff "${R[@]}" --json "$S3" "$S4"
	assert "[$label] ... a new directory is one '+' of type dir, the new symlink a '+' symlink" \
		jq_ok "$LAST_OUT" ".a == \"$S3\" and .b == \"$S4\" and (.changes | length) == 10 and
			([.changes[] | select(.op == \"+\" and .path == \"${t#/}/newdir\" and .type == \"dir\")] | length) == 1 and
			([.changes[] | select(.op == \"+\" and .path == \"${t#/}/typechg\")][0].type) == \"symlink\""
	assert "[$label] diff of a PATH in neither snapshot exits 10" \
		must_fail 10 "$HS_CLIENT" diff "${R[@]}" "$S1" "$S2" "$t/never-there"
	assert "[$label] diff from a time before the first snapshot exits 10" \
		must_fail 10 "$HS_CLIENT" diff "${R[@]}" 2001-01-01 "$S2"

	# ---- ls
	assert "[$label] ls of a directory exits 0 and names the snapshot on stderr" \
		succeeds "$HS_CLIENT" ls "${R[@]}" --at "$S1" "$t/names"
	cp "$LAST_OUT" "$SCRATCH/$label.ls"
	assert "[$label] ... '(snapshot $S1' on stderr" last_err_has "^hindsight: snapshot $S1 "
	assert "[$label] ... four entries, sorted by bytes, names shown escaped and readable" \
		is_eq "$(awk '{ print $NF }' "$SCRATCH/$label.ls" | tr '\n' ' ')" \
		'bad\xffname nl\nname ../f space.txt '
	assert "[$label] ... no raw control character reaches the terminal" no_raw_controls "$SCRATCH/$label.ls"
	assert "[$label] ... the name with a space is whole, with its stored owner 1234:5678" \
		grep -Eq '^-rw-r--r--  1234  5678  +2  [0-9-]+ [0-9:]+  with space\.txt$' "$SCRATCH/$label.ls"
	assert "[$label] ... the symlink is shown as one, with its target" \
		grep -Eq '^lrwxrwxrwx .*  rellink -> \.\./f$' "$SCRATCH/$label.ls"
	assert "[$label] ls --json encodes the invalid UTF-8 name losslessly" \
		succeeds "$HS_CLIENT" ls "${R[@]}" --json --at "$S1" "$t/names"
	assert "[$label] ... as bad\\xffname with name_escaped, the others as they are" \
		jq_ok "$LAST_OUT" '[.entries[] | [.name, (.name_escaped // false)]] ==
			[["bad\\xffname", true], ["nl\nname", false], ["rellink", false], ["with space.txt", false]] and
			.type == "dir" and (.entries[2] | .type == "symlink" and .target == "../f")'
	assert "[$label] ls of a file gives one line, with its mode after the chmod" \
		succeeds "$HS_CLIENT" ls "${R[@]}" --at "$S4" "$t/docs/mode.txt"
	assert "[$label] ... -rw------- and its path" \
		grep -Eq "^-rw-------  0  0  5  .*  $t/docs/mode\\.txt\$" "$LAST_OUT"
	assert "[$label] ... exactly one line" is_eq "$(wc -l <"$LAST_OUT")" 1
	assert "[$label] ls with no PATH lists the top of the latest snapshot" \
		succeeds "$HS_CLIENT" ls "${R[@]}" --json
	assert "[$label] ... the snapshot's top holds the first component of the tree" \
		jq_ok "$LAST_OUT" ".snapshot == \"$S5\" and .path == \"\" and
			([.entries[].name] | index(\"$(echo "$t" | cut -d/ -f2)\")) != null"
	assert "[$label] ls of a path not in the snapshot exits 10" \
		must_fail 10 "$HS_CLIENT" ls "${R[@]}" --at "$S1" "$t/newdir"
	assert "[$label] ... and says so" last_err_has "no $t/newdir in snapshot $S1"
	assert "[$label] ls --json is the server's answer unchanged" \
		cmp_json_passthrough "$root" "$S1" "${t#/}/names" "${R[@]}"

	# ---- status
	assert "[$label] status --json: five snapshots, the newest, nothing in progress, space" \
		succeeds "$HS_CLIENT" status "${R[@]}" --json
	assert "[$label] ... as JSON" \
		jq_ok "$LAST_OUT" ".protocol == 1 and .verb == \"status\" and .snapshots == 5 and
			.newest == \"$S5\" and .current == \"$S5\" and .in_progress == null and
			.free_bytes > 0 and .total_bytes >= .free_bytes"
	assert "[$label] status (text) names the newest snapshot and says no backup runs" \
		succeeds "$HS_CLIENT" status "${R[@]}"
	assert "[$label] ... both" \
		bash -c "grep -q '^newest  *$S5 ' '$LAST_OUT' && grep -q '^backup  *none running' '$LAST_OUT'"

	assert "[$label] none of these queries changed anything in the backup root" \
		same_tree_state "$SCRATCH/$label.root" "$root"
}

# cmp_json_passthrough ROOT SNAP REL REPO-ARGS...: `ls --json` prints what
# the server itself answers (the same server code, run here on ROOT).
cmp_json_passthrough() {
	local root=$1 snap=$2 rel=$3
	shift 3
	"$HS_CLIENT" ls "$@" --json --at "$snap" "/$rel" >"$SCRATCH/pass.client" 2>/dev/null || return 1
	env HINDSIGHT_ROOT="$root" "$HS_SERVER" local localhost "hindsight ls $snap /$rel" \
		>"$SCRATCH/pass.server" || return 1
	cmp "$SCRATCH/pass.client" "$SCRATCH/pass.server"
}

# ------------------------------------------------------------ over ssh

new_account a; A=$ACCOUNT
new_account b; B=$ACCOUNT          # another account, whose root A must not reach
echo "secret of $B" >"$(home_of "$B")/secret"
chown "$B:$B" "$(home_of "$B")/secret"
start_sshd forcecommand "$A" "$B"
CA=$(ssh_conf "$A")
ROOT_A=$(home_of "$A")
TS="$SCRATCH/ssh/tree"
history ssh "$ROOT_A" "$TS" --repo server: --ssh "ssh -F $CA"
assert "[ssh] the server kept owners with --fake-super (the xattr is there)" \
	is_eq "$(stored_owner "$ROOT_A/$S1$TS/names/with space.txt")" "1234:5678"
assert "[ssh] and stored the symlink as a file, as --fake-super does" \
	bash -c "[ ! -L '$ROOT_A/$S1$TS/outlink' ] && [ -f '$ROOT_A/$S1$TS/outlink' ]"
SSH_S1=$S1

# ------------------------------------------------------------ local

LREPO="$SCRATCH/repo"
TL="$SCRATCH/local/tree"
history local "$LREPO" "$TL" --repo "$LREPO"
assert "[local] the local repo holds real symlinks (no --fake-super as root)" \
	bash -c "[ -L '$LREPO/$S1$TL/outlink' ]"

# ------------------------------------------------------------ hostile queries

# One case per line, tab-separated: description, exit code, the command as
# sshd puts it in SSH_ORIGINAL_COMMAND (@T is the tree, @B the other
# account's home, @N its name), and what the reason must mention.
HOSTILE=$(cat <<'EOF'
versions ../x	12	hindsight versions ../x	'\.\.'
versions of a/../../x	12	hindsight versions /a/../../x	'\.\.'
ls current ../../etc	12	hindsight ls current ../../etc	'\.\.'
ls inprogress x	12	hindsight ls inprogress x	inprogress
ls .hindsight x	12	hindsight ls .hindsight x	\.hindsight
diff current ../x	12	hindsight diff current ../x	'\.\./x'
diff current current ../x	12	hindsight diff current current ../x	'\.\.'
ls through a stored symlink pointing out (link/x)	12	hindsight ls current @T/outlink/passwd	symlink
versions through that symlink	12	hindsight versions @T/outlink/passwd	symlink
diff through that symlink	12	hindsight diff current current @T/outlink/passwd	symlink
ls of another account's root as the snapshot	12	hindsight ls ../@N/current /	YYYY_MM_DD
ls of another account's absolute root as the snapshot	12	hindsight ls @B/current /	YYYY_MM_DD
ls current with another account's root as the path	10	hindsight ls current @B	
versions of another account's file	10	hindsight versions @B/secret	
an unknown verb	12	hindsight frob	unknown query verb
a time expression as the snapshot	12	hindsight ls yesterday /	YYYY_MM_DD
too many arguments to ls	12	hindsight ls current / extra	usage is
too many arguments to versions	12	hindsight versions /a /b	usage is
too many arguments to status	12	hindsight status now	no arguments
EOF
)

hostile_batch() {
	local label=$1 root=$2 t=$3 desc want cmd why
	shift 3
	tree_state "$root" >"$SCRATCH/$label.hostile"
	while IFS=$'\t' read -r desc want cmd why; do
		cmd=${cmd//@T/$t}
		cmd=${cmd//@B/$(home_of "$B")}
		cmd=${cmd//@N/$B}
		assert "[$label] $desc exits $want" must_fail "$want" "$@" "$cmd"
		if [ "$want" -eq 12 ]; then
			assert "[$label] $desc: stderr is one line giving the reason${why:+ (it mentions $why)}" \
				stderr_is_one_reason "${why//\'/}"
		else
			assert "[$label] $desc: it only says the path is not in the snapshot" \
				bash -c "[ \$(wc -l <'$LAST_ERR') -eq 1 ] && grep -q 'hindsight-server: no /' '$LAST_ERR' && ! grep -q secret '$LAST_OUT'"
		fi
	done <<<"$HOSTILE"
	assert "[$label] after the hostile queries the backup root is unchanged" \
		same_tree_state "$SCRATCH/$label.hostile" "$root"
}
ssh_cmd() { ssh -F "$CA" server "$1"; }
local_cmd() { env HINDSIGHT_ROOT="$LREPO" "$HS_SERVER" local localhost "$1"; }
hostile_batch ssh "$ROOT_A" "$TS" ssh_cmd
hostile_batch local "$LREPO" "$TL" local_cmd
assert "the other account's home is as it was" \
	is_eq "$(cat "$(home_of "$B")/secret")" "secret of $B"

# ------------------------------------------------------------ a wide tree

# Wide enough that diff hands subtrees to worker threads (it plans up to
# 8 tasks per CPU): 64 directories of 2, changes in 7 of them.
W="$SCRATCH/wide/tree"
for i in $(seq -w 1 64); do
	mkdir -p "$W/d$i/s1" "$W/d$i/s2"
	echo x >"$W/d$i/s1/f"
	echo y >"$W/d$i/s2/g"
done
assert "[local] a backup of a wide tree" succeeds "$HS_CLIENT" backup --repo "$LREPO" "$W"
for i in 05 17 33 64; do echo changed >"$W/d$i/s2/g"; done
rm -r "$W/d20/s1"
mkdir "$W/d40/s3"
echo n >"$W/d40/s3/n"
chmod 700 "$W/d50/s1"
assert "[local] a second backup after changes in 7 of its 64 directories" \
	succeeds "$HS_CLIENT" backup --repo "$LREPO" "$W"
assert "[local] diff of the two (whole snapshots) exits 0" \
	succeeds "$HS_CLIENT" diff --repo "$LREPO" latest~1 latest
assert "[local] ... lists exactly those changes, in order, whichever thread found them" \
	same_text "$LAST_OUT" "M $W/d05/s2/g
M $W/d17/s2/g
- $W/d20/s1/
M $W/d33/s2/g
+ $W/d40/s3/
M $W/d50/s1/
M $W/d64/s2/g"
cp "$LAST_OUT" "$SCRATCH/wide.diff"
assert "[local] diff below the wide tree's PATH gives the same lines" \
	succeeds "$HS_CLIENT" diff --repo "$LREPO" latest~1 latest "$W"
assert "[local] ... the same" cmp "$SCRATCH/wide.diff" "$LAST_OUT"

# ------------------------------------------------------------ while a push runs

mkdir -p "$SCRATCH/slow"
for i in $(seq -w 1 30); do random_file "$SCRATCH/slow/big/g$i" 100; done
BEFORE=$(snapshots "$ROOT_A" | wc -l)
bg "$SCRATCH/slow.log" rsync -a --bwlimit=800 --rsh="ssh -F $CA" "$SCRATCH/slow" server:
PUSH=$BG_PID
wait_until 60 bash -c "[ -n \"\$(find '$ROOT_A/inprogress/slow/big' -type f 2>/dev/null)\" ]" ||
	fatal "the slow push never started" "$(cat "$SCRATCH/slow.log")"
assert "status during a push answers at once (exit 0 within 10 s)" \
	succeeds timeout 10 "$HS_CLIENT" status --repo server: --ssh "ssh -F $CA" --json
assert "... and shows the push in progress: its pid and a start time" \
	jq_ok "$LAST_OUT" ".in_progress.pid > 1 and .in_progress.since > 1700000000 and .snapshots == $BEFORE"
assert "status (text) says since when" \
	succeeds timeout 10 "$HS_CLIENT" status --repo server: --ssh "ssh -F $CA"
assert "... 'in progress since'" grep -q '^backup  *in progress since ' "$LAST_OUT"
assert "versions during the push answers, from completed snapshots only" \
	succeeds timeout 10 "$HS_CLIENT" versions --repo server: --ssh "ssh -F $CA" --json "$TS/f"
assert "... still three versions" jq_ok "$LAST_OUT" '(.versions | length) == 3'
assert "diff during the push answers" \
	succeeds timeout 10 "$HS_CLIENT" diff --repo server: --ssh "ssh -F $CA" "$SSH_S1" latest
assert "ls during the push answers" \
	succeeds timeout 10 "$HS_CLIENT" ls --repo server: --ssh "ssh -F $CA" "$TS"
assert "the push was still running through all of these" kill -0 "$PUSH"
wait "$PUSH"
RC=$?
assert "the push completes (exit 0) and publishes exactly one new snapshot" \
	is_eq "$RC $(snapshots "$ROOT_A" | wc -l)" "0 $((BEFORE + 1))"
assert "afterwards status shows no push in progress and the new snapshot" \
	succeeds "$HS_CLIENT" status --repo server: --ssh "ssh -F $CA" --json
assert "... in_progress is null" \
	jq_ok "$LAST_OUT" ".in_progress == null and .snapshots == $((BEFORE + 1)) and .newest == \"$(snapshots "$ROOT_A" | tail -n 1)\""

done_testing
