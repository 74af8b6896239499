# tests/e2e/invariants.sh: sourced after lib.sh by the reliability tests
# (faults.t and the load tests). The three invariants of issue 9, checked
# after every fault (docs/RELIABILITY.md):
#
#   1. the newest snapshot equals the source:
#        inv_newest_is_source SRC ROOT SUB [RSYNC-OPTION...]
#   2. every earlier snapshot is unchanged in content and attributes:
#        inv_save ROOT DIR            a manifest of each snapshot, before
#        inv_save_new ROOT DIR        (only those new since the last check)
#        inv_unchanged ROOT DIR [may-vanish]
#                                     after: each saved snapshot is still
#                                     there with the same manifest (with
#                                     may-vanish, as after a prune, a
#                                     snapshot may be gone, but whole)
#   3. current names a complete snapshot and nothing half-made is listed:
#        inv_current ROOT [LIST-ARGS...]
#
#   inv_all SRC ROOT SUB DIR [may-vanish]   the three at once (one assert each)
#
# Each is a plain command for assert: it prints what is wrong and fails.
# The manifest (inv_manifest DIR) has one line per entry: path, type,
# mode, uid, gid, size, mtime (ns), its xattrs (hex), and the sha256 of a
# file or the target of a symlink. Link counts, ctimes and inode numbers
# are left out: a later snapshot linking to a file changes the first two.

# inv_manifests ROOT DIR NAME...: DIR/NAME.manifest for each snapshot
# NAME of ROOT, in one pass over them all (a few processes, whatever the
# number of snapshots). Each line: the snapshot, a tab, then the path in it
# and what it holds. Names holding a newline are not told apart.
inv_manifests() {
	local root=$1 dir=$2
	shift 2
	[ $# -gt 0 ] || return 0
	mkdir -p "$dir"
	(
		cd "$root" || exit 1
		find "$@" -printf '%H\t%P\t%y %m %U %G %s %T@ %l\n'
		find "$@" -type f -print0 | xargs -0r sha256sum |
			awk '{ p = substr($0, 67); i = index(p, "/")
			       if (i) print substr(p, 1, i - 1) "\t" substr(p, i + 1) "\tsha256 " $1
			       else print p "\t\tsha256 " $1 }'
		getfattr -R -P -h -d -m - -e hex "$@" 2>/dev/null |
			awk '/^# file: /{ f = substr($0, 9); i = index(f, "/")
			                  if (i) { s = substr(f, 1, i - 1); r = substr(f, i + 1) }
			                  else { s = f; r = "" }
			                  next }
			     /./{ print s "\t" r "\txattr " $0 }'
	) | LC_ALL=C sort | awk -F'\t' -v d="$dir" '{ f = d "/" $1 ".manifest"; print > f }'
}

# inv_manifest DIR: the manifest of one tree (a snapshot), on stdout.
inv_manifest() {
	local t
	t=$(mktemp -d) || return 1
	inv_manifests "$(dirname "$1")" "$t" "$(basename "$1")"
	cat "$t/$(basename "$1").manifest"
	rm -rf "$t"
}

# inv_snapshots ROOT: the snapshot directories, oldest first.
inv_snapshots() {
	find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
		-regex '.*/[0-9]{4}(_[0-9]{2}){5}' -printf '%f\n' | LC_ALL=C sort
}

# inv_save ROOT DIR: DIR/NAME.manifest for each snapshot of ROOT, DIR made
# afresh.
inv_save() {
	rm -rf "$2"
	mkdir -p "$2"
	# shellcheck disable=SC2046
	inv_manifests "$1" "$2" $(inv_snapshots "$1")
}

# inv_save_new ROOT DIR: the same, after inv_unchanged said the saved ones
# still hold: only the snapshots new since are read, and those gone dropped.
inv_save_new() {
	local root=$1 dir=$2 s f new=()
	for f in "$dir"/*.manifest; do
		[ -e "$f" ] || continue
		s=$(basename "$f" .manifest)
		[ -d "$root/$s" ] || rm -f "$f"
	done
	for s in $(inv_snapshots "$root"); do
		[ -e "$dir/$s.manifest" ] || new+=("$s")
	done
	inv_manifests "$root" "$dir" ${new[@]+"${new[@]}"}
}

# inv_unchanged ROOT DIR [may-vanish]: invariant 2.
inv_unchanged() {
	local root=$1 dir=$2 vanish=${3:-} f s bad=0 now=() t
	for f in "$dir"/*.manifest; do
		[ -e "$f" ] || continue
		s=$(basename "$f" .manifest)
		if [ -d "$root/$s" ]; then
			now+=("$s")
		elif [ "$vanish" != may-vanish ]; then
			echo "snapshot $s is gone"
			bad=1
		fi
	done
	[ -e "$f" ] || { echo "no manifest saved in $dir"; return 1; }
	t=$(mktemp -d) || return 1
	inv_manifests "$root" "$t" ${now[@]+"${now[@]}"}
	for s in ${now[@]+"${now[@]}"}; do
		if ! cmp -s "$dir/$s.manifest" "$t/$s.manifest"; then
			echo "snapshot $s changed:"
			diff "$dir/$s.manifest" "$t/$s.manifest" | head -20
			bad=1
		fi
	done
	rm -rf "$t"
	return $bad
}

# inv_newest_is_source SRC ROOT SUB [RSYNC-OPTION...]: invariant 1. SUB is
# where the push put SRC inside a snapshot (its basename for
# `rsync SRC server:`). Give -M--fake-super for a root an unprivileged
# server wrote.
inv_newest_is_source() {
	local src=$1 root=$2 sub=$3 newest
	shift 3
	newest=$(inv_snapshots "$root" | tail -n 1)
	[ -n "$newest" ] || { echo "no snapshot in $root"; return 1; }
	[ -d "$root/$newest/$sub" ] || { echo "$root/$newest/$sub does not exist"; return 1; }
	same_as_source "$src" "$root/$newest/$sub" -HAX --numeric-ids "$@" && return 0
	echo "(the newest snapshot is $newest)"
	return 1
}

# inv_current ROOT [LIST-ARGS...]: invariant 3. `current` is a symlink to
# the newest snapshot; `hindsight list --json` (against ROOT, or with the
# LIST-ARGS given, such as --repo server: --ssh ...) lists exactly the
# snapshot directories, each complete, with current the newest; each has
# its metadata; no interrupted publish (pending.json), no inprogress tree
# (an empty one is nothing, nor a clone made ahead for the next push),
# no current.tmp, nothing else in ROOT.
inv_current() {
	local root=$1 json names listed cur newest other bad=0 s
	shift
	[ $# -gt 0 ] || set -- --repo "$root"
	names=$(inv_snapshots "$root")
	newest=$(echo "$names" | tail -n 1)
	[ -n "$newest" ] || { echo "no snapshot in $root"; return 1; }
	cur=$(readlink "$root/current") || { echo "$root/current is not a symlink"; return 1; }
	[ "$cur" = "$newest" ] || { echo "current names '$cur', the newest is $newest"; bad=1; }
	json=$("$HS_CLIENT" list --json "$@" 2>&1) || { echo "hindsight list failed: $json"; return 1; }
	listed=$(echo "$json" | jq -r '.snapshots[].name') || { echo "not JSON: $json"; return 1; }
	[ "$listed" = "$names" ] || { echo "list says:"; echo "$listed"; echo "the directory holds:"; echo "$names"; bad=1; }
	[ "$(echo "$json" | jq -r .current)" = "$newest" ] ||
		{ echo "list's current is $(echo "$json" | jq -r .current), not $newest"; bad=1; }
	other=$(echo "$json" | jq -r '.snapshots[] | select(.status != "complete") | "\(.name) \(.status)"')
	[ -z "$other" ] || { echo "not complete: $other"; bad=1; }
	for s in $names; do
		[ -s "$root/.hindsight/snapshots/$s.json" ] || { echo "$s has no metadata"; bad=1; }
	done
	for s in .hindsight/pending.json current.tmp; do
		if [ -e "$root/$s" ] || [ -L "$root/$s" ]; then
			echo "$root/$s is left"
			bad=1
		fi
	done
	# a sealed root keeps an empty inprogress/ of the account's, or the next
	# push's clone of the newest snapshot, made ahead (work/ahead) once the
	# process making it lets the lock go
	if [ -e "$root/inprogress" ] || [ -L "$root/inprogress" ]; then
		wait_until 30 lock_is_free "$root" || { echo "$root: the lock is still held"; bad=1; }
		if [ -L "$root/inprogress" ] || { [ -n "$(ls -A "$root/inprogress")" ] &&
			! [ -e "$root/.hindsight/work/ahead" ]; }; then
			echo "$root/inprogress is left, not empty"
			bad=1
		fi
	fi
	other=$(find "$root" -mindepth 1 -maxdepth 1 ! -name .hindsight ! -name current ! -name inprogress \
		-regextype posix-extended ! -regex '.*/[0-9]{4}(_[0-9]{2}){5}' -printf '%f\n')
	[ -z "$other" ] || { echo "more in $root: $other"; bad=1; }
	return $bad
}

# inv_all SRC ROOT SUB DIR [may-vanish] [-- RSYNC-OPTION...]: the three
# invariants, one assert each, labelled with $INV_LABEL.
inv_all() {
	local src=$1 root=$2 sub=$3 dir=$4 vanish=
	shift 4
	if [ "${1:-}" = may-vanish ]; then vanish=may-vanish; shift; fi
	[ "${1:-}" = -- ] && shift
	assert "${INV_LABEL:-}the newest snapshot equals the source" \
		inv_newest_is_source "$src" "$root" "$sub" "$@"
	assert "${INV_LABEL:-}every earlier snapshot is unchanged" inv_unchanged "$root" "$dir" $vanish
	assert "${INV_LABEL:-}current names a complete snapshot, nothing half-made listed" \
		inv_current "$root" ${INV_LIST_ARGS[@]+"${INV_LIST_ARGS[@]}"}
}
