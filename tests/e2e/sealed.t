#!/bin/bash
# Sealed mode, the happy path: adduser --sealed makes the layout, pushes
# over a real sshd are sealed by the sealer (every inode the vault's,
# modes and owners recorded), unchanged files keep one inode across
# sealed snapshots, interrupted pushes resume, a full restore is exact,
# and retention runs as root after each seal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sealed.sh"

sealed_setup
start_sealer
sealed_account a
acct=$ACCOUNT
start_sshd forcecommand "$acct"

# ---------------------------------------------------------------- layout

assert "adduser --sealed makes the root root's, with the account's group, 0750" \
	is_eq "$(stat -c '%U:%G %a' "$ROOT")" "root:$acct 750"
assert "... .hindsight root's too; work/ and inprogress/ the account's" \
	is_eq "$(stat -c '%U:%G %a' "$ROOT/.hindsight" "$ROOT/.hindsight/work" "$ROOT/inprogress" | tr '\n' ' ')" \
	"root:$acct 750 $acct:$acct 700 $acct:$acct 700 "
assert "... the lock readable by the account, trash and seal/ root's alone" \
	is_eq "$(stat -c '%U:%G %a' "$ROOT/.hindsight/lock" "$ROOT/.hindsight/trash" "$ROOT/.hindsight/seal" | tr '\n' ' ')" \
	"root:$acct 640 root:root 700 root:root 700 "
assert "... and made the vault owner" getent passwd "$VAULT"
assert "rerunning adduser changes nothing" \
	succeeds "$HS_SERVER" adduser "$acct" --key "$SCRATCH/client/$acct.key.pub" --base "$SEAL_BASE"
assert "... and says so" last_out_has "^$acct is set up already: nothing changed$"
assert "adduser --simple on the sealed root is refused (exit 12)" \
	must_fail 12 "$HS_SERVER" adduser "$acct" --key "$SCRATCH/client/$acct.key.pub" --base "$SEAL_BASE" --simple
assert "... a sealed root is never made simple" last_err_has "is a sealed root: it cannot be made simple"
assert "adduser --sealed under another base than the sealer's is refused (exit 12)" \
	must_fail 12 "$HS_SERVER" adduser "hsx$$" --key "$SCRATCH/client/$acct.key.pub" --base "$SCRATCH/elsewhere" --sealed
assert "... naming the base the sealer reads" last_err_has "the sealer finds backup roots under $SEAL_BASE"

# ---------------------------------------------------------------- data

src="$SCRATCH/src"
mkdir -p "$src/docs" "$src/bin" "$src/empty"
echo "report" >"$src/docs/report.txt"
random_file "$src/docs/photo.jpg" 64
printf '#!/bin/sh\n' >"$src/bin/tool"
chmod 4755 "$src/bin/tool"
chmod 600 "$src/docs/report.txt"
chmod 0 "$src/empty"
ln "$src/docs/photo.jpg" "$src/docs/photo-link.jpg"
ln -s ../docs/report.txt "$src/bin/report"
setfattr -n user.note -v "kept" "$src/docs/report.txt"
mkfifo "$src/fifo"
chown -R 4321:4321 "$src/docs"
chown -h 0:0 "$src/bin/report"

assert "a first push to the sealed root succeeds" succeeds push_as "$acct" "$src"
first=$(snapshots "$ROOT" | tail -1)
snap="$ROOT/$first$src"
assert "... and publishes one snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" 1
assert "... current names it" is_eq "$(readlink "$ROOT/current")" "$first"
assert "... fully sealed: every inode the vault's, no write bit but its own, owner and mode recorded" \
	fully_sealed "$ROOT/$first"
assert "... the recorded owners and modes are the client's" \
	is_eq "$(stored_owner "$snap/docs/report.txt") $(stored_mode "$snap/docs/report.txt") $(stored_mode "$snap/bin/tool") $(stored_mode "$snap/empty")" \
	"4321:4321 600 4755 0"
assert "... its metadata was written" test -s "$ROOT/.hindsight/snapshots/$first.json"
wait_until 10 lock_is_free "$ROOT"
assert "... a fresh inprogress/ is the account's, holding only the next push's clone, made ahead" \
	is_eq "$(stat -c '%U' "$ROOT/inprogress"; ls "$ROOT/.hindsight/work/ahead"; head -1 "$ROOT/.hindsight/work/clone")" \
	"$(printf '%s\n%s\n%s' "$acct" "$ROOT/.hindsight/work/ahead" "$first")"
assert "... and the sealer logged the seal" grep -q "account=$acct .*published $first" "$SCRATCH/sealer.log"

conf=$(ssh_conf "$acct")
assert "hindsight list over ssh shows it" \
	succeeds "$HS_CLIENT" list --repo server: --ssh "ssh -F $conf"
assert "... as complete and current" last_out_has "^$first .*complete.*\(current\)"

# ---------------------------------------------------------------- dedup

echo "changed" >"$src/bin/new-file"
sleep 1
assert "a second push succeeds" succeeds push_as "$acct" "$src"
second=$(snapshots "$ROOT" | tail -1)
assert "... fully sealed" fully_sealed "$ROOT/$second"
assert "unchanged files keep one inode across sealed snapshots (dedup survives sealing)" \
	same_inode "$ROOT/$first$src/docs/photo.jpg" "$ROOT/$second$src/docs/photo.jpg"
assert "... files with client owners and special modes too" \
	same_inode "$ROOT/$first$src/bin/tool" "$ROOT/$second$src/bin/tool"
assert "... and files with xattrs" \
	same_inode "$ROOT/$first$src/docs/report.txt" "$ROOT/$second$src/docs/report.txt"
assert "... hard links within a snapshot stay one inode" \
	same_inode "$ROOT/$second$src/docs/photo.jpg" "$ROOT/$second$src/docs/photo-link.jpg"

# ---------------------------------------------------------------- restore

dest="$SCRATCH/restored"
mkdir -p "$dest"
assert "a full restore of the sealed snapshot over ssh succeeds" \
	succeeds rsync -aHAX --numeric-ids -e "ssh -F $conf" "server:$second$src/" "$dest/"
restore_diff() { local out; out=$(rsync -naHAXc --numeric-ids -i "$src/" "$dest/" 2>&1); [ -z "$out" ] || { echo "$out"; return 1; }; }
assert "... is exact: rsync -naHAXc --numeric-ids -i shows nothing" restore_diff

# ---------------------------------------------------------------- resume

mkdir -p "$src/many"
for i in $(seq 10 69); do random_file "$src/many/f$i" 100; done
bg "$SCRATCH/slow.log" rsync -aAXH --numeric-ids --relative --bwlimit=500 -e "ssh -F $conf" "$src" server:
pid=$BG_PID
if ! wait_until 60 bash -c "[ \$(find '$ROOT/inprogress' -path '*/many/*' -type f ! -name '.*' | wc -l) -ge 5 ]"; then
	kill -9 "$pid"
	fatal "the slow push never got going" "$(cat "$SCRATCH/slow.log")"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
wait_until 60 lock_is_free "$ROOT"
assert "an interrupted push publishes nothing" is_eq "$(snapshots "$ROOT" | wc -l)" 2
assert "... and what arrived waits in inprogress/ (the account's)" \
	test "$(find "$ROOT/inprogress" -mindepth 1 | wc -l)" -gt 0
assert "the next push resumes and publishes" succeeds push_as "$acct" "$src"
third=$(snapshots "$ROOT" | tail -1)
assert "... fully sealed" fully_sealed "$ROOT/$third"
assert "... the resume trees are gone" is_eq "$(ls -A "$ROOT/.hindsight/work/resume" | wc -l)" 0

# ---------------------------------------------------------------- status, prune, deluser

assert "hindsight status over ssh answers for a sealed root" \
	succeeds "$HS_CLIENT" status --repo server: --ssh "ssh -F $conf"
assert "root's prune works on a sealed root (nothing to thin yet)" \
	succeeds "$HS_SERVER" prune --root "$ROOT" --config "$SEAL_CONF"
stop_sshd
assert "deluser --purge takes the account and its sealed root away" succeeds "$HS_SERVER" deluser "$acct" --purge
assert "... the root is gone" absent "$ROOT"

done_testing
