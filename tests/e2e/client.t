#!/bin/bash
# The hindsight client: backup and list, over ssh (sshd with
# restrict,command="..." keys) and to a local directory, and the exit codes
# it documents: 0 ok, 3 warnings, 10 no such root or source, 11 locked,
# 12 refused, 13 ssh failed.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"

json_list_ok() {   # FILE COUNT: protocol-1 list of COUNT complete snapshots, oldest first, current = last
	jq -e --argjson n "$2" '
		.protocol == 1 and .verb == "list" and (.snapshots | length) == $n and
		([.snapshots[].name] == ([.snapshots[].name] | sort)) and
		.current == .snapshots[-1].name and
		all(.snapshots[]; .status == "complete")' "$1" >/dev/null ||
		{ echo "unexpected list:"; cat "$1"; return 1; }
}

json_names_are() {   # FILE NAMES...: the list's names, in order
	local f=$1
	shift
	is_eq "$(jq -r '.snapshots[].name' "$f" | tr '\n' ' ')" "$* "
}

human_rows() {   # FILE: snapshot rows of the table (after its header)
	tail -n +2 "$1" | grep -Ec '^[0-9]{4}(_[0-9]{2}){5} '
}

# same_inode_in ROOT REL SNAP...: REL is one inode in every snapshot given.
same_inode_in() {
	local root=$1 rel=$2 first=$3 s
	shift 3
	for s in "$@"; do
		same_inode "$root/$first$rel" "$root/$s$rel" || return 1
	done
}

# local_list_ok REPO COUNT: `hindsight list --repo REPO --json` shows COUNT
# complete snapshots.
local_list_ok() {
	"$HS_CLIENT" list --repo "$1" --json >"$SCRATCH/l.json" || return 1
	json_list_ok "$SCRATCH/l.json" "$2"
}

# lists_with_errors USER CMD...: run the list command as USER; it shows one
# snapshot, with status "with errors".
lists_with_errors() {
	as_user "$@" >"$SCRATCH/u.json" || return 1
	jq -e '(.snapshots | length) == 1 and .snapshots[0].status == "with errors"' "$SCRATCH/u.json" ||
		{ cat "$SCRATCH/u.json"; return 1; }
}

human_current_is_last() {
	local last
	last=$(grep -E '^[0-9]{4}(_[0-9]{2}){5} ' "$1" | tail -n 1)
	grep -q '(current)' <<<"$last" && [ "$(grep -c '(current)' "$1")" -eq 1 ] && return 0
	echo "the last row is not the only one marked (current):"
	cat "$1"
	return 1
}

no_status_file_left() {
	local f
	f=$(find /tmp -maxdepth 1 -name 'hindsight-status.*' -user "$1" 2>/dev/null)
	[ -z "$f" ] || { echo "left behind: $f"; return 1; }
}

# as_user USER CMD...: run CMD as USER in USER's home, HOME set to it.
as_user() {
	local u=$1 h
	shift
	h=$(home_of "$u")
	runuser -u "$u" -- env -u XDG_CONFIG_HOME -u XDG_STATE_HOME -C "$h" HOME="$h" "$@"
}

hs() { "$HS_CLIENT" "$@"; }

# ------------------------------------------------------------ accounts

new_account a; A=$ACCOUNT          # a normal backup account
new_account r; RO=$ACCOUNT         # its key may only restore
new_account p; PO=$ACCOUNT         # its key may only push
new_account w; W=$ACCOUNT          # receives the non-root client's push
new_account u; U=$ACCOUNT          # a non-root user on the client side
start_sshd authorized_keys "$A" "$RO" "$PO" "$W"
authorize "$RO" "restrict,command=\"$HS_SERVER serve --restore-only\""
authorize "$PO" "restrict,command=\"$HS_SERVER serve --push-only\""
CA=$(ssh_conf "$A")
ROOT_A=$(home_of "$A")

# ------------------------------------------------------------ three backups over ssh

SRC="$SCRATCH/data/etc"
SRC2="$SCRATCH/data/home/me"
mkdir -p "$SRC/conf.d" "$SRC2/docs"
echo "setting=1" >"$SRC/app.conf"
echo "extra=1" >"$SRC/conf.d/extra.conf"
echo "draft" >"$SRC2/docs/letter.txt"
echo "goes away" >"$SRC2/docs/old.txt"
random_file "$SRC2/docs/photo.jpg" 32
setfattr -n user.note -v "keep me" "$SRC2/docs/letter.txt"

assert "backup over ssh of two sources exits 0" \
	succeeds hs backup --repo server: --ssh "ssh -F $CA" "$SRC" "$SRC2"
echo "setting=2, longer" >"$SRC/app.conf"
echo "new" >"$SRC2/docs/new.txt"
assert "a second backup, after modify and add, exits 0" \
	succeeds hs backup --repo server: --ssh "ssh -F $CA" "$SRC" "$SRC2"
rm "$SRC2/docs/old.txt"
chmod 600 "$SRC/conf.d/extra.conf"
assert "a third backup, after delete and chmod, exits 0" \
	succeeds hs backup --repo server: --ssh "ssh -F $CA" "$SRC" "$SRC2"
assert "it left no status file in /tmp" no_status_file_left root

SNAPS=$(snapshots "$ROOT_A")
read -r S1 S2 S3 <<<"$(echo $SNAPS)"
assert "three snapshots were made" is_eq "$(echo "$SNAPS" | grep -c .)" 3
assert "the snapshot mirrors absolute paths (--relative)" \
	exists "$ROOT_A/$S3$SRC/app.conf"
assert "both sources are in the snapshot" exists "$ROOT_A/$S3$SRC2/docs/letter.txt"
for d in "$SRC" "$SRC2"; do
	assert "the newest snapshot equals source $(basename "$d") (rsync -nac -i -AXH reports nothing)" \
		same_as_source "$d" "$ROOT_A/$S3$d" -AXH --numeric-ids -M--fake-super
done
assert "a user xattr arrives in the snapshot (-X)" \
	is_eq "$(getfattr --absolute-names --only-values -n user.note "$ROOT_A/$S3$SRC2/docs/letter.txt")" "keep me"
assert "an unchanged file shares one inode across the three snapshots" \
	same_inode_in "$ROOT_A" "$SRC2/docs/photo.jpg" $SNAPS
assert "a file with an xattr, unchanged, shares its inode too" \
	same_inode "$ROOT_A/$S1$SRC2/docs/letter.txt" "$ROOT_A/$S3$SRC2/docs/letter.txt"
assert "the modified file is a new inode" other_inode "$ROOT_A/$S1$SRC/app.conf" "$ROOT_A/$S2$SRC/app.conf"
assert "the deleted file is gone from the newest snapshot, still in the older ones" \
	is_eq "$([ -e "$ROOT_A/$S2$SRC2/docs/old.txt" ] && echo kept) $([ -e "$ROOT_A/$S3$SRC2/docs/old.txt" ] && echo kept)" "kept "
assert "the chmod'ed file's older copy kept mode 644, the newest has 600" \
	is_eq "$(stored_mode "$ROOT_A/$S2$SRC/conf.d/extra.conf") $(stored_mode "$ROOT_A/$S3$SRC/conf.d/extra.conf")" "644 600"

assert "list --json over ssh exits 0" \
	succeeds hs list --repo server: --ssh "ssh -F $CA" --json
cp "$LAST_OUT" "$SCRATCH/list.json"
assert "list --json: protocol 1, three complete snapshots oldest first, current is the last" \
	json_list_ok "$SCRATCH/list.json" 3
assert "list --json names exactly the snapshots in the backup root" \
	json_names_are "$SCRATCH/list.json" $SNAPS
assert "list (table) over ssh exits 0" succeeds hs list --repo server: --ssh "ssh -F $CA"
cp "$LAST_OUT" "$SCRATCH/list.txt"
assert "the table has a header and three rows" is_eq "$(human_rows "$SCRATCH/list.txt")" 3
assert "the table lists the snapshots oldest first" \
	is_eq "$(grep -E '^[0-9]{4}(_[0-9]{2}){5} ' "$SCRATCH/list.txt" | awk '{ print $1 }' | tr '\n' ' ')" "$S1 $S2 $S3 "
assert "the table ends with the retention line" \
	is_eq "$(tail -n 1 "$SCRATCH/list.txt" | cut -c1-44)" "retention 24h:all 30d:daily forever:weekly: "
assert "the table marks only the newest as current" human_current_is_last "$SCRATCH/list.txt"
assert "HINDSIGHT_REPO and HINDSIGHT_SSH work in place of --repo and --ssh" \
	succeeds env HINDSIGHT_REPO=server: HINDSIGHT_SSH="ssh -F $CA" "$HS_CLIENT" list --json
cp "$LAST_OUT" "$SCRATCH/list-env.json"
assert "the list through the environment is the same" cmp "$SCRATCH/list.json" "$SCRATCH/list-env.json"

# ------------------------------------------------------------ local repos

LREPO="$SCRATCH/repos/not/yet/there"
assert "backup to a missing local directory creates it and exits 0" \
	succeeds hs backup --repo "$LREPO" "$SRC"
assert "the new local root is private (mode 700)" is_eq "$(stat -c %a "$LREPO")" 700
assert "a second local backup exits 0" succeeds hs backup --repo "$LREPO" "$SRC"
assert "list --repo DIR --json shows two complete snapshots, current the last" \
	local_list_ok "$LREPO" 2
assert "list --repo DIR (table) has two rows" \
	is_eq "$("$HS_CLIENT" list --repo "$LREPO" >"$SCRATCH/l.txt"; human_rows "$SCRATCH/l.txt")" 2
L1=$(snapshots "$LREPO" | head -n 1)
L2=$(snapshots "$LREPO" | tail -n 1)
assert "the local snapshots share unchanged files" \
	same_inode "$LREPO/$L1$SRC/conf.d/extra.conf" "$LREPO/$L2$SRC/conf.d/extra.conf"
assert "the local snapshot equals the source" \
	same_as_source "$SRC" "$LREPO/$L2$SRC" -AXH --numeric-ids
assert "a relative local repo is taken from the current directory" \
	succeeds env -C "$SCRATCH" "$HS_CLIENT" backup --repo relrepo "$SRC"
assert "... and is there, with one snapshot" is_eq "$(snapshots "$SCRATCH/relrepo" | wc -l)" 1

# ------------------------------------------------------------ documented exit codes

assert "list --repo /nonexistent exits 10" \
	must_fail 10 hs list --repo /nonexistent/hindsight-$$
assert "list --repo on a missing local dir says there is no backup root" \
	last_err_has "no backup root"
BEFORE=$(snapshots "$ROOT_A" | wc -l)
assert "backup of a source that does not exist exits 10" \
	must_fail 10 hs backup --repo server: --ssh "ssh -F $CA" "$SCRATCH/no/such/source"
assert "... and makes no snapshot" is_eq "$(snapshots "$ROOT_A" | wc -l)" "$BEFORE"

tree_state "$(home_of "$RO")" >"$SCRATCH/ro.state"
assert "backup with a restore-only key exits 12 (refused)" \
	must_fail 12 hs backup --repo server: --ssh "ssh -F $(ssh_conf "$RO")" "$SRC"
assert "the refusal is explained on stderr" last_err_has "refused"
assert "the refused push changed nothing on the server" \
	same_tree_state "$SCRATCH/ro.state" "$(home_of "$RO")"
assert "a restore-only key may still list (exit 0, no snapshots)" \
	succeeds hs list --repo server: --ssh "ssh -F $(ssh_conf "$RO")" --json
assert "... an empty list" jq -e '(.snapshots | length) == 0' "$LAST_OUT"
assert "list with a push-only key exits 12 (refused)" \
	must_fail 12 hs list --repo server: --ssh "ssh -F $(ssh_conf "$PO")"

CLOSED=$(free_port)
assert "backup when ssh cannot connect (closed port) exits 13" \
	must_fail 13 hs backup --repo server: --ssh "ssh -F $CA -p $CLOSED" "$SRC"
assert "list when ssh cannot connect exits 13" \
	must_fail 13 hs list --repo server: --ssh "ssh -F $CA -p $CLOSED"

# locked: a slow push holds the lock (over ssh, then locally)
mkdir -p "$SCRATCH/slow"
for i in $(seq -w 1 30); do random_file "$SCRATCH/slow/big/g$i" 100; done
locked_case() {
	local label=$1 root=$2 rsh=$3 repo=$4 ssh=$5 before pid rc
	shift 5
	before=$(snapshots "$root" | wc -l)
	bg "$SCRATCH/slow-$label.log" env "$@" rsync -a --bwlimit=1000 --rsh="$rsh" "$SCRATCH/slow" server:
	pid=$BG_PID
	wait_until 60 bash -c "[ -n \"\$(find '$root/inprogress/slow/big' -type f 2>/dev/null)\" ]" ||
		fatal "[$label] the slow push never started" "$(cat "$SCRATCH/slow-$label.log")"
	assert "[$label] backup while another push holds the lock exits 11" \
		must_fail 11 hs backup --repo "$repo" ${ssh:+--ssh "$ssh"} "$SRC"
	assert "[$label] ... and says a backup is already in progress" \
		last_err_has "already in progress since"
	assert "[$label] the other push was still running then" kill -0 "$pid"
	wait "$pid"
	rc=$?
	assert "[$label] the other push completes (exit 0) with exactly one new snapshot" \
		is_eq "$rc $(snapshots "$root" | wc -l)" "0 $((before + 1))"
}
locked_case ssh "$ROOT_A" "ssh -F $CA" server: "ssh -F $CA"
locked_case local "$LREPO" "$HS_SERVER local" "$LREPO" "" HINDSIGHT_ROOT="$LREPO"

# ------------------------------------------------------------ rsync exit 23 -> exit 3
# root reads every file, so a file that cannot be read needs a client that
# is not root: the account $U, with a root-owned file of mode 000.

UH=$(home_of "$U")
mkdir -p "$UH/src"
echo "readable" >"$UH/src/ok.txt"
give_to "$U" "$UH/src"
echo "secret" >"$UH/src/unreadable.txt"
chmod 000 "$UH/src/unreadable.txt"
assert "[non-root, local] backup with an unreadable file exits 3 (completed with warnings)" \
	must_fail 3 as_user "$U" "$HS_CLIENT" backup --repo "$UH/repo" "$UH/src"
assert "[non-root, local] the snapshot is listed as 'with errors'" \
	lists_with_errors "$U" "$HS_CLIENT" list --repo "$UH/repo" --json
U1=$(snapshots "$UH/repo")
assert "[non-root, local] the readable file is in it, the unreadable one is not" \
	is_eq "$([ -f "$UH/repo/$U1$UH/src/ok.txt" ] && echo ok) $([ -e "$UH/repo/$U1$UH/src/unreadable.txt" ] && echo leaked)" "ok "
assert "[non-root, local] its metadata records rsync exit 23" \
	jq -e '.rsync_exit == 23' "$UH/repo/.hindsight/snapshots/$U1.json"

# the same over ssh: $U gets its own copy of $W's key and a config
install -d -o "$U" -g "$U" -m 700 "$UH/.ssh"
install -o "$U" -g "$U" -m 600 "$SCRATCH/client/$W.key" "$UH/.ssh/id"
write_ssh_conf "$W" "$UH/.ssh/id" "$UH/.ssh/config"
chown "$U:$U" "$UH/.ssh/config"
assert "[non-root, ssh] backup with an unreadable file exits 3 (completed with warnings)" \
	must_fail 3 as_user "$U" "$HS_CLIENT" backup --repo server: --ssh "ssh -F $UH/.ssh/config" "$UH/src"
assert "[non-root, ssh] the snapshot is listed as 'with errors'" \
	lists_with_errors "$U" "$HS_CLIENT" list --repo server: --ssh "ssh -F $UH/.ssh/config" --json
W1=$(snapshots "$(home_of "$W")")
assert "[non-root, ssh] the readable file is in it, the unreadable one is not" \
	is_eq "$([ -f "$(home_of "$W")/$W1$UH/src/ok.txt" ] && echo ok) $([ -e "$(home_of "$W")/$W1$UH/src/unreadable.txt" ] && echo leaked)" "ok "
assert "the non-root client left no status file in /tmp" no_status_file_left "$U"

done_testing
