#!/bin/bash
# What contrib/ ships for systemd, checked by systemd's own tools: the
# prune service and timer and the sealer's socket and service pass
# systemd-analyze verify, the sysusers.d snippet makes the system group
# hindsight and the vault owner, the tmpfiles.d snippet the
# directories adduser expects with their modes (both into a scratch root,
# never this machine's), and `make install-contrib` puts each file where
# systemd looks, naming the installed hindsight-server (and the sysctl
# drop-in only into the docs).
. "$(dirname "$0")/lib.sh"

for t in systemd-analyze systemd-sysusers systemd-tmpfiles make; do
	command -v "$t" >/dev/null || fatal "$t is installed (make deps)"
done
C="$HS_SRCDIR/contrib"
U="$SCRATCH/units"
mkdir -p "$U" "$SCRATCH/sysroot/etc"

# the units as make install writes them, naming the server under test
for f in hindsight-prune.service hindsight-prune.timer hindsight-sealer.socket hindsight-sealer.service; do
	sed "s|/usr/local/bin/hindsight-server|$HS_SERVER|" "$C/systemd/$f" >"$U/$f"
done
assert "systemd-analyze verify accepts the prune service and timer" \
	succeeds systemd-analyze verify --man=no "$U/hindsight-prune.timer" "$U/hindsight-prune.service"
assert "... with nothing to say" is_eq "$(cat "$LAST_ERR")" ""
assert "systemd-analyze verify accepts the sealer's socket and service" \
	succeeds systemd-analyze verify --man=no "$U/hindsight-sealer.socket" "$U/hindsight-sealer.service"
assert "... with nothing to say" is_eq "$(cat "$LAST_ERR")" ""
assert "the sealer's socket is the default sealer_socket, for group hindsight only" \
	is_eq "$(grep -E '^(ListenStream|SocketGroup|SocketMode|Accept)=' "$C/systemd/hindsight-sealer.socket" | tr '\n' ' ')" \
	"ListenStream=/run/hindsight/sealer.sock SocketGroup=hindsight SocketMode=0660 Accept=no "
assert "the sealer's service runs the sealer" \
	grep -qx "ExecStart=/usr/local/bin/hindsight-server sealer" "$C/systemd/hindsight-sealer.service"
assert "the sysctl drop-in sets fs.protected_hardlinks = 0, and nothing else" \
	is_eq "$(grep -v '^#' "$C/sysctl.d/hindsight.conf" | grep .)" "fs.protected_hardlinks = 0"
assert "the service runs prune --all" \
	grep -qx "ExecStart=/usr/local/bin/hindsight-server prune --all" "$C/systemd/hindsight-prune.service"
assert "the timer starts it daily, and catches up a missed day" \
	is_eq "$(grep -E '^(OnCalendar|Persistent)=' "$C/systemd/hindsight-prune.timer" | tr '\n' ' ')" \
	"OnCalendar=daily Persistent=true "
assert "systemd-analyze rejects a service whose command does not exist (the check bites)" \
	must_fail 1 sh -c 'sed "s|^ExecStart=[^ ]*|ExecStart=/nonexistent/hindsight-server|" \
		"$1/hindsight-prune.service" >"$2/broken.service" &&
		systemd-analyze verify --man=no "$2/broken.service"' sh "$U" "$SCRATCH"

assert "systemd-sysusers makes the group hindsight from the snippet" \
	succeeds systemd-sysusers --root="$SCRATCH/sysroot" "$C/sysusers.d/hindsight.conf"
assert "... a system group, without members" \
	awk -F: '$1 == "hindsight" && $3 < 1000 && $4 == "" { ok = 1 } END { exit !ok }' \
	"$SCRATCH/sysroot/etc/group"
assert "... and the vault owner hindsight-vault, a system user that cannot log in" \
	awk -F: '$1 == "hindsight-vault" && $3 < 1000 && $7 == "/usr/sbin/nologin" { ok = 1 } END { exit !ok }' \
	"$SCRATCH/sysroot/etc/passwd"
assert "systemd-tmpfiles makes the base and the keys directory from the snippet" \
	succeeds systemd-tmpfiles --root="$SCRATCH/sysroot" --create "$C/tmpfiles.d/hindsight.conf"
assert "... both root's, 0755, as adduser requires" \
	is_eq "$(stat -c '%n %U:%G %a' "$SCRATCH/sysroot/srv/hindsight" "$SCRATCH/sysroot/etc/ssh/authorized_keys" |
		sed "s|$SCRATCH/sysroot||" | tr '\n' ' ')" \
	"/srv/hindsight root:root 755 /etc/ssh/authorized_keys root:root 755 "

D="$SCRATCH/dest"
assert "make install-contrib with PREFIX=/usr installs into DESTDIR" \
	succeeds env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$HS_SRCDIR" install-contrib PREFIX=/usr DESTDIR="$D"
assert "... each file where systemd and the docs expect it, mode 0644" \
	is_eq "$(cd "$D" && find . -type f -printf '%m %p\n' | sort)" "$(printf '%s\n' \
		'644 ./usr/lib/systemd/system/hindsight-prune.service' \
		'644 ./usr/lib/systemd/system/hindsight-prune.timer' \
		'644 ./usr/lib/systemd/system/hindsight-sealer.service' \
		'644 ./usr/lib/systemd/system/hindsight-sealer.socket' \
		'644 ./usr/lib/sysusers.d/hindsight.conf' \
		'644 ./usr/lib/tmpfiles.d/hindsight.conf' \
		'644 ./usr/share/doc/hindsight/contrib/sshd_config.d/hindsight.conf' \
		'644 ./usr/share/doc/hindsight/contrib/sysctl.d/hindsight.conf')"
assert "... the service naming /usr/bin/hindsight-server" \
	grep -qx 'ExecStart=/usr/bin/hindsight-server prune --all' "$D/usr/lib/systemd/system/hindsight-prune.service"
assert "... the sealer's service naming /usr/bin/hindsight-server" \
	grep -qx 'ExecStart=/usr/bin/hindsight-server sealer' "$D/usr/lib/systemd/system/hindsight-sealer.service"
assert "... and the sshd drop-in too" \
	grep -qx '	ForceCommand /usr/bin/hindsight-server serve' \
	"$D/usr/share/doc/hindsight/contrib/sshd_config.d/hindsight.conf"
assert "... with no other change to them" \
	is_eq "$(diff "$C/sshd_config.d/hindsight.conf" "$D/usr/share/doc/hindsight/contrib/sshd_config.d/hindsight.conf" |
		grep -c '^>')" "$(grep -c /usr/local/bin/hindsight-server "$C/sshd_config.d/hindsight.conf")"

done_testing
