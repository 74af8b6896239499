/*
 * The browser's state machine without a terminal (browse.h): reading the
 * ls and versions answers, what it asks for next, the cursor, the path,
 * stepping through time, the filter, the timeline's marks, and the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browse.h"
#include "client.h"
#include "exitcodes.h"
#include "strbuf.h"
#include "util.h"

static char snaps[5][SNAPNAME_SIZE] = {
	"2026_11_01_10_00_00", "2026_11_02_10_00_00", "2026_11_03_10_00_00",
	"2026_11_04_10_00_00", "2026_11_05_10_00_00",
};
#define S(i) snaps[i]

/* Store a directory listing of "name:type" words (NULL-terminated). */
#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_NAMES ((const char *const[]){ NULL })
static void put_dir(struct browse *b, const char *snap, const char *path, const char *const *words)
{
	json_t *top = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[]}", "protocol", 1, "verb", "ls",
				"snapshot", snap, "path", path, "type", "dir", "entries");
	json_t *arr = json_object_get(top, "entries");
	struct blisting l;
	const char *w;

	while ((w = *words++) != NULL) {
		const char *colon = strchr(w, ':');
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(colon - w), w);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I}", "name", name, "type",
						     colon + 1, "size", (json_int_t)10,
						     "mtime", (json_int_t)1700000000));
	}
	assert_int_equal(blisting_from_json(top, &l), 0);
	json_decref(top);
	browse_put_ls(b, snap, path, &l);
}

static void put_absent(struct browse *b, const char *snap, const char *path)
{
	struct blisting l;

	blisting_failed(&l, HS_EXIT_NOTFOUND, "no such path");
	browse_put_ls(b, snap, path, &l);
}

static const char *sel_name(const struct browse *b)
{
	const struct bentry *e = browse_selected(b);
	return e ? e->raw.buf : NULL;
}

/* ---------------------------------------------------------------- answers */

static void reads_ls_answers(void **state)
{
	(void)state;
	/* as the server sends them: \xff escaped on the wire, \u0001 as JSON */
	const char *text =
		"{\"protocol\": 1, \"verb\": \"ls\", \"snapshot\": \"2026_11_01_10_00_00\","
		" \"path\": \"t\", \"type\": \"dir\", \"entries\": ["
		"{\"name\": \"bad\\\\xffname\", \"name_escaped\": true, \"type\": \"file\", \"size\": 3,"
		" \"mtime\": 1700000000},"
		"{\"name\": \"ctl\\u0001x\", \"type\": \"file\", \"size\": 1},"
		"{\"name\": \"link\", \"type\": \"symlink\", \"target\": \"../f\"},"
		"{\"name\": \"sub\", \"type\": \"dir\"}]}";
	json_t *top = answer_parse(text, "ls");
	struct blisting l;

	assert_non_null(top);
	assert_int_equal(blisting_from_json(top, &l), 0);
	json_decref(top);
	assert_int_equal(l.n, 4);
	assert_true(l.is_dir);
	assert_int_equal(l.e[0].raw.len, 8);
	assert_memory_equal(l.e[0].raw.buf, "bad\xff" "name", 8);
	assert_string_equal(l.e[0].shown.buf, "bad\\xffname");
	assert_int_equal(l.e[0].size, 3);
	assert_int_equal(l.e[0].mtime, 1700000000);
	assert_string_equal(l.e[1].raw.buf, "ctl\x01x");
	assert_string_equal(l.e[1].shown.buf, "ctl\\x01x");
	assert_string_equal(l.e[2].shown.buf, "link -> ../f");
	assert_string_equal(l.e[2].type, "symlink");
	assert_string_equal(l.e[3].type, "dir");
	blisting_free(&l);

	/* not a protocol 1 ls: refused before anything reads it */
	assert_null(answer_parse("{\"protocol\": 2, \"verb\": \"ls\"}", "ls"));
	assert_null(answer_parse("{\"protocol\": 1, \"verb\": \"versions\"}", "ls"));
	assert_null(answer_parse("not json", "ls"));
	top = answer_parse("{\"protocol\": 1, \"verb\": \"ls\", \"entries\": 3}", "ls");
	assert_non_null(top);
	assert_int_equal(blisting_from_json(top, &l), -1);
	json_decref(top);
	blisting_free(&l);
	/* a name that does not unescape is left out, not shown wrong */
	top = answer_parse("{\"protocol\": 1, \"verb\": \"ls\", \"type\": \"dir\", \"entries\": ["
			   "{\"name\": \"x\\\\q\", \"name_escaped\": true}, {\"name\": \"ok\"}]}", "ls");
	assert_int_equal(blisting_from_json(top, &l), 0);
	json_decref(top);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.e[0].raw.buf, "ok");
	blisting_free(&l);
}

static void reads_versions_answers(void **state)
{
	(void)state;
	const char *text =
		"{\"protocol\": 1, \"verb\": \"versions\", \"path\": \"t/f\", \"versions\": ["
		"{\"first\": \"2026_11_01_10_00_00\", \"last\": \"2026_11_02_10_00_00\", \"count\": 2,"
		" \"type\": \"file\", \"size\": 3, \"mtime\": 5},"
		"{\"first\": \"2026_11_03_10_00_00\", \"last\": \"2026_11_04_10_00_00\", \"count\": 2,"
		" \"type\": \"file\", \"size\": 10},"
		"{\"first\": \"bogus\", \"last\": \"2026_11_04_10_00_00\", \"count\": 1}],"
		" \"missing\": [\"2026_11_05_10_00_00\"]}";
	json_t *top = answer_parse(text, "versions");
	struct bversions v;

	assert_non_null(top);
	assert_int_equal(bversions_from_json(top, &v), 0);
	json_decref(top);
	assert_int_equal(v.n, 2);   /* the one with a bad snapshot name is dropped */
	assert_string_equal(v.v[0].first, "2026_11_01_10_00_00");
	assert_string_equal(v.v[1].last, "2026_11_04_10_00_00");
	assert_int_equal(v.v[1].size, 10);
	assert_int_equal(v.v[0].count, 2);
	assert_int_equal(v.missing, 1);
	bversions_free(&v);

	top = answer_parse("{\"protocol\": 1, \"verb\": \"versions\", \"versions\": [],"
			   " \"missing_count\": 1234}", "versions");
	assert_int_equal(bversions_from_json(top, &v), 0);
	assert_int_equal(v.missing, 1234);
	json_decref(top);
	bversions_free(&v);
}

/* ---------------------------------------------------------------- queries */

static void asks_for_the_listing_then_the_versions(void **state)
{
	struct browse b;
	struct bquery q;

	(void)state;
	browse_init(&b, snaps, 5, 4, "home/me");
	assert_null(browse_listing(&b));
	assert_int_equal(browse_next_query(&b, &q), 1);
	assert_int_equal(q.kind, BQ_LS);
	assert_string_equal(q.snap, S(4));
	assert_string_equal(q.path.buf, "home/me");
	bquery_free(&q);

	put_dir(&b, S(4), "home/me", NAMES("a:file", "b:dir"));
	assert_non_null(browse_listing(&b));
	assert_string_equal(sel_name(&b), "a");
	assert_int_equal(browse_next_query(&b, &q), 1);
	assert_int_equal(q.kind, BQ_VERSIONS);
	assert_string_equal(q.path.buf, "home/me/a");
	bquery_free(&q);

	struct bversions v;
	bversions_failed(&v, HS_EXIT_NOTFOUND, NULL);
	browse_put_versions(&b, "home/me/a", &v);
	assert_int_equal(browse_next_query(&b, &q), 0);
	/* the cursor moves on to a directory: its versions are not fetched
	 * unasked (a new inode in every snapshot), only when `v` wants them */
	browse_move(&b, 1);
	assert_int_equal(browse_next_query(&b, &q), 0);
	browse_want_versions(&b, "home/me/b");
	assert_int_equal(browse_next_query(&b, &q), 1);
	assert_int_equal(q.kind, BQ_VERSIONS);
	assert_string_equal(q.path.buf, "home/me/b");
	bquery_free(&q);
	bversions_failed(&v, HS_EXIT_ERROR, "lost");
	browse_put_versions(&b, "home/me/b", &v);
	assert_int_equal(browse_next_query(&b, &q), 0);
	assert_string_equal(browse_versions(&b, "home/me/b")->msg, "lost");

	/* a second answer for one key is dropped: the first stays */
	put_dir(&b, S(4), "home/me", NAMES("z:file"));
	assert_int_equal(browse_listing(&b)->n, 2);

	/* failures: "not there" is an answer; the network's are tried again */
	struct blisting l;
	blisting_failed(&l, HS_EXIT_UNREACHABLE, "ssh: connect to host server: refused");
	browse_put_ls(&b, S(3), "home/me", &l);
	put_absent(&b, S(2), "home/me");
	bversions_failed(&v, HS_EXIT_UNREACHABLE, NULL);
	browse_put_versions(&b, "home/me/x", &v);
	/* these two, and home/me/b's "lost" above */
	assert_int_equal(browse_forget_failures(&b), 3);
	assert_int_equal(browse_forget_failures(&b), 0);
	assert_null(browse_versions(&b, "home/me/b"));
	assert_non_null(browse_listing(&b));              /* S4: kept */
	assert_null(browse_versions(&b, "home/me/x"));
	assert_non_null(browse_versions(&b, "home/me/a"));   /* "not found": kept */
	browse_step(&b, -1);
	assert_null(browse_listing(&b));                  /* S3: fetched again */
	browse_step(&b, -1);
	assert_int_equal(browse_listing(&b)->code, HS_EXIT_NOTFOUND);
	browse_free(&b);
}

/* ---------------------------------------------------------------- cursor */

static void the_cursor_is_clamped_and_scrolls(void **state)
{
	struct browse b;

	(void)state;
	browse_init(&b, snaps, 5, 4, "");
	browse_move(&b, 1);   /* nothing listed yet: nothing happens */
	assert_int_equal(b.cursor, 0);
	put_dir(&b, S(4), "", NAMES("a:file", "b:file", "c:file", "d:file", "e:file", "f:file",
		"g:file", "h:file", "i:file", "j:file"));
	assert_int_equal(b.nview, 10);
	browse_move(&b, -1);
	assert_int_equal(b.cursor, 0);
	browse_move(&b, 3);
	assert_string_equal(sel_name(&b), "d");
	browse_move(&b, 1000);   /* End */
	assert_int_equal(b.cursor, 9);
	browse_move(&b, 1);
	assert_int_equal(b.cursor, 9);
	browse_scroll(&b, 4);
	assert_int_equal(b.top, 6);   /* the last page, cursor on its last row */
	browse_move(&b, -4);          /* PgUp */
	assert_int_equal(b.cursor, 5);
	browse_scroll(&b, 4);
	assert_int_equal(b.top, 5);
	browse_move(&b, -1000);       /* Home */
	browse_scroll(&b, 4);
	assert_int_equal(b.cursor, 0);
	assert_int_equal(b.top, 0);
	/* a taller window than the list: never scrolled */
	browse_move(&b, 9);
	browse_scroll(&b, 30);
	assert_int_equal(b.top, 0);
	/* a window made smaller (resize): the cursor stays visible */
	browse_scroll(&b, 3);
	assert_int_equal(b.top, 7);
	browse_free(&b);
}

static void enter_and_up_walk_the_tree(void **state)
{
	struct browse b;
	struct bquery q;

	(void)state;
	browse_init(&b, snaps, 5, 4, "");
	put_dir(&b, S(4), "", NAMES("etc:dir", "home:dir", "vmlinuz:file"));
	browse_move(&b, 2);
	assert_int_equal(browse_enter(&b), -1);   /* a file */
	assert_string_equal(b.path.buf, "");
	browse_move(&b, -1);
	assert_int_equal(browse_enter(&b), 0);
	assert_string_equal(b.path.buf, "home");
	assert_null(browse_listing(&b));
	assert_int_equal(browse_next_query(&b, &q), 1);
	assert_string_equal(q.path.buf, "home");
	bquery_free(&q);
	put_dir(&b, S(4), "home", NAMES("me:dir"));
	assert_int_equal(browse_enter(&b), 0);
	assert_string_equal(b.path.buf, "home/me");
	put_dir(&b, S(4), "home/me", NO_NAMES);   /* empty */
	assert_null(browse_selected(&b));
	assert_int_equal(browse_enter(&b), -1);
	/* up: the cursor is on where we came from, at once (cached) */
	assert_int_equal(browse_up(&b), 0);
	assert_string_equal(b.path.buf, "home");
	assert_string_equal(sel_name(&b), "me");
	assert_int_equal(browse_up(&b), 0);
	assert_string_equal(b.path.buf, "");
	assert_string_equal(sel_name(&b), "home");
	assert_int_equal(browse_up(&b), -1);

	/* up into a directory not fetched yet: the cursor lands when it comes */
	browse_free(&b);
	browse_init(&b, snaps, 5, 4, "a/b/c");
	assert_int_equal(browse_up(&b), 0);
	assert_string_equal(b.path.buf, "a/b");
	put_dir(&b, S(4), "a/b", NAMES("a1:file", "b1:file", "c:dir", "d:dir"));
	assert_string_equal(sel_name(&b), "c");
	browse_free(&b);
}

/* ---------------------------------------------------------------- time */

static void stepping_through_time_keeps_the_path(void **state)
{
	struct browse b;

	(void)state;
	browse_init(&b, snaps, 5, 4, "docs");
	put_dir(&b, S(4), "docs", NAMES("a:file", "c:file"));
	browse_move(&b, 1);
	assert_int_equal(browse_step(&b, 1), -1);   /* the newest */
	assert_int_equal(browse_step(&b, -1), 0);
	assert_int_equal(b.cur, 3);
	assert_string_equal(b.path.buf, "docs");
	assert_null(browse_listing(&b));
	/* the selected name is found again in the older listing */
	put_dir(&b, S(3), "docs", NAMES("a:file", "b:file", "c:file"));
	assert_string_equal(sel_name(&b), "c");
	assert_int_equal(b.cursor, 2);
	/* before the directory existed */
	assert_int_equal(browse_step(&b, -1), 0);
	put_absent(&b, S(2), "docs");
	assert_int_equal(browse_listing(&b)->code, HS_EXIT_NOTFOUND);
	assert_string_equal(browse_absence(&b), "did not exist yet");
	assert_null(browse_selected(&b));
	assert_int_equal(browse_step(&b, -1), 0);
	assert_int_equal(browse_step(&b, -1), 0);
	assert_int_equal(browse_step(&b, -1), -1);   /* the oldest */
	assert_int_equal(b.cur, 0);
	/* back to where it was: from the cache, with the same selection */
	assert_int_equal(browse_step(&b, 1), 0);
	assert_int_equal(browse_step(&b, 1), 0);
	assert_int_equal(browse_step(&b, 1), 0);
	assert_int_equal(b.cur, 3);
	assert_non_null(browse_listing(&b));
	assert_string_equal(sel_name(&b), "c");
	browse_free(&b);

	/* a directory deleted later: "no longer existed" */
	browse_init(&b, snaps, 5, 0, "old");
	put_dir(&b, S(0), "old", NAMES("x:file"));
	browse_step(&b, 1);
	put_absent(&b, S(1), "old");
	assert_string_equal(browse_absence(&b), "no longer existed");
	browse_free(&b);
	/* its versions tell, whatever was fetched before */
	browse_init(&b, snaps, 5, 2, "d");
	put_absent(&b, S(2), "d");
	struct bquery q;
	assert_int_equal(browse_next_query(&b, &q), 1);
	assert_int_equal(q.kind, BQ_VERSIONS);
	assert_string_equal(q.path.buf, "d");
	bquery_free(&q);
	json_t *top = answer_parse(
		"{\"protocol\": 1, \"verb\": \"versions\", \"versions\": ["
		"{\"first\": \"2026_11_04_10_00_00\", \"last\": \"2026_11_05_10_00_00\"}]}",
		"versions");
	struct bversions v;
	assert_int_equal(bversions_from_json(top, &v), 0);
	json_decref(top);
	browse_put_versions(&b, "d", &v);
	assert_int_equal(browse_next_query(&b, &q), 0);
	assert_string_equal(browse_absence(&b), "did not exist yet");
	browse_step(&b, -1);
	put_absent(&b, S(1), "d");
	assert_string_equal(browse_absence(&b), "did not exist yet");
	browse_free(&b);
	browse_init(&b, snaps, 5, 4, "d");
	put_absent(&b, S(4), "d");
	top = answer_parse(
		"{\"protocol\": 1, \"verb\": \"versions\", \"versions\": ["
		"{\"first\": \"2026_11_01_10_00_00\", \"last\": \"2026_11_01_10_00_00\"},"
		"{\"first\": \"2026_11_03_10_00_00\", \"last\": \"2026_11_03_10_00_00\"}]}",
		"versions");
	assert_int_equal(bversions_from_json(top, &v), 0);
	json_decref(top);
	browse_put_versions(&b, "d", &v);
	assert_string_equal(browse_absence(&b), "no longer existed");
	browse_step(&b, -1);
	browse_step(&b, -1);
	browse_step(&b, -1);
	put_absent(&b, S(1), "d");
	assert_string_equal(browse_absence(&b), "is not in this snapshot");   /* a gap */
	browse_free(&b);
	browse_init(&b, snaps, 5, 4, "never");
	put_absent(&b, S(4), "never");
	bversions_failed(&v, HS_EXIT_NOTFOUND, "no /never in any snapshot");
	browse_put_versions(&b, "never", &v);
	assert_string_equal(browse_absence(&b), "is in no snapshot");
	browse_free(&b);
	/* nothing known either way */
	browse_init(&b, snaps, 5, 2, "never");
	put_absent(&b, S(2), "never");
	assert_string_equal(browse_absence(&b), "is not in this snapshot");
	browse_free(&b);
}

static void the_timeline_marks_changes(void **state)
{
	struct browse b;
	struct bversions v;
	const char *text =
		"{\"protocol\": 1, \"verb\": \"versions\", \"versions\": ["
		"{\"first\": \"2026_11_01_10_00_00\", \"last\": \"2026_11_02_10_00_00\"},"
		"{\"first\": \"2026_11_03_10_00_00\", \"last\": \"2026_11_04_10_00_00\"}],"
		" \"missing\": [\"2026_11_05_10_00_00\"]}";
	json_t *top = answer_parse(text, "versions");
	char marks[6] = { 0 };

	(void)state;
	browse_init(&b, snaps, 5, 3, "t");
	put_dir(&b, S(3), "t", NAMES("f:file", "g:file", "d:dir"));
	for (size_t i = 0; i < 5; i++)
		marks[i] = browse_mark(&b, i);
	assert_string_equal(marks, "     ");   /* not fetched yet */
	assert_int_equal(bversions_from_json(top, &v), 0);
	json_decref(top);
	browse_put_versions(&b, "t/f", &v);
	for (size_t i = 0; i < 5; i++)
		marks[i] = browse_mark(&b, i);
	assert_string_equal(marks, "* * x");
	browse_move(&b, 1);   /* g: its own versions, unknown */
	assert_int_equal(browse_mark(&b, 0), ' ');
	/* a directory is never marked, whatever its versions say */
	browse_move(&b, 1);
	assert_string_equal(sel_name(&b), "d");
	top = answer_parse(text, "versions");
	assert_int_equal(bversions_from_json(top, &v), 0);
	json_decref(top);
	browse_put_versions(&b, "t/d", &v);
	assert_int_equal(browse_mark(&b, 0), ' ');
	browse_free(&b);
}

struct tl_row {
	size_t cur, n, rows, top;
};

static void the_timeline_window_follows_the_snapshot(void **state)
{
	static const struct tl_row rows[] = {
		{ 0, 5, 10, 0 },     /* all fit */
		{ 4, 5, 5, 0 },
		{ 0, 100, 10, 0 },   /* the start */
		{ 50, 100, 10, 45 }, /* in the middle */
		{ 99, 100, 10, 90 }, /* the end: the window stays full */
		{ 96, 100, 10, 90 },
		{ 3, 100, 0, 0 },    /* no room at all */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t top = browse_timeline_top(rows[i].cur, rows[i].n, rows[i].rows);
		if (top != rows[i].top)
			fail_msg("row %zu: top %zu, wanted %zu", i, top, rows[i].top);
		if (rows[i].rows && rows[i].n > rows[i].rows)
			assert_true(rows[i].cur >= top && rows[i].cur < top + rows[i].rows);
	}
}

/* ---------------------------------------------------------------- filter */

static void the_filter_narrows_the_listing(void **state)
{
	struct browse b;

	(void)state;
	browse_init(&b, snaps, 5, 4, "");
	put_dir(&b, S(4), "", NAMES("Makefile:file", "README:file", "make.sh:file", "src:dir"));
	browse_move(&b, 2);
	assert_string_equal(sel_name(&b), "make.sh");
	browse_set_filter(&b, "MAKE");
	assert_int_equal(b.nview, 2);   /* ASCII case ignored */
	assert_string_equal(sel_name(&b), "make.sh");   /* the selection stays */
	assert_string_equal(browse_entry(&b, 0)->raw.buf, "Makefile");
	browse_set_filter(&b, "zzz");
	assert_int_equal(b.nview, 0);
	assert_null(browse_selected(&b));
	browse_set_filter(&b, "");
	assert_int_equal(b.nview, 4);
	/* descending clears the filter */
	browse_set_filter(&b, "src");
	assert_int_equal(browse_enter(&b), 0);
	assert_int_equal(b.filter.len, 0);
	browse_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_ls_answers),
		cmocka_unit_test(reads_versions_answers),
		cmocka_unit_test(asks_for_the_listing_then_the_versions),
		cmocka_unit_test(the_cursor_is_clamped_and_scrolls),
		cmocka_unit_test(enter_and_up_walk_the_tree),
		cmocka_unit_test(stepping_through_time_keeps_the_path),
		cmocka_unit_test(the_timeline_marks_changes),
		cmocka_unit_test(the_timeline_window_follows_the_snapshot),
		cmocka_unit_test(the_filter_narrows_the_listing),
	};
	return cmocka_run_group_tests_name("browse: the state machine", tests, NULL, NULL);
}
