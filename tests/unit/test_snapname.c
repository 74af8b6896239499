/*
 * Snapshot names YYYY_MM_DD_HH_MM_SS: strict parsing, one row per case,
 * formatting, and the promise that names sort in time order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapname.h"
#include "util.h"

struct parse_row {
	const char *name;
	const char *s;
	int valid;
	long long t;      /* epoch when valid */
};

#define VALID(name, s, t) { name, s, 1, t }
#define INVALID(name, s) { name, s, 0, 0 }

static struct parse_row parse_rows[] = {
	VALID("parses the epoch", "1970_01_01_00_00_00", 0),
	VALID("parses a morning push", "2026_11_29_09_00_03", 1795942803LL),
	VALID("parses the leap day 2024_02_29", "2024_02_29_12_00_00", 1709208000LL),
	VALID("parses the leap day 2000_02_29 (divisible by 400)",
	      "2000_02_29_00_00_00", 951782400LL),
	VALID("parses the last second of a year", "2025_12_31_23_59_59", 1767225599LL),
	VALID("parses the first second past 32-bit time", "2038_01_19_03_14_08",
	      2147483648LL),
	VALID("parses the last name there is", "9999_12_31_23_59_59", 253402300799LL),
	INVALID("refuses 29 February of a common year", "2023_02_29_00_00_00"),
	INVALID("refuses 29 February 2100 (divisible by 100)", "2100_02_29_00_00_00"),
	INVALID("refuses 30 February", "2026_02_30_00_00_00"),
	INVALID("refuses 31 April", "2026_04_31_00_00_00"),
	INVALID("refuses day 0", "2026_01_00_00_00_00"),
	INVALID("refuses day 32", "2026_01_32_00_00_00"),
	INVALID("refuses month 0", "2026_00_10_00_00_00"),
	INVALID("refuses month 13", "2026_13_10_00_00_00"),
	INVALID("refuses hour 24", "2026_11_29_24_00_00"),
	INVALID("refuses minute 60", "2026_11_29_09_60_00"),
	INVALID("refuses second 60 (no leap seconds)", "2026_11_29_09_00_60"),
	INVALID("refuses dashes as separators", "2026-11-29_09_00_03"),
	INVALID("refuses a T between date and time", "2026_11_29T09_00_03"),
	INVALID("refuses spaces as separators", "2026 11 29 09 00 03"),
	INVALID("refuses a misplaced separator", "2026_1_129_09_00_03"),
	INVALID("refuses a name one character short", "2026_11_29_09_00_0"),
	INVALID("refuses a name one character long", "2026_11_29_09_00_033"),
	INVALID("refuses a trailing slash", "2026_11_29_09_00_03/"),
	INVALID("refuses a trailing newline", "2026_11_29_09_00_03\n"),
	INVALID("refuses a leading space", " 2026_11_29_09_00_0"),
	INVALID("refuses letters", "2026_1a_29_09_00_03"),
	INVALID("refuses a sign", "+026_11_29_09_00_03"),
	INVALID("refuses a year before 1970", "1969_12_31_23_59_59"),
	INVALID("refuses year 0000", "0000_01_01_00_00_00"),
	INVALID("refuses the empty string", ""),
	INVALID("refuses current", "current"),
	INVALID("refuses inprogress", "inprogress"),
	INVALID("refuses .hindsight", ".hindsight"),
};

static void run_parse_row(void **state)
{
	const struct parse_row *row = *state;
	time_t t = (time_t)-42;

	if (!row->valid) {
		assert_int_equal(snapname_parse(row->s, &t), -1);
		assert_int_equal(snapname_parse(row->s, NULL), -1);
		assert_int_equal(t, (time_t)-42);   /* untouched on failure */
		return;
	}
	assert_int_equal(snapname_parse(row->s, &t), 0);
	assert_int_equal(t, (time_t)row->t);
	assert_int_equal(snapname_parse(row->s, NULL), 0);

	char back[SNAPNAME_SIZE];
	assert_int_equal(snapname_format(t, back), 0);
	assert_string_equal(back, row->s);
}

static void formats_the_epoch(void **state)
{
	(void)state;
	char s[SNAPNAME_SIZE];

	assert_int_equal(snapname_format(0, s), 0);
	assert_string_equal(s, "1970_01_01_00_00_00");
	assert_int_equal(strlen(s), SNAPNAME_LEN);
}

static void formats_a_time_in_utc_whatever_tz_says(void **state)
{
	(void)state;
	char s[SNAPNAME_SIZE];
	char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;

	setenv("TZ", "KIT-14", 1);   /* POSIX for UTC+14, no tzdata needed */
	tzset();
	assert_int_equal(snapname_format(1795942803, s), 0);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	assert_string_equal(s, "2026_11_29_09_00_03");
}

static void refuses_to_format_times_outside_four_digit_years(void **state)
{
	(void)state;
	char s[SNAPNAME_SIZE];

	assert_int_equal(snapname_format(-1, s), -1);
	assert_int_equal(snapname_format((time_t)253402300799LL + 1, s), -1);
}

static void round_trips_times_across_the_whole_range(void **state)
{
	(void)state;
	static const long long times[] = {
		0, 1, 59, 60, 3599, 86399, 86400, 951782400, 951868799,
		1709208000, 1767225599, 1767225600, 1795942803,
		2147483647, 2147483648LL, 4102444800LL, 253402300799LL,
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char s[SNAPNAME_SIZE];
		time_t back;

		assert_int_equal(snapname_format((time_t)times[i], s), 0);
		assert_int_equal(snapname_parse(s, &back), 0);
		assert_int_equal(back, (time_t)times[i]);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort_in_time_order_as_strings(void **state)
{
	(void)state;
	enum { N = 2000 };
	char (*names)[SNAPNAME_SIZE] = xcalloc(N, SNAPNAME_SIZE);
	char **order = xcalloc(N, sizeof(*order));
	unsigned long long x = 88172645463325252ULL;   /* fixed seed */

	time_t t = 0;

	for (size_t i = 0; i < N; i++) {
		/* xorshift64 over 1970..9999; every odd name is its neighbour's next second */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = (i % 2) ? t + 1 : (time_t)(x % 253402300799ULL);
		assert_int_equal(snapname_format(t, names[i]), 0);
		order[i] = names[i];
	}
	qsort(order, N, sizeof(*order), cmp_str);
	for (size_t i = 1; i < N; i++) {
		time_t a, b;
		assert_int_equal(snapname_parse(order[i - 1], &a), 0);
		assert_int_equal(snapname_parse(order[i], &b), 0);
		assert_true(a <= b);
	}
	free(order);
	free(names);
}

static void neighbouring_seconds_sort_in_order(void **state)
{
	(void)state;
	static const long long edges[] = {
		0, 59, 3599, 86399, 951868799, 1767225599, 2147483647, 253402300798LL,
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		char a[SNAPNAME_SIZE], b[SNAPNAME_SIZE];
		assert_int_equal(snapname_format((time_t)edges[i], a), 0);
		assert_int_equal(snapname_format((time_t)edges[i] + 1, b), 0);
		assert_true(strcmp(a, b) < 0);
	}
}

static void formats_iso_8601_utc(void **state)
{
	(void)state;
	char s[32];

	format_iso_utc(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00Z");
	format_iso_utc(1795942803, s);
	assert_string_equal(s, "2026-11-29T09:00:03Z");
	format_iso_utc(1709208000, s);
	assert_string_equal(s, "2024-02-29T12:00:00Z");
	format_iso_utc(2147483648LL, s);
	assert_string_equal(s, "2038-01-19T03:14:08Z");
}

int main(void)
{
	size_t nrows = sizeof(parse_rows) / sizeof(parse_rows[0]);
	struct CMUnitTest *rows = xcalloc(nrows, sizeof(*rows));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_the_epoch),
		cmocka_unit_test(formats_a_time_in_utc_whatever_tz_says),
		cmocka_unit_test(refuses_to_format_times_outside_four_digit_years),
		cmocka_unit_test(round_trips_times_across_the_whole_range),
		cmocka_unit_test(names_sort_in_time_order_as_strings),
		cmocka_unit_test(neighbouring_seconds_sort_in_order),
		cmocka_unit_test(formats_iso_8601_utc),
	};
	int failed;

	for (size_t i = 0; i < nrows; i++) {
		rows[i].name = parse_rows[i].name;
		rows[i].test_func = run_parse_row;
		rows[i].initial_state = &parse_rows[i];
	}
	failed = _cmocka_run_group_tests("snapshot name parsing table", rows, nrows,
					 NULL, NULL);
	failed += cmocka_run_group_tests_name("snapshot names", tests, NULL, NULL);
	free(rows);
	return failed ? 1 : 0;
}
