# tests/e2e/lib.sh: sourced by every end-to-end test (STYLE.md habit 14).
#
# Real parts only: real rsync, a real sshd on 127.0.0.1 with its own config,
# host key and pid file, and real accounts made with useradd and removed
# afterwards. Each test prints TAP for prove(1).
#
#   . "$(dirname "$0")/lib.sh"
#   assert "what it checks, in plain words" some_command args...
#   assert "a shell is refused" must_fail 12 ssh -F "$conf" server sh
#   done_testing
#
# Needs root (useradd, sshd), rsync, openssh-server, openssh-client, attr
# (getfattr/setfattr) and jq. HS_BIN names the build directory that holds
# hindsight and hindsight-server (default: build/ of this checkout).
# HS_KEEP_SCRATCH=1 keeps the scratch directory for a post-mortem.

set -u
export LC_ALL=C TZ=UTC
umask 022
unset HINDSIGHT_REPO HINDSIGHT_SSH HINDSIGHT_ROOT HINDSIGHT_TRANSPORT XDG_RUNTIME_DIR \
      HINDSIGHT_STATUS_FILE RSYNC_PROTECT_ARGS RSYNC_RSH SSH_AUTH_SOCK \
      SSH_ORIGINAL_COMMAND

HS_TEST=$(basename "$0" .t)
HS_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
: "${HS_BIN:=$HS_SRCDIR/build}"

# ---------------------------------------------------------------- TAP

_t_n=0
_t_failed=0
_t_planned=0

# Diagnostics go to stderr, so prove shows them even without -v.
_t_diag() { sed 's/^/# /' >&2; }
diag() { printf '%s\n' "$*" | _t_diag; }

ok() {
	_t_n=$((_t_n + 1))
	echo "ok $_t_n - $1"
}

not_ok() {
	_t_n=$((_t_n + 1))
	_t_failed=$((_t_failed + 1))
	echo "not ok $_t_n - $1"
}

# A setup step failed: no point going on. No plan is printed, so prove
# counts the whole file as failed.
fatal() {
	not_ok "setup: $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | _t_diag
	exit 1
}

skip_all() {
	echo "1..0 # SKIP $*"
	_t_planned=1
	exit 0
}

done_testing() {
	echo "1..$_t_n"
	_t_planned=1
	[ "$_t_failed" -eq 0 ] || diag "$_t_failed of $_t_n tests failed"
}

_t_signal_note() {
	[ "$1" -ge 128 ] && [ "$1" -lt 255 ] && echo " (killed by signal $(($1 - 128)): a crash, never an expected failure)"
}

# assert NAME CMD...: one test, which passes when CMD exits 0. CMD runs in
# this shell (functions may set variables); its output is shown only when
# the test fails.
assert() {
	local name=$1 rc
	shift
	"$@" </dev/null >"$SCRATCH/.assert.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	{
		echo "command: $*"
		echo "exit: $rc$(_t_signal_note "$rc")"
		head -c 6000 "$SCRATCH/.assert.out"
	} | _t_diag
	return 1
}

# run CMD...: run it with stdin from /dev/null, keep its stdout and stderr in
# $LAST_OUT and $LAST_ERR and its exit status in $LAST_RC; return that status.
run() {
	"$@" </dev/null >"$LAST_OUT" 2>"$LAST_ERR"
	LAST_RC=$?
	return "$LAST_RC"
}

# must_exit CODE CMD...: true only if CMD exits exactly CODE. An exit of 128
# or more from a signal is a crash and always false, whatever CODE says.
# On failure it says what happened and prints CMD's stderr.
must_exit() {
	local want=$1
	shift
	run "$@"
	if [ "$LAST_RC" -ge 128 ] && [ "$LAST_RC" -ne 255 ]; then
		echo "crashed: exit $LAST_RC$(_t_signal_note "$LAST_RC"), wanted $want: $*"
		echo "--- stderr:"; head -c 4000 "$LAST_ERR"
		return 1
	fi
	if [ "$LAST_RC" -ne "$want" ]; then
		echo "wanted exit $want, got $LAST_RC: $*"
		echo "--- stderr:"; head -c 4000 "$LAST_ERR"
		echo "--- stdout:"; head -c 2000 "$LAST_OUT"
		return 1
	fi
	return 0
}

# must_fail CODE CMD...: CMD must fail with exactly CODE (not 0, below 128).
# ssh's own failures (255) are checked with ssh_fails instead.
must_fail() {
	local want=$1
	shift
	if [ "$want" -eq 0 ] || [ "$want" -ge 128 ]; then
		echo "must_fail: CODE must be 1..127, not $want"
		return 1
	fi
	must_exit "$want" "$@"
}

# succeeds CMD...: CMD exits 0 (stdout/stderr kept as for must_exit).
succeeds() { must_exit 0 "$@"; }

# ssh_fails CMD...: ssh itself refused or failed: exit 255, ssh's own code
# for "the connection or a request failed" (no signal has number 127).
ssh_fails() { must_exit 255 "$@"; }

# stderr_is_one_reason [REGEX]: what the last command printed on stderr is
# exactly one line, "hindsight-server: refused: REASON", and REASON
# matches REGEX (grep -E) if given.
stderr_is_one_reason() {
	local lines reason
	lines=$(wc -l <"$LAST_ERR")
	if [ "$lines" -ne 1 ] || ! grep -Eq '^hindsight-server: refused: .{4,}$' "$LAST_ERR"; then
		echo "stderr is not one 'hindsight-server: refused: REASON' line:"
		cat "$LAST_ERR"
		return 1
	fi
	reason=$(sed 's/^hindsight-server: refused: //' "$LAST_ERR")
	if [ -n "${1:-}" ] && ! grep -Eq -- "$1" <<<"$reason"; then
		echo "the reason does not mention /$1/: $reason"
		return 1
	fi
}

# last_err_has REGEX: the last command's stderr matches (grep -E).
last_out_has() {
	grep -Eq -- "$1" "$LAST_OUT" && return 0
	echo "stdout does not match /$1/:"
	cat "$LAST_OUT"
	return 1
}

last_err_has() {
	grep -Eq -- "$1" "$LAST_ERR" && return 0
	echo "stderr does not match /$1/:"
	cat "$LAST_ERR"
	return 1
}

# ---------------------------------------------------------------- files

# tree_state DIR: everything a snapshot holds, in one text: per entry inode,
# mode, owner, group, mtime (ns), size, type, path and symlink target; an
# md5 of each file's data; every xattr (hex). Two equal outputs mean nothing
# changed in data, mode, owner, times or xattrs. (Link counts and ctimes are
# left out: linking a later snapshot to a file changes them, legitimately.)
tree_state() {
	local d=$1
	find "$d" -printf '%i %m %U %G %T@ %s %y %p -> %l\n' | sort -k8
	find "$d" -type f -print0 | sort -z | xargs -0r md5sum
	getfattr -R -P -h -d -m - -e hex --absolute-names "$d" 2>/dev/null |
		awk '/^# file: /{ f = substr($0, 9); next } /./{ print f ": " $0 }' | sort
}

# same_tree_state FILE DIR: DIR's tree_state equals the one saved in FILE.
same_tree_state() {
	local now="$SCRATCH/.state.now"
	tree_state "$2" >"$now"
	if ! cmp -s "$1" "$now"; then
		echo "tree_state of $2 changed:"
		diff "$1" "$now" | head -40
		return 1
	fi
}

# same_inode A B: A and B are one file (hard links of each other).
same_inode() {
	local a b
	a=$(stat -c '%d:%i' -- "$1") || return 1
	b=$(stat -c '%d:%i' -- "$2") || return 1
	[ "$a" = "$b" ] && return 0
	echo "$1 is $a, $2 is $b: not the same inode"
	return 1
}

other_inode() {
	local a b
	a=$(stat -c '%d:%i' -- "$1") || return 1
	b=$(stat -c '%d:%i' -- "$2") || return 1
	[ "$a" != "$b" ] && return 0
	echo "$1 and $2 share inode $a"
	return 1
}

exists() { [ -e "$1" ] || [ -L "$1" ] || { echo "$1 does not exist"; return 1; }; }
absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		echo "$1 exists"
		ls -ld "$1"
		return 1
	fi
}
is_eq() { [ "$1" = "$2" ] || { echo "got '$1', wanted '$2'"; return 1; }; }

# stored_mode FILE: the permission bits a snapshot records for FILE. On an
# unprivileged server rsync's --fake-super keeps them in user.rsync.%stat
# ("MODE RDEV UID:GID", mode in octal) when they differ from the inode's.
stored_mode() {
	local x
	x=$(getfattr -h --absolute-names --only-values -n user.rsync.%stat -- "$1" 2>/dev/null | cut -d' ' -f1)
	if [ -n "$x" ]; then
		printf '%o\n' $((8#$x & 8#7777))
	else
		stat -c '%a' -- "$1"
	fi
}

# stored_owner FILE: the "UID:GID" a snapshot records for FILE (the
# fake-super xattr on an unprivileged server, else the inode's).
stored_owner() {
	local x
	x=$(getfattr -h --absolute-names --only-values -n user.rsync.%stat -- "$1" 2>/dev/null | cut -d' ' -f3)
	if [ -n "$x" ]; then
		echo "$x"
	else
		stat -c '%u:%g' -- "$1"
	fi
}

# same_as_source SRC DIR [RSYNC-OPTION...]: DIR holds exactly SRC's tree:
# rsync -nac -i (checksums, every -a attribute, plus the options given)
# reports nothing. Give -M--fake-super for a tree an unprivileged server
# wrote, so the owners and modes it recorded in xattrs are compared.
same_as_source() {
	local src=$1 dst=$2 out
	shift 2
	out=$(rsync -nac -i --delete "$@" "$src/" "$dst/" 2>&1) || { echo "rsync failed: $out"; return 1; }
	[ -z "$out" ] && return 0
	echo "rsync -nac -i $* $src/ $dst/ reports differences:"
	echo "$out" | head -40
	return 1
}

# stored_link FILE: the target of a symlink a snapshot holds. rsync's
# --fake-super cannot put xattrs on a symlink, so an unprivileged server
# stores it as a small file holding the target, its xattr saying "symlink".
stored_link() {
	local x
	if [ -L "$1" ]; then
		readlink -- "$1"
		return
	fi
	x=$(getfattr -h --absolute-names --only-values -n user.rsync.%stat -- "$1" 2>/dev/null | cut -d' ' -f1)
	if [ -n "$x" ] && [ $((8#$x & 8#170000)) -eq $((8#120000)) ]; then
		cat -- "$1"
	else
		echo "(not a symlink: $1)"
	fi
}

# random_file PATH KIB: a file of KIB KiB of random bytes.
random_file() {
	mkdir -p "$(dirname "$1")"
	head -c $(($2 * 1024)) /dev/urandom >"$1"
}

# give_to USER DIR...: make USER own the trees (as on a client machine,
# where the backed-up files belong to their user).
give_to() {
	local u=$1
	shift
	chown -R -h "$u:$u" "$@"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local limit=$(($1 * 10)) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.1
	done
}

# snapshots ROOT: the completed snapshot names, oldest first.
snapshots() {
	find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
		-regex '.*/[0-9]{4}(_[0-9]{2}){5}' -printf '%f\n' | sort
}

# lock_is_free ROOT: no push holds ROOT's lock.
lock_is_free() {
	[ -e "$1/.hindsight/lock" ] || return 0
	flock -n "$1/.hindsight/lock" true
}

# count_files DIR: regular files under DIR (none if it does not exist).
count_files() {
	[ -d "$1" ] || { echo 0; return; }
	find "$1" -type f ! -name '.*' | wc -l
}

# ---------------------------------------------------------------- scratch

[ "$(id -u)" -eq 0 ] || skip_all "needs root (useradd, sshd)"
for _t_tool in rsync getfattr setfattr jq flock runuser pgrep ss timeout md5sum \
	useradd /usr/sbin/sshd ssh ssh-keygen; do
	command -v "$_t_tool" >/dev/null 2>&1 ||
		{ echo "not ok 1 - $_t_tool is installed (make deps)"; echo "1..1"; exit 1; }
done
[ -x "$HS_BIN/hindsight-server" ] ||
	{ echo "not ok 1 - $HS_BIN/hindsight-server is built"; echo "1..1"; exit 1; }

# sshd's StrictModes rejects an AuthorizedKeysFile below a group- or
# world-writable directory (such as /tmp), so the scratch dirs live under a
# root-owned 0755 base.
HS_TEST_BASE=${HS_TEST_BASE:-/var/lib/hindsight-e2e}
mkdir -p -m 755 "$HS_TEST_BASE" || exit 1
SCRATCH=$(mktemp -d "$HS_TEST_BASE/$HS_TEST.XXXXXX") || exit 1
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/home" "$SCRATCH/skel" "$SCRATCH/bin" "$SCRATCH/root-home"
export HOME="$SCRATCH/root-home"
# the client's config and state (last backup, for --if-due) stay in scratch
# too, not in /etc/hindsight and /var/lib/hindsight
export XDG_CONFIG_HOME="$HOME/.config" XDG_STATE_HOME="$HOME/.local/state"
LAST_OUT="$SCRATCH/.last.out"
LAST_ERR="$SCRATCH/.last.err"
: >"$LAST_OUT"
: >"$LAST_ERR"
LAST_RC=0

# Test accounts must be able to exec the server: the checkout may sit where
# they cannot traverse, so run copies from a 0755 directory.
cp "$HS_BIN/hindsight-server" "$SCRATCH/bin/" || fatal "copy hindsight-server"
[ -x "$HS_BIN/hindsight" ] && cp "$HS_BIN/hindsight" "$SCRATCH/bin/"
chmod 755 "$SCRATCH/bin"/*
HS_SERVER="$SCRATCH/bin/hindsight-server"
HS_CLIENT="$SCRATCH/bin/hindsight"

HS_ACCOUNTS=()
HS_BG_PIDS=()
HS_AT_CLEANUP=()

# at_cleanup CMD: a shell command (one string) to run at exit, after the
# test accounts are gone and before the scratch directory is removed, such
# as unmounting a file system the test mounted below it. The last one
# registered runs first.
at_cleanup() { HS_AT_CLEANUP=("$1" ${HS_AT_CLEANUP[@]+"${HS_AT_CLEANUP[@]}"}); }

SSHD_PIDFILE="$SCRATCH/sshd/sshd.pid"
SSHD_LOG=
SSHD_PORT=

# bg LOG CMD...: start CMD in the background, stdout and stderr to LOG,
# and remember its pid in BG_PID and for cleanup. Give a plain command (not
# a function) so that the pid is the command's own.
bg() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 &
	BG_PID=$!
	HS_BG_PIDS+=("$BG_PID")
}

_t_cleanup() {
	local rc=$? u pid i
	trap - EXIT INT TERM HUP
	# background commands of ours not yet waited for (a waited-for pid may
	# belong to somebody else by now, so only those the shell still tracks)
	for pid in $(jobs -p); do
		case " ${HS_BG_PIDS[*]} " in *" $pid "*) kill -9 "$pid" 2>/dev/null ;; esac
	done
	stop_sshd
	if [ "$_t_failed" -gt 0 ] || [ "$_t_planned" -eq 0 ]; then
		for f in "$SCRATCH"/sshd/*.log; do
			[ -s "$f" ] || continue
			diag "--- last lines of $f:"
			tail -n 40 "$f" | _t_diag
		done
	fi
	for u in "${HS_ACCOUNTS[@]}"; do
		# what sshd still runs for the account (a serve finishing up) ends first
		for i in $(seq 50); do
			pgrep -u "$u" >/dev/null || break
			sleep 0.1
		done
		for pid in $(pgrep -u "$u"); do
			kill -9 "$pid" 2>/dev/null
		done
		if [ "${HS_KEEP_SCRATCH:-0}" = 1 ]; then
			userdel "$u" >/dev/null 2>&1
		else
			userdel -r "$u" >/dev/null 2>&1 || userdel -f -r "$u" >/dev/null 2>&1
		fi || diag "could not remove account $u"
	done
	for i in ${HS_AT_CLEANUP[@]+"${HS_AT_CLEANUP[@]}"}; do
		eval "$i" || diag "cleanup step failed: $i"
	done
	if [ "${HS_KEEP_SCRATCH:-0}" = 1 ]; then
		diag "scratch kept in $SCRATCH"
	else
		rm -rf "$SCRATCH"
		rmdir "$HS_TEST_BASE" 2>/dev/null
	fi
	[ "$_t_failed" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
	exit "$rc"
}
trap _t_cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- accounts

# new_account SUFFIX: make the account hst<pid><SUFFIX>, home (and default
# backup root) in $SCRATCH/home, shell /bin/sh (sshd runs the forced command
# as `$SHELL -c`). Sets ACCOUNT.
new_account() {
	ACCOUNT="hst$$$1"
	useradd -m -d "$SCRATCH/home/$ACCOUNT" -k "$SCRATCH/skel" -s /bin/sh -U "$ACCOUNT" ||
		fatal "useradd $ACCOUNT"
	HS_ACCOUNTS+=("$ACCOUNT")
	# useradd leaves the password '!' (locked); sshd without PAM refuses
	# locked accounts even for keys. '*': no password, not locked.
	usermod -p '*' "$ACCOUNT" || fatal "usermod $ACCOUNT"
	mkdir -p -m 755 "$SCRATCH/client" "$SCRATCH/auth"
	ssh-keygen -q -t ed25519 -N '' -C "$ACCOUNT" -f "$SCRATCH/client/$ACCOUNT.key" ||
		fatal "ssh-keygen for $ACCOUNT"
}

home_of() { echo "$SCRATCH/home/$1"; }

# ---------------------------------------------------------------- sshd

# authorize USER [OPTIONS]: USER's authorized_keys, root-owned and 0644 in
# $SCRATCH/auth, holds the client key with OPTIONS in front (none: a bare
# key, for ForceCommand mode). sshd reads it at every login.
authorize() {
	local u=$1 opts=${2:-}
	{
		[ -n "$opts" ] && printf '%s ' "$opts"
		cat "$SCRATCH/client/$u.key.pub"
	} >"$SCRATCH/auth/$u.tmp"
	chmod 644 "$SCRATCH/auth/$u.tmp"
	mv "$SCRATCH/auth/$u.tmp" "$SCRATCH/auth/$u"
}

# free_port: a TCP port nobody listens on now.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# start_sshd MODE USER...: a real sshd on 127.0.0.1 for the given accounts.
# MODE forcecommand: `Match User` with ForceCommand (and the lockdown that
#   contrib/sshd_config.d/hindsight.conf ships); keys are bare.
# MODE authorized_keys: no ForceCommand; each key line is
#   restrict,command="hindsight-server serve".
# MODE system: keys from /etc/ssh/authorized_keys/%u, as adduser writes them.
# MODE shipped: as system, after the shipped drop-in (only its ForceCommand
#   path changed). In both, the client key is $SCRATCH/client/USER.key.
# Writes a client config per account (ssh_conf USER) with Host "server".
# HS_SERVE_ARGS, if set, is appended to the forced command (e.g.
# "--config $SCRATCH/server.conf"). HS_SSHD_OPTS, if set, holds more global
# sshd_config lines (e.g. "MaxStartups 100:30:200").
start_sshd() {
	local mode=$1 users conf log p u
	shift
	users="$*"
	stop_sshd
	mkdir -p -m 755 "$SCRATCH/sshd" /run/sshd
	chmod 755 /run/sshd
	[ -f "$SCRATCH/sshd/host_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/sshd/host_ed25519" || fatal "host key"
	for u in $users; do
		case $mode in
		forcecommand) authorize "$u" ;;
		authorized_keys) authorize "$u" "restrict,command=\"$HS_SERVER serve${HS_SERVE_ARGS:+ $HS_SERVE_ARGS}\"" ;;
		system | shipped) ;;
		*) fatal "start_sshd: unknown mode $mode" ;;
		esac
	done
	conf="$SCRATCH/sshd/sshd_config"
	[ "$mode" = shipped ] &&
		sed "s|^\(\tForceCommand\) /usr/local/bin/hindsight-server serve\$|\1 $HS_SERVER serve|" \
			"$HS_SRCDIR/contrib/sshd_config.d/hindsight.conf" >"$SCRATCH/sshd/hindsight.conf"
	for _ in 1 2 3 4 5 6 7 8; do
		p=$(free_port) || fatal "no free port"
		log="$SCRATCH/sshd/sshd-$mode-$p.log"
		{
			[ "$mode" = shipped ] && echo "Include $SCRATCH/sshd/hindsight.conf"
			echo "Port $p"
			echo "ListenAddress 127.0.0.1"
			echo "HostKey $SCRATCH/sshd/host_ed25519"
			echo "PidFile $SSHD_PIDFILE"
			echo "UsePAM no"
			echo "StrictModes yes"
			echo "PubkeyAuthentication yes"
			echo "PasswordAuthentication no"
			echo "KbdInteractiveAuthentication no"
			echo "PermitRootLogin no"
			echo "PermitUserEnvironment no"
			echo "AllowUsers $users"
			case $mode in
			system | shipped) echo "AuthorizedKeysFile /etc/ssh/authorized_keys/%u" ;;
			*) echo "AuthorizedKeysFile $SCRATCH/auth/%u" ;;
			esac
			echo "LogLevel VERBOSE"
			echo "PrintMotd no"
			echo "PrintLastLog no"
			# as on a stock server: a forced command must turn sftp away too
			echo "Subsystem sftp /usr/lib/openssh/sftp-server"
			[ -n "${HS_SSHD_OPTS:-}" ] && printf '%s\n' "$HS_SSHD_OPTS"
			if [ "$mode" = forcecommand ]; then
				echo "Match User $(echo "$users" | tr ' ' ,)"
				echo "	ForceCommand $HS_SERVER serve${HS_SERVE_ARGS:+ $HS_SERVE_ARGS}"
				echo "	DisableForwarding yes"
				echo "	AllowAgentForwarding no"
				echo "	X11Forwarding no"
				echo "	PermitTunnel no"
				echo "	PermitTTY no"
				echo "	PermitUserRC no"
			fi
		} >"$conf"
		/usr/sbin/sshd -t -f "$conf" 2>"$log" || fatal "sshd -t rejects $conf" "$(cat "$log")"
		rm -f "$SSHD_PIDFILE"
		/usr/sbin/sshd -f "$conf" -E "$log" || fatal "sshd did not start" "$(cat "$log")"
		# it daemonises before it binds: wait for the pid file (written after
		# listening) or for the bind error
		for _ in $(seq 100); do
			[ -s "$SSHD_PIDFILE" ] && break
			grep -q 'Cannot bind' "$log" && break
			sleep 0.1
		done
		if [ -s "$SSHD_PIDFILE" ] && wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p"; then
			SSHD_PORT=$p
			SSHD_LOG=$log
			break
		fi
		stop_sshd
	done
	[ -n "$SSHD_PORT" ] || fatal "sshd never listened" "$(cat "$log")"
	echo "[127.0.0.1]:$SSHD_PORT $(cat "$SCRATCH/sshd/host_ed25519.pub")" >"$SCRATCH/client/known_hosts"
	for u in $users; do
		write_ssh_conf "$u" "$SCRATCH/client/$u.key" "$SCRATCH/client/$u.ssh_config"
	done
}

# write_ssh_conf USER KEY FILE: a client config where Host "server" is our
# sshd as USER with KEY, the host key pinned.
write_ssh_conf() {
	cat >"$3" <<-EOF
	Host server
	  HostName 127.0.0.1
	  Port $SSHD_PORT
	  User $1
	  IdentityFile $2
	  IdentitiesOnly yes
	  UserKnownHostsFile $SCRATCH/client/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  CheckHostIP no
	  UpdateHostKeys no
	  BatchMode yes
	  ConnectTimeout 10
	  ControlMaster no
	  ControlPath none
	  ForwardAgent no
	  ForwardX11 no
	  LogLevel ERROR
	EOF
	chmod 644 "$3"
}

ssh_conf() { echo "$SCRATCH/client/$1.ssh_config"; }

stop_sshd() {
	local pid
	[ -s "$SSHD_PIDFILE" ] || return 0
	pid=$(cat "$SSHD_PIDFILE")
	# only the sshd this test started: its command line names our config
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$SCRATCH/sshd/sshd_config"; then
		kill "$pid" 2>/dev/null
		wait_until 5 bash -c "! kill -0 $pid 2>/dev/null"
	fi
	rm -f "$SSHD_PIDFILE"
	SSHD_PORT=
}
