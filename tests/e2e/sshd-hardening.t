#!/bin/bash
# What sshd itself must refuse or ignore for a backup account, over a real
# sshd in both modes: ForceCommand from the shipped drop-in
# (contrib/sshd_config.d/hindsight.conf, included as it is, with only the
# group, the server's path and the keys file adjusted) and
# restrict,command="..." in authorized_keys. docs/SECURITY.md, "The sshd
# settings", gives the reason for each setting tested here.
#
# A terminal, agent and X11 forwarding, tunnels, variables sent with
# SendEnv or SetEnv, and a ~/.ssh/environment, ~/.ssh/rc,
# ~/.ssh/authorized_keys or ~/.pam_environment the account planted itself:
# each is refused (ssh exits 255, its own failure code) or has no effect
# (the command is still judged by serve, which refuses a login without one
# with 12). The PAM case runs sshd again with UsePAM yes and this machine's
# /etc/pam.d/sshd, first as it is (a control: Debian 12's reads
# ~/.pam_environment), then without pam_env's user_readenv=1, as
# docs/SECURITY.md asks.
#
# A "held" session is a dry-run push left waiting for the client's first
# bytes, so that the test can look at the processes sshd started for the
# account: their terminal, their environment, what they left in /tmp.
#
# The refusals of sftp, scp, shells and port forwarding are in hostile.t.
. "$(dirname "$0")/lib.sh"

SHIPPED="$HS_SRCDIR/contrib/sshd_config.d/hindsight.conf"
DRYRUN='rsync --server -n -logDtpre.iLsfxCIvu . .'
GROUP="hsg$$"
# what a hostile client would like to run in the account's processes
EVIL_SO="/tmp/hs-evil.$$.so"
EVIL_SH="/tmp/hs-evil.$$.sh"
MARKS="/tmp/hs-evil.$$.marks"

command -v cc >/dev/null || skip_all "needs cc to build the LD_PRELOAD probe"
command -v ssh-agent >/dev/null || skip_all "needs ssh-agent"
command -v script >/dev/null || skip_all "needs script(1) for a client terminal"

# ---------------------------------------------------------------- probes

# evil.so, when loaded into any process, appends a line to MARKS/uid-UID;
# evil.sh (for BASH_ENV, ENV and ~/.ssh/rc) appends to MARKS/sh-UID. MARKS
# is world-writable, as /tmp is, so that the account could leave a mark.
mkdir -m 1777 "$MARKS" || fatal "mkdir $MARKS"
at_cleanup "rm -rf '$MARKS' '$EVIL_SO' '$EVIL_SH'"
cat >"$SCRATCH/evil.c" <<EOF
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void evil(void)
{
	char path[256], line[64];
	snprintf(path, sizeof(path), "$MARKS/uid-%u", (unsigned)getuid());
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
	if (fd >= 0) {
		int n = snprintf(line, sizeof(line), "pid %d\n", (int)getpid());
		if (write(fd, line, (size_t)n) < 0) {
			/* nothing to do */
		}
		close(fd);
	}
}
EOF
cc -shared -fPIC -o "$EVIL_SO" "$SCRATCH/evil.c" || fatal "cc -shared evil.c"
printf '#!/bin/sh\necho "pid $$" >>%s/sh-$(id -u)\n' "$MARKS" >"$EVIL_SH"
chmod 755 "$EVIL_SO" "$EVIL_SH"

# marks_of UID: the marks left by processes of UID (none: nothing printed).
marks_of() { cat "$MARKS/uid-$1" "$MARKS/sh-$1" 2>/dev/null; }

no_marks_of() {
	local m
	m=$(marks_of "$1")
	[ -z "$m" ] && return 0
	echo "code planted by the client ran as uid $1:"
	ls -l "$MARKS"
	echo "$m"
	return 1
}

has_marks_of() { [ -n "$(marks_of "$1")" ] || { echo "no mark from uid $1"; ls -l "$MARKS"; return 1; }; }

# ---------------------------------------------------------------- sshd

# start_shipped_sshd USER: a real sshd whose configuration includes the
# shipped drop-in, first, as Debian's sshd_config does. Three lines are
# adjusted (the group, the path of hindsight-server, the keys directory),
# and the test fails if any other line differs or one of the three is
# missing. The rest of the main configuration is lib.sh's, plus Debian's
# stock "AcceptEnv LANG LC_*"; its AuthorizedKeysFile is sshd's default, in
# the account's home, which the drop-in must override.
start_shipped_sshd() {
	local u=$1 conf="$SCRATCH/sshd/sshd_config" dropin="$SCRATCH/sshd/hindsight.conf" p log
	stop_sshd
	mkdir -p -m 755 "$SCRATCH/sshd" /run/sshd
	chmod 755 /run/sshd
	[ -f "$SCRATCH/sshd/host_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/sshd/host_ed25519" || fatal "host key"
	getent group "$GROUP" >/dev/null || {
		groupadd "$GROUP" || fatal "groupadd $GROUP"
		at_cleanup "groupdel '$GROUP'"
	}
	usermod -a -G "$GROUP" "$u" || fatal "usermod -G $GROUP $u"
	authorize "$u"
	sed -e "s|^Match Group hindsight\$|Match Group $GROUP|" \
		-e "s|^\(\tForceCommand\) /usr/local/bin/hindsight-server serve\$|\1 $HS_SERVER serve|" \
		-e "s|^\(\tAuthorizedKeysFile\) /etc/ssh/authorized_keys/%u\$|\1 $SCRATCH/auth/%u|" \
		"$SHIPPED" >"$dropin" || fatal "cannot adjust $SHIPPED"
	[ "$(diff "$SHIPPED" "$dropin" | grep -c '^>')" -eq 3 ] ||
		fatal "the shipped drop-in no longer has the three lines this test adjusts" \
			"$(diff "$SHIPPED" "$dropin")"
	for _ in 1 2 3 4 5 6 7 8; do
		p=$(free_port) || fatal "no free port"
		log="$SCRATCH/sshd/sshd-shipped-$p.log"
		cat >"$conf" <<-EOF
		Include $dropin
		Port $p
		ListenAddress 127.0.0.1
		HostKey $SCRATCH/sshd/host_ed25519
		PidFile $SSHD_PIDFILE
		UsePAM no
		StrictModes yes
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		AllowUsers $u
		AcceptEnv LANG LC_*
		LogLevel VERBOSE
		PrintMotd no
		PrintLastLog no
		Subsystem sftp /usr/lib/openssh/sftp-server
		EOF
		/usr/sbin/sshd -t -f "$conf" 2>"$log" || fatal "sshd -t rejects $conf" "$(cat "$log")"
		rm -f "$SSHD_PIDFILE"
		/usr/sbin/sshd -f "$conf" -E "$log" || fatal "sshd did not start" "$(cat "$log")"
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
	write_ssh_conf "$u" "$SCRATCH/client/$u.key" "$SCRATCH/client/$u.ssh_config"
}

# restart_sshd_with_pam STACK: the same sshd on the same port with UsePAM
# yes, and PAM service PAM_SERVICE: this machine's /etc/pam.d/sshd as it is
# (STACK "stock") or with pam_env's user_readenv=1 taken out, as
# docs/SECURITY.md asks ("fixed"). sshd names its PAM service after the
# name it runs under, so it runs as a symlink of that name.
PAM_SERVICE="hindsight-e2e-$$"
restart_sshd_with_pam() {
	local conf="$SCRATCH/sshd/sshd_config" p=$SSHD_PORT log="$SCRATCH/sshd/sshd-pam-$1-$SSHD_PORT.log"
	if [ ! -L "$SCRATCH/sshd/$PAM_SERVICE" ]; then
		at_cleanup "rm -f '/etc/pam.d/$PAM_SERVICE'"
		ln -sf /usr/sbin/sshd "$SCRATCH/sshd/$PAM_SERVICE"
	fi
	case $1 in
	stock) cp /etc/pam.d/sshd "/etc/pam.d/$PAM_SERVICE" ;;
	fixed) sed 's/[[:space:]]user_readenv=1//' /etc/pam.d/sshd >"/etc/pam.d/$PAM_SERVICE" ;;
	esac || fatal "cannot write /etc/pam.d/$PAM_SERVICE"
	stop_sshd
	sed -i 's/^UsePAM no$/UsePAM yes/' "$conf"
	grep -qx 'UsePAM yes' "$conf" || fatal "no UsePAM line in $conf"
	rm -f "$SSHD_PIDFILE"
	"$SCRATCH/sshd/$PAM_SERVICE" -f "$conf" -E "$log" || fatal "sshd with PAM did not start"
	if ! wait_until 10 test -s "$SSHD_PIDFILE" ||
		! wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p"; then
		fatal "sshd with PAM never listened" "$(cat "$log")"
	fi
	SSHD_PORT=$p
	SSHD_LOG=$log
}

# serve_has VAR=VALUE: serve's environment holds exactly that variable.
serve_has() {
	local pid
	pid=$(pgrep -u "$ACC" -x hindsight-serve | head -1)
	[ -n "$pid" ] || { echo "no serve process"; return 1; }
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "$1" && return 0
	echo "serve's environment lacks $1:"
	tr '\0' '\n' <"/proc/$pid/environ"
	return 1
}

# effective_is KEYWORD VALUE: what `sshd -T` says sshd applies to the
# account's connections.
effective_is() {
	local got
	got=$(/usr/sbin/sshd -T -f "$SCRATCH/sshd/sshd_config" \
		-C "user=$ACC,host=localhost,addr=127.0.0.1" 2>&1 | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }')
	is_eq "$got" "$2"
}

# ---------------------------------------------------------------- sessions

# session_pids: the account's processes other than sshd's own (the shell,
# serve, rsync).
session_pids() {
	local pid exe
	for pid in $(pgrep -u "$ACC"); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case ${exe##*/} in sshd*) continue ;; esac
		echo "$pid"
	done
}

# hold NAME CMD...: run CMD (an ssh that starts a dry-run push) with its
# stdin on a fifo that this shell holds open, and wait until the account
# runs rsync. release ends it.
hold() {
	local name=$1 fifo="$SCRATCH/$1.fifo" before
	shift
	before=$(pgrep -c -u "$ACC" -x rsync)
	mkfifo "$fifo"
	# without the write ends of the other held sessions' fifos, or those
	# would never see their input end
	(
		for fd in ${HELD_FDS[@]+"${HELD_FDS[@]}"}; do
			exec {fd}>&-
		done
		exec "$@" <"$fifo" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	) &
	HELD_PID=$!
	HS_BG_PIDS+=("$HELD_PID")
	exec {HELD_FD}>"$fifo"
	HELD_FDS+=("$HELD_FD")
	HELD_ERR="$SCRATCH/$name.err"
	wait_until 20 rsyncs_above "$before"
}

# rsyncs_above N: the account runs more than N rsync processes.
rsyncs_above() { [ "$(pgrep -c -u "$ACC" -x rsync)" -gt "$1" ]; }

# release: close the held session's stdin. rsync reads EOF before the
# protocol even started, fails (its code 12), and serve reports exit 1.
HELD_FDS=()
release() {
	local fd fds=()
	exec {HELD_FD}>&-
	for fd in "${HELD_FDS[@]}"; do
		[ "$fd" = "$HELD_FD" ] || fds+=("$fd")
	done
	HELD_FDS=(${fds[@]+"${fds[@]}"})
	wait "$HELD_PID"
	HELD_RC=$?
}

held_ended_as_expected() {
	if [ "$HELD_RC" -ne 1 ]; then
		echo "the held session ended with $HELD_RC$(_t_signal_note "$HELD_RC"), wanted 1"
		cat "$HELD_ERR"
		return 1
	fi
	grep -q 'connection unexpectedly closed' "$HELD_ERR" ||
		{ echo "rsync did not report the closed connection:"; cat "$HELD_ERR"; return 1; }
}

# no_terminal: no process of the session has a controlling terminal or a
# terminal on fds 0-2.
no_terminal() {
	local pid tty fd t n=0
	for pid in $(session_pids); do
		n=$((n + 1))
		tty=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f5)
		[ "$tty" = 0 ] || { echo "pid $pid ($(cat "/proc/$pid/comm")) has tty_nr $tty"; return 1; }
		for fd in 0 1 2; do
			t=$(readlink "/proc/$pid/fd/$fd")
			case $t in /dev/pts/* | /dev/tty*) echo "pid $pid fd $fd is $t"; return 1 ;; esac
		done
	done
	[ "$n" -ge 2 ] || { echo "found only $n session processes"; return 1; }
}

# env_lacks NAME...: no session process has any of these variables.
env_lacks() {
	local pid name
	for pid in $(session_pids); do
		for name in "$@"; do
			if tr '\0' '\n' <"/proc/$pid/environ" | grep -q "^$name="; then
				echo "pid $pid ($(cat "/proc/$pid/comm")) has $(tr '\0' '\n' <"/proc/$pid/environ" | grep "^$name=")"
				return 1
			fi
		done
	done
}

# serve_got_command CMD: serve's SSH_ORIGINAL_COMMAND is exactly CMD.
serve_got_command() {
	local pid got
	pid=$(pgrep -u "$ACC" -x hindsight-serve | head -1)
	[ -n "$pid" ] || { echo "no serve process"; return 1; }
	got=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^SSH_ORIGINAL_COMMAND=//p')
	is_eq "$got" "$1"
}

serve_home_is() {
	local pid got
	pid=$(pgrep -u "$ACC" -x hindsight-serve | head -1)
	[ -n "$pid" ] || { echo "no serve process"; return 1; }
	got=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^HOME=//p')
	is_eq "$got" "$1"
}

# rsync_env_is_clean: rsync's environment is exactly the three variables
# serve builds.
rsync_env_is_clean() {
	local pid got
	pid=$(pgrep -u "$ACC" -x rsync | head -1)
	[ -n "$pid" ] || { echo "no rsync process"; return 1; }
	got=$(tr '\0' '\n' <"/proc/$pid/environ" | sort | tr '\n' ' ')
	is_eq "$got" "HOME=/nonexistent LC_ALL=C PATH=/usr/bin:/bin "
}

nothing_in_tmp_from_account() {
	local found
	found=$(find /tmp /var/tmp /dev/shm -xdev -maxdepth 2 -user "$ACC" 2>/dev/null)
	[ -z "$found" ] || { echo "files of $ACC in /tmp:"; echo "$found"; return 1; }
}

account_listens_nowhere() {
	local l
	l=$(ss -Htlne 2>/dev/null | grep -w "uid:$ACC_UID")
	[ -z "$l" ] || { echo "the account listens: $l"; return 1; }
}

# ---------------------------------------------------------------- checks

root_unchanged() { same_tree_state "$ROOT_STATE" "$ROOT"; }

# ssh_v_says TEXT: the client's -v output shows it asked for what it was
# told to (so that a refusal is not just a request never sent).
ssh_v_says() { last_err_has "$1"; }

# pushed_one_snapshot N: the root holds N + 1 snapshots.
pushed_one_snapshot() {
	local before=$1 after
	after=$(snapshots "$ROOT" | wc -l)
	is_eq "$after" $((before + 1))
}

newest() { snapshots "$ROOT" | tail -n 1; }

earlier_unchanged() {
	local s
	for s in $(snapshots "$ROOT"); do
		[ -f "$SCRATCH/$MODE.state.$s" ] || continue
		same_tree_state "$SCRATCH/$MODE.state.$s" "$ROOT/$s" || return 1
	done
}

record_snapshots() {
	local s
	for s in $(snapshots "$ROOT"); do
		[ -f "$SCRATCH/$MODE.state.$s" ] || tree_state "$ROOT/$s" >"$SCRATCH/$MODE.state.$s"
	done
}

# ---------------------------------------------------------------- scenario

scenario() {
	MODE=$1
	new_account "${MODE:0:1}"
	ACC=$ACCOUNT
	ACC_UID=$(id -u "$ACC")
	ROOT=$(home_of "$ACC")
	ROOT_STATE="$SCRATCH/$MODE.root-state"
	local m="[$MODE]" src="$SCRATCH/$MODE/src" conf n

	# what code running as the account (or an admin's mistake) could plant
	# in the home, which is also the backup root
	install -d -m 700 -o "$ACC" -g "$ACC" "$ROOT/.ssh"
	printf 'LD_PRELOAD=%s\nBASH_ENV=%s\nENV=%s\n' "$EVIL_SO" "$EVIL_SH" "$EVIL_SH" \
		>"$ROOT/.ssh/environment"
	printf '. %s\n' "$EVIL_SH" >"$ROOT/.ssh/rc"
	# read by pam_env with user_readenv=1 (Debian 12's /etc/pam.d/sshd)
	printf 'LD_PRELOAD DEFAULT=%s\nHS_PAM_PLANTED DEFAULT=yes\n' "$EVIL_SO" >"$ROOT/.pam_environment"
	chown "$ACC:$ACC" "$ROOT/.pam_environment"
	ssh-keygen -q -t ed25519 -N '' -C planted -f "$SCRATCH/$ACC.planted" || fatal "ssh-keygen"
	cp "$SCRATCH/$ACC.planted.pub" "$ROOT/.ssh/authorized_keys"
	chown "$ACC:$ACC" "$ROOT/.ssh"/*
	chmod 600 "$ROOT/.ssh"/*

	if [ "$MODE" = forcecommand ]; then
		start_shipped_sshd "$ACC"
	else
		start_sshd authorized_keys "$ACC"
	fi
	conf=$(ssh_conf "$ACC")
	# every ssh and rsync is bounded in time: a setting that stopped
	# working must fail the test, not hang it (a terminal, for one, keeps
	# a session open after its input ends)
	SSH=(timeout 20 ssh -F "$conf")

	if [ "$MODE" = forcecommand ]; then
		assert "$m sshd -t accepts the configuration that includes the shipped drop-in" \
			succeeds /usr/sbin/sshd -t -f "$SCRATCH/sshd/sshd_config"
		while read -r k v; do
			assert "$m sshd -T applies '$k $v' to the account" effective_is "$k" "$v"
		done <<-EOF
		forcecommand $HS_SERVER serve
		authorizedkeysfile $SCRATCH/auth/%u
		authenticationmethods publickey
		disableforwarding yes
		allowagentforwarding no
		allowtcpforwarding no
		allowstreamlocalforwarding no
		x11forwarding no
		permittunnel no
		permittty no
		permituserrc no
		permituserenvironment no
		maxsessions 2
		EOF
	fi

	mkdir -p "$src/docs"
	echo "precious" >"$src/docs/a.txt"
	random_file "$src/docs/b.bin" 16
	assert "$m an honest push makes a first snapshot" \
		succeeds timeout 60 rsync -a -e "ssh -F $conf" "$src" server:
	record_snapshots
	tree_state "$ROOT" >"$ROOT_STATE"

	# -------- a terminal
	assert "$m a pty request with no command (ssh -tt) is refused: ssh exits 255" \
		ssh_fails "${SSH[@]}" -tt server
	assert "$m ... ssh says the pty was refused" last_err_has "PTY allocation request failed"
	assert "$m ... the backup root is unchanged" root_unchanged

	assert "$m a pty request for rsync --server (ssh -tt) is refused: ssh exits 255" \
		ssh_fails "${SSH[@]}" -tt -e none server "$DRYRUN"
	assert "$m ... ssh says the pty was refused" last_err_has "PTY allocation request failed"
	assert "$m ... the backup root is unchanged" root_unchanged

	# from a real terminal, ssh asks for a pty and goes on when refused
	assert "$m a login from a terminal gets no pty and no shell: serve refuses it (12)" \
		must_fail 12 timeout 20 script -qec "ssh -F $conf server" /dev/null
	assert "$m ... the pty was refused" grep -q "PTY allocation request failed" "$LAST_OUT"
	assert "$m ... and serve refused the login for having no command" \
		grep -q "hindsight-server: refused: no command given" "$LAST_OUT"
	assert "$m ... the backup root is unchanged" root_unchanged

	# through a multiplexing master that asked for no terminal itself, a
	# refused pty does not end the session: look at what runs
	local mux="$SCRATCH/$MODE.mux"
	assert "$m a multiplexing master connection starts" \
		succeeds "${SSH[@]}" -o ControlMaster=yes -o ControlPath="$mux" -o ControlPersist=no \
		-N -f -T server
	assert "$m a session that asks for a pty through the master runs rsync" \
		hold pty "${SSH[@]}" -o ControlPath="$mux" -tt -e none server "$DRYRUN"
	assert "$m ... no process of it has a terminal (tty_nr 0, fds 0-2 are not a tty)" no_terminal
	release
	assert "$m ... the client was told the pty was refused" grep -q "PTY allocation request failed" "$HELD_ERR"
	assert "$m ... it ends with serve's exit 1 when the client closes its input" held_ended_as_expected
	assert "$m ... the backup root is unchanged" root_unchanged

	# MaxSessions: one push and one query; a third session on the same
	# connection is refused
	if [ "$MODE" = forcecommand ]; then
		local pids=() fds=() i
		for i in 1 2; do
			if hold "mux$i" "${SSH[@]}" -o ControlPath="$mux" server "$DRYRUN"; then
				pids+=("$HELD_PID")
				fds+=("$HELD_FD")
			fi
		done
		assert "$m two sessions over one connection both run (MaxSessions 2)" \
			is_eq "$(pgrep -u "$ACC" -x rsync | wc -l)" 2
		# ssh falls back to a connection of its own when the master's
		# session is refused: point that one at a port nobody listens on
		assert "$m a third session over the same connection is refused: ssh exits 255" \
			ssh_fails "${SSH[@]}" -o ControlPath="$mux" -o Port=1 server "$DRYRUN"
		assert "$m ... because sshd refused to open it" \
			last_err_has "session request failed: Session open refused by peer"
		assert "$m ... and sshd logged why" grep -q "no more sessions" "$SSHD_LOG"
		local rcs=
		for i in 0 1; do
			HELD_PID=${pids[$i]:-0} HELD_FD=${fds[$i]:-}
			[ -n "$HELD_FD" ] && release
			rcs+="${HELD_RC:-none} "
		done
		assert "$m ... the two sessions end with serve's exit 1 when their input ends" \
			is_eq "$rcs" "1 1 "
		assert "$m ... the backup root is unchanged" root_unchanged
	fi
	"${SSH[@]}" -o ControlPath="$mux" -O exit server >/dev/null 2>&1

	# -------- agent forwarding
	local agent_sock="$SCRATCH/$MODE.agent"
	bg "$SCRATCH/$MODE.agent.log" ssh-agent -D -a "$agent_sock"
	local agent_pid=$BG_PID
	wait_until 5 test -S "$agent_sock"
	assert "$m an ssh-agent holds the client's key" \
		succeeds env SSH_AUTH_SOCK="$agent_sock" ssh-add -q "$SCRATCH/client/$ACC.key"
	assert "$m agent forwarding (ssh -A) with no command: serve refuses the login (12)" \
		must_fail 12 env SSH_AUTH_SOCK="$agent_sock" "${SSH[@]}" -v -A server
	assert "$m ... the client did ask for agent forwarding" ssh_v_says "Requesting authentication agent forwarding"
	assert "$m ... the backup root is unchanged" root_unchanged
	assert "$m a held session with agent forwarding runs rsync" \
		hold agent env SSH_AUTH_SOCK="$agent_sock" "${SSH[@]}" -A server "$DRYRUN"
	assert "$m ... no process of it has SSH_AUTH_SOCK" env_lacks SSH_AUTH_SOCK
	assert "$m ... no agent socket (or anything else) of the account in /tmp" nothing_in_tmp_from_account
	release
	assert "$m ... it ends with serve's exit 1" held_ended_as_expected
	kill "$agent_pid" 2>/dev/null
	wait "$agent_pid" 2>/dev/null

	# -------- X11 forwarding
	for x in -X -Y; do
		assert "$m X11 forwarding (ssh $x): serve refuses the login (12)" \
			must_fail 12 env DISPLAY=127.0.0.1:7 "${SSH[@]}" -v "$x" server
		assert "$m ... the client did ask for X11 forwarding" ssh_v_says "Requesting X11 forwarding"
		assert "$m ... and was told it failed" last_err_has "X11 forwarding request failed"
		assert "$m ... the backup root is unchanged" root_unchanged
	done
	assert "$m a held session with X11 forwarding runs rsync" \
		hold x11 env DISPLAY=127.0.0.1:7 "${SSH[@]}" -X server "$DRYRUN"
	assert "$m ... no process of it has DISPLAY or XAUTHORITY" env_lacks DISPLAY XAUTHORITY
	assert "$m ... the account listens on no TCP port (no X11 display)" account_listens_nowhere
	release
	assert "$m ... it ends with serve's exit 1" held_ended_as_expected

	# -------- tunnels
	# (the account could not open /dev/net/tun anyway: sshd's own refusal
	# is what is checked, not that one)
	for t in point-to-point ethernet; do
		assert "$m a tunnel, $t (ssh -w any), is refused: ssh exits 255" \
			ssh_fails "${SSH[@]}" -v -o Tunnel="$t" -w any -o ExitOnForwardFailure=yes server
		assert "$m ... ssh says the tunnel failed" last_err_has "Tunnel forwarding failed"
		assert "$m ... because sshd rejected it (PermitTunnel no)" \
			last_err_has "Remote: Server has rejected tunnel device forwarding"
		assert "$m ... the backup root is unchanged" root_unchanged
	done

	# -------- the environment
	local sendenv=(-o SendEnv=LD_PRELOAD -o SendEnv=LD_LIBRARY_PATH -o SendEnv=RSYNC_PROTECT_ARGS
		-o SendEnv=SSH_ORIGINAL_COMMAND -o SendEnv=BASH_ENV -o SendEnv=ENV -o SendEnv=LC_ALL
		-o SetEnv=LD_PRELOAD="$EVIL_SO" -o SetEnv=HOME="$MARKS")
	local clientenv=(LD_PRELOAD="$EVIL_SO" LD_LIBRARY_PATH=/tmp RSYNC_PROTECT_ARGS=1
		SSH_ORIGINAL_COMMAND="hindsight list" BASH_ENV="$EVIL_SH" ENV="$EVIL_SH" LC_ALL=C.UTF-8)
	# the same as one string for rsync -e, which splits it honouring quotes
	local rsh="env LD_PRELOAD=$EVIL_SO LD_LIBRARY_PATH=/tmp RSYNC_PROTECT_ARGS=1"
	rsh+=" SSH_ORIGINAL_COMMAND='hindsight list' BASH_ENV=$EVIL_SH ENV=$EVIL_SH LC_ALL=C.UTF-8"
	rsh+=" ssh -F $conf ${sendenv[*]}"
	assert "$m SendEnv SSH_ORIGINAL_COMMAND with no command: serve still sees no command (12)" \
		must_fail 12 env "${clientenv[@]}" "${SSH[@]}" -v "${sendenv[@]}" server
	assert "$m ... the client did send the variables" ssh_v_says 'setting env SSH_ORIGINAL_COMMAND = "hindsight list"'
	assert "$m ... the refusal is for the missing command" last_err_has "refused: no command given"
	assert "$m ... the backup root is unchanged" root_unchanged
	assert "$m a held session with SendEnv and SetEnv injection runs rsync" \
		hold env env "${clientenv[@]}" "${SSH[@]}" "${sendenv[@]}" server "$DRYRUN"
	assert "$m ... none of the injected or planted variables reached its processes" \
		env_lacks LD_PRELOAD LD_LIBRARY_PATH RSYNC_PROTECT_ARGS BASH_ENV ENV
	assert "$m ... serve's HOME is the account's, not the one sent" serve_home_is "$ROOT"
	assert "$m ... serve judged the command the client gave, not an injected one" \
		serve_got_command "$DRYRUN"
	assert "$m ... rsync's environment is exactly PATH, LC_ALL=C and HOME=/nonexistent" \
		rsync_env_is_clean
	release
	assert "$m ... it ends with serve's exit 1" held_ended_as_expected
	assert "$m ... the backup root is unchanged" root_unchanged

	# -------- keys the account planted
	write_ssh_conf "$ACC" "$SCRATCH/$ACC.planted" "$SCRATCH/client/$ACC.planted.ssh_config"
	assert "$m a key the account added to its own ~/.ssh/authorized_keys is not accepted: 255" \
		ssh_fails timeout 20 ssh -F "$SCRATCH/client/$ACC.planted.ssh_config" server hindsight list
	assert "$m ... sshd said no" last_err_has "Permission denied"
	assert "$m ... the backup root is unchanged" root_unchanged

	# -------- pushes
	echo "changed" >"$src/docs/a.txt"
	n=$(snapshots "$ROOT" | wc -l)
	assert "$m a push with SendEnv and SetEnv injection works (exit 0)" \
		succeeds timeout 60 rsync -a -e "$rsh" "$src" server:
	assert "$m ... and makes one new snapshot" pushed_one_snapshot "$n"
	assert "$m ... equal to the source" same_as_source "$src" "$ROOT/$(newest)/src" -M--fake-super
	assert "$m ... the earlier snapshots are unchanged" earlier_unchanged
	record_snapshots

	# environment="..." on the key itself: ignored (PermitUserEnvironment no)
	if [ "$MODE" = forcecommand ]; then
		authorize "$ACC" "environment=\"LD_PRELOAD=$EVIL_SO\""
	else
		authorize "$ACC" "restrict,environment=\"LD_PRELOAD=$EVIL_SO\",command=\"$HS_SERVER serve\""
	fi
	echo "changed again" >"$src/docs/a.txt"
	n=$(snapshots "$ROOT" | wc -l)
	assert "$m a push with environment=\"LD_PRELOAD=...\" on the key line works (exit 0)" \
		succeeds timeout 60 rsync -a -e "ssh -F $conf" "$src" server:
	assert "$m ... and makes one new snapshot equal to the source" \
		eval 'pushed_one_snapshot "$n" && same_as_source "$src" "$ROOT/$(newest)/src" -M--fake-super'
	assert "$m ... the earlier snapshots are unchanged" earlier_unchanged
	record_snapshots
	if [ "$MODE" = forcecommand ]; then
		authorize "$ACC"
	else
		authorize "$ACC" "restrict,command=\"$HS_SERVER serve\""
	fi

	# -------- with PAM
	# sshd gives the session what PAM's modules put in the environment, and
	# PermitUserEnvironment does not cover that: pam_env with user_readenv=1
	# reads ~/.pam_environment, in the home that is the backup root
	if [ -f /etc/pam.d/sshd ] && grep -q 'pam_env.so.*user_readenv=1' /etc/pam.d/sshd; then
		cp -p "$ROOT/.pam_environment" "$SCRATCH/pam_environment"
		echo "HS_PAM_PLANTED DEFAULT=yes" >"$ROOT/.pam_environment"
		restart_sshd_with_pam stock
		assert "$m control: with this machine's PAM stack (user_readenv=1) a held session runs rsync" \
			hold pamstock "${SSH[@]}" server "$DRYRUN"
		assert "$m ... and serve did get the variable the account planted in ~/.pam_environment" \
			serve_has HS_PAM_PLANTED=yes
		release
		assert "$m ... it ends with serve's exit 1" held_ended_as_expected
		cp -p "$SCRATCH/pam_environment" "$ROOT/.pam_environment"
	fi
	if [ -f /etc/pam.d/sshd ]; then
		restart_sshd_with_pam fixed
		tree_state "$ROOT" >"$ROOT_STATE"
		assert "$m with UsePAM yes and the PAM stack without user_readenv=1, a held session runs rsync" \
			hold pam "${SSH[@]}" server "$DRYRUN"
		assert "$m ... no variable from the planted ~/.pam_environment (LD_PRELOAD) reached its processes" \
			env_lacks LD_PRELOAD HS_PAM_PLANTED
		release
		assert "$m ... it ends with serve's exit 1" held_ended_as_expected
		assert "$m ... the backup root is unchanged" root_unchanged
	fi

	assert "$m no code planted by the client or in ~/.ssh ever ran as the account" \
		no_marks_of "$ACC_UID"
	assert "$m the account left nothing in /tmp" nothing_in_tmp_from_account

	# -------- and a normal push still works
	local prev
	prev=$(newest)
	random_file "$src/docs/c.bin" 8
	n=$(snapshots "$ROOT" | wc -l)
	assert "$m afterwards a normal push works (exit 0)" \
		succeeds timeout 60 rsync -a -e "ssh -F $conf" "$src" server:
	assert "$m ... and makes one new snapshot equal to the source" \
		eval 'pushed_one_snapshot "$n" && same_as_source "$src" "$ROOT/$(newest)/src" -M--fake-super'
	assert "$m ... whose unchanged file shares its inode with the previous snapshot" \
		same_inode "$ROOT/$prev/src/docs/b.bin" "$ROOT/$(newest)/src/docs/b.bin"
	assert "$m ... the earlier snapshots are unchanged" earlier_unchanged
	stop_sshd
}

# the probes work: were any of them loaded or run as the account, a mark
# would appear
new_account p
assert "the LD_PRELOAD probe leaves a mark when it is loaded as an account" \
	eval "runuser -u $ACCOUNT -- env LD_PRELOAD=$EVIL_SO /bin/true && has_marks_of $(id -u "$ACCOUNT")"
rm -f "$MARKS"/*
assert "the shell probe leaves a mark when bash reads it as BASH_ENV" \
	eval "runuser -u $ACCOUNT -- env BASH_ENV=$EVIL_SH bash -c true && has_marks_of $(id -u "$ACCOUNT")"
rm -f "$MARKS"/*

scenario forcecommand
scenario authorized_keys

done_testing
