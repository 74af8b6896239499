#!/bin/bash
# Verdict tables: every command line in tests/policy/*.cases goes through
# `hindsight-server serve --check` (SSH_ORIGINAL_COMMAND set with env, never
# through a shell) against fixed backup roots, and must give exactly the
# expected exit code and stdout, and nothing on stderr. The format of the
# cases is in tests/policy/README. Last, --check must have changed nothing
# in any root: it judges, it never acts (STYLE.md habit 2).
#
# The roots (made here, the same every run):
#   main     two snapshots, 2026_01_01_00_00_00 and 2026_01_02_00_00_00,
#            current -> the newer; in them home/me/a.txt, home/me/dir/c.txt,
#            planted symlinks home/me/evil -> /etc, home/me/linkdir -> dir,
#            (newer only) home/me/up -> ../../.., home/me/passwd -> /etc/passwd,
#            etc -> /etc at the top, and files named "with space.txt", "-rf"
#            and "star*.txt"; (older only) home/me/old.txt; a resume base
#            .hindsight/resume/1 and a partial inprogress/
#   planted  one snapshot 2026_01_01_00_00_00, a symlink shaped like a newer
#            snapshot, 2026_01_05_00_00_00 -> /etc, and current -> it
#   empty    .hindsight/ only: no snapshot, no current
#   missing  does not exist (a first push)
#
# Running as root (lib.sh insists), so no --fake-super appears in any argv.
# HS_VERDICTS="FILE..." runs only those files (names in tests/policy/ or
# paths), and then the count of cases is not checked.
. "$(dirname "$0")/lib.sh"

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=199"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=199:print_stacktrace=1"

CASEDIR=$HS_SRCDIR/tests/policy
ROOTS=$SCRATCH/roots

# The rsync the server runs: compiled in (make RSYNC=...), /usr/bin/rsync
# by default. Expected argvs name it @RSYNC@.
RSYNC_BIN=$(sed -n 's/^#define RSYNC_PATH "\(.*\)"$/\1/p' "$HS_BIN/config.h" 2>/dev/null)
: "${RSYNC_BIN:=/usr/bin/rsync}"
[ -x "$RSYNC_BIN" ] || skip_all "$RSYNC_BIN (the server's rsync) is not installed"
rsync_version=$("$RSYNC_BIN" --version 2>/dev/null | head -1 | grep -o 'version v\{0,1\}[0-9][0-9.]*' | head -1 | grep -o '[0-9][0-9.]*')
printf '3.4.3\n%s\n' "$rsync_version" | sort -V -C ||
	skip_all "rsync ${rsync_version:-of unknown version} is older than 3.4.3: the server refuses to run it"
# Without --confine-root in the installed rsync the server leaves it out.
has_confine=0
"$RSYNC_BIN" --help 2>/dev/null | grep -q -- --confine-root && has_confine=1

make_roots() {
	local m=$ROOTS/main s1 s2 s
	s1=$m/2026_01_01_00_00_00
	s2=$m/2026_01_02_00_00_00
	mkdir -p "$s1/home/me/dir" "$s2/home/me/dir" "$m/.hindsight/snapshots" \
		"$m/.hindsight/resume/1/home" "$m/.hindsight/trash" "$m/inprogress/home" ||
		return 1
	for s in "$s1" "$s2"; do
		echo a >"$s/home/me/a.txt"
		echo c >"$s/home/me/dir/c.txt"
		ln -s /etc "$s/home/me/evil"
		ln -s dir "$s/home/me/linkdir"
	done
	echo old >"$s1/home/me/old.txt"
	echo b >"$s2/home/me/b.txt"
	echo s >"$s2/home/me/with space.txt"
	echo d >"$s2/home/me/-rf"
	echo g >"$s2/home/me/star*.txt"
	ln -s ../../.. "$s2/home/me/up"
	ln -s /etc/passwd "$s2/home/me/passwd"
	ln -s /etc "$s2/etc"
	ln -s 2026_01_02_00_00_00 "$m/current"
	echo partial >"$m/inprogress/home/partial.txt"
	echo resumed >"$m/.hindsight/resume/1/home/r.txt"

	m=$ROOTS/planted
	mkdir -p "$m/2026_01_01_00_00_00/home/me" "$m/.hindsight/snapshots" || return 1
	echo a >"$m/2026_01_01_00_00_00/home/me/a.txt"
	ln -s /etc "$m/2026_01_05_00_00_00"
	ln -s 2026_01_05_00_00_00 "$m/current"

	mkdir -p "$ROOTS/empty/.hindsight"
}
make_roots || fatal "make the fixture roots"
tree_state "$ROOTS" >"$SCRATCH/roots.before"

# ------------------------------------------------------------ one case

# The case being read; see tests/policy/README.
c_name='' c_root='' c_cmd='' c_unset=0 c_exit='' c_where=''
c_has_cmd=0 c_bad=''
c_want=()

case_reset() {
	c_name='' c_root=main c_cmd='' c_unset=0 c_exit='' c_where='' c_has_cmd=0 c_bad=''
	c_want=()
}

# expand LINE: an expected line with its placeholders filled in.
expand() {
	local l=$1 root=$ROOTS/$c_root
	case $l in
	"printf: "*) l=$(printf '%b_' "${l#printf: }"); l=${l%_} ;;
	esac
	l=${l//@ROOT@/$root}
	l=${l//@RSYNC@/$RSYNC_BIN}
	if [ "$has_confine" = 0 ]; then
		# the server leaves --confine-root out when rsync lacks it
		l=$(sed 's/ --confine-root=[^ ]*//' <<<"$l")
	fi
	printf '%s\n' "$l"
}

run_case() {
	local want=$SCRATCH/.want got=$SCRATCH/.got err=$SCRATCH/.err rc root l problem=""
	[ -n "$c_name" ] || c_name="(unnamed case at $c_where)"
	if [ -n "$c_bad" ]; then
		not_ok "$c_name"
		diag "$c_where: $c_bad"
		return
	fi
	root=$ROOTS/$c_root
	: >"$want"
	for l in ${c_want[@]+"${c_want[@]}"}; do
		expand "$l" >>"$want"
	done
	if [ "$c_unset" = 1 ]; then
		env -u SSH_ORIGINAL_COMMAND "$HS_SERVER" serve --root "$root" --check \
			</dev/null >"$got" 2>"$err"
	else
		env SSH_ORIGINAL_COMMAND="$c_cmd" "$HS_SERVER" serve --root "$root" --check \
			</dev/null >"$got" 2>"$err"
	fi
	rc=$?
	if [ "$rc" -ge 128 ]; then
		problem="crashed: exit $rc$(_t_signal_note "$rc")"
	elif [ "$rc" != "$c_exit" ]; then
		problem="exit $rc, wanted $c_exit"
	fi
	cmp -s "$want" "$got" || problem="${problem:+$problem; }stdout differs"
	[ -s "$err" ] && problem="${problem:+$problem; }stderr is not empty"
	if [ -z "$problem" ]; then
		ok "$c_name"
		return
	fi
	not_ok "$c_name"
	{
		echo "$c_where: $problem"
		echo "--- wanted:"
		cat "$want"
		echo "--- got:"
		cat "$got"
		[ -s "$err" ] && { echo "--- stderr:"; head -c 4000 "$err"; }
	} | _t_diag
}

# ------------------------------------------------------------ the files

# finish_block: run the case the block just read into c_*; a block with no
# command is a comment and is skipped.
finish_block() {
	if [ "$c_has_cmd" = 0 ] && [ "$c_unset" = 0 ]; then
		if [ -n "$c_exit" ] || [ ${#c_want[@]} -gt 0 ] || [ -n "$c_bad" ]; then
			c_bad="${c_bad:-a case with no cmd line}"
			run_case
		fi
	else
		[ -n "$c_exit" ] || c_bad="no exit: line"
		run_case
	fi
	case_reset
}

run_file() {
	local f=$1 line n=0 piece count unit rep in_block=0 after_exit=0
	case_reset
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		if [ -z "$line" ]; then
			[ "$in_block" = 1 ] && finish_block
			in_block=0 after_exit=0
			continue
		fi
		if [ "$in_block" = 0 ]; then
			in_block=1
			c_where="${f#"$HS_SRCDIR"/}:$n"
		fi
		if [ "$after_exit" = 1 ]; then
			c_want+=("$line")
			continue
		fi
		case $line in
		"#"*)
			[ -z "$c_name" ] && { c_name=${line#"#"}; c_name=${c_name# }; }
			;;
		"root: "*)
			c_root=${line#root: }
			[ -d "$ROOTS/$c_root" ] || [ "$c_root" = missing ] ||
				c_bad="no fixture root '$c_root'"
			;;
		"cmd-unset:")
			c_unset=1
			;;
		"cmd:"*)
			piece=${line#cmd:}
			c_cmd+=${piece# }
			c_has_cmd=1
			;;
		"cmd-printf: "*)
			piece=$(printf '%b_' "${line#cmd-printf: }")
			c_cmd+=${piece%_}
			c_has_cmd=1
			;;
		"cmd-repeat: "*)
			piece=${line#cmd-repeat: }
			count=${piece%% *}
			unit=$(printf '%b_' "${piece#* }")
			unit=${unit%_}
			case $count in
			'' | *[!0-9]*) c_bad="cmd-repeat needs COUNT TEXT" ;;
			*)
				printf -v rep '%*s' "$count" ''
				c_cmd+=${rep// /$unit}
				;;
			esac
			c_has_cmd=1
			;;
		"exit: "*)
			c_exit=${line#exit: }
			after_exit=1
			;;
		*)
			c_bad="line $n: not a comment, root:, cmd:, cmd-printf:, cmd-repeat:, cmd-unset: or exit: line: $line"
			;;
		esac
	done <"$f"
	[ "$in_block" = 1 ] && finish_block
}

started=$SECONDS
if [ -n "${HS_VERDICTS:-}" ]; then
	read -r -a files <<<"$HS_VERDICTS"
else
	files=("$CASEDIR"/*.cases)
fi
[ -f "${files[0]}" ] || [ -f "$CASEDIR/${files[0]}" ] || fatal "no case files in $CASEDIR"
for f in "${files[@]}"; do
	[ -f "$f" ] || f=$CASEDIR/$f
	[ -f "$f" ] || fatal "no case file $f"
	run_file "$f"
done
cases=$_t_n

assert "--check changed nothing in any fixture root" \
	same_tree_state "$SCRATCH/roots.before" "$ROOTS"
[ -n "${HS_VERDICTS:-}" ] ||
	assert "at least 150 cases ran (ran $cases)" test "$cases" -ge 150
diag "$cases cases in $((SECONDS - started)) s"
done_testing
