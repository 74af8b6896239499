#!/bin/bash
# One syslog line per invocation of the forced command: account, role,
# verdict, exit code, duration, and the client's command hex-escaped and
# bounded. The test listens on /dev/log itself, so it skips where a
# syslog daemon already owns that socket.
. "$(dirname "$0")/lib.sh"

[ -e /dev/log ] && skip_all "/dev/log belongs to a syslog daemon here"

logfile="$SCRATCH/syslog"
python3 - "$logfile" <<'PY' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        f.write(data.replace(b"\n", b"\\n") + b"\n")
PY
listener=$!
at_cleanup "kill $listener 2>/dev/null; rm -f /dev/log"
wait_until 5 test -S /dev/log || fatal "no listener on /dev/log"

repo="$SCRATCH/repo"
mkdir -p "$SCRATCH/src/d"
echo hello >"$SCRATCH/src/d/f"

serve() { env SSH_ORIGINAL_COMMAND="$1" "$HS_SERVER" serve --root "$repo"; }
lines() { local n; n=$(grep -c 'hindsight-server' "$logfile" 2>/dev/null); echo "${n:-0}"; }
last() { grep 'hindsight-server' "$logfile" | tail -1; }
# has REGEX TEXT / has_text STRING TEXT: TEXT matches (assert gives no stdin)
has() { grep -qE -- "$1" <<<"$2" || { echo "no /$1/ in: $2"; return 1; }; }
has_text() { grep -qF -- "$1" <<<"$2" || { echo "no '$1' in: $2"; return 1; }; }

n0=$(lines)
run serve "$(printf 'rsync --server --rsh=x\001\033[2J . x')"
sleep 0.3
assert "a refused command logs exactly one line" is_eq "$(( $(lines) - n0 ))" 1
line=$(last)
assert "... naming the account, the refusal and exit 12" \
	has 'user=root .*verdict=refuse .*exit=12 duration_ms=[0-9]+ cmd="' "$line"
assert "... with the control bytes hex-escaped, never raw" \
	has_text 'x\x01\x1b[2J' "$line"
assert "... and no raw control character anywhere in the line" \
	is_eq "$(printf '%s' "$line" | LC_ALL=C tr -d '[:print:]' | wc -c)" 0

n0=$(lines)
run serve "rsync --server $(head -c 3000 /dev/zero | tr '\0' 'a')"
sleep 0.3
assert "an overlong command is logged in one bounded line" \
	is_eq "$(( $(lines) - n0 ))" 1
assert "... cut short with '...'" has_text 'aaa..."' "$(last)"
assert "... and at most 2 KiB long" is_eq "$([ "$(last | wc -c)" -le 2100 ] && echo short)" short

n0=$(lines)
assert "a backup through the local transport succeeds" \
	succeeds "$HS_CLIENT" backup --repo "$repo" "$SCRATCH/src"
sleep 0.3
assert "... and logs exactly one line for the push" is_eq "$(( $(lines) - n0 ))" 1
assert "... with role, result, rsync's exit code and the duration" \
	has 'verdict=allow role=push .*result=published name=[0-9_]{19} rsync_exit=0 exit=0 duration_ms=[0-9]+' "$(last)"

assert "... naming the snapshot it published" \
	has "result=published name=$(snapshots "$repo" | tail -n 1) " "$(last)"

# The lines of pushes to this test's root: another test run on the same
# machine may log too.
ours() { grep -c "hindsight-server.* root=$repo " "$logfile"; }
our_last() { grep "hindsight-server.* root=$repo " "$logfile" | tail -1; }
# settle N0: wait (up to 5 s) for a line past N0 to arrive, then a moment for any more
settle() {
	for _ in $(seq 50); do [ "$(ours)" -gt "$1" ] && break; sleep 0.1; done
	sleep 0.3
}

n0=$(ours)
run serve 'rsync --server -logDtpre.iLsfxCIvu . .'
settle "$n0"
assert "a push whose rsync fails (the client went away) logs one line" is_eq "$(( $(ours) - n0 ))" 1
assert "... with result=incomplete, rsync's exit code and serve's" \
	has 'role=push .*result=incomplete rsync_exit=[1-9][0-9]* exit=1 ' "$(our_last)"

# -w: rsync's own child, which inherits the lock, may outlive serve by a moment
bash -c "exec 9>>'$repo/.hindsight/lock' && flock -w 5 9 && exec sleep 10" &
holder=$!
wait_until 5 bash -c "! flock -n '$repo/.hindsight/lock' true" || fatal "could not hold the lock"
n0=$(ours)
run serve 'rsync --server -logDtpre.iLsfxCIvu . .'
settle "$n0"
kill "$holder"
wait "$holder" 2>/dev/null
assert "a push that finds the lock taken logs one line" is_eq "$(( $(ours) - n0 ))" 1
assert "... naming role and root, result=locked and exit 11" \
	has 'user=root verdict=allow role=push root=.* result=locked exit=11 ' "$(our_last)"

printf '[server]\nquota = 1K\n' >"$SCRATCH/tiny.conf"
n0=$(ours)
run env HINDSIGHT_SERVER_CONF="$SCRATCH/tiny.conf" "$HS_CLIENT" backup --repo "$repo" "$SCRATCH/src"
settle "$n0"
assert "a push refused for space logs one line" is_eq "$(( $(ours) - n0 ))" 1
assert "... naming role and root, result=no_space and exit 14" \
	has 'verdict=allow role=push root=.* result=no_space .*exit=14 ' "$(our_last)"

n0=$(lines)
assert "a list query succeeds" succeeds "$HS_CLIENT" list --repo "$repo"
sleep 0.3
assert "... and logs exactly one line naming the verb" is_eq "$(( $(lines) - n0 ))" 1
assert "... with verdict allow and role query" has 'verdict=allow role=query verb=list .*exit=0' "$(last)"

done_testing
