#include "trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int open_trusted(const char *path, int *fd, char *why, size_t size)
{
	char *real = realpath(path, NULL);
	char name[NAME_MAX + 1];
	struct stat st;
	int cur, rc = 0;

	*fd = -1;
	if (!real)
		return -errno;
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(why, size, "/ is not root's, or is writable by group or others");
		rc = -EPERM;
		goto out;
	}
	for (const char *p = real + 1; *p;) {
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		int last = !*p || !p[1];
		if (*p)
			p++;
		int sub = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || fstat(sub, &st) < 0) {
			rc = -errno;
			if (sub >= 0)
				close(sub);
			goto out;
		}
		close(cur);
		cur = sub;
		int bad_owner = st.st_uid != 0;
		int bad_mode = (st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX));
		if (S_ISLNK(st.st_mode) || bad_owner || bad_mode) {
			int shown = (int)(p - real) - (*p && p[-1] == '/');
			snprintf(why, size, "%.*s is %s", shown, real,
				 S_ISLNK(st.st_mode) ? "a symlink that appeared while being checked" :
				 bad_owner ? "not owned by root" : "writable by group or others");
			rc = -EPERM;
			goto out;
		}
	}
	*fd = cur;
	cur = -1;
out:
	if (cur >= 0)
		close(cur);
	free(real);
	return rc;
}
