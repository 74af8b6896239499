/*
 * Retention policy tables (retention.h): parse rows, decision rows (which
 * snapshots a policy keeps at a given now), expiry rows (when a snapshot
 * would go), and a two-year hourly history thinned to exactly the set the
 * default policy describes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention.h"
#include "snapname.h"
#include "util.h"

/* ---------------------------------------------------------------- parse */

struct parse_row {
	const char *name;
	const char *text;
	const char *canonical;  /* NULL: must be refused */
	const char *why;        /* a substring of the reason when refused */
};

static const struct parse_row parse_rows[] = {
	{ "the default parses", RET_DEFAULT, RET_DEFAULT, NULL },
	{ "commas and extra blanks separate tiers too", " 24h:all,  30d:daily\tforever:weekly ",
	  RET_DEFAULT, NULL },
	{ "monthly and yearly tiers", "7d:all 12m:monthly 10y:yearly",
	  "7d:all 12m:monthly 10y:yearly", NULL },
	{ "a delete-older-than policy has no forever tier", "90d:all", "90d:all", NULL },
	{ "a none tier", "24h:all 7d:none forever:weekly", "24h:all 7d:none forever:weekly", NULL },
	{ "keep everything", "forever:all", "forever:all", NULL },
	{ "hourly tier", "48h:hourly", "48h:hourly", NULL },
	{ "an empty policy is refused", "", NULL, "no tiers" },
	{ "blanks only are refused", "  , ", NULL, "no tiers" },
	{ "an unknown unit is refused", "30x:daily", NULL, "tier 1 \"30x:daily\": age must be" },
	{ "a tier without keep is refused", "30d", NULL, "expected AGE:KEEP" },
	{ "an unknown keep word is refused", "24h:all 30d:dayly", NULL,
	  "tier 2 \"30d:dayly\": keep must be" },
	{ "zero age is refused", "0d:all", NULL, "age must be" },
	{ "a huge age is refused", "100001d:all", NULL, "age must be" },
	{ "a negative age is refused", "-1d:all", NULL, "age must be" },
	{ "a unit without a number is refused", "d:all", NULL, "age must be" },
	{ "a tier after forever is refused", "forever:weekly 1y:all", NULL,
	  "nothing can follow a forever tier" },
	{ "tiers out of order are refused", "30d:daily 24h:all", NULL, "must grow older" },
	{ "equal nominal ages are refused (30d vs 1m)", "30d:daily 1m:weekly", NULL,
	  "must grow older" },
	{ "seventeen tiers are refused",
	  "1h:all 2h:all 3h:all 4h:all 5h:all 6h:all 7h:all 8h:all 9h:all 10h:all 11h:all "
	  "12h:all 13h:all 14h:all 15h:all 16h:all 17h:all", NULL, "more than 16 tiers" },
};

static void run_parse_row(void **state)
{
	const struct parse_row *row = *state;
	struct ret_policy p;
	char why[200] = "";
	int rc = ret_parse(row->text, &p, why, sizeof(why));

	if (!row->canonical) {
		if (rc == 0)
			fail_msg("%s: accepted", row->name);
		if (!strstr(why, row->why))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", row->name, why, row->why);
		return;
	}
	if (rc < 0)
		fail_msg("%s: refused: %s", row->name, why);
	struct strbuf out = STRBUF_INIT;
	ret_format(&p, &out);
	assert_string_equal(out.buf, row->canonical);
	sb_release(&out);
}

/* ---------------------------------------------------------------- decide */

/*
 * snaps: names oldest first, each may end in *P (pinned), *C (current) or
 * *B (push basis). keep: the names that must be kept, all others deleted.
 * reason: optionally "NAME=substring" for one snapshot's reason.
 */
struct decide_row {
	const char *name;
	const char *policy;
	const char *now;
	const char *snaps;
	const char *keep;
	const char *reason;
};

#define D RET_DEFAULT
#define NOW "2026_11_29_12_00_00"   /* a Sunday */

static const struct decide_row decide_rows[] = {
	{ "an empty history decides nothing", D, NOW, "", "", NULL },
	{ "a single snapshot is kept, however old", D, NOW, "2001_01_01_00_00_00",
	  "2001_01_01_00_00_00", "2001_01_01_00_00_00=newest snapshot" },
	{ "the newest is kept even past every tier", "1h:all", NOW,
	  "2026_11_01_00_00_00 2026_11_10_00_00_00", "2026_11_10_00_00_00",
	  "2026_11_01_00_00_00=older than the last tier (1h:all)" },
	{ "everything in the last 24 hours is kept", D, NOW,
	  "2026_11_28_12_00_00 2026_11_28_13_00_00 2026_11_29_11_00_00 2026_11_29_11_30_00",
	  "2026_11_28_12_00_00 2026_11_28_13_00_00 2026_11_29_11_00_00 2026_11_29_11_30_00",
	  "2026_11_28_12_00_00=24h:all" },
	{ "exactly 24h old is inside the 24h tier; one second more is not", D, NOW,
	  "2026_11_28_11_59_59 2026_11_28_12_00_00 2026_11_29_11_00_00",
	  "2026_11_28_12_00_00 2026_11_29_11_00_00",
	  "2026_11_28_11_59_59=30d:daily, 2026_11_28_12_00_00 is the newest of 2026-11-28" },
	{ "the newest of a day is kept, not the first", D, NOW,
	  "2026_11_20_08_00_00 2026_11_20_21_00_00 2026_11_29_11_00_00",
	  "2026_11_20_21_00_00 2026_11_29_11_00_00",
	  "2026_11_20_21_00_00=30d:daily, newest of 2026-11-20" },
	{ "three in one day keep only the last", D, NOW,
	  "2026_11_15_00_00_00 2026_11_15_12_00_00 2026_11_15_23_59_59 2026_11_29_11_00_00",
	  "2026_11_15_23_59_59 2026_11_29_11_00_00", NULL },
	{ "23:59:59 and the next 00:00:00 are different days", D, NOW,
	  "2026_11_14_23_59_59 2026_11_15_00_00_00 2026_11_29_11_00_00",
	  "2026_11_14_23_59_59 2026_11_15_00_00_00 2026_11_29_11_00_00", NULL },
	{ "00:00:00 and 23:59:59 of one day are the same day", D, NOW,
	  "2026_11_14_00_00_00 2026_11_14_23_59_59 2026_11_29_11_00_00",
	  "2026_11_14_23_59_59 2026_11_29_11_00_00", NULL },
	{ "a day's newest inside the 24h tier thins that day in the daily tier", D, NOW,
	  "2026_11_28_10_00_00 2026_11_28_20_00_00 2026_11_29_11_00_00",
	  "2026_11_28_20_00_00 2026_11_29_11_00_00",
	  "2026_11_28_10_00_00=2026_11_28_20_00_00 is the newest of 2026-11-28" },
	{ "days are UTC: 23:30Z and 00:30Z are two days", "forever:daily", NOW,
	  "2026_06_01_23_30_00 2026_06_02_00_30_00 2026_11_29_11_00_00",
	  "2026_06_01_23_30_00 2026_06_02_00_30_00 2026_11_29_11_00_00", NULL },
	{ "Sunday 23:59:59 and Monday 00:00:00 are different weeks", D, NOW,
	  "2026_09_06_23_59_59 2026_09_07_00_00_00 2026_11_29_11_00_00",
	  "2026_09_06_23_59_59 2026_09_07_00_00_00 2026_11_29_11_00_00", NULL },
	{ "a week runs Monday to Sunday: Monday's is thinned by Sunday's", D, NOW,
	  "2026_09_07_00_00_00 2026_09_13_23_00_00 2026_11_29_11_00_00",
	  "2026_09_13_23_00_00 2026_11_29_11_00_00",
	  "2026_09_07_00_00_00=forever:weekly, 2026_09_13_23_00_00 is the newest of the week of "
	  "2026-09-07" },
	{ "Saturday and Sunday are one week", D, NOW,
	  "2026_09_12_10_00_00 2026_09_13_10_00_00 2026_11_29_11_00_00",
	  "2026_09_13_10_00_00 2026_11_29_11_00_00", NULL },
	{ "a week straddling the 30-day line keeps its newest, in the daily tier", D, NOW,
	  "2026_10_26_10_00_00 2026_10_31_10_00_00 2026_11_29_11_00_00",
	  "2026_10_31_10_00_00 2026_11_29_11_00_00",
	  "2026_10_26_10_00_00=forever:weekly, 2026_10_31_10_00_00 is the newest of the week of "
	  "2026-10-26" },
	{ "a week across a year end is one week (Mon 29 Dec .. Sun 4 Jan)", "forever:weekly",
	  NOW, "2025_12_29_10_00_00 2026_01_04_10_00_00 2026_11_29_11_00_00",
	  "2026_01_04_10_00_00 2026_11_29_11_00_00", NULL },
	{ "leap day: 28, 29 February and 1 March are three days", "forever:daily", NOW,
	  "2024_02_28_23_00_00 2024_02_29_10_00_00 2024_02_29_22_00_00 2024_03_01_01_00_00 "
	  "2026_11_29_11_00_00",
	  "2024_02_28_23_00_00 2024_02_29_22_00_00 2024_03_01_01_00_00 2026_11_29_11_00_00",
	  "2024_02_29_22_00_00=forever:daily, newest of 2024-02-29" },
	{ "leap day is the newest of its February", "forever:monthly", NOW,
	  "2024_02_01_00_00_00 2024_02_29_22_00_00 2024_03_01_00_00_00 2026_11_29_11_00_00",
	  "2024_02_29_22_00_00 2024_03_01_00_00_00 2026_11_29_11_00_00",
	  "2024_02_29_22_00_00=forever:monthly, newest of 2024-02" },
	{ "1y back from a leap day is 28 February", "1y:all", "2028_02_29_12_00_00",
	  "2027_02_28_11_59_59 2027_02_28_12_00_00 2028_02_29_11_00_00",
	  "2027_02_28_12_00_00 2028_02_29_11_00_00", NULL },
	{ "1m back from 31 March is 28 February", "1m:all", "2026_03_31_12_00_00",
	  "2026_02_28_11_59_59 2026_02_28_12_00_00 2026_03_31_11_00_00",
	  "2026_02_28_12_00_00 2026_03_31_11_00_00", NULL },
	{ "1m back from 31 March of a leap year is 29 February", "1m:all", "2028_03_31_12_00_00",
	  "2028_02_29_11_59_59 2028_02_29_12_00_00 2028_03_31_11_00_00",
	  "2028_02_29_12_00_00 2028_03_31_11_00_00", NULL },
	{ "newest of each year in a yearly tier", "forever:yearly", NOW,
	  "2023_06_01_00_00_00 2023_12_31_23_59_59 2024_01_01_00_00_00 2025_05_05_05_05_05 "
	  "2026_11_29_11_00_00",
	  "2023_12_31_23_59_59 2024_01_01_00_00_00 2025_05_05_05_05_05 2026_11_29_11_00_00",
	  NULL },
	{ "newest of each hour in an hourly tier", "forever:hourly", NOW,
	  "2026_11_29_09_00_00 2026_11_29_09_59_59 2026_11_29_10_00_00 2026_11_29_11_00_00",
	  "2026_11_29_09_59_59 2026_11_29_10_00_00 2026_11_29_11_00_00", NULL },
	{ "past the last tier is deleted (delete older than 30d)", "30d:all", NOW,
	  "2026_10_29_11_59_59 2026_10_30_12_00_00 2026_11_29_11_00_00",
	  "2026_10_30_12_00_00 2026_11_29_11_00_00",
	  "2026_10_29_11_59_59=older than the last tier (30d:all)" },
	{ "a none tier deletes inside its window", "24h:all 7d:none forever:weekly", NOW,
	  "2026_11_01_10_00_00 2026_11_26_10_00_00 2026_11_29_11_00_00",
	  "2026_11_01_10_00_00 2026_11_29_11_00_00", "2026_11_26_10_00_00=7d:none" },
	{ "forever:all keeps everything", "forever:all", NOW,
	  "2001_01_01_00_00_00 2001_01_01_00_00_01 2026_11_29_11_00_00",
	  "2001_01_01_00_00_00 2001_01_01_00_00_01 2026_11_29_11_00_00", NULL },
	{ "a pinned snapshot is kept past every tier", "30d:all", NOW,
	  "2020_01_01_00_00_00*P 2020_01_02_00_00_00 2026_11_29_11_00_00",
	  "2020_01_01_00_00_00 2026_11_29_11_00_00", "2020_01_01_00_00_00=pinned" },
	{ "the target of current is kept", "1h:all", NOW,
	  "2026_11_01_00_00_00*C 2026_11_29_11_30_00", "2026_11_01_00_00_00 2026_11_29_11_30_00",
	  "2026_11_01_00_00_00=current" },
	{ "the link basis of a push in progress is kept", "1h:all", NOW,
	  "2026_11_01_00_00_00*B 2026_11_29_11_30_00", "2026_11_01_00_00_00 2026_11_29_11_30_00",
	  "2026_11_01_00_00_00=link basis of the push in progress" },
	{ "a snapshot from the future (clock skew) is in the first tier", D, NOW,
	  "2026_11_29_11_00_00 2026_11_30_00_00_00 2026_12_01_00_00_00",
	  "2026_11_29_11_00_00 2026_11_30_00_00_00 2026_12_01_00_00_00", NULL },
	{ "a day in the daily tier with one snapshot keeps it", D, NOW,
	  "2026_11_01_03_00_00 2026_11_29_11_00_00", "2026_11_01_03_00_00 2026_11_29_11_00_00",
	  NULL },
	{ "monthly tier after a daily one, and the year past it", "7d:daily 12m:monthly", NOW,
	  "2025_11_28_00_00_00 2026_01_10_00_00_00 2026_01_20_00_00_00 2026_02_05_00_00_00 "
	  "2026_11_29_11_00_00",
	  "2026_01_20_00_00_00 2026_02_05_00_00_00 2026_11_29_11_00_00",
	  "2025_11_28_00_00_00=older than the last tier (12m:monthly)" },
};

struct history {
	time_t *t;
	unsigned *flags;
	char (*names)[SNAPNAME_SIZE];
	size_t n;
};

static void parse_history(const char *s, struct history *h)
{
	char *copy = xstrdup(s), *save = NULL;

	memset(h, 0, sizeof(*h));
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		h->t = xrealloc(h->t, (h->n + 1) * sizeof(*h->t));
		h->flags = xrealloc(h->flags, (h->n + 1) * sizeof(*h->flags));
		h->names = xrealloc(h->names, (h->n + 1) * sizeof(*h->names));
		unsigned f = 0;
		char *star = strchr(w, '*');
		if (star) {
			*star = '\0';
			f = star[1] == 'P' ? RET_PINNED : star[1] == 'C' ? RET_CURRENT : RET_BASIS;
		}
		if (snapname_parse(w, &h->t[h->n]) < 0)
			fail_msg("bad name in table: %s", w);
		snprintf(h->names[h->n], SNAPNAME_SIZE, "%s", w);
		h->flags[h->n++] = f;
	}
	free(copy);
}

static void history_free(struct history *h)
{
	free(h->t);
	free(h->flags);
	free(h->names);
}

static int word_in(const char *list, const char *w)
{
	size_t len = strlen(w);
	for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return 1;
	return 0;
}

static void run_decide_row(void **state)
{
	const struct decide_row *row = *state;
	struct ret_policy p;
	struct history h;
	char why[200];
	time_t now;

	if (ret_parse(row->policy, &p, why, sizeof(why)) < 0)
		fail_msg("%s: policy refused: %s", row->name, why);
	assert_int_equal(snapname_parse(row->now, &now), 0);
	parse_history(row->snaps, &h);
	for (size_t i = 1; i < h.n; i++)
		if (h.t[i] <= h.t[i - 1])
			fail_msg("%s: the table must list snapshots oldest first", row->name);
	struct ret_verdict *v = xcalloc(h.n + 1, sizeof(*v));
	ret_decide(h.t, h.flags, h.n, now, &p, v);
	for (size_t i = 0; i < h.n; i++) {
		int want = word_in(row->keep, h.names[i]);
		if (v[i].keep != want)
			fail_msg("%s: %s: got %s (%s), want %s", row->name, h.names[i],
				 v[i].keep ? "keep" : "delete", v[i].reason,
				 want ? "keep" : "delete");
		if (!v[i].reason[0])
			fail_msg("%s: %s has no reason", row->name, h.names[i]);
	}
	if (row->reason) {
		const char *eq = strchr(row->reason, '=');
		int found = 0;
		for (size_t i = 0; i < h.n; i++)
			if (!strncmp(h.names[i], row->reason, (size_t)(eq - row->reason))) {
				found = 1;
				if (!strstr(v[i].reason, eq + 1))
					fail_msg("%s: %s: reason \"%s\" lacks \"%s\"", row->name,
						 h.names[i], v[i].reason, eq + 1);
			}
		assert_true(found);
	}
	free(v);
	history_free(&h);
}

/* ---------------------------------------------------------------- expiry */

struct expiry_row {
	const char *name;
	const char *policy;
	const char *now;
	const char *snaps;
	size_t index;
	const char *when;   /* snapshot-name format; "never" for 0 */
};

static const struct expiry_row expiry_rows[] = {
	{ "not the newest of its day: goes when it leaves the 24h tier", D, NOW,
	  "2026_11_29_08_00_00 2026_11_29_09_00_00 2026_11_29_11_00_00", 0,
	  "2026_11_30_08_00_01" },
	{ "newest of a Wednesday: goes when it leaves the 30d tier", D, NOW,
	  "2026_11_25_23_00_00 2026_11_29_11_00_00", 0, "2026_12_25_23_00_01" },
	{ "newest of its week: kept forever by the default", D, NOW,
	  "2026_11_22_23_00_00 2026_11_29_11_00_00", 0, "never" },
	{ "a delete-older-than policy: at the age limit", "30d:all", NOW,
	  "2026_11_20_00_00_00 2026_11_29_11_00_00", 0, "2026_12_20_00_00_01" },
	{ "already due: now", "30d:all", NOW, "2026_01_01_00_00_00 2026_11_29_11_00_00", 0,
	  NOW },
	{ "the newest never expires", "30d:all", NOW, "2026_11_20_00_00_00 2026_11_29_11_00_00", 1,
	  "never" },
	{ "a pinned snapshot never expires", "30d:all", NOW,
	  "2026_11_20_00_00_00*P 2026_11_29_11_00_00", 0, "never" },
	{ "calendar months: 1m from 31 January ends on 1 March", "1m:all", "2026_02_10_00_00_00",
	  "2026_01_31_12_00_00 2026_02_09_00_00_00", 0, "2026_03_01_00_00_00" },
};

static void run_expiry_row(void **state)
{
	const struct expiry_row *row = *state;
	struct ret_policy p;
	struct history h;
	char why[200], got[SNAPNAME_SIZE] = "never";
	time_t now;

	assert_int_equal(ret_parse(row->policy, &p, why, sizeof(why)), 0);
	assert_int_equal(snapname_parse(row->now, &now), 0);
	parse_history(row->snaps, &h);
	time_t when = ret_expiry(h.t, h.flags, h.n, row->index, now, &p);
	if (when)
		snapname_format(when, got);
	if (strcmp(got, row->when))
		fail_msg("%s: expires %s, want %s", row->name, got, row->when);
	/* and the decision at that second agrees */
	if (when) {
		struct ret_verdict *v = xcalloc(h.n, sizeof(*v));
		ret_decide(h.t, h.flags, h.n, when, &p, v);
		assert_false(v[row->index].keep);
		ret_decide(h.t, h.flags, h.n, when - 1, &p, v);
		if (when > now)
			assert_true(v[row->index].keep);
		free(v);
	}
	history_free(&h);
}

/* ---------------------------------------------------------------- two years */

/*
 * Hourly snapshots for two years up to Sunday 2026-11-29 12:00Z, thinned by
 * the default policy, must leave exactly: every hour from 2026-11-28 12:00
 * (25), 23:00 of each day from 30 October to 27 November (29), and 23:00 of
 * each Sunday before the week of 26 October (100): 154 snapshots.
 */
static void two_years_hourly(void **state)
{
	struct ret_policy p;
	char why[200];
	time_t now, first;
	size_t n = 0, kept = 0;

	(void)state;
	assert_int_equal(ret_parse(RET_DEFAULT, &p, why, sizeof(why)), 0);
	assert_int_equal(snapname_parse(NOW, &now), 0);
	first = now - 730 * 86400;
	time_t *t = xcalloc(731 * 24 + 1, sizeof(*t));
	for (time_t x = first; x <= now; x += 3600)
		t[n++] = x;
	assert_int_equal(n, 17521);
	struct ret_verdict *v = xcalloc(n, sizeof(*v));
	ret_decide(t, NULL, n, now, &p, v);
	time_t day24 = now - 86400, day30 = now - 30 * 86400, oct26;
	assert_int_equal(snapname_parse("2026_10_26_00_00_00", &oct26), 0);
	for (size_t i = 0; i < n; i++) {
		struct tm tm;
		gmtime_r(&t[i], &tm);
		int want = t[i] >= day24 ||
			   (t[i] >= day30 && tm.tm_hour == 23) ||
			   (t[i] < oct26 && tm.tm_wday == 0 && tm.tm_hour == 23);
		if (v[i].keep != want) {
			char name[SNAPNAME_SIZE];
			snapname_format(t[i], name);
			fail_msg("%s: got %s (%s)", name, v[i].keep ? "keep" : "delete", v[i].reason);
		}
		kept += (size_t)v[i].keep;
	}
	assert_int_equal(kept, 154);
	/* thinning is stable: deciding again on what was kept deletes nothing */
	time_t *k = xcalloc(kept, sizeof(*k));
	for (size_t i = 0, j = 0; i < n; i++)
		if (v[i].keep)
			k[j++] = t[i];
	ret_decide(k, NULL, kept, now, &p, v);
	for (size_t i = 0; i < kept; i++)
		assert_true(v[i].keep);
	free(k);
	free(v);
	free(t);
}

/* ---------------------------------------------------------------- main */

#define ROWS(arr, fn, tests, nt) \
	for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) \
		tests[nt++] = (struct CMUnitTest){ arr[i].name, fn, NULL, NULL, (void *)&arr[i] }

int main(void)
{
	enum { MAX = sizeof(parse_rows) / sizeof(parse_rows[0]) +
		     sizeof(decide_rows) / sizeof(decide_rows[0]) +
		     sizeof(expiry_rows) / sizeof(expiry_rows[0]) + 1 };
	struct CMUnitTest tests[MAX];
	size_t nt = 0;

	ROWS(parse_rows, run_parse_row, tests, nt);
	ROWS(decide_rows, run_decide_row, tests, nt);
	ROWS(expiry_rows, run_expiry_row, tests, nt);
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(two_years_hourly);
	return _cmocka_run_group_tests("retention", tests, nt, NULL, NULL);
}
