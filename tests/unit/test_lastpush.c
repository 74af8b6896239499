/*
 * The record of the last push attempt (last_push.json), and telling a
 * running push from the lock file without taking the lock.
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
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsops.h"
#include "lastpush.h"
#include "root.h"
#include "util.h"

static void round_trips(void **state)
{
	struct last_push in, out;
	char *json;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.start = 1795942803;
	in.end = 1795942861;
	in.result = PUSH_WITH_ERRORS;
	in.exit = 3;
	in.rsync_exit = 23;
	memcpy(in.snapshot, "2026_11_29_09_00_03", SNAPNAME_SIZE);
	snprintf(in.message, sizeof(in.message), "snapshot published with errors");
	json = lastpush_to_json(&in);
	assert_non_null(strstr(json, "\"result\": \"with errors\""));
	assert_non_null(strstr(json, "\"start\": \"2026-11-29T09:00:03Z\""));
	assert_int_equal(lastpush_from_json(json, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(json);
}

static void failure_without_rsync_or_snapshot(void **state)
{
	struct last_push in, out;
	char *json;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.start = in.end = 1795942803;
	in.result = PUSH_FAILED;
	in.exit = 14;
	in.rsync_exit = -1;
	snprintf(in.message, sizeof(in.message), "not enough space");
	json = lastpush_to_json(&in);
	assert_non_null(strstr(json, "\"rsync_exit\": null"));
	assert_non_null(strstr(json, "\"snapshot\": null"));
	assert_int_equal(lastpush_from_json(json, &out), 0);
	assert_int_equal(out.rsync_exit, -1);
	assert_string_equal(out.snapshot, "");
	assert_int_equal(out.result, PUSH_FAILED);
	assert_int_equal(out.exit, 14);
	free(json);
}

static void message_bytes_that_are_not_utf8_are_escaped(void **state)
{
	struct last_push in, out;
	char *json;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.result = PUSH_FAILED;
	in.rsync_exit = 12;
	snprintf(in.message, sizeof(in.message), "cannot open /srv/\xff\\x");
	json = lastpush_to_json(&in);
	assert_int_equal(lastpush_from_json(json, &out), 0);
	assert_string_equal(out.message, "cannot open /srv/\\xff\\\\x");
	free(json);
}

static void bad_records_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "not json",
		"{\"start_epoch\": 1, \"end_epoch\": 2, \"exit\": 0}",
		"{\"start_epoch\": 1, \"end_epoch\": 2, \"exit\": 0, \"result\": \"fine\"}",
		"{\"start_epoch\": \"1\", \"end_epoch\": 2, \"exit\": 0, \"result\": \"failed\"}",
	};
	struct last_push p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lastpush_from_json(bad[i], &p) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	/* a snapshot field that is no snapshot name is dropped, not trusted */
	assert_int_equal(lastpush_from_json("{\"start_epoch\": 1, \"end_epoch\": 2, \"exit\": 0, "
					    "\"result\": \"complete\", \"snapshot\": \"../x\"}",
					    &p), 0);
	assert_string_equal(p.snapshot, "");
}

/* ---- on a real root ---- */

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 8];
	struct root r;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/hindsight-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/root", f->dir);
	if (root_open(f->path, 1, &f->r) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	root_close(&f->r);
	remove_tree_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

static void written_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct last_push in, out;

	memset(&in, 0, sizeof(in));
	assert_int_equal(lastpush_read(&f->r, &out), -ENOENT);
	in.start = 10;
	in.end = 20;
	in.rsync_exit = 0;
	memcpy(in.snapshot, "2026_11_29_09_00_03", SNAPNAME_SIZE);
	snprintf(in.message, sizeof(in.message), "published");
	assert_int_equal(lastpush_write(&f->r, &in), 0);
	assert_int_equal(lastpush_read(&f->r, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* atomic: no temporary left beside it */
	assert_int_equal(faccessat(f->r.metafd, ".last_push.json.tmp", F_OK, 0), -1);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void set_lock_text(struct fixture *f, const char *text)
{
	int fd = openat(f->r.metafd, "lock", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void a_running_push_is_seen_without_the_lock(void **state)
{
	struct fixture *f = *state;
	long long pid;
	time_t since;
	char text[64];

	/* no lock file at all */
	assert_int_equal(push_holder(&f->r, &pid, &since), 0);
	/* held by us, as serve holds it */
	assert_int_equal(root_lock(&f->r, 1234, &since), 0);
	assert_int_equal(push_holder(&f->r, &pid, &since), 1);
	assert_int_equal(pid, getpid());
	assert_int_equal(since, 1234);
	/* a push that ended empties the text */
	root_close(&f->r);
	assert_int_equal(root_open(f->path, 0, &f->r), 0);
	assert_int_equal(push_holder(&f->r, &pid, &since), 0);
	/* a dead pid and no lock: a push that died */
	snprintf(text, sizeof(text), "%ld 99\n", (long)dead_pid());
	set_lock_text(f, text);
	assert_int_equal(push_holder(&f->r, &pid, &since), 0);
	/* a dead pid, but the lock still held (serve killed, its rsync running) */
	int fd = openat(f->r.metafd, "lock", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(push_holder(&f->r, &pid, &since), 1);
	assert_int_equal(since, 99);
	close(fd);
	/* garbage in the file */
	set_lock_text(f, "x y\n");
	assert_int_equal(push_holder(&f->r, &pid, &since), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trips),
		cmocka_unit_test(failure_without_rsync_or_snapshot),
		cmocka_unit_test(message_bytes_that_are_not_utf8_are_escaped),
		cmocka_unit_test(bad_records_are_refused),
		cmocka_unit_test_setup_teardown(written_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(a_running_push_is_seen_without_the_lock, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("lastpush", tests, NULL, NULL);
}
