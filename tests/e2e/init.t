#!/bin/bash
# Setting a machine up: hindsight init writes a key and the config and
# prints the server admin's adduser command; the account is made from
# exactly what it printed; then backup and status run from the config
# alone over a real sshd, and --if-due and config check behave.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
command -v ssh-keygen >/dev/null || fatal "ssh-keygen is installed"

hs() { "$HS_CLIENT" "$@"; }
CONF="$XDG_CONFIG_HOME/hindsight/config"

# adduser_as_printed NAME KEYFILE: the server admin's side of init: run the
# adduser command init printed (with a scratch --base, so the machine's
# /srv is left alone, and so --simple: a sealed root, the default, must be
# under the sealer's base; sealed*.t test those), then start a real sshd
# that reads the root-owned key file adduser wrote, as a server set up
# with the shipped drop-in does.
KEYS=/etc/ssh/authorized_keys
getent group hindsight >/dev/null ||
	at_cleanup "if getent group hindsight | grep -q ':\$'; then groupdel hindsight; fi"
[ -d "$KEYS" ] || at_cleanup "rmdir '$KEYS' 2>/dev/null; true"
adduser_as_printed() {
	local name=$1 key=$2
	case $name in "hst$$"*) ;; *) fatal "init's account name $name is not a test account" ;; esac
	at_cleanup "rm -f '$KEYS/$name'"
	HS_ACCOUNTS+=("$name")
	"$HS_SERVER" adduser "$name" --key "$key" --base "$SCRATCH/srv" --simple \
		>"$SCRATCH/adduser.out" 2>&1 ||
		fatal "hindsight-server adduser $name --key $key" "$(cat "$SCRATCH/adduser.out")"
	mkdir -p -m 755 "$SCRATCH/client"
	start_sshd system "$name"
}

# ------------------------------------------------------------ init

NAME="hst$$i"
SRC="$SCRATCH/data/home/me"
SRC2="$SCRATCH/data/etc"
mkdir -p "$SRC/docs" "$SRC2"
echo "letter" >"$SRC/docs/letter.txt"
echo "setting=1" >"$SRC2/app.conf"

assert "init --repo NAME@server: with two sources exits 0" \
	succeeds hs init --repo "$NAME@server:" "$SRC" "$SRC2"
cp "$LAST_OUT" "$SCRATCH/init.out"
assert "init wrote the config where the client looks for it (XDG_CONFIG_HOME)" exists "$CONF"
assert "the config is private (mode 600)" is_eq "$(stat -c %a "$CONF")" 600
assert "init made an ed25519 key beside it" \
	grep -q '^ssh-ed25519 ' "$XDG_CONFIG_HOME/hindsight/id_ed25519.pub"
assert "the private key is private (mode 600)" \
	is_eq "$(stat -c %a "$XDG_CONFIG_HOME/hindsight/id_ed25519")" 600
assert "the config names the repo, the key and both sources" \
	grep -q "^repo = $NAME@server:\$" "$CONF"
assert "... the key" grep -q "^ssh_key = $XDG_CONFIG_HOME/hindsight/id_ed25519\$" "$CONF"
assert "... the sources" \
	bash -c "grep -q '^sources = $SRC\$' '$CONF' && grep -q '^    $SRC2\$' '$CONF'"
assert "the config passes config check" succeeds hs config check
assert "init printed the exact adduser command" \
	grep -Eq "^    hindsight-server adduser $NAME --key $NAME\\.pub\$" "$SCRATCH/init.out"
assert "init printed the public key to save as NAME.pub" \
	grep -Fq "    $(cat "$XDG_CONFIG_HOME/hindsight/id_ed25519.pub")" "$SCRATCH/init.out"
assert "init says to test the connection with hindsight status (the account is not there yet)" \
	grep -q '^    hindsight status$' "$SCRATCH/init.out"

# the admin saves the printed line as NAME.pub and runs the printed command
mkdir -p "$SCRATCH/admin"
grep -E '^    ssh-ed25519 ' "$SCRATCH/init.out" | sed 's/^    //' >"$SCRATCH/admin/$NAME.pub"
read -r _ _ PRINTED_NAME _ PRINTED_KEY < <(grep -E '^    hindsight-server adduser ' "$SCRATCH/init.out" | sed 's/^    //')
adduser_as_printed "$PRINTED_NAME" "$SCRATCH/admin/$PRINTED_KEY"
ROOT="$SCRATCH/srv/$NAME"

# this machine reaches "server" through a client ssh config (port, host key)
write_ssh_conf "$NAME" "$XDG_CONFIG_HOME/hindsight/id_ed25519" "$SCRATCH/client/init.ssh_config"
echo "ssh_command = ssh -F $SCRATCH/client/init.ssh_config" >>"$CONF"

# ------------------------------------------------------------ status, backup, status

assert "status before any backup exits 0" succeeds hs status
assert "... says there was no backup from this machine yet" last_out_has '^last backup +never'
assert "... and that one is due now" last_out_has '^next due +now$'
assert "... and shows the server's view: no snapshot yet" last_out_has '^newest +none yet'

assert "backup with no arguments (everything from the config) exits 0" succeeds hs backup
assert "... and prints one closing line (stdout is not a terminal)" \
	is_eq "$(wc -l <"$LAST_OUT")" 1
assert "... which says what was backed up, and where" \
	last_out_has "^hindsight: backed up 2 sources to $NAME@server: in "
S1=$(snapshots "$ROOT")
assert "one snapshot was made" is_eq "$(echo "$S1" | grep -c .)" 1
assert "it holds both sources from the config, at their absolute paths" \
	bash -c "[ -f '$ROOT/$S1$SRC/docs/letter.txt' ] && [ -f '$ROOT/$S1$SRC2/app.conf' ]"
assert "the snapshot equals the first source" \
	same_as_source "$SRC" "$ROOT/$S1$SRC" -AXH --numeric-ids -M--fake-super

assert "status after the backup exits 0" succeeds hs status
cp "$LAST_OUT" "$SCRATCH/status.out"
assert "... shows the last backup, seconds ago" last_out_has '^last backup +[0-9-]+ [0-9:]+ \([0-9]+s ago\)$'
assert "... and the next one due in about an hour" last_out_has '^next due +[0-9-]+ [0-9:]+ \(in (59m|1h 0m)\)$'
assert "... and the server's newest snapshot" last_out_has "^newest +$S1 "
assert "... and no push in progress" last_out_has '^backup +none running$'
assert "... and no error" bash -c "! grep -q '^last error' '$SCRATCH/status.out'"
assert "status --json adds the client's view to the server's answer" succeeds hs status --json
assert "... last_success, the interval, not due, and the server's newest" \
	jq -e --arg s "$S1" '.protocol == 1 and .verb == "status" and .newest == $s and
		.client.interval == 3600 and .client.due == false and
		.client.last_success.exit == 0 and .client.last_attempt.exit == 0' "$LAST_OUT"

# ------------------------------------------------------------ --if-due

assert "backup --if-due right after a backup exits 0" succeeds hs backup --if-due
assert "... says no backup is due, and when the next one is" \
	last_out_has '^hindsight: no backup due: the last one started [0-9]+s ago; the next is due at '
assert "... and makes no snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" 1
sed -i 's/^interval = 1h$/interval = 0/' "$CONF"
assert "with interval = 0, backup --if-due backs up (exit 0)" succeeds hs backup --if-due
assert "... and makes a second snapshot" is_eq "$(snapshots "$ROOT" | wc -l)" 2
sed -i 's/^interval = 0$/interval = 1h/' "$CONF"

# ------------------------------------------------------------ the command line wins

echo "only this" >"$SCRATCH/data/one.txt"
assert "sources named on the command line replace the config's" \
	succeeds hs backup "$SCRATCH/data/one.txt"
S3=$(snapshots "$ROOT" | tail -n 1)
assert "... the snapshot holds the named file and not the config's sources" \
	bash -c "[ -f '$ROOT/$S3$SCRATCH/data/one.txt' ] && [ ! -e '$ROOT/$S3$SRC' ]"
LREPO="$SCRATCH/local-repo"
assert "--repo on the command line replaces the config's repo" \
	succeeds hs backup --repo "$LREPO"
assert "... the local repo got the config's sources" \
	exists "$LREPO/$(snapshots "$LREPO")$SRC/docs/letter.txt"
assert "HINDSIGHT_REPO replaces the config's repo too" \
	succeeds env HINDSIGHT_REPO="$LREPO" "$HS_CLIENT" backup
assert "... a second local snapshot" is_eq "$(snapshots "$LREPO" | wc -l)" 2

# ------------------------------------------------------------ refusals change nothing

cp "$CONF" "$SCRATCH/conf.before"
tree_state "$XDG_CONFIG_HOME/hindsight" >"$SCRATCH/confdir.state"
assert "init again, with a config there, exits 1" must_fail 1 hs init --repo "$NAME@server:"
assert "... says the config exists and how to replace it" last_err_has 'exists; not replacing it \(use --force\)'
assert "... and changed nothing (config and key)" \
	same_tree_state "$SCRATCH/confdir.state" "$XDG_CONFIG_HOME/hindsight"
assert "init without --repo exits 2" must_fail 2 hs init
assert "init with a repo that has a path after the colon exits 2" \
	must_fail 2 hs init --repo "$NAME@server:backups" --config "$SCRATCH/other.conf"
assert "... and writes nothing" absent "$SCRATCH/other.conf"
assert "init of a missing source exits 10 and writes nothing" \
	must_fail 10 hs init --repo "$LREPO" --config "$SCRATCH/other.conf" "$SCRATCH/nope"
assert "... no config" absent "$SCRATCH/other.conf"
assert "init with a local repo writes a config with no key (exit 0)" \
	succeeds hs init --repo "$LREPO" --config "$SCRATCH/local.conf" "$SRC"
assert "... whose repo is the directory" grep -q "^repo = $LREPO\$" "$SCRATCH/local.conf"
assert "... and no ssh_key" bash -c "! grep -q '^ssh_key' '$SCRATCH/local.conf'"
assert "... and says how to back up with it" last_out_has "hindsight backup --config $SCRATCH/local.conf"

# ------------------------------------------------------------ config check

BAD="$SCRATCH/bad.conf"
printf 'repo = %s@server:\n\nnice = 25\nbwlimt = 5M\nsources = relative/path\nsources = %s\n' \
	"$NAME" "$SCRATCH/not-there" >"$BAD"
assert "config check of a bad file exits 2" must_fail 2 hs config check --config "$BAD"
assert "... names the bad value with file and line" \
	last_err_has "^hindsight: $BAD:3: bad nice '25': a whole number from 0 to 19\$"
assert "... the misspelt key, with a suggestion" \
	last_err_has "^hindsight: $BAD:4: unknown key 'bwlimt' \\(did you mean bwlimit\\?\\)\$"
assert "... the relative source" last_err_has "^hindsight: $BAD:5: bad sources 'relative/path'"
assert "... the source that is not there" \
	last_err_has "^hindsight: $BAD:6: source $SCRATCH/not-there: No such file or directory\$"
assert "... four errors in all" is_eq "$(grep -c "^hindsight: $BAD:" "$LAST_ERR")" 4
printf 'sources = %s\n' "$SCRATCH/not-there" >"$SCRATCH/missing.conf"
assert "config check of a good file with a missing source exits 2" \
	must_fail 2 hs config check --config "$SCRATCH/missing.conf"
assert "... the source and its line" \
	last_err_has "^hindsight: $SCRATCH/missing.conf:1: source $SCRATCH/not-there: No such file or directory\$"
BEFORE=$(snapshots "$ROOT" | wc -l)
assert "backup with a bad config exits 2" must_fail 2 hs backup --config "$BAD"
assert "... and sends nothing" is_eq "$(snapshots "$ROOT" | wc -l)" "$BEFORE"
assert "backup --config with a missing file exits 10" \
	must_fail 10 hs backup --config "$SCRATCH/none.conf"
assert "config check with no config file exits 10" \
	must_fail 10 env XDG_CONFIG_HOME="$SCRATCH/empty" "$HS_CLIENT" config check
chmod 666 "$SCRATCH/local.conf"
assert "a config others may write is refused (exit 2)" \
	must_fail 2 hs list --config "$SCRATCH/local.conf"
assert "... saying why" last_err_has 'may be changed by others'
assert "config path prints the file the client reads" succeeds hs config path
assert "... which is the XDG one" last_out_has "^$CONF\$"

done_testing
