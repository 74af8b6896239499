/*
 * The time grammar: resolve_snapshot() against a fixed list of snapshots,
 * and parse_time_expr() to the second, one table row per case. Every row
 * pins `now` and the time zone, so nothing depends on when or where it runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timespec.h"
#include "util.h"

/*
 * Twelve snapshots (UTC): a leap day and the day after, a month end that is
 * already the next day in Berlin, both sides of Berlin's 2026 spring-forward
 * (01:00 UTC on 29 March), summer time, the last second of October, and two
 * pushes within one minute.
 */
static char fixture[][SNAPNAME_SIZE] = {
	"2024_02_29_12_00_00",   /*  0 leap day */
	"2024_03_01_00_30_00",   /*  1 29 Feb 19:30 in New York */
	"2026_01_31_23_00_00",   /*  2 1 Feb 00:00 in Berlin */
	"2026_02_01_08_00_00",   /*  3 09:00 CET */
	"2026_03_29_00_30_00",   /*  4 01:30 CET, before the clocks go forward */
	"2026_03_29_01_30_00",   /*  5 03:30 CEST, after */
	"2026_07_15_10_00_00",   /*  6 12:00 CEST */
	"2026_10_31_23_59_59",   /*  7 the last second of October */
	"2026_11_28_09_00_03",   /*  8 two pushes ... */
	"2026_11_28_09_00_41",   /*  9 ... in the same minute */
	"2026_11_28_18_30_00",   /* 10 */
	"2026_11_29_09_00_03",   /* 11 latest */
};
#define NFIX (sizeof(fixture) / sizeof(fixture[0]))

#define NOW   1795953600LL   /* 2026-11-29T12:00:00Z */
#define NOW_B 1795861841LL   /* 2026-11-28T10:30:41Z */
#define NOW_C 1795942803LL   /* 2026-11-29T09:00:03Z, the latest snapshot */
#define NOW_L 1709294400LL   /* 2024-03-01T12:00:00Z */

#define UTC "UTC"
#define BER "Europe/Berlin"
#define NYC "America/New_York"

static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* ------------------------------------------------------------------ */

struct resolve_row {
	const char *name;
	const char *spec;
	long long now;
	const char *tz;
	int empty;             /* resolve against an empty list */
	int rc;
	const char *pick;      /* the name chosen when rc == 0 */
	const char *why[3];    /* substrings of the reason when rc != 0 */
};

#define PICK(name, spec, now, tz, pick) { name, spec, now, tz, 0, 0, pick, { NULL } }
#define FAIL(name, spec, now, tz, rc, ...) \
	{ name, spec, now, tz, 0, rc, NULL, { __VA_ARGS__ } }
#define FAIL_EMPTY(name, spec, rc, ...) \
	{ name, spec, NOW, UTC, 1, rc, NULL, { __VA_ARGS__ } }

static const struct resolve_row resolve_rows[] = {
	/* snapshot names and prefixes */
	PICK("picks a full name exactly", "2026_11_28_09_00_03", NOW, UTC,
	     "2026_11_28_09_00_03"),
	PICK("picks the second of two names in one minute", "2026_11_28_09_00_41", NOW, UTC,
	     "2026_11_28_09_00_41"),
	PICK("ignores whitespace around a name", " \t2026_11_28_09_00_41 \n", NOW, UTC,
	     "2026_11_28_09_00_41"),
	FAIL("refuses a full name that is not there, naming its neighbours",
	     "2026_11_28_09_00_04", NOW, UTC, -ENOENT,
	     "no snapshot named 2026_11_28_09_00_04",
	     "2026_11_28_09_00_03 before", "2026_11_28_09_00_41 after"),
	FAIL("refuses a full name older than every snapshot", "2020_01_01_00_00_00", NOW, UTC,
	     -ENOENT, "none before", "2024_02_29_12_00_00 after"),
	FAIL("refuses a full name that is not a real time, as not there",
	     "2026_02_30_00_00_00", NOW, UTC, -ENOENT, "2026_02_01_08_00_00 before",
	     "2026_03_29_00_30_00 after"),
	PICK("picks the only name with a prefix (leap day)", "2024_02_29", NOW, UTC,
	     "2024_02_29_12_00_00"),
	PICK("picks the only name with a prefix down to the hour", "2026_11_28_18", NOW, UTC,
	     "2026_11_28_18_30_00"),
	PICK("picks the only name with a prefix ending in a separator", "2026_07_", NOW, UTC,
	     "2026_07_15_10_00_00"),
	PICK("picks the only name with a 4-character prefix", "2026_10", NOW, UTC,
	     "2026_10_31_23_59_59"),
	FAIL("refuses a prefix shared by three snapshots, listing them", "2026_11_28", NOW,
	     UTC, -EEXIST, "3 snapshots match",
	     "2026_11_28_09_00_03, 2026_11_28_09_00_41, 2026_11_28_18_30_00)"),
	FAIL("refuses a prefix shared by two snapshots in one minute", "2026_11_28_09_00",
	     NOW, UTC, -EEXIST, "2 snapshots match",
	     "(2026_11_28_09_00_03, 2026_11_28_09_00_41)"),
	FAIL("refuses a year prefix, listing three of its ten snapshots", "2026", NOW, UTC,
	     -EEXIST, "10 snapshots match",
	     "(2026_01_31_23_00_00, 2026_02_01_08_00_00, 2026_03_29_00_30_00, ...)"),
	FAIL("refuses a prefix matching nothing, naming the names around it", "2025", NOW,
	     UTC, -ENOENT, "no snapshot name starts with 2025",
	     "2024_03_01_00_30_00 before", "2026_01_31_23_00_00 after"),
	FAIL("refuses a prefix older than everything", "2023_12", NOW, UTC, -ENOENT,
	     "none before, 2024_02_29_12_00_00 after"),
	FAIL("refuses a prefix newer than everything", "2027", NOW, UTC, -ENOENT,
	     "2026_11_29_09_00_03 before, none after"),
	FAIL("refuses a prefix of 3 characters", "202", NOW, UTC, -EINVAL, "\"202\""),
	FAIL("refuses a name without separators", "20261128", NOW, UTC, -EINVAL,
	     "not a time: \"20261128\""),
	FAIL("refuses a name one character too long", "2026_11_28_09_00_033", NOW, UTC,
	     -EINVAL, "not a time"),

	/* latest and latest~N */
	PICK("picks the newest for latest", "latest", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("matches LATEST whatever its case", "LATEST", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("takes current as latest", "current", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("takes latest~0 as latest", "latest~0", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("goes one back for latest~1", "latest~1", NOW, UTC, "2026_11_28_18_30_00"),
	PICK("goes back from current~N too", "Current~2", NOW, UTC, "2026_11_28_09_00_41"),
	PICK("reaches the first snapshot with latest~11", "latest~11", NOW, UTC,
	     "2024_02_29_12_00_00"),
	PICK("reads leading zeros in latest~N", "latest~011", NOW, UTC, "2024_02_29_12_00_00"),
	FAIL("refuses latest~12 past the first, saying how many there are", "latest~12", NOW,
	     UTC, -ENOENT, "\"latest~12\" goes back past the first snapshot",
	     "there are 12 snapshots"),
	FAIL("refuses a huge latest~N as past the first", "latest~99999999999999999999", NOW,
	     UTC, -ENOENT, "there are 12 snapshots"),
	FAIL("refuses latest~ without a number", "latest~", NOW, UTC, -EINVAL,
	     "\"latest~\"", "whole number"),
	FAIL("refuses latest~-1", "latest~-1", NOW, UTC, -EINVAL, "\"latest~-1\""),
	FAIL("refuses latest~1x", "latest~1x", NOW, UTC, -EINVAL, "\"latest~1x\""),
	FAIL("refuses latest^", "latest^", NOW, UTC, -EINVAL, "not a time: \"latest^\""),

	/* ISO 8601, boundaries to the second */
	PICK("picks a snapshot at exactly its time", "2026-11-28T09:00:03Z", NOW, UTC,
	     "2026_11_28_09_00_03"),
	PICK("picks the one before a second earlier", "2026-11-28T09:00:02Z", NOW, UTC,
	     "2026_10_31_23_59_59"),
	PICK("picks the first of one minute up to a second before the second",
	     "2026-11-28T09:00:40Z", NOW, UTC, "2026_11_28_09_00_03"),
	PICK("picks the second of one minute at its time, with a space for T",
	     "2026-11-28 09:00:41Z", NOW, UTC, "2026_11_28_09_00_41"),
	PICK("reads HH:MM as the start of the minute", "2026-11-28T09:00Z", NOW, UTC,
	     "2026_10_31_23_59_59"),
	PICK("ignores fractions of a second", "2026-11-28T09:00:40.999Z", NOW, UTC,
	     "2026_11_28_09_00_03"),
	PICK("ignores a comma fraction", "2026-11-28T09:00:41,5Z", NOW, UTC,
	     "2026_11_28_09_00_41"),
	PICK("matches t and z whatever their case", "2026-11-28t09:00:03z", NOW, UTC,
	     "2026_11_28_09_00_03"),
	PICK("reads a time without a zone as local (UTC)", "2026-11-28T09:00:03", NOW, UTC,
	     "2026_11_28_09_00_03"),
	PICK("reads a time without a zone as local (New York, 5 hours later)",
	     "2026-11-28T09:00:03", NOW, NYC, "2026_11_28_09_00_41"),
	PICK("reads Z as UTC whatever TZ says", "2026-11-28T09:00:03Z", NOW, NYC,
	     "2026_11_28_09_00_03"),
	PICK("applies a +HH:MM offset", "2026-11-28T10:00:03+01:00", NOW, NYC,
	     "2026_11_28_09_00_03"),
	PICK("applies a -HHMM offset", "2026-11-28T04:00:41-0500", NOW, BER,
	     "2026_11_28_09_00_41"),
	PICK("applies a -HH:MM offset a second short", "2026-11-28T04:00:40-05:00", NOW, BER,
	     "2026_11_28_09_00_03"),
	PICK("applies a +HH offset", "2026-11-28T10:00:41+01", NOW, UTC,
	     "2026_11_28_09_00_41"),
	PICK("picks the leap-day snapshot at its time", "2024-02-29T13:00+01:00", NOW, UTC,
	     "2024_02_29_12_00_00"),
	FAIL("refuses a second before the first snapshot, naming it and its time",
	     "2024-02-29T11:59:59Z", NOW, UTC, -ENOENT,
	     "no snapshot at or before \"2024-02-29T11:59:59Z\" (2024-02-29T11:59:59Z)",
	     "the first is 2024_02_29_12_00_00 (2024-02-29T12:00:00Z)"),
	FAIL("refuses a date before any snapshot", "1999-12-31", NOW, UTC, -ENOENT,
	     "2024_02_29_12_00_00"),
	PICK("picks the newest for a date in the future", "2030-01-01", NOW, UTC,
	     "2026_11_29_09_00_03"),

	/* a date alone is the end of that local day */
	PICK("takes a date as the end of the day (UTC)", "2026-11-28", NOW, UTC,
	     "2026_11_28_18_30_00"),
	PICK("takes the end of the day to the second (UTC)", "2026-10-31", NOW, UTC,
	     "2026_10_31_23_59_59"),
	PICK("ends 31 October an hour earlier in Berlin", "2026-10-31", NOW, BER,
	     "2026_07_15_10_00_00"),
	PICK("ends 31 October four hours later in New York", "2026-10-31", NOW, NYC,
	     "2026_10_31_23_59_59"),
	PICK("ends a month in UTC with its last snapshot", "2026-01-31", NOW, UTC,
	     "2026_01_31_23_00_00"),
	PICK("ends a month in Berlin before a push that was already February there",
	     "2026-01-31", NOW, BER, "2024_03_01_00_30_00"),
	PICK("picks that push at Berlin midnight", "2026-02-01T00:00", NOW, BER,
	     "2026_01_31_23_00_00"),
	PICK("ends the leap day (UTC)", "2024-02-29", NOW, UTC, "2024_02_29_12_00_00"),
	PICK("ends the leap day in New York after 1 March UTC", "2024-02-29", NOW, NYC,
	     "2024_03_01_00_30_00"),

	/* summer and winter time in Berlin */
	PICK("reads a Berlin summer time as UTC+2", "2026-07-15T12:00", NOW, BER,
	     "2026_07_15_10_00_00"),
	PICK("reads a second before in Berlin summer", "2026-07-15T11:59:59", NOW, BER,
	     "2026_03_29_01_30_00"),
	PICK("reads the same wall time in UTC as two hours later", "2026-07-15T10:00", NOW,
	     UTC, "2026_07_15_10_00_00"),
	PICK("reads the same wall time in Berlin as two hours earlier", "2026-07-15T10:00",
	     NOW, BER, "2026_03_29_01_30_00"),
	PICK("reads a Berlin winter time as UTC+1", "2026-02-01T09:00", NOW, BER,
	     "2026_02_01_08_00_00"),
	PICK("reads a second before in Berlin winter", "2026-02-01T08:59:59", NOW, BER,
	     "2026_01_31_23_00_00"),
	PICK("reads 01:30 on the spring-forward night as CET", "2026-03-29T01:30", NOW, BER,
	     "2026_03_29_00_30_00"),
	PICK("reads 03:30 on the spring-forward night as CEST", "2026-03-29T03:30", NOW, BER,
	     "2026_03_29_01_30_00"),
	PICK("reads a second before 03:30 CEST", "2026-03-29T03:29:59", NOW, BER,
	     "2026_03_29_00_30_00"),

	/* relative times */
	PICK("goes back 3d", "3d", NOW, UTC, "2026_10_31_23_59_59"),
	PICK("goes back 3 days ago", "3 days ago", NOW, UTC, "2026_10_31_23_59_59"),
	PICK("matches 3 Days Ago whatever its case", "3 Days Ago", NOW, UTC,
	     "2026_10_31_23_59_59"),
	PICK("takes 3 days without ago", "3 days", NOW, BER, "2026_10_31_23_59_59"),
	PICK("takes blanks between number, unit and ago", "3 \t d   ago", NOW, UTC,
	     "2026_10_31_23_59_59"),
	PICK("goes back 1 hour ago", "1 hour ago", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("goes back 2w", "2w", NOW, UTC, "2026_10_31_23_59_59"),
	PICK("goes back 2w ago", "2w ago", NOW, UTC, "2026_10_31_23_59_59"),
	PICK("picks a snapshot exactly 90m back", "90m", NOW_B, UTC, "2026_11_28_09_00_41"),
	PICK("picks the one before a second further back", "5401s", NOW_B, UTC,
	     "2026_11_28_09_00_03"),
	PICK("goes back 91 minutes", "91 minutes", NOW_B, UTC, "2026_10_31_23_59_59"),
	PICK("picks a snapshot exactly 1 day back", "1 day", NOW_C, UTC,
	     "2026_11_28_09_00_03"),
	PICK("picks the one before 86401 seconds back", "86401 seconds", NOW_C, UTC,
	     "2026_10_31_23_59_59"),
	PICK("goes back 24 hours ago", "24 hours ago", NOW_C, UTC, "2026_11_28_09_00_03"),
	PICK("goes back 1440 mins", "1440 mins", NOW_C, UTC, "2026_11_28_09_00_03"),
	PICK("takes 0s as now, picking a snapshot made now", "0s", NOW_C, UTC,
	     "2026_11_29_09_00_03"),
	PICK("goes back 1 sec past a snapshot made now", "1 sec", NOW_C, UTC,
	     "2026_11_28_18_30_00"),
	PICK("takes yesterday as 24 hours ago", "yesterday", NOW, UTC, "2026_11_28_09_00_41"),
	PICK("matches YESTERDAY whatever its case", "YESTERDAY", NOW, BER,
	     "2026_11_28_09_00_41"),
	PICK("picks the leap-day snapshot exactly a day back", "yesterday", NOW_L, UTC,
	     "2024_02_29_12_00_00"),
	PICK("takes today as now", "today", NOW, UTC, "2026_11_29_09_00_03"),
	PICK("takes now as now", " Now ", NOW, UTC, "2026_11_29_09_00_03"),
	FAIL("refuses 3d before the first snapshot, naming it", "3d", NOW_L, UTC, -ENOENT,
	     "no snapshot at or before \"3d\" (2024-02-27T12:00:00Z)",
	     "the first is 2024_02_29_12_00_00 (2024-02-29T12:00:00Z)"),
	FAIL("refuses 100000 years back as before the first", "5217750w", NOW, UTC, -ENOENT,
	     "2024_02_29_12_00_00"),

	/* not a time */
	FAIL("refuses the empty string", "", NOW, UTC, -EINVAL, "not a time: \"\"",
	     "(try a snapshot name, latest~1, 2026-11-28, 3d, yesterday)"),
	FAIL("refuses blanks only", " \t ", NOW, UTC, -EINVAL, "not a time: \"\""),
	FAIL("refuses a word it does not know", "foo", NOW, UTC, -EINVAL,
	     "not a time: \"foo\" (try a snapshot name, latest~1, 2026-11-28, 3d, yesterday)"),
	FAIL("refuses an unknown unit", "3x", NOW, UTC, -EINVAL, "unknown unit in \"3x\""),
	FAIL("refuses a number without a unit", "3", NOW, UTC, -EINVAL, "\"3\""),
	FAIL("refuses months, which have no fixed length", "1 month ago", NOW, UTC, -EINVAL,
	     "unknown unit"),
	FAIL("refuses a negative relative time", "-3d", NOW, UTC, -EINVAL, "\"-3d\""),
	FAIL("refuses a signed relative time", "+3d", NOW, UTC, -EINVAL, "\"+3d\""),
	FAIL("refuses a fractional relative time", "1.5h", NOW, UTC, -EINVAL, "\"1.5h\""),
	FAIL("refuses words after ago", "3 days ago please", NOW, UTC, -EINVAL,
	     "\"3 days ago please\""),
	FAIL("refuses ago without a number", "ago", NOW, UTC, -EINVAL, "\"ago\""),
	FAIL("refuses a relative time that overflows", "99999999999999999999d", NOW, UTC,
	     -EINVAL, "too far back: \"99999999999999999999d\""),
	FAIL("refuses one week more than 100000 years", "5217751w", NOW, UTC, -EINVAL,
	     "too far back"),
	FAIL("refuses month 13", "2026-13-01", NOW, UTC, -EINVAL,
	     "no such date: \"2026-13-01\""),
	FAIL("refuses 30 February", "2026-02-30", NOW, UTC, -EINVAL, "no such date"),
	FAIL("refuses 29 February of a common year", "2026-02-29", NOW, UTC, -EINVAL,
	     "no such date"),
	FAIL("refuses day 0", "2026-11-00", NOW, UTC, -EINVAL, "no such date"),
	FAIL("refuses hour 24", "2026-11-28T24:00", NOW, UTC, -EINVAL,
	     "no such time of day: \"2026-11-28T24:00\""),
	FAIL("refuses minute 60", "2026-11-28T09:60", NOW, UTC, -EINVAL, "no such time of day"),
	FAIL("refuses second 60", "2026-11-28T09:00:60Z", NOW, UTC, -EINVAL,
	     "no such time of day"),
	FAIL("refuses a zone offset of 25 hours", "2026-11-28T09:00+25:00", NOW, UTC, -EINVAL,
	     "no such zone offset"),
	FAIL("refuses a zone on a date alone", "2026-11-28Z", NOW, UTC, -EINVAL,
	     "not a time: \"2026-11-28Z\""),
	FAIL("refuses an hour without minutes", "2026-11-28T09", NOW, UTC, -EINVAL,
	     "not a time"),
	FAIL("refuses a one-digit month", "2026-1-28", NOW, UTC, -EINVAL, "not a time"),
	FAIL("refuses a dot without a fraction", "2026-11-28T09:00:03.", NOW, UTC, -EINVAL,
	     "not a time"),
	FAIL("refuses a blank before the zone", "2026-11-28T09:00 Z", NOW, UTC, -EINVAL,
	     "not a time"),
	FAIL("escapes a newline inside, keeping the reason on one line", "3d\nago", NOW, UTC,
	     -EINVAL, "\"3d\\x0aago\""),
	FAIL("escapes quotes and non-ASCII bytes", "\"caf\xc3\xa9\"", NOW, UTC, -EINVAL,
	     "\"\\\"caf\\xc3\\xa9\\\"\""),

	/* the empty list */
	FAIL_EMPTY("says there are no snapshots yet for latest", "latest", -ENOENT,
		   "no snapshots yet"),
	FAIL_EMPTY("says there are no snapshots yet for latest~3", "latest~3", -ENOENT,
		   "no snapshots yet"),
	FAIL_EMPTY("says there are no snapshots yet for a prefix", "2026_11", -ENOENT,
		   "no snapshots yet"),
	FAIL_EMPTY("says there are no snapshots yet for a date", "2026-11-28", -ENOENT,
		   "no snapshots yet"),
	FAIL_EMPTY("says there are no snapshots yet for 3d", "3d", -ENOENT,
		   "no snapshots yet"),
	FAIL_EMPTY("still refuses what is not a time", "foo", -EINVAL, "not a time: \"foo\""),
	FAIL_EMPTY("still refuses latest~", "latest~", -EINVAL, "\"latest~\""),
};

static void run_resolve_row(void **state)
{
	const struct resolve_row *row = *state;
	char why[TIMESPEC_WHY_SIZE];
	size_t index = 4242;
	int rc;

	set_tz(row->tz);
	memset(why, 'X', sizeof(why));
	rc = resolve_snapshot(row->spec, (time_t)row->now, row->empty ? NULL : fixture,
			      row->empty ? 0 : NFIX, &index, why, sizeof(why));
	if (rc != row->rc)
		print_error("rc %d, expected %d; why: %s\n", rc, row->rc, why);
	assert_int_equal(rc, row->rc);
	assert_non_null(memchr(why, '\0', sizeof(why)));
	if (!row->rc) {
		assert_true(index < NFIX);
		assert_string_equal(fixture[index], row->pick);
		assert_string_equal(why, "");
		return;
	}
	assert_int_equal(index, 4242);   /* untouched on failure */
	assert_true(why[0] != '\0');
	assert_true(strlen(why) < sizeof(why) - 1);   /* fits whole */
	for (const char *p = why; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);   /* one printable line */
	for (size_t i = 0; i < 3 && row->why[i]; i++) {
		if (!strstr(why, row->why[i]))
			print_error("why: %s\nlacks: %s\n", why, row->why[i]);
		assert_non_null(strstr(why, row->why[i]));
	}
}

/* ------------------------------------------------------------------ */

struct parse_row {
	const char *name;
	const char *spec;
	long long now;
	const char *tz;
	int rc;
	long long t;          /* UTC seconds when rc == 0 */
	const char *why;      /* substring of the reason when rc != 0 */
};

#define AT(name, spec, now, tz, t) { name, spec, now, tz, 0, t, NULL }
#define BAD(name, spec, why) { name, spec, NOW, UTC, -EINVAL, 0, why }

#define T_0903 1795856403LL   /* 2026-11-28T09:00:03Z */
#define MAXBACK 3155695200000LL   /* 100000 years of 365.2425 days */

static const struct parse_row parse_rows[] = {
	AT("reads Z as UTC", "2026-11-28T09:00:03Z", NOW, UTC, T_0903),
	AT("reads Z as UTC in Berlin too", "2026-11-28T09:00:03Z", NOW, BER, T_0903),
	AT("reads a Berlin winter time as UTC+1", "2026-11-28T10:00:03", NOW, BER, T_0903),
	AT("reads a New York winter time as UTC-5", "2026-11-28T04:00:03", NOW, NYC, T_0903),
	AT("reads a New York summer time as UTC-4", "2026-07-15T12:00", NOW, NYC,
	   1784131200LL),
	AT("applies +01:00", "2026-11-28T10:00:03+01:00", NOW, NYC, T_0903),
	AT("applies +0100", "2026-11-28T10:00:03+0100", NOW, NYC, T_0903),
	AT("applies +01", "2026-11-28T10:00:03+01", NOW, NYC, T_0903),
	AT("applies -05:30", "2026-11-28T03:30:03-05:30", NOW, BER, T_0903),
	AT("ignores nine digits of fraction", "2026-11-28T09:00:03.123456789Z", NOW, UTC,
	   T_0903),
	AT("ends a date at 23:59:59 UTC", "2026-11-28", NOW, UTC, 1795910399LL),
	AT("ends a date at 23:59:59 Berlin winter time", "2026-11-28", NOW, BER,
	   1795906799LL),
	AT("ends a date at 23:59:59 Berlin summer time", "2026-07-15", NOW, BER,
	   1784152799LL),
	AT("ends a date at 23:59:59 New York time", "2026-11-28", NOW, NYC, 1795928399LL),
	AT("reads the epoch", "1970-01-01T00:00:00Z", NOW, UTC, 0),
	AT("reads the second before the epoch (Z)", "1969-12-31T23:59:59Z", NOW, UTC, -1),
	AT("reads the second before the epoch (local), which mktime returns as -1",
	   "1969-12-31T23:59:59", NOW, UTC, -1),
	AT("reads a leap day", "2024-02-29T12:00:00Z", NOW, UTC, 1709208000LL),
	AT("reads a leap day of a year divisible by 400", "2000-02-29T00:00Z", NOW, UTC,
	   951782400LL),
	AT("reads a time skipped by Berlin's spring-forward with the offset before",
	   "2026-03-29T02:30", NOW, BER, 1774747800LL),
	AT("reads a time repeated by Berlin's fall-back as the later", "2026-10-25T02:30",
	   NOW, BER, 1792891800LL),
	AT("reads a time skipped by New York's spring-forward with the offset before",
	   "2026-03-08T02:30", NOW, NYC, 1772955000LL),
	AT("reads a time repeated by New York's fall-back as the later", "2026-11-01T01:30",
	   NOW, NYC, 1793514600LL),
	AT("goes back 3d", "3d", NOW, UTC, NOW - 3 * 86400),
	AT("goes back 2 weeks ago, trimmed", " 2 weeks ago ", NOW, BER, NOW - 14 * 86400),
	AT("goes back 90m", "90m", NOW, UTC, NOW - 90 * 60),
	AT("goes back 1 hour ago", "1 Hour Ago", NOW, UTC, NOW - 3600),
	AT("takes 0s as now", "0s", NOW, UTC, NOW),
	AT("takes now", "NOW", NOW, UTC, NOW),
	AT("takes today as now", "today", NOW, UTC, NOW),
	AT("takes yesterday as 24 hours ago whatever the zone", "yesterday", NOW, BER,
	   NOW - 86400),
	AT("goes back exactly 100000 years in weeks", "5217750w", NOW, UTC, NOW - MAXBACK),
	AT("goes back exactly 100000 years in seconds", "3155695200000s", NOW, UTC,
	   NOW - MAXBACK),
	BAD("refuses a second more than 100000 years", "3155695200001 seconds",
	    "too far back"),
	BAD("refuses a relative time that overflows", "99999999999999999999d",
	    "too far back"),
	BAD("refuses latest, which needs the list", "latest", "names a snapshot, not a time"),
	BAD("refuses latest~1, which needs the list", "latest~1",
	    "names a snapshot, not a time"),
	BAD("refuses a snapshot name, which needs the list", "2026_11_28_09_00_03",
	    "names a snapshot, not a time"),
	BAD("refuses years", "1y", "unknown unit in \"1y\""),
	BAD("refuses year 0", "0000-01-01", "no such date"),
	BAD("refuses 29 February 2100", "2100-02-29", "no such date"),
	BAD("refuses a one-digit hour", "2026-11-28T9:00", "not a time"),
	BAD("refuses two separators", "2026-11-28TT09:00", "not a time"),
	BAD("refuses a zone without hours", "2026-11-28T09:00+", "not a time"),
	BAD("refuses zone minutes 60", "2026-11-28T09:00+01:60", "no such zone offset"),
};

static void run_parse_row(void **state)
{
	const struct parse_row *row = *state;
	char why[TIMESPEC_WHY_SIZE];
	time_t t = (time_t)-42;
	int rc;

	set_tz(row->tz);
	rc = parse_time_expr(row->spec, (time_t)row->now, &t, why, sizeof(why));
	if (rc != row->rc)
		print_error("rc %d, expected %d; why: %s\n", rc, row->rc, why);
	assert_int_equal(rc, row->rc);
	if (!row->rc) {
		assert_int_equal((long long)t, row->t);
		assert_string_equal(why, "");
		return;
	}
	assert_int_equal(t, (time_t)-42);   /* untouched on failure */
	assert_null(strchr(why, '\n'));
	if (!strstr(why, row->why))
		print_error("why: %s\nlacks: %s\n", why, row->why);
	assert_non_null(strstr(why, row->why));
}

/* ------------------------------------------------------------------ */

/* Without tzdata every zone silently reads as UTC and the DST rows lie. */
static void zoneinfo_is_installed(void **state)
{
	(void)state;
	time_t summer = 1784109600;   /* 2026-07-15T10:00:00Z */
	struct tm tm;

	set_tz(BER);
	assert_non_null(localtime_r(&summer, &tm));
	assert_int_equal(tm.tm_hour, 12);
	assert_int_equal(tm.tm_isdst, 1);
	set_tz(NYC);
	assert_non_null(localtime_r(&summer, &tm));
	assert_int_equal(tm.tm_hour, 6);
}

static void quotes_at_most_64_bytes_of_a_long_expression(void **state)
{
	(void)state;
	char spec[300], why[TIMESPEC_WHY_SIZE];
	size_t index = 7;
	const char *open, *close;

	memset(spec, 'x', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	set_tz(UTC);
	assert_int_equal(resolve_snapshot(spec, NOW, fixture, NFIX, &index, why, sizeof(why)),
			 -EINVAL);
	open = strchr(why, '"');
	assert_non_null(open);
	close = strchr(open + 1, '"');
	assert_non_null(close);
	assert_int_equal(close - open - 1, 64);
	assert_memory_equal(close - 3, "...", 3);
	assert_int_equal(index, 7);
}

static void quotes_at_most_64_bytes_of_escapes(void **state)
{
	(void)state;
	char spec[40], why[TIMESPEC_WHY_SIZE];
	time_t t;
	const char *open, *close;

	memset(spec, '\x01', sizeof(spec) - 1);   /* 39 bytes, 156 escaped */
	spec[sizeof(spec) - 1] = '\0';
	set_tz(UTC);
	assert_int_equal(parse_time_expr(spec, NOW, &t, why, sizeof(why)), -EINVAL);
	open = strchr(why, '"');
	close = strrchr(why, '"');
	assert_true(open && close && close > open);
	assert_true(close - open - 1 <= 64);
	assert_memory_equal(close - 3, "...", 3);
	assert_non_null(strstr(why, "\\x01\\x01"));
}

static void takes_the_longest_expression_but_not_one_byte_more(void **state)
{
	(void)state;
	char spec[TIMESPEC_MAX + 2], why[TIMESPEC_WHY_SIZE];
	time_t t = 0;

	/* "3" + blanks + "d": blanks between number and unit are allowed */
	memset(spec, ' ', sizeof(spec));
	spec[0] = '3';
	spec[TIMESPEC_MAX - 1] = 'd';
	spec[TIMESPEC_MAX] = '\0';
	assert_int_equal(parse_time_expr(spec, NOW, &t, why, sizeof(why)), 0);
	assert_int_equal((long long)t, NOW - 3 * 86400);
	spec[TIMESPEC_MAX - 1] = ' ';
	spec[TIMESPEC_MAX] = 'd';
	spec[TIMESPEC_MAX + 1] = '\0';
	assert_int_equal(parse_time_expr(spec, NOW, &t, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a time"));
}

static void truncates_the_reason_to_a_short_buffer(void **state)
{
	(void)state;
	char why[12];
	size_t index = 0;

	memset(why, 'X', sizeof(why));
	set_tz(UTC);
	assert_int_equal(resolve_snapshot("2026", NOW, fixture, NFIX, &index, why, sizeof(why)),
			 -EEXIST);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(resolve_snapshot("latest~1", NOW, fixture, NFIX, &index, why, 1), 0);
	assert_string_equal(fixture[index], "2026_11_28_18_30_00");
}

static void works_without_a_reason_buffer(void **state)
{
	(void)state;
	size_t index = 0;
	time_t t = 0;

	set_tz(UTC);
	assert_int_equal(resolve_snapshot("foo", NOW, fixture, NFIX, &index, NULL, 0), -EINVAL);
	assert_int_equal(resolve_snapshot("2026", NOW, fixture, NFIX, &index, NULL, 0), -EEXIST);
	assert_int_equal(resolve_snapshot("3d", NOW_L, fixture, NFIX, &index, NULL, 0), -ENOENT);
	assert_int_equal(resolve_snapshot("yesterday", NOW, fixture, NFIX, &index, NULL, 0), 0);
	assert_string_equal(fixture[index], "2026_11_28_09_00_41");
	assert_int_equal(parse_time_expr("3x", NOW, &t, NULL, 0), -EINVAL);
	assert_int_equal(resolve_snapshot(NULL, NOW, fixture, NFIX, &index, NULL, 0), -EINVAL);
}

static void says_is_for_a_single_snapshot(void **state)
{
	(void)state;
	char why[TIMESPEC_WHY_SIZE];
	size_t index = 0;

	set_tz(UTC);
	assert_int_equal(resolve_snapshot("latest~1", NOW, fixture + NFIX - 1, 1, &index, why,
					  sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "there is 1 snapshot (latest~0 to latest~0)"));
	assert_int_equal(resolve_snapshot("2026_11", NOW, fixture + NFIX - 1, 1, &index, why,
					  sizeof(why)), 0);
	assert_int_equal(index, 0);
}

/* Every name in the list is picked by its own time, and by latest~N. */
static void picks_every_snapshot_by_its_own_time(void **state)
{
	(void)state;
	set_tz(BER);
	for (size_t i = 0; i < NFIX; i++) {
		char iso[32], spec[40], why[TIMESPEC_WHY_SIZE];
		time_t t;
		size_t index = NFIX;

		assert_int_equal(snapname_parse(fixture[i], &t), 0);
		format_iso_utc(t, iso);
		assert_int_equal(resolve_snapshot(iso, NOW, fixture, NFIX, &index, why,
						  sizeof(why)), 0);
		assert_int_equal(index, i);
		snprintf(spec, sizeof(spec), "latest~%zu", NFIX - 1 - i);
		assert_int_equal(resolve_snapshot(spec, NOW, fixture, NFIX, &index, why,
						  sizeof(why)), 0);
		assert_int_equal(index, i);
	}
}

int main(void)
{
	size_t nres = sizeof(resolve_rows) / sizeof(resolve_rows[0]);
	size_t npar = sizeof(parse_rows) / sizeof(parse_rows[0]);
	struct CMUnitTest *res = xcalloc(nres, sizeof(*res));
	struct CMUnitTest *par = xcalloc(npar, sizeof(*par));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zoneinfo_is_installed),
		cmocka_unit_test(quotes_at_most_64_bytes_of_a_long_expression),
		cmocka_unit_test(quotes_at_most_64_bytes_of_escapes),
		cmocka_unit_test(takes_the_longest_expression_but_not_one_byte_more),
		cmocka_unit_test(truncates_the_reason_to_a_short_buffer),
		cmocka_unit_test(works_without_a_reason_buffer),
		cmocka_unit_test(says_is_for_a_single_snapshot),
		cmocka_unit_test(picks_every_snapshot_by_its_own_time),
	};
	int failed;

	for (size_t i = 0; i < nres; i++) {
		res[i].name = resolve_rows[i].name;
		res[i].test_func = run_resolve_row;
		res[i].initial_state = (void *)&resolve_rows[i];
	}
	for (size_t i = 0; i < npar; i++) {
		par[i].name = parse_rows[i].name;
		par[i].test_func = run_parse_row;
		par[i].initial_state = (void *)&parse_rows[i];
	}
	failed = _cmocka_run_group_tests("resolve_snapshot table", res, nres, NULL, NULL);
	failed += _cmocka_run_group_tests("parse_time_expr table", par, npar, NULL, NULL);
	failed += cmocka_run_group_tests_name("time grammar", tests, NULL, NULL);
	free(res);
	free(par);
	return failed ? 1 : 0;
}
