/*
 * An account's state from what its root shows and the clock: one row per
 * situation, with the state, and stale and failing on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acctstate.h"

#define NOW ((time_t)1800000000)
#define H 3600LL
#define DAY (24 * H)

struct row {
	const char *name;
	struct acct_facts f;
	const char *state;
	int stale, failing;
	long long age;
};

/* facts: snapshots, newest, newest_start, in_progress, left_inprogress,
 * have_last, last_failed, last_start, max_age */
static const struct row rows[] = {
	{ "no snapshot and no attempt: never",
	  { 0, 0, 0, 0, 0, 0, 0, 0, 26 * H }, "never", 0, 0, -1 },
	{ "no snapshot, max_age long past: still never, not stale",
	  { 0, 0, 0, 0, 0, 0, 0, 0, 1 }, "never", 0, 0, -1 },
	{ "a fresh snapshot: ok",
	  { 1, NOW - H, NOW - H, 0, 0, 1, 0, NOW - H, 26 * H }, "ok", 0, 0, H },
	{ "exactly max_age old: still ok",
	  { 3, NOW - 26 * H, NOW - 26 * H, 0, 0, 0, 0, 0, 26 * H }, "ok", 0, 0, 26 * H },
	{ "one second past max_age: stale",
	  { 3, NOW - 26 * H - 1, NOW - 26 * H - 1, 0, 0, 0, 0, 0, 26 * H }, "stale", 1, 0,
	  26 * H + 1 },
	{ "max_age none: never stale",
	  { 3, NOW - 400 * DAY, NOW - 400 * DAY, 0, 0, 0, 0, 0, 0 }, "ok", 0, 0, 400 * DAY },
	{ "the last attempt failed after the newest snapshot: failing",
	  { 2, NOW - 2 * H, NOW - 2 * H, 0, 0, 1, 1, NOW - H, 26 * H }, "failing", 0, 1, 2 * H },
	{ "a failed first push: failing",
	  { 0, 0, 0, 0, 0, 1, 1, NOW - H, 26 * H }, "failing", 0, 1, -1 },
	{ "a failure older than the newest snapshot is history: ok",
	  { 2, NOW - H, NOW - H, 0, 0, 1, 1, NOW - 3 * H, 26 * H }, "ok", 0, 0, H },
	{ "an interrupted tree with no push running: failing",
	  { 2, NOW - H, NOW - H, 0, 1, 1, 0, NOW - H, 26 * H }, "failing", 0, 1, H },
	{ "failing wins over stale, and both are reported",
	  { 2, NOW - 3 * DAY, NOW - 3 * DAY, 0, 0, 1, 1, NOW - H, 26 * H }, "failing", 1, 1,
	  3 * DAY },
	{ "a push running: in progress",
	  { 2, NOW - H, NOW - H, 1, 1, 1, 0, NOW - H, 26 * H }, "in progress", 0, 0, H },
	{ "a push running after a failure: in progress, not failing",
	  { 2, NOW - H, NOW - H, 1, 1, 1, 1, NOW - 10, 26 * H }, "in progress", 0, 0, H },
	{ "a push running on a stale account: stale (a hung push must not hide it)",
	  { 2, NOW - 3 * DAY, NOW - 3 * DAY, 1, 1, 1, 0, NOW - 3 * DAY, 26 * H }, "stale", 1, 0,
	  3 * DAY },
	{ "a first push running: in progress",
	  { 0, 0, 0, 1, 1, 0, 0, 0, 26 * H }, "in progress", 0, 0, -1 },
	{ "a name moved a second past its start: a failure after the start counts",
	  { 2, NOW - H + 1, NOW - H, 0, 0, 1, 1, NOW - H, 26 * H }, "failing", 0, 1, H - 1 },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	struct acct_verdict v;

	acct_decide(&r->f, NOW, &v);
	if (strcmp(acct_state_name(v.state), r->state) || v.stale != r->stale ||
	    v.failing != r->failing || v.age != r->age)
		fail_msg("%s: got %s stale=%d failing=%d age=%lld, want %s %d %d %lld", r->name,
			 acct_state_name(v.state), v.stale, v.failing, v.age, r->state, r->stale,
			 r->failing, r->age);
}

static void names_are_distinct(void **state)
{
	(void)state;
	assert_string_equal(acct_state_name(ACCT_OK), "ok");
	assert_string_equal(acct_state_name(ACCT_IN_PROGRESS), "in progress");
	assert_string_equal(acct_state_name((enum acct_state)99), "?");
	for (int i = 0; i < ACCT_NSTATES; i++)
		for (int j = i + 1; j < ACCT_NSTATES; j++)
			assert_string_not_equal(acct_state_name((enum acct_state)i),
						acct_state_name((enum acct_state)j));
}

int main(void)
{
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[N + 1];
	size_t nt = 0;

	for (size_t i = 0; i < N; i++)
		tests[nt++] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL,
						   (void *)&rows[i] };
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(names_are_distinct);
	return _cmocka_run_group_tests("acctstate", tests, nt, NULL, NULL);
}
