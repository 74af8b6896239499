/*
 * deltree_at() on a real filesystem: what it removes, what it must leave
 * alone (symlink targets, links from outside), the exact counts, modes a
 * client may send, deep and wide trees, and two deleters on one tree. Each
 * test gets a scratch directory from mkdtemp under /var/tmp; permission
 * cases run in a child as nobody, since root ignores modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deltree.h"
#include "fsops.h"
#include "util.h"

#define NOBODY 65534

struct fixture {
	char dir[PATH_MAX];
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/var/tmp/hindsight-deltree-XXXXXX");
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

/* ---------------------------------------------------------------- building trees */

static void mk_dir(int fd, const char *rel)
{
	if (mkdirat(fd, rel, 0755) < 0)
		fail_msg("mkdir %s: %s", rel, strerror(errno));
}

/* A file of size bytes; returns the bytes its inode holds (st_blocks * 512). */
static unsigned long long mk_file(int fd, const char *rel, size_t size)
{
	static const char junk[8192];
	int ffd = openat(fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	struct stat st;

	if (ffd < 0)
		fail_msg("create %s: %s", rel, strerror(errno));
	for (size_t left = size; left; ) {
		size_t n = left < sizeof(junk) ? left : sizeof(junk);
		assert_int_equal(write(ffd, junk, n), (ssize_t)n);
		left -= n;
	}
	assert_int_equal(fsync(ffd), 0);   /* so st_blocks is final */
	close(ffd);
	assert_int_equal(fstatat(fd, rel, &st, 0), 0);
	return (unsigned long long)st.st_blocks * 512;
}

static int exists_at(int fd, const char *rel)
{
	struct stat st;

	return fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static nlink_t links_of(int fd, const char *rel)
{
	struct stat st;

	assert_int_equal(fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_nlink;
}

/*
 * fd/top: 3 levels of 3 directories, each holding 4 files of different
 * sizes: 1 + 3 + 9 + 27 = 40 directories, 160 files. Returns their bytes.
 */
static unsigned long long mk_nested(int fd, const char *top)
{
	char path[PATH_MAX];
	unsigned long long bytes = 0;

	mk_dir(fd, top);
	for (int i = 0; i < 27; i++) {
		const char *levels[] = { "", "", "" };
		char a[8], b[8], c[8];
		snprintf(a, sizeof(a), "a%d", i / 9);
		snprintf(b, sizeof(b), "b%d", i / 3 % 3);
		snprintf(c, sizeof(c), "c%d", i % 3);
		levels[0] = a, levels[1] = b, levels[2] = c;
		snprintf(path, sizeof(path), "%s", top);
		for (int l = 0; l < 3; l++) {
			size_t len = strlen(path);
			snprintf(path + len, sizeof(path) - len, "/%s", levels[l]);
			if (exists_at(fd, path))
				continue;
			mk_dir(fd, path);
			for (int k = 0; k < 4; k++) {
				char file[PATH_MAX + 16];
				snprintf(file, sizeof(file), "%s/f%d", path, k);
				bytes += mk_file(fd, file, (size_t)k * 3000);
			}
		}
	}
	for (int k = 0; k < 4; k++) {
		char file[PATH_MAX + 16];
		snprintf(file, sizeof(file), "%s/f%d", top, k);
		bytes += mk_file(fd, file, (size_t)k * 3000);
	}
	return bytes;
}

/* fd/top, a chain of depth directories named name, with a file at the bottom. */
static void mk_chain(int fd, const char *top, int depth, const char *name)
{
	int cur;

	mk_dir(fd, top);
	cur = openat(fd, top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(cur >= 0);
	for (int i = 0; i < depth; i++) {
		mk_dir(cur, name);
		int next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(next >= 0);
		close(cur);
		cur = next;
	}
	mk_file(cur, "bottom", 10);
	close(cur);
}

static void assert_stats(const struct deltree_stats *st, unsigned long long files,
			 unsigned long long dirs, unsigned long long inodes,
			 unsigned long long bytes)
{
	assert_int_equal(st->files, files);
	assert_int_equal(st->dirs, dirs);
	assert_int_equal(st->inodes_freed, inodes);
	assert_int_equal(st->bytes_freed, bytes);
}

/* ---------------------------------------------------------------- what goes */

static void nested_tree_goes_with_exact_counts(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;
	unsigned long long bytes = mk_nested(f->fd, "t");

	assert_int_equal(deltree_at(f->fd, "t", 0, 1, &st), 0);
	assert_false(exists_at(f->fd, "t"));
	assert_stats(&st, 160, 40, 160, bytes);
}

static void without_count_nothing_is_stat_ed_or_counted_as_freed(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	mk_nested(f->fd, "t");
	assert_int_equal(deltree_at(f->fd, "t", 0, 0, &st), 0);
	assert_false(exists_at(f->fd, "t"));
	assert_stats(&st, 160, 40, 0, 0);
}

static void one_thread_and_automatic_agree(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats one, aut, four;

	mk_nested(f->fd, "one");
	mk_nested(f->fd, "auto");
	mk_nested(f->fd, "four");
	assert_int_equal(deltree_at(f->fd, "one", 1, 1, &one), 0);
	assert_int_equal(deltree_at(f->fd, "auto", 0, 1, &aut), 0);
	assert_int_equal(deltree_at(f->fd, "four", 4, 1, &four), 0);
	assert_memory_equal(&one, &aut, sizeof(one));
	assert_memory_equal(&one, &four, sizeof(one));
	assert_int_equal(one.files, 160);
}

static void ten_thousand_files_in_one_directory(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;
	char name[32];

	mk_dir(f->fd, "big");
	int big = openat(f->fd, "big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(big >= 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "file-%05d", (i * 7919) % 10000);
		int fd = openat(big, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	close(big);
	assert_int_equal(deltree_at(f->fd, "big", 0, 1, &st), 0);
	assert_false(exists_at(f->fd, "big"));
	assert_stats(&st, 10000, 1, 10000, 0);
}

static void a_chain_of_300_directories(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	mk_chain(f->fd, "deep", 300, "level");
	assert_int_equal(deltree_at(f->fd, "deep", 0, 0, &st), 0);
	assert_false(exists_at(f->fd, "deep"));
	assert_stats(&st, 1, 301, 0, 0);
}

/* a/a/a/...: the longest path rsync can send (4095 bytes), then past PATH_MAX */
static void paths_of_4095_bytes_and_beyond(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	mk_chain(f->fd, "d", 2046, "a");        /* "d/a/.../a": 4093 bytes */
	mk_chain(f->fd, "e", 5000, "a");
	assert_int_equal(deltree_at(f->fd, "d", 0, 0, &st), 0);
	assert_stats(&st, 1, 2047, 0, 0);
	assert_int_equal(deltree_at(f->fd, "e", 1, 0, &st), 0);
	assert_stats(&st, 1, 5001, 0, 0);
	assert_false(exists_at(f->fd, "d"));
	assert_false(exists_at(f->fd, "e"));
}

/*
 * With few fds allowed, the deep parts go through the two-fd climb: a
 * chain, and a comb (every level has a leaf directory beside the way down).
 */
static void deep_trees_with_few_fds(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;
	struct rlimit old, low;
	char path[PATH_MAX];

	mk_chain(f->fd, "chain", 400, "c");
	mk_dir(f->fd, "comb");
	strcpy(path, "comb");
	for (int i = 0; i < 200; i++) {
		size_t len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "/leaf");
		mk_dir(f->fd, path);
		snprintf(path + len, sizeof(path) - len, "/leaf/x");
		mk_file(f->fd, path, 1);
		snprintf(path + len, sizeof(path) - len, "/c");
		mk_dir(f->fd, path);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 48;    /* a budget of 12 directory fds */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int rc1 = deltree_at(f->fd, "chain", 2, 1, &st);
	struct deltree_stats st2;
	int rc2 = deltree_at(f->fd, "comb", 2, 1, &st2);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(rc1, 0);
	assert_int_equal(rc2, 0);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.dirs, 401);
	assert_int_equal(st2.files, 200);
	assert_int_equal(st2.dirs, 401);
	assert_false(exists_at(f->fd, "chain"));
	assert_false(exists_at(f->fd, "comb"));
}

/* ---------------------------------------------------------------- what stays */

static void symlinks_go_their_targets_stay(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;
	char target[PATH_MAX + 16];

	mk_dir(f->fd, "outside");
	mk_file(f->fd, "outside/keep", 100);
	mk_dir(f->fd, "outside/sub");
	mk_file(f->fd, "outside/sub/keep", 100);
	mk_dir(f->fd, "t");
	snprintf(target, sizeof(target), "%s/outside/keep", f->dir);
	assert_int_equal(symlinkat(target, f->fd, "t/to-file"), 0);
	snprintf(target, sizeof(target), "%s/outside", f->dir);
	assert_int_equal(symlinkat(target, f->fd, "t/to-dir"), 0);
	assert_int_equal(symlinkat("../outside/sub", f->fd, "t/relative"), 0);
	assert_int_equal(deltree_at(f->fd, "t", 0, 1, &st), 0);
	assert_false(exists_at(f->fd, "t"));
	assert_true(exists_at(f->fd, "outside/keep"));
	assert_true(exists_at(f->fd, "outside/sub/keep"));
	assert_int_equal(st.files, 3);
	assert_int_equal(st.inodes_freed, 3);
	assert_int_equal(st.dirs, 1);
}

static void hard_links_count_an_inode_once_and_never_one_linked_outside(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	mk_dir(f->fd, "t");
	mk_dir(f->fd, "t/x");
	mk_dir(f->fd, "t/y");
	unsigned long long a = mk_file(f->fd, "t/x/a", 20000);
	unsigned long long c = mk_file(f->fd, "t/y/c", 5000);
	mk_file(f->fd, "shared", 9000);
	assert_int_equal(linkat(f->fd, "t/x/a", f->fd, "t/y/a-again", 0), 0);
	assert_int_equal(linkat(f->fd, "t/x/a", f->fd, "t/a-thrice", 0), 0);
	assert_int_equal(linkat(f->fd, "shared", f->fd, "t/x/shared", 0), 0);
	assert_int_equal(linkat(f->fd, "shared", f->fd, "t/y/shared", 0), 0);
	assert_int_equal(deltree_at(f->fd, "t", 0, 1, &st), 0);
	assert_false(exists_at(f->fd, "t"));
	assert_int_equal(links_of(f->fd, "shared"), 1);
	assert_stats(&st, 6, 3, 2, a + c);
}

static void a_fifo_is_a_file_like_any_other(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	mk_dir(f->fd, "t");
	assert_int_equal(mkfifoat(f->fd, "t/pipe", 0600), 0);
	assert_int_equal(deltree_at(f->fd, "t", 1, 1, &st), 0);
	assert_false(exists_at(f->fd, "t"));
	assert_stats(&st, 1, 1, 1, 0);
}

/* ---------------------------------------------------------------- what the name is */

static void a_missing_name_is_not_an_error(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;

	assert_int_equal(deltree_at(f->fd, "nothing-here", 0, 1, &st), 0);
	assert_stats(&st, 0, 0, 0, 0);
	assert_int_equal(deltree_at(f->fd, "nothing-here", 0, 0, NULL), 0);
}

static void a_name_that_is_a_file_or_a_symlink(void **state)
{
	struct fixture *f = *state;
	struct deltree_stats st;
	unsigned long long bytes = mk_file(f->fd, "plain", 12345);

	assert_int_equal(deltree_at(f->fd, "plain", 0, 1, &st), 0);
	assert_false(exists_at(f->fd, "plain"));
	assert_stats(&st, 1, 0, 1, bytes);

	mk_dir(f->fd, "target");
	mk_file(f->fd, "target/keep", 1);
	assert_int_equal(symlinkat("target", f->fd, "link"), 0);
	assert_int_equal(deltree_at(f->fd, "link", 0, 0, &st), 0);
	assert_false(exists_at(f->fd, "link"));
	assert_true(exists_at(f->fd, "target/keep"));
	assert_stats(&st, 1, 0, 0, 0);
}

/* ---------------------------------------------------------------- two at once */

struct job {
	int fd;
	int rc;
	struct deltree_stats st;
};

static void *delete_job(void *arg)
{
	struct job *j = arg;

	j->rc = deltree_at(j->fd, "t", 2, 0, &j->st);
	return NULL;
}

/* What a second deleter finds gone (ENOENT) it skips: after a crash, two may meet. */
static void two_deleters_on_one_tree(void **state)
{
	struct fixture *f = *state;
	struct job a = { .fd = f->fd }, b = { .fd = f->fd };
	pthread_t ta, tb;

	mk_nested(f->fd, "t");
	assert_int_equal(pthread_create(&ta, NULL, delete_job, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, delete_job, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_false(exists_at(f->fd, "t"));
	/* every name went exactly once, whoever removed it */
	assert_int_equal(a.st.files + b.st.files, 160);
	assert_int_equal(a.st.dirs + b.st.dirs, 40);
}

/* ---------------------------------------------------------------- modes from the client */

/*
 * Run fn as nobody in a child (root ignores modes) and hand back its
 * result; cmocka's asserts stay in the parent.
 */
struct result {
	int rc;
	struct deltree_stats st;
};

static struct result as_nobody(struct fixture *f, void (*fn)(int fd, struct result *))
{
	struct result r = { .rc = -12345 };
	int p[2];
	pid_t pid;
	int status;

	if (geteuid() == 0)
		assert_int_equal(fchown(f->fd, NOBODY, NOBODY), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
			_exit(1);
		fn(f->fd, &r);
		_exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return r;
}

static void read_only_tree(int fd, struct result *r)
{
	/* 0500 with files, 0000 with files, 0500 with only a 0000 subdirectory */
	if (mkdirat(fd, "t", 0755) < 0 || mkdirat(fd, "t/ro", 0755) < 0 ||
	    mkdirat(fd, "t/none", 0755) < 0 || mkdirat(fd, "t/ro2", 0755) < 0 ||
	    mkdirat(fd, "t/ro2/none", 0755) < 0)
		return;
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "t/ro/f%d", i);
		close(openat(fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0400));
		snprintf(name, sizeof(name), "t/none/f%d", i);
		close(openat(fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0000));
	}
	close(openat(fd, "t/ro2/none/g", O_WRONLY | O_CREAT | O_CLOEXEC, 0000));
	if (fchmodat(fd, "t/ro", 0500, 0) < 0 || fchmodat(fd, "t/none", 0000, 0) < 0 ||
	    fchmodat(fd, "t/ro2/none", 0000, 0) < 0 || fchmodat(fd, "t/ro2", 0500, 0) < 0 ||
	    fchmodat(fd, "t", 0500, 0) < 0)
		return;
	r->rc = deltree_at(fd, "t", 0, 1, &r->st);
}

static void read_only_directories_are_opened_up(void **state)
{
	struct fixture *f = *state;
	struct result r = as_nobody(f, read_only_tree);

	assert_int_equal(r.rc, 0);
	assert_false(exists_at(f->fd, "t"));
	assert_stats(&r.st, 7, 5, 7, 0);
}

static int chown_nobody(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return lchown(path, NOBODY, NOBODY);
}

static void stuck_tree(int fd, struct result *r)
{
	r->rc = deltree_at(fd, "t", 0, 0, &r->st);
}

/* A directory we do not own keeps its file; the rest goes all the same. */
static void what_cannot_go_is_reported_after_the_rest_went(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip();
	mk_nested(f->fd, "t");
	mk_dir(f->fd, "t/a1/foreign");
	mk_file(f->fd, "t/a1/foreign/stuck", 1);
	assert_int_equal(fchmodat(f->fd, "t/a1/foreign", 0555, 0), 0);
	char t[PATH_MAX + 8];
	snprintf(t, sizeof(t), "%s/t", f->dir);
	assert_int_equal(nftw(t, chown_nobody, 16, FTW_PHYS), 0);
	assert_int_equal(fchownat(f->fd, "t/a1/foreign", 0, 0, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fchownat(f->fd, "t/a1/foreign/stuck", 0, 0, AT_SYMLINK_NOFOLLOW), 0);
	struct result r = as_nobody(f, stuck_tree);
	assert_int_equal(r.rc, -EACCES);
	assert_true(exists_at(f->fd, "t/a1/foreign/stuck"));
	/* everything else: t, t/a1, foreign and its file remain, nothing more */
	assert_int_equal(r.st.files, 160);
	assert_int_equal(r.st.dirs, 40 - 2);
	assert_false(exists_at(f->fd, "t/a0"));
	assert_false(exists_at(f->fd, "t/f0"));
	assert_false(exists_at(f->fd, "t/a1/b0"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(nested_tree_goes_with_exact_counts),
		T(without_count_nothing_is_stat_ed_or_counted_as_freed),
		T(one_thread_and_automatic_agree),
		T(ten_thousand_files_in_one_directory),
		T(a_chain_of_300_directories),
		T(paths_of_4095_bytes_and_beyond),
		T(deep_trees_with_few_fds),
		T(symlinks_go_their_targets_stay),
		T(hard_links_count_an_inode_once_and_never_one_linked_outside),
		T(a_fifo_is_a_file_like_any_other),
		T(a_missing_name_is_not_an_error),
		T(a_name_that_is_a_file_or_a_symlink),
		T(two_deleters_on_one_tree),
		T(read_only_directories_are_opened_up),
		T(what_cannot_go_is_reported_after_the_rest_went),
	};
#undef T
	return cmocka_run_group_tests_name("deltree", tests, NULL, NULL);
}
