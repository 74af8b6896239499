/*
 * `backup --if-due`: the decision, with the clock injected, one row per
 * case; the state file round trip; and the mains-power test that
 * on_battery = skip uses, against power_supply trees made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsops.h"
#include "state.h"
#include "strbuf.h"
#include "util.h"

#define T0 1795942803LL   /* 2026-11-29 09:00:03 UTC */

struct due_row {
	const char *name;
	long long success_start;   /* 0: never */
	long long interval;
	long long now;
	int due;
	long long next;
};

static const struct due_row due_rows[] = {
	{ "never backed up: due", 0, 3600, T0, 1, T0 },
	{ "a minute after the last: not due", T0, 3600, T0 + 60, 0, T0 + 3600 },
	{ "one second before the interval ends: not due", T0, 3600, T0 + 3599, 0, T0 + 3600 },
	{ "exactly the interval later: due", T0, 3600, T0 + 3600, 1, T0 + 3600 },
	{ "a day later (the laptop was off): due", T0, 3600, T0 + 86400, 1, T0 + 3600 },
	{ "interval 0: always due", T0, 0, T0 + 1, 1, T0 + 1 },
	{ "daily, 23 hours later: not due", T0, 86400, T0 + 23 * 3600, 0, T0 + 86400 },
	{ "the last success lies in the future (clock set back): due", T0, 3600, T0 - 600, 1,
	  T0 - 600 },
	{ "at the very second of the last success: not due", T0, 3600, T0, 0, T0 + 3600 },
};

static void run_due_row(void **state)
{
	const struct due_row *row = *state;
	struct backup_state s;
	time_t next = 0;

	memset(&s, 0, sizeof(s));
	s.success_start = row->success_start;
	s.success_end = row->success_start ? row->success_start + 30 : 0;
	/* a failed attempt after the success changes nothing */
	s.attempt_start = row->success_start ? row->success_start + 100 : T0 - 5;
	s.attempt_exit = 13;
	assert_int_equal(backup_due(&s, row->interval, (time_t)row->now, &next), row->due);
	assert_int_equal((long long)next, row->next);
}

static char *scratch(void)
{
	char tmpl[] = "/tmp/hs-test-due.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return xstrdup(d);
}

static void put(const char *dir, const char *rel, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f;

	sb_addf(&sb, "%s/%s", dir, rel);
	for (char *p = sb.buf + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(sb.buf, 0700);
		*p = '/';
	}
	f = fopen(sb.buf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	sb_release(&sb);
}

static void the_state_file_round_trips(void **state)
{
	(void)state;
	char *dir = scratch();
	struct strbuf file = STRBUF_INIT;
	struct backup_state a, b;

	sb_addf(&file, "%s/new/sub/backup-x.json", dir);
	assert_int_equal(state_read(file.buf, &a), 0);   /* missing: empty */
	assert_int_equal(a.success_start, 0);
	a.attempt_start = T0;
	a.attempt_end = T0 + 9;
	a.attempt_exit = 13;
	snprintf(a.attempt_message, sizeof(a.attempt_message), "cannot reach h: \"x\"");
	a.success_start = T0 - 3600;
	a.success_end = T0 - 3500;
	a.success_exit = 3;
	assert_int_equal(state_write(file.buf, "u@h:", &a), 0);
	assert_int_equal(state_read(file.buf, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	put(dir, "bad.json", "not json");
	sb_reset(&file);
	sb_addf(&file, "%s/bad.json", dir);
	assert_int_equal(state_read(file.buf, &b), -EINVAL);
	remove_tree_at(AT_FDCWD, dir);
	free(dir);
	sb_release(&file);
}

static void state_files_differ_per_repo(void **state)
{
	(void)state;
	char *a, *b, *c;

	setenv("XDG_STATE_HOME", "/x/state", 1);
	a = state_file("u@h:");
	b = state_file("u@other:");
	c = state_file("u@h:");
	assert_string_not_equal(a, b);
	assert_string_equal(a, c);
	assert_int_equal(strncmp(a, "/x/state/hindsight/backup-", 26), 0);
	free(a);
	free(b);
	free(c);
	unsetenv("XDG_STATE_HOME");
}

struct power_row {
	const char *name;
	const char *files;   /* "dir/file=value;..." */
	int on_ac;
};

static const struct power_row power_rows[] = {
	{ "no power supplies at all (a desktop): on mains", "", 1 },
	{ "a laptop plugged in", "AC/type=Mains\n;AC/online=1\n;BAT0/type=Battery\n", 1 },
	{ "a laptop on battery", "AC/type=Mains\n;AC/online=0\n;BAT0/type=Battery\n", 0 },
	{ "only a battery (no mains supply known): on mains, as systemd says",
	  "BAT0/type=Battery\n", 1 },
	{ "two mains supplies, one online", "ADP0/type=Mains\n;ADP0/online=0\n;"
	  "ADP1/type=Mains\n;ADP1/online=1\n", 1 },
	{ "a USB supply does not count", "usb/type=USB\n;usb/online=1\n;AC/type=Mains\n;"
	  "AC/online=0\n", 0 },
	{ "a mains supply without online counts as offline", "AC/type=Mains\n", 0 },
};

static void run_power_row(void **state)
{
	const struct power_row *row = *state;
	char *dir = scratch();
	char *files = xstrdup(row->files), *save = NULL;

	for (char *f = strtok_r(files, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(f, '=');
		*eq = '\0';
		put(dir, f, eq + 1);
	}
	assert_int_equal(on_ac_power(dir), row->on_ac);
	remove_tree_at(AT_FDCWD, dir);
	free(files);
	free(dir);
}

static void a_missing_power_supply_class_is_mains(void **state)
{
	(void)state;
	assert_int_equal(on_ac_power("/nonexistent/power_supply"), 1);
}

int main(void)
{
	size_t ndue = sizeof(due_rows) / sizeof(due_rows[0]);
	size_t npower = sizeof(power_rows) / sizeof(power_rows[0]);
	struct CMUnitTest *due = xcalloc(ndue, sizeof(*due));
	struct CMUnitTest *power = xcalloc(npower, sizeof(*power));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_state_file_round_trips),
		cmocka_unit_test(state_files_differ_per_repo),
		cmocka_unit_test(a_missing_power_supply_class_is_mains),
	};
	int failed;

	for (size_t i = 0; i < ndue; i++) {
		due[i].name = due_rows[i].name;
		due[i].test_func = run_due_row;
		due[i].initial_state = (void *)&due_rows[i];
	}
	for (size_t i = 0; i < npower; i++) {
		power[i].name = power_rows[i].name;
		power[i].test_func = run_power_row;
		power[i].initial_state = (void *)&power_rows[i];
	}
	failed = _cmocka_run_group_tests("--if-due, with an injected clock", due, ndue, NULL, NULL);
	failed += _cmocka_run_group_tests("on mains power?", power, npower, NULL, NULL);
	failed += cmocka_run_group_tests_name("client state", tests, NULL, NULL);
	free(due);
	free(power);
	return failed ? 1 : 0;
}
