#!/bin/bash
# hindsight-server du: on a history built by hand, where what each
# snapshot alone holds is known (files kept across snapshots by hard
# links, a file with two names in one snapshot, a file linked from outside
# the root, a sparse file, a symlink out of the root), the unique size of
# every snapshot is exact, the apparent and allocated sizes agree with
# du(1) on the snapshot alone, the total with du -s of the whole root, and
# deleting a snapshot frees exactly its unique size.
. "$(dirname "$0")/lib.sh"

R="$SCRATCH/root"
S1=2026_01_01_00_00_00
S2=2026_01_02_00_00_00
S3=2026_01_03_00_00_00
du_json() { "$HS_SERVER" du --root "$R" --json; }
bytes() { echo $(( $(stat -c '%b * %B' "$1") )); }   # allocated bytes of one inode
sum() { local t=0 f; for f in "$@"; do t=$((t + $(bytes "$f"))); done; echo "$t"; }
field() { jq -r "$1" "$LAST_OUT"; }   # of the last du --json

# ---------------------------------------------------------------- history

mkdir -p "$R/$S1/d" "$R/.hindsight/snapshots" "$SCRATCH/outside"
random_file "$R/$S1/d/a" 8
random_file "$R/$S1/b" 16
head -c 100 /dev/urandom >"$R/$S1/d/small"
truncate -s 1M "$R/$S1/sparse"
ln -s /etc "$R/$S1/out"
cp -al "$R/$S1" "$R/$S2"                 # as --link-dest leaves unchanged files
rm "$R/$S2/b"
random_file "$R/$S2/c" 4
cp -al "$R/$S2" "$R/$S3"
random_file "$R/$S3/e" 12
ln "$R/$S3/e" "$R/$S3/e2"               # two names, one snapshot
random_file "$R/$S3/f" 20
ln "$R/$S3/f" "$SCRATCH/outside/f"      # a link outside the root
mkdir "$R/inprogress"
ln "$R/$S3/c" "$R/inprogress/c"         # a push linking against S3
random_file "$R/inprogress/g" 4
ln -s "$S3" "$R/current"
for s in $S1 $S2 $S3; do echo '{}' >"$R/.hindsight/snapshots/$s.json"; done
sync

unique1=$(sum "$R/$S1" "$R/$S1/d" "$R/$S1/b")
unique2=$(sum "$R/$S2" "$R/$S2/d")
unique3=$(sum "$R/$S3" "$R/$S3/d" "$R/$S3/e")
outside=$(bytes "$R/$S3/f")
diag "expected unique: $S1 $unique1, $S2 $unique2, $S3 $unique3; outside $outside"

# ---------------------------------------------------------------- figures

assert "du --json on the root exits 0" succeeds du_json
cp "$LAST_OUT" "$SCRATCH/du.json"
assert "... lists the three snapshots, oldest first" \
	is_eq "$(field '[.snapshots[].name] | join(" ")')" "$S1 $S2 $S3"
assert "$S1 alone holds its directories and b (deleted later)" \
	is_eq "$(field '.snapshots[0].unique_bytes')" "$unique1"
assert "$S2 alone holds only its directories (c lives on in $S3 and inprogress/)" \
	is_eq "$(field '.snapshots[1].unique_bytes')" "$unique2"
assert "$S3 alone holds its directories and e, counted once for its two names" \
	is_eq "$(field '.snapshots[2].unique_bytes')" "$unique3"
assert "f, linked from outside the root, is nobody's to free" \
	is_eq "$(field '.total.outside_bytes')" "$outside"
assert "a, small, sparse and c, in several snapshots, are shared" \
	is_eq "$(field '.total.shared_bytes')" \
	"$(sum "$R/$S1/d/a" "$R/$S1/d/small" "$R/$S1/sparse" "$R/$S3/c" \
		$([ "$(stat -c %h "$R/$S1/out")" -gt 1 ] && echo "$R/$S1/out"))"
assert "everything else (root, inprogress/, .hindsight/, current) is 'other'" \
	is_eq "$(field '.other.unique_bytes')" \
	"$(sum "$R" "$R/current" "$R/inprogress" "$R/inprogress/g" "$R/.hindsight" \
		"$R/.hindsight/snapshots" "$R/.hindsight/snapshots/"*)"
for i in 0 1 2; do
	s=$(field ".snapshots[$i].name")
	assert "$s's allocated size is du -sB1 of it alone" \
		is_eq "$(field ".snapshots[$i].allocated_bytes")" "$(du -sB1 "$R/$s" | cut -f1)"
	assert "$s's apparent size is du --apparent-size -sB1 of it alone" \
		is_eq "$(field ".snapshots[$i].apparent_bytes")" \
		"$(du --apparent-size -sB1 "$R/$s" | cut -f1)"
	assert "$s's inode count is its distinct inodes" \
		is_eq "$(field ".snapshots[$i].inodes")" "$(find "$R/$s" -printf '%i\n' | sort -u | wc -l)"
done
assert "the total allocated size is du -sB1 of the whole root" \
	is_eq "$(field '.total.allocated_bytes')" "$(du -sB1 "$R" | cut -f1)"
assert "... the total apparent size du --apparent-size -sB1 of it" \
	is_eq "$(field '.total.apparent_bytes')" "$(du --apparent-size -sB1 "$R" | cut -f1)"
parts='([.snapshots[].unique_bytes] | add) + .other.unique_bytes + .total.shared_bytes
       + .total.outside_bytes'
assert "... and it is the sum of every snapshot's unique, other, shared and outside" \
	is_eq "$(field "$parts")" "$(field '.total.allocated_bytes')"
assert "the total unique size is the snapshots' sum" \
	is_eq "$(field '.total.unique_bytes')" "$((unique1 + unique2 + unique3))"
assert "the sparse file counts 1 MiB apparent and no blocks" \
	is_eq "$(field '.snapshots[0].apparent_bytes - .snapshots[0].allocated_bytes > 1000000')" true

if [ -x "${HS_TEST_BIN:-}/hindsight-server" ]; then
	assert "stat()ing every name instead of trusting d_ino gives the same answer" \
		succeeds env HS_TEST_DU_STAT_ALL=1 "$HS_TEST_BIN/hindsight-server" du --root "$R" --json
	assert "... byte for byte" is_eq "$(cat "$LAST_OUT")" "$(cat "$SCRATCH/du.json")"
fi

assert "the table without --json has a header, one row per snapshot, other and total" \
	succeeds "$HS_SERVER" du --root "$R"
assert "... in that order" \
	is_eq "$(awk '{ print $1 }' "$LAST_OUT" | head -6 | tr '\n' ' ')" "SNAPSHOT $S1 $S2 $S3 other total "
assert "... and the shared and outside totals" last_out_has '^shared by snapshots: .*; linked from outside the root: '

before=$(du -sB1 "$R" | cut -f1)
rm -rf "${R:?}/$S1"
assert "deleting $S1 frees exactly its unique size" \
	is_eq "$((before - $(du -sB1 "$R" | cut -f1)))" "$unique1"
rm -rf "${R:?}/$S3" "$R/inprogress"
assert "with $S3 and inprogress/ gone too, du lists one snapshot" succeeds du_json
assert "... which alone holds all it has: unique = allocated = du -sB1" \
	is_eq "$(field '.snapshots[0].unique_bytes') $(field '.snapshots[0].allocated_bytes')" \
	"$(du -sB1 "$R/$S2" | cut -f1) $(du -sB1 "$R/$S2" | cut -f1)"

# ---------------------------------------------------------------- refusals

assert "a root that does not exist exits 10" must_fail 10 "$HS_SERVER" du --root "$SCRATCH/nope"
assert "... saying so" last_err_has "no backup root at $SCRATCH/nope"
assert "a relative --root is a usage error (exit 2)" must_fail 2 "$HS_SERVER" du --root root
assert "an unknown option is a usage error (exit 2)" must_fail 2 "$HS_SERVER" du --bytes
mkdir "$SCRATCH/empty"
assert "a root with no snapshots: only 'other'" succeeds "$HS_SERVER" du --root "$SCRATCH/empty" --json
assert "... with the root directory itself" \
	is_eq "$(field '.snapshots | length') $(field '.other.inodes')" "0 1"

done_testing
