#!/bin/bash
# hindsight-server check: the rsync it would run (refused below 3.4.3,
# warned below 3.5.0), --confine-root, Landlock, and each root's layout.
# Old rsyncs are stood in by scripts through the test build's HS_TEST_RSYNC.
HS_BIN=${HS_TEST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build-test}
. "$(dirname "$0")/lib.sh"

repo="$SCRATCH/repo"
mkdir -p "$SCRATCH/src"
echo data >"$SCRATCH/src/f"
check() { "$HS_SERVER" check "$@"; }
fake_rsync() {   # fake_rsync VERSION [confine]: an rsync that only answers --help
	local f="$SCRATCH/rsync-$1"
	printf '#!/bin/sh\necho "rsync  version %s  protocol version 32"\n%s\n' "$1" \
		"$([ "${2:-}" = confine ] && echo 'echo " --confine-root=DIR  refuse paths"')" >"$f"
	chmod 755 "$f"
	echo "$f"
}

assert "two backups make a healthy root" \
	succeeds sh -c '"$0" backup --repo "$1" "$2" && "$0" backup --repo "$1" "$2"' \
	"$HS_CLIENT" "$repo" "$SCRATCH/src"
assert "check of a healthy root exits 0" succeeds check --root "$repo"
assert "... and names the installed rsync's version" last_out_has '^ok: rsync [0-9]+\.[0-9]+\.[0-9]+ at '
assert "... and says how many snapshots the root has" last_out_has "^ok: $repo: 2 snapshots$"

old=$(fake_rsync 3.2.7)
assert "rsync 3.2.7 is an error (exit 1)" must_fail 1 env HS_TEST_RSYNC="$old" "$HS_SERVER" check
assert "... saying pushes and restores are refused" last_out_has 'older than 3\.4\.3: pushes and restores are refused'
mid=$(fake_rsync 3.4.3 confine)
assert "rsync 3.4.3 is a warning (exit 3)" must_fail 3 env HS_TEST_RSYNC="$mid" "$HS_SERVER" check
assert "... naming 3.5.0 and the CVEs it fixes" last_out_has '3\.5\.0 or newer fixes the 2026'
noconf=$(fake_rsync 3.5.0)
assert "an rsync without --confine-root is a warning (exit 3)" \
	must_fail 3 env HS_TEST_RSYNC="$noconf" "$HS_SERVER" check
assert "... saying so" last_out_has 'has no --confine-root'
assert "serve refuses to push with rsync 3.2.7 (exit 1), naming the version" \
	must_fail 1 env HS_TEST_RSYNC="$old" SSH_ORIGINAL_COMMAND='rsync --server -logDtpre.iLsfxCIvu . .' \
	"$HS_SERVER" serve --root "$repo"
assert "... with a message naming it" last_err_has 'rsync 3\.2\.7 .* is too old: 3\.4\.3 or newer'

ln -sfn 2000_01_01_00_00_00 "$repo/current"
touch "$repo/stray"
assert "a dangling current and a stray file are warnings (exit 3)" must_fail 3 check --root "$repo"
assert "... current named" last_out_has 'current names 2000_01_01_00_00_00, not the newest snapshot'
assert "... the stray file named" last_out_has 'stray is not part of the layout'
assert "the next push repairs current" \
	succeeds "$HS_CLIENT" backup --repo "$repo" "$SCRATCH/src"
rm -f "$repo/stray"
assert "... after which check is clean again" succeeds check --root "$repo"
assert "a root that does not exist exits 10" must_fail 10 check --root "$SCRATCH/nope"
assert "check wrote nothing into the root's layout" \
	is_eq "$(ls -A "$repo" | grep -vcE '^(20[0-9_]{17}|current|\.hindsight)$')" 0

done_testing
