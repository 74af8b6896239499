#!/bin/bash
# When a backup fails, hindsight says why in exactly one line on stderr,
# with the exit code PRODUCT.md gives it, and nothing changes on the
# server: refused (12, the server's reason), locked (11, retry later),
# unreachable (13), out of space (14). Each is recorded for status.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"

hs() { "$HS_CLIENT" "$@"; }

# one_line REGEX: the last command wrote exactly one line on stderr, matching REGEX
one_line() {
	local n
	n=$(wc -l <"$LAST_ERR")
	if [ "$n" -ne 1 ] || ! grep -Eq -- "$1" "$LAST_ERR"; then
		echo "wanted one line matching /$1/, got $n:"
		cat "$LAST_ERR"
		return 1
	fi
}

new_account a; A=$ACCOUNT
new_account r; RO=$ACCOUNT
start_sshd authorized_keys "$A" "$RO"
authorize "$RO" "restrict,command=\"$HS_SERVER serve --restore-only\""
CA=$(ssh_conf "$A")
ROOT_A=$(home_of "$A")

SRC="$SCRATCH/data/src"
mkdir -p "$SRC"
for i in 1 2 3; do random_file "$SRC/f$i" 64; done
assert "a first backup over ssh exits 0" succeeds hs backup --repo server: --ssh "ssh -F $CA" "$SRC"

# ------------------------------------------------------------ refused

tree_state "$(home_of "$RO")" >"$SCRATCH/ro.state"
assert "backup with a restore-only key exits 12" \
	must_fail 12 hs backup --repo server: --ssh "ssh -F $(ssh_conf "$RO")" "$SRC"
assert "... in one line on stderr, with the server's reason" \
	one_line '^hindsight: backup refused by the server: .*restore'
assert "... and changed nothing on the server" same_tree_state "$SCRATCH/ro.state" "$(home_of "$RO")"
assert "status shows that error as the last one" \
	succeeds hs status --repo server: --ssh "ssh -F $(ssh_conf "$RO")"
assert "... with its exit code and reason" last_out_has '^last error +[0-9-]+ [0-9:]+, exit 12: backup refused by the server: '

# ------------------------------------------------------------ unreachable

CLOSED=$(free_port)
tree_state "$ROOT_A" >"$SCRATCH/a.state"
assert "backup when ssh cannot connect exits 13" \
	must_fail 13 hs backup --repo server: --ssh "ssh -F $CA -p $CLOSED" "$SRC"
assert "... in one line: cannot reach, ssh's reason, retry later" \
	one_line "^hindsight: cannot reach server: ssh: connect to host 127.0.0.1 port $CLOSED: Connection refused \\(retry later\\)\$"
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/client/stranger" || fatal "ssh-keygen"
write_ssh_conf "$A" "$SCRATCH/client/stranger" "$SCRATCH/client/stranger.ssh_config"
assert "backup with a key the server does not know exits 13" \
	must_fail 13 hs backup --repo server: --ssh "ssh -F $SCRATCH/client/stranger.ssh_config" "$SRC"
assert "... in one line" one_line '^hindsight: cannot reach server: .*Permission denied'
assert "neither changed the server" same_tree_state "$SCRATCH/a.state" "$ROOT_A"

# ------------------------------------------------------------ locked

mkdir -p "$SCRATCH/slow"
for i in $(seq -w 1 30); do random_file "$SCRATCH/slow/big/g$i" 100; done
BEFORE=$(snapshots "$ROOT_A" | wc -l)
bg "$SCRATCH/slow.log" rsync -a --bwlimit=1000 --rsh="ssh -F $CA" "$SCRATCH/slow" server:
SLOW=$BG_PID
wait_until 60 bash -c "[ -n \"\$(find '$ROOT_A/inprogress/slow/big' -type f 2>/dev/null)\" ]" ||
	fatal "the slow push never started" "$(cat "$SCRATCH/slow.log")"
assert "backup while another push holds the lock exits 11" \
	must_fail 11 hs backup --repo server: --ssh "ssh -F $CA" "$SRC"
assert "... in one line: in progress since when, retry later" \
	one_line '^hindsight: backup not started: a backup to server: is already in progress since [0-9T:Z-]+; retry later$'
kill "$SLOW" 2>/dev/null
wait "$SLOW" 2>/dev/null
wait_until 20 lock_is_free "$ROOT_A" || fatal "the lock was never released"
assert "no snapshot was added by the refused backup" is_eq "$(snapshots "$ROOT_A" | wc -l)" "$BEFORE"

# ------------------------------------------------------------ out of space

FULL="$SCRATCH/full"
mkdir -p "$FULL"
mount -t tmpfs -o size=2m tmpfs "$FULL" || fatal "mount a 2 MiB tmpfs"
at_cleanup "umount '$FULL'"
mkdir -p "$SCRATCH/big"
random_file "$SCRATCH/big/blob" 4096
assert "backup of 4 MiB to a 2 MiB local repository exits 14" \
	must_fail 14 hs backup --repo "$FULL/repo" "$SCRATCH/big"
assert "... in one line: out of space, and the next backup resumes" \
	one_line '^hindsight: backup failed: out of space on .*; what arrived is kept and the next backup resumes from it$'
assert "... and published no snapshot" is_eq "$(snapshots "$FULL/repo" | wc -l)" 0

# ------------------------------------------------------------ -v shows everything

assert "with -v a refused backup still exits 12" \
	must_fail 12 hs backup -v --repo server: --ssh "ssh -F $(ssh_conf "$RO")" "$SRC"
assert "... and shows the server's own line too" last_err_has '^hindsight-server: refused: '
assert "... ending with the one line" \
	bash -c "tail -n 1 '$LAST_ERR' | grep -q '^hindsight: backup refused by the server: '"

done_testing
