/*
 * The fast sealed push's pure parts and its clone: the transfer log lines
 * it judges (one row each), and clone_tree_fd() on a real filesystem
 * (hard links, directories made, symlinks linked and never followed,
 * names already there kept).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltree.h"
#include "fastpush.h"
#include "util.h"

struct log_row {
	const char *name;
	const char *line;
	int item;             /* fastpush_parse() says it is one */
	const char *path;     /* its name */
	int attr_only;
};

static const struct log_row log_rows[] = {
	{ "a file sent", "2026/11/29 22:40:26 [23659] >f+++++++++ 120 5 d/a", 1, "d/a", 0 },
	{ "a mode-only change", "2026/11/29 22:40:26 [23659] .f...p..... 0 6 d/a", 1, "d/a", 1 },
	{ "an owner-only change", "2026/11/29 22:40:26 [1] .f....o.... 0 5 d/c", 1, "d/c", 1 },
	{ "an xattr-only change", "2026/11/29 22:40:26 [1] .f........x 0 6 d/b", 1, "d/b", 1 },
	{ "an ACL-only change", "2026/11/29 22:40:26 [1] .f.......a. 0 6 d/b", 1, "d/b", 1 },
	{ "a time-only change (--size-only)", "2026/11/29 22:40:26 [1] .f..t...... 0 6 x", 1, "x", 1 },
	{ "an unchanged file (%I)", "2026/11/29 22:40:26 [1] .f          0 6 d/a", 1, "d/a", 0 },
	{ "a directory's mode is not a file's", "2026/11/29 22:40:26 [1] .d...p..... 0 4096 d/", 1, "d", 0 },
	{ "the top directory", "2026/11/29 22:40:26 [1] .d          0 4096 ./", 1, ".", 0 },
	{ "a symlink's owner (stored as a file)", "2026/11/29 22:40:26 [1] .L....o.... 0 3 l", 1, "l", 1 },
	{ "a hard link to another item", "2026/11/29 22:40:26 [1] hf          0 6 d/b2", 1, "d/b2", 0 },
	{ "a local change", "2026/11/29 22:40:26 [1] cd+++++++++ 0 4096 new/", 1, "new", 0 },
	{ "a name with spaces", "2026/11/29 22:40:26 [1] .f...p..... 0 6 my file.txt", 1, "my file.txt", 1 },
	{ "a deletion is not an item", "2026/11/29 22:40:26 [1] *deleting   0 0 old", 0, NULL, 0 },
	{ "rsync's own messages are not", "2026/11/29 22:40:26 [1] receiving file list", 0, NULL, 0 },
	{ "nor its errors", "2026/11/29 22:40:26 [1] rsync: [generator] failed to write xattr", 0, NULL, 0 },
	{ "nor its summary", "2026/11/29 22:40:26 [1] sent 43 bytes  received 139 bytes", 0, NULL, 0 },
	{ "a line cut short", "2026/11/29 22:40:26 [1] .f...p.", 0, NULL, 0 },
	{ "an item with no name", "2026/11/29 22:40:26 [1] .f...p..... 0 6 ", 0, NULL, 0 },
	{ "an item with no numbers", "2026/11/29 22:40:26 [1] .f...p..... x y z", 0, NULL, 0 },
};

static void parses_log_lines(void **state)
{
	struct strbuf name = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(log_rows) / sizeof(log_rows[0]); i++) {
		const struct log_row *r = &log_rows[i];
		char item[12];
		int got = fastpush_parse(r->line, strlen(r->line), item, &name);
		if (got != r->item)
			fail_msg("%s: parse gave %d", r->name, got);
		if (!got)
			continue;
		if (strcmp(name.buf, r->path))
			fail_msg("%s: name '%s', wanted '%s'", r->name, name.buf, r->path);
		if (fastpush_attr_only(item) != r->attr_only)
			fail_msg("%s: attr_only %d", r->name, !r->attr_only);
	}
	sb_release(&name);
}

struct fixture {
	char dir[PATH_MAX];
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/var/tmp/hindsight-fastpush-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	close(f->fd);
	rc = deltree_at(AT_FDCWD, f->dir, 1, 0, NULL);
	free(f);
	return rc;
}

static void put(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static ino_t ino_at(int dfd, const char *name)
{
	struct stat st;
	assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

static void clones_a_tree_with_links(void **state)
{
	struct fixture *f = *state;
	struct clone_stats st;
	struct stat sb;

	assert_int_equal(mkdirat(f->fd, "s", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "s/a", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "s/a/b", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "s/empty", 0755), 0);
	put(f->fd, "s/top", "1");
	put(f->fd, "s/a/b/deep", "2");
	put(f->fd, "outside", "3");
	assert_int_equal(symlinkat("../outside", f->fd, "s/link"), 0);
	assert_int_equal(symlinkat("..", f->fd, "s/a/up"), 0);
	assert_int_equal(mkdirat(f->fd, "d", 0700), 0);
	int s = openat(f->fd, "s", O_RDONLY | O_DIRECTORY);
	int d = openat(f->fd, "d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(clone_tree_fd(s, d, &st), 0);
	assert_int_equal(st.dirs, 3);
	assert_int_equal(st.links, 4);
	assert_int_equal(ino_at(f->fd, "s/top"), ino_at(f->fd, "d/top"));
	assert_int_equal(ino_at(f->fd, "s/a/b/deep"), ino_at(f->fd, "d/a/b/deep"));
	/* symlinks are linked as themselves, never followed */
	assert_int_equal(ino_at(f->fd, "s/link"), ino_at(f->fd, "d/link"));
	assert_int_equal(fstatat(f->fd, "d/a/up", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_true(ino_at(f->fd, "s/a") != ino_at(f->fd, "d/a"));
	assert_int_equal(fstatat(f->fd, "d/empty", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(sb.st_mode));
	close(s);
	close(d);
}

static void cloning_again_keeps_what_is_there(void **state)
{
	struct fixture *f = *state;
	struct clone_stats st;

	assert_int_equal(mkdirat(f->fd, "s", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "s/a", 0755), 0);
	put(f->fd, "s/a/one", "1");
	put(f->fd, "s/a/two", "2");
	/* what an interrupted clone left, and a file rsync had already put there */
	assert_int_equal(mkdirat(f->fd, "d", 0700), 0);
	assert_int_equal(mkdirat(f->fd, "d/a", 0700), 0);
	assert_int_equal(linkat(f->fd, "s/a/one", f->fd, "d/a/one", 0), 0);
	put(f->fd, "d/a/two", "new");
	int s = openat(f->fd, "s", O_RDONLY | O_DIRECTORY);
	int d = openat(f->fd, "d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(clone_tree_fd(s, d, &st), 0);
	assert_int_equal(st.dirs, 0);
	assert_int_equal(st.links, 0);
	assert_int_equal(st.kept, 2);
	assert_true(ino_at(f->fd, "s/a/two") != ino_at(f->fd, "d/a/two"));
	close(s);
	close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_log_lines),
		cmocka_unit_test_setup_teardown(clones_a_tree_with_links, setup, teardown),
		cmocka_unit_test_setup_teardown(cloning_again_keeps_what_is_there, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
