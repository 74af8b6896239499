/*
 * Landlock as serve applies it to rsync: each case forks, confines the
 * child with landlock_confine() and has it try one thing; the parent
 * checks the errno the child saw. Skipped where the kernel has none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsops.h"
#include "landlock.h"

static char base[] = "/tmp/hs-landlock.XXXXXX";
static char root[64], recv_dir[128], tmp_dir[128], snap[128], other[64];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(recv_dir, sizeof(recv_dir), "%s/inprogress", root);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", root);
	snprintf(snap, sizeof(snap), "%s/2026_01_01_00_00_00", root);
	snprintf(other, sizeof(other), "%s/other", base);
	if (mkdir(root, 0700) || mkdir(recv_dir, 0700) || mkdir(tmp_dir, 0700) || mkdir(snap, 0700) ||
	    mkdir(other, 0700))
		return -1;
	char p[300];
	snprintf(p, sizeof(p), "%s/file", snap);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "history\n", 8) != 8)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/secret", other);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "secret\n", 7) != 7)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return remove_tree_at(AT_FDCWD, base) < 0 ? -1 : 0;
}

enum act { CREATE_IN, LINK_INTO_RECV, UNLINK_IN, READ_FILE_AT, WRITE_NEW_IN, TCP_CONNECT, MKDIR_IN,
	   CREATE_AND_RENAME };

/* Run act in a confined child; returns 0 or the errno it failed with. */
static int confined(const struct ll_plan *plan, enum act act, const char *a, const char *b)
{
	int pfd[2];
	pid_t pid;
	int err = -1;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int e = 0, rc = landlock_confine(plan);
		if (rc <= 0)
			e = 1000;
		else {
			int fd = -1;
			switch (act) {
			case CREATE_IN:
			case WRITE_NEW_IN:
				fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
				break;
			case LINK_INTO_RECV:
				fd = link(a, b) == 0 ? 0 : -1;
				break;
			case UNLINK_IN:
				fd = unlink(a) == 0 ? 0 : -1;
				break;
			case READ_FILE_AT:
				fd = open(a, O_RDONLY);
				break;
			case MKDIR_IN:
				fd = mkdir(a, 0700) == 0 ? 0 : -1;
				break;
			case CREATE_AND_RENAME:
				/* rsync's --temp-dir: write there, rename into the tree */
				fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
				if (fd >= 0) {
					close(fd);
					fd = rename(a, b) == 0 ? 0 : -1;
				}
				break;
			case TCP_CONNECT: {
				struct sockaddr_in sin = { .sin_family = AF_INET,
							   .sin_port = htons(9) };
				sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				int s = socket(AF_INET, SOCK_STREAM, 0);
				fd = connect(s, (struct sockaddr *)&sin, sizeof(sin));
				if (fd < 0 && errno == ECONNREFUSED)
					fd = 0;   /* it got through to the network */
				break;
			}
			}
			e = fd < 0 ? errno : 0;
		}
		if (write(pfd[1], &e, sizeof(e)) != sizeof(e))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &err, sizeof(err)), (ssize_t)sizeof(err));
	close(pfd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_not_equal(err, 1000);
	return err;
}

#define SKIP_WITHOUT_LANDLOCK() do { if (landlock_abi() < 2) skip(); } while (0)

static void a_push_may_create_files_in_the_tree_being_received(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/new", recv_dir);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), 0);
	unlink(f);
}

static void a_push_may_hard_link_from_a_snapshot_into_the_tree(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char from[300], to[300];
	snprintf(from, sizeof(from), "%s/file", snap);
	snprintf(to, sizeof(to), "%s/linked", recv_dir);
	/* the --link-dest trap: a link that gains rights fails with EXDEV */
	assert_int_equal(confined(&p, LINK_INTO_RECV, from, to), 0);
	struct stat a, b;
	assert_int_equal(stat(from, &a), 0);
	assert_int_equal(stat(to, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	unlink(to);
}

static void a_push_may_rename_from_its_temp_dir_into_the_tree(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir, .tmp = tmp_dir };
	char from[300], to[300];
	snprintf(from, sizeof(from), "%s/.f.XXXXXX", tmp_dir);
	snprintf(to, sizeof(to), "%s/f", recv_dir);
	assert_int_equal(confined(&p, CREATE_AND_RENAME, from, to), 0);
	assert_int_equal(access(to, F_OK), 0);
	assert_int_equal(access(from, F_OK), -1);
	unlink(to);
}

static void a_push_without_a_temp_dir_cannot_write_there(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/planted", tmp_dir);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), EACCES);
	assert_int_equal(access(f, F_OK), -1);
}

static void a_push_cannot_create_files_in_a_snapshot(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/planted", snap);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), EACCES);
	assert_int_equal(access(f, F_OK), -1);
}

static void a_push_cannot_delete_from_a_snapshot(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/file", snap);
	assert_int_equal(confined(&p, UNLINK_IN, f, NULL), EACCES);
	assert_int_equal(access(f, F_OK), 0);
}

static void a_push_cannot_make_directories_outside_the_tree(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/newdir", root);
	assert_int_equal(confined(&p, MKDIR_IN, f, NULL), EACCES);
}

static void a_push_cannot_write_outside_the_backup_root(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/dropped", other);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), EACCES);
}

static void a_push_cannot_read_outside_the_backup_root(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	char f[300];
	snprintf(f, sizeof(f), "%s/secret", other);
	assert_int_equal(confined(&p, READ_FILE_AT, f, NULL), EACCES);
}

/* A fast push (serve.c): no basis to read, and with --numeric-ids no names to map. */
static void a_fast_push_reads_only_its_tree_and_not_the_user_database(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = recv_dir, .recv = recv_dir, .tmp = tmp_dir,
			     .no_names = 1 };
	char f[300];
	snprintf(f, sizeof(f), "%s/file", snap);
	assert_int_equal(confined(&p, READ_FILE_AT, f, NULL), EACCES);
	assert_int_equal(confined(&p, READ_FILE_AT, "/etc/passwd", NULL), EACCES);
	assert_int_equal(confined(&p, READ_FILE_AT, "/etc/group", NULL), EACCES);
	snprintf(f, sizeof(f), "%s/fast-new", recv_dir);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), 0);
	assert_int_equal(confined(&p, READ_FILE_AT, f, NULL), 0);
	assert_int_equal(unlink(f), 0);
	/* the system's libraries stay readable, and without no_names the user database */
	assert_int_equal(confined(&p, READ_FILE_AT, "/etc/ld.so.cache", NULL), 0);
	p.no_names = 0;
	assert_int_equal(confined(&p, READ_FILE_AT, "/etc/passwd", NULL), 0);
}

static void a_dry_run_push_cannot_write_even_in_the_tree(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PUSH, .root = root };
	char f[300];
	snprintf(f, sizeof(f), "%s/new", recv_dir);
	assert_int_equal(confined(&p, CREATE_IN, f, NULL), EACCES);
}

static void a_restore_may_read_its_snapshot(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PULL, .snapdir = snap };
	char f[300];
	snprintf(f, sizeof(f), "%s/file", snap);
	assert_int_equal(confined(&p, READ_FILE_AT, f, NULL), 0);
}

static void a_restore_cannot_read_the_rest_of_the_root_or_outside(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PULL, .snapdir = snap };
	char f[300];
	snprintf(f, sizeof(f), "%s/secret", other);
	assert_int_equal(confined(&p, READ_FILE_AT, f, NULL), EACCES);
	assert_int_equal(confined(&p, READ_FILE_AT, "/etc/shadow", NULL), EACCES);
}

static void a_restore_cannot_write_anywhere_not_even_its_snapshot(void **state)
{
	(void)state;
	SKIP_WITHOUT_LANDLOCK();
	struct ll_plan p = { .role = LL_PULL, .snapdir = snap };
	char f[300];
	snprintf(f, sizeof(f), "%s/planted", snap);
	assert_int_equal(confined(&p, WRITE_NEW_IN, f, NULL), EACCES);
	snprintf(f, sizeof(f), "%s/file", snap);
	assert_int_equal(confined(&p, UNLINK_IN, f, NULL), EACCES);
}

static void neither_role_may_use_tcp(void **state)
{
	(void)state;
	if (landlock_abi() < 4)
		skip();
	struct ll_plan push = { .role = LL_PUSH, .root = root, .recv = recv_dir };
	struct ll_plan pull = { .role = LL_PULL, .snapdir = snap };
	assert_int_equal(confined(&push, TCP_CONNECT, NULL, NULL), EACCES);
	assert_int_equal(confined(&pull, TCP_CONNECT, NULL, NULL), EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_push_may_create_files_in_the_tree_being_received),
		cmocka_unit_test(a_push_may_hard_link_from_a_snapshot_into_the_tree),
		cmocka_unit_test(a_push_may_rename_from_its_temp_dir_into_the_tree),
		cmocka_unit_test(a_push_without_a_temp_dir_cannot_write_there),
		cmocka_unit_test(a_push_cannot_create_files_in_a_snapshot),
		cmocka_unit_test(a_push_cannot_delete_from_a_snapshot),
		cmocka_unit_test(a_push_cannot_make_directories_outside_the_tree),
		cmocka_unit_test(a_push_cannot_write_outside_the_backup_root),
		cmocka_unit_test(a_push_cannot_read_outside_the_backup_root),
		cmocka_unit_test(a_fast_push_reads_only_its_tree_and_not_the_user_database),
		cmocka_unit_test(a_dry_run_push_cannot_write_even_in_the_tree),
		cmocka_unit_test(a_restore_may_read_its_snapshot),
		cmocka_unit_test(a_restore_cannot_read_the_rest_of_the_root_or_outside),
		cmocka_unit_test(a_restore_cannot_write_anywhere_not_even_its_snapshot),
		cmocka_unit_test(neither_role_may_use_tcp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
