#!/bin/bash
# The bash completion in contrib/: it parses, and completes verbs, their
# actions and their options.
. "$(dirname "$0")/lib.sh"

COMP="$HS_SRCDIR/contrib/bash-completion/hindsight"

# completes "WORDS..." EXPECTED: what completing the last word offers
completes() {
	local line=$1 want=$2 got
	got=$(bash -c '
		. "$1"
		read -r -a COMP_WORDS <<<"$2"
		[ "${2: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_hindsight
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' _ "$COMP" "$line")
	[ "$got" = "$want " ] && return 0
	echo "completing '$line': got '$got', wanted '$want '"
	return 1
}

assert "the completion script parses (bash -n)" bash -n "$COMP"
assert "it registers itself for hindsight" \
	bash -c ". '$COMP' && complete -p hindsight | grep -q -- '-F _hindsight hindsight'"
assert "verbs complete" completes "hindsight sch" "schedule"
assert "every verb is offered" completes "hindsight " \
	"--help --version backup browse config diff help init list ls restore schedule status versions"
assert "schedule's actions complete" completes "hindsight schedule " "disable enable status"
assert "config's actions complete" completes "hindsight config c" "check"
assert "backup's options complete" completes "hindsight backup --i" "--if-due"
assert "--show-excludes too" completes "hindsight backup --sh" "--show-excludes"
assert "init's options" completes "hindsight init --f" "--force"
assert "restore's --at takes time words" completes "hindsight restore --at lat" "latest latest~1"
assert "browse's options complete" completes "hindsight browse --" "--at --config --help --repo --ssh"
assert "schedule's options after the action" completes "hindsight schedule enable --" \
	"--config --cron --help --systemd --unit-dir"

done_testing
