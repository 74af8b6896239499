#include "root.h"
#include "fastpush.h"
#include "deltree.h"
#include "fault.h"
#include "fsops.h"
#include "sealed.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define PENDING "pending.json"

void root_init(struct root *r)
{
	r->path = NULL;
	r->fd = r->metafd = r->lockfd = r->workfd = -1;
	r->sealed = r->lock_info = 0;
}

/*
 * Sealed: the root belongs to root and .hindsight/work to somebody else
 * (the account). A layout fact, so that root and the account reach the
 * same verdict about one root.
 */
static void detect_sealed(struct root *r)
{
	struct stat st;

	if (r->metafd < 0 || fstat(r->fd, &st) < 0 || st.st_uid != 0)
		return;
	int wfd = openat(r->metafd, HS_WORK, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd < 0)
		return;
	if (fstat(wfd, &st) < 0 || st.st_uid == 0) {
		close(wfd);
		return;
	}
	r->workfd = wfd;
	r->sealed = 1;
}

int root_state_fd(const struct root *r)
{
	return r->sealed ? r->workfd : r->metafd;
}

const char *root_state_dir(const struct root *r)
{
	return r->sealed ? HS_META_DIR "/" HS_WORK : HS_META_DIR;
}

int root_open(const char *path, int create, struct root *r)
{
	int rc;

	root_init(r);
	if (path[0] != '/')
		return -EINVAL;
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* the root itself may be reached through symlinks the admin made */
	r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	r->path = xstrdup(path);
	size_t len = strlen(r->path);
	while (len > 1 && r->path[len - 1] == '/')
		r->path[--len] = '\0';
	if (create) {
		rc = ensure_dir_at(r->fd, HS_META_DIR, 0700);
		if (rc < 0)
			goto fail;
	}
	r->metafd = openat(r->fd, HS_META_DIR, DIR_FLAGS);
	if (r->metafd < 0 && errno != ENOENT) {
		rc = -errno;
		goto fail;
	}
	detect_sealed(r);
	/* a sealed root is made and kept by root: nothing to create here */
	if (create && r->metafd >= 0 && !r->sealed) {
		static const char *const subdirs[] = { "snapshots", "resume", "trash" };
		for (size_t i = 0; i < 3; i++) {
			rc = ensure_dir_at(r->metafd, subdirs[i], 0700);
			if (rc < 0)
				goto fail;
		}
	}
	return 0;
fail:
	root_close(r);
	return rc;
}

void root_close(struct root *r)
{
	if (r->lockfd >= 0) {
		/* so nobody reports our start time once we are gone */
		if (r->lock_info) {
			int fd = openat(r->workfd, HS_LOCK_INFO, O_WRONLY | O_TRUNC | O_NOFOLLOW |
					O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
		} else if (!r->sealed && ftruncate(r->lockfd, 0) < 0) {
			/* advisory text only */
		}
		close(r->lockfd);
	}
	if (r->workfd >= 0)
		close(r->workfd);
	if (r->metafd >= 0)
		close(r->metafd);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	root_init(r);
}

void root_give_at(const struct root *r, int dirfd, const char *name)
{
	struct stat root_st, st;
	int flags = AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH);

	if (geteuid() != 0 || r->fd < 0 || fstat(r->fd, &root_st) < 0 || root_st.st_uid == 0)
		return;
	if (fstatat(dirfd, name, &st, flags) < 0 ||
	    (st.st_uid == root_st.st_uid && st.st_gid == root_st.st_gid))
		return;
	/* only what lives here alone: the account could have hard-linked a
	 * file of someone else's in (where fs.protected_hardlinks is 0) */
	if (!S_ISDIR(st.st_mode) && !(S_ISREG(st.st_mode) && st.st_nlink == 1))
		return;
	if (fchownat(dirfd, name, root_st.st_uid, root_st.st_gid, flags) < 0) {
		/* check reports what is left owned by another */
	}
}

int root_left_inprogress(const struct root *r)
{
	struct stat st;

	if (fstatat(r->fd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!r->sealed)
		return 1;
	/* the next push's clone, made (or being made) ahead of it: nothing was cut off */
	if (fastpush_is_ahead(r) || root_lock_ahead(r))
		return 0;
	int fd = openat(r->fd, HS_INPROGRESS, DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int left = 0;

	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		/* not a directory: not a clean state either; unreadable to
		 * us (not root, not the account): unknown, so not counted */
		return e != EACCES;
	}
	while (!left && (de = readdir(d)) != NULL)
		left = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return left;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int root_snapshots(int rootfd, struct snaplist *out)
{
	int fd = openat(rootfd, ".", DIR_FLAGS);
	DIR *d;
	struct dirent *de;
	size_t alloc = 0;

	out->names = NULL;
	out->n = 0;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (snapname_parse(de->d_name, NULL) < 0)
			continue;
		if (fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (out->n == alloc) {
			alloc = alloc ? xmul(alloc, 2) : 64;
			out->names = xrealloc(out->names, xmul(alloc, SNAPNAME_SIZE));
		}
		memcpy(out->names[out->n++], de->d_name, SNAPNAME_SIZE);
	}
	closedir(d);
	if (out->n)
		qsort(out->names, out->n, SNAPNAME_SIZE, cmp_names);
	return 0;
}

void snaplist_free(struct snaplist *l)
{
	free(l->names);
	l->names = NULL;
	l->n = 0;
}

int root_resume_numbers(int metafd, long **nums, size_t *n)
{
	int fd = openat(metafd, "resume", DIR_FLAGS);
	DIR *d;
	struct dirent *de;
	size_t alloc = 0;

	*nums = NULL;
	*n = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || v <= 0)
			continue;
		if (*n == alloc) {
			alloc = alloc ? xmul(alloc, 2) : 16;
			*nums = xrealloc(*nums, xmul(alloc, sizeof(**nums)));
		}
		(*nums)[(*n)++] = v;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++)   /* few entries: insertion sort */
		for (size_t j = i; j > 0 && (*nums)[j - 1] > (*nums)[j]; j--) {
			long t = (*nums)[j];
			(*nums)[j] = (*nums)[j - 1];
			(*nums)[j - 1] = t;
		}
	return 0;
}

int root_resume_bases(const struct root *r, struct argv *out)
{
	long *nums;
	size_t n;
	int rc;

	if (r->metafd < 0)
		return 0;
	rc = root_resume_numbers(r->sealed ? r->workfd : r->metafd, &nums, &n);
	if (rc < 0)
		return rc;
	for (size_t i = n; i-- > 0;)
		argv_pushf(out, "%s/" HS_META_DIR "%s/resume/%ld", r->path,
			   r->sealed ? "/" HS_WORK : "", nums[i]);
	free(nums);
	return 0;
}

int root_trash_at(int fromfd, const char *from, int metafd)
{
	char name[64];
	static unsigned seq;

	snprintf(name, sizeof(name), "%ld.%u", (long)getpid(), seq++);
	int tfd = openat(metafd, "trash", DIR_FLAGS);
	if (tfd < 0)
		return -errno;
	int rc = renameat(fromfd, from, tfd, name) < 0 ? -errno : 0;
	if (!rc)
		rc = deltree_at(tfd, name, 0, 0, NULL);
	close(tfd);
	return rc;
}

int root_point_current(struct root *r, const char *name)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);

	if (n >= 0) {
		target[n] = '\0';
		if (!strcmp(target, name))
			return 0;
	}
	unlinkat(r->fd, HS_CURRENT ".tmp", 0);
	if (symlinkat(name, r->fd, HS_CURRENT ".tmp") < 0)
		return -errno;
	fault_point("current-tmp");
	if (renameat(r->fd, HS_CURRENT ".tmp", r->fd, HS_CURRENT) < 0)
		return -errno;
	fault_point("current-renamed");
	return fsync_dir(r->fd);
}

int root_read_meta(const struct root *r, const char *name, struct snapmeta *m)
{
	char path[64];
	char *text;
	int rc;

	if (r->metafd < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "snapshots/%s.json", name);
	rc = read_file_at(r->metafd, path, 1 << 16, &text);
	if (rc == -ENOENT) {
		/* published a moment ago: the journal still holds its metadata */
		rc = read_file_at(r->metafd, PENDING, 1 << 16, &text);
		if (rc < 0)
			return -ENOENT;
		rc = meta_from_json(text, m) == 0 && !strcmp(m->name, name) ? 0 : -ENOENT;
		free(text);
		return rc;
	}
	if (rc < 0)
		return rc;
	rc = meta_from_json(text, m);
	free(text);
	return rc;
}

/* Remove ".NAME.tmp" files that write_file_atomic() left when we died. */
static void drop_temporaries(int dirfd)
{
	int fd = openat(dirfd, ".", DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' && n > 5 && !strcmp(de->d_name + n - 4, ".tmp"))
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

void root_log(const struct root *r, const char *line)
{
	char buf[1100];
	char when[32];

	if (r->metafd < 0)
		return;
	format_iso_utc(time(NULL), when);
	int n = snprintf(buf, sizeof(buf), "%s %.1000s\n", when, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	int fd = openat(r->metafd, "log", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	root_give_at(r, fd, "");
	if (write(fd, buf, (size_t)n) < 0) {
		/* the log is advisory; the snapshot metadata is the record */
	}
	close(fd);
}

int root_publish_finish(struct root *r)
{
	char *text = NULL;
	struct snapmeta m;
	struct stat st;
	int rc;

	if (r->sealed)
		return -EPERM;   /* only the sealer publishes there */
	rc = read_file_at(r->metafd, PENDING, 1 << 16, &text);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rc = meta_from_json(text, &m);
	if (rc < 0) {
		/* a torn journal can only come from before the rename: drop it */
		free(text);
		unlinkat(r->metafd, PENDING, 0);
		return 0;
	}
	if (fstatat(r->fd, m.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT) {
			rc = -errno;
			goto out;
		}
		/* died between journal and rename: the received tree is complete */
		if (renameat(r->fd, HS_INPROGRESS, r->fd, m.name) < 0) {
			rc = errno == ENOENT ? 0 : -errno;
			if (!rc)
				unlinkat(r->metafd, PENDING, 0);
			goto out;
		}
		rc = fsync_dir(r->fd);
		if (rc < 0)
			goto out;
	}
	rc = root_point_current(r, m.name);
	if (rc < 0)
		goto out;
	fault_point("current-synced");
	char path[64];
	int sfd = openat(r->metafd, "snapshots", DIR_FLAGS);
	if (sfd < 0) {
		rc = -errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%s.json", m.name);
	rc = write_file_atomic(sfd, path, text, strlen(text));
	close(sfd);
	if (rc < 0)
		goto out;
	fault_point("meta-written");
	/* resume bases were for this push; it is complete now */
	int rfd = openat(r->metafd, "resume", DIR_FLAGS);
	if (rfd >= 0) {
		long *nums;
		size_t n;
		if (root_resume_numbers(r->metafd, &nums, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				char num[32];
				snprintf(num, sizeof(num), "%ld", nums[i]);
				root_trash_at(rfd, num, r->metafd);
			}
			free(nums);
		}
		close(rfd);
	}
	fault_point("resume-dropped");
	if (unlinkat(r->metafd, PENDING, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fault_point("journal-dropped");
	rc = fsync_dir(r->metafd);
	fault_point("published");
out:
	free(text);
	return rc;
}

int root_choose_name(const struct root *r, struct snapmeta *m)
{
	struct snaplist l;
	time_t t = m->start;
	int rc = root_snapshots(r->fd, &l);

	if (rc < 0)
		return rc;
	if (l.n) {
		/* two pushes in one second, or a clock that went back: the name
		 * must still sort after the newest, so take the next second */
		time_t newest;
		if (snapname_parse(l.names[l.n - 1], &newest) == 0 && newest >= t)
			t = newest + 1;
	}
	rc = snapname_format(t, m->name) < 0 ? -ERANGE : 0;
	snaplist_free(&l);
	return rc;
}

int root_publish_begin(struct root *r, struct snapmeta *m)
{
	char *json;
	int rc;

	if (r->sealed)
		return -EPERM;
	if (syncfs(r->fd) < 0)
		return -errno;
	fault_point("synced");
	rc = root_choose_name(r, m);
	if (rc < 0)
		return rc;
	json = meta_to_json(m);
	rc = write_file_atomic(r->metafd, PENDING, json, strlen(json));
	free(json);
	if (rc < 0)
		return rc;
	fault_point("journal-written");
	if (renameat(r->fd, HS_INPROGRESS, r->fd, m->name) < 0)
		return -errno;
	fault_point("renamed");
	rc = fsync_dir(r->fd);
	fault_point("rename-synced");
	return rc;
}

int root_publish(struct root *r, struct snapmeta *m)
{
	int rc = root_publish_begin(r, m);

	return rc < 0 ? rc : root_publish_finish(r);
}

int root_repair(struct root *r)
{
	int rc = root_publish_finish(r);

	return rc < 0 ? rc : root_tidy(r);
}

/*
 * Drop the metadata of snapshots that are gone: a prune killed between
 * moving a snapshot to the trash and unlinking its NAME.json leaves it.
 * Runs after root_publish_finish(), so a publish under way has its tree.
 */
static void drop_orphan_meta(const struct root *r, int sfd)
{
	int fd = openat(sfd, ".", DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char name[SNAPNAME_SIZE];
		size_t n = strlen(de->d_name);
		if (n <= 5 || n - 5 >= sizeof(name) || strcmp(de->d_name + n - 5, ".json"))
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = '\0';
		if (snapname_parse(name, NULL) == 0 &&
		    fstatat(r->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			unlinkat(sfd, de->d_name, 0);
	}
	closedir(d);
}

int root_tidy(struct root *r)
{
	struct snaplist l;
	char target[PATH_MAX];
	int rc;

	unlinkat(r->fd, HS_CURRENT ".tmp", 0);
	drop_temporaries(r->metafd);
	int sfd = openat(r->metafd, "snapshots", DIR_FLAGS);
	if (sfd >= 0) {
		drop_temporaries(sfd);
		drop_orphan_meta(r, sfd);
		close(sfd);
	}
	rc = root_snapshots(r->fd, &l);
	if (rc < 0)
		return rc;
	if (l.n) {
		rc = root_point_current(r, l.names[l.n - 1]);
	} else {
		ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);
		if (n >= 0 && unlinkat(r->fd, HS_CURRENT, 0) < 0)
			rc = -errno;
	}
	snaplist_free(&l);
	if (rc < 0)
		return rc;
	/* what was being deleted when we died */
	int tfd = openat(r->metafd, "trash", DIR_FLAGS);
	if (tfd >= 0) {
		DIR *d = fdopendir(tfd);
		if (d) {
			struct dirent *de;
			while ((de = readdir(d)) != NULL)
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					deltree_at(dirfd(d), de->d_name, 0, 0, NULL);
			closedir(d);
		} else {
			close(tfd);
		}
	}
	return 0;
}

int root_prepare_push(struct root *r, const char *dest, int *resumed)
{
	struct stat st;
	long *nums;
	size_t n;
	int rc;

	if (r->sealed)
		return sealed_prepare_push(r, dest, resumed);
	*resumed = 0;
	rc = root_resume_numbers(r->metafd, &nums, &n);
	if (rc < 0)
		return rc;
	if (fstatat(r->fd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		int rfd = openat(r->metafd, "resume", DIR_FLAGS);
		char num[32];
		if (rfd < 0) {
			rc = -errno;
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(num, sizeof(num), "%ld", n ? nums[n - 1] + 1 : 1L);
			rc = renameat(r->fd, HS_INPROGRESS, rfd, num) < 0 ? -errno : 0;
			fault_point("resume-kept");
			if (!rc) {
				nums = xrealloc(nums, xmul(n + 1, sizeof(*nums)));
				nums[n++] = strtol(num, NULL, 10);
			}
		} else {
			/* not ours to keep: nothing but a directory belongs there */
			rc = unlinkat(r->fd, HS_INPROGRESS, 0) < 0 ? -errno : 0;
		}
		/* bound the bases: drop the oldest */
		for (size_t i = 0; !rc && n > HS_MAX_RESUME && i < n - HS_MAX_RESUME; i++) {
			snprintf(num, sizeof(num), "%ld", nums[i]);
			root_trash_at(rfd, num, r->metafd);
		}
		if (n > HS_MAX_RESUME)
			n = HS_MAX_RESUME;
		close(rfd);
		if (rc < 0)
			goto out;
	}
	*resumed = (int)n;
	if (mkdirat(r->fd, HS_INPROGRESS, 0700) < 0) {
		rc = -errno;
		goto out;
	}
	if (dest[0]) {
		int fd = openat(r->fd, HS_INPROGRESS, DIR_FLAGS);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
		rc = mkdir_p_at(fd, dest);
		close(fd);
	}
out:
	free(nums);
	return rc;
}
