#!/bin/bash
# Landlock holds where the allowlist is bypassed. The test build's server
# (TEST_HOOKS=1) puts HS_TEST_EXTRA_ARGS into rsync's argv past the policy;
# everything runs as root, which file permissions do not stop, so whatever
# is refused here is refused by Landlock alone.
HS_BIN=${HS_TEST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build-test}
. "$(dirname "$0")/lib.sh"

python3 - <<'PY' 2>/dev/null || skip_all "this kernel has no Landlock"
import ctypes, sys
r = ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)
sys.exit(0 if r >= 2 else 1)
PY

repo="$SCRATCH/repo"
src="$SCRATCH/src"
other="$SCRATCH/other-account"
out="$SCRATCH/outside"
mkdir -p "$src/d" "$other" "$out"
chmod 777 "$out"
echo "one" >"$src/d/a"
echo "two" >"$src/b"
echo "the other account's secret" >"$other/secret"
cp "$src/b" "$other/b"
touch -r "$src/b" "$other/b"

hs() { "$HS_CLIENT" "$@"; }
# not_leaked TEXT DIR: TEXT is in neither the last command's output nor DIR.
not_leaked() {
	if grep -rqF -- "$1" "$LAST_OUT" "$LAST_ERR" "$2" 2>/dev/null; then
		echo "found '$1'"
		return 1
	fi
}

assert "a first backup through the test build succeeds" \
	succeeds hs backup --repo "$repo" "$src"
first=$(snapshots "$repo" | tail -1)
tree_state "$repo/$first" >"$SCRATCH/first.state"

echo "one, changed" >"$src/d/a"
export HS_TEST_EXTRA_ARGS="--temp-dir=$out"
assert "a push whose rsync is told to write temp files outside the tree fails its files (exit 3)" \
	must_fail 3 hs backup --repo "$repo" "$src"
assert "... and nothing was written outside the tree" \
	is_eq "$(find "$out" -mindepth 1 | wc -l)" 0
assert "... and rsync was stopped by a permission error, as root" \
	last_err_has "Permission denied"

export HS_TEST_EXTRA_ARGS="--temp-dir=$repo/$first$src/d"
assert "a push told to write into an earlier snapshot fails its files (exit 3)" \
	must_fail 3 hs backup --repo "$repo" "$src"
assert "... and the earlier snapshot is unchanged" \
	same_tree_state "$SCRATCH/first.state" "$repo/$first"

export HS_TEST_EXTRA_ARGS="--log-file=$out/log"
run hs backup --repo "$repo" "$src"
assert "a push told to log outside the tree creates no file there" \
	is_eq "$(find "$out" -mindepth 1 | wc -l)" 0

export HS_TEST_EXTRA_ARGS="--link-dest=$other"
assert "a push told to link from another account's root still completes" \
	succeeds hs backup --repo "$repo" "$src"
newest=$(snapshots "$repo" | tail -1)
assert "... but links nothing from it: that root cannot even be read" \
	other_inode "$other/b" "$repo/$newest$src/b"
prev=$(snapshots "$repo" | tail -2 | head -1)
assert "... while unchanged files still share the previous snapshot's inode" \
	same_inode "$repo/$prev$src/b" "$repo/$newest$src/b"

export HS_TEST_EXTRA_ARGS="--exclude-from=$other/secret"
run hs restore --repo "$repo" --to "$SCRATCH/restored" "$src/b"
assert "a restore told to read a file of another account's root fails" \
	is_eq "$([ "$LAST_RC" -ne 0 ] && [ "$LAST_RC" -lt 128 ] && echo failed)" failed
assert "... and its content appears nowhere" \
	not_leaked "the other account's secret" "$SCRATCH/restored"
export HS_TEST_EXTRA_ARGS="--exclude-from=$repo/.hindsight/log"
run hs restore --repo "$repo" --to "$SCRATCH/restored2" "$src/b"
assert "a restore cannot read its own root outside the pinned snapshot either" \
	is_eq "$([ "$LAST_RC" -ne 0 ] && [ "$LAST_RC" -lt 128 ] && echo failed)" failed
unset HS_TEST_EXTRA_ARGS
assert "without extra arguments the same restore works" \
	succeeds hs restore --repo "$repo" --to "$SCRATCH/restored3" "$src/b"

assert "the backup root holds nothing outside its layout" \
	is_eq "$(ls -A "$repo" | grep -vcE '^(20[0-9_]{17}|current|inprogress|\.hindsight)$')" 0

done_testing
