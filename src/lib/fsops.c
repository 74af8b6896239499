#include "fsops.h"
#include "deltree.h"
#include "strbuf.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int fsync_dir(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* mode < 0: the umask decides; else the file gets exactly mode. */
static int atomic_write(int dirfd, const char *name, const char *tmp, int excl,
			const void *data, size_t len, int mode)
{
	int fd, rc = 0;
	const char *p = data;

	if (excl)
		unlinkat(dirfd, tmp, 0);   /* named for our pid: a dead namesake's */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC) | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (mode >= 0 && fchmod(fd, (mode_t)mode) < 0)
		rc = -errno;
	while (!rc && len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return fsync_dir(dirfd);
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[NAME_MAX + 1];

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	return atomic_write(dirfd, name, tmp, 0, data, len, -1);
}

int write_file_atomic_mode(int dirfd, const char *name, const void *data, size_t len,
			   unsigned mode)
{
	char tmp[NAME_MAX + 1];

	if (snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	return atomic_write(dirfd, name, tmp, 1, data, len, (int)(mode & 07777));
}

int read_fd(int fd, size_t max, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			sb_release(&sb);
			return -e;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			sb_release(&sb);
			return -EFBIG;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	*out = sb_detach(&sb);
	return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	int rc = read_fd(fd, max, out);
	close(fd);
	return rc;
}

int remove_tree_at(int dirfd, const char *name)
{
	/* one engine for every tree we delete: no recursion, no symlink ever
	 * followed (not even by the chmod that opens a read-only directory) */
	return deltree_at(dirfd, name, 1, 0, NULL);
}

int ensure_dir_at(int dirfd, const char *name, unsigned mode)
{
	struct stat st;

	if (mkdirat(dirfd, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdir_p(const char *path, unsigned mode)
{
	char *copy = xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(copy, mode) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(copy);
	return rc;
}

int mkdir_p_at(int dirfd, const char *rel)
{
	char comp[NAME_MAX + 1];
	int fd = dup(dirfd);

	if (fd < 0)
		return -errno;
	while (*rel) {
		size_t len = strcspn(rel, "/");
		if (len > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		if (len) {
			memcpy(comp, rel, len);
			comp[len] = '\0';
			int rc = ensure_dir_at(fd, comp, 0700);
			int nfd = rc < 0 ? rc :
				openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(fd);
			if (nfd < 0)
				return rc < 0 ? rc : -errno;
			fd = nfd;
		}
		rel += len;
		while (*rel == '/')
			rel++;
	}
	close(fd);
	return 0;
}

int dirent_exact(int fd)
{
	static const long types[] = { EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC,
				      TMPFS_MAGIC };
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((long)sf.f_type == types[i])
			return 1;
	return 0;
}

unsigned long raise_fd_limit(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (unsigned long)rl.rlim_cur;
}
