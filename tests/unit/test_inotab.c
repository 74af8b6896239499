/*
 * The inode table behind `hindsight-server du`: who holds an inode once
 * the walk is over, one case per way its links can fall, and a table that
 * grows without losing anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "inotab.h"

/* sightings: the unit of each further link seen after the first */
struct row {
	const char *name;
	uint64_t nlink;
	uint32_t first;
	uint32_t later[4];
	size_t nlater;
	enum ino_holder want;
	uint32_t want_unit;   /* for INO_ONE_UNIT */
	int firsts;           /* how many sightings were first in their unit */
};

static const struct row rows[] = {
	{ "two links in one snapshot: that snapshot's", 2, 3, { 3 }, 1, INO_ONE_UNIT, 3, 0 },
	{ "three links in one snapshot: that snapshot's", 3, 0, { 0, 0 }, 2, INO_ONE_UNIT, 0, 0 },
	{ "one link in each of two snapshots: shared", 2, 0, { 1 }, 1, INO_SHARED, 0, 1 },
	{ "linked from 30 snapshots... here four: shared", 4, 0, { 1, 2, 3 }, 3, INO_SHARED, 0, 3 },
	{ "two links in one, then one in the next: shared", 3, 5, { 5, 6 }, 2, INO_SHARED, 0, 1 },
	{ "a link not seen (outside the root): nobody's", 3, 2, { 2 }, 1, INO_OUTSIDE, 0, 0 },
	{ "a link not seen, others in two snapshots: outside", 4, 0, { 1, 2 }, 2, INO_OUTSIDE, 0, 2 },
	{ "more sightings than links (linked meanwhile): no underflow", 2, 0, { 0, 0 }, 2,
	  INO_ONE_UNIT, 0, 0 },
	{ "more links than a slot counts: never unique", (uint64_t)1 << 40, 0, { 0 }, 1,
	  INO_OUTSIDE, 0, 0 },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	struct inotab t = INOTAB_INIT;
	struct ino_slot *s;
	uint32_t unit = 99;
	int firsts = 0;

	assert_null(inotab_find(&t, 1234));
	inotab_add(&t, 1234, 100, 8, r->nlink, r->first);
	for (size_t i = 0; i < r->nlater; i++) {
		s = inotab_find(&t, 1234);
		assert_non_null(s);
		firsts += inotab_seen(s, r->later[i]);
	}
	s = inotab_find(&t, 1234);
	assert_int_equal(inotab_holder(s, &unit), r->want);
	if (r->want == INO_ONE_UNIT)
		assert_int_equal(unit, r->want_unit);
	assert_int_equal(firsts, r->firsts);
	assert_int_equal(s->size, 100);
	assert_int_equal(s->blocks, 8);
	inotab_free(&t);
}

static void finds_nothing_in_an_empty_table(void **state)
{
	(void)state;
	struct inotab t = INOTAB_INIT;

	assert_null(inotab_find(&t, 0));
	assert_null(inotab_find(&t, 1));
	inotab_free(&t);
}

static void keeps_inode_zero_apart_from_empty_slots(void **state)
{
	(void)state;
	struct inotab t = INOTAB_INIT;

	inotab_add(&t, 0, 1, 2, 2, 7);
	assert_non_null(inotab_find(&t, 0));
	assert_null(inotab_find(&t, 1));
	inotab_free(&t);
}

static void grows_and_keeps_every_inode(void **state)
{
	(void)state;
	enum { N = 200000 };
	struct inotab t = INOTAB_INIT;

	/* dense numbers (as filesystems hand out) and sparse ones */
	for (uint64_t i = 0; i < N; i++) {
		uint64_t ino = (i % 2) ? i : i * 0x9e3779b97f4a7c15ULL;
		inotab_add(&t, ino, i, i + 1, 2, (uint32_t)(i % 30));
		assert_true(t.n * 4 <= t.cap * 3);
	}
	assert_int_equal(t.n, N);
	assert_int_equal(t.cap & (t.cap - 1), 0);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t ino = (i % 2) ? i : i * 0x9e3779b97f4a7c15ULL;
		struct ino_slot *s = inotab_find(&t, ino);
		assert_non_null(s);
		assert_int_equal(s->size, i);
		assert_int_equal(s->blocks, i + 1);
		assert_int_equal(s->unit & INO_MASK, i % 30);
	}
	size_t used = 0;
	for (size_t i = 0; i < t.cap; i++)
		used += (t.slots[i].left & INO_USED) != 0;
	assert_int_equal(used, N);
	inotab_free(&t);
	assert_null(t.slots);
}

static void has_32_byte_slots(void **state)
{
	(void)state;
	/* the man page and inotab.h promise this size */
	assert_int_equal(sizeof(struct ino_slot), 32);
}

int main(void)
{
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest table[NROWS];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_nothing_in_an_empty_table),
		cmocka_unit_test(keeps_inode_zero_apart_from_empty_slots),
		cmocka_unit_test(grows_and_keeps_every_inode),
		cmocka_unit_test(has_32_byte_slots),
	};
	int failed;

	for (size_t i = 0; i < NROWS; i++) {
		table[i] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL,
						(void *)&rows[i] };
	}
	failed = _cmocka_run_group_tests("who holds an inode", table, NROWS, NULL, NULL);
	failed += cmocka_run_group_tests_name("inode table", tests, NULL, NULL);
	return failed ? 1 : 0;
}
