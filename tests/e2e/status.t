#!/bin/bash
# hindsight-server status over real accounts pushing over a real sshd:
# ok, stale when the clock passes the account's max_age (and the exit code
# follows), failing after a push that did not complete, never, in progress
# (also when serve was killed and its rsync still holds the lock), and a
# Prometheus textfile that passes a strict parse (promparse.py), written
# atomically, with odd account names escaped.
. "$(dirname "$0")/lib.sh"

PROMPARSE="$HS_SRCDIR/tests/e2e/promparse.py"
BASE="$SCRATCH/home"
CONF="$SCRATCH/server.conf"
SRC="$SCRATCH/src"
PROM_DIR="$SCRATCH/textfile"
PROM="$PROM_DIR/hindsight.prom"
mkdir -p "$SRC/docs" "$PROM_DIR"
for i in 1 2 3; do random_file "$SRC/docs/f$i" 16; done

new_account a; A=$ACCOUNT
new_account b; B=$ACCOUNT
new_account c; C=$ACCOUNT
new_account d; D=$ACCOUNT
new_account e; E=$ACCOUNT
write_conf() {   # write_conf [QUOTA_FOR_C]
	{
		printf '[server]\nbase = %s\n' "$BASE"
		printf '[account %s]\nmax_age = 1h\n' "$B"
		[ -n "${1:-}" ] && printf '[account %s]\nquota = %s\n' "$C" "$1"
	} >"$CONF"
	chmod 644 "$CONF"
}
write_conf
HS_SERVE_ARGS="--config $CONF"
start_sshd forcecommand "$A" "$B" "$C" "$D" "$E"
push() { "$HS_CLIENT" backup --repo server: --ssh "ssh -F $(ssh_conf "$1")" "$SRC"; }
status() { "$HS_SERVER" status --config "$CONF" "$@"; }
# field ACCOUNT JQ-EXPR: from the last --json answer
field() { jq -r --arg a "$1" ".accounts[] | select(.account == \$a) | $2" "$LAST_OUT"; }
state_is() { is_eq "$(field "$1" .state)" "$2"; }
# metric NAME ACCOUNT: the value promparse.py read for that series
metric() {
	jq -r --arg n "$1" --arg a "$2" \
		'.[$n].samples[] | select(.labels.account == $a) | .value' "$SCRATCH/prom.json"
}
metric_is() { is_eq "$(metric "$1" "$2")" "$3"; }
prom_parses() { python3 "$PROMPARSE" "$PROM" >"$SCRATCH/prom.json"; }
state_metric_is() {   # state_metric_is ACCOUNT STATE: 1 for it, 0 for the five others
	jq -e --arg a "$1" --arg s "$2" '[.hindsight_state.samples[] | select(.labels.account == $a)]
		| length == 6 and ([.[] | select(.value == 1)] | length == 1 and .[0].labels.state == $s)
		and ([.[] | select(.value != 1 and .value != 0)] | length == 0)' "$SCRATCH/prom.json" ||
		jq -c --arg a "$1" '.hindsight_state.samples[] | select(.labels.account == $a)' \
			"$SCRATCH/prom.json"
}
iso_in() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# ------------------------------------------------------------ ok and never

assert "a first push for $A exits 0" succeeds push "$A"
assert "a first push for $B exits 0" succeeds push "$B"
# $D is an account made and never pushed to, as adduser leaves it: a home
# with no .hindsight/ yet; a directory under base that is nobody's home is no root
mkdir "$BASE/junk"

assert "status with every account fresh or new exits 0" succeeds status --json
assert "... $A is ok" state_is "$A" ok
assert "... $B is ok" state_is "$B" ok
assert "... $D, which never pushed, is never (and that is no alarm)" state_is "$D" never
assert "... a directory under base that is no account's home and has no .hindsight/ is not listed" \
	is_eq "$(jq '[.accounts[] | select(.root | endswith("/junk"))] | length' "$LAST_OUT")" 0
assert "... $A has one snapshot, named as on disk" \
	is_eq "$(field "$A" '"\(.snapshots) \(.newest)"')" "1 $(snapshots "$BASE/$A")"
assert "... its last push is recorded as complete, exit 0, naming the snapshot" \
	is_eq "$(field "$A" '"\(.last_push.result) \(.last_push.exit) \(.last_push.snapshot)"')" \
	"complete 0 $(snapshots "$BASE/$A")"
assert "... the serve of that push wrote last_push.json owned by the account" \
	is_eq "$(stat -c %U "$BASE/$A/.hindsight/last_push.json")" "$A"
assert "... $B's max_age comes from its [account] section, $A's from the default" \
	is_eq "$(field "$B" .max_age) $(field "$A" .max_age)" "3600 93600"
used=$(( $(du -s -B1 "$BASE/$A" | cut -f1) - $(stat -c '%b * %B' "$BASE/$A") ))
assert "... bytes used is du's figure below the root (each inode once)" \
	is_eq "$(field "$A" .bytes)" "$used"
assert "the table names every account with its state" succeeds status
assert "... $A ok" last_out_has "^$A +ok +[0-9_]{19} "
assert "... $D never" last_out_has "^$D +never +- "

# ------------------------------------------------------------ stale by the clock

T2=$(iso_in '+2 hours')
assert "two hours on, status exits 1: $B's max_age is 1h" must_fail 1 status --json --now "$T2"
assert "... $B is stale" state_is "$B" stale
assert "... its age is counted from the injected clock" \
	bash -c "[ $(field "$B" .age_seconds) -ge 7200 ] && [ $(field "$B" .age_seconds) -lt 7300 ]"
assert "... $A (26h) is still ok" state_is "$A" ok
assert "the table says why $B wants attention" must_fail 1 status --now "$T2"
assert "... stale, older than max_age 1h" last_out_has "^$B: stale: the newest snapshot is older than max_age 1h$"
T27=$(iso_in '+27 hours')
assert "27 hours on, $A is stale too" must_fail 1 status --json --now "$T27"
assert "... $A stale" state_is "$A" stale
assert "back at the real clock, status exits 0 again" succeeds status --json
assert "--now takes the time grammar: 3d means three days ago, before any snapshot" \
	succeeds status --json --now 3d
assert "a bad --now is a usage error (exit 2)" must_fail 2 status --now "next tuesday"

# ------------------------------------------------------------ failing

write_conf 1K
assert "a push for $C over its 1K quota is refused (exit 14)" must_fail 14 push "$C"
assert "status now exits 1" must_fail 1 status --json
assert "... $C is failing" state_is "$C" failing
assert "... its last push: failed, exit 14, rsync never ran, no snapshot" \
	is_eq "$(field "$C" '"\(.last_push.result) \(.last_push.exit) \(.last_push.rsync_exit) \(.last_push.snapshot)"')" \
	"failed 14 null null"
assert "... with the message the client got" \
	bash -c "jq -r '.accounts[] | select(.account == \"$C\") | .last_push.message' '$LAST_OUT' | grep -q quota"
assert "the table says what failed" must_fail 1 status
assert "... naming the exit and the reason" last_out_has "^$C: failing: the push at .* ended with exit 14: .*quota"
write_conf
assert "with the quota lifted, $C's next push exits 0" succeeds push "$C"
assert "... and $C is ok: the failure is history" succeeds status --json
assert "... ok" state_is "$C" ok

# ------------------------------------------------------------ prometheus

assert "status --prometheus writes the file (exit 1: $B is stale by then)" \
	must_fail 1 status --now "$T2" --prometheus "$PROM"
assert "the file passes a strict parse" prom_parses
assert "... hindsight_stale is 1 for $B" metric_is hindsight_stale "$B" 1
assert "... and 0 for $A" metric_is hindsight_stale "$A" 0
assert "... hindsight_state has $B at stale alone" state_metric_is "$B" stale
assert "... and $D at never" state_metric_is "$D" never
assert "... hindsight_snapshots counts $A's snapshots" metric_is hindsight_snapshots "$A" 1
assert "... hindsight_last_success_timestamp_seconds is the end of $A's push" \
	metric_is hindsight_last_success_timestamp_seconds "$A" \
	"$(jq '.end_epoch' "$BASE/$A/.hindsight/snapshots/$(snapshots "$BASE/$A").json")"
assert "... an account that never pushed has no last-success series" \
	is_eq "$(metric hindsight_last_success_timestamp_seconds "$D")" ""
assert "... hindsight_bytes is du's figure too" is_eq "$(metric hindsight_bytes "$A")" "$used"
assert "... the file is 0644, for a collector running as another user" \
	is_eq "$(stat -c %a "$PROM")" 644
assert "... and no temporary file is left beside it" is_eq "$(ls -A "$PROM_DIR")" hindsight.prom
ino=$(stat -c %i "$PROM")
assert "a second run replaces it by rename (a new inode, never rewritten in place)" \
	must_fail 1 status --now "$T2" --prometheus "$PROM"
assert "... new inode" bash -c "[ $(stat -c %i "$PROM") != $ino ]"
assert "--no-usage leaves out the bytes (no walk)" succeeds status --no-usage --prometheus "$PROM" --json
assert "... null in JSON" is_eq "$(field "$A" .bytes)" null
assert "... and no hindsight_bytes family" bash -c "prom_parses() { :; }; ! grep -q '^hindsight_bytes' '$PROM'"
assert "a file in a directory that does not exist is an error (exit 1)" \
	must_fail 1 status --prometheus "$SCRATCH/nope/x.prom"

# odd names: a root owned by root is named after its directory
ODD="$SCRATCH/odd"
mkdir -p "$ODD/we\"ird\\na me/.hindsight" "$ODD/$(printf 'bad\377')/.hindsight"
assert "roots named with a quote, a backslash, a space and a bad byte are reported" \
	succeeds status --root "$ODD/we\"ird\\na me" --root "$ODD/$(printf 'bad\377')" --prometheus "$PROM"
assert "... and the file still passes the strict parse" prom_parses
assert "... the first name comes back exactly from its escaped label" \
	is_eq "$(metric hindsight_snapshots 'we"ird\na me')" 0
assert "... the bad byte is \\xff in the label (labels are UTF-8)" \
	is_eq "$(metric hindsight_snapshots 'bad\xff')" 0

# the strict parser refuses what it must (so passing it means something)
bad_prom() { printf '%s' "$1" >"$SCRATCH/bad.prom"; python3 "$PROMPARSE" "$SCRATCH/bad.prom"; }
assert "promparse refuses a sample without HELP and TYPE" must_fail 1 bad_prom $'x 1\n'
assert "promparse refuses an unknown escape in a label" \
	must_fail 1 bad_prom $'# HELP x h\n# TYPE x gauge\nx{a="\\q"} 1\n'
assert "promparse refuses a series given twice" \
	must_fail 1 bad_prom $'# HELP x h\n# TYPE x gauge\nx{a="b"} 1\nx{a="b"} 2\n'
assert "promparse refuses a family split in two groups" \
	must_fail 1 bad_prom $'# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\nx 2\n'
assert "promparse refuses a missing final newline" \
	must_fail 1 bad_prom $'# HELP x h\n# TYPE x gauge\nx 1'

# ------------------------------------------------------------ in progress

# slow_push N: 4 MiB of new files in slowN, sent at 800 KiB/s, in the background
slow_push() {
	for i in $(seq -w 1 40); do random_file "$SRC/slow$1/g$i" 100; done
	bg "$SCRATCH/slow.log" rsync -a --bwlimit=800 --rsh="ssh -F $(ssh_conf "$E")" "$SRC" server:
	wait_until 60 bash -c "[ -n \"\$(find '$BASE/$E/inprogress/src/slow$1' -type f 2>/dev/null)\" ]" ||
		fatal "slow push $1 never started receiving" "$(cat "$SCRATCH/slow.log")"
}
serve_of() { pgrep -u "$1" -x hindsight-serve; }
slow_push 1
assert "while $E's first push runs, status exits 0" succeeds status --json
assert "... $E is in progress" state_is "$E" "in progress"
assert "... with the pid of its serve" \
	is_eq "$(field "$E" .in_progress.pid)" "$(serve_of "$E")"
wait "$BG_PID"
assert "when it is done, $E is ok" succeeds status --json
assert "... ok" state_is "$E" ok

slow_push 2
kill "$BG_PID"
wait "$BG_PID" 2>/dev/null
wait_until 20 lock_is_free "$BASE/$E" || fatal "the cut-off push still holds the lock"
assert "a push cut off by the client makes $E failing (exit 1)" must_fail 1 status --json
assert "... failing" state_is "$E" failing
assert "... its record says failed, not completed" \
	is_eq "$(field "$E" .last_push.result)" failed

slow_push 3
kill -9 "$(serve_of "$E")"
assert "with serve killed outright but its rsync still receiving, $E is in progress" \
	succeeds status --json
assert "... in progress (the lock is still held: /proc/locks)" state_is "$E" "in progress"
wait "$BG_PID"
wait_until 20 lock_is_free "$BASE/$E" || fatal "rsync never let go of the lock"
assert "once that rsync is done, the tree nobody published makes $E failing" \
	must_fail 1 status --json
assert "... failing, with the interrupted tree reported" \
	is_eq "$(field "$E" '"\(.state) \(.interrupted_tree)"')" "failing true"
assert "the next push resumes and $E is ok again" succeeds push "$E"
assert "... ok" bash -c "'$HS_SERVER' status --config '$CONF' --json | jq -e '.accounts[] | select(.account == \"$E\") | .state == \"ok\"'"

# ------------------------------------------------------------ roots

assert "a --root that does not exist exits 10" must_fail 10 status --root "$SCRATCH/nope"
assert "... and is listed as an error" last_out_has "nope +error "
assert "a relative --root is a usage error" must_fail 2 status --root relative
printf '[server]\nbase = %s/none\n' "$SCRATCH" >"$SCRATCH/nobase.conf"
assert "a base that does not exist, and no --root, exits 10" \
	must_fail 10 "$HS_SERVER" status --config "$SCRATCH/nobase.conf"
assert "a root given twice (by base and --root) is reported once" \
	succeeds status --json --root "$BASE/$A/"
assert "... once" is_eq "$(jq "[.accounts[] | select(.account == \"$A\")] | length" "$LAST_OUT")" 1

done_testing
