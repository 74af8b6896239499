#include "snappath.h"
#include "strbuf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int snap_resolve(int rootfd, const char *arg, char name[SNAPNAME_SIZE])
{
	struct stat st;

	if (!strcmp(arg, "current")) {
		char target[SNAPNAME_SIZE + 1];
		ssize_t n = readlinkat(rootfd, "current", target, sizeof(target));
		if (n < 0)
			return errno == ENOENT ? -ENOENT : -errno;
		if (n != SNAPNAME_LEN)
			return -ENOENT;
		target[n] = '\0';
		arg = target;
		if (snapname_parse(arg, NULL) < 0)
			return -ENOENT;
		memcpy(name, arg, SNAPNAME_SIZE);
	} else {
		if (snapname_parse(arg, NULL) < 0)
			return -EINVAL;
		memcpy(name, arg, SNAPNAME_SIZE);
	}
	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

int snap_normalise(const char *in, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	if (strlen(in) >= PATH_MAX)
		return -ENAMETOOLONG;
	while (*in) {
		size_t len = strcspn(in, "/");
		if (len == 2 && !strncmp(in, "..", 2)) {
			sb_release(&sb);
			return -EINVAL;
		}
		if (len > NAME_MAX) {
			sb_release(&sb);
			return -ENAMETOOLONG;
		}
		if (len && !(len == 1 && in[0] == '.')) {
			if (sb.len)
				sb_addch(&sb, '/');
			sb_add(&sb, in, len);
		}
		in += len;
		while (*in == '/')
			in++;
	}
	*out = sb_detach(&sb);
	return 0;
}

static int openat2_beneath(int dirfd, const char *path, int flags)
{
#ifdef SYS_openat2
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	long got = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (got >= 0)
		return (int)got;
	if (errno != ENOSYS)
		return -errno;
#endif
	/* no openat2: walk one component at a time, refusing symlinks */
	int cur = dup(dirfd);
	char comp[NAME_MAX + 1];
	if (cur < 0)
		return -errno;
	while (*path) {
		size_t len = strcspn(path, "/");
		const char *next = path + len;
		while (*next == '/')
			next++;
		if (len > NAME_MAX) {
			close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(comp, path, len);
		comp[len] = '\0';
		int last = *next == '\0';
		int fd = openat(cur, comp, (last ? flags : O_PATH | O_DIRECTORY) |
				O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(cur);
		if (fd < 0) {
			/* O_NOFOLLOW on a symlink: ELOOP; with O_PATH it opens the link */
			return -err;
		}
		if (!last) {
			struct stat st;
			if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
				close(fd);
				return -ENOTDIR;
			}
		}
		cur = fd;
		path = next;
	}
	return cur;
}

/* Split rel into its parent and last component; open the parent beneath. */
static int open_parent(int snapfd, const char *rel, const char **last)
{
	const char *slash = strrchr(rel, '/');

	if (!slash) {
		*last = rel;
		return openat2_beneath(snapfd, ".", O_PATH | O_DIRECTORY);
	}
	*last = slash + 1;
	char *parent = xmalloc((size_t)(slash - rel) + 1);
	memcpy(parent, rel, (size_t)(slash - rel));
	parent[slash - rel] = '\0';
	int fd = openat2_beneath(snapfd, parent, O_PATH | O_DIRECTORY);
	free(parent);
	return fd;
}

int snap_open_beneath(int snapfd, const char *rel)
{
	const char *last;
	int pfd, fd;

	if (!*rel)
		return openat2_beneath(snapfd, ".", O_PATH | O_DIRECTORY);
	pfd = open_parent(snapfd, rel, &last);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(pfd);
	return fd;
}

int snap_opendir_beneath(int snapfd, const char *rel)
{
	return openat2_beneath(snapfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY);
}
