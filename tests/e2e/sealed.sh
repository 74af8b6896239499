# tests/e2e/sealed.sh: sourced after lib.sh by the sealed-mode tests
# (sealed-*.t). A sealer of our own in the foreground on a socket in the
# scratch directory, a server.conf naming it, a vault owner of our own,
# and accounts made by `adduser --sealed` under a base in the scratch
# directory, reached over a real sshd (ForceCommand with --config).
#
#   sealed_setup                 fs.protected_hardlinks=0 until the end, the config
#   start_sealer [ENV...]        the sealer, its stderr in $SCRATCH/sealer.log
#   sealed_account SUFFIX        adduser hss<pid>SUFFIX; sets ACCOUNT, ROOT
#   push_as ACCOUNT ARGS...      hindsight backup over ssh as ACCOUNT
#   as_account ACCOUNT CMD...    CMD with ACCOUNT's uid, gid and groups
#   fully_sealed DIR             every inode the vault's, modes and xattrs right

SEAL_CONF="$SCRATCH/etc/server.conf"
SEAL_BASE="$SCRATCH/srv"
SEAL_SOCK="$SCRATCH/run/sealer.sock"
VAULT="hsv$$"
SEALER_PID=

sealed_setup() {
	local old
	old=$(cat /proc/sys/fs/protected_hardlinks) || fatal "read fs.protected_hardlinks"
	at_cleanup "sysctl -qw fs.protected_hardlinks=$old"
	sysctl -qw fs.protected_hardlinks=0 || fatal "set fs.protected_hardlinks=0"
	# what we make on this machine, we take away (adduser makes the group
	# hindsight, /etc/ssh/authorized_keys and the vault owner if missing)
	getent group hindsight >/dev/null ||
		at_cleanup "if getent group hindsight | grep -q ':\$'; then groupdel hindsight; fi"
	[ -d /etc/ssh/authorized_keys ] || at_cleanup "rmdir /etc/ssh/authorized_keys 2>/dev/null; true"
	at_cleanup "userdel '$VAULT' 2>/dev/null; true"
	mkdir -p -m 755 "$SCRATCH/etc" "$SCRATCH/run" "$SEAL_BASE"
	cat >"$SEAL_CONF" <<-EOF
	[server]
	base = $SEAL_BASE
	vault_user = $VAULT
	sealer_socket = $SEAL_SOCK
	EOF
	chmod 644 "$SEAL_CONF"
	export HINDSIGHT_SERVER_CONF="$SEAL_CONF"
	HS_SERVE_ARGS="--config $SEAL_CONF"
}

# Not one of lib.sh's bg jobs: stopped by at_cleanup with SIGTERM (it lets
# a seal under way finish), and disowned, so bash says nothing about it.
start_sealer() {
	stop_sealer
	rm -f "$SEAL_SOCK"
	env "$@" "$HS_SERVER" sealer --listen "$SEAL_SOCK" --config "$SEAL_CONF" \
		</dev/null >>"$SCRATCH/sealer.log" 2>&1 &
	SEALER_PID=$!
	disown "$SEALER_PID"
	[ -n "${SEALER_CLEANUP:-}" ] || { at_cleanup stop_sealer; SEALER_CLEANUP=1; }
	wait_until 5 test -S "$SEAL_SOCK" || fatal "the sealer does not listen" "$(cat "$SCRATCH/sealer.log")"
}

stop_sealer() {
	[ -n "$SEALER_PID" ] || return 0
	kill "$SEALER_PID" 2>/dev/null
	wait_until 10 bash -c "! kill -0 $SEALER_PID 2>/dev/null" || kill -9 "$SEALER_PID" 2>/dev/null
	SEALER_PID=
}

# sealed_account SUFFIX: a sealed account hss<pid>SUFFIX made by adduser,
# its client key in $SCRATCH/client. Sets ACCOUNT and ROOT.
sealed_account() {
	ACCOUNT="hss$$$1"
	ROOT="$SEAL_BASE/$ACCOUNT"
	mkdir -p -m 755 "$SCRATCH/client" "$SCRATCH/auth"
	ssh-keygen -q -t ed25519 -N '' -C "$ACCOUNT" -f "$SCRATCH/client/$ACCOUNT.key" ||
		fatal "ssh-keygen for $ACCOUNT"
	# removed by hand: its home is the root, root's, which userdel -r refuses
	at_cleanup "for p in \$(pgrep -u '$ACCOUNT' 2>/dev/null); do kill -9 \$p; done; userdel '$ACCOUNT' 2>/dev/null; rm -f '/etc/ssh/authorized_keys/$ACCOUNT'; true"
	"$HS_SERVER" adduser "$ACCOUNT" --key "$SCRATCH/client/$ACCOUNT.key.pub" \
		--base "$SEAL_BASE" --sealed >"$SCRATCH/adduser.out" 2>&1 ||
		fatal "adduser --sealed $ACCOUNT" "$(cat "$SCRATCH/adduser.out")"
}

# push_as ACCOUNT ARGS...: hindsight backup ARGS to ACCOUNT@server over
# our sshd (start_sshd forcecommand ACCOUNT... first).
push_as() {
	local a=$1
	shift
	"$HS_CLIENT" backup --repo server: --ssh "ssh -F $(ssh_conf "$a")" "$@"
}

as_account() {
	local a=$1
	shift
	setpriv --reuid "$a" --regid "$a" --init-groups --inh-caps=-all -- "$@"
}

# fully_sealed DIR: every inode below DIR (DIR too) belongs to the vault
# owner with the account's group, no write bit but the owner's and no
# setuid, setgid or sticky bit, directories at least 0750 and files at
# least 0640 (seal_mode()), and every file and directory records its
# owner and mode in user.rsync.%stat.
fully_sealed() {
	local d=$1 grp bad
	grp=$(stat -c %G "$d/..")
	bad=$(find "$d" ! -type l \( ! -user "$VAULT" -o ! -group "$grp" -o -perm /7022 -o \
		\( -type d ! -perm -750 \) -o \( ! -type d ! -perm -640 \) \) -printf '%u:%g %m %p\n' | head -5)
	[ -z "$bad" ] || { echo "not sealed: $bad"; return 1; }
	bad=$(find "$d" -type l ! -user "$VAULT" -printf '%u %p\n' | head -5)
	[ -z "$bad" ] || { echo "symlinks not the vault's: $bad"; return 1; }
	bad=$(find "$d" \( -type f -o -type d \) -print0 |
		xargs -0r getfattr -h --absolute-names -n user.rsync.%stat 2>&1 >/dev/null | head -5)
	[ -z "$bad" ] || { echo "no user.rsync.%stat: $bad"; return 1; }
}
