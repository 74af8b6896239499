#!/bin/sh
# Install the Debian packages that building, the demo and the tests need.
# Does nothing when they are all there already (so no network is needed then).
set -eu

PKGS="gcc make pkg-config clang libclang-rt-14-dev libjansson-dev libinih-dev libcmocka-dev acl python3 \
rsync openssh-server openssh-client attr jq cppcheck groff-base perl procps \
iproute2 passwd coreutils findutils util-linux \
bsdutils systemd cron chromium \
libncurses-dev tmux xfsprogs e2fsprogs btrfs-progs strace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
