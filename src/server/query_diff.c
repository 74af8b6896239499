/*
 * `hindsight diff SNAPSHOT_A SNAPSHOT_B [PATH]`: what changed from A to B,
 * without reading a byte of file data (the walk: query_diffwalk.c).
 *
 * Order: depth first, each directory's names by bytes, a directory's
 * changes right after its own line. A name only on one side is reported
 * once, even if it is a whole tree.
 *
 * The kernel's readdir is most of the cost (ext4 hashes every name it
 * returns), so the walk is spread over the CPUs: the top levels are
 * planned first into an ordered list of slots, each either changes found
 * there or a directory pair still to compare (a task); worker threads
 * take the tasks, each into its own array, and the arrays are joined in
 * slot order, so the answer is the same as a walk in one thread.
 */
#include "query_diff.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/snappath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Each level of the walk holds one directory open per side, and so does
 * each task waiting for a thread: make room for the deepest tree a path of
 * PATH_MAX bytes can name, in a few threads at once.
 */
#define FD_WANTED 16384

/*
 * Planning: compare the pair of task t down to its subdirectories, which
 * become tasks in out; t's own fds are then no longer needed.
 */
static void expand(struct diff *d, struct task *t, struct slots *out)
{
	d->split = out;
	d->changes = json_array();
	sb_reset(&d->path);
	sb_addstr(&d->path, t->path);
	diff_dirs(d, t->afd, t->adev, t->bfd, t->bdev);
	flush_changes(d);
	json_decref(d->changes);
	d->changes = NULL;
}

#define TASKS_PER_CPU 8    /* enough to even out uneven subtrees */
#define TASKS_MAX 1024     /* each holds two open directories */

/*
 * Expand tasks level by level, in place, until there are want of them
 * (or none are left, or more would hold too many fds open).
 */
static void plan(struct diff *d, struct slots *s, size_t want)
{
	for (int round = 0; round < 32 && s->tasks && s->tasks < want && !d->err; round++) {
		struct slots next = { NULL, 0, 0, 0 };
		size_t left = s->tasks;
		for (size_t i = 0; i < s->n; i++) {
			struct task *t = s->v[i].task;
			if (!t || d->err || next.tasks + left > TASKS_MAX) {
				add_slot(&next, s->v[i].changes, t);
				left -= t != NULL;
				continue;
			}
			left--;
			expand(d, t, &next);
			task_free(t);
		}
		free(s->v);
		*s = next;
	}
	d->split = NULL;
}

struct pool {
	struct slots *s;
	atomic_size_t next;
	int trust_dirent;
};

/* Take tasks until there are none left; each fills its own array. */
static void *run_tasks(void *arg)
{
	struct pool *p = arg;
	struct diff *d = xcalloc(1, sizeof(*d));

	sb_init(&d->path);
	sb_init(&d->err_path);
	d->trust_dirent = p->trust_dirent;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->s->n)
			break;
		struct task *t = p->s->v[i].task;
		if (!t)
			continue;
		d->changes = t->changes = json_array();
		d->err = 0;
		sb_reset(&d->err_path);
		sb_reset(&d->path);
		sb_addstr(&d->path, t->path);
		diff_dirs(d, t->afd, t->adev, t->bfd, t->bdev);
		if (d->err) {
			t->err = d->err;
			t->err_path = xstrdup(d->err_path.buf);
		}
		close(t->afd);
		close(t->bfd);
		t->afd = t->bfd = -1;
	}
	sb_release(&d->path);
	sb_release(&d->err_path);
	free(d);
	return NULL;
}

/* Run the tasks on up to one thread per CPU, this one included. */
static void run_pool(struct slots *s, int trust_dirent, size_t ncpu)
{
	struct pool p = { .s = s, .trust_dirent = trust_dirent };
	pthread_t th[16];
	size_t n = ncpu < s->tasks ? ncpu : s->tasks, started = 0;

	atomic_init(&p.next, 0);
	if (n > sizeof(th) / sizeof(th[0]))
		n = sizeof(th) / sizeof(th[0]);
	for (size_t i = 1; i < n; i++)
		if (pthread_create(&th[started], NULL, run_tasks, &p) == 0)
			started++;
	run_tasks(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* Join the slots' changes in order; the first error found wins. */
static json_t *assemble(struct diff *d, struct slots *s)
{
	json_t *all = json_array();

	for (size_t i = 0; i < s->n; i++) {
		struct task *t = s->v[i].task;
		if (s->v[i].changes)
			json_array_extend(all, s->v[i].changes);
		if (!t)
			continue;
		if (t->err && !d->err) {
			d->err = t->err;
			sb_addstr(&d->err_path, t->err_path);
		}
		if (t->changes)
			json_array_extend(all, t->changes);
	}
	return all;
}

/*
 * The parent of rel in one snapshot, opened to read, and rel's entry in it
 * (type DT_UNKNOWN: it is stat'ed). *present is 0 if it is not there.
 * Returns the parent's fd, or -1 with *code set after printing why.
 */
static int open_side(int sfd, const char *snap, const char *parent, const char *rel,
		     dev_t *dev, int *code)
{
	struct stat st;
	int fd = snap_opendir_beneath(sfd, parent);

	if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV) {
		struct strbuf link = STRBUF_INIT;
		int in_way = symlink_in_the_way(sfd, rel, &link);
		sb_release(&link);
		if (in_way) {
			*code = path_walk_failed(sfd, snap, rel, fd);
			return -1;
		}
		return -2;   /* not in this snapshot */
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		*code = path_walk_failed(sfd, snap, rel, fd < 0 ? fd : -errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*dev = st.st_dev;
	return fd;
}

int query_diff(const struct root *r, const char *sel_a, const char *sel_b, const char *rel)
{
	char na[SNAPNAME_SIZE], nb[SNAPNAME_SIZE];
	int code = HS_EXIT_OK, sa = -1, sb = -1, pa = -2, pb = -2;
	char *parent = xstrdup(rel), *slash = strrchr(parent, '/');
	const char *last = slash ? rel + (slash - parent) + 1 : rel;
	struct diff *d = xcalloc(1, sizeof(*d));
	struct slots slots = { NULL, 0, 0, 0 };
	json_t *all = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
	sb_init(&d->path);
	sb_init(&d->err_path);
	d->changes = json_array();
	d->split = &slots;
	if ((sa = open_snapshot(r, sel_a, na, &code)) < 0 ||
	    (sb = open_snapshot(r, sel_b, nb, &code)) < 0)
		goto out;
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	d->trust_dirent = dirent_exact(sa) && dirent_exact(sb);
	raise_fd_limit(FD_WANTED);
	if (!*rel) {
		/* the tops: compared below, never reported themselves */
		struct stat sta, stb;
		pa = snap_opendir_beneath(sa, "");
		pb = snap_opendir_beneath(sb, "");
		if (pa < 0 || pb < 0 || fstat(pa, &sta) < 0 || fstat(pb, &stb) < 0) {
			qerr("cannot read snapshot %s or %s", na, nb);
			code = HS_EXIT_ERROR;
			goto out;
		}
		diff_dirs(d, pa, sta.st_dev, pb, stb.st_dev);
	} else {
		dev_t da = 0, db = 0;
		if ((pa = open_side(sa, na, parent, rel, &da, &code)) == -1 ||
		    (pb = open_side(sb, nb, parent, rel, &db, &code)) == -1)
			goto out;
		struct dent e = { .name = last, .type = DT_UNKNOWN };
		struct stat st;
		int in_a = pa >= 0 && fstatat(pa, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
		int in_b = pb >= 0 && fstatat(pb, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (!in_a && !in_b) {
			struct strbuf shown = STRBUF_INIT;
			show_path(&shown, rel);
			qerr("no %s in snapshot %s or %s", shown.buf, na, nb);
			sb_release(&shown);
			code = HS_EXIT_NOTFOUND;
			goto out;
		}
		sb_addstr(&d->path, rel);
		diff_name(d, pa, da, in_a ? &e : NULL, pb, db, in_b ? &e : NULL);
	}
	/* what the first level found, then its subdirectories on every CPU */
	flush_changes(d);
	json_decref(d->changes);
	d->changes = NULL;
	plan(d, &slots, ncpu > 1 ? (size_t)ncpu * TASKS_PER_CPU : 0);
	if (!d->err)
		run_pool(&slots, d->trust_dirent, (size_t)ncpu);
	all = assemble(d, &slots);
	if (d->err) {
		struct strbuf shown = STRBUF_INIT;
		show_path(&shown, d->err_path.buf);
		qerr("cannot compare %s in snapshots %s and %s: %s", shown.buf, na, nb,
		     strerror(-d->err));
		sb_release(&shown);
		code = HS_EXIT_ERROR;
		goto out;
	}
	json_t *top = json_pack("{s:i, s:s, s:s, s:s}", "protocol", QUERY_PROTOCOL,
				"verb", "diff", "a", na, "b", nb);
	json_set_name(top, "path", rel, strlen(rel));
	json_object_set(top, "changes", all);
	code = emit_json(top);
out:
	if (pa >= 0)
		close(pa);
	if (pb >= 0)
		close(pb);
	if (sa >= 0)
		close(sa);
	if (sb >= 0)
		close(sb);
	slots_free(&slots);
	json_decref(all);
	json_decref(d->changes);
	sb_release(&d->path);
	sb_release(&d->err_path);
	free(d);
	free(parent);
	return code;
}
