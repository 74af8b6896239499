#!/bin/bash
# The sealer itself: it refuses strangers and misconfigured roots, and
# logs each refusal; it survives kill -9 at every step of a seal (the test
# build's HS_TEST_SEAL_PAUSE stops it there): the next push or
# `check --repair` ends with the snapshot fully sealed or not published,
# never half; and `check` reports what sealed mode needs.
HS_BIN=${HS_TEST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build-test}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sealed.sh"

[ -x /usr/bin/python3 ] || fatal "/usr/bin/python3 is installed (make deps)"
sealed_setup
start_sealer
sealed_account a
acct=$ACCOUNT
start_sshd forcecommand "$acct"
conf=$(ssh_conf "$acct")

src="$SCRATCH/src"
mkdir -p "$src/d"
for i in 1 2 3 4 5 6 7 8; do echo "file $i" >"$src/d/f$i"; done
assert "a first push seals a snapshot" succeeds push_as "$acct" "$src"

# ---------------------------------------------------------------- strangers

# ask [SETPRIV-ARGS --] LINE [FD-PATH...]: talk to the sealer directly;
# its reply in $LAST_OUT
cat >"$SCRATCH/bin/ask.py" <<'PY'
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
line = sys.argv[2].encode().decode("unicode_escape").encode()
fds = [os.open(p, os.O_RDONLY) for p in sys.argv[3:]]
if fds:
    s.sendmsg([line], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
else:
    s.sendall(line)
print(s.recv(1000).decode(), end="")
PY
chmod 755 "$SCRATCH/bin/ask.py"
ask_as() {   # ask_as UID GID LINE [FD-PATH...]
	local u=$1 g=$2
	shift 2
	setpriv --reuid "$u" --regid "$g" --clear-groups /usr/bin/python3 "$SCRATCH/bin/ask.py" "$SEAL_SOCK" "$@"
}
ask_acct() { as_account "$acct" /usr/bin/python3 "$SCRATCH/bin/ask.py" "$SEAL_SOCK" "$@"; }
logged() { grep -qE -- "$1" "$SCRATCH/sealer.log" || { echo "not logged: $1"; tail -3 "$SCRATCH/sealer.log"; return 1; }; }
uid=$(id -u "$acct")

assert "a uid with no account is refused" succeeds ask_as 54321 54321 'seal\n'
assert "... with one line, exit 12, saying why" last_out_has '^error 12 refused: no account has this uid$'
assert "... and the refusal is logged with the uid" logged "refused uid=54321 .*no account has this uid"
new_account x
assert "an account that is not a backup account is refused" \
	succeeds ask_as "$(id -u "$ACCOUNT")" "$(id -g "$ACCOUNT")" 'seal\n'
assert "... not in group hindsight" last_out_has 'not a backup account \(not in group hindsight\)'
assert "... logged with its name" logged "refused uid=$(id -u "$ACCOUNT") .*account=$ACCOUNT"
assert "root is refused (it repairs with check --repair)" succeeds /usr/bin/python3 "$SCRATCH/bin/ask.py" "$SEAL_SOCK" 'seal\n'
assert "... saying so" last_out_has 'root needs no sealer'
assert "a request that is not one is refused" succeeds ask_acct 'hello\n'
assert "... as unknown" last_out_has 'error 12 refused: unknown request'
assert "figures out of bounds are refused" succeeds ask_acct 'seal 1 2 99 0 0 0\n' "$ROOT/.hindsight/lock"
assert "... naming rsync's exit code" last_out_has "rsync's exit code"
assert "a request without the lock descriptor is refused" succeeds ask_acct 'seal\n'
assert "... saying so" last_out_has 'no lock descriptor was passed'
assert "a descriptor of another file is refused" succeeds ask_acct 'seal\n' /etc/passwd
assert "... as not the root's lock" last_out_has "not this root's lock"
assert "the account with its own lock is served" succeeds ask_acct 'seal\n' "$ROOT/.hindsight/lock"
assert "... ok" last_out_has '^ok$'
exec 9<"$ROOT/.hindsight/lock"
flock -n 9
assert "while somebody else holds the lock, the sealer says retry later (exit 11)" \
	succeeds ask_acct 'seal\n' "$ROOT/.hindsight/lock"
assert "... as locked" last_out_has '^error 11 another push holds the lock'
exec 9<&-

# misconfigured: pushes fail with the reason, the sealer logs it, nothing changes
refused_push() {   # refused_push REGEX
	local n
	n=$(snapshots "$ROOT" | wc -l)
	echo "x$RANDOM" >"$src/d/f1"
	must_fail 12 push_as "$acct" "$src" || return 1
	last_err_has "the sealer refused: refused: .*$1" || return 1
	logged "refused uid=$uid .*account=$acct: .*$1" || return 1
	is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
}
chmod 770 "$ROOT"
assert "a root its group may write: pushes are refused and logged" refused_push "is not a sealed root: owner 0:[0-9]+, mode 770"
chmod 750 "$ROOT"
chmod 666 "$SEAL_CONF"
assert "a server.conf others may write: refused and logged" refused_push "server.conf is writable by group or others"
chmod 644 "$SEAL_CONF"
chmod 777 "$SEAL_BASE"
assert "a base others may write: refused and logged" refused_push "srv is writable by group or others"
chmod 755 "$SEAL_BASE"
chown 1:1 "$SEAL_BASE"
assert "a base root does not own: refused and logged" refused_push "srv is not owned by root"
chown 0:0 "$SEAL_BASE"
sed -i "s/^vault_user = .*/vault_user = nosuchuser$$/" "$SEAL_CONF"
assert "a vault owner that does not exist: refused and logged" refused_push "the vault owner nosuchuser$$ does not exist"
assert "status says the account is failing (exit 1)" \
	must_fail 1 "$HS_SERVER" status --root "$ROOT" --json --no-usage --config "$SEAL_CONF"
assert "... with the sealer's refusal as the last push's message" \
	last_out_has '"message": "the sealer refused: refused: .*the vault owner nosuchuser'
assert "... read from .hindsight/work/last_push.json, which the account wrote" \
	is_eq "$(stat -c %U "$ROOT/.hindsight/work/last_push.json")" "$acct"
sed -i "s/^vault_user = .*/vault_user = $VAULT/" "$SEAL_CONF"
assert "set right again, pushes are sealed again" succeeds push_as "$acct" "$src"
assert "status of the sealed root is ok again (its empty inprogress/ is no failed push)" \
	succeeds "$HS_SERVER" status --root "$ROOT" --json --no-usage --config "$SEAL_CONF"
assert "... the last push complete" last_out_has '"result": "complete"'
assert "check --repair of a healthy sealed root exits 0" \
	succeeds "$HS_SERVER" check --repair --root "$ROOT" --config "$SEAL_CONF"
assert "... repairing nothing" bash -c "! grep -q '^repaired:' '$LAST_OUT'"

# ---------------------------------------------------------------- kill -9

all_sealed() {   # every snapshot fully sealed, current names the newest
	local s
	for s in $(snapshots "$ROOT"); do fully_sealed "$ROOT/$s" || return 1; done
	is_eq "$(readlink "$ROOT/current")" "$(snapshots "$ROOT" | tail -1)"
}
clean_state() {   # nothing half done left
	absent "$ROOT/.hindsight/pending.json" || return 1
	is_eq "$(ls -A "$ROOT/.hindsight/seal" | wc -l)" 0 || return 1
	is_eq "$(stat -c %U "$ROOT/inprogress")" "$acct"
}
i=0
for step in journal staged walk:3 sealed renamed current; do
	i=$((i + 1))
	start_sealer HS_TEST_SEAL_PAUSE="$step"
	n=$(snapshots "$ROOT" | wc -l)
	for f in "$src"/d/f*; do echo "change $i" >>"$f"; done
	run push_as "$acct" "$src" &
	pushpid=$!
	if ! wait_until 30 grep -q "paused at $step" "$SCRATCH/sealer.log"; then
		fatal "the sealer never paused at $step" "$(tail -5 "$SCRATCH/sealer.log")"
	fi
	pid=$(sed -n "s/.*paused at $step, pid \([0-9]*\).*/\1/p" "$SCRATCH/sealer.log" | tail -1)
	kill -9 "$pid"
	wait "$pushpid"
	LAST_RC=$?
	assert "[$step] kill -9 of the sealer there fails the push" is_eq "$LAST_RC" 1
	assert "[$step] ... saying the sealer gave no answer" last_err_has "the sealer gave no answer"
	if [ "$step" = renamed ] || [ "$step" = current ]; then
		assert "[$step] ... the snapshot was published whole: every snapshot is fully sealed" \
			bash -c "$(declare -f fully_sealed); VAULT=$VAULT; for s in \$(ls '$ROOT' | grep '^[0-9]'); do fully_sealed '$ROOT'/\$s || exit 1; done"
	else
		assert "[$step] ... nothing half-sealed was published" is_eq "$(snapshots "$ROOT" | wc -l)" "$n"
		assert "[$step] ... and every snapshot there is fully sealed" all_sealed
	fi
	start_sealer
	if [ $((i % 2)) = 1 ]; then
		assert "[$step] check --repair finishes the seal" \
			succeeds "$HS_SERVER" check --repair --root "$ROOT" --config "$SEAL_CONF"
		assert "[$step] ... one more snapshot, whole" is_eq "$(snapshots "$ROOT" | wc -l)" $((n + 1))
	else
		assert "[$step] the next push finishes the seal, then pushes" succeeds push_as "$acct" "$src"
		assert "[$step] ... two more snapshots, whole" is_eq "$(snapshots "$ROOT" | wc -l)" $((n + 2))
	fi
	assert "[$step] ... every snapshot fully sealed, current the newest" all_sealed
	assert "[$step] ... no journal, nothing in seal/, inprogress/ the account's" clean_state
done
newest=$(snapshots "$ROOT" | tail -1)
assert "the newest snapshot holds the last change" grep -q "change $i" "$ROOT/$newest$src/d/f1"

# ---------------------------------------------------------------- check

assert "check of a sealed root exits 0" succeeds "$HS_SERVER" check --root "$ROOT" --config "$SEAL_CONF"
assert "... saying it is sealed, and its newest snapshot too" \
	last_out_has "^ok: $ROOT: the newest snapshot $newest is sealed$"
assert "... and that fs.protected_hardlinks is 0" last_out_has '^ok: fs.protected_hardlinks=0'
sysctl -qw fs.protected_hardlinks=1
assert "with fs.protected_hardlinks=1, check of a sealed root is an error (exit 1)" \
	must_fail 1 "$HS_SERVER" check --root "$ROOT" --config "$SEAL_CONF"
assert "... saying pushes cannot link" last_out_has '^error: fs.protected_hardlinks=1: pushes to the 1 sealed root'
sysctl -qw fs.protected_hardlinks=0
chmod 640 "$ROOT/$newest$src/d/../d/f1" 2>/dev/null
chown "$acct" "$ROOT/$newest$src/d/f2"
assert "a snapshot file the account owns is an error (exit 1)" \
	must_fail 1 "$HS_SERVER" check --root "$ROOT" --config "$SEAL_CONF"
assert "... naming it" last_out_has "not sealed: .*d/f2: owner $uid"
chown "$VAULT" "$ROOT/$newest$src/d/f2"

done_testing
