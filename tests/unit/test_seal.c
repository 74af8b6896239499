/*
 * The seal walk (seal.h) on real trees in a scratch directory, with
 * made-up uids (chown needs root: skipped otherwise). Each case builds a
 * tree as the "account" would have received it, seals it, and checks
 * owners, modes and the user.rsync.%stat record inode by inode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsops.h"
#include "seal.h"

#define ACCT 54321
#define GRP 54322
#define VAULT 54323

static char dir[PATH_MAX];
static int dfd = -1;
static const struct seal_opts opts = { .ids = { ACCT, GRP, VAULT } };

static void make(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	int fd;

	if (S_ISDIR(mode)) {
		assert_int_equal(mkdirat(dfd, path, 0700), 0);
		fd = openat(dfd, path, O_RDONLY | O_DIRECTORY);
	} else {
		fd = openat(dfd, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, path, strlen(path)), (ssize_t)strlen(path));
	}
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, uid, gid), 0);
	assert_int_equal(fchmod(fd, mode & 07777), 0);
	close(fd);
}

static void expect(const char *path, uid_t uid, gid_t gid, mode_t mode, const char *xstat)
{
	struct stat st;
	char buf[128];

	print_message("%s\n", path);
	assert_int_equal(fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(st.st_mode & 07777, mode);
	if (!xstat)
		return;
	char full[PATH_MAX * 2];
	snprintf(full, sizeof(full), "%s/%s", dir, path);
	ssize_t n = lgetxattr(full, SEAL_XSTAT, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, xstat);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hs-test-seal.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	return remove_tree_at(AT_FDCWD, dir);
}

static void seals_every_inode_of_the_account(void **state)
{
	struct seal_result res;
	char full[PATH_MAX * 2];

	(void)state;
	make("t", S_IFDIR | 0755, ACCT, ACCT);
	make("t/plain", S_IFREG | 0644, ACCT, ACCT);
	make("t/secret", S_IFREG | 0600, ACCT, GRP);
	make("t/sub", S_IFDIR | 0777, ACCT, ACCT);
	make("t/sub/rsync-recorded", S_IFREG | 0600, ACCT, ACCT);
	snprintf(full, sizeof(full), "%s/t/sub/rsync-recorded", dir);
	assert_int_equal(lsetxattr(full, SEAL_XSTAT, "104755 0,0 0:0", 14, 0), 0);
	assert_int_equal(linkat(dfd, "t/plain", dfd, "t/sub/plain-link", 0), 0);
	make("history", S_IFREG | 0640, VAULT, GRP);
	assert_int_equal(linkat(dfd, "history", dfd, "t/linked", 0), 0);

	assert_int_equal(seal_tree(dfd, "t", &opts, &res), 0);
	assert_int_equal(res.refused, 0);
	assert_int_equal(res.sealed, 5);    /* t, plain, secret, sub, rsync-recorded */
	assert_int_equal(res.kept, 2);      /* plain's second name, history's */
	assert_int_equal(res.xattrs, 4);    /* all but rsync-recorded */
	/* write bits go but the owner's, the group reads, other bits stay */
	expect("t", VAULT, GRP, 0755, "40755 0,0 54321:54321");
	expect("t/plain", VAULT, GRP, 0644, "100644 0,0 54321:54321");
	expect("t/secret", VAULT, GRP, 0640, "100600 0,0 54321:54322");
	expect("t/sub", VAULT, GRP, 0755, "40777 0,0 54321:54321");
	expect("t/sub/rsync-recorded", VAULT, GRP, 0640, "104755 0,0 0:0");
	expect("t/linked", VAULT, GRP, 0640, NULL);
	char why[256];
	assert_int_equal(seal_verify(dfd, "t", &opts.ids, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "linked: no user.rsync.%stat"));

	/* again: nothing left to do */
	assert_int_equal(seal_tree(dfd, "t", &opts, &res), 0);
	assert_int_equal(res.sealed, 0);
	assert_int_equal(res.xattrs, 0);
}

static void finishes_a_walk_cut_short(void **state)
{
	struct seal_result res;
	char why[256];

	(void)state;
	/* chown'ed, then the sealer died: the modes still let the group write */
	make("t", S_IFDIR | 0775, VAULT, GRP);
	make("t/f", S_IFREG | 0666, VAULT, GRP);
	make("t/g", S_IFREG | 0644, ACCT, ACCT);
	assert_int_not_equal(seal_verify(dfd, "t", &opts.ids, why, sizeof(why)), 0);
	struct seal_opts o = opts;
	o.recheck = 1;
	assert_int_equal(seal_tree(dfd, "t", &o, &res), 0);
	expect("t", VAULT, GRP, 0755, NULL);
	expect("t/f", VAULT, GRP, 0644, NULL);
	expect("t/g", VAULT, GRP, 0644, "100644 0,0 54321:54321");
}

static void refuses(const char *planted, const char *why_part)
{
	struct seal_result res;
	struct stat before, after;

	assert_int_equal(fstatat(dfd, planted, &before, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(seal_tree(dfd, "t", &opts, &res), -EPERM);
	assert_int_equal(res.refused, 1);
	print_message("%s\n", res.why);
	assert_non_null(strstr(res.why, why_part));
	assert_int_equal(fstatat(dfd, planted, &after, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(after.st_uid, before.st_uid);
	assert_int_equal(after.st_mode, before.st_mode);
}

static void refuses_somebody_elses_inode(void **state)
{
	(void)state;
	make("t", S_IFDIR | 0755, ACCT, ACCT);
	make("t/root-file", S_IFREG | 04755, 0, 0);
	refuses("t/root-file", "root-file: belongs to uid 0");
}

static void refuses_another_accounts_history(void **state)
{
	(void)state;
	make("t", S_IFDIR | 0755, ACCT, ACCT);
	make("t/theirs", S_IFREG | 0640, VAULT, GRP + 10);
	refuses("t/theirs", "belongs to uid 54323, gid 54332");
}

static void refuses_a_symlink(void **state)
{
	(void)state;
	make("t", S_IFDIR | 0755, ACCT, ACCT);
	assert_int_equal(symlinkat("/etc/shadow", dfd, "t/link"), 0);
	assert_int_equal(fchownat(dfd, "t/link", ACCT, ACCT, AT_SYMLINK_NOFOLLOW), 0);
	refuses("t/link", "a symlink, which rsync --fake-super never makes");
}

static void refuses_a_file_open_for_writing(void **state)
{
	(void)state;
	make("t", S_IFDIR | 0755, ACCT, ACCT);
	make("t/busy", S_IFREG | 0644, ACCT, ACCT);
	int fd = openat(dfd, "t/busy", O_WRONLY);
	assert_true(fd >= 0);
	struct seal_result res;
	assert_int_equal(seal_tree(dfd, "t", &opts, &res), -EPERM);
	assert_non_null(strstr(res.why, "busy: open for writing"));
	close(fd);
	/* closed: it seals */
	assert_int_equal(seal_tree(dfd, "t", &opts, &res), 0);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# SKIP test_seal: needs root (chown)\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(seals_every_inode_of_the_account, setup, teardown),
		cmocka_unit_test_setup_teardown(finishes_a_walk_cut_short, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_somebody_elses_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_another_accounts_history, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_file_open_for_writing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
