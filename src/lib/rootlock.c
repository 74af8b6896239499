/*
 * The push lock of a backup root: flock(2) on .hindsight/lock, and the
 * holder's "PID START" for the "in progress since" message. See root.h.
 */
#include "root.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int root_lock_text(const struct root *r, char *buf, size_t size)
{
	int fd;

	if (r->metafd < 0 || size == 0)
		return -ENOENT;
	if (r->sealed)
		fd = r->workfd < 0 ? -1 : openat(r->workfd, HS_LOCK_INFO, O_RDONLY | O_NOFOLLOW |
						 O_NONBLOCK | O_CLOEXEC);
	else
		fd = openat(r->metafd, "lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t got = pread(fd, buf, size - 1, 0);
	int e = errno;
	close(fd);
	if (got < 0)
		return -e;
	buf[got] = '\0';
	return (int)got;
}

int root_lock(struct root *r, time_t now, time_t *since)
{
	char buf[64];
	int fd, n;

	*since = 0;
	if (r->metafd < 0)
		return -ENOENT;
	/* not O_CLOEXEC: rsync inherits it, so the lock outlives a killed serve;
	 * a sealed root's lock is root's, made with the root, and only read */
	if (r->sealed)
		fd = openat(r->metafd, "lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	else
		fd = openat(r->metafd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (!r->sealed)
		root_give_at(r, fd, "");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (root_lock_text(r, buf, sizeof(buf)) > 0) {
			long long pid, t;
			if (sscanf(buf, "%lld %lld", &pid, &t) == 2)
				*since = (time_t)t;
		}
		close(fd);
		return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
	}
	if (r->sealed) {
		/* root (a repair) writes nothing into the account's directory */
		r->lockfd = fd;
		if (geteuid() != 0)
			r->lock_info = root_lock_say(r, now, 0);
		return 0;
	}
	n = snprintf(buf, sizeof(buf), "%ld %lld\n", (long)getpid(), (long long)now);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		int e = errno;
		close(fd);
		return -e;
	}
	r->lockfd = fd;
	return 0;
}

int root_lock_say(const struct root *r, time_t now, int ahead)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%ld %lld%s\n", (long)getpid(), (long long)now,
			 ahead ? HS_LOCK_AHEAD : "");
	int ok = 0, fd = r->workfd < 0 ? -1 : openat(r->workfd, HS_LOCK_INFO, O_WRONLY | O_CREAT |
						     O_TRUNC | O_NOFOLLOW | O_NONBLOCK |
						     O_CLOEXEC, 0600);
	if (fd >= 0) {
		ok = write(fd, buf, (size_t)n) == n;
		close(fd);
	}
	return ok;
}

int root_lock_ahead(const struct root *r)
{
	char buf[64];

	return root_lock_text(r, buf, sizeof(buf)) > 0 && strstr(buf, HS_LOCK_AHEAD) != NULL;
}
