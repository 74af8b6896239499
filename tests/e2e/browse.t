#!/bin/bash
# hindsight browse, driven in a real terminal: tmux on a private socket,
# a fixed 100x30 window, keys sent with send-keys and the screen read back
# with capture-pane (polled with a timeout, never a bare sleep). Against a
# local repository and a remote one behind a real sshd (ForceCommand).
#
# Three snapshots of one tree, made by `hindsight backup`:
#   S1  docs/a.txt (v1), docs/gone.txt, a file named odd\x01\xffname
#   S2  docs/a.txt v2, docs/gone.txt deleted, newdir/ created
#   S3  docs/a.txt v3
# so docs/a.txt has exactly three versions and docs/gone.txt is only in S1.
#
# HS_BROWSE_CAPTURE=DIR saves screens of the local case there, the tree's
# path shown as /home/me/project (the README's screenshots come from there).
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
command -v tmux >/dev/null 2>&1 || fatal "tmux is installed (make deps)"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=199"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=199:print_stacktrace=1"

# ------------------------------------------------------------ tmux

TMUX_SOCK="$SCRATCH/tmux.sock"
RC_FILE="$SCRATCH/browse.rc"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
at_cleanup 'tm kill-server >/dev/null 2>&1; true'

# start_browse DIR ARGS...: a fresh 100x30 terminal running bash in DIR,
# where `hindsight browse ARGS...` is typed; its exit code goes to $RC_FILE.
# TERM is screen, or $BROWSE_TERM.
start_browse() {
	local dir=$1 cmd w
	shift
	tm kill-server >/dev/null 2>&1
	rm -f "$RC_FILE"
	tm -f /dev/null new-session -d -x 100 -y 30 -c "$dir" \
		env TERM="${BROWSE_TERM:-screen}" LC_ALL=C.UTF-8 TZ=UTC PS1='$ ' bash --norc --noprofile ||
		fatal "tmux new-session"
	cmd=$(printf '%q ' "$HS_CLIENT" browse "$@")
	tm send-keys -l "$cmd; echo rc=\$? >$(printf '%q' "$RC_FILE")" && tm send-keys Enter
}

keys() { tm send-keys "$@"; }
screen() { tm capture-pane -p; }

# shows REGEX [SECONDS]: within SECONDS (default 15) the screen has a line
# matching REGEX (grep -E). shows_fixed TEXT: the same for a fixed string.
shows() { _shows -E "$1" "${2:-15}"; }
shows_fixed() { _shows -F "$1" 15; }
_shows() {
	local limit=$(($3 * 10)) i=0
	while ! screen | grep -q "$1" -- "$2"; do
		i=$((i + 1))
		if [ "$i" -ge "$limit" ]; then
			echo "the screen never showed '$2':"
			screen
			return 1
		fi
		sleep 0.1
	done
}

# shows_all REGEX...: shows, for each.
shows_all() {
	local re
	for re; do shows "$re" || return 1; done
}

# shows_not REGEX TEXT: the screen shows REGEX, and then does not hold TEXT.
shows_not() {
	shows "$1" || return 1
	! screen | grep -Eq -- "$2" || { echo "the screen holds /$2/:"; screen; return 1; }
}

# versions_rows_are REGEX...: the rows of the versions window, in order,
# and no more.
versions_rows_are() {
	local re
	for re; do shows "$re" || return 1; done
	! screen | grep -Eq "^$(($# + 1)) " || { echo "more than $# versions:"; screen; return 1; }
}

content_is() { is_eq "$(cat -- "$1")" "$2"; }

# capture NAME: with HS_BROWSE_CAPTURE set, the screen into NAME.txt there,
# $T shown as /home/me/project (padded, so the columns stay where they are)
# and the blank rows of the panes after the first two left out.
capture() {
	[ -n "${HS_BROWSE_CAPTURE:-}" ] || return 0
	screen | awk -v t="$T" -v n="/home/me/project" '
		{
			out = ""; line = $0
			while ((i = index(line, t)) > 0) {
				rest = substr(line, i + length(t))
				# the padding goes where the blanks after it start
				j = index(rest, "  ")
				pad = ""
				if (j > 0)
					for (k = 0; k < length(t) - length(n); k++) pad = pad " "
				else
					j = length(rest) + 1
				out = out substr(line, 1, i - 1) n substr(rest, 1, j - 1) pad
				line = substr(rest, j)
			}
			out = out line
			if (out ~ /^ *│ *$/ && ++blank > 2) next
			print out
		}' >"$HS_BROWSE_CAPTURE/$1.txt"
}

# same_pane_edge REGEX1 REGEX2: on the lines matching each, the timeline's
# edge (│) is at the same column (display width, wide characters counted).
same_pane_edge() {
	local a b
	a=$(screen | grep -E -m1 -- "$1" | sed 's/│.*//' | LC_ALL=C.UTF-8 wc -L)
	b=$(screen | grep -E -m1 -- "$2" | sed 's/│.*//' | LC_ALL=C.UTF-8 wc -L)
	[ -n "$a" ] && [ "$a" -gt 0 ] && is_eq "$b" "$a"
}

# killed_with_term PID: SIGTERM to browse makes it exit 130.
killed_with_term() {
	[ -n "$1" ] || { echo "no browse process found"; return 1; }
	kill -TERM "$1" || return 1
	exited 130
}

# exited CODE: browse has exited with CODE (polled).
exited() {
	wait_until 15 test -s "$RC_FILE" || { echo "browse did not exit:"; screen; return 1; }
	is_eq "$(cat "$RC_FILE")" "rc=$1"
}

# terminal_restored: the alternate screen is left, the cursor is shown, and
# the shell's prompt is back.
terminal_restored() {
	is_eq "$(tm display -p '#{alternate_on} #{cursor_flag}')" "0 1" || return 1
	shows '^\$ ?$' 5
}

# screen_consistent W H: a W x H screen: H lines, none wider than W, the
# path at the top, one status line at the bottom naming the snapshot, the
# timeline's header once and each snapshot once, and no raw control byte.
screen_consistent() {
	local w=$1 h=$2 cap
	cap=$(screen)
	is_eq "$(tm display -p '#{window_width}x#{window_height}')" "${w}x$h" || return 1
	[ "$(printf '%s\n' "$cap" | wc -l)" -le "$h" ] || { echo "more than $h lines"; return 1; }
	[ "$(printf '%s\n' "$cap" | LC_ALL=C.UTF-8 wc -L)" -le "$w" ] ||
		{ echo "a line is wider than $w:"; printf '%s\n' "$cap"; return 1; }
	# the path's end stays in sight, however narrow
	printf '%s\n' "$cap" | head -1 | grep -q "/tree/docs *│SNAPSHOTS" ||
		{ echo "no path at the top:"; printf '%s\n' "$cap"; return 1; }
	printf '%s\n' "$cap" | tail -1 | grep -q "(3/3) .*/docs " ||
		{ echo "no status line at the bottom:"; printf '%s\n' "$cap"; return 1; }
	[ "$(printf '%s\n' "$cap" | grep -c '(3/3)')" -eq 1 ] || { echo "not one status line:"; printf '%s\n' "$cap"; return 1; }
	[ "$(printf '%s\n' "$cap" | grep -c 'SNAPSHOTS')" -eq 1 ] || { echo "not one timeline:"; printf '%s\n' "$cap"; return 1; }
	for s in "$L1" "$L2" "$L3"; do
		[ "$(printf '%s\n' "$cap" | grep -c -- "│..$s")" -eq 1 ] ||
			{ echo "snapshot $s is not on the timeline once:"; printf '%s\n' "$cap"; return 1; }
	done
	if printf '%s' "$cap" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'; then
		echo "raw control bytes on the screen"; return 1
	fi
}

# ------------------------------------------------------------ the tree

make_snapshots() {   # LABEL ROOT REPO-ARGS...
	local label=$1 root=$2
	shift 2
	mkdir -p "$T/docs"
	echo v1 >"$T/docs/a.txt"
	echo keep >"$T/docs/gone.txt"
	echo odd >"$T/"$'odd\x01\xffname'
	echo wide >"$T/日本語.txt"
	run "$HS_CLIENT" backup "$@" "$T" || fatal "[$label] backup 1" "$(cat "$LAST_ERR")"
	echo v2-longer >"$T/docs/a.txt"
	rm "$T/docs/gone.txt"
	mkdir "$T/newdir"
	echo n >"$T/newdir/n.txt"
	run "$HS_CLIENT" backup "$@" "$T" || fatal "[$label] backup 2" "$(cat "$LAST_ERR")"
	echo v3 >"$T/docs/a.txt"
	run "$HS_CLIENT" backup "$@" "$T" || fatal "[$label] backup 3" "$(cat "$LAST_ERR")"
	local t0
	t0=$(date +%s%N)
	run "$HS_CLIENT" ls "$@" "$T" || fatal "[$label] ls" "$(cat "$LAST_ERR")"
	diag "[$label] one hindsight ls (list, then ls: two queries) takes $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	read -r S1 S2 S3 <<<"$(snapshots "$root" | tr '\n' ' ')"
	[ -n "$S3" ] || fatal "[$label] three snapshots" "$(snapshots "$root")"
	L1=$(date -u -d "$(echo "$S1" | sed -E 's/^(....)_(..)_(..)_(..)_(..)_(..)$/\1-\2-\3 \4:\5:\6/')" '+%Y-%m-%d %H:%M:%S')
	L2=$(date -u -d "$(echo "$S2" | sed -E 's/^(....)_(..)_(..)_(..)_(..)_(..)$/\1-\2-\3 \4:\5:\6/')" '+%Y-%m-%d %H:%M:%S')
	L3=$(date -u -d "$(echo "$S3" | sed -E 's/^(....)_(..)_(..)_(..)_(..)_(..)$/\1-\2-\3 \4:\5:\6/')" '+%Y-%m-%d %H:%M:%S')
}

# browse_case LABEL ROOT FULL REPO-ARGS...: the cases, in one session.
# FULL=1 also runs the versions, odd-name, absence, refusal and resize cases.
browse_case() {
	local label=$1 root=$2 full=$3
	shift 3
	local -a R=("$@")

	local t0 i=0
	t0=$(date +%s%N)
	start_browse "$T" "${R[@]}"
	# how long from the command typed to the first listing (polled every 10 ms)
	while ! screen | grep -q '^> docs/ ' && [ "$i" -lt 1500 ]; do
		i=$((i + 1))
		sleep 0.01
	done
	diag "[$label] first listing on the screen $(( ($(date +%s%N) - t0) / 1000000 )) ms after tmux started"
	assert "[$label] browse starts at the current directory, in the newest snapshot" \
		shows "^$T +│SNAPSHOTS"
	assert "[$label] ... the status line names the newest snapshot, in local time, and the path" \
		shows "$L3 \\(3/3\\) $T "
	assert "[$label] ... the timeline lists the three snapshots, the newest selected" \
		shows_all "│ .$L1" "│ .$L2" "│>.$L3"
	assert "[$label] ... the cursor is on the first entry, docs/" shows '^> docs/ '
	if [ "$full" = 1 ]; then
		assert "[$label] a name with \\x01 and invalid UTF-8 is shown escaped" \
			shows_fixed '  odd\x01\xffname '
		capture top
		assert "[$label] a UTF-8 name with wide characters is shown as it is" \
			shows '^  日本語\.txt +5 '
		assert "[$label] ... and its row keeps the columns: the timeline starts where it does on the others" \
			same_pane_edge '^> docs/ ' '^  日本語\.txt '
	fi

	# ---- navigate
	keys Enter
	assert "[$label] Enter descends into docs/" shows "^$T/docs +│"
	assert "[$label] ... listing a.txt (the newest, 3 bytes) and not the deleted gone.txt" \
		shows_not '^> a\.txt +3 ' gone.txt

	# ---- versions
	keys v
	assert "[$label] v lists the three versions of a.txt" shows "^/?$T/docs/a\\.txt: 3 versions"
	[ "$full" = 1 ] && capture versions
	assert "[$label] ... numbered 1 to 3 with their first and last snapshots, no 4th" \
		versions_rows_are "^1 +$L1 +$L1 " "^2 +$L2 +$L2 " "^3 +$L3 +$L3 "
	keys Escape
	assert "[$label] Esc closes the versions" shows '^> a\.txt '
	if [ "$full" = 1 ]; then
		assert "[$label] ... and the timeline marks the three snapshots where a.txt changed" \
			shows_all "│ \\*$L1" "│ \\*$L2" "│>\\*$L3"
	fi

	# ---- back in time, restore
	keys Left
	assert "[$label] Left steps back one snapshot, same path" shows "$L2 \\(2/3\\) $T/docs "
	if [ "$full" = 1 ]; then
		keys d
		assert "[$label] d lists the changes in docs/ since the previous snapshot" \
			shows "docs: 2 changes from $L1 to $L2 *│"
		assert "[$label] ... a.txt modified, gone.txt removed, as hindsight diff says" \
			shows_all "^M $T/docs/a\\.txt +│" "^- $T/docs/gone\\.txt +│"
		keys q
		assert "[$label] ... q closes them" shows '^> a\.txt '
	fi
	keys '['
	assert "[$label] [ steps back again, to the first snapshot" shows "$L1 \\(1/3\\) $T/docs "
	assert "[$label] ... where the deleted gone.txt is listed" shows '^  gone\.txt +5 '
	keys j
	assert "[$label] j selects it" shows '^> gone\.txt '
	if [ "$full" = 1 ]; then
		assert "[$label] ... and the timeline marks where it appeared (*) and was gone (x)" \
			shows_all "│>\\*$L1" "│ x$L2"
		capture restore
	fi
	keys r
	assert "[$label] r asks where, next to the original, as hindsight restore names it" \
		shows "^restore to \\(Esc: cancel\\): .*/docs/gone\\.txt\\.restored-$S1\$"
	keys C-u
	tm send-keys -l "$T/docs/gone.txt"
	keys Enter
	assert "[$label] ... restoring it to its old name says so" \
		shows_fixed "restored gone.txt as $T/docs/gone.txt"
	assert "[$label] ... and gone.txt is back with its content" content_is "$T/docs/gone.txt" keep
	assert "[$label] ... and nothing else appeared in docs" \
		is_eq "$(ls -A "$T/docs" | tr '\n' ' ')" "a.txt gone.txt "
	if [ "$full" = 1 ]; then
		local before
		echo changed-here >"$T/docs/gone.txt"
		before=$(stat -c '%i %s %Y' "$T/docs/gone.txt")
		keys r C-u
		tm send-keys -l "$T/docs/gone.txt"
		keys Enter
		assert "[$label] restoring over an existing file is refused, and says so" \
			shows_fixed "$T/docs/gone.txt exists: not replacing it"
		assert "[$label] ... and the file is untouched" \
			is_eq "$(stat -c '%i %s %Y' "$T/docs/gone.txt") $(cat "$T/docs/gone.txt")" \
			"$before changed-here"
		keys r Enter
		assert "[$label] r then Enter restores next to the original by default" \
			shows "^(restored gone\\.txt as |<).*/docs/gone\\.txt\\.restored-$S1\$"
		assert "[$label] ... with its content" content_is "$T/docs/gone.txt.restored-$S1" keep
		assert "[$label] ... and no staging directory is left" \
			is_eq "$(find "$T" -name '.hindsight-restore*' | wc -l)" 0
		rm -f "$T/docs/gone.txt.restored-$S1"
	fi
	rm -f "$T/docs/gone.txt"

	if [ "$full" = 1 ]; then
		# ---- a path that did not exist yet
		keys h
		assert "[$label] h goes up, the cursor on docs/" shows '^> docs/ '
		keys ']' ']'
		assert "[$label] ] steps forward to the newest snapshot" shows "$L3 \\(3/3\\) $T "
		keys j Enter
		assert "[$label] into newdir/ (made for S2)" shows "^$T/newdir +│"
		keys Left Left
		assert "[$label] two snapshots back, newdir is said not to exist yet" \
			shows "^  this path did not exist yet \\($L1\\)"
		keys Right Right h
		assert "[$label] back in the newest, up again" shows '^> newdir/ '
		keys '/' o d d Enter
		assert "[$label] / filters by name: only the odd name is left" \
			shows_not '^> odd' 'docs/' 
		keys Escape
		assert "[$label] Esc clears the filter" shows '^  docs/ '
		keys k k
		keys Enter
		assert "[$label] ... and Enter opens docs/ again" shows "^$T/docs +│"

		# ---- resize
		tm resize-window -x 70 -y 15
		assert "[$label] resized to 70x15: the screen is redrawn consistently" \
			wait_until 10 screen_consistent 70 15
		screen_consistent 70 15 >"$SCRATCH/resize.why" 2>&1 || diag "$(cat "$SCRATCH/resize.why")"
		tm resize-window -x 120 -y 40
		assert "[$label] resized to 120x40: the same" wait_until 10 screen_consistent 120 40
		screen_consistent 120 40 >"$SCRATCH/resize.why" 2>&1 || diag "$(cat "$SCRATCH/resize.why")"
		tm resize-window -x 100 -y 30
		assert "[$label] back to 100x30: the same" wait_until 10 screen_consistent 100 30
		keys '?'
		assert "[$label] ? shows the keys" shows '^hindsight browse: keys'
		keys q
		assert "[$label] ... and q closes the help, not the browser" shows "^$T/docs +│"
	fi

	# ---- quit
	keys q
	assert "[$label] q exits 0" exited 0
	assert "[$label] ... and restores the terminal (alternate screen left, cursor shown)" \
		terminal_restored
	tm kill-server >/dev/null 2>&1
}

# ------------------------------------------------------------ refusals

LREPO="$SCRATCH/repo"
mkdir -p "$LREPO" "$SCRATCH/empty"

assert "browse without a terminal exits 2 (usage)" \
	must_fail 2 "$HS_CLIENT" browse --repo "$LREPO"
assert "... with one line saying it needs a terminal" \
	bash -c "[ \$(wc -l <'$LAST_ERR') -eq 1 ] && grep -q 'browse needs a terminal' '$LAST_ERR'"
assert "browse with a stray argument exits 2" \
	must_fail 2 "$HS_CLIENT" browse --repo "$LREPO" a b

start_browse "$SCRATCH" --repo "$SCRATCH/empty"
assert "browse of a repository with no snapshots exits 10" exited 10
assert "... saying so in one line" shows "^hindsight: no snapshots yet in $SCRATCH/empty: nothing to browse"
tm kill-server >/dev/null 2>&1
start_browse "$SCRATCH" --repo "$SCRATCH/no-such-repo"
assert "browse of a repository that is not there exits 10" exited 10
tm kill-server >/dev/null 2>&1

# ------------------------------------------------------------ local

T="$SCRATCH/local/tree"
make_snapshots local "$LREPO" --repo "$LREPO"
# a terminal, but one TERM cannot drive
for term in dumb no-such-terminal; do
	BROWSE_TERM=$term start_browse "$SCRATCH" --repo "$LREPO"
	assert "[local] with TERM=$term browse exits 2" exited 2
	assert "[local] ... saying why in one line" shows "^hindsight: browse needs a terminal that can move its cursor, and TERM=$term"
	tm kill-server >/dev/null 2>&1
done

start_browse "$T" --repo "$LREPO" --at 1999-01-01
assert "[local] browse --at a time before the first snapshot exits 10" exited 10
tm kill-server >/dev/null 2>&1
browse_case local "$LREPO" 1 --repo "$LREPO"

start_browse "$T" --repo "$LREPO"
assert "[local] browse is up again" shows '^> docs/ '
BROWSE_PID=$(pgrep -P "$(tm display -p '#{pane_pid}')" -x hindsight)
assert "[local] SIGTERM ends browse with exit 130" killed_with_term "$BROWSE_PID"
assert "[local] ... and restores the terminal too" terminal_restored
tm kill-server >/dev/null 2>&1

# ------------------------------------------------------------ ssh

new_account b
A=$ACCOUNT
start_sshd forcecommand "$A"
T="$SCRATCH/ssh/tree"
make_snapshots ssh "$(home_of "$A")" --repo server: --ssh "ssh -F $(ssh_conf "$A")"
browse_case ssh "$(home_of "$A")" 0 --repo server: --ssh "ssh -F $(ssh_conf "$A")"

# ---- responsiveness: an ssh that takes 3 s per connection once $SLOW exists
SLOW="$SCRATCH/slow-on"
printf '#!/bin/sh\n[ -e %q ] && sleep 3\nexec ssh "$@"\n' "$SLOW" >"$SCRATCH/slowssh"
chmod 755 "$SCRATCH/slowssh"
start_browse "$T" --repo server: --ssh "$SCRATCH/slowssh -F $(ssh_conf "$A")"
assert "[ssh, slow] browse is up" shows '^> docs/ '
touch "$SLOW"
keys Enter
assert "[ssh, slow] while ssh is slow, the listing says it is loading, with a spinner" \
	shows '^  [|/\\-] loading the snapshot of '
keys '?'
assert "[ssh, slow] ... and keys work meanwhile: ? shows the help within 2 s" \
	shows '^hindsight browse: keys' 2
keys q h
assert "[ssh, slow] h shows the top again within 2 s: its listing was kept, not asked again" \
	shows '^> docs/ ' 2
rm -f "$SLOW"
keys Enter
assert "[ssh, slow] ... and the slow listing of docs/ arrives" shows '^> a\.txt ' 15
keys q
assert "[ssh, slow] q exits 0" exited 0
tm kill-server >/dev/null 2>&1

done_testing
