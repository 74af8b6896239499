#!/bin/sh
# bench/deps.sh: the Debian packages `make bench` needs beyond the build's
# (scripts/deps.sh): hyperfine times, rsnapshot is a competitor, gnuplot
# draws the plots, xfsprogs makes the filesystem. Not part of `make deps`:
# the tests need none of them. Does nothing when all are installed.
set -eu

PKGS="hyperfine rsnapshot gnuplot-nox xfsprogs time jq python3 rsync \
openssh-server openssh-client passwd util-linux procps iproute2"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "bench deps: missing packages:$missing" >&2
	echo "bench deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "bench deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # one word per package
apt-get install -y -q --no-install-recommends $missing
