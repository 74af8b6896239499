#!/bin/bash
# hindsight schedule: the systemd units it writes (system units for root,
# user units for a user) pass systemd-analyze verify and say what the
# product promises; without systemd it keeps one marked crontab line;
# disable removes only what enable wrote; status shows the schedule and
# the last result. systemd need not run here: units are written with
# --unit-dir (or to a user's unit directory) and verified statically.
. "$(dirname "$0")/lib.sh"

[ -x "$HS_CLIENT" ] || fatal "$HS_BIN/hindsight is built"
for t in systemd-analyze crontab; do
	command -v "$t" >/dev/null || fatal "$t is installed (make deps)"
done

hs() { "$HS_CLIENT" "$@"; }
UNITS="$SCRATCH/units"
SRC="$SCRATCH/data/src"
mkdir -p "$SRC"
echo x >"$SRC/file"
printf 'repo = %s\nsources = %s\n' "$SCRATCH/repo" "$SRC" >"$SCRATCH/hs.conf"

# verify [--user] FILE...: systemd-analyze accepts the units, silently
# (it exits 0 on mere warnings, so its output must be empty too)
verify() {
	local out rc
	mkdir -p -m 700 "$SCRATCH/runtime"
	out=$(XDG_RUNTIME_DIR="$SCRATCH/runtime" systemd-analyze "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && return 0
	echo "systemd-analyze $* exited $rc:"
	echo "$out"
	return 1
}
has_line() { grep -qxF -- "$2" "$1" || { echo "$1 lacks the line '$2':"; cat "$1"; return 1; }; }
lacks() { ! grep -q -- "$2" "$1" || { echo "$1 has /$2/:"; cat "$1"; return 1; }; }

# ------------------------------------------------------------ system units (root)

assert "schedule enable --unit-dir writes the units (exit 0)" \
	succeeds hs schedule enable --config "$SCRATCH/hs.conf" --unit-dir "$UNITS"
assert "... and says they are not enabled" last_out_has 'not enabled, enable them with: systemctl enable --now hindsight.timer'
SVC="$UNITS/hindsight.service"
TMR="$UNITS/hindsight.timer"
assert "systemd-analyze verify accepts the service and the timer" \
	verify verify --man=no "$SVC" "$TMR"
assert "the timer runs hourly" has_line "$TMR" "OnCalendar=hourly"
assert "... catches up on runs missed while off" has_line "$TMR" "Persistent=true"
assert "... with a random delay" has_line "$TMR" "RandomizedDelaySec=50min"
assert "... fixed per host" has_line "$TMR" "FixedRandomDelay=true"
assert "... and is wanted by timers.target" has_line "$TMR" "WantedBy=timers.target"
assert "the service is a oneshot" has_line "$SVC" "Type=oneshot"
assert "... at nice 19" has_line "$SVC" "Nice=19"
assert "... with idle I/O" has_line "$SVC" "IOSchedulingClass=idle"
assert "... after the network is up" has_line "$SVC" "After=network-online.target"
assert "... running backup --if-due with the config" \
	has_line "$SVC" "ExecStart=$HS_CLIENT backup --if-due --config $SCRATCH/hs.conf"
assert "... keeping the state where status looks" \
	has_line "$SVC" "Environment=XDG_STATE_HOME=$XDG_STATE_HOME"
assert "... only on mains power (on_battery = skip, the default)" \
	has_line "$SVC" "ConditionACPower=true"
assert "the units are readable by systemd (mode 644)" is_eq "$(stat -c %a "$SVC" "$TMR" | sort -u)" 644

echo "on_battery = run" >>"$SCRATCH/hs.conf"
assert "with on_battery = run, enable again (exit 0)" \
	succeeds hs schedule enable --config "$SCRATCH/hs.conf" --unit-dir "$UNITS"
assert "... the service has no ConditionACPower" lacks "$SVC" "ConditionACPower"
assert "... and still verifies" verify verify --man=no "$SVC" "$TMR"

assert "schedule status --unit-dir exits 0" \
	succeeds hs schedule status --config "$SCRATCH/hs.conf" --unit-dir "$UNITS"
assert "... names the units" last_out_has "^schedule +units in $UNITS"
assert "... and the last result: none yet" last_out_has '^last backup +never'
assert "a backup, then status shows it" succeeds hs backup --config "$SCRATCH/hs.conf"
assert "(status)" succeeds hs schedule status --config "$SCRATCH/hs.conf" --unit-dir "$UNITS"
assert "... the last backup" last_out_has '^last backup +[0-9-]+ '
assert "... and that it went well" last_out_has '^last result +ok$'

assert "schedule disable --unit-dir removes both units (exit 0)" \
	succeeds hs schedule disable --unit-dir "$UNITS"
assert "... both gone" bash -c "[ ! -e '$SVC' ] && [ ! -e '$TMR' ]"
printf '[Timer]\nOnCalendar=daily\n' >"$TMR"
assert "disable leaves a hindsight.timer it did not write alone" \
	succeeds hs schedule disable --unit-dir "$UNITS"
assert "... it is still there" exists "$TMR"
assert "... and says there was nothing to disable" last_out_has 'no schedule to disable'
rm -f "$TMR"

# ------------------------------------------------------------ refusals

assert "enable with no config file exits 2" \
	must_fail 2 hs schedule enable --unit-dir "$UNITS"
assert "... says hindsight init writes one" last_err_has 'no config file \(hindsight init writes one\)'
printf 'repo = %s\n' "$SCRATCH/repo" >"$SCRATCH/nosrc.conf"
assert "enable with a config without sources exits 2" \
	must_fail 2 hs schedule enable --config "$SCRATCH/nosrc.conf" --unit-dir "$UNITS"
assert "... and writes no unit" absent "$UNITS/hindsight.service"
assert "enable --cron --unit-dir is a usage error (exit 2)" \
	must_fail 2 hs schedule enable --cron --unit-dir "$UNITS" --config "$SCRATCH/hs.conf"

# ------------------------------------------------------------ a user: user units, cron

new_account u; U=$ACCOUNT
UH=$(home_of "$U")
at_cleanup "crontab -r -u '$U' 2>/dev/null || true"
mkdir -p "$UH/src"
echo x >"$UH/src/f"
install -d -o "$U" -g "$U" -m 700 "$UH/.config/hindsight"
printf 'repo = %s/repo\nsources = %s/src\n' "$UH" "$UH" >"$UH/.config/hindsight/config"
chown -R "$U:$U" "$UH/src" "$UH/.config"
chmod 600 "$UH/.config/hindsight/config"
# as_user CMD...: as the user, in a login-like environment (no XDG_* from root)
as_user() {
	runuser -u "$U" -- env -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u XDG_RUNTIME_DIR \
		-C "$UH" HOME="$UH" "$@"
}

assert "[user] schedule enable --systemd writes user units (exit 0)" \
	succeeds as_user "$HS_CLIENT" schedule enable --systemd
assert "[user] ... into ~/.config/systemd/user" \
	bash -c "[ -f '$UH/.config/systemd/user/hindsight.service' ] && [ -f '$UH/.config/systemd/user/hindsight.timer' ]"
assert "[user] ... running with the user's config" \
	has_line "$UH/.config/systemd/user/hindsight.service" \
	"ExecStart=$HS_CLIENT backup --if-due --config $UH/.config/hindsight/config"
assert "[user] systemd-analyze --user verify accepts them" \
	verify --user verify --man=no "$UH/.config/systemd/user/hindsight.service" \
	"$UH/.config/systemd/user/hindsight.timer"
assert "[user] schedule disable removes them" succeeds as_user "$HS_CLIENT" schedule disable
assert "[user] ... gone" absent "$UH/.config/systemd/user/hindsight.timer"

echo "0 5 * * * true # the user's own" | crontab -u "$U" - || fatal "seed the user's crontab"
assert "[user] schedule enable --cron exits 0" succeeds as_user "$HS_CLIENT" schedule enable --cron
assert "[user] ... and says at which minute" last_out_has '^hindsight: hourly backups enabled: crontab, at minute [0-9]+ '
crontab -u "$U" -l >"$SCRATCH/crontab" 2>&1
assert "[user] the crontab has one hindsight line" is_eq "$(grep -c '# hindsight schedule$' "$SCRATCH/crontab")" 1
assert "[user] ... running backup --if-due with the config, stdout dropped" \
	grep -Eq "^[0-9]{1,2} \\* \\* \\* \\* $HS_CLIENT backup --if-due --config $UH/.config/hindsight/config >/dev/null # hindsight schedule\$" "$SCRATCH/crontab"
assert "[user] ... and keeps the user's own line" grep -q '^0 5 \* \* \* true # the user.s own$' "$SCRATCH/crontab"
assert "[user] enable again exits 0" succeeds as_user "$HS_CLIENT" schedule enable --cron
assert "[user] ... still one hindsight line" \
	is_eq "$(crontab -u "$U" -l | grep -c '# hindsight schedule$')" 1
assert "[user] schedule status exits 0" succeeds as_user "$HS_CLIENT" schedule status
assert "[user] ... shows the crontab and the next run" \
	bash -c "grep -Eq '^schedule +crontab, at minute [0-9]+ of every hour$' '$LAST_OUT' && grep -Eq '^next run +[0-9-]+ [0-9:]+$' '$LAST_OUT'"
assert "[user] schedule disable exits 0" succeeds as_user "$HS_CLIENT" schedule disable
assert "[user] ... removes the hindsight line and keeps the user's" \
	is_eq "$(crontab -u "$U" -l 2>&1 | grep -v '^#' | tr '\n' '|')" "0 5 * * * true # the user's own|"
if [ ! -d /run/systemd/system ]; then
	assert "[user] without systemd, schedule enable picks cron (exit 0)" \
		succeeds as_user "$HS_CLIENT" schedule enable
	assert "[user] ... (a crontab line)" last_out_has 'enabled: crontab'
	assert "[user] (disable again)" succeeds as_user "$HS_CLIENT" schedule disable
fi

# ------------------------------------------------------------ the units make install ships

for f in hindsight.service.in hindsight.timer; do
	sed "s|@BINDIR@|$SCRATCH/bin|g" "$HS_SRCDIR/contrib/systemd/$f" >"$SCRATCH/${f%.in}"
done
assert "the installed units (contrib/systemd) pass systemd-analyze verify" \
	verify verify --man=no "$SCRATCH/hindsight.service" "$SCRATCH/hindsight.timer"
assert "... as user units too" \
	verify --user verify --man=no "$SCRATCH/hindsight.service" "$SCRATCH/hindsight.timer"

done_testing
