/*
 * The backup root on a real filesystem: lock, prepare, publish, and repair
 * after a death at each step of a publish. Each test gets its own scratch
 * directory from mkdtemp under /tmp, removed again with remove_tree_at.
 * Crashes are simulated by doing only part of the work, by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsops.h"
#include "meta.h"
#include "root.h"
#include "snapname.h"
#include "util.h"

#define T0 ((time_t)1795942803)        /* 2026_11_29_09_00_03 */
#define T0_NAME "2026_11_29_09_00_03"

struct fixture {
	char dir[PATH_MAX];    /* scratch, from mkdtemp */
	char path[PATH_MAX];   /* the backup root: dir/root */
	int dirfd;
	struct root r;         /* open, created and locked */
};

/* snprintf that fails the test instead of truncating. */
__attribute__((format(printf, 3, 4)))
static void fmt(char *out, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		fail_msg("formatted string too long for %zu bytes", size);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	time_t since;

	fmt(f->dir, sizeof(f->dir), "/tmp/hindsight-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	fmt(f->path, sizeof(f->path), "%s/root", f->dir);
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0 || root_open(f->path, 1, &f->r) < 0 ||
	    root_lock(&f->r, T0, &since) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	root_close(&f->r);
	close(f->dirfd);
	rc = remove_tree_at(AT_FDCWD, f->dir);
	free(f);
	return rc;
}

/* ---- small helpers ---- */

/* Create dirfd/rel holding content. Returns 0 or -1; asserts nothing. */
static int write_plain(int dirfd, const char *rel, const char *content)
{
	int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(content);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, content, len) != (ssize_t)len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static void put_file(int dirfd, const char *rel, const char *content)
{
	if (write_plain(dirfd, rel, content) < 0)
		fail_msg("cannot write %s: %s", rel, strerror(errno));
}

/* Content of dirfd/rel, or NULL if it cannot be read. Caller frees. */
static char *get_file(int dirfd, const char *rel)
{
	char *s = NULL;

	return read_file_at(dirfd, rel, 1 << 20, &s) == 0 ? s : NULL;
}

static void assert_file(int dirfd, const char *rel, const char *want)
{
	char *got = get_file(dirfd, rel);

	if (!got)
		fail_msg("%s is missing", rel);
	assert_string_equal(got, want);
	free(got);
}

static int exists_at(int dirfd, const char *rel)
{
	struct stat st;

	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int is_dir_at(int dirfd, const char *rel)
{
	struct stat st;

	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Where ROOT/current points, "" if it is not a symlink. */
static const char *current_of(const struct fixture *f)
{
	static char buf[PATH_MAX];
	ssize_t n = readlinkat(f->r.fd, HS_CURRENT, buf, sizeof(buf) - 1);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Entries in dirfd/rel other than . and .., or -1 if it cannot be opened. */
static int count_entries(int dirfd, const char *rel)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (fd < 0 || !(d = fdopendir(fd)))
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void name_of(time_t t, char out[SNAPNAME_SIZE])
{
	assert_int_equal(snapname_format(t, out), 0);
}

static struct snapmeta meta_at(time_t start, int rsync_exit)
{
	struct snapmeta m;

	memset(&m, 0, sizeof(m));
	m.start = start;
	m.end = start + 7;
	m.rsync_exit = rsync_exit;
	m.files = 3;
	m.bytes = 12345;
	return m;
}

/* Receive a tree holding file=content and publish it; returns its name in m. */
static void push_and_publish(struct fixture *f, time_t start, const char *file,
			     const char *content, struct snapmeta *m)
{
	int resumed;

	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	int in = openat(f->r.fd, HS_INPROGRESS, O_RDONLY | O_DIRECTORY);
	assert_true(in >= 0);
	put_file(in, file, content);
	close(in);
	*m = meta_at(start, 0);
	m->resumed = resumed;
	assert_int_equal(root_publish(&f->r, m), 0);
}

/* Repoint ROOT/current at target by hand, as an older version would have. */
static void set_current(struct fixture *f, const char *target)
{
	unlinkat(f->r.fd, HS_CURRENT, 0);
	assert_int_equal(symlinkat(target, f->r.fd, HS_CURRENT), 0);
}

static void assert_snapshots(const struct fixture *f, size_t n, const char *const *names)
{
	struct snaplist l;

	assert_int_equal(root_snapshots(f->r.fd, &l), 0);
	assert_int_equal(l.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l.names[i], names[i]);
	snaplist_free(&l);
}

static void assert_meta_equal(const struct snapmeta *a, const struct snapmeta *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->end, b->end);
	assert_int_equal(a->rsync_exit, b->rsync_exit);
	assert_int_equal(a->files, b->files);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->resumed, b->resumed);
}

/* ---- opening and locking ---- */

static void opening_with_create_makes_the_root_and_its_state_dirs(void **state)
{
	struct fixture *f = *state;
	static const char *const dirs[] = {
		HS_META_DIR, HS_META_DIR "/snapshots", HS_META_DIR "/resume",
		HS_META_DIR "/trash",
	};

	assert_true(is_dir_at(f->dirfd, "root"));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_true(is_dir_at(f->r.fd, dirs[i]));
	assert_true(f->r.metafd >= 0);
	assert_string_equal(f->r.path, f->path);
	assert_false(exists_at(f->r.fd, HS_CURRENT));
	assert_false(exists_at(f->r.fd, HS_INPROGRESS));
}

static void opening_a_missing_root_without_create_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct root r;
	char p[PATH_MAX];

	fmt(p, sizeof(p), "%s/nothing-here", f->dir);
	assert_int_equal(root_open(p, 0, &r), -ENOENT);
	assert_false(exists_at(f->dirfd, "nothing-here"));
	assert_null(r.path);
	assert_int_equal(r.fd, -1);
}

static void opening_a_relative_path_is_refused(void **state)
{
	(void)state;
	struct root r;

	assert_int_equal(root_open("relative/root", 1, &r), -EINVAL);
}

static void opening_an_existing_root_keeps_it_and_strips_trailing_slashes(void **state)
{
	struct fixture *f = *state;
	struct root r;
	char p[PATH_MAX];

	fmt(p, sizeof(p), "%s//", f->path);
	assert_int_equal(root_open(p, 0, &r), 0);
	assert_string_equal(r.path, f->path);
	assert_true(r.metafd >= 0);
	assert_int_equal(r.lockfd, -1);
	root_close(&r);
}

static void a_second_lock_is_refused_with_the_holders_start_time(void **state)
{
	struct fixture *f = *state;
	struct root r2;
	time_t since = 1;

	assert_int_equal(root_open(f->path, 0, &r2), 0);
	assert_int_equal(root_lock(&r2, T0 + 500, &since), -EWOULDBLOCK);
	assert_int_equal(since, T0);
	assert_int_equal(r2.lockfd, -1);
	root_close(&r2);
}

static void the_lock_is_free_again_once_its_holder_closes(void **state)
{
	struct fixture *f = *state;
	struct root r2;
	time_t since = 1;

	assert_int_equal(root_open(f->path, 0, &r2), 0);
	root_close(&f->r);
	assert_int_equal(root_lock(&r2, T0 + 500, &since), 0);
	assert_int_equal(since, 0);
	assert_true(r2.lockfd >= 0);
	/* and the next one sees the new holder's time */
	assert_int_equal(root_open(f->path, 0, &f->r), 0);
	assert_int_equal(root_lock(&f->r, T0 + 900, &since), -EWOULDBLOCK);
	assert_int_equal(since, T0 + 500);
	root_close(&r2);
}

static void locking_a_root_without_state_dir_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct root r;
	time_t since;

	assert_int_equal(mkdirat(f->dirfd, "bare", 0700), 0);
	char p[PATH_MAX];
	fmt(p, sizeof(p), "%s/bare", f->dir);
	assert_int_equal(root_open(p, 0, &r), 0);
	assert_int_equal(r.metafd, -1);
	assert_int_equal(root_lock(&r, T0, &since), -ENOENT);
	root_close(&r);
}

/* ---- preparing a push and resuming ---- */

static void preparing_a_push_makes_inprogress_and_the_destination_inside_it(void **state)
{
	struct fixture *f = *state;
	int resumed = -1;

	assert_int_equal(root_prepare_push(&f->r, "sub/dir/deep", &resumed), 0);
	assert_int_equal(resumed, 0);
	assert_true(is_dir_at(f->r.fd, HS_INPROGRESS));
	assert_true(is_dir_at(f->r.fd, HS_INPROGRESS "/sub/dir/deep"));
	assert_int_equal(count_entries(f->r.metafd, "resume"), 0);
}

static void an_interrupted_tree_becomes_resume_base_1_then_2(void **state)
{
	struct fixture *f = *state;
	struct argv bases = ARGV_INIT;
	char want[PATH_MAX];
	int resumed = -1;

	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/first", "1");

	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	assert_int_equal(resumed, 1);
	assert_file(f->r.metafd, "resume/1/first", "1");
	assert_int_equal(count_entries(f->r.fd, HS_INPROGRESS), 0);
	put_file(f->r.fd, HS_INPROGRESS "/second", "2");

	assert_int_equal(root_prepare_push(&f->r, "sub/dir", &resumed), 0);
	assert_int_equal(resumed, 2);
	assert_file(f->r.metafd, "resume/1/first", "1");
	assert_file(f->r.metafd, "resume/2/second", "2");
	assert_true(is_dir_at(f->r.fd, HS_INPROGRESS "/sub/dir"));
	assert_false(exists_at(f->r.fd, HS_INPROGRESS "/second"));

	assert_int_equal(root_resume_bases(&f->r, &bases), 0);
	assert_int_equal(bases.n, 2);
	fmt(want, sizeof(want), "%s/.hindsight/resume/2", f->path);
	assert_string_equal(bases.v[0], want);
	fmt(want, sizeof(want), "%s/.hindsight/resume/1", f->path);
	assert_string_equal(bases.v[1], want);
	argv_clear(&bases);
}

static void only_the_newest_resume_bases_are_kept(void **state)
{
	struct fixture *f = *state;
	struct argv bases = ARGV_INIT;
	const int pushes = HS_MAX_RESUME + 3;
	int resumed = -1;

	for (int k = 1; k <= pushes; k++) {
		char mark[16];

		assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
		assert_int_equal(resumed, k - 1 < HS_MAX_RESUME ? k - 1 : HS_MAX_RESUME);
		fmt(mark, sizeof(mark), "%d", k);
		put_file(f->r.fd, HS_INPROGRESS "/mark", mark);
	}
	/* pushes - 1 interrupted trees, numbered 1..pushes-1; the newest are kept */
	assert_int_equal(count_entries(f->r.metafd, "resume"), HS_MAX_RESUME);
	assert_int_equal(root_resume_bases(&f->r, &bases), 0);
	assert_int_equal(bases.n, HS_MAX_RESUME);
	for (int i = 0; i < HS_MAX_RESUME; i++) {
		char want[PATH_MAX], rel[64], mark[16];
		int num = pushes - 1 - i;

		fmt(want, sizeof(want), "%s/.hindsight/resume/%d", f->path, num);
		assert_string_equal(bases.v[i], want);
		fmt(rel, sizeof(rel), "resume/%d/mark", num);
		fmt(mark, sizeof(mark), "%d", num);
		assert_file(f->r.metafd, rel, mark);
	}
	assert_false(exists_at(f->r.metafd, "resume/1"));
	assert_int_equal(count_entries(f->r.metafd, "trash"), 0);
	argv_clear(&bases);
}

static void a_symlink_at_inprogress_is_removed_not_followed(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];
	int resumed = -1;

	assert_int_equal(mkdirat(f->dirfd, "outside", 0755), 0);
	put_file(f->dirfd, "outside/keep", "precious");
	fmt(target, sizeof(target), "%s/outside", f->dir);
	assert_int_equal(symlinkat(target, f->r.fd, HS_INPROGRESS), 0);

	assert_int_equal(root_prepare_push(&f->r, "x", &resumed), 0);
	assert_int_equal(resumed, 0);
	assert_true(is_dir_at(f->r.fd, HS_INPROGRESS "/x"));
	assert_file(f->dirfd, "outside/keep", "precious");
	assert_int_equal(count_entries(f->dirfd, "outside"), 1);
	assert_int_equal(count_entries(f->r.metafd, "resume"), 0);
}

/* ---- publishing ---- */

static void publishing_names_the_snapshot_after_its_start_time(void **state)
{
	struct fixture *f = *state;
	struct snapmeta m, back;
	struct argv bases = ARGV_INIT;
	int resumed;

	/* one interrupted attempt first, so there is a resume base to clear */
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/partial", "p");
	push_and_publish(f, T0, "file", "hello", &m);
	assert_int_equal(m.resumed, 1);

	assert_string_equal(m.name, T0_NAME);
	assert_file(f->r.fd, T0_NAME "/file", "hello");
	assert_false(exists_at(f->r.fd, HS_INPROGRESS));
	assert_string_equal(current_of(f), T0_NAME);
	assert_file(f->r.fd, HS_CURRENT "/file", "hello");

	assert_int_equal(root_read_meta(&f->r, T0_NAME, &back), 0);
	assert_meta_equal(&back, &m);
	assert_int_equal(back.resumed, 1);

	assert_false(exists_at(f->r.metafd, "pending.json"));
	assert_int_equal(count_entries(f->r.metafd, "resume"), 0);
	assert_int_equal(root_resume_bases(&f->r, &bases), 0);
	assert_int_equal(bases.n, 0);
	assert_int_equal(count_entries(f->r.metafd, "trash"), 0);
	assert_false(exists_at(f->r.fd, HS_CURRENT ".tmp"));
	static const char *const want[] = { T0_NAME };
	assert_snapshots(f, 1, want);
}

static void metadata_of_a_missing_snapshot_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct snapmeta m;

	assert_int_equal(root_read_meta(&f->r, T0_NAME, &m), -ENOENT);
}

static void two_publishes_in_the_same_second_get_distinct_names_in_order(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b;
	struct snapmeta back;

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0, "f", "b", &b);
	assert_string_equal(a.name, T0_NAME);
	assert_string_equal(b.name, "2026_11_29_09_00_04");
	assert_true(strcmp(a.name, b.name) < 0);
	assert_file(f->r.fd, "2026_11_29_09_00_03/f", "a");
	assert_file(f->r.fd, "2026_11_29_09_00_04/f", "b");
	assert_string_equal(current_of(f), b.name);
	/* the name moved, the recorded start time did not */
	assert_int_equal(root_read_meta(&f->r, b.name, &back), 0);
	assert_int_equal(back.start, T0);
	static const char *const want[] = { "2026_11_29_09_00_03", "2026_11_29_09_00_04" };
	assert_snapshots(f, 2, want);
}

static void a_start_time_older_than_the_newest_snapshot_still_gives_a_newer_name(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, c;
	char want[SNAPNAME_SIZE];

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0 - 3600, "f", "b", &b);   /* the clock went back an hour */
	name_of(T0 + 1, want);
	assert_string_equal(b.name, want);
	push_and_publish(f, T0 - 7200, "f", "c", &c);
	name_of(T0 + 2, want);
	assert_string_equal(c.name, want);
	assert_string_equal(current_of(f), c.name);
}

/*
 * A server whose clock was reset (a dead RTC battery, a bad NTP step) must
 * still publish promptly: the push lock is held until it does.
 */
static void a_start_time_a_year_older_than_the_newest_is_named_promptly(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b;
	struct timespec t1, t2;
	char want[SNAPNAME_SIZE];
	int resumed;

	push_and_publish(f, T0, "f", "a", &a);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	b = meta_at(T0 - 365 * 86400, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(root_publish(&f->r, &b), 0);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	name_of(T0 + 1, want);
	assert_string_equal(b.name, want);
	double secs = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	if (secs > 1.0)
		fail_msg("publishing took %.1f s for a clock one year behind", secs);
}

static void a_publish_with_errors_is_recorded_as_such(void **state)
{
	struct fixture *f = *state;
	struct snapmeta m, back;
	int resumed;

	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	m = meta_at(T0, 23);
	assert_int_equal(root_publish(&f->r, &m), 0);
	assert_int_equal(root_read_meta(&f->r, m.name, &back), 0);
	assert_int_equal(back.rsync_exit, 23);
	assert_string_equal(meta_status(&back), "with errors");
}

/* ---- repair after a death at each point ---- */

/* (a) the tree was renamed and journalled, but current and metadata were not done */
static void repair_finishes_a_publish_that_died_after_the_rename(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, back;
	int resumed;

	push_and_publish(f, T0, "f", "old", &a);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/f", "interrupted");
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);   /* resume/1 */
	put_file(f->r.fd, HS_INPROGRESS "/f", "new");
	b = meta_at(T0 + 100, 24);
	b.resumed = resumed;
	assert_int_equal(root_publish_begin(&f->r, &b), 0);

	/* the state a death here leaves */
	assert_true(is_dir_at(f->r.fd, b.name));
	assert_false(exists_at(f->r.fd, HS_INPROGRESS));
	assert_true(exists_at(f->r.metafd, "pending.json"));
	assert_string_equal(current_of(f), a.name);
	char meta_file[64];
	fmt(meta_file, sizeof(meta_file), "snapshots/%s.json", b.name);
	assert_false(exists_at(f->r.metafd, meta_file));

	assert_int_equal(root_repair(&f->r), 0);
	assert_string_equal(current_of(f), b.name);
	assert_file(f->r.fd, HS_CURRENT "/f", "new");
	assert_int_equal(root_read_meta(&f->r, b.name, &back), 0);
	assert_meta_equal(&back, &b);
	assert_false(exists_at(f->r.metafd, "pending.json"));
	assert_int_equal(count_entries(f->r.metafd, "resume"), 0);
	const char *const want[] = { a.name, b.name };
	assert_snapshots(f, 2, want);
}

static void metadata_of_another_snapshot_is_enoent_while_a_publish_is_journalled(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, back;
	int resumed;

	push_and_publish(f, T0, "f", "old", &a);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	b = meta_at(T0 + 100, 0);
	assert_int_equal(root_publish_begin(&f->r, &b), 0);
	assert_int_equal(root_read_meta(&f->r, "2030_01_01_00_00_00", &back), -ENOENT);
	assert_int_equal(root_read_meta(&f->r, a.name, &back), 0);
	assert_meta_equal(&back, &a);
	assert_int_equal(root_repair(&f->r), 0);
}

/* (b) the journal was written but the tree was not renamed yet */
static void repair_finishes_a_publish_that_died_before_the_rename(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, back;
	int resumed;

	push_and_publish(f, T0, "f", "old", &a);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/f", "new");
	b = meta_at(T0 + 100, 0);
	name_of(b.start, b.name);
	char *json = meta_to_json(&b);
	assert_int_equal(write_file_atomic(f->r.metafd, "pending.json", json, strlen(json)), 0);
	free(json);

	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.fd, HS_INPROGRESS));
	assert_file(f->r.fd, "2026_11_29_09_01_43/f", "new");
	assert_string_equal(current_of(f), "2026_11_29_09_01_43");
	assert_int_equal(root_read_meta(&f->r, b.name, &back), 0);
	assert_meta_equal(&back, &b);
	assert_false(exists_at(f->r.metafd, "pending.json"));
	const char *const want[] = { a.name, b.name };
	assert_snapshots(f, 2, want);
}

/* (c) died between making current.tmp and renaming it, with current dangling */
static void repair_drops_a_stale_current_tmp_and_fixes_a_dangling_current(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b;

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0 + 60, "f", "b", &b);
	set_current(f, "2020_01_01_00_00_00");
	assert_int_equal(symlinkat(a.name, f->r.fd, HS_CURRENT ".tmp"), 0);

	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.fd, HS_CURRENT ".tmp"));
	assert_string_equal(current_of(f), b.name);
	assert_file(f->r.fd, HS_CURRENT "/f", "b");
}

/* (d) current was left on an older snapshot */
static void repair_repoints_current_at_the_newest_snapshot(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b;

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0 + 60, "f", "b", &b);
	set_current(f, a.name);

	assert_int_equal(root_repair(&f->r), 0);
	assert_string_equal(current_of(f), b.name);
}

/* (e) died while deleting something */
static void repair_empties_the_trash(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a;
	int tfd;

	push_and_publish(f, T0, "f", "a", &a);
	tfd = openat(f->r.metafd, "trash", O_RDONLY | O_DIRECTORY);
	assert_true(tfd >= 0);
	assert_int_equal(mkdirat(tfd, "77.0", 0700), 0);
	assert_int_equal(mkdirat(tfd, "77.0/deep", 0700), 0);
	put_file(tfd, "77.0/deep/x", "x");
	assert_int_equal(mkdirat(tfd, "77.0/ro", 0700), 0);
	put_file(tfd, "77.0/ro/y", "y");
	assert_int_equal(fchmodat(tfd, "77.0/ro", 0500, 0), 0);
	put_file(tfd, "loose", "z");
	assert_int_equal(symlinkat("/etc", tfd, "link"), 0);
	close(tfd);

	assert_int_equal(root_repair(&f->r), 0);
	assert_int_equal(count_entries(f->r.metafd, "trash"), 0);
	assert_true(is_dir_at(f->r.metafd, "trash"));
	assert_file(f->r.fd, "2026_11_29_09_00_03/f", "a");
	assert_string_equal(current_of(f), a.name);
}

/* (f) every snapshot is gone but current still points at one */
static void repair_removes_a_dangling_current_when_there_are_no_snapshots(void **state)
{
	struct fixture *f = *state;

	set_current(f, "2026_01_01_00_00_00");
	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.fd, HS_CURRENT));
	/* and with nothing at all, there is nothing to do */
	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.fd, HS_CURRENT));
}

/* (g) a journal that is not valid JSON */
static void repair_drops_a_torn_journal_and_touches_nothing_else(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, back;
	static const char torn[] = "{\"name\": \"2026_11_29_09_01";
	int resumed;

	push_and_publish(f, T0, "f", "a", &a);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/partial", "still arriving");
	assert_int_equal(write_file_atomic(f->r.metafd, "pending.json", torn,
					   sizeof(torn) - 1), 0);

	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.metafd, "pending.json"));
	assert_file(f->r.fd, HS_INPROGRESS "/partial", "still arriving");
	assert_int_equal(count_entries(f->r.fd, HS_INPROGRESS), 1);
	assert_int_equal(count_entries(f->r.metafd, "resume"), 0);
	assert_string_equal(current_of(f), a.name);
	assert_int_equal(root_read_meta(&f->r, a.name, &back), 0);
	assert_meta_equal(&back, &a);
	const char *const want[] = { a.name };
	assert_snapshots(f, 1, want);
}

/* died inside write_file_atomic(), between the temporary and the rename */
static void repair_drops_temporaries_of_interrupted_atomic_writes(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a;

	push_and_publish(f, T0, "f", "a", &a);
	put_file(f->r.metafd, ".pending.json.tmp", "{\"name\": ");
	put_file(f->r.metafd, "snapshots/.2026_11_29_09_05_00.json.tmp", "{");
	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.metafd, ".pending.json.tmp"));
	assert_false(exists_at(f->r.metafd, "snapshots/.2026_11_29_09_05_00.json.tmp"));
	assert_true(exists_at(f->r.metafd, "snapshots/" T0_NAME ".json"));
	assert_true(exists_at(f->r.metafd, "lock"));
	assert_string_equal(current_of(f), a.name);
}

/* a prune died between moving a snapshot to the trash and unlinking its metadata */
static void repair_drops_the_metadata_of_a_snapshot_that_is_gone(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, back;
	char meta_a[64];

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0 + 60, "f", "b", &b);
	int tfd = openat(f->r.metafd, "trash", O_RDONLY | O_DIRECTORY);
	assert_true(tfd >= 0);
	assert_int_equal(renameat(f->r.fd, a.name, tfd, "gone.1.0"), 0);
	close(tfd);
	fmt(meta_a, sizeof(meta_a), "snapshots/%s.json", a.name);
	assert_true(exists_at(f->r.metafd, meta_a));
	put_file(f->r.metafd, "snapshots/notes.json", "not a snapshot's");

	assert_int_equal(root_repair(&f->r), 0);
	assert_false(exists_at(f->r.metafd, meta_a));
	assert_int_equal(root_read_meta(&f->r, b.name, &back), 0);
	assert_meta_equal(&back, &b);
	/* what is not named like a snapshot is not ours to judge */
	assert_true(exists_at(f->r.metafd, "snapshots/notes.json"));
	const char *const want[] = { b.name };
	assert_snapshots(f, 1, want);
}

static void repair_of_a_consistent_root_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct snapmeta a, b, back;
	int resumed;

	push_and_publish(f, T0, "f", "a", &a);
	push_and_publish(f, T0 + 60, "f", "b", &b);
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);
	put_file(f->r.fd, HS_INPROGRESS "/g", "interrupted");
	assert_int_equal(root_prepare_push(&f->r, "", &resumed), 0);   /* resume/1 */

	assert_int_equal(root_repair(&f->r), 0);
	assert_int_equal(root_repair(&f->r), 0);
	const char *const want[] = { a.name, b.name };
	assert_snapshots(f, 2, want);
	assert_string_equal(current_of(f), b.name);
	assert_int_equal(root_read_meta(&f->r, a.name, &back), 0);
	assert_meta_equal(&back, &a);
	assert_file(f->r.metafd, "resume/1/g", "interrupted");
	assert_true(is_dir_at(f->r.fd, HS_INPROGRESS));
}

static void the_snapshot_list_holds_only_snapshot_directories(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdirat(f->r.fd, "2026_11_29_09_00_05", 0700), 0);
	assert_int_equal(mkdirat(f->r.fd, "2025_01_01_00_00_00", 0700), 0);
	assert_int_equal(mkdirat(f->r.fd, "2026_02_30_00_00_00", 0700), 0);   /* no such day */
	assert_int_equal(mkdirat(f->r.fd, "2026_11_29_09_00_0", 0700), 0);
	assert_int_equal(mkdirat(f->r.fd, HS_INPROGRESS, 0700), 0);
	put_file(f->r.fd, "2027_01_01_00_00_00", "a file, not a snapshot");
	assert_int_equal(symlinkat("2025_01_01_00_00_00", f->r.fd, "2028_01_01_00_00_00"), 0);
	set_current(f, "2026_11_29_09_00_05");

	static const char *const want[] = { "2025_01_01_00_00_00", "2026_11_29_09_00_05" };
	assert_snapshots(f, 2, want);
}

/* ---- filesystem helpers ---- */

/*
 * Build a tree with read-only and unreadable directories and symlinks that
 * point outside it, remove it, and check what is left. Returns NULL or what
 * went wrong. Runs as whoever calls it.
 */
static const char *remove_tree_scenario(int basefd, const char *base)
{
	char target[PATH_MAX];
	struct stat st;
	char *keep;

	if (mkdirat(basefd, "outside", 0755) < 0 || mkdirat(basefd, "outside/dir", 0755) < 0 ||
	    mkdirat(basefd, "tree", 0700) < 0 || mkdirat(basefd, "tree/ro", 0700) < 0 ||
	    mkdirat(basefd, "tree/ro/sub", 0700) < 0 || mkdirat(basefd, "tree/locked", 0700) < 0)
		return "cannot build the tree";
	if (write_plain(basefd, "outside/keep", "precious") < 0 ||
	    write_plain(basefd, "tree/ro/a", "a") < 0 ||
	    write_plain(basefd, "tree/ro/sub/b", "b") < 0 ||
	    write_plain(basefd, "tree/locked/c", "c") < 0 ||
	    write_plain(basefd, "tree/file_ro", "d") < 0)
		return "cannot write the files";
	int n = snprintf(target, sizeof(target), "%s/outside", base);
	if (n < 0 || (size_t)n >= sizeof(target))
		return "base path too long";
	if (symlinkat(target, basefd, "tree/escape") < 0 ||
	    symlinkat("../outside/keep", basefd, "tree/escape_file") < 0 ||
	    symlinkat("../../outside/dir", basefd, "tree/ro/escape_dir") < 0)
		return "cannot make the symlinks";
	if (fchmodat(basefd, "tree/file_ro", 0400, 0) < 0 ||
	    fchmodat(basefd, "tree/ro/sub", 0500, 0) < 0 ||
	    fchmodat(basefd, "tree/ro", 0500, 0) < 0 ||
	    fchmodat(basefd, "tree/locked", 0, 0) < 0)
		return "cannot make directories read-only";

	if (remove_tree_at(basefd, "tree") != 0)
		return "remove_tree_at failed";
	if (fstatat(basefd, "tree", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return "the tree is still there";
	keep = get_file(basefd, "outside/keep");
	if (!keep || strcmp(keep, "precious")) {
		free(keep);
		return "the file outside the tree was lost";
	}
	free(keep);
	if (fstatat(basefd, "outside/dir", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return "the directory outside the tree was lost";
	if (fstatat(basefd, "outside", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (st.st_mode & 07777) != 0755)
		return "the mode of the directory outside the tree changed";
	if (remove_tree_at(basefd, "tree") != 0)
		return "removing a missing name is an error";
	return NULL;
}

static void remove_tree_deletes_read_only_dirs_and_spares_symlink_targets(void **state)
{
	struct fixture *f = *state;
	char base[PATH_MAX];
	const char *err;

	fmt(base, sizeof(base), "%s/rm", f->dir);
	if (geteuid() != 0) {
		assert_int_equal(mkdirat(f->dirfd, "rm", 0700), 0);
		int fd = openat(f->dirfd, "rm", O_RDONLY | O_DIRECTORY);
		err = remove_tree_scenario(fd, base);
		close(fd);
		if (err)
			fail_msg("%s", err);
		return;
	}
	/*
	 * root ignores permission bits, which would hide the read-only cases:
	 * run the scenario as nobody, in a directory nobody owns.
	 */
	assert_int_equal(mkdirat(f->dirfd, "rm", 0700), 0);
	assert_int_equal(fchownat(f->dirfd, "rm", 65534, 65534, 0), 0);
	assert_int_equal(fchmod(f->dirfd, 0711), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		int fd = openat(f->dirfd, "rm", O_RDONLY | O_DIRECTORY);
		err = fd < 0 ? "cannot open the scratch dir as nobody" :
			remove_tree_scenario(fd, base);
		if (err)
			fprintf(stderr, "as nobody: %s\n", err);
		_exit(err ? 1 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void remove_tree_of_a_file_or_a_missing_name_is_fine(void **state)
{
	struct fixture *f = *state;

	put_file(f->dirfd, "plain", "x");
	assert_int_equal(remove_tree_at(f->dirfd, "plain"), 0);
	assert_false(exists_at(f->dirfd, "plain"));
	assert_int_equal(remove_tree_at(f->dirfd, "never-was"), 0);
}

static void mkdir_p_makes_every_component_and_tolerates_existing_ones(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(mkdir_p_at(f->dirfd, "a/b//c/"), 0);
	assert_true(is_dir_at(f->dirfd, "a/b/c"));
	assert_int_equal(fstatat(f->dirfd, "a/b/c", &st, 0), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(mkdir_p_at(f->dirfd, "a/b/c/d"), 0);
	assert_true(is_dir_at(f->dirfd, "a/b/c/d"));
	assert_int_equal(mkdir_p_at(f->dirfd, "a/b"), 0);
	assert_int_equal(mkdir_p_at(f->dirfd, ""), 0);
}

static void mkdir_p_does_not_follow_symlinks_or_go_through_files(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];

	assert_int_equal(mkdirat(f->dirfd, "outside", 0755), 0);
	fmt(target, sizeof(target), "%s/outside", f->dir);
	assert_int_equal(symlinkat(target, f->dirfd, "link"), 0);
	assert_int_equal(mkdir_p_at(f->dirfd, "link/new"), -ENOTDIR);
	assert_int_equal(count_entries(f->dirfd, "outside"), 0);

	put_file(f->dirfd, "file", "x");
	assert_int_equal(mkdir_p_at(f->dirfd, "file/new"), -ENOTDIR);
}

/* ---- metadata ---- */

static void metadata_round_trips_through_json(void **state)
{
	(void)state;
	struct snapmeta m = meta_at(T0, 24), back;

	name_of(T0, m.name);
	m.files = 9000000000LL;
	m.bytes = 1LL << 50;
	m.resumed = 3;
	char *json = meta_to_json(&m);
	assert_int_equal(meta_from_json(json, &back), 0);
	assert_meta_equal(&back, &m);
	free(json);
}

static void metadata_json_has_the_documented_fields(void **state)
{
	(void)state;
	struct snapmeta m = meta_at(T0, 23);
	json_error_t err;

	name_of(T0, m.name);
	char *text = meta_to_json(&m);
	size_t len = strlen(text);
	assert_true(len > 0 && text[len - 1] == '\n');
	json_t *o = json_loads(text, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")), T0_NAME);
	assert_string_equal(json_string_value(json_object_get(o, "start")),
			    "2026-11-29T09:00:03Z");
	assert_string_equal(json_string_value(json_object_get(o, "end")),
			    "2026-11-29T09:00:10Z");
	assert_int_equal(json_integer_value(json_object_get(o, "start_epoch")), T0);
	assert_int_equal(json_integer_value(json_object_get(o, "end_epoch")), T0 + 7);
	assert_int_equal(json_integer_value(json_object_get(o, "rsync_exit")), 23);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "with errors");
	assert_int_equal(json_integer_value(json_object_get(o, "files_transferred")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "bytes_transferred")), 12345);
	assert_int_equal(json_integer_value(json_object_get(o, "resumed")), 0);
	json_decref(o);
	free(text);
}

static void metadata_without_optional_counts_reads_as_zero(void **state)
{
	(void)state;
	struct snapmeta m;

	assert_int_equal(meta_from_json("{\"name\": \"2026_11_29_09_00_03\", "
					"\"start_epoch\": 1795942803, \"end_epoch\": 1795942810, "
					"\"rsync_exit\": 0, \"comment\": \"extra keys are fine\"}",
					&m), 0);
	assert_string_equal(m.name, T0_NAME);
	assert_int_equal(m.files, 0);
	assert_int_equal(m.bytes, 0);
	assert_int_equal(m.resumed, 0);
}

static void metadata_status_follows_the_rsync_exit_code(void **state)
{
	(void)state;
	struct snapmeta m = meta_at(T0, 0);

	assert_string_equal(meta_status(&m), "complete");
	m.rsync_exit = 24;   /* files vanished while being read: still complete */
	assert_string_equal(meta_status(&m), "complete");
	m.rsync_exit = 23;
	assert_string_equal(meta_status(&m), "with errors");
}

struct bad_meta_row {
	const char *name;
	const char *json;
};

#define GOOD_REST "\"start_epoch\": 1, \"end_epoch\": 2, \"rsync_exit\": 0}"

static struct bad_meta_row bad_meta_rows[] = {
	{ "refuses empty metadata", "" },
	{ "refuses torn metadata", "{\"name\": \"2026_11_29_09_00_03\", \"start_ep" },
	{ "refuses a JSON array", "[]" },
	{ "refuses JSON null", "null" },
	{ "refuses metadata without a name", "{" GOOD_REST },
	{ "refuses a name that is not a string", "{\"name\": 5, " GOOD_REST },
	{ "refuses a name that is not a snapshot name", "{\"name\": \"current\", " GOOD_REST },
	{ "refuses a name with a path in it", "{\"name\": \"../../etc/passwd\", " GOOD_REST },
	{ "refuses a name for a day that does not exist",
	  "{\"name\": \"2026_02_30_00_00_00\", " GOOD_REST },
	{ "refuses a name with a trailing slash",
	  "{\"name\": \"2026_11_29_09_00_03/\", " GOOD_REST },
	{ "refuses metadata without a start time",
	  "{\"name\": \"2026_11_29_09_00_03\", \"end_epoch\": 2, \"rsync_exit\": 0}" },
	{ "refuses an rsync exit code that is a string",
	  "{\"name\": \"2026_11_29_09_00_03\", \"start_epoch\": 1, \"end_epoch\": 2, "
	  "\"rsync_exit\": \"0\"}" },
	{ "refuses a file count that is a string",
	  "{\"name\": \"2026_11_29_09_00_03\", \"start_epoch\": 1, \"end_epoch\": 2, "
	  "\"rsync_exit\": 0, \"files_transferred\": \"many\"}" },
};

static void run_bad_meta_row(void **state)
{
	const struct bad_meta_row *row = *state;
	struct snapmeta m;

	assert_int_equal(meta_from_json(row->json, &m), -EINVAL);
}

int main(void)
{
	size_t nbad = sizeof(bad_meta_rows) / sizeof(bad_meta_rows[0]);
	struct CMUnitTest *bad = xcalloc(nbad, sizeof(*bad));
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(opening_with_create_makes_the_root_and_its_state_dirs),
		T(opening_a_missing_root_without_create_is_enoent),
		T(opening_a_relative_path_is_refused),
		T(opening_an_existing_root_keeps_it_and_strips_trailing_slashes),
		T(a_second_lock_is_refused_with_the_holders_start_time),
		T(the_lock_is_free_again_once_its_holder_closes),
		T(locking_a_root_without_state_dir_is_enoent),
		T(preparing_a_push_makes_inprogress_and_the_destination_inside_it),
		T(an_interrupted_tree_becomes_resume_base_1_then_2),
		T(only_the_newest_resume_bases_are_kept),
		T(a_symlink_at_inprogress_is_removed_not_followed),
		T(publishing_names_the_snapshot_after_its_start_time),
		T(metadata_of_a_missing_snapshot_is_enoent),
		T(two_publishes_in_the_same_second_get_distinct_names_in_order),
		T(a_start_time_older_than_the_newest_snapshot_still_gives_a_newer_name),
		T(a_start_time_a_year_older_than_the_newest_is_named_promptly),
		T(a_publish_with_errors_is_recorded_as_such),
		T(repair_finishes_a_publish_that_died_after_the_rename),
		T(metadata_of_another_snapshot_is_enoent_while_a_publish_is_journalled),
		T(repair_finishes_a_publish_that_died_before_the_rename),
		T(repair_drops_a_stale_current_tmp_and_fixes_a_dangling_current),
		T(repair_repoints_current_at_the_newest_snapshot),
		T(repair_empties_the_trash),
		T(repair_removes_a_dangling_current_when_there_are_no_snapshots),
		T(repair_drops_a_torn_journal_and_touches_nothing_else),
		T(repair_drops_temporaries_of_interrupted_atomic_writes),
		T(repair_drops_the_metadata_of_a_snapshot_that_is_gone),
		T(repair_of_a_consistent_root_changes_nothing),
		T(the_snapshot_list_holds_only_snapshot_directories),
		T(remove_tree_deletes_read_only_dirs_and_spares_symlink_targets),
		T(remove_tree_of_a_file_or_a_missing_name_is_fine),
		T(mkdir_p_makes_every_component_and_tolerates_existing_ones),
		T(mkdir_p_does_not_follow_symlinks_or_go_through_files),
		cmocka_unit_test(metadata_round_trips_through_json),
		cmocka_unit_test(metadata_json_has_the_documented_fields),
		cmocka_unit_test(metadata_without_optional_counts_reads_as_zero),
		cmocka_unit_test(metadata_status_follows_the_rsync_exit_code),
	};
#undef T
	int failed;

	for (size_t i = 0; i < nbad; i++) {
		bad[i].name = bad_meta_rows[i].name;
		bad[i].test_func = run_bad_meta_row;
		bad[i].initial_state = &bad_meta_rows[i];
	}
	failed = cmocka_run_group_tests_name("backup root, publish and repair", tests,
					     NULL, NULL);
	failed += _cmocka_run_group_tests("metadata parsing table", bad, nbad, NULL, NULL);
	free(bad);
	return failed ? 1 : 0;
}
