/*
 * Retention and space on a root: plan, trash, pins, basis, usage, and the
 * pre-push space check. See prune.h.
 */
#include "prune.h"
#include "deltree.h"
#include "fault.h"
#include "fsops.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define BASIS "basis"

static int current_target(const struct root *r, char out[SNAPNAME_SIZE])
{
	char buf[64];
	ssize_t n = readlinkat(r->fd, HS_CURRENT, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (snapname_parse(buf, NULL) < 0)
		return -EINVAL;
	memcpy(out, buf, SNAPNAME_SIZE);
	return 0;
}

int is_pinned(const struct root *r, const char *name)
{
	struct stat st;
	char path[64];

	if (r->metafd < 0)
		return 0;
	snprintf(path, sizeof(path), "pins/%s", name);
	return fstatat(r->metafd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Snapshot names in the basis file (a push's, even a dead one's: harmless). */
static int in_basis(const char *basis, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = basis ? strstr(basis, name) : NULL; p; p = strstr(p + 1, name))
		if ((p == basis || p[-1] == '\n') && (p[len] == '\n' || !p[len]))
			return 1;
	return 0;
}

int prune_plan(const struct root *r, const struct ret_policy *p, time_t now,
	       struct prune_plan *out)
{
	struct snaplist l;
	char cur[SNAPNAME_SIZE] = "", *basis = NULL;
	int rc = root_snapshots(r->fd, &l);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	current_target(r, cur);
	if (r->metafd >= 0)
		read_file_at(r->metafd, BASIS, 1 << 16, &basis);
	out->n = l.n;
	out->items = xcalloc(l.n ? l.n : 1, sizeof(*out->items));
	time_t *t = xcalloc(l.n ? l.n : 1, sizeof(*t));
	unsigned *flags = xcalloc(l.n ? l.n : 1, sizeof(*flags));
	struct ret_verdict *v = xcalloc(l.n ? l.n : 1, sizeof(*v));
	for (size_t i = 0; i < l.n; i++) {
		snapname_parse(l.names[i], &t[i]);
		flags[i] = (is_pinned(r, l.names[i]) ? RET_PINNED : 0) |
			   (!strcmp(cur, l.names[i]) ? RET_CURRENT : 0) |
			   (in_basis(basis, l.names[i]) ? RET_BASIS : 0);
	}
	ret_decide(t, flags, l.n, now, p, v);
	for (size_t i = 0; i < l.n; i++) {
		struct prune_item *it = &out->items[i];
		memcpy(it->name, l.names[i], SNAPNAME_SIZE);
		it->t = t[i];
		it->flags = flags[i];
		it->v = v[i];
		it->expiry = ret_expiry(t, flags, l.n, i, now, p);
	}
	free(t);
	free(flags);
	free(v);
	free(basis);
	snaplist_free(&l);
	return 0;
}

void prune_plan_free(struct prune_plan *plan)
{
	free(plan->items);
	plan->items = NULL;
	plan->n = 0;
}

int prune_lock(const struct root *r, int wait)
{
	if (r->metafd < 0)
		return -ENOENT;
	int fd = openat(r->metafd, "prune.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* an admin's prune before the first push must not lock the account out */
	root_give_at(r, fd, "");
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
	}
	return fd;
}

int snapshot_to_trash(const struct root *r, const char *name)
{
	struct snaplist l;
	char cur[SNAPNAME_SIZE] = "", tname[64], meta[64];
	static unsigned seq;
	int rc;

	if (snapname_parse(name, NULL) < 0)
		return -EINVAL;
	if ((rc = root_snapshots(r->fd, &l)) < 0)
		return rc;
	int newest = l.n && !strcmp(l.names[l.n - 1], name);
	snaplist_free(&l);
	current_target(r, cur);
	if (newest || !strcmp(cur, name) || is_pinned(r, name))
		return -EBUSY;
	int tfd = openat(r->metafd, "trash", DIR_FLAGS);
	if (tfd < 0)
		return -errno;
	do {
		snprintf(tname, sizeof(tname), "%s.%ld.%u", name, (long)getpid(), seq++);
		rc = renameat2(r->fd, name, tfd, tname, RENAME_NOREPLACE) < 0 ? -errno : 0;
	} while (rc == -EEXIST);
	fault_point("prune-trashed");
	if (!rc)
		rc = fsync_dir(r->fd);
	close(tfd);
	if (rc < 0)
		return rc;
	fault_point("prune-synced");
	snprintf(meta, sizeof(meta), "snapshots/%s.json", name);
	unlinkat(r->metafd, meta, 0);
	fault_point("prune-meta-dropped");
	return 0;
}

int trash_empty(const struct root *r, int count, struct freed *f)
{
	int tfd = openat(r->metafd, "trash", DIR_FLAGS);
	int rc = 0;

	if (tfd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return -errno;
	}
	struct argv names = ARGV_INIT;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			argv_push(&names, de->d_name);
	for (size_t i = 0; i < names.n; i++) {
		struct deltree_stats st = { 0, 0, 0, 0 };
		fault_point("trash-emptying");
		int e = deltree_at(dirfd(d), names.v[i], 0, count, &st);
		if (e < 0 && !rc)
			rc = e;
		if (f) {
			f->bytes += st.bytes_freed;
			f->inodes += st.inodes_freed;
		}
	}
	argv_clear(&names);
	closedir(d);
	return rc;
}

int prune_apply(const struct root *r, const struct prune_plan *plan, struct freed *f)
{
	int rc = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const struct prune_item *it = &plan->items[i];
		if (it->v.keep)
			continue;
		int e = snapshot_to_trash(r, it->name);
		struct strbuf line = STRBUF_INIT;
		if (e == 0) {
			f->snapshots++;
			sb_addf(&line, "pruned %s (%s)", it->name, it->v.reason);
		} else if (e != -ENOENT) {
			sb_addf(&line, "cannot prune %s: %s", it->name, strerror(-e));
			if (!rc)
				rc = e;
		}
		if (line.len)
			root_log(r, line.buf);
		sb_release(&line);
	}
	int e = trash_empty(r, 1, f);
	return rc ? rc : e;
}

int pin_set(const struct root *r, const char *name, int pinned)
{
	struct stat st;
	char path[64];

	if (snapname_parse(name, NULL) < 0 || r->metafd < 0)
		return -ENOENT;
	if (pinned && fstatat(r->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (pinned && !S_ISDIR(st.st_mode))
		return -ENOENT;
	int rc = ensure_dir_at(r->metafd, "pins", 0755);
	if (rc < 0)
		return rc;
	root_give_at(r, r->metafd, "pins");
	snprintf(path, sizeof(path), "pins/%s", name);
	if (!pinned)
		return unlinkat(r->metafd, path, 0) < 0 ? (errno == ENOENT ? -EALREADY : -errno) : 0;
	int fd = openat(r->metafd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? -EALREADY : -errno;
	root_give_at(r, fd, "");
	close(fd);
	return 0;
}

int basis_write(const struct root *r, char *const *bases, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	if (r->sealed)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(bases[i], '/');
		if (slash && snapname_parse(slash + 1, NULL) == 0)
			sb_addf(&sb, "%s\n", slash + 1);
	}
	int rc = write_file_atomic(r->metafd, BASIS, sb.buf ? sb.buf : "", sb.len);
	sb_release(&sb);
	return rc;
}

void basis_clear(const struct root *r)
{
	if (r->metafd >= 0 && !r->sealed)
		unlinkat(r->metafd, BASIS, 0);
}

/* ---------------------------------------------------------------- usage */

/* An open-addressing set of (dev, ino) for inodes with more than one link. */
struct inoset {
	unsigned long long *keys;   /* ino + 1; 0 is empty */
	size_t cap, n;
};

static int inoset_add(struct inoset *s, unsigned long long ino)
{
	if (2 * (s->n + 1) > s->cap) {
		struct inoset bigger = { NULL, s->cap ? s->cap * 2 : 1024, 0 };
		bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
		for (size_t i = 0; i < s->cap; i++)
			if (s->keys[i])
				inoset_add(&bigger, s->keys[i] - 1);
		free(s->keys);
		*s = bigger;
	}
	size_t i = (size_t)((ino + 1) * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
	while (s->keys[i]) {
		if (s->keys[i] == ino + 1)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->keys[i] = ino + 1;
	s->n++;
	return 1;
}

static int usage_walk(int dfd, dev_t dev, struct inoset *seen, unsigned long long *bytes,
		      unsigned long long *inodes, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;   /* gone meanwhile */
		if (st.st_dev != dev)
			continue;
		if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !inoset_add(seen, st.st_ino))
			continue;
		*bytes += (unsigned long long)st.st_blocks * 512;
		(*inodes)++;
		if (S_ISDIR(st.st_mode) && depth < 4096) {
			int sub = openat(dirfd(d), de->d_name, DIR_FLAGS);
			if (sub >= 0)
				rc = usage_walk(sub, dev, seen, bytes, inodes, depth + 1);
			if (rc < 0)
				break;
		}
	}
	closedir(d);
	return rc;
}

int root_usage(int rootfd, unsigned long long *bytes, unsigned long long *inodes)
{
	struct inoset seen = { NULL, 0, 0 };
	struct stat st;

	*bytes = *inodes = 0;
	if (fstat(rootfd, &st) < 0)
		return -errno;
	int fd = openat(rootfd, ".", DIR_FLAGS);
	if (fd < 0)
		return -errno;
	int rc = usage_walk(fd, st.st_dev, &seen, bytes, inodes, 0);
	free(seen.keys);
	return rc;
}

/* ---------------------------------------------------------------- space */

static void measure(const struct root *r, const struct acct_conf *a, struct space_report *rep,
		    int with_usage)
{
	struct statvfs vfs;

	rep->short_of = 0;
	if (fstatvfs(r->fd, &vfs) == 0) {
		unsigned long long total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
		rep->free_bytes = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		rep->need_bytes = a->min_free.is_percent ?
			(unsigned long long)((double)total * a->min_free.percent / 100.0) :
			a->min_free.bytes;
		rep->free_inodes = vfs.f_favail;
		rep->need_inodes = (unsigned long long)((double)vfs.f_files *
							a->min_free_inodes / 100.0);
		if (rep->free_bytes < rep->need_bytes)
			rep->short_of |= 1;
		if (vfs.f_files && rep->free_inodes < rep->need_inodes)
			rep->short_of |= 2;
	}
	rep->quota = a->quota;
	if (a->quota) {
		unsigned long long inodes;
		if (with_usage)
			root_usage(r->fd, &rep->used, &inodes);
		if (rep->used >= a->quota)
			rep->short_of |= 4;
	}
}

void space_measure(const struct root *r, const struct acct_conf *a, struct space_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	measure(r, a, rep, 1);
}

int space_ensure(const struct root *r, const struct acct_conf *a, struct space_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	measure(r, a, rep, 1);
	while (rep->short_of) {
		struct snaplist l;
		char cur[SNAPNAME_SIZE] = "";
		int rc = root_snapshots(r->fd, &l);
		if (rc < 0)
			return rc;
		current_target(r, cur);
		char *basis = NULL;
		read_file_at(r->metafd, BASIS, 1 << 16, &basis);
		size_t i;
		for (i = 0; i + 1 < l.n; i++)
			if (strcmp(cur, l.names[i]) && !is_pinned(r, l.names[i]) &&
			    !in_basis(basis, l.names[i]))
				break;
		free(basis);
		if (i + 1 >= l.n) {
			snaplist_free(&l);
			return 0;     /* nothing more may go */
		}
		char name[SNAPNAME_SIZE];
		memcpy(name, l.names[i], SNAPNAME_SIZE);
		snaplist_free(&l);
		rc = snapshot_to_trash(r, name);
		if (rc < 0)
			return rc;
		struct freed f = { 0, 0, 0 };
		rc = trash_empty(r, 1, &f);
		rep->freed.snapshots++;
		rep->freed.bytes += f.bytes;
		rep->freed.inodes += f.inodes;
		if (!rep->first[0])
			memcpy(rep->first, name, SNAPNAME_SIZE);
		memcpy(rep->last, name, SNAPNAME_SIZE);
		struct strbuf line = STRBUF_INIT;
		sb_addf(&line, "pruned %s to free space (oldest that may go)", name);
		root_log(r, line.buf);
		sb_release(&line);
		if (rc < 0)
			return rc;
		/* what the deleter counted, not another walk */
		rep->used = rep->used > f.bytes ? rep->used - f.bytes : 0;
		measure(r, a, rep, 0);
	}
	return 0;
}

void space_explain(const struct root *r, const struct acct_conf *a,
		   const struct space_report *rep, struct strbuf *out)
{
	char have[32], need[32], freed[32];

	format_bytes(rep->freed.bytes, freed, sizeof(freed));
	sb_addf(out, "out of space in %s: ", r->path);
	if (rep->short_of & 4) {
		format_bytes(rep->used, have, sizeof(have));
		format_bytes(rep->quota, need, sizeof(need));
		sb_addf(out, "%s used, over the quota of %s", have, need);
	} else if (rep->short_of & 1) {
		format_bytes(rep->free_bytes, have, sizeof(have));
		format_bytes(rep->need_bytes, need, sizeof(need));
		sb_addf(out, "%s free, min_free needs %s", have, need);
		if (a->min_free.is_percent)
			sb_addf(out, " (%g%%)", a->min_free.percent);
	} else {
		sb_addf(out, "%llu inodes free, min_free_inodes needs %llu (%g%%)",
			rep->free_inodes, rep->need_inodes, a->min_free_inodes);
	}
	if (rep->freed.snapshots)
		sb_addf(out, "; deleting %d oldest snapshot%s (%s..%s) freed %s", rep->freed.snapshots,
			rep->freed.snapshots == 1 ? "" : "s", rep->first, rep->last, freed);
	sb_addstr(out, "; nothing else may be deleted (the newest, current, pinned and link "
		  "bases stay): free space on the server or raise its limits");
}
