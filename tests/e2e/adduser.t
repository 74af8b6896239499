#!/bin/bash
# hindsight-server adduser and deluser, on this machine's real account
# database and /etc/ssh/authorized_keys, in simple mode (sealed accounts:
# sealed.t): the account they make can push
# over a real sshd (keys read from /etc/ssh/authorized_keys/%u, with and
# without the shipped drop-in) and cannot get a shell; rerunning changes
# nothing; a new key replaces the old; every refusal exits with its code
# and leaves nothing behind; deluser keeps the backups unless --purge and
# touches no account that is not a hindsight account.
#
# Accounts are named hsa<pid>... and removed at the end with their key
# files; the group hindsight and /etc/ssh/authorized_keys are removed too
# if this test made them.
. "$(dirname "$0")/lib.sh"

KEYS=/etc/ssh/authorized_keys
BASE="$SCRATCH/srv"
NAME="hsa$$"
add() { "$HS_SERVER" adduser "$@" --simple; }
del() { "$HS_SERVER" deluser "$@"; }

# the machine as it was: what we make, we take away
getent group hindsight >/dev/null ||
	at_cleanup "if getent group hindsight | grep -q ':\$'; then groupdel hindsight; fi"
[ -d "$KEYS" ] || at_cleanup "rmdir '$KEYS' 2>/dev/null; true"

# forget NAME: remove the account (if still there) and its key at the end
forget() {
	at_cleanup "for p in \$(pgrep -u '$1' 2>/dev/null); do kill -9 \$p; done; userdel '$1' 2>/dev/null; rm -f '$KEYS/$1'; true"
}

client_key() {   # client_key NAME [SUFFIX]: $SCRATCH/client/NAME[SUFFIX].key(.pub)
	mkdir -p -m 755 "$SCRATCH/client"
	ssh-keygen -q -t ed25519 -N '' -C "$1${2:-}@client" -f "$SCRATCH/client/$1${2:-}.key" ||
		fatal "ssh-keygen"
}

# state NAME: everything adduser makes, in one text
state() {
	getent passwd "$1"
	getent shadow "$1" | cut -d: -f1-2
	id "$1"
	getent group hindsight | cut -d: -f1-3
	stat -c '%n %u:%g %a %i %Y' "$BASE" "$BASE/$1" "$KEYS" "$KEYS/$1" 2>&1
	cat "$KEYS/$1" 2>&1
}

nothing_made_for() {   # nothing_made_for NAME: no account, key or root
	if getent passwd "$1" >/dev/null; then echo "account $1 exists"; return 1; fi
	absent "$KEYS/$1" && absent "$BASE/$1"
}

mkdir -p "$SCRATCH/src/docs"
echo "quarterly report" >"$SCRATCH/src/docs/report.txt"
random_file "$SCRATCH/src/photo.jpg" 64
client_key "$NAME"
forget "$NAME"

# ---------------------------------------------------------------- adduser

assert "adduser makes an account, its backup root and its key" \
	succeeds add "$NAME" --key "$SCRATCH/client/$NAME.key.pub" --base "$BASE"
assert "... and says what it made" last_out_has "^created backup root $BASE/$NAME "
assert "the account is in group hindsight, shell /bin/sh, home BASE/NAME" \
	is_eq "$(id -nG "$NAME" | tr ' ' '\n' | grep -cx hindsight) $(getent passwd "$NAME" | cut -d: -f6-7)" \
	"1 $BASE/$NAME:/bin/sh"
assert "its primary group is its own" is_eq "$(id -gn "$NAME")" "$NAME"
assert "its password field is * (no password, and not locked)" \
	is_eq "$(getent shadow "$NAME" | cut -d: -f2)" "*"
assert "its backup root is its own, mode 0700; the base is root's, 0755" \
	is_eq "$(stat -c '%U:%G %a' "$BASE/$NAME" "$BASE" | tr '\n' ' ')" "$NAME:$NAME 700 root:root 755 "
assert "its key file is root's, 0644, in a root-owned 0755 directory" \
	is_eq "$(stat -c '%U:%G %a' "$KEYS/$NAME" "$KEYS" | tr '\n' ' ')" "root:root 644 root:root 755 "
assert "the key file forces serve, restricted, on exactly the client's key" \
	is_eq "$(cat "$KEYS/$NAME")" "restrict,command=\"$HS_SERVER serve\" $(cat "$SCRATCH/client/$NAME.key.pub")"

state "$NAME" >"$SCRATCH/state.1"
assert "rerunning it with the same arguments exits 0" \
	succeeds add "$NAME" --key "$SCRATCH/client/$NAME.key.pub" --base "$BASE"
assert "... says nothing changed" last_out_has "^$NAME is set up already: nothing changed$"
assert "... and changes nothing: account, groups, root, key file (inode and mtime)" \
	is_eq "$(state "$NAME")" "$(cat "$SCRATCH/state.1")"

start_sshd system "$NAME"
conf=$(ssh_conf "$NAME")
assert "a real push over ssh works for the new account" \
	succeeds rsync -a -e "ssh -F $conf" "$SCRATCH/src/" server:
assert "... and makes a snapshot in its backup root" \
	is_eq "$(snapshots "$BASE/$NAME" | wc -l)" 1
assert "... holding what was sent" \
	same_as_source "$SCRATCH/src" "$BASE/$NAME/$(snapshots "$BASE/$NAME" | tail -1)" -M--fake-super
assert "the account gets no shell: 'ssh server sh' is refused (exit 12)" \
	must_fail 12 ssh -F "$conf" server sh
assert "... nor an interactive login (exit 12)" must_fail 12 ssh -F "$conf" server
assert "... nor a terminal" ssh_fails ssh -F "$conf" -tt server

start_sshd shipped "$NAME"
conf=$(ssh_conf "$NAME")
assert "with the shipped drop-in as it is (Match Group hindsight), a push works too" \
	succeeds rsync -a -e "ssh -F $conf" "$SCRATCH/src/" server:
assert "... a second snapshot" is_eq "$(snapshots "$BASE/$NAME" | wc -l)" 2
assert "... and 'ssh server sh' is refused (exit 12)" must_fail 12 ssh -F "$conf" server sh
assert "adduser without --simple or --sealed keeps a simple root simple: nothing changes" \
	succeeds "$HS_SERVER" adduser "$NAME" --key "$SCRATCH/client/$NAME.key.pub" --base "$BASE"
assert "... it says so" last_out_has "^$NAME is set up already: nothing changed$"
assert "adduser --sealed does not convert a simple root with history (exit 12)" \
	must_fail 12 "$HS_SERVER" adduser "$NAME" --key "$SCRATCH/client/$NAME.key.pub" --base "$BASE" --sealed
assert "... and says why" last_err_has "simple root with history: converting it to sealed is not supported"

client_key "$NAME" .new
assert "adduser with a new key replaces the key" \
	succeeds add "$NAME" --key "$SCRATCH/client/$NAME.new.key.pub" --base "$BASE"
assert "... and says so" last_out_has "^replaced the key in $KEYS/$NAME: "
assert "... and changes nothing else about the account" \
	is_eq "$(state "$NAME" | head -3)" "$(head -3 "$SCRATCH/state.1")"
assert "the old key no longer logs in" ssh_fails ssh -F "$conf" server hindsight list
write_ssh_conf "$NAME" "$SCRATCH/client/$NAME.new.key" "$SCRATCH/client/new.ssh_config"
assert "the new key pushes" \
	succeeds rsync -a -e "ssh -F $SCRATCH/client/new.ssh_config" "$SCRATCH/src/" server:
stop_sshd

# ---------------------------------------------------------------- refusals

bad="hsb$$"
good_key="$SCRATCH/client/$NAME.key.pub"
forget "$bad"
printf 'not a key\n' >"$SCRATCH/garbage.pub"
cat "$good_key" "$SCRATCH/client/$NAME.new.key.pub" >"$SCRATCH/two.pub"
printf 'no-pty %s\n' "$(cat "$good_key")" >"$SCRATCH/options.pub"
# base64 of the right shape, but not an ed25519 key blob
echo "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x" >"$SCRATCH/forged.pub"
mkdir "$SCRATCH/keydir"

refused() {   # refused CODE REGEX NAME ARGS...: exit CODE, one line matching, nothing made
	local code=$1 re=$2 n=$3
	shift 3
	must_fail "$code" add "$n" "$@" || return 1
	[ "$(wc -l <"$LAST_ERR")" -eq 1 ] || { echo "not one line:"; cat "$LAST_ERR"; return 1; }
	last_err_has "^hindsight-server: adduser: .*$re" || return 1
	[ ! -s "$LAST_OUT" ] || { echo "stdout is not empty:"; cat "$LAST_OUT"; return 1; }
	case $n in */* | .* | -*) return 0 ;; esac
	nothing_made_for "$n"
}

assert "a name with capitals is refused (exit 2), nothing made" \
	refused 2 'start with a lowercase' "Hsb$$" --key "$good_key" --base "$BASE"
assert "a name with a slash is refused (exit 2)" \
	refused 2 'only a-z' "hsb/../x" --key "$good_key" --base "$BASE"
assert "a name over 32 characters is refused (exit 2)" \
	refused 2 'longer than 32' "hsb$$-abcdefghijklmnopqrstuvwxyz0123" --key "$good_key" --base "$BASE"
assert "the name hindsight (the group's) is refused (exit 2)" \
	refused 2 "the group's" hindsight --key "$good_key" --base "$BASE"
assert "a missing key file is refused (exit 10), nothing made" \
	refused 10 "cannot open the key file $SCRATCH/nope.pub" "$bad" --key "$SCRATCH/nope.pub" --base "$BASE"
assert "a directory as key file is refused (exit 2)" \
	refused 2 'not a regular file' "$bad" --key "$SCRATCH/keydir" --base "$BASE"
assert "a private key is refused (exit 2), saying to give the .pub" \
	refused 2 'private key \(give the \.pub file\)' "$bad" --key "$SCRATCH/client/$NAME.key" --base "$BASE"
assert "two keys are refused (exit 2)" \
	refused 2 'more than one line' "$bad" --key "$SCRATCH/two.pub" --base "$BASE"
assert "a key with options in front is refused (exit 2)" \
	refused 2 'options in front' "$bad" --key "$SCRATCH/options.pub" --base "$BASE"
assert "a file that is no key is refused (exit 2)" \
	refused 2 'key type' "$bad" --key "$SCRATCH/garbage.pub" --base "$BASE"
assert "a well-formed line that ssh-keygen rejects is refused (exit 2)" \
	refused 2 'ssh-keygen does not accept the key' "$bad" --key "$SCRATCH/forged.pub" --base "$BASE"
assert "--sealed with --simple is refused (exit 2)" \
	refused 2 '--sealed and --simple exclude each other$' "$bad" --key "$good_key" --sealed --base "$BASE"
assert "a relative --base is refused (exit 2)" \
	refused 2 'absolute' "$bad" --key "$good_key" --base srv
mkdir -m 1777 "$SCRATCH/open"
assert "a base others can write is refused (exit 12)" \
	refused 12 'writable by group or others' "$bad" --key "$good_key" --base "$SCRATCH/open"
absent_open() { absent "$SCRATCH/open/$bad"; }
assert "... and nothing was made in it" absent_open

new_account x
other=$ACCOUNT
assert "an existing account that is not a hindsight account is refused (exit 12)" \
	must_fail 12 add "$other" --key "$good_key" --base "$BASE"
assert "... naming the reason" last_err_has "exists and is not a hindsight account"
assert "... and it is left as it was: not in group hindsight, no key, no root" \
	is_eq "$(id -nG "$other" | grep -cw hindsight; ls "$KEYS/$other" "$BASE/$other" 2>/dev/null | wc -l)" \
	"$(printf '0\n0')"
new_account y
usermod -g hindsight "$ACCOUNT" || fatal "usermod -g hindsight $ACCOUNT"
assert "an account whose primary group is hindsight is refused (exit 12)" \
	must_fail 12 add "$ACCOUNT" --key "$good_key" --base "$BASE"
assert "... it needs a group of its own" last_err_has "primary group is hindsight"
assert "the same account under another --base is refused (exit 12)" \
	must_fail 12 add "$NAME" --key "$good_key" --base "$SCRATCH/other"
assert "... naming where its root is" last_err_has "backup root is $BASE/$NAME"

# ---------------------------------------------------------------- deluser

assert "deluser refuses an account that is not a hindsight account (exit 12)" \
	must_fail 12 del "$other"
assert "... and leaves it" succeeds getent passwd "$other"
assert "deluser refuses root (exit 12)" must_fail 12 del root
assert "deluser of no such account exits 10" must_fail 10 del "hsz$$"

uid=$(id -u "$NAME")
bg "$SCRATCH/busy.log" setpriv --reuid="$uid" --regid="$(id -g "$NAME")" --clear-groups sleep 60
wait_until 5 pgrep -u "$NAME" sleep || fatal "no process as $NAME"
assert "deluser of an account still running something exits 11 (retry later)" \
	must_fail 11 del "$NAME"
assert "... says so" last_err_has "is in use .*retry when it ends"
assert "... and has taken the key away already, so nothing new starts" absent "$KEYS/$NAME"
assert "... but not the account" succeeds getent passwd "$NAME"
kill "$BG_PID"
wait "$BG_PID" 2>/dev/null

assert "deluser removes the account and its key" succeeds del "$NAME"
assert "... the account is gone" must_fail 2 getent passwd "$NAME"
assert "... its key file is gone" absent "$KEYS/$NAME"
assert "... and its backups are kept, still owned by its uid" \
	is_eq "$(snapshots "$BASE/$NAME" | wc -l) $(stat -c %u "$BASE/$NAME")" "3 $uid"
assert "adduser again takes the kept root back, with the same uid" \
	succeeds add "$NAME" --key "$good_key" --base "$BASE"
assert "... (uid $uid)" is_eq "$(id -u "$NAME")" "$uid"
start_sshd system "$NAME"
assert "... and pushes onto its history: a fourth snapshot" \
	succeeds rsync -a -e "ssh -F $(ssh_conf "$NAME")" "$SCRATCH/src/" server:
assert "... linked to the third" \
	same_inode "$BASE/$NAME/$(snapshots "$BASE/$NAME" | sed -n 3p)/photo.jpg" "$BASE/$NAME/current/photo.jpg"
stop_sshd
ln -s /etc "$BASE/$NAME/current/escape"
assert "deluser --purge removes the account, its key and its backups" \
	succeeds del "$NAME" --purge
assert "... the root is gone" absent "$BASE/$NAME"
assert "... the account and the key too" nothing_made_for "$NAME"
assert "... and nothing outside it was followed" exists /etc/passwd
assert "... nothing is left in the base" is_eq "$(ls -A "$BASE")" ""

done_testing
