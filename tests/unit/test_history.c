/*
 * The pure logic of the history queries, one row per case: names as bytes,
 * JSON and terminal text (names.h); fake-super values, mode strings, the
 * grouping of versions, the merge of two listings and diff's verdicts
 * (history.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.h"
#include "names.h"
#include "strbuf.h"
#include "util.h"

/* ---------------------------------------------------------------- names */

struct name_row {
	const char *name;
	const char *raw;        /* the bytes on disk */
	int valid;              /* valid UTF-8 */
	const char *wire;       /* name_escape() of it (only used when !valid) */
	const char *display;
};

static const struct name_row name_rows[] = {
	{ "plain ASCII is valid and shown as it is", "report.odt", 1, "report.odt", "report.odt" },
	{ "a space is kept", "my docs", 1, "my docs", "my docs" },
	{ "UTF-8 is valid and shown as it is", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1,
	  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "a newline is valid UTF-8 but displayed as \\n", "a\nb", 1, "a\nb", "a\\nb" },
	{ "tab and carriage return are displayed escaped", "a\tb\rc", 1, "a\tb\rc", "a\\tb\\rc" },
	{ "an escape character is displayed as \\x1b", "\x1b[31mred", 1, "\x1b[31mred", "\\x1b[31mred" },
	{ "DEL is displayed as \\x7f", "a\x7f", 1, "a\x7f", "a\\x7f" },
	{ "a backslash is displayed doubled", "a\\b", 1, "a\\\\b", "a\\\\b" },
	{ "a C1 control (U+0085) is displayed as its bytes", "a\xc2\x85z", 1, "", "a\\xc2\\x85z" },
	{ "a right-to-left override is displayed as its bytes", "a\xe2\x80\xaez", 1, "",
	  "a\\xe2\\x80\\xaez" },
	{ "a lone 0xff is invalid", "bad\xffname", 0, "bad\\xffname", "bad\\xffname" },
	{ "Latin-1 e-acute is invalid", "caf\xe9", 0, "caf\\xe9", "caf\\xe9" },
	{ "an overlong '/' is invalid", "\xc0\xaf", 0, "\\xc0\\xaf", "\\xc0\\xaf" },
	{ "an encoded surrogate is invalid", "\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\\xed\\xa0\\x80" },
	{ "a code point past U+10FFFF is invalid", "\xf4\x90\x80\x80", 0,
	  "\\xf4\\x90\\x80\\x80", "\\xf4\\x90\\x80\\x80" },
	{ "a truncated sequence is invalid", "ab\xe2\x82", 0, "ab\\xe2\\x82", "ab\\xe2\\x82" },
	{ "invalid bytes beside UTF-8 and a backslash", "\xc3\xa9\\\xfe", 0,
	  "\xc3\xa9\\\\\\xfe", "\xc3\xa9\\\\\\xfe" },
	{ "a name that looks like an escape is kept apart from one", "\\xff", 1, "\\\\xff",
	  "\\\\xff" },
};

static void run_name_row(void **state)
{
	const struct name_row *row = *state;
	size_t len = strlen(row->raw);
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

	assert_int_equal(utf8_valid(row->raw, len), row->valid);
	if (!row->valid || row->wire[0]) {
		name_escape(&sb, row->raw, len);
		if (!row->valid)
			assert_string_equal(sb.buf, row->wire);
		assert_true(utf8_valid(sb.buf, sb.len));
		assert_int_equal(name_unescape(&back, sb.buf, sb.len), 0);
		assert_int_equal(back.len, len);
		assert_memory_equal(back.buf, row->raw, len);
	}
	sb_reset(&sb);
	name_display(&sb, row->raw, len);
	assert_string_equal(sb.buf, row->display);
	assert_null(memchr(sb.buf, '\n', sb.len));
	sb_release(&sb);
	sb_release(&back);
}

static void unescape_refuses_what_escape_never_makes(void **state)
{
	(void)state;
	static const char *const bad[] = { "a\\", "\\q", "\\x", "\\x4", "\\xzz", "\\x00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		if (name_unescape(&sb, bad[i], strlen(bad[i])) != -1)
			fail_msg("unescaped \"%s\"", bad[i]);
		sb_release(&sb);
	}
}

static void escape_round_trips_every_byte_string(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int n = 0; n < 20000; n++) {
		char raw[16];
		size_t len = 1 + (size_t)(n % 15);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			raw[i] = (char)(1 + (seed >> 16) % 255);   /* no NUL in names */
		}
		struct strbuf wire = STRBUF_INIT, back = STRBUF_INIT, shown = STRBUF_INIT;
		name_escape(&wire, raw, len);
		assert_true(utf8_valid(wire.buf, wire.len));
		assert_int_equal(name_unescape(&back, wire.buf, wire.len), 0);
		assert_int_equal(back.len, len);
		assert_memory_equal(back.buf, raw, len);
		name_display(&shown, raw, len);
		for (size_t i = 0; i < shown.len; i++)
			assert_false((unsigned char)shown.buf[i] < 0x20 || shown.buf[i] == 0x7f);
		sb_release(&wire);
		sb_release(&back);
		sb_release(&shown);
	}
}

/* ---------------------------------------------------------------- fake-super */

struct fs_row {
	const char *name;
	const char *val;
	size_t len;             /* 0: strlen(val) */
	int ok;
	mode_t mode;
	unsigned uid, gid, major, minor;
};

static const struct fs_row fs_rows[] = {
	{ "reads a regular file", "100644 0,0 1000:1000", 0, 1, S_IFREG | 0644, 1000, 1000, 0, 0 },
	{ "reads a setuid root file", "104755 0,0 0:0", 0, 1, S_IFREG | 04755, 0, 0, 0, 0 },
	{ "reads a directory with the sticky bit", "41777 0,0 0:0", 0, 1, S_IFDIR | 01777, 0, 0, 0, 0 },
	{ "reads a symlink", "120777 0,0 1000:100", 0, 1, S_IFLNK | 0777, 1000, 100, 0, 0 },
	{ "reads a character device", "20666 1,3 0:0", 0, 1, S_IFCHR | 0666, 0, 0, 1, 3 },
	{ "reads a block device", "60660 8,1 0:6", 0, 1, S_IFBLK | 0660, 0, 6, 8, 1 },
	{ "reads a fifo", "10600 0,0 5:5", 0, 1, S_IFIFO | 0600, 5, 5, 0, 0 },
	{ "reads a mode 0000 file", "100000 0,0 0:0", 0, 1, S_IFREG, 0, 0, 0, 0 },
	{ "reads the largest ids", "100644 0,0 4294967295:4294967294", 0, 1, S_IFREG | 0644,
	  4294967295u, 4294967294u, 0, 0 },
	{ "tolerates a trailing NUL", "100644 0,0 1:2\0", 15, 1, S_IFREG | 0644, 1, 2, 0, 0 },
	{ "refuses an empty value", "", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a value without owner", "100644 0,0", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a non-octal mode", "100648 0,0 0:0", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a mode with no file type", "644 0,0 0:0", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a uid past 32 bits", "100644 0,0 4294967296:0", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses trailing text", "100644 0,0 0:0 x", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a negative id", "100644 0,0 -1:0", 0, 0, 0, 0, 0, 0, 0 },
	{ "refuses a missing comma", "100644 00 0:0", 0, 0, 0, 0, 0, 0, 0 },
};

static void run_fs_row(void **state)
{
	const struct fs_row *row = *state;
	struct stored_stat ss;
	int rc = fakesuper_parse(row->val, row->len ? row->len : strlen(row->val), &ss);

	if (!row->ok) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(ss.mode, row->mode);
	assert_int_equal(ss.uid, row->uid);
	assert_int_equal(ss.gid, row->gid);
	assert_int_equal(ss.major, row->major);
	assert_int_equal(ss.minor, row->minor);
}

static void mode_strings_are_those_of_ls(void **state)
{
	(void)state;
	static const struct {
		mode_t mode;
		const char *want;
	} rows[] = {
		{ S_IFREG | 0644, "-rw-r--r--" },
		{ S_IFDIR | 0755, "drwxr-xr-x" },
		{ S_IFLNK | 0777, "lrwxrwxrwx" },
		{ S_IFREG | 0, "----------" },
		{ S_IFREG | 04755, "-rwsr-xr-x" },
		{ S_IFREG | 04644, "-rwSr--r--" },
		{ S_IFREG | 02755, "-rwxr-sr-x" },
		{ S_IFREG | 02644, "-rw-r-Sr--" },
		{ S_IFDIR | 01777, "drwxrwxrwt" },
		{ S_IFDIR | 01770, "drwxrwx--T" },
		{ S_IFIFO | 0600, "prw-------" },
		{ S_IFSOCK | 0755, "srwxr-xr-x" },
		{ S_IFCHR | 0666, "crw-rw-rw-" },
		{ S_IFBLK | 0660, "brw-rw----" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[11];
		mode_string(rows[i].mode, out);
		assert_string_equal(out, rows[i].want);
	}
}

static void file_type_names_go_both_ways(void **state)
{
	(void)state;
	static const mode_t types[] = { S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK,
					S_IFCHR, S_IFBLK };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *n = ftype_name(types[i] | 0644);
		assert_non_null(n);
		assert_int_equal(ftype_from_name(n), types[i]);
	}
	assert_string_equal(ftype_name(S_IFREG), "file");
	assert_string_equal(ftype_name(S_IFDIR), "dir");
	assert_null(ftype_name(0));
	assert_int_equal(ftype_from_name("regular"), 0);
	assert_int_equal(ftype_from_name(NULL), 0);
}

/* ---------------------------------------------------------------- versions */

/*
 * seq: one character per snapshot, oldest first: '.' for "absent", a
 * letter for an inode (same letter, same inode). want: the versions as
 * "first-last" indexes, comma-separated.
 */
struct version_row {
	const char *name;
	const char *seq;
	const char *want;
};

static const struct version_row version_rows[] = {
	{ "a file changed in 2 of 5 snapshots has 3 versions", "aabbc", "0-1,2-3,4-4" },
	{ "an unchanged file is one version", "aaaaa", "0-4" },
	{ "a file in one snapshot only", "..a..", "2-2" },
	{ "a file never there has none", ".....", "" },
	{ "no snapshots, no versions", "", "" },
	{ "a gap ends a version", "aa.bb", "0-1,3-4" },
	{ "the same inode after a gap is a new version", "aa..a", "0-1,4-4" },
	{ "every snapshot a new inode", "abcde", "0-0,1-1,2-2,3-3,4-4" },
	{ "an inode that comes back after another is a new version", "abab", "0-0,1-1,2-2,3-3" },
	{ "it appears late and stays", "...aa", "3-4" },
	{ "it goes away and stays away", "aa...", "0-1" },
};

static void run_version_row(void **state)
{
	const struct version_row *row = *state;
	struct version_list l = VERSION_LIST_INIT;
	struct strbuf got = STRBUF_INIT;
	size_t starts = 0;

	for (size_t i = 0; row->seq[i]; i++) {
		int present = row->seq[i] != '.';
		starts += (size_t)versions_feed(&l, i, present, 7, present ? (uint64_t)row->seq[i] : 0);
	}
	for (size_t v = 0; v < l.n; v++)
		sb_addf(&got, "%s%zu-%zu", v ? "," : "", l.v[v].first, l.v[v].last);
	assert_string_equal(got.buf, row->want);
	assert_int_equal(starts, l.n);   /* the caller is told of each new version */
	sb_release(&got);
	versions_free(&l);
}

static void versions_on_another_device_are_other_versions(void **state)
{
	(void)state;
	struct version_list l = VERSION_LIST_INIT;

	assert_int_equal(versions_feed(&l, 0, 1, 1, 42), 1);
	assert_int_equal(versions_feed(&l, 1, 1, 1, 42), 0);
	assert_int_equal(versions_feed(&l, 2, 1, 2, 42), 1);
	assert_int_equal(l.n, 2);
	versions_free(&l);
}

/* ---------------------------------------------------------------- merge */

struct merge_row {
	const char *name;
	const char *a, *b;      /* space-separated, sorted */
	const char *want;       /* per step: "<name" only in a, ">name" only in b, "=name" both */
};

static const struct merge_row merge_rows[] = {
	{ "two equal lists", "a b c", "a b c", "=a =b =c" },
	{ "an addition and a removal", "a c", "b c", "<a >b =c" },
	{ "a is empty", "", "x y", ">x >y" },
	{ "b is empty", "x y", "", "<x <y" },
	{ "both empty", "", "", "" },
	{ "bytes order: capitals before lowercase", "B a", "a b", "<B =a >b" },
	{ "bytes order: high bytes last", "a \xc3\xa9", "\xc3\xa9 \xff", "<a =\xc3\xa9 >\xff" },
	{ "a prefix sorts first", "a a.txt", "a ab", "=a <a.txt >ab" },
	{ "tails on both sides", "a b c d", "c d e f", "<a <b =c =d >e >f" },
};

static void split_names(const char *s, struct argv *out)
{
	char *copy = xstrdup(s);
	for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
		argv_push(out, t);
	free(copy);
}

static void run_merge_row(void **state)
{
	const struct merge_row *row = *state;
	struct argv a = ARGV_INIT, b = ARGV_INIT;
	struct name_merge m = { 0, 0 };
	struct strbuf got = STRBUF_INIT;
	size_t ai, bi;

	split_names(row->a, &a);
	split_names(row->b, &b);
	while (merge_next(&m, (const char *const *)a.v, a.n, (const char *const *)b.v, b.n,
			  &ai, &bi)) {
		assert_false(ai == SIZE_MAX && bi == SIZE_MAX);
		if (ai != SIZE_MAX && bi != SIZE_MAX)
			assert_string_equal(a.v[ai], b.v[bi]);
		sb_addf(&got, "%s%c%s", got.len ? " " : "",
			ai == SIZE_MAX ? '>' : bi == SIZE_MAX ? '<' : '=',
			ai == SIZE_MAX ? b.v[bi] : a.v[ai]);
	}
	assert_string_equal(got.buf, row->want);
	sb_release(&got);
	argv_clear(&a);
	argv_clear(&b);
}

/* ---------------------------------------------------------------- diff verdicts */

#define ABSENT { 0, 0, 0, 0, 0, 0 }
#define FILE_(ino, perm) { 1, S_IFREG | (perm), 0, 0, 1, ino }
#define DIR_(perm, uid) { 1, S_IFDIR | (perm), uid, uid, 1, 0 }
#define LINK_(ino) { 1, S_IFLNK | 0777, 0, 0, 1, ino }

struct classify_row {
	const char *name;
	struct diff_node a, b;
	enum diff_verdict want;
	int recurse;
};

static const struct classify_row classify_rows[] = {
	{ "one inode in both: unchanged", FILE_(5, 0644), FILE_(5, 0644), DV_SAME, 0 },
	{ "another inode: modified", FILE_(5, 0644), FILE_(6, 0644), DV_MODIFIED, 0 },
	{ "another inode after a chmod: modified", FILE_(5, 0644), FILE_(6, 0600), DV_MODIFIED, 0 },
	{ "only in b: added", ABSENT, FILE_(6, 0644), DV_ADDED, 0 },
	{ "only in a: removed", FILE_(5, 0644), ABSENT, DV_REMOVED, 0 },
	{ "a directory only in b: added, not descended", ABSENT, DIR_(0755, 0), DV_ADDED, 0 },
	{ "a directory only in a: removed, not descended", DIR_(0755, 0), ABSENT, DV_REMOVED, 0 },
	{ "a file became a symlink: replaced", FILE_(5, 0644), LINK_(6), DV_REPLACED, 0 },
	{ "a directory became a file: replaced", DIR_(0755, 0), FILE_(6, 0644), DV_REPLACED, 0 },
	{ "a file became a directory: replaced", FILE_(5, 0644), DIR_(0755, 0), DV_REPLACED, 0 },
	{ "two directories alike: unchanged, descended", DIR_(0755, 0), DIR_(0755, 0), DV_SAME, 1 },
	{ "a directory chmod'ed: modified, descended", DIR_(0755, 0), DIR_(0700, 0), DV_MODIFIED, 1 },
	{ "a directory chown'ed: modified, descended", DIR_(0755, 0), DIR_(0755, 1000),
	  DV_MODIFIED, 1 },
	{ "a directory given the sticky bit: modified", DIR_(0777, 0), DIR_(01777, 0),
	  DV_MODIFIED, 1 },
	{ "the same inode number on another device: modified",
	  { 1, S_IFREG | 0644, 0, 0, 1, 5 }, { 1, S_IFREG | 0644, 0, 0, 2, 5 }, DV_MODIFIED, 0 },
	{ "absent on both sides: nothing", ABSENT, ABSENT, DV_SAME, 0 },
};

static void run_classify_row(void **state)
{
	const struct classify_row *row = *state;

	assert_int_equal(diff_classify(&row->a, &row->b), row->want);
	assert_int_equal(diff_recurses(&row->a, &row->b), row->recurse);
}

/* ---------------------------------------------------------------- main */

#define GROUP(title, rows, fn, failed)                                          \
	do {                                                                     \
		size_t n_ = sizeof(rows) / sizeof(rows[0]);                      \
		struct CMUnitTest *t_ = xcalloc(n_, sizeof(*t_));                \
		for (size_t i_ = 0; i_ < n_; i_++) {                             \
			t_[i_].name = rows[i_].name;                             \
			t_[i_].test_func = fn;                                   \
			t_[i_].initial_state = (void *)&rows[i_];                \
		}                                                                \
		failed += _cmocka_run_group_tests(title, t_, n_, NULL, NULL);    \
		free(t_);                                                        \
	} while (0)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unescape_refuses_what_escape_never_makes),
		cmocka_unit_test(escape_round_trips_every_byte_string),
		cmocka_unit_test(mode_strings_are_those_of_ls),
		cmocka_unit_test(file_type_names_go_both_ways),
		cmocka_unit_test(versions_on_another_device_are_other_versions),
	};
	int failed = 0;

	GROUP("names: UTF-8, wire and display forms", name_rows, run_name_row, failed);
	GROUP("fake-super xattr values", fs_rows, run_fs_row, failed);
	GROUP("versions from (snapshot, inode) sequences", version_rows, run_version_row, failed);
	GROUP("merging two sorted listings", merge_rows, run_merge_row, failed);
	GROUP("diff verdicts", classify_rows, run_classify_row, failed);
	failed += cmocka_run_group_tests_name("round trips, modes, types", tests, NULL, NULL);
	return failed ? 1 : 0;
}
