/*
 * Comparing two snapshot trees for `hindsight diff` (query_diff.c).
 *
 * Both trees are walked in step: each directory is read whole with
 * getdents64, sorted by name, and the two listings are merged
 * (history.h). An unchanged file is one inode in both snapshots (every push
 * links unchanged files against the previous snapshot), and readdir gives
 * that inode and the type for free on the filesystems where d_ino and
 * d_type are exact, so an unchanged file costs no system call at all.
 * Only names that differ get an fstatat or an xattr read; directories get
 * one open, fstat and fgetxattr each. Everything is opened relative to a
 * directory fd; no path string is ever built for a system call.
 */
#include "query_diff.h"
#include "../lib/history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One directory, read whole. */
struct listing {
	char *arena;           /* the names, NUL-terminated, back to back */
	size_t used, cap;
	struct dent *e;
	const char **names;    /* e[i].name, for merge_next() */
	size_t n, alloc;
};

static void listing_free(struct listing *l)
{
	free(l->arena);
	free(l->e);
	free(l->names);
}

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* Read the directory fd whole, sorted by name. */
static int read_listing(struct diff *d, int fd, struct listing *l)
{
	ssize_t got;

	memset(l, 0, sizeof(*l));
	while ((got = getdents64(fd, d->buf, sizeof(d->buf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *de = (struct dirent64 *)(d->buf + off);
			size_t len = strlen(de->d_name) + 1;
			off += de->d_reclen;
			if (de->d_name[0] == '.' && (len == 2 || (len == 3 && de->d_name[1] == '.')))
				continue;
			if (l->used + len > l->cap) {
				l->cap = xadd(xmul(l->cap, 2), len + 4096);
				l->arena = xrealloc(l->arena, l->cap);
			}
			memcpy(l->arena + l->used, de->d_name, len);
			if (l->n == l->alloc) {
				l->alloc = l->alloc ? xmul(l->alloc, 2) : 64;
				l->e = xrealloc(l->e, xmul(l->alloc, sizeof(*l->e)));
			}
			l->e[l->n++] = (struct dent){ .off = l->used, .ino = de->d_ino,
				.type = d->trust_dirent ? de->d_type : DT_UNKNOWN };
			l->used += len;
		}
	}
	if (got < 0) {
		int e = -errno;
		listing_free(l);
		memset(l, 0, sizeof(*l));
		return e;
	}
	l->names = xmalloc(xmul(l->n ? l->n : 1, sizeof(*l->names)));
	for (size_t i = 0; i < l->n; i++)
		l->e[i].name = l->arena + l->e[i].off;
	if (l->n > 32) {
		qsort(l->e, l->n, sizeof(*l->e), cmp_dent);
	} else {
		/* most directories are small: no allocation, few compares */
		for (size_t i = 1; i < l->n; i++) {
			struct dent x = l->e[i];
			size_t j = i;
			for (; j > 0 && strcmp(l->e[j - 1].name, x.name) > 0; j--)
				l->e[j] = l->e[j - 1];
			l->e[j] = x;
		}
	}
	for (size_t i = 0; i < l->n; i++)
		l->names[i] = l->e[i].name;
	return 0;
}

/* One side of a name: the inode and type on disk, from readdir or fstatat. */
static int node_basic(int dirfd, dev_t dev, const struct dent *e, struct diff_node *n,
		      struct stat *st)
{
	memset(n, 0, sizeof(*n));
	if (!e)
		return 0;
	if (e->type != DT_UNKNOWN) {
		n->present = 1;
		n->mode = DTTOIF(e->type);
		n->dev = (uint64_t)dev;
		n->ino = e->ino;
		st->st_mode = 0;   /* not stat'ed yet */
		return 0;
	}
	if (fstatat(dirfd, e->name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	n->present = 1;
	n->mode = st->st_mode & (S_IFMT | 07777);
	n->dev = (uint64_t)st->st_dev;
	n->ino = (uint64_t)st->st_ino;
	return 0;
}

/*
 * The stored type of a non-directory: fake-super keeps it in an xattr. A
 * regular file on disk may be a symlink, a device, a fifo or a socket
 * stored that way; anything else is what it is.
 */
static void node_stored(int dirfd, const char *name, struct diff_node *n, struct stat *st)
{
	struct qentry q;

	if (!n->present || !S_ISREG(n->mode))
		return;
	if (st->st_mode == 0) {
		/* from readdir: only the type is known, and that is all the
		 * xattr is read for */
		memset(st, 0, sizeof(*st));
		st->st_mode = n->mode;
	}
	qstored_at(dirfd, name, st, &q);
	n->mode = q.ss.mode;
}

/* Open a directory side and fill its stored mode and owner. */
static int node_open_dir(int dirfd, const char *name, struct diff_node *n, dev_t *dev)
{
	struct stat st;
	struct qentry q;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	qstored_fd(fd, &st, &q);
	n->mode = q.ss.mode;
	n->uid = q.ss.uid;
	n->gid = q.ss.gid;
	*dev = st.st_dev;
	return fd;
}

static void report(struct diff *d, const char *op, mode_t mode)
{
	json_t *o = json_pack("{s:s}", "op", op);
	const char *type = ftype_name(mode);

	json_set_name(o, "path", d->path.buf, d->path.len);
	json_object_set_new(o, "type", json_string(type ? type : "unknown"));
	json_array_append_new(d->changes, o);
}

static void fail(struct diff *d, int err)
{
	if (!d->err) {
		d->err = err;
		sb_addstr(&d->err_path, d->path.buf);
	}
}

void add_slot(struct slots *s, json_t *changes, struct task *t)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? xmul(s->alloc, 2) : 64;
		s->v = xrealloc(s->v, xmul(s->alloc, sizeof(*s->v)));
	}
	s->v[s->n++] = (struct slot){ .changes = changes, .task = t };
	s->tasks += t != NULL;
}

/* Planning: what was reported so far becomes a slot of its own. */
void flush_changes(struct diff *d)
{
	if (json_array_size(d->changes)) {
		add_slot(d->split, d->changes, NULL);
		d->changes = json_array();
	}
}

/* Planning: the pair (afd, bfd), named d->path, becomes a task (which owns the fds). */
static void add_task(struct diff *d, int afd, dev_t adev, int bfd, dev_t bdev)
{
	struct task *t = xcalloc(1, sizeof(*t));

	flush_changes(d);
	*t = (struct task){ .afd = afd, .bfd = bfd, .adev = adev, .bdev = bdev,
			    .path = xstrdup(d->path.buf) };
	add_slot(d->split, NULL, t);
}

void task_free(struct task *t)
{
	if (t->afd >= 0)
		close(t->afd);
	if (t->bfd >= 0)
		close(t->bfd);
	json_decref(t->changes);
	free(t->path);
	free(t->err_path);
	free(t);
}

void slots_free(struct slots *s)
{
	for (size_t i = 0; i < s->n; i++) {
		json_decref(s->v[i].changes);
		if (s->v[i].task)
			task_free(s->v[i].task);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Compare one name: ae/be are its entries in the directories afd and bfd
 * (NULL where it is absent). d->path names it.
 */
void diff_name(struct diff *d, int afd, dev_t adev, const struct dent *ae,
		      int bfd, dev_t bdev, const struct dent *be)
{
	struct diff_node a, b;
	struct stat ast, bst;
	int rc;

	if ((rc = node_basic(afd, adev, ae, &a, &ast)) < 0 ||
	    (rc = node_basic(bfd, bdev, be, &b, &bst)) < 0) {
		fail(d, rc);
		return;
	}
	/* the common case: one inode, unchanged, nothing more to look at */
	if (a.present && b.present && !S_ISDIR(a.mode) && !S_ISDIR(b.mode) &&
	    a.dev == b.dev && a.ino == b.ino)
		return;
	if (diff_recurses(&a, &b)) {
		dev_t acd = 0, bcd = 0;
		int acfd = node_open_dir(afd, ae->name, &a, &acd);
		if (acfd < 0) {
			fail(d, acfd);
			return;
		}
		int bcfd = node_open_dir(bfd, be->name, &b, &bcd);
		if (bcfd < 0) {
			close(acfd);
			fail(d, bcfd);
			return;
		}
		if (diff_classify(&a, &b) == DV_MODIFIED)
			report(d, "M", a.mode);
		if (d->split) {
			add_task(d, acfd, acd, bcfd, bcd);
			return;
		}
		diff_dirs(d, acfd, acd, bcfd, bcd);
		close(acfd);
		close(bcfd);
		return;
	}
	if (ae)
		node_stored(afd, ae->name, &a, &ast);
	if (be)
		node_stored(bfd, be->name, &b, &bst);
	switch (diff_classify(&a, &b)) {
	case DV_SAME:
		break;
	case DV_ADDED:
		report(d, "+", b.mode);
		break;
	case DV_REMOVED:
		report(d, "-", a.mode);
		break;
	case DV_MODIFIED:
		report(d, "M", b.mode);
		break;
	case DV_REPLACED:
		report(d, "-", a.mode);
		report(d, "+", b.mode);
		break;
	}
}

void diff_dirs(struct diff *d, int afd, dev_t adev, int bfd, dev_t bdev)
{
	struct listing la, lb;
	struct name_merge m = { 0, 0 };
	size_t ai, bi, base = d->path.len;
	int rc;

	if ((rc = read_listing(d, afd, &la)) < 0) {
		fail(d, rc);
		return;
	}
	if ((rc = read_listing(d, bfd, &lb)) < 0) {
		listing_free(&la);
		fail(d, rc);
		return;
	}
	while (!d->err && merge_next(&m, la.names, la.n, lb.names, lb.n, &ai, &bi)) {
		const struct dent *ae = ai == SIZE_MAX ? NULL : &la.e[ai];
		const struct dent *be = bi == SIZE_MAX ? NULL : &lb.e[bi];
		if (base)
			sb_addch(&d->path, '/');
		sb_addstr(&d->path, ae ? ae->name : be->name);
		diff_name(d, afd, adev, ae, bfd, bdev, be);
		d->path.len = base;
		d->path.buf[base] = '\0';
	}
	listing_free(&la);
	listing_free(&lb);
}
