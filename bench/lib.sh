# shellcheck shell=bash
# bench/lib.sh: sourced by bench/bench.sh. The scene (an XFS image, a
# test account, a real sshd on loopback), its teardown, and the timer that
# runs competitors alternately through hyperfine.
#
# The sshd and the account follow tests/e2e/lib.sh: an sshd on 127.0.0.1
# with its own config, host key and pid file; an account made with useradd
# (shell /bin/sh, password '*') and removed on exit; its keys in a
# root-owned file that sshd reads (StrictModes stays on, so that file
# lives below a root-owned 0755 directory, not below /tmp or /var/tmp).
# One account, several keys: each key's forced command is a
# `hindsight-server serve --root ...`, except the key for bare rsync,
# which gets a plain shell. So every competitor over ssh runs as the same
# user through the same sshd to the same filesystem.

# ---------------------------------------------------------------- output

say() { printf '# %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- teardown

ACCT=
SSHD_PIDFILE=
declare -a AT_EXIT=()

# at_exit CMD: a command string to run at exit, the last registered first.
at_exit() { AT_EXIT=("$1" ${AT_EXIT[@]+"${AT_EXIT[@]}"}); }

stop_sshd() {
	local pid
	[ -n "$SSHD_PIDFILE" ] && [ -s "$SSHD_PIDFILE" ] || return 0
	pid=$(cat "$SSHD_PIDFILE")
	# only the sshd we started: its command line names our config
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$BENCH_DIR/sshd/sshd_config"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$SSHD_PIDFILE"
}

remove_account() {
	local pid
	[ -n "$ACCT" ] && id "$ACCT" >/dev/null 2>&1 || return 0
	# what sshd still runs for the account (a serve finishing up) ends first
	for _ in $(seq 50); do
		pgrep -u "$ACCT" >/dev/null || break
		sleep 0.1
	done
	for pid in $(pgrep -u "$ACCT"); do
		kill -9 "$pid" 2>/dev/null || true
	done
	userdel "$ACCT" >/dev/null 2>&1 || userdel -f "$ACCT" >/dev/null 2>&1 ||
		echo "bench: could not remove the account $ACCT" >&2
}

teardown() {
	local rc=$? c
	trap - EXIT INT TERM HUP
	stop_sshd
	remove_account
	for c in ${AT_EXIT[@]+"${AT_EXIT[@]}"}; do
		eval "$c" || echo "bench: cleanup step failed: $c" >&2
	done
	if mountpoint -q "$MNT" 2>/dev/null; then
		umount "$MNT" || umount -l "$MNT" || echo "bench: could not unmount $MNT" >&2
	fi
	rmdir "$MNT" 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench: kept $BENCH_DIR" >&2
	else
		rm -rf "$BENCH_DIR"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- the scene

# make_fs: a sparse IMG_SIZE image in BENCH_DIR with mkfs.xfs's defaults,
# loop-mounted on MNT.
make_fs() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		die "$MNT is mounted already (a bench still running, or left over: umount it)"
	fi
	mkdir -p "$MNT"
	truncate -s "$IMG_SIZE" "$BENCH_DIR/xfs.img"
	mkfs.xfs -q -f "$BENCH_DIR/xfs.img"
	mount -o loop "$BENCH_DIR/xfs.img" "$MNT"
	chmod 755 "$MNT"
}

# make_account: the account ACCT (hsbench<pid>) and a client key per name
# in KEYS, in BENCH_DIR/client.
make_account() {
	ACCT="hsbench$$"
	useradd -M -d "$MNT/home" -s /bin/sh -U "$ACCT" >/dev/null || die "useradd $ACCT"
	# '*': no password, not locked (sshd without PAM refuses '!' even for keys)
	usermod -p '*' "$ACCT" || die "usermod $ACCT"
	install -d -m 755 "$BENCH_DIR/client" "$BENCH_DIR/auth"
	install -d -m 700 -o "$ACCT" -g "$ACCT" "$MNT/home"
}

# key NAME [OPTIONS]: a client key BENCH_DIR/client/NAME, added to the
# account's authorized keys with OPTIONS in front (none: a plain shell).
key() {
	local name=$1 opts=${2:-}
	ssh-keygen -q -t ed25519 -N '' -C "bench-$name" -f "$BENCH_DIR/client/$name" ||
		die "ssh-keygen $name"
	{
		[ -n "$opts" ] && printf '%s ' "$opts"
		cat "$BENCH_DIR/client/$name.pub"
	} >>"$BENCH_DIR/auth/$ACCT"
	chmod 644 "$BENCH_DIR/auth/$ACCT"
	KEY_NAMES="${KEY_NAMES:-} $name"
}

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# start_sshd: sshd on 127.0.0.1 for ACCT, and SSH_CONF, a client config in
# which each key NAME is the Host NAME.
start_sshd() {
	local conf=$BENCH_DIR/sshd/sshd_config p log name
	install -d -m 755 "$BENCH_DIR/sshd" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$BENCH_DIR/sshd/host_ed25519" || die "host key"
	SSHD_PIDFILE=$BENCH_DIR/sshd/sshd.pid
	SSHD_PORT=
	for _ in 1 2 3 4 5 6 7 8; do
		p=$(free_port) || die "no free port"
		log=$BENCH_DIR/sshd/sshd.log
		cat >"$conf" <<-EOF
		Port $p
		ListenAddress 127.0.0.1
		HostKey $BENCH_DIR/sshd/host_ed25519
		PidFile $SSHD_PIDFILE
		UsePAM no
		StrictModes yes
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		PermitUserEnvironment no
		AllowUsers $ACCT
		AuthorizedKeysFile $BENCH_DIR/auth/%u
		LogLevel INFO
		PrintMotd no
		PrintLastLog no
		MaxStartups 50
		EOF
		/usr/sbin/sshd -t -f "$conf" 2>"$log" || die "sshd -t rejects $conf: $(cat "$log")"
		rm -f "$SSHD_PIDFILE"
		/usr/sbin/sshd -f "$conf" -E "$log" || die "sshd did not start: $(cat "$log")"
		for _ in $(seq 100); do
			[ -s "$SSHD_PIDFILE" ] && break
			grep -q 'Cannot bind' "$log" && break
			sleep 0.1
		done
		if [ -s "$SSHD_PIDFILE" ]; then
			SSHD_PORT=$p
			break
		fi
		stop_sshd
	done
	[ -n "$SSHD_PORT" ] || die "sshd never listened: $(cat "$log")"
	echo "[127.0.0.1]:$SSHD_PORT $(cat "$BENCH_DIR/sshd/host_ed25519.pub")" >"$BENCH_DIR/client/known_hosts"
	SSH_CONF=$BENCH_DIR/client/ssh_config
	: >"$SSH_CONF"
	for name in $KEY_NAMES; do
		cat >>"$SSH_CONF" <<-EOF
		Host $name
		  HostName 127.0.0.1
		  Port $SSHD_PORT
		  User $ACCT
		  IdentityFile $BENCH_DIR/client/$name
		  IdentitiesOnly yes
		  UserKnownHostsFile $BENCH_DIR/client/known_hosts
		  GlobalKnownHostsFile /dev/null
		  StrictHostKeyChecking yes
		  CheckHostIP no
		  UpdateHostKeys no
		  BatchMode yes
		  ControlMaster no
		  ControlPath none
		  ForwardAgent no
		  ForwardX11 no
		  LogLevel ERROR
		EOF
	done
}

# ---------------------------------------------------------------- timing

# compare GROUP CASE VARIANT...: time the variants against each other.
# WARMUP rounds that are not counted, then RUNS rounds. Each round is one
# hyperfine call that runs every variant once (--runs 1), in an order
# rotated by one place per round, each after its own --prepare (prep_of),
# so that noise from the rest of the machine falls on all of them alike.
# Appends "GROUP CASE VARIANT ROUND SECONDS USER SYSTEM" to $OUT/runs.tsv
# (round <= 0: warm-up). After the first round, check_of VARIANT is run
# on what it left behind.
compare() {
	local group=$1 case=$2 r i v n json
	shift 2
	local -a vs=("$@") args
	n=${#vs[@]}
	json=$OUT/round.json
	for r in $(seq $((1 - WARMUP)) "$RUNS"); do
		args=()
		for i in $(seq 0 $((n - 1))); do
			v=${vs[$(((i + r + 1000 * n) % n))]}
			args+=(--prepare "$(prep_of "$group" "$case" "$v")" -n "$v"
				"$(cmd_of "$group" "$case" "$v")")
		done
		hyperfine -N --runs 1 --style none --export-json "$json" "${args[@]}" >/dev/null ||
			die "$group/$case: a command failed in round $r (run it by hand: the commands are above)"
		jq -r --arg g "$group" --arg c "$case" --arg r "$r" \
			'.results[] | [$g, $c, .command, $r, .times[0], .user, .system] | @tsv' \
			"$json" >>"$OUT/runs.tsv"
		say "$group/$case round $r$([ "$r" -le 0 ] && echo ' (warm-up)'): $(
			jq -r '[.results[] | "\(.command) \(.times[0] * 100 | round / 100)s"] | join(", ")' "$json")"
		if [ "$r" -eq $((1 - WARMUP)) ]; then
			for v in "${vs[@]}"; do check_of "$group" "$case" "$v"; done
		fi
	done
}

# show_commands GROUP CASE VARIANT...: each variant's command, as run.
show_commands() {
	local group=$1 case=$2 v
	shift 2
	for v in "$@"; do
		printf '%s\t%s\t%s\t%s\n' "$group" "$case" "$v" "$(cmd_of "$group" "$case" "$v")" >>"$OUT/commands.tsv"
		say "$group/$case $v: $(cmd_of "$group" "$case" "$v")"
	done
}

# new_inodes DIR: "FILES NEW" for the regular files below DIR, NEW being
# those with one link (not shared with a basis).
new_inodes() {
	echo "$(find "$1" -type f | wc -l) $(find "$1" -type f -links 1 | wc -l)"
}

# expect_links WHAT DIR CASE: the tree a push left has every file of the
# source, and shares with its basis what did not change: every file new
# for a full push, none for no change, at most 2% for the 1% case. A
# failed link is silently a copy (Landlock, a regime mismatch), and the
# timing would then measure something else.
expect_links() {
	local what=$1 dir=$2 case=$3 files new want
	read -r files new <<<"$(new_inodes "$dir")"
	want=$(find "$MNT/src" -type f | wc -l)
	say "check $what: $files files, $new not shared with the basis"
	[ "$files" -eq "$want" ] || die "$what: $files files in $dir, the source has $want"
	case $case in
	full) [ "$new" -eq "$files" ] || die "$what: a full push shares files with something" ;;
	none) [ "$new" -eq 0 ] || die "$what: $new files were copied, not linked" ;;
	*) [ "$new" -le $((files / 50)) ] || die "$what: $new files were copied, not linked" ;;
	esac
}
