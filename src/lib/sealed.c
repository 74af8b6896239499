/*
 * A sealed root: its layout, the seal journal, and the account's side of
 * a push. See sealed.h.
 */
#include "sealed.h"
#include "deltree.h"
#include "fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define PENDING "pending.json"

__attribute__((format(printf, 2, 3)))
static void note(struct strbuf *done, const char *fmt, ...)
{
	va_list ap;

	if (!done)
		return;
	if (done->len)
		sb_addstr(done, "; ");
	va_start(ap, fmt);
	sb_vaddf(done, fmt, ap);
	va_end(ap);
}

/* fd gets owner uid:gid and mode, if it has not. */
static int own(int fd, uid_t uid, gid_t gid, mode_t mode, const char *what, struct strbuf *done)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != uid || st.st_gid != gid) {
		if (fchown(fd, uid, gid) < 0)
			return -errno;
		note(done, "%s: owner %u:%u", what, (unsigned)uid, (unsigned)gid);
	}
	if ((st.st_mode & 07777) != mode) {
		if (fchmod(fd, mode) < 0)
			return -errno;
		note(done, "%s: mode %o", what, (unsigned)mode);
	}
	return 0;
}

/* parent/name as a directory owned uid:gid with mode. */
static int own_dir(int parent, const char *name, uid_t uid, gid_t gid, mode_t mode,
		   struct strbuf *done)
{
	if (mkdirat(parent, name, 0700) == 0)
		note(done, "made %s", name);
	else if (errno != EEXIST)
		return -errno;
	int fd = openat(parent, name, DIR_FLAGS);
	if (fd < 0)
		return -errno;
	int rc = own(fd, uid, gid, mode, name, done);
	close(fd);
	return rc;
}

/*
 * inprogress/ for the account: made if missing, given to it if root's (a
 * crash right after mkdir). One of the account's own is left as it is:
 * rsync gives it the mode of the client's top directory.
 */
static int make_inprogress(int rootfd, const struct seal_ids *ids, struct strbuf *done)
{
	struct stat st;

	if (fstatat(rootfd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
		if (unlinkat(rootfd, HS_INPROGRESS, 0) < 0)
			return -errno;
		note(done, "removed a non-directory " HS_INPROGRESS);
	}
	if (mkdirat(rootfd, HS_INPROGRESS, 0700) == 0)
		note(done, "made " HS_INPROGRESS "/");
	else if (errno != EEXIST)
		return -errno;
	int fd = openat(rootfd, HS_INPROGRESS, DIR_FLAGS);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (st.st_uid == 0)
		rc = own(fd, ids->acct, ids->group, 0700, HS_INPROGRESS, done);
	else if (st.st_uid != ids->acct)
		rc = -EEXIST;
	close(fd);
	return rc;
}

/* Does dirfd/name hold anything but "." and ".." (and except, if given)? */
static int has_entries(int dirfd, const char *name, const char *except)
{
	int fd = openat(dirfd, name, DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int found = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!found && (de = readdir(d)) != NULL)
		found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			(!except || strcmp(de->d_name, except));
	closedir(d);
	return found;
}

/*
 * A root becomes sealed only if it is sealed already (root's, with work/)
 * or holds no history: a simple root's snapshots belong to the account,
 * and converting them is not supported.
 */
static int convertible(int rootfd)
{
	struct stat st;

	if (fstat(rootfd, &st) < 0)
		return -errno;
	int mfd = openat(rootfd, HS_META_DIR, DIR_FLAGS);
	if (st.st_uid == 0 && mfd >= 0 && fstatat(mfd, HS_WORK, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid != 0) {
		close(mfd);
		return 0;
	}
	int rc = has_entries(rootfd, ".", HS_META_DIR) ? -EEXIST : 0;
	if (!rc && mfd >= 0 && has_entries(mfd, "snapshots", NULL))
		rc = -EEXIST;
	if (mfd >= 0)
		close(mfd);
	return rc;
}

int sealed_layout(int rootfd, const struct seal_ids *ids, struct strbuf *done)
{
	int rc, mfd = -1, fd;

	if ((rc = convertible(rootfd)) < 0)
		return rc;
	if ((rc = own(rootfd, 0, ids->group, 0750, "the root", done)) < 0)
		return rc;
	if ((rc = own_dir(rootfd, HS_META_DIR, 0, ids->group, 0750, done)) < 0)
		return rc;
	mfd = openat(rootfd, HS_META_DIR, DIR_FLAGS);
	if (mfd < 0)
		return -errno;
	static const struct { const char *name; mode_t mode; } dirs[] = {
		{ "snapshots", 0755 }, { "trash", 0700 }, { HS_SEALING, 0700 },
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((rc = own_dir(mfd, dirs[i].name, 0, 0, dirs[i].mode, done)) < 0)
			goto out;
	static const struct { const char *name; int group; mode_t mode; } files[] = {
		{ "lock", 1, 0640 }, { HS_SEAL_LOCK, 0, 0600 },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		fd = openat(mfd, files[i].name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
		rc = own(fd, 0, files[i].group ? ids->group : 0, files[i].mode, files[i].name, done);
		close(fd);
		if (rc < 0)
			goto out;
	}
	/* the account's: made by root, then given away; never written by root */
	if (mkdirat(mfd, HS_WORK, 0700) == 0)
		note(done, "made " HS_META_DIR "/" HS_WORK "/");
	else if (errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	fd = openat(mfd, HS_WORK, DIR_FLAGS);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	struct stat st;
	rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (!rc && st.st_uid != ids->acct)
		rc = own(fd, ids->acct, ids->group, 0700, HS_WORK, done);
	close(fd);
	if (!rc)
		rc = make_inprogress(rootfd, ids, done);
out:
	close(mfd);
	return rc;
}

/* Everything in dirfd/sub goes to the trash (not kept: skip). */
static void trash_all(const struct root *r, int parent, const char *sub, const char *skip)
{
	int fd = openat(parent, sub, DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct argv names = ARGV_INIT;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (!skip || strcmp(de->d_name, skip)))
			argv_push(&names, de->d_name);
	for (size_t i = 0; i < names.n; i++)
		root_trash_at(dirfd(d), names.v[i], r->metafd);
	argv_clear(&names);
	closedir(d);
}

static void step(const struct seal_steps *s, const char *name)
{
	if (s && s->step)
		s->step(s->arg, name);
}

/* The tree the walk refused: deleted, the journal with it. */
static void discard(struct root *r, int sfd, const struct snapmeta *m, const char *why)
{
	struct strbuf line = STRBUF_INIT;

	root_trash_at(sfd, m->name, r->metafd);
	unlinkat(r->metafd, PENDING, 0);
	fsync_dir(r->metafd);
	sb_addf(&line, "discarded the push started %lld, not sealed: %s", (long long)m->start, why);
	root_log(r, line.buf);
	sb_release(&line);
}

static int publish_tail(struct root *r, const char *text, const struct snapmeta *m,
			const struct seal_steps *s)
{
	char path[64];
	int rc = root_point_current(r, m->name);

	if (rc < 0)
		return rc;
	step(s, "current");
	int sfd = openat(r->metafd, "snapshots", DIR_FLAGS);
	if (sfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s.json", m->name);
	rc = write_file_atomic(sfd, path, text, strlen(text));
	close(sfd);
	if (rc < 0)
		return rc;
	/* the resume trees served this push; root only renames them away */
	if (r->workfd >= 0)
		trash_all(r, r->workfd, "resume", NULL);
	if (unlinkat(r->metafd, PENDING, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync_dir(r->metafd);
}

int sealed_finish(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		  struct seal_result *res)
{
	struct seal_opts opts = *o;
	struct snapmeta m;
	struct stat st;
	char *text = NULL;
	int rc, sfd = -1;

	memset(res, 0, sizeof(*res));
	rc = read_file_at(r->metafd, PENDING, 1 << 16, &text);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	if (meta_from_json(text, &m) < 0) {
		/* torn: only ever before anything moved */
		free(text);
		unlinkat(r->metafd, PENDING, 0);
		return 0;
	}
	if (fstatat(r->fd, m.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		goto published;
	sfd = openat(r->metafd, HS_SEALING, DIR_FLAGS);
	if (sfd < 0) {
		rc = -errno;
		goto out;
	}
	if (fstatat(sfd, m.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* cut short while sealing: a file may be locked and not yet checked */
		opts.recheck = 1;
	} else if (fstatat(r->fd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (renameat(r->fd, HS_INPROGRESS, sfd, m.name) < 0 || fsync_dir(r->fd) < 0 ||
		    fsync_dir(sfd) < 0) {
			rc = -errno;
			goto out;
		}
		step(s, "staged");
		if ((rc = make_inprogress(r->fd, &o->ids, NULL)) < 0)
			goto out;
	} else {
		/* nothing left to publish */
		unlinkat(r->metafd, PENDING, 0);
		rc = 0;
		goto out;
	}
	rc = seal_tree(sfd, m.name, &opts, res);
	if (rc == -EPERM && res->refused) {
		discard(r, sfd, &m, res->why);
		goto out;
	}
	if (rc < 0)
		goto out;
	step(s, "sealed");
	/* the new owners and modes are durable before the name is */
	if (syncfs(sfd) < 0 ||
	    renameat2(sfd, m.name, r->fd, m.name, RENAME_NOREPLACE) < 0 || fsync_dir(r->fd) < 0) {
		rc = -errno;
		goto out;
	}
	step(s, "renamed");
published:
	rc = publish_tail(r, text, &m, s);
	if (!rc) {
		struct strbuf line = STRBUF_INIT;
		sb_addf(&line, "published %s status=\"%s\" rsync_exit=%d files=%lld bytes=%lld "
			"resumed=%d sealed=%llu kept=%llu", m.name, meta_status(&m), m.rsync_exit,
			m.files, m.bytes, m.resumed, res->sealed, res->kept);
		root_log(r, line.buf);
		sb_release(&line);
	}
out:
	if (sfd >= 0)
		close(sfd);
	free(text);
	return rc;
}

int sealed_repair(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		  struct seal_result *res)
{
	int rc = sealed_finish(r, o, s, res);

	if (rc < 0 && !(rc == -EPERM && res->refused))
		return rc;
	int frc = rc;
	/* no journal now: whatever is still in seal/ was left by a crash */
	trash_all(r, r->metafd, HS_SEALING, NULL);
	if ((rc = root_tidy(r)) < 0)
		return rc;
	rc = sealed_layout(r->fd, &o->ids, NULL);
	return rc < 0 ? rc : frc;
}

int sealed_publish(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		   struct snapmeta *m, struct seal_result *res)
{
	struct stat st;
	int rc = sealed_finish(r, o, s, res);

	if (rc < 0 && !(rc == -EPERM && res->refused))
		return rc;
	if (fstatat(r->fd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != o->ids.acct)
		return -ENOENT;
	if (syncfs(r->fd) < 0)
		return -errno;
	if ((rc = root_choose_name(r, m)) < 0)
		return rc;
	char *json = meta_to_json(m);
	rc = write_file_atomic(r->metafd, PENDING, json, strlen(json));
	free(json);
	if (rc < 0)
		return rc;
	step(s, "journal");
	return sealed_finish(r, o, s, res);
}

int sealed_prepare_push(struct root *r, const char *dest, int *resumed)
{
	long *nums = NULL;
	size_t n = 0;
	int rc, ipfd = -1, rfd = -1;

	*resumed = 0;
	if (r->workfd < 0)
		return -ENOENT;
	if ((rc = ensure_dir_at(r->workfd, "resume", 0700)) < 0)
		return rc;
	if ((rc = root_resume_numbers(r->workfd, &nums, &n)) < 0)
		return rc;
	ipfd = openat(r->fd, HS_INPROGRESS, DIR_FLAGS);
	rfd = openat(r->workfd, "resume", DIR_FLAGS);
	if (ipfd < 0 || rfd < 0) {
		rc = -errno;
		goto out;
	}
	/* what an interrupted push left: every entry into a new resume tree */
	int dfd = dup(ipfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct argv names = ARGV_INIT;
	struct dirent *de;
	if (!d) {
		rc = -errno;
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			argv_push(&names, de->d_name);
	closedir(d);
	if (names.n) {
		char num[32];
		long next = n ? nums[n - 1] + 1 : 1;
		snprintf(num, sizeof(num), "%ld", next);
		if (mkdirat(rfd, num, 0700) < 0) {
			rc = -errno;
			argv_clear(&names);
			goto out;
		}
		int tfd = openat(rfd, num, DIR_FLAGS);
		for (size_t i = 0; tfd >= 0 && i < names.n && !rc; i++)
			if (renameat(ipfd, names.v[i], tfd, names.v[i]) < 0)
				rc = -errno;
		if (tfd < 0)
			rc = -errno;
		else
			close(tfd);
		nums = xrealloc(nums, xmul(n + 1, sizeof(*nums)));
		nums[n++] = next;
	}
	argv_clear(&names);
	if (rc < 0)
		goto out;
	/* bound the bases: the oldest go (in place; nobody lists them) */
	for (size_t i = 0; n > HS_MAX_RESUME && i < n - HS_MAX_RESUME; i++) {
		char num[32];
		snprintf(num, sizeof(num), "%ld", nums[i]);
		deltree_at(rfd, num, 0, 0, NULL);
	}
	*resumed = n > HS_MAX_RESUME ? HS_MAX_RESUME : (int)n;
	if (dest[0])
		rc = mkdir_p_at(ipfd, dest);
out:
	if (ipfd >= 0)
		close(ipfd);
	if (rfd >= 0)
		close(rfd);
	free(nums);
	return rc;
}

static int sysctl_int(const char *path)
{
	char *text = NULL;
	int rc = read_file_at(AT_FDCWD, path, 64, &text);

	if (rc < 0)
		return rc;
	rc = text[0] == '0' ? 0 : text[0] >= '1' && text[0] <= '9' ? 1 : -EINVAL;
	free(text);
	return rc;
}

int sealed_hardlinks_protected(void)
{
	return sysctl_int("/proc/sys/fs/protected_hardlinks");
}

int sealed_leases_enabled(void)
{
	return sysctl_int("/proc/sys/fs/leases-enable");
}
