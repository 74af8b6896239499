#!/bin/bash
# Hostile commands over real ssh, against sshd with ForceCommand in a Match
# block and with restrict,command="..." in authorized_keys, then the same
# commands against a local root through `hindsight-server local`.
#
# Every command sshd hands to serve (in SSH_ORIGINAL_COMMAND) must exit 12
# with one line "hindsight-server: refused: REASON" on stderr, and leave the
# backup root exactly as it was. Two kinds are refused by sshd itself and
# never reach serve: port forwarding (ssh exits 255, its own failure code,
# and no listener appears) and stdio forwarding (-W, the same).
# The sftp subsystem does reach serve (SSH_ORIGINAL_COMMAND is the
# subsystem's program) and exits 12, but sshd throws away a subsystem's
# stderr, so no reason can be seen on the client there.
. "$(dirname "$0")/lib.sh"

PWNED=/tmp/hs-pwned.$$
EVIL=/tmp/hs-evil.$$
XLOG=/tmp/hs-x.$$
R='rsync --server -logDtpre.iLsfxCIvu'   # what `rsync -a SRC server:` sends
LONG=$(head -c 70000 /dev/zero | tr '\0' a)

# One case per line, tab-separated: description, the command, and what the
# reason must mention (a regex; optional). @none is a login with no command
# at all; @sftp the sftp subsystem.
CASES=$(cat <<EOF
an interactive login (no command)	@none	no command
the sftp subsystem	@sftp	sftp-server
a shell: sh	sh	command sh 
a shell command: /bin/sh -c id	/bin/sh -c id	/bin/sh
an interactive bash: bash -i	bash -i	bash
scp upload: scp -t /tmp	scp -t /tmp	scp
scp download: scp -f /etc/passwd	scp -f /etc/passwd	scp
rsync sender reading /etc/passwd	rsync --server --sender -logDtpre.iLsfxCIvu . /etc/passwd	/etc/passwd
rsync --daemon	rsync --server --daemon .	--daemon
rsync --rsh=x	$R --rsh=x . .	--rsh
rsync -e outside the capability block	rsync --server -e x . .	-e
rsync --rsync-path=x	$R --rsync-path=x . .	--rsync-path
rsync -s (secluded args)	rsync --server -s . .	secluded
absolute destination $EVIL	$R . $EVIL	absolute
destination ../x	$R . ../x	'\.\.'
destination a/../../x	$R . a/../../x	'\.\.'
destination ~root/x	$R . ~root/x	another user
rsync --inplace	$R --inplace . .	--inplace
rsync --append	$R --append . .	--append
client --link-dest=/etc	$R --link-dest=/etc . .	--link-dest
client --copy-dest=/etc	$R --copy-dest=/etc . .	--copy-dest
rsync --temp-dir=/tmp	$R --temp-dir=/tmp . .	--temp-dir
rsync --log-file=$XLOG	$R --log-file=$XLOG . .	--log-file
rsync --backup-dir=/tmp	$R --backup-dir=/tmp . .	--backup-dir
rsync --write-batch=$XLOG	$R --write-batch=$XLOG . .	--write-batch
rsync --config=/etc/passwd	$R --config=/etc/passwd . .	--config
rsync -K (keep dirlinks)	rsync --server -logDtpKre.iLsfxCIvu . .	-K
rsync -M (remote option)	rsync --server -M--log-file=$XLOG . .	-M
rsync --files-from=/etc/passwd	$R --files-from=/etc/passwd . .	--files-from
rsync --exclude-from=/etc/shadow	$R --exclude-from=/etc/shadow . .	--exclude-from
rsync --chown=0:0	$R --chown=0:0 . .	--chown
rsync --super	$R --super . .	--super
a second command after ;	$R . . ; touch $PWNED
a second command after &&	$R . . && touch $PWNED
a command substitution	\$(touch $PWNED)
a backquoted command as destination	$R . \`touch $PWNED\`
a query with a shell tail	hindsight list ; touch $PWNED
a 70 KB command line	$R . $LONG	too long
EOF
)

# ssh_for CONF CMD: send CMD over ssh, so that sshd puts exactly CMD in
# SSH_ORIGINAL_COMMAND (the special cases need other ssh options).
ssh_for() {
	local conf=$1 cmd=$2
	case $cmd in
	@none) ssh -F "$conf" -T server ;;
	@sftp) ssh -F "$conf" -s server sftp ;;
	*) ssh -F "$conf" server "$cmd" ;;
	esac
}

# local_for ROOT CMD: the same through the local transport. What sshd would put
# in SSH_ORIGINAL_COMMAND: nothing, or the subsystem's program.
local_for() {
	local root=$1 cmd=$2
	case $cmd in
	@none) cmd= ;;
	@sftp) cmd=/usr/lib/openssh/sftp-server ;;
	esac
	env HINDSIGHT_ROOT="$root" "$HS_SERVER" local localhost "$cmd"
}

nothing_in_tmp_from() {
	local found
	found=$(find /tmp -maxdepth 2 -user "$1" 2>/dev/null)
	[ -z "$found" ] || { echo "files made by $1 in /tmp:"; echo "$found"; return 1; }
}

no_pwned() {
	local f
	for f in "$PWNED" "$EVIL" "$XLOG"; do absent "$f" || return 1; done
}

nobody_listens() {
	local l
	l=$(ss -Htln "sport = :$1")
	[ -z "$l" ] || { echo "something listens on $1: $l"; return 1; }
}

# banner_through PORT: what a connection to PORT gets within 3 seconds.
banner_through() {
	timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -c 4 <&3" 2>/dev/null
}

no_banner_through() {
	local b
	b=$(banner_through "$1")
	[ -z "$b" ] || { echo "the forwarded port answered: $b"; return 1; }
}

# batch LABEL ROOT RUNNER...: every case, through RUNNER (ssh_for CONF or
# local_for ROOT), with the root's state checked after each.
batch() {
	local label=$1 root=$2 desc cmd want
	shift 2
	tree_state "$root" >"$SCRATCH/$label.state"
	while IFS=$'\t' read -r desc cmd want; do
		assert "[$label] $desc is refused with exit 12" must_fail 12 "$@" "$cmd"
		if [ "$cmd" = @sftp ] && [ "$1" = ssh_for ]; then
			: # sshd discards a subsystem's stderr: nothing to read
		else
			assert "[$label] $desc: stderr is one line giving the reason${want:+ (it mentions $want)}" \
				stderr_is_one_reason "$want"
		fi
		assert "[$label] $desc: the backup root is unchanged" \
			same_tree_state "$SCRATCH/$label.state" "$root"
	done <<<"$CASES"
	assert "[$label] after the whole batch the backup root is unchanged" \
		same_tree_state "$SCRATCH/$label.state" "$root"
	assert "[$label] no injected command ran and nothing was written in /tmp" no_pwned
}

# ssh_scenario MODE ACCOUNT
ssh_scenario() {
	local mode=$1 acc=$2 conf root rport lport pid
	start_sshd "$mode" "$acc"
	conf=$(ssh_conf "$acc")
	root=$(home_of "$acc")
	mkdir -p "$SCRATCH/$mode/src/docs"
	echo "precious" >"$SCRATCH/$mode/src/docs/a.txt"
	assert "[$mode] an honest push makes a snapshot to guard" \
		succeeds rsync -a --rsh="ssh -F $conf" "$SCRATCH/$mode/src" server:

	batch "$mode" "$root" ssh_for "$conf"

	rport=$(free_port)
	assert "[$mode] a remote port forward (-R) is refused by sshd: ssh exits 255" \
		ssh_fails timeout 20 ssh -F "$conf" -N -o ExitOnForwardFailure=yes \
		-R "$rport:127.0.0.1:$SSHD_PORT" server
	assert "[$mode] the remote port forward opened no listener" nobody_listens "$rport"
	assert "[$mode] stdio forwarding (-W) is refused by sshd: ssh exits 255" \
		ssh_fails timeout 20 ssh -F "$conf" -W "127.0.0.1:$SSHD_PORT" server

	# -L listens on the client side by design; the server must refuse the
	# channel, so nothing comes through
	lport=$(free_port)
	bg "$SCRATCH/$mode/forward.log" ssh -F "$conf" -N -L "$lport:127.0.0.1:$SSHD_PORT" server
	pid=$BG_PID
	if wait_until 10 bash -c "ss -Htln 'sport = :$lport' | grep -q ."; then
		assert "[$mode] a local port forward (-L) carries nothing: the server refuses the channel" \
			no_banner_through "$lport"
		sleep 0.2
		assert "[$mode] sshd logs the forwarded channel as refused" \
			grep -q 'refused local port forward' "$SSHD_LOG"
	else
		not_ok "[$mode] a local port forward (-L) carries nothing: the server refuses the channel"
		diag "ssh -L never listened on $lport: $(cat "$SCRATCH/$mode/forward.log")"
		not_ok "[$mode] sshd logs the forwarded channel as refused"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null

	assert "[$mode] after the forwarding attempts the backup root is unchanged" \
		same_tree_state "$SCRATCH/$mode.state" "$root"
	assert "[$mode] the account left no file in /tmp" nothing_in_tmp_from "$acc"
	stop_sshd
}

new_account f
ssh_scenario forcecommand "$ACCOUNT"
new_account k
ssh_scenario authorized_keys "$ACCOUNT"

LROOT="$SCRATCH/localroot"
mkdir -m 700 "$LROOT" "$SCRATCH/local"
mkdir -p "$SCRATCH/local/src"
echo "precious" >"$SCRATCH/local/src/a.txt"
assert "[local] an honest push makes a snapshot to guard" \
	succeeds env HINDSIGHT_ROOT="$LROOT" rsync -a --rsh="$HS_SERVER local" "$SCRATCH/local/src" server:
batch local "$LROOT" local_for "$LROOT"

done_testing
